//! Queries for the committee: the votes its members cast on cases.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::committee::Vote;
use crate::domain::ids::{CaseId, PersonId};
use crate::store::DbConn;
use crate::store::schema::{committee_votes, people};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = committee_votes)]
pub struct VoteRow {
    pub case_id: CaseId,
    pub member_id: PersonId,
    pub vote: Vote,
    pub reason: String,
    pub cast_at: NaiveDateTime,
}

// ----- votes -----

/// A member's vote on a case (one each: a second is a unique violation).
#[derive(Insertable)]
#[diesel(table_name = committee_votes)]
pub struct NewVote<'a> {
    pub case_id: CaseId,
    pub member_id: PersonId,
    pub vote: Vote,
    pub reason: &'a str,
}

pub fn insert_vote(conn: &mut DbConn, v: &NewVote, now: NaiveDateTime) -> QueryResult<VoteRow> {
    diesel::insert_into(committee_votes::table)
        .values((v, committee_votes::cast_at.eq(now)))
        .get_result(conn)
}

pub fn votes_of(conn: &mut DbConn, case_id: CaseId) -> QueryResult<Vec<(VoteRow, String)>> {
    committee_votes::table
        .inner_join(people::table.on(people::id.eq(committee_votes::member_id)))
        .filter(committee_votes::case_id.eq(case_id))
        .order(committee_votes::cast_at.asc())
        .select((VoteRow::as_select(), people::name))
        .load(conn)
}

/// Withdraws the votes cast on a case (when it leaves committee review
/// undecided); returns how many there were.
pub fn withdraw_votes(conn: &mut DbConn, case_id: CaseId) -> QueryResult<usize> {
    diesel::delete(committee_votes::table.filter(committee_votes::case_id.eq(case_id)))
        .execute(conn)
}
