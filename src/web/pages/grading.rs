//! The examiner's pages (the marking queue and the marking form, blind) and
//! the candidate's result page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::domain::ids::ExamId;
use crate::domain::next_step::AttemptFact;
use crate::error::Error;
use crate::i18n::Tr;
use crate::services::grading::{self, CriterionMark, MarkingQueue, ResultView, TaskView};
use crate::web::charts::{self, Axis, Captions, Chart, References, Row, Series};
use crate::web::error::PageError;
use crate::web::pages::{Chrome, Fmt, form_error, local_time, parse_form, render, see_other};
use crate::web::session::Page;

#[derive(Template)]
#[template(path = "grading/queue.html")]
struct QueuePage {
    chrome: Chrome,
    q: MarkingQueue,
    f: Fmt,
}

pub async fn queue(page: Page) -> Result<HttpResponse, PageError> {
    let q = grading::queue(&page.ctx, page.caller()?).await?;
    render(
        &QueuePage {
            chrome: Chrome::new(&page),
            q,
            f: Fmt::new(&page),
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "grading/task.html")]
struct TaskPage {
    chrome: Chrome,
    t: TaskView,
    due: String,
}

impl TaskPage {
    fn mark(&self, i: &usize) -> String {
        self.t
            .marks
            .as_ref()
            .and_then(|m| m.get(*i))
            .map(|m| m.points.to_string())
            .unwrap_or_default()
    }

    fn role_key(&self) -> String {
        format!("marking.role{}", self.t.role)
    }

    #[allow(clippy::unused_self)] // a method: the template calls it on the page
    fn field(&self, i: &usize) -> String {
        format!("marks[{i}]")
    }

    fn comment(&self, i: &usize) -> String {
        self.t
            .marks
            .as_ref()
            .and_then(|m| m.get(*i))
            .map(|m| m.comment.clone())
            .unwrap_or_default()
    }
}

async fn task_page(
    page: &Page,
    id: i64,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let t = grading::task(&page.ctx, page.caller()?, id).await?;
    let due = local_time(page.ctx.settings.time_zone, t.due_at.naive_utc());
    render(&TaskPage { chrome, t, due }, status)
}

pub async fn task(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    task_page(&page, path.into_inner(), Chrome::new(&page), StatusCode::OK).await
}

/// The form sends `points{i}` and `comment{i}` for each rubric criterion.
fn marks_of(pairs: &[(String, String)]) -> Result<Vec<CriterionMark>, Error> {
    let mut marks: Vec<CriterionMark> = Vec::new();
    for i in 0.. {
        let Some((_, points)) = pairs.iter().find(|(k, _)| *k == format!("points{i}")) else {
            break;
        };
        let points: f64 = points
            .trim()
            .replace(',', ".")
            .parse()
            .map_err(|_detail| Error::invalid(format!("marks[{i}]"), "must be a number"))?;
        let comment = pairs
            .iter()
            .find(|(k, _)| *k == format!("comment{i}"))
            .map(|(_, c)| c.trim().to_owned())
            .unwrap_or_default();
        marks.push(CriterionMark { points, comment });
    }
    Ok(marks)
}

pub async fn submit(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let pairs: Vec<(String, String)> = parse_form(&req, &body)?;
    let id = path.into_inner();
    let saved = match marks_of(&pairs) {
        Ok(marks) => grading::submit_marks(&page.ctx, page.caller()?, id, marks).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other("/marking")),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            task_page(&page, id, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "grading/result.html")]
struct ResultPage {
    chrome: Chrome,
    r: ResultView,
}

impl ResultPage {
    fn until(&self) -> String {
        self.r.appeal_until.format("%Y-%m-%d").to_string()
    }

    fn appealable(&self) -> bool {
        crate::clock::now() <= self.r.appeal_until
    }

    fn chose(&self, position: &i32, option: &usize) -> bool {
        use crate::domain::scoring::ShownAnswer;
        self.r
            .items
            .iter()
            .find(|i| i.position == *position)
            .and_then(|i| i.your_answer.as_ref())
            .is_some_and(|a| matches!(a, ShownAnswer::Positions(p) if p.contains(option)))
    }

    fn text(&self, position: &i32) -> String {
        use crate::domain::scoring::ShownAnswer;
        match self
            .r
            .items
            .iter()
            .find(|i| i.position == *position)
            .and_then(|i| i.your_answer.as_ref())
        {
            Some(ShownAnswer::Text(t)) if !t.trim().is_empty() => t.clone(),
            // True or false in words, in the reader's language.
            Some(ShownAnswer::TrueFalse(true)) => self.chrome.tr.t("attempt.true"),
            Some(ShownAnswer::TrueFalse(false)) => self.chrome.tr.t("attempt.false"),
            // Said, not left blank: a blank reads as if the page lost it.
            _ => self.chrome.tr.t("attempt.review_unanswered"),
        }
    }
}

#[derive(Template)]
#[template(path = "grading/pending.html")]
struct PendingPage {
    chrome: Chrome,
    exam_title: String,
    /// When results are expected (the exam's close plus its marking days);
    /// none while the attempt is not yet submitted.
    expected_by: Option<String>,
}

pub async fn result(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let attempt_id = path.into_inner();
    let caller = page.caller()?;
    match grading::result(&page.ctx, caller, attempt_id).await {
        Ok(r) => render(
            &ResultPage {
                chrome: Chrome::new(&page),
                r,
            },
            StatusCode::OK,
        ),
        // Her own attempt, not released yet: say when it will be, rather
        // than a bare conflict.
        Err(Error::Conflict { .. }) => {
            let mine = crate::services::exams::mine(&page.ctx, caller).await?;
            let exam = mine
                .iter()
                .find(|m| m.attempts.iter().any(|a| a.id == attempt_id))
                .ok_or(PageError(Error::NotFound))?;
            let expected_by = match exam.fact.attempt {
                AttemptFact::AwaitingResult { expected_by, .. } => Some(
                    expected_by
                        .with_timezone(&page.ctx.settings.time_zone)
                        .format("%Y-%m-%d")
                        .to_string(),
                ),
                _ => None,
            };
            render(
                &PendingPage {
                    chrome: Chrome::new(&page),
                    exam_title: exam.exam.title.clone(),
                    expected_by,
                },
                StatusCode::OK,
            )
        }
        Err(e) => Err(PageError(e)),
    }
}

// ----- item analysis (committee and admins) -----

use crate::services::analysis::{self, AnalysisView, Change};

#[derive(Template)]
#[template(path = "grading/analysis.html")]
struct AnalysisPage {
    chrome: Chrome,
    a: AnalysisView,
    chart: Chart,
    preview: Option<(i64, Vec<Change>)>,
}

impl AnalysisPage {
    #[allow(clippy::unused_self)] // a method: the template calls it on the page
    fn num(&self, v: &Option<f64>) -> String {
        v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
    }

    #[allow(clippy::unused_self)] // a method: the template calls it on the page
    fn fixed(&self, v: &f64) -> String {
        format!("{v:.2}")
    }
}

/// Each question's facility as a bar on a 0 to 1 axis, flagged questions
/// as their own series, with the flag limits as dashed lines; the table
/// names the flags.
fn facility_chart(tr: &Tr, a: &AnalysisView) -> Chart {
    let rows: Vec<Row> = a
        .items
        .iter()
        .map(|item| {
            let f = (item.facility.clamp(0.0, 1.0) * 100.0).round() / 100.0;
            let flagged = !item.flags.is_empty();
            Row {
                label: item.key.clone(),
                values: vec![(!flagged).then_some(f), flagged.then_some(f)],
            }
        })
        .collect();
    let mut chart = charts::bars(
        Captions {
            id: "analysis-chart".into(),
            title: tr.t("analysis.chart_title"),
            caption: tr.t("analysis.chart"),
            table: tr.t("analysis.chart_table"),
        },
        &tr.t("analysis.question"),
        &[
            Series::new(tr.t("analysis.facility"), "s1"),
            Series::new(tr.t("analysis.flagged"), "flag"),
        ],
        &rows,
        &Axis {
            title: tr.t("analysis.facility_axis"),
            max: Some(1.0),
            whole: false,
        },
        Some(&References {
            name: tr.t("analysis.limits"),
            at: vec![0.2, 0.95],
        }),
    );
    chart.table.head = vec![
        tr.t("analysis.question"),
        tr.t("analysis.facility"),
        tr.t("analysis.flag_column"),
    ];
    chart.table.rows = a
        .items
        .iter()
        .map(|item| {
            let flags: Vec<String> = item
                .flags
                .iter()
                .map(|f| tr.t(&format!("analysis.flag.{f}")))
                .collect();
            vec![
                item.key.clone(),
                format!("{:.2}", item.facility),
                flags.join(", "),
            ]
        })
        .collect();
    chart
}

async fn analysis_page(
    page: &Page,
    exam: ExamId,
    chrome: Chrome,
    status: StatusCode,
    preview: Option<(i64, Vec<Change>)>,
) -> Result<HttpResponse, PageError> {
    let a = analysis::analysis(&page.ctx, page.caller()?, exam).await?;
    let chart = facility_chart(&page.tr, &a);
    render(
        &AnalysisPage {
            chrome,
            a,
            chart,
            preview,
        },
        status,
    )
}

pub async fn analysis_view(page: Page, path: web::Path<ExamId>) -> Result<HttpResponse, PageError> {
    analysis_page(
        &page,
        path.into_inner(),
        Chrome::new(&page),
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct ReviewForm {
    question_id: i64,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    /// `preview` (a dry run) or `apply`.
    #[serde(default)]
    action: String,
}

pub async fn review(
    page: Page,
    req: HttpRequest,
    path: web::Path<ExamId>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: ReviewForm = parse_form(&req, &body)?;
    let exam = path.into_inner();
    let dry_run = form.action == "preview";
    let outcome = analysis::review(
        &page.ctx,
        page.caller()?,
        exam,
        form.question_id,
        &form.decision,
        &form.reason,
        dry_run,
    )
    .await;
    match outcome {
        Ok(changes) if dry_run => {
            analysis_page(
                &page,
                exam,
                Chrome::new(&page),
                StatusCode::OK,
                Some((form.question_id, changes)),
            )
            .await
        }
        Ok(_) => Ok(see_other(&format!("/admin/exams/{exam}/analysis"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            analysis_page(&page, exam, chrome, status, None).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(serde::Deserialize)]
pub struct AppealForm {
    position: i32,
    #[serde(default)]
    reason: String,
}

/// A candidate appeals an answer's mark from the result page.
pub async fn appeal(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: AppealForm = parse_form(&req, &body)?;
    let id = path.into_inner();
    let caller = page.caller()?;
    match grading::appeal(&page.ctx, caller, id, form.position, &form.reason).await {
        Ok(_) => Ok(see_other(&format!("/attempts/{id}/result"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let r = grading::result(&page.ctx, caller, id).await?;
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&ResultPage { chrome, r }, status)
        }
        Err(e) => Err(PageError(e)),
    }
}

// ----- practical stations (examiners) -----

use crate::services::grading::{SettingView, StationView};

#[derive(Template)]
#[template(path = "grading/stations.html")]
struct StationsPage {
    chrome: Chrome,
    stations: Vec<StationView>,
}

pub async fn stations(page: Page) -> Result<HttpResponse, PageError> {
    let stations = grading::stations(&page.ctx, page.caller()?).await?;
    render(
        &StationsPage {
            chrome: Chrome::new(&page),
            stations,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "grading/station.html")]
struct StationPage {
    chrome: Chrome,
    s: StationView,
    recorded: Option<crate::services::grading::PracticalView>,
}

async fn station_page(
    page: &Page,
    id: i64,
    chrome: Chrome,
    status: StatusCode,
    recorded: Option<crate::services::grading::PracticalView>,
) -> Result<HttpResponse, PageError> {
    let s = grading::station(&page.ctx, page.caller()?, id).await?;
    render(
        &StationPage {
            chrome,
            s,
            recorded,
        },
        status,
    )
}

pub async fn station(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    station_page(
        &page,
        path.into_inner(),
        Chrome::new(&page),
        StatusCode::OK,
        None,
    )
    .await
}

pub async fn record_practical(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let pairs: Vec<(String, String)> = parse_form(&req, &body)?;
    let id = path.into_inner();
    let email = pairs
        .iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let saved = match marks_of(&pairs) {
        Ok(marks) => {
            grading::record_practical(
                &page.ctx,
                page.caller()?,
                id,
                grading::CandidateRef::Email(email),
                marks,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match saved {
        Ok(v) => {
            let chrome = Chrome::new(&page).notice("marking.recorded");
            station_page(&page, id, chrome, StatusCode::OK, Some(v)).await
        }
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            station_page(&page, id, chrome, status, None).await
        }
        Err(e) => Err(PageError(e)),
    }
}

// ----- standard setting (committee) -----

#[derive(Template)]
#[template(path = "grading/standard.html")]
struct StandardPage {
    chrome: Chrome,
    s: SettingView,
}

impl StandardPage {
    #[allow(clippy::unused_self)] // a method: the template calls it on the page
    fn rating(&self, r: &Option<f64>) -> String {
        r.map(|v| v.to_string()).unwrap_or_default()
    }

    #[allow(clippy::unused_self)] // a method: the template calls it on the page
    fn weight(&self, w: &f64) -> String {
        format!("{w:.2}")
    }

    fn cut(&self) -> String {
        self.s
            .cut_score
            .map(|c| format!("{c:.1}"))
            .unwrap_or_else(|| "—".into())
    }
}

async fn standard_page(
    page: &Page,
    id: i64,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let s = grading::get_setting(&page.ctx, page.caller()?, id).await?;
    render(&StandardPage { chrome, s }, status)
}

pub async fn standard(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    standard_page(&page, path.into_inner(), Chrome::new(&page), StatusCode::OK).await
}

/// Opens a new round for an exam (from its item analysis page).
pub async fn open_standard(
    page: Page,
    req: HttpRequest,
    path: web::Path<ExamId>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: crate::web::pages::EmptyForm = parse_form(&req, &body)?;
    let s = grading::open_setting(&page.ctx, page.caller()?, path.into_inner()).await?;
    Ok(see_other(&format!("/standard-settings/{}", s.id)))
}

/// Saves the member's ratings (`q{question_id}` = probability), or approves.
pub async fn rate(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let pairs: Vec<(String, String)> = parse_form(&req, &body)?;
    let id = path.into_inner();
    let caller = page.caller()?;
    let approving = pairs.iter().any(|(k, v)| k == "action" && v == "approve");
    let outcome = if approving {
        grading::approve_setting(&page.ctx, caller, id)
            .await
            .map(|_| ())
    } else {
        let mut ratings = Vec::new();
        let mut bad = None;
        for (k, v) in &pairs {
            let Some(q) = k.strip_prefix('q').and_then(|q| q.parse::<i64>().ok()) else {
                continue;
            };
            if v.trim().is_empty() {
                continue;
            }
            match v.trim().replace(',', ".").parse::<f64>() {
                Ok(p) => ratings.push((q, p)),
                Err(_) => bad = Some(Error::invalid("ratings", "a probability from 0 to 1")),
            }
        }
        match bad {
            Some(e) => Err(e),
            None => grading::rate(&page.ctx, caller, id, ratings)
                .await
                .map(|_| ()),
        }
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/standard-settings/{id}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            standard_page(&page, id, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}
