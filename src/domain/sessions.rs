//! When a sign-in session ends: after a period without use (idle) or a fixed
//! time after sign-in (absolute), whichever comes first.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    /// Two idle hours lets a doctor read a long lesson; twelve hours covers a
    /// clinic day without a second sign-in.
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::hours(2),
            absolute: Duration::hours(12),
        }
    }
}

/// How often a live session's last-seen time is written: writing it on every
/// request would make every page view a database write.
pub const TOUCH_INTERVAL_SECONDS: i64 = 60;

impl SessionPolicy {
    /// The absolute end of a session that starts at `created`.
    pub fn expires_at(&self, created: NaiveDateTime) -> NaiveDateTime {
        created + self.absolute
    }

    pub fn is_live(
        &self,
        expires_at: NaiveDateTime,
        last_seen: NaiveDateTime,
        now: NaiveDateTime,
    ) -> bool {
        now < expires_at && now < last_seen + self.idle
    }

    pub fn needs_touch(&self, last_seen: NaiveDateTime, now: NaiveDateTime) -> bool {
        now - last_seen >= Duration::seconds(TOUCH_INTERVAL_SECONDS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .map(|d| d.naive_utc())
            .unwrap_or_default()
            + Duration::minutes(minutes)
    }

    #[test]
    fn idle_and_absolute_limits() {
        let p = SessionPolicy::default();
        let start = t(0);
        let exp = p.expires_at(start);
        assert!(p.is_live(exp, start, t(119)));
        assert!(!p.is_live(exp, start, t(120)), "idle for two hours");
        // Active all day: still ends at twelve hours.
        assert!(p.is_live(exp, t(700), t(719)));
        assert!(!p.is_live(exp, t(719), t(720)));
    }

    #[test]
    fn touches_at_most_once_a_minute() {
        let p = SessionPolicy::default();
        assert!(!p.needs_touch(t(0), t(0) + Duration::seconds(59)));
        assert!(p.needs_touch(t(0), t(1)));
    }
}
