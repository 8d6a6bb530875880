//! Green-channel pages: the doctor's referrals (the form, the list, each
//! referral's steps) and community visits; the desk's incoming referrals,
//! its steps and its departments; the alliance dashboard.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::access::{Permission, permits};
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::numbers::i64_f64;
use crate::domain::referrals::Quality;
use crate::domain::roles::Role;
use crate::error::Error;
use crate::i18n::Tr;
use crate::services::idempotency::{Created, Idempotent};
use crate::services::referrals::{
    self, DepartmentInput, DepartmentView, DeskStep, FlaggedDoctor, Month, ReferralInput,
    ReferralLine, ReferralView,
};
use crate::web::charts::{self, Captions, Category, Chart, Panel, Series};
use crate::web::error::PageError;
use crate::web::pages::{Chrome, Fmt, form_error, has, number, parse_form, render, see_other};
use crate::web::session::Page;

// ----- lists, visits -----

#[derive(Template)]
#[template(path = "referrals/list.html")]
struct ListPage {
    chrome: Chrome,
    f: Fmt,
    lines: Vec<ReferralLine>,
    may_refer: bool,
    is_desk: bool,
    quality: Option<Quality>,
    today: String,
}

async fn list_page(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let lines = referrals::list(&page.ctx, caller).await?;
    let may_refer = permits(&caller.principal, Permission::Refer);
    let quality = if may_refer {
        Some(referrals::my_quality(&page.ctx, caller).await?)
    } else {
        None
    };
    render(
        &ListPage {
            chrome,
            f: Fmt::new(page),
            lines,
            may_refer,
            is_desk: has(page, Role::ReferralDesk),
            quality,
            today: crate::clock::now()
                .with_timezone(&page.ctx.settings.time_zone)
                .format("%Y-%m-%d")
                .to_string(),
        },
        status,
    )
}

