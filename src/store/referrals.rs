//! Queries for the green channel: departments and their reserved capacity,
//! referrals and their steps, community visits, and the dashboard's counts.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::ids::{CredentialId, PersonId};
use crate::domain::referrals::{Sex, State, Urgency};
use crate::store::DbConn;
use crate::store::credentials::CredentialRow;
use crate::store::schema::{
    community_visits, credentials, departments, referral_events, referrals,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = departments)]
pub struct DepartmentRow {
    pub id: i64,
    pub institution_id: i64,
    pub track_id: i64,
    pub code: String,
    pub name: String,
    pub clinic_slots_per_day: i32,
    pub beds: i32,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = referrals)]
pub struct ReferralRow {
    pub id: i64,
    pub number: String,
    pub person_id: PersonId,
    pub credential_id: CredentialId,
    pub department_id: i64,
    pub patient_name: String,
    pub patient_sex: Sex,
    pub patient_birth_date: NaiveDate,
    pub guardian_phone: String,
    pub urgency: Urgency,
    pub reason: String,
    pub diagnosis: String,
    pub findings: String,
    pub slot_date: Option<NaiveDate>,
    pub needs_bed: bool,
    pub status: State,
    pub decline_reason: Option<String>,
    pub appropriate: Option<bool>,
    pub rating_comment: Option<String>,
    pub back_instructions: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The diagnosis's ICD-10 code, when the doctor gave one.
    pub diagnosis_code: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = referral_events)]
pub struct EventRow {
    pub id: i64,
    pub referral_id: i64,
    pub action: String,
    pub actor_id: Option<PersonId>,
    pub detail: Option<String>,
    pub at: NaiveDateTime,
}

// ----- departments -----

/// A department as its hospital's desk saves it (created or changed; its
/// hospital stays the one it was created in).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = departments)]
pub struct DepartmentValues<'a> {
    #[diesel(skip_update)]
    pub institution_id: i64,
    pub track_id: i64,
    pub code: &'a str,
    pub name: &'a str,
    pub clinic_slots_per_day: i32,
    pub beds: i32,
    pub active: bool,
}

pub fn insert_department(
    conn: &mut DbConn,
    d: &DepartmentValues,
    now: NaiveDateTime,
) -> QueryResult<DepartmentRow> {
    diesel::insert_into(departments::table)
        .values((
            d,
            departments::created_at.eq(now),
            departments::updated_at.eq(now),
        ))
        .get_result(conn)
}

pub fn update_department(
    conn: &mut DbConn,
    id: i64,
    d: &DepartmentValues,
    now: NaiveDateTime,
) -> QueryResult<DepartmentRow> {
    diesel::update(departments::table.find(id))
        .set((d, departments::updated_at.eq(now)))
        .get_result(conn)
}

pub fn find_department(conn: &mut DbConn, id: i64) -> QueryResult<Option<DepartmentRow>> {
    departments::table
        .find(id)
        .select(DepartmentRow::as_select())
        .first(conn)
        .optional()
}

