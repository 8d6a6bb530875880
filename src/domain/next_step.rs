//! The one next step a doctor sees on her home page. Everything she might do
//! next is gathered as facts (her exams, what the pipeline lets her register
//! for, each track's training and case, her credentials); this module ranks
//! them and picks the most pressing, so the rule lives in one place and can
//! be tested without a database.
//!
//! The order, most pressing first: an exam under way; an exam open now; a
//! result released in the last week; training to do; an exam to register for;
//! an exam she is registered for that has not opened; a retake that cannot
//! yet be booked; a result being marked; the committee; a credential to
//! renew; a credential in force; a track to apply for; a track to choose.

use chrono::{DateTime, Duration, Utc};

use crate::domain::credentials::Status;
use crate::domain::ids::ExamId;
use crate::domain::pipeline::Stage;

/// How long a released result stays "news" on the home page.
pub const RESULT_NEWS_DAYS: i64 = 7;

/// How long before its expiry a credential asks to be renewed.
pub const RENEW_WITHIN_DAYS: i64 = 90;

/// One exam she is registered for, and where her attempt at it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ExamFact {
    pub exam_id: ExamId,
    pub title: String,
    pub opens_at: DateTime<Utc>,
    /// Her own window's close (accommodations included).
    pub closes_at: DateTime<Utc>,
    pub attempt: AttemptFact,
}

/// Her latest attempt at one exam.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttemptFact {
    /// Not started (or every earlier attempt released and attempts left).
    NotStarted {
        may_start: bool,
    },
    InProgress {
        attempt_id: i64,
    },
    /// Submitted; results come after marking, expected by this day.
    AwaitingResult {
        attempt_id: i64,
        expected_by: DateTime<Utc>,
    },
    Released {
        attempt_id: i64,
        released_at: DateTime<Utc>,
    },
}

/// One of her attempts at an exam, as far as where she stands goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttemptSeen {
    pub id: i64,
    pub drawn_at: DateTime<Utc>,
    pub started: bool,
    pub submitted: bool,
}

/// When results are expected: once marking closes, the exam's close plus
/// the days its examiners have to mark.
pub fn results_expected_by(closes_at: DateTime<Utc>, marking_days: u32) -> DateTime<Utc> {
    closes_at + Duration::days(i64::from(marking_days))
}

/// Where her attempts at one exam stand: her latest attempt decides (under
/// way, submitted and waiting, released); with none, whether an attempt is
/// left.
pub fn attempt_fact(
    attempts: &[AttemptSeen],
    released_at: Option<DateTime<Utc>>,
    attempts_allowed: u32,
    expected_by: DateTime<Utc>,
) -> AttemptFact {
    let submitted = attempts.iter().filter(|a| a.submitted).count();
    match attempts.iter().max_by_key(|a| a.drawn_at) {
        Some(a) if a.started && !a.submitted => AttemptFact::InProgress { attempt_id: a.id },
        Some(a) if a.submitted => match released_at {
            None => AttemptFact::AwaitingResult {
                attempt_id: a.id,
                expected_by,
            },
            Some(released_at) => AttemptFact::Released {
                attempt_id: a.id,
                released_at,
            },
        },
        _ => AttemptFact::NotStarted {
            may_start: usize::try_from(attempts_allowed.max(1))
                .is_ok_and(|allowed| submitted < allowed),
        },
    }
}

/// Whether she may start the exam now: in its window, with an attempt left,
/// and never while a submitted attempt waits for its result.
pub fn may_start_now(e: &ExamFact, now: DateTime<Utc>) -> bool {
    matches!(e.attempt, AttemptFact::NotStarted { may_start: true })
        && e.opens_at <= now
        && now < e.closes_at
}

/// An exam the pipeline lets her register for now.
#[derive(Debug, Clone, PartialEq)]
pub struct ExamOffer {
    pub exam_id: ExamId,
    pub title: String,
    pub opens_at: DateTime<Utc>,
}

