//! The audit trail: who did what, when, from where, with what outcome. Rows
//! are only ever inserted. Secrets never go in here.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::DbConn;
use crate::store::schema::audit_events;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

pub fn record(conn: &mut DbConn, event: &NewAuditEvent) -> QueryResult<usize> {
    diesel::insert_into(audit_events::table)
        .values(event)
        .execute(conn)
}

pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .order(audit_events::id.desc())
        .limit(limit)
        .load(conn)
}