pub async fn list(page: Page) -> Result<HttpResponse, PageError> {
    list_page(&page, Chrome::new(&page), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct VisitsForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    first_visits: String,
}

pub async fn visits(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: VisitsForm = parse_form(&req, &body)?;
    let result = match form.first_visits.trim().parse::<i64>() {
        Ok(n) => referrals::record_visits(&page.ctx, page.caller()?, form.date, n).await,
        Err(_) => Err(Error::invalid("first_visits", "must be a whole number")),
    };
    match result {
        Ok(()) => {
            list_page(
                &page,
                Chrome::new(&page).notice("referrals.visits_saved"),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            list_page(&page, chrome, status).await
        }
    }
}

// ----- the referral form -----

#[derive(Template)]
#[template(path = "referrals/new.html")]
struct NewPage {
    chrome: Chrome,
    /// The departments her credential opens the gate to now.
    departments: Vec<DepartmentView>,
    form: ReferralForm,
    /// Why the gate is closed to her (`GateRefusal::code`), shown instead of
    /// the form.
    refusal: Option<&'static str>,
}

#[derive(Deserialize, Default, Clone)]
pub struct ReferralForm {
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    patient_name: String,
    #[serde(default)]
    patient_sex: String,
    #[serde(default)]
    patient_birth_date: String,
    #[serde(default)]
    guardian_phone: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    diagnosis: String,
    #[serde(default)]
    diagnosis_code: String,
    #[serde(default)]
    findings: String,
    #[serde(default)]
    slot_date: String,
    #[serde(default)]
    needs_bed: Option<String>,
    /// Generated with the empty form: a second submission of the same form
    /// (a double click, a resend) opens no second referral.
    #[serde(default)]
    idempotency_key: String,
}

async fn new_page(
    page: &Page,
    chrome: Chrome,
    form: ReferralForm,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (departments, refusal) =
        referrals::departments_open_to_me(&page.ctx, page.caller()?).await?;
    render(
        &NewPage {
            chrome,
            departments,
            form,
            refusal: refusal.map(crate::domain::referrals::GateRefusal::code),
        },
        status,
    )
}

pub async fn new(page: Page) -> Result<HttpResponse, PageError> {
    crate::services::require(&page.ctx, page.caller()?, Permission::Refer).await?;
    let form = ReferralForm {
        urgency: "routine".into(),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        ..ReferralForm::default()
    };
    new_page(&page, Chrome::new(&page), form, StatusCode::OK).await
}

pub async fn open(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: ReferralForm = parse_form(&req, &body)?;
    let idem = match form.idempotency_key.trim() {
        "" => None,
        key => Some(Idempotent {
            key: IdempotencyKey::parse(key)?,
            render: serde_json::to_string,
        }),
    };
    let result = match form.department_id.trim().parse::<i64>() {
        Ok(department_id) => referrals::open(
            &page.ctx,
            page.caller()?,
            ReferralInput {
                department_id,
                patient_name: form.patient_name.clone(),
                patient_sex: form.patient_sex.clone(),
                patient_birth_date: form.patient_birth_date.clone(),
                guardian_phone: form.guardian_phone.clone(),
                urgency: form.urgency.clone(),
                reason: form.reason.clone(),
                diagnosis: form.diagnosis.clone(),
                diagnosis_code: Some(form.diagnosis_code.clone()),
                findings: form.findings.clone(),
                slot_date: Some(form.slot_date.clone()),
                needs_bed: form.needs_bed.is_some(),
            },
            idem,
        )
        .await
        .and_then(created_id),
        Err(_) => Err(Error::invalid("department_id", "choose a department")),
    };
    match result {
        Ok(id) => Ok(see_other(&format!("/referrals/{id}"))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            new_page(&page, chrome, form, status).await
        }
    }
}

/// The referral a submission opened, or opened the first time it was sent.
fn created_id(outcome: Created<ReferralView>) -> Result<i64, Error> {
    match outcome {
        Created::New(r) => Ok(r.id),
        Created::Replayed(body) => serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("id").and_then(serde_json::Value::as_i64))
            .ok_or_else(|| Error::internal("a kept referral answer without its id")),
    }
}

// ----- one referral -----

#[derive(Template)]
#[template(path = "referrals/show.html")]
struct ShowPage {
    chrome: Chrome,
    f: Fmt,
    r: ReferralView,
    is_desk: bool,
}

async fn show_page(
    page: &Page,
    id: i64,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let r = referrals::referral(&page.ctx, page.caller()?, id).await?;
    render(
        &ShowPage {
            chrome,
            f: Fmt::new(page),
            is_desk: has(page, Role::ReferralDesk)
                && page.caller()?.person_id() != Some(r.doctor_id),
            r,
        },
        status,
    )
}

pub async fn show(page: Page, id: web::Path<i64>) -> Result<HttpResponse, PageError> {
    show_page(&page, id.into_inner(), Chrome::new(&page), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    slot_date: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    appropriate: String,
}

pub async fn desk_step(
    page: Page,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let form: StepForm = parse_form(&req, &body)?;
    let step = match form.step.as_str() {
        "accept" => Ok(DeskStep::Accept {
            slot_date: Some(form.slot_date.clone()),
        }),
        "decline" => Ok(DeskStep::Decline {
            reason: form.text.clone(),
        }),
        "seen" => Ok(DeskStep::Seen),
        "rate" => match form.appropriate.as_str() {
            "yes" => Ok(DeskStep::Rate {
                appropriate: true,
                comment: form.text.clone(),
            }),
            "no" => Ok(DeskStep::Rate {
                appropriate: false,
                comment: form.text.clone(),
            }),
            _ => Err(Error::invalid("appropriate", "choose appropriate or not")),
        },
        "refer_back" => Ok(DeskStep::ReferBack {
            instructions: form.text.clone(),
        }),
        _ => Err(Error::invalid("step", "unknown step")),
    };
    let result = match step {
        Ok(s) => referrals::desk_step(&page.ctx, page.caller()?, id, s)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/referrals/{id}"))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            show_page(&page, id, chrome, status).await
        }
    }
}

/// One referral as a FHIR R4 ServiceRequest file.
pub async fn fhir(page: Page, id: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let v = referrals::fhir_one(&page.ctx, page.caller()?, id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+json")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"referral-{id}.fhir.json\""),
        ))
        .body(crate::web::api::fhir::json_of(&v)?))
}

// ----- departments (the desk) -----

#[derive(Template)]
#[template(path = "referrals/departments.html")]
struct DepartmentsPage {
    chrome: Chrome,
    departments: Vec<DepartmentView>,
    /// The hospitals an admin may create a department in (a desk creates
    /// in its own, so sees none).
    hospitals: Vec<(i64, String)>,
}

async fn departments_page(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let own = caller.actor().and_then(|a| a.institution_id);
    let all = has(page, Role::Admin);
    let departments = referrals::departments(&page.ctx, caller)
        .await?
        .into_iter()
        .filter(|d| all || Some(d.institution_id) == own)
        .collect();
    let hospitals = if all {
        crate::services::institutions::list(&page.ctx, caller)
            .await?
            .into_iter()
            .map(|i| (i.id, i.name))
            .collect()
    } else {
        Vec::new()
    };
    render(
        &DepartmentsPage {
            chrome,
            departments,
            hospitals,
        },
        status,
    )
}

