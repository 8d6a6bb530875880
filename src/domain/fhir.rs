//! HL7 FHIR R4 export of a green-channel referral.
//!
//! A referral leaves the platform as one FHIR R4 `ServiceRequest` (the standard
//! resource for "please see this patient"), so that the tertiary hospital's
//! system can read it without knowing anything about us. The patient, the
//! referring doctor and the receiving department travel inside the request as
//! `contained` resources: the receiver holds no copies of our records, and a
//! contained resource is the FHIR way of saying "this has no identity of its own
//! outside this request". The doctor's credential, the thing that opened the
//! green channel, is carried as `Practitioner.qualification`, which is exactly
//! what the R4 element is for (identifier, code, period, issuer).
//!
//! [`validate_service_request`] is a structural check against the R4
//! definition. It is not a full FHIR validator (no terminology server, no
//! profiles); it checks what an export of ours could get wrong, and it is the
//! guard the export runs before anything leaves the platform.
//!
//! Everything here is pure: JSON in, JSON out, no I/O.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

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

/// The priorities a green-channel referral can carry. The `request-priority`
/// value set also has `asap` and `stat`; we never send them, but the validator
/// accepts them because they are valid R4.
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

/// The child being referred; becomes the contained `Patient` "#patient".
#[derive(Debug, Clone, Copy)]
pub struct PatientInput<'a> {
    /// The name as written, e.g. "王小明". Goes into `HumanName.text` and is not
    /// split into family and given names: Chinese names do not split reliably,
    /// and `text` is the element meant for a name as written.
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
    pub person_id: i64,
    pub name: &'a str,
    /// Where the doctor works. R4 `Practitioner` has no element for it (that
    /// needs a `PractitionerRole`), so it goes into the `display` of the
    /// `requester` reference, which is human-readable text by definition.
    pub institution: Option<&'a str>,
    /// The credential that allowed the referral:
    /// `Practitioner.qualification` {identifier (system = `issuer_url`,
    /// value = number), code.text = track title, period.end = valid until,
    /// issuer.display}.
    pub credential_number: &'a str,
    pub credential_track: &'a str,
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
    /// The referring doctor's working diagnosis: a second `reasonCode` entry,
    /// text prefixed "Diagnosis: ". A diagnosis is a reason for the request
    /// (R4 puts coded diagnoses in `reasonCode`); the prefix tells the two
    /// texts apart, since `reasonCode` has no slot naming its role.
    pub diagnosis: &'a str,
    /// Examination findings: `note[0].text`, prefixed "Findings: ".
    pub findings: &'a str,
    /// When the referral was written: `authoredOn`, RFC 3339 in UTC.
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
/// SNOMED CT 3457005 "Patient referral": the category that says "this is a
/// referral", so a receiver can route it without reading the text.
const REFERRAL_CATEGORY_CODE: &str = "3457005";
const REFERRAL_CATEGORY_DISPLAY: &str = "Patient referral";
/// `qualification.code` is required (1..1) in R4; used when the track title
/// is blank so the exported qualification stays valid.
const FALLBACK_QUALIFICATION_TEXT: &str = "Green-channel referral credential";

/// The codes of `request-status`, for the validator and its messages.
const REQUEST_STATUS_CODES: [&str; 7] = [
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
];
/// The codes of `request-intent` (R4).
const REQUEST_INTENT_CODES: [&str; 9] = [
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
];
/// The codes of `request-priority`.
const REQUEST_PRIORITY_CODES: [&str; 4] = ["routine", "urgent", "asap", "stat"];
/// The codes of `administrative-gender`.
const ADMINISTRATIVE_GENDER_CODES: [&str; 4] = ["male", "female", "other", "unknown"];

/// Every element an R4 `ServiceRequest` may carry at the top level (besides
/// `resourceType`), in the order of the R4 definition: the `Resource` and
/// `DomainResource` elements, then the `ServiceRequest` ones, with each
/// choice element `[x]` spelled out per type. FHIR JSON is closed, so any
/// other key is an error.
pub const SERVICE_REQUEST_ELEMENTS: [&str; 46] = [
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "identifier",
    "instantiatesCanonical",
    "instantiatesUri",
    "basedOn",
    "replaces",
    "requisition",
    "status",
    "intent",
    "category",
    "priority",
    "doNotPerform",
    "code",
    "orderDetail",
    "quantityQuantity",
    "quantityRatio",
    "quantityRange",
    "subject",
    "encounter",
    "occurrenceDateTime",
    "occurrencePeriod",
    "occurrenceTiming",
    "asNeededBoolean",
    "asNeededCodeableConcept",
    "authoredOn",
    "requester",
    "performerType",
    "performer",
    "locationCode",
    "locationReference",
    "reasonCode",
    "reasonReference",
    "insurance",
    "supportingInfo",
    "specimen",
    "bodySite",
    "note",
    "patientInstruction",
    "relevantHistory",
];

/// The primitive-typed elements of the list above. In FHIR JSON a primitive
/// `x` may carry its id and extensions in a sibling `_x`, so `_x` is allowed
/// for these and only these.
const PRIMITIVE_ELEMENTS: [&str; 12] = [
    "implicitRules",
    "language",
    "instantiatesCanonical",
    "instantiatesUri",
    "status",
    "intent",
    "priority",
    "doNotPerform",
    "occurrenceDateTime",
    "asNeededBoolean",
    "authoredOn",
    "patientInstruction",
];

/// The choice elements: at most one type of each may be present.
const CHOICE_ELEMENTS: [(&str, &[&str]); 3] = [
    (
        "quantity[x]",
        &["quantityQuantity", "quantityRatio", "quantityRange"],
    ),
    (
        "occurrence[x]",
        &["occurrenceDateTime", "occurrencePeriod", "occurrenceTiming"],
    ),
    (
        "asNeeded[x]",
        &["asNeededBoolean", "asNeededCodeableConcept"],
    ),
];

/// The elements of the `Reference` data type.
const REFERENCE_ELEMENTS: [&str; 6] = [
    "id",
    "extension",
    "reference",
    "type",
    "identifier",
    "display",
];

/// What `ServiceRequest.subject` may point at (R4).
const SUBJECT_TARGETS: [&str; 4] = ["Patient", "Group", "Location", "Device"];
/// What `ServiceRequest.requester` may point at (R4).
const REQUESTER_TARGETS: [&str; 6] = [
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Patient",
    "RelatedPerson",
    "Device",
];
/// What `ServiceRequest.performer` may point at (R4).
const PERFORMER_TARGETS: [&str; 8] = [
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "CareTeam",
    "HealthcareService",
    "Patient",
    "Device",
    "RelatedPerson",
];

/// The referral as a FHIR R4 `ServiceRequest` (JSON).
///
/// Patient, Practitioner and Organization (the department, `partOf` the
/// hospital as display) are `contained` resources with ids "patient",
/// "requester" and "performer"; `subject`, `requester` and `performer[0]`
/// reference them as "#patient", "#requester", "#performer". `intent` is
/// "order" (the referral is an authorised instruction, not a proposal);
/// `category` is SNOMED CT 3457005 "Patient referral"; `code.text` is
/// "Green-channel referral to {department}"; `id` is the referral id.
///
/// FHIR forbids empty strings, arrays and objects, so optional free text that
/// is blank (diagnosis, findings, institution, guardian phone, ...) is left
/// out rather than sent empty; all text is trimmed. The output passes
/// [`validate_service_request`] for any input whose dates have four-digit
/// years (FHIR dates cannot express others).
pub fn service_request(input: &ServiceRequestInput) -> Value {
    let base = trim_base(input.base_url);
    let mut sr = Map::new();
    sr.insert("resourceType".into(), json!("ServiceRequest"));
    sr.insert("id".into(), json!(input.referral_id.to_string()));
    sr.insert(
        "contained".into(),
        json!([
            patient(&input.patient),
            practitioner(base, &input.requester),
            organization(base, &input.performer),
        ]),
    );
    if let Some(number) = non_blank(input.referral_number) {
        sr.insert(
            "identifier".into(),
            json!([{ "system": format!("{base}/referrals"), "value": number }]),
        );
    }
    sr.insert("status".into(), json!(input.status.code()));
    sr.insert("intent".into(), json!("order"));
    sr.insert(
        "category".into(),
        json!([{
            "coding": [{
                "system": SNOMED,
                "code": REFERRAL_CATEGORY_CODE,
                "display": REFERRAL_CATEGORY_DISPLAY,
            }]
        }]),
    );
    sr.insert("priority".into(), json!(input.priority.code()));
    let code_text = match non_blank(input.performer.department_name) {
        Some(department) => format!("Green-channel referral to {department}"),
        None => "Green-channel referral".to_owned(),
    };
    sr.insert("code".into(), json!({ "text": code_text }));
    sr.insert(
        "subject".into(),
        json!({ "reference": format!("#{PATIENT_ID}") }),
    );
    if let Some(day) = input.occurrence {
        sr.insert("occurrenceDateTime".into(), json!(fhir_date(day)));
    }
    sr.insert("authoredOn".into(), json!(fhir_instant(input.authored_on)));
    sr.insert("requester".into(), requester_reference(&input.requester));
    sr.insert(
        "performer".into(),
        json!([{ "reference": format!("#{PERFORMER_ID}") }]),
    );
    let mut reasons = Vec::new();
    if let Some(reason) = non_blank(input.reason) {
        reasons.push(json!({ "text": reason }));
    }
    if let Some(diagnosis) = non_blank(input.diagnosis) {
        reasons.push(json!({ "text": format!("Diagnosis: {diagnosis}") }));
    }
    if !reasons.is_empty() {
        sr.insert("reasonCode".into(), Value::Array(reasons));
    }
    if let Some(findings) = non_blank(input.findings) {
        sr.insert(
            "note".into(),
            json!([{ "text": format!("Findings: {findings}") }]),
        );
    }
    Value::Object(sr)
}

