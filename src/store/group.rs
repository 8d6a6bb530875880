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
//! The audit events the writes of a batch record are chained together just
//! before the batch commits (`audit::seal`: one lock of the chain's head for
//! the whole batch); those of a write that failed went with its savepoint.
//!
//! Deferring writes go further: each only checks its request in its
//! savepoint and hands on an item of work ([`Deferred::Item`]), and the items
//! of the batch are then done together by [`Deferred::flush`] (for the exam
//! day, `store::exams::AnswerBatch` stores a batch's answers in one upsert).
//!
//! Set-wise writes go furthest: a batch of them is one call of
//! [`SetWise::run`], which reads and writes for all its requests together,
//! with no savepoint per request (for the exam's opening,
//! `store::starts::StartBatch` starts a batch of attempts in a few
//! statements, where one at a time took four each). Such a batch succeeds or
//! fails as a whole; a request it may not do is refused in its reply.
//!
//! A batch holds writes of one kind: other writes, deferring ones or
//! set-wise ones. When several kinds are waiting, batches take turns, so
//! that each kind waits at most one batch of each other kind (see
//! `store::exams::AnswerBatch` for why this suits answer saves).
//!
//! Writes are routed to a lane by a key (for instance an exam attempt), so
//! writes that touch the same rows are serialised on one connection and two
//! lanes never wait on each other's row locks in opposite orders. SQLite has
//! one writer, so it gets one lane; PostgreSQL gets a few.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, mpsc};

use diesel::Connection;
use tokio::sync::oneshot;

use super::{DbConn, Pool};
use crate::error::{Error, Result};

/// The most writes one transaction takes; a bound on how long the last
/// caller of a batch waits for the first.
const MAX_BATCH: usize = 256;

/// Work that the deferring writes of a batch hand on, to be done for the
/// whole batch at once just before it commits.
pub trait Deferred: Send + 'static {
    /// What one write hands on.
    type Item: Send + 'static;
    /// What became of one item, told to its write once the batch committed.
    type Done: Clone + Send + 'static;
    /// What the items are, for the error a write gets when `flush` fails.
    const WHAT: &'static str;
    /// Does the batch's items together; one outcome per item, in order.
    fn flush(conn: &mut DbConn, items: &[Self::Item]) -> Result<Vec<Self::Done>>;
}

/// Writes done a whole batch at a time: one call of `run` reads and writes
/// for every request of the batch, in the batch's transaction.
pub trait SetWise: Send + 'static {
    /// What one caller asks.
    type Request: Send + 'static;
    /// What it gets once the batch committed.
    type Reply: Send + 'static;
    /// What the requests are, for the error each gets when `run` fails.
    const WHAT: &'static str;
    /// Does the batch's requests; one reply per request, in order.
    fn run(conn: &mut DbConn, requests: Vec<Self::Request>) -> Result<Vec<Self::Reply>>;
}

/// A queued set-wise request.
struct SetJob<S: SetWise> {
    request: S::Request,
    reply: oneshot::Sender<Result<S::Reply>>,
}

/// One queued write: run inside the batch's transaction, answered after it.
trait Job<D: Deferred>: Send {
    /// Whether the write hands on an item, which waits behind other writes.
    fn defers(&self) -> bool;
    fn run(&mut self, conn: &mut DbConn, savepoint: &mut Savepoint, staged: &mut Staged<D>);
    fn answer(self: Box<Self>, committed: std::result::Result<(), &Arc<Error>>, staged: &Staged<D>);
}

/// The items the writes of a batch hand on, and what became of those
/// already done.
struct Staged<D: Deferred> {
    waiting: Vec<D::Item>,
    /// A failed flush fails every write that handed on an item, so its
    /// error is shared (`Arc`) and kept as each one's source.
    outcomes: Vec<std::result::Result<D::Done, Arc<Error>>>,
}

impl<D: Deferred> Default for Staged<D> {
    fn default() -> Self {
        Staged {
            waiting: Vec::new(),
            outcomes: Vec::new(),
        }
    }
}

