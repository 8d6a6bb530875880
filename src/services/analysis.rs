//! Item analysis of an exam (`domain::analysis`), the committee's review of
//! flagged questions, and regrading when a question is removed: a dry run
//! shows whose results would change; applying it records every change and
//! tells those affected once results are out.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::access::Permission;
use crate::domain::analysis::{self, Paper};
use crate::domain::banks::{Body, Content};
use crate::domain::grading::{self, ItemScore, ReviewStatus};
use crate::domain::ids::{ExamId, PersonId};
use crate::domain::numbers::{count_f64, non_negative_u32};
use crate::domain::scoring::{ChoiceScoring, Response};
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, pipeline, require, result_link, result_notice};
use crate::store::grading::{self as store_grading, AnalysisRow};
use crate::store::{self, DbConn, banks as store_banks, exams as store_exams, people};

/// How many candidates chose one option.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OptionCount {
    /// The option's text.
    pub text: String,
    /// Whether it is a correct option.
    pub correct: bool,
    /// Candidates who chose it.
    pub chosen: usize,
}

/// How one question of an exam behaved (classical test theory).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemLine {
    /// The question's id.
    pub question_id: i64,
    /// Its id in its bank.
    pub key: String,
    /// Its topic's key.
    pub topic: String,
    /// The topic's name in each language its bank gives (locale → name).
    pub topic_names: std::collections::BTreeMap<String, String>,
    /// `single`, `multiple`, `true_false` or `case`.
    pub kind: String,
    /// The question.
    pub stem: String,
    /// Candidates whose paper had it.
    pub responses: usize,
    /// The mean fraction of its points earned, 0 to 1 (for one-point items, the share who
    /// got it right).
    pub facility: f64,
    /// Discrimination: the correlation (-1 to 1) between the item and the rest of the
    /// paper; null when it cannot be computed (under two responses, or no spread).
    pub item_rest: Option<f64>,
    /// Discrimination: the mean item fraction of the top 27% of candidates minus that of
    /// the bottom 27% (-1 to 1); null when it cannot be computed.
    pub upper_lower: Option<f64>,
    /// Why it is flagged for the committee: any of `too_hard` (facility under 0.2),
    /// `too_easy` (over 0.95), `poor_discrimination` (item-rest under 0.1); only with at
    /// least 5 responses.
    pub flags: Vec<String>,
    /// `open`, `kept` or `removed` once flagged or reviewed.
    pub review: Option<String>,
    /// The committee's reason for keeping or removing it; null before a decision.
    pub reason: Option<String>,
    /// For choice questions: how many chose each option (bank order).
    pub options: Vec<OptionCount>,
    /// Candidates who left it unanswered.
    pub unanswered: usize,
}

/// Item analysis of an exam: each question's statistics and the test's reliability.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnalysisView {
    /// The exam's id.
    #[schema(value_type = i64)]
    pub exam_id: ExamId,
    /// The exam's title.
    pub title: String,
    /// Submitted papers analysed.
    pub candidates: usize,
    /// Mean and SD of the total, in points-fractions summed over positions.
    pub mean: f64,
    /// The standard deviation of the total, in the same unit as `mean`.
    pub sd: f64,
    /// Reliability: Cronbach's alpha over paper positions; null when it cannot be computed.
    pub alpha: Option<f64>,
    /// The standard error of measurement, SD × √(1 − alpha), in the unit of `mean`; null
    /// without alpha.
    pub sem: Option<f64>,
    /// Each question, with its statistics.
    pub items: Vec<ItemLine>,
}

/// Each attempt's paper with its items in the canonical order of
/// `domain::analysis` (section, difficulty, question), so that the same slot
/// of different papers holds comparable questions, and the very same
/// question when everyone drew the same ones.
fn papers_of(rows: &[AnalysisRow]) -> Vec<Paper> {
    let mut sorted: Vec<&AnalysisRow> = rows.iter().collect();
    sorted.sort_by_key(|(item, _, _, _, _, difficulty)| {
        (item.attempt_id, item.section, *difficulty, item.question_id)
    });
    let mut papers: Vec<(i64, Paper)> = Vec::new();
    for (item, _, _, _, _, _) in sorted {
        let fraction = match (item.score, item.points) {
            (Some(s), p) if p > 0 => s / f64::from(p),
            _ => 0.0,
        };
        match papers.last_mut() {
            Some((id, paper)) if *id == item.attempt_id => {
                paper.items.push((item.question_id, fraction))
            }
            _ => papers.push((
                item.attempt_id,
                Paper {
                    items: vec![(item.question_id, fraction)],
                },
            )),
        }
    }
    papers.into_iter().map(|(_, p)| p).collect()
}

