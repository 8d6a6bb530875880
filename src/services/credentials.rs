//! Credentials: issued when the committee approves a case, renewed with the
//! same number, suspended, reinstated and revoked by the committee, expired
//! by the daily job; published as signed Open Badges 3.0 credentials with
//! Bitstring Status Lists, and verifiable by anyone at `/verify/{number}`.
//!
//! The status lists are built from the credentials table on every request,
//! so a suspension or revocation shows in them the moment it commits.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde::Serialize;

use crate::config::Tuning;
use crate::domain::access::Permission;
use crate::domain::badge_image;
use crate::domain::committee::Subject;
use crate::domain::credentials::{self as credential, CredentialNumber, Status, StatusAction};
use crate::domain::dates;
use crate::domain::ids::{CredentialId, PersonId};
use crate::domain::numbers::non_negative_u32;
use crate::domain::signing::{self, BadgeInput, Signer, StatusEntry};
use crate::domain::status_list::{self, Bitstring, Standing};
use crate::domain::throttle;
use crate::error::{Error, Result};
use crate::mail::{self, CredentialNotice, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{
    Caller, Ctx, audited, impartial, may_read, person, refuse, require, required_text,
};
use crate::store::credentials::{
    self as store_credentials, CredentialRow, NewCredential, NewEvent, StatusChange,
};
use crate::store::pipeline::CaseRow;
use crate::store::signing_keys as store_keys;
use crate::store::training::{self as store_training, TrackRow};
use crate::store::{self, Db, DbConn, institutions, people};

use super::utc;

// ----- the alliance's signing keys -----

/// The P-256 key file of earlier versions (PKCS#8 PEM in the data
/// directory): imported into the database at the first start that finds no
/// key there, so a deployment keeps the key its credentials were signed with.
const KEY_FILE: &str = "credential-signing-key.p256.pem";
/// The Ed25519 key even earlier versions signed with (a hex seed). Its
/// public half is imported as a retired key.
const RETIRED_KEY_FILE: &str = "credential-signing-key.ed25519";

/// The alliance's signing keys, kept in the database (`store::signing_keys`)
/// so that every instance signs with the same key and publishes the same
/// JWK set. Each instance keeps the [`Signer`] it built and rebuilds it when
/// the keys change (a rotation anywhere adds a row: one cheap `MAX(id)` per
/// use) or a retired key's time to leave the set has come.
pub struct Keys {
    sealing: signing::SealingKey,
    keys_url: String,
    built: std::sync::RwLock<Option<Built>>,
}

#[derive(Clone)]
struct Built {
    generation: Option<i64>,
    /// When the set must be rebuilt even without a new key: the next
    /// retired key's withdrawal.
    until: Option<NaiveDateTime>,
    signer: std::sync::Arc<Signer>,
}

impl Keys {
    /// The keys, creating the first signing key if the database has none
    /// (from the key file of earlier versions when the data directory holds
    /// one). Fails with a clear message when the signing key cannot be
    /// opened with this instance's secret: instances given different
    /// secrets would otherwise disagree.
    pub fn open(db: &Db, settings: &crate::config::Settings) -> Result<Keys> {
        let keys = Keys {
            sealing: signing::SealingKey::derive(&settings.signing_key_secret)
                .map_err(|e| Error::internal_from("the sealing key", e))?,
            keys_url: Urls::new(&settings.public_url).keys(),
            built: std::sync::RwLock::new(None),
        };
        let data_dir = settings.data_dir.clone();
        db.write_blocking(|conn| keys.ensure(conn, &data_dir))?;
        db.read_blocking(|conn| keys.signer(conn).map(|_| ()))?;
        Ok(keys)
    }

    /// Creates the signing key if there is none, and imports the retired
    /// Ed25519 key of a data directory from before ES256.
    fn ensure(&self, conn: &mut DbConn, data_dir: &Path) -> Result<()> {
        let now = store::now();
        let retired = data_dir.join(RETIRED_KEY_FILE);
        if retired.exists() {
            let seed = hex::decode(read_key_file(&retired)?.trim()).map_err(|e| {
                Error::internal_from(format!("{}: not a hex key", retired.display()), e)
            })?;
            let x = signing::ed25519_public(&seed)
                .map_err(|e| Error::internal_from(retired.display().to_string(), e))?;
            let members = serde_json::json!({"crv": "Ed25519", "kty": "OKP", "x": x});
            let thumbprint = signing::ed25519_thumbprint(&x);
            if store_keys::find_by_thumbprint(conn, &thumbprint)?.is_none() {
                let withdraw = signing::withdraw_after(
                    utc(now),
                    store_keys::latest_valid_until(conn)?.map(utc),
                );
                store_keys::insert(
                    conn,
                    &store_keys::NewSigningKey {
                        thumbprint: &thumbprint,
                        algorithm: signing::RETIRED_ALGORITHM,
                        public_key: &members.to_string(),
                        sealed_private_key: None,
                        created_at: now,
                        retired_at: Some(now),
                        withdraw_after: Some(withdraw.naive_utc()),
                    },
                )?;
                tracing::info!(%thumbprint, "imported the retired Ed25519 key's public half");
            }
        }
        if store_keys::signing(conn)?.is_some() {
            return Ok(());
        }
        let file = data_dir.join(KEY_FILE);
        let der = if file.exists() {
            let text = read_key_file(&file)?;
            let pem = pem::parse(text.trim())
                .ok()
                .filter(|p| p.tag() == "PRIVATE KEY")
                .ok_or_else(|| {
                    Error::internal(format!("{}: not a PEM private key", file.display()))
                })?;
            tracing::info!(path = %file.display(), "imported the credential signing key into the database");
            pem.contents().to_vec()
        } else {
            signing::generate_p256().map_err(|e| Error::internal_from("a new signing key", e))?
        };
        // Two instances starting at once on a new database: one signing key
        // may exist (a unique index), so the second's insert fails, in its
        // own savepoint, and it uses the first's.
        match diesel::Connection::transaction(conn, |conn| self.add_signing_key(conn, &der, now)) {
            Err(Error::Database(e)) if store::is_unique_violation(&e) => Ok(()),
            done => done,
        }
    }

    /// Seals and stores a new signing key (the current one must be retired).
    fn add_signing_key(&self, conn: &mut DbConn, der: &[u8], now: NaiveDateTime) -> Result<()> {
        let signer = Signer::from_pkcs8(der, &self.keys_url)
            .map_err(|e| Error::internal_from("the new signing key", e))?;
        let sealed = self
            .sealing
            .seal(signer.thumbprint(), der)
            .map_err(|e| Error::internal_from("sealing the new signing key", e))?;
        store_keys::insert(
            conn,
            &store_keys::NewSigningKey {
                thumbprint: signer.thumbprint(),
                algorithm: signing::ALGORITHM,
                public_key: &signer.public_members().to_string(),
                sealed_private_key: Some(&sealed),
                created_at: now,
                retired_at: None,
                withdraw_after: None,
            },
        )?;
        tracing::info!(kid = signer.kid(), "created a credential signing key");
        Ok(())
    }

    /// The signer as of now: the signing key and every retired key not yet
    /// withdrawn.
    pub fn signer(&self, conn: &mut DbConn) -> Result<std::sync::Arc<Signer>> {
        let generation = store_keys::generation(conn)?;
        let now = store::now();
        let cached = self.built.read().ok().and_then(|b| b.clone());
        if let Some(b) = cached
            && b.generation == generation
            && b.until.is_none_or(|until| now < until)
        {
            return Ok(b.signer);
        }
        let built = self.build(conn, generation, now)?;
        let signer = built.signer.clone();
        if let Ok(mut slot) = self.built.write() {
            *slot = Some(built);
        }
        Ok(signer)
    }

    fn build(
        &self,
        conn: &mut DbConn,
        generation: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<Built> {
        let rows = store_keys::all(conn)?;
        let current = rows
            .iter()
            .find(|k| k.retired_at.is_none())
            .ok_or_else(|| Error::internal("no credential signing key in the database"))?;
        let sealed = current
            .sealed_private_key
            .as_deref()
            .ok_or_else(|| Error::internal("the credential signing key has no private key"))?;
        let der = self
            .sealing
            .open(&current.thumbprint, sealed)
            .map_err(|e| {
                Error::internal_from(
                    "the credential signing key in the database cannot be opened with this \
                 instance's GATEKEEPER_SIGNING_KEY_SECRET: every instance must be given the \
                 same secret as the one that created the key",
                    e,
                )
            })?;
        let mut signer = Signer::from_pkcs8(&der, &self.keys_url)
            .map_err(|e| Error::internal_from(format!("signing key {}", current.thumbprint), e))?;
        let mut until: Option<NaiveDateTime> = None;
        for k in rows.iter().filter(|k| k.retired_at.is_some()) {
            if k.withdraw_after.is_some_and(|w| w <= now) {
                continue;
            }
            if let Some(w) = k.withdraw_after {
                until = Some(until.map_or(w, |u| u.min(w)));
            }
            let members: serde_json::Value = serde_json::from_str(&k.public_key)
                .map_err(|e| Error::internal_from(format!("signing key {}", k.thumbprint), e))?;
            signer = signer
                .retire_public(&members, &self.keys_url)
                .map_err(|e| Error::internal_from(format!("signing key {}", k.thumbprint), e))?;
        }
        Ok(Built {
            generation,
            until,
            signer: std::sync::Arc::new(signer),
        })
    }

    /// A new signing key that signs from now on, in one transaction; the
    /// one it replaces stays published until every credential it signed has
    /// expired (`domain::signing::withdraw_after`). Returns the new key id
    /// and the old one's thumbprint and withdrawal.
    pub fn rotate(&self, db: &Db) -> Result<Rotated> {
        let der =
            signing::generate_p256().map_err(|e| Error::internal_from("a new signing key", e))?;
        let rotated = db.write_blocking(|conn| {
            let now = store::now();
            let old = store_keys::signing(conn)?
                .ok_or_else(|| Error::internal("no credential signing key to rotate"))?;
            let withdraw =
                signing::withdraw_after(utc(now), store_keys::latest_valid_until(conn)?.map(utc));
            store_keys::retire(conn, old.id, now, withdraw.naive_utc())?;
            self.add_signing_key(conn, &der, now)?;
            let generation = store_keys::generation(conn)?;
            let new = self.build(conn, generation, now)?;
            Ok(Rotated {
                kid: new.signer.kid().to_owned(),
                retired: old.thumbprint,
                withdraw_after: withdraw,
            })
        })?;
        Ok(rotated)
    }

    /// Every key with its state, newest first (for `gatekeeper key list`).
    pub fn list(db: &Db) -> Result<Vec<store_keys::SigningKeyRow>> {
        db.read_blocking(|conn| Ok(store_keys::all(conn)?))
    }
}

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The new signing key's id (a URL).
    pub kid: String,
    /// The thumbprint of the key that no longer signs.
    pub retired: String,
    /// When the old key leaves the published set.
    pub withdraw_after: DateTime<Utc>,
}

fn read_key_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::internal_from(format!("cannot read {}", path.display()), e))
}

