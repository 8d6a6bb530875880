//! Scheduling exams, registering candidates, and taking an attempt: start,
//! save each answer, submit; and the job that submits overdue attempts.

mod views;

pub use views::{Exam, MyExam, Registration};

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use rand::Rng;
use serde::Serialize;

use crate::domain::access::Permission;
use crate::domain::banks::{Body, Content, QuestionKind};
use crate::domain::dates;
use crate::domain::exams::{self, Accommodation, ReviewPolicy, Schedule};
use crate::domain::ids::{ExamId, PersonId};
use crate::domain::numbers::non_negative_u32;
use crate::domain::papers::{self, Blueprint, Candidate};
use crate::domain::pipeline::ExamStage;
use crate::domain::roles::Role;
use crate::domain::scoring::{self, Response, ShownAnswer};
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::idempotency::{self, Created, Idempotent, Once};
use crate::services::{Caller, Ctx, person, require, utc};
use crate::store::exams::{
    self as store_exams, AttemptRow, ExamRow, ItemRow, NewExam, NewItem, NewRegistration,
    RegistrationRow,
};
use crate::store::versions::VersionCache;
use crate::store::{
    self, Db, DbConn, banks as store_banks, institutions, people, training as store_training,
};

/// What an admin submits to schedule an exam.
#[derive(Debug, Clone, Serialize)]
pub struct ExamInput {
    pub track: String,
    pub title: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub duration_minutes: i64,
    pub pass_mark: i64,
    pub attempts_allowed: i64,
    pub waiting_days: i64,
    pub review_policy: String,
    pub blueprint: Blueprint,
    pub grace_seconds: Option<i64>,
    /// Third-marker tolerance, days to mark and appeal period (defaults
    /// 20%, 7 and 14 days; see `domain::grading::marking_settings`).
    pub marking_tolerance: Option<i64>,
    pub marking_days: Option<i64>,
    pub appeal_days: Option<i64>,
    /// The pipeline stage the exam serves (default: the written exam).
    pub stage: Option<ExamStage>,
}

/// The candidates a blueprint can draw from for a track, with exposure.
fn pool(conn: &mut DbConn, track: &str) -> Result<Vec<Candidate>> {
    let versions = store_banks::drawable(conn, track)?;
    let exposure: HashMap<i64, i64> = store_exams::exposure(conn)?.into_iter().collect();
    candidates(versions, &exposure)
}

/// Drawable versions as candidates, with how often each question was drawn.
fn candidates(
    versions: Vec<store_banks::VersionRow>,
    exposure: &HashMap<i64, i64>,
) -> Result<Vec<Candidate>> {
    let mut pool = Vec::with_capacity(versions.len());
    for v in versions {
        let content: Content = serde_json::from_str(&v.content)
            .map_err(|e| Error::internal_from(format!("stored question {}", v.id), e))?;
        let options = match &content.body {
            Body::Single { options } | Body::Multiple { options } => options.len(),
            _ => 0,
        };
        pool.push(Candidate {
            version_id: v.id,
            question_id: v.question_id,
            topic: v.topic,
            // Clamped to 1..=5: fits a u8.
            difficulty: u8::try_from(v.difficulty.clamp(1, 5)).unwrap_or(1),
            kind: content.body.kind(),
            options,
            exposure: u32::try_from(exposure.get(&v.question_id).copied().unwrap_or(0).max(0))
                .unwrap_or(u32::MAX),
        });
    }
    Ok(pool)
}

fn schedule_of(exam: &ExamRow) -> Result<Schedule> {
    Schedule::new(
        exam.opens_at,
        exam.closes_at,
        i64::from(exam.duration_minutes),
        i64::from(exam.pass_mark),
        i64::from(exam.attempts_allowed),
        i64::from(exam.waiting_days),
    )
}

fn blueprint_of(exam: &ExamRow) -> Result<Blueprint> {
    serde_json::from_str(&exam.blueprint)
        .map_err(|e| Error::internal_from(format!("exam {} blueprint", exam.id), e))
}

/// Schedules an exam after checking its blueprint against the banks: every
/// cell must have enough questions, or the error names each short cell.
pub async fn schedule(ctx: &Ctx, caller: &Caller, input: ExamInput) -> Result<Exam> {
    schedule_new(ctx, caller, input, None).await
}

/// [`schedule`] under an idempotency key: the same exam sent again with the
/// key within 24 hours schedules nothing and gets the first answer.
pub async fn schedule_keyed(
    ctx: &Ctx,
    caller: &Caller,
    input: ExamInput,
    idem: Idempotent<Exam>,
) -> Result<Created<Exam>> {
    require(ctx, caller, Permission::ManageExams).await?;
    let once = Once::new(caller, idem, "exam_schedule", &input)?;
    idempotency::run(ctx, Some(once), |once| {
        schedule_new(ctx, caller, input, once)
    })
    .await
}

/// The blueprint can be drawn from the track's questions: each of its
/// shortfalls named.
fn check_blueprint_fills(conn: &mut DbConn, blueprint: &Blueprint, track: &str) -> Result<()> {
    let candidates = pool(conn, track)?;
    if let Err(short) = papers::draw(blueprint, &candidates, 0) {
        let message = short
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::invalid("blueprint", message));
    }
    Ok(())
}

/// A figure of a schedule as stored; the schedule's checks keep it in range.
fn checked_i32(value: i64) -> Result<i32> {
    i32::try_from(value).map_err(|_detail| Error::internal(format!("{value} is beyond i32")))
}

