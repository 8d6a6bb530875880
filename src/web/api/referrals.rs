//! The green referral channel over the API: departments and capacity,
//! referrals and the desk's steps, community visits,
//! referral quality and the dashboard, and credential introspection
//! (RFC 7662) for hospital information systems.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::Error;
use crate::services::Ctx;
use crate::services::idempotency::Idempotent;
use crate::services::referrals::{
    self, DepartmentInput, DepartmentView, FlaggedDoctor, Month, ReferralInput, ReferralLine,
    ReferralView,
};
use crate::web::api::created;
use crate::web::api::json::Json;
use crate::web::api::params::{ApiPath, IdempotencyHeader};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::session::ApiCaller;

type ApiResult = Result<HttpResponse, ApiError>;

/// Every department with its reserved capacity.
#[utoipa::path(get, path = "/api/v1/departments", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = [DepartmentView])))]
pub async fn departments(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(referrals::departments(&ctx, &caller.caller).await?))
}

/// Creates a department of the desk's hospital (or any, for an admin).
#[utoipa::path(post, path = "/api/v1/departments", tag = "referrals", security(("bearer" = [])), request_body = DepartmentInput,
    responses((status = 201, body = DepartmentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_department(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<DepartmentInput>,
) -> ApiResult {
    let d = referrals::save_department(&ctx, &caller.caller, None, body.0).await?;
    Ok(HttpResponse::Created().json(d))
}

/// Changes a department and its reserved capacity.
#[utoipa::path(put, path = "/api/v1/departments/{id}", tag = "referrals", security(("bearer" = [])), request_body = DepartmentInput,
    params(("id" = i64, Path)), responses((status = 200, body = DepartmentView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_department(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<DepartmentInput>,
) -> ApiResult {
    let d = referrals::save_department(&ctx, &caller.caller, Some(id.into_inner()), body.0).await?;
    Ok(HttpResponse::Ok().json(d))
}

/// Opens a green-channel referral. Refused with 403 and a stable code
/// (`no_credential`, `credential_suspended`, `credential_revoked`,
/// `credential_expired`, `out_of_scope`) unless the doctor holds a live
/// credential covering the department, checked in the writing transaction.
///
/// Send an `Idempotency-Key` so that a retry cannot open the referral twice:
/// the same referral with the same key within 24 hours creates nothing and
/// gets the first answer again (with `Idempotent-Replayed: true`); another
/// request with that key is refused (422, `field` = `Idempotency-Key`).
#[utoipa::path(post, path = "/api/v1/referrals", tag = "referrals", security(("bearer" = [])), request_body = ReferralInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Your key for this create (1 to 255 visible ASCII characters, e.g. a UUID); kept 24 hours")),
    responses((status = 201, body = ReferralView, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to the same request and key, replayed"))),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    key: IdempotencyHeader,
    body: Json<ReferralInput>,
) -> ApiResult {
    let idem = key.0.map(|key| Idempotent {
        key,
        render: serde_json::to_string,
    });
    let outcome = referrals::open(&ctx, &caller.caller, body.0, idem).await?;
    Ok(created(outcome, |v| v))
}

/// The caller's referrals: a doctor's own, a desk's incoming, all for admins.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = [ReferralLine])))]
pub async fn list(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(referrals::list(&ctx, &caller.caller).await?))
}

/// One referral with its patient data: its parties only; every view recorded.
#[utoipa::path(get, path = "/api/v1/referrals/{id}", tag = "referrals", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = ReferralView), (status = 403, body = ErrorBody)))]
pub async fn get(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    Ok(HttpResponse::Ok().json(referrals::referral(&ctx, &caller.caller, id.into_inner()).await?))
}

/// Accepting a referral.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The clinic day; defaults to the slot the doctor booked. An urgent
    /// referral may be accepted with neither: the child is received at once
    /// (`slot_date` stays null, the step is `accepted_urgent`); a routine
    /// one without a day is refused with 422 naming `slot_date`.
    #[serde(default)]
    pub slot_date: Option<String>,
}

/// Declining a referral.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why the desk declines it (shown to the referring doctor).
    pub reason: String,
}

/// The clinic's judgement of a referral.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// Whether the referral was appropriate.
    pub appropriate: bool,
    /// Why (required; at most 2,000 characters).
    pub comment: String,
}

/// Referring a child back down.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackBody {
    /// Follow-up instructions for the community doctor.
    pub instructions: String,
}

