//! The public page's downloads, for anyone on both databases: the
//! certificate as a one-page A4 PDF (read by poppler's `pdfinfo` and
//! `pdftotext`, not by our code) in the reader's language, which says so
//! when the credential is suspended or revoked; and the badge image with
//! the signed credential baked in. Unknown numbers are 404, and the
//! downloads count against the public lookup limit.

use std::ffi::OsStr;

use gatekeeper::domain::credentials::CredentialNumber;
use reqwest::Method;
use serde_json::json;

use crate::certification::{certify, change_status};
use crate::helpers::{Backend, TestApp, poppler};
use crate::on_both_databases;
use crate::photos::{assert_live_badge, read_badge};
use crate::training::browser_for;

on_both_databases!(anyone_downloads_the_certificate_as_a_pdf_and_the_badge_as_a_png);

const NAME: &str = "李晓梅";
const TRACK: &str = "儿科联盟守门人医生";

/// The PDF as poppler reads it: checks that `pdfinfo` finds one A4 page
/// without a complaint, keeps the file and a 60 dpi picture of it in
/// test-artifacts/ for whoever reviews the run, and returns the text
/// `pdftotext` extracts (`None`: poppler is not installed, see
/// [`poppler`]).
fn read_pdf(app: &TestApp, pdf: &[u8], name: &str) -> Option<String> {
    let backend = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let file = crate::chrome::artifact(&format!("certificate-{name}-{backend}.pdf"));
    std::fs::write(&file, pdf).unwrap();
    let (ok, info, complaints) = poppler("pdfinfo", &[file.as_os_str()])?;
    assert!(ok && complaints.is_empty(), "pdfinfo: {complaints}{info}");
    let field = |key: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("pdfinfo names no {key}\n{info}"))
    };
    assert_eq!(field("Pages:"), "1", "one page");
    assert!(
        field("Page size:").starts_with("595 x 842 pts (A4)"),
        "{info}"
    );
    let (ok, text, complaints) = poppler(
        "pdftotext",
        &[
            OsStr::new("-enc"),
            OsStr::new("UTF-8"),
            file.as_os_str(),
            OsStr::new("-"),
        ],
    )?;
    assert!(ok && complaints.is_empty(), "pdftotext: {complaints}");
    let picture = file.with_extension("");
    let (ok, _, complaints) = poppler(
        "pdftoppm",
        &[
            OsStr::new("-r"),
            OsStr::new("60"),
            OsStr::new("-png"),
            OsStr::new("-singlefile"),
            file.as_os_str(),
            picture.as_os_str(),
        ],
    )?;
    assert!(ok, "pdftoppm: {complaints}");
    // Text extraction may break a line anywhere: compare without spaces.
    Some(text.split_whitespace().collect())
}

async fn get(client: &reqwest::Client, app: &TestApp, path: &str, lang: &str) -> reqwest::Response {
    client
        .get(app.url(path))
        .header("Accept-Language", lang)
        .send()
        .await
        .unwrap()
}

/// The certificate of `number` in `lang`: checks the answer's headers and
/// returns what poppler reads in it.
async fn certificate(
    app: &TestApp,
    client: &reqwest::Client,
    number: &str,
    lang: &str,
    name: &str,
) -> Option<String> {
    let res = get(
        client,
        app,
        &format!("/verify/{number}/certificate.pdf"),
        lang,
    )
    .await;
    assert_eq!(res.status(), 200);
    let header = |h: &str| res.headers()[h].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "application/pdf");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"{number}.pdf\"")
    );
    assert_eq!(header("cache-control"), "no-store", "the status can change");
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    read_pdf(app, &pdf, name)
}

