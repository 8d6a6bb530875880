//! The one shape in which a type of ours is stored as a SQL type diesel maps
//! already, for SQLite, PostgreSQL and the `MultiBackend` that `DbConn` runs
//! queries on: `store::text_enums` stores domain enums as `Text` (through
//! `String`), `store::ids` typed ids as `BigInt` (through `i64`). Every
//! trait implemented is diesel's and every type ours, so the orphan rule
//! allows it in `store`, and `domain/` stays free of diesel.

/// Maps each listed type (`Copy`) to SQL `$sql` through the raw type diesel
/// maps to it: `bind` makes the owned raw value (`$owned`) that an
/// expression binds, `write` borrows the raw value (`$borrowed`) written,
/// `read` makes the type of the raw value read, given the type's name for
/// the error of a value it cannot be.
macro_rules! stored_as {
    (
        $sql:ident through $owned:ty, $borrowed:ty;
        bind: |$b:ident| $bind:expr;
        write: |$w:ident| $write:expr;
        read: |$r:ident, $name:ident| $read:expr;
        $($ty:ty),* $(,)?
    ) => {
        const _: () = {
            use diesel::backend::Backend;
            use diesel::deserialize::{self, FromSql, Queryable};
            use diesel::expression::AsExpression;
            use diesel::pg::Pg;
            use diesel::serialize::{self, IsNull, Output, ToSql};
            use diesel::sql_types::{$sql, Nullable};
            use diesel::sqlite::Sqlite;

            use $crate::store::MultiBackend;

            $(
                impl AsExpression<$sql> for $ty {
                    type Expression = <$owned as AsExpression<$sql>>::Expression;
                    fn as_expression(self) -> Self::Expression {
                        let $b = self;
                        AsExpression::<$sql>::as_expression($bind)
                    }
                }

                impl AsExpression<Nullable<$sql>> for $ty {
                    type Expression = <$owned as AsExpression<Nullable<$sql>>>::Expression;
                    fn as_expression(self) -> Self::Expression {
                        let $b = self;
                        AsExpression::<Nullable<$sql>>::as_expression($bind)
                    }
                }

                impl AsExpression<$sql> for &$ty {
                    type Expression = <$owned as AsExpression<$sql>>::Expression;
                    fn as_expression(self) -> Self::Expression {
                        let $b = *self;
                        AsExpression::<$sql>::as_expression($bind)
                    }
                }

                // An optional column of an `Insertable` struct is read by reference.
                impl AsExpression<Nullable<$sql>> for &$ty {
                    type Expression = <$owned as AsExpression<Nullable<$sql>>>::Expression;
                    fn as_expression(self) -> Self::Expression {
                        let $b = *self;
                        AsExpression::<Nullable<$sql>>::as_expression($bind)
                    }
                }

                impl ToSql<$sql, Sqlite> for $ty {
                    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                        let $w = self;
                        <$borrowed as ToSql<$sql, Sqlite>>::to_sql($write, out)
                    }
                }

                impl ToSql<$sql, Pg> for $ty {
                    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                        let $w = self;
                        <$borrowed as ToSql<$sql, Pg>>::to_sql($write, out)
                    }
                }

                impl ToSql<$sql, MultiBackend> for $ty {
                    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                        out.set_value(($sql, self));
                        Ok(IsNull::No)
                    }
                }

                impl FromSql<$sql, Sqlite> for $ty {
                    fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                        let $r = <$owned as FromSql<$sql, Sqlite>>::from_sql(bytes)?;
                        let $name = stringify!($ty);
                        $read
                    }
                }

                impl FromSql<$sql, Pg> for $ty {
                    fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                        let $r = <$owned as FromSql<$sql, Pg>>::from_sql(bytes)?;
                        let $name = stringify!($ty);
                        $read
                    }
                }

                impl FromSql<$sql, MultiBackend> for $ty {
                    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                        bytes.from_sql::<Self, $sql>()
                    }
                }

                impl<DB: Backend> Queryable<$sql, DB> for $ty
                where
                    $ty: FromSql<$sql, DB>,
                {
                    type Row = Self;
                    fn build(row: Self) -> deserialize::Result<Self> {
                        Ok(row)
                    }
                }
            )*
        };
    };
}

pub(crate) use stored_as;
