//! Signed credentials: ES256 JWTs, the JWK set verifiers fetch our public keys
//! from, and the Open Badges 3.0 JSON that goes into the JWTs.
//!
//! Choices, and why:
//!
//! - We sign with `ES256` (ECDSA on P-256 with SHA-256): Open Badges 3.0 asks
//!   verifiers for RS256 at least and 1EdTech's validator accepts RS256 and
//!   ES256 only. ES256 keys are small and need no RSA code (the `rsa` crate
//!   carries RUSTSEC-2023-0071). The JWS itself is made and checked by
//!   `jsonwebtoken` on `ring`; nothing here does cryptography by hand.
//! - Keys that no longer sign stay in the published set ([`Signer::retire`]),
//!   so a credential a holder downloaded before a change still verifies
//!   until it expires: the Ed25519 key earlier versions signed with is one.
//! - The protected header is exactly `{"typ":"JWT","alg":"ES256","kid":…}`:
//!   Open Badges 3.0 allows `alg`, `kid`, `jwk` and `typ` only as `JWT`.
//! - `kid` is a URL that dereferences to the public JWK
//!   (`{public_url}/issuer/keys/{thumbprint}`), as OB 3.0 asks; the last part
//!   is the RFC 7638 JWK thumbprint, so it changes when the key does and a
//!   verifier holding an old set fails with "unknown key", not a confusing bad
//!   signature.
//! - [`verify`] trusts only keys from the JWK set it is given (ours), never a
//!   key named by the token, and takes the algorithm from the key, not the
//!   token: the classic JWT attacks (`alg: none`, HMAC keyed with the public
//!   key) have nothing to grip.
//! - The payload is the credential itself plus the registered claims OB 3.0
//!   asks for (`iss`, `jti`, `sub`, `nbf`, `exp`), with no `vc` wrapper.

use std::collections::HashSet;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::numbers::i64_f64;
use crate::domain::status_list::{self, Standing};

/// The JWS algorithm we sign with.
pub const ALGORITHM: &str = "ES256";
/// The algorithm of keys that no longer sign but still verify what they signed.
pub const RETIRED_ALGORITHM: &str = "EdDSA";
/// The W3C Verifiable Credentials 2.0 context, always first.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0 context, after the VC context.
pub const OB_V3_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the token is not a well-formed signed JWT")]
    Malformed,
    #[error("the token uses the algorithm {0:?}, not the one of the key it names")]
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

/// Why a signing key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not a PKCS#8 P-256 private key")]
    NotP256,
    #[error("the retired key is not a 32-byte Ed25519 seed")]
    NotEd25519,
    #[error("the system's random number generator failed")]
    Random,
    #[error("the credential could not be signed: {0}")]
    Sign(String),
    #[error("the sealed key cannot be opened with this secret (or was altered)")]
    Sealed,
    #[error("the stored public key is not a P-256 or Ed25519 key")]
    Public,
}

/// The key that seals signing keys for the database: AES-256-GCM, derived
/// by HKDF-SHA256 from a secret every instance is given (the setting
/// `GATEKEEPER_SIGNING_KEY_SECRET`). Each sealed key is bound to its
/// thumbprint (the AEAD's associated data), so a sealed key moved to another
/// row does not open.
pub struct SealingKey(ring::aead::LessSafeKey);

const NONCE_LEN: usize = 12;

impl SealingKey {
    pub fn derive(secret: &str) -> Result<SealingKey, KeyError> {
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"gatekeeper signing keys");
        let prk = salt.extract(secret.as_bytes());
        let okm = prk
            .expand(&[b"AES-256-GCM v1"], &ring::aead::AES_256_GCM)
            .map_err(|_detail| KeyError::Sealed)?;
        Ok(SealingKey(ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::from(okm),
        )))
    }

    /// `plain` sealed under a random nonce: base64url of nonce, ciphertext
    /// and tag.
    pub fn seal(&self, thumbprint: &str, plain: &[u8]) -> Result<String, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_detail| KeyError::Random)?;
        let mut sealed = plain.to_vec();
        self.0
            .seal_in_place_append_tag(
                ring::aead::Nonce::assume_unique_for_key(nonce),
                ring::aead::Aad::from(thumbprint.as_bytes()),
                &mut sealed,
            )
            .map_err(|_detail| KeyError::Sealed)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    pub fn open(&self, thumbprint: &str, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed.trim())
            .map_err(|_detail| KeyError::Sealed)?;
        if bytes.len() < NONCE_LEN {
            return Err(KeyError::Sealed);
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_detail| KeyError::Sealed)?;
        let mut buf = rest.to_vec();
        let plain = self
            .0
            .open_in_place(
                nonce,
                ring::aead::Aad::from(thumbprint.as_bytes()),
                &mut buf,
            )
            .map_err(|_detail| KeyError::Sealed)?;
        Ok(plain.to_vec())
    }
}

