//! Moodle's GIFT format, read the way Moodle reads it
//! (question/format/gift/format.php, `readquestions` in question/format.php
//! for the split into questions), so that a bank exported from Moodle comes
//! over with the same answer keys, or is refused line by line.
//! question_banks/README.md describes the rules for people; in short:
//!
//! - Questions are separated by blank lines; lines starting `//` are
//!   comments (Gatekeeper's own settings are `//!` comments).
//! - A block starting `$CATEGORY:` sets the category: its last part is
//!   the topic of the questions after it.
//! - `::title::` names the question: the title, made a key, is its id;
//!   without one the id is a fingerprint of the content.
//! - The answers are between the first `{` and the first `}`; Moodle
//!   decides the kind from them: nothing is an essay, `#…` numerical, any
//!   `~` multiple choice (single answer when there is an `=`, several
//!   answers otherwise), `=` with `->` matching, `T`/`TRUE`/`F`/`FALSE`
//!   (before any `#feedback`) true/false, anything else short answer.
//! - `%n%` after `~` is the answer's weight in percent; `=` is 100%.
//! - `#` starts an answer's feedback, the last `####` the general feedback.
//! - `[html]`, `[moodle]`, `[plain]`, `[markdown]` before a text give its
//!   format; HTML becomes plain text (`domain::moodle::to_text`).
//! - `\:` `\#` `\=` `\{` `\}` `\~` `\\` and `\n` are escapes; any other
//!   backslash is kept.

use crate::domain::banks::{self, At, Bank, DraftOption, DraftQuestion, Lines, NoteKind, Problem};
use crate::domain::moodle::{self, Import, TextFormat};

/// Where an escaped control character waits while the text is taken apart
/// (Moodle uses `&&058;` and the like; private-use characters cannot clash
/// with a question's own text).
const ESCAPES: [(char, char); 7] = [
    (':', '\u{E03A}'),
    ('#', '\u{E023}'),
    ('=', '\u{E03D}'),
    ('{', '\u{E07B}'),
    ('}', '\u{E07D}'),
    ('~', '\u{E07E}'),
    ('n', '\u{E00A}'),
];

fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek().copied() {
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                    continue;
                }
                Some(next) => {
                    if let Some((_, held)) = ESCAPES.iter().find(|(e, _)| *e == next) {
                        chars.next();
                        out.push(*held);
                        continue;
                    }
                }
                None => {}
            }
        }
        out.push(c);
    }
    out
}

fn restore_controls(text: &str) -> String {
    text.chars()
        .map(|c| match ESCAPES.iter().find(|(_, held)| *held == c) {
            Some(('n', _)) => '\n',
            Some((e, _)) => *e,
            None => c,
        })
        .collect()
}

/// A text with its optional `[format]` marker: the format (or `default`)
/// and the text without the marker, as Moodle's `parse_text_with_format`.
fn with_format(text: &str, default: TextFormat) -> (TextFormat, &str) {
    let text = text.trim();
    if let Some(after) = text.strip_prefix('[')
        && let Some(end) = after.find(']')
        && let Some(format) = TextFormat::from_name(&after[..end])
    {
        return (format, &after[end + 1..]);
    }
    (default, text)
}

/// A GIFT question block's parts, as its braces split it.
struct GiftParts<'a> {
    /// The text around the answers: a blank where they stood inside it.
    stem_text: String,
    /// What the braces hold, without the general feedback.
    answers: &'a str,
    /// The general feedback (after `####`).
    general: &'a str,
    /// The byte offset of the answers in the block.
    answers_at: usize,
    /// The block's first line, and the line the answers start on.
    block_line: usize,
    answers_line: usize,
}

/// The problem of a question kind Moodle knows and Gatekeeper does not deliver.
fn unsupported(kind: &str, why: &str) -> String {
    format!("{kind} questions are not supported: {why}")
}

