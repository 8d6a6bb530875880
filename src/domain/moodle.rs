//! What GIFT and Moodle XML share: Moodle's text formats and how their text
//! becomes Gatekeeper's plain text, how titles and categories become ids
//! and topics, and how answer weights are read. The rules follow Moodle's
//! own reading (question/format/gift/format.php and
//! question/format/xml/format.php); question_banks/README.md describes
//! them for people.

use std::collections::{HashMap, HashSet};

use crate::domain::banks::{
    self, At, Bank, BankMeta, BankUse, DraftOption, DraftQuestion, Note, NoteKind, Problem,
    Question,
};

/// The text formats Moodle stores with every text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// Moodle's "auto-format": HTML allowed, line breaks kept.
    Moodle,
    Html,
    Plain,
    Markdown,
}

impl TextFormat {
    /// The name inside a GIFT `[…]` marker or an XML `format="…"`
    /// attribute; `None` for a name Moodle does not know.
    pub fn from_name(name: &str) -> Option<TextFormat> {
        match name {
            "moodle_auto_format" | "moodle" => Some(TextFormat::Moodle),
            "html" => Some(TextFormat::Html),
            "plain_text" | "plain" => Some(TextFormat::Plain),
            "markdown" => Some(TextFormat::Markdown),
            _ => None,
        }
    }
}

/// Gatekeeper shows question text as plain text (escaped, line breaks
/// kept). HTML and Moodle auto-format text is converted to that text;
/// plain and Markdown text is kept as written (Markdown's own marks then
/// show, as they would in a plain-text view). `converted` says whether any
/// markup was taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub text: String,
    pub converted: bool,
}

/// Converts a text in `format` to plain text, or says why it cannot come
/// over unchanged (an image: Gatekeeper questions carry no files).
pub fn to_text(text: &str, format: TextFormat) -> Result<Converted, String> {
    match format {
        TextFormat::Plain | TextFormat::Markdown => Ok(Converted {
            text: text.trim().to_owned(),
            converted: false,
        }),
        TextFormat::Html => html_to_text(text, false),
        TextFormat::Moodle => html_to_text(text, true),
    }
}

