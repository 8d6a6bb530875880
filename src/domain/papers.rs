//! Drawing an exam paper from the question banks.
//!
//! A blueprint has sections; each draws a fixed number of questions per
//! difficulty from its topics (and optionally only some kinds), so every
//! candidate's paper has exactly the same difficulty mix: forms stay
//! comparable. Within a cell the least-drawn questions are preferred, so
//! exposure stays balanced. Question order within each section and option
//! order within each question are shuffled per candidate. Everything comes
//! from one seed stored with the attempt, through ChaCha20 (whose output is
//! fixed by its specification), so a paper can be rebuilt and audited.

use std::collections::{BTreeMap, HashSet};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::domain::banks::QuestionKind;

/// One section of a blueprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The section's title.
    pub title: String,
    /// Topics the section draws from.
    pub topics: Vec<String>,
    /// Only these kinds (empty: any kind): single, multiple, true_false, case.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub kinds: Vec<QuestionKind>,
    /// How many questions of each difficulty (1-5), e.g. `{"2": 3, "3": 4}`.
    #[schema(value_type = Object)]
    pub mix: BTreeMap<u8, u32>,
    /// Points each question of the section is worth on this paper.
    pub points: u32,
}

impl Section {
    pub fn size(&self) -> u32 {
        self.mix.values().sum()
    }

    fn admits(&self, c: &Candidate) -> bool {
        self.topics.contains(&c.topic) && (self.kinds.is_empty() || self.kinds.contains(&c.kind))
    }
}

/// What each paper of an exam draws from the question banks: the same sections and
/// difficulty mix for everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Blueprint {
    /// Its sections, in paper order.
    pub sections: Vec<Section>,
}

impl Blueprint {
    pub fn question_count(&self) -> u32 {
        self.sections.iter().map(Section::size).sum()
    }

    pub fn total_points(&self) -> u32 {
        self.sections.iter().map(|s| s.size() * s.points).sum()
    }
}

/// A question that may be drawn: the latest version of an unretired question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub version_id: i64,
    pub question_id: i64,
    pub topic: String,
    pub difficulty: u8,
    pub kind: QuestionKind,
    /// How many options it has (0 for true/false and case).
    pub options: usize,
    /// How many papers have drawn it so far.
    pub exposure: u32,
}

/// One question on a candidate's paper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub section: usize,
    pub version_id: i64,
    pub question_id: i64,
    pub points: u32,
    /// The order the options are shown in: `option_order[i]` is the index in
    /// the bank of the option shown in place `i`.
    pub option_order: Vec<usize>,
}

/// Why a blueprint cannot be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub section: usize,
    pub title: String,
    pub difficulty: u8,
    pub needed: u32,
    pub available: u32,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "section {} \"{}\": needs {} question(s) of difficulty {}, the banks have {}",
            self.section + 1,
            self.title,
            self.needed,
            self.difficulty,
            self.available
        )
    }
}

/// Checks a blueprint's own shape (not the banks).
pub fn check_shape(blueprint: &Blueprint) -> Result<(), String> {
    if blueprint.sections.is_empty() {
        return Err("the blueprint has no sections".into());
    }
    for (i, s) in blueprint.sections.iter().enumerate() {
        let name = format!("section {}", i + 1);
        if s.topics.is_empty() {
            return Err(format!("{name} has no topics"));
        }
        if s.size() == 0 {
            return Err(format!("{name} draws no questions"));
        }
        if let Some(d) = s.mix.keys().find(|d| !(1..=5).contains(*d)) {
            return Err(format!("{name}: difficulty {d} is not 1 to 5"));
        }
        if s.points == 0 {
            return Err(format!("{name}: questions must be worth at least 1 point"));
        }
    }
    Ok(())
}

/// How a question can appear on a paper: the blueprint cell it is drawn
/// from, its points there, and the share of that cell one paper draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share {
    pub question_id: i64,
    /// The section whose cell draws the question.
    pub section: usize,
    /// Points the question is worth on the paper (its section's).
    pub points: u32,
    /// The share of its cell a paper draws: the cell's mix over the number
    /// of questions in it (1 when the paper takes them all).
    pub share: f64,
}

impl Share {
    /// The question's expected points on a paper: points × mix / cell size.
    /// A cell's weights add up to the points it gives the paper, so the
    /// weights of the whole pool add up to the paper's total points.
    pub fn weight(&self) -> f64 {
        f64::from(self.points) * self.share
    }
}

