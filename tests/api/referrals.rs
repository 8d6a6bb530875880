//! The green referral channel over HTTP on both databases: every gate
//! outcome, the desk's steps and the loop back to the doctor, patient data
//! refused to non-parties, reserved slots never overbooked under concurrent
//! bookings, revocation racing referrals, introspection for hospital
//! systems, and the FHIR R4 export validated against the ServiceRequest
//! structure.

use reqwest::Method;
use serde_json::{Value, json};

use crate::certification::certify;
use crate::exams::doctor;
use crate::grading::person;
use crate::helpers::{self, Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    every_gate_outcome_is_refused_or_allowed_with_its_code,
    the_desk_takes_a_referral_through_and_the_loop_closes,
    reserved_slots_are_never_overbooked_by_concurrent_bookings,
    no_referral_is_created_after_a_revocation_commits,
    hospital_systems_introspect_credentials,
    referrals_export_as_valid_fhir_service_requests,
    the_fhir_endpoint_describes_itself_and_answers_errors_as_operation_outcomes,
    a_diagnosis_code_is_checked_as_icd10,
    the_desk_works_in_the_pages,
    an_urgent_referral_is_accepted_without_a_clinic_day,
    a_referral_names_every_problem_at_once,
);

pub(crate) struct Channel {
    pub(crate) admin: String,
    pub(crate) doctor_id: i64,
    pub(crate) doctor: String,
    pub(crate) members: Vec<String>,
    pub(crate) number: String,
    pub(crate) desk: String,
    pub(crate) department: i64,
    pub(crate) hospital: i64,
}

/// A certified doctor, the Children's Hospital desk and its paediatric
/// department with 2 reserved slots a day and 1 bed.
pub(crate) async fn channel(app: &TestApp) -> Channel {
    // Boxed: the journey is a large future for a test thread's stack.
    let (admin, doctor_id, doctor, members, number) = Box::pin(certify(app)).await;
    let (_, list) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let hospital = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Children's Hospital")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, desk) = person(
        app,
        &admin,
        "desk@chh.example",
        "desk",
        json!(["referral_desk"]),
        Some(hospital),
    )
    .await;
    let (status, d) = app
        .api(
            Method::POST,
            "/api/v1/departments",
            &desk,
            Some(json!({"track": "paediatrics", "code": "PAED", "name": "Paediatric clinic", "clinic_slots_per_day": 2, "beds": 1})),
        )
        .await;
    assert_eq!(status, 201, "{d}");
    Channel {
        admin,
        doctor_id,
        doctor,
        members,
        number,
        desk,
        department: d["id"].as_i64().unwrap(),
        hospital,
    }
}

fn tomorrow() -> String {
    (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string()
}

fn body(department: i64, slot: Option<&str>) -> Value {
    json!({
        "department_id": department,
        "patient_name": "王小明",
        "patient_sex": "male",
        "patient_birth_date": "2023-02-01",
        "guardian_phone": "13800001234",
        "urgency": "urgent",
        "reason": "Fever 5 days with rash and red lips",
        "diagnosis": "Suspected Kawasaki disease",
        "findings": "CRP 86 mg/L",
        "slot_date": slot,
    })
}

async fn refer(app: &TestApp, token: &str, department: i64, slot: Option<&str>) -> (u16, Value) {
    app.api(
        Method::POST,
        "/api/v1/referrals",
        token,
        Some(body(department, slot)),
    )
    .await
}

async fn set_status(app: &TestApp, member: &str, number: &str, action: &str) {
    let (status, b) = crate::certification::change_status(app, member, number, action).await;
    assert_eq!(status, 200, "{b}");
}

async fn every_gate_outcome_is_refused_or_allowed_with_its_code(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    // Active: allowed.
    let (status, r) = refer(&app, &c.doctor, c.department, None).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["credential_number"], c.number.as_str());
    let refused = |expected: &'static str| {
        let app = &app;
        let token = c.doctor.clone();
        let department = c.department;
        async move {
            let before = app.count("referrals");
            let (status, err) = refer(app, &token, department, None).await;
            assert_eq!(status, 403, "{err}");
            assert_eq!(err["error"]["code"], expected, "{err}");
            assert!(!err["error"]["message"].as_str().unwrap().is_empty());
            assert_eq!(
                app.count("referrals"),
                before,
                "a refusal writes no referral"
            );
        }
    };
    // Suspended, then reinstated.
    set_status(&app, &c.members[0], &c.number, "suspend").await;
    refused("credential_suspended").await;
    set_status(&app, &c.members[1], &c.number, "reinstate").await;
    assert_eq!(refer(&app, &c.doctor, c.department, None).await.0, 201);
    // Wrong scope: a department covered by another track.
    app.exec(
        "INSERT INTO tracks (track_key, title, description, validity_months, renewal_credit_hours, sample, created_at, updated_at, code) \
         VALUES ('obstetrics', 'Obstetrics', '', 24, 0, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'OBST')",
    );
    let (status, obst) = app
        .api(Method::POST, "/api/v1/departments", &c.desk, Some(json!({"track": "obstetrics", "code": "OBST", "name": "Obstetrics clinic", "clinic_slots_per_day": 2, "beds": 0})))
        .await;
    assert_eq!(status, 201, "{obst}");
    let (status, err) = refer(&app, &c.doctor, obst["id"].as_i64().unwrap(), None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("out_of_scope"))
    );
    // No credential at all.
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &c.admin, None)
        .await;
    let longxi = inst
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Longxi CHC")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, wang) = doctor(&app, &c.admin, longxi, "wang").await;
    let (status, err) = refer(&app, &wang, c.department, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("no_credential"))
    );
    // Expired (past its date; the gate does not wait for the job).
    app.exec(&format!(
        "UPDATE credentials SET valid_until = '2020-01-01 00:00:00' WHERE number = '{}'",
        c.number
    ));
    refused("credential_expired").await;
    app.exec(&format!(
        "UPDATE credentials SET valid_until = '2099-01-01 00:00:00' WHERE number = '{}'",
        c.number
    ));
    // Revoked (two members).
    set_status(&app, &c.members[0], &c.number, "revoke").await;
    set_status(&app, &c.members[1], &c.number, "revoke").await;
    refused("credential_revoked").await;
    // Every refusal is in the audit trail.
    let n = app.scalar("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'referral_refused'");
    assert_eq!(n, 5);
    // A desk member or a committee member cannot refer at all.
    let (status, _) = refer(&app, &c.desk, c.department, None).await;
    assert_eq!(status, 403);
    // The doctor's page says why in plain words.
    let li = crate::training::browser_for(&app, "li@longxi.example").await;
    let (status, html) = app.page(&li, "/referrals/new").await;
    assert_eq!(status, 200, "{html}");
    let fields = [
        ("department_id", c.department.to_string()),
        ("patient_name", "王小明".to_owned()),
        ("patient_sex", "male".to_owned()),
        ("patient_birth_date", "2023-02-01".to_owned()),
        ("guardian_phone", "13800001234".to_owned()),
        ("urgency", "routine".to_owned()),
        ("reason", "fever".to_owned()),
        ("diagnosis", "?".to_owned()),
    ];
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let res = app
        .submit(&li, "/referrals/new", "/referrals", &borrowed)
        .await;
    assert_eq!(res.status(), 403);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"form-error\""), "{page}");
    assert!(page.contains("撤销") || page.contains("revoked"), "{page}");
}

