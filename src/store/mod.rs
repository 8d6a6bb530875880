//! The database layer: one connection type over SQLite and PostgreSQL, pools,
//! migrations and the helpers that run queries off the async executor.
//!
//! Queries live in the submodules, one per aggregate; nothing outside `store`
//! writes SQL.

pub mod api_tokens;
pub mod audit;
pub mod banks;
pub mod committee;
pub mod credentials;
pub mod exams;
pub mod grading;
pub mod group;
pub mod idempotency;
pub mod ids;
pub mod institutions;
pub mod leases;
pub mod outbox;
pub mod password_tokens;
pub mod people;
pub mod photos;
pub mod pipeline;
pub mod referrals;
pub mod schema;
pub mod sessions;
pub mod signing_keys;
pub mod starts;
pub mod stored_as;
pub mod text_enums;
pub mod throttle;
pub mod training;
pub mod versions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

/// A connection to whichever backend the database URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs a query on the backend's own connection instead of through
/// [`DbConn`]: `natively!(conn, |c| query.load(c))`. The query is written
/// once and compiled for each backend. Two reasons to use it:
///
/// - the query needs what diesel's `MultiConnection` cannot express but both
///   backends can (`ON CONFLICT DO NOTHING`, a multi-row insert on SQLite);
/// - the query is hot: `MultiConnection` turns a query into SQL text every
///   time it runs it, prepared or not (twice: once to ask whether it may be
///   cached, once to collect its binds), while on the backend's own
///   connection a prepared query is found by its type and only its binds are
///   collected. The exam day's hot statements (a bearer token's check, a
///   start's reads and writes) run this way; on the opening minute that
///   building was 10–14 % of SQLite's writer's time (docs/capacity.md).
///
/// A query whose SQL differs by backend (a row lock on PostgreSQL only)
/// matches on [`DbConn`] itself.
macro_rules! natively {
    ($conn:expr, |$c:ident| $query:expr) => {
        match $conn {
            $crate::store::DbConn::Postgres($c) => $query,
            $crate::store::DbConn::Sqlite($c) => $query,
        }
    };
}
pub(crate) use natively;

