//! Email: each message is an askama template in text and HTML, in the
//! recipient's language, queued in the outbox inside the transaction of the
//! event that causes it. `jobs::mail` delivers the outbox.

use askama::Template;

use crate::domain::grading::AppealEffect;
use crate::domain::locale::Locale;
use crate::domain::pipeline::Stage;
use crate::error::{Error, Result};
use crate::i18n::Tr;
use crate::store::DbConn;
use crate::store::outbox::{self, NewMail};
use crate::store::people::PersonRow;

/// What happened to a credential, for its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialNotice {
    Issued,
    Renewed,
    Suspended,
    Reinstated,
    Revoked,
    Expired,
    /// The credential expires in this many days.
    Expiring {
        days: u32,
    },
}

impl CredentialNotice {
    fn key(self) -> &'static str {
        match self {
            CredentialNotice::Issued => "issued",
            CredentialNotice::Renewed => "renewed",
            CredentialNotice::Suspended => "suspended",
            CredentialNotice::Reinstated => "reinstated",
            CredentialNotice::Revoked => "revoked",
            CredentialNotice::Expired => "expired",
            CredentialNotice::Expiring { .. } => "expiring",
        }
    }
}

/// Why a regrade changed a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regrade {
    /// A question was removed: it counts in no result.
    Removed,
    /// A question was corrected in its bank and rescored.
    Corrected,
}

impl Regrade {
    fn key(self) -> &'static str {
        match self {
            Regrade::Removed => "removed",
            Regrade::Corrected => "corrected",
        }
    }
}

/// A mark as people read it: `7` or `7.5`.
fn mark(m: f64) -> String {
    format!("{}", (m * 100.0).round() / 100.0)
}

/// The messages the product sends.
#[derive(Debug, Clone)]
pub enum Message {
    /// A step of a green-channel referral, for the referring doctor:
    /// `step` is accepted, declined, seen, referred_back or rated_….
    Referral {
        name: String,
        number: String,
        step: String,
        detail: String,
        link: String,
    },
    /// A credential was issued, renewed, suspended, reinstated, revoked or
    /// expired, or expires soon. `date` is the expiry date (issue, renewal,
    /// expiring) or the day of the change.
    Credential {
        name: String,
        notice: CredentialNotice,
        number: String,
        track: String,
        date: String,
        link: String,
    },
    /// A new person (or one an admin re-invites) sets their password.
    PasswordSetup {
        name: String,
        link: String,
        valid_hours: i64,
    },
    /// The person asked for a new password on the sign-in page's
    /// "forgotten password" form.
    PasswordReset {
        name: String,
        link: String,
        valid_minutes: i64,
    },
    /// Someone changed the password: tell the owner in case it was not them.
    PasswordChanged { name: String },
    /// An examiner's marking is past its due date.
    MarkingLate { name: String, count: usize },
    /// An exam's results are out.
    ResultsOut {
        name: String,
        exam: String,
        link: String,
    },
    /// The committee's decision on a question after item analysis changed a
    /// released result.
    ResultChanged {
        name: String,
        exam: String,
        regrade: Regrade,
        link: String,
    },
    /// An appeal was decided: what the re-mark did to the mark under the
    /// track's rule, and whether the result now passes or fails.
    AppealDecided {
        name: String,
        exam: String,
        position: i32,
        /// The mark before the appeal.
        before: f64,
        /// The re-marker's total.
        remark: f64,
        /// The mark that counts now.
        final_mark: f64,
        effect: AppealEffect,
        /// Whether the result passed before and after (`None`: no result).
        passed_before: Option<bool>,
        passed_after: Option<bool>,
        link: String,
    },
    /// An examiner is given an appealed answer to re-mark.
    RemarkAssigned {
        name: String,
        exam: String,
        /// The attempt's blind code.
        code: String,
        position: i32,
        /// When the re-mark is due, in the alliance's time zone.
        due: String,
        link: String,
    },
    /// A certification case went back to an exam stage because a result it
    /// had passed on no longer passes; `cancelled` names the exams whose
    /// registrations were cancelled.
    CaseReturned {
        name: String,
        track: String,
        stage: Stage,
        cancelled: Vec<String>,
        link: String,
    },
    /// A workshop place: moved up from the waiting list (`promoted`), or the
    /// reminder the day before.
    Workshop {
        name: String,
        workshop: String,
        when: String,
        place: String,
        promoted: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/password_setup.txt")]
struct PasswordSetupText<'a> {
    tr: Tr,
    name: &'a str,
    link: &'a str,
    validity: String,
}

#[derive(Template)]
#[template(path = "mail/password_setup.html")]
struct PasswordSetupHtml<'a> {
    tr: Tr,
    name: &'a str,
    link: &'a str,
    validity: String,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct PasswordChangedText<'a> {
    tr: Tr,
    name: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.html")]
struct PasswordChangedHtml<'a> {
    tr: Tr,
    name: &'a str,
}

