//! Server-rendered pages for people. Every handler: parse, call a service
//! (which authorises), render. Forms are checked for their CSRF token first.

pub mod account;
pub mod admin;
pub mod certification;
pub mod exam_admin;
pub mod exams;
pub mod grading;
pub mod home;
pub mod issuer;
pub mod referrals;
pub mod training;
pub mod training_admin;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::domain::credentials::Status;
use crate::domain::pipeline::Stage;
use crate::domain::roles::Role;
use crate::error::Error;
use crate::i18n::Tr;
use crate::web::error::PageError;
use crate::web::session::{Page, check_csrf};

/// The frame around every page: language, CSRF token, who is signed in, and
/// the form's error or a notice.
pub struct Chrome {
    pub tr: Tr,
    pub csrf: String,
    pub path: String,
    pub user_name: Option<String>,
    pub is_admin: bool,
    /// Navigation shows what the person's roles open.
    pub is_examiner: bool,
    pub is_instructor: bool,
    pub can_study: bool,
    /// Doctors follow their certification; the committee and admins see
    /// every case.
    pub can_certify: bool,
    pub reads_cases: bool,
    /// Doctors and the referral desk use the green channel.
    pub uses_referrals: bool,
    pub error: Option<String>,
    /// The fields the error is about (their inputs get aria-invalid).
    pub error_on: Vec<String>,
    pub notice: Option<String>,
    /// The demo alliance is being served: a banner says so on every page.
    pub demo: bool,
}

/// Whether the signed-in person holds a role (for what a page shows; the
/// services decide what they may do).
pub fn has(page: &Page, role: Role) -> bool {
    page.user
        .as_ref()
        .is_some_and(|u| u.caller.actor().is_some_and(|a| a.has(role)))
}

impl Chrome {
    pub fn new(page: &Page) -> Chrome {
        Chrome {
            tr: page.tr,
            csrf: page.csrf.clone(),
            path: page.path.clone(),
            user_name: page.user.as_ref().map(|u| u.name.clone()),
            is_admin: has(page, Role::Admin),
            is_examiner: has(page, Role::Examiner),
            is_instructor: has(page, Role::Instructor),
            can_study: has(page, Role::Doctor) || has(page, Role::Admin),
            can_certify: has(page, Role::Doctor),
            reads_cases: has(page, Role::Committee) || has(page, Role::Admin),
            uses_referrals: has(page, Role::Doctor)
                || has(page, Role::ReferralDesk)
                || has(page, Role::Admin),
            error: None,
            error_on: Vec::new(),
            notice: None,
            demo: page.ctx.settings.demo,
        }
    }

    /// Whether the form's error is about `field` (marks it aria-invalid).
    pub fn error_field(&self, field: &str) -> bool {
        self.error_on.iter().any(|f| f == field)
    }

    /// The URL of a static file under its content-hashed name.
    pub fn asset(&self, name: &str) -> String {
        crate::web::assets::url(name)
    }

    pub fn notice(mut self, key: &str) -> Chrome {
        self.notice = Some(self.tr.t(key));
        self
    }
}

/// Errors a form shows next to its fields, with the status to answer with;
/// anything else becomes an error page.
pub fn form_error(mut chrome: Chrome, e: Error) -> Result<(Chrome, StatusCode), PageError> {
    let status = crate::web::error::status_of(&e);
    let fields: Vec<String> = match &e {
        Error::Invalid { field, .. } | Error::Conflict { field, .. } => vec![field.clone()],
        Error::InvalidFields(problems) => problems.iter().map(|p| p.field.clone()).collect(),
        Error::BadCredentials
        | Error::Refused { .. }
        | Error::ConflictOfInterest(_)
        | Error::AccountDisabled
        | Error::Throttled { .. } => Vec::new(),
        _ => return Err(PageError(e)),
    };
    let message = match &e {
        Error::Throttled { retry_after } => chrome.tr.t_with(
            "sign_in.throttled",
            &[("seconds", &retry_after.as_secs().max(1).to_string())],
        ),
        other => crate::web::error::page_message(other, &chrome.tr),
    };
    chrome.error = Some(message);
    chrome.error_on = fields;
    Ok((chrome, status))
}

