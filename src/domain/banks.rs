//! Question banks: the file format of question_banks/ (documented in
//! question_banks/README.md), parsed strictly, with every problem reported
//! by file line. A bank is a list of questions with stable ids; what a
//! question says (its content) is compared by hash to decide whether an
//! import makes a new version.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::domain::numbers::{i64_f64, whole_i64};

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
    /// Single choice: the one option worth full points. Multiple choice:
    /// an option worth choosing (a positive weight, when there are weights).
    pub correct: bool,
    /// The option's share of the question's points, as Moodle's answer
    /// fraction; absent when the author gave no weights (all or nothing).
    /// Absent weights are not written, so questions without weights keep
    /// the fingerprints they had before weights existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Weight>,
}

impl Choice {
    /// An option without a weight.
    pub fn plain(text: impl Into<String>, correct: bool) -> Choice {
        Choice {
            text: text.into(),
            correct,
            weight: None,
        }
    }
}

/// A share of a question's points, in percent, kept to Moodle's precision
/// (its answer fractions have seven decimals: five in percent). Stored as
/// a whole number of hundred-thousandths of a percent so equal weights are
/// equal; written as the percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Weight(i64);

impl Weight {
    const PER_PERCENT: f64 = 100_000.0;
    pub const FULL: Weight = Weight(10_000_000);
    pub const NONE: Weight = Weight(0);

    /// A percentage rounded to five decimals; `None` if it is not a
    /// finite number of a sensible size.
    pub fn from_percent(percent: f64) -> Option<Weight> {
        if percent.is_finite() && percent.abs() <= 1_000_000.0 {
            // At most 10^6 percent in 10^-5 steps: 10^11, far inside i64.
            let units = whole_i64((percent * Self::PER_PERCENT).round());
            Some(Weight(units))
        } else {
            None
        }
    }

    pub fn percent(self) -> f64 {
        // At most 10^11 units (from_percent): exact in f64.
        i64_f64(self.0) / Self::PER_PERCENT
    }

    /// The share as a fraction of the points (100% is 1.0).
    pub fn fraction(self) -> f64 {
        self.percent() / 100.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

impl std::fmt::Display for Weight {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.percent())
    }
}

impl Serialize for Weight {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.percent())
    }
}

impl<'de> Deserialize<'de> for Weight {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Weight, D::Error> {
        let percent = f64::deserialize(d)?;
        Weight::from_percent(percent)
            .ok_or_else(|| serde::de::Error::custom(format!("{percent} is not a weight")))
    }
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

/// The names of a bank's topics in the languages it gives them. Questions
/// carry a topic as a key (`fever-in-infants`, `发热`), which stays stable
/// for blueprints and analysis; people read its name (`婴幼儿发热`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicNames(BTreeMap<String, BTreeMap<String, String>>);

impl TopicNames {
    /// Names `topic` in `locale`; a later name replaces an earlier one.
    pub fn insert(&mut self, topic: &str, locale: &str, name: &str) {
        self.0
            .entry(topic.to_owned())
            .or_default()
            .insert(locale.to_owned(), name.trim().to_owned());
    }

    /// The names of one topic, locale → name (empty when it has none).
    pub fn of(&self, topic: &str) -> BTreeMap<String, String> {
        self.0.get(topic).cloned().unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (topic, locale, name).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.0.iter().flat_map(|(topic, names)| {
            names
                .iter()
                .map(move |(locale, name)| (topic.as_str(), locale.as_str(), name.as_str()))
        })
    }
}

/// What a reader sees for a topic: its name in their language, else in the
/// language its bank gives (Chinese before English, for a stable choice),
/// else the key itself.
pub fn topic_shown<'a>(
    topic: &'a str,
    names: &'a BTreeMap<String, String>,
    locale: &str,
) -> &'a str {
    names
        .get(locale)
        .or_else(|| names.get("zh-CN"))
        .or_else(|| names.values().next())
        .map(String::as_str)
        .unwrap_or(topic)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bank {
    pub meta: BankMeta,
    pub questions: Vec<Question>,
    /// The names of its topics (none when the file names none: then pages
    /// show the keys).
    pub topics: TopicNames,
    /// What an import from another format mapped or dropped on the way
    /// (none for the bank format), for `bank check`'s summary.
    pub notes: Vec<Note>,
}

