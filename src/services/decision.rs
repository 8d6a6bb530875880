//! A credential's decision record (`gatekeeper decision show NUMBER`): the
//! evidence the decision rests on, rebuilt from stored data, each piece
//! checked against the audit chain.
//!
//! For every case that issued or renewed the credential: the doctor's
//! training record and the move out of training; each exam attempt with its
//! paper drawn again from its seed and the question versions of the time
//! (`services::exams::redraw`) and compared with the stored paper, its
//! released result (`services::grading::released_result`), and each case
//! answer's marks with the marker role and the attempt's blind code, the
//! final mark rebuilt from them (`domain::grading::final_mark`); the votes
//! and what they give (`domain::committee::tally`); every status change of
//! the case and of the credential. Transitions, votes, marks and credential
//! events each carry an evidence digest in the audit event that recorded
//! them (`services::audit::*_evidence`); the record recomputes the digest
//! from the stored row and compares (`domain::audit_chain::check_evidence`),
//! and walks the whole chain (`services::audit::verify_in`). The verdict
//! says whether all of it agrees, and where it does not.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDateTime;

use crate::domain::audit_chain::{self, Check, Recorded};
use crate::domain::committee::{self, Tally, Vote};
use crate::domain::credentials::{CredentialNumber, Status};
use crate::domain::grading::{self, MarkerRole};
use crate::domain::ids::{CaseId, CredentialId, PersonId};
use crate::domain::pipeline::{ExamStage, Reason, Stage};
use crate::error::{Error, Result};
use crate::services::audit::{self, ChainReport, Evidence};
use crate::services::exams::{self, PaperCheck};
use crate::services::pipeline::{self, CaseView};
use crate::services::training::{self, TrainingRecord};
use crate::store::audit::{self as store_audit, AuditRow};
use crate::store::committee as store_committee;
use crate::store::credentials as store_credentials;
use crate::store::pipeline::{self as store_pipeline, CaseRow};
use crate::store::{
    Db, DbConn, banks as store_banks, exams as store_exams, grading as store_grading, institutions,
    people, training as store_training,
};

/// A piece of evidence and how it compares with the audit chain.
#[derive(Debug, Clone)]
pub struct Checked<T> {
    pub item: T,
    pub check: Check,
}

/// A status change of a case or a credential.
#[derive(Debug, Clone)]
pub struct StatusLine {
    /// `training -> written_exam (training_complete)`.
    pub change: String,
    /// Who caused it (`None`: the system, on the evidence).
    pub by: Option<String>,
    pub at: NaiveDateTime,
}

/// One examiner's marks of a case answer.
#[derive(Debug, Clone)]
pub struct MarkLine {
    pub task_id: i64,
    /// 1 first, 2 second, 3 third marker, 4 appeal re-mark.
    pub role: i32,
    pub examiner_id: PersonId,
    pub total: Option<f64>,
    pub submitted_at: NaiveDateTime,
}

/// A case answer: its final mark, and the marks it was built from.
#[derive(Debug, Clone)]
pub struct AnswerRecord {
    pub position: i32,
    pub points: i32,
    pub final_mark: Option<f64>,
    /// The final mark the submitted marks give by the marking rule.
    pub rule_gives: Option<f64>,
    pub marks: Vec<Checked<MarkLine>>,
}

/// One exam attempt.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempt_id: i64,
    pub exam_title: String,
    pub stage: String,
    pub number: i32,
    /// The blind code examiners marked it under.
    pub code: Option<String>,
    pub seed: i64,
    pub drawn_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub paper: PaperCheck,
    pub pass_mark: i32,
    /// Percent and pass, once released.
    pub result: Option<(u32, bool)>,
    pub answers: Vec<AnswerRecord>,
}

#[derive(Debug, Clone)]
pub struct VoteRecord {
    pub member_id: PersonId,
    pub member: String,
    pub vote: String,
    pub reason: String,
    pub cast_at: NaiveDateTime,
}