async fn schedule_new(
    ctx: &Ctx,
    caller: &Caller,
    input: ExamInput,
    once: Option<Once<Exam>>,
) -> Result<Exam> {
    require(ctx, caller, Permission::ManageExams).await?;
    let title = crate::domain::institutions::required_text("title", &input.title, 200)?;
    let track = crate::domain::institutions::required_text("track", &input.track, 64)?;
    dates::time("opens_at", input.opens_at)?;
    dates::time("closes_at", input.closes_at)?;
    let schedule = Schedule::new(
        input.opens_at.naive_utc(),
        input.closes_at.naive_utc(),
        input.duration_minutes,
        input.pass_mark,
        input.attempts_allowed,
        input.waiting_days,
    )?;
    let policy = ReviewPolicy::parse(&input.review_policy)
        .ok_or_else(|| Error::invalid("review_policy", "must be score_only, topics or full"))?;
    papers::check_shape(&input.blueprint).map_err(|m| Error::invalid("blueprint", m))?;
    let grace = exams::grace(input.grace_seconds)?;
    let (marking_tolerance, marking_days, appeal_days) = crate::domain::grading::marking_settings(
        input.marking_tolerance,
        input.marking_days,
        input.appeal_days,
    )
    .map_err(|(field, message)| Error::invalid(field, message))?;
    let blueprint_json = serde_json::to_string(&input.blueprint)
        .map_err(|e| Error::internal_from("exam blueprint to JSON", e))?;
    let stage = input.stage.unwrap_or(ExamStage::Written);
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            // The track's rule at scheduling time stays the exam's rule.
            let choice_scoring = store_training::choice_scoring(conn, &track)?.unwrap_or_default();
            check_blueprint_fills(conn, &input.blueprint, &track)?;
            let exam = store_exams::insert_exam(
                conn,
                &NewExam {
                    track: &track,
                    title: &title,
                    opens_at: schedule.opens_at,
                    closes_at: schedule.closes_at,
                    duration_minutes: checked_i32(schedule.duration.num_minutes())?,
                    pass_mark: i32::from(schedule.pass_mark),
                    attempts_allowed: i32::try_from(schedule.attempts_allowed)
                        .map_err(|e| Error::internal_from("the attempts allowed", e))?,
                    waiting_days: checked_i32(schedule.waiting_period.num_days())?,
                    review_policy: policy,
                    blueprint: &blueprint_json,
                    grace_seconds: checked_i32(grace.num_seconds())?,
                    marking_tolerance,
                    marking_days,
                    appeal_days,
                    stage,
                    choice_scoring,
                    created_by: caller.person_id(),
                    created_at: store::now(),
                },
            )?;
            audit::record(
                conn,
                &audit::event(
                    &caller,
                    "exam_schedule",
                    Some(format!("exam:{}", exam.id)),
                    Outcome::Ok,
                ),
            )?;
            let exam = Exam::from(exam);
            if let Some(once) = &once {
                idempotency::keep(conn, once, &exam)?;
            }
            Ok(exam)
        })
        .await
}

/// Exams the caller may see: all for those who manage exams, their own
/// registrations for candidates.
pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<Exam>> {
    let actor = person(ctx, caller).await?;
    let manages = crate::domain::access::permits(&caller.principal, Permission::ManageExams);
    ctx.db
        .read(move |conn| {
            let rows = if manages {
                store_exams::list_exams(conn)?
            } else {
                store_exams::exams_for(conn, actor.id)?
            };
            Ok(rows.into_iter().map(Exam::from).collect())
        })
        .await
}

/// The exams a candidate is registered for, with their attempts.
pub async fn mine(ctx: &Ctx, caller: &Caller) -> Result<Vec<MyExam>> {
    let person_id = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let exams = store_exams::exams_for(conn, person_id)?;
            let mut mine = Vec::with_capacity(exams.len());
            for exam in exams {
                let attempts = store_exams::attempts_of(conn, exam.id, person_id)?;
                mine.push(MyExam::new(&exam, &attempts));
            }
            Ok(mine)
        })
        .await
}

/// The exams a doctor may register herself for now: not closed, in the
/// tracks of her open cases, and allowed by the pipeline (her case is at
/// the exam's stage, with attempts left and no waiting period running).
pub async fn open_to_register(ctx: &Ctx, caller: &Caller) -> Result<Vec<Exam>> {
    let person_id = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let tracks = crate::store::pipeline::open_case_tracks(conn, person_id)?;
            let mut open = Vec::new();
            for exam in store_exams::unregistered_exams_of(conn, person_id, &tracks, store::now())?
            {
                if crate::services::pipeline::check_registration(conn, person_id, &exam).is_ok() {
                    open.push(Exam::from(exam));
                }
            }
            Ok(open)
        })
        .await
}

/// What a candidate reads before starting: the exam, the number of
/// questions, her time and window with any accommodation.
#[derive(Debug, Clone)]
pub struct Briefing {
    pub exam: Exam,
    pub questions: u32,
    pub points: u32,
    pub extra_minutes: i32,
    /// Her window: the exam's, or the one her accommodation set.
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// The briefing for one exam the caller is registered for.
pub async fn briefing(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<Briefing> {
    let person_id = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            // Not registered reads as not found: the exam is not hers.
            let registration =
                store_exams::find_registration(conn, exam_id, person_id)?.ok_or(Error::NotFound)?;
            let blueprint = blueprint_of(&exam)?;
            Ok(Briefing {
                questions: blueprint.question_count(),
                points: blueprint.total_points(),
                extra_minutes: registration.extra_minutes,
                opens_at: utc(registration.opens_at.unwrap_or(exam.opens_at)),
                closes_at: utc(registration.closes_at.unwrap_or(exam.closes_at)),
                exam: Exam::from(exam),
            })
        })
        .await
}

/// A registration with the candidate's name, for the exam's admin page.
#[derive(Debug, Clone)]
pub struct RegisteredCandidate {
    pub registration: Registration,
    pub name: String,
    pub email: String,
}

/// An exam and its candidates (admins).
pub async fn roster(
    ctx: &Ctx,
    caller: &Caller,
    exam_id: ExamId,
) -> Result<(Exam, Vec<RegisteredCandidate>)> {
    require(ctx, caller, Permission::ManageExams).await?;
    ctx.db
        .read(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            let mut out = Vec::new();
            for registration in store_exams::registrations_of(conn, exam_id)? {
                let person = people::find(conn, registration.person_id)?.ok_or(Error::NotFound)?;
                out.push(RegisteredCandidate {
                    registration: Registration::from(registration),
                    name: person.name,
                    email: person.email,
                });
            }
            Ok((Exam::from(exam), out))
        })
        .await
}

/// Accommodations for one candidate.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccommodationInput {
    pub extra_minutes: i64,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
}

/// Registers a candidate: an admin registers anyone eligible (with
/// accommodations); a doctor registers themself (without).
pub async fn register(
    ctx: &Ctx,
    caller: &Caller,
    exam_id: ExamId,
    person_id: PersonId,
    acc: AccommodationInput,
) -> Result<Registration> {
    let actor = person(ctx, caller).await?;
    let is_admin = actor.has(Role::Admin);
    let for_self = actor.id == person_id;
    let with_accommodation =
        acc.extra_minutes != 0 || acc.opens_at.is_some() || acc.closes_at.is_some();
    if !exams::may_register(is_admin, for_self, with_accommodation) {
        require(ctx, caller, Permission::ManageExams).await?;
    }
    for (field, t) in [("opens_at", acc.opens_at), ("closes_at", acc.closes_at)] {
        if let Some(t) = t {
            dates::time(field, t)?;
        }
    }
    let granted = Accommodation::new(
        acc.extra_minutes,
        acc.opens_at.map(|t| t.naive_utc()),
        acc.closes_at.map(|t| t.naive_utc()),
    )?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            let person = people::find(conn, person_id)?
                .ok_or_else(|| Error::invalid("person_id", "no such person"))?;
            let roles = people::roles_of(conn, person_id)?;
            let member = match person.institution_id {
                Some(id) => institutions::find(conn, id)?.map(|i| i.alliance_member),
                None => None,
            };
            exams::eligible(person.active, roles.contains(&Role::Doctor), member)?;
            // The pipeline: only a case at the exam's stage may register.
            crate::services::pipeline::check_registration(conn, person_id, &exam)?;
            let closed = exams::WindowState::at(exam.opens_at, exam.closes_at, store::now())
                == exams::WindowState::Closed;
            if closed && granted.closes_at.is_none() {
                return Err(Error::conflict("exam", "the exam has closed"));
            }
            let row = store_exams::save_registration(
                conn,
                &NewRegistration {
                    exam_id,
                    person_id,
                    extra_minutes: i32::try_from(granted.extra.num_minutes())
                        .map_err(|e| Error::internal_from("the extra minutes", e))?,
                    opens_at: granted.opens_at,
                    closes_at: granted.closes_at,
                    registered_by: caller.person_id(),
                },
                store::now(),
            )?;
            audit::record(
                conn,
                &audit::event(
                    &caller,
                    "exam_register",
                    Some(format!("exam:{exam_id}/person:{person_id}")),
                    Outcome::Ok,
                ),
            )?;
            Ok(Registration::from(row))
        })
        .await
}

