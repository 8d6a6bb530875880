//! Background work that runs inside every server instance. Each periodic
//! job's round runs under the job's lease (`store::leases`), so when
//! several instances share one database a round runs on one of them at a
//! time; and every round is idempotent (the work it does is marked done in
//! the same transaction, or claimed with row locks), so the next round, on
//! whichever instance, finds nothing left to do twice. On SQLite (a file
//! for one instance) rounds run as they are, with no lease: no extra write
//! on the single writer every few seconds.

pub mod cases_due;
pub mod certification;
pub mod exams;
pub mod grading;
pub mod idempotency;
pub mod mail;
pub mod sessions;
pub mod training;

use std::future::Future;
use std::sync::Arc;

use actix_web::rt::task::JoinHandle;
use actix_web::rt::time::Interval;
use tokio::sync::watch;

use crate::error::Result;
use crate::store::{self, Backend, Db, leases};

/// How long a lease is held at most: a round that has not given it back by
/// then (its instance died) no longer keeps the others out.
const LEASE: chrono::Duration = chrono::Duration::minutes(10);

/// The periodic jobs of one instance: started by `Application::build`,
/// stopped after the HTTP server at shutdown. A stop lets a round that is
/// running finish (its work commits or rolls back as a whole) and starts no
/// new one; [`Jobs::stop`] returns once every job has ended.
pub struct Jobs {
    stop: watch::Sender<bool>,
    running: Vec<JoinHandle<()>>,
}

impl Default for Jobs {
    fn default() -> Jobs {
        Jobs {
            stop: watch::channel(false).0,
            running: Vec::new(),
        }
    }
}

impl Jobs {
    /// Runs `round` on every tick of `tick` until the jobs are stopped.
    pub fn every<F, R>(&mut self, mut tick: Interval, mut round: F)
    where
        F: FnMut() -> R + 'static,
        R: Future<Output = ()> + 'static,
    {
        let mut stop = self.stop.subscribe();
        self.running.push(actix_web::rt::spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    // A stop, or the `Jobs` dropped without one.
                    _ = stop.changed() => break,
                    _ = tick.tick() => round().await,
                }
            }
        }));
    }

    /// Stops every job and waits until each has ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for job in self.running {
            if let Err(e) = job.await {
                tracing::error!(error = %e, "a background job ended abnormally");
            }
        }
    }
}

/// One instance's right to run a job's round.
#[derive(Clone)]
pub struct Lease {
    db: Db,
    /// This instance, as the lease rows name it.
    holder: Arc<str>,
}

impl Lease {
    pub fn new(db: Db, holder: &str) -> Lease {
        Lease {
            db,
            holder: Arc::from(holder),
        }
    }

    /// Runs one round of `job` if no other instance is running one:
    /// `Ok(None)` when another holds the lease. The lease is given back when
    /// the round ends, whatever its outcome.
    pub fn run<T>(&self, job: &str, round: impl FnOnce(&Db) -> Result<T>) -> Result<Option<T>> {
        if self.db.backend() == Backend::Sqlite {
            return round(&self.db).map(Some);
        }
        let now = store::now();
        let taken = self
            .db
            .write_blocking(|conn| Ok(leases::take(conn, job, &self.holder, now, now + LEASE)?))?;
        if !taken {
            return Ok(None);
        }
        let done = round(&self.db);
        let released = self
            .db
            .write_blocking(|conn| Ok(leases::release(conn, job, &self.holder, store::now())?));
        let done = done?;
        released?;
        Ok(Some(done))
    }
}
