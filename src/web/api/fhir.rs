//! The FHIR R4 endpoint under /api/v1/fhir: the CapabilityStatement
//! (`metadata`, public), and ServiceRequest read and search (the green-channel
//! referrals the caller is a party to). Answers are `application/fhir+json`;
//! every error here, from authentication to an unknown route, is an
//! `OperationOutcome` (`web::error::FhirError`), not the API's error body.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::domain::fhir::{self, ReadId};
use crate::error::Error;
use crate::services::{Ctx, referrals};
use crate::web::error::{FHIR_JSON, FhirError};
use crate::web::session::ApiCaller;

type FhirResult = Result<HttpResponse, FhirError>;

/// The caller by bearer token, or an OperationOutcome 401.
pub struct FhirCaller(pub ApiCaller);

impl FromRequest for FhirCaller {
    type Error = FhirError;
    type Future = Pin<Box<dyn Future<Output = Result<FhirCaller, FhirError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            ApiCaller::authenticate(&req)
                .await
                .map(FhirCaller)
                .map_err(FhirError::from)
        })
    }
}

/// A FHIR resource as the body of a response.
pub fn json_of(resource: &impl Serialize) -> Result<String, Error> {
    serde_json::to_string(resource).map_err(|e| Error::internal_from("FHIR JSON", e))
}

fn ok(resource: &impl Serialize) -> FhirResult {
    Ok(HttpResponse::Ok()
        .content_type(FHIR_JSON)
        .body(json_of(resource)?))
}

/// What this FHIR server offers: a FHIR R4 (4.0.1) CapabilityStatement,
/// JSON only, with ServiceRequest `read` and `search-type` behind bearer
/// tokens. Public, as FHIR clients read it before they authenticate.
#[utoipa::path(get, path = "/api/v1/fhir/metadata", tag = "fhir",
    responses((status = 200, description = "A FHIR R4 CapabilityStatement", body = Object, content_type = "application/fhir+json")))]
pub async fn metadata(ctx: web::Data<Ctx>) -> FhirResult {
    ok(&referrals::fhir_capabilities(&ctx))
}

/// One referral as a FHIR R4 ServiceRequest, for its parties. An id that is
/// not a FHIR id (1 to 64 letters, digits, `-`, `.`) is a bad request
/// (400); one that names no referral the caller may see is 404 or 403.
#[utoipa::path(get, path = "/api/v1/fhir/ServiceRequest/{id}", tag = "fhir", security(("bearer" = [])),
    params(("id" = String, Path, description = "The referral's id")),
    responses((status = 200, description = "A FHIR R4 ServiceRequest", body = Object, content_type = "application/fhir+json")))]
pub async fn read(ctx: web::Data<Ctx>, caller: FhirCaller, id: web::Path<String>) -> FhirResult {
    let id = match fhir::read_id(&id) {
        ReadId::Ours(id) => id,
        ReadId::NotOurs => return Err(FhirError(Error::NotFound)),
        ReadId::Malformed => {
            return Err(FhirError(Error::invalid(
                "id",
                "must be a FHIR id: 1 to 64 letters, digits, '-' or '.'",
            )));
        }
    };
    ok(&referrals::fhir_one(&ctx, &caller.0.caller, id).await?)
}

/// Every referral the caller is a party to (a doctor's own, a desk's
/// incoming, all for admins), as a FHIR R4 searchset Bundle: `total`, a
/// `self` link, and per entry the resource's own URL as `fullUrl` with
/// `search.mode` = `match`. No search parameters are supported; any sent
/// are ignored (the `self` link shows the search as run).
#[utoipa::path(get, path = "/api/v1/fhir/ServiceRequest", tag = "fhir", security(("bearer" = [])),
    responses((status = 200, description = "A FHIR R4 searchset Bundle of ServiceRequests", body = Object, content_type = "application/fhir+json")))]
pub async fn search(ctx: web::Data<Ctx>, caller: FhirCaller) -> FhirResult {
    ok(&referrals::fhir_bundle(&ctx, &caller.0.caller).await?)
}

/// Any other path under /api/v1/fhir: an OperationOutcome 404.
async fn not_found(req: actix_web::HttpRequest) -> FhirResult {
    Err(FhirError(super::unrouted(req.path())))
}

/// The FHIR scope, mounted inside /api/v1.
pub fn scope() -> actix_web::Scope {
    web::scope("/fhir")
        .route("/metadata", web::get().to(metadata))
        .route("/ServiceRequest", web::get().to(search))
        .route("/ServiceRequest/{id}", web::get().to(read))
        .default_service(web::to(not_found))
}