#[derive(Template)]
#[template(path = "mail/workshop.txt")]
struct WorkshopText<'a> {
    tr: Tr,
    name: &'a str,
    lead: &'a str,
    workshop: &'a str,
    when: &'a str,
    place: &'a str,
}

#[derive(Template)]
#[template(path = "mail/workshop.html")]
struct WorkshopHtml<'a> {
    tr: Tr,
    name: &'a str,
    lead: &'a str,
    workshop: &'a str,
    when: &'a str,
    place: &'a str,
}

/// A short notice with an optional link.
#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    tr: Tr,
    name: &'a str,
    body: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    tr: Tr,
    name: &'a str,
    body: &'a str,
    link: &'a str,
}

/// A short notice (greeting, one paragraph, an optional link) in text and
/// HTML: most messages are one.
fn render_notice(tr: Tr, name: &str, subject: String, body: &str, link: &str) -> Result<Rendered> {
    let failed = |e: askama::Error| Error::internal_from("mail template", e);
    Ok(Rendered {
        subject,
        text: NoticeText {
            tr,
            name,
            body,
            link,
        }
        .render()
        .map_err(failed)?,
        html: NoticeHtml {
            tr,
            name,
            body,
            link,
        }
        .render()
        .map_err(failed)?,
    })
}

pub fn render(message: &Message, locale: Locale) -> Result<Rendered> {
    let tr = Tr::new(locale);
    match message {
        Message::PasswordSetup {
            name,
            link,
            valid_hours,
        } => render_password_setup(tr, name, link, *valid_hours),
        Message::PasswordChanged { name } => {
            let failed = |e: askama::Error| Error::internal_from("mail template", e);
            Ok(Rendered {
                subject: tr.t("mail.password_changed.subject"),
                text: PasswordChangedText { tr, name }.render().map_err(failed)?,
                html: PasswordChangedHtml { tr, name }.render().map_err(failed)?,
            })
        }
        Message::Workshop {
            name,
            workshop,
            when,
            place,
            promoted,
        } => render_workshop(tr, name, workshop, when, place, *promoted),
        Message::Credential {
            name,
            notice,
            number,
            track,
            date,
            link,
        } => {
            let (subject, body) = credential_notice(tr, notice, number, track, date);
            render_notice(tr, name, subject, &body, link)
        }
        Message::AppealDecided {
            name,
            exam,
            position,
            before,
            remark,
            final_mark,
            effect,
            passed_before,
            passed_after,
            link,
        } => {
            let args = [
                ("exam", exam.as_str()),
                ("position", &position.to_string()),
                ("before", &mark(*before)),
                ("remark", &mark(*remark)),
                ("final", &mark(*final_mark)),
            ];
            let body = appeal_decided_body(tr, *effect, &args, *passed_before, *passed_after);
            let subject = tr.t_with("mail.appeal_decided.subject", &args);
            render_notice(tr, name, subject, &body, link)
        }
        Message::CaseReturned {
            name,
            track,
            stage,
            cancelled,
            link,
        } => {
            let (subject, body) = case_returned_notice(tr, track, *stage, cancelled);
            render_notice(tr, name, subject, &body, link)
        }
        other => render_short_notice(tr, other),
    }
}

