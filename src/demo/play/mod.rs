//! Plays the script through the services, each event at its moment.

// The green channel's events (refer, accept, see, rate, refer back).
mod care;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::alliance::{self, Alliance, Member, Staff, TRACK};
use super::answers::{self, Knowledge};
use super::script::{self, Cohort, Event, Exam, Fate, Later, Script, Syllabus};
use super::{Figures, Options, Report, SignIn, day};
use crate::domain::ids::ExamId;
use crate::domain::numbers::{count_i64, i64_f64};
use crate::domain::pipeline::{ExamStage, Kind, Stage};
use crate::domain::scoring::ShownAnswer;
use crate::error::{Error, Result};
use crate::services::credentials::Change;
use crate::services::exams::{AccommodationInput, ExamInput, Taker};
use crate::services::training::SessionInput;
use crate::services::{Ctx, committee, courses, credentials, exams, grading, pipeline, training};
use crate::store;

/// One item of the track's training.
#[derive(Debug, Clone)]
enum Item {
    Lesson { course: String, lesson: String },
    Quiz { course: String, module: String },
}

/// What the player knows as it goes.
pub(super) struct Player<'a> {
    pub ctx: &'a Ctx,
    pub rng: ChaCha8Rng,
    pub alliance: Alliance,
    pub script: Script,
    pub doctors: Vec<Member>,
    items: Vec<Item>,
    exams: HashMap<Exam, ExamId>,
    attempts: HashMap<(Exam, usize), i64>,
    /// Workshop sessions per round, per workshop.
    sessions: HashMap<usize, Vec<Vec<i64>>>,
    signed_up: HashMap<usize, usize>,
    /// Each lesson's version as first opened (no lesson changes while the
    /// script plays, so a doctor's page would show the same).
    lesson_versions: HashMap<usize, i32>,
    /// The practice bank's questions by stem: what a well-read doctor
    /// recognises in a quiz (loaded at the first quiz).
    practice: HashMap<String, std::sync::Arc<crate::domain::banks::Content>>,
    pub referrals: Vec<Option<i64>>,
}

pub async fn run(ctx: &Ctx, options: Options) -> Result<Report> {
    let figures = Figures::planned(options.cohort);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut phases: Vec<(String, usize, Duration)> = Vec::new();

    // The alliance is founded two and a half years ago.
    crate::clock::set(day(-860, 1));
    let started = Instant::now();
    import_material(ctx).await?;
    let alliance = alliance::found(ctx, &mut rng, &figures).await?;
    let mut items = syllabus(ctx, &alliance.admin).await?;
    let plan = Syllabus {
        items: items
            .iter()
            .map(|i| matches!(i, Item::Quiz { .. }))
            .collect(),
        ce: (items.len()..items.len() + alliance::ce_lessons().count()).collect(),
    };
    items.extend(alliance::ce_lessons().map(|lesson| Item::Lesson {
        course: alliance::CE_COURSE.to_owned(),
        lesson: lesson.to_owned(),
    }));
    let script = script::write(&figures, &plan, alliance.members.len(), &mut rng);
    phases.push(("alliance, courses and banks".into(), 1, started.elapsed()));

    let started = Instant::now();
    let (doctors, doctor_sign_ins) = enrol_doctors(ctx, &alliance, &script, &mut rng).await?;
    phases.push(("doctors' accounts".into(), doctors.len(), started.elapsed()));

    let mut sign_ins = alliance.sign_ins.clone();
    sign_ins.extend(doctor_sign_ins);
    let completions = script.completions;
    let events = script.events.clone();
    let mut player = Player {
        ctx,
        rng,
        alliance,
        referrals: vec![None; script.referrals.len()],
        script,
        doctors,
        items,
        exams: HashMap::new(),
        attempts: HashMap::new(),
        sessions: HashMap::new(),
        signed_up: HashMap::new(),
        lesson_versions: HashMap::new(),
        practice: HashMap::new(),
    };
    let mut spent: HashMap<&'static str, (usize, Duration)> = HashMap::new();
    for (at, event) in &events {
        crate::clock::set(*at);
        let t = Instant::now();
        player
            .play(event)
            .await
            .map_err(|e| Error::internal_from(format!("demo: {event:?} at {at}"), e))?;
        let entry = spent.entry(kind(event)).or_default();
        entry.0 += 1;
        entry.1 += t.elapsed();
    }
    crate::clock::reset();
    // Today's turn of the jobs: cases settle, credentials expire.
    player.jobs().await?;
    let mut spent: Vec<_> = spent.into_iter().collect();
    spent.sort_by_key(|(_, (_, d))| std::cmp::Reverse(*d));
    phases.extend(
        spent
            .into_iter()
            .map(|(name, (n, d))| (name.to_owned(), n, d)),
    );
    Ok(Report {
        figures,
        sign_ins,
        completions,
        events: events.len(),
        phases,
        elapsed: Duration::ZERO,
    })
}

