//! Admin pages for training: tracks (required courses and workshops),
//! courses authored in the browser (modules, lessons with a preview),
//! scheduling workshop sessions, enrolling doctors, and training records
//! (a doctor's page, an institution's CSV).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::access::Permission;
use crate::domain::courses::{CourseMeta, ModuleSpec, QuizSpec, TrackSpec};
use crate::domain::ids::PersonId;
use crate::domain::roles::Role;
use crate::error::Error;
use crate::services::courses::{self, LessonInput};
use crate::services::institutions::Institution;
use crate::services::training::{self, CourseView, TrackSummary};
use crate::services::{self, institutions, people};
use crate::web::error::PageError;
use crate::web::pages::exam_admin::parse_local;
use crate::web::pages::training::{RecordPage, csv_response};
use crate::web::pages::{Chrome, Fmt, form_error, parse_form, render, see_other};
use crate::web::session::Page;

pub struct Person {
    pub id: PersonId,
    pub name: String,
}

#[derive(Template)]
#[template(path = "training/admin.html")]
struct Overview {
    chrome: Chrome,
    tracks: Vec<TrackSummary>,
    courses: Vec<CourseView>,
    workshops: Vec<courses::WorkshopChoice>,
    doctors: Vec<Person>,
    instructors: Vec<Person>,
    institutions: Vec<Institution>,
    course_form: CourseForm,
    session_form: SessionForm,
}

async fn overview_with(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
    course_form: CourseForm,
    session_form: SessionForm,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    services::require(&page.ctx, caller, Permission::ManageTraining).await?;
    let everyone = people::list(&page.ctx, caller).await?;
    let pick = |role: Role| -> Vec<Person> {
        everyone
            .iter()
            .filter(|p| p.active && p.roles.contains(&role))
            .map(|p| Person {
                id: p.id,
                name: format!("{} <{}>", p.name, p.email),
            })
            .collect()
    };
    let mut instructors = pick(Role::Instructor);
    instructors.extend(pick(Role::Admin));
    render(
        &Overview {
            chrome,
            tracks: training::tracks(&page.ctx, caller).await?,
            courses: training::library(&page.ctx, caller).await?,
            workshops: courses::all_workshops(&page.ctx, caller).await?,
            doctors: pick(Role::Doctor),
            instructors,
            institutions: institutions::list(&page.ctx, caller).await?,
            course_form,
            session_form,
        },
        status,
    )
}

pub async fn overview(page: Page) -> Result<HttpResponse, PageError> {
    overview_with(
        &page,
        Chrome::new(&page),
        StatusCode::OK,
        CourseForm::default(),
        SessionForm::default(),
    )
    .await
}

// ----- tracks -----

#[derive(Debug, Default, Deserialize)]
pub struct TrackForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    validity_months: String,
    #[serde(default)]
    renewal_credit_hours: String,
    #[serde(default)]
    courses: Vec<String>,
    #[serde(default)]
    workshops: String,
}

#[derive(Template)]
#[template(path = "training/admin_track.html")]
struct TrackFormPage {
    chrome: Chrome,
    form: TrackForm,
    all_courses: Vec<CourseView>,
    is_new: bool,
}

impl TrackFormPage {
    fn requires(&self, key: &str) -> bool {
        self.form.courses.iter().any(|c| c == key)
    }
}

fn number<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, Error> {
    value
        .trim()
        .parse()
        .map_err(|_detail| Error::invalid(field, "must be a number"))
}

/// Reads the form's text; the track's rules are checked by the service
/// (`TrackSpec::check`), whoever calls it.
impl TryFrom<&TrackForm> for TrackSpec {
    type Error = Error;

    fn try_from(form: &TrackForm) -> Result<Self, Error> {
        Ok(TrackSpec {
            key: form.key.trim().to_owned(),
            title: form.title.trim().to_owned(),
            description: form.description.trim().to_owned(),
            validity_months: number("validity_months", &form.validity_months)?,
            renewal_credit_hours: number("renewal_credit_hours", &form.renewal_credit_hours)?,
            courses: form.courses.clone(),
            workshops: courses::parse_workshop_lines(&form.workshops)?,
            sample: false,
        })
    }
}

async fn track_page(
    page: &Page,
    chrome: Chrome,
    status: StatusCode,
    form: TrackForm,
    is_new: bool,
) -> Result<HttpResponse, PageError> {
    let all_courses = training::library(&page.ctx, page.caller()?).await?;
    render(
        &TrackFormPage {
            chrome,
            form,
            all_courses,
            is_new,
        },
        status,
    )
}