/// A validated small number (a version, points, months, a percent) as an
/// INTEGER column; one beyond `i32` fails the query instead of wrapping.
pub fn int_column(n: u32) -> QueryResult<i32> {
    i32::try_from(n).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed database URL: `postgres://…` / `postgresql://…`, or a SQLite file
/// as `sqlite://path`, `sqlite:path` or a bare path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::invalid("database_url", "is empty"));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path == ":memory:" {
            // Every pooled connection would get its own empty database.
            return Err(Error::invalid(
                "database_url",
                "an in-memory SQLite database cannot be shared by a pool; use a file",
            ));
        }
        if path.contains("://") {
            return Err(Error::invalid(
                "database_url",
                "unsupported scheme; use postgres://… or a SQLite file path",
            ));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Why a connection could not be made: the real cause, not a pool time-out.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Connection(#[from] diesel::ConnectionError),
    #[error("setting up the connection: {0}")]
    Setup(#[from] diesel::result::Error),
}

/// An r2d2 manager that picks the backend from the URL and sets SQLite's
/// per-connection pragmas every time a connection is made.
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
}

impl Manager {
    pub fn new(url: DatabaseUrl) -> Self {
        Manager { url }
    }
}

/// A busy timeout instead of immediate "database is locked" (first, so that
/// the pragmas after it wait too), WAL for concurrent readers, foreign keys
/// enforced, and a bounded WAL file. `synchronous = FULL`: every commit is
/// synced to disk before it returns, so an answer the page was told is saved
/// survives a power cut or an operating-system crash, not only a crash of
/// the process (NORMAL's promise). Group commit makes this one sync per
/// batch of answers. Reads go through a memory map: a reader
/// whose page cache was invalidated by another connection's commit (every
/// read under exam-day load) then maps pages instead of copying them in.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000;
PRAGMA foreign_keys = ON;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA journal_size_limit = 67108864;
PRAGMA wal_autocheckpoint = 10000;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -32768;
PRAGMA mmap_size = 1073741824;";

/// Configures the SQLite library once, before its first connection: no
/// global memory statistics (they take a process-wide mutex on every
/// allocation, which serialised all connections under load). Multi-thread
/// mode (no per-connection mutex) was tried too and left out: a load test
/// with it saw unexplained internal errors once (see the session notes).
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config may only be called before the library is
        // initialised, i.e. before the first connection is opened; `Once`
        // and the call site (before `establish`) guarantee that for our
        // connections. If something else initialised SQLite already, the
        // call returns SQLITE_MISUSE and changes nothing, which is harmless.
        unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0);
        }
    });
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = ConnectError;

    fn connect(&self) -> std::result::Result<DbConn, ConnectError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                Ok(DbConn::Postgres(diesel::PgConnection::establish(url)?))
            }
            DatabaseUrl::Sqlite(path) => {
                configure_sqlite();
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())?;
                conn.batch_execute(SQLITE_PRAGMAS)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> std::result::Result<(), ConnectError> {
        conn.batch_execute("SELECT 1").map_err(ConnectError::from)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub type Pool = r2d2::Pool<Manager>;

/// Threads of the connection pools (r2d2 opens connections on them: the
/// first ones, and a replacement whenever a checkout leaves none idle).
const POOL_THREADS: usize = 3;

/// The threads the pools of one [`Db`] open connections on. Dropped with
/// the last handle on the `Db`, after the pools (field order), which closes
/// their idle connections; the drop then waits until each thread has
/// finished what it was doing. On PostgreSQL a connection being opened runs
/// libpq and OpenSSL: left running in the background while the process
/// exits, it crashed the process (SIGSEGV in the client library's clean-up,
/// about one command run in ten). After this drop nothing of ours touches
/// the client library.
struct PoolThreads(std::sync::Arc<scheduled_thread_pool::ScheduledThreadPool>);

impl Drop for PoolThreads {
    fn drop(&mut self) {
        // One job per thread, held at a gate until all have started: every
        // thread has then finished its earlier job. Jobs queued earlier run
        // first; they find their pool gone and return.
        let gate = std::sync::Arc::new(std::sync::Barrier::new(POOL_THREADS));
        let (done, finished) = std::sync::mpsc::channel();
        for _ in 0..POOL_THREADS {
            let (gate, done) = (gate.clone(), done.clone());
            self.0.execute(move || {
                gate.wait();
                let _ = done.send(());
            });
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        for _ in 0..POOL_THREADS {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if finished.recv_timeout(left).is_err() {
                tracing::warn!("a connection-pool thread was still busy after 10 s");
                return;
            }
        }
        tracing::debug!("database closed");
    }
}

/// Group-commit lanes on PostgreSQL: enough to keep the server's cores busy
/// while leaving most of the pool to everything else.
const PG_GROUP_LANES: usize = 4;

/// The application's database: a reader pool and a writer pool. On SQLite the
/// writer pool has exactly one connection, because SQLite has one writer and
/// several writer connections only contend for its lock; on PostgreSQL both
/// names point at the same pool.
#[derive(Clone)]
pub struct Db {
    read: Pool,
    write: Pool,
    /// Group commit for the hot small writes of exam day (see [`group`]).
    group: group::GroupWriter<exams::AnswerBatch, starts::StartBatch>,
    backend: Backend,
    /// Last: dropped after the pools and the group writer's lanes.
    _threads: std::sync::Arc<PoolThreads>,
}

impl Db {
    /// Connects with the default pool size (16 PostgreSQL connections).
    pub fn connect(url: &DatabaseUrl) -> Result<Db> {
        Db::connect_sized(url, 16)
    }

    /// Connects, reporting the real connection error if the first attempt
    /// fails. `pg_pool` is the number of PostgreSQL connections per instance.
    pub fn connect_sized(url: &DatabaseUrl, pg_pool: u32) -> Result<Db> {
        if let DatabaseUrl::Sqlite(path) = url {
            ensure_parent_dir(path)?;
        }
        let manager = Manager::new(url.clone());
        // One direct attempt first: r2d2 would only say "timed out".
        let probe = r2d2::ManageConnection::connect(&manager)
            .map_err(|e| Error::internal_from("cannot connect to the database", e))?;
        drop(probe);
        // A SQLite file connection does not break, so skip r2d2's "SELECT 1"
        // on every checkout there; a PostgreSQL one can (server restart).
        let test_on_check_out = url.backend() == Backend::Postgres;
        // Before the pools, so that it is dropped after them on every path.
        let threads = std::sync::Arc::new(PoolThreads(std::sync::Arc::new(
            scheduled_thread_pool::ScheduledThreadPool::builder()
                .num_threads(POOL_THREADS)
                .thread_name_pattern("db-pool-{}")
                .build(),
        )));
        let build = |size: u32| {
            r2d2::Pool::builder()
                .thread_pool(threads.0.clone())
                .test_on_check_out(test_on_check_out)
                .max_size(size)
                .min_idle(Some(1))
                .connection_timeout(Duration::from_secs(30))
                .build(manager.clone())
                .map_err(Error::from)
        };
        match url.backend() {
            Backend::Sqlite => {
                let write = build(1)?;
                Ok(Db {
                    read: build(8)?,
                    group: group::GroupWriter::start(&write, 1)?,
                    write,
                    backend: Backend::Sqlite,
                    _threads: threads,
                })
            }
            Backend::Postgres => {
                let pool = build(pg_pool.max(2))?;
                Ok(Db {
                    read: pool.clone(),
                    group: group::GroupWriter::start(&pool, PG_GROUP_LANES)?,
                    write: pool,
                    backend: Backend::Postgres,
                    _threads: threads,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns how many ran.
    pub fn migrate(&self) -> Result<usize> {
        let mut conn = self.write.get()?;
        run_migrations(&mut conn)
    }

    /// Runs read-only queries on a blocking thread, keeping the caller's span.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.read.clone();
        blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
    }

    /// Runs `f` in one transaction on the writer connection, on a blocking
    /// thread: everything `f` writes commits together or not at all.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        blocking(move || db.write_blocking(f)).await
    }

    /// Like [`Db::write`], but `f` shares its transaction (in a savepoint of
    /// its own) with the other grouped writes that queued meanwhile; `key`
    /// routes writes to the same rows to the same writer. For small, hot
    /// writes such as saving an answer; see [`group`].
    pub async fn write_grouped<T, F>(&self, key: i64, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.group.write(key, f).await
    }

    /// Saves an answer with the other saves that queued meanwhile: `f`
    /// checks the save in its own savepoint and returns the answer to store;
    /// the batch stores its saves' answers together (see [`group`]).
    pub async fn save_grouped<T, F>(
        &self,
        key: i64,
        f: F,
    ) -> Result<(T, Option<exams::AnswerStored>)>
    where
        F: FnOnce(&mut DbConn) -> Result<(T, Option<exams::NewAnswer>)> + Send + 'static,
        T: Send + 'static,
    {
        self.group.write_deferring(key, f).await
    }

    /// Starts an attempt with the other starts that queued meanwhile, all
    /// together (see [`starts`]); the reply says what was read and what
    /// the request's plan began, once the batch has committed.
    pub async fn start_grouped(
        &self,
        key: i64,
        asked: starts::StartAsked,
    ) -> Result<starts::StartDone> {
        self.group.write_set_wise(key, asked).await
    }

    /// The synchronous form of [`Db::write`], for the command line and jobs.
    /// The audit events `f` records are chained just before the commit
    /// (see [`audit`]).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T>,
    {
        let mut pooled = self.write.get()?;
        let conn: &mut DbConn = &mut pooled;
        audit::begin();
        write_transaction(conn, |conn| {
            let done = f(conn)?;
            audit::seal(conn)?;
            Ok(done)
        })
    }

    /// Runs `f` on the writer connection outside a transaction (for
    /// statements a transaction may not hold, such as SQLite's pragmas).
    pub fn outside_transaction<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T>,
    {
        let mut pooled = self.write.get()?;
        f(&mut pooled)
    }

    /// For a bulk load that can be redone from its source (the demo): SQLite
    /// commits without waiting for the disk until [`Db::durable`]. A crash
    /// meanwhile can lose the load, never the file. PostgreSQL: unchanged.
    pub fn bulk_load(&self) -> Result<()> {
        self.sqlite_synchronous("OFF")
    }

    /// Back to commits that wait for the disk (the default).
    pub fn durable(&self) -> Result<()> {
        self.sqlite_synchronous("FULL")
    }

    fn sqlite_synchronous(&self, level: &'static str) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        self.outside_transaction(|conn| {
            diesel::sql_query(format!("PRAGMA synchronous = {level}")).execute(conn)?;
            Ok(())
        })
    }

    /// The synchronous form of [`Db::read`].
    pub fn read_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T>,
    {
        let mut conn = self.read.get()?;
        f(&mut conn)
    }
}

/// Runs blocking work on actix's blocking pool inside the current tracing span.
pub async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    actix_web::web::block(move || span.in_scope(f))
        .await
        .map_err(|e| Error::internal_from("a blocking task", e))?
}

fn ensure_parent_dir(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| Error::internal_from(format!("cannot create {}", dir.display()), e)),
        _ => Ok(()),
    }
}

