//! Throttle buckets shared by every instance: `domain::throttle`'s rule
//! applied to the rows of `store::throttle`, inside one transaction. Used by
//! sign-in (`auth::SignInThrottle`) and public credential lookups
//! (`credentials::VerifyThrottle`).

use std::time::Duration;

use crate::domain::throttle::{self, Bucket, Limit};
use crate::error::Result;
use crate::store::throttle::{self as store_throttle, BucketRow};
use crate::store::{self, DbConn};

/// Now, as the buckets measure it: time since the Unix epoch, from the
/// application's clock.
fn now() -> Duration {
    let ms = store::now().and_utc().timestamp_millis();
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn row(name: &str, limit: Limit, bucket: Bucket) -> BucketRow {
    BucketRow {
        bucket: name.to_owned(),
        level: bucket.level(),
        at_ms: millis(bucket.at()),
        empty_at_ms: millis(limit.empty_at(bucket)),
    }
}

/// The locked buckets of `limited`, in its order (`None` where empty).
fn locked(
    conn: &mut DbConn,
    limited: &[(String, Limit)],
    now: Duration,
) -> Result<Vec<Option<Bucket>>> {
    let names: Vec<String> = limited.iter().map(|(name, _)| name.clone()).collect();
    let rows = store_throttle::lock(conn, &names, millis(now))?;
    Ok(limited
        .iter()
        .map(|(name, _)| {
            rows.iter().find(|r| &r.bucket == name).map(|r| {
                Bucket::stored(
                    r.level,
                    Duration::from_millis(u64::try_from(r.at_ms).unwrap_or(0)),
                )
            })
        })
        .collect())
}

/// Counts one attempt on every bucket of `limited`, or counts nothing and
/// answers `Err(wait)` when one is full. Prunes buckets that have drained,
/// so the table stays as small as the attempts of the last few hours.
pub fn count(
    conn: &mut DbConn,
    limited: &[(String, Limit)],
) -> Result<std::result::Result<(), Duration>> {
    let now = now();
    store_throttle::prune(conn, millis(now))?;
    let buckets = locked(conn, limited, now)?;
    let pairs: Vec<(Limit, Option<Bucket>)> = limited
        .iter()
        .zip(&buckets)
        .map(|((_, limit), bucket)| (*limit, *bucket))
        .collect();
    match throttle::admit(&pairs, now) {
        Err(wait) => Ok(Err(wait)),
        Ok(counted) => {
            let rows: Vec<BucketRow> = limited
                .iter()
                .zip(counted)
                .map(|((name, limit), bucket)| row(name, *limit, bucket))
                .collect();
            store_throttle::save(conn, &rows)?;
            Ok(Ok(()))
        }
    }
}

/// Gives back one attempt on every bucket of `limited` (it succeeded).
pub fn refund(conn: &mut DbConn, limited: &[(String, Limit)]) -> Result<()> {
    let now = now();
    let buckets = locked(conn, limited, now)?;
    let rows: Vec<BucketRow> = limited
        .iter()
        .zip(buckets)
        .map(|((name, limit), bucket)| row(name, *limit, limit.refund(bucket, now)))
        .collect();
    store_throttle::save(conn, &rows)?;
    Ok(())
}
