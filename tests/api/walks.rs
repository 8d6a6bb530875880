//! Every role walks its main path in a real browser, on a phone (390 x 844)
//! and on a desktop (1366 x 900), in Chinese and in English: the doctor
//! (next step, exams, result, credential, public page, a referral), the
//! examiner (queue, a task, marks per rubric criterion), the committee
//! member (queue, a dossier, a vote) and the hospital's referral desk
//! (incoming referrals, accepting one). Each page state is checked with
//! axe-core and saved whole as `test-artifacts/walk-{role}-{page}-{lang}-
//! {width}-{backend}.png`.
//!
//! The data is set up through the JSON API; the people then act in the
//! pages, clicking and typing. The Chinese walks act (mark, vote, send and
//! accept a referral); the English walks see what came of it on the same
//! pages.

use std::time::{Duration, Instant};

use fantoccini::error::CmdError;
use fantoccini::{Client, Locator};
use gatekeeper::domain::banks;
use gatekeeper::services::banks as bank_service;
use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::{backend_name, sign_in_as};
use crate::certification::my_case;
use crate::chrome::{
    Driver, artifact, assert_accessible, emulate_screen, full_page_screenshot, start_browser,
};
use crate::grading::{PASSWORD, close_exam, person, tasks};
use crate::helpers::TestApp;
use crate::on_both_databases;
use crate::referrals::channel;

on_both_databases!(each_role_walks_its_main_path_on_a_phone_and_a_desktop_in_both_languages);

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1366, 900);
const DOCTOR_PASSWORD: &str = "doctor test phrase";
/// The candidate whose answer is marked and whose case the committee
/// votes on: a name no page of the examiner's may show.
const CANDIDATE: &str = "张文静";
const CANDIDATE_EMAIL: &str = "zhang.wenjing@longxi.example";
const EXAMINER_EMAIL: &str = "gao@chh.example";
const MEMBER_EMAIL: &str = "zhou@chh.example";
const DESK_EMAIL: &str = "desk@chh.example";
const DOCTOR_EMAIL: &str = "li@longxi.example";
/// What the examiner gives per rubric criterion, with her comment.
const MARKS: [(&str, &str); 3] = [
    ("2.5", "识别了发热和皮疹，但未提到口唇和结膜的改变。"),
    ("3", "退热处理和补液建议恰当。"),
    ("3", "及时转诊，但未说明转诊前需与家长沟通的要点。"),
];

/// A bank with one case analysis marked on three criteria, in Chinese.
fn walk_bank() -> String {
    r#"[bank]
id = "walk-cases"
title = "病例分析（走查）"
track = "paediatrics"
version = 1

[[questions]]
id = "walk-case-1"
kind = "case"
topic = "walk-case"
difficulty = 3
points = 10
stem = "男孩，2 岁，发热 5 天，体温最高 39.8 ℃，伴皮疹、口唇干红、双眼结膜充血。请分析病情并写出您的处理和转诊决定。"
model_answer = "考虑川崎病：持续发热 5 天以上，伴皮疹、口唇改变和结膜充血。对症退热、补液，尽快经绿色通道转诊至儿童医院，转诊前向家长说明病情和注意事项。"
rubric = [
  { criterion = "识别危险征象", points = 3 },
  { criterion = "初步处理恰当", points = 3 },
  { criterion = "转诊决定与沟通", points = 4 },
]
explanation = "持续发热伴皮肤黏膜改变需警惕川崎病。"
reference = "诸福棠实用儿科学（第 9 版）"
"#
    .to_owned()
}

fn walk_exam() -> Value {
    let mut body = crate::exams::exam_body(-1, 120, 60);
    body["stage"] = json!("case");
    body["title"] = json!("儿科病例分析考核");
    body["blueprint"] = json!({"sections": [
        {"title": "病例分析", "topics": ["walk-case"], "kinds": ["case"], "mix": {"3": 1}, "points": 10}
    ]});
    body
}

/// What the walks need, set up through the API.
struct World {
    li: String,
    number: String,
    desk: String,
    department: i64,
    candidate: String,
    candidate_case: i64,
    /// The walking examiner's token and task; the other examiner's token.
    examiner: String,
    task: i64,
    second_examiner: String,
    exam: i64,
    admin: String,
}

