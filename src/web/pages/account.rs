//! Signing in and out, setting a password with a one-time link, and changing
//! one's password.

use actix_web::cookie::SameSite;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::tokens;
use crate::error::Error;
use crate::services::auth::Device;
use crate::services::{accounts, auth, photos};
use crate::web::error::PageError;
use crate::web::pages::{Chrome, EmptyForm, form_error, parse_form, render, see_other};
use crate::web::session::{
    Page, check_csrf, client_ip, cookie_names, read_signed, removal_cookie, signed_cookie,
};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn {
    chrome: Chrome,
    email: String,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

pub async fn sign_in_page(
    page: Page,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    // Shown even when signed in: signing in again (perhaps as someone else)
    // replaces the current session.
    let mut chrome = Chrome::new(&page);
    if query.notice == "password_set" {
        chrome = chrome.notice("set_password.done");
    } else if query.notice == "signed_out" {
        chrome = chrome.notice("sign_in.signed_out");
    }
    render(
        &SignIn {
            chrome,
            email: String::new(),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// How long a browser stays a trusted device after a successful sign-in.
const DEVICE_COOKIE_DAYS: i64 = 180;

/// Signs in: a new session cookie, a new CSRF token and a new device cookie,
/// the browser's old session (if any) ended.
pub async fn sign_in(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: SignInForm = parse_form(&req, &body)?;
    let ctx = &page.ctx;
    let names = cookie_names(ctx);
    let device = read_signed(ctx, &req, names.device).and_then(|v| Device::from_cookie(&v));
    match auth::sign_in(
        ctx,
        form.email.clone(),
        form.password,
        client_ip(&req),
        page.session_token.clone(),
        device,
    )
    .await
    {
        Ok(signed_in) => {
            let mut response = see_other("/");
            let session = signed_cookie(ctx, names.session, signed_in.session_token, SameSite::Lax);
            let csrf = signed_cookie(ctx, names.csrf, tokens::generate(""), SameSite::Strict);
            let mut device = signed_cookie(
                ctx,
                names.device,
                signed_in.device.to_cookie(),
                SameSite::Strict,
            );
            device.set_max_age(actix_web::cookie::time::Duration::days(DEVICE_COOKIE_DAYS));
            for cookie in [&session, &csrf, &device] {
                response
                    .add_cookie(cookie)
                    .map_err(|e| PageError(Error::internal_from("a cookie header", e)))?;
            }
            Ok(response)
        }
        Err(e) => {
            let retry_after = match &e {
                Error::Throttled { retry_after } => Some(retry_after.as_secs().max(1)),
                _ => None,
            };
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            let mut response = render(
                &SignIn {
                    chrome,
                    email: form.email,
                },
                status,
            )?;
            if let Some(v) =
                retry_after.and_then(|s| header::HeaderValue::from_str(&s.to_string()).ok())
            {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
    }
}

pub async fn sign_out(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: EmptyForm = parse_form(&req, &body)?;
    let ctx = &page.ctx;
    if let Some(token) = &page.session_token {
        auth::sign_out(ctx, token).await?;
    }
    let names = cookie_names(ctx);
    let mut response = see_other("/sign-in?notice=signed_out");
    response
        .add_cookie(&removal_cookie(ctx, names.session))
        .map_err(|e| PageError(Error::internal_from("a cookie header", e)))?;
    response
        .add_cookie(&signed_cookie(
            ctx,
            names.csrf,
            tokens::generate(""),
            SameSite::Strict,
        ))
        .map_err(|e| PageError(Error::internal_from("a cookie header", e)))?;
    Ok(response)
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPassword {
    chrome: Chrome,
    token: String,
    usable: bool,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn no_referrer(mut response: HttpResponse) -> HttpResponse {
    // The link's secret is in the URL: keep it out of Referer headers.
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}

pub async fn set_password_page(
    page: Page,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let usable =
        !query.token.is_empty() && accounts::link_is_usable(&page.ctx, query.token.clone()).await?;
    let status = if usable {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page_body = SetPassword {
        chrome: Chrome::new(&page),
        token: query.token.clone(),
        usable,
    };
    Ok(no_referrer(render(&page_body, status)?))
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPassword {
    chrome: Chrome,
    email: String,
    sent: bool,
}

pub async fn forgot_password_page(page: Page) -> Result<HttpResponse, PageError> {
    render(
        &ForgotPassword {
            chrome: Chrome::new(&page),
            email: String::new(),
            sent: false,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ForgotPasswordForm {
    #[serde(default)]
    email: String,
}

/// Sends a reset link if the email has an active account; says the same
/// either way (`accounts::request_password_reset`).
pub async fn forgot_password(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: ForgotPasswordForm = parse_form(&req, &body)?;
    let email = form.email.trim().to_owned();
    match accounts::request_password_reset(&page.ctx, form.email, client_ip(&req)).await {
        Ok(()) => render(
            &ForgotPassword {
                chrome: Chrome::new(&page),
                email,
                sent: true,
            },
            StatusCode::OK,
        ),
        Err(e @ Error::Invalid { .. }) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(
                &ForgotPassword {
                    chrome,
                    email,
                    sent: false,
                },
                status,
            )
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: SetPasswordForm = parse_form(&req, &body)?;
    match accounts::set_password_with_link(
        &page.ctx,
        form.token.clone(),
        form.password,
        client_ip(&req),
    )
    .await
    {
        Ok(()) => Ok(see_other("/sign-in?notice=password_set")),
        Err(e) => {
            let usable = !matches!(&e, Error::Invalid { field, .. } if field == "token");
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            Ok(no_referrer(render(
                &SetPassword {
                    chrome,
                    token: form.token,
                    usable,
                },
                status,
            )?))
        }
    }
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct ChangePassword {
    chrome: Chrome,
}

pub async fn change_password_page(page: Page) -> Result<HttpResponse, PageError> {
    page.user()?;
    render(
        &ChangePassword {
            chrome: Chrome::new(&page),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let form: ChangePasswordForm = parse_form(&req, &body)?;
    let outcome =
        accounts::change_password(&page.ctx, &caller, form.current_password, form.new_password)
            .await;
    let (chrome, status) = match outcome {
        Ok(()) => (
            Chrome::new(&page).notice("password.changed"),
            StatusCode::OK,
        ),
        Err(e) => form_error(Chrome::new(&page), e)?,
    };
    render(&ChangePassword { chrome }, status)
}

// ----- the holder's photo (for the public page of their credentials) -----

#[derive(Template)]
#[template(path = "account/photo.html")]
struct PhotoPage {
    chrome: Chrome,
    photo: photos::MyPhoto,
    /// A query string that changes with each upload, so the preview shows
    /// the new photo.
    version: String,
}

async fn photo_page(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let photo = photos::mine(&page.ctx, page.caller()?).await?;
    let version = tokens::generate("");
    render(
        &PhotoPage {
            chrome,
            photo,
            version,
        },
        status,
    )
}

pub async fn photo(page: Page) -> Result<HttpResponse, PageError> {
    photo_page(&page, Chrome::new(&page), StatusCode::OK).await
}

/// The upload form (multipart, as a file input needs): the photo, the
/// consent box and the CSRF token, checked before anything is stored.
pub async fn upload_photo(
    page: Page,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    // The photo and the small form around it.
    let limit = crate::domain::photos::MAX_UPLOAD_BYTES + 64 * 1024;
    let body = crate::web::read_body_within(&req, &mut payload.into_inner(), limit).await?;
    let caller = page.caller()?.clone();
    let form = read_photo_form(&req, body).await?;
    check_csrf(&req, &form.csrf_token)?;
    let outcome = photos::save(&page.ctx, &caller, form.photo, form.public).await;
    let (chrome, status) = match outcome {
        Ok(_) => (Chrome::new(&page).notice("photo.saved"), StatusCode::OK),
        Err(e) => form_error(Chrome::new(&page), e)?,
    };
    photo_page(&page, chrome, status).await
}

#[derive(Default)]
struct PhotoForm {
    csrf_token: String,
    public: bool,
    photo: Vec<u8>,
}

/// The fields of a multipart form. The body has already been read within
/// the photo's size limit; a malformed body is refused naming the photo.
async fn read_photo_form(req: &HttpRequest, body: web::BytesMut) -> Result<PhotoForm, PageError> {
    use futures_util::StreamExt;
    let malformed = |_| {
        PageError(Error::invalid(
            "photo",
            "the form could not be read; choose the photo again",
        ))
    };
    let stream = futures_util::stream::once(async move { Ok(body.freeze()) });
    let mut multipart = actix_multipart::Multipart::new(req.headers(), stream);
    let mut form = PhotoForm::default();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        let mut value = Vec::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(malformed)?);
        }
        match name.as_str() {
            "csrf_token" => form.csrf_token = String::from_utf8_lossy(&value).into_owned(),
            "public" => form.public = !value.is_empty(),
            "photo" => form.photo = value,
            _ => {}
        }
    }
    Ok(form)
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    public: Option<String>,
}

pub async fn photo_consent(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let form: ConsentForm = parse_form(&req, &body)?;
    let public = form.public.is_some_and(|v| !v.is_empty());
    let outcome = photos::set_public(&page.ctx, &caller, public).await;
    let (chrome, status) = match outcome {
        Ok(_) if public => (Chrome::new(&page).notice("photo.shown"), StatusCode::OK),
        Ok(_) => (Chrome::new(&page).notice("photo.hidden"), StatusCode::OK),
        Err(e) => form_error(Chrome::new(&page), e)?,
    };
    photo_page(&page, chrome, status).await
}

pub async fn remove_photo(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    photos::remove(&page.ctx, &caller).await?;
    photo_page(
        &page,
        Chrome::new(&page).notice("photo.removed"),
        StatusCode::OK,
    )
    .await
}

/// The holder's own photo, for the preview.
pub async fn my_photo(page: Page) -> Result<HttpResponse, PageError> {
    let jpeg = photos::my_image(&page.ctx, page.caller()?).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(jpeg))
}
