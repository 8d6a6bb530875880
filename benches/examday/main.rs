//! Exam day: N candidates start one exam within the same second, each saves
//! 50 answers with think times of 0-200 ms, and submits. Prints requests per
//! second and latency for start, save and submit, the errors, and checks in
//! the database that every acknowledged answer is stored. The last line is
//! one JSON object with the figures.
//!
//!     cargo run --release --bin examday -- --candidates 10000 [--database-url postgres://postgres@127.0.0.1:5432]
//!
//! The server runs as a child process (the `gatekeeper` binary built next to
//! this one) on a fresh database, so client and server each have their own
//! file-descriptor limit. Setup (people, tokens, the exam, predrawn papers) is
//! written directly and is not measured.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::{Connection, RunQueryDsl};
use gatekeeper::config::Settings;
use gatekeeper::domain::access::{Actor, Principal};
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

#[derive(Parser)]
#[command(about = "Exam-day load test")]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    candidates: usize,
    /// A PostgreSQL server (postgres://user@host:port); a fresh database is
    /// created on it and dropped afterwards. Default: a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 50)]
    saves: usize,
    #[arg(long, default_value_t = 200)]
    max_think_ms: u64,
}

#[derive(Default)]
struct Phase {
    latencies_us: Vec<u64>,
    errors: usize,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Phase {
    fn record(&mut self, sent: Instant, ok: bool) {
        let done = Instant::now();
        self.latencies_us
            .push(done.duration_since(sent).as_micros() as u64);
        if !ok {
            self.errors += 1;
        }
        self.first = Some(self.first.map_or(sent, |f| f.min(sent)));
        self.last = Some(self.last.map_or(done, |l| l.max(done)));
    }

    fn merge(&mut self, other: Phase) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    fn summary(&mut self) -> Value {
        self.latencies_us.sort_unstable();
        let n = self.latencies_us.len();
        let pct = |p: f64| -> f64 {
            if n == 0 {
                return 0.0;
            }
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            self.latencies_us[i] as f64 / 1000.0
        };
        let span = match (self.first, self.last) {
            (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
            _ => 0.0,
        };
        json!({
            "requests": n,
            "errors": self.errors,
            "rps": if span > 0.0 { (n as f64 / span).round() } else { 0.0 },
            "p50_ms": (pct(0.50) * 10.0).round() / 10.0,
            "p99_ms": (pct(0.99) * 10.0).round() / 10.0,
            "max_ms": (self.latencies_us.last().copied().unwrap_or(0) as f64 / 100.0).round() / 10.0,
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
}

/// The failures, shared by all candidates (rare, so a lock is fine).
#[derive(Default)]
struct Stats {
    transport_errors: usize,
    /// "phase status" -> count, for refused requests.
    statuses: std::collections::BTreeMap<String, usize>,
}

/// The part of a started attempt the candidate needs: the load generator
/// shares the server's two cores, so it reads no more of the paper than a
/// browser would need to answer (the stems and options are skipped).
#[derive(serde::Deserialize)]
struct Started {
    id: i64,
    items: Vec<StartedItem>,
}

#[derive(serde::Deserialize)]
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

/// A refused request: its status and the start of its body.
async fn note_status(stats: &Mutex<Stats>, phase: &str, status: reqwest::StatusCode, body: String) {
    tally(
        &mut *stats.lock().await,
        format!("{phase} {}", status.as_u16()),
        &body,
    );
}

/// A request that got no HTTP answer, with its causes (a reset, a closed
/// connection, a time-out).
async fn note_transport(stats: &Mutex<Stats>, phase: &str, error: reqwest::Error) {
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    let mut s = stats.lock().await;
    s.transport_errors += 1;
    tally(&mut s, format!("{phase} transport"), &chain);
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("examday: {message}");
    std::process::exit(1)
}

/// A fresh database: a temporary SQLite file, or a new PostgreSQL database.
fn fresh_database(args: &Args, dir: &std::path::Path) -> (DatabaseUrl, Option<(String, String)>) {
    match &args.database_url {
        None => (DatabaseUrl::Sqlite(dir.join("examday.db")), None),
        Some(server) => {
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
            let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres"))
                .unwrap_or_else(|e| fail(format!("PostgreSQL at {base}: {e}")));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap_or_else(|e| fail(e));
            (
                DatabaseUrl::Postgres(format!("{base}/{name}")),
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
        *per_difficulty.entry(v.difficulty as u8).or_default() += 1;
        topics.insert(v.topic.clone());
    }
    let mut mix = std::collections::BTreeMap::new();
    let mut left = wanted as u32;
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

/// Writes the people, their tokens, the exam and the papers. Returns the
/// exam id and each candidate's bearer token.
fn seed(settings: &Settings, args: &Args) -> (i64, Vec<String>) {
    let db = Db::connect(&settings.database_url).unwrap_or_else(|e| fail(e));
    db.migrate().unwrap_or_else(|e| fail(e));
    let bank_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/question_banks"));
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
    let mut secrets = Vec::with_capacity(args.candidates);
    let mut ids = Vec::with_capacity(args.candidates);
    for chunk in 0..args.candidates.div_ceil(1000) {
        let from = chunk * 1000;
        let to = (from + 1000).min(args.candidates);
        let made = db
            .write_blocking(|conn| {
                let mut made = Vec::new();
                for i in from..to {
                    let draft = gatekeeper::domain::people::PersonDraft::parse(
                        &gatekeeper::domain::people::PersonInput {
                            email: format!("candidate{i}@alliance.example"),
                            name: format!("Candidate {i}"),
                            practising_certificate: format!("LT{i:08}"),
                            institution_id: Some(institution.id),
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
    let exam = actix_web::rt::System::new().block_on(async {
        let exam = exams::schedule(
            &ctx,
            &caller,
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
            for person_id in &ids {
                store_exams::save_registration(
                    conn,
                    &NewRegistration {
                        exam_id: exam.id,
                        person_id: *person_id,
                        extra_minutes: 0,
                        opens_at: None,
                        closes_at: None,
                        registered_by: Some(admin.id),
                    },
                    now,
                )?;
            }
            Ok(())
        })?;
        // Papers drawn ahead of the opening, as an alliance would.
        exams::predraw(&ctx, &caller, exam.id).await?;
        Ok::<_, gatekeeper::error::Error>(exam)
    });
    let exam = exam.unwrap_or_else(|e| fail(e));
    (exam.id, secrets)
}

fn start_server(settings: &Settings, data_dir: &std::path::Path) -> Child {
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
    Command::new(server)
        .arg("serve")
        .env("GATEKEEPER_DATABASE_URL", url)
        .env("GATEKEEPER_DATA_DIR", data_dir)
        .env("GATEKEEPER_BIND", &settings.bind)
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
        .spawn()
        .unwrap_or_else(|e| fail(e))
}

fn answer_for(kind: &str) -> Value {
    match kind {
        "single" => json!([0]),
        "multiple" => json!([0, 1]),
        "true_false" => json!(true),
        _ => json!("answer"),
    }
}

async fn candidate(
    client: reqwest::Client,
    base: Arc<String>,
    exam: i64,
    token: String,
    at: Instant,
    args: Arc<(usize, u64)>,
    stats: Arc<Mutex<Stats>>,
) -> Sitting {
    let mut mine = Sitting::default();
    tokio::time::sleep_until(at.into()).await;
    let sent = Instant::now();
    let res = client
        .post(format!("{base}/api/v1/exams/{exam}/attempts"))
        .bearer_auth(&token)
        .send()
        .await;
    let started: Option<Started> = match res {
        Ok(r) if r.status().is_success() => r.json().await.ok(),
        Ok(r) => {
            let status = r.status();
            note_status(&stats, "start", status, r.text().await.unwrap_or_default()).await;
            None
        }
        Err(e) => {
            note_transport(&stats, "start", e).await;
            None
        }
    };
    mine.start.record(sent, started.is_some());
    let Some(started) = started else {
        return mine;
    };
    let attempt = started.id;
    let items = started.items;
    let mut acked: HashMap<i64, i64> = HashMap::new();
    let (saves, max_think) = *args;
    for n in 0..saves {
        let think = rand::rng().random_range(0..=max_think);
        tokio::time::sleep(Duration::from_millis(think)).await;
        let Some(item) = items.get(n % items.len().max(1)) else {
            break;
        };
        let position = item.position;
        let seq = n as i64 + 1;
        let sent = Instant::now();
        let res = client
            .put(format!(
                "{base}/api/v1/attempts/{attempt}/answers/{position}"
            ))
            .bearer_auth(&token)
            .json(&json!({"answer": answer_for(&item.kind), "seq": seq}))
            .send()
            .await;
        let ok = match res {
            Ok(r) if r.status().is_success() => {
                if let Ok(ack) = r.json::<Ack>().await {
                    let e = acked.entry(position).or_insert(0);
                    *e = (*e).max(ack.seq);
                }
                true
            }
            Ok(r) => {
                let status = r.status();
                note_status(&stats, "save", status, r.text().await.unwrap_or_default()).await;
                false
            }
            Err(e) => {
                note_transport(&stats, "save", e).await;
                false
            }
        };
        mine.save.record(sent, ok);
    }
    mine.acked = acked
        .into_iter()
        .map(|(position, seq)| (attempt, position, seq))
        .collect();
    let sent = Instant::now();
    let res = client
        .post(format!("{base}/api/v1/attempts/{attempt}/submit"))
        .bearer_auth(&token)
        .send()
        .await;
    let ok = match res {
        Ok(r) if r.status().is_success() => true,
        Ok(r) => {
            let status = r.status();
            note_status(&stats, "submit", status, r.text().await.unwrap_or_default()).await;
            false
        }
        Err(e) => {
            note_transport(&stats, "submit", e).await;
            false
        }
    };
    mine.submit.record(sent, ok);
    mine
}

fn main() {
    let args = Args::parse();
    let data_dir =
        std::env::temp_dir().join(format!("gk-examday-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap_or_else(|e| fail(e));
    let (database_url, pg) = fresh_database(&args, &data_dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(e));
    let settings = Settings::resolve(&gatekeeper::config::CommonArgs {
        data_dir: Some(data_dir.clone()),
        database_url: Some(match &database_url {
            DatabaseUrl::Postgres(u) => u.clone(),
            DatabaseUrl::Sqlite(p) => p.display().to_string(),
        }),
        bind: Some(format!("127.0.0.1:{port}")),
        session_key: Some("examday session key of at least 32 chars".into()),
        question_banks: Some("none".into()),
        ..Default::default()
    })
    .unwrap_or_else(|e| fail(e));
    let backend = database_url.backend().name();
    eprintln!(
        "examday: {} candidates, {} saves each, on {backend}; seeding…",
        args.candidates, args.saves
    );
    let seeded = Instant::now();
    let (exam, secrets) = seed(&settings, &args);
    eprintln!(
        "examday: seeded in {:.1}s (papers predrawn); starting the server",
        seeded.elapsed().as_secs_f64()
    );

    let mut server = start_server(&settings, &data_dir);
    let base = Arc::new(format!("http://127.0.0.1:{port}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e));
    let (mut sitting, failures) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            // Idle connections are closed before the server would close
            // them (75 s keep-alive; 30 s for a connection opened but never
            // used, which actix answers with 408): otherwise a request can
            // race the server's close.
            .pool_idle_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap_or_else(|e| fail(e));
        for _ in 0..200 {
            if client
                .get(format!("{base}/api/v1/health"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let stats = Arc::new(Mutex::new(Stats::default()));
        // Everyone starts within the same second, one second from now.
        let opening = Instant::now() + Duration::from_secs(1);
        let shared = Arc::new((args.saves, args.max_think_ms));
        let mut tasks = Vec::with_capacity(secrets.len());
        for token in secrets {
            let at = opening + Duration::from_micros(rand::rng().random_range(0..1_000_000));
            tasks.push(tokio::spawn(candidate(
                client.clone(),
                base.clone(),
                exam,
                token,
                at,
                shared.clone(),
                stats.clone(),
            )));
        }
        let mut all = Sitting::default();
        for t in tasks {
            match t.await {
                Ok(one) => {
                    all.start.merge(one.start);
                    all.save.merge(one.save);
                    all.submit.merge(one.submit);
                    all.acked.extend(one.acked);
                }
                Err(e) => eprintln!("examday: a candidate's task failed: {e}"),
            }
        }
        (all, stats)
    });
    let _ = server.kill();
    let _ = server.wait();

    let failures = runtime.block_on(async { std::mem::take(&mut *failures.lock().await) });
    // Every acknowledged answer must be in the database, at least as new as acknowledged.
    let db = Db::connect(&settings.database_url).unwrap_or_else(|e| fail(e));
    let stored: HashMap<(i64, i64), i64> = db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            use gatekeeper::store::schema::{answers, attempt_items};
            Ok(answers::table
                .inner_join(attempt_items::table)
                .select((answers::attempt_id, attempt_items::position, answers::seq))
                .load::<(i64, i32, i64)>(conn)?
                .into_iter()
                .map(|(a, p, s)| ((a, i64::from(p)), s))
                .collect())
        })
        .unwrap_or_else(|e| fail(e));
    let lost = sitting
        .acked
        .iter()
        .filter(|(attempt, position, seq)| {
            stored.get(&(*attempt, *position)).is_none_or(|s| s < seq)
        })
        .count();
    drop(db);
    if let Some((base, name)) = pg
        && let Ok(mut admin) = diesel::PgConnection::establish(&format!("{base}/postgres"))
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
    let _ = std::fs::remove_dir_all(&data_dir);

    let start = sitting.start.summary();
    let save = sitting.save.summary();
    let submit = sitting.submit.summary();
    let errors = sitting.start.errors + sitting.save.errors + sitting.submit.errors;
    for (name, s) in [("start", &start), ("save", &save), ("submit", &submit)] {
        println!(
            "{name:>6}: {:>7} requests {:>7} rps  p50 {:>8} ms  p99 {:>8} ms  max {:>8} ms  errors {}",
            s["requests"], s["rps"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["errors"]
        );
    }
    println!(
        "acknowledged answers: {}, lost: {lost}, transport errors: {}",
        sitting.acked.len(),
        failures.transport_errors
    );
    for (kind, n) in &failures.statuses {
        println!("failed {kind}: {n}");
    }
    let summary = json!({
        "candidates": args.candidates,
        "database": backend,
        "errors": errors,
        "lost_answers": lost,
        "start": {"rps": start["rps"], "p50_ms": start["p50_ms"], "p99_ms": start["p99_ms"], "max_ms": start["max_ms"]},
        "save": {"rps": save["rps"], "p50_ms": save["p50_ms"], "p99_ms": save["p99_ms"], "max_ms": save["max_ms"]},
        "submit": {"rps": submit["rps"], "p50_ms": submit["p50_ms"], "p99_ms": submit["p99_ms"], "max_ms": submit["max_ms"]},
    });
    println!("{summary}");
}
