//! Password rules (OWASP ASVS 5.0 level 2): 8 to 128 characters, no
//! composition rules, the most common passwords refused; argon2id hashing with
//! the argon2 crate's defaults (m = 19 MiB, t = 2, p = 1).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{Error, Result};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

const COMMON: &str = include_str!("common_passwords.txt");

/// A password that meets the policy. The only way to get one is `parse`.
pub struct NewPassword(String);

impl NewPassword {
    /// `email` is refused as a password too: it is the first thing an
    /// attacker tries.
    pub fn parse(field: &str, raw: &str, email: Option<&str>) -> Result<NewPassword> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(Error::invalid(
                field,
                format!("must be at least {MIN_CHARS} characters"),
            ));
        }
        if chars > MAX_CHARS {
            return Err(Error::invalid(
                field,
                format!("must be at most {MAX_CHARS} characters"),
            ));
        }
        let lowered = raw.to_lowercase();
        if COMMON.lines().any(|common| common == lowered) {
            return Err(Error::invalid(
                field,
                "is one of the most common passwords; choose another",
            ));
        }
        if let Some(email) = email {
            let local = email.split('@').next().unwrap_or(email);
            if lowered == email.to_lowercase() || lowered == local.to_lowercase() {
                return Err(Error::invalid(field, "must not be your email address"));
            }
        }
        Ok(NewPassword(raw.to_owned()))
    }

    /// Hashes with argon2id and a fresh random salt (PHC string format).
    pub fn hash(&self) -> Result<String> {
        let mut salt_bytes = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt_bytes);
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| Error::internal_from("password salt", e))?;
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::internal_from("password hashing failed", e))
    }
}

/// Checks a password against a stored PHC hash. A malformed hash never matches.
pub fn verify(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A valid hash of a random password, verified against when an account does
/// not exist so that a sign-in takes as long either way.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let random: String = uuid::Uuid::new_v4().to_string();
        NewPassword(random).hash().unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_are_enforced() {
        assert!(NewPassword::parse("password", "short7!", None).is_err());
        assert!(NewPassword::parse("password", "eight ch", None).is_ok());
        assert!(NewPassword::parse("password", &"x".repeat(MAX_CHARS), None).is_ok());
        assert!(NewPassword::parse("password", &"x".repeat(MAX_CHARS + 1), None).is_err());
        // Characters, not bytes: eight Chinese characters are enough.
        assert!(NewPassword::parse("password", "守门人医生认证通过", None).is_ok());
    }

    #[test]
    fn common_passwords_and_the_email_are_refused() {
        for common in [
            "password",
            "Password1",
            "12345678",
            "woaini1314",
            "QWERTYUIOP",
        ] {
            let r = NewPassword::parse("new_password", common, None);
            assert_eq!(
                r.err()
                    .and_then(|e| e.field().map(str::to_owned))
                    .as_deref(),
                Some("new_password")
            );
        }
        assert!(
            NewPassword::parse("password", "li.wei@example.cn", Some("li.wei@example.cn")).is_err()
        );
        assert!(NewPassword::parse("password", "LI.WEI.x", Some("li.wei.x@example.cn")).is_err());
        // No composition rules: a long lower-case phrase is fine.
        assert!(NewPassword::parse("password", "correct horse battery staple", None).is_ok());
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let p = NewPassword::parse("password", "a long enough passphrase", None);
        let hash = p.and_then(|p| p.hash()).unwrap_or_default();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify("a long enough passphrase", &hash));
        assert!(!verify("a long enough passphrasE", &hash));
        assert!(!verify("anything", "not a hash"));
        let again = NewPassword::parse("password", "a long enough passphrase", None)
            .and_then(|p| p.hash())
            .unwrap_or_default();
        assert_ne!(hash, again, "salts must differ");
        assert!(!verify("x", decoy_hash()));
        assert!(decoy_hash().starts_with("$argon2id$"));
    }
}
