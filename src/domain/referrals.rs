//! The green referral channel's rules: the gate (who may refer to a
//! department now), a referral's life (sent, accepted or declined, seen,
//! referred back down), the reserved capacity, the patient data a referral
//! may carry, and when a doctor's referrals are flagged for the committee.
//!
//! The gate is evaluated by the service inside the transaction that writes
//! the referral, after locking the doctor's credentials, so a credential
//! suspended or revoked a moment earlier blocks it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::credentials::{self as credential, Status};
use crate::domain::dates;
use crate::domain::ids::CredentialId;
use crate::error::Error;

/// A credential the doctor holds, as the gate needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub id: CredentialId,
    pub track_id: i64,
    pub status: Status,
    pub valid_until: DateTime<Utc>,
}

/// Why the gate refuses, with a stable code for the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateRefusal {
    #[error(
        "you hold no alliance credential: only certified alliance doctors may use the green channel"
    )]
    NoCredential,
    #[error(
        "your credential is suspended: the green channel is closed until the committee reinstates it"
    )]
    Suspended,
    #[error("your credential has been revoked: the green channel is closed")]
    Revoked,
    #[error("your credential has expired: renew it to use the green channel again")]
    Expired,
    #[error("your credential does not cover this department")]
    NotInScope,
}

impl GateRefusal {
    pub fn code(self) -> &'static str {
        match self {
            GateRefusal::NoCredential => "no_credential",
            GateRefusal::Suspended => "credential_suspended",
            GateRefusal::Revoked => "credential_revoked",
            GateRefusal::Expired => "credential_expired",
            GateRefusal::NotInScope => "out_of_scope",
        }
    }
}

/// `may_refer(doctor, department, at)`: true only while the doctor holds an
/// active, unexpired credential whose track covers the department. Returns
/// the credential that opens the gate. When the doctor's credential in the
/// department's track is not live, the refusal says why (suspended, revoked,
/// expired); a doctor whose only live credentials are in other tracks is out
/// of scope.
pub fn may_refer(
    held: &[Held],
    department_track_id: i64,
    now: DateTime<Utc>,
) -> Result<Held, GateRefusal> {
    if held.is_empty() {
        return Err(GateRefusal::NoCredential);
    }
    let in_scope: Vec<&Held> = held
        .iter()
        .filter(|h| h.track_id == department_track_id)
        .collect();
    if let Some(live) = in_scope
        .iter()
        .find(|h| credential::live(h.status, h.valid_until, now))
    {
        return Ok(**live);
    }
    // The most telling refusal among the in-scope credentials: a
    // disciplinary state before a lapse.
    let states: Vec<Status> = in_scope
        .iter()
        .map(|h| credential::effective(h.status, h.valid_until, now))
        .collect();
    if states.contains(&Status::Revoked) {
        Err(GateRefusal::Revoked)
    } else if states.contains(&Status::Suspended) {
        Err(GateRefusal::Suspended)
    } else if states.contains(&Status::Expired) {
        Err(GateRefusal::Expired)
    } else {
        Err(GateRefusal::NotInScope)
    }
}

/// How soon the child must be seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    Routine,
    Urgent,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Routine => "routine",
            Urgency::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Urgency> {
        [Urgency::Routine, Urgency::Urgent]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }

    pub fn parse(s: &str) -> Option<Sex> {
        [Sex::Male, Sex::Female]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Where a referral stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Sent by the doctor, waiting for the desk.
    Sent,
    /// The desk confirmed a clinic slot.
    Accepted,
    Declined,
    /// The child was seen at the clinic.
    Seen,
    /// Back to the community doctor with follow-up instructions.
    ReferredBack,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Sent,
        State::Accepted,
        State::Declined,
        State::Seen,
        State::ReferredBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Sent => "sent",
            State::Accepted => "accepted",
            State::Declined => "declined",
            State::Seen => "seen",
            State::ReferredBack => "referred_back",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// A clinic slot is held by every referral that is not declined.
    pub fn holds_slot(self) -> bool {
        self != State::Declined
    }

    /// A reserved bed is in use from acceptance until the child goes back.
    pub fn holds_bed(self) -> bool {
        matches!(self, State::Accepted | State::Seen)
    }
}