/// The title, if any, and where the rest of the block starts (with the
/// rest); without a closing `::` Moodle keeps the rest as the question text.
fn gift_title(text: &str) -> (Option<String>, usize, &str) {
    let mut body_start = 0;
    let mut title = None;
    if let Some(after) = text.strip_prefix("::") {
        body_start = 2;
        if let Some(end) = after.find("::") {
            title = Some(restore_controls(after[..end].trim()));
            body_start = 2 + end + 2;
        }
    }
    let rest = &text[body_start..];
    let lead = rest.len() - rest.trim_start().len();
    (title, body_start + lead, rest.trim_start())
}

impl Import {
    /// One block of lines (a question, a category or a description),
    /// `first` the line number of its first line.
    fn gift_block(&mut self, lines: &[&str], first: usize) {
        let joined = lines.join("\n");
        let text = escape_controls(&joined);
        let index = Lines::new(&text);
        let line_at = |offset: usize| first + index.line(offset) - 1;
        let text = text.trim_end();

        if let Some(category) = text.strip_prefix("$CATEGORY:") {
            self.gift_category(category, first, &line_at);
            return;
        }
        let (title, base, rest) = gift_title(text);
        let Some(parts) = self.gift_parts(rest, base, first, title.as_deref(), &line_at) else {
            return;
        };
        let (format, stem) = with_format(&parts.stem_text, TextFormat::Moodle);
        let mut converted = false;
        let Some(stem) = self.gift_text(stem, format, parts.block_line, &mut converted) else {
            return;
        };
        let (general_format, general) = with_format(parts.general, format);
        let Some(explanation) =
            self.gift_text(general, general_format, parts.answers_line, &mut converted)
        else {
            return;
        };
        let Some(mut draft) = self.gift_draft(&parts, stem, format, &mut converted, &line_at)
        else {
            return;
        };
        if explanation.is_empty() {
            self.note(parts.block_line, NoteKind::NoExplanation, "");
            draft.explanation = At::new("—".to_owned(), parts.answers_line);
        } else {
            draft.explanation = At::new(explanation, parts.answers_line);
        }
        if converted {
            self.note(parts.block_line, NoteKind::ConvertedHtml, "");
        }
        // Every question passes the same rules as the bank format's; the id
        // is given once all questions are read (it may need the others).
        self.keep(draft, title);
    }

    /// A `$CATEGORY:` block: the category, unless lines follow it.
    fn gift_category(&mut self, category: &str, first: usize, line_at: &impl Fn(usize) -> usize) {
        if let Some(newline) = category.find('\n') {
            let at = line_at("$CATEGORY:".len() + newline + 1);
            self.problem(
                at,
                "a `$CATEGORY:` line needs a blank line after it: Moodle reads the lines that follow as part of the category name",
            );
            return;
        }
        self.category(first, &restore_controls(category));
    }