// ----- lookup throttle -----

/// Public lookups of credential numbers, limited per address so the
/// registry cannot be scraped: a leaky bucket per address
/// (`domain::throttle`), kept in the database so that every instance counts
/// on the same one.
pub struct VerifyThrottle {
    limit: throttle::Limit,
}

impl VerifyThrottle {
    pub fn new(t: &Tuning) -> Self {
        VerifyThrottle {
            limit: throttle::Limit::new(t.verify_burst, t.verify_refill_secs),
        }
    }

    /// Counts one lookup from `address`, or refuses with the wait.
    pub async fn check(&self, db: &Db, address: Option<&str>) -> Result<()> {
        let limited = [(throttle::lookup_key(address), self.limit)];
        db.write(move |conn| crate::services::buckets::count(conn, &limited))
            .await?
            .map_err(|retry_after| Error::Throttled { retry_after })
    }
}

// ----- URLs in signed credentials -----

struct Urls {
    base: String,
}

impl Urls {
    fn new(public_url: &str) -> Urls {
        Urls {
            base: public_url.trim_end_matches('/').to_owned(),
        }
    }
    /// A credential's id is its public page: it resolves for anyone (the
    /// certificate page, `/credentials/{number}`, is for the holder and the
    /// committee).
    fn credential(&self, number: &str) -> String {
        self.verify(number)
    }
    fn issuer(&self) -> String {
        format!("{}/issuer", self.base)
    }
    /// Where each public key is published: a key id is this URL, `/`, and
    /// the key's thumbprint.
    fn keys(&self) -> String {
        format!("{}/issuer/keys", self.base)
    }
    fn holder(&self, holder_ref: &str) -> String {
        format!("{}/holders/{holder_ref}", self.base)
    }
    /// An achievement's id: its public JSON (`/achievements/{key}`).
    fn achievement(&self, key: &str) -> String {
        format!("{}/achievements/{key}", self.base)
    }
    fn status_list(&self, purpose: Purpose) -> String {
        format!("{}/status-lists/{}", self.base, purpose.as_str())
    }
    fn verify(&self, number: &str) -> String {
        format!("{}/verify/{number}", self.base)
    }
}

