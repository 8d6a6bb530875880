//! Fair decisions (issue 14) over HTTP on both databases: an appeal's
//! re-mark under each appeal rule and the case following the final result
//! (back to the failed stage with its registration for the next cancelled,
//! or on to the next); the mail each event sends; the re-marker told; the
//! failed case showing the appeal deadline; the exam as the committee sees
//! it (pass mark, standard setting weighted by the paper, seeds in the
//! dossier); concurrent starts that draw papers keeping exposure balanced.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::certification::{case_exam, my_case};
use crate::exams::{doctor, exam_body, load_bank, register, scheduled, setup};
use crate::grading::{
    PASSWORD, World, close_exam, mark, open_tasks, person, sit, standard_setting, tasks, world,
};
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    a_lowered_re_mark_stands_and_the_case_goes_back_to_the_failed_stage,
    under_no_detriment_a_lower_re_mark_keeps_the_mark_and_a_higher_one_moves_the_case_on,
    the_exam_shows_its_pass_mark_and_standard_setting_weighted_by_the_paper,
    concurrent_starts_that_draw_papers_keep_exposure_balanced,
);

/// The doctor reads mail and pages in English.
async fn english(app: &TestApp, token: &str) {
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/me/locale",
            token,
            Some(json!({"locale": "en"})),
        )
        .await;
    assert!(status == 200 || status == 204, "{body}");
}

/// The paper position of the attempt's case answer.
async fn case_position(app: &TestApp, attempt: i64, token: &str) -> i64 {
    let (_, a) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}"),
            token,
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
}

/// Marks every open task `points`.
async fn mark_all(app: &TestApp, w: &World, points: f64) {
    for (i, task) in open_tasks(app, w).await {
        assert_eq!(mark(app, &w.examiners[i].1, task, points).await.0, 204);
    }
}

