//! The real browser: headless Chromium driven through chromedriver signs in,
//! switches language and saves screenshots of the home page to
//! test-artifacts/. Later features add their browser scenarios here.
//!
//! Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them).
//! Without them the scenario is skipped loudly, unless
//! GATEKEEPER_REQUIRE_BROWSER=1, when it fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(a_person_signs_in_and_switches_language_in_a_real_browser);

fn find(program: &str, env: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"]
        .iter()
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|p| p.exists())
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: tokio::process::Child,
    port: u16,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn start_browser() -> Option<(Driver, Client)> {
    let required = std::env::var("GATEKEEPER_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let (Some(driver), Some(chromium)) = (
        find("chromedriver", "CHROMEDRIVER"),
        find("chromium", "CHROMIUM"),
    ) else {
        if required {
            panic!("GATEKEEPER_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed");
        }
        eprintln!(
            "\n!!! SKIPPING the browser scenario: install Debian's chromium and chromium-driver (bash .ci/run does). !!!\n"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let profile = std::env::temp_dir().join(format!("gk-chrome-{}", uuid::Uuid::new_v4().simple()));
    let driver = Driver {
        child,
        port,
        profile: profile.clone(),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {"intl.accept_languages": "zh-CN,zh"},
        }),
    );
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a browser session");
    Some((driver, client))
}

fn artifact(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact directory");
    dir.join(name)
}

async fn a_person_signs_in_and_switches_language_in_a_real_browser(app: TestApp) {
    let Some((_driver, browser)) = start_browser().await else {
        return;
    };
    app.create_admin();
    let backend = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let outcome = async {
        browser.set_window_size(1200, 900).await?;
        browser.goto(&app.url("/sign-in")).await?;
        // The browser asks for Chinese: the page is Chinese.
        let title = browser.find(Locator::Css("h1")).await?.text().await?;
        assert_eq!(title, "登录");
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
