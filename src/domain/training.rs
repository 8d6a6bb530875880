//! The rules of training: when a lesson counts as studied, when a quiz is
//! passed, when a course and a track's training are complete and what comes
//! next, how workshop places and the waiting list work, who records
//! attendance and when reminders are due. Pages, the API and the pipeline all
//! ask these functions; none decides for itself.

use chrono::{Duration, NaiveDateTime};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::domain::access::Actor;
use crate::domain::ids::PersonId;
use crate::domain::roles::Role;

/// A lesson counts once it has been studied at its current version: a lesson
/// rewritten since must be studied again; an unchanged one keeps its progress.
pub fn lesson_studied(current_version: i32, studied_version: Option<i32>) -> bool {
    studied_version == Some(current_version)
}

/// A quiz is passed when the score reaches `pass_percent` of the points.
pub fn quiz_passed(score: u32, max_score: u32, pass_percent: u32) -> bool {
    max_score > 0 && u64::from(score) * 100 >= u64::from(pass_percent) * u64::from(max_score)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonEvidence {
    pub lesson_id: i64,
    pub studied: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleEvidence {
    pub module_id: i64,
    pub lessons: Vec<LessonEvidence>,
    /// `None` when the module has no quiz; otherwise whether it was passed.
    pub quiz_passed: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CourseEvidence {
    pub course_id: i64,
    pub credit_hours: f64,
    pub modules: Vec<ModuleEvidence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkshopEvidence {
    pub workshop_id: i64,
    pub attended: bool,
}

/// Everything a track requires, with what the doctor has done of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackEvidence {
    pub courses: Vec<CourseEvidence>,
    pub workshops: Vec<WorkshopEvidence>,
}

/// One thing still to do, in the order a doctor should do them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Todo {
    Lesson { course_id: i64, lesson_id: i64 },
    Quiz { course_id: i64, module_id: i64 },
    Workshop { workshop_id: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CourseProgress {
    pub lessons_studied: usize,
    pub lessons: usize,
    pub quizzes_passed: usize,
    pub quizzes: usize,
}

impl CourseProgress {
    pub fn complete(&self) -> bool {
        self.lessons_studied == self.lessons && self.quizzes_passed == self.quizzes
    }

    /// Done items out of all items, as a whole percentage for a progress bar.
    pub fn percent(&self) -> u32 {
        let total = self.lessons + self.quizzes;
        if total == 0 {
            return 100;
        }
        // At most 100.
        u32::try_from((self.lessons_studied + self.quizzes_passed) * 100 / total).unwrap_or(100)
    }
}

pub fn course_progress(course: &CourseEvidence) -> CourseProgress {
    let mut p = CourseProgress::default();
    for module in &course.modules {
        p.lessons += module.lessons.len();
        p.lessons_studied += module.lessons.iter().filter(|l| l.studied).count();
        if let Some(passed) = module.quiz_passed {
            p.quizzes += 1;
            p.quizzes_passed += usize::from(passed);
        }
    }
    p
}

/// What is left of a course, module by module: its lessons, then its quiz.
pub fn course_todo(course: &CourseEvidence) -> Vec<Todo> {
    let mut todo = Vec::new();
    for module in &course.modules {
        for lesson in module.lessons.iter().filter(|l| !l.studied) {
            todo.push(Todo::Lesson {
                course_id: course.course_id,
                lesson_id: lesson.lesson_id,
            });
        }
        if module.quiz_passed == Some(false) {
            todo.push(Todo::Quiz {
                course_id: course.course_id,
                module_id: module.module_id,
            });
        }
    }
    todo
}

/// Training is complete when every required lesson is studied (at its
/// current version), every module quiz passed and every required workshop
/// attended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Everything still to do, in order; empty when complete.
    pub todo: Vec<Todo>,
}

impl Completion {
    pub fn complete(&self) -> bool {
        self.todo.is_empty()
    }

    /// The next thing to do.
    pub fn next(&self) -> Option<Todo> {
        self.todo.first().copied()
    }
}

pub fn training_completion(track: &TrackEvidence) -> Completion {
    let mut todo: Vec<Todo> = track.courses.iter().flat_map(course_todo).collect();
    todo.extend(
        track
            .workshops
            .iter()
            .filter(|w| !w.attended)
            .map(|w| Todo::Workshop {
                workshop_id: w.workshop_id,
            }),
    );
    Completion { todo }
}

/// Continuing-education credit: a course's hours count once it is complete.
pub fn credit_hours_earned(courses: &[CourseEvidence]) -> f64 {
    courses
        .iter()
        .filter(|c| course_progress(c).complete())
        .map(|c| c.credit_hours)
        // From 0.0, not `sum()`: a float sum of nothing is -0.0, which a
        // page prints as "-0".
        .fold(0.0, |total, hours| total + hours)
}

/// Renewal: the credit hours earned since the credential was last issued
/// reach the track's requirement (a hair of tolerance for sums of decimal
/// hours such as 0.1 + 0.2).
pub fn renewal_credits_met(earned: f64, required: f64) -> bool {
    earned + 1e-9 >= required
}

// ----- module quizzes -----

/// A practice question a quiz may draw: its version and how many options it
/// shows (0 for true/false).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuizCandidate {
    pub version_id: i64,
    pub options: usize,
}

/// One drawn quiz question, with the order its options are shown in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizItem {
    pub version_id: i64,
    pub option_order: Vec<usize>,
}

/// Draws `n` questions (all, if the pool is smaller) in a shuffled order,
/// each with shuffled options. Every retry draws afresh from a new seed.
pub fn draw_quiz(pool: &[QuizCandidate], n: usize, seed: u64) -> Vec<QuizItem> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut chosen: Vec<QuizCandidate> = pool.to_vec();
    chosen.shuffle(&mut rng);
    chosen.truncate(n);
    chosen
        .into_iter()
        .map(|c| {
            let mut option_order: Vec<usize> = (0..c.options).collect();
            option_order.shuffle(&mut rng);
            QuizItem {
                version_id: c.version_id,
                option_order,
            }
        })
        .collect()
}

