//! A candidate's released result: score, topics and the review of the paper
//! as the exam's review policy allows.

use super::*;
use crate::domain::numbers::non_negative_u32;

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

/// Each question of the paper as the candidate answered it, with the right
/// answers (the review policy `full`).
fn reviewed_items(
    conn: &mut DbConn,
    attempt_id: i64,
    items: &[store_exams::ItemRow],
) -> Result<Vec<ReviewItem>> {
    let answers = store_exams::answers_of(conn, attempt_id)?;
    let mut review = Vec::new();
    for item in items.iter().filter(|i| !i.excluded) {
        let version = store_banks::version_by_id(conn, item.version_id)?.ok_or(Error::NotFound)?;
        let content: Content = serde_json::from_str(&version.content)
            .map_err(|e| Error::internal_from(format!("stored question {}", version.id), e))?;
        let order: Vec<usize> = serde_json::from_str(&item.option_order).unwrap_or_default();
        let response = answers
            .iter()
            .find(|a| a.attempt_item_id == item.id)
            .and_then(|a| serde_json::from_str::<Response>(&a.response).ok());
        review.push(review_item(item, &content, &order, response.as_ref()));
    }
    Ok(review)
}

/// The attempt's appeals, each with its question's position on the paper.
fn appeals_of(
    conn: &mut DbConn,
    attempt_id: i64,
    items: &[store_exams::ItemRow],
) -> Result<Vec<AppealView>> {
    Ok(store_grading::appeals_of_attempt(conn, attempt_id)?
        .into_iter()
        .map(|a| {
            let position = items
                .iter()
                .find(|i| i.id == a.attempt_item_id)
                .map(|i| i.position)
                .unwrap_or(0);
            AppealView::of(a, position)
        })
        .collect())
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
            let policy = exam.review_policy;
            let items = store_exams::items_of(conn, attempt.id)?;
            let scores = evidence::item_scores(conn, &items)?;
            let review = if policy == ReviewPolicy::Full {
                reviewed_items(conn, attempt.id, &items)?
            } else {
                Vec::new()
            };
            let appeals = appeals_of(conn, attempt.id, &items)?;
            let case_marks = case_answers(conn, attempt.id)?;
            let appeal_rule = appeal_rule_of(conn, &exam.track)?;
            let appeal_until = utc(exam.results_released_at.unwrap_or(attempt.drawn_at))
                + Duration::days(i64::from(exam.appeal_days.max(0)));
            let r = grading::result(&scores, non_negative_u32(exam.pass_mark))
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
            crate::domain::scoring::correct_shown(options, order),
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
