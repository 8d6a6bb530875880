//! Idempotent creates (the `Idempotency-Key` request header, as in the
//! IETF httpapi draft and Stripe's API). A client that may send the same
//! create twice — a retry after a lost answer, a double click — names the
//! request with a key of its own. The first successful create under a key
//! is kept with its answer for 24 hours; the same key from the same caller
//! with the same request gets that answer again and creates nothing; the
//! same key with a different request is refused (422, the draft's status).
//! A create that failed keeps nothing, so a retry is evaluated afresh.

use chrono::{Duration, NaiveDateTime};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The request header, also the `field` of its errors.
pub const HEADER: &str = "Idempotency-Key";

/// How long a key and its answer are kept.
pub fn retention() -> Duration {
    Duration::hours(24)
}

/// The longest key accepted (a UUID is 36).
pub const MAX_LEN: usize = 255;

/// A client's key for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters; the quotes of a structured-field
    /// string (`"…"`, the draft's form) are taken off.
    pub fn parse(value: &str) -> Result<IdempotencyKey, Error> {
        let v = value.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        if v.is_empty() || v.len() > MAX_LEN || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid(
                HEADER,
                "must be 1 to 255 visible ASCII characters, such as a UUID",
            ));
        }
        Ok(IdempotencyKey(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What identifies a request under a key: SHA-256 over the operation's name
/// and its input as canonical JSON (members sorted), so the same request
/// written with its members in another order is the same request.
pub fn fingerprint(operation: &str, input: &Value) -> String {
    let mut text = String::from(operation);
    text.push('\n');
    canonical(input, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// What to do with a request under a key, given what is kept under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing kept (or only an expired answer): create, and keep the answer.
    Create,
    /// The same request again: answer with the kept body, create nothing.
    Replay(String),
    /// Another request under the same key: refuse.
    Mismatch,
}

/// A kept answer, as the rule needs it.
pub struct Kept<'a> {
    pub request_hash: &'a str,
    pub response: &'a str,
    pub created_at: NaiveDateTime,
}

/// The rule.
pub fn decide(kept: Option<Kept<'_>>, request_hash: &str, now: NaiveDateTime) -> Decision {
    match kept {
        Some(k) if now - k.created_at < retention() => {
            if k.request_hash == request_hash {
                Decision::Replay(k.response.to_owned())
            } else {
                Decision::Mismatch
            }
        }
        _ => Decision::Create,
    }
}

/// The refusal of a key reused for another request.
pub fn mismatch() -> Error {
    Error::invalid(
        HEADER,
        "was already used for a different request in the last 24 hours; use a new key",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        let k = |s: &str| IdempotencyKey::parse(s).map(|k| k.as_str().to_owned());
        assert_eq!(
            k("8e03978e-40d5-43e8-bc93-6894a57f9324").ok().as_deref(),
            Some("8e03978e-40d5-43e8-bc93-6894a57f9324")
        );
        assert_eq!(k("\"abc\"").ok().as_deref(), Some("abc"));
        assert_eq!(k("  abc  ").ok().as_deref(), Some("abc"));
        assert_eq!(k(&"x".repeat(255)).ok().map(|s| s.len()), Some(255));
        for bad in ["", "  ", "\"\"", "a b", "clé", "a\tb", &"x".repeat(256)] {
            let e = k(bad).err();
            assert_eq!(e.as_ref().and_then(Error::field), Some(HEADER), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_member_order_only() {
        let a = fingerprint(
            "referral_open",
            &json!({"a": 1, "b": {"y": [1, 2], "x": "s"}}),
        );
        let b = fingerprint(
            "referral_open",
            &json!({"b": {"x": "s", "y": [1, 2]}, "a": 1}),
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            fingerprint(
                "referral_open",
                &json!({"a": 1, "b": {"y": [2, 1], "x": "s"}})
            )
        );
        assert_ne!(
            a,
            fingerprint(
                "referral_open",
                &json!({"a": 2, "b": {"y": [1, 2], "x": "s"}})
            )
        );
        assert_ne!(
            a,
            fingerprint(
                "exam_schedule",
                &json!({"a": 1, "b": {"y": [1, 2], "x": "s"}})
            )
        );
        assert_ne!(
            fingerprint("o", &json!({"a": "1"})),
            fingerprint("o", &json!({"a": 1}))
        );
    }

    #[test]
    fn a_kept_answer_is_replayed_for_24_hours_to_the_same_request_only() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default();
        let kept = |at| {
            Some(Kept {
                request_hash: "h1",
                response: "{\"id\":1}",
                created_at: at,
            })
        };
        assert_eq!(decide(None, "h1", t0), Decision::Create);
        assert_eq!(
            decide(kept(t0), "h1", t0 + Duration::hours(23)),
            Decision::Replay("{\"id\":1}".into())
        );
        assert_eq!(decide(kept(t0), "h2", t0), Decision::Mismatch);
        assert_eq!(
            decide(
                kept(t0),
                "h2",
                t0 + Duration::hours(23) + Duration::minutes(59)
            ),
            Decision::Mismatch
        );
        // After 24 hours the key is free again, for any request.
        assert_eq!(
            decide(kept(t0), "h1", t0 + Duration::hours(24)),
            Decision::Create
        );
        assert_eq!(
            decide(kept(t0), "h2", t0 + Duration::days(2)),
            Decision::Create
        );
    }
}
