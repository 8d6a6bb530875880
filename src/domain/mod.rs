//! Pure rules: no I/O, no database, no HTTP. Every rule lives here once and is
//! unit-tested exhaustively; the other layers call it.

pub mod access;
pub mod institutions;
pub mod locale;
pub mod password;
pub mod people;
pub mod roles;
pub mod sessions;
pub mod tokens;