/// HTML to text: tags taken out, paragraphs, line breaks, list items and
/// table rows become lines, `<sup>`/`<sub>` become superscript and
/// subscript characters where Unicode has them (so `10<sup>9</sup>/L`
/// stays 10⁹/L, not 109/L) and `^(…)`/`_(…)` where it does not, entities
/// are decoded, scripts and styles dropped. An image is refused. Runs of
/// white space become one space, except that `keep_newlines` (Moodle's
/// auto-format) keeps the author's line breaks.
pub fn html_to_text(html: &str, keep_newlines: bool) -> Result<Converted, String> {
    let mut out = String::with_capacity(html.len());
    let mut converted = false;
    // The start of the current <sup>/<sub> in `out`, if any.
    let mut script: Option<(usize, bool)> = None;
    let mut skip_until: Option<&'static str> = None;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(end_tag) = skip_until {
            match find_ci(rest, end_tag) {
                Some(i) => {
                    rest = &rest[i..];
                    skip_until = None;
                }
                None => break,
            }
            continue;
        }
        if let Some(comment) = rest.strip_prefix("<!--") {
            converted = true;
            rest = comment.find("-->").map(|i| &comment[i + 3..]).unwrap_or("");
            continue;
        }
        let starts_tag = rest.starts_with('<')
            && rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        if starts_tag && let Some(close) = rest.find('>') {
            converted = true;
            let inner = &rest[1..close];
            rest = &rest[close + 1..];
            let closing = inner.starts_with('/');
            let name: String = inner
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            html_tag(&mut out, &name, closing, &mut script, &mut skip_until)?;
            continue;
        }
        if rest.starts_with('&')
            && let Some((decoded, used)) = entity(rest)
        {
            converted = true;
            out.push(decoded);
            rest = &rest[used..];
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        if c == '\n' && keep_newlines {
            out.push('\n');
        } else if c.is_whitespace() && c != '\u{a0}' {
            if !out.ends_with([' ', '\n']) && !out.is_empty() {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    Ok(Converted {
        text: tidy(&out),
        converted,
    })
}

/// What one tag does to the text: a line break, a list bullet, a cell
/// separator, a raised or lowered run, or skipping a script or style; an
/// image is refused.
fn html_tag(
    out: &mut String,
    name: &str,
    closing: bool,
    script: &mut Option<(usize, bool)>,
    skip_until: &mut Option<&'static str>,
) -> Result<(), String> {
    match (name, closing) {
        ("img", _) => {
            return Err(
                "an image (<img>) cannot be imported: Gatekeeper questions are text; describe the image in words or leave the question out"
                    .into(),
            );
        }
        ("script", false) => *skip_until = Some("</script"),
        ("style", false) => *skip_until = Some("</style"),
        ("br", _) => out.push('\n'),
        ("li", false) => {
            line_break(out);
            out.push_str("• ");
        }
        ("td" | "th", false) if !out.ends_with('\n') && !out.is_empty() => {
            out.push_str(" | ");
        }
        (
            "p" | "div" | "ul" | "ol" | "li" | "tr" | "table" | "h1" | "h2" | "h3" | "h4" | "h5"
            | "h6" | "blockquote" | "pre" | "hr",
            _,
        ) => line_break(out),
        ("sup" | "sub", false) => *script = Some((out.len(), name == "sup")),
        ("sup" | "sub", true) => {
            if let Some((start, sup)) = script.take() {
                let raised = out.split_off(start);
                out.push_str(&scripted(&raised, sup));
            }
        }
        _ => {}
    }
    Ok(())
}

fn line_break(out: &mut String) {
    while out.ends_with(' ') {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Trailing spaces off every line, no more than one empty line in a row,
/// no-break spaces as spaces, trimmed.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut empty = 0;
    for line in text.replace('\u{a0}', " ").lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            empty += 1;
            if empty > 1 {
                continue;
            }
        } else {
            empty = 0;
        }
        out.push_str(line.trim_start_matches(' '));
        out.push('\n');
    }
    out.trim().to_owned()
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Superscript or subscript characters for `text`, or `^(text)`/`_(text)`
/// when Unicode has no such form of every character.
fn scripted(text: &str, sup: bool) -> String {
    const SUP: [(char, char); 14] = [
        ('0', '⁰'),
        ('1', '¹'),
        ('2', '²'),
        ('3', '³'),
        ('4', '⁴'),
        ('5', '⁵'),
        ('6', '⁶'),
        ('7', '⁷'),
        ('8', '⁸'),
        ('9', '⁹'),
        ('+', '⁺'),
        ('-', '⁻'),
        ('−', '⁻'),
        ('n', 'ⁿ'),
    ];
    const SUB: [(char, char); 13] = [
        ('0', '₀'),
        ('1', '₁'),
        ('2', '₂'),
        ('3', '₃'),
        ('4', '₄'),
        ('5', '₅'),
        ('6', '₆'),
        ('7', '₇'),
        ('8', '₈'),
        ('9', '₉'),
        ('+', '₊'),
        ('-', '₋'),
        ('−', '₋'),
    ];
    let table: &[(char, char)] = if sup { &SUP } else { &SUB };
    let text = text.trim();
    let mapped: Option<String> = text
        .chars()
        .map(|c| table.iter().find(|(from, _)| *from == c).map(|(_, to)| *to))
        .collect();
    match mapped {
        Some(m) if !m.is_empty() => m,
        _ if text.is_empty() => String::new(),
        _ => format!("{}({text})", if sup { '^' } else { '_' }),
    }
}

/// Decodes the entity at the start of `s` (`&amp;`, `&#955;`, `&#x3bb;`,
/// and the named entities medical text uses); the character and the bytes
/// used, or `None` for something that is not an entity we know (kept as
/// written).
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.get(..12.min(s.len()))?.find(';')?;
    let name = &s[1..end];
    let c = if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code)?
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{a0}',
            "ndash" => '–',
            "mdash" => '—',
            "hellip" => '…',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "middot" => '·',
            "bull" => '•',
            "deg" => '°',
            "plusmn" => '±',
            "times" => '×',
            "divide" => '÷',
            "le" => '≤',
            "ge" => '≥',
            "ne" => '≠',
            "asymp" => '≈',
            "micro" => 'µ',
            "sup2" => '²',
            "sup3" => '³',
            "frac12" => '½',
            "frac14" => '¼',
            "frac34" => '¾',
            "larr" => '←',
            "rarr" => '→',
            "uarr" => '↑',
            "darr" => '↓',
            "alpha" => 'α',
            "beta" => 'β',
            "gamma" => 'γ',
            "delta" => 'δ',
            "kappa" => 'κ',
            "lambda" => 'λ',
            "mu" => 'μ',
            "pi" => 'π',
            "sigma" => 'σ',
            "copy" => '©',
            "reg" => '®',
            _ => return None,
        }
    };
    Some((c, end + 1))
}