/// One case: its timeline and its evidence.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub view: CaseView,
    pub transitions: Vec<Checked<StatusLine>>,
    pub attempts: Vec<AttemptRecord>,
    pub votes: Vec<Checked<VoteRecord>>,
    pub quorum: u32,
    /// What the votes give under the track's quorum as it stands.
    pub votes_give: Tally,
}

/// Everything `decision show` reports.
#[derive(Debug, Clone)]
pub struct DecisionRecord {
    pub number: String,
    pub holder: String,
    pub person_id: PersonId,
    pub institution: Option<String>,
    pub practising_certificate: Option<String>,
    pub track_key: String,
    pub track_title: String,
    pub status: String,
    pub issued_at: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub training: TrainingRecord,
    pub cases: Vec<CaseRecord>,
    pub credential_events: Vec<Checked<StatusLine>>,
    pub chain: ChainReport,
    /// Pieces of evidence that agree with the chain.
    pub agreeing: usize,
    /// Pieces stored before the chain began, which it cannot vouch for.
    pub before_chain: usize,
    /// Every disagreement, in plain words.
    pub findings: Vec<String>,
}

impl DecisionRecord {
    /// The verdict: everything agrees with the audit chain.
    pub fn agrees(&self) -> bool {
        self.findings.is_empty()
    }
}

/// The audit events that record evidence, by the evidence they name.
struct Recordings {
    by_reference: BTreeMap<String, Vec<AuditRow>>,
    seen: BTreeSet<String>,
    before_id: i64,
    started_at: NaiveDateTime,
    agreeing: usize,
    before_chain: usize,
}

impl Recordings {
    fn new(rows: Vec<AuditRow>, before_id: i64, started_at: NaiveDateTime) -> Recordings {
        let mut by_reference: BTreeMap<String, Vec<AuditRow>> = BTreeMap::new();
        for row in rows {
            let reference = row
                .detail
                .as_deref()
                .and_then(audit_chain::parse_evidence)
                .map(|(reference, _)| reference.to_owned());
            if let Some(reference) = reference {
                by_reference.entry(reference).or_default().push(row);
            }
        }
        Recordings {
            by_reference,
            seen: BTreeSet::new(),
            before_id,
            started_at,
            agreeing: 0,
            before_chain: 0,
        }
    }

    /// Checks a piece of evidence stored at `stored_at` against the latest
    /// event recording it; a disagreement becomes a finding about `what`.
    fn check(
        &mut self,
        evidence: &Evidence,
        stored_at: NaiveDateTime,
        what: &str,
        findings: &mut Vec<String>,
    ) -> Check {
        self.seen.insert(evidence.reference.clone());
        let latest = self
            .by_reference
            .get(&evidence.reference)
            .and_then(|rows| rows.last());
        let recorded = latest.map(|row| Recorded {
            event_id: row.id,
            chained: row.seq.is_some(),
            before_chain: row.id <= self.before_id,
            digest: row
                .detail
                .as_deref()
                .and_then(audit_chain::parse_evidence)
                .map_or("", |(_, digest)| digest),
        });
        let check =
            audit_chain::check_evidence(&evidence.digest, recorded, stored_at < self.started_at);
        match check {
            Check::Agrees { .. } => self.agreeing += 1,
            Check::BeforeChain => self.before_chain += 1,
            _ => findings.push(format!("{what}: {check}")),
        }
        check
    }

    /// Evidence the chain recorded that is no longer stored.
    fn orphans(&self, findings: &mut Vec<String>) {
        for (reference, rows) in &self.by_reference {
            if self.seen.contains(reference) {
                continue;
            }
            if let Some(row) = rows.last() {
                findings.push(format!(
                    "audit event #{} recorded {reference} ({}), which is no longer stored",
                    row.id,
                    row.target.as_deref().unwrap_or("")
                ));
            }
        }
    }
}

