//! Number conversions that `as` would do silently (`clippy::as_conversions`
//! is denied): each helper says why it cannot lose what matters, and is the
//! only place its `as` is allowed.

/// A count or index as `f64`, for ratios and means.
#[allow(
    clippy::as_conversions,
    reason = "usize -> f64 is exact below 2^53; counts of rows, items and people are far below it"
)]
pub fn count_f64(n: usize) -> f64 {
    n as f64
}

/// A count, a sum of minutes or Unix seconds as `f64`.
#[allow(
    clippy::as_conversions,
    reason = "i64 -> f64 is exact below 2^53; counts, minutes and Unix seconds are far below it"
)]
pub fn i64_f64(n: i64) -> f64 {
    n as f64
}

/// A finite float already rounded (`round`, `floor`, `ceil`) as `i64`.
#[allow(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "the value is whole already; `as` saturates at the bounds and maps NaN to 0, it cannot wrap"
)]
pub fn whole_i64(x: f64) -> i64 {
    x as i64
}

/// A non-negative float already rounded as `usize` (negative values and NaN give 0).
#[allow(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "the value is whole already; `as` saturates at the bounds and maps NaN to 0, it cannot wrap"
)]
pub fn whole_usize(x: f64) -> usize {
    x as usize
}

/// A non-negative float already rounded as `u32` (negative values and NaN give 0).
#[allow(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "the value is whole already; `as` saturates at the bounds and maps NaN to 0, it cannot wrap"
)]
pub fn whole_u32(x: f64) -> u32 {
    x as u32
}

/// A count as `i64` (saturating; a `usize` count of rows never exceeds `i64::MAX`).
pub fn count_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored integer that may not be negative (points, percents, days,
/// counts) as `u32`: a negative value gives 0, one above `u32::MAX` gives
/// `u32::MAX`.
pub fn non_negative_u32(n: impl Into<i64>) -> u32 {
    u32::try_from(n.into().max(0)).unwrap_or(u32::MAX)
}

/// A `u64` measure (bytes, microseconds, clock ticks) as `f64`.
#[allow(
    clippy::as_conversions,
    reason = "u64 -> f64 is exact below 2^53; file sizes, latencies and clock ticks are far below it"
)]
pub fn u64_f64(n: u64) -> f64 {
    n as f64
}

/// A non-negative float already rounded as `u64` (negative values and NaN give 0).
#[allow(
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "the value is whole already; `as` saturates at the bounds and maps NaN to 0, it cannot wrap"
)]
pub fn whole_u64(x: f64) -> u64 {
    x as u64
}