/// A `Bundle` of type "collection" holding `ServiceRequest`s, for exporting
/// several referrals in one document. Each entry's `fullUrl` is
/// "{base_url}/api/v1/referrals/{id}/fhir", the address the request can be
/// fetched from again; an entry whose resource has no string `id` gets no
/// `fullUrl` rather than a wrong one. With no requests the Bundle has no
/// `entry` at all, because FHIR JSON forbids empty arrays.
pub fn bundle(base_url: &str, requests: Vec<Value>) -> Value {
    let base = trim_base(base_url);
    let entries: Vec<Value> = requests
        .into_iter()
        .map(|resource| {
            let mut entry = Map::new();
            if let Some(id) = resource.get("id").and_then(Value::as_str) {
                entry.insert(
                    "fullUrl".into(),
                    json!(format!("{base}/api/v1/referrals/{id}/fhir")),
                );
            }
            entry.insert("resource".into(), resource);
            Value::Object(entry)
        })
        .collect();
    let mut b = Map::new();
    b.insert("resourceType".into(), json!("Bundle"));
    b.insert("type".into(), json!("collection"));
    if !entries.is_empty() {
        b.insert("entry".into(), Value::Array(entries));
    }
    Value::Object(b)
}

/// A structural check of `v` against the R4 `ServiceRequest` definition.
///
/// Checked: `resourceType` is "ServiceRequest"; no top-level key outside
/// [`SERVICE_REQUEST_ELEMENTS`] (plus `_x` for primitive elements), since
/// FHIR JSON is closed; at most one type per choice element; required
/// `status` (request-status), `intent` (request-intent) and `subject` (a
/// Reference with a string `reference`); if present, `priority`
/// (request-priority), `authoredOn` (a FHIR dateTime), `occurrenceDateTime`
/// (a FHIR date or dateTime), `code`/`category[]`/`reasonCode[]`
/// (CodeableConcepts: an object with `text` or `coding`), `requester` and
/// `performer[]` (References), `identifier[]` (objects with a string
/// `value`), `note[]` (Annotations with `text`), `id` (the FHIR id pattern).
/// Contained resources need `resourceType` and a unique `id`, may not nest
/// `contained` (dom-2), and must be referenced from somewhere (dom-3); a
/// contained `Patient` needs its `gender` in administrative-gender and its
/// `birthDate` a FHIR date. Every local reference "#x" anywhere must resolve
/// to a contained resource with id "x" ("#" alone is the container itself),
/// and `subject`/`requester`/`performer` must resolve to a resource type R4
/// allows there. Anywhere in the tree: no `null` (except a placeholder in an
/// array with a `_x` twin), no empty string, array or object.
///
/// Not checked: the insides of contained resources beyond the above, and
/// terminology beyond the required value sets; this is a guard, not a full
/// validator.
///
/// Returns every problem found, each starting with the path it concerns,
/// e.g. "subject.reference: missing".
pub fn validate_service_request(v: &Value) -> Result<(), Vec<String>> {
    let Some(obj) = v.as_object() else {
        return Err(vec![format!(
            "(root): expected a JSON object, found {}",
            json_kind(v)
        )]);
    };
    let mut errs = Vec::new();

    match obj.get("resourceType") {
        None => errs.push("resourceType: missing".to_owned()),
        Some(Value::String(s)) if s == "ServiceRequest" => {}
        Some(other) => errs.push(format!(
            "resourceType: expected \"ServiceRequest\", found {other}"
        )),
    }
    for key in obj.keys() {
        if key != "resourceType" && !is_service_request_key(key) {
            errs.push(format!("{key}: not an element of an R4 ServiceRequest"));
        }
    }
    for (choice, types) in CHOICE_ELEMENTS {
        let present: Vec<&str> = types
            .iter()
            .copied()
            .filter(|t| obj.contains_key(*t))
            .collect();
        if present.len() > 1 {
            errs.push(format!(
                "{choice}: only one type may be present, found {}",
                present.join(", ")
            ));
        }
    }
    if let Some(id) = obj.get("id") {
        check_id(id, "id", &mut errs);
    }

    let contained = check_contained(obj.get("contained"), &mut errs);

    check_code(
        obj,
        "status",
        &REQUEST_STATUS_CODES,
        "request-status",
        true,
        &mut errs,
    );
    check_code(
        obj,
        "intent",
        &REQUEST_INTENT_CODES,
        "request-intent",
        true,
        &mut errs,
    );
    check_code(
        obj,
        "priority",
        &REQUEST_PRIORITY_CODES,
        "request-priority",
        false,
        &mut errs,
    );

    match obj.get("subject") {
        None => errs.push("subject: missing".to_owned()),
        Some(subject) => {
            if let Some(r) = check_reference(subject, "subject", true, &mut errs) {
                check_target(
                    r,
                    "subject.reference",
                    &SUBJECT_TARGETS,
                    &contained,
                    &mut errs,
                );
            }
        }
    }
    if let Some(requester) = obj.get("requester")
        && let Some(r) = check_reference(requester, "requester", false, &mut errs)
    {
        check_target(
            r,
            "requester.reference",
            &REQUESTER_TARGETS,
            &contained,
            &mut errs,
        );
    }
    if let Some(performer) = obj.get("performer") {
        match performer.as_array() {
            None => errs.push(format!(
                "performer: expected an array, found {}",
                json_kind(performer)
            )),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let path = format!("performer[{i}]");
                    if let Some(r) = check_reference(item, &path, false, &mut errs) {
                        check_target(
                            r,
                            &format!("{path}.reference"),
                            &PERFORMER_TARGETS,
                            &contained,
                            &mut errs,
                        );
                    }
                }
            }
        }
    }

    if let Some(authored) = obj.get("authoredOn") {
        check_date_time(authored, "authoredOn", &mut errs);
    }
    if let Some(occurrence) = obj.get("occurrenceDateTime") {
        check_date_time(occurrence, "occurrenceDateTime", &mut errs);
    }

    if let Some(code) = obj.get("code") {
        check_codeable_concept(code, "code", &mut errs);
    }
    for key in ["category", "reasonCode"] {
        if let Some(list) = obj.get(key) {
            match list.as_array() {
                None => errs.push(format!(
                    "{key}: expected an array, found {}",
                    json_kind(list)
                )),
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        check_codeable_concept(item, &format!("{key}[{i}]"), &mut errs);
                    }
                }
            }
        }
    }
    if let Some(identifiers) = obj.get("identifier") {
        check_identifiers(identifiers, &mut errs);
    }
    if let Some(notes) = obj.get("note") {
        check_notes(notes, &mut errs);
    }

    let mut walk = Walk::default();
    walk_value(v, "", &mut walk);
    errs.extend(walk.errors);
    check_local_references(&walk.pointers, &contained, &mut errs);

    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// The base URL without trailing slashes, so "{base}/x" never has "//".
fn trim_base(base_url: &str) -> &str {
    base_url.trim().trim_end_matches('/')
}

/// The text trimmed, or `None` when nothing is left: FHIR strings may not be
/// empty, so blank optional text is omitted instead.
fn non_blank(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// A FHIR date, "YYYY-MM-DD".
fn fhir_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A FHIR dateTime at second precision in UTC, "YYYY-MM-DDThh:mm:ssZ". FHIR
/// requires a zone whenever a time is given; sub-seconds say nothing a
/// receiver needs.
fn fhir_instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The contained `Patient`.
fn patient(p: &PatientInput) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Patient"));
    m.insert("id".into(), json!(PATIENT_ID));
    if let Some(name) = non_blank(p.name) {
        m.insert("name".into(), json!([{ "text": name }]));
    }
    m.insert("gender".into(), json!(p.gender.code()));
    m.insert("birthDate".into(), json!(fhir_date(p.birth_date)));
    // pat-1: a contact needs contact details, so without a phone there is no
    // contact at all rather than a bare relationship.
    if let Some(phone) = non_blank(p.guardian_phone) {
        m.insert(
            "contact".into(),
            json!([{
                "relationship": [{
                    "coding": [{
                        "system": V3_ROLE_CODE,
                        "code": "GUARD",
                        "display": "guardian",
                    }]
                }],
                "telecom": [{ "system": "phone", "value": phone }],
            }]),
        );
    }
    Value::Object(m)
}

