//! Queries for marking open answers and for releasing results.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::grading::{AppealRule, AppealStatus, ReviewStatus, SettingStatus};
use crate::domain::ids::PersonId;
use crate::domain::roles::Role;
use crate::store::DbConn;
use crate::store::exams::{AnswerRow, AttemptRow, ItemRow};
use crate::store::schema::{
    answers, attempt_items, attempts, exams, marking_tasks, people, person_roles, question_reviews,
    question_versions, questions,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = marking_tasks)]
pub struct TaskRow {
    pub id: i64,
    pub exam_id: i64,
    pub attempt_item_id: i64,
    pub examiner_id: PersonId,
    pub role: i32,
    pub assigned_at: NaiveDateTime,
    pub due_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub total: Option<f64>,
    pub marks: Option<String>,
    pub reminded_at: Option<NaiveDateTime>,
}

/// An open answer of a submitted attempt that has no final mark yet.
#[derive(Debug, Clone)]
pub struct PendingItem {
    pub item: ItemRow,
    pub attempt: AttemptRow,
    pub candidate_institution: Option<i64>,
    pub marking_tolerance: i32,
    pub marking_days: i32,
}

/// Open answers (case analyses) of submitted attempts of unreleased exams
/// that have no final mark.
pub fn pending_items(conn: &mut DbConn) -> QueryResult<Vec<PendingItem>> {
    let rows: Vec<(ItemRow, AttemptRow, i32, i32, Option<i64>)> = attempt_items::table
        .inner_join(
            attempts::table
                .inner_join(exams::table)
                .inner_join(people::table),
        )
        .inner_join(question_versions::table)
        .filter(attempts::submitted_at.is_not_null())
        .filter(attempt_items::score.is_null())
        .filter(question_versions::kind.eq("case"))
        .filter(exams::results_released_at.is_null())
        .order(attempt_items::id.asc())
        .select((
            ItemRow::as_select(),
            AttemptRow::as_select(),
            exams::marking_tolerance,
            exams::marking_days,
            people::institution_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(item, attempt, marking_tolerance, marking_days, candidate_institution)| PendingItem {
                item,
                attempt,
                candidate_institution,
                marking_tolerance,
                marking_days,
            },
        )
        .collect())
}

/// Active examiners with their institutions.
pub fn examiners(conn: &mut DbConn) -> QueryResult<Vec<(PersonId, Option<i64>)>> {
    people::table
        .inner_join(person_roles::table)
        .filter(person_roles::role.eq(Role::Examiner.as_str()))
        .filter(people::active.eq(true))
        .order(people::id.asc())
        .select((people::id, people::institution_id))
        .load(conn)
}

/// Open (unsubmitted) tasks per examiner.
pub fn open_load(conn: &mut DbConn) -> QueryResult<Vec<(PersonId, i64)>> {
    marking_tasks::table
        .filter(marking_tasks::submitted_at.is_null())
        .group_by(marking_tasks::examiner_id)
        .select((marking_tasks::examiner_id, diesel::dsl::count_star()))
        .load(conn)
}

pub fn tasks_of_item(conn: &mut DbConn, item_id: i64) -> QueryResult<Vec<TaskRow>> {
    marking_tasks::table
        .filter(marking_tasks::attempt_item_id.eq(item_id))
        .order(marking_tasks::role.asc())
        .select(TaskRow::as_select())
        .load(conn)
}

#[derive(Insertable)]
#[diesel(table_name = marking_tasks)]
pub struct NewTask {
    pub exam_id: i64,
    #[diesel(column_name = attempt_item_id)]
    pub item_id: i64,
    pub examiner_id: PersonId,
    pub role: i32,
    pub due_at: NaiveDateTime,
}

pub fn insert_task(conn: &mut DbConn, t: &NewTask, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::insert_into(marking_tasks::table)
        .values((t, marking_tasks::assigned_at.eq(now)))
        .execute(conn)
}

