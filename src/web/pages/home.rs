//! The home page and the language switch.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::locale::Locale;
use crate::domain::roles::Role;
use crate::error::Error;
use crate::services::accounts;
use crate::web::error::PageError;
use crate::web::pages::{Chrome, parse_form, render, safe_next, see_other};
use crate::web::session::{LANG_COOKIE, Page};

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
    name: String,
    roles: Vec<Role>,
}

pub async fn home(page: Page) -> Result<HttpResponse, PageError> {
    let Some(user) = &page.user else {
        return Ok(see_other("/sign-in"));
    };
    let roles = user
        .caller
        .actor()
        .map(|a| a.roles.clone())
        .unwrap_or_default();
    let name = user.person.name.clone();
    render(
        &Home {
            chrome: Chrome::new(&page),
            name,
            roles,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    next: String,
}

/// Switches the interface language (a form, so it works without script);
/// a signed-in person's choice is also saved for their email.
pub async fn switch_language(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: LanguageForm = parse_form(&req, &body)?;
    let locale = Locale::parse(&form.lang)
        .ok_or_else(|| PageError(Error::invalid("lang", "must be zh-CN or en")))?;
    if let Some(user) = &page.user {
        accounts::set_locale(&page.ctx, &user.caller, locale.as_str()).await?;
    }
    let mut cookie = Cookie::new(LANG_COOKIE, locale.as_str());
    cookie.set_path("/");
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(page.ctx.settings.secure_cookies());
    cookie.set_max_age(actix_web::cookie::time::Duration::days(365));
    let mut response = see_other(safe_next(&form.next));
    response
        .add_cookie(&cookie)
        .map_err(|e| PageError(Error::internal(e)))?;
    Ok(response)
}