fn accommodation(r: &RegistrationRow) -> Accommodation {
    Accommodation {
        extra: Duration::minutes(i64::from(r.extra_minutes)),
        opens_at: r.opens_at,
        closes_at: r.closes_at,
    }
}

/// One question as the candidate sees it: never the answer key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    /// Its position on the paper, from 1: what `PUT …/answers/{position}` names.
    pub position: i32,
    /// The blueprint section it was drawn for, from 0.
    pub section: i32,
    /// `single`, `multiple`, `true_false` or `case`: which form `answer` takes.
    #[schema(value_type = String)]
    pub kind: QuestionKind,
    /// The question.
    pub stem: String,
    /// Options in the order this candidate sees them.
    pub options: Vec<String>,
    /// Points it is worth.
    pub points: i32,
    /// The saved answer: option positions as shown, true/false, or text.
    pub answer: Option<ShownAnswer>,
    /// The sequence number of the saved answer (the page resends anything newer).
    pub seq: Option<i64>,
}

/// An exam attempt as its candidate sees it: the paper, saved answers and time left.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// The attempt's id.
    pub id: i64,
    /// The exam's id.
    #[schema(value_type = i64)]
    pub exam_id: ExamId,
    /// The exam's title.
    pub exam_title: String,
    /// Which attempt at this exam it is, from 1.
    pub number: i32,
    /// When it started (RFC 3339 UTC); null before.
    pub started_at: Option<DateTime<Utc>>,
    /// The server's deadline: the only clock that counts.
    pub deadline: Option<DateTime<Utc>>,
    /// Seconds left until the deadline; 0 once submitted or past it.
    pub remaining_seconds: i64,
    /// When it was submitted (RFC 3339 UTC); null while open.
    pub submitted_at: Option<DateTime<Utc>>,
    /// True when the server submitted it at the deadline.
    pub auto_submitted: bool,
    /// The paper's questions, in order.
    pub items: Vec<ItemView>,
}

fn option_order(item: &ItemRow) -> Vec<usize> {
    serde_json::from_str(&item.option_order).unwrap_or_default()
}

/// The stored response, in the positions this candidate saw.
fn shown(response: &Response, order: &[usize]) -> ShownAnswer {
    match response {
        Response::Choices { options } => ShownAnswer::Positions(
            options
                .iter()
                .filter_map(|i| order.iter().position(|o| o == i))
                .collect(),
        ),
        Response::TrueFalse { value } => ShownAnswer::TrueFalse(*value),
        Response::Text { text } => ShownAnswer::Text(text.clone()),
    }
}

fn view(
    conn: &mut DbConn,
    cache: &VersionCache,
    attempt: &AttemptRow,
    now: NaiveDateTime,
) -> Result<AttemptView> {
    Paper::read(conn, cache, attempt)?.view(attempt, now)
}

/// What an attempt's view is made of, as read from the database. Reading
/// and building are apart so that a grouped write only reads, and the view
/// (fifty stems and their options, copied) is built on the request's own
/// thread rather than on the writer that every other request waits for.
struct Paper {
    exam_id: ExamId,
    exam_title: String,
    items: Vec<ItemRow>,
    answers: Vec<store_exams::AnswerRow>,
    versions: HashMap<i64, std::sync::Arc<Content>>,
}

impl Paper {
    fn read(conn: &mut DbConn, cache: &VersionCache, attempt: &AttemptRow) -> Result<Paper> {
        let exam = store_exams::find_exam(conn, attempt.exam_id)?.ok_or(Error::NotFound)?;
        let items = store_exams::items_of(conn, attempt.id)?;
        let answers = store_exams::answers_of(conn, attempt.id)?;
        let ids: Vec<i64> = items.iter().map(|i| i.version_id).collect();
        let versions = cache.contents(conn, &ids)?;
        Ok(Paper {
            exam_id: exam.id,
            exam_title: exam.title,
            items,
            answers,
            versions,
        })
    }

    fn view(self, attempt: &AttemptRow, now: NaiveDateTime) -> Result<AttemptView> {
        let items = item_views(&self.items, &self.answers, &self.versions)?;
        Ok(head(attempt, self.exam_id, self.exam_title, now, items))
    }
}

/// The paper's questions as the candidate sees them, with the saved answers.
fn item_views(
    items: &[ItemRow],
    answers: &[store_exams::AnswerRow],
    versions: &HashMap<i64, std::sync::Arc<Content>>,
) -> Result<Vec<ItemView>> {
    let mut views = Vec::with_capacity(items.len());
    for item in items {
        let content = versions.get(&item.version_id).ok_or(Error::NotFound)?;
        let order = option_order(item);
        let options = match &content.body {
            Body::Single { options } | Body::Multiple { options } => order
                .iter()
                .filter_map(|i| options.get(*i).map(|o| o.text.clone()))
                .collect(),
            _ => Vec::new(),
        };
        let saved = answers.iter().find(|a| a.attempt_item_id == item.id);
        let answer = saved
            .and_then(|a| serde_json::from_str::<Response>(&a.response).ok())
            .map(|r| shown(&r, &order));
        views.push(ItemView {
            position: item.position,
            section: item.section,
            kind: content.body.kind(),
            stem: content.stem.clone(),
            options,
            points: item.points,
            answer,
            seq: saved.map(|a| a.seq),
        });
    }
    Ok(views)
}

/// The attempt's view around its items.
fn head(
    attempt: &AttemptRow,
    exam_id: ExamId,
    exam_title: String,
    now: NaiveDateTime,
    items: Vec<ItemView>,
) -> AttemptView {
    let remaining = match (attempt.deadline, attempt.submitted_at) {
        (Some(d), None) => (d - now).num_seconds().max(0),
        _ => 0,
    };
    let utc = |t: NaiveDateTime| t.and_utc();
    AttemptView {
        id: attempt.id,
        exam_id,
        exam_title,
        number: attempt.number,
        started_at: attempt.started_at.map(utc),
        deadline: attempt.deadline.map(utc),
        remaining_seconds: remaining,
        submitted_at: attempt.submitted_at.map(utc),
        auto_submitted: attempt.auto_submitted,
        items,
    }
}

