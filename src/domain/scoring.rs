//! Scoring objective answers at submission. Open answers (case analyses)
//! wait for examiners.
//!
//! Rules: true/false scores full points when right, else nothing.
//! Choice questions score by the exam's [`ChoiceScoring`]:
//!
//! - all or nothing (the default): full points only for exactly the
//!   correct option (single choice) or exactly the set of correct options
//!   (multiple choice), so guessing everything earns nothing;
//! - weighted, as Moodle scores its multichoice questions
//!   (question/type/multichoice/question.php, `grade_response`): a single
//!   choice earns the chosen option's weight; a multiple choice the sum of
//!   the chosen options' weights (wrong ones may be negative), floored at
//!   0 and capped at 100% for the question. A question whose author gave
//!   no weights stays all or nothing under either rule.
//!
//! Unanswered scores nothing.

use serde::{Deserialize, Serialize};

use crate::domain::banks::{Body, Choice, Weight};
use crate::error::{Error, Result};

/// How an exam scores choice questions whose options carry weights (partial
/// credit). A track setting, committee policy; each exam keeps the rule it
/// was scheduled with, so changing the setting never changes a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceScoring {
    /// Full points for exactly the right option(s), else nothing.
    #[default]
    AllOrNothing,
    /// Moodle's weights: partial credit, and negative weights on wrong
    /// options of a multiple choice, floored at 0 per question.
    Weighted,
}

impl ChoiceScoring {
    pub const ALL: [ChoiceScoring; 2] = [ChoiceScoring::AllOrNothing, ChoiceScoring::Weighted];

    pub fn as_str(self) -> &'static str {
        match self {
            ChoiceScoring::AllOrNothing => "all_or_nothing",
            ChoiceScoring::Weighted => "weighted",
        }
    }

    pub fn parse(s: &str) -> Option<ChoiceScoring> {
        ChoiceScoring::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a candidate answered, in terms of the question as stored (option
/// indexes are the bank's, after undoing the candidate's shuffle).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    Choices { options: Vec<usize> },
    TrueFalse { value: bool },
    Text { text: String },
}

/// The longest open answer accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// Turns what the page sent (option positions as shown) into a response on
/// the stored question, refusing anything that does not fit the question.
pub fn from_shown(body: &Body, option_order: &[usize], shown: ShownAnswer) -> Result<Response> {
    match (body, shown) {
        (Body::Single { options }, ShownAnswer::Positions(p))
        | (Body::Multiple { options }, ShownAnswer::Positions(p)) => {
            if matches!(body, Body::Single { .. }) && p.len() > 1 {
                return Err(Error::invalid("answer", "choose one option"));
            }
            let mut chosen = Vec::with_capacity(p.len());
            for position in p {
                let index = option_order
                    .get(position)
                    .copied()
                    .filter(|i| *i < options.len())
                    .ok_or_else(|| {
                        Error::invalid("answer", format!("there is no option {}", position + 1))
                    })?;
                chosen.push(index);
            }
            chosen.sort_unstable();
            chosen.dedup();
            Ok(Response::Choices { options: chosen })
        }
        (Body::TrueFalse { .. }, ShownAnswer::TrueFalse(value)) => {
            Ok(Response::TrueFalse { value })
        }
        (Body::Case { .. }, ShownAnswer::Text(text)) => {
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(Error::invalid(
                    "answer",
                    format!("is longer than {MAX_TEXT_CHARS} characters"),
                ));
            }
            Ok(Response::Text { text })
        }
        _ => Err(Error::invalid(
            "answer",
            "does not fit this kind of question",
        )),
    }
}

/// An answer as the page or API sends it, and as the API shows it back: its
/// JSON type says which kind of question it answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ShownAnswer {
    /// A single or multiple choice question: the chosen options' positions
    /// as shown to this candidate (0 is the first option shown), e.g. `[0]`
    /// or `[0, 2]`.
    Positions(Vec<usize>),
    /// A true/false question: `true` or `false`.
    TrueFalse(bool),
    /// A case analysis (open answer): the text, at most 20,000 characters.
    Text(String),
}

/// Points earned on an objective question under `rule`; `None` for a case
/// (examiners).
pub fn score(
    body: &Body,
    points: u32,
    response: Option<&Response>,
    rule: ChoiceScoring,
) -> Option<f64> {
    let full = f64::from(points);
    match body {
        Body::Case { .. } => None,
        _ => Some(match (body, response) {
            (
                Body::Single { options } | Body::Multiple { options },
                Some(Response::Choices { options: chosen }),
            ) => {
                let weighted =
                    rule == ChoiceScoring::Weighted && options.iter().any(|o| o.weight.is_some());
                if weighted {
                    full * weighted_fraction(options, chosen)
                } else {
                    let correct: Vec<usize> = options
                        .iter()
                        .enumerate()
                        .filter(|(_, o)| o.correct)
                        .map(|(i, _)| i)
                        .collect();
                    if *chosen == correct { full } else { 0.0 }
                }
            }
            (Body::TrueFalse { answer }, Some(Response::TrueFalse { value }))
                if answer == value =>
            {
                full
            }
            _ => 0.0,
        }),
    }
}