/// When a key that stopped signing at `retired_at` may leave the published
/// set: once every credential it signed has expired. A signed credential's
/// `exp` is its credential's `valid_until` when it was downloaded, and a
/// renewal only moves `valid_until` later, so the latest `valid_until` of
/// any credential at retirement bounds them all. (Status lists are signed
/// on every request, so none outlives the rotation.)
pub fn withdraw_after(
    retired_at: DateTime<Utc>,
    latest_valid_until: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    latest_valid_until.map_or(retired_at, |latest| latest.max(retired_at))
}

/// The RFC 7638 thumbprint of an Ed25519 public key (its `x`): the key id
/// the credentials it signed name.
pub fn ed25519_thumbprint(x: &str) -> String {
    thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#))
}

/// The public half of an Ed25519 seed, as RFC 8037's `x`.
pub fn ed25519_public(seed: &[u8]) -> Result<String, KeyError> {
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
        .map_err(|_detail| KeyError::NotEd25519)?;
    Ok(URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()))
}

/// Our signing key, its key id, and the public keys of keys that no longer
/// sign.
#[derive(Clone)]
pub struct Signer {
    key: EncodingKey,
    public: Value,
    kid: String,
    retired: Vec<Value>,
}

impl fmt::Debug for Signer {
    /// Shows the key id only: the private key must never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A new P-256 private key as PKCS#8 DER, for the key file.
pub fn generate_p256() -> Result<Vec<u8>, KeyError> {
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .map(|doc| doc.as_ref().to_vec())
        .map_err(|_detail| KeyError::Random)
}

impl Signer {
    /// The signer for a P-256 key (PKCS#8 DER). `keys_url` is where each
    /// public key is published, e.g. `https://host/issuer/keys`: the key id is
    /// that URL followed by the key's thumbprint.
    pub fn from_pkcs8(der: &[u8], keys_url: &str) -> Result<Signer, KeyError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
                .map_err(|_detail| KeyError::NotP256)?;
        // An uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        let (x, y) = match point {
            [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
            _ => return Err(KeyError::NotP256),
        };
        let public = p256_jwk(
            &URL_SAFE_NO_PAD.encode(x),
            &URL_SAFE_NO_PAD.encode(y),
            keys_url,
        );
        let kid = public
            .get("kid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Signer {
            key: EncodingKey::from_ec_der(der),
            public,
            kid,
            retired: Vec::new(),
        })
    }

    /// The signing key's RFC 7638 thumbprint (the last part of its key id).
    pub fn thumbprint(&self) -> &str {
        self.kid.rsplit('/').next().unwrap_or(&self.kid)
    }

    /// The signing key's public members as stored (`crv`, `kty`, `x`, `y`).
    pub fn public_members(&self) -> Value {
        let member = |name: &str| self.public.get(name).cloned().unwrap_or_default();
        json!({
            "crv": member("crv"),
            "kty": member("kty"),
            "x": member("x"),
            "y": member("y"),
        })
    }

    /// Keeps a public key that signed before (its stored members, as
    /// [`Signer::public_members`] gives them, or an Ed25519 key's `crv`,
    /// `kty` and `x`) in the published set, under the key id its credentials
    /// name: for P-256 `keys_url` and the thumbprint, for Ed25519 the bare
    /// thumbprint (as earlier versions named it).
    pub fn retire_public(mut self, members: &Value, keys_url: &str) -> Result<Signer, KeyError> {
        let text = |k: &str| members.get(k).and_then(Value::as_str);
        // A coordinate is base64url, so it needs no escaping in the
        // thumbprint's JSON.
        let coordinate =
            |k: &str| text(k).filter(|v| !v.is_empty() && URL_SAFE_NO_PAD.decode(v).is_ok());
        match (text("kty"), text("crv"), coordinate("x"), coordinate("y")) {
            (Some("EC"), Some("P-256"), Some(x), Some(y)) => {
                self.retired.push(p256_jwk(x, y, keys_url));
            }
            (Some("OKP"), Some("Ed25519"), Some(x), _) => self.retired.push(ed25519_jwk(x)),
            _ => return Err(KeyError::Public),
        }
        Ok(self)
    }

    /// Keeps an Ed25519 key (its 32-byte seed, RFC 8037's `d`) that signed
    /// credentials before: its public key stays in the set, under the key id
    /// those credentials name (its bare thumbprint), so they still verify.
    pub fn retire_ed25519(mut self, seed: &[u8]) -> Result<Signer, KeyError> {
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_detail| KeyError::NotEd25519)?;
        let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        self.retired.push(ed25519_jwk(&x));
        Ok(self)
    }

    /// The key id credentials are signed under: a URL serving [`Signer::public_jwk`].
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Our signing key's public half as a JWK.
    pub fn public_jwk(&self) -> Value {
        self.public.clone()
    }

    /// The published key with this thumbprint (the last part of its URL
    /// key id), if it is ours.
    pub fn key_by_thumbprint(&self, thumbprint: &str) -> Option<Value> {
        self.keys()
            .find(|jwk| {
                jwk.get("kid")
                    .and_then(Value::as_str)
                    .and_then(|kid| kid.rsplit('/').next())
                    == Some(thumbprint)
            })
            .cloned()
    }

    /// The signing key first, then the retired ones.
    fn keys(&self) -> impl Iterator<Item = &Value> {
        std::iter::once(&self.public).chain(&self.retired)
    }

    /// The JWK set verifiers fetch (`{"keys": [...]}`).
    pub fn jwks(&self) -> Value {
        json!({ "keys": self.keys().collect::<Vec<_>>() })
    }

    /// A compact JWS of `claims` under `{"typ":"JWT","alg":"ES256","kid":…}`.
    pub fn sign(&self, claims: &Value) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// A P-256 public key (base64url coordinates) as we publish it: its key id