async fn world(app: &TestApp) -> World {
    // A certified doctor (li), the committee, the Children's Hospital desk
    // and its paediatric clinic.
    let c = Box::pin(channel(app)).await;
    let (_, li) = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{}", c.doctor_id),
            &c.admin,
            None,
        )
        .await;
    let longxi = li["institution_id"].as_i64().expect("li's institution");

    // Two examiners at the hospital, away from the candidate's institution.
    let (_, examiner) = person(
        app,
        &c.admin,
        EXAMINER_EMAIL,
        "高明",
        json!(["examiner"]),
        Some(c.hospital),
    )
    .await;
    let (_, second_examiner) = person(
        app,
        &c.admin,
        "xu@chh.example",
        "许清",
        json!(["examiner"]),
        Some(c.hospital),
    )
    .await;

    // A second doctor, at the case assessment, sits the case analysis.
    let bank = banks::parse(&walk_bank()).expect("the walk bank parses");
    bank_service::import(
        &app.ctx.db,
        &[(std::path::PathBuf::from("walk-cases.toml"), bank)],
    )
    .expect("imported");
    let (status, p) = app
        .api(
            Method::POST,
            "/api/v1/people",
            &c.admin,
            Some(
                json!({"email": CANDIDATE_EMAIL, "name": CANDIDATE, "roles": ["doctor"],
                "practising_certificate": "110440100054321", "institution_id": longxi}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{p}");
    let candidate_id = p["id"].as_i64().expect("an id");
    let link = app.setup_token(CANDIDATE_EMAIL);
    app.api(
        Method::POST,
        "/api/v1/password-setup",
        "",
        Some(json!({"token": link, "password": DOCTOR_PASSWORD})),
    )
    .await;
    let candidate = app.token_for(CANDIDATE_EMAIL, DOCTOR_PASSWORD).await;
    app.at_stage(candidate_id, "paediatrics", "case_assessment");
    let candidate_case = my_case(app, &candidate).await["id"]
        .as_i64()
        .expect("a case");
    let exam = crate::exams::scheduled(app, &c.admin, walk_exam()).await;
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/registrations"),
            &c.admin,
            Some(json!({"person_id": candidate_id})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, attempt) = app
        .api(
            Method::POST,
            &format!("/api/v1/exams/{exam}/attempts"),
            &candidate,
            None,
        )
        .await;
    assert!(status == 200 || status == 201, "{attempt}");
    let attempt_id = attempt["id"].as_i64().expect("an attempt");
    for item in attempt["items"].as_array().expect("items") {
        let position = item["position"].as_i64().expect("a position");
        let (status, ack) = app
            .api(
                Method::PUT,
                &format!("/api/v1/attempts/{attempt_id}/answers/{position}"),
                &candidate,
                Some(json!({"answer": "考虑川崎病。给予退热和补液，\n经绿色通道转诊至儿童医院。", "seq": 1})),
            )
            .await;
        assert_eq!(status, 200, "{ack}");
    }
    let (status, body) = app
        .api(
            Method::POST,
            &format!("/api/v1/attempts/{attempt_id}/submit"),
            &candidate,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Double marking: both examiners get the answer.
    tasks(app, 2).await;
    let (_, queue) = app
        .api(Method::GET, "/api/v1/marking", &examiner, None)
        .await;
    let task = queue["tasks"][0]["task_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("the examiner has a task: {queue}"));
    World {
        li: c.doctor,
        number: c.number,
        desk: c.desk,
        department: c.department,
        candidate,
        candidate_case,
        examiner,
        task,
        second_examiner,
        exam,
        admin: c.admin,
    }
}

/// One person's walk in one language.
struct Walk<'a> {
    app: &'a TestApp,
    driver: &'a Driver,
    browser: &'a Client,
    backend: &'static str,
    role: &'static str,
    lang: &'static str,
    /// The window sizes in the order each page is shot; the person goes on
    /// at the last (the doctor on her phone, the others at a desk).
    sizes: [(u32, u32); 2],
}

async fn wait_for(browser: &Client, css: &str) -> Result<fantoccini::elements::Element, CmdError> {
    browser
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
}

impl Walk<'_> {
    /// A phone's screen or a desktop's.
    async fn screen(&self, (width, height): (u32, u32)) {
        emulate_screen(
            self.driver,
            self.browser,
            width,
            height,
            (width, height) == PHONE,
        )
        .await;
    }

    fn zh(&self) -> bool {
        self.lang == "zh-CN"
    }

    /// The heading a page shows in this walk's language.
    fn says<'t>(&self, zh: &'t str, en: &'t str) -> &'t str {
        if self.zh() { zh } else { en }
    }

    /// Signs in as a fresh visitor would (no cookies from the last
    /// person), then picks the language with the header's switch unless the
    /// page is in it already.
    async fn begin(&self, email: &str, password: &str) -> Result<(), CmdError> {
        self.browser.delete_all_cookies().await?;
        self.screen(self.sizes[1]).await;
        sign_in_as(self.browser, self.app, email, password).await?;
        let shown = self
            .browser
            .execute("return document.documentElement.lang;", vec![])
            .await?;
        if shown.as_str() != Some(self.lang) {
            let button = if self.zh() { "#lang-zh" } else { "#lang-en" };
            self.browser
                .find(Locator::Css(button))
                .await?
                .click()
                .await?;
            wait_for(
                self.browser,
                &format!("html[lang='{}'] #welcome", self.lang),
            )
            .await?;
        }
        Ok(())
    }

    /// Clicks what `css` finds and waits for `until` on the page it opens.
    /// The text of the element `css` finds.
    async fn text(&self, css: &str) -> Result<String, CmdError> {
        self.browser.find(Locator::Css(css)).await?.text().await
    }

    /// Types `text` into the field `css` finds.
    async fn type_into(&self, css: &str, text: &str) -> Result<(), CmdError> {
        self.browser
            .find(Locator::Css(css))
            .await?
            .send_keys(text)
            .await
    }

    async fn follow(&self, css: &str, until: &str) -> Result<(), CmdError> {
        self.browser.find(Locator::Css(css)).await?.click().await?;
        wait_for(self.browser, until).await?;
        Ok(())
    }

    /// The page as it is now, shot whole and checked with axe at both
    /// widths: in this walk's language with the heading `h1`, nothing
    /// running off the side of a phone. Returns its HTML.
    async fn page(&self, page: &str, h1: &str) -> Result<String, CmdError> {
        for (width, height) in self.sizes {
            self.screen((width, height)).await;
            let overflow = self
                .browser
                .execute(
                    "var d = document.documentElement; return d.scrollWidth - d.clientWidth;",
                    vec![],
                )
                .await?;
            let name = format!(
                "walk-{}-{page}-{}-{width}-{}.png",
                self.role, self.lang, self.backend
            );
            std::fs::write(
                artifact(&name),
                full_page_screenshot(self.driver, self.browser).await,
            )
            .expect("screenshot saved");
            assert!(
                overflow.as_i64().unwrap_or(0) <= 0,
                "{} {page} in {} runs {overflow} px off the side at {width} px: {name}",
                self.role,
                self.lang
            );
            assert_accessible(
                self.browser,
                &format!("walk {} {page} in {} at {width} px", self.role, self.lang),
            )
            .await;
        }
        let lang = self
            .browser
            .execute("return document.documentElement.lang;", vec![])
            .await?;
        assert_eq!(lang.as_str(), Some(self.lang), "{} {page}", self.role);
        let heading = self.browser.find(Locator::Css("h1")).await?.text().await?;
        assert!(
            heading.contains(h1),
            "{} {page} in {}: the heading is {heading:?}, not {h1:?}",
            self.role,
            self.lang
        );
        if self.zh() {
            // A Latin word on a Chinese page is data (a name, a code, a
            // format) or a text nobody translated: the second fails the walk.
            let text = self
                .browser
                .execute("return document.body.innerText;", vec![])
                .await?;
            let untranslated = untranslated_words(text.as_str().unwrap_or_default(), page);
            assert!(
                untranslated.is_empty(),
                "{} {page} in zh-CN shows English that is not data: {untranslated:?}",
                self.role
            );
        }
        self.browser.source().await
    }
}

/// Latin words of three letters or more on a Chinese page that are neither
/// data this walk created nor names that stay as they are. Codes and
/// acronyms (anonymous marking codes, CHC, PDF, FHIR) are all capitals.
fn untranslated_words<'t>(text: &'t str, page: &str) -> Vec<&'t str> {
    // Names that are the same in every language: the product, the language
    // switch's own name for English, formats and standards.
    const NAMES: &[&str] = &[
        "Gatekeeper",
        "English",
        "ServiceRequest",
        "Open",
        "Badges",
        "http",
    ];
    // What the walk's world is made of (tests/api/certification.rs and
    // referrals.rs set it up in English): track, exam, bank, workshop,
    // institution, hospital, department, e-mail addresses.
    const DATA: &[&str] = &[
        "Paediatrics",
        "Paediatric",
        "Longxi",
        "zhou",
        "desk",
        "walk",
        "case",
        "Case",
        "written",
        "exam",
        "assessment",
        "answer",
        "model",
        "secret",
        "Resuscitation",
        "room",
        "skills",
        "Children",
        "Hospital",
        "clinic",
    ];
    // The printed certificate is bilingual by design (Chinese first).
    const CERTIFICATE: &[&str] = &[
        "Hospital",
        "Alliance",
        "Quality",
        "Control",
        "Committee",
        "Doctor",
        "Certificate",
        "Number",
        "Issued",
        "Valid",
        "until",
        "Status",
        "verify",
    ];
    let mut words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 3)
        .filter(|w| !w.chars().all(|c| c.is_ascii_uppercase()))
        .filter(|w| !NAMES.contains(w) && !DATA.contains(w))
        .filter(|w| page != "certificate" || !CERTIFICATE.contains(w))
        .collect();
    words.sort_unstable();
    words.dedup();
    words
}