/// The questions of an exam's papers in the order first met, each with its
/// key, topic, kind and content, and how often each option was chosen and
/// the question left unanswered.
struct Tallies {
    order: Vec<i64>,
    info: HashMap<i64, (String, String, String, Content)>,
    counts: HashMap<i64, (Vec<usize>, usize)>,
}

fn tallies(rows: &[AnalysisRow], answers: &HashMap<i64, Response>) -> Result<Tallies> {
    let mut order: Vec<i64> = Vec::new();
    let mut info: HashMap<i64, (String, String, String, Content)> = HashMap::new();
    let mut counts: HashMap<i64, (Vec<usize>, usize)> = HashMap::new();
    for (item, key, topic, kind, content, _) in rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = info.entry(item.question_id) {
            let content: Content = serde_json::from_str(content).map_err(|e| {
                Error::internal_from(format!("question {}: stored content", item.question_id), e)
            })?;
            order.push(item.question_id);
            slot.insert((key.clone(), topic.clone(), kind.clone(), content));
        }
        let options = match info.get(&item.question_id).map(|i| &i.3.body) {
            Some(Body::Single { options } | Body::Multiple { options }) => options.len(),
            _ => 0,
        };
        let entry = counts
            .entry(item.question_id)
            .or_insert_with(|| (vec![0; options], 0));
        match answers.get(&item.id) {
            Some(Response::Choices { options: chosen }) => {
                for c in chosen {
                    if let Some(n) = entry.0.get_mut(*c) {
                        *n += 1;
                    }
                }
            }
            Some(_) => {}
            None => entry.1 += 1,
        }
    }
    Ok(Tallies {
        order,
        info,
        counts,
    })
}

