//! The credential as a badge image (Open Badges 3.0 baking) and the
//! holder's photo on the public page, shown only while she consents.

use gatekeeper::domain::signing;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::certification::certify;
use crate::helpers::{TestApp, csrf_in};
use crate::on_both_databases;
use crate::training::browser_for;

on_both_databases!(
    a_holder_keeps_her_badge_as_an_image_that_carries_the_credential,
    a_holder_shows_her_photo_on_the_public_page_only_while_she_consents,
    the_photo_is_managed_through_the_api_too,
);

/// The `openbadgecredential` texts of a PNG and the colour of the badge's
/// core (RGB, above the tick), read by the `png` crate's decoder (not by
/// the code that wrote them).
pub(crate) fn read_badge(png_bytes: &[u8]) -> (Vec<String>, [u8; 3]) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).expect("an image");
    reader.finish().expect("a whole PNG");
    let at = ((info.width / 5 * info.width + info.width / 2) * 4) as usize;
    let core = [pixels[at], pixels[at + 1], pixels[at + 2]];
    let texts = reader
        .info()
        .utf8_text
        .iter()
        .filter(|t| t.keyword == "openbadgecredential")
        .map(|t| t.get_text().unwrap())
        .collect();
    (texts, core)
}

/// A live credential's badge as downloaded: a PNG named for `number`,
/// green, with the signed credential baked in once, verifying with the
/// published key.
pub(crate) async fn assert_live_badge(app: &TestApp, res: reqwest::Response, number: &str) {
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("attachment; filename=\"{number}.png\""))
    );
    let (baked, core) = read_badge(&res.bytes().await.unwrap());
    assert_eq!(baked.len(), 1, "one baked credential");
    assert_eq!(core, [0x0b, 0x6e, 0x4f], "green while live");
    let jwks: Value = reqwest::get(app.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = signing::verify(&baked[0], &jwks, chrono::Utc::now()).expect("it verifies");
    assert!(claims["jti"].as_str().unwrap().ends_with(number));
}

