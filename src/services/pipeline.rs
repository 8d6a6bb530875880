//! Certification cases: applying, moving a case on when its evidence
//! arrives, the doctor's timeline, every case and the funnel for the
//! committee and admins, and the pipeline's say on exam registration.
//!
//! The rules are `domain::pipeline`'s; this module reads the evidence
//! (`services::evidence`) and writes each transition with its reason.
//! Evidence arrives from training, exam releases, regrades, appeals and
//! practical stations: each of those notes a `cases_due` row for the person
//! in its own transaction (`store::pipeline::note_due`) and, once that
//! has committed, calls `settle`, which takes the row and moves the person's
//! open cases on, so the doctor sees the new stage as soon as the request
//! answers. A row a crash or failure left behind is taken by
//! `jobs::cases_due`. Committee votes move their case in their own
//! transaction (`advance_case`), and `jobs::certification` re-checks open
//! cases for what time alone settles (an appeal period ending).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;

use crate::domain::access::Permission;
use crate::domain::committee::{self, Subject, Vote};
use crate::domain::credentials::{self as credential, Status};
use crate::domain::ids::{CaseId, CredentialId, PersonId};
use crate::domain::numbers::non_negative_u32;
use crate::domain::pipeline::{
    self, Decision, Evidence, ExamStage, Held, Kind, Outcome, Policy, Reason, Stage,
};
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome as AuditOutcome};
use crate::services::{Caller, Ctx, credentials, evidence, refuse, require};
use crate::store::committee as store_committee;
use crate::store::credentials as store_credentials;
use crate::store::grading as store_grading;
use crate::store::pipeline::{self as store_pipeline, CaseRow};
use crate::store::training::{self as store_training, TrackRow};
use crate::store::{self, Db, DbConn, institutions, people};

use super::utc;

/// A track's policy as the domain reads it.
pub fn policy_of(track: &TrackRow) -> Policy {
    Policy {
        stage_attempts: non_negative_u32(track.stage_attempts.max(1)),
        retake_wait: Duration::days(i64::from(track.retake_wait_days.max(0))),
        cooloff: Duration::days(i64::from(track.cooloff_days.max(0))),
        requires_practical: track.requires_practical,
        quorum: non_negative_u32(track.quorum.max(1)),
        appeal_rule: track.appeal_rule,
    }
}

fn track_of(conn: &mut DbConn, case: &CaseRow) -> Result<TrackRow> {
    store_training::find_track_by_id(conn, case.track_id)?.ok_or(Error::NotFound)
}

// ----- evidence -----

/// Eligibility of a person now.
pub fn eligibility_of(
    conn: &mut DbConn,
    person_id: PersonId,
) -> Result<Result<(), pipeline::Ineligible>> {
    let person = people::find(conn, person_id)?.ok_or(Error::NotFound)?;
    let member = match person.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.alliance_member),
        None => None,
    };
    Ok(pipeline::eligibility(
        person.active,
        person.practising_certificate.as_deref(),
        member,
    ))
}

/// A released result of one of a case's exams.
#[derive(Debug, Clone, Copy)]
pub struct StageResult {
    pub attempt_id: i64,
    pub outcome: Outcome,
    /// The end of the result's appeal period.
    pub appeal_until: DateTime<Utc>,
}

/// The released results of a case's exams at one stage, oldest first.
pub fn stage_results(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    stage: ExamStage,
    now: NaiveDateTime,
) -> Result<Vec<StageResult>> {
    let mut results = Vec::new();
    for (attempt, exam) in store_pipeline::stage_attempts(
        conn,
        case.person_id,
        &track.track_key,
        stage,
        case.opened_at,
    )? {
        let Some(released) = exam.results_released_at else {
            continue;
        };
        let Some(result) = crate::services::evidence::released_result(conn, &attempt, &exam)?
        else {
            continue;
        };
        // The same appeal window the candidate's appeal is checked against.
        let appeal_days = non_negative_u32(exam.appeal_days);
        let appeal_over = !crate::domain::grading::appeal_open(Some(released), appeal_days, now);
        let open_appeal = store_grading::appeals_of_attempt(conn, attempt.id)?
            .iter()
            .any(|a| a.decided_at.is_none());
        results.push(StageResult {
            attempt_id: attempt.id,
            outcome: Outcome {
                passed: result.passed,
                at: utc(released),
                settled: appeal_over && !open_appeal,
            },
            appeal_until: utc(released) + Duration::days(i64::from(appeal_days)),
        });
    }
    Ok(results)
}

