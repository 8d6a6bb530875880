//! Forgets idempotency keys and their answers once they are 24 hours old,
//! so the table does not grow without bound. (An expired key is ignored at
//! once either way.)

use std::time::Duration;

use crate::services::idempotency;
use crate::store::{self, Db};

pub fn spawn(db: Db, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let db = db.clone();
            let swept = store::blocking(move || db.write_blocking(idempotency::purge)).await;
            match swept {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired idempotency keys removed"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "idempotency key sweep failed"),
            }
        }
    });
}
