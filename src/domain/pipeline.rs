//! The certification pipeline: one doctor in one track moves through fixed
//! stages, each opened only by its evidence, and none can be skipped.
//!
//! ```text
//! initial: applied -> eligible -> training -> written exam -> case assessment -> committee review -> certified
//! renewal: applied -> eligible -> reassessment -> committee review -> certified
//! any open stage -> rejected
//! ```
//!
//! Everything here is a plain function of the case's stage, the evidence the
//! store gathered and the track's policy. The service applies what `next`
//! returns, one step at a time, and every write goes through
//! `check_transition`, so no page or API call can move a case any other way.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::grading::AppealRule;
use crate::domain::ids::CaseId;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Waiting for the eligibility check (licence, alliance institution).
    Applied,
    /// Eligible; the track's training opens next.
    Eligible,
    /// Studying the track's required courses and workshops.
    Training,
    /// Sitting the written exam.
    WrittenExam,
    /// The case-analysis exam, double-marked (and a practical station where
    /// the track requires one).
    CaseAssessment,
    /// Renewal: continuing-education credits and a periodic re-assessment.
    Reassessment,
    /// Evidence complete: the committee votes.
    CommitteeReview,
    Certified,
    Rejected,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Applied,
        Stage::Eligible,
        Stage::Training,
        Stage::WrittenExam,
        Stage::CaseAssessment,
        Stage::Reassessment,
        Stage::CommitteeReview,
        Stage::Certified,
        Stage::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Applied => "applied",
            Stage::Eligible => "eligible",
            Stage::Training => "training",
            Stage::WrittenExam => "written_exam",
            Stage::CaseAssessment => "case_assessment",
            Stage::Reassessment => "reassessment",
            Stage::CommitteeReview => "committee_review",
            Stage::Certified => "certified",
            Stage::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A closed case never moves again.
    pub fn is_closed(self) -> bool {
        matches!(self, Stage::Certified | Stage::Rejected)
    }

    /// The exams that serve this stage, if it is an exam stage.
    pub fn exam_stage(self) -> Option<ExamStage> {
        ExamStage::ALL.into_iter().find(|e| e.stage() == self)
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A first certification, or the renewal of a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Initial,
    Renewal,
}

const INITIAL_ROUTE: [Stage; 7] = [
    Stage::Applied,
    Stage::Eligible,
    Stage::Training,
    Stage::WrittenExam,
    Stage::CaseAssessment,
    Stage::CommitteeReview,
    Stage::Certified,
];

const RENEWAL_ROUTE: [Stage; 5] = [
    Stage::Applied,
    Stage::Eligible,
    Stage::Reassessment,
    Stage::CommitteeReview,
    Stage::Certified,
];

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Initial, Kind::Renewal];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Initial => "initial",
            Kind::Renewal => "renewal",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The stages of a successful case, in order.
    pub fn route(self) -> &'static [Stage] {
        match self {
            Kind::Initial => &INITIAL_ROUTE,
            Kind::Renewal => &RENEWAL_ROUTE,
        }
    }

    /// The stage after `stage` on this route.
    pub fn after(self, stage: Stage) -> Option<Stage> {
        let route = self.route();
        let at = route.iter().position(|s| *s == stage)?;
        route.get(at + 1).copied()
    }

    /// Whether `to` is an exam stage behind `from` on this route.
    pub fn behind(self, from: Stage, to: Stage) -> bool {
        let route = self.route();
        let at = |s: Stage| route.iter().position(|r| *r == s);
        to.exam_stage().is_some() && matches!((at(to), at(from)), (Some(t), Some(f)) if t < f)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which pipeline stage an exam serves (stored on the exam).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExamStage {
    Written,
    Case,
    Renewal,
}

impl ExamStage {
    pub const ALL: [ExamStage; 3] = [ExamStage::Written, ExamStage::Case, ExamStage::Renewal];

    pub fn as_str(self) -> &'static str {
        match self {
            ExamStage::Written => "written",
            ExamStage::Case => "case",
            ExamStage::Renewal => "renewal",
        }
    }

    pub fn parse(s: &str) -> Option<ExamStage> {
        ExamStage::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn stage(self) -> Stage {
        match self {
            ExamStage::Written => Stage::WrittenExam,
            ExamStage::Case => Stage::CaseAssessment,
            ExamStage::Renewal => Stage::Reassessment,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {kind} case cannot move from {from} to {to}")]
pub struct IllegalTransition {
    pub kind: Kind,
    pub from: Stage,
    pub to: Stage,
}

/// The only moves a case can make: one step along its route, to rejected
/// from any open stage, or back to an exam stage behind it on its route
/// (when a result it passed on no longer passes: see [`fall_back`]).
/// Closed cases never move.
pub fn check_transition(kind: Kind, from: Stage, to: Stage) -> Result<(), IllegalTransition> {
    let legal = !from.is_closed()
        && (to == Stage::Rejected || kind.after(from) == Some(to) || kind.behind(from, to));
    if legal {
        Ok(())
    } else {
        Err(IllegalTransition { kind, from, to })
    }
}

/// A track's policy, as the committee set it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Attempts at each exam stage (and at the practical station).
    pub stage_attempts: u32,
    /// Time from a failed attempt's result to the next registration.
    pub retake_wait: Duration,
    /// Time from a rejected case to the next case in the same track.
    pub cooloff: Duration,
    pub requires_practical: bool,
    /// Committee votes a decision needs.
    pub quorum: u32,
    /// What an appeal's re-mark does to the mark.
    pub appeal_rule: AppealRule,
}

/// One result that counts for a stage: a released exam result or a
/// practical station's result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub passed: bool,
    /// When the result became known (released, or recorded).
    pub at: DateTime<Utc>,
    /// No appeal can change it any more (the appeal period is over and no
    /// appeal is open). Only final failures can close a case.
    pub settled: bool,
}

/// Why a doctor is not eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    AccountInactive,
    NoPractisingCertificate,
    NoInstitution,
    NotAllianceInstitution,
}

impl Ineligible {
    pub fn as_str(self) -> &'static str {
        match self {
            Ineligible::AccountInactive => "account_inactive",
            Ineligible::NoPractisingCertificate => "no_practising_certificate",
            Ineligible::NoInstitution => "no_institution",
            Ineligible::NotAllianceInstitution => "not_alliance_institution",
        }
    }
}

