//! The file formats of courses/ (documented in courses/README.md): a course
//! folder holds `course.toml` (the manifest: course, modules, quizzes) and one
//! Markdown file per lesson with a small TOML front matter; a
//! `<track>.track.toml` file describes a certification track. Everything is
//! parsed strictly and every problem is reported with its line.

use std::collections::HashSet;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::domain::banks::{Problem, line_of};
use crate::error::{Error, FieldProblem};

/// Stable ids: lower-case letters, digits and dashes.
pub fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

// The bounds of every number in a course or track, used by the file parsers
// (which report lines) and the admin forms (which report fields) alike.

pub fn valid_credit_hours(h: f64) -> bool {
    h.is_finite() && (0.0..=200.0).contains(&h)
}

pub fn valid_quiz_questions(n: u32) -> bool {
    (1..=50).contains(&n)
}

pub fn valid_pass_percent(p: u32) -> bool {
    (1..=100).contains(&p)
}

pub fn valid_minutes(m: u32) -> bool {
    (1..=240).contains(&m)
}

pub fn valid_validity_months(m: u32) -> bool {
    (1..=120).contains(&m)
}

pub fn valid_renewal_hours(h: f64) -> bool {
    h.is_finite() && (0.0..=1000.0).contains(&h)
}

// ----- what a person enters (the admin forms) -----

// A course, module or track entered by a person breaks the same rules as one
// read from a file, but is reported by the form's field names. The services
// check it before writing (`check`), so no caller can skip the rules by
// building the spec itself; every problem is reported at once.

const KEY_RULE: &str = "lower-case letters, digits and dashes";

fn problem(field: &str, message: &str) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn key_and_title_problems(key: &str, title: &str) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    if !is_key(key) {
        problems.push(problem("key", KEY_RULE));
    }
    if title.trim().is_empty() {
        problems.push(problem("title", "must not be empty"));
    }
    problems
}

impl CourseMeta {
    pub fn check(&self) -> Result<(), Error> {
        let mut problems = key_and_title_problems(&self.key, &self.title);
        if !valid_credit_hours(self.credit_hours) {
            problems.push(problem("credit_hours", "must be 0 to 200"));
        }
        Error::from_problems(problems)
    }
}

impl ModuleSpec {
    pub fn check(&self) -> Result<(), Error> {
        let mut problems = key_and_title_problems(&self.key, &self.title);
        if let Some(quiz) = &self.quiz {
            if !valid_quiz_questions(quiz.questions) {
                problems.push(problem("quiz_questions", "must be 1 to 50"));
            }
            if !valid_pass_percent(quiz.pass_percent) {
                problems.push(problem("quiz_pass_percent", "must be 1 to 100"));
            }
        }
        Error::from_problems(problems)
    }
}

