//! Domain enums stored as `Text`, mapped here once through their own
//! `as_str` and `parse`, for SQLite, PostgreSQL and the `MultiBackend` that
//! `DbConn` runs queries on. A row struct's enum field is then always a value
//! the code knows: a stored string no variant names fails the read as a
//! deserialisation error, here, instead of in each service that used to parse
//! it. `domain/` stays free of diesel: every trait implemented here is
//! diesel's, every type ours, so the orphan rule allows it in this module.
//! The impls have the shape of `store::stored_as`, which `store::ids` shares.

use diesel::deserialize;

use crate::store::stored_as::stored_as;

/// The variant a stored string names, or the error that fails the read.
fn known<T>(text: &str, parse: fn(&str) -> Option<T>, what: &str) -> deserialize::Result<T> {
    parse(text).ok_or_else(|| format!("unknown {what} {text:?} in the database").into())
}

// Each listed type (`Copy`, with `as_str(self) -> &'static str` and
// `parse(&str) -> Option<Self>`) is stored as `Text`: values written are
// bound as their `as_str`, values read go through `parse`.
stored_as! {
    Text through String, str;
    // Bound as an owned `String`: an expression type built on `&'static
    // str` would clash, in diesel's derived `Insertable` impls, with the
    // `&'a str: AsExpression<Text>` bounds of a struct's other fields.
    bind: |value| value.as_str().to_owned();
    write: |value| value.as_str();
    read: |text, name| known(&text, Self::parse, name);
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
}

#[cfg(test)]
mod tests {
    use diesel::expression::AsExpression;
    use diesel::prelude::*;
    use diesel::result::Error as DieselError;
    use diesel::sql_types::Text;

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
