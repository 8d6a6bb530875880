//! One-time links to set a password.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::ids::PersonId;
use crate::store::DbConn;
use crate::store::schema::password_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = password_tokens)]
pub struct PasswordTokenRow {
    pub token_hash: String,
    pub person_id: PersonId,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    person_id: PersonId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(password_tokens::table)
        .values((
            password_tokens::token_hash.eq(token_hash),
            password_tokens::person_id.eq(person_id),
            password_tokens::created_at.eq(now),
            password_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

/// An unused, unexpired link.
pub fn find_usable(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<PasswordTokenRow>> {
    password_tokens::table
        .find(token_hash)
        .filter(password_tokens::used_at.is_null())
        .filter(password_tokens::expires_at.gt(now))
        .first(conn)
        .optional()
}

/// Marks every open link of a person used: a link works once, and a newer
/// link replaces older ones.
pub fn use_all_for_person(
    conn: &mut DbConn,
    person_id: PersonId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        password_tokens::table
            .filter(password_tokens::person_id.eq(person_id))
            .filter(password_tokens::used_at.is_null()),
    )
    .set(password_tokens::used_at.eq(now))
    .execute(conn)
}

/// When the person's newest unused password link was made.
pub fn latest_unused(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Option<NaiveDateTime>> {
    password_tokens::table
        .filter(password_tokens::person_id.eq(person_id))
        .filter(password_tokens::used_at.is_null())
        .select(diesel::dsl::max(password_tokens::created_at))
        .first(conn)
}
