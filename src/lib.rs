//! Gatekeeper: trains and certifies community doctors for a hospital alliance.
//! See README.md and docs/ for the map; layers depend downwards:
//! web -> services -> domain and store.

pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
#[cfg(test)]
mod layering;
pub mod mail;
pub mod services;
pub mod startup;
pub mod store;
pub mod web;

rust_i18n::i18n!("locales", fallback = "en");
