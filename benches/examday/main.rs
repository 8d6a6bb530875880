//! Exam day: N candidates start one exam within the same second, each saves
//! 50 answers and submits. Two profiles (see benches/README.md):
//!
//! - `capacity` (default): think times of 0-200 ms, a closed loop that asks
//!   far more than any server gives; it reports the highest sustained
//!   saves per second.
//! - `realistic`: think times of 0-20 s (mean 10 s, `--mean-think-ms`), the
//!   load of a real exam day compressed in time, not in load; it reports
//!   the exam-day targets.
//!
//! Prints requests per second and latency for start, the saves sent during
//! the opening, the saves after it and submit; the errors; checks in the
//! database that every acknowledged answer is stored; and measures, in the
//! same run, a reference (`GET /api/v1/me` at the same concurrency) that
//! throughputs are divided by. The last line is one JSON object.
//!
//!     cargo run --release -p gatekeeper-bench --bin examday -- --profile realistic --candidates 10000 [--database-url postgres://postgres@127.0.0.1:5432]
//!
//! The server runs as a child process (the `gatekeeper` binary built next to
//! this one) on a fresh database, so client and server each have their own
//! file-descriptor limit, and so that `--crash-after-s` can kill it.
//! `--instances 2` runs two servers on one PostgreSQL database behind
//! HAProxy. Setup (people, tokens, the exam, predrawn papers) is written
//! directly and is not measured.
//!
//! Whatever way the run ends (an error, a panic, Ctrl-C), the database, the
//! temporary directory and the child processes are removed (`cleanup`).
//! The CPU time of PostgreSQL, the server(s) and the bench itself is read
//! from `/proc` around each measured phase (`cpu`).

mod cleanup;
mod cpu;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use diesel::{Connection, RunQueryDsl};
use gatekeeper::config::Settings;
use gatekeeper::domain::access::{Actor, Principal};
use gatekeeper::domain::ids::{ExamId, PersonId};
use gatekeeper::domain::numbers::{count_f64, count_i64, u64_f64, whole_u64, whole_usize};
use gatekeeper::domain::papers::{Blueprint, Section};
use gatekeeper::domain::roles::Role;
use gatekeeper::domain::tokens::{self, TokenKind};
use gatekeeper::services::{Caller, Ctx, banks, exams};
use gatekeeper::store::api_tokens::{self, NewApiToken};
use gatekeeper::store::exams::{self as store_exams, NewRegistration};
use gatekeeper::store::{self, DatabaseUrl, Db};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Profile {
    /// Think times of 0-200 ms: how many saves per second the server takes.
    Capacity,
    /// Think times of 0-20 s: the exam day as it happens, against targets.
    Realistic,
}

#[derive(Parser)]
#[command(about = "Exam-day load test")]
struct Args {
    #[arg(long, value_enum, default_value_t = Profile::Capacity)]
    profile: Profile,
    #[arg(long, default_value_t = 10_000)]
    candidates: usize,
    /// A PostgreSQL server (postgres://user@host:port); a fresh database is
    /// created on it and dropped afterwards. Default: a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 50)]
    saves: usize,
    /// Think time between saves, uniform from 0 to this (capacity profile;
    /// default 200).
    #[arg(long, conflicts_with = "mean_think_ms")]
    max_think_ms: Option<u64>,
    /// Mean think time between saves, uniform from 0 to twice this
    /// (realistic profile; default 10000).
    #[arg(long)]
    mean_think_ms: Option<u64>,
    /// Open loop: saves are sent on a schedule that does not wait for the
    /// answers, RATE saves per second in all (each candidate's think time
    /// becomes uniform 0 to 2 × candidates / RATE s); a save's latency is
    /// measured from its scheduled time.
    #[arg(long, value_name = "RATE")]
    open_loop: Option<f64>,
    /// Kill the server(s) with SIGKILL this many seconds after the opening,
    /// restart them, and let the candidates resend what was not acknowledged.
    #[arg(long, value_name = "N")]
    crash_after_s: Option<f64>,
    /// Servers on one PostgreSQL database behind HAProxy (which must be
    /// installed: benches/examday/instances.sh installs it).
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Seconds of the reference load (`GET /api/v1/me` by every candidate,
    /// closed loop) measured after the exam.
    #[arg(long, default_value_t = 5)]
    reference_s: u64,
}

impl Args {
    /// The think time's upper bound in milliseconds.
    fn max_think_ms(&self) -> u64 {
        if let Some(rate) = self.open_loop {
            // Milliseconds, positive; a float cast saturates at worst.
            return whole_u64(
                (2.0 * 1000.0 * count_f64(self.candidates) / rate.max(0.001)).round(),
            );
        }
        match (self.max_think_ms, self.mean_think_ms, self.profile) {
            (Some(max), _, _) => max,
            (None, Some(mean), _) => 2 * mean,
            (None, None, Profile::Capacity) => 200,
            (None, None, Profile::Realistic) => 20_000,
        }
    }
}

/// One request's figures: when it was sent (or scheduled), its latency.
#[derive(Clone, Copy)]
struct Sample {
    sent: Instant,
    latency_us: u64,
}

impl Sample {
    fn done(&self) -> Instant {
        self.sent + Duration::from_micros(self.latency_us)
    }
}

#[derive(Default)]
struct Phase {
    samples: Vec<Sample>,
    errors: usize,
}

impl Phase {
    fn record(&mut self, sent: Instant, ok: bool) {
        let latency_us =
            u64::try_from(Instant::now().duration_since(sent).as_micros()).unwrap_or(u64::MAX);
        self.samples.push(Sample { sent, latency_us });
        if !ok {
            self.errors += 1;
        }
    }

    fn merge(&mut self, other: Phase) {
        self.samples.extend(other.samples);
        self.errors += other.errors;
    }

    /// The last answer's time.
    fn last_done(&self) -> Option<Instant> {
        self.samples.iter().map(Sample::done).max()
    }

