//! Blind double marking of open answers, and releasing results.
//!
//! `allocate` (run by `jobs::grading`) gives every open answer of a
//! submitted attempt to two examiners, and a third when their totals
//! disagree; examiners see only the attempt's code. `submit_marks` records a
//! marking against the rubric and applies the final mark rule of
//! `domain::grading`. The exam's owner releases results once every answer
//! has its final mark; candidates then see them as the review policy allows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::access::Permission;
use crate::domain::banks::{Body, Content};
use crate::domain::exams::ReviewPolicy;
use crate::domain::grading::{
    self, AppealEffect, AppealRule, Examiner, ItemScore, MarkerRole, Marking,
};
use crate::domain::locale::Locale;
use crate::domain::scoring::Response;
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, evidence, person, pipeline, refuse, require};
use crate::store::grading::{self as store_grading, NewTask, TaskRow};
use crate::store::training as store_training;
use crate::store::{self, Db, DbConn, banks as store_banks, exams as store_exams, people};

use super::utc;

fn content_of(conn: &mut DbConn, version_id: i64) -> Result<Content> {
    let v = store_banks::version_by_id(conn, version_id)?.ok_or(Error::NotFound)?;
    serde_json::from_str(&v.content).map_err(Error::internal)
}

fn rubric_of(content: &Content) -> Result<(&str, &[crate::domain::banks::Criterion])> {
    match &content.body {
        Body::Case {
            model_answer,
            rubric,
        } => Ok((model_answer, rubric)),
        _ => Err(Error::internal("a marking task for an objective question")),
    }
}

/// Gives out the marking that open answers need: a first and second marker
/// for each new answer, a third where the two disagree. Returns how many
/// tasks it created. Idempotent; an answer nobody eligible can mark waits.
pub fn allocate(db: &Db) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let pending = store_grading::pending_items(conn)?;
        if pending.is_empty() {
            return Ok(0);
        }
        let examiners: Vec<Examiner> = store_grading::examiners(conn)?
            .into_iter()
            .map(|(id, institution_id)| Examiner { id, institution_id })
            .collect();
        let mut load: HashMap<i64, u32> = store_grading::open_load(conn)?
            .into_iter()
            .map(|(id, n)| (id, n.max(0) as u32))
            .collect();
        let mut created = 0;
        for p in pending {
            let tasks = store_grading::tasks_of_item(conn, p.item.id)?;
            let needed: Vec<MarkerRole> = if tasks.is_empty() {
                vec![MarkerRole::First, MarkerRole::Second]
            } else if tasks.len() == 2 && tasks.iter().all(|t| t.submitted_at.is_some()) {
                let totals: Vec<f64> = tasks.iter().filter_map(|t| t.total).collect();
                match grading::marking(
                    &totals,
                    p.item.points.max(0) as u32,
                    p.marking_tolerance.max(0) as u32,
                ) {
                    Marking::NeedsThird => vec![MarkerRole::Third],
                    _ => Vec::new(),
                }
            } else {
                Vec::new()
            };
            if needed.is_empty() {
                continue;
            }
            let mut already: Vec<i64> = tasks.iter().map(|t| t.examiner_id).collect();
            let mut chosen = Vec::new();
            for role in &needed {
                match grading::pick_examiner(
                    &examiners,
                    p.candidate_institution,
                    &already,
                    &mut load,
                ) {
                    Some(id) => {
                        already.push(id);
                        chosen.push((*role, id));
                    }
                    None => break,
                }
            }
            if chosen.len() < needed.len() {
                tracing::warn!(
                    item = p.item.id,
                    "not enough eligible examiners to mark an answer"
                );
                continue;
            }
            if p.attempt.code.is_none() {
                store_grading::set_attempt_code(
                    conn,
                    p.attempt.id,
                    &crate::domain::codes::blind_code(),
                )?;
            }
            for (role, examiner_id) in chosen {
                store_grading::insert_task(
                    conn,
                    &NewTask {
                        exam_id: p.attempt.exam_id,
                        item_id: p.item.id,
                        examiner_id,
                        role: role.number(),
                        due_at: now + Duration::days(i64::from(p.marking_days.max(1))),
                    },
                    now,
                )?;
                created += 1;
            }
        }
        Ok(created)
    })
}

/// Emails examiners whose tasks are past due, once per task. Returns how many
/// emails it queued.
pub fn remind_late(db: &Db) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let late = store_grading::late_unreminded(conn, now)?;
        let mut by_examiner: HashMap<i64, Vec<TaskRow>> = HashMap::new();
        for t in late {
            by_examiner.entry(t.examiner_id).or_default().push(t);
        }
        let mut sent = 0;
        for (examiner, tasks) in by_examiner {
            let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
            if store_grading::mark_reminded(conn, &ids, now)? == 0 {
                continue;
            }
            let Some(person) = people::find(conn, examiner)? else {
                continue;
            };
            mail::enqueue(
                conn,
                &person.email,
                &person.name,
                Locale::parse(&person.locale).unwrap_or_default(),
                &Message::MarkingLate {
                    name: person.name.clone(),
                    count: tasks.len(),
                },
                now,
            )?;
            sent += 1;
        }
        Ok(sent)
    })
}

// ----- the examiner's queue and marking -----

/// A marking task in an examiner's queue: one case answer to mark, blind.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkingTaskLine {
    /// The task's id (`/marking/{id}`).
    pub task_id: i64,
    /// The exam's title.
    pub exam_title: String,
    /// The attempt's blind code.
    pub code: String,
    /// The question's position on the paper.
    pub position: i32,
    /// 1 first, 2 second, 3 third marking.
    pub role: i32,
    /// When the marking is due (RFC 3339 UTC).
    pub due_at: DateTime<Utc>,
    /// Whether the examiner has submitted marks.
    pub submitted: bool,
    /// True when not submitted and past due.
    pub late: bool,
}

/// The caller's marking tasks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkingQueue {
    /// Every task given to the caller.
    pub tasks: Vec<MarkingTaskLine>,
    /// Tasks submitted.
    pub done: usize,
    /// All tasks.
    pub total: usize,
}

pub async fn queue(ctx: &Ctx, caller: &Caller) -> Result<MarkingQueue> {
    require(ctx, caller, Permission::Mark).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .read(move |conn| {
            let now = store::now();
            let tasks: Vec<MarkingTaskLine> = store_grading::queue_of(conn, me)?
                .into_iter()
                .map(|(t, exam_title, code, position)| MarkingTaskLine {
                    task_id: t.id,
                    exam_title,
                    code: code.unwrap_or_default(),
                    position,
                    role: t.role,
                    due_at: utc(t.due_at),
                    submitted: t.submitted_at.is_some(),
                    late: t.submitted_at.is_none() && t.due_at < now,
                })
                .collect();
            Ok(MarkingQueue {
                done: tasks.iter().filter(|t| t.submitted).count(),
                total: tasks.len(),
                tasks,
            })
        })
        .await
}

/// An examiner's mark for one rubric criterion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct CriterionMark {
    /// Points given, from 0 to the criterion's points.
    pub points: f64,
    /// The examiner's comment; may be empty (default).
    #[serde(default)]
    pub comment: String,
}

/// One criterion of a rubric.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RubricLine {
    /// What is looked for.
    pub criterion: String,
    /// The most it gives.
    pub points: u32,
}

