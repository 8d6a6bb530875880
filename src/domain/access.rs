//! Who may do what. Every handler asks `permits` before acting; pages that
//! hide a button are a convenience, never the check.

use crate::domain::ids::PersonId;
use crate::domain::roles::Role;
use crate::domain::tokens::Scope;

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in person (session cookie or personal bearer token).
    Person(Actor),
    /// Another hospital system with an admin-issued token.
    Integration { token_id: i64, scopes: Vec<Scope> },
}

/// A person as far as authorisation cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: PersonId,
    pub roles: Vec<Role>,
    pub institution_id: Option<i64>,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Actions guarded at function level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadInstitutions,
    ManageInstitutions,
    ReadPeople,
    ManagePeople,
    /// Issue, list and revoke integration tokens: admins only, never a token.
    ManageApiTokens,
    /// Read and change one's own account: people only.
    OwnAccount,
    /// Schedule exams and register candidates: admins.
    ManageExams,
    /// Tracks, courses, enrolments, workshop sessions and every doctor's
    /// training record: admins.
    ManageTraining,
    /// Mark open answers assigned to oneself: examiners.
    Mark,
    /// See item analysis and keep or remove flagged questions: the
    /// committee (and admins, who run the exams).
    ReviewQuestions,
    /// Study the open library, enrol, take quizzes, sign up for workshops:
    /// doctors (and admins, to see what doctors see).
    Study,
    /// Apply for certification and follow one's own case: doctors.
    Certify,
    /// See every certification case and the funnel: the committee and admins.
    ReadCases,
    /// Vote on cases; suspend, reinstate and revoke credentials; set track
    /// policy: committee members only (an admin is not the committee).
    Decide,
    /// Open green-channel referrals (the gate then checks the credential)
    /// and enter community visits: doctors.
    Refer,
    /// Manage departments and capacity, and act on referrals to one's own
    /// hospital: the referral desk.
    Desk,
    /// The alliance's referral dashboard and flagged doctors: the committee
    /// and admins.
    ReadReferrals,
    /// Ask whether a doctor may refer now: integrations with the
    /// `credentials:introspect` scope, and admins.
    Introspect,
}

impl Permission {
    pub const ALL: [Permission; 18] = [
        Permission::ReadInstitutions,
        Permission::ManageInstitutions,
        Permission::ReadPeople,
        Permission::ManagePeople,
        Permission::ManageApiTokens,
        Permission::OwnAccount,
        Permission::ManageExams,
        Permission::ManageTraining,
        Permission::Study,
        Permission::Mark,
        Permission::ReviewQuestions,
        Permission::Certify,
        Permission::ReadCases,
        Permission::Decide,
        Permission::Refer,
        Permission::Desk,
        Permission::ReadReferrals,
        Permission::Introspect,
    ];
}

