//! Training over HTTP: course import (and its errors by file and line),
//! sanitised lessons, progress and the completion rule, quizzes from the
//! practice banks only, workshops with a waiting list and attendance,
//! reminders, records and their CSV, and who may see what.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::RunQueryDsl;
use gatekeeper::domain::banks;
use gatekeeper::services::banks as bank_service;
use gatekeeper::services::courses;
use reqwest::Method;
use serde_json::{Value, json};

use crate::exams::{doctor, load_bank, setup};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, csrf_in};
use crate::on_both_databases;

on_both_databases!(
    a_course_folder_imports_and_a_changed_lesson_must_be_studied_again,
    course_import_errors_name_the_file_and_line,
    lesson_markdown_is_sanitised_in_the_editor_preview_and_the_page,
    training_completes_only_with_lessons_quizzes_and_workshops,
    quizzes_draw_only_practice_questions_and_explain_the_answers,
    a_freed_place_goes_to_the_first_waiting_who_is_told,
    attendance_is_recorded_only_by_the_instructor_or_an_admin,
    one_doctor_cannot_see_anothers_training,
    the_training_record_exports_as_csv,
    workshop_reminders_go_out_the_day_before,
    course_check_reports_what_course_import_would_refuse,
    a_client_marks_a_lesson_studied_at_the_version_the_course_names,
    workshop_sessions_run_through_the_api,
    course_module_and_track_forms_are_checked_by_the_service,
);

const DOCTOR_PASSWORD: &str = "doctor test phrase";

/// A practice bank on topic "fever": six true/false questions whose answer
/// is true, so a test knows the right answers.
fn load_practice_bank(app: &TestApp) {
    import_practice_bank(&app.ctx.db, "Practice statement");
}

/// Imports the practice bank (six true/false questions) whose stems are
/// `stem` and a number, through `db` (any instance's).
pub(crate) fn import_practice_bank(db: &gatekeeper::store::Db, stem: &str) {
    let mut text = String::from(
        "[bank]\nid = \"practice-test\"\ntitle = \"Practice\"\ntrack = \"paediatrics\"\nversion = 1\nuse = \"practice\"\n",
    );
    for i in 0..6 {
        text.push_str(&format!(
            "\n[[questions]]\nid = \"p-{i}\"\nkind = \"true_false\"\ntopic = \"fever\"\ndifficulty = 2\npoints = 1\nstem = \"{stem} {i}\"\nanswer = true\nexplanation = \"practice explanation {i}\"\nreference = \"Practice reference\"\n"
        ));
    }
    let bank = banks::parse(&text).expect("the practice bank parses");
    bank_service::import(db, &[(PathBuf::from("practice.toml"), bank)]).expect("imported");
}

/// The smallest valid PNG (1×1).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

pub(crate) fn lesson_file(title: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\nminutes = 5\n+++\n\n{body}\n")
}

