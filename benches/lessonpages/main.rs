//! Lesson pages: how long the server takes to render a lesson page for a
//! signed-in doctor once its caches are warm. Loads the sample question
//! banks and courses into a fresh database, starts the server in this
//! process, signs a doctor in, reads every lesson once to warm up, then
//! reads them round after round, one request at a time. Prints server time
//! (from the `Server-Timing` header) and round-trip time, p50/p90/p99/max;
//! the last line is one JSON object.
//!
//!     cargo run --release -p gatekeeper-bench --bin lessonpages -- [--rounds 200] [--database-url postgres://postgres@127.0.0.1:5432]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::{Connection, RunQueryDsl};
use gatekeeper::config::{CommonArgs, Settings};
use gatekeeper::domain::numbers::{count_f64, whole_usize};
use gatekeeper::domain::password::NewPassword;
use gatekeeper::domain::roles::Role;
use gatekeeper::startup::Application;
use gatekeeper::store::{self, DatabaseUrl, Db};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Lesson page benchmark")]
struct Args {
    /// Rounds over every lesson of the sample courses.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// A PostgreSQL server (postgres://user@host:port); a fresh database is
    /// created on it and dropped afterwards. Default: a fresh SQLite file.
    #[arg(long)]
    database_url: Option<String>,
}

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("lessonpages: {e}");
    std::process::exit(1)
}

const EMAIL: &str = "reader@alliance.example";
const PASSWORD: &str = "lesson bench phrase";

/// A doctor with a password, written directly (setup, not measured).
fn seed_doctor(db: &Db) {
    let now = store::now();
    db.write_blocking(|conn| {
        let draft = gatekeeper::domain::institutions::InstitutionDraft::parse(
            "Bench CHC",
            "community",
            "Test",
            true,
        )?;
        let institution = store::institutions::insert(conn, &draft, now)?;
        let person = gatekeeper::domain::people::PersonDraft::parse(
            &gatekeeper::domain::people::PersonInput {
                email: EMAIL.into(),
                name: "Reader".into(),
                practising_certificate: "LP00000001".into(),
                institution_id: Some(institution.id),
                roles: vec![Role::Doctor.as_str().to_owned()],
                ..Default::default()
            },
        )?;
        let row = store::people::insert(conn, &person, now)?;
        let hash = NewPassword::parse("password", PASSWORD, Some(EMAIL))?.hash()?;
        store::people::set_password_hash(conn, row.id, &hash, now)?;
        Ok(())
    })
    .unwrap_or_else(|e| fail(e));
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // p is a fraction, so the rank is between 0 and the length.
    let i = whole_usize((p * count_f64(sorted.len())).ceil()).clamp(1, sorted.len()) - 1;
    sorted.get(i).copied().unwrap_or(0.0)
}

fn figures(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({
        "p50_ms": percentile(&v, 0.50),
        "p90_ms": percentile(&v, 0.90),
        "p99_ms": percentile(&v, 0.99),
        "max_ms": v.last().copied().unwrap_or(0.0),
    })
}

/// A fresh database: a SQLite file in `data_dir`, or a new database on the
/// PostgreSQL server named (with the server and the database's name, to
/// drop it afterwards).
fn fresh_database(args: &Args, data_dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match &args.database_url {
        None => (data_dir.join("lessons.db").display().to_string(), None),
        Some(server) => {
            let base = server.trim_end_matches('/').to_owned();
            let name = format!("gk_lessons_{}", uuid::Uuid::new_v4().simple());
            let mut admin = diesel::PgConnection::establish(&format!("{base}/postgres"))
                .unwrap_or_else(|e| fail(format!("PostgreSQL at {base}: {e}")));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .unwrap_or_else(|e| fail(e));
            (format!("{base}/{name}"), Some((base, name)))
        }
    }
}

/// Every lesson of the sample courses, as (course key, lesson key).
fn lessons_of(db: &Db) -> Vec<(String, String)> {
    db.read_blocking(|conn| {
        let mut out = Vec::new();
        for course in store::training::list_courses(conn, true)? {
            for lesson in store::training::lesson_heads(conn, &[course.id])? {
                out.push((course.course_key.clone(), lesson.lesson_key));
            }
        }
        Ok(out)
    })
    .unwrap_or_else(|e| fail(e))
}