/// Something an import from Moodle changed on the way in, or left out:
/// never an answer key (those are refused when they cannot come over
/// unchanged), but what a committee member reviews before importing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub line: usize,
    pub kind: NoteKind,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// A description (text without answers): not a question, left out.
    DroppedDescription,
    /// Feedback on one answer: Gatekeeper shows one explanation per question.
    DroppedAnswerFeedback,
    /// Moodle's overall feedback texts (correct, partially correct, incorrect).
    DroppedCombinedFeedback,
    /// A title made into an id (lower case, dashes).
    MappedTitle,
    /// Two questions had the same title: each id carries a content fingerprint.
    MappedDuplicateTitle,
    /// No title: the id is a fingerprint of the content.
    FingerprintId,
    /// HTML converted to text.
    ConvertedHtml,
    /// No general feedback: the explanation is a dash.
    NoExplanation,
}

impl NoteKind {
    pub fn describe(self) -> &'static str {
        match self {
            NoteKind::DroppedDescription => "descriptions left out (text without answers)",
            NoteKind::DroppedAnswerFeedback => "questions whose per-answer feedback was left out",
            NoteKind::DroppedCombinedFeedback => {
                "questions whose overall (correct/partly/incorrect) feedback was left out"
            }
            NoteKind::MappedTitle => "titles made into ids",
            NoteKind::MappedDuplicateTitle => "titles used twice: ids carry a content fingerprint",
            NoteKind::FingerprintId => "untitled questions keyed by a content fingerprint",
            NoteKind::ConvertedHtml => "questions whose HTML was converted to text",
            NoteKind::NoExplanation => "questions without general feedback (explanation \"—\")",
        }
    }
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

/// What `bank check` shows a committee member before an import: how many
/// questions per topic and difficulty, by kind, which carry partial credit
/// (weights), and what an import from Moodle mapped or left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// (topic, difficulty) → questions, in topic order.
    pub cells: std::collections::BTreeMap<(String, u8), usize>,
    pub kinds: std::collections::BTreeMap<&'static str, usize>,
    /// Keys of the questions whose options carry weights.
    pub weighted: Vec<String>,
    pub retired: usize,
    /// Note kind → (how many, the first lines).
    pub notes: std::collections::BTreeMap<NoteKind, (usize, Vec<usize>)>,
    /// Topic → its names, as `zh-CN 婴幼儿发热 · en Fever in infants`.
    pub topic_names: BTreeMap<String, String>,
}

impl Summary {
    pub fn of(bank: &Bank) -> Summary {
        let mut s = Summary::default();
        for q in &bank.questions {
            if q.retired {
                s.retired += 1;
                continue;
            }
            *s.cells.entry((q.topic.clone(), q.difficulty)).or_default() += 1;
            *s.kinds.entry(q.content.body.kind().as_str()).or_default() += 1;
            if let Body::Single { options } | Body::Multiple { options } = &q.content.body
                && options.iter().any(|o| o.weight.is_some())
            {
                s.weighted.push(q.key.clone());
            }
        }
        for (topic, _) in s.cells.keys() {
            let names: Vec<String> = bank
                .topics
                .of(topic)
                .iter()
                .map(|(locale, name)| format!("{locale} {name}"))
                .collect();
            if !names.is_empty() {
                s.topic_names.insert(topic.clone(), names.join(" · "));
            }
        }
        for n in &bank.notes {
            let entry = s.notes.entry(n.kind).or_default();
            entry.0 += 1;
            if entry.1.len() < 5 {
                entry.1.push(n.line);
            }
        }
        s
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds: Vec<String> = self.kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        writeln!(f, "  by kind: {}", kinds.join(", "))?;
        let mut topic: Option<&str> = None;
        for ((t, difficulty), n) in &self.cells {
            if topic != Some(t.as_str()) {
                if topic.is_some() {
                    writeln!(f)?;
                }
                match self.topic_names.get(t) {
                    Some(names) => write!(f, "  topic {t} ({names}): ")?,
                    None => write!(f, "  topic {t} (no name: pages show the key): ")?,
                }
                topic = Some(t.as_str());
            } else {
                write!(f, ", ")?;
            }
            write!(f, "difficulty {difficulty} × {n}")?;
        }
        if topic.is_some() {
            writeln!(f)?;
        }
        if self.retired > 0 {
            writeln!(f, "  retired: {}", self.retired)?;
        }
        if !self.weighted.is_empty() {
            let shown: Vec<&str> = self.weighted.iter().take(10).map(String::as_str).collect();
            writeln!(
                f,
                "  partial credit (weighted options; scored as the track's choice_scoring says): {} ({}{})",
                self.weighted.len(),
                shown.join(", "),
                if self.weighted.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )?;
        }
        for (kind, (n, lines)) in &self.notes {
            let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
            writeln!(
                f,
                "  {}: {n} (line {}{})",
                kind.describe(),
                lines.join(", "),
                if *n > lines.len() { ", …" } else { "" }
            )?;
        }
        Ok(())
    }
}

