//! Pure rules: no I/O, no database, no HTTP. Every rule lives here once and is
//! unit-tested exhaustively; the other layers call it.

pub mod access;
pub mod analysis;
pub mod audit_chain;
pub mod badge_image;
pub mod banks;
pub mod committee;
pub mod courses;
pub mod credential;
pub mod dates;
pub mod exams;
pub mod fhir;
pub mod gift;
pub mod grading;
pub mod idempotency;
pub mod institutions;
pub mod locale;
pub mod markdown;
pub mod moodle;
pub mod moodle_xml;
pub mod next_step;
pub mod papers;
pub mod password;
pub mod people;
pub mod photo;
pub mod pipeline;
pub mod referral;
pub mod roles;
pub mod scoring;
pub mod sessions;
pub mod signing;
pub mod spreadsheet;
pub mod status_list;
pub mod throttle;
pub mod tokens;
pub mod training;
