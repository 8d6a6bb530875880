//! Practical stations: the committee's stations with their rubric, and
//! examiners recording a doctor's practical assessment.

use super::*;
use crate::domain::ids::PersonId;
use crate::domain::numbers::non_negative_u32;

/// A practical assessment station: what is scored and how.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StationView {
    /// The station's id.
    pub id: i64,
    /// The track's key.
    pub track: String,
    /// Its title.
    pub title: String,
    /// Percent of the points needed to pass.
    pub pass_percent: i32,
    /// The rubric's total points.
    pub points: u32,
    /// The rubric, in order.
    pub rubric: Vec<RubricLine>,
    /// The model answer of the case question whose rubric the station uses.
    pub model_answer: String,
}

fn station_view(conn: &mut DbConn, s: &store_grading::StationRow) -> Result<StationView> {
    let content = content_of(conn, s.version_id)?;
    let (model_answer, rubric) = rubric_of(&content)?;
    Ok(StationView {
        id: s.id,
        track: s.track.clone(),
        title: s.title.clone(),
        pass_percent: s.pass_percent,
        points: rubric.iter().map(|c| c.points).sum(),
        rubric: rubric_lines(rubric),
        model_answer: model_answer.to_owned(),
    })
}

/// An admin sets up a skills station: its rubric is a case question of the
/// track's exam banks (by its id in the bank).
pub async fn create_station(
    ctx: &Ctx,
    caller: &Caller,
    track: &str,
    title: &str,
    question_key: &str,
    pass_percent: i64,
) -> Result<StationView> {
    require(ctx, caller, Permission::ManageExams).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    if title.trim().is_empty() {
        return Err(Error::invalid("title", "must not be empty"));
    }
    let pass_percent = i32::try_from(pass_percent)
        .ok()
        .filter(|p| (1..=100).contains(p))
        .ok_or_else(|| Error::invalid("pass_percent", "must be 1 to 100"))?;
    let (track, title, key) = (
        track.to_owned(),
        title.trim().to_owned(),
        question_key.to_owned(),
    );
    let event = audit::event(
        caller,
        "station.create",
        Some(format!("{track}/{key}")),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let mut version = None;
            for v in store_banks::drawable(conn, &track)?
                .into_iter()
                .filter(|v| v.kind == "case")
            {
                if store_banks::question_key(conn, v.question_id)?.as_deref() == Some(key.as_str())
                {
                    version = Some(v.id);
                    break;
                }
            }
            let version = version.ok_or_else(|| {
                Error::invalid(
                    "question",
                    "not a case question with a rubric in this track's exam banks",
                )
            })?;
            let station = store_grading::NewStation {
                track: &track,
                title: &title,
                version_id: version,
                pass_percent,
                created_by: me,
            };
            let row = store_grading::insert_station(conn, &station, store::now())?;
            audit::record(conn, &event)?;
            station_view(conn, &row)
        })
        .await
}

/// A doctor's result at a practical station.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PracticalView {
    /// The station's id.
    pub station_id: i64,
    /// The station's title.
    pub station: String,
    /// The doctor's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// Points earned.
    pub total: f64,
    /// Points possible.
    pub points: i32,
    /// Whether the total reaches the station's pass percent.
    pub passed: bool,
    /// The marks, one per rubric criterion.
    pub marks: Vec<CriterionMark>,
    /// When it was recorded (RFC 3339 UTC).
    pub observed_at: DateTime<Utc>,
}

fn practical_view(r: &store_grading::PracticalRow, station: &str) -> Result<PracticalView> {
    Ok(PracticalView {
        station_id: r.station_id,
        station: station.to_owned(),
        person_id: r.person_id,
        total: r.total,
        points: r.points,
        passed: r.passed,
        marks: serde_json::from_str(&r.marks)
            .map_err(|e| Error::internal_from(format!("practical {}: stored marks", r.id), e))?,
        observed_at: utc(r.observed_at),
    })
}

/// The examiner who observed a candidate at a station enters the marks
/// against its rubric. Not for a candidate of the examiner's own
/// institution; a result can be corrected only by the examiner who entered
/// it; every entry and change is audited.
/// Who was observed: by id (the API) or by email (the examiner's page).
#[derive(Debug, Clone)]
pub enum CandidateRef {
    Id(PersonId),
    Email(String),
}

