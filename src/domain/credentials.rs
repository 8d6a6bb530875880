//! Credential numbers, status words and the dates that govern a credential.
//!
//! # Credential numbers
//!
//! A number reads `{CODE}-{YYYY}-{SEQ}-{C}`, for example `PAED-2026-000123-3`:
//!
//! - `CODE`: the track code, 2 to 8 ASCII upper-case letters or digits;
//! - `YYYY`: the year of issue (2000 to 9999);
//! - `SEQ`: six digits, the sequence within track and year (000001 to 999999);
//! - `C`: one check digit, so that a number read over the telephone or copied
//!   from a paper certificate can be refused on the spot when mistyped.
//!
//! The check digit is the Luhn digit (the one on payment cards) of a digit string
//! built as IBAN does: each letter of the code becomes two digits (A = 10,
//! B = 11, ... Z = 35), digits stay themselves, then the four year digits and the
//! six sequence digits follow. With a pencil:
//!
//! 1. Write the digit string. `PAED-2026-000123` gives P = 25, A = 10, E = 14,
//!    D = 13, so `25101413` `2026` `000123`.
//! 2. Starting with the right-most digit and moving left, double every second
//!    digit (the 1st, 3rd, 5th, ... from the right); when a doubled digit
//!    exceeds 9, subtract 9.
//! 3. Add everything up: here the total is 37.
//! 4. The check digit is what brings the total up to the next multiple of 10:
//!    `(10 - 37 mod 10) mod 10 = 3`.
//!
//! To check a full number by eye, do the same with the check digit appended,
//! doubling every second digit starting from the one *left* of the check digit:
//! the total must end in 0.
//!
//! Luhn detects every single-digit mistake and every swap of two adjacent
//! different digits except `09` ↔ `90`.
//!
//! # Status
//!
//! The words are those medical boards use (see the reference notes): active,
//! suspended (disciplinary, with a path back), revoked (disciplinary, final) and
//! expired (lapsed, not disciplinary, restored by renewal). [`apply`] holds the
//! only legal changes between them; [`effective`] is what a verifier must be told.

use std::fmt;

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

/// Why a credential number was refused. The messages are shown to the person
/// who typed the number, so they say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error(
        "a credential number looks like PAED-2026-000123-3: a track code, the year, six digits and one check digit, separated by hyphens"
    )]
    Shape,
    #[error("the track code must be 2 to 8 capital letters or digits")]
    Code,
    #[error("the year must be between 2000 and 9999")]
    Year,
    #[error("the sequence must be between 000001 and 999999")]
    Sequence,
    #[error("the check digit does not match: the number was mistyped")]
    CheckDigit,
}

/// The lowest issue year a number may carry: nothing was issued before.
pub const MIN_YEAR: i32 = 2000;
/// The highest year that still fits the four `YYYY` digits.
pub const MAX_YEAR: i32 = 9999;
/// The highest sequence that fits the six `SEQ` digits.
pub const MAX_SEQUENCE: u32 = 999_999;

/// A credential number, valid by construction (use [`CredentialNumber::new`] or
/// [`CredentialNumber::parse`]); the check digit is derived, never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CredentialNumber {
    pub code: String,
    pub year: i32,
    pub sequence: u32,
}