/// A Moodle title or category made into a Gatekeeper key (a question id or
/// a topic): lower case; letters of any script and digits kept; every run
/// of anything else (spaces, punctuation) one dash; no dash at either end;
/// at most 64 characters. Empty when nothing is left (the caller then
/// uses a fingerprint). `发热 1` is `发热-1`, `Fever in infants` is
/// `fever-in-infants`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    let mut count = 0;
    for c in s.trim().chars() {
        if count >= banks::MAX_KEY_CHARS {
            break;
        }
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                out.push(lower);
                count += 1;
            }
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
            count += 1;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Reads an answer weight written as Moodle writes it in GIFT, `%50%`,
/// `%-33.33333%`, `%100%`, at the start of `answer`: the percentage and
/// the rest of the answer. `Ok(None)` when the answer has no weight;
/// `Err` when it starts like one (`%…%`) that Moodle would not read as a
/// weight (it would keep it as answer text worth nothing).
pub fn gift_weight(answer: &str) -> Result<Option<(f64, &str)>, String> {
    let Some(after) = answer.strip_prefix('%') else {
        return Ok(None);
    };
    let Some(end) = after.find('%') else {
        return Ok(None);
    };
    let written = &after[..end];
    // Moodle's pattern: any dashes, one or two digits, an optional point,
    // more digits.
    let digits = written.trim_start_matches('-');
    let dashes = written.len() - digits.len();
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let readable = dashes <= 1
        && whole.chars().all(|c| c.is_ascii_digit())
        && !whole.is_empty()
        && fraction.chars().all(|c| c.is_ascii_digit());
    let value: Option<f64> = if readable { written.parse().ok() } else { None };
    match value {
        Some(v) => Ok(Some((v, &after[end + 1..]))),
        None => Err(format!(
            "\"%{written}%\" is not a weight Moodle reads (it would keep it as answer text worth nothing): write a number of percent, e.g. %50%"
        )),
    }
}

/// Defaults Gatekeeper's `//!` lines set for the questions after them.
pub(crate) struct Defaults {
    pub(crate) difficulty: u8,
    pub(crate) points: u32,
    pub(crate) reference: String,
}

/// A question read from the file, waiting for its id.
pub(crate) struct Read {
    pub(crate) question: Question,
    pub(crate) title: Option<String>,
}

/// What a Moodle import (GIFT or XML) has gathered so far; each format
/// adds its own reading to it (`gift`, `moodle_xml`).
pub(crate) struct Import {
    pub(crate) meta: BankMeta,
    pub(crate) meta_line: usize,
    pub(crate) defaults: Defaults,
    pub(crate) topic: String,
    /// Each category's last part as written: the name of the topic made
    /// from it, in the bank's language.
    pub(crate) topic_names: std::collections::BTreeMap<String, String>,
    pub(crate) read: Vec<Read>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) notes: Vec<Note>,
}

