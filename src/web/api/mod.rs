//! The JSON API under /api/v1, for other hospital systems and people's own
//! scripts. Authenticated with `Authorization: Bearer`: an admin-issued
//! integration token or a short-lived personal token. Errors are
//! `{"error":{"code","message","field"}}`. The OpenAPI document is generated
//! from these handlers and served at /api/v1/openapi.json.

pub mod certification;
pub mod exams;
pub mod fhir;
pub mod grading;
pub mod json;
pub mod params;
pub mod referrals;
pub mod training;
mod types;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::domain::ids::PersonId;
use crate::error::Error;
use crate::services::{Ctx, accounts, api_tokens, auth, institutions, people, photos};
use crate::web::error::{ApiError, ErrorBody};
use crate::web::session::{ApiCaller, client_ip};
use json::Json;
use params::ApiPath;
pub use types::*;

type ApiResult = Result<HttpResponse, ApiError>;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatekeeper API", description = "Certification of community doctors for a hospital alliance."),
    paths(
        health, openapi_json, issue_token, revoke_token, me, change_password, set_locale, set_password, request_password_reset,
        my_photo, put_photo, photo_consent, delete_photo,
        list_institutions, create_institution, get_institution, update_institution,
        list_people, create_person, get_person, update_person, deactivate_person, reactivate_person, send_setup_link,
        list_api_tokens, issue_api_token, revoke_api_token,
        exams::schedule_exam, exams::list_exams, exams::get_exam, exams::register, exams::predraw,
        exams::start_attempt, exams::get_attempt, exams::save_answer, exams::submit_attempt,
        training::list_tracks, training::track_progress, training::enrol, training::library, training::course,
        training::studied, training::start_quiz, training::submit_quiz, training::record,
        training::sessions, training::schedule_session, training::sign_up, training::cancel, training::roster, training::attendance,
        grading::queue, grading::task, grading::submit, grading::status, grading::close, grading::release, grading::result, grading::analysis, grading::review, grading::appeal, grading::reveal,
        grading::open_setting, grading::get_setting, grading::rate, grading::approve_setting,
        grading::create_station, grading::record_practical, grading::practicals, grading::question_history,
        certification::apply, certification::my_cases, certification::cases, certification::case, certification::funnel,
        certification::queue, certification::dossier, certification::vote, certification::get_policy, certification::set_policy,
        certification::my_credentials, certification::all_credentials, certification::credential, certification::signed,
        certification::change_status, certification::verify,
        referrals::departments, referrals::create_department, referrals::update_department,
        referrals::open, referrals::list, referrals::get, fhir::metadata, fhir::read, fhir::search,
        referrals::accept, referrals::decline, referrals::seen, referrals::rate, referrals::refer_back,
        referrals::visits, referrals::my_quality, referrals::flags, referrals::dashboard, referrals::overview, referrals::introspect,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &ErrorResponses, &PathParameters),
    tags((name = "system"), (name = "auth"), (name = "account"), (name = "institutions"), (name = "people"), (name = "api-tokens"), (name = "exams"),
        (name = "fhir", description = "HL7 FHIR R4 (4.0.1): referrals as ServiceRequests; answers and errors (OperationOutcome) are application/fhir+json"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // Every scope, from the one list the server checks against.
        let scopes: Vec<String> = crate::domain::tokens::Scope::ALL
            .iter()
            .map(|s| format!("`{}`: {}", s.as_str(), s.purpose()))
            .collect();
        let description = format!(
            "A personal token (POST /api/v1/auth/token) acts as its person, with that person's roles. \
             An integration token (an admin issues it: POST /api/v1/api-tokens) carries scopes: {}.",
            scopes.join("; ")
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            ),
        );
    }
}

