//! Request and response bodies of the API. Requests refuse unknown members,
//! so a typo is an error rather than silently ignored. Times are RFC 3339 UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::people::PersonInput;
use crate::services::institutions::InstitutionInput;
use crate::services::people::PersonView;
use crate::store::api_tokens::ApiTokenRow;
use crate::store::institutions::InstitutionRow;

use crate::services::utc;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

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
    pub public: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The token from the one-time link.
    pub token: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstitutionBody {
    pub name: String,
    /// `tertiary`, `secondary`, `community` or `township`.
    pub level: String,
    pub region: String,
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

#[derive(Serialize, ToSchema)]
pub struct Institution {
    pub id: i64,
    pub name: String,
    pub level: String,
    pub region: String,
    pub alliance_member: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<InstitutionRow> for Institution {
    fn from(r: InstitutionRow) -> Self {
        Institution {
            id: r.id,
            name: r.name,
            level: r.level,
            region: r.region,
            alliance_member: r.alliance_member,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonBody {
    pub email: String,
    pub name: String,
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

#[derive(Serialize, ToSchema)]
pub struct Person {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub practising_certificate: Option<String>,
    pub institution_id: Option<i64>,
    pub roles: Vec<String>,
    pub locale: String,
    pub active: bool,
    /// False until the person has used their one-time link.
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub deactivated_at: Option<DateTime<Utc>>,
}

impl From<PersonView> for Person {
    fn from(v: PersonView) -> Self {
        let has_password = v.has_password();
        let r = v.row;
        Person {
            id: r.id,
            email: r.email,
            name: r.name,
            phone: r.phone,
            practising_certificate: r.practising_certificate,
            institution_id: r.institution_id,
            roles: v.roles.iter().map(|x| x.as_str().to_owned()).collect(),
            locale: r.locale,
            active: r.active,
            has_password,
            created_at: utc(r.created_at),
            deactivated_at: r.deactivated_at.map(utc),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiTokenBody {
    /// Which system the token is for, e.g. "District HIS".
    pub name: String,
    /// Any of `institutions:read`, `institutions:write`, `people:read`, `people:write`.
    pub scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: r.id,
            name: r.name,
            scopes: r.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: utc(r.created_at),
            last_used_at: r.last_used_at.map(utc),
            revoked_at: r.revoked_at.map(utc),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuedApiToken {
    /// The secret. Shown in this response only; store it now.
    pub token: String,
    pub api_token: ApiToken,
}
