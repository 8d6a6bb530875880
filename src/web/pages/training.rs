//! The doctor's learning pages: their training (tracks, progress, the next
//! thing to do), the open library, course outlines, lessons, module quizzes
//! with instant feedback, workshop sessions and the training record. All
//! work without JavaScript; static/lesson.js marks a lesson studied when it
//! has been read to the end.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::ids::PersonId;
use crate::domain::scoring::ShownAnswer;
use crate::error::Error;
use crate::services::training::{
    self, CourseView, LessonView, QuizResult, QuizState, QuizView, Roster, SessionView,
    TrackProgress, TrackSummary, TrainingRecord,
};
use crate::web::error::PageError;
use crate::web::pages::{Chrome, EmptyForm, Fmt, form_error, parse_form, render, see_other};
use crate::web::session::Page;

fn local(page: &Page, t: &chrono::DateTime<chrono::Utc>) -> String {
    crate::web::pages::local_time(page.ctx.settings.time_zone, t.naive_utc())
}

#[derive(Template)]
#[template(path = "training/learn.html")]
struct LearnPage {
    chrome: Chrome,
    mine: Vec<TrackProgress>,
    others: Vec<TrackSummary>,
}

/// "My training": the tracks I am enrolled in, with progress and what comes
/// next, and the tracks I could enrol in.
pub async fn learn(page: Page) -> Result<HttpResponse, PageError> {
    learn_with(&page, Chrome::new(&page), StatusCode::OK).await
}

async fn learn_with(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let tracks = training::tracks(&page.ctx, caller).await?;
    let mut mine = Vec::new();
    let mut others = Vec::new();
    for t in tracks {
        if t.enrolled {
            mine.push(training::track_progress(&page.ctx, caller, &t.key, None).await?);
        } else {
            others.push(t);
        }
    }
    render(
        &LearnPage {
            chrome,
            mine,
            others,
        },
        status,
    )
}

