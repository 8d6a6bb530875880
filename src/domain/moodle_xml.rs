//! Moodle XML, the other format Moodle exports question banks in, read with
//! the same mapping and rules as GIFT (`domain::moodle`, `domain::banks`):
//! Moodle's own reader is question/format/xml/format.php
//! (`import_multichoice`, `import_truefalse`, `import_headers`, and
//! `readquestions` for categories). In short:
//!
//! - `<quiz>` holds `<question type="…">` elements. `type="category"`
//!   sets the category (`<category><text>$course$/儿科/发热</text>`): its
//!   last part is the topic of the questions after it.
//! - `multichoice` is single choice when `<single>` is `true` (or `1`),
//!   multiple choice otherwise; each `<answer fraction="…">` is an option
//!   whose fraction (in percent) is its weight. `truefalse` is true/false:
//!   the answer `true` or `false` with fraction 100 is the right one.
//! - `<name>` is the title (the id, as in GIFT); `<questiontext>`,
//!   `<generalfeedback>` (the explanation) and the answers' texts are
//!   converted by their `format` attribute; `<hidden>1</hidden>` imports
//!   the question retired; `<defaultgrade>` is its points (whole, 1-100).
//! - Files (`<file encoding="base64">`, images inside the text, data URIs)
//!   are refused: Gatekeeper questions are text.
//! - Every other type (short answer, numerical, essay, matching, cloze,
//!   calculated, drag and drop, …) is refused by line, naming the type;
//!   a `description` is left out, and listed.
//! - Gatekeeper's own settings are `//!` lines inside an XML comment
//!   (`<!-- //! track: paediatrics -->`), which apply where they stand,
//!   as in GIFT.

use roxmltree::{Document, Node};

use crate::domain::banks::{self, At, Bank, DraftOption, DraftQuestion, Lines, NoteKind, Problem};
use crate::domain::moodle::{self, Import, TextFormat};
use crate::domain::numbers::whole_i64;

/// Whether a file's text is a Moodle XML export (its root is `<quiz>`).
pub fn looks_like_moodle_xml(text: &str) -> bool {
    let head: String = banks::without_bom(text).chars().take(4096).collect();
    head.contains("<quiz")
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The `<text>` of a child element (`<name><text>…</text></name>`), or its
/// own text, with the element's `format`.
fn text_of<'a, 'input>(
    node: Node<'a, 'input>,
    name: &str,
) -> Option<(&'a str, Option<&'a str>, Node<'a, 'input>)> {
    let element = child(node, name)?;
    let text = child(element, "text")
        .and_then(|t| t.text())
        .or_else(|| element.text())
        .unwrap_or_default();
    Some((text, element.attribute("format"), element))
}

/// Moodle's readable name of a question type it exports.
fn type_name(qtype: &str) -> String {
    match qtype {
        "shortanswer" => "short-answer".into(),
        "numerical" => "numerical".into(),
        "essay" => "essay".into(),
        "matching" => "matching".into(),
        "cloze" | "multianswer" => "embedded-answers (cloze)".into(),
        "calculated" | "calculatedsimple" | "calculatedmulti" => "calculated".into(),
        "ddwtos" | "ddimageortext" | "ddmarker" => "drag-and-drop".into(),
        "gapselect" => "select-missing-words".into(),
        "randomsamatch" => "random short-answer matching".into(),
        other => format!("\"{other}\""),
    }
}

fn is_true(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some("true" | "1"))
}

