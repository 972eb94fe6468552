//! sigtag: promotion gates on OpenPGP-signed git tag chains.
//!
//! Data flows one way, one module per step:
//!
//! ```text
//! git objects -> object (one layer, strict) -> chain (the layers of a ref)
//!   -> verify (which signatures count) -> rule (pure evaluation)
//!   -> report (JSON, one line, explanation)
//! ```
//!
//! `trust` loads the trust root (certificates, groups, rules) and checks it
//! completely before any tag is read. `sign` writes new layers and `remote` publishes them;
//! `cli`, `demo` and `resource` (the Concourse resource type) are thin
//! front ends.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::string_slice,
        clippy::panic,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented
    )
)]

pub mod chain;
pub mod cli;
pub mod demo;
pub mod digest;
pub mod encoding;
pub mod error;
pub mod gate;
pub mod glob;
pub mod limits;
pub mod message;
pub mod names;
pub mod object;
pub mod policy;
pub mod problem;
pub mod remote;
pub mod report;
pub mod resource;
pub mod rule;
pub mod sign;
pub mod time;
pub mod token;
pub mod trust;
pub mod verify;

pub use error::{Cause, Error, ErrorKind, Result};
