//! Group commit: many small writes share one transaction.
//!
//! On exam day thousands of candidates save answers every second. One save
//! writes two rows, but a transaction of its own costs a commit: on SQLite
//! the WAL frames of every page it touched, on PostgreSQL a WAL flush and
//! the round trips of BEGIN and COMMIT. A lane of the group writer takes the
//! writes that queued up while its previous batch committed, runs each in its
//! own savepoint inside one transaction (so a write that fails undoes only
//! itself), commits once, and only then answers each caller. An acknowledged
//! write is therefore committed, exactly as with [`super::Db::write`].
//!
//! Writes are routed to a lane by a key (the attempt, for exam answers), so
//! writes that touch the same rows are serialised on one connection and two
//! lanes never wait on each other's row locks in opposite orders. SQLite has
//! one writer, so it gets one lane; PostgreSQL gets a few.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::Connection;
use tokio::sync::oneshot;

use super::{DbConn, Pool};
use crate::error::{Error, Result};

/// The most writes one transaction takes; a bound on how long the last
/// caller of a batch waits for the first.
const MAX_BATCH: usize = 256;

/// One queued write: run inside the batch's transaction, answered after it.
trait Job: Send {
    fn run(&mut self, conn: &mut DbConn);
    fn answer(self: Box<Self>, committed: std::result::Result<(), &Error>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
    /// The caller's span, so that the write logs under its request id.
    span: tracing::Span,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConn) -> Result<T> + Send,
{
    fn run(&mut self, conn: &mut DbConn) {
        if let Some(work) = self.work.take() {
            let _entered = self.span.enter();
            // Nested in the batch's transaction, this is a savepoint.
            self.outcome = Some(conn.transaction(work));
        }
    }

    fn answer(self: Box<Self>, committed: std::result::Result<(), &Error>) {
        let outcome = match (committed, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(Error::internal("the write did not run")),
            (Err(e), _) => Err(Error::internal(format!("the batch did not commit: {e}"))),
        };
        // The caller may have gone (a dropped request): nothing to tell.
        let _ = self.reply.send(outcome);
    }
}

/// The lanes of the group writer. Cloning shares them; the lane threads end
/// when the last clone is dropped.
#[derive(Clone)]
pub struct GroupWriter {
    lanes: std::sync::Arc<[mpsc::Sender<Box<dyn Job>>]>,
}

impl GroupWriter {
    /// Starts `lanes` writer threads (at least one) on `pool`.
    pub fn start(pool: &Pool, lanes: usize) -> Result<GroupWriter> {
        let mut senders = Vec::with_capacity(lanes.max(1));
        for lane in 0..lanes.max(1) {
            let (sender, receiver) = mpsc::channel::<Box<dyn Job>>();
            let pool = pool.clone();
            std::thread::Builder::new()
                .name(format!("group-writer-{lane}"))
                .spawn(move || serve(&pool, &receiver))
                .map_err(|e| Error::internal(format!("cannot start a group writer: {e}")))?;
            senders.push(sender);
        }
        Ok(GroupWriter {
            lanes: senders.into(),
        })
    }

    /// Runs `f` in a savepoint of the next batch of lane `key % lanes`, and
    /// returns its result once the batch has committed.
    pub async fn write<T, F>(&self, key: i64, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Pending {
            work: Some(f),
            outcome: None,
            reply,
            span: tracing::Span::current(),
        });
        let lane = key.unsigned_abs() as usize % self.lanes.len();
        self.lanes[lane]
            .send(job)
            .map_err(|_| Error::internal("the group writer has stopped"))?;
        answer
            .await
            .map_err(|_| Error::internal("the group writer dropped the write"))?
    }
}

/// A lane: waits for a write, takes whatever else has queued meanwhile, and
/// commits them together.
fn serve(pool: &Pool, jobs: &mpsc::Receiver<Box<dyn Job>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A panicking write must not take the lane down with it: its batch
        // is answered with an error (the reply senders are dropped) and the
        // lane goes on with the next one.
        let committed = catch_unwind(AssertUnwindSafe(|| commit(pool, &mut batch)))
            .unwrap_or_else(|_| Err(Error::internal("a write panicked")));
        for job in batch {
            job.answer(committed.as_ref().map(|_| ()));
        }
    }
}

fn commit(pool: &Pool, batch: &mut [Box<dyn Job>]) -> Result<()> {
    let mut conn = pool.get()?;
    conn.transaction(|conn| {
        for job in batch.iter_mut() {
            job.run(conn);
        }
        Ok(())
    })
}

// Tested on both databases in tests/api/group_commit.rs.
