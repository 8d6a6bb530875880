//! The tamper-evident record on both databases: events written by real
//! requests form one unbroken hash chain, also under concurrent requests on
//! two instances and in the group writer's batches; an edited, inserted or
//! deleted row is found by `audit verify` at its id; an exported period is
//! checked with nothing but SHA-256; a credential's decision record agrees
//! with the chain, and disagrees where stored evidence was changed.

use gatekeeper::domain::audit_chain::{self, Check, Fault, GENESIS};
use gatekeeper::services::audit::{self as audit_service, Outcome};
use gatekeeper::services::decision;
use gatekeeper::services::exams::PaperCheck;
use gatekeeper::store::audit::AuditRow;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::certification::{case_exam, committee, my_case, objective_exam, sit_and_release, vote};
use crate::exams::{scheduled, setup};
use crate::grading::{close_exam, mark, person, tasks};
use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;
use crate::operations::gatekeeper;
use crate::training::{
    admin_browser, browser_for, load_training, schedule_session, sign_up, start_session_in, study,
    take_quiz,
};

on_both_databases!(
    events_written_by_requests_form_one_unbroken_chain,
    concurrent_writers_on_two_instances_leave_one_chain,
    an_edited_inserted_or_deleted_event_is_found_at_its_id,
    an_exported_period_is_checked_with_sha256_alone,
    a_decision_is_rebuilt_from_stored_data_and_agrees_with_the_chain,
);

/// Every stored event, in order of place.
fn chain_rows(app: &TestApp) -> Vec<AuditRow> {
    app.ctx
        .db
        .read_blocking(|conn| {
            let mut rows = gatekeeper::store::audit::recent(conn, 100_000)?;
            rows.sort_by_key(|r| r.seq);
            Ok(rows)
        })
        .unwrap()
}

/// Every event is in the chain, at places 1..=n with no gaps, and each
/// points at the one before.
fn assert_one_chain(app: &TestApp) -> usize {
    let rows = chain_rows(app);
    assert!(!rows.is_empty());
    let mut previous = GENESIS.to_owned();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.seq,
            Some(i as i64 + 1),
            "event #{} has its place",
            row.id
        );
        assert_eq!(
            row.prev_hash.as_deref(),
            Some(previous.as_str()),
            "event #{} links",
            row.id
        );
        previous = row.hash.clone().unwrap();
    }
    let report = audit_service::verify(&app.ctx.db).unwrap();
    assert!(report.intact(), "{report}");
    assert_eq!(report.head_seq, rows.len() as i64);
    assert_eq!(report.checked, rows.len() as i64);
    assert_eq!(report.before_chain, 0, "a new database has no older events");
    rows.len()
}

async fn events_written_by_requests_form_one_unbroken_chain(app: TestApp) {
    let (admin, _, doctor_token) = setup(&app).await;
    // A refusal, a failed sign-in and an admin change are all recorded.
    let (status, _) = app
        .api(Method::GET, "/api/v1/people", &doctor_token, None)
        .await;
    assert_eq!(status, 403);
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "nobody@alliance.example", "password": "not the one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, _) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Yubei CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
        .await;
    assert_eq!(status, 201);
    let n = assert_one_chain(&app);
    assert_eq!(
        n as i64,
        app.count("audit_events"),
        "nothing left unchained"
    );
    for action in ["api_token_issued", "institution_create", "person_create"] {
        let chained = app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = '{action}' AND hash IS NOT NULL"
        ));
        assert!(chained >= 1, "{action} is chained");
    }
    let refused = app.scalar(
        "SELECT COUNT(*) AS n FROM audit_events WHERE outcome IN ('refused', 'failed') AND hash IS NOT NULL",
    );
    assert!(refused >= 2, "refusals are chained too");
    let report = audit_service::verify(&app.ctx.db).unwrap();
    assert!(
        report.to_string().contains("The audit chain is whole"),
        "{report}"
    );
}

