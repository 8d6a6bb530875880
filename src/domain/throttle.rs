//! Sign-in throttling: how many wrong passwords are tolerated, from where,
//! before an attempt must wait.
//!
//! The rule counts failures, never successes, so a clinic of two hundred
//! doctors signing in from one router before an exam never waits, and a
//! stranger guessing a doctor's password cannot lock her out:
//!
//! - per account *and* address: a few mistakes, then a wait (the doctor who
//!   mistypes at her own clinic);
//! - per address, whatever the account: a password-guessing robot slows down;
//! - per account, from every address together: a ceiling that refills
//!   slowly, against guesses spread over many addresses;
//! - a trusted device (a signed device cookie left by an earlier successful
//!   sign-in to this account, as OWASP recommends) is counted on its own
//!   bucket only, so the other three never keep its owner out.
//!
//! Each limit is a leaky bucket: an attempt adds one, the bucket drains one
//! every `drain_every`, and an attempt that would overflow the capacity
//! waits. An attempt is counted before the password is checked (so parallel
//! guesses cannot slip past) and refunded when it succeeds.
//!
//! The buckets live in the database (`store::throttle`), so every instance
//! behind a load balancer counts on the same ones; times are measured from
//! the Unix epoch. [`Key::stored`] names a bucket in storage.

use std::time::Duration;

/// One limit: `capacity` failures in a burst, then one more every
/// `drain_every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub capacity: u32,
    pub drain_every: Duration,
}

/// Failures counted against one key, as of `at` (time since the Unix
/// epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    level: f64,
    at: Duration,
}

impl Bucket {
    /// A bucket as stored: `level` attempts counted as of `at`.
    pub fn stored(level: f64, at: Duration) -> Bucket {
        Bucket {
            level: level.max(0.0),
            at,
        }
    }

    pub fn level(self) -> f64 {
        self.level
    }

    pub fn at(self) -> Duration {
        self.at
    }
}

/// Counts one attempt on each of its buckets (each with its limit), or,
/// when any is full, refuses with the longest wait and counts nothing.
/// Returns the buckets to keep, in the order given.
pub fn admit(buckets: &[(Limit, Option<Bucket>)], now: Duration) -> Result<Vec<Bucket>, Duration> {
    if let Some(wait) = buckets
        .iter()
        .filter_map(|(limit, bucket)| limit.wait(*bucket, now))
        .max()
    {
        return Err(wait);
    }
    Ok(buckets
        .iter()
        .map(|(limit, bucket)| limit.add(*bucket, now))
        .collect())
}

impl Limit {
    pub fn new(capacity: u32, drain_every_secs: u64) -> Limit {
        Limit {
            capacity: capacity.max(1),
            drain_every: Duration::from_secs(drain_every_secs.max(1)),
        }
    }

    /// The bucket's level once drained up to `now`.
    fn level(self, bucket: Option<Bucket>, now: Duration) -> f64 {
        let Some(b) = bucket else { return 0.0 };
        let elapsed = now.saturating_sub(b.at).as_secs_f64();
        (b.level - elapsed / self.drain_every.as_secs_f64()).max(0.0)
    }

    /// How long another attempt must wait; `None` when it may go now.
    pub fn wait(self, bucket: Option<Bucket>, now: Duration) -> Option<Duration> {
        let over = self.level(bucket, now) + 1.0 - f64::from(self.capacity);
        // A hair of tolerance: drained float levels are not exact.
        (over > 1e-9).then(|| self.drain_every.mul_f64(over))
    }

    /// The bucket with one more attempt counted.
    pub fn add(self, bucket: Option<Bucket>, now: Duration) -> Bucket {
        Bucket {
            level: self.level(bucket, now) + 1.0,
            at: now,
        }
    }

    /// The bucket with one attempt refunded (it succeeded).
    pub fn refund(self, bucket: Option<Bucket>, now: Duration) -> Bucket {
        Bucket {
            level: (self.level(bucket, now) - 1.0).max(0.0),
            at: now,
        }
    }

    /// Whether the bucket has drained completely (and can be forgotten).
    pub fn is_empty(self, bucket: Bucket, now: Duration) -> bool {
        self.level(Some(bucket), now) <= 0.0
    }

