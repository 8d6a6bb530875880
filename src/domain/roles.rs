//! The roles a person may hold. One person may hold several.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Doctor,
    Examiner,
    Committee,
    ReferralDesk,
    /// Runs offline workshops and records who attended them.
    Instructor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Doctor,
        Role::Examiner,
        Role::Committee,
        Role::ReferralDesk,
        Role::Instructor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Doctor => "doctor",
            Role::Examiner => "examiner",
            Role::Committee => "committee",
            Role::ReferralDesk => "referral_desk",
            Role::Instructor => "instructor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }
}

/// Parses a list of role names, refusing unknown ones by name and dropping
/// duplicates. The result is sorted so that equal sets compare equal.
pub fn parse_roles<S: AsRef<str>>(field: &str, names: &[S]) -> Result<Vec<Role>> {
    let mut roles = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        let role = Role::parse(name).ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "unknown role \"{name}\"; roles are {}",
                    Role::ALL.map(Role::as_str).join(", ")
                ),
            )
        })?;
        roles.push(role);
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn unknown_roles_are_refused_by_name() {
        let err = parse_roles("roles", &["doctor", "surgeon"]).err();
        match err {
            Some(Error::Invalid { field, message }) => {
                assert_eq!(field, "roles");
                assert!(message.contains("surgeon"));
            }
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn duplicate_roles_collapse_and_sort() {
        assert_eq!(
            parse_roles("roles", &["admin", "doctor", "admin"]).ok(),
            Some(vec![Role::Doctor, Role::Admin])
        );
        assert_eq!(parse_roles::<&str>("roles", &[]).ok(), Some(vec![]));
    }
}