pub fn render(template: &impl Template, status: StatusCode) -> Result<HttpResponse, PageError> {
    let html = template
        .render()
        .map_err(|e| PageError(Error::internal_from("template", e)))?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A form with no fields but its CSRF token (sign out, deactivate, submit…).
#[derive(Deserialize)]
pub struct EmptyForm {}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

/// Parses an HTML form body (repeated keys become lists) after checking its
/// CSRF token.
pub fn parse_form<T: DeserializeOwned>(req: &HttpRequest, body: &[u8]) -> Result<T, PageError> {
    let csrf: CsrfOnly = serde_html_form::from_bytes(body).unwrap_or(CsrfOnly {
        csrf_token: String::new(),
    });
    check_csrf(req, &csrf.csrf_token)?;
    serde_html_form::from_bytes(body).map_err(|e| PageError(Error::invalid("form", e.to_string())))
}

/// A whole-number form field, naming the field when it is not one.
pub fn number(field: &str, value: &str) -> Result<i64, Error> {
    value
        .trim()
        .parse()
        .map_err(|_detail| Error::invalid(field, "must be a whole number"))
}

/// Formats times, stages, statuses and steps for the templates, in the
/// reader's language and the alliance's time zone (one for every page).
pub struct Fmt {
    pub tr: Tr,
    pub tz: chrono_tz::Tz,
}

impl Fmt {
    pub fn new(page: &Page) -> Fmt {
        Fmt {
            tr: page.tr,
            tz: page.ctx.settings.time_zone,
        }
    }
    pub fn when(&self, t: &DateTime<Utc>) -> String {
        local_time(self.tz, t.naive_utc())
    }
    pub fn day(&self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&self.tz).format("%Y-%m-%d").to_string()
    }
    pub fn stage(&self, s: &Stage) -> String {
        self.tr.t(&format!("stages.{}", s.as_str()))
    }
    pub fn reason(&self, r: &str) -> String {
        self.tr.t(&format!("case_reasons.{r}"))
    }
    /// A line of a credential's history: what the system wrote (issue,
    /// renewal, expiry, end of a suspension) in the reader's language; what
    /// a committee member wrote, as they wrote it.
    pub fn history(&self, reason: &str) -> String {
        self.tr.error_message(reason)
    }
    pub fn status(&self, s: &Status) -> String {
        self.tr.t(&format!("credential_status.{}", s.as_str()))
    }
    pub fn waiting(&self, w: &str) -> String {
        match w.split_once(':') {
            Some((_, why)) => self.tr.t(&format!("ineligible.{why}")),
            None => self.tr.t(&format!("case_waiting.{w}")),
        }
    }
    /// A referral's state ("sent", "accepted" …).
    pub fn state(&self, s: &str) -> String {
        self.tr.t(&format!("referral_state.{s}"))
    }
    /// A step of a referral's timeline.
    pub fn step(&self, s: &str) -> String {
        self.tr.t(&format!("referral_step.{s}"))
    }
}

/// A time as the alliance reads it: in its time zone, to the minute.
pub fn local_time(tz: chrono_tz::Tz, t: NaiveDateTime) -> String {
    t.and_utc()
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// Only a path on this site may be redirected to (no open redirect): it
/// starts with one `/` and holds no backslash (browsers read `/\evil` as
/// `//evil`, another origin) and no control character, neither as it is
/// (browsers drop tabs and newlines, so `/\t/evil` becomes `//evil`) nor
/// percent-encoded (`%0d%0a`, in case anything decodes it on the way).
/// Anything else goes home.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next[1..].starts_with('/')
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !encodes_a_control(next);
    if local { next } else { "/" }
}

/// Whether `s` holds a percent-encoded control character (`%00`–`%1f`, `%7f`).
fn encodes_a_control(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| {
        let [b'%', hex @ ..] = w else {
            return false;
        };
        std::str::from_utf8(hex)
            .ok()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .is_some_and(|b| b < 0x20 || b == 0x7f)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_stay_local() {
        for ok in [
            "/",
            "/admin/people",
            "/ok?x=1",
            "/learn?track=paediatrics&x=%20y#top",
            "/courses/儿科/lessons/1",
            "/a%2fb",
        ] {
            assert_eq!(safe_next(ok), ok);
        }
        for evil in [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/ok\\..\\evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/ok\u{7f}",
            "/ok\u{85}",
            "/%0d%0aSet-Cookie:%20x=1",
            "/%0D",
            "/%09/evil.example",
            "/%7f",
            "javascript:alert(1)",
            "https://evil.example",
            "http:/evil.example",
            "evil.example",
            " /ok",
            "",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
    }

    #[test]
    fn times_show_in_the_alliance_zone() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default();
        assert_eq!(local_time(chrono_tz::Asia::Shanghai, t), "2027-01-15 16:00");
        assert_eq!(local_time(chrono_tz::UTC, t), "2027-01-15 08:00");
    }
}
