//! The green referral channel: departments and reserved capacity (the
//! referral desk), opening a referral through the gate (certified doctors),
//! the desk's steps, the referral's parties and its audited views, the FHIR
//! export, community visits, referral quality, the alliance dashboard and
//! credential introspection for hospital systems.
//!
//! The gate (`domain::referrals::may_refer`) is evaluated inside the
//! transaction that writes the referral, after the doctor's credentials are
//! locked (`store::referrals::credentials_for_gate`), so a suspension or
//! revocation committed a moment earlier blocks it and one committed a
//! moment later waits for the referral.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::access::{Actor, Permission, permits};
use crate::domain::dates;
use crate::domain::fhir;
use crate::domain::ids::PersonId;
use crate::domain::numbers::count_i64;
use crate::domain::referrals::{
    self as referral, DeskAction, GateRefusal, Held, Quality, State, Urgency,
};
use crate::domain::roles::Role;
use crate::error::{Error, FieldProblem, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::credentials::ISSUER_NAME;
use crate::services::idempotency::{self, Created, Idempotent, Once};
use crate::services::{Caller, Ctx, evidence, person, refuse, require, required_text};
use crate::store::credentials as store_credentials;
use crate::store::referrals::{
    self as store_ref, DepartmentRow, DepartmentValues, NewReferral, ReferralRow, ReferralUpdate,
};
use crate::store::training as store_training;
use crate::store::{self, DbConn, institutions, people};

use super::utc;

// ----- departments -----

/// A receiving department of a tertiary hospital, with its reserved capacity.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentView {
    /// The department's id.
    pub id: i64,
    /// Its hospital's institution id.
    pub institution_id: i64,
    /// Its hospital's name.
    pub hospital: String,
    /// The track whose credential covers referrals here.
    pub track: String,
    /// Its short code (unique in its hospital).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Clinic slots reserved each day for green-channel referrals.
    pub clinic_slots_per_day: i32,
    /// Beds reserved for referred children.
    pub beds: i32,
    /// Reserved beds held now (accepted or seen referrals that need a bed).
    pub beds_in_use: i64,
    /// Whether it receives referrals.
    pub active: bool,
}

fn department_view(conn: &mut DbConn, d: DepartmentRow) -> Result<DepartmentView> {
    let hospital = institutions::find(conn, d.institution_id)?
        .map(|i| i.name)
        .unwrap_or_default();
    let track = store_training::find_track_by_id(conn, d.track_id)?
        .map(|t| t.track_key)
        .unwrap_or_default();
    Ok(DepartmentView {
        beds_in_use: store_ref::beds_held(conn, d.id)?,
        id: d.id,
        institution_id: d.institution_id,
        hospital,
        track,
        code: d.code,
        name: d.name,
        clinic_slots_per_day: d.clinic_slots_per_day,
        beds: d.beds,
        active: d.active,
    })
}

/// Every department (anyone signed in: doctors choose where to refer).
pub async fn departments(ctx: &Ctx, caller: &Caller) -> Result<Vec<DepartmentView>> {
    person(ctx, caller).await?;
    ctx.db
        .read(|conn| {
            store_ref::list_departments(conn)?
                .into_iter()
                .map(|d| department_view(conn, d))
                .collect()
        })
        .await
}

/// The departments the caller's credentials open the gate to now, and,
/// when they open none, the gate's reason: the referral page tells a doctor
/// before she fills the form in. (Only a preview: opening a referral checks
/// the gate again on the locked credentials.)
pub async fn departments_open_to_me(
    ctx: &Ctx,
    caller: &Caller,
) -> Result<(Vec<DepartmentView>, Option<GateRefusal>)> {
    let me = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| {
            let held = held_of(&store_credentials::credentials_of(conn, me)?);
            let now = utc(store::now());
            let mut open = Vec::new();
            let mut refusal = None;
            for d in store_ref::list_departments(conn)?
                .into_iter()
                .filter(|d| d.active)
            {
                match referral::may_refer(&held, d.track_id, now) {
                    Ok(_) => open.push(department_view(conn, d)?),
                    Err(why) => refusal = refusal.or(Some(why)),
                }
            }
            let refusal = match (open.is_empty(), held.is_empty()) {
                (false, _) => None,
                (true, true) => Some(GateRefusal::NoCredential),
                (true, false) => refusal,
            };
            Ok((open, refusal))
        })
        .await
}

/// A receiving department to create or replace.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DepartmentInput {
    /// The receiving hospital; a desk may only name its own (default).
    #[serde(default)]
    pub institution_id: Option<i64>,
    /// The track whose credential covers referrals here, e.g. `paediatrics`.
    pub track: String,
    /// A short code, unique in its hospital.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Clinic slots reserved each day for referrals.
    pub clinic_slots_per_day: i64,
    /// Beds reserved for referred children.
    pub beds: i64,
    /// Whether it receives referrals (default true).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Creates (`id` none) or changes a department and its reserved capacity:
