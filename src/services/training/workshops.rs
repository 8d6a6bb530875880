//! Workshop sessions: scheduling, signing up with a waiting list, cancelling,
//! the roster, attendance and reminders.

use super::*;
use crate::domain::ids::PersonId;
use crate::domain::numbers::non_negative_u32;

/// A scheduled session of a workshop.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// The session's id.
    pub id: i64,
    /// Its workshop's id.
    pub workshop_id: i64,
    /// Its workshop's title.
    pub workshop_title: String,
    /// When it starts (RFC 3339 UTC).
    pub starts_at: DateTime<Utc>,
    /// When it ends (RFC 3339 UTC).
    pub ends_at: DateTime<Utc>,
    /// Where it takes place.
    pub place: String,
    /// Places; further sign-ups wait.
    pub capacity: i32,
    /// Sign-ups holding a place.
    pub booked: i64,
    /// Sign-ups on the waiting list.
    pub waiting: i64,
    /// The instructor's person id.
    #[schema(value_type = i64)]
    pub instructor_id: PersonId,
    /// The instructor's name.
    pub instructor_name: String,
    /// The caller's sign-up: `booked`, `waiting` or `cancelled`.
    pub my_status: Option<String>,
    /// Whether the caller attended; null until recorded or without a sign-up.
    pub my_attendance: Option<bool>,
    /// True until it starts: sign-ups and cancellations are possible.
    pub open: bool,
}

fn session_view(
    conn: &mut DbConn,
    session: &SessionRow,
    workshop: &WorkshopRow,
    me: PersonId,
    now: NaiveDateTime,
) -> Result<SessionView> {
    let booked = store_training::count_status(conn, session.id, SignupStatus::Booked)?;
    let waiting = store_training::count_status(conn, session.id, SignupStatus::Waiting)?;
    let mine = store_training::find_signup(conn, session.id, me)?;
    let instructor_name = people::find(conn, session.instructor_id)?
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(SessionView {
        id: session.id,
        workshop_id: workshop.id,
        workshop_title: workshop.title.clone(),
        starts_at: utc(session.starts_at),
        ends_at: utc(session.ends_at),
        place: session.place.clone(),
        capacity: session.capacity,
        booked,
        waiting,
        instructor_id: session.instructor_id,
        instructor_name,
        my_status: mine.as_ref().map(|s| s.status.as_str().to_owned()),
        my_attendance: mine.and_then(|s| s.attended),
        open: now < session.starts_at,
    })
}

/// Workshop sessions not yet over, with the caller's sign-ups.
pub async fn sessions(ctx: &Ctx, caller: &Caller) -> Result<Vec<SessionView>> {
    let me = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let now = store::now();
            let mut out = Vec::new();
            for (session, workshop) in store_training::sessions_with_workshops(conn, Some(now))? {
                out.push(session_view(conn, &session, &workshop, me, now)?);
            }
            Ok(out)
        })
        .await
}

/// What an admin fills in to schedule a session.
#[derive(Debug, Clone)]
pub struct SessionInput {
    pub workshop_id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: String,
    pub capacity: i64,
    pub instructor_id: PersonId,
}

pub async fn schedule_session(ctx: &Ctx, caller: &Caller, input: SessionInput) -> Result<i64> {
    require(ctx, caller, Permission::ManageTraining).await?;
    let by = person(ctx, caller).await?.id;
    dates::time("starts_at", input.starts_at)?;
    dates::time("ends_at", input.ends_at)?;
    if input.ends_at <= input.starts_at {
        return Err(Error::invalid("ends_at", "must be after the start"));
    }
    let capacity = i32::try_from(input.capacity)
        .ok()
        .filter(|c| (1..=500).contains(c))
        .ok_or_else(|| Error::invalid("capacity", "must be 1 to 500"))?;
    if input.place.trim().is_empty() {
        return Err(Error::invalid("place", "must not be empty"));
    }
    let event = audit::event(
        caller,
        "workshop.schedule",
        Some(format!("workshop:{}", input.workshop_id)),
        Outcome::Ok,
    );
    ctx.db
        .write(move |conn| {
            let now = store::now();
            if input.starts_at.naive_utc() <= now {
                return Err(Error::invalid("starts_at", "must be in the future"));
            }
            store_training::find_workshop(conn, input.workshop_id)?
                .filter(|w| w.retired_at.is_none())
                .ok_or_else(|| Error::invalid("workshop", "choose one of the tracks' workshops"))?;
            people::find(conn, input.instructor_id)?
                .filter(|p| p.active)
                .ok_or_else(|| Error::invalid("instructor", "choose an active person"))?;
            let row = store_training::create_session(
                conn,
                &NewSession {
                    workshop_id: input.workshop_id,
                    starts_at: input.starts_at.naive_utc(),
                    ends_at: input.ends_at.naive_utc(),
                    place: input.place.trim(),
                    capacity,
                    instructor_id: input.instructor_id,
                    created_by: by,
                },
                now,
            )?;
            audit::record(conn, &event)?;
            Ok(row.id)
        })
        .await
}

