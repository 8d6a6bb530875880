//! Background work that runs inside every server instance. Jobs claim their
//! work with row locks, so several instances never do the same job twice.

pub mod certification;
pub mod exams;
pub mod grading;
pub mod idempotency;
pub mod mail;
pub mod sessions;
pub mod training;
