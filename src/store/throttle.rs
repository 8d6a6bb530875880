//! Throttle buckets (`domain::throttle`), shared by every instance: one row
//! a bucket, read and written inside the attempt's transaction.

use diesel::prelude::*;

use crate::store::schema::throttle_buckets;
use crate::store::{DbConn, natively};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = throttle_buckets)]
pub struct BucketRow {
    pub bucket: String,
    pub level: f64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// When the bucket has drained completely (milliseconds since the
    /// epoch); then it may be pruned.
    pub empty_at_ms: i64,
}

/// The rows of these buckets, locked until the transaction ends (on
/// PostgreSQL a row lock; SQLite's write transaction already excludes
/// every other writer). Missing buckets are created empty first, so that
/// concurrent attempts on a new bucket queue on the same row instead of
/// both inserting.
pub fn lock(conn: &mut DbConn, buckets: &[String], now_ms: i64) -> QueryResult<Vec<BucketRow>> {
    for b in buckets {
        let empty = BucketRow {
            bucket: b.clone(),
            level: 0.0,
            at_ms: now_ms,
            empty_at_ms: now_ms,
        };
        let insert = diesel::insert_into(throttle_buckets::table).values(&empty);
        natively!(conn, |c| insert.on_conflict_do_nothing().execute(c))?;
    }
    match conn {
        DbConn::Postgres(c) => throttle_buckets::table
            .filter(throttle_buckets::bucket.eq_any(buckets))
            .select(BucketRow::as_select())
            .for_update()
            .load(c),
        DbConn::Sqlite(c) => throttle_buckets::table
            .filter(throttle_buckets::bucket.eq_any(buckets))
            .select(BucketRow::as_select())
            .load(c),
    }
}

/// Stores the buckets' new levels (their rows exist: see [`lock`]).
pub fn save(conn: &mut DbConn, rows: &[BucketRow]) -> QueryResult<()> {
    for row in rows {
        diesel::update(throttle_buckets::table.find(&row.bucket))
            .set(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets the buckets that had drained completely by `now_ms`.
pub fn prune(conn: &mut DbConn, now_ms: i64) -> QueryResult<usize> {
    diesel::delete(throttle_buckets::table.filter(throttle_buckets::empty_at_ms.le(now_ms)))
        .execute(conn)
}

/// How many buckets are kept (for tests and operators).
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    throttle_buckets::table.count().get_result(conn)
}
