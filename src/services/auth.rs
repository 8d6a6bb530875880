//! Signing in and out, sessions, and API bearer tokens.

use chrono::NaiveDateTime;

use crate::config::Tuning;
use crate::domain::access::{Actor, Principal};
use crate::domain::locale::Locale;
use crate::domain::password;
use crate::domain::people::Email;
use crate::domain::roles::Role;
use crate::domain::throttle::{self, Limit};
use crate::domain::tokens::{self, TokenKind, split_scopes};
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, buckets};
use crate::store::api_tokens::{self, NewApiToken};
use crate::store::people::{self, PersonRow};
use crate::store::{self, Db, DbConn, sessions};

/// Sign-in attempts, counted by `domain::throttle`'s policy on buckets in
/// the database (`store::throttle`), so every instance behind a load
/// balancer counts on the same ones.
pub struct SignInThrottle {
    policy: throttle::Policy,
}

/// An attempt let through, counted on its buckets until it proves right.
#[must_use]
pub struct Admitted {
    keys: Vec<throttle::Key>,
}

impl SignInThrottle {
    pub fn new(t: &Tuning) -> Self {
        SignInThrottle {
            policy: throttle::Policy {
                account_at_address: Limit::new(
                    t.sign_in_account_address_burst,
                    t.sign_in_account_address_refill_secs,
                ),
                address: Limit::new(t.sign_in_address_burst, t.sign_in_address_refill_secs),
                account: Limit::new(t.sign_in_account_burst, t.sign_in_account_refill_secs),
                device: Limit::new(t.sign_in_device_burst, t.sign_in_device_refill_secs),
            },
        }
    }

    /// Counts one attempt on each of its buckets, or refuses with the
    /// longest wait when any is full (one transaction).
    pub fn admit(&self, db: &Db, attempt: &throttle::Attempt) -> Result<Admitted> {
        let keys = self.policy.keys(attempt);
        let limited: Vec<(String, Limit)> = keys
            .iter()
            .map(|(key, limit)| (key.stored(), *limit))
            .collect();
        db.write_blocking(|conn| buckets::count(conn, &limited))?
            .map_err(|retry_after| Error::Throttled { retry_after })?;
        Ok(Admitted {
            keys: keys.into_iter().map(|(key, _)| key).collect(),
        })
    }

    /// The attempt was right: it does not count against anyone.
    pub fn succeeded(&self, db: &Db, admitted: Admitted) -> Result<()> {
        let limited: Vec<(String, Limit)> = admitted
            .keys
            .iter()
            .map(|key| (key.stored(), self.policy.limit_of(key)))
            .collect();
        db.write_blocking(|conn| buckets::refund(conn, &limited))
    }
}

/// A trusted device: the signed cookie a browser gets at a successful
/// sign-in, naming the account and a random id. Presented again at sign-in
/// to the same account, the attempt is counted on the device's own bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub account: String,
    pub id: String,
}

impl Device {
    fn new(account: &str) -> Device {
        Device {
            account: account.to_owned(),
            id: tokens::generate(""),
        }
    }

    /// The cookie's value (signed by the web layer).
    pub fn to_cookie(&self) -> String {
        format!("{}|{}", self.account, self.id)
    }

    pub fn from_cookie(value: &str) -> Option<Device> {
        let (account, id) = value.rsplit_once('|')?;
        (!account.is_empty() && !id.is_empty()).then(|| Device {
            account: account.to_owned(),
            id: id.to_owned(),
        })
    }
}

/// Checks an email and password; returns the person on success. Throttled,
/// constant-time with respect to whether the account exists, audited.
/// Runs on a blocking thread (argon2 is deliberately slow).
fn authenticate(
    ctx: &Ctx,
    raw_email: &str,
    password: &str,
    ip: Option<&str>,
    device: Option<&Device>,
    action: &str,
) -> Result<PersonRow> {
    let key = raw_email.trim().to_lowercase();
    let attempt = throttle::Attempt {
        account: &key,
        address: ip,
        trusted_device: device.filter(|d| d.account == key).map(|d| d.id.as_str()),
    };
    let audit_fail = |outcome: Outcome, detail: &str| {
        let event = audit::anonymous(
            action,
            Some(key.clone()),
            outcome,
            ip.map(str::to_owned),
            Some(detail.to_owned()),
        );
        ctx.db.write_blocking(|conn| audit::record(conn, &event))
    };
    let admitted = match ctx.throttle.admit(&ctx.db, &attempt) {
        Ok(admitted) => admitted,
        Err(e) => {
            audit_fail(Outcome::Refused, "throttled")?;
            return Err(e);
        }
    };
    let person = match Email::parse("email", raw_email) {
        Ok(email) => ctx
            .db
            .read_blocking(|conn| Ok(people::find_by_email(conn, email.as_str())?))?,
        Err(_) => None,
    };
    let hash = person
        .as_ref()
        .and_then(|p| p.password_hash.as_deref())
        .unwrap_or_else(|| password::decoy_hash());
    let matches = password::verify(password, hash);
    match person {
        Some(p) if matches && p.password_hash.is_some() => {
            ctx.throttle.succeeded(&ctx.db, admitted)?;
            if !p.active {
                audit_fail(Outcome::Refused, "deactivated")?;
                return Err(Error::AccountDisabled);
            }
            Ok(p)
        }
        _ => {
            audit_fail(Outcome::Failed, "bad credentials")?;
            Err(Error::BadCredentials)
        }
    }
}