/// The error answers every operation of a kind can give, documented where
/// the operation's own list leaves them out, each with the error body: the
/// extractors and the sign-in check answer them before the handler runs.
/// - with a bearer token: 401 (with `WWW-Authenticate: Bearer`) and 403;
/// - with a path parameter: 404 (also for one that does not parse);
/// - with a query parameter or header: 422 (it does not parse or names
///   nothing, e.g. an unknown track), and 404 for a record id
///   (`person_id`) that does not exist;
/// - with a JSON body: 400 (not JSON), 413 (too large), 415 (not
///   `application/json`), 422 (a field missing or of the wrong type);
///   an operation with another body lists its own.
struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in &mut openapi.paths.paths {
            let on_fhir = path.starts_with("/api/v1/fhir/");
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let mut statuses: Vec<&str> = Vec::new();
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    statuses.extend(["401", "403"]);
                }
                let has_path_parameter = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == ParameterIn::Path);
                if has_path_parameter {
                    statuses.push("404");
                }
                // A query parameter (or header) that does not parse, or
                // names nothing, is 422 naming it (`web::api::params`).
                let has_checked_parameter =
                    op.parameters.iter().flatten().any(|p| {
                        matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header)
                    });
                if has_checked_parameter && !on_fhir {
                    statuses.push("422");
                }
                // A query parameter naming a record (`person_id`) that
                // does not exist: 404, as for a path parameter.
                let names_a_record = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.parameter_in == ParameterIn::Query && p.name.ends_with("_id"));
                if names_a_record && !has_path_parameter {
                    statuses.push("404");
                }
                // A FHIR read refuses an id that is not a FHIR id with 400.
                if on_fhir && has_path_parameter {
                    statuses.push("400");
                }
                // A JSON body is read by `web::api::json::Json`, which
                // answers these; another body (a photo's bytes) is read
                // whole, and its operation lists its own answers.
                let json_body = op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| b.content.contains_key("application/json"));
                if json_body {
                    statuses.extend(["400", "413", "415", "422"]);
                }
                for status in statuses {
                    let documented = op.responses.responses.contains_key(status);
                    // A 401 the operation lists itself still gains the
                    // header every 401 carries.
                    if !documented || status == "401" {
                        let response = if on_fhir {
                            fhir_error_response(status)
                        } else {
                            error_response(status)
                        };
                        op.responses
                            .responses
                            .insert(status.to_owned(), response.into());
                    }
                }
            }
        }
    }
}

/// What each path parameter names, once per resource: the segment before
/// `{name}` says what it is (`/referrals/{id}` is a referral's id, wherever
/// the path goes on). An operation that describes its own keeps its words.
struct PathParameters;

impl utoipa::Modify for PathParameters {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                for parameter in op.parameters.iter_mut().flatten() {
                    if parameter.parameter_in != ParameterIn::Path
                        || parameter.description.is_some()
                    {
                        continue;
                    }
                    let resource = path
                        .split('/')
                        .take_while(|segment| *segment != format!("{{{}}}", parameter.name))
                        .last()
                        .unwrap_or_default();
                    parameter.description =
                        path_parameter(resource, &parameter.name).map(str::to_owned);
                }
            }
        }
    }
}

/// A path parameter's description, by the resource it follows and its
/// name. `None` leaves it undescribed, which the document test refuses.
fn path_parameter(resource: &str, name: &str) -> Option<&'static str> {
    Some(match (resource, name) {
        ("api-tokens", "id") => "The integration token's id, as `GET /api/v1/api-tokens` lists it",
        ("attempts", "id") => {
            "The attempt's id, as starting it answered (`POST /api/v1/exams/{id}/attempts`)"
        }
        ("answers", "position") => "The question's position in the paper, from 1",
        ("attendance", "person_id") => "The booked doctor's person id, as the roster lists it",
        ("cases", "id") => {
            "The certification case's id, as `GET /api/v1/cases` or `/me/cases` list it"
        }
        ("courses", "key") => {
            "The course's key, e.g. `paediatric-fever`, as `GET /api/v1/courses` lists it"
        }
        ("credentials", "number") => "The credential number as issued, e.g. `PAED-2026-000123-3`",
        ("departments", "id") => "The department's id, as `GET /api/v1/departments` lists it",
        ("exams", "id") => "The exam's id, as `GET /api/v1/exams` lists it",
        ("institutions", "id") => "The institution's id, as `GET /api/v1/institutions` lists it",
        ("lessons", "lesson") => {
            "The lesson's key within the course, as the course outline lists it"
        }
        ("marking", "id") => {
            "The marking task's id, as the marking queue (`GET /api/v1/marking`) lists it"
        }
        ("modules", "module") => {
            "The module's key within the course, as the course outline lists it"
        }
        ("people", "id") => "The person's id, as `GET /api/v1/people` lists it",
        ("practical-stations", "id") => "The practical station's id, as creating it answered",
        ("questions", "id") => "The question's id, as an exam's item analysis lists it",
        ("questions", "question") => "The question's id, as the exam's item analysis lists it",
        ("quizzes", "id") => "The quiz's id, as drawing it answered",
        ("referrals", "id") => "The referral's id, as `GET /api/v1/referrals` lists it",
        ("ServiceRequest", "id") => "The referral's id (the ServiceRequest's logical id)",
        ("standard-settings", "id") => "The standard-setting round's id, as opening it answered",
        ("tracks", "key") => {
            "The track's key, e.g. `paediatrics`, as `GET /api/v1/tracks` lists it"
        }
        ("verify", "number") => {
            "The credential number as written on the certificate (spaces and lower case are accepted)"
        }
        ("workshop-sessions", "id") => {
            "The workshop session's id, as `GET /api/v1/workshop-sessions` lists it"
        }
        _ => return None,
    })
}