// ----- workshops -----

/// Where a sign-up stands. Only a booked place can be attended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupStatus {
    Booked,
    Waiting,
    Cancelled,
}

impl SignupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignupStatus::Booked => "booked",
            SignupStatus::Waiting => "waiting",
            SignupStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<SignupStatus> {
        match s {
            "booked" => Some(SignupStatus::Booked),
            "waiting" => Some(SignupStatus::Waiting),
            "cancelled" => Some(SignupStatus::Cancelled),
            _ => None,
        }
    }
}

/// Why a sign-up or cancellation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupRefusal {
    /// The session has started (or is over): the list is closed.
    Started,
}

/// A new sign-up takes a free place, or joins the waiting list when the
/// session is full. Nobody signs up once the session has started.
pub fn sign_up(
    booked: u32,
    capacity: u32,
    starts_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<SignupStatus, SignupRefusal> {
    if now >= starts_at {
        return Err(SignupRefusal::Started);
    }
    Ok(if booked < capacity {
        SignupStatus::Booked
    } else {
        SignupStatus::Waiting
    })
}

/// Cancelling is allowed until the session starts.
pub fn may_cancel(starts_at: NaiveDateTime, now: NaiveDateTime) -> Result<(), SignupRefusal> {
    if now >= starts_at {
        Err(SignupRefusal::Started)
    } else {
        Ok(())
    }
}

/// Who moves up when places are free: the first of the waiting list (given
/// in the order they joined), as many as there are free places. Called after
/// every cancellation and capacity change, before the session starts.
pub fn promotions(capacity: u32, booked: u32, waiting_in_order: &[i64]) -> Vec<i64> {
    let free = usize::try_from(capacity.saturating_sub(booked)).unwrap_or(usize::MAX);
    waiting_in_order.iter().take(free).copied().collect()
}

/// Attendance is recorded by the session's instructor or an admin, once the
/// session has started, and only for doctors holding a booked place.
pub fn may_record_attendance(actor: &Actor, instructor_id: PersonId) -> bool {
    actor.id == instructor_id || actor.has(Role::Admin)
}

pub fn attendance_open(starts_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    now >= starts_at
}

/// The reminder goes out once, in the day before the session.
pub fn reminder_due(starts_at: NaiveDateTime, now: NaiveDateTime, already_sent: bool) -> bool {
    !already_sent && now < starts_at && starts_at - now <= Duration::hours(24)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use chrono::NaiveDate;

    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(h, 0, 0))
            .expect("valid")
    }

    fn lesson(id: i64, studied: bool) -> LessonEvidence {
        LessonEvidence {
            lesson_id: id,
            studied,
        }
    }

    fn course(id: i64, modules: Vec<ModuleEvidence>) -> CourseEvidence {
        CourseEvidence {
            course_id: id,
            credit_hours: 2.0,
            modules,
        }
    }

    fn module(id: i64, lessons: Vec<LessonEvidence>, quiz: Option<bool>) -> ModuleEvidence {
        ModuleEvidence {
            module_id: id,
            lessons,
            quiz_passed: quiz,
        }
    }

    #[test]
    fn a_lesson_counts_only_at_its_current_version() {
        assert!(lesson_studied(3, Some(3)));
        assert!(!lesson_studied(3, Some(2)));
        assert!(!lesson_studied(1, None));
    }

    #[test]
    fn quiz_pass_mark_is_inclusive() {
        assert!(quiz_passed(4, 5, 80));
        assert!(!quiz_passed(3, 5, 80));
        assert!(quiz_passed(5, 5, 100));
        assert!(!quiz_passed(0, 0, 80), "an empty quiz is never passed");
        assert!(quiz_passed(1, 3, 33));
        assert!(!quiz_passed(1, 3, 34));
    }

    #[test]
    fn course_progress_counts_lessons_and_quizzes() {
        let c = course(
            1,
            vec![
                module(10, vec![lesson(1, true), lesson(2, false)], Some(true)),
                module(11, vec![lesson(3, true)], None),
                module(12, vec![lesson(4, true)], Some(false)),
            ],
        );
        let p = course_progress(&c);
        assert_eq!(
            p,
            CourseProgress {
                lessons_studied: 3,
                lessons: 4,
                quizzes_passed: 1,
                quizzes: 2
            }
        );
        assert!(!p.complete());
        assert_eq!(p.percent(), 66);
    }

    #[test]
    fn the_next_thing_is_the_first_unstudied_lesson_then_its_quiz() {
        let c = course(
            1,
            vec![
                module(10, vec![lesson(1, true), lesson(2, false)], Some(false)),
                module(11, vec![lesson(3, false)], Some(false)),
            ],
        );
        let done = training_completion(&TrackEvidence {
            courses: vec![c],
            workshops: vec![WorkshopEvidence {
                workshop_id: 7,
                attended: false,
            }],
        });
        assert_eq!(
            done.todo,
            vec![
                Todo::Lesson {
                    course_id: 1,
                    lesson_id: 2
                },
                Todo::Quiz {
                    course_id: 1,
                    module_id: 10
                },
                Todo::Lesson {
                    course_id: 1,
                    lesson_id: 3
                },
                Todo::Quiz {
                    course_id: 1,
                    module_id: 11
                },
                Todo::Workshop { workshop_id: 7 },
            ]
        );
        assert_eq!(
            done.next(),
            Some(Todo::Lesson {
                course_id: 1,
                lesson_id: 2
            })
        );
        assert!(!done.complete());
    }

    #[test]
    fn training_is_complete_only_with_lessons_quizzes_and_workshops_all_done() {
        let full = || course(1, vec![module(10, vec![lesson(1, true)], Some(true))]);
        let attended = |a| WorkshopEvidence {
            workshop_id: 7,
            attended: a,
        };
        let complete = training_completion(&TrackEvidence {
            courses: vec![full()],
            workshops: vec![attended(true)],
        });
        assert!(complete.complete());
        assert_eq!(complete.next(), None);

        let no_workshop = training_completion(&TrackEvidence {
            courses: vec![full()],
            workshops: vec![attended(false)],
        });
        assert_eq!(no_workshop.todo, vec![Todo::Workshop { workshop_id: 7 }]);

        let quiz_failed = training_completion(&TrackEvidence {
            courses: vec![course(
                1,
                vec![module(10, vec![lesson(1, true)], Some(false))],
            )],
            workshops: vec![attended(true)],
        });
        assert!(!quiz_failed.complete());

        let lesson_left = training_completion(&TrackEvidence {
            courses: vec![course(1, vec![module(10, vec![lesson(1, false)], None)])],
            workshops: vec![],
        });
        assert!(!lesson_left.complete());

        assert!(
            training_completion(&TrackEvidence::default()).complete(),
            "a track that requires nothing is complete"
        );
    }

    #[test]
    fn renewal_needs_the_required_hours() {
        assert!(renewal_credits_met(12.0, 12.0));
        assert!(renewal_credits_met(0.1 + 0.2, 0.3));
        assert!(!renewal_credits_met(11.5, 12.0));
        assert!(renewal_credits_met(0.0, 0.0));
    }

    #[test]
    fn credit_hours_count_for_complete_courses_only() {
        let done = course(1, vec![module(10, vec![lesson(1, true)], Some(true))]);
        let half = course(2, vec![module(11, vec![lesson(2, false)], None)]);
        assert_eq!(credit_hours_earned(&[done.clone(), half]), 2.0);
        assert_eq!(credit_hours_earned(&[]), 0.0);
        // Not -0.0, which prints as "-0".
        assert!(credit_hours_earned(&[]).is_sign_positive());
        assert_eq!(credit_hours_earned(&[done.clone(), done]), 4.0);
    }

    #[test]
    fn a_quiz_draws_distinct_questions_with_shuffled_options() {
        let pool: Vec<QuizCandidate> = (1..=12)
            .map(|i| QuizCandidate {
                version_id: i,
                options: if i % 3 == 0 { 0 } else { 4 },
            })
            .collect();
        let quiz = draw_quiz(&pool, 5, 42);
        assert_eq!(quiz.len(), 5);
        let mut ids: Vec<i64> = quiz.iter().map(|q| q.version_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5, "no question twice");
        for item in &quiz {
            let mut order = item.option_order.clone();
            order.sort_unstable();
            let expected: Vec<usize> =
                (0..pool[usize::try_from(item.version_id - 1).unwrap()].options).collect();
            assert_eq!(order, expected, "a permutation of the options");
        }
        assert_eq!(draw_quiz(&pool, 5, 42), quiz, "same seed, same quiz");
        assert_ne!(draw_quiz(&pool, 5, 43), quiz, "a retry draws afresh");
        assert_eq!(
            draw_quiz(&pool, 50, 1).len(),
            12,
            "never more than the pool"
        );
        assert!(draw_quiz(&[], 5, 1).is_empty());
    }

    #[test]
    fn sign_up_books_a_place_or_joins_the_waiting_list() {
        assert_eq!(sign_up(0, 2, at(9), at(8)), Ok(SignupStatus::Booked));
        assert_eq!(sign_up(1, 2, at(9), at(8)), Ok(SignupStatus::Booked));
        assert_eq!(sign_up(2, 2, at(9), at(8)), Ok(SignupStatus::Waiting));
        assert_eq!(sign_up(3, 2, at(9), at(8)), Ok(SignupStatus::Waiting));
        assert_eq!(sign_up(0, 2, at(9), at(9)), Err(SignupRefusal::Started));
        assert_eq!(sign_up(0, 2, at(9), at(10)), Err(SignupRefusal::Started));
        assert_eq!(may_cancel(at(9), at(8)), Ok(()));
        assert_eq!(may_cancel(at(9), at(9)), Err(SignupRefusal::Started));
    }

    #[test]
    fn freed_places_go_to_the_first_waiting() {
        assert_eq!(promotions(2, 1, &[5, 6, 7]), vec![5]);
        assert_eq!(promotions(4, 1, &[5, 6, 7]), vec![5, 6, 7]);
        assert_eq!(promotions(2, 2, &[5, 6]), Vec::<i64>::new());
        assert_eq!(promotions(1, 3, &[5]), Vec::<i64>::new(), "over capacity");
        assert_eq!(promotions(3, 0, &[]), Vec::<i64>::new());
    }

    #[test]
    fn attendance_is_for_the_instructor_or_an_admin() {
        let actor = |id, roles: &[Role]| Actor {
            id: PersonId(id),
            roles: roles.to_vec(),
            institution_id: None,
        };
        assert!(may_record_attendance(
            &actor(4, &[Role::Doctor]),
            PersonId(4)
        ));
        assert!(may_record_attendance(
            &actor(9, &[Role::Admin]),
            PersonId(4)
        ));
        assert!(!may_record_attendance(
            &actor(5, &[Role::Doctor]),
            PersonId(4)
        ));
        assert!(!may_record_attendance(
            &actor(5, &[Role::Examiner, Role::Committee]),
            PersonId(4)
        ));
        assert!(!attendance_open(at(9), at(8)));
        assert!(attendance_open(at(9), at(9)));
    }

    #[test]
    fn reminders_go_out_once_in_the_day_before() {
        let start = at(12);
        let day_before = start - Duration::hours(24);
        assert!(reminder_due(start, day_before, false));
        assert!(!reminder_due(
            start,
            day_before - Duration::seconds(1),
            false
        ));
        assert!(reminder_due(start, start - Duration::minutes(5), false));
        assert!(!reminder_due(start, start, false), "too late once started");
        assert!(!reminder_due(start, day_before, true), "only once");
    }
}
