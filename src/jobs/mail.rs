//! Delivers the email outbox: claims due messages, sends each, and marks it
//! sent or schedules a retry with exponential backoff. With no SMTP server
//! configured, messages are written as .eml files to DATA_DIR/mail/.

use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport};

use super::{Jobs, Lease};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::store::outbox::{self, OutboxRow};
use crate::store::{self, Db};

/// Where mail goes.
#[derive(Clone)]
pub enum Sender {
    Smtp(SmtpTransport),
    Files(FileTransport),
}

impl Sender {
    pub fn from_settings(settings: &Settings) -> Result<Sender> {
        match &settings.smtp_url {
            Some(url) => SmtpTransport::from_url(url)
                .map(|b| Sender::Smtp(b.timeout(Some(StdDuration::from_secs(20))).build()))
                // The URL may hold a password: never echo it.
                .map_err(|e| Error::invalid("smtp_url", format!("is not a usable SMTP URL ({e})"))),
            None => {
                let dir = settings.mail_dir();
                std::fs::create_dir_all(&dir).map_err(|e| {
                    Error::internal_from(format!("cannot create {}", dir.display()), e)
                })?;
                Ok(Sender::Files(FileTransport::new(dir)))
            }
        }
    }

    fn send(&self, message: &Message) -> std::result::Result<(), String> {
        match self {
            Sender::Smtp(t) => t.send(message).map(|_| ()).map_err(|e| e.to_string()),
            Sender::Files(t) => t.send(message).map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// How long a claimed message is reserved for the claiming worker.
const LEASE: Duration = Duration::minutes(5);
/// At most this many messages per round.
const BATCH: i64 = 50;

/// When to try again after `attempts` failures: 30 s, 1 min, 2 min, … capped
/// at 6 hours. Mail is never dropped.
pub fn backoff(attempts: i32) -> Duration {
    // Clamped to 0..=20: fits a u32.
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    let seconds = 30i64.saturating_mul(1i64 << exponent.min(20));
    Duration::seconds(seconds.min(6 * 3600))
}

fn build(row: &OutboxRow, from: &Mailbox) -> std::result::Result<Message, String> {
    let to: Mailbox = format!("{} <{}>", quote_name(&row.to_name), row.to_address)
        .parse()
        .or_else(|_| row.to_address.parse())
        .map_err(|e| format!("bad recipient: {e}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            row.body_html.clone(),
        ))
        .map_err(|e| format!("cannot build message: {e}"))
}

fn quote_name(name: &str) -> String {
    format!("\"{}\"", name.replace(['"', '\\', '\r', '\n'], " "))
}

/// One round: claim, send, record. Returns how many were sent.
pub fn deliver_due(db: &Db, sender: &Sender, from: &Mailbox) -> Result<usize> {
    let claimed = db.write_blocking(|conn| {
        outbox::claim_due(conn, store::now(), BATCH, LEASE).map_err(Error::from)
    })?;
    let mut sent = 0;
    for row in claimed {
        let outcome = build(&row, from).and_then(|m| sender.send(&m));
        let now = store::now();
        match outcome {
            Ok(()) => {
                db.write_blocking(|conn| Ok(outbox::mark_sent(conn, row.id, now)?))?;
                sent += 1;
                tracing::info!(outbox_id = row.id, "mail sent");
            }
            Err(error) => {
                let next = now + backoff(row.attempts);
                tracing::warn!(outbox_id = row.id, attempts = row.attempts + 1, %error, "mail not sent; will retry");
                db.write_blocking(|conn| Ok(outbox::mark_failed(conn, row.id, &error, next)?))?;
            }
        }
    }
    Ok(sent)
}

/// One round under the job's lease (`None`: another instance is delivering).
/// Messages are also claimed row by row (`outbox::claim_due`), so even a
/// round that outlived its lease sends nothing twice.
pub fn round(lease: &Lease, sender: &Sender, from: &Mailbox) -> Result<Option<usize>> {
    lease.run("mail", |db| deliver_due(db, sender, from))
}

/// Runs the mail worker until the server stops.
pub fn spawn(jobs: &mut Jobs, lease: Lease, sender: Sender, from: Mailbox, every: StdDuration) {
    jobs.every(actix_web::rt::time::interval(every), move || {
        let (lease, sender, from) = (lease.clone(), sender.clone(), from.clone());
        async move {
            let done = store::blocking(move || round(&lease, &sender, &from)).await;
            if let Err(e) = done {
                tracing::error!(error = e.traced(), "mail worker round failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(0), Duration::seconds(30));
        assert_eq!(backoff(1), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(960));
        assert_eq!(backoff(12), Duration::hours(6));
        assert_eq!(backoff(1000), Duration::hours(6));
        assert_eq!(backoff(-3), Duration::seconds(30));
    }
}
