//! The script of the alliance's past: every event with its moment, written
//! from the seed before anything is played.
//!
//! Two cohorts. The earlier one trained two and a half years ago and was
//! certified; most of it renewed last spring, a few credentials were
//! suspended or revoked, the rest expired. The current cohort (458 doctors
//! at full size) started eleven months ago and stands at every stage: still
//! studying, waiting for the written exam, failed once and waiting for the
//! retake, rejected after two failures, failed the case exam (one appealed),
//! waiting for the committee, rejected by it, certified (about 3%).

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::{Figures, day};
use crate::domain::numbers::{count_f64, count_i64, i64_f64, whole_i64, whole_usize};

/// What the script intends for a doctor; the services decide whether it
/// happens (a gate that refuses stops the build with its error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Studied `items` of the training's lessons and quizzes, no further.
    Studying {
        items: usize,
    },
    /// Finished training late; registered for the upcoming written exam.
    NextWritten,
    /// Failed the written exam once; registered for the upcoming retake.
    WrittenRetake,
    /// Failed the written exam twice: the case is closed as rejected.
    WrittenRejected,
    /// Passed the written exam, failed the case exam (may retake).
    CaseFailed,
    /// Evidence complete; the committee has not reached its quorum yet.
    AwaitingCommittee,
    /// The committee voted against.
    CommitteeRejected,
    Certified,
    /// Earlier cohort: certified two years ago, then:
    Earlier(Later),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Later {
    Expired,
    Renewed,
    /// Renewed, then suspended by the committee.
    Suspended,
    /// Renewed, then revoked by two committee members.
    Revoked,
}

impl Fate {
    /// Whether the doctor holds (or held) a credential by the end.
    #[cfg(test)]
    pub fn certified(self) -> bool {
        matches!(self, Fate::Certified | Fate::Earlier(_))
    }

    /// Whether the doctor finishes training with the cohort (in time for the
    /// first written exam).
    fn trains_fully(self) -> bool {
        !matches!(self, Fate::Studying { .. } | Fate::NextWritten)
    }
}

/// The exams of the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Exam {
    EarlierWritten,
    EarlierCase,
    Renewal,
    Written,
    WrittenRetake,
    Case,
    /// Opens in ten days: registrations only.
    Upcoming,
}

impl Exam {
    pub const ALL: [Exam; 7] = [
        Exam::EarlierWritten,
        Exam::EarlierCase,
        Exam::Renewal,
        Exam::Written,
        Exam::WrittenRetake,
        Exam::Case,
        Exam::Upcoming,
    ];

    /// Days from today on which the exam's window opens (09:00 to 13:00
    /// Beijing time).
    pub fn opens_day(self) -> i64 {
        match self {
            Exam::EarlierWritten => -780,
            Exam::EarlierCase => -770,
            Exam::Renewal => -180,
            Exam::Written => -110,
            Exam::WrittenRetake => -80,
            Exam::Case => -70,
            Exam::Upcoming => 10,
        }
    }

    pub fn opens(self) -> DateTime<Utc> {
        day(self.opens_day(), 1)
    }

    pub fn closes(self) -> DateTime<Utc> {
        day(self.opens_day(), 5)
    }

    pub fn stage(self) -> &'static str {
        match self {
            Exam::EarlierCase | Exam::Case => "case",
            Exam::Renewal => "renewal",
            _ => "written",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Exam::EarlierWritten => "儿科守门人笔试（2024年春季）",
            Exam::EarlierCase => "儿科守门人病例分析考核（2024年春季）",
            Exam::Renewal => "儿科联盟医生续期再评估（2026年）",
            Exam::Written => "儿科守门人笔试（2026年夏季）",
            Exam::WrittenRetake => "儿科守门人笔试补考（2026年秋季）",
            Exam::Case => "儿科守门人病例分析考核（2026年秋季）",
            Exam::Upcoming => "儿科守门人笔试（2026年冬季）",
        }
    }
}

