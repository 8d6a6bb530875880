//! Fair decisions (issue 14) over HTTP on both databases: the exam as the
//! committee sees it (pass mark, standard setting weighted by the paper);
//! concurrent starts that draw papers keep exposure balanced.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::exams::{doctor, exam_body, load_bank, register, scheduled, setup};
use crate::grading::person;
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    the_exam_shows_its_pass_mark_and_standard_setting_weighted_by_the_paper,
    concurrent_starts_that_draw_papers_keep_exposure_balanced,
);

async fn the_exam_shows_its_pass_mark_and_standard_setting_weighted_by_the_paper(app: TestApp) {
    let (admin, _, doctor_token) = setup(&app).await;
    load_bank(&app);
    // The blueprint draws 3 of the 8 two-point questions of difficulty 2,
    // 2 of the 4 of difficulty 3 and 1 of the 2 ten-point cases: a 20-point
    // paper from a 44-point pool.
    let exam = scheduled(&app, &admin, exam_body(60, 180, 60)).await;
    let mut members = Vec::new();
    for i in 0..3 {
        members.push(
            person(
                &app,
                &admin,
                &format!("m{i}@alliance.example"),
                &format!("Member {i}"),
                json!(["committee"]),
                None,
            )
            .await
            .1,
        );
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
    let id = setting["id"].as_i64().unwrap();
    let questions = setting["questions"].as_array().unwrap().clone();
    assert_eq!(questions.len(), 14);
    let weight_sum: f64 = questions
        .iter()
        .map(|q| q["weight"].as_f64().unwrap())
        .sum();
    assert!(
        (weight_sum - 20.0).abs() < 1e-9,
        "the weights make one paper: {weight_sum}"
    );
    // Every member: a borderline candidate gets every objective question
    // right and no case. On the paper that is 10 of 20 points, 50%; by
    // points over the whole pool it would be 24 of 44, 54.5%.
    let ratings: Vec<Value> = questions
        .iter()
        .map(|q| {
            let p = if q["points"] == 10 { 0.0 } else { 1.0 };
            json!({"question_id": q["question_id"], "probability": p})
        })
        .collect();
    for token in &members {
        let (status, view) = app
            .api(
                Method::PUT,
                &format!("/api/v1/standard-settings/{id}/ratings"),
                token,
                Some(json!({"ratings": ratings})),
            )
            .await;
        assert_eq!(status, 200, "{view}");
    }
    let (status, approved) = app
        .api(
            Method::POST,
            &format!("/api/v1/standard-settings/{id}/approve"),
            &members[1],
            None,
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert!(
        (approved["cut_score"].as_f64().unwrap() - 50.0).abs() < 1e-9,
        "{approved}"
    );
    assert_eq!(approved["pass_mark"], 50);
    // A second round, still rating.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/standard-settings"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(status, 201);

    // The owner (an admin) and the committee read the exam.
    for token in [&admin, &members[2]] {
        let (status, e) = app
            .api(Method::GET, &format!("/api/v1/exams/{exam}"), token, None)
            .await;
        assert_eq!(status, 200, "{e}");
        assert_eq!(e["exam"]["id"], exam);
        assert_eq!(e["exam"]["pass_mark"], 50);
        assert_eq!(e["exam"]["total_points"], 20);
        assert_eq!(e["exam"]["blueprint"]["sections"][1]["points"], 10);
        assert!(e["exam"]["opens_at"].is_string() && e["exam"]["closes_at"].is_string());
        assert_eq!(e["owner"], "Ada Admin");
        assert_eq!(e["pass_mark_set_by"], 1);
        assert!(e["results_released_at"].is_null() && e["appeal_until"].is_null());
        let rounds = e["standard_settings"].as_array().unwrap();
        assert_eq!(rounds.len(), 2);
        assert_eq!(
            (rounds[0]["version"].as_i64(), rounds[0]["status"].as_str()),
            (Some(1), Some("approved"))
        );
        assert!((rounds[0]["cut_score"].as_f64().unwrap() - 50.0).abs() < 1e-9);
        assert_eq!(rounds[0]["pass_mark"], 50);
        assert_eq!(rounds[0]["complete_raters"], 3);
        assert_eq!(rounds[0]["approved_by"], "Member 1");
        assert_eq!(
            (
                rounds[1]["status"].as_str(),
                rounds[1]["cut_score"].is_null()
            ),
            (Some("rating"), true)
        );
    }
    // Refusals: a doctor (403), no token (401), an unknown exam (404).
    let (status, err) = app
        .api(
            Method::GET,
            &format!("/api/v1/exams/{exam}"),
            &doctor_token,
            None,
        )
        .await;
    assert_eq!(status, 403, "{err}");
    let res = app
        .client
        .get(app.url(&format!("/api/v1/exams/{exam}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (status, err) = app
        .api(Method::GET, "/api/v1/exams/999999", &admin, None)
        .await;
    assert_eq!(status, 404, "{err}");
    // The OpenAPI document describes it.
    let (_, doc) = app.api(Method::GET, "/api/v1/openapi.json", "", None).await;
    let get = &doc["paths"]["/api/v1/exams/{id}"]["get"];
    for code in ["200", "401", "403", "404"] {
        assert!(get["responses"][code].is_object(), "{code}: {get}");
    }
    assert!(doc["components"]["schemas"]["ExamDetail"].is_object());
}

async fn concurrent_starts_that_draw_papers_keep_exposure_balanced(app: TestApp) {
    let (admin, _, _) = setup(&app).await;
    load_bank(&app);
    let (_, insts) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let longxi = insts[0]["id"].as_i64().unwrap();
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    let mut tokens = Vec::new();
    for i in 0..16 {
        let (id, token) = doctor(&app, &admin, longxi, &format!("cand{i:02}")).await;
        register(&app, &admin, exam, id).await;
        tokens.push(token);
    }
    // No paper is drawn ahead: every start draws one, all at once.
    let path = format!("/api/v1/exams/{exam}/attempts");
    let starts = tokens.iter().map(|t| app.api(Method::POST, &path, t, None));
    let outcomes = futures_util::future::join_all(starts).await;
    for (status, body) in &outcomes {
        assert_eq!(*status, 200, "{body}");
    }
    assert_eq!(app.count("attempts"), 16);
    // Each cell of the blueprint (section, difficulty): every question
    // drawn, and no question drawn more than once more than another.
    #[derive(diesel::QueryableByName)]
    struct Drawn {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        section: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        difficulty: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT ai.section AS section, qv.difficulty AS difficulty, COUNT(*) AS n \
         FROM attempt_items ai JOIN question_versions qv ON qv.id = ai.version_id \
         JOIN attempts a ON a.id = ai.attempt_id WHERE a.exam_id = {exam} \
         GROUP BY ai.question_id, ai.section, qv.difficulty"
    );
    let rows = app
        .ctx
        .db
        .read_blocking(move |conn| {
            Ok(diesel::RunQueryDsl::load::<Drawn>(
                diesel::sql_query(sql),
                conn,
            )?)
        })
        .unwrap();
    let mut cells: BTreeMap<(i32, i32), Vec<i64>> = BTreeMap::new();
    for r in rows {
        cells
            .entry((r.section, r.difficulty))
            .or_default()
            .push(r.n);
    }
    // 8 questions of difficulty 2 (3 a paper), 4 of 3 (2), 2 cases (1).
    let sizes: BTreeMap<(i32, i32), usize> = [((0, 2), 8), ((0, 3), 4), ((1, 4), 2)]
        .into_iter()
        .collect();
    for (cell, counts) in &cells {
        assert_eq!(Some(&counts.len()), sizes.get(cell), "{cell:?}: {counts:?}");
        let spread = counts.iter().max().unwrap() - counts.iter().min().unwrap();
        assert!(
            spread <= 1,
            "exposure spread {spread} in {cell:?}: {counts:?}"
        );
    }
    assert_eq!(cells.len(), 3);
}