/// Eligibility: an active account, a practising-certificate number, at an
/// alliance member institution.
pub fn eligibility(
    active: bool,
    practising_certificate: Option<&str>,
    institution_alliance_member: Option<bool>,
) -> Result<(), Ineligible> {
    if !active {
        return Err(Ineligible::AccountInactive);
    }
    if practising_certificate.is_none_or(|c| c.trim().is_empty()) {
        return Err(Ineligible::NoPractisingCertificate);
    }
    match institution_alliance_member {
        None => Err(Ineligible::NoInstitution),
        Some(false) => Err(Ineligible::NotAllianceInstitution),
        Some(true) => Ok(()),
    }
}

/// The committee's decision on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Rejected,
}

/// What the store found for a case's current stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub eligibility: Result<(), Ineligible>,
    pub training_complete: bool,
    /// Results of the current stage's exams since the stage began, oldest first.
    pub exams: Vec<Outcome>,
    /// Practical station results since the stage began, oldest first.
    pub practicals: Vec<Outcome>,
    /// Renewal: the continuing-education credits are earned.
    pub renewal_credits: bool,
    pub decision: Option<Decision>,
    /// Committee review: an appeal against a result the case stands on is
    /// still open. The decision waits for it, so that a credential is never
    /// issued on a result an appeal may still take away.
    pub appeal_pending: bool,
}

impl Evidence {
    /// Evidence of nothing yet (for an applied case, say).
    pub fn none(eligibility: Result<(), Ineligible>) -> Evidence {
        Evidence {
            eligibility,
            training_complete: false,
            exams: Vec::new(),
            practicals: Vec::new(),
            renewal_credits: false,
            decision: None,
            appeal_pending: false,
        }
    }
}

/// Why a case moved: stored with the transition and shown on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Applied,
    EligibilityConfirmed,
    TrainingOpened,
    ReassessmentOpened,
    TrainingComplete,
    WrittenExamPassed,
    AssessmentPassed,
    RenewalRequirementsMet,
    CommitteeApproved,
    CommitteeRejected,
    RetakesExhausted,
    /// A result the case had passed a stage on changed (an appeal's re-mark,
    /// a regrade) and the stage no longer passes: the case is back there.
    PassWithdrawn,
}

