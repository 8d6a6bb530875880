//! What an operator does: the command line, migrations, and session expiry.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel_migrations::MigrationHarness;
use gatekeeper::store::{DbConn, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use reqwest::Method;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp};
use crate::on_both_databases;

on_both_databases!(
    the_command_line_migrates_and_creates_an_admin,
    migrations_run_down_and_up_again,
    an_idle_session_ends,
    admins_issue_and_revoke_tokens_in_the_pages,
    the_server_and_the_commands_end_cleanly,
);

pub(crate) fn gatekeeper(app: &TestApp) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gatekeeper"));
    let url = match &app.ctx.settings.database_url {
        gatekeeper::store::DatabaseUrl::Postgres(url) => url.clone(),
        gatekeeper::store::DatabaseUrl::Sqlite(path) => path.display().to_string(),
    };
    cmd.env("GATEKEEPER_DATABASE_URL", url)
        .env("GATEKEEPER_DATA_DIR", &app.data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

async fn the_command_line_migrates_and_creates_an_admin(app: TestApp) {
    let help = gatekeeper(&app).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for word in ["serve", "migrate", "admin", "GATEKEEPER_DATABASE_URL"] {
        assert!(text.contains(word), "--help mentions {word}");
    }
    let migrate = gatekeeper(&app).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(
        String::from_utf8_lossy(&migrate.stdout).contains("0 migration(s) applied"),
        "already migrated by the server"
    );

    // The password comes from standard input, never from the command line.
    let with_flag = gatekeeper(&app)
        .args([
            "admin",
            "create",
            "--email",
            "op@alliance.example",
            "--name",
            "Op",
            "--password",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!with_flag.status.success());
    let mut child = gatekeeper(&app)
        .args([
            "admin",
            "create",
            "--email",
            "Op@Alliance.example",
            "--name",
            "Operator",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"operator secret phrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("op@alliance.example"));
    // The new admin signs in over HTTP.
    let token = app
        .token_for("op@alliance.example", "operator secret phrase")
        .await;
    let (_, me) = app.api(Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(me["roles"], serde_json::json!(["admin"]));

    // Refusals are clear and change nothing: a weak password, a duplicate.
    for (email, password, expect) in [
        ("weak@alliance.example", "password", "common"),
        ("op@alliance.example", "another fine phrase", "exists"),
    ] {
        let mut child = gatekeeper(&app)
            .args(["admin", "create", "--email", email, "--name", "X"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(expect),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(app.count("people"), 1);
}

/// Waits up to `limit` for `child` to end; kills it and fails if it does not.
fn wait_for(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!(
                "still running {} s after it was told to stop",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `serve` stopped with SIGTERM (as a service manager stops it) stops
/// serving, stops its background jobs, closes the database and exits 0,
/// within seconds; and commands exit 0 every time (the PostgreSQL client
/// library once crashed at exit, about one run in ten, while a pool thread
/// was still opening a connection).
async fn the_server_and_the_commands_end_cleanly(app: TestApp) {
    let mut child = gatekeeper(&app)
        .arg("serve")
        .env("GATEKEEPER_BIND", "127.0.0.1:0")
        .env("GATEKEEPER_QUESTION_BANKS", "none")
        .env("GATEKEEPER_COURSES", "none")
        .env(
            "GATEKEEPER_SIGNING_KEY_SECRET",
            &app.ctx.settings.signing_key_secret,
        )
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("serve prints where it listens")
            .unwrap();
        if let Some(rest) = line.split("(port ").nth(1) {
            break rest.split(',').next().unwrap().parse::<u16>().unwrap();
        }
    };
    // Requests that take connections from the pools (and make it open
    // replacements in the background).
    for path in ["/api/v1/health", "/sign-in", "/api/v1/health"] {
        let answer = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
    }
    let stop = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    let started = Instant::now();
    let status = wait_for(&mut child, Duration::from_secs(10));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "serve ended with {status}: {stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "serve took {:?} to stop",
        started.elapsed()
    );
    // It stopped serving.
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/api/v1/health"))
            .await
            .is_err()
    );

    // Commands that open the database, run one after another.
    for _ in 0..10 {
        let out = gatekeeper(&app).arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "`migrate` ended with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The schema as text, one sorted line per column, constraint, index,
/// trigger, view, sequence or function, so that two dumps compare equal
/// exactly when the schemas are the same.
fn schema_dump(conn: &mut DbConn) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || p.\"notnull\" \
                 || ' default=' || COALESCE(p.dflt_value, '-') || ' pk=' || p.pk AS line \
             FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             UNION ALL \
             SELECT 'foreign key ' || m.name || '.' || f.\"from\" || ' -> ' || f.\"table\" || '.' \
                 || COALESCE(f.\"to\", '-') || ' on update ' || f.on_update || ' on delete ' || f.on_delete \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' \
             UNION ALL \
             SELECT m.type || ' ' || m.name || ' ' || COALESCE(m.sql, '') \
             FROM sqlite_master m WHERE m.name NOT LIKE 'sqlite_%'"
        }
        DbConn::Postgres(_) => {
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' nullable=' \
                 || is_nullable || ' default=' || COALESCE(column_default, '-') AS line \
             FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL \
             SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
             UNION ALL \
             SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL \
             SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal \
             UNION ALL \
             SELECT 'view ' || table_name || ' ' || view_definition \
             FROM information_schema.views WHERE table_schema = 'public' \
             UNION ALL \
             SELECT 'sequence ' || sequence_name || ' ' || data_type \
             FROM information_schema.sequences WHERE sequence_schema = 'public' \
             UNION ALL \
             SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p \
             WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'"
        }
    };
    let mut lines: Vec<String> = diesel::sql_query(sql)
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        // The same statement may be stored with other spacing.
        .map(|l| l.line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

/// Every migration reverts what it applies: all the way down one at a time
/// and up again, the schema at each version is the one it was on the way
/// down, and at the top the one the migrations first made; and the app
/// works on it.
async fn migrations_run_down_and_up_again(app: TestApp) {
    app.ctx
        .db
        .write_blocking(|conn| {
            let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
                gatekeeper::error::Error::internal_from("a migration", e)
            };
            let top = schema_dump(conn);
            // (version reverted, schema before its down)
            let mut down = Vec::new();
            while applied(conn)? > 0 {
                let before = schema_dump(conn);
                let version = match conn {
                    DbConn::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
                    DbConn::Postgres(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
                }
                .map_err(failed)?;
                down.push((version.to_string(), before));
            }
            assert!(down.len() > 10, "every migration was reverted");
            // Nothing is left but diesel's record of the migrations.
            let bottom = schema_dump(conn);
            let left: Vec<&String> = bottom
                .iter()
                .filter(|l| !l.contains("__diesel_schema_migrations"))
                .collect();
            assert!(left.is_empty(), "left after every down: {left:#?}");
            while let Some((version, expected)) = down.pop() {
                let ran = match conn {
                    DbConn::Sqlite(c) => c.run_next_migration(SQLITE_MIGRATIONS),
                    DbConn::Postgres(c) => c.run_next_migration(POSTGRES_MIGRATIONS),
                }
                .map_err(failed)?;
                assert_eq!(ran.to_string(), version);
                let after = schema_dump(conn);
                assert!(
                    after == expected,
                    "migration {version}: down then up changed the schema:\n{}",
                    difference(&expected, &after)
                );
            }
            assert_eq!(schema_dump(conn), top);
            Ok(())
        })
        .unwrap();
    // The schema is whole again: the app works end to end.
    let token = app.admin_token().await;
    assert_eq!(
        app.api(Method::GET, "/api/v1/people", &token, None).await.0,
        200
    );
}

/// How many migrations are applied.
fn applied(conn: &mut DbConn) -> gatekeeper::error::Result<usize> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| {
        gatekeeper::error::Error::internal_from("a migration", e)
    };
    Ok(match conn {
        DbConn::Sqlite(c) => c.applied_migrations().map_err(failed)?.len(),
        DbConn::Postgres(c) => c.applied_migrations().map_err(failed)?.len(),
    })
}

/// The lines only in `a` (-) and only in `b` (+).
fn difference(a: &[String], b: &[String]) -> String {
    let gone = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| format!("- {l}"));
    let new = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| format!("+ {l}"));
    gone.chain(new).collect::<Vec<_>>().join("\n")
}

async fn an_idle_session_ends(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(app.page(&browser, "/").await.0, 200);
    // Two hours and a minute without a request.
    let sql = match app.backend {
        Backend::Sqlite => "UPDATE sessions SET last_seen_at = datetime('now', '-121 minutes')",
        Backend::Postgres => {
            "UPDATE sessions SET last_seen_at = (now() at time zone 'utc') - interval '121 minutes'"
        }
    };
    app.ctx
        .db
        .write_blocking(|conn| Ok(diesel::sql_query(sql).execute(conn)?))
        .unwrap();
    assert_eq!(app.page(&browser, "/").await.0, 303);
    assert_eq!(app.count("sessions"), 0, "the expired session was removed");
}

async fn admins_issue_and_revoke_tokens_in_the_pages(app: TestApp) {
    app.create_admin();
    let browser = app.new_browser();
    app.sign_in(&browser, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let res = app
        .submit(
            &browser,
            "/admin/tokens",
            "/admin/tokens",
            &[
                ("name", "District HIS"),
                ("scopes", "institutions:read"),
                ("scopes", "people:read"),
            ],
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    let start = html.find("id=\"issued-token\">").unwrap() + "id=\"issued-token\">".len();
    let secret = html[start..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("gki_"));
    assert_eq!(
        app.api(Method::GET, "/api/v1/institutions", &secret, None)
            .await
            .0,
        200
    );
    // Shown once: the list page does not contain it.
    let (_, list) = app.page(&browser, "/admin/tokens").await;
    assert!(!list.contains(&secret));
    assert!(list.contains("institutions:read people:read"));
    // No scope chosen: refused by field, nothing issued.
    let before = app.count("api_tokens");
    let res = app
        .submit(
            &browser,
            "/admin/tokens",
            "/admin/tokens",
            &[("name", "Nothing")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("api_tokens"), before);
    // Revoke from the page.
    let id_start = list.find("/admin/tokens/").unwrap() + "/admin/tokens/".len();
    let id: String = list[id_start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let res = app
        .submit(
            &browser,
            "/admin/tokens",
            &format!("/admin/tokens/{id}/revoke"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.api(Method::GET, "/api/v1/institutions", &secret, None)
            .await
            .0,
        401
    );
}
