//! The certification sweep: moves open cases on for what time alone settles
//! (an appeal period ending after a failed attempt), ends suspensions whose
//! period is over, expires credentials past their date, and emails holders
//! 90 and 30 days before expiry. Each step locks the rows it changes, so two
//! instances never do the same work twice.

use std::time::Duration;

use super::{Jobs, Lease};
use crate::services::{credentials, pipeline};
use crate::store::{self, Db};

/// One pass of every step; returns (cases moved, suspensions ended,
/// credentials expired, reminders queued).
pub fn sweep(db: &Db, public_url: &str) -> crate::error::Result<(usize, usize, usize, usize)> {
    let moved = pipeline::advance_all(db, public_url)?;
    let reinstated = credentials::end_suspensions(db, public_url)?;
    let expired = credentials::expire_due(db, public_url)?;
    let reminded = credentials::remind_expiring(db, public_url)?;
    Ok((moved, reinstated, expired, reminded))
}

/// One sweep under the job's lease (`None`: another instance is sweeping).
pub fn round(
    lease: &Lease,
    public_url: &str,
) -> crate::error::Result<Option<(usize, usize, usize, usize)>> {
    lease.run("certification_sweep", |db| sweep(db, public_url))
}

pub fn spawn(jobs: &mut Jobs, lease: Lease, public_url: String, every: Duration) {
    // The first sweep runs one period after start, not during it: a
    // restart does not add its work to the start-up's.
    let start = actix_web::rt::time::Instant::now() + every;
    jobs.every(actix_web::rt::time::interval_at(start, every), move || {
        let lease = lease.clone();
        let url = public_url.clone();
        async move {
            match store::blocking(move || round(&lease, &url)).await {
                Ok(None | Some((0, 0, 0, 0))) => {}
                Ok(Some((moved, reinstated, expired, reminded))) => {
                    tracing::info!(moved, reinstated, expired, reminded, "certification sweep")
                }
                Err(e) => tracing::error!(error = e.traced(), "certification sweep failed"),
            }
        }
    });
}
