//! Queries for institutions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::institutions::{InstitutionDraft, Level};
use crate::store::DbConn;
use crate::store::schema::institutions;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = institutions)]
pub struct InstitutionRow {
    pub id: i64,
    pub name: String,
    pub level: Level,
    pub region: String,
    pub alliance_member: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = institutions)]
struct InstitutionForm<'a> {
    name: &'a str,
    level: Level,
    region: &'a str,
    alliance_member: bool,
    updated_at: NaiveDateTime,
}

impl<'a> InstitutionForm<'a> {
    fn new(d: &'a InstitutionDraft, now: NaiveDateTime) -> Self {
        InstitutionForm {
            name: &d.name,
            level: d.level,
            region: &d.region,
            alliance_member: d.alliance_member,
            updated_at: now,
        }
    }
}

pub fn insert(
    conn: &mut DbConn,
    draft: &InstitutionDraft,
    now: NaiveDateTime,
) -> QueryResult<InstitutionRow> {
    diesel::insert_into(institutions::table)
        .values((
            InstitutionForm::new(draft, now),
            institutions::created_at.eq(now),
        ))
        .get_result(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: i64,
    draft: &InstitutionDraft,
    now: NaiveDateTime,
) -> QueryResult<Option<InstitutionRow>> {
    diesel::update(institutions::table.find(id))
        .set(InstitutionForm::new(draft, now))
        .get_result(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<InstitutionRow>> {
    institutions::table.find(id).first(conn).optional()
}

/// Another institution with this name, if any (names are unique).
pub fn find_by_name(conn: &mut DbConn, name: &str) -> QueryResult<Option<InstitutionRow>> {
    institutions::table
        .filter(institutions::name.eq(name))
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<InstitutionRow>> {
    institutions::table
        .order((institutions::name.asc(), institutions::id.asc()))
        .load(conn)
}

/// Institutions counted by level and alliance membership.
pub fn counts(conn: &mut DbConn) -> QueryResult<Vec<(Level, bool, i64)>> {
    institutions::table
        .group_by((institutions::level, institutions::alliance_member))
        .select((
            institutions::level,
            institutions::alliance_member,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}
