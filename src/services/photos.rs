//! A holder's photo on the public page of their credentials: the holder
//! uploads, replaces or removes it and decides whether others see it. The
//! public page shows it only while the holder consents; until then only
//! the holder sees it.

use crate::domain::access::Permission;
use crate::domain::ids::PersonId;
use crate::domain::photos as photo;
use crate::error::{Error, Result};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, require};
use crate::store::{self, credentials as store_credentials, photos};

/// What the holder sees of their own photo.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MyPhoto {
    /// Whether a photo is stored.
    pub has_photo: bool,
    /// Whether the public pages of the holder's credentials show it.
    pub public: bool,
}

fn me(caller: &Caller) -> Result<PersonId> {
    caller.person_id().ok_or(Error::Forbidden)
}

pub async fn mine(ctx: &Ctx, caller: &Caller) -> Result<MyPhoto> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = me(caller)?;
    ctx.db
        .read(move |conn| {
            let found = photos::find(conn, id)?;
            Ok(MyPhoto {
                has_photo: found.is_some(),
                public: found.is_some_and(|p| p.public),
            })
        })
        .await
}

/// The holder's own photo, as stored (JPEG).
pub async fn my_image(ctx: &Ctx, caller: &Caller) -> Result<Vec<u8>> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = me(caller)?;
    ctx.db
        .read(move |conn| Ok(photos::find(conn, id)?.ok_or(Error::NotFound)?.jpeg))
        .await
}

/// Stores a new photo (replacing the old one) with the holder's choice of
/// showing it. The upload is made safe and small first (`domain::photos`).
pub async fn save(ctx: &Ctx, caller: &Caller, upload: Vec<u8>, public: bool) -> Result<MyPhoto> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = me(caller)?;
    let jpeg = photo::normalise(&upload).map_err(|p| Error::invalid("photo", p.to_string()))?;
    let mut event = audit::event(
        caller,
        "photo_save",
        Some(format!("person:{id}")),
        Outcome::Ok,
    );
    event.detail = Some(format!("public {public}, {} bytes", jpeg.len()));
    ctx.db
        .write(move |conn| {
            photos::save(conn, id, &jpeg, public, store::now())?;
            audit::record(conn, &event)?;
            Ok(MyPhoto {
                has_photo: true,
                public,
            })
        })
        .await
}

/// Gives or withdraws consent to show the photo.
pub async fn set_public(ctx: &Ctx, caller: &Caller, public: bool) -> Result<MyPhoto> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = me(caller)?;
    let mut event = audit::event(
        caller,
        "photo_consent",
        Some(format!("person:{id}")),
        Outcome::Ok,
    );
    event.detail = Some(format!("public {public}"));
    ctx.db
        .write(move |conn| {
            if !photos::set_public(conn, id, public, store::now())? {
                return Err(Error::conflict("photo", "there is no photo to show"));
            }
            audit::record(conn, &event)?;
            Ok(MyPhoto {
                has_photo: true,
                public,
            })
        })
        .await
}

/// Deletes the photo (nothing is kept).
pub async fn remove(ctx: &Ctx, caller: &Caller) -> Result<()> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = me(caller)?;
    let event = audit::event(
        caller,
        "photo_remove",
        Some(format!("person:{id}")),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            if photos::remove(conn, id)? {
                audit::record(conn, &event)?;
            }
            Ok(())
        })
        .await
}

/// The photo of a credential's holder for its public page: only while the
/// holder consents (otherwise, as for a number that does not exist, 404).
/// Limited per address as verification is.
pub async fn public_image(ctx: &Ctx, address: Option<String>, number: String) -> Result<Vec<u8>> {
    let number = crate::services::credentials::public_number(ctx, address, &number).await?;
    ctx.db
        .read(move |conn| {
            let c =
                store_credentials::credential_by_number(conn, &number)?.ok_or(Error::NotFound)?;
            match photos::find(conn, c.person_id)? {
                Some(p) if p.public => Ok(p.jpeg),
                _ => Err(Error::NotFound),
            }
        })
        .await
}
