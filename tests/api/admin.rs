//! An admin manages institutions and people; everyone else is refused.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};
use crate::on_both_databases;

on_both_databases!(
    admin_manages_institutions_through_the_pages,
    admin_creates_a_doctor_through_the_pages,
    admin_pages_and_endpoints_refuse_everyone_else,
    deactivation_ends_access_at_once,
    the_last_admin_cannot_be_removed,
);

async fn admin_manages_institutions_through_the_pages(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let fields = [
        ("name", "Xinqiao Community Health Centre"),
        ("level", "community"),
        ("region", "Yubei"),
        ("alliance_member", "true"),
    ];
    let res = app
        .submit(
            &browser,
            "/admin/institutions/new",
            "/admin/institutions",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, list) = app.page(&browser, "/admin/institutions").await;
    assert_eq!(status, 200);
    assert!(list.contains("Xinqiao Community Health Centre"));

    // The same name again: 409, the field marked, nothing written.
    let res = app
        .submit(
            &browser,
            "/admin/institutions/new",
            "/admin/institutions",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"name\" name=\"name\" required maxlength=\"200\" value=\"Xinqiao Community Health Centre\" aria-invalid=\"true\""));
    assert_eq!(app.count("institutions"), 1);

    // An unknown level is refused by name.
    let res = app
        .submit(
            &browser,
            "/admin/institutions/new",
            "/admin/institutions",
            &[("name", "Other"), ("level", "clinic"), ("region", "Yubei")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("institutions"), 1);

    // Editing: not a member any more.
    let token = app.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, all) = app
        .api(Method::GET, "/api/v1/institutions", &token, None)
        .await;
    let id = all[0]["id"].as_i64().unwrap();
    let edit = format!("/admin/institutions/{id}/edit");
    let res = app
        .submit(
            &browser,
            &edit,
            &format!("/admin/institutions/{id}"),
            &[
                ("name", "Xinqiao CHC"),
                ("level", "community"),
                ("region", "Yubei"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, one) = app
        .api(
            Method::GET,
            &format!("/api/v1/institutions/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(one["name"], "Xinqiao CHC");
    assert_eq!(one["alliance_member"], false);
}

async fn admin_creates_a_doctor_through_the_pages(app: TestApp) {
    let token = app.admin_token().await;
    let (_, inst) = app
        .api(Method::POST, "/api/v1/institutions", &token, Some(json!({"name": "Longxi CHC", "level": "community", "region": "Yubei", "alliance_member": true})))
        .await;
    let inst_id = inst["id"].as_i64().unwrap().to_string();
    let browser = app.new_browser();
    app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // A doctor without a practising-certificate number is refused, by field.
    let base = [
        ("name", "李伟"),
        ("email", "li.wei@longxi.example"),
        ("phone", "138 0000 0000"),
        ("institution_id", inst_id.as_str()),
        ("roles", "doctor"),
        ("locale", "zh-CN"),
    ];
    let res = app
        .submit(&browser, "/admin/people/new", "/admin/people", &base)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("医师执业证书编码"),
        "the error names the field in the page's language"
    );
    assert_eq!(app.count("people"), 1, "only the admin");

    let mut fields = base.to_vec();
    fields.push(("practising_certificate", "110440100012345"));
    fields.push(("roles", "examiner"));
    let res = app
        .submit(&browser, "/admin/people/new", "/admin/people", &fields)
        .await;
    assert_eq!(res.status(), 303);
    let (_, people) = app.api(Method::GET, "/api/v1/people", &token, None).await;
    let li = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "li.wei@longxi.example")
        .unwrap()
        .clone();
    assert_eq!(li["roles"], json!(["doctor", "examiner"]));
    assert_eq!(li["practising_certificate"], "110440100012345");
    assert_eq!(li["institution_id"].as_i64().unwrap().to_string(), inst_id);
    // The invitation is in Chinese, as chosen.
    let mail = app.mail_to("li.wei@longxi.example");
    assert!(mail[0].subject.contains("设置"));

    // Email is unique regardless of case.
    let mut again = fields.clone();
    again[1] = ("email", "LI.WEI@longxi.example");
    let res = app
        .submit(&browser, "/admin/people/new", "/admin/people", &again)
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(app.count("people"), 2);
}

async fn admin_pages_and_endpoints_refuse_everyone_else(app: TestApp) {
    let token = app.admin_token().await;
    let (_, _) = app
        .api(Method::POST, "/api/v1/people", &token, Some(json!({"email": "desk@tertiary.example", "name": "Desk", "roles": ["referral_desk"]})))
        .await;
    let link = app.setup_token("desk@tertiary.example");
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/password-setup",
            "",
            Some(json!({"token": link, "password": "referral desk phrase"})),
        )
        .await;
    assert_eq!(status, 204);
    let browser = app.new_browser();
    assert_eq!(
        app.sign_in(&browser, "desk@tertiary.example", "referral desk phrase")
            .await
            .status(),
        303
    );
    let before = app.count("audit_events");
    for page in [
        "/admin/people",
        "/admin/people/new",
        "/admin/institutions/new",
        "/admin/tokens",
        "/admin/people/1/edit",
    ] {
        let (status, html) = app.page(&browser, page).await;
        assert_eq!(status, 403, "{page}");
        assert!(html.contains("无权访问"));
    }
    // Forms too, with a valid CSRF token: refused, nothing written.
    let res = app
        .submit(
            &browser,
            "/",
            "/admin/institutions",
            &[("name", "Sneaky"), ("level", "community"), ("region", "X")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(app.count("institutions"), 0);
    // Every refusal is in the audit trail.
    assert!(app.count("audit_events") >= before + 6);

    // The API says the same to the desk's token.
    let desk = app
        .token_for("desk@tertiary.example", "referral desk phrase")
        .await;
    for (method, path) in [
        (Method::GET, "/api/v1/people"),
        (Method::GET, "/api/v1/api-tokens"),
        (Method::POST, "/api/v1/people/1/deactivate"),
    ] {
        let (status, body) = app.api(method, path, &desk, None).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    // Reading institutions and one's own account is allowed.
    assert_eq!(
        app.api(Method::GET, "/api/v1/institutions", &desk, None)
            .await
            .0,
        200
    );
    let (status, me) = app.api(Method::GET, "/api/v1/me", &desk, None).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "desk@tertiary.example");
    // No token, or a made-up one: 401.
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", "gkt_made_up", None)
            .await
            .0,
        401
    );
    let res = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
}

async fn deactivation_ends_access_at_once(app: TestApp) {
    let token = app.admin_token().await;
    let (_, person) = app
        .api(Method::POST, "/api/v1/people", &token, Some(json!({"email": "exam@alliance.example", "name": "Examiner", "roles": ["examiner"]})))
        .await;
    let id = person["id"].as_i64().unwrap();
    let link = app.setup_token("exam@alliance.example");
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": "examiner phrase here"})),
    )
    .await;
    let browser = app.new_browser();
    app.sign_in(&browser, "exam@alliance.example", "examiner phrase here")
        .await;
    let their_token = app
        .token_for("exam@alliance.example", "examiner phrase here")
        .await;
    assert_eq!(app.page(&browser, "/").await.0, 200);

    // The admin deactivates through the page.
    let admin = app.new_browser();
    app.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let edit = format!("/admin/people/{id}/edit");
    let res = app
        .submit(
            &admin,
            &edit,
            &format!("/admin/people/{id}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);

    // Their session and token stop working on the next request.
    assert_eq!(app.page(&browser, "/").await.0, 303);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", &their_token, None)
            .await
            .0,
        401
    );
    // Signing in says why, without a session.
    let res = app
        .sign_in(
            &app.new_browser(),
            "exam@alliance.example",
            "examiner phrase here",
        )
        .await;
    assert_eq!(res.status(), 403);
    // Never deleted: still listed, as deactivated.
    let (_, p) = app
        .api(Method::GET, &format!("/api/v1/people/{id}"), &token, None)
        .await;
    assert_eq!(p["active"], false);
    assert!(p["deactivated_at"].is_string());
    // Reactivation lets them back in.
    let (status, _) = app
        .api(
            Method::POST,
            &format!("/api/v1/people/{id}/reactivate"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.sign_in(
            &app.new_browser(),
            "exam@alliance.example",
            "examiner phrase here"
        )
        .await
        .status(),
        303
    );
}

async fn the_last_admin_cannot_be_removed(app: TestApp) {
    let token = app.admin_token().await;
    let (_, me) = app.api(Method::GET, "/api/v1/me", &token, None).await;
    let id = me["id"].as_i64().unwrap();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/people/{id}/deactivate"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["field"], "roles");
    let (status, _) = app
        .api(
            Method::PUT,
            &format!("/api/v1/people/{id}"),
            &token,
            Some(json!({"email": ADMIN_EMAIL, "name": "Ada", "roles": ["committee"]})),
        )
        .await;
    assert_eq!(status, 409);
    let (_, me) = app.api(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(me["roles"], json!(["admin"]));
}
