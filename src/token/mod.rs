//! Signing with keys that never leave a token: through a running gpg-agent
//! ([`agent`], which reaches a YubiKey through scdaemon) or directly on an
//! OpenPGP card over PC/SC ([`card`]).
//!
//! An SSH key may also stay in a running ssh-agent ([`ssh_agent`]).
//!
//! Whatever signs, the key must be one the keys directory counts:
//! [`check_counts`] refuses any other key before a layer is written, and
//! names the signer file the certificate (or SSH public key) belongs in. The public
//! certificate of a token key always comes from the keys directory, so
//! neither path reads gpg's keyring or runs gpg.

pub mod agent;
pub mod card;
pub mod ssh_agent;

use crate::error::{clean, Error, Result};
use crate::sign::ssh::SshSigningKey;
use crate::sign::SigningKey;
use crate::trust::{Signer, Trust};
use openpgp::cert::amalgamation::ValidAmalgamation as _;
use openpgp::crypto::mpi;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::Key;
use openpgp::types::{HashAlgorithm, RevocationStatus};
use openpgp::{Cert, Fingerprint, KeyHandle, KeyID};
use sequoia_openpgp as openpgp;
use std::path::Path;
use std::time::SystemTime;

/// A signing key found in the keys directory: the signer, the certificate
/// and the key's fingerprint.
#[derive(Debug, Clone)]
pub struct Found {
    pub signer: String,
    pub cert: Cert,
    pub key: Fingerprint,
}

/// The signer file of `name` in `dir`, for messages.
pub fn signer_file(trust_dir: &Path, name: &str) -> String {
    trust_dir.join(format!("{name}.asc")).display().to_string()
}

/// The signer and certificate that hold the key `fpr`, if any.
pub fn owner_of<'t>(trust: &'t Trust, fpr: &Fingerprint) -> Option<(&'t Signer, &'t Cert)> {
    trust
        .keyring()
        .openpgp()
        .candidates(&KeyID::from(fpr), trust.signers())
        .find(|(_, _, cert)| cert.keys().any(|k| &k.key().fingerprint() == fpr))
        .map(|(_, signer, cert)| (signer, cert))
}

/// Is key `fpr` of `cert` able to make a signature that counts now? The
/// reason if not.
pub fn usable_for_signing(cert: &Cert, fpr: &Fingerprint) -> std::result::Result<(), String> {
    let policy = crate::policy::Policy::new();
    let now = SystemTime::now();
    let vc = cert
        .with_policy(&policy, now)
        .map_err(|e| format!("the certificate is not valid: {}", clean(&e.to_string())))?;
    if let RevocationStatus::Revoked(_) = vc.revocation_status() {
        return Err("the certificate is revoked".into());
    }
    let ka = vc
        .keys()
        .key_handle(fpr.clone())
        .next()
        .ok_or_else(|| "the key is not valid under the standard policy".to_string())?;
    if !ka.for_signing() {
        return Err("it is not a signing key".into());
    }
    if let RevocationStatus::Revoked(_) = ka.revocation_status() {
        return Err("it is revoked".into());
    }
    ka.alive()
        .map_err(|e| format!("it is not alive: {}", clean(&e.to_string())))?;
    Ok(())
}

/// The signer whose certificates share an email address with `cert`'s
/// user IDs.
fn signer_by_email(trust: &Trust, cert: &Cert) -> Option<String> {
    let emails: Vec<String> = cert
        .userids()
        .filter_map(|u| u.userid().email().ok().flatten())
        .map(|e| e.to_lowercase())
        .collect();
    trust
        .signers()
        .iter()
        .find(|s| {
            s.keys.openpgp().iter().any(|c| {
                c.userids().any(|u| {
                    u.userid()
                        .email()
                        .ok()
                        .flatten()
                        .is_some_and(|e| emails.contains(&e.to_lowercase()))
                })
            })
        })
        .map(|s| s.name.clone())
}

