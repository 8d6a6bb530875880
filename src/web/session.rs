//! Who is asking: session cookies for pages, bearer tokens for the API, the
//! CSRF token for forms, the client's address and language.
//!
//! Cookies are signed with the session key, so a forged or altered cookie is
//! rejected before any database lookup. The session cookie carries a random
//! secret whose hash is the session's row; a new one is issued at every
//! sign-in. CSRF protection is the signed double-submit pattern: a random
//! token in an HttpOnly, SameSite=Strict cookie that every form must echo.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use crate::domain::locale::Locale;
use crate::domain::tokens;
use crate::error::Error;
use crate::i18n::Tr;
use crate::services::auth::{self, SessionUser};
use crate::services::{Caller, Ctx};
use crate::web::error::{ApiError, PageError};

pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    /// The trusted-device cookie left by a successful sign-in
    /// (`services::auth::Device`); it outlives sign-out.
    pub device: &'static str,
}

/// Under https the `__Host-` prefix pins cookies to our host, path / and
/// Secure; browsers refuse such cookies over plain http.
pub fn cookie_names(ctx: &Ctx) -> CookieNames {
    if ctx.settings.secure_cookies() {
        CookieNames {
            session: "__Host-gk_session",
            csrf: "__Host-gk_csrf",
            device: "__Host-gk_device",
        }
    } else {
        CookieNames {
            session: "gk_session",
            csrf: "gk_csrf",
            device: "gk_device",
        }
    }
}

pub const LANG_COOKIE: &str = "gk_lang";

/// Reads a cookie and checks its signature; `None` if absent or forged.
pub fn read_signed(ctx: &Ctx, req: &HttpRequest, name: &str) -> Option<String> {
    let cookie = req.cookie(name)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    jar.signed(&ctx.settings.session_key)
        .get(name)
        .map(|c| c.value().to_owned())
}