/// The track form: `/admin/tracks/new` for a new track.
pub async fn track_form(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let key = path.into_inner();
    let caller = page.caller()?;
    services::require(&page.ctx, caller, Permission::ManageTraining).await?;
    if key == "new" {
        let form = TrackForm {
            validity_months: "24".into(),
            renewal_credit_hours: "12".into(),
            ..TrackForm::default()
        };
        return track_page(&page, Chrome::new(&page), StatusCode::OK, form, true).await;
    }
    let d = courses::track_detail(&page.ctx, caller, &key).await?;
    let form = TrackForm {
        key: d.key,
        title: d.title,
        description: d.description,
        validity_months: d.validity_months.to_string(),
        renewal_credit_hours: d.renewal_credit_hours.to_string(),
        courses: d.courses,
        workshops: d
            .workshops
            .iter()
            .map(|w| format!("{}: {}", w.key, w.title))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    track_page(&page, Chrome::new(&page), StatusCode::OK, form, false).await
}

pub async fn save_track(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: TrackForm = parse_form(&req, &body)?;
    let caller = page.caller()?;
    let saved = match TrackSpec::try_from(&form) {
        Ok(spec) => courses::save_track(&page.ctx, caller, spec).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other("/admin/training")),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            track_page(&page, chrome, status, form, false).await
        }
        Err(e) => Err(PageError(e)),
    }
}

// ----- courses -----

#[derive(Debug, Default, Deserialize)]
pub struct CourseForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    credit_hours: String,
    #[serde(default)]
    published: Option<String>,
}

/// Reads the form's text; the course's rules are checked by the service
/// (`CourseMeta::check`).
impl TryFrom<&CourseForm> for CourseMeta {
    type Error = Error;

    fn try_from(form: &CourseForm) -> Result<Self, Error> {
        Ok(CourseMeta {
            key: form.key.trim().to_owned(),
            title: form.title.trim().to_owned(),
            summary: form.summary.trim().to_owned(),
            language: "zh-CN".into(),
            credit_hours: number("credit_hours", &form.credit_hours)?,
            sample: false,
            published: form.published.is_some(),
        })
    }
}