impl Import {
    /// Converts a text in a Moodle `format` attribute's format (Moodle's
    /// XML default is HTML); refuses files embedded in the element.
    fn xml_text(
        &mut self,
        text: &str,
        format: Option<&str>,
        element: Node<'_, '_>,
        line: usize,
        converted: &mut bool,
    ) -> Option<String> {
        if element
            .children()
            .any(|c| c.is_element() && c.tag_name().name() == "file")
        {
            self.problem(
                line,
                "an embedded file (<file>, e.g. an image) cannot be imported: Gatekeeper questions are text",
            );
            return None;
        }
        if text.contains("data:image") || text.contains("@@PLUGINFILE@@") {
            self.problem(
                line,
                "an image cannot be imported: Gatekeeper questions are text; describe the image in words or leave the question out",
            );
            return None;
        }
        let format = match format {
            None => TextFormat::Html,
            Some(name) => match TextFormat::from_name(name) {
                Some(f) => f,
                None => {
                    self.problem(line, format!("unknown text format \"{name}\""));
                    return None;
                }
            },
        };
        match moodle::to_text(text, format) {
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

    fn xml_question(&mut self, q: Node<'_, '_>, lines: &Lines) {
        let line = lines.line(q.range().start);
        let at = |n: Node<'_, '_>| lines.line(n.range().start);
        let qtype = q.attribute("type").unwrap_or_default();
        if qtype == "category" {
            match text_of(q, "category") {
                Some((path, _, _)) => self.category(line, path),
                None => self.problem(line, "a category without `<category><text>`"),
            }
            return;
        }
        let title = text_of(q, "name")
            .map(|(t, _, _)| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        if !self.xml_supported(qtype, line, title.as_deref()) {
            return;
        }
        let mut converted = false;
        let Some((stem, format, element)) = text_of(q, "questiontext") else {
            self.problem(line, "a question without <questiontext>");
            return;
        };
        let stem_line = at(element);
        let Some(stem) = self.xml_text(stem, format, element, stem_line, &mut converted) else {
            return;
        };
        let explanation = match text_of(q, "generalfeedback") {
            Some((text, format, element)) => {
                let Some(t) = self.xml_text(text, format, element, at(element), &mut converted)
                else {
                    return;
                };
                t
            }
            None => String::new(),
        };
        let before = self.problems.len();
        let mut feedback = false;
        let mut draft = if qtype == "multichoice" {
            self.xml_choice(q, lines, stem, &mut converted, &mut feedback)
        } else {
            self.xml_true_false(q, lines, stem, &mut feedback)
        };
        if self.problems.len() > before || !self.xml_points(q, lines, &mut draft) {
            return;
        }
        draft.retired = is_true(child(q, "hidden").and_then(|h| h.text()));
        self.xml_notes(q, line, feedback, converted);
        let explanation_line = child(q, "generalfeedback").map(at).unwrap_or(line);
        if explanation.is_empty() {
            self.note(line, NoteKind::NoExplanation, "");
            draft.explanation = At::new("—".to_owned(), explanation_line);
        } else {
            draft.explanation = At::new(explanation, explanation_line);
        }
        self.keep(draft, title);
    }

    /// Whether Gatekeeper delivers questions of `qtype`; a description is
    /// noted as dropped, any other type is a problem.
    fn xml_supported(&mut self, qtype: &str, line: usize, title: Option<&str>) -> bool {
        match qtype {
            "multichoice" | "truefalse" => true,
            "description" => {
                self.note(
                    line,
                    NoteKind::DroppedDescription,
                    title.unwrap_or_default(),
                );
                false
            }
            "" => {
                self.problem(line, "a <question> without a type");
                false
            }
            other => {
                self.problem(
                    line,
                    format!(
                        "{} questions are not supported: Gatekeeper delivers single choice, multiple choice and true/false",
                        type_name(other)
                    ),
                );
                false
            }
        }
    }

    /// The answers of `q`.
    fn xml_answers<'a, 'input>(q: Node<'a, 'input>) -> Vec<Node<'a, 'input>> {
        q.children()
            .filter(|c| c.is_element() && c.tag_name().name() == "answer")
            .collect()
    }

    /// A multichoice question: single or multiple choice, an option per
    /// answer with text, weighted by its fraction.
    fn xml_choice(
        &mut self,
        q: Node<'_, '_>,
        lines: &Lines,
        stem: String,
        converted: &mut bool,
        feedback: &mut bool,
    ) -> DraftQuestion {
        let line = lines.line(q.range().start);
        let at = |n: Node<'_, '_>| lines.line(n.range().start);
        let answers = Self::xml_answers(q);
        let mut options = Vec::new();
        for a in &answers {
            let a_line = at(*a);
            let fraction = a.attribute("fraction").unwrap_or("0");
            let Ok(weight) = fraction.trim().parse::<f64>() else {
                self.problem(a_line, format!("fraction \"{fraction}\" is not a number"));
                continue;
            };
            let raw = child(*a, "text").and_then(|t| t.text()).unwrap_or_default();
            if raw.trim().is_empty() {
                // Moodle skips an answer without text when it saves.
                continue;
            }
            let Some(text) = self.xml_text(raw, a.attribute("format"), *a, a_line, converted)
            else {
                continue;
            };
            *feedback |= text_of(*a, "feedback").is_some_and(|(t, _, _)| !t.trim().is_empty());
            options.push(DraftOption {
                text,
                correct: None,
                weight: Some(weight),
                line: a_line,
            });
        }
        let single = is_true(child(q, "single").and_then(|s| s.text()));
        let options_line = answers.first().map(|a| at(*a)).unwrap_or(line);
        self.draft(
            if single { "single" } else { "multiple" },
            line,
            stem,
            Some(At::new(options, options_line)),
            None,
        )
    }

    /// A true/false question: the answer with fraction 100 is the right one.
    fn xml_true_false(
        &mut self,
        q: Node<'_, '_>,
        lines: &Lines,
        stem: String,
        feedback: &mut bool,
    ) -> DraftQuestion {
        let line = lines.line(q.range().start);
        let mut answer = None;
        for a in &Self::xml_answers(q) {
            let raw = child(*a, "text").and_then(|t| t.text()).unwrap_or_default();
            let value = match raw.trim().to_lowercase().as_str() {
                "true" => true,
                "false" => false,
                other => {
                    self.problem(
                        lines.line(a.range().start),
                        format!("a true/false answer is `true` or `false`, not \"{other}\""),
                    );
                    continue;
                }
            };
            *feedback |= text_of(*a, "feedback").is_some_and(|(t, _, _)| !t.trim().is_empty());
            let full = a
                .attribute("fraction")
                .and_then(|f| f.trim().parse::<f64>().ok())
                .is_some_and(|f| f == 100.0);
            if full {
                answer = Some(value);
            }
        }
        self.draft("true_false", line, stem, None, answer)
    }

    /// The question's default mark as its points; false (with a problem)
    /// when it is not a whole number from 1 to 100.
    fn xml_points(&mut self, q: Node<'_, '_>, lines: &Lines, draft: &mut DraftQuestion) -> bool {
        let line = lines.line(q.range().start);
        let Some(grade) = child(q, "defaultgrade").and_then(|g| g.text()) else {
            return true;
        };
        if let Some(points) = whole_points(grade) {
            draft.points = At::new(points, line);
            return true;
        }
        self.problem(
            child(q, "defaultgrade")
                .map(|n| lines.line(n.range().start))
                .unwrap_or(line),
            format!(
                "default mark {}: Gatekeeper points are whole numbers from 1 to 100",
                grade.trim()
            ),
        );
        false
    }

    /// What the import drops, noted: answer feedback, the combined feedback,
    /// and HTML converted to text.
    fn xml_notes(&mut self, q: Node<'_, '_>, line: usize, feedback: bool, converted: bool) {
        if feedback {
            self.note(line, NoteKind::DroppedAnswerFeedback, "");
        }
        let combined = [
            "correctfeedback",
            "partiallycorrectfeedback",
            "incorrectfeedback",
        ]
        .iter()
        .any(|name| text_of(q, name).is_some_and(|(t, _, _)| !t.trim().is_empty()));
        if combined {
            self.note(line, NoteKind::DroppedCombinedFeedback, "");
        }
        if converted {
            self.note(line, NoteKind::ConvertedHtml, "");
        }
    }
}

/// A default mark that is a whole number from 1 to 100, as points.
// A whole number from 1 to 100: exact in i64.
fn whole_points(grade: &str) -> Option<i64> {
    match grade.trim().parse::<f64>() {
        Ok(g) if g.fract() == 0.0 && (1.0..=100.0).contains(&g) => Some(whole_i64(g)),
        _ => None,
    }
}

/// Parses a Moodle XML export. `fallback_id` names the bank when no
/// `//! id:` line does.
pub fn parse(text: &str, fallback_id: &str) -> Result<Bank, Vec<Problem>> {
    let text = banks::without_bom(text);
    let lines = Lines::new(text);
    let doc = Document::parse(text).map_err(|e| {
        vec![Problem {
            line: usize::try_from(e.pos().row).unwrap_or(usize::MAX),
            message: format!("not well-formed XML: {e}"),
        }]
    })?;
    let mut import = Import::new(fallback_id, "Moodle XML import");
    let root = doc.root_element();
    if root.tag_name().name() != "quiz" {
        return Err(vec![Problem {
            line: lines.line(root.range().start),
            message: format!(
                "a Moodle XML export has <quiz> at its root, not <{}>",
                root.tag_name().name()
            ),
        }]);
    }
    for node in root.descendants() {
        if node.is_comment() {
            let first = lines.line(node.range().start);
            for (i, line) in node.text().unwrap_or_default().lines().enumerate() {
                if let Some(directive) = line.trim().strip_prefix("//!") {
                    import.directive(first + i, directive);
                }
            }
        } else if node.is_element() && node.tag_name().name() == "question" {
            import.xml_question(node, &lines);
        }
    }
    import.finish()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;
    use crate::domain::banks::{Body, NoteKind, QuestionKind, Weight};

    // Written for these tests in the shape of Moodle's XML export: each
    // question type Moodle exports, and its outcome.
    const EXPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<!-- //! track: paediatrics
     //! id: moodle-xml -->
<!-- question: 0  -->
  <question type="category">
    <category><text>$course$/top/儿科/发热</text></category>
  </question>
<!-- Single choice with partial credit. -->
  <question type="multichoice">
    <name><text>发热 1</text></name>
    <questiontext format="html"><text><![CDATA[<p>A feverish child: what <b>first</b>?</p>]]></text></questiontext>
    <generalfeedback format="html"><text><![CDATA[<p>IMCI.</p>]]></text></generalfeedback>
    <defaultgrade>2.0000000</defaultgrade>
    <hidden>0</hidden>
    <single>true</single>
    <correctfeedback format="html"><text>Your answer is correct.</text></correctfeedback>
    <answer fraction="100" format="html"><text>Assess danger signs</text><feedback format="html"><text>Yes</text></feedback></answer>
    <answer fraction="50" format="html"><text>Take the temperature</text></answer>
    <answer fraction="0" format="html"><text>Give antibiotics</text></answer>
  </question>
<!-- Multiple answers with a negative weight. -->
  <question type="multichoice">
    <name><text>发热 2</text></name>
    <questiontext format="moodle_auto_format"><text>Signs of severe dehydration?</text></questiontext>
    <single>false</single>
    <answer fraction="50"><text>Lethargic</text></answer>
    <answer fraction="50"><text>Sunken eyes</text></answer>
    <answer fraction="-100"><text>Drinks eagerly</text></answer>
  </question>
  <question type="truefalse">
    <name><text>发热 3</text></name>
    <questiontext format="plain_text"><text>Fever under 3 months is high risk.</text></questiontext>
    <answer fraction="0"><text>true</text></answer>
    <answer fraction="100"><text>false</text></answer>
  </question>
  <question type="description">
    <name><text>Intro</text></name>
    <questiontext format="html"><text>About fever.</text></questiontext>
  </question>
</quiz>
"#;

    #[test]
    fn an_export_imports_with_its_weights() {
        let bank = match parse(EXPORT, "fallback") {
            Ok(b) => b,
            Err(p) => panic!("{p:?}"),
        };
        assert_eq!(bank.meta.id, "moodle-xml");
        assert_eq!(bank.meta.track, "paediatrics");
        let keys: Vec<(&str, &str)> = bank
            .questions
            .iter()
            .map(|q| (q.key.as_str(), q.topic.as_str()))
            .collect();
        assert_eq!(
            keys,
            vec![("发热-1", "发热"), ("发热-2", "发热"), ("发热-3", "发热")]
        );
        let single = &bank.questions[0];
        assert_eq!(single.content.stem, "A feverish child: what first?");
        assert_eq!(single.content.explanation, "IMCI.");
        assert_eq!(single.points, 2);
        let weights = |q: &crate::domain::banks::Question| match &q.content.body {
            Body::Single { options } | Body::Multiple { options } => options
                .iter()
                .map(|o| o.weight.map(Weight::percent))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        assert_eq!(weights(single), vec![Some(100.0), Some(50.0), Some(0.0)]);
        assert_eq!(
            bank.questions[1].content.body.kind(),
            QuestionKind::Multiple
        );
        assert_eq!(
            weights(&bank.questions[1]),
            vec![Some(50.0), Some(50.0), Some(-100.0)]
        );
        assert_eq!(
            bank.questions[2].content.body,
            Body::TrueFalse { answer: false }
        );
        // The category's last part names the topic made from it.
        assert_eq!(
            bank.topics.of(&bank.questions[0].topic),
            [("zh-CN".to_owned(), "发热".to_owned())].into()
        );
        let kinds: Vec<NoteKind> = bank.notes.iter().map(|n| n.kind).collect();
        assert!(kinds.contains(&NoteKind::DroppedDescription));
        assert!(kinds.contains(&NoteKind::DroppedCombinedFeedback));
        assert!(kinds.contains(&NoteKind::DroppedAnswerFeedback));
    }

    fn problems(questions: &str) -> Vec<Problem> {
        let text =
            format!("<?xml version=\"1.0\"?>\n<quiz>\n<!-- //! track: p -->\n{questions}</quiz>\n");
        parse(&text, "x").err().unwrap_or_default()
    }

    #[test]
    fn unsupported_types_are_refused_by_line_and_name() {
        let mut q = String::new();
        for t in [
            "shortanswer",
            "numerical",
            "essay",
            "matching",
            "cloze",
            "calculated",
            "ddwtos",
            "gapselect",
        ] {
            q.push_str(&format!(
                "<question type=\"{t}\"><name><text>x</text></name></question>\n"
            ));
        }
        let p = problems(&q);
        let found: Vec<(usize, &str)> = p
            .iter()
            .map(|p| (p.line, p.message.split(" questions").next().unwrap_or("")))
            .collect();
        assert_eq!(
            found,
            vec![
                (4, "short-answer"),
                (5, "numerical"),
                (6, "essay"),
                (7, "matching"),
                (8, "embedded-answers (cloze)"),
                (9, "calculated"),
                (10, "drag-and-drop"),
                (11, "select-missing-words"),
            ]
        );
    }

    #[test]
    fn the_bank_rules_apply_at_the_answer_line() {
        let p = problems(
            "<question type=\"multichoice\">\n<questiontext><text>Q?</text></questiontext>\n<single>true</single>\n<answer fraction=\"100\"><text>a</text></answer>\n<answer fraction=\"-50\"><text>b</text></answer>\n<answer fraction=\"0\"><text>a</text></answer>\n</question>\n",
        );
        let lines: Vec<usize> = p.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![8, 9], "{p:?}");
        assert!(p[0].message.contains("cannot take marks away"));
        assert!(p[1].message.contains("same text"));
    }

    #[test]
    fn files_and_images_are_refused() {
        let p = problems(
            "<question type=\"truefalse\">\n<questiontext format=\"html\"><text><![CDATA[<p><img src=\"@@PLUGINFILE@@/x.png\"></p>]]></text>\n<file name=\"x.png\" path=\"/\" encoding=\"base64\">iVBORw0KGgo=</file></questiontext>\n<answer fraction=\"100\"><text>true</text></answer><answer fraction=\"0\"><text>false</text></answer>\n</question>\n",
        );
        assert!(p[0].message.contains("embedded file"), "{p:?}");
        let p = problems(
            "<question type=\"truefalse\">\n<questiontext format=\"html\"><text><![CDATA[<img src=\"data:image/png;base64,AAAA\">]]></text></questiontext>\n<answer fraction=\"100\"><text>true</text></answer><answer fraction=\"0\"><text>false</text></answer>\n</question>\n",
        );
        assert!(p[0].message.contains("image"), "{p:?}");
    }

    #[test]
    fn marks_hidden_questions_and_bad_xml() {
        let p = problems(
            "<question type=\"truefalse\">\n<questiontext><text>Q?</text></questiontext>\n<defaultgrade>0.5</defaultgrade>\n<answer fraction=\"100\"><text>true</text></answer><answer fraction=\"0\"><text>false</text></answer>\n</question>\n",
        );
        assert!(p[0].message.contains("default mark 0.5"), "{p:?}");
        assert_eq!(p[0].line, 6);
        let hidden = "<?xml version=\"1.0\"?>\n<quiz>\n<!-- //! track: p -->\n<question type=\"truefalse\"><questiontext><text>Q?</text></questiontext><hidden>1</hidden><answer fraction=\"100\"><text>true</text></answer><answer fraction=\"0\"><text>false</text></answer></question>\n</quiz>\n";
        let bank = parse(hidden, "x").ok();
        assert_eq!(bank.map(|b| b.questions[0].retired), Some(true));
        let p = parse("<quiz>\n<question>\n</quiz>\n", "x")
            .err()
            .unwrap_or_default();
        assert!(p[0].message.contains("not well-formed XML"), "{p:?}");
        assert_eq!(p[0].line, 3);
        assert!(looks_like_moodle_xml(
            "\u{feff}<?xml version=\"1.0\"?>\n<quiz>"
        ));
        assert!(!looks_like_moodle_xml("<html></html>"));
    }
}
