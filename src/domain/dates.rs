//! Sane calendar dates. Every date or time a person or system sends us —
//! exam windows and a candidate's own window, workshop sessions, the end of
//! a suspension, a referral's clinic day and the child's birth date, the day
//! of community visits — must fall in the years 1900 to 2200. A typo such
//! as year 0000 or 20260 is refused naming the field, before any rule about
//! the date itself (in the future, under 18 …) is applied.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use crate::error::Error;

/// The first and last year a date may fall in.
pub const EARLIEST_YEAR: i32 = 1900;
pub const LATEST_YEAR: i32 = 2200;

/// The refusal, the same words everywhere (translated under `errors.`).
pub const OUT_OF_RANGE: &str = "must be a date between the years 1900 and 2200";

fn year_ok(year: i32) -> bool {
    (EARLIEST_YEAR..=LATEST_YEAR).contains(&year)
}

/// A day in the sane range, or an error naming `field`.
pub fn day(field: &str, d: NaiveDate) -> Result<NaiveDate, Error> {
    if year_ok(d.year()) {
        Ok(d)
    } else {
        Err(Error::invalid(field, OUT_OF_RANGE))
    }
}

/// A stored (UTC, zoneless) time in the sane range.
pub fn naive_time(field: &str, t: NaiveDateTime) -> Result<NaiveDateTime, Error> {
    day(field, t.date()).map(|_| t)
}

/// An instant in the sane range (judged by its UTC date).
pub fn time(field: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    day(field, t.date_naive()).map(|_| t)
}

/// A day written `YYYY-MM-DD`, in the sane range.
pub fn parse_day(field: &str, s: &str) -> Result<NaiveDate, Error> {
    let s = s.trim();
    // chrono's %Y also reads signed and five-digit years; we want exactly
    // four digits, a dash, two, a dash, two.
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let parsed = if shaped {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    } else {
        None
    };
    let d = parsed.ok_or_else(|| Error::invalid(field, "must be a date like 2026-12-01"))?;
    day(field, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn field_of(r: Result<NaiveDate, Error>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn the_range_is_inclusive_at_both_ends() {
        assert!(day("d", ymd(1900, 1, 1)).is_ok());
        assert!(day("d", ymd(2200, 12, 31)).is_ok());
        assert!(day("d", ymd(2026, 12, 3)).is_ok());
        assert_eq!(field_of(day("d", ymd(1899, 12, 31))).as_deref(), Some("d"));
        assert_eq!(field_of(day("d", ymd(2201, 1, 1))).as_deref(), Some("d"));
        assert_eq!(field_of(day("d", ymd(0, 1, 1))).as_deref(), Some("d"));
        assert_eq!(field_of(day("d", ymd(-1, 1, 1))).as_deref(), Some("d"));
        assert_eq!(field_of(day("d", ymd(9999, 1, 1))).as_deref(), Some("d"));
    }

    #[test]
    fn times_are_judged_by_their_date() {
        let t = |y| ymd(y, 6, 1).and_hms_opt(9, 0, 0).unwrap_or_default();
        assert!(naive_time("opens_at", t(2027)).is_ok());
        let e = naive_time("opens_at", t(0)).err();
        assert_eq!(e.as_ref().and_then(Error::field), Some("opens_at"));
        assert!(time("until", t(2027).and_utc()).is_ok());
        let e = time("until", t(10000).and_utc()).err();
        assert_eq!(e.as_ref().and_then(Error::field), Some("until"));
    }

    #[test]
    fn days_parse_strictly_then_range_checked() {
        assert_eq!(
            parse_day("date", " 2026-12-01 ").ok(),
            Some(ymd(2026, 12, 1))
        );
        for bad in [
            "0000-01-01",
            "1899-12-31",
            "2201-01-01",
            "9999-12-31",
            "+2026-12-01",
            "20260-12-01",
            "2026-1-1",
            "2026-02-30",
            "01/12/2026",
            "",
        ] {
            let e = parse_day("slot_date", bad).err();
            assert_eq!(
                e.as_ref().and_then(Error::field),
                Some("slot_date"),
                "{bad}"
            );
        }
        let message = parse_day("x", "0000-01-01")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("1900 and 2200"), "{message}");
    }
}
