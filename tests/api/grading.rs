//! Blind double marking and results over HTTP: allocation away from the
//! candidate's institution, blindness, the third marker at and beyond the
//! tolerance, the final mark rule, release refused while marking is
//! incomplete, and results as the review policy allows.

use std::time::Duration;

use diesel::RunQueryDsl;
use reqwest::Method;
use serde_json::{Value, json};

use crate::exams::{doctor, exam_body, load_bank, register, scheduled, setup};
use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    answers_are_double_marked_blind_and_never_by_the_candidates_institution,
    a_disagreement_beyond_the_tolerance_brings_a_third_marker,
    results_are_released_only_when_marking_is_complete,
    item_analysis_flags_a_weak_question_and_removing_it_regrades,
    an_appeal_is_re_marked_by_an_examiner_who_has_not_marked_the_answer,
    late_marking_is_reminded_and_identity_reveals_are_recorded,
    the_committee_sets_the_pass_mark_by_modified_angoff,
    a_practical_station_is_marked_by_the_observing_examiner,
    the_owner_closes_an_exam_early_when_everyone_has_sat_it_or_says_why,
);

pub(crate) const PASSWORD: &str = "examiner test phrase";

pub(crate) struct World {
    pub(crate) admin: String,
    pub(crate) longxi: i64,
    pub(crate) exam: i64,
    /// (person id, token) of examiners: one at Longxi, three elsewhere.
    pub(crate) examiners: Vec<(i64, String)>,
}

pub(crate) async fn person(
    app: &TestApp,
    admin: &str,
    email: &str,
    name: &str,
    roles: Value,
    institution: Option<i64>,
) -> (i64, String) {
    let mut body = json!({"email": email, "name": name, "roles": roles});
    if let Some(i) = institution {
        body["institution_id"] = json!(i);
    }
    let (status, p) = app
        .api(Method::POST, "/api/v1/people", admin, Some(body))
        .await;
    assert_eq!(status, 201, "{p}");
    let link = app.setup_token(email);
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": PASSWORD})),
    )
    .await;
    (
        p["id"].as_i64().unwrap(),
        app.token_for(email, PASSWORD).await,
    )
}

/// Three committee members (from no institution) and the standard setting
/// the first opens for `exam` (an Angoff round): their tokens, and the
/// setting as the API answers it.
pub(crate) async fn standard_setting(
    app: &TestApp,
    admin: &str,
    exam: i64,
) -> (Vec<String>, Value) {
    let mut members = Vec::new();
    for i in 0..3 {
        let name = format!("Member {i}");
        let email = format!("m{i}@alliance.example");
        let (_, token) = person(app, admin, &email, &name, json!(["committee"]), None).await;
        members.push(token);
    }
    let (status, setting) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/standard-settings"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(status, 201, "{setting}");
    (members, setting)
}

pub(crate) async fn world(app: &TestApp) -> World {
    let (admin, _, _) = setup(app).await;
    load_bank(app);
    let (_, insts) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let longxi = insts[0]["id"].as_i64().unwrap();
    let (_, other) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Tertiary Children's Hospital", "level": "tertiary", "region": "Yuzhong", "alliance_member": true})))
        .await;
    let other = other["id"].as_i64().unwrap();
    let mut examiners = vec![
        person(
            app,
            &admin,
            "e0@longxi.example",
            "Examiner Zero",
            json!(["examiner"]),
            Some(longxi),
        )
        .await,
    ];
    for i in 1..=3 {
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
    // Marking settings are per exam, checked, with defaults.
    let mut bad = exam_body(-1, 120, 60);
    bad["marking_tolerance"] = json!(150);
    let (status, err) = app
        .api(Method::POST, "/api/v1/exams", &admin, Some(bad))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "marking_tolerance");
    let exam = scheduled(app, &admin, exam_body(-1, 120, 60)).await;
    let (_, exams) = app.api(Method::GET, "/api/v1/exams", &admin, None).await;
    assert_eq!(
        (
            exams[0]["marking_tolerance"].as_i64(),
            exams[0]["appeal_days"].as_i64()
        ),
        (Some(20), Some(14))
    );
    World {
        admin,
        longxi,
        exam,
        examiners,
    }
}

/// A candidate of Longxi sits the exam: objective answers all wrong, the
/// case answered with `text`, then submits. Returns (attempt id, token).
pub(crate) async fn sit(app: &TestApp, w: &World, name: &str, text: &str) -> (i64, String) {
    let (id, token) = doctor(app, &w.admin, w.longxi, name).await;
    register(app, &w.admin, w.exam, id).await;
    let (status, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{}/attempts", w.exam),
            &token,
            None,
        )
        .await;
    assert!(status == 200 || status == 201, "{attempt}");
    let attempt_id = attempt["id"].as_i64().unwrap();
    for item in attempt["items"].as_array().unwrap() {
        let position = item["position"].as_i64().unwrap();
        let answer = match item["kind"].as_str().unwrap() {
            "case" => json!(text),
            "true_false" => json!(null),
            _ => json!(null),
        };
        if answer.is_null() {
            continue;
        }
        let (status, ack) = app
            .api(
                Method::PUT,
                &format!("/api/v1/attempts/{attempt_id}/answers/{position}"),
                &token,
                Some(json!({"answer": answer, "seq": 1})),
            )
            .await;
        assert_eq!(status, 200, "{ack}");
    }
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    (attempt_id, token)
}

