//! Several instances on one PostgreSQL database, behind a load balancer
//! (issue 19). These scenarios run on PostgreSQL only: SQLite is one file
//! for one instance, so there is nothing to share between instances there
//! (the signing keys, read from the database on both, are tested on both).
//!
//! The whole journey is driven through two instances alternately
//! (`TestApp::behind_balancer`: requests go to one instance or the other in
//! the Thue–Morse order, A B B A B A A B …), reusing the scenarios of the
//! other files: a browser signs in on one instance and acts on the other,
//! reads a form (and its CSRF token) from one and posts it to the other.

use gatekeeper::jobs::Lease;
use reqwest::Method;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp};
use crate::on_both_databases;

/// Generates `name::postgres` for each scenario `async fn name(app: TestApp)`.
macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn postgres() {
                if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    )*};
}

on_postgres!(
    enrolment_to_credential_through_two_instances,
    blind_double_marking_through_two_instances,
    referral_loop_through_two_instances,
    suspension_and_revocation_through_two_instances,
    sessions_and_csrf_work_across_instances,
    throttles_count_across_instances,
    each_reminder_goes_out_once_when_instances_sweep_together,
    a_job_round_runs_on_one_instance_at_a_time,
    a_new_question_version_imported_elsewhere_is_served,
);

on_both_databases!(signing_keys_are_shared_and_rotate);

async fn enrolment_to_credential_through_two_instances(app: TestApp) {
    let app = app.behind_balancer().await;
    // Enrol, study, quiz, workshop, written and case exams, the committee's
    // vote with its conflict rule, the credential.
    crate::certification::a_doctor_goes_from_applied_to_certified_with_refusals_at_each_gate(app)
        .await;
}

async fn blind_double_marking_through_two_instances(app: TestApp) {
    let app = app.behind_balancer().await;
    crate::grading::answers_are_double_marked_blind_and_never_by_the_candidates_institution(app)
        .await;
}

async fn referral_loop_through_two_instances(app: TestApp) {
    let app = app.behind_balancer().await;
    crate::referrals::the_desk_takes_a_referral_through_and_the_loop_closes(app).await;
}

async fn suspension_and_revocation_through_two_instances(app: TestApp) {
    let app = app.behind_balancer().await;
    // The signed credential verifies against the JWKS (whichever instance
    // serves it), and suspension, reinstatement and revocation show at once.
    crate::certification::the_credential_verifies_and_its_status_follows_the_committee(app).await;
}

