//! Queries for exams, registrations, attempts, their items and answers.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, BoxedSqlQuery, QueryFragment, QueryId, SqlQuery};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Nullable, Text, Timestamp};

use crate::domain::exams::ReviewPolicy;
use crate::domain::ids::{ExamId, PersonId};
use crate::domain::pipeline::ExamStage;
use crate::domain::scoring::ChoiceScoring;
use crate::store::schema::{
    answers, attempt_events, attempt_items, attempt_papers, attempts, exams, registrations,
};
use crate::store::{DbConn, natively};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exams)]
pub struct ExamRow {
    pub id: ExamId,
    pub track: String,
    pub title: String,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub pass_mark: i32,
    pub attempts_allowed: i32,
    pub waiting_days: i32,
    pub review_policy: ReviewPolicy,
    pub blueprint: String,
    pub grace_seconds: i32,
    pub created_by: Option<PersonId>,
    pub created_at: NaiveDateTime,
    pub results_released_at: Option<NaiveDateTime>,
    /// Percent of an item's points two markers may differ by.
    pub marking_tolerance: i32,
    /// Days an examiner has for a marking task.
    pub marking_days: i32,
    /// Days after the release during which a candidate may appeal.
    pub appeal_days: i32,
    /// The pipeline stage the exam serves: written | case | renewal.
    pub stage: ExamStage,
    /// How choice questions with weights score (`ChoiceScoring`), taken
    /// from the track when the exam was scheduled.
    pub choice_scoring: ChoiceScoring,
}

#[derive(Insertable)]
#[diesel(table_name = exams)]
pub struct NewExam<'a> {
    pub track: &'a str,
    pub title: &'a str,
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub pass_mark: i32,
    pub attempts_allowed: i32,
    pub waiting_days: i32,
    pub review_policy: ReviewPolicy,
    pub blueprint: &'a str,
    pub grace_seconds: i32,
    pub marking_tolerance: i32,
    pub marking_days: i32,
    pub appeal_days: i32,
    pub stage: ExamStage,
    pub choice_scoring: ChoiceScoring,
    pub created_by: Option<PersonId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = registrations)]
pub struct RegistrationRow {
    pub id: i64,
    pub exam_id: ExamId,
    pub person_id: PersonId,
    pub extra_minutes: i32,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
    pub registered_by: Option<PersonId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attempts)]
pub struct AttemptRow {
    pub id: i64,
    pub exam_id: ExamId,
    pub person_id: PersonId,
    pub number: i32,
    pub seed: i64,
    pub drawn_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub deadline: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub auto_submitted: bool,
    pub objective_score: Option<f64>,
    pub objective_total: Option<f64>,
    /// The blind code examiners see instead of the candidate.
    pub code: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attempt_items)]
pub struct ItemRow {
    pub id: i64,
    pub attempt_id: i64,
    pub position: i32,
    pub section: i32,
    pub question_id: i64,
    pub version_id: i64,
    pub points: i32,
    pub option_order: String,
    pub score: Option<f64>,
    pub marked_at: Option<NaiveDateTime>,
    /// Removed by the committee after item analysis: counts in no result.
    pub excluded: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = answers)]
pub struct AnswerRow {
    pub attempt_item_id: i64,
    pub attempt_id: i64,
    pub response: String,
    pub seq: i64,
    pub saved_at: NaiveDateTime,
}

pub fn insert_exam(conn: &mut DbConn, exam: &NewExam<'_>) -> QueryResult<ExamRow> {
    diesel::insert_into(exams::table)
        .values(exam)
        .get_result(conn)
}

/// Attempts of an exam started and not yet submitted.
pub fn attempts_under_way(conn: &mut DbConn, exam_id: ExamId) -> QueryResult<i64> {
    attempts::table
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::started_at.is_not_null())
        .filter(attempts::submitted_at.is_null())
        .count()
        .get_result(conn)
}

/// Registered candidates without a submitted attempt of the exam.
pub fn yet_to_submit(conn: &mut DbConn, exam_id: ExamId) -> QueryResult<i64> {
    let submitted = attempts::table
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::submitted_at.is_not_null())
        .select(attempts::person_id);
    registrations::table
        .filter(registrations::exam_id.eq(exam_id))
        .filter(registrations::person_id.ne_all(submitted))
        .count()
        .get_result(conn)
}

/// Closes an exam now, for every candidate (a window granted to one
/// candidate that ends later ends now too).
pub fn close_now(conn: &mut DbConn, exam_id: ExamId, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(exams::table.find(exam_id))
        .set(exams::closes_at.eq(now))
        .execute(conn)?;
    diesel::update(
        registrations::table
            .filter(registrations::exam_id.eq(exam_id))
            .filter(registrations::closes_at.gt(now)),
    )
    .set(registrations::closes_at.eq(now))
    .execute(conn)?;
    Ok(())
}

pub fn find_exam(conn: &mut DbConn, id: ExamId) -> QueryResult<Option<ExamRow>> {
    exams::table.find(id).first(conn).optional()
}

/// How an exam scores choice questions with weights, as stored.
pub fn choice_scoring(conn: &mut DbConn, exam_id: ExamId) -> QueryResult<Option<ChoiceScoring>> {
    exams::table
        .find(exam_id)
        .select(exams::choice_scoring)
        .first(conn)
        .optional()
}

pub fn list_exams(conn: &mut DbConn) -> QueryResult<Vec<ExamRow>> {
    exams::table.order(exams::opens_at.desc()).load(conn)
}