async fn concurrent_writers_on_two_instances_leave_one_chain(app: TestApp) {
    let admin = app.admin_token().await;
    // Several instances share a PostgreSQL database (SQLite is one
    // instance's file: there the "other" instance is the same one).
    let (second, second_ctx) = match app.backend {
        Backend::Postgres => app.another_instance(|_| {}).await,
        Backend::Sqlite => (app.base.clone(), app.ctx.clone()),
    };
    // Failed sign-ins (each its own transaction) and institutions created,
    // all at once, half of them through the other instance.
    let mut requests = Vec::new();
    for i in 0..20 {
        let base = if i % 2 == 0 {
            app.base.clone()
        } else {
            second.clone()
        };
        let client = reqwest::Client::new();
        requests.push(async move {
            client
                .post(format!("{base}/api/v1/auth/token"))
                .json(&json!({"email": format!("nobody{i}@alliance.example"), "password": "wrong guess"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut creations = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 {
            app.base.clone()
        } else {
            second.clone()
        };
        let client = reqwest::Client::new();
        let admin = admin.clone();
        creations.push(async move {
            client
                .post(format!("{base}/api/v1/institutions"))
                .bearer_auth(admin)
                .json(&json!({"name": format!("Clinic {i}"), "level": "community", "region": "Yubei", "alliance_member": true}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let (failed, created) = futures_util::future::join(
        futures_util::future::join_all(requests),
        futures_util::future::join_all(creations),
    )
    .await;
    assert!(failed.iter().all(|s| *s == 401), "{failed:?}");
    assert!(created.iter().all(|s| *s == 201), "{created:?}");

    // Batched writes of the group writer, on both instances: a write that
    // fails after recording its event undoes only itself.
    let mut grouped = Vec::new();
    for i in 0..40i64 {
        let db = if i % 2 == 0 {
            app.ctx.db.clone()
        } else {
            second_ctx.db.clone()
        };
        grouped.push(async move {
            db.write_grouped(i, move |conn| {
                let event = audit_service::anonymous(
                    "grouped_probe",
                    Some(format!("probe:{i}")),
                    Outcome::Ok,
                    None,
                    None,
                );
                audit_service::record(conn, &event)?;
                if i % 5 == 0 {
                    return Err(gatekeeper::error::Error::conflict("probe", "undone"));
                }
                Ok(())
            })
            .await
            .is_ok()
        });
    }
    let kept = futures_util::future::join_all(grouped).await;
    assert_eq!(kept.iter().filter(|k| **k).count(), 32);
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'grouped_probe'"),
        32,
        "the failed writes' events were undone with them"
    );

    let n = assert_one_chain(&app);
    assert_eq!(n as i64, app.count("audit_events"));
    let failed_events = app.scalar(
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'api_token' AND outcome = 'failed' AND target LIKE 'nobody%'",
    );
    assert_eq!(failed_events, 20, "every failed attempt is recorded once");
    let places = app.scalar("SELECT COUNT(DISTINCT seq) AS n FROM audit_events");
    assert_eq!(places, n as i64, "no two events share a place: no fork");
}

/// The id of the event at place `seq`.
fn event_at(app: &TestApp, seq: i64) -> i64 {
    app.scalar(&format!(
        "SELECT id AS n FROM audit_events WHERE seq = {seq}"
    ))
}

fn broken_at(app: &TestApp) -> Option<(Option<i64>, Fault)> {
    let report = audit_service::verify(&app.ctx.db).unwrap();
    report.broken.map(|b| (b.id, b.fault))
}

async fn an_edited_inserted_or_deleted_event_is_found_at_its_id(app: TestApp) {
    let (admin, _, _) = setup(&app).await;
    for i in 0..4 {
        app.api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": format!("Clinic {i}"), "level": "community", "region": "Yubei", "alliance_member": true})))
            .await;
    }
    let n = assert_one_chain(&app) as i64;
    assert!(n >= 8, "{n} events");

    // An edited row: verify names exactly that event, and the command line
    // says so and fails.
    let edited = event_at(&app, n / 2);
    app.exec(&format!(
        "UPDATE audit_events SET outcome = 'refused' WHERE id = {edited}"
    ));
    assert_eq!(broken_at(&app), Some((Some(edited), Fault::Changed)));
    let cli = gatekeeper(&app).args(["audit", "verify"]).output().unwrap();
    assert!(!cli.status.success());
    let stdout = String::from_utf8_lossy(&cli.stdout);
    assert!(
        stdout.contains(&format!("BROKEN at event #{edited} ")),
        "{stdout}"
    );
    app.exec(&format!(
        "UPDATE audit_events SET outcome = 'ok' WHERE id = {edited}"
    ));
    assert_eq!(broken_at(&app), None, "only that edit broke it");
    let cli = gatekeeper(&app).args(["audit", "verify"]).output().unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(String::from_utf8_lossy(&cli.stdout).contains("whole"));

    // A row edited and given the hash of its new content: the event after
    // it no longer points at it.
    let rehashed = event_at(&app, 3);
    let next = event_at(&app, 4);
    let row = chain_rows(&app)
        .into_iter()
        .find(|r| r.id == rehashed)
        .unwrap();
    let mut content = row.content();
    content.outcome = "refused".into();
    let forged = audit_chain::hash(3, &content, row.prev_hash.as_deref().unwrap());
    app.exec(&format!(
        "UPDATE audit_events SET outcome = 'refused', hash = '{forged}' WHERE id = {rehashed}"
    ));
    assert_eq!(broken_at(&app), Some((Some(next), Fault::Relinked)));
    app.exec(&format!(
        "UPDATE audit_events SET outcome = '{}', hash = '{}' WHERE id = {rehashed}",
        row.outcome,
        row.hash.as_deref().unwrap()
    ));
    assert_eq!(broken_at(&app), None);

    // A row inserted outside the application.
    app.exec(
        "INSERT INTO audit_events (at, actor_id, actor, action, target, outcome, ip, detail) \
         VALUES ('2026-01-01 00:00:00', NULL, 'system', 'committee_vote', 'case:1', 'ok', NULL, NULL)",
    );
    let inserted = app.scalar("SELECT MAX(id) AS n FROM audit_events");
    assert_eq!(broken_at(&app), Some((Some(inserted), Fault::Unchained)));
    app.exec(&format!("DELETE FROM audit_events WHERE id = {inserted}"));
    assert_eq!(broken_at(&app), None);

    // The last event deleted: the head still names it.
    let last = event_at(&app, n);
    app.exec(&format!("DELETE FROM audit_events WHERE id = {last}"));
    assert_eq!(
        broken_at(&app),
        Some((Some(last), Fault::TailMissing { head_seq: n }))
    );
    // An event in the middle deleted: the break is at the event after it.
    let deleted = event_at(&app, 5);
    let after = event_at(&app, 6);
    app.exec(&format!("DELETE FROM audit_events WHERE id = {deleted}"));
    assert_eq!(
        broken_at(&app),
        Some((Some(after), Fault::Missing { first: 5, last: 5 }))
    );
}

/// The canonical form, built here from the documented rule and nothing of
/// the application's: the JSON array of the fields in their order.
fn recompute(line: &Value) -> String {
    let canonical = json!([
        "gatekeeper-audit-1",
        line["seq"],
        line["id"],
        line["at"],
        line["actor_id"],
        line["actor"],
        line["action"],
        line["target"],
        line["outcome"],
        line["ip"],
        line["detail"],
        line["prev_hash"],
    ])
    .to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

async fn an_exported_period_is_checked_with_sha256_alone(app: TestApp) {
    let (admin, _, _) = setup(&app).await;
    // Text that needs escaping travels intact (a failed sign-in records
    // the name it was tried with).
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "李明 \"x\"\tnobody@example", "password": "not the one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, _) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Yubei CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
        .await;
    assert_eq!(status, 201);
    let n = assert_one_chain(&app);

    let zone = app.ctx.settings.time_zone;
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let (from, to) = audit_service::day_bounds(today, today, zone).unwrap();
    let mut out = Vec::new();
    let summary = audit_service::export(&app.ctx.db, from, to, &mut out).unwrap();
    assert_eq!(summary.events, n as i64);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), n);
    let mut previous = GENESIS.to_owned();
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], json!(i + 1));
        assert_eq!(line["prev_hash"], json!(previous), "line {} links", i + 1);
        assert_eq!(
            json!(recompute(line)),
            line["hash"],
            "line {} hashes",
            i + 1
        );
        assert!(
            line["at"].as_str().unwrap().ends_with('Z') && line["at"].as_str().unwrap().len() == 27,
            "{}",
            line["at"]
        );
        previous = line["hash"].as_str().unwrap().to_owned();
    }
    assert_eq!(summary.last_hash.as_deref(), Some(previous.as_str()));
    assert!(text.contains("李明 \\\"x\\\"\\tnobody@example"), "{text}");
    // A changed line no longer hashes to its hash.
    let mut forged = lines[1].clone();
    forged["outcome"] = json!("refused");
    assert_ne!(json!(recompute(&forged)), forged["hash"]);

    // The command line writes the same lines to a file.
    let file = app.data_dir.join("period.jsonl");
    let day = today.format("%Y-%m-%d").to_string();
    let cli = gatekeeper(&app)
        .args(["audit", "export", "--from", &day, "--to", &day, "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    assert!(String::from_utf8_lossy(&cli.stderr).contains(&format!("{n} event(s)")));

    // A period without events; a period that ends before it starts.
    let long_ago = chrono::NaiveDate::from_ymd_opt(2001, 1, 1).unwrap();
    let (from, to) = audit_service::day_bounds(long_ago, long_ago, zone).unwrap();
    let mut empty = Vec::new();
    let summary = audit_service::export(&app.ctx.db, from, to, &mut empty).unwrap();
    assert_eq!((summary.events, empty.len()), (0, 0));
    let err = audit_service::day_bounds(today, long_ago, zone).unwrap_err();
    assert!(err.to_string().contains("to"), "{err}");
    let cli = gatekeeper(&app)
        .args(["audit", "export", "--from", &day, "--to", "2001-01-01"])
        .output()
        .unwrap();
    assert!(!cli.status.success());
    assert!(String::from_utf8_lossy(&cli.stderr).contains("to"));
}

/// A doctor's whole journey to a credential, with the case answer marked
/// by two examiners for real; returns the credential number and the
/// committee's tokens.
async fn certify_with_marking(app: &TestApp) -> (String, Vec<String>) {
    let (admin, li_id, li_token) = setup(app).await;
    load_training(app);
    let (_, me) = app.api(Method::GET, "/api/v1/people", &admin, None).await;
    let longxi = me
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == li_id)
        .unwrap()["institution_id"]
        .as_i64()
        .unwrap();
    let written = scheduled(app, &admin, objective_exam("written")).await;
    let case_stage = scheduled(app, &admin, case_exam()).await;
    let (_, other) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Tertiary Children's Hospital", "level": "tertiary", "region": "Yuzhong", "alliance_member": true})))
        .await;
    let other = other["id"].as_i64().unwrap();
    let mut examiners = Vec::new();
    for i in 1..=2 {
        examiners.push(
            person(
                app,
                &admin,
                &format!("e{i}@tch.example"),
                &format!("Examiner {i}"),
                json!(["examiner"]),
                Some(other),
            )
            .await,
        );
    }

    let (status, case) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    let li = browser_for(app, "li@longxi.example").await;
    let admin_pages = admin_browser(app).await;
    for lesson in ["measuring", "red-flags", "antipyretics"] {
        study(app, &li, lesson).await;
    }
    take_quiz(app, &li, "true").await;
    let session = schedule_session(app, &admin_pages, "10", 1).await;
    assert_eq!(sign_up(app, &li, session).await, 303);
    start_session_in(app, session, -60);
    let roster = format!("/workshops/sessions/{session}");
    let res = app
        .submit(
            &admin_pages,
            &roster,
            &format!("{roster}/attendance"),
            &[("person_id", &li_id.to_string()), ("attended", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(my_case(app, &li_token).await["stage"], "written_exam");
    sit_and_release(app, &admin, written, li_id, &li_token, 1.0).await;
    assert_eq!(my_case(app, &li_token).await["stage"], "case_assessment");

    // The case assessment: answered, submitted, marked blind by both.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{case_stage}/registrations"),
            &admin,
            Some(json!({"person_id": li_id})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{case_stage}/attempts"),
            &li_token,
            None,
        )
        .await;
    let attempt_id = attempt["id"].as_i64().unwrap();
    let (status, ack) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{attempt_id}/answers/1"),
            &li_token,
            Some(json!({"answer": "Antipyretic, fluids, and referral if red flags.", "seq": 1})),
        )
        .await;
    assert_eq!(status, 200, "{ack}");
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            &li_token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    tasks(app, 2).await;
    for (id, token) in &examiners {
        let task = app.scalar(&format!(
            "SELECT id AS n FROM marking_tasks WHERE examiner_id = {id}"
        ));
        assert_eq!(mark(app, token, task, 8.0).await.0, 204);
    }
    close_exam(app, case_stage);
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{case_stage}/release"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    let case = my_case(app, &li_token).await;
    assert_eq!(case["stage"], "committee_review");

    let case_id = case["id"].as_i64().unwrap();
    let (members, _) = committee(app, &admin, longxi).await;
    let mut decided = Value::Null;
    for member in &members {
        let (status, body) = vote(app, member, case_id, "approve").await;
        assert_eq!(status, 201, "{body}");
        decided = body;
    }
    assert_eq!(decided["stage"], "certified");
    let number = decided["credential_number"].as_str().unwrap().to_owned();
    (number, members)
}

fn agreeing<T>(items: &[decision::Checked<T>]) -> bool {
    items
        .iter()
        .all(|c| matches!(c.check, Check::Agrees { .. }))
}

async fn a_decision_is_rebuilt_from_stored_data_and_agrees_with_the_chain(app: TestApp) {
    let (number, members) = Box::pin(certify_with_marking(&app)).await;
    // A suspension and a reinstatement are status changes too.
    for (action, body) in [
        (
            "suspend",
            json!({"action": "suspend", "reason": "under review"}),
        ),
        (
            "reinstate",
            json!({"action": "reinstate", "reason": "review closed"}),
        ),
    ] {
        let (status, res) = app
            .api(
                Method::POST,
                &format!("/api/v1/credentials/{number}/status"),
                &members[0],
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "{action}: {res}");
    }

    let record = decision::show(&app.ctx.db, &number).unwrap();
    let text = record.to_string();
    assert!(record.agrees(), "{text}");
    assert!(record.chain.intact());
    assert_eq!(record.cases.len(), 1);
    let case = &record.cases[0];
    let moves: Vec<&str> = case
        .transitions
        .iter()
        .map(|t| t.item.change.as_str())
        .collect();
    assert_eq!(moves.len(), 7, "{moves:?}");
    assert!(moves.contains(&"training -> written_exam (training_complete)"));
    assert!(agreeing(&case.transitions), "{text}");
    // Both papers draw again exactly; the case answer's two marks, each
    // under the attempt's blind code, give its final mark.
    assert_eq!(case.attempts.len(), 2);
    assert!(
        case.attempts
            .iter()
            .all(|a| matches!(a.paper, PaperCheck::Matches { .. })),
        "{text}"
    );
    assert_eq!(case.attempts[0].stage, "written");
    assert_eq!(case.attempts[0].result, Some((100, true)));
    let assessed = &case.attempts[1];
    assert!(assessed.code.is_some(), "marked under a blind code");
    assert_eq!(assessed.result, Some((80, true)));
    let answer = &assessed.answers[0];
    assert_eq!(answer.final_mark, Some(8.0));
    assert_eq!(answer.rule_gives, Some(8.0));
    let roles: Vec<i32> = answer.marks.iter().map(|m| m.item.role).collect();
    assert_eq!(roles, [1, 2]);
    assert!(agreeing(&answer.marks), "{text}");
    assert_eq!(case.votes.len(), 3);
    assert!(agreeing(&case.votes), "{text}");
    let changes: Vec<&str> = record
        .credential_events
        .iter()
        .map(|e| e.item.change.as_str())
        .collect();
    assert_eq!(
        changes,
        [
            "issue: (new) -> active",
            "suspend: active -> suspended",
            "reinstate: suspended -> active"
        ]
    );
    assert!(agreeing(&record.credential_events), "{text}");
    for words in [
        number.as_str(),
        "TRAINING",
        "EXAM ATTEMPTS",
        "the same paper",
        "first marker",
        "COMMITTEE VOTES",
        "STATUS CHANGES OF THE CREDENTIAL",
        "The audit chain is whole",
        "VERDICT: AGREES",
    ] {
        assert!(text.contains(words), "the record shows {words}:\n{text}");
    }
    // The command line prints the same and succeeds.
    let cli = gatekeeper(&app)
        .args(["decision", "show", &number])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stdout)
    );
    assert!(String::from_utf8_lossy(&cli.stdout).contains("VERDICT: AGREES"));

    // A stored paper row changed: its option order no longer redraws.
    let written_attempt = case.attempts[0].attempt_id;
    let (item, order) = app
        .ctx
        .db
        .read_blocking(move |conn| {
            let items = gatekeeper::store::exams::items_of(conn, written_attempt)?;
            let first = items.into_iter().find(|i| i.option_order != "[]").unwrap();
            Ok((first.id, first.option_order))
        })
        .unwrap();
    let mut reversed: Vec<usize> = serde_json::from_str(&order).unwrap();
    reversed.reverse();
    app.exec(&format!(
        "UPDATE attempt_items SET option_order = '{}' WHERE id = {item}",
        serde_json::to_string(&reversed).unwrap()
    ));
    // A vote changed, and a mark.
    let member_id = case.votes[0].item.member_id;
    app.exec(&format!(
        "UPDATE committee_votes SET vote = 'reject' WHERE member_id = {member_id}"
    ));
    let task = answer.marks[1].item.task_id;
    app.exec(&format!(
        "UPDATE marking_tasks SET total = 10 WHERE id = {task}"
    ));
    let record = decision::show(&app.ctx.db, &number).unwrap();
    let text = record.to_string();
    assert!(!record.agrees());
    assert!(record.chain.intact(), "the chain itself was not touched");
    let case = &record.cases[0];
    assert!(
        matches!(case.attempts[0].paper, PaperCheck::Differs { .. }),
        "{text}"
    );
    assert!(matches!(case.attempts[1].paper, PaperCheck::Matches { .. }));
    assert!(
        matches!(case.votes[0].check, Check::Differs { .. }),
        "{text}"
    );
    assert!(matches!(case.votes[1].check, Check::Agrees { .. }));
    let marks = &case.attempts[1].answers[0];
    assert!(matches!(marks.marks[1].check, Check::Differs { .. }));
    assert_eq!(marks.rule_gives, Some(9.0));
    assert_eq!(record.findings.len(), 4, "{text}");
    for words in [
        "VERDICT: DISAGREES, in 4 place(s)",
        "the stored paper differs from its redraw at position",
        &format!("the vote of zhou (#{member_id})"),
        "the second marker",
        "the final mark is 8, but its marks give 9",
    ] {
        assert!(text.contains(words), "the record says {words}:\n{text}");
    }
    let cli = gatekeeper(&app)
        .args(["decision", "show", &number])
        .output()
        .unwrap();
    assert!(!cli.status.success(), "a disagreement fails the command");

    // A row of evidence deleted: the chain still recorded it.
    app.exec(&format!(
        "DELETE FROM committee_votes WHERE member_id = {member_id}"
    ));
    let record = decision::show(&app.ctx.db, &number).unwrap();
    assert!(
        record
            .findings
            .iter()
            .any(|f| f.contains("vote#") && f.contains("no longer stored")),
        "{}",
        record
    );
    // Unknown and mistyped numbers are refused clearly.
    let err = decision::show(&app.ctx.db, "PAED-2026-999999-0").unwrap_err();
    assert!(err.to_string().contains("number"), "{err}");
    let err = decision::show(&app.ctx.db, "PAED-2026-000001-X").unwrap_err();
    assert!(err.to_string().contains("number"), "{err}");
}