pub fn set_attempt_code(conn: &mut DbConn, attempt_id: i64, code: &str) -> QueryResult<usize> {
    diesel::update(
        attempts::table
            .find(attempt_id)
            .filter(attempts::code.is_null()),
    )
    .set(attempts::code.eq(code))
    .execute(conn)
}

pub fn find_task(conn: &mut DbConn, id: i64) -> QueryResult<Option<TaskRow>> {
    marking_tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(conn)
        .optional()
}

/// A task as its examiner's queue lists it: the task, the exam's title, the
/// attempt's blind code and the item's position.
pub type QueueRow = (TaskRow, String, Option<String>, i32);

/// An examiner's tasks with the exam's title, the attempt's code and the
/// item's position: nothing about the candidate.
pub fn queue_of(conn: &mut DbConn, examiner_id: PersonId) -> QueryResult<Vec<QueueRow>> {
    marking_tasks::table
        .inner_join(exams::table)
        .inner_join(attempt_items::table.inner_join(attempts::table))
        .filter(marking_tasks::examiner_id.eq(examiner_id))
        .order((
            marking_tasks::submitted_at.is_not_null(),
            marking_tasks::due_at.asc(),
            marking_tasks::id.asc(),
        ))
        .select((
            TaskRow::as_select(),
            exams::title,
            attempts::code,
            attempt_items::position,
        ))
        .load(conn)
}

pub fn save_marks(
    conn: &mut DbConn,
    task_id: i64,
    marks_json: &str,
    total: f64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(marking_tasks::table.find(task_id))
        .set((
            marking_tasks::marks.eq(marks_json),
            marking_tasks::total.eq(total),
            marking_tasks::submitted_at.eq(now),
        ))
        .execute(conn)
}

pub fn set_final(
    conn: &mut DbConn,
    item_id: i64,
    score: f64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(attempt_items::table.find(item_id))
        .set((
            attempt_items::score.eq(score),
            attempt_items::marked_at.eq(now),
        ))
        .execute(conn)
}

/// Tasks past their due time whose examiner has not been reminded.
pub fn late_unreminded(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<TaskRow>> {
    marking_tasks::table
        .filter(marking_tasks::submitted_at.is_null())
        .filter(marking_tasks::reminded_at.is_null())
        .filter(marking_tasks::due_at.lt(now))
        .select(TaskRow::as_select())
        .load(conn)
}

pub fn mark_reminded(conn: &mut DbConn, ids: &[i64], now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        marking_tasks::table
            .filter(marking_tasks::id.eq_any(ids))
            .filter(marking_tasks::reminded_at.is_null()),
    )
    .set(marking_tasks::reminded_at.eq(now))
    .execute(conn)
}

/// Marking progress of an exam: (tasks, submitted tasks, late tasks).
pub fn task_counts(
    conn: &mut DbConn,
    exam_id: i64,
    now: NaiveDateTime,
) -> QueryResult<(i64, i64, i64)> {
    let all = marking_tasks::table
        .filter(marking_tasks::exam_id.eq(exam_id))
        .count()
        .get_result(conn)?;
    let done = marking_tasks::table
        .filter(marking_tasks::exam_id.eq(exam_id))
        .filter(marking_tasks::submitted_at.is_not_null())
        .count()
        .get_result(conn)?;
    let late = marking_tasks::table
        .filter(marking_tasks::exam_id.eq(exam_id))
        .filter(marking_tasks::submitted_at.is_null())
        .filter(marking_tasks::due_at.lt(now))
        .count()
        .get_result(conn)?;
    Ok((all, done, late))
}

/// What stops an exam's results: attempts still being taken, and items of
/// submitted attempts without a (final) score.
pub fn unfinished(conn: &mut DbConn, exam_id: i64) -> QueryResult<(i64, i64)> {
    let open = attempts::table
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::started_at.is_not_null())
        .filter(attempts::submitted_at.is_null())
        .count()
        .get_result(conn)?;
    let unmarked = attempt_items::table
        .inner_join(attempts::table)
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::submitted_at.is_not_null())
        .filter(attempt_items::score.is_null())
        .count()
        .get_result(conn)?;
    Ok((open, unmarked))
}