/// Each option of a choice question with how often it was chosen.
fn option_counts(content: &Content, chosen: Vec<usize>) -> Vec<OptionCount> {
    match &content.body {
        Body::Single { options } | Body::Multiple { options } => options
            .iter()
            .zip(chosen)
            .map(|(o, n)| OptionCount {
                text: o.text.clone(),
                correct: o.correct,
                chosen: n,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Computes the analysis and opens a review for every newly flagged
/// question. Runs inside a write transaction.
fn analyse(conn: &mut DbConn, exam_id: ExamId) -> Result<AnalysisView> {
    let now = store::now();
    let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
    let rows = store_grading::analysis_rows(conn, exam_id)?;
    let papers = papers_of(&rows);
    let answers: HashMap<i64, Response> = store_grading::answers_of_exam(conn, exam_id)?
        .into_iter()
        .filter_map(|a| {
            serde_json::from_str(&a.response)
                .ok()
                .map(|r| (a.attempt_item_id, r))
        })
        .collect();
    let Tallies {
        order,
        mut info,
        mut counts,
    } = tallies(&rows, &answers)?;
    let reviews: HashMap<i64, store_grading::ReviewRow> = store_grading::reviews_of(conn, exam_id)?
        .into_iter()
        .map(|r| (r.question_id, r))
        .collect();
    let topics: Vec<String> = info.values().map(|i| i.1.clone()).collect();
    let topic_names = store_banks::topic_names_of(conn, &topics)?;
    let mut items = Vec::with_capacity(order.len());
    for qid in order {
        let Some((key, topic, kind, content)) = info.remove(&qid) else {
            continue;
        };
        let stats = analysis::item_stats(qid, &papers);
        let flags: Vec<String> = stats.flags.iter().map(|f| f.as_str().to_owned()).collect();
        if !flags.is_empty() && !reviews.contains_key(&qid) {
            store_grading::open_review(conn, exam_id, qid, &flags.join(","), now)?;
        }
        let (chosen, unanswered) = counts.remove(&qid).unwrap_or_default();
        let options = option_counts(&content, chosen);
        let review = reviews.get(&qid);
        items.push(ItemLine {
            question_id: qid,
            key,
            topic_names: topic_names.of(&topic),
            topic,
            kind,
            stem: content.stem.chars().take(120).collect(),
            responses: stats.responses,
            facility: stats.facility,
            item_rest: stats.item_rest,
            upper_lower: stats.upper_lower,
            review: review
                .map(|r| r.status)
                .or_else(|| (!flags.is_empty()).then_some(ReviewStatus::Open))
                .map(|s| s.as_str().to_owned()),
            reason: review.and_then(|r| r.reason.clone()),
            flags,
            options,
            unanswered,
        });
    }
    let t = analysis::test_stats(&papers);
    Ok(AnalysisView {
        exam_id,
        title: exam.title,
        candidates: t.candidates,
        mean: t.mean,
        sd: t.sd,
        alpha: t.alpha,
        sem: t.sem,
        items,
    })
}

/// How many flagged questions still wait for the committee (after bringing
/// the flags up to date); release is refused while any do.
pub fn open_flags(conn: &mut DbConn, exam_id: ExamId) -> Result<i64> {
    analyse(conn, exam_id)?;
    Ok(store_grading::count_open_reviews(conn, exam_id)?)
}

pub async fn analysis(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<AnalysisView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    ctx.db.write(move |conn| analyse(conn, exam_id)).await
}

/// One candidate whose result a regrade changes (blind: the attempt code).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Change {
    /// The attempt's id.
    pub attempt_id: i64,
    /// The attempt's blind code.
    pub code: String,
    /// Its score before, in points.
    pub score_before: f64,
    /// Its score after, in points.
    pub score_after: f64,
    /// Its percent before.
    pub percent_before: u32,
    /// Its percent after.
    pub percent_after: u32,
    /// Whether it passed before.
    pub passed_before: bool,
    /// Whether it passes after.
    pub passed_after: bool,
}

/// How a decision changes the items of one question: for each item id, its
/// new score, or `None` when the item no longer counts.
type Regrade = HashMap<i64, Option<f64>>;

/// Removal: the question's items count no more.
fn regrade_removed(rows: &[AnalysisRow], question_id: i64) -> Regrade {
    rows.iter()
        .filter(|r| r.0.question_id == question_id)
        .map(|r| (r.0.id, None))
        .collect()
}

/// Correction: the question's objective items are scored again against its
/// latest version (the committee corrected it in its bank). Only a change
/// of which options are right can be applied this way; a version whose
/// options differ in number is refused (remove the question instead).
fn regrade_corrected(
    conn: &mut DbConn,
    rows: &[AnalysisRow],
    question_id: i64,
    rule: ChoiceScoring,
) -> Result<Regrade> {
    let latest = store_banks::latest_version(conn, question_id)?.ok_or(Error::NotFound)?;
    let corrected: Content = serde_json::from_str(&latest.content).map_err(|e| {
        Error::internal_from(format!("question version {}: stored content", latest.id), e)
    })?;
    if !corrected.body.kind().is_objective() {
        return Err(Error::invalid(
            "decision",
            "an open answer is re-marked, not corrected; keep or remove it",
        ));
    }
    let mut out = Regrade::new();
    for (item, _, _, _, content, _) in rows.iter().filter(|r| r.0.question_id == question_id) {
        let drawn: Content = serde_json::from_str(content).map_err(|e| {
            Error::internal_from(format!("question {question_id}: stored content"), e)
        })?;
        if option_count(&drawn.body) != option_count(&corrected.body) {
            return Err(Error::invalid(
                "decision",
                "the corrected version changes the options; remove the question instead",
            ));
        }
        let response = store_exams::find_answer(conn, item.id)?
            .and_then(|a| serde_json::from_str::<Response>(&a.response).ok());
        let score = crate::domain::scoring::score(
            &corrected.body,
            non_negative_u32(item.points),
            response.as_ref(),
            rule,
        );
        out.insert(item.id, Some(score.unwrap_or(0.0)));
    }
    Ok(out)
}

fn option_count(body: &Body) -> usize {
    match body {
        Body::Single { options } | Body::Multiple { options } => options.len(),
        _ => 0,
    }
}

/// The results of every submitted attempt before and after a regrade, for
/// those that change.
fn changes_of(
    conn: &mut DbConn,
    exam_id: ExamId,
    rows: &[AnalysisRow],
    regrade: &Regrade,
) -> Result<Vec<Change>> {
    let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
    let mut by_attempt: Vec<(i64, Vec<ItemScore>, Vec<ItemScore>)> = Vec::new();
    for (item, _, topic, _, _, _) in rows {
        if item.excluded {
            continue;
        }
        let score = ItemScore {
            topic: topic.clone(),
            points: non_negative_u32(item.points),
            score: item.score,
        };
        if by_attempt
            .last()
            .is_none_or(|(id, _, _)| *id != item.attempt_id)
        {
            by_attempt.push((item.attempt_id, Vec::new(), Vec::new()));
        }
        if let Some((_, before, after)) = by_attempt.last_mut() {
            before.push(score.clone());
            match regrade.get(&item.id) {
                None => after.push(score),
                Some(None) => {}
                Some(Some(new)) => after.push(ItemScore {
                    score: Some(*new),
                    ..score
                }),
            }
        }
    }
    let pass = non_negative_u32(exam.pass_mark);
    let mut changes = Vec::new();
    for (attempt_id, before, after) in by_attempt {
        let (Some(b), Some(a)) = (
            grading::result(&before, pass),
            grading::result(&after, pass),
        ) else {
            continue;
        };
        if (b.score - a.score).abs() > 1e-9 || b.percent != a.percent || b.passed != a.passed {
            let code = store_exams::find_attempt(conn, attempt_id)?
                .and_then(|a| a.code)
                .unwrap_or_else(|| format!("#{attempt_id}"));
            changes.push(Change {
                attempt_id,
                code,
                score_before: b.score,
                score_after: a.score,
                percent_before: b.percent,
                percent_after: a.percent,
                passed_before: b.passed,
                passed_after: a.passed,
            });
        }
    }
    Ok(changes)
}

/// What the committee decides about a question of an exam.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Keep,
    /// The question was corrected in its bank: rescore against the latest version.
    Correct,
    Remove,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "keep" => Some(Decision::Keep),
            "correct" => Some(Decision::Correct),
            "remove" => Some(Decision::Remove),
            _ => None,
        }
    }
}

