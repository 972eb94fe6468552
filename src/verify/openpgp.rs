//! OpenPGP signatures: everything of verification that speaks Sequoia.
//!
//! This module reads the signature packets of a layer's
//! `-----BEGIN PGP SIGNATURE-----` block, finds the trusted keys that
//! could have made each one, checks the mathematics, and answers the
//! scheme's questions of [`super::Verified`]: the signature's form (a
//! document signature with a creation time), its algorithms (under the
//! standard policy), its own expiration time, and whether the key could
//! sign at the signature's creation time (key age, revocations judged
//! under [`policy`], certificate and key validity, signing capability).
//! Validity is judged under [`policy`] with the binding signatures in
//! force at the signature's creation time, or, where the certificate
//! holds none that old (a refreshed certificate keeps only its newest
//! bindings), with its oldest ones, if the key validity period they give
//! covers that time ([`valid_cert_at`]).
//! The scheme-neutral rules (the tagger date, the signature's expiry
//! against the clock, future dates) and their order live in
//! [`super`].
//!
//! Invariants:
//! - a block that holds anything but signature packets, no signature, or
//!   more than [`MAX_SIGNATURES_PER_LAYER`] of them is refused as a whole;
//! - the mathematics are decided ([`verifies`]) for every trusted
//!   candidate key before any question of validity, so a signature no
//!   candidate verifies is always reported as bad, whatever else is wrong
//!   with it;
//! - nothing here reads a repository or the clock.

pub mod policy;

use super::Verified;
use crate::problem::{Problem, MAX_SIGNATURES_PER_LAYER};
use crate::trust::Trust;
use openpgp::packet::Signature;
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::policy::{HashAlgoSecurity, Policy as _, StandardPolicy};
use openpgp::types::{
    HashAlgorithm, ReasonForRevocation, RevocationStatus, RevocationType, SignatureType,
};
use openpgp::{Cert, Fingerprint, KeyHandle, KeyID, Packet};
use policy::Policy;
use sequoia_openpgp as openpgp;
use std::time::SystemTime;

/// Reads the signature packets of an armored block; anything else in it is
/// refused, and so are more than [`MAX_SIGNATURES_PER_LAYER`] packets.
pub fn read_signatures(block: &[u8]) -> Result<Vec<Signature>, Problem> {
    let unreadable =
        |e: anyhow::Error| Problem::UnreadableSignature(crate::error::clean(&e.to_string()));
    let mut sigs = Vec::new();
    let mut ppr = PacketParser::from_bytes(block).map_err(unreadable)?;
    while let PacketParserResult::Some(pp) = ppr {
        let (packet, next) = pp.next().map_err(unreadable)?;
        match packet {
            Packet::Signature(sig) => sigs.push(sig),
            other => {
                return Err(Problem::UnreadableSignature(format!(
                    "it holds a {} packet, not only signatures",
                    other.tag()
                )))
            }
        }
        if sigs.len() > MAX_SIGNATURES_PER_LAYER {
            return Err(Problem::TooManySignatures);
        }
        ppr = next;
    }
    if sigs.is_empty() {
        return Err(Problem::UnreadableSignature("it holds no signature".into()));
    }
    Ok(sigs)
}

/// The signatures of an OpenPGP block over `payload`, each either
/// verified for a trusted key (to be judged by the scheme-neutral rules)
/// or refused with its problem. The whole block may be refused.
pub(super) fn verify_block<'t>(
    block: &[u8],
    payload: &[u8],
    trust: &'t Trust,
) -> Result<Vec<Result<OpenPgpSignature<'t>, Problem>>, Problem> {
    let sigs = read_signatures(block)?;
    Ok(sigs
        .into_iter()
        .map(|sig| verify_signature(sig, payload, trust))
        .collect())
}

fn hex_id(h: &KeyHandle) -> String {
    match h {
        KeyHandle::Fingerprint(f) => f.to_hex(),
        KeyHandle::KeyID(k) => k.to_hex(),
    }
}