pub const ISSUER_NAME: &str = "Hospital Alliance Quality-Control Committee";

/// The published status lists. Every credential signed now names one
/// entry on the standing list (two bits: active, suspended, revoked); the
/// one-bit revocation and suspension lists stay published for credentials
/// downloaded before, which name an entry on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Standing,
    Revocation,
    Suspension,
}

impl Purpose {
    /// The list's name in its URL, `/status-lists/{name}`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Standing => "standing",
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
        }
    }

    /// Its `statusPurpose` (Bitstring Status List 1.0).
    fn status_purpose(self) -> &'static str {
        match self {
            Purpose::Standing => "message",
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        [Purpose::Standing, Purpose::Revocation, Purpose::Suspension]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

// ----- issuing and renewing -----

fn track_code(track: &TrackRow) -> Result<String> {
    let code = track.code.trim().to_uppercase();
    if credential::valid_track_code(&code) {
        Ok(code)
    } else {
        Err(Error::conflict(
            "code",
            format!(
                "track {} has no valid credential code; the committee sets it in the track policy",
                track.track_key
            ),
        ))
    }
}

fn free_indexes(conn: &mut DbConn) -> Result<(u32, u32)> {
    let used = store_credentials::used_indexes(conn)?;
    // Stored indexes are never negative; one that were could not block a free one.
    let revocation: HashSet<u32> = used
        .iter()
        .filter_map(|(r, _)| u32::try_from(*r).ok())
        .collect();
    let suspension: HashSet<u32> = used
        .iter()
        .filter_map(|(_, s)| u32::try_from(*s).ok())
        .collect();
    let mut rng = rand::rng();
    let bits = u32::try_from(status_list::MIN_BITS)
        .map_err(|e| Error::internal_from("the status list's size", e))?;
    let r = status_list::random_free_index(&revocation, bits, &mut rng)
        .ok_or_else(|| Error::internal("the revocation list is full"))?;
    let s = status_list::random_free_index(&suspension, bits, &mut rng)
        .ok_or_else(|| Error::internal("the suspension list is full"))?;
    Ok((r, s))
}

fn ensure_holder_ref(conn: &mut DbConn, person_id: PersonId) -> Result<String> {
    let person = people::find(conn, person_id)?.ok_or(Error::NotFound)?;
    match person.holder_ref {
        Some(r) => Ok(r),
        None => {
            let r = uuid::Uuid::new_v4().to_string();
            store_credentials::set_holder_ref(conn, person_id, &r)?;
            Ok(r)
        }
    }
}

/// Stores a credential event and records it, with its evidence digest, in
/// the audit chain (the committee's decision record checks the two agree).
fn write_event(conn: &mut DbConn, number: &str, e: &NewEvent, now: NaiveDateTime) -> Result<()> {
    let row = store_credentials::insert_event(conn, e, now)?;
    audit::record_evidence(
        conn,
        e.actor_id,
        "credential_event",
        format!("credential:{number}"),
        &format!(
            "{}: {} -> {}",
            e.action,
            e.from.map_or("(new)", Status::as_str),
            e.to
        ),
        &audit::credential_event_evidence(&row),
    )
}

/// Issues the credential of an approved initial case, or renews the
/// credential of an approved renewal (same number, new expiry). Returns the
/// credential's id. Runs in the transaction that approves the case.
pub fn issue_or_renew(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<CredentialId> {
    let months = non_negative_u32(track.validity_months.max(1));
    match case.credential_id {
        Some(id) => renew(conn, case, id, months, public_url, now),
        None => issue(conn, case, track, months, public_url, now),
    }
}

/// Renews credential `id` for `months` (same number, new expiry).
fn renew(
    conn: &mut DbConn,
    case: &CaseRow,
    id: CredentialId,
    months: u32,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<CredentialId> {
    let c = store_credentials::lock_credential(conn, id)?.ok_or(Error::NotFound)?;
    let from = c.status;
    let to = credential::apply(from, StatusAction::Renew)
        .map_err(|e| Error::conflict("credential", e.to_string()))?;
    // A renewal before expiry extends from the old expiry, so early
    // renewal loses nothing; after a lapse, from today.
    let base = c.valid_until.max(now);
    let until = credential::expiry(utc(base), months).naive_utc();
    store_credentials::renew(conn, id, until, now)?;
    write_event(
        conn,
        &c.number,
        &NewEvent {
            credential_id: id,
            action: "renew",
            from: Some(from),
            to,
            reason: &format!("renewal case {} approved by the committee", case.id),
            actor_id: None,
        },
        now,
    )?;
    notify(
        conn,
        &c.number,
        CredentialNotice::Renewed,
        utc(until),
        public_url,
        now,
    )?;
    Ok(id)
}

/// Issues a new credential of `track` for `months`, with the next number.
fn issue(
    conn: &mut DbConn,
    case: &CaseRow,
    track: &TrackRow,
    months: u32,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<CredentialId> {
    let code = track_code(track)?;
    let year = now.year();
    let sequence = store_credentials::next_sequence(conn, track.id, year)?;
    let number = CredentialNumber::new(&code, year, non_negative_u32(sequence.max(1)))
        .map_err(|e| Error::internal_from("the new credential number", e))?
        .to_string();
    let (revocation_index, suspension_index) = free_indexes(conn)?;
    let status_index = |index: u32| {
        i32::try_from(index)
            .map_err(|e| Error::internal_from("the new credential's status index", e))
    };
    ensure_holder_ref(conn, case.person_id)?;
    let until = credential::expiry(utc(now), months).naive_utc();
    let row = store_credentials::insert_credential(
        conn,
        &NewCredential {
            number: &number,
            person_id: case.person_id,
            track_id: track.id,
            year,
            sequence,
            valid_from: now,
            valid_until: until,
            revocation_index: status_index(revocation_index)?,
            suspension_index: status_index(suspension_index)?,
        },
        now,
    )?;
    write_event(
        conn,
        &number,
        &NewEvent {
            credential_id: row.id,
            action: "issue",
            from: None,
            to: Status::Active,
            reason: &format!("case {} approved by the committee", case.id),
            actor_id: None,
        },
        now,
    )?;
    tracing::info!(credential = %number, case = case.id.get(), "credential issued");
    notify(
        conn,
        &number,
        CredentialNotice::Issued,
        utc(until),
        public_url,
        now,
    )?;
    Ok(row.id)
}

/// Emails the holder about their credential.
fn notify(
    conn: &mut DbConn,
    number: &str,
    notice: CredentialNotice,
    date: DateTime<Utc>,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let c = store_credentials::credential_by_number(conn, number)?.ok_or(Error::NotFound)?;
    let person = people::find(conn, c.person_id)?.ok_or(Error::NotFound)?;
    let track = store_training::find_track_by_id(conn, c.track_id)?.ok_or(Error::NotFound)?;
    mail::enqueue_to(
        conn,
        &person,
        &Message::Credential {
            name: person.name.clone(),
            notice,
            number: number.to_owned(),
            track: track.title,
            date: date.format("%Y-%m-%d").to_string(),
            link: format!("{}/credentials/{number}", public_url.trim_end_matches('/')),
        },
        now,
    )?;
    Ok(())
}

// ----- status changes by the committee -----

/// What the committee asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Suspend { until: Option<DateTime<Utc>> },
    Reinstate,
    Revoke,
}

/// The result of a status change: revocation needs a second member, so the
/// first request only proposes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeResult {
    /// The credential number.
    pub number: String,
    /// Its status now.
    pub status: Status,
    /// A revocation proposed and waiting for a second committee member.
    pub revocation_proposed: bool,
}

/// One status change, as asked.
struct Update<'a> {
    action: StatusAction,
    reason: &'a str,
    suspended_until: Option<NaiveDateTime>,
    /// The committee member, or `None` for the jobs.
    actor: Option<PersonId>,
}

fn apply_status(
    conn: &mut DbConn,
    c: &CredentialRow,
    u: &Update,
    public_url: &str,
    now: NaiveDateTime,
) -> Result<Status> {
    let (action, reason, suspended_until, actor) = (u.action, u.reason, u.suspended_until, u.actor);
    let from = c.status;
    let to =
        credential::apply(from, action).map_err(|e| Error::conflict("status", e.to_string()))?;
    store_credentials::set_status(
        conn,
        c.id,
        &StatusChange {
            status: to,
            reason: Some(reason),
            suspended_until,
        },
        now,
    )?;
    let action_name = match action {
        StatusAction::Suspend => "suspend",
        StatusAction::Reinstate => "reinstate",
        StatusAction::Revoke => "revoke",
        StatusAction::Expire => "expire",
        StatusAction::Renew => "renew",
    };
    write_event(
        conn,
        &c.number,
        &NewEvent {
            credential_id: c.id,
            action: action_name,
            from: Some(from),
            to,
            reason,
            actor_id: actor,
        },
        now,
    )?;
    let notice = match action {
        StatusAction::Suspend => Some(CredentialNotice::Suspended),
        StatusAction::Reinstate => Some(CredentialNotice::Reinstated),
        StatusAction::Revoke => Some(CredentialNotice::Revoked),
        StatusAction::Expire => Some(CredentialNotice::Expired),
        StatusAction::Renew => None,
    };
    if let Some(notice) = notice {
        notify(conn, &c.number, notice, utc(now), public_url, now)?;
    }
    tracing::info!(credential = %c.number, from = from.as_str(), to = to.as_str(), "credential status changed");
    Ok(to)
}

/// Suspends, reinstates or revokes a credential (committee members). A
/// suspension and a reinstatement take effect at once; a revocation takes
/// effect when a second member confirms it. Nobody acts on their own
/// credential or a colleague's from their institution, at either step of a
/// revocation (`domain::committee::may_act_on`; refused and audited).
pub async fn change(
    ctx: &Ctx,
    caller: &Caller,
    number: String,
    change: Change,
    reason: String,
) -> Result<ChangeResult> {
    require(ctx, caller, Permission::Decide).await?;
    let reason = required_text("reason", &reason, 2000)?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let until = suspension_end(change, store::now())?;
    let audit_caller = caller.clone();
    let audit_number = number.clone();
    let caller = caller.clone();
    let public_url = ctx.settings.public_url.clone();
    let result = ctx
        .db
        .write(move |conn| {
            let found =
                store_credentials::credential_by_number(conn, &number)?.ok_or(Error::NotFound)?;
            let c = store_credentials::lock_credential(conn, found.id)?.ok_or(Error::NotFound)?;
            impartial(conn, &caller, Subject::Credential, c.person_id)?;
            // The time of the change is taken once the row is locked, so it
            // orders correctly against referrals written under the same lock.
            let now = store::now();
            let target = Some(format!("credential:{}", c.number));
            let result = match (change, c.revoke_proposed_by) {
                (Change::Revoke, Some(proposer)) if proposer == me => {
                    return Err(Error::conflict(
                        "credential",
                        "you proposed this revocation: a second committee member must confirm it",
                    ));
                }
                (Change::Revoke, None) => propose_revocation(conn, &c, me, &reason, now)?,
                _ => {
                    let (action, suspended_until) = match change {
                        Change::Suspend { .. } => (StatusAction::Suspend, until),
                        Change::Reinstate => (StatusAction::Reinstate, None),
                        Change::Revoke => (StatusAction::Revoke, None),
                    };
                    let update = Update {
                        action,
                        reason: &reason,
                        suspended_until,
                        actor: Some(me),
                    };
                    let status = apply_status(conn, &c, &update, &public_url, now)?;
                    ChangeResult {
                        number: c.number.clone(),
                        status,
                        revocation_proposed: false,
                    }
                }
            };
            let action = match change {
                Change::Suspend { .. } => "credential_suspend",
                Change::Reinstate => "credential_reinstate",
                Change::Revoke if result.revocation_proposed => "credential_propose_revocation",
                Change::Revoke => "credential_revoke",
            };
            audit::record(conn, &audit::event(&caller, action, target, Outcome::Ok))?;
            Ok(result)
        })
        .await;
    let action = match change {
        Change::Suspend { .. } => "credential_suspend",
        Change::Reinstate => "credential_reinstate",
        Change::Revoke => "credential_revoke",
    };
    audited(
        ctx,
        &audit_caller,
        action,
        format!("credential:{audit_number}"),
        result,
    )
    .await
}

/// The end of a suspension, when one is given: a valid time in the future.
fn suspension_end(change: Change, now: NaiveDateTime) -> Result<Option<NaiveDateTime>> {
    if let Change::Suspend { until: Some(t) } = change {
        dates::time("until", t)?;
    }
    Ok(match change {
        Change::Suspend { until: Some(t) } if t <= utc(now) => {
            return Err(Error::invalid(
                "until",
                "the end of a suspension must be in the future",
            ));
        }
        Change::Suspend { until } => until.map(|t| t.naive_utc()),
        _ => None,
    })
}

/// The first step of a revocation: proposed, waiting for a second member;
/// the status stays as it is.
fn propose_revocation(
    conn: &mut DbConn,
    c: &CredentialRow,
    me: PersonId,
    reason: &str,
    now: NaiveDateTime,
) -> Result<ChangeResult> {
    let from = c.status;
    credential::apply(from, StatusAction::Revoke)
        .map_err(|e| Error::conflict("status", e.to_string()))?;
    store_credentials::propose_revocation(conn, c.id, me, reason, now)?;
    write_event(
        conn,
        &c.number,
        &NewEvent {
            credential_id: c.id,
            action: "propose_revocation",
            from: Some(from),
            to: from,
            reason,
            actor_id: Some(me),
        },
        now,
    )?;
    Ok(ChangeResult {
        number: c.number.clone(),
        status: from,
        revocation_proposed: true,
    })
}

// ----- jobs: expiry, reminders, the end of suspensions -----

/// Expires active credentials past their date; returns how many.
pub fn expire_due(db: &Db, public_url: &str) -> Result<usize> {
    sweep(
        db,
        public_url,
        Status::Active,
        |c, now| c.valid_until <= now,
        StatusAction::Expire,
        "the validity period ended",
    )
}

/// Reinstates suspended credentials whose suspension period has ended.
pub fn end_suspensions(db: &Db, public_url: &str) -> Result<usize> {
    sweep(
        db,
        public_url,
        Status::Suspended,
        |c, now| c.suspended_until.is_some_and(|t| t <= now),
        StatusAction::Reinstate,
        "the suspension period ended",
    )
}

/// A job's sweep: applies `action` to every credential in status `from`
/// that is `due`, each checked again under its lock (another instance may
/// have got there first); returns how many.
fn sweep(
    db: &Db,
    public_url: &str,
    from: Status,
    due: impl Fn(&CredentialRow, NaiveDateTime) -> bool,
    action: StatusAction,
    reason: &str,
) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut n = 0;
        for candidate in store_credentials::credentials_with_status(conn, from)? {
            if !due(&candidate, now) {
                continue;
            }
            let Some(c) = store_credentials::lock_credential(conn, candidate.id)? else {
                continue;
            };
            if c.status == from && due(&c, now) {
                let update = Update {
                    action,
                    reason,
                    suspended_until: None,
                    actor: None,
                };
                apply_status(conn, &c, &update, public_url, now)?;
                n += 1;
            }
        }
        Ok(n)
    })
}