pub struct SignedIn {
    /// The secret for the session cookie; shown to no one else.
    pub session_token: String,
    /// The browser's device cookie from now on (a new id at every sign-in).
    pub device: Device,
}

/// Signs in: a new session with a new secret every time (the old session, if
/// the browser had one, is ended by the caller), recorded in the audit trail.
pub async fn sign_in(
    ctx: &Ctx,
    email: String,
    password: String,
    ip: Option<String>,
    previous_session: Option<String>,
    device: Option<Device>,
) -> Result<SignedIn> {
    let ctx2 = ctx.clone();
    store::blocking(move || {
        let person = authenticate(
            &ctx2,
            &email,
            &password,
            ip.as_deref(),
            device.as_ref(),
            "sign_in",
        )?;
        let token = tokens::generate(tokens::SESSION_PREFIX);
        let now = store::now();
        let expires = ctx2.sessions.expires_at(now);
        let event = audit::own_account(person.id, "sign_in", ip.clone());
        ctx2.db.write_blocking(|conn| {
            if let Some(old) = &previous_session {
                sessions::delete(conn, &tokens::digest(old))?;
            }
            sessions::insert(conn, &tokens::digest(&token), person.id, now, expires)?;
            audit::record(conn, &event)
        })?;
        Ok(SignedIn {
            session_token: token,
            device: Device::new(&email.trim().to_lowercase()),
        })
    })
    .await
}

pub async fn sign_out(ctx: &Ctx, session_token: &str) -> Result<()> {
    let hash = tokens::digest(session_token);
    ctx.db
        .write(move |conn| {
            if let Some(s) = sessions::find(conn, &hash)? {
                sessions::delete(conn, &hash)?;
                let event = audit::own_account(s.person_id, "sign_out", None);
                audit::record(conn, &event)?;
            }
            Ok(())
        })
        .await
}

/// A signed-in person as the pages need them: the name the header shows,
/// the language the pages speak, and the caller the services check.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub name: String,
    pub locale: Locale,
    pub caller: Caller,
}

fn actor_of(conn: &mut store::DbConn, person: &PersonRow) -> Result<Actor> {
    Ok(actor(person, people::roles_of(conn, person.id)?))
}

/// The person as the services check her: who she is, her roles and her
/// institution.
fn actor(person: &PersonRow, roles: Vec<Role>) -> Actor {
    Actor {
        id: person.id,
        roles,
        institution_id: person.institution_id,
    }
}

/// Resolves a session cookie: `None` when the session is unknown, expired
/// (idle or absolute) or its person has been deactivated.
pub async fn session_user(
    ctx: &Ctx,
    session_token: &str,
    ip: Option<String>,
) -> Result<Option<SessionUser>> {
    let hash = tokens::digest(session_token);
    let policy = ctx.sessions;
    let db = ctx.db.clone();
    store::blocking(move || {
        let now = store::now();
        let found = db.read_blocking(|conn| {
            let Some(session) = sessions::find(conn, &hash)? else {
                return Ok(None);
            };
            let Some(person) = people::find(conn, session.person_id)? else {
                return Ok(None);
            };
            let actor = actor_of(conn, &person)?;
            Ok(Some((session, person, actor)))
        })?;
        let Some((session, person, actor)) = found else {
            return Ok(None);
        };
        if !person.active || !policy.is_live(session.expires_at, session.last_seen_at, now) {
            db.write_blocking(|conn| Ok(sessions::delete(conn, &hash)?))?;
            return Ok(None);
        }
        if policy.needs_touch(session.last_seen_at, now) {
            db.write_blocking(|conn| Ok(sessions::touch(conn, &hash, now)?))?;
        }
        Ok(Some(SessionUser {
            name: person.name,
            locale: person.locale,
            caller: Caller {
                principal: Principal::Person(actor),
                ip,
                session_hash: Some(hash),
            },
        }))
    })
    .await
}

/// How long a personal API token lives.
pub const PERSONAL_TOKEN_HOURS: i64 = 1;

pub struct IssuedToken {
    pub token: String,
    pub expires_at: Option<NaiveDateTime>,
}

