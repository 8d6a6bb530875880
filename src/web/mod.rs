//! HTTP: pages for people, the JSON API, and what wraps every request
//! (request id and log line, security headers, CSRF cookie).

pub mod api;
pub mod assets;
pub mod charts;
pub mod error;
pub mod pages;
pub mod session;

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use pages::{
    account, admin, certification, exam_admin, exams, grading, home, issuer, referrals, training,
    training_admin,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // A page's path or query parameter that does not parse gets the error
    // page like any other error (the API has its own extractors, see
    // `api::params`).
    cfg.app_data(
        web::PathConfig::default()
            .error_handler(|_, _| error::PageError(crate::error::Error::NotFound).into()),
    );
    cfg.app_data(web::QueryConfig::default().error_handler(|e, _| {
        error::PageError(crate::error::Error::invalid("query", e.to_string())).into()
    }));
    cfg.configure(api::routes)
        .configure(assets_and_home)
        .configure(account_routes)
        .configure(admin_routes)
        .configure(exam_routes)
        .configure(grading_routes)
        .configure(referral_routes)
        .configure(certification_routes)
        .configure(issuer_routes)
        .configure(training_routes)
        .configure(training_admin_routes);
}

/// The assets, static files, home page and language switch.
fn assets_and_home(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(assets::serve))
        .service(actix_files::Files::new("/static", static_dir()))
        .route("/", web::get().to(home::home))
        .route("/language", web::post().to(home::switch_language));
}

/// Signing in and out, passwords and the own photo.
fn account_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sign-in", web::get().to(account::sign_in_page))
        .route("/sign-in", web::post().to(account::sign_in))
        .route("/sign-out", web::post().to(account::sign_out))
        .route(
            "/forgot-password",
            web::get().to(account::forgot_password_page),
        )
        .route("/forgot-password", web::post().to(account::forgot_password))
        .route("/set-password", web::get().to(account::set_password_page))
        .route("/set-password", web::post().to(account::set_password))
        .service(
            // A photo from a phone is larger than any other form: its
            // upload reads up to the photo limit itself
            // (`account::upload_photo`).
            web::resource("/account/photo")
                .route(web::get().to(account::photo))
                .route(web::post().to(account::upload_photo)),
        )
        .route("/account/photo.jpg", web::get().to(account::my_photo))
        .route(
            "/account/photo/consent",
            web::post().to(account::photo_consent),
        )
        .route(
            "/account/photo/remove",
            web::post().to(account::remove_photo),
        )
        .route(
            "/account/password",
            web::get().to(account::change_password_page),
        )
        .route(
            "/account/password",
            web::post().to(account::change_password),
        );
}

/// Institutions, people and API tokens.
fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/institutions",
        web::get().to(admin::institutions_page),
    )
    .route(
        "/admin/institutions",
        web::post().to(admin::create_institution),
    )
    .route(
        "/admin/institutions/new",
        web::get().to(admin::new_institution_page),
    )
    .route(
        "/admin/institutions/{id}/edit",
        web::get().to(admin::edit_institution_page),
    )
    .route(
        "/admin/institutions/{id}",
        web::post().to(admin::update_institution),
    )
    .route("/admin/people", web::get().to(admin::people_page))
    .route("/admin/people", web::post().to(admin::create_person))
    .route("/admin/people/new", web::get().to(admin::new_person_page))
    .route(
        "/admin/people/{id}/edit",
        web::get().to(admin::edit_person_page),
    )
    .route("/admin/people/{id}", web::post().to(admin::update_person))
    .route(
        "/admin/people/{id}/{action}",
        web::post().to(admin::person_action),
    )
    .route("/admin/tokens", web::get().to(admin::tokens_page))
    .route("/admin/tokens", web::post().to(admin::issue_token))
    .route(
        "/admin/tokens/{id}/revoke",
        web::post().to(admin::revoke_token),
    );
}

/// Scheduling exams and sitting them.
fn exam_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/exams", web::get().to(exam_admin::admin_exams))
        .route("/admin/exams", web::post().to(exam_admin::schedule))
        .route("/admin/exams/{id}", web::get().to(exam_admin::admin_exam))
        .route(
            "/admin/exams/{id}/registrations",
            web::post().to(exam_admin::register),
        )
        .route(
            "/admin/exams/{id}/predraw",
            web::post().to(exam_admin::predraw),
        )
        .route("/exams", web::get().to(exams::exams_page))
        .route("/exams/{id}/start", web::get().to(exams::instructions))
        .route("/exams/{id}/start", web::post().to(exams::start))
        .route("/exams/{id}/register", web::post().to(exams::register))
        .route("/attempts/{id}", web::get().to(exams::attempt_page))
        .route("/attempts/{id}", web::post().to(exams::save_form))
        .route(
            "/attempts/{id}/answers/{position}",
            web::post().to(exams::save_json),
        )
        .route("/attempts/{id}/summary", web::get().to(exams::summary_page))
        .route("/attempts/{id}/submit", web::post().to(exams::submit));
}

