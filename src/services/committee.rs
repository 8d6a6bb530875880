//! The committee: its review queue, each case's dossier, secret votes, and
//! track policy. The rules (who may vote, when votes decide) are
//! `domain::committee`'s; a decision moves the case through
//! `services::pipeline`, which issues the credential.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::access::Permission;
use crate::domain::committee::Subject;
use crate::domain::committee::{self, Vote};
use crate::domain::credentials as credential;
use crate::domain::grading::AppealRule;
use crate::domain::ids::{CaseId, ExamId, PersonId};
use crate::domain::numbers::non_negative_u32;
use crate::domain::pipeline::{ExamStage, Stage};
use crate::domain::roles::Role;
use crate::domain::scoring::ChoiceScoring;
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::grading::{CaseAnswer, TopicLine};
use crate::services::pipeline::{self, CaseView};
use crate::services::training::{self, TrainingRecord};
use crate::services::{Caller, Ctx, audited, grading, impartial, require, required_text};
use crate::store::committee as store_committee;
use crate::store::grading as store_grading;
use crate::store::pipeline as store_pipeline;
use crate::store::training as store_training;
use crate::store::{self, DbConn, people};

use super::utc;

/// A line of the committee's queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueLine {
    /// The case's id.
    #[schema(value_type = i64)]
    pub case_id: CaseId,
    /// The doctor's name.
    pub doctor: String,
    /// The track's title.
    pub track_title: String,
    /// `initial` or `renewal`.
    pub kind: String,
    /// When the case reached committee review (RFC 3339 UTC).
    pub waiting_since: DateTime<Utc>,
    /// Votes cast so far.
    pub votes_cast: u32,
    /// Votes needed to decide.
    pub quorum: u32,
    /// The caller's own vote, if cast.
    pub my_vote: Option<Vote>,
    /// Why the caller may not act on this case, if they may not: the
    /// conflict-of-interest code (`own_case`, `same_institution`).
    pub conflict: Option<String>,
}

fn party(person_id: PersonId, institution_id: Option<i64>) -> committee::Party {
    committee::Party {
        person_id,
        institution_id,
    }
}

/// Cases whose evidence is complete, oldest first.
pub async fn queue(ctx: &Ctx, caller: &Caller) -> Result<Vec<QueueLine>> {
    require(ctx, caller, Permission::ReadCases).await?;
    let me = caller.actor().cloned();
    ctx.db
        .read(move |conn| {
            let mut lines = Vec::new();
            for case in store_pipeline::cases_at(conn, Stage::CommitteeReview)? {
                let person = people::find(conn, case.person_id)?.ok_or(Error::NotFound)?;
                let track = store_training::find_track_by_id(conn, case.track_id)?
                    .ok_or(Error::NotFound)?;
                let votes = store_committee::votes_of(conn, case.id)?;
                let my_vote = me.as_ref().and_then(|m| {
                    votes
                        .iter()
                        .find(|(v, _)| v.member_id == m.id)
                        .map(|(v, _)| v.vote)
                });
                let conflict = me.as_ref().and_then(|m| {
                    committee::may_act_on(
                        party(m.id, m.institution_id),
                        Subject::Case,
                        party(person.id, person.institution_id),
                    )
                    .err()
                    .map(|c| c.code().to_owned())
                });
                lines.push(QueueLine {
                    case_id: case.id,
                    doctor: person.name,
                    track_title: track.title,
                    kind: case.kind.as_str().to_owned(),
                    waiting_since: utc(case.stage_entered_at),
                    votes_cast: u32::try_from(votes.len()).unwrap_or(u32::MAX),
                    quorum: non_negative_u32(track.quorum.max(1)),
                    my_vote,
                    conflict,
                });
            }
            Ok(lines)
        })
        .await
}

