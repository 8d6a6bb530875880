//! Signed credentials: Ed25519 JWTs, the JWK set verifiers fetch our public key
//! from, and the Open Badges 3.0 JSON that goes into the JWTs.
//!
//! Choices, and why:
//!
//! - One algorithm, `EdDSA` (Ed25519, RFC 8037): small keys and signatures, no
//!   parameters to get wrong, deterministic signatures (so the RFC's test
//!   vector pins our implementation), and it is what the VC-JOSE-COSE world uses.
//! - The protected header is exactly `{"alg":"EdDSA","kid":"…"}`: Open Badges
//!   3.0 forbids other JOSE header fields.
//! - The key id is the RFC 7638 JWK thumbprint, so it is derived from the key
//!   itself and changes when the key does; a verifier holding an old JWK set
//!   then fails with "unknown key", not a confusing bad signature.
//! - [`verify`] trusts only keys from the JWK set it is given (ours), never a
//!   key named by the token, and accepts one algorithm only: the classic JWT
//!   attacks (`alg: none`, HMAC keyed with the public key) have nothing to grip.
//! - The payload is the credential itself plus the registered claims OB 3.0
//!   asks for (`iss`, `jti`, `sub`, `nbf`, `exp`), with no `vc` wrapper.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::Signer as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The only JWS algorithm we sign with or accept.
pub const ALGORITHM: &str = "EdDSA";
/// The W3C Verifiable Credentials 2.0 context, always first.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context, after the VC context.
pub const OB_V3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a well-formed signed JWT")]
    Malformed,
    #[error("the token uses the algorithm {0:?}; only EdDSA is accepted")]
    Algorithm(String),
    #[error("the token header carries {0:?}, which is not accepted")]
    HeaderField(String),
    #[error("the token names a key that is not in our published key set")]
    UnknownKey,
    #[error("the token's signature does not match its contents")]
    BadSignature,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token has expired")]
    Expired,
}

/// Our signing key and its key id.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    kid: String,
}

impl fmt::Debug for Signer {
    /// Shows the key id only: the private key must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer for a 32-byte Ed25519 seed (the private key `d` of RFC 8037).
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let kid = thumbprint(&public_x(&key.verifying_key()));
        Signer { key, kid }
    }

    /// The RFC 7638 thumbprint of our public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Our public key as a JWK, for the published key set.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": public_x(&self.key.verifying_key()),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        })
    }

    /// The JWK set verifiers fetch (`{"keys": [...]}`).
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk()] })
    }

    /// A compact JWS of `claims` under the header `{"alg":"EdDSA","kid":…}`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": ALGORITHM, "kid": self.kid });
        self.sign_compact(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// `base64url(header).base64url(payload).base64url(signature)`, the
    /// signature being over the first two parts as ASCII (RFC 7515 §5.1).
    /// Separate from [`Signer::sign`] so the RFC 8037 test vector, whose header
    /// has no `kid`, can be checked byte for byte.
    fn sign_compact(&self, header: &[u8], payload: &[u8]) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

/// The JWK `x` member: the public key, base64url without padding.
fn public_x(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.to_bytes())
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no
/// whitespace. `x` is base64url, so it needs no JSON escaping.
fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Checks a compact JWS against our JWK set and the time `now`, and returns its
/// claims.
///
/// In order: the shape; the header (`alg` must be `EdDSA`, only `alg`, `kid`
/// and `typ` may appear, `typ` only as `JWT`); the key, by `kid`, from `jwks`
/// only; the signature (`verify_strict`, which also refuses weak keys and
/// non-canonical signatures); then `nbf <= now < exp` for whichever of the two
/// is present. No clock leeway is added: pass a `now` adjusted for it if needed.
pub fn verify(token: &str, jwks: &Value, now: DateTime<Utc>) -> Result<Value, VerifyError> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(VerifyError::Malformed)?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(VerifyError::Malformed)?;
    let header = decode_object(header)?;
    let kid = check_header(&header)?;
    let key = find_key(jwks, kid)?;
    let signature = decode_signature(signature)?;
    key.verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| VerifyError::BadSignature)?;
    let claims = decode_object(payload)?;
    check_times(&claims, now)?;
    Ok(Value::Object(claims))
}

