//! The committee's rules: who may act on a case or credential (conflicts of
//! interest), when the votes decide a case, and track policy bounds.
//!
//! A decision needs a quorum of votes and a strict majority of the votes
//! cast. A tie waits for another vote. Votes are secret until the decision
//! (the service shows only how many were cast).

use serde::{Deserialize, Serialize};

use crate::domain::access::Actor;
use crate::domain::ids::PersonId;
use crate::domain::roles::Role;

/// A committee member's vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// Certify the doctor.
    Approve,
    /// Do not certify.
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
    // Counts beyond u32 saturate; approve <= cast still holds.
    let cast = u32::try_from(votes.len()).unwrap_or(u32::MAX);
    let approve =
        u32::try_from(votes.iter().filter(|v| **v == Vote::Approve).count()).unwrap_or(u32::MAX);
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

/// One side of a committee action: a person and the institution they work at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    pub person_id: PersonId,
    pub institution_id: Option<i64>,
}

/// What a committee action is about: a doctor's certification case (votes,
/// dossier reads) or a credential (suspend, reinstate, revoke).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Case,
    Credential,
}

/// Why a person may not act on a case or credential. Defined beside the
/// error type that carries it (`Error::ConflictOfInterest`), so that `error`
/// names no domain module (every domain module names `error`).
pub use crate::error::Conflict;

/// The conflict-of-interest rule for every committee action on a doctor's
/// case or credential: nobody acts on their own, and nobody on a colleague
/// from their own institution. Votes, dossier reads, suspension,
/// reinstatement and both steps of a revocation all ask this one question.
pub fn may_act_on(actor: Party, subject: Subject, holder: Party) -> Result<(), Conflict> {
    if actor.person_id == holder.person_id {
        return Err(match subject {
            Subject::Case => Conflict::OwnCase,
            Subject::Credential => Conflict::OwnCredential,
        });
    }
    match (actor.institution_id, holder.institution_id) {
        (Some(a), Some(h)) if a == h => Err(Conflict::SameInstitution),
        _ => Ok(()),
    }
}

/// Who reads a doctor's case or credential: the doctor; a committee member
/// who may act on it (`may_act_on`, whose conflict is the refusal); an admin
/// who is not on the committee, to run the programme. Anyone else may not
/// (`Ok(false)`).
pub fn may_read(reader: &Actor, subject: Subject, holder: Party) -> Result<bool, Conflict> {
    if reader.id == holder.person_id {
        return Ok(true);
    }
    if reader.has(Role::Committee) {
        let me = Party {
            person_id: reader.id,
            institution_id: reader.institution_id,
        };
        return may_act_on(me, subject, holder).map(|()| true);
    }
    Ok(reader.has(Role::Admin))
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

    fn party(person_id: i64, institution_id: Option<i64>) -> Party {
        Party {
            person_id: PersonId(person_id),
            institution_id,
        }
    }

    #[test]
    fn nobody_acts_on_their_own_case_or_credential() {
        // The holder is refused whatever the institutions, on both subjects.
        for institution in [None, Some(10)] {
            let me = party(2, institution);
            assert_eq!(may_act_on(me, Subject::Case, me), Err(Conflict::OwnCase));
            assert_eq!(
                may_act_on(me, Subject::Credential, me),
                Err(Conflict::OwnCredential)
            );
        }
    }

    #[test]
    fn a_member_from_the_holders_institution_is_refused() {
        for subject in [Subject::Case, Subject::Credential] {
            assert_eq!(
                may_act_on(party(1, Some(10)), subject, party(2, Some(10))),
                Err(Conflict::SameInstitution)
            );
        }
    }

    #[test]
    fn a_member_from_elsewhere_or_without_institution_may_act() {
        for subject in [Subject::Case, Subject::Credential] {
            assert_eq!(
                may_act_on(party(1, Some(10)), subject, party(2, Some(11))),
                Ok(())
            );
            assert_eq!(
                may_act_on(party(1, None), subject, party(2, Some(10))),
                Ok(())
            );
            assert_eq!(
                may_act_on(party(1, Some(10)), subject, party(2, None)),
                Ok(())
            );
            assert_eq!(may_act_on(party(1, None), subject, party(2, None)), Ok(()));
        }
    }

    fn reader(id: i64, roles: &[Role], institution_id: Option<i64>) -> Actor {
        Actor {
            id: PersonId(id),
            roles: roles.to_vec(),
            institution_id,
        }
    }

    #[test]
    fn a_case_or_credential_is_read_by_its_holder_the_impartial_committee_and_admins() {
        let holder = party(2, Some(10));
        for subject in [Subject::Case, Subject::Credential] {
            // The holder, whatever else they are.
            for roles in [&[Role::Doctor][..], &[Role::Doctor, Role::Committee]] {
                assert_eq!(
                    may_read(&reader(2, roles, Some(10)), subject, holder),
                    Ok(true)
                );
            }
            // A committee member from elsewhere, or from the same institution.
            assert_eq!(
                may_read(&reader(1, &[Role::Committee], Some(11)), subject, holder),
                Ok(true)
            );
            assert_eq!(
                may_read(&reader(1, &[Role::Committee], Some(10)), subject, holder),
                Err(Conflict::SameInstitution)
            );
            // The committee's rule binds an admin who sits on it.
            assert_eq!(
                may_read(
                    &reader(1, &[Role::Admin, Role::Committee], Some(10)),
                    subject,
                    holder
                ),
                Err(Conflict::SameInstitution)
            );
            // An admin who is not on the committee reads to run the programme.
            assert_eq!(
                may_read(&reader(1, &[Role::Admin], Some(10)), subject, holder),
                Ok(true)
            );
            // Nobody else.
            for roles in [
                &[Role::Doctor][..],
                &[Role::Examiner],
                &[Role::ReferralDesk],
                &[],
            ] {
                assert_eq!(
                    may_read(&reader(1, roles, Some(11)), subject, holder),
                    Ok(false)
                );
            }
        }
    }

    #[test]
    fn each_conflict_has_its_own_code() {
        assert_eq!(Conflict::OwnCase.code(), "own_case");
        assert_eq!(Conflict::OwnCredential.code(), "own_credential");
        assert_eq!(Conflict::SameInstitution.code(), "same_institution");
    }

    #[test]
    fn votes_parse() {
        assert_eq!(Vote::parse("approve"), Some(A));
        assert_eq!(Vote::parse("reject"), Some(R));
        assert_eq!(Vote::parse("abstain"), None);
    }
}
