//! The examiner's queue, one marking task with its rubric, and submitting
//! marks against the rubric; the final mark rule of `domain::grading` applies
//! once every marker has marked.

use super::*;
use crate::domain::numbers::non_negative_u32;

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

/// A rubric as marking and the skills stations show it.
pub(super) fn rubric_lines(rubric: &[crate::domain::banks::Criterion]) -> Vec<RubricLine> {
    rubric
        .iter()
        .map(|c| RubricLine {
            criterion: c.criterion.clone(),
            points: c.points,
        })
        .collect()
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
                Some(json) => Some(serde_json::from_str(json).map_err(|e| {
                    Error::internal_from(format!("marking task {}: stored marks", t.id), e)
                })?),
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
                rubric: rubric_lines(rubric),
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

/// Whether the answer's marks may still change: an appeal's re-mark while
/// the appeal is open (the appeal, then), any other marking until the final
/// mark is set or results are out.
fn open_to_marks(
    conn: &mut DbConn,
    t: &store_grading::TaskRow,
    item: &store_exams::ItemRow,
    exam: &store_exams::ExamRow,
) -> Result<Option<store_grading::AppealRow>> {
    if t.role == MarkerRole::Appeal.number() {
        let appeal = store_grading::appeal_of_item(conn, item.id)?
            .filter(|a| a.status == AppealStatus::Open)
            .ok_or_else(|| Error::conflict("marks", "this appeal has been decided"))?;
        return Ok(Some(appeal));
    }
    if item.score.is_some() || exam.results_released_at.is_some() {
        return Err(Error::conflict(
            "marks",
            "this answer's final mark is set; its marks can no longer change",
        ));
    }
    Ok(None)
}

/// Once every marking of the answer is in and they agree, its final mark.
fn final_mark_if_agreed(
    conn: &mut DbConn,
    item: &store_exams::ItemRow,
    exam: &store_exams::ExamRow,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    let tasks = store_grading::tasks_of_item(conn, item.id)?;
    let totals: Vec<f64> = tasks
        .iter()
        .filter(|t| t.submitted_at.is_some())
        .filter_map(|t| t.total)
        .collect();
    if totals.len() == tasks.len()
        && let Marking::Final(mark) = grading::marking(
            &totals,
            non_negative_u32(item.points),
            non_negative_u32(exam.marking_tolerance),
        )
    {
        store_grading::set_final(conn, item.id, mark, now)?;
    }
    Ok(())
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
            let appeal = open_to_marks(conn, &t, &item, &exam)?;
            let content = content_of(conn, item.version_id)?;
            let (_, rubric) = rubric_of(&content)?;
            let total = check_marks(rubric, &marks)?;
            let json = serde_json::to_string(&marks)
                .map_err(|e| Error::internal_from("marks to JSON", e))?;
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
            final_mark_if_agreed(conn, &item, &exam, now)?;
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
pub(super) fn check_marks(
    rubric: &[crate::domain::banks::Criterion],
    marks: &[CriterionMark],
) -> Result<f64> {
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
