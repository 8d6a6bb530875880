//! What a run leaves behind if it stops early, and the one way it is cleaned
//! up: the temporary directory, the PostgreSQL database made for the run,
//! the server processes and HAProxy. Each is registered here as soon as it
//! exists; [`clean_up`] kills and reaps the children, drops the database and
//! removes the directory, and runs on every way out: the end of the run,
//! `fail` (an error), a panic in `main` (the [`Guard`]'s `Drop`), and Ctrl-C
//! or SIGTERM ([`on_signals`]). A second call finds nothing left to do.
//! Only SIGKILL of the bench itself escapes it.

use std::path::PathBuf;
use std::process::Child;
use std::sync::Mutex;

use diesel::{Connection, RunQueryDsl};

/// Everything the run has created and not yet removed.
pub struct Leftovers {
    pub dir: Option<PathBuf>,
    /// (URL of the server's `postgres` database, to drop from; the run's database name).
    pub database: Option<(String, String)>,
    pub servers: Vec<Child>,
    pub haproxy: Option<Child>,
}

pub static LEFTOVERS: Mutex<Leftovers> = Mutex::new(Leftovers {
    dir: None,
    database: None,
    servers: Vec::new(),
    haproxy: None,
});

/// The registry, even if a panicking thread held it.
pub fn leftovers() -> std::sync::MutexGuard<'static, Leftovers> {
    LEFTOVERS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Kills and reaps the children (SIGKILL: nothing is flushed or closed
/// cleanly, which is also what the crash test wants).
pub fn kill_children(children: &mut Vec<Child>) {
    for c in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
    children.clear();
}

/// Stops the servers and HAProxy (the run's measurements are over, or it
/// failed). The database and directory stay for the final checks.
pub fn stop_processes() {
    let mut left = leftovers();
    kill_children(&mut left.servers);
    if let Some(mut h) = left.haproxy.take() {
        let _ = h.kill();
        let _ = h.wait();
    }
}

/// Removes everything still registered, processes first (they hold the
/// database and the directory), and returns the registry still locked: a
/// caller about to exit holds it, so that no thread registers (creates)
/// anything more meanwhile — things are created under the lock.
pub fn clean_up() -> std::sync::MutexGuard<'static, Leftovers> {
    let mut left = leftovers();
    kill_children(&mut left.servers);
    if let Some(mut h) = left.haproxy.take() {
        let _ = h.kill();
        let _ = h.wait();
    }
    if let Some((admin, name)) = left.database.take() {
        let dropped = diesel::PgConnection::establish(&admin)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!("examday: could not drop the database {name}: {e}");
        }
    }
    if let Some(dir) = left.dir.take()
        && let Err(e) = std::fs::remove_dir_all(&dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("examday: could not remove {}: {e}", dir.display());
    }
    left
}

/// Cleans up when dropped: held by `main`, so a panic that unwinds out of
/// it leaves nothing behind.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        drop(clean_up());
    }
}

/// On Ctrl-C (SIGINT) or SIGTERM: clean up, then exit with 130 / 143 as a
/// shell expects of a process stopped by that signal. Runs on `runtime`'s
/// worker threads, so it answers while `main` is busy (seeding, waiting).
pub fn on_signals(runtime: &tokio::runtime::Runtime) {
    runtime.spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            eprintln!("examday: cannot listen for Ctrl-C; an interrupted run may leave its database behind");
            return;
        };
        let code = tokio::select! {
            _ = int.recv() => 130,
            _ = term.recv() => 143,
        };
        eprintln!("examday: interrupted; cleaning up");
        // Blocking work (killing, a database connection) off the runtime;
        // the registry stays locked until the exit.
        let _ = tokio::task::spawn_blocking(move || {
            let _held = clean_up();
            std::process::exit(code)
        })
        .await;
    });
}
