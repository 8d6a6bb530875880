//! Idempotency keys: the first answer to a create under a caller's key
//! (`domain::idempotency` holds the rule).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::DbConn;
use crate::store::schema::idempotency_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub id: i64,
    pub owner: String,
    pub idem_key: String,
    pub request_hash: String,
    pub response: String,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct NewIdempotencyRow<'a> {
    pub owner: &'a str,
    pub idem_key: &'a str,
    pub request_hash: &'a str,
    pub response: &'a str,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, owner: &str, key: &str) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .filter(idempotency_keys::owner.eq(owner))
        .filter(idempotency_keys::idem_key.eq(key))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()
}

/// Keeps an answer. A second answer under the same owner and key is a
/// unique violation (the unique index), so concurrent requests with one
/// key cannot both create.
pub fn insert(conn: &mut DbConn, row: &NewIdempotencyRow<'_>) -> QueryResult<usize> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
}

/// Forgets one owner's key if it was kept before `cutoff` (so it may be
/// used again).
pub fn forget_expired(
    conn: &mut DbConn,
    owner: &str,
    key: &str,
    cutoff: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::owner.eq(owner))
            .filter(idempotency_keys::idem_key.eq(key))
            .filter(idempotency_keys::created_at.le(cutoff)),
    )
    .execute(conn)
}

/// Forgets every key kept before `cutoff`.
pub fn purge(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.le(cutoff)))
        .execute(conn)
}
