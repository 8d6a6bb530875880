//! Queries for question banks, questions and their versions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::banks::{BankMeta, BankUse, Question, TopicNames};
use crate::store::DbConn;
use crate::store::schema::{question_banks, question_versions, questions, topic_names};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = question_banks)]
pub struct BankRow {
    pub id: i64,
    pub bank_key: String,
    pub title: String,
    pub track: String,
    pub language: String,
    pub sample: bool,
    pub file_version: i32,
    pub source: String,
    pub created_at: NaiveDateTime,
    pub imported_at: NaiveDateTime,
    pub purpose: String,
    /// The file's fingerprint when last imported (see `services::banks`).
    pub content_hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = questions)]
pub struct QuestionRow {
    pub id: i64,
    pub bank_id: i64,
    pub question_key: String,
    pub latest_version: i32,
    pub retired_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = question_versions)]
pub struct VersionRow {
    pub id: i64,
    pub question_id: i64,
    pub version: i32,
    pub kind: String,
    pub topic: String,
    pub difficulty: i32,
    pub points: i32,
    pub content: String,
    pub fingerprint: String,
    pub created_at: NaiveDateTime,
}

pub fn find_bank(conn: &mut DbConn, key: &str) -> QueryResult<Option<BankRow>> {
    question_banks::table
        .filter(question_banks::bank_key.eq(key))
        .first(conn)
        .optional()
}

pub fn list_banks(conn: &mut DbConn) -> QueryResult<Vec<BankRow>> {
    question_banks::table
        .order(question_banks::bank_key.asc())
        .load(conn)
}