    /// The highest number of answers per second over any `window` of the run.
    fn peak_rps(&self, window: Duration) -> f64 {
        let mut done: Vec<Instant> = self.samples.iter().map(Sample::done).collect();
        done.sort_unstable();
        let mut best = 0;
        let mut from = 0;
        for (to, &t) in done.iter().enumerate() {
            while done
                .get(from)
                .is_some_and(|&f| t.duration_since(f) > window)
            {
                from += 1;
            }
            best = best.max(to + 1 - from);
        }
        count_f64(best) / window.as_secs_f64()
    }

    fn summary(&self) -> Value {
        let mut lat: Vec<u64> = self.samples.iter().map(|s| s.latency_us).collect();
        lat.sort_unstable();
        let n = lat.len();
        let pct = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            // p is a fraction, so the rank is between 0 and n.
            let i = whole_usize((p * count_f64(n)).ceil()).clamp(1, n) - 1;
            lat.get(i)
                .map_or(0.0, |&us| (u64_f64(us) / 100.0).round() / 10.0)
        };
        let first = self.samples.iter().map(|s| s.sent).min();
        let span = match (first, self.last_done()) {
            (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
            _ => 0.0,
        };
        json!({
            "requests": n,
            "errors": self.errors,
            "rps": if span > 0.0 { (count_f64(n) / span).round() } else { 0.0 },
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
        })
    }
}

/// What one candidate measured; merged after the run, so that the load
/// generator's tasks do not queue on a shared lock for every request.
#[derive(Default)]
struct Sitting {
    start: Phase,
    save: Phase,
    submit: Phase,
    /// (attempt, position, highest acknowledged seq).
    acked: Vec<(i64, i64, i64)>,
    /// (attempt, the deadline the first start answer gave).
    deadline: Option<(i64, chrono::DateTime<chrono::Utc>)>,
}

/// The failures, shared by all candidates (rare, so a lock is fine).
#[derive(Default)]
struct Stats {
    transport_errors: usize,
    /// "phase status" -> count, for refused requests.
    statuses: std::collections::BTreeMap<String, usize>,
}

/// What every candidate shares.
struct Shared {
    client: reqwest::Client,
    base: String,
    exam: ExamId,
    saves: usize,
    max_think_ms: u64,
    open_loop: bool,
    stats: Mutex<Stats>,
    /// After a crash, requests that got no answer are sent again until then.
    resend_until: Option<Instant>,
    /// Requests sent again after a transport error or a 5xx (crash test).
    resent: AtomicUsize,
}

/// The part of a started attempt the candidate needs: the load generator
/// shares the server's two cores, so it reads no more of the paper than a
/// browser would need to answer (the stems and options are skipped).
#[derive(serde::Deserialize)]
struct Started {
    id: i64,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
    items: Vec<StartedItem>,
}

#[derive(serde::Deserialize, Clone)]
struct StartedItem {
    position: i64,
    kind: String,
}

#[derive(serde::Deserialize)]
struct Ack {
    seq: i64,
}

/// Counts a failed request under `key` and prints the first of each kind.
fn tally(s: &mut Stats, key: String, detail: &str) {
    let count = s.statuses.entry(key.clone()).or_default();
    *count += 1;
    if *count == 1 {
        eprintln!(
            "examday: first {key}: {}",
            detail.chars().take(300).collect::<String>()
        );
    }
}

/// The causes of a request that got no HTTP answer (a reset, a closed
/// connection, a time-out).
fn chain(error: &reqwest::Error) -> String {
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// Sends a request and returns the body of a successful answer. A refused
/// request is counted by phase and status. During a crash test a request
/// that got no answer (or a 5xx from the load balancer while the servers
/// restart) is sent again, as an exam page does, until `resend_until`.
async fn exchange(
    shared: &Shared,
    phase: &str,
    request: reqwest::RequestBuilder,
) -> Option<Vec<u8>> {
    loop {
        let attempt = request.try_clone()?;
        let failure = match attempt.send().await {
            Ok(r) if r.status().is_success() => match r.bytes().await {
                Ok(body) => return Some(body.to_vec()),
                Err(e) => Err(e),
            },
            Ok(r) => Ok(r),
            Err(e) => Err(e),
        };
        let resend = shared
            .resend_until
            .is_some_and(|until| Instant::now() < until);
        match failure {
            Ok(r) if resend && r.status().is_server_error() => {}
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                tally(
                    &mut *shared.stats.lock().await,
                    format!("{phase} {}", status.as_u16()),
                    &body,
                );
                return None;
            }
            Err(_) if resend => {}
            Err(e) => {
                let mut s = shared.stats.lock().await;
                s.transport_errors += 1;
                tally(&mut s, format!("{phase} transport"), &chain(&e));
                return None;
            }
        }
        shared.resent.fetch_add(1, Ordering::Relaxed);
        let pause = rand::rng().random_range(100..500);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}

/// Reports, cleans up and exits. Never called while holding the
/// `cleanup` registry.
fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("examday: {message}");
    let _held = cleanup::clean_up();
    std::process::exit(1)
}

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database.
fn fresh_database(args: &Args, dir: &std::path::Path) -> (DatabaseUrl, Option<(String, String)>) {
    match &args.database_url {
        None => (DatabaseUrl::Sqlite(dir.join("examday.db")), None),
        Some(server) => {
            // Connection options (`?sslmode=disable`, `?host=/run/...`) are
            // kept for both the administrative and the run's connections.
            let (server, options) = match server.split_once('?') {
                Some((s, o)) => (s, format!("?{o}")),
                None => (server.as_str(), String::new()),
            };
            let server = server.trim_end_matches('/');
            let base = match server.rsplit_once('/') {
                Some((b, last))
                    if !last.contains(':')
                        && !last.contains('@')
                        && b.contains("//")
                        && b.len() > "postgres://".len() =>
                {
                    b.to_owned()
                }
                _ => server.to_owned(),
            };
            let name = format!("gk_examday_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres{options}"))
                .unwrap_or_else(|e| fail(format!("PostgreSQL at {base}: {e}")));
            // Created and registered under the registry's lock, so that an
            // interruption cannot fall between the two.
            let mut left = cleanup::leftovers();
            let created = diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin);
            if let Err(e) = created {
                drop(left);
                fail(e);
            }
            left.database = Some((format!("{base}/postgres{options}"), name.clone()));
            drop(left);
            (
                DatabaseUrl::Postgres(format!("{base}/{name}{options}")),
                Some((base, name)),
            )
        }
    }
}