/// The desk accepts, confirming a reserved slot (or, for an urgent
/// referral, receiving the child at once without one).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/accept", tag = "referrals", security(("bearer" = [])), request_body = AcceptBody,
    params(("id" = i64, Path)), responses((status = 200, body = ReferralView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<AcceptBody>,
) -> ApiResult {
    let view = referrals::accept(&ctx, &caller.caller, id.into_inner(), body.0.slot_date).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The desk declines, with a reason.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/decline", tag = "referrals", security(("bearer" = [])), request_body = ReasonBody,
    params(("id" = i64, Path)), responses((status = 200, body = ReferralView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn decline(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<ReasonBody>,
) -> ApiResult {
    let view = referrals::decline(&ctx, &caller.caller, id.into_inner(), body.0.reason).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The desk marks the patient seen.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/seen", tag = "referrals", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = ReferralView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn seen(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<i64>) -> ApiResult {
    let view = referrals::mark_seen(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The desk rates the referral appropriate or not (after the visit, once).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/rating", operation_id = "rate_referral", tag = "referrals", security(("bearer" = [])), request_body = RatingBody,
    params(("id" = i64, Path)), responses((status = 200, body = ReferralView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rate(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<RatingBody>,
) -> ApiResult {
    let b = body.0;
    let view = referrals::rate(
        &ctx,
        &caller.caller,
        id.into_inner(),
        b.appropriate,
        b.comment,
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The desk refers the patient back down with follow-up instructions.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/refer-back", tag = "referrals", security(("bearer" = [])), request_body = BackBody,
    params(("id" = i64, Path)), responses((status = 200, body = ReferralView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn refer_back(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<BackBody>,
) -> ApiResult {
    let view =
        referrals::refer_back(&ctx, &caller.caller, id.into_inner(), body.0.instructions).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// How many first visits the calling doctor saw on one day (not in the
/// future); a second report for the day replaces the first.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitsBody {
    /// YYYY-MM-DD
    pub date: String,
    /// How many (0 to 1000).
    pub first_visits: i64,
}

/// A doctor records the day's community first visits.
#[utoipa::path(put, path = "/api/v1/visits", tag = "referrals", security(("bearer" = [])), request_body = VisitsBody,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn visits(ctx: web::Data<Ctx>, caller: ApiCaller, body: Json<VisitsBody>) -> ApiResult {
    referrals::record_visits(&ctx, &caller.caller, body.0.date, body.0.first_visits).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's referral quality.
#[utoipa::path(get, path = "/api/v1/me/referral-quality", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = crate::domain::referrals::Quality)))]
pub async fn my_quality(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(referrals::my_quality(&ctx, &caller.caller).await?))
}

/// Doctors flagged for the committee.
#[utoipa::path(get, path = "/api/v1/referral-flags", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = [FlaggedDoctor]), (status = 403, body = ErrorBody)))]
pub async fn flags(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(referrals::flagged(&ctx, &caller.caller).await?))
}

/// The alliance dashboard, month by month.
#[utoipa::path(get, path = "/api/v1/referral-dashboard", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = [Month]), (status = 403, body = ErrorBody)))]
pub async fn dashboard(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(referrals::dashboard(&ctx, &caller.caller).await?))
}

/// The alliance at a glance: institutions, doctors in the programme, alliance
/// doctors and their credentials, training in the last 12 months.
#[utoipa::path(get, path = "/api/v1/alliance-overview", tag = "referrals", security(("bearer" = [])),
    responses((status = 200, body = crate::services::overview::Overview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn overview(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(crate::services::overview::alliance(&ctx, &caller.caller).await?))
}

/// RFC 7662 token introspection: may this credential's holder refer now?
#[derive(Deserialize, ToSchema)]
pub struct IntrospectBody {
    /// The credential number.
    pub token: String,
    /// A department id or code: is the doctor allowed to refer there?
    #[serde(default)]
    pub department: Option<String>,
    /// Accepted and ignored (RFC 7662).
    #[serde(default)]
    pub token_type_hint: Option<String>,
}

/// RFC 7662-style introspection for hospital systems (an integration token
/// with the `credentials:introspect` scope): `{"active":true, jti, sub, exp,
/// scope, …}` when the doctor may refer (to `department`, if given) now,
/// otherwise only `{"active":false}`. The body may be a form (as RFC 7662
/// has it) or JSON.
#[utoipa::path(post, path = "/api/v1/credentials/introspect", tag = "referrals", security(("bearer" = [])), request_body = IntrospectBody,
    responses((status = 200, body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn introspect(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    req: HttpRequest,
    body: web::Bytes,
) -> ApiResult {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed: IntrospectBody = if is_json {
        serde_json::from_slice(&body).map_err(|e| Error::Malformed(e.to_string()))?
    } else {
        serde_html_form::from_bytes(&body)
            .map_err(|_detail| Error::invalid("token", "is required"))?
    };
    let v = referrals::introspect(&ctx, &caller.caller, parsed.token, parsed.department).await?;
    Ok(HttpResponse::Ok().json(v))
}
