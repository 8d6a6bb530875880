//! Scheduled, timed exams over the API: scheduling against the banks,
//! registration, start/save/submit, deadlines, auto-submit, refusals.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use diesel::RunQueryDsl;
use gatekeeper::domain::banks;
use gatekeeper::domain::papers::{self, Blueprint, Candidate};
use gatekeeper::services::banks as bank_service;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    an_admin_schedules_and_registers_in_the_pages,
    a_candidate_sits_the_exam_in_the_pages_without_javascript,
    a_blueprint_the_banks_cannot_fill_is_refused,
    only_eligible_doctors_register,
    a_candidate_takes_an_exam_from_start_to_submit,
    the_window_and_the_deadline_are_enforced,
    overdue_attempts_are_submitted_at_their_deadline,
    an_attempt_survives_a_server_restart,
    a_paper_is_rebuilt_from_its_seed,
    the_opening_starts_everyone_once_in_batches,
    a_batch_of_starts_begins_what_its_plans_say_once,
);

/// A bank with 8 single-choice and 4 true/false questions on "fever"
/// (difficulties 2 and 3; named 发热 and Fever) and 2 cases.
fn bank_text() -> String {
    let mut text = String::from(
        "[bank]\nid = \"exam-test\"\ntitle = \"T\"\ntrack = \"paediatrics\"\nversion = 1\n\n[topics]\nfever = { zh-CN = \"发热\", en = \"Fever\" }\n",
    );
    for i in 0..8 {
        text.push_str(&format!(
            "\n[[questions]]\nid = \"s-{i}\"\nkind = \"single\"\ntopic = \"fever\"\ndifficulty = {}\npoints = 1\nstem = \"Single {i}\"\noptions = [{{ text = \"right {i}\", correct = true }}, {{ text = \"wrong a{i}\" }}, {{ text = \"wrong b{i}\" }}, {{ text = \"wrong c{i}\" }}]\nexplanation = \"secret explanation {i}\"\nreference = \"R\"\n",
            2 + i % 2
        ));
    }
    for i in 0..4 {
        text.push_str(&format!(
            "\n[[questions]]\nid = \"t-{i}\"\nkind = \"true_false\"\ntopic = \"fever\"\ndifficulty = 2\npoints = 1\nstem = \"TF {i}\"\nanswer = {}\nexplanation = \"secret explanation t{i}\"\nreference = \"R\"\n",
            i % 2 == 0
        ));
    }
    for i in 0..2 {
        text.push_str(&format!(
            "\n[[questions]]\nid = \"c-{i}\"\nkind = \"case\"\ntopic = \"fever\"\ndifficulty = 4\npoints = 10\nstem = \"Case {i}\"\nmodel_answer = \"secret model answer {i}\"\nrubric = [{{ criterion = \"secret criterion\", points = 10 }}]\nexplanation = \"E\"\nreference = \"R\"\n"
        ));
    }
    text
}

pub(crate) fn load_bank(app: &TestApp) {
    let bank = banks::parse(&bank_text()).expect("the test bank parses");
    bank_service::import(&app.ctx.db, &[(PathBuf::from("exam-test.toml"), bank)])
        .expect("imported");
}

pub(crate) fn blueprint() -> Value {
    json!({"sections": [
        {"title": "Knowledge", "topics": ["fever"], "kinds": ["single", "true_false"], "mix": {"2": 3, "3": 2}, "points": 2},
        {"title": "Case", "topics": ["fever"], "kinds": ["case"], "mix": {"4": 1}, "points": 10}
    ]})
}

pub(crate) fn exam_body(opens_in_minutes: i64, closes_in_minutes: i64, duration: i64) -> Value {
    let now = Utc::now();
    json!({
        "track": "paediatrics",
        "title": "Paediatrics written exam",
        "opens_at": (now + chrono::Duration::minutes(opens_in_minutes)).to_rfc3339(),
        "closes_at": (now + chrono::Duration::minutes(closes_in_minutes)).to_rfc3339(),
        "duration_minutes": duration,
        "pass_mark": 60,
        "attempts_allowed": 2,
        "waiting_days": 0,
        "review_policy": "full",
        "blueprint": blueprint(),
    })
}

/// An admin token, a member institution, and a doctor with a password.
pub(crate) async fn setup(app: &TestApp) -> (String, i64, String) {
    let admin = app.admin_token().await;
    let (_, inst) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Longxi CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
        .await;
    let doctor = doctor(app, &admin, inst["id"].as_i64().unwrap(), "li").await;
    (admin, doctor.0, doctor.1)
}

pub(crate) async fn doctor(
    app: &TestApp,
    admin: &str,
    institution: i64,
    name: &str,
) -> (i64, String) {
    let email = format!("{name}@longxi.example");
    let (status, person) = app
        .api(
            Method::POST,
            "/api/v1/people",
            admin,
            Some(json!({"email": email, "name": name, "roles": ["doctor"], "practising_certificate": format!("1104401000{:05}", name.len()), "institution_id": institution})),
        )
        .await;
    assert_eq!(status, 201, "{person}");
    let link = app.setup_token(&email);
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": "doctor test phrase"})),
    )
    .await;
    let token = app.token_for(&email, "doctor test phrase").await;
    (person["id"].as_i64().unwrap(), token)
}