/// What an examiner sees of one task: the question, rubric, model answer
/// and the answer, under the attempt's code; their own marks only.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    /// The task's id.
    pub task_id: i64,
    /// The exam's title.
    pub exam_title: String,
    /// The attempt's blind code.
    pub code: String,
    /// The question's position on the paper.
    pub position: i32,
    /// 1 first, 2 second, 3 third marking, 4 appeal re-mark.
    pub role: i32,
    /// Points the question is worth.
    pub points: i32,
    /// The question.
    pub stem: String,
    /// The rubric, in order: marks follow it.
    pub rubric: Vec<RubricLine>,
    /// The model answer, for the examiner.
    pub model_answer: String,
    /// The candidate's answer text (empty if unanswered).
    pub answer: String,
    /// The caller's marks so far, one per criterion; null until submitted.
    pub marks: Option<Vec<CriterionMark>>,
    /// The caller's total; null until submitted.
    pub total: Option<f64>,
    /// When the marking is due (RFC 3339 UTC).
    pub due_at: DateTime<Utc>,
    /// Whether the answer has its final mark (marks can no longer change).
    pub closed: bool,
}

async fn refuse_task<T>(ctx: &Ctx, caller: &Caller, task_id: i64) -> Result<T> {
    refuse(ctx, caller, "marking_task", format!("task:{task_id}")).await
}

pub async fn task(ctx: &Ctx, caller: &Caller, task_id: i64) -> Result<TaskView> {
    require(ctx, caller, Permission::Mark).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let found = ctx
        .db
        .read(move |conn| {
            let t = store_grading::find_task(conn, task_id)?.ok_or(Error::NotFound)?;
            if t.examiner_id != me {
                return Ok(None);
            }
            let item =
                store_exams::find_item_by_id(conn, t.attempt_item_id)?.ok_or(Error::NotFound)?;
            let attempt =
                store_exams::find_attempt(conn, item.attempt_id)?.ok_or(Error::NotFound)?;
            let exam = store_exams::find_exam(conn, t.exam_id)?.ok_or(Error::NotFound)?;
            let content = content_of(conn, item.version_id)?;
            let (model_answer, rubric) = rubric_of(&content)?;
            let answer = match store_exams::find_answer(conn, item.id)? {
                Some(a) => match serde_json::from_str::<Response>(&a.response) {
                    Ok(Response::Text { text }) => text,
                    _ => String::new(),
                },
                None => String::new(),
            };
            let marks = match &t.marks {
                Some(json) => Some(serde_json::from_str(json).map_err(Error::internal)?),
                None => None,
            };
            Ok(Some(TaskView {
                task_id: t.id,
                exam_title: exam.title,
                code: attempt.code.unwrap_or_default(),
                position: item.position,
                role: t.role,
                points: item.points,
                stem: content.stem.clone(),
                rubric: rubric
                    .iter()
                    .map(|c| RubricLine {
                        criterion: c.criterion.clone(),
                        points: c.points,
                    })
                    .collect(),
                model_answer: model_answer.to_owned(),
                answer,
                marks,
                total: t.total,
                due_at: utc(t.due_at),
                closed: item.score.is_some() || exam.results_released_at.is_some(),
            }))
        })
        .await?;
    match found {
        Some(v) => Ok(v),
        None => refuse_task(ctx, caller, task_id).await,
    }
}

/// Records (or, until the answer's final mark, changes) an examiner's
/// marking. Each criterion gets 0 to its points in half points, and a
/// comment. When the markings agree the final mark is set; when they
/// disagree a third examiner is given the answer.
pub async fn submit_marks(
    ctx: &Ctx,
    caller: &Caller,
    task_id: i64,
    marks: Vec<CriterionMark>,
) -> Result<()> {
    require(ctx, caller, Permission::Mark).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let base = audit::event(caller, "mark.submit", None, Outcome::Ok);
    let public_url = ctx.settings.public_url.clone();
    let noted = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let t = store_grading::find_task(conn, task_id)?.ok_or(Error::NotFound)?;
            if t.examiner_id != me {
                return Ok(None);
            }
            let item =
                store_exams::find_item_by_id(conn, t.attempt_item_id)?.ok_or(Error::NotFound)?;
            let exam = store_exams::find_exam(conn, t.exam_id)?.ok_or(Error::NotFound)?;
            let appeal = if t.role == MarkerRole::Appeal.number() {
                let appeal = store_grading::appeal_of_item(conn, item.id)?
                    .filter(|a| a.status == "open")
                    .ok_or_else(|| Error::conflict("marks", "this appeal has been decided"))?;
                Some(appeal)
            } else {
                if item.score.is_some() || exam.results_released_at.is_some() {
                    return Err(Error::conflict(
                        "marks",
                        "this answer's final mark is set; its marks can no longer change",
                    ));
                }
                None
            };
            let content = content_of(conn, item.version_id)?;
            let (_, rubric) = rubric_of(&content)?;
            let total = check_marks(rubric, &marks)?;
            let json = serde_json::to_string(&marks).map_err(Error::internal)?;
            let action = if t.submitted_at.is_some() {
                "mark.change"
            } else {
                "mark.submit"
            };
            store_grading::save_marks(conn, t.id, &json, total, now)?;
            let saved = store_grading::find_task(conn, t.id)?.ok_or(Error::NotFound)?;
            let evidence = audit::mark_evidence(&saved)
                .ok_or_else(|| Error::internal("the marks were not saved"))?;
            let mut event = base.clone();
            event.action = action.to_owned();
            event.target = Some(format!("task:{} item:{} role:{}", t.id, item.id, t.role));
            event.detail = Some(format!(
                "before {} after {json}; {}",
                t.marks.as_deref().unwrap_or("none"),
                evidence.marker()
            ));
            audit::record(conn, &event)?;
            // An appeal's re-mark decides the final mark under the track's
            // rule; the outcome, with the re-marker's comments as its
            // reason, is recorded and told, and the candidate's case
            // follows the result either way.
            if let Some(appeal) = appeal {
                let remark = Remark {
                    total,
                    marks: &marks,
                };
                let candidate =
                    decide_appealed(conn, &exam, &item, &appeal, &remark, &public_url, now)?;
                return Ok(Some(vec![candidate]));
            }
            // Apply the final mark rule over the submitted markings.
            let tasks = store_grading::tasks_of_item(conn, item.id)?;
            let totals: Vec<f64> = tasks
                .iter()
                .filter(|t| t.submitted_at.is_some())
                .filter_map(|t| t.total)
                .collect();
            if totals.len() == tasks.len()
                && let Marking::Final(mark) = grading::marking(
                    &totals,
                    item.points.max(0) as u32,
                    exam.marking_tolerance.max(0) as u32,
                )
            {
                store_grading::set_final(conn, item.id, mark, now)?;
            }
            Ok(Some(Vec::new()))
        })
        .await?;
    let Some(noted) = noted else {
        return refuse_task(ctx, caller, task_id).await;
    };
    pipeline::settle(ctx, noted).await;
    // A disagreement needs a third marker now, not at the job's next round.
    let db = ctx.db.clone();
    store::blocking(move || allocate(&db)).await?;
    Ok(())
}

/// Checks marks against a rubric (one per criterion, 0 to its points in
/// half points, a comment of at most 2000 characters) and returns the total.
/// Used for case answers and practical stations alike.
fn check_marks(rubric: &[crate::domain::banks::Criterion], marks: &[CriterionMark]) -> Result<f64> {
    if marks.len() != rubric.len() {
        return Err(Error::invalid(
            "marks",
            format!("mark each of the {} criteria", rubric.len()),
        ));
    }
    for (i, (m, c)) in marks.iter().zip(rubric).enumerate() {
        if !grading::valid_criterion_mark(m.points, c.points) {
            return Err(Error::invalid(
                format!("marks[{i}]"),
                format!("must be 0 to {} in half points", c.points),
            ));
        }
        if m.comment.chars().count() > 2000 {
            return Err(Error::invalid(
                format!("marks[{i}]"),
                "the comment is longer than 2000 characters",
            ));
        }
    }
    Ok(marks.iter().map(|m| m.points).sum())
}

