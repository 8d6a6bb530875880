//! Sign-in sessions. The cookie holds a random secret; the table holds its hash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::ids::PersonId;
use crate::store::DbConn;
use crate::store::schema::sessions;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub person_id: PersonId,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    person_id: PersonId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::person_id.eq(person_id),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
}

pub fn find(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<SessionRow>> {
    sessions::table.find(token_hash).first(conn).optional()
}

pub fn touch(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(token_hash))
        .set(sessions::last_seen_at.eq(now))
        .execute(conn)
}

pub fn delete(conn: &mut DbConn, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(token_hash)).execute(conn)
}

/// Ends every session of a person (deactivation, password change).
pub fn delete_for_person(conn: &mut DbConn, person_id: PersonId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::person_id.eq(person_id))).execute(conn)
}

/// Ends every session of a person but one (the one changing the password).
pub fn delete_others(
    conn: &mut DbConn,
    person_id: PersonId,
    keep_hash: &str,
) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::person_id.eq(person_id))
            .filter(sessions::token_hash.ne(keep_hash)),
    )
    .execute(conn)
}

pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}
