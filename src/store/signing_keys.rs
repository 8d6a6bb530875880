//! The credential signing keys (`services::credentials::Keys`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::DbConn;
use crate::store::schema::{credentials, signing_keys};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub id: i64,
    pub thumbprint: String,
    pub algorithm: String,
    pub public_key: String,
    pub sealed_private_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
    pub withdraw_after: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = signing_keys)]
pub struct NewSigningKey<'a> {
    pub thumbprint: &'a str,
    pub algorithm: &'a str,
    pub public_key: &'a str,
    pub sealed_private_key: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
    pub withdraw_after: Option<NaiveDateTime>,
}

/// Changes whenever a key is added (a rotation, an import): the newest id.
pub fn generation(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    signing_keys::table
        .select(diesel::dsl::max(signing_keys::id))
        .first(conn)
}

/// Every key, newest first.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<SigningKeyRow>> {
    signing_keys::table
        .order(signing_keys::id.desc())
        .select(SigningKeyRow::as_select())
        .load(conn)
}

pub fn find_by_thumbprint(
    conn: &mut DbConn,
    thumbprint: &str,
) -> QueryResult<Option<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::thumbprint.eq(thumbprint))
        .select(SigningKeyRow::as_select())
        .first(conn)
        .optional()
}

/// The key that signs now, if any.
pub fn signing(conn: &mut DbConn) -> QueryResult<Option<SigningKeyRow>> {
    signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .select(SigningKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Adds a key. A second signing key is a unique violation (one signs at a
/// time), as is a key already there.
pub fn insert(conn: &mut DbConn, key: &NewSigningKey<'_>) -> QueryResult<usize> {
    diesel::insert_into(signing_keys::table)
        .values(key)
        .execute(conn)
}

/// Stops a key signing; its public key is published until `withdraw_after`.
pub fn retire(
    conn: &mut DbConn,
    id: i64,
    at: NaiveDateTime,
    withdraw_after: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        signing_keys::table
            .filter(signing_keys::id.eq(id))
            .filter(signing_keys::retired_at.is_null()),
    )
    .set((
        signing_keys::retired_at.eq(Some(at)),
        signing_keys::withdraw_after.eq(Some(withdraw_after)),
        // A key that no longer signs needs no private half.
        signing_keys::sealed_private_key.eq(None::<String>),
    ))
    .execute(conn)
}

/// The latest end of validity of any credential: no credential signed
/// before now expires later.
pub fn latest_valid_until(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    credentials::table
        .select(diesel::dsl::max(credentials::valid_until))
        .first(conn)
}
