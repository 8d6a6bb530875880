//! Checking and importing question bank files (the bank format and GIFT).
//! An import is all or nothing: every file is checked first, and then all
//! banks are written in one transaction.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::domain::banks::{self, Bank, Problem};
use crate::domain::gift;
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

fn is_bank_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("toml" | "gift")
    )
}

/// The bank files a path names: the file itself, or the `.toml` and `.gift`
/// files of a directory (not recursive), in name order.
pub fn bank_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| Error::invalid(path.display().to_string(), format!("cannot read: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_bank_file(p))
        .collect();
    files.sort();
    Ok(files)
}

/// Parses one file by its extension: `.gift` is GIFT, anything else the bank format.
pub fn check_file(path: &Path) -> std::result::Result<Bank, FileProblems> {
    let fail = |problems| FileProblems {
        path: path.to_owned(),
        problems,
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(vec![Problem {
            line: 0,
            message: format!("cannot read: {e}"),
        }])
    })?;
    let parsed = if path.extension().and_then(|e| e.to_str()) == Some("gift") {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("gift");
        gift::parse(&text, stem)
    } else {
        banks::parse(&text)
    };
    parsed.map_err(fail)
}

/// Checks every file; either all banks, or every problem of every file.
/// Two files declaring the same bank id are a problem too.
pub fn check_all(
    files: &[PathBuf],
) -> std::result::Result<Vec<(PathBuf, Bank)>, Vec<FileProblems>> {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut ids = HashSet::new();
    for path in files {
        match check_file(path) {
            Ok(bank) => {
                if !ids.insert(bank.meta.id.clone()) {
                    bad.push(FileProblems {
                        path: path.clone(),
                        problems: vec![Problem {
                            line: 1,
                            message: format!(
                                "bank id \"{}\" is used by another file",
                                bank.meta.id
                            ),
                        }],
                    });
                } else {
                    good.push((path.clone(), bank));
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
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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
pub fn import(db: &Db, banks: &[(PathBuf, Bank)]) -> Result<Vec<ImportSummary>> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut summaries = Vec::new();
        for (path, bank) in banks {
            let row = store_banks::save_bank(conn, &bank.meta, &path.display().to_string(), now)?;
            let existing = store_banks::questions_of(conn, row.id)?;
            let mut summary = ImportSummary {
                bank: bank.meta.id.clone(),
                ..ImportSummary::default()
            };
            let in_file: HashSet<&str> = bank.questions.iter().map(|q| q.key.as_str()).collect();
            for q in &bank.questions {
                let stored = match existing.iter().find(|e| e.question_key == q.key) {
                    Some(e) => e.clone(),
                    None => store_banks::insert_question(conn, row.id, &q.key, now)?,
                };
                let latest = store_banks::version(conn, stored.id, stored.latest_version)?;
                match latest {
                    None => {
                        store_banks::add_version(conn, &stored, q, now)?;
                        summary.added += 1;
                    }
                    Some(v) if v.fingerprint != q.fingerprint() => {
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
/// with question_banks/ at start). Any problem in any file: nothing written.
pub fn import_path(db: &Db, path: &Path) -> Result<Vec<ImportSummary>> {
    let files = bank_files(path)?;
    match check_all(&files) {
        Ok(banks) => import(db, &banks),
        Err(problems) => Err(Error::Invalid {
            field: "question_banks".to_owned(),
            message: problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        }),
    }
}
