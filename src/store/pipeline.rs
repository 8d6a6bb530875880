//! Queries for the certification pipeline: cases, their transitions, the
//! attempts a stage counts, and the evidence noted as due for a person's cases.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::ids::{CaseId, CredentialId, PersonId};
use crate::domain::pipeline::{ExamStage, Kind, Reason, Stage};
use crate::store::DbConn;
use crate::store::exams::{AttemptRow, ExamRow};
use crate::store::schema::{attempts, case_transitions, cases, cases_due, exams, people, tracks};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: CaseId,
    pub person_id: PersonId,
    pub track_id: i64,
    pub kind: Kind,
    pub stage: Stage,
    pub stage_entered_at: NaiveDateTime,
    pub credential_id: Option<CredentialId>,
    pub opened_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = case_transitions)]
pub struct TransitionRow {
    pub id: i64,
    pub case_id: CaseId,
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    pub actor_id: Option<PersonId>,
    pub reason: Reason,
    pub at: NaiveDateTime,
}

// ----- cases -----

/// A case as it opens (it enters its first stage then).
#[derive(Insertable)]
#[diesel(table_name = cases, treat_none_as_null = true)]
pub struct NewCase {
    pub person_id: PersonId,
    pub track_id: i64,
    pub kind: Kind,
    pub stage: Stage,
    /// The credential a renewal renews; `None` for a first case.
    pub credential_id: Option<CredentialId>,
}

pub fn insert_case(conn: &mut DbConn, case: &NewCase, now: NaiveDateTime) -> QueryResult<CaseRow> {
    diesel::insert_into(cases::table)
        .values((
            case,
            cases::stage_entered_at.eq(now),
            cases::opened_at.eq(now),
        ))
        .get_result(conn)
}

pub fn find_case(conn: &mut DbConn, id: CaseId) -> QueryResult<Option<CaseRow>> {
    cases::table
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()
}

/// Reads a case for moving it. On PostgreSQL the row stays locked until the
/// transaction ends, so two pieces of evidence arriving together move it
/// one after the other; SQLite's single writer already does that.
pub fn lock_case(conn: &mut DbConn, id: CaseId) -> QueryResult<Option<CaseRow>> {
    match conn {
        DbConn::Postgres(pg) => cases::table
            .find(id)
            .select(CaseRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(_) => find_case(conn, id),
    }
}

/// A person's cases, newest first.
pub fn cases_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::person_id.eq(person_id))
        .order(cases::id.desc())
        .select(CaseRow::as_select())
        .load(conn)
}

/// The cases that issued or renewed a credential (or would renew it),
/// oldest first.
pub fn cases_of_credential(
    conn: &mut DbConn,
    credential_id: CredentialId,
) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::credential_id.eq(credential_id))
        .order(cases::id.asc())
        .select(CaseRow::as_select())
        .load(conn)
}

/// The open case of a person in a track.
pub fn open_case(
    conn: &mut DbConn,
    person_id: PersonId,
    track_id: i64,
) -> QueryResult<Option<CaseRow>> {
    cases::table
        .filter(cases::person_id.eq(person_id))
        .filter(cases::track_id.eq(track_id))
        .filter(cases::closed_at.is_null())
        .select(CaseRow::as_select())
        .first(conn)
        .optional()
}

/// The keys of the tracks in which a person has an open case.
pub fn open_case_tracks(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<String>> {
    cases::table
        .inner_join(tracks::table.on(tracks::id.eq(cases::track_id)))
        .filter(cases::person_id.eq(person_id))
        .filter(cases::closed_at.is_null())
        .select(tracks::track_key)
        .load(conn)
}

/// Open cases of a person (in any track).
pub fn open_cases_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::person_id.eq(person_id))
        .filter(cases::closed_at.is_null())
        .select(CaseRow::as_select())
        .load(conn)
}

/// Ids of every open case (for the job that re-checks evidence).
pub fn open_case_ids(conn: &mut DbConn) -> QueryResult<Vec<CaseId>> {
    cases::table
        .filter(cases::closed_at.is_null())
        .order(cases::id.asc())
        .select(cases::id)
        .load(conn)
}

/// When the person's last case in the track was rejected.
pub fn last_rejected_at(
    conn: &mut DbConn,
    person_id: PersonId,
    track_id: i64,
) -> QueryResult<Option<NaiveDateTime>> {
    cases::table
        .filter(cases::person_id.eq(person_id))
        .filter(cases::track_id.eq(track_id))
        .filter(cases::stage.eq(Stage::Rejected))
        .select(diesel::dsl::max(cases::closed_at))
        .first(conn)
}

/// Every case (of a track, or of all), newest first, with the doctor's name.
pub fn all_cases(
    conn: &mut DbConn,
    track_id: Option<i64>,
) -> QueryResult<Vec<(CaseRow, String, String)>> {
    let mut q = cases::table
        .inner_join(people::table.on(people::id.eq(cases::person_id)))
        .inner_join(tracks::table.on(tracks::id.eq(cases::track_id)))
        .order(cases::id.desc())
        .select((CaseRow::as_select(), people::name, tracks::title))
        .into_boxed();
    if let Some(t) = track_id {
        q = q.filter(cases::track_id.eq(t));
    }
    q.load(conn)
}

/// Cases at a stage, oldest first (the committee's queue).
pub fn cases_at(conn: &mut DbConn, stage: Stage) -> QueryResult<Vec<CaseRow>> {
    cases::table
        .filter(cases::stage.eq(stage))
        .filter(cases::closed_at.is_null())
        .order(cases::stage_entered_at.asc())
        .select(CaseRow::as_select())
        .load(conn)
}

