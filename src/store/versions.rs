//! Parsed question versions and exams' scoring rules, kept in memory after
//! the first read: the exam-day save path reads a version for every answer.

use std::collections::HashMap;

use crate::domain::banks::Content;
use crate::domain::ids::ExamId;
use crate::domain::scoring::ChoiceScoring;
use crate::error::{Error, Result};
use crate::store::{DbConn, banks as store_banks, exams as store_exams};

/// Parsed question versions by id, and exams' scoring rules. Versions are
/// immutable, and an exam keeps the rule it was scheduled with, so entries
/// never go stale; the cache is bounded by the number of versions in the
/// banks and of exams.
#[derive(Default)]
pub struct VersionCache {
    by_id: std::sync::RwLock<HashMap<i64, std::sync::Arc<Content>>>,
    rules: std::sync::RwLock<HashMap<ExamId, ChoiceScoring>>,
}

impl VersionCache {
    /// How an exam scores choice questions with weights.
    pub fn choice_scoring(&self, conn: &mut DbConn, exam_id: ExamId) -> Result<ChoiceScoring> {
        if let Some(rule) = self
            .rules
            .read()
            .ok()
            .and_then(|m| m.get(&exam_id).copied())
        {
            return Ok(rule);
        }
        let rule = store_exams::choice_scoring(conn, exam_id)?.ok_or(Error::NotFound)?;
        if let Ok(mut m) = self.rules.write() {
            m.insert(exam_id, rule);
        }
        Ok(rule)
    }

    /// One version's content (see [`VersionCache::contents`]).
    pub fn content(&self, conn: &mut DbConn, version_id: i64) -> Result<std::sync::Arc<Content>> {
        self.contents(conn, &[version_id])?
            .remove(&version_id)
            .ok_or(Error::NotFound)
    }

    /// The contents of several versions, reading the ones not yet cached in
    /// one query (a paper's fifty questions at start, view and submit).
    pub fn contents(
        &self,
        conn: &mut DbConn,
        ids: &[i64],
    ) -> Result<HashMap<i64, std::sync::Arc<Content>>> {
        let mut found = HashMap::with_capacity(ids.len());
        if let Ok(m) = self.by_id.read() {
            for id in ids {
                if let Some(c) = m.get(id) {
                    found.insert(*id, c.clone());
                }
            }
        }
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !found.contains_key(id))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let mut parsed = Vec::with_capacity(missing.len());
        for version in store_banks::versions_by_ids(conn, &missing)? {
            let content: Content = serde_json::from_str(&version.content)
                .map_err(|e| Error::internal_from(format!("stored question {}", version.id), e))?;
            parsed.push((version.id, std::sync::Arc::new(content)));
        }
        if let Ok(mut m) = self.by_id.write() {
            for (id, c) in &parsed {
                m.insert(*id, c.clone());
            }
        }
        found.extend(parsed);
        Ok(found)
    }
}