/// Does `sig` verify over `payload` with `key`, by the mathematics alone?
///
/// Nothing else is judged here: not the key's age (the key is taken as if
/// it had existed forever, since Sequoia refuses a key younger than the
/// signature before it looks at the math), not the signature's type, hash
/// algorithm or creation time. A text signature (`gpg --textmode`) is
/// checked over the payload with canonical line endings (CRLF), as
/// OpenPGP defines it; any other type over the bytes as they are.
pub fn verifies<P, R>(sig: &Signature, key: &openpgp::packet::Key<P, R>, payload: &[u8]) -> bool
where
    P: openpgp::packet::key::KeyParts,
    R: openpgp::packet::key::KeyRole,
{
    let mut ageless = key.clone().parts_into_public().role_into_unspecified();
    if ageless.set_creation_time(SystemTime::UNIX_EPOCH).is_err() {
        return false;
    }
    let Ok(builder) = sig.hash_algo().context() else {
        return false;
    };
    let mut hash = builder.for_signature(sig.version());
    if let Some(salt) = sig.salt() {
        hash.update(salt);
    }
    if sig.typ() == SignatureType::Text {
        hash.update(&canonical_text(payload));
    } else {
        hash.update(payload);
    }
    sig.verify_hash(&ageless, hash).is_ok()
}

/// `text` with every line ending (LF, CR or CRLF) made CRLF, the form a
/// text signature is made over.
fn canonical_text(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 32 + 2);
    let mut bytes = text.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b'\r' => {
                if bytes.peek() == Some(&b'\n') {
                    bytes.next();
                }
                out.extend_from_slice(b"\r\n");
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            _ => out.push(b),
        }
    }
    out
}

/// An OpenPGP signature whose mathematics hold for a key of a trusted
/// certificate.
pub(super) struct OpenPgpSignature<'t> {
    sig: Signature,
    signer: usize,
    name: &'t str,
    cert: &'t Cert,
    fpr: Fingerprint,
}

/// Finds the trusted key that made `sig` over `payload`: a signature
/// naming no trusted key is from an unknown key; one no trusted candidate
/// key verifies is bad.
fn verify_signature<'t>(
    sig: Signature,
    payload: &[u8],
    trust: &'t Trust,
) -> Result<OpenPgpSignature<'t>, Problem> {
    // Which trusted keys could have made it?
    let issuers = sig.get_issuers();
    let mut candidates: Vec<(usize, &str, &Cert, Fingerprint)> = Vec::new();
    for issuer in &issuers {
        let found = trust
            .keyring()
            .openpgp()
            .candidates(&KeyID::from(issuer), trust.signers());
        for (si, signer, cert) in found {
            for ka in cert.keys() {
                let fpr = ka.key().fingerprint();
                if issuer.aliases(KeyHandle::from(&fpr))
                    && !candidates.iter().any(|(_, _, _, f)| *f == fpr)
                {
                    candidates.push((si, signer.name.as_str(), cert, fpr));
                }
            }
        }
    }
    let Some(first) = candidates.first() else {
        let id = issuers
            .iter()
            .find(|h| matches!(h, KeyHandle::Fingerprint(_)))
            .or(issuers.first())
            .map_or_else(|| "(the signature names no key)".to_string(), hex_id);
        return Err(Problem::UnknownKey(id));
    };

    // The mathematics first, before any question of validity: a signature
    // no trusted candidate key verifies means the layer was tampered with,
    // whatever else is wrong with it.
    let verified = candidates.iter().find(|(_, _, cert, fpr)| {
        cert.keys()
            .key_handle(fpr.clone())
            .next()
            .is_some_and(|ka| verifies(&sig, ka.key(), payload))
    });
    let Some((si, name, cert, fpr)) = verified else {
        let (_, name, _, fpr) = first;
        return Err(Problem::BadSignature {
            signer: name.to_string(),
            key: fpr.to_hex(),
        });
    };
    Ok(OpenPgpSignature {
        signer: *si,
        name,
        cert,
        fpr: fpr.clone(),
        sig,
    })
}