async fn queue(app: &TestApp, token: &str) -> Value {
    let (status, q) = app.api(Method::GET, "/api/v1/marking", token, None).await;
    assert_eq!(status, 200, "{q}");
    q
}

/// Waits for the allocation job to give out `n` tasks in all.
pub(crate) async fn tasks(app: &TestApp, n: i64) {
    for _ in 0..100 {
        if app.count("marking_tasks") >= n {
            return;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{n} marking tasks were not allocated (have {})",
        app.count("marking_tasks")
    );
}

pub(crate) async fn mark(app: &TestApp, token: &str, task: i64, points: f64) -> (u16, Value) {
    app.api(
        Method::PUT,
        &format!("/api/v1/marking/{task}"),
        token,
        Some(json!({"marks": [{"points": points, "comment": "per the rubric"}]})),
    )
    .await
}

/// The open tasks of each examiner, as (examiner index, task id).
pub(crate) async fn open_tasks(app: &TestApp, w: &World) -> Vec<(usize, i64)> {
    let mut out = Vec::new();
    for (i, (_, token)) in w.examiners.iter().enumerate() {
        for t in queue(app, token).await["tasks"].as_array().unwrap() {
            if t["submitted"] == false {
                out.push((i, t["task_id"].as_i64().unwrap()));
            }
        }
    }
    out
}

pub(crate) async fn answers_are_double_marked_blind_and_never_by_the_candidates_institution(
    app: TestApp,
) {
    let w = world(&app).await;
    let (_, _) = sit(&app, &w, "zhangsan", "Refer urgently after the first dose.").await;
    tasks(&app, 2).await;

    // Examiner Zero works at the candidate's institution: nothing for them.
    assert_eq!(queue(&app, &w.examiners[0].1).await["total"], 0);
    let open = open_tasks(&app, &w).await;
    assert_eq!(open.len(), 2);
    assert_ne!(open[0].0, open[1].0, "two different examiners");
    assert!(open.iter().all(|(i, _)| *i != 0));

    // Blind: the task shows the answer under a code, never who wrote it.
    let (i, task) = open[0];
    let (status, view) = app
        .api(
            Method::GET,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[i].1,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let text = view.to_string();
    assert!(text.contains("Refer urgently after the first dose."));
    assert!(view["code"].as_str().unwrap().len() == 9, "{view}");
    for secret in ["zhangsan", "Longxi", "longxi.example", "person_id"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let examiner_browser = app.new_browser();
    app.sign_in(&examiner_browser, &format!("e{i}@tch.example"), PASSWORD)
        .await;
    let (status, page) = app
        .page(&examiner_browser, &format!("/marking/{task}"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains(view["code"].as_str().unwrap()));
    assert!(!page.contains("zhangsan") && !page.contains("Longxi"));

    // Another examiner, the candidate and an admin cannot open the task.
    let other = (1..=3).find(|k| *k != i).unwrap();
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[other].1,
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = mark(&app, &w.examiners[other].1, task, 5.0).await;
    assert_eq!(status, 403);
    let (status, _) = app
        .api(Method::GET, "/api/v1/marking", &w.admin, None)
        .await;
    assert_eq!(status, 403, "admins do not mark");

    // The second marker never sees the first's marks.
    let (j, second) = open[1];
    let (status, _) = mark(&app, &w.examiners[i].1, task, 6.0).await;
    assert_eq!(status, 204);
    let (_, second_view) = app
        .api(
            Method::GET,
            &format!("/api/v1/marking/{second}"),
            &w.examiners[j].1,
            None,
        )
        .await;
    assert!(
        second_view["marks"].is_null() && second_view["total"].is_null(),
        "{second_view}"
    );
    assert!(!second_view.to_string().contains("per the rubric"));

    // Bad marks name the criterion and change nothing.
    let (status, err) = mark(&app, &w.examiners[j].1, second, 10.5).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "marks[0]");
    let (status, _) = mark(&app, &w.examiners[j].1, second, 7.25).await;
    assert_eq!(status, 422, "half points only");

    // Within the tolerance (2 of 10 points): the final mark is the mean.
    let (status, _) = mark(&app, &w.examiners[j].1, second, 8.0).await;
    assert_eq!(status, 204);
    let final_mark = item_score(&app, &w);
    assert_eq!(final_mark, vec![Some(7.0)]);
    // Once final, marks are closed; every mark was audited.
    let (status, _) = mark(&app, &w.examiners[j].1, second, 7.0).await;
    assert_eq!(status, 409);
    assert!(audit_count(&app, "mark.submit") >= 2);
}

/// The final marks of the exam's open answers, in item order.
fn item_score(app: &TestApp, _w: &World) -> Vec<Option<f64>> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
        score: Option<f64>,
    }
    let sql = "SELECT attempt_items.score AS score FROM attempt_items JOIN question_versions ON question_versions.id = attempt_items.version_id WHERE question_versions.kind = 'case' ORDER BY attempt_items.id";
    app.ctx
        .db
        .read_blocking(|conn| Ok(diesel::sql_query(sql).load::<Row>(conn)?))
        .unwrap()
        .into_iter()
        .map(|r| r.score)
        .collect()
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = '{action}'");
    app.ctx
        .db
        .read_blocking(|conn| Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n))
        .unwrap()
}