/// An appeal's re-mark: its total and the criterion marks with comments.
struct Remark<'a> {
    total: f64,
    marks: &'a [CriterionMark],
}

/// The appeal rule of an exam's track (the default when the track is not
/// known).
pub(crate) fn appeal_rule_of(conn: &mut DbConn, track_key: &str) -> Result<AppealRule> {
    Ok(store_training::find_track(conn, track_key)?
        .map(|t| crate::services::pipeline::policy_of(&t).appeal_rule)
        .unwrap_or_default())
}

/// Applies an appeal's re-mark: the track's rule decides the final mark
/// (`domain::grading::decide_appeal`); the appeal is closed with its
/// outcome, the candidate is told what the re-mark did (and whether the
/// result now passes or fails), and their case follows the result.
fn decide_appealed(
    conn: &mut DbConn,
    exam: &store_exams::ExamRow,
    item: &store_exams::ItemRow,
    appeal: &store_grading::AppealRow,
    re: &Remark<'_>,
    public_url: &str,
    now: chrono::NaiveDateTime,
) -> Result<i64> {
    let (remark, marks) = (re.total, re.marks);
    let rule = appeal_rule_of(conn, &exam.track)?;
    let (final_mark, effect) = grading::decide_appeal(rule, appeal.mark_before, remark);
    let attempt = store_exams::find_attempt(conn, item.attempt_id)?.ok_or(Error::NotFound)?;
    let before = evidence::released_result(conn, &attempt, exam)?;
    if effect.changes_mark() {
        store_grading::set_final(conn, item.id, final_mark, now)?;
    }
    let outcome = appeal_outcome(appeal.mark_before, remark, final_mark, effect, rule, marks);
    store_grading::decide_appeal(
        conn,
        appeal.id,
        &store_grading::AppealDecision {
            mark_after: remark,
            mark_final: final_mark,
            rule: rule.as_str(),
            outcome: &outcome,
        },
        now,
    )?;
    store_exams::record_event(conn, attempt.id, "appeal_decided", Some(&outcome), now)?;
    let after = evidence::released_result(conn, &attempt, exam)?;
    if let Some(person) = people::find(conn, attempt.person_id)? {
        mail::enqueue(
            conn,
            &person.email,
            &person.name,
            Locale::parse(&person.locale).unwrap_or_default(),
            &Message::AppealDecided {
                name: person.name.clone(),
                exam: exam.title.clone(),
                position: item.position,
                before: appeal.mark_before,
                remark,
                final_mark,
                effect,
                passed_before: before.map(|r| r.passed),
                passed_after: after.map(|r| r.passed),
                link: format!("{public_url}/attempts/{}/result", attempt.id),
            },
            now,
        )?;
        // The decided appeal may move the candidate's case, on or back.
        store::certification::note_due(conn, person.id, "appeal_decided", now)?;
    }
    Ok(attempt.person_id)
}

/// The recorded outcome of an appeal: what the re-mark did under the rule,
/// and the re-marker's comments.
fn appeal_outcome(
    before: f64,
    remark: f64,
    final_mark: f64,
    effect: AppealEffect,
    rule: AppealRule,
    marks: &[CriterionMark],
) -> String {
    let comments: Vec<&str> = marks
        .iter()
        .map(|m| m.comment.trim())
        .filter(|c| !c.is_empty())
        .collect();
    let change = match effect {
        AppealEffect::Unchanged => format!("mark unchanged at {final_mark}"),
        AppealEffect::Raised | AppealEffect::Lowered => {
            format!("mark changed from {before} to {final_mark}")
        }
        AppealEffect::LowerNotApplied => format!(
            "re-marked {remark}, lower than {before}; the mark stays at {before} ({})",
            rule.as_str()
        ),
    };
    if comments.is_empty() {
        change
    } else {
        format!("{change}: {}", comments.join("; "))
    }
}

/// An appeal against the mark of one question, and its outcome.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    /// The question's position on the paper.
    pub position: i32,
    /// The candidate's reason.
    pub reason: String,
    /// `open` or `decided`.
    pub status: String,
    /// The question's mark when the appeal was made, in points.
    pub mark_before: f64,
    /// The re-marker's total.
    pub mark_after: Option<f64>,
    /// The mark that counts after the appeal: the re-mark, or under the
    /// `no_detriment` rule the higher of the two.
    pub mark_final: Option<f64>,
    /// The track's appeal rule the appeal was decided under.
    pub rule: Option<AppealRule>,
    /// What the re-mark did, with the re-marker's comments, in words; null while open.
    pub outcome: Option<String>,
    /// When the appeal was made (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
}

impl AppealView {
    fn of(a: store_grading::AppealRow, position: i32) -> AppealView {
        AppealView {
            position,
            reason: a.reason,
            status: a.status,
            mark_before: a.mark_before,
            mark_after: a.mark_after,
            mark_final: a.mark_final,
            rule: a.rule.as_deref().and_then(AppealRule::parse),
            outcome: a.outcome,
            created_at: utc(a.created_at),
        }
    }
}

/// A candidate appeals the mark of one of their open answers, with a
/// reason, within the exam's appeal period after results are out. An
/// examiner who has not marked that answer (and is not from the candidate's
/// institution) re-marks it.
pub async fn appeal(
    ctx: &Ctx,
    caller: &Caller,
    attempt_id: i64,
    position: i32,
    reason: &str,
) -> Result<AppealView> {
    let me = person(ctx, caller).await?.id;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "say why the mark should be reviewed",
        ));
    }
    if reason.chars().count() > 2000 {
        return Err(Error::invalid("reason", "is longer than 2000 characters"));
    }
    let event = audit::event(
        caller,
        "appeal",
        Some(format!("attempt:{attempt_id} question:{position}")),
        Outcome::Ok,
    );
    let public_url = ctx.settings.public_url.clone();
    let tz = ctx.settings.time_zone;
    let found = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let attempt = store_exams::find_attempt(conn, attempt_id)?.ok_or(Error::NotFound)?;
            if attempt.person_id != me {
                return Ok(None);
            }
            let exam = store_exams::find_exam(conn, attempt.exam_id)?.ok_or(Error::NotFound)?;
            if !grading::appeal_open(exam.results_released_at, exam.appeal_days.max(0) as u32, now) {
                return Err(Error::conflict("appeal", "appeals are taken only in the appeal period after results are released"));
            }
            // A closed case never moves again, so the result it was decided
            // on can no longer change (the committee's decision waits for
            // appeals filed before it).
            if let Some(closed) = crate::services::pipeline::closed_case_of(conn, &attempt, &exam)? {
                return Err(Error::conflict("appeal", format!("the certification case this result counted for is closed ({closed}); its results can no longer be appealed")));
            }
            let item = store_exams::find_item(conn, attempt.id, position)?
                .ok_or_else(|| Error::invalid("position", format!("the paper has no question {position}")))?;
            let tasks = store_grading::tasks_of_item(conn, item.id)?;
            let Some(mark_before) = item.score.filter(|_| !tasks.is_empty()) else {
                return Err(Error::invalid("position", "only an examiner-marked answer can be appealed"));
            };
            if store_grading::appeal_of_item(conn, item.id)?.is_some() {
                return Err(Error::conflict("position", "this answer has already been appealed"));
            }
            let examiners: Vec<Examiner> = store_grading::examiners(conn)?
                .into_iter()
                .map(|(id, institution_id)| Examiner { id, institution_id })
                .collect();
            let mut load: HashMap<i64, u32> = store_grading::open_load(conn)?
                .into_iter()
                .map(|(id, n)| (id, n.max(0) as u32))
                .collect();
            let markers: Vec<i64> = tasks.iter().map(|t| t.examiner_id).collect();
            let institution = people::find(conn, me)?.and_then(|p| p.institution_id);
            let examiner = grading::pick_examiner(&examiners, institution, &markers, &mut load)
                .ok_or_else(|| Error::conflict("appeal", "no examiner who has not marked this answer is available; contact the alliance office"))?;
            store_grading::insert_appeal(conn, attempt.id, item.id, &reason, mark_before, now)?;
            store_grading::insert_task(
                conn,
                &NewTask {
                    exam_id: exam.id,
                    item_id: item.id,
                    examiner_id: examiner,
                    role: MarkerRole::Appeal.number(),
                    due_at: now + Duration::days(i64::from(exam.marking_days.max(1))),
                },
                now,
            )?;
            store_exams::record_event(conn, attempt.id, "appealed", Some(&format!("question {position}")), now)?;
            audit::record(conn, &event)?;
            // The re-marker is told at once: the answer waits for them.
            let task = store_grading::tasks_of_item(conn, item.id)?
                .into_iter()
                .find(|t| t.role == MarkerRole::Appeal.number());
            if let (Some(task), Some(re_marker)) = (task, people::find(conn, examiner)?) {
                mail::enqueue(
                    conn,
                    &re_marker.email,
                    &re_marker.name,
                    Locale::parse(&re_marker.locale).unwrap_or_default(),
                    &Message::RemarkAssigned {
                        name: re_marker.name.clone(),
                        exam: exam.title.clone(),
                        code: attempt.code.clone().unwrap_or_default(),
                        position,
                        due: utc(task.due_at).with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                        link: format!("{public_url}/marking/{}", task.id),
                    },
                    now,
                )?;
            }
            let row = store_grading::appeal_of_item(conn, item.id)?.ok_or(Error::NotFound)?;
            Ok(Some(AppealView::of(row, position)))
        })
        .await?;
    match found {
        Some(v) => Ok(v),
        None => refuse(ctx, caller, "appeal", format!("attempt:{attempt_id}")).await,
    }
}