/// An error of the FHIR endpoint: an OperationOutcome (`web::error::FhirError`).
fn fhir_error_response(status: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::schema::{Object, Type};
    use utoipa::openapi::{ContentBuilder, ResponseBuilder, header::HeaderBuilder};
    let description = match status {
        "400" => "The id is not a FHIR id (issue code `invalid`)",
        "401" => "No valid token (issue code `security`)",
        "403" => "The token's person may not see this (issue code `forbidden`)",
        "404" => "No such resource (issue code `not-found`)",
        _ => "Error",
    };
    let mut schema = Object::with_type(Type::Object);
    schema.description = Some(
        "A FHIR R4 OperationOutcome: one issue with severity `error`, the issue code and our message as `diagnostics`"
            .to_owned(),
    );
    let mut response = ResponseBuilder::new().description(description).content(
        crate::web::error::FHIR_JSON,
        ContentBuilder::new().schema(Some(schema)).build(),
    );
    if status == "401" {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Object::with_type(Type::String))
                .description(Some("`Bearer`"))
                .build(),
        );
    }
    response.build()
}

fn error_response(status: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, header::HeaderBuilder};
    let description = match status {
        "400" => "The body is not JSON",
        "401" => "No valid token: sign in (POST /api/v1/auth/token) or use an integration token",
        "403" => "The token's person or scopes may not do this",
        "404" => "Not found (or a path parameter that does not parse)",
        "413" => "The body is larger than the server accepts",
        "415" => "The body is not application/json",
        "422" => "A field is missing, of the wrong type or invalid (error.field names it)",
        _ => "Error",
    };
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build(),
    );
    if status == "401" {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(utoipa::openapi::schema::Object::with_type(
                    utoipa::openapi::schema::Type::String,
                ))
                .description(Some("`Bearer`"))
                .build(),
        );
    }
    response.build()
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(account_api)
            .configure(admin_api)
            .configure(exam_api)
            .configure(training_api)
            .configure(marking_api)
            .configure(workshop_api)
            .configure(grading_api)
            .configure(certification_api)
            .configure(referral_api)
            .default_service(web::to(not_found)),
    );
}

/// Health, the API description, tokens and the own account.
fn account_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/openapi.json", web::get().to(openapi_json))
        .route("/auth/token", web::post().to(issue_token))
        .route("/auth/token", web::delete().to(revoke_token))
        .route("/me", web::get().to(me))
        .route("/me/password", web::put().to(change_password))
        .route("/me/locale", web::put().to(set_locale))
        .route("/password-setup", web::post().to(set_password))
        .route("/password-reset", web::post().to(request_password_reset))
        .service(
            // A photo is larger than any JSON body: its upload reads up
            // to the photo limit itself (`web::read_body_within`).
            web::resource("/me/photo")
                .route(web::get().to(my_photo))
                .route(web::put().to(put_photo))
                .route(web::delete().to(delete_photo)),
        )
        .route("/me/photo/consent", web::put().to(photo_consent));
}