pub fn submitted_attempts(conn: &mut DbConn, exam_id: i64) -> QueryResult<Vec<AttemptRow>> {
    attempts::table
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::submitted_at.is_not_null())
        .select(AttemptRow::as_select())
        .load(conn)
}

pub fn release(conn: &mut DbConn, exam_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        exams::table
            .find(exam_id)
            .filter(exams::results_released_at.is_null()),
    )
    .set(exams::results_released_at.eq(now))
    .execute(conn)
}

// ----- item analysis and the committee's review -----

/// Every item of the exam's submitted attempts, with its question's key,
/// topic, kind, content and difficulty, in attempt and position order.
pub type AnalysisRow = (ItemRow, String, String, String, String, i32);

pub fn analysis_rows(conn: &mut DbConn, exam_id: i64) -> QueryResult<Vec<AnalysisRow>> {
    attempt_items::table
        .inner_join(attempts::table)
        .inner_join(question_versions::table)
        .inner_join(questions::table)
        .filter(attempts::exam_id.eq(exam_id))
        .filter(attempts::submitted_at.is_not_null())
        .order((
            attempt_items::attempt_id.asc(),
            attempt_items::position.asc(),
        ))
        .select((
            ItemRow::as_select(),
            questions::question_key,
            question_versions::topic,
            question_versions::kind,
            question_versions::content,
            question_versions::difficulty,
        ))
        .load(conn)
}

pub fn answers_of_exam(conn: &mut DbConn, exam_id: i64) -> QueryResult<Vec<AnswerRow>> {
    answers::table
        .inner_join(attempts::table)
        .filter(attempts::exam_id.eq(exam_id))
        .select(AnswerRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = question_reviews)]