/// The contained `Practitioner`, carrying the credential as its
/// qualification.
fn practitioner(base: &str, r: &RequesterInput) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Practitioner"));
    m.insert("id".into(), json!(REQUESTER_ID));
    m.insert(
        "identifier".into(),
        json!([{ "system": format!("{base}/people"), "value": r.person_id.to_string() }]),
    );
    if let Some(name) = non_blank(r.name) {
        m.insert("name".into(), json!([{ "text": name }]));
    }
    let mut q = Map::new();
    if let Some(number) = non_blank(r.credential_number) {
        let mut identifier = Map::new();
        if let Some(issuer_url) = non_blank(r.issuer_url) {
            identifier.insert("system".into(), json!(issuer_url));
        }
        identifier.insert("value".into(), json!(number));
        q.insert("identifier".into(), json!([identifier]));
    }
    let track = non_blank(r.credential_track).unwrap_or(FALLBACK_QUALIFICATION_TEXT);
    q.insert("code".into(), json!({ "text": track }));
    q.insert(
        "period".into(),
        json!({ "end": fhir_instant(r.credential_valid_until) }),
    );
    if let Some(issuer) = non_blank(r.issuer_name) {
        q.insert("issuer".into(), json!({ "display": issuer }));
    }
    m.insert("qualification".into(), json!([q]));
    Value::Object(m)
}

/// The contained `Organization` for the receiving department.
fn organization(base: &str, p: &PerformerInput) -> Value {
    let mut m = Map::new();
    m.insert("resourceType".into(), json!("Organization"));
    m.insert("id".into(), json!(PERFORMER_ID));
    // org-1: an Organization needs a name or an identifier; the identifier is
    // always there.
    m.insert(
        "identifier".into(),
        json!([{ "system": format!("{base}/departments"), "value": p.department_id.to_string() }]),
    );
    if let Some(name) = non_blank(p.department_name) {
        m.insert("name".into(), json!(name));
    }
    if let Some(hospital) = non_blank(p.hospital) {
        m.insert("partOf".into(), json!({ "display": hospital }));
    }
    Value::Object(m)
}

/// `ServiceRequest.requester`: the contained Practitioner, with the doctor's
/// name and institution as display text (the institution has no other place
/// on an R4 Practitioner).
fn requester_reference(r: &RequesterInput) -> Value {
    let mut m = Map::new();
    m.insert("reference".into(), json!(format!("#{REQUESTER_ID}")));
    let name = non_blank(r.name);
    let institution = r.institution.and_then(non_blank);
    let display = match (name, institution) {
        (Some(n), Some(i)) => Some(format!("{n} ({i})")),
        (Some(n), None) => Some(n.to_owned()),
        (None, Some(i)) => Some(i.to_owned()),
        (None, None) => None,
    };
    if let Some(d) = display {
        m.insert("display".into(), json!(d));
    }
    Value::Object(m)
}

/// Whether `key` may appear at the top level of a ServiceRequest.
fn is_service_request_key(key: &str) -> bool {
    match key.strip_prefix('_') {
        Some(primitive) => PRIMITIVE_ELEMENTS.contains(&primitive),
        None => SERVICE_REQUEST_ELEMENTS.contains(&key),
    }
}

/// A short name for a JSON value's kind, for messages.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// FHIR `id`: 1 to 64 of `A-Z a-z 0-9 - .`.
fn is_fhir_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn check_id(v: &Value, path: &str, errs: &mut Vec<String>) {
    match v.as_str() {
        Some(s) if is_fhir_id(s) => {}
        Some(s) => errs.push(format!(
            "{path}: \"{s}\" is not a FHIR id (1-64 of A-Z a-z 0-9 - .)"
        )),
        None => errs.push(format!("{path}: expected a string, found {}", json_kind(v))),
    }
}

/// A `code` element bound (required) to a value set.
fn check_code(
    obj: &Map<String, Value>,
    key: &str,
    codes: &[&str],
    value_set: &str,
    required: bool,
    errs: &mut Vec<String>,
) {
    match obj.get(key) {
        None if required => errs.push(format!("{key}: missing")),
        None => {}
        Some(Value::String(s)) if codes.contains(&s.as_str()) => {}
        Some(Value::String(s)) => errs.push(format!(
            "{key}: \"{s}\" is not in {value_set} ({})",
            codes.join(" | ")
        )),
        Some(other) => errs.push(format!(
            "{key}: expected a code (string), found {}",
            json_kind(other)
        )),
    }
}

/// A `Reference`; returns its `reference` string when it has one.
fn check_reference<'v>(
    v: &'v Value,
    path: &str,
    require_reference: bool,
    errs: &mut Vec<String>,
) -> Option<&'v str> {
    let Some(obj) = v.as_object() else {
        errs.push(format!(
            "{path}: expected a Reference (JSON object), found {}",
            json_kind(v)
        ));
        return None;
    };
    for key in obj.keys() {
        if !REFERENCE_ELEMENTS.contains(&key.as_str()) {
            errs.push(format!("{path}.{key}: not an element of Reference"));
        }
    }
    match obj.get("reference") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            errs.push(format!(
                "{path}.reference: expected a string, found {}",
                json_kind(other)
            ));
            None
        }
        None => {
            if require_reference {
                errs.push(format!("{path}.reference: missing"));
            } else if !obj.contains_key("identifier") && !obj.contains_key("display") {
                errs.push(format!(
                    "{path}: a Reference needs a reference, identifier or display"
                ));
            }
            None
        }
    }
}

/// When `reference` is local and resolves, the contained resource's type must
/// be one the element allows. (A dangling reference is reported once, by
/// [`check_local_references`].)
fn check_target(
    reference: &str,
    path: &str,
    allowed: &[&str],
    contained: &[Contained],
    errs: &mut Vec<String>,
) {
    let Some(id) = reference.strip_prefix('#') else {
        return;
    };
    if let Some(c) = contained.iter().find(|c| c.id == id)
        && !allowed.contains(&c.resource_type.as_str())
    {
        errs.push(format!(
            "{path}: \"{reference}\" is a {}, expected one of {}",
            c.resource_type,
            allowed.join(" | ")
        ));
    }
}

/// A `CodeableConcept`: an object with `text` or `coding` (or both).
fn check_codeable_concept(v: &Value, path: &str, errs: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        errs.push(format!(
            "{path}: expected a CodeableConcept (JSON object), found {}",
            json_kind(v)
        ));
        return;
    };
    let text = obj.get("text");
    let coding = obj.get("coding");
    if let Some(t) = text
        && !t.is_string()
    {
        errs.push(format!(
            "{path}.text: expected a string, found {}",
            json_kind(t)
        ));
    }
    if let Some(c) = coding {
        match c.as_array() {
            None => errs.push(format!(
                "{path}.coding: expected an array, found {}",
                json_kind(c)
            )),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_object() {
                        errs.push(format!(
                            "{path}.coding[{i}]: expected a Coding (JSON object), found {}",
                            json_kind(item)
                        ));
                    }
                }
            }
        }
    }
    if text.is_none() && coding.is_none() {
        errs.push(format!("{path}: a CodeableConcept needs text or coding"));
    }
}

/// `identifier`: an array of Identifiers, each with a string `value`.
fn check_identifiers(v: &Value, errs: &mut Vec<String>) {
    let Some(items) = v.as_array() else {
        errs.push(format!(
            "identifier: expected an array, found {}",
            json_kind(v)
        ));
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errs.push(format!(
                "identifier[{i}]: expected an Identifier (JSON object), found {}",
                json_kind(item)
            ));
            continue;
        };
        match obj.get("value") {
            Some(Value::String(_)) => {}
            Some(other) => errs.push(format!(
                "identifier[{i}].value: expected a string, found {}",
                json_kind(other)
            )),
            None => errs.push(format!("identifier[{i}].value: missing")),
        }
        if let Some(system) = obj.get("system")
            && !system.is_string()
        {
            errs.push(format!(
                "identifier[{i}].system: expected a string, found {}",
                json_kind(system)
            ));
        }
    }
}

/// `note`: an array of Annotations, whose `text` is required (1..1).
fn check_notes(v: &Value, errs: &mut Vec<String>) {
    let Some(items) = v.as_array() else {
        errs.push(format!("note: expected an array, found {}", json_kind(v)));
        return;
    };
    for (i, item) in items.iter().enumerate() {
        match item.as_object().map(|o| o.get("text")) {
            None => errs.push(format!(
                "note[{i}]: expected an Annotation (JSON object), found {}",
                json_kind(item)
            )),
            Some(None) => errs.push(format!("note[{i}].text: missing")),
            Some(Some(Value::String(_))) => {}
            Some(Some(other)) => errs.push(format!(
                "note[{i}].text: expected a string, found {}",
                json_kind(other)
            )),
        }
    }
}

fn check_date_time(v: &Value, path: &str, errs: &mut Vec<String>) {
    match v.as_str() {
        Some(s) if is_fhir_date_time(s) => {}
        Some(s) => errs.push(format!(
            "{path}: \"{s}\" is not a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.f] with Z or +hh:mm)"
        )),
        None => errs.push(format!("{path}: expected a string, found {}", json_kind(v))),
    }
}

/// A contained resource the validator found, for resolving "#id".
#[derive(Debug)]
struct Contained {
    index: usize,
    id: String,
    resource_type: String,
}

