//! HL7 FHIR R4 (4.0.1): a green-channel referral as a `ServiceRequest`, the
//! searchset `Bundle` of the search, the server's `CapabilityStatement` and
//! the `OperationOutcome` every FHIR error answers with.
//!
//! A referral leaves the platform as one `ServiceRequest` (the standard
//! resource for "please see this patient"), so that the tertiary hospital's
//! system can read it without knowing anything about us. The patient, the
//! referring doctor and the receiving department travel inside the request as
//! `contained` resources: the receiver holds no copies of our records, and a
//! contained resource is the FHIR way of saying "this has no identity of its
//! own outside this request". The doctor's credential, the thing that opened
//! the green channel, is carried as `Practitioner.qualification`, which is
//! exactly what the R4 element is for (identifier, code, period, issuer).
//!
//! The output is typed: every resource is a Rust struct that serialises to
//! FHIR JSON, built only through the functions here. Codes are enums of
//! their value sets, text is [`Text`] (never empty, trimmed, no control
//! characters), dates are formatted only when FHIR can express them, and
//! optional elements with nothing to say are left out (FHIR JSON forbids
//! empty strings, arrays and objects). So the builders cannot produce a
//! resource that breaks the R4 structure; the integration tests check the
//! output with an independent validator (tests/validators/check_fhir.py).
//!
//! Everything here is pure: values in, values out, no I/O.

use crate::domain::ids::PersonId;
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// The FHIR version every resource here follows.
pub const FHIR_VERSION: &str = "4.0.1";

/// Where the FHIR endpoints live under the public URL.
pub const FHIR_PATH: &str = "/api/v1/fhir";

/// Implements `Serialize` as the value's FHIR code.
macro_rules! serialize_as_code {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }
    )*};
}

/// The FHIR `request-status` value set (required binding of
/// `ServiceRequest.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    /// Being written; not yet actionable.
    Draft,
    /// In force: the receiver should act on it.
    Active,
    /// Suspended for now; may become active again.
    OnHold,
    /// Withdrawn before completion.
    Revoked,
    /// Done: the patient was seen.
    Completed,
    /// Should never have existed; receivers treat it as void.
    EnteredInError,
    /// The sender cannot tell which of the above applies.
    Unknown,
}

impl RequestStatus {
    /// Every status, in the order the value set lists them.
    pub const ALL: [RequestStatus; 7] = [
        RequestStatus::Draft,
        RequestStatus::Active,
        RequestStatus::OnHold,
        RequestStatus::Revoked,
        RequestStatus::Completed,
        RequestStatus::EnteredInError,
        RequestStatus::Unknown,
    ];

    /// The FHIR code, exactly as it appears on the wire.
    pub fn code(self) -> &'static str {
        match self {
            RequestStatus::Draft => "draft",
            RequestStatus::Active => "active",
            RequestStatus::OnHold => "on-hold",
            RequestStatus::Revoked => "revoked",
            RequestStatus::Completed => "completed",
            RequestStatus::EnteredInError => "entered-in-error",
            RequestStatus::Unknown => "unknown",
        }
    }

    /// The status with this FHIR code, if any.
    pub fn parse(code: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// The priorities a green-channel referral can carry (`request-priority`
/// also has `asap` and `stat`, which we never send).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Normal priority.
    Routine,
    /// Seen sooner than routine.
    Urgent,
}

impl Priority {
    /// Both priorities.
    pub const ALL: [Priority; 2] = [Priority::Routine, Priority::Urgent];

    /// The FHIR code, exactly as it appears on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Priority::Routine => "routine",
            Priority::Urgent => "urgent",
        }
    }

    /// The priority with this FHIR code, if it is one we send.
    pub fn parse(code: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.code() == code)
    }
}

/// The FHIR `administrative-gender` value set (required binding of
/// `Patient.gender`): the gender used for administration, not a clinical
/// statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
    Other,
    Unknown,
}

impl Gender {
    /// Every gender code, in the order the value set lists them.
    pub const ALL: [Gender; 4] = [Gender::Male, Gender::Female, Gender::Other, Gender::Unknown];

    /// The FHIR code, exactly as it appears on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        }
    }

    /// The gender with this FHIR code, if any.
    pub fn parse(code: &str) -> Option<Gender> {
        Gender::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// The `issue-type` codes our errors use (required binding of
/// `OperationOutcome.issue.code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueType {
    /// Unacceptable input: a malformed id or parameter (400).
    Invalid,
    /// No usable credentials: sign in or send a token (401).
    Security,
    /// The caller is known but may not see this (403).
    Forbidden,
    /// No such resource, or no such route (404).
    NotFound,
    /// The interaction is not supported: a method the path does not take (405).
    NotSupported,
    /// Too many requests (429).
    Throttled,
    /// Anything else: our side failed (500).
    Exception,
}

impl IssueType {
    /// The FHIR code, exactly as it appears on the wire.
    pub fn code(self) -> &'static str {
        match self {
            IssueType::Invalid => "invalid",
            IssueType::Security => "security",
            IssueType::Forbidden => "forbidden",
            IssueType::NotFound => "not-found",
            IssueType::NotSupported => "not-supported",
            IssueType::Throttled => "throttled",
            IssueType::Exception => "exception",
        }
    }
}

