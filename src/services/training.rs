//! Learning: the open library, enrolment in tracks, studying lessons, module
//! quizzes with instant feedback, workshop sessions with a waiting list and
//! attendance, and the training record. Whether training is complete is
//! decided by `domain::training::training_completion` over the evidence
//! gathered by `services::evidence::track_training`, the one place the
//! pages, the API and the pipeline get it from.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;
use serde::Serialize;

use crate::domain::access::Permission;
use crate::domain::banks::{Body, Content};
use crate::domain::dates;
use crate::domain::locale::Locale;
use crate::domain::scoring::{self, ShownAnswer};
use crate::domain::spreadsheet::Csv;
use crate::domain::training::{self, CourseEvidence, QuizCandidate, QuizItem, SignupStatus, Todo};
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, evidence, person, pipeline, refuse, require};
use crate::store::training::{
    self as store_training, CourseRow, LessonHead, ModuleRow, NewSession, SessionRow, TrackRow,
    WorkshopRow,
};
use crate::store::{self, Db, DbConn, banks as store_banks, institutions, people};

use super::utc;

fn may_manage(caller: &Caller) -> bool {
    crate::domain::access::permits(&caller.principal, Permission::ManageTraining)
}

/// The person whose training a caller asks about: themselves, or (for an
/// admin) anyone. A refusal is audited.
async fn subject(ctx: &Ctx, caller: &Caller, person_id: Option<i64>) -> Result<i64> {
    let me = person(ctx, caller).await?.id;
    match person_id {
        None => Ok(me),
        Some(id) if id == me => Ok(me),
        Some(id) => {
            require(ctx, caller, Permission::ManageTraining).await?;
            Ok(id)
        }
    }
}

// ----- views -----

/// A certification track (e.g. the paediatrics alliance doctor).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrackSummary {
    /// The track's key, used in paths (`/tracks/{key}/…`).
    pub key: String,
    /// Its title.
    pub title: String,
    /// What the track certifies, in the author's words.
    pub description: String,
    /// How long a credential of this track is valid, in months.
    pub validity_months: i32,
    /// Continuing-education credit hours needed to renew a credential.
    pub renewal_credit_hours: f64,
    /// True for the sample content shipped with Gatekeeper, awaiting the committee's
    /// review.
    pub sample: bool,
    /// Whether the caller is enrolled in it.
    pub enrolled: bool,
}

fn summary(track: &TrackRow, enrolled: bool) -> TrackSummary {
    TrackSummary {
        key: track.track_key.clone(),
        title: track.title.clone(),
        description: track.description.clone(),
        validity_months: track.validity_months,
        renewal_credit_hours: track.renewal_credit_hours,
        sample: track.sample,
        enrolled,
    }
}

/// A lesson of a module, with whether the doctor has studied it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonItem {
    /// The lesson's key, used in paths.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Its reading time, in minutes.
    pub minutes: i32,
    /// The lesson's current version: what `POST …/lessons/{lesson}/studied`
    /// takes, so that a client marks studied the text it showed.
    pub version: i32,
    /// Studied at the current version (a new version must be read again).
    pub studied: bool,
}

/// A module's quiz: its size, pass mark and whether the doctor passed it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizStatus {
    /// How many questions each draw has.
    pub questions: i32,
    /// The pass mark, in percent of the quiz's points.
    pub pass_percent: i32,
    /// Whether the doctor has passed it (any attempt).
    pub passed: bool,
}

/// A module of a course.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ModuleView {
    /// The module's key, used in paths.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Its lessons, in order.
    pub lessons: Vec<LessonItem>,
    /// Its quiz; null when the module has none.
    pub quiz: Option<QuizStatus>,
}

/// A doctor's progress through a course.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// Lessons studied at their current version.
    pub lessons_studied: usize,
    /// Lessons in the course.
    pub lessons: usize,
    /// Module quizzes passed.
    pub quizzes_passed: usize,
    /// Module quizzes in the course.
    pub quizzes: usize,
    /// Lessons studied and quizzes passed, in percent of all lessons and quizzes (100 for a
    /// course with neither), rounded down.
    pub percent: u32,
    /// Whether every lesson is studied and every quiz passed.
    pub complete: bool,
}

/// What to do next, and where.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextStep {
    /// `lesson`, `quiz` or `workshop`.
    pub kind: String,
    /// The lesson's, module's or workshop's title.
    pub title: String,
    /// The page to open it, a path on this server (e.g.
    /// `/courses/{course}/lessons/{lesson}`).
    pub url: String,
}

/// A course with the doctor's progress.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CourseView {
    /// The course's key, used in paths.
    pub key: String,
    /// Its title.
    pub title: String,
    /// What it covers.
    pub summary: String,
    /// Continuing-education credit hours it earns once complete.
    pub credit_hours: f64,
    /// The course's version; increases when its content changes.
    pub version: i32,
    /// True for the sample content shipped with Gatekeeper, awaiting the committee's
    /// review.
    pub sample: bool,
    /// Whether doctors see it (admins also see unpublished courses).
    pub published: bool,
    /// The doctor's progress.
    pub progress: Progress,
    /// Its modules, in order.
    pub modules: Vec<ModuleView>,
    /// The next thing to do in it; null when it is complete.
    pub next: Option<NextStep>,
}

/// A required offline workshop of a track, and whether the doctor attended.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkshopView {
    /// The workshop's id.
    pub id: i64,
    /// Its key.
    pub key: String,
    /// Its title.
    pub title: String,
    /// What it covers.
    pub description: String,
    /// Whether the doctor attended a session of it.
    pub attended: bool,
}

/// A doctor's progress through a track's training.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrackProgress {
    /// The track.
    pub track: TrackSummary,
    /// Whose progress this is.
    pub person_id: i64,
    /// The track's courses, with progress.
    pub courses: Vec<CourseView>,
    /// The track's required workshops.
    pub workshops: Vec<WorkshopView>,
    /// The training rule of `domain::training`: every required lesson
    /// studied, every module quiz passed, every required workshop attended.
    pub complete: bool,
    /// The next thing to do; null when training is complete.
    pub next: Option<NextStep>,
}

/// Courses with a person's progress, and the evidence the rule needs.
struct Loaded {
    views: Vec<CourseView>,
    evidence: Vec<CourseEvidence>,
}

fn lesson_url(course: &str, lesson: &str) -> String {
    format!("/courses/{course}/lessons/{lesson}")
}