/// Fifty objective questions (or as many as asked) spread over the sample
/// bank's difficulties.
fn blueprint(db: &Db, wanted: usize) -> Blueprint {
    let versions = db
        .read_blocking(|conn| Ok(store::banks::drawable(conn, "paediatrics")?))
        .unwrap_or_else(|e| fail(e));
    let mut per_difficulty: std::collections::BTreeMap<u8, u32> = Default::default();
    let mut topics = std::collections::BTreeSet::new();
    for v in versions.iter().filter(|v| v.kind != "case") {
        // Difficulties are 1 to 5 (the bank's rule).
        let difficulty = u8::try_from(v.difficulty).unwrap_or_else(|e| fail(e));
        *per_difficulty.entry(difficulty).or_default() += 1;
        topics.insert(v.topic.clone());
    }
    let mut mix = std::collections::BTreeMap::new();
    let mut left = u32::try_from(wanted).unwrap_or(u32::MAX);
    for (d, available) in per_difficulty {
        let take = available.min(left);
        if take > 0 {
            mix.insert(d, take);
            left -= take;
        }
    }
    if left > 0 {
        fail("the sample bank has too few objective questions");
    }
    Blueprint {
        sections: vec![Section {
            title: "Written".into(),
            topics: topics.into_iter().collect(),
            kinds: vec![
                gatekeeper::domain::banks::QuestionKind::Single,
                gatekeeper::domain::banks::QuestionKind::Multiple,
                gatekeeper::domain::banks::QuestionKind::TrueFalse,
            ],
            mix,
            points: 2,
        }],
    }
}

/// `candidates` doctors at the institution, each with a personal API token
/// for four hours; their ids and token secrets.
fn seed_candidates(
    db: &Db,
    candidates: usize,
    institution_id: i64,
    now: chrono::NaiveDateTime,
) -> (Vec<PersonId>, Vec<String>) {
    let mut secrets = Vec::with_capacity(candidates);
    let mut ids = Vec::with_capacity(candidates);
    for chunk in 0..candidates.div_ceil(1000) {
        let from = chunk * 1000;
        let to = (from + 1000).min(candidates);
        let made = db
            .write_blocking(|conn| {
                let mut made = Vec::new();
                for i in from..to {
                    let draft = gatekeeper::domain::people::PersonDraft::parse(
                        &gatekeeper::domain::people::PersonInput {
                            email: format!("candidate{i}@alliance.example"),
                            name: format!("Candidate {i}"),
                            practising_certificate: format!("LT{i:08}"),
                            institution_id: Some(institution_id),
                            roles: vec![Role::Doctor.as_str().to_owned()],
                            ..Default::default()
                        },
                    )?;
                    let person = store::people::insert(conn, &draft, now)?;
                    let secret = tokens::generate(tokens::PERSONAL_PREFIX);
                    api_tokens::insert(
                        conn,
                        &NewApiToken {
                            token_hash: &tokens::digest(&secret),
                            kind: TokenKind::Personal,
                            name: "examday",
                            person_id: Some(person.id),
                            scopes: "",
                            created_by: None,
                            expires_at: Some(now + chrono::Duration::hours(4)),
                        },
                        now,
                    )?;
                    made.push((person.id, secret));
                }
                Ok(made)
            })
            .unwrap_or_else(|e| fail(e));
        for (id, secret) in made {
            ids.push(id);
            secrets.push(secret);
        }
    }
    (ids, secrets)
}

/// The exam, open now for three hours, every candidate registered and the
/// papers drawn ahead of the opening; its id.
fn schedule_exam(
    db: &Db,
    ctx: &Ctx,
    caller: &Caller,
    blueprint: Blueprint,
    ids: &[PersonId],
    now: chrono::NaiveDateTime,
) -> ExamId {
    let exam = actix_web::rt::System::new().block_on(async {
        let exam = exams::schedule(
            ctx,
            caller,
            exams::ExamInput {
                track: "paediatrics".into(),
                title: "Exam day".into(),
                opens_at: chrono::Utc::now() - chrono::Duration::minutes(1),
                closes_at: chrono::Utc::now() + chrono::Duration::hours(3),
                duration_minutes: 90,
                pass_mark: 60,
                attempts_allowed: 1,
                waiting_days: 0,
                review_policy: "score_only".into(),
                blueprint,
                grace_seconds: None,
                marking_tolerance: None,
                marking_days: None,
                appeal_days: None,
                stage: None,
            },
        )
        .await?;
        db.write_blocking(|conn| {
            for person_id in ids {
                store_exams::save_registration(
                    conn,
                    &NewRegistration {
                        exam_id: exam.id,
                        person_id: *person_id,
                        extra_minutes: 0,
                        opens_at: None,
                        closes_at: None,
                        registered_by: caller.person_id(),
                    },
                    now,
                )?;
            }
            Ok(())
        })?;
        // Papers drawn ahead of the opening, as an alliance would.
        exams::predraw(ctx, caller, exam.id).await?;
        Ok::<_, gatekeeper::error::Error>(exam)
    });
    exam.unwrap_or_else(|e| fail(e)).id
}

/// Writes the people, their tokens, the exam and the papers. Returns the
/// exam id and each candidate's bearer token.
fn seed(settings: &Settings, args: &Args) -> (ExamId, Vec<String>) {
    let db = Db::connect(&settings.database_url).unwrap_or_else(|e| fail(e));
    db.migrate().unwrap_or_else(|e| fail(e));
    let bank_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../question_banks"));
    banks::import_path(&db, &bank_dir).unwrap_or_else(|e| fail(e));
    let admin = gatekeeper::services::people::create_admin(
        &db,
        "examday-admin@alliance.example",
        "Exam day",
        "exam day admin phrase",
    )
    .unwrap_or_else(|e| fail(e));
    let now = store::now();
    let institution = db
        .write_blocking(|conn| {
            let draft = gatekeeper::domain::institutions::InstitutionDraft::parse(
                "Load test CHC",
                "community",
                "Test",
                true,
            )?;
            Ok(store::institutions::insert(conn, &draft, now)?)
        })
        .unwrap_or_else(|e| fail(e));
    let (ids, secrets) = seed_candidates(&db, args.candidates, institution.id, now);
    let blueprint = blueprint(&db, args.saves);
    let ctx = Ctx::new(db.clone(), settings.clone()).unwrap_or_else(|e| fail(e));
    let caller = Caller {
        principal: Principal::Person(Actor {
            id: admin.id,
            roles: vec![Role::Admin],
            institution_id: None,
        }),
        ip: None,
        session_hash: None,
    };
    let exam = schedule_exam(&db, &ctx, &caller, blueprint, &ids, now);
    (exam, secrets)
}