// ----- the file as written -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    bank: Spanned<RawBank>,
    /// `topic-key = "name in the bank's language"`, or
    /// `topic-key = { zh-CN = "…", en = "…" }`.
    #[serde(default)]
    topics: Option<BTreeMap<Spanned<String>, Spanned<RawTopicName>>>,
    #[serde(default)]
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawTopicName {
    One(String),
    ByLocale(BTreeMap<String, String>),
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
    options: Option<Spanned<Vec<Spanned<RawOption>>>>,
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
    correct: Option<bool>,
    #[serde(default)]
    weight: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    criterion: String,
    points: i64,
}

/// Line (1-based) of a byte offset. Counts from the start: for one lookup.
/// A parser that looks up many offsets uses [`Lines`].
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(offset)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Where each line of a text starts, so that finding the line of an offset
/// is a binary search, not a count from the start of the file (which made
/// checking a bank quadratic in its size).
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines { starts }
    }

    /// Line (1-based) of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|start| *start <= offset)
    }
}

/// The text of a file without a leading byte-order mark (which Windows
/// editors write, and which would otherwise hide the first line).
pub fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Bank ids and tracks: lower-case ASCII letters, digits, dashes (they
/// appear in file names, URLs and settings).
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The longest question id or topic, in characters.
pub const MAX_KEY_CHARS: usize = 64;

/// Question ids and topics: letters of any script without capitals (so
/// `发热-1` and `fever-1`, never `Fever 1`), digits, dashes and
/// underscores, 1 to 64 characters. Moodle titles and categories are made
/// into such keys by `domain::moodle::slug`.
pub fn is_key(s: &str) -> bool {
    let count = s.chars().count();
    (1..=MAX_KEY_CHARS).contains(&count)
        && s.chars().all(|c| {
            c == '-'
                || c == '_'
                || c.is_ascii_digit()
                || (c.is_alphabetic() && !c.is_uppercase() && !c.is_whitespace())
        })
}

const KEY_RULE: &str = "letters without capitals, digits, dashes or underscores, at most 64";

/// The id of a question that has no title: a fingerprint of what it asks
/// (its stem, and its options or answer), so that reordering a file, or
/// inserting a question, never changes another question's id.
pub fn fingerprint_key(stem: &str, body: &Body) -> String {
    let mut text = String::from(stem.trim());
    match body {
        Body::Single { options } | Body::Multiple { options } => {
            let mut texts: Vec<&str> = options.iter().map(|o| o.text.as_str()).collect();
            texts.sort_unstable();
            for t in texts {
                text.push('\u{1f}');
                text.push_str(t);
            }
        }
        Body::TrueFalse { .. } => text.push_str("\u{1f}true/false"),
        Body::Case { .. } => text.push_str("\u{1f}case"),
    }
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    format!("q-{}", &digest[..12])
}

/// A value and the line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    pub value: T,
    pub line: usize,
}

impl<T> At<T> {
    pub fn new(value: T, line: usize) -> At<T> {
        At { value, line }
    }
}

/// One option as a file wrote it, before the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftOption {
    pub text: String,
    pub correct: Option<bool>,
    /// Percent of the question's points.
    pub weight: Option<f64>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DraftCriterion {
    pub criterion: String,
    pub points: i64,
}

/// A question as a file wrote it, whatever the format (the bank format,
/// GIFT, Moodle XML), with the line of each part: one set of rules,
/// [`check_question`], decides whether it is a question Gatekeeper can
/// deliver, with the same messages for every format.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftQuestion {
    pub line: usize,
    pub id: At<String>,
    pub kind: At<String>,
    pub topic: At<String>,
    pub difficulty: At<i64>,
    pub points: At<i64>,
    pub stem: At<String>,
    pub options: Option<At<Vec<DraftOption>>>,
    pub answer: Option<bool>,
    pub model_answer: Option<At<String>>,
    pub rubric: Option<At<Vec<DraftCriterion>>>,
    pub explanation: At<String>,
    pub reference: At<String>,
    pub retired: bool,
}

/// Checks a bank's own fields (id, title, track), reporting at `line`.
pub fn check_meta(meta: &BankMeta, line: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !is_slug(&meta.id) {
        problems.push(Problem {
            line,
            message: format!(
                "bank id \"{}\" must be lower-case letters, digits and dashes",
                meta.id
            ),
        });
    }
    if meta.title.trim().is_empty() {
        problems.push(Problem {
            line,
            message: "bank title is empty".into(),
        });
    }
    if !is_slug(&meta.track) {
        problems.push(Problem {
            line,
            message: if meta.track.is_empty() {
                "no track: every bank names the track whose exams draw from it".into()
            } else {
                format!(
                    "track \"{}\" must be lower-case letters, digits and dashes",
                    meta.track
                )
            },
        });
    }
    problems
}