/// The released results of a case's exams at one stage, oldest first.
pub fn exam_outcomes(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    stage: ExamStage,
    now: NaiveDateTime,
) -> Result<Vec<Outcome>> {
    Ok(stage_results(conn, case, track, stage, now)?
        .into_iter()
        .map(|r| r.outcome)
        .collect())
}

fn practical_outcomes(conn: &mut DbConn, case: &CaseRow, track: &TrackRow) -> Result<Vec<Outcome>> {
    Ok(store_grading::practicals_of(conn, case.person_id)?
        .into_iter()
        .filter(|(r, s)| s.track == track.track_key && r.observed_at >= case.opened_at)
        .map(|(r, _)| Outcome {
            passed: r.passed,
            at: utc(r.recorded_at),
            settled: true,
        })
        .collect())
}

fn decision_of(conn: &mut DbConn, case: &CaseRow, policy: &Policy) -> Result<Option<Decision>> {
    let votes: Vec<Vote> = store_committee::votes_of(conn, case.id)?
        .iter()
        .map(|(v, _)| v.vote)
        .collect();
    Ok(match committee::tally(&votes, policy.quorum) {
        committee::Tally::Approved => Some(Decision::Approved),
        committee::Tally::Rejected => Some(Decision::Rejected),
        committee::Tally::Pending { .. } => None,
    })
}

/// Renewal credits: continuing education earned since the credential was
/// last issued or renewed.
fn renewal_credits(conn: &mut DbConn, case: &CaseRow, track: &TrackRow) -> Result<bool> {
    let Some(credential_id) = case.credential_id else {
        return Ok(false);
    };
    let credential =
        store_credentials::find_credential(conn, credential_id)?.ok_or(Error::NotFound)?;
    let earned = evidence::credit_hours_since(conn, case.person_id, credential.valid_from)?;
    Ok(crate::domain::training::renewal_credits_met(
        earned,
        track.renewal_credit_hours,
    ))
}

/// Gathers the evidence the current stage needs (and only that).
fn evidence(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    stage: Stage,
    policy: &Policy,
    now: NaiveDateTime,
) -> Result<Evidence> {
    let mut ev = Evidence::none(eligibility_of(conn, case.person_id)?);
    match stage {
        Stage::Training => {
            ev.training_complete =
                evidence::training_complete(conn, case.person_id, &track.track_key)?;
        }
        Stage::WrittenExam | Stage::CaseAssessment | Stage::Reassessment => {
            if let Some(exam_stage) = stage.exam_stage() {
                ev.exams = exam_outcomes(conn, case, track, exam_stage, now)?;
            }
            if stage == Stage::CaseAssessment && policy.requires_practical {
                ev.practicals = practical_outcomes(conn, case, track)?;
            }
            if stage == Stage::Reassessment {
                ev.renewal_credits = renewal_credits(conn, case, track)?;
            }
        }
        Stage::CommitteeReview => {
            ev.decision = decision_of(conn, case, policy)?;
            ev.appeal_pending = appeal_pending(conn, case, track)?;
        }
        Stage::Applied | Stage::Eligible | Stage::Certified | Stage::Rejected => {}
    }
    Ok(ev)
}

/// Whether an appeal against one of the case's exam results is open.
fn appeal_pending(conn: &mut DbConn, case: &CaseRow, track: &TrackRow) -> Result<bool> {
    Ok(store_grading::open_appeal_in(
        conn,
        case.person_id,
        &track.track_key,
        case.opened_at,
    )?)
}

/// Whether each exam stage behind `stage` on the case's route still passes
/// on its results (see `pipeline::still_passed`).
fn standing(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    kind: Kind,
    stage: Stage,
    policy: &Policy,
    now: NaiveDateTime,
) -> Result<Vec<(Stage, Option<bool>)>> {
    let mut out = Vec::new();
    for behind in kind.route().iter().take_while(|s| **s != stage) {
        if behind.exam_stage().is_none() {
            continue;
        }
        let ev = evidence(conn, case, track, *behind, policy, now)?;
        out.push((*behind, pipeline::still_passed(*behind, &ev, policy)));
    }
    Ok(out)
}