/// A signed cookie, HttpOnly, path /, Secure under https.
pub fn signed_cookie(
    ctx: &Ctx,
    name: &'static str,
    value: String,
    same_site: SameSite,
) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let mut cookie = Cookie::new(name, value);
    cookie.set_http_only(true);
    cookie.set_path("/");
    cookie.set_same_site(same_site);
    cookie.set_secure(ctx.settings.secure_cookies());
    jar.signed_mut(&ctx.settings.session_key).add(cookie);
    jar.get(name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

pub fn removal_cookie(ctx: &Ctx, name: &'static str) -> Cookie<'static> {
    let mut cookie = Cookie::new(name, "");
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_secure(ctx.settings.secure_cookies());
    cookie.make_removal();
    cookie
}

/// The CSRF token of this request's browser (from its cookie, or new).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

struct NewCsrf;

/// Middleware: makes sure every browser has a CSRF cookie, creating one on
/// the first response that needs it.
pub async fn csrf_cookie(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // The API takes bearer tokens, never cookies: it needs no CSRF token.
    let Some(ctx) = req
        .app_data::<web::Data<Ctx>>()
        .cloned()
        .filter(|_| !req.path().starts_with("/api/"))
    else {
        return next.call(req).await;
    };
    let names = cookie_names(&ctx);
    let existing = read_signed(&ctx, req.request(), names.csrf);
    let token = match existing {
        Some(t) => t,
        None => {
            req.extensions_mut().insert(NewCsrf);
            tokens::generate("")
        }
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.call(req).await?;
    let is_new = res.request().extensions().get::<NewCsrf>().is_some();
    let already_set = res.response().cookies().any(|c| c.name() == names.csrf);
    // A response open to every origin (keys, status lists, the issuer) is
    // fetched by machines and cached by anyone: it carries no cookie.
    let open_to_all = res
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_some_and(|v| v == "*");
    if is_new && !already_set && !open_to_all {
        let cookie = signed_cookie(&ctx, names.csrf, token, SameSite::Strict);
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

/// Refuses a form whose token does not match the browser's CSRF cookie.
pub fn check_csrf(req: &HttpRequest, submitted: &str) -> Result<(), Error> {
    let expected = req.extensions().get::<CsrfToken>().cloned();
    let cookie_was_sent = req.extensions().get::<NewCsrf>().is_none();
    match expected {
        Some(CsrfToken(expected))
            if cookie_was_sent
                && !submitted.is_empty()
                && constant_time_eq(expected.as_bytes(), submitted.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(Error::CsrfRejected),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The client's address, for the per-address throttles, the audit trail and
/// the request log: the one place a request's address is read. The TCP peer,
/// unless it is one of `GATEKEEPER_TRUSTED_PROXIES`; then the address its
/// `X-Forwarded-For` vouches for (`domain::client_address`).
pub fn client_address(req: &HttpRequest) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    let ctx = req.app_data::<web::Data<Ctx>>();
    let none = crate::domain::client_address::TrustedProxies::default();
    let trusted = ctx.map_or(&none, |c| &c.settings.trusted_proxies);
    let lines = req
        .headers()
        .get_all(header::X_FORWARDED_FOR)
        .map(|v| v.to_str().ok());
    Some(crate::domain::client_address::client_address(
        peer, lines, trusted,
    ))
}

/// [`client_address`] as text, as the services store it.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    client_address(req).map(|a| a.to_string())
}

/// The language for this request: the switcher's cookie, else the signed-in
/// person's saved choice, else Accept-Language.
pub fn locale_of(req: &HttpRequest, user: Option<&SessionUser>) -> Locale {
    if let Some(l) = req
        .cookie(LANG_COOKIE)
        .and_then(|c| Locale::parse(c.value()))
    {
        return l;
    }
    if let Some(u) = user {
        return u.locale;
    }
    Locale::negotiate(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The application context registered in `startup`.
fn ctx_of(req: &HttpRequest) -> Result<web::Data<Ctx>, Error> {
    req.app_data::<web::Data<Ctx>>()
        .cloned()
        .ok_or_else(|| Error::internal("application state missing"))
}

/// What every page handler needs: the context, the signed-in person (if
/// any), the translator and the CSRF token.
pub struct Page {
    pub ctx: web::Data<Ctx>,
    pub user: Option<SessionUser>,
    pub tr: Tr,
    pub csrf: String,
    pub path: String,
    pub session_token: Option<String>,
}

impl Page {
    /// The signed-in person, or a redirect to the sign-in page.
    pub fn user(&self) -> Result<&SessionUser, PageError> {
        self.user.as_ref().ok_or(PageError(Error::Unauthenticated))
    }

    pub fn caller(&self) -> Result<&Caller, PageError> {
        Ok(&self.user()?.caller)
    }
}

impl FromRequest for Page {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Page, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = ctx_of(&req)?;
            let names = cookie_names(&ctx);
            let session_token = read_signed(&ctx, &req, names.session);
            let user = match &session_token {
                Some(token) => auth::session_user(&ctx, token, client_ip(&req)).await?,
                None => None,
            };
            let tr = Tr::new(locale_of(&req, user.as_ref()));
            let csrf = req
                .extensions()
                .get::<CsrfToken>()
                .map(|t| t.0.clone())
                .unwrap_or_default();
            Ok(Page {
                ctx,
                user,
                tr,
                csrf,
                // The whole URL, query included: the language switch returns
                // here, and a one-time link lives in its query string.
                path: req
                    .uri()
                    .path_and_query()
                    .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned()),
                session_token,
            })
        })
    }
}

/// The authenticated caller of an API request (`Authorization: Bearer`).
pub struct ApiCaller {
    pub caller: Caller,
    pub token: String,
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { ApiCaller::authenticate(&req).await })
    }
}

impl ApiCaller {
    /// The caller of `req` by its bearer token, or 401.
    pub async fn authenticate(req: &HttpRequest) -> Result<ApiCaller, ApiError> {
        let ctx = ctx_of(req)?;
        let token = bearer_token(req).ok_or(ApiError(Error::Unauthenticated))?;
        let caller = auth::bearer_caller(&ctx, &token, client_ip(req))
            .await?
            .ok_or(ApiError(Error::Unauthenticated))?;
        Ok(ApiCaller { caller, token })
    }
}