fn quiz_url(course: &str, module: &str) -> String {
    format!("/courses/{course}/modules/{module}/quiz")
}

fn load_courses(conn: &mut DbConn, person_id: i64, courses: &[CourseRow]) -> Result<Loaded> {
    let read = evidence::courses_evidence(conn, person_id, courses)?;
    let views = course_views(courses, &read.modules, &read.lessons, &read.evidence);
    Ok(Loaded {
        views,
        evidence: read.evidence,
    })
}

/// The page's view of courses from their evidence (`evidence::courses_evidence`).
fn course_views(
    courses: &[CourseRow],
    modules: &[ModuleRow],
    lessons: &[LessonHead],
    evidence: &[CourseEvidence],
) -> Vec<CourseView> {
    let mut views = Vec::with_capacity(courses.len());
    for (course, ev) in courses.iter().zip(evidence) {
        let course_modules = modules.iter().filter(|m| m.course_id == course.id);
        let mut module_views = Vec::new();
        for (m, module_ev) in course_modules.zip(&ev.modules) {
            let items: Vec<LessonItem> = lessons
                .iter()
                .filter(|l| l.module_id == m.id)
                .zip(&module_ev.lessons)
                .map(|(l, lesson_ev)| LessonItem {
                    key: l.lesson_key.clone(),
                    title: l.title.clone(),
                    minutes: l.minutes,
                    version: l.version,
                    studied: lesson_ev.studied,
                })
                .collect();
            module_views.push(ModuleView {
                key: m.module_key.clone(),
                title: m.title.clone(),
                lessons: items,
                quiz: module_ev.quiz_passed.map(|passed| QuizStatus {
                    questions: m.quiz_questions,
                    pass_percent: m.quiz_pass_percent,
                    passed,
                }),
            });
        }
        let p = training::course_progress(ev);
        let next = training::course_todo(ev)
            .first()
            .and_then(|todo| describe(todo, courses, modules, lessons, &[]));
        views.push(CourseView {
            key: course.course_key.clone(),
            title: course.title.clone(),
            summary: course.summary.clone(),
            credit_hours: course.credit_hours,
            version: course.version,
            sample: course.sample,
            published: course.published,
            progress: Progress {
                lessons_studied: p.lessons_studied,
                lessons: p.lessons,
                quizzes_passed: p.quizzes_passed,
                quizzes: p.quizzes,
                percent: p.percent(),
                complete: p.complete(),
            },
            modules: module_views,
            next,
        });
    }
    views
}

fn describe(
    todo: &Todo,
    courses: &[CourseRow],
    modules: &[ModuleRow],
    lessons: &[LessonHead],
    workshops: &[WorkshopRow],
) -> Option<NextStep> {
    let course_key = |id: i64| {
        courses
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.course_key.clone())
    };
    match *todo {
        Todo::Lesson {
            course_id,
            lesson_id,
        } => {
            let lesson = lessons.iter().find(|l| l.id == lesson_id)?;
            Some(NextStep {
                kind: "lesson".into(),
                title: lesson.title.clone(),
                url: lesson_url(&course_key(course_id)?, &lesson.lesson_key),
            })
        }
        Todo::Quiz {
            course_id,
            module_id,
        } => {
            let module = modules.iter().find(|m| m.id == module_id)?;
            Some(NextStep {
                kind: "quiz".into(),
                title: module.title.clone(),
                url: quiz_url(&course_key(course_id)?, &module.module_key),
            })
        }
        Todo::Workshop { workshop_id } => {
            let w = workshops.iter().find(|w| w.id == workshop_id)?;
            Some(NextStep {
                kind: "workshop".into(),
                title: w.title.clone(),
                url: "/workshops".into(),
            })
        }
    }
}

/// A person's training in a track as the page shows it, from the evidence
/// the pipeline decides on (`evidence::track_training`).
fn track_progress_in(conn: &mut DbConn, person_id: i64, track: &TrackRow) -> Result<TrackProgress> {
    let read = evidence::track_training(conn, person_id, track)?;
    let completion = training::training_completion(&read.evidence);
    let next = completion.next().and_then(|todo| {
        describe(
            &todo,
            &read.courses,
            &read.modules,
            &read.lessons,
            &read.workshops,
        )
    });
    let enrolled = store_training::find_enrolment(conn, person_id, track.id)?.is_some();
    Ok(TrackProgress {
        track: summary(track, enrolled),
        person_id,
        courses: course_views(
            &read.courses,
            &read.modules,
            &read.lessons,
            &read.evidence.courses,
        ),
        workshops: read
            .workshops
            .iter()
            .map(|w| WorkshopView {
                id: w.id,
                key: w.workshop_key.clone(),
                title: w.title.clone(),
                description: w.description.clone(),
                attended: read.attended.contains(&w.id),
            })
            .collect(),
        complete: completion.complete(),
        next,
    })
}

// ----- tracks and enrolment -----

/// Every track, with whether the caller is enrolled.
pub async fn tracks(ctx: &Ctx, caller: &Caller) -> Result<Vec<TrackSummary>> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let enrolled: HashSet<i64> = store_training::enrolments_of(conn, me)?
                .into_iter()
                .map(|(e, _)| e.track_id)
                .collect();
            Ok(store_training::list_tracks(conn)?
                .iter()
                .map(|t| summary(t, enrolled.contains(&t.id)))
                .collect())
        })
        .await
}

/// A person's progress in a track: their own, or anyone's for an admin.
pub async fn track_progress(
    ctx: &Ctx,
    caller: &Caller,
    track_key: &str,
    person_id: Option<i64>,
) -> Result<TrackProgress> {
    require(ctx, caller, Permission::Study).await?;
    let person = subject(ctx, caller, person_id).await?;
    let key = track_key.to_owned();
    ctx.db
        .read(move |conn| {
            let track = store_training::find_track(conn, &key)?.ok_or(Error::NotFound)?;
            track_progress_in(conn, person, &track)
        })
        .await
}

/// Enrols the caller (a doctor) in a track; enrolling twice is harmless.
pub async fn enrol(ctx: &Ctx, caller: &Caller, track_key: &str) -> Result<()> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    enrol_person(ctx, caller, track_key, me, None).await
}

/// An admin enrols a doctor.
pub async fn enrol_doctor(
    ctx: &Ctx,
    caller: &Caller,
    track_key: &str,
    person_id: i64,
) -> Result<()> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let by = caller.person_id();
    enrol_person(ctx, caller, track_key, person_id, by).await
}

