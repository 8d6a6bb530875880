//! The rules of a scheduled, timed exam: when an attempt may start, its
//! deadline, when an answer may still be saved, and what the candidate may
//! see afterwards. The server's deadline is the only clock that counts.

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::domain::ids::PersonId;
use crate::error::{Error, Result};

/// What a candidate sees once results are released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPolicy {
    /// Pass or fail and the score.
    ScoreOnly,
    /// Also the score per topic.
    Topics,
    /// Also their answers, the correct answers and the explanations.
    Full,
}

impl ReviewPolicy {
    pub const ALL: [ReviewPolicy; 3] = [
        ReviewPolicy::ScoreOnly,
        ReviewPolicy::Topics,
        ReviewPolicy::Full,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewPolicy::ScoreOnly => "score_only",
            ReviewPolicy::Topics => "topics",
            ReviewPolicy::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewPolicy> {
        ReviewPolicy::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The timing and retake rules of one exam, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub opens_at: NaiveDateTime,
    pub closes_at: NaiveDateTime,
    pub duration: Duration,
    /// Percentage of the total points needed to pass (1-100).
    pub pass_mark: u8,
    pub attempts_allowed: u32,
    /// Time between the end of one attempt and the start of the next.
    pub waiting_period: Duration,
}

pub const MAX_DURATION_MINUTES: i64 = 8 * 60;

impl Schedule {
    /// Validates the numbers an admin entered, naming the field at fault.
    pub fn new(
        opens_at: NaiveDateTime,
        closes_at: NaiveDateTime,
        duration_minutes: i64,
        pass_mark: i64,
        attempts_allowed: i64,
        waiting_days: i64,
    ) -> Result<Schedule> {
        if closes_at <= opens_at {
            return Err(Error::invalid(
                "closes_at",
                "must be after the opening time",
            ));
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&duration_minutes) {
            return Err(Error::invalid(
                "duration_minutes",
                format!("must be 1 to {MAX_DURATION_MINUTES} minutes"),
            ));
        }
        if Duration::minutes(duration_minutes) > closes_at - opens_at {
            return Err(Error::invalid(
                "duration_minutes",
                "is longer than the window between opening and closing",
            ));
        }
        let pass_mark = u8::try_from(pass_mark)
            .ok()
            .filter(|p| (1..=100).contains(p))
            .ok_or_else(|| Error::invalid("pass_mark", "must be a percentage from 1 to 100"))?;
        let attempts_allowed = u32::try_from(attempts_allowed)
            .ok()
            .filter(|a| (1..=10).contains(a))
            .ok_or_else(|| Error::invalid("attempts_allowed", "must be 1 to 10"))?;
        if !(0..=365).contains(&waiting_days) {
            return Err(Error::invalid("waiting_days", "must be 0 to 365 days"));
        }
        Ok(Schedule {
            opens_at,
            closes_at,
            duration: Duration::minutes(duration_minutes),
            pass_mark,
            attempts_allowed,
            waiting_period: Duration::days(waiting_days),
        })
    }
}

/// A candidate's own arrangements: extra time, or a different window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accommodation {
    pub extra: Duration,
    pub opens_at: Option<NaiveDateTime>,
    pub closes_at: Option<NaiveDateTime>,
}

/// The most extra time one candidate can be given.
pub const MAX_EXTRA_MINUTES: i64 = 240;

impl Accommodation {
    /// Validates what an admin grants one candidate, naming the bad field.
    pub fn new(
        extra_minutes: i64,
        opens_at: Option<NaiveDateTime>,
        closes_at: Option<NaiveDateTime>,
    ) -> Result<Accommodation> {
        if !(0..=MAX_EXTRA_MINUTES).contains(&extra_minutes) {
            return Err(Error::invalid(
                "extra_minutes",
                format!("must be 0 to {MAX_EXTRA_MINUTES} minutes"),
            ));
        }
        if let (Some(o), Some(c)) = (opens_at, closes_at)
            && c <= o
        {
            return Err(Error::invalid(
                "closes_at",
                "must be after the opening time",
            ));
        }
        Ok(Accommodation {
            extra: Duration::minutes(extra_minutes),
            opens_at,
            closes_at,
        })
    }

