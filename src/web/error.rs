//! The one place where errors become HTTP responses: JSON for the API, a page
//! (or a redirect to sign in) for people. Internal errors are logged with
//! their cause chain and shown without detail.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::domain::locale::Locale;
use crate::error::Error;
use crate::i18n::Tr;

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } | Error::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::NotFound | Error::BadPath { .. } => StatusCode::NOT_FOUND,
        Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        Error::Unauthenticated | Error::BadCredentials => StatusCode::UNAUTHORIZED,
        Error::Forbidden
        | Error::CsrfRejected
        | Error::AccountDisabled
        | Error::Refused { .. }
        | Error::ConflictOfInterest(_) => StatusCode::FORBIDDEN,
        Error::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Malformed(_) => StatusCode::BAD_REQUEST,
        Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::Database(_) | Error::Pool(_) | Error::Internal { .. } => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// What a person or client may be told. Internal detail stays in the log.
pub fn public_message(e: &Error) -> String {
    match e {
        Error::Invalid { message, .. }
        | Error::Conflict { message, .. }
        | Error::BadPath { message, .. } => message.clone(),
        Error::Database(_) | Error::Pool(_) | Error::Internal { .. } => {
            "something went wrong on our side; it has been logged".to_owned()
        }
        other => other.to_string(),
    }
}

/// What a person is told about `e`, in `tr`'s language: the words a form
/// shows next to its fields (`web::pages::form_error`), for every error.
/// Messages are translated by `Tr::error_message`, which passes English
/// through unchanged.
pub fn page_message(e: &Error, tr: &Tr) -> String {
    match e {
        Error::Invalid { field, message } | Error::Conflict { field, message } => {
            field_line(tr, field, message)
        }
        Error::InvalidFields(problems) => problems
            .iter()
            .map(|p| field_line(tr, &p.field, &p.message))
            .collect::<Vec<_>>()
            .join(&tr.t("common.list_separator")),
        Error::BadCredentials => tr.t("sign_in.bad_credentials"),
        Error::AccountDisabled => tr.t("sign_in.disabled"),
        Error::Refused { code, message } => tr
            .t_opt(&format!("gate.{code}"))
            .unwrap_or_else(|| tr.error_message(message)),
        Error::ConflictOfInterest(c) => tr.t(&format!("conflict.{}", c.code())),
        other => tr.error_message(&public_message(other)),
    }
}

/// "Field: message" in `tr`'s language (its own colon).
pub fn field_line(tr: &Tr, field: &str, message: &str) -> String {
    tr.t_with(
        "common.field_error",
        &[
            ("field", &tr.field(field)),
            ("message", &tr.error_message(message)),
        ],
    )
}

/// Logs a server error with its whole chain: `error` is the top message and
/// `error.sources` every cause beneath it (tracing records an error value
/// so), beside the stable `code` the client was given.
fn log(e: &Error) {
    let status = status_of(e);
    if status.is_server_error() {
        tracing::error!(
            error = e.traced(),
            code = e.code(),
            status = status.as_u16(),
            "request failed"
        );
    }
}

fn throttle_header(e: &Error, response: &mut actix_web::HttpResponseBuilder) {
    if let Error::Throttled { retry_after } = e {
        response.insert_header((
            header::RETRY_AFTER,
            retry_after.as_secs().max(1).to_string(),
        ));
    }
}

/// An error answered as `{"error":{"code","message","field"}}`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_input`, `conflict`, `forbidden`.
    pub code: String,
    /// What is wrong, for people (English).
    pub message: String,
    /// The request member the error is about, when there is one (the
    /// first, when several were refused).
    pub field: Option<String>,
    /// Every refused member, when a request had several problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<crate::error::FieldProblem>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                field: field.map(str::to_owned),
                problems: Vec::new(),
            },
        }
    }
}

