//! The certification pipeline over HTTP on both databases: a doctor goes
//! from applied to certified with refusals at each gate; the signed
//! credential verifies with the published key and fails when a byte is
//! changed; the status lists follow suspension and revocation at once; the
//! verification page shows the status; the expiry job; renewal keeps the
//! number.

use gatekeeper::domain::credentials::CredentialNumber;
use gatekeeper::domain::signing;
use gatekeeper::domain::status_list::{self, Bitstring};
use reqwest::Method;
use serde_json::{Value, json};

use crate::exams::{doctor, scheduled, setup};
use crate::grading::{close_exam, person};
use crate::helpers::{Backend, TestApp};
use crate::on_both_databases;
use crate::training::{
    admin_browser, browser_for, load_training, schedule_session, sign_up, start_session_in, study,
    take_quiz,
};

on_both_databases!(
    a_doctor_goes_from_applied_to_certified_with_refusals_at_each_gate,
    the_credential_verifies_and_its_status_follows_the_committee,
    expiry_and_renewal_keep_the_number,
    failed_attempts_follow_the_retake_policy_then_reject_and_cool_off,
    what_a_credential_points_to_resolves_for_anyone,
    evidence_a_request_left_behind_is_taken_by_the_job,
);

pub(crate) fn objective_exam(stage: &str) -> Value {
    let mut body = crate::exams::exam_body(-1, 120, 60);
    body["stage"] = json!(stage);
    body["title"] = json!(format!("Paediatrics {stage} exam"));
    body["blueprint"] = json!({"sections": [
        {"title": "Knowledge", "topics": ["fever"], "kinds": ["single", "true_false"], "mix": {"2": 3, "3": 2}, "points": 2}
    ]});
    body
}

pub(crate) fn case_exam() -> Value {
    let mut body = crate::exams::exam_body(-1, 120, 60);
    body["stage"] = json!("case");
    body["title"] = json!("Paediatrics case assessment");
    body["blueprint"] = json!({"sections": [
        {"title": "Case", "topics": ["fever"], "kinds": ["case"], "mix": {"4": 1}, "points": 10}
    ]});
    body
}

pub(crate) async fn my_case(app: &TestApp, token: &str) -> Value {
    let (status, cases) = app.api(Method::GET, "/api/v1/me/cases", token, None).await;
    assert_eq!(status, 200, "{cases}");
    cases[0].clone()
}

/// The doctor sits an exam: registered by the admin (through the pipeline),
/// starts and submits; the paper is then scored `fraction` of its points
/// (the marking itself is proven in the grading tests), the exam closes and
/// its owner releases the results.
pub(crate) async fn sit_and_release(
    app: &TestApp,
    admin: &str,
    exam: i64,
    doctor_id: i64,
    token: &str,
    fraction: f64,
) {
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            admin,
            Some(json!({"person_id": doctor_id})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            token,
            None,
        )
        .await;
    assert!(status == 200 || status == 201, "{attempt}");
    let id = attempt["id"].as_i64().unwrap();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{id}/submit"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    app.exec(&format!(
        "UPDATE attempt_items SET score = points * {fraction}, marked_at = '2026-01-01 00:00:00' WHERE attempt_id = {id}"
    ));
    close_exam(app, exam);
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/release"),
            admin,
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
}

/// Three committee members from other institutions and one from the
/// doctor's own.
pub(crate) async fn committee(app: &TestApp, admin: &str, own: i64) -> (Vec<String>, String) {
    let (_, other) = app
        .api(Method::POST, "/api/v1/institutions", admin, Some(json!({"name": "Children's Hospital", "level": "tertiary", "region": "Yuzhong", "alliance_member": true})))
        .await;
    let other = other["id"].as_i64().unwrap();
    let mut members = Vec::new();
    for name in ["zhou", "qian", "sun"] {
        let (_, token) = person(
            app,
            admin,
            &format!("{name}@chh.example"),
            name,
            json!(["committee"]),
            Some(other),
        )
        .await;
        members.push(token);
    }
    let (_, conflicted) = person(
        app,
        admin,
        "wu@longxi.example",
        "wu",
        json!(["committee"]),
        Some(own),
    )
    .await;
    (members, conflicted)
}