pub async fn departments(page: Page) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    if !has(&page, Role::Admin) {
        crate::services::require(&page.ctx, caller, Permission::Desk).await?;
    }
    departments_page(&page, Chrome::new(&page), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct DepartmentForm {
    #[serde(default)]
    id: String,
    /// Admins name the hospital of a new department.
    #[serde(default)]
    institution_id: String,
    #[serde(default)]
    track: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    clinic_slots_per_day: String,
    #[serde(default)]
    beds: String,
    #[serde(default)]
    active: Option<String>,
}

pub async fn save_department(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: DepartmentForm = parse_form(&req, &body)?;
    let input = (|| -> Result<DepartmentInput, Error> {
        Ok(DepartmentInput {
            institution_id: match form.institution_id.trim() {
                "" => None,
                i => Some(number("institution_id", i)?),
            },
            track: form.track.trim().to_owned(),
            code: form.code.clone(),
            name: form.name.clone(),
            clinic_slots_per_day: number("clinic_slots_per_day", &form.clinic_slots_per_day)?,
            beds: number("beds", &form.beds)?,
            active: form.active.is_some(),
        })
    })();
    let id = form.id.trim().parse::<i64>().ok();
    let result = match input {
        Ok(i) => referrals::save_department(&page.ctx, page.caller()?, id, i)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            departments_page(
                &page,
                Chrome::new(&page).notice("departments.saved"),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            departments_page(&page, chrome, status).await
        }
    }
}

// ----- the dashboard -----

#[derive(Template)]
#[template(path = "referrals/dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    chart: Chart,
    flagged: Vec<FlaggedDoctor>,
    totals: (i64, i64, i64, i64, i64),
    overview: crate::services::overview::Overview,
}

impl DashboardPage {
    #[allow(clippy::unused_self)] // a method: the template calls it on the page
    fn percent(&self, part: &i64, whole: &i64) -> String {
        percent(*part, *whole)
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole > 0 {
        format!("{}%", part * 100 / whole)
    } else {
        "–".into()
    }
}

fn per_mille(v: Option<i64>) -> String {
    v.map(|p| format!("{}.{}%", p / 10, p % 10))
        .unwrap_or_else(|| "–".into())
}

/// The last 12 months: community first visits in one panel, referrals up
/// and back down in another (first visits are a hundred times more), under
/// one legend; the table adds the share referred and slot use.
fn dashboard_chart(tr: &Tr, months: &[Month]) -> Chart {
    let categories: Vec<Category> = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let (year, month) = m.month.split_once('-').unwrap_or(("", m.month.as_str()));
            Category {
                label: month.to_owned(),
                note: (i == 0 || month == "01").then(|| year.to_owned()),
                name: m.month.clone(),
            }
        })
        .collect();
    let values = |f: fn(&Month) -> i64| months.iter().map(|m| i64_f64(f(m))).collect();
    let panels = [
        Panel {
            title: tr.t("dashboard.visits_axis"),
            series: vec![(
                Series::new(tr.t("dashboard.first_visits"), "s3"),
                values(|m| m.first_visits),
            )],
        },
        Panel {
            title: tr.t("dashboard.referrals_axis"),
            series: vec![
                (
                    Series::new(tr.t("dashboard.up"), "s1"),
                    values(|m| m.referrals_up),
                ),
                (
                    Series::new(tr.t("dashboard.back"), "s2"),
                    values(|m| m.referred_back),
                ),
            ],
        },
    ];
    let mut chart = charts::columns(
        Captions {
            id: "dashboard-chart".into(),
            title: tr.t("dashboard.chart_title"),
            caption: tr.t("dashboard.chart_caption"),
            table: tr.t("dashboard.chart_table"),
        },
        &tr.t("dashboard.month"),
        &categories,
        &panels,
    );
    // The table: every number of the month, in the order of the old one.
    chart.table.head = vec![
        tr.t("dashboard.month"),
        tr.t("dashboard.first_visits"),
        tr.t("dashboard.up"),
        tr.t("dashboard.share"),
        tr.t("dashboard.back"),
        tr.t("dashboard.slot_use"),
    ];
    chart.table.rows = months
        .iter()
        .map(|m| {
            vec![
                m.month.clone(),
                m.first_visits.to_string(),
                m.referrals_up.to_string(),
                per_mille(m.referred_per_mille),
                m.referred_back.to_string(),
                format!("{}/{}", m.slots_booked, m.slots_reserved),
            ]
        })
        .collect();
    chart
}

pub async fn dashboard(page: Page) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let months = referrals::dashboard(&page.ctx, caller).await?;
    let flagged = referrals::flagged(&page.ctx, caller).await?;
    let overview = crate::services::overview::alliance(&page.ctx, caller).await?;
    let totals = months.iter().fold((0, 0, 0, 0, 0), |t, m| {
        (
            t.0 + m.first_visits,
            t.1 + m.referrals_up,
            t.2 + m.referred_back,
            t.3 + m.slots_booked,
            t.4 + m.slots_reserved,
        )
    });
    render(
        &DashboardPage {
            chrome: Chrome::new(&page),
            chart: dashboard_chart(&page.tr, &months),
            flagged,
            totals,
            overview,
        },
        StatusCode::OK,
    )
}
