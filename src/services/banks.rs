//! Checking and importing question bank files (the bank format, Moodle GIFT
//! and Moodle XML).
//! An import is all or nothing: every file is checked first, and then all
//! banks are written in one transaction.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::domain::banks::{self, Bank, Problem};
use crate::domain::{gift, moodle_xml};
use crate::error::{Error, Result};
use crate::store::{self, Db, banks as store_banks};

/// The problems of one file.
#[derive(Debug, Clone)]
pub struct FileProblems {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for FileProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: {}", self.path.display(), p.line, p.message)?;
        }
        Ok(())
    }
}

/// The formats a bank file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Gatekeeper's bank format (`.toml`).
    Bank,
    /// Moodle GIFT (`.gift`, or `.txt` as Moodle's exporter names it).
    Gift,
    /// Moodle XML (`.xml`).
    MoodleXml,
}

/// A file's format by its name: `.toml` the bank format, `.gift` and `.txt`
/// GIFT, `.xml` Moodle XML. In a folder, a `.txt` file counts only when its
/// text looks like GIFT (`gift::looks_like_gift`) and an `.xml` file only
/// when it is a Moodle export (`<quiz>`), so a stray note does not stop the
/// server; a file named on the command line is read whatever it holds.
pub fn format_of(path: &Path) -> Option<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Some(Format::Bank),
        Some("gift" | "txt") => Some(Format::Gift),
        Some("xml") => Some(Format::MoodleXml),
        _ => None,
    }
}

/// Whether a file found in a folder is a bank file (see [`format_of`]).
fn counts_in_folder(path: &Path) -> bool {
    let sniff = |looks: fn(&str) -> bool| {
        std::fs::read(path).is_ok_and(|bytes| std::str::from_utf8(&bytes).is_ok_and(looks))
    };
    match path.extension().and_then(|e| e.to_str()) {
        Some("txt") => sniff(gift::looks_like_gift),
        Some("xml") => sniff(moodle_xml::looks_like_moodle_xml),
        _ => format_of(path).is_some(),
    }
}

/// The bank files a path names: the file itself, or the bank files of a
/// directory (not recursive), in name order.
pub fn bank_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Error::invalid(path.display().to_string(), format!("cannot read: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && counts_in_folder(p))
        .collect();
    files.sort();
    Ok(files)
}

/// Which edition of the parsers a stored file fingerprint was taken with:
/// change it whenever the way files are read changes, so that a server
/// start reads every file again.
const PARSER_EDITION: &str = "2026-12-03 moodle";

/// A fingerprint of a bank file's bytes (and of the parsers' edition).
pub fn file_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(PARSER_EDITION.as_bytes());
    hasher.update([0u8]);
    hasher.update(bytes);
    hex::encode(hasher.finalize())
}

/// A file that passed every check.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub path: PathBuf,
    pub bank: Bank,
    /// [`file_hash`] of the file as read.
    pub hash: String,
}

fn read_bytes(path: &Path) -> std::result::Result<Vec<u8>, FileProblems> {
    std::fs::read(path).map_err(|e| FileProblems {
        path: path.to_owned(),
        problems: vec![Problem {
            line: 0,
            message: format!("cannot read: {e}"),
        }],
    })
}

/// Parses one file's bytes by its format.
fn check_bytes(path: &Path, bytes: &[u8]) -> std::result::Result<CheckedFile, FileProblems> {
    let fail = |problems| FileProblems {
        path: path.to_owned(),
        problems,
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes
            .iter()
            .take(e.valid_up_to())
            .filter(|b| **b == b'\n')
            .count();
        fail(vec![Problem {
            line,
            message: "the file is not UTF-8 text: save it as UTF-8 (Moodle's exports are)".into(),
        }])
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("bank");
    let parsed = match format_of(path) {
        Some(Format::Gift) => gift::parse(text, stem),
        Some(Format::MoodleXml) => moodle_xml::parse(text, stem),
        Some(Format::Bank) | None => banks::parse(text),
    };
    parsed.map_err(fail).map(|bank| CheckedFile {
        path: path.to_owned(),
        bank,
        hash: file_hash(bytes),
    })
}

/// Reads and parses one file.
pub fn check_file(path: &Path) -> std::result::Result<CheckedFile, FileProblems> {
    check_bytes(path, &read_bytes(path)?)
}

/// Checks every file; either all banks, or every problem of every file.
/// Two files declaring the same bank id are a problem too.
pub fn check_all(files: &[PathBuf]) -> std::result::Result<Vec<CheckedFile>, Vec<FileProblems>> {
    check_files(files.iter().map(|p| (p.clone(), None)), &HashMap::new())
}

/// Checks files, some already read (`Some(bytes)`); `taken` holds the bank
/// ids of files left as they are (a server start skips unchanged files),
/// by file.
fn check_files(
    files: impl Iterator<Item = (PathBuf, Option<Vec<u8>>)>,
    taken: &HashMap<String, PathBuf>,
) -> std::result::Result<Vec<CheckedFile>, Vec<FileProblems>> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut ids: HashSet<String> = taken.keys().cloned().collect();
    for (path, bytes) in files {
        let checked = match bytes {
            Some(bytes) => check_bytes(&path, &bytes),
            None => check_file(&path),
        };
        match checked {
            Ok(file) => {
                if !ids.insert(file.bank.meta.id.clone()) {
                    bad.push(FileProblems {
                        path: path.clone(),
                        problems: vec![Problem {
                            line: 1,
                            message: format!(
                                "bank id \"{}\" is used by another file",
                                file.bank.meta.id
                            ),
                        }],
                    });
                } else {
                    good.push(file);
                }
            }
            Err(problems) => bad.push(problems),
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}

/// What an import changed in one bank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub bank: String,
    pub added: usize,
    pub new_versions: usize,
    pub unchanged: usize,
    pub retired: usize,
    /// The file was the one last imported, byte for byte: not read again.
    pub file_unchanged: bool,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.file_unchanged {
            return write!(f, "{}: file unchanged since the last import", self.bank);
        }
        write!(
            f,
            "{}: {} added, {} changed (new version), {} unchanged, {} retired",
            self.bank, self.added, self.new_versions, self.unchanged, self.retired
        )
    }
}