/// `contained`: resources with a `resourceType` and a unique id, none
/// containing others (dom-2); a contained Patient's gender and birth date.
/// Returns the ones with an id, for reference resolution.
fn check_contained(v: Option<&Value>, errs: &mut Vec<String>) -> Vec<Contained> {
    let mut found: Vec<Contained> = Vec::new();
    let Some(v) = v else {
        return found;
    };
    let Some(items) = v.as_array() else {
        errs.push(format!(
            "contained: expected an array, found {}",
            json_kind(v)
        ));
        return found;
    };
    for (i, item) in items.iter().enumerate() {
        let path = format!("contained[{i}]");
        let Some(obj) = item.as_object() else {
            errs.push(format!(
                "{path}: expected a resource (JSON object), found {}",
                json_kind(item)
            ));
            continue;
        };
        let resource_type = match obj.get("resourceType") {
            Some(Value::String(s)) if !s.is_empty() => Some(s.as_str()),
            Some(other) => {
                errs.push(format!(
                    "{path}.resourceType: expected a resource type name, found {other}"
                ));
                None
            }
            None => {
                errs.push(format!("{path}.resourceType: missing"));
                None
            }
        };
        match obj.get("id") {
            None => errs.push(format!(
                "{path}.id: missing (a contained resource is only reachable by its id)"
            )),
            Some(id) => {
                check_id(id, &format!("{path}.id"), errs);
                if let Some(s) = id.as_str() {
                    if found.iter().any(|c| c.id == s) {
                        errs.push(format!(
                            "{path}.id: \"{s}\" is already the id of another contained resource"
                        ));
                    } else {
                        found.push(Contained {
                            index: i,
                            id: s.to_owned(),
                            resource_type: resource_type.unwrap_or("").to_owned(),
                        });
                    }
                }
            }
        }
        if obj.contains_key("contained") {
            errs.push(format!(
                "{path}.contained: a contained resource may not contain resources (dom-2)"
            ));
        }
        if resource_type == Some("Patient") {
            if let Some(gender) = obj.get("gender") {
                match gender.as_str() {
                    Some(g) if ADMINISTRATIVE_GENDER_CODES.contains(&g) => {}
                    Some(g) => errs.push(format!(
                        "{path}.gender: \"{g}\" is not in administrative-gender ({})",
                        ADMINISTRATIVE_GENDER_CODES.join(" | ")
                    )),
                    None => errs.push(format!(
                        "{path}.gender: expected a code (string), found {}",
                        json_kind(gender)
                    )),
                }
            }
            if let Some(birth) = obj.get("birthDate") {
                match birth.as_str() {
                    Some(b) if is_fhir_date(b) => {}
                    Some(b) => errs.push(format!(
                        "{path}.birthDate: \"{b}\" is not a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)"
                    )),
                    None => errs.push(format!(
                        "{path}.birthDate: expected a string, found {}",
                        json_kind(birth)
                    )),
                }
            }
        }
    }
    found
}

/// A string starting with "#" found anywhere in the resource.
#[derive(Debug)]
struct LocalPointer {
    path: String,
    value: String,
    /// Whether it is the value of a `reference` key (a Reference), as opposed
    /// to some other string (a canonical or uri may also point at "#id").
    is_reference: bool,
}