/// Emails holders 90 and 30 days before their credential expires.
pub fn remind_expiring(db: &Db, public_url: &str) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut n = 0;
        for c in store_credentials::credentials_with_status(conn, Status::Active)? {
            let mut sent = Vec::new();
            if c.reminded_90_at.is_some() {
                sent.push(90);
            }
            if c.reminded_30_at.is_some() {
                sent.push(30);
            }
            if let Some(days) = credential::reminder_due(utc(c.valid_until), utc(now), &sent) {
                notify(
                    conn,
                    &c.number,
                    CredentialNotice::Expiring { days },
                    utc(c.valid_until),
                    public_url,
                    now,
                )?;
                store_credentials::mark_reminded(conn, c.id, days, now)?;
                n += 1;
            }
        }
        Ok(n)
    })
}

// ----- what people see -----

/// One change of a credential.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// `issue`, `renew`, `suspend`, `reinstate`, `revoke`, `expire` or
    /// `propose_revocation`.
    pub action: String,
    /// The status before; null for the issue.
    pub status_from: Option<Status>,
    /// The status after.
    pub status_to: Status,
    /// The reason given; may be empty.
    pub reason: String,
    /// When (RFC 3339 UTC).
    pub at: DateTime<Utc>,
}

/// A credential as its holder and the committee see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// The credential number.
    pub number: String,
    /// The holder's person id.
    #[schema(value_type = i64)]
    pub holder_id: PersonId,
    /// The holder's name.
    pub holder_name: String,
    /// The holder's institution; null if none.
    pub institution: Option<String>,
    /// The track's key (the credential's scope).
    pub track_key: String,
    /// The track's title.
    pub track_title: String,
    /// When it was issued (RFC 3339 UTC).
    pub issued_at: DateTime<Utc>,
    /// The start of its validity (RFC 3339 UTC).
    pub valid_from: DateTime<Utc>,
    /// The end of its validity (RFC 3339 UTC).
    pub valid_until: DateTime<Utc>,
    /// As it reads now (an active credential past its date reads expired).
    pub status: Status,
    /// The reason given with the latest status change; null if none.
    pub status_reason: Option<String>,
    /// When a suspension ends by itself (RFC 3339 UTC); null if not suspended or without an
    /// end.
    pub suspended_until: Option<DateTime<Utc>>,
    /// A revocation proposed and waiting for a second committee member.
    pub revocation_proposed: bool,
    /// Every change, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The public page that verifies it (also in its QR code).
    pub verify_url: String,
}