/// is `keys_url`, `/` and its RFC 7638 thumbprint, a URL that serves it.
fn p256_jwk(x: &str, y: &str, keys_url: &str) -> Value {
    let thumbprint = thumbprint(&format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
    ));
    json!({
        "kty": "EC",
        "crv": "P-256",
        "x": x,
        "y": y,
        "kid": format!("{}/{thumbprint}", keys_url.trim_end_matches('/')),
        "alg": ALGORITHM,
        "use": "sig",
    })
}

/// A retired Ed25519 public key as we publish it: its key id is the bare
/// RFC 7638 thumbprint, as the credentials it signed name it.
fn ed25519_jwk(x: &str) -> Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": thumbprint(&format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)),
        "alg": RETIRED_ALGORITHM,
        "use": "sig",
    })
}

/// RFC 7638: SHA-256 over the required members in lexicographic order, no
/// whitespace, base64url. The members are base64url, so need no escaping.
fn thumbprint(canonical: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// Checks a compact JWS against our JWK set and the time `now`, and returns its
/// claims.
///
/// In order: the shape; the header (only `alg`, `kid` and `typ` may appear,
/// `typ` only as `JWT`); the key, by `kid`, from `jwks` only; the algorithm,
/// which must be the key's own (ES256 for a P-256 key, EdDSA for an Ed25519
/// one); the signature; then `nbf <= now < exp` for whichever of the two is
/// present. No clock leeway is added: pass a `now` adjusted for it if needed.
pub fn verify(token: &str, jwks: &Value, now: DateTime<Utc>) -> Result<Value, VerifyError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    if payload.is_empty() || signature.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let header = decode_object(header)?;
    let (alg, kid) = check_header(&header)?;
    let (jwk, algorithm) = find_key(jwks, kid)?;
    if alg != algorithm_name(algorithm) {
        return Err(VerifyError::Algorithm(alg.to_owned()));
    }
    let claims = check_signature(token, &jwk, algorithm)?;
    check_times(&claims, now)?;
    Ok(Value::Object(claims))
}

