//! The authorisation matrix: every operation of the API, called by one caller
//! of each kind, against real data on both databases. The expected status of
//! every cell is in `MATRIX` below; an operation the OpenAPI document lists
//! without a row fails the test, and so does a row for an operation the
//! document does not list. Every 403 must leave a refusal in the audit trail.
//!
//! The subject of the paths is Li, a certified doctor at Longxi: her case,
//! her credential, her exam attempt and her referral. The callers:
//!
//! | column | who |
//! |---|---|
//! | anon | no token |
//! | doctor | Li herself (doctor) |
//! | other | Wang, a doctor at Nan'an |
//! | examiner | an examiner at the Children's Hospital, given Wang's case answer to mark |
//! | committee | a committee member at the Children's Hospital |
//! | colleague | a committee member at Li's own institution |
//! | holder | Li again, once she also sits on the committee |
//! | admin | the admin |
//! | integration | an integration token with every scope |
//!
//! Bodies are chosen so that a caller who is allowed gets the answer the
//! rule gives (often 409 or 422: a refused state or a bad value) without
//! changing what later rows rely on; what matters here is that everyone else
//! is refused first.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::{Value, json};

use crate::certification::certify;
use crate::exams::{doctor, exam_body, load_bank, scheduled};
use crate::grading::person;
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(every_operation_refuses_every_caller_it_should);

/// The callers, in the order of the columns.
const CALLERS: [&str; 9] = [
    "anon",
    "doctor",
    "other",
    "examiner",
    "committee",
    "colleague",
    "holder",
    "admin",
    "integration",
];

/// One operation: method, path with fixture names in braces, the expected
/// status for each caller in `CALLERS` order, and the body (with the same
/// names; `form:` sends it form-encoded).
struct Row {
    method: &'static str,
    path: &'static str,
    expect: [u16; 9],
    body: Option<&'static str>,
}

