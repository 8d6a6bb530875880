//! Training endpoints: tracks and enrolment, the library and course
//! progress, module quizzes, and the training record. Progress and
//! completion come from the same service (and domain rule) as the pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::ids::PersonId;
use crate::domain::scoring::ShownAnswer;
use crate::services::Ctx;
use crate::services::training::{
    self, CourseView, QuizResult, QuizView, Roster, SessionView, TrackProgress, TrackSummary,
    TrainingRecord,
};
use crate::web::api::json::Json;
use crate::web::api::params::{ApiPath, ApiQuery, PersonQuery};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::session::ApiCaller;

type ApiResult = Result<HttpResponse, ApiError>;

/// Every track, with whether the caller is enrolled.
#[utoipa::path(get, path = "/api/v1/tracks", tag = "training", security(("bearer" = [])), responses((status = 200, body = [TrackSummary])))]
pub async fn list_tracks(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(training::tracks(&ctx, &caller.caller).await?))
}

/// Progress in a track and whether training is complete (the same rule
/// the certification pipeline uses).
#[utoipa::path(get, path = "/api/v1/tracks/{key}/progress", tag = "training", security(("bearer" = [])),
    params(("key" = String, Path), PersonQuery), responses((status = 200, body = TrackProgress), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn track_progress(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    key: ApiPath<String>,
    query: ApiQuery<PersonQuery>,
) -> ApiResult {
    let p = training::track_progress(&ctx, &caller.caller, &key, query.person_id).await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Enrolling in a track.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// The doctor to enrol (admins); oneself when absent.
    #[schema(value_type = Option<i64>)]
    pub person_id: Option<PersonId>,
}

/// Enrols oneself (doctors) or a doctor (admins) in a track.
#[utoipa::path(post, path = "/api/v1/tracks/{key}/enrolments", tag = "training", security(("bearer" = [])), request_body = EnrolBody,
    params(("key" = String, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn enrol(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    key: ApiPath<String>,
    body: Json<EnrolBody>,
) -> ApiResult {
    match body.0.person_id {
        Some(id) => training::enrol_doctor(&ctx, &caller.caller, &key, id).await?,
        None => training::enrol(&ctx, &caller.caller, &key).await?,
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The open library with the caller's progress.
#[utoipa::path(get, path = "/api/v1/courses", tag = "training", security(("bearer" = [])), responses((status = 200, body = [CourseView])))]
pub async fn library(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(training::library(&ctx, &caller.caller).await?))
}

/// One course's outline with the caller's progress.
#[utoipa::path(get, path = "/api/v1/courses/{key}", tag = "training", security(("bearer" = [])),
    params(("key" = String, Path)), responses((status = 200, body = CourseView), (status = 404, body = ErrorBody)))]
pub async fn course(ctx: web::Data<Ctx>, caller: ApiCaller, key: ApiPath<String>) -> ApiResult {
    Ok(HttpResponse::Ok().json(training::course(&ctx, &caller.caller, &key).await?))
}

/// Marking a lesson studied.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StudiedBody {
    /// The lesson version that was read.
    pub version: i32,
}

/// Marks a lesson studied at the version that was read.
#[utoipa::path(post, path = "/api/v1/courses/{key}/lessons/{lesson}/studied", tag = "training", security(("bearer" = [])), request_body = StudiedBody,
    params(("key" = String, Path), ("lesson" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn studied(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    path: ApiPath<(String, String)>,
    body: Json<StudiedBody>,
) -> ApiResult {
    let (course, lesson) = path.into_inner();
    training::mark_studied(&ctx, &caller.caller, &course, &lesson, body.0.version).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Draws a module quiz (each call a fresh draw; no answers in it).
#[utoipa::path(post, path = "/api/v1/courses/{key}/modules/{module}/quizzes", tag = "training", security(("bearer" = [])),
    params(("key" = String, Path), ("module" = String, Path)), responses((status = 201, body = QuizView), (status = 404, body = ErrorBody)))]
pub async fn start_quiz(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    path: ApiPath<(String, String)>,
) -> ApiResult {
    let (course, module) = path.into_inner();
    let q = training::start_quiz(&ctx, &caller.caller, &course, &module).await?;
    Ok(HttpResponse::Created().json(q))
}

/// An answer to one quiz question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizAnswer {
    /// The question's position in the quiz, from 0 (`QuizQuestion.position`).
    pub position: usize,
    /// Option positions as shown, or true/false.
    pub answer: ShownAnswer,
}

/// A quiz's answers; a question left out counts as unanswered.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizBody {
    /// One answer per answered question.
    pub answers: Vec<QuizAnswer>,
}

