//! Managing people: accounts, roles, activation, and the one-time link with
//! which a new person sets their password.

use chrono::{Duration, NaiveDateTime};

use crate::domain::access::Permission;
use crate::domain::ids::PersonId;
use crate::domain::locale::Locale;
use crate::domain::password::NewPassword;
use crate::domain::people::{PersonDraft, PersonInput};
use crate::domain::roles::Role;
use crate::domain::tokens;
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, require};
use crate::store::people::{self, PersonRow};
use crate::store::{self, DbConn, api_tokens, institutions, password_tokens, sessions};

/// How long a password link works.
pub const SETUP_LINK_HOURS: i64 = 72;

/// A person with their roles, as admins (and the person) see them: whether
/// a password is set, never its hash.
#[derive(Debug, Clone)]
pub struct PersonView {
    pub id: PersonId,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub practising_certificate: Option<String>,
    pub institution_id: Option<i64>,
    pub locale: Locale,
    /// False once deactivated: they cannot sign in.
    pub active: bool,
    /// False until the person has used their one-time link.
    pub has_password: bool,
    pub created_at: NaiveDateTime,
    pub deactivated_at: Option<NaiveDateTime>,
    pub roles: Vec<Role>,
}

impl PersonView {
    pub(crate) fn new(row: PersonRow, roles: Vec<Role>) -> Self {
        PersonView {
            has_password: row.password_hash.is_some(),
            id: row.id,
            email: row.email,
            name: row.name,
            phone: row.phone,
            practising_certificate: row.practising_certificate,
            institution_id: row.institution_id,
            locale: row.locale,
            active: row.active,
            created_at: row.created_at,
            deactivated_at: row.deactivated_at,
            roles,
        }
    }
}

fn email_taken() -> Error {
    Error::conflict("email", "a person with this email already exists")
}

fn check_institution(conn: &mut DbConn, draft: &PersonDraft) -> Result<()> {
    if let Some(id) = draft.institution_id
        && institutions::find(conn, id)?.is_none()
    {
        return Err(Error::invalid("institution_id", "no such institution"));
    }
    Ok(())
}

pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<PersonView>> {
    require(ctx, caller, Permission::ReadPeople).await?;
    ctx.db
        .read(|conn| {
            let rows = people::list(conn)?;
            let ids: Vec<PersonId> = rows.iter().map(|r| r.id).collect();
            let roles = people::roles_of_all(conn, &ids)?;
            Ok(rows
                .into_iter()
                .map(|row| {
                    let mut mine: Vec<Role> = roles
                        .iter()
                        .filter(|(id, _)| *id == row.id)
                        .map(|(_, r)| *r)
                        .collect();
                    mine.sort();
                    PersonView::new(row, mine)
                })
                .collect())
        })
        .await
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: PersonId) -> Result<PersonView> {
    require(ctx, caller, Permission::ReadPeople).await?;
    ctx.db.read(move |conn| load(conn, id)).await
}

fn load(conn: &mut DbConn, id: PersonId) -> Result<PersonView> {
    let row = people::find(conn, id)?.ok_or(Error::NotFound)?;
    let roles = people::roles_of(conn, id)?;
    Ok(PersonView::new(row, roles))
}

