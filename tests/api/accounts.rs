//! Signing in and out, sessions, passwords, language.

use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, csrf_in};
use crate::on_both_databases;

on_both_databases!(
    sign_in_rotates_the_session_and_sign_out_ends_it,
    wrong_password_and_unknown_account_are_refused_alike,
    sign_in_is_throttled_per_account,
    sign_in_is_throttled_per_address,
    a_new_person_sets_a_password_with_a_one_time_link,
    changing_the_password_ends_other_sessions,
    language_follows_accept_language_and_the_switch,
);

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("gk_session=") && !c.starts_with("gk_session=;"))
        .map(str::to_owned)
}

async fn sign_in_rotates_the_session_and_sign_out_ends_it(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    // Not signed in: home sends you to sign in.
    let res = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/sign-in");

    let first = app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(first.status(), 303);
    let first_cookie = session_cookie(&first).expect("a session cookie");
    assert!(first_cookie.contains("HttpOnly"), "{first_cookie}");
    assert!(first_cookie.contains("SameSite=Lax"), "{first_cookie}");
    assert!(
        !first_cookie.contains("Secure"),
        "plain http: no Secure flag"
    );
    let (status, home) = app.page(&browser, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Ada Admin"));
    assert!(
        home.contains("/admin/people"),
        "an admin sees the admin links"
    );

    // Signing in again issues a different session and ends the old one.
    let second = app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let second_cookie = session_cookie(&second).expect("a new session cookie");
    assert_ne!(first_cookie, second_cookie);
    assert_eq!(app.count("sessions"), 1, "the earlier session was ended");

    // A stolen copy of the old cookie is worthless.
    let old_value = first_cookie.split(';').next().unwrap().to_owned();
    let thief = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = thief
        .get(app.url("/"))
        .header("cookie", old_value)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    // Sign out: the session row is gone and home asks for sign-in again.
    let (_, html) = app.page(&browser, "/").await;
    let csrf = csrf_in(&html).unwrap();
    let res = browser
        .post(app.url("/sign-out"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("sessions"), 0);
    let res = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

async fn wrong_password_and_unknown_account_are_refused_alike(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    let wrong = app.sign_in(&browser, ADMIN_EMAIL, "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong_html = wrong.text().await.unwrap();
    let unknown = app
        .sign_in(&browser, "nobody@alliance.example", "not the password")
        .await;
    assert_eq!(unknown.status(), 401);
    let unknown_html = unknown.text().await.unwrap();
    assert!(wrong_html.contains("role=\"alert\""));
    // Same message either way: the page does not reveal who has an account.
    let message = |h: &str| {
        h.split("id=\"form-error\">")
            .nth(1)
            .map(|s| s.split('<').next().unwrap_or("").to_owned())
    };
    assert_eq!(message(&wrong_html), message(&unknown_html));
    assert_eq!(app.count("sessions"), 0);
    // Both failures are in the audit trail.
    assert!(app.count("audit_events") >= 2);
}

async fn sign_in_is_throttled_per_account(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    for _ in 0..5 {
        let res = app.sign_in(&browser, ADMIN_EMAIL, "guessing wrong").await;
        assert_eq!(res.status(), 401);
    }
    let res = app.sign_in(&browser, ADMIN_EMAIL, "guessing wrong").await;
    assert_eq!(res.status(), 429);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    // Even the right password waits: the attacker learns nothing.
    let res = app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("id=\"form-error\""));
    // The API's token endpoint shares the same limit.
    let res = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");
}

async fn a_new_person_sets_a_password_with_a_one_time_link(app: TestApp) {
    let token = app.admin_token().await;
    let (status, person) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/people",
            &token,
            Some(json!({"email": "Wang.Fang@Clinic.example", "name": "王芳", "roles": ["examiner"], "locale": "en"})),
        )
        .await;
    assert_eq!(status, 201, "{person}");
    assert_eq!(person["email"], "wang.fang@clinic.example");
    assert_eq!(person["has_password"], false);

    // The invitation was queued in the same transaction, in the person's language.
    let mail = app.mail_to("wang.fang@clinic.example");
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject, "Set your Gatekeeper password");
    let link = app.setup_token("wang.fang@clinic.example");

    // The link's page offers the form; a weak password is refused by name.
    let browser = app.new_browser();
    let (status, html) = app
        .page(&browser, &format!("/set-password?token={link}"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password\""));
    let form = format!("/set-password?token={link}");
    let res = app
        .submit(
            &browser,
            &form,
            "/set-password",
            &[("token", &link), ("password", "password")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .submit(
            &browser,
            &form,
            "/set-password",
            &[("token", &link), ("password", "short")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .submit(
            &browser,
            &form,
            "/set-password",
            &[("token", &link), ("password", "tea garden in spring")],
        )
        .await;
    assert_eq!(res.status(), 303);

    // The link works once.
    let (status, html) = app
        .page(&browser, &format!("/set-password?token={link}"))
        .await;
    assert_eq!(status, 404);
    assert!(!html.contains("name=\"password\""));
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/password-setup",
            "",
            Some(json!({"token": link, "password": "another fine phrase"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "token");

    // The person signs in with the new password and sees their role.
    let res = app
        .sign_in(&browser, "wang.fang@clinic.example", "tea garden in spring")
        .await;
    assert_eq!(res.status(), 303);
    let (_, home) = app.page(&browser, "/").await;
    assert!(home.contains("Examiner"));
    assert!(!home.contains("/admin/people"), "not an admin");
}

async fn changing_the_password_ends_other_sessions(app: TestApp) {
    app.create_admin();
    let laptop = app.new_browser();
    let phone = app.new_browser();
    app.sign_in(&laptop, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.sign_in(&phone, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let script_token = app.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let res = app
        .submit(
            &laptop,
            "/account/password",
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "a brand new phrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"form-error\""),
        "the form explains the refusal"
    );
    assert!(html.contains("Current password") || html.contains("当前密码"));

    let res = app
        .submit(
            &laptop,
            "/account/password",
            "/account/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "a brand new phrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    // This device stays signed in; the phone and the script are out.
    assert_eq!(app.page(&laptop, "/").await.0, 200);
    assert_eq!(app.page(&phone, "/").await.0, 303);
    let (status, _) = app
        .api(reqwest::Method::GET, "/api/v1/me", &script_token, None)
        .await;
    assert_eq!(status, 401);
    // The owner is told.
    let mail = app.mail_to(ADMIN_EMAIL);
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].subject.contains("密码已修改"),
        "in the admin's language: {}",
        mail[0].subject
    );
    // The new password works; the old does not.
    assert_eq!(
        app.sign_in(&app.new_browser(), ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        401
    );
    assert_eq!(
        app.sign_in(&app.new_browser(), ADMIN_EMAIL, "a brand new phrase")
            .await
            .status(),
        303
    );
}

async fn language_follows_accept_language_and_the_switch(app: TestApp) {
    let browser = app.new_browser();
    let res = browser
        .get(app.url("/sign-in"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Sign in"));
    let res = browser
        .get(app.url("/sign-in"))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("登录"));

    // The switch is a form (works without script) and sticks.
    let res = app
        .submit(
            &browser,
            "/sign-in",
            "/language",
            &[("lang", "en"), ("next", "/sign-in")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/sign-in");
    let res = browser
        .get(app.url("/sign-in"))
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains("<html lang=\"en\">"));
    // An off-site "next" is not followed.
    let res = app
        .submit(
            &browser,
            "/sign-in",
            "/language",
            &[("lang", "zh-CN"), ("next", "//evil.example/")],
        )
        .await;
    assert_eq!(res.headers()["location"], "/");
}

async fn sign_in_is_throttled_per_address(probe: TestApp) {
    // One address trying many accounts (credential stuffing). The limit is
    // lowered here to keep the test short; the default is 30.
    let app = TestApp::spawn_with(probe.backend, |s| s.tuning.sign_in_address_burst = 4)
        .await
        .unwrap();
    app.create_admin();
    let browser = app.new_browser();
    for i in 0..4 {
        let res = app
            .sign_in(&browser, &format!("user{i}@alliance.example"), "some guess")
            .await;
        assert_eq!(res.status(), 401);
    }
    let res = app
        .sign_in(&browser, "user9@alliance.example", "some guess")
        .await;
    assert_eq!(res.status(), 429);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"form-error\""));
    // The admin's own sign-in from that address waits as well.
    assert_eq!(
        app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        429
    );
    drop(probe);
}
