//! A doctor's progress: the tracks, enrolment, and the progress views of
//! courses and tracks built from the evidence the pipeline decides on
//! (`services::evidence`).

use super::*;
use crate::domain::ids::PersonId;

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
    #[schema(value_type = i64)]
    pub person_id: PersonId,
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
pub(super) struct Loaded {
    pub(super) views: Vec<CourseView>,
    pub(super) evidence: Vec<CourseEvidence>,
}

fn lesson_url(course: &str, lesson: &str) -> String {
    format!("/courses/{course}/lessons/{lesson}")
}

fn quiz_url(course: &str, module: &str) -> String {
    format!("/courses/{course}/modules/{module}/quiz")
}

pub(super) fn load_courses(
    conn: &mut DbConn,
    person_id: PersonId,
    courses: &[CourseRow],
) -> Result<Loaded> {
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
pub(super) fn track_progress_in(
    conn: &mut DbConn,
    person_id: PersonId,
    track: &TrackRow,
) -> Result<TrackProgress> {
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
    person_id: Option<PersonId>,
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
    person_id: PersonId,
) -> Result<()> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let by = caller.person_id();
    enrol_person(ctx, caller, track_key, person_id, by).await
}

async fn enrol_person(
    ctx: &Ctx,
    caller: &Caller,
    track_key: &str,
    person_id: PersonId,
    by: Option<PersonId>,
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