/// An exam attempt in a committee dossier.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExamEvidence {
    /// The exam's id.
    #[schema(value_type = i64)]
    pub exam_id: ExamId,
    /// The attempt's id.
    pub attempt_id: i64,
    /// The attempt's blind code, as examiners saw it.
    pub code: Option<String>,
    /// The seed the paper was drawn from (ChaCha20, `domain::papers::draw`),
    /// in decimal: with the blueprint and the bank versions it rebuilds the
    /// paper. A string, because it can exceed the integers JSON clients
    /// read exactly.
    pub seed: String,
    /// When the paper was drawn (RFC 3339 UTC).
    pub drawn_at: DateTime<Utc>,
    /// The exam's title.
    pub exam_title: String,
    /// The pipeline stage the exam serves.
    pub stage: ExamStage,
    /// When it was submitted (RFC 3339 UTC); null if not.
    pub submitted_at: Option<DateTime<Utc>>,
    /// The score in percent, rounded down.
    pub percent: u32,
    /// The percent needed to pass.
    pub pass_mark: i32,
    /// Whether it passed.
    pub passed: bool,
    /// The score per topic.
    pub by_topic: Vec<TopicLine>,
    /// Its case answers as the examiners marked them.
    pub case_answers: Vec<CaseAnswer>,
    /// Appeals against its marks.
    pub appeals: Vec<AppealLine>,
}

/// An appeal in a committee dossier.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealLine {
    /// The candidate's reason.
    pub reason: String,
    /// `open` or `decided`.
    pub status: String,
    /// The question's mark when the appeal was made, in points.
    pub mark_before: f64,
    /// The re-marker's total.
    pub mark_after: Option<f64>,
    /// The mark that counts after the appeal.
    pub mark_final: Option<f64>,
    /// The track's appeal rule it was decided under.
    pub rule: Option<AppealRule>,
    /// What the re-mark did, in words; null while open.
    pub outcome: Option<String>,
}

/// A practical assessment in a committee dossier.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticalLine {
    /// The station's title.
    pub station: String,
    /// Points earned.
    pub total: f64,
    /// Points possible.
    pub points: i32,
    /// Whether it passed.
    pub passed: bool,
    /// When it was recorded (RFC 3339 UTC).
    pub observed_at: DateTime<Utc>,
}

/// A committee member's vote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VoteLine {
    /// The member's name.
    pub member: String,
    /// Their vote.
    pub vote: Vote,
    /// Their reason.
    pub reason: String,
    /// When it was cast (RFC 3339 UTC).
    pub cast_at: DateTime<Utc>,
}

/// Everything the committee weighs for one case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Dossier {
    /// The case.
    pub case: CaseView,
    /// The doctor's name.
    pub doctor: String,
    /// Their institution; null if none.
    pub institution: Option<String>,
    /// Their practising-certificate number; null if none.
    pub practising_certificate: Option<String>,
    /// Their training record.
    pub training: TrainingRecord,
    /// Their exam attempts in the track since the case opened, every stage.
    pub exams: Vec<ExamEvidence>,
    /// Their practical assessments.
    pub practicals: Vec<PracticalLine>,
    /// Votes needed to decide.
    pub quorum: u32,
    /// Votes cast so far.
    pub votes_cast: u32,
    /// Every vote, with names and reasons, once the case is decided; until
    /// then only the caller's own.
    pub votes: Vec<VoteLine>,
    /// How the caller voted on this case, if they have (the page then shows
    /// that instead of the vote form).
    pub my_vote: Option<Vote>,
    /// Whether the committee has decided.
    pub decided: bool,
}

fn exam_evidence(
    conn: &mut DbConn,
    case: &store_pipeline::CaseRow,
    track_key: &str,
) -> Result<Vec<ExamEvidence>> {
    let mut out = Vec::new();
    for stage in ExamStage::ALL {
        for (attempt, exam) in
            store_pipeline::stage_attempts(conn, case.person_id, track_key, stage, case.opened_at)?
        {
            let Some(result) = crate::services::evidence::released_result(conn, &attempt, &exam)?
            else {
                continue;
            };
            let case_answers = grading::case_answers(conn, attempt.id)?;
            let appeals = store_grading::appeals_of_attempt(conn, attempt.id)?
                .into_iter()
                .map(|a| AppealLine {
                    reason: a.reason,
                    status: a.status.as_str().to_owned(),
                    mark_before: a.mark_before,
                    mark_after: a.mark_after,
                    mark_final: a.mark_final,
                    rule: a.rule,
                    outcome: a.outcome,
                })
                .collect();
            out.push(ExamEvidence {
                exam_id: exam.id,
                attempt_id: attempt.id,
                code: attempt.code.clone(),
                seed: attempt.seed.to_string(),
                drawn_at: utc(attempt.drawn_at),
                exam_title: exam.title.clone(),
                stage,
                submitted_at: attempt.submitted_at.map(utc),
                percent: result.percent,
                pass_mark: exam.pass_mark,
                passed: result.passed,
                by_topic: grading::topic_lines(conn, result.by_topic)?,
                case_answers,
                appeals,
            });
        }
    }
    Ok(out)
}