/// Who wrote a coded attempt: for an admin who must know (a complaint, a
/// suspected irregularity). Every reveal is in the audit trail with who and
/// when.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Identity {
    /// The attempt's blind code.
    pub code: String,
    /// The attempt's id.
    pub attempt_id: i64,
    /// The candidate's person id.
    pub person_id: i64,
    /// The candidate's name.
    pub name: String,
}

pub async fn reveal(ctx: &Ctx, caller: &Caller, code: &str, reason: &str) -> Result<Identity> {
    require(ctx, caller, Permission::ManageExams).await?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::invalid(
            "reason",
            "say why the candidate's identity is needed",
        ));
    }
    let code = code.trim().to_uppercase();
    let mut event = audit::event(
        caller,
        "identity.reveal",
        Some(format!("code:{code}")),
        Outcome::Ok,
    );
    event.detail = Some(reason);
    ctx.db
        .write(move |conn| {
            let attempt = store_grading::attempt_by_code(conn, &code)?.ok_or(Error::NotFound)?;
            let person = people::find(conn, attempt.person_id)?.ok_or(Error::NotFound)?;
            audit::record(conn, &event)?;
            Ok(Identity {
                code,
                attempt_id: attempt.id,
                person_id: person.id,
                name: person.name,
            })
        })
        .await
}

// ----- releasing results -----

/// How far an exam's marking is, for its admins.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkingStatus {
    /// Marking tasks given out.
    pub tasks: i64,
    /// Tasks submitted.
    pub submitted: i64,
    /// Tasks not submitted and past due.
    pub late: i64,
    /// Attempts started and not yet submitted.
    pub open_attempts: i64,
    /// Questions of submitted attempts without a final score (results wait for them).
    pub unmarked_items: i64,
    /// When results were released (RFC 3339 UTC); null until then.
    pub released_at: Option<DateTime<Utc>>,
}

pub async fn marking_status(ctx: &Ctx, caller: &Caller, exam_id: i64) -> Result<MarkingStatus> {
    require(ctx, caller, Permission::ManageExams).await?;
    ctx.db
        .read(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            let (tasks, submitted, late) = store_grading::task_counts(conn, exam_id, store::now())?;
            let (open_attempts, unmarked_items) = store_grading::unfinished(conn, exam_id)?;
            Ok(MarkingStatus {
                tasks,
                submitted,
                late,
                open_attempts,
                unmarked_items,
                released_at: exam.results_released_at.map(utc),
            })
        })
        .await
}

/// The exam's owner releases its results once every attempt is submitted and
/// every answer has its final mark; each candidate is emailed.
pub async fn release(ctx: &Ctx, caller: &Caller, exam_id: i64) -> Result<()> {
    require(ctx, caller, Permission::ManageExams).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let public_url = ctx.settings.public_url.clone();
    let event = audit::event(
        caller,
        "exam.release",
        Some(format!("exam:{exam_id}")),
        Outcome::Ok,
    );
    let noted = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let Some(exam) = super::exams::owned_exam(conn, exam_id, me)? else {
                return Ok(None);
            };
            if exam.results_released_at.is_some() {
                return Ok(Some(Vec::new()));
            }
            if now < exam.closes_at {
                return Err(Error::conflict("exam", "the exam is still open"));
            }
            let (open, unmarked) = store_grading::unfinished(conn, exam_id)?;
            if open > 0 {
                return Err(Error::conflict("exam", "attempts are still being taken"));
            }
            let flagged = crate::services::analysis::open_flags(conn, exam_id)?;
            if flagged > 0 {
                return Err(Error::conflict(
                    "exam",
                    format!("{flagged} flagged questions wait for the committee's review"),
                ));
            }
            if unmarked > 0 {
                return Err(Error::conflict(
                    "exam",
                    format!("marking is not complete: {unmarked} answers have no final mark"),
                ));
            }
            store_grading::release(conn, exam_id, now)?;
            let mut candidates = Vec::new();
            for attempt in store_grading::submitted_attempts(conn, exam_id)? {
                if let Some(person) = people::find(conn, attempt.person_id)? {
                    mail::enqueue(
                        conn,
                        &person.email,
                        &person.name,
                        Locale::parse(&person.locale).unwrap_or_default(),
                        &Message::ResultsOut {
                            name: person.name.clone(),
                            exam: exam.title.clone(),
                            link: format!("{public_url}/attempts/{}/result", attempt.id),
                        },
                        now,
                    )?;
                    // A released result is evidence for the candidate's case.
                    store::certification::note_due(conn, person.id, "results_released", now)?;
                    candidates.push(person.id);
                }
            }
            audit::record(conn, &event)?;
            Ok(Some(candidates))
        })
        .await?;
    match noted {
        Some(candidates) => {
            pipeline::settle(ctx, candidates).await;
            Ok(())
        }
        None => refuse(ctx, caller, "exam.release", format!("exam:{exam_id}")).await,
    }
}

/// A candidate's score on one topic.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopicLine {
    /// The topic's key, as the question banks write it.
    pub topic: String,
    /// Its name in each language the bank gives (locale → name); empty
    /// when the bank names no topics.
    pub names: BTreeMap<String, String>,
    /// Points earned on the topic's questions.
    pub score: f64,
    /// Points its questions were worth.
    pub points: u32,
}