async fn enrol_person(
    ctx: &Ctx,
    caller: &Caller,
    track_key: &str,
    person_id: i64,
    by: Option<i64>,
) -> Result<()> {
    let key = track_key.to_owned();
    let event = audit::event(
        caller,
        "training.enrol",
        Some(format!("person:{person_id} track:{key}")),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let track = store_training::find_track(conn, &key)?.ok_or(Error::NotFound)?;
            let person = people::find(conn, person_id)?.ok_or(Error::NotFound)?;
            let roles = people::roles_of(conn, person_id)?;
            if !person.active || !roles.contains(&crate::domain::roles::Role::Doctor) {
                return Err(Error::invalid(
                    "person",
                    "only an active doctor can be enrolled",
                ));
            }
            if store_training::enrol(conn, person_id, track.id, by, store::now())? {
                audit::record(conn, &event)?;
            }
            Ok(())
        })
        .await
}

// ----- the library and lessons -----

/// Every published course (all courses for an admin), with the caller's
/// progress: the open library.
pub async fn library(ctx: &Ctx, caller: &Caller) -> Result<Vec<CourseView>> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    ctx.db
        .read(move |conn| {
            let courses = store_training::list_courses(conn, !all)?;
            Ok(load_courses(conn, me, &courses)?.views)
        })
        .await
}

fn visible_course(conn: &mut DbConn, key: &str, all: bool) -> Result<CourseRow> {
    store_training::find_course(conn, key)?
        .filter(|c| c.published || all)
        .ok_or(Error::NotFound)
}

/// One course's outline with the caller's progress.
pub async fn course(ctx: &Ctx, caller: &Caller, course_key: &str) -> Result<CourseView> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let key = course_key.to_owned();
    ctx.db
        .read(move |conn| {
            let course = visible_course(conn, &key, all)?;
            load_courses(conn, me, std::slice::from_ref(&course))?
                .views
                .pop()
                .ok_or(Error::NotFound)
        })
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonLink {
    pub key: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LessonView {
    pub course_key: String,
    pub course_title: String,
    pub module_title: String,
    pub key: String,
    pub title: String,
    pub minutes: i32,
    pub video_url: Option<String>,
    /// Sanitised when the lesson was written.
    pub html: String,
    pub version: i32,
    pub studied: bool,
    pub sample: bool,
    pub previous: Option<LessonLink>,
    pub next: Option<LessonLink>,
}

/// A lesson to read, with where it sits in its course. One read.
pub async fn lesson(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    lesson_key: &str,
) -> Result<LessonView> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let (course_key, lesson_key) = (course_key.to_owned(), lesson_key.to_owned());
    ctx.db
        .read(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let lesson = store_training::find_lesson(conn, course.id, &lesson_key)?
                .ok_or(Error::NotFound)?;
            let heads = store_training::lesson_heads(conn, &[course.id])?;
            let at = heads.iter().position(|h| h.id == lesson.id);
            let link = |h: &LessonHead| LessonLink {
                key: h.lesson_key.clone(),
                title: h.title.clone(),
            };
            let previous = at
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| heads.get(i))
                .map(link);
            let next = at.and_then(|i| heads.get(i + 1)).map(link);
            let module_title = store_training::find_module(conn, lesson.module_id)?
                .map(|m| m.title)
                .unwrap_or_default();
            let studied = store_training::studied(conn, me, &[lesson.id])?
                .get(&lesson.id)
                .is_some_and(|(v, _)| training::lesson_studied(lesson.version, Some(*v)));
            Ok(LessonView {
                course_key: course.course_key,
                course_title: course.title,
                module_title,
                key: lesson.lesson_key,
                title: lesson.title,
                minutes: lesson.minutes,
                video_url: lesson.video_url,
                html: lesson.body_html,
                version: lesson.version,
                studied,
                sample: course.sample,
                previous,
                next,
            })
        })
        .await
}

/// Marks a lesson studied at the version the page showed. If the lesson has
/// changed since, the doctor must read the new version first.
pub async fn mark_studied(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    lesson_key: &str,
    version: i32,
) -> Result<()> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let (course_key, lesson_key) = (course_key.to_owned(), lesson_key.to_owned());
    ctx.db
        .write(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let lesson = store_training::find_lesson(conn, course.id, &lesson_key)?
                .ok_or(Error::NotFound)?;
            if lesson.version != version {
                return Err(Error::conflict(
                    "version",
                    "this lesson has been updated since you opened it; read the new version",
                ));
            }
            let now = store::now();
            store_training::mark_studied(conn, me, lesson.id, lesson.version, now)?;
            // Completing training moves the doctor's case on.
            store::certification::note_due(conn, me, "lesson_studied", now)?;
            Ok(())
        })
        .await?;
    pipeline::settle(ctx, vec![me]).await;
    Ok(())
}

/// A course image, for anyone who may study the course.
pub async fn media(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    name: &str,
) -> Result<(String, Vec<u8>)> {
    require(ctx, caller, Permission::Study).await?;
    let all = may_manage(caller);
    let (course_key, name) = (course_key.to_owned(), name.to_owned());
    ctx.db
        .read(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let m = store_training::find_media(conn, course.id, &name)?.ok_or(Error::NotFound)?;
            Ok((m.content_type, m.bytes))
        })
        .await
}

// ----- module quizzes -----

/// A quiz question as the doctor sees it: never the answer key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizQuestion {
    /// Its position in the quiz, from 0: what `QuizAnswer.position` names.
    pub position: usize,
    /// `single`, `multiple` or `true_false`.
    pub kind: String,
    /// The question.
    pub stem: String,
    /// In the order this doctor sees them.
    pub options: Vec<String>,
    /// Points it is worth.
    pub points: i32,
}

/// An open quiz: its questions, drawn afresh for this attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizView {
    /// The quiz's id (submit to `/quizzes/{id}/submit`).
    pub id: i64,
    /// The course's key.
    pub course_key: String,
    /// The course's title.
    pub course_title: String,
    /// The module's key.
    pub module_key: String,
    /// The module's title.
    pub module_title: String,
    /// The pass mark, in percent of the quiz's points.
    pub pass_percent: i32,
    /// Its questions, in order.
    pub questions: Vec<QuizQuestion>,
}

