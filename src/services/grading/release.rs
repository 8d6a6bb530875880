//! Whether an exam's marking is complete, and its owner releasing the results.

use super::*;
use crate::domain::ids::ExamId;

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

pub async fn marking_status(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<MarkingStatus> {
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
pub async fn release(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<()> {
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
            let Some(exam) = crate::services::exams::owned_exam(conn, exam_id, me)? else {
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
                    let message = Message::ResultsOut {
                        name: person.name.clone(),
                        exam: exam.title.clone(),
                        link: result_link(&public_url, attempt.id),
                    };
                    // A released result is evidence for the candidate's case.
                    result_notice(conn, &person, &message, "results_released", now)?;
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
