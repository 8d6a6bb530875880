//! What every response promises (issue 14, "Responses"), on both databases:
//! personal and patient data never cached while public documents stay
//! cacheable; CSV cells that cannot run as formulas; path and query
//! parameters that do not parse answered as JSON, after authentication;
//! dates outside 1900–2200 refused naming the field; the same create sent
//! twice under one `Idempotency-Key` creating once; an admin updating the
//! departments they create; redirects that stay on the site.

use reqwest::Method;
use serde_json::{Value, json};

use crate::exams::{exam_body, setup};
use crate::grading::person;
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::referrals::channel;
use crate::training::{admin_browser, browser_for, load_training};

on_both_databases!(
    personal_responses_are_never_cached_and_public_ones_are,
    the_same_create_sent_twice_under_one_key_creates_once,
    parameters_that_do_not_parse_are_answered_as_json_after_authentication,
    dates_outside_1900_to_2200_are_refused_naming_the_field,
    csv_exports_neutralise_formula_cells,
    an_admin_updates_the_departments_they_create,
);

fn cache_of(res: &reqwest::Response) -> String {
    res.headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn referral(department: i64) -> Value {
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
    })
}

async fn personal_responses_are_never_cached_and_public_ones_are(app: TestApp) {
    // A certified doctor with released results, a training record and a
    // referral: the data the rule is for.
    let c = Box::pin(channel(&app)).await;
    let (status, r) = app
        .api(
            Method::POST,
            "/api/v1/referrals",
            &c.doctor,
            Some(referral(c.department)),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let id = r["id"].as_i64().unwrap();
    let attempt = app.scalar("SELECT MIN(id) AS n FROM attempts");

    // The API with a bearer token.
    for path in [
        format!("/api/v1/referrals/{id}"),
        "/api/v1/referrals".to_owned(),
        format!("/api/v1/fhir/ServiceRequest/{id}"),
        "/api/v1/training-record".to_owned(),
        format!("/api/v1/attempts/{attempt}/result"),
        "/api/v1/me".to_owned(),
        "/api/v1/me/credentials".to_owned(),
    ] {
        let res = app
            .client
            .get(app.url(&path))
            .bearer_auth(&c.doctor)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(cache_of(&res), "no-store", "{path}");
    }
    // The pages with a session cookie, the CSV export included.
    let li = browser_for(&app, "li@longxi.example").await;
    for path in [
        "/".to_owned(),
        "/record".to_owned(),
        "/record.csv".to_owned(),
        "/referrals".to_owned(),
        format!("/referrals/{id}"),
        format!("/attempts/{attempt}/result"),
        "/certification".to_owned(),
    ] {
        let res = li.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(cache_of(&res), "no-store", "{path}");
    }
    let admin = admin_browser(&app).await;
    let hospital = c.hospital;
    for path in [
        "/admin/people".to_owned(),
        format!("/admin/institutions/{hospital}/training.csv"),
    ] {
        let res = admin.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(cache_of(&res), "no-store", "{path}");
    }
    // Refusals, redirects and anonymous pages are not kept either.
    let anonymous = app.new_browser();
    for (path, status) in [
        (format!("/api/v1/referrals/{id}"), 401),
        ("/record".to_owned(), 303),
        ("/sign-in".to_owned(), 200),
        ("/api/v1/health".to_owned(), 200),
        (format!("/api/v1/verify/{}", c.number), 200),
    ] {
        let res = anonymous.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(cache_of(&res), "no-store", "{path}");
    }
    // What is the same for everyone and holds no personal data stays
    // cacheable, even when asked for with a session cookie.
    for (path, policy) in [
        ("/.well-known/jwks.json", "public, max-age=3600"),
        ("/status-lists/revocation", "public, max-age=300"),
        ("/api/v1/openapi.json", "public, max-age=3600"),
        ("/issuer", "public, max-age=3600"),
        ("/static/app.css", "no-cache"),
    ] {
        for client in [&anonymous, &li] {
            let res = client.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(cache_of(&res), policy, "{path}");
        }
    }
    // Pages link static files by content-hashed names, kept for a year.
    let (_, page) = app.page(&anonymous, "/sign-in").await;
    let css = page
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.starts_with("/assets/app.") && href.ends_with(".css"))
        .expect("the stylesheet under a hashed name")
        .to_owned();
    let res = anonymous.get(app.url(&css)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{css}");
    assert_eq!(cache_of(&res), "public, max-age=31536000, immutable");
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    let bytes = res.bytes().await.unwrap();
    let on_disk = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.css")).unwrap();
    assert_eq!(bytes.as_ref(), on_disk.as_slice(), "the very file");
    let res = anonymous
        .get(app.url("/assets/app.0000000000.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "a name that is not the file's hash");
}

async fn the_same_create_sent_twice_under_one_key_creates_once(app: TestApp) {
    let c = Box::pin(channel(&app)).await;
    let post = |key: Option<&'static str>, token: String, body: String| {
        let mut req = app
            .client
            .post(app.url("/api/v1/referrals"))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let replayed = res
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, replayed, res.text().await.unwrap())
        }
    };
    let body = referral(c.department).to_string();
    let before = app.count("referrals");

    // The first: created and kept.
    let (status, replayed, first) = post(Some("ref-1"), c.doctor.clone(), body.clone()).await;
    assert_eq!((status, replayed), (201, None), "{first}");
    // Sent again: the same status and the very same body; nothing new.
    let (status, replayed, again) = post(Some("ref-1"), c.doctor.clone(), body.clone()).await;
    assert_eq!((status, replayed.as_deref()), (201, Some("true")));
    assert_eq!(again, first);
    assert_eq!(app.count("referrals"), before + 1);
    // The same request with its members in another order is the same request.
    let mut members: Vec<(String, Value)> = referral(c.department)
        .as_object()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    members.reverse();
    let reordered = format!(
        "{{{}}}",
        members
            .iter()
            .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert_ne!(reordered, body);
    let (status, replayed, again) = post(Some("ref-1"), c.doctor.clone(), reordered).await;
    assert_eq!((status, replayed.as_deref()), (201, Some("true")));
    assert_eq!(again, first);
    assert_eq!(app.count("referrals"), before + 1);

    // Another request under the same key is refused, and writes nothing.
    let mut other = referral(c.department);
    other["patient_name"] = json!("李小红");
    let (status, _, err) = post(Some("ref-1"), c.doctor.clone(), other.to_string()).await;
    assert_eq!(status, 422, "{err}");
    let err: Value = serde_json::from_str(&err).unwrap();
    assert_eq!(err["error"]["code"], "invalid_input");
    assert_eq!(err["error"]["field"], "Idempotency-Key");
    assert_eq!(app.count("referrals"), before + 1);

    // Keys are the caller's own: the admin's request with the doctor's key
    // is the admin's (refused: admins do not refer), never the doctor's
    // kept referral with its patient data.
    let (status, replayed, err) = post(Some("ref-1"), c.admin.clone(), body.clone()).await;
    assert_eq!((status, replayed), (403, None), "{err}");
    assert!(!err.contains("王小明"));

    // Without a key, or with a new one, each request creates.
    let (status, _, _) = post(None, c.doctor.clone(), body.clone()).await;
    assert_eq!(status, 201);
    let (status, replayed, _) = post(Some("ref-2"), c.doctor.clone(), body.clone()).await;
    assert_eq!((status, replayed), (201, None));
    assert_eq!(app.count("referrals"), before + 3);

    // A create that fails keeps nothing: the corrected request with the
    // same key is created.
    let mut bad = referral(c.department);
    bad["urgency"] = json!("whenever");
    let (status, _, _) = post(Some("ref-3"), c.doctor.clone(), bad.to_string()).await;
    assert_eq!(status, 422);
    let (status, replayed, _) = post(Some("ref-3"), c.doctor.clone(), body.clone()).await;
    assert_eq!((status, replayed), (201, None));
    assert_eq!(app.count("referrals"), before + 4);

    // Two at once under one key: one referral, both answered with it.
    let (a, b) = futures_util::join!(
        post(Some("ref-4"), c.doctor.clone(), body.clone()),
        post(Some("ref-4"), c.doctor.clone(), body.clone())
    );
    assert_eq!((a.0, b.0), (201, 201), "{} / {}", a.2, b.2);
    assert_eq!(a.2, b.2);
    assert_eq!(app.count("referrals"), before + 5);
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM idempotency_keys WHERE idem_key = 'ref-4'"),
        1
    );

    // A key is kept 24 hours: after that the same request creates again,
    // and the sweep forgets it.
    app.exec(
        "UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00' WHERE idem_key = 'ref-1'",
    );
    let (status, replayed, later) = post(Some("ref-1"), c.doctor.clone(), body.clone()).await;
    assert_eq!((status, replayed), (201, None));
    assert_ne!(later, first);
    assert_eq!(app.count("referrals"), before + 6);
    app.exec(
        "UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00' WHERE idem_key = 'ref-2'",
    );
    let swept = app
        .ctx
        .db
        .write_blocking(gatekeeper::services::idempotency::purge)
        .unwrap();
    assert_eq!(swept, 1);
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM idempotency_keys WHERE idem_key = 'ref-2'"),
        0
    );

    // A key that is no key is refused naming the header, after
    // authentication.
    let (status, _, err) = post(Some("has space"), c.doctor.clone(), body.clone()).await;
    assert_eq!(status, 422, "{err}");
    assert!(err.contains("Idempotency-Key"), "{err}");
    let (status, _, _) = post(Some("has space"), "nonsense".into(), body.clone()).await;
    assert_eq!(status, 401);

    // The form: submitting the same page twice (a double click) opens one
    // referral and shows it both times.
    let li = browser_for(&app, "li@longxi.example").await;
    let (_, form) = app.page(&li, "/referrals/new").await;
    let key = form
        .split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form carries its key")
        .to_owned();
    let csrf = crate::helpers::csrf_in(&form).unwrap();
    let department = c.department.to_string();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("department_id", department.as_str()),
        ("patient_name", "张小华"),
        ("patient_sex", "female"),
        ("patient_birth_date", "2022-05-01"),
        ("guardian_phone", "13800004321"),
        ("urgency", "routine"),
        ("reason", "Recurrent wheeze"),
        ("diagnosis", "Asthma"),
        ("findings", ""),
        ("slot_date", ""),
    ];
    let submit = || {
        li.post(app.url("/referrals"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_html_form::to_string(fields).unwrap())
            .send()
    };
    let before_form = app.count("referrals");
    let one = submit().await.unwrap();
    let two = submit().await.unwrap();
    assert_eq!((one.status().as_u16(), two.status().as_u16()), (303, 303));
    assert_eq!(one.headers()["location"], two.headers()["location"]);
    assert_eq!(app.count("referrals"), before_form + 1);
    // A fresh form has a fresh key.
    let (_, form) = app.page(&li, "/referrals/new").await;
    assert!(!form.contains(&key));

    // Scheduling an exam honours the key too.
    let exam = exam_body(60, 180, 30).to_string();
    let schedule = |key: &'static str| {
        app.client
            .post(app.url("/api/v1/exams"))
            .bearer_auth(&c.admin)
            .header("content-type", "application/json")
            .header("Idempotency-Key", key)
            .body(exam.clone())
            .send()
    };
    let exams = app.count("exams");
    let first = schedule("exam-1").await.unwrap();
    assert_eq!(first.status(), 201);
    let first = first.text().await.unwrap();
    let again = schedule("exam-1").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.text().await.unwrap(), first);
    assert_eq!(app.count("exams"), exams + 1);

    // The OpenAPI document describes the header on both creates.
    let (_, doc) = app.api(Method::GET, "/api/v1/openapi.json", "", None).await;
    for path in ["/api/v1/referrals", "/api/v1/exams"] {
        let params = doc["paths"][path]["post"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has parameters"));
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
            "{path}: {params:?}"
        );
    }
}

