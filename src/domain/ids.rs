//! Typed ids of the entities that cross layers, so that a case's id cannot be
//! passed where a person's is expected. Each is an `i64` underneath: stored
//! as `BigInt` (`store::ids` maps them), a bare number in JSON, paths and
//! forms (serde-transparent). They deliberately implement no
//! `utoipa::ToSchema`: an API type with an id field says
//! `#[schema(value_type = i64)]`, so the OpenAPI document keeps integers.

use std::fmt;
use std::num::ParseIntError;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The number underneath (for logs, codes and URLs).
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

ids!(
    /// A person: a doctor, an examiner, a committee member, an admin.
    PersonId,
    /// A certification case: one doctor in one track.
    CaseId,
    /// A credential: the certificate a case's approval issues.
    CredentialId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_bare_number_in_json_and_text() {
        let id = PersonId(42);
        assert_eq!(serde_json::to_string(&id).ok().as_deref(), Some("42"));
        assert_eq!(serde_json::from_str::<PersonId>("42").ok(), Some(id));
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<PersonId>().ok(), Some(id));
        assert!("x".parse::<PersonId>().is_err());
    }
}