impl Import {
    /// An empty import: the bank named `fallback_id` until a `//! id:`
    /// line names it, questions referenced as `reference` by default.
    pub(crate) fn new(fallback_id: &str, reference: &str) -> Import {
        Import {
            meta: BankMeta {
                id: fallback_id.to_owned(),
                title: fallback_id.to_owned(),
                track: String::new(),
                version: 1,
                language: "zh-CN".to_owned(),
                sample: false,
                use_for: BankUse::Exam,
            },
            meta_line: 1,
            defaults: Defaults {
                difficulty: 3,
                points: 1,
                reference: reference.to_owned(),
            },
            topic: "general".to_owned(),
            topic_names: std::collections::BTreeMap::new(),
            read: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The bank, with every question's id (see [`identify`]), or every
    /// problem.
    pub(crate) fn finish(self) -> Result<Bank, Vec<Problem>> {
        let Import {
            meta,
            meta_line,
            read,
            topic_names,
            mut problems,
            mut notes,
            ..
        } = self;
        problems.extend(banks::check_meta(&meta, meta_line));
        let questions = identify(read, &mut notes, &mut problems);
        // Names in the bank's language (`//! language:`, zh-CN by default),
        // for the topics its questions use.
        let language = crate::domain::locale::Locale::parse(&meta.language)
            .map(|l| l.as_str().to_owned())
            .unwrap_or_else(|| meta.language.clone());
        let mut topics = banks::TopicNames::default();
        for (topic, name) in &topic_names {
            if questions.iter().any(|q| &q.topic == topic) {
                topics.insert(topic, &language, name);
            }
        }
        banks::conclude(meta, questions, topics, notes, problems, meta_line)
    }

    /// A category's last part as the topic of the questions after it.
    pub(crate) fn category(&mut self, line: usize, path: &str) {
        let last = path.trim().rsplit('/').next().unwrap_or_default();
        let topic = slug(last);
        if topic.is_empty() {
            self.problem(
                line,
                format!("the category \"{}\" gives no topic", path.trim()),
            );
        } else {
            // The first spelling names the topic when two categories make
            // the same key.
            self.topic_names
                .entry(topic.clone())
                .or_insert_with(|| last.trim().to_owned());
            self.topic = topic;
        }
    }

    /// Checks a question by the bank rules and keeps it for [`identify`].
    pub(crate) fn keep(&mut self, draft: DraftQuestion, title: Option<String>) {
        let mut seen = HashSet::new();
        match banks::check_question(draft, &mut seen) {
            Ok(question) => self.read.push(Read { question, title }),
            Err(found) => self.problems.extend(found),
        }
    }

    pub(crate) fn problem(&mut self, line: usize, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            message: message.into(),
        });
    }

    pub(crate) fn note(&mut self, line: usize, kind: NoteKind, detail: impl Into<String>) {
        self.notes.push(Note {
            line,
            kind,
            detail: detail.into(),
        });
    }

