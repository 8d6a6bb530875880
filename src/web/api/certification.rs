//! Certification over the API: cases (apply, timeline, every case, the
//! funnel), the committee (queue, dossier, votes, track policy) and
//! credentials (status changes, the signed credential). The public,
//! unauthenticated endpoints (JWK set, status lists, verification) are in
//! `web::public`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::committee::Vote;
use crate::domain::ids::CaseId;
use crate::domain::pipeline::Kind;
use crate::services::Ctx;
use crate::services::committee::{self, Dossier, QueueLine, TrackPolicy};
use crate::services::credentials::{self, Change, ChangeResult, CredentialView, PublicView};
use crate::services::pipeline::{self, CaseLine, CaseView, Funnel};
use crate::web::api::json::Json;
use crate::web::api::params::{ApiPath, ApiQuery};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::session::{ApiCaller, client_ip};

type ApiResult = Result<HttpResponse, ApiError>;

/// Opening a certification case.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The track's key, e.g. `paediatrics`.
    pub track: String,
    /// `initial` (default) or `renewal`.
    #[serde(default)]
    pub kind: Option<Kind>,
}

/// A doctor applies for certification in a track (or for renewal).
#[utoipa::path(post, path = "/api/v1/cases", tag = "certification", security(("bearer" = [])), request_body = ApplyBody,
    responses((status = 201, body = CaseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn apply(ctx: web::Data<Ctx>, caller: ApiCaller, body: Json<ApplyBody>) -> ApiResult {
    let b = body.0;
    let case = pipeline::apply(
        &ctx,
        &caller.caller,
        b.track,
        b.kind.unwrap_or(Kind::Initial),
    )
    .await?;
    Ok(HttpResponse::Created().json(case))
}

/// The caller's own cases with their timelines.
#[utoipa::path(get, path = "/api/v1/me/cases", tag = "certification", security(("bearer" = [])),
    responses((status = 200, body = [CaseView]), (status = 403, body = ErrorBody)))]
pub async fn my_cases(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(pipeline::my_cases(&ctx, &caller.caller).await?))
}

#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// Only this track's cases.
    pub track: Option<String>,
}

/// Every case (committee and admins).
#[utoipa::path(get, path = "/api/v1/cases", tag = "certification", security(("bearer" = [])), params(CasesQuery),
    responses((status = 200, body = [CaseLine]), (status = 403, body = ErrorBody)))]
pub async fn cases(ctx: web::Data<Ctx>, caller: ApiCaller, q: ApiQuery<CasesQuery>) -> ApiResult {
    Ok(HttpResponse::Ok().json(pipeline::cases(&ctx, &caller.caller, q.into_inner().track).await?))
}

/// One case: its doctor's own, or any for the committee and admins.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "certification", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = CaseView), (status = 403, body = ErrorBody)))]
pub async fn case(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<CaseId>) -> ApiResult {
    Ok(HttpResponse::Ok().json(pipeline::case(&ctx, &caller.caller, id.into_inner()).await?))
}

/// The funnel of a track: cases reaching, at and passing each stage.
#[utoipa::path(get, path = "/api/v1/tracks/{key}/funnel", tag = "certification", security(("bearer" = [])),
    params(("key" = String, Path)), responses((status = 200, body = Funnel), (status = 403, body = ErrorBody)))]
pub async fn funnel(ctx: web::Data<Ctx>, caller: ApiCaller, key: ApiPath<String>) -> ApiResult {
    Ok(HttpResponse::Ok().json(pipeline::funnel(&ctx, &caller.caller, key.into_inner()).await?))
}

/// The committee's queue: cases whose evidence is complete.
#[utoipa::path(get, path = "/api/v1/committee/queue", operation_id = "committee_queue", tag = "certification", security(("bearer" = [])),
    responses((status = 200, body = [QueueLine]), (status = 403, body = ErrorBody)))]
pub async fn queue(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(committee::queue(&ctx, &caller.caller).await?))
}

/// A case's dossier: training record, exam scores per topic, case-analysis
/// marks with examiners' comments, appeals, practicals; votes once decided.
#[utoipa::path(get, path = "/api/v1/cases/{id}/dossier", tag = "certification", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Dossier), (status = 403, body = ErrorBody)))]
pub async fn dossier(ctx: web::Data<Ctx>, caller: ApiCaller, id: ApiPath<CaseId>) -> ApiResult {
    Ok(HttpResponse::Ok().json(committee::dossier(&ctx, &caller.caller, id.into_inner()).await?))
}

/// A committee member's vote on a case.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    /// Approve or reject.
    pub vote: Vote,
    /// Why (kept with the vote).
    pub reason: String,
}

