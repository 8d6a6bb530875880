//! Queries for training: tracks and their workshops, courses with modules,
//! lessons and media, enrolments, lesson progress, module quizzes, workshop
//! sessions and sign-ups.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::courses::{CourseMeta, ModuleSpec, TrackSpec, WorkshopSpec};
use crate::domain::grading::AppealRule;
use crate::domain::ids::PersonId;
use crate::domain::scoring::ChoiceScoring;
use crate::domain::training::SignupStatus;
use crate::store::DbConn;
use crate::store::schema::{
    course_media, course_modules, courses, enrolments, lesson_progress, lessons, people,
    quiz_attempts, session_signups, track_courses, tracks, workshop_sessions, workshops,
};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tracks)]
pub struct TrackRow {
    pub id: i64,
    pub track_key: String,
    pub title: String,
    pub description: String,
    pub validity_months: i32,
    pub renewal_credit_hours: f64,
    pub sample: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The credential number's code (e.g. PAED).
    pub code: String,
    /// Attempts at each exam stage of a case before it is rejected.
    pub stage_attempts: i32,
    /// Days between a failed stage attempt and the next.
    pub retake_wait_days: i32,
    /// Days after a rejected case before a new case may start.
    pub cooloff_days: i32,
    /// Whether the case assessment includes a practical station.
    pub requires_practical: bool,
    /// Committee votes a decision needs.
    pub quorum: i32,
    /// Percent of inappropriate referrals past which a doctor is flagged.
    pub inappropriate_threshold: i32,
    /// Rated referrals needed before a doctor can be flagged.
    pub flag_min_rated: i32,
    /// What an appeal's re-mark does: `remark_stands` or `no_detriment`.
    pub appeal_rule: AppealRule,
    /// How the track's exams score choice questions with weights.
    pub choice_scoring: ChoiceScoring,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = courses)]
pub struct CourseRow {
    pub id: i64,
    pub course_key: String,
    pub title: String,
    pub summary: String,
    pub language: String,
    pub credit_hours: f64,
    pub sample: bool,
    pub published: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = course_modules)]
pub struct ModuleRow {
    pub id: i64,
    pub course_id: i64,
    pub module_key: String,
    pub position: i32,
    pub title: String,
    pub quiz_topics: String,
    pub quiz_questions: i32,
    pub quiz_pass_percent: i32,
    pub retired_at: Option<NaiveDateTime>,
}

impl ModuleRow {
    pub fn has_quiz(&self) -> bool {
        self.quiz_questions > 0
    }

    pub fn topics(&self) -> Vec<String> {
        self.quiz_topics
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lessons)]
pub struct LessonRow {
    pub id: i64,
    pub course_id: i64,
    pub module_id: i64,
    pub lesson_key: String,
    pub position: i32,
    pub title: String,
    pub minutes: i32,
    pub video_url: Option<String>,
    pub body_markdown: String,
    pub body_html: String,
    pub content_hash: String,
    pub version: i32,
    pub retired_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// A lesson without its text, for outlines and progress.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lessons)]
pub struct LessonHead {
    pub id: i64,
    pub course_id: i64,
    pub module_id: i64,
    pub lesson_key: String,
    pub position: i32,
    pub title: String,
    pub minutes: i32,
    pub version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workshops)]
pub struct WorkshopRow {
    pub id: i64,
    pub track_id: i64,
    pub workshop_key: String,
    pub title: String,
    pub description: String,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workshop_sessions)]
pub struct SessionRow {
    pub id: i64,
    pub workshop_id: i64,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub place: String,
    pub capacity: i32,
    pub instructor_id: PersonId,
    pub reminders_sent_at: Option<NaiveDateTime>,
    pub created_by: Option<PersonId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = session_signups)]
pub struct SignupRow {
    pub id: i64,
    pub session_id: i64,
    pub person_id: PersonId,
    pub status: SignupStatus,
    pub joined_at: NaiveDateTime,
    pub changed_at: NaiveDateTime,
    pub attended: Option<bool>,
    pub attendance_by: Option<PersonId>,
    pub attendance_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = quiz_attempts)]
