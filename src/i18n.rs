//! Translations (rust-i18n; the texts are in locales/*.yml). Templates get a
//! `Tr` and call `tr.t("key")`.

use crate::domain::locale::Locale;
use crate::domain::roles::Role;

/// A translator bound to one locale.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub locale: Locale,
}

impl Tr {
    pub fn new(locale: Locale) -> Self {
        Tr { locale }
    }

    /// The text for `key`, falling back to English, then to the key itself
    /// (which a test forbids for every key in use).
    pub fn t(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.locale.as_str()).into_owned()
    }

    /// The text for `key` with `%{name}` placeholders filled in.
    pub fn t_with(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in args {
            text = text.replace(&format!("%{{{name}}}"), value);
        }
        text
    }

    /// The text for `key` in this locale (or the English fallback), if
    /// either has one.
    pub fn t_opt(&self, key: &str) -> Option<String> {
        let text = self.t(key);
        (text != key && !text.ends_with(key)).then_some(text)
    }

    /// An error message (from `domain/`, `services/`, `Error`'s own texts)
    /// in this locale, or as written when the locale has no text for it.
    ///
    /// The message itself stays plain English: it is what the API answers
    /// with, byte for byte, and what the log shows. The translations live in
    /// `locales/errors/<locale>.yml` under `errors.`, keyed by that English:
    ///
    /// - a fixed message is its own key: `errors."is required"`;
    /// - a message built with `format!` has a pattern key, the format string
    ///   with each `{…}` written `%{name}`: `errors."must be at most %{n}
    ///   characters"`. `%{name}` stands for any non-empty text, which the
    ///   translation repeats as `%{name}`. The text is translated in turn
    ///   when it is itself a message (`section %{n}`), or, for
    ///   `%{name:section}`, through that section of the locale files
    ///   (`%{from:stages}` shows `stages.written_exam`).
    ///
    /// So each text has one place: the English where the code writes it, the
    /// Chinese in the locale file, and nothing in between. Patterns are read
    /// from the locale files themselves (rust-i18n cannot list its keys) and
    /// the most specific (longest fixed text) is tried first. A test checks
    /// that every message literal and `format!` string in `src/` has a key.
    pub fn error_message(&self, message: &str) -> String {
        self.translate_error(message, 0)
            .unwrap_or_else(|| message.to_owned())
    }

    fn translate_error(&self, message: &str, depth: u8) -> Option<String> {
        if let Some(text) = self.t_opt(&format!("errors.{message}")) {
            return Some(text);
        }
        if depth >= 3 {
            return None;
        }
        let pattern = error_patterns()
            .iter()
            .find_map(|p| p.captures(message).map(|values| (p, values)));
        let (pattern, values) = pattern?;
        let mut text = self.t_opt(&format!("errors.{}", pattern.key))?;
        for (slot, value) in pattern.slots.iter().zip(values) {
            let shown = slot
                .section
                .as_ref()
                .and_then(|section| self.t_opt(&format!("{section}.{value}")))
                .or_else(|| self.translate_error(value, depth + 1))
                .unwrap_or_else(|| value.to_owned());
            text = text.replace(&format!("%{{{}}}", slot.name), &shown);
        }
        Some(text)
    }

    /// The label of a form field. An indexed member (`marks[2]`) keeps its
    /// index after the label of its list.
    pub fn field(&self, field: &str) -> String {
        if let Some(text) = self.t_opt(&format!("fields.{field}")) {
            return text;
        }
        match field.split_once('[') {
            Some((list, index)) if index.ends_with(']') => {
                match self.t_opt(&format!("fields.{list}")) {
                    Some(label) => format!("{label}[{index}"),
                    None => field.to_owned(),
                }
            }
            _ => field.to_owned(),
        }
    }

    /// A question topic as the reader sees it: its name in their language
    /// where the bank gives one (`domain::banks::topic_shown`).
    pub fn topic(&self, topic: &str, names: &std::collections::BTreeMap<String, String>) -> String {
        crate::domain::banks::topic_shown(topic, names, self.locale.as_str()).to_owned()
    }

    pub fn role_name(&self, role: &Role) -> String {
        self.t(&format!("roles.{}", role.as_str()))
    }

    /// What a role does in the product, for the home page.
    pub fn role_does(&self, role: &Role) -> String {
        self.t(&format!("home.does.{}", role.as_str()))
    }

    pub fn level_name(&self, level: &str) -> String {
        self.t(&format!("levels.{level}"))
    }

    pub fn scope_name(&self, scope: &str) -> String {
        self.t(&format!("scopes.{scope}"))
    }

    pub fn lang(&self) -> &'static str {
        self.locale.as_str()
    }
}