/// Starts one `gatekeeper serve` per port, all on the same database, data
/// directory and session key (what several instances behind a load
/// balancer share), each registered for clean-up as it is started.
fn start_servers(settings: &Settings, data_dir: &std::path::Path, ports: &[u16]) {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(e));
    let server = exe.with_file_name("gatekeeper");
    if !server.exists() {
        fail(format!(
            "{} not found: build it with `cargo build --release`",
            server.display()
        ));
    }
    let url = match &settings.database_url {
        DatabaseUrl::Postgres(u) => u.clone(),
        DatabaseUrl::Sqlite(p) => p.display().to_string(),
    };
    let mut left = cleanup::leftovers();
    for port in ports {
        let started = Command::new(&server)
            .arg("serve")
            .env("GATEKEEPER_DATABASE_URL", &url)
            .env("GATEKEEPER_DATA_DIR", data_dir)
            .env("GATEKEEPER_BIND", format!("127.0.0.1:{port}"))
            .env("GATEKEEPER_QUESTION_BANKS", "none")
            .env(
                "GATEKEEPER_SESSION_KEY",
                "examday session key of at least 32 chars",
            )
            .env("RUST_LOG", "error")
            .env("GATEKEEPER_COURSES", "none")
            // The server logs to standard output: its errors belong in our report.
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn();
        match started {
            Ok(child) => left.servers.push(child),
            Err(e) => {
                drop(left);
                fail(format!("cannot start {}: {e}", server.display()));
            }
        }
    }
}

/// HAProxy in front of the servers, its configuration in `dir`: round robin,
/// health checked on /api/v1/health every 500 ms.
fn start_haproxy(dir: &std::path::Path, port: u16, servers: &[u16], candidates: usize) {
    let maxconn = (candidates + 100).min(9_900);
    if Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        fail("haproxy not found: run benches/examday/instances.sh, which installs it");
    }
    let mut config = format!(
        // Two descriptors per connection (client and server side) must fit
        // under the file-descriptor limit (20,000 here); connections beyond
        // maxconn wait in the kernel's accept queue.
        "global\n    maxconn {maxconn}\n\
         defaults\n    mode http\n    maxconn {maxconn}\n    timeout connect 5s\n    timeout client 150s\n    timeout server 150s\n    timeout http-keep-alive 75s\n    timeout check 5s\n\
         frontend examday\n    bind 127.0.0.1:{port}\n    default_backend gatekeeper\n\
         backend gatekeeper\n    balance roundrobin\n    http-reuse always\n    option httpchk GET /api/v1/health\n"
    );
    for (i, p) in servers.iter().enumerate() {
        config.push_str(&format!(
            "    server gk{i} 127.0.0.1:{p} check inter 500ms fall 3 rise 1\n"
        ));
    }
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, config).unwrap_or_else(|e| fail(e));
    let mut left = cleanup::leftovers();
    match Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => left.haproxy = Some(child),
        Err(e) => {
            drop(left);
            fail(format!("cannot start haproxy: {e}"));
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(e))
}

