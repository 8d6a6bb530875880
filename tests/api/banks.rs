//! Question banks: checking and importing files (bank format and GIFT) from
//! the command line and at server start, with versions and retiring.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gatekeeper::services::banks;
use gatekeeper::store::banks as stored;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    bank_check_reports_every_problem_with_its_line,
    changed_questions_get_new_versions_and_removed_ones_retire,
    an_import_with_any_bad_file_writes_nothing,
    the_server_loads_question_banks_at_start,
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
        err.contains(&format!("{name}:14: an option is empty")),
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