/// The group an event's time is counted in.
fn kind(event: &Event) -> &'static str {
    match event {
        Event::Apply { .. } | Event::ApplyRenewal { .. } => "applications",
        Event::Study { .. } | Event::Revise { .. } => "lessons and quizzes",
        Event::ScheduleWorkshops { .. } | Event::SignUp { .. } | Event::Attend { .. } => {
            "workshops"
        }
        Event::ScheduleExam { .. }
        | Event::StandardSetting { .. }
        | Event::Register { .. }
        | Event::Sit { .. } => "exams",
        Event::Mark { .. } | Event::Release { .. } | Event::Appeal { .. } => "marking",
        Event::Committee { .. }
        | Event::Suspend { .. }
        | Event::ProposeRevocation { .. }
        | Event::ConfirmRevocation { .. } => "committee",
        Event::Jobs => "jobs",
        Event::Visits { .. } => "community visits",
        Event::Refer { .. }
        | Event::Accept { .. }
        | Event::Seen { .. }
        | Event::Rate { .. }
        | Event::ReferBack { .. } => "referrals",
    }
}

/// The sample courses and banks, as `serve` loads them at start.
async fn import_material(ctx: &Ctx) -> Result<()> {
    let db = ctx.db.clone();
    let banks = ctx.settings.question_banks.clone();
    let courses_dir = ctx.settings.courses.clone();
    store::blocking(move || {
        let banks = banks.filter(|d| d.is_dir()).ok_or_else(|| {
            Error::invalid("question_banks", "the demo needs the sample question banks")
        })?;
        crate::services::banks::import_path(&db, &banks)?;
        let courses_dir = courses_dir
            .filter(|d| d.is_dir())
            .ok_or_else(|| Error::invalid("courses", "the demo needs the sample courses"))?;
        crate::services::courses::import_path(&db, &courses_dir)?;
        Ok(())
    })
    .await
}

/// The track's lessons and quizzes in study order.
async fn syllabus(ctx: &Ctx, admin: &Member) -> Result<Vec<Item>> {
    let detail = courses::track_detail(ctx, &admin.caller, TRACK).await?;
    let mut items = Vec::new();
    for key in &detail.courses {
        let course = training::course(ctx, &admin.caller, key).await?;
        for module in &course.modules {
            for lesson in &module.lessons {
                items.push(Item::Lesson {
                    course: key.clone(),
                    lesson: lesson.key.clone(),
                });
            }
            if module.quiz.is_some() {
                items.push(Item::Quiz {
                    course: key.clone(),
                    module: module.key.clone(),
                });
            }
        }
    }
    Ok(items)
}