/// the desk of its hospital, or an admin.
pub async fn save_department(
    ctx: &Ctx,
    caller: &Caller,
    id: Option<i64>,
    input: DepartmentInput,
) -> Result<DepartmentView> {
    let actor = person(ctx, caller).await?;
    let is_admin = actor.has(Role::Admin);
    if !is_admin {
        require(ctx, caller, Permission::Desk).await?;
    }
    let (code, name, slots, beds) = checked_department(&input)?;
    let audit_caller = caller.clone();
    let allowed = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let existing = match id {
                Some(id) => Some(store_ref::find_department(conn, id)?.ok_or(Error::NotFound)?),
                None => None,
            };
            if let Some(e) = &existing
                && !is_admin
                && Some(e.institution_id) != actor.institution_id
            {
                return Ok(None);
            }
            // A change keeps the department's hospital unless one is named.
            let named = input
                .institution_id
                .or(existing.as_ref().map(|e| e.institution_id));
            let Some(institution_id) = receiving_hospital(named, actor.institution_id, is_admin)?
            else {
                return Ok(None);
            };
            let hospital = institutions::find(conn, institution_id)?
                .ok_or_else(|| Error::invalid("institution_id", "no such institution"))?;
            let track = store_training::find_track(conn, &input.track)?
                .ok_or_else(|| Error::invalid("track", "no such track"))?;
            let values = DepartmentValues {
                institution_id: hospital.id,
                track_id: track.id,
                code: &code,
                name: &name,
                clinic_slots_per_day: slots,
                beds,
                active: input.active,
            };
            let row = match existing {
                Some(e) => store_ref::update_department(conn, e.id, &values, now),
                None => store_ref::insert_department(conn, &values, now),
            }
            .map_err(store::unique_as(|| {
                Error::conflict(
                    "code",
                    "this hospital already has a department with this code",
                )
            }))?;
            let mut event = audit::event(
                &audit_caller,
                "department_save",
                Some(format!("department:{}", row.id)),
                Outcome::Ok,
            );
            event.detail = Some(format!(
                "slots {slots}/day, beds {beds}, active {}",
                input.active
            ));
            audit::record(conn, &event)?;
            department_view(conn, row).map(Some)
        })
        .await?;
    match allowed {
        Some(v) => Ok(v),
        None => refuse(ctx, caller, "department_save", format!("department:{id:?}")).await,
    }
}

/// A department's code (upper case), name, clinic slots and beds, checked.
fn checked_department(input: &DepartmentInput) -> Result<(String, String, i32, i32)> {
    let code = required_text("code", &input.code, 20)?.to_uppercase();
    let name = required_text("name", &input.name, 100)?;
    let slots = i32::try_from(input.clinic_slots_per_day)
        .ok()
        .filter(|n| (0..=500).contains(n))
        .ok_or_else(|| Error::invalid("clinic_slots_per_day", "must be from 0 to 500"))?;
    let beds = i32::try_from(input.beds)
        .ok()
        .filter(|n| (0..=500).contains(n))
        .ok_or_else(|| Error::invalid("beds", "must be from 0 to 500"))?;
    Ok((code, name, slots, beds))
}

/// The hospital a department belongs to: the one named (an admin names any,
/// a desk only its own), else the desk's own. `None`: not the caller's to
/// save.
fn receiving_hospital(named: Option<i64>, own: Option<i64>, is_admin: bool) -> Result<Option<i64>> {
    Ok(match (named, own) {
        (Some(i), _) if is_admin => Some(i),
        (Some(i), Some(own)) if i == own => Some(i),
        (None, Some(own)) => Some(own),
        (None, None) if is_admin => {
            return Err(Error::invalid(
                "institution_id",
                "choose the receiving hospital",
            ));
        }
        _ => None,
    })
}

// ----- opening a referral -----

/// A green-channel referral to open.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReferralInput {
    /// The receiving department's id.
    pub department_id: i64,
    /// The child's name.
    pub patient_name: String,
    /// `male` or `female`.
    pub patient_sex: String,
    /// YYYY-MM-DD; the channel is for children under 18.
    pub patient_birth_date: String,
    /// The guardian's phone number.
    pub guardian_phone: String,
    /// `routine` or `urgent`.
    pub urgency: String,
    /// Why the child is referred.
    pub reason: String,
    /// The working diagnosis.
    pub diagnosis: String,
    /// The diagnosis's ICD-10 code, optional: a letter, two digits and an
    /// optional dot with one to four letters or digits, e.g. `A09` or
    /// `J18.9` (capitalised when stored). Anything else is refused with 422
    /// naming `diagnosis_code`. The FHIR export codes the diagnosis with it.
    #[serde(default)]
    #[schema(example = "J18.9")]
    pub diagnosis_code: Option<String>,
    /// Relevant findings; optional.
    #[serde(default)]
    pub findings: String,
    /// Book one of the department's reserved clinic slots on this day.
    #[serde(default)]
    pub slot_date: Option<String>,
    /// Whether the child needs a reserved bed (default false).
    #[serde(default)]
    pub needs_bed: bool,
}

fn held_of(rows: &[store_credentials::CredentialRow]) -> Vec<Held> {
    rows.iter()
        .map(|c| Held {
            id: c.id,
            track_id: c.track_id,
            status: c.status,
            valid_until: utc(c.valid_until),
        })
        .collect()
}

/// Books a clinic slot of a locked department on a day, or says why not.
fn check_slot(
    conn: &mut DbConn,
    d: &DepartmentRow,
    day: NaiveDate,
    today: NaiveDate,
) -> Result<()> {
    referral::bookable_day(day, today).map_err(|m| Error::invalid("slot_date", m))?;
    let held = store_ref::slots_held(conn, d.id, day)?;
    // More slots held than u32 holds: none free.
    let held = u32::try_from(held).unwrap_or(u32::MAX);
    if !referral::has_room(u32::try_from(d.clinic_slots_per_day).unwrap_or(0), held) {
        return Err(Error::conflict(
            "slot_date",
            format!("every reserved slot of {} on {day} is taken", d.name),
        ));
    }
    Ok(())
}

/// A certified doctor opens a referral. The gate is checked in the same
/// transaction that writes it; a refusal writes no referral, says why with
/// a stable code, and is recorded for audit. With an idempotency key, the
/// same referral sent again creates nothing and gets the first answer.
pub async fn open(
    ctx: &Ctx,
    caller: &Caller,
    input: ReferralInput,
    idem: Option<Idempotent<ReferralView>>,
) -> Result<Created<ReferralView>> {
    require(ctx, caller, Permission::Refer).await?;
    let once = idem
        .map(|i| Once::new(caller, i, "referral_open", &input))
        .transpose()?;
    idempotency::run(ctx, once, |once| open_new(ctx, caller, input, once)).await
}

/// A referral's fields, each checked.
struct CheckedReferral {
    patient: referral::Patient,
    urgency: Urgency,
    reason: String,
    diagnosis: String,
    diagnosis_code: Option<String>,
    findings: String,
    slot: Option<NaiveDate>,
}

