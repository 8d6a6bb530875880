//! How the demo's doctors answer and its examiners mark: from what they are
//! shown, as a person would. A doctor who is to pass knows the answer (the
//! builder reads the question's key, as a well-prepared doctor would know
//! it); one who is to fail mostly does not. An examiner marks a case answer
//! by how much of the model answer it covers: the examiner sees only the
//! answer under its blind code, never who wrote it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::domain::banks::{Body, Content};
use crate::domain::scoring::ShownAnswer;
use crate::services::grading::{CriterionMark, TaskView};

/// How well a doctor knows the material, as the chance of answering an
/// objective question right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knowledge(pub f64);

impl Knowledge {
    /// Passes comfortably (written pass mark 60%).
    pub const STRONG: Knowledge = Knowledge(0.95);
    /// Fails: answers at about chance.
    pub const WEAK: Knowledge = Knowledge(0.2);
}

/// The answer to an objective question shown with `order` (the positions
/// of the stored options as the candidate sees them).
pub fn objective(
    content: &Content,
    order: &[usize],
    knows: Knowledge,
    rng: &mut ChaCha8Rng,
) -> ShownAnswer {
    let right = rng.random_bool(knows.0.clamp(0.0, 1.0));
    let shown = |stored: usize| order.iter().position(|&o| o == stored).unwrap_or(stored);
    match &content.body {
        Body::Single { options } => {
            let correct = options.iter().position(|o| o.correct).unwrap_or(0);
            let pick = if right || options.len() < 2 {
                correct
            } else {
                (correct + 1 + rng.random_range(0..options.len() - 1)) % options.len()
            };
            ShownAnswer::Positions(vec![shown(pick)])
        }
        Body::Multiple { options } => {
            let mut picks: Vec<usize> = options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.correct == right)
                .map(|(i, _)| shown(i))
                .collect();
            if picks.is_empty() {
                picks.push(0);
            }
            picks.sort_unstable();
            ShownAnswer::Positions(picks)
        }
        Body::TrueFalse { answer } => {
            ShownAnswer::TrueFalse(if right { *answer } else { !*answer })
        }
        Body::Case { model_answer, .. } => ShownAnswer::Text(case_answer(model_answer, knows)),
    }
}

/// A case analysis: a strong doctor covers the model answer's points, a
/// weak one writes a line of generalities.
pub fn case_answer(model_answer: &str, knows: Knowledge) -> String {
    if knows.0 >= 0.5 {
        format!("{model_answer}\n\n（已与家长沟通病情与转诊安排。）")
    } else {
        "患儿需进一步观察，建议对症处理，必要时复诊。".to_owned()
    }
}

/// The borderline answer that splits two examiners (the third-marker case):
/// the first half of the model answer.
pub fn borderline_answer(model_answer: &str) -> String {
    let half: String = model_answer
        .chars()
        .take(model_answer.chars().count() / 2)
        .collect();
    format!("{half}……")
}

/// An examiner's marks: the share of each criterion an answer covers. A
/// strict examiner (`strict`) reads a half answer as a bare pass, a lenient
/// one as complete: the two then disagree beyond the tolerance, and a third
/// marker is called, whose mark passes it either way.
pub fn marks(task: &TaskView, strict: bool) -> Vec<CriterionMark> {
    let answer = task.answer.trim();
    let model = task.model_answer.trim();
    let share = if !model.is_empty() && answer.contains(model) {
        0.85
    } else if answer.ends_with("……") {
        if strict { 0.7 } else { 1.0 }
    } else {
        0.2
    };
    task.rubric
        .iter()
        .map(|line| {
            let points = (f64::from(line.points) * share * 2.0).round() / 2.0;
            CriterionMark {
                points,
                comment: if share >= 0.8 {
                    "要点完整，处置与转诊指征明确。".to_owned()
                } else {
                    "要点缺失：未评估危险征象，转诊指征不清。".to_owned()
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::banks::Choice;
    use rand::SeedableRng;

    fn single() -> Content {
        Content {
            stem: "s".into(),
            body: Body::Single {
                options: vec![
                    Choice {
                        text: "a".into(),
                        correct: false,
                        weight: None,
                    },
                    Choice {
                        text: "b".into(),
                        correct: true,
                        weight: None,
                    },
                    Choice {
                        text: "c".into(),
                        correct: false,
                        weight: None,
                    },
                ],
            },
            explanation: String::new(),
            reference: String::new(),
        }
    }

    #[test]
    fn a_doctor_who_knows_picks_the_correct_option_where_it_is_shown() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // Stored option 1 (correct) is shown third.
        let answer = objective(&single(), &[2, 0, 1], Knowledge(1.0), &mut rng);
        assert_eq!(answer, ShownAnswer::Positions(vec![2]));
        let answer = objective(&single(), &[2, 0, 1], Knowledge(0.0), &mut rng);
        assert_ne!(answer, ShownAnswer::Positions(vec![2]));
    }

    const MODEL: &str = "判定为高危，立即转诊并做好转运前处理";

    #[test]
    fn only_a_borderline_answer_splits_strict_and_lenient_examiners() {
        let task = |answer: String| TaskView {
            task_id: 1,
            exam_title: String::new(),
            code: "X".into(),
            position: 1,
            role: 1,
            points: 10,
            stem: String::new(),
            rubric: vec![crate::services::grading::RubricLine {
                criterion: "c".into(),
                points: 10,
            }],
            model_answer: MODEL.into(),
            answer,
            marks: None,
            total: None,
            due_at: chrono::Utc::now(),
            closed: false,
        };
        let total = |m: Vec<CriterionMark>| m.iter().map(|c| c.points).sum::<f64>();
        let good = task(case_answer(MODEL, Knowledge::STRONG));
        assert_eq!(total(marks(&good, true)), total(marks(&good, false)));
        assert!(total(marks(&good, true)) >= 8.0);
        let weak = task(case_answer(MODEL, Knowledge::WEAK));
        assert!(total(marks(&weak, false)) <= 2.0);
        let half = task(borderline_answer(MODEL));
        assert!(total(marks(&half, false)) - total(marks(&half, true)) > 2.0);
    }
}