/// The notices whose text is one sentence from their fields, and a link;
/// `render` renders the others itself.
fn render_short_notice(tr: Tr, message: &Message) -> Result<Rendered> {
    match message {
        Message::PasswordReset {
            name,
            link,
            valid_minutes,
        } => {
            let body = tr.t_with(
                "mail.password_reset.body",
                &[("minutes", &valid_minutes.to_string())],
            );
            render_notice(tr, name, tr.t("mail.password_reset.subject"), &body, link)
        }
        Message::MarkingLate { name, count } => {
            let body = tr.t_with("mail.marking_late.body", &[("count", &count.to_string())]);
            render_notice(tr, name, tr.t("mail.marking_late.subject"), &body, "")
        }
        Message::ResultsOut { name, exam, link } => {
            let body = tr.t_with("mail.results_out.body", &[("exam", exam)]);
            let subject = tr.t_with("mail.results_out.subject", &[("exam", exam)]);
            render_notice(tr, name, subject, &body, link)
        }
        Message::Referral {
            name,
            number,
            step,
            detail,
            link,
        } => {
            let args = [("number", number.as_str()), ("detail", detail.as_str())];
            let body = tr.t_with(&format!("mail.referral.{step}"), &args);
            render_notice(
                tr,
                name,
                tr.t_with("mail.referral.subject", &args),
                &body,
                link,
            )
        }
        Message::ResultChanged {
            name,
            exam,
            regrade,
            link,
        } => {
            let body = tr.t_with(
                &format!("mail.result_changed.{}", regrade.key()),
                &[("exam", exam)],
            );
            let subject = tr.t_with("mail.result_changed.subject", &[("exam", exam)]);
            render_notice(tr, name, subject, &body, link)
        }
        Message::RemarkAssigned {
            name,
            exam,
            code,
            position,
            due,
            link,
        } => {
            let args = [
                ("exam", exam.as_str()),
                ("code", code.as_str()),
                ("position", &position.to_string()),
                ("due", due.as_str()),
            ];
            let body = tr.t_with("mail.remark_assigned.body", &args);
            let subject = tr.t_with("mail.remark_assigned.subject", &args);
            render_notice(tr, name, subject, &body, link)
        }
        Message::PasswordSetup { .. }
        | Message::PasswordChanged { .. }
        | Message::Workshop { .. }
        | Message::Credential { .. }
        | Message::AppealDecided { .. }
        | Message::CaseReturned { .. } => Err(Error::internal(
            "mail: a message with its own rendering reached the short notices",
        )),
    }
}

fn render_password_setup(tr: Tr, name: &str, link: &str, valid_hours: i64) -> Result<Rendered> {
    let failed = |e: askama::Error| Error::internal_from("mail template", e);
    let validity = tr.t_with(
        "mail.password_setup.validity",
        &[("hours", &valid_hours.to_string())],
    );
    Ok(Rendered {
        subject: tr.t("mail.password_setup.subject"),
        text: PasswordSetupText {
            tr,
            name,
            link,
            validity: validity.clone(),
        }
        .render()
        .map_err(failed)?,
        html: PasswordSetupHtml {
            tr,
            name,
            link,
            validity,
        }
        .render()
        .map_err(failed)?,
    })
}

fn render_workshop(
    tr: Tr,
    name: &str,
    workshop: &str,
    when: &str,
    place: &str,
    promoted: bool,
) -> Result<Rendered> {
    let failed = |e: askama::Error| Error::internal_from("mail template", e);
    let kind = if promoted { "promoted" } else { "reminder" };
    let lead = tr.t(&format!("mail.workshop.{kind}"));
    Ok(Rendered {
        subject: tr.t_with(
            &format!("mail.workshop.{kind}_subject"),
            &[("workshop", workshop)],
        ),
        text: WorkshopText {
            tr,
            name,
            lead: &lead,
            workshop,
            when,
            place,
        }
        .render()
        .map_err(failed)?,
        html: WorkshopHtml {
            tr,
            name,
            lead: &lead,
            workshop,
            when,
            place,
        }
        .render()
        .map_err(failed)?,
    })
}

/// A credential notice's subject and body.
fn credential_notice(
    tr: Tr,
    notice: &CredentialNotice,
    number: &str,
    track: &str,
    date: &str,
) -> (String, String) {
    let days = match notice {
        CredentialNotice::Expiring { days } => days.to_string(),
        _ => String::new(),
    };
    let args = [
        ("number", number),
        ("track", track),
        ("date", date),
        ("days", days.as_str()),
    ];
    let key = notice.key();
    (
        tr.t_with(&format!("mail.credential.{key}.subject"), &args),
        tr.t_with(&format!("mail.credential.{key}.body"), &args),
    )
}

