//! Moodle's GIFT format, the one most alliances already have their questions
//! in. We read the subset that maps onto our kinds and report everything
//! else by line; question_banks/README.md lists what is supported.
//!
//! Supported: `//` comments, `$CATEGORY:` (the last path part becomes the
//! topic), `::title::` (becomes the question id), `[html]`/`[plain]`/
//! `[markdown]` markers (dropped), `{T}`/`{F}`/`{TRUE}`/`{FALSE}`,
//! `{=right ~wrong …}` (single choice), `{~%50%a ~%50%b ~%-100%c …}`
//! (multiple choice: positive weight = correct), per-answer `#feedback`
//! (dropped) and `####general feedback` (the explanation), and the escapes
//! `\:` `\~` `\=` `\#` `\{` `\}` `\\`.
//! Gatekeeper's additions, which Moodle reads as comments: `//! id: …`,
//! `//! title: …`, `//! track: …`, and `//! difficulty: N`, `//! points: N`,
//! `//! reference: …`, which apply to the questions after them.
//! Not supported (reported): essay `{}` (a case needs a rubric: write it in
//! the bank format), numerical `{#…}`, matching `->`, short answer (only
//! `=` answers), missing-word questions with text after the answers.

use std::collections::HashSet;

use crate::domain::banks::{Bank, BankMeta, BankUse, Body, Choice, Content, Problem, Question};

struct Defaults {
    difficulty: u8,
    points: u32,
    reference: String,
}

/// What the parser has gathered so far.
struct State {
    meta: BankMeta,
    defaults: Defaults,
    topic: String,
    questions: Vec<Question>,
    problems: Vec<Problem>,
    seen: HashSet<String>,
}

impl State {
    /// Turns the lines of one question into a question (or a problem).
    fn flush(&mut self, block: &mut Vec<&str>, block_line: usize) {
        if block.is_empty() {
            return;
        }
        let joined = block.join("\n");
        block.clear();
        match question(
            &joined,
            block_line,
            &self.topic,
            &self.defaults,
            self.questions.len() + 1,
        ) {
            Ok(q) if !self.seen.insert(q.key.clone()) => self.problems.push(Problem {
                line: block_line,
                message: format!("duplicate question id \"{}\"", q.key),
            }),
            Ok(q) => self.questions.push(q),
            Err(p) => self.problems.push(p),
        }
    }

    fn directive(&mut self, number: usize, directive: &str) {
        let (key, value) = directive
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .unwrap_or((directive.trim(), ""));
        match key {
            "id" => self.meta.id = value.to_owned(),
            "title" => self.meta.title = value.to_owned(),
            "track" => self.meta.track = value.to_owned(),
            "language" => self.meta.language = value.to_owned(),
            "use" => match BankUse::parse(value) {
                Some(use_for) => self.meta.use_for = use_for,
                None => self.problems.push(Problem {
                    line: number,
                    message: format!("use must be \"exam\" or \"practice\", not \"{value}\""),
                }),
            },
            "difficulty" => match value.parse::<u8>() {
                Ok(d) if (1..=5).contains(&d) => self.defaults.difficulty = d,
                _ => self.problems.push(Problem {
                    line: number,
                    message: format!("difficulty must be 1 to 5, not \"{value}\""),
                }),
            },
            "points" => match value.parse::<u32>() {
                Ok(p) if (1..=100).contains(&p) => self.defaults.points = p,
                _ => self.problems.push(Problem {
                    line: number,
                    message: format!("points must be 1 to 100, not \"{value}\""),
                }),
            },
            "reference" => self.defaults.reference = value.to_owned(),
            other => self.problems.push(Problem {
                line: number,
                message: format!("unknown directive \"{other}\""),
            }),
        }
    }
}

/// Parses a GIFT file. `fallback_id` names the bank when no `//! id:` does.
pub fn parse(text: &str, fallback_id: &str) -> Result<Bank, Vec<Problem>> {
    let mut state = State {
        meta: BankMeta {
            id: fallback_id.to_owned(),
            title: fallback_id.to_owned(),
            track: String::new(),
            version: 1,
            language: "zh-CN".to_owned(),
            sample: false,
            use_for: BankUse::Exam,
        },
        defaults: Defaults {
            difficulty: 3,
            points: 1,
            reference: "GIFT import".to_owned(),
        },
        topic: "general".to_owned(),
        questions: Vec::new(),
        problems: Vec::new(),
        seen: HashSet::new(),
    };
    // The current question's lines and where it started.
    let mut block: Vec<&str> = Vec::new();
    let mut block_line = 0;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if let Some(directive) = line.strip_prefix("//!") {
            state.directive(number, directive);
        } else if line.starts_with("//") {
            continue;
        } else if let Some(category) = line.strip_prefix("$CATEGORY:") {
            state.flush(&mut block, block_line);
            state.topic = slug(category.trim().rsplit('/').next().unwrap_or("general"));
        } else if line.is_empty() {
            state.flush(&mut block, block_line);
        } else {
            if block.is_empty() {
                block_line = number;
            }
            block.push(raw);
        }
    }
    state.flush(&mut block, block_line);

    let State {
        meta,
        questions,
        mut problems,
        ..
    } = state;
    if meta.track.is_empty() {
        problems.push(Problem {
            line: 1,
            message: "no track: add a line `//! track: paediatrics` at the top".into(),
        });
    }
    if questions.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: 1,
            message: "the file has no questions".into(),
        });
    }
    if problems.is_empty() {
        Ok(Bank { meta, questions })
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "general".to_owned()
    } else {
        out
    }
}

