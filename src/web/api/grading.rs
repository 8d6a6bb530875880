//! Marking (examiners), marking progress and releasing results (the exam's
//! owner), and a candidate's result.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::ids::PersonId;
use crate::services::Ctx;
use crate::services::grading::{
    self, CriterionMark, MarkingQueue, MarkingStatus, ResultView, TaskView,
};
use crate::web::api::json::Json;
use crate::web::api::params::{ApiPath, ApiQuery, PersonQuery};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::session::ApiCaller;

type ApiResult = Result<HttpResponse, ApiError>;

/// The caller's marking queue with progress.
#[utoipa::path(get, path = "/api/v1/marking", operation_id = "marking_queue", tag = "grading", security(("bearer" = [])), responses((status = 200, body = MarkingQueue), (status = 403, body = ErrorBody)))]
pub async fn queue(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(grading::queue(&ctx, &caller.caller).await?))
}

/// One marking task: question, rubric, model answer and the answer, under
/// the attempt's code (never the candidate), with one's own marks only.
#[utoipa::path(get, path = "/api/v1/marking/{id}", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = TaskView), (status = 403, body = ErrorBody)))]
pub async fn task(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(grading::task(&ctx, &caller.caller, id.into_inner()).await?))
}

/// An examiner's marks for a case answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarksBody {
    /// One per rubric criterion, in rubric order.
    pub marks: Vec<CriterionMark>,
}

/// Records (or changes, until the final mark) one's marking of a task.
#[utoipa::path(put, path = "/api/v1/marking/{id}", tag = "grading", security(("bearer" = [])), request_body = MarksBody,
    params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<MarksBody>,
) -> ApiResult {
    grading::submit_marks(&ctx, &caller.caller, id.into_inner(), body.0.marks).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marking progress of an exam (admins).
#[utoipa::path(get, path = "/api/v1/exams/{id}/marking", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = MarkingStatus), (status = 403, body = ErrorBody)))]
pub async fn status(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok()
        .json(grading::marking_status(&ctx, &caller.caller, id.into_inner()).await?))
}

/// Closing an exam early.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// Why the exam closes on registered candidates who have not submitted
    /// (kept in the audit record); not needed when every one has.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Closes the exam now, before its window ends (the exam's owner): when
/// every registered candidate has submitted, or with a reason; never while
/// a candidate is sitting it. Marking and release then follow.
#[utoipa::path(post, path = "/api/v1/exams/{id}/close", tag = "exams", security(("bearer" = [])), request_body = CloseBody,
    params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn close(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: crate::web::api::json::Json<CloseBody>,
) -> ApiResult {
    crate::services::exams::close_early(&ctx, &caller.caller, id.into_inner(), body.0.reason)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Releases the results (the exam's owner; refused while marking is incomplete).
#[utoipa::path(post, path = "/api/v1/exams/{id}/release", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn release(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    grading::release(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One's own result, once released, as the exam's review policy allows.
#[utoipa::path(get, path = "/api/v1/attempts/{id}/result", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = ResultView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn result(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(grading::result(&ctx, &caller.caller, id.into_inner()).await?))
}

/// Item analysis of an exam (committee and admins); newly flagged questions
/// are opened for review.
#[utoipa::path(get, path = "/api/v1/exams/{id}/analysis", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = crate::services::analysis::AnalysisView), (status = 403, body = ErrorBody)))]
pub async fn analysis(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok()
        .json(crate::services::analysis::analysis(&ctx, &caller.caller, id.into_inner()).await?))
}

/// The committee's decision on a flagged question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// `keep` or `remove`.
    pub decision: String,
    /// Why (kept in the audit record).
    #[serde(default)]
    pub reason: String,
    /// Only show whose results would change.
    #[serde(default)]
    pub dry_run: bool,
}