fn role_name(role: i32) -> &'static str {
    match MarkerRole::from_number(role) {
        Some(MarkerRole::First) => "first marker",
        Some(MarkerRole::Second) => "second marker",
        Some(MarkerRole::Third) => "third marker",
        Some(MarkerRole::Appeal) => "appeal re-mark",
        None => "marker",
    }
}

fn person_name(conn: &mut DbConn, id: Option<PersonId>) -> Result<Option<String>> {
    Ok(match id {
        Some(id) => Some(people::find(conn, id)?.map_or_else(
            || format!("person #{id}"),
            |p| format!("{} (#{id})", p.name),
        )),
        None => None,
    })
}

/// The raw rows of one case, before they are checked.
struct CaseRows {
    case: CaseRow,
    transitions: Vec<store_pipeline::TransitionRow>,
    votes: Vec<(store_committee::VoteRow, String)>,
    attempts: Vec<(store_exams::AttemptRow, store_exams::ExamRow)>,
}

/// A case answer the record shows: marked by examiners, or a case question.
struct CaseAnswer {
    attempt_id: i64,
    tolerance: i32,
    item: store_exams::ItemRow,
    tasks: Vec<store_grading::TaskRow>,
}

/// Builds the decision record of the credential `number`, on `conn`.
pub fn show_in(conn: &mut DbConn, number: &str) -> Result<DecisionRecord> {
    let parsed =
        CredentialNumber::parse(number).map_err(|e| Error::invalid("number", e.to_string()))?;
    let number = parsed.to_string();
    let credential = store_credentials::credential_by_number(conn, &number)?
        .ok_or_else(|| Error::invalid("number", "no credential has this number"))?;
    let person = people::find(conn, credential.person_id)?.ok_or(Error::NotFound)?;
    let institution = match person.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.name),
        None => None,
    };
    let track =
        store_training::find_track_by_id(conn, credential.track_id)?.ok_or(Error::NotFound)?;
    let training = training::record_of(conn, person.id)?;
    let chain = audit::verify_in(conn)?;
    let head = store_audit::head(conn)?;

    // The rows, first: they say which audit events to read.
    let gathered = gather_cases(conn, credential.id, &track.track_key)?;
    let mut targets = vec![format!("credential:{}", credential.number)];
    let answers = gather_answers(conn, &gathered, &mut targets)?;
    let mut recordings = Recordings::new(
        store_audit::about(conn, &targets)?,
        head.before_id,
        head.started_at,
    );
    let mut findings = Vec::new();
    if let Some(b) = &chain.broken {
        findings.push(format!("the audit chain is broken at {b}"));
    }

    let mut cases = Vec::new();
    for rows in gathered {
        cases.push(case_record(
            conn,
            rows,
            &answers,
            track.quorum,
            &mut recordings,
            &mut findings,
        )?);
    }
    let credential_events = credential_events(
        conn,
        credential.id,
        &credential.number,
        &mut recordings,
        &mut findings,
    )?;
    recordings.orphans(&mut findings);

    Ok(DecisionRecord {
        number: credential.number,
        holder: person.name,
        person_id: person.id,
        institution,
        practising_certificate: person.practising_certificate,
        track_key: track.track_key,
        track_title: track.title,
        status: credential.status.as_str().to_owned(),
        issued_at: credential.issued_at,
        valid_until: credential.valid_until,
        training,
        cases,
        credential_events,
        chain,
        agreeing: recordings.agreeing,
        before_chain: recordings.before_chain,
        findings,
    })
}