/// A base64url (unpadded) JSON object, as JWS header and payload are.
fn decode_object(part: &str) -> Result<Map<String, Value>, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(VerifyError::Malformed),
    }
}

/// The 64-byte Ed25519 signature part.
fn decode_signature(part: &str) -> Result<Signature, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed)?;
    Signature::from_slice(&bytes).map_err(|_| VerifyError::Malformed)
}

/// Refuses any header but ours and returns its `kid`. The algorithm is checked
/// first so an `alg: none` or `HS256` token is reported as such.
fn check_header(header: &Map<String, Value>) -> Result<&str, VerifyError> {
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALGORITHM => {}
        Some(Value::String(alg)) => return Err(VerifyError::Algorithm(alg.clone())),
        Some(other) => return Err(VerifyError::Algorithm(other.to_string())),
        None => return Err(VerifyError::Algorithm(String::new())),
    }
    if let Some(field) = header
        .keys()
        .find(|k| !matches!(k.as_str(), "alg" | "kid" | "typ"))
    {
        return Err(VerifyError::HeaderField(field.clone()));
    }
    if header.get("typ").is_some_and(|typ| typ != "JWT") {
        return Err(VerifyError::HeaderField("typ".to_owned()));
    }
    match header.get("kid") {
        Some(Value::String(kid)) => Ok(kid),
        Some(_) => Err(VerifyError::Malformed),
        None => Err(VerifyError::UnknownKey),
    }
}

/// The Ed25519 key with this `kid` in a JWK set. A key of another type, or
/// marked for another algorithm or use, does not count.
fn find_key(jwks: &Value, kid: &str) -> Result<VerifyingKey, VerifyError> {
    let jwk = jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|jwk| {
            jwk.get("kid").and_then(Value::as_str) == Some(kid)
                && jwk.get("kty").and_then(Value::as_str) == Some("OKP")
                && jwk.get("crv").and_then(Value::as_str) == Some("Ed25519")
                && jwk.get("alg").is_none_or(|alg| alg == ALGORITHM)
                && jwk.get("use").is_none_or(|usage| usage == "sig")
        })
        .ok_or(VerifyError::UnknownKey)?;
    let x = jwk
        .get("x")
        .and_then(Value::as_str)
        .and_then(|x| URL_SAFE_NO_PAD.decode(x).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(VerifyError::UnknownKey)?;
    VerifyingKey::from_bytes(&x).map_err(|_| VerifyError::UnknownKey)
}

/// `nbf <= now < exp` (RFC 7519 NumericDate: seconds, possibly fractional).
fn check_times(claims: &Map<String, Value>, now: DateTime<Utc>) -> Result<(), VerifyError> {
    let now = seconds(now);
    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now < nbf
    {
        return Err(VerifyError::NotYetValid);
    }
    if let Some(exp) = numeric_date(claims, "exp")?
        && now >= exp
    {
        return Err(VerifyError::Expired);
    }
    Ok(())
}

/// A NumericDate claim, if present; present but not a number is malformed.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, VerifyError> {
    claims
        .get(name)
        .map(|v| v.as_f64().ok_or(VerifyError::Malformed))
        .transpose()
}

/// Seconds since the epoch, with the fraction.
fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9
}

/// One `credentialStatus` entry: which list and which bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusEntry<'a> {
    pub list_url: &'a str,
    pub index: u32,
}

/// What goes into a doctor's Open Badges 3.0 credential.
#[derive(Debug, Clone, Copy)]
pub struct BadgeInput<'a> {
    /// The credential id: its public page, e.g.
    /// `https://host/verify/PAED-2026-000123-3`.
    pub credential_url: &'a str,
    /// The issuer profile id, e.g. `https://host/issuer`.
    pub issuer_url: &'a str,
    pub issuer_name: &'a str,
    /// An opaque per-doctor URL, e.g. `https://host/holders/<uuid>`: no
    /// personal data in the id.
    pub subject_url: &'a str,
    pub holder_name: &'a str,
    /// The achievement's public JSON, e.g.
    /// `https://host/achievements/paediatrics`.
    pub achievement_url: &'a str,
    pub achievement_name: &'a str,
    pub achievement_description: &'a str,
    pub criteria: &'a str,
    /// The credential number, e.g. `PAED-2026-000123-3`.
    pub number: &'a str,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub revocation: StatusEntry<'a>,
    pub suspension: StatusEntry<'a>,
}

