//! Scoring objective answers at submission. Open answers (case analyses)
//! wait for examiners.
//!
//! Rules: single choice and true/false score full points when right, else
//! nothing; multiple choice scores full points only for exactly the set of
//! correct options (no partial credit, so guessing everything earns
//! nothing). Unanswered scores nothing.

use serde::{Deserialize, Serialize};

use crate::domain::banks::Body;
use crate::error::{Error, Result};

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

/// An answer as the page or API sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ShownAnswer {
    Positions(Vec<usize>),
    TrueFalse(bool),
    Text(String),
}

/// Points earned on an objective question; `None` for a case (examiners).
pub fn score(body: &Body, points: u32, response: Option<&Response>) -> Option<f64> {
    let full = f64::from(points);
    match body {
        Body::Case { .. } => None,
        _ => Some(match (body, response) {
            (
                Body::Single { options } | Body::Multiple { options },
                Some(Response::Choices { options: chosen }),
            ) => {
                let correct: Vec<usize> = options
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.correct)
                    .map(|(i, _)| i)
                    .collect();
                if *chosen == correct { full } else { 0.0 }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::banks::{Choice, Criterion};

    fn options(correct: &[usize], n: usize) -> Vec<Choice> {
        (0..n)
            .map(|i| Choice {
                text: format!("o{i}"),
                correct: correct.contains(&i),
            })
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
}