const fn row(
    method: &'static str,
    path: &'static str,
    expect: [u16; 9],
    body: Option<&'static str>,
) -> Row {
    Row {
        method,
        path,
        expect,
        body,
    }
}

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //                                                                            anon doct othr exam comm coll hold admn intg
    row("GET",    "/api/v1/health",                                           [200, 200, 200, 200, 200, 200, 200, 200, 200], None),
    row("GET",    "/api/v1/openapi.json",                                     [200, 200, 200, 200, 200, 200, 200, 200, 200], None),
    row("POST",   "/api/v1/auth/token",                                       [401, 401, 401, 401, 401, 401, 401, 401, 401], Some(r#"{"email": "{caller}@nowhere.example", "password": "a wrong guess"}"#)),
    row("GET",    "/api/v1/me",                                               [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("PUT",    "/api/v1/me/password",                                      [401, 422, 422, 422, 422, 422, 422, 422, 403], Some(r#"{"current_password": "a wrong guess", "new_password": "another phrase 123"}"#)),
    row("PUT",    "/api/v1/me/locale",                                        [401, 422, 422, 422, 422, 422, 422, 422, 403], Some(r#"{"locale": "xx"}"#)),
    row("POST",   "/api/v1/password-setup",                                   [422, 422, 422, 422, 422, 422, 422, 422, 422], Some(r#"{"token": "not-a-link", "password": "another phrase 123"}"#)),
    row("POST",   "/api/v1/password-reset",                                   [202, 202, 202, 202, 202, 202, 202, 202, 202], Some(r#"{"email": "nobody@nowhere.example"}"#)),
    row("GET",    "/api/v1/me/photo",                                         [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("PUT",    "/api/v1/me/photo",                                         [401, 422, 422, 422, 422, 422, 422, 422, 403], Some(r#""not a picture""#)),
    row("PUT",    "/api/v1/me/photo/consent",                                 [401, 409, 409, 409, 409, 409, 409, 409, 403], Some(r#"{"public": true}"#)),
    row("DELETE", "/api/v1/me/photo",                                         [401, 204, 204, 204, 204, 204, 204, 204, 403], None),
    row("GET",    "/api/v1/institutions",                                     [401, 200, 200, 200, 200, 200, 200, 200, 200], None),
    row("POST",   "/api/v1/institutions",                                     [401, 403, 403, 403, 403, 403, 403, 422, 422], Some(r#"{"name": "", "level": "community", "region": "Yubei", "alliance_member": true}"#)),
    row("GET",    "/api/v1/institutions/{institution}",                       [401, 200, 200, 200, 200, 200, 200, 200, 200], None),
    row("PUT",    "/api/v1/institutions/{institution}",                       [401, 403, 403, 403, 403, 403, 403, 422, 422], Some(r#"{"name": "", "level": "community", "region": "Yubei", "alliance_member": true}"#)),
    row("GET",    "/api/v1/people",                                           [401, 403, 403, 403, 403, 403, 403, 200, 200], None),
    row("POST",   "/api/v1/people",                                           [401, 403, 403, 403, 403, 403, 403, 422, 422], Some(r#"{"email": "not an email", "name": "X", "roles": ["examiner"]}"#)),
    row("GET",    "/api/v1/people/{li}",                                      [401, 403, 403, 403, 403, 403, 403, 200, 200], None),
    row("PUT",    "/api/v1/people/{spare}",                                   [401, 403, 403, 403, 403, 403, 403, 422, 422], Some(r#"{"email": "not an email", "name": "X", "roles": ["examiner"]}"#)),
    row("POST",   "/api/v1/people/{spare}/deactivate",                        [401, 403, 403, 403, 403, 403, 403, 200, 200], None),
    row("POST",   "/api/v1/people/{spare}/reactivate",                        [401, 403, 403, 403, 403, 403, 403, 200, 200], None),
    row("POST",   "/api/v1/people/{spare}/setup-link",                        [401, 403, 403, 403, 403, 403, 403, 202, 202], None),
    row("GET",    "/api/v1/api-tokens",                                       [401, 403, 403, 403, 403, 403, 403, 200, 403], None),
    row("POST",   "/api/v1/api-tokens",                                       [401, 403, 403, 403, 403, 403, 403, 422, 403], Some(r#"{"name": "", "scopes": []}"#)),
    row("POST",   "/api/v1/api-tokens/{spare_token}/revoke",                  [401, 403, 403, 403, 403, 403, 403, 200, 403], None),
    row("GET",    "/api/v1/exams",                                            [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/exams/{exam}",                                     [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("POST",   "/api/v1/exams",                                            [401, 403, 403, 403, 403, 403, 403, 422, 403], Some("{bad_exam}")),
    row("POST",   "/api/v1/exams/{exam}/registrations",                       [401, 403, 403, 403, 403, 403, 403, 409, 403], Some(r#"{"person_id": {spare}}"#)),
    row("POST",   "/api/v1/exams/{exam}/predraw",                             [401, 403, 403, 403, 403, 403, 403, 200, 403], None),
    row("POST",   "/api/v1/exams/{exam}/attempts",                            [401, 409, 200, 409, 409, 409, 409, 409, 403], None),
    row("GET",    "/api/v1/attempts/{attempt}",                               [401, 200, 403, 403, 403, 403, 200, 403, 403], None),
    row("PUT",    "/api/v1/attempts/{attempt}/answers/{position}",            [401, 422, 403, 403, 403, 403, 422, 403, 403], Some(r#"{"answer": "free text", "seq": 99}"#)),
    row("POST",   "/api/v1/attempts/{attempt}/submit",                        [401, 200, 403, 403, 403, 403, 200, 403, 403], None),
    row("GET",    "/api/v1/tracks",                                           [401, 200, 200, 403, 403, 403, 200, 200, 403], None),
    row("POST",   "/api/v1/tracks/{track}/enrolments",                        [401, 204, 204, 403, 403, 403, 204, 422, 403], Some(r#"{"person_id": null}"#)),
    row("GET",    "/api/v1/tracks/{track}/progress",                          [401, 200, 200, 403, 403, 403, 200, 200, 403], None),
    row("GET",    "/api/v1/courses",                                          [401, 200, 200, 403, 403, 403, 200, 200, 403], None),
    row("GET",    "/api/v1/courses/{course}",                                 [401, 200, 200, 403, 403, 403, 200, 200, 403], None),
    row("POST",   "/api/v1/courses/{course}/lessons/{lesson}/studied",        [401, 409, 409, 403, 403, 403, 409, 409, 403], Some(r#"{"version": 999}"#)),
    row("POST",   "/api/v1/courses/{course}/modules/{module}/quizzes",        [401, 201, 201, 403, 403, 403, 201, 201, 403], None),
    row("GET",    "/api/v1/workshop-sessions",                                [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("POST",   "/api/v1/workshop-sessions",                                [401, 403, 403, 403, 403, 403, 403, 422, 403], Some(r#"{"workshop_id": 0, "starts_at": "2030-01-01T09:00:00Z", "ends_at": "2030-01-01T08:00:00Z", "place": "x", "capacity": 1, "instructor_id": 0}"#)),
    row("POST",   "/api/v1/workshop-sessions/{session}/sign-up",              [401, 200, 200, 403, 403, 403, 200, 200, 403], None),
    row("POST",   "/api/v1/workshop-sessions/{session}/cancel",               [401, 204, 204, 403, 403, 403, 204, 204, 403], None),
    row("GET",    "/api/v1/workshop-sessions/{session}/roster",               [401, 403, 403, 403, 403, 403, 403, 200, 403], None),
    row("PUT",    "/api/v1/workshop-sessions/{session}/attendance/{li}",      [401, 403, 403, 403, 403, 403, 403, 409, 403], Some(r#"{"attended": true}"#)),
    row("POST",   "/api/v1/quizzes/{quiz}/submit",                            [401, 200, 403, 403, 403, 403, 200, 403, 403], Some(r#"{"answers": []}"#)),
    row("GET",    "/api/v1/training-record",                                  [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/marking",                                          [401, 403, 403, 200, 403, 403, 403, 403, 403], None),
    row("GET",    "/api/v1/marking/{task}",                                   [401, 403, 403, 200, 403, 403, 403, 403, 403], None),
    row("PUT",    "/api/v1/marking/{task}",                                   [401, 403, 403, 422, 403, 403, 403, 403, 403], Some(r#"{"marks": []}"#)),
    row("GET",    "/api/v1/exams/{exam}/marking",                             [401, 403, 403, 403, 403, 403, 403, 200, 403], None),
    row("POST",   "/api/v1/exams/{li_exam}/close",                            [401, 403, 403, 403, 403, 403, 403, 409, 403], Some(r#"{}"#)),
    row("POST",   "/api/v1/exams/{li_exam}/release",                          [401, 403, 403, 403, 403, 403, 403, 204, 403], None),
    row("GET",    "/api/v1/attempts/{attempt}/result",                        [401, 200, 403, 403, 403, 403, 200, 403, 403], None),
    row("GET",    "/api/v1/exams/{exam}/analysis",                            [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("POST",   "/api/v1/attempts/{attempt}/appeals",                       [401, 409, 403, 403, 403, 403, 409, 403, 403], Some(r#"{"position": 9999, "reason": "please look again"}"#)),
    row("POST",   "/api/v1/identity-reveals",                                 [401, 403, 403, 403, 403, 403, 403, 422, 403], Some(r#"{"code": "NOPE-NOPE", "reason": ""}"#)),
    row("POST",   "/api/v1/practical-stations",                               [401, 403, 403, 403, 403, 403, 403, 422, 403], Some(r#"{"track": "paediatrics", "title": "", "question": "c-0", "pass_percent": 70}"#)),
    row("POST",   "/api/v1/practical-stations/{station}/results",             [401, 403, 403, 422, 403, 403, 403, 403, 403], Some(r#"{"person_id": {li}, "marks": []}"#)),
    row("GET",    "/api/v1/practical-results",                                [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/questions/{question}/analysis",                    [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("POST",   "/api/v1/exams/{exam}/standard-settings",                   [401, 403, 403, 403, 201, 201, 201, 201, 403], None),
    row("GET",    "/api/v1/standard-settings/{setting}",                      [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("PUT",    "/api/v1/standard-settings/{setting}/ratings",              [401, 403, 403, 403, 422, 422, 422, 403, 403], Some(r#"{"ratings": [{"question_id": {question}, "probability": 7}]}"#)),
    row("POST",   "/api/v1/standard-settings/{setting}/approve",              [401, 403, 403, 403, 409, 409, 409, 403, 403], None),
    row("POST",   "/api/v1/exams/{exam}/questions/{question}/review",         [401, 403, 403, 403, 422, 422, 422, 422, 403], Some(r#"{"decision": "bogus", "reason": "matrix"}"#)),
    row("POST",   "/api/v1/cases",                                            [401, 422, 422, 403, 403, 403, 422, 403, 403], Some(r#"{"track": "no-such-track"}"#)),
    row("GET",    "/api/v1/cases",                                            [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/cases/{case}",                                     [401, 200, 403, 403, 200, 403, 200, 200, 403], None),
    row("GET",    "/api/v1/cases/{case}/dossier",                             [401, 403, 403, 403, 200, 403, 403, 200, 403], None),
    row("POST",   "/api/v1/cases/{case}/votes",                               [401, 403, 403, 403, 409, 403, 403, 403, 403], Some(r#"{"vote": "approve", "reason": "complete evidence"}"#)),
    row("GET",    "/api/v1/me/cases",                                         [401, 200, 200, 403, 403, 403, 200, 403, 403], None),
    row("GET",    "/api/v1/me/credentials",                                   [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/committee/queue",                                  [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/tracks/{track}/funnel",                            [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/tracks/{track}/policy",                            [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("PUT",    "/api/v1/tracks/{track}/policy",                            [401, 403, 403, 403, 422, 422, 422, 403, 403], Some(r#"{"code": "PAED", "validity_months": 24, "renewal_credit_hours": 10, "stage_attempts": 3, "retake_wait_days": 30, "cooloff_days": 180, "requires_practical": false, "quorum": 0}"#)),
    row("GET",    "/api/v1/credentials",                                      [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/credentials/{number}",                             [401, 200, 403, 403, 200, 403, 200, 200, 403], None),
    row("GET",    "/api/v1/credentials/{number}/signed",                      [401, 200, 403, 403, 200, 403, 200, 200, 403], None),
    row("POST",   "/api/v1/credentials/{number}/status",                      [401, 403, 403, 403, 409, 403, 403, 403, 403], Some(r#"{"action": "reinstate", "reason": "matrix check"}"#)),
    row("GET",    "/api/v1/verify/{number}",                                  [200, 200, 200, 200, 200, 200, 200, 200, 200], None),
    row("POST",   "/api/v1/credentials/introspect",                           [401, 403, 403, 403, 403, 403, 403, 200, 200], Some("form:token={number}")),
    row("GET",    "/api/v1/departments",                                      [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("POST",   "/api/v1/departments",                                      [401, 403, 403, 403, 403, 403, 403, 422, 403], Some(r#"{"track": "paediatrics", "code": "", "name": "", "clinic_slots_per_day": 2, "beds": 1}"#)),
    row("PUT",    "/api/v1/departments/{department}",                         [401, 403, 403, 403, 403, 403, 403, 422, 403], Some(r#"{"track": "paediatrics", "code": "", "name": "", "clinic_slots_per_day": 2, "beds": 1}"#)),
    row("POST",   "/api/v1/referrals",                                        [401, 422, 422, 403, 403, 403, 422, 403, 403], Some(r#"{"department_id": {department}, "patient_name": "", "patient_sex": "male", "patient_birth_date": "2023-02-01", "guardian_phone": "13800001234", "urgency": "urgent", "reason": "", "diagnosis": ""}"#)),
    row("GET",    "/api/v1/referrals",                                        [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/referrals/{referral}",                             [401, 200, 403, 403, 403, 403, 200, 200, 403], None),
    row("POST",   "/api/v1/referrals/{referral}/accept",                      [401, 403, 403, 403, 403, 403, 403, 403, 403], Some(r#"{"slot_date": "not a date"}"#)),
    row("POST",   "/api/v1/referrals/{referral}/decline",                     [401, 403, 403, 403, 403, 403, 403, 403, 403], Some(r#"{"reason": ""}"#)),
    row("POST",   "/api/v1/referrals/{referral}/seen",                        [401, 403, 403, 403, 403, 403, 403, 403, 403], None),
    row("POST",   "/api/v1/referrals/{referral}/rating",                      [401, 403, 403, 403, 403, 403, 403, 403, 403], Some(r#"{"appropriate": true, "comment": ""}"#)),
    row("POST",   "/api/v1/referrals/{referral}/refer-back",                  [401, 403, 403, 403, 403, 403, 403, 403, 403], Some(r#"{"instructions": ""}"#)),
    row("GET",    "/api/v1/fhir/metadata",                                    [200, 200, 200, 200, 200, 200, 200, 200, 200], None),
    row("GET",    "/api/v1/fhir/ServiceRequest",                              [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/fhir/ServiceRequest/{referral}",                   [401, 200, 403, 403, 403, 403, 200, 200, 403], None),
    row("PUT",    "/api/v1/visits",                                           [401, 422, 422, 403, 403, 403, 422, 403, 403], Some(r#"{"date": "not a date", "first_visits": 3}"#)),
    row("GET",    "/api/v1/me/referral-quality",                              [401, 200, 200, 200, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/referral-flags",                                   [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/referral-dashboard",                               [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    row("GET",    "/api/v1/alliance-overview",                                [401, 403, 403, 403, 200, 200, 200, 200, 403], None),
    // Last: it ends the caller's personal token.
    row("DELETE", "/api/v1/auth/token",                                       [401, 204, 204, 204, 204, 204, 204, 204, 403], None),
];

/// Ids and keys the paths and bodies name.
struct World {
    tokens: BTreeMap<&'static str, String>,
    fixtures: BTreeMap<&'static str, String>,
}

impl World {
    fn fill(&self, template: &str) -> String {
        let mut out = template.to_owned();
        for (name, value) in &self.fixtures {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        assert!(
            !out.contains('{') || out.starts_with('{'),
            "unfilled: {out}"
        );
        out
    }
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

async fn world(app: &TestApp) -> World {
    let (admin, li_id, li, members, number) = Box::pin(certify(app)).await;
    let (_, institutions) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let find = |name: &str| {
        institutions
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"].as_str().is_some_and(|n| n.starts_with(name)))
            .map(id)
            .unwrap_or_else(|| panic!("no institution {name}: {institutions}"))
    };
    let longxi = find("Longxi");
    let chh = find("Children's Hospital");

    let (status, nanan) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Nan'an CHC", "level": "community", "region": "Nan'an", "alliance_member": true})))
        .await;
    assert_eq!(status, 201, "{nanan}");
    let (wang_id, wang) = doctor(app, &admin, id(&nanan), "wang").await;
    let (_, examiner) = person(
        app,
        &admin,
        "exa@chh.example",
        "exa",
        json!(["examiner"]),
        Some(chh),
    )
    .await;
    person(
        app,
        &admin,
        "exb@chh.example",
        "exb",
        json!(["examiner"]),
        Some(chh),
    )
    .await;
    let (_, colleague) = person(
        app,
        &admin,
        "wu.c@longxi.example",
        "wu",
        json!(["committee"]),
        Some(longxi),
    )
    .await;
    let (_, desk) = person(
        app,
        &admin,
        "desk@chh.example",
        "desk",
        json!(["referral_desk"]),
        Some(chh),
    )
    .await;
    let (spare_id, _) = person(
        app,
        &admin,
        "spare@longxi.example",
        "spare",
        json!(["examiner"]),
        Some(longxi),
    )
    .await;

    let (status, token) = app
        .api(Method::POST, "/api/v1/api-tokens", &admin, Some(json!({"name": "Provincial platform", "scopes": ["institutions:read", "institutions:write", "people:read", "people:write", "credentials:introspect"]})))
        .await;
    assert_eq!(status, 201, "{token}");
    let integration = token["token"].as_str().unwrap().to_owned();
    let (_, spare_token) = app
        .api(
            Method::POST,
            "/api/v1/api-tokens",
            &admin,
            Some(json!({"name": "Spare", "scopes": ["people:read"]})),
        )
        .await;

    // Wang sits an exam with a case answer; the examiners are given it.
    load_bank(app);
    let exam = scheduled(app, &admin, exam_body(-1, 120, 60)).await;
    app.at_stage(wang_id, "paediatrics", "written_exam");
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &admin,
            Some(json!({"person_id": wang_id})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &wang,
            None,
        )
        .await;
    let wang_attempt = id(&attempt);
    for item in attempt["items"].as_array().unwrap() {
        if item["kind"] == "case" {
            let position = item["position"].as_i64().unwrap();
            let (status, body) = app
                .api(
                    Method::PUT,
                    &format!("/api/v1/attempts/{wang_attempt}/answers/{position}"),
                    &wang,
                    Some(json!({"answer": "Check for danger signs first.", "seq": 1})),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{wang_attempt}/submit"),
            &wang,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let mut task = 0;
    for _ in 0..100 {
        let (_, queue) = app
            .api(Method::GET, "/api/v1/marking", &examiner, None)
            .await;
        if let Some(t) = queue["tasks"].as_array().and_then(|q| q.first()) {
            task = t["task_id"].as_i64().unwrap_or(0);
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(task > 0, "the examiner was given Wang's answer");

    // Li's own things: her written attempt, her case, a referral.
    let li_attempt = app.scalar(&format!(
        "SELECT MIN(id) AS n FROM attempts WHERE person_id = {li_id}"
    ));
    let li_exam = app.scalar(&format!(
        "SELECT exam_id AS n FROM attempts WHERE id = {li_attempt}"
    ));
    let case = app.scalar(&format!(
        "SELECT MIN(id) AS n FROM cases WHERE person_id = {li_id}"
    ));
    let quiz = app.scalar(&format!(
        "SELECT MIN(id) AS n FROM quiz_attempts WHERE person_id = {li_id}"
    ));
    let question = app.scalar(&format!(
        "SELECT MIN(question_id) AS n FROM attempt_items WHERE attempt_id = {li_attempt}"
    ));
    let (status, department) = app
        .api(Method::POST, "/api/v1/departments", &desk, Some(json!({"track": "paediatrics", "code": "PAED", "name": "Paediatric clinic", "clinic_slots_per_day": 2, "beds": 1})))
        .await;
    assert_eq!(status, 201, "{department}");
    let department = id(&department);
    let (status, referral) = app
        .api(Method::POST, "/api/v1/referrals", &li, Some(json!({
            "department_id": department, "patient_name": "王小明", "patient_sex": "male",
            "patient_birth_date": "2023-02-01", "guardian_phone": "13800001234", "urgency": "urgent",
            "reason": "Fever 5 days with rash", "diagnosis": "Suspected Kawasaki disease", "findings": "CRP 86 mg/L"})))
        .await;
    assert_eq!(status, 201, "{referral}");
    let referral = id(&referral);
    let (status, station) = app
        .api(Method::POST, "/api/v1/practical-stations", &admin, Some(json!({"track": "paediatrics", "title": "Infant resuscitation", "question": "c-0", "pass_percent": 70})))
        .await;
    let station = if status == 201 {
        id(&station)
    } else {
        panic!("station: {status} {station}")
    };
    let (status, setting) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/standard-settings"),
            &members[1],
            None,
        )
        .await;
    assert_eq!(status, 201, "{setting}");
    let setting = id(&setting);

    // A workshop session, its instructor the admin.
    let (_, progress) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/progress",
            &li,
            None,
        )
        .await;
    let (_, me) = app.api(Method::GET, "/api/v1/me", &admin, None).await;
    let start = chrono::Utc::now() + chrono::Duration::hours(30);
    let (status, session) = app
        .api(
            Method::POST,
            "/api/v1/workshop-sessions",
            &admin,
            Some(json!({"workshop_id": id(&progress["workshops"][0]), "starts_at": start.to_rfc3339(),
                        "ends_at": (start + chrono::Duration::hours(2)).to_rfc3339(), "place": "Room 1",
                        "capacity": 50, "instructor_id": id(&me)})),
        )
        .await;
    assert_eq!(status, 201, "{session}");
    let session = id(&session);

    let mut tokens = BTreeMap::new();
    tokens.insert("anon", String::new());
    tokens.insert("doctor", li.clone());
    tokens.insert("other", wang);
    tokens.insert("examiner", examiner);
    tokens.insert("committee", members[0].clone());
    tokens.insert("colleague", colleague);
    tokens.insert("holder", li);
    tokens.insert("admin", admin);
    tokens.insert("integration", integration);
    let mut fixtures = BTreeMap::new();
    for (name, value) in [
        ("institution", longxi.to_string()),
        ("track", "paediatrics".to_owned()),
        ("course", "fever-course".to_owned()),
        ("lesson", "measuring".to_owned()),
        ("module", "assessment".to_owned()),
        ("position", "1".to_owned()),
        ("li", li_id.to_string()),
        ("spare", spare_id.to_string()),
        ("spare_token", id(&spare_token["api_token"]).to_string()),
        ("exam", exam.to_string()),
        ("li_exam", li_exam.to_string()),
        ("attempt", li_attempt.to_string()),
        ("wang_attempt", wang_attempt.to_string()),
        ("task", task.to_string()),
        ("case", case.to_string()),
        ("number", number.clone()),
        ("quiz", quiz.to_string()),
        ("question", question.to_string()),
        ("department", department.to_string()),
        ("referral", referral.to_string()),
        ("station", station.to_string()),
        ("setting", setting.to_string()),
        ("session", session.to_string()),
        ("bad_exam", {
            let mut b = exam_body(60, 120, 60);
            b["pass_mark"] = json!(500);
            b.to_string()
        }),
    ] {
        fixtures.insert(name, value);
    }
    World { tokens, fixtures }
}

/// Li joins the committee (her roles as an admin sets them).
async fn grant_committee(app: &TestApp, w: &World) {
    let li = &w.fixtures["li"];
    // The admin's token ended with the last row.
    let admin = &app
        .token_for(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let (_, person) = app
        .api(Method::GET, &format!("/api/v1/people/{li}"), admin, None)
        .await;
    let mut update = json!({"roles": ["doctor", "committee"]});
    for member in [
        "email",
        "name",
        "phone",
        "practising_certificate",
        "institution_id",
        "locale",
    ] {
        if !person[member].is_null() {
            update[member] = person[member].clone();
        }
    }
    let (status, body) = app
        .api(
            Method::PUT,
            &format!("/api/v1/people/{li}"),
            admin,
            Some(update),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// `GET /api/v1/x/{id}` and `GET /api/v1/x/{case}` are the same operation.
fn operation(method: &str, path: &str) -> String {
    let mut out = String::new();
    let mut in_brace = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_brace = true;
                out.push_str("{}");
            }
            '}' => in_brace = false,
            _ if !in_brace => out.push(c),
            _ => {}
        }
    }
    format!("{} {out}", method.to_ascii_uppercase())
}

fn refusals(app: &TestApp) -> i64 {
    app.scalar("SELECT COUNT(*) AS n FROM audit_events WHERE outcome = 'refused'")
}

async fn call(app: &TestApp, w: &World, row: &Row, caller: &str) -> (u16, Value) {
    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
    let token = &w.tokens[caller];
    let path = w.fill(row.path);
    match row.body.map(|b| w.fill(&b.replace("{caller}", caller))) {
        Some(form) if form.starts_with("form:") => {
            let mut req = app.client.request(method, app.url(&path));
            if !token.is_empty() {
                req = req.bearer_auth(token);
            }
            let res = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form["form:".len()..].to_owned())
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json().await.unwrap_or(Value::Null))
        }
        Some(json) => {
            let body =
                serde_json::from_str::<Value>(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
            app.api(method, &path, token, Some(body)).await
        }
        None => app.api(method, &path, token, None).await,
    }
}

async fn every_operation_refuses_every_caller_it_should(app: TestApp) {
    // Every documented operation has a row, and every row is documented.
    let (_, doc) = app.api(Method::GET, "/api/v1/openapi.json", "", None).await;
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| operation(m, path))
        })
        .collect();
    let covered: BTreeSet<String> = MATRIX.iter().map(|r| operation(r.method, r.path)).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&documented).collect();

    let w = world(&app).await;
    let mut actual: Vec<[u16; 9]> = vec![[0; 9]; MATRIX.len()];
    let mut unaudited = Vec::new();
    // Every column but the holder's, then Li joins the committee and the
    // holder's column runs with a new token of hers.
    for (c, caller) in CALLERS.iter().enumerate().filter(|(_, c)| **c != "holder") {
        for (r, row) in MATRIX.iter().enumerate() {
            let before = refusals(&app);
            let (status, body) = call(&app, &w, row, caller).await;
            actual[r][c] = status;
            if status == 403 && refusals(&app) == before {
                unaudited.push(format!("{} {} by {caller}: {body}", row.method, row.path));
            }
        }
    }
    grant_committee(&app, &w).await;
    let holder = CALLERS.iter().position(|c| *c == "holder").unwrap();
    let mut w = w;
    w.tokens.insert(
        "holder",
        app.token_for("li@longxi.example", "doctor test phrase")
            .await,
    );
    for (r, row) in MATRIX.iter().enumerate() {
        let before = refusals(&app);
        let (status, body) = call(&app, &w, row, "holder").await;
        actual[r][holder] = status;
        if status == 403 && refusals(&app) == before {
            unaudited.push(format!("{} {} by holder: {body}", row.method, row.path));
        }
    }
    let mut wrong = String::new();
    for (r, row) in MATRIX.iter().enumerate() {
        if actual[r] != row.expect {
            wrong.push_str(&format!(
                "{} {}\n  expected {:?}\n  got      {:?}\n",
                row.method, row.path, row.expect, actual[r]
            ));
        }
    }
    assert!(missing.is_empty(), "operations without a row: {missing:#?}");
    assert!(
        unknown.is_empty(),
        "rows for undocumented operations: {unknown:#?}"
    );
    assert!(
        wrong.is_empty(),
        "cells that differ (columns {CALLERS:?}):\n{wrong}"
    );
    assert!(
        unaudited.is_empty(),
        "refusals missing from the audit trail: {unaudited:#?}"
    );
}
