//! Training endpoints: tracks and enrolment, the library and course
//! progress, module quizzes, and the training record. Progress and
//! completion come from the same service (and domain rule) as the pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::scoring::ShownAnswer;
use crate::services::Ctx;
use crate::services::training::{
    self, CourseView, QuizResult, QuizView, TrackProgress, TrackSummary, TrainingRecord,
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// The doctor to enrol (admins); oneself when absent.
    pub person_id: Option<i64>,
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizAnswer {
    pub position: usize,
    /// Option positions as shown, or true/false.
    #[schema(value_type = Object)]
    pub answer: ShownAnswer,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizBody {
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