/// The end of every parser: a bank, or every problem sorted by line.
pub fn conclude(
    meta: BankMeta,
    questions: Vec<Question>,
    topics: TopicNames,
    notes: Vec<Note>,
    mut problems: Vec<Problem>,
    bank_line: usize,
) -> Result<Bank, Vec<Problem>> {
    if questions.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: bank_line,
            message: "the bank has no questions".into(),
        });
    }
    if problems.is_empty() {
        Ok(Bank {
            meta,
            questions,
            topics,
            notes,
        })
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// Parses and checks a bank file, reporting every problem found (not just
/// the first), each with its line.
pub fn parse(text: &str) -> Result<Bank, Vec<Problem>> {
    let text = without_bom(text);
    let lines = Lines::new(text);
    let at = |offset: usize| lines.line(offset);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        vec![Problem {
            line: e.span().map(|s| at(s.start)).unwrap_or(1),
            message: e.message().to_owned(),
        }]
    })?;
    let mut problems = Vec::new();

    let bank_line = at(raw.bank.span().start);
    let meta = bank_meta(raw.bank.into_inner(), bank_line, &mut problems);
    problems.extend(check_meta(&meta, bank_line));

    let mut seen = HashSet::new();
    let mut questions = Vec::new();
    for spanned in raw.questions {
        match check_question(draft_question(spanned, &at), &mut seen) {
            Ok(question) => questions.push(question),
            Err(mut found) => problems.append(&mut found),
        }
    }
    let topics = match raw.topics {
        None => TopicNames::default(),
        Some(raw_topics) => {
            let (topics, found) = check_topic_names(raw_topics, &meta.language, &at);
            problems.extend(found);
            problems.extend(unnamed_topics(&topics, &questions));
            topics
        }
    };
    conclude(meta, questions, topics, Vec::new(), problems, bank_line)
}

/// The `[bank]` table as the bank's facts; a `use` that is neither exam
/// nor practice is a problem (and read as exam).
fn bank_meta(rb: RawBank, bank_line: usize, problems: &mut Vec<Problem>) -> BankMeta {
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
    BankMeta {
        id: rb.id,
        title: rb.title.trim().to_owned(),
        track: rb.track,
        version: rb.version,
        language: rb.language,
        sample: rb.sample,
        use_for,
    }
}

/// A `[[questions]]` table as a draft, each field with its line.
fn draft_question(spanned: Spanned<RawQuestion>, at: &impl Fn(usize) -> usize) -> DraftQuestion {
    let line = at(spanned.span().start);
    let q = spanned.into_inner();
    let located = |s: Spanned<String>| At::new(s.get_ref().clone(), at(s.span().start));
    DraftQuestion {
        line,
        id: located(q.id),
        kind: located(q.kind),
        topic: located(q.topic),
        difficulty: At::new(*q.difficulty.get_ref(), at(q.difficulty.span().start)),
        points: At::new(*q.points.get_ref(), at(q.points.span().start)),
        stem: located(q.stem),
        options: q.options.map(|o| {
            let line = at(o.span().start);
            let options = o
                .into_inner()
                .into_iter()
                .map(|c| {
                    let line = at(c.span().start);
                    let c = c.into_inner();
                    DraftOption {
                        text: c.text,
                        correct: c.correct,
                        weight: c.weight,
                        line,
                    }
                })
                .collect();
            At::new(options, line)
        }),
        answer: q.answer,
        model_answer: q.model_answer.map(located),
        rubric: q.rubric.map(|r| {
            let line = at(r.span().start);
            At::new(
                r.into_inner()
                    .into_iter()
                    .map(|c| DraftCriterion {
                        criterion: c.criterion,
                        points: c.points,
                    })
                    .collect(),
                line,
            )
        }),
        explanation: located(q.explanation),
        reference: located(q.reference),
        retired: q.retired,
    }
}

/// A bank that names its topics names them all: a problem for each question
/// whose topic has no name.
fn unnamed_topics(topics: &TopicNames, questions: &[Question]) -> Vec<Problem> {
    questions
        .iter()
        .filter(|q| topics.of(&q.topic).is_empty())
        .map(|q| Problem {
            line: q.line,
            message: format!(
                "topic \"{}\" has no name in [topics]: a bank that names its topics names them all",
                q.topic
            ),
        })
        .collect()
}