/// What her training asks for next in one track.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingTodo {
    /// `lesson`, `quiz` or `workshop`.
    pub kind: String,
    pub title: String,
    pub url: String,
}

/// One credential she holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialFact {
    pub number: String,
    pub track_title: String,
    pub status: Status,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

/// One track she studies or is certified in.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFact {
    pub key: String,
    pub title: String,
    /// Her open case's stage, and what it waits for (`CaseView::waiting_for`).
    pub case: Option<(Stage, Option<String>)>,
    /// After a failed attempt: when a retake may be booked.
    pub retake_from: Option<DateTime<Utc>>,
    pub training: Option<TrainingTodo>,
    pub credential: Option<CredentialFact>,
}

/// Everything the next step is chosen from.
#[derive(Debug, Clone, PartialEq)]
pub struct Situation {
    pub now: DateTime<Utc>,
    pub exams: Vec<ExamFact>,
    pub offers: Vec<ExamOffer>,
    pub tracks: Vec<TrackFact>,
}

/// The next step, most pressing variants first (`rank` orders them the
/// same way).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    ResumeExam {
        attempt_id: i64,
        title: String,
        closes_at: DateTime<Utc>,
    },
    StartExam {
        exam_id: ExamId,
        title: String,
        closes_at: DateTime<Utc>,
    },
    SeeResult {
        attempt_id: i64,
        title: String,
    },
    Study {
        track: String,
        todo_kind: String,
        title: String,
        url: String,
    },
    RegisterForExam {
        exam_id: ExamId,
        title: String,
        opens_at: DateTime<Utc>,
    },
    SitExamOn {
        title: String,
        opens_at: DateTime<Utc>,
    },
    RetakeFrom {
        track: String,
        from: DateTime<Utc>,
    },
    AwaitResult {
        title: String,
        expected_by: DateTime<Utc>,
    },
    /// At an exam stage with nothing scheduled that she may sit.
    AwaitExamSchedule {
        track: String,
    },
    /// The case waits on someone else: the committee, a practical station,
    /// an appeal, or eligibility (`reason` is the case's `waiting_for`).
    AwaitOthers {
        track: String,
        reason: String,
    },
    Renew {
        number: String,
        track: String,
        valid_until: DateTime<Utc>,
    },
    Certified {
        number: String,
        track: String,
        valid_until: DateTime<Utc>,
    },
    /// Enrolled, or certified once, without an open case: apply.
    Apply {
        track: String,
    },
    /// Nothing yet: choose a track to study.
    ChooseTrack,
}

/// The one next step.
pub fn next_step(s: &Situation) -> Step {
    candidates(s)
        .into_iter()
        .min_by(|a, b| rank(a).cmp(&rank(b)))
        .unwrap_or(Step::ChooseTrack)
}

/// The rank of a step: its place in the enum, then the soonest date.
fn rank(step: &Step) -> (u8, i64) {
    let (place, when) = match step {
        Step::ResumeExam { closes_at, .. } => (0, Some(closes_at)),
        Step::StartExam { closes_at, .. } => (1, Some(closes_at)),
        Step::SeeResult { .. } => (2, None),
        Step::Study { .. } => (3, None),
        Step::RegisterForExam { opens_at, .. } => (4, Some(opens_at)),
        Step::SitExamOn { opens_at, .. } => (5, Some(opens_at)),
        Step::RetakeFrom { from, .. } => (6, Some(from)),
        Step::AwaitResult { expected_by, .. } => (7, Some(expected_by)),
        Step::AwaitExamSchedule { .. } => (8, None),
        Step::AwaitOthers { .. } => (9, None),
        Step::Renew { valid_until, .. } => (10, Some(valid_until)),
        Step::Certified { valid_until, .. } => (11, Some(valid_until)),
        Step::Apply { .. } => (12, None),
        Step::ChooseTrack => (13, None),
    };
    (place, when.map_or(0, DateTime::timestamp))
}