    /// A Gatekeeper `//!` line.
    pub(crate) fn directive(&mut self, number: usize, directive: &str) {
        let (key, value) = directive
            .split_once(':')
            .map(|(k, v)| (k.trim(), v.trim()))
            .unwrap_or((directive.trim(), ""));
        match key {
            "id" => {
                self.meta.id = value.to_owned();
                self.meta_line = number;
            }
            "title" => self.meta.title = value.to_owned(),
            "track" => {
                self.meta.track = value.to_owned();
                self.meta_line = number;
            }
            "language" => self.meta.language = value.to_owned(),
            "use" => match BankUse::parse(value) {
                Some(use_for) => self.meta.use_for = use_for,
                None => self.problem(
                    number,
                    format!("use must be \"exam\" or \"practice\", not \"{value}\""),
                ),
            },
            "difficulty" => match value.parse::<u8>() {
                Ok(d) if (1..=5).contains(&d) => self.defaults.difficulty = d,
                _ => self.problem(
                    number,
                    format!("difficulty must be 1 to 5, not \"{value}\""),
                ),
            },
            "points" => match value.parse::<u32>() {
                Ok(p) if (1..=100).contains(&p) => self.defaults.points = p,
                _ => self.problem(number, format!("points must be 1 to 100, not \"{value}\"")),
            },
            "reference" => self.defaults.reference = value.to_owned(),
            other => self.problem(number, format!("unknown directive \"{other}\"")),
        }
    }

    /// A draft with the current topic and defaults.
    pub(crate) fn draft(
        &self,
        kind: &str,
        line: usize,
        stem: String,
        options: Option<At<Vec<DraftOption>>>,
        answer: Option<bool>,
    ) -> DraftQuestion {
        DraftQuestion {
            line,
            id: At::new("pending".to_owned(), line),
            kind: At::new(kind.to_owned(), line),
            topic: At::new(self.topic.clone(), line),
            difficulty: At::new(i64::from(self.defaults.difficulty), line),
            points: At::new(i64::from(self.defaults.points), line),
            stem: At::new(stem, line),
            options,
            answer,
            model_answer: None,
            rubric: None,
            explanation: At::new(String::new(), line),
            reference: At::new(self.defaults.reference.clone(), line),
            retired: false,
        }
    }
}

