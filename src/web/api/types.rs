//! Request and response bodies of the API. Requests refuse unknown members,
//! so a typo is an error rather than silently ignored. Times are RFC 3339 UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::PersonId;
use crate::domain::people::PersonInput;
pub use crate::services::api_tokens::ApiToken;
pub use crate::services::institutions::Institution;
use crate::services::institutions::InstitutionInput;
use crate::services::people::PersonView;

use crate::services::utc;

/// Whether the server is up.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: String,
}

/// Signing in for a personal token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The account's email address.
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// A personal bearer token.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// The secret to send as `Authorization: Bearer TOKEN`; shown only here.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// When the token stops working (RFC 3339 UTC); null if it never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changing one's own password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password in use now.
    pub current_password: String,
    /// The new password (the password rules apply: a 422 names them).
    pub new_password: String,
}

/// The caller's preferred language.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocaleRequest {
    /// `zh-CN` or `en`.
    pub locale: String,
}

/// Asks for a one-time link to set a new password (the sign-in page's
/// "forgotten password").
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's email address.
    pub email: String,
}

/// Whether the public pages of the caller's credentials show their photo.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhotoConsentRequest {
    /// True to show the photo on those public pages, false to stop showing it.
    pub public: bool,
}

/// Setting a password with a one-time link.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The token from the one-time link.
    pub token: String,
    /// The new password (the password rules apply: a 422 names them).
    pub password: String,
}

/// An institution as an admin creates or replaces it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstitutionBody {
    /// The institution's name; unique.
    pub name: String,
    /// `tertiary`, `secondary`, `community` or `township`.
    pub level: String,
    /// Its region (district or city), free text.
    pub region: String,
    /// Whether it belongs to the alliance: its doctors are eligible to
    /// certify only if so.
    pub alliance_member: bool,
}

impl From<InstitutionBody> for InstitutionInput {
    fn from(b: InstitutionBody) -> Self {
        InstitutionInput {
            name: b.name,
            level: b.level,
            region: b.region,
            alliance_member: b.alliance_member,
        }
    }
}

/// A person as an admin creates or replaces them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    /// Their email address (sign-in name); unique.
    pub email: String,
    /// Their full name.
    pub name: String,
    /// A phone number: 5 to 20 digits, spaces, dashes, brackets and a
    /// leading `+` allowed; optional.
    #[serde(default)]
    pub phone: Option<String>,
    /// Required for doctors (医师执业证书编码).
    #[serde(default)]
    pub practising_certificate: Option<String>,
    /// Required for doctors.
    #[serde(default)]
    pub institution_id: Option<i64>,
    /// Any of `doctor`, `examiner`, `committee`, `referral_desk`, `instructor`, `admin`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// `zh-CN` (default) or `en`.
    #[serde(default)]
    pub locale: Option<String>,
}

impl From<PersonBody> for PersonInput {
    fn from(b: PersonBody) -> Self {
        PersonInput {
            email: b.email,
            name: b.name,
            phone: b.phone.unwrap_or_default(),
            practising_certificate: b.practising_certificate.unwrap_or_default(),
            institution_id: b.institution_id,
            roles: b.roles,
            locale: b.locale.unwrap_or_default(),
        }
    }
}

/// A person with an account.
#[derive(Serialize, ToSchema)]
pub struct Person {
    /// The person's id.
    #[schema(value_type = i64)]
    pub id: PersonId,
    /// Their email address (sign-in name).
    pub email: String,
    /// Their full name.
    pub name: String,
    /// Their phone number; null if none was given.
    pub phone: Option<String>,
    /// Their practising-certificate number (医师执业证书编码); null if none.
    pub practising_certificate: Option<String>,
    /// The id of their institution; null if none.
    pub institution_id: Option<i64>,
    /// Their roles, any of `doctor`, `examiner`, `committee`,
    /// `referral_desk`, `instructor`, `admin`.
    pub roles: Vec<String>,
    /// Their language: `zh-CN` or `en`.
    pub locale: String,
    /// False once deactivated: they cannot sign in.
    pub active: bool,
    /// False until the person has used their one-time link.
    pub has_password: bool,
    /// When the account was created (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
    /// When it was last deactivated (RFC 3339 UTC); null if never.
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl From<PersonView> for Person {
    fn from(v: PersonView) -> Self {
        let r = v;
        Person {
            id: r.id,
            email: r.email,
            name: r.name,
            phone: r.phone,
            practising_certificate: r.practising_certificate,
            institution_id: r.institution_id,
            roles: r.roles.iter().map(|x| x.as_str().to_owned()).collect(),
            locale: r.locale.as_str().to_owned(),
            active: r.active,
            has_password: r.has_password,
            created_at: utc(r.created_at),
            deactivated_at: r.deactivated_at.map(utc),
        }
    }
}

/// An integration token to issue.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenBody {
    /// Which system the token is for, e.g. "District HIS".
    pub name: String,
    /// Any of `institutions:read`, `institutions:write`, `people:read`,
    /// `people:write`, `credentials:introspect`.
    pub scopes: Vec<String>,
}

/// A newly issued integration token, with its secret.
#[derive(Serialize, ToSchema)]
pub struct IssuedApiToken {
    /// The secret. Shown in this response only; store it now.
    pub token: String,
    /// The token as listed from now on.
    pub api_token: ApiToken,
}