/// Creates a person and emails them a one-time link to set their password,
/// in one transaction.
pub async fn create(ctx: &Ctx, caller: &Caller, input: PersonInput) -> Result<PersonView> {
    require(ctx, caller, Permission::ManagePeople).await?;
    let draft = PersonDraft::parse(&input)?;
    let caller = caller.clone();
    let public_url = ctx.settings.public_url.clone();
    ctx.db
        .write(move |conn| {
            if people::find_by_email(conn, draft.email.as_str())?.is_some() {
                return Err(email_taken());
            }
            check_institution(conn, &draft)?;
            let now = store::now();
            let row = people::insert(conn, &draft, now).map_err(store::unique_as(email_taken))?;
            send_setup_link(conn, &row, &public_url)?;
            let event = audit::event(
                &caller,
                "person_create",
                Some(format!("person:{}", row.id)),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            load(conn, row.id)
        })
        .await
}

pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    id: PersonId,
    input: PersonInput,
) -> Result<PersonView> {
    require(ctx, caller, Permission::ManagePeople).await?;
    let draft = PersonDraft::parse(&input)?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            let before = load(conn, id)?;
            if people::find_by_email(conn, draft.email.as_str())?.is_some_and(|p| p.id != id) {
                return Err(email_taken());
            }
            check_institution(conn, &draft)?;
            // The alliance must never lock itself out.
            if before.roles.contains(&Role::Admin)
                && !draft.roles.contains(&Role::Admin)
                && before.active
            {
                refuse_last_admin(conn)?;
            }
            people::update(conn, id, &draft, store::now())
                .map_err(store::unique_as(email_taken))?
                .ok_or(Error::NotFound)?;
            let event = audit::event(
                &caller,
                "person_update",
                Some(format!("person:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            load(conn, id)
        })
        .await
}

fn refuse_last_admin(conn: &mut DbConn) -> Result<()> {
    if people::count_active_admins(conn)? <= 1 {
        return Err(Error::conflict(
            "roles",
            "the last active admin cannot lose the admin role or be deactivated",
        ));
    }
    Ok(())
}

/// Deactivates (never deletes) a person: they can no longer sign in, and
/// their sessions and API tokens end at once.
pub async fn deactivate(ctx: &Ctx, caller: &Caller, id: PersonId) -> Result<PersonView> {
    require(ctx, caller, Permission::ManagePeople).await?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            let before = load(conn, id)?;
            if before.roles.contains(&Role::Admin) && before.active {
                refuse_last_admin(conn)?;
            }
            let now = store::now();
            people::set_active(conn, id, false, now)?;
            sessions::delete_for_person(conn, id)?;
            api_tokens::revoke_personal_for(conn, id, now)?;
            let event = audit::event(
                &caller,
                "person_deactivate",
                Some(format!("person:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            load(conn, id)
        })
        .await
}

pub async fn reactivate(ctx: &Ctx, caller: &Caller, id: PersonId) -> Result<PersonView> {
    require(ctx, caller, Permission::ManagePeople).await?;
    let caller = caller.clone();
    ctx.db
        .write(move |conn| {
            load(conn, id)?;
            people::set_active(conn, id, true, store::now())?;
            let event = audit::event(
                &caller,
                "person_reactivate",
                Some(format!("person:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            load(conn, id)
        })
        .await
}

/// Sends a fresh password link (replacing any earlier one), e.g. when the
/// first one expired or the person forgot their password.
pub async fn resend_setup_link(ctx: &Ctx, caller: &Caller, id: PersonId) -> Result<PersonView> {
    require(ctx, caller, Permission::ManagePeople).await?;
    let caller = caller.clone();
    let public_url = ctx.settings.public_url.clone();
    ctx.db
        .write(move |conn| {
            let row = people::find(conn, id)?.ok_or(Error::NotFound)?;
            if !row.active {
                return Err(Error::conflict(
                    "id",
                    "the person is deactivated; reactivate them first",
                ));
            }
            send_setup_link(conn, &row, &public_url)?;
            let event = audit::event(
                &caller,
                "person_setup_link",
                Some(format!("person:{id}")),
                Outcome::Ok,
            );
            audit::record(conn, &event)?;
            load(conn, id)
        })
        .await
}

fn send_setup_link(conn: &mut DbConn, person: &PersonRow, public_url: &str) -> Result<()> {
    send_password_link(conn, person, public_url, LinkPurpose::Setup)
}

/// Why a one-time password link is sent: the mail says so, and a reset
/// link lives for an hour instead of three days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Setup,
    Reset,
}

/// Makes a one-time link to `/set-password` (replacing any older one) and
/// queues the email that carries it. Only the link's digest is stored.
pub fn send_password_link(
    conn: &mut DbConn,
    person: &PersonRow,
    public_url: &str,
    purpose: LinkPurpose,
) -> Result<()> {
    let now = store::now();
    let secret = tokens::generate(tokens::PASSWORD_LINK_PREFIX);
    let valid = match purpose {
        LinkPurpose::Setup => Duration::hours(SETUP_LINK_HOURS),
        LinkPurpose::Reset => Duration::minutes(tokens::RESET_LINK_MINUTES),
    };
    password_tokens::use_all_for_person(conn, person.id, now)?;
    password_tokens::insert(conn, &tokens::digest(&secret), person.id, now, now + valid)?;
    let link = format!("{public_url}/set-password?token={secret}");
    let name = person.name.clone();
    let message = match purpose {
        LinkPurpose::Setup => Message::PasswordSetup {
            name,
            link,
            valid_hours: SETUP_LINK_HOURS,
        },
        LinkPurpose::Reset => Message::PasswordReset {
            name,
            link,
            valid_minutes: tokens::RESET_LINK_MINUTES,
        },
    };
    mail::enqueue_to(conn, person, &message, now)?;
    Ok(())
}

/// The operator's bootstrap (`gatekeeper admin create`): an active admin with
/// a password, no email needed. Refuses an email that exists.
pub fn create_admin(db: &store::Db, email: &str, name: &str, password: &str) -> Result<PersonRow> {
    let draft = PersonDraft::parse(&PersonInput {
        email: email.to_owned(),
        name: name.to_owned(),
        roles: vec![Role::Admin.as_str().to_owned()],
        ..PersonInput::default()
    })?;
    let password = NewPassword::parse("password", password, Some(draft.email.as_str()))?;
    let hash = password.hash()?;
    db.write_blocking(|conn| {
        if people::find_by_email(conn, draft.email.as_str())?.is_some() {
            return Err(email_taken());
        }
        let now = store::now();
        let row = people::insert(conn, &draft, now)?;
        people::set_password_hash(conn, row.id, &hash, now)?;
        let event = audit::anonymous(
            "admin_create",
            Some(format!("person:{}", row.id)),
            Outcome::Ok,
            None,
            Some("command line".into()),
        );
        audit::record(conn, &event)?;
        people::find(conn, row.id)?.ok_or(Error::NotFound)
    })
}

/// Whether any active admin exists (the server says how to create one if not).
pub fn has_admin(db: &store::Db) -> Result<bool> {
    db.read_blocking(|conn| Ok(people::count_active_admins(conn)? > 0))
}