impl Verified for OpenPgpSignature<'_> {
    fn signer(&self) -> usize {
        self.signer
    }

    fn name(&self) -> &str {
        self.name
    }

    fn key(&self) -> String {
        self.fpr.to_hex()
    }

    fn created(&self) -> Result<SystemTime, Problem> {
        let signer = self.name.to_string();
        if !matches!(self.sig.typ(), SignatureType::Binary | SignatureType::Text) {
            return Err(Problem::NotDocumentSignature { signer });
        }
        self.sig
            .signature_creation_time()
            .ok_or(Problem::NoCreationTime { signer })
    }

    fn algorithms(&self) -> Result<(), Problem> {
        let policy = StandardPolicy::new();
        let Err(e) = policy.signature(&self.sig, HashAlgoSecurity::CollisionResistance) else {
            return Ok(());
        };
        let signer = self.name.to_string();
        let algo = self.sig.hash_algo();
        if matches!(
            algo,
            HashAlgorithm::SHA1 | HashAlgorithm::MD5 | HashAlgorithm::RipeMD
        ) {
            return Err(Problem::Weak {
                signer,
                algo: algo.to_string(),
            });
        }
        Err(Problem::PolicyRejected {
            signer,
            why: crate::error::clean(&e.to_string()),
        })
    }

    fn expires(&self) -> Option<SystemTime> {
        self.sig.signature_expiration_time()
    }

    fn key_valid_at(&self, created: SystemTime) -> Result<(), Problem> {
        let (cert, fpr) = (self.cert, &self.fpr);
        let signer = self.name.to_string();
        let key = fpr.to_hex();
        let key_created = cert
            .keys()
            .key_handle(fpr.clone())
            .next()
            .map(|ka| ka.key().creation_time());
        if key_created.is_some_and(|k| k > created) {
            return Err(Problem::NotYetValid { signer, key });
        }

        if let Some(p) = revocation_problem(cert, fpr, &Policy::new(), created, &signer, &key) {
            return Err(p);
        }

        let policy = Policy::new();
        let Some(vc) = valid_cert_at(cert, &policy, created) else {
            if cert.primary_key().key().creation_time() > created {
                return Err(Problem::NotYetValid { signer, key });
            }
            return Err(Problem::Unbound { signer, key });
        };
        if expired_at(vc.primary_key().key_expiration_time(), created) {
            return Err(Problem::Expired { signer, key });
        }
        let Some(ka) = valid_key_at(cert, &policy, fpr, created) else {
            return Err(Problem::Unbound { signer, key });
        };
        if expired_at(ka.key_expiration_time(), created) {
            return Err(Problem::Expired { signer, key });
        }
        if !ka.for_signing() {
            return Err(Problem::NotSigningKey { signer, key });
        }
        Ok(())
    }
}

/// Has a key that expires at `expiry` (if ever) expired at `t`?
fn expired_at(expiry: Option<SystemTime>, t: SystemTime) -> bool {
    expiry.is_some_and(|e| e <= t)
}

/// The certificate as its primary key's binding in force at `t` says, or,
/// where it holds no acceptable binding that old (a refreshed certificate
/// keeps only its newest ones), as its oldest acceptable binding says.
/// Whether the key was alive at `t` is left to the caller: the binding
/// chosen says when the key expires. Revocations are not judged here.
pub fn valid_cert_at<'a>(
    cert: &'a Cert,
    policy: &'a dyn openpgp::policy::Policy,
    t: SystemTime,
) -> Option<openpgp::cert::ValidCert<'a>> {
    if let Ok(vc) = cert.with_policy(policy, t) {
        return Some(vc);
    }
    let mut later: Vec<SystemTime> = cert
        .userids()
        .flat_map(|u| u.self_signatures())
        .chain(cert.primary_key().self_signatures())
        .filter_map(|sig| sig.signature_creation_time())
        .filter(|&c| c > t)
        .collect();
    later.sort();
    later.dedup();
    later
        .into_iter()
        .find_map(|c| cert.with_policy(policy, c).ok())
}

