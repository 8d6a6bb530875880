//! Building audit events. Every sign-in, every refused authorisation and every
//! change an admin makes is recorded, in the same transaction as the change.

use crate::error::Result;
use crate::services::Caller;
use crate::store::audit::{self, NewAuditEvent};
use crate::store::{self, DbConn};

#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Ok,
    Refused,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }
}

pub fn event(
    caller: &Caller,
    action: &str,
    target: Option<String>,
    outcome: Outcome,
) -> NewAuditEvent {
    NewAuditEvent {
        at: store::now(),
        actor_id: caller.person_id(),
        actor: caller.label(),
        action: action.to_owned(),
        target,
        outcome: outcome.as_str().to_owned(),
        ip: caller.ip.clone(),
        detail: None,
    }
}

/// An event with no authenticated caller (a failed sign-in, say).
pub fn anonymous(
    action: &str,
    target: Option<String>,
    outcome: Outcome,
    ip: Option<String>,
    detail: Option<String>,
) -> NewAuditEvent {
    NewAuditEvent {
        at: store::now(),
        actor_id: None,
        actor: "anonymous".to_owned(),
        action: action.to_owned(),
        target,
        outcome: outcome.as_str().to_owned(),
        ip,
        detail,
    }
}

pub fn record(conn: &mut DbConn, event: &NewAuditEvent) -> Result<()> {
    audit::record(conn, event)?;
    Ok(())
}

/// An event of a person acting on their own account (sign-in, sign-out).
pub fn own_account(person_id: i64, action: &str, ip: Option<String>) -> NewAuditEvent {
    NewAuditEvent {
        at: store::now(),
        actor_id: Some(person_id),
        actor: format!("person:{person_id}"),
        action: action.to_owned(),
        target: Some(format!("person:{person_id}")),
        outcome: Outcome::Ok.as_str().to_owned(),
        ip,
        detail: None,
    }
}
