//! Removes sessions past their absolute expiry, so the table does not grow
//! without bound (expired sessions are refused at once either way), and
//! throttle buckets that have drained (each attempt prunes them too; this
//! catches the last ones when attempts stop, so no address or email is kept
//! longer than its bucket counts). Single deletes: two instances running
//! them at once delete each row once.

use std::time::Duration;

use crate::store::{self, Db, sessions, throttle};

pub fn spawn(jobs: &mut super::Jobs, db: Db, every: Duration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let db = db.clone();
        async move {
            let swept = store::blocking(move || {
                db.write_blocking(|conn| {
                    let now = store::now();
                    let buckets = throttle::prune(conn, now.and_utc().timestamp_millis())?;
                    Ok(sessions::delete_expired(conn, now)? + buckets)
                })
            })
            .await;
            match swept {
                Ok(n) if n > 0 => {
                    tracing::info!(
                        removed = n,
                        "expired sessions and drained throttle buckets removed"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = e.traced(), "session sweep failed"),
            }
        }
    });
}