/// A committee member's vote (secret until the decision).
#[utoipa::path(post, path = "/api/v1/cases/{id}/votes", tag = "certification", security(("bearer" = [])), request_body = VoteBody,
    params(("id" = i64, Path)), responses((status = 201, body = CaseView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn vote(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<CaseId>,
    body: Json<VoteBody>,
) -> ApiResult {
    let b = body.0;
    let case = committee::vote(&ctx, &caller.caller, id.into_inner(), b.vote, b.reason).await?;
    Ok(HttpResponse::Created().json(case))
}

/// A track's policy.
#[utoipa::path(get, path = "/api/v1/tracks/{key}/policy", tag = "certification", security(("bearer" = [])),
    params(("key" = String, Path)), responses((status = 200, body = TrackPolicy), (status = 403, body = ErrorBody)))]
pub async fn get_policy(ctx: web::Data<Ctx>, caller: ApiCaller, key: ApiPath<String>) -> ApiResult {
    Ok(HttpResponse::Ok().json(committee::policy(&ctx, &caller.caller, key.into_inner()).await?))
}

/// Sets a track's policy (committee members).
#[utoipa::path(put, path = "/api/v1/tracks/{key}/policy", tag = "certification", security(("bearer" = [])), request_body = TrackPolicy,
    params(("key" = String, Path)), responses((status = 200, body = TrackPolicy), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_policy(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    key: ApiPath<String>,
    body: Json<TrackPolicy>,
) -> ApiResult {
    Ok(HttpResponse::Ok()
        .json(committee::set_policy(&ctx, &caller.caller, key.into_inner(), body.0).await?))
}

/// The caller's credentials.
#[utoipa::path(get, path = "/api/v1/me/credentials", tag = "certification", security(("bearer" = [])),
    responses((status = 200, body = [CredentialView]), (status = 403, body = ErrorBody)))]
pub async fn my_credentials(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(credentials::mine(&ctx, &caller.caller).await?))
}

/// Every credential (committee and admins).
#[utoipa::path(get, path = "/api/v1/credentials", tag = "certification", security(("bearer" = [])),
    responses((status = 200, body = [CredentialView]), (status = 403, body = ErrorBody)))]
pub async fn all_credentials(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(credentials::all(&ctx, &caller.caller).await?))
}

/// A credential with its status history (its holder, the committee, admins).
#[utoipa::path(get, path = "/api/v1/credentials/{number}", tag = "certification", security(("bearer" = [])),
    params(("number" = String, Path)), responses((status = 200, body = CredentialView), (status = 403, body = ErrorBody)))]
pub async fn credential(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    number: ApiPath<String>,
) -> ApiResult {
    Ok(HttpResponse::Ok()
        .json(credentials::credential(&ctx, &caller.caller, number.into_inner()).await?))
}

/// The signed Open Badges 3.0 credential, a JWT (`application/vc+jwt`).
#[utoipa::path(get, path = "/api/v1/credentials/{number}/signed", tag = "certification", security(("bearer" = [])),
    params(("number" = String, Path)), responses((status = 200, body = String, content_type = "application/vc+jwt"), (status = 403, body = ErrorBody)))]
pub async fn signed(ctx: web::Data<Ctx>, caller: ApiCaller, number: ApiPath<String>) -> ApiResult {
    let jwt = credentials::signed(&ctx, &caller.caller, number.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vc+jwt")
        .body(jwt))
}

/// A credential status change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// `suspend`, `reinstate` or `revoke`.
    pub action: String,
    /// Why (kept in the credential's history).
    pub reason: String,
    /// A suspension's end (optional); it is reinstated automatically then.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// Suspends, reinstates or revokes a credential (committee members). A
/// revocation needs a second member: the first call proposes it.
#[utoipa::path(post, path = "/api/v1/credentials/{number}/status", tag = "certification", security(("bearer" = [])), request_body = StatusBody,
    params(("number" = String, Path)), responses((status = 200, body = ChangeResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_status(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    number: ApiPath<String>,
    body: Json<StatusBody>,
) -> ApiResult {
    let b = body.0;
    let change = match b.action.as_str() {
        "suspend" => Change::Suspend { until: b.until },
        "reinstate" => Change::Reinstate,
        "revoke" => Change::Revoke,
        _ => {
            return Err(crate::error::Error::invalid(
                "action",
                "must be suspend, reinstate or revoke",
            )
            .into());
        }
    };
    Ok(HttpResponse::Ok().json(
        credentials::change(&ctx, &caller.caller, number.into_inner(), change, b.reason).await?,
    ))
}

/// Public verification of a credential number (no sign-in; rate-limited):
/// holder, track, institution, dates and the status in plain words.
#[utoipa::path(get, path = "/api/v1/verify/{number}", tag = "certification",
    params(("number" = String, Path)), responses((status = 200, body = PublicView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn verify(ctx: web::Data<Ctx>, req: HttpRequest, number: ApiPath<String>) -> ApiResult {
    Ok(HttpResponse::Ok()
        .json(credentials::verify(&ctx, client_ip(&req), number.into_inner()).await?))
}