/// One question of a candidate's paper, with the right answer (the `full` review policy).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    /// Its position on the paper.
    pub position: i32,
    /// `single`, `multiple`, `true_false` or `case`.
    pub kind: String,
    /// The question.
    pub stem: String,
    /// Options in the order the candidate saw them (empty unless a choice question).
    pub options: Vec<String>,
    /// Positions (as shown to the candidate) of the correct options.
    pub correct_options: Vec<usize>,
    /// For a true/false question, the right answer; null otherwise.
    pub correct_answer: Option<bool>,
    /// What the candidate answered; null if unanswered.
    pub your_answer: Option<crate::domain::scoring::ShownAnswer>,
    /// Points earned.
    pub score: f64,
    /// Points it was worth.
    pub points: i32,
    /// Why the right answer is right.
    pub explanation: String,
    /// For a case question, the model answer; null otherwise.
    pub model_answer: Option<String>,
}

/// A candidate's result, as the exam's review policy allows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResultView {
    /// The attempt's id.
    pub attempt_id: i64,
    /// The exam's title.
    pub exam_title: String,
    /// Points earned.
    pub score: f64,
    /// Points on the paper.
    pub points: u32,
    /// The score in percent of the points, rounded down.
    pub percent: u32,
    /// The percent needed to pass.
    pub pass_mark: i32,
    /// Whether the candidate passed.
    pub passed: bool,
    /// The score per topic (always).
    pub by_topic: Vec<TopicLine>,
    /// With the `full` policy: every question with the correct answer.
    pub items: Vec<ReviewItem>,
    /// Her case answers as the examiners marked them, per rubric criterion
    /// with their comments (always: where she lost points; examiners
    /// unnamed).
    pub case_marks: Vec<CaseAnswer>,
    /// The candidate's appeals and their outcomes.
    pub appeals: Vec<AppealView>,
    /// Until when an appeal may be made.
    pub appeal_until: DateTime<Utc>,
    /// What a re-mark does under the track's rule: `remark_stands` (it
    /// replaces the mark, even when lower) or `no_detriment`.
    pub appeal_rule: AppealRule,
}

pub async fn result(ctx: &Ctx, caller: &Caller, attempt_id: i64) -> Result<ResultView> {
    let me = person(ctx, caller).await?.id;
    let found = ctx
        .db
        .read(move |conn| {
            let attempt = store_exams::find_attempt(conn, attempt_id)?.ok_or(Error::NotFound)?;
            if attempt.person_id != me {
                return Ok(None);
            }
            let exam = store_exams::find_exam(conn, attempt.exam_id)?.ok_or(Error::NotFound)?;
            if exam.results_released_at.is_none() || attempt.submitted_at.is_none() {
                return Err(Error::conflict("attempt", "results are not released yet"));
            }
            let policy =
                ReviewPolicy::parse(&exam.review_policy).unwrap_or(ReviewPolicy::ScoreOnly);
            let items = store_exams::items_of(conn, attempt.id)?;
            let answers = store_exams::answers_of(conn, attempt.id)?;
            let scores = evidence::item_scores(conn, &items)?;
            let mut review = Vec::new();
            for item in items.iter().filter(|i| !i.excluded) {
                if policy == ReviewPolicy::Full {
                    let version = store_banks::version_by_id(conn, item.version_id)?
                        .ok_or(Error::NotFound)?;
                    let content: Content =
                        serde_json::from_str(&version.content).map_err(Error::internal)?;
                    let order: Vec<usize> =
                        serde_json::from_str(&item.option_order).unwrap_or_default();
                    let response = answers
                        .iter()
                        .find(|a| a.attempt_item_id == item.id)
                        .and_then(|a| serde_json::from_str::<Response>(&a.response).ok());
                    review.push(review_item(item, &content, &order, response.as_ref()));
                }
            }
            let appeals = store_grading::appeals_of_attempt(conn, attempt.id)?
                .into_iter()
                .map(|a| {
                    let position = items
                        .iter()
                        .find(|i| i.id == a.attempt_item_id)
                        .map(|i| i.position)
                        .unwrap_or(0);
                    AppealView::of(a, position)
                })
                .collect();
            let case_marks = case_answers(conn, attempt.id)?;
            let appeal_rule = appeal_rule_of(conn, &exam.track)?;
            let appeal_until = utc(exam.results_released_at.unwrap_or(attempt.drawn_at))
                + Duration::days(i64::from(exam.appeal_days.max(0)));
            let r = grading::result(&scores, exam.pass_mark.max(0) as u32)
                .ok_or_else(|| Error::conflict("attempt", "results are not released yet"))?;
            Ok(Some(ResultView {
                attempt_id: attempt.id,
                exam_title: exam.title,
                score: r.score,
                points: r.points,
                percent: r.percent,
                pass_mark: exam.pass_mark,
                passed: r.passed,
                // Every candidate sees where they lost points; the review
                // policy governs only whether the questions are shown.
                by_topic: topic_lines(conn, r.by_topic)?,
                items: review,
                case_marks,
                appeals,
                appeal_until,
                appeal_rule,
            }))
        })
        .await?;
    match found {
        Some(v) => Ok(v),
        None => {
            refuse(
                ctx,
                caller,
                "attempt_result",
                format!("attempt:{attempt_id}"),
            )
            .await
        }
    }
}

/// A result's scores per topic, with the topics' names.
pub(crate) fn topic_lines(
    conn: &mut DbConn,
    by_topic: Vec<grading::TopicScore>,
) -> Result<Vec<TopicLine>> {
    let topics: Vec<String> = by_topic.iter().map(|t| t.topic.clone()).collect();
    let names = store_banks::topic_names_of(conn, &topics)?;
    Ok(by_topic
        .into_iter()
        .map(|t| TopicLine {
            names: names.of(&t.topic),
            topic: t.topic,
            score: t.score,
            points: t.points,
        })
        .collect())
}

fn review_item(
    item: &store_exams::ItemRow,
    content: &Content,
    order: &[usize],
    response: Option<&Response>,
) -> ReviewItem {
    use crate::domain::scoring::ShownAnswer;
    let (options, correct_options, correct_answer, model_answer) = match &content.body {
        Body::Single { options } | Body::Multiple { options } => (
            order
                .iter()
                .filter_map(|i| options.get(*i).map(|o| o.text.clone()))
                .collect(),
            order
                .iter()
                .enumerate()
                .filter(|(_, i)| options.get(**i).is_some_and(|o| o.correct))
                .map(|(shown, _)| shown)
                .collect(),
            None,
            None,
        ),
        Body::TrueFalse { answer } => (Vec::new(), Vec::new(), Some(*answer), None),
        Body::Case { model_answer, .. } => {
            (Vec::new(), Vec::new(), None, Some(model_answer.clone()))
        }
    };
    let your_answer = response.map(|r| match r {
        Response::Choices { options } => ShownAnswer::Positions(
            options
                .iter()
                .filter_map(|i| order.iter().position(|o| o == i))
                .collect(),
        ),
        Response::TrueFalse { value } => ShownAnswer::TrueFalse(*value),
        Response::Text { text } => ShownAnswer::Text(text.clone()),
    });
    ReviewItem {
        position: item.position,
        kind: content.body.kind().as_str().to_owned(),
        stem: content.stem.clone(),
        options,
        correct_options,
        correct_answer,
        your_answer,
        score: item.score.unwrap_or(0.0),
        points: item.points,
        explanation: content.explanation.clone(),
        model_answer,
    }
}

// ----- standard setting (modified Angoff) -----

/// A question of an exam's standard setting, with the caller's rating.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatedQuestion {
    /// The question's id.
    pub question_id: i64,
    /// Its id in its bank.
    pub key: String,
    /// The question.
    pub stem: String,
    /// Points on the paper (its blueprint section's).
    pub points: u32,
    /// Its weight in the cut score: its expected points on a paper, points ×
    /// the share of its blueprint cell a paper draws (mix / cell size).
    pub weight: f64,
    /// The caller's own rating, if any (others' stay private).
    pub my_rating: Option<f64>,
}

