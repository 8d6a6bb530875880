//! Integration tests: the real application over HTTP, every scenario on
//! SQLite and on PostgreSQL (see helpers.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)]
// A scenario reads best as one story from request to check, however long.
#![allow(clippy::too_many_lines)]
#![allow(
    clippy::indexing_slicing,
    clippy::as_conversions,
    reason = "tests index and cast the fixtures and answers they check; a panic is a failed test"
)]

mod contract;
mod helpers;

mod chrome;

mod accounts;
mod admin;
mod api;
mod audit;
mod authorisation;
mod banks;
mod browser;
mod certificate_pdf;
mod certification;
mod conflicts;
mod doctor_pages;
mod exams;
mod fair;
mod fuzz;
mod grading;
mod group_commit;
mod instances;
mod mail;
mod operations;
mod photos;
mod proxies;
mod referrals;
mod responses;
mod security;
mod training;
mod walks;