/// An attempt as a start answers it: built from its rows, or, for a
/// predrawn paper started by this request, the head around the items
/// rendered at predraw (no answers can exist yet).
pub enum StartedView {
    Built(AttemptView),
    Rendered {
        /// The view with no items.
        head: AttemptView,
        items: Box<serde_json::value::RawValue>,
    },
}

/// [`AttemptView`]'s JSON with items already rendered.
#[derive(Serialize)]
struct RenderedJson<'a> {
    id: i64,
    exam_id: ExamId,
    exam_title: &'a str,
    number: i32,
    started_at: Option<DateTime<Utc>>,
    deadline: Option<DateTime<Utc>>,
    remaining_seconds: i64,
    submitted_at: Option<DateTime<Utc>>,
    auto_submitted: bool,
    items: &'a serde_json::value::RawValue,
}

impl StartedView {
    pub fn id(&self) -> i64 {
        match self {
            StartedView::Built(v) => v.id,
            StartedView::Rendered { head, .. } => head.id,
        }
    }

    /// The JSON the API answers, the same either way.
    pub fn to_json(&self) -> Result<String> {
        match self {
            StartedView::Built(v) => serde_json::to_string(v),
            StartedView::Rendered { head: h, items } => serde_json::to_string(&RenderedJson {
                id: h.id,
                exam_id: h.exam_id,
                exam_title: &h.exam_title,
                number: h.number,
                started_at: h.started_at,
                deadline: h.deadline,
                remaining_seconds: h.remaining_seconds,
                submitted_at: h.submitted_at,
                auto_submitted: h.auto_submitted,
                items,
            }),
        }
        .map_err(|e| Error::internal_from("started attempt to JSON", e))
    }
}

/// Draws a paper for a new attempt inside the caller's transaction.
fn draw_attempt(
    conn: &mut DbConn,
    exam: &ExamRow,
    candidates: &[Candidate],
    person_id: PersonId,
    number: i32,
    now: NaiveDateTime,
) -> Result<DrawnAttempt> {
    let blueprint = blueprint_of(exam)?;
    // A non-negative seed that fits every backend's BIGINT.
    let seed = rand::rng().random_range(0..i64::MAX);
    let paper = papers::draw(&blueprint, candidates, seed.cast_unsigned()).map_err(|short| {
        Error::conflict(
            "exam",
            format!(
                "the banks can no longer fill this exam: {}",
                short
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
    })?;
    let new = store_exams::NewAttempt {
        exam_id: exam.id,
        person_id,
        number,
        seed,
    };
    let attempt = store_exams::insert_attempt(conn, &new, now)?;
    for (position, item) in paper.iter().enumerate() {
        let order = serde_json::to_string(&item.option_order)
            .map_err(|e| Error::internal_from("option order to JSON", e))?;
        store_exams::insert_item(
            conn,
            attempt.id,
            &NewItem {
                position: i32::try_from(position + 1)
                    .map_err(|e| Error::internal_from("a paper position", e))?,
                section: i32::try_from(item.section)
                    .map_err(|e| Error::internal_from("a paper section", e))?,
                question_id: item.question_id,
                version_id: item.version_id,
                points: i32::try_from(item.points)
                    .map_err(|e| Error::internal_from("a question's points", e))?,
                option_order: &order,
            },
        )?;
    }
    store_exams::record_event(
        conn,
        attempt.id,
        "paper_drawn",
        Some(&format!("seed {seed}, {} questions", paper.len())),
        now,
    )?;
    Ok(DrawnAttempt {
        attempt,
        questions: paper.iter().map(|i| i.question_id).collect(),
    })
}

/// How a stored paper compares with the paper its seed draws again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaperCheck {
    /// The same questions, versions, order and option order.
    Matches { questions: usize },
    /// The stored paper differs from the redraw, first at `position`.
    Differs {
        position: usize,
        stored: String,
        redrawn: String,
    },
    /// The paper cannot be drawn again (the banks as they were cannot fill
    /// the blueprint, or a stored row cannot be read).
    Unrebuildable(String),
}

fn describe(item: Option<&papers::Item>) -> String {
    match item {
        Some(i) => format!(
            "question {} version {} (section {}, {} points, options {:?})",
            i.question_id,
            i.version_id,
            i.section + 1,
            i.points,
            i.option_order
        ),
        None => "nothing".to_owned(),
    }
}

/// Draws an attempt's paper again from its stored seed, its exam's
/// blueprint and the banks as they were when it was drawn (the versions
/// then current, the exposure left by the papers drawn before it), and
/// compares it with the stored paper. Papers drawn at the same moment on
/// two PostgreSQL writer lanes did not see each other's exposure; such a
/// paper is rebuilt only when it was drawn ahead (`predraw`) or alone.
pub fn redraw(conn: &mut DbConn, attempt: &AttemptRow, exam: &ExamRow) -> Result<PaperCheck> {
    let blueprint = match blueprint_of(exam) {
        Ok(b) => b,
        Err(e) => return Ok(PaperCheck::Unrebuildable(e.to_string())),
    };
    let versions = store_banks::drawable_at(conn, &exam.track, attempt.drawn_at)?;
    let exposure: HashMap<i64, i64> = store_exams::exposure_before(conn, attempt.id)?
        .into_iter()
        .collect();
    let pool = candidates(versions, &exposure)?;
    let redrawn = match papers::draw(&blueprint, &pool, attempt.seed.cast_unsigned()) {
        Ok(paper) => paper,
        Err(short) => {
            let why: Vec<String> = short.iter().map(ToString::to_string).collect();
            return Ok(PaperCheck::Unrebuildable(format!(
                "the banks as they were cannot fill the blueprint: {}",
                why.join("; ")
            )));
        }
    };
    let mut stored = Vec::new();
    for row in store_exams::items_of(conn, attempt.id)? {
        let Ok(option_order) = serde_json::from_str::<Vec<usize>>(&row.option_order) else {
            return Ok(PaperCheck::Unrebuildable(format!(
                "the option order stored at position {} cannot be read",
                row.position
            )));
        };
        stored.push(papers::Item {
            section: usize::try_from(row.section).unwrap_or(0),
            version_id: row.version_id,
            question_id: row.question_id,
            points: non_negative_u32(row.points),
            option_order,
        });
    }
    Ok(match papers::first_difference(&stored, &redrawn) {
        None => PaperCheck::Matches {
            questions: stored.len(),
        },
        Some(d) => PaperCheck::Differs {
            position: d.position,
            stored: describe(d.stored.as_ref()),
            redrawn: describe(d.redrawn.as_ref()),
        },
    })
}

/// A new attempt and the questions on its paper.
struct DrawnAttempt {
    attempt: AttemptRow,
    questions: Vec<i64>,
}

/// Starts (or resumes) the caller's attempt. Idempotent: a retried start
/// returns the attempt already under way, never a second one.
///
/// At the opening minute thousands of starts come at once, and nearly all
/// of them begin a paper drawn and rendered at predraw: those are done in
/// batches, a few statements for a whole batch of starts
/// ([`start_at_opening`]). Any other start is one grouped write (see
/// `store::group`) that signs the token in, checks the window, starts the
/// attempt and reads the paper back, sharing its commit with other writes.
/// The view is built from what was read after the write.
///
/// A paper drawn at the start reads the exam's exposure counts, so draws
/// of one exam are serialised (`store::exams::lock_draw`). Inside a batch
/// the lock is only tried: a batch that waited for another lane's batch
/// while holding its own locks could deadlock with it. When another
/// transaction is drawing for the exam, the start leaves its batch having
/// written nothing and draws in a transaction of its own, which waits for
/// the lock before it touches anything.
pub async fn start(ctx: &Ctx, taker: Taker<'_>, exam_id: ExamId) -> Result<StartedView> {
    let presented = taker.presented();
    if let Some(view) = start_at_opening(ctx, &presented, exam_id).await? {
        return Ok(view);
    }
    let versions = ctx.versions.clone();
    let started = ctx
        .db
        .write_grouped(presented.lane(), move |conn| {
            let now = store::now();
            let caller = presented.resolve(conn, now)?;
            // Only a person sits an exam: an integration is refused below.
            let Some(person_id) = caller.person_id() else {
                return Ok(Owned::NotYours(caller));
            };
            Ok(Owned::Mine(
                match start_in(conn, exam_id, person_id, now, DrawLock::Try)? {
                    Started::Begun {
                        attempt,
                        exam,
                        rendered: Some(items),
                    } => Ok((attempt, Opening::Rendered { exam, items }, now)),
                    Started::Begun { attempt, .. } | Started::Attempt(attempt) => {
                        let paper = Opening::Read(Paper::read(conn, &versions, &attempt)?);
                        Ok((attempt, paper, now))
                    }
                    Started::DrawBusy => Err(person_id),
                },
            ))
        })
        .await?;
    let started = match started {
        Owned::Mine(started) => started,
        Owned::NotYours(caller) => {
            return super::refuse(ctx, &caller, "exam_start", format!("exam:{exam_id}")).await;
        }
    };
    let (attempt, paper, now) = match started {
        Ok(read) => read,
        Err(person_id) => {
            tracing::debug!(
                exam = exam_id.get(),
                "another transaction is drawing this exam's papers: the start draws on its own"
            );
            let versions = ctx.versions.clone();
            ctx.db
                .write(move |conn| {
                    store_exams::lock_draw(conn, exam_id, true)?;
                    let now = store::now();
                    match start_in(conn, exam_id, person_id, now, DrawLock::Held)? {
                        Started::Attempt(attempt) | Started::Begun { attempt, .. } => {
                            let paper = Opening::Read(Paper::read(conn, &versions, &attempt)?);
                            Ok((attempt, paper, now))
                        }
                        Started::DrawBusy => Err(Error::internal("the draw lock was not held")),
                    }
                })
                .await?
        }
    };
    match paper {
        Opening::Read(paper) => paper.view(&attempt, now).map(StartedView::Built),
        Opening::Rendered { exam, items } => Ok(StartedView::Rendered {
            head: head(&attempt, exam.id, exam.title, now, Vec::new()),
            items: serde_json::value::RawValue::from_string(items)
                .map_err(|e| Error::internal_from("rendered paper", e))?,
        }),
    }
}

/// What a start read for its answer: the paper's rows, or the items
/// rendered at predraw (used only by the start that began the attempt, so
/// that no answer can exist yet).
enum Opening {
    Read(Paper),
    Rendered { exam: Box<ExamRow>, items: String },
}

/// How a start that must draw a paper holds the exam's draw lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DrawLock {
    /// Try to take it; if another transaction holds it, give up.
    Try,
    /// The transaction holds it already.
    Held,
}