    /// The block split at its braces; `None` when it is a description (noted)
    /// or its braces are wrong (a problem).
    fn gift_parts<'a>(
        &mut self,
        rest: &'a str,
        base: usize,
        first: usize,
        title: Option<&str>,
        line_at: &impl Fn(usize) -> usize,
    ) -> Option<GiftParts<'a>> {
        let open = rest.find('{');
        let close = rest.find('}');
        let (open, close) = match (open, close) {
            (None, None) => {
                self.note(
                    first,
                    NoteKind::DroppedDescription,
                    title.map_or_else(|| shorten(&restore_controls(rest)), str::to_owned),
                );
                return None;
            }
            (Some(open), None) => {
                self.problem(line_at(base + open), "the answers have no closing `}`");
                return None;
            }
            (None, Some(close)) => {
                self.problem(
                    line_at(base + close),
                    "a `}` without the `{` that opens the answers",
                );
                return None;
            }
            (Some(open), Some(close)) if close < open => {
                self.problem(
                    line_at(base + close),
                    "a `}` before the `{` that opens the answers (write `\\}` for a brace in the text)",
                );
                return None;
            }
            (Some(open), Some(close)) => (open, close),
        };
        if let Some(extra) = rest[close + 1..].find(['{', '}']) {
            self.problem(
                line_at(base + close + 1 + extra),
                "a second `{…}` after the answers: Moodle reads only the first (write `\\{` and `\\}` for braces in the text)",
            );
            return None;
        }
        let answers_at = base + open + 1;
        let inner = &rest[open + 1..close];
        let lead = inner.len() - inner.trim_start().len();
        let answers_at = answers_at + lead;
        let mut answers = inner.trim();
        // A question that ends with its answers has no blank; otherwise it is
        // a missing-word question and the answers' place is a blank.
        let stem_text = if close + 1 == rest.len() {
            format!("{}{}", &rest[..open], &rest[close + 1..])
        } else {
            format!("{}_____{}", &rest[..open], &rest[close + 1..])
        };
        let mut general = "";
        if let Some(i) = answers.rfind("####") {
            general = &answers[i + 4..];
            answers = answers[..i].trim_end();
        }
        Some(GiftParts {
            stem_text,
            answers,
            general,
            answers_at,
            block_line: first,
            answers_line: line_at(answers_at.saturating_sub(1)),
        })
    }

    /// A text in `format`, as plain text; `None` (and a problem at `line`)
    /// if it cannot be converted. Sets `converted` when HTML was converted.
    fn gift_text(
        &mut self,
        raw: &str,
        format: TextFormat,
        line: usize,
        converted: &mut bool,
    ) -> Option<String> {
        match moodle::to_text(&restore_controls(raw), format) {
            Ok(c) => {
                *converted |= c.converted;
                Some(c.text)
            }
            Err(message) => {
                self.problem(line, message);
                None
            }
        }
    }

    /// The question, of the kind decided as Moodle decides it; `None` (with
    /// a problem) for the kinds Gatekeeper does not deliver.
    fn gift_draft(
        &mut self,
        parts: &GiftParts<'_>,
        stem: String,
        format: TextFormat,
        converted: &mut bool,
        line_at: &impl Fn(usize) -> usize,
    ) -> Option<DraftQuestion> {
        let answers = parts.answers;
        let block_line = parts.block_line;
        if answers.is_empty() {
            self.problem(
                block_line,
                unsupported(
                    "essay",
                    "Moodle reads `{}` as an essay; a case needs a rubric, so write it in the bank format",
                ),
            );
            None
        } else if answers.starts_with('#') {
            self.problem(
                block_line,
                unsupported("numerical", "Gatekeeper delivers no numerical answers"),
            );
            None
        } else if answers.contains('~') {
            let single = answers.contains('=');
            let options = self.gift_options(parts, format, converted, line_at)?;
            let kind = if single { "single" } else { "multiple" };
            Some(self.draft(
                kind,
                block_line,
                stem,
                Some(At::new(options, parts.answers_line)),
                None,
            ))
        } else if answers.contains('=') && answers.contains("->") {
            self.problem(
                block_line,
                unsupported("matching", "Gatekeeper delivers no matching questions"),
            );
            None
        } else {
            self.gift_true_false(answers, block_line, stem)
        }
    }

    /// The options of a multiple-choice question; `None` if one has a problem
    /// (the answer at fault is reported; the question as a whole would only
    /// repeat it).
    fn gift_options(
        &mut self,
        parts: &GiftParts<'_>,
        format: TextFormat,
        converted: &mut bool,
        line_at: &impl Fn(usize) -> usize,
    ) -> Option<Vec<DraftOption>> {
        let mut options = Vec::new();
        let mut feedback = false;
        let before = self.problems.len();
        for (offset, answer) in split_answers(parts.answers) {
            let line = line_at(parts.answers_at + offset);
            let answer = answer.trim();
            let (weight, answer) = if let Some(full) = answer.strip_prefix('=') {
                if let Ok(Some(_)) | Err(_) = moodle::gift_weight(full.trim_start()) {
                    self.problem(
                        line,
                        "`=` marks a 100% answer in a multiple-choice question: Moodle would keep the `%…%` as answer text; write `~%n%` for a weight",
                    );
                    continue;
                }
                (100.0, full)
            } else {
                match moodle::gift_weight(answer) {
                    Ok(Some((w, rest))) => (w, rest),
                    Ok(None) => (0.0, answer),
                    Err(message) => {
                        self.problem(line, message);
                        continue;
                    }
                }
            };
            let (answer, comment) = answer.split_once('#').unwrap_or((answer, ""));
            if answer.trim().is_empty() {
                // Moodle skips an answer without text when it saves.
                continue;
            }
            feedback |= !comment.trim().is_empty();
            let (answer_format, answer) = with_format(answer, format);
            let Some(text) = self.gift_text(answer, answer_format, line, converted) else {
                continue;
            };
            options.push(DraftOption {
                text,
                correct: None,
                weight: Some(weight),
                line,
            });
        }
        if self.problems.len() > before {
            return None;
        }
        if feedback {
            self.note(parts.block_line, NoteKind::DroppedAnswerFeedback, "");
        }
        Some(options)
    }

    /// A true/false question (`{T}`, `{FALSE#feedback}`); anything else left
    /// is a short-answer question, which Gatekeeper does not deliver.
    fn gift_true_false(
        &mut self,
        answers: &str,
        block_line: usize,
        stem: String,
    ) -> Option<DraftQuestion> {
        let check = match answers.find('#') {
            Some(i) if i > 0 => answers[..i].trim(),
            _ => answers,
        };
        match check {
            "T" | "TRUE" | "F" | "FALSE" => {
                let mut parts = answers.splitn(3, '#');
                let value = parts.next().unwrap_or_default().trim();
                if parts.any(|f| !f.trim().is_empty()) {
                    self.note(block_line, NoteKind::DroppedAnswerFeedback, "");
                }
                Some(self.draft(
                    "true_false",
                    block_line,
                    stem,
                    None,
                    Some(value == "T" || value == "TRUE"),
                ))
            }
            _ => {
                self.problem(
                    block_line,
                    unsupported(
                        "short-answer",
                        "Moodle reads answers with `=` and no `~` as typed-in short answers (e.g. `{=Frog =%50%Cat}`), which Gatekeeper does not deliver",
                    ),
                );
                None
            }
        }
    }
}

