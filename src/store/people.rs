//! Queries for people and their roles.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::ids::PersonId;
use crate::domain::locale::Locale;
use crate::domain::people::PersonDraft;
use crate::domain::roles::Role;
use crate::store::DbConn;
use crate::store::schema::{people, person_roles};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = people)]
pub struct PersonRow {
    pub id: PersonId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub practising_certificate: Option<String>,
    pub institution_id: Option<i64>,
    pub password_hash: Option<String>,
    pub active: bool,
    pub locale: Locale,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deactivated_at: Option<NaiveDateTime>,
    /// Opaque id of a credential holder in signed credentials.
    pub holder_ref: Option<String>,
}

/// The fields an admin edits; the password, activity and timestamps of
/// creation are changed only by their own functions.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true)]
struct PersonForm<'a> {
    email: &'a str,
    name: &'a str,
    phone: Option<&'a str>,
    practising_certificate: Option<&'a str>,
    institution_id: Option<i64>,
    locale: Locale,
    updated_at: NaiveDateTime,
}

impl<'a> PersonForm<'a> {
    fn new(d: &'a PersonDraft, now: NaiveDateTime) -> Self {
        PersonForm {
            email: d.email.as_str(),
            name: &d.name,
            phone: d.phone.as_deref(),
            practising_certificate: d.practising_certificate.as_deref(),
            institution_id: d.institution_id,
            locale: d.locale,
            updated_at: now,
        }
    }
}

pub fn insert(
    conn: &mut DbConn,
    draft: &PersonDraft,
    now: NaiveDateTime,
) -> QueryResult<PersonRow> {
    let row: PersonRow = diesel::insert_into(people::table)
        .values((
            PersonForm::new(draft, now),
            people::active.eq(true),
            people::created_at.eq(now),
        ))
        .get_result(conn)?;
    set_roles(conn, row.id, &draft.roles)?;
    Ok(row)
}

pub fn update(
    conn: &mut DbConn,
    id: PersonId,
    draft: &PersonDraft,
    now: NaiveDateTime,
) -> QueryResult<Option<PersonRow>> {
    let row: Option<PersonRow> = diesel::update(people::table.find(id))
        .set(PersonForm::new(draft, now))
        .get_result(conn)
        .optional()?;
    if row.is_some() {
        set_roles(conn, id, &draft.roles)?;
    }
    Ok(row)
}

fn set_roles(conn: &mut DbConn, id: PersonId, roles: &[Role]) -> QueryResult<()> {
    diesel::delete(person_roles::table.filter(person_roles::person_id.eq(id))).execute(conn)?;
    // One row at a time: multi-row inserts do not compile on the
    // MultiConnection, and a person has at most five roles.
    for role in roles {
        diesel::insert_into(person_roles::table)
            .values((
                person_roles::person_id.eq(id),
                person_roles::role.eq(role.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn roles_of(conn: &mut DbConn, id: PersonId) -> QueryResult<Vec<Role>> {
    let names: Vec<String> = person_roles::table
        .filter(person_roles::person_id.eq(id))
        .select(person_roles::role)
        .load(conn)?;
    Ok(roles_from_stored(names.iter().map(String::as_str)))
}

/// A person's roles from their stored names, in order; a name no longer
/// known is left out.
pub fn roles_from_stored<'a>(names: impl Iterator<Item = &'a str>) -> Vec<Role> {
    let mut roles: Vec<Role> = names.filter_map(Role::parse).collect();
    roles.sort();
    roles
}

/// Roles of many people at once, for lists.
pub fn roles_of_all(conn: &mut DbConn, ids: &[PersonId]) -> QueryResult<Vec<(PersonId, Role)>> {
    let rows: Vec<(PersonId, String)> = person_roles::table
        .filter(person_roles::person_id.eq_any(ids))
        .select((person_roles::person_id, person_roles::role))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name)| Role::parse(&name).map(|r| (id, r)))
        .collect())
}

pub fn find(conn: &mut DbConn, id: PersonId) -> QueryResult<Option<PersonRow>> {
    people::table.find(id).first(conn).optional()
}

/// `email` must already be normalised by `domain::people::Email`.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<PersonRow>> {
    people::table
        .filter(people::email.eq(email))
        .first(conn)
        .optional()
}

/// Every address on record (the demo checks that a database is its own).
pub fn all_emails(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    people::table.select(people::email).load(conn)
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<PersonRow>> {
    people::table
        .order((people::name.asc(), people::id.asc()))
        .load(conn)
}

pub fn set_password_hash(
    conn: &mut DbConn,
    id: PersonId,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(people::table.find(id))
        .set((people::password_hash.eq(hash), people::updated_at.eq(now)))
        .execute(conn)
}

pub fn set_active(
    conn: &mut DbConn,
    id: PersonId,
    active: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let deactivated_at = if active { None } else { Some(now) };
    diesel::update(people::table.find(id))
        .set((
            people::active.eq(active),
            people::deactivated_at.eq(deactivated_at),
            people::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn set_locale(conn: &mut DbConn, id: PersonId, locale: Locale) -> QueryResult<usize> {
    diesel::update(people::table.find(id))
        .set(people::locale.eq(locale))
        .execute(conn)
}

/// How many active admins there are, so the last one cannot be removed.
pub fn count_active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    people::table
        .inner_join(person_roles::table)
        .filter(person_roles::role.eq(Role::Admin.as_str()))
        .filter(people::active.eq(true))
        .count()
        .get_result(conn)
}
