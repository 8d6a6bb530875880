//! The time every rule reads. It is the real time, except while the demo
//! builder (`crate::demo`) replays the alliance's past: it sets the clock to
//! each moment it replays, so that the services apply the same rules to a
//! year of history as they do to today (an exam window closes, a
//! credential expires, a cool-off ends) without writing a table directly.
//!
//! The offset is process-wide. Only `gatekeeper demo` sets it, before it
//! serves; the server and its jobs never do. For the same reason it has no
//! unit test here (the library's tests run in parallel in one process): the
//! demo's own test binary (`tests/demo`) checks it moves and comes back.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Microseconds added to the real time (0: real time).
static OFFSET_MICROS: AtomicI64 = AtomicI64::new(0);

/// The current instant as the rules see it.
pub fn now() -> DateTime<Utc> {
    Utc::now() + Duration::microseconds(OFFSET_MICROS.load(Ordering::Relaxed))
}

/// Moves the clock to `at` (it then runs on from there at real speed).
pub fn set(at: DateTime<Utc>) {
    let offset = (at - Utc::now()).num_microseconds().unwrap_or(0);
    OFFSET_MICROS.store(offset, Ordering::Relaxed);
}

/// Back to the real time.
pub fn reset() {
    OFFSET_MICROS.store(0, Ordering::Relaxed);
}