#[test]
fn an_untranslated_word_on_a_chinese_page_is_caught() {
    assert!(
        untranslated_words(
            "证书 GK-PAED-2026 · Gatekeeper · English · 儿科 Paediatrics",
            "home"
        )
        .is_empty()
    );
    assert_eq!(untranslated_words("提交 Submit 答案", "home"), ["Submit"]);
    assert_eq!(
        untranslated_words("Valid until 2027", "home"),
        ["Valid", "until"]
    );
    assert!(untranslated_words("Valid until 2027", "certificate").is_empty());
}

async fn each_role_walks_its_main_path_on_a_phone_and_a_desktop_in_both_languages(app: TestApp) {
    let Some((driver, browser)) = start_browser().await else {
        return;
    };
    let started = Instant::now();
    let w = Box::pin(world(&app)).await;
    let set_up = started.elapsed();
    let backend = backend_name(&app);
    let walk = |role: &'static str, lang: &'static str| Walk {
        app: &app,
        driver: &driver,
        browser: &browser,
        backend,
        role,
        lang,
        sizes: if role == "doctor" {
            [DESKTOP, PHONE]
        } else {
            [PHONE, DESKTOP]
        },
    };
    let outcome = Box::pin(async {
        for lang in ["zh-CN", "en"] {
            let acts = lang == "zh-CN";
            Box::pin(examiner(&app, &w, &walk("examiner", lang), acts)).await?;
            if acts {
                // The second marker agrees, the exam closes and its results
                // are released: the candidate's case goes to the committee.
                let (status, body) = app
                    .api(
                        Method::PUT,
                        &format!("/api/v1/marking/{}", second_task(&app, &w).await),
                        &w.second_examiner,
                        Some(json!({"marks": [
                            {"points": 2, "comment": "基本识别"},
                            {"points": 3, "comment": "恰当"},
                            {"points": 3, "comment": "及时"}
                        ]})),
                    )
                    .await;
                assert_eq!(status, 204, "{body}");
                close_exam(&app, w.exam);
                let (status, body) = app
                    .api(
                        Method::POST,
                        &format!("/api/v1/exams/{}/release", w.exam),
                        &w.admin,
                        None,
                    )
                    .await;
                assert_eq!(status, 204, "{body}");
                assert_eq!(
                    my_case(&app, &w.candidate).await["stage"],
                    "committee_review"
                );
            }
            Box::pin(committee(&app, &w, &walk("committee", lang), acts)).await?;
            let referral = Box::pin(doctor(&app, &w, &walk("doctor", lang), acts)).await?;
            Box::pin(desk(&app, &w, &walk("desk", lang), acts, referral)).await?;
        }
        Ok::<(), CmdError>(())
    })
    .await;
    let _ = browser.close().await;
    outcome.expect("every role walked its path in the browser");
    eprintln!(
        "walks on {backend}: set up in {set_up:?}, {:?} in all",
        started.elapsed()
    );
}