fn refusal(r: training::SignupRefusal) -> Error {
    match r {
        training::SignupRefusal::Started => {
            Error::conflict("session", "this session has started; its list is closed")
        }
    }
}

/// Signs the caller up: a place if one is free, else the waiting list.
pub async fn sign_up(ctx: &Ctx, caller: &Caller, session_id: i64) -> Result<SignupStatus> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let session = store_training::lock_session(conn, session_id)?.ok_or(Error::NotFound)?;
            if let Some(existing) = store_training::find_signup(conn, session_id, me)?
                .map(|s| s.status)
                .filter(|s| *s != SignupStatus::Cancelled)
            {
                return Ok(existing);
            }
            let booked = store_training::count_status(conn, session_id, SignupStatus::Booked)?;
            let status = training::sign_up(
                u32::try_from(booked.max(0)).unwrap_or(u32::MAX),
                non_negative_u32(session.capacity),
                session.starts_at,
                now,
            )
            .map_err(refusal)?;
            store_training::upsert_signup(conn, session_id, me, status, now)?;
            Ok(status)
        })
        .await
}

/// Cancels the caller's sign-up; a freed place goes to the first waiting,
/// who is told by email.
pub async fn cancel(ctx: &Ctx, caller: &Caller, session_id: i64) -> Result<()> {
    require(ctx, caller, Permission::Study).await?;
    let me = person(ctx, caller).await?.id;
    let time_zone = ctx.settings.time_zone;
    ctx.db
        .write(move |conn| {
            let now = store::now();
            let session = store_training::lock_session(conn, session_id)?.ok_or(Error::NotFound)?;
            let Some(signup) = store_training::find_signup(conn, session_id, me)? else {
                return Ok(());
            };
            if signup.status == SignupStatus::Cancelled {
                return Ok(());
            }
            training::may_cancel(session.starts_at, now).map_err(refusal)?;
            store_training::set_signup_status(conn, &[signup.id], SignupStatus::Cancelled, now)?;
            promote(conn, &session, now, time_zone)
        })
        .await
}

/// Moves the first of the waiting list into freed places and emails them.
fn promote(
    conn: &mut DbConn,
    session: &SessionRow,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> Result<()> {
    let booked = store_training::count_status(conn, session.id, SignupStatus::Booked)?;
    let waiting = store_training::waiting_in_order(conn, session.id)?;
    let moving = training::promotions(
        non_negative_u32(session.capacity),
        u32::try_from(booked.max(0)).unwrap_or(u32::MAX),
        &waiting,
    );
    if moving.is_empty() {
        return Ok(());
    }
    store_training::set_signup_status(conn, &moving, SignupStatus::Booked, now)?;
    let workshop =
        store_training::find_workshop(conn, session.workshop_id)?.ok_or(Error::NotFound)?;
    for (signup, _) in store_training::signups_of(conn, session.id)?
        .into_iter()
        .filter(|(s, _)| moving.contains(&s.id))
    {
        notify(conn, signup.person_id, session, &workshop, true, now, tz)?;
    }
    Ok(())
}

fn notify(
    conn: &mut DbConn,
    person_id: PersonId,
    session: &SessionRow,
    workshop: &WorkshopRow,
    promoted: bool,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> Result<()> {
    let Some(person) = people::find(conn, person_id)? else {
        return Ok(());
    };
    let when = utc(session.starts_at)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let message = Message::Workshop {
        name: person.name.clone(),
        workshop: workshop.title.clone(),
        when,
        place: session.place.clone(),
        promoted,
    };
    mail::enqueue_to(conn, &person, &message, now)?;
    Ok(())
}

/// One sign-up of a session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RosterEntry {
    /// The doctor's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// The doctor's name.
    pub name: String,
    /// `booked`, `waiting` or `cancelled`.
    pub status: String,
    /// Whether they attended; null until recorded.
    pub attended: Option<bool>,
}

/// A session's sign-ups, for its instructor or an admin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Roster {
    /// The session.
    pub session: SessionView,
    /// Its sign-ups.
    pub entries: Vec<RosterEntry>,
    /// True once the session has started: attendance may be recorded.
    pub attendance_open: bool,
}

