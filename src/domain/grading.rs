//! Marking open answers (case analyses) fairly, and computing results.
//!
//! Every open answer is marked by two examiners, independently and blind,
//! against the question's rubric. The final mark rule:
//!
//! - if the two totals differ by no more than the exam's tolerance (a
//!   percentage of the item's points, default 20%), the final mark is their
//!   mean;
//! - otherwise a third examiner marks it, and the final mark is the mean of
//!   the two closest of the three totals; if the third lies exactly halfway,
//!   both pairs are equally close and the final mark is the middle total.
//!
//! Work is allocated from a queue: each answer goes to examiners who are not
//! from the candidate's institution and have not marked it yet, the least
//! loaded first (ties by id, so allocation is reproducible).

use crate::domain::ids::PersonId;
use std::collections::HashMap;

use crate::domain::numbers::{count_f64, whole_i64, whole_u32};

/// Which marking of an answer a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkerRole {
    First,
    Second,
    Third,
    /// The re-mark of an appealed answer, by an examiner who has not marked
    /// it; it becomes the answer's final mark.
    Appeal,
}

impl MarkerRole {
    pub fn number(self) -> i32 {
        match self {
            MarkerRole::First => 1,
            MarkerRole::Second => 2,
            MarkerRole::Third => 3,
            MarkerRole::Appeal => 4,
        }
    }

    pub fn from_number(n: i32) -> Option<MarkerRole> {
        match n {
            1 => Some(MarkerRole::First),
            2 => Some(MarkerRole::Second),
            3 => Some(MarkerRole::Third),
            4 => Some(MarkerRole::Appeal),
            _ => None,
        }
    }
}

/// Whether two totals disagree enough to need a third marker: strictly more
/// than `tolerance_percent` of the item's points apart.
pub fn needs_third(a: f64, b: f64, points: u32, tolerance_percent: u32) -> bool {
    // Compare in hundredths of a point so that 20% of 10 points is exactly 2.
    // Totals of at most 100 points: hundredths far inside i64.
    let gap = whole_i64(((a - b).abs() * 100.0).round());
    let allowed = i64::from(points) * i64::from(tolerance_percent);
    gap > allowed
}

/// Where an answer's marking stands, given the totals submitted so far in
/// marker order (first, second, third).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marking {
    /// Waiting for the first or second marker.
    Waiting,
    /// The two totals disagree: a third marker is needed.
    NeedsThird,
    /// The final mark.
    Final(f64),
}

pub fn marking(totals: &[f64], points: u32, tolerance_percent: u32) -> Marking {
    match totals {
        [] | [_] => Marking::Waiting,
        [a, b] => {
            if needs_third(*a, *b, points, tolerance_percent) {
                Marking::NeedsThird
            } else {
                Marking::Final((a + b) / 2.0)
            }
        }
        [a, b, c, ..] => Marking::Final(closest_pair_mean(*a, *b, *c)),
    }
}

/// The final mark the submitted marks of an answer give, by the rule
/// marking applies as they arrive: an appeal's re-mark is final; otherwise
/// [`marking`] over the first, second and third markers' totals. `None`
/// while they give none.
pub fn final_mark(marks: &[(MarkerRole, f64)], points: u32, tolerance_percent: u32) -> Option<f64> {
    if let Some((_, appeal)) = marks.iter().find(|(role, _)| *role == MarkerRole::Appeal) {
        return Some(*appeal);
    }
    let mut markers: Vec<(MarkerRole, f64)> = marks.to_vec();
    markers.sort_by_key(|(role, _)| *role);
    let totals: Vec<f64> = markers.iter().map(|(_, total)| *total).collect();
    match marking(&totals, points, tolerance_percent) {
        Marking::Final(mark) => Some(mark),
        Marking::Waiting | Marking::NeedsThird => None,
    }
}

fn closest_pair_mean(a: f64, b: f64, c: f64) -> f64 {
    let mut v = [a, b, c];
    v.sort_by(f64::total_cmp);
    let low = v[1] - v[0];
    let high = v[2] - v[1];
    if (low - high).abs() < 1e-9 {
        v[1]
    } else if low < high {
        (v[0] + v[1]) / 2.0
    } else {
        (v[1] + v[2]) / 2.0
    }
}

