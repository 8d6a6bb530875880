//! Item analysis of an exam: how each question behaved, and how reliable
//! the test was. Classical test theory, with the definitions below (each
//! checked by unit tests against values worked out by hand).
//!
//! - **Facility** of a question: the mean fraction of its points earned by
//!   the candidates who drew it (for one-point items, the proportion correct).
//! - **Discrimination, item-rest**: the Pearson correlation between a
//!   candidate's fraction on the item and their fraction on the rest of their
//!   paper (the item itself left out).
//! - **Discrimination, upper-lower 27%**: candidates who drew the item are
//!   ranked by their total; the mean item fraction of the top 27% minus that
//!   of the bottom 27% (each group at least one candidate).
//! - **Reliability**: Cronbach's alpha over paper *slots*. Every candidate's
//!   paper meets the same blueprint exactly (`domain::papers`): the same
//!   sections with the same difficulty mix. Each paper's items are put in
//!   the canonical order (section, difficulty, question id) by the caller, so
//!   the i-th items of different papers are parallel forms of one item, and
//!   the very same question when everyone drew the same ones. alpha = k/(k−1) ·
//!   (1 − Σ var(position) / var(total)), population variances. The standard
//!   error of measurement is SD(total) · √(1 − alpha).
//!
//! A question is flagged for the committee when at least `MIN_RESPONSES`
//! candidates drew it and its facility is below 0.2 or above 0.95 (too hard
//! or too easy to tell candidates apart), or its item-rest discrimination is
//! below 0.1 (near zero or negative: strong candidates do no better on it).

use crate::domain::numbers::{count_f64, whole_usize};

/// Fewer responses than this say too little to flag a question.
pub const MIN_RESPONSES: usize = 5;
pub const LOW_FACILITY: f64 = 0.2;
pub const HIGH_FACILITY: f64 = 0.95;
pub const LOW_DISCRIMINATION: f64 = 0.1;

/// One candidate's paper: per position, the question drawn there and the
/// fraction of its points earned (0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Paper {
    pub items: Vec<(i64, f64)>,
}

