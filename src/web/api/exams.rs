//! Exam endpoints: scheduling and registration (admins), and taking an
//! attempt (the candidate).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::{ExamId, PersonId};
use crate::domain::papers::Blueprint;
use crate::domain::pipeline::ExamStage;
use crate::domain::scoring::ShownAnswer;
use crate::error::Error;
use crate::services::Ctx;
use crate::services::exams::{self, AccommodationInput, AttemptView, ExamInput, SaveAck};
pub use crate::services::exams::{Exam, Registration};
use crate::services::grading;
pub use crate::services::grading::ExamDetail;
use crate::services::idempotency::Idempotent;
use crate::web::api::created;
use crate::web::api::json::Json;
use crate::web::api::params::{ApiPath, IdempotencyHeader};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::session::{ApiCaller, bearer_token, client_ip};

type ApiResult = Result<HttpResponse, ApiError>;

/// A written exam to schedule.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExamBody {
    /// The track's key.
    pub track: String,
    /// The exam's title.
    pub title: String,
    /// When candidates may start (RFC 3339 UTC).
    pub opens_at: DateTime<Utc>,
    /// When the window closes (RFC 3339 UTC); attempts end by then.
    pub closes_at: DateTime<Utc>,
    /// Time for one attempt, in minutes.
    pub duration_minutes: i64,
    /// Percentage of the points needed to pass.
    pub pass_mark: i64,
    /// How many attempts a candidate has.
    pub attempts_allowed: i64,
    /// Days a candidate waits after an attempt before the next (0 to 365; default 0).
    #[serde(default)]
    pub waiting_days: i64,
    /// `score_only`, `topics` or `full`.
    pub review_policy: String,
    /// What each paper draws from the question banks.
    pub blueprint: Blueprint,
    /// Seconds after the deadline during which saves in flight are accepted (default 15).
    #[serde(default)]
    pub grace_seconds: Option<i64>,
    /// Percent of an item's points two markers may differ by before a third
    /// marks it (default 20).
    #[serde(default)]
    pub marking_tolerance: Option<i64>,
    /// Days an examiner has to mark (default 7).
    #[serde(default)]
    pub marking_days: Option<i64>,
    /// Days after the release during which candidates may appeal (default 14).
    #[serde(default)]
    pub appeal_days: Option<i64>,
    /// The pipeline stage the exam serves: `written` (default), `case` or
    /// `renewal`. Only a case at that stage may register.
    #[serde(default)]
    pub stage: Option<ExamStage>,
}

/// Registering a candidate for an exam.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    /// The candidate (a doctor whose case is at the exam's stage).
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// Extra minutes for this candidate (admins only).
    #[serde(default)]
    pub extra_minutes: i64,
    /// A different window for this candidate (admins only).
    #[serde(default)]
    pub opens_at: Option<DateTime<Utc>>,
    /// The end of this candidate's different window (admins only).
    #[serde(default)]
    pub closes_at: Option<DateTime<Utc>>,
}

/// One answer to save during an attempt.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Option positions as shown (`[0]`, `[0, 2]`), `true`/`false`, or text.
    pub answer: ShownAnswer,
    /// Increases with every change the candidate makes to this question.
    pub seq: i64,
}

/// How many papers were drawn ahead.
#[derive(Serialize, ToSchema)]
pub struct Predrawn {
    /// Papers drawn now (candidates who already had one are skipped).
    pub drawn: usize,
}