/// The answers of a multiple-choice question, split where Moodle splits
/// them: at every `~` and `=` (escaped ones are held apart already), `=`
/// staying at the start of its answer. Moodle drops an empty first piece
/// (nothing before the first mark); text before the first mark is an
/// answer like the others. Each with its byte offset in `answers`.
fn split_answers(answers: &str) -> Vec<(usize, &str)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, c) in answers.char_indices() {
        match c {
            '~' => {
                pieces.push((start, &answers[start..i]));
                start = i + 1;
            }
            '=' => {
                pieces.push((start, &answers[start..i]));
                start = i;
            }
            _ => {}
        }
    }
    pieces.push((start, &answers[start..]));
    if pieces.first().is_some_and(|(_, p)| p.trim().is_empty()) {
        pieces.remove(0);
    }
    pieces
}

fn shorten(text: &str) -> String {
    let t: String = text.trim().chars().take(40).collect();
    t.replace('\n', " ")
}

/// Whether a `.txt` file found in a banks folder is GIFT: it has a
/// Gatekeeper `//!` line, a `$CATEGORY:` line, a line starting with
/// `::title::`, or a line with answers in braces. What Moodle's GIFT
/// exporter writes always has these; a note or a README does not.
pub fn looks_like_gift(text: &str) -> bool {
    banks::without_bom(text).lines().any(|line| {
        let line = line.trim();
        line.starts_with("//!")
            || line.starts_with("$CATEGORY:")
            || (line.starts_with("::") && line[2..].contains("::"))
            || line
                .find('{')
                .is_some_and(|open| line[open..].contains('}'))
    })
}