impl Reason {
    pub const ALL: [Reason; 12] = [
        Reason::Applied,
        Reason::EligibilityConfirmed,
        Reason::TrainingOpened,
        Reason::ReassessmentOpened,
        Reason::TrainingComplete,
        Reason::WrittenExamPassed,
        Reason::AssessmentPassed,
        Reason::RenewalRequirementsMet,
        Reason::CommitteeApproved,
        Reason::CommitteeRejected,
        Reason::RetakesExhausted,
        Reason::PassWithdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Applied => "applied",
            Reason::EligibilityConfirmed => "eligibility_confirmed",
            Reason::TrainingOpened => "training_opened",
            Reason::ReassessmentOpened => "reassessment_opened",
            Reason::TrainingComplete => "training_complete",
            Reason::WrittenExamPassed => "written_exam_passed",
            Reason::AssessmentPassed => "assessment_passed",
            Reason::RenewalRequirementsMet => "renewal_requirements_met",
            Reason::CommitteeApproved => "committee_approved",
            Reason::CommitteeRejected => "committee_rejected",
            Reason::RetakesExhausted => "retakes_exhausted",
            Reason::PassWithdrawn => "pass_withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Where the results of an exam stage leave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    Passed,
    /// Still open: no pass yet, attempts remain (or a failure may still be
    /// changed by an appeal).
    Open,
    /// Every attempt failed and no appeal can change it.
    Exhausted,
}

/// A pass at any attempt passes the stage; the stage is exhausted once as
/// many settled failures as the policy allows are in.
pub fn stage_outcome(results: &[Outcome], policy: &Policy) -> StageOutcome {
    if results.iter().any(|r| r.passed) {
        return StageOutcome::Passed;
    }
    let settled_failures = results.iter().filter(|r| !r.passed && r.settled).count();
    if u64::try_from(settled_failures).unwrap_or(u64::MAX) >= u64::from(policy.stage_attempts) {
        StageOutcome::Exhausted
    } else {
        StageOutcome::Open
    }
}

/// The next move of a case given its evidence, or `None` while it waits.
/// The service applies it and asks again until the case waits.
pub fn next(kind: Kind, stage: Stage, ev: &Evidence, policy: &Policy) -> Option<(Stage, Reason)> {
    let step = match stage {
        Stage::Applied => ev
            .eligibility
            .is_ok()
            .then_some((Stage::Eligible, Reason::EligibilityConfirmed)),
        Stage::Eligible => Some(match kind {
            Kind::Initial => (Stage::Training, Reason::TrainingOpened),
            Kind::Renewal => (Stage::Reassessment, Reason::ReassessmentOpened),
        }),
        Stage::Training => ev
            .training_complete
            .then_some((Stage::WrittenExam, Reason::TrainingComplete)),
        Stage::WrittenExam => match stage_outcome(&ev.exams, policy) {
            StageOutcome::Passed => Some((Stage::CaseAssessment, Reason::WrittenExamPassed)),
            StageOutcome::Exhausted => Some((Stage::Rejected, Reason::RetakesExhausted)),
            StageOutcome::Open => None,
        },
        Stage::CaseAssessment => {
            let exam = stage_outcome(&ev.exams, policy);
            let practical = if policy.requires_practical {
                stage_outcome(&ev.practicals, policy)
            } else {
                StageOutcome::Passed
            };
            if exam == StageOutcome::Exhausted || practical == StageOutcome::Exhausted {
                Some((Stage::Rejected, Reason::RetakesExhausted))
            } else if exam == StageOutcome::Passed && practical == StageOutcome::Passed {
                Some((Stage::CommitteeReview, Reason::AssessmentPassed))
            } else {
                None
            }
        }
        Stage::Reassessment => match stage_outcome(&ev.exams, policy) {
            StageOutcome::Exhausted => Some((Stage::Rejected, Reason::RetakesExhausted)),
            StageOutcome::Passed if ev.renewal_credits => {
                Some((Stage::CommitteeReview, Reason::RenewalRequirementsMet))
            }
            _ => None,
        },
        Stage::CommitteeReview if ev.appeal_pending => None,
        Stage::CommitteeReview => ev.decision.map(|d| match d {
            Decision::Approved => (Stage::Certified, Reason::CommitteeApproved),
            Decision::Rejected => (Stage::Rejected, Reason::CommitteeRejected),
        }),
        Stage::Certified | Stage::Rejected => None,
    };
    // Every move `next` proposes is a legal one; a rule that proposed an
    // illegal one would be a bug here, so refuse it rather than write it.
    step.filter(|(to, _)| check_transition(kind, stage, *to).is_ok())
}

/// Whether an exam stage a case has left still passes on its results
/// (`evidence` gathered as for that stage): `None` when nothing counted
/// there (a case put at a later stage by hand, say), so there is no pass to
/// withdraw; otherwise whether its results still hold the pass that moved
/// the case on. An appeal's re-mark or a regrade can turn that pass into a
/// failure.
pub fn still_passed(stage: Stage, ev: &Evidence, policy: &Policy) -> Option<bool> {
    let part = |results: &[Outcome]| {
        (!results.is_empty()).then(|| stage_outcome(results, policy) == StageOutcome::Passed)
    };
    match stage {
        Stage::WrittenExam | Stage::Reassessment => part(&ev.exams),
        Stage::CaseAssessment => {
            let exam = part(&ev.exams);
            let practical = if policy.requires_practical {
                part(&ev.practicals)
            } else {
                None
            };
            match (exam, practical) {
                (None, None) => None,
                (e, p) => Some(e != Some(false) && p != Some(false)),
            }
        }
        _ => None,
    }
}

/// The pipeline follows the final result: a case stands past an exam stage
/// only while that stage still passes. `standing` says, for exam stages
/// behind the case's stage, whether each still passes ([`still_passed`]).
/// When one no longer does, the case goes back to the earliest such stage,
/// where the track's retake policy applies as to any failure (attempts
/// used, waiting period, rejection once the failures are settled).
pub fn fall_back(
    kind: Kind,
    stage: Stage,
    standing: &[(Stage, Option<bool>)],
) -> Option<(Stage, Reason)> {
    if stage.is_closed() {
        return None;
    }
    kind.route()
        .iter()
        .take_while(|s| **s != stage)
        .find(|s| standing.contains(&(**s, Some(false))))
        .map(|s| (*s, Reason::PassWithdrawn))
        .filter(|(to, _)| check_transition(kind, stage, *to).is_ok())
}

/// Why a doctor may not register for an exam now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRefusal {
    #[error("you have no open certification case in this track: apply first")]
    NoCase,
    #[error("this exam is for the {needed} stage and your case is at {at}")]
    WrongStage { at: Stage, needed: Stage },
    #[error("you have already passed this stage")]
    AlreadyPassed,
    #[error("every attempt the track allows at this stage has been used")]
    NoAttemptsLeft,
    #[error("after a failed attempt you may register again from {until}")]
    Waiting { until: DateTime<Utc> },
}

/// Exam registration through the pipeline: only a case at the exam's stage,
/// with attempts left and the waiting period after its last failure over.
pub fn may_register(
    case_stage: Option<Stage>,
    exam: ExamStage,
    results: &[Outcome],
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), RegistrationRefusal> {
    let at = case_stage.ok_or(RegistrationRefusal::NoCase)?;
    let needed = exam.stage();
    if at != needed {
        return Err(RegistrationRefusal::WrongStage { at, needed });
    }
    if results.iter().any(|r| r.passed) {
        return Err(RegistrationRefusal::AlreadyPassed);
    }
    // Unsettled failures count here: a pending appeal does not buy an
    // extra attempt.
    let failures: Vec<&Outcome> = results.iter().filter(|r| !r.passed).collect();
    if u64::try_from(failures.len()).unwrap_or(u64::MAX) >= u64::from(policy.stage_attempts) {
        return Err(RegistrationRefusal::NoAttemptsLeft);
    }
    if let Some(last) = failures.iter().map(|r| r.at).max() {
        let until = last + policy.retake_wait;
        if now < until {
            return Err(RegistrationRefusal::Waiting { until });
        }
    }
    Ok(())
}