impl<D: Deferred> Staged<D> {
    /// Queues an item; the index names its outcome.
    fn stage(&mut self, item: D::Item) -> usize {
        self.waiting.push(item);
        self.outcomes.len() + self.waiting.len() - 1
    }

    /// Does the waiting items in a savepoint of their own: if that fails,
    /// only the writes that handed them on fail.
    fn flush(&mut self, conn: &mut DbConn) {
        if self.waiting.is_empty() {
            return;
        }
        let waiting = std::mem::take(&mut self.waiting);
        match conn.transaction(|conn| D::flush(conn, &waiting)) {
            Ok(done) => self.outcomes.extend(done.into_iter().map(Ok)),
            Err(e) => {
                let e = Arc::new(e);
                self.outcomes
                    .extend(waiting.iter().map(|_| Err(Arc::clone(&e))));
            }
        }
    }

    fn outcome(&self, index: usize) -> Result<D::Done> {
        match self.outcomes.get(index) {
            Some(Ok(done)) => Ok(done.clone()),
            Some(Err(e)) => Err(Error::internal_from(
                format!("the {} were not stored", D::WHAT),
                Arc::clone(e),
            )),
            None => Err(Error::internal(format!("the {} were not stored", D::WHAT))),
        }
    }
}

/// A write's result once its batch has committed.
fn settle<T>(
    committed: std::result::Result<(), &Arc<Error>>,
    outcome: Option<Result<T>>,
) -> Result<T> {
    match (committed, outcome) {
        (Ok(()), Some(outcome)) => outcome,
        (Ok(()), None) => Err(Error::internal("the write did not run")),
        (Err(e), _) => Err(Error::internal_from(
            "the batch did not commit",
            Arc::clone(e),
        )),
    }
}

/// Any write.
struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
    /// The caller's span, so that the write logs under its request id.
    span: tracing::Span,
}

impl<D, T, F> Job<D> for Pending<T, F>
where
    D: Deferred,
    T: Send,
    F: FnOnce(&mut DbConn) -> Result<T> + Send,
{
    fn defers(&self) -> bool {
        false
    }

    fn run(&mut self, conn: &mut DbConn, savepoint: &mut Savepoint, _: &mut Staged<D>) {
        if let Some(work) = self.work.take() {
            let _entered = self.span.enter();
            self.outcome = Some(savepoint.run(conn, work));
        }
    }

    fn answer(self: Box<Self>, committed: std::result::Result<(), &Arc<Error>>, _: &Staged<D>) {
        // The caller may have gone (a dropped request): nothing to tell.
        let _ = self.reply.send(settle(committed, self.outcome));
    }
}

/// A deferring write: its work checks the request and returns the item to
/// hand on (or none) with its own result.
struct Deferring<D: Deferred, T, F> {
    work: Option<F>,
    outcome: Option<Result<(T, Option<usize>)>>,
    reply: oneshot::Sender<Result<(T, Option<D::Done>)>>,
    span: tracing::Span,
}

impl<D, T, F> Job<D> for Deferring<D, T, F>
where
    D: Deferred,
    T: Send,
    F: FnOnce(&mut DbConn) -> Result<(T, Option<D::Item>)> + Send,
{
    fn defers(&self) -> bool {
        true
    }

    fn run(&mut self, conn: &mut DbConn, savepoint: &mut Savepoint, staged: &mut Staged<D>) {
        if let Some(work) = self.work.take() {
            let _entered = self.span.enter();
            self.outcome = Some(
                savepoint
                    .run(conn, work)
                    .map(|(t, item)| (t, item.map(|i| staged.stage(i)))),
            );
        }
    }

    fn answer(
        self: Box<Self>,
        committed: std::result::Result<(), &Arc<Error>>,
        staged: &Staged<D>,
    ) {
        let outcome = settle(committed, self.outcome).and_then(|(t, index)| match index {
            Some(index) => Ok((t, Some(staged.outcome(index)?))),
            None => Ok((t, None)),
        });
        let _ = self.reply.send(outcome);
    }
}