pub(crate) async fn the_desk_takes_a_referral_through_and_the_loop_closes(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let day = tomorrow();
    // Bad input names its field.
    let mut bad = body(c.department, None);
    bad["patient_birth_date"] = json!("2001-01-01");
    let (status, err) = app
        .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(bad))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("patient_birth_date"))
    );
    let mut bad = body(c.department, None);
    bad["urgency"] = json!("whenever");
    let (status, err) = app
        .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(bad))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("urgency"))
    );

    let (status, r) = refer(&app, &c.doctor, c.department, Some(&day)).await;
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_i64().unwrap();
    assert_eq!(r["status"], "sent");
    let path = |s: &str| format!("/api/v1/referrals/{id}/{s}");
    // The doctor cannot act as the desk; the desk must follow the order.
    let (status, _) = app
        .api(Method::POST, &path("accept"), &c.doctor, Some(json!({})))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app.api(Method::POST, &path("seen"), &c.desk, None).await;
    assert_eq!(status, 409, "not accepted yet");
    let (status, r) = app
        .api(Method::POST, &path("accept"), &c.desk, Some(json!({})))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["slot_date"].as_str()),
        (Some("accepted"), Some(day.as_str()))
    );
    let (status, _) = app
        .api(
            Method::POST,
            &path("rating"),
            &c.desk,
            Some(json!({"appropriate": true, "comment": "early"})),
        )
        .await;
    assert_eq!(status, 409, "rated only after the visit");
    assert_eq!(
        app.api(Method::POST, &path("seen"), &c.desk, None).await.0,
        200
    );
    let (status, _) = app
        .api(Method::POST, &path("rating"), &c.desk, Some(json!({"appropriate": false, "comment": "could have been managed in the community"})))
        .await;
    assert_eq!(status, 200);
    let (status, r) = app
        .api(
            Method::POST,
            &path("refer-back"),
            &c.desk,
            Some(json!({"instructions": "Aspirin as prescribed; echo in 6 weeks"})),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "referred_back");
    // The doctor sees every step and was emailed at each.
    let (status, seen) = app
        .api(
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            &c.doctor,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let steps: Vec<&str> = seen["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "sent",
            "accepted",
            "seen",
            "rated_inappropriate",
            "referred_back"
        ]
    );
    assert_eq!(
        seen["back_instructions"],
        "Aspirin as prescribed; echo in 6 weeks"
    );
    let mails = app
        .mail_to("li@longxi.example")
        .iter()
        .filter(|m| m.subject.contains(seen["number"].as_str().unwrap()))
        .count();
    assert_eq!(mails, 4);
    // The record shows volume and the share judged appropriate.
    let (_, record) = app
        .api(Method::GET, "/api/v1/training-record", &c.doctor, None)
        .await;
    assert_eq!(record["referrals"]["referrals"], 1);
    assert_eq!(record["referrals"]["rated"], 1);
    assert_eq!(record["referrals"]["appropriate"], 0);
    assert_eq!(
        record["referrals"]["flagged"], false,
        "too few ratings for a flag"
    );
    let (_, flags) = app
        .api(Method::GET, "/api/v1/referral-flags", &c.members[0], None)
        .await;
    assert_eq!(flags.as_array().unwrap().len(), 0);
    // The committee lowers the minimum: the doctor is flagged for it.
    let (_, mut policy) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/policy",
            &c.members[0],
            None,
        )
        .await;
    policy["flag_min_rated"] = json!(1);
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &c.members[0],
            Some(policy),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, flags) = app
        .api(Method::GET, "/api/v1/referral-flags", &c.members[0], None)
        .await;
    assert_eq!(flags[0]["person_id"], c.doctor_id);
    assert_eq!(flags[0]["quality"]["flagged"], true);
    let (_, record) = app
        .api(Method::GET, "/api/v1/training-record", &c.doctor, None)
        .await;
    assert_eq!(record["referrals"]["flagged"], true);

    // Patient data only for the referral's parties, every view recorded.
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &c.admin, None)
        .await;
    let longxi = inst
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Longxi CHC")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, wang) = doctor(&app, &c.admin, longxi, "wang").await;
    let (_, other_hospital) = app
        .api(Method::POST, "/api/v1/institutions", &c.admin, Some(json!({"name": "Women's Hospital", "level": "tertiary", "region": "Yubei", "alliance_member": true})))
        .await;
    let (_, other_desk) = person(
        &app,
        &c.admin,
        "desk@wh.example",
        "desk2",
        json!(["referral_desk"]),
        other_hospital["id"].as_i64(),
    )
    .await;
    for (who, token) in [
        ("another doctor", &wang),
        ("another hospital's desk", &other_desk),
        ("a committee member", &c.members[0]),
    ] {
        let (status, body) = app
            .api(Method::GET, &format!("/api/v1/referrals/{id}"), token, None)
            .await;
        assert_eq!(status, 403, "{who}: {body}");
        assert!(!body.to_string().contains("王小明"));
        let (status, _) = app
            .api(
                Method::GET,
                &format!("/api/v1/fhir/ServiceRequest/{id}"),
                token,
                None,
            )
            .await;
        assert_eq!(status, 403, "{who}");
        let (_, list) = app.api(Method::GET, "/api/v1/referrals", token, None).await;
        assert!(!list.to_string().contains("王小明"), "{who} lists it");
    }
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            &c.desk,
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/referrals/{id}"),
            &c.admin,
            None
        )
        .await
        .0,
        200
    );
    let count = |outcome: &str| {
        app.scalar(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'referral_view' AND outcome = '{outcome}' AND target = 'referral:{id}'"))
    };
    assert_eq!(count("ok"), 3, "doctor, desk and admin views are recorded");
    assert_eq!(count("refused"), 3, "and so are the refused ones");

    // The pages: the desk's referral page and departments, the dashboard.
    let li = crate::training::browser_for(&app, "li@longxi.example").await;
    let (status, page) = app.page(&li, &format!("/referrals/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"instructions\""));
    assert!(
        !page.contains("id=\"accept\""),
        "no desk actions for the doctor"
    );
    let (status, page) = app.page(&li, "/referrals").await;
    assert_eq!(status, 200);
    assert!(page.contains(seen["number"].as_str().unwrap()));
    for raw in ["referrals.", "referral_state.", "referral_step."] {
        assert!(!page.contains(raw), "untranslated {raw}");
    }
    // Visits and the dashboard.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/visits",
            &c.doctor,
            Some(json!({"date": today, "first_visits": 80})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, err) = app
        .api(
            Method::PUT,
            "/api/v1/visits",
            &c.doctor,
            Some(json!({"date": "2099-01-01", "first_visits": 5})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("date"))
    );
    let (status, months) = app
        .api(
            Method::GET,
            "/api/v1/referral-dashboard",
            &c.members[0],
            None,
        )
        .await;
    assert_eq!(status, 200, "{months}");
    let this = months.as_array().unwrap().last().unwrap().clone();
    assert_eq!(this["first_visits"], 80);
    assert_eq!(this["referrals_up"], 1);
    assert_eq!(this["referred_per_mille"], 12, "1 of 80 is 1.2%");
    assert_eq!(this["referred_back"], 1);
    assert_eq!(
        app.api(Method::GET, "/api/v1/referral-dashboard", &c.doctor, None)
            .await
            .0,
        403
    );
    let admin_pages = crate::training::admin_browser(&app).await;
    let (status, page) = app.page(&admin_pages, "/referral-dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("<svg"));
    assert!(!page.contains("dashboard."), "untranslated");
    // The chart: first visits too, with this month's numbers in its table.
    assert_chart(&page, "dashboard-chart", &["首诊人次", "上转", "下转"]);
    assert!(
        page.contains("<td>80</td><td>1</td><td>1.2%</td><td>1</td>"),
        "{page}"
    );
}

/// A chart drawn on the server (src/web/charts.rs) as a page carries it: a
/// viewBox and no fixed width on the root `<svg>`, labelled by its title,
/// tick values on its axes, a legend entry per series (`legend`, in
/// order, as the pages show them in Chinese), and its numbers in a table
/// under it.
pub(crate) fn assert_chart(page: &str, id: &str, legend: &[&str]) {
    let title = page
        .find(&format!("<title id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no chart {id}: {page}"));
    let start = page[..title].rfind("<svg").expect("the chart's <svg>");
    let root = &page[start..start + page[start..].find('>').expect("a tag")];
    let svg = &page[start..start + page[start..].find("</svg>").expect("</svg>")];
    assert!(root.contains("viewBox=\"0 0 360 "), "{root}");
    assert!(
        !root.contains("width=") && !root.contains("height="),
        "{root}"
    );
    assert!(
        root.contains(&format!("role=\"img\" aria-labelledby=\"{id}\"")),
        "{root}"
    );
    assert!(!svg.contains("style="), "no inline style: {svg}");
    let ticks: Vec<f64> = svg
        .split("class=\"tick\">")
        .skip(1)
        .filter_map(|t| t.split('<').next()?.parse().ok())
        .collect();
    assert!(
        ticks.len() >= 2 && ticks.contains(&0.0),
        "tick values: {svg}"
    );
    let names: Vec<&str> = svg
        .split("class=\"legend\">")
        .skip(1)
        .filter_map(|t| t.split('<').next())
        .collect();
    assert_eq!(names, legend, "a legend entry per series");
    let table = &page[start + svg.len()..];
    assert!(
        table.starts_with("</svg>") && table.contains("<details class=\"chart-data\">"),
        "the numbers as a table"
    );
}

async fn reserved_slots_are_never_overbooked_by_concurrent_bookings(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let day = tomorrow();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let url = app.url("/api/v1/referrals");
        let token = c.doctor.clone();
        let b = body(c.department, Some(&day));
        handles.push(actix_web::rt::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&b)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(app.count("referrals"), 2);
    // A declined referral frees its slot.
    let (_, list) = app
        .api(Method::GET, "/api/v1/referrals", &c.desk, None)
        .await;
    let first = list[0]["id"].as_i64().unwrap();
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{first}/decline"),
            &c.desk,
            Some(json!({"reason": "please see the district hospital first"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        refer(&app, &c.doctor, c.department, Some(&day)).await.0,
        201
    );
    let (status, err) = refer(&app, &c.doctor, c.department, Some(&day)).await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (409, Some("slot_date"))
    );
    // The desk changes the capacity; beds are counted too.
    let (status, _) = app
        .api(Method::PUT, &format!("/api/v1/departments/{}", c.department), &c.desk, Some(json!({"track": "paediatrics", "code": "PAED", "name": "Paediatric clinic", "clinic_slots_per_day": 3, "beds": 1})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        refer(&app, &c.doctor, c.department, Some(&day)).await.0,
        201
    );
    // Another hospital's desk cannot change this department.
    let (_, other) = app
        .api(Method::POST, "/api/v1/institutions", &c.admin, Some(json!({"name": "Women's Hospital", "level": "tertiary", "region": "Yubei", "alliance_member": true})))
        .await;
    let (_, other_desk) = person(
        &app,
        &c.admin,
        "desk@wh.example",
        "desk2",
        json!(["referral_desk"]),
        other["id"].as_i64(),
    )
    .await;
    let (status, _) = app
        .api(Method::PUT, &format!("/api/v1/departments/{}", c.department), &other_desk, Some(json!({"track": "paediatrics", "code": "PAED", "name": "x", "clinic_slots_per_day": 99, "beds": 9})))
        .await;
    assert_eq!(status, 403);
    let _ = c.hospital;
}

async fn no_referral_is_created_after_a_revocation_commits(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    // The first member proposes; the second's confirmation races referrals.
    set_status(&app, &c.members[0], &c.number, "revoke").await;
    let mut handles = Vec::new();
    for i in 0..12 {
        let url = app.url("/api/v1/referrals");
        let token = c.doctor.clone();
        let b = body(c.department, None);
        handles.push(actix_web::rt::spawn(async move {
            if i % 2 == 1 {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(5 * i)).await;
            }
            let res = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&b)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap();
            (status, body)
        }));
    }
    let confirm = {
        let url = app.url(&format!("/api/v1/credentials/{}/status", c.number));
        let token = c.members[1].clone();
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(15)).await;
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"action": "revoke", "reason": "falsified records"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await.unwrap());
    }
    assert_eq!(confirm.await.unwrap(), 200);
    for (status, b) in &results {
        assert!(
            *status == 201 || (*status == 403 && b["error"]["code"] == "credential_revoked"),
            "{status} {b}"
        );
    }
    // Every referral written was written before the revocation committed.
    let late = app.scalar(
        "SELECT COUNT(*) AS n FROM referrals r, credential_events e \
         WHERE e.credential_id = r.credential_id AND e.action = 'revoke' AND r.created_at > e.at",
    );
    assert_eq!(late, 0);
    let created = results.iter().filter(|(s, _)| *s == 201).count() as i64;
    assert_eq!(app.count("referrals"), created);
    // After the revocation every referral is refused.
    let (status, err) = refer(&app, &c.doctor, c.department, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("credential_revoked"))
    );
}