fn view(conn: &mut DbConn, c: CredentialRow, public_url: &str) -> Result<CredentialView> {
    let person = people::find(conn, c.person_id)?.ok_or(Error::NotFound)?;
    let institution = match person.institution_id {
        Some(id) => institutions::find(conn, id)?.map(|i| i.name),
        None => None,
    };
    let track = store_training::find_track_by_id(conn, c.track_id)?.ok_or(Error::NotFound)?;
    let history = store_credentials::events_of(conn, c.id)?
        .into_iter()
        .map(|e| HistoryEntry {
            status_from: e.status_from,
            status_to: e.status_to,
            action: e.action,
            reason: e.reason,
            at: utc(e.at),
        })
        .collect();
    let stored = c.status;
    Ok(CredentialView {
        verify_url: Urls::new(public_url).verify(&c.number),
        status: credential::effective(stored, utc(c.valid_until), crate::clock::now()),
        number: c.number,
        holder_id: c.person_id,
        holder_name: person.name,
        institution,
        track_key: track.track_key,
        track_title: track.title,
        issued_at: utc(c.issued_at),
        valid_from: utc(c.valid_from),
        valid_until: utc(c.valid_until),
        status_reason: c.status_reason,
        suspended_until: c.suspended_until.map(utc),
        revocation_proposed: c.revoke_proposed_by.is_some(),
        history,
    })
}