/// Feedback on one quiz question, with the answer key and explanation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizFeedback {
    /// Its position in the quiz, from 0.
    pub position: usize,
    /// `single`, `multiple` or `true_false`.
    pub kind: String,
    /// The question.
    pub stem: String,
    /// Options in the order this doctor saw them (empty for true/false).
    pub options: Vec<String>,
    /// What the doctor answered; null if the question was left unanswered.
    pub your_answer: Option<ShownAnswer>,
    /// Correct options, as positions in `options`.
    pub correct_options: Vec<usize>,
    /// For a true/false question, the right answer; null otherwise.
    pub correct_answer: Option<bool>,
    /// Whether the answer earned the question's full points.
    pub correct: bool,
    /// Points the question is worth.
    pub points: i32,
    /// Points earned (all or nothing).
    pub earned: i32,
    /// Why the right answer is right.
    pub explanation: String,
    /// Where to read more (guideline, textbook).
    pub reference: String,
}

/// A submitted quiz's score and feedback (submitting again returns the same).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizResult {
    /// The quiz's id.
    pub id: i64,
    /// The course's key.
    pub course_key: String,
    /// The module's key.
    pub module_key: String,
    /// The module's title.
    pub module_title: String,
    /// Points earned.
    pub score: i32,
    /// Points possible.
    pub max_score: i32,
    /// The pass mark, in percent of `max_score`.
    pub pass_percent: i32,
    /// Whether the score reaches the pass mark.
    pub passed: bool,
    /// Feedback on each question, in order.
    pub items: Vec<QuizFeedback>,
}

fn shown_options(content: &Content, order: &[usize]) -> Vec<String> {
    match &content.body {
        Body::Single { options } | Body::Multiple { options } => order
            .iter()
            .filter_map(|i| options.get(*i).map(|o| o.text.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn find_module_of(conn: &mut DbConn, course: &CourseRow, module_key: &str) -> Result<ModuleRow> {
    store_training::modules_of(conn, course.id)?
        .into_iter()
        .find(|m| m.module_key == module_key && m.has_quiz())
        .ok_or(Error::NotFound)
}

/// Draws a fresh quiz for a module from the practice banks. Unlimited
/// retries: each call is a new draw.
pub async fn start_quiz(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    module_key: &str,
) -> Result<QuizView> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let (course_key, module_key) = (course_key.to_owned(), module_key.to_owned());
    let seed: u64 = rand::rng().random();
    let versions = ctx.versions.clone();
    ctx.db
        .write(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let module = find_module_of(conn, &course, &module_key)?;
            let pool = store_banks::practice_pool(conn, &module.topics())?;
            let mut candidates = Vec::new();
            let mut points: HashMap<i64, i32> = HashMap::new();
            for v in pool.iter().filter(|v| v.kind != "case") {
                let content = versions.content(conn, v.id)?;
                let options = match &content.body {
                    Body::Single { options } | Body::Multiple { options } => options.len(),
                    _ => 0,
                };
                candidates.push(QuizCandidate {
                    version_id: v.id,
                    options,
                });
                points.insert(v.id, v.points);
            }
            let items = training::draw_quiz(&candidates, module.quiz_questions as usize, seed);
            if items.is_empty() {
                return Err(Error::conflict(
                    "quiz",
                    "this quiz has no questions yet; tell your administrator",
                ));
            }
            let max: i32 = items
                .iter()
                .map(|i| points.get(&i.version_id).copied().unwrap_or(0))
                .sum();
            let json = serde_json::to_string(&items).map_err(Error::internal)?;
            let row = store_training::create_quiz(conn, me, module.id, &json, max, store::now())?;
            quiz_view(conn, &versions, &row, &course, &module)
        })
        .await
}

/// An open quiz's questions as the doctor sees them (no answers).
fn quiz_view(
    conn: &mut DbConn,
    versions: &crate::store::versions::VersionCache,
    row: &store_training::QuizRow,
    course: &CourseRow,
    module: &ModuleRow,
) -> Result<QuizView> {
    let items: Vec<QuizItem> = serde_json::from_str(&row.items).map_err(Error::internal)?;
    let mut questions = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let content = versions.content(conn, item.version_id)?;
        let points = store_banks::version_by_id(conn, item.version_id)?
            .map(|v| v.points)
            .unwrap_or(0);
        questions.push(QuizQuestion {
            position,
            kind: content.body.kind().as_str().to_owned(),
            stem: content.stem.clone(),
            options: shown_options(&content, &item.option_order),
            points,
        });
    }
    Ok(QuizView {
        id: row.id,
        course_key: course.course_key.clone(),
        course_title: course.title.clone(),
        module_key: module.module_key.clone(),
        module_title: module.title.clone(),
        pass_percent: module.quiz_pass_percent,
        questions,
    })
}

/// A quiz the caller drew: its questions while open, its feedback once
/// submitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum QuizState {
    /// Not yet submitted: its questions.
    Open(QuizView),
    /// Submitted: its score and feedback.
    Submitted(QuizResult),
}

pub async fn get_quiz(ctx: &Ctx, caller: &Caller, quiz_id: i64) -> Result<QuizState> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let versions = ctx.versions.clone();
    let open = ctx
        .db
        .read(move |conn| {
            let quiz = store_training::find_quiz(conn, quiz_id)?.ok_or(Error::NotFound)?;
            if quiz.person_id != me || quiz.submitted_at.is_some() {
                return Ok(None);
            }
            let module =
                store_training::find_module(conn, quiz.module_id)?.ok_or(Error::NotFound)?;
            let course = store_training::find_course_by_id(conn, module.course_id)?
                .ok_or(Error::NotFound)?;
            quiz_view(conn, &versions, &quiz, &course, &module).map(Some)
        })
        .await?;
    match open {
        Some(view) => Ok(QuizState::Open(view)),
        // Submitted (the stored result) or someone else's (refused there).
        None => submit_quiz(ctx, caller, quiz_id, Vec::new())
            .await
            .map(QuizState::Submitted),
    }
}