/// The other examiner's task on the same answer.
async fn second_task(app: &TestApp, w: &World) -> i64 {
    let (_, queue) = app
        .api(Method::GET, "/api/v1/marking", &w.second_examiner, None)
        .await;
    queue["tasks"][0]["task_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("the second examiner has a task: {queue}"))
}

/// The examiner's queue and task, blind; the Chinese walk marks each
/// criterion with a comment and saves.
async fn examiner(app: &TestApp, w: &World, walk: &Walk<'_>, acts: bool) -> Result<(), CmdError> {
    walk.begin(EXAMINER_EMAIL, PASSWORD).await?;
    walk.follow("header nav a[href='/marking']", "#marking-progress")
        .await?;
    let html = walk.page("queue", walk.says("阅卷", "Marking")).await?;
    assert!(!html.contains(CANDIDATE), "the queue names no candidate");
    walk.follow(&format!("#task-{}", w.task), "#answer").await?;
    let html = walk.page("task", walk.says("答卷编号", "Attempt")).await?;
    assert!(!html.contains(CANDIDATE), "the task names no candidate");
    assert!(!html.contains(CANDIDATE_EMAIL));
    assert_eq!(
        walk.browser
            .find_all(Locator::Css("input[id^='points']"))
            .await?
            .len(),
        MARKS.len(),
        "one mark per rubric criterion"
    );
    if acts {
        for (i, (points, comment)) in MARKS.iter().enumerate() {
            let field = walk
                .browser
                .find(Locator::Css(&format!("#points{i}")))
                .await?;
            field.clear().await?;
            field.send_keys(points).await?;
            walk.browser
                .find(Locator::Css(&format!("#comment{i}")))
                .await?
                .send_keys(comment)
                .await?;
        }
        walk.follow("#save-marks", "#marking-progress").await?;
        let html = walk.page("queue-marked", "阅卷").await?;
        assert!(!html.contains(CANDIDATE));
        // Saved as typed, through the API.
        let (status, task) = app
            .api(
                Method::GET,
                &format!("/api/v1/marking/{}", w.task),
                &w.examiner,
                None,
            )
            .await;
        assert_eq!(status, 200, "{task}");
        let marks = task["marks"].as_array().expect("the marks were saved");
        assert_eq!(marks.len(), MARKS.len(), "{task}");
        for (mark, (points, comment)) in marks.iter().zip(MARKS) {
            assert_eq!(
                mark["points"].as_f64(),
                points.parse::<f64>().ok(),
                "{task}"
            );
            assert_eq!(mark["comment"], comment, "{task}");
        }
        assert_eq!(task["total"].as_f64(), Some(8.5), "{task}");
    } else {
        // The English walk sees the marks as saved, closed now that both
        // markers agreed.
        walk.browser.find(Locator::Css("#closed")).await?;
        assert_eq!(
            walk.browser
                .find(Locator::Css("#points0"))
                .await?
                .prop("value")
                .await?
                .as_deref(),
            Some("2.5")
        );
        assert!(
            walk.browser
                .find(Locator::Css("#save-marks"))
                .await
                .is_err()
        );
    }
    Ok(())
}

/// The committee member's queue and the candidate's dossier; the Chinese
/// walk votes, and the form gives way to how she voted.
async fn committee(app: &TestApp, w: &World, walk: &Walk<'_>, acts: bool) -> Result<(), CmdError> {
    walk.begin(MEMBER_EMAIL, PASSWORD).await?;
    walk.follow(
        "header nav a[href='/committee']",
        &format!("#dossier-{}", w.candidate_case),
    )
    .await?;
    let html = walk
        .page("queue", walk.says("委员会评审", "Committee review"))
        .await?;
    assert!(
        html.contains(CANDIDATE),
        "the committee sees whose case it is"
    );
    walk.follow(&format!("#dossier-{}", w.candidate_case), "#stage")
        .await?;
    if acts {
        let html = walk.page("dossier", "档案").await?;
        // The examiners' marks per criterion are in the evidence.
        assert!(
            html.contains("转诊决定与沟通") && html.contains(MARKS[2].1),
            "{html}"
        );
        walk.browser
            .find(Locator::Css("input[name='vote'][value='approve']"))
            .await?
            .click()
            .await?;
        walk.type_into("#reason", "证据完整，病例分析两位考官评分一致。")
            .await?;
        walk.follow("#cast-vote", "#my-vote").await?;
        let html = walk.page("dossier-voted", "档案").await?;
        assert!(!html.contains("cast-vote"), "the vote form is gone");
        let said = walk.text("#my-vote").await?;
        assert!(said.contains("您已投票：批准"), "{said}");
        let (_, dossier) = app
            .api(
                Method::GET,
                &format!("/api/v1/cases/{}/dossier", w.candidate_case),
                &app.token_for(MEMBER_EMAIL, PASSWORD).await,
                None,
            )
            .await;
        assert_eq!(dossier["my_vote"], "approve", "{dossier}");
        assert_eq!(dossier["votes_cast"], 1, "{dossier}");
    } else {
        let html = walk.page("dossier", "Dossier").await?;
        assert!(!html.contains("cast-vote"), "no second vote");
        let said = walk.text("#my-vote").await?;
        assert!(said.contains("You voted: Approve"), "{said}");
    }
    Ok(())
}

/// The certified doctor: her next step, her exams and a result, her
/// credential and its public page, the referral form; the Chinese walk
/// sends a referral. Returns the referral's id.
async fn doctor(app: &TestApp, w: &World, walk: &Walk<'_>, acts: bool) -> Result<i64, CmdError> {
    walk.begin(DOCTOR_EMAIL, DOCTOR_PASSWORD).await?;
    walk.browser.find(Locator::Css("#next-step")).await?;
    walk.page("home", walk.says("欢迎", "Welcome")).await?;
    walk.follow("header nav a[href='/exams']", "a[id^='result-']")
        .await?;
    walk.page("exams", walk.says("我的考试", "My exams"))
        .await?;
    walk.follow("a[id^='result-']", "#score").await?;
    walk.page("result", walk.says("成绩", "Result")).await?;
    walk.follow(
        "header nav a[href='/certification']",
        &format!("#credential-{}", w.number),
    )
    .await?;
    walk.page("certification", walk.says("资格认证", "Certification"))
        .await?;
    walk.follow(&format!("#credential-{}", w.number), "#certificate")
        .await?;
    walk.page("certificate", "联盟医生资格证书").await?;
    // Her photo for the public page: the Chinese walk uploads one with her
    // consent (a real file through the file input); both walks see it.
    walk.follow("#photo-link", "#photo").await?;
    if acts {
        // One file per walk: the SQLite and PostgreSQL walks run at once
        // in this process, and one must not delete the other's photo.
        let file = std::env::temp_dir().join(format!(
            "walk-photo-{}-{}.png",
            std::process::id(),
            walk.backend
        ));
        std::fs::write(&file, portrait_png()).expect("the photo file is written");
        walk.type_into("#photo", &file.display().to_string())
            .await?;
        walk.browser
            .find(Locator::Css("#photo-public"))
            .await?
            .click()
            .await?;
        walk.follow("#upload-photo", "#my-photo").await?;
        std::fs::remove_file(&file).ok();
    }
    walk.page("photo", walk.says("本人照片", "Your photo"))
        .await?;
    walk.browser
        .goto(&app.url(&format!("/credentials/{}", w.number)))
        .await?;
    wait_for(walk.browser, "#public-page").await?;
    walk.follow("#public-page", "#verification").await?;
    let html = walk
        .page("verify", walk.says("核验证书", "Verify a credential"))
        .await?;
    assert!(html.contains(&w.number));
    assert!(
        html.contains("id=\"holder-photo\""),
        "her photo, with her consent"
    );
    assert_eq!(walk.text("#holder").await?, "li");
    walk.follow("header nav a[href='/referrals']", "#new-referral")
        .await?;
    walk.page("referrals", walk.says("绿色通道", "Green channel"))
        .await?;
    // The referral the Chinese walk sent, accepted by the desk: on her
    // phone its status is in sight, not scrolled off beside the table.
    let sent = if acts {
        None
    } else {
        let (_, list) = app.api(Method::GET, "/api/v1/referrals", &w.li, None).await;
        let id = list[0]["id"].as_i64().expect("the referral");
        let status = walk
            .browser
            .execute(
                "var row = document.getElementById(arguments[0]).closest('tr'); \
                 var cell = Array.from(row.cells).find(function (c) { return c.innerText.trim() === 'Accepted'; }); \
                 return !!cell && cell.getBoundingClientRect().right <= window.innerWidth;",
                vec![json!(format!("referral-{id}"))],
            )
            .await?;
        assert_eq!(status, json!(true), "the status shows on a phone");
        Some(id)
    };
    walk.follow("#new-referral", "#send-referral").await?;
    walk.page("referral-new", walk.says("新建转诊", "New referral"))
        .await?;
    if let Some(id) = sent {
        walk.follow(
            "header nav a[href='/referrals']",
            &format!("#referral-{id}"),
        )
        .await?;
        walk.follow(&format!("#referral-{id}"), "#patient").await?;
        walk.page("referral", walk.says("转诊", "Referral")).await?;
        let status = walk.text("#status").await?;
        assert!(status.contains("Accepted"), "{status}");
        return Ok(id);
    }
    let day = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let b = walk.browser;
    b.find(Locator::Css("#department_id"))
        .await?
        .select_by_value(&w.department.to_string())
        .await?;
    walk.type_into("#patient_name", "王小明").await?;
    b.find(Locator::Css("input[name='patient_sex'][value='male']"))
        .await?
        .click()
        .await?;
    // Date fields: the browser's own date picker, set as it would set them.
    for (field, value) in [
        ("patient_birth_date", "2023-02-01"),
        ("slot_date", day.as_str()),
    ] {
        b.execute(
            "var f = document.getElementById(arguments[0]); f.value = arguments[1]; f.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(field), json!(value)],
        )
        .await?;
    }
    walk.type_into("#guardian_phone", "13800001234").await?;
    walk.type_into("#reason", "发热 5 天，伴皮疹、口唇干红、双眼结膜充血")
        .await?;
    walk.type_into("#diagnosis", "疑似川崎病").await?;
    walk.type_into("#findings", "CRP 86 mg/L").await?;
    walk.follow("#send-referral", "#patient").await?;
    let html = walk.page("referral", "转诊").await?;
    assert!(html.contains("王小明"));
    let url = b.current_url().await?;
    let id: i64 = url
        .path()
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a referral's page: {url}"));
    let (status, r) = app
        .api(Method::GET, &format!("/api/v1/referrals/{id}"), &w.li, None)
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["status"], "sent", "{r}");
    assert_eq!(r["patient_name"], "王小明", "{r}");
    assert_eq!(r["slot_date"].as_str(), Some(day.as_str()), "{r}");
    assert_eq!(r["department_id"], w.department, "{r}");
    Ok(id)
}

