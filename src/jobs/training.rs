//! Emails workshop reminders the day before each session (see
//! `domain::training::reminder_due`). Each session is marked as reminded in
//! the same transaction, so two instances never send twice.

use std::time::Duration;

use crate::services::training;
use crate::store::{self, Db};

pub fn spawn(db: Db, tz: chrono_tz::Tz, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let db = db.clone();
            match store::blocking(move || training::send_reminders(&db, tz)).await {
                Ok(n) if n > 0 => tracing::info!(emails = n, "workshop reminders queued"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "workshop reminders failed"),
            }
        }
    });
}