/// The key `fpr` of `cert` as its binding in force at `t` says, or, where
/// the certificate holds no acceptable binding of it that old, as its
/// oldest acceptable binding says (see [`valid_cert_at`]).
fn valid_key_at<'a>(
    cert: &'a Cert,
    policy: &'a dyn openpgp::policy::Policy,
    fpr: &Fingerprint,
    t: SystemTime,
) -> Option<
    openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation<
        'a,
        openpgp::packet::key::PublicParts,
    >,
> {
    let mut times = vec![t];
    if let Some(sub) = cert.keys().subkeys().key_handle(fpr.clone()).next() {
        let mut later: Vec<SystemTime> = sub
            .self_signatures()
            .filter_map(|sig| sig.signature_creation_time())
            .filter(|&c| c > t)
            .collect();
        later.sort();
        later.dedup();
        times.extend(later);
    }
    times.into_iter().find_map(|at| {
        let vc = valid_cert_at(cert, policy, at)?;
        vc.keys().key_handle(fpr.clone()).next()
    })
}

/// Hard revocations (compromised, unspecified, or no reason) of the
/// certificate or of the signing key taint every signature; soft ones only
/// those made after them.
fn revocation_problem(
    cert: &Cert,
    fpr: &Fingerprint,
    policy: &dyn openpgp::policy::Policy,
    created: SystemTime,
    signer: &str,
    key: &str,
) -> Option<Problem> {
    let subkey = cert.keys().subkeys().key_handle(fpr.clone()).next();
    let statuses = |t: Option<SystemTime>| {
        let mut v = vec![cert.revocation_status(policy, t)];
        if let Some(ka) = &subkey {
            v.push(ka.revocation_status(policy, t));
        }
        v
    };
    for status in statuses(None) {
        if let RevocationStatus::Revoked(revs) = status {
            if revs
                .iter()
                .any(|r| revocation_type(r) == RevocationType::Hard)
            {
                return Some(Problem::Compromised {
                    signer: signer.to_string(),
                });
            }
        }
    }
    for status in statuses(Some(created)) {
        if let RevocationStatus::Revoked(revs) = status {
            let reason = revs
                .iter()
                .find_map(|r| r.reason_for_revocation().map(|(code, _)| reason_word(code)))
                .unwrap_or("no reason given");
            return Some(Problem::SoftRevoked {
                signer: signer.to_string(),
                key: key.to_string(),
                reason: reason.to_string(),
            });
        }
    }
    None
}

/// Hard or soft, as the revocation's reason says (no reason: hard).
pub(crate) fn revocation_type(rev: &Signature) -> RevocationType {
    rev.reason_for_revocation()
        .map_or(RevocationType::Hard, |(code, _)| code.revocation_type())
}

/// A revocation reason in one word or two, for messages.
pub(crate) fn reason_word(code: ReasonForRevocation) -> &'static str {
    match code {
        ReasonForRevocation::KeySuperseded => "superseded",
        ReasonForRevocation::KeyRetired => "retired",
        ReasonForRevocation::UIDRetired => "user ID retired",
        ReasonForRevocation::KeyCompromised => "compromised",
        _ => "unspecified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_signature_blocks_reject_the_tag() {
        let block = b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIGNATURE-----\n";
        let p = read_signatures(block).unwrap_err();
        assert!(p.rejects_tag(), "{p}");
        assert!(
            p.to_string().starts_with("unreadable signature block: "),
            "{p}"
        );
    }

    #[test]
    fn canonical_text_makes_every_line_ending_crlf() {
        assert_eq!(canonical_text(b"a\nb\r\nc\rd"), b"a\r\nb\r\nc\r\nd");
        assert_eq!(canonical_text(b"\n\n"), b"\r\n\r\n");
        assert_eq!(canonical_text(b""), b"");
    }
}
