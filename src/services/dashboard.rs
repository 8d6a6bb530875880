//! A doctor's home: where she stands in each track, the one next step
//! (`domain::next_step` chooses it), and her calendar of exams and
//! workshops. It only reads, through the services each fact belongs to.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::domain::next_step::{
    self, CredentialFact, ExamOffer, Situation, Step, TrackFact, TrainingTodo,
};
use crate::domain::pipeline::Stage;
use crate::error::Result;
use crate::services::exams::MyExam;
use crate::services::{Caller, Ctx, credentials, exams, pipeline, training, utc};

/// Where a doctor stands in one track.
#[derive(Debug, Clone)]
pub struct Standing {
    pub track_title: String,
    /// The stages of her open case's route, each done, current or ahead.
    pub stages: Vec<(Stage, StageState)>,
    /// Her training in the track, in percent of lessons and quizzes done.
    pub training_percent: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageState {
    Done,
    Current,
    Ahead,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Done => "done",
            StageState::Current => "current",
            StageState::Ahead => "ahead",
        }
    }
}

/// One dated entry of her calendar.
#[derive(Debug, Clone)]
pub struct CalendarEntry {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub kind: CalendarKind,
    pub title: String,
    pub place: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarKind {
    Exam,
    Workshop,
}

impl CalendarKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarKind::Exam => "exam",
            CalendarKind::Workshop => "workshop",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Home {
    pub step: Step,
    pub standings: Vec<Standing>,
    pub calendar: Vec<CalendarEntry>,
}

/// The tracks the doctor is enrolled on: each with its next training step
/// (until complete), and the training's percent done.
async fn training_facts(
    ctx: &Ctx,
    caller: &Caller,
) -> Result<(BTreeMap<String, TrackFact>, BTreeMap<String, u32>)> {
    let mut tracks: BTreeMap<String, TrackFact> = BTreeMap::new();
    let mut percents: BTreeMap<String, u32> = BTreeMap::new();
    for t in training::tracks(ctx, caller).await? {
        if !t.enrolled {
            continue;
        }
        let progress = training::track_progress(ctx, caller, &t.key, None).await?;
        // More courses than u32 holds cannot be; saturate rather than wrap.
        let courses = u32::try_from(progress.courses.len().max(1)).unwrap_or(u32::MAX);
        let sum: u32 = progress.courses.iter().map(|c| c.progress.percent).sum();
        percents.insert(
            t.key.clone(),
            if progress.complete {
                100
            } else {
                sum / courses
            },
        );
        let fact = track_fact(&mut tracks, &t.key, &t.title);
        fact.training = progress
            .next
            .filter(|_| !progress.complete)
            .map(|n| TrainingTodo {
                kind: n.kind,
                title: n.title,
                url: n.url,
            });
    }
    Ok((tracks, percents))
}

/// The doctor's home. The caller must be allowed to study (a doctor).
pub async fn home(ctx: &Ctx, caller: &Caller) -> Result<Home> {
    let now = utc(crate::store::now());
    let my_exams = exams::mine(ctx, caller).await?;
    let offers = exams::open_to_register(ctx, caller).await?;
    let cases: Vec<_> = pipeline::my_cases(ctx, caller)
        .await?
        .into_iter()
        .filter(|c| c.closed_at.is_none())
        .collect();
    let creds = credentials::mine(ctx, caller).await?;
    let (mut tracks, percents) = training_facts(ctx, caller).await?;
    for c in &cases {
        let fact = track_fact(&mut tracks, &c.track_key, &c.track_title);
        fact.case = Some((c.stage, c.waiting_for.clone()));
        fact.retake_from = c.retake_from;
    }
    // The newest credential of each track speaks for it.
    for c in &creds {
        let fact = track_fact(&mut tracks, &c.track_key, &c.track_title);
        if fact
            .credential
            .as_ref()
            .is_none_or(|f| f.valid_until < c.valid_until)
        {
            fact.credential = Some(CredentialFact {
                number: c.number.clone(),
                track_title: c.track_title.clone(),
                status: c.status,
                issued_at: c.issued_at,
                valid_until: c.valid_until,
            });
        }
    }
    let situation = Situation {
        now,
        exams: my_exams.iter().map(|m| m.fact.clone()).collect(),
        offers: offers
            .iter()
            .map(|e| ExamOffer {
                exam_id: e.id,
                title: e.title.clone(),
                opens_at: e.opens_at,
            })
            .collect(),
        tracks: tracks.into_values().collect(),
    };
    let standings = cases
        .iter()
        .map(|c| Standing {
            track_title: c.track_title.clone(),
            stages: stage_states(c.kind.route(), c.stage),
            training_percent: percents.get(&c.track_key).copied(),
        })
        .collect();
    let calendar = calendar(ctx, caller, now, &my_exams).await?;
    Ok(Home {
        step: next_step::next_step(&situation),
        standings,
        calendar,
    })
}

fn track_fact<'a>(
    tracks: &'a mut BTreeMap<String, TrackFact>,
    key: &str,
    title: &str,
) -> &'a mut TrackFact {
    tracks.entry(key.to_owned()).or_insert_with(|| TrackFact {
        key: key.to_owned(),
        title: title.to_owned(),
        case: None,
        retake_from: None,
        training: None,
        credential: None,
    })
}

fn stage_states(route: &[Stage], current: Stage) -> Vec<(Stage, StageState)> {
    let at = route.iter().position(|s| *s == current);
    route
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let state = match at {
                Some(at) if i < at => StageState::Done,
                Some(at) if i == at => StageState::Current,
                _ => StageState::Ahead,
            };
            (*s, state)
        })
        .collect()
}

/// Her exams that have not closed and the workshop sessions she is booked
/// on (or waiting for) that have not ended, soonest first.
async fn calendar(
    ctx: &Ctx,
    caller: &Caller,
    now: DateTime<Utc>,
    my_exams: &[MyExam],
) -> Result<Vec<CalendarEntry>> {
    let mut entries: Vec<CalendarEntry> = my_exams
        .iter()
        .filter(|m| m.exam.closes_at > now)
        .map(|m| CalendarEntry {
            starts_at: m.exam.opens_at,
            ends_at: m.exam.closes_at,
            kind: CalendarKind::Exam,
            title: m.exam.title.clone(),
            place: None,
            url: "/exams".to_owned(),
        })
        .collect();
    for s in training::sessions(ctx, caller).await? {
        let booked = matches!(s.my_status.as_deref(), Some("booked" | "waiting"));
        if booked && s.ends_at > now {
            entries.push(CalendarEntry {
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                kind: CalendarKind::Workshop,
                title: s.workshop_title,
                place: Some(s.place),
                url: "/workshops".to_owned(),
            });
        }
    }
    entries.sort_by_key(|e| e.starts_at);
    Ok(entries)
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
    fn the_route_reads_done_then_current_then_ahead() {
        let route = crate::domain::pipeline::Kind::Initial.route();
        let states = stage_states(route, Stage::WrittenExam);
        let current = states
            .iter()
            .position(|(_, s)| *s == StageState::Current)
            .unwrap_or(usize::MAX);
        assert_eq!(states[current].0, Stage::WrittenExam);
        assert!(
            states[..current]
                .iter()
                .all(|(_, s)| *s == StageState::Done)
        );
        assert!(
            states[current + 1..]
                .iter()
                .all(|(_, s)| *s == StageState::Ahead)
        );
    }
}