/// What every API error answer starts with, JSON or FHIR: the error logged,
/// its status, `Retry-After` when throttled, and `WWW-Authenticate: Bearer`
/// when a token is missing or wrong.
fn error_head(e: &Error, status: StatusCode) -> actix_web::HttpResponseBuilder {
    log(e);
    let mut response = HttpResponse::build(status);
    throttle_header(e, &mut response);
    if let Error::MethodNotAllowed { allow } = e {
        response.insert_header((header::ALLOW, allow.clone()));
    }
    if matches!(e, Error::Unauthenticated | Error::BadCredentials) {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    response
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = error_head(&self.0, self.status_code());
        let mut body = ErrorBody::new(self.0.code(), public_message(&self.0), self.0.field());
        if let Error::InvalidFields(problems) = &self.0 {
            body.error.problems = problems.clone();
        }
        response.json(body)
    }
}

/// An error of the FHIR endpoint (/api/v1/fhir), answered as FHIR clients
/// expect: an `OperationOutcome` (`application/fhir+json`) whose one issue
/// has severity `error`, the issue type of [`fhir_issue_of`] and our message
/// as `diagnostics`. The status is the API's, except that invalid input is
/// 400, as FHIR answers a bad request (a read has no body to be
/// unprocessable).
#[derive(Debug)]
pub struct FhirError(pub Error);

impl From<Error> for FhirError {
    fn from(e: Error) -> Self {
        FhirError(e)
    }
}

impl From<ApiError> for FhirError {
    fn from(e: ApiError) -> Self {
        FhirError(e.0)
    }
}

impl std::fmt::Display for FhirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The FHIR issue type of an error.
pub fn fhir_issue_of(e: &Error) -> crate::domain::fhir::IssueType {
    use crate::domain::fhir::IssueType;
    match fhir_status_of(e) {
        StatusCode::BAD_REQUEST => IssueType::Invalid,
        StatusCode::UNAUTHORIZED => IssueType::Security,
        StatusCode::FORBIDDEN => IssueType::Forbidden,
        StatusCode::NOT_FOUND => IssueType::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => IssueType::NotSupported,
        StatusCode::TOO_MANY_REQUESTS => IssueType::Throttled,
        _ => IssueType::Exception,
    }
}

/// The status of an error on the FHIR endpoint.
pub fn fhir_status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } | Error::InvalidFields(_) => StatusCode::BAD_REQUEST,
        other => status_of(other),
    }
}

impl ResponseError for FhirError {
    fn status_code(&self) -> StatusCode {
        fhir_status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = error_head(&self.0, self.status_code());
        let outcome = crate::domain::fhir::operation_outcome(
            fhir_issue_of(&self.0),
            &public_message(&self.0),
        );
        let body = serde_json::to_string(&outcome).unwrap_or_else(|_| {
            r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}"#
                .to_owned()
        });
        response.content_type(FHIR_JSON).body(body)
    }
}

/// The media type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json";

/// An error answered with a page, in both languages because the language
/// choice may itself be what failed.
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title_zh: &'a str,
    title_en: &'a str,
    message_zh: String,
    message_en: String,
    demo: bool,
    stylesheet: String,
}