/// The `[topics]` table: keys as question topics are, names not empty and
/// at most 100 characters, languages Gatekeeper speaks.
fn check_topic_names(
    raw: BTreeMap<Spanned<String>, Spanned<RawTopicName>>,
    language: &str,
    at: &dyn Fn(usize) -> usize,
) -> (TopicNames, Vec<Problem>) {
    let mut topics = TopicNames::default();
    let mut problems = Vec::new();
    for (key, name) in raw {
        let line = at(key.span().start);
        let key = key.into_inner();
        if !is_key(&key) {
            problems.push(Problem {
                line,
                message: format!("topic \"{key}\" must be {KEY_RULE} characters"),
            });
            continue;
        }
        let names = match name.into_inner() {
            // A bare name is in the bank's language.
            RawTopicName::One(name) => vec![(language.to_owned(), name)],
            RawTopicName::ByLocale(names) => names.into_iter().collect(),
        };
        if names.is_empty() {
            problems.push(Problem {
                line,
                message: format!("topic \"{key}\" has no name"),
            });
        }
        for (locale, name) in names {
            let known = crate::domain::locale::Locale::parse(&locale);
            if known.is_none() {
                problems.push(Problem {
                    line,
                    message: format!(
                        "topic \"{key}\": \"{locale}\" is not a language Gatekeeper speaks (zh-CN, en)"
                    ),
                });
            } else if name.trim().is_empty() || name.trim().chars().count() > MAX_TOPIC_NAME_CHARS {
                problems.push(Problem {
                    line,
                    message: format!(
                        "topic \"{key}\": a name has 1 to {MAX_TOPIC_NAME_CHARS} characters"
                    ),
                });
            } else if let Some(locale) = known {
                topics.insert(&key, locale.as_str(), &name);
            }
        }
    }
    (topics, problems)
}

/// The longest topic name, in characters.
pub const MAX_TOPIC_NAME_CHARS: usize = 100;

/// The rules every question meets, whatever file it came from. `seen`
/// holds the ids of the bank's questions so far.
pub fn check_question(
    q: DraftQuestion,
    seen: &mut HashSet<String>,
) -> Result<Question, Vec<Problem>> {
    let mut problems = Vec::new();
    let line = q.line;
    let mut problem = |line: usize, message: String| problems.push(Problem { line, message });

    let (key, kind) = check_fields(&q, seen, &mut problem);
    let difficulty = q.difficulty.value;
    let points = q.points.value;
    let body = match kind {
        Some(kind @ (QuestionKind::Single | QuestionKind::Multiple)) => {
            check_choice(&q, kind, &mut problem)
        }
        Some(QuestionKind::TrueFalse) => check_true_false(&q, &mut problem),
        Some(QuestionKind::Case) => check_case(&q, &mut problem),
        None => None,
    };

    match body {
        Some(body) if problems.is_empty() => Ok(Question {
            key,
            topic: q.topic.value,
            // Both checked above: in range, so neither falls back.
            difficulty: u8::try_from(difficulty.clamp(1, 5)).unwrap_or(1),
            points: u32::try_from(points.clamp(1, 100)).unwrap_or(1),
            retired: q.retired,
            content: Content {
                stem: q.stem.value.trim().to_owned(),
                body,
                explanation: q.explanation.value.trim().to_owned(),
                reference: q.reference.value.trim().to_owned(),
            },
            line,
        }),
        _ => Err(problems),
    }
}

/// The rules of the fields every kind has: id (new in the bank), kind,
/// topic, difficulty, points and the texts. The id as a key, and the kind.
fn check_fields(
    q: &DraftQuestion,
    seen: &mut HashSet<String>,
    problem: &mut dyn FnMut(usize, String),
) -> (String, Option<QuestionKind>) {
    let key = q.id.value.trim().to_owned();
    if !is_key(&key) {
        problem(
            q.id.line,
            format!("question id \"{key}\" must be {KEY_RULE} characters"),
        );
    } else if !seen.insert(key.clone()) {
        problem(q.id.line, format!("duplicate question id \"{key}\""));
    }
    let kind = QuestionKind::parse(&q.kind.value);
    if kind.is_none() {
        problem(
            q.kind.line,
            format!(
                "unknown kind \"{}\"; kinds are single, multiple, true_false, case",
                q.kind.value
            ),
        );
    }
    if !is_key(&q.topic.value) {
        problem(
            q.topic.line,
            format!("topic \"{}\" must be {KEY_RULE} characters", q.topic.value),
        );
    }
    let difficulty = q.difficulty.value;
    if !(1..=5).contains(&difficulty) {
        problem(
            q.difficulty.line,
            format!("difficulty must be 1 to 5, not {difficulty}"),
        );
    }
    let points = q.points.value;
    if !(1..=100).contains(&points) {
        problem(
            q.points.line,
            format!("points must be 1 to 100, not {points}"),
        );
    }
    for (field, value) in [
        ("stem", &q.stem),
        ("explanation", &q.explanation),
        ("reference", &q.reference),
    ] {
        if value.value.trim().is_empty() {
            problem(value.line, format!("{field} is empty"));
        }
    }
    (key, kind)
}