/// The credential a doctor already holds in a track, as it reads now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Active,
    Suspended,
    Expired,
    Revoked,
}

/// Why a new case may not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenRefusal {
    #[error("a case in this track is already open")]
    AlreadyOpen,
    #[error("you already hold this track's credential: renew it instead")]
    AlreadyCertified,
    #[error("there is no credential in this track to renew")]
    NothingToRenew,
    #[error("a suspended credential cannot be renewed until it is reinstated")]
    Suspended,
    #[error("a revoked credential is final")]
    Revoked,
    #[error("after a rejected case a new one may start from {until}")]
    CoolingOff { until: DateTime<Utc> },
}

/// Whether a doctor may open a case of this kind in a track now.
pub fn may_open(
    kind: Kind,
    open_case: bool,
    held: Option<Held>,
    last_rejected_at: Option<DateTime<Utc>>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<(), OpenRefusal> {
    if open_case {
        return Err(OpenRefusal::AlreadyOpen);
    }
    match (kind, held) {
        (_, Some(Held::Revoked)) => return Err(OpenRefusal::Revoked),
        (Kind::Initial, Some(_)) => return Err(OpenRefusal::AlreadyCertified),
        (Kind::Renewal, None) => return Err(OpenRefusal::NothingToRenew),
        (Kind::Renewal, Some(Held::Suspended)) => return Err(OpenRefusal::Suspended),
        (Kind::Initial, None) | (Kind::Renewal, Some(Held::Active | Held::Expired)) => {}
    }
    if let Some(rejected) = last_rejected_at {
        let until = rejected + policy.cooloff;
        if now < until {
            return Err(OpenRefusal::CoolingOff { until });
        }
    }
    Ok(())
}

/// One stage of the funnel chart.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FunnelRow {
    pub stage: Stage,
    /// Cases that ever reached the stage.
    pub reached: u32,
    /// Cases at the stage now.
    pub current: u32,
    /// Cases that moved on from it.
    pub passed: u32,
    /// Cases rejected at it.
    pub rejected: u32,
    /// passed / (passed + rejected), in whole percent; `None` before any
    /// case has left the stage.
    pub pass_rate: Option<u32>,
}

/// The funnel of a track's cases of one kind from their transitions
/// (`case id`, `from`, `to`); a case's current stage is its last `to`. A
/// case counts as having passed (or been rejected at) a stage by its last
/// departure from it; a move back to a stage (a withdrawn pass) takes back
/// the pass it had counted there.
pub fn funnel(kind: Kind, transitions: &[(CaseId, Option<Stage>, Stage)]) -> Vec<FunnelRow> {
    use std::collections::{HashMap, HashSet};
    let mut reached: HashMap<Stage, HashSet<CaseId>> = HashMap::new();
    // (case, stage) -> rejected there (true) or passed it (false).
    let mut left: HashMap<(CaseId, Stage), bool> = HashMap::new();
    let mut current: HashMap<CaseId, Stage> = HashMap::new();
    for (case, from, to) in transitions {
        reached.entry(*to).or_default().insert(*case);
        if let Some(from) = from {
            if kind.behind(*from, *to) {
                left.remove(&(*case, *to));
            } else {
                left.insert((*case, *from), *to == Stage::Rejected);
            }
        }
        current.insert(*case, *to);
    }
    kind.route()
        .iter()
        .map(|stage| {
            let count = |rejected: bool| {
                count_u32(
                    left.iter()
                        .filter(|((_, s), r)| s == stage && **r == rejected)
                        .count(),
                )
            };
            let p = count(false);
            let r = count(true);
            FunnelRow {
                stage: *stage,
                reached: reached.get(stage).map_or(0, |s| count_u32(s.len())),
                current: count_u32(current.values().filter(|s| *s == stage).count()),
                passed: p,
                rejected: r,
                pass_rate: (p + r > 0).then(|| p * 100 / (p + r)),
            }
        })
        .collect()
}