pub struct QuizRow {
    pub id: i64,
    pub person_id: PersonId,
    pub module_id: i64,
    pub items: String,
    pub answers: Option<String>,
    pub score: Option<i32>,
    pub max_score: i32,
    pub passed: Option<bool>,
    pub started_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enrolments)]
pub struct EnrolmentRow {
    pub id: i64,
    pub person_id: PersonId,
    pub track_id: i64,
    pub enrolled_at: NaiveDateTime,
    pub enrolled_by: Option<PersonId>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = course_media)]
pub struct MediaRow {
    pub id: i64,
    pub course_id: i64,
    pub name: String,
    pub content_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
    pub created_at: NaiveDateTime,
}

// ----- tracks -----

pub fn find_track(conn: &mut DbConn, key: &str) -> QueryResult<Option<TrackRow>> {
    tracks::table
        .filter(tracks::track_key.eq(key))
        .select(TrackRow::as_select())
        .first(conn)
        .optional()
}

/// How a track's exams score choice questions with weights; `None` when
/// no track of that key is loaded.
pub fn choice_scoring(conn: &mut DbConn, key: &str) -> QueryResult<Option<ChoiceScoring>> {
    tracks::table
        .filter(tracks::track_key.eq(key))
        .select(tracks::choice_scoring)
        .first(conn)
        .optional()
}

pub fn find_track_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<TrackRow>> {
    tracks::table
        .find(id)
        .select(TrackRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_tracks(conn: &mut DbConn) -> QueryResult<Vec<TrackRow>> {
    tracks::table
        .order(tracks::track_key.asc())
        .select(TrackRow::as_select())
        .load(conn)
}

/// Inserts or updates a track by its key.
pub fn save_track(
    conn: &mut DbConn,
    spec: &TrackSpec,
    now: NaiveDateTime,
) -> QueryResult<TrackRow> {
    let values = (
        tracks::title.eq(&spec.title),
        tracks::description.eq(&spec.description),
        tracks::validity_months.eq(super::int_column(spec.validity_months)?),
        tracks::renewal_credit_hours.eq(spec.renewal_credit_hours),
        tracks::sample.eq(spec.sample),
        tracks::updated_at.eq(now),
    );
    match find_track(conn, &spec.key)? {
        Some(existing) => diesel::update(tracks::table.find(existing.id))
            .set(values)
            .get_result(conn),
        None => diesel::insert_into(tracks::table)
            .values((
                values,
                tracks::track_key.eq(&spec.key),
                tracks::code.eq(crate::domain::committee::default_track_code(&spec.key)),
                tracks::created_at.eq(now),
            ))
            .get_result(conn),
    }
}

/// A track's policy, as the committee sets it (validated).
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = tracks)]
pub struct PolicyValues {
    pub code: String,
    pub validity_months: i32,
    pub renewal_credit_hours: f64,
    pub stage_attempts: i32,
    pub retake_wait_days: i32,
    pub cooloff_days: i32,
    pub requires_practical: bool,
    pub quorum: i32,
    pub inappropriate_threshold: i32,
    pub flag_min_rated: i32,
    pub appeal_rule: AppealRule,
    pub choice_scoring: ChoiceScoring,
}

pub fn set_policy(
    conn: &mut DbConn,
    track_id: i64,
    p: &PolicyValues,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(tracks::table.find(track_id))
        .set((p, tracks::updated_at.eq(now)))
        .execute(conn)
}