pub fn move_case(
    conn: &mut DbConn,
    id: CaseId,
    to: Stage,
    closed: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(cases::table.find(id))
        .set((
            cases::stage.eq(to),
            cases::stage_entered_at.eq(now),
            cases::closed_at.eq(closed.then_some(now)),
        ))
        .execute(conn)
}

pub fn set_case_credential(
    conn: &mut DbConn,
    id: CaseId,
    credential_id: CredentialId,
) -> QueryResult<usize> {
    diesel::update(cases::table.find(id))
        .set(cases::credential_id.eq(credential_id))
        .execute(conn)
}

/// A case's move from one stage (`None` as it opens) to the next.
#[derive(Insertable)]
#[diesel(table_name = case_transitions, treat_none_as_null = true)]
pub struct NewTransition {
    pub case_id: CaseId,
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    /// The committee member, or `None` for the system.
    pub actor_id: Option<PersonId>,
    pub reason: Reason,
}

pub fn insert_transition(
    conn: &mut DbConn,
    t: &NewTransition,
    now: NaiveDateTime,
) -> QueryResult<TransitionRow> {
    diesel::insert_into(case_transitions::table)
        .values((t, case_transitions::at.eq(now)))
        .get_result(conn)
}

pub fn transitions_of(conn: &mut DbConn, case_id: CaseId) -> QueryResult<Vec<TransitionRow>> {
    case_transitions::table
        .filter(case_transitions::case_id.eq(case_id))
        .order(case_transitions::id.asc())
        .select(TransitionRow::as_select())
        .load(conn)
}

/// Every transition of a track's cases of one kind: (case, from, to), in order.
pub fn track_transitions(
    conn: &mut DbConn,
    track_id: i64,
    kind: Kind,
) -> QueryResult<Vec<(CaseId, Option<Stage>, Stage)>> {
    case_transitions::table
        .inner_join(cases::table.on(cases::id.eq(case_transitions::case_id)))
        .filter(cases::track_id.eq(track_id))
        .filter(cases::kind.eq(kind))
        .order(case_transitions::id.asc())
        .select((
            case_transitions::case_id,
            case_transitions::from_stage,
            case_transitions::to_stage,
        ))
        .load(conn)
}

/// A person's submitted attempts at a track's exams of one stage, drawn
/// since `since` (the case's opening), oldest first, with their exam.
pub fn stage_attempts(
    conn: &mut DbConn,
    person_id: PersonId,
    track_key: &str,
    exam_stage: ExamStage,
    since: NaiveDateTime,
) -> QueryResult<Vec<(AttemptRow, ExamRow)>> {
    attempts::table
        .inner_join(exams::table.on(exams::id.eq(attempts::exam_id)))
        .filter(attempts::person_id.eq(person_id))
        .filter(exams::track.eq(track_key))
        .filter(exams::stage.eq(exam_stage))
        .filter(attempts::drawn_at.ge(since))
        .filter(attempts::submitted_at.is_not_null())
        .order(attempts::id.asc())
        .select((AttemptRow::as_select(), ExamRow::as_select()))
        .load(conn)
}

/// The people with a submitted attempt at an exam (whose cases a release
/// may move).
pub fn candidates_of_exam(conn: &mut DbConn, exam_id: i64) -> QueryResult<Vec<PersonId>> {
    attempts::table
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::submitted_at.is_not_null())
        .select(attempts::person_id)
        .distinct()
        .load(conn)
}

/// People with a case of `kind` opened since `since`, and ever.
pub fn applicants(conn: &mut DbConn, kind: Kind, since: NaiveDateTime) -> QueryResult<(i64, i64)> {
    let recent = cases::table
        .filter(cases::kind.eq(kind))
        .filter(cases::opened_at.ge(since))
        .select(diesel::dsl::count(cases::person_id).aggregate_distinct())
        .first(conn)?;
    let ever = cases::table
        .filter(cases::kind.eq(kind))
        .select(diesel::dsl::count(cases::person_id).aggregate_distinct())
        .first(conn)?;
    Ok((recent, ever))
}

// ----- evidence due -----

/// Notes that new evidence for `person_id`'s cases arrived (`reason` says
/// which: a released result, a passed quiz…), in the transaction of the event
/// that brought it. `services::pipeline::take_due` takes it.
pub fn note_due(
    conn: &mut DbConn,
    person_id: PersonId,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(cases_due::table)
        .values((
            cases_due::person_id.eq(person_id),
            cases_due::reason.eq(reason),
            cases_due::noted_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The ids of the evidence noted for a person and not yet taken.
pub fn due_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<i64>> {
    cases_due::table
        .filter(cases_due::person_id.eq(person_id))
        .order(cases_due::id.asc())
        .select(cases_due::id)
        .load(conn)
}

/// Removes taken evidence rows.
pub fn clear_due(conn: &mut DbConn, ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(cases_due::table.filter(cases_due::id.eq_any(ids))).execute(conn)
}

/// Up to `limit` people with evidence not yet taken, longest waiting first.
pub fn due_people(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<PersonId>> {
    let rows: Vec<PersonId> = cases_due::table
        .order(cases_due::id.asc())
        .select(cases_due::person_id)
        .limit(limit)
        .load(conn)?;
    let mut people: Vec<PersonId> = Vec::new();
    for person_id in rows {
        if !people.contains(&person_id) {
            people.push(person_id);
        }
    }
    Ok(people)
}