/// Inserts or updates the bank's row from its file.
pub fn save_bank(
    conn: &mut DbConn,
    meta: &BankMeta,
    source: &str,
    content_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<BankRow> {
    let values = (
        question_banks::content_hash.eq(content_hash),
        question_banks::title.eq(&meta.title),
        question_banks::track.eq(&meta.track),
        question_banks::language.eq(&meta.language),
        question_banks::sample.eq(meta.sample),
        question_banks::file_version.eq(super::int_column(meta.version)?),
        question_banks::purpose.eq(meta.use_for.as_str()),
        question_banks::source.eq(source),
        question_banks::imported_at.eq(now),
    );
    match find_bank(conn, &meta.id)? {
        Some(existing) => diesel::update(question_banks::table.find(existing.id))
            .set(values)
            .get_result(conn),
        None => diesel::insert_into(question_banks::table)
            .values((
                values,
                question_banks::bank_key.eq(&meta.id),
                question_banks::created_at.eq(now),
            ))
            .get_result(conn),
    }
}

/// Replaces the names of a bank's topics with those of its file.
pub fn replace_topic_names(conn: &mut DbConn, bank_id: i64, names: &TopicNames) -> QueryResult<()> {
    diesel::delete(topic_names::table.filter(topic_names::bank_id.eq(bank_id))).execute(conn)?;
    for (topic, locale, name) in names.iter() {
        diesel::insert_into(topic_names::table)
            .values((
                topic_names::bank_id.eq(bank_id),
                topic_names::topic.eq(topic),
                topic_names::locale.eq(locale),
                topic_names::name.eq(name),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The names of these topics in every bank that names them; where two
/// banks name one topic, the one imported last wins.
pub fn topic_names_of(conn: &mut DbConn, topics: &[String]) -> QueryResult<TopicNames> {
    let rows: Vec<(String, String, String)> = topic_names::table
        .inner_join(question_banks::table.on(question_banks::id.eq(topic_names::bank_id)))
        .filter(topic_names::topic.eq_any(topics))
        .order((question_banks::imported_at.asc(), question_banks::id.asc()))
        .select((topic_names::topic, topic_names::locale, topic_names::name))
        .load(conn)?;
    let mut names = TopicNames::default();
    for (topic, locale, name) in rows {
        names.insert(&topic, &locale, &name);
    }
    Ok(names)
}

pub fn questions_of(conn: &mut DbConn, bank_id: i64) -> QueryResult<Vec<QuestionRow>> {
    questions::table
        .filter(questions::bank_id.eq(bank_id))
        .order(questions::question_key.asc())
        .load(conn)
}

pub fn insert_question(
    conn: &mut DbConn,
    bank_id: i64,
    key: &str,
    now: NaiveDateTime,
) -> QueryResult<QuestionRow> {
    diesel::insert_into(questions::table)
        .values((
            questions::bank_id.eq(bank_id),
            questions::question_key.eq(key),
            questions::latest_version.eq(0),
            questions::created_at.eq(now),
        ))
        .get_result(conn)
}

/// The fingerprint of every question's latest version in a bank, by
/// question id.
pub fn latest_fingerprints(conn: &mut DbConn, bank_id: i64) -> QueryResult<Vec<(i64, String)>> {
    question_versions::table
        .inner_join(questions::table)
        .filter(questions::bank_id.eq(bank_id))
        .filter(question_versions::version.eq(questions::latest_version))
        .select((questions::id, question_versions::fingerprint))
        .load(conn)
}

pub fn version(
    conn: &mut DbConn,
    question_id: i64,
    version: i32,
) -> QueryResult<Option<VersionRow>> {
    question_versions::table
        .filter(question_versions::question_id.eq(question_id))
        .filter(question_versions::version.eq(version))
        .first(conn)
        .optional()
}

pub fn version_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<VersionRow>> {
    question_versions::table.find(id).first(conn).optional()
}

pub fn versions_by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<VersionRow>> {
    question_versions::table
        .filter(question_versions::id.eq_any(ids))
        .load(conn)
}

pub fn versions_of(conn: &mut DbConn, question_id: i64) -> QueryResult<Vec<VersionRow>> {
    question_versions::table
        .filter(question_versions::question_id.eq(question_id))
        .order(question_versions::version.asc())
        .load(conn)
}

/// Adds the next version of a question and makes it the latest.
pub fn add_version(
    conn: &mut DbConn,
    row: &QuestionRow,
    q: &Question,
    now: NaiveDateTime,
) -> QueryResult<VersionRow> {
    let next = row.latest_version + 1;
    let content = serde_json::to_string(&q.content).unwrap_or_default();
    let version: VersionRow = diesel::insert_into(question_versions::table)
        .values((
            question_versions::question_id.eq(row.id),
            question_versions::version.eq(next),
            question_versions::kind.eq(q.content.body.kind().as_str()),
            question_versions::topic.eq(&q.topic),
            question_versions::difficulty.eq(i32::from(q.difficulty)),
            question_versions::points.eq(super::int_column(q.points)?),
            question_versions::content.eq(content),
            question_versions::fingerprint.eq(q.fingerprint()),
            question_versions::created_at.eq(now),
        ))
        .get_result(conn)?;
    diesel::update(questions::table.find(row.id))
        .set(questions::latest_version.eq(next))
        .execute(conn)?;
    Ok(version)
}

pub fn set_retired(
    conn: &mut DbConn,
    question_id: i64,
    retired_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(questions::table.find(question_id))
        .set(questions::retired_at.eq(retired_at))
        .execute(conn)
}

/// The latest version of every question of a track that may be drawn.
pub fn drawable(conn: &mut DbConn, track: &str) -> QueryResult<Vec<VersionRow>> {
    question_versions::table
        .inner_join(questions::table.inner_join(question_banks::table))
        .filter(question_banks::track.eq(track))
        .filter(question_banks::purpose.eq(BankUse::Exam.as_str()))
        .filter(questions::retired_at.is_null())
        .filter(question_versions::version.eq(questions::latest_version))
        .select(VersionRow::as_select())
        .order(question_versions::id.asc())
        .load(conn)
}

/// What [`drawable`] returned at the moment `at`: the version that was
/// then the latest of every question then not retired (for rebuilding a
/// paper drawn at `at`).
pub fn drawable_at(
    conn: &mut DbConn,
    track: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<VersionRow>> {
    let versions: Vec<VersionRow> = question_versions::table
        .inner_join(questions::table.inner_join(question_banks::table))
        .filter(question_banks::track.eq(track))
        .filter(question_banks::purpose.eq(BankUse::Exam.as_str()))
        .filter(
            questions::retired_at
                .is_null()
                .or(questions::retired_at.gt(at)),
        )
        .filter(question_versions::created_at.le(at))
        .select(VersionRow::as_select())
        .order((
            question_versions::question_id.asc(),
            question_versions::version.desc(),
        ))
        .load(conn)?;
    let mut latest: Vec<VersionRow> = Vec::with_capacity(versions.len());
    for v in versions {
        if latest.last().is_none_or(|l| l.question_id != v.question_id) {
            latest.push(v);
        }
    }
    latest.sort_by_key(|v| v.id);
    Ok(latest)
}

/// The questions module quizzes draw from: the latest version of every
/// active question of a practice bank on one of `topics`.
pub fn practice_pool(conn: &mut DbConn, topics: &[String]) -> QueryResult<Vec<VersionRow>> {
    question_versions::table
        .inner_join(questions::table.inner_join(question_banks::table))
        .filter(question_banks::purpose.eq(BankUse::Practice.as_str()))
        .filter(question_versions::topic.eq_any(topics))
        .filter(questions::retired_at.is_null())
        .filter(question_versions::version.eq(questions::latest_version))
        .select(VersionRow::as_select())
        .order(question_versions::id.asc())
        .load(conn)
}

pub fn question_key(conn: &mut DbConn, question_id: i64) -> QueryResult<Option<String>> {
    questions::table
        .find(question_id)
        .select(questions::question_key)
        .first(conn)
        .optional()
}

/// A question's latest version.
pub fn latest_version(conn: &mut DbConn, question_id: i64) -> QueryResult<Option<VersionRow>> {
    question_versions::table
        .inner_join(questions::table)
        .filter(question_versions::question_id.eq(question_id))
        .filter(question_versions::version.eq(questions::latest_version))
        .select(VersionRow::as_select())
        .first(conn)
        .optional()
}
