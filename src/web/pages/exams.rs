//! The candidate's exam pages: their exams, the attempt (all questions on one
//! page or one per screen), the summary before submitting. Everything works
//! without JavaScript (answers are saved with the page's button);
//! static/exam.js adds the countdown, saving each answer as it is given,
//! keeping unsent answers in the browser and resending them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::banks::QuestionKind;
use crate::domain::ids::ExamId;
use crate::domain::next_step::{self, AttemptFact};
use crate::domain::scoring::ShownAnswer;
use crate::error::Error;
use crate::services::exams::{self, AttemptView, Briefing, Exam, ItemView, MyExam};
use crate::web::api::json;
use crate::web::error::{ApiError, PageError};
use crate::web::pages::Fmt;
use crate::web::pages::{Chrome, EmptyForm, local_time, parse_form, render, see_other};
use crate::web::session::{Page, check_csrf};

pub struct ExamLine {
    pub id: ExamId,
    pub title: String,
    pub window: String,
    pub duration_minutes: i32,
    /// "upcoming", "open" or "closed".
    pub state: &'static str,
    /// Where her attempt stands (`domain::next_step`): what the card offers.
    pub attempt: AttemptFact,
    pub submitted: usize,
    pub attempts_allowed: i32,
    /// Whether the card offers start (`next_step::may_start_now`).
    pub may_start: bool,
}

/// An exam she may register for.
pub struct OfferLine {
    pub id: ExamId,
    pub title: String,
    pub window: String,
    pub duration_minutes: i32,
}

#[derive(Template)]
#[template(path = "exams/list.html")]
struct ExamList {
    chrome: Chrome,
    f: Fmt,
    items: Vec<ExamLine>,
    offers: Vec<OfferLine>,
}

fn window(page: &Page, exam: &Exam) -> String {
    let tz = page.ctx.settings.time_zone;
    format!(
        "{} – {}",
        local_time(tz, exam.opens_at.naive_utc()),
        local_time(tz, exam.closes_at.naive_utc())
    )
}

fn line(page: &Page, m: &MyExam) -> ExamLine {
    let now = crate::clock::now();
    let state = crate::domain::exams::WindowState::at(
        m.exam.opens_at.naive_utc(),
        m.exam.closes_at.naive_utc(),
        now.naive_utc(),
    )
    .as_str();
    ExamLine {
        id: m.exam.id,
        title: m.exam.title.clone(),
        window: window(page, &m.exam),
        duration_minutes: m.exam.duration_minutes,
        state,
        attempt: m.fact.attempt,
        may_start: next_step::may_start_now(&m.fact, now),
        submitted: m.attempts.iter().filter(|a| a.submitted).count(),
        attempts_allowed: m.exam.attempts_allowed,
    }
}

/// The list page, with a form error when an action on it was refused.
async fn list_with(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let mine = exams::mine(&page.ctx, caller).await?;
    let items = mine.iter().map(|m| line(page, m)).collect();
    let offers = exams::open_to_register(&page.ctx, caller)
        .await?
        .iter()
        .map(|e| OfferLine {
            id: e.id,
            title: e.title.clone(),
            window: window(page, e),
            duration_minutes: e.duration_minutes,
        })
        .collect();
    render(
        &ExamList {
            chrome,
            f: Fmt::new(page),
            items,
            offers,
        },
        status,
    )
}

pub async fn exams_page(page: Page) -> Result<HttpResponse, PageError> {
    list_with(&page, Chrome::new(&page), StatusCode::OK).await
}

