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

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use std::sync::Arc;

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

    // A database with anything but demo data is refused.
    app.create_admin();
    let refused = demo::check_database(&ctx.db).unwrap_err();
    assert!(
        refused.to_string().contains("admin@alliance.example"),
        "{refused}"
    );
    assert!(demo::clear(&ctx.db).is_err(), "never emptied");
}