/// A fixed key for PostgreSQL's advisory lock, so that several instances
/// starting together run the migrations one at a time.
const MIGRATION_LOCK_KEY: i64 = 0x6761_7465_6b70;

pub fn run_migrations(conn: &mut DbConn) -> Result<usize> {
    let failed =
        |e: Box<dyn std::error::Error + Send + Sync>| Error::internal_from("migration failed", e);
    match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(failed),
        DbConn::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            let ran = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            ran.map_err(failed)
        }
    }
}

/// A trivial query: is the database there?
pub fn ping(conn: &mut DbConn) -> Result<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// A transaction that will write. On SQLite it takes the write lock when it
/// begins (`BEGIN IMMEDIATE`), waiting out the busy timeout if another
/// connection holds it: a deferred `BEGIN` would take a read snapshot first,
/// and if another instance committed before its first write, SQLite answers
/// "database is locked" at once (SQLITE_BUSY_SNAPSHOT) without waiting. Seen
/// with three instances on one file. Savepoints nest inside as usual.
pub fn write_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T>
where
    F: FnOnce(&mut DbConn) -> Result<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        DbConn::Postgres(_) => conn.transaction(f),
        DbConn::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    if let Err(e) =
                        <DbConn as Connection>::TransactionManager::commit_transaction(conn)
                    {
                        // A commit that failed leaves nothing half written.
                        let _ =
                            <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                        return Err(e.into());
                    }
                    Ok(value)
                }
                Err(e) => {
                    // The error that ended the work is the one to report.
                    let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
                    Err(e)
                }
            }
        }
    }
}

