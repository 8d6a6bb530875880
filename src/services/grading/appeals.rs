//! A candidate's appeal against an examiner's mark: filing it (a fresh
//! examiner re-marks), and deciding it under the track's appeal rule once the
//! re-mark is in.

use super::*;
use crate::domain::ids::PersonId;
use crate::domain::numbers::non_negative_u32;

/// An appeal's re-mark: its total and the criterion marks with comments.
pub(super) struct Remark<'a> {
    pub(super) total: f64,
    pub(super) marks: &'a [CriterionMark],
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
pub(super) fn decide_appealed(
    conn: &mut DbConn,
    exam: &store_exams::ExamRow,
    item: &store_exams::ItemRow,
    appeal: &store_grading::AppealRow,
    re: &Remark<'_>,
    public_url: &str,
    now: chrono::NaiveDateTime,
) -> Result<PersonId> {
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
            rule,
            outcome: &outcome,
        },
        now,
    )?;
    store_exams::record_event(conn, attempt.id, "appeal_decided", Some(&outcome), now)?;
    let after = evidence::released_result(conn, &attempt, exam)?;
    if let Some(person) = people::find(conn, attempt.person_id)? {
        let message = Message::AppealDecided {
            name: person.name.clone(),
            exam: exam.title.clone(),
            position: item.position,
            before: appeal.mark_before,
            remark,
            final_mark,
            effect,
            passed_before: before.map(|r| r.passed),
            passed_after: after.map(|r| r.passed),
            link: result_link(public_url, attempt.id),
        };
        // The decided appeal may move the candidate's case, on or back.
        result_notice(conn, &person, &message, "appeal_decided", now)?;
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
    pub(super) fn of(a: store_grading::AppealRow, position: i32) -> AppealView {
        AppealView {
            position,
            reason: a.reason,
            status: a.status.as_str().to_owned(),
            mark_before: a.mark_before,
            mark_after: a.mark_after,
            mark_final: a.mark_final,
            rule: a.rule,
            outcome: a.outcome,
            created_at: utc(a.created_at),
        }
    }
}

/// Appeals are taken only in the appeal period after results are out, and
/// not once the case the result counted for is closed.
fn check_appealable(
    conn: &mut DbConn,
    attempt: &store_exams::AttemptRow,
    exam: &store_exams::ExamRow,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    if !grading::appeal_open(
        exam.results_released_at,
        non_negative_u32(exam.appeal_days),
        now,
    ) {
        return Err(Error::conflict(
            "appeal",
            "appeals are taken only in the appeal period after results are released",
        ));
    }
    // A closed case never moves again, so the result it was decided
    // on can no longer change (the committee's decision waits for
    // appeals filed before it).
    if let Some(closed) = crate::services::pipeline::closed_case_of(conn, attempt, exam)? {
        return Err(Error::conflict(
            "appeal",
            format!(
                "the certification case this result counted for is closed ({closed}); its results can no longer be appealed"
            ),
        ));
    }
    Ok(())
}

/// The mark of an examiner-marked answer not yet appealed, and who marked it.
fn appealable_mark(conn: &mut DbConn, item: &store_exams::ItemRow) -> Result<(f64, Vec<PersonId>)> {
    let tasks = store_grading::tasks_of_item(conn, item.id)?;
    let Some(mark_before) = item.score.filter(|_| !tasks.is_empty()) else {
        return Err(Error::invalid(
            "position",
            "only an examiner-marked answer can be appealed",
        ));
    };
    if store_grading::appeal_of_item(conn, item.id)?.is_some() {
        return Err(Error::conflict(
            "position",
            "this answer has already been appealed",
        ));
    }
    Ok((mark_before, tasks.iter().map(|t| t.examiner_id).collect()))
}

/// Emails the re-marker of an answer the message `message` makes of their
/// name and re-marking task.
fn tell_re_marker(
    conn: &mut DbConn,
    item_id: i64,
    examiner: PersonId,
    now: chrono::NaiveDateTime,
    message: impl FnOnce(&str, &store_grading::TaskRow) -> Message,
) -> Result<()> {
    let task = store_grading::tasks_of_item(conn, item_id)?
        .into_iter()
        .find(|t| t.role == MarkerRole::Appeal.number());
    if let (Some(task), Some(re_marker)) = (task, people::find(conn, examiner)?) {
        mail::enqueue_to(conn, &re_marker, &message(&re_marker.name, &task), now)?;
    }
    Ok(())
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
            check_appealable(conn, &attempt, &exam, now)?;
            let item = store_exams::find_item(conn, attempt.id, position)?
                .ok_or_else(|| Error::invalid("position", format!("the paper has no question {position}")))?;
            let (mark_before, markers) = appealable_mark(conn, &item)?;
            let (examiners, mut load) = super::allocation::examiner_pool(conn)?;
            let institution = people::find(conn, me)?.and_then(|p| p.institution_id);
            let examiner = grading::pick_examiner(&examiners, institution, &markers, &mut load)
                .ok_or_else(|| Error::conflict("appeal", "no examiner who has not marked this answer is available; contact the alliance office"))?;
            let appeal = store_grading::NewAppeal {
                attempt_id: attempt.id,
                attempt_item_id: item.id,
                reason: &reason,
                mark_before,
            };
            store_grading::insert_appeal(conn, &appeal, now)?;
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
            tell_re_marker(conn, item.id, examiner, now, |name, task| Message::RemarkAssigned {
                name: name.to_owned(),
                exam: exam.title.clone(),
                code: attempt.code.clone().unwrap_or_default(),
                position,
                due: utc(task.due_at).with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
                link: format!("{public_url}/marking/{}", task.id),
            })?;
            let row = store_grading::appeal_of_item(conn, item.id)?.ok_or(Error::NotFound)?;
            Ok(Some(AppealView::of(row, position)))
        })
        .await?;
    match found {
        Some(v) => Ok(v),
        None => refuse(ctx, caller, "appeal", format!("attempt:{attempt_id}")).await,
    }
}