async fn sessions_and_csrf_work_across_instances(a: TestApp) {
    a.create_admin();
    let b = a.second_instance().await;
    let browser = a.new_browser();
    // The sign-in form (and its CSRF cookie) from A, posted to B.
    let (_, html) = a.page(&browser, "/sign-in").await;
    let csrf = crate::helpers::csrf_in(&html).unwrap();
    let res = browser
        .post(b.url("/sign-in"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "B accepts A's CSRF token");
    // Signed in on B, the session is good on A and on B.
    for app in [&a, &b] {
        let (status, page) = app.page(&browser, "/admin/people").await;
        assert_eq!(status, 200, "signed in at {}", app.base);
        assert!(page.contains("Ada Admin"));
    }
    // A form read on B is accepted on A: sign out there...
    let (_, html) = b.page(&browser, "/").await;
    let csrf = crate::helpers::csrf_in(&html).unwrap();
    let res = browser
        .post(a.url("/sign-out"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // ...and the session has ended on B too.
    let (status, _) = b.page(&browser, "/admin/people").await;
    assert_eq!(status, 303, "signed out everywhere");
    // A forged token is refused by either instance.
    let res = browser
        .post(b.url("/sign-in"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

async fn throttles_count_across_instances(probe: TestApp) {
    let a = TestApp::spawn_with(Backend::Postgres, |s| s.tuning.verify_burst = 4)
        .await
        .unwrap();
    let b = a.second_instance().await;
    a.create_admin();
    // A stranger guesses, alternately on each instance: five failures for
    // the account at this address, wherever they were counted...
    let browser = a.new_browser();
    for app in [&a, &b, &a, &b, &a] {
        let res = app.sign_in(&browser, ADMIN_EMAIL, "guessing wrong").await;
        assert_eq!(res.status(), 401);
    }
    // ...and the sixth waits, on either instance (with either answer).
    for (app, password) in [(&b, "guessing wrong"), (&a, ADMIN_PASSWORD)] {
        let res = app.sign_in(&browser, ADMIN_EMAIL, password).await;
        assert_eq!(res.status(), 429, "at {}", app.base);
        assert!(res.headers().contains_key("retry-after"));
    }
    // Public lookups: four per address in a burst, counted together.
    for app in [&a, &b, &a, &b] {
        let (status, _) = app
            .api(Method::GET, "/api/v1/verify/PAED-2026-000001-0", "", None)
            .await;
        assert_ne!(status, 429);
    }
    for app in [&a, &b] {
        let (status, body) = app
            .api(Method::GET, "/api/v1/verify/PAED-2026-000001-0", "", None)
            .await;
        assert_eq!(status, 429, "{body}");
    }
    let app = &a;
    assert!(app.count("throttle_buckets") >= 4);
    drop(probe);
}

async fn a_job_round_runs_on_one_instance_at_a_time(app: TestApp) {
    let a = Lease::new(app.ctx.db.clone(), "instance-a");
    let b = Lease::new(app.ctx.db.clone(), "instance-b");
    // While A runs a round, B's attempt at the same job finds the lease
    // taken and does nothing; another job is free.
    let inner = a
        .run("test_job", |_| {
            let same = b.run("test_job", |_| Ok(1))?;
            let other = b.run("other_job", |_| Ok(2))?;
            Ok((same, other))
        })
        .unwrap();
    assert_eq!(inner, Some((None, Some(2))));
    // Once A's round has ended, B may run one.
    assert_eq!(b.run("test_job", |_| Ok(3)).unwrap(), Some(3));
    // A round that fails gives the lease back too.
    let failed: gatekeeper::error::Result<Option<()>> = a.run("test_job", |_| {
        Err(gatekeeper::error::Error::internal("the round failed"))
    });
    assert!(failed.is_err());
    assert_eq!(b.run("test_job", |_| Ok(4)).unwrap(), Some(4));
}

async fn each_reminder_goes_out_once_when_instances_sweep_together(app: TestApp) {
    let (_, _, _, _, number) = Box::pin(crate::certification::certify(&app)).await;
    let b = app.second_instance().await;
    // 20 days before expiry: one 30-day reminder is due.
    app.exec(&format!(
        "UPDATE credentials SET valid_until = (now() at time zone 'utc') + interval '20 days' WHERE number = '{number}'"
    ));
    let before = app.mail_to("li@longxi.example").len();
    // Both instances sweep at the same moment, several times over (their own
    // background sweeps may join in).
    let mut rounds = Vec::new();
    for ctx in [
        app.ctx.clone(),
        b.ctx.clone(),
        app.ctx.clone(),
        b.ctx.clone(),
    ] {
        rounds.push(std::thread::spawn(move || {
            let lease = Lease::new(ctx.db.clone(), &ctx.instance);
            let url = ctx.settings.public_url.clone();
            (0..5)
                .map(|_| gatekeeper::jobs::certification::round(&lease, &url).unwrap())
                .collect::<Vec<_>>()
        }));
    }
    let ran: Vec<_> = rounds
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .flatten()
        .collect();
    assert!(!ran.is_empty(), "some round ran");
    let reminded: usize = ran.iter().map(|r| r.3).sum();
    assert_eq!(reminded, 1, "one reminder in all: {ran:?}");
    let mail = app.mail_to("li@longxi.example");
    assert_eq!(mail.len(), before + 1, "one email");
    assert!(mail[0].subject.contains(&number));

    // Workshop reminders and late-marking reminders go through the same
    // leases; the mail outbox is drained once (tests/api/mail.rs sends with
    // three instances).
    let (sa, sb) = (app.ctx.clone(), b.ctx.clone());
    let tz = app.ctx.settings.time_zone;
    let ta = std::thread::spawn(move || {
        gatekeeper::jobs::training::round(&Lease::new(sa.db.clone(), &sa.instance), tz)
    });
    let tb = std::thread::spawn(move || {
        gatekeeper::jobs::training::round(&Lease::new(sb.db.clone(), &sb.instance), tz)
    });
    ta.join().unwrap().unwrap();
    tb.join().unwrap().unwrap();
}

async fn a_new_question_version_imported_elsewhere_is_served(a: TestApp) {
    crate::exams::setup(&a).await;
    crate::training::load_training(&a);
    let li = crate::training::browser_for(&a, "li@longxi.example").await;
    // A quiz on instance A: its questions' contents are now in A's cache.
    let first = quiz_page(&a, &li).await;
    assert!(first.contains("Practice statement"), "{first}");
    // Instance B (or `gatekeeper bank import` run elsewhere) loads a new
    // version of every practice question.
    let b = a.second_instance().await;
    crate::training::import_practice_bank(&b.ctx.db, "Revised statement");
    // A serves the new version: versions have ids of their own, and a new
    // quiz draws the latest.
    let second = quiz_page(&a, &li).await;
    assert!(second.contains("Revised statement"), "{second}");
    assert!(!second.contains("Practice statement"));
}

/// Starts a module quiz and returns its page.
async fn quiz_page(app: &TestApp, client: &reqwest::Client) -> String {
    let res = app
        .submit(
            client,
            "/courses/fever-course",
            "/courses/fever-course/modules/assessment/quiz",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let quiz = res.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = app.page(client, &quiz).await;
    assert_eq!(status, 200);
    html
}

async fn jwks_of(base: &str) -> serde_json::Value {
    reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn signed(base: &str, number: &str, token: &str) -> String {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/credentials/{number}/signed"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

fn kid_of(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

async fn signing_keys_are_shared_and_rotate(app: TestApp) {
    use gatekeeper::domain::signing;
    let (_, _, li_token, _, number) = Box::pin(crate::certification::certify(&app)).await;
    // On SQLite the "second instance" shares the file: the same code path,
    // one machine.
    let b = app.second_instance().await;
    let before = jwks_of(&app.base).await;
    assert_eq!(before, jwks_of(&b.base).await, "one key set everywhere");
    assert_eq!(before["keys"].as_array().unwrap().len(), 1);
    let old_jwt = signed(&b.base, &number, &li_token).await;
    assert_eq!(kid_of(&old_jwt), before["keys"][0]["kid"].as_str().unwrap());

    // The operator rotates (`gatekeeper key rotate` calls this).
    let rotated = app.ctx.keys.rotate(&app.ctx.db).unwrap();
    assert_ne!(rotated.kid, kid_of(&old_jwt));
    // The old key stays until the credential it signed has expired.
    assert!(rotated.withdraw_after > chrono::Utc::now() + chrono::Duration::days(300));
    // Both instances sign with the new key at once and publish both keys.
    for base in [&app.base, &b.base] {
        let jwt = signed(base, &number, &li_token).await;
        assert_eq!(kid_of(&jwt), rotated.kid, "{base} signs with the new key");
        let jwks = jwks_of(base).await;
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
        assert_eq!(jwks["keys"][0]["kid"], rotated.kid.as_str());
        signing::verify(&jwt, &jwks, chrono::Utc::now()).expect("a new download verifies");
        signing::verify(&old_jwt, &jwks, chrono::Utc::now())
            .expect("a credential downloaded before the rotation still verifies");
        let thumbprint = kid_of(&old_jwt).rsplit('/').next().unwrap().to_owned();
        let res = reqwest::get(format!("{base}/issuer/keys/{thumbprint}"))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the old key id still dereferences");
    }
    // Only the key that signs keeps its private half.
    assert_eq!(
        app.count("signing_keys WHERE sealed_private_key IS NOT NULL"),
        1
    );

    // Once the credentials it signed have expired, the old key leaves the set.
    app.exec("UPDATE signing_keys SET withdraw_after = '2000-01-01 00:00:00' WHERE retired_at IS NOT NULL");
    let c = app.second_instance().await;
    let jwks = jwks_of(&c.base).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(
        signing::verify(&old_jwt, &jwks, chrono::Utc::now()),
        Err(signing::VerifyError::UnknownKey)
    );

    // An instance given another secret cannot open the key: it refuses to
    // start, saying why, instead of signing with a key of its own.
    let mut settings = (*app.ctx.settings).clone();
    settings.signing_key_secret = "not the secret the others were given".to_owned();
    let refused = gatekeeper::startup::Application::build(settings).await;
    let message = refused.err().expect("refused").to_string();
    assert!(
        message.contains("GATEKEEPER_SIGNING_KEY_SECRET"),
        "{message}"
    );
}