async fn parameters_that_do_not_parse_are_answered_as_json_after_authentication(app: TestApp) {
    let admin = app.admin_token().await;
    let get = |path: &str, token: Option<&str>| {
        let mut req = app.client.get(app.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let json = res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json");
            let body: Value = res.json().await.unwrap_or(Value::Null);
            (status, json, body)
        }
    };
    // Anonymous, or with a token that is no token: 401, whatever the path.
    for token in [None, Some("gkt_not-a-token")] {
        for path in [
            "/api/v1/people/abc",
            "/api/v1/referrals/abc",
            "/api/v1/attempts/abc/result",
            "/api/v1/training-record?person_id=abc",
        ] {
            let (status, json, body) = get(path, token).await;
            assert_eq!((status, json), (401, true), "{path}: {body}");
            assert_eq!(body["error"]["code"], "unauthenticated", "{path}");
        }
    }
    let res = app
        .client
        .put(app.url("/api/v1/attempts/1/answers/x"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // A bad body is answered after authentication too.
    for (token, status) in [("gkt_not-a-token", 401), (admin.as_str(), 415)] {
        let res = app
            .client
            .post(app.url("/api/v1/people"))
            .bearer_auth(token)
            .header("content-type", "text/plain")
            .body("not json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status);
    }

    // Signed in: 404 with the JSON body naming the parameter.
    for (path, field) in [
        ("/api/v1/people/abc", "id"),
        ("/api/v1/referrals/1.5", "id"),
        ("/api/v1/attempts/99999999999999999999/result", "id"),
        ("/api/v1/institutions/-", "id"),
    ] {
        let (status, json, body) = get(path, Some(&admin)).await;
        assert_eq!((status, json), (404, true), "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
        assert_eq!(body["error"]["field"], field, "{path}");
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/attempts/1/answers/x",
            &admin,
            Some(json!({"answer": true, "seq": 1})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["field"], "position");
    // An id that parses but names nothing is the same 404, without a field.
    let (status, _, body) = get("/api/v1/people/999999", Some(&admin)).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    // A query member that does not parse is bad input, named.
    let (status, json, body) = get("/api/v1/training-record?person_id=abc", Some(&admin)).await;
    assert_eq!((status, json), (422, true), "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
    assert_eq!(body["error"]["field"], "person_id");

    // A page's parameter that does not parse gets the error page.
    let browser = admin_browser(&app).await;
    let res = browser
        .get(app.url("/admin/people/abc/edit"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

async fn dates_outside_1900_to_2200_are_refused_naming_the_field(app: TestApp) {
    let (admin, doctor_id, doctor) = setup(&app).await;
    let refused = |status: u16, body: &Value, field: &str| {
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["error"]["code"], "invalid_input", "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("1900"),
            "{body}"
        );
    };
    // The exam window.
    let exams = app.count("exams");
    let mut exam = exam_body(60, 180, 30);
    exam["opens_at"] = json!("0000-01-01T09:00:00Z");
    let (status, body) = app
        .api(Method::POST, "/api/v1/exams", &admin, Some(exam))
        .await;
    refused(status, &body, "opens_at");
    let mut exam = exam_body(60, 180, 30);
    exam["closes_at"] = json!("2201-01-01T09:00:00Z");
    let (status, body) = app
        .api(Method::POST, "/api/v1/exams", &admin, Some(exam))
        .await;
    refused(status, &body, "closes_at");
    assert_eq!(app.count("exams"), exams);
    // A candidate's own window.
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/exams/1/registrations",
            &admin,
            Some(json!({"person_id": doctor_id, "closes_at": "0000-01-01T00:00:00Z"})),
        )
        .await;
    refused(status, &body, "closes_at");
    // The end of a suspension.
    let (_, member) = person(
        &app,
        &admin,
        "member@alliance.example",
        "Member",
        json!(["committee"]),
        None,
    )
    .await;
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/credentials/PAED-2026-000001-0/status",
            &member,
            Some(json!({"action": "suspend", "reason": "Complaint under review", "until": "9999-12-31T00:00:00Z"})),
        )
        .await;
    refused(status, &body, "until");
    // The day of community visits, a referral's clinic day and the child's
    // birth date.
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/v1/visits",
            &doctor,
            Some(json!({"date": "0000-01-01", "first_visits": 3})),
        )
        .await;
    refused(status, &body, "date");
    let mut r = referral(1);
    r["slot_date"] = json!("0000-01-01");
    let (status, body) = app
        .api(Method::POST, "/api/v1/referrals", &doctor, Some(r))
        .await;
    refused(status, &body, "slot_date");
    let mut r = referral(1);
    r["patient_birth_date"] = json!("0000-01-01");
    let (status, body) = app
        .api(Method::POST, "/api/v1/referrals", &doctor, Some(r))
        .await;
    refused(status, &body, "patient_birth_date");
    assert_eq!(app.count("referrals"), 0);

    // A workshop session, in the admin's page.
    load_training(&app);
    let browser = admin_browser(&app).await;
    let (_, page) = app.page(&browser, "/admin/training").await;
    let workshop = page
        .split("name=\"workshop_id\"")
        .nth(1)
        .and_then(|s| s.split("<option value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("a workshop to choose")
        .to_owned();
    let sessions = app.count("workshop_sessions");
    let res = app
        .submit(
            &browser,
            "/admin/training",
            "/admin/workshop-sessions",
            &[
                ("workshop_id", &workshop),
                ("starts_at", "0000-06-01T09:00"),
                ("ends_at", "0000-06-01T12:00"),
                ("place", "Longxi CHC, room 2"),
                ("capacity", "10"),
                ("instructor_id", &doctor_id.to_string()),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("1900"));
    assert_eq!(app.count("workshop_sessions"), sessions);
}

async fn csv_exports_neutralise_formula_cells(app: TestApp) {
    let admin = app.admin_token().await;
    load_training(&app);
    let (status, inst) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "-Longxi CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
        .await;
    assert_eq!(status, 201, "{inst}");
    let inst = inst["id"].as_i64().unwrap();
    let (status, p) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &admin,
            Some(json!({"email": "formula@longxi.example", "name": "=cmd|' /C calc'!A0", "roles": ["doctor"], "practising_certificate": "110440100000099", "institution_id": inst})),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let link = app.setup_token("formula@longxi.example");
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": "doctor test phrase"})),
    )
    .await;
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/tracks/paediatrics/enrolments",
            &admin,
            Some(json!({"person_id": p["id"]})),
        )
        .await;
    assert!((200..300).contains(&status), "enrolled: {status}");

    let doctor = browser_for(&app, "formula@longxi.example").await;
    let (status, csv) = app.page(&doctor, "/record.csv").await;
    assert_eq!(status, 200);
    let line = csv.lines().nth(1).expect("a row for the course");
    assert!(
        line.starts_with("'=cmd|' /C calc'!A0,formula@longxi.example,'-Longxi CHC,course,"),
        "{csv}"
    );
    // The institution's export goes through the same writer.
    let browser = admin_browser(&app).await;
    let (status, csv) = app
        .page(
            &browser,
            &format!("/admin/institutions/{inst}/training.csv"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(csv.contains("\n'=cmd|' /C calc'!A0,"), "{csv}");
    assert!(csv.contains(",'-Longxi CHC,"), "{csv}");
    for line in csv.lines() {
        assert!(!line.starts_with(['=', '-', '+', '@']), "{line}");
        assert!(!line.contains(",=") && !line.contains(",-"), "{line}");
    }
}

async fn an_admin_updates_the_departments_they_create(app: TestApp) {
    let admin = app.admin_token().await;
    load_training(&app);
    let (_, hospital) = app
        .api(Method::POST, "/api/v1/institutions", &admin, Some(json!({"name": "Children's Hospital", "level": "tertiary", "region": "Yuzhong", "alliance_member": true})))
        .await;
    let hospital = hospital["id"].as_i64().unwrap();
    let department = json!({"track": "paediatrics", "code": "PAED", "name": "Paediatric clinic", "clinic_slots_per_day": 2, "beds": 1});

    // An admin names the hospital when creating.
    let (status, err) = app
        .api(
            Method::POST,
            "/api/v1/departments",
            &admin,
            Some(department.clone()),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "institution_id");
    let mut create = department.clone();
    create["institution_id"] = json!(hospital);
    let (status, d) = app
        .api(Method::POST, "/api/v1/departments", &admin, Some(create))
        .await;
    assert_eq!(status, 201, "{d}");
    let id = d["id"].as_i64().unwrap();

    // And updates it with the same body as a desk sends: the department
    // keeps its hospital.
    let mut change = department.clone();
    change["clinic_slots_per_day"] = json!(5);
    change["name"] = json!("Paediatric outpatients");
    let (status, d) = app
        .api(
            Method::PUT,
            &format!("/api/v1/departments/{id}"),
            &admin,
            Some(change.clone()),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["clinic_slots_per_day"], 5);
    assert_eq!(d["name"], "Paediatric outpatients");
    assert_eq!(d["institution_id"], hospital);
    // Validated like a create.
    change["beds"] = json!(-1);
    let (status, err) = app
        .api(
            Method::PUT,
            &format!("/api/v1/departments/{id}"),
            &admin,
            Some(change),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "beds");
    // A department that does not exist is not found.
    let (status, _) = app
        .api(
            Method::PUT,
            "/api/v1/departments/999999",
            &admin,
            Some(department.clone()),
        )
        .await;
    assert_eq!(status, 404);
    // Someone who is neither admin nor desk may not change it.
    let (_, examiner) = person(
        &app,
        &admin,
        "examiner@alliance.example",
        "Examiner",
        json!(["examiner"]),
        Some(hospital),
    )
    .await;
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/departments/{id}"),
            &examiner,
            Some(department.clone()),
        )
        .await;
    assert_eq!(status, 403);

    // In the page, an admin chooses the hospital of a new department and
    // changes an existing one.
    let browser = admin_browser(&app).await;
    let (status, page) = app.page(&browser, "/desk/departments").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("<option value=\"{hospital}\">Children")),
        "the admin chooses the hospital: {page}"
    );
    let res = app
        .submit(
            &browser,
            "/desk/departments",
            "/desk/departments",
            &[
                ("institution_id", &hospital.to_string()),
                ("track", "paediatrics"),
                ("code", "NEO"),
                ("name", "Neonatal clinic"),
                ("clinic_slots_per_day", "1"),
                ("beds", "0"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .submit(
            &browser,
            "/desk/departments",
            "/desk/departments",
            &[
                ("id", &id.to_string()),
                ("track", "paediatrics"),
                ("code", "PAED"),
                ("name", "Paediatric clinic"),
                ("clinic_slots_per_day", "7"),
                ("beds", "2"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, list) = app
        .api(Method::GET, "/api/v1/departments", &admin, None)
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let paed = list.iter().find(|d| d["id"] == id).unwrap();
    assert_eq!(
        (
            &paed["clinic_slots_per_day"],
            &paed["beds"],
            &paed["institution_id"]
        ),
        (&json!(7), &json!(2), &json!(hospital))
    );
    assert!(
        list.iter()
            .any(|d| d["code"] == "NEO" && d["institution_id"] == hospital)
    );
}