/// A candidate may appeal from the release of results for `appeal_days`
/// days (the last moment included).
pub fn appeal_open(
    released_at: Option<chrono::NaiveDateTime>,
    appeal_days: u32,
    now: chrono::NaiveDateTime,
) -> bool {
    released_at
        .is_some_and(|r| now >= r && now <= r + chrono::Duration::days(i64::from(appeal_days)))
}

/// What an appeal's re-mark does to the mark: a track's policy, set by the
/// committee.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AppealRule {
    /// The re-mark replaces the mark, higher or lower (the default, as in
    /// most certification examinations: a mark is the best judgement of an
    /// examiner who has not seen it, and an appeal that could only raise
    /// marks would favour those who appeal over those who do not).
    #[default]
    RemarkStands,
    /// The re-mark counts only when it is higher: an appeal never costs the
    /// appellant anything.
    NoDetriment,
}

impl AppealRule {
    pub const ALL: [AppealRule; 2] = [AppealRule::RemarkStands, AppealRule::NoDetriment];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealRule::RemarkStands => "remark_stands",
            AppealRule::NoDetriment => "no_detriment",
        }
    }

    pub fn parse(s: &str) -> Option<AppealRule> {
        AppealRule::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// Where the committee's review of a flagged question stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    /// Flagged by the item analysis (or opened by a member), not decided.
    Open,
    /// Kept as it was.
    Kept,
    /// Corrected in its bank; answers rescored against the new version.
    Corrected,
    /// Removed from the exam: it counts in no result.
    Removed,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 4] = [
        ReviewStatus::Open,
        ReviewStatus::Kept,
        ReviewStatus::Corrected,
        ReviewStatus::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Kept => "kept",
            ReviewStatus::Corrected => "corrected",
            ReviewStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        ReviewStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealStatus {
    /// Waiting for its re-mark.
    Open,
    /// Re-marked; its outcome is recorded.
    Decided,
}

impl AppealStatus {
    pub const ALL: [AppealStatus; 2] = [AppealStatus::Open, AppealStatus::Decided];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealStatus::Open => "open",
            AppealStatus::Decided => "decided",
        }
    }

    pub fn parse(s: &str) -> Option<AppealStatus> {
        AppealStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Where a round of standard setting (modified Angoff) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingStatus {
    /// Members are rating its items.
    Rating,
    /// Approved: its cut score is the exam's pass mark.
    Approved,
}

impl SettingStatus {
    pub const ALL: [SettingStatus; 2] = [SettingStatus::Rating, SettingStatus::Approved];

    pub fn as_str(self) -> &'static str {
        match self {
            SettingStatus::Rating => "rating",
            SettingStatus::Approved => "approved",
        }
    }

    pub fn parse(s: &str) -> Option<SettingStatus> {
        SettingStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What an appeal's re-mark did to the answer's mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppealEffect {
    /// The re-mark equals the mark.
    Unchanged,
    /// The re-mark is higher and replaces the mark.
    Raised,
    /// The re-mark is lower and replaces the mark (the re-mark stands).
    Lowered,
    /// The re-mark is lower and does not count (no detriment).
    LowerNotApplied,
}

impl AppealEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealEffect::Unchanged => "unchanged",
            AppealEffect::Raised => "raised",
            AppealEffect::Lowered => "lowered",
            AppealEffect::LowerNotApplied => "lower_not_applied",
        }
    }

    /// Whether the answer's mark changes.
    pub fn changes_mark(self) -> bool {
        matches!(self, AppealEffect::Raised | AppealEffect::Lowered)
    }
}

