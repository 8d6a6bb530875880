//! Building audit events, and the audit record as a whole. Every sign-in,
//! every refused authorisation and every change an admin makes is recorded,
//! in the same transaction as the change; the events form a hash chain
//! (`domain::audit_chain`, chained by `store::audit::seal`).
//!
//! Here too: the evidence a certification decision rests on (case
//! transitions, committee votes, marks, credential status changes) is tied
//! to the chain by a digest in the detail of the event that records it,
//! `verify` walks the chain, and `export` writes a period of it as JSON
//! lines for an outside auditor.

use std::io::Write;

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use serde_json::json;

use crate::domain::audit_chain::{self, Break, ExportLine, Fault, Walk};
use crate::domain::credentials::Status;
use crate::domain::ids::PersonId;
use crate::domain::pipeline::Stage;
use crate::error::{Error, Result};
use crate::services::Caller;
use crate::store::audit::{self, HeadRow, NewAuditEvent};
use crate::store::committee::VoteRow;
use crate::store::credentials::CredentialEventRow;
use crate::store::grading::TaskRow;
use crate::store::pipeline::TransitionRow;
use crate::store::{self, Db, DbConn};

#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Ok,
    Refused,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

pub fn event(
    caller: &Caller,
    action: &str,
    target: Option<String>,
    outcome: Outcome,
) -> NewAuditEvent {
    NewAuditEvent {
        at: store::now(),
        actor_id: caller.person_id(),
        actor: caller.label(),
        action: action.to_owned(),
        target,
        outcome: outcome.as_str().to_owned(),
        ip: caller.ip.clone(),
        detail: None,
    }
}

/// An event with no authenticated caller (a failed sign-in, say).
pub fn anonymous(
    action: &str,
    target: Option<String>,
    outcome: Outcome,
    ip: Option<String>,
    detail: Option<String>,
) -> NewAuditEvent {
    NewAuditEvent {
        at: store::now(),
        actor_id: None,
        actor: "anonymous".to_owned(),
        action: action.to_owned(),
        target,
        outcome: outcome.as_str().to_owned(),
        ip,
        detail,
    }
}

pub fn record(conn: &mut DbConn, event: &NewAuditEvent) -> Result<()> {
    audit::record(conn, event)?;
    Ok(())
}

/// An event of a person acting on their own account (sign-in, sign-out).
pub fn own_account(person_id: PersonId, action: &str, ip: Option<String>) -> NewAuditEvent {
    NewAuditEvent {
        at: store::now(),
        actor_id: Some(person_id),
        actor: format!("person:{person_id}"),
        action: action.to_owned(),
        target: Some(format!("person:{person_id}")),
        outcome: Outcome::Ok.as_str().to_owned(),
        ip,
        detail: None,
    }
}

// ----- evidence -----

/// A row of evidence as the chain records it: which row (`transition#17`)
/// and the digest of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub reference: String,
    pub digest: String,
}

impl Evidence {
    /// The words that end the detail of the audit event recording it.
    pub fn marker(&self) -> String {
        audit_chain::evidence_marker(&self.reference, &self.digest)
    }
}

fn at(t: NaiveDateTime) -> serde_json::Value {
    json!(audit_chain::timestamp(t))
}

/// A case's move from one stage to the next.
pub fn transition_evidence(t: &TransitionRow) -> Evidence {
    Evidence {
        reference: format!("transition#{}", t.id),
        digest: audit_chain::evidence_digest(
            "case_transition",
            &[
                json!(t.id),
                json!(t.case_id),
                json!(t.from_stage.map(Stage::as_str)),
                json!(t.to_stage.as_str()),
                json!(t.actor_id),
                json!(t.reason.as_str()),
                at(t.at),
            ],
        ),
    }
}

/// A committee member's vote on a case.
pub fn vote_evidence(v: &VoteRow) -> Evidence {
    Evidence {
        reference: format!("vote#{}/{}", v.case_id, v.member_id),
        digest: audit_chain::evidence_digest(
            "committee_vote",
            &[
                json!(v.case_id),
                json!(v.member_id),
                json!(v.vote.as_str()),
                json!(v.reason),
                at(v.cast_at),
            ],
        ),
    }
}

