//! The demo alliance (`gatekeeper demo`), built small on both databases:
//! the dashboards show the planned figures, every printed sign-in works,
//! every page says it is demo data, and a database holding anything else
//! is refused.
//!
//! A test binary of its own: the builder moves the process-wide clock
//! (`gatekeeper::clock`) through the alliance's past, which the scenarios
//! of the other binary must never see. The two databases run one after the
//! other for the same reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// A scenario reads best as one story from request to check, however long.
#![allow(clippy::too_many_lines)]
#![allow(
    clippy::indexing_slicing,
    clippy::as_conversions,
    reason = "tests index and cast the fixtures and answers they check; a panic is a failed test"
)]

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
// The harness holds every API answer to the OpenAPI document.
#[path = "../api/contract.rs"]
mod contract;

#[allow(dead_code)]
#[path = "../api/chrome.rs"]
mod chrome;

use std::sync::Arc;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use gatekeeper::demo::{self, DEMO_PASSWORD, Figures, Options};
use helpers::{Backend, TestApp};
use reqwest::Method;

const COHORT: usize = 20;

#[actix_web::test]
async fn the_demo_alliance_shows_the_programme_figures_on_both_databases() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn_with(backend, |s| {
            s.demo = true;
            // The jobs run only when the builder plays them.
            s.tuning.certification_poll_secs = 3600;
            s.tuning.auto_submit_poll_millis = 3_600_000;
            s.tuning.reminder_poll_secs = 3600;
        })
        .await
        else {
            continue;
        };
        the_demo_alliance(&app).await;
        if backend == Backend::Sqlite {
            screenshots(&app).await;
        }
        refuses_other_data(&app);
    }
}