/// Every field is checked before anything is refused, so that the form
/// names all its problems at once.
fn checked_referral(input: &ReferralInput, today: NaiveDate) -> Result<CheckedReferral> {
    let mut problems: Vec<FieldProblem> = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(FieldProblem {
            field: field.to_owned(),
            message,
        })
    };
    let patient = referral::patient(
        &input.patient_name,
        &input.patient_sex,
        &input.patient_birth_date,
        &input.guardian_phone,
        today,
    )
    .map_err(|found| {
        for (field, message) in found {
            problem(field, message);
        }
    })
    .ok();
    let urgency = Urgency::parse(input.urgency.trim());
    if urgency.is_none() {
        problem("urgency", "must be routine or urgent".into());
    }
    let mut text = |field: &str, value: &str, max: usize| match required_text(field, value, max) {
        Ok(t) => Some(t),
        Err(e) => {
            problem(field, message_of(e));
            None
        }
    };
    let reason = text("reason", &input.reason, 2000);
    let diagnosis = text("diagnosis", &input.diagnosis, 500);
    let diagnosis_code = referral::icd10_code(input.diagnosis_code.as_deref().unwrap_or(""))
        .map_err(|m| problem("diagnosis_code", m.to_owned()))
        .unwrap_or(None);
    let findings = input.findings.trim().to_owned();
    if findings.chars().count() > 4000 {
        problem("findings", "at most 4000 characters".into());
    }
    let slot = match input.slot_date.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => dates::parse_day("slot_date", d)
            .map_err(|e| problem("slot_date", message_of(e)))
            .ok(),
    };
    Error::from_problems(problems)?;
    let (Some(patient), Some(urgency), Some(reason), Some(diagnosis)) =
        (patient, urgency, reason, diagnosis)
    else {
        return Err(Error::internal("a referral field passed with no value"));
    };
    Ok(CheckedReferral {
        patient,
        urgency,
        reason,
        diagnosis,
        diagnosis_code,
        findings,
        slot,
    })
}

async fn open_new(
    ctx: &Ctx,
    caller: &Caller,
    input: ReferralInput,
    once: Option<Once<ReferralView>>,
) -> Result<ReferralView> {
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let today = crate::clock::now()
        .with_timezone(&ctx.settings.time_zone)
        .date_naive();
    let r = checked_referral(&input, today)?;
    let audit_caller = caller.clone();
    let department_id = input.department_id;
    let needs_bed = input.needs_bed;
    let outcome = ctx
        .db
        .write(move |conn| {
            let d = store_ref::lock_department(conn, department_id)?
                .filter(|d| d.active)
                .ok_or_else(|| Error::invalid("department_id", "no such department"))?;
            // The gate, on the doctor's locked credentials.
            let held = held_of(&store_ref::credentials_for_gate(conn, me)?);
            let now = store::now();
            let credential = match referral::may_refer(&held, d.track_id, utc(now)) {
                Ok(c) => c,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if let Some(day) = r.slot {
                check_slot(conn, &d, day, today)?;
            }
            if needs_bed {
                check_bed(conn, &d)?;
            }
            let number = crate::domain::codes::referral_number();
            let row = store_ref::insert_referral(
                conn,
                &NewReferral {
                    number: &number,
                    person_id: me,
                    credential_id: credential.id,
                    department_id: d.id,
                    patient_name: &r.patient.name,
                    patient_sex: r.patient.sex,
                    patient_birth_date: r.patient.birth_date,
                    guardian_phone: &r.patient.guardian_phone,
                    urgency: r.urgency,
                    reason: &r.reason,
                    diagnosis: &r.diagnosis,
                    diagnosis_code: r.diagnosis_code.as_deref(),
                    findings: &r.findings,
                    slot_date: r.slot,
                    needs_bed,
                },
                now,
            )?;
            store_ref::insert_event(conn, row.id, "sent", Some(me), None, now)?;
            audit::record(
                conn,
                &audit::event(
                    &audit_caller,
                    "referral_open",
                    Some(format!("referral:{}", row.id)),
                    Outcome::Ok,
                ),
            )?;
            tracing::info!(referral = row.id, department = d.id, "referral opened");
            let view = view_of(conn, row)?;
            if let Some(once) = &once {
                idempotency::keep(conn, once, &view)?;
            }
            Ok(Ok(view))
        })
        .await?;
    match outcome {
        Ok(v) => Ok(v),
        Err(refusal) => Err(refused_at_gate(ctx, caller, department_id, refusal).await?),
    }
}

/// Whether one of `d`'s reserved beds is free, for a referral that needs
/// one (checked when it is sent and again when it is accepted).
fn check_bed(conn: &mut DbConn, d: &DepartmentRow) -> Result<()> {
    let in_use = store_ref::beds_held(conn, d.id)?;
    // More beds in use than u32 holds: none free.
    let in_use = u32::try_from(in_use).unwrap_or(u32::MAX);
    if !referral::has_room(u32::try_from(d.beds).unwrap_or(0), in_use) {
        return Err(Error::conflict(
            "needs_bed",
            format!("every reserved bed of {} is in use", d.name),
        ));
    }
    Ok(())
}

/// A referral the gate refused: recorded for audit; the error that says why.
async fn refused_at_gate(
    ctx: &Ctx,
    caller: &Caller,
    department_id: i64,
    refusal: GateRefusal,
) -> Result<Error> {
    let mut event = audit::event(
        caller,
        "referral_refused",
        Some(format!("department:{department_id}")),
        Outcome::Refused,
    );
    event.detail = Some(refusal.code().to_owned());
    ctx.db
        .write(move |conn| audit::record(conn, &event))
        .await?;
    tracing::info!(code = refusal.code(), "referral refused at the gate");
    Ok(gate_error(refusal))
}

/// The message of a field's refusal (the field is named separately).
fn message_of(e: Error) -> String {
    match e {
        Error::Invalid { message, .. } => message,
        other => other.to_string(),
    }
}

pub fn gate_error(refusal: GateRefusal) -> Error {
    Error::Refused {
        code: refusal.code(),
        message: refusal.to_string(),
    }
}

// ----- what the parties see -----

/// One step of a referral.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    /// `sent`, `accepted`, `accepted_urgent`, `declined`, `seen`, `referred_back`,
    /// `rated_appropriate` or `rated_inappropriate`.
    pub action: String,
    /// Who took it; null if the system did or the person is gone.
    pub actor: Option<String>,
    /// The step's detail: the clinic day, the reason, the instructions or the comment; null
    /// if none.
    pub detail: Option<String>,
    /// When (RFC 3339 UTC).
    pub at: DateTime<Utc>,
}