/// The savepoint each write of a batch runs in, so that a write that fails
/// undoes only itself.
///
/// diesel's nested `transaction` would cost each write two round trips of
/// its own, `SAVEPOINT` before and `RELEASE` after, where a start at the
/// exam's opening is only three other statements. A lane runs its batch's
/// writes one after another, so on PostgreSQL across a network every round
/// trip adds its latency to every write behind it (docs/capacity.md). So
/// one write's savepoint is released and the next one's opened in one round
/// trip (two statements in one simple query), and the last one's is left to
/// the batch's `COMMIT`, which commits it with everything else.
struct Savepoint {
    /// Whether a savepoint is open (a write has run in this batch).
    open: bool,
    /// Whether a savepoint could not be opened or rolled back to: the
    /// transaction may then hold a failed write's changes, or (PostgreSQL)
    /// be aborted, where `COMMIT` answers `ROLLBACK` without an error.
    /// Such a batch must not commit.
    broken: bool,
}

impl Savepoint {
    /// The name of every write's savepoint. Never reused while open: the
    /// previous write's is released in the same round trip that opens it.
    const OPEN: &'static str = "SAVEPOINT gk_write";
    const NEXT: &'static str = "RELEASE SAVEPOINT gk_write; SAVEPOINT gk_write";
    const UNDO: &'static str = "ROLLBACK TO SAVEPOINT gk_write";

    fn new() -> Savepoint {
        Savepoint {
            open: false,
            broken: false,
        }
    }

    /// Runs `work` in a savepoint of its own: if it fails, what it wrote is
    /// undone and the batch goes on.
    fn run<T>(
        &mut self,
        conn: &mut DbConn,
        work: impl FnOnce(&mut DbConn) -> Result<T>,
    ) -> Result<T> {
        use diesel::connection::SimpleConnection;
        if self.broken {
            return Err(Error::internal(
                "an earlier write of the batch could not be undone",
            ));
        }
        let open = if self.open { Self::NEXT } else { Self::OPEN };
        if let Err(e) = conn.batch_execute(open) {
            self.broken = true;
            return Err(e.into());
        }
        self.open = true;
        let done = work(conn);
        if done.is_err()
            && let Err(e) = conn.batch_execute(Self::UNDO)
        {
            self.broken = true;
            tracing::error!(error = %e, "a failed write could not be rolled back to its savepoint");
        }
        done
    }

    /// Fails the batch if a write could not be undone.
    fn check(&self) -> Result<()> {
        if self.broken {
            Err(Error::internal(
                "a failed write of the batch could not be undone",
            ))
        } else {
            Ok(())
        }
    }
}

/// The lanes of the group writer. Cloning shares them; the lane threads end
/// when the last clone is dropped.
pub struct GroupWriter<D: Deferred, S: SetWise> {
    lanes: Arc<Lanes<D, S>>,
}

impl<D: Deferred, S: SetWise> Clone for GroupWriter<D, S> {
    fn clone(&self) -> Self {
        GroupWriter {
            lanes: self.lanes.clone(),
        }
    }
}

/// What goes down a lane's channel.
enum Queue<D: Deferred, S: SetWise> {
    Job(Box<dyn Job<D>>),
    Set(SetJob<S>),
}

