//! Certification pages: the doctor's cases (apply, timeline) and
//! credentials; every case with the funnel chart; the committee's queue,
//! dossiers, votes, credential actions and track policy; the printable
//! certificate; and the public verification page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::access::{Permission, permits};
use crate::domain::certificate_pdf;
use crate::domain::committee::Vote;
use crate::domain::credentials::Status;
use crate::domain::grading::AppealRule;
use crate::domain::ids::CaseId;
use crate::domain::pipeline::{FunnelRow, Kind};
use crate::domain::scoring::ChoiceScoring;
use crate::error::Error;
use crate::services::committee::{self, Dossier, QueueLine, TrackPolicy};
use crate::services::credentials::{self, Change, CredentialView, PublicView};
use crate::services::photos;
use crate::services::pipeline::{self, CaseLine, CaseView, Funnel};
use crate::services::training::{self, TrackSummary};
use crate::web::charts::{self, Axis, Captions, Chart, Row, Series};
use crate::web::error::PageError;
use crate::web::pages::{Chrome, Fmt, form_error, number, parse_form, render, see_other};
use crate::web::session::{Page, client_ip};

// ----- the doctor -----

#[derive(Template)]
#[template(path = "certification/mine.html")]
struct MinePage {
    chrome: Chrome,
    f: Fmt,
    cases: Vec<CaseView>,
    credentials: Vec<CredentialView>,
    tracks: Vec<TrackSummary>,
}

impl MinePage {
    /// Apply is offered only where it can succeed: no open case and no
    /// credential in the track (a holder renews instead).
    fn may_apply(&self, track_key: &str) -> bool {
        !self
            .cases
            .iter()
            .any(|c| c.track_key == track_key && c.closed_at.is_none())
            && !self.credentials.iter().any(|c| c.track_key == track_key)
    }
}

async fn mine_page(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let cases = pipeline::my_cases(&page.ctx, caller).await?;
    let credentials = credentials::mine(&page.ctx, caller).await?;
    let tracks = training::tracks(&page.ctx, caller).await?;
    render(
        &MinePage {
            chrome,
            f: Fmt::new(page),
            cases,
            credentials,
            tracks,
        },
        status,
    )
}

