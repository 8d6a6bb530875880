//! Question banks: checking and importing files (bank format and GIFT) from
//! the command line and at server start, with versions and retiring.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gatekeeper::services::banks;
use gatekeeper::store::banks as stored;

use reqwest::Method;
use serde_json::json;

use crate::exams::{doctor, register, scheduled};
use crate::grading::person;
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    bank_check_reports_every_problem_with_its_line,
    changed_questions_get_new_versions_and_removed_ones_retire,
    an_import_with_any_bad_file_writes_nothing,
    the_server_loads_question_banks_at_start,
    a_moodle_export_keeps_its_answer_keys_and_scores,
    unchanged_bank_files_are_not_read_again,
);

const BANK: &str = r#"[bank]
id = "demo"
title = "Demo"
track = "paediatrics"
version = 1

[[questions]]
id = "q-001"
kind = "single"
topic = "fever"
difficulty = 2
points = 1
stem = "Which is a general danger sign?"
options = [
  { text = "Unable to drink", correct = true },
  { text = "Runny nose" },
]
explanation = "IMCI."
reference = "WHO IMCI"

[[questions]]
id = "q-002"
kind = "true_false"
topic = "fever"
difficulty = 1
points = 1
stem = "Fever under 3 months is high risk."
answer = true
explanation = "NICE."
reference = "NICE NG143"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let url = match &app.ctx.settings.database_url {
        gatekeeper::store::DatabaseUrl::Postgres(url) => url.clone(),
        gatekeeper::store::DatabaseUrl::Sqlite(path) => path.display().to_string(),
    };
    let out = Command::new(env!("CARGO_BIN_EXE_gatekeeper"))
        .args(args)
        .env("GATEKEEPER_DATABASE_URL", url)
        .env("GATEKEEPER_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        // The exit status too: a crash leaves no message of its own.
        format!("{}[{}]", String::from_utf8_lossy(&out.stderr), out.status),
    )
}

fn drawable(app: &TestApp) -> Vec<stored::VersionRow> {
    app.ctx
        .db
        .read_blocking(|conn| Ok(stored::drawable(conn, "paediatrics")?))
        .unwrap()
}

async fn bank_check_reports_every_problem_with_its_line(app: TestApp) {
    let dir = app.data_dir.join("banks");
    let bad = BANK
        .replace("id = \"q-002\"", "id = \"q-001\"")
        .replace("{ text = \"Runny nose\" }", "{ text = \"\" }")
        .replace("kind = \"true_false\"", "kind = \"essay\"");
    let file = write(&dir, "bad.toml", &bad);
    let (ok, _, err) = cli(&app, &["bank", "check", file.to_str().unwrap()]);
    assert!(!ok);
    let name = file.display().to_string();
    assert!(
        err.contains(&format!("{name}:16: an option is empty")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:22: duplicate question id \"q-001\"")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:23: unknown kind \"essay\"")),
        "{err}"
    );
    assert!(err.contains("3 problem(s)"), "{err}");
    // A GIFT file's problems are reported the same way.
    let gift = write(
        &dir,
        "old.gift",
        "//! track: paediatrics\n\nGood? {T}\n\nWrite an essay. {}\n",
    );
    let (ok, _, err) = cli(&app, &["bank", "check", gift.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "{}:5: essay questions are not supported",
            gift.display()
        )),
        "{err}"
    );
    // And a Moodle XML export's, naming the type it cannot deliver.
    let xml = write(
        &dir,
        "moodle.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n<!-- //! track: paediatrics -->\n<question type=\"truefalse\"><questiontext><text>Good?</text></questiontext><answer fraction=\"100\"><text>true</text></answer><answer fraction=\"0\"><text>false</text></answer></question>\n<question type=\"shortanswer\"><name><text>s</text></name></question>\n</quiz>\n",
    );
    let (ok, _, err) = cli(&app, &["bank", "check", xml.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "{}:5: short-answer questions are not supported",
            xml.display()
        )),
        "{err}"
    );
    // Checking writes nothing.
    assert_eq!(app.count("question_banks"), 0);
    // And a good file is reported as such.
    let good = write(&dir, "good.toml", BANK);
    let (ok, out, _) = cli(&app, &["bank", "check", good.to_str().unwrap()]);
    assert!(ok);
    assert!(out.contains("bank \"demo\" with 2 questions"));
}