serialize_as_code!(RequestStatus, Priority, Gender, IssueType);

/// A FHIR `string` with something in it: trimmed, without control
/// characters other than tab, carriage return and line feed (FHIR strings
/// should not carry them), never empty (FHIR forbids empty strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// The text cleaned as above, or `None` when nothing is left.
    pub fn new(s: &str) -> Option<Text> {
        let cleaned: String = s
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\t' | '\r' | '\n'))
            .collect();
        let t = cleaned.trim();
        (!t.is_empty()).then(|| Text(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `s` is a FHIR `id`: 1 to 64 letters, digits, `-` or `.`.
pub fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// What the `id` of a read names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadId {
    /// One of our ids (our resources are numbered).
    Ours(i64),
    /// A well-formed FHIR id that cannot be one of ours: not found.
    NotOurs,
    /// Not a FHIR id at all: a bad request.
    Malformed,
}

/// Reads the `{id}` of `GET [base]/[type]/{id}`.
pub fn read_id(raw: &str) -> ReadId {
    if !is_fhir_id(raw) {
        return ReadId::Malformed;
    }
    match raw.parse::<i64>() {
        // Ours are positive and written without sign or leading zeros, so
        // `007` and `+7` do not alias `7`.
        Ok(n) if n > 0 && n.to_string() == raw => ReadId::Ours(n),
        _ => ReadId::NotOurs,
    }
}

/// A FHIR date, "YYYY-MM-DD"; `None` for a year FHIR cannot write (it has
/// exactly four digits and no year 0).
fn fhir_date(d: NaiveDate) -> Option<String> {
    (1..=9999)
        .contains(&d.year())
        .then(|| d.format("%Y-%m-%d").to_string())
}

/// A FHIR dateTime at second precision in UTC, "YYYY-MM-DDThh:mm:ssZ"
/// (FHIR requires a zone whenever a time is given; sub-seconds say nothing
/// a receiver needs); `None` for a year FHIR cannot write.
fn fhir_date_time(t: DateTime<Utc>) -> Option<String> {
    (1..=9999)
        .contains(&t.year())
        .then(|| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The base URL without trailing slashes or spaces, so "{base}/x" never
/// has "//".
fn trim_base(base_url: &str) -> &str {
    base_url.trim().trim_end_matches('/')
}

// ----- data types ------------------------------------------------------

/// `Coding`: a code from a code system.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coding {
    system: String,
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<Text>,
}

/// `CodeableConcept`: codings, text, or both; never neither.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeableConcept {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Text>,
}

impl CodeableConcept {
    fn text(text: Text) -> Self {
        CodeableConcept {
            coding: Vec::new(),
            text: Some(text),
        }
    }

    fn coded(coding: Coding, text: Option<Text>) -> Self {
        CodeableConcept {
            coding: vec![coding],
            text,
        }
    }
}

/// `Identifier`: a value in a namespace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Identifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    value: Text,
}

/// `Reference`: a local reference ("#id") and/or display text; never empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display: Option<Text>,
}

impl Reference {
    fn local(id: &str, display: Option<Text>) -> Self {
        Reference {
            reference: Some(format!("#{id}")),
            display,
        }
    }

    fn display(display: Text) -> Self {
        Reference {
            reference: None,
            display: Some(display),
        }
    }
}

/// `Period`: a start and/or an end; never empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

impl Period {
    fn of(start: Option<String>, end: Option<String>) -> Option<Period> {
        (start.is_some() || end.is_some()).then_some(Period { start, end })
    }
}

/// `HumanName` as written (`text`): Chinese names do not split reliably
/// into family and given names, and `text` is the element meant for a
/// name as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HumanName {
    text: Text,
}

/// `ContactPoint`: a phone number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactPoint {
    system: &'static str,
    value: Text,
}

/// `Annotation`: a note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    text: Text,
}

// ----- the ServiceRequest and what it contains ---------------------------

/// The child being referred; becomes the contained `Patient` "#patient".
#[derive(Debug, Clone, Copy)]
pub struct PatientInput<'a> {
    /// `Patient.identifier`: the namespace of our patient ids (the
    /// `fhir_patient_system` setting) ...
    pub identifier_system: &'a str,
    /// ... and the id: the referral's, since a patient is recorded with
    /// each referral and nowhere else.
    pub identifier_value: i64,
    /// The name as written, e.g. "王小明" (`HumanName.text`).
    pub name: &'a str,
    pub gender: Gender,
    pub birth_date: NaiveDate,
    /// A child is reached through a guardian: `Patient.contact[0]` with
    /// relationship `GUARD` (v3 RoleCode) and this phone number.
    pub guardian_phone: &'a str,
}

/// The referring doctor; becomes the contained `Practitioner` "#requester".
#[derive(Debug, Clone, Copy)]
pub struct RequesterInput<'a> {
    pub person_id: PersonId,
    pub name: &'a str,
    /// Where the doctor works. R4 `Practitioner` has no element for it (that
    /// needs a `PractitionerRole`), so it goes into the `display` of the
    /// `requester` reference, which is human-readable text by definition.
    pub institution: Option<&'a str>,
    /// The credential that allowed the referral:
    /// `Practitioner.qualification` {identifier (system = `issuer_url`,
    /// value = number), code.text = track title, period = valid from / valid
    /// until, issuer.display = the alliance}.
    pub credential_number: &'a str,
    pub credential_track: &'a str,
    pub credential_valid_from: DateTime<Utc>,
    pub credential_valid_until: DateTime<Utc>,
    pub issuer_url: &'a str,
    pub issuer_name: &'a str,
}

