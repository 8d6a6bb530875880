//! Submits attempts whose time is up. The finish time recorded is the
//! deadline, not when this job ran.

use std::sync::Arc;
use std::time::Duration;

use super::{Jobs, Lease};
use crate::services::exams;
use crate::store;
use crate::store::versions::VersionCache;

/// One round under the job's lease (`None`: another instance is running one).
pub fn round(lease: &Lease, versions: &VersionCache) -> crate::error::Result<Option<usize>> {
    lease.run("auto_submit", |db| exams::submit_overdue(db, versions))
}

pub fn spawn(jobs: &mut Jobs, lease: Lease, versions: Arc<VersionCache>, every: Duration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let lease = lease.clone();
        let versions = versions.clone();
        async move {
            match store::blocking(move || round(&lease, &versions)).await {
                Ok(Some(n)) if n > 0 => tracing::info!(submitted = n, "overdue attempts submitted"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = e.traced(), "auto-submit round failed"),
            }
        }
    });
}