async fn changed_questions_get_new_versions_and_removed_ones_retire(app: TestApp) {
    let dir = app.data_dir.join("banks");
    let file = write(&dir, "demo.toml", BANK);
    let (ok, out, err) = cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("demo: 2 added, 0 changed (new version), 0 unchanged, 0 retired"),
        "{out}"
    );
    assert_eq!(drawable(&app).len(), 2);

    // Importing the same file again changes nothing.
    let (_, out, _) = cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert!(
        out.contains("0 added, 0 changed (new version), 2 unchanged"),
        "{out}"
    );
    assert_eq!(app.count("question_versions"), 2);

    // A corrected stem makes version 2; version 1 stays for old attempts.
    let corrected = BANK.replace(
        "Which is a general danger sign?",
        "Which is an IMCI general danger sign?",
    );
    write(&dir, "demo.toml", &corrected);
    let (_, out, _) = cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert!(
        out.contains("0 added, 1 changed (new version), 1 unchanged"),
        "{out}"
    );
    assert_eq!(app.count("question_versions"), 3);
    let draws = drawable(&app);
    let q1 = draws
        .iter()
        .find(|v| v.content.contains("IMCI general"))
        .expect("the new version is drawn");
    assert_eq!(q1.version, 2);
    assert!(
        !draws
            .iter()
            .any(|v| v.content.contains("Which is a general danger sign?")),
        "the old version is not drawn"
    );

    // Retired in the file: never drawn; removed from the file: retired too.
    let retired = corrected.replace(
        "reference = \"NICE NG143\"",
        "reference = \"NICE NG143\"\nretired = true",
    );
    write(&dir, "demo.toml", &retired);
    let (_, out, _) = cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert!(out.contains("1 retired"), "{out}");
    assert_eq!(drawable(&app).len(), 1);
    let only_q2 = corrected.split("[[questions]]").collect::<Vec<_>>();
    let without_q1 = format!("{}[[questions]]{}", only_q2[0], only_q2[2]);
    write(&dir, "demo.toml", &without_q1);
    let (_, out, _) = cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert!(out.contains("1 retired"), "{out}");
    // q-001 is gone from the file, q-002 is no longer marked retired.
    let draws = drawable(&app);
    assert_eq!(draws.len(), 1);
    assert!(draws[0].content.contains("Fever under 3 months"));
    // Back in the file: restored, with its versions intact.
    write(&dir, "demo.toml", &corrected);
    cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert_eq!(drawable(&app).len(), 2);
    assert_eq!(app.count("question_versions"), 3);
}