impl TrackSpec {
    pub fn check(&self) -> Result<(), Error> {
        let mut problems = key_and_title_problems(&self.key, &self.title);
        if !valid_validity_months(self.validity_months) {
            problems.push(problem("validity_months", "must be 1 to 120"));
        }
        if !valid_renewal_hours(self.renewal_credit_hours) {
            problems.push(problem("renewal_credit_hours", "must be 0 to 1000"));
        }
        Error::from_problems(problems)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CourseMeta {
    pub key: String,
    pub title: String,
    pub summary: String,
    pub language: String,
    pub credit_hours: f64,
    pub sample: bool,
    pub published: bool,
}

/// A module quiz: `questions` drawn from the practice banks' `topics`,
/// passed at `pass_percent` of the points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizSpec {
    pub topics: Vec<String>,
    pub questions: u32,
    pub pass_percent: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModuleSpec {
    pub key: String,
    pub title: String,
    /// Lesson ids, in order; each is the file `<id>.md` beside the manifest.
    pub lessons: Vec<String>,
    pub quiz: Option<QuizSpec>,
    /// Where the module starts in course.toml, for messages.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub course: CourseMeta,
    pub modules: Vec<ModuleSpec>,
}

/// A lesson as written: its front matter and Markdown body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonDoc {
    pub title: String,
    pub minutes: u32,
    pub video: Option<String>,
    pub body: String,
    /// The body's first line in the file, to turn body lines into file lines.
    pub body_line: usize,
}

impl LessonDoc {
    /// What decides whether a re-import makes a new lesson version.
    pub fn content_hash(&self) -> String {
        let text = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.title,
            self.minutes,
            self.video.as_deref().unwrap_or(""),
            self.body
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackSpec {
    pub key: String,
    pub title: String,
    pub description: String,
    pub validity_months: u32,
    pub renewal_credit_hours: f64,
    pub courses: Vec<String>,
    pub workshops: Vec<WorkshopSpec>,
    pub sample: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkshopSpec {
    pub key: String,
    pub title: String,
    pub description: String,
}

// ----- the files as written -----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    course: Spanned<RawCourse>,
    #[serde(default)]
    modules: Vec<Spanned<RawModule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCourse {
    id: String,
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default)]
    credit_hours: f64,
    #[serde(default)]
    sample: bool,
    #[serde(default = "yes")]
    published: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    id: String,
    title: String,
    lessons: Vec<String>,
    #[serde(default)]
    quiz: Option<RawQuiz>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuiz {
    topics: Vec<String>,
    questions: u32,
    #[serde(default = "default_pass_percent")]
    pass_percent: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFront {
    title: String,
    minutes: u32,
    #[serde(default)]
    video: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrackFile {
    track: Spanned<RawTrack>,
    #[serde(default)]
    workshops: Vec<Spanned<RawWorkshop>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrack {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    validity_months: u32,
    #[serde(default)]
    renewal_credit_hours: f64,
    #[serde(default)]
    courses: Vec<String>,
    #[serde(default)]
    sample: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkshop {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
}

fn default_language() -> String {
    "zh-CN".to_owned()
}

fn yes() -> bool {
    true
}

fn default_pass_percent() -> u32 {
    80
}

fn toml_problem(text: &str, e: toml::de::Error) -> Vec<Problem> {
    vec![Problem {
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().to_owned(),
    }]
}

/// A module's quiz: topics, 1 to 50 questions, a pass percent of 1 to 100.
fn check_quiz(
    q: RawQuiz,
    module: &str,
    line: usize,
    problem: &mut dyn FnMut(usize, String),
) -> QuizSpec {
    if q.topics.is_empty() || q.topics.iter().any(|t| !is_key(t)) {
        problem(
            line,
            format!(
                "the quiz of module \"{}\" needs topics (lower-case letters, digits and dashes)",
                module
            ),
        );
    }
    if !valid_quiz_questions(q.questions) {
        problem(
            line,
            format!(
                "the quiz of module \"{}\" must have 1 to 50 questions",
                module
            ),
        );
    }
    if !valid_pass_percent(q.pass_percent) {
        problem(
            line,
            format!(
                "the quiz of module \"{}\" needs a pass_percent of 1 to 100",
                module
            ),
        );
    }
    QuizSpec {
        topics: q.topics,
        questions: q.questions,
        pass_percent: q.pass_percent,
    }
}

/// Parses and checks a course manifest (`course.toml`).
pub fn parse_manifest(text: &str) -> Result<Manifest, Vec<Problem>> {
    let raw: RawManifest = toml::from_str(text).map_err(|e| toml_problem(text, e))?;
    let mut problems = Vec::new();
    let course_line = line_of(text, raw.course.span().start);
    let rc = raw.course.into_inner();
    let mut problem = |line: usize, message: String| problems.push(Problem { line, message });
    if !is_key(&rc.id) {
        problem(
            course_line,
            "course id must be lower-case letters, digits and dashes".into(),
        );
    }
    if rc.title.trim().is_empty() {
        problem(course_line, "course title is empty".into());
    }
    if !valid_credit_hours(rc.credit_hours) {
        problem(course_line, "credit_hours must be 0 to 200".into());
    }
    if raw.modules.is_empty() {
        problem(course_line, "the course has no modules".into());
    }
    let mut module_keys = HashSet::new();
    let mut lesson_keys = HashSet::new();
    let mut modules = Vec::new();
    for spanned in raw.modules {
        let line = line_of(text, spanned.span().start);
        let m = spanned.into_inner();
        if !is_key(&m.id) {
            problem(
                line,
                format!(
                    "module id \"{}\" must be lower-case letters, digits and dashes",
                    m.id
                ),
            );
        } else if !module_keys.insert(m.id.clone()) {
            problem(line, format!("module id \"{}\" is used twice", m.id));
        }
        if m.title.trim().is_empty() {
            problem(line, format!("module \"{}\" has an empty title", m.id));
        }
        if m.lessons.is_empty() {
            problem(line, format!("module \"{}\" has no lessons", m.id));
        }
        for lesson in &m.lessons {
            if !is_key(lesson) {
                problem(
                    line,
                    format!("lesson id \"{lesson}\" must be lower-case letters, digits and dashes"),
                );
            } else if !lesson_keys.insert(lesson.clone()) {
                problem(line, format!("lesson \"{lesson}\" is listed twice"));
            }
        }
        let quiz = m.quiz.map(|q| check_quiz(q, &m.id, line, &mut problem));
        modules.push(ModuleSpec {
            key: m.id,
            title: m.title.trim().to_owned(),
            lessons: m.lessons,
            quiz,
            line,
        });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    }
    Ok(Manifest {
        course: CourseMeta {
            key: rc.id,
            title: rc.title.trim().to_owned(),
            summary: rc.summary.trim().to_owned(),
            language: rc.language,
            credit_hours: rc.credit_hours,
            sample: rc.sample,
            published: rc.published,
        },
        modules,
    })
}

/// The largest lesson, in bytes (a long lesson is split into several).
pub const MAX_LESSON_BYTES: usize = 256 * 1024;

/// The deepest nesting of block quotes a lesson may have. Each level of
/// quoting makes the Markdown renderer read the lines inside it again, so
/// deep nesting makes rendering quadratic in the lesson's size; nobody
/// writes more than a few levels.
pub const MAX_QUOTE_DEPTH: usize = 8;

/// How deeply a Markdown line is quoted: the `>` markers at its start (up to
/// three spaces before each, as CommonMark allows).
fn quote_depth(line: &str) -> usize {
    let mut depth = 0;
    let mut rest = line;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        if rest.len() - trimmed.len() > 3 {
            return depth;
        }
        match trimmed.strip_prefix('>') {
            Some(after) => {
                depth += 1;
                rest = after;
            }
            None => return depth,
        }
    }
}

/// The limits on a lesson's Markdown, whatever its source (a file or the
/// browser): its size, and how deeply it nests quotes (at the line that
/// goes too deep). `first_line` is the body's first line in its file.
pub fn check_body(body: &str, first_line: usize) -> Vec<Problem> {
    let mut problems = Vec::new();
    if body.len() > MAX_LESSON_BYTES {
        problems.push(Problem {
            line: first_line,
            message: format!(
                "a lesson may be at most {} KiB of text, this one is {} KiB: split it into several lessons",
                MAX_LESSON_BYTES / 1024,
                body.len().div_ceil(1024)
            ),
        });
        return problems;
    }
    if let Some((i, depth)) = body
        .lines()
        .map(quote_depth)
        .enumerate()
        .find(|(_, d)| *d > MAX_QUOTE_DEPTH)
    {
        problems.push(Problem {
            line: first_line + i,
            message: format!(
                "quotes nested {depth} deep: a lesson may nest quotes (`>`) at most {MAX_QUOTE_DEPTH} deep"
            ),
        });
    }
    problems
}

/// Why a module quiz cannot be drawn from the practice banks, if it cannot:
/// `available` is how many objective practice questions its topics have.
pub fn quiz_shortfall(quiz: &QuizSpec, available: usize) -> Option<String> {
    (usize::try_from(quiz.questions).is_ok_and(|needed| available < needed)).then(|| {
        format!(
            "the quiz needs {} questions but the practice banks have {available} on {}",
            quiz.questions,
            quiz.topics.join(", ")
        )
    })
}

/// Parses a lesson file: `+++` front matter (title, minutes, video), then
/// Markdown.
pub fn parse_lesson(text: &str) -> Result<LessonDoc, Vec<Problem>> {
    let one = |line: usize, message: &str| {
        vec![Problem {
            line,
            message: message.to_owned(),
        }]
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return Err(one(
            1,
            "a lesson starts with a +++ line, its front matter (title, minutes), and another +++ line",
        ));
    };
    let Some(end) = rest
        .match_indices("+++")
        .map(|(i, _)| i)
        .find(|&i| i == 0 || rest.as_bytes().get(i - 1) == Some(&b'\n'))
    else {
        return Err(one(1, "the front matter has no closing +++ line"));
    };
    let front_text = &rest[..end];
    let front: RawFront = toml::from_str(front_text).map_err(|e| {
        vec![Problem {
            line: 1 + e.span().map(|s| line_of(front_text, s.start)).unwrap_or(1),
            message: e.message().to_owned(),
        }]
    })?;
    let after = &rest[end + 3..];
    let body = after
        .strip_prefix("\r\n")
        .or_else(|| after.strip_prefix('\n'))
        .unwrap_or(after);
    let body_line = 1 + line_of(rest, end) + 1;
    let mut problems = Vec::new();
    if front.title.trim().is_empty() {
        problems.push(Problem {
            line: 2,
            message: "title is empty".into(),
        });
    }
    if !valid_minutes(front.minutes) {
        problems.push(Problem {
            line: 2,
            message: "minutes must be 1 to 240".into(),
        });
    }
    if let Some(video) = &front.video
        && !video.starts_with("https://")
    {
        problems.push(Problem {
            line: 2,
            message: "video must be an https:// link".into(),
        });
    }
    if body.trim().is_empty() {
        problems.push(Problem {
            line: body_line,
            message: "the lesson has no text".into(),
        });
    }
    problems.extend(check_body(body, body_line));
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(LessonDoc {
        title: front.title.trim().to_owned(),
        minutes: front.minutes,
        video: front.video,
        body: body.to_owned(),
        body_line,
    })
}

/// Parses and checks a track file (`<track>.track.toml`).
pub fn parse_track(text: &str) -> Result<TrackSpec, Vec<Problem>> {
    let raw: RawTrackFile = toml::from_str(text).map_err(|e| toml_problem(text, e))?;
    let mut problems = Vec::new();
    let line = line_of(text, raw.track.span().start);
    let rt = raw.track.into_inner();
    let mut problem = |line: usize, message: String| problems.push(Problem { line, message });
    if !is_key(&rt.id) {
        problem(
            line,
            "track id must be lower-case letters, digits and dashes".into(),
        );
    }
    if rt.title.trim().is_empty() {
        problem(line, "track title is empty".into());
    }
    if !valid_validity_months(rt.validity_months) {
        problem(line, "validity_months must be 1 to 120".into());
    }
    if !valid_renewal_hours(rt.renewal_credit_hours) {
        problem(line, "renewal_credit_hours must be 0 to 1000".into());
    }
    let mut seen = HashSet::new();
    for course in &rt.courses {
        if !is_key(course) {
            problem(line, format!("course id \"{course}\" is not a valid id"));
        } else if !seen.insert(course.clone()) {
            problem(line, format!("course \"{course}\" is listed twice"));
        }
    }
    let mut workshops = Vec::new();
    let mut keys = HashSet::new();
    for spanned in raw.workshops {
        let wline = line_of(text, spanned.span().start);
        let w = spanned.into_inner();
        if !is_key(&w.id) {
            problem(
                wline,
                format!(
                    "workshop id \"{}\" must be lower-case letters, digits and dashes",
                    w.id
                ),
            );
        } else if !keys.insert(w.id.clone()) {
            problem(wline, format!("workshop id \"{}\" is used twice", w.id));
        }
        if w.title.trim().is_empty() {
            problem(wline, format!("workshop \"{}\" has an empty title", w.id));
        }
        workshops.push(WorkshopSpec {
            key: w.id,
            title: w.title.trim().to_owned(),
            description: w.description.trim().to_owned(),
        });
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        return Err(problems);
    }
    Ok(TrackSpec {
        key: rt.id,
        title: rt.title.trim().to_owned(),
        description: rt.description.trim().to_owned(),
        validity_months: rt.validity_months,
        renewal_credit_hours: rt.renewal_credit_hours,
        courses: rt.courses,
        workshops,
        sample: rt.sample,
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    const MANIFEST: &str = r#"[course]
id = "fever"
title = "发热"
credit_hours = 2.5

[[modules]]
id = "basics"
title = "基础"
lessons = ["one", "two"]
quiz = { topics = ["fever-in-infants"], questions = 5, pass_percent = 80 }
"#;

    #[test]
    fn reads_a_manifest() {
        let m = parse_manifest(MANIFEST).expect("valid");
        assert_eq!(m.course.key, "fever");
        assert_eq!(m.course.credit_hours, 2.5);
        assert!(m.course.published);
        assert_eq!(m.modules[0].lessons, vec!["one", "two"]);
        assert_eq!(m.modules[0].line, 6);
        assert_eq!(
            m.modules[0].quiz,
            Some(QuizSpec {
                topics: vec!["fever-in-infants".into()],
                questions: 5,
                pass_percent: 80
            })
        );
    }

    #[test]
    fn manifest_problems_carry_their_lines() {
        let text = MANIFEST.replace(
            "lessons = [\"one\", \"two\"]",
            "lessons = [\"one\", \"one\"]",
        ) + "\n[[modules]]\nid = \"Bad Id\"\ntitle = \"\"\nlessons = []\n";
        let problems = parse_manifest(&text).expect_err("invalid");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert!(
            problems
                .iter()
                .any(|p| p.line == 6 && p.message.contains("listed twice")),
            "{problems:?}"
        );
        assert!(
            lines.iter().filter(|l| **l == 12).count() >= 3,
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_quiz_are_refused_with_lines() {
        let problems = parse_manifest("[course]\nid = \"a\"\ntitle = \"t\"\ncolour = 1\n")
            .expect_err("unknown key");
        assert_eq!(problems[0].line, 4, "{problems:?}");
        let text = MANIFEST.replace(
            "questions = 5, pass_percent = 80",
            "questions = 0, pass_percent = 120",
        );
        let problems = parse_manifest(&text).expect_err("bad quiz");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.line == 6));
    }

    #[test]
    fn reads_a_lesson_with_front_matter() {
        let doc =
            parse_lesson("+++\ntitle = \"发热\"\nminutes = 8\n+++\n\n# 正文\n").expect("valid");
        assert_eq!(doc.title, "发热");
        assert_eq!(doc.minutes, 8);
        assert_eq!(doc.body, "\n# 正文\n");
        assert_eq!(doc.body_line, 5);
    }

    #[test]
    fn lesson_problems_carry_their_lines() {
        let no_front = parse_lesson("# just text\n").expect_err("no front matter");
        assert_eq!(no_front[0].line, 1);
        let bad_key = parse_lesson("+++\ntitle = \"x\"\nminutes = 3\nauthor = \"me\"\n+++\ntext\n")
            .expect_err("unknown key");
        assert_eq!(bad_key[0].line, 4, "{bad_key:?}");
        let empty = parse_lesson("+++\ntitle = \"x\"\nminutes = 3\n+++\n\n").expect_err("empty");
        assert_eq!(empty[0].line, 5, "{empty:?}");
        let video = parse_lesson("+++\ntitle = \"x\"\nminutes = 3\nvideo = \"http://a\"\n+++\nt\n")
            .expect_err("video");
        assert!(video[0].message.contains("https"));
        let unclosed = parse_lesson("+++\ntitle = \"x\"\n").expect_err("unclosed");
        assert!(unclosed[0].message.contains("closing"));
    }

    #[test]
    fn a_changed_lesson_has_a_different_hash() {
        let a = parse_lesson("+++\ntitle = \"x\"\nminutes = 3\n+++\ntext\n").expect("valid");
        let mut b = a.clone();
        assert_eq!(a.content_hash(), b.content_hash());
        b.body.push('!');
        assert_ne!(a.content_hash(), b.content_hash());
    }

    #[test]
    fn lessons_have_a_size_and_quote_depth_limit() {
        let deep = format!(
            "+++\ntitle = \"x\"\nminutes = 3\n+++\nfine\n> one\n{}deep\n",
            "> ".repeat(9)
        );
        let p = parse_lesson(&deep).expect_err("too deep");
        assert_eq!(p[0].line, 7, "{p:?}");
        assert!(p[0].message.contains("nested 9 deep"));
        let eight = format!(
            "+++\ntitle = \"x\"\nminutes = 3\n+++\n{}ok\n",
            ">".repeat(8)
        );
        assert!(parse_lesson(&eight).is_ok());
        assert_eq!(
            quote_depth("   > >    > x"),
            2,
            "four spaces is code, not a quote"
        );
        let long = format!(
            "+++\ntitle = \"x\"\nminutes = 3\n+++\n{}\n",
            "长".repeat(MAX_LESSON_BYTES / 3 + 10)
        );
        let p = parse_lesson(&long).expect_err("too long");
        assert!(p[0].message.contains("at most 256 KiB"), "{p:?}");
        // A quiz the banks cannot fill, named as the import names it.
        let quiz = QuizSpec {
            topics: vec!["fever".into(), "rash".into()],
            questions: 5,
            pass_percent: 80,
        };
        assert_eq!(
            quiz_shortfall(&quiz, 4).as_deref(),
            Some("the quiz needs 5 questions but the practice banks have 4 on fever, rash")
        );
        assert_eq!(quiz_shortfall(&quiz, 5), None);
    }

    #[test]
    fn reads_a_track() {
        let t = parse_track(
            "[track]\nid = \"paediatrics\"\ntitle = \"儿科\"\nvalidity_months = 24\nrenewal_credit_hours = 12\ncourses = [\"a\", \"b\"]\n\n[[workshops]]\nid = \"resus\"\ntitle = \"复苏\"\n",
        )
        .expect("valid");
        assert_eq!(t.courses, vec!["a", "b"]);
        assert_eq!(t.workshops[0].key, "resus");
        let problems = parse_track(
            "[track]\nid = \"p\"\ntitle = \"t\"\nvalidity_months = 0\ncourses = [\"a\", \"a\"]\n\n[[workshops]]\nid = \"w\"\ntitle = \"\"\n",
        )
        .expect_err("invalid");
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 1, 7], "{problems:?}");
    }

    fn fields(e: Result<(), Error>) -> Vec<String> {
        match e {
            Ok(()) => Vec::new(),
            Err(Error::Invalid { field, .. }) => vec![field],
            Err(Error::InvalidFields(problems)) => problems.into_iter().map(|p| p.field).collect(),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn entered_courses_modules_and_tracks_break_the_file_rules_by_field() {
        let course = CourseMeta {
            key: "fever".into(),
            title: "发热".into(),
            summary: String::new(),
            language: "zh-CN".into(),
            credit_hours: 4.0,
            sample: false,
            published: true,
        };
        assert!(fields(course.check()).is_empty());
        for hours in [-0.5, 200.5, f64::NAN] {
            let bad = CourseMeta {
                credit_hours: hours,
                ..course.clone()
            };
            assert_eq!(fields(bad.check()), vec!["credit_hours"]);
        }
        // Every problem at once, named by the form's fields.
        let bad = CourseMeta {
            key: "Fever 1".into(),
            title: "  ".into(),
            credit_hours: 201.0,
            ..course
        };
        assert_eq!(fields(bad.check()), vec!["key", "title", "credit_hours"]);

        let module = ModuleSpec {
            key: "m1".into(),
            title: "一".into(),
            lessons: Vec::new(),
            quiz: Some(QuizSpec {
                topics: vec!["fever".into()],
                questions: 50,
                pass_percent: 100,
            }),
            line: 0,
        };
        assert!(fields(module.check()).is_empty());
        let bad = ModuleSpec {
            quiz: Some(QuizSpec {
                topics: vec!["fever".into()],
                questions: 51,
                pass_percent: 0,
            }),
            ..module.clone()
        };
        assert_eq!(
            fields(bad.check()),
            vec!["quiz_questions", "quiz_pass_percent"]
        );
        let no_quiz = ModuleSpec {
            quiz: None,
            key: String::new(),
            ..module
        };
        assert_eq!(fields(no_quiz.check()), vec!["key"]);

        let track = TrackSpec {
            key: "paediatrics".into(),
            title: "儿科".into(),
            description: String::new(),
            validity_months: 120,
            renewal_credit_hours: 1000.0,
            courses: Vec::new(),
            workshops: Vec::new(),
            sample: false,
        };
        assert!(fields(track.check()).is_empty());
        let bad = TrackSpec {
            validity_months: 0,
            renewal_credit_hours: f64::INFINITY,
            ..track.clone()
        };
        assert_eq!(
            fields(bad.check()),
            vec!["validity_months", "renewal_credit_hours"]
        );
        let bad = TrackSpec {
            validity_months: 121,
            key: "a".repeat(65),
            ..track
        };
        assert_eq!(fields(bad.check()), vec!["key", "validity_months"]);
    }
}