/// A standard-setting round (modified Angoff) for an exam.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SettingView {
    /// The round's id.
    pub id: i64,
    /// The exam's id.
    pub exam_id: i64,
    /// Standard settings are numbered per exam; the approved one sets the
    /// exam's pass mark.
    pub version: i32,
    /// `rating` or `approved`.
    pub status: String,
    /// The questions to rate.
    pub questions: Vec<RatedQuestion>,
    /// Raters who have rated every question.
    pub complete_raters: usize,
    /// Raters needed before a cut score is computed.
    pub min_raters: usize,
    /// The cut score in percent of a paper's points, once enough raters are
    /// complete.
    pub cut_score: Option<f64>,
    /// The pass mark the cut score sets (rounded up).
    pub pass_mark: Option<u32>,
}

/// A question a paper of the exam can hold.
struct PoolQuestion {
    question_id: i64,
    key: String,
    stem: String,
    points: u32,
    /// Expected points on a paper (see `domain::papers::Share::weight`).
    weight: f64,
}

/// The questions a paper of the exam can hold, with their points and
/// their weights on the paper.
fn exam_pool(conn: &mut DbConn, exam: &store_exams::ExamRow) -> Result<Vec<PoolQuestion>> {
    let blueprint: crate::domain::papers::Blueprint =
        serde_json::from_str(&exam.blueprint).map_err(Error::internal)?;
    let mut candidates = Vec::new();
    let mut stems = HashMap::new();
    for v in store_banks::drawable(conn, &exam.track)? {
        let content: Content = serde_json::from_str(&v.content).map_err(Error::internal)?;
        candidates.push(crate::domain::papers::Candidate {
            version_id: v.id,
            question_id: v.question_id,
            topic: v.topic,
            difficulty: v.difficulty.clamp(1, 5) as u8,
            kind: content.body.kind(),
            options: 0,
            exposure: 0,
        });
        stems.insert(v.question_id, content.stem);
    }
    let mut out = Vec::new();
    for share in crate::domain::papers::shares(&blueprint, &candidates) {
        let key = store_banks::question_key(conn, share.question_id)?.unwrap_or_default();
        out.push(PoolQuestion {
            question_id: share.question_id,
            key,
            stem: stems.remove(&share.question_id).unwrap_or_default(),
            points: share.points,
            weight: share.weight(),
        });
    }
    Ok(out)
}

/// Where a round's ratings stand: raters who rated every question, and the
/// cut score (the approved one, or the current one once enough raters are
/// complete).
fn tally_setting(
    setting: &store_grading::SettingRow,
    pool: &[PoolQuestion],
    ratings: &[(i64, i64, f64)],
) -> (usize, Option<f64>) {
    let weights: HashMap<i64, f64> = pool.iter().map(|q| (q.question_id, q.weight)).collect();
    let mut raters: Vec<i64> = ratings.iter().map(|r| r.0).collect();
    raters.sort_unstable();
    raters.dedup();
    let complete_raters = raters
        .iter()
        .filter(|r| {
            weights
                .keys()
                .all(|q| ratings.iter().any(|x| x.0 == **r && x.1 == *q))
        })
        .count();
    let cut = setting
        .cut_score
        .or_else(|| grading::angoff_cut(ratings, &weights));
    (complete_raters, cut)
}

fn setting_view(
    conn: &mut DbConn,
    setting: &store_grading::SettingRow,
    me: i64,
) -> Result<SettingView> {
    let exam = store_exams::find_exam(conn, setting.exam_id)?.ok_or(Error::NotFound)?;
    let pool = exam_pool(conn, &exam)?;
    let ratings = store_grading::ratings_of(conn, setting.id)?;
    let (complete_raters, cut) = tally_setting(setting, &pool, &ratings);
    Ok(SettingView {
        id: setting.id,
        exam_id: setting.exam_id,
        version: setting.version,
        status: setting.status.clone(),
        questions: pool
            .into_iter()
            .map(|q| RatedQuestion {
                my_rating: ratings
                    .iter()
                    .find(|r| r.0 == me && r.1 == q.question_id)
                    .map(|r| r.2),
                question_id: q.question_id,
                key: q.key,
                stem: q.stem,
                points: q.points,
                weight: q.weight,
            })
            .collect(),
        complete_raters,
        min_raters: grading::MIN_RATERS,
        cut_score: cut,
        pass_mark: cut.map(grading::pass_mark_from_cut),
    })
}

/// One round of standard setting, as the exam shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SettingLine {
    /// The round's id.
    pub id: i64,
    /// Its number for the exam.
    pub version: i32,
    /// `rating` or `approved`.
    pub status: String,
    /// Raters who have rated every question.
    pub complete_raters: usize,
    /// The cut score in percent of a paper's points: the approved one, or
    /// the current one once enough raters are complete.
    pub cut_score: Option<f64>,
    /// The pass mark the cut score sets (rounded up).
    pub pass_mark: Option<u32>,
    /// When it was opened (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
    /// When it was approved (RFC 3339 UTC); null until then.
    pub approved_at: Option<DateTime<Utc>>,
    /// The committee member who approved it.
    pub approved_by: Option<String>,
}

/// An exam as its owners, admins and the committee see it.
#[derive(Debug, Clone)]
pub struct ExamDetail {
    pub exam: store_exams::ExamRow,
    /// The admin who scheduled it (who releases its results).
    pub owner: Option<String>,
    /// The standard-setting rounds, oldest first.
    pub standard_settings: Vec<SettingLine>,
    /// The round whose approval set the pass mark; `None`: the pass mark
    /// is the one fixed when the exam was scheduled.
    pub pass_mark_set_by: Option<i32>,
    /// Until when candidates may appeal, once results are out.
    pub appeal_until: Option<DateTime<Utc>>,
}

/// An exam with its window, pass mark, blueprint and standard-setting
/// rounds: for admins (exam owners among them) and the committee. The
/// seeds of candidates' papers are shown where the committee sees an
/// attempt: each exam of a case's dossier.
pub async fn exam_detail(ctx: &Ctx, caller: &Caller, exam_id: i64) -> Result<ExamDetail> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    ctx.db
        .read(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            let owner = match exam.created_by {
                Some(id) => people::find(conn, id)?.map(|p| p.name),
                None => None,
            };
            let rows = store_grading::settings_of(conn, exam.id)?;
            let pool = if rows.is_empty() {
                Vec::new()
            } else {
                exam_pool(conn, &exam)?
            };
            let mut standard_settings = Vec::with_capacity(rows.len());
            for row in &rows {
                let ratings = store_grading::ratings_of(conn, row.id)?;
                let (complete_raters, cut) = tally_setting(row, &pool, &ratings);
                let approved_by = match row.approved_by {
                    Some(id) => people::find(conn, id)?.map(|p| p.name),
                    None => None,
                };
                standard_settings.push(SettingLine {
                    id: row.id,
                    version: row.version,
                    status: row.status.clone(),
                    complete_raters,
                    cut_score: cut,
                    pass_mark: cut.map(grading::pass_mark_from_cut),
                    created_at: utc(row.created_at),
                    approved_at: row.approved_at.map(utc),
                    approved_by,
                });
            }
            // Approving a round sets the pass mark: the last approved one did.
            let pass_mark_set_by = rows
                .iter()
                .filter(|r| r.approved_at.is_some())
                .max_by_key(|r| r.approved_at)
                .map(|r| r.version);
            let appeal_until = exam
                .results_released_at
                .map(|r| utc(r) + Duration::days(i64::from(exam.appeal_days.max(0))));
            Ok(ExamDetail {
                exam,
                owner,
                standard_settings,
                pass_mark_set_by,
                appeal_until,
            })
        })
        .await
}

