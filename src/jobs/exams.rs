//! Submits attempts whose time is up. The finish time recorded is the
//! deadline, not when this job ran.

use std::sync::Arc;
use std::time::Duration;

use crate::services::exams::{self, VersionCache};
use crate::store::{self, Db};

pub fn spawn(db: Db, versions: Arc<VersionCache>, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let db = db.clone();
            let versions = versions.clone();
            match store::blocking(move || exams::submit_overdue(&db, &versions)).await {
                Ok(n) if n > 0 => tracing::info!(submitted = n, "overdue attempts submitted"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "auto-submit round failed"),
            }
        }
    });
}