async fn release(app: &TestApp, w: &World) {
    close_exam(app, w.exam);
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{}/release", w.exam),
            &w.admin,
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

async fn appeal(app: &TestApp, attempt: i64, token: &str) -> (u16, Value) {
    let position = case_position(app, attempt, token).await;
    app.api(
        Method::POST,
        &format!("/api/v1/attempts/{attempt}/appeals"),
        token,
        Some(json!({"position": position, "reason": "Every criterion is covered."})),
    )
    .await
}

async fn result(app: &TestApp, attempt: i64, token: &str) -> Value {
    let (status, r) = app
        .api(
            Method::GET,
            &format!("/api/v1/attempts/{attempt}/result"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{r}");
    r
}

/// The admin registers a doctor for an exam (through the pipeline).
async fn register_for(app: &TestApp, w: &World, exam: i64, person: i64) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/exams/{exam}/registrations"),
        &w.admin,
        Some(json!({"person_id": person})),
    )
    .await
}

/// The one open re-mark: (examiner index, task id).
async fn the_re_mark(app: &TestApp, w: &World) -> (usize, i64) {
    let open = open_tasks(app, w).await;
    assert_eq!(open.len(), 1, "one re-mark: {open:?}");
    open[0]
}

/// (subject, text) of every mail to an address, newest first.
fn mails(app: &TestApp, address: &str) -> Vec<(String, String)> {
    app.mail_to(address)
        .into_iter()
        .map(|m| (m.subject, m.body_text))
        .collect()
}

fn person_id(app: &TestApp, email: &str) -> i64 {
    app.scalar(&format!(
        "SELECT id AS n FROM people WHERE email = '{email}'"
    ))
}

async fn a_lowered_re_mark_stands_and_the_case_goes_back_to_the_failed_stage(app: TestApp) {
    let w = world(&app).await;
    // Objective answers are left blank: the case answer (10 of 20 points)
    // decides; 8 of 20 is exactly the pass mark of 40%.
    app.exec(&format!(
        "UPDATE exams SET pass_mark = 40 WHERE id = {}",
        w.exam
    ));
    let case_stage = scheduled(&app, &w.admin, case_exam()).await;
    let (lowered, lowered_token) = sit(&app, &w, "zhangsan", "A careful answer.").await;
    english(&app, &lowered_token).await;
    tasks(&app, 2).await;
    mark_all(&app, &w, 8.0).await;
    let (kept, kept_token) = sit(&app, &w, "lisi", "Another careful answer.").await;
    english(&app, &kept_token).await;
    tasks(&app, 4).await;
    mark_all(&app, &w, 8.0).await;
    release(&app, &w).await;

    // Both passed: their cases moved on, and the admin registers them for
    // the case assessment.
    let zhangsan = person_id(&app, "zhangsan@longxi.example");
    let lisi = person_id(&app, "lisi@longxi.example");
    for (token, id) in [(&lowered_token, zhangsan), (&kept_token, lisi)] {
        assert_eq!(my_case(&app, token).await["stage"], "case_assessment");
        let (status, body) = register_for(&app, &w, case_stage, id).await;
        assert_eq!(status, 201, "{body}");
    }
    // The result page tells the rule before anyone appeals.
    let r = result(&app, lowered, &lowered_token).await;
    assert_eq!(r["appeal_rule"], "remark_stands");
    let browser = app.new_browser();
    app.sign_in(&browser, "zhangsan@longxi.example", "doctor test phrase")
        .await;
    let (_, page) = app
        .page(&browser, &format!("/attempts/{lowered}/result"))
        .await;
    assert!(
        page.contains("id=\"appeal-rule\"") && page.contains("an appeal can lower your mark"),
        "{page}"
    );

    // Zhangsan appeals; the re-marker is told at once.
    let (status, filed) = appeal(&app, lowered, &lowered_token).await;
    assert_eq!(status, 201, "{filed}");
    let (k, task) = the_re_mark(&app, &w).await;
    let re_marker = format!("e{k}@tch.example");
    let told: Vec<(String, String)> = mails(&app, &re_marker)
        .into_iter()
        .filter(|(_, text)| text.contains(&format!("/marking/{task}")))
        .collect();
    assert_eq!(told.len(), 1, "the re-marker is told once: {told:?}");
    assert!(
        told[0].0.contains("re-mark") || told[0].0.contains("复评"),
        "{told:?}"
    );
    assert!(
        !told[0].1.contains("zhangsan"),
        "the re-marker is not told who appealed"
    );

    // The re-mark is lower and stands: 6 of 20 is 30%, a fail.
    assert_eq!(mark(&app, &w.examiners[k].1, task, 6.0).await.0, 204);
    let r = result(&app, lowered, &lowered_token).await;
    assert_eq!(
        (r["score"].as_f64(), r["passed"].as_bool()),
        (Some(6.0), Some(false))
    );
    assert_eq!(r["appeals"][0]["mark_after"], 6.0);
    assert_eq!(r["appeals"][0]["mark_final"], 6.0);
    assert_eq!(r["appeals"][0]["rule"], "remark_stands");

    // The case follows the final result: back at the written exam, with
    // why; the registration for the case assessment is cancelled and a new
    // one refused.
    let case = my_case(&app, &lowered_token).await;
    assert_eq!(case["stage"], "written_exam", "{case}");
    let last = case["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["from"].as_str(), last["reason"].as_str()),
        (Some("case_assessment"), Some("pass_withdrawn"))
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM registrations WHERE exam_id = {case_stage} AND person_id = {zhangsan}"
        )),
        0
    );
    let (status, err) = register_for(&app, &w, case_stage, zhangsan).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["field"], "case");
    // The retake policy applies as to any failure: one failed attempt.
    assert_eq!(case["attempts_used"], 1);

    // The failed case shows until when its result may still be appealed.
    assert_eq!(case["appeal_until"], r["appeal_until"], "{case}");
    assert_eq!(case["appeal_attempt_id"], lowered);
    let (status, page) = app.page(&browser, &format!("/cases/{}", case["id"])).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"appeal-until\""), "{page}");
    assert!(page.contains(&format!("/attempts/{lowered}/result")));
    assert!(page.contains("A result it had passed on changed and no longer passes"));

    // Each event has its own mail: the appeal's outcome (lowered, no longer
    // a pass) and the case going back, naming the cancelled registration;
    // nothing about a question removed after item analysis.
    let got = mails(&app, "zhangsan@longxi.example");
    let decided: Vec<&(String, String)> = got
        .iter()
        .filter(|(s, _)| s.contains("Your appeal has been decided"))
        .collect();
    assert_eq!(decided.len(), 1, "{got:?}");
    assert!(
        decided[0].1.contains("the re-mark stands")
            && decided[0].1.contains("from 8 to 6")
            && decided[0].1.contains("no longer pass"),
        "{}",
        decided[0].1
    );
    let returned: Vec<&(String, String)> = got
        .iter()
        .filter(|(s, _)| s.contains("back at an earlier stage"))
        .collect();
    assert_eq!(returned.len(), 1, "{got:?}");
    assert!(
        returned[0].1.contains("Written exam")
            && returned[0].1.contains("Paediatrics case assessment"),
        "{}",
        returned[0].1
    );
    assert!(got.iter().all(|(_, t)| !t.contains("removed a question")));

    // Lisi's appeal is re-marked at the same mark: nothing changes, and the
    // mail says so rather than that the result changed.
    let (status, _) = appeal(&app, kept, &kept_token).await;
    assert_eq!(status, 201);
    let (k, task) = the_re_mark(&app, &w).await;
    assert_eq!(mark(&app, &w.examiners[k].1, task, 8.0).await.0, 204);
    let r = result(&app, kept, &kept_token).await;
    assert_eq!(
        (r["score"].as_f64(), r["passed"].as_bool()),
        (Some(8.0), Some(true))
    );
    assert_eq!(my_case(&app, &kept_token).await["stage"], "case_assessment");
    let (status, _) = register_for(&app, &w, case_stage, lisi).await;
    assert_eq!(
        status, 201,
        "still at the case assessment: registration allowed"
    );
    let got = mails(&app, "lisi@longxi.example");
    let decided: Vec<&(String, String)> = got
        .iter()
        .filter(|(s, _)| s.contains("Your appeal has been decided"))
        .collect();
    assert_eq!(decided.len(), 1, "{got:?}");
    assert!(decided[0].1.contains("unchanged"), "{}", decided[0].1);
    assert!(
        got.iter().all(|(s, t)| !s.contains("result has changed")
            && !t.contains("recalculated")
            && !t.contains("removed a question")
            && !s.contains("earlier stage")),
        "{got:?}"
    );

    // The committee sees the paper's seed in the dossier, and it is the
    // seed the paper was drawn from.
    let (_, chair) = person(
        &app,
        &w.admin,
        "chair@alliance.example",
        "Chair",
        json!(["committee"]),
        None,
    )
    .await;
    let (status, dossier) = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{}/dossier", case["id"]),
            &chair,
            None,
        )
        .await;
    assert_eq!(status, 200, "{dossier}");
    let seed = app.scalar(&format!(
        "SELECT seed AS n FROM attempts WHERE id = {lowered}"
    ));
    assert_eq!(dossier["exams"][0]["attempt_id"], lowered);
    assert_eq!(dossier["exams"][0]["seed"], seed.to_string());
    assert_eq!(dossier["exams"][0]["appeals"][0]["rule"], "remark_stands");
    let chair_browser = app.new_browser();
    app.sign_in(&chair_browser, "chair@alliance.example", PASSWORD)
        .await;
    let (status, page) = app
        .page(&chair_browser, &format!("/committee/cases/{}", case["id"]))
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&seed.to_string()),
        "the dossier page shows the seed"
    );
}