/// A problem at the question's line if a field its kind has no use for is
/// present.
fn forbid(
    problem: &mut dyn FnMut(usize, String),
    line: usize,
    name: &str,
    present: bool,
    kind: &str,
) {
    if present {
        problem(line, format!("a {kind} question has no `{name}`"));
    }
}

/// A single or multiple choice: its options, and none of the other kinds'
/// fields.
fn check_choice(
    q: &DraftQuestion,
    kind: QuestionKind,
    problem: &mut dyn FnMut(usize, String),
) -> Option<Body> {
    let line = q.line;
    let options_line = q.options.as_ref().map(|o| o.line).unwrap_or(line);
    let drafts: &[DraftOption] = q
        .options
        .as_ref()
        .map(|o| o.value.as_slice())
        .unwrap_or(&[]);
    let options = check_options(kind, drafts, options_line, problem);
    let name = if kind == QuestionKind::Single {
        "single-choice"
    } else {
        "multiple-choice"
    };
    forbid(problem, line, "answer", q.answer.is_some(), name);
    forbid(problem, line, "rubric", q.rubric.is_some(), name);
    forbid(
        problem,
        line,
        "model_answer",
        q.model_answer.is_some(),
        name,
    );
    options.map(|options| {
        if kind == QuestionKind::Single {
            Body::Single { options }
        } else {
            Body::Multiple { options }
        }
    })
}