/// Institutions, people and API tokens.
fn admin_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/institutions", web::get().to(list_institutions))
        .route("/institutions", web::post().to(create_institution))
        .route("/institutions/{id}", web::get().to(get_institution))
        .route("/institutions/{id}", web::put().to(update_institution))
        .route("/people", web::get().to(list_people))
        .route("/people", web::post().to(create_person))
        .route("/people/{id}", web::get().to(get_person))
        .route("/people/{id}", web::put().to(update_person))
        .route("/people/{id}/deactivate", web::post().to(deactivate_person))
        .route("/people/{id}/reactivate", web::post().to(reactivate_person))
        .route("/people/{id}/setup-link", web::post().to(send_setup_link))
        .route("/api-tokens", web::get().to(list_api_tokens))
        .route("/api-tokens", web::post().to(issue_api_token))
        .route("/api-tokens/{id}/revoke", web::post().to(revoke_api_token));
}

/// Exams and attempts.
fn exam_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/exams", web::get().to(exams::list_exams))
        .route("/exams", web::post().to(exams::schedule_exam))
        .route("/exams/{id}", web::get().to(exams::get_exam))
        .route("/exams/{id}/registrations", web::post().to(exams::register))
        .route("/exams/{id}/predraw", web::post().to(exams::predraw))
        .route("/exams/{id}/attempts", web::post().to(exams::start_attempt))
        .route("/attempts/{id}", web::get().to(exams::get_attempt))
        .route(
            "/attempts/{id}/answers/{position}",
            web::put().to(exams::save_answer),
        )
        .route(
            "/attempts/{id}/submit",
            web::post().to(exams::submit_attempt),
        );
}

/// Tracks, courses, lessons, quizzes and the training record.
fn training_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/tracks", web::get().to(training::list_tracks))
        .route(
            "/tracks/{key}/progress",
            web::get().to(training::track_progress),
        )
        .route("/tracks/{key}/enrolments", web::post().to(training::enrol))
        .route("/courses", web::get().to(training::library))
        .route("/courses/{key}", web::get().to(training::course))
        .route(
            "/courses/{key}/lessons/{lesson}/studied",
            web::post().to(training::studied),
        )
        .route(
            "/courses/{key}/modules/{module}/quizzes",
            web::post().to(training::start_quiz),
        )
        .route(
            "/quizzes/{id}/submit",
            web::post().to(training::submit_quiz),
        )
        .route("/training-record", web::get().to(training::record));
}

/// The marking queue and its tasks.
fn marking_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/marking", web::get().to(grading::queue))
        .route("/marking/{id}", web::get().to(grading::task))
        .route("/marking/{id}", web::put().to(grading::submit))
        .route("/exams/{id}/marking", web::get().to(grading::status));
}

/// Workshop sessions: scheduling, sign-up, roster and attendance.
fn workshop_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/workshop-sessions", web::get().to(training::sessions))
        .route(
            "/workshop-sessions",
            web::post().to(training::schedule_session),
        )
        .route(
            "/workshop-sessions/{id}/sign-up",
            web::post().to(training::sign_up),
        )
        .route(
            "/workshop-sessions/{id}/cancel",
            web::post().to(training::cancel),
        )
        .route(
            "/workshop-sessions/{id}/roster",
            web::get().to(training::roster),
        )
        .route(
            "/workshop-sessions/{id}/attendance/{person_id}",
            web::put().to(training::attendance),
        );
}

/// Closing and releasing exams, results, appeals, identity reveals, practical stations, item analysis and standard setting.
fn grading_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/exams/{id}/close", web::post().to(grading::close))
        .route("/exams/{id}/release", web::post().to(grading::release))
        .route("/attempts/{id}/result", web::get().to(grading::result))
        .route("/exams/{id}/analysis", web::get().to(grading::analysis))
        .route("/attempts/{id}/appeals", web::post().to(grading::appeal))
        .route("/identity-reveals", web::post().to(grading::reveal))
        .route(
            "/practical-stations",
            web::post().to(grading::create_station),
        )
        .route(
            "/practical-stations/{id}/results",
            web::post().to(grading::record_practical),
        )
        .route("/practical-results", web::get().to(grading::practicals))
        .route(
            "/questions/{id}/analysis",
            web::get().to(grading::question_history),
        )
        .route(
            "/exams/{id}/standard-settings",
            web::post().to(grading::open_setting),
        )
        .route(
            "/standard-settings/{id}",
            web::get().to(grading::get_setting),
        )
        .route(
            "/standard-settings/{id}/ratings",
            web::put().to(grading::rate),
        )
        .route(
            "/standard-settings/{id}/approve",
            web::post().to(grading::approve_setting),
        )
        .route(
            "/exams/{id}/questions/{question}/review",
            web::post().to(grading::review),
        );
}