/// The lane threads and the channels to them.
struct Lanes<D: Deferred, S: SetWise> {
    senders: Vec<mpsc::Sender<Queue<D, S>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl<D: Deferred, S: SetWise> Drop for Lanes<D, S> {
    /// Closes the channels and waits for the lanes to finish their batch and
    /// let go of their connections. Left running, a lane could still be
    /// closing a PostgreSQL connection while the process exits, and the
    /// client library's clean-up at exit then crashes under it.
    fn drop(&mut self) {
        self.senders.clear();
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl<D: Deferred, S: SetWise> GroupWriter<D, S> {
    /// Starts `lanes` writer threads (at least one) on `pool`.
    pub fn start(pool: &Pool, lanes: usize) -> Result<GroupWriter<D, S>> {
        let mut started = Lanes {
            senders: Vec::with_capacity(lanes.max(1)),
            threads: Vec::with_capacity(lanes.max(1)),
        };
        for lane in 0..lanes.max(1) {
            let (sender, receiver) = mpsc::channel::<Queue<D, S>>();
            let pool = pool.clone();
            let thread = std::thread::Builder::new()
                .name(format!("group-writer-{lane}"))
                .spawn(move || serve(&pool, &receiver))
                .map_err(|e| Error::internal_from("cannot start a group writer", e))?;
            started.senders.push(sender);
            started.threads.push(thread);
        }
        Ok(GroupWriter {
            lanes: Arc::new(started),
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
        let job = Pending {
            work: Some(f),
            outcome: None,
            reply,
            span: tracing::Span::current(),
        };
        self.enqueue(key, Queue::Job(Box::new(job)), answer).await
    }

    /// A deferring write: runs `f` in a savepoint of the next batch, does
    /// the item it hands on with the batch's others ([`Deferred::flush`]),
    /// and returns `f`'s result and what became of the item once the batch
    /// has committed.
    pub async fn write_deferring<T, F>(&self, key: i64, f: F) -> Result<(T, Option<D::Done>)>
    where
        F: FnOnce(&mut DbConn) -> Result<(T, Option<D::Item>)> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Deferring<D, T, F> = Deferring {
            work: Some(f),
            outcome: None,
            reply,
            span: tracing::Span::current(),
        };
        self.enqueue(key, Queue::Job(Box::new(job)), answer).await
    }

    /// A set-wise write: `request` is done with the next batch of set-wise
    /// requests on lane `key % lanes` ([`SetWise::run`]); its reply comes
    /// once the batch has committed.
    pub async fn write_set_wise(&self, key: i64, request: S::Request) -> Result<S::Reply> {
        let (reply, answer) = oneshot::channel();
        self.enqueue(key, Queue::Set(SetJob { request, reply }), answer)
            .await
    }

    /// Queues `job` on lane `key % lanes` and waits for its answer.
    async fn enqueue<R>(
        &self,
        key: i64,
        job: Queue<D, S>,
        answer: oneshot::Receiver<Result<R>>,
    ) -> Result<R> {
        let senders = &self.lanes.senders;
        // Any spread of keys over the lanes will do: a key beyond usize
        // (32-bit targets) saturates.
        let lane = usize::try_from(key.unsigned_abs()).unwrap_or(usize::MAX) % senders.len();
        senders
            .get(lane)
            .ok_or_else(|| Error::internal("the group writer has no lanes"))?
            .send(job)
            .map_err(|_detail| Error::internal("the group writer has stopped"))?;
        answer
            .await
            .map_err(|_detail| Error::internal("the group writer dropped the write"))?
    }
}

/// A lane: waits for a write, takes whatever else has queued meanwhile, and
/// commits the next batch of it (see [`Queued::next_batch`]).
fn serve<D: Deferred, S: SetWise>(pool: &Pool, jobs: &mpsc::Receiver<Queue<D, S>>) {
    let mut queued = Queued::default();
    loop {
        if queued.is_empty() {
            match jobs.recv() {
                Ok(job) => queued.push(job),
                Err(_) => return,
            }
        }
        while let Ok(job) = jobs.try_recv() {
            queued.push(job);
        }
        match queued.next_batch() {
            Batch::Jobs(batch) => serve_jobs(pool, batch),
            Batch::Set(batch) => serve_set(pool, batch),
        }
    }
}

/// Commits a batch of other or deferring writes and answers each.
fn serve_jobs<D: Deferred>(pool: &Pool, mut batch: Vec<Box<dyn Job<D>>>) {
    let mut staged = Staged::<D>::default();
    // A panicking write must not take the lane down with it: its batch
    // is answered with an error (the reply senders are dropped) and the
    // lane goes on with the next one.
    let committed = catch_unwind(AssertUnwindSafe(|| commit(pool, &mut batch, &mut staged)))
        .unwrap_or_else(|_| Err(Error::internal("a write panicked")))
        .map_err(Arc::new);
    for job in batch {
        job.answer(committed.as_ref().map(|_| ()), &staged);
    }
}

/// Commits a batch of set-wise requests and answers each: with its reply,
/// or, if the batch failed, with the batch's error.
fn serve_set<S: SetWise>(pool: &Pool, batch: Vec<SetJob<S>>) {
    let (requests, replies): (Vec<S::Request>, Vec<_>) =
        batch.into_iter().map(|j| (j.request, j.reply)).unzip();
    let expected = requests.len();
    let done = catch_unwind(AssertUnwindSafe(|| commit_set::<S>(pool, requests)))
        .unwrap_or_else(|_| Err(Error::internal("a write panicked")))
        .and_then(|done| {
            if done.len() == expected {
                Ok(done)
            } else {
                Err(Error::internal(format!(
                    "the {} were answered {} times for {expected}",
                    S::WHAT,
                    done.len()
                )))
            }
        });
    match done {
        Ok(done) => {
            for (reply, done) in replies.into_iter().zip(done) {
                // The caller may have gone (a dropped request).
                let _ = reply.send(Ok(done));
            }
        }
        Err(e) => {
            let e = Arc::new(e);
            for reply in replies {
                let _ = reply.send(Err(Error::internal_from(
                    format!("the {} were not done", S::WHAT),
                    Arc::clone(&e),
                )));
            }
        }
    }
}

/// The next batch a lane commits: writes of one kind.
enum Batch<D: Deferred, S: SetWise> {
    Jobs(Vec<Box<dyn Job<D>>>),
    Set(Vec<SetJob<S>>),
}

/// The kinds of write, in the order of their turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    Deferring,
    SetWise,
}

impl Kind {
    const TURNS: [Kind; 3] = [Kind::Other, Kind::Deferring, Kind::SetWise];

    fn after(self) -> Kind {
        match self {
            Kind::Other => Kind::Deferring,
            Kind::Deferring => Kind::SetWise,
            Kind::SetWise => Kind::Other,
        }
    }
}

/// The writes a lane has taken from its channel, each kind apart.
struct Queued<D: Deferred, S: SetWise> {
    writes: VecDeque<Box<dyn Job<D>>>,
    saves: VecDeque<Box<dyn Job<D>>>,
    sets: VecDeque<SetJob<S>>,
    /// The kind whose turn is next when several wait.
    next: Kind,
}

impl<D: Deferred, S: SetWise> Default for Queued<D, S> {
    fn default() -> Self {
        Queued {
            writes: VecDeque::new(),
            saves: VecDeque::new(),
            sets: VecDeque::new(),
            next: Kind::Other,
        }
    }
}

impl<D: Deferred, S: SetWise> Queued<D, S> {
    fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.saves.is_empty() && self.sets.is_empty()
    }

    fn push(&mut self, job: Queue<D, S>) {
        match job {
            Queue::Job(job) if job.defers() => self.saves.push_back(job),
            Queue::Job(job) => self.writes.push_back(job),
            Queue::Set(job) => self.sets.push_back(job),
        }
    }

    fn waiting(&self, kind: Kind) -> bool {
        match kind {
            Kind::Other => !self.writes.is_empty(),
            Kind::Deferring => !self.saves.is_empty(),
            Kind::SetWise => !self.sets.is_empty(),
        }
    }

    /// The next batch: up to [`MAX_BATCH`] writes of one kind, oldest
    /// first. When several kinds wait they take turns, so that at the
    /// opening minute the saves of those already started do not wait for
    /// every start, nor the starts for every save.
    fn next_batch(&mut self) -> Batch<D, S> {
        let mut kind = self.next;
        for _ in Kind::TURNS {
            if self.waiting(kind) {
                break;
            }
            kind = kind.after();
        }
        self.next = kind.after();
        match kind {
            Kind::Other => Batch::Jobs(take(&mut self.writes)),
            Kind::Deferring => Batch::Jobs(take(&mut self.saves)),
            Kind::SetWise => Batch::Set(take(&mut self.sets)),
        }
    }
}

/// Up to [`MAX_BATCH`] of `queue`, oldest first.
fn take<T>(queue: &mut VecDeque<T>) -> Vec<T> {
    let n = queue.len().min(MAX_BATCH);
    queue.drain(..n).collect()
}

fn commit<D: Deferred>(
    pool: &Pool,
    batch: &mut [Box<dyn Job<D>>],
    staged: &mut Staged<D>,
) -> Result<()> {
    let mut conn = pool.get()?;
    super::audit::begin();
    super::write_transaction(&mut conn, |conn| {
        // A batch holds other writes or deferring ones, never both (see
        // `Queued`): the items handed on are done after the batch's checks,
        // so no other write of the batch could miss them.
        let mut savepoint = Savepoint::new();
        for job in batch.iter_mut() {
            job.run(conn, &mut savepoint, staged);
        }
        savepoint.check()?;
        staged.flush(conn);
        // The audit events of the writes that stood are chained together,
        // under one lock of the chain's head for the whole batch.
        super::audit::seal(conn)?;
        Ok(())
    })
}

/// A batch of set-wise requests in one transaction.
fn commit_set<S: SetWise>(pool: &Pool, requests: Vec<S::Request>) -> Result<Vec<S::Reply>> {
    let mut conn = pool.get()?;
    super::audit::begin();
    super::write_transaction(&mut conn, |conn| {
        let done = S::run(conn, requests)?;
        super::audit::seal(conn)?;
        Ok(done)
    })
}

// The writes themselves are tested on both databases in
// tests/api/group_commit.rs and tests/api/exams.rs.
#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    use std::sync::Mutex;

    /// A queued job that only says what it is when it is answered.
    struct Probe {
        save: bool,
        n: usize,
        log: Log,
    }

    /// What was answered, in order: each job's kind and number.
    type Log = Arc<Mutex<Vec<(Kind, usize)>>>;

    /// Work that is never done: the probes only queue.
    struct Nothing;

    impl Deferred for Nothing {
        type Item = ();
        type Done = ();
        const WHAT: &'static str = "nothing";
        fn flush(_: &mut DbConn, items: &[()]) -> Result<Vec<()>> {
            Ok(vec![(); items.len()])
        }
    }

    impl SetWise for Nothing {
        type Request = usize;
        type Reply = ();
        const WHAT: &'static str = "nothing";
        fn run(_: &mut DbConn, requests: Vec<usize>) -> Result<Vec<()>> {
            Ok(vec![(); requests.len()])
        }
    }

    impl Job<Nothing> for Probe {
        fn defers(&self) -> bool {
            self.save
        }
        fn run(&mut self, _: &mut DbConn, _: &mut Savepoint, _: &mut Staged<Nothing>) {}
        fn answer(self: Box<Self>, _: std::result::Result<(), &Arc<Error>>, _: &Staged<Nothing>) {
            let kind = if self.save {
                Kind::Deferring
            } else {
                Kind::Other
            };
            if let Ok(mut log) = self.log.lock() {
                log.push((kind, self.n));
            }
        }
    }

    const W: Kind = Kind::Other;
    const S: Kind = Kind::Deferring;
    const SET: Kind = Kind::SetWise;

    /// The jobs of the next batch, in their order.
    fn next(queued: &mut Queued<Nothing, Nothing>, log: &Log) -> Vec<(Kind, usize)> {
        match queued.next_batch() {
            Batch::Jobs(jobs) => {
                for job in jobs {
                    job.answer(Ok(()), &Staged::default());
                }
            }
            Batch::Set(jobs) => {
                let mut log = log.lock().unwrap();
                log.extend(jobs.into_iter().map(|j| (SET, j.request)));
            }
        }
        std::mem::take(&mut *log.lock().unwrap())
    }

    fn probe(log: &Log, n: usize, save: bool) -> Queue<Nothing, Nothing> {
        Queue::Job(Box::new(Probe {
            save,
            n,
            log: log.clone(),
        }))
    }

    fn set(n: usize) -> Queue<Nothing, Nothing> {
        let (reply, _) = oneshot::channel();
        Queue::Set(SetJob { request: n, reply })
    }

    #[test]
    fn saves_and_other_writes_take_turns_in_bounded_batches() {
        let log: Log = Arc::new(Mutex::new(Vec::new()));
        let mut queued = Queued::default();
        // Every tenth job is a start or a submit; the rest are saves.
        for n in 0..600 {
            queued.push(probe(&log, n, n % 10 != 0));
        }
        // The 60 other writes first, alone, in their order.
        let first = next(&mut queued, &log);
        let writes: Vec<(Kind, usize)> = (0..600).step_by(10).map(|n| (W, n)).collect();
        assert_eq!(first, writes);
        // Then the saves, oldest first, at most MAX_BATCH at a time.
        let second = next(&mut queued, &log);
        assert_eq!(second.len(), MAX_BATCH);
        assert_eq!(second[0], (S, 1));
        assert!(second.iter().all(|(kind, _)| *kind == S));
        assert!(second.windows(2).all(|w| w[0].1 < w[1].1));
        // A write that arrives now has the next turn, before the remaining saves.
        queued.push(probe(&log, 600, false));
        assert_eq!(next(&mut queued, &log), vec![(W, 600)]);
        // The rest follow, all saves, and nothing is lost.
        let mut rest = Vec::new();
        while !queued.is_empty() {
            rest.extend(next(&mut queued, &log));
        }
        assert!(rest.iter().all(|(kind, _)| *kind == S));
        assert_eq!(first.len() + second.len() + rest.len(), 600);

        // The opening: more starts queued than one batch takes, and saves of
        // those already started among them. The saves do not wait for every
        // start: the kinds take turns, each batch of one kind.
        for n in 0..600 {
            queued.push(probe(&log, n, n % 2 == 1));
        }
        assert_eq!(
            kinds(&mut queued, &log),
            [(W, 256), (S, 256), (W, 44), (S, 44)],
            "turns, at most MAX_BATCH each"
        );
    }

    /// The kind and size of each batch until none is left.
    fn kinds(queued: &mut Queued<Nothing, Nothing>, log: &Log) -> Vec<(Kind, usize)> {
        std::iter::from_fn(|| {
            let batch = next(queued, log);
            let kind = batch.first()?.0;
            assert!(batch.iter().all(|(k, _)| *k == kind), "one kind per batch");
            assert!(batch.windows(2).all(|w| w[0].1 < w[1].1), "oldest first");
            Some((kind, batch.len()))
        })
        .collect()
    }

    #[test]
    fn set_wise_requests_take_their_turn_with_the_other_kinds() {
        let log: Log = Arc::new(Mutex::new(Vec::new()));
        let mut queued = Queued::default();
        // The opening as it is with set-wise starts: starts, saves of those
        // already started, and a submit or two.
        for n in 0..600 {
            queued.push(set(n));
            if n % 2 == 0 {
                queued.push(probe(&log, n, true));
            }
            if n % 100 == 0 {
                queued.push(probe(&log, n, false));
            }
        }
        assert_eq!(
            kinds(&mut queued, &log),
            [(W, 6), (S, 256), (SET, 256), (S, 44), (SET, 256), (SET, 88)],
            "each kind waits at most one batch of each other kind"
        );
        // Set-wise requests alone come in batches too, none lost.
        for n in 0..300 {
            queued.push(set(n));
        }
        assert_eq!(kinds(&mut queued, &log), [(SET, 256), (SET, 44)]);
    }
}