pub async fn mine(page: Page) -> Result<HttpResponse, PageError> {
    mine_page(&page, Chrome::new(&page), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    track: String,
    #[serde(default)]
    kind: String,
}

pub async fn apply(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: ApplyForm = parse_form(&req, &body)?;
    let kind = if form.kind == "renewal" {
        Kind::Renewal
    } else {
        Kind::Initial
    };
    match pipeline::apply(&page.ctx, page.caller()?, form.track, kind).await {
        Ok(case) => Ok(see_other(&format!("/cases/{}", case.id))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            mine_page(&page, chrome, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "certification/case.html")]
struct CasePage {
    chrome: Chrome,
    f: Fmt,
    c: CaseView,
}

pub async fn case(page: Page, id: web::Path<CaseId>) -> Result<HttpResponse, PageError> {
    let c = pipeline::case(&page.ctx, page.caller()?, id.into_inner()).await?;
    render(
        &CasePage {
            chrome: Chrome::new(&page),
            f: Fmt::new(&page),
            c,
        },
        StatusCode::OK,
    )
}

// ----- every case and the funnel -----

#[derive(Template)]
#[template(path = "certification/cases.html")]
struct CasesPage {
    chrome: Chrome,
    f: Fmt,
    cases: Vec<CaseLine>,
    /// Per track: the funnel, its initial-route chart and its renewal chart
    /// (none before the first renewal); templates/certification/funnel.html
    /// draws each.
    funnels: Vec<(Funnel, Vec<Chart>, Vec<Chart>)>,
    may_decide: bool,
}

/// A funnel as bars: per stage the cases that reached it and those there
/// now, the pass rate of those that left it in the stage's label; the table
/// has the same numbers.
fn funnel_chart(f: &Fmt, funnel: &Funnel, kind: Kind, rows: &[FunnelRow]) -> Chart {
    let tr = &f.tr;
    let kind_name = tr.t(&format!("case_kind.{}", kind.as_str()));
    let pass_rate = |r: &FunnelRow| {
        r.pass_rate
            .map(|p| format!("{p}%"))
            .unwrap_or_else(|| "–".to_owned())
    };
    let bars: Vec<Row> = rows
        .iter()
        .map(|r| Row {
            label: match r.pass_rate {
                Some(_) => format!(
                    "{} · {} {}",
                    f.stage(&r.stage),
                    tr.t("cert.pass_rate"),
                    pass_rate(r)
                ),
                None => f.stage(&r.stage),
            },
            values: vec![Some(f64::from(r.reached)), Some(f64::from(r.current))],
        })
        .collect();
    let id = match kind {
        Kind::Renewal => format!("renewal-{}", funnel.track_key),
        Kind::Initial => format!("funnel-{}", funnel.track_key),
    };
    let mut chart = charts::bars(
        Captions {
            id,
            title: format!(
                "{}: {} · {kind_name}",
                tr.t("cert.funnel"),
                funnel.track_title
            ),
            caption: format!("{kind_name}: {}", tr.t("cert.funnel_help")),
            table: tr.t("cert.funnel_table"),
        },
        &tr.t("cert.stage"),
        &[
            Series::new(tr.t("cert.reached"), "s1"),
            Series::new(tr.t("cert.current"), "s2"),
        ],
        &bars,
        &Axis {
            title: tr.t("cert.funnel_axis"),
            max: None,
            whole: true,
        },
        None,
    );
    chart.table.head.push(tr.t("cert.pass_rate"));
    for (line, r) in chart.table.rows.iter_mut().zip(rows) {
        if let Some(label) = line.first_mut() {
            *label = f.stage(&r.stage);
        }
        line.push(pass_rate(r));
    }
    chart
}

pub async fn cases(page: Page) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let cases = pipeline::cases(&page.ctx, caller, None).await?;
    let f = Fmt::new(&page);
    let mut funnels = Vec::new();
    for t in pipeline::track_keys(&page.ctx, caller).await? {
        let funnel = pipeline::funnel(&page.ctx, caller, t).await?;
        let initial = vec![funnel_chart(&f, &funnel, Kind::Initial, &funnel.initial)];
        // The renewal chart only once there are renewals.
        let renewal = if funnel.renewal.iter().any(|r| r.reached > 0) {
            vec![funnel_chart(&f, &funnel, Kind::Renewal, &funnel.renewal)]
        } else {
            Vec::new()
        };
        funnels.push((funnel, initial, renewal));
    }
    render(
        &CasesPage {
            chrome: Chrome::new(&page),
            may_decide: permits(&caller.principal, Permission::Decide),
            f,
            cases,
            funnels,
        },
        StatusCode::OK,
    )
}

// ----- the committee -----

#[derive(Template)]
#[template(path = "certification/queue.html")]
struct QueuePage {
    chrome: Chrome,
    f: Fmt,
    lines: Vec<QueueLine>,
}

pub async fn queue(page: Page) -> Result<HttpResponse, PageError> {
    let lines = committee::queue(&page.ctx, page.caller()?).await?;
    render(
        &QueuePage {
            chrome: Chrome::new(&page),
            f: Fmt::new(&page),
            lines,
        },
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "certification/dossier.html")]
struct DossierPage {
    chrome: Chrome,
    f: Fmt,
    d: Dossier,
    may_decide: bool,
}

async fn dossier_page(
    page: &Page,
    id: CaseId,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let d = committee::dossier(&page.ctx, caller, id).await?;
    render(
        &DossierPage {
            chrome,
            f: Fmt::new(page),
            may_decide: permits(&caller.principal, Permission::Decide),
            d,
        },
        status,
    )
}

pub async fn dossier(page: Page, id: web::Path<CaseId>) -> Result<HttpResponse, PageError> {
    dossier_page(&page, id.into_inner(), Chrome::new(&page), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct VoteForm {
    #[serde(default)]
    vote: String,
    #[serde(default)]
    reason: String,
}

pub async fn vote(
    page: Page,
    req: HttpRequest,
    id: web::Path<CaseId>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let form: VoteForm = parse_form(&req, &body)?;
    let result = match Vote::parse(&form.vote) {
        Some(v) => committee::vote(&page.ctx, page.caller()?, id, v, form.reason).await,
        None => Err(Error::invalid("vote", "choose approve or reject")),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/committee/cases/{id}"))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            dossier_page(&page, id, chrome, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "certification/policy.html")]
struct PolicyPage {
    chrome: Chrome,
    key: String,
    p: TrackPolicy,
}

pub async fn policy(page: Page, key: web::Path<String>) -> Result<HttpResponse, PageError> {
    let key = key.into_inner();
    let p = committee::policy(&page.ctx, page.caller()?, key.clone()).await?;
    render(
        &PolicyPage {
            chrome: Chrome::new(&page),
            key,
            p,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    validity_months: String,
    #[serde(default)]
    renewal_credit_hours: String,
    #[serde(default)]
    stage_attempts: String,
    #[serde(default)]
    retake_wait_days: String,
    #[serde(default)]
    cooloff_days: String,
    #[serde(default)]
    requires_practical: Option<String>,
    #[serde(default)]
    quorum: String,
    #[serde(default)]
    inappropriate_threshold: String,
    #[serde(default)]
    flag_min_rated: String,
    #[serde(default)]
    appeal_rule: String,
    choice_scoring: String,
}

impl PolicyForm {
    fn policy(&self) -> Result<TrackPolicy, Error> {
        Ok(TrackPolicy {
            code: self.code.clone(),
            validity_months: number("validity_months", &self.validity_months)?,
            renewal_credit_hours: self
                .renewal_credit_hours
                .trim()
                .parse()
                .map_err(|_detail| Error::invalid("renewal_credit_hours", "must be a number"))?,
            stage_attempts: number("stage_attempts", &self.stage_attempts)?,
            retake_wait_days: number("retake_wait_days", &self.retake_wait_days)?,
            cooloff_days: number("cooloff_days", &self.cooloff_days)?,
            requires_practical: self.requires_practical.is_some(),
            quorum: number("quorum", &self.quorum)?,
            inappropriate_threshold: number(
                "inappropriate_threshold",
                &self.inappropriate_threshold,
            )?,
            flag_min_rated: number("flag_min_rated", &self.flag_min_rated)?,
            appeal_rule: AppealRule::parse(&self.appeal_rule).ok_or_else(|| {
                Error::invalid("appeal_rule", "choose remark_stands or no_detriment")
            })?,
            choice_scoring: match self.choice_scoring.trim() {
                "" => ChoiceScoring::default(),
                rule => ChoiceScoring::parse(rule).ok_or_else(|| {
                    Error::invalid("choice_scoring", "must be all_or_nothing or weighted")
                })?,
            },
        })
    }
}

pub async fn set_policy(
    page: Page,
    req: HttpRequest,
    key: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let key = key.into_inner();
    let form: PolicyForm = parse_form(&req, &body)?;
    let result = match form.policy() {
        Ok(p) => committee::set_policy(&page.ctx, page.caller()?, key.clone(), p).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => render(
            &PolicyPage {
                chrome: Chrome::new(&page).notice("policy.saved"),
                key,
                p,
            },
            StatusCode::OK,
        ),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            let p = committee::policy(&page.ctx, page.caller()?, key.clone()).await?;
            render(&PolicyPage { chrome, key, p }, status)
        }
    }
}

// ----- credentials -----

#[derive(Template)]
#[template(path = "certification/certificate.html")]
struct CertificatePage {
    chrome: Chrome,
    f: Fmt,
    c: CredentialView,
    qr: String,
    may_decide: bool,
    /// The holder is looking: offer the photo for the public page.
    mine: bool,
}

async fn certificate_page(
    page: &Page,
    number: String,
    chrome: Chrome,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let c = credentials::credential(&page.ctx, caller, number).await?;
    let qr = credentials::qr_svg(&page.ctx, &c.number)?;
    render(
        &CertificatePage {
            chrome,
            f: Fmt::new(page),
            may_decide: permits(&caller.principal, Permission::Decide),
            mine: caller.person_id() == Some(c.holder_id),
            c,
            qr,
        },
        status,
    )
}

pub async fn certificate(page: Page, number: web::Path<String>) -> Result<HttpResponse, PageError> {
    certificate_page(
        &page,
        number.into_inner(),
        Chrome::new(&page),
        StatusCode::OK,
    )
    .await
}

/// The signed credential as a file to keep.
pub async fn signed(page: Page, number: web::Path<String>) -> Result<HttpResponse, PageError> {
    let number = number.into_inner();
    let jwt = credentials::signed(&page.ctx, page.caller()?, number.clone()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vc+jwt")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{number}.jwt\""),
        ))
        .body(jwt))
}

/// The credential as a badge image with the signed credential baked in
/// (Open Badges 3.0), to keep or upload where badges are shown.
pub async fn badge_png(page: Page, number: web::Path<String>) -> Result<HttpResponse, PageError> {
    let number = number.into_inner();
    let png = credentials::badge_png(&page.ctx, page.caller()?, number.clone()).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{number}.png\""),
        ))
        .body(png))
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    /// A date (YYYY-MM-DD) in the alliance's time zone, optional.
    #[serde(default)]
    until: String,
}