pub(crate) async fn vote(app: &TestApp, token: &str, case: i64, vote: &str) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/cases/{case}/votes"),
        token,
        Some(
            json!({"vote": vote, "reason": format!("{vote}: the evidence is complete and sound")}),
        ),
    )
    .await
}

/// The whole journey; returns (admin token, doctor id, doctor token,
/// committee tokens, credential number).
pub(crate) async fn certify(app: &TestApp) -> (String, i64, String, Vec<String>, String) {
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

    // Applying opens the case: eligibility is checked and training opens.
    let (status, case) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["stage"], "training");
    let reasons: Vec<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["applied", "eligibility_confirmed", "training_opened"]
    );
    let case_id = case["id"].as_i64().unwrap();
    // One open case per track.
    let (status, err) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    // The written exam is refused while the case is in training.
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{written}/registrations"),
            &admin,
            Some(json!({"person_id": li_id})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["field"], "case");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at training"),
        "{err}"
    );

    // Training: lessons, the module quiz and the workshop, over the pages.
    let li = browser_for(app, "li@longxi.example").await;
    let admin_pages = admin_browser(app).await;
    for lesson in ["measuring", "red-flags", "antipyretics"] {
        study(app, &li, lesson).await;
    }
    take_quiz(app, &li, "true").await;
    assert_eq!(
        my_case(app, &li_token).await["stage"],
        "training",
        "the workshop is still to do"
    );
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
    assert_eq!(
        my_case(app, &li_token).await["stage"],
        "written_exam",
        "training complete moves the case on"
    );
    assert_eq!(
        app.count("cases_due"),
        0,
        "each request took the evidence it noted"
    );

    // The case exam is refused at the written stage.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{case_stage}/registrations"),
            &admin,
            Some(json!({"person_id": li_id})),
        )
        .await;
    assert_eq!(status, 409);
    sit_and_release(app, &admin, written, li_id, &li_token, 1.0).await;
    assert_eq!(my_case(app, &li_token).await["stage"], "case_assessment");
    sit_and_release(app, &admin, case_stage, li_id, &li_token, 0.8).await;
    let case = my_case(app, &li_token).await;
    assert_eq!(case["stage"], "committee_review");

    // The committee: a member of the doctor's institution may not vote; no
    // decision without the quorum; votes stay secret until the decision.
    let (members, conflicted) = committee(app, &admin, longxi).await;
    let (status, _) = vote(app, &conflicted, case_id, "approve").await;
    assert_eq!(status, 403);
    let (status, _) = vote(app, &li_token, case_id, "approve").await;
    assert_eq!(status, 403, "a doctor is not the committee");
    let (_, queue) = app
        .api(Method::GET, "/api/v1/committee/queue", &members[0], None)
        .await;
    assert_eq!(queue[0]["case_id"], case_id);
    let (status, dossier) = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}/dossier"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(status, 200, "{dossier}");
    assert_eq!(dossier["exams"].as_array().unwrap().len(), 2);
    assert_eq!(dossier["training"]["workshops"][0]["attended"], true);
    let (status, _) = vote(app, &members[0], case_id, "approve").await;
    assert_eq!(status, 201);
    let (status, err) = vote(app, &members[0], case_id, "approve").await;
    assert_eq!(status, 409, "one vote per member: {err}");
    // The member who voted sees how, instead of the vote form; one who has
    // not yet voted sees the form. The timeline marks the current stage.
    let (_, mine) = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}/dossier"),
            &members[0],
            None,
        )
        .await;
    assert_eq!(mine["my_vote"], "approve");
    let zhou = app.new_browser();
    app.sign_in(&zhou, "zhou@chh.example", crate::grading::PASSWORD)
        .await;
    let (_, page) = app
        .page(&zhou, &format!("/committee/cases/{case_id}"))
        .await;
    assert!(
        page.contains("id=\"my-vote\"") && !page.contains("cast-vote"),
        "{page}"
    );
    assert!(
        page.contains("aria-current=\"step\""),
        "the current stage is marked"
    );
    let sun = app.new_browser();
    app.sign_in(&sun, "sun@chh.example", crate::grading::PASSWORD)
        .await;
    let (_, page) = app.page(&sun, &format!("/committee/cases/{case_id}")).await;
    assert!(page.contains("cast-vote") && !page.contains("id=\"my-vote\""));
    let (_, after_two) = vote(app, &members[1], case_id, "reject").await;
    assert_eq!(
        after_two["stage"], "committee_review",
        "no decision without quorum"
    );
    let (_, seen) = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}/dossier"),
            &members[2],
            None,
        )
        .await;
    assert_eq!(seen["votes_cast"], 2);
    assert_eq!(
        seen["votes"].as_array().unwrap().len(),
        0,
        "others' votes are secret"
    );
    let (status, decided) = vote(app, &members[2], case_id, "approve").await;
    assert_eq!(status, 201, "{decided}");
    assert_eq!(decided["stage"], "certified");
    let number = decided["credential_number"].as_str().unwrap().to_owned();
    let parsed = CredentialNumber::parse(&number).expect("a valid number with its check digit");
    assert_eq!(parsed.code, "PAED");
    let (_, seen) = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{case_id}/dossier"),
            &members[2],
            None,
        )
        .await;
    assert_eq!(
        seen["votes"].as_array().unwrap().len(),
        3,
        "votes are shown once decided"
    );
    assert!(
        app.mail_to("li@longxi.example")
            .iter()
            .any(|m| m.subject.contains(&number)),
        "the holder is told"
    );
    // The timeline records every stage in order.
    let case = my_case(app, &li_token).await;
    let stages: Vec<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "applied",
            "eligible",
            "training",
            "written_exam",
            "case_assessment",
            "committee_review",
            "certified"
        ]
    );
    // The doctor sees it on their page; the funnel counts it.
    let (status, page) = app.page(&li, &format!("/cases/{case_id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains(&number));
    let (_, funnel) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/funnel",
            &admin,
            None,
        )
        .await;
    assert_eq!(funnel["initial"][6]["reached"], 1);
    assert_eq!(funnel["initial"][6]["stage"], "certified");
    (admin, li_id, li_token, members, number)
}