/// What the desk does with a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskAction {
    Accept,
    Decline,
    MarkSeen,
    ReferBack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a referral that is {from:?} cannot be {action:?}")]
pub struct IllegalStep {
    pub from: State,
    pub action: DeskAction,
}

/// A referral's life: sent → accepted or declined; accepted → seen; seen →
/// referred back down. Nothing else.
pub fn step(from: State, action: DeskAction) -> Result<State, IllegalStep> {
    match (from, action) {
        (State::Sent, DeskAction::Accept) => Ok(State::Accepted),
        (State::Sent, DeskAction::Decline) => Ok(State::Declined),
        (State::Accepted, DeskAction::MarkSeen) => Ok(State::Seen),
        (State::Seen, DeskAction::ReferBack) => Ok(State::ReferredBack),
        _ => Err(IllegalStep { from, action }),
    }
}

/// The desk rates a referral once the child has been seen, once.
pub fn may_rate(state: State, already_rated: bool) -> bool {
    matches!(state, State::Seen | State::ReferredBack) && !already_rated
}

/// How far ahead a reserved clinic slot may be booked.
pub const BOOKING_DAYS_AHEAD: i64 = 90;

/// The clinic day a desk's acceptance confirms: the day the desk gives,
/// else the one the doctor booked. An urgent referral may be accepted with
/// neither: the child is received at once, without a clinic slot.
pub fn accepted_day(
    urgency: Urgency,
    given: Option<NaiveDate>,
    booked: Option<NaiveDate>,
) -> Result<Option<NaiveDate>, &'static str> {
    match (given.or(booked), urgency) {
        (Some(day), _) => Ok(Some(day)),
        (None, Urgency::Urgent) => Ok(None),
        (None, Urgency::Routine) => Err("no slot was booked: give the clinic day"),
    }
}

/// A clinic day may be booked from today up to `BOOKING_DAYS_AHEAD` days on.
pub fn bookable_day(day: NaiveDate, today: NaiveDate) -> Result<(), &'static str> {
    if day < today {
        Err("is in the past")
    } else if day > today + chrono::Duration::days(BOOKING_DAYS_AHEAD) {
        Err("slots open at most 90 days ahead")
    } else {
        Ok(())
    }
}

/// A reserved slot or bed is free while fewer than the capacity are held.
pub fn has_room(capacity: u32, held: u32) -> bool {
    held < capacity
}

/// Patient data as a referral carries it: only what the clinic needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub guardian_phone: String,
}

/// Checks the patient fields, naming the one at fault. The channel is for
/// children: a birth date in the future or more than 18 years ago is refused.
pub fn patient(
    name: &str,
    sex: &str,
    birth_date: &str,
    guardian_phone: &str,
    today: NaiveDate,
) -> Result<Patient, Vec<(&'static str, String)>> {
    // Every field is checked, so that a form can name all its problems at
    // once; the problems come in the form's order.
    let mut problems: Vec<(&'static str, String)> = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        problems.push((
            "patient_name",
            "give the child's name (at most 100 characters)".into(),
        ));
    }
    let sex = Sex::parse(sex.trim());
    if sex.is_none() {
        problems.push(("patient_sex", "must be male or female".into()));
    }
    let birth = birth_day(birth_date, today);
    if let Err(message) = &birth {
        problems.push(("patient_birth_date", message.clone()));
    }
    let phone: String = guardian_phone
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = phone.strip_prefix('+').unwrap_or(&phone);
    if !(6..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
        problems.push((
            "guardian_phone",
            "must be a phone number of 6 to 15 digits".into(),
        ));
    }
    match (sex, birth) {
        (Some(sex), Ok(birth_date)) if problems.is_empty() => Ok(Patient {
            name: name.to_owned(),
            sex,
            birth_date,
            guardian_phone: phone,
        }),
        _ => Err(problems),
    }
}