pub async fn enrol(
    page: Page,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: EmptyForm = parse_form(&req, &body)?;
    let key = path.into_inner();
    match training::enrol(&page.ctx, page.caller()?, &key).await {
        Ok(()) => Ok(see_other(&format!("/tracks/{key}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            learn_with(&page, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "training/track.html")]
struct TrackPage {
    chrome: Chrome,
    p: TrackProgress,
}

pub async fn track(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let p = training::track_progress(&page.ctx, page.caller()?, &path.into_inner(), None).await?;
    render(
        &TrackPage {
            chrome: Chrome::new(&page),
            p,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "training/library.html")]
struct LibraryPage {
    chrome: Chrome,
    courses: Vec<CourseView>,
}

pub async fn library(page: Page) -> Result<HttpResponse, PageError> {
    let courses = training::library(&page.ctx, page.caller()?).await?;
    render(
        &LibraryPage {
            chrome: Chrome::new(&page),
            courses,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "training/course.html")]
struct CoursePage {
    chrome: Chrome,
    c: CourseView,
}

pub async fn course(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let c = training::course(&page.ctx, page.caller()?, &path.into_inner()).await?;
    render(
        &CoursePage {
            chrome: Chrome::new(&page),
            c,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "training/lesson.html")]
struct LessonPage {
    chrome: Chrome,
    l: LessonView,
}

pub async fn lesson(
    page: Page,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (course, lesson) = path.into_inner();
    let l = training::lesson(&page.ctx, page.caller()?, &course, &lesson).await?;
    render(
        &LessonPage {
            chrome: Chrome::new(&page),
            l,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct StudiedForm {
    version: i32,
}

/// "I have studied this": the button, or lesson.js when the end is reached.
pub async fn studied(
    page: Page,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: StudiedForm = parse_form(&req, &body)?;
    let (course, lesson) = path.into_inner();
    let caller = page.caller()?;
    match training::mark_studied(&page.ctx, caller, &course, &lesson, form.version).await {
        Ok(()) => Ok(see_other(&format!("/courses/{course}/lessons/{lesson}"))),
        Err(e @ Error::Conflict { .. }) => {
            let l = training::lesson(&page.ctx, caller, &course, &lesson).await?;
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&LessonPage { chrome, l }, status)
        }
        Err(e) => Err(PageError(e)),
    }
}

/// Draws a new quiz (every retry is a new draw) and shows it.
pub async fn start_quiz(
    page: Page,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: EmptyForm = parse_form(&req, &body)?;
    let (course, module) = path.into_inner();
    let caller = page.caller()?;
    match training::start_quiz(&page.ctx, caller, &course, &module).await {
        Ok(q) => Ok(see_other(&format!("/quizzes/{}", q.id))),
        Err(e @ Error::Conflict { .. }) => {
            let c = training::course(&page.ctx, caller, &course).await?;
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&CoursePage { chrome, c }, status)
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "training/quiz.html")]
struct QuizPage {
    chrome: Chrome,
    q: QuizView,
}

#[derive(Template)]
#[template(path = "training/quiz_result.html")]
struct QuizResultPage {
    chrome: Chrome,
    r: QuizResult,
}

impl QuizResultPage {
    fn chose(&self, position: &usize, option: &usize) -> bool {
        let (position, option) = (*position, *option);
        self.r
            .items
            .get(position)
            .and_then(|i| i.your_answer.as_ref())
            .is_some_and(|a| matches!(a, ShownAnswer::Positions(p) if p.contains(&option)))
    }

    fn said(&self, position: &usize) -> Option<bool> {
        match self
            .r
            .items
            .get(*position)
            .and_then(|i| i.your_answer.as_ref())
        {
            Some(ShownAnswer::TrueFalse(v)) => Some(*v),
            _ => None,
        }
    }
}

pub async fn quiz(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let chrome = Chrome::new(&page);
    match training::get_quiz(&page.ctx, page.caller()?, path.into_inner()).await? {
        QuizState::Open(q) => render(&QuizPage { chrome, q }, StatusCode::OK),
        QuizState::Submitted(r) => render(&QuizResultPage { chrome, r }, StatusCode::OK),
    }
}

/// Quiz answers as the form sends them: `q{position}` = an option position
/// (repeated for multiple choice) or `true`/`false`.
fn answers_of(pairs: &[(String, String)]) -> Result<Vec<(usize, ShownAnswer)>, Error> {
    let mut out: Vec<(usize, ShownAnswer)> = Vec::new();
    for (name, value) in pairs {
        let Some(position) = name.strip_prefix('q') else {
            continue;
        };
        let position: usize = position
            .parse()
            .map_err(|_detail| Error::invalid("answers", format!("unknown field {name}")))?;
        let answer = match value.as_str() {
            "true" => ShownAnswer::TrueFalse(true),
            "false" => ShownAnswer::TrueFalse(false),
            v => ShownAnswer::Positions(vec![v.parse().map_err(|_detail| {
                Error::invalid(
                    "answers",
                    format!("question {}: not an option", position + 1),
                )
            })?]),
        };
        match (out.iter_mut().find(|(p, _)| *p == position), answer) {
            (Some((_, ShownAnswer::Positions(chosen))), ShownAnswer::Positions(more)) => {
                chosen.extend(more)
            }
            (Some(_), _) => {
                return Err(Error::invalid(
                    "answers",
                    format!("question {}: answered twice", position + 1),
                ));
            }
            (None, answer) => out.push((position, answer)),
        }
    }
    Ok(out)
}

pub async fn submit_quiz(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let pairs: Vec<(String, String)> = parse_form(&req, &body)?;
    let id = path.into_inner();
    let answers = answers_of(&pairs)?;
    training::submit_quiz(&page.ctx, page.caller()?, id, answers).await?;
    Ok(see_other(&format!("/quizzes/{id}")))
}

// ----- workshops -----

pub struct SessionLine {
    pub s: SessionView,
    pub when: String,
}

#[derive(Template)]
#[template(path = "training/workshops.html")]
struct WorkshopsPage {
    chrome: Chrome,
    sessions: Vec<SessionLine>,
}

async fn workshops_with(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let sessions = training::sessions(&page.ctx, page.caller()?)
        .await?
        .into_iter()
        .map(|s| SessionLine {
            when: format!(
                "{} – {}",
                local(page, &s.starts_at),
                local(page, &s.ends_at)
            ),
            s,
        })
        .collect();
    render(&WorkshopsPage { chrome, sessions }, status)
}

pub async fn workshops(page: Page) -> Result<HttpResponse, PageError> {
    workshops_with(&page, Chrome::new(&page), StatusCode::OK).await
}

pub async fn sign_up(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: EmptyForm = parse_form(&req, &body)?;
    match training::sign_up(&page.ctx, page.caller()?, path.into_inner()).await {
        Ok(_) => Ok(see_other("/workshops")),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            workshops_with(&page, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn cancel(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: EmptyForm = parse_form(&req, &body)?;
    match training::cancel(&page.ctx, page.caller()?, path.into_inner()).await {
        Ok(()) => Ok(see_other("/workshops")),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            workshops_with(&page, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "training/roster.html")]
struct RosterPage {
    chrome: Chrome,
    r: Roster,
    when: String,
}

async fn roster_with(
    page: &Page,
    id: i64,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let r = training::roster(&page.ctx, page.caller()?, id).await?;
    let when = format!(
        "{} – {}",
        local(page, &r.session.starts_at),
        local(page, &r.session.ends_at)
    );
    render(&RosterPage { chrome, r, when }, status)
}

pub async fn roster(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    roster_with(&page, path.into_inner(), Chrome::new(&page), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct AttendanceForm {
    person_id: PersonId,
    attended: bool,
}

pub async fn attendance(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: AttendanceForm = parse_form(&req, &body)?;
    let id = path.into_inner();
    match training::record_attendance(&page.ctx, page.caller()?, id, form.person_id, form.attended)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/workshops/sessions/{id}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            roster_with(&page, id, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

// ----- the training record -----

#[derive(Template)]
#[template(path = "training/record.html")]
pub struct RecordPage {
    pub chrome: Chrome,
    pub r: TrainingRecord,
    pub csv_url: String,
    pub f: Fmt,
}

impl RecordPage {
    fn hours(&self) -> String {
        format!("{:.1}", self.r.hours_studied)
    }
}

pub async fn record(page: Page) -> Result<HttpResponse, PageError> {
    let r = training::record(&page.ctx, page.caller()?, None).await?;
    render(
        &RecordPage {
            chrome: Chrome::new(&page),
            r,
            csv_url: "/record.csv".into(),
            f: Fmt::new(&page),
        },
        StatusCode::OK,
    )
}

pub fn csv_response(name: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

pub async fn record_csv(page: Page) -> Result<HttpResponse, PageError> {
    let r = training::record(&page.ctx, page.caller()?, None).await?;
    let csv = training::records_csv(std::slice::from_ref(&r), page.ctx.settings.time_zone)?;
    Ok(csv_response("training-record.csv", csv))
}

/// A course's image (lessons link to them as /media/{course}/{name}).
pub async fn media(
    page: Page,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (course, name) = path.into_inner();
    let (content_type, bytes) = training::media(&page.ctx, page.caller()?, &course, &name).await?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
