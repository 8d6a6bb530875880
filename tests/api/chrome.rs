//! Headless Chromium through chromedriver, for the browser scenarios (here
//! and in tests/demo): started on a free port, with a fresh profile and the
//! flags this machine's closed network needs; stopped when dropped.
//!
//! Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them).
//! Without them a scenario is skipped loudly, unless
//! GATEKEEPER_REQUIRE_BROWSER=1, when it fails.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

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
pub struct Driver {
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

pub async fn start_browser() -> Option<(Driver, Client)> {
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

/// The address of one of chromedriver's own commands for this session.
#[allow(dead_code)]
async fn session_url(driver: &Driver, browser: &Client, command: &str) -> String {
    let session = browser
        .session_id()
        .await
        .expect("session id")
        .expect("a session");
    format!(
        "http://127.0.0.1:{}/session/{session}/{command}",
        driver.port
    )
}

/// Cuts the browser's network (Chromium's network conditions, through
/// chromedriver's own endpoint) or restores it. The page stays as it was:
/// only its requests fail, as on a phone that loses signal. (tests/demo
/// shares this file and never cuts the network.)
#[allow(dead_code)]
pub async fn set_offline(driver: &Driver, browser: &Client, offline: bool) {
    let url = session_url(driver, browser, "chromium/network_conditions").await;
    let http = reqwest::Client::new();
    let request = if offline {
        http.post(url).json(&json!({"network_conditions": {
            "offline": true, "latency": 0, "download_throughput": 0, "upload_throughput": 0
        }}))
    } else {
        http.delete(url)
    };
    let res = request.send().await.expect("chromedriver answers");
    assert!(
        res.status().is_success(),
        "network conditions: {}",
        res.text().await.unwrap_or_default()
    );
}

/// Runs axe-core (tests/axe, pinned, installed by `.ci/run` with `npm ci`)
/// on the page as it is now and fails on any serious or critical
/// violation, naming the rule, the page state and the elements. Without
/// axe-core installed the check is skipped loudly, unless
/// GATEKEEPER_REQUIRE_BROWSER=1, when it fails.
#[allow(dead_code)]
pub async fn assert_accessible(browser: &Client, state: &str) {
    if let Some(found) = axe_violations(browser, state).await {
        assert!(found.is_empty(), "{state}: {}", found.join("\n"));
    }
}

/// The serious and critical violations axe-core finds on the page now, or
/// `None` when axe-core is not installed (see `assert_accessible`).
#[allow(dead_code)]
pub async fn axe_violations(browser: &Client, state: &str) -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/axe/node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&path) else {
        if std::env::var("GATEKEEPER_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("axe-core is not installed: run npm ci --prefix tests/axe (bash .ci/run does)");
        }
        eprintln!(
            "\n!!! SKIPPING the accessibility check of {state}: npm ci --prefix tests/axe !!!\n"
        );
        return None;
    };
    // Loaded once per page: checked again (at another width, say), the
    // page keeps it.
    let loaded = browser
        .execute("return typeof window.axe !== 'undefined';", vec![])
        .await
        .expect("the page runs scripts");
    if loaded != serde_json::Value::Bool(true) {
        browser.execute(&axe, vec![]).await.expect("axe-core loads");
    }
    let found = browser
        .execute_async(
            "var done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
               done(r.violations
                 .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                 .map(function (v) {
                   return v.impact + ' ' + v.id + ': ' + v.help + ' at ' +
                     v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); }).join(' | ');
                 }));
             }, function (e) { done(['axe failed: ' + e]); });",
            vec![],
        )
        .await
        .expect("axe-core runs");
    Some(serde_json::from_value(found).unwrap_or_default())
}

/// Renders the page as for print (CSS `@media print`), or back for the
/// screen, through chromedriver's DevTools endpoint: a screenshot then shows
/// what the printed page holds.
#[allow(dead_code)]
pub async fn emulate_print(driver: &Driver, browser: &Client, print: bool) {
    let url = session_url(driver, browser, "goog/cdp/execute").await;
    let media = if print { "print" } else { "" };
    let res = reqwest::Client::new()
        .post(url)
        .json(&json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": media}}))
        .send()
        .await
        .expect("chromedriver answers");
    assert!(
        res.status().is_success(),
        "emulated media: {}",
        res.text().await.unwrap_or_default()
    );
}

/// Runs one DevTools command on the page, through chromedriver, and
/// returns its result.
#[allow(dead_code)]
async fn cdp(
    driver: &Driver,
    browser: &Client,
    cmd: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let url = session_url(driver, browser, "goog/cdp/execute").await;
    let res = reqwest::Client::new()
        .post(url)
        .json(&json!({"cmd": cmd, "params": params}))
        .send()
        .await
        .expect("chromedriver answers");
    let status = res.status();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    assert!(status.is_success(), "{cmd}: {body}");
    body["value"].clone()
}

/// Shows pages on a screen of `width` x `height` CSS pixels, as a phone
/// (`mobile`: the page's viewport meta tag applies) or a desktop does,
/// whatever the window's size; scrollbars take no room, as on a phone.
/// Lasts for the session, across pages.
#[allow(dead_code)]
pub async fn emulate_screen(
    driver: &Driver,
    browser: &Client,
    width: u32,
    height: u32,
    mobile: bool,
) {
    cdp(
        driver,
        browser,
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
    )
    .await;
    cdp(
        driver,
        browser,
        "Emulation.setScrollbarsHidden",
        json!({"hidden": true}),
    )
    .await;
}

/// A screenshot of the whole page, not only what the screen shows:
/// Chromium's own capture at the page's full height, and its full width
/// (a page that runs wider than the screen shows as a wider image).
#[allow(dead_code)]
pub async fn full_page_screenshot(driver: &Driver, browser: &Client) -> Vec<u8> {
    use base64::Engine;
    let metrics = cdp(driver, browser, "Page.getLayoutMetrics", json!({})).await;
    let px = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0).ceil();
    let width = px(&metrics["cssContentSize"]["width"])
        .max(px(&metrics["cssLayoutViewport"]["clientWidth"]));
    let height = px(&metrics["cssContentSize"]["height"]);
    let shot = cdp(
        driver,
        browser,
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true,
               "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
    )
    .await;
    base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap_or_default())
        .expect("a base64 PNG")
}

pub fn artifact(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact directory");
    dir.join(name)
}
