//! Signer keys: what a signer of the trust root holds, and which signer
//! holds a given key, whatever the scheme.
//!
//! A signer's [`Keys`] come from its files (`keys/alice.asc` and
//! `keys/alice.pub`, or the resource's `source.signers.alice`); each
//! scheme reads its own part ([`openpgp`]: certificates; [`ssh`]: OpenSSH
//! public keys, DESIGN §8). The [`Keyring`] indexes every signer's keys
//! for the lookup a signature starts from, and the SSH keys revoked in
//! `revoked.pub`.
//!
//! Invariants:
//! - a signer's [`Keys`] hold at least one key (a certificate or an SSH
//!   key), public material only, at most [`MAX_CERTS_PER_SIGNER`]
//!   certificates and [`crate::limits::MAX_SSH_KEYS_PER_SIGNER`] SSH keys;
//! - in a [`Keyring`] no key (OpenPGP primary or subkey, SSH key) belongs
//!   to two signers.
//!
//! This module knows signers only by their index and name: names, groups
//! and rules are [`crate::trust`]'s.

pub mod openpgp;
pub mod ssh;

use crate::error::Result;

pub use crate::limits::MAX_CERTS_PER_SIGNER;

/// The keys of one signer: every key that speaks for it.
#[derive(Debug, Clone)]
pub struct Keys {
    openpgp: Vec<sequoia_openpgp::Cert>,
    ssh: Vec<ssh::SshKey>,
}

impl Keys {
    /// Reads the keys of one certificate file (`.asc`, `.pgp`, `.gpg`);
    /// `origin` names it in messages.
    pub fn parse(origin: &str, bytes: &[u8]) -> Result<Keys> {
        Ok(Keys {
            openpgp: openpgp::parse_certs(origin, bytes)?,
            ssh: Vec::new(),
        })
    }

    /// Reads the keys of one SSH key file (`NAME.pub`).
    pub fn parse_ssh(origin: &str, bytes: &[u8]) -> Result<Keys> {
        Ok(Keys {
            openpgp: Vec::new(),
            ssh: ssh::parse_signer_file(origin, bytes)?,
        })
    }

    /// Reads a text that may hold armored certificates, OpenSSH public key
    /// lines, or both (the resource's `source.signers` values). A text with
    /// no SSH key line is read as certificates alone, as [`Keys::parse`]
    /// does.
    pub fn parse_text(origin: &str, bytes: &[u8]) -> Result<Keys> {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Keys::parse(origin, bytes);
        };
        let mut armor = String::new();
        let mut lines = String::new();
        let mut inside = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("-----BEGIN ") {
                inside = true;
            }
            if inside {
                armor.push_str(line);
                armor.push('\n');
            } else if ssh::is_key_line(t) {
                lines.push_str(t);
                lines.push('\n');
            } else if !t.is_empty() && !t.starts_with('#') {
                // Neither: leave the whole text to the certificate reader,
                // whose message says what a certificate looks like.
                return Keys::parse(origin, bytes);
            }
            if t.starts_with("-----END ") {
                inside = false;
            }
        }
        if lines.is_empty() {
            return Keys::parse(origin, bytes);
        }
        let openpgp = if armor.trim().is_empty() {
            Vec::new()
        } else {
            openpgp::parse_certs(origin, armor.as_bytes())?
        };
        Ok(Keys {
            openpgp,
            ssh: ssh::parse_signer_file(origin, lines.as_bytes())?,
        })
    }

    /// One signer's keys from two files (`alice.asc` and `alice.pub`).
    pub fn merge(mut self, other: Keys) -> Keys {
        self.openpgp.extend(other.openpgp);
        self.ssh.extend(other.ssh);
        self
    }

    /// The signer's OpenPGP certificates.
    pub fn openpgp(&self) -> &[sequoia_openpgp::Cert] {
        &self.openpgp
    }

    /// The signer's SSH public keys.
    pub fn ssh(&self) -> &[ssh::SshKey] {
        &self.ssh
    }

    /// The keys as one canonical byte string, whatever form their file
    /// had (see [`openpgp::canonical`] and [`ssh::canonical`]): what the
    /// trust digest hashes. Without SSH keys, the certificates' bytes
    /// alone.
    pub fn canonical(&self) -> Result<Vec<u8>> {
        let mut out = openpgp::canonical(&self.openpgp)?;
        if !self.ssh.is_empty() {
            let ssh = ssh::canonical(&self.ssh);
            out.extend_from_slice(b"sigtag ssh keys");
            out.extend_from_slice(&(ssh.len() as u64).to_be_bytes());
            out.extend_from_slice(&ssh);
        }
        Ok(out)
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
    ssh: ssh::Index,
}

impl Keyring {
    /// Indexes the keys of `signers` (name and keys, in index order),
    /// refusing a key that two signers hold.
    pub fn build<'a>(signers: impl IntoIterator<Item = (&'a str, &'a Keys)>) -> Result<Keyring> {
        Keyring::build_revoking(signers, &[])
    }

    /// [`Keyring::build`], with the SSH keys of `revoked.pub`.
    pub fn build_revoking<'a>(
        signers: impl IntoIterator<Item = (&'a str, &'a Keys)>,
        revoked: &[ssh::SshKey],
    ) -> Result<Keyring> {
        let signers: Vec<(&str, &Keys)> = signers.into_iter().collect();
        Ok(Keyring {
            openpgp: openpgp::Index::build(&signers)?,
            ssh: ssh::Index::build(&signers, revoked)?,
        })
    }

    /// The index of OpenPGP keys.
    pub fn openpgp(&self) -> &openpgp::Index {
        &self.openpgp
    }

    /// The index of SSH keys.
    pub fn ssh(&self) -> &ssh::Index {
        &self.ssh
    }
}