fn candidates(s: &Situation) -> Vec<Step> {
    let mut steps = Vec::new();
    // A credential issued since a result was released is the news that
    // result led to.
    let latest_issue = s
        .tracks
        .iter()
        .filter_map(|t| t.credential.as_ref().map(|c| c.issued_at))
        .max();
    for e in &s.exams {
        if let Some(step) = exam_step(s.now, e) {
            let superseded = matches!(e.attempt, AttemptFact::Released { released_at, .. }
                if latest_issue.is_some_and(|issued| issued >= released_at));
            if !superseded {
                steps.push(step);
            }
        }
    }
    for o in &s.offers {
        steps.push(Step::RegisterForExam {
            exam_id: o.exam_id,
            title: o.title.clone(),
            opens_at: o.opens_at,
        });
    }
    let registered_ahead = s.exams.iter().any(|e| e.closes_at > s.now);
    for t in &s.tracks {
        steps.extend(track_step(
            s.now,
            t,
            !s.offers.is_empty() || registered_ahead,
        ));
    }
    steps
}

fn exam_step(now: DateTime<Utc>, e: &ExamFact) -> Option<Step> {
    let title = e.title.clone();
    match e.attempt {
        AttemptFact::InProgress { attempt_id } => Some(Step::ResumeExam {
            attempt_id,
            title,
            closes_at: e.closes_at,
        }),
        AttemptFact::NotStarted { .. } if may_start_now(e, now) => Some(Step::StartExam {
            exam_id: e.exam_id,
            title,
            closes_at: e.closes_at,
        }),
        AttemptFact::NotStarted { .. } if now < e.opens_at => Some(Step::SitExamOn {
            title,
            opens_at: e.opens_at,
        }),
        AttemptFact::NotStarted { .. } => None,
        AttemptFact::AwaitingResult { expected_by, .. } => {
            Some(Step::AwaitResult { title, expected_by })
        }
        AttemptFact::Released {
            attempt_id,
            released_at,
        } if now - released_at <= Duration::days(RESULT_NEWS_DAYS) => {
            Some(Step::SeeResult { attempt_id, title })
        }
        AttemptFact::Released { .. } => None,
    }
}

/// A track's own step: training, the case's wait, or the credential.
/// `exam_ahead` says whether some exam is already on her calendar or on
/// offer, in which case "no exam scheduled yet" would be wrong.
fn track_step(now: DateTime<Utc>, t: &TrackFact, exam_ahead: bool) -> Vec<Step> {
    let track = t.title.clone();
    let mut steps = Vec::new();
    if let Some(todo) = &t.training {
        steps.push(Step::Study {
            track: track.clone(),
            todo_kind: todo.kind.clone(),
            title: todo.title.clone(),
            url: todo.url.clone(),
        });
    }
    match &t.case {
        Some((stage, waiting)) => {
            if let Some(step) = case_step(t, *stage, waiting.as_deref(), exam_ahead) {
                steps.push(step);
            }
        }
        None if t.credential.is_none() => steps.push(Step::Apply {
            track: track.clone(),
        }),
        None => {}
    }
    if let Some(c) = &t.credential {
        steps.push(credential_step(now, c, t.case.is_some()));
    }
    steps
}

fn case_step(t: &TrackFact, stage: Stage, waiting: Option<&str>, exam_ahead: bool) -> Option<Step> {
    let track = t.title.clone();
    match (stage, waiting) {
        (_, Some("waiting_period")) => t.retake_from.map(|from| Step::RetakeFrom { track, from }),
        (Stage::WrittenExam | Stage::CaseAssessment | Stage::Reassessment, Some("exam"))
            if !exam_ahead =>
        {
            Some(Step::AwaitExamSchedule { track })
        }
        (_, Some("exam" | "training")) | (_, None) => None,
        (_, Some(reason)) => Some(Step::AwaitOthers {
            track,
            reason: reason.to_owned(),
        }),
    }
}

