//! sigtag: promotion gates on OpenPGP-signed git tag chains.
//!
//! Data flows one way, one module per step:
//!
//! ```text
//! git objects -> object (one layer, strict) -> chain (the layers of a ref)
//!   -> verify (which signatures count) -> rule (pure evaluation)
//!   -> verdict (plain data) -> render (one line, JSON, explanation)
//! ```
//!
//! `verdict::Gate` is the one entry point that judges a tag for an
//! environment; every front end goes through it. `trust` loads the trust
//! root (certificates, groups, rules) and checks it completely before any
//! tag is read. `sign` writes new layers and `remote` publishes them;
//! `resource` (the Concourse resource type) is a thin front end, and so
//! are the command line and the demo, which live in the `sigtag` binary
//! (src/main.rs), not in this library.

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
pub mod error;
pub mod gate;
pub mod glob;
pub mod message;
pub mod object;
pub mod policy;
pub mod problem;
pub mod remote;
pub mod render;
pub mod report;
pub mod resource;
pub mod rule;
pub mod sign;
pub mod token;
pub mod trust;
pub mod verdict;
pub mod verify;

pub use error::{Error, ErrorKind, Result};
