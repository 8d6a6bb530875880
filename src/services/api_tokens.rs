//! Integration tokens: issued by an admin for another hospital system, shown
//! once, stored hashed, scoped and revocable.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::access::Permission;
use crate::domain::institutions::required_text;
use crate::domain::tokens::{self, TokenKind, join_scopes, parse_scopes};
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, require, utc};
use crate::store;
use crate::store::api_tokens::{self, ApiTokenRow, NewApiToken};

/// An integration token, without its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    /// The token's id.
    pub id: i64,
    /// Which system it is for.
    pub name: String,
    /// What it may do: any of `institutions:read`, `institutions:write`,
    /// `people:read`, `people:write`, `credentials:introspect`.
    pub scopes: Vec<String>,
    /// When it was issued (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
    /// When it was last used (RFC 3339 UTC); null if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked (RFC 3339 UTC); null while it works.
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

pub struct Issued {
    pub api_token: ApiToken,
    /// The secret itself: returned once, never stored.
    pub token: String,
}

pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<ApiToken>> {
    require(ctx, caller, Permission::ManageApiTokens).await?;
    let rows = ctx
        .db
        .read(|conn| Ok(api_tokens::list_integrations(conn)?))
        .await?;
    Ok(rows.into_iter().map(ApiToken::from).collect())
}

pub async fn issue(
    ctx: &Ctx,
    caller: &Caller,
    name: String,
    scopes: Vec<String>,
) -> Result<Issued> {
    require(ctx, caller, Permission::ManageApiTokens).await?;
    let name = required_text("name", &name, 100)?;
    let scopes = join_scopes(&parse_scopes("scopes", &scopes)?);
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            let token = tokens::generate(tokens::INTEGRATION_PREFIX);
            let row = api_tokens::insert(
                conn,
                &NewApiToken {
                    token_hash: &tokens::digest(&token),
                    kind: TokenKind::Integration,
                    name: &name,
                    person_id: None,
                    scopes: &scopes,
                    created_by: caller.person_id(),
                    expires_at: None,
                },
                store::now(),
            )?;
            let event = audit::event(
                &caller,
                "api_token_issue",
                Some(format!("api_token:{}", row.id)),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            Ok(Issued {
                api_token: ApiToken::from(row),
                token,
            })
        })
        .await
}

pub async fn revoke(ctx: &Ctx, caller: &Caller, id: i64) -> Result<ApiToken> {
    require(ctx, caller, Permission::ManageApiTokens).await?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            let row = api_tokens::find(conn, id)?
                .filter(|r| r.kind == TokenKind::Integration)
                .ok_or(Error::NotFound)?;
            api_tokens::revoke(conn, row.id, store::now())?;
            let event = audit::event(
                &caller,
                "api_token_revoke",
                Some(format!("api_token:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            api_tokens::find(conn, id)?.ok_or(Error::NotFound)
        })
        .await
        .map(ApiToken::from)
}