/// Scores a quiz and returns the feedback with explanations (submitting
/// again returns the same result).
#[utoipa::path(post, path = "/api/v1/quizzes/{id}/submit", tag = "training", security(("bearer" = [])), request_body = QuizBody,
    params(("id" = i64, Path)), responses((status = 200, body = QuizResult), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit_quiz(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<QuizBody>,
) -> ApiResult {
    let answers = body
        .0
        .answers
        .into_iter()
        .map(|a| (a.position, a.answer))
        .collect();
    let r = training::submit_quiz(&ctx, &caller.caller, id.into_inner(), answers).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// The training record: one's own, or another doctor's for admins.
#[utoipa::path(get, path = "/api/v1/training-record", tag = "training", security(("bearer" = [])),
    params(PersonQuery), responses((status = 200, body = TrainingRecord), (status = 403, body = ErrorBody)))]
pub async fn record(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    query: ApiQuery<PersonQuery>,
) -> ApiResult {
    Ok(HttpResponse::Ok().json(training::record(&ctx, &caller.caller, query.person_id).await?))
}

// ----- workshop sessions (what the workshop pages do) -----

/// The upcoming workshop sessions, with places booked and waiting and the
/// caller's own sign-up.
#[utoipa::path(get, path = "/api/v1/workshop-sessions", tag = "training", security(("bearer" = [])),
    responses((status = 200, body = [SessionView])))]
pub async fn sessions(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(training::sessions(&ctx, &caller.caller).await?))
}

/// A session to schedule (training managers).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    /// One of the tracks' workshops (`GET /api/v1/tracks/{key}/progress`
    /// lists them).
    pub workshop_id: i64,
    /// In the future.
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// After the start.
    pub ends_at: chrono::DateTime<chrono::Utc>,
    /// Where it takes place.
    pub place: String,
    /// 1 to 500 places; further sign-ups wait in order.
    pub capacity: i64,
    /// The person who runs it and records attendance.
    #[schema(value_type = i64)]
    pub instructor_id: PersonId,
}

/// What was created.
#[derive(serde::Serialize, ToSchema)]
pub struct Scheduled {
    /// Its id.
    pub id: i64,
}

/// Schedules a workshop session.
#[utoipa::path(post, path = "/api/v1/workshop-sessions", tag = "training", security(("bearer" = [])), request_body = SessionBody,
    responses((status = 201, body = Scheduled), (status = 422, body = ErrorBody)))]
pub async fn schedule_session(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<SessionBody>,
) -> ApiResult {
    let b = body.0;
    let input = training::SessionInput {
        workshop_id: b.workshop_id,
        starts_at: b.starts_at,
        ends_at: b.ends_at,
        place: b.place,
        capacity: b.capacity,
        instructor_id: b.instructor_id,
    };
    let id = training::schedule_session(&ctx, &caller.caller, input).await?;
    Ok(HttpResponse::Created().json(Scheduled { id }))
}

/// The caller's sign-up.
#[derive(serde::Serialize, ToSchema)]
pub struct SignedUp {
    /// `booked`, or `waiting` when the session is full (the first waiting
    /// gets a freed place, and an email).
    pub status: String,
}

/// Signs the caller up for a session: a place, or the waiting list.
#[utoipa::path(post, path = "/api/v1/workshop-sessions/{id}/sign-up", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = SignedUp), (status = 409, body = ErrorBody)))]
pub async fn sign_up(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    let status = training::sign_up(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(SignedUp {
        status: status.as_str().to_owned(),
    }))
}

/// Cancels the caller's sign-up; a freed place goes to the first waiting.
#[utoipa::path(post, path = "/api/v1/workshop-sessions/{id}/cancel", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn cancel(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    training::cancel(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A session's list of sign-ups (its instructor or an admin).
#[utoipa::path(get, path = "/api/v1/workshop-sessions/{id}/roster", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Roster)))]
pub async fn roster(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(training::roster(&ctx, &caller.caller, id.into_inner()).await?))
}

/// Whether a doctor attended a session.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    /// True if they attended, false if not.
    pub attended: bool,
}

/// Records whether a booked doctor attended (its instructor or an admin,
/// once the session has started).
#[utoipa::path(put, path = "/api/v1/workshop-sessions/{id}/attendance/{person_id}", tag = "training", security(("bearer" = [])),
    params(("id" = i64, Path), ("person_id" = i64, Path)), request_body = AttendanceBody,
    responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn attendance(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    path: ApiPath<(i64, PersonId)>,
    body: Json<AttendanceBody>,
) -> ApiResult {
    let (session, person) = path.into_inner();
    training::record_attendance(&ctx, &caller.caller, session, person, body.0.attended).await?;
    Ok(HttpResponse::NoContent().finish())
}
