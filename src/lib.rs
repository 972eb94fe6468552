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
//! environment; every front end goes through it. For a rule with
//! transition atoms (DESIGN §6) it reads the tag's base and range through
//! `transition`, judging the environment's older tags first. `trust` loads the trust
//! root (certificates, groups, rules) and checks it completely before any
//! tag is read; `health` judges a loaded trust root's keys (`sigtag
//! keys`), and `resource::fragment` turns it into the resource's `source`
//! (`sigtag keys source`). `audit` gathers, around the verdicts on an
//! environment's tags, the evidence `sigtag audit` reports (bases, ranges,
//! the builds layers name), which `render::audit` renders; `attest` turns
//! a verdict into an in-toto statement with a SLSA Verification Summary
//! (signed in a DSSE envelope on request), for `sigtag attest` and the
//! resource's `in`. `sign` writes new layers and `remote` publishes them;
//! `resource` (the Concourse resource type) is a thin front end, and so
//! are the command line and the demo, which live in the `sigtag` binary
//! (src/main.rs), not in this library.
//!
//! Signature schemes sit behind one seam: `keys`, `verify` and `sign`
//! each speak of signers, keys and signatures, and keep everything of a
//! scheme in a module of its own (`keys::openpgp`, `verify::openpgp`,
//! `sign::openpgp`; for SSH, DESIGN §8, `keys::ssh`, `verify::ssh` and
//! `sign::ssh`, which also speaks to ssh-agent). `token` (gpg-agent,
//! OpenPGP cards, and which ssh-agent key signs) reaches trust through
//! `keys::openpgp` and `keys::ssh`.
//!
//! No two modules import each other: `keys` depends on none of the
//! others, `trust` on `keys`, `verify` on `trust` (never on `render` or
//! `sign`), `verdict` on `verify`, `render` on `verdict`, `sign` on
//! `verdict`, and `attest` on `verdict`, `sign` and `remote`'s URLs. The leaves `limits` (every bound the docs promise), `date`,
//! `names`, `encoding`, `digest` and `message` import nothing of the
//! crate's pipeline; messages are built from `limits`.

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

pub mod attest;
pub mod audit;
pub mod chain;
pub mod date;
pub mod digest;
pub mod encoding;
pub mod error;
pub mod gate;
pub mod glob;
pub mod health;
pub mod keys;
pub mod limits;
pub mod message;
pub mod names;
pub mod object;
pub use verify::openpgp::policy;
pub mod problem;
pub mod remote;
pub mod render;
pub mod resource;
pub mod rule;
pub mod sign;
#[cfg(test)]
mod testing;
pub mod token;
pub mod transition;
pub mod trust;
pub mod verdict;
pub mod verify;

pub use error::{Cause, Error, ErrorKind, Result};
