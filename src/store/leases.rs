//! Job leases: a periodic job's round runs only while its instance holds
//! the job's row, so two instances never run the same round at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::job_leases;
use crate::store::{DbConn, natively};

/// Takes the lease of `job` for `holder` until `until`, unless another
/// holder has it beyond `now`. True when taken. One conditional update,
/// so of two instances trying at once exactly one wins (on PostgreSQL the
/// second waits for the first's row lock, then finds the lease held).
pub fn take(
    conn: &mut DbConn,
    job: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let taken = diesel::update(
        job_leases::table
            .filter(job_leases::job.eq(job))
            // Not even its own holder may take a held lease: two rounds of
            // one instance must not overlap either.
            .filter(job_leases::held_until.le(now)),
    )
    .set((
        job_leases::holder.eq(holder),
        job_leases::held_until.eq(until),
    ))
    .execute(conn)?;
    if taken > 0 {
        return Ok(true);
    }
    // The job's first round anywhere: its row does not exist yet. Of two
    // instances inserting at once, one wins; the other inserts nothing.
    let insert = diesel::insert_into(job_leases::table).values((
        job_leases::job.eq(job),
        job_leases::holder.eq(holder),
        job_leases::held_until.eq(until),
    ));
    let inserted = natively!(conn, |c| insert.on_conflict_do_nothing().execute(c))?;
    Ok(inserted > 0)
}

/// Gives the lease back (it is free from `now`), if `holder` still has it.
pub fn release(
    conn: &mut DbConn,
    job: &str,
    holder: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        job_leases::table
            .filter(job_leases::job.eq(job))
            .filter(job_leases::holder.eq(holder)),
    )
    .set(job_leases::held_until.eq(now))
    .execute(conn)
}