/// The cases that issued or renewed the credential, each with its
/// transitions, votes and the attempts of the track's stages it saw.
fn gather_cases(
    conn: &mut DbConn,
    credential_id: CredentialId,
    track_key: &str,
) -> Result<Vec<CaseRows>> {
    let mut gathered = Vec::new();
    for case in store_pipeline::cases_of_credential(conn, credential_id)? {
        let mut attempts = Vec::new();
        for stage in ExamStage::ALL {
            for (attempt, exam) in store_pipeline::stage_attempts(
                conn,
                case.person_id,
                track_key,
                stage,
                case.opened_at,
            )? {
                if case
                    .closed_at
                    .is_none_or(|closed| attempt.drawn_at <= closed)
                {
                    attempts.push((attempt, exam));
                }
            }
        }
        attempts.sort_by_key(|(a, _)| a.id);
        gathered.push(CaseRows {
            transitions: store_pipeline::transitions_of(conn, case.id)?,
            votes: store_committee::votes_of(conn, case.id)?,
            attempts,
            case,
        });
    }
    Ok(gathered)
}

/// The answers of the attempts that examiners marked (or that answer a case
/// question); adds the audit targets of the cases and the marks to `targets`.
fn gather_answers(
    conn: &mut DbConn,
    gathered: &[CaseRows],
    targets: &mut Vec<String>,
) -> Result<Vec<CaseAnswer>> {
    let mut answers = Vec::new();
    for rows in gathered {
        targets.push(format!("case:{}", rows.case.id));
        for (attempt, exam) in &rows.attempts {
            for item in store_exams::items_of(conn, attempt.id)?
                .into_iter()
                .filter(|i| !i.excluded)
            {
                let tasks = store_grading::tasks_of_item(conn, item.id)?;
                let kind = store_banks::version_by_id(conn, item.version_id)?
                    .map(|v| v.kind)
                    .unwrap_or_default();
                if tasks.is_empty() && kind != "case" {
                    continue;
                }
                for t in &tasks {
                    targets.push(format!("task:{} item:{} role:{}", t.id, item.id, t.role));
                }
                answers.push(CaseAnswer {
                    attempt_id: attempt.id,
                    tolerance: exam.marking_tolerance,
                    item,
                    tasks,
                });
            }
        }
    }
    Ok(answers)
}

/// One case's record: its status changes, attempts and votes, each checked.
fn case_record(
    conn: &mut DbConn,
    rows: CaseRows,
    answers: &[CaseAnswer],
    track_quorum: i32,
    recordings: &mut Recordings,
    findings: &mut Vec<String>,
) -> Result<CaseRecord> {
    let case = rows.case;
    let view = pipeline::case_view(conn, case.id)?;
    let mut transitions = Vec::new();
    // How the committee's review ended, if it did (the first move out of it).
    let mut decided = None;
    for t in rows.transitions {
        if decided.is_none() && t.from_stage == Some(Stage::CommitteeReview) {
            decided = Some(t.reason);
        }
        let change = format!(
            "{} -> {} ({})",
            t.from_stage.map_or("(new)", Stage::as_str),
            t.to_stage,
            t.reason.as_str()
        );
        let check = recordings.check(
            &audit::transition_evidence(&t),
            t.at,
            &format!("case {} moved {change}", case.id),
            findings,
        );
        transitions.push(Checked {
            item: StatusLine {
                change,
                by: person_name(conn, t.actor_id)?,
                at: t.at,
            },
            check,
        });
    }

    let mut attempts = Vec::new();
    for (attempt, exam) in &rows.attempts {
        attempts.push(attempt_record(
            conn, attempt, exam, answers, recordings, findings,
        )?);
    }

    let cast: Vec<Vote> = rows.votes.iter().map(|(v, _)| v.vote).collect();
    let votes = vote_lines(rows.votes, case.id, recordings, findings);
    let quorum = u32::try_from(track_quorum.max(1)).unwrap_or(1);
    check_committee_decision(decided, case.id, &cast, findings);
    Ok(CaseRecord {
        view,
        transitions,
        attempts,
        votes,
        quorum,
        votes_give: committee::tally(&cast, quorum),
    })
}