/// Exams of these tracks that have not closed and that the person is not
/// registered for, soonest first: what she might register for.
pub fn unregistered_exams_of(
    conn: &mut DbConn,
    person_id: PersonId,
    tracks: &[String],
    now: NaiveDateTime,
) -> QueryResult<Vec<ExamRow>> {
    let registered = registrations::table
        .filter(registrations::person_id.eq(person_id))
        .select(registrations::exam_id);
    exams::table
        .filter(exams::track.eq_any(tracks))
        .filter(exams::closes_at.gt(now))
        .filter(exams::id.ne_all(registered))
        .order(exams::opens_at.asc())
        .load(conn)
}

/// Exams a person is registered for.
pub fn exams_for(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<ExamRow>> {
    exams::table
        .inner_join(registrations::table)
        .filter(registrations::person_id.eq(person_id))
        .select(ExamRow::as_select())
        .order(exams::opens_at.desc())
        .load(conn)
}

pub fn find_registration(
    conn: &mut DbConn,
    exam_id: ExamId,
    person_id: PersonId,
) -> QueryResult<Option<RegistrationRow>> {
    registrations::table
        .filter(registrations::exam_id.eq(exam_id))
        .filter(registrations::person_id.eq(person_id))
        .first(conn)
        .optional()
}

/// A registration; saved again, only its accommodations change (the
/// minutes and the window, `None` as NULL).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = registrations, treat_none_as_null = true)]
pub struct NewRegistration {
    #[diesel(skip_update)]
    pub exam_id: ExamId,
    #[diesel(skip_update)]
    pub person_id: PersonId,
    pub extra_minutes: i32,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
    #[diesel(skip_update)]
    pub registered_by: Option<PersonId>,
}

/// Registers, or updates the accommodations of an existing registration.
pub fn save_registration(
    conn: &mut DbConn,
    r: &NewRegistration,
    now: NaiveDateTime,
) -> QueryResult<RegistrationRow> {
    match find_registration(conn, r.exam_id, r.person_id)? {
        Some(existing) => diesel::update(registrations::table.find(existing.id))
            .set(r)
            .get_result(conn),
        None => diesel::insert_into(registrations::table)
            .values((r, registrations::created_at.eq(now)))
            .get_result(conn),
    }
}

pub fn registrations_of(conn: &mut DbConn, exam_id: ExamId) -> QueryResult<Vec<RegistrationRow>> {
    registrations::table
        .filter(registrations::exam_id.eq(exam_id))
        .order(registrations::id.asc())
        .load(conn)
}

/// A person's registrations for a track's exams of the given stages, with
/// their exams.
pub fn registrations_in(
    conn: &mut DbConn,
    person_id: PersonId,
    track_key: &str,
    stages: &[ExamStage],
) -> QueryResult<Vec<(RegistrationRow, ExamRow)>> {
    registrations::table
        .inner_join(exams::table)
        .filter(registrations::person_id.eq(person_id))
        .filter(exams::track.eq(track_key))
        .filter(exams::stage.eq_any(stages))
        .order(registrations::id.asc())
        .select((RegistrationRow::as_select(), ExamRow::as_select()))
        .load(conn)
}

pub fn delete_registration(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(registrations::table.find(id)).execute(conn)
}

/// A class for PostgreSQL's two-key advisory locks: papers drawn for an
/// exam (the second key is the exam's id).
const DRAW_LOCK_CLASS: i32 = 0x6770_6472; // "gpdr"

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Serialises the drawing of an exam's papers until the transaction ends:
/// exposure counts are read and the papers written under it, so two
/// candidates drawing at once never read the same counts.
///
/// PostgreSQL: a transaction-level advisory lock on (draw class, exam id).
/// With `wait` it blocks until the lock is free; without, it only tries and
/// says whether it got it. An advisory lock touches no row, so it never
/// conflicts with the foreign-key locks that inserting attempts takes on the
/// exam row. SQLite has one writer, which already serialises every draw:
/// always granted.
pub fn lock_draw(conn: &mut DbConn, exam_id: ExamId, wait: bool) -> QueryResult<bool> {
    match conn {
        DbConn::Sqlite(_) => Ok(true),
        DbConn::Postgres(pg) => {
            // Ids past 2^31 share a key with another exam: at worst two
            // exams' draws wait for each other, never a wrong count. The
            // remainder is below 2^31, so it always fits.
            let key = i32::try_from(exam_id.get().rem_euclid(1 << 31)).unwrap_or(0);
            let sql = if wait {
                "SELECT TRUE AS locked FROM (SELECT pg_advisory_xact_lock($1, $2)) AS l"
            } else {
                "SELECT pg_try_advisory_xact_lock($1, $2) AS locked"
            };
            diesel::sql_query(sql)
                .bind::<diesel::sql_types::Integer, _>(DRAW_LOCK_CLASS)
                .bind::<diesel::sql_types::Integer, _>(key)
                .get_result::<Locked>(pg)
                .map(|l| l.locked)
        }
    }
}

pub fn attempts_of(
    conn: &mut DbConn,
    exam_id: ExamId,
    person_id: PersonId,
) -> QueryResult<Vec<AttemptRow>> {
    attempts::table
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::person_id.eq(person_id))
        .order(attempts::number.asc())
        .load(conn)
}