pub(crate) async fn scheduled(app: &TestApp, admin: &str, body: Value) -> i64 {
    let (status, exam) = app
        .api(Method::POST, "/api/v1/exams", admin, Some(body))
        .await;
    assert_eq!(status, 201, "{exam}");
    exam["id"].as_i64().unwrap()
}

/// Draws the papers of an exam's candidates ahead of the opening; how many.
pub(crate) async fn predraw(app: &TestApp, admin: &str, exam: i64) -> i64 {
    let (status, drawn) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/predraw"),
            admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "{drawn}");
    drawn["drawn"].as_i64().unwrap()
}

pub(crate) async fn register(app: &TestApp, admin: &str, exam: i64, person: i64) {
    // Registration goes through the pipeline: the doctor's case must be at
    // the written exam.
    app.at_stage(person, "paediatrics", "written_exam");
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            admin,
            Some(json!({"person_id": person})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn a_blueprint_the_banks_cannot_fill_is_refused(app: TestApp) {
    let admin = app.admin_token().await;
    load_bank(&app);
    let mut body = exam_body(-1, 120, 60);
    body["blueprint"]["sections"][1]["mix"] = json!({"4": 5});
    let (status, err) = app
        .api(Method::POST, "/api/v1/exams", &admin, Some(body))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "blueprint");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message
            .contains("section 2 \"Case\": needs 5 question(s) of difficulty 4, the banks have 2"),
        "{message}"
    );
    // Bad timing is named too.
    let (status, err) = app
        .api(
            Method::POST,
            "/api/v1/exams",
            &admin,
            Some(exam_body(10, 5, 60)),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("closes_at"))
    );
    assert_eq!(app.count("exams"), 0);
    scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    assert_eq!(app.count("exams"), 1);
}

async fn only_eligible_doctors_register(app: TestApp) {
    let (admin, doctor_id, doctor_token) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    // Not a doctor.
    let (_, me) = app.api(Method::GET, "/api/v1/me", &admin, None).await;
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &admin,
            Some(json!({"person_id": me["id"]})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only doctors")
    );
    // A doctor of an institution outside the alliance.
    let (_, outside) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Private clinic", "level": "community", "region": "X", "alliance_member": false})))
        .await;
    let (other_id, _) = doctor(&app, &admin, outside["id"].as_i64().unwrap(), "wang").await;
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &admin,
            Some(json!({"person_id": other_id})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an alliance member")
    );
    // A doctor may register themself, but not grant themself extra time.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &doctor_token,
            Some(json!({"person_id": doctor_id, "extra_minutes": 30})),
        )
        .await;
    assert_eq!(status, 403);
    // An eligible doctor without a certification case at the written exam
    // is refused by the pipeline.
    app.at_stage(other_id, "paediatrics", "training");
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &doctor_token,
            Some(json!({"person_id": doctor_id})),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["field"], "case");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("apply first")
    );
    app.at_stage(doctor_id, "paediatrics", "written_exam");
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &doctor_token,
            Some(json!({"person_id": doctor_id})),
        )
        .await;
    assert_eq!(status, 201);
    // Nor register someone else.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &doctor_token,
            Some(json!({"person_id": other_id})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(app.count("registrations"), 1);
    // The doctor sees only their own exams; scheduling is for admins.
    let (_, list) = app
        .api(Method::GET, "/api/v1/exams", &doctor_token, None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        app.api(
            Method::POST,
            "/api/v1/exams",
            &doctor_token,
            Some(exam_body(-1, 120, 60))
        )
        .await
        .0,
        403
    );
}

fn key_material(text: &str) -> Vec<&'static str> {
    [
        "secret",
        "\"correct\"",
        "explanation",
        "model_answer",
        "rubric",
    ]
    .into_iter()
    .filter(|k| text.contains(k))
    .collect()
}

