//! The `jwt-guard` binary run as users run it: exit codes, output, and the token never
//! printed.
// A test crate: its helpers outside #[test] functions may fail loudly too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod check;
mod explain;
mod jwks;
mod support;