impl Paper {
    fn total(&self) -> f64 {
        self.items.iter().map(|(_, f)| f).sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemStats {
    pub question_id: i64,
    pub responses: usize,
    pub facility: f64,
    /// `None` when it cannot be computed (fewer than two responses, or no
    /// spread in the item or in the rest scores).
    pub item_rest: Option<f64>,
    pub upper_lower: Option<f64>,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    TooHard,
    TooEasy,
    PoorDiscrimination,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::TooHard => "too_hard",
            Flag::TooEasy => "too_easy",
            Flag::PoorDiscrimination => "poor_discrimination",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TestStats {
    pub candidates: usize,
    pub mean: f64,
    pub sd: f64,
    pub alpha: Option<f64>,
    pub sem: Option<f64>,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / count_f64(v.len())
    }
}

/// Population variance.
fn variance(v: &[f64]) -> f64 {
    let m = mean(v);
    if v.is_empty() {
        0.0
    } else {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / count_f64(v.len())
    }
}

/// Pearson correlation; `None` without spread in either variable.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (mx, my) = (mean(x), mean(y));
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum::<f64>().sqrt();
    let sy: f64 = y.iter().map(|b| (b - my).powi(2)).sum::<f64>().sqrt();
    if sx < 1e-12 || sy < 1e-12 {
        return None;
    }
    Some(cov / (sx * sy))
}

/// Statistics of one question over the papers that drew it.
pub fn item_stats(question_id: i64, papers: &[Paper]) -> ItemStats {
    // (item fraction, rest fraction, total) for each paper with the item.
    let mut rows: Vec<(f64, f64, f64)> = Vec::new();
    for p in papers {
        if let Some((_, f)) = p.items.iter().find(|(q, _)| *q == question_id) {
            let total = p.total();
            let others = p.items.len().saturating_sub(1);
            let rest = if others == 0 {
                0.0
            } else {
                (total - f) / count_f64(others)
            };
            rows.push((*f, rest, total));
        }
    }
    let n = rows.len();
    let item: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let rest: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let facility = mean(&item);
    let item_rest = pearson(&item, &rest);
    let upper_lower = if n >= 2 {
        let mut ranked = rows.clone();
        ranked.sort_by(|a, b| b.2.total_cmp(&a.2));
        // 27% of the candidates, rounded: between 0 and `n`.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let group = whole_usize((count_f64(n) * 0.27).round()).max(1);
        let upper: Vec<f64> = ranked.iter().take(group).map(|r| r.0).collect();
        let lower: Vec<f64> = ranked.iter().rev().take(group).map(|r| r.0).collect();
        Some(mean(&upper) - mean(&lower))
    } else {
        None
    };
    let mut flags = Vec::new();
    if n >= MIN_RESPONSES {
        if facility < LOW_FACILITY {
            flags.push(Flag::TooHard);
        }
        if facility > HIGH_FACILITY {
            flags.push(Flag::TooEasy);
        }
        if item_rest.is_some_and(|d| d < LOW_DISCRIMINATION) {
            flags.push(Flag::PoorDiscrimination);
        }
    }
    ItemStats {
        question_id,
        responses: n,
        facility,
        item_rest,
        upper_lower,
        flags,
    }
}

/// Whole-test statistics; totals are in fractions summed over positions.
pub fn test_stats(papers: &[Paper]) -> TestStats {
    let totals: Vec<f64> = papers.iter().map(Paper::total).collect();
    let sd = variance(&totals).sqrt();
    let k = papers.iter().map(|p| p.items.len()).min().unwrap_or(0);
    let alpha = if papers.len() >= 2 && k >= 2 && variance(&totals) > 1e-12 {
        let sum_item_var: f64 = (0..k)
            .map(|i| {
                let column: Vec<f64> = papers
                    .iter()
                    // i < k, the shortest paper's length.
                    .filter_map(|p| p.items.get(i).map(|item| item.1))
                    .collect();
                variance(&column)
            })
            .sum();
        let k = count_f64(k);
        Some(k / (k - 1.0) * (1.0 - sum_item_var / variance(&totals)))
    } else {
        None
    };
    TestStats {
        candidates: papers.len(),
        mean: mean(&totals),
        sd,
        alpha,
        sem: alpha.map(|a| sd * (1.0 - a).max(0.0).sqrt()),
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

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    /// Five candidates, the same three one-point questions (ids 1, 2, 3):
    ///
    /// ```text
    ///        q1 q2 q3 total
    /// A       1  1  1   3
    /// B       1  1  0   2
    /// C       1  0  1   2
    /// D       1  0  0   1
    /// E       0  0  0   0
    /// ```
    fn papers() -> Vec<Paper> {
        [
            [1.0, 1.0, 1.0],
            [1.0, 1.0, 0.0],
            [1.0, 0.0, 1.0],
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
        ]
        .iter()
        .map(|row| Paper {
            items: row
                .iter()
                .enumerate()
                .map(|(i, f)| (i as i64 + 1, *f))
                .collect(),
        })
        .collect()
    }

    #[test]
    fn facility_is_the_mean_fraction() {
        let p = papers();
        assert!(close(item_stats(1, &p).facility, 0.8));
        assert!(close(item_stats(2, &p).facility, 0.4));
        assert!(close(item_stats(3, &p).facility, 0.4));
    }

    #[test]
    fn item_rest_correlation_by_hand() {
        // q2: item = [1,1,0,0,0]; rest (mean of the other two) =
        // [1, .5, 1, .5, 0]. Means .4 and .6; deviations item
        // [.6,.6,-.4,-.4,-.4], rest [.4,-.1,.4,-.1,-.6];
        // cov = .24-.06-.16+.04+.24 = .30; Σdx² = 1.2; Σdy² = .7;
        // r = .30 / √(.84) = 0.327327…
        let s = item_stats(2, &papers());
        assert!(
            close(s.item_rest.expect("defined"), 0.30 / 0.84f64.sqrt()),
            "{s:?}"
        );
        // q1: item [1,1,1,1,0], rest [1,.5,.5,0,0]: means .8, .4;
        // cov = .12+.02+.02-.08+.32 = .4; Σdx² = .8; Σdy² = .7;
        // r = .4/√.56 = 0.534522…
        let s = item_stats(1, &papers());
        assert!(close(s.item_rest.expect("defined"), 0.4 / 0.56f64.sqrt()));
    }

    #[test]
    fn upper_lower_index_by_hand() {
        // 27% of 5 rounds to 1: top A, bottom E.
        assert!(close(
            item_stats(1, &papers()).upper_lower.expect("defined"),
            1.0
        ));
        assert!(close(
            item_stats(2, &papers()).upper_lower.expect("defined"),
            1.0
        ));
    }

    #[test]
    fn cronbach_alpha_and_sem_by_hand() {
        // Totals [3,2,2,1,0]: mean 1.6, variance (1.96+.16+.16+.36+2.56)/5 = 1.04.
        // Position variances: .16, .24, .24 → sum .64.
        // alpha = 3/2 · (1 − .64/1.04) = 0.576923…; SEM = √1.04 · √(1 − α).
        let t = test_stats(&papers());
        assert_eq!(t.candidates, 5);
        assert!(close(t.mean, 1.6));
        let alpha = 1.5 * (1.0 - 0.64 / 1.04);
        assert!(close(t.alpha.expect("defined"), alpha));
        assert!(close(
            t.sem.expect("defined"),
            1.04f64.sqrt() * (1.0 - alpha).sqrt()
        ));
    }

    #[test]
    fn weak_questions_are_flagged_with_enough_responses() {
        // Everyone right: too easy, and no spread for a correlation.
        let easy: Vec<Paper> = (0..6)
            .map(|i| Paper {
                items: vec![(7, 1.0), (8, f64::from(i % 2))],
            })
            .collect();
        assert_eq!(item_stats(7, &easy).flags, vec![Flag::TooEasy]);
        // Nobody right: too hard.
        let hard: Vec<Paper> = (0..6)
            .map(|i| Paper {
                items: vec![(7, 0.0), (8, f64::from(i % 2))],
            })
            .collect();
        assert_eq!(item_stats(7, &hard).flags, vec![Flag::TooHard]);
        // Only the weak get it right: negative discrimination.
        let upside_down: Vec<Paper> = [
            (0.0, 1.0),
            (0.0, 1.0),
            (0.0, 1.0),
            (1.0, 0.0),
            (1.0, 0.0),
            (1.0, 0.0),
        ]
        .iter()
        .map(|(q, rest)| Paper {
            items: vec![(7, *q), (8, *rest), (9, *rest)],
        })
        .collect();
        let s = item_stats(7, &upside_down);
        assert!(s.item_rest.expect("defined") < 0.0);
        assert_eq!(s.flags, vec![Flag::PoorDiscrimination]);
        // Too few responses: no flags at all.
        assert!(item_stats(7, &hard[..4]).flags.is_empty());
        // The good questions of the hand-worked set are not flagged.
        assert!(item_stats(2, &papers()).flags.is_empty());
    }

    #[test]
    fn statistics_without_spread_are_undefined_not_nan() {
        let one = vec![Paper {
            items: vec![(1, 1.0), (2, 0.0)],
        }];
        assert_eq!(item_stats(1, &one).item_rest, None);
        assert_eq!(item_stats(1, &one).upper_lower, None);
        assert_eq!(test_stats(&one).alpha, None);
        assert_eq!(item_stats(99, &one).responses, 0);
        assert_eq!(pearson(&[1.0, 1.0], &[0.0, 1.0]), None);
    }
}
