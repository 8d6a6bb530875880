//! Signing in and out, sessions, passwords, language.

use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, csrf_in};
use crate::on_both_databases;

on_both_databases!(
    sign_in_rotates_the_session_and_sign_out_ends_it,
    wrong_password_and_unknown_account_are_refused_alike,
    sign_in_is_throttled_per_account,
    guesses_from_many_addresses_meet_the_accounts_ceiling,
    a_clinic_signs_in_from_one_address_without_waiting,
    sign_in_is_throttled_per_address,
    a_new_person_sets_a_password_with_a_one_time_link,
    changing_the_password_ends_other_sessions,
    a_reset_link_ends_every_session_and_personal_token,
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
    // The admin's own phone signed in yesterday: a trusted device.
    let phone = app.new_browser();
    assert_eq!(
        app.sign_in(&phone, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
    sign_out(&app, &phone).await;

    // A stranger at the same address guesses.
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
    // Even the right password waits from that browser: the stranger learns
    // nothing.
    let res = app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("id=\"form-error\""));
    // The API's token endpoint (no device cookie) shares the same limit.
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

    // But the stranger has not locked the admin out: the trusted phone signs
    // in from the very same address, and a new browser from another address.
    assert_eq!(
        app.sign_in(&phone, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
    let elsewhere = app.browser_from("127.0.0.2");
    assert_eq!(
        app.sign_in(&elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
}

async fn sign_out(app: &TestApp, browser: &reqwest::Client) {
    let res = app.submit(browser, "/", "/sign-out", &[]).await;
    assert_eq!(res.status(), 303);
}

async fn guesses_from_many_addresses_meet_the_accounts_ceiling(probe: TestApp) {
    // The ceiling over every address is lowered to keep the test short; the
    // default is 50 failures, then one every 10 minutes.
    let app = TestApp::spawn_with(probe.backend, |s| s.tuning.sign_in_account_burst = 8)
        .await
        .unwrap();
    app.create_admin();
    let phone = app.browser_from("127.0.0.9");
    assert_eq!(
        app.sign_in(&phone, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
    // Four addresses, two guesses each: under each address's own limits.
    for host in 2..6 {
        let robot = app.browser_from(&format!("127.0.0.{host}"));
        for _ in 0..2 {
            assert_eq!(
                app.sign_in(&robot, ADMIN_EMAIL, "guess").await.status(),
                401
            );
        }
    }
    // The ninth guess, from a fresh address, meets the account's ceiling, and
    // so does the right password from a browser never seen before.
    let robot = app.browser_from("127.0.0.6");
    assert_eq!(
        app.sign_in(&robot, ADMIN_EMAIL, "guess").await.status(),
        429
    );
    let new_laptop = app.browser_from("127.0.0.7");
    assert_eq!(
        app.sign_in(&new_laptop, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        429
    );
    // The trusted device still signs in.
    assert_eq!(
        app.sign_in(&phone, ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .status(),
        303
    );
    drop(probe);
}

async fn a_clinic_signs_in_from_one_address_without_waiting(app: TestApp) {
    // Forty doctors behind one router before an exam (more than the 30
    // failures one address may make): successes never count.
    let admin = app.admin_token().await;
    let (_, inst) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/institutions",
            &admin,
            Some(json!({"name": "Longxi clinic", "level": "community", "region": "Yuzhong", "alliance_member": true})),
        )
        .await;
    let inst = inst["id"].as_i64().unwrap();
    let router = "127.0.0.3";
    let mut doctors = Vec::new();
    for i in 0..40 {
        let email = format!("doctor{i}@longxi.example");
        let (status, body) = app
            .api(
                reqwest::Method::POST,
                "/api/v1/people",
                &admin,
                Some(json!({"email": email, "name": format!("Doctor {i}"), "roles": ["doctor"], "institution_id": inst, "practising_certificate": format!("1105000{i:04}")})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let link = app.setup_token(&email);
        let (status, _) = app
            .api(
                reqwest::Method::POST,
                "/api/v1/password-setup",
                "",
                Some(json!({"token": link, "password": "a clinic passphrase"})),
            )
            .await;
        assert_eq!(status, 204);
        doctors.push(email);
    }
    // A few mistype first; everyone gets in at once.
    for (i, email) in doctors.iter().enumerate() {
        let browser = app.browser_from(router);
        if i % 8 == 0 {
            assert_eq!(
                app.sign_in(&browser, email, "a clinic passphrasf")
                    .await
                    .status(),
                401
            );
        }
        let res = app.sign_in(&browser, email, "a clinic passphrase").await;
        assert_eq!(res.status(), 303, "doctor {i} waited");
    }
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

async fn a_reset_link_ends_every_session_and_personal_token(app: TestApp) {
    let admin = app.admin_token().await;
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/people",
            &admin,
            Some(json!({"email": "zhao@longxi.example", "name": "Zhao", "roles": ["examiner"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let first = app.setup_token("zhao@longxi.example");
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/password-setup",
            "",
            Some(json!({"token": first, "password": "zhao's first phrase"})),
        )
        .await;
    assert_eq!(status, 204);
    // Zhao is signed in on a phone and runs a script.
    let phone = app.new_browser();
    assert_eq!(
        app.sign_in(&phone, "zhao@longxi.example", "zhao's first phrase")
            .await
            .status(),
        303
    );
    let script = app
        .token_for("zhao@longxi.example", "zhao's first phrase")
        .await;
    assert_eq!(
        app.api(reqwest::Method::GET, "/api/v1/me", &script, None)
            .await
            .0,
        200
    );

    // The phone is lost: the admin sends a reset link, and the new password
    // set through it ends the phone's session and the script's token.
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/people/{id}/setup-link"),
            &admin,
            None,
        )
        .await;
    assert!(status < 300, "{status}");
    let reset = app.setup_token("zhao@longxi.example");
    assert_ne!(reset, first);
    let (status, _) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/password-setup",
            "",
            Some(json!({"token": reset, "password": "zhao's second phrase"})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        app.page(&phone, "/").await.0,
        303,
        "the phone is signed out"
    );
    let (status, body) = app
        .api(reqwest::Method::GET, "/api/v1/me", &script, None)
        .await;
    assert_eq!(status, 401, "the script's token ended: {body}");
    assert_eq!(
        app.scalar(&format!(
            "SELECT COUNT(*) AS n FROM api_tokens WHERE person_id = {id} AND revoked_at IS NULL"
        )),
        0
    );
}