/// A doctor registers herself; the pipeline decides whether she may.
pub async fn register(
    page: Page,
    req: HttpRequest,
    path: web::Path<ExamId>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    let me = caller.person_id().ok_or(PageError(Error::Forbidden))?;
    let exam_id = path.into_inner();
    match exams::register(&page.ctx, &caller, exam_id, me, Default::default()).await {
        Ok(_) => {
            let chrome = Chrome::new(&page).notice("exams.registered");
            list_with(&page, chrome, StatusCode::OK).await
        }
        Err(e @ (Error::Conflict { .. } | Error::Invalid { .. })) => {
            let (chrome, status) = crate::web::pages::form_error(Chrome::new(&page), e)?;
            list_with(&page, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "exams/instructions.html")]
struct Instructions {
    chrome: Chrome,
    f: Fmt,
    b: Briefing,
}

/// What to know before starting, and the confirmation that starts.
pub async fn instructions(page: Page, path: web::Path<ExamId>) -> Result<HttpResponse, PageError> {
    let b = exams::briefing(&page.ctx, page.caller()?, path.into_inner()).await?;
    render(
        &Instructions {
            chrome: Chrome::new(&page),
            f: Fmt::new(&page),
            b,
        },
        StatusCode::OK,
    )
}

pub async fn start(
    page: Page,
    req: HttpRequest,
    path: web::Path<ExamId>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    match exams::start(&page.ctx, exams::Taker::Caller(&caller), path.into_inner()).await {
        Ok(view) => Ok(see_other(&format!("/attempts/{}", view.id()))),
        Err(e @ Error::Conflict { .. }) => {
            let (chrome, status) = crate::web::pages::form_error(Chrome::new(&page), e)?;
            list_with(&page, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

/// One option as shown, with whether the candidate chose it.
pub struct OptionView {
    pub index: usize,
    pub text: String,
    pub checked: bool,
}

/// One question as the page shows it.
pub struct QuestionView {
    pub position: i32,
    pub kind: &'static str,
    pub stem: String,
    pub points: i32,
    pub options: Vec<OptionView>,
    pub tf: Option<bool>,
    pub text: String,
    pub answered: bool,
    pub seq: i64,
}

fn question_view(item: &ItemView) -> QuestionView {
    let chosen: Vec<usize> = match &item.answer {
        Some(ShownAnswer::Positions(p)) => p.clone(),
        _ => Vec::new(),
    };
    QuestionView {
        position: item.position,
        kind: item.kind.as_str(),
        stem: item.stem.clone(),
        points: item.points,
        options: item
            .options
            .iter()
            .enumerate()
            .map(|(index, text)| OptionView {
                index,
                text: text.clone(),
                checked: chosen.contains(&index),
            })
            .collect(),
        tf: match item.answer {
            Some(ShownAnswer::TrueFalse(v)) => Some(v),
            _ => None,
        },
        text: match &item.answer {
            Some(ShownAnswer::Text(t)) => t.clone(),
            _ => String::new(),
        },
        answered: item.answer.as_ref().is_some_and(|a| match a {
            ShownAnswer::Positions(p) => !p.is_empty(),
            ShownAnswer::Text(t) => !t.trim().is_empty(),
            ShownAnswer::TrueFalse(_) => true,
        }),
        seq: item.seq.unwrap_or(0),
    }
}

pub struct NavItem {
    pub n: i32,
    pub answered: bool,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "exams/attempt.html")]
struct AttemptPage {
    chrome: Chrome,
    attempt: AttemptView,
    questions: Vec<QuestionView>,
    /// Question numbers for the navigation.
    nav: Vec<NavItem>,
    /// One question per screen: the one shown.
    one: Option<i32>,
    previous: Option<i32>,
    next: Option<i32>,
    deadline_local: String,
    remaining: String,
}

#[derive(Template)]
#[template(path = "exams/done.html")]
struct DonePage {
    chrome: Chrome,
    attempt: AttemptView,
    submitted_local: String,
}

#[derive(Deserialize)]
pub struct AttemptQuery {
    #[serde(default)]
    q: Option<i32>,
}

/// "1:05:09" or "4:05".
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m}:{sec:02}")
    }
}

pub async fn attempt_page(
    page: Page,
    path: web::Path<i64>,
    query: web::Query<AttemptQuery>,
) -> Result<HttpResponse, PageError> {
    let view = exams::get(&page.ctx, page.caller()?, path.into_inner()).await?;
    let tz = page.ctx.settings.time_zone;
    if let Some(submitted) = view.submitted_at {
        let submitted_local = local_time(tz, submitted.naive_utc());
        return render(
            &DonePage {
                chrome: Chrome::new(&page),
                attempt: view,
                submitted_local,
            },
            StatusCode::OK,
        );
    }
    let all: Vec<QuestionView> = view.items.iter().map(question_view).collect();
    let last = i32::try_from(all.len()).unwrap_or(i32::MAX);
    let one = query.q.filter(|q| (1..=last).contains(q));
    let nav = all
        .iter()
        .map(|q| NavItem {
            n: q.position,
            answered: q.answered,
            current: one == Some(q.position),
        })
        .collect();
    // Every question is in the page, so that the script can move between
    // them without the server (a dropped connection must not strand her).
    // One per screen, the others are hidden and disabled: the page's own
    // form (without script) still posts only the question on screen.
    let questions = all;
    let deadline_local = view
        .deadline
        .map(|d| local_time(tz, d.naive_utc()))
        .unwrap_or_default();
    let remaining = clock(view.remaining_seconds);
    render(
        &AttemptPage {
            chrome: Chrome::new(&page),
            previous: one.filter(|n| *n > 1).map(|n| n - 1),
            next: one.filter(|n| *n < last).map(|n| n + 1),
            one,
            questions,
            nav,
            deadline_local,
            remaining,
            attempt: view,
        },
        StatusCode::OK,
    )
}

/// The page's own form (no JavaScript needed): saves every answer on it,
/// then goes where the button said.
pub async fn save_form(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let pairs: Vec<(String, String)> = parse_form(&req, &body)?;
    let id = path.into_inner();
    let view = exams::get(&page.ctx, &caller, id).await?;
    // A change made now is newer than anything saved before.
    let seq = chrono::Utc::now().timestamp_millis();
    for item in &view.items {
        let name = format!("q{}", item.position);
        let values: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        let answer = match item.kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                let positions: Vec<usize> = values.iter().filter_map(|v| v.parse().ok()).collect();
                if positions.is_empty() {
                    None
                } else {
                    Some(ShownAnswer::Positions(positions))
                }
            }
            QuestionKind::TrueFalse => values.first().map(|v| ShownAnswer::TrueFalse(*v == "true")),
            QuestionKind::Case => values
                .first()
                .filter(|v| !v.trim().is_empty())
                .map(|v| ShownAnswer::Text((*v).to_owned())),
        };
        if let Some(answer) = answer
            && Some(&answer) != item.answer.as_ref()
        {
            exams::save(
                &page.ctx,
                exams::Taker::Caller(&caller),
                id,
                item.position,
                answer,
                seq,
            )
            .await?;
        }
    }
    let next = pairs
        .iter()
        .find(|(k, _)| k == "go")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let location = match next {
        "summary" => format!("/attempts/{id}/summary"),
        other => match other.strip_prefix("q").and_then(|n| n.parse::<i32>().ok()) {
            Some(n) => format!("/attempts/{id}?q={n}"),
            None => format!("/attempts/{id}"),
        },
    };
    Ok(see_other(&location))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    answer: ShownAnswer,
    seq: i64,
}