async fn under_no_detriment_a_lower_re_mark_keeps_the_mark_and_a_higher_one_moves_the_case_on(
    app: TestApp,
) {
    let w = world(&app).await;
    app.exec(&format!(
        "UPDATE exams SET pass_mark = 40 WHERE id = {}",
        w.exam
    ));
    let case_stage = scheduled(&app, &w.admin, case_exam()).await;
    let (passed, passed_token) = sit(&app, &w, "zhangsan", "A careful answer.").await;
    english(&app, &passed_token).await;
    tasks(&app, 2).await;
    mark_all(&app, &w, 8.0).await;
    let (failed, failed_token) = sit(&app, &w, "lisi", "A short answer.").await;
    english(&app, &failed_token).await;
    tasks(&app, 4).await;
    mark_all(&app, &w, 6.0).await;
    release(&app, &w).await;
    let zhangsan = person_id(&app, "zhangsan@longxi.example");
    assert_eq!(register_for(&app, &w, case_stage, zhangsan).await.0, 201);

    // The committee chooses "no detriment" on the policy page; the API
    // shows it and refuses a rule it does not know, naming the field.
    let (_, chair) = person(
        &app,
        &w.admin,
        "chair@alliance.example",
        "Chair",
        json!(["committee"]),
        None,
    )
    .await;
    let (status, policy) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/policy",
            &chair,
            None,
        )
        .await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["appeal_rule"], "remark_stands", "the default");
    let mut bad = policy.clone();
    bad["appeal_rule"] = json!("lenient");
    let (status, err) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &chair,
            Some(bad),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "appeal_rule");
    let browser = app.new_browser();
    app.sign_in(&browser, "chair@alliance.example", PASSWORD)
        .await;
    let form = "/committee/tracks/paediatrics/policy";
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut fields: Vec<(String, String)> = [
        "code",
        "validity_months",
        "renewal_credit_hours",
        "stage_attempts",
        "retake_wait_days",
        "cooloff_days",
        "quorum",
        "inappropriate_threshold",
        "flag_min_rated",
        "choice_scoring",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), text(&policy[*k])))
    .collect();
    fields.push(("appeal_rule".into(), "no_detriment".into()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let res = app.submit(&browser, form, form, &borrowed).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("value=\"no_detriment\" id=\"appeal-no-detriment\" checked"),
        "{page}"
    );
    let (_, policy) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/policy",
            &chair,
            None,
        )
        .await;
    assert_eq!(policy["appeal_rule"], "no_detriment");

    // A lower re-mark does not count: the mark, the pass, the case and the
    // registration for the next stage all stay.
    assert_eq!(appeal(&app, passed, &passed_token).await.0, 201);
    let (k, task) = the_re_mark(&app, &w).await;
    assert_eq!(mark(&app, &w.examiners[k].1, task, 6.0).await.0, 204);
    let r = result(&app, passed, &passed_token).await;
    assert_eq!(
        (r["score"].as_f64(), r["passed"].as_bool()),
        (Some(8.0), Some(true))
    );
    assert_eq!(r["appeal_rule"], "no_detriment");
    assert_eq!(
        (
            r["appeals"][0]["mark_after"].as_f64(),
            r["appeals"][0]["mark_final"].as_f64()
        ),
        (Some(6.0), Some(8.0))
    );
    assert_eq!(
        my_case(&app, &passed_token).await["stage"],
        "case_assessment"
    );
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM registrations WHERE exam_id = {case_stage} AND person_id = {zhangsan}"
        )),
        1
    );
    let got = mails(&app, "zhangsan@longxi.example");
    let decided: Vec<&(String, String)> = got
        .iter()
        .filter(|(s, _)| s.contains("Your appeal has been decided"))
        .collect();
    assert_eq!(decided.len(), 1, "{got:?}");
    assert!(
        decided[0].1.contains("no-detriment") && decided[0].1.contains("stays 8"),
        "{}",
        decided[0].1
    );
    assert!(got.iter().all(|(s, _)| !s.contains("earlier stage")));

    // Lisi failed (6 of 20): the case waits at the written exam and shows
    // the appeal deadline; a higher re-mark passes and moves it on.
    let case = my_case(&app, &failed_token).await;
    assert_eq!(case["stage"], "written_exam");
    let r = result(&app, failed, &failed_token).await;
    assert_eq!(r["passed"], false);
    assert_eq!(case["appeal_until"], r["appeal_until"], "{case}");
    let lisi_browser = app.new_browser();
    app.sign_in(&lisi_browser, "lisi@longxi.example", "doctor test phrase")
        .await;
    let (_, page) = app.page(&lisi_browser, "/certification").await;
    assert!(page.contains("may be appealed until"), "{page}");
    assert_eq!(appeal(&app, failed, &failed_token).await.0, 201);
    let (k, task) = the_re_mark(&app, &w).await;
    assert_eq!(mark(&app, &w.examiners[k].1, task, 8.5).await.0, 204);
    let r = result(&app, failed, &failed_token).await;
    assert_eq!(
        (r["score"].as_f64(), r["passed"].as_bool()),
        (Some(8.5), Some(true))
    );
    let case = my_case(&app, &failed_token).await;
    assert_eq!(case["stage"], "case_assessment", "{case}");
    assert!(case["appeal_until"].is_null(), "nothing failed to appeal");
    let lisi = person_id(&app, "lisi@longxi.example");
    assert_eq!(register_for(&app, &w, case_stage, lisi).await.0, 201);
    let got = mails(&app, "lisi@longxi.example");
    assert!(
        got.iter()
            .any(|(s, t)| s.contains("Your appeal has been decided")
                && t.contains("from 6 to 8.5")
                && t.contains("now pass")),
        "{got:?}"
    );
}

async fn the_exam_shows_its_pass_mark_and_standard_setting_weighted_by_the_paper(app: TestApp) {
    let (admin, _, doctor_token) = setup(&app).await;
    load_bank(&app);
    // The blueprint draws 3 of the 8 two-point questions of difficulty 2,
    // 2 of the 4 of difficulty 3 and 1 of the 2 ten-point cases: a 20-point
    // paper from a 44-point pool.
    let exam = scheduled(&app, &admin, exam_body(60, 180, 60)).await;
    let (members, setting) = standard_setting(&app, &admin, exam).await;
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
    /// A cell of the blueprint (section, difficulty) and how often a
    /// question of it was drawn.
    #[derive(diesel::QueryableByName)]
    struct Drawn {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        section: i32,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        difficulty: i32,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
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
