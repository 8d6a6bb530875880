//! CSRF, security headers, cookies under https, and logs without secrets.

use std::sync::{Arc, Mutex};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, csrf_in};
use crate::on_both_databases;

on_both_databases!(
    forms_without_the_csrf_token_are_refused,
    every_response_carries_security_headers,
    under_https_cookies_are_secure_and_host_bound,
    logs_carry_request_ids_and_no_secrets,
);

async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    // Sign-in itself is protected (login CSRF).
    let res = browser
        .post(app.url("/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={ADMIN_EMAIL}&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("sessions"), 0);

    app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let post = |body: &'static str| {
        browser
            .post(app.url("/admin/institutions"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert_eq!(
        post("name=A&level=community&region=R")
            .await
            .unwrap()
            .status(),
        403,
        "no token"
    );
    assert_eq!(
        post("name=A&level=community&region=R&csrf_token=forged")
            .await
            .unwrap()
            .status(),
        403,
        "wrong token"
    );
    assert_eq!(app.count("institutions"), 0, "nothing written");

    // A token from another browser does not work in this one.
    let other = app.new_browser();
    let (_, html) = app.page(&other, "/sign-in").await;
    let foreign = csrf_in(&html).unwrap();
    let res = browser
        .post(app.url("/admin/institutions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "name=A&level=community&region=R&csrf_token={foreign}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // The CSRF cookie is rotated at sign-in: a token read before no longer works.
    let (_, before) = app.page(&browser, "/").await;
    let stale = csrf_in(&before).unwrap();
    app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let res = browser
        .post(app.url("/admin/institutions"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "name=A&level=community&region=R&csrf_token={stale}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("institutions"), 0);
    // With the right token it works.
    let res = app
        .submit(
            &browser,
            "/admin/institutions/new",
            "/admin/institutions",
            &[("name", "A"), ("level", "community"), ("region", "R")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.count("institutions"), 1);
    // State never changes on GET.
    assert_eq!(
        browser
            .get(app.url("/sign-out"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

async fn every_response_carries_security_headers(app: TestApp) {
    for path in [
        "/sign-in",
        "/api/v1/health",
        "/static/app.css",
        "/admin/people",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over plain http"
        );
    }
    // No inline script or style anywhere in the pages.
    let (_, html) = app.page(&app.client, "/sign-in").await;
    assert!(!html.contains("<script>") && !html.contains("style=\""));
}

async fn under_https_cookies_are_secure_and_host_bound(probe: TestApp) {
    let app = TestApp::spawn_with(probe.backend, |s| {
        s.public_url = "https://gk.alliance.example".to_owned()
    })
    .await
    .unwrap();
    app.create_admin();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = plain.get(app.url("/sign-in")).send().await.unwrap();
    assert!(res.headers().contains_key("strict-transport-security"));
    let csrf_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-gk_csrf="))
        .expect("a __Host- CSRF cookie");
    assert!(
        csrf_cookie.contains("Secure")
            && csrf_cookie.contains("HttpOnly")
            && csrf_cookie.contains("SameSite=Strict")
    );
    let csrf = csrf_in(&res.text().await.unwrap()).unwrap();
    let cookie = csrf_cookie.split(';').next().unwrap().to_owned();
    let form = serde_html_form::to_string([
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
        ("csrf_token", csrf.as_str()),
    ])
    .unwrap();
    let res = plain
        .post(app.url("/sign-in"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-gk_session="))
        .expect("a __Host- session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} missing: {session}");
    }
    drop(probe);
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn logs_carry_request_ids_and_no_secrets(app: TestApp) {
    // The server logs from its worker threads, so the capture must be the
    // process-wide subscriber (installed once per test process).
    static CAPTURE: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    let capture = CAPTURE
        .get_or_init(|| {
            let capture = Capture::default();
            let writer = capture.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter("trace")
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
            capture
        })
        .clone();

    let token = app.admin_token().await;
    let browser = app.new_browser();
    let signed_in = app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(";");
    app.api(
        Method::POST,
        "/api/v1/people",
        &token,
        Some(json!({"email": "log@alliance.example", "name": "L"})),
    )
    .await;
    let link = app.setup_token("log@alliance.example");
    app.page(&browser, &format!("/set-password?token={link}"))
        .await;
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": "log secret phrase"})),
    )
    .await;
    let wrong = app
        .sign_in(&app.new_browser(), ADMIN_EMAIL, "wrong secret guess")
        .await;
    assert_eq!(wrong.status(), 401);

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("request finished"),
        "request lines are logged"
    );
    assert!(logs.contains("request_id="), "with a request id");
    assert!(
        logs.contains("client=127.0.0.1"),
        "with the client's address"
    );
    assert!(logs.contains("path=/set-password"), "paths are logged");
    assert!(logs.contains("status=201"));
    for secret in [
        ADMIN_PASSWORD,
        "log secret phrase",
        "wrong secret guess",
        link.as_str(),
        token.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret reached the log: {secret}");
    }
    let session_value = session
        .split("gk_session=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert!(
        !logs.contains(session_value),
        "the session cookie reached the log"
    );
}
