//! A doctor alone with her phone: the home page names her one next step at
//! each point of an exam (register, start, resume, wait for the result),
//! she registers herself where the pipeline allows, reads the instructions
//! before starting, gets a friendly page for a result not yet out, and
//! resets a forgotten password by email. Pages only, as a browser would.

use reqwest::Method;
use serde_json::json;

use crate::exams::{doctor, exam_body, load_bank, scheduled, setup};
use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    a_doctor_always_sees_her_next_step_through_an_exam,
    a_forgotten_password_is_reset_by_email,
    a_forgotten_password_is_reset_through_the_api,
);

const PASSWORD: &str = "doctor test phrase";

fn step_of(html: &str) -> String {
    let start = html.find("data-step=\"").map(|i| i + "data-step=\"".len());
    start
        .and_then(|s| html[s..].split('"').next())
        .unwrap_or_default()
        .to_owned()
}

async fn a_doctor_always_sees_her_next_step_through_an_exam(app: TestApp) {
    let (admin, li_id, li_token) = setup(&app).await;
    load_bank(&app);
    app.at_stage(li_id, "paediatrics", "written_exam");
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    let li = app.new_browser();
    assert_eq!(
        app.sign_in(&li, "li@longxi.example", PASSWORD)
            .await
            .status(),
        303
    );

    // The pipeline lets her register: the home page says so, the exam list
    // offers it.
    let (status, home) = app.page(&li, "/").await;
    assert_eq!(status, 200);
    assert_eq!(step_of(&home), "register", "{home}");
    assert!(home.contains("Paediatrics written exam"));
    assert!(!home.contains("home."), "no untranslated key: {home}");
    let (_, list) = app.page(&li, "/exams").await;
    assert!(list.contains(&format!("id=\"register-{exam}\"")), "{list}");

    // Without a credential, the referral page says so before she fills
    // anything in, and what she can do instead.
    let (status, referral) = app.page(&li, "/referrals/new").await;
    assert_eq!(status, 200);
    assert!(
        referral.contains("data-code=\"no_credential\""),
        "{referral}"
    );
    assert!(!referral.contains("send-referral"));

    // A doctor whose case is elsewhere is not offered it, and the pipeline
    // refuses her registration with a clear message on the page.
    let (wang_id, _) = doctor(
        &app,
        &admin,
        institution_of(&app, &admin, li_id).await,
        "wang",
    )
    .await;
    app.at_stage(wang_id, "paediatrics", "training");
    let wang = app.new_browser();
    app.sign_in(&wang, "wang@longxi.example", PASSWORD).await;
    let (_, list) = app.page(&wang, "/exams").await;
    assert!(!list.contains(&format!("id=\"register-{exam}\"")));
    let res = app
        .submit(&wang, "/exams", &format!("/exams/{exam}/register"), &[])
        .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("form-error"));
    assert_eq!(app.count("registrations"), 0);

    // She registers herself.
    let res = app
        .submit(&li, "/exams", &format!("/exams/{exam}/register"), &[])
        .await;
    assert_eq!(res.status(), 200);
    let list = res.text().await.unwrap();
    assert!(list.contains(&format!("id=\"start-{exam}\"")), "{list}");
    assert_eq!(app.count("registrations"), 1);

    // Open now: the next step is to start, through the instructions; the
    // calendar lists it.
    let (_, home) = app.page(&li, "/").await;
    assert_eq!(step_of(&home), "start");
    assert!(home.contains(&format!("href=\"/exams/{exam}/start\"")));
    assert!(home.contains("id=\"calendar\""), "{home}");
    let (status, briefing) = app.page(&li, &format!("/exams/{exam}/start")).await;
    assert_eq!(status, 200);
    // 6 questions (the blueprint), 60 minutes, what a dropped connection does.
    assert!(briefing.contains("id=\"briefing-questions\""));
    assert!(briefing.contains('6') && briefing.contains("60"));
    assert!(briefing.contains("id=\"briefing-connection\""));
    let (status, _) = app.page(&wang, &format!("/exams/{exam}/start")).await;
    assert_eq!(
        status, 404,
        "the instructions of an exam she is not registered for"
    );

    let res = app
        .submit(
            &li,
            &format!("/exams/{exam}/start"),
            &format!("/exams/{exam}/start"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let attempt: i64 = res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/attempts/")
        .parse()
        .unwrap();
    let (_, home) = app.page(&li, "/").await;
    assert_eq!(step_of(&home), "resume");
    assert!(home.contains(&format!("href=\"/attempts/{attempt}\"")));

    // Submitted: waiting for marking. No start again, a date for results,
    // and the result link answers with a page that says when.
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{attempt}/submit"),
            &li_token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, home) = app.page(&li, "/").await;
    assert_eq!(step_of(&home), "await-result");
    let (_, list) = app.page(&li, "/exams").await;
    assert!(list.contains(&format!("id=\"awaiting-{exam}\"")));
    assert!(
        !list.contains(&format!("id=\"start-{exam}\"")),
        "no start for a submitted attempt"
    );
    let (status, pending) = app.page(&li, &format!("/attempts/{attempt}/result")).await;
    assert_eq!(status, 200);
    assert!(pending.contains("id=\"result-pending\""), "{pending}");
    // Another doctor learns nothing about it.
    let (status, other) = app
        .page(&wang, &format!("/attempts/{attempt}/result"))
        .await;
    assert!(matches!(status, 403 | 404), "{status}");
    assert!(!other.contains("result-pending"));
}

