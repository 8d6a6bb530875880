//! A person's own account: password changes, the one-time password link and
//! the preferred language.

use crate::domain::access::Permission;
use crate::domain::locale::Locale;
use crate::domain::password::{self, NewPassword};
use crate::domain::tokens;
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::people::PersonView;
use crate::services::{Caller, Ctx, require};
use crate::store::{self, api_tokens, password_tokens, people, sessions};

/// The caller's own account.
pub async fn me(ctx: &Ctx, caller: &Caller) -> Result<PersonView> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = caller.person_id().ok_or(Error::Forbidden)?;
    ctx.db
        .read(move |conn| {
            let row = people::find(conn, id)?.ok_or(Error::NotFound)?;
            let roles = people::roles_of(conn, id)?;
            Ok(PersonView::new(row, roles))
        })
        .await
}

/// Changes the caller's password after checking the current one. Every other
/// session and personal token of the person ends; the session making the
/// change stays. The owner is told by email.
pub async fn change_password(
    ctx: &Ctx,
    caller: &Caller,
    current: String,
    new: String,
) -> Result<()> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = caller.person_id().ok_or(Error::Forbidden)?;
    let caller = caller.clone();
    let db = ctx.db.clone();
    store::blocking(move || {
        let person = db.read_blocking(|conn| people::find(conn, id)?.ok_or(Error::NotFound))?;
        if !person
            .password_hash
            .as_deref()
            .is_some_and(|h| password::verify(&current, h))
        {
            return Err(Error::invalid(
                "current_password",
                "is not your current password",
            ));
        }
        if current == new {
            return Err(Error::invalid(
                "new_password",
                "must differ from the current password",
            ));
        }
        let hash = NewPassword::parse("new_password", &new, Some(&person.email))?.hash()?;
        db.write_blocking(|conn| {
            let now = store::now();
            people::set_password_hash(conn, id, &hash, now)?;
            match &caller.session_hash {
                Some(keep) => sessions::delete_others(conn, id, keep)?,
                None => sessions::delete_for_person(conn, id)?,
            };
            api_tokens::revoke_personal_for(conn, id, now)?;
            mail::enqueue_to(
                conn,
                &person,
                &Message::PasswordChanged {
                    name: person.name.clone(),
                },
                now,
            )?;
            let event = audit::event(
                &caller,
                "password_change",
                Some(format!("person:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)
        })
    })
    .await
}

/// Sets a password with a one-time link. The link works once, only while
/// unexpired, and only for an active person; all their sessions and
/// personal tokens end (whoever knew the old password is out).
pub async fn set_password_with_link(
    ctx: &Ctx,
    link_token: String,
    new: String,
    ip: Option<String>,
) -> Result<()> {
    let db = ctx.db.clone();
    store::blocking(move || {
        let hash = tokens::digest(&link_token);
        let now = store::now();
        let (link, person) = db.read_blocking(|conn| {
            let link = password_tokens::find_usable(conn, &hash, now)?.ok_or_else(|| {
                Error::invalid(
                    "token",
                    "this link is invalid, used or expired; ask an administrator for a new one",
                )
            })?;
            let person = people::find(conn, link.person_id)?.ok_or(Error::NotFound)?;
            Ok((link, person))
        })?;
        if !person.active {
            return Err(Error::AccountDisabled);
        }
        let new_hash = NewPassword::parse("password", &new, Some(&person.email))?.hash()?;
        db.write_blocking(|conn| {
            // Re-check inside the transaction: two tabs submitting the same
            // link must not both succeed.
            if password_tokens::find_usable(conn, &hash, now)?.is_none() {
                return Err(Error::invalid(
                    "token",
                    "this link is invalid, used or expired; ask an administrator for a new one",
                ));
            }
            people::set_password_hash(conn, link.person_id, &new_hash, now)?;
            password_tokens::use_all_for_person(conn, link.person_id, now)?;
            sessions::delete_for_person(conn, link.person_id)?;
            api_tokens::revoke_personal_for(conn, link.person_id, now)?;
            let event = audit::anonymous(
                "password_set",
                Some(format!("person:{}", link.person_id)),
                Outcome::Ok,
                ip.clone(),
                Some("one-time link".into()),
            );
            audit::record(conn, &event)
        })
    })
    .await
}

/// "Forgotten password": sends a one-time link to set a new password, by
/// the same rules as an administrator's setup link (it works once, a newer
/// link replaces older ones, setting the password ends every session), but
/// valid for an hour. The answer is the same whether or not the email
/// belongs to anyone, so the form tells nobody who has an account; an
/// unknown or deactivated account, or a request within minutes of the last
/// link, sends nothing and is only audited.
pub async fn request_password_reset(
    ctx: &Ctx,
    raw_email: String,
    ip: Option<String>,
) -> Result<()> {
    let email = crate::domain::people::Email::parse("email", &raw_email)?;
    let public_url = ctx.settings.public_url.clone();
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let person = people::find_by_email(conn, email.as_str())?;
            let (target, outcome, detail) = match person {
                Some(p) if !p.active => (Some(p.id), Outcome::Refused, "account deactivated"),
                Some(p)
                    if !tokens::may_send_reset(
                        password_tokens::latest_unused(conn, p.id)?,
                        now,
                    ) =>
                {
                    (Some(p.id), Outcome::Refused, "a link was sent minutes ago")
                }
                Some(p) => {
                    crate::services::people::send_password_link(
                        conn,
                        &p,
                        &public_url,
                        crate::services::people::LinkPurpose::Reset,
                    )?;
                    (Some(p.id), Outcome::Ok, "reset link sent")
                }
                None => (None, Outcome::Refused, "no such account"),
            };
            let event = audit::anonymous(
                "password_reset_request",
                target.map(|id| format!("person:{id}")),
                outcome,
                ip,
                Some(detail.into()),
            );
            audit::record(conn, &event)
        })
        .await
}

/// Whether a password link is still usable (the page says so before the
/// person types a password).
pub async fn link_is_usable(ctx: &Ctx, link_token: String) -> Result<bool> {
    ctx.db
        .read(move |conn| {
            Ok(
                password_tokens::find_usable(conn, &tokens::digest(&link_token), store::now())?
                    .is_some(),
            )
        })
        .await
}

pub async fn set_locale(ctx: &Ctx, caller: &Caller, locale: &str) -> Result<()> {
    require(ctx, caller, Permission::OwnAccount).await?;
    let id = caller.person_id().ok_or(Error::Forbidden)?;
    let locale =
        Locale::parse(locale).ok_or_else(|| Error::invalid("locale", "must be zh-CN or en"))?;
    ctx.db
        .write(move |conn| {
            people::set_locale(conn, id, locale)?;
            Ok(())
        })
        .await
}