/// One attempt: its paper drawn again, its released result, its case answers.
fn attempt_record(
    conn: &mut DbConn,
    attempt: &store_exams::AttemptRow,
    exam: &store_exams::ExamRow,
    answers: &[CaseAnswer],
    recordings: &mut Recordings,
    findings: &mut Vec<String>,
) -> Result<AttemptRecord> {
    let what = format!(
        "attempt {} at \"{}\" (attempt #{})",
        attempt.number, exam.title, attempt.id
    );
    let paper = exams::redraw(conn, attempt, exam)?;
    match &paper {
        PaperCheck::Matches { .. } => {}
        PaperCheck::Differs {
            position,
            stored,
            redrawn,
        } => findings.push(format!(
            "{what}: the stored paper differs from its redraw at position {position}: stored {stored}, redrawn {redrawn}"
        )),
        PaperCheck::Unrebuildable(why) => {
            findings.push(format!("{what}: the paper cannot be drawn again: {why}"));
        }
    }
    let result = crate::services::evidence::released_result(conn, attempt, exam)?
        .map(|r| (r.percent, r.passed));
    let answer_records = answers
        .iter()
        .filter(|a| a.attempt_id == attempt.id)
        .map(|a| answer_record(a, &what, recordings, findings))
        .collect();
    Ok(AttemptRecord {
        attempt_id: attempt.id,
        exam_title: exam.title.clone(),
        stage: exam.stage.as_str().to_owned(),
        number: attempt.number,
        code: attempt.code.clone(),
        seed: attempt.seed,
        drawn_at: attempt.drawn_at,
        submitted_at: attempt.submitted_at,
        paper,
        pass_mark: exam.pass_mark,
        result,
        answers: answer_records,
    })
}

/// One case answer: each submitted mark checked, and the final mark compared
/// with what the marking rule gives.
fn answer_record(
    answer: &CaseAnswer,
    what: &str,
    recordings: &mut Recordings,
    findings: &mut Vec<String>,
) -> AnswerRecord {
    let CaseAnswer {
        tolerance,
        item,
        tasks,
        ..
    } = answer;
    let mut marks = Vec::new();
    let mut submitted = Vec::new();
    for t in tasks {
        let (Some(evidence), Some(submitted_at)) = (audit::mark_evidence(t), t.submitted_at) else {
            continue;
        };
        if let (Some(role), Some(total)) = (MarkerRole::from_number(t.role), t.total) {
            submitted.push((role, total));
        }
        let check = recordings.check(
            &evidence,
            submitted_at,
            &format!(
                "{what}, answer {}: the {} (examiner #{})",
                item.position,
                role_name(t.role),
                t.examiner_id
            ),
            findings,
        );
        marks.push(Checked {
            item: MarkLine {
                task_id: t.id,
                role: t.role,
                examiner_id: t.examiner_id,
                total: t.total,
                submitted_at,
            },
            check,
        });
    }
    let rule_gives = grading::final_mark(
        &submitted,
        u32::try_from(item.points).unwrap_or(0),
        u32::try_from(*tolerance).unwrap_or(0),
    );
    match (item.score, rule_gives) {
        (Some(mark), Some(rule)) if (mark - rule).abs() > 1e-9 => findings.push(format!(
            "{what}, answer {}: the final mark is {mark}, but its marks give {rule}",
            item.position
        )),
        (Some(mark), None) => findings.push(format!(
            "{what}, answer {}: the final mark {mark} is not made by examiners' marks",
            item.position
        )),
        _ => {}
    }
    AnswerRecord {
        position: item.position,
        points: item.points,
        final_mark: item.score,
        rule_gives,
        marks,
    }
}