/// Schedules an exam; the blueprint is checked against the banks. With an
/// `Idempotency-Key`, the same exam sent again within 24 hours schedules
/// nothing and gets the first answer (`Idempotent-Replayed: true`); another
/// request with that key is refused (422, `field` = `Idempotency-Key`).
#[utoipa::path(post, path = "/api/v1/exams", tag = "exams", security(("bearer" = [])), request_body = ExamBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Your key for this create (1 to 255 visible ASCII characters, e.g. a UUID); kept 24 hours")),
    responses((status = 201, body = Exam, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same request and key, replayed"))),
        (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn schedule_exam(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    key: IdempotencyHeader,
    body: Json<ExamBody>,
) -> ApiResult {
    let b = body.0;
    let input = ExamInput {
        track: b.track,
        title: b.title,
        opens_at: b.opens_at,
        closes_at: b.closes_at,
        duration_minutes: b.duration_minutes,
        pass_mark: b.pass_mark,
        attempts_allowed: b.attempts_allowed,
        waiting_days: b.waiting_days,
        review_policy: b.review_policy,
        blueprint: b.blueprint,
        grace_seconds: b.grace_seconds,
        marking_tolerance: b.marking_tolerance,
        marking_days: b.marking_days,
        appeal_days: b.appeal_days,
        stage: b.stage,
    };
    match key.0 {
        Some(key) => {
            let idem = Idempotent {
                key,
                render: |exam: &Exam| serde_json::to_string(exam),
            };
            let outcome = exams::schedule_keyed(&ctx, &caller.caller, input, idem).await?;
            Ok(created(outcome, std::convert::identity))
        }
        None => {
            let exam = exams::schedule(&ctx, &caller.caller, input).await?;
            Ok(HttpResponse::Created().json(exam))
        }
    }
}

/// Exams: all of them for admins, one's own registrations for candidates.
#[utoipa::path(get, path = "/api/v1/exams", tag = "exams", security(("bearer" = [])), responses((status = 200, body = [Exam])))]
pub async fn list_exams(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    let rows = exams::list(&ctx, &caller.caller).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// One exam: its window, pass mark (and the standard-setting round that set
/// it), blueprint and standard-setting rounds with their cut scores. For
/// admins and the committee; the seeds of candidates' papers are in each
/// case's dossier (`GET /api/v1/cases/{id}/dossier`).
#[utoipa::path(get, path = "/api/v1/exams/{id}", tag = "exams", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ExamDetail), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_exam(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<ExamId>) -> ApiResult {
    let detail = grading::exam_detail(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Registers a candidate (admins: anyone eligible, with accommodations;
/// doctors: themselves).
#[utoipa::path(post, path = "/api/v1/exams/{id}/registrations", tag = "exams", security(("bearer" = [])), request_body = RegistrationBody,
    params(("id" = i64, Path)), responses((status = 201, body = Registration), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn register(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<ExamId>,
    body: Json<RegistrationBody>,
) -> ApiResult {
    let b = body.0;
    let row = exams::register(
        &ctx,
        &caller.caller,
        id.into_inner(),
        b.person_id,
        AccommodationInput {
            extra_minutes: b.extra_minutes,
            opens_at: b.opens_at,
            closes_at: b.closes_at,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(row))
}

/// Draws every registered candidate's paper ahead of the opening.
#[utoipa::path(post, path = "/api/v1/exams/{id}/predraw", tag = "exams", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Predrawn), (status = 403, body = ErrorBody)))]
pub async fn predraw(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<ExamId>) -> ApiResult {
    let drawn = exams::predraw(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Predrawn { drawn }))
}

/// The candidate of an exam-day request: the bearer token, signed in inside
/// the request's one database write (see `exams::Taker`) rather than by
/// `ApiCaller`, which would be a visit to the database of its own.
fn taker(req: &HttpRequest) -> Result<exams::Taker<'static>, ApiError> {
    let token = bearer_token(req).ok_or(ApiError(Error::Unauthenticated))?;
    Ok(exams::Taker::Bearer {
        token,
        ip: client_ip(req),
    })
}

/// Starts the caller's attempt, or returns the one under way (idempotent).
#[utoipa::path(post, path = "/api/v1/exams/{id}/attempts", tag = "exams", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = AttemptView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn start_attempt(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    id: ApiPath<ExamId>,
) -> ApiResult {
    let started = exams::start(&ctx, taker(&req)?, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type(actix_web::http::header::ContentType::json())
        .body(started.to_json()?))
}

/// The caller's attempt with saved answers and the time left; never the key.
#[utoipa::path(get, path = "/api/v1/attempts/{id}", tag = "exams", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = AttemptView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_attempt(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    let view = exams::get(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Saves one answer (idempotent; the highest `seq` wins).
#[utoipa::path(put, path = "/api/v1/attempts/{id}/answers/{position}", tag = "exams", security(("bearer" = [])), request_body = AnswerBody,
    params(("id" = i64, Path), ("position" = i32, Path)),
    responses((status = 200, body = SaveAck), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn save_answer(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    path: ApiPath<(i64, i32)>,
    body: Result<Json<AnswerBody>, ApiError>,
) -> ApiResult {
    let (id, position) = path.into_inner();
    // The token is checked in the save's own transaction (the hot path of
    // exam day), so a bad body is reported here only to a caller with a
    // valid token: anyone else gets 401, as from every other operation.
    let taker = taker(&req)?;
    let b = match body {
        Ok(body) => body.0,
        Err(bad_body) => {
            <ApiCaller as actix_web::FromRequest>::extract(&req).await?;
            return Err(bad_body);
        }
    };
    let ack = exams::save(&ctx, taker, id, position, b.answer, b.seq).await?;
    Ok(HttpResponse::Ok().json(ack))
}

/// Submits the attempt (idempotent).
#[utoipa::path(post, path = "/api/v1/attempts/{id}/submit", tag = "exams", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = AttemptView), (status = 403, body = ErrorBody)))]
pub async fn submit_attempt(ctx: web::Data<Ctx>, req: HttpRequest, id: ApiPath<i64>) -> ApiResult {
    let view = exams::submit(&ctx, taker(&req)?, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}
