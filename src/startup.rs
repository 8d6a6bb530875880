//! Building and running the application: the same code serves `main` and the
//! integration tests (which bind port 0 and read the port back).

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::jobs;
use crate::services::Ctx;
use crate::store::Db;

pub struct Application {
    port: u16,
    server: Server,
    ctx: Ctx,
    jobs: jobs::Jobs,
}

impl Application {
    /// Connects, migrates, starts the background jobs and binds the listener.
    // Async though nothing in it awaits: the jobs and the server it starts
    // need the runtime it is awaited on (spawning outside one panics).
    #[allow(clippy::unused_async)]
    pub async fn build(settings: Settings) -> Result<Application> {
        let db = Db::connect_sized(&settings.database_url, settings.tuning.pg_pool_size)?;
        let migrated = db.migrate()?;
        if migrated > 0 {
            tracing::info!(
                migrations = migrated,
                backend = db.backend().name(),
                "database migrated"
            );
        }
        if let Some(dir) = settings.question_banks.as_deref().filter(|d| d.is_dir()) {
            // A bank with an error stops the start: exams must never draw
            // from a half-loaded bank. The error lists every file line.
            for summary in crate::services::banks::import_path(&db, dir)? {
                tracing::info!(%summary, "question bank loaded");
            }
        }
        if let Some(dir) = settings.courses.as_deref().filter(|d| d.is_dir()) {
            // Likewise for courses: a course with an error stops the start.
            for summary in crate::services::courses::import_path(&db, dir)? {
                tracing::info!(%summary, "course loaded");
            }
        }

        let sender = jobs::mail::Sender::from_settings(&settings)?;
        let ctx = Ctx::new(db, settings)?;
        let lease = jobs::Lease::new(ctx.db.clone(), &ctx.instance);
        let mut jobs = jobs::Jobs::default();
        jobs::mail::spawn(
            &mut jobs,
            lease.clone(),
            sender,
            ctx.settings.mail_from.clone(),
            std::time::Duration::from_millis(ctx.settings.tuning.mail_poll_millis),
        );
        jobs::sessions::spawn(
            &mut jobs,
            ctx.db.clone(),
            std::time::Duration::from_secs(3600),
        );
        jobs::idempotency::spawn(
            &mut jobs,
            ctx.db.clone(),
            std::time::Duration::from_secs(3600),
        );
        jobs::exams::spawn(
            &mut jobs,
            lease.clone(),
            ctx.versions.clone(),
            std::time::Duration::from_millis(ctx.settings.tuning.auto_submit_poll_millis),
        );
        jobs::grading::spawn(
            &mut jobs,
            lease.clone(),
            std::time::Duration::from_millis(ctx.settings.tuning.auto_submit_poll_millis),
        );
        jobs::training::spawn(
            &mut jobs,
            lease.clone(),
            ctx.settings.time_zone,
            std::time::Duration::from_secs(ctx.settings.tuning.reminder_poll_secs),
        );
        jobs::cases_due::spawn(
            &mut jobs,
            lease.clone(),
            ctx.settings.public_url.clone(),
            std::time::Duration::from_secs(ctx.settings.tuning.cases_due_poll_secs),
        );
        jobs::certification::spawn(
            &mut jobs,
            lease,
            ctx.settings.public_url.clone(),
            std::time::Duration::from_secs(ctx.settings.tuning.certification_poll_secs),
        );
        crate::web::error::serving_demo(ctx.settings.demo);
        let (server, port) = run(&ctx.settings.bind.clone(), ctx.clone())?;
        Ok(Application {
            port,
            server,
            ctx,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// Stops the server as SIGTERM would (`stop(true)`: the requests in
    /// flight are answered), for a process that embeds it (the benchmarks);
    /// `run_until_stopped` then stops the jobs and returns.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (actix handles the signals:
    /// SIGTERM stops taking connections and answers the requests in flight,
    /// SIGINT stops at once), then stops the background jobs and waits for
    /// them (a round in progress finishes). The database closes when the
    /// last handle on it goes (`store::PoolThreads`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Application {
            server, ctx, jobs, ..
        } = self;
        let served = server.await;
        tracing::info!("server stopped; stopping the background jobs");
        jobs.stop().await;
        drop(ctx);
        served
    }
}

/// Binds (with a deep accept queue) and returns the server and its port.
fn run(bind: &str, ctx: Ctx) -> Result<(Server, u16)> {
    let data = web::Data::new(ctx);
    let max_body = data.settings.tuning.max_body_bytes;
    let https = data.settings.secure_cookies();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .configure(crate::web::routes)
            .wrap(from_fn(crate::web::session::csrf_cookie))
            .wrap(from_fn(crate::web::cache_control))
            .wrap(crate::web::security_headers(https))
            .wrap(Compress::default())
            .wrap(from_fn(crate::web::request_span))
    })
    // A deep accept queue: on exam day thousands of candidates connect in
    // the same second.
    .backlog(4096)
    // Database work runs on blocking threads that wait for a pooled
    // connection; far more threads than connections only adds contention.
    .worker_max_blocking_threads(32)
    // Under an exam-day surge a request may wait in the accept queue; give
    // it time to be read instead of answering 408 after actix's 5 s.
    .client_request_timeout(std::time::Duration::from_secs(30))
    // Idle connections are kept well beyond any client's own idle timeout
    // (nginx's default, 75 s): a server that closes first races the
    // client's next request on that connection, which then fails as
    // "connection closed" (seen on exam day with actix's 5 s default).
    .keep_alive(std::time::Duration::from_secs(75))
    .bind(bind)
    .map_err(|e| Error::internal_from(format!("cannot listen on {bind}"), e))?;
    let port = server
        .addrs()
        .first()
        .map(std::net::SocketAddr::port)
        .ok_or_else(|| Error::internal(format!("no address bound for {bind}")))?;
    Ok((server.run(), port))
}