/// A client signed in as the doctor (through the sign-in form, with its
/// CSRF token).
async fn signed_in_client(base: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| fail(e));
    let page = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .unwrap_or_else(|e| fail(e));
    let html = page.text().await.unwrap_or_else(|e| fail(e));
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| fail("no CSRF token on the sign-in page"))
        .to_owned();
    let signed_in = client
        .post(format!("{base}/sign-in"))
        .form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap_or_else(|e| fail(e));
    if signed_in.status() != 303 {
        fail(format!("sign-in answered {}", signed_in.status()));
    }
    client
}

/// Server and round-trip times of the lesson pages, and the errors.
#[derive(Default)]
struct Timings {
    server_ms: Vec<f64>,
    round_trip_ms: Vec<f64>,
    errors: usize,
}

/// Reads every lesson once to warm up, then `rounds` times, one request at
/// a time.
async fn read_lessons(
    client: &reqwest::Client,
    base: &str,
    lessons: &[(String, String)],
    rounds: usize,
) -> Timings {
    let mut t = Timings {
        server_ms: Vec::with_capacity(rounds * lessons.len()),
        round_trip_ms: Vec::with_capacity(rounds * lessons.len()),
        errors: 0,
    };
    // One warm-up round, not measured.
    for round in 0..=rounds {
        for (course, lesson) in lessons {
            let sent = Instant::now();
            let res = client
                .get(format!("{base}/courses/{course}/lessons/{lesson}"))
                .send()
                .await;
            let Ok(res) = res else {
                t.errors += 1;
                continue;
            };
            let server = res
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split("dur=").nth(1))
                .and_then(|d| d.parse::<f64>().ok());
            let ok =
                res.status() == 200 && res.text().await.is_ok_and(|b| b.contains("lesson-body"));
            let elapsed = sent.elapsed().as_secs_f64() * 1000.0;
            if !ok {
                t.errors += 1;
            }
            if round > 0 {
                t.round_trip_ms.push(elapsed);
                if let Some(ms) = server {
                    t.server_ms.push(ms);
                }
            }
        }
    }
    t
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let data_dir =
        std::env::temp_dir().join(format!("gk-lessons-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap_or_else(|e| fail(e));
    let (url, pg) = fresh_database(&args, &data_dir);
    // The repository's root: this package is benches/ in the workspace.
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let settings = Settings::resolve(&CommonArgs {
        data_dir: Some(data_dir.clone()),
        database_url: Some(url),
        bind: Some("127.0.0.1:0".into()),
        session_key: Some("lesson bench session key of at least 32 chars".into()),
        question_banks: Some(root.join("question_banks").display().to_string()),
        courses: Some(root.join("courses").display().to_string()),
        ..Default::default()
    })
    .unwrap_or_else(|e| fail(e));
    let backend = match settings.database_url {
        DatabaseUrl::Postgres(_) => "postgres",
        DatabaseUrl::Sqlite(_) => "sqlite",
    };
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings)
            .await
            .unwrap_or_else(|e| fail(e));
        let base = format!("http://127.0.0.1:{}", app.port());
        let db = app.ctx().db.clone();
        let server = app.server_handle();
        let running = actix_web::rt::spawn(app.run_until_stopped());
        seed_doctor(&db);
        let lessons = lessons_of(&db);
        let client = signed_in_client(&base).await;
        let timings = read_lessons(&client, &base, &lessons, args.rounds).await;
        // A clean shutdown: the server stops, its jobs end, and the last
        // handle on the database (`db`, dropped here) closes its pools
        // before the process exits (store::PoolThreads).
        server.stop(true).await;
        if let Ok(Err(e)) = running.await {
            eprintln!("lessonpages: the server stopped with an error: {e}");
        }
        drop(db);
        json!({
            "database": backend,
            "lessons": lessons.len(),
            "requests": timings.round_trip_ms.len(),
            "errors": timings.errors,
            "server": figures(timings.server_ms),
            "round_trip": figures(timings.round_trip_ms),
        })
    });
    if let Some((base, name)) = pg
        && let Ok(mut admin) = diesel::PgConnection::establish(&format!("{base}/postgres"))
    {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin);
    }
    let _ = std::fs::remove_dir_all(&data_dir);
    let at = |path: &str| result.pointer(path).cloned().unwrap_or_default();
    eprintln!(
        "lessonpages: {} requests over {} lessons on {}; server p50 {:.3} ms, p99 {:.3} ms; round trip p50 {:.3} ms",
        at("/requests"),
        at("/lessons"),
        at("/database"),
        at("/server/p50_ms").as_f64().unwrap_or(0.0),
        at("/server/p99_ms").as_f64().unwrap_or(0.0),
        at("/round_trip/p50_ms").as_f64().unwrap_or(0.0)
    );
    println!("{result}");
    if at("/errors") == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
