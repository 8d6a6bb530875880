//! Behind a load balancer: the client's address comes from `X-Forwarded-For`
//! only when the balancer is a trusted proxy (`GATEKEEPER_TRUSTED_PROXIES`).
//! The balancer here is a loopback address (`127.0.0.2`): the test's
//! browsers connect from it, as a proxy's connections would, and send the
//! header a proxy would add. The rule itself, with its IPv6, ports and
//! several hops, is unit-tested in `domain::client_address`.

use reqwest::Client;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, TestApp};
use crate::on_both_databases;

on_both_databases!(
    clients_behind_a_trusted_proxy_are_throttled_apart,
    without_trusted_proxies_the_header_is_ignored,
    an_untrusted_peer_cannot_choose_its_address,
);

const PROXY: &str = "127.0.0.2";
const LOOKUP: &str = "/api/v1/verify/PAED-2026-000001-0";

/// A public credential lookup as forwarded for `client` (no header: None).
async fn lookup(app: &TestApp, from: &Client, client: Option<&str>) -> u16 {
    let mut req = from.get(app.url(LOOKUP));
    if let Some(c) = client {
        req = req.header("x-forwarded-for", c);
    }
    req.send().await.unwrap().status().as_u16()
}

/// A wrong-password token request as forwarded for `client`.
async fn wrong_password(app: &TestApp, from: &Client, client: &str) -> u16 {
    from.post(app.url("/api/v1/auth/token"))
        .header("x-forwarded-for", client)
        .json(&json!({"email": ADMIN_EMAIL, "password": "a wrong guess"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The address recorded with the latest failed token request in the audit trail.
fn audited_address(app: &TestApp) -> String {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        ip: Option<String>,
    }
    use diesel::RunQueryDsl;
    app.ctx
        .db
        .read_blocking(|conn| {
            Ok(diesel::sql_query(
                "SELECT ip FROM audit_events WHERE action = 'api_token' ORDER BY id DESC LIMIT 1",
            )
            .get_result::<Row>(conn)?
            .ip)
        })
        .unwrap()
        .unwrap_or_default()
}

async fn clients_behind_a_trusted_proxy_are_throttled_apart(probe: TestApp) {
    let app = TestApp::spawn_with(probe.backend, |s| {
        s.tuning.verify_burst = 3;
        s.tuning.sign_in_address_burst = 2;
        s.trusted_proxies =
            gatekeeper::domain::client_address::TrustedProxies::parse("127.0.0.2, 10.0.0.0/8")
                .unwrap();
    })
    .await
    .unwrap();
    app.create_admin();
    let proxy = app.browser_from(PROXY);
    // Two clinics behind the same balancer: the first uses up its lookups...
    for _ in 0..3 {
        assert_ne!(lookup(&app, &proxy, Some("203.0.113.7")).await, 429);
    }
    assert_eq!(lookup(&app, &proxy, Some("203.0.113.7")).await, 429);
    // ...the second is not held back by it, nor is a client on IPv6 with a
    // port, behind two of our proxies (the left-most entry, written by the
    // client itself, is ignored).
    assert_ne!(lookup(&app, &proxy, Some("198.51.100.4")).await, 429);
    assert_ne!(
        lookup(
            &app,
            &proxy,
            Some("203.0.113.7, [2001:db8::7]:4711, 10.0.0.9")
        )
        .await,
        429
    );
    // A client cannot escape its limit by writing another address first:
    // the balancer appends the real one.
    assert_eq!(
        lookup(&app, &proxy, Some("192.0.2.1, 203.0.113.7")).await,
        429
    );
    // HAProxy adds its own header line after the client's: one list.
    let res = proxy
        .get(app.url(LOOKUP))
        .header("x-forwarded-for", "192.0.2.1")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // Sign-in's per-address limit likewise, and the audit trail records the
    // client, not the balancer.
    for _ in 0..2 {
        assert_eq!(wrong_password(&app, &proxy, "203.0.113.7").await, 401);
    }
    assert_eq!(audited_address(&app), "203.0.113.7");
    assert_eq!(wrong_password(&app, &proxy, "203.0.113.7").await, 429);
    assert_eq!(wrong_password(&app, &proxy, "198.51.100.4").await, 401);
    assert_eq!(audited_address(&app), "198.51.100.4");
    // A header the balancer would never send: the balancer itself is the
    // client, with its own budget.
    assert_ne!(lookup(&app, &proxy, Some("not an address")).await, 429);
    drop(probe);
}

async fn without_trusted_proxies_the_header_is_ignored(probe: TestApp) {
    let app = TestApp::spawn_with(probe.backend, |s| s.tuning.verify_burst = 3)
        .await
        .unwrap();
    let proxy = app.browser_from(PROXY);
    // Every forwarded client is the peer: one budget for all of them.
    for client in ["203.0.113.7", "198.51.100.4", "192.0.2.1"] {
        assert_ne!(lookup(&app, &proxy, Some(client)).await, 429);
    }
    assert_eq!(lookup(&app, &proxy, Some("203.0.113.99")).await, 429);
    assert_eq!(lookup(&app, &proxy, None).await, 429);
    // Another peer has its own.
    assert_ne!(
        lookup(&app, &app.browser_from("127.0.0.3"), None).await,
        429
    );
    drop(probe);
}

async fn an_untrusted_peer_cannot_choose_its_address(probe: TestApp) {
    let app = TestApp::spawn_with(probe.backend, |s| {
        s.tuning.verify_burst = 3;
        s.trusted_proxies =
            gatekeeper::domain::client_address::TrustedProxies::parse(PROXY).unwrap();
    })
    .await
    .unwrap();
    app.create_admin();
    // A client connecting directly (not through the trusted balancer) sends
    // a new X-Forwarded-For with each lookup: still one budget, its own.
    let stranger = app.browser_from("127.0.0.4");
    for i in 0..3 {
        assert_ne!(
            lookup(&app, &stranger, Some(&format!("203.0.113.{i}"))).await,
            429
        );
    }
    assert_eq!(lookup(&app, &stranger, Some("203.0.113.50")).await, 429);
    // Claiming to be the balancer changes nothing.
    assert_eq!(lookup(&app, &stranger, Some(PROXY)).await, 429);
    // Its failed sign-in is recorded under its own address.
    assert_eq!(wrong_password(&app, &stranger, "203.0.113.9").await, 401);
    assert_eq!(audited_address(&app), "127.0.0.4");
    // Meanwhile the balancer's clients are unaffected.
    let proxy = app.browser_from(PROXY);
    assert_ne!(lookup(&app, &proxy, Some("203.0.113.50")).await, 429);
    drop(probe);
}
