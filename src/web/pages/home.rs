//! The home page and the language switch.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use chrono::{DateTime, Utc};

use crate::domain::locale::Locale;
use crate::domain::next_step::Step;
use crate::domain::roles::Role;
use crate::error::Error;
use crate::services::accounts;
use crate::services::dashboard::{self, CalendarEntry, Standing};
use crate::web::error::PageError;
use crate::web::pages::Fmt;
use crate::web::pages::{Chrome, parse_form, render, safe_next, see_other};
use crate::web::session::{LANG_COOKIE, Page};

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    chrome: Chrome,
    f: Fmt,
    name: String,
    roles: Vec<Role>,
    /// A doctor's standing, next step and calendar.
    doctor: Option<DoctorHome>,
}

struct DoctorHome {
    next: NextView,
    standings: Vec<Standing>,
    calendar: Vec<CalendarEntry>,
}

/// The next step in words, with the button that takes it.
struct NextView {
    id: &'static str,
    text: String,
    action: Option<(String, String)>,
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
    let f = Fmt::new(&page);
    let doctor = if roles.contains(&Role::Doctor) {
        let home = dashboard::home(&page.ctx, &user.caller).await?;
        Some(DoctorHome {
            next: describe(&f, &home.step),
            standings: home.standings,
            calendar: home.calendar,
        })
    } else {
        None
    };
    let name = user.name.clone();
    render(
        &Home {
            chrome: Chrome::new(&page),
            f,
            name,
            roles,
            doctor,
        },
        StatusCode::OK,
    )
}

/// The words and the button of each next step (`domain::next_step`).
fn describe(f: &Fmt, step: &Step) -> NextView {
    let tr = &f.tr;
    let (id, args) = step_words(f, step);
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The sentence's key is the id in snake case: `await-result`, `await_result`.
    let key = id.replace('-', "_");
    let text = tr.t_with(&format!("home.next.{key}"), &args);
    let action = step_button(step).map(|(key, url)| (tr.t(&format!("home.go.{key}")), url));
    NextView { id, text, action }
}

/// A next step's id and its sentence's arguments.
fn step_words(f: &Fmt, step: &Step) -> (&'static str, Vec<(&'static str, String)>) {
    let s = |v: &str| v.to_owned();
    match step {
        Step::ResumeExam {
            title, closes_at, ..
        } => (
            "resume",
            vec![("title", s(title)), ("time", f.when(closes_at))],
        ),
        Step::StartExam {
            title, closes_at, ..
        } => (
            "start",
            vec![("title", s(title)), ("time", f.when(closes_at))],
        ),
        Step::SeeResult { title, .. } => ("result", vec![("title", s(title))]),
        Step::Study {
            track,
            todo_kind,
            title,
            ..
        } => (
            "study",
            vec![
                ("track", s(track)),
                ("title", s(title)),
                ("what", f.tr.t(&format!("home.todo.{todo_kind}"))),
            ],
        ),
        Step::RegisterForExam {
            title, opens_at, ..
        } => (
            "register",
            vec![("title", s(title)), ("time", f.when(opens_at))],
        ),
        Step::SitExamOn { title, opens_at } => {
            ("sit", vec![("title", s(title)), ("time", f.when(opens_at))])
        }
        Step::RetakeFrom { track, from } => {
            ("retake", vec![("track", s(track)), ("day", f.day(from))])
        }
        Step::AwaitResult { title, expected_by } => (
            "await-result",
            vec![("title", s(title)), ("day", f.day(expected_by))],
        ),
        Step::AwaitExamSchedule { track } => ("await-exam", vec![("track", s(track))]),
        Step::AwaitOthers { track, reason } => (
            "await",
            vec![("track", s(track)), ("reason", f.waiting(reason))],
        ),
        Step::Renew {
            number,
            track,
            valid_until,
        } => ("renew", credential_args(f, number, track, valid_until)),
        Step::Certified {
            number,
            track,
            valid_until,
        } => ("certified", credential_args(f, number, track, valid_until)),
        Step::Apply { track } => ("apply", vec![("track", s(track))]),
        Step::ChooseTrack => ("choose", Vec::new()),
    }
}

