//! Gives out marking as answers arrive (first and second markers, a third on
//! disagreement) and reminds examiners whose marking is late. Allocation is
//! idempotent and guarded by unique indexes, so two instances never give the
//! same marking twice.

use std::time::Duration;

use super::{Jobs, Lease};
use crate::services::grading;
use crate::store;

/// One round under the job's lease: allocate, then remind (`None`: another
/// instance is running one).
pub fn round(lease: &Lease) -> crate::error::Result<Option<(usize, usize)>> {
    lease.run("marking", |db| {
        let allocated = grading::allocate(db)?;
        let reminded = grading::remind_late(db)?;
        Ok((allocated, reminded))
    })
}

pub fn spawn(jobs: &mut Jobs, lease: Lease, every: Duration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let lease = lease.clone();
        async move {
            let done = store::blocking(move || round(&lease)).await;
            match done {
                Ok(Some((a, r))) if a > 0 || r > 0 => {
                    tracing::info!(allocated = a, reminded = r, "marking allocated")
                }
                Ok(_) => {}
                // A unique index refusing a second instance's duplicate, or a
                // database hiccup: the next round tries again.
                Err(e) => tracing::warn!(error = e.traced(), "marking allocation round failed"),
            }
        }
    });
}