    /// When the bucket will have drained completely: from then on it can be
    /// forgotten (pruned) without changing any answer.
    pub fn empty_at(self, bucket: Bucket) -> Duration {
        bucket.at + self.drain_every.mul_f64(bucket.level.max(0.0))
    }
}

/// Which bucket an attempt is counted on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    AccountAtAddress { account: String, address: String },
    Address(String),
    Account(String),
    Device(String),
}

impl Key {
    /// The bucket's name in storage: a kind prefix, then the key's parts.
    /// An address never holds `|`, so the account-at-address name is
    /// unambiguous (an email is the last part).
    pub fn stored(&self) -> String {
        match self {
            Key::AccountAtAddress { account, address } => {
                format!("sign-in:account-at:{address}|{account}")
            }
            Key::Address(address) => format!("sign-in:address:{address}"),
            Key::Account(account) => format!("sign-in:account:{account}"),
            Key::Device(id) => format!("sign-in:device:{id}"),
        }
    }
}

/// The bucket of public credential lookups from one address (`None`: the
/// address is unknown, and all such lookups share one bucket).
pub fn lookup_key(address: Option<&str>) -> String {
    format!("lookup:address:{}", address.unwrap_or("unknown"))
}

/// The limits of the sign-in policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub account_at_address: Limit,
    pub address: Limit,
    pub account: Limit,
    pub device: Limit,
}

/// One sign-in attempt as the throttle sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The account asked for (the email, lower-cased).
    pub account: &'a str,
    /// The client's address, when known.
    pub address: Option<&'a str>,
    /// The id of a valid device cookie issued to this same account.
    pub trusted_device: Option<&'a str>,
}

impl Policy {
    /// The buckets an attempt is counted on, each with its limit.
    pub fn keys(&self, attempt: &Attempt) -> Vec<(Key, Limit)> {
        if let Some(device) = attempt.trusted_device {
            return vec![(Key::Device(device.to_owned()), self.device)];
        }
        let account = attempt.account.to_owned();
        let mut keys = Vec::with_capacity(3);
        if let Some(address) = attempt.address {
            keys.push((
                Key::AccountAtAddress {
                    account: account.clone(),
                    address: address.to_owned(),
                },
                self.account_at_address,
            ));
            keys.push((Key::Address(address.to_owned()), self.address));
        }
        keys.push((Key::Account(account), self.account));
        keys
    }