pub async fn record_practical(
    ctx: &Ctx,
    caller: &Caller,
    station_id: i64,
    candidate: CandidateRef,
    marks: Vec<CriterionMark>,
) -> Result<PracticalView> {
    require(ctx, caller, Permission::Mark).await?;
    let examiner = caller.actor().cloned().ok_or(Error::Forbidden)?;
    let mut event = audit::event(caller, "practical.record", None, Outcome::Ok);
    let (view, person_id) = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let person_id = match &candidate {
                CandidateRef::Id(id) => *id,
                CandidateRef::Email(email) => {
                    people::find_by_email(conn, &email.trim().to_lowercase())?
                        .map(|p| p.id)
                        .ok_or_else(|| Error::invalid("person_id", "no candidate has this email"))?
                }
            };
            event.target = Some(format!("station:{station_id} person:{person_id}"));
            let station = store_grading::find_station(conn, station_id)?.ok_or(Error::NotFound)?;
            let candidate = people::find(conn, person_id)?
                .filter(|p| p.active)
                .ok_or_else(|| Error::invalid("person_id", "not an active candidate"))?;
            if !people::roles_of(conn, person_id)?.contains(&crate::domain::roles::Role::Doctor) {
                return Err(Error::invalid("person_id", "not a doctor"));
            }
            if !grading::may_mark(examiner.institution_id, candidate.institution_id) {
                return Err(Error::conflict(
                    "person_id",
                    "an examiner does not assess a candidate from their own institution",
                ));
            }
            if let Some(existing) = store_grading::find_practical(conn, station_id, person_id)?
                && existing.examiner_id != examiner.id
            {
                return Err(Error::conflict(
                    "person_id",
                    "another examiner has recorded this candidate's result",
                ));
            }
            let content = content_of(conn, station.version_id)?;
            let (_, rubric) = rubric_of(&content)?;
            let total = check_marks(rubric, &marks)?;
            let points: u32 = rubric.iter().map(|c| c.points).sum();
            let passed = grading::result(
                &[ItemScore {
                    topic: String::new(),
                    points,
                    score: Some(total),
                }],
                non_negative_u32(station.pass_percent),
            )
            .is_some_and(|r| r.passed);
            let json = serde_json::to_string(&marks)
                .map_err(|e| Error::internal_from("marks to JSON", e))?;
            store_grading::save_practical(
                conn,
                &store_grading::NewPractical {
                    station_id,
                    person_id,
                    examiner_id: examiner.id,
                    marks: &json,
                    total,
                    points: i32::try_from(points)
                        .map_err(|e| Error::internal_from("the station's points", e))?,
                    passed,
                    observed_at: now,
                },
                now,
            )?;
            event.detail = Some(format!("total {total}/{points}, passed {passed}: {json}"));
            audit::record(conn, &event)?;
            // A practical result is evidence for the doctor's case.
            store::pipeline::note_due(conn, person_id, "practical_recorded", now)?;
            let row = store_grading::find_practical(conn, station_id, person_id)?
                .ok_or(Error::NotFound)?;
            Ok((practical_view(&row, &station.title)?, person_id))
        })
        .await?;
    pipeline::settle(ctx, vec![person_id]).await;
    Ok(view)
}

/// A doctor's practical results: their own, or anyone's for an admin.
pub async fn practicals(
    ctx: &Ctx,
    caller: &Caller,
    person_id: Option<PersonId>,
) -> Result<Vec<PracticalView>> {
    let me = person(ctx, caller).await?.id;
    let person = match person_id {
        Some(id) if id != me => {
            require(ctx, caller, Permission::ManageExams).await?;
            id
        }
        _ => me,
    };
    ctx.db
        .read(move |conn| {
            store_grading::practicals_of(conn, person)?
                .iter()
                .map(|(r, s)| practical_view(r, &s.title))
                .collect()
        })
        .await
}

/// The practical stations (examiners, to record; admins, to manage).
pub async fn stations(ctx: &Ctx, caller: &Caller) -> Result<Vec<StationView>> {
    if !crate::domain::access::permits(&caller.principal, Permission::Mark) {
        require(ctx, caller, Permission::ManageExams).await?;
    }
    ctx.db
        .read(|conn| {
            store_grading::list_stations(conn)?
                .iter()
                .map(|s| station_view(conn, s))
                .collect()
        })
        .await
}

pub async fn station(ctx: &Ctx, caller: &Caller, id: i64) -> Result<StationView> {
    require(ctx, caller, Permission::Mark).await?;
    ctx.db
        .read(move |conn| {
            let s = store_grading::find_station(conn, id)?.ok_or(Error::NotFound)?;
            station_view(conn, &s)
        })
        .await
}