/// Refuses to sign with a key that the keys directory `dir` would not
/// count: it must be a live, unrevoked signing key of one signer's
/// certificate. Returns the signer's name.
pub fn check_counts(trust: &Trust, dir: &Path, key: &SigningKey) -> Result<String> {
    let key = match key {
        SigningKey::OpenPgp(key) => key,
        SigningKey::Ssh(key) => return check_ssh_counts(trust, dir, key),
    };
    let fpr = key.fingerprint();
    let shown = dir.display();
    let Some((signer, cert)) = owner_of(trust, &fpr) else {
        let primary = key.cert().fingerprint();
        let hint = if let Some((owner, _)) = owner_of(trust, &primary) {
            let name = &owner.name;
            format!(
                "it is a new key of {name}'s certificate {primary}: add the updated certificate (gpg --armor --export {primary}) to {}",
                signer_file(dir, name)
            )
        } else if let Some(name) = signer_by_email(trust, key.cert()) {
            format!(
                "its user ID is {name}'s: add its certificate to {}",
                signer_file(dir, &name)
            )
        } else {
            format!(
                "add its certificate to {} under the name of the signer it speaks for",
                signer_file(dir, "NAME")
            )
        };
        return Err(Error::sign(format!(
            "refusing to sign: the key {fpr} is not in any signer's file in {shown}, so its signature would not count; {hint}"
        )));
    };
    usable_for_signing(cert, &fpr).map_err(|why| {
        Error::sign(format!(
            "refusing to sign: {}'s key {fpr} in {} would not count ({why}); put {}'s current certificate in that file",
            signer.name,
            signer_file(dir, &signer.name),
            signer.name
        ))
    })?;
    Ok(signer.name.clone())
}

/// The SSH signer file of `name` in `dir`, for messages.
pub fn ssh_signer_file(trust_dir: &Path, name: &str) -> String {
    trust_dir.join(format!("{name}.pub")).display().to_string()
}

/// The signer that holds the SSH key `blob` (in wire form), unless the
/// key is revoked.
pub fn ssh_owner<'t>(trust: &'t Trust, blob: &[u8]) -> Option<&'t Signer> {
    let fpr = crate::keys::ssh::fingerprint_of_blob(blob);
    let index = trust.keyring().ssh();
    if index.revoked(&fpr).is_some() {
        return None;
    }
    let (si, ki) = index.find(&fpr)?;
    let signer = trust.signer(si)?;
    let key = signer.keys.ssh().get(ki)?;
    (key.blob() == blob).then_some(signer)
}

/// [`check_counts`] for an SSH key: it must be one signer's, not revoked,
/// and inside its window now.
fn check_ssh_counts(trust: &Trust, dir: &Path, key: &SshSigningKey) -> Result<String> {
    let fpr = key.fingerprint();
    let shown = dir.display();
    let index = trust.keyring().ssh();
    if let Some(origin) = index.revoked(fpr) {
        return Err(Error::sign(format!(
            "refusing to sign: the SSH key {fpr} is revoked ({origin}), so its signature would count for nothing; sign with another key"
        )));
    }
    let found = index.find(fpr).and_then(|(si, ki)| {
        let signer = trust.signer(si)?;
        Some((signer, signer.keys.ssh().get(ki)?))
    });
    let Some((signer, held)) = found.filter(|(_, k)| k.blob() == key.blob()) else {
        return Err(Error::sign(format!(
            "refusing to sign: the SSH key {fpr} is not in any signer's file in {shown}, so its signature would not count; add its .pub line to {} under the name of the signer it speaks for",
            ssh_signer_file(dir, "NAME")
        )));
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if !held.valid_at(now) {
        return Err(Error::sign(format!(
            "refusing to sign: {}'s SSH key {fpr} in {} would not count now (it is valid {}); change its valid-after/valid-before or sign with another key",
            signer.name,
            held.origin(),
            held.window_words()
        )));
    }
    Ok(signer.name.clone())
}

/// What the user named a key by: a fingerprint or key ID, an email
/// address, or a fragment of a user ID (as gpg accepts them).
#[derive(Debug, Clone, PartialEq)]
pub enum KeyQuery {
    Handle(KeyHandle),
    Email(String),
    UserId(String),
}

impl KeyQuery {
    /// Reads `0xFPR`, `FPR!`, `KEYID`, `<email>`, `email` or a user ID
    /// fragment.
    pub fn parse(text: &str) -> KeyQuery {
        let t = text.trim();
        let hex = t
            .trim_start_matches("0x")
            .trim_start_matches("0X")
            .trim_end_matches('!');
        let hex: String = hex.chars().filter(|c| *c != ' ').collect();
        if (hex.len() == 40 || hex.len() == 16 || hex.len() == 64)
            && hex.chars().all(|c| c.is_ascii_hexdigit())
        {
            if let Ok(h) = hex.parse::<KeyHandle>() {
                return KeyQuery::Handle(h);
            }
        }
        let inner = t.strip_prefix('<').and_then(|s| s.strip_suffix('>'));
        match inner {
            Some(e) => KeyQuery::Email(e.to_string()),
            None if t.contains('@') && !t.contains(' ') && !t.contains('<') => {
                KeyQuery::Email(t.to_string())
            }
            None => KeyQuery::UserId(t.to_string()),
        }
    }

    fn matches_cert(&self, cert: &Cert) -> bool {
        match self {
            KeyQuery::Handle(h) => cert.keys().any(|k| k.key().key_handle().aliases(h)),
            KeyQuery::Email(e) => cert.userids().any(|u| {
                u.userid()
                    .email()
                    .ok()
                    .flatten()
                    .is_some_and(|x| x.eq_ignore_ascii_case(e))
            }),
            KeyQuery::UserId(t) => cert
                .userids()
                .any(|u| String::from_utf8_lossy(u.userid().value()).contains(t.as_str())),
        }
    }
}

impl std::fmt::Display for KeyQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyQuery::Handle(h) => write!(f, "{h:X}"),
            KeyQuery::Email(e) => write!(f, "<{e}>"),
            KeyQuery::UserId(t) => write!(f, "\"{}\"", crate::object::printable(t)),
        }
    }
}