    /// Whether it grants anything beyond the exam's own terms.
    pub fn grants_anything(&self) -> bool {
        self.extra > Duration::zero() || self.opens_at.is_some() || self.closes_at.is_some()
    }

    pub fn window(&self, s: &Schedule) -> (NaiveDateTime, NaiveDateTime) {
        (
            self.opens_at.unwrap_or(s.opens_at),
            self.closes_at.unwrap_or(s.closes_at),
        )
    }
}

/// Why an attempt may not start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartRefusal {
    NotOpenYet { opens_at: NaiveDateTime },
    Closed,
    NoAttemptsLeft,
    Waiting { until: NaiveDateTime },
}

impl StartRefusal {
    pub fn into_error(self) -> Error {
        let message = match self {
            StartRefusal::NotOpenYet { opens_at } => format!("the exam opens at {opens_at} UTC"),
            StartRefusal::Closed => "the exam has closed".to_owned(),
            StartRefusal::NoAttemptsLeft => "no attempts are left".to_owned(),
            StartRefusal::Waiting { until } => format!("the next attempt may start at {until} UTC"),
        };
        Error::conflict("exam", message)
    }
}

/// Whether a new attempt may start at `now`. `finished` are the end times of
/// earlier attempts.
pub fn may_start(
    schedule: &Schedule,
    acc: &Accommodation,
    finished: &[NaiveDateTime],
    now: NaiveDateTime,
) -> std::result::Result<(), StartRefusal> {
    let (opens, closes) = acc.window(schedule);
    if now < opens {
        return Err(StartRefusal::NotOpenYet { opens_at: opens });
    }
    if now >= closes {
        return Err(StartRefusal::Closed);
    }
    if u32::try_from(finished.len()).unwrap_or(u32::MAX) >= schedule.attempts_allowed {
        return Err(StartRefusal::NoAttemptsLeft);
    }
    if let Some(last) = finished.iter().max() {
        let until = *last + schedule.waiting_period;
        if now < until {
            return Err(StartRefusal::Waiting { until });
        }
    }
    Ok(())
}

/// The attempt's deadline: its time plus any extra time, but never past the
/// candidate's window.
pub fn deadline(
    schedule: &Schedule,
    acc: &Accommodation,
    started_at: NaiveDateTime,
) -> NaiveDateTime {
    let (_, closes) = acc.window(schedule);
    (started_at + schedule.duration + acc.extra).min(closes)
}

/// How long after the deadline a save already in flight is still accepted.
pub const DEFAULT_GRACE_SECONDS: i64 = 15;

/// The longest grace an exam may allow.
pub const MAX_GRACE_SECONDS: i64 = 300;

/// An exam's grace period, the default when none is given.
pub fn grace(seconds: Option<i64>) -> Result<Duration> {
    let seconds = seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=MAX_GRACE_SECONDS).contains(&seconds) {
        return Err(Error::invalid(
            "grace_seconds",
            format!("must be 0 to {MAX_GRACE_SECONDS} seconds"),
        ));
    }
    Ok(Duration::seconds(seconds))
}

/// Whether an attempt's time, grace included, is over: saves stop and the
/// auto-submit job takes it.
pub fn time_is_up(deadline: NaiveDateTime, grace: Duration, now: NaiveDateTime) -> bool {
    now > deadline + grace
}

/// Whether an answer may be saved at `now`.
pub fn may_save(
    deadline: NaiveDateTime,
    grace: Duration,
    submitted: bool,
    now: NaiveDateTime,
) -> Result<()> {
    if submitted {
        return Err(Error::conflict(
            "attempt",
            "the attempt has been submitted; answers can no longer change",
        ));
    }
    if time_is_up(deadline, grace, now) {
        return Err(Error::conflict(
            "attempt",
            "the time is up; this answer arrived after the deadline",
        ));
    }
    Ok(())
}

