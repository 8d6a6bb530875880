//! Managing the alliance's institutions.

use crate::domain::access::Permission;
use crate::domain::institutions::InstitutionDraft;
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, require};
use crate::store;
use crate::store::institutions::{self, InstitutionRow};

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

pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<InstitutionRow>> {
    require(ctx, caller, Permission::ReadInstitutions).await?;
    ctx.db.read(|conn| Ok(institutions::list(conn)?)).await
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: i64) -> Result<InstitutionRow> {
    require(ctx, caller, Permission::ReadInstitutions).await?;
    ctx.db
        .read(move |conn| institutions::find(conn, id)?.ok_or(Error::NotFound))
        .await
}

fn name_taken() -> Error {
    Error::conflict("name", "an institution with this name already exists")
}

pub async fn create(ctx: &Ctx, caller: &Caller, input: InstitutionInput) -> Result<InstitutionRow> {
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
}

pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    input: InstitutionInput,
) -> Result<InstitutionRow> {
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
}
