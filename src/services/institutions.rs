//! Managing the alliance's institutions.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::access::Permission;
use crate::domain::institutions::InstitutionDraft;
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, require, utc};
use crate::store;
use crate::store::institutions::{self, InstitutionRow};

/// A hospital or clinic.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Institution {
    /// The institution's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `tertiary`, `secondary`, `community` or `township`.
    pub level: String,
    /// Its region (district or city).
    pub region: String,
    /// Whether it belongs to the alliance.
    pub alliance_member: bool,
    /// When it was created (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339 UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<InstitutionRow> for Institution {
    fn from(r: InstitutionRow) -> Self {
        Institution {
            id: r.id,
            name: r.name,
            level: r.level.as_str().to_owned(),
            region: r.region,
            alliance_member: r.alliance_member,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        }
    }
}

/// What someone submitted for an institution.
#[derive(Debug, Clone, Default)]
pub struct InstitutionInput {
    pub name: String,
    pub level: String,
    pub region: String,
    pub alliance_member: bool,
}

impl InstitutionInput {
    fn parse(&self) -> Result<InstitutionDraft> {
        InstitutionDraft::parse(&self.name, &self.level, &self.region, self.alliance_member)
    }
}

pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<Institution>> {
    require(ctx, caller, Permission::ReadInstitutions).await?;
    let rows = ctx.db.read(|conn| Ok(institutions::list(conn)?)).await?;
    Ok(rows.into_iter().map(Institution::from).collect())
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: i64) -> Result<Institution> {
    require(ctx, caller, Permission::ReadInstitutions).await?;
    ctx.db
        .read(move |conn| institutions::find(conn, id)?.ok_or(Error::NotFound))
        .await
        .map(Institution::from)
}

fn name_taken() -> Error {
    Error::conflict("name", "an institution with this name already exists")
}

pub async fn create(ctx: &Ctx, caller: &Caller, input: InstitutionInput) -> Result<Institution> {
    require(ctx, caller, Permission::ManageInstitutions).await?;
    let draft = input.parse()?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            if institutions::find_by_name(conn, &draft.name)?.is_some() {
                return Err(name_taken());
            }
            let row = institutions::insert(conn, &draft, store::now())
                .map_err(store::unique_as(name_taken))?;
            let event = audit::event(
                &caller,
                "institution_create",
                Some(format!("institution:{}", row.id)),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            Ok(row)
        })
        .await
        .map(Institution::from)
}

pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    input: InstitutionInput,
) -> Result<Institution> {
    require(ctx, caller, Permission::ManageInstitutions).await?;
    let draft = input.parse()?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            if institutions::find_by_name(conn, &draft.name)?.is_some_and(|other| other.id != id) {
                return Err(name_taken());
            }
            let row = institutions::update(conn, id, &draft, store::now())
                .map_err(store::unique_as(name_taken))?
                .ok_or(Error::NotFound)?;
            let event = audit::event(
                &caller,
                "institution_update",
                Some(format!("institution:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            Ok(row)
        })
        .await
        .map(Institution::from)
}