/// What the appeal did, and whether the result now passes or fails where
/// that changed.
fn appeal_decided_body(
    tr: Tr,
    effect: AppealEffect,
    args: &[(&str, &str)],
    passed_before: Option<bool>,
    passed_after: Option<bool>,
) -> String {
    let mut body = tr.t_with(&format!("mail.appeal_decided.{}", effect.as_str()), args);
    match (passed_before, passed_after) {
        (Some(false), Some(true)) => {
            body.push_str(&tr.t("common.sentence_gap"));
            body.push_str(&tr.t("mail.appeal_decided.now_passed"));
        }
        (Some(true), Some(false)) => {
            body.push_str(&tr.t("common.sentence_gap"));
            body.push_str(&tr.t("mail.appeal_decided.now_failed"));
        }
        _ => {}
    }
    body
}

/// A returned case's subject and body: the stage it went back to, and the
/// exams whose registrations were cancelled.
fn case_returned_notice(
    tr: Tr,
    track: &str,
    stage: Stage,
    cancelled: &[String],
) -> (String, String) {
    let stage = tr.t(&format!("stages.{}", stage.as_str()));
    let exams = cancelled.join(", ");
    let args = [
        ("track", track),
        ("stage", stage.as_str()),
        ("exams", exams.as_str()),
    ];
    let mut body = tr.t_with("mail.case_returned.body", &args);
    if !cancelled.is_empty() {
        body.push_str(&tr.t("common.sentence_gap"));
        body.push_str(&tr.t_with("mail.case_returned.cancelled", &args));
    }
    (tr.t_with("mail.case_returned.subject", &args), body)
}

/// Renders and queues a message; call it inside the event's transaction.
pub fn enqueue(
    conn: &mut DbConn,
    to_address: &str,
    to_name: &str,
    locale: Locale,
    message: &Message,
    now: chrono::NaiveDateTime,
) -> Result<i64> {
    let r = render(message, locale)?;
    Ok(outbox::enqueue(
        conn,
        &NewMail {
            to_address,
            to_name,
            subject: &r.subject,
            body_text: &r.text,
            body_html: &r.html,
        },
        now,
    )?)
}