/// Reads a credential for its holder, an impartial committee member or an
/// admin (`domain::committee::may_read`); anyone else is refused (and
/// audited).
async fn readable(ctx: &Ctx, caller: &Caller, number: String) -> Result<CredentialRow> {
    let lookup = number.clone();
    let reader = caller.clone();
    let found = ctx
        .db
        .read(move |conn| {
            let Some(c) = store_credentials::credential_by_number(conn, &lookup)? else {
                return Ok(None);
            };
            Ok(may_read(conn, &reader, Subject::Credential, c.person_id)?.then_some(c))
        })
        .await;
    let target = format!("credential:{number}");
    match audited(ctx, caller, "credential_read", target, found).await? {
        Some(c) => Ok(c),
        None => {
            refuse(
                ctx,
                caller,
                "credential_read",
                format!("credential:{number}"),
            )
            .await
        }
    }
}

pub async fn credential(ctx: &Ctx, caller: &Caller, number: String) -> Result<CredentialView> {
    let c = readable(ctx, caller, number).await?;
    let public_url = ctx.settings.public_url.clone();
    ctx.db.read(move |conn| view(conn, c, &public_url)).await
}

/// The caller's own credentials.
pub async fn mine(ctx: &Ctx, caller: &Caller) -> Result<Vec<CredentialView>> {
    let me = person(ctx, caller).await?.id;
    let public_url = ctx.settings.public_url.clone();
    ctx.db
        .read(move |conn| {
            store_credentials::credentials_of(conn, me)?
                .into_iter()
                .map(|c| view(conn, c, &public_url))
                .collect()
        })
        .await
}

/// Every credential (committee and admins).
pub async fn all(ctx: &Ctx, caller: &Caller) -> Result<Vec<CredentialView>> {
    require(ctx, caller, Permission::ReadCases).await?;
    let public_url = ctx.settings.public_url.clone();
    ctx.db
        .read(move |conn| {
            store_credentials::all_credentials(conn)?
                .into_iter()
                .map(|(c, _)| view(conn, c, &public_url))
                .collect()
        })
        .await
}

