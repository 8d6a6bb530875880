//! The audit trail as a hash chain: what an event's hash covers, the link
//! rule, and where a sequence of events first breaks.
//!
//! Each chained event has a place `seq` (1, 2, 3, … with no gaps), the hash
//! of the event before it (`prev_hash`; [`GENESIS`] for the first) and its
//! own `hash`: the SHA-256, in lowercase hex, of its canonical form, which
//! is the compact JSON array
//!
//! ```text
//! ["gatekeeper-audit-1", seq, id, at, actor_id, actor, action, target, outcome, ip, detail, prev_hash]
//! ```
//!
//! in UTF-8: numbers as JSON integers, absent values as `null`, strings
//! with JSON's escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other
//! control characters as `\u00xx` in lowercase hex, everything else as it
//! is), no spaces. `at` is the time in UTC as RFC 3339 with exactly six
//! fractional digits and `Z` (`2026-12-03T08:15:00.123456Z`), the precision
//! both databases keep. Because `prev_hash` is inside the hashed content, a
//! change to any event changes every hash after it, and an event taken out
//! leaves a gap in `seq` and a `prev_hash` that names nothing.
//!
//! Evidence (case transitions, votes, marks, credential status changes) is
//! tied to the chain by an evidence digest in the detail of the audit event
//! that records it ([`evidence_marker`]), so that a stored row changed later
//! no longer matches what the chain recorded.

use crate::domain::ids::PersonId;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The tag that opens every canonical form: the version of this rule.
pub const FORMAT: &str = "gatekeeper-audit-1";

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit event says, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

/// A chained event: its content, its place and its two hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub seq: i64,
    pub content: Content,
    pub prev_hash: String,
    pub hash: String,
}

/// The timestamp as hashed and exported: UTC, microseconds, `Z`.
pub fn timestamp(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The canonical form of an event at place `seq` after `prev_hash`.
pub fn canonical(seq: i64, content: &Content, prev_hash: &str) -> String {
    serde_json::json!([
        FORMAT,
        seq,
        content.id,
        timestamp(content.at),
        content.actor_id,
        content.actor,
        content.action,
        content.target,
        content.outcome,
        content.ip,
        content.detail,
        prev_hash,
    ])
    .to_string()
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash an event at place `seq` after `prev_hash` must carry.
pub fn hash(seq: i64, content: &Content, prev_hash: &str) -> String {
    sha256_hex(canonical(seq, content, prev_hash).as_bytes())
}

/// Appends `content` after the chain's head `(seq, hash)`: its place, its
/// `prev_hash` and its hash.
pub fn append(head_seq: i64, head_hash: &str, content: Content) -> Link {
    let seq = head_seq + 1;
    let hash = hash(seq, &content, head_hash);
    Link {
        seq,
        content,
        prev_hash: head_hash.to_owned(),
        hash,
    }
}

/// How the chain is broken where it first breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The event's content (or its place) no longer gives its hash: it was
    /// edited after it was written.
    Changed,
    /// The event does not point at the event before it: that one was
    /// changed and re-hashed, or events were put in between.
    Relinked,
    /// The events at places `first..=last` are gone (deleted).
    Missing { first: i64, last: i64 },
    /// The chain's head says it is longer: the events after the last one
    /// present, up to place `head_seq`, are gone.
    TailMissing { head_seq: i64 },
    /// The event carries a place after the chain's head: it was written
    /// outside the application.
    PastHead,
    /// The event was stored after the chain began but is not in it: it was
    /// written outside the application.
    Unchained,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Changed => write!(
                f,
                "its content does not give its hash: the event was changed after it was written"
            ),
            Fault::Relinked => write!(
                f,
                "it does not point at the event before it: that event was changed and re-hashed, or events were put in between"
            ),
            Fault::Missing { first, last } if first == last => {
                write!(f, "the event at place {first} before it is missing")
            }
            Fault::Missing { first, last } => {
                write!(
                    f,
                    "the events at places {first} to {last} before it are missing"
                )
            }
            Fault::TailMissing { head_seq } => write!(
                f,
                "the chain's head says it has {head_seq} events: the last ones, from this one on, are missing"
            ),
            Fault::PastHead => write!(
                f,
                "it claims a place after the chain's head: it was written outside the application"
            ),
            Fault::Unchained => write!(
                f,
                "it was stored after the chain began but is not in it: it was written outside the application"
            ),
        }
    }
}