/// The committee keeps or removes a question (removal regrades the exam).
#[utoipa::path(post, path = "/api/v1/exams/{id}/questions/{question}/review", tag = "grading", security(("bearer" = [])), request_body = ReviewBody,
    params(("id" = i64, Path), ("question" = i64, Path)),
    responses((status = 200, body = [crate::services::analysis::Change]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn review(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    path: ApiPath<(i64, i64)>,
    body: Json<ReviewBody>,
) -> ApiResult {
    use crate::services::analysis;
    let (exam, question) = path.into_inner();
    let b = body.0;
    let changes = analysis::review(
        &ctx,
        &caller.caller,
        exam,
        question,
        &b.decision,
        &b.reason,
        b.dry_run,
    )
    .await?;
    Ok(HttpResponse::Ok().json(changes))
}

/// An appeal against the mark of one question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    /// The question's position on the paper.
    pub position: i32,
    /// Why the candidate thinks the mark is wrong.
    pub reason: String,
}

/// Appeals the mark of one of one's examiner-marked answers, within the
/// appeal period after results are released.
#[utoipa::path(post, path = "/api/v1/attempts/{id}/appeals", tag = "grading", security(("bearer" = [])), request_body = AppealBody,
    params(("id" = i64, Path)), responses((status = 201, body = grading::AppealView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn appeal(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<AppealBody>,
) -> ApiResult {
    let b = body.0;
    let v = grading::appeal(&ctx, &caller.caller, id.into_inner(), b.position, &b.reason).await?;
    Ok(HttpResponse::Created().json(v))
}

/// Asking whose attempt a blind code is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    /// The attempt's blind code.
    pub code: String,
    /// Why the identity is needed (recorded).
    pub reason: String,
}

/// Reveals who wrote a coded attempt (admins; recorded with the reason).
#[utoipa::path(post, path = "/api/v1/identity-reveals", tag = "grading", security(("bearer" = [])), request_body = RevealBody,
    responses((status = 200, body = grading::Identity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reveal(ctx: web::Data<Ctx>, caller: ApiCaller, body: Json<RevealBody>) -> ApiResult {
    let b = body.0;
    Ok(HttpResponse::Ok().json(grading::reveal(&ctx, &caller.caller, &b.code, &b.reason).await?))
}

/// Opens a round of modified-Angoff standard setting for an exam.
#[utoipa::path(post, path = "/api/v1/exams/{id}/standard-settings", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 201, body = grading::SettingView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_setting(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Created()
        .json(grading::open_setting(&ctx, &caller.caller, id.into_inner()).await?))
}

/// A standard setting with the questions to rate and the caller's ratings.
#[utoipa::path(get, path = "/api/v1/standard-settings/{id}", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = grading::SettingView), (status = 403, body = ErrorBody)))]
pub async fn get_setting(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(grading::get_setting(&ctx, &caller.caller, id.into_inner()).await?))
}

/// A committee member's rating of one question.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    /// The question's id (`RatedQuestion.question_id`).
    pub question_id: i64,
    /// Probability (0 to 1) that a borderline candidate answers it right.
    pub probability: f64,
}

/// A committee member's ratings in a standard-setting round.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingsBody {
    /// One rating per question rated.
    pub ratings: Vec<Rating>,
}

/// A committee member's ratings (replacing earlier ones for those questions).
#[utoipa::path(put, path = "/api/v1/standard-settings/{id}/ratings", operation_id = "rate_items", tag = "grading", security(("bearer" = [])), request_body = RatingsBody,
    params(("id" = i64, Path)), responses((status = 200, body = grading::SettingView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn rate(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<RatingsBody>,
) -> ApiResult {
    let ratings = body
        .0
        .ratings
        .into_iter()
        .map(|r| (r.question_id, r.probability))
        .collect();
    Ok(HttpResponse::Ok()
        .json(grading::rate(&ctx, &caller.caller, id.into_inner(), ratings).await?))
}

/// The committee approves the cut score: it becomes the exam's pass mark.
#[utoipa::path(post, path = "/api/v1/standard-settings/{id}/approve", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = grading::SettingView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_setting(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
) -> ApiResult {
    Ok(HttpResponse::Ok()
        .json(grading::approve_setting(&ctx, &caller.caller, id.into_inner()).await?))
}

/// A practical station to create.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StationBody {
    /// The track's key.
    pub track: String,
    /// The station's title.
    pub title: String,
    /// The id (in its bank) of a case question whose rubric the station uses.
    pub question: String,
    /// Percent of the points needed to pass the station.
    pub pass_percent: i64,
}

/// Sets up a practical (skills) station (admins).
#[utoipa::path(post, path = "/api/v1/practical-stations", tag = "grading", security(("bearer" = [])), request_body = StationBody,
    responses((status = 201, body = grading::StationView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_station(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<StationBody>,
) -> ApiResult {
    let b = body.0;
    let v = grading::create_station(
        &ctx,
        &caller.caller,
        &b.track,
        &b.title,
        &b.question,
        b.pass_percent,
    )
    .await?;
    Ok(HttpResponse::Created().json(v))
}

/// A doctor's result at a practical station, as the examiner observed it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PracticalBody {
    /// The doctor's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// One mark per rubric criterion, in rubric order.
    pub marks: Vec<CriterionMark>,
}

/// The observing examiner enters a candidate's marks at a station.
#[utoipa::path(post, path = "/api/v1/practical-stations/{id}/results", tag = "grading", security(("bearer" = [])), request_body = PracticalBody,
    params(("id" = i64, Path)), responses((status = 200, body = grading::PracticalView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_practical(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<PracticalBody>,
) -> ApiResult {
    let b = body.0;
    let v = grading::record_practical(
        &ctx,
        &caller.caller,
        id.into_inner(),
        grading::CandidateRef::Id(b.person_id),
        b.marks,
    )
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

/// Practical results: one's own, or a doctor's for admins.
#[utoipa::path(get, path = "/api/v1/practical-results", tag = "grading", security(("bearer" = [])),
    params(PersonQuery), responses((status = 200, body = [grading::PracticalView]), (status = 403, body = ErrorBody)))]
pub async fn practicals(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    query: ApiQuery<PersonQuery>,
) -> ApiResult {
    Ok(HttpResponse::Ok().json(grading::practicals(&ctx, &caller.caller, query.person_id).await?))
}

/// A question's statistics across every exam that drew it (committee and admins).
#[utoipa::path(get, path = "/api/v1/questions/{id}/analysis", tag = "grading", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = crate::services::analysis::QuestionHistory), (status = 403, body = ErrorBody)))]
pub async fn question_history(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
) -> ApiResult {
    Ok(HttpResponse::Ok().json(
        crate::services::analysis::question_history(&ctx, &caller.caller, id.into_inner()).await?,
    ))
}
