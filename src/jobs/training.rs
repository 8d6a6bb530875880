//! Emails workshop reminders the day before each session (see
//! `domain::training::reminder_due`). Each session is marked as reminded in
//! the same transaction, so two instances never send twice.

use std::time::Duration;

use super::{Jobs, Lease};
use crate::services::training;
use crate::store;

/// One round under the job's lease (`None`: another instance is running one).
pub fn round(lease: &Lease, tz: chrono_tz::Tz) -> crate::error::Result<Option<usize>> {
    lease.run("workshop_reminders", |db| training::send_reminders(db, tz))
}

pub fn spawn(jobs: &mut Jobs, lease: Lease, tz: chrono_tz::Tz, every: Duration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let lease = lease.clone();
        async move {
            match store::blocking(move || round(&lease, tz)).await {
                Ok(Some(n)) if n > 0 => tracing::info!(emails = n, "workshop reminders queued"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = e.traced(), "workshop reminders failed"),
            }
        }
    });
}