/// The ICD-10 code of a diagnosis, as a referral may carry it: `None` when
/// none is given (the field is optional), else the code in capitals, e.g.
/// `A09`, `J18.9` or `J18.900` (a national extension after the WHO
/// subcategory): a letter, two digits, then optionally a dot and one to four
/// letters or digits. Spaces around it are ignored; anything else is refused
/// with the message the form shows next to the field.
pub fn icd10_code(raw: &str) -> Result<Option<String>, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty() {
        return Ok(None);
    }
    let (category, extension) = match code.split_once('.') {
        Some((c, e)) => (c, Some(e)),
        None => (code.as_str(), None),
    };
    let category_ok = matches!(
        category.as_bytes(),
        [a, b, c] if a.is_ascii_uppercase() && b.is_ascii_digit() && c.is_ascii_digit()
    );
    let extension_ok = extension.is_none_or(|e| {
        (1..=4).contains(&e.len())
            && e.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if category_ok && extension_ok {
        Ok(Some(code))
    } else {
        Err("must be an ICD-10 code such as A09 or J18.9")
    }
}

/// A child's birth day: a date, not in the future, under 18 today.
fn birth_day(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let day = dates::parse_day("patient_birth_date", raw).map_err(|e| match e {
        Error::Invalid { message, .. } => message,
        other => other.to_string(),
    })?;
    if day > today {
        return Err("is in the future".into());
    }
    if today.years_since(day).is_none_or(|y| y >= 18) {
        return Err("the green channel is for children under 18".into());
    }
    Ok(day)
}

/// Referral quality for the doctor's record and the committee.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Quality {
    /// Green-channel referrals the doctor sent.
    pub referrals: u32,
    /// Of those, referrals the clinic rated.
    pub rated: u32,
    /// Of those, referrals judged appropriate.
    pub appropriate: u32,
    /// appropriate / rated, in whole percent; `None` before any rating.
    pub appropriate_percent: Option<u32>,
    /// The inappropriate share has passed the committee's threshold.
    pub flagged: bool,
}