/// The signature of `token` under `jwk` with `algorithm`, checked by
/// jsonwebtoken; its own claim checks are off (we check the times ourselves
/// against the `now` we are given). Returns the payload.
fn check_signature(
    token: &str,
    jwk: &jsonwebtoken::jwk::Jwk,
    algorithm: Algorithm,
) -> Result<Map<String, Value>, VerifyError> {
    let key = DecodingKey::from_jwk(jwk).map_err(|_detail| VerifyError::UnknownKey)?;
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims = HashSet::new();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    match jsonwebtoken::decode::<Value>(token, &key, &validation) {
        Ok(data) => match data.claims {
            Value::Object(claims) => Ok(claims),
            _ => Err(VerifyError::Malformed),
        },
        Err(e) => Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => VerifyError::BadSignature,
            _ => VerifyError::Malformed,
        }),
    }
}

/// A base64url (unpadded) JSON object, as a JWS header is.
fn decode_object(part: &str) -> Result<Map<String, Value>, VerifyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_detail| VerifyError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(VerifyError::Malformed),
    }
}

/// Refuses any header field but `alg`, `kid` and `typ` (as `JWT`) and
/// returns `alg` and `kid`. The algorithm is read first so an `alg: none`
/// token is reported as such.
fn check_header(header: &Map<String, Value>) -> Result<(&str, &str), VerifyError> {
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        Some(other) => return Err(VerifyError::Algorithm(other.to_string())),
        None => return Err(VerifyError::Algorithm(String::new())),
    };
    if alg != ALGORITHM && alg != RETIRED_ALGORITHM {
        return Err(VerifyError::Algorithm(alg.to_owned()));
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
        Some(Value::String(kid)) => Ok((alg, kid)),
        Some(_) => Err(VerifyError::Malformed),
        None => Err(VerifyError::UnknownKey),
    }
}

/// The key with this `kid` in a JWK set, and the one algorithm it verifies:
/// a P-256 key ES256, an Ed25519 key EdDSA. A key of another type, or
/// marked for another algorithm or use, does not count.
fn find_key(jwks: &Value, kid: &str) -> Result<(jsonwebtoken::jwk::Jwk, Algorithm), VerifyError> {
    let jwk = jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|jwk| jwk.get("kid").and_then(Value::as_str) == Some(kid))
        .ok_or(VerifyError::UnknownKey)?;
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let algorithm = match (field("kty"), field("crv")) {
        (Some("EC"), Some("P-256")) => Algorithm::ES256,
        (Some("OKP"), Some("Ed25519")) => Algorithm::EdDSA,
        _ => return Err(VerifyError::UnknownKey),
    };
    if jwk
        .get("alg")
        .is_some_and(|alg| alg != algorithm_name(algorithm))
        || jwk.get("use").is_some_and(|usage| usage != "sig")
    {
        return Err(VerifyError::UnknownKey);
    }
    let jwk = serde_json::from_value(jwk.clone()).map_err(|_detail| VerifyError::UnknownKey)?;
    Ok((jwk, algorithm))
}

/// The JOSE name of the two algorithms we verify.
fn algorithm_name(algorithm: Algorithm) -> &'static str {
    if algorithm == Algorithm::EdDSA {
        RETIRED_ALGORITHM
    } else {
        ALGORITHM
    }
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
    i64_f64(t.timestamp()) + f64::from(t.timestamp_subsec_nanos()) / 1e9
}

/// A credential's `credentialStatus`: which list and which entry.
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
    /// Its entry on the standing list (a `message` list of
    /// [`status_list::STANDING_BITS`] bits: active, suspended or revoked).
    pub status: StatusEntry<'a>,
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
        "credentialStatus": status_entry(&input.status),
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

