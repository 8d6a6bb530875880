//! Admin pages for exams: the list, scheduling (the blueprint is entered as
//! JSON, checked against the banks on save), the roster, registering a
//! doctor with accommodations, and drawing papers ahead of the opening.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::domain::access::Permission;
use crate::domain::ids::PersonId;
use crate::domain::pipeline::ExamStage;
use crate::domain::roles::Role;
use crate::error::Error;
use crate::services::exams::{self, AccommodationInput, ExamInput, RegisteredCandidate};
use crate::services::{self, people};
use crate::web::error::PageError;
use crate::web::pages::{
    Chrome, EmptyForm, form_error, local_time, number, parse_form, render, see_other,
};
use crate::web::session::Page;

/// A `datetime-local` value read in the alliance's time zone.
pub fn parse_local(tz: chrono_tz::Tz, field: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    let naive =
        NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").map_err(|_detail| {
            Error::invalid(field, "must be a date and time like 2026-12-01T09:00")
        })?;
    tz.from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Error::invalid(field, "is not a valid local time"))
}

const EXAMPLE_BLUEPRINT: &str = r#"{"sections": [
  {"title": "Knowledge", "topics": ["fever-in-infants", "asthma", "immunisation"],
   "kinds": ["single", "multiple", "true_false"], "mix": {"2": 6, "3": 6, "4": 3}, "points": 2},
  {"title": "Case analysis", "topics": ["fever-in-infants", "danger-signs-referral"],
   "kinds": ["case"], "mix": {"3": 1, "4": 1}, "points": 10}
]}"#;

#[derive(Debug, Default, Deserialize)]
pub struct ExamForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    track: String,
    #[serde(default)]
    opens_at: String,
    #[serde(default)]
    closes_at: String,
    #[serde(default)]
    duration_minutes: String,
    #[serde(default)]
    pass_mark: String,
    #[serde(default)]
    attempts_allowed: String,
    #[serde(default)]
    waiting_days: String,
    #[serde(default)]
    review_policy: String,
    #[serde(default)]
    blueprint: String,
    #[serde(default)]
    marking_tolerance: String,
    #[serde(default)]
    appeal_days: String,
    #[serde(default)]
    stage: String,
}

/// An optional number field: empty means the default.
fn optional_number(field: &str, value: &str) -> Result<Option<i64>, Error> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        number(field, value).map(Some)
    }
}

impl ExamForm {
    fn input(&self, tz: chrono_tz::Tz) -> Result<ExamInput, Error> {
        Ok(ExamInput {
            track: self.track.clone(),
            title: self.title.clone(),
            opens_at: parse_local(tz, "opens_at", &self.opens_at)?,
            closes_at: parse_local(tz, "closes_at", &self.closes_at)?,
            duration_minutes: number("duration_minutes", &self.duration_minutes)?,
            pass_mark: number("pass_mark", &self.pass_mark)?,
            attempts_allowed: number("attempts_allowed", &self.attempts_allowed)?,
            waiting_days: number("waiting_days", &self.waiting_days)?,
            review_policy: self.review_policy.clone(),
            blueprint: serde_json::from_str(&self.blueprint).map_err(|e| {
                Error::invalid("blueprint", format!("is not a valid blueprint: {e}"))
            })?,
            grace_seconds: None,
            marking_tolerance: optional_number("marking_tolerance", &self.marking_tolerance)?,
            marking_days: None,
            appeal_days: optional_number("appeal_days", &self.appeal_days)?,
            stage: match self.stage.trim() {
                "" => None,
                s => {
                    Some(ExamStage::parse(s).ok_or_else(|| {
                        Error::invalid("stage", "must be written, case or renewal")
                    })?)
                }
            },
        })
    }
}

pub struct ExamSummary {
    pub id: i64,
    pub title: String,
    pub track: String,
    pub window: String,
}

#[derive(Template)]
#[template(path = "exams/admin_list.html")]
struct AdminList {
    chrome: Chrome,
    items: Vec<ExamSummary>,
    form: ExamForm,
}

async fn list_page(
    page: &Page,
    chrome: Chrome,
    form: ExamForm,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let tz = page.ctx.settings.time_zone;
    let items = exams::list(&page.ctx, page.caller()?)
        .await?
        .into_iter()
        .map(|e| ExamSummary {
            id: e.id,
            title: e.title,
            track: e.track,
            window: format!(
                "{} – {}",
                local_time(tz, e.opens_at.naive_utc()),
                local_time(tz, e.closes_at.naive_utc())
            ),
        })
        .collect();
    render(
        &AdminList {
            chrome,
            items,
            form,
        },
        status,
    )
}