/// A referral with its patient data: only for its parties, every view
/// recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    /// The referral's id.
    pub id: i64,
    /// Its number, as printed on the referral.
    pub number: String,
    /// The referring doctor's person id.
    #[schema(value_type = i64)]
    pub doctor_id: PersonId,
    /// The referring doctor's name.
    pub doctor: String,
    /// The referring doctor's institution; null if none.
    pub doctor_institution: Option<String>,
    /// The credential the referral was made under.
    pub credential_number: String,
    /// The receiving department's id.
    pub department_id: i64,
    /// The receiving department's name.
    pub department: String,
    /// The receiving hospital's name.
    pub hospital: String,
    /// The child's name.
    pub patient_name: String,
    /// `male` or `female`.
    pub patient_sex: String,
    /// The child's date of birth (YYYY-MM-DD).
    pub patient_birth_date: NaiveDate,
    /// The guardian's phone number.
    pub guardian_phone: String,
    /// `routine` or `urgent`.
    pub urgency: Urgency,
    /// Why the child is referred.
    pub reason: String,
    /// The referring doctor's working diagnosis.
    pub diagnosis: String,
    /// The diagnosis's ICD-10 code, when the doctor gave one.
    pub diagnosis_code: Option<String>,
    /// Relevant findings; may be empty.
    pub findings: String,
    /// The reserved clinic day (YYYY-MM-DD); null when none is booked (e.g. an urgent
    /// referral received at once).
    pub slot_date: Option<NaiveDate>,
    /// Whether the child needs one of the department's reserved beds.
    pub needs_bed: bool,
    /// Where the referral stands.
    pub status: State,
    /// Why the desk declined it; null unless declined.
    pub decline_reason: Option<String>,
    /// The clinic's judgement whether the referral was appropriate; null until rated.
    pub appropriate: Option<bool>,
    /// The clinic's comment with its rating; null until rated.
    pub rating_comment: Option<String>,
    /// Follow-up instructions for the community doctor; null until referred back.
    pub back_instructions: Option<String>,
    /// When it was sent (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
    /// What happened to it, oldest first.
    pub steps: Vec<StepView>,
}

fn view_of(conn: &mut DbConn, r: ReferralRow) -> Result<ReferralView> {
    let doctor = people::find(conn, r.person_id)?.ok_or(Error::NotFound)?;
    let doctor_institution = match doctor.institution_id {
        Some(i) => institutions::find(conn, i)?.map(|i| i.name),
        None => None,
    };
    let d = store_ref::find_department(conn, r.department_id)?.ok_or(Error::NotFound)?;
    let hospital = institutions::find(conn, d.institution_id)?
        .map(|i| i.name)
        .unwrap_or_default();
    let credential_number = store_credentials::find_credential(conn, r.credential_id)?
        .map(|c| c.number)
        .unwrap_or_default();
    let mut steps = Vec::new();
    for e in store_ref::events_of(conn, r.id)? {
        let actor = match e.actor_id {
            Some(id) => people::find(conn, id)?.map(|p| p.name),
            None => None,
        };
        steps.push(StepView {
            action: e.action,
            actor,
            detail: e.detail,
            at: utc(e.at),
        });
    }
    Ok(ReferralView {
        id: r.id,
        number: r.number,
        doctor_id: r.person_id,
        doctor: doctor.name,
        doctor_institution,
        credential_number,
        department_id: d.id,
        department: d.name,
        hospital,
        patient_name: r.patient_name,
        patient_sex: r.patient_sex.as_str().to_owned(),
        patient_birth_date: r.patient_birth_date,
        guardian_phone: r.guardian_phone,
        urgency: r.urgency,
        reason: r.reason,
        diagnosis: r.diagnosis,
        diagnosis_code: r.diagnosis_code,
        findings: r.findings,
        slot_date: r.slot_date,
        needs_bed: r.needs_bed,
        status: r.status,
        decline_reason: r.decline_reason,
        appropriate: r.appropriate,
        rating_comment: r.rating_comment,
        back_instructions: r.back_instructions,
        created_at: utc(r.created_at),
        steps,
    })
}

/// Which party the caller is to a referral, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Doctor,
    Desk,
    Admin,
}

fn party(caller: &Caller, r: &ReferralRow, d: &DepartmentRow) -> Option<Party> {
    let actor = caller.actor()?;
    if actor.id == r.person_id {
        Some(Party::Doctor)
    } else if actor.has(Role::ReferralDesk) && actor.institution_id == Some(d.institution_id) {
        Some(Party::Desk)
    } else if actor.has(Role::Admin) {
        Some(Party::Admin)
    } else {
        None
    }
}

/// One referral for one of its parties; the view is recorded. Anyone else
/// is refused and the refusal recorded.
pub async fn referral(ctx: &Ctx, caller: &Caller, id: i64) -> Result<ReferralView> {
    party_read(ctx, caller, id, "referral_view", view_of).await
}

