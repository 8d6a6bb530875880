//! Institutions of the alliance and the rules for describing one.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where an institution sits in the health system's tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Tertiary,
    Secondary,
    Community,
    Township,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Tertiary,
        Level::Secondary,
        Level::Community,
        Level::Township,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Tertiary => "tertiary",
            Level::Secondary => "secondary",
            Level::Community => "community",
            Level::Township => "township",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }
}

pub const NAME_MAX: usize = 200;
pub const REGION_MAX: usize = 100;

/// A validated description of an institution, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionDraft {
    pub name: String,
    pub level: Level,
    pub region: String,
    pub alliance_member: bool,
}

impl InstitutionDraft {
    pub fn parse(name: &str, level: &str, region: &str, alliance_member: bool) -> Result<Self> {
        let name = required_text("name", name, NAME_MAX)?;
        let level = Level::parse(level).ok_or_else(|| {
            Error::invalid(
                "level",
                format!(
                    "unknown level \"{}\"; levels are {}",
                    level.trim(),
                    Level::ALL.map(Level::as_str).join(", ")
                ),
            )
        })?;
        let region = required_text("region", region, REGION_MAX)?;
        Ok(InstitutionDraft {
            name,
            level,
            region,
            alliance_member,
        })
    }
}

/// Trims, refuses empty text, over-long text and control characters.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if value.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<InstitutionDraft>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn a_valid_institution_is_trimmed() {
        let d = InstitutionDraft::parse(
            "  Xinqiao Community Health Centre ",
            "community",
            " Yubei ",
            true,
        );
        assert_eq!(
            d.ok(),
            Some(InstitutionDraft {
                name: "Xinqiao Community Health Centre".into(),
                level: Level::Community,
                region: "Yubei".into(),
                alliance_member: true,
            })
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        assert_eq!(
            field_of(InstitutionDraft::parse("", "community", "R", true)).as_deref(),
            Some("name")
        );
        assert_eq!(
            field_of(InstitutionDraft::parse("N", "clinic", "R", true)).as_deref(),
            Some("level")
        );
        assert_eq!(
            field_of(InstitutionDraft::parse("N", "community", " ", true)).as_deref(),
            Some("region")
        );
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(
            field_of(InstitutionDraft::parse(&long, "community", "R", true)).as_deref(),
            Some("name")
        );
        assert_eq!(
            field_of(InstitutionDraft::parse("a\u{0}b", "community", "R", true)).as_deref(),
            Some("name")
        );
    }

    #[test]
    fn every_level_round_trips() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
        }
    }
}