pub async fn admin_exams(page: Page) -> Result<HttpResponse, PageError> {
    services::require(&page.ctx, page.caller()?, Permission::ManageExams).await?;
    let form = ExamForm {
        track: "paediatrics".into(),
        duration_minutes: "90".into(),
        pass_mark: "60".into(),
        attempts_allowed: "2".into(),
        waiting_days: "30".into(),
        review_policy: "topics".into(),
        marking_tolerance: "20".into(),
        appeal_days: "14".into(),
        stage: "written".into(),
        blueprint: EXAMPLE_BLUEPRINT.into(),
        ..ExamForm::default()
    };
    let chrome = Chrome::new(&page);
    list_page(&page, chrome, form, StatusCode::OK).await
}

pub async fn schedule(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let form: ExamForm = parse_form(&req, &body)?;
    let outcome = match form.input(page.ctx.settings.time_zone) {
        Ok(input) => exams::schedule(&page.ctx, &caller, input).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(exam) => Ok(see_other(&format!("/admin/exams/{}", exam.id))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            list_page(&page, chrome, form, status).await
        }
    }
}

pub struct Doctor {
    pub id: PersonId,
    pub label: String,
}

#[derive(Template)]
#[template(path = "exams/admin_exam.html")]
struct AdminExam {
    chrome: Chrome,
    exam: ExamSummary,
    duration_minutes: i32,
    roster: Vec<RegisteredCandidate>,
    doctors: Vec<Doctor>,
    marking: crate::services::grading::MarkingStatus,
}

async fn exam_page(
    page: &Page,
    id: i64,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let (exam, roster) = exams::roster(&page.ctx, caller, id).await?;
    let tz = page.ctx.settings.time_zone;
    let doctors = people::list(&page.ctx, caller)
        .await?
        .into_iter()
        .filter(|p| p.active && p.roles.contains(&Role::Doctor))
        .filter(|p| !roster.iter().any(|r| r.registration.person_id == p.id))
        .map(|p| Doctor {
            id: p.id,
            label: format!("{} <{}>", p.name, p.email),
        })
        .collect();
    let summary = ExamSummary {
        id: exam.id,
        title: exam.title.clone(),
        track: exam.track.clone(),
        window: format!(
            "{} – {}",
            local_time(tz, exam.opens_at.naive_utc()),
            local_time(tz, exam.closes_at.naive_utc())
        ),
    };
    let marking = crate::services::grading::marking_status(&page.ctx, caller, id).await?;
    render(
        &AdminExam {
            chrome,
            exam: summary,
            duration_minutes: exam.duration_minutes,
            roster,
            doctors,
            marking,
        },
        status,
    )
}

pub async fn admin_exam(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let chrome = Chrome::new(&page);
    exam_page(&page, path.into_inner(), chrome, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    person_id: String,
    #[serde(default)]
    extra_minutes: String,
}

pub async fn register(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let id = path.into_inner();
    let form: RegisterForm = parse_form(&req, &body)?;
    let outcome = async {
        let person_id = number("person_id", &form.person_id).map(PersonId)?;
        let extra = if form.extra_minutes.trim().is_empty() {
            0
        } else {
            number("extra_minutes", &form.extra_minutes)?
        };
        exams::register(
            &page.ctx,
            &caller,
            id,
            person_id,
            AccommodationInput {
                extra_minutes: extra,
                ..Default::default()
            },
        )
        .await
    }
    .await;
    match outcome {
        Ok(_) => Ok(see_other(&format!("/admin/exams/{id}"))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            exam_page(&page, id, chrome, status).await
        }
    }
}

pub async fn predraw(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    let id = path.into_inner();
    exams::predraw(&page.ctx, &caller, id).await?;
    let chrome = Chrome::new(&page).notice("admin_exams.predrawn");
    exam_page(&page, id, chrome, StatusCode::OK).await
}

/// The owner releases the exam's results (refused, with the reason, while
/// marking is incomplete).
pub async fn release(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let _: EmptyForm = parse_form(&req, &body)?;
    let id = path.into_inner();
    match crate::services::grading::release(&page.ctx, page.caller()?, id).await {
        Ok(()) => Ok(see_other(&format!("/admin/exams/{id}"))),
        Err(e @ Error::Conflict { .. }) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            exam_page(&page, id, chrome, status).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_read_in_the_alliance_zone() {
        let t = parse_local(chrono_tz::Asia::Shanghai, "opens_at", "2026-12-01T09:00").ok();
        assert_eq!(
            t.map(|t| t.to_rfc3339()),
            Some("2026-12-01T01:00:00+00:00".to_owned())
        );
        let e = parse_local(chrono_tz::Asia::Shanghai, "opens_at", "tomorrow").err();
        assert_eq!(
            e.and_then(|e| e.field().map(str::to_owned)).as_deref(),
            Some("opens_at")
        );
    }
}