/// The credential as Open Badges 3.0 JSON (unsigned; sign
/// [`jwt_claims`] of it).
///
/// The subject carries `name` and `licenseNumber` besides the required id,
/// type and achievement: a certificate must name its holder and carry the
/// number people quote, while the subject id stays an opaque URL. Nothing else
/// personal (no email, date of birth or licence details) goes in. `name` is a
/// VC 2.0 context term; `licenseNumber` is OB 3.0's place for "the license
/// number that was issued with this credential".
pub fn open_badge(input: &BadgeInput) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT, OB_V3_CONTEXT],
        "id": input.credential_url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": input.achievement_name,
        "issuer": profile(input.issuer_url, input.issuer_name),
        "validFrom": timestamp(input.valid_from),
        "validUntil": timestamp(input.valid_until),
        "credentialSubject": {
            "id": input.subject_url,
            "type": ["AchievementSubject"],
            "name": input.holder_name,
            "licenseNumber": input.number,
            "achievement": achievement(
                input.achievement_url,
                input.achievement_name,
                input.achievement_description,
                input.criteria,
            ),
        },
        "credentialStatus": [
            status_entry(&input.revocation, "revocation"),
            status_entry(&input.suspension, "suspension"),
        ],
    })
}

/// The OB 3.0 Achievement a credential attests: inside every credential,
/// and on its own at its id (`/achievements/{track}`), for anyone.
pub fn achievement(url: &str, name: &str, description: &str, criteria: &str) -> Value {
    json!({
        "id": url,
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": name,
        "description": description,
        "criteria": { "narrative": criteria },
    })
}

/// The signed list behind a `statusListCredential` URL (W3C Bitstring Status
/// List 1.0). It has no `validUntil`: verifiers refetch it after `ttl_ms`.
pub fn status_list_credential(
    list_url: &str,
    issuer_url: &str,
    issuer_name: &str,
    purpose: &str,
    encoded_list: &str,
    valid_from: DateTime<Utc>,
    ttl_ms: u64,
) -> Value {
    json!({
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": profile(issuer_url, issuer_name),
        "validFrom": timestamp(valid_from),
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded_list,
            "ttl": ttl_ms,
        },
    })
}

/// The JWT payload for a credential (OB 3.0 §8.2): the credential itself plus
/// `iss` = issuer id, `jti` = credential id, `sub` = subject id, `nbf` =
/// `validFrom` and `exp` = `validUntil` as Unix seconds. A claim whose source
/// is missing is left out (a status list has no `validUntil`, hence no `exp`).
pub fn jwt_claims(vc: &Value) -> Value {
    let mut claims = vc.clone();
    let Some(map) = claims.as_object_mut() else {
        return claims;
    };
    let registered = [
        ("iss", vc.get("issuer").and_then(id_of)),
        ("jti", vc.get("id").and_then(Value::as_str).map(Value::from)),
        ("sub", vc.get("credentialSubject").and_then(id_of)),
        ("nbf", unix_seconds(vc.get("validFrom"))),
        ("exp", unix_seconds(vc.get("validUntil"))),
    ];
    for (name, value) in registered {
        if let Some(value) = value {
            map.insert(name.to_owned(), value);
        }
    }
    claims
}

/// The `id` of an issuer or subject, which VC allows to be the bare URL, an
/// object with an `id`, or (for subjects) an array of them: the first counts.
fn id_of(v: &Value) -> Option<Value> {
    match v {
        Value::String(id) => Some(Value::from(id.as_str())),
        Value::Object(map) => map.get("id").and_then(Value::as_str).map(Value::from),
        Value::Array(items) => items.first().and_then(id_of),
        _ => None,
    }
}

