//! Learning: the open library, enrolment in tracks, studying lessons, module
//! quizzes with instant feedback, workshop sessions with a waiting list and
//! attendance, and the training record. Whether training is complete is
//! decided by `domain::training::training_completion` over the evidence
//! gathered by `services::evidence::track_training`, the one place the
//! pages, the API and the pipeline get it from.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;
use serde::Serialize;

use crate::domain::access::Permission;
use crate::domain::banks::{Body, Content};
use crate::domain::dates;
use crate::domain::ids::PersonId;
use crate::domain::scoring::{self, ShownAnswer};
use crate::domain::spreadsheet::Csv;
use crate::domain::training::{self, CourseEvidence, QuizCandidate, QuizItem, SignupStatus, Todo};
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{Caller, Ctx, evidence, person, pipeline, refuse, require};
use crate::store::training::{
    self as store_training, CourseRow, LessonHead, ModuleRow, NewSession, SessionRow, TrackRow,
    WorkshopRow,
};
use crate::store::{self, Db, DbConn, banks as store_banks, institutions, people};

use super::utc;

mod courses;
mod progress;
mod quizzes;
mod records;
mod workshops;

pub use courses::*;
pub use progress::*;
pub use quizzes::*;
pub use records::*;
pub use workshops::*;

fn may_manage(caller: &Caller) -> bool {
    crate::domain::access::permits(&caller.principal, Permission::ManageTraining)
}

/// The person whose training a caller asks about: themselves, or (for an
/// admin) anyone. A refusal is audited.
async fn subject(ctx: &Ctx, caller: &Caller, person_id: Option<PersonId>) -> Result<PersonId> {
    let me = person(ctx, caller).await?.id;
    match person_id {
        None => Ok(me),
        Some(id) if id == me => Ok(me),
        Some(id) => {
            require(ctx, caller, Permission::ManageTraining).await?;
            Ok(id)
        }
    }
}
