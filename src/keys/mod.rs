//! Signer keys: what a signer of the trust root holds, and which signer
//! holds a given key, whatever the scheme.
//!
//! A signer's [`Keys`] come from its file (`keys/alice.asc`, or the
//! resource's `source.signers.alice`); each scheme reads its own part
//! (today [`openpgp`]: certificates; SSH public keys, DESIGN §8, will be a
//! sibling). The [`Keyring`] indexes every signer's keys for the lookup a
//! signature starts from.
//!
//! Invariants:
//! - a signer's [`Keys`] hold at least one key, public material only, and
//!   at most [`MAX_CERTS_PER_SIGNER`] certificates;
//! - in a [`Keyring`] no key (primary or subkey) belongs to two signers.
//!
//! This module knows signers only by their index and name: names, groups
//! and rules are [`crate::trust`]'s.

pub mod openpgp;

use crate::error::Result;

pub use crate::limits::MAX_CERTS_PER_SIGNER;

/// The keys of one signer: every key that speaks for it.
#[derive(Debug, Clone)]
pub struct Keys {
    openpgp: Vec<sequoia_openpgp::Cert>,
}

impl Keys {
    /// Reads the keys of one signer file; `origin` names it in messages.
    pub fn parse(origin: &str, bytes: &[u8]) -> Result<Keys> {
        Ok(Keys {
            openpgp: openpgp::parse_certs(origin, bytes)?,
        })
    }

    /// The signer's OpenPGP certificates.
    pub fn openpgp(&self) -> &[sequoia_openpgp::Cert] {
        &self.openpgp
    }

    /// The keys as one canonical byte string, whatever form their file
    /// had (see [`openpgp::canonical`]): what the trust digest hashes.
    pub fn canonical(&self) -> Result<Vec<u8>> {
        openpgp::canonical(&self.openpgp)
    }

    /// The email addresses the keys name (user IDs), lower-case, sorted,
    /// each once: what a commit's author is matched against.
    pub fn emails(&self) -> Vec<String> {
        let mut out: Vec<String> = self.openpgp.iter().flat_map(openpgp::emails).collect();
        out.sort();
        out.dedup();
        out
    }
}

/// Anything that holds a signer's keys (a trust root's signer).
pub trait HoldsKeys {
    fn keys(&self) -> &Keys;
}

impl HoldsKeys for Keys {
    fn keys(&self) -> &Keys {
        self
    }
}

/// Which signer holds which key, over the signers of one trust root
/// (numbered by their index).
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    openpgp: openpgp::Index,
}

impl Keyring {
    /// Indexes the keys of `signers` (name and keys, in index order),
    /// refusing a key that two signers hold.
    pub fn build<'a>(signers: impl IntoIterator<Item = (&'a str, &'a Keys)>) -> Result<Keyring> {
        let signers: Vec<(&str, &Keys)> = signers.into_iter().collect();
        Ok(Keyring {
            openpgp: openpgp::Index::build(&signers)?,
        })
    }

    /// The index of OpenPGP keys.
    pub fn openpgp(&self) -> &openpgp::Index {
        &self.openpgp
    }
}