async fn introspect(app: &TestApp, token: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/credentials/introspect"))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn hospital_systems_introspect_credentials(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let (status, issued) = app
        .api(
            Method::POST,
            "/api/v1/api-tokens",
            &c.admin,
            Some(json!({"name": "Children's Hospital HIS", "scopes": ["credentials:introspect"]})),
        )
        .await;
    assert_eq!(status, 201, "{issued}");
    let his = issued["token"].as_str().unwrap().to_owned();
    let (_, other) = app
        .api(
            Method::POST,
            "/api/v1/api-tokens",
            &c.admin,
            Some(json!({"name": "Payroll", "scopes": ["people:read"]})),
        )
        .await;
    let payroll = other["token"].as_str().unwrap().to_owned();

    let (status, v) = introspect(&app, &his, &[("token", &c.number)]).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["active"], true);
    assert_eq!(v["jti"], c.number.as_str());
    assert!(
        v["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "paediatrics")
    );
    assert!(v["exp"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    let department = c.department.to_string();
    let (_, v) = introspect(
        &app,
        &his,
        &[("token", &c.number), ("department", &department)],
    )
    .await;
    assert_eq!(v["active"], true);
    let (_, v) = introspect(&app, &his, &[("token", &c.number), ("department", "PAED")]).await;
    assert_eq!(v["active"], true, "by department code");
    // JSON bodies work too.
    let (status, v) = app
        .api(
            Method::POST,
            "/api/v1/credentials/introspect",
            &his,
            Some(json!({"token": c.number, "department": department})),
        )
        .await;
    assert_eq!((status, v["active"].as_bool()), (200, Some(true)));
    // Inactive for any reason: only {"active": false}.
    let inactive = json!({"active": false});
    let (_, v) = introspect(&app, &his, &[("token", "PAED-2026-999999-0")]).await;
    assert_eq!(v, inactive);
    let (_, v) = introspect(&app, &his, &[("token", "not a number")]).await;
    assert_eq!(v, inactive);
    let (_, v) = introspect(&app, &his, &[("token", &c.number), ("department", "99999")]).await;
    assert_eq!(v, inactive);
    set_status(&app, &c.members[0], &c.number, "suspend").await;
    let (_, v) = introspect(&app, &his, &[("token", &c.number)]).await;
    assert_eq!(v, inactive);
    set_status(&app, &c.members[1], &c.number, "reinstate").await;
    assert_eq!(
        introspect(&app, &his, &[("token", &c.number)]).await.1["active"],
        true
    );
    // Client authentication: none, or a token without the scope, is refused.
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/credentials/introspect"))
        .form(&[("token", c.number.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        introspect(&app, &payroll, &[("token", &c.number)]).await.0,
        403
    );
    assert_eq!(
        introspect(&app, &c.doctor, &[("token", &c.number)]).await.0,
        403
    );
    // In the OpenAPI document with the referral endpoints.
    let (_, doc) = app.api(Method::GET, "/api/v1/openapi.json", "", None).await;
    for path in [
        "/api/v1/credentials/introspect",
        "/api/v1/referrals",
        "/api/v1/referrals/{id}/accept",
        "/api/v1/fhir/ServiceRequest/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

/// GET with a bearer token (none when empty): status, content type, body.
async fn fhir_get(app: &TestApp, path: &str, token: &str) -> (u16, String, Value) {
    let mut req = reqwest::Client::new().get(app.url(path));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

/// The contained resource a local reference ("#id") names.
fn contained<'a>(sr: &'a Value, reference: &Value) -> &'a Value {
    let id = reference.as_str().unwrap().trim_start_matches('#');
    sr["contained"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

async fn referrals_export_as_valid_fhir_service_requests(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let day = tomorrow();
    let mut coded = body(c.department, Some(&day));
    coded["diagnosis_code"] = json!("m30.3");
    let (status, r) = app
        .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(coded))
        .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["diagnosis_code"], "M30.3", "kept in capitals");
    let id = r["id"].as_i64().unwrap();
    let (status, content_type, sr) =
        fhir_get(&app, &format!("/api/v1/fhir/ServiceRequest/{id}"), &c.desk).await;
    assert_eq!(status, 200, "{sr}");
    assert!(
        content_type.starts_with("application/fhir+json"),
        "{content_type}"
    );
    helpers::validate_fhir(&sr);
    assert_eq!(sr["resourceType"], "ServiceRequest");
    assert_eq!(sr["id"], id.to_string());
    assert_eq!(sr["status"], "active");
    assert_eq!(sr["intent"], "order");
    assert_eq!(sr["priority"], "urgent");
    assert_eq!(sr["occurrenceDateTime"], day.as_str());
    // The patient: identified in the configured namespace, by the referral.
    let patient = contained(&sr, &sr["subject"]["reference"]);
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(patient["gender"], "male");
    assert_eq!(patient["birthDate"], "2023-02-01");
    assert_eq!(
        patient["identifier"],
        json!([{ "system": "http://127.0.0.1/fhir/patient-id", "value": id.to_string() }])
    );
    // The diagnosis, coded with ICD-10 and with its text.
    let diagnosis = sr["reasonCode"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r.get("coding").is_some())
        .unwrap();
    assert_eq!(
        diagnosis["coding"],
        json!([{ "system": "http://hl7.org/fhir/sid/icd-10", "code": "M30.3" }])
    );
    assert_eq!(diagnosis["text"], "Diagnosis: Suspected Kawasaki disease");
    // The referring doctor's credential as a qualification with its period.
    let (_, credential) = app
        .api(
            Method::GET,
            &format!("/api/v1/credentials/{}", c.number),
            &c.doctor,
            None,
        )
        .await;
    let practitioner = contained(&sr, &sr["requester"]["reference"]);
    assert_eq!(practitioner["resourceType"], "Practitioner");
    let q = &practitioner["qualification"][0];
    assert_eq!(q["identifier"][0]["value"], c.number.as_str());
    assert!(q["code"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        q["issuer"]["display"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let same_instant = |fhir: &Value, ours: &Value| {
        let a = chrono::DateTime::parse_from_rfc3339(fhir.as_str().unwrap()).unwrap();
        let b = chrono::DateTime::parse_from_rfc3339(ours.as_str().unwrap()).unwrap();
        assert_eq!(a.timestamp(), b.timestamp(), "{fhir} vs {ours}");
    };
    same_instant(&q["period"]["start"], &credential["valid_from"]);
    same_instant(&q["period"]["end"], &credential["valid_until"]);

    // The validator is no pushover: a status outside the value set and an
    // element R4 does not have are named.
    let mut broken = sr.clone();
    broken["status"] = json!("sent");
    broken["contained"][0]["nickname"] = json!("Xiaoming");
    if let Some((ok, said)) = helpers::check_fhir(&broken) {
        assert!(!ok, "{said}");
        assert!(said.contains("ServiceRequest.status"), "{said}");
        assert!(
            said.contains("ServiceRequest.contained[0].nickname"),
            "{said}"
        );
    }

    // Declined maps to revoked.
    app.api(
        Method::POST,
        &format!("/api/v1/referrals/{id}/decline"),
        &c.desk,
        Some(json!({"reason": "outside the clinic's scope"})),
    )
    .await;
    let (_, _, sr) = fhir_get(
        &app,
        &format!("/api/v1/fhir/ServiceRequest/{id}"),
        &c.doctor,
    )
    .await;
    assert_eq!(sr["status"], "revoked");
    helpers::validate_fhir(&sr);

    // The search: a searchset whose entries point at their own URLs, which
    // answer with the same resource.
    let (_, uncoded) = refer(&app, &c.doctor, c.department, None).await;
    let (status, content_type, bundle) =
        fhir_get(&app, "/api/v1/fhir/ServiceRequest", &c.desk).await;
    assert_eq!(status, 200, "{bundle}");
    assert!(content_type.starts_with("application/fhir+json"));
    helpers::validate_fhir(&bundle);
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(bundle["total"], 2);
    assert_eq!(
        bundle["link"],
        json!([{ "relation": "self", "url": "http://127.0.0.1/api/v1/fhir/ServiceRequest" }])
    );
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for e in entries {
        assert_eq!(e["search"]["mode"], "match");
        let full_url = e["fullUrl"].as_str().unwrap();
        let path = full_url.strip_prefix("http://127.0.0.1").unwrap();
        let (status, _, read) = fhir_get(&app, path, &c.desk).await;
        assert_eq!(status, 200, "{full_url} is where the resource is");
        assert_eq!(read, e["resource"]);
    }
    let uncoded_id = uncoded["id"].as_i64().unwrap().to_string();
    assert!(
        entries
            .iter()
            .any(|e| e["resource"]["id"].as_str() == Some(uncoded_id.as_str()))
    );
    // A doctor without referrals gets an empty searchset.
    let (_, other) = doctor(&app, &c.admin, c.hospital, "fhir_outsider").await;
    let (status, _, empty) = fhir_get(&app, "/api/v1/fhir/ServiceRequest", &other).await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["total"], 0);
    assert!(empty.get("entry").is_none());
    helpers::validate_fhir(&empty);
    let _ = (c.doctor_id, Backend::Sqlite);
}

async fn the_fhir_endpoint_describes_itself_and_answers_errors_as_operation_outcomes(app: TestApp) {
    // The CapabilityStatement, public.
    let (status, content_type, cs) = fhir_get(&app, "/api/v1/fhir/metadata", "").await;
    assert_eq!(status, 200, "{cs}");
    assert!(content_type.starts_with("application/fhir+json"));
    helpers::validate_fhir(&cs);
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["format"], json!(["json"]));
    assert_eq!(cs["kind"], "instance");
    let rest = &cs["rest"][0];
    assert_eq!(rest["mode"], "server");
    assert!(
        rest["security"]["description"]
            .as_str()
            .unwrap()
            .contains("Bearer")
    );
    assert_eq!(rest["resource"][0]["type"], "ServiceRequest");
    let interactions: Vec<&str> = rest["resource"][0]["interaction"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(interactions, ["read", "search-type"]);

    let c = Box::pin(channel(&app)).await;
    let (_, r) = refer(&app, &c.doctor, c.department, None).await;
    let id = r["id"].as_i64().unwrap();
    let (_, other) = doctor(&app, &c.admin, c.hospital, "fhir_outsider").await;
    let read = format!("/api/v1/fhir/ServiceRequest/{id}");
    let bad_id = "/api/v1/fhir/ServiceRequest/no%20such!id".to_owned();
    for (path, token, status, code) in [
        (
            "/api/v1/fhir/ServiceRequest".to_owned(),
            "",
            401,
            "security",
        ),
        (read.clone(), "", 401, "security"),
        (read.clone(), "not-a-token", 401, "security"),
        (read.clone(), other.as_str(), 403, "forbidden"),
        // As on the rest of the API, a referral that does not exist is
        // refused like one the caller may not see: ids reveal nothing.
        (
            "/api/v1/fhir/ServiceRequest/999999".to_owned(),
            c.desk.as_str(),
            403,
            "forbidden",
        ),
        (
            "/api/v1/fhir/ServiceRequest/abc".to_owned(),
            c.desk.as_str(),
            404,
            "not-found",
        ),
        (bad_id.clone(), c.desk.as_str(), 400, "invalid"),
        (bad_id, "", 401, "security"),
        (
            "/api/v1/fhir/Patient/1".to_owned(),
            c.desk.as_str(),
            404,
            "not-found",
        ),
    ] {
        let (got, content_type, outcome) = fhir_get(&app, &path, token).await;
        assert_eq!(got, status, "{path}: {outcome}");
        assert!(
            content_type.starts_with("application/fhir+json"),
            "{path}: {content_type}"
        );
        helpers::validate_fhir(&outcome);
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{path}");
        assert_eq!(outcome["issue"][0]["severity"], "error");
        assert_eq!(outcome["issue"][0]["code"], code, "{path}");
        assert!(
            outcome["issue"][0]["diagnostics"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
    // A 401 still says how to authenticate.
    let res = reqwest::Client::new()
        .get(app.url("/api/v1/fhir/ServiceRequest"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    // The rest of the API keeps its error body.
    let (status, err) = app
        .api(Method::GET, "/api/v1/referrals/abc", &c.desk, None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "not_found");
    // The OpenAPI document describes the FHIR errors as OperationOutcomes.
    let (_, doc) = app.api(Method::GET, "/api/v1/openapi.json", "", None).await;
    let op = &doc["paths"]["/api/v1/fhir/ServiceRequest/{id}"]["get"];
    for status in ["400", "401", "403", "404"] {
        assert!(
            op["responses"][status]["content"]["application/fhir+json"].is_object(),
            "{status}: {op}"
        );
    }
    assert!(doc["paths"]["/api/v1/fhir/metadata"]["get"]["security"].is_null());
}

async fn a_diagnosis_code_is_checked_as_icd10(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let before = app.count("referrals");
    for bad in ["J189", "Kawasaki", "J18.", "18.9"] {
        let mut b = body(c.department, None);
        b["diagnosis_code"] = json!(bad);
        let (status, err) = app
            .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(b))
            .await;
        assert_eq!(status, 422, "{bad}: {err}");
        assert_eq!(err["error"]["field"], "diagnosis_code", "{bad}");
    }
    assert_eq!(app.count("referrals"), before, "nothing written");
    // Optional: absent, null or blank is no code.
    for none in [json!(null), json!(""), json!("  ")] {
        let mut b = body(c.department, None);
        b["diagnosis_code"] = none;
        let (status, r) = app
            .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(b))
            .await;
        assert_eq!(status, 201, "{r}");
        assert!(r["diagnosis_code"].is_null());
    }
    // The form: a bad code is named next to its field, in Chinese too; a
    // good one is shown with the referral.
    let li = crate::training::browser_for(&app, "li@longxi.example").await;
    let (status, page) = app.page(&li, "/referrals/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"diagnosis_code\""));
    let department = c.department.to_string();
    let mut form = vec![
        ("department_id", department.as_str()),
        ("patient_name", "王小明"),
        ("patient_sex", "male"),
        ("patient_birth_date", "2023-02-01"),
        ("guardian_phone", "13800001234"),
        ("urgency", "urgent"),
        ("reason", "Fever 5 days"),
        ("diagnosis", "Pneumonia"),
        ("diagnosis_code", "pneumonia"),
    ];
    let res = app.submit(&li, "/referrals/new", "/referrals", &form).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("须为 ICD-10 编码") || page.contains("must be an ICD-10 code"),
        "the field's problem is named"
    );
    assert!(
        page.contains("value=\"pneumonia\""),
        "what was typed is kept"
    );
    form.pop();
    form.push(("diagnosis_code", "J18.9"));
    let res = app.submit(&li, "/referrals/new", "/referrals", &form).await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = app.page(&li, &location).await;
    assert!(page.contains("ICD-10 J18.9"), "shown with the referral");
}

async fn the_desk_works_in_the_pages(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let day = tomorrow();
    let (_, r) = refer(&app, &c.doctor, c.department, None).await;
    let id = r["id"].as_i64().unwrap();
    let desk = app.new_browser();
    let res = app
        .sign_in(&desk, "desk@chh.example", crate::grading::PASSWORD)
        .await;
    assert_eq!(res.status(), 303);
    // Departments: the desk adds one for its hospital.
    let (status, page) = app.page(&desk, "/desk/departments").await;
    assert_eq!(status, 200);
    assert!(page.contains("Paediatric clinic"));
    let res = app
        .submit(
            &desk,
            "/desk/departments",
            "/desk/departments",
            &[
                ("code", "NEO"),
                ("name", "Neonatal clinic"),
                ("track", "paediatrics"),
                ("clinic_slots_per_day", "4"),
                ("beds", "2"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Neonatal clinic"));
    let res = app
        .submit(
            &desk,
            "/desk/departments",
            "/desk/departments",
            &[
                ("code", "X"),
                ("name", "X"),
                ("track", "paediatrics"),
                ("clinic_slots_per_day", "lots"),
                ("beds", "0"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Incoming referrals, then accept with a clinic day.
    let (status, page) = app.page(&desk, "/referrals").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("/referrals/{id}")));
    let path = format!("/referrals/{id}");
    let (_, page) = app.page(&desk, &path).await;
    assert!(page.contains("id=\"accept\""), "{page}");
    let res = app
        .submit(
            &desk,
            &path,
            &format!("{path}/steps"),
            &[("step", "accept"), ("slot_date", &day)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = app.page(&desk, &path).await;
    assert!(page.contains(&day));
    assert!(page.contains("id=\"seen\""));
    // A doctor's browser cannot post desk steps.
    let li = crate::training::browser_for(&app, "li@longxi.example").await;
    let res = app
        .submit(&li, &path, &format!("{path}/steps"), &[("step", "seen")])
        .await;
    assert_eq!(res.status(), 403);
}

/// The desk receives an urgent child at once: no clinic day needed. A
/// routine referral still needs one.
async fn an_urgent_referral_is_accepted_without_a_clinic_day(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let mut routine = body(c.department, None);
    routine["urgency"] = json!("routine");
    let (status, r) = app
        .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(routine))
        .await;
    assert_eq!(status, 201, "{r}");
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{}/accept", r["id"]),
            &c.desk,
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("slot_date"))
    );

    let (status, r) = refer(&app, &c.doctor, c.department, None).await;
    assert_eq!(
        (status, r["urgency"].as_str()),
        (201, Some("urgent")),
        "{r}"
    );
    let id = r["id"].as_i64().unwrap();
    let (status, r) = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{id}/accept"),
            &c.desk,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["slot_date"].as_str()),
        (Some("accepted"), None)
    );
    let steps: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["sent", "accepted_urgent"]);
    // The doctor is told the child is received at once.
    let mail = app.mail_to("li@longxi.example");
    assert!(
        mail.iter()
            .any(|m| m.subject.contains(r["number"].as_str().unwrap()))
    );
    // It goes on like any accepted referral.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/referrals/{id}/seen"),
            &c.desk,
            None,
        )
        .await;
    assert_eq!(status, 200);
}

/// A referral with several bad fields is refused once, naming them all:
/// the API lists every problem, the page marks every field.
async fn a_referral_names_every_problem_at_once(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let before = app.count("referrals");
    let mut bad = body(c.department, None);
    bad["patient_name"] = json!(" ");
    bad["patient_birth_date"] = json!("2001-01-01");
    bad["guardian_phone"] = json!("12");
    bad["reason"] = json!("");
    let (status, err) = app
        .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(bad))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        err["error"]["field"], "patient_name",
        "the first, as before"
    );
    let fields: Vec<&str> = err["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "patient_name",
            "patient_birth_date",
            "guardian_phone",
            "reason"
        ]
    );
    // One bad field keeps the one-field answer.
    let mut one = body(c.department, None);
    one["reason"] = json!("");
    let (status, err) = app
        .api(Method::POST, "/api/v1/referrals", &c.doctor, Some(one))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("reason"))
    );
    assert!(err["error"].get("problems").is_none(), "{err}");

    // The page: every field is marked, every problem named.
    let li = crate::training::browser_for(&app, "li@longxi.example").await;
    let (_, form) = app.page(&li, "/referrals/new").await;
    assert!(
        form.contains("send-referral"),
        "a certified doctor gets the form"
    );
    let department = c.department.to_string();
    let res = app
        .submit(
            &li,
            "/referrals/new",
            "/referrals",
            &[
                ("department_id", department.as_str()),
                ("patient_name", " "),
                ("patient_sex", "male"),
                ("patient_birth_date", "2001-01-01"),
                ("guardian_phone", "12"),
                ("urgency", "routine"),
                ("reason", ""),
                ("diagnosis", "Suspected Kawasaki disease"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert_eq!(page.matches("aria-invalid=\"true\"").count(), 4, "{page}");
    assert_eq!(app.count("referrals"), before, "nothing written");
}