/// Reads a department for booking its capacity: locked on PostgreSQL until
/// the transaction ends, so two bookings of the last slot are counted one
/// after the other (SQLite's single writer already does that).
pub fn lock_department(conn: &mut DbConn, id: i64) -> QueryResult<Option<DepartmentRow>> {
    match conn {
        DbConn::Postgres(pg) => departments::table
            .find(id)
            .select(DepartmentRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(_) => find_department(conn, id),
    }
}

pub fn list_departments(conn: &mut DbConn) -> QueryResult<Vec<DepartmentRow>> {
    departments::table
        .order((departments::institution_id.asc(), departments::name.asc()))
        .select(DepartmentRow::as_select())
        .load(conn)
}

// ----- the gate's credentials -----

/// A doctor's credentials for the gate. On PostgreSQL they stay locked
/// (shared) until the referral's transaction ends: a suspension or
/// revocation (which locks the row for update) either commits before and is
/// seen here, or waits until the referral is written.
pub fn credentials_for_gate(
    conn: &mut DbConn,
    person_id: PersonId,
) -> QueryResult<Vec<CredentialRow>> {
    match conn {
        DbConn::Postgres(pg) => credentials::table
            .filter(credentials::person_id.eq(person_id))
            .order(credentials::id.asc())
            .select(CredentialRow::as_select())
            .for_share()
            .load(pg),
        DbConn::Sqlite(_) => credentials::table
            .filter(credentials::person_id.eq(person_id))
            .order(credentials::id.asc())
            .select(CredentialRow::as_select())
            .load(conn),
    }
}

// ----- referrals -----

/// A referral as the doctor sends it (its status is `sent`).
#[derive(Insertable)]
#[diesel(table_name = referrals, treat_none_as_null = true)]
pub struct NewReferral<'a> {
    pub number: &'a str,
    pub person_id: PersonId,
    pub credential_id: CredentialId,
    pub department_id: i64,
    pub patient_name: &'a str,
    pub patient_sex: Sex,
    pub patient_birth_date: NaiveDate,
    pub guardian_phone: &'a str,
    pub urgency: Urgency,
    pub reason: &'a str,
    pub diagnosis: &'a str,
    pub diagnosis_code: Option<&'a str>,
    pub findings: &'a str,
    pub slot_date: Option<NaiveDate>,
    pub needs_bed: bool,
}

pub fn insert_referral(
    conn: &mut DbConn,
    r: &NewReferral,
    now: NaiveDateTime,
) -> QueryResult<ReferralRow> {
    diesel::insert_into(referrals::table)
        .values((
            r,
            referrals::status.eq(State::Sent),
            referrals::created_at.eq(now),
            referrals::updated_at.eq(now),
        ))
        .get_result(conn)
}

pub fn find_referral(conn: &mut DbConn, id: i64) -> QueryResult<Option<ReferralRow>> {
    referrals::table
        .find(id)
        .select(ReferralRow::as_select())
        .first(conn)
        .optional()
}

/// Referrals holding a clinic slot of a department on a day.
pub fn slots_held(conn: &mut DbConn, department_id: i64, day: NaiveDate) -> QueryResult<i64> {
    referrals::table
        .filter(referrals::department_id.eq(department_id))
        .filter(referrals::slot_date.eq(day))
        .filter(referrals::status.ne(State::Declined))
        .count()
        .get_result(conn)
}

/// Reserved beds of a department in use (accepted or seen, with a bed).
pub fn beds_held(conn: &mut DbConn, department_id: i64) -> QueryResult<i64> {
    referrals::table
        .filter(referrals::department_id.eq(department_id))
        .filter(referrals::needs_bed.eq(true))
        .filter(referrals::status.eq_any([State::Accepted, State::Seen]))
        .count()
        .get_result(conn)
}

/// A doctor's referrals, newest first.
pub fn referrals_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<ReferralRow>> {
    referrals::table
        .filter(referrals::person_id.eq(person_id))
        .order(referrals::id.desc())
        .select(ReferralRow::as_select())
        .load(conn)
}

/// Referrals to a hospital's departments, newest first.
pub fn referrals_to(conn: &mut DbConn, institution_id: i64) -> QueryResult<Vec<ReferralRow>> {
    referrals::table
        .inner_join(departments::table.on(departments::id.eq(referrals::department_id)))
        .filter(departments::institution_id.eq(institution_id))
        .order(referrals::id.desc())
        .select(ReferralRow::as_select())
        .load(conn)
}

pub fn all_referrals(conn: &mut DbConn) -> QueryResult<Vec<ReferralRow>> {
    referrals::table
        .order(referrals::id.desc())
        .select(ReferralRow::as_select())
        .load(conn)
}