/// A count of cases as the funnel shows it; beyond u32 it saturates.
fn count_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;
    use chrono::TimeZone;

    fn policy() -> Policy {
        Policy {
            stage_attempts: 2,
            retake_wait: Duration::days(30),
            cooloff: Duration::days(180),
            requires_practical: false,
            quorum: 3,
            appeal_rule: AppealRule::RemarkStands,
        }
    }

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0)
            .single()
            .unwrap()
    }

    fn pass(day: u32) -> Outcome {
        Outcome {
            passed: true,
            at: t(day),
            settled: true,
        }
    }

    fn fail(day: u32, settled: bool) -> Outcome {
        Outcome {
            passed: false,
            at: t(day),
            settled,
        }
    }

    fn ready() -> Evidence {
        Evidence::none(Ok(()))
    }

    #[test]
    fn every_pair_of_stages_is_legal_exactly_when_the_route_allows_it() {
        for kind in Kind::ALL {
            for from in Stage::ALL {
                for to in Stage::ALL {
                    let route = kind.route();
                    let step = route
                        .iter()
                        .position(|s| *s == from)
                        .and_then(|i| route.get(i + 1))
                        == Some(&to);
                    let back = to.exam_stage().is_some()
                        && matches!(
                            (
                                route.iter().position(|s| *s == to),
                                route.iter().position(|s| *s == from)
                            ),
                            (Some(t), Some(f)) if t < f
                        );
                    let expected = !from.is_closed() && (step || back || to == Stage::Rejected);
                    assert_eq!(
                        check_transition(kind, from, to).is_ok(),
                        expected,
                        "{kind}: {from} -> {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn no_stage_can_be_skipped_and_closed_cases_never_move() {
        let k = Kind::Initial;
        assert!(check_transition(k, Stage::Applied, Stage::Training).is_err());
        assert!(check_transition(k, Stage::Training, Stage::CaseAssessment).is_err());
        assert!(check_transition(k, Stage::WrittenExam, Stage::CommitteeReview).is_err());
        assert!(check_transition(k, Stage::CaseAssessment, Stage::Certified).is_err());
        assert!(check_transition(k, Stage::Applied, Stage::Certified).is_err());
        assert!(check_transition(k, Stage::Training, Stage::Reassessment).is_err());
        assert!(check_transition(Kind::Renewal, Stage::Eligible, Stage::Training).is_err());
        assert!(check_transition(k, Stage::Certified, Stage::Rejected).is_err());
        assert!(check_transition(k, Stage::Rejected, Stage::Applied).is_err());
        assert!(check_transition(k, Stage::WrittenExam, Stage::WrittenExam).is_err());
        // Back only to an exam stage behind the case, never to another one.
        assert!(check_transition(k, Stage::CaseAssessment, Stage::WrittenExam).is_ok());
        assert!(check_transition(k, Stage::CommitteeReview, Stage::WrittenExam).is_ok());
        assert!(check_transition(k, Stage::CaseAssessment, Stage::Training).is_err());
        assert!(check_transition(k, Stage::WrittenExam, Stage::CaseAssessment).is_ok());
        assert!(check_transition(k, Stage::Certified, Stage::WrittenExam).is_err());
        assert!(
            check_transition(Kind::Renewal, Stage::CommitteeReview, Stage::WrittenExam).is_err()
        );
        assert!(
            check_transition(Kind::Renewal, Stage::CommitteeReview, Stage::Reassessment).is_ok()
        );
        let err = check_transition(k, Stage::Applied, Stage::Certified).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a initial case cannot move from applied to certified"
        );
    }

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        for e in ExamStage::ALL {
            assert_eq!(ExamStage::parse(e.as_str()), Some(e));
            assert_eq!(e.stage().exam_stage(), Some(e));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Stage::parse("certifed"), None);
        assert_eq!(Stage::Training.exam_stage(), None);
    }

    #[test]
    fn eligibility_needs_an_active_licensed_doctor_of_an_alliance_institution() {
        assert_eq!(eligibility(true, Some("110"), Some(true)), Ok(()));
        assert_eq!(
            eligibility(false, Some("110"), Some(true)),
            Err(Ineligible::AccountInactive)
        );
        assert_eq!(
            eligibility(true, None, Some(true)),
            Err(Ineligible::NoPractisingCertificate)
        );
        assert_eq!(
            eligibility(true, Some("  "), Some(true)),
            Err(Ineligible::NoPractisingCertificate)
        );
        assert_eq!(
            eligibility(true, Some("110"), None),
            Err(Ineligible::NoInstitution)
        );
        assert_eq!(
            eligibility(true, Some("110"), Some(false)),
            Err(Ineligible::NotAllianceInstitution)
        );
    }

    #[test]
    fn an_initial_case_walks_the_whole_route_only_with_its_evidence() {
        let p = policy();
        let k = Kind::Initial;
        // Not eligible: it waits.
        let ev = Evidence::none(Err(Ineligible::NoPractisingCertificate));
        assert_eq!(next(k, Stage::Applied, &ev, &p), None);
        let mut ev = ready();
        assert_eq!(
            next(k, Stage::Applied, &ev, &p),
            Some((Stage::Eligible, Reason::EligibilityConfirmed))
        );
        assert_eq!(
            next(k, Stage::Eligible, &ev, &p),
            Some((Stage::Training, Reason::TrainingOpened))
        );
        assert_eq!(next(k, Stage::Training, &ev, &p), None);
        ev.training_complete = true;
        assert_eq!(
            next(k, Stage::Training, &ev, &p),
            Some((Stage::WrittenExam, Reason::TrainingComplete))
        );
        assert_eq!(next(k, Stage::WrittenExam, &ev, &p), None);
        ev.exams = vec![fail(1, true), pass(2)];
        assert_eq!(
            next(k, Stage::WrittenExam, &ev, &p),
            Some((Stage::CaseAssessment, Reason::WrittenExamPassed))
        );
        ev.exams = vec![pass(3)];
        assert_eq!(
            next(k, Stage::CaseAssessment, &ev, &p),
            Some((Stage::CommitteeReview, Reason::AssessmentPassed))
        );
        assert_eq!(next(k, Stage::CommitteeReview, &ev, &p), None);
        ev.decision = Some(Decision::Approved);
        assert_eq!(
            next(k, Stage::CommitteeReview, &ev, &p),
            Some((Stage::Certified, Reason::CommitteeApproved))
        );
        ev.decision = Some(Decision::Rejected);
        assert_eq!(
            next(k, Stage::CommitteeReview, &ev, &p),
            Some((Stage::Rejected, Reason::CommitteeRejected))
        );
        assert_eq!(next(k, Stage::Certified, &ev, &p), None);
        assert_eq!(next(k, Stage::Rejected, &ev, &p), None);
    }

    #[test]
    fn evidence_of_a_later_stage_does_not_move_an_earlier_one() {
        let p = policy();
        let mut ev = ready();
        ev.exams = vec![pass(1)];
        ev.decision = Some(Decision::Approved);
        ev.renewal_credits = true;
        // Training is not complete: a passed exam and an approval change nothing.
        assert_eq!(next(Kind::Initial, Stage::Training, &ev, &p), None);
        // Following `next` from applied can only walk the route one step at a time.
        let mut stage = Stage::Applied;
        let mut seen = vec![stage];
        while let Some((to, _)) = next(Kind::Initial, stage, &ev, &p) {
            stage = to;
            seen.push(stage);
        }
        assert_eq!(seen, vec![Stage::Applied, Stage::Eligible, Stage::Training]);
    }

    #[test]
    fn the_case_assessment_needs_the_practical_when_the_track_requires_it() {
        let mut p = policy();
        p.requires_practical = true;
        let mut ev = ready();
        ev.exams = vec![pass(1)];
        assert_eq!(next(Kind::Initial, Stage::CaseAssessment, &ev, &p), None);
        ev.practicals = vec![fail(2, true)];
        assert_eq!(next(Kind::Initial, Stage::CaseAssessment, &ev, &p), None);
        ev.practicals.push(pass(3));
        assert_eq!(
            next(Kind::Initial, Stage::CaseAssessment, &ev, &p),
            Some((Stage::CommitteeReview, Reason::AssessmentPassed))
        );
        // Two settled practical failures close the case even with a passed exam.
        ev.practicals = vec![fail(2, true), fail(3, true)];
        assert_eq!(
            next(Kind::Initial, Stage::CaseAssessment, &ev, &p),
            Some((Stage::Rejected, Reason::RetakesExhausted))
        );
        // A passed practical does not stand in for the exam.
        ev.exams = vec![];
        ev.practicals = vec![pass(3)];
        assert_eq!(next(Kind::Initial, Stage::CaseAssessment, &ev, &p), None);
    }

    #[test]
    fn failures_close_a_case_only_when_settled_and_exhausted() {
        let p = policy();
        let mut ev = ready();
        ev.exams = vec![fail(1, true)];
        assert_eq!(next(Kind::Initial, Stage::WrittenExam, &ev, &p), None);
        // The second failure may still be changed by an appeal: wait.
        ev.exams = vec![fail(1, true), fail(2, false)];
        assert_eq!(next(Kind::Initial, Stage::WrittenExam, &ev, &p), None);
        ev.exams = vec![fail(1, true), fail(2, true)];
        assert_eq!(
            next(Kind::Initial, Stage::WrittenExam, &ev, &p),
            Some((Stage::Rejected, Reason::RetakesExhausted))
        );
        // An appeal that turns the failure into a pass advances instead.
        ev.exams = vec![fail(1, true), pass(2)];
        assert_eq!(
            next(Kind::Initial, Stage::WrittenExam, &ev, &p),
            Some((Stage::CaseAssessment, Reason::WrittenExamPassed))
        );
        assert_eq!(stage_outcome(&[], &p), StageOutcome::Open);
    }

    #[test]
    fn a_renewal_needs_credits_and_the_reassessment() {
        let p = policy();
        let k = Kind::Renewal;
        let mut ev = ready();
        assert_eq!(
            next(k, Stage::Eligible, &ev, &p),
            Some((Stage::Reassessment, Reason::ReassessmentOpened))
        );
        ev.exams = vec![pass(1)];
        assert_eq!(next(k, Stage::Reassessment, &ev, &p), None, "no credits");
        ev.renewal_credits = true;
        ev.exams = vec![];
        assert_eq!(next(k, Stage::Reassessment, &ev, &p), None, "no exam");
        ev.exams = vec![pass(1)];
        assert_eq!(
            next(k, Stage::Reassessment, &ev, &p),
            Some((Stage::CommitteeReview, Reason::RenewalRequirementsMet))
        );
        ev.exams = vec![fail(1, true), fail(2, true)];
        assert_eq!(
            next(k, Stage::Reassessment, &ev, &p),
            Some((Stage::Rejected, Reason::RetakesExhausted))
        );
        // A renewal has no training stage, whatever the evidence.
        ev.training_complete = true;
        assert_eq!(next(k, Stage::Training, &ev, &p), None);
        assert_eq!(next(k, Stage::WrittenExam, &ready(), &p), None);
    }

    #[test]
    fn a_withdrawn_pass_sends_the_case_back_to_its_stage() {
        let p = policy();
        let k = Kind::Initial;
        let mut ev = ready();
        // Nothing counted at a stage: no pass to withdraw (a case put at a
        // stage by hand), and nothing moves.
        assert_eq!(still_passed(Stage::WrittenExam, &ev, &p), None);
        ev.exams = vec![pass(1)];
        assert_eq!(still_passed(Stage::WrittenExam, &ev, &p), Some(true));
        // The re-mark turned the only pass into a failure.
        ev.exams = vec![fail(1, false)];
        assert_eq!(still_passed(Stage::WrittenExam, &ev, &p), Some(false));
        // An earlier failure and a later pass still pass.
        ev.exams = vec![fail(1, true), pass(2)];
        assert_eq!(still_passed(Stage::WrittenExam, &ev, &p), Some(true));
        assert_eq!(still_passed(Stage::Training, &ev, &p), None);

        let standing = [
            (Stage::WrittenExam, Some(false)),
            (Stage::CaseAssessment, Some(true)),
        ];
        for at in [Stage::CaseAssessment, Stage::CommitteeReview] {
            assert_eq!(
                fall_back(k, at, &standing),
                Some((Stage::WrittenExam, Reason::PassWithdrawn)),
                "{at}"
            );
        }
        // The earliest stage that no longer passes is where it goes.
        let both = [
            (Stage::WrittenExam, Some(false)),
            (Stage::CaseAssessment, Some(false)),
        ];
        assert_eq!(
            fall_back(k, Stage::CommitteeReview, &both),
            Some((Stage::WrittenExam, Reason::PassWithdrawn))
        );
        // The case-assessment pass withdrawn, the written one standing.
        let case_only = [
            (Stage::WrittenExam, Some(true)),
            (Stage::CaseAssessment, Some(false)),
        ];
        assert_eq!(
            fall_back(k, Stage::CommitteeReview, &case_only),
            Some((Stage::CaseAssessment, Reason::PassWithdrawn))
        );
        // A stage's own result, or one ahead of it, never moves it back.
        assert_eq!(fall_back(k, Stage::WrittenExam, &standing), None);
        assert_eq!(
            fall_back(
                k,
                Stage::CaseAssessment,
                &[(Stage::CaseAssessment, Some(false))]
            ),
            None
        );
        // Still passing, or nothing counted: it stays.
        assert_eq!(
            fall_back(
                k,
                Stage::CommitteeReview,
                &[
                    (Stage::WrittenExam, Some(true)),
                    (Stage::CaseAssessment, None)
                ]
            ),
            None
        );
        // Closed cases never move.
        assert_eq!(fall_back(k, Stage::Certified, &standing), None);
        // A renewal goes back to its re-assessment.
        assert_eq!(
            fall_back(
                Kind::Renewal,
                Stage::CommitteeReview,
                &[(Stage::Reassessment, Some(false))]
            ),
            Some((Stage::Reassessment, Reason::PassWithdrawn))
        );
        // Back at the written stage, the retake policy applies: the failure
        // counts, and once settled and exhausted the case is rejected.
        let mut at_written = ready();
        at_written.exams = vec![fail(1, true), fail(2, true)];
        assert_eq!(
            next(k, Stage::WrittenExam, &at_written, &p),
            Some((Stage::Rejected, Reason::RetakesExhausted))
        );
    }

    #[test]
    fn the_case_assessment_stands_on_both_its_exam_and_its_practical() {
        let mut p = policy();
        p.requires_practical = true;
        let mut ev = ready();
        ev.exams = vec![pass(1)];
        ev.practicals = vec![pass(2)];
        assert_eq!(still_passed(Stage::CaseAssessment, &ev, &p), Some(true));
        ev.practicals = vec![fail(2, true)];
        assert_eq!(still_passed(Stage::CaseAssessment, &ev, &p), Some(false));
        ev.practicals = vec![];
        assert_eq!(still_passed(Stage::CaseAssessment, &ev, &p), Some(true));
        ev.exams = vec![fail(1, false)];
        assert_eq!(still_passed(Stage::CaseAssessment, &ev, &p), Some(false));
        ev.exams = vec![];
        assert_eq!(still_passed(Stage::CaseAssessment, &ev, &p), None);
        // Without a required practical, a failed practical does not count.
        p.requires_practical = false;
        ev.exams = vec![pass(1)];
        ev.practicals = vec![fail(2, true)];
        assert_eq!(still_passed(Stage::CaseAssessment, &ev, &p), Some(true));
    }

    #[test]
    fn the_committee_decision_waits_for_an_open_appeal() {
        let p = policy();
        let mut ev = ready();
        ev.decision = Some(Decision::Approved);
        ev.appeal_pending = true;
        assert_eq!(next(Kind::Initial, Stage::CommitteeReview, &ev, &p), None);
        ev.appeal_pending = false;
        assert_eq!(
            next(Kind::Initial, Stage::CommitteeReview, &ev, &p),
            Some((Stage::Certified, Reason::CommitteeApproved))
        );
    }

    #[test]
    fn registration_follows_the_stage_and_the_retake_policy() {
        let p = policy();
        let now = t(20);
        assert_eq!(
            may_register(None, ExamStage::Written, &[], &p, now),
            Err(RegistrationRefusal::NoCase)
        );
        assert_eq!(
            may_register(Some(Stage::Training), ExamStage::Written, &[], &p, now),
            Err(RegistrationRefusal::WrongStage {
                at: Stage::Training,
                needed: Stage::WrittenExam
            })
        );
        assert_eq!(
            may_register(Some(Stage::WrittenExam), ExamStage::Case, &[], &p, now),
            Err(RegistrationRefusal::WrongStage {
                at: Stage::WrittenExam,
                needed: Stage::CaseAssessment
            })
        );
        assert_eq!(
            may_register(Some(Stage::WrittenExam), ExamStage::Written, &[], &p, now),
            Ok(())
        );
        assert_eq!(
            may_register(
                Some(Stage::WrittenExam),
                ExamStage::Written,
                &[pass(1)],
                &p,
                now
            ),
            Err(RegistrationRefusal::AlreadyPassed)
        );
        // One failure on day 1: the next registration from day 31.
        let failed = [fail(1, true)];
        assert_eq!(
            may_register(
                Some(Stage::WrittenExam),
                ExamStage::Written,
                &failed,
                &p,
                now
            ),
            Err(RegistrationRefusal::Waiting {
                until: t(1) + Duration::days(30)
            })
        );
        assert_eq!(
            may_register(
                Some(Stage::WrittenExam),
                ExamStage::Written,
                &failed,
                &p,
                t(1) + Duration::days(30)
            ),
            Ok(())
        );
        // Two failures, one still open to appeal: no third attempt.
        assert_eq!(
            may_register(
                Some(Stage::WrittenExam),
                ExamStage::Written,
                &[fail(1, true), fail(2, false)],
                &p,
                t(1) + Duration::days(90)
            ),
            Err(RegistrationRefusal::NoAttemptsLeft)
        );
        assert_eq!(
            may_register(Some(Stage::Reassessment), ExamStage::Renewal, &[], &p, now),
            Ok(())
        );
    }

    #[test]
    fn opening_a_case_respects_credentials_and_the_cool_off() {
        let p = policy();
        let now = t(20);
        let open =
            |kind, open_case, held, rejected| may_open(kind, open_case, held, rejected, &p, now);
        assert_eq!(open(Kind::Initial, false, None, None), Ok(()));
        assert_eq!(
            open(Kind::Initial, true, None, None),
            Err(OpenRefusal::AlreadyOpen)
        );
        for held in [Held::Active, Held::Suspended, Held::Expired] {
            assert_eq!(
                open(Kind::Initial, false, Some(held), None),
                Err(OpenRefusal::AlreadyCertified)
            );
        }
        assert_eq!(
            open(Kind::Initial, false, Some(Held::Revoked), None),
            Err(OpenRefusal::Revoked)
        );
        assert_eq!(
            open(Kind::Renewal, false, Some(Held::Revoked), None),
            Err(OpenRefusal::Revoked)
        );
        assert_eq!(
            open(Kind::Renewal, false, None, None),
            Err(OpenRefusal::NothingToRenew)
        );
        assert_eq!(
            open(Kind::Renewal, false, Some(Held::Suspended), None),
            Err(OpenRefusal::Suspended)
        );
        assert_eq!(open(Kind::Renewal, false, Some(Held::Active), None), Ok(()));
        assert_eq!(
            open(Kind::Renewal, false, Some(Held::Expired), None),
            Ok(())
        );
        // Rejected on day 1: cooling off for 180 days.
        assert_eq!(
            open(Kind::Initial, false, None, Some(t(1))),
            Err(OpenRefusal::CoolingOff {
                until: t(1) + Duration::days(180)
            })
        );
        assert_eq!(
            may_open(
                Kind::Initial,
                false,
                None,
                Some(t(1)),
                &p,
                t(1) + Duration::days(180)
            ),
            Ok(())
        );
    }

    #[test]
    fn the_funnel_counts_reach_current_and_pass_rates() {
        use Stage::*;
        let tr = [
            // Case 1: certified.
            (CaseId(1), None, Applied),
            (CaseId(1), Some(Applied), Eligible),
            (CaseId(1), Some(Eligible), Training),
            (CaseId(1), Some(Training), WrittenExam),
            (CaseId(1), Some(WrittenExam), CaseAssessment),
            (CaseId(1), Some(CaseAssessment), CommitteeReview),
            (CaseId(1), Some(CommitteeReview), Certified),
            // Case 2: rejected at the written exam.
            (CaseId(2), None, Applied),
            (CaseId(2), Some(Applied), Eligible),
            (CaseId(2), Some(Eligible), Training),
            (CaseId(2), Some(Training), WrittenExam),
            (CaseId(2), Some(WrittenExam), Rejected),
            // Case 3: still training.
            (CaseId(3), None, Applied),
            (CaseId(3), Some(Applied), Eligible),
            (CaseId(3), Some(Eligible), Training),
        ];
        let f = funnel(Kind::Initial, &tr);
        let row = |s: Stage| f.iter().find(|r| r.stage == s).unwrap().clone();
        assert_eq!(f.len(), 7);
        assert_eq!(row(Applied).reached, 3);
        assert_eq!(row(Training).reached, 3);
        assert_eq!(row(Training).current, 1);
        assert_eq!(row(Training).pass_rate, Some(100));
        assert_eq!(row(WrittenExam).reached, 2);
        assert_eq!(row(WrittenExam).passed, 1);
        assert_eq!(row(WrittenExam).rejected, 1);
        assert_eq!(row(WrittenExam).pass_rate, Some(50));
        assert_eq!(row(Certified).reached, 1);
        assert_eq!(row(Certified).current, 1);
        assert_eq!(row(CommitteeReview).pass_rate, Some(100));
        assert_eq!(row(Applied).current, 0);
        assert!(
            funnel(Kind::Renewal, &tr)
                .iter()
                .all(|r| r.stage != Training)
        );
        assert_eq!(funnel(Kind::Initial, &[])[0].pass_rate, None);

        // A case whose written pass was withdrawn from case assessment: the
        // pass is taken back; it is at the written exam again, then rejected.
        let back = [
            (CaseId(4), None, Applied),
            (CaseId(4), Some(Applied), Eligible),
            (CaseId(4), Some(Eligible), Training),
            (CaseId(4), Some(Training), WrittenExam),
            (CaseId(4), Some(WrittenExam), CaseAssessment),
            (CaseId(4), Some(CaseAssessment), WrittenExam),
        ];
        let f = funnel(Kind::Initial, &back);
        let row = |s: Stage| f.iter().find(|r| r.stage == s).unwrap().clone();
        assert_eq!(row(WrittenExam).current, 1);
        assert_eq!(row(WrittenExam).passed, 0);
        assert_eq!(row(WrittenExam).pass_rate, None);
        assert_eq!(row(CaseAssessment).reached, 1);
        assert_eq!(row(CaseAssessment).passed + row(CaseAssessment).rejected, 0);
        let mut rejected = back.to_vec();
        rejected.push((CaseId(4), Some(WrittenExam), Rejected));
        let f = funnel(Kind::Initial, &rejected);
        let written = f.iter().find(|r| r.stage == WrittenExam).unwrap();
        assert_eq!((written.passed, written.rejected), (0, 1));
    }
}