async fn a_disagreement_beyond_the_tolerance_brings_a_third_marker(app: TestApp) {
    let w = world(&app).await;
    sit(&app, &w, "zhangsan", "Answer A.").await;
    tasks(&app, 2).await;
    let open = open_tasks(&app, &w).await;
    // 6 and 8.5 are 2.5 apart: more than 20% of 10 points.
    assert_eq!(
        mark(&app, &w.examiners[open[0].0].1, open[0].1, 6.0)
            .await
            .0,
        204
    );
    assert_eq!(
        mark(&app, &w.examiners[open[1].0].1, open[1].1, 8.5)
            .await
            .0,
        204
    );
    assert_eq!(item_score(&app, &w), vec![None], "no final mark yet");
    let third = open_tasks(&app, &w).await;
    assert_eq!(third.len(), 1, "a third marker");
    let (k, task) = third[0];
    assert!(
        k != 0 && k != open[0].0 && k != open[1].0,
        "a new examiner, not from the candidate's institution"
    );
    let (_, view) = app
        .api(
            Method::GET,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[k].1,
            None,
        )
        .await;
    assert_eq!(view["role"], 3);
    assert!(
        view["marks"].is_null(),
        "the third marker sees no earlier marks"
    );
    // The final mark: the mean of the two closest (8 and 8.5).
    assert_eq!(mark(&app, &w.examiners[k].1, task, 8.0).await.0, 204);
    assert_eq!(item_score(&app, &w), vec![Some(8.25)]);
    assert_eq!(app.count("marking_tasks"), 3, "no fourth marking");
}

pub(crate) fn close_exam(app: &TestApp, exam: i64) {
    let sql = match app.backend {
        Backend::Sqlite => {
            format!("UPDATE exams SET closes_at = datetime('now', '-1 minutes') WHERE id = {exam}")
        }
        Backend::Postgres => format!(
            "UPDATE exams SET closes_at = (now() at time zone 'utc') - interval '1 minute' WHERE id = {exam}"
        ),
    };
    app.ctx
        .db
        .write_blocking(|conn| Ok(diesel::sql_query(sql).execute(conn)?))
        .unwrap();
}

async fn results_are_released_only_when_marking_is_complete(app: TestApp) {
    let w = world(&app).await;
    let (attempt, token) = sit(&app, &w, "zhangsan", "Answer.").await;
    tasks(&app, 2).await;
    let release = |token: String| {
        let app = &app;
        let exam = w.exam;
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/exams/{exam}/release"),
                &token,
                None,
            )
            .await
        }
    };
    // Still open.
    let (status, err) = release(w.admin.clone()).await;
    assert_eq!(status, 409, "{err}");
    close_exam(&app, w.exam);
    // Marking incomplete.
    let (status, err) = release(w.admin.clone()).await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("marking is not complete"),
        "{err}"
    );
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 409, "no result before release");

    for (i, task) in open_tasks(&app, &w).await {
        assert_eq!(mark(&app, &w.examiners[i].1, task, 7.0).await.0, 204);
    }
    // Only the exam's owner releases it.
    let (_, other_admin) = person(
        &app,
        &w.admin,
        "admin2@alliance.example",
        "Second Admin",
        json!(["admin"]),
        None,
    )
    .await;
    assert_eq!(release(other_admin).await.0, 403);
    let (status, status_body) = app
        .api(
            Method::GET,
            &format!("/api/v1/exams/{}/marking", w.exam),
            &w.admin,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(status_body["unmarked_items"], 0);
    assert_eq!(release(w.admin.clone()).await.0, 204);

    // The candidate's result: objective answers wrong (0 of 10), case 7 of
    // 10: 7 of 20 is 35%, below the pass mark of 60; the full review policy
    // shows every question with its correct answer.
    let (status, r) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["score"], 7.0);
    assert_eq!(r["points"], 20);
    assert_eq!(r["percent"], 35);
    assert_eq!(r["passed"], false);
    assert_eq!(r["by_topic"][0]["topic"], "fever");
    assert_eq!(
        r["by_topic"][0]["names"],
        json!({"zh-CN": "发热", "en": "Fever"})
    );
    assert_eq!(r["items"].as_array().unwrap().len(), 6);
    assert!(
        r.to_string().contains("secret model answer"),
        "the model answer is shown after release"
    );
    assert!(
        app.mail_to("zhangsan@longxi.example")
            .iter()
            .any(|m| m.subject.contains("Results are out") || m.subject.contains("成绩已发布"))
    );
    let browser = app.new_browser();
    app.sign_in(&browser, "zhangsan@longxi.example", "doctor test phrase")
        .await;
    let (status, page) = app
        .page(&browser, &format!("/attempts/{attempt}/result"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"failed\""));
    // Topics by name, in the reader's language, never by key.
    assert!(page.contains("<td>发热</td>"), "{page}");
    assert!(!page.contains("<td>fever</td>"), "{page}");
    // A question she left blank says so, rather than showing nothing (her
    // objective answers were skipped; options show as a list instead).
    let blank_without_options =
        r["items"].as_array().unwrap().iter().any(|i| {
            i["your_answer"].is_null() && i["options"].as_array().is_none_or(Vec::is_empty)
        });
    assert_eq!(page.contains("未作答"), blank_without_options, "{page}");
    let result_path = format!("/attempts/{attempt}/result");
    app.submit(
        &browser,
        &result_path,
        "/language",
        &[("lang", "en"), ("next", &result_path)],
    )
    .await;
    let (_, page) = app.page(&browser, &result_path).await;
    assert!(page.contains("<td>Fever</td>"), "{page}");
    // Her case answer as the examiners marked it: per criterion, with their
    // comments, examiners unnamed.
    let case = &r["case_marks"][0];
    assert_eq!(case["final_mark"], 7.0);
    let markers = case["markers"].as_array().unwrap();
    assert!(markers.len() >= 2, "{case}");
    assert_eq!(markers[0]["criteria"][0]["comment"], "per the rubric");
    assert!(
        markers[0]["criteria"][0]["criterion"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        page.contains("id=\"case-marks-") && page.contains("per the rubric"),
        "{page}"
    );
    assert!(
        !page.contains("Examiner "),
        "an examiner is named on the result page"
    );
    // Another candidate cannot see it.
    let (_, other) = doctor(&app, &w.admin, w.longxi, "lisi").await;
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 403);
    // After release, marks are closed.
    let done = queue(&app, &w.examiners[1].1).await;
    if let Some(t) = done["tasks"].as_array().unwrap().first() {
        assert_eq!(
            mark(&app, &w.examiners[1].1, t["task_id"].as_i64().unwrap(), 5.0)
                .await
                .0,
            409
        );
    }
}