/// One thing that happens, to be played at its moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The doctor applies for the track (training opens).
    Apply {
        doctor: usize,
    },
    /// The next item of the doctor's training: a lesson, or a module quiz
    /// (`pass`: whether this attempt is meant to pass).
    Study {
        doctor: usize,
        item: usize,
        pass: bool,
    },
    /// A quiz taken again for revision before an exam.
    Revise {
        doctor: usize,
        item: usize,
    },
    /// The instructor's workshop sessions for a round of doctors.
    ScheduleWorkshops {
        round: usize,
        at: DateTime<Utc>,
    },
    SignUp {
        doctor: usize,
        round: usize,
    },
    Attend {
        round: usize,
    },
    ScheduleExam {
        exam: Exam,
    },
    /// The committee rates the exam's questions (modified Angoff) and
    /// approves the cut score.
    StandardSetting {
        exam: Exam,
    },
    Register {
        exam: Exam,
        doctor: usize,
    },
    Sit {
        exam: Exam,
        doctor: usize,
    },
    /// Marking rounds: allocation, first and second markers, a third marker
    /// where they disagree.
    Mark {
        exam: Exam,
    },
    Release {
        exam: Exam,
    },
    Appeal {
        exam: Exam,
        doctor: usize,
    },
    /// Each member votes on every case the script has a decision for.
    Committee {
        cohort: Cohort,
    },
    ApplyRenewal {
        doctor: usize,
    },
    Suspend {
        doctor: usize,
    },
    ProposeRevocation {
        doctor: usize,
    },
    ConfirmRevocation {
        doctor: usize,
    },
    /// The background jobs' turn: cases moved on, credentials expired.
    Jobs,
    /// A community doctor's first visits of a month.
    Visits {
        doctor: usize,
        day: NaiveDate,
        count: i64,
    },
    Refer {
        referral: usize,
    },
    Accept {
        referral: usize,
    },
    Seen {
        referral: usize,
    },
    Rate {
        referral: usize,
    },
    ReferBack {
        referral: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cohort {
    Earlier,
    Current,
}

/// A doctor of the script.
#[derive(Debug, Clone)]
pub struct DoctorPlan {
    pub fate: Fate,
    pub cohort: Cohort,
    /// Index into the alliance's member institutions.
    pub institution: usize,
}

/// A referral of the script.
#[derive(Debug, Clone)]
pub struct ReferralPlan {
    pub doctor: usize,
    pub at: DateTime<Utc>,
    pub department: usize,
    pub appropriate: bool,
    pub back: bool,
    pub urgent: bool,
}

pub struct Script {
    pub doctors: Vec<DoctorPlan>,
    pub referrals: Vec<ReferralPlan>,
    pub events: Vec<(DateTime<Utc>, Event)>,
    /// Lesson and quiz completions of the last twelve months, as the store
    /// will count them (a lesson studied again counts once, at its latest).
    pub completions: usize,
}

/// Training items per doctor: the track's lessons and quizzes, in order.
pub struct Syllabus {
    /// The track's items, `true` for a quiz, in study order.
    pub items: Vec<bool>,
    /// The continuing-education lessons renewing doctors study.
    pub ce: Vec<usize>,
}

/// Writes the script.
pub fn write(
    figures: &Figures,
    syllabus: &Syllabus,
    members: usize,
    rng: &mut ChaCha8Rng,
) -> Script {
    let doctors = cast(figures, syllabus, members, rng);
    let mut script = Script {
        doctors,
        referrals: Vec::new(),
        events: Vec::new(),
        completions: 0,
    };
    for exam in Exam::ALL {
        let at = match exam {
            Exam::EarlierWritten | Exam::EarlierCase => day(-795, 2),
            Exam::Renewal => day(-200, 2),
            Exam::Upcoming => day(-20, 2),
            _ => day(-150, 2),
        };
        script.events.push((at, Event::ScheduleExam { exam }));
    }
    script.events.push((
        day(-140, 3),
        Event::StandardSetting {
            exam: Exam::Written,
        },
    ));
    earlier_cohort(&mut script, syllabus, rng);
    current_cohort(&mut script, syllabus, rng);
    community_care(&mut script, figures, rng);
    for d in [
        -779, -762, -749, -179, -170, -109, -79, -60, -55, -29, -10, -1,
    ] {
        script.events.push((day(d, 12), Event::Jobs));
    }
    revision(&mut script, figures, syllabus, rng);
    script.completions = completions(&script, syllabus);
    // Stable: events written for the same moment keep their order.
    script.events.sort_by_key(|(at, _)| *at);
    script
}

/// Who the doctors are and what becomes of them.
fn cast(
    figures: &Figures,
    syllabus: &Syllabus,
    members: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<DoctorPlan> {
    let n = figures.cohort;
    // A share of the cohort, rounded: between 0 and the cohort's size.
    let share = |p: f64, min: usize| whole_usize((p * count_f64(n)).round()).max(min);
    let mut fates = Vec::with_capacity(n);
    let fixed = [
        (Fate::Certified, figures.cohort_certified),
        (Fate::AwaitingCommittee, share(0.007, 1)),
        (Fate::CommitteeRejected, share(0.002, 1)),
        (Fate::CaseFailed, share(0.05, 2)),
        (Fate::WrittenRejected, share(0.25, 2)),
        (Fate::WrittenRetake, share(0.15, 1)),
        (Fate::NextWritten, share(0.12, 1)),
    ];
    for (fate, count) in fixed {
        fates.extend(std::iter::repeat_n(fate, count));
    }
    let full = syllabus.items.len();
    while fates.len() < n {
        fates.push(Fate::Studying {
            items: rng.random_range(0..full.saturating_sub(1).max(1)),
        });
    }
    fates.truncate(n);
    fates.shuffle(rng);
    let mut doctors: Vec<DoctorPlan> = fates
        .into_iter()
        .enumerate()
        .map(|(i, fate)| DoctorPlan {
            fate,
            cohort: Cohort::Current,
            institution: i % members.max(1),
        })
        .collect();
    let earlier = figures.earlier_certified;
    let mut later: Vec<Later> = Vec::with_capacity(earlier);
    later.extend(std::iter::repeat_n(Later::Suspended, figures.suspended));
    later.extend(std::iter::repeat_n(Later::Revoked, figures.revoked));
    later.extend(std::iter::repeat_n(
        Later::Renewed,
        figures
            .renewed
            .saturating_sub(figures.suspended + figures.revoked),
    ));
    while later.len() < earlier {
        later.push(Later::Expired);
    }
    for (i, l) in later.into_iter().enumerate() {
        doctors.push(DoctorPlan {
            fate: Fate::Earlier(l),
            cohort: Cohort::Earlier,
            institution: (i * 7) % members.max(1),
        });
    }
    doctors
}

/// How a doctor studies: from which day, one item about every `gap` days,
/// and whether quizzes often need a second try.
#[derive(Debug, Clone, Copy)]
struct Pace {
    from: f64,
    gap: f64,
    weak: bool,
}

/// A doctor's training, one item every `gap` days from `from`; quizzes
/// meant to fail first are retaken. Returns the day after the last item.
fn train(
    script: &mut Script,
    syllabus: &Syllabus,
    doctor: usize,
    items: usize,
    pace: Pace,
    rng: &mut ChaCha8Rng,
) -> f64 {
    let Pace { from, gap, weak } = pace;
    let mut t = from;
    for (item, &quiz) in syllabus.items.iter().enumerate().take(items) {
        t += gap * rng.random_range(0.5..1.5);
        if quiz && weak && rng.random_bool(0.5) {
            script.events.push((
                at(t),
                Event::Study {
                    doctor,
                    item,
                    pass: false,
                },
            ));
            t += 1.0;
        }
        script.events.push((
            at(t),
            Event::Study {
                doctor,
                item,
                pass: true,
            },
        ));
    }
    t
}

/// A doctor sits `exam`: registered by the admin two days before it opens,
/// and sits it in its window.
fn sitting(script: &mut Script, exam: Exam, doctor: usize) {
    script.events.push((
        day(exam.opens_day() - 2, 3),
        Event::Register { exam, doctor },
    ));
    script
        .events
        .push((day(exam.opens_day(), 2), Event::Sit { exam, doctor }));
}

/// A fractional day from today as a moment (during the working day).
// Days within a few years of today and the hour of a 9-hour day: whole
// numbers far inside i64 (a float cast saturates in any case).
fn at(t: f64) -> DateTime<Utc> {
    let whole = whole_i64(t.floor());
    let hours = whole_i64(((t - t.floor()) * 9.0).floor());
    day(whole, 1 + hours)
}

/// The doctors of a cohort, by index.
fn doctors_of(script: &Script, cohort: Cohort) -> Vec<usize> {
    script
        .doctors
        .iter()
        .enumerate()
        .filter(|(_, d)| d.cohort == cohort)
        .map(|(i, _)| i)
        .collect()
}

fn earlier_cohort(script: &mut Script, syllabus: &Syllabus, rng: &mut ChaCha8Rng) {
    let ids = doctors_of(script, Cohort::Earlier);
    let full = syllabus.items.len();
    script.events.push((
        day(-797, 2),
        Event::ScheduleWorkshops {
            round: 0,
            at: day(-790, 1),
        },
    ));
    for &d in &ids {
        let start = -850.0 + count_f64(d % 5);
        script.events.push((at(start), Event::Apply { doctor: d }));
        let pace = Pace {
            from: start,
            gap: 45.0 / count_f64(full),
            weak: false,
        };
        train(script, syllabus, d, full, pace, rng);
        script.events.push((
            day(-796, 3),
            Event::SignUp {
                doctor: d,
                round: 0,
            },
        ));
        sitting(script, Exam::EarlierWritten, d);
        sitting(script, Exam::EarlierCase, d);
    }
    script
        .events
        .push((day(-790, 8), Event::Attend { round: 0 }));
    script.events.push((
        day(-779, 2),
        Event::Release {
            exam: Exam::EarlierWritten,
        },
    ));
    script.events.push((
        day(-769, 2),
        Event::Mark {
            exam: Exam::EarlierCase,
        },
    ));
    script.events.push((
        day(-762, 2),
        Event::Release {
            exam: Exam::EarlierCase,
        },
    ));
    script.events.push((
        day(-750, 3),
        Event::Committee {
            cohort: Cohort::Earlier,
        },
    ));

    earlier_renewal(script, syllabus, &ids, rng);
}

/// Renewal: continuing education (12 credit hours), the renewal exam,
/// the committee; then suspensions and a revocation.
fn earlier_renewal(script: &mut Script, syllabus: &Syllabus, ids: &[usize], rng: &mut ChaCha8Rng) {
    let lessons = syllabus.ce.clone();
    for &d in ids {
        let Some(Fate::Earlier(later)) = script.doctors.get(d).map(|p| p.fate) else {
            continue;
        };
        if later == Later::Expired {
            continue;
        }
        let mut t = -300.0 + count_f64(d % 7);
        for &item in &lessons {
            t += 20.0 * rng.random_range(0.5..1.5);
            script.events.push((
                at(t),
                Event::Study {
                    doctor: d,
                    item,
                    pass: true,
                },
            ));
        }
        script
            .events
            .push((day(-190, 2), Event::ApplyRenewal { doctor: d }));
        sitting(script, Exam::Renewal, d);
        match later {
            Later::Suspended => script
                .events
                .push((day(-40, 3), Event::Suspend { doctor: d })),
            Later::Revoked => {
                script
                    .events
                    .push((day(-36, 3), Event::ProposeRevocation { doctor: d }));
                script
                    .events
                    .push((day(-35, 3), Event::ConfirmRevocation { doctor: d }));
            }
            _ => {}
        }
    }
    script.events.push((
        day(-179, 2),
        Event::Release {
            exam: Exam::Renewal,
        },
    ));
    script.events.push((
        day(-170, 3),
        Event::Committee {
            cohort: Cohort::Earlier,
        },
    ));
}

/// One doctor of the current cohort: training at the pace their fate
/// gives, a workshop, and the exams they sit or register for.
fn plan_current_doctor(script: &mut Script, syllabus: &Syllabus, d: usize, rng: &mut ChaCha8Rng) {
    let full = syllabus.items.len();
    let Some(fate) = script.doctors.get(d).map(|p| p.fate) else {
        return;
    };
    let start = -340.0 + count_f64(d % 20);
    script.events.push((at(start), Event::Apply { doctor: d }));
    let weak = matches!(
        fate,
        Fate::Studying { .. } | Fate::WrittenRejected | Fate::WrittenRetake
    );
    let pace = |gap: f64| Pace {
        from: start,
        gap,
        weak,
    };
    match fate {
        Fate::Studying { items } => {
            train(script, syllabus, d, items, pace(7.0), rng);
        }
        Fate::NextWritten => {
            train(script, syllabus, d, full, pace(6.0), rng);
            script.events.push((
                day(-96, 3),
                Event::SignUp {
                    doctor: d,
                    round: 2,
                },
            ));
        }
        _ => {
            train(
                script,
                syllabus,
                d,
                full,
                pace(150.0 / count_f64(full)),
                rng,
            );
            script.events.push((
                day(-126, 3),
                Event::SignUp {
                    doctor: d,
                    round: 1,
                },
            ));
        }
    }
    if fate.trains_fully() {
        sitting(script, Exam::Written, d);
    }
    match fate {
        Fate::WrittenRejected => sitting(script, Exam::WrittenRetake, d),
        Fate::WrittenRetake | Fate::NextWritten => {
            script.events.push((
                day(-5, 3),
                Event::Register {
                    exam: Exam::Upcoming,
                    doctor: d,
                },
            ));
        }
        Fate::CaseFailed | Fate::AwaitingCommittee | Fate::CommitteeRejected | Fate::Certified => {
            sitting(script, Exam::Case, d)
        }
        _ => {}
    }
}

fn current_cohort(script: &mut Script, syllabus: &Syllabus, rng: &mut ChaCha8Rng) {
    let ids = doctors_of(script, Cohort::Current);
    script.events.push((
        day(-127, 2),
        Event::ScheduleWorkshops {
            round: 1,
            at: day(-125, 1),
        },
    ));
    script.events.push((
        day(-97, 2),
        Event::ScheduleWorkshops {
            round: 2,
            at: day(-95, 1),
        },
    ));
    for &d in &ids {
        plan_current_doctor(script, syllabus, d, rng);
    }
    script
        .events
        .push((day(-125, 8), Event::Attend { round: 1 }));
    script
        .events
        .push((day(-95, 8), Event::Attend { round: 2 }));
    for (exam, release) in [
        (Exam::Written, -109),
        (Exam::WrittenRetake, -79),
        (Exam::Case, -60),
    ] {
        if exam == Exam::Case {
            script.events.push((day(-69, 2), Event::Mark { exam }));
        }
        script
            .events
            .push((day(release, 2), Event::Release { exam }));
    }
    // One doctor who failed the case exam appeals; the re-mark follows.
    if let Some(&d) = ids.iter().find(|&&d| {
        script
            .doctors
            .get(d)
            .is_some_and(|p| p.fate == Fate::CaseFailed)
    }) {
        script.events.push((
            day(-58, 3),
            Event::Appeal {
                exam: Exam::Case,
                doctor: d,
            },
        ));
        script
            .events
            .push((day(-56, 3), Event::Mark { exam: Exam::Case }));
    }
    script.events.push((
        day(-30, 3),
        Event::Committee {
            cohort: Cohort::Current,
        },
    ));
}

/// `first_visits` first visits spread over the recording doctors and the
/// months, each share drawn at random.
fn plan_visits(
    script: &mut Script,
    first_visits: i64,
    recorders: &[usize],
    months: &[NaiveDate],
    rng: &mut ChaCha8Rng,
) {
    let cells = recorders.len() * months.len();
    if cells > 0 {
        let total = first_visits;
        let weights: Vec<f64> = (0..cells).map(|_| rng.random_range(0.6..1.4)).collect();
        let sum: f64 = weights.iter().sum();
        // A share of `total`, rounded down: between 0 and `total`.
        let mut counts: Vec<i64> = weights
            .iter()
            .map(|w| whole_i64((w / sum * i64_f64(total)).floor()))
            .collect();
        let mut rest = total - counts.iter().sum::<i64>();
        let mut k = 0;
        while rest > 0 {
            if let Some(count) = counts.get_mut(k % cells) {
                *count += 1;
            }
            rest -= 1;
            k += 1;
        }
        // A row of counts per month, a count per recorder (cells > 0, so
        // recorders is not empty).
        for (month, row) in months.iter().zip(counts.chunks(recorders.len())) {
            for (&doctor, &count) in recorders.iter().zip(row) {
                let moment = month.and_hms_opt(10, 0, 0).unwrap_or_default().and_utc();
                script.events.push((
                    moment.max(day(-364, 10)),
                    Event::Visits {
                        doctor,
                        day: *month,
                        count,
                    },
                ));
            }
        }
    }
}

/// The first day of the dashboard's twelve calendar months, from today.
fn first_day(months: &[NaiveDate], today: NaiveDate) -> i64 {
    months
        .first()
        .map(|m| (*m - today).num_days() + 1)
        .unwrap_or(-330)
}

/// `n` referrals from day `first` on: by doctors whose credential is live
/// at the time (the gate is the judge); one doctor refers too readily and
/// gets flagged.
fn plan_referrals(script: &mut Script, n: usize, first: i64, rng: &mut ChaCha8Rng) {
    let live = |d: &DoctorPlan, t: i64| match d.fate {
        Fate::Earlier(Later::Expired) => t < -25,
        Fate::Earlier(Later::Suspended) | Fate::Earlier(Later::Revoked) => t < -45,
        Fate::Earlier(Later::Renewed) => true,
        Fate::Certified => t > -25,
        _ => false,
    };
    let flagged = script
        .doctors
        .iter()
        .position(|d| d.fate == Fate::Earlier(Later::Renewed));
    for r in 0..n {
        let t = first + (count_i64(r) * (-3 - first)) / count_i64(n.max(1));
        // Six referrals spread over the year are the flagged doctor's; half
        // of them were not needed.
        let step = (n / 6).max(1);
        let theirs = r % step == 0 && r / step < 6;
        let doctor = if theirs {
            flagged
        } else {
            let pool: Vec<usize> = script
                .doctors
                .iter()
                .enumerate()
                .filter(|(_, d)| live(d, t))
                .map(|(i, _)| i)
                .collect();
            if pool.is_empty() {
                None
            } else {
                pool.get(rng.random_range(0..pool.len())).copied()
            }
        };
        let Some(doctor) = doctor else {
            continue;
        };
        let appropriate = if theirs {
            (r / step) % 2 == 1
        } else {
            rng.random_bool(0.93)
        };
        let moment = day(t, 2 + rng.random_range(0..6));
        script.referrals.push(ReferralPlan {
            doctor,
            at: moment,
            department: r % 4,
            appropriate,
            back: false,
            urgent: r % 10 == 7,
        });
    }
}

/// First visits and referrals of the last twelve months.
fn community_care(script: &mut Script, figures: &Figures, rng: &mut ChaCha8Rng) {
    // One recording doctor per member institution (the current cohort's
    // first there), the first of each of the last twelve months.
    let mut recorders: Vec<usize> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, d) in script.doctors.iter().enumerate() {
        if d.cohort == Cohort::Current && seen.insert(d.institution) {
            recorders.push(i);
        }
    }
    let today = Utc::now().date_naive();
    let months: Vec<NaiveDate> = (0..12)
        .rev()
        .filter_map(|back| first_of_month_back(today, back))
        .collect();
    plan_visits(script, figures.first_visits, &recorders, &months, rng);
    plan_referrals(script, figures.referrals, first_day(&months, today), rng);
    // Exactly the planned share comes back down.
    let want_back = figures.referred_back.min(script.referrals.len());
    for (i, plan) in script.referrals.iter_mut().enumerate() {
        plan.back = i < want_back;
    }
    script.referrals.shuffle(rng);
    script.referrals.sort_by_key(|p| p.at);
    for (referral, plan) in script.referrals.iter().enumerate() {
        let t = plan.at;
        script.events.push((t, Event::Refer { referral }));
        script
            .events
            .push((t + chrono::Duration::hours(2), Event::Accept { referral }));
        script
            .events
            .push((t + chrono::Duration::hours(49), Event::Seen { referral }));
        script
            .events
            .push((t + chrono::Duration::hours(50), Event::Rate { referral }));
        if plan.back {
            script.events.push((
                t + chrono::Duration::hours(52),
                Event::ReferBack { referral },
            ));
        }
    }
}

/// The first day of the month `back` months before `today`'s.
fn first_of_month_back(today: NaiveDate, back: u32) -> Option<NaiveDate> {
    use chrono::Datelike;
    let months =
        today.year() * 12 + i32::try_from(today.month0()).ok()? - i32::try_from(back).ok()?;
    let month = u32::try_from(months.rem_euclid(12)).ok()? + 1;
    NaiveDate::from_ymd_opt(months.div_euclid(12), month, 1)
}

/// Lesson and quiz completions of the last twelve months in the script: a
/// lesson studied twice counts once, at its latest study (the store keeps
/// that one), a quiz every time it is taken.
fn completions(script: &Script, syllabus: &Syllabus) -> usize {
    let year_ago = day(-365, 0);
    let mut latest: std::collections::HashMap<(usize, usize), DateTime<Utc>> =
        std::collections::HashMap::new();
    let mut quizzes = 0;
    for (at, event) in &script.events {
        match *event {
            Event::Study { doctor, item, .. }
                if !syllabus.items.get(item).copied().unwrap_or(false) =>
            {
                let t = latest.entry((doctor, item)).or_insert(*at);
                *t = (*t).max(*at);
            }
            Event::Study { .. } | Event::Revise { .. } if *at >= year_ago => quizzes += 1,
            _ => {}
        }
    }
    latest.values().filter(|t| **t >= year_ago).count() + quizzes
}

/// Revision quizzes before the exams, up to the programme's figure of
/// completions (35,200 at full size).
fn revision(script: &mut Script, figures: &Figures, syllabus: &Syllabus, rng: &mut ChaCha8Rng) {
    // At most 35,200 and never negative.
    let target =
        whole_usize((35_200.0 * count_f64(figures.cohort) / count_f64(super::FULL_COHORT)).round());
    let quizzes: Vec<usize> = syllabus
        .items
        .iter()
        .enumerate()
        .filter(|(_, quiz)| **quiz)
        .map(|(i, _)| i)
        .collect();
    let revisers: Vec<usize> = script
        .doctors
        .iter()
        .enumerate()
        .filter(|(_, d)| d.cohort == Cohort::Current && d.fate.trains_fully())
        .map(|(i, _)| i)
        .collect();
    script.completions = completions(script, syllabus);
    if quizzes.is_empty() || revisers.is_empty() {
        return;
    }
    let mut k = 0usize;
    while script.completions < target {
        let (Some(&doctor), Some(&item)) = (
            revisers.get(k % revisers.len()),
            quizzes.get((k / revisers.len()) % quizzes.len()),
        ) else {
            break;
        };
        // Between the end of training and the written exam.
        let t = -124.0 + rng.random_range(0.0..12.0);
        script.events.push((at(t), Event::Revise { doctor, item }));
        script.completions += 1;
        k += 1;
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
    use rand::SeedableRng;

    fn syllabus() -> Syllabus {
        Syllabus {
            items: (0..32).map(|i| i % 3 == 2).collect(),
            ce: vec![32, 33, 34, 35],
        }
    }

    #[test]
    fn the_script_is_the_same_for_the_same_seed_and_casts_the_planned_figures() {
        let figures = Figures::planned(super::super::FULL_COHORT);
        let one = write(&figures, &syllabus(), 60, &mut ChaCha8Rng::seed_from_u64(7));
        let two = write(&figures, &syllabus(), 60, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(one.events, two.events);
        let count = |f: fn(&Fate) -> bool| one.doctors.iter().filter(|d| f(&d.fate)).count();
        assert_eq!(count(|f| *f == Fate::Certified), 14, "3% of 458");
        assert_eq!(
            count(|f| f.certified()),
            73,
            "the programme's alliance doctors"
        );
        assert_eq!(one.referrals.len(), 188);
        assert_eq!(one.referrals.iter().filter(|r| r.back).count(), 141);
        assert!(one.completions >= 35_000, "{}", one.completions);
        assert!(
            one.events.windows(2).all(|w| w[0].0 <= w[1].0),
            "sorted by time"
        );
        let visits: i64 = one
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Visits { count, .. } => Some(*count),
                _ => None,
            })
            .sum();
        assert_eq!(visits, 19_106);
    }
}