/// A case's whole evidence for the committee. Nobody reads their own
/// dossier, and a committee member does not read a colleague's from their
/// own institution (`domain::committee::may_act_on`); an admin who is not on
/// the committee reads every dossier, to run the programme.
pub async fn dossier(ctx: &Ctx, caller: &Caller, case_id: CaseId) -> Result<Dossier> {
    require(ctx, caller, Permission::ReadCases).await?;
    let me = caller.actor().cloned();
    let reader = caller.clone();
    let result = ctx
        .db
        .read(move |conn| {
            let case = store_pipeline::find_case(conn, case_id)?.ok_or(Error::NotFound)?;
            let committee_member = me.as_ref().is_some_and(|m| m.has(Role::Committee));
            if committee_member || me.as_ref().is_some_and(|m| m.id == case.person_id) {
                impartial(conn, &reader, Subject::Case, case.person_id)?;
            }
            let person = people::find(conn, case.person_id)?.ok_or(Error::NotFound)?;
            let track =
                store_training::find_track_by_id(conn, case.track_id)?.ok_or(Error::NotFound)?;
            let institution = match person.institution_id {
                Some(id) => store::institutions::find(conn, id)?.map(|i| i.name),
                None => None,
            };
            let training = training::record_of(conn, case.person_id)?;
            let exams = exam_evidence(conn, &case, &track.track_key)?;
            let practicals = store_grading::practicals_of(conn, case.person_id)?
                .into_iter()
                .filter(|(r, s)| s.track == track.track_key && r.observed_at >= case.opened_at)
                .map(|(r, s)| PracticalLine {
                    station: s.title,
                    total: r.total,
                    points: r.points,
                    passed: r.passed,
                    observed_at: utc(r.observed_at),
                })
                .collect();
            let votes = store_committee::votes_of(conn, case.id)?;
            let view = pipeline::case_view(conn, case.id)?;
            // Decided: the case left committee review for certified or
            // rejected (a case sent back to an exam stage was not decided,
            // and its votes were withdrawn).
            let decided = view.timeline.iter().any(|t| {
                t.from == Some(Stage::CommitteeReview)
                    && matches!(t.to, Stage::Certified | Stage::Rejected)
            });
            let my_vote = votes
                .iter()
                .find(|(v, _)| me.as_ref().is_some_and(|m| m.id == v.member_id))
                .map(|(v, _)| v.vote);
            let shown = votes
                .iter()
                .filter(|(v, _)| decided || me.as_ref().is_some_and(|m| m.id == v.member_id))
                .map(|(v, name)| VoteLine {
                    member: name.clone(),
                    vote: v.vote,
                    reason: v.reason.clone(),
                    cast_at: utc(v.cast_at),
                })
                .collect();
            Ok(Dossier {
                case: view,
                doctor: person.name,
                institution,
                practising_certificate: person.practising_certificate,
                training,
                exams,
                practicals,
                quorum: non_negative_u32(track.quorum.max(1)),
                votes_cast: u32::try_from(votes.len()).unwrap_or(u32::MAX),
                votes: shown,
                my_vote,
                decided,
            })
        })
        .await;
    audited(
        ctx,
        caller,
        "committee_dossier",
        format!("case:{case_id}"),
        result,
    )
    .await
}

/// A committee member votes on a case at committee review. The candidate and
/// a member of the candidate's institution are refused (and the refusal
/// audited) whatever the case's stage; a second
/// vote by the same member is refused. The vote that completes a decision
/// moves the case at once (issuing the credential on approval).
pub async fn vote(
    ctx: &Ctx,
    caller: &Caller,
    case_id: CaseId,
    vote: Vote,
    reason: String,
) -> Result<CaseView> {
    require(ctx, caller, Permission::Decide).await?;
    let member = caller.actor().cloned().ok_or(Error::Forbidden)?;
    let reason = required_text("reason", &reason, 2000)?;
    let audit_caller = caller.clone();
    let public_url = ctx.settings.public_url.clone();
    let voter = caller.clone();
    let outcome = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let case = store_pipeline::lock_case(conn, case_id)?.ok_or(Error::NotFound)?;
            impartial(conn, &voter, Subject::Case, case.person_id)?;
            if case.stage != Stage::CommitteeReview {
                return Err(Error::conflict(
                    "case",
                    "the case is not waiting for the committee",
                ));
            }
            let new = store_committee::NewVote {
                case_id: case.id,
                member_id: member.id,
                vote,
                reason: &reason,
            };
            let cast =
                store_committee::insert_vote(conn, &new, now).map_err(store::unique_as(|| {
                    Error::conflict("vote", "you have already voted on this case")
                }))?;
            // The vote stays secret in the trail too: only its digest.
            let mut event = audit::event(
                &audit_caller,
                "committee_vote",
                Some(format!("case:{}", case.id)),
                Outcome::Ok,
            );
            event.detail = Some(audit::vote_evidence(&cast).marker());
            audit::record(conn, &event)?;
            pipeline::advance_case(conn, case.id, &public_url, now)?;
            pipeline::case_view(conn, case.id)
        })
        .await;
    audited(
        ctx,
        caller,
        "committee_vote",
        format!("case:{case_id}"),
        outcome,
    )
    .await
}