/// Scores a quiz and returns the feedback. Submitting again returns the
/// same result; only the doctor who drew the quiz may submit or see it.
pub async fn submit_quiz(
    ctx: &Ctx,
    caller: &Caller,
    quiz_id: i64,
    answers: Vec<(usize, ShownAnswer)>,
) -> Result<QuizResult> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let versions = ctx.versions.clone();
    let outcome = ctx
        .db
        .write(move |conn| {
            let quiz = store_training::find_quiz(conn, quiz_id)?.ok_or(Error::NotFound)?;
            if quiz.person_id != me {
                return Ok(None);
            }
            let items: Vec<QuizItem> =
                serde_json::from_str(&quiz.items).map_err(Error::internal)?;
            let module =
                store_training::find_module(conn, quiz.module_id)?.ok_or(Error::NotFound)?;
            let course = store_training::find_course_by_id(conn, module.course_id)?
                .ok_or(Error::NotFound)?;
            // A submitted quiz keeps its answers; a retried request sees them.
            let answers: Vec<Option<ShownAnswer>> = match &quiz.answers {
                Some(stored) => serde_json::from_str(stored).map_err(Error::internal)?,
                None => {
                    let mut given: Vec<Option<ShownAnswer>> = vec![None; items.len()];
                    for (position, answer) in answers {
                        let slot = given.get_mut(position).ok_or_else(|| {
                            Error::invalid(
                                "answers",
                                format!("the quiz has no question {}", position + 1),
                            )
                        })?;
                        *slot = Some(answer);
                    }
                    given
                }
            };
            let mut feedback = Vec::with_capacity(items.len());
            let mut score = 0;
            for (position, (item, answer)) in items.iter().zip(&answers).enumerate() {
                let content = versions.content(conn, item.version_id)?;
                let version =
                    store_banks::version_by_id(conn, item.version_id)?.ok_or(Error::NotFound)?;
                let response = match answer {
                    Some(a) => Some(
                        scoring::from_shown(&content.body, &item.option_order, a.clone()).map_err(
                            |_| {
                                Error::invalid(
                                    "answers",
                                    format!("question {}: does not fit the question", position + 1),
                                )
                            },
                        )?,
                    ),
                    None => None,
                };
                // Practice quizzes score all or nothing, whatever a track's
                // exams do: a quiz passes on whole questions.
                let earned = scoring::score(
                    &content.body,
                    version.points.max(0) as u32,
                    response.as_ref(),
                    scoring::ChoiceScoring::AllOrNothing,
                )
                .unwrap_or(0.0) as i32;
                score += earned;
                let (correct_options, correct_answer) = match &content.body {
                    Body::Single { options } | Body::Multiple { options } => (
                        item.option_order
                            .iter()
                            .enumerate()
                            .filter(|(_, i)| options.get(**i).is_some_and(|o| o.correct))
                            .map(|(shown, _)| shown)
                            .collect(),
                        None,
                    ),
                    Body::TrueFalse { answer } => (Vec::new(), Some(*answer)),
                    Body::Case { .. } => (Vec::new(), None),
                };
                feedback.push(QuizFeedback {
                    position,
                    kind: content.body.kind().as_str().to_owned(),
                    stem: content.stem.clone(),
                    options: shown_options(&content, &item.option_order),
                    your_answer: answer.clone(),
                    correct_options,
                    correct_answer,
                    correct: earned == version.points && version.points > 0,
                    points: version.points,
                    earned,
                    explanation: content.explanation.clone(),
                    reference: content.reference.clone(),
                });
            }
            let passed = training::quiz_passed(
                score.max(0) as u32,
                quiz.max_score.max(0) as u32,
                module.quiz_pass_percent.max(0) as u32,
            );
            if quiz.submitted_at.is_none() {
                let json = serde_json::to_string(&answers).map_err(Error::internal)?;
                store_training::submit_quiz(conn, quiz.id, &json, score, passed, store::now())?;
                store::certification::note_due(conn, me, "quiz_submitted", store::now())?;
            }
            Ok(Some(QuizResult {
                id: quiz.id,
                course_key: course.course_key,
                module_key: module.module_key,
                module_title: module.title,
                score,
                max_score: quiz.max_score,
                pass_percent: module.quiz_pass_percent,
                passed,
                items: feedback,
            }))
        })
        .await?;
    match outcome {
        Some(result) => {
            // A passed quiz may complete the doctor's training.
            pipeline::settle(ctx, vec![me]).await;
            Ok(result)
        }
        None => refuse(ctx, caller, "quiz_access", format!("quiz:{quiz_id}")).await,
    }
}

// ----- workshops -----

/// A scheduled session of a workshop.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The session's id.
    pub id: i64,
    /// Its workshop's id.
    pub workshop_id: i64,
    /// Its workshop's title.
    pub workshop_title: String,
    /// When it starts (RFC 3339 UTC).
    pub starts_at: DateTime<Utc>,
    /// When it ends (RFC 3339 UTC).
    pub ends_at: DateTime<Utc>,
    /// Where it takes place.
    pub place: String,
    /// Places; further sign-ups wait.
    pub capacity: i32,
    /// Sign-ups holding a place.
    pub booked: i64,
    /// Sign-ups on the waiting list.
    pub waiting: i64,
    /// The instructor's person id.
    pub instructor_id: i64,
    /// The instructor's name.
    pub instructor_name: String,
    /// The caller's sign-up: `booked`, `waiting` or `cancelled`.
    pub my_status: Option<String>,
    /// Whether the caller attended; null until recorded or without a sign-up.
    pub my_attendance: Option<bool>,
    /// True until it starts: sign-ups and cancellations are possible.
    pub open: bool,
}

fn session_view(
    conn: &mut DbConn,
    session: &SessionRow,
    workshop: &WorkshopRow,
    me: i64,
    now: NaiveDateTime,
) -> Result<SessionView> {
    let booked = store_training::count_status(conn, session.id, SignupStatus::Booked.as_str())?;
    let waiting = store_training::count_status(conn, session.id, SignupStatus::Waiting.as_str())?;
    let mine = store_training::find_signup(conn, session.id, me)?;
    let instructor_name = people::find(conn, session.instructor_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(SessionView {
        id: session.id,
        workshop_id: workshop.id,
        workshop_title: workshop.title.clone(),
        starts_at: utc(session.starts_at),
        ends_at: utc(session.ends_at),
        place: session.place.clone(),
        capacity: session.capacity,
        booked,
        waiting,
        instructor_id: session.instructor_id,
        instructor_name,
        my_status: mine.as_ref().map(|s| s.status.clone()),
        my_attendance: mine.and_then(|s| s.attended),
        open: now < session.starts_at,
    })
}

/// Workshop sessions not yet over, with the caller's sign-ups.
pub async fn sessions(ctx: &Ctx, caller: &Caller) -> Result<Vec<SessionView>> {
    let me = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let now = store::now();
            let mut out = Vec::new();
            for (session, workshop) in store_training::sessions_with_workshops(conn, Some(now))? {
                out.push(session_view(conn, &session, &workshop, me, now)?);
            }
            Ok(out)
        })
        .await
}

