//! The alliance at a glance, first on the dashboard: its institutions, the
//! doctors in the programme, the alliance doctors and their credentials,
//! and the training done in the last twelve months.

use serde::Serialize;

use crate::domain::access::Permission;
use crate::domain::credentials::{self as credential, Status};
use crate::domain::institutions::Level;
use crate::domain::pipeline::Kind;
use crate::error::Result;
use crate::services::{Caller, Ctx, require, utc};
use crate::store::{
    self, credentials as store_credentials, institutions as store_inst, pipeline as store_pipeline,
};

/// The alliance at a glance: institutions, doctors in the programme, credentials, and
/// training in the last 12 months.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    /// Tertiary hospitals.
    pub tertiary_hospitals: i64,
    /// Secondary hospitals.
    pub secondary_hospitals: i64,
    /// Community health centres and township health centres.
    pub community_institutions: i64,
    /// Of those, members of the alliance (their doctors may be certified).
    pub community_members: i64,
    /// Doctors who opened a certification case in the last 12 months, and
    /// ever.
    pub applicants_last_12_months: i64,
    /// Doctors who ever opened a first-certification case.
    pub applicants: i64,
    /// Doctors ever certified: the alliance doctors.
    pub alliance_doctors: i64,
    /// Credentials active now.
    pub credentials_active: i64,
    /// Credentials suspended now.
    pub credentials_suspended: i64,
    /// Credentials revoked.
    pub credentials_revoked: i64,
    /// Credentials expired (past their validity).
    pub credentials_expired: i64,
    /// Lessons studied and quizzes submitted in the last 12 months.
    pub lessons_studied: i64,
    /// Module quizzes submitted in the last 12 months.
    pub quizzes_submitted: i64,
}

pub async fn alliance(ctx: &Ctx, caller: &Caller) -> Result<Overview> {
    require(ctx, caller, Permission::ReadReferrals).await?;
    ctx.db
        .read(|conn| {
            let now = store::now();
            let year_ago = now - chrono::Duration::days(365);
            let mut o = Overview::default();
            for (level, member, n) in store_inst::counts(conn)? {
                match level {
                    Level::Tertiary => o.tertiary_hospitals += n,
                    Level::Secondary => o.secondary_hospitals += n,
                    Level::Community | Level::Township => {
                        o.community_institutions += n;
                        if member {
                            o.community_members += n;
                        }
                    }
                }
            }
            (o.applicants_last_12_months, o.applicants) =
                store_pipeline::applicants(conn, Kind::Initial, year_ago)?;
            o.alliance_doctors = store_credentials::certified_people(conn)?;
            for (stored, until) in store_credentials::statuses(conn)? {
                match credential::effective(stored, utc(until), utc(now)) {
                    Status::Active => o.credentials_active += 1,
                    Status::Suspended => o.credentials_suspended += 1,
                    Status::Revoked => o.credentials_revoked += 1,
                    Status::Expired => o.credentials_expired += 1,
                }
            }
            (o.lessons_studied, o.quizzes_submitted) =
                store::training::completions_since(conn, year_ago)?;
            Ok(o)
        })
        .await
}