async fn anyone_downloads_the_certificate_as_a_pdf_and_the_badge_as_a_png(app: TestApp) {
    let (admin, li_id, _, members, number) = Box::pin(certify(&app)).await;
    // A Chinese name (through the API, as an admin corrects it) and a
    // Chinese track title (tracks come from files; set here directly).
    let (_, li) = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{li_id}"),
            &admin,
            None,
        )
        .await;
    let (status, renamed) = app
        .api(
            Method::PUT,
            &format!("/api/v1/people/{li_id}"),
            &admin,
            Some(json!({
                "email": li["email"], "name": NAME, "roles": li["roles"],
                "practising_certificate": li["practising_certificate"],
                "institution_id": li["institution_id"],
            })),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    app.exec(&format!(
        "UPDATE tracks SET title = '{TRACK}' WHERE track_key = 'paediatrics'"
    ));

    // The public page's main actions are the two downloads; the holder's
    // certificate page links to the same.
    let anyone = app.new_browser();
    let (status, page) = app.page(&anyone, &format!("/verify/{number}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("href=\"/verify/{number}/certificate.pdf\""))
            && page.contains(&format!("href=\"/verify/{number}/badge.png\""))
            && page.contains("下载证书（PDF）"),
        "{page}"
    );
    let holder = browser_for(&app, "li@longxi.example").await;
    let (_, mine) = app.page(&holder, &format!("/credentials/{number}")).await;
    assert!(
        mine.contains(&format!("href=\"/verify/{number}/certificate.pdf\"")),
        "{mine}"
    );

    // The certificate, in Chinese by default and in English when asked.
    if let Some(text) = certificate(&app, &anyone, &number, "", "zh-active").await {
        for expected in [
            NAME,
            &number,
            TRACK,
            "联盟医生资格证书",
            "有效",
            "医院联盟质量控制委员会",
        ] {
            assert!(text.contains(expected), "no {expected} in:\n{text}");
        }
        assert!(!text.contains("无效"), "{text}");
    }
    if let Some(text) = certificate(&app, &anyone, &number, "en", "en-active").await {
        for expected in [NAME, &number, TRACK, "AllianceDoctorCertificate", "Active"] {
            assert!(text.contains(expected), "no {expected} in:\n{text}");
        }
        assert!(!text.contains("notvalid"), "{text}");
    }

    // The badge, for anyone: the signed credential baked in, verifying with
    // the published key; green while live.
    let res = get(&anyone, &app, &format!("/verify/{number}/badge.png"), "").await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_live_badge(&app, res, &number).await;

    // Suspended: the certificate says so at once, and the badge is grey.
    let (status, body) = change_status(&app, &members[0], &number, "suspend").await;
    assert_eq!(status, 200, "{body}");
    if let Some(text) = certificate(&app, &anyone, &number, "", "zh-suspended").await {
        assert!(
            text.contains("已暂停") && text.contains("本证书当前无效"),
            "{text}"
        );
        assert!(text.contains(NAME) && text.contains(&number));
    }
    let res = get(&anyone, &app, &format!("/verify/{number}/badge.png"), "").await;
    let (_, core) = read_badge(&res.bytes().await.unwrap());
    assert_eq!(core, [0x71, 0x80, 0x96], "grey once not live");

    // Revoked: so says the certificate, in either language.
    let (status, body) = change_status(&app, &members[1], &number, "reinstate").await;
    assert_eq!(status, 200, "{body}");
    change_status(&app, &members[0], &number, "revoke").await;
    let (status, body) = change_status(&app, &members[1], &number, "revoke").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "revoked");
    if let Some(text) = certificate(&app, &anyone, &number, "", "zh-revoked").await {
        assert!(
            text.contains("已撤销") && text.contains("本证书当前无效"),
            "{text}"
        );
    }
    if let Some(text) = certificate(&app, &anyone, &number, "en", "en-revoked").await {
        assert!(
            text.contains("REVOKED") && text.contains("Thiscertificateisnotvalid"),
            "{text}"
        );
    }

    // An unknown number is the verify page's 404; a mistyped one its 422.
    let unknown = CredentialNumber::new("PAED", 2026, 999_999)
        .unwrap()
        .to_string();
    for file in ["certificate.pdf", "badge.png"] {
        let res = get(&anyone, &app, &format!("/verify/{unknown}/{file}"), "").await;
        assert_eq!(res.status(), 404, "{file}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.text().await.unwrap().contains("没有此编号的证书"));
    }
    let mut wrong = number.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    let res = get(
        &anyone,
        &app,
        &format!("/verify/{wrong}/certificate.pdf"),
        "",
    )
    .await;
    assert_eq!(res.status(), 422);

    // Downloads are lookups: limited per address like the page.
    let mut throttled = false;
    for i in 0..40 {
        let file = if i % 2 == 0 {
            "certificate.pdf"
        } else {
            "badge.png"
        };
        let res = get(&anyone, &app, &format!("/verify/{number}/{file}"), "").await;
        if res.status() == 429 {
            throttled = true;
            break;
        }
        assert_eq!(res.status(), 200);
    }
    assert!(throttled, "downloading is rate-limited");
}