pub async fn change_status(
    page: Page,
    req: HttpRequest,
    number: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let number = number.into_inner();
    let form: StatusForm = parse_form(&req, &body)?;
    let tz = page.ctx.settings.time_zone;
    let change = match form.action.as_str() {
        "suspend" => match form.until.trim() {
            "" => Ok(Change::Suspend { until: None }),
            d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|t| t.and_local_timezone(tz).single())
                .map(|t| Change::Suspend {
                    until: Some(t.with_timezone(&Utc)),
                })
                .ok_or_else(|| Error::invalid("until", "must be a date like 2027-06-30")),
        },
        "reinstate" => Ok(Change::Reinstate),
        "revoke" => Ok(Change::Revoke),
        _ => Err(Error::invalid(
            "action",
            "must be suspend, reinstate or revoke",
        )),
    };
    let result = match change {
        Ok(c) => {
            credentials::change(&page.ctx, page.caller()?, number.clone(), c, form.reason).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/credentials/{number}"))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            certificate_page(&page, number, chrome, status).await
        }
    }
}

// ----- public verification -----

#[derive(Template)]
#[template(path = "certification/verify.html")]
struct VerifyPage {
    chrome: Chrome,
    f: Fmt,
    number: String,
    v: Option<PublicView>,
    /// The QR code of this page's address, to share (WeChat scans it).
    qr: Option<String>,
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    number: Option<String>,
}