pub(crate) async fn a_doctor_goes_from_applied_to_certified_with_refusals_at_each_gate(
    app: TestApp,
) {
    let (admin, _, li_token, _, number) = Box::pin(certify(&app)).await;
    // The pages render in full (no untranslated keys) for the doctor and
    // for an admin, who sees every case and the funnel but cannot vote.
    let li = browser_for(&app, "li@longxi.example").await;
    let admin_pages = admin_browser(&app).await;
    let case_id = my_case(&app, &li_token).await["id"].as_i64().unwrap();
    for (client, path) in [
        (&li, "/certification".to_owned()),
        (&li, format!("/credentials/{number}")),
        (&admin_pages, "/admin/cases".to_owned()),
        (&admin_pages, "/committee".to_owned()),
        (&admin_pages, format!("/committee/cases/{case_id}")),
        (&admin_pages, "/committee/credentials".to_owned()),
    ] {
        let (status, html) = app.page(client, &path).await;
        assert_eq!(status, 200, "{path}: {html}");
        for raw in [
            "stages.",
            "cert.",
            "committee.",
            "credential_status.",
            "case_reasons.",
            "verify.",
        ] {
            assert!(
                !html.contains(raw),
                "{path} shows an untranslated key {raw}"
            );
        }
    }
    // Her home page says where she stands: certified, with the number.
    let (_, home) = app.page(&li, "/").await;
    assert!(
        home.contains("data-step=\"certified\"") && home.contains(&number),
        "{home}"
    );
    let (_, certificate) = app.page(&li, &format!("/credentials/{number}")).await;
    assert!(
        certificate.contains("<svg"),
        "the certificate carries its QR code"
    );
    assert!(
        !certificate.contains("change-status"),
        "the holder has no committee actions"
    );
    // Its history in the reader's language: the system's line (stored in
    // English for the API and the audit record) reads in Chinese.
    assert!(
        certificate.contains("委员会批准了认证案例")
            && !certificate.contains("approved by the committee"),
        "{certificate}"
    );
    let (_, dossier) = app
        .page(&admin_pages, &format!("/committee/cases/{case_id}"))
        .await;
    assert!(
        !dossier.contains("cast-vote"),
        "an admin is not the committee"
    );
    let (status, _) = app.page(&li, "/admin/cases").await;
    assert_eq!(status, 403, "a doctor does not see every case");
    // Another doctor's case cannot be read by this one.
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &admin, None)
        .await;
    let (_, wang) = doctor(&app, &admin, inst[0]["id"].as_i64().unwrap(), "wang").await;
    let (status, case) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &wang,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{}", case["id"]),
            &li_token,
            None,
        )
        .await;
    assert_eq!(status, 403);
    // A certified doctor cannot open a second first-time case.
    let (status, err) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"].as_str().unwrap().contains("renew"),
        "{err}"
    );
}