/// Where an exam's window stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    Upcoming,
    Open,
    Closed,
}

impl WindowState {
    pub fn at(
        opens_at: NaiveDateTime,
        closes_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> WindowState {
        if now < opens_at {
            WindowState::Upcoming
        } else if now >= closes_at {
            WindowState::Closed
        } else {
            WindowState::Open
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WindowState::Upcoming => "upcoming",
            WindowState::Open => "open",
            WindowState::Closed => "closed",
        }
    }
}

/// Who may register whom: an admin anyone, with accommodations; anyone else
/// only themself and without granting themself any.
pub fn may_register(is_admin: bool, for_self: bool, with_accommodation: bool) -> bool {
    is_admin || (for_self && !with_accommodation)
}

/// Who may sit an exam (until the certification pipeline adds its stage
/// rule): an active doctor of an alliance member institution.
pub fn eligible(active: bool, is_doctor: bool, institution_is_member: Option<bool>) -> Result<()> {
    if !active {
        return Err(Error::conflict("person_id", "the person is deactivated"));
    }
    if !is_doctor {
        return Err(Error::conflict(
            "person_id",
            "only doctors sit certification exams",
        ));
    }
    match institution_is_member {
        Some(true) => Ok(()),
        Some(false) => Err(Error::conflict(
            "person_id",
            "the doctor's institution is not an alliance member",
        )),
        None => Err(Error::conflict(
            "person_id",
            "the doctor has no institution",
        )),
    }
}

/// Whether an attempt counts as passed.
pub fn passed(score: f64, total: f64, pass_mark: u8) -> bool {
    total > 0.0 && score * 100.0 >= total * f64::from(pass_mark)
}

/// Only the admin who scheduled an exam closes it early and releases its
/// results: the one person answerable for it (another admin is refused and
/// the refusal audited).
pub fn is_owner(created_by: Option<PersonId>, me: PersonId) -> bool {
    created_by == Some(me)
}

/// Why an exam may not close before its window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyCloseRefusal {
    /// Not open: it has not opened yet, or it has closed already.
    NotOpen,
    /// Candidates are sitting it now: closing would cut them off.
    AttemptsUnderWay(u64),
    /// Registered candidates have not submitted: only a reason (kept in
    /// the audit record) closes it on them.
    ReasonNeeded(u64),
}

impl EarlyCloseRefusal {
    pub fn message(self) -> String {
        match self {
            EarlyCloseRefusal::NotOpen => "only an open exam can be closed early".to_owned(),
            EarlyCloseRefusal::AttemptsUnderWay(n) => {
                format!(
                    "candidates are sitting it now ({n}); it can close once they have submitted"
                )
            }
            EarlyCloseRefusal::ReasonNeeded(n) => format!(
                "registered candidates have not sat it ({n}); give the reason for closing it on them"
            ),
        }
    }
}