/// Whether `s` can be a track code: 2 to 8 ASCII upper-case letters or digits.
/// Tracks are named with it, so it is checked when a track is created too.
pub fn valid_track_code(s: &str) -> bool {
    (2..=8).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl CredentialNumber {
    /// A number from its parts, refusing any part that would not print back
    /// into the fixed shape.
    pub fn new(code: &str, year: i32, sequence: u32) -> Result<CredentialNumber, NumberError> {
        if !valid_track_code(code) {
            return Err(NumberError::Code);
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(NumberError::Year);
        }
        if !(1..=MAX_SEQUENCE).contains(&sequence) {
            return Err(NumberError::Sequence);
        }
        Ok(CredentialNumber {
            code: code.to_owned(),
            year,
            sequence,
        })
    }

    /// The Luhn check digit over the code (letters as two digits), year and
    /// sequence; see the module documentation for the pencil method.
    pub fn check_digit(&self) -> u8 {
        luhn_check_digit(&self.digit_string())
    }

    /// Reads a number as a person typed it or read it aloud: lower case,
    /// spaces (also the full-width space of a Chinese keyboard) and
    /// full-width dashes between the groups, or no separators at all, are
    /// forgiven; anything else is refused with the first reason found.
    pub fn parse(s: &str) -> Result<CredentialNumber, NumberError> {
        let upper = separated(&s.to_ascii_uppercase());
        let parts: Vec<&str> = upper.split('-').collect();
        let [code, year, sequence, check] = parts.as_slice() else {
            return Err(NumberError::Shape);
        };
        if !all_digits(year, 4) || !all_digits(sequence, 6) || !all_digits(check, 1) {
            return Err(NumberError::Shape);
        }
        let year: i32 = year.parse().map_err(|_detail| NumberError::Shape)?;
        let sequence: u32 = sequence.parse().map_err(|_detail| NumberError::Shape)?;
        let number = CredentialNumber::new(code, year, sequence)?;
        if check.bytes().next() != Some(b'0' + number.check_digit()) {
            return Err(NumberError::CheckDigit);
        }
        Ok(number)
    }

    /// The digits the check digit is computed over: the code with A = 10 ...
    /// Z = 35, then `YYYY`, then the six-digit sequence.
    fn digit_string(&self) -> String {
        let mut digits = String::with_capacity(2 * self.code.len() + 10);
        for c in self.code.chars() {
            // Base 36 maps 0-9 to themselves and A-Z to 10-35, exactly as IBAN.
            if let Some(value) = c.to_digit(36) {
                digits.push_str(&value.to_string());
            }
        }
        digits.push_str(&format!("{:04}{:06}", self.year, self.sequence));
        digits
    }
}

impl fmt::Display for CredentialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:04}-{:06}-{}",
            self.code,
            self.year,
            self.sequence,
            self.check_digit()
        )
    }
}

/// The groups of a typed number joined by single dashes: any run of spaces
/// and dashes (ASCII or full-width) separates groups; a number typed without
/// separators (`PAED20260001233`) is split as code, year, sequence, check.
fn separated(typed: &str) -> String {
    let is_separator = |c: char| c == '-' || c == '－' || c == '—' || c.is_whitespace();
    let mut out = String::with_capacity(typed.len());
    let mut in_separator = false;
    // A leading separator stays (the loop writes it before the first group),
    // so that a missing code reads as one.
    for c in typed.trim().chars() {
        if is_separator(c) {
            in_separator = true;
            continue;
        }
        if in_separator {
            out.push('-');
            in_separator = false;
        }
        out.push(c);
    }
    if !out.contains('-') {
        let digits = out.chars().rev().take_while(char::is_ascii_digit).count();
        if digits >= 11 && out.len() > 11 && out.is_char_boundary(out.len() - 11) {
            let (code, rest) = out.split_at(out.len() - 11);
            return format!("{code}-{}-{}-{}", &rest[..4], &rest[4..10], &rest[10..]);
        }
    }
    out
}

/// Whether `s` is exactly `len` ASCII digits.
fn all_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// The Luhn digit that, appended to `digits`, makes the Luhn sum a multiple of
/// 10. Non-digits are ignored (callers only pass digits).
fn luhn_check_digit(digits: &str) -> u8 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { luhn_double(d) } else { d })
        .sum();
    // The sum mod 10 is below 10, so the result fits a u8.
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// A digit doubled, with 9 subtracted when that gives two digits (the same as
/// adding the two digits of the product).
fn luhn_double(d: u32) -> u32 {
    let doubled = 2 * d;
    if doubled > 9 { doubled - 9 } else { doubled }
}