/// `POST /api/v1/auth/token`: a short-lived bearer token for a person's own
/// scripts, throttled like sign-in.
pub async fn issue_personal_token(
    ctx: &Ctx,
    email: String,
    password: String,
    ip: Option<String>,
) -> Result<IssuedToken> {
    let ctx2 = ctx.clone();
    store::blocking(move || {
        // Scripts carry no device cookie: they are counted like any stranger.
        let person = authenticate(&ctx2, &email, &password, ip.as_deref(), None, "api_token")?;
        let token = tokens::generate(tokens::PERSONAL_PREFIX);
        let now = store::now();
        let expires_at = now + chrono::Duration::hours(PERSONAL_TOKEN_HOURS);
        let hash = tokens::digest(&token);
        let event = audit::own_account(person.id, "api_token_issued", ip.clone());
        ctx2.db.write_blocking(|conn| {
            api_tokens::insert(
                conn,
                &NewApiToken {
                    token_hash: &hash,
                    kind: TokenKind::Personal,
                    name: "personal",
                    person_id: Some(person.id),
                    scopes: "",
                    created_by: Some(person.id),
                    expires_at: Some(expires_at),
                },
                now,
            )?;
            audit::record(conn, &event)
        })?;
        Ok(IssuedToken {
            token,
            expires_at: Some(expires_at),
        })
    })
    .await
}

/// Looks a bearer token up by its digest: its row and who it acts as, or
/// `None` when it is unknown, revoked, expired, or its person is
/// deactivated. Runs inside another read, so a hot path (saving an exam
/// answer) authenticates and does its work in one database visit.
pub fn resolve_bearer(
    conn: &mut DbConn,
    hash: &str,
    now: chrono::NaiveDateTime,
) -> Result<Option<(api_tokens::ApiTokenRow, Principal)>> {
    let Some(found) = api_tokens::find_with_person(conn, hash)? else {
        return Ok(None);
    };
    Ok(principal_of(&found, now).map(|principal| (found.token, principal)))
}

/// Who a token found in the database speaks for at `now`: `None` when it is
/// revoked or expired, or its person is deactivated (or gone).
pub fn principal_of(
    found: &api_tokens::FoundToken,
    now: chrono::NaiveDateTime,
) -> Option<Principal> {
    let row = &found.token;
    if row.revoked_at.is_some() || row.expires_at.is_some_and(|e| e <= now) {
        return None;
    }
    match row.kind {
        TokenKind::Integration => Some(Principal::Integration {
            token_id: row.id,
            scopes: split_scopes(&row.scopes),
        }),
        TokenKind::Personal => {
            let person = found.person.as_ref()?;
            if !person.active {
                return None;
            }
            Some(Principal::Person(actor(person, found.roles.clone())))
        }
    }
}

/// Resolves an `Authorization: Bearer` token to a caller, or `None` when it
/// is unknown, revoked, expired, or its person is deactivated.
pub async fn bearer_caller(ctx: &Ctx, token: &str, ip: Option<String>) -> Result<Option<Caller>> {
    let hash = tokens::digest(token);
    let db = ctx.db.clone();
    store::blocking(move || {
        let now = store::now();
        let Some((row, principal)) = db.read_blocking(|conn| resolve_bearer(conn, &hash, now))?
        else {
            return Ok(None);
        };
        // Last use is worth knowing for an integration token (which system
        // still calls us), but not worth a write on every request, nor for a
        // person's one-hour token.
        if matches!(principal, Principal::Integration { .. })
            && row
                .last_used_at
                .is_none_or(|t| now - t >= chrono::Duration::seconds(60))
        {
            db.write_blocking(|conn| Ok(api_tokens::touch(conn, row.id, now)?))?;
        }
        Ok(Some(Caller {
            principal,
            ip,
            session_hash: None,
        }))
    })
    .await
}

/// Revokes the personal token a request came with (the API's sign-out).
/// An integration token is not the caller's to end: an admin revokes it
/// (`POST /api/v1/api-tokens/{id}/revoke`), so it is refused here, audited,
/// and keeps working.
pub async fn revoke_bearer(ctx: &Ctx, caller: &Caller, token: &str) -> Result<()> {
    if let Principal::Integration { token_id, .. } = caller.principal {
        let event = audit::event(
            caller,
            "api_token_sign_out",
            Some(format!("api_token:{token_id}")),
            Outcome::Refused,
        );
        ctx.db
            .write(move |conn| audit::record(conn, &event))
            .await?;
        return Err(Error::Refused {
            code: "integration_token",
            message:
                "an integration token cannot sign itself out; an admin revokes it under API tokens"
                    .to_owned(),
        });
    }
    let hash = tokens::digest(token);
    ctx.db
        .write(move |conn| {
            if let Some(row) = api_tokens::find_by_hash(conn, &hash)?
                && row.kind == TokenKind::Personal
            {
                api_tokens::revoke(conn, row.id, store::now())?;
            }
            Ok(())
        })
        .await
}
