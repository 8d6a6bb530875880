//! Forgets idempotency keys and their answers once they are 24 hours old,
//! so the table does not grow without bound. (An expired key is ignored at
//! once either way.)

use std::time::Duration;

use crate::services::idempotency;
use crate::store::{self, Db};

pub fn spawn(jobs: &mut super::Jobs, db: Db, every: Duration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let db = db.clone();
        async move {
            let swept = store::blocking(move || db.write_blocking(idempotency::purge)).await;
            match swept {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired idempotency keys removed"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = e.traced(), "idempotency key sweep failed"),
            }
        }
    });
}
