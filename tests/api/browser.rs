//! The real browser: headless Chromium driven through chromedriver signs in,
//! switches language and saves screenshots of the home page to
//! test-artifacts/. Later features add their browser scenarios here.
//!
//! Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them).
//! Without them the scenario is skipped loudly, unless
//! GATEKEEPER_REQUIRE_BROWSER=1, when it fails.

use std::time::Duration;

use fantoccini::Locator;

use crate::chrome::{artifact, assert_accessible, axe_violations, set_offline, start_browser};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    a_person_signs_in_and_switches_language_in_a_real_browser,
    a_doctor_sits_an_exam_in_a_real_browser,
    a_lesson_read_to_the_end_on_a_phone_counts_as_studied,
    a_dropped_connection_strands_nothing_in_the_exam,
);

async fn a_person_signs_in_and_switches_language_in_a_real_browser(app: TestApp) {
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    app.create_admin();
    let backend = backend_name(&app);
    let outcome = async {
        browser.set_window_size(1200, 900).await?;
        browser.goto(&app.url("/sign-in")).await?;
        // The browser asks for Chinese: the page is Chinese.
        let title = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(title, "登录");
        assert_accessible(&browser, "sign-in").await;
        // The check can fail: an image without a text alternative is found.
        browser
            .execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/none.png\">');", vec![])
            .await?;
        if let Some(found) = axe_violations(&browser, "sign-in with a bad image").await {
            assert!(found.iter().any(|v| v.contains("image-alt")), "{found:?}");
        }
        browser.refresh().await?;
        browser
            .find(Locator::Css("#email"))
            .await?
            .send_keys(ADMIN_EMAIL)
            .await?;
        browser
            .find(Locator::Css("#password"))
            .await?
            .send_keys(ADMIN_PASSWORD)
            .await?;
        browser
            .find(Locator::Css("#sign-in"))
            .await?
            .click()
            .await?;
        let welcome = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#welcome"))
            .await?;
        assert!(welcome.text().await?.contains("欢迎"));
        std::fs::write(
            artifact(&format!("home-zh-{backend}.png")),
            browser.screenshot().await?,
        )
        .expect("screenshot saved");
        assert_accessible(&browser, "home-zh").await;

        // Switch to English with the header's button.
        browser
            .find(Locator::Css("#lang-en"))
            .await?
            .click()
            .await?;
        // Wait for the new page, not the old one's heading.
        let welcome = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("html[lang='en'] #welcome"))
            .await?;
        let text = welcome.text().await?;
        assert!(text.contains("Welcome"), "{text}");
        assert!(browser.source().await?.contains("<html lang=\"en\">"));
        std::fs::write(
            artifact(&format!("home-en-{backend}.png")),
            browser.screenshot().await?,
        )
        .expect("screenshot saved");
        assert_accessible(&browser, "home-en").await;

        // A phone-sized window still shows every admin link.
        browser.set_window_size(390, 844).await?;
        browser.goto(&app.url("/")).await?;
        browser
            .find(Locator::Css("a[href='/admin/people']"))
            .await?;
        std::fs::write(
            artifact(&format!("home-phone-{backend}.png")),
            browser.screenshot().await?,
        )
        .expect("screenshot saved");
        assert_accessible(&browser, "home-phone").await;

        // Signing out in the browser ends the session.
        browser
            .find(Locator::Css("#sign-out"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#email"))
            .await?;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.expect("the browser scenario ran");
    assert_eq!(app.count("sessions"), 0);
}

/// "sqlite" or "postgres", for artifact names.
pub(crate) fn backend_name(app: &TestApp) -> &'static str {
    match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Signs a person in through the sign-in page, as they would, and waits
/// for their home page.
pub(crate) async fn sign_in_as(
    browser: &fantoccini::Client,
    app: &TestApp,
    email: &str,
    password: &str,
) -> Result<(), fantoccini::error::CmdError> {
    browser.goto(&app.url("/sign-in")).await?;
    browser
        .find(Locator::Css("#email"))
        .await?
        .send_keys(email)
        .await?;
    browser
        .find(Locator::Css("#password"))
        .await?
        .send_keys(password)
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
    Ok(())
}

/// Signs the test doctor (li@longxi.example) in.
async fn sign_in_as_li(
    browser: &fantoccini::Client,
    app: &TestApp,
) -> Result<(), fantoccini::error::CmdError> {
    sign_in_as(browser, app, "li@longxi.example", "doctor test phrase").await
}

fn seconds(clock: &str) -> i64 {
    clock.split(':').fold(0, |acc, part| {
        acc * 60 + part.trim().parse::<i64>().unwrap_or(0)
    })
}

async fn wait_until<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn a_doctor_sits_an_exam_in_a_real_browser(app: TestApp) {
    use crate::exams::{exam_body, load_bank, register, scheduled, setup};
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    let (admin, doctor_id, _) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    let backend = backend_name(&app);
    let outcome = async {
        browser.set_window_size(1200, 900).await?;
        sign_in_as_li(&browser, &app).await?;
        // Her home page names the one next step: the exam open now.
        let next = browser.find(Locator::Css("#next-step")).await?;
        assert_eq!(next.attr("data-step").await?.as_deref(), Some("start"));
        std::fs::write(artifact(&format!("home-doctor-desktop-{backend}.png")), browser.screenshot().await?).expect("screenshot saved");
        assert_accessible(&browser, "home-doctor-desktop").await;
        browser.set_window_size(390, 844).await?;
        std::fs::write(artifact(&format!("home-doctor-phone-{backend}.png")), browser.screenshot().await?).expect("screenshot saved");
        assert_accessible(&browser, "home-doctor-phone").await;
        browser.set_window_size(1200, 900).await?;
        browser.find(Locator::Css("#next-action")).await?.click().await?;
        // The instructions page: a screenshot on a phone, then the confirmation starts.
        browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#confirm-start")).await?;
        browser.set_window_size(390, 844).await?;
        std::fs::write(artifact(&format!("exam-instructions-phone-{backend}.png")), browser.screenshot().await?).expect("screenshot saved");
        assert_accessible(&browser, "exam-instructions-phone").await;
        browser.set_window_size(1200, 900).await?;
        browser.find(Locator::Css("#confirm-start")).await?.click().await?;
        let clock = browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#countdown")).await?;

        // The countdown runs.
        let first = seconds(&clock.text().await?);
        assert!((3500..=3600).contains(&first), "{first}");
        tokio::time::sleep(Duration::from_millis(2300)).await;
        let later = seconds(&clock.text().await?);
        assert!(later <= first - 2 && later >= first - 4, "{first} -> {later}");

        // Autosave: choosing an option saves it without pressing anything.
        let choices = browser.find_all(Locator::Css("fieldset.question:not([data-kind=case])")).await?;
        let first_q = choices[0].attr("data-position").await?.unwrap_or_default();
        let second_q = choices[1].attr("data-position").await?.unwrap_or_default();
        browser.find(Locator::Css(&format!("#q{first_q} input[name='q{first_q}']"))).await?.click().await?;
        assert!(wait_until(|| async { app.count("answers") == 1 }).await, "the answer reached the server");
        let status = browser.find(Locator::Css("#save-status")).await?;
        assert!(wait_until(|| async { status.attr("class").await.ok().flatten().unwrap_or_default().contains("good") }).await);

        // The network drops: the answer is kept in the browser and the page says so.
        browser.execute("window.fetch = function () { return Promise.reject(new TypeError('offline')); };", vec![]).await?;
        browser.find(Locator::Css(&format!("#q{second_q} input[name='q{second_q}']"))).await?.click().await?;
        assert!(wait_until(|| async { status.attr("class").await.ok().flatten().unwrap_or_default().contains("bad") }).await, "offline shown");
        assert_eq!(app.count("answers"), 1, "nothing reached the server while offline");
        std::fs::write(artifact(&format!("exam-offline-{backend}.png")), browser.screenshot().await?).expect("screenshot saved");
        assert_accessible(&browser, "exam-offline").await;

        // Back online (a reload brings the real network back): the kept answer is
        // restored into the page and resent.
        browser.refresh().await?;
        assert!(wait_until(|| async { app.count("answers") == 2 }).await, "the kept answer was resent");
        let status = browser.find(Locator::Css("#save-status")).await?;
        assert!(wait_until(|| async { status.attr("class").await.ok().flatten().unwrap_or_default().contains("good") }).await);
        let checked: bool = browser
            .execute(&format!("return document.querySelector(\"#q{second_q} input[name='q{second_q}']\").checked;"), vec![])
            .await?
            .as_bool()
            .unwrap_or(false);
        assert!(checked, "the answer shows after the reload");

        // On a phone.
        browser.set_window_size(390, 844).await?;
        browser.refresh().await?;
        browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#countdown")).await?;
        std::fs::write(artifact(&format!("exam-phone-{backend}.png")), browser.screenshot().await?).expect("screenshot saved");
        assert_accessible(&browser, "exam-phone").await;

        // Review and submit.
        browser.find(Locator::Css("#to-summary")).await?.click().await?;
        let submit = browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#submit-attempt")).await?;
        assert_accessible(&browser, "exam-summary").await;
        submit.click().await?;
        browser.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#submitted")).await?;
        assert_accessible(&browser, "exam-submitted").await;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.expect("the exam scenario ran in the browser");
    let submitted = app.ctx.db.read_blocking(|conn| {
        use diesel::prelude::*;
        use gatekeeper::store::schema::attempts;
        Ok(attempts::table
            .filter(attempts::submitted_at.is_not_null())
            .count()
            .get_result::<i64>(conn)?)
    });
    assert_eq!(submitted.ok(), Some(1));
}

async fn a_lesson_read_to_the_end_on_a_phone_counts_as_studied(app: TestApp) {
    use crate::exams::setup;
    use crate::training::{lesson_file, load_training};
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    let (_, _, token) = setup(&app).await;
    let dir = load_training(&app);
    // A lesson longer than a phone's screen.
    let long: Vec<String> = (1..=60)
        .map(|i| format!("第 {i} 段：发热患儿的评估要点。"))
        .collect();
    std::fs::write(
        dir.join("red-flags.md"),
        lesson_file("Red flags", &long.join("\n\n")),
    )
    .unwrap();
    gatekeeper::services::courses::import_path(&app.ctx.db, &dir).expect("re-import");
    let studied = |app: &TestApp, token: String| {
        let app_url = app.url("/api/v1/courses/fever-course");
        let client = app.new_browser();
        async move {
            let body: serde_json::Value = client
                .get(app_url)
                .bearer_auth(token)
                .send()
                .await
                .expect("course")
                .json()
                .await
                .expect("json");
            body["modules"][0]["lessons"][1]["studied"]
                .as_bool()
                .unwrap_or(false)
        }
    };
    let backend = backend_name(&app);
    let outcome = async {
        browser.set_window_size(390, 844).await?;
        sign_in_as_li(&browser, &app).await?;
        browser
            .goto(&app.url("/courses/fever-course/lessons/red-flags"))
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(".lesson-body"))
            .await?;
        std::fs::write(
            artifact(&format!("lesson-phone-{backend}.png")),
            browser.screenshot().await?,
        )
        .expect("screenshot saved");
        assert_accessible(&browser, "lesson-phone").await;
        // Opened but not read to the end: not studied.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            !studied(&app, token.clone()).await,
            "opening a lesson is not reading it"
        );
        // Scrolled to the end: studied, and the page says so.
        browser
            .execute("window.scrollTo(0, document.body.scrollHeight);", vec![])
            .await?;
        assert!(
            wait_until(|| studied(&app, token.clone())).await,
            "reading to the end marks it studied"
        );
        let status = browser
            .find(Locator::Css("#studied-status"))
            .await?
            .text()
            .await?;
        assert!(status.contains("已学习"), "{status}");
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.expect("the lesson scenario ran in the browser");
}

/// Answers question `n` as shown: its first option, or two lines of text.
async fn answer_shown(
    browser: &fantoccini::Client,
    n: usize,
) -> Result<(), fantoccini::error::CmdError> {
    let kind = browser
        .find(Locator::Css(&format!("#q{n}")))
        .await?
        .attr("data-kind")
        .await?
        .unwrap_or_default();
    if kind == "case" {
        browser
            .find(Locator::Css(&format!("#q{n} textarea")))
            .await?
            .send_keys("Offline answer, first line\nsecond line")
            .await?;
    } else {
        browser
            .find(Locator::Css(&format!("#q{n} input[name='q{n}']")))
            .await?
            .click()
            .await?;
    }
    Ok(())
}

async fn shown(browser: &fantoccini::Client, n: usize) -> bool {
    browser
        .execute(
            &format!(
                "var q = document.getElementById('q{n}'); return !!q && !q.hidden && !q.disabled;"
            ),
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The phone loses its connection in the middle of the exam (Chromium's
/// network conditions, not a stubbed fetch): she still moves between
/// questions, answers and reviews in the page, never landing on the
/// browser's error page; when the connection returns the server gets every
/// answer, and she submits.
async fn a_dropped_connection_strands_nothing_in_the_exam(app: TestApp) {
    use crate::exams::{exam_body, load_bank, register, scheduled, setup};
    let Some((driver, browser)) = start_browser().await else {
        return;
    };
    let (admin, doctor_id, _) = setup(&app).await;
    load_bank(&app);
    let exam = scheduled(&app, &admin, exam_body(-1, 120, 60)).await;
    register(&app, &admin, exam, doctor_id).await;
    let backend = backend_name(&app);
    let outcome = async {
        browser.set_window_size(390, 844).await?;
        sign_in_as_li(&browser, &app).await?;
        browser
            .goto(&app.url(&format!("/exams/{exam}/start")))
            .await?;
        browser
            .find(Locator::Css("#confirm-start"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#countdown"))
            .await?;
        // One question per screen, as on a phone.
        browser
            .find(Locator::Css("#mode-one"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#go-next"))
            .await?;
        assert!(shown(&browser, 1).await && !shown(&browser, 2).await);

        set_offline(&driver, &browser, true).await;
        answer_shown(&browser, 1).await?;
        browser
            .find(Locator::Css("#go-next"))
            .await?
            .click()
            .await?;
        assert!(
            wait_until(|| async { shown(&browser, 2).await }).await,
            "next works offline"
        );
        answer_shown(&browser, 2).await?;
        browser.find(Locator::Css("#nav-4")).await?.click().await?;
        assert!(
            wait_until(|| async { shown(&browser, 4).await }).await,
            "the question list works offline"
        );
        answer_shown(&browser, 4).await?;
        // Switching between one question per screen and all on one page
        // needs no server either.
        browser
            .find(Locator::Css("#mode-all"))
            .await?
            .click()
            .await?;
        let mut all_shown = true;
        for n in 1..=6 {
            all_shown &= shown(&browser, n).await;
        }
        assert!(all_shown, "all questions on one page, offline");
        assert!(
            browser
                .find(Locator::Css("#go-next"))
                .await?
                .attr("hidden")
                .await?
                .is_some(),
            "no next button with every question on the page"
        );
        // She scrolls back up to the question list (the page showed question 4).
        browser
            .execute(
                "document.getElementById('mode-one').scrollIntoView({block: 'center'});",
                vec![],
            )
            .await?;
        browser
            .find(Locator::Css("#mode-one"))
            .await?
            .click()
            .await?;
        let mut count = 0;
        for n in 1..=6 {
            count += usize::from(shown(&browser, n).await);
        }
        assert_eq!(count, 1, "one question per screen again, offline");
        let status = browser.find(Locator::Css("#save-status")).await?;
        assert!(
            wait_until(|| async {
                status
                    .attr("class")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .contains("bad")
            })
            .await,
            "the page says the connection is gone"
        );
        browser
            .find(Locator::Css("#to-summary"))
            .await?
            .click()
            .await?;
        for n in [1, 2, 4] {
            let class = browser
                .find(Locator::Css(&format!("#nav-{n}")))
                .await?
                .attr("class")
                .await?
                .unwrap_or_default();
            assert!(
                class.contains("answered"),
                "question {n} shows as answered: {class}"
            );
        }
        let review = browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#offline-review:not([hidden])"))
            .await?;
        let text = review.text().await?;
        assert!(
            browser.find(Locator::Css("#countdown")).await.is_ok(),
            "still the exam page, not the browser's error page"
        );
        assert_eq!(
            browser
                .find_all(Locator::Css("#offline-review-list li"))
                .await?
                .len(),
            6,
            "{text}"
        );
        std::fs::write(
            artifact(&format!("exam-offline-review-phone-{backend}.png")),
            browser.screenshot().await?,
        )
        .expect("screenshot saved");
        assert_accessible(&browser, "exam-offline-review-phone").await;
        assert_eq!(
            app.count("answers"),
            0,
            "nothing reached the server while offline"
        );

        // The connection returns: every kept answer reaches the server.
        set_offline(&driver, &browser, false).await;
        assert!(
            wait_until(|| async { app.count("answers") == 3 }).await,
            "the kept answers were sent"
        );
        browser
            .find(Locator::Css("#offline-review-submit"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#submit-attempt"))
            .await?
            .click()
            .await?;
        browser
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("#submitted"))
            .await?;
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = browser.close().await;
    outcome.expect("the offline scenario ran in the browser");
    // A typed answer keeps its line break.
    let texts = app.ctx.db.read_blocking(|conn| {
        use diesel::prelude::*;
        use gatekeeper::store::schema::answers;
        Ok(answers::table
            .select(answers::response)
            .load::<String>(conn)?)
    });
    let texts = texts.unwrap_or_default();
    assert_eq!(texts.len(), 3);
    if let Some(case) = texts.iter().find(|t| t.contains("Offline answer")) {
        assert!(case.contains("first line\\nsecond line"), "{case}");
    }
}