/// Parses a GIFT file. `fallback_id` names the bank when no `//! id:` does.
pub fn parse(text: &str, fallback_id: &str) -> Result<Bank, Vec<Problem>> {
    let text = banks::without_bom(text);
    let mut state = Import::new(fallback_id, "GIFT import");
    // The current block's lines and where it started.
    let mut block: Vec<&str> = Vec::new();
    let mut first = 0;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim();
        if let Some(directive) = line.strip_prefix("//!") {
            state.directive(number, directive);
            if !block.is_empty() {
                block.push("");
            }
        } else if line.starts_with("//") {
            // A comment inside a question is a blank in Moodle's text.
            if !block.is_empty() {
                block.push("");
            }
        } else if line.is_empty() || line == "0" {
            // Moodle ends a question at a line PHP calls empty, and PHP
            // calls "0" empty too.
            if !block.is_empty() {
                state.gift_block(&block, first);
                block.clear();
            }
        } else {
            if block.is_empty() {
                first = number;
            }
            block.push(line);
        }
    }
    if !block.is_empty() {
        state.gift_block(&block, first);
    }

    state.finish()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;
    use crate::domain::banks::{Body, Choice, Question, QuestionKind, Weight};

    fn bank(text: &str) -> Bank {
        match parse(text, "fallback") {
            Ok(bank) => bank,
            Err(problems) => panic!("{problems:?}"),
        }
    }

    fn problems(text: &str) -> Vec<Problem> {
        parse(text, "fallback").err().unwrap_or_default()
    }

    fn weights(q: &Question) -> Vec<Option<f64>> {
        match &q.content.body {
            Body::Single { options } | Body::Multiple { options } => options
                .iter()
                .map(|o| o.weight.map(Weight::percent))
                .collect(),
            _ => Vec::new(),
        }
    }

    // Material written for these tests in the style of a Moodle export:
    // each construct of the GIFT documentation with its expected outcome.
    const SAMPLE: &str = "//! track: paediatrics