/// The hospital's desk: incoming referrals and the doctor's referral; the
/// Chinese walk accepts it into the booked clinic day.
async fn desk(
    app: &TestApp,
    w: &World,
    walk: &Walk<'_>,
    acts: bool,
    referral: i64,
) -> Result<(), CmdError> {
    walk.begin(DESK_EMAIL, PASSWORD).await?;
    walk.follow(
        "header nav a[href='/referrals']",
        &format!("#referral-{referral}"),
    )
    .await?;
    walk.page("referrals", walk.says("绿色通道", "Green channel"))
        .await?;
    walk.follow(&format!("#referral-{referral}"), "#patient")
        .await?;
    if acts {
        walk.page("referral", "转诊").await?;
        walk.follow("#accept", "#seen").await?;
        walk.page("referral-accepted", "转诊").await?;
        let status = walk.text("#status").await?;
        assert!(status.contains("已接收"), "{status}");
        let (status, r) = app
            .api(
                Method::GET,
                &format!("/api/v1/referrals/{referral}"),
                &w.desk,
                None,
            )
            .await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["status"], "accepted", "{r}");
        assert!(r["slot_date"].is_string(), "{r}");
    } else {
        walk.page("referral", "Referral").await?;
        walk.browser.find(Locator::Css("#seen")).await?;
    }
    Ok(())
}

/// A 300 x 400 portrait-shaped PNG (a plain colour is enough to show).
fn portrait_png() -> Vec<u8> {
    let (width, height) = (300u32, 400u32);
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("a PNG header");
        let pixels: Vec<u8> = (0..width * height)
            .flat_map(|i| [90, 140, (i % 200) as u8])
            .collect();
        writer.write_image_data(&pixels).expect("the pixels");
    }
    out
}