/// The one `BitstringStatusListEntry` (OB 3.0 allows one
/// `credentialStatus`): a `message` entry of two bits whose values say
/// active, suspended or revoked. The index is a string, as the spec requires;
/// `statusMessage` lists every value a verifier can read.
fn status_entry(entry: &StatusEntry) -> Value {
    let messages: Vec<Value> = Standing::ALL
        .into_iter()
        .map(|s| json!({ "status": format!("{:#x}", s.code()), "message": s.message() }))
        .collect();
    json!({
        "id": format!("{}#{}", entry.list_url, entry.index),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": entry.index.to_string(),
        "statusListCredential": entry.list_url,
        "statusSize": status_list::STANDING_BITS,
        "statusMessage": messages,
    })
}

/// `2026-01-02T03:04:05Z`: whole seconds, `Z`, as VC examples and most
/// verifiers expect.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod sealing_tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_sealed_key_opens_with_its_secret_and_thumbprint_only() {
        let key = SealingKey::derive("a secret of at least thirty-two characters").unwrap();
        let sealed = key.seal("thumb", b"private key bytes").unwrap();
        assert_eq!(key.open("thumb", &sealed).unwrap(), b"private key bytes");
        // Sealed twice, two different texts (a fresh nonce each time).
        assert_ne!(key.seal("thumb", b"private key bytes").unwrap(), sealed);
        assert_eq!(key.open("other", &sealed), Err(KeyError::Sealed));
        let other = SealingKey::derive("another secret of thirty-two characters").unwrap();
        assert_eq!(other.open("thumb", &sealed), Err(KeyError::Sealed));
        assert_eq!(key.open("thumb", "not base64 !"), Err(KeyError::Sealed));
        assert_eq!(key.open("thumb", "AAAA"), Err(KeyError::Sealed));
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 3;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(key.open("thumb", &altered), Err(KeyError::Sealed));
    }

    #[test]
    fn a_retired_key_stays_until_the_latest_credential_expires() {
        let at = |y| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(withdraw_after(at(2026), Some(at(2028))), at(2028));
        // No credential outlives the rotation: withdrawn at once.
        assert_eq!(withdraw_after(at(2026), Some(at(2025))), at(2026));
        assert_eq!(withdraw_after(at(2026), None), at(2026));
    }

    #[test]
    fn a_retired_p256_key_keeps_its_key_id_and_verifies() {
        let der = generate_p256().unwrap();
        let old = Signer::from_pkcs8(&der, "https://gk.example/issuer/keys").unwrap();
        let token = old.sign(&json!({"sub": "x"})).unwrap();
        let new = Signer::from_pkcs8(&generate_p256().unwrap(), "https://gk.example/issuer/keys")
            .unwrap()
            .retire_public(&old.public_members(), "https://gk.example/issuer/keys")
            .unwrap();
        assert_eq!(new.jwks()["keys"][1], old.public_jwk());
        assert!(new.key_by_thumbprint(old.thumbprint()).is_some());
        assert!(verify(&token, &new.jwks(), Utc::now()).is_ok());
        // An Ed25519 key kept by its public half has the key id it had.
        let seed = [7u8; 32];
        let by_seed = new.clone().retire_ed25519(&seed).unwrap();
        let x = ed25519_public(&seed).unwrap();
        let by_public = new
            .clone()
            .retire_public(&json!({"kty": "OKP", "crv": "Ed25519", "x": x}), "unused")
            .unwrap();
        assert_eq!(by_seed.jwks(), by_public.jwks());
        assert_eq!(
            new.retire_public(&json!({"kty": "RSA"}), "u").err(),
            Some(KeyError::Public)
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use chrono::{Duration, TimeZone};

    use super::*;

    const KEYS: &str = "https://gk.example/issuer/keys";

    /// RFC 8037 appendix A.1: the private key `d` ...
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    /// ... its public key `x` ...
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    /// ... the thumbprint of A.3 ...
    const RFC8037_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
    /// ... and the complete JWS of A.4.
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    /// RFC 7515 appendix A.3: the ES256 example's public key ...
    const RFC7515_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const RFC7515_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    /// ... and its JWS (A.3.1).
    const RFC7515_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

    fn rfc8037_seed() -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(RFC8037_D).unwrap()
    }

    /// A fresh P-256 signer (ECDSA signatures are randomised, so no fixed
    /// vector covers our own signing; the RFC vectors cover reading keys and
    /// signatures, and the integration tests verify with another library).
    fn signer() -> Signer {
        Signer::from_pkcs8(&generate_p256().unwrap(), KEYS).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn now() -> DateTime<Utc> {
        t("2026-06-01T00:00:00Z")
    }

    fn sign(signer: &Signer, claims: &Value) -> String {
        signer.sign(claims).unwrap()
    }

    /// A token with a hand-made header and payload text, signed with
    /// `signer`'s key.
    fn forged_text(signer: &Signer, header: &Value, payload: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &signer.key, Algorithm::ES256).unwrap();
        format!("{input}.{signature}")
    }

    fn forged(signer: &Signer, header: &Value, claims: &Value) -> String {
        forged_text(signer, header, &claims.to_string())
    }

    /// Whether jsonwebtoken accepts `jws`'s signature under `jwk` as we
    /// publish it.
    fn signature_holds(jws: &str, jwk: Value, algorithm: Algorithm) -> bool {
        let (input, signature) = jws.rsplit_once('.').unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
        let key = DecodingKey::from_jwk(&jwk).unwrap();
        jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, algorithm).unwrap()
    }

    #[test]
    fn rfc7515_es256_vector_verifies_under_a_p256_jwk_as_we_publish_one() {
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": RFC7515_X, "y": RFC7515_Y, "alg": "ES256", "use": "sig"});
        assert!(signature_holds(RFC7515_JWS, jwk.clone(), Algorithm::ES256));
        let mut changed = RFC7515_JWS.to_owned();
        changed.replace_range(20..21, "A");
        assert!(!signature_holds(&changed, jwk, Algorithm::ES256));
    }

    #[test]
    fn a_retired_ed25519_key_keeps_its_rfc8037_key_id_and_verifies_what_it_signed() {
        let signer = signer().retire_ed25519(&rfc8037_seed()).unwrap();
        let keys = signer.jwks()["keys"].as_array().unwrap().clone();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0], signer.public_jwk(), "the signing key first");
        assert_eq!(
            keys[1],
            json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": RFC8037_X,
                "kid": RFC8037_THUMBPRINT,
                "alg": "EdDSA",
                "use": "sig",
            })
        );
        // RFC 8037 A.4, read through the JWK as we publish it.
        assert!(signature_holds(
            RFC8037_JWS,
            keys[1].clone(),
            Algorithm::EdDSA
        ));
        // A credential an earlier version signed (EdDSA, kid = thumbprint)
        // still verifies against today's key set.
        let old = ring::signature::Ed25519KeyPair::from_seed_unchecked(&rfc8037_seed()).unwrap();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"EdDSA","kid":"{RFC8037_THUMBPRINT}"}}"#)),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"https://gk.example/holders/1"}"#)
        );
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(old.sign(input.as_bytes()).as_ref())
        );
        assert_eq!(
            verify(&token, &signer.jwks(), now()),
            Ok(json!({"sub": "https://gk.example/holders/1"}))
        );
        // The retired key's own URL serves it too.
        assert_eq!(
            signer.key_by_thumbprint(RFC8037_THUMBPRINT),
            Some(keys[1].clone())
        );
        assert!(signer.retire_ed25519(&[1; 31]).is_err());
    }

    #[test]
    fn the_key_id_is_a_url_ending_in_the_rfc7638_thumbprint() {
        let signer = signer();
        let jwk = signer.public_jwk();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        );
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        assert_eq!(signer.kid(), format!("{KEYS}/{thumbprint}"));
        assert_eq!(jwk["kid"], signer.kid());
        assert_eq!(
            (
                jwk["kty"].as_str(),
                jwk["crv"].as_str(),
                jwk["alg"].as_str(),
                jwk["use"].as_str()
            ),
            (Some("EC"), Some("P-256"), Some("ES256"), Some("sig"))
        );
        for coordinate in ["x", "y"] {
            let bytes = URL_SAFE_NO_PAD
                .decode(jwk[coordinate].as_str().unwrap())
                .unwrap();
            assert_eq!(bytes.len(), 32, "{coordinate}");
        }
        assert_eq!(signer.key_by_thumbprint(&thumbprint), Some(jwk.clone()));
        assert_eq!(signer.key_by_thumbprint("another"), None);
        assert_eq!(signer.jwks(), json!({ "keys": [jwk] }));
        // The same key file gives the same key id (every instance agrees).
        let der = generate_p256().unwrap();
        assert_eq!(
            Signer::from_pkcs8(&der, KEYS).unwrap().kid(),
            Signer::from_pkcs8(&der, &format!("{KEYS}/")).unwrap().kid()
        );
        assert_eq!(
            Signer::from_pkcs8(b"not a key", KEYS).err(),
            Some(KeyError::NotP256)
        );
    }

    #[test]
    fn debug_output_hides_the_private_key() {
        let signer = signer();
        let shown = format!("{signer:?}");
        assert!(shown.contains(signer.kid()));
        assert!(!shown.contains("key:"));
        assert!(!shown.contains("EncodingKey"));
    }

    #[test]
    fn the_header_is_exactly_typ_alg_and_kid() {
        let signer = signer();
        let token = sign(&signer, &json!({"a": 1}));
        let header = token.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(
            header,
            json!({"typ": "JWT", "alg": "ES256", "kid": signer.kid()})
        );
    }

    #[test]
    fn sign_then_verify() {
        let signer = signer();
        let claims = json!({"sub": "https://host/holders/1", "nbf": 1_700_000_000, "exp": 1_900_000_000, "x": [1, "é"]});
        let token = sign(&signer, &claims);
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(&token, &signer.jwks(), now()), Ok(claims));
    }

    #[test]
    fn different_keys_give_different_kids() {
        let (a, b) = (signer(), signer());
        assert_ne!(a.kid(), b.kid());
        let token = sign(&a, &json!({}));
        assert_eq!(
            verify(&token, &b.jwks(), now()),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn any_change_to_the_payload_breaks_the_signature() {
        let signer = signer();
        let token = sign(
            &signer,
            &json!({"name": "Dr A. Example", "status": "active"}),
        );
        let jwks = signer.jwks();
        let (header, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for i in 0..payload.len() {
            for &c in alphabet.iter().step_by(7) {
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
        let signer = signer();
        let token = sign(&signer, &json!({"a": 1}));
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
        let signer = signer();
        let header = json!({"alg": "ES256", "kid": "someone-else"});
        let token = forged(&signer, &header, &json!({}));
        assert_eq!(
            verify(&token, &signer.jwks(), now()),
            Err(VerifyError::UnknownKey)
        );
        let no_kid = forged(&signer, &json!({"alg": "ES256"}), &json!({}));
        assert_eq!(
            verify(&no_kid, &signer.jwks(), now()),
            Err(VerifyError::UnknownKey)
        );
    }

    #[test]
    fn keys_of_another_kind_are_not_used() {
        let signer = signer();
        let token = sign(&signer, &json!({}));
        let kid = signer.kid();
        let jwk = signer.public_jwk();
        let (x, y) = (jwk["x"].clone(), jwk["y"].clone());
        for jwk in [
            json!({"kty": "EC", "crv": "P-384", "x": x, "y": y, "kid": kid}),
            json!({"kty": "OKP", "crv": "P-256", "x": x, "y": y, "kid": kid}),
            json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "alg": "EdDSA"}),
            json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "enc"}),
            json!({"kty": "EC", "crv": "P-256", "x": x, "kid": kid}),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": kid}),
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
        let minimal = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid}]});
        assert!(verify(&token, &minimal, now()).is_ok());
    }

    #[test]
    fn a_key_with_the_right_kid_but_another_value_fails_the_signature() {
        let signer = signer();
        let mut jwk = self::signer().public_jwk();
        jwk["kid"] = json!(signer.kid());
        let token = sign(&signer, &json!({}));
        assert_eq!(
            verify(&token, &json!({"keys": [jwk]}), now()),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn other_algorithms_are_refused() {
        let signer = signer().retire_ed25519(&rfc8037_seed()).unwrap();
        let kid = signer.kid();
        let jwks = signer.jwks();
        for (alg, reported) in [
            (json!("none"), "none"),
            (json!("HS256"), "HS256"),
            (json!("RS256"), "RS256"),
            (json!("es256"), "es256"),
            (json!("ES384"), "ES384"),
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
        // The algorithm is the key's: EdDSA named over a P-256 key, or
        // ES256 over the Ed25519 key, is refused before any signature check.
        let token = forged(&signer, &json!({"alg": "EdDSA", "kid": kid}), &json!({}));
        assert_eq!(
            verify(&token, &jwks, now()),
            Err(VerifyError::Algorithm("EdDSA".to_owned()))
        );
        let token = forged(
            &signer,
            &json!({"alg": "ES256", "kid": RFC8037_THUMBPRINT}),
            &json!({}),
        );
        assert_eq!(
            verify(&token, &jwks, now()),
            Err(VerifyError::Algorithm("ES256".to_owned()))
        );
    }

    #[test]
    fn unsigned_alg_none_tokens_are_refused() {
        let signer = signer();
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
        let signer = signer();
        let kid = signer.kid();
        let jwks = signer.jwks();
        for (extra, value) in [
            ("jku", json!("https://evil.example/jwks")),
            ("jwk", signer.public_jwk()),
            ("x5u", json!("https://evil.example/cert")),
            ("crit", json!(["exp"])),
            ("b64", json!(false)),
        ] {
            let mut header = json!({"alg": "ES256", "kid": kid});
            header[extra] = value;
            let token = forged(&signer, &header, &json!({}));
            assert_eq!(
                verify(&token, &jwks, now()),
                Err(VerifyError::HeaderField(extra.to_owned()))
            );
        }
        let no_typ = forged(&signer, &json!({"alg": "ES256", "kid": kid}), &json!({}));
        assert!(verify(&no_typ, &jwks, now()).is_ok());
        let typ_vc = forged(
            &signer,
            &json!({"alg": "ES256", "kid": kid, "typ": "vc+jwt"}),
            &json!({}),
        );
        assert_eq!(
            verify(&typ_vc, &jwks, now()),
            Err(VerifyError::HeaderField("typ".to_owned()))
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let signer = signer();
        let jwks = signer.jwks();
        let good = sign(&signer, &json!({}));
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
        // Properly signed, but the payload is not a JSON object.
        let kid_header = json!({"alg": "ES256", "kid": signer.kid()});
        for payload in ["[1,2]", "not json"] {
            let token = forged_text(&signer, &kid_header, payload);
            assert_eq!(
                verify(&token, &jwks, now()),
                Err(VerifyError::Malformed),
                "{payload}"
            );
        }
        // A non-numeric date.
        let token = sign(&signer, &json!({"exp": "tomorrow"}));
        assert_eq!(verify(&token, &jwks, now()), Err(VerifyError::Malformed));
    }

    #[test]
    fn validity_window() {
        let signer = signer();
        let jwks = signer.jwks();
        let n = now().timestamp();
        let check = |claims: Value, at: DateTime<Utc>| verify(&sign(&signer, &claims), &jwks, at);

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
            status: StatusEntry {
                list_url: "https://gk.example/status-lists/standing",
                index: 94_567,
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

        // One status object (OB 3.0 allows 0..1): a two-bit message entry
        // whose values say active, suspended or revoked.
        assert_eq!(
            vc["credentialStatus"],
            json!({
                "id": "https://gk.example/status-lists/standing#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": "message",
                "statusListIndex": "94567",
                "statusListCredential": "https://gk.example/status-lists/standing",
                "statusSize": 2,
                "statusMessage": [
                    {"status": "0x0", "message": "active"},
                    {"status": "0x1", "message": "suspended"},
                    {"status": "0x2", "message": "revoked"},
                ],
            })
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
        let signer = signer();
        let claims = jwt_claims(&open_badge(&sample_input()));
        let token = sign(&signer, &claims);
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