/// Gives every question its id: its title made a key; a fingerprint of its
/// content when it has none, or when the title is used twice in the file
/// (`title-<fingerprint>`); never its position, so reordering or inserting
/// questions never moves an answer key to another id. Two questions that
/// end with the same id are the same question twice, refused.
pub(crate) fn identify(
    read: Vec<Read>,
    notes: &mut Vec<Note>,
    problems: &mut Vec<Problem>,
) -> Vec<Question> {
    let slugs: Vec<Option<String>> = read
        .iter()
        .map(|r| r.title.as_deref().map(slug).filter(|s| !s.is_empty()))
        .collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for s in slugs.iter().flatten() {
        *uses.entry(s.as_str()).or_default() += 1;
    }
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut questions = Vec::with_capacity(read.len());
    for (r, s) in read.iter().zip(&slugs) {
        let mut q = r.question.clone();
        let print = banks::fingerprint_key(&q.content.stem, &q.content.body);
        q.key = match s {
            Some(s) if uses.get(s.as_str()).copied().unwrap_or(0) > 1 => {
                let suffix = print.trim_start_matches("q-");
                let room = banks::MAX_KEY_CHARS - suffix.len() - 1;
                let head: String = s.chars().take(room).collect();
                let key = format!("{}-{suffix}", head.trim_end_matches('-'));
                notes.push(Note {
                    line: q.line,
                    kind: NoteKind::MappedDuplicateTitle,
                    detail: key.clone(),
                });
                key
            }
            Some(s) => {
                if r.title.as_deref() != Some(s.as_str()) {
                    notes.push(Note {
                        line: q.line,
                        kind: NoteKind::MappedTitle,
                        detail: format!("{} → {s}", r.title.as_deref().unwrap_or_default()),
                    });
                }
                s.clone()
            }
            None => {
                notes.push(Note {
                    line: q.line,
                    kind: NoteKind::FingerprintId,
                    detail: print.clone(),
                });
                print
            }
        };
        match first_line.get(&q.key) {
            Some(earlier) => problems.push(Problem {
                line: q.line,
                message: format!(
                    "duplicate question id \"{}\": the same question as line {earlier}",
                    q.key
                ),
            }),
            None => {
                first_line.insert(q.key.clone(), q.line);
                questions.push(q);
            }
        }
    }
    questions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text_without_tags() {
        let t = |h: &str| html_to_text(h, false).map(|c| c.text).unwrap_or_default();
        assert_eq!(
            t("<p>Which is <b>most</b> likely?</p>"),
            "Which is most likely?"
        );
        assert_eq!(t("<p>One</p><p>Two</p>"), "One\nTwo");
        assert_eq!(t("a<br>b<br/>c"), "a\nb\nc");
        assert_eq!(t("<ul><li>x</li><li>y</li></ul>"), "• x\n• y");
        assert_eq!(
            t("Tom &amp; Jerry &lt;3 &#955; &#x3bb;&nbsp;ok"),
            "Tom & Jerry <3 λ λ ok"
        );
        assert_eq!(t("WBC 12&times;10<sup>9</sup>/L"), "WBC 12×10⁹/L");
        assert_eq!(t("CO<sub>2</sub> and x<sup>ab</sup>"), "CO₂ and x^(ab)");
        assert_eq!(t("<script>alert(1)</script>Safe"), "Safe");
        assert_eq!(
            t("<table><tr><td>Hb</td><td>90</td></tr></table>"),
            "Hb | 90"
        );
        assert_eq!(t("x < 5 and y > 2"), "x < 5 and y > 2");
        assert_eq!(t("a\n   b"), "a b", "HTML white space collapses");
        assert_eq!(t("&unknown; stays"), "&unknown; stays");
        assert_eq!(t("<!-- note -->Shown"), "Shown");
        assert!(html_to_text("<p><img src=\"x.png\"></p>", false).is_err());
        let kept = html_to_text("line one\nline <i>two</i>", true).ok();
        assert_eq!(kept.map(|c| c.text).as_deref(), Some("line one\nline two"));
        assert_eq!(
            html_to_text("plain words", false).ok().map(|c| c.converted),
            Some(false)
        );
    }

    #[test]
    fn plain_and_markdown_are_kept() {
        let c = to_text(" <b>literal</b> ", TextFormat::Plain).ok();
        assert_eq!(c.map(|c| c.text).as_deref(), Some("<b>literal</b>"));
        let c = to_text("**bold**", TextFormat::Markdown).ok();
        assert_eq!(c.map(|c| c.text).as_deref(), Some("**bold**"));
        assert_eq!(TextFormat::from_name("html"), Some(TextFormat::Html));
        assert_eq!(
            TextFormat::from_name("moodle_auto_format"),
            Some(TextFormat::Moodle)
        );
        assert_eq!(TextFormat::from_name("latex"), None);
    }

    #[test]
    fn slugs_keep_every_script() {
        assert_eq!(slug("发热 1"), "发热-1");
        assert_eq!(slug("Fever in infants"), "fever-in-infants");
        assert_eq!(slug("  Q.1 -- (a)  "), "q-1-a");
        assert_eq!(slug("儿科/发热"), "儿科-发热");
        assert_eq!(slug("!!!"), "");
        assert_eq!(slug(&"长".repeat(100)).chars().count(), 64);
        assert!(crate::domain::banks::is_key(&slug("Ärztliche Frage 3")));
    }

    #[test]
    fn weights_read_as_moodle_reads_them() {
        assert_eq!(gift_weight("%50%Cat"), Ok(Some((50.0, "Cat"))));
        assert_eq!(gift_weight("%-100%No"), Ok(Some((-100.0, "No"))));
        assert_eq!(gift_weight("%33.33333%x"), Ok(Some((33.33333, "x"))));
        assert_eq!(gift_weight("%100%all"), Ok(Some((100.0, "all"))));
        assert_eq!(gift_weight("plain"), Ok(None));
        assert_eq!(gift_weight("%no closing"), Ok(None));
        assert!(gift_weight("%half%x").is_err());
        assert!(gift_weight("% 50%x").is_err());
        assert!(gift_weight("%%x").is_err());
    }
}
