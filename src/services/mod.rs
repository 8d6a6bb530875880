//! Use cases: one function per intent. Each checks the caller's permission
//! (through `domain::access`), applies the domain rules, writes in one
//! transaction (with its audit event and any email), and returns what the
//! caller may see. Both the pages and the JSON API call these.

pub mod accounts;
pub mod analysis;
pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod banks;
pub mod buckets;
pub mod committee;
pub mod courses;
pub mod credentials;
pub mod dashboard;
pub mod decision;
pub mod evidence;
pub mod exams;
pub mod grading;
pub mod idempotency;
pub mod institutions;
pub mod overview;
pub mod people;
pub mod photos;
pub mod pipeline;
pub mod referrals;
pub mod training;

use std::sync::Arc;

use crate::config::Settings;
use crate::domain::access::{Actor, Permission, Principal, permits};
use crate::domain::committee::{Party, Subject, may_act_on};
use crate::domain::ids::PersonId;
use crate::domain::sessions::SessionPolicy;
use crate::error::{Error, Result};
use crate::store::Db;

/// Tells a candidate of their released result, out or changed (`message`,
/// by mail in their language), and notes it as evidence for their
/// certification case (`reason`), in the transaction that released or
/// changed it. The caller settles the case once that has committed
/// (`pipeline::settle`).
pub fn result_notice(
    conn: &mut crate::store::DbConn,
    person: &crate::store::people::PersonRow,
    message: &crate::mail::Message,
    reason: &str,
    now: chrono::NaiveDateTime,
) -> Result<()> {
    crate::mail::enqueue_to(conn, person, message, now)?;
    crate::store::pipeline::note_due(conn, person.id, reason, now)?;
    Ok(())
}

/// Where a candidate reads the result of an attempt.
pub fn result_link(public_url: &str, attempt_id: i64) -> String {
    format!("{public_url}/attempts/{attempt_id}/result")
}

/// Whether the database answers a trivial query (the health check).
pub async fn database_answers(ctx: &Ctx) -> bool {
    ctx.db.read(crate::store::ping).await.is_ok()
}

/// A stored time (always UTC, without a zone in the database) as a UTC
/// instant for callers.
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}

/// A required free-text field: trimmed, not empty, at most `max`
/// characters; the error names the field.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(Error::invalid(field, format!("at most {max} characters")));
    }
    Ok(v.to_owned())
}

/// Everything a use case needs: shared, cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub throttle: Arc<auth::SignInThrottle>,
    pub sessions: SessionPolicy,
    /// Question versions never change once written, so their parsed content
    /// is kept in memory after the first read (the save path reads it for
    /// every answer).
    pub versions: Arc<crate::store::versions::VersionCache>,
    /// The alliance's credential signing keys (in the database).
    pub keys: Arc<credentials::Keys>,
    /// Public credential lookups per address.
    pub verify_throttle: Arc<credentials::VerifyThrottle>,
    /// This instance among those sharing the database (a random id, new at
    /// every start): the holder of the job leases it takes.
    pub instance: String,
}

impl Ctx {
    /// Opens the signing keys in the database (creating the first on a new
    /// database).
    pub fn new(db: Db, settings: Settings) -> Result<Ctx> {
        let throttle = Arc::new(auth::SignInThrottle::new(&settings.tuning));
        let keys = Arc::new(credentials::Keys::open(&db, &settings)?);
        let verify_throttle = Arc::new(credentials::VerifyThrottle::new(&settings.tuning));
        Ok(Ctx {
            db,
            settings: Arc::new(settings),
            throttle,
            sessions: SessionPolicy::default(),
            versions: Arc::new(crate::store::versions::VersionCache::default()),
            keys,
            verify_throttle,
            instance: uuid::Uuid::new_v4().simple().to_string(),
        })
    }
}

/// The authenticated caller of one request, with where it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub ip: Option<String>,
    /// The session this request came with, if any (so a password change can
    /// keep it while ending the others).
    pub session_hash: Option<String>,
}