// ----- moving cases -----

/// Stores a transition and records it, with its evidence digest, in the
/// audit chain (the committee's decision record checks the two agree).
fn write_transition(
    conn: &mut DbConn,
    case_id: CaseId,
    from: Option<Stage>,
    to: Stage,
    actor: Option<PersonId>,
    reason: Reason,
    now: NaiveDateTime,
) -> Result<()> {
    let row = store_pipeline::insert_transition(
        conn,
        &store_pipeline::NewTransition {
            case_id,
            from_stage: from,
            to_stage: to,
            actor_id: actor,
            reason,
        },
        now,
    )?;
    audit::record_evidence(
        conn,
        actor,
        "case_transition",
        format!("case:{case_id}"),
        &format!(
            "{} -> {} ({})",
            from.map_or("(new)", Stage::as_str),
            to.as_str(),
            reason.as_str()
        ),
        &audit::transition_evidence(&row),
    )
}

/// Writes one transition, after the domain has checked it.
fn record_move(
    conn: &mut DbConn,
    case: &CaseRow,
    to: Stage,
    reason: Reason,
    actor: Option<PersonId>,
    now: NaiveDateTime,
) -> Result<()> {
    let kind = case.kind;
    let from = case.stage;
    pipeline::check_transition(kind, from, to)
        .map_err(|e| Error::conflict("stage", e.to_string()))?;
    store_pipeline::move_case(conn, case.id, to, to.is_closed(), now)?;
    write_transition(conn, case.id, Some(from), to, actor, reason, now)?;
    tracing::info!(case = case.id.get(), from = %from, to = %to, reason = reason.as_str(), "case moved");
    Ok(())
}