async fn an_import_with_any_bad_file_writes_nothing(app: TestApp) {
    let dir = app.data_dir.join("banks");
    write(&dir, "a-good.toml", BANK);
    write(
        &dir,
        "b-bad.gift",
        "//! track: paediatrics\n\nHow many? {#4}\n",
    );
    let (ok, _, err) = cli(&app, &["bank", "import", dir.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("b-bad.gift:3: numerical questions are not supported"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"));
    assert_eq!(app.count("question_banks"), 0);
    assert_eq!(app.count("questions"), 0);
    // Fixed, the whole folder imports, GIFT included.
    write(
        &dir,
        "b-bad.gift",
        "//! track: paediatrics\n//! id: legacy\n$CATEGORY: Fever\n\n::leg-1:: Fever under 3 months is high risk. {T}\n",
    );
    let (ok, out, err) = cli(&app, &["bank", "import", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("demo: 2 added") && out.contains("legacy: 1 added"),
        "{out}"
    );
    assert_eq!(drawable(&app).len(), 3);
}

async fn the_server_loads_question_banks_at_start(probe: TestApp) {
    // The repository's own question_banks/ loads cleanly.
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("question_banks");
    let files = banks::bank_files(&shipped).unwrap();
    assert!(!files.is_empty(), "question_banks/ has bank files");
    let app = TestApp::spawn_with(probe.backend, |s| s.question_banks = Some(shipped.clone()))
        .await
        .unwrap();
    assert!(app.count("question_banks") >= 1);
    assert!(!drawable(&app).is_empty());

    // A broken bank stops the start, naming file and line.
    let dir = probe.data_dir.join("broken");
    write(
        &dir,
        "x.toml",
        &BANK.replace("difficulty = 2", "difficulty = 7"),
    );
    let mut settings = (*probe.ctx.settings).clone();
    settings.question_banks = Some(dir.clone());
    let result = gatekeeper::startup::Application::build(settings).await;
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("x.toml:11: difficulty must be 1 to 5, not 7"),
        "{message}"
    );
}

/// A Moodle GIFT export as Moodle's exporter writes it (a `.txt` file, a
/// byte-order mark from a Windows editor, `// question:` comments,
/// categories, titles, `[html]` text), written for this test, with the one
/// line Gatekeeper adds (`//! track:`). Each construct and its outcome:
const MOODLE_EXPORT: &str = "\u{feff}//! track: paediatrics
//! id: moodle-fever

// question: 0  name: Switch category to $course$/儿科/发热
$CATEGORY: $course$/儿科/发热

// A description (no answers): left out, and said so.
::说明::[html]<p>The questions below are about fever.</p>

// Single choice with partial credit: the best answer 100%, a partly right
// one 50%.
// question: 11  name: 发热 1
::发热 1::[html]<p>A feverish child arrives. What comes <b>first</b>?</p>{
\t=Assess danger signs#Right.
\t~%50%Take the temperature#Partly.
\t~Give antibiotics#No.
\t####[html]<p>IMCI: danger signs first.</p>
}

// Multiple answers: two right at 50% each, a wrong one at -100%.
// question: 12  name: 发热 2
::发热 2::Which are signs of severe dehydration?{
\t~%50%Lethargic
\t~%50%Sunken eyes
\t~%-100%Drinks eagerly
\t~Cries
}

// True/false with wrong and right feedback, as Moodle exports it.
// question: 13  name: 发热 3
::发热 3::Fever under 3 months needs same-day assessment.{TRUE#Look again.#Yes.}
";

async fn a_moodle_export_keeps_its_answer_keys_and_scores(app: TestApp) {
    let dir = app.data_dir.join("moodle");
    let file = write(&dir, "fever-export.txt", MOODLE_EXPORT);
    // A note in the same folder is not taken for a bank.
    write(&dir, "notes.txt", "Exported from Moodle on 3 December.\n");
    let (ok, out, err) = cli(&app, &["bank", "check", dir.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("bank \"moodle-fever\" with 3 questions (track paediatrics, exam)"),
        "{out}"
    );
    assert!(
        out.contains("by kind: 1 multiple, 1 single, 1 true_false"),
        "{out}"
    );
    // The category names its topic, in the bank's language.
    assert!(
        out.contains("topic 发热 (zh-CN 发热): difficulty 3 × 3"),
        "{out}"
    );
    assert!(out.contains("partial credit (weighted options"), "{out}");
    assert!(out.contains("发热-1, 发热-2"), "{out}");
    assert!(
        out.contains("descriptions left out (text without answers): 1 (line 8)"),
        "{out}"
    );
    assert!(out.contains("per-answer feedback was left out: 2"), "{out}");
    assert!(!out.contains("notes.txt"), "{out}");

    let (ok, out, err) = cli(&app, &["bank", "import", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("moodle-fever: 3 added"), "{out}");
    let keys: Vec<String> = app
        .ctx
        .db
        .read_blocking(|conn| {
            let bank = stored::find_bank(conn, "moodle-fever")?.unwrap();
            Ok(stored::questions_of(conn, bank.id)?)
        })
        .unwrap()
        .into_iter()
        .map(|q| q.question_key)
        .collect();
    assert_eq!(keys, vec!["发热-1", "发热-2", "发热-3"]);
    let single = drawable(&app)
        .into_iter()
        .find(|v| v.kind == "single")
        .unwrap();
    assert!(
        single
            .content
            .contains("A feverish child arrives. What comes first?"),
        "HTML became text: {}",
        single.content
    );
    assert!(!single.content.contains("<p>"));

    // The same answers under both of the committee's rules: an exam
    // scheduled now scores all or nothing (every track's default); after
    // the committee chooses Moodle's weights, a new exam scores partial
    // credit, and the first exam keeps its rule.
    let (admin, doctor_id, token) = {
        let admin = app.admin_token().await;
        let (_, inst) = app
            .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Longxi CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
            .await;
        let (id, token) = doctor(&app, &admin, inst["id"].as_i64().unwrap(), "li").await;
        (admin, id, token)
    };
    let exam_body = || {
        let now = chrono::Utc::now();
        json!({
            "track": "paediatrics",
            "title": "Fever (Moodle bank)",
            "opens_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
            "closes_at": (now + chrono::Duration::minutes(120)).to_rfc3339(),
            "duration_minutes": 60,
            "pass_mark": 60,
            "attempts_allowed": 1,
            "waiting_days": 0,
            "review_policy": "full",
            "blueprint": {"sections": [
                {"title": "Fever", "topics": ["发热"], "kinds": ["single", "multiple", "true_false"], "mix": {"3": 3}, "points": 2}
            ]},
        })
    };
    register_track(&app, doctor_id);
    let all_or_nothing = scheduled(&app, &admin, exam_body()).await;
    let (_, member) = person(
        &app,
        &admin,
        "zhou@chh.example",
        "zhou",
        json!(["committee"]),
        None,
    )
    .await;
    let (status, mut policy) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/policy",
            &member,
            None,
        )
        .await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["choice_scoring"], "all_or_nothing");
    policy["choice_scoring"] = json!("partial");
    let (status, err) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &member,
            Some(policy.clone()),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("choice_scoring")),
        "an unknown rule is refused: {err}"
    );
    policy["choice_scoring"] = json!("weighted");
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &member,
            Some(policy),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The audit record says what changed, in the stored words on both sides.
    let detail = app
        .ctx
        .db
        .read_blocking(|conn| Ok(gatekeeper::store::audit::recent(conn, 50)?))
        .unwrap()
        .into_iter()
        .find(|r| r.action == "track_policy")
        .and_then(|r| r.detail)
        .unwrap();
    let (before, after) = detail.split_once("; after: ").unwrap();
    assert!(
        before.starts_with("before: code=") && before.ends_with("choice_scoring=all_or_nothing"),
        "{detail}"
    );
    assert!(
        after.starts_with("code=") && after.ends_with("choice_scoring=weighted"),
        "{detail}"
    );
    let weighted = scheduled(&app, &admin, exam_body()).await;

    // The candidate picks the partly right option, one of the two right
    // signs, and the right true/false answer, in both exams.
    let mut scores = Vec::new();
    for exam in [all_or_nothing, weighted] {
        register(&app, &admin, exam, doctor_id).await;
        let (status, attempt) = app
            .api(
                Method::POST,
                &format!("/api/v1/exams/{exam}/attempts"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{attempt}");
        let id = attempt["id"].as_i64().unwrap();
        for item in attempt["items"].as_array().unwrap() {
            let options: Vec<&str> = item["options"]
                .as_array()
                .map(|o| o.iter().filter_map(|t| t.as_str()).collect())
                .unwrap_or_default();
            let at = |text: &str| options.iter().position(|o| *o == text).unwrap();
            let answer = match item["kind"].as_str().unwrap() {
                "single" => json!([at("Take the temperature")]),
                "multiple" => json!([at("Lethargic")]),
                _ => json!(true),
            };
            let position = item["position"].as_i64().unwrap();
            let (status, ack) = app
                .api(
                    Method::PUT,
                    &format!("/api/v1/attempts/{id}/answers/{position}"),
                    &token,
                    Some(json!({"answer": answer, "seq": 1})),
                )
                .await;
            assert_eq!(status, 200, "{ack}");
        }
        let (status, done) = app
            .api(
                Method::POST,
                &format!("/api/v1/attempts/{id}/submit"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, 200, "{done}");
        let attempt = app
            .ctx
            .db
            .read_blocking(move |conn| Ok(gatekeeper::store::exams::find_attempt(conn, id)?))
            .unwrap()
            .unwrap();
        scores.push((attempt.objective_score, attempt.objective_total));
    }
    // All or nothing: only the true/false question's 2 points. Weighted, as
    // Moodle: half of 2 for the 50% option, half of 2 for one of two right
    // signs, and 2.
    assert_eq!(scores, vec![(Some(2.0), Some(6.0)), (Some(4.0), Some(6.0))]);
}

/// The track row the pipeline needs for registrations.
fn register_track(app: &TestApp, doctor: i64) {
    app.at_stage(doctor, "paediatrics", "written_exam");
}

async fn unchanged_bank_files_are_not_read_again(app: TestApp) {
    let dir = app.data_dir.join("start");
    let file = write(&dir, "demo.toml", BANK);
    let first = banks::import_path(&app.ctx.db, &dir).unwrap();
    assert_eq!(first[0].added, 2);
    assert!(!first[0].file_unchanged);
    // The next start: the same bytes, not read (nor parsed) again.
    let again = banks::import_path(&app.ctx.db, &dir).unwrap();
    assert!(again[0].file_unchanged, "{again:?}");
    assert_eq!(
        again[0].to_string(),
        "demo: file unchanged since the last import"
    );
    // Changed on disk: read, and the change imported.
    write(
        &dir,
        "demo.toml",
        &BANK.replace("Runny nose", "A runny nose"),
    );
    let changed = banks::import_path(&app.ctx.db, &dir).unwrap();
    assert!(!changed[0].file_unchanged);
    assert_eq!(changed[0].new_versions, 1);
    // A file whose bank id clashes with an unchanged one is still refused.
    write(&dir, "other.toml", BANK);
    let err = banks::import_path(&app.ctx.db, &dir)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bank id \"demo\" is used by another file"),
        "{err}"
    );
    let _ = file;
}
