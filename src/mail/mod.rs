//! Email: each message is an askama template in text and HTML, in the
//! recipient's language, queued in the outbox inside the transaction of the
//! event that causes it. `jobs::mail` delivers the outbox.

use askama::Template;

use crate::domain::locale::Locale;
use crate::error::{Error, Result};
use crate::i18n::Tr;
use crate::store::DbConn;
use crate::store::outbox::{self, NewMail};

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
    /// A regrade changed a released result.
    ResultChanged {
        name: String,
        exam: String,
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
    let failed = |e: askama::Error| Error::internal(format!("mail template: {e}"));
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
    let failed = |e: askama::Error| Error::internal(format!("mail template: {e}"));
    match message {
        Message::PasswordSetup {
            name,
            link,
            valid_hours,
        } => {
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
        Message::PasswordChanged { name } => Ok(Rendered {
            subject: tr.t("mail.password_changed.subject"),
            text: PasswordChangedText { tr, name }.render().map_err(failed)?,
            html: PasswordChangedHtml { tr, name }.render().map_err(failed)?,
        }),
        Message::MarkingLate { name, count } => {
            let body = tr.t_with("mail.marking_late.body", &[("count", &count.to_string())]);
            render_notice(tr, name, tr.t("mail.marking_late.subject"), &body, "")
        }
        Message::ResultsOut { name, exam, link } => {
            let body = tr.t_with("mail.results_out.body", &[("exam", exam)]);
            render_notice(
                tr,
                name,
                tr.t_with("mail.results_out.subject", &[("exam", exam)]),
                &body,
                link,
            )
        }
        Message::Credential {
            name,
            notice,
            number,
            track,
            date,
            link,
        } => {
            let days = match notice {
                CredentialNotice::Expiring { days } => days.to_string(),
                _ => String::new(),
            };
            let args = [
                ("number", number.as_str()),
                ("track", track.as_str()),
                ("date", date.as_str()),
                ("days", days.as_str()),
            ];
            let key = notice.key();
            let body = tr.t_with(&format!("mail.credential.{key}.body"), &args);
            render_notice(
                tr,
                name,
                tr.t_with(&format!("mail.credential.{key}.subject"), &args),
                &body,
                link,
            )
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
        Message::ResultChanged { name, exam, link } => {
            let body = tr.t_with("mail.result_changed.body", &[("exam", exam)]);
            render_notice(
                tr,
                name,
                tr.t_with("mail.result_changed.subject", &[("exam", exam)]),
                &body,
                link,
            )
        }
        Message::Workshop {
            name,
            workshop,
            when,
            place,
            promoted,
        } => {
            let kind = if *promoted { "promoted" } else { "reminder" };
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
    }
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

#[cfg(test)]
mod tests {
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

    #[test]
    fn changed_mail_renders() {
        let m = Message::PasswordChanged { name: "Li".into() };
        let en = render(&m, Locale::En).ok();
        assert!(en.is_some_and(|r| r.text.contains("Li") && !r.subject.is_empty()));
    }
}
