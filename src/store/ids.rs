//! The typed ids of `domain::ids`, mapped here once to SQL `BigInt` for
//! SQLite, PostgreSQL and the `MultiBackend` that `DbConn` runs queries on:
//! a row struct's `person_id: PersonId` reads and writes as the `i64` it is.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, Nullable};
use diesel::sqlite::Sqlite;

use crate::store::MultiBackend;

macro_rules! bigint_ids {
    ($($ty:ty),* $(,)?) => {$(
        impl AsExpression<BigInt> for $ty {
            type Expression = <i64 as AsExpression<BigInt>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<BigInt>::as_expression(self.0)
            }
        }

        impl AsExpression<Nullable<BigInt>> for $ty {
            type Expression = <i64 as AsExpression<Nullable<BigInt>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<BigInt>>::as_expression(self.0)
            }
        }

        impl AsExpression<BigInt> for &$ty {
            type Expression = <i64 as AsExpression<BigInt>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<BigInt>::as_expression(self.0)
            }
        }

        impl AsExpression<Nullable<BigInt>> for &$ty {
            type Expression = <i64 as AsExpression<Nullable<BigInt>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<BigInt>>::as_expression(self.0)
            }
        }

        impl ToSql<BigInt, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <i64 as ToSql<BigInt, Sqlite>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <i64 as ToSql<BigInt, Pg>>::to_sql(&self.0, out)
            }
        }

        impl ToSql<BigInt, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((BigInt, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<BigInt, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Sqlite>>::from_sql(bytes).map(Self)
            }
        }

        impl FromSql<BigInt, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <i64 as FromSql<BigInt, Pg>>::from_sql(bytes).map(Self)
            }
        }

        impl FromSql<BigInt, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, BigInt>()
            }
        }

        impl<DB: Backend> Queryable<BigInt, DB> for $ty
        where
            $ty: FromSql<BigInt, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )*};
}

bigint_ids!(
    crate::domain::ids::PersonId,
    crate::domain::ids::CaseId,
    crate::domain::ids::CredentialId,
);

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;
    use crate::domain::ids::PersonId;
    use crate::store::DbConn;

    #[test]
    fn an_id_is_stored_as_its_number() {
        let mut conn = DbConn::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        );
        let back = diesel::select(AsExpression::<BigInt>::as_expression(PersonId(42)))
            .get_result::<PersonId>(&mut conn);
        assert_eq!(back.ok(), Some(PersonId(42)));
        let raw = diesel::select(AsExpression::<BigInt>::as_expression(PersonId(42)))
            .get_result::<i64>(&mut conn);
        assert_eq!(raw.ok(), Some(42));
    }
}
