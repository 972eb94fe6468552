//! OpenPGP signer keys: reading certificate files and finding which
//! signer's certificate holds a key ID.
//!
//! Invariants: a signer file yields at least one certificate and at most
//! [`MAX_CERTS_PER_SIGNER`], none with secret key material; in an
//! [`Index`] every key ID leads only to keys of one signer per
//! fingerprint (one key, one signer).

use super::{HoldsKeys, Keys, MAX_CERTS_PER_SIGNER};
use crate::error::{Error, Result};
use crate::verify::openpgp::policy::{sha1_self_signature_cutoff, Policy};
use openpgp::cert::CertParser;
use openpgp::packet::Signature;
use openpgp::parse::Parse;
use openpgp::types::HashAlgorithm;
use openpgp::{Cert, Fingerprint, KeyID};
use sequoia_openpgp as openpgp;
use std::collections::HashMap;
use std::time::SystemTime;

/// The certificates of a signer file; `origin` names it in messages.
pub(super) fn parse_certs(origin: &str, bytes: &[u8]) -> Result<Vec<Cert>> {
    let not_cert = |why: String| {
        Error::config(format!(
            "{origin}: not an OpenPGP certificate ({why}); export it with gpg --armor --export"
        ))
    };
    let parser =
        CertParser::from_bytes(bytes).map_err(|e| not_cert(crate::error::clean(&e.to_string())))?;
    let mut certs = Vec::new();
    for cert in parser {
        let cert = cert.map_err(|e| not_cert(crate::error::clean(&e.to_string())))?;
        if cert.is_tsk() {
            return Err(Error::config(format!(
                "{origin}: holds secret key material; put only the public certificate (gpg --armor --export) in a keys directory"
            )));
        }
        if certs.len() == MAX_CERTS_PER_SIGNER {
            return Err(Error::config(format!(
                "{origin}: more than {MAX_CERTS_PER_SIGNER} certificates in one signer file"
            )));
        }
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(not_cert("no certificate found".into()));
    }
    Ok(certs)
}

/// Refuses a certificate no signature could ever count under: one with no
/// self-signature sigtag's policy accepts, at any time, or with no key
/// that can sign. `origin` names the file, `signer` its signer.
pub fn check_usable(origin: &str, signer: &str, cert: &Cert) -> Result<()> {
    let policy = Policy::new();
    let fpr = cert.fingerprint().to_hex();
    let primary_sigs: Vec<&Signature> = cert
        .userids()
        .flat_map(|u| u.self_signatures())
        .chain(cert.primary_key().self_signatures())
        .collect();
    let mut times: Vec<SystemTime> = primary_sigs
        .iter()
        .copied()
        .chain(cert.keys().subkeys().flat_map(|k| k.self_signatures()))
        .filter_map(|sig| sig.signature_creation_time())
        .collect();
    times.sort();
    times.dedup();
    let valid: Vec<_> = times
        .iter()
        .filter_map(|&t| cert.with_policy(&policy, t).ok())
        .collect();
    if valid.is_empty() {
        let cutoff = sha1_self_signature_cutoff();
        let sha1_only = !primary_sigs.is_empty()
            && primary_sigs.iter().all(|sig| {
                sig.hash_algo() == HashAlgorithm::SHA1
                    && sig.signature_creation_time().is_some_and(|t| t >= cutoff)
            });
        let cause = if sha1_only {
            "is bound only by SHA-1 self-signatures made since 2023-02-01, which sigtag refuses"
        } else {
            "holds no self-signature that sigtag's policy accepts"
        };
        return Err(Error::config(format!(
            "{origin}: {signer}'s certificate {fpr} {cause}, so none of its signatures can count; \
             its holder runs gpg --cert-digest-algo SHA256 --quick-set-expire {fpr} 2y and exports it again"
        )));
    }
    if !valid
        .iter()
        .any(|vc| vc.keys().for_signing().next().is_some())
    {
        return Err(Error::config(format!(
            "{origin}: {signer}'s certificate {fpr} holds no key that can sign, so none of its signatures can count; \
             its holder adds one with gpg --quick-add-key {fpr} ed25519 sign 2y and exports it again"
        )));
    }
    Ok(())
}

/// The email addresses in the user IDs of `cert` (every user ID, revoked
/// or not), lower-case: `Name <email>` or a bare address. A user ID with
/// no address gives none.
pub fn emails(cert: &Cert) -> Vec<String> {
    let mut out: Vec<String> = cert
        .userids()
        .filter_map(|ua| {
            let uid = ua.userid();
            let parsed = uid.email().ok().flatten().map(str::to_string);
            parsed.or_else(|| {
                let text = String::from_utf8_lossy(uid.value());
                let inner = match (text.rfind('<'), text.rfind('>')) {
                    (Some(a), Some(b)) if a < b => text.get(a + 1..b).map(str::to_string),
                    _ => Some(text.trim().to_string()),
                };
                inner.filter(|e| crate::names::looks_like_email(e))
            })
        })
        .map(|e| e.to_lowercase())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Which signer's certificate holds a key with a given key ID: signer and
/// certificate by their index.
#[derive(Debug, Clone, Default)]
pub struct Index {
    by_key_id: HashMap<KeyID, Vec<(usize, usize)>>,
}

impl Index {
    /// Indexes every key of every certificate, refusing a key that two
    /// signers hold.
    pub(super) fn build(signers: &[(&str, &Keys)]) -> Result<Index> {
        let mut owner: HashMap<Fingerprint, (usize, &str)> = HashMap::new();
        let mut by_key_id: HashMap<KeyID, Vec<(usize, usize)>> = HashMap::new();
        for (si, (name, keys)) in signers.iter().enumerate() {
            for (ci, cert) in keys.openpgp().iter().enumerate() {
                for key in cert.keys() {
                    let fpr = key.key().fingerprint();
                    if let Some(&(other, other_name)) = owner.get(&fpr) {
                        if other != si {
                            return Err(Error::config(format!(
                                "{} and {} hold the same certificate ({}); one certificate must belong to one signer",
                                other_name, name, fpr.to_hex()
                            )));
                        }
                    }
                    owner.insert(fpr.clone(), (si, name));
                    by_key_id
                        .entry(KeyID::from(&fpr))
                        .or_default()
                        .push((si, ci));
                }
            }
        }
        Ok(Index { by_key_id })
    }

    /// The signers and certificates that hold a key with this key ID,
    /// each with the signer's index in `signers` (the signers the index
    /// was built from, in the same order).
    pub fn candidates<'a, S: HoldsKeys>(
        &'a self,
        id: &KeyID,
        signers: &'a [S],
    ) -> impl Iterator<Item = (usize, &'a S, &'a Cert)> {
        self.by_key_id
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(move |&(si, ci)| {
                let signer = signers.get(si)?;
                Some((si, signer, signer.keys().openpgp().get(ci)?))
            })
    }
}

/// The certificates as one canonical byte string: each one's public
/// packets as sequoia serializes them, in fingerprint order. Two files that
/// hold the same certificates (armored or binary, exported by gpg or armored
/// again by `sigtag keys source`) give the same bytes.
pub fn canonical(certs: &[Cert]) -> Result<Vec<u8>> {
    use openpgp::serialize::Serialize as _;
    let mut sorted: Vec<&Cert> = certs.iter().collect();
    sorted.sort_by_key(|c| c.fingerprint().to_hex());
    let mut out = Vec::new();
    for cert in sorted {
        cert.serialize(&mut out).map_err(|e| {
            Error::config(format!(
                "cannot serialize certificate {}: {e}",
                cert.fingerprint()
            ))
        })?;
    }
    Ok(out)
}