/// The endpoint exam.js saves each answer to: the page's session, a CSRF
/// token in the `X-CSRF-Token` header, JSON in and out.
pub async fn save_json(
    page: Page,
    req: HttpRequest,
    path: web::Path<(i64, i32)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    check_csrf(&req, token)?;
    let caller = page
        .user
        .as_ref()
        .map(|u| u.caller.clone())
        .ok_or(ApiError(Error::Unauthenticated))?;
    let b: SaveBody = json::parse(&body)?;
    let (id, position) = path.into_inner();
    let ack = exams::save(
        &page.ctx,
        exams::Taker::Caller(&caller),
        id,
        position,
        b.answer,
        b.seq,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ack))
}

#[derive(Template)]
#[template(path = "exams/summary.html")]
struct SummaryPage {
    chrome: Chrome,
    attempt: AttemptView,
    answered: Vec<i32>,
    unanswered: Vec<i32>,
    remaining: String,
}

pub async fn summary_page(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let view = exams::get(&page.ctx, page.caller()?, path.into_inner()).await?;
    if view.submitted_at.is_some() {
        return Ok(see_other(&format!("/attempts/{}", view.id)));
    }
    let questions: Vec<QuestionView> = view.items.iter().map(question_view).collect();
    let answered = questions
        .iter()
        .filter(|q| q.answered)
        .map(|q| q.position)
        .collect();
    let unanswered = questions
        .iter()
        .filter(|q| !q.answered)
        .map(|q| q.position)
        .collect();
    let remaining = clock(view.remaining_seconds);
    render(
        &SummaryPage {
            chrome: Chrome::new(&page),
            attempt: view,
            answered,
            unanswered,
            remaining,
        },
        StatusCode::OK,
    )
}

pub async fn submit(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    let view = exams::submit(&page.ctx, exams::Taker::Caller(&caller), path.into_inner()).await?;
    Ok(see_other(&format!("/attempts/{}", view.id)))
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn clocks_read_naturally() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(3600 + 5 * 60 + 9), "1:05:09");
        assert_eq!(clock(-5), "0:00");
    }
}
