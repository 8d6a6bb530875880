//! Integration tokens: issued by an admin for another hospital system, shown
//! once, stored hashed, scoped and revocable.

use crate::domain::access::Permission;
use crate::domain::institutions::required_text;
use crate::domain::tokens::{self, TokenKind, join_scopes, parse_scopes};
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, require};
use crate::store;
use crate::store::api_tokens::{self, ApiTokenRow, NewApiToken};

pub struct Issued {
    pub row: ApiTokenRow,
    /// The secret itself: returned once, never stored.
    pub token: String,
}

pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<ApiTokenRow>> {
    require(ctx, caller, Permission::ManageApiTokens).await?;
    ctx.db
        .read(|conn| Ok(api_tokens::list_integrations(conn)?))
        .await
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
            Ok(Issued { row, token })
        })
        .await
}

pub async fn revoke(ctx: &Ctx, caller: &Caller, id: i64) -> Result<ApiTokenRow> {
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
}