pub struct ReviewRow {
    pub id: i64,
    pub exam_id: i64,
    pub question_id: i64,
    pub flags: String,
    pub status: ReviewStatus,
    pub reason: Option<String>,
    pub decided_by: Option<PersonId>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn reviews_of(conn: &mut DbConn, exam_id: i64) -> QueryResult<Vec<ReviewRow>> {
    question_reviews::table
        .filter(question_reviews::exam_id.eq(exam_id))
        .select(ReviewRow::as_select())
        .load(conn)
}

/// Opens a review of a flagged question unless it already has one.
pub fn open_review(
    conn: &mut DbConn,
    exam_id: i64,
    question_id: i64,
    flags: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let exists: i64 = question_reviews::table
        .filter(question_reviews::exam_id.eq(exam_id))
        .filter(question_reviews::question_id.eq(question_id))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(question_reviews::table)
            .values((
                question_reviews::exam_id.eq(exam_id),
                question_reviews::question_id.eq(question_id),
                question_reviews::flags.eq(flags),
                question_reviews::status.eq(ReviewStatus::Open),
                question_reviews::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn count_open_reviews(conn: &mut DbConn, exam_id: i64) -> QueryResult<i64> {
    question_reviews::table
        .filter(question_reviews::exam_id.eq(exam_id))
        .filter(question_reviews::status.eq(ReviewStatus::Open))
        .count()
        .get_result(conn)
}

/// Records the committee's decision on a question (one review per question
/// and exam; a question reviewed without a flag gets its row here).
pub fn decide_review(
    conn: &mut DbConn,
    exam_id: i64,
    question_id: i64,
    status: ReviewStatus,
    reason: &str,
    by: PersonId,
    now: NaiveDateTime,
) -> QueryResult<()> {
    open_review(conn, exam_id, question_id, "", now)?;
    diesel::update(
        question_reviews::table
            .filter(question_reviews::exam_id.eq(exam_id))
            .filter(question_reviews::question_id.eq(question_id)),
    )
    .set((
        question_reviews::status.eq(status),
        question_reviews::reason.eq(reason),
        question_reviews::decided_by.eq(by),
        question_reviews::decided_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn exclude_item(conn: &mut DbConn, item_id: i64) -> QueryResult<usize> {
    diesel::update(attempt_items::table.find(item_id))
        .set(attempt_items::excluded.eq(true))
        .execute(conn)
}

// ----- appeals -----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::store::schema::appeals)]
pub struct AppealRow {
    pub id: i64,
    pub attempt_id: i64,
    pub attempt_item_id: i64,
    pub reason: String,
    pub status: AppealStatus,
    pub mark_before: f64,
    pub mark_after: Option<f64>,
    pub outcome: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    /// The track's appeal rule the appeal was decided under.
    pub rule: Option<AppealRule>,
    /// The mark that counts after the appeal (the re-mark, or under
    /// `no_detriment` the higher of the two).
    pub mark_final: Option<f64>,
}

/// A candidate's appeal against one answer's mark (it opens `open`).
#[derive(Insertable)]
#[diesel(table_name = crate::store::schema::appeals)]
pub struct NewAppeal<'a> {
    pub attempt_id: i64,
    pub attempt_item_id: i64,
    pub reason: &'a str,
    /// The answer's mark when the appeal was made.
    pub mark_before: f64,
}

pub fn insert_appeal(conn: &mut DbConn, a: &NewAppeal, now: NaiveDateTime) -> QueryResult<usize> {
    use crate::store::schema::appeals;
    diesel::insert_into(appeals::table)
        .values((
            a,
            appeals::status.eq(AppealStatus::Open),
            appeals::created_at.eq(now),
        ))
        .execute(conn)
}

pub fn appeal_of_item(conn: &mut DbConn, item_id: i64) -> QueryResult<Option<AppealRow>> {
    use crate::store::schema::appeals;
    appeals::table
        .filter(appeals::attempt_item_id.eq(item_id))
        .select(AppealRow::as_select())
        .first(conn)
        .optional()
}

pub fn appeals_of_attempt(conn: &mut DbConn, attempt_id: i64) -> QueryResult<Vec<AppealRow>> {
    use crate::store::schema::appeals;
    appeals::table
        .filter(appeals::attempt_id.eq(attempt_id))
        .order(appeals::id.asc())
        .select(AppealRow::as_select())
        .load(conn)
}

/// How an appeal was decided: the re-mark, the mark that counts after it,
/// the rule that decided between them, and the outcome in words.
pub struct AppealDecision<'a> {
    pub mark_after: f64,
    pub mark_final: f64,
    pub rule: AppealRule,
    pub outcome: &'a str,
}

pub fn decide_appeal(
    conn: &mut DbConn,
    appeal_id: i64,
    d: &AppealDecision<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::store::schema::appeals;
    diesel::update(
        appeals::table
            .find(appeal_id)
            .filter(appeals::status.eq(AppealStatus::Open)),
    )
    .set((
        appeals::status.eq(AppealStatus::Decided),
        appeals::mark_after.eq(d.mark_after),
        appeals::mark_final.eq(d.mark_final),
        appeals::rule.eq(d.rule),
        appeals::outcome.eq(d.outcome),
        appeals::decided_at.eq(now),
    ))
    .execute(conn)
}

/// Whether any of a person's attempts at a track's exams of one stage,
/// drawn since `since`, has an open appeal.
pub fn open_appeal_in(
    conn: &mut DbConn,
    person_id: PersonId,
    track_key: &str,
    since: NaiveDateTime,
) -> QueryResult<bool> {
    use crate::store::schema::appeals;
    diesel::select(diesel::dsl::exists(
        appeals::table
            .inner_join(attempts::table.on(attempts::id.eq(appeals::attempt_id)))
            .inner_join(exams::table.on(exams::id.eq(attempts::exam_id)))
            .filter(attempts::person_id.eq(person_id))
            .filter(exams::track.eq(track_key))
            .filter(attempts::drawn_at.ge(since))
            .filter(appeals::decided_at.is_null()),
    ))
    .get_result(conn)
}

pub fn attempt_by_code(conn: &mut DbConn, code: &str) -> QueryResult<Option<AttemptRow>> {
    attempts::table
        .filter(attempts::code.eq(code))
        .select(AttemptRow::as_select())
        .first(conn)
        .optional()
}

// ----- standard setting -----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::store::schema::standard_settings)]
pub struct SettingRow {
    pub id: i64,
    pub exam_id: i64,
    pub version: i32,
    pub status: SettingStatus,
    pub cut_score: Option<f64>,
    pub approved_by: Option<PersonId>,
    pub approved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn new_setting(conn: &mut DbConn, exam_id: i64, now: NaiveDateTime) -> QueryResult<SettingRow> {
    use crate::store::schema::standard_settings as s;
    let last: Option<i32> = s::table
        .filter(s::exam_id.eq(exam_id))
        .select(diesel::dsl::max(s::version))
        .first(conn)?;
    diesel::insert_into(s::table)
        .values((
            s::exam_id.eq(exam_id),
            s::version.eq(last.unwrap_or(0) + 1),
            s::status.eq(SettingStatus::Rating),
            s::created_at.eq(now),
        ))
        .execute(conn)?;
    s::table
        .filter(s::exam_id.eq(exam_id))
        .order(s::version.desc())
        .select(SettingRow::as_select())
        .first(conn)
}

pub fn find_setting(conn: &mut DbConn, id: i64) -> QueryResult<Option<SettingRow>> {
    use crate::store::schema::standard_settings as s;
    s::table
        .find(id)
        .select(SettingRow::as_select())
        .first(conn)
        .optional()
}

/// An exam's standard-setting rounds, oldest first.
pub fn settings_of(conn: &mut DbConn, exam_id: i64) -> QueryResult<Vec<SettingRow>> {
    use crate::store::schema::standard_settings as s;
    s::table
        .filter(s::exam_id.eq(exam_id))
        .order(s::version.asc())
        .select(SettingRow::as_select())
        .load(conn)
}

pub fn save_rating(
    conn: &mut DbConn,
    setting_id: i64,
    rater_id: PersonId,
    question_id: i64,
    probability: f64,
) -> QueryResult<usize> {
    use crate::store::schema::angoff_ratings as r;
    diesel::delete(
        r::table
            .filter(r::setting_id.eq(setting_id))
            .filter(r::rater_id.eq(rater_id))
            .filter(r::question_id.eq(question_id)),
    )
    .execute(conn)?;
    diesel::insert_into(r::table)
        .values((
            r::setting_id.eq(setting_id),
            r::rater_id.eq(rater_id),
            r::question_id.eq(question_id),
            r::probability.eq(probability),
        ))
        .execute(conn)
}

pub fn ratings_of(conn: &mut DbConn, setting_id: i64) -> QueryResult<Vec<(PersonId, i64, f64)>> {
    use crate::store::schema::angoff_ratings as r;
    r::table
        .filter(r::setting_id.eq(setting_id))
        .select((r::rater_id, r::question_id, r::probability))
        .load(conn)
}

pub fn approve_setting(
    conn: &mut DbConn,
    id: i64,
    cut: f64,
    by: PersonId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::store::schema::standard_settings as s;
    diesel::update(
        s::table
            .find(id)
            .filter(s::status.eq(SettingStatus::Rating)),
    )
    .set((
        s::status.eq(SettingStatus::Approved),
        s::cut_score.eq(cut),
        s::approved_by.eq(by),
        s::approved_at.eq(now),
    ))
    .execute(conn)
}

pub fn set_pass_mark(conn: &mut DbConn, exam_id: i64, pass_mark: i32) -> QueryResult<usize> {
    diesel::update(exams::table.find(exam_id))
        .set(exams::pass_mark.eq(pass_mark))
        .execute(conn)
}

// ----- practical stations -----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::store::schema::practical_stations)]
pub struct StationRow {
    pub id: i64,
    pub track: String,
    pub title: String,
    pub version_id: i64,
    pub pass_percent: i32,
    pub created_by: Option<PersonId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::store::schema::practical_results)]
pub struct PracticalRow {
    pub id: i64,
    pub station_id: i64,
    pub person_id: PersonId,
    pub examiner_id: PersonId,
    pub marks: String,
    pub total: f64,
    pub points: i32,
    pub passed: bool,
    pub observed_at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
}

/// A skills station as an admin sets it up (its rubric is the case
/// question version's).
#[derive(Insertable)]
#[diesel(table_name = crate::store::schema::practical_stations)]
pub struct NewStation<'a> {
    pub track: &'a str,
    pub title: &'a str,
    pub version_id: i64,
    pub pass_percent: i32,
    pub created_by: PersonId,
}

pub fn insert_station(
    conn: &mut DbConn,
    station: &NewStation,
    now: NaiveDateTime,
) -> QueryResult<StationRow> {
    use crate::store::schema::practical_stations as s;
    // The inserted row itself (RETURNING; StationRow is in the table's
    // column order), not the newest one: another instance may insert a
    // station at the same moment.
    diesel::insert_into(s::table)
        .values((station, s::created_at.eq(now)))
        .get_result(conn)
}

pub fn find_station(conn: &mut DbConn, id: i64) -> QueryResult<Option<StationRow>> {
    use crate::store::schema::practical_stations as s;
    s::table
        .find(id)
        .select(StationRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_practical(
    conn: &mut DbConn,
    station_id: i64,
    person_id: PersonId,
) -> QueryResult<Option<PracticalRow>> {
    use crate::store::schema::practical_results as r;
    r::table
        .filter(r::station_id.eq(station_id))
        .filter(r::person_id.eq(person_id))
        .select(PracticalRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Insertable)]
#[diesel(table_name = crate::store::schema::practical_results)]
pub struct NewPractical<'a> {
    pub station_id: i64,
    pub person_id: PersonId,
    pub examiner_id: PersonId,
    pub marks: &'a str,
    pub total: f64,
    pub points: i32,
    pub passed: bool,
    pub observed_at: NaiveDateTime,
}

/// Records (or, by its own examiner, corrects) a candidate's result at a
/// station.
pub fn save_practical(
    conn: &mut DbConn,
    p: &NewPractical<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use crate::store::schema::practical_results as r;
    diesel::delete(
        r::table
            .filter(r::station_id.eq(p.station_id))
            .filter(r::person_id.eq(p.person_id)),
    )
    .execute(conn)?;
    diesel::insert_into(r::table)
        .values((p, r::recorded_at.eq(now)))
        .execute(conn)
}

pub fn practicals_of(
    conn: &mut DbConn,
    person_id: PersonId,
) -> QueryResult<Vec<(PracticalRow, StationRow)>> {
    use crate::store::schema::{practical_results as r, practical_stations as s};
    r::table
        .inner_join(s::table)
        .filter(r::person_id.eq(person_id))
        .order(r::observed_at.asc())
        .select((PracticalRow::as_select(), StationRow::as_select()))
        .load(conn)
}

/// The exams whose submitted papers drew a question.
pub fn exams_with_question(conn: &mut DbConn, question_id: i64) -> QueryResult<Vec<i64>> {
    attempt_items::table
        .inner_join(attempts::table)
        .filter(attempt_items::question_id.eq(question_id))
        .filter(attempts::submitted_at.is_not_null())
        .select(attempts::exam_id)
        .distinct()
        .order(attempts::exam_id.asc())
        .load(conn)
}

pub fn list_stations(conn: &mut DbConn) -> QueryResult<Vec<StationRow>> {
    use crate::store::schema::practical_stations as s;
    s::table
        .order(s::id.asc())
        .select(StationRow::as_select())
        .load(conn)
}
