//! Standard setting by the modified Angoff method: raters estimate each
//! question, the committee approves the pass mark.

use super::*;
use crate::domain::ids::{ExamId, PersonId};
use crate::services::exams::Exam;
use utoipa::ToSchema;

/// A question of an exam's standard setting, with the caller's rating.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RatedQuestion {
    /// The question's id.
    pub question_id: i64,
    /// Its id in its bank.
    pub key: String,
    /// The question.
    pub stem: String,
    /// Points on the paper (its blueprint section's).
    pub points: u32,
    /// Its weight in the cut score: its expected points on a paper, points ×
    /// the share of its blueprint cell a paper draws (mix / cell size).
    pub weight: f64,
    /// The caller's own rating, if any (others' stay private).
    pub my_rating: Option<f64>,
}

/// A standard-setting round (modified Angoff) for an exam.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SettingView {
    /// The round's id.
    pub id: i64,
    /// The exam's id.
    #[schema(value_type = i64)]
    pub exam_id: ExamId,
    /// Standard settings are numbered per exam; the approved one sets the
    /// exam's pass mark.
    pub version: i32,
    /// `rating` or `approved`.
    pub status: String,
    /// The questions to rate.
    pub questions: Vec<RatedQuestion>,
    /// Raters who have rated every question.
    pub complete_raters: usize,
    /// Raters needed before a cut score is computed.
    pub min_raters: usize,
    /// The cut score in percent of a paper's points, once enough raters are
    /// complete.
    pub cut_score: Option<f64>,
    /// The pass mark the cut score sets (rounded up).
    pub pass_mark: Option<u32>,
}

/// A question a paper of the exam can hold.
struct PoolQuestion {
    question_id: i64,
    key: String,
    stem: String,
    points: u32,
    /// Expected points on a paper (see `domain::papers::Share::weight`).
    weight: f64,
}

/// The questions a paper of the exam can hold, with their points and
/// their weights on the paper.
fn exam_pool(conn: &mut DbConn, exam: &store_exams::ExamRow) -> Result<Vec<PoolQuestion>> {
    let blueprint: crate::domain::papers::Blueprint = serde_json::from_str(&exam.blueprint)
        .map_err(|e| Error::internal_from(format!("exam {} blueprint", exam.id), e))?;
    let mut candidates = Vec::new();
    let mut stems = HashMap::new();
    for v in store_banks::drawable(conn, &exam.track)? {
        let content: Content = serde_json::from_str(&v.content)
            .map_err(|e| Error::internal_from(format!("stored question {}", v.id), e))?;
        candidates.push(crate::domain::papers::Candidate {
            version_id: v.id,
            question_id: v.question_id,
            topic: v.topic,
            // Clamped to 1..=5: fits a u8.
            difficulty: u8::try_from(v.difficulty.clamp(1, 5)).unwrap_or(1),
            kind: content.body.kind(),
            options: 0,
            exposure: 0,
        });
        stems.insert(v.question_id, content.stem);
    }
    let mut out = Vec::new();
    for share in crate::domain::papers::shares(&blueprint, &candidates) {
        let key = store_banks::question_key(conn, share.question_id)?.unwrap_or_default();
        out.push(PoolQuestion {
            question_id: share.question_id,
            key,
            stem: stems.remove(&share.question_id).unwrap_or_default(),
            points: share.points,
            weight: share.weight(),
        });
    }
    Ok(out)
}

/// Where a round's ratings stand: raters who rated every question, and the
/// cut score (the approved one, or the current one once enough raters are
/// complete).
fn tally_setting(
    setting: &store_grading::SettingRow,
    pool: &[PoolQuestion],
    ratings: &[(PersonId, i64, f64)],
) -> (usize, Option<f64>) {
    let weights: HashMap<i64, f64> = pool.iter().map(|q| (q.question_id, q.weight)).collect();
    let mut raters: Vec<PersonId> = ratings.iter().map(|r| r.0).collect();
    raters.sort_unstable();
    raters.dedup();
    let complete_raters = raters
        .iter()
        .filter(|r| {
            weights
                .keys()
                .all(|q| ratings.iter().any(|x| x.0 == **r && x.1 == *q))
        })
        .count();
    let cut = setting
        .cut_score
        .or_else(|| grading::angoff_cut(ratings, &weights));
    (complete_raters, cut)
}