/// Whether this process serves the demo alliance. The error page is drawn
/// without the application's context (an actix error response has none),
/// so the demo's banner reads this flag, set once at start; like the demo's
/// clock it belongs to the process, and only `gatekeeper demo` sets it.
static DEMO: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn serving_demo(on: bool) {
    if on {
        DEMO.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn titles(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        401 => ("需要登录", "Sign-in required"),
        403 => ("无权访问", "Not allowed"),
        404 => ("未找到", "Not found"),
        409 => ("冲突", "Conflict"),
        413 => ("内容过大", "Too large"),
        415 => ("格式不支持", "Unsupported format"),
        422 => ("输入有误", "Please check your input"),
        429 => ("尝试次数过多", "Too many attempts"),
        _ => ("出错了", "Something went wrong"),
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        log(&self.0);
        if matches!(self.0, Error::Unauthenticated) {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/sign-in"))
                .finish();
        }
        let status = self.status_code();
        let (title_zh, title_en) = titles(status);
        let page = ErrorPage {
            status: status.as_u16(),
            title_zh,
            title_en,
            message_zh: page_message(&self.0, &Tr::new(Locale::ZhCn)),
            message_en: page_message(&self.0, &Tr::new(Locale::En)),
            demo: DEMO.load(std::sync::atomic::Ordering::Relaxed),
            stylesheet: crate::web::assets::url("app.css"),
        };
        let mut response = HttpResponse::build(status);
        throttle_header(&self.0, &mut response);
        match page.render() {
            Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
            Err(_) => response
                .content_type("text/plain; charset=utf-8")
                .body(title_en),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::error_message_tests::{CONFLICTS, REFUSALS, english_words, reads_as_chinese};

    /// One of each error, as the pages meet them.
    fn every_error() -> Vec<Error> {
        let mut all = vec![
            Error::invalid("email", "is required"),
            Error::InvalidFields(vec![
                crate::error::FieldProblem {
                    field: "email".into(),
                    message: "is required".into(),
                },
                crate::error::FieldProblem {
                    field: "guardian_phone".into(),
                    message: "must be a phone number of 6 to 15 digits".into(),
                },
            ]),
            Error::conflict("email", "a person with this email already exists"),
            Error::NotFound,
            Error::BadPath {
                field: "institution_id".into(),
                message: "no such institution_id: it must be a whole number".into(),
            },
            Error::Unauthenticated,
            Error::BadCredentials,
            Error::AccountDisabled,
            Error::Forbidden,
            Error::Refused {
                code: "integration_token",
                message: "an integration token cannot sign itself out; an admin revokes it under API tokens".into(),
            },
            Error::CsrfRejected,
            Error::Throttled {
                retry_after: std::time::Duration::from_secs(30),
            },
            Error::Malformed("%".into()),
            Error::TooLarge { limit: 65536 },
            Error::UnsupportedMediaType {
                expected: "JSON",
            },
            Error::Database(diesel::result::Error::NotFound),
            Error::internal("a template failed"),
        ];
        all.extend(REFUSALS.map(|r| Error::Refused {
            code: r.code(),
            message: r.to_string(),
        }));
        all.extend(CONFLICTS.map(Error::ConflictOfInterest));
        all
    }

    /// Every kind of error reads in Chinese on a zh-CN page and on the error
    /// page (Chinese first, then English), and in English on an en page.
    #[test]
    fn every_error_reads_in_chinese_and_in_english() {
        let (zh, en) = (Tr::new(Locale::ZhCn), Tr::new(Locale::En));
        for e in every_error() {
            let chinese = page_message(&e, &zh);
            assert!(reads_as_chinese(&chinese), "{e:?} reads {chinese:?}");
            let english = page_message(&e, &en);
            assert!(
                !english
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{e:?} reads {english:?} in English"
            );
            assert!(!english_words(&english).is_empty(), "{e:?}: {english:?}");
            if matches!(e, Error::Unauthenticated) {
                continue; // a page redirects to sign in instead
            }
            let response = PageError(e).error_response();
            let body = actix_web::body::to_bytes(response.into_body());
            let body = futures_util::FutureExt::now_or_never(body)
                .and_then(Result::ok)
                .unwrap_or_default();
            let html = String::from_utf8_lossy(&body);
            let (first, second) = (
                html.find(&askama_escape(&chinese)),
                html.find(&askama_escape(&english)),
            );
            assert!(
                matches!((first, second), (Some(a), Some(b)) if a < b),
                "the error page lacks {chinese:?} then {english:?}:\n{html}"
            );
        }
    }

    fn askama_escape(text: &str) -> String {
        text.replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;")
    }

    /// The API's message stays the English one.
    #[test]
    fn the_api_message_is_unchanged() {
        assert_eq!(
            public_message(&Error::invalid("email", "is required")),
            "is required"
        );
        assert_eq!(
            public_message(&Error::Throttled {
                retry_after: std::time::Duration::from_secs(5)
            }),
            "too many attempts; try again in 5 seconds"
        );
    }

    /// An internal error's context and causes stay in the log: the API and
    /// the page say only that something went wrong.
    #[test]
    fn internal_detail_is_not_shown() {
        let e = Error::internal_from(
            "cannot read /etc/gatekeeper/keys.pem",
            std::io::Error::other("permission denied"),
        );
        for said in [public_message(&e), page_message(&e, &Tr::new(Locale::En))] {
            assert!(
                !said.contains("keys.pem") && !said.contains("permission"),
                "{said}"
            );
        }
        assert_eq!(status_of(&e), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