pub async fn save_course(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: CourseForm = parse_form(&req, &body)?;
    let saved = match CourseMeta::try_from(&form) {
        Ok(meta) => courses::save_course(&page.ctx, page.caller()?, meta).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(key) => Ok(see_other(&format!("/admin/courses/{key}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            overview_with(&page, chrome, status, form, SessionForm::default()).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "training/admin_course.html")]
struct CourseAdminPage {
    chrome: Chrome,
    c: CourseView,
    module_form: ModuleForm,
}

async fn course_admin(
    page: &Page,
    key: &str,
    chrome: Chrome,
    status: StatusCode,
    module_form: ModuleForm,
) -> Result<HttpResponse, PageError> {
    let caller = page.caller()?;
    services::require(&page.ctx, caller, Permission::ManageTraining).await?;
    let c = training::course(&page.ctx, caller, key).await?;
    render(
        &CourseAdminPage {
            chrome,
            c,
            module_form,
        },
        status,
    )
}

pub async fn course_page(page: Page, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let form = ModuleForm {
        quiz_pass_percent: "80".into(),
        ..ModuleForm::default()
    };
    course_admin(
        &page,
        &path.into_inner(),
        Chrome::new(&page),
        StatusCode::OK,
        form,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct ModuleForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    quiz_topics: String,
    #[serde(default)]
    quiz_questions: String,
    #[serde(default)]
    quiz_pass_percent: String,
}

/// Reads the form's text (a quiz when topics are given); the module's rules
/// are checked by the service (`ModuleSpec::check`).
impl TryFrom<&ModuleForm> for ModuleSpec {
    type Error = Error;

    fn try_from(form: &ModuleForm) -> Result<Self, Error> {
        let topics: Vec<String> = form
            .quiz_topics
            .split([',', ' '])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        let quiz = if topics.is_empty() {
            None
        } else {
            Some(QuizSpec {
                topics,
                questions: number("quiz_questions", &form.quiz_questions)?,
                pass_percent: number("quiz_pass_percent", &form.quiz_pass_percent)?,
            })
        };
        Ok(ModuleSpec {
            key: form.key.trim().to_owned(),
            title: form.title.trim().to_owned(),
            lessons: Vec::new(),
            quiz,
            line: 0,
        })
    }
}

pub async fn save_module(
    page: Page,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: ModuleForm = parse_form(&req, &body)?;
    let key = path.into_inner();
    let saved = match ModuleSpec::try_from(&form) {
        Ok(spec) => courses::save_module(&page.ctx, page.caller()?, &key, spec).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("/admin/courses/{key}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            course_admin(&page, &key, chrome, status, form).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LessonForm {
    #[serde(default)]
    module: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    video: String,
    #[serde(default)]
    markdown: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
}

/// Reads the form's text; the service checks the lesson (`check_lesson`).
impl TryFrom<&LessonForm> for LessonInput {
    type Error = Error;

    fn try_from(form: &LessonForm) -> Result<Self, Error> {
        Ok(LessonInput {
            module_key: form.module.trim().to_owned(),
            key: form.key.trim().to_owned(),
            title: form.title.clone(),
            minutes: number("minutes", &form.minutes)?,
            video: Some(form.video.trim().to_owned()).filter(|v| !v.is_empty()),
            markdown: form.markdown.clone(),
        })
    }
}

#[derive(Template)]
#[template(path = "training/admin_lesson.html")]
struct LessonEditor {
    chrome: Chrome,
    course: CourseView,
    form: LessonForm,
    preview: Option<String>,
}

async fn editor(
    page: &Page,
    course_key: &str,
    chrome: Chrome,
    status: StatusCode,
    form: LessonForm,
    preview: Option<String>,
) -> Result<HttpResponse, PageError> {
    let course = training::course(&page.ctx, page.caller()?, course_key).await?;
    render(
        &LessonEditor {
            chrome,
            course,
            form,
            preview,
        },
        status,
    )
}

/// The lesson editor: `/admin/courses/{key}/lessons/new` for a new lesson.
pub async fn lesson_editor(
    page: Page,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (course_key, lesson_key) = path.into_inner();
    let caller = page.caller()?;
    services::require(&page.ctx, caller, Permission::ManageTraining).await?;
    let form = if lesson_key == "new" {
        LessonForm {
            minutes: "5".into(),
            ..LessonForm::default()
        }
    } else {
        let lesson = courses::lesson_source(&page.ctx, caller, &course_key, &lesson_key).await?;
        LessonForm {
            module: lesson.module_key,
            key: lesson.key,
            title: lesson.title,
            minutes: lesson.minutes.to_string(),
            video: lesson.video.unwrap_or_default(),
            markdown: lesson.markdown,
            action: String::new(),
        }
    };
    editor(
        &page,
        &course_key,
        Chrome::new(&page),
        StatusCode::OK,
        form,
        None,
    )
    .await
}

/// Saves a lesson, or (with the preview button) shows what it will look like.
pub async fn save_lesson(
    page: Page,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: LessonForm = parse_form(&req, &body)?;
    let course_key = path.into_inner();
    let caller = page.caller()?;
    services::require(&page.ctx, caller, Permission::ManageTraining).await?;
    if form.action == "preview" {
        let html = courses::preview(&course_key, &form.markdown);
        return editor(
            &page,
            &course_key,
            Chrome::new(&page),
            StatusCode::OK,
            form,
            Some(html),
        )
        .await;
    }
    let saved = match LessonInput::try_from(&form) {
        Ok(input) => courses::save_lesson(&page.ctx, caller, &course_key, input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("/admin/courses/{course_key}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            editor(&page, &course_key, chrome, status, form, None).await
        }
        Err(e) => Err(PageError(e)),
    }
}

// ----- workshop sessions and enrolment -----

#[derive(Debug, Default, Deserialize)]
pub struct SessionForm {
    #[serde(default)]
    workshop_id: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    instructor_id: String,
}

impl SessionForm {
    fn input(&self, tz: chrono_tz::Tz) -> Result<training::SessionInput, Error> {
        Ok(training::SessionInput {
            workshop_id: number("workshop", &self.workshop_id)?,
            starts_at: parse_local(tz, "starts_at", &self.starts_at)?,
            ends_at: parse_local(tz, "ends_at", &self.ends_at)?,
            place: self.place.clone(),
            capacity: number("capacity", &self.capacity)?,
            instructor_id: number("instructor", &self.instructor_id).map(PersonId)?,
        })
    }
}

pub async fn schedule_session(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: SessionForm = parse_form(&req, &body)?;
    let saved = match form.input(page.ctx.settings.time_zone) {
        Ok(input) => training::schedule_session(&page.ctx, page.caller()?, input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(id) => Ok(see_other(&format!("/workshops/sessions/{id}"))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            overview_with(&page, chrome, status, CourseForm::default(), form).await
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    person_id: PersonId,
    track: String,
}

pub async fn enrol(
    page: Page,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form: EnrolForm = parse_form(&req, &body)?;
    match training::enrol_doctor(&page.ctx, page.caller()?, &form.track, form.person_id).await {
        Ok(()) => Ok(see_other(&format!(
            "/admin/people/{}/training",
            form.person_id
        ))),
        Err(e @ (Error::Invalid { .. } | Error::InvalidFields(_) | Error::Conflict { .. })) => {
            let (chrome, status) = form_error(Chrome::new(&page), e)?;
            overview_with(
                &page,
                chrome,
                status,
                CourseForm::default(),
                SessionForm::default(),
            )
            .await
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn person_record(
    page: Page,
    path: web::Path<PersonId>,
) -> Result<HttpResponse, PageError> {
    let r = training::record(&page.ctx, page.caller()?, Some(path.into_inner())).await?;
    render(
        &RecordPage {
            chrome: Chrome::new(&page),
            csv_url: String::new(),
            r,
            f: Fmt::new(&page),
        },
        StatusCode::OK,
    )
}

pub async fn institution_csv(page: Page, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let records = training::institution_records(&page.ctx, page.caller()?, id).await?;
    let csv = training::records_csv(&records, page.ctx.settings.time_zone)?;
    Ok(csv_response(&format!("training-institution-{id}.csv"), csv))
}