async fn the_demo_alliance(app: &TestApp) {
    // The builder imports the sample courses and banks itself, at the
    // alliance's founding.
    let mut ctx = app.ctx.clone();
    let mut settings = (*ctx.settings).clone();
    settings.question_banks = Some("question_banks".into());
    settings.courses = Some("courses".into());
    ctx.settings = Arc::new(settings);

    assert_eq!(
        demo::check_database(&ctx.db).unwrap(),
        demo::DatabaseState::Empty
    );
    let report = demo::build(
        &ctx,
        Options {
            seed: 7,
            cohort: COHORT,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{:?}: {e}", app.backend));
    let f: Figures = report.figures.clone();
    assert_eq!(f, Figures::planned(COHORT));
    assert!(
        (gatekeeper::clock::now() - chrono::Utc::now())
            .num_seconds()
            .abs()
            < 5,
        "the clock is back at the real time"
    );
    assert_eq!(
        demo::check_database(&ctx.db).unwrap(),
        demo::DatabaseState::Demo
    );

    // Every sign-in printed works, and every page says it is demo data.
    let sign_ins = demo::sign_ins(&ctx.db).unwrap();
    let roles: Vec<&str> = sign_ins.iter().map(|s| s.role).collect();
    assert_eq!(
        roles,
        [
            "doctor in training",
            "certified doctor",
            "examiner",
            "committee member",
            "referral desk",
            "instructor",
            "admin"
        ]
    );
    for s in &sign_ins {
        let browser = app.new_browser();
        let res = app.sign_in(&browser, &s.email, DEMO_PASSWORD).await;
        assert_eq!(res.status(), 303, "{} ({}) signs in", s.email, s.role);
        let (status, home) = app.page(&browser, "/").await;
        assert_eq!(status, 200);
        assert!(home.contains("id=\"demo-banner\""), "{}: {home}", s.role);
    }
    // The error page too.
    let (status, missing) = app.page(&app.new_browser(), "/status-lists/nonsense").await;
    assert!(status >= 400, "{status}");
    assert!(missing.contains("id=\"demo-banner\""), "{missing}");
    let (_, sign_in) = app.page(&app.new_browser(), "/sign-in").await;
    assert!(sign_in.contains("id=\"demo-banner\""), "{sign_in}");

    // A credential number read off a certificate, typed on a phone: lower
    // case, spaces for dashes, verifies on the public page.
    let certified = sign_ins
        .iter()
        .find(|s| s.role == "certified doctor")
        .unwrap();
    let holder = app.token_for(&certified.email, DEMO_PASSWORD).await;
    let (_, mine) = app
        .api(Method::GET, "/api/v1/me/credentials", &holder, None)
        .await;
    let number = mine[0]["number"].as_str().unwrap().to_owned();
    let typed = number.to_lowercase().replace('-', " ");
    let (status, page) = app
        .page(
            &app.new_browser(),
            &format!("/verify/{}", typed.replace(' ', "%20")),
        )
        .await;
    assert_eq!(status, 200, "{typed}: {page}");
    assert!(
        page.contains(&number),
        "{typed} verifies as {number}: {page}"
    );

    // The committee's dashboard shows the planned figures.
    let member = sign_ins
        .iter()
        .find(|s| s.role == "committee member")
        .unwrap();
    let token = app.token_for(&member.email, DEMO_PASSWORD).await;
    let (status, overview) = app
        .api(Method::GET, "/api/v1/alliance-overview", &token, None)
        .await;
    assert_eq!(status, 200, "{overview}");
    let n = |key: &str| overview[key].as_i64().unwrap_or(-1);
    assert_eq!(n("tertiary_hospitals"), 1);
    assert_eq!(n("secondary_hospitals"), f.mch_hospitals as i64);
    assert_eq!(n("community_institutions"), f.community_institutions as i64);
    assert_eq!(n("community_members"), f.alliance_members as i64);
    assert_eq!(n("applicants_last_12_months"), f.cohort as i64);
    assert_eq!(n("applicants"), (f.cohort + f.earlier_certified) as i64);
    assert_eq!(n("alliance_doctors"), f.alliance_doctors() as i64);
    assert_eq!(n("credentials_suspended"), f.suspended as i64);
    assert_eq!(n("credentials_revoked"), f.revoked as i64);
    assert_eq!(
        n("credentials_expired"),
        (f.earlier_certified - f.renewed) as i64
    );
    assert_eq!(
        n("credentials_active"),
        (f.renewed - f.suspended - f.revoked + f.cohort_certified) as i64
    );
    assert_eq!(
        n("lessons_studied") + n("quizzes_submitted"),
        report.completions as i64,
        "{overview}"
    );

    let (status, months) = app
        .api(Method::GET, "/api/v1/referral-dashboard", &token, None)
        .await;
    assert_eq!(status, 200, "{months}");
    let sum = |key: &str| {
        months
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m[key].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(sum("first_visits"), f.first_visits);
    assert_eq!(sum("referrals_up"), f.referrals as i64);
    assert_eq!(sum("referred_back"), f.referred_back as i64);

    // Cases stand at every stage of the pipeline.
    let (status, cases) = app.api(Method::GET, "/api/v1/cases", &token, None).await;
    assert_eq!(status, 200, "{cases}");
    let at = |stage: &str| {
        cases
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["stage"] == stage)
            .count()
    };
    for stage in [
        "training",
        "written_exam",
        "case_assessment",
        "committee_review",
        "certified",
        "rejected",
    ] {
        assert!(at(stage) > 0, "a case at {stage}: {cases}");
    }
    assert_eq!(
        at("certified"),
        f.cohort_certified + f.earlier_certified + f.renewed,
        "initial certifications and renewals"
    );

    // The pages a visitor opens first have content.
    let desk = sign_ins.iter().find(|s| s.role == "referral desk").unwrap();
    let browser = app.new_browser();
    app.sign_in(&browser, &member.email, DEMO_PASSWORD).await;
    let (status, page) = app.page(&browser, "/referral-dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"overview\""), "{page}");
    assert!(
        page.contains("id=\"flagged\""),
        "a doctor is flagged: {page}"
    );
    let browser = app.new_browser();
    app.sign_in(&browser, &desk.email, DEMO_PASSWORD).await;
    let (status, page) = app.page(&browser, "/referrals").await;
    assert_eq!(status, 200);
    assert!(page.matches("/referrals/").count() >= f.referrals, "{page}");
}

/// A database with anything but demo data is refused.
fn refuses_other_data(app: &TestApp) {
    let db = &app.ctx.db;
    app.create_admin();
    let refused = demo::check_database(db).unwrap_err();
    assert!(
        refused.to_string().contains("admin@alliance.example"),
        "{refused}"
    );
    assert!(demo::clear(db).is_err(), "never emptied");
}

/// The README's screenshots, from the demo in a real browser on a phone
/// (390 x 844): the home page of the doctor in training, the exam page of a
/// doctor waiting for the written exam (an exam opened for her now), and
/// the public verify page of the certified doctor's credential. Written to
/// test-artifacts/, or to the folder GATEKEEPER_SCREENSHOTS names (the
/// README's: `GATEKEEPER_SCREENSHOTS=docs/screenshots cargo test --test demo`).
async fn screenshots(app: &TestApp) {
    let Some((driver, browser)) = chrome::start_browser().await else {
        return;
    };
    let sign_ins = demo::sign_ins(&app.ctx.db).unwrap();
    let email = |role: &str| {
        sign_ins
            .iter()
            .find(|s| s.role == role)
            .map(|s| s.email.clone())
            .unwrap()
    };
    let admin = app.token_for(&email("admin"), DEMO_PASSWORD).await;

    // A doctor waiting for the written exam sets her password and gets an
    // exam that is open now.
    let (_, cases) = app.api(Method::GET, "/api/v1/cases", &admin, None).await;
    let waiting = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["stage"] == "written_exam")
        .expect("a case waiting for the written exam")["person_id"]
        .as_i64()
        .unwrap();
    let (status, person) = app
        .api(
            Method::POST,
            &format!("/api/v1/people/{waiting}/setup-link"),
            &admin,
            None,
        )
        .await;
    assert!((200..300).contains(&status), "{status} {person}");
    let (_, person) = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{waiting}"),
            &admin,
            None,
        )
        .await;
    let doctor_email = person["email"].as_str().unwrap().to_owned();
    let token = app.setup_token(&doctor_email);
    let res = app
        .client
        .post(app.url("/api/v1/password-setup"))
        .json(&json!({"token": token, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204, "{:?}", res.text().await);
    let now = chrono::Utc::now();
    let (status, exam) = app
        .api(
            Method::POST,
            "/api/v1/exams",
            &admin,
            Some(json!({
                "track": "paediatrics",
                "title": "儿科守门人笔试（加考）",
                "opens_at": (now - chrono::Duration::minutes(1)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::hours(2)).to_rfc3339(),
                "duration_minutes": 60,
                "pass_mark": 60,
                "attempts_allowed": 1,
                "waiting_days": 0,
                "review_policy": "full",
                "stage": "written",
                "blueprint": {"sections": [
                    {"title": "单选与判断", "topics": ["fever-in-infants", "danger-signs-referral", "asthma"], "kinds": ["single", "true_false"], "mix": {"1": 2, "2": 3, "3": 2}, "points": 2}
                ]},
            })),
        )
        .await;
    assert_eq!(status, 201, "{exam}");
    let exam = exam["id"].as_i64().unwrap();
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &admin,
            Some(json!({"person_id": waiting})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let (_, credentials) = app
        .api(
            Method::GET,
            "/api/v1/me/credentials",
            &app.token_for(&email("certified doctor"), DEMO_PASSWORD)
                .await,
            None,
        )
        .await;
    let number = credentials[0]["number"].as_str().unwrap().to_owned();

    // The exam with the most candidates, for the item analysis.
    let (_, exams) = app.api(Method::GET, "/api/v1/exams", &admin, None).await;
    let mut analysed = None;
    for id in exams
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["id"].as_i64())
    {
        let (status, a) = app
            .api(
                Method::GET,
                &format!("/api/v1/exams/{id}/analysis"),
                &admin,
                None,
            )
            .await;
        let candidates = a["candidates"].as_u64().unwrap_or(0);
        if status == 200 && candidates > 0 && analysed.is_none_or(|(_, most)| candidates > most) {
            analysed = Some((id, candidates));
        }
    }

    let dir = std::env::var_os("GATEKEEPER_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| chrome::artifact("demo").parent().unwrap().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let shot = |name: &str| dir.join(name);
    let outcome = async {
        browser.set_window_size(390, 844).await?;
        let sign_in = |address: String| {
            let browser = browser.clone();
            let url = app.url("/sign-in");
            async move {
                browser.delete_all_cookies().await?;
                browser.goto(&url).await?;
                browser
                    .find(Locator::Css("#email"))
                    .await?
                    .send_keys(&address)
                    .await?;
                browser
                    .find(Locator::Css("#password"))
                    .await?
                    .send_keys(DEMO_PASSWORD)
                    .await?;
                browser
                    .find(Locator::Css("#sign-in"))
                    .await?
                    .click()
                    .await?;
                browser
                    .wait()
                    .at_most(Duration::from_secs(10))
                    .for_element(Locator::Css("#welcome"))
                    .await?;
                Ok::<_, fantoccini::error::CmdError>(())
            }
        };
        sign_in(email("doctor in training")).await?;
        browser.goto(&app.url("/")).await?;
        std::fs::write(shot("doctor-home.png"), browser.screenshot().await?).unwrap();
        chrome::assert_accessible(&browser, "demo doctor-home").await;

        sign_in(doctor_email.clone()).await?;
        browser.goto(&app.url("/exams")).await?;
        browser
            .find(Locator::Css(&format!("#start-{exam}")))
            .await?
            .click()
            .await?;
        // The instructions page, then its confirmation starts.
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#confirm-start"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#countdown"))
            .await?;
        let first = browser
            .find(Locator::Css("fieldset.question input"))
            .await?;
        first.click().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        std::fs::write(shot("exam.png"), browser.screenshot().await?).unwrap();
        chrome::assert_accessible(&browser, "demo exam").await;

        browser.delete_all_cookies().await?;
        browser.goto(&app.url(&format!("/verify/{number}"))).await?;
        std::fs::write(shot("verify.png"), browser.screenshot().await?).unwrap();
        chrome::assert_accessible(&browser, "demo verify").await;
        // The public page prints too; the holder's certificate prints on one
        // A4 page (Chromium's print to PDF).
        sign_in(email("certified doctor")).await?;
        browser
            .goto(&app.url(&format!("/credentials/{number}")))
            .await?;
        chrome::assert_accessible(&browser, "demo certificate").await;
        let a4 = fantoccini::wd::PrintConfiguration::builder()
            .size(fantoccini::wd::PrintSize::A4)
            .build()
            .expect("an A4 print configuration");
        let pdf = browser.print(a4).await?;
        std::fs::write(chrome::artifact("demo-certificate.pdf"), &pdf).unwrap();
        assert_eq!(pdf_pages(&pdf), 1, "the certificate prints on one A4 page");
        // What the page holds, printed (A4 at 96 dpi), to look at.
        browser.set_window_size(794, 1123).await?;
        chrome::emulate_print(&driver, &browser, true).await;
        std::fs::write(
            chrome::artifact("demo-certificate-print.png"),
            browser.screenshot().await?,
        )
        .unwrap();
        chrome::emulate_print(&driver, &browser, false).await;

        // The committee's dashboard, on a phone and on a desktop (an
        // artifact to look at, not for the README).
        sign_in(email("committee member")).await?;
        for (width, height) in [(390, 844), (1366, 900)] {
            browser.set_window_size(width, height).await?;
            browser.goto(&app.url("/referral-dashboard")).await?;
            std::fs::write(
                chrome::artifact(&format!("demo-dashboard-{width}.png")),
                browser.screenshot().await?,
            )
            .unwrap();
            chrome::assert_accessible(&browser, &format!("demo referral dashboard at {width} px"))
                .await;
            // Its chart, scrolled into view.
            browser
                .execute(
                    "document.getElementById('dashboard-chart').closest('figure').scrollIntoView();",
                    vec![],
                )
                .await?;
            std::fs::write(
                chrome::artifact(&format!("demo-dashboard-chart-{width}.png")),
                browser.screenshot().await?,
            )
            .unwrap();
            // The certification funnel on the page of every case.
            browser.goto(&app.url("/admin/cases")).await?;
            browser
                .execute(
                    "document.querySelector('svg.chart').closest('figure').scrollIntoView();",
                    vec![],
                )
                .await?;
            std::fs::write(
                chrome::artifact(&format!("demo-funnel-{width}.png")),
                browser.screenshot().await?,
            )
            .unwrap();
            chrome::assert_accessible(&browser, &format!("demo funnel at {width} px")).await;
            // An exam's item analysis.
            if let Some((exam, _)) = analysed {
                browser
                    .goto(&app.url(&format!("/admin/exams/{exam}/analysis")))
                    .await?;
                browser
                    .execute(
                        "document.getElementById('analysis-chart').closest('figure').scrollIntoView();",
                        vec![],
                    )
                    .await?;
                std::fs::write(
                    chrome::artifact(&format!("demo-analysis-{width}.png")),
                    browser.screenshot().await?,
                )
                .unwrap();
                chrome::assert_accessible(&browser, &format!("demo item analysis at {width} px"))
                    .await;
            }
        }
        // The committee's queue and a dossier, and the examiner's queue.
        browser.goto(&app.url("/committee")).await?;
        chrome::assert_accessible(&browser, "demo committee queue").await;
        if let Ok(link) = browser.find(Locator::Css("a[id^='dossier-']")).await {
            link.click().await?;
            browser
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("#stage"))
                .await?;
            chrome::assert_accessible(&browser, "demo dossier").await;
        }
        sign_in(email("examiner")).await?;
        browser.goto(&app.url("/marking")).await?;
        chrome::assert_accessible(&browser, "demo marking queue").await;
        // A marking task: answer and rubric side by side on a desktop, one
        // after the other on a phone (artifacts to look at).
        if let Ok(task) = browser.find(Locator::Css("a[id^='task-']")).await {
            task.click().await?;
            browser
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("#answer"))
                .await?;
            for (width, height) in [(390, 844), (1366, 900)] {
                browser.set_window_size(width, height).await?;
                std::fs::write(
                    chrome::artifact(&format!("demo-marking-{width}.png")),
                    browser.screenshot().await?,
                )
                .unwrap();
                chrome::assert_accessible(&browser, &format!("demo marking task at {width} px")).await;
            }
        }
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    browser.close().await.ok();
    outcome.expect("the screenshots were taken");
    for name in ["doctor-home.png", "exam.png", "verify.png"] {
        assert!(
            std::fs::metadata(shot(name)).unwrap().len() > 10_000,
            "{name}"
        );
    }
}

/// The pages of a PDF: its page objects (`/Type /Page`, not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type")
        .filter(|(i, _)| {
            let rest = text[i + 5..].trim_start();
            rest.starts_with("/Page") && !rest.starts_with("/Pages")
        })
        .count()
}