/// What one pass over the whole tree collects.
#[derive(Debug, Default)]
struct Walk {
    errors: Vec<String>,
    pointers: Vec<LocalPointer>,
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// One pass over the whole tree: FHIR JSON's general rules (no null members,
/// no empty strings, arrays or objects) and every "#..." string.
fn walk_value(v: &Value, path: &str, walk: &mut Walk) {
    match v {
        Value::String(s) => {
            if s.is_empty() {
                walk.errors.push(format!(
                    "{path}: empty string (FHIR strings may not be empty)"
                ));
            } else if s.starts_with('#') {
                let is_reference = path.ends_with(".reference") || path == "reference";
                walk.pointers.push(LocalPointer {
                    path: path.to_owned(),
                    value: s.clone(),
                    is_reference,
                });
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                walk.errors
                    .push(format!("{path}: empty array (omit the element instead)"));
            }
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                if item.is_null() {
                    // Parents decide whether a null placeholder is allowed.
                    continue;
                }
                walk_value(item, &item_path, walk);
            }
        }
        Value::Object(members) => {
            if members.is_empty() {
                walk.errors
                    .push(format!("{path}: empty object (omit the element instead)"));
            }
            for (key, member) in members {
                let member_path = child_path(path, key);
                match member {
                    Value::Null => walk
                        .errors
                        .push(format!("{member_path}: null (omit the element instead)")),
                    Value::Array(items) => {
                        // A null in an array is only a placeholder lining up
                        // a primitive array with its `_x` twin.
                        let twin = match key.strip_prefix('_') {
                            Some(plain) => plain.to_owned(),
                            None => format!("_{key}"),
                        };
                        if !members.contains_key(&twin) {
                            for (i, item) in items.iter().enumerate() {
                                if item.is_null() {
                                    walk.errors.push(format!(
                                        "{member_path}[{i}]: null (only allowed as a placeholder next to a `{twin}` array)"
                                    ));
                                }
                            }
                        }
                        walk_value(member, &member_path, walk);
                    }
                    _ => walk_value(member, &member_path, walk),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Every local reference "#x" resolves to a contained resource with id "x"
/// (ref-1); every contained resource is pointed at by some "#id" or points
/// back at its container with "#" (dom-3).
fn check_local_references(
    pointers: &[LocalPointer],
    contained: &[Contained],
    errs: &mut Vec<String>,
) {
    let ids: HashSet<&str> = contained.iter().map(|c| c.id.as_str()).collect();
    let mut referenced: HashSet<&str> = HashSet::new();
    for h in pointers {
        let id = &h.value[1..];
        if id.is_empty() {
            // "#" alone is the container; a contained resource using it
            // counts as referenced (dom-3).
            for c in contained {
                if h.path.starts_with(&format!("contained[{}].", c.index)) {
                    referenced.insert(c.id.as_str());
                }
            }
        } else if ids.contains(id) {
            referenced.insert(id);
        } else if h.is_reference {
            errs.push(format!(
                "{}: \"{}\" does not resolve to a contained resource",
                h.path, h.value
            ));
        }
    }
    for c in contained {
        if !referenced.contains(c.id.as_str()) {
            errs.push(format!(
                "contained[{}]: \"#{}\" is never referenced (dom-3)",
                c.index, c.id
            ));
        }
    }
}

/// Two ASCII digits as a number.
fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [h, l] if h.is_ascii_digit() && l.is_ascii_digit() => {
            Some(u32::from(h - b'0') * 10 + u32::from(l - b'0'))
        }
        _ => None,
    }
}

/// A FHIR year: four digits, not "0000".
fn fhir_year(b: &[u8]) -> Option<i32> {
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = b.iter().fold(0i32, |acc, d| acc * 10 + i32::from(d - b'0'));
    (year != 0).then_some(year)
}

/// A FHIR `date`: "YYYY", "YYYY-MM" or "YYYY-MM-DD", and a real calendar
/// date when complete (FHIR: "Dates SHALL be valid dates").
pub fn is_fhir_date(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        4 => fhir_year(b).is_some(),
        7 => {
            fhir_year(&b[..4]).is_some()
                && b[4] == b'-'
                && two_digits(&b[5..7]).is_some_and(|m| (1..=12).contains(&m))
        }
        10 => {
            let (Some(y), Some(m), Some(d)) = (
                fhir_year(&b[..4]),
                two_digits(&b[5..7]),
                two_digits(&b[8..10]),
            ) else {
                return false;
            };
            b[4] == b'-' && b[7] == b'-' && NaiveDate::from_ymd_opt(y, m, d).is_some()
        }
        _ => false,
    }
}

/// A FHIR `dateTime`: a FHIR date, or "YYYY-MM-DDThh:mm:ss" with optional
/// fractional seconds and a required zone ("Z" or "+hh:mm"/"-hh:mm", at most
/// 14:00), as the R4 regex has it.
pub fn is_fhir_date_time(s: &str) -> bool {
    if is_fhir_date(s) {
        return true;
    }
    let Some((date, time)) = s.split_once('T') else {
        return false;
    };
    if date.len() != 10 || !is_fhir_date(date) {
        return false;
    }
    let t = time.as_bytes();
    if t.len() < 9 || t[2] != b':' || t[5] != b':' {
        return false;
    }
    let hms_ok = two_digits(&t[0..2]).is_some_and(|h| h <= 23)
        && two_digits(&t[3..5]).is_some_and(|m| m <= 59)
        && two_digits(&t[6..8]).is_some_and(|sec| sec <= 60);
    if !hms_ok {
        return false;
    }
    let mut rest = &t[8..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    match rest {
        b"Z" => true,
        [sign, zone @ ..] if *sign == b'+' || *sign == b'-' => {
            zone.len() == 5
                && zone[2] == b':'
                && match (two_digits(&zone[0..2]), two_digits(&zone[3..5])) {
                    (Some(h), Some(m)) => (h <= 13 && m <= 59) || (h == 14 && m == 0),
                    _ => false,
                }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn fixture() -> ServiceRequestInput<'static> {
        ServiceRequestInput {
            base_url: "https://gatekeeper.example/",
            referral_id: 42,
            referral_number: "GC-2026-000042",
            status: RequestStatus::Active,
            priority: Priority::Urgent,
            patient: PatientInput {
                name: "王小明",
                gender: Gender::Male,
                birth_date: NaiveDate::from_ymd_opt(2019, 3, 7).unwrap(),
                guardian_phone: "+86 138 0013 8000",
            },
            requester: RequesterInput {
                person_id: 7,
                name: "李华",
                institution: Some("城关社区卫生服务中心"),
                credential_number: "GK-2026-0001",
                credential_track: "Paediatric green channel",
                credential_valid_until: Utc.with_ymd_and_hms(2028, 11, 24, 16, 0, 0).unwrap(),
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
            findings: "Grade 3/6 systolic murmur at the left sternal border",
            // Sub-second precision on purpose: the export drops it.
            authored_on: Utc.with_ymd_and_hms(2026, 11, 25, 8, 30, 15).unwrap()
                + Duration::milliseconds(123),
            occurrence: Some(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()),
        }
    }

    fn valid() -> Value {
        service_request(&fixture())
    }

    /// The fixture's request with one change applied to its top level.
    fn mutated(f: impl FnOnce(&mut Map<String, Value>)) -> Value {
        let mut v = valid();
        f(v.as_object_mut().unwrap());
        v
    }

    fn errors(v: &Value) -> Vec<String> {
        validate_service_request(v).expect_err("expected validation errors")
    }

    /// Asserts some error starts with `prefix` (the path, and usually more).
    fn assert_error(errs: &[String], prefix: &str) {
        assert!(
            errs.iter().any(|e| e.starts_with(prefix)),
            "no error starting with {prefix:?} in {errs:#?}"
        );
    }

    // ----- enums ---------------------------------------------------------

    #[test]
    fn request_status_codes_are_the_value_set() {
        let codes: Vec<&str> = RequestStatus::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, REQUEST_STATUS_CODES);
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.code()), Some(s));
        }
        assert_eq!(RequestStatus::parse("on_hold"), None);
        assert_eq!(RequestStatus::parse("Active"), None);
        assert_eq!(RequestStatus::parse(""), None);
    }

    #[test]
    fn request_status_specific_codes() {
        assert_eq!(RequestStatus::OnHold.code(), "on-hold");
        assert_eq!(RequestStatus::EnteredInError.code(), "entered-in-error");
        assert_eq!(RequestStatus::Draft.code(), "draft");
        assert_eq!(RequestStatus::Unknown.code(), "unknown");
    }

    #[test]
    fn priority_codes_are_in_the_value_set() {
        assert_eq!(Priority::Routine.code(), "routine");
        assert_eq!(Priority::Urgent.code(), "urgent");
        for p in Priority::ALL {
            assert!(REQUEST_PRIORITY_CODES.contains(&p.code()));
            assert_eq!(Priority::parse(p.code()), Some(p));
        }
        assert_eq!(Priority::parse("stat"), None);
        assert_eq!(Priority::parse("asap"), None);
    }

    #[test]
    fn gender_codes_are_the_value_set() {
        let codes: Vec<&str> = Gender::ALL.iter().map(|g| g.code()).collect();
        assert_eq!(codes, ADMINISTRATIVE_GENDER_CODES);
        for g in Gender::ALL {
            assert_eq!(Gender::parse(g.code()), Some(g));
        }
        assert_eq!(Gender::parse("M"), None);
    }

    // ----- service_request: exact output --------------------------------

    #[test]
    fn fixed_input_gives_the_exact_resource() {
        let expected = json!({
            "resourceType": "ServiceRequest",
            "id": "42",
            "contained": [
                {
                    "resourceType": "Patient",
                    "id": "patient",
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
                        "period": { "end": "2028-11-24T16:00:00Z" },
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
            "authoredOn": "2026-11-25T08:30:15Z",
            "requester": { "reference": "#requester", "display": "李华 (城关社区卫生服务中心)" },
            "performer": [{ "reference": "#performer" }],
            "reasonCode": [
                { "text": "Suspected congenital heart disease" },
                { "text": "Diagnosis: Ventricular septal defect" }
            ],
            "note": [{ "text": "Findings: Grade 3/6 systolic murmur at the left sternal border" }]
        });
        assert_eq!(valid(), expected);
    }

    #[test]
    fn fixed_input_key_values() {
        let v = valid();
        assert_eq!(v["resourceType"], "ServiceRequest");
        assert_eq!(v["id"], "42");
        assert_eq!(v["status"], "active");
        assert_eq!(v["intent"], "order");
        assert_eq!(v["priority"], "urgent");
        assert_eq!(v["subject"], json!({ "reference": "#patient" }));
        assert_eq!(v["requester"]["reference"], "#requester");
        assert_eq!(v["performer"], json!([{ "reference": "#performer" }]));
        assert_eq!(v["authoredOn"], "2026-11-25T08:30:15Z");
        assert_eq!(v["occurrenceDateTime"], "2026-12-01");
        assert_eq!(
            v["identifier"][0]["system"],
            "https://gatekeeper.example/referrals"
        );
        assert_eq!(v["identifier"][0]["value"], "GC-2026-000042");
        assert_eq!(v["category"][0]["coding"][0]["code"], "3457005");
        assert_eq!(
            v["category"][0]["coding"][0]["system"],
            "http://snomed.info/sct"
        );
        assert_eq!(
            v["code"]["text"],
            "Green-channel referral to Paediatric Cardiology"
        );
        assert_eq!(
            v["reasonCode"][0]["text"],
            "Suspected congenital heart disease"
        );
        assert_eq!(
            v["reasonCode"][1]["text"],
            "Diagnosis: Ventricular septal defect"
        );
        assert_eq!(
            v["note"][0]["text"],
            "Findings: Grade 3/6 systolic murmur at the left sternal border"
        );

        let patient = &v["contained"][0];
        assert_eq!(patient["resourceType"], "Patient");
        assert_eq!(patient["id"], "patient");
        assert_eq!(patient["gender"], "male");
        assert_eq!(patient["birthDate"], "2019-03-07");
        assert_eq!(patient["name"][0]["text"], "王小明");
        let contact = &patient["contact"][0];
        assert_eq!(contact["relationship"][0]["coding"][0]["code"], "GUARD");
        assert_eq!(
            contact["relationship"][0]["coding"][0]["system"],
            "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
        );
        assert_eq!(contact["telecom"][0]["system"], "phone");
        assert_eq!(contact["telecom"][0]["value"], "+86 138 0013 8000");

        let practitioner = &v["contained"][1];
        assert_eq!(practitioner["resourceType"], "Practitioner");
        assert_eq!(practitioner["id"], "requester");
        let q = &practitioner["qualification"][0];
        assert_eq!(
            q["identifier"][0]["system"],
            "https://gatekeeper.example/issuer"
        );
        assert_eq!(q["identifier"][0]["value"], "GK-2026-0001");
        assert_eq!(q["code"]["text"], "Paediatric green channel");
        assert_eq!(q["period"]["end"], "2028-11-24T16:00:00Z");
        assert_eq!(q["issuer"]["display"], "Alliance Children's Hospital");

        let organization = &v["contained"][2];
        assert_eq!(organization["resourceType"], "Organization");
        assert_eq!(organization["id"], "performer");
        assert_eq!(organization["name"], "Paediatric Cardiology");
        assert_eq!(
            organization["partOf"]["display"],
            "Provincial Children's Hospital"
        );
        assert_eq!(organization["identifier"][0]["value"], "3");

        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn base_url_slashes_and_spaces_are_trimmed() {
        for base in [
            "https://gatekeeper.example",
            "https://gatekeeper.example/",
            "https://gatekeeper.example//",
            " https://gatekeeper.example/ ",
        ] {
            let v = service_request(&ServiceRequestInput {
                base_url: base,
                ..fixture()
            });
            assert_eq!(
                v["identifier"][0]["system"],
                "https://gatekeeper.example/referrals"
            );
            assert_eq!(
                v["contained"][1]["identifier"][0]["system"],
                "https://gatekeeper.example/people"
            );
            assert_eq!(
                v["contained"][2]["identifier"][0]["system"],
                "https://gatekeeper.example/departments"
            );
        }
    }

    #[test]
    fn no_booked_day_means_no_occurrence() {
        let v = service_request(&ServiceRequestInput {
            occurrence: None,
            ..fixture()
        });
        assert!(v.get("occurrenceDateTime").is_none());
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn requester_display_follows_name_and_institution() {
        let base = fixture();
        let no_institution = ServiceRequestInput {
            requester: RequesterInput {
                institution: None,
                ..base.requester
            },
            ..base
        };
        assert_eq!(
            service_request(&no_institution)["requester"],
            json!({ "reference": "#requester", "display": "李华" })
        );
        let blank_institution = ServiceRequestInput {
            requester: RequesterInput {
                institution: Some("  "),
                ..base.requester
            },
            ..base
        };
        assert_eq!(
            service_request(&blank_institution)["requester"]["display"],
            "李华"
        );
        let no_name = ServiceRequestInput {
            requester: RequesterInput {
                name: " ",
                ..base.requester
            },
            ..base
        };
        let v = service_request(&no_name);
        assert_eq!(v["requester"]["display"], "城关社区卫生服务中心");
        assert!(v["contained"][1].get("name").is_none());
        let neither = ServiceRequestInput {
            requester: RequesterInput {
                name: "",
                institution: None,
                ..base.requester
            },
            ..base
        };
        let v = service_request(&neither);
        assert_eq!(v["requester"], json!({ "reference": "#requester" }));
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn blank_optional_text_is_omitted_not_sent_empty() {
        let base = fixture();
        let input = ServiceRequestInput {
            referral_number: " ",
            reason: "",
            diagnosis: "  ",
            findings: "\n",
            patient: PatientInput {
                name: "",
                guardian_phone: " ",
                ..base.patient
            },
            requester: RequesterInput {
                credential_number: "",
                credential_track: " ",
                issuer_name: "",
                ..base.requester
            },
            performer: PerformerInput {
                department_name: "",
                hospital: " ",
                ..base.performer
            },
            ..base
        };
        let v = service_request(&input);
        for key in ["identifier", "reasonCode", "note"] {
            assert!(v.get(key).is_none(), "{key} should be omitted");
        }
        let patient = &v["contained"][0];
        assert!(patient.get("name").is_none());
        assert!(patient.get("contact").is_none());
        let q = &v["contained"][1]["qualification"][0];
        assert!(q.get("identifier").is_none());
        assert!(q.get("issuer").is_none());
        assert_eq!(q["code"]["text"], FALLBACK_QUALIFICATION_TEXT);
        assert_eq!(v["code"]["text"], "Green-channel referral");
        let organization = &v["contained"][2];
        assert!(organization.get("name").is_none());
        assert!(organization.get("partOf").is_none());
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn only_diagnosis_gives_one_reason() {
        let v = service_request(&ServiceRequestInput {
            reason: "",
            ..fixture()
        });
        assert_eq!(
            v["reasonCode"],
            json!([{ "text": "Diagnosis: Ventricular septal defect" }])
        );
        let v = service_request(&ServiceRequestInput {
            diagnosis: "",
            ..fixture()
        });
        assert_eq!(
            v["reasonCode"],
            json!([{ "text": "Suspected congenital heart disease" }])
        );
    }

    #[test]
    fn text_is_trimmed() {
        let v = service_request(&ServiceRequestInput {
            reason: "  fever  ",
            findings: " rash\n",
            referral_number: " GC-1 ",
            ..fixture()
        });
        assert_eq!(v["reasonCode"][0]["text"], "fever");
        assert_eq!(v["note"][0]["text"], "Findings: rash");
        assert_eq!(v["identifier"][0]["value"], "GC-1");
    }

    #[test]
    fn qualification_without_issuer_url_has_no_system() {
        let base = fixture();
        let v = service_request(&ServiceRequestInput {
            requester: RequesterInput {
                issuer_url: "",
                ..base.requester
            },
            ..base
        });
        assert_eq!(
            v["contained"][1]["qualification"][0]["identifier"],
            json!([{ "value": "GK-2026-0001" }])
        );
    }

    #[test]
    fn every_status_priority_and_gender_validates() {
        let base = fixture();
        let mut count = 0;
        for status in RequestStatus::ALL {
            for priority in Priority::ALL {
                for gender in Gender::ALL {
                    for occurrence in [None, base.occurrence] {
                        let input = ServiceRequestInput {
                            status,
                            priority,
                            occurrence,
                            patient: PatientInput {
                                gender,
                                ..base.patient
                            },
                            ..base
                        };
                        let v = service_request(&input);
                        assert_eq!(v["status"], status.code());
                        assert_eq!(v["priority"], priority.code());
                        assert_eq!(v["contained"][0]["gender"], gender.code());
                        assert_eq!(
                            validate_service_request(&v),
                            Ok(()),
                            "{status:?} {priority:?} {gender:?} {occurrence:?}"
                        );
                        count += 1;
                    }
                }
            }
        }
        assert_eq!(count, 7 * 2 * 4 * 2);
    }

    #[test]
    fn extreme_ids_and_dates_validate() {
        let base = fixture();
        let v = service_request(&ServiceRequestInput {
            referral_id: i64::MIN,
            requester: RequesterInput {
                person_id: i64::MAX,
                ..base.requester
            },
            patient: PatientInput {
                birth_date: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
                ..base.patient
            },
            ..base
        });
        assert_eq!(v["id"], i64::MIN.to_string());
        assert_eq!(v["contained"][0]["birthDate"], "2024-02-29");
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn year_outside_four_digits_is_caught_by_the_guard() {
        let base = fixture();
        let v = service_request(&ServiceRequestInput {
            patient: PatientInput {
                birth_date: NaiveDate::from_ymd_opt(10000, 1, 1).unwrap(),
                ..base.patient
            },
            ..base
        });
        assert_error(&errors(&v), "contained[0].birthDate: ");
    }

    // ----- validator: rejections ---------------------------------------

    #[test]
    fn rejects_non_object() {
        for v in [json!([]), json!("ServiceRequest"), json!(null), json!(1)] {
            assert_error(&errors(&v), "(root): expected a JSON object");
        }
    }

    #[test]
    fn rejects_missing_status() {
        let v = mutated(|o| {
            o.remove("status");
        });
        assert_eq!(errors(&v), vec!["status: missing".to_owned()]);
    }

    #[test]
    fn rejects_bad_status_code() {
        let v = mutated(|o| {
            o.insert("status".into(), json!("accepted"));
        });
        let errs = errors(&v);
        assert_error(&errs, "status: \"accepted\" is not in request-status");
        assert_eq!(errs.len(), 1, "{errs:?}");
    }

    #[test]
    fn rejects_status_that_is_not_a_string() {
        let v = mutated(|o| {
            o.insert("status".into(), json!(1));
        });
        assert_error(
            &errors(&v),
            "status: expected a code (string), found a number",
        );
    }

    #[test]
    fn rejects_missing_intent() {
        let v = mutated(|o| {
            o.remove("intent");
        });
        assert_eq!(errors(&v), vec!["intent: missing".to_owned()]);
    }

    #[test]
    fn rejects_bad_intent() {
        let v = mutated(|o| {
            o.insert("intent".into(), json!("referral"));
        });
        assert_error(&errors(&v), "intent: \"referral\" is not in request-intent");
    }

    #[test]
    fn accepts_every_request_intent() {
        for intent in REQUEST_INTENT_CODES {
            let v = mutated(|o| {
                o.insert("intent".into(), json!(intent));
            });
            assert_eq!(validate_service_request(&v), Ok(()), "{intent}");
        }
    }

    #[test]
    fn rejects_missing_subject() {
        let v = mutated(|o| {
            o.remove("subject");
        });
        let errs = errors(&v);
        assert_error(&errs, "subject: missing");
        // The Patient is now unreferenced too.
        assert_error(&errs, "contained[0]: \"#patient\" is never referenced");
    }

    #[test]
    fn rejects_subject_without_reference() {
        let v = mutated(|o| {
            o.insert("subject".into(), json!({ "display": "王小明" }));
        });
        assert_error(&errors(&v), "subject.reference: missing");
    }

    #[test]
    fn rejects_subject_that_is_not_an_object() {
        let v = mutated(|o| {
            o.insert("subject".into(), json!("#patient"));
        });
        assert_error(
            &errors(&v),
            "subject: expected a Reference (JSON object), found a string",
        );
    }

    #[test]
    fn rejects_subject_reference_that_is_not_a_string() {
        let v = mutated(|o| {
            o.insert("subject".into(), json!({ "reference": 5 }));
        });
        assert_error(
            &errors(&v),
            "subject.reference: expected a string, found a number",
        );
    }

    #[test]
    fn rejects_subject_pointing_at_a_practitioner() {
        let v = mutated(|o| {
            o.insert("subject".into(), json!({ "reference": "#requester" }));
        });
        assert_error(
            &errors(&v),
            "subject.reference: \"#requester\" is a Practitioner",
        );
    }

    #[test]
    fn rejects_performer_of_a_type_r4_does_not_allow() {
        // Patient is a legal performer in R4 (self-care); check the rule bites
        // for a type outside the list by retyping the contained Organization.
        let v = mutated(|o| {
            o["contained"][2]["resourceType"] = json!("Location");
        });
        assert_error(
            &errors(&v),
            "performer[0].reference: \"#performer\" is a Location",
        );
    }

    #[test]
    fn rejects_unknown_reference_element() {
        let v = mutated(|o| {
            o.insert(
                "subject".into(),
                json!({ "reference": "#patient", "ref": "x" }),
            );
        });
        assert_error(&errors(&v), "subject.ref: not an element of Reference");
    }

    #[test]
    fn rejects_bad_priority() {
        let v = mutated(|o| {
            o.insert("priority".into(), json!("emergency"));
        });
        assert_error(
            &errors(&v),
            "priority: \"emergency\" is not in request-priority",
        );
    }

    #[test]
    fn accepts_asap_and_stat_and_no_priority() {
        for p in ["routine", "urgent", "asap", "stat"] {
            let v = mutated(|o| {
                o.insert("priority".into(), json!(p));
            });
            assert_eq!(validate_service_request(&v), Ok(()), "{p}");
        }
        let v = mutated(|o| {
            o.remove("priority");
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn rejects_dangling_local_reference() {
        let v = mutated(|o| {
            o.insert("performer".into(), json!([{ "reference": "#nowhere" }]));
        });
        let errs = errors(&v);
        assert_error(
            &errs,
            "performer[0].reference: \"#nowhere\" does not resolve to a contained resource",
        );
        assert_error(&errs, "contained[2]: \"#performer\" is never referenced");
    }

    #[test]
    fn rejects_dangling_reference_inside_contained_resource() {
        let v = mutated(|o| {
            o["contained"][2]["partOf"] = json!({ "reference": "#hospital" });
        });
        assert_error(
            &errors(&v),
            "contained[2].partOf.reference: \"#hospital\" does not resolve",
        );
    }

    #[test]
    fn rejects_local_reference_when_nothing_is_contained() {
        let v = mutated(|o| {
            o.remove("contained");
        });
        let errs = errors(&v);
        assert_error(&errs, "subject.reference: \"#patient\" does not resolve");
        assert_error(
            &errs,
            "requester.reference: \"#requester\" does not resolve",
        );
        assert_error(
            &errs,
            "performer[0].reference: \"#performer\" does not resolve",
        );
    }

    #[test]
    fn accepts_non_local_references_and_container_reference() {
        let v = mutated(|o| {
            o.insert("subject".into(), json!({ "reference": "Patient/123" }));
            o["contained"][0]["link"] =
                json!([{ "other": { "reference": "#" }, "type": "seealso" }]);
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn rejects_bad_gender() {
        let v = mutated(|o| {
            o["contained"][0]["gender"] = json!("M");
        });
        assert_error(
            &errors(&v),
            "contained[0].gender: \"M\" is not in administrative-gender",
        );
    }

    #[test]
    fn rejects_gender_that_is_not_a_string() {
        let v = mutated(|o| {
            o["contained"][0]["gender"] = json!(true);
        });
        assert_error(
            &errors(&v),
            "contained[0].gender: expected a code (string), found a boolean",
        );
    }

    #[test]
    fn rejects_bad_birth_date() {
        for bad in [
            "2019-02-30",
            "07/03/2019",
            "2019-3-7",
            "2019-03-07T00:00:00Z",
            "0000",
        ] {
            let v = mutated(|o| {
                o["contained"][0]["birthDate"] = json!(bad);
            });
            assert_error(
                &errors(&v),
                &format!("contained[0].birthDate: \"{bad}\" is not a FHIR date"),
            );
        }
    }

    #[test]
    fn accepts_partial_birth_dates() {
        for ok in ["2019", "2019-03", "2019-03-07"] {
            let v = mutated(|o| {
                o["contained"][0]["birthDate"] = json!(ok);
            });
            assert_eq!(validate_service_request(&v), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_unknown_top_level_key() {
        let v = mutated(|o| {
            o.insert("diagnosis".into(), json!("VSD"));
        });
        assert_eq!(
            errors(&v),
            vec!["diagnosis: not an element of an R4 ServiceRequest".to_owned()]
        );
    }

    #[test]
    fn rejects_choice_base_name_and_r5_names() {
        for key in ["occurrence", "reason", "focus", "_subject", "_unknown"] {
            let v = mutated(|o| {
                o.insert(key.into(), json!("x"));
            });
            assert_error(
                &errors(&v),
                &format!("{key}: not an element of an R4 ServiceRequest"),
            );
        }
    }

    #[test]
    fn accepts_primitive_extension_twins() {
        let v = mutated(|o| {
            o.insert(
                "_status".into(),
                json!({ "extension": [{ "url": "https://gatekeeper.example/x", "valueString": "y" }] }),
            );
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn accepts_every_listed_element_name() {
        for key in SERVICE_REQUEST_ELEMENTS {
            assert!(is_service_request_key(key), "{key}");
        }
        for key in PRIMITIVE_ELEMENTS {
            assert!(SERVICE_REQUEST_ELEMENTS.contains(&key), "{key}");
            assert!(is_service_request_key(&format!("_{key}")), "_{key}");
        }
        for (_, types) in CHOICE_ELEMENTS {
            for t in types {
                assert!(SERVICE_REQUEST_ELEMENTS.contains(t), "{t}");
            }
        }
    }

    #[test]
    fn rejects_two_types_of_one_choice() {
        let v = mutated(|o| {
            o.insert("occurrencePeriod".into(), json!({ "start": "2026-12-01" }));
        });
        assert_error(&errors(&v), "occurrence[x]: only one type may be present");
    }

    #[test]
    fn rejects_wrong_resource_type() {
        let v = mutated(|o| {
            o.insert("resourceType".into(), json!("Task"));
        });
        assert_eq!(
            errors(&v),
            vec!["resourceType: expected \"ServiceRequest\", found \"Task\"".to_owned()]
        );
    }

    #[test]
    fn rejects_missing_resource_type() {
        let v = mutated(|o| {
            o.remove("resourceType");
        });
        assert_eq!(errors(&v), vec!["resourceType: missing".to_owned()]);
    }

    #[test]
    fn rejects_bad_id() {
        let v = mutated(|o| {
            o.insert("id".into(), json!("referral 42"));
        });
        assert_error(&errors(&v), "id: \"referral 42\" is not a FHIR id");
        let v = mutated(|o| {
            o.insert("id".into(), json!(42));
        });
        assert_error(&errors(&v), "id: expected a string, found a number");
        let v = mutated(|o| {
            o.insert("id".into(), json!("a".repeat(65)));
        });
        assert_error(&errors(&v), "id: ");
    }

    #[test]
    fn rejects_bad_authored_on() {
        for bad in [
            "2026-11-25 08:30:15",
            "2026-11-25T08:30:15",
            "2026-11-25T25:00:00Z",
            "yesterday",
        ] {
            let v = mutated(|o| {
                o.insert("authoredOn".into(), json!(bad));
            });
            assert_error(
                &errors(&v),
                &format!("authoredOn: \"{bad}\" is not a FHIR dateTime"),
            );
        }
    }

    #[test]
    fn rejects_bad_occurrence() {
        let v = mutated(|o| {
            o.insert("occurrenceDateTime".into(), json!("2026-13-01"));
        });
        assert_error(
            &errors(&v),
            "occurrenceDateTime: \"2026-13-01\" is not a FHIR dateTime",
        );
        let v = mutated(|o| {
            o.insert("occurrenceDateTime".into(), json!(20261201));
        });
        assert_error(&errors(&v), "occurrenceDateTime: expected a string");
    }

    #[test]
    fn accepts_occurrence_as_date_time() {
        let v = mutated(|o| {
            o.insert(
                "occurrenceDateTime".into(),
                json!("2026-12-01T09:00:00+08:00"),
            );
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn rejects_bad_reason_codes() {
        let v = mutated(|o| {
            o.insert("reasonCode".into(), json!({ "text": "fever" }));
        });
        assert_error(
            &errors(&v),
            "reasonCode: expected an array, found an object",
        );
        let v = mutated(|o| {
            o.insert(
                "reasonCode".into(),
                json!([{ "text": "fever" }, { "id": "x" }, "cough"]),
            );
        });
        let errs = errors(&v);
        assert_error(
            &errs,
            "reasonCode[1]: a CodeableConcept needs text or coding",
        );
        assert_error(&errs, "reasonCode[2]: expected a CodeableConcept");
        let v = mutated(|o| {
            o.insert(
                "reasonCode".into(),
                json!([{ "coding": {"code": "x"} }, { "text": 3 }]),
            );
        });
        let errs = errors(&v);
        assert_error(&errs, "reasonCode[0].coding: expected an array");
        assert_error(&errs, "reasonCode[1].text: expected a string");
    }

    #[test]
    fn accepts_coded_reason() {
        let v = mutated(|o| {
            o.insert(
                "reasonCode".into(),
                json!([{ "coding": [{ "system": "http://snomed.info/sct", "code": "30288003" }] }]),
            );
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn rejects_bad_code_and_category() {
        let v = mutated(|o| {
            o.insert("code".into(), json!("referral"));
            o.insert("category".into(), json!([{ "coding": ["3457005"] }]));
        });
        let errs = errors(&v);
        assert_error(&errs, "code: expected a CodeableConcept");
        assert_error(&errs, "category[0].coding[0]: expected a Coding");
    }

    #[test]
    fn rejects_bad_requester_and_performer() {
        let v = mutated(|o| {
            o.insert("requester".into(), json!("#requester"));
            o.insert("performer".into(), json!({ "reference": "#performer" }));
        });
        let errs = errors(&v);
        assert_error(&errs, "requester: expected a Reference");
        assert_error(&errs, "performer: expected an array, found an object");
        let v = mutated(|o| {
            o.insert(
                "performer".into(),
                json!([{ "reference": "#performer" }, { "type": "Organization" }]),
            );
        });
        assert_error(
            &errors(&v),
            "performer[1]: a Reference needs a reference, identifier or display",
        );
    }

    #[test]
    fn accepts_display_only_performer() {
        let v = mutated(|o| {
            o.insert(
                "performer".into(),
                json!([{ "reference": "#performer" }, { "display": "Cardiology ward 3" }]),
            );
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn rejects_bad_identifiers() {
        let v = mutated(|o| {
            o.insert("identifier".into(), json!({ "value": "GC-1" }));
        });
        assert_error(&errors(&v), "identifier: expected an array");
        let v = mutated(|o| {
            o.insert(
                "identifier".into(),
                json!([{ "system": "https://x" }, { "value": 1 }, "GC-1", { "value": "ok", "system": 2 }]),
            );
        });
        let errs = errors(&v);
        assert_error(&errs, "identifier[0].value: missing");
        assert_error(&errs, "identifier[1].value: expected a string");
        assert_error(&errs, "identifier[2]: expected an Identifier");
        assert_error(&errs, "identifier[3].system: expected a string");
    }

    #[test]
    fn rejects_bad_notes() {
        let v = mutated(|o| {
            o.insert(
                "note".into(),
                json!([{ "authorString": "Dr Li" }, "x", { "text": 1 }]),
            );
        });
        let errs = errors(&v);
        assert_error(&errs, "note[0].text: missing");
        assert_error(&errs, "note[1]: expected an Annotation");
        assert_error(&errs, "note[2].text: expected a string");
        let v = mutated(|o| {
            o.insert("note".into(), json!("x"));
        });
        assert_error(&errors(&v), "note: expected an array");
    }

    #[test]
    fn rejects_bad_contained_resources() {
        let v = mutated(|o| {
            o.insert("contained".into(), json!({ "resourceType": "Patient" }));
        });
        assert_error(&errors(&v), "contained: expected an array");

        let v = mutated(|o| {
            let c = o["contained"].as_array_mut().unwrap();
            c.push(json!({ "id": "x" }));
            c.push(json!({ "resourceType": "Group" }));
            c.push(json!("Patient"));
            c.push(json!({ "resourceType": 3, "id": "y" }));
        });
        let errs = errors(&v);
        assert_error(&errs, "contained[3].resourceType: missing");
        assert_error(&errs, "contained[4].id: missing");
        assert_error(&errs, "contained[5]: expected a resource");
        assert_error(
            &errs,
            "contained[6].resourceType: expected a resource type name",
        );
    }

    #[test]
    fn rejects_duplicate_and_malformed_contained_ids() {
        let v = mutated(|o| {
            o["contained"][2]["id"] = json!("patient");
        });
        let errs = errors(&v);
        assert_error(&errs, "contained[2].id: \"patient\" is already the id");
        assert_error(
            &errs,
            "performer[0].reference: \"#performer\" does not resolve",
        );
        let v = mutated(|o| {
            o["contained"][0]["id"] = json!("the patient");
        });
        assert_error(
            &errors(&v),
            "contained[0].id: \"the patient\" is not a FHIR id",
        );
    }

    #[test]
    fn rejects_nested_contained() {
        let v = mutated(|o| {
            o["contained"][0]["contained"] =
                json!([{ "resourceType": "RelatedPerson", "id": "mum" }]);
        });
        assert_error(
            &errors(&v),
            "contained[0].contained: a contained resource may not contain",
        );
    }

    #[test]
    fn rejects_unreferenced_contained_resource() {
        let v = mutated(|o| {
            o["contained"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "resourceType": "RelatedPerson", "id": "mum" }));
        });
        assert_eq!(
            errors(&v),
            vec!["contained[3]: \"#mum\" is never referenced (dom-3)".to_owned()]
        );
    }

    #[test]
    fn contained_referenced_by_sibling_or_canonical_counts() {
        let v = mutated(|o| {
            let c = o["contained"].as_array_mut().unwrap();
            c.push(json!({ "resourceType": "Organization", "id": "hospital", "name": "PCH" }));
            c[2]["partOf"] = json!({ "reference": "#hospital" });
        });
        assert_eq!(validate_service_request(&v), Ok(()));
        let v = mutated(|o| {
            o["contained"].as_array_mut().unwrap().push(
                json!({ "resourceType": "PlanDefinition", "id": "plan", "status": "active" }),
            );
            o.insert("instantiatesCanonical".into(), json!(["#plan"]));
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn contained_pointing_back_at_container_counts_as_referenced() {
        let v = mutated(|o| {
            o["contained"].as_array_mut().unwrap().push(json!({
                "resourceType": "Provenance",
                "id": "prov",
                "target": [{ "reference": "#" }]
            }));
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn rejects_null_and_empty_values_anywhere() {
        let v = mutated(|o| {
            o.insert("doNotPerform".into(), Value::Null);
            o.insert("patientInstruction".into(), json!(""));
            o.insert("bodySite".into(), json!([]));
            o.insert("requisition".into(), json!({}));
            o["contained"][0]["name"][0]["text"] = json!("");
            o["contained"][0]["name"][0]["given"] = json!(["Xiao", null]);
        });
        let errs = errors(&v);
        assert_error(&errs, "doNotPerform: null");
        assert_error(&errs, "patientInstruction: empty string");
        assert_error(&errs, "bodySite: empty array");
        assert_error(&errs, "requisition: empty object");
        assert_error(&errs, "contained[0].name[0].text: empty string");
        assert_error(&errs, "contained[0].name[0].given[1]: null");
    }

    #[test]
    fn accepts_null_placeholder_next_to_its_twin() {
        let v = mutated(|o| {
            o["contained"][0]["name"][0]["given"] = json!(["Xiao", null]);
            o["contained"][0]["name"][0]["_given"] =
                json!([null, { "extension": [{ "url": "https://x", "valueCode": "masked" }] }]);
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let v = json!({
            "resourceType": "ServiceRequest",
            "status": "open",
            "priority": "now",
            "authoredOn": "today",
            "extra": 1
        });
        let errs = errors(&v);
        assert_error(&errs, "status: \"open\"");
        assert_error(&errs, "intent: missing");
        assert_error(&errs, "subject: missing");
        assert_error(&errs, "priority: \"now\"");
        assert_error(&errs, "authoredOn: \"today\"");
        assert_error(&errs, "extra: not an element");
        assert_eq!(errs.len(), 6, "{errs:#?}");
    }

    #[test]
    fn minimal_service_request_is_valid() {
        let v = json!({
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "subject": { "reference": "Patient/1" }
        });
        assert_eq!(validate_service_request(&v), Ok(()));
    }

    // ----- date and dateTime syntax -------------------------------------

    #[test]
    fn fhir_date_syntax() {
        for ok in [
            "2019",
            "0001",
            "2019-01",
            "2019-12",
            "2019-03-07",
            "2024-02-29",
            "9999-12-31",
        ] {
            assert!(is_fhir_date(ok), "{ok}");
        }
        for bad in [
            "",
            "0000",
            "19",
            "201",
            "20190",
            "2019-00",
            "2019-13",
            "2019-1",
            "2019-02-29",
            "2019-04-31",
            "2019-03-00",
            "2019-03-32",
            "2019/03/07",
            "2019-03-07Z",
            "+2019",
            "２０１９",
            "2019-03-7 ",
            "abcd-ef-gh",
        ] {
            assert!(!is_fhir_date(bad), "{bad:?}");
        }
    }

    #[test]
    fn fhir_date_time_syntax() {
        for ok in [
            "2019",
            "2019-03",
            "2019-03-07",
            "2019-03-07T00:00:00Z",
            "2019-03-07T23:59:59Z",
            "2016-12-31T23:59:60Z",
            "2019-03-07T08:30:15.123Z",
            "2019-03-07T08:30:15.1+08:00",
            "2019-03-07T08:30:15-05:30",
            "2019-03-07T08:30:15+14:00",
            "2019-03-07T08:30:15-13:59",
        ] {
            assert!(is_fhir_date_time(ok), "{ok}");
        }
        for bad in [
            "",
            "2019-03-07T",
            "2019-03-07T08:30Z",
            "2019-03-07T08:30:15",
            "2019-03-07T24:00:00Z",
            "2019-03-07T08:60:00Z",
            "2019-03-07T08:30:61Z",
            "2019-03-07T08:30:15.Z",
            "2019-03-07T08:30:15+14:01",
            "2019-03-07T08:30:15+15:00",
            "2019-03-07T08:30:15+0800",
            "2019-03-07T08:30:15z",
            "2019-03-07t08:30:15Z",
            "2019-03-07 08:30:15Z",
            "2019-03T08:30:15Z",
            "2019-02-30T08:30:15Z",
            "2019-03-07T08:30:15ZZ",
            "2019-03-07T8:30:15Z",
            "2019-03-07T08:30:15+08:00:00",
        ] {
            assert!(!is_fhir_date_time(bad), "{bad:?}");
        }
    }

    #[test]
    fn exported_instants_are_fhir_date_times() {
        let t =
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + Duration::nanoseconds(999_999_999);
        assert_eq!(fhir_instant(t), "2026-01-02T03:04:05Z");
        assert!(is_fhir_date_time(&fhir_instant(t)));
        assert_eq!(
            fhir_date(NaiveDate::from_ymd_opt(987, 6, 5).unwrap()),
            "0987-06-05"
        );
    }

    #[test]
    fn fhir_id_syntax() {
        for ok in ["42", "-42", "patient", "a.b-C", &"x".repeat(64)] {
            assert!(is_fhir_id(ok), "{ok}");
        }
        for bad in ["", "a b", "a_b", "#a", "患者", &"x".repeat(65)] {
            assert!(!is_fhir_id(bad), "{bad:?}");
        }
    }

    // ----- bundle --------------------------------------------------------

    #[test]
    fn bundle_shape() {
        let first = valid();
        let second = service_request(&ServiceRequestInput {
            referral_id: 43,
            ..fixture()
        });
        let b = bundle(
            "https://gatekeeper.example/",
            vec![first.clone(), second.clone()],
        );
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        let entries = b["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0]["fullUrl"],
            "https://gatekeeper.example/api/v1/referrals/42/fhir"
        );
        assert_eq!(entries[0]["resource"], first);
        assert_eq!(
            entries[1]["fullUrl"],
            "https://gatekeeper.example/api/v1/referrals/43/fhir"
        );
        assert_eq!(entries[1]["resource"], second);
        for e in entries {
            assert_eq!(validate_service_request(&e["resource"]), Ok(()));
        }
        let mut keys: Vec<&String> = b.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, vec!["entry", "resourceType", "type"]);
    }

    #[test]
    fn empty_bundle_has_no_entry_array() {
        let b = bundle("https://gatekeeper.example", Vec::new());
        assert_eq!(b, json!({ "resourceType": "Bundle", "type": "collection" }));
    }

    #[test]
    fn bundle_entry_without_id_has_no_full_url() {
        let mut r = valid();
        r.as_object_mut().unwrap().remove("id");
        let b = bundle("https://gatekeeper.example", vec![r.clone()]);
        assert_eq!(b["entry"], json!([{ "resource": r }]));
    }
}