/// A change of a credential's status (its issue and renewals too).
pub fn credential_event_evidence(e: &CredentialEventRow) -> Evidence {
    Evidence {
        reference: format!("credential_event#{}", e.id),
        digest: audit_chain::evidence_digest(
            "credential_event",
            &[
                json!(e.id),
                json!(e.credential_id),
                json!(e.action),
                json!(e.status_from.map(Status::as_str)),
                json!(e.status_to.as_str()),
                json!(e.reason),
                json!(e.actor_id),
                at(e.at),
            ],
        ),
    }
}

/// An examiner's marks of an answer as they stand (none before they are
/// submitted).
pub fn mark_evidence(t: &TaskRow) -> Option<Evidence> {
    let submitted_at = t.submitted_at?;
    Some(Evidence {
        reference: format!("mark#{}", t.id),
        digest: audit_chain::evidence_digest(
            "mark",
            &[
                json!(t.id),
                json!(t.attempt_item_id),
                json!(t.examiner_id),
                json!(t.role),
                json!(t.marks),
                json!(t.total),
                at(submitted_at),
            ],
        ),
    })
}

/// Records a row of evidence written on behalf of `actor_id` (the system
/// when `None`): `summary` in plain words, then the evidence marker.
pub fn record_evidence(
    conn: &mut DbConn,
    actor_id: Option<PersonId>,
    action: &str,
    target: String,
    summary: &str,
    evidence: &Evidence,
) -> Result<()> {
    record(
        conn,
        &NewAuditEvent {
            at: store::now(),
            actor_id,
            actor: actor_id.map_or_else(|| "system".to_owned(), |id| format!("person:{id}")),
            action: action.to_owned(),
            target: Some(target),
            outcome: Outcome::Ok.as_str().to_owned(),
            ip: None,
            detail: Some(format!("{summary}; {}", evidence.marker())),
        },
    )
}

// ----- the record as a whole -----

/// What `verify` found.
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// Chained events checked (up to the first break).
    pub checked: i64,
    /// The head: how many events the chain has, and the last one.
    pub head_seq: i64,
    pub head_hash: String,
    pub head_event_id: Option<i64>,
    /// Events stored before the chain began (not chained, not checked).
    pub before_chain: i64,
    pub started_at: NaiveDateTime,
    /// Where the chain first breaks, if it does.
    pub broken: Option<Break>,
}

impl ChainReport {
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }
}

impl std::fmt::Display for ChainReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.broken {
            None if self.head_seq == 0 => writeln!(f, "The audit chain is whole and still empty.")?,
            None => {
                write!(
                    f,
                    "The audit chain is whole: {} event(s), places 1 to {}",
                    self.head_seq, self.head_seq
                )?;
                if let Some(id) = self.head_event_id {
                    write!(f, "; the last is event #{id} with hash {}", self.head_hash)?;
                }
                writeln!(f, ".")?;
            }
            Some(b) => {
                writeln!(f, "The audit chain is BROKEN at {b}.")?;
                writeln!(
                    f,
                    "{} event(s) before it check out; the chain's head says it has {}.",
                    self.checked, self.head_seq
                )?;
            }
        }
        if self.before_chain > 0 {
            writeln!(
                f,
                "{} older event(s) were stored before the chain began ({}) and carry no hash.",
                self.before_chain,
                audit_chain::timestamp(self.started_at)
            )?;
        }
        Ok(())
    }
}

/// Events read at a time while walking the chain.
const PAGE: i64 = 1000;