/// An RFC 3339 date-time string as Unix seconds.
fn unix_seconds(v: Option<&Value>) -> Option<Value> {
    let text = v?.as_str()?;
    let t = DateTime::parse_from_rfc3339(text).ok()?;
    Some(Value::from(t.timestamp()))
}

/// The issuer profile: OB 3.0 requires `type: ["Profile"]` and a name.
fn profile(id: &str, name: &str) -> Value {
    json!({ "id": id, "type": ["Profile"], "name": name })
}

/// One `BitstringStatusListEntry`; the index is a string, as the spec requires.
fn status_entry(entry: &StatusEntry, purpose: &str) -> Value {
    json!({
        "id": format!("{}#{}", entry.list_url, entry.index),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": entry.index.to_string(),
        "statusListCredential": entry.list_url,
    })
}

/// `2026-01-02T03:04:05Z`: whole seconds, `Z`, as VC examples and most
/// verifiers expect.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    /// RFC 8037 appendix A.1: the private key `d` ...
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    /// ... its public key `x` ...
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    /// ... the thumbprint of A.3 ...
    const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    /// ... and the complete JWS of A.4.
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    fn rfc_signer() -> Signer {
        let d: [u8; 32] = URL_SAFE_NO_PAD
            .decode(RFC8037_D)
            .unwrap()
            .try_into()
            .unwrap();
        Signer::from_seed(d)
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        t("2026-06-01T00:00:00Z")
    }

    /// A token with a hand-made header, signed by `signer` over any payload.
    fn forged(signer: &Signer, header: &Value, claims: &Value) -> String {
        signer.sign_compact(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    #[test]
    fn rfc8037_key_and_thumbprint() {
        let signer = rfc_signer();
        assert_eq!(signer.public_jwk()["x"], RFC8037_X);
        assert_eq!(signer.kid(), RFC8037_THUMBPRINT);
    }

    #[test]
    fn rfc8037_signature() {
        let jws = rfc_signer().sign_compact(br#"{"alg":"EdDSA"}"#, b"Example of Ed25519 signing");
        assert_eq!(jws, RFC8037_JWS);
        assert!(jws.ends_with(
            ".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        ));
    }

    #[test]
    fn jwk_and_jwks() {
        let signer = rfc_signer();
        assert_eq!(
            signer.public_jwk(),
            json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": RFC8037_X,
                "kid": RFC8037_THUMBPRINT,
                "alg": "EdDSA",
                "use": "sig",
            })
        );
        assert_eq!(signer.jwks(), json!({ "keys": [signer.public_jwk()] }));
    }

    #[test]
    fn debug_output_hides_the_private_key() {
        let shown = format!("{:?}", rfc_signer());
        assert!(shown.contains(RFC8037_THUMBPRINT));
        assert!(!shown.contains(RFC8037_D));
        assert!(!shown.contains("SigningKey"));
    }

    #[test]
    fn the_header_is_exactly_alg_and_kid() {
        let signer = rfc_signer();
        let token = signer.sign(&json!({"a": 1}));
        let header = token.split('.').next().unwrap();
        let header = URL_SAFE_NO_PAD.decode(header).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            format!(r#"{{"alg":"EdDSA","kid":"{RFC8037_THUMBPRINT}"}}"#)
        );
    }

    #[test]
    fn sign_then_verify() {
        let signer = rfc_signer();
        let claims = json!({"sub": "https://host/holders/1", "nbf": 1_700_000_000, "exp": 1_900_000_000, "x": [1, "é"]});
        let token = signer.sign(&claims);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(&token, &signer.jwks(), now()), Ok(claims));
    }

    #[test]
    fn different_seeds_give_different_kids() {
        let a = Signer::from_seed([1; 32]);
        let b = Signer::from_seed([2; 32]);
        assert_ne!(a.kid(), b.kid());
        let token = a.sign(&json!({}));
        assert_eq!(
            verify(&token, &b.jwks(), now()),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn any_change_to_the_payload_breaks_the_signature() {
        let signer = rfc_signer();
        let token = signer.sign(&json!({"name": "Dr A. Example", "status": "active"}));
        let jwks = signer.jwks();
        let (header, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..payload.len() {
            for &c in alphabet {
                if c == payload.as_bytes()[i] {
                    continue;
                }
                let mut changed = payload.as_bytes().to_vec();
                changed[i] = c;
                let changed = String::from_utf8(changed).unwrap();
                let tampered = format!("{header}.{changed}.{signature}");
                // The signature covers the base64 text itself, so even a
                // change that would decode to the same bytes is caught.
                assert_eq!(
                    verify(&tampered, &jwks, now()),
                    Err(VerifyError::BadSignature),
                    "position {i} -> {}",
                    c as char
                );
            }
        }
    }

    #[test]
    fn any_change_to_the_signature_is_refused() {
        let signer = rfc_signer();
        let token = signer.sign(&json!({"a": 1}));
        let jwks = signer.jwks();
        let cut = token.rfind('.').unwrap() + 1;
        for i in cut..token.len() {
            let mut changed = token.as_bytes().to_vec();
            changed[i] = if changed[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(changed).unwrap();
            assert!(verify(&changed, &jwks, now()).is_err(), "position {i}");
        }
    }

    #[test]
    fn wrong_kid_is_refused() {
        let signer = rfc_signer();
        let header = json!({"alg": "EdDSA", "kid": "someone-else"});
        let token = forged(&signer, &header, &json!({}));
        assert_eq!(
            verify(&token, &signer.jwks(), now()),
            Err(VerifyError::UnknownKey)
        );
        let no_kid = forged(&signer, &json!({"alg": "EdDSA"}), &json!({}));
        assert_eq!(
            verify(&no_kid, &signer.jwks(), now()),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn keys_of_another_kind_are_not_used() {
        let signer = rfc_signer();
        let token = signer.sign(&json!({}));
        let kid = signer.kid();
        for jwk in [
            json!({"kty": "EC", "crv": "Ed25519", "x": RFC8037_X, "kid": kid}),
            json!({"kty": "OKP", "crv": "X25519", "x": RFC8037_X, "kid": kid}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": kid, "alg": "ES256"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": kid, "use": "enc"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "kid": kid}),
            json!({"kty": "OKP", "crv": "Ed25519", "kid": kid}),
        ] {
            let jwks = json!({"keys": [jwk]});
            assert_eq!(
                verify(&token, &jwks, now()),
                Err(VerifyError::UnknownKey),
                "{jwk}"
            );
        }
        assert_eq!(
            verify(&token, &json!({}), now()),
            Err(VerifyError::UnknownKey)
        );
        // The bare minimum JWK (no alg, no use) is enough.
        let minimal =
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": kid}]});
        assert!(verify(&token, &minimal, now()).is_ok());
    }

    #[test]
    fn a_key_with_the_right_kid_but_another_value_fails_the_signature() {
        let signer = rfc_signer();
        let other = Signer::from_seed([7; 32]);
        let mut jwk = other.public_jwk();
        jwk["kid"] = json!(signer.kid());
        let token = signer.sign(&json!({}));
        assert_eq!(
            verify(&token, &json!({"keys": [jwk]}), now()),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let signer = rfc_signer();
        let kid = signer.kid();
        let jwks = signer.jwks();
        for (alg, reported) in [
            (json!("none"), "none"),
            (json!("HS256"), "HS256"),
            (json!("RS256"), "RS256"),
            (json!("eddsa"), "eddsa"),
            (json!("Ed25519"), "Ed25519"),
            (json!(null), "null"),
        ] {
            let token = forged(&signer, &json!({"alg": alg, "kid": kid}), &json!({}));
            assert_eq!(
                verify(&token, &jwks, now()),
                Err(VerifyError::Algorithm(reported.to_owned()))
            );
        }
        let token = forged(&signer, &json!({"kid": kid}), &json!({}));
        assert_eq!(
            verify(&token, &jwks, now()),
            Err(VerifyError::Algorithm(String::new()))
        );
    }

    #[test]
    fn unsigned_alg_none_tokens_are_refused() {
        let signer = rfc_signer();
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, signer.kid()));
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#);
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            assert!(verify(&token, &signer.jwks(), now()).is_err(), "{token}");
        }
    }

    #[test]
    fn header_fields_beyond_alg_kid_typ_are_refused() {
        let signer = rfc_signer();
        let kid = signer.kid();
        let jwks = signer.jwks();
        for (extra, value) in [
            ("jku", json!("https://evil.example/jwks")),
            ("jwk", signer.public_jwk()),
            ("x5u", json!("https://evil.example/cert")),
            ("crit", json!(["exp"])),
            ("b64", json!(false)),
        ] {
            let mut header = json!({"alg": "EdDSA", "kid": kid});
            header[extra] = value;
            let token = forged(&signer, &header, &json!({}));
            assert_eq!(
                verify(&token, &jwks, now()),
                Err(VerifyError::HeaderField(extra.to_owned()))
            );
        }
        let typ_jwt = forged(
            &signer,
            &json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"}),
            &json!({}),
        );
        assert!(verify(&typ_jwt, &jwks, now()).is_ok());
        let typ_vc = forged(
            &signer,
            &json!({"alg": "EdDSA", "kid": kid, "typ": "vc+jwt"}),
            &json!({}),
        );
        assert_eq!(
            verify(&typ_vc, &jwks, now()),
            Err(VerifyError::HeaderField("typ".to_owned()))
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let signer = rfc_signer();
        let jwks = signer.jwks();
        let good = signer.sign(&json!({}));
        let (header, rest) = good.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let not_json = URL_SAFE_NO_PAD.encode("not json");
        let array = URL_SAFE_NO_PAD.encode("[1,2]");
        for token in [
            String::new(),
            "abc".to_owned(),
            "a.b".to_owned(),
            format!("{header}.{payload}.{signature}.x"),
            format!("{header}..{signature}"),
            format!("{not_json}.{payload}.{signature}"),
            format!("{array}.{payload}.{signature}"),
            format!("{header}=.{payload}.{signature}"),
            format!("{header}.{payload}.{signature}="),
            format!("{header}.{payload}.AAAA"),
            format!("{header}.{payload}.!!!"),
        ] {
            assert!(verify(&token, &jwks, now()).is_err(), "{token:?}");
        }
        assert_eq!(
            verify(&format!("{not_json}.{payload}.{signature}"), &jwks, now()),
            Err(VerifyError::Malformed)
        );
        assert_eq!(
            verify(&format!("{header}.{payload}.AAAA"), &jwks, now()),
            Err(VerifyError::Malformed)
        );
        // Properly signed, but the payload is not a JSON object.
        let kid_header = json!({"alg": "EdDSA", "kid": signer.kid()}).to_string();
        let token = signer.sign_compact(kid_header.as_bytes(), b"[1,2]");
        assert_eq!(verify(&token, &jwks, now()), Err(VerifyError::Malformed));
        // A non-numeric date.
        let token = signer.sign(&json!({"exp": "tomorrow"}));
        assert_eq!(verify(&token, &jwks, now()), Err(VerifyError::Malformed));
    }

    #[test]
    fn validity_window() {
        let signer = rfc_signer();
        let jwks = signer.jwks();
        let n = now().timestamp();
        let check = |claims: Value, at: DateTime<Utc>| verify(&signer.sign(&claims), &jwks, at);

        assert!(check(json!({"nbf": n, "exp": n + 1}), now()).is_ok());
        assert_eq!(
            check(json!({"nbf": n + 1}), now()),
            Err(VerifyError::NotYetValid)
        );
        assert_eq!(check(json!({"exp": n}), now()), Err(VerifyError::Expired));
        assert_eq!(
            check(json!({"exp": n - 100}), now()),
            Err(VerifyError::Expired)
        );
        assert!(check(json!({"exp": n + 1}), now() + Duration::milliseconds(999)).is_ok());
        assert_eq!(
            check(json!({"exp": n + 1}), now() + Duration::seconds(1)),
            Err(VerifyError::Expired)
        );
        // Fractional NumericDates are allowed by RFC 7519.
        assert_eq!(
            check(json!({"nbf": n as f64 + 0.5}), now()),
            Err(VerifyError::NotYetValid)
        );
        assert!(
            check(
                json!({"nbf": n as f64 + 0.5}),
                now() + Duration::milliseconds(500)
            )
            .is_ok()
        );
        // Neither claim: valid at any time.
        assert!(check(json!({}), t("1970-01-01T00:00:00Z")).is_ok());
    }

    fn sample_input() -> BadgeInput<'static> {
        BadgeInput {
            credential_url: "https://gk.example/credentials/PAED-2026-000123-3",
            issuer_url: "https://gk.example/issuer",
            issuer_name: "Alliance Gatekeeper",
            subject_url: "https://gk.example/holders/0b7e9c1e-5a3f-4d2b-9c0a-1f2e3d4c5b6a",
            holder_name: "Dr Amina Example",
            achievement_url: "https://gk.example/tracks/paediatrics",
            achievement_name: "Community Paediatrics",
            achievement_description: "Certified to refer children through the green channel.",
            criteria: "Completed the paediatrics course and passed the final exam.",
            number: "PAED-2026-000123-3",
            valid_from: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            valid_until: Utc.with_ymd_and_hms(2029, 1, 2, 3, 4, 5).unwrap(),
            revocation: StatusEntry {
                list_url: "https://gk.example/status/revocation/1",
                index: 94_567,
            },
            suspension: StatusEntry {
                list_url: "https://gk.example/status/suspension/1",
                index: 12,
            },
        }
    }

    #[test]
    fn open_badge_fields() {
        let vc = open_badge(&sample_input());
        assert_eq!(
            vc["@context"],
            json!([
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
            ])
        );
        assert_eq!(
            vc["id"],
            "https://gk.example/credentials/PAED-2026-000123-3"
        );
        assert_eq!(
            vc["type"],
            json!(["VerifiableCredential", "OpenBadgeCredential"])
        );
        assert_eq!(vc["name"], "Community Paediatrics");
        assert_eq!(
            vc["issuer"],
            json!({"id": "https://gk.example/issuer", "type": ["Profile"], "name": "Alliance Gatekeeper"})
        );
        assert_eq!(vc["validFrom"], "2026-01-02T03:04:05Z");
        assert_eq!(vc["validUntil"], "2029-01-02T03:04:05Z");

        let subject = &vc["credentialSubject"];
        assert_eq!(
            subject["id"],
            "https://gk.example/holders/0b7e9c1e-5a3f-4d2b-9c0a-1f2e3d4c5b6a"
        );
        assert_eq!(subject["type"], json!(["AchievementSubject"]));
        assert_eq!(subject["name"], "Dr Amina Example");
        assert_eq!(subject["licenseNumber"], "PAED-2026-000123-3");
        assert_eq!(
            subject.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["achievement", "id", "licenseNumber", "name", "type"],
            "nothing else personal in the subject"
        );
        assert_eq!(
            subject["achievement"],
            json!({
                "id": "https://gk.example/tracks/paediatrics",
                "type": ["Achievement"],
                "achievementType": "Certification",
                "name": "Community Paediatrics",
                "description": "Certified to refer children through the green channel.",
                "criteria": {"narrative": "Completed the paediatrics course and passed the final exam."},
            })
        );

        let status = vc["credentialStatus"].as_array().unwrap();
        assert_eq!(status.len(), 2);
        assert_eq!(
            status[0],
            json!({
                "id": "https://gk.example/status/revocation/1#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "revocation",
                "statusListIndex": "94567",
                "statusListCredential": "https://gk.example/status/revocation/1",
            })
        );
        assert!(status[0]["statusListIndex"].is_string());
        assert_eq!(status[1]["id"], "https://gk.example/status/suspension/1#12");
        assert_eq!(status[1]["statusPurpose"], "suspension");
        assert_eq!(status[1]["statusListIndex"], "12");
        assert_eq!(
            status[1]["statusListCredential"],
            "https://gk.example/status/suspension/1"
        );

        assert_eq!(
            vc.as_object().unwrap().keys().collect::<Vec<_>>(),
            [
                "@context",
                "credentialStatus",
                "credentialSubject",
                "id",
                "issuer",
                "name",
                "type",
                "validFrom",
                "validUntil"
            ]
        );
    }

    #[test]
    fn timestamps_drop_sub_seconds() {
        let mut input = sample_input();
        input.valid_from =
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + Duration::milliseconds(678);
        assert_eq!(open_badge(&input)["validFrom"], "2026-01-02T03:04:05Z");
    }

    #[test]
    fn jwt_claims_of_a_badge() {
        let vc = open_badge(&sample_input());
        let claims = jwt_claims(&vc);
        assert_eq!(claims["iss"], "https://gk.example/issuer");
        assert_eq!(
            claims["jti"],
            "https://gk.example/credentials/PAED-2026-000123-3"
        );
        assert_eq!(
            claims["sub"],
            "https://gk.example/holders/0b7e9c1e-5a3f-4d2b-9c0a-1f2e3d4c5b6a"
        );
        // date -u -d 2026-01-02T03:04:05Z +%s
        assert_eq!(claims["nbf"], 1_767_323_045);
        // date -u -d 2029-01-02T03:04:05Z +%s
        assert_eq!(claims["exp"], 1_862_017_445);
        // Everything else is the credential, unchanged and unwrapped.
        let mut rest = claims.as_object().unwrap().clone();
        for claim in ["iss", "jti", "sub", "nbf", "exp"] {
            rest.remove(claim);
        }
        assert_eq!(Value::Object(rest), vc);
    }

    #[test]
    fn a_signed_badge_verifies_within_its_validity_only() {
        let signer = rfc_signer();
        let claims = jwt_claims(&open_badge(&sample_input()));
        let token = signer.sign(&claims);
        let jwks = signer.jwks();
        assert_eq!(verify(&token, &jwks, t("2026-01-02T03:04:05Z")), Ok(claims));
        assert_eq!(
            verify(&token, &jwks, t("2026-01-02T03:04:04Z")),
            Err(VerifyError::NotYetValid)
        );
        assert_eq!(
            verify(&token, &jwks, t("2029-01-02T03:04:05Z")),
            Err(VerifyError::Expired)
        );
    }

    #[test]
    fn status_list_credential_fields() {
        let vc = status_list_credential(
            "https://gk.example/status/revocation/1",
            "https://gk.example/issuer",
            "Alliance Gatekeeper",
            "revocation",
            "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            300_000,
        );
        assert_eq!(
            vc,
            json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": "https://gk.example/status/revocation/1",
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": {"id": "https://gk.example/issuer", "type": ["Profile"], "name": "Alliance Gatekeeper"},
                "validFrom": "2026-01-02T03:04:05Z",
                "credentialSubject": {
                    "id": "https://gk.example/status/revocation/1#list",
                    "type": "BitstringStatusList",
                    "statusPurpose": "revocation",
                    "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
                    "ttl": 300_000,
                },
            })
        );
        let claims = jwt_claims(&vc);
        assert_eq!(claims["iss"], "https://gk.example/issuer");
        assert_eq!(claims["jti"], "https://gk.example/status/revocation/1");
        assert_eq!(claims["sub"], "https://gk.example/status/revocation/1#list");
        assert_eq!(claims["nbf"], 1_767_323_045);
        assert!(claims.get("exp").is_none());
    }

    #[test]
    fn jwt_claims_tolerates_other_shapes() {
        let vc = json!({
            "id": "urn:x",
            "issuer": "https://issuer.example",
            "credentialSubject": [{"id": "did:example:1"}, {"id": "did:example:2"}],
            "validFrom": "2026-01-02T04:04:05+01:00",
        });
        let claims = jwt_claims(&vc);
        assert_eq!(claims["iss"], "https://issuer.example");
        assert_eq!(claims["sub"], "did:example:1");
        assert_eq!(claims["nbf"], 1_767_323_045);
        let bare = jwt_claims(&json!({"validFrom": "not a date"}));
        assert_eq!(bare, json!({"validFrom": "not a date"}));
        assert_eq!(jwt_claims(&json!("text")), json!("text"));
    }
}