fn setting_view(
    conn: &mut DbConn,
    setting: &store_grading::SettingRow,
    me: PersonId,
) -> Result<SettingView> {
    let exam = store_exams::find_exam(conn, setting.exam_id)?.ok_or(Error::NotFound)?;
    let pool = exam_pool(conn, &exam)?;
    let ratings = store_grading::ratings_of(conn, setting.id)?;
    let (complete_raters, cut) = tally_setting(setting, &pool, &ratings);
    Ok(SettingView {
        id: setting.id,
        exam_id: setting.exam_id,
        version: setting.version,
        status: setting.status.as_str().to_owned(),
        questions: pool
            .into_iter()
            .map(|q| RatedQuestion {
                my_rating: ratings
                    .iter()
                    .find(|r| r.0 == me && r.1 == q.question_id)
                    .map(|r| r.2),
                question_id: q.question_id,
                key: q.key,
                stem: q.stem,
                points: q.points,
                weight: q.weight,
            })
            .collect(),
        complete_raters,
        min_raters: grading::MIN_RATERS,
        cut_score: cut,
        pass_mark: cut.map(grading::pass_mark_from_cut),
    })
}

/// One round of standard setting, as the exam shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SettingLine {
    /// The round's id.
    pub id: i64,
    /// Its number for the exam.
    pub version: i32,
    /// `rating` or `approved`.
    pub status: String,
    /// Raters who have rated every question.
    pub complete_raters: usize,
    /// The cut score in percent of a paper's points: the approved one, or
    /// the current one once enough raters are complete.
    pub cut_score: Option<f64>,
    /// The pass mark the cut score sets (rounded up).
    pub pass_mark: Option<u32>,
    /// When it was opened (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
    /// When it was approved (RFC 3339 UTC); null until then.
    pub approved_at: Option<DateTime<Utc>>,
    /// The committee member who approved it.
    pub approved_by: Option<String>,
}

/// An exam with what decides its results: for admins (its owner among
/// them) and the committee.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExamDetail {
    /// The exam: window, duration, pass mark, blueprint and settings.
    pub exam: Exam,
    /// The admin who scheduled it and releases its results.
    pub owner: Option<String>,
    /// When results were released to candidates (RFC 3339 UTC); null until then.
    pub results_released_at: Option<DateTime<Utc>>,
    /// Until when candidates may appeal, once results are out.
    pub appeal_until: Option<DateTime<Utc>>,
    /// The version of the standard-setting round whose approval set the
    /// pass mark; `null` when the pass mark is the one fixed at scheduling.
    pub pass_mark_set_by: Option<i32>,
    /// The modified-Angoff rounds, oldest first, with their cut scores.
    pub standard_settings: Vec<SettingLine>,
}

/// An exam with its window, pass mark, blueprint and standard-setting
/// rounds: for admins (exam owners among them) and the committee. The
/// seeds of candidates' papers are shown where the committee sees an
/// attempt: each exam of a case's dossier.
pub async fn exam_detail(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<ExamDetail> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    ctx.db
        .read(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            let owner = match exam.created_by {
                Some(id) => people::find(conn, id)?.map(|p| p.name),
                None => None,
            };
            let rows = store_grading::settings_of(conn, exam.id)?;
            let pool = if rows.is_empty() {
                Vec::new()
            } else {
                exam_pool(conn, &exam)?
            };
            let mut standard_settings = Vec::with_capacity(rows.len());
            for row in &rows {
                let ratings = store_grading::ratings_of(conn, row.id)?;
                let (complete_raters, cut) = tally_setting(row, &pool, &ratings);
                let approved_by = match row.approved_by {
                    Some(id) => people::find(conn, id)?.map(|p| p.name),
                    None => None,
                };
                standard_settings.push(SettingLine {
                    id: row.id,
                    version: row.version,
                    status: row.status.as_str().to_owned(),
                    complete_raters,
                    cut_score: cut,
                    pass_mark: cut.map(grading::pass_mark_from_cut),
                    created_at: utc(row.created_at),
                    approved_at: row.approved_at.map(utc),
                    approved_by,
                });
            }
            // Approving a round sets the pass mark: the last approved one did.
            let pass_mark_set_by = rows
                .iter()
                .filter(|r| r.approved_at.is_some())
                .max_by_key(|r| r.approved_at)
                .map(|r| r.version);
            let appeal_until = exam
                .results_released_at
                .map(|r| utc(r) + Duration::days(i64::from(exam.appeal_days.max(0))));
            Ok(ExamDetail {
                results_released_at: exam.results_released_at.map(utc),
                exam: Exam::from(exam),
                owner,
                standard_settings,
                pass_mark_set_by,
                appeal_until,
            })
        })
        .await
}

