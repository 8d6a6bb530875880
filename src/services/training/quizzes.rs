//! Module quizzes with instant feedback: starting one (a fresh draw), reading
//! it, and submitting the answers.

use super::*;
use crate::domain::numbers::non_negative_u32;

/// A quiz question as the doctor sees it: never the answer key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizQuestion {
    /// Its position in the quiz, from 0: what `QuizAnswer.position` names.
    pub position: usize,
    /// `single`, `multiple` or `true_false`.
    pub kind: String,
    /// The question.
    pub stem: String,
    /// In the order this doctor sees them.
    pub options: Vec<String>,
    /// Points it is worth.
    pub points: i32,
}

/// An open quiz: its questions, drawn afresh for this attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizView {
    /// The quiz's id (submit to `/quizzes/{id}/submit`).
    pub id: i64,
    /// The course's key.
    pub course_key: String,
    /// The course's title.
    pub course_title: String,
    /// The module's key.
    pub module_key: String,
    /// The module's title.
    pub module_title: String,
    /// The pass mark, in percent of the quiz's points.
    pub pass_percent: i32,
    /// Its questions, in order.
    pub questions: Vec<QuizQuestion>,
}

/// Feedback on one quiz question, with the answer key and explanation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizFeedback {
    /// Its position in the quiz, from 0.
    pub position: usize,
    /// `single`, `multiple` or `true_false`.
    pub kind: String,
    /// The question.
    pub stem: String,
    /// Options in the order this doctor saw them (empty for true/false).
    pub options: Vec<String>,
    /// What the doctor answered; null if the question was left unanswered.
    pub your_answer: Option<ShownAnswer>,
    /// Correct options, as positions in `options`.
    pub correct_options: Vec<usize>,
    /// For a true/false question, the right answer; null otherwise.
    pub correct_answer: Option<bool>,
    /// Whether the answer earned the question's full points.
    pub correct: bool,
    /// Points the question is worth.
    pub points: i32,
    /// Points earned (all or nothing).
    pub earned: i32,
    /// Why the right answer is right.
    pub explanation: String,
    /// Where to read more (guideline, textbook).
    pub reference: String,
}

/// A submitted quiz's score and feedback (submitting again returns the same).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizResult {
    /// The quiz's id.
    pub id: i64,
    /// The course's key.
    pub course_key: String,
    /// The module's key.
    pub module_key: String,
    /// The module's title.
    pub module_title: String,
    /// Points earned.
    pub score: i32,
    /// Points possible.
    pub max_score: i32,
    /// The pass mark, in percent of `max_score`.
    pub pass_percent: i32,
    /// Whether the score reaches the pass mark.
    pub passed: bool,
    /// Feedback on each question, in order.
    pub items: Vec<QuizFeedback>,
}

