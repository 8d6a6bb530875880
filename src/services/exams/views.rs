//! What the exam services return: the exam and a registration as their
//! readers see them (the API serialises these as they are), and a
//! candidate's own exams with where her attempts stand. Store rows stay
//! inside the services.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::ids::{ExamId, PersonId};
use crate::domain::next_step::{self, AttemptSeen, ExamFact};
use crate::domain::numbers::non_negative_u32;
use crate::domain::papers::Blueprint;
use crate::services::utc;
use crate::store::exams::{AttemptRow, ExamRow, RegistrationRow};

/// A scheduled exam.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Exam {
    /// The exam's id.
    #[schema(value_type = i64)]
    pub id: ExamId,
    /// The track's key.
    pub track: String,
    /// Its title.
    pub title: String,
    /// When candidates may start (RFC 3339 UTC).
    pub opens_at: DateTime<Utc>,
    /// When the window closes (RFC 3339 UTC).
    pub closes_at: DateTime<Utc>,
    /// Time for one attempt, in minutes.
    pub duration_minutes: i32,
    /// Percentage of the points needed to pass.
    pub pass_mark: i32,
    /// How many attempts a candidate has.
    pub attempts_allowed: i32,
    /// Days a candidate waits after an attempt before the next.
    pub waiting_days: i32,
    /// What candidates see once results are released: `score_only`, `topics` or `full`.
    pub review_policy: String,
    /// Seconds after the deadline during which saves in flight are accepted.
    pub grace_seconds: i32,
    /// Percent of an item's points two markers may differ by before a third marks it.
    pub marking_tolerance: i32,
    /// Days an examiner has to mark.
    pub marking_days: i32,
    /// Days after the release during which candidates may appeal.
    pub appeal_days: i32,
    /// The pipeline stage it serves: `written`, `case` or `renewal`.
    pub stage: String,
    /// Questions on each paper.
    pub question_count: u32,
    /// Points on each paper.
    pub total_points: u32,
    /// What each paper draws; null if the stored blueprint cannot be read.
    pub blueprint: Option<Blueprint>,
}

impl From<ExamRow> for Exam {
    fn from(e: ExamRow) -> Self {
        let blueprint: Option<Blueprint> = serde_json::from_str(&e.blueprint).ok();
        Exam {
            id: e.id,
            track: e.track,
            title: e.title,
            opens_at: e.opens_at.and_utc(),
            closes_at: e.closes_at.and_utc(),
            duration_minutes: e.duration_minutes,
            pass_mark: e.pass_mark,
            attempts_allowed: e.attempts_allowed,
            waiting_days: e.waiting_days,
            review_policy: e.review_policy.as_str().to_owned(),
            grace_seconds: e.grace_seconds,
            marking_tolerance: e.marking_tolerance,
            marking_days: e.marking_days,
            appeal_days: e.appeal_days,
            stage: e.stage.as_str().to_owned(),
            question_count: blueprint
                .as_ref()
                .map(Blueprint::question_count)
                .unwrap_or(0),
            total_points: blueprint.as_ref().map(Blueprint::total_points).unwrap_or(0),
            blueprint,
        }
    }
}

/// A candidate's registration for an exam.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Registration {
    /// The registration's id.
    pub id: i64,
    /// The exam's id.
    #[schema(value_type = i64)]
    pub exam_id: ExamId,
    /// The candidate's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// Extra minutes for this candidate.
    pub extra_minutes: i32,
    /// This candidate's own window start (RFC 3339 UTC); null: the exam's.
    pub opens_at: Option<DateTime<Utc>>,
    /// This candidate's own window end (RFC 3339 UTC); null: the exam's.
    pub closes_at: Option<DateTime<Utc>>,
}

impl From<RegistrationRow> for Registration {
    fn from(r: RegistrationRow) -> Self {
        Registration {
            id: r.id,
            exam_id: r.exam_id,
            person_id: r.person_id,
            extra_minutes: r.extra_minutes,
            opens_at: r.opens_at.map(|t| t.and_utc()),
            closes_at: r.closes_at.map(|t| t.and_utc()),
        }
    }
}

/// An exam a candidate is registered for, with her attempts and where they
/// stand: what her exam list and her dashboard show.
#[derive(Debug, Clone)]
pub struct MyExam {
    pub exam: Exam,
    /// Her attempts at it, oldest first.
    pub attempts: Vec<AttemptSeen>,
    /// Where she stands with it (`domain::next_step`).
    pub fact: ExamFact,
}

impl MyExam {
    pub(super) fn new(exam: &ExamRow, attempts: &[AttemptRow]) -> Self {
        let attempts: Vec<AttemptSeen> = attempts
            .iter()
            .map(|a| AttemptSeen {
                id: a.id,
                drawn_at: utc(a.drawn_at),
                started: a.started_at.is_some(),
                submitted: a.submitted_at.is_some(),
            })
            .collect();
        let closes_at = utc(exam.closes_at);
        let fact = ExamFact {
            exam_id: exam.id,
            title: exam.title.clone(),
            opens_at: utc(exam.opens_at),
            closes_at,
            attempt: next_step::attempt_fact(
                &attempts,
                exam.results_released_at.map(utc),
                non_negative_u32(exam.attempts_allowed),
                next_step::results_expected_by(closes_at, non_negative_u32(exam.marking_days)),
            ),
        };
        MyExam {
            exam: Exam::from(exam.clone()),
            attempts,
            fact,
        }
    }
}