/// What happens on entering a stage besides the move itself.
fn on_enter(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    to: Stage,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<()> {
    match to {
        // Training opens: the doctor is enrolled in the track.
        Stage::Training => {
            store_training::enrol(conn, case.person_id, track.id, None, now)?;
        }
        Stage::Certified => {
            let credential_id = credentials::issue_or_renew(conn, case, track, public_url, now)?;
            store_pipeline::set_case_credential(conn, case.id, credential_id)?;
        }
        _ => {}
    }
    Ok(())
}

/// What happens when a case goes back to an exam stage (a withdrawn pass):
/// registrations for the track's exams of the stages it had reached are
/// cancelled unless an attempt at them has started (a paper drawn ahead is
/// kept with its seed and used if the doctor registers again); votes cast
/// on it at committee review are withdrawn (the committee votes again if it
/// returns; the withdrawn votes are in the audit trail); the doctor is told.
fn on_return(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    from: Stage,
    to: Stage,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let kind = case.kind;
    let route = kind.route();
    let ahead: Vec<ExamStage> = route
        .iter()
        .skip_while(|s| **s != to)
        .skip(1)
        .take_while(|s| **s != from)
        .chain(std::iter::once(&from))
        .filter_map(|s| s.exam_stage())
        .collect();
    let mut cancelled = Vec::new();
    for (registration, exam) in
        store::exams::registrations_in(conn, case.person_id, &track.track_key, &ahead)?
    {
        let started = store::exams::attempts_of(conn, exam.id, case.person_id)?
            .iter()
            .any(|a| a.started_at.is_some());
        if !started {
            store::exams::delete_registration(conn, registration.id)?;
            cancelled.push(exam);
        }
    }
    let mut withdrawn = Vec::new();
    if from == Stage::CommitteeReview {
        withdrawn = store_committee::votes_of(conn, case.id)?
            .into_iter()
            .map(|(v, name)| format!("{name} {}", v.vote.as_str()))
            .collect();
        store_committee::withdraw_votes(conn, case.id)?;
    }
    let detail = format!(
        "{from} -> {to}: a result it passed on no longer passes; registrations cancelled: [{}]; votes withdrawn: [{}]",
        cancelled
            .iter()
            .map(|e| format!("exam:{}", e.id))
            .collect::<Vec<_>>()
            .join(", "),
        withdrawn.join(", ")
    );
    audit::record(
        conn,
        &audit::anonymous(
            "case.return",
            Some(format!("case:{}", case.id)),
            AuditOutcome::Ok,
            None,
            Some(detail),
        ),
    )?;
    if let Some(person) = people::find(conn, case.person_id)? {
        crate::mail::enqueue_to(
            conn,
            &person,
            &crate::mail::Message::CaseReturned {
                name: person.name.clone(),
                track: track.title.clone(),
                stage: to,
                cancelled: cancelled.into_iter().map(|e| e.title).collect(),
                link: format!("{public_url}/cases/{}", case.id),
            },
            now,
        )?;
    }
    Ok(())
}

/// The case a result counted for, when that case is closed: the doctor's
/// case in the exam's track that was open when the paper was drawn.
pub fn closed_case_of(
    conn: &mut DbConn,
    attempt: &store::exams::AttemptRow,
    exam: &store::exams::ExamRow,
) -> Result<Option<Stage>> {
    let Some(track) = store_training::find_track(conn, &exam.track)? else {
        return Ok(None);
    };
    for case in store_pipeline::cases_of(conn, attempt.person_id)? {
        if case.track_id == track.id
            && case.opened_at <= attempt.drawn_at
            && case.closed_at.is_some_and(|c| c >= attempt.drawn_at)
        {
            return Ok(Some(case.stage));
        }
    }
    Ok(None)
}

/// Moves a case on as far as its evidence allows; returns where it stands.
/// Call inside the transaction of the event that brought the evidence.
pub fn advance_case(
    conn: &mut DbConn,
    case_id: CaseId,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<Stage> {
    let mut case = store_pipeline::lock_case(conn, case_id)?.ok_or(Error::NotFound)?;
    let track = track_of(conn, &case)?;
    let policy = policy_of(&track);
    let kind = case.kind;
    loop {
        let stage = case.stage;
        // The final result first: a case past an exam stage whose pass was
        // withdrawn goes back there.
        let behind = standing(conn, &case, &track, kind, stage, &policy, now)?;
        if let Some((to, reason)) = pipeline::fall_back(kind, stage, &behind) {
            record_move(conn, &case, to, reason, None, now)?;
            on_return(conn, &case, &track, stage, to, public_url, now)?;
            case = store_pipeline::find_case(conn, case_id)?.ok_or(Error::NotFound)?;
            continue;
        }
        let ev = evidence(conn, &case, &track, stage, &policy, now)?;
        let Some((to, reason)) = pipeline::next(kind, stage, &ev, &policy) else {
            return Ok(stage);
        };
        record_move(conn, &case, to, reason, None, now)?;
        on_enter(conn, &case, &track, to, public_url, now)?;
        case = store_pipeline::find_case(conn, case_id)?.ok_or(Error::NotFound)?;
    }
}

/// Moves every open case of a person on (after new training, results,
/// appeals or practical marks).
pub fn advance_person(conn: &mut DbConn, person_id: PersonId, public_url: &str) -> Result<()> {
    let now = store::now();
    for case in store_pipeline::open_cases_of(conn, person_id)? {
        advance_case(conn, case.id, public_url, now)?;
    }
    Ok(())
}

/// Takes the evidence noted for a person (`store::pipeline::note_due`):
/// moves their open cases on and deletes the rows, in the caller's
/// transaction. False when nothing was due (another taker was first).
pub fn take_due(conn: &mut DbConn, person_id: PersonId, public_url: &str) -> Result<bool> {
    let ids = store_pipeline::due_of(conn, person_id)?;
    if ids.is_empty() {
        return Ok(false);
    }
    advance_person(conn, person_id, public_url)?;
    store_pipeline::clear_due(conn, &ids)?;
    Ok(true)
}

/// Right after the commit of a request that noted new evidence: takes it
/// for these people in one transaction, so the request answers with their
/// cases already moved. The request has committed and stands whatever
/// happens here: a failure is logged and the rows stay for
/// `jobs::cases_due`, which takes them on its next round.
pub async fn settle(ctx: &Ctx, mut people: Vec<PersonId>) {
    people.sort_unstable();
    people.dedup();
    if people.is_empty() {
        return;
    }
    let public_url = ctx.settings.public_url.clone();
    let taken = ctx
        .db
        .write(move |conn| {
            for person_id in &people {
                take_due(conn, *person_id, &public_url)?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = taken {
        tracing::warn!(error = e.traced(), "cases due: left for the job");
    }
}

/// The cases-due job's round: takes the evidence of up to `limit` people,
/// each in a transaction of its own; returns for how many there was some.
pub fn take_all_due(db: &Db, public_url: &str, limit: i64) -> Result<usize> {
    let people = db.read_blocking(|conn| Ok(store_pipeline::due_people(conn, limit)?))?;
    let mut taken = 0;
    for person_id in people {
        if db.write_blocking(|conn| take_due(conn, person_id, public_url))? {
            taken += 1;
        }
    }
    Ok(taken)
}

/// Re-checks every open case (the job's sweep); returns how many moved.
pub fn advance_all(db: &Db, public_url: &str) -> Result<usize> {
    let ids = db.read_blocking(|conn| Ok(store_pipeline::open_case_ids(conn)?))?;
    let mut moved = 0;
    for id in ids {
        let changed = db.write_blocking(|conn| {
            let before = store_pipeline::find_case(conn, id)?.map(|c| c.stage);
            let after = advance_case(conn, id, public_url, store::now())?;
            Ok(before != Some(after))
        })?;
        if changed {
            moved += 1;
        }
    }
    Ok(moved)
}

// ----- applying -----

/// How the credential a doctor holds in a track reads now, if any.
pub fn held_in(
    conn: &mut DbConn,
    person_id: PersonId,
    track_id: i64,
    now: NaiveDateTime,
) -> Result<Option<(Held, CredentialId)>> {
    let Some(c) = store_credentials::credential_in_track(conn, person_id, track_id)? else {
        return Ok(None);
    };
    let held = match credential::effective(c.status, utc(c.valid_until), utc(now)) {
        Status::Active => Held::Active,
        Status::Suspended => Held::Suspended,
        Status::Expired => Held::Expired,
        Status::Revoked => Held::Revoked,
    };
    Ok(Some((held, c.id)))
}

/// A doctor applies for certification in a track (or for the renewal of
/// their credential in it).
pub async fn apply(ctx: &Ctx, caller: &Caller, track_key: String, kind: Kind) -> Result<CaseView> {
    require(ctx, caller, Permission::Certify).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let caller = caller.clone();
    let public_url = ctx.settings.public_url.clone();
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let track = store_training::find_track(conn, &track_key)?
                .ok_or_else(|| Error::invalid("track", "no such track"))?;
            let policy = policy_of(&track);
            let open = store_pipeline::open_case(conn, me, track.id)?.is_some();
            let held = held_in(conn, me, track.id, now)?;
            let rejected = store_pipeline::last_rejected_at(conn, me, track.id)?.map(utc);
            pipeline::may_open(kind, open, held.map(|h| h.0), rejected, &policy, utc(now))
                .map_err(|e| Error::conflict("track", e.to_string()))?;
            let credential_id = match kind {
                Kind::Renewal => held.map(|h| h.1),
                Kind::Initial => None,
            };
            let new = store_pipeline::NewCase {
                person_id: me,
                track_id: track.id,
                kind,
                stage: Stage::Applied,
                credential_id,
            };
            let case =
                store_pipeline::insert_case(conn, &new, now).map_err(store::unique_as(|| {
                    Error::conflict("track", "a case in this track is already open")
                }))?;
            write_transition(
                conn,
                case.id,
                None,
                Stage::Applied,
                Some(me),
                Reason::Applied,
                now,
            )?;
            audit::record(
                conn,
                &audit::event(
                    &caller,
                    "case_apply",
                    Some(format!("case:{}", case.id)),
                    AuditOutcome::Ok,
                ),
            )?;
            advance_case(conn, case.id, &public_url, now)?;
            case_view(conn, case.id)
        })
        .await
}

// ----- what people see -----

/// One line of a case's timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimelineEntry {
    /// The stage before; null for the first.
    pub from: Option<Stage>,
    /// The stage after.
    pub to: Stage,
    /// Why (a stable code: applied, training_complete, retakes_exhausted …).
    pub reason: String,
    /// Who caused it; `None` when the system moved the case on evidence.
    pub actor: Option<String>,
    /// When (RFC 3339 UTC).
    pub at: DateTime<Utc>,
}

/// A certification case as its doctor (and the committee) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// The case's id.
    #[schema(value_type = i64)]
    pub id: CaseId,
    /// The doctor's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// A first certification or a renewal.
    pub kind: Kind,
    /// The track's key.
    pub track_key: String,
    /// The track's title.
    pub track_title: String,
    /// The stage it is at.
    pub stage: Stage,
    /// When it reached that stage (RFC 3339 UTC).
    pub stage_entered_at: DateTime<Utc>,
    /// When it was opened (RFC 3339 UTC).
    pub opened_at: DateTime<Utc>,
    /// When it was closed (certified, rejected) (RFC 3339 UTC); null while open.
    pub closed_at: Option<DateTime<Utc>>,
    /// Every transition, oldest first.
    pub timeline: Vec<TimelineEntry>,
    /// The stages still ahead, in order.
    pub ahead: Vec<Stage>,
    /// What the case waits for now, in a stable code (e.g. `training`,
    /// `exam`, `waiting_period`, `committee`, `eligibility:no_institution`).
    pub waiting_for: Option<String>,
    /// After a failed attempt: the first day a retake may be booked.
    pub retake_from: Option<DateTime<Utc>>,
    /// After a failed result at the current stage whose appeal period is
    /// still running: until when it may be appealed.
    pub appeal_until: Option<DateTime<Utc>>,
    /// The attempt of that result (its result page takes the appeal).
    pub appeal_attempt_id: Option<i64>,
    /// Attempts used and allowed at the current exam stage.
    pub attempts_used: u32,
    /// Attempts allowed at the current exam stage.
    pub attempts_allowed: u32,
    /// The credential it issued; null until certified.
    pub credential_number: Option<String>,
}

pub fn case_view(conn: &mut DbConn, case_id: CaseId) -> Result<CaseView> {
    let case = store_pipeline::find_case(conn, case_id)?.ok_or(Error::NotFound)?;
    let track = track_of(conn, &case)?;
    let policy = policy_of(&track);
    let kind = case.kind;
    let stage = case.stage;
    let now = store::now();
    let timeline = timeline_of(conn, case.id)?;
    let route = kind.route();
    let ahead = match route.iter().position(|s| *s == stage) {
        Some(i) => route.get(i + 1..).unwrap_or_default().to_vec(),
        None => Vec::new(),
    };
    let waiting = waiting_of(conn, &case, &track, &policy, stage, now)?;
    let credential_number = match case.credential_id {
        Some(id) => store_credentials::find_credential(conn, id)?.map(|c| c.number),
        None => None,
    };
    Ok(CaseView {
        id: case.id,
        person_id: case.person_id,
        kind,
        track_key: track.track_key.clone(),
        track_title: track.title.clone(),
        stage,
        stage_entered_at: utc(case.stage_entered_at),
        opened_at: utc(case.opened_at),
        closed_at: case.closed_at.map(utc),
        timeline,
        ahead,
        waiting_for: waiting.waiting_for,
        retake_from: waiting.retake_from,
        appeal_until: waiting.appeal_until,
        appeal_attempt_id: waiting.appeal_attempt_id,
        attempts_used: waiting.attempts_used,
        attempts_allowed: policy.stage_attempts,
        credential_number,
    })
}

/// Every transition of the case, oldest first, with who caused it.
fn timeline_of(conn: &mut DbConn, case_id: CaseId) -> Result<Vec<TimelineEntry>> {
    let mut timeline = Vec::new();
    for t in store_pipeline::transitions_of(conn, case_id)? {
        let actor = match t.actor_id {
            Some(id) => people::find(conn, id)?.map(|p| p.name),
            None => None,
        };
        timeline.push(TimelineEntry {
            from: t.from_stage,
            to: t.to_stage,
            reason: t.reason.as_str().to_owned(),
            actor,
            at: utc(t.at),
        });
    }
    Ok(timeline)
}

/// What a case waits for at its stage, with the dates and counts that say
/// more at an exam stage.
#[derive(Default)]
struct Waiting {
    waiting_for: Option<String>,
    retake_from: Option<DateTime<Utc>>,
    appeal_until: Option<DateTime<Utc>>,
    appeal_attempt_id: Option<i64>,
    attempts_used: u32,
}

fn waiting_of(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    policy: &Policy,
    stage: Stage,
    now: NaiveDateTime,
) -> Result<Waiting> {
    let waiting_for = match stage {
        Stage::Applied => eligibility_of(conn, case.person_id)?
            .err()
            .map(|e| format!("eligibility:{}", e.as_str())),
        Stage::Training => Some("training".to_owned()),
        Stage::WrittenExam | Stage::CaseAssessment | Stage::Reassessment => {
            return exam_stage_waiting(conn, case, track, policy, stage, now);
        }
        Stage::CommitteeReview if appeal_pending(conn, case, track)? => Some("appeal".to_owned()),
        Stage::CommitteeReview => Some("committee".to_owned()),
        Stage::Eligible | Stage::Certified | Stage::Rejected => None,
    };
    Ok(Waiting {
        waiting_for,
        ..Waiting::default()
    })
}

/// At an exam stage: an open appeal period of a failed result, attempts
/// used, and whether the case waits for an exam, a retake date, the
/// practical, credits or the appeal period.
fn exam_stage_waiting(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    policy: &Policy,
    stage: Stage,
    now: NaiveDateTime,
) -> Result<Waiting> {
    let mut waiting = Waiting::default();
    let exam_stage = stage.exam_stage().unwrap_or(ExamStage::Written);
    let results = stage_results(conn, case, track, exam_stage, now)?;
    if let Some(open) = results
        .iter()
        .filter(|r| !r.outcome.passed && utc(now) <= r.appeal_until)
        .max_by_key(|r| r.appeal_until)
    {
        waiting.appeal_until = Some(open.appeal_until);
        waiting.appeal_attempt_id = Some(open.attempt_id);
    }
    let outcomes: Vec<Outcome> = results.iter().map(|r| r.outcome).collect();
    waiting.attempts_used =
        u32::try_from(outcomes.iter().filter(|o| !o.passed).count()).unwrap_or(u32::MAX);
    waiting.waiting_for =
        match pipeline::may_register(Some(stage), exam_stage, &outcomes, policy, utc(now)) {
            Err(pipeline::RegistrationRefusal::Waiting { until }) => {
                waiting.retake_from = Some(until);
                Some("waiting_period".to_owned())
            }
            Err(pipeline::RegistrationRefusal::AlreadyPassed) if stage == Stage::CaseAssessment => {
                Some("practical".to_owned())
            }
            Err(pipeline::RegistrationRefusal::AlreadyPassed) => Some("credits".to_owned()),
            Err(pipeline::RegistrationRefusal::NoAttemptsLeft) => Some("appeal_period".to_owned()),
            _ => Some("exam".to_owned()),
        };
    Ok(waiting)
}

/// The caller's own cases, newest first.
pub async fn my_cases(ctx: &Ctx, caller: &Caller) -> Result<Vec<CaseView>> {
    require(ctx, caller, Permission::Certify).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .read(move |conn| {
            store_pipeline::cases_of(conn, me)?
                .into_iter()
                .map(|c| case_view(conn, c.id))
                .collect()
        })
        .await
}

/// One case: its doctor's own, or any for the committee and admins.
pub async fn case(ctx: &Ctx, caller: &Caller, case_id: CaseId) -> Result<CaseView> {
    let reader = caller.clone();
    let found = ctx
        .db
        .read(move |conn| {
            let Some(case) = store_pipeline::find_case(conn, case_id)? else {
                return Ok(None);
            };
            if !super::may_read(conn, &reader, Subject::Case, case.person_id)? {
                return Ok(None);
            }
            case_view(conn, case.id).map(Some)
        })
        .await;
    let target = format!("case:{case_id}");
    match super::audited(ctx, caller, "case_read", target, found).await? {
        Some(v) => Ok(v),
        None => refuse(ctx, caller, "case_read", format!("case:{case_id}")).await,
    }
}

/// A line of the list of every case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseLine {
    /// The case's id.
    #[schema(value_type = i64)]
    pub id: CaseId,
    /// The doctor's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// The doctor's name.
    pub doctor: String,
    /// The track's title.
    pub track_title: String,
    /// A first certification or a renewal.
    pub kind: Kind,
    /// The stage it is at.
    pub stage: Stage,
    /// When it reached that stage (RFC 3339 UTC).
    pub stage_entered_at: DateTime<Utc>,
    /// When it was opened (RFC 3339 UTC).
    pub opened_at: DateTime<Utc>,
}