/// A desk step's change: every field is written, `None` as NULL.
#[derive(AsChangeset)]
#[diesel(table_name = referrals, treat_none_as_null = true)]
pub struct ReferralUpdate<'a> {
    pub status: State,
    pub slot_date: Option<NaiveDate>,
    pub decline_reason: Option<&'a str>,
    pub back_instructions: Option<&'a str>,
}

pub fn update_status(
    conn: &mut DbConn,
    id: i64,
    u: &ReferralUpdate,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(referrals::table.find(id))
        .set((u, referrals::updated_at.eq(now)))
        .execute(conn)
}

pub fn rate(
    conn: &mut DbConn,
    id: i64,
    appropriate: bool,
    comment: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(referrals::table.find(id))
        .set((
            referrals::appropriate.eq(Some(appropriate)),
            referrals::rating_comment.eq(Some(comment)),
            referrals::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn insert_event(
    conn: &mut DbConn,
    referral_id: i64,
    action: &str,
    actor_id: Option<PersonId>,
    detail: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(referral_events::table)
        .values((
            referral_events::referral_id.eq(referral_id),
            referral_events::action.eq(action),
            referral_events::actor_id.eq(actor_id),
            referral_events::detail.eq(detail),
            referral_events::at.eq(now),
        ))
        .execute(conn)
}

pub fn events_of(conn: &mut DbConn, referral_id: i64) -> QueryResult<Vec<EventRow>> {
    referral_events::table
        .filter(referral_events::referral_id.eq(referral_id))
        .order(referral_events::id.asc())
        .select(EventRow::as_select())
        .load(conn)
}

/// (number of referrals, the ratings given) of a doctor.
pub fn quality_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<(i64, Vec<bool>)> {
    let total = referrals::table
        .filter(referrals::person_id.eq(person_id))
        .count()
        .get_result(conn)?;
    let ratings: Vec<Option<bool>> = referrals::table
        .filter(referrals::person_id.eq(person_id))
        .filter(referrals::appropriate.is_not_null())
        .select(referrals::appropriate)
        .load(conn)?;
    Ok((total, ratings.into_iter().flatten().collect()))
}

/// Doctors with at least one rated referral (for the committee's flags).
pub fn rated_doctors(conn: &mut DbConn) -> QueryResult<Vec<PersonId>> {
    referrals::table
        .filter(referrals::appropriate.is_not_null())
        .select(referrals::person_id)
        .distinct()
        .load(conn)
}

// ----- community visits -----

pub fn save_visits(
    conn: &mut DbConn,
    person_id: PersonId,
    day: NaiveDate,
    first_visits: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let updated = diesel::update(
        community_visits::table
            .filter(community_visits::person_id.eq(person_id))
            .filter(community_visits::visit_date.eq(day)),
    )
    .set((
        community_visits::first_visits.eq(first_visits),
        community_visits::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated > 0 {
        return Ok(updated);
    }
    diesel::insert_into(community_visits::table)
        .values((
            community_visits::person_id.eq(person_id),
            community_visits::visit_date.eq(day),
            community_visits::first_visits.eq(first_visits),
            community_visits::updated_at.eq(now),
        ))
        .execute(conn)
}

/// (day, first visits) of every entry since `from`.
pub fn visits_since(conn: &mut DbConn, from: NaiveDate) -> QueryResult<Vec<(NaiveDate, i32)>> {
    community_visits::table
        .filter(community_visits::visit_date.ge(from))
        .select((community_visits::visit_date, community_visits::first_visits))
        .load(conn)
}

/// A referral as the dashboard counts it: (created, status, slot day,
/// department).
pub type ReferralFacts = (NaiveDateTime, State, Option<NaiveDate>, i64);

/// Every referral since `from`, as the dashboard counts it.
pub fn referrals_since(conn: &mut DbConn, from: NaiveDateTime) -> QueryResult<Vec<ReferralFacts>> {
    referrals::table
        .filter(referrals::created_at.ge(from))
        .select((
            referrals::created_at,
            referrals::status,
            referrals::slot_date,
            referrals::department_id,
        ))
        .load(conn)
}