/// Where a credential stands, as stored. What a verifier sees is
/// [`effective`], which also accounts for the passing of `validUntil`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Certified and in date.
    Active,
    /// Disciplinary, with a path back (reinstatement).
    Suspended,
    /// Disciplinary and final.
    Revoked,
    /// Lapsed: not disciplinary, restored by renewal.
    Expired,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::Suspended,
        Status::Revoked,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an administrator (or the daily expiry job) may do to a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusAction {
    Suspend,
    Reinstate,
    Revoke,
    Expire,
    Renew,
}

impl StatusAction {
    pub const ALL: [StatusAction; 5] = [
        StatusAction::Suspend,
        StatusAction::Reinstate,
        StatusAction::Revoke,
        StatusAction::Expire,
        StatusAction::Renew,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusAction::Suspend => "suspend",
            StatusAction::Reinstate => "reinstate",
            StatusAction::Revoke => "revoke",
            StatusAction::Expire => "expire",
            StatusAction::Renew => "renew",
        }
    }

    pub fn parse(s: &str) -> Option<StatusAction> {
        StatusAction::ALL
            .into_iter()
            .find(|action| action.as_str() == s)
    }
}

impl fmt::Display for StatusAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status change the rules do not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a credential that is {from} cannot be given the action \"{action}\"")]
pub struct IllegalChange {
    pub from: Status,
    pub action: StatusAction,
}

/// The status after `action`, or why it is not allowed.
///
/// - Suspend: only an active credential (suspending a lapsed or revoked one
///   would mean nothing to a verifier).
/// - Reinstate: only a suspended one, back to active.
/// - Revoke: active, suspended or expired; revoked is final, nothing leaves it
///   (its status-list bit is never cleared).
/// - Expire: only an active one. A suspended credential stays suspended when
///   its date passes: the disciplinary state is what a verifier must see.
/// - Renew: active (early renewal) or expired, back to active; never a way out
///   of a suspension or a revocation.
pub fn apply(current: Status, action: StatusAction) -> Result<Status, IllegalChange> {
    use Status::{Active, Expired, Revoked, Suspended};
    use StatusAction::{Expire, Reinstate, Renew, Revoke, Suspend};
    match (current, action) {
        (Active, Suspend) => Ok(Suspended),
        (Suspended, Reinstate) => Ok(Active),
        (Active | Suspended | Expired, Revoke) => Ok(Revoked),
        (Active, Expire) => Ok(Expired),
        (Active | Expired, Renew) => Ok(Active),
        (from, action) => Err(IllegalChange { from, action }),
    }
}

/// The status a verifier must be told. An active credential whose
/// `valid_until` has passed reads expired even before the daily job has
/// recorded it. Validity is the half-open interval [from, until): at
/// `valid_until` itself the credential has expired.
pub fn effective(status: Status, valid_until: DateTime<Utc>, now: DateTime<Utc>) -> Status {
    if status == Status::Active && now >= valid_until {
        Status::Expired
    } else {
        status
    }
}

/// Whether the credential counts now (e.g. opens the referral channel).
pub fn live(status: Status, valid_until: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    effective(status, valid_until, now) == Status::Active
}