async fn a_candidate_takes_an_exam_from_start_to_submit(app: TestApp) {
    let (admin, doctor_id, token) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    // Unregistered: refused, and told why.
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(err.to_string().contains("not registered"), "{err}");
    // An exam that does not exist is not found (not "not registered").
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{}/attempts", exam + 1000),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 404, "{err}");
    register(&app, &admin, exam, doctor_id).await;

    // Four starts at once (a double tap, a retry, a second device): one
    // attempt, started once, with one deadline.
    let path = format!("/api/v1/exams/{exam}/attempts");
    let starts =
        futures_util::future::join_all((0..4).map(|_| app.api(Method::POST, &path, &token, None)))
            .await;
    let (status, attempt) = starts[0].clone();
    assert_eq!(status, 200, "{attempt}");
    let id = attempt["id"].as_i64().unwrap();
    for (status, other) in &starts {
        assert_eq!(*status, 200, "{other}");
        assert_eq!(
            (other["id"].as_i64(), &other["deadline"]),
            (Some(id), &attempt["deadline"])
        );
    }
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM attempt_events WHERE attempt_id = {id} AND kind = 'started'"
        )),
        1
    );
    // The loser of a race (a second device that read the attempt before the
    // first start committed) starts nothing: its update finds the attempt
    // started, and no second `started` line is written (on PostgreSQL the two
    // are one statement).
    let lost = app
        .ctx
        .db
        .write_blocking(move |conn| {
            use gatekeeper::store::exams::{find_attempt, mark_started};
            let mut read_before = find_attempt(conn, id)?.unwrap();
            read_before.started_at = None;
            let later = gatekeeper::store::now() + chrono::Duration::minutes(5);
            Ok(mark_started(conn, &read_before, later, later, "the loser")?)
        })
        .unwrap();
    assert!(lost.is_none(), "{lost:?}");
    let (_, again) = app.api(Method::POST, &path, &token, None).await;
    assert_eq!(again["deadline"], attempt["deadline"]);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM attempt_events WHERE attempt_id = {id} AND kind = 'started'"
        )),
        1
    );
    let items = attempt["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 6);
    let remaining = attempt["remaining_seconds"].as_i64().unwrap();
    assert!((3590..=3600).contains(&remaining), "{remaining}");
    // The answer key is nowhere in what the candidate receives.
    let text = attempt.to_string();
    assert!(
        key_material(&text).is_empty(),
        "key material leaked: {:?}",
        key_material(&text)
    );

    // Starting again (a retried request) resumes the same attempt.
    let (_, again) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &token,
            None,
        )
        .await;
    assert_eq!(again["id"], id);
    assert_eq!(app.count("attempts"), 1);

    // Answer everything: the right option is the one whose text starts "right".
    let mut given = std::collections::HashMap::new();
    for item in &items {
        let position = item["position"].as_i64().unwrap();
        let answer = match item["kind"].as_str().unwrap() {
            "single" => {
                let options = item["options"].as_array().unwrap();
                json!([options
                    .iter()
                    .position(|o| o.as_str().unwrap().starts_with("right"))
                    .unwrap()])
            }
            "true_false" => json!(
                item["stem"].as_str().unwrap().ends_with('0')
                    || item["stem"].as_str().unwrap().ends_with('2')
            ),
            _ => json!("Refer urgently; the infant is under three months with fever."),
        };
        given.insert(position, answer.clone());
        let (status, ack) = app
            .api(
                Method::PUT,
                &format!("/api/v1/attempts/{id}/answers/{position}"),
                &token,
                Some(json!({"answer": answer, "seq": 2})),
            )
            .await;
        assert_eq!(status, 200, "{ack}");
        assert_eq!(ack["stored"], true);
    }
    // A late duplicate with an older sequence number does not overwrite.
    let (_, ack) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/1"),
            &token,
            Some(json!({"answer": answer_for(&attempt, 1), "seq": 1})),
        )
        .await;
    assert_eq!(
        (ack["stored"].as_bool(), ack["seq"].as_i64()),
        (Some(false), Some(2))
    );
    // A burst of saves of one question, out of order and at once (a flaky
    // network resending): saves are stored in batches, and only the latest
    // is kept; every save is acknowledged and audited.
    let path = format!("/api/v1/attempts/{id}/answers/2");
    let burst = [9, 4, 14, 3, 12, 14, 7, 5, 11, 6, 13, 8];
    let acks = futures_util::future::join_all(burst.iter().map(|seq| {
        let body = json!({"answer": given[&2], "seq": seq});
        app.api(Method::PUT, &path, &token, Some(body))
    }))
    .await;
    let mut stored = 0;
    for ((status, ack), seq) in acks.iter().zip(burst) {
        assert_eq!(*status, 200, "{ack}");
        let now_stored = ack["seq"].as_i64().unwrap();
        assert!(now_stored >= seq, "seq {seq} acknowledged as {ack}");
        if ack["stored"] == true {
            stored += 1;
        }
    }
    assert!(stored >= 1, "the latest save is stored");
    assert_eq!(
        app.scalar(&format!(
            "SELECT a.seq AS n FROM answers a JOIN attempt_items i ON i.id = a.attempt_item_id \
             WHERE i.attempt_id = {id} AND i.position = 2"
        )),
        14
    );
    let audited = |older: &str| {
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM attempt_events WHERE attempt_id = {id} AND kind = 'saved' \
             AND detail LIKE 'question 2, seq %'{older}"
        ))
    };
    assert_eq!(audited(""), 1 + burst.len() as i64);
    assert_eq!(
        audited(" AND detail LIKE '%older than stored'"),
        burst.len() as i64 - stored
    );
    // The batch's rule itself: of several saves of one question stored
    // together, the first of the latest is stored and the others report the
    // seq now stored; a save older than the stored answer changes nothing.
    let item_at = |position: i32| {
        app.scalar(&format!(
            "SELECT id AS n FROM attempt_items WHERE attempt_id = {id} AND position = {position}"
        ))
    };
    let (third, fourth) = (item_at(3), item_at(4));
    let stored_before = app
        .ctx
        .db
        .read_blocking(move |conn| Ok(gatekeeper::store::exams::answers_of(conn, id)?))
        .unwrap();
    let save = |item: i64, position: i32, seq: i64| {
        let before = stored_before
            .iter()
            .find(|a| a.attempt_item_id == item)
            .unwrap();
        gatekeeper::store::exams::NewAnswer {
            attempt_item_id: item,
            attempt_id: id,
            position,
            response: before.response.clone(),
            seq,
            saved_at: Utc::now().naive_utc(),
        }
    };
    let batch = vec![
        save(third, 3, 20),
        save(third, 3, 1),
        save(third, 3, 20),
        save(third, 3, 15),
        save(fourth, 4, 1),
    ];
    let outcomes = app
        .ctx
        .db
        .write_blocking(move |conn| Ok(gatekeeper::store::exams::save_answers(conn, &batch)?))
        .unwrap();
    let outcomes: Vec<(bool, i64)> = outcomes.iter().map(|o| (o.stored, o.seq)).collect();
    assert_eq!(
        outcomes,
        vec![
            (true, 20),
            (false, 20),
            (false, 20),
            (false, 20),
            (false, 2)
        ]
    );
    // Answers that do not fit are refused by name.
    let (status, err) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/99"),
            &token,
            Some(json!({"answer": [0], "seq": 3})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("position"))
    );

    // Another doctor can neither read nor write this attempt.
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let (_, intruder) = doctor(&app, &admin, inst[0]["id"].as_i64().unwrap(), "zhao").await;
    let answers_before = app.count("answers");
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/attempts/{id}"),
            &intruder,
            None
        )
        .await
        .0,
        403
    );
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/1"),
            &intruder,
            Some(json!({"answer": answer_for(&attempt, 1), "seq": 9})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        app.api(
            Method::POST,
            &format!("/api/v1/attempts/{id}/submit"),
            &intruder,
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(app.count("answers"), answers_before, "nothing written");
    // Start, save and submit sign the token in inside their own write: a
    // missing, unknown or revoked token is refused (401) and writes nothing.
    let events_before = app.count("attempt_events");
    for token in ["", "gk_pat_not_a_real_token"] {
        let path = format!("/api/v1/exams/{exam}/attempts");
        assert_eq!(app.api(Method::POST, &path, token, None).await.0, 401);
        let path = format!("/api/v1/attempts/{id}/answers/1");
        let body = json!({"answer": answer_for(&attempt, 1), "seq": 9});
        assert_eq!(app.api(Method::PUT, &path, token, Some(body)).await.0, 401);
        let path = format!("/api/v1/attempts/{id}/submit");
        assert_eq!(app.api(Method::POST, &path, token, None).await.0, 401);
    }
    assert_eq!(
        app.api(Method::DELETE, "/api/v1/auth/token", &intruder, None)
            .await
            .0,
        204
    );
    let path = format!("/api/v1/attempts/{id}/submit");
    assert_eq!(app.api(Method::POST, &path, &intruder, None).await.0, 401);
    assert_eq!(app.count("answers"), answers_before, "nothing written");
    assert_eq!(app.count("attempt_events"), events_before);
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM attempts WHERE id = {id} AND submitted_at IS NOT NULL"
        )),
        0
    );

    // The saved answers come back on reload.
    let (_, reloaded) = app
        .api(Method::GET, &format!("/api/v1/attempts/{id}"), &token, None)
        .await;
    assert!(
        reloaded["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !i["answer"].is_null())
    );

    // Submit, twice: the second is harmless.
    let (status, done) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{id}/submit"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(done["submitted_at"].is_string());
    assert!(
        key_material(&done.to_string()).is_empty(),
        "no key after submission either, before results"
    );
    let (_, twice) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{id}/submit"),
            &token,
            None,
        )
        .await;
    assert_eq!(twice["submitted_at"], done["submitted_at"]);
    // Objective items were scored: all 5 right, 2 points each; the case waits.
    let scores: Vec<(Option<f64>, Option<f64>)> = app
        .ctx
        .db
        .read_blocking(|conn| {
            Ok(gatekeeper::store::exams::find_attempt(conn, id)?
                .map(|a| (a.objective_score, a.objective_total))
                .into_iter()
                .collect())
        })
        .unwrap();
    assert_eq!(scores, vec![(Some(10.0), Some(10.0))]);
    // After submission nothing changes.
    let (status, err) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/1"),
            &token,
            Some(json!({"answer": answer_for(&attempt, 1), "seq": 10})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("submitted")
    );
    // Every event is recorded; the start once, with the deadline it set.
    let trail = app
        .ctx
        .db
        .read_blocking(|conn| Ok(gatekeeper::store::exams::events_of(conn, id)?))
        .unwrap();
    let events: Vec<String> = trail.iter().map(|e| e.1.clone()).collect();
    assert_eq!(events.first().map(String::as_str), Some("paper_drawn"));
    let starts: Vec<_> = trail.iter().filter(|e| e.1 == "started").collect();
    assert_eq!(starts.len(), 1, "{trail:?}");
    assert!(
        starts
            .iter()
            .all(|e| e.2.as_deref().is_some_and(|d| d.starts_with("deadline 20"))),
        "{trail:?}"
    );
    assert!(events.contains(&"submitted".to_owned()));
    assert!(events.iter().filter(|e| *e == "saved").count() >= 6);
}

