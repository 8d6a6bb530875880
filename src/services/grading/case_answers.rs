//! Case answers as marked, with each marker's marks: the committee's dossier
//! and the candidate's result show them.

use super::*;

/// An examiner's marks of one case answer (examiners stay unnamed).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MarkerMarks {
    /// 1 first, 2 second, 3 third marker, 4 appeal re-mark.
    pub role: i32,
    /// Their total; null if not submitted.
    pub total: Option<f64>,
    /// Their comments, one per criterion that has one.
    pub comments: Vec<String>,
    /// The marks per rubric criterion, named, with the examiner's comment.
    pub criteria: Vec<CriterionMarks>,
}

/// One rubric criterion as one examiner marked it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CriterionMarks {
    /// What was looked for.
    pub criterion: String,
    /// Points given.
    pub points: f64,
    /// The most the criterion gives.
    pub out_of: u32,
    /// The examiner's comment; may be empty.
    pub comment: String,
}

/// A case answer as the examiners marked it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseAnswer {
    /// The question's position on the paper.
    pub position: i32,
    /// The question.
    pub stem: String,
    /// The mark that counts, in points; null until settled.
    pub final_mark: Option<f64>,
    /// Points the question is worth.
    pub points: i32,
    /// Each marking, in order of role.
    pub markers: Vec<MarkerMarks>,
}

/// One examiner's marks of a case answer, each criterion named from the
/// rubric of the question version the candidate answered.
fn marker_marks(
    role: i32,
    total: Option<f64>,
    marks: Option<&str>,
    rubric: &[crate::domain::banks::Criterion],
) -> MarkerMarks {
    let marks: Vec<CriterionMark> = marks
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let criteria: Vec<CriterionMarks> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| CriterionMarks {
            criterion: rubric
                .get(i)
                .map_or_else(|| format!("{}", i + 1), |c| c.criterion.clone()),
            points: m.points,
            out_of: rubric.get(i).map_or(0, |c| c.points),
            comment: m.comment.trim().to_owned(),
        })
        .collect();
    MarkerMarks {
        role,
        total,
        comments: criteria
            .iter()
            .filter(|c| !c.comment.is_empty())
            .map(|c| c.comment.clone())
            .collect(),
        criteria,
    }
}

/// Every case answer of an attempt that examiners marked, with each
/// submitted marking per named rubric criterion (examiners unnamed).
pub fn case_answers(conn: &mut DbConn, attempt_id: i64) -> Result<Vec<CaseAnswer>> {
    let mut out = Vec::new();
    for item in store_exams::items_of(conn, attempt_id)?
        .into_iter()
        .filter(|i| !i.excluded)
    {
        let tasks = store_grading::tasks_of_item(conn, item.id)?;
        if tasks.is_empty() {
            continue;
        }
        let content = store_banks::version_by_id(conn, item.version_id)?
            .and_then(|v| serde_json::from_str::<Content>(&v.content).ok());
        let rubric = match content.as_ref().map(|c| &c.body) {
            Some(Body::Case { rubric, .. }) => rubric.clone(),
            _ => Vec::new(),
        };
        let stem = content.map(|c| c.stem).unwrap_or_default();
        let markers = tasks
            .iter()
            .filter(|t| t.submitted_at.is_some())
            .map(|t| marker_marks(t.role, t.total, t.marks.as_deref(), &rubric))
            .collect();
        out.push(CaseAnswer {
            position: item.position,
            stem,
            final_mark: item.score,
            points: item.points,
            markers,
        });
    }
    Ok(out)
}