/// Reads referral `id` as `show` makes it, for one of its parties only; the
/// read is recorded as `action`. Anyone else (or no such referral) is
/// refused and the refusal recorded.
async fn party_read<T: Send + 'static>(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    action: &'static str,
    show: impl FnOnce(&mut DbConn, ReferralRow) -> Result<T> + Send + 'static,
) -> Result<T> {
    let c = caller.clone();
    let found = ctx
        .db
        .write(move |conn| {
            let Some(r) = store_ref::find_referral(conn, id)? else {
                return Ok(None);
            };
            let d = store_ref::find_department(conn, r.department_id)?.ok_or(Error::NotFound)?;
            if party(&c, &r, &d).is_none() {
                return Ok(None);
            }
            let target = Some(format!("referral:{id}"));
            audit::record(conn, &audit::event(&c, action, target, Outcome::Ok))?;
            show(conn, r).map(Some)
        })
        .await?;
    match found {
        Some(v) => Ok(v),
        None => refuse(ctx, caller, action, format!("referral:{id}")).await,
    }
}

/// The referrals `actor` may see: all for an admin, those to their
/// hospital for its desk, their own for a doctor.
fn visible_to(conn: &mut DbConn, actor: &Actor) -> Result<Vec<ReferralRow>> {
    Ok(if actor.has(Role::Admin) {
        store_ref::all_referrals(conn)?
    } else if actor.has(Role::ReferralDesk) {
        match actor.institution_id {
            Some(i) => store_ref::referrals_to(conn, i)?,
            None => Vec::new(),
        }
    } else {
        store_ref::referrals_of(conn, actor.id)?
    })
}

/// A line of a referral list (no patient data beyond the name and age the
/// parties need to find it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReferralLine {
    /// The referral's id.
    pub id: i64,
    /// Its number.
    pub number: String,
    /// The referring doctor's name.
    pub doctor: String,
    /// The receiving department's name.
    pub department: String,
    /// The child's name.
    pub patient_name: String,
    /// `routine` or `urgent`.
    pub urgency: Urgency,
    /// The reserved clinic day (YYYY-MM-DD); null if none.
    pub slot_date: Option<NaiveDate>,
    /// Where it stands.
    pub status: State,
    /// When it was sent (RFC 3339 UTC).
    pub created_at: DateTime<Utc>,
}

fn lines(conn: &mut DbConn, rows: Vec<ReferralRow>) -> Result<Vec<ReferralLine>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let doctor = people::find(conn, r.person_id)?
            .map(|p| p.name)
            .unwrap_or_default();
        let department = store_ref::find_department(conn, r.department_id)?
            .map(|d| d.name)
            .unwrap_or_default();
        out.push(ReferralLine {
            id: r.id,
            number: r.number,
            doctor,
            department,
            patient_name: r.patient_name,
            urgency: r.urgency,
            slot_date: r.slot_date,
            status: r.status,
            created_at: utc(r.created_at),
        });
    }
    Ok(out)
}

/// The caller's referrals: a doctor's own, a desk's incoming, or every one
/// for an admin. The listing is recorded, as it shows patients' names.
pub async fn list(ctx: &Ctx, caller: &Caller) -> Result<Vec<ReferralLine>> {
    let actor = person(ctx, caller).await?;
    let c = caller.clone();
    ctx.db
        .write(move |conn| {
            let rows = visible_to(conn, &actor)?;
            audit::record(conn, &audit::event(&c, "referral_list", None, Outcome::Ok))?;
            lines(conn, rows)
        })
        .await
}

// ----- the desk's steps -----

/// What the desk does, with its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskStep {
    /// Confirms a reserved slot: the one booked, or the day given.
    Accept {
        slot_date: Option<String>,
    },
    Decline {
        reason: String,
    },
    Seen,
    /// Rates the referral appropriate or not (after the visit, once).
    Rate {
        appropriate: bool,
        comment: String,
    },
    ReferBack {
        instructions: String,
    },
}

/// A step by the desk of the receiving hospital, as one form names it:
/// calls the step's own function below.
pub async fn desk_step(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    step: DeskStep,
) -> Result<ReferralView> {
    match step {
        DeskStep::Accept { slot_date } => accept(ctx, caller, id, slot_date).await,
        DeskStep::Decline { reason } => decline(ctx, caller, id, reason).await,
        DeskStep::Seen => mark_seen(ctx, caller, id).await,
        DeskStep::Rate {
            appropriate,
            comment,
        } => rate(ctx, caller, id, appropriate, comment).await,
        DeskStep::ReferBack { instructions } => refer_back(ctx, caller, id, instructions).await,
    }
}

/// The referral a desk step acts on, read under its department's lock, and
/// where it stands.
struct AtDesk {
    referral: ReferralRow,
    department: DepartmentRow,
    from: State,
}

/// What a step did: its event's action and detail.
type Done = (&'static str, Option<String>);

fn illegal(e: referral::IllegalStep) -> Error {
    Error::conflict("status", format!("this referral is {}", e.from.as_str()))
}

/// Moves the referral to `to`, keeping its slot, with the decline reason
/// or the instructions back down if the step gives them.
fn move_to(
    conn: &mut DbConn,
    at: &AtDesk,
    to: State,
    decline_reason: Option<&str>,
    back_instructions: Option<&str>,
    now: NaiveDateTime,
) -> Result<()> {
    store_ref::update_status(
        conn,
        at.referral.id,
        &ReferralUpdate {
            status: to,
            slot_date: at.referral.slot_date,
            decline_reason,
            back_instructions,
        },
        now,
    )?;
    Ok(())
}

/// The desk accepts, confirming a reserved slot: the one booked, or the day
/// given (an urgent referral may be received at once without one).
pub async fn accept(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    slot_date: Option<String>,
) -> Result<ReferralView> {
    let today = crate::clock::now()
        .with_timezone(&ctx.settings.time_zone)
        .date_naive();
    desk(ctx, caller, id, move |conn, at, now| {
        let (r, d) = (&at.referral, &at.department);
        let to = referral::step(at.from, DeskAction::Accept).map_err(illegal)?;
        let given = match slot_date.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => {
                let day = dates::parse_day("slot_date", s)?;
                if r.slot_date != Some(day) {
                    check_slot(conn, d, day, today)?;
                }
                Some(day)
            }
            _ => None,
        };
        let day = referral::accepted_day(r.urgency, given, r.slot_date)
            .map_err(|m| Error::invalid("slot_date", m))?;
        if r.needs_bed {
            check_bed(conn, d)?;
        }
        store_ref::update_status(
            conn,
            r.id,
            &ReferralUpdate {
                status: to,
                slot_date: day,
                decline_reason: None,
                back_instructions: None,
            },
            now,
        )?;
        Ok(match day {
            Some(day) => ("accepted", Some(day.to_string())),
            None => ("accepted_urgent", None),
        })
    })
    .await
}