/// The two-bit entry `index` of a signed standing list (0 active,
/// 1 suspended, 2 revoked), after checking the list's signature.
fn list_entry(app_jwt: &str, jwks: &Value, index: u64) -> u8 {
    let claims =
        signing::verify(app_jwt, jwks, chrono::Utc::now()).expect("the status list verifies");
    assert_eq!(claims["credentialSubject"]["statusPurpose"], "message");
    let encoded = claims["credentialSubject"]["encodedList"].as_str().unwrap();
    Bitstring::decode(encoded)
        .unwrap()
        .entry(usize::try_from(index).unwrap(), status_list::STANDING_BITS)
}

async fn fetch(app: &TestApp, path: &str) -> (u16, String) {
    let res = reqwest::get(app.url(path)).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) async fn the_credential_verifies_and_its_status_follows_the_committee(app: TestApp) {
    let (admin, _, li_token, members, number) = Box::pin(certify(&app)).await;
    let (_, jwks) = fetch(&app, "/.well-known/jwks.json").await;
    let jwks: Value = serde_json::from_str(&jwks).unwrap();

    // The signed credential verifies with the published key...
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/credentials/{number}/signed")))
        .bearer_auth(&li_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let jwt = res.text().await.unwrap();
    let claims = signing::verify(&jwt, &jwks, chrono::Utc::now()).expect("the credential verifies");
    assert!(
        claims["type"]
            .as_array()
            .unwrap()
            .contains(&json!("OpenBadgeCredential"))
    );
    assert_eq!(
        claims["credentialSubject"]["achievement"]["achievementType"],
        "Certification"
    );
    assert!(claims["jti"].as_str().unwrap().ends_with(&number));
    assert!(
        !claims["sub"].as_str().unwrap().contains("li"),
        "no personal data in the subject id"
    );
    // ... and fails when one byte is changed.
    let mut bytes = jwt.clone().into_bytes();
    let at = jwt.find('.').unwrap() + 10;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert!(signing::verify(&tampered, &jwks, chrono::Utc::now()).is_err());
    // Another doctor may not download it.
    let (_, inst) = app
        .api(Method::GET, "/api/v1/institutions", &members[0], None)
        .await;
    let (_, wang) = doctor(&app, &admin, inst[0]["id"].as_i64().unwrap(), "wang").await;
    let (status, _) = app
        .api(
            Method::GET,
            &format!("/api/v1/credentials/{number}"),
            &wang,
            None,
        )
        .await;
    assert_eq!(status, 403);

    // One status object, as OB 3.0 allows: a two-bit entry on the standing
    // list, read as a verifier would (fetch the list it names, check the
    // signature, read the entry, look up its message).
    let entry = &claims["credentialStatus"];
    assert!(entry.is_object(), "{entry}");
    assert_eq!(entry["statusPurpose"], "message");
    assert_eq!(entry["statusSize"], 2);
    let index: u64 = entry["statusListIndex"].as_str().unwrap().parse().unwrap();
    let list_url = entry["statusListCredential"].as_str().unwrap().to_owned();
    assert!(list_url.ends_with("/status-lists/standing"), "{list_url}");
    let messages = entry["statusMessage"].clone();
    let standing = || {
        let jwks = jwks.clone();
        let app = &app;
        let path = list_url[list_url.find("/status-lists/").unwrap()..].to_owned();
        let messages = messages.clone();
        async move {
            let (status, list) = fetch(app, &path).await;
            assert_eq!(status, 200);
            let code = format!("{:#x}", list_entry(&list, &jwks, index));
            messages
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["status"] == code.as_str())
                .unwrap_or_else(|| panic!("no message for {code}"))["message"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(standing().await, "active");
    let (status, page) = fetch(&app, &format!("/verify/{number}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("id=\"status\" class=\"status status-active\"")
            || page.contains("status-active"),
        "{page}"
    );
    assert!(
        !page.contains("li@longxi.example"),
        "nothing more personal than the name"
    );

    // Suspension shows at once; a doctor cannot suspend.
    let (status, _) = change_status(&app, &li_token, &number, "suspend").await;
    assert_eq!(status, 403);
    let (status, body) = change_status(&app, &members[0], &number, "suspend").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(standing().await, "suspended");
    let (_, v) = app
        .api(Method::GET, &format!("/api/v1/verify/{number}"), "", None)
        .await;
    assert_eq!(v["status"], "suspended");
    let (_, page) = fetch(&app, &format!("/verify/{number}")).await;
    assert!(page.contains("status-suspended"));
    let (status, body) = change_status(&app, &members[1], &number, "reinstate").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(standing().await, "active");

    // Revocation needs a second member, then shows at once and is final.
    let (_, proposed) = change_status(&app, &members[0], &number, "revoke").await;
    assert_eq!(proposed["revocation_proposed"], true);
    assert_eq!(proposed["status"], "active");
    assert_eq!(standing().await, "active");
    let (status, _) = change_status(&app, &members[0], &number, "revoke").await;
    assert_eq!(status, 409, "the proposer cannot confirm");
    let (status, revoked) = change_status(&app, &members[1], &number, "revoke").await;
    assert_eq!(status, 200);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(standing().await, "revoked");
    let (_, v) = app
        .api(Method::GET, &format!("/api/v1/verify/{number}"), "", None)
        .await;
    assert_eq!(v["status"], "revoked");
    let (status, _) = change_status(&app, &members[2], &number, "reinstate").await;
    assert_eq!(status, 409, "revocation is final");
    assert!(
        app.mail_to("li@longxi.example")
            .iter()
            .any(|m| m.subject.contains(&number)
                && (m.subject.contains("revoked") || m.subject.contains("撤销")))
    );

    // A mistyped number is refused by its check digit; lookups are limited.
    let mut wrong = number.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    let (status, err) = app
        .api(Method::GET, &format!("/api/v1/verify/{wrong}"), "", None)
        .await;
    assert_eq!(status, 422, "{err}");
    let mut throttled = false;
    for _ in 0..40 {
        let (status, _) = fetch(&app, &format!("/verify/{number}")).await;
        if status == 429 {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "looking up numbers is rate-limited");
}

/// A committee action on a credential: suspend, reinstate or revoke.
pub(crate) async fn change_status(
    app: &TestApp,
    token: &str,
    number: &str,
    action: &str,
) -> (u16, Value) {
    app.api(
        Method::POST,
        &format!("/api/v1/credentials/{number}/status"),
        token,
        Some(json!({"action": action, "reason": "complaint under investigation"})),
    )
    .await
}

fn days_from_now(app: &TestApp, days: i64) -> String {
    match app.backend {
        Backend::Sqlite => format!("datetime('now', '{days} days')"),
        Backend::Postgres => format!("(now() at time zone 'utc') + interval '{days} days'"),
    }
}

async fn expiry_and_renewal_keep_the_number(app: TestApp) {
    let (admin, li_id, li_token, members, number) = Box::pin(certify(&app)).await;
    let db = app.ctx.db.clone();
    let url = app.ctx.settings.public_url.clone();
    let sweep = move || gatekeeper::jobs::certification::sweep(&db, &url).unwrap();

    // 60 days before expiry: the 90-day reminder, once.
    app.exec(&format!(
        "UPDATE credentials SET valid_until = {} WHERE number = '{number}'",
        days_from_now(&app, 60)
    ));
    let s = sweep.clone();
    let (_, _, _, reminded) = actix_web::rt::task::spawn_blocking(s).await.unwrap();
    assert_eq!(reminded, 1);
    let s = sweep.clone();
    assert_eq!(
        actix_web::rt::task::spawn_blocking(s).await.unwrap().3,
        0,
        "never twice"
    );
    assert!(
        app.mail_to("li@longxi.example")
            .iter()
            .any(|m| m.subject.contains(&number) && m.subject.contains("90"))
    );

    // Past its date the job expires it; the verification page says so.
    app.exec(&format!(
        "UPDATE credentials SET valid_until = {} WHERE number = '{number}'",
        days_from_now(&app, -1)
    ));
    let s = sweep.clone();
    let (_, _, expired, _) = actix_web::rt::task::spawn_blocking(s).await.unwrap();
    assert_eq!(expired, 1);
    let (_, v) = app
        .api(Method::GET, &format!("/api/v1/verify/{number}"), "", None)
        .await;
    assert_eq!(v["status"], "expired");

    // Renewal: the committee sets the credit rule; the doctor applies,
    // passes the re-assessment, the committee approves; same number.
    let (status, policy) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/policy",
            &members[0],
            None,
        )
        .await;
    assert_eq!(status, 200);
    let mut policy = policy.clone();
    policy["renewal_credit_hours"] = json!(0);
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &admin,
            Some(policy.clone()),
        )
        .await;
    assert_eq!(status, 403, "policy is the committee's: {body}");
    let mut bad = policy.clone();
    bad["quorum"] = json!(0);
    let (status, err) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &members[0],
            Some(bad),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "quorum");
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &members[0],
            Some(policy),
        )
        .await;
    assert_eq!(status, 200);

    let (status, case) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics", "kind": "renewal"})),
        )
        .await;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["stage"], "reassessment");
    let case_id = case["id"].as_i64().unwrap();
    let renewal = scheduled(&app, &admin, objective_exam("renewal")).await;
    sit_and_release(&app, &admin, renewal, li_id, &li_token, 1.0).await;
    assert_eq!(my_case(&app, &li_token).await["stage"], "committee_review");
    for m in &members {
        let (status, _) = vote(&app, m, case_id, "approve").await;
        assert_eq!(status, 201);
    }
    let case = my_case(&app, &li_token).await;
    assert_eq!(case["stage"], "certified");
    assert_eq!(
        case["credential_number"],
        number.as_str(),
        "renewal keeps the number"
    );
    let (_, v) = app
        .api(Method::GET, &format!("/api/v1/verify/{number}"), "", None)
        .await;
    assert_eq!(v["status"], "active");
    let valid_until =
        chrono::DateTime::parse_from_rfc3339(v["valid_until"].as_str().unwrap()).unwrap();
    assert!(
        valid_until > chrono::Utc::now() + chrono::Duration::days(700),
        "a new validity period"
    );
    assert_eq!(app.count("credentials"), 1);
    // The admin's funnel now has a renewal chart too.
    let admin_pages = admin_browser(&app).await;
    let (status, page) = app.page(&admin_pages, "/admin/cases").await;
    assert_eq!(status, 200);
    assert!(page.contains("aria-labelledby=\"funnel-paediatrics\""));
    assert!(page.contains("aria-labelledby=\"renewal-paediatrics\""));
    for id in ["funnel-paediatrics", "renewal-paediatrics"] {
        crate::referrals::assert_chart(&page, id, &["到达", "当前"]);
    }
}