async fn institution_of(app: &TestApp, admin: &str, person: i64) -> i64 {
    let (_, people) = app.api(Method::GET, "/api/v1/people", admin, None).await;
    people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == person)
        .unwrap()["institution_id"]
        .as_i64()
        .unwrap()
}

async fn a_forgotten_password_is_reset_by_email(app: TestApp) {
    setup(&app).await;
    let email = "li@longxi.example";
    // Signed in on another device before the reset.
    let old_device = app.new_browser();
    assert_eq!(
        app.sign_in(&old_device, email, PASSWORD).await.status(),
        303
    );

    let browser = app.new_browser();
    let (_, sign_in) = app.page(&browser, "/sign-in").await;
    assert!(sign_in.contains("href=\"/forgot-password\""));
    let mails = app.mail_to(email).len();

    // A malformed address is named; nothing is sent.
    let res = app
        .submit(
            &browser,
            "/forgot-password",
            "/forgot-password",
            &[("email", "not an email")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("aria-invalid=\"true\""));

    // The same answer for an account and for nobody; only the account
    // gets mail.
    let res = app
        .submit(
            &browser,
            "/forgot-password",
            "/forgot-password",
            &[("email", "Li@Longxi.example ")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let known = res.text().await.unwrap();
    assert!(known.contains("id=\"reset-sent\""));
    assert_eq!(app.mail_to(email).len(), mails + 1);
    let res = app
        .submit(
            &browser,
            "/forgot-password",
            "/forgot-password",
            &[("email", "nobody@longxi.example")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("id=\"reset-sent\""));
    assert!(app.mail_to("nobody@longxi.example").is_empty());

    // Asking again minutes later sends nothing more (no flooding).
    app.submit(
        &browser,
        "/forgot-password",
        "/forgot-password",
        &[("email", email)],
    )
    .await;
    assert_eq!(app.mail_to(email).len(), mails + 1);

    // The link opens the set-password page; switching language keeps the
    // link (the whole URL goes back as `next`).
    let token = app.setup_token(email);
    let path = format!("/set-password?token={token}");
    let (status, page) = app.page(&browser, &path).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("name=\"next\" value=\"{path}\"")),
        "{page}"
    );
    let res = app
        .submit(
            &browser,
            &path,
            "/language",
            &[("lang", "en"), ("next", &path)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"].to_str().unwrap(), path);
    let (status, page) = app.page(&browser, &path).await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"en\">"));

    // A new password: the link is spent, the old device signed out, the new
    // password signs in.
    let res = app
        .submit(
            &browser,
            &path,
            "/set-password",
            &[("token", &token), ("password", "a brand new phrase")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, _) = app.page(&browser, &path).await;
    assert_eq!(status, 404, "the link works once");
    let res = old_device.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303, "the old session ended");
    let fresh = app.new_browser();
    assert_eq!(
        app.sign_in(&fresh, email, "a brand new phrase")
            .await
            .status(),
        303
    );
    assert_eq!(
        app.sign_in(&app.new_browser(), email, PASSWORD)
            .await
            .status(),
        401
    );
}

/// The same through the API (an app or an integrator's client): the same
/// answer for an account and for nobody, one email, a link that sets the
/// password once (POST /api/v1/password-setup).
async fn a_forgotten_password_is_reset_through_the_api(app: TestApp) {
    setup(&app).await;
    let email = "li@longxi.example";
    let mails = app.mail_to(email).len();
    let (status, body) = app
        .api(
            Method::POST,
            "/api/v1/password-reset",
            "",
            Some(json!({"email": "nonsense"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "email");
    for address in [email, "nobody@longxi.example"] {
        let res = reqwest::Client::new()
            .post(app.url("/api/v1/password-reset"))
            .json(&json!({"email": address}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "{address}");
        assert!(res.text().await.unwrap().is_empty());
    }
    assert_eq!(app.mail_to(email).len(), mails + 1);
    assert!(app.mail_to("nobody@longxi.example").is_empty());
    let token = app.setup_token(email);
    let set = |token: String| {
        let app = &app;
        async move {
            app.api(
                Method::POST,
                "/api/v1/password-setup",
                "",
                Some(json!({"token": token, "password": "a brand new phrase"})),
            )
            .await
            .0
        }
    };
    assert_eq!(set(token.clone()).await, 204);
    assert_eq!(set(token).await, 422, "the link works once");
    assert_eq!(
        app.sign_in(&app.new_browser(), email, "a brand new phrase")
            .await
            .status(),
        303
    );
}