/// Where the chain first breaks: the event (by id, when one is there to
/// name), its place (when it has one), and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub id: Option<i64>,
    pub seq: Option<i64>,
    pub fault: Fault,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.id, self.seq) {
            (Some(id), Some(seq)) => write!(f, "event #{id} (place {seq}): {}", self.fault),
            (Some(id), None) => write!(f, "event #{id}: {}", self.fault),
            (None, Some(seq)) => write!(f, "place {seq}: {}", self.fault),
            (None, None) => write!(f, "{}", self.fault),
        }
    }
}

/// A walk along the chain from its first event, one link at a time (so
/// that a long chain can be read in pages).
#[derive(Debug, Clone)]
pub struct Walk {
    next_seq: i64,
    prev_hash: String,
    last_id: Option<i64>,
}

impl Default for Walk {
    fn default() -> Self {
        Walk::new()
    }
}

impl Walk {
    /// A walk from the genesis.
    pub fn new() -> Walk {
        Walk {
            next_seq: 1,
            prev_hash: GENESIS.to_owned(),
            last_id: None,
        }
    }

    /// How many events have been checked.
    pub fn checked(&self) -> i64 {
        self.next_seq - 1
    }

    /// The hash of the last event checked (the genesis before the first).
    pub fn last_hash(&self) -> &str {
        &self.prev_hash
    }

    /// Checks the next link: its place follows, it points at the one
    /// before, and its content gives its hash.
    pub fn step(&mut self, link: &Link) -> Result<(), Break> {
        let at = |fault| Break {
            id: Some(link.content.id),
            seq: Some(link.seq),
            fault,
        };
        if link.seq > self.next_seq {
            return Err(at(Fault::Missing {
                first: self.next_seq,
                last: link.seq - 1,
            }));
        }
        if link.seq < self.next_seq {
            // A place already taken: the index forbids it, so only a copy
            // written outside the application can get here.
            return Err(at(Fault::Relinked));
        }
        if link.prev_hash != self.prev_hash {
            return Err(at(Fault::Relinked));
        }
        if hash(link.seq, &link.content, &link.prev_hash) != link.hash {
            return Err(at(Fault::Changed));
        }
        self.next_seq += 1;
        self.prev_hash = link.hash.clone();
        self.last_id = Some(link.content.id);
        Ok(())
    }

    /// Checks that the walk ended where the chain's head says it ends:
    /// `head_seq` events, the last with `head_hash`, named `head_event_id`.
    pub fn finish(
        &self,
        head_seq: i64,
        head_hash: &str,
        head_event_id: Option<i64>,
    ) -> Result<(), Break> {
        if self.checked() < head_seq {
            return Err(Break {
                id: head_event_id,
                seq: Some(self.next_seq),
                fault: Fault::TailMissing { head_seq },
            });
        }
        if self.prev_hash != head_hash {
            // The last event was replaced, with a consistent chain before it.
            return Err(Break {
                id: self.last_id,
                seq: Some(self.checked()),
                fault: Fault::Relinked,
            });
        }
        Ok(())
    }
}

/// Checks a whole chain in order of place, from the genesis to the head
/// `(head_seq, head_hash)`: the number of events, or the first break.
pub fn verify(links: &[Link], head_seq: i64, head_hash: &str) -> Result<i64, Break> {
    let mut walk = Walk::new();
    for link in links {
        walk.step(link)?;
    }
    let last_id = links.last().map(|l| l.content.id);
    walk.finish(head_seq, head_hash, last_id)?;
    Ok(walk.checked())
}