/// Registrations with their exam and attempts (one row per attempt, or one
/// with none), each attempt not yet started with the paper rendered for it
/// at predraw; the query of [`start_reading`] and [`start_readings`],
/// written out where each runs it natively.
macro_rules! registrations_to_start {
    () => {
        registrations::table
            .inner_join(exams::table)
            .left_join(
                attempts::table.on(attempts::exam_id
                    .eq(registrations::exam_id)
                    .and(attempts::person_id.eq(registrations::person_id))),
            )
            .left_join(
                attempt_papers::table.on(attempt_papers::attempt_id
                    .eq(attempts::id)
                    .and(attempts::started_at.is_null())),
            )
            .select((
                RegistrationRow::as_select(),
                ExamRow::as_select(),
                Option::<AttemptRow>::as_select(),
                attempt_papers::items.nullable(),
            ))
    };
}

/// What a start reads, in one query (at the opening every round trip
/// counts): a person's registration for an exam, the exam, and her attempts
/// at it in order, each one not yet started with the paper rendered for it
/// at predraw (if it was). `None` when she is not registered.
pub fn start_reading(
    conn: &mut DbConn,
    exam_id: ExamId,
    person_id: PersonId,
) -> QueryResult<Option<StartReading>> {
    // One row per attempt, or one row with no attempt; the registration and
    // the exam repeat on each.
    let rows: Vec<ReadingRow> = natively!(conn, |c| {
        registrations_to_start!()
            .filter(registrations::exam_id.eq(exam_id))
            .filter(registrations::person_id.eq(person_id))
            .order(attempts::number.asc())
            .load(c)
    })?;
    Ok(readings(rows).next())
}

/// [`start_reading`] for many starts in one query (the exam's opening,
/// `store::starts`), by exam and person; one not registered is not in the
/// map.
pub fn start_readings(
    conn: &mut DbConn,
    asked: &[(ExamId, PersonId)],
) -> QueryResult<HashMap<(ExamId, PersonId), StartReading>> {
    if asked.is_empty() {
        return Ok(HashMap::new());
    }
    let exam_ids: Vec<ExamId> = asked.iter().map(|(e, _)| *e).collect();
    let person_ids: Vec<PersonId> = asked.iter().map(|(_, p)| *p).collect();
    let wanted: HashSet<(ExamId, PersonId)> = asked.iter().copied().collect();
    // Every registration of those people for those exams (more than asked
    // when several exams open together: those are dropped below).
    let rows: Vec<ReadingRow> = natively!(conn, |c| {
        registrations_to_start!()
            .filter(registrations::exam_id.eq_any(&exam_ids))
            .filter(registrations::person_id.eq_any(&person_ids))
            .order((registrations::id.asc(), attempts::number.asc()))
            .load(c)
    })?;
    Ok(readings(rows)
        .map(|r| ((r.exam.id, r.registration.person_id), r))
        .filter(|(key, _)| wanted.contains(key))
        .collect())
}

/// A registration with its exam, one of its attempts (if any) and that
/// attempt's rendered paper (if not started and drawn ahead).
type ReadingRow = (RegistrationRow, ExamRow, Option<AttemptRow>, Option<String>);

/// The readings of rows that come one per attempt, a registration's rows
/// together and its attempts in order.
fn readings(rows: Vec<ReadingRow>) -> impl Iterator<Item = StartReading> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        let (registration, exam, first, paper) = rows.next()?;
        let mut attempts: Vec<(AttemptRow, Option<String>)> =
            first.map(|a| (a, paper)).into_iter().collect();
        while let Some((_, _, attempt, paper)) =
            rows.next_if(|(next, _, _, _)| next.id == registration.id)
        {
            attempts.extend(attempt.map(|a| (a, paper)));
        }
        Some(StartReading {
            registration,
            exam,
            attempts,
        })
    })
}

/// What [`start_reading`] found.
pub struct StartReading {
    pub registration: RegistrationRow,
    pub exam: ExamRow,
    /// In order; each one not yet started with its paper rendered at
    /// predraw, if it was.
    pub attempts: Vec<(AttemptRow, Option<String>)>,
}

pub fn find_attempt(conn: &mut DbConn, id: i64) -> QueryResult<Option<AttemptRow>> {
    natively!(conn, |c| attempts::table.find(id).first(c).optional())
}

/// An attempt as its paper is drawn (`seed` draws it again).
#[derive(Insertable)]
#[diesel(table_name = attempts)]
pub struct NewAttempt {
    pub exam_id: ExamId,
    pub person_id: PersonId,
    /// Which attempt at the exam it is, from 1.
    pub number: i32,
    pub seed: i64,
}

pub fn insert_attempt(
    conn: &mut DbConn,
    attempt: &NewAttempt,
    now: NaiveDateTime,
) -> QueryResult<AttemptRow> {
    diesel::insert_into(attempts::table)
        .values((
            attempt,
            attempts::drawn_at.eq(now),
            attempts::auto_submitted.eq(false),
        ))
        .get_result(conn)
}

/// The kind of an attempt's `started` line, written by [`mark_started`]
/// and [`start_all`] alike.
const STARTED: &str = "started";

