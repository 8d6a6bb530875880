//! The read-only evidence the certification pipeline decides on, gathered
//! in one place from the store: released exam results (from the item
//! scores), whether training in a track is complete, continuing-education
//! credit hours, and a doctor's referral quality. Training, grading,
//! referrals and the committee read the same functions for their pages, so
//! a page and the pipeline cannot disagree.
//!
//! This module writes nothing and names no other service: features sit above
//! it and the pipeline reads it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;

use crate::domain::grading::{self, ItemScore};
use crate::domain::ids::PersonId;
use crate::domain::numbers::non_negative_u32;
use crate::domain::referrals::{self as referral, Quality};
use crate::domain::training::{
    self, CourseEvidence, LessonEvidence, ModuleEvidence, TrackEvidence, WorkshopEvidence,
};
use crate::error::{Error, Result};
use crate::store::training::{
    self as store_training, CourseRow, LessonHead, ModuleRow, TrackRow, WorkshopRow,
};
use crate::store::{
    DbConn, banks as store_banks, credentials as store_credentials, exams as store_exams,
    referrals as store_ref,
};

// ----- exam results -----

/// The scores of a paper's items with their topics. A question the
/// committee removed counts in no result.
pub fn item_scores(conn: &mut DbConn, items: &[store_exams::ItemRow]) -> Result<Vec<ItemScore>> {
    let mut scores = Vec::with_capacity(items.len());
    for item in items.iter().filter(|i| !i.excluded) {
        let version = store_banks::version_by_id(conn, item.version_id)?.ok_or(Error::NotFound)?;
        scores.push(ItemScore {
            topic: version.topic,
            points: non_negative_u32(item.points),
            score: item.score,
        });
    }
    Ok(scores)
}

/// The result of a submitted attempt once its exam's results are released
/// (`None` before): the rule the certification pipeline reads.
pub fn released_result(
    conn: &mut DbConn,
    attempt: &store_exams::AttemptRow,
    exam: &store_exams::ExamRow,
) -> Result<Option<grading::ExamResult>> {
    if exam.results_released_at.is_none() || attempt.submitted_at.is_none() {
        return Ok(None);
    }
    let items = store_exams::items_of(conn, attempt.id)?;
    let scores = item_scores(conn, &items)?;
    Ok(grading::result(&scores, non_negative_u32(exam.pass_mark)))
}

// ----- training -----

/// A person's training in some courses: the rows it was read from and the
/// evidence `domain::training` decides on (one entry per course, in the
/// courses' order).
pub struct CoursesEvidence {
    /// The courses' modules, in the store's order.
    pub modules: Vec<ModuleRow>,
    /// The courses' current lessons, in the store's order.
    pub lessons: Vec<LessonHead>,
    /// The version and time of each lesson the person studied, by lesson id.
    pub studied: HashMap<i64, (i32, NaiveDateTime)>,
    pub evidence: Vec<CourseEvidence>,
}

pub fn courses_evidence(
    conn: &mut DbConn,
    person_id: PersonId,
    courses: &[CourseRow],
) -> Result<CoursesEvidence> {
    let ids: Vec<i64> = courses.iter().map(|c| c.id).collect();
    let modules = store_training::modules_of_courses(conn, &ids)?;
    let lessons = store_training::lesson_heads(conn, &ids)?;
    let lesson_ids: Vec<i64> = lessons.iter().map(|l| l.id).collect();
    let studied = store_training::studied(conn, person_id, &lesson_ids)?;
    let module_ids: Vec<i64> = modules.iter().map(|m| m.id).collect();
    let passed = store_training::passed_modules(conn, person_id, &module_ids)?;
    let evidence = courses
        .iter()
        .map(|course| CourseEvidence {
            course_id: course.id,
            credit_hours: course.credit_hours,
            modules: modules
                .iter()
                .filter(|m| m.course_id == course.id)
                .map(|m| ModuleEvidence {
                    module_id: m.id,
                    lessons: lessons
                        .iter()
                        .filter(|l| l.module_id == m.id)
                        .map(|l| LessonEvidence {
                            lesson_id: l.id,
                            studied: training::lesson_studied(
                                l.version,
                                studied.get(&l.id).map(|(v, _)| *v),
                            ),
                        })
                        .collect(),
                    quiz_passed: m.has_quiz().then(|| passed.contains(&m.id)),
                })
                .collect(),
        })
        .collect();
    Ok(CoursesEvidence {
        modules,
        lessons,
        studied,
        evidence,
    })
}