/// The committee's votes on case `case_id`, each checked.
fn vote_lines(
    rows: Vec<(store_committee::VoteRow, String)>,
    case_id: CaseId,
    recordings: &mut Recordings,
    findings: &mut Vec<String>,
) -> Vec<Checked<VoteRecord>> {
    let mut votes = Vec::new();
    for (v, name) in rows {
        let check = recordings.check(
            &audit::vote_evidence(&v),
            v.cast_at,
            &format!("the vote of {name} (#{}) on case {case_id}", v.member_id),
            findings,
        );
        votes.push(Checked {
            item: VoteRecord {
                member_id: v.member_id,
                member: name,
                vote: v.vote.as_str().to_owned(),
                reason: v.reason,
                cast_at: v.cast_at,
            },
            check,
        });
    }
    votes
}

/// Whatever the quorum then, the votes' majority must be the committee's
/// decision: a finding if it is not.
fn check_committee_decision(
    decided: Option<Reason>,
    case_id: CaseId,
    cast: &[Vote],
    findings: &mut Vec<String>,
) {
    let majority = committee::tally(cast, 1);
    match (decided, majority) {
        (Some(Reason::CommitteeApproved), Tally::Approved)
        | (Some(Reason::CommitteeRejected), Tally::Rejected) => {}
        (Some(reason @ (Reason::CommitteeApproved | Reason::CommitteeRejected)), _) => {
            findings.push(format!(
                "case {case_id}: the committee's decision ({}) is not what the stored votes give ({})",
                reason.as_str(),
                tally_words(majority)
            ));
        }
        _ => {}
    }
}

/// The credential's status changes, each checked.
fn credential_events(
    conn: &mut DbConn,
    credential_id: CredentialId,
    number: &str,
    recordings: &mut Recordings,
    findings: &mut Vec<String>,
) -> Result<Vec<Checked<StatusLine>>> {
    let mut lines = Vec::new();
    for e in store_credentials::events_of(conn, credential_id)? {
        let change = format!(
            "{}: {} -> {}",
            e.action,
            e.status_from.map_or("(new)", Status::as_str),
            e.status_to
        );
        let check = recordings.check(
            &audit::credential_event_evidence(&e),
            e.at,
            &format!("credential {number} {change}"),
            findings,
        );
        lines.push(Checked {
            item: StatusLine {
                change,
                by: person_name(conn, e.actor_id)?,
                at: e.at,
            },
            check,
        });
    }
    Ok(lines)
}

/// `gatekeeper decision show NUMBER`.
pub fn show(db: &Db, number: &str) -> Result<DecisionRecord> {
    let number = number.to_owned();
    db.read_blocking(move |conn| show_in(conn, &number))
}

fn tally_words(t: Tally) -> String {
    match t {
        Tally::Approved => "approved".to_owned(),
        Tally::Rejected => "rejected".to_owned(),
        Tally::Pending { cast, quorum } => {
            format!("no decision yet ({cast} vote(s) cast, {quorum} needed and a majority)")
        }
    }
}

fn time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn mark(m: f64) -> String {
    // Marks are in half points: 8, 7.5.
    if m.fract() == 0.0 {
        format!("{m:.0}")
    } else {
        format!("{m}")
    }
}

/// How a line shows its check: `[agrees with audit event #12]`,
/// `[DISAGREES: no audit event records it]`.
struct Verdict(Check);

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.disagrees() {
            write!(f, "[DISAGREES: {}]", self.0)
        } else {
            write!(f, "[{}]", self.0)
        }
    }
}

fn write_status(f: &mut fmt::Formatter<'_>, lines: &[Checked<StatusLine>]) -> fmt::Result {
    for l in lines {
        writeln!(
            f,
            "    {}  {}, by {}  {}",
            time(l.item.at),
            l.item.change,
            l.item.by.as_deref().unwrap_or("the system"),
            Verdict(l.check)
        )?;
    }
    Ok(())
}

impl fmt::Display for DecisionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_holder(f)?;
        write_training(f, &self.training)?;
        for c in &self.cases {
            write_case(f, c)?;
        }
        writeln!(f, "\nSTATUS CHANGES OF THE CREDENTIAL")?;
        write_status(f, &self.credential_events)?;

        self.write_verdict(f)
    }
}

