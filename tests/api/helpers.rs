//! The test harness: every scenario runs against the real HTTP server on its
//! own fresh database, once on SQLite (a temporary file) and once on
//! PostgreSQL (a database created for the test and dropped after it, copied
//! from a template that holds every migration: see [`PgDatabase`]).

use std::path::PathBuf;

use diesel::{Connection, RunQueryDsl};
use gatekeeper::config::{Settings, Tuning};
use gatekeeper::services::Ctx;
use gatekeeper::startup::Application;
use gatekeeper::store::{DatabaseUrl, outbox};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `name::sqlite` and `name::postgres` tests for each scenario
/// `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

pub const ADMIN_EMAIL: &str = "admin@alliance.example";
pub const ADMIN_PASSWORD: &str = "admin passphrase for tests";

pub struct TestApp {
    pub base: String,
    /// A browser-like client: keeps cookies, does not follow redirects.
    pub client: reqwest::Client,
    pub ctx: Ctx,
    pub backend: Backend,
    pub data_dir: PathBuf,
    /// Further instances on the same database, when this app stands behind
    /// a load balancer ([`TestApp::behind_balancer`]): requests then go
    /// to one instance or another.
    others: Vec<String>,
    turn: std::sync::atomic::AtomicUsize,
    _db: Option<PgDatabase>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with adjusted settings; `None` when PostgreSQL is unreachable
    /// and not required (the skip is printed loudly).
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
    ) -> Option<TestApp> {
        let data_dir =
            std::env::temp_dir().join(format!("gk-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&data_dir).expect("temporary data directory");
        let (database_url, pg) = match backend {
            Backend::Sqlite => (DatabaseUrl::Sqlite(data_dir.join("gatekeeper.db")), None),
            Backend::Postgres => {
                let pg = PgDatabase::create()?;
                (DatabaseUrl::Postgres(pg.url.clone()), Some(pg))
            }
        };
        let mut settings = Settings {
            bind: "127.0.0.1:0".to_owned(),
            data_dir: data_dir.clone(),
            database_url,
            public_url: "http://127.0.0.1".to_owned(),
            session_key: cookie::Key::generate(),
            signing_key_secret: format!("test secret {}", uuid::Uuid::new_v4()),
            smtp_url: None,
            mail_from: "Gatekeeper <noreply@alliance.example>"
                .parse()
                .expect("mailbox"),
            time_zone: chrono_tz::Asia::Shanghai,
            question_banks: None,
            courses: None,
            fhir_patient_system: "http://127.0.0.1/fhir/patient-id".to_owned(),
            trusted_proxies: Default::default(),
            demo: false,
            tuning: Tuning {
                mail_poll_millis: 100,
                auto_submit_poll_millis: 100,
                reminder_poll_secs: 1,
                // Many tests run at once against one PostgreSQL server.
                pg_pool_size: 4,
                ..Tuning::default()
            },
        };
        adjust(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("application builds");
        let port = app.port();
        let ctx = app.ctx().clone();
        actix_web::rt::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Some(TestApp {
            base: format!("http://127.0.0.1:{port}"),
            client,
            ctx,
            backend,
            data_dir,
            others: Vec::new(),
            turn: std::sync::atomic::AtomicUsize::new(0),
            _db: pg,
        })
    }

    /// A second instance on the same database with the same settings (the
    /// same session key, public URL and signing-key secret, as a deployment
    /// gives every instance), as an app of its own with its own browser.
    /// The first app keeps owning the database.
    pub async fn second_instance(&self) -> TestApp {
        let (base, ctx) = self.another_instance(|_| {}).await;
        TestApp {
            base,
            client: self.new_browser(),
            ctx,
            backend: self.backend,
            data_dir: self.data_dir.clone(),
            others: Vec::new(),
            turn: std::sync::atomic::AtomicUsize::new(0),
            _db: None,
        }
    }

    /// This app behind a load balancer in front of it and a second instance
    /// on the same database: request *n* (a page, a form post, an API call)
    /// goes to instance *t(n)* of the Thue–Morse sequence (A B B A B A A B …):
    /// of each aligned pair of requests one goes to each instance (a form read
    /// from one is posted to the other; sign in on one, act on the other),
    /// and, unlike plain alternation, the form posts themselves land on both.
    pub async fn behind_balancer(mut self) -> TestApp {
        let (base, _) = self.another_instance(|_| {}).await;
        self.others.push(base);
        self
    }

    /// A second server instance on the same database (as behind a load
    /// balancer); returns its base URL and context.
    pub async fn another_instance(&self, adjust: impl FnOnce(&mut Settings)) -> (String, Ctx) {
        let mut settings = (*self.ctx.settings).clone();
        adjust(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("second instance builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let ctx = app.ctx().clone();
        actix_web::rt::spawn(app.run_until_stopped());
        (base, ctx)
    }

    pub fn url(&self, path: &str) -> String {
        if self.others.is_empty() {
            return format!("{}{path}", self.base);
        }
        let n = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let turn = if self.others.len() == 1 {
            (n.count_ones() % 2) as usize
        } else {
            n % (self.others.len() + 1)
        };
        let base = if turn == 0 {
            &self.base
        } else {
            &self.others[turn - 1]
        };
        format!("{base}{path}")
    }

    /// A second, independent browser.
    #[allow(clippy::unused_self)] // scenarios ask their app for a browser
    pub fn new_browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// A browser whose connections come from another loopback address
    /// (`127.0.0.2`, say): another client address for the server.
    #[allow(clippy::unused_self)] // scenarios ask their app for a browser
    pub fn browser_from(&self, address: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(address.parse::<std::net::IpAddr>().expect("an address"))
            .build()
            .expect("client")
    }

    /// Creates the first admin the way an operator does.
    pub fn create_admin(&self) {
        gatekeeper::services::people::create_admin(
            &self.ctx.db,
            ADMIN_EMAIL,
            "Ada Admin",
            ADMIN_PASSWORD,
        )
        .expect("admin created");
    }

    /// A personal bearer token for the given account.
    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("token request");
        assert_eq!(res.status(), 201, "token for {email}");
        let body: Value = res.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.create_admin();
        self.token_for(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method_copy = method.clone();
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("api request");
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = res.text().await.expect("body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        // Every answer is held to the OpenAPI document.
        crate::contract::check(&method_copy, path, status, &content_type, &value);
        (status, value)
    }

    /// Fetches a page with `client` and returns status and HTML.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let res = client.get(self.url(path)).send().await.expect("page");
        (res.status().as_u16(), res.text().await.expect("html"))
    }

    /// Submits a form the way a browser does: first reads the CSRF token
    /// from `form_page`, then posts `fields` plus that token.
    pub async fn submit(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.page(client, form_page).await;
        let csrf = csrf_in(&html).expect("the page has a form with a CSRF token");
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &csrf));
        let encoded = serde_html_form::to_string(&body).expect("form");
        client
            .post(self.url(action))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encoded)
            .send()
            .await
            .expect("form post")
    }

    /// Signs `client` in through the sign-in page.
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.submit(
            client,
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Mail queued for an address, newest first.
    pub fn mail_to(&self, address: &str) -> Vec<outbox::OutboxRow> {
        self.ctx
            .db
            .read_blocking(|conn| Ok(outbox::for_address(conn, address)?))
            .expect("outbox")
    }

    /// The one-time password link in the newest mail to `address`.
    pub fn setup_token(&self, address: &str) -> String {
        let mail = self.mail_to(address);
        let body = &mail.first().expect("a mail was queued").body_text;
        let start = body.find("token=").expect("the mail has a link") + "token=".len();
        body[start..]
            .split_whitespace()
            .next()
            .expect("token")
            .to_owned()
    }

    /// Runs one statement of test set-up (the same SQL on both databases).
    pub fn exec(&self, sql: &str) {
        let sql = sql.to_owned();
        self.ctx
            .db
            .write_blocking(|conn| Ok(diesel::sql_query(sql).execute(conn)?))
            .expect("set-up statement");
    }

    /// Puts a doctor's certification case in a track at a stage directly (a
    /// fixture for tests of what follows that stage; the pipeline's own
    /// tests walk every stage over HTTP). Creates the track if missing.
    pub fn at_stage(&self, person: i64, track: &str, stage: &str) {
        self.exec(&format!(
            "INSERT INTO tracks (track_key, title, description, validity_months, renewal_credit_hours, sample, created_at, updated_at, code) \
             SELECT '{track}', '{track}', '', 24, 0, FALSE, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'PAED' \
             WHERE NOT EXISTS (SELECT 1 FROM tracks WHERE track_key = '{track}')"
        ));
        self.exec(&format!(
            "UPDATE cases SET stage = '{stage}' WHERE person_id = {person} AND closed_at IS NULL \
             AND track_id = (SELECT id FROM tracks WHERE track_key = '{track}')"
        ));
        self.exec(&format!(
            "INSERT INTO cases (person_id, track_id, kind, stage, stage_entered_at, opened_at) \
             SELECT {person}, t.id, 'initial', '{stage}', '2000-01-01 00:00:00', '2000-01-01 00:00:00' FROM tracks t \
             WHERE t.track_key = '{track}' AND NOT EXISTS \
             (SELECT 1 FROM cases c WHERE c.person_id = {person} AND c.track_id = t.id AND c.closed_at IS NULL)"
        ));
    }

    pub fn count(&self, table: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) AS n FROM {table}"))
    }

    /// A query that selects one whole number named `n`.
    pub fn scalar(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let sql = sql.to_owned();
        self.ctx
            .db
            .read_blocking(|conn| Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n))
            .expect("scalar query")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// Finds the CSRF token in a page's first form.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}

/// Runs an outside validator (pinned in tests/validators/requirements.txt)
/// with the python GATEKEEPER_PYTHON names (default `python3`): `args`, then
/// a temporary file holding `doc`. Returns whether it succeeded and what it
/// said; `None` when the validator is not installed for that python, which
/// skips the check with a loud message unless GATEKEEPER_REQUIRE_VALIDATORS=1
/// (as in CI) makes it a failure.
pub fn run_validator(name: &str, args: &[&str], doc: &Value) -> Option<(bool, String)> {
    let file = std::env::temp_dir().join(format!("gatekeeper-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    all.push(file.clone().into());
    let run = outside_validator(name, &all);
    std::fs::remove_file(&file).ok();
    run
}

/// Runs tests/validators/check_fhir.py on a resource: whether it passed and
/// what it said (`None`: not installed, see [`run_validator`]).
pub fn check_fhir(resource: &Value) -> Option<(bool, String)> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/validators/check_fhir.py"
    );
    run_validator("fhir.resources (check_fhir.py)", &[script], resource)
}

/// Validates a FHIR R4 resource (ServiceRequest, Bundle, CapabilityStatement,
/// OperationOutcome) with tests/validators/check_fhir.py (the `fhir.resources`
/// R4 models), failing the test with every problem it names.
pub fn validate_fhir(resource: &Value) {
    if let Some((ok, said)) = check_fhir(resource) {
        assert!(ok, "not valid FHIR R4:\n{said}\n{resource:#}");
    }
}

/// A PostgreSQL database for one test, dropped when the test ends. It is a
/// copy (`CREATE DATABASE … TEMPLATE`) of a template database migrated once:
/// copying takes a fraction of the time of running every migration.
pub struct PgDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

fn postgres_required() -> bool {
    std::env::var("GATEKEEPER_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Held (a PostgreSQL advisory lock) while a template is checked, built or
/// dropped: test processes running at once build each template once.
const TEMPLATE_LOCK: i64 = 0x676b_5f74_706c;

/// A template of other migrations (another branch, an edited migration) is
/// dropped once it is this old; a younger one may still be in use by a test
/// run of another checkout on the same server.
const STALE_TEMPLATE_SECS: i64 = 3600;

/// The template this process copies, once it is known to exist.
static TEMPLATE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// A digest of migrations/postgres (every file's path and content): the
/// template's name, so that a changed migration makes a new template.
fn migrations_digest() -> String {
    use sha2::{Digest, Sha256};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("migrations/postgres") {
            let path = entry.expect("migration entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut digest = Sha256::new();
    for file in files {
        let relative = file.strip_prefix(&root).expect("inside the folder");
        digest.update(relative.to_string_lossy().as_bytes());
        digest.update([0]);
        digest.update(std::fs::read(&file).expect("migration file"));
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..8])
}

/// Makes sure the migrated template exists on the server (building it if
/// not) and returns its name. Templates of other migrations older than
/// [`STALE_TEMPLATE_SECS`] are dropped on the way.
fn ensure_template(conn: &mut diesel::PgConnection, server: &str) -> String {
    use diesel::sql_types::{BigInt, Text};
    #[derive(diesel::QueryableByName)]
    struct Template {
        #[diesel(sql_type = Text)]
        datname: String,
        #[diesel(sql_type = BigInt)]
        built: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        datistemplate: bool,
    }
    let name = format!("gk_tpl_{}", migrations_digest());
    diesel::sql_query(format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .execute(conn)
        .expect("template lock");
    let templates: Vec<Template> = diesel::sql_query(
        "SELECT datname, datistemplate, \
         COALESCE(NULLIF(shobj_description(oid, 'pg_database'), '')::bigint, 0) AS built \
         FROM pg_database WHERE datname LIKE 'gk\\_tpl\\_%'",
    )
    .load(conn)
    .expect("list templates");
    let now = chrono::Utc::now().timestamp();
    for old in templates
        .iter()
        .filter(|t| t.datname != name && now - t.built > STALE_TEMPLATE_SECS)
    {
        // A template cannot be dropped while it is marked as one.
        let _ = diesel::sql_query(format!("ALTER DATABASE {} IS_TEMPLATE false", old.datname))
            .execute(conn);
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            old.datname
        ))
        .execute(conn);
    }
    let ready = templates
        .iter()
        .any(|t| t.datname == name && t.datistemplate);
    if !ready {
        // Not marked as a template: half built by a process that died.
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(conn)
            .expect("drop a half-built template");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(conn)
            .expect("create the template");
        {
            let migrating = diesel::PgConnection::establish(&format!("{server}/{name}"))
                .expect("connect to the template");
            let mut migrating = gatekeeper::store::DbConn::Postgres(migrating);
            gatekeeper::store::run_migrations(&mut migrating).expect("migrate the template");
        }
        diesel::sql_query(format!("COMMENT ON DATABASE {name} IS '{now}'"))
            .execute(conn)
            .expect("date the template");
        diesel::sql_query(format!("ALTER DATABASE {name} IS_TEMPLATE true"))
            .execute(conn)
            .expect("mark the template");
    }
    diesel::sql_query(format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .execute(conn)
        .expect("template unlock");
    name
}

impl PgDatabase {
    fn create() -> Option<PgDatabase> {
        let server = std::env::var("GATEKEEPER_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
        let admin_url = format!("{server}/postgres");
        let mut conn = match diesel::PgConnection::establish(&admin_url) {
            Ok(c) => c,
            Err(e) => {
                if postgres_required() {
                    panic!(
                        "PostgreSQL is required (GATEKEEPER_REQUIRE_POSTGRES=1) but unreachable at {server}: {e}"
                    );
                }
                eprintln!(
                    "\n!!! SKIPPING a PostgreSQL scenario: no server at {server} ({e}). Set GATEKEEPER_TEST_POSTGRES or start PostgreSQL. !!!\n"
                );
                return None;
            }
        };
        let name = format!("gk_test_{}", uuid::Uuid::new_v4().simple());
        // Twice at most: a template dropped since this process checked it
        // (by another checkout's tests, once it was stale) is built again.
        for attempt in 0..2 {
            let template = {
                let mut known = TEMPLATE
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if attempt > 0 {
                    *known = None;
                }
                known
                    .get_or_insert_with(|| ensure_template(&mut conn, &server))
                    .clone()
            };
            let created = diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut conn);
            match created {
                Ok(_) => {
                    return Some(PgDatabase {
                        url: format!("{server}/{name}"),
                        name,
                        admin_url,
                    });
                }
                Err(e) if attempt == 0 => {
                    eprintln!(
                        "test database from template {template} failed ({e}); checking the template"
                    );
                }
                Err(e) => panic!("create test database from template {template}: {e}"),
            }
        }
        unreachable!("the loop returns or panics")
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// Runs an outside validator with the Python that has them installed
/// (`GATEKEEPER_PYTHON`, from tests/validators/requirements.txt; `.ci/run`
/// makes it). Returns whether it passed and what it printed, or `None` when
/// `module` is not installed there: the check is then skipped with a loud
/// message, unless GATEKEEPER_REQUIRE_VALIDATORS=1 (as in CI) makes that a
/// failure.
pub fn outside_validator<S: AsRef<std::ffi::OsStr>>(
    module: &str,
    args: &[S],
) -> Option<(bool, String)> {
    let python = std::env::var("GATEKEEPER_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let required = std::env::var("GATEKEEPER_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    // Run outside the checkout: a tool's caches (schemathesis keeps
    // `.schemathesis/`) must not land in it.
    let out = std::process::Command::new(&python)
        .args(args)
        .current_dir(std::env::temp_dir())
        .output();
    let missing = match &out {
        Ok(o) => String::from_utf8_lossy(&o.stderr).contains("No module named"),
        Err(_) => true,
    };
    if missing {
        assert!(!required, "{module} is required and {python} lacks it");
        eprintln!(
            "SKIPPED: {module} is not installed for {python} (pip install -r tests/validators/requirements.txt)"
        );
        return None;
    }
    let out = out.ok()?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), said))
}

/// A file in tests/validators/ (the scripts and the vendored schemas).
pub fn validators_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/validators")
        .join(name)
}

/// Runs one of poppler's command-line tools (`pdfinfo`, `pdftotext`,
/// `pdftoppm`: Debian's `poppler-utils`, with `poppler-data` for Chinese)
/// on a file: whether it succeeded, its output and what it said on stderr.
/// `None` when the tool is not installed, which skips the check with a loud
/// message unless GATEKEEPER_REQUIRE_VALIDATORS=1 (as in CI, whose
/// `.ci/run` installs them) makes it a failure.
pub fn poppler(tool: &str, args: &[&std::ffi::OsStr]) -> Option<(bool, String, String)> {
    let required = std::env::var("GATEKEEPER_REQUIRE_VALIDATORS").is_ok_and(|v| v == "1");
    match std::process::Command::new(tool).args(args).output() {
        Ok(out) => Some((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                !required,
                "{tool} is required (GATEKEEPER_REQUIRE_VALIDATORS=1) and not installed: apt-get install poppler-utils poppler-data"
            );
            eprintln!(
                "SKIPPED: {tool} is not installed (apt-get install poppler-utils poppler-data)"
            );
            None
        }
        Err(e) => panic!("{tool}: {e}"),
    }
}