/// Starts an attempt not yet started: sets its start and deadline, writes
/// the `started` line of its trail with `detail`, and returns it as it now
/// is, or `None` (nothing written) when it had already been started (a
/// concurrent start by the same candidate won), so a start never moves a
/// deadline that a candidate has been shown.
///
/// Written as statements of their own ([`StartAttempt`], [`RecordEvent`])
/// so that the connection keeps them prepared: every start at the opening
/// minute runs them, and diesel prepares its own UPDATE afresh each time. On
/// PostgreSQL the two are one statement ([`StartAndRecord`]), one round trip
/// less at the opening.
pub fn mark_started(
    conn: &mut DbConn,
    attempt: &AttemptRow,
    started_at: NaiveDateTime,
    deadline: NaiveDateTime,
    detail: &str,
) -> QueryResult<Option<AttemptRow>> {
    let start = StartAttempt {
        id: attempt.id,
        started_at,
        deadline,
    };
    let event = RecordEvent {
        attempt_id: attempt.id,
        at: started_at,
        kind: STARTED,
        detail: Some(detail),
    };
    let started = match conn {
        DbConn::Postgres(c) => StartAndRecord { start, event }.execute(c)? == 1,
        DbConn::Sqlite(c) => {
            let started = start.execute(c)? == 1;
            if started {
                event.execute(c)?;
            }
            started
        }
    };
    Ok(started.then(|| AttemptRow {
        started_at: Some(started_at),
        deadline: Some(deadline),
        ..attempt.clone()
    }))
}

/// An attempt to start at the opening, with the `detail` of its `started`
/// line (see [`start_all`]).
pub struct ToStart<'a> {
    pub attempt: &'a AttemptRow,
    pub deadline: NaiveDateTime,
    pub detail: &'a str,
}

/// [`mark_started`] for many attempts at once, all started at `started_at`:
/// returns the ids of those it started (one already started is left as it
/// is, with no second `started` line). On PostgreSQL one statement for them
/// all; on SQLite, which has no round trips to save, `mark_started`'s
/// prepared statements for each.
pub fn start_all(
    conn: &mut DbConn,
    attempts: &[ToStart<'_>],
    started_at: NaiveDateTime,
) -> QueryResult<HashSet<i64>> {
    if attempts.is_empty() {
        return Ok(HashSet::new());
    }
    match conn {
        DbConn::Postgres(pg) => {
            use diesel::pg::sql_types::Array;
            #[derive(QueryableByName)]
            struct Started {
                #[diesel(sql_type = BigInt)]
                attempt_id: i64,
            }
            let ids: Vec<i64> = attempts.iter().map(|a| a.attempt.id).collect();
            let deadlines: Vec<NaiveDateTime> = attempts.iter().map(|a| a.deadline).collect();
            let details: Vec<&str> = attempts.iter().map(|a| a.detail).collect();
            // The same statement as `StartAndRecord`, over arrays: an
            // attempt's `started` line is written only if this started it.
            let started: Vec<Started> = diesel::sql_query(
                "WITH started AS (\
                   UPDATE attempts SET started_at = $1, deadline = d.deadline \
                   FROM unnest($2::bigint[], $3::timestamp[], $4::text[]) AS d(id, deadline, detail) \
                   WHERE attempts.id = d.id AND attempts.started_at IS NULL \
                   RETURNING attempts.id, d.detail) \
                 INSERT INTO attempt_events (attempt_id, at, kind, detail) \
                 SELECT id, $1, $5, detail FROM started \
                 RETURNING attempt_id",
            )
            .bind::<Timestamp, _>(started_at)
            .bind::<Array<BigInt>, _>(ids)
            .bind::<Array<Timestamp>, _>(deadlines)
            .bind::<Array<Text>, _>(details)
            .bind::<Text, _>(STARTED)
            .load(pg)?;
            Ok(started.into_iter().map(|s| s.attempt_id).collect())
        }
        DbConn::Sqlite(_) => {
            let mut started = HashSet::new();
            for a in attempts {
                if mark_started(conn, a.attempt, started_at, a.deadline, a.detail)?.is_some() {
                    started.insert(a.attempt.id);
                }
            }
            Ok(started)
        }
    }
}

/// PostgreSQL's start in one statement: `WITH started AS (UPDATE … RETURNING
/// id) INSERT INTO attempt_events … SELECT … FROM started`. The event is
/// written only if the update started the attempt; the count is the
/// event's, so 1 when it did. The event's `attempt_id` is the one updated.
struct StartAndRecord<'a> {
    start: StartAttempt,
    event: RecordEvent<'a>,
}

impl QueryFragment<diesel::pg::Pg> for StartAndRecord<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("WITH started AS (");
        self.start.walk_ast(out.reborrow())?;
        out.push_sql(" RETURNING ");
        out.push_identifier(attempts::id::NAME)?;
        out.push_sql(") ");
        self.event
            .walk_insert(out.reborrow(), EventValues::FromStarted)
    }
}

impl<Conn> RunQueryDsl<Conn> for StartAndRecord<'_> {}

impl QueryId for StartAndRecord<'_> {
    type QueryId = StartAndRecord<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// `UPDATE attempts SET started_at, deadline WHERE id AND started_at IS
/// NULL`. Its SQL never changes and its type names it (`QueryId`), so diesel
/// caches it as a prepared statement; the column names come from the schema.
#[derive(QueryId)]
struct StartAttempt {
    id: i64,
    started_at: NaiveDateTime,
    deadline: NaiveDateTime,
}