/// Splits on an unescaped `ch`, returning the parts (escapes kept).
fn find_unescaped(s: &str, ch: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ch {
            return Some(i);
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(next) => out.push(next),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

fn strip_format(s: &str) -> &str {
    let s = s.trim_start();
    for marker in ["[html]", "[plain]", "[markdown]", "[moodle]"] {
        if let Some(rest) = s.strip_prefix(marker) {
            return rest;
        }
    }
    s
}

fn question(
    block: &str,
    line: usize,
    topic: &str,
    defaults: &Defaults,
    ordinal: usize,
) -> Result<Question, Problem> {
    let fail = |message: String| Problem { line, message };
    let mut rest = block.trim();
    let mut title = None;
    if let Some(after) = rest.strip_prefix("::") {
        let end = after
            .find("::")
            .ok_or_else(|| fail("the title has no closing `::`".into()))?;
        title = Some(after[..end].trim().to_owned());
        rest = after[end + 2..].trim();
    }
    let open = find_unescaped(rest, '{')
        .ok_or_else(|| fail("no answers: a GIFT question needs `{…}`".into()))?;
    let close_rel = find_unescaped(&rest[open + 1..], '}')
        .ok_or_else(|| fail("the answers have no closing `}`".into()))?;
    let close = open + 1 + close_rel;
    let stem = unescape(strip_format(&rest[..open]));
    let answers = &rest[open + 1..close];
    let after = rest[close + 1..].trim();
    if !after.is_empty() {
        return Err(fail(
            "text after the answers (a missing-word question) is not supported".into(),
        ));
    }
    if stem.is_empty() {
        return Err(fail("the question text is empty".into()));
    }
    let key = match title.as_deref().map(slug) {
        Some(t) if t != "general" => t,
        _ => format!("{topic}-{ordinal:03}"),
    };
    let (answers, explanation) = match answers.find("####") {
        Some(i) => (&answers[..i], unescape(strip_format(&answers[i + 4..]))),
        None => (answers, String::new()),
    };
    let answers = answers.trim();
    let mut points = defaults.points;
    let body = match answers.to_ascii_uppercase().as_str() {
        "T" | "TRUE" => Body::TrueFalse { answer: true },
        "F" | "FALSE" => Body::TrueFalse { answer: false },
        "" => return Err(fail("essay questions are not supported: a case needs a rubric, so write it in the bank format".into())),
        _ if answers.starts_with('#') => return Err(fail("numerical questions are not supported".into())),
        _ if answers.contains("->") => return Err(fail("matching questions are not supported".into())),
        _ => {
            let options = choices(answers).map_err(fail)?;
            let correct = options.iter().filter(|o| o.correct).count();
            let has_wrong = options.len() > correct;
            if !has_wrong {
                return Err(fail("short-answer questions (only `=` answers) are not supported".into()));
            }
            if options.iter().any(|o| o.text.is_empty()) {
                return Err(fail("an answer is empty".into()));
            }
            match correct {
                0 => return Err(fail("no correct answer (`=` or a positive `~%n%`)".into())),
                1 => Body::Single { options },
                _ => {
                    points = points.max(2);
                    Body::Multiple { options }
                }
            }
        }
    };
    Ok(Question {
        key,
        topic: topic.to_owned(),
        difficulty: defaults.difficulty,
        points,
        retired: false,
        content: Content {
            stem,
            body,
            explanation: if explanation.is_empty() {
                "—".to_owned()
            } else {
                explanation
            },
            reference: defaults.reference.clone(),
        },
        line,
    })
}

/// `=right ~wrong ~%50%partly` into choices; per-answer `#feedback` dropped.
fn choices(answers: &str) -> Result<Vec<Choice>, String> {
    let mut parts: Vec<(char, String)> = Vec::new();
    let mut current: Option<(char, String)> = None;
    let mut escaped = false;
    for c in answers.chars() {
        if escaped {
            if let Some((_, text)) = current.as_mut() {
                text.push('\\');
                text.push(c);
            }
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | '~' => {
                if let Some(done) = current.take() {
                    parts.push(done);
                }
                current = Some((c, String::new()));
            }
            _ => match current.as_mut() {
                Some((_, text)) => text.push(c),
                None if c.is_whitespace() => {}
                None => return Err("answers must start with `=` or `~`".into()),
            },
        }
    }
    if let Some(done) = current.take() {
        parts.push(done);
    }
    let mut options = Vec::new();
    for (marker, raw) in parts {
        let raw = match find_unescaped(&raw, '#') {
            Some(i) => &raw[..i],
            None => raw.as_str(),
        };
        let (weight, text) = match raw.trim_start().strip_prefix('%') {
            Some(after) => {
                let end = after.find('%').ok_or("a weight `%n%` is not closed")?;
                let weight: f64 = after[..end]
                    .trim()
                    .parse()
                    .map_err(|_| format!("\"{}\" is not a weight", &after[..end]))?;
                (weight, &after[end + 1..])
            }
            None => (if marker == '=' { 100.0 } else { 0.0 }, raw),
        };
        options.push(Choice {
            text: unescape(text),
            correct: weight > 0.0,
        });
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::banks::QuestionKind;

    const SAMPLE: &str = "//! track: paediatrics
//! title: Imported bank
// A plain comment.
$CATEGORY: $course$/Paediatrics/Fever in infants

::danger-1:: Which is a general danger sign? {
  =Unable to drink or breastfeed#Yes
  ~Runny nose#No
  ~Mild cough
  ####IMCI general danger sign.
}

//! difficulty: 4
Fever in an infant under 3 months needs same-day assessment. {T}

Which are signs of severe dehydration? {
  ~%50%Lethargic
  ~%50%Sunken eyes
  ~%-100%Drinks eagerly
}

What is 2 \\{ braces \\}? {=two ~three}
";

    #[test]
    fn supported_questions_import() {
        let bank = parse(SAMPLE, "fallback").ok();
        let Some(bank) = bank else {
            panic!("{:?}", parse(SAMPLE, "fallback").err())
        };
        assert_eq!(bank.meta.track, "paediatrics");
        assert_eq!(bank.meta.title, "Imported bank");
        assert_eq!(bank.meta.id, "fallback");
        assert_eq!(bank.questions.len(), 4);
        let q = &bank.questions[0];
        assert_eq!(q.key, "danger-1");
        assert_eq!(q.topic, "fever-in-infants");
        assert_eq!(q.line, 6);
        assert_eq!(q.content.explanation, "IMCI general danger sign.");
        assert_eq!(
            q.content.body,
            Body::Single {
                options: vec![
                    Choice {
                        text: "Unable to drink or breastfeed".into(),
                        correct: true
                    },
                    Choice {
                        text: "Runny nose".into(),
                        correct: false
                    },
                    Choice {
                        text: "Mild cough".into(),
                        correct: false
                    },
                ]
            }
        );
        assert_eq!(
            bank.questions[1].content.body,
            Body::TrueFalse { answer: true }
        );
        assert_eq!(bank.questions[1].difficulty, 4);
        assert_eq!(bank.questions[1].key, "fever-in-infants-002");
        assert_eq!(
            bank.questions[2].content.body.kind(),
            QuestionKind::Multiple
        );
        assert_eq!(bank.questions[2].points, 2);
        assert_eq!(bank.questions[3].content.stem, "What is 2 { braces }?");
    }

    #[test]
    fn unsupported_features_are_reported_by_line() {
        let text = "//! track: p\n\nWrite an essay. {}\n\nHow many? {#4}\n\nMatch {=a -> b =c -> d}\n\nName it {=cat =feline}\n\nThe {=cat ~dog} sat.\n\nNo answers here\n";
        let problems = parse(text, "x").err().unwrap_or_default();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 5, 7, 9, 11, 13], "{problems:?}");
        assert!(problems[0].message.contains("essay"));
        assert!(problems[1].message.contains("numerical"));
        assert!(problems[2].message.contains("matching"));
        assert!(problems[3].message.contains("short-answer"));
        assert!(problems[4].message.contains("missing-word"));
        assert!(problems[5].message.contains("needs `{"));
    }

    #[test]
    fn a_track_is_required_and_directives_are_checked() {
        let problems = parse("Q? {T}\n", "x").err().unwrap_or_default();
        assert!(problems.iter().any(|p| p.message.contains("no track")));
        let problems = parse("//! track: p\n//! difficulty: 9\nQ? {T}\n", "x")
            .err()
            .unwrap_or_default();
        assert_eq!(problems[0].line, 2);
        let problems = parse("//! track: p\n::same:: A? {T}\n\n::same:: B? {F}\n", "x")
            .err()
            .unwrap_or_default();
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("duplicate") && p.line == 4)
        );
    }
}