/// The desk declines, with the reason the doctor reads.
pub async fn decline(ctx: &Ctx, caller: &Caller, id: i64, reason: String) -> Result<ReferralView> {
    desk(ctx, caller, id, move |conn, at, now| {
        let to = referral::step(at.from, DeskAction::Decline).map_err(illegal)?;
        let reason = required_text("reason", &reason, 2000)?;
        move_to(conn, at, to, Some(&reason), None, now)?;
        Ok(("declined", Some(reason)))
    })
    .await
}

/// The desk records that the child was seen.
pub async fn mark_seen(ctx: &Ctx, caller: &Caller, id: i64) -> Result<ReferralView> {
    desk(ctx, caller, id, move |conn, at, now| {
        let to = referral::step(at.from, DeskAction::MarkSeen).map_err(illegal)?;
        move_to(conn, at, to, None, None, now)?;
        Ok(("seen", None))
    })
    .await
}

/// The desk refers the child back down, with instructions for the doctor.
pub async fn refer_back(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    instructions: String,
) -> Result<ReferralView> {
    desk(ctx, caller, id, move |conn, at, now| {
        let to = referral::step(at.from, DeskAction::ReferBack).map_err(illegal)?;
        let instructions = required_text("instructions", &instructions, 4000)?;
        move_to(conn, at, to, None, Some(&instructions), now)?;
        Ok(("referred_back", Some(instructions)))
    })
    .await
}

/// The desk rates the referral appropriate or not (after the visit, once).
pub async fn rate(
    ctx: &Ctx,
    caller: &Caller,
    id: i64,
    appropriate: bool,
    comment: String,
) -> Result<ReferralView> {
    desk(ctx, caller, id, move |conn, at, now| {
        if !referral::may_rate(at.from, at.referral.appropriate.is_some()) {
            return Err(Error::conflict(
                "appropriate",
                "a referral is rated once, after the child has been seen",
            ));
        }
        let comment = required_text("comment", &comment, 2000)?;
        store_ref::rate(conn, at.referral.id, appropriate, &comment, now)?;
        Ok((
            if appropriate {
                "rated_appropriate"
            } else {
                "rated_inappropriate"
            },
            Some(comment),
        ))
    })
    .await
}

/// What every desk step shares: the desk's permission, the referral read
/// under its department's lock (two steps on one referral are taken one
/// after the other), the step, its event and audit record, and the email
/// that tells the referring doctor; all in one transaction.
async fn desk<F>(ctx: &Ctx, caller: &Caller, id: i64, step: F) -> Result<ReferralView>
where
    F: FnOnce(&mut DbConn, &AtDesk, NaiveDateTime) -> Result<Done> + Send + 'static,
{
    require(ctx, caller, Permission::Desk).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let public_url = ctx.settings.public_url.clone();
    let c = caller.clone();
    let done = ctx
        .db
        .write(move |conn| {
            let now = store::now();
            let Some(r) = store_ref::find_referral(conn, id)? else {
                return Ok(None);
            };
            let d = store_ref::lock_department(conn, r.department_id)?.ok_or(Error::NotFound)?;
            // Read again under the department's lock: two desk steps on one
            // referral are taken one after the other.
            let r = store_ref::find_referral(conn, id)?.ok_or(Error::NotFound)?;
            if party(&c, &r, &d) != Some(Party::Desk) {
                return Ok(None);
            }
            let from = r.status;
            let at = AtDesk {
                referral: r,
                department: d,
                from,
            };
            let (action, detail) = step(conn, &at, now)?;
            let r = at.referral;
            store_ref::insert_event(conn, r.id, action, Some(me), detail.as_deref(), now)?;
            audit::record(
                conn,
                &audit::event(
                    &c,
                    &format!("referral_{action}"),
                    Some(format!("referral:{id}")),
                    Outcome::Ok,
                ),
            )?;
            // The referring doctor is told of every step.
            if let Some(doctor) = people::find(conn, r.person_id)? {
                mail::enqueue_to(
                    conn,
                    &doctor,
                    &Message::Referral {
                        name: doctor.name.clone(),
                        number: r.number.clone(),
                        step: action.to_owned(),
                        detail: detail.clone().unwrap_or_default(),
                        link: format!("{}/referrals/{}", public_url.trim_end_matches('/'), r.id),
                    },
                    now,
                )?;
            }
            let row = store_ref::find_referral(conn, id)?.ok_or(Error::NotFound)?;
            view_of(conn, row).map(Some)
        })
        .await?;
    match done {
        Some(v) => Ok(v),
        None => refuse(ctx, caller, "referral_step", format!("referral:{id}")).await,
    }
}

// ----- FHIR -----

/// Where a referral's FHIR resources are anchored: the public URL and the
/// namespace of patient ids.
struct FhirBase {
    public_url: String,
    patient_system: String,
}

impl FhirBase {
    fn of(ctx: &Ctx) -> FhirBase {
        FhirBase {
            public_url: ctx.settings.public_url.clone(),
            patient_system: ctx.settings.fhir_patient_system.clone(),
        }
    }
}