/// What a start came to.
enum Started {
    /// An attempt already under way.
    Attempt(AttemptRow),
    /// Begun by this start, with its exam and the paper rendered at
    /// predraw, if it was.
    Begun {
        attempt: AttemptRow,
        exam: Box<ExamRow>,
        rendered: Option<String>,
    },
    /// A paper must be drawn and another transaction is drawing this exam's:
    /// nothing was written.
    DrawBusy,
}

/// What a start does, from what it read: the rules of a start, for both
/// ways one is done (one at a time, [`start_in`], and in a batch at the
/// opening, [`start_at_opening`]).
enum StartPlan<'a> {
    /// An attempt is under way: resume it.
    Resume(&'a AttemptRow),
    /// Begin this attempt, drawn ahead (with its paper rendered at predraw,
    /// if it was).
    Begin {
        attempt: &'a AttemptRow,
        rendered: Option<&'a str>,
        deadline: NaiveDateTime,
    },
    /// No paper waits: draw attempt `number`, then begin it.
    Draw {
        number: i32,
        deadline: NaiveDateTime,
    },
}

/// The start's rules at `now`: resume what is under way; otherwise the
/// window, the attempts left and the waiting period must allow a new one.
fn plan_start(reading: &store_exams::StartReading, now: NaiveDateTime) -> Result<StartPlan<'_>> {
    let attempts = &reading.attempts;
    if let Some((open, _)) = attempts
        .iter()
        .find(|(a, _)| a.submitted_at.is_none() && a.started_at.is_some())
    {
        return Ok(StartPlan::Resume(open));
    }
    let schedule = schedule_of(&reading.exam)?;
    let acc = accommodation(&reading.registration);
    let finished: Vec<NaiveDateTime> = attempts
        .iter()
        .filter_map(|(a, _)| a.submitted_at)
        .collect();
    exams::may_start(&schedule, &acc, &finished, now).map_err(exams::StartRefusal::into_error)?;
    let deadline = exams::deadline(&schedule, &acc, now);
    // A paper drawn ahead of time is used; otherwise one is drawn now.
    match attempts
        .iter()
        .find(|(a, _)| a.started_at.is_none() && a.submitted_at.is_none())
    {
        Some((attempt, rendered)) => Ok(StartPlan::Begin {
            attempt,
            rendered: rendered.as_deref(),
            deadline,
        }),
        None => Ok(StartPlan::Draw {
            number: i32::try_from(attempts.len() + 1)
                .map_err(|e| Error::internal_from("the attempt number", e))?,
            deadline,
        }),
    }
}

