//! The committee's rules: who may vote on a case, when the votes decide it,
//! and track policy bounds.
//!
//! A decision needs a quorum of votes and a strict majority of the votes
//! cast. A tie waits for another vote. Votes are secret until the decision
//! (the service shows only how many were cast).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Approve,
    Reject,
}

impl Vote {
    pub fn as_str(self) -> &'static str {
        match self {
            Vote::Approve => "approve",
            Vote::Reject => "reject",
        }
    }

    pub fn parse(s: &str) -> Option<Vote> {
        [Vote::Approve, Vote::Reject]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Not decided: `cast` votes so far, a decision needs at least `quorum`
    /// and a majority.
    Pending {
        cast: u32,
        quorum: u32,
    },
    Approved,
    Rejected,
}

pub fn tally(votes: &[Vote], quorum: u32) -> Tally {
    let cast = votes.len() as u32;
    let approve = votes.iter().filter(|v| **v == Vote::Approve).count() as u32;
    let reject = cast - approve;
    if cast < quorum.max(1) {
        Tally::Pending { cast, quorum }
    } else if approve * 2 > cast {
        Tally::Approved
    } else if reject * 2 > cast {
        Tally::Rejected
    } else {
        Tally::Pending { cast, quorum }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoteRefusal {
    #[error("you cannot vote on your own case")]
    OwnCase,
    #[error("a member from the candidate's institution may not vote")]
    SameInstitution,
}

/// A member may vote unless the case is their own or the candidate works at
/// their institution.
pub fn may_vote(
    member_id: i64,
    member_institution: Option<i64>,
    candidate_id: i64,
    candidate_institution: Option<i64>,
) -> Result<(), VoteRefusal> {
    if member_id == candidate_id {
        return Err(VoteRefusal::OwnCase);
    }
    match (member_institution, candidate_institution) {
        (Some(m), Some(c)) if m == c => Err(VoteRefusal::SameInstitution),
        _ => Ok(()),
    }
}

/// Bounds of the policy the committee sets per track.
pub const QUORUM: std::ops::RangeInclusive<i64> = 1..=15;
pub const STAGE_ATTEMPTS: std::ops::RangeInclusive<i64> = 1..=10;
pub const RETAKE_WAIT_DAYS: std::ops::RangeInclusive<i64> = 0..=365;
pub const COOLOFF_DAYS: std::ops::RangeInclusive<i64> = 0..=1825;
pub const VALIDITY_MONTHS: std::ops::RangeInclusive<i64> = 1..=120;
pub const INAPPROPRIATE_THRESHOLD: std::ops::RangeInclusive<i64> = 0..=100;
pub const FLAG_MIN_RATED: std::ops::RangeInclusive<i64> = 1..=1000;

/// The credential code a new track starts with: the first four letters or
/// digits of its key, in capitals (the committee may change it).
pub fn default_track_code(track_key: &str) -> String {
    let code: String = track_key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_ascii_uppercase();
    if code.len() >= 2 {
        code
    } else {
        "TRK".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_track_gets_a_code_from_its_key() {
        assert_eq!(default_track_code("paediatrics"), "PAED");
        assert_eq!(default_track_code("ob-gyn"), "OBGY");
        assert_eq!(default_track_code("x"), "TRK");
        assert_eq!(default_track_code("ent"), "ENT");
    }
    use Vote::{Approve as A, Reject as R};

    #[test]
    fn no_decision_without_quorum() {
        assert_eq!(tally(&[], 3), Tally::Pending { cast: 0, quorum: 3 });
        assert_eq!(tally(&[A, A], 3), Tally::Pending { cast: 2, quorum: 3 });
        assert_eq!(tally(&[R, R], 3), Tally::Pending { cast: 2, quorum: 3 });
    }

    #[test]
    fn a_strict_majority_of_the_votes_cast_decides_at_quorum() {
        assert_eq!(tally(&[A, A, A], 3), Tally::Approved);
        assert_eq!(tally(&[A, A, R], 3), Tally::Approved);
        assert_eq!(tally(&[A, R, R], 3), Tally::Rejected);
        assert_eq!(tally(&[R, R, R], 3), Tally::Rejected);
        assert_eq!(tally(&[A, A, R, R, A], 5), Tally::Approved);
    }

    #[test]
    fn a_tie_waits_for_another_vote() {
        assert_eq!(tally(&[A, R], 2), Tally::Pending { cast: 2, quorum: 2 });
        assert_eq!(
            tally(&[A, R, A, R], 3),
            Tally::Pending { cast: 4, quorum: 3 }
        );
        assert_eq!(tally(&[A, R, A, R, R], 3), Tally::Rejected);
    }

    #[test]
    fn a_quorum_of_zero_still_needs_one_vote() {
        assert_eq!(tally(&[], 0), Tally::Pending { cast: 0, quorum: 0 });
        assert_eq!(tally(&[A], 0), Tally::Approved);
        assert_eq!(tally(&[A], 1), Tally::Approved);
    }

    #[test]
    fn members_of_the_candidates_institution_and_the_candidate_may_not_vote() {
        assert_eq!(may_vote(1, Some(10), 2, Some(11)), Ok(()));
        assert_eq!(
            may_vote(1, Some(10), 2, Some(10)),
            Err(VoteRefusal::SameInstitution)
        );
        assert_eq!(
            may_vote(2, Some(10), 2, Some(11)),
            Err(VoteRefusal::OwnCase)
        );
        assert_eq!(may_vote(1, None, 2, Some(10)), Ok(()));
        assert_eq!(may_vote(1, Some(10), 2, None), Ok(()));
        assert_eq!(may_vote(1, None, 2, None), Ok(()));
    }

    #[test]
    fn votes_parse() {
        assert_eq!(Vote::parse("approve"), Some(A));
        assert_eq!(Vote::parse("reject"), Some(R));
        assert_eq!(Vote::parse("abstain"), None);
    }
}