fn fhir_of(conn: &mut DbConn, r: &ReferralRow, base: &FhirBase) -> Result<fhir::ServiceRequest> {
    let base_url = base.public_url.as_str();
    let v = view_of(conn, r.clone())?;
    let credential =
        store_credentials::find_credential(conn, r.credential_id)?.ok_or(Error::NotFound)?;
    let track = store_training::find_track_by_id(conn, credential.track_id)?
        .map(|t| t.title)
        .unwrap_or_default();
    let status = match v.status {
        State::Sent | State::Accepted | State::Seen => fhir::RequestStatus::Active,
        State::Declined => fhir::RequestStatus::Revoked,
        State::ReferredBack => fhir::RequestStatus::Completed,
    };
    let issuer_url = format!("{}/issuer", base_url.trim_end_matches('/'));
    Ok(fhir::service_request(&fhir::ServiceRequestInput {
        base_url,
        referral_id: v.id,
        referral_number: &v.number,
        status,
        priority: match v.urgency {
            Urgency::Routine => fhir::Priority::Routine,
            Urgency::Urgent => fhir::Priority::Urgent,
        },
        patient: fhir::PatientInput {
            identifier_system: &base.patient_system,
            identifier_value: v.id,
            name: &v.patient_name,
            gender: if v.patient_sex == "female" {
                fhir::Gender::Female
            } else {
                fhir::Gender::Male
            },
            birth_date: v.patient_birth_date,
            guardian_phone: &v.guardian_phone,
        },
        requester: fhir::RequesterInput {
            person_id: v.doctor_id,
            name: &v.doctor,
            institution: v.doctor_institution.as_deref(),
            credential_number: &credential.number,
            credential_track: &track,
            credential_valid_from: utc(credential.valid_from),
            credential_valid_until: utc(credential.valid_until),
            issuer_url: &issuer_url,
            issuer_name: ISSUER_NAME,
        },
        performer: fhir::PerformerInput {
            department_id: v.department_id,
            department_name: &v.department,
            hospital: &v.hospital,
        },
        reason: &v.reason,
        diagnosis: &v.diagnosis,
        diagnosis_code: v.diagnosis_code.as_deref(),
        findings: &v.findings,
        authored_on: v.created_at,
        occurrence: v.slot_date,
    }))
}

/// The FHIR endpoint's CapabilityStatement (public: FHIR clients read it
/// before they authenticate).
pub fn fhir_capabilities(ctx: &Ctx) -> fhir::CapabilityStatement {
    fhir::capability_statement(&ctx.settings.public_url, env!("CARGO_PKG_VERSION"))
}

/// One referral as a FHIR R4 ServiceRequest (its parties; recorded).
pub async fn fhir_one(ctx: &Ctx, caller: &Caller, id: i64) -> Result<fhir::ServiceRequest> {
    let base = FhirBase::of(ctx);
    party_read(ctx, caller, id, "referral_export", move |conn, r| {
        fhir_of(conn, &r, &base)
    })
    .await
}

/// Every referral the caller is a party to, as a FHIR searchset Bundle
/// (recorded).
pub async fn fhir_bundle(ctx: &Ctx, caller: &Caller) -> Result<fhir::Bundle> {
    let actor = person(ctx, caller).await?;
    let c = caller.clone();
    let base = FhirBase::of(ctx);
    ctx.db
        .write(move |conn| {
            let rows = visible_to(conn, &actor)?;
            audit::record(
                conn,
                &audit::event(
                    &c,
                    "referral_export",
                    Some(format!("{} referrals", rows.len())),
                    Outcome::Ok,
                ),
            )?;
            let resources = rows
                .iter()
                .map(|r| fhir_of(conn, r, &base))
                .collect::<Result<Vec<_>>>()?;
            Ok(fhir::searchset(&base.public_url, resources))
        })
        .await
}

// ----- community visits, quality, dashboard -----

/// A doctor records how many first visits they saw on a day (replacing the
/// day's figure).
pub async fn record_visits(
    ctx: &Ctx,
    caller: &Caller,
    day: String,
    first_visits: i64,
) -> Result<()> {
    require(ctx, caller, Permission::Refer).await?;
    let me = caller.person_id().ok_or(Error::Forbidden)?;
    let day = dates::parse_day("date", &day)?;
    let today = crate::clock::now()
        .with_timezone(&ctx.settings.time_zone)
        .date_naive();
    if day > today {
        return Err(Error::invalid("date", "is in the future"));
    }
    let count = i32::try_from(first_visits)
        .ok()
        .filter(|n| (0..=1000).contains(n))
        .ok_or_else(|| Error::invalid("first_visits", "must be from 0 to 1000"))?;
    ctx.db
        .write(move |conn| {
            store_ref::save_visits(conn, me, day, count, store::now())?;
            Ok(())
        })
        .await
}

/// The caller's own referral quality.
pub async fn my_quality(ctx: &Ctx, caller: &Caller) -> Result<Quality> {
    let me = person(ctx, caller).await?.id;
    ctx.db
        .read(move |conn| evidence::referral_quality(conn, me))
        .await
}

/// A doctor whose share of inappropriate referrals passed the committee's threshold.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlaggedDoctor {
    /// The doctor's person id.
    #[schema(value_type = i64)]
    pub person_id: PersonId,
    /// The doctor's name.
    pub name: String,
    /// Their referral quality.
    pub quality: Quality,
}

/// Doctors whose inappropriate share passed the threshold (committee, admins).
pub async fn flagged(ctx: &Ctx, caller: &Caller) -> Result<Vec<FlaggedDoctor>> {
    require(ctx, caller, Permission::ReadReferrals).await?;
    ctx.db
        .read(|conn| {
            let mut out = Vec::new();
            for id in store_ref::rated_doctors(conn)? {
                let q = evidence::referral_quality(conn, id)?;
                if q.flagged {
                    let name = people::find(conn, id)?.map(|p| p.name).unwrap_or_default();
                    out.push(FlaggedDoctor {
                        person_id: id,
                        name,
                        quality: q,
                    });
                }
            }
            Ok(out)
        })
        .await
}

/// One month of the alliance dashboard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Month {
    /// YYYY-MM
    pub month: String,
    /// First visits at community institutions, as reported (`PUT /visits`).
    pub first_visits: i64,
    /// Green-channel referrals sent in the month.
    pub referrals_up: i64,
    /// referrals up / first visits, in per mille (1.2% = 12).
    pub referred_per_mille: Option<i64>,
    /// Referrals sent in the month that are now referred back down.
    pub referred_back: i64,
    /// Reserved clinic slots booked for days of the month (declined referrals not counted).
    pub slots_booked: i64,
    /// Clinic slots reserved in the month by the active departments.
    pub slots_reserved: i64,
}