async fn verify_page(
    page: &Page,
    req: &HttpRequest,
    number: Option<String>,
) -> Result<HttpResponse, PageError> {
    let Some(number) = number.filter(|n| !n.trim().is_empty()) else {
        return render(
            &VerifyPage {
                chrome: Chrome::new(page),
                f: Fmt::new(page),
                number: String::new(),
                v: None,
                qr: None,
            },
            StatusCode::OK,
        );
    };
    let found = credentials::verify(&page.ctx, client_ip(req), number.clone()).await;
    verify_answer(page, number, found)
}

/// The public page for what a lookup found: the credential, or why not
/// (unknown: 404; a mistyped number: 422; too many lookups: 429).
fn verify_answer(
    page: &Page,
    number: String,
    found: Result<PublicView, Error>,
) -> Result<HttpResponse, PageError> {
    match found {
        Ok(v) => render(
            &VerifyPage {
                chrome: Chrome::new(page),
                f: Fmt::new(page),
                qr: Some(credentials::qr_svg(&page.ctx, &v.number)?),
                number,
                v: Some(v),
            },
            StatusCode::OK,
        ),
        Err(Error::NotFound) => {
            let mut chrome = Chrome::new(page);
            chrome.error = Some(page.tr.t("verify.unknown"));
            render(
                &VerifyPage {
                    chrome,
                    f: Fmt::new(page),
                    number,
                    v: None,
                    qr: None,
                },
                StatusCode::NOT_FOUND,
            )
        }
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(page), e)?;
            render(
                &VerifyPage {
                    chrome,
                    f: Fmt::new(page),
                    number,
                    v: None,
                    qr: None,
                },
                status,
            )
        }
    }
}

pub async fn verify_form(
    page: Page,
    req: HttpRequest,
    q: web::Query<VerifyQuery>,
) -> Result<HttpResponse, PageError> {
    verify_page(&page, &req, q.into_inner().number).await
}

pub async fn verify(
    page: Page,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    verify_page(&page, &req, Some(number.into_inner())).await
}

