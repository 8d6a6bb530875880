//! The exam's opening: starts done a batch at a time.
//!
//! When an exam opens, every candidate presses *Start* within a second or
//! so, and the opening's p99 is set by how many starts a second the database
//! gets through (docs/capacity.md, Little's law). One at a time, a start on
//! PostgreSQL costs four statements: its savepoint, the token, one read and
//! one write. A [`StartBatch`] does a group-writer lane's waiting starts
//! together ([`super::group::SetWise`]): one query for their tokens, one
//! for their registrations, exams and attempts, and one statement that
//! starts them all (on SQLite, which has no round trips to save, one
//! prepared statement per attempt).
//!
//! The rules stay with the service: each request carries its `plan`, which
//! says, from what was read, which attempt it begins now, if it may begin
//! one. Anything else (an attempt to resume, a paper to draw, a refusal, a
//! second request of the same candidate in the same batch) comes back with
//! nothing begun, and the service does it the usual way.

use std::collections::HashMap;

use chrono::NaiveDateTime;

use super::DbConn;
use super::api_tokens::{self, FoundToken};
use super::exams::{self, AttemptRow, StartReading, ToStart};
use super::group::SetWise;
use crate::domain::ids::{ExamId, PersonId};
use crate::error::Result;

/// Who asks to start.
pub enum Starter {
    /// A bearer token, by its hash: signed in inside the batch.
    Token(String),
    /// A person already signed in (a session).
    Person(PersonId),
}

/// The service's rules for one start: from what was read and the batch's
/// moment, the attempt it begins, or `None` to leave it to the usual way.
pub type Plan = Box<dyn FnOnce(&StartFound, NaiveDateTime) -> Option<Begin> + Send>;

/// One start asked of a [`StartBatch`].
pub struct StartAsked {
    pub who: Starter,
    pub exam_id: ExamId,
    pub plan: Plan,
}

/// What a batch read for one start.
pub struct StartFound {
    /// The token presented, if it was one and it exists.
    pub token: Option<FoundToken>,
    /// The registration, exam and attempts of the token's person (or of the
    /// person signed in), if she is registered for the exam.
    pub reading: Option<StartReading>,
}

/// An attempt a plan begins.
pub struct Begin {
    /// Its id; it must be one of the reading's attempts not yet started.
    pub attempt_id: i64,
    pub deadline: NaiveDateTime,
    /// The `started` line's detail.
    pub detail: String,
}

/// What became of one start.
pub struct StartDone {
    pub found: StartFound,
    /// The batch's moment: when an attempt it began was started.
    pub at: NaiveDateTime,
    /// The attempt as this start began it, or `None` if it began none (the
    /// plan said so, or another start began it first).
    pub begun: Option<AttemptRow>,
}

/// The starts of one batch, done together (see the module's comment).
pub struct StartBatch;

impl SetWise for StartBatch {
    type Request = StartAsked;
    type Reply = StartDone;
    const WHAT: &'static str = "starts";

    fn run(conn: &mut DbConn, asked: Vec<StartAsked>) -> Result<Vec<StartDone>> {
        let at = super::now();
        let found = read(conn, &asked)?;
        // Each plan, in order; what each begins.
        let begins: Vec<Option<(AttemptRow, Begin)>> = asked
            .into_iter()
            .zip(&found)
            .map(|(asked, found)| {
                let begin = (asked.plan)(found, at)?;
                let attempt = found
                    .reading
                    .as_ref()?
                    .attempts
                    .iter()
                    .map(|(a, _)| a)
                    .find(|a| a.id == begin.attempt_id && a.started_at.is_none())?;
                Some((attempt.clone(), begin))
            })
            .collect();
        let to_start: Vec<ToStart<'_>> = begins
            .iter()
            .flatten()
            .map(|(attempt, begin)| ToStart {
                attempt,
                deadline: begin.deadline,
                detail: &begin.detail,
            })
            .collect();
        let started = exams::start_all(conn, &to_start, at)?;
        Ok(found
            .into_iter()
            .zip(begins)
            .map(|(found, begin)| StartDone {
                found,
                at,
                begun: begin
                    .filter(|(attempt, _)| started.contains(&attempt.id))
                    .map(|(attempt, begin)| AttemptRow {
                        started_at: Some(at),
                        deadline: Some(begin.deadline),
                        ..attempt
                    }),
            })
            .collect())
    }
}

/// Everything the batch's starts read, in two queries: their tokens, then
/// the registrations of the people those tokens (or sessions) name.
///
/// Each token and each registration goes to the first start that names it;
/// a second start of the same candidate in the batch finds nothing, begins
/// nothing, and is done the usual way (where it resumes the attempt the
/// first began).
fn read(conn: &mut DbConn, asked: &[StartAsked]) -> Result<Vec<StartFound>> {
    let hashes: Vec<&str> = asked
        .iter()
        .filter_map(|a| match &a.who {
            Starter::Token(hash) => Some(hash.as_str()),
            Starter::Person(_) => None,
        })
        .collect();
    let mut tokens = api_tokens::find_many_with_person(conn, &hashes)?;
    let tokens: Vec<Option<FoundToken>> = asked
        .iter()
        .map(|a| match &a.who {
            Starter::Token(hash) => tokens.remove(hash),
            Starter::Person(_) => None,
        })
        .collect();
    // Whose registration each start reads: the token's person, or the
    // person signed in. Whether the token may be used is the plan's to say.
    let people: Vec<Option<(ExamId, PersonId)>> = asked
        .iter()
        .zip(&tokens)
        .map(|(a, token)| {
            let person = match &a.who {
                Starter::Token(_) => token.as_ref()?.token.person_id?,
                Starter::Person(person) => *person,
            };
            Some((a.exam_id, person))
        })
        .collect();
    let pairs: Vec<(ExamId, PersonId)> = people.iter().flatten().copied().collect();
    let mut readings: HashMap<(ExamId, PersonId), StartReading> =
        exams::start_readings(conn, &pairs)?;
    Ok(tokens
        .into_iter()
        .zip(people)
        .map(|(token, key)| StartFound {
            token,
            reading: key.and_then(|key| readings.remove(&key)),
        })
        .collect())
}