/// Keeps or removes a question, with a reason. Removing it with `dry_run`
/// only returns whose results would change; applying it takes the question
/// out of every result, records each change on its attempt, and (once
/// results are out) emails the candidates whose result changed.
pub async fn review(
    ctx: &Ctx,
    caller: &Caller,
    exam_id: ExamId,
    question_id: i64,
    decision: &str,
    reason: &str,
    dry_run: bool,
) -> Result<Vec<Change>> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let decision = Decision::parse(decision)
        .ok_or_else(|| Error::invalid("decision", "keep, correct or remove"))?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() && !dry_run {
        return Err(Error::invalid("reason", "give the reason for the decision"));
    }
    let public_url = ctx.settings.public_url.clone();
    let mut event = audit::event(
        caller,
        "question.review",
        Some(format!("exam:{exam_id} question:{question_id}")),
        Outcome::Ok,
    );
    let (changes, candidates) = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            let rows = store_grading::analysis_rows(conn, exam_id)?;
            if !rows.iter().any(|r| r.0.question_id == question_id) {
                return Err(Error::invalid(
                    "question",
                    "no paper of this exam has this question",
                ));
            }
            let regrade = match decision {
                Decision::Keep => Regrade::new(),
                Decision::Remove => regrade_removed(&rows, question_id),
                Decision::Correct => {
                    let rule = exam.choice_scoring;
                    regrade_corrected(conn, &rows, question_id, rule)?
                }
            };
            let changes = changes_of(conn, exam_id, &rows, &regrade)?;
            if dry_run {
                return Ok((changes, Vec::new()));
            }
            let status = match decision {
                Decision::Keep => ReviewStatus::Kept,
                Decision::Correct => ReviewStatus::Corrected,
                Decision::Remove => ReviewStatus::Removed,
            };
            for (item_id, new) in &regrade {
                match new {
                    None => store_grading::exclude_item(conn, *item_id)?,
                    Some(score) => store_exams::set_item_score(conn, *item_id, Some(*score))?,
                };
            }
            store_grading::decide_review(conn, exam_id, question_id, status, &reason, me, now)?;
            let candidates = note_regraded(
                conn,
                &Regraded {
                    exam: &exam,
                    question_id,
                    status,
                    decision,
                    public_url: &public_url,
                    now,
                },
                &changes,
            )?;
            event.detail = Some(format!(
                "{} ({} results changed): {reason}",
                status.as_str(),
                changes.len()
            ));
            audit::record(conn, &event)?;
            Ok((changes, candidates))
        })
        .await?;
    // A changed released result is evidence for the candidate's case.
    pipeline::settle(ctx, candidates).await;
    Ok(changes)
}