/// What an admin fills in to schedule a session.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub workshop_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub capacity: i64,
    pub instructor_id: i64,
}

pub async fn schedule_session(ctx: &Ctx, caller: &Caller, input: SessionInput) -> Result<i64> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let by = person(ctx, caller).await?.id;
    dates::time("starts_at", input.starts_at)?;
    dates::time("ends_at", input.ends_at)?;
    if input.ends_at <= input.starts_at {
        return Err(Error::invalid("ends_at", "must be after the start"));
    }
    if !(1..=500).contains(&input.capacity) {
        return Err(Error::invalid("capacity", "must be 1 to 500"));
    }
    if input.place.trim().is_empty() {
        return Err(Error::invalid("place", "must not be empty"));
    }
    let event = audit::event(
        caller,
        "workshop.schedule",
        Some(format!("workshop:{}", input.workshop_id)),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let now = store::now();
            if input.starts_at.naive_utc() <= now {
                return Err(Error::invalid("starts_at", "must be in the future"));
            }
            store_training::find_workshop(conn, input.workshop_id)?
                .filter(|w| w.retired_at.is_none())
                .ok_or_else(|| Error::invalid("workshop", "choose one of the tracks' workshops"))?;
            people::find(conn, input.instructor_id)?
                .filter(|p| p.active)
                .ok_or_else(|| Error::invalid("instructor", "choose an active person"))?;
            let row = store_training::create_session(
                conn,
                &NewSession {
                    workshop_id: input.workshop_id,
                    starts_at: input.starts_at.naive_utc(),
                    ends_at: input.ends_at.naive_utc(),
                    place: input.place.trim(),
                    capacity: input.capacity as i32,
                    instructor_id: input.instructor_id,
                    created_by: by,
                },
                now,
            )?;
            audit::record(conn, &event)?;
            Ok(row.id)
        })
        .await
}

fn refusal(r: training::SignupRefusal) -> Error {
    match r {
        training::SignupRefusal::Started => {
            Error::conflict("session", "this session has started; its list is closed")
        }
    }
}

/// Signs the caller up: a place if one is free, else the waiting list.
pub async fn sign_up(ctx: &Ctx, caller: &Caller, session_id: i64) -> Result<SignupStatus> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let session = store_training::lock_session(conn, session_id)?.ok_or(Error::NotFound)?;
            if let Some(existing) = store_training::find_signup(conn, session_id, me)?
                .and_then(|s| SignupStatus::parse(&s.status))
                .filter(|s| *s != SignupStatus::Cancelled)
            {
                return Ok(existing);
            }
            let booked =
                store_training::count_status(conn, session_id, SignupStatus::Booked.as_str())?;
            let status = training::sign_up(
                booked.max(0) as u32,
                session.capacity.max(0) as u32,
                session.starts_at,
                now,
            )
            .map_err(refusal)?;
            store_training::upsert_signup(conn, session_id, me, status.as_str(), now)?;
            Ok(status)
        })
        .await
}

/// Cancels the caller's sign-up; a freed place goes to the first waiting,
/// who is told by email.
pub async fn cancel(ctx: &Ctx, caller: &Caller, session_id: i64) -> Result<()> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let time_zone = ctx.settings.time_zone;
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let session = store_training::lock_session(conn, session_id)?.ok_or(Error::NotFound)?;
            let Some(signup) = store_training::find_signup(conn, session_id, me)? else {
                return Ok(());
            };
            if signup.status == SignupStatus::Cancelled.as_str() {
                return Ok(());
            }
            training::may_cancel(session.starts_at, now).map_err(refusal)?;
            store_training::set_signup_status(
                conn,
                &[signup.id],
                SignupStatus::Cancelled.as_str(),
                now,
            )?;
            promote(conn, &session, now, time_zone)
        })
        .await
}

/// Moves the first of the waiting list into freed places and emails them.
fn promote(
    conn: &mut DbConn,
    session: &SessionRow,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> Result<()> {
    let booked = store_training::count_status(conn, session.id, SignupStatus::Booked.as_str())?;
    let waiting = store_training::waiting_in_order(conn, session.id)?;
    let moving = training::promotions(
        session.capacity.max(0) as u32,
        booked.max(0) as u32,
        &waiting,
    );
    if moving.is_empty() {
        return Ok(());
    }
    store_training::set_signup_status(conn, &moving, SignupStatus::Booked.as_str(), now)?;
    let workshop =
        store_training::find_workshop(conn, session.workshop_id)?.ok_or(Error::NotFound)?;
    for (signup, _) in store_training::signups_of(conn, session.id)?
        .into_iter()
        .filter(|(s, _)| moving.contains(&s.id))
    {
        notify(conn, signup.person_id, session, &workshop, true, now, tz)?;
    }
    Ok(())
}

fn notify(
    conn: &mut DbConn,
    person_id: i64,
    session: &SessionRow,
    workshop: &WorkshopRow,
    promoted: bool,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> Result<()> {
    let Some(person) = people::find(conn, person_id)? else {
        return Ok(());
    };
    let when = utc(session.starts_at)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let message = Message::Workshop {
        name: person.name.clone(),
        workshop: workshop.title.clone(),
        when,
        place: session.place.clone(),
        promoted,
    };
    mail::enqueue(
        conn,
        &person.email,
        &person.name,
        Locale::parse(&person.locale).unwrap_or_default(),
        &message,
        now,
    )?;
    Ok(())
}

/// One sign-up of a session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RosterEntry {
    /// The doctor's person id.
    pub person_id: i64,
    /// The doctor's name.
    pub name: String,
    /// `booked`, `waiting` or `cancelled`.
    pub status: String,
    /// Whether they attended; null until recorded.
    pub attended: Option<bool>,
}

/// A session's sign-ups, for its instructor or an admin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Roster {
    /// The session.
    pub session: SessionView,
    /// Its sign-ups.
    pub entries: Vec<RosterEntry>,
    /// True once the session has started: attendance may be recorded.
    pub attendance_open: bool,
}

