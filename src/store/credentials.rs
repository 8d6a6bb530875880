//! Queries for credentials: issue, status changes and their history, the
//! status-list indexes, and the counts the overview reports.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::credentials::Status;
use crate::domain::ids::{CredentialId, PersonId};
use crate::store::DbConn;
use crate::store::schema::{credential_events, credentials, people};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credentials)]
pub struct CredentialRow {
    pub id: CredentialId,
    pub number: String,
    pub person_id: PersonId,
    pub track_id: i64,
    pub year: i32,
    pub sequence: i32,
    pub issued_at: NaiveDateTime,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub status: Status,
    pub status_reason: Option<String>,
    pub suspended_until: Option<NaiveDateTime>,
    pub revocation_index: i32,
    pub suspension_index: i32,
    pub revoke_proposed_by: Option<PersonId>,
    pub revoke_proposed_reason: Option<String>,
    pub reminded_90_at: Option<NaiveDateTime>,
    pub reminded_30_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credential_events)]
pub struct CredentialEventRow {
    pub id: i64,
    pub credential_id: CredentialId,
    pub action: String,
    pub status_from: Option<Status>,
    pub status_to: Status,
    pub reason: String,
    pub actor_id: Option<PersonId>,
    pub at: NaiveDateTime,
}

// ----- credentials -----

/// A credential as it is issued (its status is `active`).
#[derive(Insertable)]
#[diesel(table_name = credentials)]
pub struct NewCredential<'a> {
    pub number: &'a str,
    pub person_id: PersonId,
    pub track_id: i64,
    pub year: i32,
    pub sequence: i32,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub revocation_index: i32,
    pub suspension_index: i32,
}

pub fn insert_credential(
    conn: &mut DbConn,
    c: &NewCredential,
    now: NaiveDateTime,
) -> QueryResult<CredentialRow> {
    diesel::insert_into(credentials::table)
        .values((
            c,
            credentials::issued_at.eq(now),
            credentials::status.eq(Status::Active),
            credentials::updated_at.eq(now),
        ))
        .get_result(conn)
}

/// The next sequence number of a track's credentials in a year. The unique
/// index on (track, year, sequence) refuses a duplicate if two instances
/// issue at once.
pub fn next_sequence(conn: &mut DbConn, track_id: i64, year: i32) -> QueryResult<i32> {
    let max: Option<i32> = credentials::table
        .filter(credentials::track_id.eq(track_id))
        .filter(credentials::year.eq(year))
        .select(diesel::dsl::max(credentials::sequence))
        .first(conn)?;
    Ok(max.unwrap_or(0) + 1)
}

pub fn used_indexes(conn: &mut DbConn) -> QueryResult<Vec<(i32, i32)>> {
    credentials::table
        .select((credentials::revocation_index, credentials::suspension_index))
        .load(conn)
}

pub fn find_credential(conn: &mut DbConn, id: CredentialId) -> QueryResult<Option<CredentialRow>> {
    credentials::table
        .find(id)
        .select(CredentialRow::as_select())
        .first(conn)
        .optional()
}

/// Reads a credential for changing its status; locked on PostgreSQL until
/// the transaction ends (see `lock_case`).
pub fn lock_credential(conn: &mut DbConn, id: CredentialId) -> QueryResult<Option<CredentialRow>> {
    match conn {
        DbConn::Postgres(pg) => credentials::table
            .find(id)
            .select(CredentialRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(_) => find_credential(conn, id),
    }
}

pub fn credential_by_number(conn: &mut DbConn, number: &str) -> QueryResult<Option<CredentialRow>> {
    credentials::table
        .filter(credentials::number.eq(number))
        .select(CredentialRow::as_select())
        .first(conn)
        .optional()
}

/// A person's credentials, newest first.
pub fn credentials_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<CredentialRow>> {
    credentials::table
        .filter(credentials::person_id.eq(person_id))
        .order(credentials::id.desc())
        .select(CredentialRow::as_select())
        .load(conn)
}

/// The person's credential in a track (there is at most one that is not
/// revoked; a revoked one is the last word).
pub fn credential_in_track(
    conn: &mut DbConn,
    person_id: PersonId,
    track_id: i64,
) -> QueryResult<Option<CredentialRow>> {
    credentials::table
        .filter(credentials::person_id.eq(person_id))
        .filter(credentials::track_id.eq(track_id))
        .order(credentials::id.desc())
        .select(CredentialRow::as_select())
        .first(conn)
        .optional()
}

/// Every credential, newest first.
pub fn all_credentials(conn: &mut DbConn) -> QueryResult<Vec<(CredentialRow, String)>> {
    credentials::table
        .inner_join(people::table.on(people::id.eq(credentials::person_id)))
        .order(credentials::id.desc())
        .select((CredentialRow::as_select(), people::name))
        .load(conn)
}

/// Credentials whose status is `status` (for the status lists and the jobs).
pub fn credentials_with_status(
    conn: &mut DbConn,
    status: Status,
) -> QueryResult<Vec<CredentialRow>> {
    credentials::table
        .filter(credentials::status.eq(status))
        .order(credentials::id.asc())
        .select(CredentialRow::as_select())
        .load(conn)
}

pub struct StatusChange<'a> {
    pub status: Status,
    pub reason: Option<&'a str>,
    pub suspended_until: Option<NaiveDateTime>,
}