/// The arguments of a sentence about a credential.
fn credential_args(
    f: &Fmt,
    number: &str,
    track: &str,
    valid_until: &DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    vec![
        ("number", number.to_owned()),
        ("track", track.to_owned()),
        ("day", f.day(valid_until)),
    ]
}

/// A next step's button: the key of its words and where it goes.
fn step_button(step: &Step) -> Option<(&str, String)> {
    match step {
        Step::ResumeExam { attempt_id, .. } => Some(("resume", format!("/attempts/{attempt_id}"))),
        Step::StartExam { exam_id, .. } => Some(("start", format!("/exams/{exam_id}/start"))),
        Step::SeeResult { attempt_id, .. } => {
            Some(("result", format!("/attempts/{attempt_id}/result")))
        }
        Step::Study { todo_kind, url, .. } => Some((todo_kind, url.clone())),
        Step::RegisterForExam { .. } => Some(("register", "/exams".to_owned())),
        Step::SitExamOn { .. } | Step::AwaitResult { .. } => Some(("exams", "/exams".to_owned())),
        Step::RetakeFrom { .. } | Step::AwaitExamSchedule { .. } => None,
        Step::AwaitOthers { .. } => Some(("case", "/certification".to_owned())),
        Step::Renew { .. } => Some(("renew", "/certification".to_owned())),
        Step::Certified { number, .. } => Some(("credential", format!("/credentials/{number}"))),
        Step::Apply { .. } => Some(("apply", "/certification".to_owned())),
        Step::ChooseTrack => Some(("choose", "/learn".to_owned())),
    }
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
        .map_err(|e| PageError(Error::internal_from("a cookie header", e)))?;
    Ok(response)
}

#[cfg(test)]
// A test that walks every case of a table reads best in one piece.
#[allow(clippy::too_many_lines)]
mod tests {
    use super::*;
    use crate::domain::ids::ExamId;
    use crate::i18n::Tr;
    use chrono::{TimeZone, Utc};

    /// Every next step reads as a sentence in both languages: no key left
    /// untranslated, no placeholder left unfilled.
    #[test]
    fn every_next_step_is_worded_in_both_languages() {
        let at = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let s = |v: &str| v.to_owned();
        let steps = vec![
            Step::ResumeExam {
                attempt_id: 1,
                title: s("T"),
                closes_at: at,
            },
            Step::StartExam {
                exam_id: ExamId(1),
                title: s("T"),
                closes_at: at,
            },
            Step::SeeResult {
                attempt_id: 1,
                title: s("T"),
            },
            Step::Study {
                track: s("P"),
                todo_kind: s("lesson"),
                title: s("L"),
                url: s("/x"),
            },
            Step::Study {
                track: s("P"),
                todo_kind: s("quiz"),
                title: s("Q"),
                url: s("/x"),
            },
            Step::Study {
                track: s("P"),
                todo_kind: s("workshop"),
                title: s("W"),
                url: s("/x"),
            },
            Step::RegisterForExam {
                exam_id: ExamId(1),
                title: s("T"),
                opens_at: at,
            },
            Step::SitExamOn {
                title: s("T"),
                opens_at: at,
            },
            Step::RetakeFrom {
                track: s("P"),
                from: at,
            },
            Step::AwaitResult {
                title: s("T"),
                expected_by: at,
            },
            Step::AwaitExamSchedule { track: s("P") },
            Step::AwaitOthers {
                track: s("P"),
                reason: s("committee"),
            },
            Step::AwaitOthers {
                track: s("P"),
                reason: s("eligibility:no_institution"),
            },
            Step::Renew {
                number: s("N"),
                track: s("P"),
                valid_until: at,
            },
            Step::Certified {
                number: s("N"),
                track: s("P"),
                valid_until: at,
            },
            Step::Apply { track: s("P") },
            Step::ChooseTrack,
        ];
        for locale in Locale::ALL {
            let f = Fmt {
                tr: Tr::new(locale),
                tz: chrono_tz::Asia::Shanghai,
            };
            for step in &steps {
                let view = describe(&f, step);
                let words = match &view.action {
                    Some((label, _)) => format!("{} {label}", view.text),
                    None => view.text.clone(),
                };
                for raw in ["home.", "%{", "case_waiting.", "ineligible."] {
                    assert!(!words.contains(raw), "{locale:?} {step:?}: {words}");
                }
            }
        }
    }
}
