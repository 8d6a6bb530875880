//! `gatekeeper demo`: a living alliance, built through the services.
//!
//! The builder writes a script of the alliance's past (`script`): who joins,
//! studies, sits which exam, how the committee votes, which children are
//! referred. Every line is an event at a moment; the events are sorted by
//! time and played through the same services the pages and the API call,
//! with the clock (`crate::clock`) set to each event's moment. So the demo
//! can only show states the product can reach: the pipeline moves cases on
//! its evidence, the gate refuses a referral without a live credential, the
//! examiners mark blind.
//!
//! The alliance is modelled on the programme's published figures (see
//! [`Figures::planned`]); everything is deterministic from the seed except
//! which questions a paper or quiz draws (the product draws those from its
//! own random seeds), which changes no figure.

mod alliance;
pub mod answers;
mod people;
mod play;
mod script;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::domain::numbers::{count_f64, whole_i64, whole_usize};
use crate::error::{Error, Result};
use crate::services::Ctx;
use crate::store::Db;

pub use people::{DEMO_DOMAIN, DEMO_PASSWORD, SignIn};

/// How large an alliance to build.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    /// Doctors in the current cohort (the programme's: 458). Everything
    /// else scales with it.
    pub cohort: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 2026,
            cohort: FULL_COHORT,
        }
    }
}

/// The programme's cohort.
pub const FULL_COHORT: usize = 458;

/// The smallest cohort that still has a doctor at every stage, and the
/// largest the builder is meant for.
pub const COHORT_RANGE: std::ops::RangeInclusive<usize> = 20..=10_000;

impl Options {
    /// Refuses a size the demo cannot show faithfully, naming the option.
    pub fn check(&self) -> Result<()> {
        if COHORT_RANGE.contains(&self.cohort) {
            Ok(())
        } else {
            Err(Error::invalid(
                "cohort",
                format!(
                    "must be from {} to {} doctors (the programme's cohort is {FULL_COHORT})",
                    COHORT_RANGE.start(),
                    COHORT_RANGE.end()
                ),
            ))
        }
    }
}

/// The figures the demo reproduces, scaled to the cohort (at 458 they are
/// the programme's published ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub districts: usize,
    pub mch_hospitals: usize,
    pub community_institutions: usize,
    pub alliance_members: usize,
    /// Doctors of the current cohort, at every stage of the pipeline.
    pub cohort: usize,
    /// Certified from the current cohort (about 3%).
    pub cohort_certified: usize,
    /// Certified in earlier cohorts.
    pub earlier_certified: usize,
    /// Earlier credentials renewed, suspended, revoked; the rest expired.
    pub renewed: usize,
    pub suspended: usize,
    pub revoked: usize,
    /// Community first visits in the last 12 months.
    pub first_visits: i64,
    /// Green-channel referrals up, and how many came back down.
    pub referrals: usize,
    pub referred_back: usize,
}

impl Figures {
    /// The plan for a cohort of `cohort` doctors.
    // Figures rounded from a cohort's size: whole, positive and far below
    // the integers' range, so no cast here cuts one short.
    pub fn planned(cohort: usize) -> Figures {
        let (cohort_f, full_cohort) = (count_f64(cohort), count_f64(FULL_COHORT));
        let scale =
            |full: f64, min: usize| whole_usize((full * cohort_f / full_cohort).round()).max(min);
        let earlier_certified = scale(59.0, 4);
        let referrals = scale(188.0, 8);
        Figures {
            districts: 9,
            mch_hospitals: 8,
            community_institutions: scale(107.0, 6),
            alliance_members: scale(60.0, 4),
            cohort,
            cohort_certified: scale(0.03 * full_cohort, 1),
            earlier_certified,
            renewed: (earlier_certified * 7).div_ceil(10),
            suspended: if earlier_certified >= 10 { 2 } else { 1 },
            revoked: 1,
            first_visits: whole_i64((19_106.0 * cohort_f / full_cohort).round()),
            referrals,
            referred_back: (referrals * 3).div_ceil(4),
        }
    }