/// A session's list, for its instructor or an admin.
pub async fn roster(ctx: &Ctx, caller: &Caller, session_id: i64) -> Result<Roster> {
    let actor = person(ctx, caller).await?;
    let found = ctx
        .db
        .read(move |conn| {
            let now = store::now();
            let session = store_training::find_session(conn, session_id)?.ok_or(Error::NotFound)?;
            if !training::may_record_attendance(&actor, session.instructor_id) {
                return Ok(None);
            }
            let workshop =
                store_training::find_workshop(conn, session.workshop_id)?.ok_or(Error::NotFound)?;
            let view = session_view(conn, &session, &workshop, actor.id, now)?;
            let entries = store_training::signups_of(conn, session_id)?
                .into_iter()
                .filter(|(s, _)| s.status != SignupStatus::Cancelled.as_str())
                .map(|(s, name)| RosterEntry {
                    person_id: s.person_id,
                    name,
                    status: s.status,
                    attended: s.attended,
                })
                .collect();
            Ok(Some(Roster {
                session: view,
                entries,
                attendance_open: training::attendance_open(session.starts_at, now),
            }))
        })
        .await?;
    match found {
        Some(r) => Ok(r),
        None => {
            refuse(
                ctx,
                caller,
                "session_roster",
                format!("session:{session_id}"),
            )
            .await
        }
    }
}

/// The instructor (or an admin) records whether a booked doctor attended.
pub async fn record_attendance(
    ctx: &Ctx,
    caller: &Caller,
    session_id: i64,
    person_id: i64,
    attended: bool,
) -> Result<()> {
    let actor = person(ctx, caller).await?;
    let event = audit::event(
        caller,
        "workshop.attendance",
        Some(format!(
            "session:{session_id} person:{person_id} attended:{attended}"
        )),
        Outcome::Ok,
    );
    let allowed = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let session = store_training::find_session(conn, session_id)?.ok_or(Error::NotFound)?;
            if !training::may_record_attendance(&actor, session.instructor_id) {
                return Ok(false);
            }
            if !training::attendance_open(session.starts_at, now) {
                return Err(Error::conflict(
                    "session",
                    "attendance is recorded once the session has started",
                ));
            }
            let signup = store_training::find_signup(conn, session_id, person_id)?
                .filter(|s| s.status == SignupStatus::Booked.as_str())
                .ok_or_else(|| {
                    Error::invalid("person", "only a doctor with a booked place can attend")
                })?;
            store_training::record_attendance(conn, signup.id, attended, actor.id, now)?;
            audit::record(conn, &event)?;
            store::certification::note_due(conn, person_id, "workshop_attended", now)?;
            Ok(true)
        })
        .await?;
    if allowed {
        pipeline::settle(ctx, vec![person_id]).await;
        Ok(())
    } else {
        refuse(
            ctx,
            caller,
            "workshop.attendance",
            format!("session:{session_id}"),
        )
        .await
    }
}

/// The reminder job: emails every booked doctor of sessions starting within
/// a day, once. Returns how many emails it queued.
pub fn send_reminders(db: &Db, tz: chrono_tz::Tz) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut sent = 0;
        for (session, workshop) in
            store_training::sessions_due_reminders(conn, now, now + chrono::Duration::hours(24))?
        {
            if !training::reminder_due(session.starts_at, now, session.reminders_sent_at.is_some())
            {
                continue;
            }
            if store_training::mark_reminded(conn, session.id, now)? == 0 {
                continue;
            }
            for (signup, _) in store_training::signups_of(conn, session.id)? {
                if signup.status == SignupStatus::Booked.as_str() {
                    notify(conn, signup.person_id, &session, &workshop, false, now, tz)?;
                    sent += 1;
                }
            }
        }
        Ok(sent)
    })
}

// ----- the training record -----

/// A course in a training record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordCourse {
    /// The course's key.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Credit hours it earns once complete.
    pub credit_hours: f64,
    /// Lessons studied at their current version.
    pub lessons_studied: usize,
    /// Lessons in the course.
    pub lessons: usize,
    /// Module quizzes passed.
    pub quizzes_passed: usize,
    /// Module quizzes in the course.
    pub quizzes: usize,
    /// Whether every lesson is studied and every quiz passed.
    pub complete: bool,
    /// Reading time of the lessons studied, in minutes.
    pub minutes_studied: i64,
}

/// A submitted quiz in a training record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordQuiz {
    /// The course's title.
    pub course_title: String,
    /// The module's title.
    pub module_title: String,
    /// Points earned.
    pub score: i32,
    /// Points possible.
    pub max_score: i32,
    /// Whether it passed.
    pub passed: bool,
    /// When it was submitted (RFC 3339 UTC).
    pub submitted_at: DateTime<Utc>,
}

/// A workshop sign-up in a training record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordWorkshop {
    /// The workshop's title.
    pub workshop_title: String,
    /// When the session starts (RFC 3339 UTC).
    pub starts_at: DateTime<Utc>,
    /// Where.
    pub place: String,
    /// `booked`, `waiting` or `cancelled`.
    pub status: String,
    /// Whether the doctor attended; null until recorded.
    pub attended: Option<bool>,
}

/// A track the doctor is enrolled in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordTrack {
    /// The track's key.
    pub key: String,
    /// Its title.
    pub title: String,
    /// Whether its training is complete.
    pub complete: bool,
}

/// A doctor's training record: courses, quizzes, workshops and referrals.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrainingRecord {
    /// The doctor's person id.
    pub person_id: i64,
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// Their institution's name; null if none.
    pub institution: Option<String>,
    /// Tracks they are enrolled in.
    pub tracks: Vec<RecordTrack>,
    /// Courses they have studied in.
    pub courses: Vec<RecordCourse>,
    /// Reading time of all lessons studied, in hours.
    pub hours_studied: f64,
    /// Continuing-education credit hours earned (courses complete).
    pub credit_hours: f64,
    /// Quizzes submitted.
    pub quizzes: Vec<RecordQuiz>,
    /// Workshop sign-ups.
    pub workshops: Vec<RecordWorkshop>,
    /// Green-channel referrals and the share the clinic judged appropriate.
    pub referrals: crate::domain::referral::Quality,
}