impl<DB> QueryFragment<DB> for StartAttempt
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Timestamp>,
    i64: ToSql<BigInt, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        attempts::table.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        out.push_identifier(attempts::started_at::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<Timestamp, _>(&self.started_at)?;
        out.push_sql(", ");
        out.push_identifier(attempts::deadline::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<Timestamp, _>(&self.deadline)?;
        out.push_sql(" WHERE ");
        out.push_identifier(attempts::id::NAME)?;
        out.push_sql(" = ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        out.push_sql(" AND ");
        out.push_identifier(attempts::started_at::NAME)?;
        out.push_sql(" IS NULL");
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for StartAttempt {}

#[derive(Insertable)]
#[diesel(table_name = attempt_items)]
pub struct NewItem<'a> {
    pub position: i32,
    pub section: i32,
    pub question_id: i64,
    pub version_id: i64,
    pub points: i32,
    pub option_order: &'a str,
}

pub fn insert_item(conn: &mut DbConn, attempt_id: i64, item: &NewItem<'_>) -> QueryResult<usize> {
    diesel::insert_into(attempt_items::table)
        .values((attempt_items::attempt_id.eq(attempt_id), item))
        .execute(conn)
}

pub fn items_of(conn: &mut DbConn, attempt_id: i64) -> QueryResult<Vec<ItemRow>> {
    attempt_items::table
        .filter(attempt_items::attempt_id.eq(attempt_id))
        .order(attempt_items::position.asc())
        .load(conn)
}

/// Everything a save checks, in one query: the attempt, its exam's grace
/// period in seconds, and the item at `position` if the paper has one.
pub fn save_target(
    conn: &mut DbConn,
    attempt_id: i64,
    position: i32,
) -> QueryResult<Option<(AttemptRow, i32, Option<ItemRow>)>> {
    attempts::table
        .inner_join(exams::table)
        .left_join(
            attempt_items::table.on(attempt_items::attempt_id
                .eq(attempts::id)
                .and(attempt_items::position.eq(position))),
        )
        .filter(attempts::id.eq(attempt_id))
        .select((
            AttemptRow::as_select(),
            exams::grace_seconds,
            Option::<ItemRow>::as_select(),
        ))
        .first(conn)
        .optional()
}

pub fn find_item_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<ItemRow>> {
    attempt_items::table.find(id).first(conn).optional()
}

pub fn find_item(
    conn: &mut DbConn,
    attempt_id: i64,
    position: i32,
) -> QueryResult<Option<ItemRow>> {
    attempt_items::table
        .filter(attempt_items::attempt_id.eq(attempt_id))
        .filter(attempt_items::position.eq(position))
        .first(conn)
        .optional()
}

/// How often each question has been drawn, for balancing exposure.
pub fn exposure(conn: &mut DbConn) -> QueryResult<Vec<(i64, i64)>> {
    attempt_items::table
        .group_by(attempt_items::question_id)
        .select((attempt_items::question_id, diesel::dsl::count_star()))
        .load(conn)
}

/// How often each question had been drawn before attempt `attempt_id`
/// was (the exposure its draw saw, for rebuilding the paper).
pub fn exposure_before(conn: &mut DbConn, attempt_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    attempt_items::table
        .filter(attempt_items::attempt_id.lt(attempt_id))
        .group_by(attempt_items::question_id)
        .select((attempt_items::question_id, diesel::dsl::count_star()))
        .load(conn)
}

pub fn find_answer(conn: &mut DbConn, item_id: i64) -> QueryResult<Option<AnswerRow>> {
    answers::table.find(item_id).first(conn).optional()
}

/// Stores a predrawn paper's items rendered ahead of the opening.
pub fn save_rendered_paper(conn: &mut DbConn, attempt_id: i64, items: &str) -> QueryResult<usize> {
    diesel::insert_into(attempt_papers::table)
        .values((
            attempt_papers::attempt_id.eq(attempt_id),
            attempt_papers::items.eq(items),
        ))
        .execute(conn)
}

/// A paper's items rendered ahead of the opening, if they were.
pub fn rendered_paper(conn: &mut DbConn, attempt_id: i64) -> QueryResult<Option<String>> {
    attempt_papers::table
        .find(attempt_id)
        .select(attempt_papers::items)
        .first(conn)
        .optional()
}

pub fn answers_of(conn: &mut DbConn, attempt_id: i64) -> QueryResult<Vec<AnswerRow>> {
    answers::table
        .filter(answers::attempt_id.eq(attempt_id))
        .load(conn)
}

/// An answer to store, from one save request.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub attempt_item_id: i64,
    pub attempt_id: i64,
    /// The question's position on the paper, for the audit event.
    pub position: i32,
    pub response: String,
    pub seq: i64,
    pub saved_at: NaiveDateTime,
}

/// What became of one [`NewAnswer`]: whether it was stored, and the
/// sequence number stored for its question afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerStored {
    pub stored: bool,
    pub seq: i64,
}

/// The exam day's group commit (`store::group`): each answer save only
/// checks its request in its savepoint and hands on the answer to store; a
/// batch's answers are then stored together, one upsert and one insert of
/// audit events for them all ([`save_answers`]).
///
/// Saves never share a batch with the other writes (starts, submits): a
/// save's answer is stored when its batch's checks are done, so a submit in
/// the same batch could miss it. When both wait, batches take turns, so at
/// the opening minute a save waits for at most one batch of starts (not for
/// every start queued), and a start for at most one batch of saves (one
/// upsert). (A save and a submit of the same attempt sent at the same moment
/// may therefore meet in the order submit, save: the save is then refused as
/// after the submission, as if it had arrived a moment later.)
pub struct AnswerBatch;

impl crate::store::group::Deferred for AnswerBatch {
    type Item = NewAnswer;
    type Done = AnswerStored;
    const WHAT: &'static str = "answers";

    fn flush(conn: &mut DbConn, items: &[NewAnswer]) -> crate::error::Result<Vec<AnswerStored>> {
        Ok(save_answers(conn, items)?)
    }
}