/// Every case, newest first (committee and admins).
pub async fn cases(ctx: &Ctx, caller: &Caller, track_key: Option<String>) -> Result<Vec<CaseLine>> {
    require(ctx, caller, Permission::ReadCases).await?;
    ctx.db
        .read(move |conn| {
            let track_id = match track_key {
                Some(key) => Some(
                    store_training::find_track(conn, &key)?
                        .ok_or_else(|| Error::invalid("track", "no such track"))?
                        .id,
                ),
                None => None,
            };
            store_pipeline::all_cases(conn, track_id)?
                .into_iter()
                .map(|(c, doctor, track_title)| {
                    Ok(CaseLine {
                        id: c.id,
                        person_id: c.person_id,
                        doctor,
                        track_title,
                        kind: c.kind,
                        stage: c.stage,
                        stage_entered_at: utc(c.stage_entered_at),
                        opened_at: utc(c.opened_at),
                    })
                })
                .collect()
        })
        .await
}

/// The funnel of a track: how many cases reached each stage, are there now,
/// moved on and were rejected there.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// The track's key.
    pub track_key: String,
    /// The track's title.
    pub track_title: String,
    /// First certifications, one row per stage in order.
    pub initial: Vec<pipeline::FunnelRow>,
    /// Renewals, one row per stage in order.
    pub renewal: Vec<pipeline::FunnelRow>,
}

