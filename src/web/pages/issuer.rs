//! What the alliance publishes as a credential issuer, for anyone and every
//! origin: its public keys (a JWK set, and each key at the URL that is its
//! key id), the signed status lists, the issuer profile and the achievement
//! each track's credential attests. Verifiers fetch these; no page of a
//! signed-in person is among them.

use actix_web::{HttpResponse, web};

use crate::error::Error;
use crate::services::credentials;
use crate::web::error::PageError;

/// What verifiers fetch from their own pages (a wallet, a badge platform,
/// a hospital's system in a browser) is open to every origin. Such a
/// response never sets a cookie (`web::session::csrf_cookie`).
const OPEN_TO_EVERY_ORIGIN: (&str, &str) = ("Access-Control-Allow-Origin", "*");

/// The achievement a track's credential attests (the `achievement.id` of
/// every credential), for anyone.
pub async fn achievement(
    ctx: web::Data<crate::services::Ctx>,
    key: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let json = credentials::achievement(&ctx, key.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .insert_header(OPEN_TO_EVERY_ORIGIN)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(json.to_string()))
}

/// The alliance's public key as a JWK set.
pub async fn jwks(ctx: web::Data<crate::services::Ctx>) -> Result<HttpResponse, PageError> {
    let signer = credentials::signer(&ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(OPEN_TO_EVERY_ORIGIN)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(signer.jwks().to_string()))
}

/// One of the alliance's public keys, at the URL that is its key id (OB 3.0:
/// a `kid` dereferences to the JWK).
pub async fn public_key(
    ctx: web::Data<crate::services::Ctx>,
    thumbprint: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let jwk = credentials::signer(&ctx)
        .await?
        .key_by_thumbprint(&thumbprint)
        .ok_or(PageError(Error::NotFound))?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk+json")
        .insert_header(OPEN_TO_EVERY_ORIGIN)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(jwk.to_string()))
}

/// A signed Bitstring Status List credential (`standing`, or the older
/// `revocation` and `suspension`).
pub async fn status_list(
    ctx: web::Data<crate::services::Ctx>,
    purpose: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let purpose = credentials::Purpose::parse(&purpose).ok_or(PageError(Error::NotFound))?;
    let jwt = credentials::status_list(&ctx, purpose).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/vc+jwt")
        .insert_header(OPEN_TO_EVERY_ORIGIN)
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(jwt))
}

/// The issuer's profile.
pub async fn issuer(ctx: web::Data<crate::services::Ctx>) -> Result<HttpResponse, PageError> {
    let profile = credentials::issuer_profile(&ctx).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/ld+json")
        .insert_header(OPEN_TO_EVERY_ORIGIN)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(profile.to_string()))
}