async fn the_window_and_the_deadline_are_enforced(app: TestApp) {
    let (admin, doctor_id, token) = setup(&app).await;
    load_bank(&app);
    let early = scheduled(&app, &admin, exam_body(30, 120, 60)).await;
    register(&app, &admin, early, doctor_id).await;
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{early}/attempts"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("opens at")
    );

    let closed = scheduled(&app, &admin, exam_body(-120, -1, 60)).await;
    app.ctx.db.write_blocking(|conn| {
        let sql = format!("INSERT INTO registrations (exam_id, person_id, extra_minutes, created_at) VALUES ({closed}, {doctor_id}, 0, '2026-01-01 00:00:00')");
        Ok(diesel::sql_query(sql).execute(conn)?)
    }).unwrap();
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{closed}/attempts"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert!(err["error"]["message"].as_str().unwrap().contains("closed"));

    // Extra time for this candidate, capped by the closing time.
    let open = scheduled(&app, &admin, exam_body(-1, 100, 60)).await;
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{open}/registrations"),
            &admin,
            Some(json!({"person_id": doctor_id, "extra_minutes": 30})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{open}/attempts"),
            &token,
            None,
        )
        .await;
    let remaining = attempt["remaining_seconds"].as_i64().unwrap();
    assert!(
        (5350..=5400).contains(&remaining),
        "90 minutes, got {remaining}s"
    );
    let id = attempt["id"].as_i64().unwrap();
    // Within the grace period a save already in flight is still accepted.
    set_deadline(&app, id, -5);
    let (status, ack) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/1"),
            &token,
            Some(json!({"answer": answer_for(&attempt, 1), "seq": 1})),
        )
        .await;
    assert_eq!(
        (status, ack["stored"].as_bool()),
        (200, Some(true)),
        "{ack}"
    );
    // Past the deadline and its grace, a save is refused and nothing changes.
    // (The auto-submit job may already have closed the attempt: refused either way.)
    set_deadline(&app, id, -60);
    let (status, err) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/1"),
            &token,
            Some(json!({"answer": answer_for(&attempt, 1), "seq": 2})),
        )
        .await;
    assert_eq!(status, 409);
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("time is up") || message.contains("submitted"),
        "{message}"
    );
    let seq: Vec<i64> = app
        .ctx
        .db
        .read_blocking(|conn| {
            Ok(gatekeeper::store::exams::answers_of(conn, id)?
                .into_iter()
                .map(|a| a.seq)
                .collect())
        })
        .unwrap();
    assert_eq!(seq, vec![1], "the refused save wrote nothing");
}

