//! Every benchmark, run briefly in the test build (debug: these runs check
//! that the benchmarks still work against today's server and API, and
//! measure nothing). A moved folder, a changed route or a lost answer fails
//! here, in `cargo test --workspace`, instead of on the day someone measures.
//!
//! `examday` starts the server binary that sits beside it
//! (`target/debug/gatekeeper`): `cargo test --workspace` builds it, because
//! the server package's own integration tests need it.

#![allow(
    clippy::indexing_slicing,
    clippy::as_conversions,
    reason = "tests index the reports they check; a panic is a failed test"
)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// Runs a benchmark binary with `args`, requires it to succeed, and returns
/// the JSON object it prints on its last line of standard output.
fn run(exe: &str, args: &[&str]) -> Value {
    let output = Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{exe} could not start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{exe} {args:?} ended with {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{exe}'s last line is not JSON ({e}): {last}\n{stderr}"))
}

/// The exam-day run's own counts: no error, no lost answer; after a crash,
/// no deadline changed and every candidate submitted.
fn assert_examday_ok(report: &Value, candidates: u64) {
    assert_eq!(report["errors"], 0, "errors in {report}");
    assert_eq!(report["lost_answers"], 0, "lost answers in {report}");
    assert_eq!(report["candidates"], candidates, "{report}");
    if let Some(crash) = report.get("crash").filter(|c| !c.is_null()) {
        assert_eq!(crash["deadlines_changed"], 0, "deadlines changed: {report}");
        assert_eq!(
            crash["submitted"], candidates,
            "not all submitted: {report}"
        );
    }
}

fn examday(extra: &[&str]) -> Value {
    let server = PathBuf::from(env!("CARGO_BIN_EXE_examday")).with_file_name("gatekeeper");
    assert!(
        server.exists(),
        "{} is missing: run the whole workspace's tests (`cargo test --workspace`), \
         which build the server binary, or `cargo build --bin gatekeeper` first",
        server.display()
    );
    let mut args = vec!["--candidates", "50", "--reference-s", "1"];
    args.extend_from_slice(extra);
    run(env!("CARGO_BIN_EXE_examday"), &args)
}

/// PostgreSQL for the exam-day run, as the server's tests find it; `None`
/// (the run is skipped, loudly) where it is unreachable and not required.
fn postgres_url() -> Option<String> {
    let url = std::env::var("GATEKEEPER_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().ok()?,
        std::time::Duration::from_secs(2),
    )
    .is_ok()
        || !url.contains("127.0.0.1:5432");
    let required = std::env::var("GATEKEEPER_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if !reachable && !required {
        eprintln!("SKIPPED: examday on PostgreSQL, nothing listens at {url}");
        return None;
    }
    Some(url)
}

#[test]
fn examday_on_sqlite_loses_nothing() {
    let report = examday(&["--saves", "3"]);
    assert_eq!(report["database"], "sqlite", "{report}");
    assert_examday_ok(&report, 50);
}

#[test]
fn examday_on_postgres_loses_nothing() {
    let Some(url) = postgres_url() else { return };
    let report = examday(&["--saves", "3", "--database-url", &url]);
    assert_eq!(report["database"], "postgres", "{report}");
    assert_examday_ok(&report, 50);
}

#[test]
fn examday_survives_a_killed_server() {
    let report = examday(&[
        "--profile",
        "realistic",
        "--mean-think-ms",
        "1000",
        "--saves",
        "4",
        "--crash-after-s",
        "2",
    ]);
    assert!(report["crash"].is_object(), "no crash was made: {report}");
    assert_examday_ok(&report, 50);
}

#[test]
fn lessonpages_runs() {
    let report = run(env!("CARGO_BIN_EXE_lessonpages"), &["--rounds", "2"]);
    assert!(report.is_object(), "{report}");
}

#[test]
fn bankcheck_runs() {
    let report = run(env!("CARGO_BIN_EXE_bankcheck"), &["--questions", "200"]);
    assert!(report["bankcheck"].is_array(), "{report}");
}