/// An exam's owner may close it before its window ends, so that results
/// need not wait for a date set weeks ago: while it is open, never while a
/// candidate is sitting it, and either when every registered candidate has
/// submitted or with a reason for those who have not.
pub fn may_close_early(
    state: WindowState,
    under_way: u64,
    yet_to_submit: u64,
    reason_given: bool,
) -> Result<(), EarlyCloseRefusal> {
    if state != WindowState::Open {
        return Err(EarlyCloseRefusal::NotOpen);
    }
    if under_way > 0 {
        return Err(EarlyCloseRefusal::AttemptsUnderWay(under_way));
    }
    if yet_to_submit > 0 && !reason_given {
        return Err(EarlyCloseRefusal::ReasonNeeded(yet_to_submit));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_the_admin_who_scheduled_an_exam_owns_it() {
        assert!(is_owner(Some(PersonId(7)), PersonId(7)));
        assert!(!is_owner(Some(PersonId(7)), PersonId(8)));
        // An exam loaded from before owners were recorded has none.
        assert!(!is_owner(None, PersonId(7)));
    }

    #[test]
    fn an_exam_closes_early_only_when_open_idle_and_done_or_explained() {
        use EarlyCloseRefusal::*;
        use WindowState::*;
        assert_eq!(may_close_early(Open, 0, 0, false), Ok(()));
        assert_eq!(may_close_early(Open, 0, 0, true), Ok(()));
        assert_eq!(may_close_early(Open, 0, 3, true), Ok(()));
        assert_eq!(may_close_early(Open, 0, 3, false), Err(ReasonNeeded(3)));
        // Nobody is cut off mid-exam, whatever the reason.
        assert_eq!(may_close_early(Open, 2, 0, true), Err(AttemptsUnderWay(2)));
        assert_eq!(may_close_early(Open, 1, 4, false), Err(AttemptsUnderWay(1)));
        for state in [Upcoming, Closed] {
            assert_eq!(may_close_early(state, 0, 0, true), Err(NotOpen));
        }
        assert!(ReasonNeeded(3).message().contains("(3)"));
    }
    use super::*;

    fn t(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
            + Duration::minutes(minutes)
    }

    fn schedule() -> Schedule {
        // Opens at 0, closes at 180, 90 minutes, 2 attempts, 7 days apart.
        Schedule::new(t(0), t(180), 90, 60, 2, 7).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn schedules_name_the_bad_field() {
        let field = |r: Result<Schedule>| r.err().and_then(|e| e.field().map(str::to_owned));
        assert_eq!(
            field(Schedule::new(t(10), t(10), 90, 60, 1, 0)).as_deref(),
            Some("closes_at")
        );
        assert_eq!(
            field(Schedule::new(t(0), t(60), 90, 60, 1, 0)).as_deref(),
            Some("duration_minutes")
        );
        assert_eq!(
            field(Schedule::new(t(0), t(600), 0, 60, 1, 0)).as_deref(),
            Some("duration_minutes")
        );
        assert_eq!(
            field(Schedule::new(t(0), t(600), 90, 0, 1, 0)).as_deref(),
            Some("pass_mark")
        );
        assert_eq!(
            field(Schedule::new(t(0), t(600), 90, 101, 1, 0)).as_deref(),
            Some("pass_mark")
        );
        assert_eq!(
            field(Schedule::new(t(0), t(600), 90, 60, 0, 0)).as_deref(),
            Some("attempts_allowed")
        );
        assert_eq!(
            field(Schedule::new(t(0), t(600), 90, 60, 1, -1)).as_deref(),
            Some("waiting_days")
        );
    }

    #[test]
    fn starts_only_inside_the_window() {
        let s = schedule();
        let acc = Accommodation::default();
        assert_eq!(
            may_start(&s, &acc, &[], t(-1)),
            Err(StartRefusal::NotOpenYet { opens_at: t(0) })
        );
        assert_eq!(may_start(&s, &acc, &[], t(0)), Ok(()));
        assert_eq!(may_start(&s, &acc, &[], t(179)), Ok(()));
        assert_eq!(may_start(&s, &acc, &[], t(180)), Err(StartRefusal::Closed));
        // A different window for one candidate.
        let late = Accommodation {
            opens_at: Some(t(200)),
            closes_at: Some(t(400)),
            ..Accommodation::default()
        };
        assert!(may_start(&s, &late, &[], t(100)).is_err());
        assert_eq!(may_start(&s, &late, &[], t(300)), Ok(()));
    }

    #[test]
    fn retakes_follow_the_attempt_limit_and_waiting_period() {
        let mut s = schedule();
        s.closes_at = t(60 * 24 * 30);
        let acc = Accommodation::default();
        let first_end = t(90);
        assert_eq!(
            may_start(&s, &acc, &[first_end], t(100)),
            Err(StartRefusal::Waiting {
                until: first_end + Duration::days(7)
            })
        );
        assert_eq!(
            may_start(&s, &acc, &[first_end], first_end + Duration::days(7)),
            Ok(())
        );
        assert_eq!(
            may_start(&s, &acc, &[first_end, t(60 * 24 * 8)], t(60 * 24 * 20)),
            Err(StartRefusal::NoAttemptsLeft)
        );
    }

    #[test]
    fn the_deadline_is_duration_plus_extra_capped_by_closing() {
        let s = schedule();
        let none = Accommodation::default();
        assert_eq!(deadline(&s, &none, t(10)), t(100));
        let extra = Accommodation {
            extra: Duration::minutes(30),
            ..Accommodation::default()
        };
        assert_eq!(deadline(&s, &extra, t(10)), t(130));
        // Starting late: the closing time wins.
        assert_eq!(deadline(&s, &none, t(150)), t(180));
        assert_eq!(deadline(&s, &extra, t(100)), t(180));
    }

    #[test]
    fn saves_stop_at_the_deadline_plus_grace_and_at_submission() {
        let grace = Duration::seconds(DEFAULT_GRACE_SECONDS);
        assert!(may_save(t(100), grace, false, t(100)).is_ok());
        assert!(may_save(t(100), grace, false, t(100) + Duration::seconds(15)).is_ok());
        assert!(may_save(t(100), grace, false, t(100) + Duration::seconds(16)).is_err());
        assert!(may_save(t(100), grace, true, t(50)).is_err());
    }

    #[test]
    fn the_pass_mark_is_inclusive() {
        assert!(passed(60.0, 100.0, 60));
        assert!(!passed(59.9, 100.0, 60));
        assert!(passed(3.0, 5.0, 60));
        assert!(!passed(0.0, 0.0, 1));
    }

    #[test]
    fn only_active_doctors_of_member_institutions_are_eligible() {
        assert!(eligible(true, true, Some(true)).is_ok());
        assert!(eligible(false, true, Some(true)).is_err());
        assert!(eligible(true, false, Some(true)).is_err());
        assert!(eligible(true, true, Some(false)).is_err());
        assert!(eligible(true, true, None).is_err());
    }

    #[test]
    fn accommodations_and_grace_are_bounded() {
        let field = |r: Result<Accommodation>| r.err().and_then(|e| e.field().map(str::to_owned));
        assert!(Accommodation::new(0, None, None).is_ok_and(|a| !a.grants_anything()));
        assert!(Accommodation::new(240, None, None).is_ok_and(|a| a.grants_anything()));
        assert_eq!(
            field(Accommodation::new(241, None, None)).as_deref(),
            Some("extra_minutes")
        );
        assert_eq!(
            field(Accommodation::new(-1, None, None)).as_deref(),
            Some("extra_minutes")
        );
        assert_eq!(
            field(Accommodation::new(0, Some(t(10)), Some(t(10)))).as_deref(),
            Some("closes_at")
        );
        assert!(Accommodation::new(0, Some(t(10)), None).is_ok_and(|a| a.grants_anything()));
        assert_eq!(
            grace(None).ok(),
            Some(Duration::seconds(DEFAULT_GRACE_SECONDS))
        );
        assert_eq!(grace(Some(300)).ok(), Some(Duration::seconds(300)));
        assert!(grace(Some(301)).is_err() && grace(Some(-1)).is_err());
        assert!(!time_is_up(
            t(100),
            Duration::seconds(15),
            t(100) + Duration::seconds(15)
        ));
        assert!(time_is_up(
            t(100),
            Duration::seconds(15),
            t(100) + Duration::seconds(16)
        ));
    }

    #[test]
    fn window_states_and_registration_rights() {
        assert_eq!(WindowState::at(t(0), t(10), t(-1)), WindowState::Upcoming);
        assert_eq!(WindowState::at(t(0), t(10), t(0)), WindowState::Open);
        assert_eq!(WindowState::at(t(0), t(10), t(10)), WindowState::Closed);
        assert!(may_register(true, false, true));
        assert!(may_register(false, true, false));
        assert!(!may_register(false, true, true));
        assert!(!may_register(false, false, false));
    }

    #[test]
    fn review_policies_round_trip() {
        for p in ReviewPolicy::ALL {
            assert_eq!(ReviewPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(ReviewPolicy::parse("everything"), None);
    }
}