/// The last 12 months: community first visits, referrals up, the share
/// referred, referrals back down, and reserved-slot use.
pub async fn dashboard(ctx: &Ctx, caller: &Caller) -> Result<Vec<Month>> {
    require(ctx, caller, Permission::ReadReferrals).await?;
    let today = crate::clock::now()
        .with_timezone(&ctx.settings.time_zone)
        .date_naive();
    ctx.db
        .read(move |conn| {
            let first = months_back(today, 11);
            let visits = store_ref::visits_since(conn, first)?;
            let referrals =
                store_ref::referrals_since(conn, first.and_hms_opt(0, 0, 0).unwrap_or_default())?;
            let daily_slots: i64 = store_ref::list_departments(conn)?
                .iter()
                .filter(|d| d.active)
                .map(|d| i64::from(d.clinic_slots_per_day.max(0)))
                .sum();
            let mut months = Vec::new();
            let mut m = first;
            while m <= today {
                let next = months_back(m, -1);
                let in_month = |d: NaiveDate| d >= m && d < next;
                let first_visits = visits
                    .iter()
                    .filter(|(d, _)| in_month(*d))
                    .map(|(_, n)| i64::from(*n))
                    .sum();
                let up = count_i64(referrals.iter().filter(|r| in_month(r.0.date())).count());
                let back = count_i64(
                    referrals
                        .iter()
                        .filter(|r| in_month(r.0.date()) && r.1 == State::ReferredBack)
                        .count(),
                );
                let booked = count_i64(
                    referrals
                        .iter()
                        .filter(|r| r.1 != State::Declined && r.2.is_some_and(in_month))
                        .count(),
                );
                months.push(Month {
                    month: m.format("%Y-%m").to_string(),
                    first_visits,
                    referrals_up: up,
                    referred_per_mille: (first_visits > 0).then(|| up * 1000 / first_visits),
                    referred_back: back,
                    slots_booked: booked,
                    slots_reserved: daily_slots * (next - m).num_days(),
                });
                m = next;
            }
            Ok(months)
        })
        .await
}

/// The first day of the month `n` months before `day`'s month (negative: after).
fn months_back(day: NaiveDate, n: i32) -> NaiveDate {
    // month0 is 0..12 and rem_euclid(12) is 0..12: both fit either type.
    let index = day.year() * 12 + i32::try_from(day.month0()).unwrap_or(0) - n;
    let month = u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1;
    NaiveDate::from_ymd_opt(index.div_euclid(12), month, 1).unwrap_or(day)
}

// ----- introspection (RFC 7662) -----

/// "May this doctor refer to this department now?" for hospital systems:
/// `{"active": true, …}` with the credential, or only `{"active": false}`
/// for any reason (unknown, expired, suspended, revoked, out of scope).
pub async fn introspect(
    ctx: &Ctx,
    caller: &Caller,
    token: String,
    department: Option<String>,
) -> Result<serde_json::Value> {
    require(ctx, caller, Permission::Introspect).await?;
    let base = ctx.settings.public_url.trim_end_matches('/').to_owned();
    let c = caller.clone();
    ctx.db
        .write(move |conn| {
            let inactive = serde_json::json!({"active": false});
            let mut event = audit::event(&c, "credential_introspect", None, Outcome::Ok);
            let number =
                crate::domain::credentials::CredentialNumber::parse(&token).map(|n| n.to_string());
            let found = match &number {
                Ok(n) => store_credentials::credential_by_number(conn, n)?,
                Err(_) => None,
            };
            let Some(cred) = found else {
                audit::record(conn, &event)?;
                return Ok(inactive);
            };
            event.target = Some(format!("credential:{}", cred.number));
            let held = held_of(std::slice::from_ref(&cred));
            let now = utc(store::now());
            let department_row = match department.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(d) => match d.parse::<i64>() {
                    Ok(id) => store_ref::find_department(conn, id)?,
                    Err(_) => store_ref::list_departments(conn)?
                        .into_iter()
                        .find(|x| x.code.eq_ignore_ascii_case(d)),
                },
            };
            if department.as_deref().is_some_and(|d| !d.trim().is_empty())
                && department_row.is_none()
            {
                audit::record(conn, &event)?;
                return Ok(inactive);
            }
            let scope_track = department_row
                .as_ref()
                .map_or(cred.track_id, |d| d.track_id);
            if referral::may_refer(&held, scope_track, now).is_err() {
                audit::record(conn, &event)?;
                return Ok(inactive);
            }
            let track =
                store_training::find_track_by_id(conn, cred.track_id)?.ok_or(Error::NotFound)?;
            let person = people::find(conn, cred.person_id)?.ok_or(Error::NotFound)?;
            let departments: Vec<String> = store_ref::list_departments(conn)?
                .into_iter()
                .filter(|d| d.active && d.track_id == cred.track_id)
                .map(|d| d.code)
                .collect();
            audit::record(conn, &event)?;
            let mut scope = vec![track.track_key.clone()];
            scope.extend(departments.iter().map(|d| format!("department:{d}")));
            Ok(serde_json::json!({
                "active": true,
                "sub": format!("{base}/holders/{}", person.holder_ref.unwrap_or_default()),
                "jti": cred.number,
                "iss": format!("{base}/issuer"),
                "exp": cred.valid_until.and_utc().timestamp(),
                "iat": cred.issued_at.and_utc().timestamp(),
                "scope": scope.join(" "),
                "credential_number": cred.number,
                "holder_name": person.name,
                "track": track.track_key,
                "departments": departments,
                "valid_until": utc(cred.valid_until),
            }))
        })
        .await
}

/// Whether the caller may see the dashboard (for the navigation).
pub fn reads_dashboard(caller: &Caller) -> bool {
    permits(&caller.principal, Permission::ReadReferrals)
}
