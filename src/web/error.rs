//! The one place where errors become HTTP responses: JSON for the API, a page
//! (or a redirect to sign in) for people. Internal errors are logged with
//! their cause chain and shown without detail.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use serde::Serialize;

use crate::error::Error;

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::NotFound | Error::BadPath { .. } => StatusCode::NOT_FOUND,
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
        Error::Database(_) | Error::Pool(_) | Error::Internal(_) => {
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
        Error::Database(_) | Error::Pool(_) | Error::Internal(_) => {
            "something went wrong on our side; it has been logged".to_owned()
        }
        other => other.to_string(),
    }
}

fn log(e: &Error) {
    if status_of(e).is_server_error() {
        let mut chain = String::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %e, cause = %chain, "request failed");
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_input`, `conflict`, `forbidden`.
    pub code: String,
    pub message: String,
    /// The request member the error is about, when there is one.
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn new(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.into(),
                field: field.map(str::to_owned),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        log(&self.0);
        let mut response = HttpResponse::build(self.status_code());
        throttle_header(&self.0, &mut response);
        if matches!(self.0, Error::Unauthenticated | Error::BadCredentials) {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(ErrorBody::new(
            self.0.code(),
            public_message(&self.0),
            self.0.field(),
        ))
    }
}

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
    message: String,
    demo: bool,
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
            message: public_message(&self.0),
            demo: DEMO.load(std::sync::atomic::Ordering::Relaxed),
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