/// Stores the answers of many saves at once, each unless a later one (higher
/// `seq`) is already stored, and records a `saved` event for each: one upsert
/// and one insert for the lot, whatever their number (exam day sends
/// thousands a second; a statement per save was most of the database's
/// work). The outcomes are those of storing the answers one after the other
/// in the order given, except that a save that loses reports the `seq` that
/// won.
pub fn save_answers(conn: &mut DbConn, saves: &[NewAnswer]) -> QueryResult<Vec<AnswerStored>> {
    if saves.is_empty() {
        return Ok(Vec::new());
    }
    // One row per question: the latest save of it (the first of equals).
    // An upsert may not touch a row twice.
    let mut latest: HashMap<i64, usize> = HashMap::with_capacity(saves.len());
    for (i, save) in saves.iter().enumerate() {
        latest
            .entry(save.attempt_item_id)
            .and_modify(|best| {
                if saves.get(*best).is_some_and(|b| save.seq > b.seq) {
                    *best = i;
                }
            })
            .or_insert(i);
    }
    let mut winners: Vec<usize> = latest.values().copied().collect();
    winners.sort_unstable();
    let written = upsert_answers(conn, saves, &winners)?;
    // Questions whose stored answer was newer than every save of the batch.
    let kept: Vec<i64> = latest
        .keys()
        .filter(|item| !written.contains_key(item))
        .copied()
        .collect();
    let stored_seq: HashMap<i64, i64> = if kept.is_empty() {
        HashMap::new()
    } else {
        answers::table
            .filter(answers::attempt_item_id.eq_any(&kept))
            .select((answers::attempt_item_id, answers::seq))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect()
    };
    let outcomes: Vec<AnswerStored> = saves
        .iter()
        .enumerate()
        .map(|(i, save)| {
            let item = save.attempt_item_id;
            match written.get(&item) {
                Some(seq) => AnswerStored {
                    stored: latest.get(&item) == Some(&i),
                    seq: *seq,
                },
                None => AnswerStored {
                    stored: false,
                    seq: stored_seq.get(&item).copied().unwrap_or(save.seq),
                },
            }
        })
        .collect();
    // The audit trail says of each save whether it was older than the
    // answer stored.
    let details: Vec<String> = saves
        .iter()
        .zip(&outcomes)
        .map(|(save, outcome)| {
            let older = if outcome.stored {
                ""
            } else {
                ", older than stored"
            };
            format!("question {}, seq {}{older}", save.position, save.seq)
        })
        .collect();
    let events: Vec<_> = saves
        .iter()
        .zip(&details)
        .map(|(save, detail)| NewAttemptEvent {
            attempt_id: save.attempt_id,
            at: save.saved_at,
            kind: "saved",
            detail: Some(detail),
        })
        .collect();
    let insert = diesel::insert_into(attempt_events::table).values(events);
    natively!(conn, |c| insert.execute(c))?;
    Ok(outcomes)
}

/// Inserts the chosen saves' answers, or replaces older stored ones; a newer
/// stored answer is left alone. Returns the questions written and their seq.
///
/// Written as SQL: diesel's MultiConnection has no ON CONFLICT, and its
/// SQLite backend no multi-row upsert. Every value is a bound parameter.
fn upsert_answers(
    conn: &mut DbConn,
    saves: &[NewAnswer],
    chosen: &[usize],
) -> QueryResult<HashMap<i64, i64>> {
    let rows: Vec<&NewAnswer> = chosen.iter().filter_map(|&i| saves.get(i)).collect();
    let written: Vec<WrittenAnswer> = match conn {
        DbConn::Postgres(pg) => {
            let sql = upsert_answers_sql(rows.len(), |n| format!("${n}"));
            bind_answers(diesel::sql_query(sql).into_boxed(), &rows).load(pg)?
        }
        DbConn::Sqlite(lite) => {
            let sql = upsert_answers_sql(rows.len(), |_| "?".to_owned());
            bind_answers(diesel::sql_query(sql).into_boxed(), &rows).load(lite)?
        }
    };
    Ok(written
        .into_iter()
        .map(|w| (w.attempt_item_id, w.seq))
        .collect())
}