/// Opens a new round of standard setting for an exam whose results are not
/// out (committee and admins).
pub async fn open_setting(ctx: &Ctx, caller: &Caller, exam_id: i64) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .write(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            if exam.results_released_at.is_some() {
                return Err(Error::conflict(
                    "exam",
                    "results are out; the pass mark can no longer change",
                ));
            }
            let setting = store_grading::new_setting(conn, exam_id, store::now())?;
            setting_view(conn, &setting, me)
        })
        .await
}

pub async fn get_setting(ctx: &Ctx, caller: &Caller, id: i64) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .read(move |conn| {
            let setting = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            setting_view(conn, &setting, me)
        })
        .await
}

/// A committee member's ratings: for each question, the probability (0 to
/// 1) that a borderline candidate answers it right.
pub async fn rate(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    ratings: Vec<(i64, f64)>,
) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let actor = person(ctx, caller).await?;
    if !actor.has(crate::domain::roles::Role::Committee) {
        return refuse(ctx, caller, "authorise", "committee_only".to_owned()).await;
    }
    ctx.db
        .write(move |conn| {
            let setting = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            if setting.status != "rating" {
                return Err(Error::conflict(
                    "setting",
                    "this standard setting is approved",
                ));
            }
            let exam = store_exams::find_exam(conn, setting.exam_id)?.ok_or(Error::NotFound)?;
            let pool = exam_pool(conn, &exam)?;
            for (i, (question, p)) in ratings.iter().enumerate() {
                if !pool.iter().any(|q| q.question_id == *question) {
                    return Err(Error::invalid(
                        format!("ratings[{i}]"),
                        "not a question of this exam",
                    ));
                }
                if !grading::valid_probability(*p) {
                    return Err(Error::invalid(
                        format!("ratings[{i}]"),
                        "a probability from 0 to 1",
                    ));
                }
                store_grading::save_rating(conn, id, actor.id, *question, *p)?;
            }
            setting_view(conn, &setting, actor.id)
        })
        .await
}

/// The committee approves the cut score; it becomes the exam's pass mark
/// (rounded up), recorded with the round's version.
pub async fn approve_setting(ctx: &Ctx, caller: &Caller, id: i64) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let actor = person(ctx, caller).await?;
    if !actor.has(crate::domain::roles::Role::Committee) {
        return refuse(ctx, caller, "authorise", "committee_only".to_owned()).await;
    }
    let mut event = audit::event(
        caller,
        "standard.approve",
        Some(format!("setting:{id}")),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let setting = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            let exam = store_exams::find_exam(conn, setting.exam_id)?.ok_or(Error::NotFound)?;
            if exam.results_released_at.is_some() {
                return Err(Error::conflict(
                    "exam",
                    "results are out; the pass mark can no longer change",
                ));
            }
            let view = setting_view(conn, &setting, actor.id)?;
            let (Some(cut), Some(pass)) = (view.cut_score, view.pass_mark) else {
                return Err(Error::conflict(
                    "setting",
                    format!(
                        "at least {} committee members must rate every question",
                        grading::MIN_RATERS
                    ),
                ));
            };
            if store_grading::approve_setting(conn, id, cut, actor.id, now)? == 0 {
                return Err(Error::conflict(
                    "setting",
                    "this standard setting is approved",
                ));
            }
            store_grading::set_pass_mark(conn, exam.id, pass as i32)?;
            event.detail = Some(format!(
                "exam {} version {}: cut {cut:.2}%, pass mark {pass}%",
                exam.id, setting.version
            ));
            audit::record(conn, &event)?;
            let approved = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            setting_view(conn, &approved, actor.id)
        })
        .await
}

// ----- practical stations -----

/// A practical assessment station: what is scored and how.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StationView {
    /// The station's id.
    pub id: i64,
    /// The track's key.
    pub track: String,
    /// Its title.
    pub title: String,
    /// Percent of the points needed to pass.
    pub pass_percent: i32,
    /// The rubric's total points.
    pub points: u32,
    /// The rubric, in order.
    pub rubric: Vec<RubricLine>,
    /// The model answer of the case question whose rubric the station uses.
    pub model_answer: String,
}

fn station_view(conn: &mut DbConn, s: &store_grading::StationRow) -> Result<StationView> {
    let content = content_of(conn, s.version_id)?;
    let (model_answer, rubric) = rubric_of(&content)?;
    Ok(StationView {
        id: s.id,
        track: s.track.clone(),
        title: s.title.clone(),
        pass_percent: s.pass_percent,
        points: rubric.iter().map(|c| c.points).sum(),
        rubric: rubric
            .iter()
            .map(|c| RubricLine {
                criterion: c.criterion.clone(),
                points: c.points,
            })
            .collect(),
        model_answer: model_answer.to_owned(),
    })
}

/// An admin sets up a skills station: its rubric is a case question of the
/// track's exam banks (by its id in the bank).
pub async fn create_station(
    ctx: &Ctx,
    caller: &Caller,
    track: &str,
    title: &str,
    question_key: &str,
    pass_percent: i64,
) -> Result<StationView> {
    require(ctx, caller, Permission::ManageExams).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    if title.trim().is_empty() {
        return Err(Error::invalid("title", "must not be empty"));
    }
    if !(1..=100).contains(&pass_percent) {
        return Err(Error::invalid("pass_percent", "must be 1 to 100"));
    }
    let (track, title, key) = (
        track.to_owned(),
        title.trim().to_owned(),
        question_key.to_owned(),
    );
    let event = audit::event(
        caller,
        "station.create",
        Some(format!("{track}/{key}")),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let mut version = None;
            for v in store_banks::drawable(conn, &track)?
                .into_iter()
                .filter(|v| v.kind == "case")
            {
                if store_banks::question_key(conn, v.question_id)?.as_deref() == Some(key.as_str())
                {
                    version = Some(v.id);
                    break;
                }
            }
            let version = version.ok_or_else(|| {
                Error::invalid(
                    "question",
                    "not a case question with a rubric in this track's exam banks",
                )
            })?;
            let row = store_grading::insert_station(
                conn,
                &track,
                &title,
                version,
                pass_percent as i32,
                me,
                store::now(),
            )?;
            audit::record(conn, &event)?;
            station_view(conn, &row)
        })
        .await
}

/// A doctor's result at a practical station.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticalView {
    /// The station's id.
    pub station_id: i64,
    /// The station's title.
    pub station: String,
    /// The doctor's person id.
    pub person_id: i64,
    /// Points earned.
    pub total: f64,
    /// Points possible.
    pub points: i32,
    /// Whether the total reaches the station's pass percent.
    pub passed: bool,
    /// The marks, one per rubric criterion.
    pub marks: Vec<CriterionMark>,
    /// When it was recorded (RFC 3339 UTC).
    pub observed_at: DateTime<Utc>,
}

fn practical_view(r: &store_grading::PracticalRow, station: &str) -> Result<PracticalView> {
    Ok(PracticalView {
        station_id: r.station_id,
        station: station.to_owned(),
        person_id: r.person_id,
        total: r.total,
        points: r.points,
        passed: r.passed,
        marks: serde_json::from_str(&r.marks).map_err(Error::internal)?,
        observed_at: utc(r.observed_at),
    })
}

/// The examiner who observed a candidate at a station enters the marks
/// against its rubric. Not for a candidate of the examiner's own
/// institution; a result can be corrected only by the examiner who entered
/// it; every entry and change is audited.
/// Who was observed: by id (the API) or by email (the examiner's page).
#[derive(Debug, Clone)]
pub enum CandidateRef {
    Id(i64),
    Email(String),
}

