//! Question banks: the file format of question_banks/ (documented in
//! question_banks/README.md), parsed strictly, with every problem reported
//! by file line. A bank is a list of questions with stable ids; what a
//! question says (its content) is compared by hash to decide whether an
//! import makes a new version.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

/// The kinds of question the exam engine delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One correct option.
    Single,
    /// Two or more correct options; all must be chosen.
    Multiple,
    TrueFalse,
    /// An open answer (case analysis) marked by examiners against a rubric.
    Case,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 4] = [
        QuestionKind::Single,
        QuestionKind::Multiple,
        QuestionKind::TrueFalse,
        QuestionKind::Case,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::TrueFalse => "true_false",
            QuestionKind::Case => "case",
        }
    }

    pub fn parse(s: &str) -> Option<QuestionKind> {
        QuestionKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Objective questions are scored by the machine at submission.
    pub fn is_objective(self) -> bool {
        !matches!(self, QuestionKind::Case)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub text: String,
    pub correct: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub criterion: String,
    pub points: u32,
}

/// What a question asks and how it is answered: the part that is versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    Single {
        options: Vec<Choice>,
    },
    Multiple {
        options: Vec<Choice>,
    },
    TrueFalse {
        answer: bool,
    },
    Case {
        model_answer: String,
        rubric: Vec<Criterion>,
    },
}

impl Body {
    pub fn kind(&self) -> QuestionKind {
        match self {
            Body::Single { .. } => QuestionKind::Single,
            Body::Multiple { .. } => QuestionKind::Multiple,
            Body::TrueFalse { .. } => QuestionKind::TrueFalse,
            Body::Case { .. } => QuestionKind::Case,
        }
    }
}

/// The versioned content of a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub stem: String,
    pub body: Body,
    pub explanation: String,
    pub reference: String,
}

impl Content {
    /// A stable fingerprint: equal content, equal hash, whatever the file's
    /// layout. (serde_json writes struct fields in declaration order.)
    pub fn hash(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(json.as_bytes()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Stable id within the bank, e.g. `fever-001`.
    pub key: String,
    pub topic: String,
    pub difficulty: u8,
    pub points: u32,
    /// Retired questions stay for the attempts that drew them but are never
    /// drawn again.
    pub retired: bool,
    pub content: Content,
    /// Where the question starts in its file, for messages.
    pub line: usize,
}

impl Question {
    /// What decides whether an import makes a new version: the content and
    /// everything that affects drawing or scoring.
    pub fn fingerprint(&self) -> String {
        let scoring = format!("{}|{}|{}|", self.topic, self.difficulty, self.points);
        let content = serde_json::to_string(&self.content).unwrap_or_default();
        hex::encode(Sha256::digest(format!("{scoring}{content}").as_bytes()))
    }
}

/// What a bank's questions are for. Exam questions keep their answers secret
/// until results are released; practice questions (module quizzes) show them
/// at once, so one bank is never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BankUse {
    #[default]
    Exam,
    Practice,
}

impl BankUse {
    pub fn as_str(self) -> &'static str {
        match self {
            BankUse::Exam => "exam",
            BankUse::Practice => "practice",
        }
    }

    pub fn parse(s: &str) -> Option<BankUse> {
        match s.trim() {
            "exam" => Some(BankUse::Exam),
            "practice" => Some(BankUse::Practice),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankMeta {
    pub id: String,
    pub title: String,
    pub track: String,
    pub version: u32,
    pub language: String,
    pub sample: bool,
    pub use_for: BankUse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    pub meta: BankMeta,
    pub questions: Vec<Question>,
}

/// One problem in a bank file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

// ----- the file as written -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    bank: Spanned<RawBank>,
    #[serde(default)]
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    id: String,
    title: String,
    track: String,
    version: u32,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default)]
    sample: bool,
    #[serde(default, rename = "use")]
    use_for: Option<String>,
}