/// A doctor is flagged once at least `min_rated` referrals are rated and the
/// inappropriate share exceeds `threshold_percent`.
pub fn quality(
    referrals: u32,
    ratings: &[bool],
    threshold_percent: u32,
    min_rated: u32,
) -> Quality {
    // Counts beyond u32 saturate; appropriate <= rated still holds.
    let rated = u32::try_from(ratings.len()).unwrap_or(u32::MAX);
    let appropriate = u32::try_from(ratings.iter().filter(|r| **r).count()).unwrap_or(u32::MAX);
    let inappropriate = rated - appropriate;
    Quality {
        referrals,
        rated,
        appropriate,
        appropriate_percent: (rated > 0).then(|| appropriate * 100 / rated),
        flagged: rated >= min_rated.max(1) && inappropriate * 100 > threshold_percent * rated,
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    #[test]
    fn an_urgent_referral_is_accepted_without_a_clinic_day_a_routine_one_is_not() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 3, n).unwrap_or_default();
        for urgency in [Urgency::Routine, Urgency::Urgent] {
            assert_eq!(
                accepted_day(urgency, Some(d(2)), Some(d(1))),
                Ok(Some(d(2)))
            );
            assert_eq!(accepted_day(urgency, None, Some(d(1))), Ok(Some(d(1))));
        }
        assert_eq!(accepted_day(Urgency::Urgent, None, None), Ok(None));
        assert!(accepted_day(Urgency::Routine, None, None).is_err());
    }
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn an_icd10_code_is_a_letter_two_digits_and_an_optional_subcategory() {
        for (raw, code) in [
            ("A09", "A09"),
            ("J18.9", "J18.9"),
            (" j18.9 ", "J18.9"),
            ("U07.1", "U07.1"),
            ("J18.900", "J18.900"),
            ("M54.5X", "M54.5X"),
        ] {
            assert_eq!(icd10_code(raw), Ok(Some(code.to_owned())), "{raw}");
        }
        assert_eq!(icd10_code(""), Ok(None));
        assert_eq!(icd10_code("   "), Ok(None));
        for bad in [
            "J18.",
            "J1",
            "18.9",
            "JJ8.9",
            "J189",
            "J18.90000",
            "J18-9",
            "J18 .9",
            "Kawasaki",
            "J18.9.1",
            "Ｊ18.9",
        ] {
            assert!(icd10_code(bad).is_err(), "{bad}");
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single().unwrap()
    }

    fn held(track_id: i64, status: Status, days_left: i64) -> Held {
        Held {
            id: CredentialId(track_id * 10),
            track_id,
            status,
            valid_until: now() + Duration::days(days_left),
        }
    }

    #[test]
    fn the_gate_opens_only_for_a_live_credential_in_scope() {
        let paed = 1;
        assert_eq!(
            may_refer(&[held(paed, Status::Active, 30)], paed, now()).map(|h| h.id),
            Ok(CredentialId(10))
        );
        assert_eq!(may_refer(&[], paed, now()), Err(GateRefusal::NoCredential));
        assert_eq!(
            may_refer(&[held(paed, Status::Suspended, 30)], paed, now()),
            Err(GateRefusal::Suspended)
        );
        assert_eq!(
            may_refer(&[held(paed, Status::Revoked, 30)], paed, now()),
            Err(GateRefusal::Revoked)
        );
        assert_eq!(
            may_refer(&[held(paed, Status::Expired, -1)], paed, now()),
            Err(GateRefusal::Expired)
        );
        // Active but past its date: expired, even before the job ran.
        assert_eq!(
            may_refer(&[held(paed, Status::Active, 0)], paed, now()),
            Err(GateRefusal::Expired)
        );
        // A live credential of another track does not cover this department.
        assert_eq!(
            may_refer(&[held(2, Status::Active, 30)], paed, now()),
            Err(GateRefusal::NotInScope)
        );
        // The department's own track decides, whatever else is held.
        assert_eq!(
            may_refer(
                &[
                    held(2, Status::Active, 30),
                    held(paed, Status::Suspended, 30)
                ],
                paed,
                now()
            ),
            Err(GateRefusal::Suspended)
        );
    }

    #[test]
    fn refusal_codes_are_stable() {
        let codes: Vec<&str> = [
            GateRefusal::NoCredential,
            GateRefusal::Suspended,
            GateRefusal::Revoked,
            GateRefusal::Expired,
            GateRefusal::NotInScope,
        ]
        .iter()
        .map(|r| r.code())
        .collect();
        assert_eq!(
            codes,
            [
                "no_credential",
                "credential_suspended",
                "credential_revoked",
                "credential_expired",
                "out_of_scope"
            ]
        );
    }

    #[test]
    fn every_step_of_a_referral_is_checked() {
        use DeskAction::*;
        for from in State::ALL {
            for action in [Accept, Decline, MarkSeen, ReferBack] {
                let expected = match (from, action) {
                    (State::Sent, Accept) => Some(State::Accepted),
                    (State::Sent, Decline) => Some(State::Declined),
                    (State::Accepted, MarkSeen) => Some(State::Seen),
                    (State::Seen, ReferBack) => Some(State::ReferredBack),
                    _ => None,
                };
                assert_eq!(step(from, action).ok(), expected, "{from:?} {action:?}");
            }
        }
        for s in State::ALL {
            assert_eq!(State::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn slots_and_beds_are_held_by_the_right_states() {
        assert!(State::Sent.holds_slot());
        assert!(!State::Declined.holds_slot());
        assert!(State::ReferredBack.holds_slot());
        assert!(State::Accepted.holds_bed() && State::Seen.holds_bed());
        assert!(!State::Sent.holds_bed() && !State::ReferredBack.holds_bed());
        assert!(has_room(2, 1));
        assert!(!has_room(2, 2));
        assert!(!has_room(0, 0));
    }

    #[test]
    fn clinic_days_are_bookable_from_today_to_90_days_on() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        assert!(bookable_day(today, today).is_ok());
        assert!(bookable_day(today + Duration::days(90), today).is_ok());
        assert!(bookable_day(today + Duration::days(91), today).is_err());
        assert!(bookable_day(today - Duration::days(1), today).is_err());
    }

    #[test]
    fn ratings_come_once_after_the_visit() {
        assert!(!may_rate(State::Sent, false));
        assert!(!may_rate(State::Accepted, false));
        assert!(may_rate(State::Seen, false));
        assert!(may_rate(State::ReferredBack, false));
        assert!(!may_rate(State::Seen, true));
        assert!(!may_rate(State::Declined, false));
    }

    #[test]
    fn patient_data_is_checked_field_by_field() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let ok = patient("王小明", "male", "2023-02-01", "138 0000 1234", today).unwrap();
        assert_eq!(ok.guardian_phone, "13800001234");
        assert_eq!(ok.sex, Sex::Male);
        assert_eq!(
            patient(" ", "male", "2023-02-01", "13800001234", today).unwrap_err()[0].0,
            "patient_name"
        );
        assert_eq!(
            patient("A", "x", "2023-02-01", "13800001234", today).unwrap_err()[0].0,
            "patient_sex"
        );
        assert_eq!(
            patient("A", "female", "1/2/2023", "13800001234", today).unwrap_err()[0].0,
            "patient_birth_date"
        );
        let (field, message) =
            patient("A", "female", "0000-01-01", "13800001234", today).unwrap_err()[0].clone();
        assert_eq!(field, "patient_birth_date");
        assert!(message.contains("1900 and 2200"), "{message}");
        assert_eq!(
            patient("A", "female", "2027-01-01", "13800001234", today).unwrap_err()[0].0,
            "patient_birth_date"
        );
        assert_eq!(
            patient("A", "female", "2008-06-01", "13800001234", today).unwrap_err()[0].0,
            "patient_birth_date",
            "18 today"
        );
        assert!(
            patient("A", "female", "2008-06-02", "13800001234", today).is_ok(),
            "17 until tomorrow"
        );
        assert_eq!(
            patient("A", "female", "2023-02-01", "12ab", today).unwrap_err()[0].0,
            "guardian_phone"
        );
        assert!(patient("A", "female", "2023-02-01", "+86 138-0000-1234", today).is_ok());
        // Every problem at once, in the form's order.
        let all: Vec<&str> = patient(" ", "x", "2027-01-01", "12ab", today)
            .unwrap_err()
            .iter()
            .map(|(f, _)| *f)
            .collect();
        assert_eq!(
            all,
            [
                "patient_name",
                "patient_sex",
                "patient_birth_date",
                "guardian_phone"
            ]
        );
    }

    #[test]
    fn doctors_are_flagged_past_the_threshold_with_enough_ratings() {
        let q = quality(10, &[true, true, true, false], 30, 5);
        assert_eq!(q.appropriate_percent, Some(75));
        assert!(!q.flagged, "too few ratings");
        let q = quality(10, &[true, true, true, false, false], 30, 5);
        assert!(q.flagged, "40% inappropriate > 30%");
        let q = quality(
            10,
            &[
                true, true, true, true, true, true, false, false, false, true,
            ],
            30,
            5,
        );
        assert!(!q.flagged, "exactly 30% is not past it");
        let q = quality(0, &[], 30, 5);
        assert_eq!(q.appropriate_percent, None);
        assert!(!q.flagged);
    }
}