pub fn permits(principal: &Principal, permission: Permission) -> bool {
    match principal {
        Principal::Person(actor) => match permission {
            // Every signed-in person sees the alliance's institutions.
            Permission::ReadInstitutions | Permission::OwnAccount => true,
            Permission::ManageInstitutions
            | Permission::ReadPeople
            | Permission::ManagePeople
            | Permission::ManageApiTokens
            | Permission::ManageExams
            | Permission::ManageTraining => actor.has(Role::Admin),
            Permission::Study => actor.has(Role::Doctor) || actor.has(Role::Admin),
            // Admins do not mark unless they are examiners too.
            Permission::Mark => actor.has(Role::Examiner),
            Permission::ReviewQuestions | Permission::ReadCases => {
                actor.has(Role::Committee) || actor.has(Role::Admin)
            }
            Permission::Certify | Permission::Refer => actor.has(Role::Doctor),
            Permission::Desk => actor.has(Role::ReferralDesk),
            Permission::ReadReferrals => actor.has(Role::Committee) || actor.has(Role::Admin),
            Permission::Introspect => actor.has(Role::Admin),
            Permission::Decide => actor.has(Role::Committee),
        },
        Principal::Integration { scopes, .. } => {
            let needed = match permission {
                Permission::ReadInstitutions => {
                    return scopes.contains(&Scope::InstitutionsRead)
                        || scopes.contains(&Scope::InstitutionsWrite);
                }
                Permission::ReadPeople => {
                    return scopes.contains(&Scope::PeopleRead)
                        || scopes.contains(&Scope::PeopleWrite);
                }
                Permission::ManageInstitutions => Scope::InstitutionsWrite,
                Permission::ManagePeople => Scope::PeopleWrite,
                Permission::Introspect => Scope::CredentialsIntrospect,
                Permission::ManageApiTokens
                | Permission::OwnAccount
                | Permission::ManageExams
                | Permission::ManageTraining
                | Permission::Study
                | Permission::Mark
                | Permission::ReviewQuestions
                | Permission::Certify
                | Permission::ReadCases
                | Permission::Decide
                | Permission::Refer
                | Permission::Desk
                | Permission::ReadReferrals => {
                    return false;
                }
            };
            scopes.contains(&needed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(roles: &[Role]) -> Principal {
        Principal::Person(Actor {
            id: PersonId(1),
            roles: roles.to_vec(),
            institution_id: None,
        })
    }

    fn integration(scopes: &[Scope]) -> Principal {
        Principal::Integration {
            token_id: 9,
            scopes: scopes.to_vec(),
        }
    }

    #[test]
    fn admins_may_do_everything_but_mark_certify_and_decide() {
        for p in Permission::ALL {
            let expected = !matches!(
                p,
                Permission::Mark
                    | Permission::Certify
                    | Permission::Decide
                    | Permission::Refer
                    | Permission::Desk
            );
            assert_eq!(permits(&person(&[Role::Admin]), p), expected, "{p:?}");
        }
        for p in Permission::ALL.into_iter().filter(|p| {
            !matches!(
                p,
                Permission::Mark
                    | Permission::Certify
                    | Permission::Decide
                    | Permission::Refer
                    | Permission::Desk
            )
        }) {
            assert!(permits(&person(&[Role::Admin]), p), "{p:?}");
        }
    }

    #[test]
    fn other_roles_only_read_institutions_and_own_account() {
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Admin) {
            for p in Permission::ALL {
                let expected = matches!(p, Permission::ReadInstitutions | Permission::OwnAccount)
                    || (role == Role::Doctor
                        && matches!(
                            p,
                            Permission::Study | Permission::Certify | Permission::Refer
                        ))
                    || (role == Role::Examiner && p == Permission::Mark)
                    || (role == Role::ReferralDesk && p == Permission::Desk)
                    || (role == Role::Committee
                        && matches!(
                            p,
                            Permission::ReviewQuestions
                                | Permission::ReadCases
                                | Permission::Decide
                                | Permission::ReadReferrals
                        ));
                assert_eq!(permits(&person(&[role]), p), expected, "{role:?} {p:?}");
            }
        }
        // A person with no roles at all still owns their account.
        assert!(permits(&person(&[]), Permission::OwnAccount));
        assert!(!permits(&person(&[]), Permission::ManagePeople));
    }

    #[test]
    fn integrations_get_exactly_their_scopes() {
        let none = integration(&[]);
        for p in Permission::ALL {
            assert!(!permits(&none, p));
        }
        let read = integration(&[Scope::InstitutionsRead, Scope::PeopleRead]);
        assert!(permits(&read, Permission::ReadInstitutions));
        assert!(permits(&read, Permission::ReadPeople));
        assert!(!permits(&read, Permission::ManageInstitutions));
        assert!(!permits(&read, Permission::ManagePeople));
        assert!(!permits(&read, Permission::Introspect));
        let introspect = integration(&[Scope::CredentialsIntrospect]);
        assert!(permits(&introspect, Permission::Introspect));
        assert!(!permits(&introspect, Permission::ReadPeople));
        assert!(
            !permits(&introspect, Permission::Refer),
            "a system never refers"
        );
        let write = integration(&[Scope::InstitutionsWrite, Scope::PeopleWrite]);
        assert!(
            permits(&write, Permission::ReadInstitutions),
            "write implies read"
        );
        assert!(permits(&write, Permission::ReadPeople));
        assert!(permits(&write, Permission::ManageInstitutions));
        assert!(permits(&write, Permission::ManagePeople));
        let all = integration(&Scope::ALL);
        assert!(
            !permits(&all, Permission::ManageApiTokens),
            "tokens never mint tokens"
        );
        assert!(!permits(&all, Permission::OwnAccount));
        assert!(!permits(&all, Permission::Study));
        assert!(!permits(&all, Permission::ManageTraining));
    }
}