/// The detail of an attempt's `started` line.
fn started_detail(deadline: NaiveDateTime) -> String {
    format!("deadline {deadline}")
}

/// The start's checks and writes, inside its transaction.
fn start_in(
    conn: &mut DbConn,
    exam_id: ExamId,
    person_id: PersonId,
    now: NaiveDateTime,
    lock: DrawLock,
) -> Result<Started> {
    // Each attempt not yet started comes with its paper rendered at predraw.
    let Some(reading) = store_exams::start_reading(conn, exam_id, person_id)? else {
        return Err(match store_exams::find_exam(conn, exam_id)? {
            None => Error::NotFound,
            Some(_) => Error::conflict("exam", "you are not registered for this exam"),
        });
    };
    let (attempt, rendered, deadline) = match plan_start(&reading, now)? {
        StartPlan::Resume(open) => return Ok(Started::Attempt(open.clone())),
        StartPlan::Begin {
            attempt,
            rendered,
            deadline,
        } => (attempt.clone(), rendered.map(str::to_owned), deadline),
        StartPlan::Draw { number, deadline } => {
            // Under the exam's draw lock (see `start`).
            if lock == DrawLock::Try && !store_exams::lock_draw(conn, exam_id, false)? {
                return Ok(Started::DrawBusy);
            }
            let candidates = pool(conn, &reading.exam.track)?;
            let drawn = draw_attempt(conn, &reading.exam, &candidates, person_id, number, now)?;
            (drawn.attempt, None, deadline)
        }
    };
    let detail = started_detail(deadline);
    match store_exams::mark_started(conn, &attempt, now, deadline, &detail)? {
        Some(started) => Ok(Started::Begun {
            attempt: started,
            exam: Box::new(reading.exam),
            rendered,
        }),
        // Another device of the same candidate started it a moment ago.
        None => store_exams::find_attempt(conn, attempt.id)?
            .map(Started::Attempt)
            .ok_or(Error::NotFound),
    }
}

/// The opening's way to start: with the other starts of its lane, all done
/// together (`store::starts`). It does only the opening's common case, a
/// candidate beginning the paper drawn and rendered for her at predraw, and
/// returns `None`, having written nothing, for anything else (an attempt to
/// resume, a paper to draw, a refusal, a token that does not sign in), which
/// [`start`] then does the usual way.
async fn start_at_opening(
    ctx: &Ctx,
    presented: &Presented,
    exam_id: ExamId,
) -> Result<Option<StartedView>> {
    use crate::domain::access::Principal;
    use store::starts::{Begin, Plan, StartAsked, StartFound, Starter};
    let (who, signed_in) = match presented {
        Presented::Token { hash, .. } => (Starter::Token(hash.clone()), None),
        Presented::Known(caller) => match caller.person_id() {
            Some(person) => (Starter::Person(person), Some(person)),
            None => return Ok(None),
        },
    };
    let plan: Plan = Box::new(move |found: &StartFound, now: NaiveDateTime| {
        let person = match signed_in {
            Some(person) => person,
            None => match crate::services::auth::principal_of(found.token.as_ref()?, now)? {
                Principal::Person(actor) => actor.id,
                Principal::Integration { .. } => return None,
            },
        };
        let reading = found.reading.as_ref()?;
        if reading.registration.person_id != person {
            return None;
        }
        match plan_start(reading, now).ok()? {
            StartPlan::Begin {
                attempt,
                rendered: Some(_),
                deadline,
            } => Some(Begin {
                attempt_id: attempt.id,
                deadline,
                detail: started_detail(deadline),
            }),
            StartPlan::Begin { rendered: None, .. }
            | StartPlan::Resume(_)
            | StartPlan::Draw { .. } => None,
        }
    });
    let asked = StartAsked { who, exam_id, plan };
    let done = ctx.db.start_grouped(presented.lane(), asked).await?;
    let (Some(attempt), Some(reading)) = (done.begun, done.found.reading) else {
        return Ok(None);
    };
    let rendered = reading
        .attempts
        .into_iter()
        .find(|(a, _)| a.id == attempt.id)
        .and_then(|(_, rendered)| rendered)
        .ok_or_else(|| Error::internal("the attempt begun has no rendered paper"))?;
    let exam = reading.exam;
    Ok(Some(StartedView::Rendered {
        head: head(&attempt, exam.id, exam.title, done.at, Vec::new()),
        items: serde_json::value::RawValue::from_string(rendered)
            .map_err(|e| Error::internal_from("rendered paper", e))?,
    }))
}

/// Draws papers ahead of the opening for every registered candidate who has
/// none waiting, so the opening minute does no heavy work.
pub async fn predraw(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<usize> {
    require(ctx, caller, Permission::ManageExams).await?;
    let versions = ctx.versions.clone();
    ctx.db
        .write(move |conn| {
            // Draws at the start of other candidates wait meanwhile.
            store_exams::lock_draw(conn, exam_id, true)?;
            let now = store::now();
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            // The pool is read once; exposure is then kept up to date here.
            let mut candidates = pool(conn, &exam.track)?;
            let mut drawn = 0;
            for r in store_exams::registrations_of(conn, exam_id)? {
                let attempts = store_exams::attempts_of(conn, exam_id, r.person_id)?;
                let waiting = attempts.iter().any(|a| a.submitted_at.is_none());
                if !waiting
                    && i32::try_from(attempts.len()).is_ok_and(|n| n < exam.attempts_allowed)
                {
                    let items = draw_attempt(
                        conn,
                        &exam,
                        &candidates,
                        r.person_id,
                        i32::try_from(attempts.len() + 1)
                            .map_err(|e| Error::internal_from("the attempt number", e))?,
                        now,
                    )?;
                    for c in candidates
                        .iter_mut()
                        .filter(|c| items.questions.contains(&c.question_id))
                    {
                        c.exposure += 1;
                    }
                    // Rendered now, so that the start sends bytes already made.
                    let rows = store_exams::items_of(conn, items.attempt.id)?;
                    let ids: Vec<i64> = rows.iter().map(|i| i.version_id).collect();
                    let contents = versions.contents(conn, &ids)?;
                    let rendered = serde_json::to_string(&item_views(&rows, &[], &contents)?)
                        .map_err(|e| Error::internal_from("rendered paper to JSON", e))?;
                    store_exams::save_rendered_paper(conn, items.attempt.id, &rendered)?;
                    drawn += 1;
                }
            }
            Ok(drawn)
        })
        .await
}

/// Records a refused access to someone else's attempt and refuses it.
async fn refuse_attempt(ctx: &Ctx, caller: &Caller, attempt_id: i64) -> Result<AttemptRow> {
    crate::services::refuse(
        ctx,
        caller,
        "attempt_access",
        format!("attempt:{attempt_id}"),
    )
    .await
}

/// The caller's own attempt, or a refusal that is audited.
async fn own_attempt(ctx: &Ctx, caller: &Caller, attempt_id: i64) -> Result<AttemptRow> {
    let person_id = person(ctx, caller).await?.id;
    let attempt = ctx
        .db
        .read(move |conn| store_exams::find_attempt(conn, attempt_id)?.ok_or(Error::NotFound))
        .await?;
    if attempt.person_id != person_id {
        return refuse_attempt(ctx, caller, attempt_id).await;
    }
    Ok(attempt)
}

pub async fn get(ctx: &Ctx, caller: &Caller, attempt_id: i64) -> Result<AttemptView> {
    let attempt = own_attempt(ctx, caller, attempt_id).await?;
    let versions = ctx.versions.clone();
    ctx.db
        .read(move |conn| view(conn, &versions, &attempt, store::now()))
        .await
}

/// An answer saved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SaveAck {
    /// The question's position on the paper.
    pub position: i32,
    /// The sequence number now stored for this question (the newest wins).
    pub seq: i64,
    /// False when a newer answer was already stored (a late duplicate).
    pub stored: bool,
    /// When the server stored it (RFC 3339 UTC).
    pub saved_at: DateTime<Utc>,
    /// Seconds left until the deadline.
    pub remaining_seconds: i64,
}