/// The signed Open Badges 3.0 credential (a JWT), for the holder to keep and
/// share, or for the committee.
pub async fn signed(ctx: &Ctx, caller: &Caller, number: String) -> Result<String> {
    let c = readable(ctx, caller, number).await?;
    sign(ctx, c).await
}

/// The credential as a badge image: a PNG of the badge with the signed
/// credential baked in (Open Badges 3.0 baking, `domain::badge_image`),
/// for the holder to keep or upload where badges are shown.
pub async fn badge_png(ctx: &Ctx, caller: &Caller, number: String) -> Result<Vec<u8>> {
    let c = readable(ctx, caller, number).await?;
    bake(ctx, c).await
}

/// The same badge image for anyone, from the public page (no sign-in;
/// limited per address like every public lookup). The public page already
/// shows what the baked credential says. With the number as written on it.
pub async fn public_badge_png(
    ctx: &Ctx,
    address: Option<String>,
    number: String,
) -> Result<(String, Vec<u8>)> {
    let number = public_number(ctx, address, &number).await?;
    let c = ctx
        .db
        .read(move |conn| {
            store_credentials::credential_by_number(conn, &number)?.ok_or(Error::NotFound)
        })
        .await?;
    let number = c.number.clone();
    Ok((number, bake(ctx, c).await?))
}

/// The one place that makes the badge image of a credential.
async fn bake(ctx: &Ctx, c: CredentialRow) -> Result<Vec<u8>> {
    // The same rule as the public page and the gate: an active credential
    // past its date is not live.
    let live = credential::live(c.status, utc(c.valid_until), crate::clock::now());
    let tone = if live {
        badge_image::Tone::Live
    } else {
        badge_image::Tone::NotLive
    };
    let jwt = sign(ctx, c).await?;
    badge_image::baked_png(&jwt, tone).map_err(|e| Error::internal_from("the badge image", e))
}

/// Signs a credential as an Open Badges 3.0 JWT, as of now.
async fn sign(ctx: &Ctx, c: CredentialRow) -> Result<String> {
    let urls = Urls::new(&ctx.settings.public_url);
    let keys = ctx.keys.clone();
    ctx.db
        .read(move |conn| {
            let signer = keys.signer(conn)?;
            let person = people::find(conn, c.person_id)?.ok_or(Error::NotFound)?;
            let track =
                store_training::find_track_by_id(conn, c.track_id)?.ok_or(Error::NotFound)?;
            let holder_ref = person
                .holder_ref
                .ok_or_else(|| Error::internal("a credential holder without a reference"))?;
            let standing_list = urls.status_list(Purpose::Standing);
            let criteria = criteria_of(&track.title);
            let vc = signing::open_badge(&BadgeInput {
                credential_url: &urls.credential(&c.number),
                issuer_url: &urls.issuer(),
                issuer_name: ISSUER_NAME,
                subject_url: &urls.holder(&holder_ref),
                holder_name: &person.name,
                achievement_url: &urls.achievement(&track.track_key),
                achievement_name: &track.title,
                achievement_description: &track.description,
                criteria: &criteria,
                number: &c.number,
                valid_from: utc(c.valid_from),
                valid_until: utc(c.valid_until),
                // The revocation index is unique among credentials, so it
                // serves as the entry on the standing list too.
                status: StatusEntry {
                    list_url: &standing_list,
                    index: u32::try_from(c.revocation_index)
                        .map_err(|e| Error::internal_from("the credential's status index", e))?,
                },
            });
            signer
                .sign(&signing::jwt_claims(&vc))
                .map_err(|e| Error::internal_from(format!("signing credential {}", c.number), e))
        })
        .await
}

/// How long verifiers may cache a status list.
pub const STATUS_LIST_TTL_MS: u64 = 5 * 60 * 1000;

/// A signed status list credential: the bits of every revoked (or
/// suspended) credential, as of now.
pub async fn status_list(ctx: &Ctx, purpose: Purpose) -> Result<String> {
    let urls = Urls::new(&ctx.settings.public_url);
    let keys = ctx.keys.clone();
    ctx.db
        .read(move |conn| {
            let signer = keys.signer(conn)?;
            let bits = list_bits(conn, purpose)?;
            let list_url = urls.status_list(purpose);
            let vc = signing::status_list_credential(
                &list_url,
                &urls.issuer(),
                ISSUER_NAME,
                purpose.status_purpose(),
                &bits.encode(),
                crate::clock::now(),
                STATUS_LIST_TTL_MS,
            );
            signer
                .sign(&signing::jwt_claims(&vc))
                .map_err(|e| Error::internal_from("signing the status list", e))
        })
        .await
}

/// The bits of one list as of now: on the standing list each suspended or
/// revoked credential's two-bit entry says which; on the older lists each
/// revoked (or suspended) credential's bit is set.
fn list_bits(conn: &mut DbConn, purpose: Purpose) -> Result<Bitstring> {
    let out_of_range = |e: status_list::StatusListError| Error::internal_from("the status list", e);
    let with = |conn: &mut DbConn, status: Status| {
        store_credentials::credentials_with_status(conn, status)
    };
    Ok(match purpose {
        Purpose::Standing => {
            let mut bits = Bitstring::new(status_list::MIN_BITS * status_list::STANDING_BITS);
            for (status, standing) in [
                (Status::Suspended, Standing::Suspended),
                (Status::Revoked, Standing::Revoked),
            ] {
                for c in with(conn, status)? {
                    let index = usize::try_from(c.revocation_index)
                        .map_err(|e| Error::internal_from("the credential's status index", e))?;
                    bits.set_entry(index, status_list::STANDING_BITS, standing.code())
                        .map_err(out_of_range)?;
                }
            }
            bits
        }
        Purpose::Revocation | Purpose::Suspension => {
            let mut bits = Bitstring::new(status_list::MIN_BITS);
            let status = if purpose == Purpose::Revocation {
                Status::Revoked
            } else {
                Status::Suspended
            };
            for c in with(conn, status)? {
                let index = if purpose == Purpose::Revocation {
                    c.revocation_index
                } else {
                    c.suspension_index
                };
                let index = usize::try_from(index)
                    .map_err(|e| Error::internal_from("the credential's status index", e))?;
                bits.set(index, true).map_err(out_of_range)?;
            }
            bits
        }
    })
}