/// Moodle's grade of a choice: the sum of the chosen options' weights as a
/// fraction of the points, between 0 and 1. (A single choice has one
/// chosen option, never a negative weight.)
fn weighted_fraction(options: &[Choice], chosen: &[usize]) -> f64 {
    let sum: f64 = chosen
        .iter()
        .filter_map(|i| options.get(*i))
        .map(|o| {
            o.weight
                .unwrap_or(if o.correct {
                    Weight::FULL
                } else {
                    Weight::NONE
                })
                .fraction()
        })
        .sum();
    sum.clamp(0.0, 1.0)
}

/// The shown positions (0-based) of the correct options, when the paper
/// shows `options` in `order` (`order[shown]` is the option's index in the
/// question): what a candidate's review marks as the key.
pub fn correct_shown(options: &[Choice], order: &[usize]) -> Vec<usize> {
    order
        .iter()
        .enumerate()
        .filter(|(_, i)| options.get(**i).is_some_and(|o| o.correct))
        .map(|(shown, _)| shown)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::banks::{Choice, Criterion, Weight};

    /// The rule every existing track keeps.
    fn score(body: &Body, points: u32, response: Option<&Response>) -> Option<f64> {
        super::score(body, points, response, ChoiceScoring::AllOrNothing)
    }

    fn weighted(body: &Body, points: u32, chosen: &[usize]) -> Option<f64> {
        super::score(
            body,
            points,
            Some(&Response::Choices {
                options: chosen.to_vec(),
            }),
            ChoiceScoring::Weighted,
        )
    }

    /// Options as the bank rules make them: correct is the 100% option of
    /// a single choice, any positive weight in a multiple choice.
    fn weighted_options(weights: &[f64], single: bool) -> Vec<Choice> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| Choice {
                text: format!("o{i}"),
                correct: if single { *w == 100.0 } else { *w > 0.0 },
                weight: Weight::from_percent(*w),
            })
            .collect()
    }

    #[test]
    fn moodle_multiple_answers_with_negative_weights() {
        // The GIFT documentation's "multiple answers" construct: two right
        // answers at 50% each, two wrong ones at -100%.
        let body = Body::Multiple {
            options: weighted_options(&[-100.0, 50.0, 50.0, -100.0], false),
        };
        assert_eq!(weighted(&body, 2, &[1, 2]), Some(2.0), "both right");
        assert_eq!(weighted(&body, 2, &[1]), Some(1.0), "one right: half");
        assert_eq!(
            weighted(&body, 2, &[1, 0]),
            Some(0.0),
            "50% - 100% floors at 0"
        );
        assert_eq!(
            weighted(&body, 2, &[0, 1, 2, 3]),
            Some(0.0),
            "everything: 0"
        );
        assert_eq!(weighted(&body, 2, &[]), Some(0.0));
        // The same question all or nothing: exactly the two right ones.
        let r = |c: &[usize]| {
            score(
                &body,
                2,
                Some(&Response::Choices {
                    options: c.to_vec(),
                }),
            )
        };
        assert_eq!(r(&[1, 2]), Some(2.0));
        assert_eq!(r(&[1]), Some(0.0));
    }

    #[test]
    fn moodle_weights_never_exceed_the_points() {
        // Positive weights add up to 100%; thirds as Moodle stores them
        // (0.3333333 each), so all three earn 0.9999999 of the points, as in
        // Moodle.
        let body = Body::Multiple {
            options: weighted_options(&[33.33333, 33.33333, 33.33333, 0.0], false),
        };
        let all = weighted(&body, 3, &[0, 1, 2]).unwrap_or_default();
        assert!((all - 2.9999997).abs() < 1e-9, "{all}");
        assert!(weighted(&body, 3, &[0, 1, 2, 3]).unwrap_or_default() <= 3.0);
    }

    #[test]
    fn moodle_single_choice_with_partial_credit() {
        // {=Assess danger signs ~%50%Take temperature ~Give antibiotics}
        let body = Body::Single {
            options: weighted_options(&[100.0, 50.0, 0.0], true),
        };
        assert_eq!(
            weighted(&body, 2, &[0]),
            Some(2.0),
            "the best answer alone: full"
        );
        assert_eq!(
            weighted(&body, 2, &[1]),
            Some(1.0),
            "the partly right one: half"
        );
        assert_eq!(weighted(&body, 2, &[2]), Some(0.0));
        // All or nothing, the committee's other policy: only the best answer.
        let pick = |i: usize| score(&body, 2, Some(&Response::Choices { options: vec![i] }));
        assert_eq!(pick(0), Some(2.0));
        assert_eq!(pick(1), Some(0.0));
    }

    #[test]
    fn questions_without_weights_score_the_same_under_both_rules() {
        let body = Body::Multiple {
            options: options(&[0, 2], 4),
        };
        for chosen in [vec![0, 2], vec![0], vec![0, 1, 2, 3], vec![]] {
            let response = Response::Choices {
                options: chosen.clone(),
            };
            assert_eq!(
                super::score(&body, 2, Some(&response), ChoiceScoring::Weighted),
                score(&body, 2, Some(&response)),
                "{chosen:?}"
            );
        }
        assert_eq!(
            ChoiceScoring::parse("weighted"),
            Some(ChoiceScoring::Weighted)
        );
        assert_eq!(ChoiceScoring::default().as_str(), "all_or_nothing");
        assert_eq!(ChoiceScoring::parse("partial"), None);
    }

    fn options(correct: &[usize], n: usize) -> Vec<Choice> {
        (0..n)
            .map(|i| Choice::plain(format!("o{i}"), correct.contains(&i)))
            .collect()
    }

    #[test]
    fn shown_positions_map_back_through_the_shuffle() {
        let body = Body::Single {
            options: options(&[2], 4),
        };
        // The candidate saw the bank's option 2 first.
        let order = [2, 0, 3, 1];
        let r = from_shown(&body, &order, ShownAnswer::Positions(vec![0]));
        assert_eq!(
            r.as_ref().ok(),
            Some(&Response::Choices { options: vec![2] })
        );
        assert_eq!(score(&body, 1, r.as_ref().ok()), Some(1.0));
        let wrong = from_shown(&body, &order, ShownAnswer::Positions(vec![1])).ok();
        assert_eq!(score(&body, 1, wrong.as_ref()), Some(0.0));
    }

    #[test]
    fn answers_that_do_not_fit_are_refused() {
        let single = Body::Single {
            options: options(&[0], 4),
        };
        let order = [0, 1, 2, 3];
        assert!(from_shown(&single, &order, ShownAnswer::Positions(vec![0, 1])).is_err());
        assert!(from_shown(&single, &order, ShownAnswer::Positions(vec![4])).is_err());
        assert!(from_shown(&single, &order, ShownAnswer::TrueFalse(true)).is_err());
        let case = Body::Case {
            model_answer: "m".into(),
            rubric: vec![Criterion {
                criterion: "c".into(),
                points: 10,
            }],
        };
        assert!(
            from_shown(
                &case,
                &[],
                ShownAnswer::Text("x".repeat(MAX_TEXT_CHARS + 1))
            )
            .is_err()
        );
        assert!(from_shown(&case, &[], ShownAnswer::Text("a full answer".into())).is_ok());
    }

    #[test]
    fn multiple_choice_is_all_or_nothing() {
        let body = Body::Multiple {
            options: options(&[0, 2], 4),
        };
        let order = [0, 1, 2, 3];
        let pick = |p: Vec<usize>| from_shown(&body, &order, ShownAnswer::Positions(p)).ok();
        assert_eq!(score(&body, 2, pick(vec![2, 0]).as_ref()), Some(2.0));
        assert_eq!(score(&body, 2, pick(vec![0]).as_ref()), Some(0.0));
        assert_eq!(score(&body, 2, pick(vec![0, 1, 2, 3]).as_ref()), Some(0.0));
        assert_eq!(
            score(&body, 2, pick(vec![0, 0, 2]).as_ref()),
            Some(2.0),
            "duplicates collapse"
        );
    }

    #[test]
    fn true_false_unanswered_and_cases() {
        let tf = Body::TrueFalse { answer: false };
        assert_eq!(
            score(&tf, 1, Some(&Response::TrueFalse { value: false })),
            Some(1.0)
        );
        assert_eq!(
            score(&tf, 1, Some(&Response::TrueFalse { value: true })),
            Some(0.0)
        );
        assert_eq!(score(&tf, 1, None), Some(0.0));
        let case = Body::Case {
            model_answer: "m".into(),
            rubric: vec![],
        };
        assert_eq!(
            score(&case, 10, Some(&Response::Text { text: "x".into() })),
            None
        );
    }

    #[test]
    fn the_key_is_shown_in_the_papers_order() {
        let option = |correct| Choice {
            text: String::new(),
            correct,
            weight: None,
        };
        let options = [option(false), option(true), option(false), option(true)];
        assert_eq!(correct_shown(&options, &[3, 2, 1, 0]), vec![0, 2]);
        assert_eq!(correct_shown(&options, &[0, 1, 2, 3]), vec![1, 3]);
        // An order naming an option the question lacks marks nothing.
        assert_eq!(correct_shown(&options, &[9, 1]), vec![1]);
    }
}
