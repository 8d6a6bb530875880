//! The audit trail: who did what, when, from where, with what outcome. Rows
//! are only ever inserted. Secrets never go in here.
//!
//! The trail is a hash chain (`domain::audit_chain`). An event is inserted
//! unchained by [`record`], which notes its id for the current thread's
//! transaction; just before that transaction commits, [`seal`] gives the
//! transaction's events their places and hashes. The chain's head row
//! (`audit_chain`) is locked only then (`FOR UPDATE` on PostgreSQL; SQLite
//! has one writer), so concurrent transactions append one after another —
//! one chain, no forks — and hold the lock only from the seal to their
//! commit. It is the last lock a transaction takes, so it cannot be part of
//! a deadlock. `Db::write`, `Db::write_blocking` and every batch of the
//! group writer seal before they commit.

use std::cell::RefCell;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::audit_chain::{Content, Link};
use crate::domain::ids::PersonId;
use crate::store::DbConn;
use crate::store::schema::{audit_chain, audit_events};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

impl AuditRow {
    /// What the event says, as the chain hashes it.
    pub fn content(&self) -> Content {
        Content {
            id: self.id,
            at: self.at,
            actor_id: self.actor_id,
            actor: self.actor.clone(),
            action: self.action.clone(),
            target: self.target.clone(),
            outcome: self.outcome.clone(),
            ip: self.ip.clone(),
            detail: self.detail.clone(),
        }
    }

    /// The event as a link of the chain; `None` while it is unchained. A
    /// missing hash of a placed event reads as an empty one (and fails).
    pub fn link(&self) -> Option<Link> {
        Some(Link {
            seq: self.seq?,
            content: self.content(),
            prev_hash: self.prev_hash.clone().unwrap_or_default(),
            hash: self.hash.clone().unwrap_or_default(),
        })
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub at: NaiveDateTime,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// The chain's head: how many events it has and the last one's hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_chain)]
pub struct HeadRow {
    pub seq: i64,
    pub hash: String,
    pub last_event_id: Option<i64>,
    /// Events with an id up to this one were stored before the chain began.
    pub before_id: i64,
    pub started_at: NaiveDateTime,
}

thread_local! {
    /// The events recorded in the transaction running on this thread and
    /// not yet sealed. Diesel is synchronous: a transaction runs on one
    /// thread from its first statement to its commit.
    static UNSEALED: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// Inserts an event (unchained until [`seal`]); returns its id.
pub fn record(conn: &mut DbConn, event: &NewAuditEvent) -> QueryResult<i64> {
    let row: AuditRow = diesel::insert_into(audit_events::table)
        .values(event)
        .get_result(conn)?;
    UNSEALED.with(|u| u.borrow_mut().push(row.id));
    Ok(row.id)
}

/// Forgets unsealed events of an earlier transaction on this thread (one
/// that failed and rolled them back). Called when a transaction begins.
pub fn begin() {
    UNSEALED.with(|u| u.borrow_mut().clear());
}

/// Chains the events the current transaction recorded: call last, inside
/// the transaction, just before it commits. Returns how many it chained.
/// Events whose savepoint was rolled back are simply no longer there.
pub fn seal(conn: &mut DbConn) -> QueryResult<usize> {
    let ids = UNSEALED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    if ids.is_empty() {
        return Ok(0);
    }
    let rows: Vec<AuditRow> = audit_events::table
        .filter(audit_events::id.eq_any(&ids))
        .filter(audit_events::seq.is_null())
        .order(audit_events::id.asc())
        .select(AuditRow::as_select())
        .load(conn)?;
    let Some(last) = rows.last().map(|r| r.id) else {
        return Ok(0);
    };
    let head = lock_head(conn)?;
    let (mut seq, mut hash) = (head.seq, head.hash);
    for row in &rows {
        let link = crate::domain::audit_chain::append(seq, &hash, row.content());
        diesel::update(audit_events::table.find(row.id))
            .set((
                audit_events::seq.eq(link.seq),
                audit_events::prev_hash.eq(&link.prev_hash),
                audit_events::hash.eq(&link.hash),
            ))
            .execute(conn)?;
        (seq, hash) = (link.seq, link.hash);
    }
    diesel::update(audit_chain::table.find(1))
        .set((
            audit_chain::seq.eq(seq),
            audit_chain::hash.eq(&hash),
            audit_chain::last_event_id.eq(Some(last)),
        ))
        .execute(conn)?;
    Ok(rows.len())
}

/// The head, locked until the transaction ends (PostgreSQL); SQLite's one
/// writer connection already serialises every write transaction.
fn lock_head(conn: &mut DbConn) -> QueryResult<HeadRow> {
    match conn {
        DbConn::Postgres(pg) => audit_chain::table
            .find(1)
            .select(HeadRow::as_select())
            .for_update()
            .first(pg),
        DbConn::Sqlite(_) => head(conn),
    }
}

/// The head as it stands.
pub fn head(conn: &mut DbConn) -> QueryResult<HeadRow> {
    audit_chain::table
        .find(1)
        .select(HeadRow::as_select())
        .first(conn)
}

/// Chained events from place `after + 1` up to `upto`, at most `limit`, in
/// order of place.
pub fn chained(conn: &mut DbConn, after: i64, upto: i64, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .filter(audit_events::seq.gt(after))
        .filter(audit_events::seq.le(upto))
        .order(audit_events::seq.asc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}

/// The first event placed after `seq` (there should be none past the head).
pub fn first_after(conn: &mut DbConn, seq: i64) -> QueryResult<Option<AuditRow>> {
    audit_events::table
        .filter(audit_events::seq.gt(seq))
        .order(audit_events::seq.asc())
        .select(AuditRow::as_select())
        .first(conn)
        .optional()
}

/// The first event stored after the chain began that is not in it.
pub fn first_unchained(conn: &mut DbConn, before_id: i64) -> QueryResult<Option<AuditRow>> {
    audit_events::table
        .filter(audit_events::id.gt(before_id))
        .filter(audit_events::seq.is_null())
        .order(audit_events::id.asc())
        .select(AuditRow::as_select())
        .first(conn)
        .optional()
}

/// How many events were stored before the chain began.
pub fn count_before_chain(conn: &mut DbConn, before_id: i64) -> QueryResult<i64> {
    audit_events::table
        .filter(audit_events::id.le(before_id))
        .count()
        .get_result(conn)
}

/// The places of the first and last chained events recorded at or after
/// `from` and before `to`.
pub fn places_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<(Option<i64>, Option<i64>)> {
    audit_events::table
        .filter(audit_events::at.ge(from))
        .filter(audit_events::at.lt(to))
        .select((
            diesel::dsl::min(audit_events::seq),
            diesel::dsl::max(audit_events::seq),
        ))
        .first(conn)
}

/// Events about any of `targets` (e.g. `case:12`), oldest first.
pub fn about(conn: &mut DbConn, targets: &[String]) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .filter(audit_events::target.eq_any(targets))
        .order(audit_events::id.asc())
        .select(AuditRow::as_select())
        .load(conn)
}

pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<AuditRow>> {
    audit_events::table
        .order(audit_events::id.desc())
        .limit(limit)
        .select(AuditRow::as_select())
        .load(conn)
}