pub fn set_status(
    conn: &mut DbConn,
    id: CredentialId,
    change: &StatusChange,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(credentials::table.find(id))
        .set((
            credentials::status.eq(change.status),
            credentials::status_reason.eq(change.reason),
            credentials::suspended_until.eq(change.suspended_until),
            credentials::revoke_proposed_by.eq(None::<i64>),
            credentials::revoke_proposed_reason.eq(None::<String>),
            credentials::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn propose_revocation(
    conn: &mut DbConn,
    id: CredentialId,
    by: PersonId,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(credentials::table.find(id))
        .set((
            credentials::revoke_proposed_by.eq(by),
            credentials::revoke_proposed_reason.eq(reason),
            credentials::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Renewal: the same number, a new validity and no reminders sent yet.
pub fn renew(
    conn: &mut DbConn,
    id: CredentialId,
    valid_until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(credentials::table.find(id))
        .set((
            credentials::status.eq(Status::Active),
            credentials::status_reason.eq(None::<String>),
            credentials::valid_until.eq(valid_until),
            credentials::reminded_90_at.eq(None::<NaiveDateTime>),
            credentials::reminded_30_at.eq(None::<NaiveDateTime>),
            credentials::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn mark_reminded(
    conn: &mut DbConn,
    id: CredentialId,
    days: u32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = credentials::table.find(id);
    if days <= 30 {
        diesel::update(target)
            .set(credentials::reminded_30_at.eq(now))
            .execute(conn)
    } else {
        diesel::update(target)
            .set(credentials::reminded_90_at.eq(now))
            .execute(conn)
    }
}

#[derive(Insertable)]
#[diesel(table_name = credential_events, treat_none_as_null = true)]
pub struct NewEvent<'a> {
    pub credential_id: CredentialId,
    pub action: &'a str,
    #[diesel(column_name = status_from)]
    pub from: Option<Status>,
    #[diesel(column_name = status_to)]
    pub to: Status,
    pub reason: &'a str,
    pub actor_id: Option<PersonId>,
}

pub fn insert_event(
    conn: &mut DbConn,
    e: &NewEvent,
    now: NaiveDateTime,
) -> QueryResult<CredentialEventRow> {
    diesel::insert_into(credential_events::table)
        .values((e, credential_events::at.eq(now)))
        .get_result(conn)
}

pub fn events_of(
    conn: &mut DbConn,
    credential_id: CredentialId,
) -> QueryResult<Vec<CredentialEventRow>> {
    credential_events::table
        .filter(credential_events::credential_id.eq(credential_id))
        .order(credential_events::id.asc())
        .select(CredentialEventRow::as_select())
        .load(conn)
}

pub fn set_holder_ref(
    conn: &mut DbConn,
    person_id: PersonId,
    holder_ref: &str,
) -> QueryResult<usize> {
    diesel::update(people::table.find(person_id))
        .set(people::holder_ref.eq(holder_ref))
        .execute(conn)
}

/// Every credential's stored status and end of validity (the dashboard
/// derives the effective status).
pub fn statuses(conn: &mut DbConn) -> QueryResult<Vec<(Status, NaiveDateTime)>> {
    credentials::table
        .select((credentials::status, credentials::valid_until))
        .load(conn)
}

/// People who were ever certified (hold a credential in any status).
pub fn certified_people(conn: &mut DbConn) -> QueryResult<i64> {
    credentials::table
        .select(diesel::dsl::count(credentials::person_id).aggregate_distinct())
        .first(conn)
}