impl DecisionRecord {
    /// The credential and its holder.
    fn write_holder(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "DECISION RECORD of credential {}", self.number)?;
        writeln!(
            f,
            "Holder: {} (person #{}), {}; practising certificate {}",
            self.holder,
            self.person_id,
            self.institution.as_deref().unwrap_or("no institution"),
            self.practising_certificate.as_deref().unwrap_or("none")
        )?;
        writeln!(
            f,
            "Track: {} ({}); status {}; issued {}; valid until {}",
            self.track_title,
            self.track_key,
            self.status,
            time(self.issued_at),
            time(self.valid_until)
        )?;
        Ok(())
    }

    /// The audit chain's report and the verdict, with every finding.
    fn write_verdict(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "\nAUDIT CHAIN")?;
        for line in self.chain.to_string().lines() {
            writeln!(f, "  {line}")?;
        }

        writeln!(f)?;
        if self.agrees() {
            write!(
                f,
                "VERDICT: AGREES. {} piece(s) of evidence match the audit chain, every paper draws again the same, and the chain is whole",
                self.agreeing
            )?;
            if self.before_chain > 0 {
                write!(
                    f,
                    "; {} piece(s) were stored before the chain began and are not covered by it",
                    self.before_chain
                )?;
            }
            writeln!(f, ".")
        } else {
            writeln!(
                f,
                "VERDICT: DISAGREES, in {} place(s):",
                self.findings.len()
            )?;
            for (i, finding) in self.findings.iter().enumerate() {
                writeln!(f, "  {}. {finding}", i + 1)?;
            }
            Ok(())
        }
    }
}

/// The holder's training record.
fn write_training(f: &mut fmt::Formatter<'_>, training: &TrainingRecord) -> fmt::Result {
    writeln!(f, "\nTRAINING (the holder's record)")?;
    for t in &training.tracks {
        let done = if t.complete {
            "complete"
        } else {
            "not complete"
        };
        writeln!(f, "  Track {}: {done}", t.title)?;
    }
    for c in &training.courses {
        writeln!(
            f,
            "  Course \"{}\": {}/{} lessons studied, {}/{} quizzes passed{}",
            c.title,
            c.lessons_studied,
            c.lessons,
            c.quizzes_passed,
            c.quizzes,
            if c.complete { ", complete" } else { "" }
        )?;
    }
    for q in &training.quizzes {
        writeln!(
            f,
            "  Quiz \"{}\" ({}): {}/{}{}, {}",
            q.module_title,
            q.course_title,
            q.score,
            q.max_score,
            if q.passed { " passed" } else { " not passed" },
            q.submitted_at.format("%Y-%m-%d %H:%M:%S UTC")
        )?;
    }
    for w in &training.workshops {
        let attended = match w.attended {
            Some(true) => "attended",
            Some(false) => "absent",
            None => "attendance not recorded",
        };
        writeln!(
            f,
            "  Workshop \"{}\" on {}: {attended}",
            w.workshop_title,
            w.starts_at.format("%Y-%m-%d %H:%M UTC")
        )?;
    }
    Ok(())
}