/// Where each question of `pool` can appear on a paper of `blueprint`. A
/// cell is a section's difficulty; a question belongs to the first section
/// that admits it (topic, kind) and draws its difficulty, as in [`draw`].
/// Exposure balancing draws every question of a cell equally often over
/// many papers, so each is on a paper with probability mix / cell size.
/// Where sections overlap, a question the first section leaves may still
/// be drawn by a later one; it counts in the first only (the blueprint
/// check keeps overlapping sections rare). Questions no section draws are
/// left out.
pub fn shares(blueprint: &Blueprint, pool: &[Candidate]) -> Vec<Share> {
    let cell_of = |c: &Candidate| {
        blueprint
            .sections
            .iter()
            .enumerate()
            .find(|(_, s)| s.admits(c) && s.mix.contains_key(&c.difficulty))
            .map(|(i, _)| (i, c.difficulty))
    };
    let mut sizes: BTreeMap<(usize, u8), u32> = BTreeMap::new();
    for c in pool {
        if let Some(cell) = cell_of(c) {
            *sizes.entry(cell).or_insert(0) += 1;
        }
    }
    pool.iter()
        .filter_map(|c| {
            let (section, difficulty) = cell_of(c)?;
            let spec = blueprint.sections.get(section)?;
            let mix = spec.mix.get(&difficulty).copied().unwrap_or(0);
            let size = sizes
                .get(&(section, difficulty))
                .copied()
                .unwrap_or(0)
                .max(1);
            Some(Share {
                question_id: c.question_id,
                section,
                points: spec.points,
                share: (f64::from(mix) / f64::from(size)).min(1.0),
            })
        })
        .collect()
}

/// Draws a paper. The same blueprint, candidates and seed always give the
/// same paper. Fails with every cell the banks cannot fill.
pub fn draw(
    blueprint: &Blueprint,
    pool: &[Candidate],
    seed: u64,
) -> Result<Vec<Item>, Vec<Shortfall>> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut taken: HashSet<i64> = HashSet::new();
    let mut shortfalls = Vec::new();
    let mut paper = Vec::new();
    for (index, section) in blueprint.sections.iter().enumerate() {
        let mut chosen: Vec<&Candidate> = Vec::new();
        for (&difficulty, &needed) in &section.mix {
            let mut cell: Vec<&Candidate> = pool
                .iter()
                .filter(|c| {
                    c.difficulty == difficulty
                        && section.admits(c)
                        && !taken.contains(&c.question_id)
                })
                .collect();
            // More candidates than u32 counts are plenty.
            let available = u32::try_from(cell.len()).unwrap_or(u32::MAX);
            if available < needed {
                shortfalls.push(Shortfall {
                    section: index,
                    title: section.title.clone(),
                    difficulty,
                    needed,
                    available,
                });
                continue;
            }
            // Random among equals, least exposed first.
            cell.sort_by_key(|c| c.version_id);
            cell.shuffle(&mut rng);
            cell.sort_by_key(|c| c.exposure);
            // available >= needed here, and available came from a usize.
            for c in cell
                .into_iter()
                .take(usize::try_from(needed).unwrap_or(usize::MAX))
            {
                taken.insert(c.question_id);
                chosen.push(c);
            }
        }
        chosen.shuffle(&mut rng);
        for c in chosen {
            let mut option_order: Vec<usize> = (0..c.options).collect();
            option_order.shuffle(&mut rng);
            paper.push(Item {
                section: index,
                version_id: c.version_id,
                question_id: c.question_id,
                points: section.points,
                option_order,
            });
        }
    }
    if shortfalls.is_empty() {
        Ok(paper)
    } else {
        Err(shortfalls)
    }
}

/// Where a stored paper first differs from its redraw: the position (from
/// 1) and the item each has there (`None` past its end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub position: usize,
    pub stored: Option<Item>,
    pub redrawn: Option<Item>,
}