/// Marking, stations, standard setting, appeals, analysis and release.
fn grading_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/marking", web::get().to(grading::queue))
        .route("/marking/{id}", web::get().to(grading::task))
        .route("/marking/{id}", web::post().to(grading::submit))
        .route("/attempts/{id}/result", web::get().to(grading::result))
        .route("/stations", web::get().to(grading::stations))
        .route("/stations/{id}", web::get().to(grading::station))
        .route("/stations/{id}", web::post().to(grading::record_practical))
        .route("/standard-settings/{id}", web::get().to(grading::standard))
        .route("/standard-settings/{id}", web::post().to(grading::rate))
        .route(
            "/admin/exams/{id}/standard-settings",
            web::post().to(grading::open_standard),
        )
        .route("/attempts/{id}/appeals", web::post().to(grading::appeal))
        .route(
            "/admin/exams/{id}/analysis",
            web::get().to(grading::analysis_view),
        )
        .route(
            "/admin/exams/{id}/analysis",
            web::post().to(grading::review),
        )
        .route(
            "/admin/exams/{id}/release",
            web::post().to(exam_admin::release),
        );
}

/// Referrals and the referral desk.
fn referral_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/referrals", web::get().to(referrals::list))
        .route("/referrals", web::post().to(referrals::open))
        .route("/referrals/new", web::get().to(referrals::new))
        .route("/referrals/visits", web::post().to(referrals::visits))
        .route("/referrals/{id}", web::get().to(referrals::show))
        .route(
            "/referrals/{id}/steps",
            web::post().to(referrals::desk_step),
        )
        .route("/referrals/{id}/fhir", web::get().to(referrals::fhir))
        .route("/desk/departments", web::get().to(referrals::departments))
        .route(
            "/desk/departments",
            web::post().to(referrals::save_department),
        )
        .route("/referral-dashboard", web::get().to(referrals::dashboard));
}

/// Certification cases, the committee, credentials and their public verification.
fn certification_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/certification", web::get().to(certification::mine))
        .route("/certification/apply", web::post().to(certification::apply))
        .route("/cases/{id}", web::get().to(certification::case))
        .route("/admin/cases", web::get().to(certification::cases))
        .route("/committee", web::get().to(certification::queue))
        .route(
            "/committee/cases/{id}",
            web::get().to(certification::dossier),
        )
        .route(
            "/committee/cases/{id}/votes",
            web::post().to(certification::vote),
        )
        .route(
            "/committee/credentials",
            web::get().to(certification::all_credentials),
        )
        .route(
            "/committee/tracks/{key}/policy",
            web::get().to(certification::policy),
        )
        .route(
            "/committee/tracks/{key}/policy",
            web::post().to(certification::set_policy),
        )
        .route(
            "/credentials/{number}",
            web::get().to(certification::certificate),
        )
        .route(
            "/credentials/{number}/signed.jwt",
            web::get().to(certification::signed),
        )
        .route(
            "/credentials/{number}/badge.png",
            web::get().to(certification::badge_png),
        )
        .route(
            "/credentials/{number}/status",
            web::post().to(certification::change_status),
        )
        .route("/verify", web::get().to(certification::verify_form))
        .route("/verify/{number}", web::get().to(certification::verify))
        .route(
            "/verify/{number}/certificate.pdf",
            web::get().to(certification::certificate_pdf),
        )
        .route(
            "/verify/{number}/badge.png",
            web::get().to(certification::public_badge_png),
        )
        .route(
            "/verify/{number}/photo.jpg",
            web::get().to(certification::public_photo),
        );
}

/// The public issuer documents (keys, status lists, profile, achievements).
fn issuer_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/jwks.json", web::get().to(issuer::jwks))
        .route(
            "/status-lists/{purpose}",
            web::get().to(issuer::status_list),
        )
        .route("/issuer", web::get().to(issuer::issuer))
        .route(
            "/issuer/keys/{thumbprint}",
            web::get().to(issuer::public_key),
        )
        .route("/achievements/{key}", web::get().to(issuer::achievement));
}

/// Learning: tracks, courses, lessons, quizzes, workshops and the record.
fn training_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/learn", web::get().to(training::learn))
        .route("/tracks/{key}", web::get().to(training::track))
        .route("/tracks/{key}/enrol", web::post().to(training::enrol))
        .route("/library", web::get().to(training::library))
        .route("/courses/{key}", web::get().to(training::course))
        .route(
            "/courses/{key}/lessons/{lesson}",
            web::get().to(training::lesson),
        )
        .route(
            "/courses/{key}/lessons/{lesson}/studied",
            web::post().to(training::studied),
        )
        .route(
            "/courses/{key}/modules/{module}/quiz",
            web::post().to(training::start_quiz),
        )
        .route("/quizzes/{id}", web::get().to(training::quiz))
        .route("/quizzes/{id}", web::post().to(training::submit_quiz))
        .route("/media/{course}/{name}", web::get().to(training::media))
        .route("/workshops", web::get().to(training::workshops))
        .route("/workshops/sessions/{id}", web::get().to(training::roster))
        .route(
            "/workshops/sessions/{id}/sign-up",
            web::post().to(training::sign_up),
        )
        .route(
            "/workshops/sessions/{id}/cancel",
            web::post().to(training::cancel),
        )
        .route(
            "/workshops/sessions/{id}/attendance",
            web::post().to(training::attendance),
        )
        .route("/record", web::get().to(training::record))
        .route("/record.csv", web::get().to(training::record_csv));
}