fn default_language() -> String {
    "zh-CN".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    kind: Spanned<String>,
    topic: Spanned<String>,
    difficulty: Spanned<i64>,
    points: Spanned<i64>,
    stem: Spanned<String>,
    #[serde(default)]
    options: Option<Spanned<Vec<RawOption>>>,
    #[serde(default)]
    answer: Option<bool>,
    #[serde(default)]
    model_answer: Option<Spanned<String>>,
    #[serde(default)]
    rubric: Option<Spanned<Vec<RawCriterion>>>,
    explanation: Spanned<String>,
    reference: Spanned<String>,
    #[serde(default)]
    retired: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    text: String,
    #[serde(default)]
    correct: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    criterion: String,
    points: i64,
}

/// Line (1-based) of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Parses and checks a bank file, reporting every problem found (not just
/// the first), each with its line.
pub fn parse(text: &str) -> Result<Bank, Vec<Problem>> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        vec![Problem {
            line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
            message: e.message().to_owned(),
        }]
    })?;
    let mut problems = Vec::new();
    let at = |offset: usize| line_of(text, offset);

    let bank_line = at(raw.bank.span().start);
    let rb = raw.bank.into_inner();
    if !is_slug(&rb.id) {
        problems.push(Problem {
            line: bank_line,
            message: "bank id must be lower-case letters, digits and dashes".into(),
        });
    }
    if rb.title.trim().is_empty() {
        problems.push(Problem {
            line: bank_line,
            message: "bank title is empty".into(),
        });
    }
    if !is_slug(&rb.track) {
        problems.push(Problem {
            line: bank_line,
            message: "track must be lower-case letters, digits and dashes".into(),
        });
    }
    let use_for = match rb.use_for.as_deref() {
        None => BankUse::Exam,
        Some(text) => BankUse::parse(text).unwrap_or_else(|| {
            problems.push(Problem {
                line: bank_line,
                message: format!("use must be \"exam\" or \"practice\", not \"{text}\""),
            });
            BankUse::Exam
        }),
    };
    let meta = BankMeta {
        id: rb.id,
        title: rb.title.trim().to_owned(),
        track: rb.track,
        version: rb.version,
        language: rb.language,
        sample: rb.sample,
        use_for,
    };

    let mut seen = HashSet::new();
    let mut questions = Vec::new();
    if raw.questions.is_empty() {
        problems.push(Problem {
            line: bank_line,
            message: "the bank has no questions".into(),
        });
    }
    for spanned in raw.questions {
        let line = at(spanned.span().start);
        let q = spanned.into_inner();
        match check_question(text, q, line, &mut seen) {
            Ok(question) => questions.push(question),
            Err(mut found) => problems.append(&mut found),
        }
    }
    if problems.is_empty() {
        Ok(Bank { meta, questions })
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

fn check_question(
    text: &str,
    q: RawQuestion,
    line: usize,
    seen: &mut HashSet<String>,
) -> Result<Question, Vec<Problem>> {
    let mut problems = Vec::new();
    let at = |offset: usize| line_of(text, offset);
    let mut problem = |line: usize, message: String| problems.push(Problem { line, message });

    let key = q.id.get_ref().trim().to_owned();
    if !is_slug(&key) {
        problem(
            at(q.id.span().start),
            format!("question id \"{key}\" must be lower-case letters, digits and dashes"),
        );
    } else if !seen.insert(key.clone()) {
        problem(
            at(q.id.span().start),
            format!("duplicate question id \"{key}\""),
        );
    }
    let kind = QuestionKind::parse(q.kind.get_ref());
    if kind.is_none() {
        problem(
            at(q.kind.span().start),
            format!(
                "unknown kind \"{}\"; kinds are single, multiple, true_false, case",
                q.kind.get_ref()
            ),
        );
    }
    if !is_slug(q.topic.get_ref()) {
        problem(
            at(q.topic.span().start),
            "topic must be lower-case letters, digits and dashes".into(),
        );
    }
    let difficulty = *q.difficulty.get_ref();
    if !(1..=5).contains(&difficulty) {
        problem(
            at(q.difficulty.span().start),
            format!("difficulty must be 1 to 5, not {difficulty}"),
        );
    }
    let points = *q.points.get_ref();
    if !(1..=100).contains(&points) {
        problem(
            at(q.points.span().start),
            format!("points must be 1 to 100, not {points}"),
        );
    }
    for (field, value) in [
        ("stem", &q.stem),
        ("explanation", &q.explanation),
        ("reference", &q.reference),
    ] {
        if value.get_ref().trim().is_empty() {
            problem(at(value.span().start), format!("{field} is empty"));
        }
    }

    let options_line = q
        .options
        .as_ref()
        .map(|o| at(o.span().start))
        .unwrap_or(line);
    let options: Vec<Choice> = q
        .options
        .as_ref()
        .map(|o| {
            o.get_ref()
                .iter()
                .map(|c| Choice {
                    text: c.text.trim().to_owned(),
                    correct: c.correct,
                })
                .collect()
        })
        .unwrap_or_default();
    let check_options = |problem: &mut dyn FnMut(usize, String), min: usize, max: usize| {
        if options.len() < min || options.len() > max {
            problem(
                options_line,
                format!("needs {min} to {max} options, has {}", options.len()),
            );
        }
        if options.iter().any(|o| o.text.is_empty()) {
            problem(options_line, "an option is empty".into());
        }
        let distinct: HashSet<&str> = options.iter().map(|o| o.text.as_str()).collect();
        if distinct.len() != options.len() {
            problem(options_line, "two options have the same text".into());
        }
    };
    let forbid = |problem: &mut dyn FnMut(usize, String), name: &str, present: bool, kind: &str| {
        if present {
            problem(line, format!("a {kind} question has no `{name}`"));
        }
    };

    let body = match kind {
        Some(QuestionKind::Single) => {
            check_options(&mut problem, 2, 6);
            let correct = options.iter().filter(|o| o.correct).count();
            if correct != 1 {
                problem(
                    options_line,
                    format!(
                        "a single-choice question needs exactly one correct option, has {correct}"
                    ),
                );
            }
            forbid(&mut problem, "answer", q.answer.is_some(), "single-choice");
            forbid(&mut problem, "rubric", q.rubric.is_some(), "single-choice");
            forbid(
                &mut problem,
                "model_answer",
                q.model_answer.is_some(),
                "single-choice",
            );
            Some(Body::Single {
                options: options.clone(),
            })
        }
        Some(QuestionKind::Multiple) => {
            check_options(&mut problem, 3, 8);
            let correct = options.iter().filter(|o| o.correct).count();
            if correct < 2 || correct == options.len() {
                problem(
                    options_line,
                    format!(
                        "a multiple-choice question needs at least two correct options and one wrong one, has {correct} of {}",
                        options.len()
                    ),
                );
            }
            forbid(
                &mut problem,
                "answer",
                q.answer.is_some(),
                "multiple-choice",
            );
            forbid(
                &mut problem,
                "rubric",
                q.rubric.is_some(),
                "multiple-choice",
            );
            forbid(
                &mut problem,
                "model_answer",
                q.model_answer.is_some(),
                "multiple-choice",
            );
            Some(Body::Multiple {
                options: options.clone(),
            })
        }
        Some(QuestionKind::TrueFalse) => {
            forbid(&mut problem, "options", q.options.is_some(), "true/false");
            forbid(&mut problem, "rubric", q.rubric.is_some(), "true/false");
            forbid(
                &mut problem,
                "model_answer",
                q.model_answer.is_some(),
                "true/false",
            );
            match q.answer {
                Some(answer) => Some(Body::TrueFalse { answer }),
                None => {
                    problem(
                        line,
                        "a true/false question needs `answer = true` or `answer = false`".into(),
                    );
                    None
                }
            }
        }
        Some(QuestionKind::Case) => {
            forbid(&mut problem, "options", q.options.is_some(), "case");
            forbid(&mut problem, "answer", q.answer.is_some(), "case");
            let model_answer = q
                .model_answer
                .as_ref()
                .map(|m| m.get_ref().trim().to_owned())
                .unwrap_or_default();
            if model_answer.is_empty() {
                problem(
                    q.model_answer
                        .as_ref()
                        .map(|m| at(m.span().start))
                        .unwrap_or(line),
                    "a case question needs a model_answer".into(),
                );
            }
            match &q.rubric {
                None => {
                    problem(line, "a case question needs a rubric".into());
                    None
                }
                Some(rubric) => {
                    let rubric_line = at(rubric.span().start);
                    let criteria: Vec<Criterion> = rubric
                        .get_ref()
                        .iter()
                        .map(|c| Criterion {
                            criterion: c.criterion.trim().to_owned(),
                            points: c.points.clamp(0, 1000) as u32,
                        })
                        .collect();
                    if criteria.is_empty() {
                        problem(rubric_line, "the rubric has no criteria".into());
                    }
                    if rubric.get_ref().iter().any(|c| c.points < 1) {
                        problem(
                            rubric_line,
                            "every rubric criterion needs at least 1 point".into(),
                        );
                    }
                    if criteria.iter().any(|c| c.criterion.is_empty()) {
                        problem(rubric_line, "a rubric criterion is empty".into());
                    }
                    let total: i64 = rubric.get_ref().iter().map(|c| c.points).sum();
                    if total != points {
                        problem(
                            rubric_line,
                            format!(
                                "rubric points add up to {total}, but the question is worth {points}"
                            ),
                        );
                    }
                    Some(Body::Case {
                        model_answer,
                        rubric: criteria,
                    })
                }
            }
        }
        None => None,
    };

    match body {
        Some(body) if problems.is_empty() => Ok(Question {
            key,
            topic: q.topic.into_inner(),
            difficulty: difficulty.clamp(1, 5) as u8,
            points: points.clamp(1, 100) as u32,
            retired: q.retired,
            content: Content {
                stem: q.stem.into_inner().trim().to_owned(),
                body,
                explanation: q.explanation.into_inner().trim().to_owned(),
                reference: q.reference.into_inner().trim().to_owned(),
            },
            line,
        }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[bank]
id = "demo"
title = "Demo bank"
track = "paediatrics"
version = 1

[[questions]]
id = "q-001"
kind = "single"
topic = "fever"
difficulty = 2
points = 1
stem = "Which is a danger sign?"
options = [
  { text = "Unable to drink", correct = true },
  { text = "Runny nose" },
]
explanation = "IMCI general danger sign."
reference = "WHO IMCI"

[[questions]]
id = "q-002"
kind = "true_false"
topic = "fever"
difficulty = 1
points = 1
stem = "Fever in a 2-month-old needs same-day assessment."
answer = true
explanation = "Under 3 months is high risk."
reference = "NICE NG143"

[[questions]]
id = "q-003"
kind = "case"
topic = "fever"
difficulty = 4
points = 10
stem = "A 6-week-old with 38.5 C..."
model_answer = "Refer urgently..."
rubric = [
  { criterion = "Recognises high risk", points = 4 },
  { criterion = "Refers urgently", points = 6 },
]
explanation = "..."
reference = "NICE NG143"
"#;

    fn problems(text: &str) -> Vec<Problem> {
        parse(text).err().unwrap_or_default()
    }

    #[test]
    fn a_good_bank_parses() {
        let bank = parse(GOOD).ok();
        let bank = bank.as_ref();
        assert_eq!(bank.map(|b| b.questions.len()), Some(3));
        assert_eq!(bank.map(|b| b.meta.language.as_str()), Some("zh-CN"));
        let kinds: Vec<QuestionKind> = bank
            .map(|b| b.questions.iter().map(|q| q.content.body.kind()).collect())
            .unwrap_or_default();
        assert_eq!(
            kinds,
            vec![
                QuestionKind::Single,
                QuestionKind::TrueFalse,
                QuestionKind::Case
            ]
        );
        assert_eq!(bank.map(|b| b.questions[0].line), Some(7));
    }

    #[test]
    fn syntax_and_unknown_keys_are_reported_by_line() {
        let p = problems(
            "[bank]\nid = \"x\"\ntitle = \"t\"\ntrack = \"p\"\nversion = 1\ncolour = \"red\"\n",
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, 6, "{p:?}");
        assert!(p[0].message.contains("colour"));
        let p = problems("[bank]\nid = \"x\n");
        assert_eq!(p[0].line, 2);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = GOOD
            .replace("id = \"q-002\"", "id = \"q-001\"")
            .replace(
                "{ text = \"Runny nose\" }",
                "{ text = \"Runny nose\", correct = true }",
            )
            .replace("kind = \"case\"", "kind = \"essay\"");
        let p = problems(&text);
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert!(
            p.iter()
                .any(|x| x.message.contains("exactly one correct") && x.line == 14),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|x| x.message.contains("duplicate question id \"q-001\"") && x.line == 22),
            "{p:?}"
        );
        assert!(
            p.iter()
                .any(|x| x.message.contains("unknown kind \"essay\"") && x.line == 34),
            "{p:?}"
        );
        assert!(lines.windows(2).all(|w| w[0] <= w[1]), "sorted by line");
    }

    #[test]
    fn choice_rules() {
        let none_correct = GOOD.replace(
            "{ text = \"Unable to drink\", correct = true }",
            "{ text = \"Unable to drink\" }",
        );
        assert!(problems(&none_correct).iter().any(|p| {
            p.message.contains("exactly one correct, has 0") || p.message.contains("has 0")
        }));
        let empty = GOOD.replace("{ text = \"Runny nose\" }", "{ text = \" \" }");
        assert!(
            problems(&empty)
                .iter()
                .any(|p| p.message.contains("empty") && p.line == 14)
        );
        let same = GOOD.replace(
            "{ text = \"Runny nose\" }",
            "{ text = \"Unable to drink\" }",
        );
        assert!(
            problems(&same)
                .iter()
                .any(|p| p.message.contains("same text"))
        );
        let multiple_one = GOOD.replace("kind = \"single\"", "kind = \"multiple\"");
        assert!(
            problems(&multiple_one)
                .iter()
                .any(|p| p.message.contains("at least two correct"))
        );
    }

    #[test]
    fn case_rules() {
        let no_rubric = GOOD.replace(
            "rubric = [\n  { criterion = \"Recognises high risk\", points = 4 },\n  { criterion = \"Refers urgently\", points = 6 },\n]\n",
            "",
        );
        let p = problems(&no_rubric);
        assert!(
            p.iter()
                .any(|p| p.message.contains("needs a rubric") && p.line == 32),
            "{p:?}"
        );
        let wrong_sum = GOOD.replace("points = 6 }", "points = 5 }");
        assert!(
            problems(&wrong_sum)
                .iter()
                .any(|p| p.message.contains("add up to 9"))
        );
        let no_model = GOOD.replace("model_answer = \"Refer urgently...\"\n", "");
        assert!(
            problems(&no_model)
                .iter()
                .any(|p| p.message.contains("model_answer"))
        );
        let tf_without_answer = GOOD.replace("answer = true\n", "");
        assert!(
            problems(&tf_without_answer)
                .iter()
                .any(|p| p.message.contains("true/false question needs"))
        );
        let bad_difficulty = GOOD.replace("difficulty = 4", "difficulty = 9");
        assert!(
            problems(&bad_difficulty)
                .iter()
                .any(|p| p.message.contains("difficulty must be 1 to 5") && p.line == 36)
        );
    }

    #[test]
    fn content_hash_ignores_layout_but_not_meaning() {
        let a = parse(GOOD).ok().map(|b| b.questions[0].content.hash());
        let relaid = GOOD.replace(
            "stem = \"Which is a danger sign?\"",
            "stem = \"\"\"\nWhich is a danger sign?\n\"\"\"",
        );
        let b = parse(&relaid).ok().map(|b| b.questions[0].content.hash());
        assert_eq!(a, b);
        let changed = GOOD.replace("Which is a danger sign?", "Which is a general danger sign?");
        let c = parse(&changed).ok().map(|b| b.questions[0].content.hash());
        assert_ne!(a, c);
    }
}