/// Drops every table, migrations included: only for rebuilding the demo,
/// after `demo::check_database` has found nothing but demo data.
pub fn drop_all_tables(conn: &mut DbConn) -> Result<()> {
    match conn {
        DbConn::Postgres(c) => {
            diesel::sql_query("DROP SCHEMA public CASCADE").execute(c)?;
            diesel::sql_query("CREATE SCHEMA public").execute(c)?;
        }
        DbConn::Sqlite(c) => {
            #[derive(diesel::QueryableByName)]
            struct Table {
                #[diesel(sql_type = diesel::sql_types::Text)]
                name: String,
            }
            let tables: Vec<Table> = diesel::sql_query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .load(c)?;
            diesel::sql_query("PRAGMA foreign_keys = OFF").execute(c)?;
            for t in tables {
                diesel::sql_query(format!(
                    "DROP TABLE IF EXISTS \"{}\"",
                    t.name.replace('"', "")
                ))
                .execute(c)?;
            }
            diesel::sql_query("PRAGMA foreign_keys = ON").execute(c)?;
        }
    }
    Ok(())
}

/// True when a diesel error is a unique-constraint violation.
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// A unique index's refusal as `clash()`, the duplicate said in the
/// caller's terms; any other database error as it is:
/// `.map_err(store::unique_as(email_taken))`.
pub fn unique_as(clash: impl FnOnce() -> Error) -> impl FnOnce(diesel::result::Error) -> Error {
    move |e| {
        if is_unique_violation(&e) {
            clash()
        } else {
            e.into()
        }
    }
}

/// The current time in UTC (`crate::clock`), at microsecond precision so
/// both backends store it the same way.
pub fn now() -> chrono::NaiveDateTime {
    let now = crate::clock::now().naive_utc();
    chrono::Timelike::with_nanosecond(&now, now.and_utc().timestamp_subsec_micros() * 1000)
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_select_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db")
                .map(|u| u.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db")
                .map(|u| u.backend())
                .ok(),
            Some(Backend::Postgres)
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/g.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("data/g.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("data/g.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("data/g.db")))
        );
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    /// `.cargo/config.toml` builds the bundled SQLite with the query planner
    /// stability guarantee; without it every query with a bound LIMIT
    /// (`.first()`) is parsed afresh on each run, prepared or not.
    #[test]
    fn sqlite_keeps_statements_with_a_bound_limit_prepared() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite");
        let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
            .load(&mut conn)
            .expect("compile options");
        assert!(
            options.iter().any(|o| o.compile_options == "ENABLE_QPSG"),
            "SQLite was built without SQLITE_ENABLE_QPSG (see .cargo/config.toml)"
        );
    }

    /// Both migration folders must carry the same versions, or one backend
    /// would silently lack a table the other has.
    #[test]
    fn migration_folders_hold_the_same_versions() {
        let versions = |dir: &str| -> Vec<String> {
            let mut v: Vec<String> = std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        let sqlite = versions(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"));
        let postgres = versions(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"));
        assert!(!sqlite.is_empty(), "no migrations found");
        assert_eq!(sqlite, postgres);
        for dir in &sqlite {
            for backend in ["sqlite", "postgres"] {
                for file in ["up.sql", "down.sql"] {
                    let path = format!(
                        "{}/migrations/{backend}/{dir}/{file}",
                        env!("CARGO_MANIFEST_DIR")
                    );
                    assert!(std::path::Path::new(&path).exists(), "missing {path}");
                }
            }
        }
    }
}