impl Caller {
    /// The person behind the request; integrations have none.
    pub fn actor(&self) -> Option<&Actor> {
        match &self.principal {
            Principal::Person(actor) => Some(actor),
            Principal::Integration { .. } => None,
        }
    }

    pub fn person_id(&self) -> Option<PersonId> {
        self.actor().map(|a| a.id)
    }

    /// How the audit trail names the caller.
    pub fn label(&self) -> String {
        match &self.principal {
            Principal::Person(a) => format!("person:{}", a.id),
            Principal::Integration { token_id, .. } => format!("token:{token_id}"),
        }
    }
}

/// Refuses (and records the refusal) unless the caller holds `permission`.
pub async fn require(ctx: &Ctx, caller: &Caller, permission: Permission) -> Result<()> {
    if permits(&caller.principal, permission) {
        return Ok(());
    }
    refuse(ctx, caller, "authorise", format!("{permission:?}")).await
}

/// The conflict-of-interest rule (`domain::committee::may_act_on`) for the
/// caller acting on the case or credential of `holder_id`: refused with
/// `Error::ConflictOfInterest`, which `audited` then records. Integrations
/// act for no person and never reach a committee action.
pub fn impartial(
    conn: &mut crate::store::DbConn,
    caller: &Caller,
    subject: Subject,
    holder_id: PersonId,
) -> Result<()> {
    let actor = caller.actor().ok_or(Error::Forbidden)?;
    let holder = crate::store::people::find(conn, holder_id)?.ok_or(Error::NotFound)?;
    may_act_on(
        Party {
            person_id: actor.id,
            institution_id: actor.institution_id,
        },
        subject,
        Party {
            person_id: holder.id,
            institution_id: holder.institution_id,
        },
    )
    .map_err(Error::ConflictOfInterest)
}

/// Whether the caller may read the case or credential of `holder_id`
/// (`domain::committee::may_read`): a conflicted committee member gets
/// `Error::ConflictOfInterest`, anyone else who may not read gets `false`.
pub fn may_read(
    conn: &mut crate::store::DbConn,
    caller: &Caller,
    subject: Subject,
    holder_id: PersonId,
) -> Result<bool> {
    let Some(actor) = caller.actor() else {
        return Ok(false);
    };
    let holder = crate::store::people::find(conn, holder_id)?.ok_or(Error::NotFound)?;
    let holder = Party {
        person_id: holder.id,
        institution_id: holder.institution_id,
    };
    crate::domain::committee::may_read(actor, subject, holder).map_err(Error::ConflictOfInterest)
}

/// Passes a use case's result on, first recording in the audit trail a
/// conflict-of-interest refusal that ended its transaction (which rolled
/// back, so the refusal needs a transaction of its own).
pub async fn audited<T>(
    ctx: &Ctx,
    caller: &Caller,
    action: &str,
    target: String,
    result: Result<T>,
) -> Result<T> {
    if let Err(Error::ConflictOfInterest(conflict)) = &result {
        let mut event = audit::event(caller, action, Some(target), audit::Outcome::Refused);
        event.detail = Some(conflict.code().to_owned());
        ctx.db
            .write(move |conn| audit::record(conn, &event))
            .await?;
    }
    result
}

/// The person behind the request. An integration acts for no person, so it
/// is refused here, and the refusal recorded like every other.
pub async fn person(ctx: &Ctx, caller: &Caller) -> Result<Actor> {
    match caller.actor() {
        Some(actor) => Ok(actor.clone()),
        None => refuse(ctx, caller, "authorise", "person_only".to_owned()).await,
    }
}

/// Records that `caller` was refused `action` on `target` (someone else's
/// attempt, quiz, task…) and answers 403. One place for every refusal the
/// audit trail must show.
pub async fn refuse<T>(ctx: &Ctx, caller: &Caller, action: &str, target: String) -> Result<T> {
    let event = audit::event(caller, action, Some(target), audit::Outcome::Refused);
    ctx.db
        .write(move |conn| audit::record(conn, &event))
        .await?;
    Err(Error::Forbidden)
}