/// One case: its attempts, votes and status changes.
fn write_case(f: &mut fmt::Formatter<'_>, c: &CaseRecord) -> fmt::Result {
    writeln!(
        f,
        "\nCASE #{} ({}), opened {}, now at {}",
        c.view.id,
        c.view.kind.as_str(),
        c.view.opened_at.format("%Y-%m-%d %H:%M:%S UTC"),
        c.view.stage
    )?;
    if let Some(t) = c
        .transitions
        .iter()
        .find(|t| t.item.change.ends_with("(training_complete)"))
    {
        writeln!(
            f,
            "  Training completed: the case left training on {}  {}",
            time(t.item.at),
            Verdict(t.check)
        )?;
    }

    writeln!(f, "\n  EXAM ATTEMPTS")?;
    if c.attempts.is_empty() {
        writeln!(f, "    none")?;
    }
    for a in &c.attempts {
        write_attempt(f, a)?;
    }
    writeln!(f, "\n  COMMITTEE VOTES (quorum {})", c.quorum)?;
    if c.votes.is_empty() {
        writeln!(f, "    none")?;
    }
    for v in &c.votes {
        writeln!(
            f,
            "    {} {} by {} (#{}): \"{}\"  {}",
            time(v.item.cast_at),
            v.item.vote,
            v.item.member,
            v.item.member_id,
            v.item.reason,
            Verdict(v.check)
        )?;
    }
    writeln!(f, "    The votes give: {}", tally_words(c.votes_give))?;

    writeln!(f, "\n  STATUS CHANGES OF THE CASE")?;
    write_status(f, &c.transitions)?;
    Ok(())
}

/// One attempt: its paper, result and case answers.
fn write_attempt(f: &mut fmt::Formatter<'_>, a: &AttemptRecord) -> fmt::Result {
    writeln!(
        f,
        "    \"{}\" ({} stage), attempt {} (#{}), blind code {}",
        a.exam_title,
        a.stage,
        a.number,
        a.attempt_id,
        a.code.as_deref().unwrap_or("none")
    )?;
    writeln!(
        f,
        "      drawn {} from seed {}; submitted {}",
        time(a.drawn_at),
        a.seed,
        a.submitted_at.map_or_else(|| "never".to_owned(), time)
    )?;
    match &a.paper {
        PaperCheck::Matches { questions } => writeln!(
            f,
            "      Paper: {questions} question(s); drawn again from the seed and the question versions of the time: the same paper"
        )?,
        PaperCheck::Differs {
            position,
            stored,
            redrawn,
        } => writeln!(
            f,
            "      Paper: DIFFERS from its redraw at position {position}: stored {stored}, redrawn {redrawn}"
        )?,
        PaperCheck::Unrebuildable(why) => {
            writeln!(f, "      Paper: CANNOT BE DRAWN AGAIN: {why}")?;
        }
    }
    match a.result {
        Some((percent, passed)) => writeln!(
            f,
            "      Result: {percent}% against a pass mark of {}%: {}",
            a.pass_mark,
            if passed { "passed" } else { "failed" }
        )?,
        None => writeln!(f, "      Result: not released")?,
    }
    for answer in &a.answers {
        write_answer(f, a, answer)?;
    }
    Ok(())
}

/// One case answer: its final mark, the marks and what the rule gives.
fn write_answer(
    f: &mut fmt::Formatter<'_>,
    a: &AttemptRecord,
    answer: &AnswerRecord,
) -> fmt::Result {
    writeln!(
        f,
        "      Case answer {} ({} points): final mark {}",
        answer.position,
        answer.points,
        answer.final_mark.map_or_else(|| "not set".to_owned(), mark)
    )?;
    for m in &answer.marks {
        writeln!(
            f,
            "        {} (examiner #{}, task #{}) under code {}: {} on {}  {}",
            role_name(m.item.role),
            m.item.examiner_id,
            m.item.task_id,
            a.code.as_deref().unwrap_or("none"),
            m.item.total.map_or_else(|| "-".to_owned(), mark),
            time(m.item.submitted_at),
            Verdict(m.check)
        )?;
    }
    match answer.rule_gives {
        Some(rule) => writeln!(
            f,
            "        The marking rule gives {}{}",
            mark(rule),
            if answer.final_mark.is_some_and(|m| (m - rule).abs() <= 1e-9) {
                ": agrees"
            } else {
                ": DISAGREES with the final mark"
            }
        )?,
        None => writeln!(f, "        The marks give no final mark yet")?,
    }
    Ok(())
}