/// A session's list, for its instructor or an admin.
pub async fn roster(ctx: &Ctx, caller: &Caller, session_id: i64) -> Result<Roster> {
    let actor = person(ctx, caller).await?;
    let found = ctx
        .db
        .read(move |conn| {
            let now = store::now();
            let session = store_training::find_session(conn, session_id)?.ok_or(Error::NotFound)?;
            if !training::may_record_attendance(&actor, session.instructor_id) {
                return Ok(None);
            }
            let workshop =
                store_training::find_workshop(conn, session.workshop_id)?.ok_or(Error::NotFound)?;
            let view = session_view(conn, &session, &workshop, actor.id, now)?;
            let entries = store_training::signups_of(conn, session_id)?
                .into_iter()
                .filter(|(s, _)| s.status != SignupStatus::Cancelled)
                .map(|(s, name)| RosterEntry {
                    person_id: s.person_id,
                    name,
                    status: s.status.as_str().to_owned(),
                    attended: s.attended,
                })
                .collect();
            Ok(Some(Roster {
                session: view,
                entries,
                attendance_open: training::attendance_open(session.starts_at, now),
            }))
        })
        .await?;
    match found {
        Some(r) => Ok(r),
        None => {
            refuse(
                ctx,
                caller,
                "session_roster",
                format!("session:{session_id}"),
            )
            .await
        }
    }
}

/// The instructor (or an admin) records whether a booked doctor attended.
pub async fn record_attendance(
    ctx: &Ctx,
    caller: &Caller,
    session_id: i64,
    person_id: PersonId,
    attended: bool,
) -> Result<()> {
    let actor = person(ctx, caller).await?;
    let event = audit::event(
        caller,
        "workshop.attendance",
        Some(format!(
            "session:{session_id} person:{person_id} attended:{attended}"
        )),
        Outcome::Ok,
    );
    let allowed = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let session = store_training::find_session(conn, session_id)?.ok_or(Error::NotFound)?;
            if !training::may_record_attendance(&actor, session.instructor_id) {
                return Ok(false);
            }
            if !training::attendance_open(session.starts_at, now) {
                return Err(Error::conflict(
                    "session",
                    "attendance is recorded once the session has started",
                ));
            }
            let signup = store_training::find_signup(conn, session_id, person_id)?
                .filter(|s| s.status == SignupStatus::Booked)
                .ok_or_else(|| {
                    Error::invalid("person", "only a doctor with a booked place can attend")
                })?;
            store_training::record_attendance(conn, signup.id, attended, actor.id, now)?;
            audit::record(conn, &event)?;
            store::pipeline::note_due(conn, person_id, "workshop_attended", now)?;
            Ok(true)
        })
        .await?;
    if allowed {
        pipeline::settle(ctx, vec![person_id]).await;
        Ok(())
    } else {
        refuse(
            ctx,
            caller,
            "workshop.attendance",
            format!("session:{session_id}"),
        )
        .await
    }
}

/// The reminder job: emails every booked doctor of sessions starting within
/// a day, once. Returns how many emails it queued.
pub fn send_reminders(db: &Db, tz: chrono_tz::Tz) -> Result<usize> {
    db.write_blocking(|conn| {
        let now = store::now();
        let mut sent = 0;
        for (session, workshop) in
            store_training::sessions_due_reminders(conn, now, now + chrono::Duration::hours(24))?
        {
            if !training::reminder_due(session.starts_at, now, session.reminders_sent_at.is_some())
            {
                continue;
            }
            if store_training::mark_reminded(conn, session.id, now)? == 0 {
                continue;
            }
            for (signup, _) in store_training::signups_of(conn, session.id)? {
                if signup.status == SignupStatus::Booked {
                    notify(conn, signup.person_id, &session, &workshop, false, now, tz)?;
                    sent += 1;
                }
            }
        }
        Ok(sent)
    })
}