/// Queues `message` to a person, at their address and in their language.
pub fn enqueue_to(
    conn: &mut DbConn,
    person: &PersonRow,
    message: &Message,
    now: chrono::NaiveDateTime,
) -> Result<i64> {
    enqueue(
        conn,
        &person.email,
        &person.name,
        person.locale,
        message,
        now,
    )
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;

    #[test]
    fn setup_mail_renders_in_both_languages_and_escapes_html() {
        let m = Message::PasswordSetup {
            name: "<b>Li</b>".into(),
            link: "http://127.0.0.1:8080/set-password?token=gkp_x".into(),
            valid_hours: 72,
        };
        let en = render(&m, Locale::En).ok();
        let zh = render(&m, Locale::ZhCn).ok();
        let (Some(en), Some(zh)) = (en, zh) else {
            panic!("rendering failed");
        };
        assert_ne!(en.subject, zh.subject);
        assert!(
            en.text
                .contains("http://127.0.0.1:8080/set-password?token=gkp_x")
        );
        assert!(en.text.contains("72"));
        assert!(
            en.html.contains("Li") && en.html.contains("&#60;b&#62;Li"),
            "{}",
            en.html
        );
        assert!(!en.html.contains("<b>Li</b>"));
        assert!(zh.text.contains("72"));
        assert!(
            zh.subject
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
        );
    }

    fn appeal(effect: AppealEffect, remark: f64, after: bool) -> Message {
        Message::AppealDecided {
            name: "Li".into(),
            exam: "Written".into(),
            position: 3,
            before: 8.0,
            remark,
            final_mark: if effect.changes_mark() { remark } else { 8.0 },
            effect,
            passed_before: Some(true),
            passed_after: Some(after),
            link: "http://x/attempts/1/result".into(),
        }
    }

    /// A Chinese mail greets as Chinese does ("Li，您好："), and its
    /// sentences meet without the space English puts between them.
    #[test]
    fn chinese_mail_greets_by_name_and_joins_sentences_without_a_space() {
        let m = appeal(AppealEffect::Lowered, 6.0, false);
        let (Ok(en), Ok(zh)) = (render(&m, Locale::En), render(&m, Locale::ZhCn)) else {
            panic!("rendering failed");
        };
        assert!(en.text.starts_with("Dear Li,\n"), "{}", en.text);
        assert!(zh.text.starts_with("Li，您好：\n"), "{}", zh.text);
        assert!(zh.html.contains("<p>Li，您好：</p>"), "{}", zh.html);
        assert!(!zh.text.contains("。 "), "{}", zh.text);
        let then = |locale| Tr::new(locale).t("mail.appeal_decided.now_failed");
        assert!(
            en.text.contains(&format!(". {}", then(Locale::En))),
            "{}",
            en.text
        );
        assert!(
            zh.text.contains(&format!("。{}", then(Locale::ZhCn))),
            "{}",
            zh.text
        );
    }

    /// Each event has its own words: an appeal never reads as a question
    /// removed after item analysis, and an unchanged mark never reads as a
    /// changed result.
    #[test]
    fn every_appeal_outcome_and_regrade_has_its_own_message_in_both_languages() {
        let messages = [
            appeal(AppealEffect::Unchanged, 8.0, true),
            appeal(AppealEffect::Raised, 9.5, true),
            appeal(AppealEffect::Lowered, 6.0, false),
            appeal(AppealEffect::LowerNotApplied, 6.0, true),
            Message::ResultChanged {
                name: "Li".into(),
                exam: "Written".into(),
                regrade: Regrade::Removed,
                link: "http://x".into(),
            },
            Message::ResultChanged {
                name: "Li".into(),
                exam: "Written".into(),
                regrade: Regrade::Corrected,
                link: "http://x".into(),
            },
            Message::RemarkAssigned {
                name: "Examiner".into(),
                exam: "Written".into(),
                code: "K7QM-4P2X".into(),
                position: 3,
                due: "2026-12-10 09:00".into(),
                link: "http://x/marking/4".into(),
            },
            Message::CaseReturned {
                name: "Li".into(),
                track: "Paediatrics".into(),
                stage: Stage::WrittenExam,
                cancelled: vec!["Case assessment".into()],
                link: "http://x/cases/1".into(),
            },
        ];
        for locale in [Locale::En, Locale::ZhCn] {
            let texts: Vec<String> = messages
                .iter()
                .map(|m| render(m, locale).map(|r| r.text).unwrap_or_default())
                .collect();
            for (i, a) in texts.iter().enumerate() {
                assert!(!a.is_empty() && !a.contains("mail."), "{locale:?} {i}: {a}");
                for b in &texts[i + 1..] {
                    assert_ne!(a, b, "{locale:?}");
                }
            }
        }
        let en = |m: &Message| render(m, Locale::En).map(|r| r.text).unwrap_or_default();
        let unchanged = en(&messages[0]);
        assert!(unchanged.contains("unchanged"), "{unchanged}");
        assert!(!unchanged.contains("recalculated") && !unchanged.contains("removed"));
        let lowered = en(&messages[2]);
        assert!(
            lowered.contains("from 8 to 6") && lowered.contains("no longer pass"),
            "{lowered}"
        );
        let kept = en(&messages[3]);
        assert!(
            kept.contains("stays 8") && !kept.contains("no longer pass"),
            "{kept}"
        );
        assert!(en(&messages[1]).contains("9.5"));
        assert!(en(&messages[4]).contains("removed"));
        assert!(!en(&messages[5]).contains("removed"));
        let remark = en(&messages[6]);
        assert!(remark.contains("K7QM-4P2X") && remark.contains("2026-12-10 09:00"));
        let back = en(&messages[7]);
        assert!(
            back.contains("Written exam") && back.contains("Case assessment"),
            "{back}"
        );
    }

    #[test]
    fn changed_mail_renders() {
        let m = Message::PasswordChanged { name: "Li".into() };
        let en = render(&m, Locale::En).ok();
        assert!(en.is_some_and(|r| r.text.contains("Li") && !r.subject.is_empty()));
    }
}