/// What a holder of the track's credential did to earn it.
fn criteria_of(track_title: &str) -> String {
    format!(
        "Completed the {track_title} training, passed the written exam and the double-marked case assessment, and was approved by the alliance committee."
    )
}

/// The achievement of a track's credential, as OB 3.0 JSON-LD: what the
/// `achievement.id` of every such credential resolves to, for anyone.
pub async fn achievement(ctx: &Ctx, key: String) -> Result<serde_json::Value> {
    let urls = Urls::new(&ctx.settings.public_url);
    ctx.db
        .read(move |conn| {
            let track = store_training::find_track(conn, &key)?.ok_or(Error::NotFound)?;
            let mut json = signing::achievement(
                &urls.achievement(&track.track_key),
                &track.title,
                &track.description,
                &criteria_of(&track.title),
            );
            if let Some(members) = json.as_object_mut() {
                members.insert(
                    "@context".to_owned(),
                    serde_json::json!([signing::OB_V3_CONTEXT]),
                );
            }
            Ok(json)
        })
        .await
}

/// The issuer's profile (the `issuer.id` of every credential resolves here).
///
/// It names the keys its credentials are signed with, each as a
/// `JsonWebKey` verification method (W3C Controlled Identifiers) whose id is
/// the key's URL: the one that signs now and any retired one whose
/// credentials may still be in holders' hands.
pub async fn issuer_profile(ctx: &Ctx) -> Result<serde_json::Value> {
    let urls = Urls::new(&ctx.settings.public_url);
    let methods: Vec<serde_json::Value> = signer(ctx)
        .await?
        .jwks()
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .map(|jwk| {
            let kid = jwk
                .get("kid")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            let thumbprint = kid.rsplit('/').next().unwrap_or(kid);
            serde_json::json!({
                "id": format!("{}/{thumbprint}", urls.keys()),
                "type": "JsonWebKey",
                "controller": urls.issuer(),
                "publicKeyJwk": jwk,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "@context": [signing::VC_V2_CONTEXT, signing::OB_V3_CONTEXT],
        "id": urls.issuer(),
        "type": ["Profile"],
        "name": ISSUER_NAME,
        "verificationMethod": methods,
    }))
}

/// The signer as of now (the published keys and the one that signs).
pub async fn signer(ctx: &Ctx) -> Result<std::sync::Arc<Signer>> {
    let keys = ctx.keys.clone();
    ctx.db.read(move |conn| keys.signer(conn)).await
}

/// What anyone may see of a credential: no more than a verifier needs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicView {
    /// The credential number.
    pub number: String,
    /// The holder's name.
    pub holder_name: String,
    /// The holder's institution; null if none.
    pub institution: Option<String>,
    /// The track (its scope).
    pub track_title: String,
    /// When it was issued (RFC 3339 UTC).
    pub issued_at: DateTime<Utc>,
    /// The start of its validity (RFC 3339 UTC): the issue, or the latest
    /// renewal.
    pub valid_from: DateTime<Utc>,
    /// The end of its validity (RFC 3339 UTC).
    pub valid_until: DateTime<Utc>,
    /// Its status now.
    pub status: Status,
    /// When the current status began.
    pub status_since: DateTime<Utc>,
    /// Whether the holder shows their photo here (their consent, given and
    /// withdrawn on their account's photo page).
    pub has_photo: bool,
}

/// The number of a public lookup (the verify page, the badge, the photo),
/// in its canonical form, once the lookup has been counted against the
/// caller's address: every public lookup is limited the same way.
pub async fn public_number(ctx: &Ctx, address: Option<String>, number: &str) -> Result<String> {
    ctx.verify_throttle
        .check(&ctx.db, address.as_deref())
        .await?;
    let parsed =
        CredentialNumber::parse(number).map_err(|e| Error::invalid("number", e.to_string()))?;
    Ok(parsed.to_string())
}

/// Public verification by number (no sign-in; limited per address).
pub async fn verify(ctx: &Ctx, address: Option<String>, number: String) -> Result<PublicView> {
    let number = public_number(ctx, address, &number).await?;
    ctx.db
        .read(move |conn| {
            let c =
                store_credentials::credential_by_number(conn, &number)?.ok_or(Error::NotFound)?;
            let has_photo = store::photos::find(conn, c.person_id)?.is_some_and(|p| p.public);
            let v = view(conn, c, "")?;
            let status_since = v
                .history
                .iter()
                .rev()
                .find(|h| h.status_from != Some(h.status_to))
                .map_or(v.issued_at, |h| h.at);
            let status_since = if v.status == Status::Expired && status_since < v.valid_until {
                v.valid_until
            } else {
                status_since
            };
            Ok(PublicView {
                number: v.number,
                holder_name: v.holder_name,
                institution: v.institution,
                track_title: v.track_title,
                issued_at: v.issued_at,
                valid_from: v.valid_from,
                valid_until: v.valid_until,
                status: v.status,
                status_since,
                has_photo,
            })
        })
        .await
}

/// A credential's public page, as its QR codes encode it.
pub fn verify_url(ctx: &Ctx, number: &str) -> String {
    Urls::new(&ctx.settings.public_url).verify(number)
}

/// The QR code (SVG) that points to a credential's verification page.
pub fn qr_svg(ctx: &Ctx, number: &str) -> Result<String> {
    let url = verify_url(ctx, number);
    let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::internal_from("the verification QR code", e))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build())
}