/// The locale files of error messages, read for their pattern keys.
const ERROR_FILES: [&str; 2] = [
    include_str!("../locales/errors/en.yml"),
    include_str!("../locales/errors/zh-CN.yml"),
];

/// A pattern key of `errors.`: fixed text and `%{name}` slots, alternating.
#[derive(Debug)]
struct ErrorPattern {
    key: String,
    parts: Vec<Part>,
    slots: Vec<Slot>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    Slot,
}

#[derive(Debug)]
struct Slot {
    name: String,
    /// The locale section its text is translated through, if any.
    section: Option<String>,
}

impl ErrorPattern {
    fn parse(key: &str) -> Option<ErrorPattern> {
        let (mut parts, mut slots, mut rest) = (Vec::new(), Vec::new(), key);
        while let Some(start) = rest.find("%{") {
            let end = start + rest[start..].find('}')?;
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let (name, section) = match rest[start + 2..end].split_once(':') {
                Some((name, section)) => (name, Some(section.to_owned())),
                None => (&rest[start + 2..end], None),
            };
            slots.push(Slot {
                name: name.to_owned(),
                section,
            });
            parts.push(Part::Slot);
            rest = &rest[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        (!slots.is_empty()).then(|| ErrorPattern {
            key: key.to_owned(),
            parts,
            slots,
        })
    }

    /// How much of the pattern is fixed text: more is more specific.
    fn fixed_len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => t.len(),
                Part::Slot => 0,
            })
            .sum()
    }

    /// The slots' texts when `message` fits the pattern.
    fn captures<'m>(&self, message: &'m str) -> Option<Vec<&'m str>> {
        let mut values = Vec::with_capacity(self.slots.len());
        fits(&self.parts, message, &mut values).then_some(values)
    }
}

/// Whether `text` fits `parts`, collecting the slots' texts; a slot takes at
/// least one character and as few as let the rest fit.
fn fits<'m>(parts: &[Part], text: &'m str, values: &mut Vec<&'m str>) -> bool {
    match parts.split_first() {
        None => text.is_empty(),
        Some((Part::Text(fixed), rest)) => text
            .strip_prefix(fixed.as_str())
            .is_some_and(|after| fits(rest, after, values)),
        Some((Part::Slot, rest)) => {
            let Some(Part::Text(next)) = rest.first() else {
                // The last part (two slots never touch): the rest of the text.
                if rest.is_empty() && !text.is_empty() {
                    values.push(text);
                    return true;
                }
                return false;
            };
            for (at, _) in text.match_indices(next.as_str()).filter(|(at, _)| *at > 0) {
                values.push(&text[..at]);
                if fits(rest, &text[at..], values) {
                    return true;
                }
                values.pop();
            }
            false
        }
    }
}

/// The keys of `errors:` in the locale files, read line by line: each is a
/// quoted string, indented once. Only the keys with `%{` are patterns.
fn error_keys(file: &str) -> Vec<String> {
    file.lines()
        .filter_map(|line| {
            let line = line.strip_prefix("  ")?;
            let quote = line.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let mut key = String::new();
            let mut chars = line[1..].chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' if quote == '"' => key.push(chars.next()?),
                    '\'' if quote == '\'' && chars.as_str().starts_with('\'') => {
                        chars.next();
                        key.push('\'');
                    }
                    c if c == quote => return chars.as_str().starts_with(':').then_some(key),
                    c => key.push(c),
                }
            }
            None
        })
        .collect()
}