/// Track policy as the committee sets it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrackPolicy {
    /// Credential number code, 2-8 capital letters or digits (e.g. PAED).
    pub code: String,
    /// How long a credential is valid, in months.
    pub validity_months: i64,
    /// Continuing-education credit hours needed to renew.
    pub renewal_credit_hours: f64,
    /// Exam attempts allowed at each stage before the case is rejected.
    pub stage_attempts: i64,
    /// Days to wait after a failed attempt before a retake.
    pub retake_wait_days: i64,
    /// Days after a rejection before the doctor may apply again.
    pub cooloff_days: i64,
    /// Whether certification needs a passed practical assessment.
    pub requires_practical: bool,
    /// Committee votes needed to decide a case.
    pub quorum: i64,
    /// Percent of rated referrals judged inappropriate past which a doctor
    /// is flagged (default 30).
    #[serde(default = "default_threshold")]
    pub inappropriate_threshold: i64,
    /// Rated referrals needed before a doctor can be flagged (default 5).
    #[serde(default = "default_min_rated")]
    pub flag_min_rated: i64,
    /// What an appeal's re-mark does to the mark: `remark_stands` (the
    /// default: it replaces the mark, higher or lower, and the case follows
    /// the new result) or `no_detriment` (it counts only when higher).
    #[serde(default)]
    pub appeal_rule: AppealRule,
    /// How exams of the track score choice questions whose options carry
    /// weights (Moodle's partial credit): `all_or_nothing` (the default)
    /// or `weighted`. Each exam keeps the rule it was scheduled with.
    #[serde(default)]
    pub choice_scoring: ChoiceScoring,
}

fn default_threshold() -> i64 {
    30
}

fn default_min_rated() -> i64 {
    5
}

fn check_range(field: &str, value: i64, range: std::ops::RangeInclusive<i64>) -> Result<i32> {
    if range.contains(&value)
        && let Ok(value) = i32::try_from(value)
    {
        Ok(value)
    } else {
        Err(Error::invalid(
            field,
            format!("must be from {} to {}", range.start(), range.end()),
        ))
    }
}

pub async fn policy(ctx: &Ctx, caller: &Caller, track_key: String) -> Result<TrackPolicy> {
    require(ctx, caller, Permission::ReadCases).await?;
    ctx.db
        .read(move |conn| {
            let t = store_training::find_track(conn, &track_key)?.ok_or(Error::NotFound)?;
            let appeal_rule = pipeline::policy_of(&t).appeal_rule;
            Ok(TrackPolicy {
                code: t.code,
                validity_months: i64::from(t.validity_months),
                renewal_credit_hours: t.renewal_credit_hours,
                stage_attempts: i64::from(t.stage_attempts),
                retake_wait_days: i64::from(t.retake_wait_days),
                cooloff_days: i64::from(t.cooloff_days),
                requires_practical: t.requires_practical,
                quorum: i64::from(t.quorum),
                inappropriate_threshold: i64::from(t.inappropriate_threshold),
                flag_min_rated: i64::from(t.flag_min_rated),
                appeal_rule,
                choice_scoring: t.choice_scoring,
            })
        })
        .await
}

