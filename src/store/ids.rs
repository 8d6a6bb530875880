//! The typed ids of `domain::ids`, mapped here once to SQL `BigInt` for
//! SQLite, PostgreSQL and the `MultiBackend` that `DbConn` runs queries on:
//! a row struct's `person_id: PersonId` reads and writes as the `i64` it is.
//! The impls have the shape of `store::stored_as`, which `store::text_enums`
//! shares.

use crate::store::stored_as::stored_as;

stored_as! {
    BigInt through i64, i64;
    bind: |id| id.0;
    write: |id| &id.0;
    read: |number, _name| Ok(Self(number));
    crate::domain::ids::PersonId,
    crate::domain::ids::CaseId,
    crate::domain::ids::CredentialId,
}

#[cfg(test)]
mod tests {
    use diesel::expression::AsExpression;
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;

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