//! title: Imported bank
// question: 101  name: danger-1   (Moodle's exporter writes such comments)
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
    fn the_documented_constructs_import() {
        let bank = bank(SAMPLE);
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
                    Choice::plain("Unable to drink or breastfeed", true),
                    Choice::plain("Runny nose", false),
                    Choice::plain("Mild cough", false),
                ]
            },
            "weights that only mark the right answer are no weights"
        );
        assert_eq!(
            bank.questions[1].content.body,
            Body::TrueFalse { answer: true }
        );
        assert_eq!(bank.questions[1].difficulty, 4);
        assert!(
            bank.questions[1].key.starts_with("q-"),
            "untitled: fingerprint"
        );
        let multiple = &bank.questions[2];
        assert_eq!(multiple.content.body.kind(), QuestionKind::Multiple);
        assert_eq!(multiple.points, 1, "Moodle's default mark, unchanged");
        assert_eq!(
            weights(multiple),
            vec![Some(50.0), Some(50.0), Some(-100.0)]
        );
        assert_eq!(bank.questions[3].content.stem, "What is 2 { braces }?");
        assert!(
            bank.notes
                .iter()
                .any(|n| n.kind == NoteKind::DroppedAnswerFeedback && n.line == 6)
        );
    }

    #[test]
    fn single_choice_keeps_partial_credit() {
        // The example: the best answer alone is right; a partly
        // right answer earns half.
        let b = bank(
            "//! track: p\n\nA feverish child: first? {=Assess danger signs ~%50%Take temperature ~Give antibiotics}\n",
        );
        let q = &b.questions[0];
        assert_eq!(q.content.body.kind(), QuestionKind::Single);
        assert_eq!(weights(q), vec![Some(100.0), Some(50.0), Some(0.0)]);
        let correct: Vec<bool> = match &q.content.body {
            Body::Single { options } => options.iter().map(|o| o.correct).collect(),
            _ => Vec::new(),
        };
        assert_eq!(correct, vec![true, false, false]);
    }

    #[test]
    fn kinds_are_decided_as_moodle_decides_them() {
        let text = "//! track: p

Short answer with a wildcard {=Frog =%50%Cat =%0%*}

Write an essay. {}

How many? {#4:1}

Match {=a -> b =c -> d =e -> f}

Lower-case true is short answer in Moodle {true}

No answers here, a description.
";
        let p = problems(text);
        let found: Vec<(usize, bool)> = p
            .iter()
            .map(|p| (p.line, p.message.contains("not supported")))
            .collect();
        assert_eq!(
            found,
            vec![(3, true), (5, true), (7, true), (9, true), (11, true)],
            "{p:?}"
        );
        assert!(p[0].message.starts_with("short-answer questions"));
        assert!(p[1].message.starts_with("essay questions"));
        assert!(p[2].message.starts_with("numerical questions"));
        assert!(p[3].message.starts_with("matching questions"));
        assert!(p[4].message.starts_with("short-answer questions"));
        // The description alone is not a problem: it is left out, and said so.
        let b = bank("//! track: p\n\nRead this first.\n\nQ? {T}\n");
        assert_eq!(b.questions.len(), 1);
        assert_eq!(b.notes[0].kind, NoteKind::DroppedDescription);
        assert_eq!(b.notes[0].line, 3);
    }

    #[test]
    fn true_false_with_feedback_is_what_moodle_exports() {
        let b = bank(
            "//! track: p\n\n::tf1:: Fever under 3 months is high risk. {TRUE#That is wrong.#Right.}\n\n::tf2:: Antibiotics for every cold. {F}\n\n::tf3:: The sky is green. {FALSE#Feedback}\n",
        );
        let answers: Vec<Body> = b.questions.iter().map(|q| q.content.body.clone()).collect();
        assert_eq!(
            answers,
            vec![
                Body::TrueFalse { answer: true },
                Body::TrueFalse { answer: false },
                Body::TrueFalse { answer: false },
            ]
        );
        assert!(
            b.notes
                .iter()
                .any(|n| n.kind == NoteKind::DroppedAnswerFeedback)
        );
    }

    #[test]
    fn multiple_answers_need_weights_that_add_up() {
        let p = problems("//! track: p\n\nQ? {\n~%50%a\n~%40%b\n~c\n}\n");
        assert!(
            p.iter()
                .any(|p| p.message.contains("add up to 90%") && p.line == 3),
            "{p:?}"
        );
        // Thirds add up as Moodle rounds them.
        let b = bank("//! track: p\n\nQ? {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}\n");
        assert_eq!(b.questions[0].content.body.kind(), QuestionKind::Multiple);
        // One option at 100% without `=` is a multiple-answer question with
        // one right answer: refused, as in the bank format.
        let p = problems("//! track: p\n\nQ? {~%100%a ~b ~c}\n");
        assert!(p[0].message.contains("at least two correct"), "{p:?}");
    }

    #[test]
    fn weights_and_answers_are_reported_at_their_own_line() {
        let text = "//! track: p\n\nQ? {\n=right\n~%half%partly\n~wrong\n}\n\nR? {\n=%50%odd\n~x\n~y\n}\n\nS? {\n~%-25%neg\n=right\n~other\n}\n";
        let p = problems(text);
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 10, 16], "{p:?}");
        assert!(p[0].message.contains("not a weight"));
        assert!(p[1].message.contains("`=` marks a 100% answer"));
        assert!(p[2].message.contains("cannot take marks away"));
    }

    #[test]
    fn the_same_rules_as_the_bank_format() {
        let eight = "//! track: p\n\nQ? {=a ~b ~c ~d ~e ~f ~g ~h}\n";
        let p = problems(eight);
        assert!(
            p.iter().any(|p| p.message == "needs 2 to 6 options, has 8"),
            "{p:?}"
        );
        let same = "//! track: p\n\nQ? {\n=same\n~other\n~same\n}\n";
        let p = problems(same);
        assert!(
            p.iter()
                .any(|p| p.message.contains("same text") && p.line == 6),
            "{p:?}"
        );
        let p = problems("//! track: p\n//! id: my bank\n\nQ? {T}\n");
        assert!(
            p.iter().any(|p| p.message.contains("bank id \"my bank\"")),
            "{p:?}"
        );
        let p = problems("//! track: Paediatrics Track\n\nQ? {T}\n");
        assert!(
            p.iter()
                .any(|p| p.message.contains("track \"Paediatrics Track\""))
        );
        // Moodle skips an answer without text; one answer is too few.
        let p = problems("//! track: p\n\nQ? {=a ~}\n");
        assert!(
            p.iter().any(|p| p.message == "needs 2 to 6 options, has 1"),
            "{p:?}"
        );
        let p = problems("//! track: p\n\nQ? {=a ~[html]<p></p> ~b}\n");
        assert!(p.iter().any(|p| p.message == "an option is empty"), "{p:?}");
    }

    #[test]
    fn chinese_categories_and_titles_are_kept() {
        let b = bank(
            "//! track: p\n$CATEGORY: $course$/儿科/发热\n\n::发热 1:: 3个月以下婴儿发热需要当天评估。 {T}\n\n::发热 2:: 退热药可以预防热性惊厥。 {F}\n\n$CATEGORY: $course$/儿科/腹泻\n\n::腹泻 1:: 口服补液盐是首选。 {T}\n",
        );
        let keys: Vec<(&str, &str)> = b
            .questions
            .iter()
            .map(|q| (q.key.as_str(), q.topic.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![("发热-1", "发热"), ("发热-2", "发热"), ("腹泻-1", "腹泻")]
        );
    }

    #[test]
    fn a_category_names_its_topic_in_the_bank_language() {
        let b = bank(SAMPLE);
        // The category's last part as written, in the bank's language
        // (zh-CN unless a `//! language:` line says otherwise).
        assert_eq!(
            b.topics.of("fever-in-infants"),
            [("zh-CN".to_owned(), "Fever in infants".to_owned())].into()
        );
        let b = bank(&format!("//! language: en\n{SAMPLE}"));
        assert_eq!(
            b.topics
                .of("fever-in-infants")
                .get("en")
                .map(String::as_str),
            Some("Fever in infants")
        );
        // The default topic has no category, so no name.
        let b = bank("//! track: p\n\nQ? {T}\n");
        assert_eq!(b.questions[0].topic, "general");
        assert!(b.topics.is_empty());
    }

    #[test]
    fn a_category_line_needs_a_blank_line_after_it() {
        let p = problems("//! track: p\n$CATEGORY: a/b\n::q:: Q? {T}\n");
        assert_eq!(p[0].line, 3, "{p:?}");
    }

    #[test]
    fn ids_do_not_depend_on_position() {
        let a = "//! track: p\n\nFirst? {T}\n\nSecond? {=x ~y}\n";
        let b = "//! track: p\n\nInserted? {F}\n\nSecond? {=x ~y}\n\nFirst? {T}\n";
        let keys = |t: &str| -> Vec<(String, String)> {
            bank(t)
                .questions
                .into_iter()
                .map(|q| (q.content.stem, q.key))
                .collect()
        };
        let before = keys(a);
        let after = keys(b);
        for (stem, key) in &before {
            assert!(
                after.contains(&(stem.clone(), key.clone())),
                "{stem} kept {key}"
            );
        }
        // A title used twice: each id carries its fingerprint; the same
        // question twice is refused.
        let twice = bank("//! track: p\n\n::Q1:: A? {T}\n\n::Q1:: B? {T}\n");
        assert_ne!(twice.questions[0].key, twice.questions[1].key);
        assert!(twice.questions[0].key.starts_with("q1-"));
        let p = problems("//! track: p\n\nA? {T}\n\nA? {T}\n");
        assert!(
            p[0].message.contains("the same question as line 3"),
            "{p:?}"
        );
    }

    #[test]
    fn format_markers_and_html_become_text() {
        let b = bank(
            "//! track: p\n\n::h:: [html]<p>Which is <b>most</b> likely?</p> {\n=[html]<i>Sepsis</i>\n~Cold &amp; flu\n~[plain]<b>literal</b>\n####[html]<p>Because.</p>}\n\n::m:: [markdown]**Bold** stays {T}\n",
        );
        let q = &b.questions[0];
        assert_eq!(q.content.stem, "Which is most likely?");
        assert_eq!(q.content.explanation, "Because.");
        let texts: Vec<&str> = match &q.content.body {
            Body::Single { options } => options.iter().map(|o| o.text.as_str()).collect(),
            _ => Vec::new(),
        };
        assert_eq!(texts, vec!["Sepsis", "Cold & flu", "<b>literal</b>"]);
        assert_eq!(b.questions[1].content.stem, "**Bold** stays");
        assert!(b.notes.iter().any(|n| n.kind == NoteKind::ConvertedHtml));
        let p =
            problems("//! track: p\n\n[html]<p>See <img src=\"@@PLUGINFILE@@/x.png\"></p> {T}\n");
        assert!(p[0].message.contains("image"), "{p:?}");
    }

    #[test]
    fn escapes_and_missing_words() {
        let b = bank(
            "//! track: p\n\nRatio 1\\:2, \\#1, a\\~b, a\\=b, C:\\\\dir and \\q {=yes ~no}\n\nThe {=heart ~lung ~liver} pumps blood.\n",
        );
        assert_eq!(
            b.questions[0].content.stem,
            "Ratio 1:2, #1, a~b, a=b, C:\\dir and \\q"
        );
        assert_eq!(b.questions[1].content.stem, "The _____ pumps blood.");
    }

    #[test]
    fn gift_text_files_are_told_from_notes() {
        assert!(looks_like_gift("// question: 1\n::q1::Q? {T}\n"));
        assert!(looks_like_gift("\u{feff}$CATEGORY: $course$/x\n"));
        assert!(looks_like_gift("//! track: p\n"));
        assert!(looks_like_gift("Q? {=a ~b}\n"));
        assert!(!looks_like_gift(
            "Notes for the committee.\nSee the README.\n"
        ));
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_track() {
        let b = bank("\u{feff}//! track: paediatrics\n\nQ? {T}\n");
        assert_eq!(b.meta.track, "paediatrics");
    }

    #[test]
    fn a_track_is_required_and_directives_are_checked() {
        let p = problems("Q? {T}\n");
        assert!(p.iter().any(|p| p.message.contains("no track")));
        let p = problems("//! track: p\n//! difficulty: 9\nQ? {T}\n");
        assert_eq!(p[0].line, 2);
        let p = problems("//! track: p\n\n::same:: A? {T}\n\n::same:: A? {T}\n");
        assert!(
            p.iter()
                .any(|p| p.message.contains("duplicate") && p.line == 5)
        );
        let p = problems("//! track: p\n\nQ? {=a ~b\n");
        assert!(p[0].message.contains("no closing"));
        let p = problems("//! track: p\n\nQ? {=a ~b} and {=c ~d}\n");
        assert!(p[0].message.contains("second"), "{p:?}");
    }
}