/// A policy as asked, each figure checked against its range.
fn policy_values(p: &TrackPolicy) -> Result<store_training::PolicyValues> {
    let code = p.code.trim().to_uppercase();
    if !credential::valid_track_code(&code) {
        return Err(Error::invalid(
            "code",
            "2 to 8 capital letters or digits, e.g. PAED",
        ));
    }
    Ok(store_training::PolicyValues {
        code,
        validity_months: check_range(
            "validity_months",
            p.validity_months,
            committee::VALIDITY_MONTHS,
        )?,
        renewal_credit_hours: if p.renewal_credit_hours.is_finite()
            && (0.0..=1000.0).contains(&p.renewal_credit_hours)
        {
            p.renewal_credit_hours
        } else {
            return Err(Error::invalid(
                "renewal_credit_hours",
                "must be from 0 to 1000",
            ));
        },
        stage_attempts: check_range(
            "stage_attempts",
            p.stage_attempts,
            committee::STAGE_ATTEMPTS,
        )?,
        retake_wait_days: check_range(
            "retake_wait_days",
            p.retake_wait_days,
            committee::RETAKE_WAIT_DAYS,
        )?,
        cooloff_days: check_range("cooloff_days", p.cooloff_days, committee::COOLOFF_DAYS)?,
        requires_practical: p.requires_practical,
        quorum: check_range("quorum", p.quorum, committee::QUORUM)?,
        inappropriate_threshold: check_range(
            "inappropriate_threshold",
            p.inappropriate_threshold,
            committee::INAPPROPRIATE_THRESHOLD,
        )?,
        flag_min_rated: check_range(
            "flag_min_rated",
            p.flag_min_rated,
            committee::FLAG_MIN_RATED,
        )?,
        appeal_rule: p.appeal_rule,
        choice_scoring: p.choice_scoring,
    })
}

/// A policy as the audit record's detail reads it: `key=value` pairs, with
/// the stored words for the rules (`remark_stands`), the same before and
/// after a change.
fn policy_detail(v: &store_training::PolicyValues) -> String {
    format!(
        "code={} validity={} credits={} attempts={} wait={} cooloff={} practical={} quorum={} \
         inappropriate_threshold={} flag_min_rated={} appeal_rule={} choice_scoring={}",
        v.code,
        v.validity_months,
        v.renewal_credit_hours,
        v.stage_attempts,
        v.retake_wait_days,
        v.cooloff_days,
        v.requires_practical,
        v.quorum,
        v.inappropriate_threshold,
        v.flag_min_rated,
        v.appeal_rule.as_str(),
        v.choice_scoring.as_str()
    )
}

/// Sets a track's policy (committee members). Applies to cases from now on.
pub async fn set_policy(
    ctx: &Ctx,
    caller: &Caller,
    track_key: String,
    p: TrackPolicy,
) -> Result<TrackPolicy> {
    require(ctx, caller, Permission::Decide).await?;
    let values = policy_values(&p)?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            let track = store_training::find_track(conn, &track_key)?.ok_or(Error::NotFound)?;
            let mut event = audit::event(
                &caller,
                "track_policy",
                Some(format!("track:{}", track.track_key)),
                Outcome::Ok,
            );
            let before = store_training::PolicyValues {
                code: track.code.clone(),
                validity_months: track.validity_months,
                renewal_credit_hours: track.renewal_credit_hours,
                stage_attempts: track.stage_attempts,
                retake_wait_days: track.retake_wait_days,
                cooloff_days: track.cooloff_days,
                requires_practical: track.requires_practical,
                quorum: track.quorum,
                inappropriate_threshold: track.inappropriate_threshold,
                flag_min_rated: track.flag_min_rated,
                appeal_rule: track.appeal_rule,
                choice_scoring: track.choice_scoring,
            };
            event.detail = Some(format!(
                "before: {}; after: {}",
                policy_detail(&before),
                policy_detail(&values)
            ));
            store_training::set_policy(conn, track.id, &values, store::now())?;
            audit::record(conn, &event)?;
            Ok(TrackPolicy {
                code: values.code.clone(),
                validity_months: i64::from(values.validity_months),
                renewal_credit_hours: values.renewal_credit_hours,
                stage_attempts: i64::from(values.stage_attempts),
                retake_wait_days: i64::from(values.retake_wait_days),
                cooloff_days: i64::from(values.cooloff_days),
                requires_practical: values.requires_practical,
                quorum: i64::from(values.quorum),
                inappropriate_threshold: i64::from(values.inappropriate_threshold),
                flag_min_rated: i64::from(values.flag_min_rated),
                appeal_rule: p.appeal_rule,
                choice_scoring: p.choice_scoring,
            })
        })
        .await
}
