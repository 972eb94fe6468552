//! OpenPGP signer keys: reading certificate files and finding which
//! signer's certificate holds a key ID.
//!
//! Invariants: a signer file yields at least one certificate and at most
//! [`MAX_CERTS_PER_SIGNER`], none with secret key material; in an
//! [`Index`] every key ID leads only to keys of one signer per
//! fingerprint (one key, one signer).

use super::{HoldsKeys, Keys, MAX_CERTS_PER_SIGNER};
use crate::error::{Error, Result};
use openpgp::cert::CertParser;
use openpgp::parse::Parse;
use openpgp::{Cert, Fingerprint, KeyID};
use sequoia_openpgp as openpgp;
use std::collections::HashMap;

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