/// Every doctor's account, created by the admin; the two doctors a
/// visitor signs in as set their passwords through the emailed link.
async fn enrol_doctors(
    ctx: &Ctx,
    alliance: &Alliance,
    script: &Script,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<Member>, Vec<SignIn>)> {
    let in_training = script
        .doctors
        .iter()
        .position(|d| matches!(d.fate, Fate::Studying { items } if items >= 12));
    let certified = script
        .doctors
        .iter()
        .position(|d| d.fate == Fate::Earlier(Later::Renewed));
    let mut staff = Staff {
        ctx,
        admin: &alliance.admin,
        rng,
        next: 0,
    };
    let mut doctors = Vec::with_capacity(script.doctors.len());
    let mut sign_ins = Vec::new();
    for (i, plan) in script.doctors.iter().enumerate() {
        let institution = alliance.members.get(plan.institution).copied();
        let local = format!("doctor{}", i + 1);
        let role = if Some(i) == in_training {
            Some("doctor in training")
        } else if Some(i) == certified {
            Some("certified doctor")
        } else {
            None
        };
        let member = match role {
            Some(_) => staff.person(&local, &["doctor"], institution).await?,
            None => staff.account(&local, &["doctor"], institution).await?,
        };
        if let Some(role) = role {
            sign_ins.insert(
                0,
                SignIn {
                    role,
                    email: member.email.clone(),
                    name: member.name.clone(),
                },
            );
        }
        doctors.push(member);
    }
    Ok((doctors, sign_ins))
}