/// Opens a new round of standard setting for an exam whose results are not
/// out (committee and admins).
pub async fn open_setting(ctx: &Ctx, caller: &Caller, exam_id: ExamId) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .write(move |conn| {
            let exam = store_exams::find_exam(conn, exam_id)?.ok_or(Error::NotFound)?;
            if exam.results_released_at.is_some() {
                return Err(Error::conflict(
                    "exam",
                    "results are out; the pass mark can no longer change",
                ));
            }
            let setting = store_grading::new_setting(conn, exam_id, store::now())?;
            setting_view(conn, &setting, me)
        })
        .await
}

pub async fn get_setting(ctx: &Ctx, caller: &Caller, id: i64) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .read(move |conn| {
            let setting = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            setting_view(conn, &setting, me)
        })
        .await
}

/// A committee member's ratings: for each question, the probability (0 to
/// 1) that a borderline candidate answers it right.
pub async fn rate(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    ratings: Vec<(i64, f64)>,
) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let actor = person(ctx, caller).await?;
    if !actor.has(crate::domain::roles::Role::Committee) {
        return refuse(ctx, caller, "authorise", "committee_only".to_owned()).await;
    }
    ctx.db
        .write(move |conn| {
            let setting = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            if setting.status != SettingStatus::Rating {
                return Err(Error::conflict(
                    "setting",
                    "this standard setting is approved",
                ));
            }
            let exam = store_exams::find_exam(conn, setting.exam_id)?.ok_or(Error::NotFound)?;
            let pool = exam_pool(conn, &exam)?;
            for (i, (question, p)) in ratings.iter().enumerate() {
                if !pool.iter().any(|q| q.question_id == *question) {
                    return Err(Error::invalid(
                        format!("ratings[{i}]"),
                        "not a question of this exam",
                    ));
                }
                if !grading::valid_probability(*p) {
                    return Err(Error::invalid(
                        format!("ratings[{i}]"),
                        "a probability from 0 to 1",
                    ));
                }
                store_grading::save_rating(conn, id, actor.id, *question, *p)?;
            }
            setting_view(conn, &setting, actor.id)
        })
        .await
}

/// The committee approves the cut score; it becomes the exam's pass mark
/// (rounded up), recorded with the round's version.
pub async fn approve_setting(ctx: &Ctx, caller: &Caller, id: i64) -> Result<SettingView> {
    require(ctx, caller, Permission::ReviewQuestions).await?;
    let actor = person(ctx, caller).await?;
    if !actor.has(crate::domain::roles::Role::Committee) {
        return refuse(ctx, caller, "authorise", "committee_only".to_owned()).await;
    }
    let mut event = audit::event(
        caller,
        "standard.approve",
        Some(format!("setting:{id}")),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let setting = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            let exam = store_exams::find_exam(conn, setting.exam_id)?.ok_or(Error::NotFound)?;
            if exam.results_released_at.is_some() {
                return Err(Error::conflict(
                    "exam",
                    "results are out; the pass mark can no longer change",
                ));
            }
            let view = setting_view(conn, &setting, actor.id)?;
            let (Some(cut), Some(pass)) = (view.cut_score, view.pass_mark) else {
                return Err(Error::conflict(
                    "setting",
                    format!(
                        "at least {} committee members must rate every question",
                        grading::MIN_RATERS
                    ),
                ));
            };
            if store_grading::approve_setting(conn, id, cut, actor.id, now)? == 0 {
                return Err(Error::conflict(
                    "setting",
                    "this standard setting is approved",
                ));
            }
            let pass = i32::try_from(pass).map_err(|e| Error::internal_from("the pass mark", e))?;
            store_grading::set_pass_mark(conn, exam.id, pass)?;
            event.detail = Some(format!(
                "exam {} version {}: cut {cut:.2}%, pass mark {pass}%",
                exam.id, setting.version
            ));
            audit::record(conn, &event)?;
            let approved = store_grading::find_setting(conn, id)?.ok_or(Error::NotFound)?;
            setting_view(conn, &approved, actor.id)
        })
        .await
}
