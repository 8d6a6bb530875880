//! Blind double marking of open answers, and releasing results.
//!
//! `allocate` (run by `jobs::grading`) gives every open answer of a
//! submitted attempt to two examiners, and a third when their totals
//! disagree; examiners see only the attempt's code. `submit_marks` records a
//! marking against the rubric and applies the final mark rule of
//! `domain::grading`. The exam's owner releases results once every answer
//! has its final mark; candidates then see them as the review policy allows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::access::Permission;
use crate::domain::banks::{Body, Content};
use crate::domain::exams::ReviewPolicy;
use crate::domain::grading::{
    self, AppealEffect, AppealRule, AppealStatus, Examiner, ItemScore, MarkerRole, Marking,
    SettingStatus,
};
use crate::domain::scoring::Response;
use crate::error::{Error, Result};
use crate::mail::{self, Message};
use crate::services::audit::{self, Outcome};
use crate::services::{
    Caller, Ctx, evidence, person, pipeline, refuse, require, result_link, result_notice,
};
use crate::store::grading::{self as store_grading, NewTask, TaskRow};
use crate::store::training as store_training;
use crate::store::{self, Db, DbConn, banks as store_banks, exams as store_exams, people};

use super::utc;

mod allocation;
mod angoff;
mod appeals;
mod case_answers;
mod marking;
mod release;
mod results;
mod reveal;
mod stations;

pub use allocation::*;
pub use angoff::*;
pub use appeals::*;
pub use case_answers::*;
pub use marking::*;
pub use release::*;
pub use results::*;
pub use reveal::*;
pub use stations::*;

fn content_of(conn: &mut DbConn, version_id: i64) -> Result<Content> {
    let v = store_banks::version_by_id(conn, version_id)?.ok_or(Error::NotFound)?;
    serde_json::from_str(&v.content)
        .map_err(|e| Error::internal_from(format!("stored question {}", v.id), e))
}

fn rubric_of(content: &Content) -> Result<(&str, &[crate::domain::banks::Criterion])> {
    match &content.body {
        Body::Case {
            model_answer,
            rubric,
        } => Ok((model_answer, rubric)),
        _ => Err(Error::internal("a marking task for an objective question")),
    }
}