impl Player<'_> {
    async fn play(&mut self, event: &Event) -> Result<()> {
        let ctx = self.ctx;
        match *event {
            Event::Apply { doctor } => self.apply(doctor, Kind::Initial).await?,
            Event::ApplyRenewal { doctor } => self.apply(doctor, Kind::Renewal).await?,
            Event::Study { doctor, item, pass } => self.study(doctor, item, pass).await?,
            Event::Revise { doctor, item } => self.study(doctor, item, true).await?,
            Event::ScheduleWorkshops { round, at } => self.schedule_workshops(round, at).await?,
            Event::SignUp { doctor, round } => self.sign_up(doctor, round).await?,
            Event::Attend { round } => self.attend(round).await?,
            Event::ScheduleExam { exam } => self.schedule(exam).await?,
            Event::StandardSetting { exam } => self.standard_setting(exam).await?,
            Event::Register { exam, doctor } => self.register(exam, doctor).await?,
            Event::Sit { exam, doctor } => self.sit(exam, doctor).await?,
            Event::Mark { exam } => self.mark(exam).await?,
            Event::Release { exam } => {
                let id = self.exam(exam)?;
                self.review_flags(id).await?;
                grading::release(ctx, &self.alliance.admin.caller, id).await?;
            }
            Event::Appeal { exam, doctor } => self.appeal(exam, doctor).await?,
            Event::Committee { cohort } => self.committee(cohort).await?,
            Event::Suspend { doctor } => {
                self.change(
                    doctor,
                    0,
                    Change::Suspend { until: None },
                    "质控检查发现转诊记录与病历不符，暂停资格待调查。",
                )
                .await?
            }
            Event::ProposeRevocation { doctor } => {
                self.change(
                    doctor,
                    0,
                    Change::Revoke,
                    "执业证书已被注销，提议撤销联盟医生资格。",
                )
                .await?
            }
            Event::ConfirmRevocation { doctor } => {
                self.change(doctor, 1, Change::Revoke, "核实执业证书注销，确认撤销。")
                    .await?
            }
            Event::Jobs => self.jobs().await?,
            Event::Visits { doctor, day, count } => {
                crate::services::referrals::record_visits(
                    ctx,
                    &self.doctor(doctor)?.caller,
                    day.format("%Y-%m-%d").to_string(),
                    count,
                )
                .await?;
            }
            Event::Refer { referral } => care::refer(self, referral).await?,
            Event::Accept { referral } => care::accept(self, referral).await?,
            Event::Seen { referral } => care::seen(self, referral).await?,
            Event::Rate { referral } => care::rate(self, referral).await?,
            Event::ReferBack { referral } => care::refer_back(self, referral).await?,
        }
        Ok(())
    }

    async fn apply(&self, doctor: usize, kind: Kind) -> Result<()> {
        pipeline::apply(self.ctx, &self.doctor(doctor)?.caller, TRACK.into(), kind).await?;
        Ok(())
    }

    async fn register(&self, exam: Exam, doctor: usize) -> Result<()> {
        exams::register(
            self.ctx,
            &self.alliance.admin.caller,
            self.exam(exam)?,
            self.doctor(doctor)?.id,
            AccommodationInput {
                extra_minutes: 0,
                opens_at: None,
                closes_at: None,
            },
        )
        .await?;
        Ok(())
    }

    async fn appeal(&self, exam: Exam, doctor: usize) -> Result<()> {
        let attempt = self.attempt(exam, doctor)?;
        grading::appeal(
            self.ctx,
            &self.doctor(doctor)?.caller,
            attempt,
            1,
            "我认为病例分析中的转诊指征和处置要点已写明，请求复核评分。",
        )
        .await?;
        Ok(())
    }

    pub(super) fn doctor(&self, doctor: usize) -> Result<&Member> {
        self.doctors
            .get(doctor)
            .ok_or_else(|| Error::internal(format!("demo: no doctor {doctor}")))
    }

    /// A committee member: 0 the chair, 1 the next.
    fn committee_member(&self, by: usize) -> Result<&Member> {
        self.alliance
            .committee
            .get(by)
            .ok_or_else(|| Error::internal(format!("demo: no committee member {by}")))
    }

    fn exam(&self, exam: Exam) -> Result<ExamId> {
        self.exams
            .get(&exam)
            .copied()
            .ok_or_else(|| Error::internal(format!("demo: {exam:?} was not scheduled")))
    }

    fn attempt(&self, exam: Exam, doctor: usize) -> Result<i64> {
        self.attempts
            .get(&(exam, doctor))
            .copied()
            .ok_or_else(|| Error::internal(format!("demo: doctor {doctor} did not sit {exam:?}")))
    }

    /// The background jobs, as the server runs them.
    async fn jobs(&self) -> Result<()> {
        let db = self.ctx.db.clone();
        let url = self.ctx.settings.public_url.clone();
        store::blocking(move || {
            pipeline::advance_all(&db, &url)?;
            credentials::end_suspensions(&db, &url)?;
            credentials::expire_due(&db, &url)?;
            Ok(())
        })
        .await
    }

    async fn study(&mut self, doctor: usize, item: usize, pass: bool) -> Result<()> {
        let ctx = self.ctx;
        let caller = &self.doctor(doctor)?.caller.clone();
        match self.items.get(item).cloned() {
            Some(Item::Lesson { course, lesson }) => {
                let version = match self.lesson_versions.get(&item) {
                    Some(v) => *v,
                    None => {
                        let view = training::lesson(ctx, caller, &course, &lesson).await?;
                        self.lesson_versions.insert(item, view.version);
                        view.version
                    }
                };
                training::mark_studied(ctx, caller, &course, &lesson, version).await?;
            }
            Some(Item::Quiz { course, module }) => {
                let quiz = training::start_quiz(ctx, caller, &course, &module).await?;
                let knows = if pass { Knowledge(1.0) } else { Knowledge(0.2) };
                let drawn = self.recognise(&quiz).await?;
                let answers: Vec<(usize, ShownAnswer)> = drawn
                    .iter()
                    .enumerate()
                    .map(|(p, (content, order))| {
                        (p, answers::objective(content, order, knows, &mut self.rng))
                    })
                    .collect();
                training::submit_quiz(ctx, &self.doctor(doctor)?.caller, quiz.id, answers).await?;
            }
            None => return Err(Error::internal("demo: no such training item")),
        }
        Ok(())
    }

    /// Each quiz question with its bank content and the order its options
    /// are shown in, recognised by its stem and option texts.
    async fn recognise(
        &mut self,
        quiz: &training::QuizView,
    ) -> Result<Vec<(std::sync::Arc<crate::domain::banks::Content>, Vec<usize>)>> {
        if self.practice.is_empty() {
            let versions = self.ctx.versions.clone();
            let topics: Vec<String> = TOPICS.iter().map(|t| (*t).to_owned()).collect();
            self.practice = self
                .ctx
                .db
                .read(move |conn| {
                    store::banks::practice_pool(conn, &topics)?
                        .into_iter()
                        .map(|v| {
                            let content = versions.content(conn, v.id)?;
                            Ok((content.stem.clone(), content))
                        })
                        .collect::<Result<HashMap<_, _>>>()
                })
                .await?;
        }
        quiz.questions
            .iter()
            .map(|q| {
                let content = self.practice.get(&q.stem).cloned().ok_or_else(|| {
                    Error::internal(format!(
                        "demo: a quiz question not in the practice banks: {}",
                        q.stem
                    ))
                })?;
                let order = match &content.body {
                    crate::domain::banks::Body::Single { options }
                    | crate::domain::banks::Body::Multiple { options } => q
                        .options
                        .iter()
                        .map(|text| options.iter().position(|o| &o.text == text).unwrap_or(0))
                        .collect(),
                    _ => Vec::new(),
                };
                Ok((content, order))
            })
            .collect()
    }

    async fn schedule_workshops(&mut self, round: usize, at: DateTime<Utc>) -> Result<()> {
        let ctx = self.ctx;
        let people = self
            .script
            .events
            .iter()
            .filter(|(_, e)| matches!(e, Event::SignUp { round: r, .. } if *r == round))
            .count();
        let capacity = 50;
        let per_workshop = people.div_ceil(capacity).max(1);
        let workshops = courses::all_workshops(ctx, &self.alliance.admin.caller).await?;
        let mut all = Vec::new();
        for workshop in workshops.iter().filter(|w| w.track_key == TRACK) {
            let mut ids = Vec::new();
            for n in 0..per_workshop {
                let starts = at + chrono::Duration::days(count_i64(n));
                let id = training::schedule_session(
                    ctx,
                    &self.alliance.admin.caller,
                    SessionInput {
                        workshop_id: workshop.id,
                        starts_at: starts,
                        ends_at: starts + chrono::Duration::hours(4),
                        place: "联盟儿童医院技能培训中心 3楼".to_owned(),
                        capacity: count_i64(capacity),
                        instructor_id: self.alliance.instructor.id,
                    },
                )
                .await?;
                ids.push(id);
            }
            all.push(ids);
        }
        self.sessions.insert(round, all);
        Ok(())
    }

    async fn sign_up(&mut self, doctor: usize, round: usize) -> Result<()> {
        let n = self.signed_up.entry(round).or_default();
        let rank = *n;
        *n += 1;
        let sessions = self.sessions.get(&round).cloned().unwrap_or_default();
        for ids in sessions {
            let Some(&id) = ids.get(rank % ids.len().max(1)) else {
                continue;
            };
            training::sign_up(self.ctx, &self.doctor(doctor)?.caller, id).await?;
        }
        Ok(())
    }

    /// The instructor records attendance after each session of the round
    /// (the clock moves to each session's end).
    async fn attend(&mut self, round: usize) -> Result<()> {
        let ctx = self.ctx;
        let instructor = &self.alliance.instructor.caller;
        for ids in self.sessions.get(&round).cloned().unwrap_or_default() {
            for id in ids {
                let roster = training::roster(ctx, instructor, id).await?;
                crate::clock::set(roster.session.ends_at);
                for entry in roster.entries.iter().filter(|e| e.status == "booked") {
                    training::record_attendance(ctx, instructor, id, entry.person_id, true).await?;
                }
            }
        }
        Ok(())
    }

    async fn schedule(&mut self, exam: Exam) -> Result<()> {
        let (blueprint, pass_mark) = match exam.stage() {
            "case" => (
                serde_json::json!({"sections": [{"title": "病例分析", "topics": TOPICS, "kinds": ["case"], "mix": {"4": 1}, "points": 10}]}),
                60,
            ),
            _ => (
                serde_json::json!({"sections": [
                    {"title": "单选与判断", "topics": TOPICS, "kinds": ["single", "true_false"], "mix": {"1": 4, "2": 6, "3": 4, "4": 2}, "points": 2},
                    {"title": "多选", "topics": TOPICS, "kinds": ["multiple"], "mix": {"2": 2, "3": 2}, "points": 2}
                ]}),
                60,
            ),
        };
        let input = ExamInput {
            track: TRACK.to_owned(),
            title: exam.title().to_owned(),
            opens_at: exam.opens(),
            closes_at: exam.closes(),
            duration_minutes: if exam.stage() == "case" { 90 } else { 60 },
            pass_mark,
            attempts_allowed: 1,
            waiting_days: 0,
            review_policy: "full".to_owned(),
            blueprint: serde_json::from_value(blueprint)
                .map_err(|e| Error::internal_from("demo: blueprint", e))?,
            grace_seconds: None,
            marking_tolerance: None,
            marking_days: None,
            appeal_days: None,
            stage: ExamStage::parse(exam.stage()),
        };
        let row = exams::schedule(self.ctx, &self.alliance.admin.caller, input).await?;
        self.exams.insert(exam, row.id);
        Ok(())
    }

    /// Modified Angoff: three committee members rate each question's chance
    /// for a borderline candidate; the chair approves the cut score.
    async fn standard_setting(&mut self, exam: Exam) -> Result<()> {
        let ctx = self.ctx;
        let chair = self.committee_member(0)?.caller.clone();
        let setting = grading::open_setting(ctx, &chair, self.exam(exam)?).await?;
        for member in self.alliance.committee.iter().take(3) {
            let ratings: Vec<(i64, f64)> = setting
                .questions
                .iter()
                .map(|q| (q.question_id, 0.55 + 0.05 * i64_f64(q.question_id % 4)))
                .collect();
            grading::rate(ctx, &member.caller, setting.id, ratings).await?;
        }
        grading::approve_setting(ctx, &chair, setting.id).await?;
        Ok(())
    }

    /// Item analysis before the results: the committee's chair reviews each
    /// flagged question (the sample questions are sound: kept, with why).
    async fn review_flags(&self, exam_id: ExamId) -> Result<()> {
        let chair = &self.committee_member(0)?.caller;
        let view = crate::services::analysis::analysis(self.ctx, chair, exam_id).await?;
        for item in view
            .items
            .iter()
            .filter(|i| i.review.as_deref() == Some("open"))
        {
            crate::services::analysis::review(
                self.ctx,
                chair,
                exam_id,
                item.question_id,
                "keep",
                "已复核题干与答案：题目无误，区分度低源于考生群体两极分化，保留。",
                false,
            )
            .await?;
        }
        Ok(())
    }

    /// How well the doctor does at this exam, by their fate.
    fn knowledge(&self, exam: Exam, doctor: usize) -> Knowledge {
        let Some(fate) = self.script.doctors.get(doctor).map(|d| d.fate) else {
            return Knowledge::STRONG;
        };
        let weak = match exam {
            Exam::Written => matches!(fate, Fate::WrittenRejected | Fate::WrittenRetake),
            Exam::WrittenRetake => fate == Fate::WrittenRejected,
            Exam::Case => fate == Fate::CaseFailed,
            _ => false,
        };
        if weak {
            Knowledge::WEAK
        } else {
            Knowledge::STRONG
        }
    }

    async fn sit(&mut self, exam: Exam, doctor: usize) -> Result<()> {
        let ctx = self.ctx;
        let caller = self.doctor(doctor)?.caller.clone();
        let attempt = exams::start(ctx, Taker::Caller(&caller), self.exam(exam)?).await?;
        let id = attempt.id();
        let versions = ctx.versions.clone();
        let items = ctx
            .db
            .read(move |conn| {
                store::exams::items_of(conn, id)?
                    .into_iter()
                    .map(|item| {
                        let order: Vec<usize> =
                            serde_json::from_str(&item.option_order).unwrap_or_default();
                        Ok((
                            item.position,
                            versions.content(conn, item.version_id)?,
                            order,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        let knows = self.knowledge(exam, doctor);
        // The third-marker case: the first certified doctor of the current
        // cohort writes a case answer two examiners read differently.
        let borderline = exam == Exam::Case
            && self
                .script
                .doctors
                .iter()
                .position(|d| d.fate == Fate::Certified)
                == Some(doctor);
        for (seq, (position, content, order)) in items.iter().enumerate() {
            let answer = match (&content.body, borderline) {
                (crate::domain::banks::Body::Case { model_answer, .. }, true) => {
                    ShownAnswer::Text(answers::borderline_answer(model_answer))
                }
                _ => answers::objective(content, order, knows, &mut self.rng),
            };
            exams::save(
                ctx,
                Taker::Caller(&caller),
                id,
                *position,
                answer,
                count_i64(seq) + 1,
            )
            .await?;
        }
        exams::submit(ctx, Taker::Caller(&caller), id).await?;
        self.attempts.insert((exam, doctor), id);
        Ok(())
    }

    /// Marking rounds until nothing is left to allocate or mark: examiners
    /// 1-3 read generously, 4-6 strictly (the third-marker case needs both).
    async fn mark(&mut self, _exam: Exam) -> Result<()> {
        let ctx = self.ctx;
        for _round in 0..4 {
            let db = ctx.db.clone();
            store::blocking(move || grading::allocate(&db)).await?;
            let mut marked = 0;
            for (i, examiner) in self.alliance.examiners.iter().enumerate() {
                let queue = grading::queue(ctx, &examiner.caller).await?;
                for line in queue.tasks.iter().filter(|l| !l.submitted) {
                    let task = grading::task(ctx, &examiner.caller, line.task_id).await?;
                    let marks = answers::marks(&task, i >= 3);
                    grading::submit_marks(ctx, &examiner.caller, line.task_id, marks).await?;
                    marked += 1;
                }
            }
            if marked == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Votes on every case of the cohort that waits for the committee.
    async fn committee(&mut self, cohort: Cohort) -> Result<()> {
        let ctx = self.ctx;
        let members = self.alliance.committee.clone();
        for (d, plan) in self.script.doctors.clone().iter().enumerate() {
            if plan.cohort != cohort {
                continue;
            }
            let cases = pipeline::my_cases(ctx, &self.doctor(d)?.caller).await?;
            let Some(case) = cases.iter().find(|c| c.stage == Stage::CommitteeReview) else {
                continue;
            };
            let (votes, vote, reason) = match plan.fate {
                Fate::CommitteeRejected => (
                    3,
                    crate::domain::committee::Vote::Reject,
                    "病例分析虽通过，但培训期间转诊记录显示对危险征象识别不足，建议补训后再申请。",
                ),
                Fate::AwaitingCommittee => (
                    1,
                    crate::domain::committee::Vote::Approve,
                    "证据完整，各阶段成绩合格，同意认证。",
                ),
                _ => (
                    3,
                    crate::domain::committee::Vote::Approve,
                    "证据完整，各阶段成绩合格，同意认证。",
                ),
            };
            for member in members.iter().take(votes) {
                committee::vote(ctx, &member.caller, case.id, vote, reason.to_owned()).await?;
            }
        }
        Ok(())
    }

    /// A committee member (`by`: 0 the chair, 1 the next) changes the
    /// doctor's credential.
    async fn change(
        &mut self,
        doctor: usize,
        by: usize,
        change: Change,
        reason: &str,
    ) -> Result<()> {
        let ctx = self.ctx;
        let mine = credentials::mine(ctx, &self.doctor(doctor)?.caller).await?;
        let number = mine
            .first()
            .map(|c| c.number.clone())
            .ok_or_else(|| Error::internal("demo: the doctor holds no credential"))?;
        let member = self.committee_member(by)?;
        credentials::change(ctx, &member.caller, number, change, reason.to_owned()).await?;
        Ok(())
    }
}

/// The exam bank's topics.
const TOPICS: [&str; 10] = [
    "asthma",
    "danger-signs-referral",
    "diarrhoea-dehydration",
    "febrile-seizures",
    "fever-in-infants",
    "growth-nutrition",
    "immunisation",
    "neonatal-jaundice",
    "rashes",
    "respiratory-infections",
];