fn shown_options(content: &Content, order: &[usize]) -> Vec<String> {
    match &content.body {
        Body::Single { options } | Body::Multiple { options } => order
            .iter()
            .filter_map(|i| options.get(*i).map(|o| o.text.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

fn find_module_of(conn: &mut DbConn, course: &CourseRow, module_key: &str) -> Result<ModuleRow> {
    store_training::modules_of(conn, course.id)?
        .into_iter()
        .find(|m| m.module_key == module_key && m.has_quiz())
        .ok_or(Error::NotFound)
}

/// Draws a fresh quiz for a module from the practice banks. Unlimited
/// retries: each call is a new draw.
pub async fn start_quiz(
    ctx: &Ctx,
    caller: &Caller,
    course_key: &str,
    module_key: &str,
) -> Result<QuizView> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let all = may_manage(caller);
    let (course_key, module_key) = (course_key.to_owned(), module_key.to_owned());
    let seed: u64 = rand::rng().random();
    let versions = ctx.versions.clone();
    ctx.db
        .write(move |conn| {
            let course = visible_course(conn, &course_key, all)?;
            let module = find_module_of(conn, &course, &module_key)?;
            let pool = store_banks::practice_pool(conn, &module.topics())?;
            let mut candidates = Vec::new();
            let mut points: HashMap<i64, i32> = HashMap::new();
            for v in pool.iter().filter(|v| v.kind != "case") {
                let content = versions.content(conn, v.id)?;
                let options = match &content.body {
                    Body::Single { options } | Body::Multiple { options } => options.len(),
                    _ => 0,
                };
                candidates.push(QuizCandidate {
                    version_id: v.id,
                    options,
                });
                points.insert(v.id, v.points);
            }
            let items = training::draw_quiz(
                &candidates,
                usize::try_from(module.quiz_questions).unwrap_or(0),
                seed,
            );
            if items.is_empty() {
                return Err(Error::conflict(
                    "quiz",
                    "this quiz has no questions yet; tell your administrator",
                ));
            }
            let max: i32 = items
                .iter()
                .map(|i| points.get(&i.version_id).copied().unwrap_or(0))
                .sum();
            let json = serde_json::to_string(&items)
                .map_err(|e| Error::internal_from("quiz items to JSON", e))?;
            let row = store_training::create_quiz(conn, me, module.id, &json, max, store::now())?;
            quiz_view(conn, &versions, &row, &course, &module)
        })
        .await
}

/// An open quiz's questions as the doctor sees them (no answers).
fn quiz_view(
    conn: &mut DbConn,
    versions: &crate::store::versions::VersionCache,
    row: &store_training::QuizRow,
    course: &CourseRow,
    module: &ModuleRow,
) -> Result<QuizView> {
    let items: Vec<QuizItem> = serde_json::from_str(&row.items)
        .map_err(|e| Error::internal_from(format!("quiz {}: stored items", row.id), e))?;
    let mut questions = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let content = versions.content(conn, item.version_id)?;
        let points = store_banks::version_by_id(conn, item.version_id)?
            .map(|v| v.points)
            .unwrap_or(0);
        questions.push(QuizQuestion {
            position,
            kind: content.body.kind().as_str().to_owned(),
            stem: content.stem.clone(),
            options: shown_options(&content, &item.option_order),
            points,
        });
    }
    Ok(QuizView {
        id: row.id,
        course_key: course.course_key.clone(),
        course_title: course.title.clone(),
        module_key: module.module_key.clone(),
        module_title: module.title.clone(),
        pass_percent: module.quiz_pass_percent,
        questions,
    })
}

/// A quiz the caller drew: its questions while open, its feedback once
/// submitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum QuizState {
    /// Not yet submitted: its questions.
    Open(QuizView),
    /// Submitted: its score and feedback.
    Submitted(QuizResult),
}

pub async fn get_quiz(ctx: &Ctx, caller: &Caller, quiz_id: i64) -> Result<QuizState> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let versions = ctx.versions.clone();
    let open = ctx
        .db
        .read(move |conn| {
            let quiz = store_training::find_quiz(conn, quiz_id)?.ok_or(Error::NotFound)?;
            if quiz.person_id != me || quiz.submitted_at.is_some() {
                return Ok(None);
            }
            let module =
                store_training::find_module(conn, quiz.module_id)?.ok_or(Error::NotFound)?;
            let course = store_training::find_course_by_id(conn, module.course_id)?
                .ok_or(Error::NotFound)?;
            quiz_view(conn, &versions, &quiz, &course, &module).map(Some)
        })
        .await?;
    match open {
        Some(view) => Ok(QuizState::Open(view)),
        // Submitted (the stored result) or someone else's (refused there).
        None => submit_quiz(ctx, caller, quiz_id, Vec::new())
            .await
            .map(QuizState::Submitted),
    }
}

/// The answers to mark: those stored when the quiz was submitted, else the
/// ones given, by position.
fn given_answers(
    stored: Option<&str>,
    questions: usize,
    answers: Vec<(usize, ShownAnswer)>,
) -> Result<Vec<Option<ShownAnswer>>> {
    if let Some(stored) = stored {
        return serde_json::from_str(stored)
            .map_err(|e| Error::internal_from("the quiz's stored answers", e));
    }
    let mut given: Vec<Option<ShownAnswer>> = vec![None; questions];
    for (position, answer) in answers {
        let slot = given.get_mut(position).ok_or_else(|| {
            Error::invalid(
                "answers",
                format!("the quiz has no question {}", position + 1),
            )
        })?;
        *slot = Some(answer);
    }
    Ok(given)
}