async fn badge_of(
    app: &TestApp,
    browser: &reqwest::Client,
    number: &str,
) -> (Vec<String>, [u8; 3]) {
    let res = browser
        .get(app.url(&format!("/credentials/{number}/badge.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    read_badge(&res.bytes().await.unwrap())
}

async fn a_holder_keeps_her_badge_as_an_image_that_carries_the_credential(app: TestApp) {
    let (admin, li_id, _, _, number) = Box::pin(certify(&app)).await;
    let li = browser_for(&app, "li@longxi.example").await;
    let (_, certificate) = app.page(&li, &format!("/credentials/{number}")).await;
    assert!(certificate.contains("id=\"badge-png\""), "{certificate}");
    assert!(
        certificate.contains("id=\"photo-link\""),
        "the holder is offered a photo"
    );

    let res = li
        .get(app.url(&format!("/credentials/{number}/badge.png")))
        .send()
        .await
        .unwrap();
    assert_live_badge(&app, res, &number).await;

    // Nobody else downloads it: not a stranger, not another doctor.
    let stranger = app.new_browser();
    let res = stranger
        .get(app.url(&format!("/credentials/{number}/badge.png")))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    assert_ne!(
        res.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some("image/png")
    );
    let (_, li_person) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/people/{li_id}"),
            &admin,
            None,
        )
        .await;
    let institution = li_person["institution_id"].as_i64().unwrap();
    crate::exams::doctor(&app, &admin, institution, "wangwu").await;
    let other = browser_for(&app, "wangwu@longxi.example").await;
    let res = other
        .get(app.url(&format!("/credentials/{number}/badge.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // Past its date (before the nightly sweep marks it expired) it is not
    // live, and the badge says so as the public page does.
    app.exec(&format!(
        "UPDATE credentials SET valid_until = '2020-01-01 00:00:00' WHERE number = '{number}'"
    ));
    let (_, core) = badge_of(&app, &li, &number).await;
    assert_eq!(core, [0x71, 0x80, 0x96], "grey once not live");
}

fn png_photo(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![120; (width * height * 3) as usize])
            .unwrap();
    }
    out
}

async fn upload(
    app: &TestApp,
    browser: &reqwest::Client,
    bytes: Vec<u8>,
    public: bool,
    with_csrf: bool,
) -> (u16, String) {
    let (_, page) = app.page(browser, "/account/photo").await;
    let token = if with_csrf {
        csrf_in(&page).unwrap()
    } else {
        String::new()
    };
    let mut form = Form::new().text("csrf_token", token).part(
        "photo",
        Part::bytes(bytes)
            .file_name("me.png")
            .mime_str("image/png")
            .unwrap(),
    );
    if public {
        form = form.text("public", "on");
    }
    let res = browser
        .post(app.url("/account/photo"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn status_of(client: &reqwest::Client, url: String) -> u16 {
    client.get(url).send().await.unwrap().status().as_u16()
}

async fn a_holder_shows_her_photo_on_the_public_page_only_while_she_consents(app: TestApp) {
    let (_, _, _, _, number) = Box::pin(certify(&app)).await;
    let li = browser_for(&app, "li@longxi.example").await;
    let anyone = reqwest::Client::new();
    let public_photo = app.url(&format!("/verify/{number}/photo.jpg"));
    let verify_page = app.url(&format!("/verify/{number}"));

    // Uploaded without consent: she sees it, nobody else does.
    let (status, page) = upload(&app, &li, png_photo(1000, 800), false, true).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("id=\"my-photo\"") && page.contains("id=\"show-photo\""),
        "{page}"
    );
    let mine = li.get(app.url("/account/photo.jpg")).send().await.unwrap();
    assert_eq!(mine.status(), 200);
    assert_eq!(mine.headers()["cache-control"], "private, no-store");
    // Stored smaller, as JPEG, whatever was sent.
    let stored = mine.bytes().await.unwrap();
    assert_eq!(&stored[..3], &[0xFF, 0xD8, 0xFF], "a JPEG");
    assert!(stored.len() < 40_000, "{} bytes", stored.len());
    assert_eq!(status_of(&anyone, public_photo.clone()).await, 404);
    let page = anyone
        .get(&verify_page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("holder-photo"), "no photo without consent");
    // Nobody but her reads her own photo's address.
    assert_ne!(
        status_of(&app.new_browser(), app.url("/account/photo.jpg")).await,
        200
    );

    // She consents: the public page shows it, and nothing caches it.
    let (_, page) = app.page(&li, "/account/photo").await;
    let res = app
        .submit(
            &li,
            "/account/photo",
            "/account/photo/consent",
            &[("public", "on")],
        )
        .await;
    assert_eq!(res.status(), 200, "{page}");
    let page = anyone
        .get(&verify_page)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"holder-photo\""), "{page}");
    let res = anyone.get(&public_photo).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "no-cache");

    // A bad file is refused by name, in her language, and changes nothing.
    let (status, page) = upload(&app, &li, b"not a picture".to_vec(), true, true).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("照片须为 JPEG 或 PNG 格式"), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    assert_eq!(
        status_of(&anyone, public_photo.clone()).await,
        200,
        "the old photo stays"
    );
    // A form without its CSRF token stores nothing.
    let (status, _) = upload(&app, &li, png_photo(10, 10), true, false).await;
    assert_eq!(status, 403);

    // She withdraws consent: gone from the public page at once.
    let res = app
        .submit(&li, "/account/photo", "/account/photo/consent", &[])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(status_of(&anyone, public_photo.clone()).await, 404);
    // And deletes it.
    let res = app
        .submit(&li, "/account/photo", "/account/photo/remove", &[])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(status_of(&li, app.url("/account/photo.jpg")).await, 404);
    assert_eq!(
        app.scalar("SELECT COUNT(*) AS n FROM holder_photos"),
        0,
        "nothing of the photo is kept"
    );
    for action in ["photo_save", "photo_consent", "photo_remove"] {
        assert!(
            app.scalar(&format!(
                "SELECT COUNT(*) AS n FROM audit_events WHERE action = '{action}'"
            )) >= 1,
            "{action} is audited"
        );
    }
}

/// The same through the API, as an integrator's client would: the image as
/// the body, consent as JSON; the public page follows.
async fn the_photo_is_managed_through_the_api_too(app: TestApp) {
    let (_, _, li_token, _, number) = Box::pin(certify(&app)).await;
    let api = reqwest::Client::new();
    let public_photo = app.url(&format!("/verify/{number}/photo.jpg"));
    let (status, mine) = app
        .api(reqwest::Method::GET, "/api/v1/me/photo", &li_token, None)
        .await;
    assert_eq!(
        (status, mine),
        (
            200,
            serde_json::json!({"has_photo": false, "public": false})
        )
    );

    let res = api
        .put(app.url("/api/v1/me/photo?public=true"))
        .bearer_auth(&li_token)
        .header("content-type", "image/png")
        .body(png_photo(640, 480))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"has_photo": true, "public": true}));
    assert_eq!(status_of(&api, public_photo.clone()).await, 200);

    // Larger than a photo may be: 413 with the error body, before it is
    // all read; nothing changed.
    let res = api
        .put(app.url("/api/v1/me/photo"))
        .bearer_auth(&li_token)
        .header("content-type", "image/jpeg")
        .body(vec![0xFF; 8 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(status_of(&api, public_photo.clone()).await, 200);

    // Not an image: 422 naming the field, nothing changed.
    let res = api
        .put(app.url("/api/v1/me/photo"))
        .bearer_auth(&li_token)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "photo");
    assert_eq!(status_of(&api, public_photo.clone()).await, 200);

    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/api/v1/me/photo/consent",
            &li_token,
            Some(serde_json::json!({"public": false})),
        )
        .await;
    assert_eq!((status, body["public"].clone()), (200, Value::Bool(false)));
    assert_eq!(status_of(&api, public_photo.clone()).await, 404);

    let (status, _) = app
        .api(reqwest::Method::DELETE, "/api/v1/me/photo", &li_token, None)
        .await;
    assert_eq!(status, 204);
    // Consent without a photo: a conflict, named.
    let (status, body) = app
        .api(
            reqwest::Method::PUT,
            "/api/v1/me/photo/consent",
            &li_token,
            Some(serde_json::json!({"public": true})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    // Without a token: 401.
    let res = api.get(app.url("/api/v1/me/photo")).send().await.unwrap();
    assert_eq!(res.status(), 401);
}
