//! Domain enums stored as `Text`, mapped here once through their own
//! `as_str` and `parse`, for SQLite, PostgreSQL and the `MultiBackend` that
//! `DbConn` runs queries on. A row struct's enum field is then always a value
//! the code knows: a stored string no variant names fails the read as a
//! deserialisation error, here, instead of in each service that used to parse
//! it. `domain/` stays free of diesel: every trait implemented here is
//! diesel's, every type ours, so the orphan rule allows it in this module.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;

use crate::store::MultiBackend;

/// The variant a stored string names, or the error that fails the read.
fn known<T>(text: &str, parse: fn(&str) -> Option<T>, what: &str) -> deserialize::Result<T> {
    parse(text).ok_or_else(|| format!("unknown {what} {text:?} in the database").into())
}

/// Maps each listed type (`Copy`, with `as_str(self) -> &'static str` and
/// `parse(&str) -> Option<Self>`) to SQL `Text`: values written are bound as
/// their `as_str`, values read go through `parse`.
macro_rules! text_enums {
    ($($ty:ty),* $(,)?) => {$(
        // Bound as an owned `String`: an expression type built on `&'static
        // str` would clash, in diesel's derived `Insertable` impls, with
        // the `&'a str: AsExpression<Text>` bounds of a struct's other fields.
        impl AsExpression<Text> for $ty {
            type Expression = <String as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str().to_owned())
            }
        }

        impl AsExpression<Nullable<Text>> for $ty {
            type Expression = <String as AsExpression<Nullable<Text>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str().to_owned())
            }
        }

        impl AsExpression<Text> for &$ty {
            type Expression = <String as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str().to_owned())
            }
        }

        // An optional column of an `Insertable` struct is read by reference.
        impl AsExpression<Nullable<Text>> for &$ty {
            type Expression = <String as AsExpression<Nullable<Text>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str().to_owned())
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                known(&text, <$ty>::parse, stringify!($ty))
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                known(&text, <$ty>::parse, stringify!($ty))
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }

        impl<DB: Backend> Queryable<Text, DB> for $ty
        where
            $ty: FromSql<Text, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )*};
}

text_enums!(
    crate::domain::pipeline::Stage,
    crate::domain::pipeline::Kind,
    crate::domain::pipeline::ExamStage,
    crate::domain::pipeline::Reason,
    crate::domain::committee::Vote,
    crate::domain::credentials::Status,
    crate::domain::referrals::Urgency,
    crate::domain::referrals::Sex,
    crate::domain::referrals::State,
    crate::domain::exams::ReviewPolicy,
    crate::domain::scoring::ChoiceScoring,
    crate::domain::grading::AppealRule,
    crate::domain::grading::AppealStatus,
    crate::domain::grading::ReviewStatus,
    crate::domain::grading::SettingStatus,
    crate::domain::tokens::TokenKind,
    crate::domain::training::SignupStatus,
    crate::domain::locale::Locale,
    crate::domain::institutions::Level,
);

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::result::Error as DieselError;

    use super::*;
    use crate::domain::pipeline::Stage;
    use crate::store::DbConn;

    fn sqlite() -> DbConn {
        DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"))
    }

    #[test]
    fn a_stored_enum_reads_back_and_an_unknown_string_fails_the_read() {
        let mut conn = sqlite();
        let back = diesel::select(AsExpression::<Text>::as_expression(Stage::WrittenExam))
            .get_result::<Stage>(&mut conn);
        assert_eq!(back.ok(), Some(Stage::WrittenExam));
        let unknown = diesel::select("written".into_sql::<Text>()).get_result::<Stage>(&mut conn);
        assert!(matches!(unknown, Err(DieselError::DeserializationError(_))));
    }
}