/// One question of a quiz marked (all or nothing), with its feedback.
fn quiz_feedback(
    conn: &mut DbConn,
    versions: &crate::store::versions::VersionCache,
    position: usize,
    item: &QuizItem,
    answer: Option<&ShownAnswer>,
) -> Result<QuizFeedback> {
    let content = versions.content(conn, item.version_id)?;
    let version = store_banks::version_by_id(conn, item.version_id)?.ok_or(Error::NotFound)?;
    let response = match answer {
        Some(a) => Some(
            scoring::from_shown(&content.body, &item.option_order, a.clone()).map_err(
                |_detail| {
                    Error::invalid(
                        "answers",
                        format!("question {}: does not fit the question", position + 1),
                    )
                },
            )?,
        ),
        None => None,
    };
    // Practice quizzes score all or nothing, whatever a track's
    // exams do: a quiz passes on whole questions.
    let earned = whole_points(
        scoring::score(
            &content.body,
            u32::try_from(version.points).unwrap_or(0),
            response.as_ref(),
            scoring::ChoiceScoring::AllOrNothing,
        )
        .unwrap_or(0.0),
    );
    let (correct_options, correct_answer) = match &content.body {
        Body::Single { options } | Body::Multiple { options } => (
            crate::domain::scoring::correct_shown(options, &item.option_order),
            None,
        ),
        Body::TrueFalse { answer } => (Vec::new(), Some(*answer)),
        Body::Case { .. } => (Vec::new(), None),
    };
    Ok(QuizFeedback {
        position,
        kind: content.body.kind().as_str().to_owned(),
        stem: content.stem.clone(),
        options: shown_options(&content, &item.option_order),
        your_answer: answer.cloned(),
        correct_options,
        correct_answer,
        correct: earned == version.points && version.points > 0,
        points: version.points,
        earned,
        explanation: content.explanation.clone(),
        reference: content.reference.clone(),
    })
}

/// Points earned all or nothing: 0 or a question's whole points.
#[allow(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "whole points of at most 100, exact in i32"
)]
fn whole_points(score: f64) -> i32 {
    score as i32
}

/// Scores a quiz and returns the feedback. Submitting again returns the
/// same result; only the doctor who drew the quiz may submit or see it.
pub async fn submit_quiz(
    ctx: &Ctx,
    caller: &Caller,
    quiz_id: i64,
    answers: Vec<(usize, ShownAnswer)>,
) -> Result<QuizResult> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let versions = ctx.versions.clone();
    let outcome = ctx
        .db
        .write(move |conn| {
            let quiz = store_training::find_quiz(conn, quiz_id)?.ok_or(Error::NotFound)?;
            if quiz.person_id != me {
                return Ok(None);
            }
            let items: Vec<QuizItem> = serde_json::from_str(&quiz.items)
                .map_err(|e| Error::internal_from(format!("quiz {}: stored items", quiz.id), e))?;
            let module =
                store_training::find_module(conn, quiz.module_id)?.ok_or(Error::NotFound)?;
            let course = store_training::find_course_by_id(conn, module.course_id)?
                .ok_or(Error::NotFound)?;
            // A submitted quiz keeps its answers; a retried request sees them.
            let answers = given_answers(quiz.answers.as_deref(), items.len(), answers)?;
            let mut feedback = Vec::with_capacity(items.len());
            let mut score = 0;
            for (position, (item, answer)) in items.iter().zip(&answers).enumerate() {
                let line = quiz_feedback(conn, &versions, position, item, answer.as_ref())?;
                score += line.earned;
                feedback.push(line);
            }
            let passed = training::quiz_passed(
                non_negative_u32(score),
                non_negative_u32(quiz.max_score),
                non_negative_u32(module.quiz_pass_percent),
            );
            if quiz.submitted_at.is_none() {
                let json = serde_json::to_string(&answers)
                    .map_err(|e| Error::internal_from("quiz answers to JSON", e))?;
                store_training::submit_quiz(conn, quiz.id, &json, score, passed, store::now())?;
                store::pipeline::note_due(conn, me, "quiz_submitted", store::now())?;
            }
            Ok(Some(QuizResult {
                id: quiz.id,
                course_key: course.course_key,
                module_key: module.module_key,
                module_title: module.title,
                score,
                max_score: quiz.max_score,
                pass_percent: module.quiz_pass_percent,
                passed,
                items: feedback,
            }))
        })
        .await?;
    match outcome {
        Some(result) => {
            // A passed quiz may complete the doctor's training.
            pipeline::settle(ctx, vec![me]).await;
            Ok(result)
        }
        None => refuse(ctx, caller, "quiz_access", format!("quiz:{quiz_id}")).await,
    }
}