/// A course folder with two modules (the first with a quiz) and three
/// lessons, and a track file requiring it and one workshop.
fn write_course(root: &Path) -> PathBuf {
    let dir = root.join("fever-course");
    std::fs::create_dir_all(dir.join("images")).unwrap();
    std::fs::write(
        dir.join("course.toml"),
        r#"[course]
id = "fever-course"
title = "Fever course"
summary = "Fever in infants."
credit_hours = 2.5
published = true

[[modules]]
id = "assessment"
title = "Assessment"
lessons = ["measuring", "red-flags"]
quiz = { topics = ["fever"], questions = 4, pass_percent = 75 }

[[modules]]
id = "treatment"
title = "Treatment"
lessons = ["antipyretics"]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("measuring.md"),
        lesson_file(
            "Measuring",
            "Use an electronic thermometer.\n\n![thermometer](images/thermometer.png)",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("red-flags.md"),
        lesson_file("Red flags", "Under 3 months and 38 °C is a red flag."),
    )
    .unwrap();
    std::fs::write(
        dir.join("antipyretics.md"),
        lesson_file(
            "Antipyretics",
            "| drug | dose |\n|---|---|\n| paracetamol | 15 mg/kg |",
        ),
    )
    .unwrap();
    std::fs::write(dir.join("images/thermometer.png"), PNG).unwrap();
    std::fs::write(
        root.join("paediatrics.track.toml"),
        "[track]\nid = \"paediatrics\"\ntitle = \"Paediatrics\"\nvalidity_months = 24\nrenewal_credit_hours = 12\ncourses = [\"fever-course\"]\n\n[[workshops]]\nid = \"resus\"\ntitle = \"Resuscitation skills\"\n",
    )
    .unwrap();
    dir
}

/// Banks, the course and the track, as the server loads them at start.
pub(crate) fn load_training(app: &TestApp) -> PathBuf {
    load_bank(app);
    load_practice_bank(app);
    let root = app.data_dir.join("courses");
    let dir = write_course(&root);
    courses::import_path(&app.ctx.db, &root).expect("course imported");
    dir
}

pub(crate) async fn browser_for(app: &TestApp, email: &str) -> reqwest::Client {
    let client = app.new_browser();
    let res = app.sign_in(&client, email, DOCTOR_PASSWORD).await;
    assert_eq!(res.status(), 303, "{email} signs in");
    client
}

pub(crate) async fn admin_browser(app: &TestApp) -> reqwest::Client {
    let client = app.new_browser();
    let res = app.sign_in(&client, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 303);
    client
}

pub(crate) async fn study(app: &TestApp, client: &reqwest::Client, lesson: &str) {
    let path = format!("/courses/fever-course/lessons/{lesson}");
    let (status, html) = app.page(client, &path).await;
    assert_eq!(status, 200, "{html}");
    let version = html
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page carries the lesson version")
        .to_owned();
    let res = app
        .submit(
            client,
            &path,
            &format!("{path}/studied"),
            &[("version", &version)],
        )
        .await;
    assert_eq!(res.status(), 303, "{lesson} marked studied");
}

async fn progress(app: &TestApp, token: &str) -> Value {
    let (status, body) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/progress",
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn studied_lessons(progress: &Value) -> Vec<String> {
    progress["courses"][0]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap().clone())
        .filter(|l| l["studied"] == true)
        .map(|l| l["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_course_folder_imports_and_a_changed_lesson_must_be_studied_again(app: TestApp) {
    let (_admin, _, token) = setup(&app).await;
    let dir = load_training(&app);
    let li = browser_for(&app, "li@longxi.example").await;

    // The lesson page shows the rendered lesson with its image from the course.
    let (status, html) = app
        .page(&li, "/courses/fever-course/lessons/measuring")
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains(r#"src="/media/fever-course/thermometer.png""#),
        "{html}"
    );
    let image = li
        .get(app.url("/media/fever-course/thermometer.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), PNG);
    let (_, table) = app
        .page(&li, "/courses/fever-course/lessons/antipyretics")
        .await;
    assert!(table.contains("<td>paracetamol</td>"), "tables render");

    study(&app, &li, "measuring").await;
    study(&app, &li, "red-flags").await;
    let before = progress(&app, &token).await;
    assert_eq!(studied_lessons(&before), vec!["measuring", "red-flags"]);
    assert_eq!(before["courses"][0]["version"], 1);

    // The author changes one lesson and re-imports the folder.
    std::fs::write(
        dir.join("red-flags.md"),
        lesson_file(
            "Red flags",
            "Under 3 months and 38 °C or more is a red flag: refer.",
        ),
    )
    .unwrap();
    let summary = courses::import_path(&app.ctx.db, &dir).expect("re-import");
    assert_eq!(
        (summary[0].added, summary[0].changed, summary[0].unchanged),
        (0, 1, 2)
    );

    let after = progress(&app, &token).await;
    assert_eq!(
        after["courses"][0]["version"], 2,
        "a changed course gets a new version"
    );
    assert_eq!(
        studied_lessons(&after),
        vec!["measuring"],
        "progress kept only on the unchanged lesson"
    );
    assert_eq!(
        after["next"]["url"],
        "/courses/fever-course/lessons/red-flags"
    );

    // A page opened before the change cannot mark the new version studied.
    let res = app
        .submit(
            &li,
            "/courses/fever-course/lessons/red-flags",
            "/courses/fever-course/lessons/red-flags/studied",
            &[("version", "1")],
        )
        .await;
    assert_eq!(res.status(), 409);

    // Removing a lesson from the manifest retires it.
    let manifest = std::fs::read_to_string(dir.join("course.toml")).unwrap();
    std::fs::write(
        dir.join("course.toml"),
        manifest
            .replace("[\"antipyretics\"]", "[\"antipyretics\", \"red-flags-2\"]")
            .replace("[\"measuring\", \"red-flags\"]", "[\"measuring\"]"),
    )
    .unwrap();
    std::fs::write(
        dir.join("red-flags-2.md"),
        lesson_file("Red flags again", "Text."),
    )
    .unwrap();
    let summary = courses::import_path(&app.ctx.db, &dir).expect("third import");
    assert_eq!((summary[0].added, summary[0].retired), (1, 1));
    let (status, _) = app
        .page(&li, "/courses/fever-course/lessons/red-flags")
        .await;
    assert_eq!(status, 404, "a retired lesson is gone from the course");
}

async fn course_import_errors_name_the_file_and_line(app: TestApp) {
    let root = app.data_dir.join("bad");
    let dir = write_course(&root);
    // A lesson with an unknown front-matter key on line 4, a missing lesson
    // file, and a lesson naming an image that is not there.
    std::fs::write(
        dir.join("red-flags.md"),
        "+++\ntitle = \"Red flags\"\nminutes = 5\nauthor = \"me\"\n+++\ntext\n",
    )
    .unwrap();
    std::fs::remove_file(dir.join("antipyretics.md")).unwrap();
    std::fs::remove_file(dir.join("images/thermometer.png")).unwrap();

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatekeeper"))
        .args(["course", "check", root.to_str().unwrap()])
        .env("GATEKEEPER_DATA_DIR", &app.data_dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("red-flags.md:4:"), "{err}");
    assert!(
        err.contains("course.toml:14:") && err.contains("antipyretics.md is missing"),
        "{err}"
    );
    assert!(
        err.contains("measuring.md:8:") && err.contains("thermometer.png"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");

    // Through the library too, and nothing is written.
    let e = courses::import_path(&app.ctx.db, &root).expect_err("refused");
    assert!(e.to_string().contains("red-flags.md:4"), "{e}");
    assert_eq!(app.count("courses"), 0);
    assert_eq!(app.count("lessons"), 0);

    // A quiz the practice banks cannot fill is refused by module line.
    let root = app.data_dir.join("good");
    write_course(&root);
    let e = courses::import_path(&app.ctx.db, &root).expect_err("no practice questions");
    assert!(
        e.to_string().contains("course.toml:8") && e.to_string().contains("quiz needs 4"),
        "{e}"
    );
    assert_eq!(
        app.count("courses"),
        0,
        "one transaction: nothing half written"
    );
}

async fn lesson_markdown_is_sanitised_in_the_editor_preview_and_the_page(app: TestApp) {
    app.create_admin();
    load_training(&app);
    let admin = admin_browser(&app).await;
    let evil = "Safe **text**.\n\n<script>alert('x')</script>\n\n<img src=\"x.png\" onerror=\"alert(1)\">\n\n<a href=\"javascript:alert(2)\" onclick=\"alert(3)\">link</a>\n";
    let fields = [
        ("module", "treatment"),
        ("key", "evil"),
        ("title", "Evil"),
        ("minutes", "3"),
        ("video", ""),
        ("markdown", evil),
    ];
    let editor = "/admin/courses/fever-course/lessons/new";
    let mut preview: Vec<(&str, &str)> = fields.to_vec();
    preview.push(("action", "preview"));
    let res = app
        .submit(
            &admin,
            editor,
            "/admin/courses/fever-course/lessons",
            &preview,
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let shown = html
        .split("id=\"lesson-preview\"")
        .nth(1)
        .expect("a preview");
    assert!(shown.contains("<strong>text</strong>"));
    for bad in ["<script", "onerror", "onclick", "javascript:"] {
        assert!(!shown.contains(bad), "{bad} in the preview");
    }
    assert_eq!(app.count("lessons"), 3, "a preview saves nothing");

    let mut save: Vec<(&str, &str)> = fields.to_vec();
    save.push(("action", "save"));
    let res = app
        .submit(&admin, editor, "/admin/courses/fever-course/lessons", &save)
        .await;
    assert_eq!(res.status(), 303);
    let (status, page) = app.page(&admin, "/courses/fever-course/lessons/evil").await;
    assert_eq!(status, 200);
    let body = page.split("class=\"lesson-body\"").nth(1).unwrap();
    let body = body.split("id=\"lesson-end\"").next().unwrap();
    for bad in ["<script", "alert", "onerror", "onclick", "javascript:"] {
        assert!(!body.contains(bad), "{bad} in the lesson page");
    }
    assert!(body.contains("<img src=\"x.png\""), "harmless markup stays");

    // A bad edit names its field and saves nothing.
    let res = app
        .submit(
            &admin,
            editor,
            "/admin/courses/fever-course/lessons",
            &[
                ("module", "treatment"),
                ("key", "Bad Key"),
                ("title", "t"),
                ("minutes", "3"),
                ("markdown", "x"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("aria-invalid"));
    assert_eq!(app.count("lessons"), 4);
}

/// Schedules a session of the track's workshop through the admin page, as
/// a minute in the future, and returns its id.
pub(crate) async fn schedule_session(
    app: &TestApp,
    admin: &reqwest::Client,
    capacity: &str,
    instructor: i64,
) -> i64 {
    let (_, page) = app.page(admin, "/admin/training").await;
    let workshop = page
        .split("name=\"workshop_id\"")
        .nth(1)
        .and_then(|s| s.split("<option value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("a workshop to choose")
        .to_owned();
    let tz = chrono_tz::Asia::Shanghai;
    let start = (chrono::Utc::now() + chrono::Duration::hours(30)).with_timezone(&tz);
    let end = start + chrono::Duration::hours(3);
    let fmt = |t: chrono::DateTime<chrono_tz::Tz>| t.format("%Y-%m-%dT%H:%M").to_string();
    let res = app
        .submit(
            admin,
            "/admin/training",
            "/admin/workshop-sessions",
            &[
                ("workshop_id", &workshop),
                ("starts_at", &fmt(start)),
                ("ends_at", &fmt(end)),
                ("place", "Longxi CHC, room 2"),
                ("capacity", capacity),
                ("instructor_id", &instructor.to_string()),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    location.rsplit('/').next().unwrap().parse().unwrap()
}

/// Moves a session's start (time passing, as far as the rules can tell).
pub(crate) fn start_session_in(app: &TestApp, session: i64, seconds: i64) {
    let sql = match app.backend {
        Backend::Sqlite => format!(
            "UPDATE workshop_sessions SET starts_at = datetime('now', '{seconds} seconds') WHERE id = {session}"
        ),
        Backend::Postgres => format!(
            "UPDATE workshop_sessions SET starts_at = (now() at time zone 'utc') + interval '{seconds} seconds' WHERE id = {session}"
        ),
    };
    app.ctx
        .db
        .write_blocking(|conn| Ok(diesel::sql_query(sql).execute(conn)?))
        .unwrap();
}

pub(crate) async fn sign_up(app: &TestApp, client: &reqwest::Client, session: i64) -> u16 {
    app.submit(
        client,
        "/workshops",
        &format!("/workshops/sessions/{session}/sign-up"),
        &[],
    )
    .await
    .status()
    .as_u16()
}

pub(crate) async fn take_quiz(app: &TestApp, client: &reqwest::Client, answer: &str) -> String {
    let res = app
        .submit(
            client,
            "/courses/fever-course",
            "/courses/fever-course/modules/assessment/quiz",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let quiz = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.page(client, &quiz).await;
    assert_eq!(
        html.matches("type=\"radio\" name=\"q").count(),
        8,
        "four true/false questions"
    );
    let fields: Vec<(String, String)> = (0..4)
        .map(|i| (format!("q{i}"), answer.to_owned()))
        .collect();
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let res = app.submit(client, &quiz, &quiz, &borrowed).await;
    assert_eq!(res.status(), 303);
    let (_, result) = app.page(client, &quiz).await;
    result
}

async fn training_completes_only_with_lessons_quizzes_and_workshops(app: TestApp) {
    let (admin_token, li_id, token) = setup(&app).await;
    load_training(&app);
    let admin = admin_browser(&app).await;
    let li = browser_for(&app, "li@longxi.example").await;

    // Enrol from "My training"; the next step is the first lesson.
    let res = app
        .submit(&li, "/learn", "/tracks/paediatrics/enrol", &[])
        .await;
    assert_eq!(res.status(), 303);
    let p = progress(&app, &token).await;
    assert_eq!(p["track"]["enrolled"], true);
    assert_eq!(p["complete"], false);
    assert_eq!(p["next"]["url"], "/courses/fever-course/lessons/measuring");

    for lesson in ["measuring", "red-flags", "antipyretics"] {
        study(&app, &li, lesson).await;
    }
    let p = progress(&app, &token).await;
    assert_eq!(
        p["complete"], false,
        "the quiz and the workshop are still to do"
    );
    assert_eq!(p["next"]["kind"], "quiz");

    // A failed quiz does not count; retries are unlimited; a pass counts.
    let failed = take_quiz(&app, &li, "false").await;
    assert!(failed.contains("id=\"quiz-failed\""), "{failed}");
    assert_eq!(progress(&app, &token).await["next"]["kind"], "quiz");
    let passed = take_quiz(&app, &li, "true").await;
    assert!(passed.contains("id=\"quiz-passed\""));
    let p = progress(&app, &token).await;
    assert_eq!(p["courses"][0]["progress"]["complete"], true);
    assert_eq!(p["complete"], false, "the workshop is required too");
    assert_eq!(p["next"]["kind"], "workshop");

    // The workshop: sign up, the session starts, the instructor (here the
    // admin) records attendance.
    let session = schedule_session(&app, &admin, "10", 1).await;
    assert_eq!(sign_up(&app, &li, session).await, 303);
    start_session_in(&app, session, -60);
    let roster = format!("/workshops/sessions/{session}");
    let res = app
        .submit(
            &admin,
            &roster,
            &format!("{roster}/attendance"),
            &[("person_id", &li_id.to_string()), ("attended", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let p = progress(&app, &token).await;
    assert_eq!(p["complete"], true, "{p}");
    assert!(p["next"].is_null());
    let (_, page) = app.page(&li, "/tracks/paediatrics").await;
    assert!(page.contains("id=\"training-complete\""));
    // An admin sees the same through the API.
    let (_, seen) = app
        .api(
            Method::GET,
            &format!("/api/v1/tracks/paediatrics/progress?person_id={li_id}"),
            &admin_token,
            None,
        )
        .await;
    assert_eq!(seen["complete"], true);
}

async fn quizzes_draw_only_practice_questions_and_explain_the_answers(app: TestApp) {
    let (_, _, token) = setup(&app).await;
    load_training(&app);
    let (status, quiz) = app
        .api(
            Method::POST,
            "/api/v1/courses/fever-course/modules/assessment/quizzes",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 201, "{quiz}");
    let text = quiz.to_string();
    assert!(text.contains("Practice statement"));
    // The exam bank (same topic) never feeds a quiz, and nothing of the key
    // is in the quiz before it is submitted.
    for secret in ["secret", "practice explanation", "\"correct", "answer\":"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let answers: Vec<Value> = (0..4)
        .map(|i| json!({"position": i, "answer": i % 2 == 0}))
        .collect();
    let id = quiz["id"].as_i64().unwrap();
    let (status, result) = app
        .api(
            Method::POST,
            &format!("/api/v1/quizzes/{id}/submit"),
            &token,
            Some(json!({"answers": answers})),
        )
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["score"], 2);
    assert_eq!(result["passed"], false);
    assert!(
        result["items"][0]["explanation"]
            .as_str()
            .unwrap()
            .starts_with("practice explanation")
    );
    assert_eq!(result["items"][1]["correct"], false);
    assert_eq!(result["items"][1]["correct_answer"], true);
    // Submitting again returns the same result and changes nothing.
    let (_, again) = app
        .api(
            Method::POST,
            &format!("/api/v1/quizzes/{id}/submit"),
            &token,
            Some(json!({"answers": []})),
        )
        .await;
    assert_eq!(again["score"], 2);
    // A retry is a fresh draw.
    let (_, second) = app
        .api(
            Method::POST,
            "/api/v1/courses/fever-course/modules/assessment/quizzes",
            &token,
            None,
        )
        .await;
    assert_ne!(second["id"], quiz["id"]);
    // An answer to a question the quiz does not have is refused.
    let sid = second["id"].as_i64().unwrap();
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/quizzes/{sid}/submit"),
            &token,
            Some(json!({"answers": [{"position": 9, "answer": true}]})),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "answers");
}

async fn a_freed_place_goes_to_the_first_waiting_who_is_told(app: TestApp) {
    let (admin_token, _, _) = setup(&app).await;
    load_training(&app);
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin_token, None)
        .await;
    let inst = inst[0]["id"].as_i64().unwrap();
    doctor(&app, &admin_token, inst, "wang").await;
    doctor(&app, &admin_token, inst, "zhao").await;
    let admin = admin_browser(&app).await;
    let session = schedule_session(&app, &admin, "1", 1).await;
    let li = browser_for(&app, "li@longxi.example").await;
    let wang = browser_for(&app, "wang@longxi.example").await;
    let zhao = browser_for(&app, "zhao@longxi.example").await;

    assert_eq!(sign_up(&app, &li, session).await, 303);
    assert_eq!(sign_up(&app, &wang, session).await, 303);
    assert_eq!(sign_up(&app, &zhao, session).await, 303);
    let (_, page) = app.page(&wang, "/workshops").await;
    assert!(
        page.contains("On the waiting list") || page.contains("候补中"),
        "{page}"
    );
    assert!(
        app.mail_to("wang@longxi.example")
            .iter()
            .all(|m| !m.subject.contains("Resuscitation"))
    );

    // Li cancels: Wang (first to wait) gets the place and an email; Zhao waits.
    let res = app
        .submit(
            &li,
            "/workshops",
            &format!("/workshops/sessions/{session}/cancel"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, roster) = app
        .page(&admin, &format!("/workshops/sessions/{session}"))
        .await;
    let row = |name: &str| {
        roster
            .split("<tr><td>")
            .find(|r| r.starts_with(name))
            .map(|r| r.split("</td>").nth(1).unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    assert!(
        row("wang").contains("Place booked") || row("wang").contains("已报名"),
        "{roster}"
    );
    assert!(
        row("zhao").contains("waiting") || row("zhao").contains("候补"),
        "{roster}"
    );
    assert!(
        !roster.contains("<tr><td>li</td>"),
        "a cancelled place leaves the list"
    );
    let mail = app.mail_to("wang@longxi.example");
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("Resuscitation skills")),
        "Wang is told"
    );
    assert!(
        app.mail_to("zhao@longxi.example")
            .iter()
            .all(|m| !m.subject.contains("Resuscitation"))
    );

    // Signing up twice keeps one place; nobody signs up once it has started.
    assert_eq!(sign_up(&app, &wang, session).await, 303);
    assert_eq!(app.count("session_signups"), 3);
    start_session_in(&app, session, -1);
    assert_eq!(sign_up(&app, &li, session).await, 409);
}

async fn attendance_is_recorded_only_by_the_instructor_or_an_admin(app: TestApp) {
    let (admin_token, li_id, _) = setup(&app).await;
    load_training(&app);
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin_token, None)
        .await;
    let inst = inst[0]["id"].as_i64().unwrap();
    let (status, teacher) = app
        .api(Method::POST, "/api/v1/people", &admin_token, Some(json!({"email": "teacher@longxi.example", "name": "Teacher", "roles": ["instructor"]})))
        .await;
    assert_eq!(status, 201, "{teacher}");
    let link = app.setup_token("teacher@longxi.example");
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": DOCTOR_PASSWORD})),
    )
    .await;
    doctor(&app, &admin_token, inst, "wang").await;

    let admin = admin_browser(&app).await;
    let session = schedule_session(&app, &admin, "5", teacher["id"].as_i64().unwrap()).await;
    let li = browser_for(&app, "li@longxi.example").await;
    let wang = browser_for(&app, "wang@longxi.example").await;
    assert_eq!(sign_up(&app, &li, session).await, 303);
    let roster = format!("/workshops/sessions/{session}");
    let mark = |client: reqwest::Client, attended: &'static str| {
        let roster = roster.clone();
        let app = &app;
        async move {
            let (_, page) = app.page(&client, "/workshops").await;
            let csrf = csrf_in(&page).unwrap();
            client
                .post(app.url(&format!("{roster}/attendance")))
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("person_id", &li_id.to_string()),
                    ("attended", attended),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    // Before the session starts nobody records attendance.
    let teacher_browser = browser_for(&app, "teacher@longxi.example").await;
    assert_eq!(mark(teacher_browser.clone(), "true").await, 409);
    start_session_in(&app, session, -60);

    // Another doctor sees neither the list nor can mark anyone.
    let (status, _) = app.page(&wang, &roster).await;
    assert_eq!(status, 403);
    assert_eq!(mark(wang.clone(), "true").await, 403);
    assert_eq!(mark(li.clone(), "true").await, 403, "not even oneself");
    let p = progress(
        &app,
        &app.token_for("li@longxi.example", DOCTOR_PASSWORD).await,
    )
    .await;
    assert_eq!(p["workshops"][0]["attended"], false);

    // The session's instructor does.
    let (status, page) = app.page(&teacher_browser, &roster).await;
    assert_eq!(status, 200);
    assert!(page.contains("<td>li</td>"));
    assert_eq!(mark(teacher_browser.clone(), "true").await, 303);
    let p = progress(
        &app,
        &app.token_for("li@longxi.example", DOCTOR_PASSWORD).await,
    )
    .await;
    assert_eq!(p["workshops"][0]["attended"], true);
    // Only a booked doctor can be marked.
    let (_, page) = app.page(&teacher_browser, &roster).await;
    let csrf = csrf_in(&page).unwrap();
    let res = teacher_browser
        .post(app.url(&format!("{roster}/attendance")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("person_id", "999"),
            ("attended", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
}

async fn one_doctor_cannot_see_anothers_training(app: TestApp) {
    let (admin_token, li_id, li_token) = setup(&app).await;
    load_training(&app);
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin_token, None)
        .await;
    let (_, wang_token) = doctor(&app, &admin_token, inst[0]["id"].as_i64().unwrap(), "wang").await;

    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/training-record?person_id={li_id}"),
            &wang_token,
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/tracks/paediatrics/progress?person_id={li_id}"),
            &wang_token,
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, own) = app
        .api(Method::GET, "/api/v1/training-record", &wang_token, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(own["name"], "wang");

    // Li's quiz: Wang can neither see nor submit it, and nothing is written.
    let (_, quiz) = app
        .api(
            Method::POST,
            "/api/v1/courses/fever-course/modules/assessment/quizzes",
            &li_token,
            None,
        )
        .await;
    let id = quiz["id"].as_i64().unwrap();
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/quizzes/{id}/submit"),
            &wang_token,
            Some(json!({"answers": []})),
        )
        .await;
    assert_eq!(status, 403);
    let wang = browser_for(&app, "wang@longxi.example").await;
    let (status, _) = app.page(&wang, &format!("/quizzes/{id}")).await;
    assert_eq!(status, 403);
    let (_, record) = app
        .api(Method::GET, "/api/v1/training-record", &li_token, None)
        .await;
    assert_eq!(
        record["quizzes"].as_array().unwrap().len(),
        0,
        "Li's quiz is still open"
    );
    // Admin pages and CSVs are for admins.
    let (status, _) = app
        .page(&wang, &format!("/admin/people/{li_id}/training"))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.page(&wang, "/admin/institutions/1/training.csv").await;
    assert_eq!(status, 403);
    let (status, _) = app.page(&wang, "/admin/training").await;
    assert_eq!(status, 403);
}

async fn the_training_record_exports_as_csv(app: TestApp) {
    let (admin_token, _, li_token) = setup(&app).await;
    load_training(&app);
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin_token, None)
        .await;
    let inst = inst[0]["id"].as_i64().unwrap();
    doctor(&app, &admin_token, inst, "wang").await;
    let li = browser_for(&app, "li@longxi.example").await;
    app.submit(&li, "/learn", "/tracks/paediatrics/enrol", &[])
        .await;
    for lesson in ["measuring", "red-flags", "antipyretics"] {
        study(&app, &li, lesson).await;
    }
    take_quiz(&app, &li, "true").await;

    let res = li.get(app.url("/record.csv")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "name,email,institution,type,course,item,status,score,minutes_studied,credit_hours,date,complete"
    );
    assert_eq!(
        lines[1],
        "li,li@longxi.example,Longxi CHC,course,Fever course,,\"3/3 lessons, 1/1 quizzes\",,15,2.5,,yes"
    );
    assert!(
        lines[2].starts_with(
            "li,li@longxi.example,Longxi CHC,quiz,Fever course,Assessment,passed,4/4,"
        ),
        "{csv}"
    );
    assert_eq!(lines.len(), 3);
    let (_, record) = app
        .api(Method::GET, "/api/v1/training-record", &li_token, None)
        .await;
    assert_eq!(record["credit_hours"], 2.5);
    assert_eq!(record["hours_studied"], 0.25);

    // The institution's CSV has every doctor of it.
    let admin = admin_browser(&app).await;
    let (status, csv) = app
        .page(&admin, &format!("/admin/institutions/{inst}/training.csv"))
        .await;
    assert_eq!(status, 200);
    assert!(csv.contains("li,li@longxi.example,Longxi CHC,course,Fever course"));
    assert!(csv.contains("li,li@longxi.example,Longxi CHC,quiz"));
    assert!(
        !csv.contains("wang,"),
        "Wang has studied nothing and is enrolled in nothing: {csv}"
    );
    app.api(
        Method::POST,
        "/api/v1/tracks/paediatrics/enrolments",
        &admin_token,
        Some(json!({"person_id": 3})),
    )
    .await;
    let (_, csv) = app
        .page(&admin, &format!("/admin/institutions/{inst}/training.csv"))
        .await;
    assert!(csv.contains("wang,wang@longxi.example,Longxi CHC,course,Fever course,,\"0/3 lessons, 0/1 quizzes\",,0,0,,no"), "{csv}");
}

async fn workshop_reminders_go_out_the_day_before(app: TestApp) {
    let (_, _, _) = setup(&app).await;
    load_training(&app);
    let admin = admin_browser(&app).await;
    let session = schedule_session(&app, &admin, "5", 1).await;
    let li = browser_for(&app, "li@longxi.example").await;
    sign_up(&app, &li, session).await;
    let reminders = |app: &TestApp| {
        app.mail_to("li@longxi.example")
            .iter()
            .filter(|m| m.subject.contains("Resuscitation"))
            .count()
    };
    let tz = app.ctx.settings.time_zone;
    // 30 hours ahead: not yet.
    assert_eq!(
        gatekeeper::services::training::send_reminders(&app.ctx.db, tz).unwrap(),
        0
    );
    assert_eq!(reminders(&app), 0);
    // 20 hours ahead: the background job sends it, once, however often it
    // (or another instance) runs.
    start_session_in(&app, session, 20 * 3600);
    let mut waited = 0;
    while reminders(&app) < 1 && waited < 100 {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(reminders(&app), 1, "the job sends it");
    assert_eq!(
        gatekeeper::services::training::send_reminders(&app.ctx.db, tz).unwrap(),
        0
    );
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reminders(&app), 1, "only once");
    let mail = &app.mail_to("li@longxi.example")[0];
    assert!(mail.body_text.contains("Longxi CHC, room 2"));
}

/// `course check` with a question bank folder: its errors on stderr.
fn course_check(app: &TestApp, root: &Path, banks: &Path) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatekeeper"))
        .args(["course", "check", root.to_str().unwrap()])
        .env("GATEKEEPER_DATA_DIR", &app.data_dir)
        .env("GATEKEEPER_QUESTION_BANKS", banks)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn course_check_reports_what_course_import_would_refuse(app: TestApp) {
    let root = app.data_dir.join("check");
    let dir = write_course(&root);
    std::fs::write(dir.join("images/thermometer.png"), PNG).unwrap();
    let banks_dir = app.data_dir.join("banks");
    std::fs::create_dir_all(&banks_dir).unwrap();
    // A lesson saved in GBK by a Windows editor: reported as not UTF-8, at
    // the line of the first bad byte, not as missing.
    let mut gbk = b"+++\ntitle = \"Antipyretics\"\nminutes = 5\n+++\n\n".to_vec();
    gbk.extend_from_slice(&[0xb7, 0xa2, 0xc8, 0xc8, b'\n']);
    std::fs::write(dir.join("antipyretics.md"), gbk).unwrap();
    // Quotes nested nine deep (rendering would be quadratic), at line 8.
    std::fs::write(
        dir.join("red-flags.md"),
        lesson_file(
            "Red flags",
            &format!("Fine.\n\n{}Too deep.", "> ".repeat(9)),
        ),
    )
    .unwrap();
    let (ok, _, err) = course_check(&app, &root, &banks_dir);
    assert!(!ok);
    assert!(
        err.contains("antipyretics.md:6: the lesson is not UTF-8 text"),
        "{err}"
    );
    assert!(!err.contains("missing"), "{err}");
    assert!(
        err.contains("red-flags.md:8: quotes nested 9 deep"),
        "{err}"
    );

    // Fixed lessons: the quiz is checked against the practice banks of the
    // bank folder, as the import would check it.
    write_course(&root);
    std::fs::write(dir.join("images/thermometer.png"), PNG).unwrap();
    let (ok, _, err) = course_check(&app, &root, &banks_dir);
    assert!(!ok);
    assert!(
        err.contains(
            "course.toml:8: module \"assessment\": the quiz needs 4 questions but the practice banks have 0 on fever"
        ),
        "{err}"
    );
    let mut bank = String::from(
        "[bank]\nid = \"practice-test\"\ntitle = \"Practice\"\ntrack = \"paediatrics\"\nversion = 1\nuse = \"practice\"\n",
    );
    for i in 0..4 {
        bank.push_str(&format!(
            "\n[[questions]]\nid = \"p-{i}\"\nkind = \"true_false\"\ntopic = \"fever\"\ndifficulty = 2\npoints = 1\nstem = \"Practice statement {i}\"\nanswer = true\nexplanation = \"e\"\nreference = \"r\"\n"
        ));
    }
    std::fs::write(banks_dir.join("practice.toml"), bank).unwrap();
    let (ok, out, err) = course_check(&app, &root, &banks_dir);
    assert!(ok, "{err}");
    assert!(
        out.contains("ok, course \"fever-course\" with 3 lessons"),
        "{out}"
    );
    assert_eq!(app.count("courses"), 0, "checking writes nothing");
}

/// An integrator's client studies through the API alone: the course
/// document names each lesson's version, which "studied" takes; a version
/// that is not the lesson's is refused.
async fn a_client_marks_a_lesson_studied_at_the_version_the_course_names(app: TestApp) {
    let (_admin, _, token) = setup(&app).await;
    load_training(&app);
    let (status, enrolled) = app
        .api(
            Method::POST,
            "/api/v1/tracks/paediatrics/enrolments",
            &token,
            Some(json!({})),
        )
        .await;
    assert!((200..300).contains(&status), "{enrolled}");
    let (status, course) = app
        .api(Method::GET, "/api/v1/courses/fever-course", &token, None)
        .await;
    assert_eq!(status, 200, "{course}");
    let lesson = course["modules"][0]["lessons"][0].clone();
    let key = lesson["key"].as_str().unwrap().to_owned();
    let version = lesson["version"].as_i64().expect("the lesson's version");
    assert_eq!(lesson["studied"], false);
    let studied = |version: i64| {
        let app = &app;
        let token = token.clone();
        let key = key.clone();
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/courses/fever-course/lessons/{key}/studied"),
                &token,
                Some(json!({"version": version})),
            )
            .await
            .0
        }
    };
    assert_eq!(studied(version + 1).await, 409, "not a version that exists");
    assert!((200..300).contains(&studied(version).await));
    let (_, course) = app
        .api(Method::GET, "/api/v1/courses/fever-course", &token, None)
        .await;
    assert_eq!(course["modules"][0]["lessons"][0]["studied"], true);
}

/// What the workshop pages do, through the API: schedule, sign up, the
/// waiting list, cancel (the first waiting gets the place), the roster,
/// attendance once the session has started.
async fn workshop_sessions_run_through_the_api(app: TestApp) {
    let (admin, _, li) = setup(&app).await;
    load_training(&app);
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let inst = inst[0]["id"].as_i64().unwrap();
    let (wang_id, wang) = doctor(&app, &admin, inst, "wang").await;
    let (_, progress) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/progress",
            &li,
            None,
        )
        .await;
    let workshop = progress["workshops"][0]["id"].as_i64().expect("a workshop");
    let start = chrono::Utc::now() + chrono::Duration::hours(30);
    let body = |capacity: i64| {
        json!({"workshop_id": workshop, "starts_at": start.to_rfc3339(),
               "ends_at": (start + chrono::Duration::hours(3)).to_rfc3339(),
               "place": "Longxi CHC, room 2", "capacity": capacity, "instructor_id": 1})
    };
    let (status, err) = app
        .api(
            Method::POST,
            "/api/v1/workshop-sessions",
            &admin,
            Some(body(0)),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].clone()),
        (422, json!("capacity"))
    );
    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/workshop-sessions",
            &li,
            Some(body(1))
        )
        .await
        .0,
        403,
        "a doctor schedules nothing"
    );
    let (status, created) = app
        .api(
            Method::POST,
            "/api/v1/workshop-sessions",
            &admin,
            Some(body(1)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let session = created["id"].as_i64().unwrap();
    let act = |token: String, what: &'static str| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/workshop-sessions/{session}/{what}"),
                &token,
                None,
            )
            .await
        }
    };
    assert_eq!(
        act(li.clone(), "sign-up").await.1,
        json!({"status": "booked"})
    );
    assert_eq!(
        act(wang.clone(), "sign-up").await.1,
        json!({"status": "waiting"})
    );
    let mine = |token: String| {
        let app = &app;
        async move {
            let (_, list) = app
                .api(Method::GET, "/api/v1/workshop-sessions", &token, None)
                .await;
            list.as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == session)
                .cloned()
                .expect("the session is listed")
        }
    };
    let seen = mine(wang.clone()).await;
    assert_eq!(
        (seen["booked"].clone(), seen["waiting"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(seen["my_status"], "waiting");
    let mails = app.mail_to("wang@longxi.example").len();
    assert_eq!(act(li.clone(), "cancel").await.0, 204);
    assert_eq!(
        mine(wang.clone()).await["my_status"],
        "booked",
        "the first waiting gets it"
    );
    assert_eq!(
        app.mail_to("wang@longxi.example").len(),
        mails + 1,
        "and is told"
    );
    let (status, roster) = app
        .api(
            Method::GET,
            &format!("/api/v1/workshop-sessions/{session}/roster"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{roster}");
    assert!(roster.to_string().contains("wang"), "{roster}");
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/workshop-sessions/{session}/roster"),
            &li,
            None
        )
        .await
        .0,
        403,
        "a doctor reads no roster"
    );
    let (status, body) = app
        .api(
            Method::PUT,
            &format!("/api/v1/workshop-sessions/{session}/attendance/{wang_id}"),
            &admin,
            Some(json!({"attended": true})),
        )
        .await;
    assert_eq!(status, 409, "not before it starts: {body}");
}

/// The ids of the form controls a page marks invalid, in page order.
fn invalid_controls(html: &str) -> Vec<String> {
    html.split('<')
        .filter(|tag| tag.starts_with("input ") || tag.starts_with("textarea "))
        .map(|tag| tag.split('>').next().unwrap_or(""))
        .filter(|tag| tag.contains("aria-invalid=\"true\""))
        .filter_map(|tag| {
            tag.split("id=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect()
}

/// The admin's course, module and track forms break the same rules as the
/// files, and the service checks them (the page only reads the text):
/// every problem is reported at once, each field is marked, nothing is
/// written; a field that is not a number is named before the rules run.
async fn course_module_and_track_forms_are_checked_by_the_service(app: TestApp) {
    app.create_admin();
    load_training(&app);
    let admin = admin_browser(&app).await;
    let courses = app.count("courses");
    let course = |key, title, hours| {
        vec![
            ("key", key),
            ("title", title),
            ("summary", ""),
            ("credit_hours", hours),
        ]
    };

    let res = app
        .submit(
            &admin,
            "/admin/training",
            "/admin/courses",
            &course("Bad Key", " ", "201"),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        invalid_controls(&html),
        ["course-key", "course-title", "credit_hours"]
    );
    assert_eq!(app.count("courses"), courses, "nothing written");
    let res = app
        .submit(
            &admin,
            "/admin/training",
            "/admin/courses",
            &course("burns", "Burns", "many"),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        invalid_controls(&res.text().await.unwrap()),
        ["credit_hours"]
    );
    let res = app
        .submit(
            &admin,
            "/admin/training",
            "/admin/courses",
            &course("burns", "Burns", "2"),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("courses"), courses + 1);

    let modules = app.count("course_modules");
    let module = |questions, pass| {
        vec![
            ("key", "first-aid"),
            ("title", "First aid"),
            ("quiz_topics", "fever"),
            ("quiz_questions", questions),
            ("quiz_pass_percent", pass),
        ]
    };
    let res = app
        .submit(
            &admin,
            "/admin/courses/burns",
            "/admin/courses/burns/modules",
            &module("51", "0"),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        invalid_controls(&html),
        ["quiz_questions", "quiz_pass_percent"]
    );
    assert_eq!(app.count("course_modules"), modules, "nothing written");
    let res = app
        .submit(
            &admin,
            "/admin/courses/burns",
            "/admin/courses/burns/modules",
            &module("2", "50"),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("course_modules"), modules + 1);

    let tracks = app.count("tracks");
    let res = app
        .submit(
            &admin,
            "/admin/tracks/new",
            "/admin/tracks",
            &[
                ("key", "burns-care"),
                ("title", "Burns care"),
                ("description", ""),
                ("validity_months", "0"),
                ("renewal_credit_hours", "1001"),
                ("courses", "burns"),
                ("workshops", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert_eq!(
        invalid_controls(&html),
        ["validity_months", "renewal_credit_hours"]
    );
    assert_eq!(app.count("tracks"), tracks, "nothing written");
}