/// The answer's final mark after an appeal's re-mark, and what the re-mark
/// did, under the track's rule. Compared in hundredths of a point, as the
/// third-marker rule is.
pub fn decide_appeal(rule: AppealRule, before: f64, remark: f64) -> (f64, AppealEffect) {
    // Marks of at most 100 points: hundredths far inside i64.
    let diff = whole_i64(((remark - before) * 100.0).round());
    match diff.signum() {
        0 => (before, AppealEffect::Unchanged),
        1 => (remark, AppealEffect::Raised),
        _ => match rule {
            AppealRule::RemarkStands => (remark, AppealEffect::Lowered),
            AppealRule::NoDetriment => (before, AppealEffect::LowerNotApplied),
        },
    }
}

/// One criterion's mark must lie within 0 and the criterion's points, in
/// half points.
pub fn valid_criterion_mark(points: f64, max: u32) -> bool {
    points.is_finite() && points >= 0.0 && points <= f64::from(max) && (points * 2.0).fract() == 0.0
}

/// An examiner who may be given work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Examiner {
    pub id: PersonId,
    pub institution_id: Option<i64>,
}

/// An examiner never marks (or assesses in person) a candidate of their own
/// institution. A candidate or examiner without an institution conflicts
/// with nobody.
pub fn may_mark(examiner_institution: Option<i64>, candidate_institution: Option<i64>) -> bool {
    candidate_institution.is_none() || examiner_institution != candidate_institution
}

/// Picks the examiner for the next marking of an answer: not from the
/// candidate's institution, not one who has already marked it, least loaded
/// first, then lowest id. `load` counts the open tasks of each examiner and
/// is updated with the choice.
pub fn pick_examiner(
    examiners: &[Examiner],
    candidate_institution: Option<i64>,
    already: &[PersonId],
    load: &mut HashMap<PersonId, u32>,
) -> Option<PersonId> {
    let chosen = examiners
        .iter()
        .filter(|e| may_mark(e.institution_id, candidate_institution))
        .filter(|e| !already.contains(&e.id))
        .min_by_key(|e| (load.get(&e.id).copied().unwrap_or(0), e.id))?
        .id;
    *load.entry(chosen).or_insert(0) += 1;
    Some(chosen)
}

/// An exam's marking settings: the third-marker tolerance (percent of an
/// item's points, default 20, 0-100), days to mark (default 7, 1-60) and the
/// appeal period after release (days, default 14, 0-90). Errors name the field.
pub fn marking_settings(
    tolerance_percent: Option<i64>,
    marking_days: Option<i64>,
    appeal_days: Option<i64>,
) -> Result<(i32, i32, i32), (&'static str, &'static str)> {
    let within = |value: i64, range: std::ops::RangeInclusive<i32>| {
        i32::try_from(value).ok().filter(|v| range.contains(v))
    };
    let tolerance = within(tolerance_percent.unwrap_or(20), 0..=100).ok_or((
        "marking_tolerance",
        "must be 0 to 100 (percent of an item's points)",
    ))?;
    let days =
        within(marking_days.unwrap_or(7), 1..=60).ok_or(("marking_days", "must be 1 to 60"))?;
    let appeal =
        within(appeal_days.unwrap_or(14), 0..=90).ok_or(("appeal_days", "must be 0 to 90"))?;
    Ok((tolerance, days, appeal))
}

// ----- standard setting (modified Angoff) -----

/// Committee members who must rate before a cut score counts.
pub const MIN_RATERS: usize = 3;

/// The modified Angoff cut score, as a percentage of a paper's points:
/// each committee member rates, for every question that may appear on the
/// paper, the probability that a borderline candidate (one who just
/// deserves to pass) gets it right. A rater's expected score is the
/// weighted mean of their probabilities, each question weighted by its
/// expected points on the paper a candidate sits (points × mix / cell
/// size: see `domain::papers::shares`), not by its points alone: a pool
/// holds more questions than a paper, and a cell the paper draws a small
/// share of must not weigh as if the paper held it whole. The cut score is
/// the mean over raters. `None` until `MIN_RATERS` raters have rated every
/// question.
///
/// `ratings` holds (rater, question, probability); `weights` each
/// question's expected points on the paper.
pub fn angoff_cut(ratings: &[(PersonId, i64, f64)], weights: &HashMap<i64, f64>) -> Option<f64> {
    let total: f64 = weights.values().sum();
    if total <= 0.0 {
        return None;
    }
    let mut raters: Vec<PersonId> = ratings.iter().map(|r| r.0).collect();
    raters.sort_unstable();
    raters.dedup();
    let mut expected = Vec::new();
    for rater in raters {
        let mine: HashMap<i64, f64> = ratings
            .iter()
            .filter(|r| r.0 == rater)
            .map(|r| (r.1, r.2))
            .collect();
        if !weights.keys().all(|q| mine.contains_key(q)) {
            continue;
        }
        let sum: f64 = weights
            .iter()
            .map(|(q, w)| mine.get(q).copied().unwrap_or(0.0) * w)
            .sum();
        expected.push(sum / total * 100.0);
    }
    if expected.len() < MIN_RATERS {
        return None;
    }
    Some(expected.iter().sum::<f64>() / count_f64(expected.len()))
}