/// Managing training: tracks, courses, lessons, sessions and enrolments.
fn training_admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/training", web::get().to(training_admin::overview))
        .route("/admin/tracks", web::post().to(training_admin::save_track))
        .route(
            "/admin/tracks/{key}",
            web::get().to(training_admin::track_form),
        )
        .route(
            "/admin/courses",
            web::post().to(training_admin::save_course),
        )
        .route(
            "/admin/courses/{key}",
            web::get().to(training_admin::course_page),
        )
        .route(
            "/admin/courses/{key}/modules",
            web::post().to(training_admin::save_module),
        )
        .route(
            "/admin/courses/{key}/lessons/{lesson}",
            web::get().to(training_admin::lesson_editor),
        )
        .route(
            "/admin/courses/{key}/lessons",
            web::post().to(training_admin::save_lesson),
        )
        .route(
            "/admin/workshop-sessions",
            web::post().to(training_admin::schedule_session),
        )
        .route("/admin/enrolments", web::post().to(training_admin::enrol))
        .route(
            "/admin/people/{id}/training",
            web::get().to(training_admin::person_record),
        )
        .route(
            "/admin/institutions/{id}/training.csv",
            web::get().to(training_admin::institution_csv),
        );
}

/// static/ next to the binary's crate; overridable for packaged installs.
fn static_dir() -> std::path::PathBuf {
    std::env::var_os("GATEKEEPER_STATIC_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static")))
}

/// The request's id, also sent back as `X-Request-Id`.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub uuid::Uuid);

/// One span per request with its id, the client's address
/// (`session::client_address`), method and path (never the query string,
/// which can carry a one-time token), and one line when it ends with status
/// and latency.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = uuid::Uuid::new_v4();
    req.extensions_mut().insert(RequestId(id));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        client = %session::client_address(req.request())
            .map(|a| a.to_string())
            .unwrap_or_default(),
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _enter = span.enter();
    match result {
        Ok(mut res) => {
            let status = res.status().as_u16();
            if status >= 500 {
                tracing::error!(status, latency_ms, "request finished");
            } else {
                tracing::info!(status, latency_ms, "request finished");
            }
            if let Ok(v) = HeaderValue::from_str(&id.to_string()) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static("x-request-id"), v);
            }
            // The server's own time for the request (W3C Server-Timing), so
            // benchmarks can tell it from the network's.
            if let Ok(v) = HeaderValue::from_str(&format!("app;dur={latency_ms:.3}")) {
                res.headers_mut()
                    .insert(header::HeaderName::from_static("server-timing"), v);
            }
            Ok(res)
        }
        Err(e) => {
            tracing::error!(error = %e, latency_ms, "request failed");
            Err(e)
        }
    }
}

/// What a response may be cached as, unless its handler chose: `no-store`
/// for everything (pages, the API, errors, redirects), so that no browser,
/// proxy or shared computer keeps a page or an answer with personal or
/// patient data; `no-cache` (kept, but checked with the server each time)
/// for `/static/`. Handlers opt in to caching only for what is the same for
/// everyone and holds no personal data: the JWK set, the status lists, the
/// OpenAPI document and the issuer's profile (`public, max-age=…`), and
/// course images (`private`). Defaulting to `no-store` means a new page with
/// personal data is covered without anyone remembering to say so.
pub fn cache_policy(path: &str) -> &'static str {
    if path.starts_with("/static/") {
        "no-cache"
    } else {
        "no-store"
    }
}

/// A request body read within `limit` bytes, whatever its type: a body
/// declared or found larger is refused as `Error::TooLarge` (413 with the
/// error body, or the error page) before more of it is read. The JSON
/// extractor and the photo upload both read through it.
pub async fn read_body_within(
    req: &actix_web::HttpRequest,
    payload: &mut actix_web::dev::Payload,
    limit: usize,
) -> Result<web::BytesMut, crate::error::Error> {
    use futures_util::StreamExt;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(crate::error::Error::TooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| crate::error::Error::Malformed(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(crate::error::Error::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Middleware: sets [`cache_policy`] on every response whose handler did not
/// set `Cache-Control` itself.
pub async fn cache_control(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        let policy = cache_policy(res.request().path());
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    Ok(res)
}

/// Headers on every response: a CSP without inline script, no framing, no
/// MIME sniffing, and HSTS when served over https.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ));
    if https {
        headers.add((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}