/// A row the upsert wrote: its question and the seq now stored.
#[derive(QueryableByName)]
struct WrittenAnswer {
    #[diesel(sql_type = BigInt)]
    attempt_item_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// The multi-row upsert of `rows` answers; `placeholder(n)` is the
/// backend's n-th bind parameter (from 1).
fn upsert_answers_sql(rows: usize, placeholder: impl Fn(usize) -> String) -> String {
    let mut sql = String::from(
        "INSERT INTO answers (attempt_item_id, attempt_id, response, seq, saved_at) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let params: Vec<String> = (1..=5).map(|c| placeholder(row * 5 + c)).collect();
        sql.push_str(&format!("({})", params.join(", ")));
    }
    sql.push_str(
        " ON CONFLICT (attempt_item_id) DO UPDATE SET response = excluded.response, \
         seq = excluded.seq, saved_at = excluded.saved_at \
         WHERE answers.seq < excluded.seq RETURNING attempt_item_id, seq",
    );
    sql
}

fn bind_answers<'f, DB>(
    query: BoxedSqlQuery<'f, DB, SqlQuery>,
    rows: &[&'f NewAnswer],
) -> BoxedSqlQuery<'f, DB, SqlQuery>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text> + HasSqlType<Timestamp>,
    i64: ToSql<BigInt, DB>,
    str: ToSql<Text, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
{
    rows.iter().fold(query, |query, row| {
        query
            .bind::<BigInt, _>(row.attempt_item_id)
            .bind::<BigInt, _>(row.attempt_id)
            .bind::<Text, _>(row.response.as_str())
            .bind::<BigInt, _>(row.seq)
            .bind::<Timestamp, _>(row.saved_at)
    })
}

/// Sets the scores of an attempt's items in one statement (a submit scores
/// every item at once; one UPDATE per item was most of a submit's time).
/// Only numbers are written into the statement: item ids and finite scores.
pub fn set_item_scores(
    conn: &mut DbConn,
    attempt_id: i64,
    scores: &[(i64, Option<f64>)],
) -> QueryResult<usize> {
    if scores.is_empty() {
        return Ok(0);
    }
    let mut cases = String::with_capacity(scores.len() * 24);
    let mut ids = String::with_capacity(scores.len() * 8);
    for (item_id, score) in scores {
        let value = match score {
            Some(s) if s.is_finite() => format!("{s:?}"),
            Some(_) => {
                return Err(diesel::result::Error::QueryBuilderError(
                    "an item score must be a finite number".into(),
                ));
            }
            None => "NULL".to_owned(),
        };
        cases.push_str(&format!(" WHEN {item_id} THEN {value}"));
        if !ids.is_empty() {
            ids.push(',');
        }
        ids.push_str(&item_id.to_string());
    }
    diesel::sql_query(format!(
        // The cast types the CASE on PostgreSQL when every branch is NULL.
        "UPDATE attempt_items SET score = CAST(CASE id{cases} END AS DOUBLE PRECISION) \
         WHERE attempt_id = {attempt_id} AND id IN ({ids})"
    ))
    .execute(conn)
}

pub fn set_item_score(conn: &mut DbConn, item_id: i64, score: Option<f64>) -> QueryResult<usize> {
    diesel::update(attempt_items::table.find(item_id))
        .set(attempt_items::score.eq(score))
        .execute(conn)
}

pub fn mark_submitted(
    conn: &mut DbConn,
    id: i64,
    at: NaiveDateTime,
    auto: bool,
    score: f64,
    total: f64,
) -> QueryResult<AttemptRow> {
    diesel::update(
        attempts::table
            .find(id)
            .filter(attempts::submitted_at.is_null()),
    )
    .set((
        attempts::submitted_at.eq(Some(at)),
        attempts::auto_submitted.eq(auto),
        attempts::objective_score.eq(Some(score)),
        attempts::objective_total.eq(Some(total)),
    ))
    .get_result(conn)
}

/// A line of an attempt's trail, as the saves of a batch insert theirs
/// together (`save_answers`); one line alone is a [`RecordEvent`].
#[derive(Insertable)]
#[diesel(table_name = attempt_events, treat_none_as_null = true)]
struct NewAttemptEvent<'a> {
    attempt_id: i64,
    at: NaiveDateTime,
    kind: &'a str,
    detail: Option<&'a str>,
}

/// Adds a line to an attempt's trail. A statement of its own
/// ([`RecordEvent`]), kept prepared like [`mark_started`]'s: every start and
/// submit writes one on the exam day.
pub fn record_event(
    conn: &mut DbConn,
    attempt_id: i64,
    kind: &str,
    detail: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let query = RecordEvent {
        attempt_id,
        at,
        kind,
        detail,
    };
    natively!(conn, |c| query.execute(c))
}

/// `INSERT INTO attempt_events (attempt_id, at, kind, detail) VALUES (…)`,
/// every value bound (a missing detail is a bound NULL), so its SQL never
/// changes and diesel caches it as a prepared statement.
struct RecordEvent<'a> {
    attempt_id: i64,
    at: NaiveDateTime,
    kind: &'a str,
    detail: Option<&'a str>,
}

/// Where an event's `attempt_id` comes from.
#[derive(Clone, Copy)]
enum EventValues {
    /// `VALUES (…)`: every value bound.
    Bound,
    /// `SELECT id, … FROM started`: the attempt a `started` CTE updated.
    FromStarted,
}

/// The SQL of an event's INSERT, with its values bound or taken from a
/// `started` CTE: one trait so that the backends' bounds are written once.
trait EventInsert<DB: Backend> {
    fn walk_insert<'b>(&'b self, out: AstPass<'_, 'b, DB>, values: EventValues) -> QueryResult<()>;
}

impl<DB> EventInsert<DB> for RecordEvent<'_>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Timestamp> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    str: ToSql<Text, DB>,
    for<'x> Option<&'x str>: ToSql<Nullable<Text>, DB>,
{
    fn walk_insert<'b>(
        &'b self,
        mut out: AstPass<'_, 'b, DB>,
        values: EventValues,
    ) -> QueryResult<()> {
        out.push_sql("INSERT INTO ");
        attempt_events::table.walk_ast(out.reborrow())?;
        out.push_sql(" (");
        out.push_identifier(attempt_events::attempt_id::NAME)?;
        out.push_sql(", ");
        out.push_identifier(attempt_events::at::NAME)?;
        out.push_sql(", ");
        out.push_identifier(attempt_events::kind::NAME)?;
        out.push_sql(", ");
        out.push_identifier(attempt_events::detail::NAME)?;
        match values {
            EventValues::Bound => {
                out.push_sql(") VALUES (");
                out.push_bind_param::<BigInt, _>(&self.attempt_id)?;
            }
            EventValues::FromStarted => {
                out.push_sql(") SELECT ");
                out.push_identifier(attempts::id::NAME)?;
            }
        }
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.detail)?;
        match values {
            EventValues::Bound => out.push_sql(")"),
            EventValues::FromStarted => out.push_sql(" FROM started"),
        }
        Ok(())
    }
}