/// Replaces the list of courses a track requires.
pub fn set_track_courses(conn: &mut DbConn, track_id: i64, course_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(track_courses::table.filter(track_courses::track_id.eq(track_id)))
        .execute(conn)?;
    for (position, course_id) in course_ids.iter().enumerate() {
        diesel::insert_into(track_courses::table)
            .values((
                track_courses::track_id.eq(track_id),
                track_courses::course_id.eq(course_id),
                track_courses::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The courses a track requires, in order.
pub fn courses_of_track(conn: &mut DbConn, track_id: i64) -> QueryResult<Vec<CourseRow>> {
    track_courses::table
        .inner_join(courses::table)
        .filter(track_courses::track_id.eq(track_id))
        .order(track_courses::position.asc())
        .select(CourseRow::as_select())
        .load(conn)
}

/// The tracks that require a course.
pub fn tracks_of_course(conn: &mut DbConn, course_id: i64) -> QueryResult<Vec<TrackRow>> {
    track_courses::table
        .inner_join(tracks::table)
        .filter(track_courses::course_id.eq(course_id))
        .order(tracks::track_key.asc())
        .select(TrackRow::as_select())
        .load(conn)
}

/// Brings a track's workshops in line with its file: new ones are added,
/// changed ones updated, missing ones retired (their sessions and
/// attendance stay on record).
pub fn save_workshops(
    conn: &mut DbConn,
    track_id: i64,
    specs: &[WorkshopSpec],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let existing: Vec<WorkshopRow> = workshops::table
        .filter(workshops::track_id.eq(track_id))
        .select(WorkshopRow::as_select())
        .load(conn)?;
    for spec in specs {
        match existing.iter().find(|w| w.workshop_key == spec.key) {
            Some(w) => {
                diesel::update(workshops::table.find(w.id))
                    .set((
                        workshops::title.eq(&spec.title),
                        workshops::description.eq(&spec.description),
                        workshops::retired_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(workshops::table)
                    .values((
                        workshops::track_id.eq(track_id),
                        workshops::workshop_key.eq(&spec.key),
                        workshops::title.eq(&spec.title),
                        workshops::description.eq(&spec.description),
                    ))
                    .execute(conn)?;
            }
        }
    }
    let keep: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
    diesel::update(
        workshops::table
            .filter(workshops::track_id.eq(track_id))
            .filter(workshops::workshop_key.ne_all(keep))
            .filter(workshops::retired_at.is_null()),
    )
    .set(workshops::retired_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// A track's current (required) workshops.
pub fn workshops_of(conn: &mut DbConn, track_id: i64) -> QueryResult<Vec<WorkshopRow>> {
    workshops::table
        .filter(workshops::track_id.eq(track_id))
        .filter(workshops::retired_at.is_null())
        .order(workshops::id.asc())
        .select(WorkshopRow::as_select())
        .load(conn)
}

pub fn find_workshop(conn: &mut DbConn, id: i64) -> QueryResult<Option<WorkshopRow>> {
    workshops::table
        .find(id)
        .select(WorkshopRow::as_select())
        .first(conn)
        .optional()
}

// ----- courses -----

pub fn find_course(conn: &mut DbConn, key: &str) -> QueryResult<Option<CourseRow>> {
    courses::table
        .filter(courses::course_key.eq(key))
        .select(CourseRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_course_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<CourseRow>> {
    courses::table
        .find(id)
        .select(CourseRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_courses(conn: &mut DbConn, published_only: bool) -> QueryResult<Vec<CourseRow>> {
    let mut query = courses::table
        .order(courses::title.asc())
        .select(CourseRow::as_select())
        .into_boxed();
    if published_only {
        query = query.filter(courses::published.eq(true));
    }
    query.load(conn)
}

/// Inserts or updates a course's own fields by its key. A new course starts
/// at version 1; `bump_version` marks a change of its content.
pub fn save_course(
    conn: &mut DbConn,
    meta: &CourseMeta,
    now: NaiveDateTime,
) -> QueryResult<CourseRow> {
    let values = (
        courses::title.eq(&meta.title),
        courses::summary.eq(&meta.summary),
        courses::language.eq(&meta.language),
        courses::credit_hours.eq(meta.credit_hours),
        courses::sample.eq(meta.sample),
        courses::published.eq(meta.published),
    );
    match find_course(conn, &meta.key)? {
        Some(existing) => diesel::update(courses::table.find(existing.id))
            .set(values)
            .get_result(conn),
        None => diesel::insert_into(courses::table)
            .values((
                values,
                courses::course_key.eq(&meta.key),
                courses::version.eq(1),
                courses::created_at.eq(now),
                courses::updated_at.eq(now),
            ))
            .get_result(conn),
    }
}

pub fn bump_version(conn: &mut DbConn, course_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(courses::table.find(course_id))
        .set((
            courses::version.eq(courses::version + 1),
            courses::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A course's current modules, in order.
pub fn modules_of(conn: &mut DbConn, course_id: i64) -> QueryResult<Vec<ModuleRow>> {
    course_modules::table
        .filter(course_modules::course_id.eq(course_id))
        .filter(course_modules::retired_at.is_null())
        .order(course_modules::position.asc())
        .select(ModuleRow::as_select())
        .load(conn)
}

pub fn find_module(conn: &mut DbConn, id: i64) -> QueryResult<Option<ModuleRow>> {
    course_modules::table
        .find(id)
        .select(ModuleRow::as_select())
        .first(conn)
        .optional()
}

/// Inserts or updates a module by its key within the course; returns the row
/// and whether anything changed.
pub fn save_module(
    conn: &mut DbConn,
    course_id: i64,
    spec: &ModuleSpec,
    position: i32,
) -> QueryResult<(ModuleRow, bool)> {
    let (topics, questions, pass) = match &spec.quiz {
        Some(q) => (
            q.topics.join(","),
            super::int_column(q.questions)?,
            super::int_column(q.pass_percent)?,
        ),
        None => (String::new(), 0, 0),
    };
    let existing: Option<ModuleRow> = course_modules::table
        .filter(course_modules::course_id.eq(course_id))
        .filter(course_modules::module_key.eq(&spec.key))
        .select(ModuleRow::as_select())
        .first(conn)
        .optional()?;
    let values = (
        course_modules::position.eq(position),
        course_modules::title.eq(&spec.title),
        course_modules::quiz_topics.eq(&topics),
        course_modules::quiz_questions.eq(questions),
        course_modules::quiz_pass_percent.eq(pass),
        course_modules::retired_at.eq(None::<NaiveDateTime>),
    );
    match existing {
        Some(m) => {
            let changed = m.position != position
                || m.title != spec.title
                || m.quiz_topics != topics
                || m.quiz_questions != questions
                || m.quiz_pass_percent != pass
                || m.retired_at.is_some();
            let row = diesel::update(course_modules::table.find(m.id))
                .set(values)
                .get_result(conn)?;
            Ok((row, changed))
        }
        None => {
            let row = diesel::insert_into(course_modules::table)
                .values((
                    values,
                    course_modules::course_id.eq(course_id),
                    course_modules::module_key.eq(&spec.key),
                ))
                .get_result(conn)?;
            Ok((row, true))
        }
    }
}

/// Retires the course's modules not in `keep`; returns how many.
pub fn retire_modules_except(
    conn: &mut DbConn,
    course_id: i64,
    keep: &[i64],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        course_modules::table
            .filter(course_modules::course_id.eq(course_id))
            .filter(course_modules::id.ne_all(keep))
            .filter(course_modules::retired_at.is_null()),
    )
    .set(course_modules::retired_at.eq(now))
    .execute(conn)
}

/// The fields a lesson is written with (its course and key name it, so an
/// update leaves them; a missing video is written as NULL).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = lessons, treat_none_as_null = true)]
pub struct LessonWrite<'a> {
    #[diesel(skip_update)]
    pub course_id: i64,
    pub module_id: i64,
    #[diesel(column_name = lesson_key, skip_update)]
    pub key: &'a str,
    pub position: i32,
    pub title: &'a str,
    pub minutes: i32,
    pub video_url: Option<&'a str>,
    #[diesel(column_name = body_markdown)]
    pub markdown: &'a str,
    #[diesel(column_name = body_html)]
    pub html: &'a str,
    pub content_hash: &'a str,
}

/// Inserts or updates a lesson by its key within the course. Its version
/// goes up only when its content changed, so progress on an unchanged
/// lesson is kept. Returns the row and whether anything changed.
pub fn save_lesson(
    conn: &mut DbConn,
    lesson: &LessonWrite<'_>,
    now: NaiveDateTime,
) -> QueryResult<(LessonRow, bool)> {
    let existing: Option<LessonRow> = lessons::table
        .filter(lessons::course_id.eq(lesson.course_id))
        .filter(lessons::lesson_key.eq(lesson.key))
        .select(LessonRow::as_select())
        .first(conn)
        .optional()?;
    match existing {
        Some(row) => {
            let content_changed = row.content_hash != lesson.content_hash;
            let moved = row.module_id != lesson.module_id || row.position != lesson.position;
            if !content_changed && !moved && row.retired_at.is_none() {
                return Ok((row, false));
            }
            let version = if content_changed {
                row.version + 1
            } else {
                row.version
            };
            let row = diesel::update(lessons::table.find(row.id))
                .set((
                    lesson,
                    lessons::version.eq(version),
                    lessons::retired_at.eq(None::<NaiveDateTime>),
                    lessons::updated_at.eq(now),
                ))
                .get_result(conn)?;
            Ok((row, true))
        }
        None => {
            let row = diesel::insert_into(lessons::table)
                .values((lesson, lessons::version.eq(1), lessons::updated_at.eq(now)))
                .get_result(conn)?;
            Ok((row, true))
        }
    }
}

/// Retires the course's lessons not in `keep`; returns how many.
pub fn retire_lessons_except(
    conn: &mut DbConn,
    course_id: i64,
    keep: &[i64],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        lessons::table
            .filter(lessons::course_id.eq(course_id))
            .filter(lessons::id.ne_all(keep))
            .filter(lessons::retired_at.is_null()),
    )
    .set(lessons::retired_at.eq(now))
    .execute(conn)
}

/// The current lessons of some courses, without their text, in module and
/// lesson order.
pub fn lesson_heads(conn: &mut DbConn, course_ids: &[i64]) -> QueryResult<Vec<LessonHead>> {
    lessons::table
        .inner_join(course_modules::table)
        .filter(lessons::course_id.eq_any(course_ids))
        .filter(lessons::retired_at.is_null())
        .filter(course_modules::retired_at.is_null())
        .order((
            lessons::course_id.asc(),
            course_modules::position.asc(),
            lessons::position.asc(),
        ))
        .select(LessonHead::as_select())
        .load(conn)
}

/// The current modules of some courses, in order.
pub fn modules_of_courses(conn: &mut DbConn, course_ids: &[i64]) -> QueryResult<Vec<ModuleRow>> {
    course_modules::table
        .filter(course_modules::course_id.eq_any(course_ids))
        .filter(course_modules::retired_at.is_null())
        .order((
            course_modules::course_id.asc(),
            course_modules::position.asc(),
        ))
        .select(ModuleRow::as_select())
        .load(conn)
}

/// A current lesson by its course and key.
pub fn find_lesson(conn: &mut DbConn, course_id: i64, key: &str) -> QueryResult<Option<LessonRow>> {
    lessons::table
        .filter(lessons::course_id.eq(course_id))
        .filter(lessons::lesson_key.eq(key))
        .filter(lessons::retired_at.is_null())
        .select(LessonRow::as_select())
        .first(conn)
        .optional()
}

// ----- media -----

pub fn save_media(
    conn: &mut DbConn,
    course_id: i64,
    name: &str,
    content_type: &str,
    digest: &str,
    bytes: &[u8],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        course_media::table
            .filter(course_media::course_id.eq(course_id))
            .filter(course_media::name.eq(name)),
    )
    .execute(conn)?;
    diesel::insert_into(course_media::table)
        .values((
            course_media::course_id.eq(course_id),
            course_media::name.eq(name),
            course_media::content_type.eq(content_type),
            course_media::digest.eq(digest),
            course_media::bytes.eq(bytes),
            course_media::created_at.eq(now),
        ))
        .execute(conn)
}

pub fn find_media(conn: &mut DbConn, course_id: i64, name: &str) -> QueryResult<Option<MediaRow>> {
    course_media::table
        .filter(course_media::course_id.eq(course_id))
        .filter(course_media::name.eq(name))
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}

// ----- enrolments and progress -----

/// Enrols a doctor in a track; returns false if they already were.
pub fn enrol(
    conn: &mut DbConn,
    person_id: PersonId,
    track_id: i64,
    by: Option<PersonId>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if find_enrolment(conn, person_id, track_id)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(enrolments::table)
        .values((
            enrolments::person_id.eq(person_id),
            enrolments::track_id.eq(track_id),
            enrolments::enrolled_at.eq(now),
            enrolments::enrolled_by.eq(by),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn find_enrolment(
    conn: &mut DbConn,
    person_id: PersonId,
    track_id: i64,
) -> QueryResult<Option<EnrolmentRow>> {
    enrolments::table
        .filter(enrolments::person_id.eq(person_id))
        .filter(enrolments::track_id.eq(track_id))
        .select(EnrolmentRow::as_select())
        .first(conn)
        .optional()
}

/// The tracks a doctor is enrolled in.
pub fn enrolments_of(
    conn: &mut DbConn,
    person_id: PersonId,
) -> QueryResult<Vec<(EnrolmentRow, TrackRow)>> {
    enrolments::table
        .inner_join(tracks::table)
        .filter(enrolments::person_id.eq(person_id))
        .order(tracks::track_key.asc())
        .select((EnrolmentRow::as_select(), TrackRow::as_select()))
        .load(conn)
}

/// Records that a lesson was studied at a version (a later study of a newer
/// version replaces it).
pub fn mark_studied(
    conn: &mut DbConn,
    person_id: PersonId,
    lesson_id: i64,
    version: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let existing: Option<i32> = lesson_progress::table
        .filter(lesson_progress::person_id.eq(person_id))
        .filter(lesson_progress::lesson_id.eq(lesson_id))
        .select(lesson_progress::version)
        .first(conn)
        .optional()?;
    match existing {
        Some(v) if v == version => {}
        Some(_) => {
            diesel::update(
                lesson_progress::table
                    .filter(lesson_progress::person_id.eq(person_id))
                    .filter(lesson_progress::lesson_id.eq(lesson_id)),
            )
            .set((
                lesson_progress::version.eq(version),
                lesson_progress::studied_at.eq(now),
            ))
            .execute(conn)?;
        }
        None => {
            diesel::insert_into(lesson_progress::table)
                .values((
                    lesson_progress::person_id.eq(person_id),
                    lesson_progress::lesson_id.eq(lesson_id),
                    lesson_progress::version.eq(version),
                    lesson_progress::studied_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The version at which the doctor studied each of the lessons, and when.
pub fn studied(
    conn: &mut DbConn,
    person_id: PersonId,
    lesson_ids: &[i64],
) -> QueryResult<HashMap<i64, (i32, NaiveDateTime)>> {
    let rows: Vec<(i64, i32, NaiveDateTime)> = lesson_progress::table
        .filter(lesson_progress::person_id.eq(person_id))
        .filter(lesson_progress::lesson_id.eq_any(lesson_ids))
        .select((
            lesson_progress::lesson_id,
            lesson_progress::version,
            lesson_progress::studied_at,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, v, at)| (id, (v, at))).collect())
}

// ----- quizzes -----

pub fn create_quiz(
    conn: &mut DbConn,
    person_id: PersonId,
    module_id: i64,
    items_json: &str,
    max_score: i32,
    now: NaiveDateTime,
) -> QueryResult<QuizRow> {
    diesel::insert_into(quiz_attempts::table)
        .values((
            quiz_attempts::person_id.eq(person_id),
            quiz_attempts::module_id.eq(module_id),
            quiz_attempts::items.eq(items_json),
            quiz_attempts::max_score.eq(max_score),
            quiz_attempts::started_at.eq(now),
        ))
        .get_result(conn)
}

pub fn find_quiz(conn: &mut DbConn, id: i64) -> QueryResult<Option<QuizRow>> {
    quiz_attempts::table
        .find(id)
        .select(QuizRow::as_select())
        .first(conn)
        .optional()
}

/// Records a quiz's answers and result, once: returns 0 if it was already
/// submitted.
pub fn submit_quiz(
    conn: &mut DbConn,
    id: i64,
    answers_json: &str,
    score: i32,
    passed: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        quiz_attempts::table
            .find(id)
            .filter(quiz_attempts::submitted_at.is_null()),
    )
    .set((
        quiz_attempts::answers.eq(answers_json),
        quiz_attempts::score.eq(score),
        quiz_attempts::passed.eq(passed),
        quiz_attempts::submitted_at.eq(now),
    ))
    .execute(conn)
}

/// The modules (of those given) whose quiz the doctor has passed.
pub fn passed_modules(
    conn: &mut DbConn,
    person_id: PersonId,
    module_ids: &[i64],
) -> QueryResult<HashSet<i64>> {
    let ids: Vec<i64> = quiz_attempts::table
        .filter(quiz_attempts::person_id.eq(person_id))
        .filter(quiz_attempts::module_id.eq_any(module_ids))
        .filter(quiz_attempts::passed.eq(true))
        .select(quiz_attempts::module_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().collect())
}

/// A doctor's submitted quizzes, newest first.
pub fn quizzes_of(conn: &mut DbConn, person_id: PersonId) -> QueryResult<Vec<QuizRow>> {
    quiz_attempts::table
        .filter(quiz_attempts::person_id.eq(person_id))
        .filter(quiz_attempts::submitted_at.is_not_null())
        .order(quiz_attempts::submitted_at.desc())
        .select(QuizRow::as_select())
        .load(conn)
}

// ----- workshop sessions -----

#[derive(Insertable)]
#[diesel(table_name = workshop_sessions)]
pub struct NewSession<'a> {
    pub workshop_id: i64,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub place: &'a str,
    pub capacity: i32,
    pub instructor_id: PersonId,
    pub created_by: PersonId,
}

pub fn create_session(
    conn: &mut DbConn,
    s: &NewSession<'_>,
    now: NaiveDateTime,
) -> QueryResult<SessionRow> {
    diesel::insert_into(workshop_sessions::table)
        .values((s, workshop_sessions::created_at.eq(now)))
        .get_result(conn)
}

pub fn find_session(conn: &mut DbConn, id: i64) -> QueryResult<Option<SessionRow>> {
    workshop_sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Reads a session for changing its places. On PostgreSQL the row is locked
/// until the transaction ends, so two sign-ups for the last place are taken
/// one after the other; SQLite's single writer already does that.
pub fn lock_session(conn: &mut DbConn, id: i64) -> QueryResult<Option<SessionRow>> {
    match conn {
        DbConn::Postgres(pg) => workshop_sessions::table
            .find(id)
            .select(SessionRow::as_select())
            .for_update()
            .first(pg)
            .optional(),
        DbConn::Sqlite(_) => find_session(conn, id),
    }
}

/// Every session with its workshop, soonest first.
pub fn sessions_with_workshops(
    conn: &mut DbConn,
    from: Option<NaiveDateTime>,
) -> QueryResult<Vec<(SessionRow, WorkshopRow)>> {
    let mut query = workshop_sessions::table
        .inner_join(workshops::table)
        .order(workshop_sessions::starts_at.asc())
        .select((SessionRow::as_select(), WorkshopRow::as_select()))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(workshop_sessions::ends_at.ge(from));
    }
    query.load(conn)
}

pub fn signups_of(conn: &mut DbConn, session_id: i64) -> QueryResult<Vec<(SignupRow, String)>> {
    session_signups::table
        .inner_join(people::table)
        .filter(session_signups::session_id.eq(session_id))
        .order(session_signups::joined_at.asc())
        .select((SignupRow::as_select(), people::name))
        .load(conn)
}

pub fn find_signup(
    conn: &mut DbConn,
    session_id: i64,
    person_id: PersonId,
) -> QueryResult<Option<SignupRow>> {
    session_signups::table
        .filter(session_signups::session_id.eq(session_id))
        .filter(session_signups::person_id.eq(person_id))
        .select(SignupRow::as_select())
        .first(conn)
        .optional()
}

/// A doctor's sign-ups, with their sessions and workshops.
pub fn signups_of_person(
    conn: &mut DbConn,
    person_id: PersonId,
) -> QueryResult<Vec<(SignupRow, SessionRow, WorkshopRow)>> {
    session_signups::table
        .inner_join(workshop_sessions::table.inner_join(workshops::table))
        .filter(session_signups::person_id.eq(person_id))
        .order(workshop_sessions::starts_at.asc())
        .select((
            SignupRow::as_select(),
            SessionRow::as_select(),
            WorkshopRow::as_select(),
        ))
        .load(conn)
}

pub fn count_status(conn: &mut DbConn, session_id: i64, status: SignupStatus) -> QueryResult<i64> {
    session_signups::table
        .filter(session_signups::session_id.eq(session_id))
        .filter(session_signups::status.eq(status))
        .count()
        .get_result(conn)
}

/// The waiting list, first come first.
pub fn waiting_in_order(conn: &mut DbConn, session_id: i64) -> QueryResult<Vec<i64>> {
    session_signups::table
        .filter(session_signups::session_id.eq(session_id))
        .filter(session_signups::status.eq(SignupStatus::Waiting))
        .order((session_signups::joined_at.asc(), session_signups::id.asc()))
        .select(session_signups::id)
        .load(conn)
}

/// Signs a doctor up (or back up, after a cancellation, at the end of the
/// list).
pub fn upsert_signup(
    conn: &mut DbConn,
    session_id: i64,
    person_id: PersonId,
    status: SignupStatus,
    now: NaiveDateTime,
) -> QueryResult<SignupRow> {
    match find_signup(conn, session_id, person_id)? {
        Some(existing) => diesel::update(session_signups::table.find(existing.id))
            .set((
                session_signups::status.eq(status),
                session_signups::joined_at.eq(now),
                session_signups::changed_at.eq(now),
            ))
            .get_result(conn),
        None => diesel::insert_into(session_signups::table)
            .values((
                session_signups::session_id.eq(session_id),
                session_signups::person_id.eq(person_id),
                session_signups::status.eq(status),
                session_signups::joined_at.eq(now),
                session_signups::changed_at.eq(now),
            ))
            .get_result(conn),
    }
}

pub fn set_signup_status(
    conn: &mut DbConn,
    ids: &[i64],
    status: SignupStatus,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(session_signups::table.filter(session_signups::id.eq_any(ids)))
        .set((
            session_signups::status.eq(status),
            session_signups::changed_at.eq(now),
        ))
        .execute(conn)
}

pub fn record_attendance(
    conn: &mut DbConn,
    signup_id: i64,
    attended: bool,
    by: PersonId,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(session_signups::table.find(signup_id))
        .set((
            session_signups::attended.eq(attended),
            session_signups::attendance_by.eq(by),
            session_signups::attendance_at.eq(now),
        ))
        .execute(conn)
}

/// The workshops (of those given) the doctor attended a session of.
pub fn attended_workshops(
    conn: &mut DbConn,
    person_id: PersonId,
    workshop_ids: &[i64],
) -> QueryResult<HashSet<i64>> {
    let ids: Vec<i64> = session_signups::table
        .inner_join(workshop_sessions::table)
        .filter(session_signups::person_id.eq(person_id))
        .filter(session_signups::attended.eq(true))
        .filter(workshop_sessions::workshop_id.eq_any(workshop_ids))
        .select(workshop_sessions::workshop_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().collect())
}

/// Sessions starting within the next day whose reminders have not gone out.
pub fn sessions_due_reminders(
    conn: &mut DbConn,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<(SessionRow, WorkshopRow)>> {
    workshop_sessions::table
        .inner_join(workshops::table)
        .filter(workshop_sessions::reminders_sent_at.is_null())
        .filter(workshop_sessions::starts_at.gt(now))
        .filter(workshop_sessions::starts_at.le(until))
        .select((SessionRow::as_select(), WorkshopRow::as_select()))
        .load(conn)
}

/// Marks a session's reminders as sent; returns 0 if another instance did.
pub fn mark_reminded(conn: &mut DbConn, session_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        workshop_sessions::table
            .find(session_id)
            .filter(workshop_sessions::reminders_sent_at.is_null()),
    )
    .set(workshop_sessions::reminders_sent_at.eq(now))
    .execute(conn)
}

/// The doctors of an institution, for its training records.
pub fn doctors_of_institution(
    conn: &mut DbConn,
    institution_id: i64,
) -> QueryResult<Vec<(PersonId, String, String)>> {
    people::table
        .filter(people::institution_id.eq(Some(institution_id)))
        .order(people::name.asc())
        .select((people::id, people::name, people::email))
        .load(conn)
}

/// Lessons studied (latest study of each) and quizzes submitted since
/// `since`.
pub fn completions_since(conn: &mut DbConn, since: NaiveDateTime) -> QueryResult<(i64, i64)> {
    let lessons = lesson_progress::table
        .filter(lesson_progress::studied_at.ge(since))
        .count()
        .get_result(conn)?;
    let quizzes = quiz_attempts::table
        .filter(quiz_attempts::submitted_at.ge(since))
        .count()
        .get_result(conn)?;
    Ok((lessons, quizzes))
}