/// The first of two breaks by the id of the event they name (a break
/// without an event, a missing tail, comes last).
pub fn first_break(a: Option<Break>, b: Option<Break>) -> Option<Break> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let key = |x: &Break| x.id.unwrap_or(i64::MAX);
            Some(if key(&b) < key(&a) { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

/// One event as exported (one JSON object per line): every field of the
/// canonical form, plus its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportLine {
    pub seq: i64,
    pub id: i64,
    pub at: String,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<&Link> for ExportLine {
    fn from(link: &Link) -> Self {
        let c = &link.content;
        ExportLine {
            seq: link.seq,
            id: c.id,
            at: timestamp(c.at),
            actor_id: c.actor_id,
            actor: c.actor.clone(),
            action: c.action.clone(),
            target: c.target.clone(),
            outcome: c.outcome.clone(),
            ip: c.ip.clone(),
            detail: c.detail.clone(),
            prev_hash: link.prev_hash.clone(),
            hash: link.hash.clone(),
        }
    }
}

// ----- evidence -----

/// The digest of one piece of evidence: SHA-256 (hex) of the compact JSON
/// array `[kind, fields…]`, with timestamps written by [`timestamp`].
pub fn evidence_digest(kind: &str, fields: &[serde_json::Value]) -> String {
    let mut all = Vec::with_capacity(fields.len() + 1);
    all.push(serde_json::Value::from(kind));
    all.extend_from_slice(fields);
    sha256_hex(serde_json::Value::Array(all).to_string().as_bytes())
}

/// What an audit event's detail ends with when it records evidence:
/// `evidence REF sha256:DIGEST`, where REF names the row
/// (`transition#17`, `vote#4/12`) and has no spaces.
pub fn evidence_marker(reference: &str, digest: &str) -> String {
    format!("evidence {reference} sha256:{digest}")
}

/// The evidence an audit event's detail records, as (reference, digest).
pub fn parse_evidence(detail: &str) -> Option<(&str, &str)> {
    let start = detail.rfind("evidence ")?;
    let mut words = detail[start + "evidence ".len()..].split(' ');
    let reference = words.next().filter(|r| !r.is_empty())?;
    let digest = words.next()?.strip_prefix("sha256:")?;
    let well_formed = digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && words.next().is_none();
    well_formed.then_some((reference, digest))
}

/// The audit event that records a piece of evidence, as found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded<'a> {
    pub event_id: i64,
    /// The event has its place in the chain.
    pub chained: bool,
    /// The event was stored before the chain began.
    pub before_chain: bool,
    pub digest: &'a str,
}

/// How a stored piece of evidence compares with the audit chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The chained event recording it carries its digest.
    Agrees { event_id: i64 },
    /// It was stored before the chain began: the chain cannot vouch for it.
    BeforeChain,
    /// No audit event records it.
    NotRecorded,
    /// The event recording it recorded something else: it was changed.
    Differs { event_id: i64 },
    /// The event recording it is not in the chain.
    Unchained { event_id: i64 },
}

impl Check {
    /// Whether this is a disagreement (as opposed to agreeing, or lying
    /// before the chain).
    pub fn disagrees(self) -> bool {
        !matches!(self, Check::Agrees { .. } | Check::BeforeChain)
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Agrees { event_id } => write!(f, "agrees with audit event #{event_id}"),
            Check::BeforeChain => write!(f, "stored before the audit chain began"),
            Check::NotRecorded => write!(f, "no audit event records it"),
            Check::Differs { event_id } => write!(
                f,
                "audit event #{event_id} recorded something else: it was changed since"
            ),
            Check::Unchained { event_id } => write!(
                f,
                "audit event #{event_id}, which records it, is not in the chain"
            ),
        }
    }
}

