//! API tokens: integration tokens issued by admins and short-lived personal
//! tokens. Only hashes are stored.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::ids::PersonId;
use crate::domain::roles::Role;
use crate::domain::tokens::TokenKind;
use crate::store::people::{PersonRow, roles_from_stored};
use crate::store::schema::{api_tokens, people, person_roles};
use crate::store::{DbConn, natively};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: i64,
    pub token_hash: String,
    pub kind: TokenKind,
    pub name: String,
    pub person_id: Option<PersonId>,
    pub scopes: String,
    pub created_by: Option<PersonId>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

pub struct NewApiToken<'a> {
    pub token_hash: &'a str,
    pub kind: TokenKind,
    pub name: &'a str,
    pub person_id: Option<PersonId>,
    pub scopes: &'a str,
    pub created_by: Option<PersonId>,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn insert(
    conn: &mut DbConn,
    t: &NewApiToken<'_>,
    now: NaiveDateTime,
) -> QueryResult<ApiTokenRow> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::token_hash.eq(t.token_hash),
            api_tokens::kind.eq(t.kind),
            api_tokens::name.eq(t.name),
            api_tokens::person_id.eq(t.person_id),
            api_tokens::scopes.eq(t.scopes),
            api_tokens::created_by.eq(t.created_by),
            api_tokens::created_at.eq(now),
            api_tokens::expires_at.eq(t.expires_at),
        ))
        .get_result(conn)
}

pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .first(conn)
        .optional()
}

/// Tokens with their person and her roles, one row per role (one row with
/// no role when she has none); the query of [`find_with_person`] and
/// [`find_many_with_person`], written out where each runs it natively.
macro_rules! tokens_with_people {
    () => {
        api_tokens::table
            .left_join(people::table.on(api_tokens::person_id.eq(people::id.nullable())))
            .left_join(person_roles::table.on(person_roles::person_id.eq(people::id)))
            .select((
                ApiTokenRow::as_select(),
                Option::<PersonRow>::as_select(),
                person_roles::role.nullable(),
            ))
    };
}

/// A token, the person it belongs to (none for an integration token) and
/// that person's roles, in one query: every API request asks this, so it
/// costs one round trip to the database, not two.
pub fn find_with_person(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<FoundToken>> {
    // Every API request runs it: on the backend's own connection.
    let rows: Vec<TokenRow> = natively!(conn, |c| {
        tokens_with_people!()
            .filter(api_tokens::token_hash.eq(token_hash))
            .load(c)
    })?;
    Ok(found_tokens(rows).next())
}

/// [`find_with_person`] for many tokens in one query (the exam's opening,
/// `store::starts`), by hash; an unknown hash is not in the map.
pub fn find_many_with_person(
    conn: &mut DbConn,
    token_hashes: &[&str],
) -> QueryResult<HashMap<String, FoundToken>> {
    if token_hashes.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<TokenRow> = natively!(conn, |c| {
        tokens_with_people!()
            .filter(api_tokens::token_hash.eq_any(token_hashes))
            .order(api_tokens::id.asc())
            .load(c)
    })?;
    Ok(found_tokens(rows)
        .map(|found| (found.token.token_hash.clone(), found))
        .collect())
}

/// A token's row, its person's, and one of her roles.
type TokenRow = (ApiTokenRow, Option<PersonRow>, Option<String>);

/// The tokens of rows that come one per role, a token's rows together.
fn found_tokens(rows: Vec<TokenRow>) -> impl Iterator<Item = FoundToken> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        let (token, person, role) = rows.next()?;
        let mut stored: Vec<String> = role.into_iter().collect();
        while let Some((_, _, role)) = rows.next_if(|(next, _, _)| next.id == token.id) {
            stored.extend(role);
        }
        Some(FoundToken {
            roles: roles_from_stored(stored.iter().map(String::as_str)),
            token,
            person,
        })
    })
}

/// A token as a request presents it: the row, its person (none for an
/// integration token) and her roles.
pub struct FoundToken {
    pub token: ApiTokenRow,
    pub person: Option<PersonRow>,
    pub roles: Vec<Role>,
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ApiTokenRow>> {
    api_tokens::table.find(id).first(conn).optional()
}

pub fn list_integrations(conn: &mut DbConn) -> QueryResult<Vec<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::kind.eq(TokenKind::Integration))
        .order(api_tokens::id.desc())
        .load(conn)
}

pub fn revoke(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Revokes every personal token of a person (deactivation, password change).
pub fn revoke_personal_for(
    conn: &mut DbConn,
    person_id: PersonId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::person_id.eq(person_id))
            .filter(api_tokens::kind.eq(TokenKind::Personal))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
}

pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(now))
        .execute(conn)
}