/// A file to download that must not be kept by browsers or proxies: what
/// it shows (the status) can change at any moment.
fn download(content_type: &str, filename: String, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

/// The certificate as a one-page A4 PDF, for anyone (a phone in WeChat's
/// browser has no print dialog): the public page's facts, the status as of
/// now, and a QR code of the live page. A lookup like the page's.
pub async fn certificate_pdf(
    page: Page,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let number = number.into_inner();
    match credentials::verify(&page.ctx, client_ip(&req), number.clone()).await {
        Ok(v) => {
            let url = credentials::verify_url(&page.ctx, &v.number);
            let document = certificate_document(&Fmt::new(&page), &v, url, crate::clock::now());
            let pdf = certificate_pdf::render(&document)
                .map_err(|e| Error::internal_from("the certificate PDF", e))?;
            Ok(download(
                "application/pdf",
                format!("{}.pdf", v.number),
                pdf,
            ))
        }
        Err(e) => verify_answer(&page, number, Err(e)),
    }
}

/// What the PDF certificate says, in the reader's language.
fn certificate_document(
    f: &Fmt,
    v: &PublicView,
    verify_url: String,
    now: DateTime<Utc>,
) -> certificate_pdf::Certificate {
    let tr = f.tr;
    let status = v.status.as_str();
    let standing = if v.status == Status::Active {
        certificate_pdf::Standing::Live
    } else {
        certificate_pdf::Standing::NotLive {
            stamp: tr.t(&format!("certificate_pdf.stamp.{status}")),
            explanation: tr.t_with(
                "certificate_pdf.not_valid",
                &[("means", &tr.t(&format!("verify.means.{status}")))],
            ),
        }
    };
    certificate_pdf::Certificate {
        lang: tr.lang().to_owned(),
        document_title: tr.t_with("certificate_pdf.document_title", &[("number", &v.number)]),
        issuer: tr.t("verify.issuer_name"),
        heading: tr.t("certificate_pdf.title"),
        preamble: tr.t("certificate_pdf.certifies"),
        holder: v.holder_name.clone(),
        institution: v.institution.clone(),
        awarded: tr.t("certificate_pdf.awarded"),
        achievement: v.track_title.clone(),
        facts: vec![
            (tr.t("verify.number"), v.number.clone()),
            (tr.t("verify.issuer"), tr.t("verify.issuer_name")),
            (tr.t("certificate_pdf.valid_from"), f.day(&v.valid_from)),
            (tr.t("verify.valid_until"), f.day(&v.valid_until)),
            (
                tr.t_with("certificate_pdf.status_on", &[("date", &f.day(&now))]),
                f.status(&v.status),
            ),
            (tr.t("verify.since"), f.day(&v.status_since)),
        ],
        standing,
        criteria_heading: tr.t("verify.criteria"),
        criteria: [
            "verify.criterion_training",
            "verify.criterion_written",
            "verify.criterion_case",
            "verify.criterion_committee",
        ]
        .iter()
        .map(|k| tr.t(k))
        .collect(),
        verify_url,
        scan: tr.t("certificate_pdf.scan"),
        produced: tr.t_with(
            "certificate_pdf.produced",
            &[("time", &f.when(&now)), ("zone", f.tz.name())],
        ),
    }
}

/// The badge image with the signed credential baked in, for anyone: the
/// holder's own download (`badge_png`), made by the same service.
pub async fn public_badge_png(
    page: Page,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let number = number.into_inner();
    match credentials::public_badge_png(&page.ctx, client_ip(&req), number.clone()).await {
        Ok((number, png)) => Ok(download("image/png", format!("{number}.png"), png)),
        Err(e) => verify_answer(&page, number, Err(e)),
    }
}

/// The holder's photo on the public page, while they consent. Not cached
/// by browsers or proxies without asking again, so that withdrawing
/// consent takes effect at once.
pub async fn public_photo(
    page: Page,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let jpeg = photos::public_image(&page.ctx, client_ip(&req), number.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header(("Cache-Control", "no-cache"))
        .body(jpeg))
}

#[derive(Template)]
#[template(path = "certification/credentials.html")]
struct CredentialsPage {
    chrome: Chrome,
    f: Fmt,
    list: Vec<CredentialView>,
}

/// Every credential (committee and admins).
pub async fn all_credentials(page: Page) -> Result<HttpResponse, PageError> {
    let list = credentials::all(&page.ctx, page.caller()?).await?;
    render(
        &CredentialsPage {
            chrome: Chrome::new(&page),
            f: Fmt::new(&page),
            list,
        },
        StatusCode::OK,
    )
}