pub fn record_of(conn: &mut DbConn, person_id: i64) -> Result<TrainingRecord> {
    let person = people::find(conn, person_id)?.ok_or(Error::NotFound)?;
    let institution = match person.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.name),
        None => None,
    };
    // The courses on the record: every course of an enrolled track, and any
    // other course the doctor has studied in the library.
    let mut tracks = Vec::new();
    let mut course_rows: Vec<CourseRow> = Vec::new();
    for (_, track) in store_training::enrolments_of(conn, person_id)? {
        let progress = track_progress_in(conn, person_id, &track)?;
        tracks.push(RecordTrack {
            key: track.track_key.clone(),
            title: track.title.clone(),
            complete: progress.complete,
        });
        for c in store_training::courses_of_track(conn, track.id)? {
            if !course_rows.iter().any(|r| r.id == c.id) {
                course_rows.push(c);
            }
        }
    }
    for c in store_training::list_courses(conn, false)? {
        if course_rows.iter().any(|r| r.id == c.id) {
            continue;
        }
        let heads = store_training::lesson_heads(conn, &[c.id])?;
        let ids: Vec<i64> = heads.iter().map(|h| h.id).collect();
        if !store_training::studied(conn, person_id, &ids)?.is_empty() {
            course_rows.push(c);
        }
    }
    let loaded = load_courses(conn, person_id, &course_rows)?;
    let all_ids: Vec<i64> = course_rows.iter().map(|c| c.id).collect();
    let heads = store_training::lesson_heads(conn, &all_ids)?;
    let head_ids: Vec<i64> = heads.iter().map(|h| h.id).collect();
    let studied = store_training::studied(conn, person_id, &head_ids)?;
    let mut courses = Vec::new();
    for (view, row) in loaded.views.iter().zip(&course_rows) {
        let minutes_studied = heads
            .iter()
            .filter(|h| h.course_id == row.id && studied.contains_key(&h.id))
            .map(|h| i64::from(h.minutes))
            .sum();
        courses.push(RecordCourse {
            key: view.key.clone(),
            title: view.title.clone(),
            credit_hours: view.credit_hours,
            lessons_studied: view.progress.lessons_studied,
            lessons: view.progress.lessons,
            quizzes_passed: view.progress.quizzes_passed,
            quizzes: view.progress.quizzes,
            complete: view.progress.complete,
            minutes_studied,
        });
    }
    let hours_studied = courses.iter().map(|c| c.minutes_studied).sum::<i64>() as f64 / 60.0;
    let credit_hours = training::credit_hours_earned(&loaded.evidence);
    let mut quizzes = Vec::new();
    for q in store_training::quizzes_of(conn, person_id)? {
        let Some(module) = store_training::find_module(conn, q.module_id)? else {
            continue;
        };
        let course_title = store_training::find_course_by_id(conn, module.course_id)?
            .map(|c| c.title)
            .unwrap_or_default();
        quizzes.push(RecordQuiz {
            course_title,
            module_title: module.title,
            score: q.score.unwrap_or(0),
            max_score: q.max_score,
            passed: q.passed.unwrap_or(false),
            submitted_at: utc(q.submitted_at.unwrap_or(q.started_at)),
        });
    }
    let workshops = store_training::signups_of_person(conn, person_id)?
        .into_iter()
        .map(|(signup, session, workshop)| RecordWorkshop {
            workshop_title: workshop.title,
            starts_at: utc(session.starts_at),
            place: session.place,
            status: signup.status,
            attended: signup.attended,
        })
        .collect();
    Ok(TrainingRecord {
        person_id,
        name: person.name,
        email: person.email,
        institution,
        tracks,
        courses,
        hours_studied,
        credit_hours,
        quizzes,
        workshops,
        referrals: evidence::referral_quality(conn, person_id)?,
    })
}

/// A doctor's training record: their own, or anyone's for an admin.
pub async fn record(ctx: &Ctx, caller: &Caller, person_id: Option<i64>) -> Result<TrainingRecord> {
    let person = subject(ctx, caller, person_id).await?;
    ctx.db.read(move |conn| record_of(conn, person)).await
}

/// The records of every doctor of an institution (admins).
pub async fn institution_records(
    ctx: &Ctx,
    caller: &Caller,
    institution_id: i64,
) -> Result<Vec<TrainingRecord>> {
    require(ctx, caller, Permission::ManageTraining).await?;
    ctx.db
        .read(move |conn| {
            institutions::find(conn, institution_id)?.ok_or(Error::NotFound)?;
            let mut out = Vec::new();
            for (id, _, _) in store_training::doctors_of_institution(conn, institution_id)? {
                let roles = people::roles_of(conn, id)?;
                if roles.contains(&crate::domain::roles::Role::Doctor) {
                    out.push(record_of(conn, id)?);
                }
            }
            Ok(out)
        })
        .await
}

/// The CSV columns of a training record, one row per course, quiz and
/// workshop sign-up.
pub const CSV_HEADER: [&str; 12] = [
    "name",
    "email",
    "institution",
    "type",
    "course",
    "item",
    "status",
    "score",
    "minutes_studied",
    "credit_hours",
    "date",
    "complete",
];

/// Writes records as CSV (the doctor's own export and an institution's).
pub fn records_csv(records: &[TrainingRecord], tz: chrono_tz::Tz) -> Result<String> {
    let mut w = Csv::new(CSV_HEADER).map_err(Error::internal)?;
    let day = |t: &DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d").to_string();
    for r in records {
        let who = [
            r.name.clone(),
            r.email.clone(),
            r.institution.clone().unwrap_or_default(),
        ];
        for c in &r.courses {
            let row = [
                "course".to_owned(),
                c.title.clone(),
                String::new(),
                format!(
                    "{}/{} lessons, {}/{} quizzes",
                    c.lessons_studied, c.lessons, c.quizzes_passed, c.quizzes
                ),
                String::new(),
                c.minutes_studied.to_string(),
                if c.complete {
                    format!("{}", c.credit_hours)
                } else {
                    "0".to_owned()
                },
                String::new(),
                if c.complete { "yes" } else { "no" }.to_owned(),
            ];
            w.row(who.iter().chain(row.iter()))
                .map_err(Error::internal)?;
        }
        for q in &r.quizzes {
            let row = [
                "quiz".to_owned(),
                q.course_title.clone(),
                q.module_title.clone(),
                if q.passed { "passed" } else { "failed" }.to_owned(),
                format!("{}/{}", q.score, q.max_score),
                String::new(),
                String::new(),
                day(&q.submitted_at),
                String::new(),
            ];
            w.row(who.iter().chain(row.iter()))
                .map_err(Error::internal)?;
        }
        for ws in &r.workshops {
            let status = match ws.attended {
                Some(true) => "attended".to_owned(),
                Some(false) => "absent".to_owned(),
                None => ws.status.clone(),
            };
            let row = [
                "workshop".to_owned(),
                String::new(),
                ws.workshop_title.clone(),
                status,
                String::new(),
                String::new(),
                String::new(),
                day(&ws.starts_at),
                String::new(),
            ];
            w.row(who.iter().chain(row.iter()))
                .map_err(Error::internal)?;
        }
    }
    w.finish().map_err(Error::internal)
}