/// The pass mark an approved cut score sets: rounded up to a whole percent,
/// so the standard is never lowered by rounding.
// Clamped to 1..=100 first: a whole percent that fits.
pub fn pass_mark_from_cut(cut: f64) -> u32 {
    whole_u32((cut - 1e-9).ceil().clamp(1.0, 100.0))
}

pub fn valid_probability(p: f64) -> bool {
    p.is_finite() && (0.0..=1.0).contains(&p)
}

// ----- results -----

/// One item of a paper as the result needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemScore {
    pub topic: String,
    pub points: u32,
    /// `None` while an open answer is not finally marked.
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TopicScore {
    pub topic: String,
    pub score: f64,
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExamResult {
    pub score: f64,
    pub points: u32,
    /// Whole percent, rounded down, so a pass is never rounded up.
    pub percent: u32,
    pub passed: bool,
    pub by_topic: Vec<TopicScore>,
}

/// The result of a paper against the pass mark (a percentage), or `None`
/// while any item is unmarked.
pub fn result(items: &[ItemScore], pass_mark: u32) -> Option<ExamResult> {
    let mut score = 0.0;
    let mut points = 0u32;
    let mut by_topic: Vec<TopicScore> = Vec::new();
    for item in items {
        let s = item.score?;
        score += s;
        points += item.points;
        match by_topic.iter_mut().find(|t| t.topic == item.topic) {
            Some(t) => {
                t.score += s;
                t.points += item.points;
            }
            None => by_topic.push(TopicScore {
                topic: item.topic.clone(),
                score: s,
                points: item.points,
            }),
        }
    }
    by_topic.sort_by(|a, b| a.topic.cmp(&b.topic));
    let percent = if points == 0 {
        0
    } else {
        // A whole percent of the points (a score above them would still
        // fit; a float cast saturates rather than wraps).
        whole_u32(((score * 100.0 / f64::from(points)) + 1e-9).floor())
    };
    Some(ExamResult {
        score,
        points,
        percent,
        passed: points > 0 && percent >= pass_mark,
        by_topic,
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    #[test]
    fn grading_statuses_read_back_from_their_stored_words() {
        for s in ReviewStatus::ALL {
            assert_eq!(ReviewStatus::parse(s.as_str()), Some(s));
        }
        for s in AppealStatus::ALL {
            assert_eq!(AppealStatus::parse(s.as_str()), Some(s));
        }
        for s in SettingStatus::ALL {
            assert_eq!(SettingStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ReviewStatus::parse("Kept"), None);
        assert_eq!(AppealStatus::parse("closed"), None);
        assert_eq!(SettingStatus::parse(""), None);
    }

    #[test]
    fn the_final_mark_is_rebuilt_from_the_submitted_marks() {
        use MarkerRole::*;
        // Two within the tolerance: their mean, whatever order they come in.
        assert_eq!(
            final_mark(&[(Second, 8.0), (First, 7.0)], 10, 20),
            Some(7.5)
        );
        // Beyond it, nothing until the third: then the two closest.
        assert_eq!(final_mark(&[(First, 3.0), (Second, 8.0)], 10, 20), None);
        assert_eq!(
            final_mark(&[(First, 3.0), (Second, 8.0), (Third, 7.0)], 10, 20),
            Some(7.5)
        );
        // An appeal's re-mark is final.
        assert_eq!(
            final_mark(&[(First, 3.0), (Second, 4.0), (Appeal, 6.5)], 10, 20),
            Some(6.5)
        );
        assert_eq!(final_mark(&[(First, 3.0)], 10, 20), None);
        assert_eq!(final_mark(&[], 10, 20), None);
    }

    #[test]
    fn a_third_marker_is_needed_only_beyond_the_tolerance() {
        // 10 points, 20%: up to 2 points apart is fine.
        assert!(!needs_third(6.0, 8.0, 10, 20), "exactly at the tolerance");
        assert!(needs_third(6.0, 8.5, 10, 20), "just beyond");
        assert!(!needs_third(8.0, 6.0, 10, 20), "order does not matter");
        assert!(!needs_third(7.0, 7.0, 10, 20));
        assert!(needs_third(0.0, 10.0, 10, 20));
        assert!(!needs_third(0.0, 10.0, 10, 100));
        assert!(
            needs_third(5.0, 5.5, 10, 0),
            "zero tolerance: any difference"
        );
        // 15 points at 20% allows 3.
        assert!(!needs_third(9.0, 12.0, 15, 20));
        assert!(needs_third(9.0, 12.5, 15, 20));
    }

    #[test]
    fn the_final_mark_follows_the_documented_rule() {
        assert_eq!(marking(&[], 10, 20), Marking::Waiting);
        assert_eq!(marking(&[6.0], 10, 20), Marking::Waiting);
        assert_eq!(marking(&[6.0, 8.0], 10, 20), Marking::Final(7.0));
        assert_eq!(marking(&[6.0, 8.5], 10, 20), Marking::NeedsThird);
        // Three marks: the mean of the two closest.
        assert_eq!(marking(&[2.0, 9.0, 8.0], 10, 20), Marking::Final(8.5));
        assert_eq!(marking(&[2.0, 9.0, 3.0], 10, 20), Marking::Final(2.5));
        // The third exactly halfway: the middle mark.
        assert_eq!(marking(&[2.0, 8.0, 5.0], 10, 20), Marking::Final(5.0));
        // The third equal to one of them: that pair.
        assert_eq!(marking(&[4.0, 9.0, 9.0], 10, 20), Marking::Final(9.0));
    }

    #[test]
    fn appeals_are_open_only_in_the_period_after_release() {
        let released = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("valid");
        let days = chrono::Duration::days;
        assert!(!appeal_open(None, 14, released), "not before release");
        assert!(appeal_open(Some(released), 14, released));
        assert!(
            appeal_open(Some(released), 14, released + days(14)),
            "the last moment counts"
        );
        assert!(!appeal_open(
            Some(released),
            14,
            released + days(14) + chrono::Duration::seconds(1)
        ));
        assert!(!appeal_open(
            Some(released),
            0,
            released + chrono::Duration::seconds(1)
        ));
        assert_eq!(MarkerRole::from_number(4), Some(MarkerRole::Appeal));
        assert_eq!(MarkerRole::from_number(5), None);
    }

    #[test]
    fn criterion_marks_are_half_points_within_the_criterion() {
        assert!(valid_criterion_mark(0.0, 4));
        assert!(valid_criterion_mark(2.5, 4));
        assert!(valid_criterion_mark(4.0, 4));
        assert!(!valid_criterion_mark(4.5, 4));
        assert!(!valid_criterion_mark(-0.5, 4));
        assert!(!valid_criterion_mark(1.25, 4));
        assert!(!valid_criterion_mark(f64::NAN, 4));
    }

    #[test]
    fn examiners_never_mark_their_own_institution_and_load_is_balanced() {
        let examiners = [
            Examiner {
                id: PersonId(1),
                institution_id: Some(10),
            },
            Examiner {
                id: PersonId(2),
                institution_id: Some(20),
            },
            Examiner {
                id: PersonId(3),
                institution_id: Some(30),
            },
            Examiner {
                id: PersonId(4),
                institution_id: None,
            },
        ];
        let mut load = HashMap::new();
        // A candidate from institution 10: examiner 1 is never chosen.
        let mut picked = Vec::new();
        for _ in 0..6 {
            let first = pick_examiner(&examiners, Some(10), &[], &mut load).expect("someone");
            let second = pick_examiner(&examiners, Some(10), &[first], &mut load).expect("someone");
            assert_ne!(first, second);
            picked.extend([first, second]);
        }
        assert!(!picked.contains(&PersonId(1)));
        // Twelve markings over three examiners: four each.
        for id in [2, 3, 4] {
            assert_eq!(
                picked.iter().filter(|p| **p == PersonId(id)).count(),
                4,
                "{id}"
            );
        }
        // Nobody left who is eligible.
        let few = [
            Examiner {
                id: PersonId(1),
                institution_id: Some(10),
            },
            Examiner {
                id: PersonId(2),
                institution_id: Some(20),
            },
        ];
        assert_eq!(
            pick_examiner(&few, Some(10), &[PersonId(2)], &mut HashMap::new()),
            None
        );
        // A candidate without an institution may be marked by anyone.
        assert_eq!(
            pick_examiner(&few, None, &[], &mut HashMap::new()),
            Some(PersonId(1))
        );
    }

    #[test]
    fn the_angoff_cut_score_is_the_mean_of_the_raters_expected_scores() {
        // A paper that holds both questions: q1 worth 1 point, q2 worth 3.
        let weights: HashMap<i64, f64> = [(1, 1.0), (2, 3.0)].into_iter().collect();
        // Rater 10: (0.8·1 + 0.4·3)/4 = 0.5 → 50%.
        // Rater 11: (0.6·1 + 0.6·3)/4 = 0.6 → 60%.
        // Rater 12: (1.0·1 + 0.8·3)/4 = 0.85 → 85%.
        // Mean: 65%.
        let ratings = [
            (PersonId(10), 1, 0.8),
            (PersonId(10), 2, 0.4),
            (PersonId(11), 1, 0.6),
            (PersonId(11), 2, 0.6),
            (PersonId(12), 1, 1.0),
            (PersonId(12), 2, 0.8),
        ];
        let cut = angoff_cut(&ratings, &weights).expect("three complete raters");
        assert!((cut - 65.0).abs() < 1e-9, "{cut}");
        // A rater who skipped a question does not count; two raters are too few.
        let partial = [
            (PersonId(10), 1, 0.8),
            (PersonId(10), 2, 0.4),
            (PersonId(11), 1, 0.6),
            (PersonId(11), 2, 0.6),
            (PersonId(12), 1, 1.0),
        ];
        assert_eq!(angoff_cut(&partial, &weights), None);
        assert_eq!(angoff_cut(&[], &weights), None);
        assert_eq!(angoff_cut(&ratings, &HashMap::new()), None);
    }

    /// Issue 14's example: the blueprint draws 4 of 6 one-point questions
    /// and 1 of 2 six-point ones, a 10-point paper. The ratings below were
    /// worked out so that the figures are exact:
    ///
    /// | rater | six one-point questions (sum) | two six-point (sum) |
    /// |-------|-------------------------------|---------------------|
    /// | 10    | 1, 1, 1, 1, .95, .95 (5.90)   | .40, .30 (0.70)     |
    /// | 11    | 1, 1, 1, .95, .95, .95 (5.85) | .35, .40 (0.75)     |
    /// | 12    | 1, 1, .95, .95, .95, .95 (5.80) | .30, .38 (0.68)   |
    ///
    /// On the paper (weights 4/6 and 6·1/2 = 3): rater 10 expects
    /// (5.90·4/6 + 0.70·3)/10 = 60.33%, rater 11 61.50%, rater 12 59.07%;
    /// the cut is their mean, exactly 60.3% (pass mark 61). Weighted over the
    /// whole pool by points alone, (5.90 + 0.70·6)/18 = 56.11%, 57.50% and
    /// 54.89%: a cut of 56.17%, shown as 56.2% (pass mark 57), at which a
    /// 60% candidate would pass.
    #[test]
    fn the_angoff_cut_weighs_each_question_by_its_share_of_the_paper() {
        use crate::domain::banks::QuestionKind;
        use crate::domain::papers::{self, Blueprint, Candidate, Section, Share};
        use std::collections::BTreeMap;
        let candidate = |id: i64, difficulty: u8| Candidate {
            version_id: 100 + id,
            question_id: id,
            topic: "fever".into(),
            difficulty,
            kind: QuestionKind::Single,
            options: 4,
            exposure: 0,
        };
        // Questions 1-6 are one-pointers (difficulty 2), 7-8 six-pointers (4).
        let pool: Vec<Candidate> = (1..=6)
            .map(|id| candidate(id, 2))
            .chain((7..=8).map(|id| candidate(id, 4)))
            .collect();
        let section = |title: &str, difficulty: u8, n: u32, points: u32| Section {
            title: title.into(),
            topics: vec!["fever".into()],
            kinds: vec![],
            mix: BTreeMap::from([(difficulty, n)]),
            points,
        };
        let blueprint = Blueprint {
            sections: vec![section("Short", 2, 4, 1), section("Long", 4, 1, 6)],
        };
        let shares = papers::shares(&blueprint, &pool);
        let weights: HashMap<i64, f64> =
            shares.iter().map(|s| (s.question_id, s.weight())).collect();
        assert!((weights[&1] - 4.0 / 6.0).abs() < 1e-12);
        assert!((weights[&7] - 3.0).abs() < 1e-12);
        assert!((shares.iter().map(Share::weight).sum::<f64>() - 10.0).abs() < 1e-9);
        let rows: [(PersonId, [f64; 6], [f64; 2]); 3] = [
            (PersonId(10), [1.0, 1.0, 1.0, 1.0, 0.95, 0.95], [0.40, 0.30]),
            (
                PersonId(11),
                [1.0, 1.0, 1.0, 0.95, 0.95, 0.95],
                [0.35, 0.40],
            ),
            (
                PersonId(12),
                [1.0, 1.0, 0.95, 0.95, 0.95, 0.95],
                [0.30, 0.38],
            ),
        ];
        let mut ratings = Vec::new();
        for (rater, short, long) in rows {
            for (q, p) in (1..=6).zip(short) {
                ratings.push((rater, q, p));
            }
            for (q, p) in (7..=8).zip(long) {
                ratings.push((rater, q, p));
            }
        }
        let cut = angoff_cut(&ratings, &weights).expect("three complete raters");
        assert!((cut - 60.3).abs() < 1e-9, "{cut}");
        assert_eq!(pass_mark_from_cut(cut), 61);
        // The old weighting, by points over the whole pool: 56.2%.
        let by_points: HashMap<i64, f64> = shares
            .iter()
            .map(|s| (s.question_id, f64::from(s.points)))
            .collect();
        let old = angoff_cut(&ratings, &by_points).expect("three complete raters");
        assert_eq!(format!("{old:.1}"), "56.2");
        assert_eq!(pass_mark_from_cut(old), 57);
        // A 60% candidate passes the old pass mark and fails the paper's.
        let sixty = [ItemScore {
            topic: "fever".into(),
            points: 10,
            score: Some(6.0),
        }];
        assert!(result(&sixty, pass_mark_from_cut(old)).is_some_and(|r| r.passed));
        assert!(result(&sixty, pass_mark_from_cut(cut)).is_some_and(|r| !r.passed));
    }

    #[test]
    fn an_appeal_re_mark_stands_or_never_lowers_the_mark_as_the_track_decides() {
        use AppealEffect::*;
        use AppealRule::*;
        // The re-mark stands: it replaces the mark either way.
        assert_eq!(decide_appeal(RemarkStands, 8.0, 6.0), (6.0, Lowered));
        assert_eq!(decide_appeal(RemarkStands, 6.0, 8.0), (8.0, Raised));
        assert_eq!(decide_appeal(RemarkStands, 7.5, 7.5), (7.5, Unchanged));
        // No detriment: a lower re-mark does not count; a higher one does.
        assert_eq!(decide_appeal(NoDetriment, 8.0, 6.0), (8.0, LowerNotApplied));
        assert_eq!(decide_appeal(NoDetriment, 6.0, 8.0), (8.0, Raised));
        assert_eq!(decide_appeal(NoDetriment, 7.5, 7.5), (7.5, Unchanged));
        // Half a point either way is a change; float noise is not.
        assert_eq!(decide_appeal(RemarkStands, 7.0, 6.5), (6.5, Lowered));
        assert_eq!(
            decide_appeal(NoDetriment, 0.1 + 0.2, 0.3),
            (0.1 + 0.2, Unchanged)
        );
        assert!(Lowered.changes_mark() && Raised.changes_mark());
        assert!(!Unchanged.changes_mark() && !LowerNotApplied.changes_mark());
        // The strict rule is the default; names round-trip.
        assert_eq!(AppealRule::default(), RemarkStands);
        for r in AppealRule::ALL {
            assert_eq!(AppealRule::parse(r.as_str()), Some(r));
        }
        assert_eq!(AppealRule::parse("lenient"), None);
    }

    #[test]
    fn marking_settings_have_defaults_and_bounds() {
        assert_eq!(marking_settings(None, None, None), Ok((20, 7, 14)));
        assert_eq!(marking_settings(Some(0), Some(1), Some(0)), Ok((0, 1, 0)));
        assert_eq!(
            marking_settings(Some(100), Some(60), Some(90)),
            Ok((100, 60, 90))
        );
        assert_eq!(
            marking_settings(Some(101), None, None).map_err(|e| e.0),
            Err("marking_tolerance")
        );
        assert_eq!(
            marking_settings(None, Some(0), None).map_err(|e| e.0),
            Err("marking_days")
        );
        assert_eq!(
            marking_settings(None, None, Some(91)).map_err(|e| e.0),
            Err("appeal_days")
        );
    }

    #[test]
    fn the_pass_mark_rounds_the_cut_score_up() {
        assert_eq!(pass_mark_from_cut(65.0), 65);
        assert_eq!(pass_mark_from_cut(64.1), 65);
        assert_eq!(pass_mark_from_cut(0.2), 1);
        assert_eq!(pass_mark_from_cut(100.0), 100);
        assert!(valid_probability(0.0) && valid_probability(1.0) && valid_probability(0.35));
        assert!(
            !valid_probability(1.01) && !valid_probability(-0.1) && !valid_probability(f64::NAN)
        );
    }

    #[test]
    fn nobody_marks_their_own_institution() {
        assert!(!may_mark(Some(1), Some(1)));
        assert!(may_mark(Some(1), Some(2)));
        assert!(may_mark(None, Some(2)));
        assert!(may_mark(Some(1), None));
        assert!(may_mark(None, None));
    }

    fn item(topic: &str, points: u32, score: Option<f64>) -> ItemScore {
        ItemScore {
            topic: topic.into(),
            points,
            score,
        }
    }

    #[test]
    fn results_add_up_by_topic_and_never_round_a_pass_up() {
        let items = [
            item("fever", 2, Some(2.0)),
            item("asthma", 2, Some(0.0)),
            item("fever", 10, Some(7.5)),
            item("asthma", 2, Some(2.0)),
        ];
        let r = result(&items, 70).expect("all marked");
        assert_eq!(r.score, 11.5);
        assert_eq!(r.points, 16);
        assert_eq!(r.percent, 71); // 71.875 rounded down
        assert!(r.passed);
        assert_eq!(
            r.by_topic,
            vec![
                TopicScore {
                    topic: "asthma".into(),
                    score: 2.0,
                    points: 4
                },
                TopicScore {
                    topic: "fever".into(),
                    score: 9.5,
                    points: 12
                },
            ]
        );
        assert!(
            !result(&items, 72).expect("marked").passed,
            "71.9% is not 72%"
        );
        assert!(
            result(&items, 71).expect("marked").passed,
            "the pass mark itself passes"
        );
        assert_eq!(
            result(&[item("fever", 10, None)], 50),
            None,
            "unmarked: no result yet"
        );
        assert!(
            !result(&[], 0).expect("empty").passed,
            "an empty paper never passes"
        );
    }
}