impl<DB> QueryFragment<DB> for RecordEvent<'_>
where
    DB: Backend,
    Self: EventInsert<DB>,
{
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.walk_insert(out, EventValues::Bound)
    }
}

impl<Conn> RunQueryDsl<Conn> for RecordEvent<'_> {}

/// What names the statement in the cache: its type, which the derive cannot
/// name for a type with a lifetime.
impl QueryId for RecordEvent<'_> {
    type QueryId = RecordEvent<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

pub fn events_of(
    conn: &mut DbConn,
    attempt_id: i64,
) -> QueryResult<Vec<(NaiveDateTime, String, Option<String>)>> {
    attempt_events::table
        .filter(attempt_events::attempt_id.eq(attempt_id))
        .order(attempt_events::id.asc())
        .select((
            attempt_events::at,
            attempt_events::kind,
            attempt_events::detail,
        ))
        .load(conn)
}

/// Started attempts whose deadline plus grace has passed, claimed for the
/// auto-submit job (locked on PostgreSQL so two instances take different
/// ones). Must run in a transaction.
pub fn claim_overdue(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let query = attempts::table
        .filter(attempts::submitted_at.is_null())
        .filter(attempts::deadline.le(cutoff))
        .order(attempts::id.asc())
        .limit(limit)
        .select(attempts::id);
    match conn {
        DbConn::Postgres(pg) => query.for_update().skip_locked().load(pg),
        DbConn::Sqlite(_) => query.load(conn),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};

    use super::*;

    /// An in-memory SQLite database with the two tables a start writes (the
    /// real ones' columns, without the keys to tables the test leaves out),
    /// counting the statements its connection adds to its cache.
    fn sqlite_counting_cached() -> (DbConn, Arc<AtomicUsize>) {
        let mut lite = diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        lite.batch_execute(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY, exam_id BIGINT NOT NULL,
                person_id BIGINT NOT NULL, number INTEGER NOT NULL, seed BIGINT NOT NULL,
                drawn_at TIMESTAMP NOT NULL, started_at TIMESTAMP, deadline TIMESTAMP,
                submitted_at TIMESTAMP, auto_submitted BOOLEAN NOT NULL DEFAULT 0,
                objective_score DOUBLE, objective_total DOUBLE, code TEXT);
             CREATE TABLE attempt_events (id INTEGER PRIMARY KEY, attempt_id BIGINT NOT NULL,
                at TIMESTAMP NOT NULL, kind TEXT NOT NULL, detail TEXT);
             INSERT INTO attempts (id, exam_id, person_id, number, seed, drawn_at)
                VALUES (1, 7, 9, 1, 42, '2026-12-06 08:00:00'),
                       (2, 7, 10, 1, 43, '2026-12-06 08:00:00');",
        )
        .expect("tables");
        let cached = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&cached);
        let count = move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::CacheQuery { .. } = event {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        };
        let count: Box<dyn Instrumentation> = Box::new(count);
        lite.set_instrumentation(count);
        (DbConn::Sqlite(lite), cached)
    }

    fn at(hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("a time")
    }

    /// On the exam day every start runs the same UPDATE and INSERT on
    /// SQLite's one writer: they must be prepared once, not per start.
    #[test]
    fn a_start_and_its_event_are_prepared_once_and_write_what_they_say() {
        let (mut conn, cached) = sqlite_counting_cached();
        let mut started = Vec::new();
        for id in [1, 2] {
            let attempt = find_attempt(&mut conn, id).expect("read").expect("attempt");
            let cached_before = cached.load(Ordering::SeqCst);
            let row = mark_started(&mut conn, &attempt, at(9), at(11), "deadline").expect("update");
            record_event(&mut conn, id, "note", None, at(10)).expect("insert");
            started.push((row, cached.load(Ordering::SeqCst) - cached_before));
        }
        // The first start prepared the UPDATE and the INSERT; the second
        // prepared nothing.
        let added: Vec<usize> = started.iter().map(|(_, added)| *added).collect();
        assert_eq!(added, [2, 0]);
        // What was returned is what is stored.
        for (row, _) in &started {
            let row = row.as_ref().expect("started");
            assert_eq!((row.started_at, row.deadline), (Some(at(9)), Some(at(11))));
            let stored = find_attempt(&mut conn, row.id)
                .expect("read")
                .expect("attempt");
            assert_eq!(
                (stored.started_at, stored.deadline),
                (row.started_at, row.deadline)
            );
            assert_eq!((stored.seed, stored.person_id), (row.seed, row.person_id));
        }
        // An attempt already started is left alone and reported as such,
        // with no second `started` line in its trail.
        let again = find_attempt(&mut conn, 1).expect("read").expect("attempt");
        assert!(
            mark_started(&mut conn, &again, at(10), at(12), "again")
                .expect("update")
                .is_none()
        );
        let stored = find_attempt(&mut conn, 1).expect("read").expect("attempt");
        assert_eq!(stored.started_at, Some(at(9)));
        // The events, with their detail or a NULL one.
        let events = events_of(&mut conn, 1).expect("events");
        assert_eq!(
            events,
            [
                (at(9), "started".to_owned(), Some("deadline".to_owned())),
                (at(10), "note".to_owned(), None)
            ]
        );
    }
}