fn error_patterns() -> &'static [ErrorPattern] {
    static PATTERNS: std::sync::OnceLock<Vec<ErrorPattern>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        let mut patterns: Vec<ErrorPattern> = ERROR_FILES
            .iter()
            .flat_map(|file| error_keys(file))
            .filter_map(|key| ErrorPattern::parse(&key))
            .collect();
        patterns.sort_by(|a, b| b.fixed_len().cmp(&a.fixed_len()).then(a.key.cmp(&b.key)));
        patterns.dedup_by(|a, b| a.key == b.key);
        patterns
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the templates and code ask for exists in both languages.
    #[test]
    fn every_key_in_use_is_translated_in_both_languages() {
        let mut keys = std::collections::BTreeSet::new();
        for dir in ["templates", "src"] {
            collect_keys(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
                &mut keys,
            );
        }
        assert!(keys.len() > 50, "found only {} keys", keys.len());
        for locale in Locale::ALL {
            let tr = Tr::new(locale);
            for key in &keys {
                let text = tr.t(key);
                assert!(
                    !text.ends_with(key.as_str()),
                    "{} lacks {key}",
                    locale.as_str()
                );
            }
        }
        // Spot-check that the languages differ.
        assert_ne!(
            Tr::new(Locale::En).t("sign_in.title"),
            Tr::new(Locale::ZhCn).t("sign_in.title")
        );
    }

    fn collect_keys(dir: &std::path::Path, keys: &mut std::collections::BTreeSet<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect_keys(&path, keys);
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for marker in ["tr.t(\"", "tr.t_with(\"", ".notice(\""] {
                for piece in text.split(marker).skip(1) {
                    let key: String = piece.chars().take_while(|c| *c != '"').collect();
                    if key.contains('.')
                        && key
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                    {
                        keys.insert(key);
                    }
                }
            }
        }
    }

    #[test]
    fn domain_messages_translate_or_pass_through() {
        let zh = Tr::new(Locale::ZhCn);
        assert_eq!(zh.error_message("is required"), "为必填项");
        assert_eq!(zh.error_message("something new"), "something new");
        assert_eq!(
            Tr::new(Locale::En).error_message("is required"),
            "is required"
        );
        assert_eq!(zh.field("email"), "电子邮箱");
        assert_eq!(zh.field("unknown_field"), "unknown_field");
        assert_eq!(
            Tr::new(Locale::En).t_with("sign_in.throttled", &[("seconds", "42")]),
            "Too many sign-in attempts. Try again in 42 s."
        );
    }
}