pub async fn record_practical(
    ctx: &Ctx,
    caller: &Caller,
    station_id: i64,
    candidate: CandidateRef,
    marks: Vec<CriterionMark>,
) -> Result<PracticalView> {
    require(ctx, caller, Permission::Mark).await?;
    let examiner = caller.actor().cloned().ok_or(Error::Forbidden)?;
    let mut event = audit::event(caller, "practical.record", None, Outcome::Ok);
    let (view, person_id) = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let person_id = match &candidate {
                CandidateRef::Id(id) => *id,
                CandidateRef::Email(email) => {
                    people::find_by_email(conn, &email.trim().to_lowercase())?
                        .map(|p| p.id)
                        .ok_or_else(|| Error::invalid("person_id", "no candidate has this email"))?
                }
            };
            event.target = Some(format!("station:{station_id} person:{person_id}"));
            let station = store_grading::find_station(conn, station_id)?.ok_or(Error::NotFound)?;
            let candidate = people::find(conn, person_id)?
                .filter(|p| p.active)
                .ok_or_else(|| Error::invalid("person_id", "not an active candidate"))?;
            if !people::roles_of(conn, person_id)?.contains(&crate::domain::roles::Role::Doctor) {
                return Err(Error::invalid("person_id", "not a doctor"));
            }
            if !grading::may_mark(examiner.institution_id, candidate.institution_id) {
                return Err(Error::conflict(
                    "person_id",
                    "an examiner does not assess a candidate from their own institution",
                ));
            }
            if let Some(existing) = store_grading::find_practical(conn, station_id, person_id)?
                && existing.examiner_id != examiner.id
            {
                return Err(Error::conflict(
                    "person_id",
                    "another examiner has recorded this candidate's result",
                ));
            }
            let content = content_of(conn, station.version_id)?;
            let (_, rubric) = rubric_of(&content)?;
            let total = check_marks(rubric, &marks)?;
            let points: u32 = rubric.iter().map(|c| c.points).sum();
            let passed = grading::result(
                &[ItemScore {
                    topic: String::new(),
                    points,
                    score: Some(total),
                }],
                station.pass_percent.max(0) as u32,
            )
            .is_some_and(|r| r.passed);
            let json = serde_json::to_string(&marks).map_err(Error::internal)?;
            store_grading::save_practical(
                conn,
                &store_grading::NewPractical {
                    station_id,
                    person_id,
                    examiner_id: examiner.id,
                    marks: &json,
                    total,
                    points: points as i32,
                    passed,
                    observed_at: now,
                },
                now,
            )?;
            event.detail = Some(format!("total {total}/{points}, passed {passed}: {json}"));
            audit::record(conn, &event)?;
            // A practical result is evidence for the doctor's case.
            store::certification::note_due(conn, person_id, "practical_recorded", now)?;
            let row = store_grading::find_practical(conn, station_id, person_id)?
                .ok_or(Error::NotFound)?;
            Ok((practical_view(&row, &station.title)?, person_id))
        })
        .await?;
    pipeline::settle(ctx, vec![person_id]).await;
    Ok(view)
}

/// A doctor's practical results: their own, or anyone's for an admin.
pub async fn practicals(
    ctx: &Ctx,
    caller: &Caller,
    person_id: Option<i64>,
) -> Result<Vec<PracticalView>> {
    let me = person(ctx, caller).await?.id;
    let person = match person_id {
        Some(id) if id != me => {
            require(ctx, caller, Permission::ManageExams).await?;
            id
        }
        _ => me,
    };
    ctx.db
        .read(move |conn| {
            store_grading::practicals_of(conn, person)?
                .iter()
                .map(|(r, s)| practical_view(r, &s.title))
                .collect()
        })
        .await
}

/// The practical stations (examiners, to record; admins, to manage).
pub async fn stations(ctx: &Ctx, caller: &Caller) -> Result<Vec<StationView>> {
    if !crate::domain::access::permits(&caller.principal, Permission::Mark) {
        require(ctx, caller, Permission::ManageExams).await?;
    }
    ctx.db
        .read(|conn| {
            store_grading::list_stations(conn)?
                .iter()
                .map(|s| station_view(conn, s))
                .collect()
        })
        .await
}

pub async fn station(ctx: &Ctx, caller: &Caller, id: i64) -> Result<StationView> {
    require(ctx, caller, Permission::Mark).await?;
    ctx.db
        .read(move |conn| {
            let s = store_grading::find_station(conn, id)?.ok_or(Error::NotFound)?;
            station_view(conn, &s)
        })
        .await
}

// ----- case answers as marked (the committee's dossier, the candidate's result) -----

/// An examiner's marks of one case answer (examiners stay unnamed).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkerMarks {
    /// 1 first, 2 second, 3 third marker, 4 appeal re-mark.
    pub role: i32,
    /// Their total; null if not submitted.
    pub total: Option<f64>,
    /// Their comments, one per criterion that has one.
    pub comments: Vec<String>,
    /// The marks per rubric criterion, named, with the examiner's comment.
    pub criteria: Vec<CriterionMarks>,
}

/// One rubric criterion as one examiner marked it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CriterionMarks {
    /// What was looked for.
    pub criterion: String,
    /// Points given.
    pub points: f64,
    /// The most the criterion gives.
    pub out_of: u32,
    /// The examiner's comment; may be empty.
    pub comment: String,
}

/// A case answer as the examiners marked it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseAnswer {
    /// The question's position on the paper.
    pub position: i32,
    /// The question.
    pub stem: String,
    /// The mark that counts, in points; null until settled.
    pub final_mark: Option<f64>,
    /// Points the question is worth.
    pub points: i32,
    /// Each marking, in order of role.
    pub markers: Vec<MarkerMarks>,
}

/// One examiner's marks of a case answer, each criterion named from the
/// rubric of the question version the candidate answered.
fn marker_marks(
    role: i32,
    total: Option<f64>,
    marks: Option<&str>,
    rubric: &[crate::domain::banks::Criterion],
) -> MarkerMarks {
    let marks: Vec<CriterionMark> = marks
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let criteria: Vec<CriterionMarks> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| CriterionMarks {
            criterion: rubric
                .get(i)
                .map_or_else(|| format!("{}", i + 1), |c| c.criterion.clone()),
            points: m.points,
            out_of: rubric.get(i).map_or(0, |c| c.points),
            comment: m.comment.trim().to_owned(),
        })
        .collect();
    MarkerMarks {
        role,
        total,
        comments: criteria
            .iter()
            .filter(|c| !c.comment.is_empty())
            .map(|c| c.comment.clone())
            .collect(),
        criteria,
    }
}

/// Every case answer of an attempt that examiners marked, with each
/// submitted marking per named rubric criterion (examiners unnamed).
pub fn case_answers(conn: &mut DbConn, attempt_id: i64) -> Result<Vec<CaseAnswer>> {
    let mut out = Vec::new();
    for item in store_exams::items_of(conn, attempt_id)?
        .into_iter()
        .filter(|i| !i.excluded)
    {
        let tasks = store_grading::tasks_of_item(conn, item.id)?;
        if tasks.is_empty() {
            continue;
        }
        let content = store_banks::version_by_id(conn, item.version_id)?
            .and_then(|v| serde_json::from_str::<Content>(&v.content).ok());
        let rubric = match content.as_ref().map(|c| &c.body) {
            Some(Body::Case { rubric, .. }) => rubric.clone(),
            _ => Vec::new(),
        };
        let stem = content.map(|c| c.stem).unwrap_or_default();
        let markers = tasks
            .iter()
            .filter(|t| t.submitted_at.is_some())
            .map(|t| marker_marks(t.role, t.total, t.marks.as_deref(), &rubric))
            .collect();
        out.push(CaseAnswer {
            position: item.position,
            stem,
            final_mark: item.score,
            points: item.points,
            markers,
        });
    }
    Ok(out)
}
