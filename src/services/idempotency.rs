//! Creates made at most once per `Idempotency-Key` (the rule is
//! `domain::idempotency`). A create that takes a key runs through [`run`]:
//! a kept answer is replayed (or a reused key refused) before anything is
//! written; otherwise the create runs and, in its own transaction, calls
//! [`keep`], so the answer is kept exactly when the create commits. The
//! unique index on (owner, key) stops two concurrent requests with one key
//! from both creating: the second's transaction fails and it answers with
//! the first's kept answer.

use std::future::Future;

use serde::Serialize;

use crate::domain::idempotency::{self, Decision, IdempotencyKey, Kept};
use crate::error::{Error, Result};
use crate::services::{Caller, Ctx};
use crate::store::{self, DbConn, idempotency as store_idem};

/// How a create's answer is written, so it can be kept: the API's JSON for
/// what was created (the same text the API answers with).
pub type Render<V> = fn(&V) -> serde_json::Result<String>;

/// A key sent with a create, and how to write the create's answer.
pub struct Idempotent<V> {
    pub key: IdempotencyKey,
    pub render: Render<V>,
}

/// What a keyed create answers: what it created now, or the answer kept
/// from the first time (its JSON body).
#[derive(Debug)]
pub enum Created<V> {
    New(V),
    Replayed(String),
}

/// One create's claim on a key: whose key, which key, which request.
pub struct Once<V> {
    owner: String,
    key: String,
    request_hash: String,
    render: Render<V>,
}

impl<V> Clone for Once<V> {
    fn clone(&self) -> Self {
        Once {
            owner: self.owner.clone(),
            key: self.key.clone(),
            request_hash: self.request_hash.clone(),
            render: self.render,
        }
    }
}

impl<V> Once<V> {
    /// `operation` names the create (`referral_open`); `input` is what the
    /// caller asked for. A personal token acts as its person, so a person's
    /// retry with a new token still finds the key.
    pub fn new<I: Serialize>(
        caller: &Caller,
        idem: Idempotent<V>,
        operation: &str,
        input: &I,
    ) -> Result<Once<V>> {
        let input = serde_json::to_value(input)
            .map_err(|e| Error::internal_from("idempotent input to JSON", e))?;
        Ok(Once {
            owner: caller.label(),
            key: idem.key.as_str().to_owned(),
            request_hash: idempotency::fingerprint(operation, &input),
            render: idem.render,
        })
    }
}

fn look_up<V>(conn: &mut DbConn, once: &Once<V>) -> Result<Decision> {
    let row = store_idem::find(conn, &once.owner, &once.key)?;
    let kept = row.as_ref().map(|r| Kept {
        request_hash: &r.request_hash,
        response: &r.response,
        created_at: r.created_at,
    });
    Ok(idempotency::decide(kept, &once.request_hash, store::now()))
}

/// Runs `create` once per key. Without a key it simply runs.
pub async fn run<V, F, Fut>(ctx: &Ctx, once: Option<Once<V>>, create: F) -> Result<Created<V>>
where
    V: Send + 'static,
    F: FnOnce(Option<Once<V>>) -> Fut,
    Fut: Future<Output = Result<V>>,
{
    let Some(once) = once else {
        return create(None).await.map(Created::New);
    };
    let check = once.clone();
    match ctx.db.read(move |conn| look_up(conn, &check)).await? {
        Decision::Replay(body) => return Ok(Created::Replayed(body)),
        Decision::Mismatch => return Err(idempotency::mismatch()),
        Decision::Create => {}
    }
    let check = once.clone();
    match create(Some(once)).await {
        Ok(v) => Ok(Created::New(v)),
        // A request with the same key may have committed meanwhile (our
        // `keep` then broke the unique index): its answer is ours.
        Err(e) => match ctx.db.read(move |conn| look_up(conn, &check)).await {
            Ok(Decision::Replay(body)) => {
                tracing::info!("idempotent create answered by a concurrent one");
                Ok(Created::Replayed(body))
            }
            Ok(Decision::Mismatch) => Err(idempotency::mismatch()),
            _ => Err(e),
        },
    }
}

/// Keeps the create's answer under its key, inside the create's transaction.
pub fn keep<V>(conn: &mut DbConn, once: &Once<V>, created: &V) -> Result<()> {
    let now = store::now();
    let response =
        (once.render)(created).map_err(|e| Error::internal_from("idempotent answer to JSON", e))?;
    // An answer kept more than 24 hours ago no longer holds the key.
    store_idem::forget_expired(conn, &once.owner, &once.key, now - idempotency::retention())?;
    store_idem::insert(
        conn,
        &store_idem::NewIdempotencyRow {
            owner: &once.owner,
            idem_key: &once.key,
            request_hash: &once.request_hash,
            response: &response,
            created_at: now,
        },
    )?;
    Ok(())
}

/// Forgets every answer kept longer than 24 hours (the hourly sweep).
pub fn purge(conn: &mut DbConn) -> Result<usize> {
    Ok(store_idem::purge(
        conn,
        store::now() - idempotency::retention(),
    )?)
}