    /// The limit a key is counted with.
    pub fn limit_of(&self, key: &Key) -> Limit {
        match key {
            Key::AccountAtAddress { .. } => self.account_at_address,
            Key::Address(_) => self.address,
            Key::Account(_) => self.account,
            Key::Device(_) => self.device,
        }
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

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Counts `n` failures at `now`.
    fn fail(limit: Limit, mut b: Option<Bucket>, n: u32, now: Duration) -> Option<Bucket> {
        for _ in 0..n {
            assert_eq!(limit.wait(b, now), None);
            b = Some(limit.add(b, now));
        }
        b
    }

    #[test]
    fn a_burst_of_failures_then_one_per_period() {
        let limit = Limit::new(5, 180);
        let b = fail(limit, None, 5, secs(0));
        assert_eq!(limit.wait(b, secs(0)), Some(secs(180)));
        assert_eq!(limit.wait(b, secs(60)), Some(secs(120)));
        assert_eq!(limit.wait(b, secs(180)), None);
        // One more failure, and the next waits a whole period again.
        let b = limit.add(b, secs(180));
        assert_eq!(limit.wait(Some(b), secs(180)), Some(secs(180)));
        // Fully drained after capacity × period.
        assert!(limit.is_empty(b, secs(180 * 6)));
        assert!(!limit.is_empty(b, secs(180 * 5)));
    }

    #[test]
    fn successes_are_refunded_and_never_count() {
        let limit = Limit::new(3, 20);
        let mut b = None;
        // Two hundred successful sign-ins in a row: each is counted on the
        // way in and refunded on success, so none ever waits.
        for _ in 0..200 {
            assert_eq!(limit.wait(b, secs(5)), None);
            b = Some(limit.refund(Some(limit.add(b, secs(5))), secs(5)));
        }
        assert_eq!(b.map(|b| b.level), Some(0.0));
        // A refund never goes below empty.
        assert_eq!(limit.refund(None, secs(0)).level, 0.0);
    }

    #[test]
    fn admit_counts_on_every_bucket_or_on_none() {
        let small = Limit::new(1, 60);
        let big = Limit::new(10, 60);
        let counted = admit(&[(small, None), (big, None)], secs(0)).unwrap();
        assert_eq!(
            counted.iter().map(|b| b.level).collect::<Vec<_>>(),
            [1.0, 1.0]
        );
        // The small bucket is full: refused with its wait, nothing counted.
        let again = [(small, Some(counted[0])), (big, Some(counted[1]))];
        assert_eq!(admit(&again, secs(15)), Err(secs(45)));
        // Once it has drained, both count again.
        let later = admit(&again, secs(60)).unwrap();
        assert_eq!(later[1].level(), 2.0 - 1.0);
    }

    #[test]
    fn a_bucket_is_empty_at_its_level_times_the_period() {
        let limit = Limit::new(5, 180);
        let b = fail(limit, None, 3, secs(100)).unwrap();
        assert_eq!(limit.empty_at(b), secs(100 + 3 * 180));
        assert!(limit.is_empty(b, limit.empty_at(b)));
        assert!(!limit.is_empty(b, limit.empty_at(b) - secs(1)));
        assert_eq!(Bucket::stored(-1.0, secs(5)).level(), 0.0);
        assert_eq!(Bucket::stored(2.5, secs(5)).at(), secs(5));
    }

    #[test]
    fn stored_names_keep_kinds_and_parts_apart() {
        let names = [
            Key::AccountAtAddress {
                account: "li@clinic.example".into(),
                address: "10.0.0.1".into(),
            }
            .stored(),
            Key::Address("10.0.0.1".into()).stored(),
            Key::Account("li@clinic.example".into()).stored(),
            Key::Device("d1".into()).stored(),
            lookup_key(Some("10.0.0.1")),
            lookup_key(None),
        ];
        assert_eq!(names[0], "sign-in:account-at:10.0.0.1|li@clinic.example");
        assert_eq!(names[4], "lookup:address:10.0.0.1");
        assert_eq!(names[5], "lookup:address:unknown");
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
    }

    #[test]
    fn a_capacity_of_zero_still_allows_one_attempt() {
        let limit = Limit::new(0, 0);
        assert_eq!(limit.capacity, 1);
        assert_eq!(limit.drain_every, secs(1));
        assert_eq!(limit.wait(None, secs(0)), None);
    }

    fn policy() -> Policy {
        Policy {
            account_at_address: Limit::new(5, 180),
            address: Limit::new(30, 20),
            account: Limit::new(50, 600),
            device: Limit::new(10, 180),
        }
    }

    #[test]
    fn an_untrusted_attempt_counts_on_account_address_and_both_together() {
        let p = policy();
        let keys = p.keys(&Attempt {
            account: "li@clinic.example",
            address: Some("10.0.0.1"),
            trusted_device: None,
        });
        assert_eq!(
            keys,
            vec![
                (
                    Key::AccountAtAddress {
                        account: "li@clinic.example".into(),
                        address: "10.0.0.1".into()
                    },
                    p.account_at_address
                ),
                (Key::Address("10.0.0.1".into()), p.address),
                (Key::Account("li@clinic.example".into()), p.account),
            ]
        );
        for (key, limit) in &keys {
            assert_eq!(p.limit_of(key), *limit);
        }
        // Without an address only the account's ceiling applies.
        let keys = p.keys(&Attempt {
            account: "li@clinic.example",
            address: None,
            trusted_device: None,
        });
        assert_eq!(
            keys,
            vec![(Key::Account("li@clinic.example".into()), p.account)]
        );
    }

    #[test]
    fn a_trusted_device_counts_on_its_own_bucket_only() {
        let p = policy();
        let keys = p.keys(&Attempt {
            account: "li@clinic.example",
            address: Some("10.0.0.1"),
            trusted_device: Some("d1"),
        });
        assert_eq!(keys, vec![(Key::Device("d1".into()), p.device)]);
        assert_eq!(p.limit_of(&keys[0].0), p.device);
    }
}