fn days_ago_sql(app: &TestApp, days: i64) -> String {
    days_from_now(app, -days)
}

async fn failed_attempts_follow_the_retake_policy_then_reject_and_cool_off(app: TestApp) {
    let (admin, li_id, li_token) = setup(&app).await;
    load_training(&app);
    // The committee allows two attempts with no wait.
    let (_, chh) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Children's Hospital", "level": "tertiary", "region": "Yuzhong", "alliance_member": true})))
        .await;
    let (_, member) = person(
        &app,
        &admin,
        "zhou@chh.example",
        "zhou",
        json!(["committee"]),
        chh["id"].as_i64(),
    )
    .await;
    let (_, mut policy) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/policy",
            &member,
            None,
        )
        .await;
    policy["stage_attempts"] = json!(2);
    policy["retake_wait_days"] = json!(0);
    policy["cooloff_days"] = json!(90);
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/tracks/paediatrics/policy",
            &member,
            Some(policy),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, case) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 201);
    let case_id = case["id"].as_i64().unwrap();
    // Training is proven in the journey; here the case starts at the exam.
    app.at_stage(li_id, "paediatrics", "written_exam");

    let first = scheduled(&app, &admin, objective_exam("written")).await;
    sit_and_release(&app, &admin, first, li_id, &li_token, 0.0).await;
    let case = my_case(&app, &li_token).await;
    assert_eq!(
        case["stage"], "written_exam",
        "one failure leaves an attempt"
    );
    assert_eq!(case["attempts_used"], 1);
    assert_eq!(case["waiting_for"], "exam");

    let second = scheduled(&app, &admin, objective_exam("written")).await;
    sit_and_release(&app, &admin, second, li_id, &li_token, 0.3).await;
    let case = my_case(&app, &li_token).await;
    assert_eq!(
        case["stage"], "written_exam",
        "the last failure may still be appealed"
    );
    assert_eq!(case["waiting_for"], "appeal_period");
    let third = scheduled(&app, &admin, objective_exam("written")).await;
    let (status, err) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{third}/registrations"),
            &admin,
            Some(json!({"person_id": li_id})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("every attempt"),
        "{err}"
    );

    // The appeal periods end: the sweep closes the case as rejected.
    app.exec(&format!(
        "UPDATE exams SET results_released_at = {} WHERE id IN ({first}, {second})",
        days_ago_sql(&app, 15)
    ));
    let db = app.ctx.db.clone();
    let url = app.ctx.settings.public_url.clone();
    let (moved, _, _, _) = actix_web::rt::task::spawn_blocking(move || {
        gatekeeper::jobs::certification::sweep(&db, &url).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(moved, 1);
    let case = my_case(&app, &li_token).await;
    assert_eq!(case["stage"], "rejected");
    assert_eq!(case["id"], case_id);
    let last = case["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reason"], "retakes_exhausted");
    assert!(
        last["actor"].is_null(),
        "the system moved it on its evidence"
    );

    // A new case waits for the cool-off.
    let (status, err) = app
        .api(
            Method::POST,
            "/api/v1/cases",
            &li_token,
            Some(json!({"track": "paediatrics"})),
        )
        .await;
    assert_eq!(status, 409);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("may start from"),
        "{err}"
    );
    let (_, funnel) = app
        .api(
            Method::GET,
            "/api/v1/tracks/paediatrics/funnel",
            &admin,
            None,
        )
        .await;
    assert_eq!(funnel["initial"][3]["stage"], "written_exam");
    assert_eq!(funnel["initial"][3]["rejected"], 1);
    assert_eq!(funnel["initial"][3]["pass_rate"], 0);
}