/// A person's training in a track: its courses and workshops as read, and
/// the evidence `domain::training::training_completion` decides on.
pub struct TrackTraining {
    pub courses: Vec<CourseRow>,
    pub modules: Vec<ModuleRow>,
    pub lessons: Vec<LessonHead>,
    pub workshops: Vec<WorkshopRow>,
    /// The workshops the person attended, by id.
    pub attended: HashSet<i64>,
    pub evidence: TrackEvidence,
}

pub fn track_training(
    conn: &mut DbConn,
    person_id: PersonId,
    track: &TrackRow,
) -> Result<TrackTraining> {
    let courses = store_training::courses_of_track(conn, track.id)?;
    let read = courses_evidence(conn, person_id, &courses)?;
    let workshops = store_training::workshops_of(conn, track.id)?;
    let workshop_ids: Vec<i64> = workshops.iter().map(|w| w.id).collect();
    let attended = store_training::attended_workshops(conn, person_id, &workshop_ids)?;
    let evidence = TrackEvidence {
        courses: read.evidence,
        workshops: workshops
            .iter()
            .map(|w| WorkshopEvidence {
                workshop_id: w.id,
                attended: attended.contains(&w.id),
            })
            .collect(),
    };
    Ok(TrackTraining {
        courses,
        modules: read.modules,
        lessons: read.lessons,
        workshops,
        attended,
        evidence,
    })
}

/// Whether a person's training in a track is complete: the rule the
/// certification pipeline asks.
pub fn training_complete(conn: &mut DbConn, person_id: PersonId, track_key: &str) -> Result<bool> {
    let track = store_training::find_track(conn, track_key)?.ok_or(Error::NotFound)?;
    let read = track_training(conn, person_id, &track)?;
    Ok(training::training_completion(&read.evidence).complete())
}

/// Continuing-education credit earned since `since`: the hours of every
/// course complete now whose last lesson was studied at or after `since`.
pub fn credit_hours_since(
    conn: &mut DbConn,
    person_id: PersonId,
    since: NaiveDateTime,
) -> Result<f64> {
    let course_rows = store_training::list_courses(conn, false)?;
    let read = courses_evidence(conn, person_id, &course_rows)?;
    let recent: Vec<CourseEvidence> = read
        .evidence
        .iter()
        .zip(&course_rows)
        .filter(|(_, row)| {
            read.lessons
                .iter()
                .filter(|h| h.course_id == row.id)
                .filter_map(|h| read.studied.get(&h.id).map(|(_, at)| *at))
                .max()
                .is_some_and(|last| last >= since)
        })
        .map(|(ev, _)| ev.clone())
        .collect();
    Ok(training::credit_hours_earned(&recent))
}

// ----- referrals -----

/// A doctor's referral quality with the flag of their track's policy.
pub fn referral_quality(conn: &mut DbConn, person_id: PersonId) -> Result<Quality> {
    let (total, ratings) = store_ref::quality_of(conn, person_id)?;
    // The strictest policy among the tracks the doctor is credentialed in.
    let mut threshold = 30;
    let mut min_rated = 5;
    for c in store_credentials::credentials_of(conn, person_id)? {
        if let Some(t) = store_training::find_track_by_id(conn, c.track_id)? {
            threshold = threshold.min(non_negative_u32(t.inappropriate_threshold));
            min_rated = min_rated.min(non_negative_u32(t.flag_min_rated.max(1)));
        }
    }
    Ok(referral::quality(
        u32::try_from(total).unwrap_or(u32::MAX),
        &ratings,
        threshold,
        min_rated,
    ))
}