/// Certification cases, the committee, policies and credentials.
fn certification_api(cfg: &mut web::ServiceConfig) {
    cfg.route("/cases", web::post().to(certification::apply))
        .route("/cases", web::get().to(certification::cases))
        .route("/cases/{id}", web::get().to(certification::case))
        .route("/cases/{id}/dossier", web::get().to(certification::dossier))
        .route("/cases/{id}/votes", web::post().to(certification::vote))
        .route("/me/cases", web::get().to(certification::my_cases))
        .route(
            "/me/credentials",
            web::get().to(certification::my_credentials),
        )
        .route("/committee/queue", web::get().to(certification::queue))
        .route("/tracks/{key}/funnel", web::get().to(certification::funnel))
        .route(
            "/tracks/{key}/policy",
            web::get().to(certification::get_policy),
        )
        .route(
            "/tracks/{key}/policy",
            web::put().to(certification::set_policy),
        )
        .route(
            "/credentials",
            web::get().to(certification::all_credentials),
        )
        .route(
            "/credentials/{number}",
            web::get().to(certification::credential),
        )
        .route(
            "/credentials/{number}/signed",
            web::get().to(certification::signed),
        )
        .route(
            "/credentials/{number}/status",
            web::post().to(certification::change_status),
        )
        .route("/verify/{number}", web::get().to(certification::verify));
}

/// Departments, referrals, FHIR, visits, referral quality and the dashboards.
fn referral_api(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/credentials/introspect",
        web::post().to(referrals::introspect),
    )
    .route("/departments", web::get().to(referrals::departments))
    .route("/departments", web::post().to(referrals::create_department))
    .route(
        "/departments/{id}",
        web::put().to(referrals::update_department),
    )
    .route("/referrals", web::post().to(referrals::open))
    .route("/referrals", web::get().to(referrals::list))
    .route("/referrals/{id}", web::get().to(referrals::get))
    .route("/referrals/{id}/accept", web::post().to(referrals::accept))
    .route(
        "/referrals/{id}/decline",
        web::post().to(referrals::decline),
    )
    .route("/referrals/{id}/seen", web::post().to(referrals::seen))
    .route("/referrals/{id}/rating", web::post().to(referrals::rate))
    .route(
        "/referrals/{id}/refer-back",
        web::post().to(referrals::refer_back),
    )
    .service(fhir::scope())
    .route("/visits", web::put().to(referrals::visits))
    .route("/me/referral-quality", web::get().to(referrals::my_quality))
    .route("/referral-flags", web::get().to(referrals::flags))
    .route("/referral-dashboard", web::get().to(referrals::dashboard))
    .route("/alliance-overview", web::get().to(referrals::overview));
}

/// The answer to a create that honours `Idempotency-Key`: 201 with what was
/// created (as `body` writes it), or, for the same request sent again, 201
/// with the first answer's very body and `Idempotent-Replayed: true`.
pub fn created<V, B: serde::Serialize>(
    outcome: crate::services::idempotency::Created<V>,
    body: impl FnOnce(V) -> B,
) -> HttpResponse {
    match outcome {
        crate::services::idempotency::Created::New(v) => HttpResponse::Created().json(body(v)),
        crate::services::idempotency::Created::Replayed(kept) => HttpResponse::Created()
            .content_type(actix_web::http::header::ContentType::json())
            .insert_header(("Idempotent-Replayed", "true"))
            .body(kept),
    }
}

/// No route took the request: 405 with `Allow` when the path is one the
/// OpenAPI document lists under other methods, else 404.
async fn not_found(req: HttpRequest) -> ApiResult {
    Err(ApiError(unrouted(req.path())))
}

/// Why no route took a request for `path`: the methods the document lists
/// for it ([`Error::MethodNotAllowed`]), or [`Error::NotFound`]. The
/// document is the route table's description, held to it by the tests.
pub fn unrouted(path: &str) -> Error {
    static METHODS: std::sync::LazyLock<Vec<(String, String)>> = std::sync::LazyLock::new(|| {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let Some(paths) = document.get("paths").and_then(serde_json::Value::as_object) else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|(template, item)| {
                let methods = ["get", "put", "post", "delete", "patch"]
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect::<Vec<_>>();
                (template.clone(), methods.join(", "))
            })
            .collect()
    });
    METHODS
        .iter()
        .find(|(template, _)| path_fits(template, path))
        .map_or(Error::NotFound, |(_, allow)| Error::MethodNotAllowed {
            allow: allow.clone(),
        })
}