/// A verifier follows the credential's links without an account: its id
/// (the public page), its achievement (OB 3.0 JSON), and the issuer's keys,
/// profile and status lists, which any origin may fetch and which set no
/// cookie.
async fn what_a_credential_points_to_resolves_for_anyone(app: TestApp) {
    let (_, _, li_token, _, number) = Box::pin(certify(&app)).await;
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/credentials/{number}/signed")))
        .bearer_auth(&li_token)
        .send()
        .await
        .unwrap();
    let jwt = res.text().await.unwrap();
    let jwks: Value = serde_json::from_str(&fetch(&app, "/.well-known/jwks.json").await.1).unwrap();
    let claims = signing::verify(&jwt, &jwks, chrono::Utc::now()).expect("it verifies");
    // Anyone, following no redirect (a redirect to sign-in would not do).
    let anyone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |url: String| {
        let anyone = anyone.clone();
        async move { anyone.get(url).send().await.unwrap() }
    };
    let id = claims["id"].as_str().unwrap().to_owned();
    assert!(id.ends_with(&format!("/verify/{number}")), "{id}");
    // The test server's public URL has no port: follow the path.
    let res = get(app.url(&id[id.find("/verify/").unwrap()..])).await;
    assert_eq!(res.status(), 200, "the credential id resolves");
    assert!(res.text().await.unwrap().contains(&number));

    let achievement = &claims["credentialSubject"]["achievement"];
    let url = achievement["id"].as_str().unwrap().to_owned();
    assert!(url.ends_with("/achievements/paediatrics"), "{url}");
    let path = &url[url.find("/achievements/").unwrap()..];
    let res = get(app.url(path)).await;
    assert_eq!(res.status(), 200, "the achievement id resolves");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let public: Value = res.json().await.unwrap();
    for member in [
        "id",
        "type",
        "achievementType",
        "name",
        "description",
        "criteria",
    ] {
        assert_eq!(public[member], achievement[member], "{member}");
    }
    assert_eq!(
        get(app.url("/achievements/no-such-track")).await.status(),
        404
    );

    for path in [
        "/.well-known/jwks.json",
        "/issuer",
        "/status-lists/standing",
        "/status-lists/revocation",
        "/status-lists/suspension",
        path,
    ] {
        let res = get(app.url(path)).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
        assert!(
            res.headers().get("set-cookie").is_none(),
            "{path} sets no cookie"
        );
    }
    // The key id is a URL that gives the public key, for anyone; the
    // issuer's profile names the same key.
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            jwt.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    let kid = header["kid"].as_str().unwrap().to_owned();
    assert!(kid.starts_with("http://127.0.0.1/issuer/keys/"), "{kid}");
    let res = get(app.url(&kid[kid.find("/issuer/keys/").unwrap()..])).await;
    assert_eq!(res.status(), 200, "the kid resolves");
    assert_eq!(res.headers()["content-type"], "application/jwk+json");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(res.headers().get("set-cookie").is_none());
    let key: Value = res.json().await.unwrap();
    assert_eq!(key, jwks["keys"][0]);
    assert_eq!(get(app.url("/issuer/keys/not-a-key")).await.status(), 404);
    let issuer: Value = get(app.url("/issuer")).await.json().await.unwrap();
    assert_eq!(issuer["verificationMethod"][0]["id"], kid.as_str());
    assert_eq!(issuer["verificationMethod"][0]["publicKeyJwk"], key);
    assert_eq!(issuer["verificationMethod"][0]["controller"], issuer["id"]);

    // Outside tools: joserfc verifies the signature with the key the kid
    // gave, and the official 1EdTech JSON Schema accepts the credential.
    let dir = app.data_dir.join("openbadge-check");
    std::fs::create_dir_all(&dir).unwrap();
    let files = [
        ("token.jwt", jwt.clone()),
        ("jwks.json", jwks.to_string()),
        ("kid.json", key.to_string()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    if let Some((passed, said)) = crate::helpers::outside_validator(
        "jsonschema and joserfc",
        &[
            crate::helpers::validators_file("check_openbadge.py"),
            dir.join("token.jwt"),
            dir.join("jwks.json"),
            "--kid-jwk".into(),
            dir.join("kid.json"),
        ],
    ) {
        assert!(passed && said.trim() == "ok", "check_openbadge.py: {said}");
    }

    // Pages still set their CSRF cookie.
    assert!(
        get(app.url("/sign-in"))
            .await
            .headers()
            .get("set-cookie")
            .is_some()
    );
}

/// Evidence a request noted but did not take (its instance stopped between
/// the commit and taking it) is taken by the cases-due job: the case moves
/// on and the row is gone, once.
async fn evidence_a_request_left_behind_is_taken_by_the_job(app: TestApp) {
    let (_, li_id, li_token) = setup(&app).await;
    // A track that asks for no training: the evidence is complete already,
    // but nothing has moved the case.
    app.at_stage(li_id, "refresher", "training");
    assert_eq!(my_case(&app, &li_token).await["stage"], "training");
    app.exec(&format!(
        "INSERT INTO cases_due (person_id, reason, noted_at) \
         VALUES ({li_id}, 'lesson_studied', '2026-01-01 00:00:00')"
    ));
    let lease = gatekeeper::jobs::Lease::new(app.ctx.db.clone(), &app.ctx.instance);
    let url = app.ctx.settings.public_url.clone();
    let round = move || gatekeeper::jobs::cases_due::round(&lease, &url).unwrap();
    let r = round.clone();
    assert_eq!(
        actix_web::rt::task::spawn_blocking(r).await.unwrap(),
        Some(1)
    );
    assert_eq!(my_case(&app, &li_token).await["stage"], "written_exam");
    assert_eq!(app.count("cases_due"), 0);
    assert_eq!(
        actix_web::rt::task::spawn_blocking(round).await.unwrap(),
        Some(0),
        "never twice"
    );
}
