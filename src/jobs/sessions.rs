//! Removes sessions past their absolute expiry, so the table does not grow
//! without bound. (Expired sessions are refused at once either way.)

use std::time::Duration;

use crate::store::{self, Db, sessions};

pub fn spawn(db: Db, every: Duration) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(every);
        loop {
            tick.tick().await;
            let db = db.clone();
            let swept = store::blocking(move || {
                db.write_blocking(|conn| Ok(sessions::delete_expired(conn, store::now())?))
            })
            .await;
            match swept {
                Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "session sweep failed"),
            }
        }
    });
}