/// Whether `path` is an address of the document's `template`: the same
/// segments, where `{name}` stands for any one non-empty segment.
fn path_fits(template: &str, path: &str) -> bool {
    let mut wanted = template.split('/');
    let mut given = path.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// Whether the server is up and its database answers: `{"status":"ok"}`
/// (or 503 `unavailable`), for anyone, and nothing more. Which database and
/// release run is for operators: the start-up line and the log say it.
#[utoipa::path(get, path = "/api/v1/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(ctx: web::Data<Ctx>) -> HttpResponse {
    let reachable = crate::services::database_answers(&ctx).await;
    let body = Health {
        status: if reachable { "ok" } else { "unavailable" }.to_owned(),
    };
    if reachable {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system", responses((status = 200, description = "This OpenAPI 3.1 document", body = Object, content_type = "application/json")))]
pub async fn openapi_json() -> HttpResponse {
    // The same for everyone and changed only by a new release: cacheable.
    HttpResponse::Ok()
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=3600",
        ))
        .json(ApiDoc::openapi())
}

/// A personal bearer token (valid one hour) for a person's own scripts.
/// Throttled like sign-in.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn issue_token(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: Json<TokenRequest>,
) -> ApiResult {
    let body = body.0;
    let issued =
        auth::issue_personal_token(&ctx, body.email, body.password, client_ip(&req)).await?;
    Ok(HttpResponse::Created().json(TokenResponse {
        token: issued.token,
        token_type: "Bearer".to_owned(),
        expires_at: issued.expires_at.map(|t| t.and_utc()),
    }))
}

/// Revokes the personal token this request is made with (sign out). An
/// integration token is refused (403 `integration_token`) and keeps working:
/// an admin revokes it.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn revoke_token(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    auth::revoke_bearer(&ctx, &caller.caller, &caller.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's own account.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Person), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn me(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    let view = accounts::me(&ctx, &caller.caller).await?;
    Ok(HttpResponse::Ok().json(Person::from(view)))
}

