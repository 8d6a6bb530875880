//! The training record of a doctor (their own, or anyone's for an admin) and
//! an institution's records as a spreadsheet.

use super::*;
use crate::domain::ids::PersonId;
use crate::domain::numbers::i64_f64;

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
    #[schema(value_type = i64)]
    pub person_id: PersonId,
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
    pub referrals: crate::domain::referrals::Quality,
}

/// The doctor's enrolled tracks, and the courses on the record: every
/// course of an enrolled track, and any other course the doctor has studied
/// in the library.
fn tracks_and_courses(
    conn: &mut DbConn,
    person_id: PersonId,
) -> Result<(Vec<RecordTrack>, Vec<CourseRow>)> {
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
    Ok((tracks, course_rows))
}

/// The doctor's quizzes, each with its course and module.
fn quizzes_on_record(conn: &mut DbConn, person_id: PersonId) -> Result<Vec<RecordQuiz>> {
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
    Ok(quizzes)
}

pub fn record_of(conn: &mut DbConn, person_id: PersonId) -> Result<TrainingRecord> {
    let person = people::find(conn, person_id)?.ok_or(Error::NotFound)?;
    let institution = match person.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.name),
        None => None,
    };
    let (tracks, course_rows) = tracks_and_courses(conn, person_id)?;
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
    let hours_studied = i64_f64(courses.iter().map(|c| c.minutes_studied).sum::<i64>()) / 60.0;
    let credit_hours = training::credit_hours_earned(&loaded.evidence);
    let quizzes = quizzes_on_record(conn, person_id)?;
    let workshops = store_training::signups_of_person(conn, person_id)?
        .into_iter()
        .map(|(signup, session, workshop)| RecordWorkshop {
            workshop_title: workshop.title,
            starts_at: utc(session.starts_at),
            place: session.place,
            status: signup.status.as_str().to_owned(),
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
pub async fn record(
    ctx: &Ctx,
    caller: &Caller,
    person_id: Option<PersonId>,
) -> Result<TrainingRecord> {
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
    let mut w = Csv::new(CSV_HEADER).map_err(csv_failed)?;
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
            w.row(who.iter().chain(row.iter())).map_err(csv_failed)?;
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
            w.row(who.iter().chain(row.iter())).map_err(csv_failed)?;
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
            w.row(who.iter().chain(row.iter())).map_err(csv_failed)?;
        }
    }
    w.finish().map_err(csv_failed)
}

fn csv_failed(e: csv::Error) -> Error {
    Error::internal_from("training records CSV", e)
}