/// Compares a piece of evidence (its digest now, whether it was stored
/// before the chain began) with the latest audit event recording it.
pub fn check_evidence(
    digest: &str,
    recorded: Option<Recorded<'_>>,
    stored_before_chain: bool,
) -> Check {
    match recorded {
        None if stored_before_chain => Check::BeforeChain,
        None => Check::NotRecorded,
        Some(r) if !r.chained && r.before_chain => Check::BeforeChain,
        Some(r) if !r.chained => Check::Unchained {
            event_id: r.event_id,
        },
        Some(r) if r.digest == digest => Check::Agrees {
            event_id: r.event_id,
        },
        Some(r) => Check::Differs {
            event_id: r.event_id,
        },
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

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn content(id: i64) -> Content {
        Content {
            id,
            at: at("2026-12-03 08:15:00.123456"),
            actor_id: Some(PersonId(7)),
            actor: "person:7".into(),
            action: "sign_in".into(),
            target: Some("person:7".into()),
            outcome: "ok".into(),
            ip: Some("10.0.0.1".into()),
            detail: None,
        }
    }

    fn chain(n: i64) -> Vec<Link> {
        let mut links: Vec<Link> = Vec::new();
        for i in 1..=n {
            let (seq, prev) = links
                .last()
                .map_or((0, GENESIS.to_owned()), |l| (l.seq, l.hash.clone()));
            links.push(append(seq, &prev, content(100 + i)));
        }
        links
    }

    fn head(links: &[Link]) -> (i64, String) {
        links
            .last()
            .map_or((0, GENESIS.to_owned()), |l| (l.seq, l.hash.clone()))
    }

    #[test]
    fn the_canonical_form_is_a_fixed_json_array() {
        let c = content(42);
        assert_eq!(
            canonical(3, &c, GENESIS),
            format!(
                "[\"gatekeeper-audit-1\",3,42,\"2026-12-03T08:15:00.123456Z\",7,\"person:7\",\"sign_in\",\"person:7\",\"ok\",\"10.0.0.1\",null,\"{GENESIS}\"]"
            )
        );
        // Absent values are null; text keeps its characters, escaped as JSON.
        let mut odd = content(1);
        odd.actor_id = None;
        odd.ip = None;
        odd.detail = Some("line 1\nline \"2\"\t李明\u{1}".into());
        let form = canonical(1, &odd, GENESIS);
        assert!(form.contains(",null,\"person:7\""), "{form}");
        assert!(
            form.contains("\"line 1\\nline \\\"2\\\"\\t李明\\u0001\""),
            "{form}"
        );
    }

    #[test]
    fn timestamps_have_microseconds_and_a_z() {
        assert_eq!(
            timestamp(at("2026-01-02 03:04:05")),
            "2026-01-02T03:04:05.000000Z"
        );
        assert_eq!(
            timestamp(at("2026-01-02 03:04:05.5")),
            "2026-01-02T03:04:05.500000Z"
        );
    }

    #[test]
    fn the_hash_is_sha256_of_the_canonical_form() {
        // Fixed vector: recomputable with any SHA-256 tool, e.g.
        // printf '%s' '<canonical form>' | sha256sum
        let c = content(42);
        assert_eq!(
            hash(3, &c, GENESIS),
            "1bbf9397dba3b3e0d789ede68245b942e03a5d16de04e16bc86ab742fd8b14cf"
        );
        let expected = hex::encode(Sha256::digest(canonical(3, &c, GENESIS).as_bytes()));
        assert_eq!(hash(3, &c, GENESIS), expected);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Every field, the place and the link count.
        let base = hash(3, &c, GENESIS);
        let mut other = c.clone();
        other.outcome = "refused".into();
        assert_ne!(hash(3, &other, GENESIS), base);
        let mut other = c.clone();
        other.at = at("2026-12-03 08:15:00.123457");
        assert_ne!(hash(3, &other, GENESIS), base);
        let mut other = c.clone();
        other.detail = Some(String::new());
        assert_ne!(hash(3, &other, GENESIS), base, "empty is not absent");
        assert_ne!(hash(4, &c, GENESIS), base);
        assert_ne!(hash(3, &c, &"1".repeat(64)), base);
    }

    #[test]
    fn appending_links_each_event_to_the_one_before() {
        let links = chain(3);
        assert_eq!(links[0].seq, 1);
        assert_eq!(links[0].prev_hash, GENESIS);
        assert_eq!(links[1].prev_hash, links[0].hash);
        assert_eq!(links[2].prev_hash, links[1].hash);
        let (seq, hash) = head(&links);
        assert_eq!(verify(&links, seq, &hash), Ok(3));
        assert_eq!(verify(&[], 0, GENESIS), Ok(0), "an empty chain is whole");
    }

    #[test]
    fn a_changed_event_breaks_the_chain_there() {
        let mut links = chain(5);
        let (seq, hash) = head(&links);
        links[2].content.detail = Some("edited".into());
        assert_eq!(
            verify(&links, seq, &hash),
            Err(Break {
                id: Some(103),
                seq: Some(3),
                fault: Fault::Changed
            })
        );
        // A moved timestamp, a changed place of the same content.
        let mut links = chain(5);
        links[1].content.at = at("2026-12-03 08:15:01.123456");
        assert_eq!(verify(&links, seq, &hash).unwrap_err().id, Some(102));
    }

    #[test]
    fn a_changed_and_rehashed_event_breaks_the_link_after_it() {
        let mut links = chain(5);
        let (seq, hash) = head(&links);
        links[1].content.outcome = "refused".into();
        links[1].hash = super::hash(2, &links[1].content, &links[1].prev_hash);
        assert_eq!(
            verify(&links, seq, &hash),
            Err(Break {
                id: Some(103),
                seq: Some(3),
                fault: Fault::Relinked
            })
        );
        // Rewriting the rest of the chain too still leaves the head behind.
        let mut rewritten = chain(5);
        rewritten[4].content.detail = Some("rewritten".into());
        rewritten[4].hash = super::hash(5, &rewritten[4].content, &rewritten[4].prev_hash);
        assert_eq!(
            verify(&rewritten, seq, &hash),
            Err(Break {
                id: Some(105),
                seq: Some(5),
                fault: Fault::Relinked
            })
        );
    }

    #[test]
    fn a_deleted_event_shows_as_a_gap_before_the_next() {
        let mut links = chain(5);
        let (seq, hash) = head(&links);
        links.remove(1);
        assert_eq!(
            verify(&links, seq, &hash),
            Err(Break {
                id: Some(103),
                seq: Some(3),
                fault: Fault::Missing { first: 2, last: 2 }
            })
        );
        let mut links = chain(5);
        links.drain(0..2);
        assert_eq!(
            verify(&links, seq, &hash).unwrap_err().fault,
            Fault::Missing { first: 1, last: 2 }
        );
    }

    #[test]
    fn a_deleted_tail_shows_against_the_head() {
        let mut links = chain(5);
        let (seq, hash) = head(&links);
        links.truncate(3);
        assert_eq!(
            verify(&links, seq, &hash),
            Err(Break {
                id: Some(103),
                seq: Some(4),
                fault: Fault::TailMissing { head_seq: 5 }
            })
        );
        let mut walk = Walk::new();
        for l in &links {
            walk.step(l).unwrap();
        }
        assert_eq!(walk.checked(), 3);
        assert_eq!(walk.finish(5, &hash, Some(105)).unwrap_err().id, Some(105));
    }

    #[test]
    fn reordered_or_duplicated_places_are_refused() {
        let links = chain(3);
        let (seq, hash) = head(&links);
        let swapped = vec![links[0].clone(), links[2].clone(), links[1].clone()];
        assert_eq!(
            verify(&swapped, seq, &hash).unwrap_err().fault,
            Fault::Missing { first: 2, last: 2 }
        );
        let doubled = vec![links[0].clone(), links[0].clone()];
        assert_eq!(
            verify(&doubled, 1, &links[0].hash).unwrap_err().fault,
            Fault::Relinked
        );
    }

    #[test]
    fn the_first_break_is_the_one_with_the_lower_id() {
        let b = |id: Option<i64>| Break {
            id,
            seq: Some(1),
            fault: Fault::Changed,
        };
        assert_eq!(
            first_break(Some(b(Some(9))), Some(b(Some(4)))),
            Some(b(Some(4)))
        );
        assert_eq!(
            first_break(Some(b(None)), Some(b(Some(4)))),
            Some(b(Some(4)))
        );
        assert_eq!(first_break(None, Some(b(Some(4)))), Some(b(Some(4))));
        assert_eq!(first_break(None, None), None);
    }

    #[test]
    fn an_export_line_holds_everything_to_recompute_the_hash() {
        let links = chain(2);
        let line = ExportLine::from(&links[1]);
        let json = serde_json::to_string(&line).unwrap();
        let back: ExportLine = serde_json::from_str(&json).unwrap();
        let form = serde_json::json!([
            FORMAT,
            back.seq,
            back.id,
            back.at,
            back.actor_id,
            back.actor,
            back.action,
            back.target,
            back.outcome,
            back.ip,
            back.detail,
            back.prev_hash
        ])
        .to_string();
        assert_eq!(sha256_hex(form.as_bytes()), back.hash);
        assert_eq!(back.prev_hash, links[0].hash);
    }

    #[test]
    fn evidence_is_checked_against_the_latest_event_recording_it() {
        fn recorded(digest: &str, chained: bool, before_chain: bool) -> Recorded<'_> {
            Recorded {
                event_id: 7,
                chained,
                before_chain,
                digest,
            }
        }
        let d = "a".repeat(64);
        let (same, other) = (d.as_str(), "b".repeat(64));
        let other = other.as_str();
        assert_eq!(
            check_evidence(&d, Some(recorded(same, true, false)), false),
            Check::Agrees { event_id: 7 }
        );
        assert_eq!(
            check_evidence(&d, Some(recorded(other, true, false)), false),
            Check::Differs { event_id: 7 }
        );
        assert_eq!(
            check_evidence(&d, Some(recorded(same, false, false)), false),
            Check::Unchained { event_id: 7 }
        );
        assert_eq!(
            check_evidence(&d, Some(recorded(other, false, true)), true),
            Check::BeforeChain
        );
        assert_eq!(check_evidence(&d, None, false), Check::NotRecorded);
        assert_eq!(check_evidence(&d, None, true), Check::BeforeChain);
        assert!(Check::NotRecorded.disagrees());
        assert!(Check::Differs { event_id: 1 }.disagrees());
        assert!(Check::Unchained { event_id: 1 }.disagrees());
        assert!(!Check::Agrees { event_id: 1 }.disagrees());
        assert!(!Check::BeforeChain.disagrees());
    }

    #[test]
    fn evidence_markers_round_trip_and_reject_malformed_ones() {
        let d = evidence_digest(
            "vote",
            &[serde_json::json!(4), serde_json::json!("approve")],
        );
        assert_eq!(d.len(), 64);
        assert_eq!(
            d,
            sha256_hex(b"[\"vote\",4,\"approve\"]"),
            "the digest is SHA-256 of the JSON array"
        );
        let detail = format!("approve; {}", evidence_marker("vote#4/12", &d));
        assert_eq!(parse_evidence(&detail), Some(("vote#4/12", d.as_str())));
        assert_eq!(parse_evidence("no evidence here"), None);
        assert_eq!(parse_evidence("evidence x sha256:abc"), None, "too short");
        assert_eq!(
            parse_evidence(&format!("evidence x sha256:{} trailing", d)),
            None
        );
        assert_eq!(
            parse_evidence(&format!("evidence x sha256:{}", d.to_uppercase())),
            None,
            "lowercase hex only"
        );
    }
}
