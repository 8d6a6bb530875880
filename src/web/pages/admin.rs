//! Admin pages: institutions, people and integration tokens.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::access::Permission;
use crate::domain::ids::PersonId;
use crate::domain::institutions::Level;
use crate::domain::people::PersonInput;
use crate::domain::roles::Role;
use crate::domain::tokens::Scope;
use crate::error::Error;
use crate::services::institutions::Institution;
use crate::services::institutions::InstitutionInput;
use crate::services::people::PersonView;
use crate::services::{self, api_tokens, institutions, people};
use crate::web::error::PageError;
use crate::web::pages::{Chrome, EmptyForm, form_error, local_time, parse_form, render, see_other};
use crate::web::session::Page;

// ----- institutions -----

#[derive(Template)]
#[template(path = "admin/institutions.html")]
struct InstitutionList {
    chrome: Chrome,
    items: Vec<Institution>,
}

pub async fn institutions_page(page: Page) -> Result<HttpResponse, PageError> {
    let items = institutions::list(&page.ctx, page.caller()?).await?;
    render(
        &InstitutionList {
            chrome: Chrome::new(&page),
            items,
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct InstitutionForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    alliance_member: Option<String>,
}

/// The form as the service's input; the service checks it (`InstitutionDraft::parse`).
impl From<&InstitutionForm> for InstitutionInput {
    fn from(form: &InstitutionForm) -> Self {
        InstitutionInput {
            name: form.name.clone(),
            level: form.level.clone(),
            region: form.region.clone(),
            alliance_member: form.alliance_member.is_some(),
        }
    }
}

impl InstitutionForm {
    fn from_row(row: &Institution) -> Self {
        InstitutionForm {
            name: row.name.clone(),
            level: row.level.as_str().to_owned(),
            region: row.region.clone(),
            alliance_member: row.alliance_member.then(|| "true".to_owned()),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/institution_form.html")]
struct InstitutionEdit {
    chrome: Chrome,
    heading: String,
    action: String,
    form: InstitutionForm,
    levels: Vec<&'static str>,
}

fn institution_edit(chrome: Chrome, id: Option<i64>, form: InstitutionForm) -> InstitutionEdit {
    let heading = match id {
        Some(_) => chrome.tr.t("institutions.edit"),
        None => chrome.tr.t("institutions.new"),
    };
    InstitutionEdit {
        heading,
        action: match id {
            Some(id) => format!("/admin/institutions/{id}"),
            None => "/admin/institutions".to_owned(),
        },
        chrome,
        form,
        levels: Level::ALL.map(Level::as_str).to_vec(),
    }
}

pub async fn new_institution_page(page: Page) -> Result<HttpResponse, PageError> {
    services::require(&page.ctx, page.caller()?, Permission::ManageInstitutions).await?;
    let form = InstitutionForm {
        level: Level::Community.as_str().to_owned(),
        alliance_member: Some("true".to_owned()),
        ..InstitutionForm::default()
    };
    render(
        &institution_edit(Chrome::new(&page), None, form),
        StatusCode::OK,
    )
}

pub async fn edit_institution_page(
    page: Page,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    services::require(&page.ctx, caller, Permission::ManageInstitutions).await?;
    let id = path.into_inner();
    let row = institutions::get(&page.ctx, caller, id).await?;
    render(
        &institution_edit(
            Chrome::new(&page),
            Some(id),
            InstitutionForm::from_row(&row),
        ),
        StatusCode::OK,
    )
}

pub async fn create_institution(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let form: InstitutionForm = parse_form(&req, &body)?;
    match institutions::create(&page.ctx, caller, InstitutionInput::from(&form)).await {
        Ok(_) => Ok(see_other("/admin/institutions")),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&institution_edit(chrome, None, form), status)
        }
    }
}

pub async fn update_institution(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    let id = path.into_inner();
    let form: InstitutionForm = parse_form(&req, &body)?;
    match institutions::update(&page.ctx, caller, id, InstitutionInput::from(&form)).await {
        Ok(_) => Ok(see_other("/admin/institutions")),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&institution_edit(chrome, Some(id), form), status)
        }
    }
}

// ----- people -----

#[derive(Template)]
#[template(path = "admin/people.html")]
struct PeopleList {
    chrome: Chrome,
    items: Vec<PersonView>,
}

pub async fn people_page(page: Page) -> Result<HttpResponse, PageError> {
    let items = people::list(&page.ctx, page.caller()?).await?;
    render(
        &PeopleList {
            chrome: Chrome::new(&page),
            items,
        },
        StatusCode::OK,
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    institution_id: String,
    #[serde(default)]
    practising_certificate: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    locale: String,
}

/// Reads the form's text; the service checks the person (`PersonDraft`).
impl TryFrom<&PersonForm> for PersonInput {
    type Error = Error;

    fn try_from(form: &PersonForm) -> Result<Self, Error> {
        let institution_id = match form.institution_id.trim() {
            "" => None,
            id => Some(
                id.parse::<i64>()
                    .map_err(|_detail| Error::invalid("institution_id", "no such institution"))?,
            ),
        };
        Ok(PersonInput {
            email: form.email.clone(),
            name: form.name.clone(),
            phone: form.phone.clone(),
            practising_certificate: form.practising_certificate.clone(),
            institution_id,
            roles: form.roles.clone(),
            locale: form.locale.clone(),
        })
    }
}

impl PersonForm {
    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.iter().any(|r| r == role.as_str())
    }

    fn from_view(p: &PersonView) -> Self {
        PersonForm {
            name: p.name.clone(),
            email: p.email.clone(),
            phone: p.phone.clone().unwrap_or_default(),
            institution_id: p.institution_id.map(|i| i.to_string()).unwrap_or_default(),
            practising_certificate: p.practising_certificate.clone().unwrap_or_default(),
            roles: p.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            locale: p.locale.as_str().to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/person_form.html")]
struct PersonEdit {
    chrome: Chrome,
    heading: String,
    action: String,
    form: PersonForm,
    person: Option<PersonView>,
    institutions: Vec<Institution>,
    all_roles: Vec<Role>,
}

async fn person_edit(
    page: &Page,
    chrome: Chrome,
    person: Option<PersonView>,
    form: PersonForm,
) -> Result<PersonEdit, PageError> {
    let institutions = institutions::list(&page.ctx, page.caller()?).await?;
    let (heading, action) = match &person {
        Some(p) => (
            chrome.tr.t("people.edit"),
            format!("/admin/people/{}", p.id),
        ),
        None => (chrome.tr.t("people.new"), "/admin/people".to_owned()),
    };
    Ok(PersonEdit {
        chrome,
        heading,
        action,
        form,
        person,
        institutions,
        all_roles: Role::ALL.to_vec(),
    })
}

pub async fn new_person_page(page: Page) -> Result<HttpResponse, PageError> {
    services::require(&page.ctx, page.caller()?, Permission::ManagePeople).await?;
    let form = PersonForm {
        locale: page.tr.lang().to_owned(),
        ..PersonForm::default()
    };
    let chrome = Chrome::new(&page);
    render(
        &person_edit(&page, chrome, None, form).await?,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

pub async fn edit_person_page(
    page: Page,
    path: web::Path<PersonId>,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    let person = people::get(&page.ctx, page.caller()?, path.into_inner()).await?;
    let form = PersonForm::from_view(&person);
    let mut chrome = Chrome::new(&page);
    if let n @ ("created" | "deactivated" | "reactivated" | "link_sent") = query.notice.as_str() {
        chrome = chrome.notice(&format!("people.notice.{n}"));
    }
    render(
        &person_edit(&page, chrome, Some(person), form).await?,
        StatusCode::OK,
    )
}

pub async fn create_person(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let form: PersonForm = parse_form(&req, &body)?;
    let created = match PersonInput::try_from(&form) {
        Ok(input) => people::create(&page.ctx, &caller, input).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(p) => Ok(see_other(&format!(
            "/admin/people/{}/edit?notice=created",
            p.id
        ))),
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&person_edit(&page, chrome, None, form).await?, status)
        }
    }
}

pub async fn update_person(
    page: Page,
    req: HttpRequest,
    path: web::Path<PersonId>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let id = path.into_inner();
    let form: PersonForm = parse_form(&req, &body)?;
    let updated = match PersonInput::try_from(&form) {
        Ok(input) => people::update(&page.ctx, &caller, id, input).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Ok(see_other("/admin/people")),
        Err(e) => {
            let person = people::get(&page.ctx, &caller, id).await?;
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(
                &person_edit(&page, chrome, Some(person), form).await?,
                status,
            )
        }
    }
}

/// Deactivate, reactivate or re-send the password link, then back to the person.
pub async fn person_action(
    page: Page,
    req: HttpRequest,
    path: web::Path<(PersonId, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    let (id, action) = path.into_inner();
    let ctx = &page.ctx;
    let notice = match action.as_str() {
        "deactivate" => people::deactivate(ctx, &caller, id)
            .await
            .map(|_| "deactivated"),
        "reactivate" => people::reactivate(ctx, &caller, id)
            .await
            .map(|_| "reactivated"),
        "setup-link" => people::resend_setup_link(ctx, &caller, id)
            .await
            .map(|_| "link_sent"),
        _ => Err(Error::NotFound),
    };
    match notice {
        Ok(n) => Ok(see_other(&format!("/admin/people/{id}/edit?notice={n}"))),
        Err(e) => {
            let person = people::get(ctx, &caller, id).await?;
            let form = PersonForm::from_view(&person);
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(
                &person_edit(&page, chrome, Some(person), form).await?,
                status,
            )
        }
    }
}

// ----- integration tokens -----

pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct Tokens {
    chrome: Chrome,
    items: Vec<TokenLine>,
    all_scopes: Vec<&'static str>,
    issued: Option<String>,
}

async fn tokens_view(
    page: &Page,
    chrome: Chrome,
    issued: Option<String>,
) -> Result<Tokens, PageError> {
    let tz = page.ctx.settings.time_zone;
    let items = api_tokens::list(&page.ctx, page.caller()?)
        .await?
        .into_iter()
        .map(|t| TokenLine {
            id: t.id,
            name: t.name,
            scopes: t.scopes.join(" "),
            created: local_time(tz, t.created_at.naive_utc()),
            last_used: t
                .last_used_at
                .map(|u| local_time(tz, u.naive_utc()))
                .unwrap_or_else(|| "—".to_owned()),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    Ok(Tokens {
        chrome,
        items,
        all_scopes: Scope::ALL.map(Scope::as_str).to_vec(),
        issued,
    })
}

pub async fn tokens_page(page: Page) -> Result<HttpResponse, PageError> {
    let chrome = Chrome::new(&page);
    render(&tokens_view(&page, chrome, None).await?, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
}

pub async fn issue_token(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let form: TokenForm = parse_form(&req, &body)?;
    match api_tokens::issue(&page.ctx, &caller, form.name, form.scopes).await {
        // Shown once, in this response; never again.
        Ok(issued) => {
            let chrome = Chrome::new(&page);
            render(
                &tokens_view(&page, chrome, Some(issued.token)).await?,
                StatusCode::CREATED,
            )
        }
        Err(e) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            render(&tokens_view(&page, chrome, None).await?, status)
        }
    }
}

pub async fn revoke_token(
    page: Page,
    req: HttpRequest,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?.clone();
    let _: EmptyForm = parse_form(&req, &body)?;
    api_tokens::revoke(&page.ctx, &caller, path.into_inner()).await?;
    Ok(see_other("/admin/tokens"))
}
