//! Secrets handed to clients: session cookies, one-time password links and API
//! tokens. Each is 32 random bytes; only its SHA-256 is stored, so a copy of
//! the database cannot be replayed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A fresh secret with a readable prefix saying what it is (`gks_` session,
/// `gkp_` password link, `gki_` integration token, `gkt_` personal token),
/// which also lets secret scanners recognise a leaked one.
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database stores for a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub const SESSION_PREFIX: &str = "gks_";
pub const PASSWORD_LINK_PREFIX: &str = "gkp_";

/// How long a link from "forgotten password" works (OWASP: short-lived).
pub const RESET_LINK_MINUTES: i64 = 60;

/// A person gets at most one "forgotten password" email in this time, so
/// that nobody can flood a colleague's inbox from the public form.
pub const RESET_SPACING_MINUTES: i64 = 5;

/// Whether a new reset link may be sent, given when the person's newest
/// unused password link (setup or reset) was made. (A used link does not
/// count: whoever used it may forget the password again at once.)
pub fn may_send_reset(
    last_link_at: Option<chrono::NaiveDateTime>,
    now: chrono::NaiveDateTime,
) -> bool {
    last_link_at.is_none_or(|t| now - t >= chrono::Duration::minutes(RESET_SPACING_MINUTES))
}
pub const INTEGRATION_PREFIX: &str = "gki_";
pub const PERSONAL_PREFIX: &str = "gkt_";

/// Who an API token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Issued by an admin to another hospital system; rights come from scopes.
    Integration,
    /// Obtained by a person with their password; acts as that person.
    Personal,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Integration => "integration",
            TokenKind::Personal => "personal",
        }
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        match s {
            "integration" => Some(TokenKind::Integration),
            "personal" => Some(TokenKind::Personal),
            _ => None,
        }
    }
}

/// What an integration token may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum Scope {
    #[serde(rename = "institutions:read")]
    InstitutionsRead,
    #[serde(rename = "institutions:write")]
    InstitutionsWrite,
    #[serde(rename = "people:read")]
    PeopleRead,
    #[serde(rename = "people:write")]
    PeopleWrite,
    /// Ask whether a doctor may refer now (RFC 7662 introspection).
    #[serde(rename = "credentials:introspect")]
    CredentialsIntrospect,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::InstitutionsRead,
        Scope::InstitutionsWrite,
        Scope::PeopleRead,
        Scope::PeopleWrite,
        Scope::CredentialsIntrospect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::InstitutionsRead => "institutions:read",
            Scope::InstitutionsWrite => "institutions:write",
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::CredentialsIntrospect => "credentials:introspect",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// What the scope lets an integration do, for the API's documentation.
    pub fn purpose(self) -> &'static str {
        match self {
            Scope::InstitutionsRead => "list and read institutions",
            Scope::InstitutionsWrite => "create and change institutions",
            Scope::PeopleRead => "list and read people",
            Scope::PeopleWrite => "create and change people, send set-up links",
            Scope::CredentialsIntrospect => {
                "ask whether a doctor may refer now (POST /api/v1/credentials/introspect, RFC 7662)"
            }
        }
    }
}

/// Parses requested scopes; at least one, none unknown.
pub fn parse_scopes<S: AsRef<str>>(field: &str, names: &[S]) -> Result<Vec<Scope>> {
    let mut scopes = Vec::new();
    for name in names {
        let name = name.as_ref();
        scopes.push(Scope::parse(name).ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "unknown scope \"{name}\"; scopes are {}",
                    Scope::ALL.map(Scope::as_str).join(", ")
                ),
            )
        })?);
    }
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(Error::invalid(field, "choose at least one scope"));
    }
    Ok(scopes)
}

/// Scopes as stored: space-separated, like OAuth's `scope`.
pub fn join_scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stored scopes back to values; anything unknown (from a newer version) is
/// ignored rather than granted.
pub fn split_scopes(stored: &str) -> Vec<Scope> {
    stored.split_whitespace().filter_map(Scope::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_links_are_spaced_per_person() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|t| t.naive_utc())
            .unwrap_or_default();
        let ago = |m| now - chrono::Duration::minutes(m);
        assert!(may_send_reset(None, now));
        assert!(!may_send_reset(Some(now), now));
        assert!(!may_send_reset(Some(ago(RESET_SPACING_MINUTES - 1)), now));
        assert!(may_send_reset(Some(ago(RESET_SPACING_MINUTES)), now));
        assert!(may_send_reset(Some(ago(600)), now));
    }

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let a = generate(SESSION_PREFIX);
        let b = generate(SESSION_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("gks_"));
        assert_eq!(a.len(), 4 + 43);
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn scopes_parse_store_and_refuse_unknowns() {
        let s = parse_scopes(
            "scopes",
            &["people:read", "institutions:read", "people:read"],
        );
        assert_eq!(
            s.as_ref().ok(),
            Some(&vec![Scope::InstitutionsRead, Scope::PeopleRead])
        );
        let stored = join_scopes(&s.unwrap_or_default());
        assert_eq!(stored, "institutions:read people:read");
        assert_eq!(
            split_scopes(&stored),
            vec![Scope::InstitutionsRead, Scope::PeopleRead]
        );
        assert_eq!(
            split_scopes("people:read admin:everything"),
            vec![Scope::PeopleRead]
        );
        assert!(parse_scopes("scopes", &["root"]).is_err());
        assert!(parse_scopes::<&str>("scopes", &[]).is_err());
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn kinds_round_trip() {
        for k in [TokenKind::Integration, TokenKind::Personal] {
            assert_eq!(TokenKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(TokenKind::parse("admin"), None);
    }
}
