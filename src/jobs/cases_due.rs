//! Evidence noted and not yet taken: a request notes a `cases_due` row in
//! its transaction and takes it right after its commit
//! (`services::pipeline::settle`); this job takes what a crash or a failure
//! between the two left behind, so no result or completed course is ever
//! lost to a doctor's case.

use std::time::Duration;

use super::{Jobs, Lease};
use crate::services::pipeline;
use crate::store;

/// People whose evidence one round takes at most.
const BATCH: i64 = 500;

/// One round under the job's lease (`None`: another instance is running
/// one); how many people's evidence was taken.
pub fn round(lease: &Lease, public_url: &str) -> crate::error::Result<Option<usize>> {
    lease.run("cases_due", |db| {
        pipeline::take_all_due(db, public_url, BATCH)
    })
}

pub fn spawn(jobs: &mut Jobs, lease: Lease, public_url: String, every: Duration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let lease = lease.clone();
        let url = public_url.clone();
        async move {
            match store::blocking(move || round(&lease, &url)).await {
                Ok(None | Some(0)) => {}
                Ok(Some(taken)) => tracing::info!(taken, "cases due taken"),
                Err(e) => tracing::error!(error = e.traced(), "cases due failed"),
            }
        }
    });
}