/// Walks the whole chain from its first event, on `conn`.
pub fn verify_in(conn: &mut DbConn) -> Result<ChainReport> {
    let head: HeadRow = audit::head(conn)?;
    let mut walk = Walk::new();
    let mut broken = None;
    let mut after = 0;
    'pages: loop {
        let rows = audit::chained(conn, after, head.seq, PAGE)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let Some(link) = row.link() else { continue };
            after = link.seq;
            if let Err(b) = walk.step(&link) {
                broken = Some(b);
                break 'pages;
            }
        }
    }
    if broken.is_none() {
        broken = walk.finish(head.seq, &head.hash, head.last_event_id).err();
    }
    // An event placed past the head: written outside the application,
    // unless it was appended (with the head) since the head was read.
    let mut past = None;
    if let Some(row) = audit::first_after(conn, head.seq)?
        && row.seq > Some(audit::head(conn)?.seq)
    {
        past = Some(Break {
            id: Some(row.id),
            seq: row.seq,
            fault: Fault::PastHead,
        });
    }
    let unchained = audit::first_unchained(conn, head.before_id)?.map(|row| Break {
        id: Some(row.id),
        seq: None,
        fault: Fault::Unchained,
    });
    let broken = audit_chain::first_break(broken, audit_chain::first_break(past, unchained));
    Ok(ChainReport {
        checked: walk.checked(),
        head_seq: head.seq,
        head_hash: head.hash,
        head_event_id: head.last_event_id,
        before_chain: audit::count_before_chain(conn, head.before_id)?,
        started_at: head.started_at,
        broken,
    })
}

/// `gatekeeper audit verify`: walks the chain and reports the first broken
/// link by event id.
pub fn verify(db: &Db) -> Result<ChainReport> {
    db.read_blocking(verify_in)
}

/// The UTC bounds of the days `from` to `to` (both included) in the
/// alliance's time zone.
pub fn day_bounds(
    from: NaiveDate,
    to: NaiveDate,
    zone: chrono_tz::Tz,
) -> Result<(NaiveDateTime, NaiveDateTime)> {
    if to < from {
        return Err(Error::invalid("to", "is before --from"));
    }
    let start = |day: NaiveDate, field: &str| -> Result<NaiveDateTime> {
        zone.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.naive_utc())
            .ok_or_else(|| Error::invalid(field, "no such local time"))
    };
    let end_day = to
        .succ_opt()
        .ok_or_else(|| Error::invalid("to", "is too late"))?;
    Ok((start(from, "from")?, start(end_day, "to")?))
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub events: i64,
    /// The places exported, first and last (none when nothing was).
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The `prev_hash` of the first line: the hash the period continues from.
    pub continues_from: Option<String>,
    /// The hash of the last line: what the next period must continue from.
    pub last_hash: Option<String>,
}

impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (
            self.first_seq,
            self.last_seq,
            &self.continues_from,
            &self.last_hash,
        ) {
            (Some(first), Some(last), Some(from), Some(hash)) => write!(
                f,
                "{} event(s), places {first} to {last}; the first continues from hash {from}; the last has hash {hash}",
                self.events
            ),
            _ => write!(f, "no chained events in that period"),
        }
    }
}

/// `gatekeeper audit export`: writes the chained events recorded at or
/// after `from` and before `to` as JSON lines (`domain::audit_chain::
/// ExportLine`), in order of place. So that the lines form one unbroken
/// stretch of the chain, everything between the first and the last such
/// event is written (an event recorded just before `from` but chained
/// after an event of the period is included).
pub fn export(
    db: &Db,
    from: NaiveDateTime,
    to: NaiveDateTime,
    out: &mut dyn Write,
) -> Result<ExportSummary> {
    db.read_blocking(|conn| {
        let mut summary = ExportSummary {
            events: 0,
            first_seq: None,
            last_seq: None,
            continues_from: None,
            last_hash: None,
        };
        let (Some(first), Some(last)) = audit::places_between(conn, from, to)? else {
            return Ok(summary);
        };
        let failed = |e: std::io::Error| Error::internal_from("cannot write the export", e);
        let mut after = first - 1;
        loop {
            let rows = audit::chained(conn, after, last, PAGE)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let Some(link) = row.link() else { continue };
                after = link.seq;
                let line = ExportLine::from(&link);
                serde_json::to_writer(&mut *out, &line)
                    .map_err(|e| Error::internal_from("cannot write the export", e))?;
                out.write_all(b"\n").map_err(failed)?;
                summary.events += 1;
                summary.first_seq.get_or_insert(line.seq);
                summary.continues_from.get_or_insert(line.prev_hash);
                summary.last_seq = Some(line.seq);
                summary.last_hash = Some(line.hash);
            }
        }
        out.flush().map_err(failed)?;
        Ok(summary)
    })
}