/// The receiving department; becomes the contained `Organization`
/// "#performer", part of the hospital.
#[derive(Debug, Clone, Copy)]
pub struct PerformerInput<'a> {
    pub department_id: i64,
    pub department_name: &'a str,
    /// The hospital, as `Organization.partOf.display`: we hold no FHIR
    /// resource for the hospital itself, and a display-only reference is
    /// valid R4.
    pub hospital: &'a str,
}

/// Everything a referral's `ServiceRequest` is built from.
#[derive(Debug, Clone, Copy)]
pub struct ServiceRequestInput<'a> {
    /// The platform's public address, e.g. `https://gatekeeper.example`; a
    /// trailing slash is trimmed. It namespaces our identifiers.
    pub base_url: &'a str,
    /// Becomes `ServiceRequest.id`.
    pub referral_id: i64,
    /// The human-facing referral number: `identifier[0]`, with system
    /// "{base_url}/referrals".
    pub referral_number: &'a str,
    pub status: RequestStatus,
    pub priority: Priority,
    pub patient: PatientInput<'a>,
    pub requester: RequesterInput<'a>,
    pub performer: PerformerInput<'a>,
    /// Why the child is referred: `reasonCode[0].text`.
    pub reason: &'a str,
    /// The referring doctor's working diagnosis: a second `reasonCode`
    /// entry, text prefixed "Diagnosis: " (R4 puts coded diagnoses in
    /// `reasonCode`; the prefix tells the two texts apart, since
    /// `reasonCode` has no slot naming its role) ...
    pub diagnosis: &'a str,
    /// ... coded with ICD-10 (system `http://hl7.org/fhir/sid/icd-10`) when
    /// the doctor gave a code (`domain::referrals::icd10_code` checked it).
    pub diagnosis_code: Option<&'a str>,
    /// Examination findings: `note[0].text`, prefixed "Findings: ".
    pub findings: &'a str,
    /// When the referral was written: `authoredOn`, in UTC.
    pub authored_on: DateTime<Utc>,
    /// The booked clinic day, if any: `occurrenceDateTime` as "YYYY-MM-DD"
    /// (a date is a valid FHIR dateTime; the day is what was booked, not a
    /// time).
    pub occurrence: Option<NaiveDate>,
}

/// The id of the contained `Patient`.
const PATIENT_ID: &str = "patient";
/// The id of the contained `Practitioner`.
const REQUESTER_ID: &str = "requester";
/// The id of the contained `Organization`.
const PERFORMER_ID: &str = "performer";

/// The code system of the `GUARD` (guardian) relationship code.
const V3_ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
/// SNOMED CT, for the referral category.
const SNOMED: &str = "http://snomed.info/sct";
/// WHO ICD-10, as FHIR names it.
pub const ICD_10: &str = "http://hl7.org/fhir/sid/icd-10";
/// `qualification.code` is required (1..1) in R4; used when the track title
/// is blank.
const FALLBACK_QUALIFICATION_TEXT: &str = "Green-channel referral credential";

/// A resource inside a ServiceRequest's `contained`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "resourceType")]
pub enum Contained {
    Patient(Patient),
    Practitioner(Practitioner),
    Organization(Organization),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    id: &'static str,
    identifier: Vec<Identifier>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    name: Vec<HumanName>,
    gender: Gender,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contact: Vec<PatientContact>,
}

/// `Patient.contact`: the guardian (pat-1: always with a phone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientContact {
    relationship: Vec<CodeableConcept>,
    telecom: Vec<ContactPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Practitioner {
    id: &'static str,
    identifier: Vec<Identifier>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    name: Vec<HumanName>,
    qualification: Vec<Qualification>,
}

/// `Practitioner.qualification`: the credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Qualification {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identifier: Vec<Identifier>,
    code: CodeableConcept,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<Period>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<Reference>,
}

/// org-1: an Organization needs a name or an identifier; the identifier is
/// always there.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    id: &'static str,
    identifier: Vec<Identifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    part_of: Option<Reference>,
}

/// A referral as an R4 `ServiceRequest`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRequest {
    resource_type: &'static str,
    id: String,
    contained: Vec<Contained>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identifier: Vec<Identifier>,
    status: RequestStatus,
    intent: &'static str,
    category: Vec<CodeableConcept>,
    priority: Priority,
    code: CodeableConcept,
    subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    occurrence_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authored_on: Option<String>,
    requester: Reference,
    performer: Vec<Reference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reason_code: Vec<CodeableConcept>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    note: Vec<Annotation>,
}