pub async fn funnel(ctx: &Ctx, caller: &Caller, track_key: String) -> Result<Funnel> {
    require(ctx, caller, Permission::ReadCases).await?;
    ctx.db
        .read(move |conn| {
            let track = store_training::find_track(conn, &track_key)?.ok_or(Error::NotFound)?;
            let rows = |conn: &mut DbConn, kind: Kind| -> Result<Vec<pipeline::FunnelRow>> {
                let transitions = store_pipeline::track_transitions(conn, track.id, kind)?;
                Ok(pipeline::funnel(kind, &transitions))
            };
            Ok(Funnel {
                initial: rows(conn, Kind::Initial)?,
                renewal: rows(conn, Kind::Renewal)?,
                track_key: track.track_key,
                track_title: track.title,
            })
        })
        .await
}

/// The keys of every track (for the funnel charts).
pub async fn track_keys(ctx: &Ctx, caller: &Caller) -> Result<Vec<String>> {
    require(ctx, caller, Permission::ReadCases).await?;
    ctx.db
        .read(|conn| {
            Ok(store_training::list_tracks(conn)?
                .into_iter()
                .map(|t| t.track_key)
                .collect())
        })
        .await
}

// ----- exam registration -----

/// The pipeline's rule for registering a person for an exam: their open
/// case in the exam's track must be at the exam's stage, with attempts left
/// and no waiting period running.
pub fn check_registration(
    conn: &mut DbConn,
    person_id: PersonId,
    exam: &store::exams::ExamRow,
) -> Result<()> {
    let exam_stage = exam.stage;
    let track = store_training::find_track(conn, &exam.track)?
        .ok_or_else(|| Error::conflict("exam", "the exam's track does not exist"))?;
    let policy = policy_of(&track);
    let now = store::now();
    let case = store_pipeline::open_case(conn, person_id, track.id)?;
    let (stage, outcomes) = match &case {
        Some(c) => (
            Some(c.stage),
            exam_outcomes(conn, c, &track, exam_stage, now)?,
        ),
        None => (None, Vec::new()),
    };
    pipeline::may_register(stage, exam_stage, &outcomes, &policy, utc(now))
        .map_err(|e| Error::conflict("case", e.to_string()))
}