/// Writes checked banks in one transaction. A changed question gets a new
/// version (earlier versions stay for the attempts that drew them); a
/// question marked `retired`, or no longer in its bank's file, is retired.
pub fn import_checked(db: &Db, files: &[CheckedFile]) -> Result<Vec<ImportSummary>> {
    let items: Vec<(&Path, &Bank, &str)> = files
        .iter()
        .map(|f| (f.path.as_path(), &f.bank, f.hash.as_str()))
        .collect();
    write_banks(db, &items)
}

/// Writes banks checked elsewhere (tests, tools). Without the file's bytes
/// there is no file fingerprint, so a server start reads their files again.
pub fn import(db: &Db, banks: &[(PathBuf, Bank)]) -> Result<Vec<ImportSummary>> {
    let items: Vec<(&Path, &Bank, &str)> = banks
        .iter()
        .map(|(path, bank)| (path.as_path(), bank, ""))
        .collect();
    write_banks(db, &items)
}

fn write_banks(db: &Db, banks: &[(&Path, &Bank, &str)]) -> Result<Vec<ImportSummary>> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut summaries = Vec::new();
        for (path, bank, hash) in banks {
            let row =
                store_banks::save_bank(conn, &bank.meta, &path.display().to_string(), hash, now)?;
            store_banks::replace_topic_names(conn, row.id, &bank.topics)?;
            let existing = store_banks::questions_of(conn, row.id)?;
            // Looked up by key and id, not searched: an import is linear in
            // the size of the bank.
            let by_key: HashMap<&str, &store_banks::QuestionRow> = existing
                .iter()
                .map(|e| (e.question_key.as_str(), e))
                .collect();
            let fingerprints: HashMap<i64, String> =
                store_banks::latest_fingerprints(conn, row.id)?
                    .into_iter()
                    .collect();
            let mut summary = ImportSummary {
                bank: bank.meta.id.clone(),
                ..ImportSummary::default()
            };
            let in_file: HashSet<&str> = bank.questions.iter().map(|q| q.key.as_str()).collect();
            for q in &bank.questions {
                let stored = match by_key.get(q.key.as_str()) {
                    Some(e) => (*e).clone(),
                    None => store_banks::insert_question(conn, row.id, &q.key, now)?,
                };
                match fingerprints.get(&stored.id) {
                    None => {
                        store_banks::add_version(conn, &stored, q, now)?;
                        summary.added += 1;
                    }
                    Some(v) if *v != q.fingerprint() => {
                        store_banks::add_version(conn, &stored, q, now)?;
                        summary.new_versions += 1;
                    }
                    Some(_) => summary.unchanged += 1,
                }
                match (q.retired, stored.retired_at) {
                    (true, None) => {
                        store_banks::set_retired(conn, stored.id, Some(now))?;
                        summary.retired += 1;
                    }
                    (false, Some(_)) => {
                        store_banks::set_retired(conn, stored.id, None)?;
                    }
                    _ => {}
                }
            }
            for gone in existing
                .iter()
                .filter(|e| !in_file.contains(e.question_key.as_str()) && e.retired_at.is_none())
            {
                store_banks::set_retired(conn, gone.id, Some(now))?;
                summary.retired += 1;
            }
            summaries.push(summary);
        }
        Ok(summaries)
    })
}

/// Checks and imports every bank file under `path` (the server does this
/// with question_banks/ at start). A file whose bytes are those last
/// imported from the same place is not read again (its fingerprint is
/// stored with its bank). Any problem in any file: nothing written.
pub fn import_path(db: &Db, path: &Path) -> Result<Vec<ImportSummary>> {
    let files = bank_files(path)?;
    let stored: HashMap<String, (String, String)> = db
        .read_blocking(|conn| Ok(store_banks::list_banks(conn)?))?
        .into_iter()
        .map(|b| (b.source, (b.bank_key, b.content_hash)))
        .collect();
    let mut changed = Vec::new();
    let mut taken = HashMap::new();
    let mut unchanged = Vec::new();
    for file in files {
        let bytes = std::fs::read(&file)
            .map_err(|e| Error::invalid(file.display().to_string(), format!("cannot read: {e}")))?;
        let source = file.display().to_string();
        match stored.get(&source) {
            Some((key, hash)) if *hash == file_hash(&bytes) => {
                taken.insert(key.clone(), file.clone());
                unchanged.push(key.clone());
            }
            _ => changed.push((file, Some(bytes))),
        }
    }
    let mut summaries = match check_files(changed.into_iter(), &taken) {
        Ok(banks) => import_checked(db, &banks)?,
        Err(problems) => {
            return Err(Error::Invalid {
                field: "question_banks".to_owned(),
                message: problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            });
        }
    };
    for key in unchanged {
        tracing::debug!(bank = %key, "question bank file unchanged: not read again");
        summaries.push(ImportSummary {
            bank: key,
            file_unchanged: true,
            ..ImportSummary::default()
        });
    }
    Ok(summaries)
}