/// The certificates of the keys directory that `query` names, with their
/// signers.
pub fn certs_matching<'a>(trust: &'a Trust, query: &KeyQuery) -> Vec<(&'a str, &'a Cert)> {
    let mut out = Vec::new();
    for s in trust.signers() {
        for c in s.keys.openpgp() {
            if query.matches_cert(c) {
                out.push((s.name.as_str(), c));
            }
        }
    }
    out
}

/// The live, unrevoked signing keys of `cert`, newest first; only the
/// key `only` if given (a subkey the user named).
pub fn signing_keys(
    cert: &Cert,
    only: Option<&KeyHandle>,
) -> Vec<Key<PublicParts, UnspecifiedRole>> {
    let policy = crate::policy::Policy::new();
    let Ok(vc) = cert.with_policy(&policy, None) else {
        return Vec::new();
    };
    let mut keys: Vec<Key<PublicParts, UnspecifiedRole>> = vc
        .keys()
        .alive()
        .revoked(false)
        .for_signing()
        .filter(|ka| only.is_none_or(|h| ka.key().key_handle().aliases(h)))
        .map(|ka| ka.key().clone().role_into_unspecified())
        .collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.creation_time()));
    keys
}

/// Wraps a signer so that every signature it makes is verified with the
/// public key before it is used: a token whose key does not match the
/// certificate would otherwise write a layer whose bad signature rejects
/// the whole tag.
pub struct Checked<S> {
    inner: S,
    what: String,
}

impl<S> Checked<S> {
    pub fn new(inner: S, what: impl Into<String>) -> Checked<S> {
        Checked {
            inner,
            what: what.into(),
        }
    }
}

impl<S: openpgp::crypto::Signer> openpgp::crypto::Signer for Checked<S> {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        self.inner.public()
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        self.inner.acceptable_hashes()
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> openpgp::Result<mpi::Signature> {
        let sig = self.inner.sign(hash_algo, digest)?;
        if self.public().verify(&sig, hash_algo, digest).is_err() {
            return Err(anyhow::anyhow!(
                "{} made a signature that does not verify with {}: the key on the token is not the one in the keys directory",
                self.what,
                self.public().fingerprint()
            ));
        }
        Ok(sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_queries() {
        let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
        assert!(matches!(KeyQuery::parse(fpr), KeyQuery::Handle(_)));
        assert!(matches!(
            KeyQuery::parse(&format!("0x{fpr}!")),
            KeyQuery::Handle(_)
        ));
        assert!(matches!(
            KeyQuery::parse("89ABCDEF01234567"),
            KeyQuery::Handle(KeyHandle::KeyID(_))
        ));
        assert_eq!(
            KeyQuery::parse("<a@example.org>"),
            KeyQuery::Email("a@example.org".into())
        );
        assert_eq!(
            KeyQuery::parse("a@example.org"),
            KeyQuery::Email("a@example.org".into())
        );
        assert_eq!(
            KeyQuery::parse("Alice Example"),
            KeyQuery::UserId("Alice Example".into())
        );
    }
}