/// Who takes the exam in a request: a caller already authenticated (the
/// pages), or a bearer token that is resolved inside the request's one
/// grouped write (the API: no separate visit to the database to sign in).
pub enum Taker<'a> {
    Caller(&'a Caller),
    Bearer { token: String, ip: Option<String> },
}

impl Taker<'_> {
    /// The owned form that moves into a write.
    fn presented(self) -> Presented {
        match self {
            Taker::Caller(caller) => Presented::Known(caller.clone()),
            Taker::Bearer { token, ip } => Presented::Token {
                hash: crate::domain::tokens::digest(&token),
                ip,
            },
        }
    }
}

enum Presented {
    Known(Caller),
    Token { hash: String, ip: Option<String> },
}

impl Presented {
    /// The caller, signing a token in on `conn`.
    fn resolve(self, conn: &mut DbConn, now: NaiveDateTime) -> Result<Caller> {
        match self {
            Presented::Known(caller) => Ok(caller),
            Presented::Token { hash, ip } => {
                let (_, principal) = crate::services::auth::resolve_bearer(conn, &hash, now)?
                    .ok_or(Error::Unauthenticated)?;
                Ok(Caller {
                    principal,
                    ip,
                    session_hash: None,
                })
            }
        }
    }

    /// A group-writer lane that is the same for every request of one caller
    /// (the person, or the token until it is resolved).
    fn lane(&self) -> i64 {
        match self {
            Presented::Known(caller) => caller.actor().map_or(0, |a| a.id.get()),
            Presented::Token { hash, .. } => hash
                .bytes()
                .fold(0i64, |h, b| h.wrapping_mul(31).wrapping_add(i64::from(b))),
        }
    }
}

/// What a write on an attempt found: the caller's own attempt and the
/// result, or someone else's attempt (refused and audited after the write).
enum Owned<T> {
    Mine(T),
    NotYours(Caller),
}

impl<T> Owned<T> {
    async fn or_refuse(self, ctx: &Ctx, attempt_id: i64) -> Result<T> {
        match self {
            Owned::Mine(t) => Ok(t),
            Owned::NotYours(caller) => {
                refuse_attempt(ctx, &caller, attempt_id).await?;
                Err(Error::Forbidden)
            }
        }
    }
}

/// Saves one answer. Idempotent: `seq` orders a candidate's saves of one
/// question, so a retried or late request never overwrites a newer answer.
///
/// Everything happens in one grouped save (see `store::group`): the token,
/// the attempt, the answer's shape and the clock are checked in the save's
/// own savepoint, and the answer is stored with the batch's others. On
/// SQLite that is also the cheapest place to read: the writer's page cache
/// is the only one that other connections' commits never invalidate.
pub async fn save(
    ctx: &Ctx,
    taker: Taker<'_>,
    attempt_id: i64,
    position: i32,
    answer: ShownAnswer,
    seq: i64,
) -> Result<SaveAck> {
    if seq < 0 {
        return Err(Error::invalid("seq", "must not be negative"));
    }
    let presented = taker.presented();
    let versions = ctx.versions.clone();
    let (checked, stored) = ctx
        .db
        .save_grouped(attempt_id, move |conn| {
            let now = store::now();
            let caller = presented.resolve(conn, now)?;
            let Some(person_id) = caller.actor().map(|a| a.id) else {
                return Ok((Owned::NotYours(caller), None));
            };
            let (attempt, grace_seconds, item) =
                store_exams::save_target(conn, attempt_id, position)?.ok_or(Error::NotFound)?;
            if attempt.person_id != person_id {
                return Ok((Owned::NotYours(caller), None));
            }
            let item = item.ok_or_else(|| {
                Error::invalid("position", format!("the paper has no question {position}"))
            })?;
            let content = versions.content(conn, item.version_id)?;
            let response = scoring::from_shown(&content.body, &option_order(&item), answer)?;
            let json = serde_json::to_string(&response)
                .map_err(|e| Error::internal_from("answer to JSON", e))?;
            let deadline = attempt
                .deadline
                .ok_or_else(|| Error::conflict("attempt", "the attempt has not started"))?;
            let grace = Duration::seconds(i64::from(grace_seconds));
            exams::may_save(deadline, grace, attempt.submitted_at.is_some(), now)?;
            let answer = store_exams::NewAnswer {
                attempt_item_id: item.id,
                attempt_id,
                position,
                response: json,
                seq,
                saved_at: now,
            };
            let remaining_seconds = (deadline - now).num_seconds().max(0);
            Ok((Owned::Mine((now, remaining_seconds)), Some(answer)))
        })
        .await?;
    let (saved_at, remaining_seconds) = checked.or_refuse(ctx, attempt_id).await?;
    let stored = stored.ok_or_else(|| Error::internal("the answer was not stored"))?;
    Ok(SaveAck {
        position,
        seq: stored.seq,
        stored: stored.stored,
        saved_at: saved_at.and_utc(),
        remaining_seconds,
    })
}