impl ServiceRequest {
    /// `ServiceRequest.id`.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The referral as a FHIR R4 `ServiceRequest`.
///
/// Patient, Practitioner and Organization (the department, `partOf` the
/// hospital as display) are `contained` resources with ids "patient",
/// "requester" and "performer"; `subject`, `requester` and `performer[0]`
/// reference them as "#patient", "#requester", "#performer". `intent` is
/// "order" (the referral is an authorised instruction, not a proposal);
/// `category` is SNOMED CT 3457005 "Patient referral", so a receiver can
/// route it without reading the text; `code.text` is "Green-channel referral
/// to {department}"; `id` is the referral id. Blank optional text is left
/// out and all text is trimmed.
pub fn service_request(input: &ServiceRequestInput) -> ServiceRequest {
    let base = trim_base(input.base_url);
    let mut reason_code = Vec::new();
    if let Some(reason) = Text::new(input.reason) {
        reason_code.push(CodeableConcept::text(reason));
    }
    let diagnosis =
        Text::new(input.diagnosis).and_then(|d| Text::new(&format!("Diagnosis: {}", d.0)));
    match input.diagnosis_code.and_then(Text::new) {
        Some(code) => reason_code.push(CodeableConcept::coded(
            Coding {
                system: ICD_10.to_owned(),
                code: code.0,
                display: None,
            },
            diagnosis,
        )),
        None => reason_code.extend(diagnosis.map(CodeableConcept::text)),
    }
    let code_text = match Text::new(input.performer.department_name) {
        Some(department) => format!("Green-channel referral to {}", department.0),
        None => "Green-channel referral".to_owned(),
    };
    ServiceRequest {
        resource_type: "ServiceRequest",
        id: input.referral_id.to_string(),
        contained: vec![
            Contained::Patient(patient(&input.patient)),
            Contained::Practitioner(practitioner(base, &input.requester)),
            Contained::Organization(organization(base, &input.performer)),
        ],
        identifier: Text::new(input.referral_number)
            .map(|number| Identifier {
                system: Some(format!("{base}/referrals")),
                value: number,
            })
            .into_iter()
            .collect(),
        status: input.status,
        intent: "order",
        category: vec![CodeableConcept::coded(
            Coding {
                system: SNOMED.to_owned(),
                code: "3457005".to_owned(),
                display: Text::new("Patient referral"),
            },
            None,
        )],
        priority: input.priority,
        code: CodeableConcept::text(Text(code_text)),
        subject: Reference::local(PATIENT_ID, None),
        occurrence_date_time: input.occurrence.and_then(fhir_date),
        authored_on: fhir_date_time(input.authored_on),
        requester: requester_reference(&input.requester),
        performer: vec![Reference::local(PERFORMER_ID, None)],
        reason_code,
        note: Text::new(input.findings)
            .map(|f| Annotation {
                text: Text(format!("Findings: {}", f.0)),
            })
            .into_iter()
            .collect(),
    }
}

/// The contained `Patient`.
fn patient(p: &PatientInput) -> Patient {
    let contact = Text::new(p.guardian_phone)
        .map(|phone| PatientContact {
            relationship: vec![CodeableConcept::coded(
                Coding {
                    system: V3_ROLE_CODE.to_owned(),
                    code: "GUARD".to_owned(),
                    display: Text::new("guardian"),
                },
                None,
            )],
            telecom: vec![ContactPoint {
                system: "phone",
                value: phone,
            }],
        })
        .into_iter()
        .collect();
    Patient {
        id: PATIENT_ID,
        identifier: vec![Identifier {
            system: Some(trim_base(p.identifier_system).to_owned()).filter(|s| !s.is_empty()),
            value: Text(p.identifier_value.to_string()),
        }],
        name: Text::new(p.name)
            .map(|text| HumanName { text })
            .into_iter()
            .collect(),
        gender: p.gender,
        birth_date: fhir_date(p.birth_date),
        contact,
    }
}

/// The contained `Practitioner`, carrying the credential as its
/// qualification.
fn practitioner(base: &str, r: &RequesterInput) -> Practitioner {
    let qualification = Qualification {
        identifier: Text::new(r.credential_number)
            .map(|number| Identifier {
                system: Some(r.issuer_url.trim().to_owned()).filter(|s| !s.is_empty()),
                value: number,
            })
            .into_iter()
            .collect(),
        code: CodeableConcept::text(
            Text::new(r.credential_track).unwrap_or(Text(FALLBACK_QUALIFICATION_TEXT.to_owned())),
        ),
        period: Period::of(
            fhir_date_time(r.credential_valid_from),
            fhir_date_time(r.credential_valid_until),
        ),
        issuer: Text::new(r.issuer_name).map(Reference::display),
    };
    Practitioner {
        id: REQUESTER_ID,
        identifier: vec![Identifier {
            system: Some(format!("{base}/people")),
            value: Text(r.person_id.to_string()),
        }],
        name: Text::new(r.name)
            .map(|text| HumanName { text })
            .into_iter()
            .collect(),
        qualification: vec![qualification],
    }
}

/// The contained `Organization` for the receiving department.
fn organization(base: &str, p: &PerformerInput) -> Organization {
    Organization {
        id: PERFORMER_ID,
        identifier: vec![Identifier {
            system: Some(format!("{base}/departments")),
            value: Text(p.department_id.to_string()),
        }],
        name: Text::new(p.department_name),
        part_of: Text::new(p.hospital).map(Reference::display),
    }
}

/// `ServiceRequest.requester`: the contained Practitioner, with the doctor's
/// name and institution as display text (the institution has no other place
/// on an R4 Practitioner).
fn requester_reference(r: &RequesterInput) -> Reference {
    let name = Text::new(r.name);
    let institution = r.institution.and_then(Text::new);
    let display = match (name, institution) {
        (Some(n), Some(i)) => Some(Text(format!("{} ({})", n.0, i.0))),
        (Some(n), None) => Some(n),
        (None, Some(i)) => Some(i),
        (None, None) => None,
    };
    Reference::local(REQUESTER_ID, display)
}

// ----- the search's Bundle ---------------------------------------------

/// A `searchset` Bundle: the answer to a search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bundle {
    #[serde(rename = "resourceType")]
    resource_type: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    total: usize,
    link: Vec<BundleLink>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entry: Vec<BundleEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleLink {
    relation: &'static str,
    url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    full_url: String,
    resource: ServiceRequest,
    search: BundleSearch,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleSearch {
    mode: &'static str,
}

/// The URL a ServiceRequest is read at: "{base}/api/v1/fhir/ServiceRequest/{id}".
pub fn service_request_url(base_url: &str, id: &str) -> String {
    format!("{}{FHIR_PATH}/ServiceRequest/{id}", trim_base(base_url))
}

/// The answer to `GET [base]/ServiceRequest`: a Bundle of type `searchset`
/// with `total` (every match is in the page: there is no paging), a `self`
/// link (the search as the server ran it: no search parameters are
/// supported, so none), and per entry the resource's own URL as `fullUrl`
/// and `search.mode` = `match`. With no matches there is no `entry` at all,
/// because FHIR JSON forbids empty arrays.
pub fn searchset(base_url: &str, requests: Vec<ServiceRequest>) -> Bundle {
    let base = trim_base(base_url);
    Bundle {
        resource_type: "Bundle",
        kind: "searchset",
        total: requests.len(),
        link: vec![BundleLink {
            relation: "self",
            url: format!("{base}{FHIR_PATH}/ServiceRequest"),
        }],
        entry: requests
            .into_iter()
            .map(|resource| BundleEntry {
                full_url: service_request_url(base, &resource.id),
                resource,
                search: BundleSearch { mode: "match" },
            })
            .collect(),
    }
}

// ----- the CapabilityStatement -------------------------------------------

/// What the FHIR endpoint offers: `GET [base]/metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatement {
    resource_type: &'static str,
    status: &'static str,
    date: &'static str,
    publisher: &'static str,
    kind: &'static str,
    software: Software,
    implementation: Implementation,
    fhir_version: &'static str,
    format: [&'static str; 1],
    rest: [Rest; 1],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Software {
    name: &'static str,
    version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Implementation {
    description: &'static str,
    url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rest {
    mode: &'static str,
    documentation: &'static str,
    security: Security,
    resource: [RestResource; 1],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Security {
    service: [CodeableConcept; 1],
    description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestResource {
    #[serde(rename = "type")]
    kind: &'static str,
    profile: &'static str,
    documentation: &'static str,
    interaction: [Interaction; 2],
    versioning: &'static str,
    read_history: bool,
    update_create: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interaction {
    code: &'static str,
    documentation: &'static str,
}

/// When the capability statement last changed in substance (its required
/// `date`).
const CAPABILITY_DATE: &str = "2026-12-04";

/// The server's CapabilityStatement: an `instance` (this server) speaking
/// FHIR 4.0.1 in JSON, with one resource, ServiceRequest, readable
/// (`read`) and searchable without parameters (`search-type`), behind
/// bearer tokens. `version` is the software's version.
pub fn capability_statement(base_url: &str, version: &str) -> CapabilityStatement {
    let base = trim_base(base_url);
    CapabilityStatement {
        resource_type: "CapabilityStatement",
        status: "active",
        date: CAPABILITY_DATE,
        publisher: "Gatekeeper",
        kind: "instance",
        software: Software {
            name: "Gatekeeper",
            version: version.to_owned(),
        },
        implementation: Implementation {
            description: "Gatekeeper: green-channel referrals of the hospital alliance",
            url: format!("{base}{FHIR_PATH}"),
        },
        fhir_version: FHIR_VERSION,
        format: ["json"],
        rest: [Rest {
            mode: "server",
            documentation: "Green-channel referrals as ServiceRequests, read-only. \
                Answers are application/fhir+json; errors are OperationOutcomes.",
            security: Security {
                service: [CodeableConcept::text(Text("Bearer token".to_owned()))],
                description: format!(
                    "Send `Authorization: Bearer <token>`. A personal token \
                     (POST {base}/api/v1/auth/token) sees the referrals its person is a \
                     party to: the referring doctor their own, a referral desk those to \
                     its hospital, an administrator all. An integration token acts for \
                     no person and is refused (403). Without a valid token the answer is \
                     401, for a referral the caller may not see 403. This statement itself \
                     is public."
                ),
            },
            resource: [RestResource {
                kind: "ServiceRequest",
                profile: "http://hl7.org/fhir/StructureDefinition/ServiceRequest",
                documentation: "One green-channel referral. The patient, the referring doctor \
                    (with the credential as qualification) and the receiving department \
                    are contained resources.",
                interaction: [
                    Interaction {
                        code: "read",
                        documentation: "GET [base]/ServiceRequest/[id]",
                    },
                    Interaction {
                        code: "search-type",
                        documentation: "GET [base]/ServiceRequest: every referral the \
                            caller may see, as a searchset Bundle; no search parameters",
                    },
                ],
                versioning: "no-version",
                read_history: false,
                update_create: false,
            }],
        }],
    }
}

// ----- OperationOutcome ----------------------------------------------------

/// An error as FHIR reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    resource_type: &'static str,
    issue: [Issue; 1],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    severity: &'static str,
    code: IssueType,
    #[serde(skip_serializing_if = "Option::is_none")]
    diagnostics: Option<Text>,
}

/// One error issue of type `code`, with `message` as its `diagnostics`.
pub fn operation_outcome(code: IssueType, message: &str) -> OperationOutcome {
    OperationOutcome {
        resource_type: "OperationOutcome",
        issue: [Issue {
            severity: "error",
            code,
            diagnostics: Text::new(message),
        }],
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use super::*;
    use chrono::{Duration, TimeZone};
    use serde_json::{Value, json};

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn fixture() -> ServiceRequestInput<'static> {
        ServiceRequestInput {
            base_url: "https://gatekeeper.example/",
            referral_id: 42,
            referral_number: "GC-2026-000042",
            status: RequestStatus::Active,
            priority: Priority::Urgent,
            patient: PatientInput {
                identifier_system: "https://gatekeeper.example/fhir/patient-id",
                identifier_value: 42,
                name: "王小明",
                gender: Gender::Male,
                birth_date: day(2019, 3, 7),
                guardian_phone: "+86 138 0013 8000",
            },
            requester: RequesterInput {
                person_id: PersonId(7),
                name: "李华",
                institution: Some("城关社区卫生服务中心"),
                credential_number: "GK-2026-0001",
                credential_track: "Paediatric green channel",
                credential_valid_from: at(2026, 11, 24, 16),
                credential_valid_until: at(2028, 11, 24, 16),
                issuer_url: "https://gatekeeper.example/issuer",
                issuer_name: "Alliance Children's Hospital",
            },
            performer: PerformerInput {
                department_id: 3,
                department_name: "Paediatric Cardiology",
                hospital: "Provincial Children's Hospital",
            },
            reason: "Suspected congenital heart disease",
            diagnosis: "Ventricular septal defect",
            diagnosis_code: Some("Q21.0"),
            findings: "Grade 3/6 systolic murmur at the left sternal border",
            // Sub-second precision on purpose: the export drops it.
            authored_on: at(2026, 11, 25, 8) + Duration::milliseconds(123),
            occurrence: Some(day(2026, 12, 1)),
        }
    }

    fn json_of(v: &impl Serialize) -> Value {
        serde_json::to_value(v).unwrap_or(Value::Null)
    }

    fn sr(input: &ServiceRequestInput) -> Value {
        json_of(&service_request(input))
    }

    /// Every string, array and object in `v`, none empty and no null: what
    /// FHIR JSON forbids.
    fn assert_nothing_empty(v: &Value, path: &str) {
        match v {
            Value::Null => panic!("{path}: null"),
            Value::String(s) => assert!(!s.trim().is_empty(), "{path}: empty string"),
            Value::Array(a) => {
                assert!(!a.is_empty(), "{path}: empty array");
                for (i, x) in a.iter().enumerate() {
                    assert_nothing_empty(x, &format!("{path}[{i}]"));
                }
            }
            Value::Object(o) => {
                assert!(!o.is_empty(), "{path}: empty object");
                for (k, x) in o {
                    assert_nothing_empty(x, &format!("{path}.{k}"));
                }
            }
            _ => {}
        }
    }

    #[test]
    fn codes_are_their_value_sets() {
        let codes: Vec<&str> = RequestStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(
            codes,
            [
                "draft",
                "active",
                "on-hold",
                "revoked",
                "completed",
                "entered-in-error",
                "unknown"
            ]
        );
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.code()), Some(s));
        }
        assert_eq!(RequestStatus::parse("on_hold"), None);
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.code()), Some(p));
        }
        let genders: Vec<&str> = Gender::ALL.iter().map(|g| g.code()).collect();
        assert_eq!(genders, ["male", "female", "other", "unknown"]);
        assert_eq!(json_of(&RequestStatus::OnHold), json!("on-hold"));
        assert_eq!(json_of(&IssueType::NotFound), json!("not-found"));
    }

    #[test]
    fn fixed_input_gives_the_exact_resource() {
        let expected = json!({
            "resourceType": "ServiceRequest",
            "id": "42",
            "contained": [
                {
                    "resourceType": "Patient",
                    "id": "patient",
                    "identifier": [{ "system": "https://gatekeeper.example/fhir/patient-id", "value": "42" }],
                    "name": [{ "text": "王小明" }],
                    "gender": "male",
                    "birthDate": "2019-03-07",
                    "contact": [{
                        "relationship": [{
                            "coding": [{
                                "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                "code": "GUARD",
                                "display": "guardian"
                            }]
                        }],
                        "telecom": [{ "system": "phone", "value": "+86 138 0013 8000" }]
                    }]
                },
                {
                    "resourceType": "Practitioner",
                    "id": "requester",
                    "identifier": [{ "system": "https://gatekeeper.example/people", "value": "7" }],
                    "name": [{ "text": "李华" }],
                    "qualification": [{
                        "identifier": [{
                            "system": "https://gatekeeper.example/issuer",
                            "value": "GK-2026-0001"
                        }],
                        "code": { "text": "Paediatric green channel" },
                        "period": { "start": "2026-11-24T16:00:00Z", "end": "2028-11-24T16:00:00Z" },
                        "issuer": { "display": "Alliance Children's Hospital" }
                    }]
                },
                {
                    "resourceType": "Organization",
                    "id": "performer",
                    "identifier": [{ "system": "https://gatekeeper.example/departments", "value": "3" }],
                    "name": "Paediatric Cardiology",
                    "partOf": { "display": "Provincial Children's Hospital" }
                }
            ],
            "identifier": [{
                "system": "https://gatekeeper.example/referrals",
                "value": "GC-2026-000042"
            }],
            "status": "active",
            "intent": "order",
            "category": [{
                "coding": [{
                    "system": "http://snomed.info/sct",
                    "code": "3457005",
                    "display": "Patient referral"
                }]
            }],
            "priority": "urgent",
            "code": { "text": "Green-channel referral to Paediatric Cardiology" },
            "subject": { "reference": "#patient" },
            "occurrenceDateTime": "2026-12-01",
            "authoredOn": "2026-11-25T08:00:00Z",
            "requester": { "reference": "#requester", "display": "李华 (城关社区卫生服务中心)" },
            "performer": [{ "reference": "#performer" }],
            "reasonCode": [
                { "text": "Suspected congenital heart disease" },
                {
                    "coding": [{ "system": "http://hl7.org/fhir/sid/icd-10", "code": "Q21.0" }],
                    "text": "Diagnosis: Ventricular septal defect"
                }
            ],
            "note": [{ "text": "Findings: Grade 3/6 systolic murmur at the left sternal border" }]
        });
        let v = sr(&fixture());
        assert_eq!(v, expected);
        // resourceType comes first, as FHIR readers expect.
        let text = serde_json::to_string(&service_request(&fixture())).unwrap_or_default();
        assert!(text.starts_with(r#"{"resourceType":"ServiceRequest","id":"42""#));
    }

    #[test]
    fn a_diagnosis_without_a_code_is_text_only_and_a_code_without_text_is_coded_only() {
        let mut input = fixture();
        input.diagnosis_code = None;
        assert_eq!(
            sr(&input)["reasonCode"][1],
            json!({ "text": "Diagnosis: Ventricular septal defect" })
        );
        input.diagnosis_code = Some("  ");
        assert_eq!(
            sr(&input)["reasonCode"][1],
            json!({ "text": "Diagnosis: Ventricular septal defect" })
        );
        input.diagnosis = " ";
        input.diagnosis_code = Some("A09");
        assert_eq!(
            sr(&input)["reasonCode"][1],
            json!({ "coding": [{ "system": ICD_10, "code": "A09" }] })
        );
    }

    #[test]
    fn blank_optional_text_is_omitted_not_sent_empty() {
        let mut input = fixture();
        input.referral_number = " ";
        input.patient.name = "";
        input.patient.guardian_phone = "\t";
        input.requester.name = " ";
        input.requester.institution = Some("");
        input.requester.credential_number = "";
        input.requester.credential_track = " ";
        input.requester.issuer_name = "";
        input.requester.issuer_url = "";
        input.performer.department_name = "";
        input.performer.hospital = "";
        input.reason = "";
        input.diagnosis = " ";
        input.diagnosis_code = None;
        input.findings = "\u{0007} ";
        input.occurrence = None;
        let v = sr(&input);
        assert_nothing_empty(&v, "");
        for gone in ["identifier", "reasonCode", "note", "occurrenceDateTime"] {
            assert!(v.get(gone).is_none(), "{gone}");
        }
        assert_eq!(v["requester"], json!({ "reference": "#requester" }));
        assert_eq!(v["code"]["text"], "Green-channel referral");
        let q = &v["contained"][1]["qualification"][0];
        assert_eq!(q["code"]["text"], FALLBACK_QUALIFICATION_TEXT);
        assert!(q.get("identifier").is_none() && q.get("issuer").is_none());
        assert!(v["contained"][0].get("contact").is_none());
        // The full fixture has nothing empty either.
        assert_nothing_empty(&sr(&fixture()), "");
    }

    #[test]
    fn text_is_trimmed_and_loses_control_characters() {
        assert_eq!(
            Text::new("  a\u{0}b \n").map(|t| t.0),
            Some("ab".to_owned())
        );
        assert_eq!(
            Text::new("line 1\r\nline 2").map(|t| t.0),
            Some("line 1\r\nline 2".to_owned())
        );
        assert_eq!(Text::new("\u{1b}\u{7f} "), None);
        let mut input = fixture();
        input.reason = "  Fever \u{0}5 days  ";
        assert_eq!(sr(&input)["reasonCode"][0]["text"], "Fever 5 days");
    }

    #[test]
    fn dates_fhir_cannot_write_are_left_out() {
        let mut input = fixture();
        input.patient.birth_date = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap_or_default();
        input.occurrence = NaiveDate::from_ymd_opt(0, 1, 1);
        input.requester.credential_valid_from = DateTime::<Utc>::MIN_UTC;
        input.requester.credential_valid_until = DateTime::<Utc>::MAX_UTC;
        let v = sr(&input);
        assert!(v["contained"][0].get("birthDate").is_none());
        assert!(v.get("occurrenceDateTime").is_none());
        assert!(
            v["contained"][1]["qualification"][0]
                .get("period")
                .is_none()
        );
        input.requester.credential_valid_from = at(2026, 1, 1, 0);
        assert_eq!(
            sr(&input)["contained"][1]["qualification"][0]["period"],
            json!({ "start": "2026-01-01T00:00:00Z" })
        );
        assert_eq!(fhir_date(day(1, 1, 1)).as_deref(), Some("0001-01-01"));
    }

    #[test]
    fn every_local_reference_resolves_to_a_contained_resource() {
        let v = sr(&fixture());
        let ids: Vec<&str> = v["contained"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str())
            .collect();
        for r in [
            &v["subject"]["reference"],
            &v["requester"]["reference"],
            &v["performer"][0]["reference"],
        ] {
            let id = r.as_str().and_then(|r| r.strip_prefix('#')).unwrap_or("");
            assert!(ids.contains(&id), "{r}");
        }
        assert_eq!(v["contained"][0]["resourceType"], "Patient");
        assert_eq!(v["contained"][1]["resourceType"], "Practitioner");
        assert_eq!(v["contained"][2]["resourceType"], "Organization");
    }

    #[test]
    fn a_searchset_points_every_entry_at_its_own_url() {
        let mut second = fixture();
        second.referral_id = 43;
        let b = json_of(&searchset(
            "https://gatekeeper.example/",
            vec![service_request(&fixture()), service_request(&second)],
        ));
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "searchset");
        assert_eq!(b["total"], 2);
        assert_eq!(
            b["link"],
            json!([{ "relation": "self", "url": "https://gatekeeper.example/api/v1/fhir/ServiceRequest" }])
        );
        assert_eq!(
            b["entry"][0]["fullUrl"],
            "https://gatekeeper.example/api/v1/fhir/ServiceRequest/42"
        );
        assert_eq!(
            b["entry"][1]["fullUrl"],
            "https://gatekeeper.example/api/v1/fhir/ServiceRequest/43"
        );
        assert_eq!(b["entry"][1]["resource"]["id"], "43");
        assert_eq!(b["entry"][0]["search"], json!({ "mode": "match" }));
        // No matches: a total of 0 and no entry array.
        let empty = json_of(&searchset("https://gatekeeper.example", Vec::new()));
        assert_eq!(empty["total"], 0);
        assert!(empty.get("entry").is_none());
        assert_nothing_empty(&empty, "");
    }

    #[test]
    fn the_capability_statement_offers_read_and_search_of_service_requests() {
        let c = json_of(&capability_statement(
            "https://gatekeeper.example/",
            "1.2.3",
        ));
        assert_nothing_empty(&c, "");
        assert_eq!(c["resourceType"], "CapabilityStatement");
        assert_eq!(c["status"], "active");
        assert_eq!(c["kind"], "instance");
        assert_eq!(c["fhirVersion"], "4.0.1");
        assert_eq!(c["format"], json!(["json"]));
        assert_eq!(c["software"]["version"], "1.2.3");
        assert_eq!(
            c["implementation"]["url"],
            "https://gatekeeper.example/api/v1/fhir"
        );
        let rest = &c["rest"][0];
        assert_eq!(rest["mode"], "server");
        assert!(
            rest["security"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("Authorization: Bearer"))
        );
        let resource = &rest["resource"][0];
        assert_eq!(resource["type"], "ServiceRequest");
        let interactions: Vec<&str> = resource["interaction"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["code"].as_str())
            .collect();
        assert_eq!(interactions, ["read", "search-type"]);
    }

    #[test]
    fn an_operation_outcome_is_one_error_issue() {
        let o = json_of(&operation_outcome(IssueType::Forbidden, " not allowed "));
        assert_eq!(
            o,
            json!({
                "resourceType": "OperationOutcome",
                "issue": [{ "severity": "error", "code": "forbidden", "diagnostics": "not allowed" }]
            })
        );
        let bare = json_of(&operation_outcome(IssueType::Exception, ""));
        assert_eq!(
            bare["issue"][0],
            json!({ "severity": "error", "code": "exception" })
        );
    }

    #[test]
    fn a_read_id_is_ours_not_ours_or_malformed() {
        assert_eq!(read_id("42"), ReadId::Ours(42));
        for not_ours in ["abc", "0", "-1", "007", "1.5", "99999999999999999999"] {
            assert_eq!(read_id(not_ours), ReadId::NotOurs, "{not_ours}");
        }
        let too_long = "1".repeat(65);
        for malformed in ["", "a b", "a!", "%20", "+7", "中", too_long.as_str()] {
            assert_eq!(read_id(malformed), ReadId::Malformed, "{malformed}");
        }
        assert!(is_fhir_id(&"a".repeat(64)));
    }
}