/// When a credential issued at `issued` for `validity_months` calendar months
/// expires. A day that does not exist in the target month becomes that month's
/// last day (31 January + 1 month = 28 or 29 February), so a credential never
/// runs into the following month. Past the end of chrono's calendar (year
/// 262143) it saturates at the latest representable instant.
pub fn expiry(issued: DateTime<Utc>, validity_months: u32) -> DateTime<Utc> {
    issued
        .checked_add_months(Months::new(validity_months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The reminder windows, in days before `valid_until`, smallest first.
pub const REMINDER_DAYS: [u32; 2] = [30, 90];

/// Which expiry reminder to send now, if any.
///
/// The reminder for a window is due once `now` is within that many days of
/// `valid_until` (inclusive) and it has not been sent. Only the smallest window
/// `now` is in counts: when both are unsent (the job did not run, or the
/// credential was issued with less than 90 days left) only the 30-day reminder
/// goes out, and a 90-day one is never sent after a 30-day one. Once the
/// credential has expired no reminder is due: the lapse notice replaces them.
pub fn reminder_due(
    valid_until: DateTime<Utc>,
    now: DateTime<Utc>,
    already_sent_days: &[u32],
) -> Option<u32> {
    if now >= valid_until {
        return None;
    }
    let window = REMINDER_DAYS
        .into_iter()
        .find(|&days| now >= valid_until - Duration::days(i64::from(days)))?;
    (!already_sent_days.contains(&window)).then_some(window)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        clippy::as_conversions,
        reason = "tests index and cast the fixtures they build; a panic is a failed test"
    )]

    use chrono::TimeZone;

    use super::*;

    fn number(s: &str) -> CredentialNumber {
        CredentialNumber::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn hand_computed_example() {
        // PAED-2026-000123: P=25 A=10 E=14 D=13, so the digit string is
        //   2 5 1 0 1 4 1 3 2 0 2 6 0 0 0 1 2 3
        // From the right, double the 1st, 3rd, 5th, ... digit (subtract 9 if > 9):
        //   3->6  2  1->2  0  0->0  0  6->12->3  2  0->0  2  3->6  1
        //   4->8  1  0->0  1  5->10->1  2
        // Sum: 6+2+2+0+0+0+3+2+0+2+6+1+8+1+0+1+1+2 = 37
        // Check digit: (10 - 37 mod 10) mod 10 = 3.
        let n = CredentialNumber::new("PAED", 2026, 123).unwrap();
        assert_eq!(n.digit_string(), "251014132026000123");
        assert_eq!(n.check_digit(), 3);
        assert_eq!(n.to_string(), "PAED-2026-000123-3");
    }

    #[test]
    fn second_hand_computed_example() {
        // GP-2026-000001: G=16 P=25 -> 1 6 2 5 2 0 2 6 0 0 0 0 0 1
        // From the right: 1->2 0 0->0 0 0->0 0 6->12->3 2 0->0 2 5->10->1 2 6->12->3 1
        // Sum: 2+0+0+0+0+0+3+2+0+2+1+2+3+1 = 16, check (10 - 6) mod 10 = 4.
        let n = CredentialNumber::new("GP", 2026, 1).unwrap();
        assert_eq!(n.to_string(), "GP-2026-000001-4");
    }

    #[test]
    fn luhn_matches_the_textbook_example() {
        // The classic Luhn example: 7992739871 has check digit 3.
        assert_eq!(luhn_check_digit("7992739871"), 3);
        assert_eq!(luhn_check_digit(""), 0);
        assert_eq!(luhn_check_digit("0"), 0);
    }

    #[test]
    fn digits_in_the_code_stay_themselves() {
        let n = CredentialNumber::new("A1", 2030, 42).unwrap();
        assert_eq!(n.digit_string(), "1012030000042");
        assert_eq!(n.to_string(), "A1-2030-000042-3");
    }

    #[test]
    fn round_trip_through_display() {
        for (code, year, seq) in [
            ("PAED", 2026, 123),
            ("GP", 2000, 1),
            ("CARDIO12", 9999, 999_999),
            ("A1", 2031, 500_000),
            ("99", 2045, 7),
        ] {
            let n = CredentialNumber::new(code, year, seq).unwrap();
            assert_eq!(CredentialNumber::parse(&n.to_string()), Ok(n.clone()));
        }
    }

    #[test]
    fn spaces_full_width_dashes_and_no_separators_are_forgiven() {
        let want = CredentialNumber::new("PAED", 2026, 123).unwrap();
        for typed in [
            "PAED 2026 000123 3",
            "paed - 2026 - 000123 - 3",
            "PAED－2026－000123－3",
            "PAED\u{3000}2026\u{3000}000123\u{3000}3",
            "PAED20260001233",
        ] {
            assert_eq!(CredentialNumber::parse(typed), Ok(want.clone()), "{typed}");
        }
        for wrong in [
            "PAED 2026 000123",
            "2026-000123-3",
            "PAED--",
            "PAED 2026 00012 3",
        ] {
            assert!(CredentialNumber::parse(wrong).is_err(), "{wrong}");
        }
        assert_eq!(
            CredentialNumber::parse("PAED 2026 000123 4"),
            Err(NumberError::CheckDigit)
        );
    }

    #[test]
    fn lower_case_and_surrounding_space_are_forgiven() {
        let n = number("  paed-2026-000123-3\n");
        assert_eq!(n, CredentialNumber::new("PAED", 2026, 123).unwrap());
        assert_eq!(number("Gp-2026-000001-4").code, "GP");
    }

    #[test]
    fn every_single_digit_substitution_is_detected() {
        for valid in [
            "PAED-2026-000123-3",
            "GP2-2031-480519-0",
            "GP-2026-000001-4",
        ] {
            let n = number(valid);
            assert_eq!(n.to_string(), valid, "test data must be valid");
            let bytes = valid.as_bytes();
            for (i, &original) in bytes.iter().enumerate() {
                if !original.is_ascii_digit() {
                    continue;
                }
                for replacement in b'0'..=b'9' {
                    if replacement == original {
                        continue;
                    }
                    let mut typo = bytes.to_vec();
                    typo[i] = replacement;
                    let typo = String::from_utf8(typo).unwrap();
                    assert!(
                        CredentialNumber::parse(&typo).is_err(),
                        "{typo} (from {valid}) was accepted"
                    );
                }
            }
        }
    }

    #[test]
    fn concrete_transpositions_in_the_sequence_are_detected() {
        // PAED-2026-000123-3 with two neighbouring sequence digits swapped.
        // Verified by hand (pencil method above): the swapped sequences have
        // check digits 4 (000132), 2 (000213) and 4 (001023), not 3.
        for (typo, right) in [
            ("PAED-2026-000132-3", "PAED-2026-000132-4"),
            ("PAED-2026-000213-3", "PAED-2026-000213-2"),
            ("PAED-2026-001023-3", "PAED-2026-001023-4"),
        ] {
            assert_eq!(CredentialNumber::parse(typo), Err(NumberError::CheckDigit));
            assert_eq!(number(right).to_string(), right);
        }
    }

    #[test]
    fn every_adjacent_transposition_in_the_sequence_except_09_is_detected() {
        for (code, year, seq) in [
            ("PAED", 2026, 123_456),
            ("GP", 2027, 908_172),
            ("ICU", 2030, 314_159),
            ("A1", 2040, 192_837),
        ] {
            let n = CredentialNumber::new(code, year, seq).unwrap();
            let valid = n.to_string();
            let seq_start = valid.len() - 8;
            let bytes = valid.as_bytes();
            for i in seq_start..seq_start + 5 {
                let (a, b) = (bytes[i], bytes[i + 1]);
                if a == b || (a.min(b), a.max(b)) == (b'0', b'9') {
                    continue;
                }
                let mut swapped = bytes.to_vec();
                swapped.swap(i, i + 1);
                let swapped = String::from_utf8(swapped).unwrap();
                assert!(
                    CredentialNumber::parse(&swapped).is_err(),
                    "{swapped} (from {valid}) was accepted"
                );
            }
        }
    }

    #[test]
    fn the_09_transposition_is_luhns_known_blind_spot() {
        // Documented, not hidden: doubled, 0 stays 0 and 9 becomes 18 - 9 = 9, so
        // swapping a 0 and a 9 leaves the Luhn sum unchanged.
        let a = CredentialNumber::new("PAED", 2026, 109).unwrap();
        let b = CredentialNumber::new("PAED", 2026, 190).unwrap();
        assert_eq!(a.check_digit(), b.check_digit());
    }

    #[test]
    fn wrong_shapes_are_refused() {
        for s in [
            "",
            "PAED",
            "PAED-2026-000123",
            "PAED-2026-000123-3-1",
            "PAED-2026-00123-3",
            "PAED-2026-0000123-3",
            "PAED-26-000123-3",
            "PAED-2026-000123-33",
            "PAED-2026-000123-",
            "PAED-2026-00012A-3",
            "PAED-2026-+00123-3",
            "PAED-+026-000123-3",
            "PAED-2026-000123-X",
        ] {
            assert_eq!(CredentialNumber::parse(s), Err(NumberError::Shape), "{s:?}");
        }
    }

    #[test]
    fn bad_codes_are_refused() {
        for s in [
            "P-2026-000123-3",
            "PAEDIATRI-2026-000123-3",
            "PA_D-2026-000123-3",
            "PÄD-2026-000123-3",
            "-2026-000123-3",
        ] {
            assert_eq!(CredentialNumber::parse(s), Err(NumberError::Code), "{s:?}");
        }
    }

    #[test]
    fn years_outside_the_range_are_refused() {
        assert_eq!(
            CredentialNumber::parse("PAED-1999-000123-3"),
            Err(NumberError::Year)
        );
        assert_eq!(
            CredentialNumber::parse("PAED-0000-000123-3"),
            Err(NumberError::Year)
        );
        assert_eq!(
            CredentialNumber::new("PAED", 10_000, 1),
            Err(NumberError::Year)
        );
        assert_eq!(
            CredentialNumber::new("PAED", -2026, 1),
            Err(NumberError::Year)
        );
        assert!(CredentialNumber::new("PAED", 2000, 1).is_ok());
        assert!(CredentialNumber::new("PAED", 9999, 1).is_ok());
    }

    #[test]
    fn sequences_outside_the_range_are_refused() {
        assert_eq!(
            CredentialNumber::parse("PAED-2026-000000-0"),
            Err(NumberError::Sequence)
        );
        assert_eq!(
            CredentialNumber::new("PAED", 2026, 0),
            Err(NumberError::Sequence)
        );
        assert_eq!(
            CredentialNumber::new("PAED", 2026, 1_000_000),
            Err(NumberError::Sequence)
        );
        assert!(CredentialNumber::new("PAED", 2026, 999_999).is_ok());
    }

    #[test]
    fn a_wrong_check_digit_is_refused_with_a_plain_message() {
        let err = CredentialNumber::parse("PAED-2026-000123-4").unwrap_err();
        assert_eq!(err, NumberError::CheckDigit);
        assert_eq!(
            err.to_string(),
            "the check digit does not match: the number was mistyped"
        );
    }

    #[test]
    fn track_codes() {
        for ok in ["GP", "PAED", "CARDIO12", "A1", "12"] {
            assert!(valid_track_code(ok), "{ok}");
        }
        for bad in ["", "G", "PAEDIATRI", "paed", "PA-D", "PA D", "PÄD", "ＰＡ"] {
            assert!(!valid_track_code(bad), "{bad}");
        }
        assert_eq!(
            CredentialNumber::new("paed", 2026, 1),
            Err(NumberError::Code)
        );
    }

    #[test]
    fn status_words_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
            assert_eq!(status.to_string(), status.as_str());
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), status);
        }
        assert_eq!(Status::parse("Active"), None);
        assert_eq!(Status::parse("lapsed"), None);
        for action in StatusAction::ALL {
            assert_eq!(StatusAction::parse(action.as_str()), Some(action));
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
        }
        assert_eq!(StatusAction::parse("delete"), None);
    }

    #[test]
    fn every_status_change_against_the_table() {
        use Status::*;
        use StatusAction::*;
        // Rows: the current status; columns: Suspend, Reinstate, Revoke, Expire, Renew.
        let table: [(Status, [Option<Status>; 5]); 4] = [
            (
                Active,
                [
                    Some(Suspended),
                    None,
                    Some(Revoked),
                    Some(Expired),
                    Some(Active),
                ],
            ),
            (Suspended, [None, Some(Active), Some(Revoked), None, None]),
            (Revoked, [None, None, None, None, None]),
            (Expired, [None, None, Some(Revoked), None, Some(Active)]),
        ];
        let actions = [Suspend, Reinstate, Revoke, Expire, Renew];
        assert_eq!(actions, StatusAction::ALL);
        let mut checked = 0;
        for (from, row) in table {
            for (action, expected) in actions.into_iter().zip(row) {
                let got = apply(from, action);
                match expected {
                    Some(to) => assert_eq!(got, Ok(to), "{from} + {action}"),
                    None => assert_eq!(
                        got,
                        Err(IllegalChange { from, action }),
                        "{from} + {action}"
                    ),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, Status::ALL.len() * StatusAction::ALL.len());
    }

    #[test]
    fn illegal_change_message() {
        let err = apply(Status::Revoked, StatusAction::Reinstate).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a credential that is revoked cannot be given the action \"reinstate\""
        );
    }

    #[test]
    fn effective_status_at_the_boundary() {
        let until = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        let before = until - Duration::seconds(1);
        let after = until + Duration::seconds(1);
        assert_eq!(effective(Status::Active, until, before), Status::Active);
        assert_eq!(effective(Status::Active, until, until), Status::Expired);
        assert_eq!(effective(Status::Active, until, after), Status::Expired);
        assert!(live(Status::Active, until, before));
        assert!(!live(Status::Active, until, until));
        for status in [Status::Suspended, Status::Revoked, Status::Expired] {
            for now in [before, until, after] {
                assert_eq!(effective(status, until, now), status);
                assert!(!live(status, until, now));
            }
        }
    }

    #[test]
    fn expiry_adds_calendar_months() {
        assert_eq!(expiry(at(2026, 1, 15), 12), at(2027, 1, 15));
        assert_eq!(expiry(at(2026, 1, 15), 0), at(2026, 1, 15));
        assert_eq!(expiry(at(2026, 1, 31), 1), at(2026, 2, 28));
        assert_eq!(expiry(at(2028, 1, 31), 1), at(2028, 2, 29));
        assert_eq!(expiry(at(2028, 2, 29), 12), at(2029, 2, 28));
        assert_eq!(expiry(at(2026, 8, 31), 1), at(2026, 9, 30));
        assert_eq!(expiry(at(2026, 11, 30), 3), at(2027, 2, 28));
        assert_eq!(expiry(at(2026, 5, 10), 36), at(2029, 5, 10));
        // The time of day is kept.
        let t = Utc.with_ymd_and_hms(2026, 4, 2, 23, 59, 58).unwrap();
        assert_eq!(
            expiry(t, 24),
            Utc.with_ymd_and_hms(2028, 4, 2, 23, 59, 58).unwrap()
        );
    }

    #[test]
    fn expiry_saturates_instead_of_failing() {
        assert_eq!(expiry(at(2026, 1, 1), u32::MAX), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn reminders() {
        let until = Utc.with_ymd_and_hms(2027, 6, 30, 0, 0, 0).unwrap();
        let days = |d: i64| until - Duration::days(d);
        let second = Duration::seconds(1);

        // Too early for any reminder.
        assert_eq!(reminder_due(until, days(91), &[]), None);
        assert_eq!(reminder_due(until, days(90) - second, &[]), None);
        // The 90-day window opens exactly 90 days before.
        assert_eq!(reminder_due(until, days(90), &[]), Some(90));
        assert_eq!(reminder_due(until, days(31), &[]), Some(90));
        assert_eq!(reminder_due(until, days(60), &[90]), None);
        // The 30-day window: preferred, and sent even if the 90-day one was not.
        assert_eq!(reminder_due(until, days(30) - second, &[]), Some(90));
        assert_eq!(reminder_due(until, days(30) - second, &[90]), None);
        assert_eq!(reminder_due(until, days(30), &[90]), Some(30));
        assert_eq!(reminder_due(until, days(30), &[]), Some(30));
        assert_eq!(reminder_due(until, days(1), &[]), Some(30));
        assert_eq!(reminder_due(until, days(10), &[90, 30]), None);
        // Never a 90-day reminder after the 30-day one.
        assert_eq!(reminder_due(until, days(10), &[30]), None);
        // The last second before expiry still counts; from expiry on, nothing.
        assert_eq!(reminder_due(until, until - second, &[90]), Some(30));
        assert_eq!(reminder_due(until, until, &[]), None);
        assert_eq!(reminder_due(until, days(-5), &[]), None);
        // Unrelated entries in the sent list change nothing.
        assert_eq!(reminder_due(until, days(20), &[7, 60]), Some(30));
    }
}