/// A well-formed answer for the question at `position` of an attempt view.
pub(crate) fn answer_for(attempt: &Value, position: i64) -> Value {
    let item = attempt["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["position"] == position)
        .unwrap();
    match item["kind"].as_str().unwrap() {
        "single" | "multiple" => json!([1]),
        "true_false" => json!(false),
        _ => json!("an answer"),
    }
}

fn set_deadline(app: &TestApp, attempt: i64, seconds_from_now: i64) {
    let sql = match app.backend {
        Backend::Sqlite => format!(
            "UPDATE attempts SET deadline = datetime('now', '{seconds_from_now} seconds') WHERE id = {attempt}"
        ),
        Backend::Postgres => format!(
            "UPDATE attempts SET deadline = (now() at time zone 'utc') + interval '{seconds_from_now} seconds' WHERE id = {attempt}"
        ),
    };
    app.ctx
        .db
        .write_blocking(|conn| Ok(diesel::sql_query(sql).execute(conn)?))
        .unwrap();
}

async fn overdue_attempts_are_submitted_at_their_deadline(app: TestApp) {
    let (admin, doctor_id, token) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &token,
            None,
        )
        .await;
    let id = attempt["id"].as_i64().unwrap();
    app.api(
        Method::PUT,
        &format!("/api/v1/attempts/{id}/answers/1"),
        &token,
        Some(json!({"answer": true, "seq": 1})),
    )
    .await;
    set_deadline(&app, id, -40);
    let deadline = || {
        app.ctx
            .db
            .read_blocking(|conn| Ok(gatekeeper::store::exams::find_attempt(conn, id)?.unwrap()))
            .unwrap()
    };
    let before = deadline().deadline;
    let mut submitted = None;
    for _ in 0..100 {
        let a = deadline();
        if a.submitted_at.is_some() {
            submitted = Some(a);
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let a = submitted.expect("the job submitted the overdue attempt");
    assert!(a.auto_submitted);
    assert_eq!(
        a.submitted_at, before,
        "finish time is the deadline, not the job's time"
    );
    let (_, view) = app
        .api(Method::GET, &format!("/api/v1/attempts/{id}"), &token, None)
        .await;
    assert_eq!(view["auto_submitted"], true);
    assert_eq!(view["remaining_seconds"], 0);
}

/// The opening: every candidate presses Start at once, some twice, with
/// papers drawn ahead. Starts are then done a lane's batch at a time
/// (`store::starts`); each candidate still gets her own predrawn paper,
/// started once, and whatever is not a plain start (not registered, a
/// token that does not sign in) gets its own answer.
async fn the_opening_starts_everyone_once_in_batches(app: TestApp) {
    let (admin, _, _) = setup(&app).await;
    load_bank(&app);
    let (_, inst) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Huilong CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
        .await;
    let inst = inst["id"].as_i64().unwrap();
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    // Ten registered candidates (names of different lengths: the test
    // doctors' certificate numbers come from them), one not registered.
    let mut candidates = Vec::new();
    for n in 3..13 {
        let (id, token) = doctor(&app, &admin, inst, &"x".repeat(n)).await;
        register(&app, &admin, exam, id).await;
        candidates.push(token);
    }
    let (_, outsider) = doctor(&app, &admin, inst, &"y".repeat(13)).await;
    assert_eq!(predraw(&app, &admin, exam).await, 10);
    let drawn_ids = app.scalar("SELECT CAST(SUM(id) AS BIGINT) AS n FROM attempts");

    // Everyone at once: each candidate twice, the outsider, and a token
    // that signs nobody in.
    let path = format!("/api/v1/exams/{exam}/attempts");
    let mut tokens: Vec<&str> = candidates.iter().map(String::as_str).collect();
    tokens.extend(candidates.iter().map(String::as_str));
    tokens.push(&outsider);
    tokens.push("not-a-token");
    let answers = futures_util::future::join_all(
        tokens.iter().map(|t| app.api(Method::POST, &path, t, None)),
    )
    .await;
    let (theirs, others) = answers.split_at(20);
    let (firsts, seconds) = theirs.split_at(10);
    for ((status, first), (again, second)) in firsts.iter().zip(seconds) {
        assert_eq!((*status, *again), (200, 200), "{first} {second}");
        assert_eq!(
            (first["id"].as_i64(), &first["deadline"]),
            (second["id"].as_i64(), &second["deadline"]),
            "a second press gets the same attempt and deadline"
        );
        let remaining = first["remaining_seconds"].as_i64().unwrap();
        assert!((3590..=3600).contains(&remaining), "{remaining}");
        assert_eq!(first["items"].as_array().map(Vec::len), Some(6), "{first}");
    }
    let mut ids: Vec<i64> = firsts
        .iter()
        .map(|(_, a)| a["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10, "one attempt each: {ids:?}");
    assert_eq!(others[0].0, 409, "{}", others[0].1);
    assert!(
        others[0].1.to_string().contains("not registered"),
        "{}",
        others[0].1
    );
    assert_eq!(others[1].0, 401, "{}", others[1].1);
    // The predrawn papers were used, none drawn anew, each started once.
    assert_eq!(app.count("attempts"), 10);
    assert_eq!(
        app.scalar("SELECT CAST(SUM(id) AS BIGINT) AS n FROM attempts"),
        drawn_ids
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM attempts WHERE started_at IS NOT NULL"),
        10
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM attempt_events WHERE kind = 'started'"),
        10
    );
    // What a start answered is the paper as the attempt shows it later.
    for ((_, started), token) in firsts.iter().zip(&candidates) {
        let id = started["id"].as_i64().unwrap();
        let (status, shown) = app
            .api(Method::GET, &format!("/api/v1/attempts/{id}"), token, None)
            .await;
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["items"], started["items"]);
        assert_eq!(shown["deadline"], started["deadline"]);
    }
}

/// A batch of starts as the store does it: what it read for each, and
/// which attempts it began. The plan is the caller's; here it begins
/// whatever waits, which the service's rules would not always allow.
async fn a_batch_of_starts_begins_what_its_plans_say_once(app: TestApp) {
    use gatekeeper::store::starts::{Begin, StartAsked, StartFound, Starter};
    let (admin, doctor_id, token) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    assert_eq!(predraw(&app, &admin, exam).await, 1);
    let waiting = |found: &StartFound, at: chrono::NaiveDateTime| {
        let reading = found.reading.as_ref()?;
        let (attempt, paper) = reading.attempts.first()?;
        if attempt.started_at.is_none() {
            assert!(
                paper.is_some(),
                "the paper rendered at predraw is read with it"
            );
        }
        Some(Begin {
            attempt_id: attempt.id,
            deadline: at + chrono::Duration::minutes(60),
            detail: "by the test".into(),
        })
    };
    let hash = gatekeeper::domain::tokens::digest(&token);
    let asked = |who: Starter| StartAsked {
        who,
        exam_id: gatekeeper::domain::ids::ExamId(exam),
        plan: Box::new(waiting),
    };
    let person = gatekeeper::domain::ids::PersonId(doctor_id);
    // By token and by session, at once: the one batch or two, the attempt
    // is begun by exactly one of them.
    let (a, b) = futures_util::join!(
        app.ctx
            .db
            .start_grouped(7, asked(Starter::Token(hash.clone()))),
        app.ctx.db.start_grouped(7, asked(Starter::Person(person))),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.found.token.is_some(), "the token was read");
    assert!(b.found.token.is_none(), "a session presents no token");
    let begun: Vec<_> = [&a, &b].iter().filter_map(|d| d.begun.clone()).collect();
    assert_eq!(begun.len(), 1, "begun once");
    assert_eq!(
        begun[0].started_at,
        Some(if a.begun.is_some() { a.at } else { b.at })
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM attempt_events WHERE kind = 'started'"),
        1
    );
    // Again: it is started, so nothing is begun, nothing written.
    let again = app
        .ctx
        .db
        .start_grouped(7, asked(Starter::Token(hash.clone())))
        .await
        .unwrap();
    assert!(again.begun.is_none());
    // An unknown token and a person not registered read nothing.
    let nobody = app
        .ctx
        .db
        .start_grouped(7, asked(Starter::Token("unknown".into())))
        .await
        .unwrap();
    assert!(nobody.found.token.is_none() && nobody.found.reading.is_none());
    let stranger = app
        .ctx
        .db
        .start_grouped(
            7,
            asked(Starter::Person(gatekeeper::domain::ids::PersonId(
                doctor_id + 1000,
            ))),
        )
        .await
        .unwrap();
    assert!(stranger.found.reading.is_none() && stranger.begun.is_none());
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM attempt_events WHERE kind = 'started'"),
        1
    );
}

async fn an_attempt_survives_a_server_restart(app: TestApp) {
    let (admin, doctor_id, token) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &token,
            None,
        )
        .await;
    let id = attempt["id"].as_i64().unwrap();
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/attempts/{id}/answers/2"),
            &token,
            Some(json!({"answer": answer_for(&attempt, 2), "seq": 4})),
        )
        .await;
    assert_eq!(status, 200);
    // A fresh server process on the same database (the old one may be gone).
    let (base, _) = app.another_instance(|_| {}).await;
    let res = app
        .client
        .get(format!("{base}/api/v1/attempts/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let resumed: Value = res.json().await.unwrap();
    assert_eq!(resumed["items"][1]["answer"], answer_for(&attempt, 2));
    assert_eq!(resumed["items"][1]["seq"], 4);
    assert_eq!(
        resumed["deadline"], attempt["deadline"],
        "the same deadline: remaining time is kept"
    );
    let remaining = resumed["remaining_seconds"].as_i64().unwrap();
    assert!(remaining <= attempt["remaining_seconds"].as_i64().unwrap() && remaining > 3500);
}

async fn a_paper_is_rebuilt_from_its_seed(app: TestApp) {
    let (admin, doctor_id, token) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    // Drawn ahead of the opening, then started.
    assert_eq!(predraw(&app, &admin, exam).await, 1);
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &token,
            None,
        )
        .await;
    let id = attempt["id"].as_i64().unwrap();
    assert_eq!(app.count("attempts"), 1, "the predrawn paper was used");

    // Rebuild from the stored seed and the bank as it was: the same paper.
    let (stored_items, seed, pool) = app
        .ctx
        .db
        .read_blocking(|conn| {
            let a = gatekeeper::store::exams::find_attempt(conn, id)?.unwrap();
            let items = gatekeeper::store::exams::items_of(conn, id)?;
            let versions = gatekeeper::store::banks::drawable(conn, "paediatrics")?;
            let pool: Vec<Candidate> = versions
                .into_iter()
                .map(|v| {
                    let content: banks::Content = serde_json::from_str(&v.content).unwrap();
                    let options = match &content.body {
                        banks::Body::Single { options } | banks::Body::Multiple { options } => {
                            options.len()
                        }
                        _ => 0,
                    };
                    Candidate {
                        version_id: v.id,
                        question_id: v.question_id,
                        topic: v.topic,
                        difficulty: u8::try_from(v.difficulty).unwrap(),
                        kind: content.body.kind(),
                        options,
                        exposure: 0,
                    }
                })
                .collect();
            Ok((items, a.seed, pool))
        })
        .unwrap();
    let blueprint: Blueprint = serde_json::from_value(blueprint()).unwrap();
    let rebuilt = papers::draw(&blueprint, &pool, seed as u64).unwrap();
    let rebuilt: Vec<(i64, Vec<usize>)> = rebuilt
        .into_iter()
        .map(|i| (i.version_id, i.option_order))
        .collect();
    let stored: Vec<(i64, Vec<usize>)> = stored_items
        .iter()
        .map(|i| (i.version_id, serde_json::from_str(&i.option_order).unwrap()))
        .collect();
    assert_eq!(rebuilt, stored);
}

async fn a_candidate_sits_the_exam_in_the_pages_without_javascript(app: TestApp) {
    let (admin, doctor_id, _) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    let browser = app.new_browser();
    assert_eq!(
        app.sign_in(&browser, "li@longxi.example", "doctor test phrase")
            .await
            .status(),
        303
    );
    let (status, list) = app.page(&browser, "/exams").await;
    assert_eq!(status, 200);
    assert!(
        list.contains("Paediatrics written exam") && list.contains(&format!("id=\"start-{exam}\""))
    );

    // The list's start leads to the instructions, whose button starts.
    let (status, briefing) = app.page(&browser, &format!("/exams/{exam}/start")).await;
    assert_eq!(status, 200);
    assert!(
        briefing.contains("id=\"confirm-start\"")
            && briefing.contains("id=\"briefing-connection\"")
    );
    let res = app
        .submit(
            &browser,
            &format!("/exams/{exam}/start"),
            &format!("/exams/{exam}/start"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location.trim_start_matches("/attempts/").parse().unwrap();
    let res = browser.get(app.url(&location)).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(
        html.contains("data-remaining=\"3"),
        "the countdown starts from the server's remaining time"
    );
    assert!(
        key_material(&html).is_empty(),
        "no answer key in the page: {:?}",
        key_material(&html)
    );
    assert_eq!(html.matches("<fieldset class=\"question card\"").count(), 6);

    // Answer two questions with the page's own form.
    let (_, attempt) = {
        let token = app
            .token_for("li@longxi.example", "doctor test phrase")
            .await;
        app.api(Method::GET, &format!("/api/v1/attempts/{id}"), &token, None)
            .await
    };
    let field = |position: i64| -> (String, String) {
        let value = match answer_for(&attempt, position) {
            Value::Array(a) => a[0].to_string(),
            Value::Bool(b) => b.to_string(),
            Value::String(s) => s,
            other => other.to_string(),
        };
        (format!("q{position}"), value)
    };
    let (k1, v1) = field(1);
    let (k2, v2) = field(2);
    let res = app
        .submit(
            &browser,
            &location,
            &location,
            &[
                (k1.as_str(), v1.as_str()),
                (k2.as_str(), v2.as_str()),
                ("go", "summary"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/attempts/{id}/summary").as_str()
    );
    assert_eq!(app.count("answers"), 2);

    // One question per screen.
    let (_, one) = app.page(&browser, &format!("/attempts/{id}?q=2")).await;
    // Every question is in the page (the script moves between them without
    // the server); all but the one on screen are hidden and disabled, so
    // the page's own form posts only that one.
    assert_eq!(one.matches("<fieldset class=\"question card\"").count(), 6);
    assert_eq!(one.matches(" hidden disabled>").count(), 5);
    let q2 = one
        .split("id=\"q2\"")
        .nth(1)
        .and_then(|rest| rest.split('>').next());
    assert!(q2.is_some_and(|tag| !tag.contains("hidden")), "{q2:?}");

    // The summary lists what is unanswered before submitting.
    let (_, summary) = app.page(&browser, &format!("/attempts/{id}/summary")).await;
    assert!(summary.contains("id=\"unanswered\""));
    for n in 3..=6 {
        assert!(
            summary.contains(&format!("?q={n}\">{n}</a>")),
            "question {n} listed as unanswered"
        );
    }

    // The script's save endpoint needs the CSRF token in its header.
    let save = |csrf: Option<String>| {
        let mut req = browser
            .post(app.url(&format!("/attempts/{id}/answers/3")))
            .header("content-type", "application/json");
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.body(json!({"answer": answer_for(&attempt, 3), "seq": 5}).to_string())
            .send()
    };
    assert_eq!(save(None).await.unwrap().status(), 403);
    let csrf = crate::helpers::csrf_in(&summary).unwrap();
    let res = save(Some(csrf)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["stored"], true);

    // Submit; the attempt page now says so, and nothing can change.
    let res = app
        .submit(
            &browser,
            &format!("/attempts/{id}/summary"),
            &format!("/attempts/{id}/submit"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, done) = app.page(&browser, &location).await;
    assert!(done.contains("id=\"submitted\""));
    let (_, list) = app.page(&browser, "/exams").await;
    assert!(!list.contains(&format!("id=\"resume-{exam}\"")));
}

async fn an_admin_schedules_and_registers_in_the_pages(app: TestApp) {
    let (_, doctor_id, doctor_token) = setup(&app).await;
    load_bank(&app);
    let admin = app.new_browser();
    app.sign_in(
        &admin,
        crate::helpers::ADMIN_EMAIL,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await;
    let local = |minutes: i64| {
        (Utc::now() + chrono::Duration::minutes(minutes))
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let (opens, closes) = (local(-5), local(180));
    let blueprint = blueprint().to_string();
    let mut fields = vec![
        ("title", "Written exam, December"),
        ("track", "paediatrics"),
        ("opens_at", opens.as_str()),
        ("closes_at", closes.as_str()),
        ("duration_minutes", "60"),
        ("pass_mark", "60"),
        ("attempts_allowed", "2"),
        ("waiting_days", "0"),
        ("review_policy", "topics"),
        ("blueprint", blueprint.as_str()),
    ];
    // A blueprint the banks cannot fill is refused on the form, by field.
    let too_big = blueprint.replace("\"4\":1", "\"4\":9");
    fields[9] = ("blueprint", too_big.as_str());
    let res = app
        .submit(&admin, "/admin/exams", "/admin/exams", &fields)
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"blueprint\" name=\"blueprint\" rows=\"12\" aria-describedby=\"blueprint-help\" aria-invalid=\"true\""));
    assert_eq!(app.count("exams"), 0);
    fields[9] = ("blueprint", blueprint.as_str());
    let res = app
        .submit(&admin, "/admin/exams", "/admin/exams", &fields)
        .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let exam: i64 = location
        .trim_start_matches("/admin/exams/")
        .parse()
        .unwrap();

    // Register the doctor (whose case is at the written exam) with 20
    // extra minutes, then draw the papers.
    app.at_stage(doctor_id, "paediatrics", "written_exam");
    let res = app
        .submit(
            &admin,
            &location,
            &format!("{location}/registrations"),
            &[
                ("person_id", doctor_id.to_string().as_str()),
                ("extra_minutes", "20"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, roster) = app.page(&admin, &location).await;
    assert!(roster.contains("li@longxi.example"));
    let res = app
        .submit(&admin, &location, &format!("{location}/predraw"), &[])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.count("attempts"), 1);

    // The doctor's attempt has the extra time.
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &doctor_token,
            None,
        )
        .await;
    let remaining = attempt["remaining_seconds"].as_i64().unwrap();
    assert!(
        (4750..=4800).contains(&remaining),
        "80 minutes, got {remaining}s"
    );

    // Doctors cannot reach these pages.
    let doctor = app.new_browser();
    app.sign_in(&doctor, "li@longxi.example", "doctor test phrase")
        .await;
    assert_eq!(app.page(&doctor, "/admin/exams").await.0, 403);
    assert_eq!(app.page(&doctor, &location).await.0, 403);
}
