//! Email through the outbox: to a real SMTP server on loopback, to .eml files
//! when none is configured, and nothing lost while the server is down.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::RunQueryDsl;
use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_databases;

on_both_databases!(
    mail_reaches_a_real_smtp_server,
    mail_waits_while_the_server_is_down,
    without_smtp_mail_is_written_to_files,
    two_instances_never_send_the_same_mail_twice,
);

/// Recipients and raw message text of one delivery.
type Delivery = (Vec<String>, String);

/// A test SMTP server that keeps every message it receives.
#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Delivery>>>,
    // Per connection: the server clones the handler for each one.
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Inbox {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let (to, data) = (std::mem::take(&mut self.to), std::mem::take(&mut self.data));
        self.received
            .lock()
            .unwrap()
            .push((to, String::from_utf8_lossy(&data).into_owned()));
        response::OK
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_smtp(port: u16) -> Inbox {
    let inbox = Inbox::default();
    let mut server = Server::new(inbox.clone());
    server
        .with_name("mail.test")
        .with_ssl(SslConfig::None)
        .unwrap()
        .with_addr(("127.0.0.1", port))
        .unwrap();
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    // Wait until it accepts connections.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    inbox
}

async fn wait_for(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..150 {
        if done() {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn spawn_with_smtp(app: &TestApp, port: u16) -> TestApp {
    let backend = app.backend;
    TestApp::spawn_with(backend, |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))
    })
    .await
    .expect("app")
}

async fn invite(app: &TestApp, email: &str) {
    let token = app.admin_token().await;
    let (status, _) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &token,
            Some(
                json!({"email": email, "name": "Zhou Min", "roles": ["committee"], "locale": "en"}),
            ),
        )
        .await;
    assert_eq!(status, 201);
}

async fn mail_reaches_a_real_smtp_server(probe: TestApp) {
    let port = free_port();
    let inbox = start_smtp(port);
    let app = spawn_with_smtp(&probe, port).await;
    invite(&app, "zhou.min@alliance.example").await;
    let token = app.setup_token("zhou.min@alliance.example");
    assert!(
        wait_for(|| !inbox.received.lock().unwrap().is_empty()).await,
        "no mail arrived"
    );
    let (to, message) = inbox.received.lock().unwrap()[0].clone();
    assert_eq!(to, vec!["zhou.min@alliance.example".to_owned()]);
    assert!(
        message.contains("Subject: Set your Gatekeeper password"),
        "{message}"
    );
    assert!(message.contains("From: Gatekeeper <noreply@alliance.example>"));
    assert!(
        message.contains("text/plain") && message.contains("text/html"),
        "both parts"
    );
    // Undo quoted-printable soft line breaks before looking for the link.
    let decoded = message.replace("=\r\n", "").replace("=3D", "=");
    assert!(
        decoded.contains(&format!("set-password?token={token}")),
        "the link arrived: {message}"
    );
    // The outbox row is marked sent exactly once.
    assert!(
        wait_for(|| app.mail_to("zhou.min@alliance.example")[0]
            .sent_at
            .is_some())
        .await
    );
    assert_eq!(app.mail_to("zhou.min@alliance.example")[0].attempts, 1);
    drop(probe);
}

async fn mail_waits_while_the_server_is_down(probe: TestApp) {
    let port = free_port(); // nothing listens here yet
    let app = spawn_with_smtp(&probe, port).await;
    invite(&app, "queued@alliance.example").await;
    assert!(
        wait_for(|| app.mail_to("queued@alliance.example")[0].attempts >= 1).await,
        "the worker tried"
    );
    let row = app.mail_to("queued@alliance.example")[0].clone();
    assert!(row.sent_at.is_none());
    assert!(row.last_error.is_some());
    assert!(
        row.next_attempt_at > row.created_at,
        "a retry is scheduled with backoff"
    );

    // The server comes back; when the retry is due the mail goes out.
    let inbox = start_smtp(port);
    app.ctx
        .db
        .write_blocking(|conn| {
            diesel::sql_query("UPDATE outbox SET next_attempt_at = created_at").execute(conn)?;
            Ok(())
        })
        .unwrap();
    assert!(
        wait_for(|| !inbox.received.lock().unwrap().is_empty()).await,
        "retried mail arrived"
    );
    assert!(wait_for(|| app.mail_to("queued@alliance.example")[0].sent_at.is_some()).await);
    assert_eq!(inbox.received.lock().unwrap().len(), 1, "sent once");
    drop(probe);
}

async fn without_smtp_mail_is_written_to_files(app: TestApp) {
    invite(&app, "files@alliance.example").await;
    let dir = app.data_dir.join("mail");
    assert!(
        wait_for(|| std::fs::read_dir(&dir)
            .map(|d| d.count() > 0)
            .unwrap_or(false))
        .await,
        "an .eml file appeared in data/mail"
    );
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    assert_eq!(file.extension().and_then(|e| e.to_str()), Some("eml"));
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("files@alliance.example"));
    assert!(wait_for(|| app.mail_to("files@alliance.example")[0].sent_at.is_some()).await);
}

async fn two_instances_never_send_the_same_mail_twice(probe: TestApp) {
    const PEOPLE: usize = 30;
    let port = free_port();
    let inbox = start_smtp(port);
    let app = spawn_with_smtp(&probe, port).await;
    // A second and third instance on the same database and mail server, all
    // polling every 100 ms.
    app.another_instance(|_| {}).await;
    app.another_instance(|_| {}).await;
    let token = app.admin_token().await;
    for i in 0..PEOPLE {
        let (status, body) = app
            .api(
                Method::POST,
                "/api/v1/people",
                &token,
                Some(json!({"email": format!("p{i}@alliance.example"), "name": format!("P{i}")})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    assert!(
        wait_for(|| inbox.received.lock().unwrap().len() >= PEOPLE).await,
        "all mail arrived"
    );
    // Give any duplicate time to show up.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let received = inbox.received.lock().unwrap().clone();
    assert_eq!(received.len(), PEOPLE, "each message exactly once");
    let mut recipients: Vec<String> = received.iter().map(|(to, _)| to[0].clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), PEOPLE);
    drop(probe);
}