/// A question's decision as the results it changed note it.
struct Regraded<'a> {
    exam: &'a store_exams::ExamRow,
    question_id: i64,
    status: ReviewStatus,
    decision: Decision,
    public_url: &'a str,
    now: chrono::NaiveDateTime,
}

/// Records each changed result on its attempt and, once results are out,
/// emails its candidate and notes the evidence due; the candidates told.
fn note_regraded(conn: &mut DbConn, r: &Regraded<'_>, changes: &[Change]) -> Result<Vec<PersonId>> {
    let mut candidates = Vec::new();
    for c in changes {
        store_exams::record_event(
            conn,
            c.attempt_id,
            "regraded",
            Some(&format!(
                "question {} {}: {} -> {} points, {}% -> {}%",
                r.question_id,
                r.status.as_str(),
                c.score_before,
                c.score_after,
                c.percent_before,
                c.percent_after
            )),
            r.now,
        )?;
        if r.exam.results_released_at.is_some()
            && let Some(attempt) = store_exams::find_attempt(conn, c.attempt_id)?
            && let Some(person) = people::find(conn, attempt.person_id)?
        {
            let regrade = if r.decision == Decision::Correct {
                mail::Regrade::Corrected
            } else {
                mail::Regrade::Removed
            };
            let message = Message::ResultChanged {
                name: person.name.clone(),
                exam: r.exam.title.clone(),
                regrade,
                link: result_link(r.public_url, c.attempt_id),
            };
            result_notice(conn, &person, &message, "result_regraded", r.now)?;
            candidates.push(person.id);
        }
    }
    Ok(candidates)
}

/// One question's statistics in one exam.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExamLine {
    /// The exam's id.
    #[schema(value_type = i64)]
    pub exam_id: ExamId,
    /// The exam's title.
    pub title: String,
    /// Candidates whose paper had it.
    pub responses: usize,
    /// The mean fraction of its points earned, 0 to 1.
    pub facility: f64,
    /// Item-rest discrimination (-1 to 1); null when it cannot be computed.
    pub item_rest: Option<f64>,
    /// Upper-lower 27% discrimination (-1 to 1); null when it cannot be computed.
    pub upper_lower: Option<f64>,
    /// Any of `too_hard`, `too_easy`, `poor_discrimination`.
    pub flags: Vec<String>,
}

/// A question across every exam that drew it, with the facility over all
/// its responses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionHistory {
    /// The question's id.
    pub question_id: i64,
    /// Candidates whose paper had it, over all exams.
    pub responses: usize,
    /// The mean fraction of its points earned over all exams, 0 to 1; null without
    /// responses.
    pub facility: Option<f64>,
    /// Each exam that used it.
    pub exams: Vec<ExamLine>,
}

pub async fn question_history(
    ctx: &Ctx,
    caller: &Caller,
    question_id: i64,
) -> Result<QuestionHistory> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    ctx.db
        .read(move |conn| {
            let mut exams = Vec::new();
            for exam_id in store_grading::exams_with_question(conn, question_id)? {
                let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
                let rows = store_grading::analysis_rows(conn, exam_id)?;
                let stats = analysis::item_stats(question_id, &papers_of(&rows));
                exams.push(ExamLine {
                    exam_id,
                    title: exam.title,
                    responses: stats.responses,
                    facility: stats.facility,
                    item_rest: stats.item_rest,
                    upper_lower: stats.upper_lower,
                    flags: stats.flags.iter().map(|f| f.as_str().to_owned()).collect(),
                });
            }
            let responses: usize = exams.iter().map(|e| e.responses).sum();
            let facility = (responses > 0).then(|| {
                exams
                    .iter()
                    .map(|e| e.facility * count_f64(e.responses))
                    .sum::<f64>()
                    / count_f64(responses)
            });
            Ok(QuestionHistory {
                question_id,
                responses,
                facility,
                exams,
            })
        })
        .await
}