/// Changes the caller's password; every other session and token ends.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "account", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<ChangePasswordRequest>,
) -> ApiResult {
    let body = body.0;
    accounts::change_password(
        &ctx,
        &caller.caller,
        body.current_password,
        body.new_password,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets the caller's preferred language (pages and email).
#[utoipa::path(put, path = "/api/v1/me/locale", tag = "account", security(("bearer" = [])), request_body = LocaleRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn set_locale(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<LocaleRequest>,
) -> ApiResult {
    accounts::set_locale(&ctx, &caller.caller, &body.0.locale).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a password with the one-time link's token (no sign-in needed).
#[utoipa::path(post, path = "/api/v1/password-setup", tag = "account", request_body = SetPasswordRequest,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn set_password(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: Json<SetPasswordRequest>,
) -> ApiResult {
    let body = body.0;
    accounts::set_password_with_link(&ctx, body.token, body.password, client_ip(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sends a one-time link to set a new password to the address, if it is an
/// active account's (the same answer either way, so that nobody learns
/// which addresses have accounts; at most one email per 5 minutes while a
/// link is unused; the link works once, for 60 minutes).
#[utoipa::path(post, path = "/api/v1/password-reset", tag = "account", request_body = PasswordResetRequest,
    responses((status = 202, description = "Accepted: a link is on its way if the address is an active account's"), (status = 422, body = ErrorBody)))]
pub async fn request_password_reset(
    ctx: web::Data<Ctx>,
    req: HttpRequest,
    body: Json<PasswordResetRequest>,
) -> ApiResult {
    accounts::request_password_reset(&ctx, body.0.email, client_ip(&req)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Whether the caller has a photo and shows it on their credentials'
/// public pages.
#[utoipa::path(get, path = "/api/v1/me/photo", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = photos::MyPhoto)))]
pub async fn my_photo(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    Ok(HttpResponse::Ok().json(photos::mine(&ctx, &caller.caller).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// Show it on the public pages of the caller's credentials (the
    /// holder's consent); false when absent.
    #[serde(default)]
    pub public: bool,
}

/// Stores the caller's photo (the body: a JPEG or PNG image, up to 8 MB),
/// replacing any earlier one. It is stored scaled to 320 px as JPEG,
/// without metadata.
#[utoipa::path(put, path = "/api/v1/me/photo", tag = "account", security(("bearer" = [])), params(PhotoQuery),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "A JPEG or PNG image (image/jpeg or image/png)"),
    responses((status = 200, body = photos::MyPhoto), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_photo(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    query: params::ApiQuery<PhotoQuery>,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult {
    let public = query.into_inner().public;
    let limit = crate::domain::photos::MAX_UPLOAD_BYTES;
    let body = crate::web::read_body_within(&req, &mut payload.into_inner(), limit).await?;
    Ok(HttpResponse::Ok().json(photos::save(&ctx, &caller.caller, body.to_vec(), public).await?))
}

/// Gives or withdraws consent to show the photo; at once.
#[utoipa::path(put, path = "/api/v1/me/photo/consent", tag = "account", security(("bearer" = [])), request_body = PhotoConsentRequest,
    responses((status = 200, body = photos::MyPhoto), (status = 409, body = ErrorBody)))]
pub async fn photo_consent(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<PhotoConsentRequest>,
) -> ApiResult {
    Ok(HttpResponse::Ok().json(photos::set_public(&ctx, &caller.caller, body.0.public).await?))
}

/// Deletes the caller's photo (nothing of it is kept).
#[utoipa::path(delete, path = "/api/v1/me/photo", tag = "account", security(("bearer" = [])),
    responses((status = 204)))]
pub async fn delete_photo(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    photos::remove(&ctx, &caller.caller).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists every institution, by name. Any signed-in person may, and an
/// integration token with `institutions:read` or `institutions:write`.
#[utoipa::path(get, path = "/api/v1/institutions", tag = "institutions", security(("bearer" = [])),
    responses((status = 200, body = [Institution]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_institutions(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    let rows = institutions::list(&ctx, &caller.caller).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Creates an institution. Admins, and integration tokens with
/// `institutions:write`.
#[utoipa::path(post, path = "/api/v1/institutions", tag = "institutions", security(("bearer" = [])), request_body = InstitutionBody,
    responses((status = 201, body = Institution), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_institution(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<InstitutionBody>,
) -> ApiResult {
    let row = institutions::create(&ctx, &caller.caller, body.0.into()).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(row))
}

/// One institution. Any signed-in person may, and an integration token
/// with `institutions:read` or `institutions:write`.
#[utoipa::path(get, path = "/api/v1/institutions/{id}", tag = "institutions", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Institution), (status = 404, body = ErrorBody)))]
pub async fn get_institution(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
) -> ApiResult {
    let row = institutions::get(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Replaces an institution's details (every field is sent). Admins, and
/// integration tokens with `institutions:write`.
#[utoipa::path(put, path = "/api/v1/institutions/{id}", tag = "institutions", security(("bearer" = [])), request_body = InstitutionBody,
    params(("id" = i64, Path)), responses((status = 200, body = Institution), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_institution(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
    body: Json<InstitutionBody>,
) -> ApiResult {
    let row = institutions::update(&ctx, &caller.caller, id.into_inner(), body.0.into()).await?;
    Ok(HttpResponse::Ok().json(row))
}

/// Lists every person, active or not, by name. Admins, and integration
/// tokens with `people:read` or `people:write`.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", security(("bearer" = [])),
    responses((status = 200, body = [Person]), (status = 403, body = ErrorBody)))]
pub async fn list_people(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    let views = people::list(&ctx, &caller.caller).await?;
    Ok(HttpResponse::Ok().json(views.into_iter().map(Person::from).collect::<Vec<_>>()))
}

/// Creates a person and emails them a one-time link to set their password.
#[utoipa::path(post, path = "/api/v1/people", tag = "people", security(("bearer" = [])), request_body = PersonBody,
    responses((status = 201, body = Person), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_person(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<PersonBody>,
) -> ApiResult {
    let view = people::create(&ctx, &caller.caller, body.0.into()).await?;
    Ok(HttpResponse::Created().json(Person::from(view)))
}

/// One person. Admins, and integration tokens with `people:read` or
/// `people:write`.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Person), (status = 404, body = ErrorBody)))]
pub async fn get_person(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<PersonId>,
) -> ApiResult {
    let view = people::get(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Person::from(view)))
}

/// Replaces a person's details and roles: send every field (an absent
/// phone, certificate, institution or role list is cleared, an absent
/// locale becomes `zh-CN`). Admins, and integration tokens with
/// `people:write`.
#[utoipa::path(put, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])), request_body = PersonBody,
    params(("id" = i64, Path)), responses((status = 200, body = Person), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_person(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<PersonId>,
    body: Json<PersonBody>,
) -> ApiResult {
    let view = people::update(&ctx, &caller.caller, id.into_inner(), body.0.into()).await?;
    Ok(HttpResponse::Ok().json(Person::from(view)))
}

/// Deactivates (never deletes) a person; their sessions and tokens end at once.
#[utoipa::path(post, path = "/api/v1/people/{id}/deactivate", tag = "people", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Person), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn deactivate_person(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<PersonId>,
) -> ApiResult {
    let view = people::deactivate(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Person::from(view)))
}

/// Reactivates a deactivated person: they may sign in again (sessions and
/// tokens ended by the deactivation stay ended).
#[utoipa::path(post, path = "/api/v1/people/{id}/reactivate", tag = "people", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = Person), (status = 404, body = ErrorBody)))]
pub async fn reactivate_person(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<PersonId>,
) -> ApiResult {
    let view = people::reactivate(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Person::from(view)))
}

/// Emails a fresh one-time password link, replacing any earlier one.
#[utoipa::path(post, path = "/api/v1/people/{id}/setup-link", tag = "people", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 202, body = Person), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn send_setup_link(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<PersonId>,
) -> ApiResult {
    let view = people::resend_setup_link(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(Person::from(view)))
}

/// Lists the integration tokens, newest first, revoked ones included;
/// never their secrets. Admins only (signed in, not with an integration
/// token).
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "api-tokens", security(("bearer" = [])),
    responses((status = 200, body = [ApiToken]), (status = 403, body = ErrorBody)))]
pub async fn list_api_tokens(ctx: web::Data<Ctx>, caller: ApiCaller) -> ApiResult {
    let rows = api_tokens::list(&ctx, &caller.caller).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// Issues an integration token. The secret is in this response only.
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "api-tokens", security(("bearer" = [])), request_body = ApiTokenBody,
    responses((status = 201, body = IssuedApiToken), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn issue_api_token(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    body: Json<ApiTokenBody>,
) -> ApiResult {
    let body = body.0;
    let issued = api_tokens::issue(&ctx, &caller.caller, body.name, body.scopes).await?;
    Ok(HttpResponse::Created().json(IssuedApiToken {
        token: issued.token,
        api_token: issued.api_token,
    }))
}

/// Revokes an integration token: it stops working at once. Admins only.
#[utoipa::path(post, path = "/api/v1/api-tokens/{id}/revoke", tag = "api-tokens", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 200, body = ApiToken), (status = 404, body = ErrorBody)))]
pub async fn revoke_api_token(
    ctx: web::Data<Ctx>,
    caller: ApiCaller,
    id: ApiPath<i64>,
) -> ApiResult {
    let row = api_tokens::revoke(&ctx, &caller.caller, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_fits_its_template_segment_by_segment() {
        assert!(path_fits("/api/v1/exams", "/api/v1/exams"));
        assert!(path_fits("/api/v1/exams/{id}", "/api/v1/exams/7"));
        assert!(path_fits("/api/v1/exams/{id}", "/api/v1/exams/abc"));
        assert!(!path_fits("/api/v1/exams/{id}", "/api/v1/exams/"));
        assert!(!path_fits("/api/v1/exams/{id}", "/api/v1/exams"));
        assert!(!path_fits("/api/v1/exams", "/api/v1/exams/7"));
        assert!(!path_fits(
            "/api/v1/exams/{id}/close",
            "/api/v1/exams/7/open"
        ));
    }

    #[test]
    fn a_known_path_asked_with_another_method_names_the_methods_it_takes() {
        match unrouted("/api/v1/exams") {
            Error::MethodNotAllowed { allow } => assert_eq!(allow, "GET, POST"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(unrouted("/api/v1/nothing-here"), Error::NotFound));
        assert!(matches!(
            unrouted("/api/v1/fhir/metadata"),
            Error::MethodNotAllowed { .. }
        ));
    }
}