/// Compares a stored paper with the paper its seed draws again: the same
/// questions, at the same versions, sections and points, in the same order,
/// with the same option order.
pub fn first_difference(stored: &[Item], redrawn: &[Item]) -> Option<Difference> {
    let longest = stored.len().max(redrawn.len());
    (0..longest).find_map(|i| {
        let (a, b) = (stored.get(i), redrawn.get(i));
        (a != b).then(|| Difference {
            position: i + 1,
            stored: a.cloned(),
            redrawn: b.cloned(),
        })
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

    fn pool() -> Vec<Candidate> {
        let mut pool = Vec::new();
        let mut id = 0;
        for topic in ["fever", "asthma", "rashes"] {
            for difficulty in 1..=5u8 {
                for _ in 0..4 {
                    id += 1;
                    pool.push(Candidate {
                        version_id: 1000 + id,
                        question_id: id,
                        topic: topic.into(),
                        difficulty,
                        kind: if id % 5 == 0 {
                            QuestionKind::Case
                        } else {
                            QuestionKind::Single
                        },
                        options: if id % 5 == 0 { 0 } else { 4 },
                        exposure: 0,
                    });
                }
            }
        }
        pool
    }

    fn blueprint() -> Blueprint {
        Blueprint {
            sections: vec![
                Section {
                    title: "Knowledge".into(),
                    topics: vec!["fever".into(), "asthma".into()],
                    kinds: vec![QuestionKind::Single],
                    mix: BTreeMap::from([(1, 2), (2, 3), (3, 3), (4, 2)]),
                    points: 1,
                },
                Section {
                    title: "Cases".into(),
                    topics: vec!["fever".into(), "asthma".into(), "rashes".into()],
                    kinds: vec![QuestionKind::Case],
                    mix: BTreeMap::from([(3, 1), (4, 1)]),
                    points: 10,
                },
            ],
        }
    }

    #[test]
    fn the_same_seed_rebuilds_the_same_paper() {
        let a = draw(&blueprint(), &pool(), 42);
        let b = draw(&blueprint(), &pool(), 42);
        assert!(a.is_ok());
        assert_eq!(a, b);
        let c = draw(&blueprint(), &pool(), 43);
        assert_ne!(a, c, "another seed, another paper");
    }

    #[test]
    fn a_fixed_seed_gives_a_fixed_paper() {
        // Guards the audit promise across library upgrades (rand's shuffle,
        // ChaCha20): if this changes, stored seeds no longer rebuild old
        // papers, so an upgrade must keep the old drawing code for them.
        let paper = draw(&blueprint(), &pool(), 7).unwrap_or_default();
        let ids: Vec<i64> = paper.iter().map(|i| i.question_id).collect();
        assert_eq!(ids.len(), 12);
        let again: Vec<i64> = draw(&blueprint(), &pool(), 7)
            .unwrap_or_default()
            .iter()
            .map(|i| i.question_id)
            .collect();
        assert_eq!(ids, again);
        assert_eq!(
            ids,
            [22, 7, 32, 9, 11, 14, 21, 26, 16, 27, 30, 15],
            "the draw for a fixed seed changed"
        );
    }

    #[test]
    fn every_paper_meets_the_blueprint_exactly() {
        let pool = pool();
        for seed in 0..200 {
            let paper = draw(&blueprint(), &pool, seed).unwrap_or_default();
            assert_eq!(paper.len(), 12);
            let by_id = |id: i64| pool.iter().find(|c| c.question_id == id).cloned();
            for (section, spec) in blueprint().sections.iter().enumerate() {
                let items: Vec<Candidate> = paper
                    .iter()
                    .filter(|i| i.section == section)
                    .filter_map(|i| by_id(i.question_id))
                    .collect();
                for (&d, &n) in &spec.mix {
                    assert_eq!(
                        u32::try_from(items.iter().filter(|c| c.difficulty == d).count()).unwrap(),
                        n,
                        "seed {seed} section {section} difficulty {d}"
                    );
                }
                assert!(items.iter().all(|c| spec.admits(c)));
                assert!(
                    paper
                        .iter()
                        .filter(|i| i.section == section)
                        .all(|i| i.points == spec.points)
                );
            }
            let distinct: HashSet<i64> = paper.iter().map(|i| i.question_id).collect();
            assert_eq!(distinct.len(), paper.len(), "no question twice");
            for item in &paper {
                let mut order = item.option_order.clone();
                order.sort_unstable();
                assert_eq!(
                    order,
                    (0..by_id(item.question_id).map(|c| c.options).unwrap_or(0))
                        .collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn order_and_options_are_shuffled_per_candidate() {
        let papers: Vec<Vec<Item>> = (0..50)
            .map(|s| draw(&blueprint(), &pool(), s).unwrap_or_default())
            .collect();
        let first_positions: HashSet<i64> = papers.iter().map(|p| p[0].question_id).collect();
        assert!(first_positions.len() > 5, "question order varies");
        let option_orders: HashSet<Vec<usize>> =
            papers.iter().map(|p| p[0].option_order.clone()).collect();
        assert!(option_orders.len() > 5, "option order varies");
    }

    #[test]
    fn the_least_drawn_questions_come_first() {
        let mut pool = pool();
        // Everything has been drawn a lot except two difficulty-1 fever questions.
        for c in &mut pool {
            c.exposure = 50;
        }
        let fresh: Vec<i64> = pool
            .iter()
            .filter(|c| c.topic == "fever" && c.difficulty == 1 && c.kind == QuestionKind::Single)
            .map(|c| c.question_id)
            .take(2)
            .collect();
        for c in pool.iter_mut().filter(|c| fresh.contains(&c.question_id)) {
            c.exposure = 0;
        }
        let bp = Blueprint {
            sections: vec![Section {
                title: "Easy".into(),
                topics: vec!["fever".into(), "asthma".into()],
                kinds: vec![QuestionKind::Single],
                mix: BTreeMap::from([(1, 2)]),
                points: 1,
            }],
        };
        for seed in 0..20 {
            let mut drawn: Vec<i64> = draw(&bp, &pool, seed)
                .unwrap_or_default()
                .iter()
                .map(|i| i.question_id)
                .collect();
            drawn.sort_unstable();
            let mut expected = fresh.clone();
            expected.sort_unstable();
            assert_eq!(drawn, expected);
        }
    }

    #[test]
    fn every_short_cell_is_reported() {
        let mut bp = blueprint();
        bp.sections[0].mix.insert(5, 40);
        bp.sections[1].mix.insert(1, 9);
        let shortfalls = draw(&bp, &pool(), 1).err().unwrap_or_default();
        assert_eq!(shortfalls.len(), 2);
        assert_eq!(
            (
                shortfalls[0].section,
                shortfalls[0].difficulty,
                shortfalls[0].needed
            ),
            (0, 5, 40)
        );
        assert_eq!((shortfalls[1].section, shortfalls[1].difficulty), (1, 1));
        assert!(
            shortfalls[0]
                .to_string()
                .contains("needs 40 question(s) of difficulty 5")
        );
    }

    #[test]
    fn a_redrawn_paper_is_compared_item_by_item() {
        let paper = draw(&blueprint(), &pool(), 9).unwrap_or_default();
        assert_eq!(first_difference(&paper, &paper), None);
        let mut reordered = paper.clone();
        reordered[1].option_order.reverse();
        let d = first_difference(&reordered, &paper).unwrap();
        assert_eq!(d.position, 2);
        assert_eq!(d.redrawn.as_ref(), paper.get(1));
        let mut other_version = paper.clone();
        other_version[4].version_id += 1;
        assert_eq!(
            first_difference(&other_version, &paper).unwrap().position,
            5
        );
        let short = &paper[..paper.len() - 1];
        let d = first_difference(short, &paper).unwrap();
        assert_eq!((d.position, d.stored), (paper.len(), None));
    }

    #[test]
    fn a_question_weighs_its_points_times_its_cells_share_of_the_paper() {
        let pool = pool();
        let shares = shares(&blueprint(), &pool);
        let share_of = |id: i64| shares.iter().find(|s| s.question_id == id).copied();
        // Knowledge, difficulty 1: single-choice fever and asthma questions
        // (ids not divisible by 5), 2 drawn of them.
        let easy: Vec<&Candidate> = pool
            .iter()
            .filter(|c| {
                c.difficulty == 1
                    && c.kind == QuestionKind::Single
                    && (c.topic == "fever" || c.topic == "asthma")
            })
            .collect();
        for c in &easy {
            let s = share_of(c.question_id).expect("drawable");
            assert_eq!((s.section, s.points), (0, 1));
            assert!((s.share - 2.0 / easy.len() as f64).abs() < 1e-12);
        }
        // A rashes single-choice question fits no section: never on a paper.
        let rashes = pool
            .iter()
            .find(|c| c.topic == "rashes" && c.kind == QuestionKind::Single)
            .expect("in the pool");
        assert_eq!(share_of(rashes.question_id), None);
        // The weights add up to the paper's points.
        let total: f64 = shares.iter().map(Share::weight).sum();
        assert!((total - f64::from(blueprint().total_points())).abs() < 1e-9);
    }

    #[test]
    fn shape_checks() {
        assert!(check_shape(&blueprint()).is_ok());
        assert!(check_shape(&Blueprint { sections: vec![] }).is_err());
        let mut bp = blueprint();
        bp.sections[0].mix.insert(6, 1);
        assert!(check_shape(&bp).unwrap_err().contains("difficulty 6"));
        let mut bp = blueprint();
        bp.sections[1].topics.clear();
        assert!(
            check_shape(&bp)
                .unwrap_err()
                .contains("section 2 has no topics")
        );
        let mut bp = blueprint();
        bp.sections[0].points = 0;
        assert!(check_shape(&bp).is_err());
        assert_eq!(blueprint().question_count(), 12);
        assert_eq!(blueprint().total_points(), 30);
    }
}
