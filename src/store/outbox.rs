//! The email outbox. A message is a row written in the same transaction as
//! the event that causes it; the mail worker claims due rows, sends them and
//! marks them sent, so a mail-server outage delays mail but loses none.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::store::DbConn;
use crate::store::schema::outbox;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMail<'a> {
    pub to_address: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
}

pub fn enqueue(conn: &mut DbConn, mail: &NewMail<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(outbox::table)
        .values((
            mail,
            outbox::created_at.eq(now),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
        ))
        .returning(outbox::id)
        .get_result(conn)
}

/// Claims up to `limit` due messages for `lease`: no other worker (in this
/// or another server instance) will take them until the lease runs out. Must
/// run inside a transaction. On PostgreSQL the rows are locked with
/// `FOR UPDATE SKIP LOCKED`, so two instances claiming at once get different
/// rows; SQLite has a single writer, which serialises claims by itself.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
    lease: Duration,
) -> QueryResult<Vec<OutboxRow>> {
    let due = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::locked_until
                .is_null()
                .or(outbox::locked_until.lt(now)),
        )
        .order(outbox::id.asc())
        .limit(limit)
        .select(outbox::id);
    let ids: Vec<i64> = match conn {
        DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(_) => due.load(conn)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set(outbox::locked_until.eq(now + lease))
        .execute(conn)?;
    outbox::table
        .filter(outbox::id.eq_any(&ids))
        .order(outbox::id.asc())
        .load(conn)
}

pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::sent_at.eq(Some(now)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

pub fn mark_failed(
    conn: &mut DbConn,
    id: i64,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(Some(error)),
            outbox::next_attempt_at.eq(next_attempt_at),
        ))
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<OutboxRow>> {
    outbox::table.find(id).first(conn).optional()
}

/// Every message to one address, newest first (for operators and tests).
pub fn for_address(conn: &mut DbConn, address: &str) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::to_address.eq(address))
        .order(outbox::id.desc())
        .load(conn)
}