#[cfg(test)]
pub(crate) mod error_message_tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// Files whose messages people never read in the web app: the demo, the
    /// command line's configuration and jobs, and the question-bank and
    /// course file importers (operators' tools, answered with file:line).
    const NOT_USER_FACING: [&str; 10] = [
        "demo/",
        "domain/signing.rs",
        "domain/status_list.rs",
        "main.rs",
        "config.rs",
        "jobs/",
        "domain/banks.rs",
        "domain/moodle.rs",
        "domain/moodle_xml.rs",
        "services/banks.rs",
    ];

    /// A message found in the source: its text, and whether it is a
    /// `format!` string (a pattern) or a fixed text.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    struct Found {
        text: String,
        pattern: bool,
        at: String,
    }

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path: PathBuf = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
                let name = path
                    .strip_prefix(&src)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                if NOT_USER_FACING.iter().any(|n| name.starts_with(n)) {
                    continue;
                }
                // Unit tests may build any message they like.
                let code = match text.find("#[cfg(test)]\nmod ") {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                out.push((name, code));
            }
        }
    }

    /// The top-level arguments of the call whose `(` ends `head`.
    fn arguments(rest: &str) -> Vec<&str> {
        let (mut depth, mut args, mut start) = (1usize, Vec::new(), 0);
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    while let Some((_, c)) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '"' => break,
                            _ => {}
                        }
                    }
                }
                '\'' if rest[i..].len() > 2 && rest[i + 2..].starts_with('\'') => {
                    chars.next();
                    chars.next();
                }
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth == 0 {
                        args.push(rest[start..i].trim());
                        return args;
                    }
                }
                ',' if depth == 1 => {
                    args.push(rest[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        args
    }

    /// The string literal an argument is, or formats; `None` for anything
    /// else (a variable, a call).
    fn literal(arg: &str) -> Option<(String, bool)> {
        let (arg, pattern) = match arg.strip_prefix("format!(") {
            Some(inner) => (inner.trim_start(), true),
            None => (arg, false),
        };
        let mut chars = arg.strip_prefix('"')?.chars();
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    let rest = chars.as_str().trim_start();
                    let whole = if pattern {
                        rest.starts_with(',') || rest.starts_with(')') || rest.is_empty()
                    } else {
                        rest.is_empty() || rest.starts_with('.') || rest.starts_with(')')
                    };
                    return whole.then_some((text, pattern));
                }
                '\\' => match chars.next()? {
                    'n' => text.push('\n'),
                    '\n' => {
                        let rest = chars.as_str().trim_start();
                        chars = rest.chars();
                    }
                    c => text.push(c),
                },
                c => text.push(c),
            }
        }
        None
    }

    /// Every message literal passed to an error constructor, or returned as
    /// a refusal's text, in the user-facing source.
    fn messages_in_source() -> (BTreeSet<Found>, BTreeSet<String>) {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let (mut found, mut fields) = (BTreeSet::new(), BTreeSet::new());
        for (name, code) in &files {
            let mut add = |arg: &str, line: usize, format: bool| {
                if let Some((text, pattern)) = literal(arg) {
                    let pattern = pattern || format;
                    found.insert(Found {
                        text,
                        pattern,
                        at: format!("{name}:{line}"),
                    });
                }
            };
            let line_of = |at: usize| code[..at].lines().count();
            // (marker, which argument is the message, which the field)
            let markers: [(&str, usize, Option<usize>); 6] = [
                ("Error::invalid(", 1, Some(0)),
                ("Error::conflict(", 1, Some(0)),
                ("bad(", 0, None),
                ("Err(", 0, None),
                ("Err((", 1, Some(0)),
                ("#[error(", 0, None),
            ];
            for (marker, message, field) in markers {
                if marker == "#[error(" && !name.starts_with("domain/") {
                    continue;
                }
                for (at, _) in code.match_indices(marker) {
                    let args = arguments(&code[at + marker.len()..]);
                    if let Some(arg) = args.get(message) {
                        add(arg, line_of(at), marker == "#[error(");
                    }
                    if let Some(f) = field.and_then(|f| args.get(f))
                        && let Some((f, false)) = literal(f)
                    {
                        fields.insert(f);
                    }
                }
            }
            for (at, _) in code.match_indices("message:") {
                let rest = code[at + "message:".len()..].trim_start();
                let end = rest.find(['\n', ';']).unwrap_or(rest.len());
                let first = rest[..end].trim_end_matches(',');
                // A literal on this line, or a format! spanning lines.
                let arg = if first.starts_with("format!(") {
                    let args = arguments(&rest["format!(".len()..]);
                    args.first().map(|a| format!("format!({a})"))
                } else {
                    Some(
                        first
                            .trim_end_matches(".into()")
                            .trim_end_matches(".to_owned()")
                            .to_owned(),
                    )
                };
                if let Some(arg) = arg {
                    add(&arg, line_of(at), false);
                }
            }
        }
        (found, fields)
    }

    /// A format string or pattern key with every slot written `%{}`.
    fn shape(text: &str, format: bool) -> String {
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if format && chars.peek() == Some(&'{') => {
                    chars.next();
                    out.push('{');
                }
                '}' if format && chars.peek() == Some(&'}') => {
                    chars.next();
                    out.push('}');
                }
                '{' if format => {
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                    out.push_str("%{}");
                }
                '%' if !format && chars.peek() == Some(&'{') => {
                    for c in chars.by_ref() {
                        if c == '}' {
                            break;
                        }
                    }
                    out.push_str("%{}");
                }
                c => out.push(c),
            }
        }
        out
    }

    /// Latin words a Chinese message may keep: codes, units, names.
    /// (Acronyms in capitals are allowed too: API, UUID, UTC, PAED …)
    const LATIN_ALLOWED: [&str; 17] = [
        "images",
        "zh",
        "CN",
        "en",
        "KiB",
        "https",
        "http",
        "postgres",
        "SQLite",
        "score_only",
        "topics",
        "full",
        "written",
        "case",
        "renewal",
        "weighted",
        "all_or_nothing",
    ];
    const LATIN_ALLOWED_MORE: [&str; 3] = ["suspend", "reinstate", "revoke"];

    /// The English words left in a translated text, placeholders aside.
    pub(crate) fn english_words(text: &str) -> Vec<String> {
        let mut bare = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("%{") {
            bare.push_str(&rest[..start]);
            rest = rest[start..].split_once('}').map_or("", |(_, after)| after);
        }
        bare.push_str(rest);
        bare.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.chars().filter(char::is_ascii_alphabetic).count() >= 2)
            .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
            .filter(|w| !w.chars().all(|c| c.is_ascii_uppercase()))
            .filter(|w| !LATIN_ALLOWED.contains(w) && !LATIN_ALLOWED_MORE.contains(w))
            .map(str::to_owned)
            .collect()
    }

    pub(crate) fn reads_as_chinese(text: &str) -> bool {
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            && english_words(text).is_empty()
    }

    use crate::domain::committee::Conflict;
    use crate::domain::referrals::GateRefusal;

    pub(crate) const CONFLICTS: [Conflict; 3] = [
        Conflict::OwnCase,
        Conflict::OwnCredential,
        Conflict::SameInstitution,
    ];
    pub(crate) const REFUSALS: [GateRefusal; 5] = [
        GateRefusal::NoCredential,
        GateRefusal::Suspended,
        GateRefusal::Revoked,
        GateRefusal::Expired,
        GateRefusal::NotInScope,
    ];

    /// Every message the source hands to an error (fixed or `format!`) has a
    /// Chinese text in locales/errors/zh-CN.yml that reads as Chinese.
    #[test]
    fn every_error_message_in_the_source_is_translated_to_chinese() {
        let zh = Tr::new(Locale::ZhCn);
        let (found, _) = messages_in_source();
        assert!(found.len() > 150, "found only {} messages", found.len());
        let keys: Vec<String> = error_keys(ERROR_FILES[1]);
        let shapes: std::collections::BTreeMap<String, &String> =
            keys.iter().map(|k| (shape(k, false), k)).collect();
        // The gate's refusals and conflicts of interest are shown by their
        // codes (`gate.*`, `conflict.*`), checked below.
        let by_code: BTreeSet<String> = CONFLICTS
            .iter()
            .map(ToString::to_string)
            .chain(REFUSALS.iter().map(ToString::to_string))
            .collect();
        let mut missing = Vec::new();
        for f in &found {
            if by_code.contains(&f.text) {
                continue;
            }
            let text = if f.pattern {
                shapes
                    .get(&shape(&f.text, true))
                    .and_then(|key| zh.t_opt(&format!("errors.{key}")))
            } else {
                Some(zh.error_message(&f.text)).filter(|t| *t != f.text)
            };
            match text {
                Some(t) if reads_as_chinese(&t) => {}
                Some(t) => missing.push(format!("{}: {:?} reads {t:?}", f.at, f.text)),
                None => missing.push(format!("{}: {:?} has no Chinese text", f.at, f.text)),
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
        for c in CONFLICTS {
            assert!(reads_as_chinese(&zh.t(&format!("conflict.{}", c.code()))));
        }
        for r in REFUSALS {
            assert!(reads_as_chinese(&zh.t(&format!("gate.{}", r.code()))));
        }
    }

    /// Every field an error names has a label in both languages.
    #[test]
    fn every_field_an_error_names_has_a_label() {
        let (_, fields) = messages_in_source();
        assert!(fields.len() > 50, "found only {} fields", fields.len());
        for locale in Locale::ALL {
            let tr = Tr::new(locale);
            let unlabelled: Vec<&String> = fields
                .iter()
                .filter(|f| match tr.t_opt(&format!("fields.{f}")) {
                    None => true,
                    Some(label) => locale == Locale::ZhCn && !reads_as_chinese(&label),
                })
                .collect();
            assert!(unlabelled.is_empty(), "{}: {unlabelled:?}", locale.as_str());
        }
    }

    /// Every pattern key is read from the file as rust-i18n reads it, and
    /// its Chinese text repeats exactly its slots.
    #[test]
    fn pattern_keys_parse_and_keep_their_slots() {
        let zh = Tr::new(Locale::ZhCn);
        let keys = error_keys(ERROR_FILES[1]);
        assert!(keys.len() > 150, "read only {} keys", keys.len());
        for key in &keys {
            let text = zh.t_opt(&format!("errors.{key}"));
            assert!(text.is_some(), "rust-i18n has no errors.{key:?}");
            if let (Some(p), Some(text)) = (ErrorPattern::parse(key), text) {
                for slot in &p.slots {
                    assert!(
                        text.contains(&format!("%{{{}}}", slot.name)),
                        "{key:?}: the Chinese text lacks %{{{}}}",
                        slot.name
                    );
                }
                assert!(
                    p.parts
                        .windows(2)
                        .all(|w| !matches!(w, [Part::Slot, Part::Slot])),
                    "{key:?}: two slots touch"
                );
            }
        }
    }

    /// What the system writes into a credential's history reads in
    /// Chinese; what a committee member typed is shown as typed.
    #[test]
    fn system_history_lines_translate_and_typed_reasons_do_not() {
        let zh = Tr::new(Locale::ZhCn);
        assert_eq!(
            zh.error_message("case 12 approved by the committee"),
            "委员会批准了认证案例 12"
        );
        assert_eq!(
            zh.error_message("renewal case 7 approved by the committee"),
            "委员会批准了续证案例 7"
        );
        assert_eq!(zh.error_message("the validity period ended"), "有效期已满");
        assert_eq!(
            zh.error_message("the suspension period ended"),
            "暂停期已满"
        );
        assert_eq!(zh.error_message("执业范围调整"), "执业范围调整");
        let en = Tr::new(Locale::En);
        assert_eq!(
            en.error_message("case 12 approved by the committee"),
            "case 12 approved by the committee"
        );
    }

    #[test]
    fn built_messages_translate_with_their_values() {
        let zh = Tr::new(Locale::ZhCn);
        let en = Tr::new(Locale::En);
        assert_eq!(
            zh.error_message("must be at most 200 characters"),
            "最多 200 个字符"
        );
        assert_eq!(
            zh.error_message("too many attempts; try again in 42 seconds"),
            "尝试次数过多，请 42 秒后重试"
        );
        // A slot's text through a section, and a nested message.
        assert_eq!(
            zh.error_message("this referral is referred_back"),
            "该转诊当前状态为“已下转”"
        );
        assert_eq!(
            zh.error_message("section 2 has no topics"),
            "第 2 部分没有指定主题"
        );
        // The more specific pattern wins.
        assert_eq!(
            zh.error_message("must be 0 to 100 (percent of an item's points)"),
            "须为 0 到 100（占该题分值的百分比）"
        );
        assert_eq!(zh.error_message("must be 0 to 90"), "须为 0 到 90");
        // English, and anything unknown, pass through unchanged.
        for message in [
            "must be at most 200 characters",
            "this referral is referred_back",
            "something new",
        ] {
            assert_eq!(en.error_message(message), message);
        }
        assert_eq!(zh.error_message("something new"), "something new");
        assert_eq!(zh.field("marks[2]"), format!("{}[2]", zh.field("marks")));
    }

    /// Messages a refusal builds in code rather than at a constructor.
    #[test]
    fn refusals_built_in_code_are_translated() {
        use crate::domain::exams::StartRefusal;
        let zh = Tr::new(Locale::ZhCn);
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap_or_default();
        for refusal in [
            StartRefusal::NotOpenYet { opens_at: at },
            StartRefusal::Closed,
            StartRefusal::NoAttemptsLeft,
            StartRefusal::Waiting { until: at },
        ] {
            let crate::error::Error::Conflict { message, .. } = refusal.into_error() else {
                panic!("a start refusal is a conflict");
            };
            let text = zh.error_message(&message);
            assert!(reads_as_chinese(&text), "{message:?} reads {text:?}");
        }
    }
}