fn credential_step(now: DateTime<Utc>, c: &CredentialFact, renewing: bool) -> Step {
    let due = c.valid_until - now <= Duration::days(RENEW_WITHIN_DAYS);
    match c.status {
        Status::Active | Status::Expired if due && !renewing => Step::Renew {
            number: c.number.clone(),
            track: c.track_title.clone(),
            valid_until: c.valid_until,
        },
        _ => Step::Certified {
            number: c.number.clone(),
            track: c.track_title.clone(),
            valid_until: c.valid_until,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()
    }

    fn exam(id: i64, opens: u32, closes: u32, attempt: AttemptFact) -> ExamFact {
        ExamFact {
            exam_id: ExamId(id),
            title: format!("exam {id}"),
            opens_at: at(opens),
            closes_at: at(closes),
            attempt,
        }
    }

    fn track(case: Option<(Stage, Option<&str>)>) -> TrackFact {
        TrackFact {
            key: "paediatrics".into(),
            title: "Paediatrics".into(),
            case: case.map(|(s, w)| (s, w.map(str::to_owned))),
            retake_from: None,
            training: None,
            credential: None,
        }
    }

    fn todo() -> TrainingTodo {
        TrainingTodo {
            kind: "lesson".into(),
            title: "Fever in infants".into(),
            url: "/courses/c/lessons/l".into(),
        }
    }

    fn situation(
        exams: Vec<ExamFact>,
        offers: Vec<ExamOffer>,
        tracks: Vec<TrackFact>,
    ) -> Situation {
        Situation {
            now: at(10),
            exams,
            offers,
            tracks,
        }
    }

    fn credential(status: Status, until: DateTime<Utc>) -> CredentialFact {
        CredentialFact {
            number: "GK-1".into(),
            track_title: "Paediatrics".into(),
            status,
            issued_at: until - Duration::days(730),
            valid_until: until,
        }
    }

    #[test]
    fn the_latest_attempt_says_where_an_exam_stands() {
        let seen = |id, day, started, submitted| AttemptSeen {
            id,
            drawn_at: at(day),
            started,
            submitted,
        };
        let expected = results_expected_by(at(12), 7);
        assert_eq!(expected, at(19));
        assert_eq!(
            attempt_fact(&[], None, 1, expected),
            AttemptFact::NotStarted { may_start: true }
        );
        assert_eq!(
            attempt_fact(&[seen(1, 9, false, false)], None, 1, expected),
            AttemptFact::NotStarted { may_start: true },
            "drawn in advance, not started"
        );
        assert_eq!(
            attempt_fact(&[seen(1, 9, true, false)], None, 1, expected),
            AttemptFact::InProgress { attempt_id: 1 }
        );
        assert_eq!(
            attempt_fact(&[seen(1, 9, true, true)], None, 2, expected),
            AttemptFact::AwaitingResult {
                attempt_id: 1,
                expected_by: expected
            },
            "waiting for marking, even with an attempt left"
        );
        assert_eq!(
            attempt_fact(
                &[seen(1, 8, true, true), seen(2, 9, true, true)],
                Some(at(20)),
                2,
                expected
            ),
            AttemptFact::Released {
                attempt_id: 2,
                released_at: at(20)
            }
        );
    }

    #[test]
    fn an_exam_may_be_started_only_in_its_window_with_an_attempt_left() {
        let open = exam(1, 9, 12, AttemptFact::NotStarted { may_start: true });
        assert!(may_start_now(&open, at(10)));
        assert!(!may_start_now(&open, at(8)), "not open yet");
        assert!(!may_start_now(&open, at(12)), "closed");
        let spent = exam(1, 9, 12, AttemptFact::NotStarted { may_start: false });
        assert!(!may_start_now(&spent, at(10)));
        let waiting = exam(
            1,
            9,
            12,
            AttemptFact::AwaitingResult {
                attempt_id: 1,
                expected_by: at(19),
            },
        );
        assert!(!may_start_now(&waiting, at(10)));
    }

    #[test]
    fn nothing_at_all_asks_her_to_choose_a_track() {
        assert_eq!(
            next_step(&situation(vec![], vec![], vec![])),
            Step::ChooseTrack
        );
    }

    #[test]
    fn an_exam_under_way_comes_before_everything() {
        let mut t = track(Some((Stage::Training, Some("training"))));
        t.training = Some(todo());
        let s = situation(
            vec![
                exam(1, 9, 11, AttemptFact::NotStarted { may_start: true }),
                exam(2, 9, 12, AttemptFact::InProgress { attempt_id: 7 }),
            ],
            vec![],
            vec![t],
        );
        assert!(matches!(
            next_step(&s),
            Step::ResumeExam { attempt_id: 7, .. }
        ));
    }

    #[test]
    fn an_open_exam_is_started_the_one_closing_first() {
        let s = situation(
            vec![
                exam(1, 9, 12, AttemptFact::NotStarted { may_start: true }),
                exam(2, 9, 11, AttemptFact::NotStarted { may_start: true }),
            ],
            vec![],
            vec![],
        );
        assert!(matches!(
            next_step(&s),
            Step::StartExam {
                exam_id: ExamId(2),
                ..
            }
        ));
    }

    #[test]
    fn an_exam_she_may_not_start_again_is_not_offered() {
        let s = situation(
            vec![exam(1, 9, 12, AttemptFact::NotStarted { may_start: false })],
            vec![],
            vec![],
        );
        assert_eq!(next_step(&s), Step::ChooseTrack);
    }

    #[test]
    fn a_closed_unstarted_exam_is_no_step() {
        let s = situation(
            vec![exam(1, 1, 5, AttemptFact::NotStarted { may_start: true })],
            vec![],
            vec![],
        );
        assert_eq!(next_step(&s), Step::ChooseTrack);
    }

    #[test]
    fn a_fresh_result_is_news_for_a_week_then_not() {
        let released = |day| AttemptFact::Released {
            attempt_id: 3,
            released_at: at(day),
        };
        let mut t = track(Some((Stage::CaseAssessment, Some("exam"))));
        t.training = None;
        let fresh = situation(vec![exam(1, 1, 2, released(8))], vec![], vec![t.clone()]);
        assert!(matches!(
            next_step(&fresh),
            Step::SeeResult { attempt_id: 3, .. }
        ));
        let old = situation(vec![exam(1, 1, 2, released(1))], vec![], vec![t]);
        assert!(matches!(next_step(&old), Step::AwaitExamSchedule { .. }));
    }

    #[test]
    fn training_comes_before_registering() {
        let mut t = track(Some((Stage::Training, Some("training"))));
        t.training = Some(todo());
        let offer = ExamOffer {
            exam_id: ExamId(4),
            title: "written".into(),
            opens_at: at(20),
        };
        let s = situation(vec![], vec![offer], vec![t]);
        assert!(
            matches!(next_step(&s), Step::Study { ref todo_kind, .. } if todo_kind == "lesson")
        );
    }

    #[test]
    fn an_offered_exam_is_registered_for_the_soonest_first() {
        let t = track(Some((Stage::WrittenExam, Some("exam"))));
        let offer = |id, day| ExamOffer {
            exam_id: ExamId(id),
            title: "written".into(),
            opens_at: at(day),
        };
        let s = situation(vec![], vec![offer(5, 25), offer(6, 20)], vec![t]);
        assert!(matches!(
            next_step(&s),
            Step::RegisterForExam {
                exam_id: ExamId(6),
                ..
            }
        ));
    }

    #[test]
    fn a_registered_exam_ahead_names_its_day() {
        let t = track(Some((Stage::WrittenExam, Some("exam"))));
        let s = situation(
            vec![exam(1, 20, 21, AttemptFact::NotStarted { may_start: true })],
            vec![],
            vec![t],
        );
        assert_eq!(
            next_step(&s),
            Step::SitExamOn {
                title: "exam 1".into(),
                opens_at: at(20)
            }
        );
    }

    #[test]
    fn at_an_exam_stage_with_nothing_scheduled_she_is_told_so() {
        let t = track(Some((Stage::WrittenExam, Some("exam"))));
        let s = situation(vec![], vec![], vec![t]);
        assert_eq!(
            next_step(&s),
            Step::AwaitExamSchedule {
                track: "Paediatrics".into()
            }
        );
    }

    #[test]
    fn a_waiting_period_names_the_first_day_of_a_retake() {
        let mut t = track(Some((Stage::WrittenExam, Some("waiting_period"))));
        t.retake_from = Some(at(24));
        let s = situation(vec![], vec![], vec![t]);
        assert_eq!(
            next_step(&s),
            Step::RetakeFrom {
                track: "Paediatrics".into(),
                from: at(24)
            }
        );
    }

    #[test]
    fn a_submitted_attempt_waits_for_its_result_and_is_never_restarted() {
        let s = situation(
            vec![exam(
                1,
                9,
                12,
                AttemptFact::AwaitingResult {
                    attempt_id: 2,
                    expected_by: at(20),
                },
            )],
            vec![],
            vec![track(Some((Stage::WrittenExam, Some("exam"))))],
        );
        assert!(matches!(next_step(&s), Step::AwaitResult { .. }));
    }

    #[test]
    fn the_committee_and_other_waits_are_named() {
        for reason in [
            "committee",
            "appeal",
            "practical",
            "eligibility:no_institution",
        ] {
            let s = situation(
                vec![],
                vec![],
                vec![track(Some((Stage::CommitteeReview, Some(reason))))],
            );
            assert_eq!(
                next_step(&s),
                Step::AwaitOthers {
                    track: "Paediatrics".into(),
                    reason: reason.into()
                }
            );
        }
    }

    #[test]
    fn a_live_credential_far_from_expiry_is_the_standing_news() {
        let mut t = track(None);
        t.credential = Some(credential(Status::Active, at(10) + Duration::days(400)));
        let s = situation(vec![], vec![], vec![t]);
        assert!(matches!(next_step(&s), Step::Certified { .. }));
    }

    #[test]
    fn a_credential_near_expiry_or_expired_asks_for_renewal_unless_renewing() {
        for (status, until) in [
            (
                Status::Active,
                at(10) + Duration::days(RENEW_WITHIN_DAYS - 1),
            ),
            (Status::Expired, at(1)),
        ] {
            let mut t = track(None);
            t.credential = Some(credential(status, until));
            let s = situation(vec![], vec![], vec![t.clone()]);
            assert!(matches!(next_step(&s), Step::Renew { .. }), "{status:?}");
            t.case = Some((Stage::Training, Some("training".into())));
            t.training = Some(todo());
            let renewing = situation(vec![], vec![], vec![t]);
            assert!(
                matches!(next_step(&renewing), Step::Study { .. }),
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_credential_issued_since_a_result_is_the_news_not_the_result() {
        let released = AttemptFact::Released {
            attempt_id: 3,
            released_at: at(8),
        };
        let mut t = track(None);
        let mut c = credential(Status::Active, at(10) + Duration::days(700));
        c.issued_at = at(9);
        t.credential = Some(c);
        let s = situation(vec![exam(1, 1, 2, released)], vec![], vec![t]);
        assert!(matches!(next_step(&s), Step::Certified { .. }));
    }

    #[test]
    fn a_suspended_credential_is_not_offered_renewal() {
        let mut t = track(None);
        t.credential = Some(credential(Status::Suspended, at(12)));
        let s = situation(vec![], vec![], vec![t]);
        assert!(matches!(next_step(&s), Step::Certified { .. }));
    }

    #[test]
    fn an_enrolled_track_without_a_case_asks_her_to_apply() {
        let s = situation(vec![], vec![], vec![track(None)]);
        assert_eq!(
            next_step(&s),
            Step::Apply {
                track: "Paediatrics".into()
            }
        );
    }

    #[test]
    fn a_certified_case_with_its_credential_is_not_a_wait() {
        let mut t = track(Some((Stage::Certified, None)));
        t.credential = Some(credential(Status::Active, at(10) + Duration::days(400)));
        let s = situation(vec![], vec![], vec![t]);
        assert!(matches!(next_step(&s), Step::Certified { .. }));
    }
}