/// Scores objective items and closes the attempt. `at` is when it counts as
/// finished: now for a candidate's submit (never after the deadline), the
/// deadline itself for the auto-submit job.
fn finish(
    conn: &mut DbConn,
    cache: &VersionCache,
    attempt: &AttemptRow,
    at: NaiveDateTime,
    auto: bool,
) -> Result<AttemptRow> {
    let items = store_exams::items_of(conn, attempt.id)?;
    let answers = store_exams::answers_of(conn, attempt.id)?;
    let ids: Vec<i64> = items.iter().map(|i| i.version_id).collect();
    let versions = cache.contents(conn, &ids)?;
    let rule = cache.choice_scoring(conn, attempt.exam_id)?;
    let mut score = 0.0;
    let mut total = 0.0;
    let mut scores = Vec::with_capacity(items.len());
    for item in &items {
        let content = versions.get(&item.version_id).ok_or(Error::NotFound)?;
        let response = answers
            .iter()
            .find(|a| a.attempt_item_id == item.id)
            .and_then(|a| serde_json::from_str::<Response>(&a.response).ok());
        let earned = scoring::score(
            &content.body,
            non_negative_u32(item.points),
            response.as_ref(),
            rule,
        );
        if let Some(earned) = earned {
            score += earned;
            total += f64::from(item.points);
        }
        scores.push((item.id, earned));
    }
    store_exams::set_item_scores(conn, attempt.id, &scores)?;
    let row = store_exams::mark_submitted(conn, attempt.id, at, auto, score, total)?;
    store_exams::record_event(
        conn,
        attempt.id,
        if auto { "auto_submitted" } else { "submitted" },
        Some(&format!("objective {score}/{total}")),
        store::now(),
    )?;
    Ok(row)
}

/// Submits the caller's attempt. Idempotent: submitting again changes nothing.
/// One grouped write signs in, checks the attempt is the caller's, scores
/// and closes it, and reads it back.
pub async fn submit(ctx: &Ctx, taker: Taker<'_>, attempt_id: i64) -> Result<AttemptView> {
    let presented = taker.presented();
    let versions = ctx.versions.clone();
    ctx.db
        .write_grouped(attempt_id, move |conn| {
            let now = store::now();
            let caller = presented.resolve(conn, now)?;
            let attempt = store_exams::find_attempt(conn, attempt_id)?.ok_or(Error::NotFound)?;
            if caller.person_id() != Some(attempt.person_id) {
                return Ok(Owned::NotYours(caller));
            }
            let finished = match (attempt.submitted_at, attempt.deadline) {
                (Some(_), _) => attempt,
                (None, Some(deadline)) => {
                    finish(conn, &versions, &attempt, now.min(deadline), false)?
                }
                (None, None) => {
                    return Err(Error::conflict("attempt", "the attempt has not started"));
                }
            };
            Ok(Owned::Mine(view(conn, &versions, &finished, now)?))
        })
        .await?
        .or_refuse(ctx, attempt_id)
        .await
}

/// The auto-submit job: closes every attempt past its deadline plus grace,
/// recording the deadline as its finish time. Returns how many it closed.
pub fn submit_overdue(db: &Db, cache: &VersionCache) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        // Past the deadline; each exam's own grace is checked below.
        let ids = store_exams::claim_overdue(conn, now, 200)?;
        let mut closed = 0;
        for id in ids {
            let Some(attempt) = store_exams::find_attempt(conn, id)? else {
                continue;
            };
            let Some(exam) = store_exams::find_exam(conn, attempt.exam_id)? else {
                continue;
            };
            let Some(deadline) = attempt.deadline else {
                continue;
            };
            if !exams::time_is_up(
                deadline,
                Duration::seconds(i64::from(exam.grace_seconds)),
                now,
            ) {
                continue;
            }
            finish(conn, cache, &attempt, deadline, true)?;
            closed += 1;
        }
        Ok(closed)
    })
}

/// The owner closes the exam before its window ends (see
/// `domain::exams::may_close_early`): every registered candidate has
/// submitted, or the reason for closing it on those who have not is kept
/// in the audit record. Marking and release follow as after any close.
pub async fn close_early(
    ctx: &Ctx,
    caller: &Caller,
    exam_id: ExamId,
    reason: Option<String>,
) -> Result<()> {
    require(ctx, caller, Permission::ManageExams).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let reason = match reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(crate::services::required_text("reason", r, 2000)?),
        _ => None,
    };
    let mut event = audit::event(
        caller,
        "exam.close_early",
        Some(format!("exam:{exam_id}")),
        Outcome::Ok,
    );
    let owner = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let Some(exam) = owned_exam(conn, exam_id, me)? else {
                return Ok(false);
            };
            let state = exams::WindowState::at(exam.opens_at, exam.closes_at, now);
            let under_way = store_exams::attempts_under_way(conn, exam_id)?;
            let yet_to_submit = store_exams::yet_to_submit(conn, exam_id)?;
            exams::may_close_early(
                state,
                u64::try_from(under_way).unwrap_or(0),
                u64::try_from(yet_to_submit).unwrap_or(0),
                reason.is_some(),
            )
            .map_err(|refusal| match refusal {
                exams::EarlyCloseRefusal::ReasonNeeded(_) => {
                    Error::invalid("reason", refusal.message())
                }
                _ => Error::conflict("exam", refusal.message()),
            })?;
            store_exams::close_now(conn, exam_id, now)?;
            event.detail = Some(match &reason {
                Some(r) => format!("{yet_to_submit} not submitted; reason: {r}"),
                None => "every registered candidate had submitted".to_owned(),
            });
            audit::record(conn, &event)?;
            Ok(true)
        })
        .await?;
    if owner {
        Ok(())
    } else {
        crate::services::refuse(ctx, caller, "exam.close_early", format!("exam:{exam_id}")).await
    }
}

/// The exam, if `me` owns it (scheduled it): only its owner releases its
/// results or closes it early (`domain::exams::is_owner`). `None` for
/// another person; an exam that does not exist is `NotFound`.
pub(crate) fn owned_exam(
    conn: &mut DbConn,
    exam_id: ExamId,
    me: PersonId,
) -> Result<Option<ExamRow>> {
    let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
    Ok(exams::is_owner(exam.created_by, me).then_some(exam))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A start answered from the items rendered at predraw sends exactly
    /// the JSON of the view built from the rows.
    #[test]
    fn rendered_start_is_the_built_view() {
        let item = |position: i32, kind: QuestionKind| ItemView {
            position,
            section: 0,
            kind,
            stem: format!("Question {position} \"quoted\" 发热"),
            options: vec!["A".into(), "B".into()],
            points: 2,
            answer: None,
            seq: None,
        };
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a time");
        let view = AttemptView {
            id: 7,
            exam_id: ExamId(3),
            exam_title: "Written exam".into(),
            number: 1,
            started_at: Some(at),
            deadline: Some(at + Duration::minutes(90)),
            remaining_seconds: 5400,
            submitted_at: None,
            auto_submitted: false,
            items: vec![
                item(1, QuestionKind::Single),
                item(2, QuestionKind::TrueFalse),
            ],
        };
        let rendered = serde_json::to_string(&view.items).expect("items");
        let built = StartedView::Built(view.clone()).to_json().expect("built");
        let from_rendered = StartedView::Rendered {
            head: AttemptView {
                items: Vec::new(),
                ..view
            },
            items: serde_json::value::RawValue::from_string(rendered).expect("raw"),
        }
        .to_json()
        .expect("rendered");
        assert_eq!(built, from_rendered);
    }
}