/// Waits until `base` answers its health check; false after `limit`.
async fn healthy(client: &reqwest::Client, base: &str, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if client
            .get(format!("{base}/api/v1/health"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn answer_for(kind: &str) -> Value {
    match kind {
        "single" => json!([0]),
        "multiple" => json!([0, 1]),
        "true_false" => json!(true),
        _ => json!("answer"),
    }
}

/// One save; the sequence number acknowledged, if it was.
async fn save(
    shared: &Shared,
    token: &str,
    attempt: i64,
    item: &StartedItem,
    seq: i64,
) -> Option<i64> {
    let request = shared
        .client
        .put(format!(
            "{}/api/v1/attempts/{attempt}/answers/{}",
            shared.base, item.position
        ))
        .bearer_auth(token)
        .json(&json!({"answer": answer_for(&item.kind), "seq": seq}));
    let body = exchange(shared, "save", request).await?;
    serde_json::from_slice::<Ack>(&body).ok().map(|a| a.seq)
}

fn think(shared: &Shared) -> Duration {
    Duration::from_millis(rand::rng().random_range(0..=shared.max_think_ms))
}

async fn candidate(shared: Arc<Shared>, token: Arc<str>, at: Instant) -> Sitting {
    let mut mine = Sitting::default();
    tokio::time::sleep_until(at.into()).await;
    // Latency counts from the scheduled time: the opening is open-loop.
    let request = shared
        .client
        .post(format!(
            "{}/api/v1/exams/{}/attempts",
            shared.base, shared.exam
        ))
        .bearer_auth(&*token);
    let started = exchange(&shared, "start", request)
        .await
        .and_then(|body| serde_json::from_slice::<Started>(&body).ok());
    mine.start.record(at, started.is_some());
    let Some(started) = started else {
        return mine;
    };
    let attempt = started.id;
    mine.deadline = started.deadline.map(|d| (attempt, d));
    if started.items.is_empty() {
        return mine;
    }
    let items = Arc::new(started.items);
    let mut acked: HashMap<i64, i64> = HashMap::new();
    let mut note = |position: i64, seq: Option<i64>| {
        if let Some(seq) = seq {
            let e = acked.entry(position).or_insert(0);
            *e = (*e).max(seq);
        }
    };
    if shared.open_loop {
        // Each save is sent at its own time, whether or not the ones
        // before it have been answered.
        let mut due = at;
        let mut sending = tokio::task::JoinSet::new();
        for (n, item) in (0..shared.saves).zip(items.iter().cycle()) {
            due += think(&shared);
            let (shared, token, item) = (shared.clone(), token.clone(), item.clone());
            sending.spawn(async move {
                tokio::time::sleep_until(due.into()).await;
                let seq = save(&shared, &token, attempt, &item, count_i64(n) + 1).await;
                let mut phase = Phase::default();
                phase.record(due, seq.is_some());
                (phase, item.position, seq)
            });
        }
        while let Some(done) = sending.join_next().await {
            if let Ok((phase, position, seq)) = done {
                mine.save.merge(phase);
                note(position, seq);
            }
        }
    } else {
        for (n, item) in (0..shared.saves).zip(items.iter().cycle()) {
            tokio::time::sleep(think(&shared)).await;
            let sent = Instant::now();
            let seq = save(&shared, &token, attempt, item, count_i64(n) + 1).await;
            mine.save.record(sent, seq.is_some());
            note(item.position, seq);
        }
    }
    mine.acked = acked
        .into_iter()
        .map(|(position, seq)| (attempt, position, seq))
        .collect();
    let sent = Instant::now();
    let request = shared
        .client
        .post(format!("{}/api/v1/attempts/{attempt}/submit", shared.base))
        .bearer_auth(&*token);
    let ok = exchange(&shared, "submit", request).await.is_some();
    mine.submit.record(sent, ok);
    mine
}

/// The reference: every candidate reads `GET /api/v1/me` in a closed loop
/// for `seconds`, through the same client. Returns requests per second and
/// the requests that failed.
async fn reference(shared: &Arc<Shared>, tokens: &[Arc<str>], seconds: u64) -> (f64, usize) {
    let begun = Instant::now();
    let until = begun + Duration::from_secs(seconds);
    let mut readers = tokio::task::JoinSet::new();
    for token in tokens {
        let (shared, token) = (shared.clone(), token.clone());
        readers.spawn(async move {
            let (mut ok, mut failed) = (0usize, 0usize);
            while Instant::now() < until {
                let answer = shared
                    .client
                    .get(format!("{}/api/v1/me", shared.base))
                    .bearer_auth(&*token)
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => {
                        if r.bytes().await.is_ok() {
                            ok += 1;
                        } else {
                            failed += 1;
                        }
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed)
        });
    }
    let (mut ok, mut failed) = (0, 0);
    while let Some(done) = readers.join_next().await {
        if let Ok((o, f)) = done {
            ok += o;
            failed += f;
        }
    }
    (count_f64(ok) / begun.elapsed().as_secs_f64(), failed)
}

/// The CPU time (clock ticks) used so far, read at the edge of a measured
/// phase (`cpu`).
struct Reading {
    at: Instant,
    /// Every `postgres` process with its waited-for children: the whole
    /// PostgreSQL server, whatever database its work was for.
    postgres: u64,
    /// The backends serving this run's database (their command line names
    /// it), alive at the reading: a floor for the run's share.
    postgres_run: u64,
    /// The gatekeeper servers alive, and the children this bench has
    /// reaped (servers killed by the crash test).
    servers: u64,
    /// None without `--instances`.
    haproxy: Option<u64>,
    /// This process: the load generator.
    bench: u64,
}

impl Reading {
    fn take(database: Option<&str>) -> Reading {
        let left = cleanup::leftovers();
        let servers: u64 = left
            .servers
            .iter()
            .filter_map(|c| cpu::of_pid(c.id()))
            .map(|t| t.own())
            .sum();
        let haproxy = left
            .haproxy
            .as_ref()
            .map(|h| cpu::of_pid(h.id()).map_or(0, |t| t.own()));
        drop(left);
        let me = cpu::of_pid(std::process::id()).unwrap_or_default();
        let (postgres, postgres_run) = match database {
            Some(name) => {
                let all = cpu::by_name("postgres");
                let run = all
                    .iter()
                    .filter(|(pid, _)| {
                        std::fs::read(format!("/proc/{pid}/cmdline"))
                            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(name))
                    })
                    .map(|(_, t)| t.own())
                    .sum();
                (all.values().map(cpu::Ticks::with_children).sum(), run)
            }
            None => (0, 0),
        };
        Reading {
            at: Instant::now(),
            postgres,
            postgres_run,
            servers: servers + me.cutime + me.cstime,
            haproxy,
            bench: me.own(),
        }
    }

    /// CPU seconds of each between `self` and `later`, and the saves
    /// answered in that phase (when it is the exam) per CPU-second.
    fn phase(&self, later: &Reading, saves: Option<usize>, postgres_seen: bool) -> Value {
        let hz = cpu::ticks_per_second();
        let secs = |a: u64, b: u64| (u64_f64(b.saturating_sub(a)) / hz * 100.0).round() / 100.0;
        let per = |cpu_s: f64| {
            saves.map(|n| {
                if cpu_s > 0.0 {
                    (count_f64(n) / cpu_s).round()
                } else {
                    0.0
                }
            })
        };
        let postgres = secs(self.postgres, later.postgres);
        let server = secs(self.servers, later.servers);
        json!({
            "wall_s": (later.at.duration_since(self.at).as_secs_f64() * 100.0).round() / 100.0,
            "saves": saves,
            "postgres_s": postgres_seen.then_some(postgres),
            "postgres_run_backends_s": postgres_seen.then(|| secs(self.postgres_run, later.postgres_run)),
            "server_s": server,
            "haproxy_s": self.haproxy.zip(later.haproxy).map(|(a, b)| secs(a, b)),
            "load_generator_s": secs(self.bench, later.bench),
            "saves_per_postgres_cpu_s": if postgres_seen { per(postgres) } else { None },
            "saves_per_server_cpu_s": per(server),
        })
    }
}

/// What the crash test did: when the servers were killed (seconds after
/// the opening) and how long they took to answer again.
struct Crash {
    killed_at_s: f64,
    answering_after_s: f64,
}

fn ratio(rps: &Value, reference: f64) -> f64 {
    let rps = rps.as_f64().unwrap_or(0.0);
    if reference > 0.0 {
        (rps / reference * 1000.0).round() / 1000.0
    } else {
        0.0
    }
}

/// Where a run lives: its data directory, database, ports and settings.
struct Prepared {
    data_dir: PathBuf,
    /// The PostgreSQL server and the run's database on it, if any.
    pg: Option<(String, String)>,
    ports: Vec<u16>,
    settings: Settings,
    backend: &'static str,
}

/// Checks the arguments, makes the data directory and a fresh database, and
/// picks a port per instance.
fn prepare(args: &Args) -> Prepared {
    if args.instances == 0 {
        fail("--instances must be at least 1");
    }
    if args.instances > 1 && args.database_url.is_none() {
        fail("--instances 2 needs --database-url: several instances share one PostgreSQL");
    }
    let data_dir =
        std::env::temp_dir().join(format!("gk-examday-{}", uuid::Uuid::new_v4().simple()));
    {
        let mut left = cleanup::leftovers();
        let created = std::fs::create_dir_all(&data_dir);
        left.dir = Some(data_dir.clone());
        drop(left);
        created.unwrap_or_else(|e| fail(e));
    }
    let (database_url, pg) = fresh_database(args, &data_dir);
    let ports: Vec<u16> = (0..args.instances).map(|_| free_port()).collect();
    let settings = Settings::resolve(&gatekeeper::config::CommonArgs {
        data_dir: Some(data_dir.clone()),
        database_url: Some(match &database_url {
            DatabaseUrl::Postgres(u) => u.clone(),
            DatabaseUrl::Sqlite(p) => p.display().to_string(),
        }),
        bind: Some(format!(
            "127.0.0.1:{}",
            ports
                .first()
                .unwrap_or_else(|| fail("no port for the server"))
        )),
        session_key: Some("examday session key of at least 32 chars".into()),
        question_banks: Some("none".into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| fail(e));
    Prepared {
        data_dir,
        pg,
        ports,
        backend: database_url.backend().name(),
        settings,
    }
}

/// Starts the servers (behind haproxy when several) and waits until they
/// and the load balancer answer; the base URL and the client.
fn serve(
    runtime: &tokio::runtime::Runtime,
    args: &Args,
    run: &Prepared,
) -> (String, reqwest::Client) {
    start_servers(&run.settings, &run.data_dir, &run.ports);
    let base = if args.instances > 1 {
        let port = free_port();
        start_haproxy(&run.data_dir, port, &run.ports, args.candidates);
        format!("http://127.0.0.1:{port}")
    } else {
        let port = run
            .ports
            .first()
            .unwrap_or_else(|| fail("no port for the server"));
        format!("http://127.0.0.1:{port}")
    };
    let client = reqwest::Client::builder()
        // Idle connections are closed before the server would close them
        // (75 s keep-alive; 30 s for a connection opened but never used,
        // which actix answers with 408): otherwise a request can race the
        // server's close.
        .pool_idle_timeout(Duration::from_secs(20))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_else(|e| fail(e));
    let up = runtime.block_on(async {
        for p in &run.ports {
            if !healthy(
                &client,
                &format!("http://127.0.0.1:{p}"),
                Duration::from_secs(30),
            )
            .await
            {
                return false;
            }
        }
        healthy(&client, &base, Duration::from_secs(10)).await
    });
    if !up {
        fail("the server did not answer its health check");
    }
    (base, client)
}

/// What the exam and the reference measured.
struct ExamRun {
    sitting: Sitting,
    /// Each attempt's deadline as the first start answer gave it.
    deadlines: Vec<(i64, chrono::DateTime<chrono::Utc>)>,
    crash: Option<Crash>,
    /// Requests per second of the reference, and how many failed.
    reference: (f64, usize),
    after_exam: Reading,
}

/// With `--crash-after-s`: kills the server(s) that long after the opening,
/// starts them again and says when they answer.
fn crash_later(
    args: &Args,
    run: &Prepared,
    client: &reqwest::Client,
    opening: Instant,
) -> Option<tokio::task::JoinHandle<Crash>> {
    args.crash_after_s.map(|after| {
        let (settings, data_dir, ports, client) = (
            run.settings.clone(),
            run.data_dir.clone(),
            run.ports.clone(),
            client.clone(),
        );
        tokio::spawn(async move {
            tokio::time::sleep_until((opening + Duration::from_secs_f64(after)).into()).await;
            let killed = Instant::now();
            // SIGKILL: nothing is flushed or closed cleanly.
            cleanup::kill_children(&mut cleanup::leftovers().servers);
            start_servers(&settings, &data_dir, &ports);
            eprintln!("examday: killed the server(s) with SIGKILL and restarted them");
            for p in &ports {
                healthy(
                    &client,
                    &format!("http://127.0.0.1:{p}"),
                    Duration::from_secs(60),
                )
                .await;
            }
            Crash {
                killed_at_s: killed.duration_since(opening).as_secs_f64(),
                answering_after_s: killed.elapsed().as_secs_f64(),
            }
        })
    })
}

/// Every candidate sits the exam, starting within the second after
/// `opening`; then the reference is measured.
async fn sit_exam(
    args: &Args,
    run: &Prepared,
    shared: &Arc<Shared>,
    tokens: &[Arc<str>],
    opening: Instant,
    database_name: Option<&str>,
) -> ExamRun {
    let crasher = crash_later(args, run, &shared.client, opening);
    let mut tasks = Vec::with_capacity(tokens.len());
    for token in tokens {
        let at = opening + Duration::from_micros(rand::rng().random_range(0..1_000_000));
        tasks.push(tokio::spawn(candidate(shared.clone(), token.clone(), at)));
    }
    let mut all = Sitting::default();
    let mut deadlines = Vec::new();
    for t in tasks {
        match t.await {
            Ok(one) => {
                all.start.merge(one.start);
                all.save.merge(one.save);
                all.submit.merge(one.submit);
                all.acked.extend(one.acked);
                deadlines.extend(one.deadline);
            }
            Err(e) => eprintln!("examday: a candidate's task failed: {e}"),
        }
    }
    let crash = match crasher {
        Some(c) => c.await.ok(),
        None => None,
    };
    eprintln!("examday: the exam is over; measuring the reference (GET /api/v1/me)");
    let after_exam = Reading::take(database_name);
    let reference = reference(shared, tokens, args.reference_s).await;
    ExamRun {
        sitting: all,
        deadlines,
        crash,
        reference,
        after_exam,
    }
}

/// What the database holds after the run, against what was acknowledged.
struct Stored {
    /// Acknowledged answers missing or older than acknowledged.
    lost: usize,
    /// Deadlines that are not what the first start answer gave.
    deadlines_changed: usize,
    submitted: usize,
}

/// Every acknowledged answer must be in the database, at least as new as
/// acknowledged; every deadline as the first start answer gave it.
fn check_stored(settings: &Settings, exam: &ExamRun) -> Stored {
    type AttemptState = (i64, Option<chrono::NaiveDateTime>, bool);
    let db = Db::connect(&settings.database_url).unwrap_or_else(|e| fail(e));
    let (stored, attempts): (HashMap<(i64, i64), i64>, Vec<AttemptState>) = db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            use gatekeeper::store::schema::{answers, attempt_items, attempts};
            let stored = answers::table
                .inner_join(attempt_items::table)
                .select((answers::attempt_id, attempt_items::position, answers::seq))
                .load::<(i64, i32, i64)>(conn)?
                .into_iter()
                .map(|(a, p, s)| ((a, i64::from(p)), s))
                .collect();
            let attempts = attempts::table
                .select((
                    attempts::id,
                    attempts::deadline,
                    attempts::submitted_at.is_not_null(),
                ))
                .load(conn)?;
            Ok((stored, attempts))
        })
        .unwrap_or_else(|e| fail(e));
    let lost = exam
        .sitting
        .acked
        .iter()
        .filter(|(attempt, position, seq)| {
            stored.get(&(*attempt, *position)).is_none_or(|s| s < seq)
        })
        .count();
    let deadline_of: HashMap<i64, Option<chrono::NaiveDateTime>> =
        attempts.iter().map(|(id, d, _)| (*id, *d)).collect();
    let deadlines_changed = exam
        .deadlines
        .iter()
        .filter(|(id, acked)| deadline_of.get(id).copied().flatten() != Some(acked.naive_utc()))
        .count();
    let submitted = attempts.iter().filter(|(_, _, s)| *s).count();
    Stored {
        lost,
        deadlines_changed,
        submitted,
    }
}

fn main() {
    let args = Args::parse();
    // From here on, every way out removes what the run created.
    let _guard = cleanup::Guard;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e));
    cleanup::on_signals(&runtime);
    let run = prepare(&args);
    let max_think_ms = args.max_think_ms();
    eprintln!(
        "examday: {} candidates, {} saves each, think 0-{max_think_ms} ms{}, on {} ({} instance(s)); seeding…",
        args.candidates,
        args.saves,
        if args.open_loop.is_some() {
            " (open loop)"
        } else {
            ""
        },
        run.backend,
        args.instances,
    );
    let seeded = Instant::now();
    let (exam, secrets) = seed(&run.settings, &args);
    eprintln!(
        "examday: seeded in {:.1}s (papers predrawn); starting the server",
        seeded.elapsed().as_secs_f64()
    );
    let (base, client) = serve(&runtime, &args, &run);
    let tokens: Vec<Arc<str>> = secrets.into_iter().map(Arc::from).collect();
    // Everyone starts within the same second, one second after the servers
    // (and the load balancer's health checks) answer.
    let database_name = run.pg.as_ref().map(|(_, name)| name.clone());
    let before_exam = Reading::take(database_name.as_deref());
    let opening = Instant::now() + Duration::from_secs(1);
    let shared = Arc::new(Shared {
        client,
        base,
        exam,
        saves: args.saves,
        max_think_ms,
        open_loop: args.open_loop.is_some(),
        stats: Mutex::new(Stats::default()),
        resend_until: args
            .crash_after_s
            .map(|s| opening + Duration::from_secs_f64(s) + Duration::from_secs(180)),
        resent: AtomicUsize::new(0),
    });
    let exam_run = runtime.block_on(sit_exam(
        &args,
        &run,
        &shared,
        &tokens,
        opening,
        database_name.as_deref(),
    ));
    let after_reference = Reading::take(database_name.as_deref());
    cleanup::stop_processes();
    let failures = runtime.block_on(async { std::mem::take(&mut *shared.stats.lock().await) });
    let stored = check_stored(&run.settings, &exam_run);
    drop(cleanup::clean_up());
    let report = Report::of(
        &exam_run,
        opening,
        &shared,
        [&before_exam, &exam_run.after_exam, &after_reference],
        run.pg.is_some(),
    );
    report.print(&args, &exam_run, &failures, &stored, tokens.len());
    println!("{}", report.summary(&args, &run, &exam_run, &stored));
}

/// The run's figures, as printed and summed up.
struct Report {
    opening: Instant,
    /// When the last start was answered.
    opened: Instant,
    start: Value,
    save: Value,
    save_opening: Value,
    save_after: Value,
    submit: Value,
    peak: f64,
    errors: usize,
    resent: usize,
    postgres_seen: bool,
    pg: bool,
    cpu_exam: Value,
    cpu_reference: Value,
}

impl Report {
    /// `readings`: before the exam, after it, after the reference.
    fn of(
        exam: &ExamRun,
        opening: Instant,
        shared: &Shared,
        readings: [&Reading; 3],
        pg: bool,
    ) -> Report {
        let sitting = &exam.sitting;
        let [before_exam, after_exam, after_reference] = readings;
        // The opening lasts until the last start was answered; saves sent
        // during it are reported on their own.
        let opened = sitting.start.last_done().unwrap_or(opening);
        let (during, after): (Vec<Sample>, Vec<Sample>) =
            sitting.save.samples.iter().partition(|s| s.sent < opened);
        let opening_saves = Phase {
            samples: during,
            errors: 0,
        };
        let later_saves = Phase {
            samples: after,
            errors: 0,
        };
        // CPU per phase. The exam's saves include those sent during the
        // opening; its CPU time includes the starts and submits.
        let postgres_seen = pg && after_reference.postgres > 0;
        let saves_ok = sitting.save.samples.len() - sitting.save.errors;
        Report {
            opening,
            opened,
            start: sitting.start.summary(),
            save: sitting.save.summary(),
            save_opening: opening_saves.summary(),
            save_after: later_saves.summary(),
            submit: sitting.submit.summary(),
            peak: sitting.save.peak_rps(Duration::from_secs(5)).round(),
            errors: sitting.start.errors + sitting.save.errors + sitting.submit.errors,
            resent: shared.resent.load(Ordering::Relaxed),
            postgres_seen,
            pg,
            cpu_exam: before_exam.phase(after_exam, Some(saves_ok), postgres_seen),
            cpu_reference: after_exam.phase(after_reference, None, postgres_seen),
        }
    }

    /// The report for people: per phase, the losses, the CPU, the targets.
    fn print(
        &self,
        args: &Args,
        exam: &ExamRun,
        failures: &Stats,
        stored: &Stored,
        concurrency: usize,
    ) {
        let (reference_rps, reference_failed) = exam.reference;
        println!(
            "reference: GET /api/v1/me at a concurrency of {concurrency}: {reference_rps:.0} rps ({reference_failed} failed)"
        );
        println!(
            "opening: the last start was answered {:.1} s after the opening",
            self.opened.duration_since(self.opening).as_secs_f64()
        );
        for (name, s) in [
            ("start", &self.start),
            ("save, during the opening", &self.save_opening),
            ("save, after the opening", &self.save_after),
            ("save, all", &self.save),
            ("submit", &self.submit),
        ] {
            println!(
                "{name:>24}: {:>7} requests {:>6} rps ({:.3} of reference)  p50 {:>8} ms  p99 {:>8} ms  max {:>8} ms  errors {}",
                s["requests"],
                s["rps"],
                ratio(&s["rps"], reference_rps),
                s["p50_ms"],
                s["p99_ms"],
                s["max_ms"],
                s["errors"]
            );
        }
        println!(
            "highest sustained saves/s (best 5 s): {} ({:.3} of reference)",
            self.peak,
            ratio(&json!(self.peak), reference_rps)
        );
        println!(
            "acknowledged answers: {}, lost: {}, transport errors: {}, resent: {}",
            exam.sitting.acked.len(),
            stored.lost,
            failures.transport_errors,
            self.resent
        );
        for (kind, n) in &failures.statuses {
            println!("failed {kind}: {n}");
        }
        self.print_cpu();
        if let Some(c) = &exam.crash {
            println!(
                "crash: SIGKILL at {:.1} s, answering again {:.1} s later; deadlines changed: {}; submitted: {} of {}",
                c.killed_at_s,
                c.answering_after_s,
                stored.deadlines_changed,
                stored.submitted,
                args.candidates
            );
        }
        if args.profile == Profile::Realistic {
            self.print_targets();
        }
    }

    fn print_cpu(&self) {
        for (name, phase) in [("exam", &self.cpu_exam), ("reference", &self.cpu_reference)] {
            let show = |v: &Value| v.as_f64().map_or("–".to_owned(), |x| format!("{x}"));
            println!(
                "cpu, {name} ({} s): postgres {} s (this run's backends {} s), server(s) {} s, haproxy {} s, load generator {} s; saves per postgres CPU-second {}, per server CPU-second {}",
                phase["wall_s"],
                show(&phase["postgres_s"]),
                show(&phase["postgres_run_backends_s"]),
                phase["server_s"],
                show(&phase["haproxy_s"]),
                phase["load_generator_s"],
                show(&phase["saves_per_postgres_cpu_s"]),
                show(&phase["saves_per_server_cpu_s"]),
            );
        }
        if self.pg && !self.postgres_seen {
            println!(
                "cpu: no postgres process visible in /proc (PostgreSQL on another machine?): its CPU time is not measured"
            );
        }
    }

    /// The realistic profile's latency targets, met or missed.
    fn print_targets(&self) {
        let start_target = if self.pg { 2500.0 } else { 1000.0 };
        let check = |name: &str, value: &Value, target: f64| {
            let v = value.as_f64().unwrap_or(f64::MAX);
            println!(
                "target {name} < {target} ms: {v} ms {}",
                if v < target { "met" } else { "MISSED" }
            );
        };
        let p99 = |phase: &Value| phase.get("p99_ms").cloned().unwrap_or_default();
        check("start p99", &p99(&self.start), start_target);
        check("save p99 after the opening", &p99(&self.save_after), 50.0);
        check("submit p99", &p99(&self.submit), 500.0);
    }

    /// The last line: one JSON object.
    fn summary(&self, args: &Args, run: &Prepared, exam: &ExamRun, stored: &Stored) -> Value {
        let (reference_rps, _) = exam.reference;
        let brief = |s: &Value| json!({"requests": s["requests"], "rps": s["rps"], "ratio": ratio(&s["rps"], reference_rps), "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"], "max_ms": s["max_ms"]});
        json!({
            "profile": match args.profile { Profile::Capacity => "capacity", Profile::Realistic => "realistic" },
            "candidates": args.candidates,
            "saves": args.saves,
            "max_think_ms": args.max_think_ms(),
            "open_loop": args.open_loop,
            "instances": args.instances,
            "database": run.backend,
            "errors": self.errors,
            "lost_answers": stored.lost,
            "reference_rps": reference_rps.round(),
            "opening_s": (self.opened.duration_since(self.opening).as_secs_f64() * 10.0).round() / 10.0,
            "start": brief(&self.start),
            "save": brief(&self.save),
            "save_opening": brief(&self.save_opening),
            "save_after_opening": brief(&self.save_after),
            "submit": brief(&self.submit),
            "peak_saves_per_s": self.peak,
            "peak_ratio": ratio(&json!(self.peak), reference_rps),
            "resent": self.resent,
            "cpu": {"exam": self.cpu_exam, "reference": self.cpu_reference},
            "crash": exam.crash.as_ref().map(|c| json!({
                "killed_at_s": c.killed_at_s,
                "answering_after_s": c.answering_after_s,
                "deadlines_changed": stored.deadlines_changed,
                "submitted": stored.submitted,
            })),
        })
    }
}