/// Three true/false questions every candidate draws (the blueprint takes
/// them all); each answer `true` is right.
fn load_stats_bank(app: &TestApp) {
    load_stats_bank_with(app, true);
}

/// The same bank; `b_answer` is question B's key (a correction flips it).
fn load_stats_bank_with(app: &TestApp, b_answer: bool) {
    let mut text = String::from(
        "[bank]\nid = \"stats\"\ntitle = \"S\"\ntrack = \"paediatrics\"\nversion = 1\n",
    );
    for q in ["A", "B", "C"] {
        let lower = q.to_lowercase();
        text.push_str(&format!(
            "\n[[questions]]\nid = \"stat-{lower}\"\nkind = \"true_false\"\ntopic = \"stats\"\ndifficulty = 2\npoints = 1\nstem = \"Stat {q}\"\nanswer = {}\nexplanation = \"E\"\nreference = \"R\"\n",
            q != "B" || b_answer
        ));
    }
    let bank = gatekeeper::domain::banks::parse(&text).unwrap();
    gatekeeper::services::banks::import(
        &app.ctx.db,
        &[(std::path::PathBuf::from("stats.toml"), bank)],
    )
    .unwrap();
}

async fn item_analysis_flags_a_weak_question_and_removing_it_regrades(app: TestApp) {
    let (admin, _, _) = setup(&app).await;
    load_stats_bank(&app);
    let (_, insts) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let longxi = insts[0]["id"].as_i64().unwrap();
    let mut body = exam_body(-1, 120, 60);
    body["blueprint"] = json!({"sections": [{"title": "K", "topics": ["stats"], "kinds": ["true_false"], "mix": {"2": 3}, "points": 2}]});
    let exam = scheduled(&app, &admin, body).await;
    // Everyone gets A right (too easy to tell anyone apart); B and C split them.
    let matrix = [
        [true, true, true],
        [true, true, false],
        [true, false, true],
        [true, false, false],
        [true, false, false],
    ];
    let mut attempts = Vec::new();
    for (n, row) in matrix.iter().enumerate() {
        let (id, token) = doctor(&app, &admin, longxi, &format!("cand{n}")).await;
        register(&app, &admin, exam, id).await;
        let (_, attempt) = app
            .api(
                Method::POST,
                &format!("/api/v1/exams/{exam}/attempts"),
                &token,
                None,
            )
            .await;
        let attempt_id = attempt["id"].as_i64().unwrap();
        for item in attempt["items"].as_array().unwrap() {
            let which = ["Stat A", "Stat B", "Stat C"]
                .iter()
                .position(|s| item["stem"] == *s)
                .unwrap();
            let (status, _) = app
                .api(
                    Method::PUT,
                    &format!("/api/v1/attempts/{attempt_id}/answers/{}", item["position"]),
                    &token,
                    Some(json!({"answer": row[which], "seq": 1})),
                )
                .await;
            assert_eq!(status, 200);
        }
        app.api(
            Method::POST,
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            &token,
            None,
        )
        .await;
        attempts.push((attempt_id, token));
    }
    close_exam(&app, exam);
    let (_, committee) = person(
        &app,
        &admin,
        "chair@alliance.example",
        "Chair",
        json!(["committee"]),
        None,
    )
    .await;

    // Release waits for the committee: question A is flagged.
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/release"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("flagged"),
        "{err}"
    );
    let (status, a) = app
        .api(
            Method::GET,
            &format!("/api/v1/exams/{exam}/analysis"),
            &committee,
            None,
        )
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["candidates"], 5);
    let item = |key: &str| {
        a["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == key)
            .unwrap()
            .clone()
    };
    let qa = item("stat-a");
    assert_eq!(qa["facility"], 1.0);
    assert_eq!(qa["flags"], json!(["too_easy"]));
    assert_eq!(qa["review"], "open");
    let qb = item("stat-b");
    assert!((qb["facility"].as_f64().unwrap() - 0.4).abs() < 1e-9);
    assert!(qb["flags"].as_array().unwrap().is_empty());
    assert!(qb["item_rest"].as_f64().unwrap() > 0.0);
    // Alpha by hand: item variances 0, .24, .24; totals [3,2,2,1,1] have
    // variance .56; alpha = 3/2 · (1 − .48/.56).
    let alpha = 1.5 * (1.0 - 0.48 / 0.56);
    assert!((a["alpha"].as_f64().unwrap() - alpha).abs() < 1e-9, "{a}");
    // Doctors and examiners do not see it.
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/exams/{exam}/analysis"),
            &attempts[0].1,
            None,
        )
        .await;
    assert_eq!(status, 403);

    // The dry run of removing A shows every result changing; applying it
    // changes exactly those, and needs a reason.
    let qid = qa["question_id"].as_i64().unwrap();
    let url = format!("/api/v1/exams/{exam}/questions/{qid}/review");
    let (status, dry) = app
        .api(
            Method::POST,
            &url,
            &committee,
            Some(json!({"decision": "remove", "dry_run": true})),
        )
        .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry.as_array().unwrap().len(), 5);
    assert_eq!(dry[3]["percent_before"], 33);
    assert_eq!(dry[3]["percent_after"], 0);
    assert_eq!(
        app.count("question_reviews"),
        1,
        "a dry run decides nothing"
    );
    let (status, err) = app
        .api(
            Method::POST,
            &url,
            &committee,
            Some(json!({"decision": "remove"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "reason");
    let (status, applied) = app
        .api(
            Method::POST,
            &url,
            &committee,
            Some(
                json!({"decision": "remove", "reason": "Everyone knows it; it separates no one."}),
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(applied, dry, "the dry run is the change");

    let (_, a) = app
        .api(
            Method::GET,
            &format!("/api/v1/exams/{exam}/analysis"),
            &committee,
            None,
        )
        .await;
    assert_eq!(
        a["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == "stat-a")
            .unwrap()["review"],
        "removed"
    );

    // B's key was wrong: the committee corrects it in the bank (a new
    // version), and the exam is rescored against it.
    load_stats_bank_with(&app, false);
    let qb = qb["question_id"].as_i64().unwrap();
    let url = format!("/api/v1/exams/{exam}/questions/{qb}/review");
    let (status, dry) = app
        .api(
            Method::POST,
            &url,
            &committee,
            Some(json!({"decision": "correct", "dry_run": true})),
        )
        .await;
    assert_eq!(status, 200, "{dry}");
    // Everyone's B flips: candidates 1-2 lose 2 points, 3-5 gain 2.
    assert_eq!(dry.as_array().unwrap().len(), 5);
    assert_eq!(
        (
            dry[0]["percent_before"].as_u64(),
            dry[0]["percent_after"].as_u64()
        ),
        (Some(100), Some(50))
    );
    assert_eq!(
        (
            dry[3]["percent_before"].as_u64(),
            dry[3]["percent_after"].as_u64()
        ),
        (Some(0), Some(50))
    );
    let (status, applied) = app
        .api(
            Method::POST,
            &url,
            &committee,
            Some(json!({"decision": "correct", "reason": "The key was wrong (guideline 2024)."})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(applied, dry, "the dry run is the change");
    // The audit record names the decision taken (it said "removed" for a
    // correction once).
    let detail = app
        .ctx
        .db
        .read_blocking(|conn| Ok(gatekeeper::store::audit::recent(conn, 50)?))
        .unwrap()
        .into_iter()
        .find(|r| {
            r.action == "question.review"
                && r.detail
                    .as_deref()
                    .is_some_and(|d| d.contains("guideline 2024"))
        })
        .and_then(|r| r.detail)
        .unwrap();
    assert!(detail.starts_with("corrected ("), "{detail}");
    // With B corrected, C now goes against the rest of the paper: flagged,
    // and release waits until the committee keeps it, with a reason.
    let (_, a) = app
        .api(
            Method::GET,
            &format!("/api/v1/exams/{exam}/analysis"),
            &committee,
            None,
        )
        .await;
    let open: Vec<Value> = a["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["review"] == "open")
        .cloned()
        .collect();
    assert_eq!(open.len(), 1, "{a}");
    assert_eq!(open[0]["key"], "stat-c");
    assert_eq!(
        app.api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/release"),
            &admin,
            None
        )
        .await
        .0,
        409
    );
    let qc = open[0]["question_id"].as_i64().unwrap();
    let (status, kept) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/questions/{qc}/review"),
            &committee,
            Some(json!({"decision": "keep", "reason": "Sound question; small sample."})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(kept, json!([]), "keeping changes no result");
    assert_eq!(
        app.api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/release"),
            &admin,
            None
        )
        .await
        .0,
        204
    );
    // Candidate 4 (A right, B and C "false"): A removed, B now right: 2 of 4.
    let (attempt, token) = &attempts[3];
    let (_, r) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            token,
            None,
        )
        .await;
    assert_eq!(r["points"], 4);
    assert_eq!(r["percent"], 50);
    assert_eq!(r["items"].as_array().unwrap().len(), 2);
    // Across exams: the question's history (one exam so far).
    let (status, h) = app
        .api(
            Method::GET,
            &format!("/api/v1/questions/{qb}/analysis"),
            &committee,
            None,
        )
        .await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["responses"], 5);
    assert_eq!(h["exams"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/questions/{qb}/analysis"),
            &attempts[0].1,
            None,
        )
        .await;
    assert_eq!(status, 403);
    // The page: a table, a server-drawn chart, the decision recorded.
    let browser = app.new_browser();
    app.sign_in(&browser, "chair@alliance.example", PASSWORD)
        .await;
    let (status, page) = app
        .page(&browser, &format!("/admin/exams/{exam}/analysis"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("<svg") && page.contains("<rect"), "a chart");
    crate::referrals::assert_chart(
        &page,
        "analysis-chart",
        &["难度", "已标记的题目", "标记界限 0.2 与 0.95"],
    );
    assert!(page.contains("Everyone knows it"), "the reason is shown");
    // Candidate 1 (all "true"): B is now wrong: 2 of 4, below the pass mark.
    let (attempt, token) = &attempts[0];
    let (_, r) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            token,
            None,
        )
        .await;
    assert_eq!(
        (r["percent"].as_u64(), r["passed"].as_bool()),
        (Some(50), Some(false))
    );
}

async fn an_appeal_is_re_marked_by_an_examiner_who_has_not_marked_the_answer(app: TestApp) {
    let w = world(&app).await;
    let (attempt, token) = sit(&app, &w, "zhangsan", "My careful answer.").await;
    tasks(&app, 2).await;
    let first_two = open_tasks(&app, &w).await;
    for (i, task) in &first_two {
        assert_eq!(mark(&app, &w.examiners[*i].1, *task, 5.0).await.0, 204);
    }
    close_exam(&app, w.exam);
    let (_, r) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        r["error"]["code"], "conflict",
        "nothing to appeal before release"
    );
    let case_position = {
        let (_, a) = app
            .api(
                Method::GET,
                &format!("/api/v1/attempts/{attempt}"),
                &token,
                None,
            )
            .await;
        a["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "case")
            .unwrap()["position"]
            .as_i64()
            .unwrap()
    };
    let appeal = |body: Value, token: String| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/attempts/{attempt}/appeals"),
                &token,
                Some(body),
            )
            .await
        }
    };
    // Before release: refused.
    let (status, _) = appeal(
        json!({"position": case_position, "reason": "I covered every point."}),
        token.clone(),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        app.api(
            Method::POST,
            &format!("/api/v1/exams/{}/release", w.exam),
            &w.admin,
            None
        )
        .await
        .0,
        204
    );

    // A reason is needed; objective answers are not examiner-marked; another
    // candidate cannot appeal someone else's attempt.
    assert_eq!(
        appeal(
            json!({"position": case_position, "reason": " "}),
            token.clone()
        )
        .await
        .0,
        422
    );
    let objective = if case_position == 1 { 2 } else { 1 };
    assert_eq!(
        appeal(
            json!({"position": objective, "reason": "Please check."}),
            token.clone()
        )
        .await
        .0,
        422
    );
    let (_, other) = doctor(&app, &w.admin, w.longxi, "lisi").await;
    assert_eq!(
        appeal(json!({"position": case_position, "reason": "Mine."}), other)
            .await
            .0,
        403
    );

    let (status, filed) = appeal(
        json!({"position": case_position, "reason": "I covered every point."}),
        token.clone(),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    assert_eq!(filed["mark_before"], 5.0);
    assert_eq!(
        appeal(
            json!({"position": case_position, "reason": "Again."}),
            token.clone()
        )
        .await
        .0,
        409,
        "one appeal per answer"
    );

    // The re-mark goes to the one eligible examiner who has not marked it.
    let remark = open_tasks(&app, &w).await;
    assert_eq!(remark.len(), 1);
    let (k, task) = remark[0];
    assert!(
        k != 0 && first_two.iter().all(|(i, _)| *i != k),
        "a new examiner"
    );
    let (_, view) = app
        .api(
            Method::GET,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[k].1,
            None,
        )
        .await;
    assert_eq!(view["role"], 4);
    assert!(
        view["marks"].is_null(),
        "the re-marker sees no earlier marks"
    );
    assert!(!view.to_string().contains("zhangsan"));
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[k].1,
            Some(json!({"marks": [{"points": 8.0, "comment": "All criteria are met."}]})),
        )
        .await;
    assert_eq!(status, 204);

    // The outcome is recorded and shown, and the result follows it.
    let (_, r) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            &token,
            None,
        )
        .await;
    assert_eq!(r["score"], 8.0, "{r}");
    assert_eq!(r["appeals"][0]["status"], "decided");
    assert_eq!(r["appeals"][0]["mark_after"], 8.0);
    assert!(
        r["appeals"][0]["outcome"]
            .as_str()
            .unwrap()
            .contains("from 5 to 8: All criteria are met.")
    );
    assert!(app.mail_to("zhangsan@longxi.example").iter().any(|m| {
        m.subject.contains("appeal has been decided") || m.subject.contains("申诉已有结果")
    }));
    // A decided appeal is closed.
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[k].1,
            Some(json!({"marks": [{"points": 9.0, "comment": ""}]})),
        )
        .await;
    assert_eq!(status, 409);
}

async fn late_marking_is_reminded_and_identity_reveals_are_recorded(app: TestApp) {
    let w = world(&app).await;
    let (attempt, _) = sit(&app, &w, "zhangsan", "Answer.").await;
    tasks(&app, 2).await;
    let late = |app: &TestApp| {
        (1..=3)
            .map(|i| {
                app.mail_to(&format!("e{i}@tch.example"))
                    .iter()
                    .filter(|m| m.subject.contains("overdue") || m.subject.contains("逾期"))
                    .count()
            })
            .sum::<usize>()
    };
    assert_eq!(late(&app), 0);
    let sql = match app.backend {
        Backend::Sqlite => {
            "UPDATE marking_tasks SET due_at = datetime('now', '-1 hours')".to_owned()
        }
        Backend::Postgres => {
            "UPDATE marking_tasks SET due_at = (now() at time zone 'utc') - interval '1 hour'"
                .to_owned()
        }
    };
    app.ctx
        .db
        .write_blocking(|conn| Ok(diesel::sql_query(sql).execute(conn)?))
        .unwrap();
    for _ in 0..50 {
        if late(&app) >= 2 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(late(&app), 2, "each late examiner is told");
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(late(&app), 2, "once");
    let (_, q) = app
        .api(
            Method::GET,
            "/api/v1/marking",
            &w.examiners[open_tasks(&app, &w).await[0].0].1,
            None,
        )
        .await;
    assert_eq!(q["tasks"][0]["late"], true);

    // Revealing who wrote a coded attempt: admins only, with a reason, recorded.
    let (_, view) = {
        let (i, task) = open_tasks(&app, &w).await[0];
        app.api(
            Method::GET,
            &format!("/api/v1/marking/{task}"),
            &w.examiners[i].1,
            None,
        )
        .await
    };
    let code = view["code"].as_str().unwrap().to_owned();
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/identity-reveals",
            &w.examiners[1].1,
            Some(json!({"code": code, "reason": "curious"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/identity-reveals",
            &w.admin,
            Some(json!({"code": code, "reason": ""})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, who) = app
        .api(
            Method::POST,
            "/api/v1/identity-reveals",
            &w.admin,
            Some(json!({"code": code, "reason": "Complaint 2026-17"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(who["name"], "zhangsan");
    assert_eq!(who["attempt_id"], attempt);
    assert_eq!(
        audit_count(&app, "identity.reveal"),
        1,
        "the reveal is recorded (the refusal is audited as a refused authorisation)"
    );
}

async fn the_committee_sets_the_pass_mark_by_modified_angoff(app: TestApp) {
    let (admin, _, doctor_token) = setup(&app).await;
    load_stats_bank(&app);
    let mut body = exam_body(60, 180, 60);
    body["blueprint"] = json!({"sections": [{"title": "K", "topics": ["stats"], "kinds": ["true_false"], "mix": {"2": 3}, "points": 2}]});
    let exam = scheduled(&app, &admin, body).await;
    let (members, setting) = standard_setting(&app, &admin, exam).await;
    assert_eq!(setting["version"], 1);
    assert_eq!(
        setting["questions"].as_array().unwrap().len(),
        3,
        "every question the paper can hold"
    );
    let id = setting["id"].as_i64().unwrap();
    let qs: Vec<i64> = setting["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["question_id"].as_i64().unwrap())
        .collect();
    let rate = |token: String, ps: [f64; 3]| {
        let app = &app;
        let ratings: Vec<Value> = qs
            .iter()
            .zip(ps)
            .map(|(q, p)| json!({"question_id": q, "probability": p}))
            .collect();
        async move {
            app.api(
                Method::PUT,
                &format!("/api/v1/standard-settings/{id}/ratings"),
                &token,
                Some(json!({"ratings": ratings})),
            )
            .await
        }
    };
    // Doctors and admins who are not committee members do not rate.
    assert_eq!(rate(doctor_token.clone(), [0.5, 0.5, 0.5]).await.0, 403);
    assert_eq!(rate(admin.clone(), [0.5, 0.5, 0.5]).await.0, 403);
    let (status, err) = rate(members[0].clone(), [0.5, 1.5, 0.5]).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "ratings[1]");
    // Expected scores 50%, 60% and 70%: the cut is their mean, 60%.
    assert_eq!(rate(members[0].clone(), [0.5, 0.5, 0.5]).await.0, 200);
    assert_eq!(rate(members[1].clone(), [0.6, 0.6, 0.6]).await.0, 200);
    let (status, early) = app
        .api(
            Method::POST,
            &format!("/api/v1/standard-settings/{id}/approve"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(status, 409, "two raters are not enough: {early}");
    // The third member rates in the page.
    let browser = app.new_browser();
    app.sign_in(&browser, "m2@alliance.example", PASSWORD).await;
    let page_url = format!("/standard-settings/{id}");
    let fields: Vec<(String, String)> = qs
        .iter()
        .zip(["0.9", "0.6", "0.6"])
        .map(|(q, p)| (format!("q{q}"), p.to_owned()))
        .collect();
    let mut borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    borrowed.push(("action", "rate"));
    let res = app.submit(&browser, &page_url, &page_url, &borrowed).await;
    assert_eq!(res.status(), 303);
    let (_, html) = app.page(&browser, &page_url).await;
    assert!(html.contains("60.0"), "the cut score shows");
    let (_, view) = rate(members[2].clone(), [0.9, 0.6, 0.6]).await; // the same again, idempotent
    assert_eq!(view["complete_raters"], 3);
    assert!(
        (view["cut_score"].as_f64().unwrap() - 60.0).abs() < 1e-9,
        "{view}"
    );
    assert_eq!(
        view["questions"][0]["my_rating"], 0.9,
        "one's own ratings only"
    );
    let (status, approved) = app
        .api(
            Method::POST,
            &format!("/api/v1/standard-settings/{id}/approve"),
            &members[1],
            None,
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["pass_mark"], 60);
    let (_, exams) = app.api(Method::GET, "/api/v1/exams", &admin, None).await;
    assert_eq!(exams[0]["pass_mark"], 60);
    assert_eq!(audit_count(&app, "standard.approve"), 1);
    // A second round is version 2.
    let (_, again) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/standard-settings"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(again["version"], 2);
}

async fn a_practical_station_is_marked_by_the_observing_examiner(app: TestApp) {
    let w = world(&app).await;
    let (candidate, candidate_token) = doctor(&app, &w.admin, w.longxi, "zhangsan").await;
    let (status, station) = app
        .api(Method::POST, "/api/v1/practical-stations", &w.admin, Some(json!({"track": "paediatrics", "title": "Infant resuscitation", "question": "c-0", "pass_percent": 70})))
        .await;
    assert_eq!(status, 201, "{station}");
    assert_eq!(station["points"], 10);
    assert_eq!(station["rubric"].as_array().unwrap().len(), 1);
    let (status, _) = app
        .api(Method::POST, "/api/v1/practical-stations", &w.admin, Some(json!({"track": "paediatrics", "title": "X", "question": "s-0", "pass_percent": 70})))
        .await;
    assert_eq!(status, 422, "an objective question has no rubric");
    let id = station["id"].as_i64().unwrap();
    let record = |token: String, points: f64| {
        let app = &app;
        async move {
            app.api(Method::POST, &format!("/api/v1/practical-stations/{id}/results"), &token, Some(json!({"person_id": candidate, "marks": [{"points": points, "comment": "Observed"}]})))
                .await
        }
    };
    // Not by the candidate's own institution, not by a doctor, and within the rubric.
    assert_eq!(record(w.examiners[0].1.clone(), 8.0).await.0, 409);
    assert_eq!(record(candidate_token.clone(), 8.0).await.0, 403);
    assert_eq!(record(w.examiners[1].1.clone(), 12.0).await.0, 422);
    let (status, r) = record(w.examiners[1].1.clone(), 6.5).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["passed"], false, "6.5 of 10 is below 70%");
    // The observer corrects it; nobody else can.
    assert_eq!(record(w.examiners[2].1.clone(), 9.0).await.0, 409);
    let (_, r) = record(w.examiners[1].1.clone(), 7.0).await;
    assert_eq!(r["passed"], true);
    let (status, mine) = app
        .api(
            Method::GET,
            "/api/v1/practical-results",
            &candidate_token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(mine[0]["total"], 7.0);
    assert_eq!(mine[0]["station"], "Infant resuscitation");
    // The observer corrects it again in the station's page, by the candidate's email.
    let browser = app.new_browser();
    app.sign_in(&browser, "e1@tch.example", PASSWORD).await;
    let station_url = format!("/stations/{id}");
    let res = app
        .submit(
            &browser,
            &station_url,
            &station_url,
            &[
                ("email", "zhangsan@longxi.example"),
                ("points0", "7.5"),
                ("comment0", "Good"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"recorded\""));
    let (_, mine) = app
        .api(
            Method::GET,
            "/api/v1/practical-results",
            &candidate_token,
            None,
        )
        .await;
    assert_eq!(mine[0]["total"], 7.5);
    assert_eq!(audit_count(&app, "practical.record"), 3);
    let (_, other) = doctor(&app, &w.admin, w.longxi, "lisi").await;
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/practical-results?person_id={candidate}"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 403);
}

/// Results need not wait for a window set weeks ago: the owner closes the
/// exam once everyone registered has submitted, or with a reason; never on
/// a candidate sitting it.
async fn the_owner_closes_an_exam_early_when_everyone_has_sat_it_or_says_why(app: TestApp) {
    let w = world(&app).await;
    let close = |token: String, body: Value| {
        let app = &app;
        let exam = w.exam;
        async move {
            app.api(
                Method::POST,
                &format!("/api/v1/exams/{exam}/close"),
                &token,
                Some(body),
            )
            .await
        }
    };
    sit(&app, &w, "zhangsan", "Answer.").await;
    // A second candidate has started and not submitted: nobody is cut off.
    let (id, lisi) = doctor(&app, &w.admin, w.longxi, "lisi").await;
    register(&app, &w.admin, w.exam, id).await;
    let (status, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{}/attempts", w.exam),
            &lisi,
            None,
        )
        .await;
    assert!(status == 200 || status == 201, "{attempt}");
    let (status, body) = close(w.admin.clone(), json!({"reason": "the paper leaked"})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sitting it now (1)")
    );
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{}/submit", attempt["id"]),
            &lisi,
            None,
        )
        .await;
    assert!((200..300).contains(&status));
    // A third is registered and has not sat it: only a reason closes it.
    let (id, _) = doctor(&app, &w.admin, w.longxi, "wangwu").await;
    register(&app, &w.admin, w.exam, id).await;
    let (status, body) = close(w.admin.clone(), json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "reason");
    // Only the owner closes it.
    let (_, other_admin) = person(
        &app,
        &w.admin,
        "admin2@alliance.example",
        "Second Admin",
        json!(["admin"]),
        None,
    )
    .await;
    assert_eq!(close(other_admin, json!({"reason": "x"})).await.0, 403);
    let (status, body) = close(
        w.admin.clone(),
        json!({"reason": "wangwu withdrew; results are due"}),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    // Closed: for everyone, now; marking follows as after any close.
    assert_eq!(
        close(w.admin.clone(), json!({"reason": "again"})).await.0,
        409
    );
    let (_, exams) = app.api(Method::GET, "/api/v1/exams", &w.admin, None).await;
    let exam = exams
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == w.exam)
        .unwrap()
        .clone();
    let closes_at =
        chrono::DateTime::parse_from_rfc3339(exam["closes_at"].as_str().unwrap()).unwrap();
    assert!(closes_at <= chrono::Utc::now());
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'exam.close_early' AND detail LIKE '%wangwu withdrew%'"),
        1
    );
    tasks(&app, 2).await;
}