/// A true/false question: its answer, and none of the other kinds' fields.
fn check_true_false(q: &DraftQuestion, problem: &mut dyn FnMut(usize, String)) -> Option<Body> {
    let line = q.line;
    forbid(problem, line, "options", q.options.is_some(), "true/false");
    forbid(problem, line, "rubric", q.rubric.is_some(), "true/false");
    forbid(
        problem,
        line,
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

/// A case question: a model answer and a rubric whose criteria add up to
/// the question's points.
fn check_case(q: &DraftQuestion, problem: &mut dyn FnMut(usize, String)) -> Option<Body> {
    let line = q.line;
    let points = q.points.value;
    forbid(problem, line, "options", q.options.is_some(), "case");
    forbid(problem, line, "answer", q.answer.is_some(), "case");
    let model_answer = q
        .model_answer
        .as_ref()
        .map(|m| m.value.trim().to_owned())
        .unwrap_or_default();
    if model_answer.is_empty() {
        problem(
            q.model_answer.as_ref().map(|m| m.line).unwrap_or(line),
            "a case question needs a model_answer".into(),
        );
    }
    let Some(rubric) = &q.rubric else {
        problem(line, "a case question needs a rubric".into());
        return None;
    };
    let rubric_line = rubric.line;
    let criteria: Vec<Criterion> = rubric
        .value
        .iter()
        .map(|c| Criterion {
            criterion: c.criterion.trim().to_owned(),
            // Clamped into u32's range, so it never falls back.
            points: u32::try_from(c.points.clamp(0, 1000)).unwrap_or(0),
        })
        .collect();
    if criteria.is_empty() {
        problem(rubric_line, "the rubric has no criteria".into());
    }
    if rubric.value.iter().any(|c| c.points < 1) {
        problem(
            rubric_line,
            "every rubric criterion needs at least 1 point".into(),
        );
    }
    if criteria.iter().any(|c| c.criterion.is_empty()) {
        problem(rubric_line, "a rubric criterion is empty".into());
    }
    let total: i64 = rubric.value.iter().map(|c| c.points).sum();
    if total != points {
        problem(
            rubric_line,
            format!("rubric points add up to {total}, but the question is worth {points}"),
        );
    }
    Some(Body::Case {
        model_answer,
        rubric: criteria,
    })
}

/// The option rules of single and multiple choice, each problem at the
/// line of the option at fault (or of the options when it is about all).
///
/// Without weights: a single choice has exactly one correct option; a
/// multiple choice at least two correct and one wrong, all or nothing.
/// With weights (Moodle's answer fractions, in percent, -100 to 100): a
/// single choice has exactly one option at 100%, the others 0% or partial
/// credit, never negative; a multiple choice's correct options are those
/// with a positive weight, and those add up to 100% (to Moodle's own
/// rounding: the total as a fraction, rounded to two decimals, is 1);
/// wrong options may take marks away (negative weights).
fn check_options(
    kind: QuestionKind,
    drafts: &[DraftOption],
    options_line: usize,
    problem: &mut dyn FnMut(usize, String),
) -> Option<Vec<Choice>> {
    let (min, max) = match kind {
        QuestionKind::Single => (2, 6),
        _ => (3, 8),
    };
    let before = std::cell::Cell::new(0usize);
    let mut report = |line: usize, message: String| {
        before.set(before.get() + 1);
        problem(line, message)
    };
    if drafts.len() < min || drafts.len() > max {
        report(
            options_line,
            format!("needs {min} to {max} options, has {}", drafts.len()),
        );
    }
    let mut texts = HashSet::new();
    for d in drafts {
        let text = d.text.trim();
        if text.is_empty() {
            report(d.line, "an option is empty".into());
        } else if !texts.insert(text) {
            report(d.line, format!("two options have the same text \"{text}\""));
        }
    }
    let weighted = drafts.iter().any(|d| d.weight.is_some());
    let mut options = Vec::with_capacity(drafts.len());
    for d in drafts {
        options.push(check_option(kind, weighted, d, &mut report));
    }
    match kind {
        QuestionKind::Single => check_single_correct(&mut options, options_line, &mut report),
        _ => check_multiple_correct(&options, weighted, options_line, &mut report),
    }
    (before.get() == 0).then_some(options)
}

/// One option: its weight (when the question has weights) and whether it
/// is correct.
fn check_option(
    kind: QuestionKind,
    weighted: bool,
    d: &DraftOption,
    report: &mut dyn FnMut(usize, String),
) -> Choice {
    let weight = match (weighted, d.weight, d.correct) {
        (true, Some(_), Some(_)) | (true, None, Some(true)) => {
            report(
                d.line,
                "give every option a weight, or none: `correct` and `weight` do not mix".into(),
            );
            None
        }
        (true, Some(percent), _) => match Weight::from_percent(percent) {
            Some(w) if (-100.0..=100.0).contains(&w.percent()) => Some(w),
            _ => {
                report(
                    d.line,
                    format!("an option's weight must be from -100% to 100%, not {percent}%"),
                );
                None
            }
        },
        (true, None, _) => Some(Weight::NONE),
        (false, _, _) => None,
    };
    let correct = match (kind, weight) {
        (QuestionKind::Single, Some(w)) => w == Weight::FULL,
        (_, Some(w)) => w.is_positive(),
        (_, None) => d.correct.unwrap_or(false),
    };
    if kind == QuestionKind::Single
        && let Some(w) = weight.filter(|w| w.is_negative())
    {
        report(
            d.line,
            format!(
                "a single-choice option cannot take marks away (weight {w}): Moodle would give a negative mark for the question"
            ),
        );
    }
    Choice {
        text: d.text.trim().to_owned(),
        correct,
        weight,
    }
}

/// A single choice has exactly one correct option; weights that only say
/// "this one is right" are no weights, and are dropped.
fn check_single_correct(
    options: &mut [Choice],
    options_line: usize,
    report: &mut dyn FnMut(usize, String),
) {
    let correct = options.iter().filter(|o| o.correct).count();
    if correct != 1 {
        report(
            options_line,
            format!("a single-choice question needs exactly one correct option, has {correct}"),
        );
    }
    if options.iter().all(|o| {
        o.weight
            .is_none_or(|w| w == Weight::NONE || (o.correct && w == Weight::FULL))
    }) {
        for o in options {
            o.weight = None;
        }
    }
}

/// A multiple choice has at least two correct options and one wrong one;
/// with weights, the correct ones add up to 100%.
fn check_multiple_correct(
    options: &[Choice],
    weighted: bool,
    options_line: usize,
    report: &mut dyn FnMut(usize, String),
) {
    let correct = options.iter().filter(|o| o.correct).count();
    if correct < 2 || correct == options.len() {
        report(
            options_line,
            format!(
                "a multiple-choice question needs at least two correct options and one wrong one, has {correct} of {}",
                options.len()
            ),
        );
    }
    if weighted {
        let total: f64 = options
            .iter()
            .filter_map(|o| o.weight)
            .filter(|w| w.is_positive())
            .map(Weight::fraction)
            .sum();
        if (total * 100.0).round() != 100.0 {
            report(
                options_line,
                format!(
                    "the weights of the correct options add up to {}%, not 100%",
                    (total * 100.0 * 100_000.0).round() / 100_000.0
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    /// GOOD with a `[topics]` table inserted after `[bank]`.
    fn with_topics(table: &str) -> String {
        GOOD.replacen(
            "\n[[questions]]",
            &format!("\n[topics]\n{table}\n[[questions]]"),
            1,
        )
    }

    #[test]
    fn topics_are_named_in_the_bank_language_or_per_language() {
        // Without [topics] the bank names none (pages show the keys).
        assert!(parse(GOOD).unwrap().topics.is_empty());
        let bank = parse(&with_topics("fever = \"发热\"\n")).unwrap();
        assert_eq!(
            bank.topics.of("fever"),
            [("zh-CN".to_owned(), "发热".to_owned())].into()
        );
        let bank = parse(&with_topics(
            "fever = { zh = \" 发热 \", en = \"Fever\" }\nunused = \"未用\"\n",
        ))
        .unwrap();
        assert_eq!(
            bank.topics.of("fever"),
            [
                ("en".to_owned(), "Fever".to_owned()),
                ("zh-CN".to_owned(), "发热".to_owned())
            ]
            .into()
        );
        let all: Vec<(&str, &str, &str)> = bank.topics.iter().collect();
        assert_eq!(
            all,
            vec![
                ("fever", "en", "Fever"),
                ("fever", "zh-CN", "发热"),
                ("unused", "zh-CN", "未用")
            ]
        );
    }

    #[test]
    fn a_topics_table_names_every_topic_with_valid_names() {
        let text = with_topics("other = \"其他\"\n");
        let p = parse(&text).unwrap_err();
        // Each question whose topic is unnamed, at its own line.
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].message
                .starts_with("topic \"fever\" has no name in [topics]"),
            "{p:?}"
        );
        assert_eq!(text.lines().nth(p[0].line - 1), Some("[[questions]]"));

        let p = parse(&with_topics(
            "fever = \"发热\"\n\"Bad Key\" = \"x\"\nx1 = { fr = \"Fièvre\" }\nx2 = \"  \"\nx3 = {}\n",
        ))
        .unwrap_err();
        let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "topic \"Bad Key\" must be letters without capitals, digits, dashes or underscores, at most 64 characters",
                "topic \"x1\": \"fr\" is not a language Gatekeeper speaks (zh-CN, en)",
                "topic \"x2\": a name has 1 to 100 characters",
                "topic \"x3\" has no name",
            ]
        );
        let bad_key_line = text_line_of(
            &with_topics("fever = \"发热\"\n\"Bad Key\" = \"x\"\n"),
            "\"Bad Key\"",
        );
        assert_eq!(p[0].line, bad_key_line);
    }

    fn text_line_of(text: &str, needle: &str) -> usize {
        text.lines()
            .position(|l| l.starts_with(needle))
            .map(|i| i + 1)
            .unwrap_or(0)
    }

    #[test]
    fn a_topic_shows_in_the_reader_language_else_the_bank_language_else_its_key() {
        let both: BTreeMap<String, String> = [
            ("en".to_owned(), "Fever".to_owned()),
            ("zh-CN".to_owned(), "发热".to_owned()),
        ]
        .into();
        assert_eq!(topic_shown("fever", &both, "en"), "Fever");
        assert_eq!(topic_shown("fever", &both, "zh-CN"), "发热");
        let chinese: BTreeMap<String, String> = [("zh-CN".to_owned(), "发热".to_owned())].into();
        assert_eq!(topic_shown("fever", &chinese, "en"), "发热");
        let english: BTreeMap<String, String> = [("en".to_owned(), "Fever".to_owned())].into();
        assert_eq!(topic_shown("fever", &english, "zh-CN"), "Fever");
        assert_eq!(topic_shown("fever", &BTreeMap::new(), "zh-CN"), "fever");
    }

    #[test]
    fn the_summary_names_each_topic_or_says_it_has_none() {
        let named = Summary::of(
            &parse(&with_topics(
                "fever = { zh-CN = \"发热\", en = \"Fever\" }\n",
            ))
            .unwrap(),
        );
        assert!(
            named
                .to_string()
                .contains("topic fever (en Fever · zh-CN 发热): "),
            "{named}"
        );
        let unnamed = Summary::of(&parse(GOOD).unwrap());
        assert!(
            unnamed
                .to_string()
                .contains("topic fever (no name: pages show the key): "),
            "{unnamed}"
        );
    }

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
        // Reported at the option's own line, not the question's.
        let empty = GOOD.replace("{ text = \"Runny nose\" }", "{ text = \" \" }");
        assert!(
            problems(&empty)
                .iter()
                .any(|p| p.message.contains("empty") && p.line == 16)
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
