//! Who marks what: a first and second examiner for every open answer of a
//! submitted attempt, a third where their totals disagree (run by
//! `jobs::grading` and after each marking), and reminders of late marking.

use super::*;
use crate::domain::ids::PersonId;
use crate::domain::numbers::non_negative_u32;

/// Gives out the marking that open answers need: a first and second marker
/// for each new answer, a third where the two disagree. Returns how many
/// tasks it created. Idempotent; an answer nobody eligible can mark waits.
pub fn allocate(db: &Db) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let pending = store_grading::pending_items(conn)?;
        if pending.is_empty() {
            return Ok(0);
        }
        let (examiners, mut load) = examiner_pool(conn)?;
        let mut created = 0;
        for p in pending {
            let tasks = store_grading::tasks_of_item(conn, p.item.id)?;
            let needed: Vec<MarkerRole> = if tasks.is_empty() {
                vec![MarkerRole::First, MarkerRole::Second]
            } else if tasks.len() == 2 && tasks.iter().all(|t| t.submitted_at.is_some()) {
                let totals: Vec<f64> = tasks.iter().filter_map(|t| t.total).collect();
                match grading::marking(
                    &totals,
                    non_negative_u32(p.item.points),
                    non_negative_u32(p.marking_tolerance),
                ) {
                    Marking::NeedsThird => vec![MarkerRole::Third],
                    _ => Vec::new(),
                }
            } else {
                Vec::new()
            };
            if needed.is_empty() {
                continue;
            }
            let mut already: Vec<PersonId> = tasks.iter().map(|t| t.examiner_id).collect();
            let mut chosen = Vec::new();
            for role in &needed {
                match grading::pick_examiner(
                    &examiners,
                    p.candidate_institution,
                    &already,
                    &mut load,
                ) {
                    Some(id) => {
                        already.push(id);
                        chosen.push((*role, id));
                    }
                    None => break,
                }
            }
            if chosen.len() < needed.len() {
                tracing::warn!(
                    item = p.item.id,
                    "not enough eligible examiners to mark an answer"
                );
                continue;
            }
            if p.attempt.code.is_none() {
                store_grading::set_attempt_code(
                    conn,
                    p.attempt.id,
                    &crate::domain::codes::blind_code(),
                )?;
            }
            for (role, examiner_id) in chosen {
                store_grading::insert_task(
                    conn,
                    &NewTask {
                        exam_id: p.attempt.exam_id,
                        item_id: p.item.id,
                        examiner_id,
                        role: role.number(),
                        due_at: now + Duration::days(i64::from(p.marking_days.max(1))),
                    },
                    now,
                )?;
                created += 1;
            }
        }
        Ok(created)
    })
}

/// Emails examiners whose tasks are past due, once per task. Returns how many
/// emails it queued.
/// The examiners who may be given a task, and how many open tasks each
/// holds now: what `domain::grading`'s allocation rules choose from.
pub(super) fn examiner_pool(
    conn: &mut crate::store::DbConn,
) -> Result<(Vec<Examiner>, HashMap<PersonId, u32>)> {
    let examiners = store_grading::examiners(conn)?
        .into_iter()
        .map(|(id, institution_id)| Examiner { id, institution_id })
        .collect();
    let load = store_grading::open_load(conn)?
        .into_iter()
        // A load beyond u32 saturates (and a negative one is none).
        .map(|(id, n)| (id, u32::try_from(n.max(0)).unwrap_or(u32::MAX)))
        .collect();
    Ok((examiners, load))
}

pub fn remind_late(db: &Db) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let late = store_grading::late_unreminded(conn, now)?;
        let mut by_examiner: HashMap<PersonId, Vec<TaskRow>> = HashMap::new();
        for t in late {
            by_examiner.entry(t.examiner_id).or_default().push(t);
        }
        let mut sent = 0;
        for (examiner, tasks) in by_examiner {
            let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
            if store_grading::mark_reminded(conn, &ids, now)? == 0 {
                continue;
            }
            let Some(person) = people::find(conn, examiner)? else {
                continue;
            };
            mail::enqueue_to(
                conn,
                &person,
                &Message::MarkingLate {
                    name: person.name.clone(),
                    count: tasks.len(),
                },
                now,
            )?;
            sent += 1;
        }
        Ok(sent)
    })
}
