//! People: what makes a valid email, phone, practising-certificate number, and
//! a valid person as a whole.

use crate::domain::institutions::required_text;
use crate::domain::locale::Locale;
use crate::domain::roles::{Role, parse_roles};
use crate::error::{Error, Result};

/// An email address, lower-cased so that uniqueness is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(field: &str, raw: &str) -> Result<Email> {
        let value = raw.trim().to_lowercase();
        let bad = |why: &str| Error::invalid(field, why.to_string());
        if value.is_empty() {
            return Err(bad("is required"));
        }
        if value.len() > Self::MAX {
            return Err(bad("is too long"));
        }
        let (local, domain) = value
            .split_once('@')
            .ok_or_else(|| bad("is not an email address (no @)"))?;
        let valid_local = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let valid_domain = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid_local || !valid_domain {
            return Err(bad("is not a valid email address"));
        }
        Ok(Email(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An optional phone number: digits with the usual separators.
pub fn parse_phone(field: &str, raw: &str) -> Result<Option<String>> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -()".contains(c) || (c == '+' && i == 0));
    if !allowed || !(5..=20).contains(&digits) {
        return Err(Error::invalid(
            field,
            "must be a phone number of 5 to 20 digits (spaces, dashes, brackets and a leading + allowed)",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// An optional practising-certificate number (医师执业证书编码): letters,
/// digits and dashes, 5 to 32 characters, kept upper-case.
pub fn parse_practising_certificate(field: &str, raw: &str) -> Result<Option<String>> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let ok = (5..=32).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(Error::invalid(
            field,
            "must be 5 to 32 letters, digits or dashes",
        ));
    }
    Ok(Some(value.to_ascii_uppercase()))
}

pub const NAME_MAX: usize = 100;

/// What someone typed to describe a person, before validation.
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub email: String,
    pub name: String,
    pub phone: String,
    pub practising_certificate: String,
    pub institution_id: Option<i64>,
    pub roles: Vec<String>,
    pub locale: String,
}

/// A validated person, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonDraft {
    pub email: Email,
    pub name: String,
    pub phone: Option<String>,
    pub practising_certificate: Option<String>,
    pub institution_id: Option<i64>,
    pub roles: Vec<Role>,
    pub locale: Locale,
}

impl PersonDraft {
    /// Validates every field; a doctor must have a practising-certificate
    /// number and an institution, because eligibility for certification
    /// depends on both.
    pub fn parse(input: &PersonInput) -> Result<PersonDraft> {
        let email = Email::parse("email", &input.email)?;
        let name = required_text("name", &input.name, NAME_MAX)?;
        let phone = parse_phone("phone", &input.phone)?;
        let practising_certificate =
            parse_practising_certificate("practising_certificate", &input.practising_certificate)?;
        let roles = parse_roles("roles", &input.roles)?;
        let locale = if input.locale.trim().is_empty() {
            Locale::default()
        } else {
            Locale::parse(&input.locale)
                .ok_or_else(|| Error::invalid("locale", "must be zh-CN or en"))?
        };
        if roles.contains(&Role::Doctor) {
            if practising_certificate.is_none() {
                return Err(Error::invalid(
                    "practising_certificate",
                    "is required for a doctor",
                ));
            }
            if input.institution_id.is_none() {
                return Err(Error::invalid("institution_id", "is required for a doctor"));
            }
        }
        Ok(PersonDraft {
            email,
            name,
            phone,
            practising_certificate,
            institution_id: input.institution_id,
            roles,
            locale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doctor() -> PersonInput {
        PersonInput {
            email: " Li.Wei@Example.CN ".into(),
            name: "李伟".into(),
            phone: "+86 138-0000-0000".into(),
            practising_certificate: "110440100012345".into(),
            institution_id: Some(3),
            roles: vec!["doctor".into()],
            locale: "zh-CN".into(),
        }
    }

    fn field(input: &PersonInput) -> Option<String> {
        PersonDraft::parse(input)
            .err()
            .and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse("email", " A.B@Example.com ")
                .ok()
                .map(Email::into_string),
            Some("a.b@example.com".into())
        );
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@-x.com",
            "a@x..com",
            "a@@x.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "accepted {bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse("email", &long).is_err());
    }

    #[test]
    fn a_valid_doctor_parses() {
        let d = PersonDraft::parse(&doctor()).ok();
        let d = d.as_ref();
        assert_eq!(d.map(|d| d.email.as_str()), Some("li.wei@example.cn"));
        assert_eq!(d.map(|d| d.roles.clone()), Some(vec![Role::Doctor]));
        assert_eq!(d.map(|d| d.locale), Some(Locale::ZhCn));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut p = doctor();
        p.email = "nope".into();
        assert_eq!(field(&p).as_deref(), Some("email"));
        let mut p = doctor();
        p.name = "  ".into();
        assert_eq!(field(&p).as_deref(), Some("name"));
        let mut p = doctor();
        p.phone = "call me".into();
        assert_eq!(field(&p).as_deref(), Some("phone"));
        let mut p = doctor();
        p.phone = "12".into();
        assert_eq!(field(&p).as_deref(), Some("phone"));
        let mut p = doctor();
        p.practising_certificate = "12 34".into();
        assert_eq!(field(&p).as_deref(), Some("practising_certificate"));
        let mut p = doctor();
        p.roles = vec!["surgeon".into()];
        assert_eq!(field(&p).as_deref(), Some("roles"));
        let mut p = doctor();
        p.locale = "fr".into();
        assert_eq!(field(&p).as_deref(), Some("locale"));
    }

    #[test]
    fn a_doctor_needs_a_certificate_and_an_institution() {
        let mut p = doctor();
        p.practising_certificate = String::new();
        assert_eq!(field(&p).as_deref(), Some("practising_certificate"));
        let mut p = doctor();
        p.institution_id = None;
        assert_eq!(field(&p).as_deref(), Some("institution_id"));
        // Other roles need neither.
        let mut p = doctor();
        p.roles = vec!["committee".into()];
        p.practising_certificate = String::new();
        p.institution_id = None;
        assert!(PersonDraft::parse(&p).is_ok());
    }

    #[test]
    fn optional_fields_may_be_empty_and_locale_defaults() {
        let p = PersonInput {
            email: "admin@alliance.org".into(),
            name: "Admin".into(),
            roles: vec!["admin".into()],
            ..PersonInput::default()
        };
        let d = PersonDraft::parse(&p).ok();
        assert_eq!(d.as_ref().and_then(|d| d.phone.clone()), None);
        assert_eq!(d.map(|d| d.locale), Some(Locale::ZhCn));
    }
}