    /// Every doctor ever certified (the programme's 73 alliance doctors).
    pub fn alliance_doctors(&self) -> usize {
        self.cohort_certified + self.earlier_certified
    }
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct Report {
    pub figures: Figures,
    pub sign_ins: Vec<SignIn>,
    /// Lesson and quiz completions played.
    pub completions: usize,
    /// Events played, and where the time went (phase, events, time).
    pub events: usize,
    pub phases: Vec<(String, usize, Duration)>,
    pub elapsed: Duration,
}

/// Whether the database may hold the demo: empty, or holding only demo
/// people (every address at [`DEMO_DOMAIN`]). Anything else is refused, so
/// the demo can never be built into a real alliance's database.
pub fn check_database(db: &Db) -> Result<DatabaseState> {
    let emails = db.read_blocking(|conn| Ok(crate::store::people::all_emails(conn)?))?;
    if emails.is_empty() {
        return Ok(DatabaseState::Empty);
    }
    let suffix = format!("@{DEMO_DOMAIN}");
    match emails.iter().find(|e| !e.ends_with(&suffix)) {
        Some(other) => Err(Error::conflict(
            "database",
            format!(
                "holds data that is not the demo's ({other}); the demo only uses an empty database or its own"
            ),
        )),
        None => Ok(DatabaseState::Demo),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseState {
    Empty,
    Demo,
}

/// Empties a demo database for a rebuild (dropping and re-creating its
/// tables). Refuses, like the build, a database with other data.
pub fn clear(db: &Db) -> Result<()> {
    check_database(db)?;
    db.outside_transaction(crate::store::drop_all_tables)?;
    db.migrate()?;
    Ok(())
}

/// The demo's sign-ins as stored: everyone with a password, by role.
pub fn sign_ins(db: &Db) -> Result<Vec<SignIn>> {
    use crate::domain::roles::Role;
    db.read_blocking(|conn| {
        let mut out = Vec::new();
        for person in crate::store::people::list(conn)? {
            if person.password_hash.is_none() {
                continue;
            }
            let roles = crate::store::people::roles_of(conn, person.id)?;
            let role = if roles.contains(&Role::Admin) {
                "admin"
            } else if roles.contains(&Role::Doctor) {
                if crate::store::credentials::credentials_of(conn, person.id)?.is_empty() {
                    "doctor in training"
                } else {
                    "certified doctor"
                }
            } else if roles.contains(&Role::Committee) {
                "committee member"
            } else if roles.contains(&Role::Examiner) {
                "examiner"
            } else if roles.contains(&Role::ReferralDesk) {
                "referral desk"
            } else {
                "instructor"
            };
            out.push(SignIn {
                role,
                email: person.email,
                name: person.name,
            });
        }
        let order = |r: &str| {
            [
                "doctor in training",
                "certified doctor",
                "examiner",
                "committee member",
                "referral desk",
                "instructor",
                "admin",
            ]
            .iter()
            .position(|x| *x == r)
            .unwrap_or(9)
        };
        out.sort_by(|a, b| {
            order(a.role)
                .cmp(&order(b.role))
                .then(a.email.cmp(&b.email))
        });
        out.dedup_by(|a, b| a.role == b.role);
        Ok(out)
    })
}

/// The file in the demo's data directory that says a build finished (and
/// with which seed and size); without it a demo database is rebuilt.
pub fn done_marker(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("demo-complete")
}

/// Builds the alliance into an empty database: imports the courses and
/// banks of the settings' folders, then plays the script. The clock is
/// back at the real time when it returns, whatever happened.
pub async fn build(ctx: &Ctx, options: Options) -> Result<Report> {
    options.check()?;
    let started = Instant::now();
    ctx.db.bulk_load()?;
    let result = play::run(ctx, options).await;
    crate::clock::reset();
    ctx.db.durable()?;
    let mut report = result?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Midnight (UTC) of the day `days` from today, plus `hours`.
/// The `n`-th of `items`, round and round (`None` when there are none).
pub(crate) fn pick<T: Copy>(items: &[T], n: usize) -> Option<T> {
    items.get(n.checked_rem(items.len())?).copied()
}

pub(crate) fn day(days: i64, hours: i64) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let midnight = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    midnight + chrono::Duration::days(days) + chrono::Duration::hours(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cohort_too_small_or_too_large_is_refused_by_name() {
        for cohort in [0, 19, 10_001] {
            let err = Options { seed: 1, cohort }.check().unwrap_err();
            assert!(
                matches!(&err, Error::Invalid { field, .. } if field == "cohort"),
                "{err}"
            );
        }
        for cohort in [20, FULL_COHORT, 10_000] {
            assert!(Options { seed: 1, cohort }.check().is_ok());
        }
    }

    #[test]
    fn the_full_plan_is_the_programme_figures() {
        let f = Figures::planned(FULL_COHORT);
        assert_eq!(
            (
                f.community_institutions,
                f.alliance_members,
                f.cohort_certified
            ),
            (107, 60, 14)
        );
        assert_eq!(f.alliance_doctors(), 73);
        assert_eq!(
            (f.first_visits, f.referrals, f.referred_back),
            (19_106, 188, 141)
        );
    }
}
