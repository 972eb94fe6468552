//! The health of a trust root (DESIGN §9): for every signer, its
//! certificates and keys, its groups, and what needs doing before its
//! signatures stop counting, or what already stopped them.
//!
//! [`evaluate`] is pure: it reads a loaded [`Trust`] and judges it at a
//! reference time, under the same policy verification uses
//! ([`crate::policy::Policy`]). [`text`] and [`json`](fn@json) render its answer;
//! the command line (`sigtag keys`) only prints them. Where each signer's
//! files are is not part of a [`Trust`], so the renderers take them.
//!
//! A signer is usable when it has no [`Finding`]: every certificate of
//! its file can sign now and for more than [`EXPIRY_WARNING`], by keys
//! bound with SHA-256 or better and of no weak algorithm, its file holds
//! one certificate, and it belongs to a group. Each finding says what is
//! wrong and what to do about it ([`Finding::message`], [`Finding::fix`]).

use crate::date::rfc3339;
use crate::policy::Policy;
use crate::trust::{Signer, Trust};
use crate::verify::openpgp::{reason_word, revocation_type};
use openpgp::cert::amalgamation::key::{PrimaryKey as _, ValidErasedKeyAmalgamation};
use openpgp::cert::amalgamation::{ValidAmalgamation as _, ValidateAmalgamation as _};
use openpgp::crypto::mpi::PublicKey;
use openpgp::packet::key::PublicParts;
use openpgp::packet::Signature;
use openpgp::policy::{AsymmetricAlgorithm, StandardPolicy};
use openpgp::types::{Curve, HashAlgorithm, RevocationStatus, RevocationType};
use openpgp::Cert;
use sequoia_openpgp as openpgp;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// A certificate (or its signing key) that stops signing sooner than this
/// is reported.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 86_400);

/// The health of every signer of a trust root, in the trust root's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The time it was judged at.
    pub at: SystemTime,
    pub signers: Vec<SignerHealth>,
}

impl Health {
    /// Is every signer usable and in a group (and is there one at all)?
    pub fn ok(&self) -> bool {
        !self.signers.is_empty() && self.signers.iter().all(SignerHealth::usable)
    }
}

/// One signer: its groups, certificates and findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerHealth {
    pub name: String,
    /// Sorted.
    pub groups: Vec<String>,
    pub certificates: Vec<CertInfo>,
    /// Its SSH public keys (`NAME.pub`), in the file's order.
    pub ssh_keys: Vec<SshKeyInfo>,
    /// What needs doing, certificate by certificate, then the signer's
    /// own (several certificates, no group). Empty: usable.
    pub findings: Vec<Finding>,
}

impl SignerHealth {
    pub fn usable(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One certificate of a signer file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The primary key's fingerprint (upper-case hex).
    pub fingerprint: String,
    /// Its user IDs, control characters dropped.
    pub user_ids: Vec<String>,
    /// The primary key first, then the subkeys in the certificate's order.
    pub keys: Vec<KeyInfo>,
}

/// One SSH public key of a signer, at the reference time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyInfo {
    /// `SHA256:` and unpadded base64, as ssh-keygen -l prints it.
    pub fingerprint: String,
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, ...
    pub key_type: String,
    pub valid_after: Option<SystemTime>,
    pub valid_before: Option<SystemTime>,
    /// `valid`, `not yet valid` (before valid-after) or `expired` (after
    /// valid-before).
    pub state: &'static str,
}

/// One key of a certificate, as sigtag's policy sees it at the reference
/// time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub fingerprint: String,
    pub primary: bool,
    /// As gpg names it: `ed25519`, `rsa3072`, `dsa2048`, `nistp256`, ...
    pub algorithm: String,
    pub created: SystemTime,
    /// When the binding in force says it expires; `None`: never (or not
    /// known, for a key no binding binds).
    pub expires: Option<SystemTime>,
    /// Does its binding allow signing?
    pub can_sign: bool,
    pub state: KeyState,
}

/// Whether a key can be used at the reference time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    Valid,
    Expired,
    /// `reason`: `compromised`, `superseded`, ... (or `no reason given`).
    Revoked {
        hard: bool,
        reason: String,
    },
    NotYetValid,
    /// sigtag's policy does not accept it (a weak algorithm, no acceptable
    /// binding); the policy's reason.
    Refused(String),
}

impl KeyState {
    /// For people and the JSON report: `valid`, `expired`, `revoked`,
    /// `not yet valid`, `refused`.
    pub fn word(&self) -> &'static str {
        match self {
            KeyState::Valid => "valid",
            KeyState::Expired => "expired",
            KeyState::Revoked { .. } => "revoked",
            KeyState::NotYetValid => "not yet valid",
            KeyState::Refused(_) => "refused",
        }
    }
}

/// Something about a signer that needs doing. `cert` is always the
/// fingerprint of the certificate concerned, `key` the key's (the same
/// for its primary key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// It can sign now, but not for longer than [`EXPIRY_WARNING`]: at
    /// `at`, `key` (the primary key, or the last signing key) expires.
    ExpiresSoon {
        cert: String,
        key: String,
        at: SystemTime,
    },
    /// It can sign no more: `key` (the primary key, or the signing key
    /// that lived longest) expired at `at`.
    Expired {
        cert: String,
        key: String,
        at: SystemTime,
    },
    /// `key` is revoked: `hard` (compromised, unspecified, no reason)
    /// taints every signature, old ones too; soft (superseded, retired)
    /// only those made after `at`.
    Revoked {
        cert: String,
        key: String,
        hard: bool,
        reason: String,
        /// The revocation's own words, control characters dropped.
        note: String,
        at: Option<SystemTime>,
    },
    /// No key of the certificate can sign now, for another reason than
    /// expiry or revocation: `why`.
    CannotSign { cert: String, why: String },
    /// The binding signatures in force for these keys are SHA-1,
    /// accepted only because they were made before 2023-02-01.
    Sha1Binding { cert: String, keys: Vec<String> },
    /// `key` is RSA under 2048 bits, or DSA; `refused`: sigtag's policy
    /// already refuses it, so its signatures count for nothing.
    Weak {
        cert: String,
        key: String,
        primary: bool,
        algorithm: String,
        refused: bool,
    },
    /// The signer's file holds several certificates (a rotation not
    /// finished).
    SeveralCertificates { fingerprints: Vec<String> },
    /// The signer is in no group, so its signatures count for no rule.
    NoGroup,
}

impl Finding {
    /// A stable name: `expires-soon`, `expired`, `revoked`, `cannot-sign`,
    /// `sha1-binding`, `weak`, `several-certificates`, `no-group`.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::ExpiresSoon { .. } => "expires-soon",
            Finding::Expired { .. } => "expired",
            Finding::Revoked { .. } => "revoked",
            Finding::CannotSign { .. } => "cannot-sign",
            Finding::Sha1Binding { .. } => "sha1-binding",
            Finding::Weak { .. } => "weak",
            Finding::SeveralCertificates { .. } => "several-certificates",
            Finding::NoGroup => "no-group",
        }
    }

    /// The certificate concerned, if one is.
    pub fn cert(&self) -> Option<&str> {
        match self {
            Finding::ExpiresSoon { cert, .. }
            | Finding::Expired { cert, .. }
            | Finding::Revoked { cert, .. }
            | Finding::CannotSign { cert, .. }
            | Finding::Sha1Binding { cert, .. }
            | Finding::Weak { cert, .. } => Some(cert),
            Finding::SeveralCertificates { .. } | Finding::NoGroup => None,
        }
    }

    /// The key concerned, if one is.
    pub fn key(&self) -> Option<&str> {
        match self {
            Finding::ExpiresSoon { key, .. }
            | Finding::Expired { key, .. }
            | Finding::Revoked { key, .. }
            | Finding::Weak { key, .. } => Some(key),
            Finding::Sha1Binding { keys, .. } => keys.first().map(String::as_str),
            _ => None,
        }
    }

    /// The date concerned, if one is.
    pub fn date(&self) -> Option<SystemTime> {
        match self {
            Finding::ExpiresSoon { at, .. } | Finding::Expired { at, .. } => Some(*at),
            Finding::Revoked { at, .. } => *at,
            _ => None,
        }
    }

    /// What is wrong, for `signer`, judged at `now`.
    pub fn message(&self, signer: &str, now: SystemTime) -> String {
        let what = |cert: &str, key: &str| {
            if cert == key {
                format!("{signer}'s certificate {cert}")
            } else {
                format!("{signer}'s signing key {key} (of certificate {cert})")
            }
        };
        match self {
            Finding::ExpiresSoon { cert, key, at } => {
                let days = at
                    .duration_since(now)
                    .map_or(0, |d| d.as_secs().div_ceil(86_400));
                format!(
                    "{} expires at {}, in {days} day{}",
                    what(cert, key),
                    rfc3339(*at),
                    if days == 1 { "" } else { "s" }
                )
            }
            Finding::Expired { cert, key, at } => format!(
                "{} expired at {}: it signs nothing new, and its earlier signatures still count",
                what(cert, key),
                rfc3339(*at)
            ),
            Finding::Revoked {
                cert,
                key,
                hard,
                reason,
                note,
                at,
            } => {
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!(", \"{note}\"")
                };
                let when = at
                    .map(|t| format!(" at {}", rfc3339(t)))
                    .unwrap_or_default();
                if *hard {
                    format!(
                        "{} is revoked ({reason}{note}){when}, a hard revocation: none of its signatures count, old ones too",
                        what(cert, key)
                    )
                } else {
                    format!(
                        "{} is revoked ({reason}{note}){when}, a soft revocation: it signs nothing new, and its signatures made before then still count",
                        what(cert, key)
                    )
                }
            }
            Finding::CannotSign { cert, why } => {
                format!("{signer}'s certificate {cert} has no key that can sign now: {why}")
            }
            Finding::Sha1Binding { cert, keys } => {
                let whose = if keys.iter().all(|k| k == cert) {
                    String::new()
                } else {
                    format!(" (keys {})", keys.join(", "))
                };
                format!(
                    "{signer}'s certificate {cert} is bound only by SHA-1 self-signatures{whose}, accepted because they were made before 2023-02-01"
                )
            }
            Finding::Weak {
                cert,
                key,
                primary,
                algorithm,
                refused,
            } => {
                let whose = if *primary {
                    format!("{signer}'s certificate {cert}")
                } else {
                    format!("{signer}'s key {key} (of certificate {cert})")
                };
                let then = if *refused {
                    ": sigtag's policy refuses it, so its signatures count for nothing"
                } else {
                    ""
                };
                format!("{whose} is {algorithm}, which is weak{then}")
            }
            Finding::SeveralCertificates { fingerprints } => format!(
                "{signer}'s file holds {} certificates ({})",
                fingerprints.len(),
                fingerprints.join(", ")
            ),
            Finding::NoGroup => format!(
                "{signer} is in no group of policy.toml, so {signer}'s signatures count for no rule"
            ),
        }
    }

    /// What to do about it; `file` is the signer's certificate file.
    pub fn fix(&self, signer: &str, file: &str) -> String {
        let export = |cert: &str| format!("gpg --armor --export {cert} > {file}");
        match self {
            Finding::ExpiresSoon { cert, key, .. } | Finding::Expired { cert, key, .. } => {
                let sub = if cert == key {
                    String::new()
                } else {
                    format!(" {key}")
                };
                let replaced = match self {
                    Finding::Expired { .. } => {
                        format!("; or, if a new certificate replaced it, remove it from {file}")
                    }
                    _ => String::new(),
                };
                format!(
                    "its holder extends it with gpg --quick-set-expire {cert} 2y{sub} and exports it again: {}{replaced}",
                    export(cert)
                )
            }
            Finding::Revoked { hard: true, .. } => format!(
                "put {signer}'s new certificate into {file} (gpg --armor --export NEW-FINGERPRINT) in place of this one"
            ),
            Finding::Revoked { hard: false, .. } => format!(
                "add {signer}'s new certificate to {file} (gpg --armor --export NEW-FINGERPRINT), and remove this one once no tag that must still verify needs its signatures"
            ),
            Finding::CannotSign { cert, .. } => format!(
                "its holder adds a signing key with gpg --quick-add-key {cert} ed25519 sign 2y and exports it again: {}",
                export(cert)
            ),
            Finding::Sha1Binding { cert, keys } => {
                let subkeys: Vec<&str> = keys
                    .iter()
                    .filter(|k| *k != cert)
                    .map(String::as_str)
                    .collect();
                let sub = if subkeys.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", then gpg --cert-digest-algo SHA256 --quick-set-expire {cert} 2y {}",
                        subkeys.join(" ")
                    )
                };
                format!(
                    "its holder refreshes it with a SHA-256 binding, gpg --cert-digest-algo SHA256 --quick-set-expire {cert} 2y{sub}, and exports it again: {} (earlier signatures keep counting)",
                    export(cert)
                )
            }
            Finding::Weak {
                cert,
                primary: true,
                ..
            } => format!(
                "its holder makes a new certificate (gpg --quick-gen-key \"NAME <EMAIL>\" ed25519 sign 2y) and puts it into {file} in place of {cert}"
            ),
            Finding::Weak { cert, key, .. } => format!(
                "its holder adds an ed25519 signing key (gpg --quick-add-key {cert} ed25519 sign 2y), revokes {key} (gpg --edit-key {cert}, key, revkey) and exports it again: {}",
                export(cert)
            ),
            Finding::SeveralCertificates { .. } => format!(
                "keep in {file} only the certificate {signer} signs with now; remove the others once no tag that must still verify needs their signatures"
            ),
            Finding::NoGroup => format!(
                "add {signer} to a group under [groups] in policy.toml, or remove {file}"
            ),
        }
    }
}

/// Judges every signer of `trust` at `now`. Pure.
pub fn evaluate(trust: &Trust, now: SystemTime) -> Health {
    let policy = Policy::over(StandardPolicy::at(now));
    let lenient = lenient_policy(now);
    Health {
        at: now,
        signers: trust
            .signers()
            .iter()
            .map(|s| signer_health(s, &policy, &lenient, now))
            .collect(),
    }
}

/// sigtag's policy, but accepting the weak public-key algorithms: to
/// describe keys the real policy refuses, and to find weak keys still in
/// use.
fn lenient_policy(now: SystemTime) -> Policy {
    let mut standard = StandardPolicy::at(now);
    for algo in [
        AsymmetricAlgorithm::RSA1024,
        AsymmetricAlgorithm::DSA1024,
        AsymmetricAlgorithm::DSA2048,
        AsymmetricAlgorithm::DSA3072,
        AsymmetricAlgorithm::DSA4096,
    ] {
        standard.accept_asymmetric_algo(algo);
    }
    Policy::over(standard)
}

fn signer_health(
    signer: &Signer,
    policy: &Policy,
    lenient: &Policy,
    now: SystemTime,
) -> SignerHealth {
    let certs = signer.keys.openpgp();
    let mut findings = Vec::new();
    let mut certificates = Vec::new();
    for cert in certs {
        certificates.push(describe(cert, policy, lenient, now));
        findings.extend(cert_findings(cert, policy, lenient, now));
    }
    if certs.len() > 1 {
        findings.push(Finding::SeveralCertificates {
            fingerprints: certs.iter().map(|c| c.fingerprint().to_hex()).collect(),
        });
    }
    if signer.groups.is_empty() {
        findings.push(Finding::NoGroup);
    }
    let at = |t: i64| SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let ssh_keys = signer
        .keys
        .ssh()
        .iter()
        .map(|k| SshKeyInfo {
            fingerprint: k.fingerprint().to_string(),
            key_type: k.type_name(),
            valid_after: k.valid_after.map(at),
            valid_before: k.valid_before.map(at),
            state: match (k.valid_after, k.valid_before) {
                (Some(a), _) if now_secs < a => "not yet valid",
                (_, Some(b)) if now_secs > b => "expired",
                _ => "valid",
            },
        })
        .collect();
    SignerHealth {
        name: signer.name.clone(),
        groups: signer.groups.clone(),
        certificates,
        ssh_keys,
        findings,
    }
}

/// The first revocation among `status`'s, as (hard, reason, note, date).
fn revocation(status: &RevocationStatus<'_>) -> Option<(bool, String, String, Option<SystemTime>)> {
    let RevocationStatus::Revoked(revs) = status else {
        return None;
    };
    // A hard revocation says the most; take it first.
    let rev: &Signature = revs
        .iter()
        .find(|r| revocation_type(r) == RevocationType::Hard)
        .or_else(|| revs.first())?;
    let (reason, note) = match rev.reason_for_revocation() {
        Some((code, text)) => (
            reason_word(code).to_string(),
            crate::names::printable(&String::from_utf8_lossy(text)),
        ),
        None => ("no reason given".to_string(), String::new()),
    };
    Some((
        revocation_type(rev) == RevocationType::Hard,
        reason,
        note,
        rev.signature_creation_time(),
    ))
}

fn is_weak(algorithm: &PublicKey) -> bool {
    match algorithm {
        PublicKey::RSA { .. } => algorithm.bits().is_some_and(|b| b < 2048),
        PublicKey::DSA { .. } => true,
        _ => false,
    }
}

/// A key's algorithm as gpg names it.
fn algorithm_name(mpis: &PublicKey) -> String {
    let bits = mpis.bits().map(|b| b.to_string()).unwrap_or_default();
    let curve = |c: &Curve| match c {
        Curve::NistP256 => "nistp256".to_string(),
        Curve::NistP384 => "nistp384".to_string(),
        Curve::NistP521 => "nistp521".to_string(),
        Curve::BrainpoolP256 => "brainpoolP256r1".to_string(),
        Curve::BrainpoolP384 => "brainpoolP384r1".to_string(),
        Curve::BrainpoolP512 => "brainpoolP512r1".to_string(),
        Curve::Ed25519 => "ed25519".to_string(),
        Curve::Cv25519 => "cv25519".to_string(),
        other => other.to_string().to_lowercase(),
    };
    match mpis {
        PublicKey::RSA { .. } => format!("rsa{bits}"),
        PublicKey::DSA { .. } => format!("dsa{bits}"),
        PublicKey::ElGamal { .. } => format!("elg{bits}"),
        PublicKey::EdDSA { curve: c, .. }
        | PublicKey::ECDSA { curve: c, .. }
        | PublicKey::ECDH { curve: c, .. } => curve(c),
        PublicKey::Ed25519 { .. } => "ed25519".to_string(),
        PublicKey::X25519 { .. } => "cv25519".to_string(),
        PublicKey::Ed448 { .. } => "ed448".to_string(),
        PublicKey::X448 { .. } => "cv448".to_string(),
        other => other
            .algo()
            .map_or_else(|| "unknown".to_string(), |a| a.to_string().to_lowercase()),
    }
}

/// A valid key's state: revoked, expired, or valid.
fn valid_key_state(ka: &ValidErasedKeyAmalgamation<'_, PublicParts>, now: SystemTime) -> KeyState {
    if let Some((hard, reason, _, _)) = revocation(&ka.revocation_status()) {
        return KeyState::Revoked { hard, reason };
    }
    if ka.alive().is_ok() {
        return KeyState::Valid;
    }
    if ka.key().creation_time() > now {
        KeyState::NotYetValid
    } else {
        KeyState::Expired
    }
}

/// The certificate's keys as sigtag's policy sees them at `now`.
fn describe(cert: &Cert, policy: &Policy, lenient: &Policy, now: SystemTime) -> CertInfo {
    let vc = cert.with_policy(policy, now);
    let lvc = cert.with_policy(lenient, now).ok();
    let keys = cert
        .keys()
        .map(|ka| {
            let fpr = ka.key().fingerprint();
            let valid = vc
                .as_ref()
                .ok()
                .and_then(|vc| vc.keys().key_handle(fpr.clone()).next());
            let seen = valid.clone().or_else(|| {
                lvc.as_ref()
                    .and_then(|l| l.keys().key_handle(fpr.clone()).next())
            });
            let state = match &valid {
                Some(v) => valid_key_state(v, now),
                None if ka.key().creation_time() > now => KeyState::NotYetValid,
                None => {
                    let why = match ka.clone().with_policy(policy, now) {
                        Err(e) => crate::error::clean(&format!("{e:#}")),
                        Ok(_) => "no binding sigtag's policy accepts".to_string(),
                    };
                    KeyState::Refused(why.chars().filter(|c| !c.is_control()).collect())
                }
            };
            KeyInfo {
                fingerprint: fpr.to_hex(),
                primary: ka.primary(),
                algorithm: algorithm_name(ka.key().mpis()),
                created: ka.key().creation_time(),
                expires: seen.as_ref().and_then(|k| k.key_expiration_time()),
                can_sign: seen.as_ref().is_some_and(|k| k.for_signing()),
                state,
            }
        })
        .collect();
    CertInfo {
        fingerprint: cert.fingerprint().to_hex(),
        user_ids: cert
            .userids()
            .map(|u| crate::names::printable(&String::from_utf8_lossy(u.userid().value())))
            .collect(),
        keys,
    }
}

/// What needs doing about one certificate.
fn cert_findings(cert: &Cert, policy: &Policy, lenient: &Policy, now: SystemTime) -> Vec<Finding> {
    let fpr = cert.fingerprint().to_hex();
    if let Some((hard, reason, note, at)) = revocation(&cert.revocation_status(policy, now)) {
        return vec![Finding::Revoked {
            cert: fpr.clone(),
            key: fpr,
            hard,
            reason,
            note,
            at,
        }];
    }
    let mut out = signing_findings(cert, policy, now);
    weak_keys(cert, policy, lenient, now, &mut out);
    out
}

/// Whether the certificate can sign now and for long enough, by keys
/// bound with SHA-256 or better: what says otherwise.
fn signing_findings(cert: &Cert, policy: &Policy, now: SystemTime) -> Vec<Finding> {
    let fpr = cert.fingerprint().to_hex();
    let vc = match cert.with_policy(policy, now) {
        Ok(vc) => vc,
        Err(e) => {
            return vec![Finding::CannotSign {
                cert: fpr,
                why: crate::names::printable(&crate::error::clean(&format!("{e:#}"))),
            }]
        }
    };
    let primary_expiry = vc.primary_key().key_expiration_time();
    if vc.alive().is_err() {
        return vec![match primary_expiry {
            Some(at) if at <= now => Finding::Expired {
                cert: fpr.clone(),
                key: fpr,
                at,
            },
            _ => Finding::CannotSign {
                cert: fpr,
                why: format!(
                    "it is not valid before {}",
                    rfc3339(cert.primary_key().key().creation_time())
                ),
            },
        }];
    }

    let signing: Vec<_> = vc.keys().for_signing().collect();
    let unrevoked = |k: &&ValidErasedKeyAmalgamation<'_, PublicParts>| {
        revocation(&k.revocation_status()).is_none()
    };
    let usable: Vec<_> = signing
        .iter()
        .filter(unrevoked)
        .filter(|k| k.alive().is_ok())
        .collect();
    if usable.is_empty() {
        let expired = signing
            .iter()
            .filter(unrevoked)
            .filter_map(|k| {
                k.key_expiration_time()
                    .filter(|&e| e <= now)
                    .map(|e| (e, k.key().fingerprint().to_hex()))
            })
            .max();
        if let Some((at, key)) = expired {
            return vec![Finding::Expired { cert: fpr, key, at }];
        }
        let revoked = signing.iter().find_map(|k| {
            revocation(&k.revocation_status()).map(|r| (k.key().fingerprint().to_hex(), r))
        });
        return vec![match revoked {
            Some((key, (hard, reason, note, at))) => Finding::Revoked {
                cert: fpr,
                key,
                hard,
                reason,
                note,
                at,
            },
            None => Finding::CannotSign {
                cert: fpr,
                why: "none of its keys may sign".to_string(),
            },
        }];
    }

    // It signs until its primary key or its last signing key expires.
    let last_key = if usable.iter().any(|k| k.key_expiration_time().is_none()) {
        None
    } else {
        usable
            .iter()
            .filter_map(|k| {
                k.key_expiration_time()
                    .map(|e| (e, k.key().fingerprint().to_hex()))
            })
            .max()
    };
    let until = match (primary_expiry, last_key) {
        (Some(p), Some((k, key))) if k < p => Some((k, key)),
        (Some(p), _) => Some((p, fpr.clone())),
        (None, k) => k,
    };
    let mut out = Vec::new();
    if let Some((at, key)) = until {
        if at.duration_since(now).unwrap_or_default() <= EXPIRY_WARNING {
            out.push(Finding::ExpiresSoon {
                cert: fpr.clone(),
                key,
                at,
            });
        }
    }

    // The bindings in force now; a SHA-1 one is accepted only when it was
    // made before 2023-02-01 (the policy's exception).
    let mut sha1 = Vec::new();
    if vc.primary_key().binding_signature().hash_algo() == HashAlgorithm::SHA1 {
        sha1.push(fpr.clone());
    }
    for k in usable.iter().filter(|k| !k.primary()) {
        if k.binding_signature().hash_algo() == HashAlgorithm::SHA1 {
            sha1.push(k.key().fingerprint().to_hex());
        }
    }
    if !sha1.is_empty() {
        out.push(Finding::Sha1Binding {
            cert: fpr,
            keys: sha1,
        });
    }
    out
}

/// Weak keys still in use (alive and not revoked, by the lenient policy).
fn weak_keys(
    cert: &Cert,
    policy: &Policy,
    lenient: &Policy,
    now: SystemTime,
    out: &mut Vec<Finding>,
) {
    let Ok(lvc) = cert.with_policy(lenient, now) else {
        return;
    };
    let strict = cert.with_policy(policy, now).ok();
    let fpr = cert.fingerprint().to_hex();
    for ka in lvc.keys() {
        if !is_weak(ka.key().mpis())
            || ka.alive().is_err()
            || revocation(&ka.revocation_status()).is_some()
        {
            continue;
        }
        let key = ka.key().fingerprint();
        let refused = strict
            .as_ref()
            .is_none_or(|vc| vc.keys().key_handle(key.clone()).next().is_none());
        out.push(Finding::Weak {
            cert: fpr.clone(),
            key: key.to_hex(),
            primary: ka.primary(),
            algorithm: algorithm_name(ka.key().mpis()),
            refused,
        });
    }
}

// ------------------------------------------------------------------ renderers

/// The files of each signer, by name, as they are to be shown.
pub type Files = BTreeMap<String, Vec<String>>;

fn file_of(files: &Files, signer: &str) -> String {
    files
        .get(signer)
        .and_then(|f| f.first())
        .cloned()
        .unwrap_or_else(|| format!("{signer}'s certificate file"))
}

fn time_or(t: Option<SystemTime>, none: &str) -> String {
    t.map_or_else(|| none.to_string(), rfc3339)
}

/// The report for people: one block per signer (its files, groups,
/// certificates and keys, then one line per finding with its fix, or
/// `usable`), and a last line that sums it up.
pub fn text(health: &Health, files: &Files) -> String {
    let mut out = String::new();
    for (i, s) in health.signers.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let codes: Vec<&str> = s.findings.iter().map(Finding::code).collect();
        let head = if codes.is_empty() {
            "usable".to_string()
        } else {
            codes.join(", ")
        };
        let _ = writeln!(out, "{}: {head}", s.name);
        let shown = files.get(&s.name).cloned().unwrap_or_default();
        let _ = writeln!(out, "  files: {}", shown.join(", "));
        let groups = if s.groups.is_empty() {
            "(none)".to_string()
        } else {
            s.groups.join(", ")
        };
        let _ = writeln!(out, "  groups: {groups}");
        for c in &s.certificates {
            let _ = writeln!(out, "  certificate {}", c.fingerprint);
            for u in &c.user_ids {
                let _ = writeln!(out, "    user ID {u}");
            }
            for k in &c.keys {
                let state = match &k.state {
                    KeyState::Revoked { reason, .. } => format!("revoked ({reason})"),
                    KeyState::Refused(why) => format!("refused: {why}"),
                    other => other.word().to_string(),
                };
                let _ = writeln!(
                    out,
                    "    {} {} {}, created {}, expires {}, {}, {state}",
                    if k.primary { "primary" } else { "subkey" },
                    k.fingerprint,
                    k.algorithm,
                    rfc3339(k.created),
                    time_or(k.expires, "never"),
                    if k.can_sign {
                        "can sign"
                    } else {
                        "cannot sign"
                    },
                );
            }
        }
        for k in &s.ssh_keys {
            let _ = writeln!(
                out,
                "  ssh key {} {}, valid after {}, valid before {}, {}",
                k.fingerprint,
                k.key_type,
                time_or(k.valid_after, "(any time)"),
                time_or(k.valid_before, "(any time)"),
                k.state
            );
        }
        if s.findings.is_empty() {
            let _ = writeln!(out, "  usable: can sign, in {}", s.groups.join(", "));
        }
        let file = file_of(files, &s.name);
        for f in &s.findings {
            let _ = writeln!(
                out,
                "  {}: {}; {}",
                f.code(),
                f.message(&s.name, health.at),
                f.fix(&s.name, &file)
            );
        }
    }
    let attention: Vec<&str> = health
        .signers
        .iter()
        .filter(|s| !s.usable())
        .map(|s| s.name.as_str())
        .collect();
    let n = health.signers.len();
    if n == 0 {
        out.push_str("no signers: add one certificate file per signer\n");
    } else if attention.is_empty() {
        let _ = writeln!(
            out,
            "\n{n} signer{} usable and in a group",
            if n == 1 { "" } else { "s" }
        );
    } else {
        let _ = writeln!(
            out,
            "\n{} of {n} signer{} need{} attention: {}",
            attention.len(),
            if n == 1 { "" } else { "s" },
            if attention.len() == 1 { "s" } else { "" },
            attention.join(", ")
        );
    }
    out
}

/// The report for machines (documented in README.md, "sigtag keys"):
/// `{"keys": DIR, "checked": TIME, "ok": BOOL, "signers": [...]}`.
pub fn json(health: &Health, keys: &str, files: &Files) -> Value {
    let signers: Vec<Value> = health
        .signers
        .iter()
        .map(|s| {
            let file = file_of(files, &s.name);
            let statuses: Vec<Value> = if s.findings.is_empty() {
                vec![json!({
                    "status": "usable", "certificate": null, "key": null, "date": null,
                    "hard": null, "reason": null,
                    "message": format!("{} can sign and is in {}", s.name, s.groups.join(", ")),
                    "fix": null,
                })]
            } else {
                s.findings
                    .iter()
                    .map(|f| {
                        let (hard, reason) = match f {
                            Finding::Revoked { hard, reason, .. } => (json!(hard), json!(reason)),
                            _ => (Value::Null, Value::Null),
                        };
                        json!({
                            "status": f.code(),
                            "certificate": f.cert(),
                            "key": f.key(),
                            "date": f.date().map(rfc3339),
                            "hard": hard,
                            "reason": reason,
                            "message": f.message(&s.name, health.at),
                            "fix": f.fix(&s.name, &file),
                        })
                    })
                    .collect()
            };
            let certificates: Vec<Value> = s
                .certificates
                .iter()
                .map(|c| {
                    let keys: Vec<Value> = c
                        .keys
                        .iter()
                        .map(|k| {
                            let (revoked, why) = match &k.state {
                                KeyState::Revoked { hard, reason } => {
                                    (json!({"hard": hard, "reason": reason}), Value::Null)
                                }
                                KeyState::Refused(why) => (Value::Null, json!(why)),
                                _ => (Value::Null, Value::Null),
                            };
                            json!({
                                "fingerprint": k.fingerprint,
                                "primary": k.primary,
                                "algorithm": k.algorithm,
                                "created": rfc3339(k.created),
                                "expires": k.expires.map(rfc3339),
                                "can_sign": k.can_sign,
                                "state": k.state.word(),
                                "revoked": revoked,
                                "refused": why,
                            })
                        })
                        .collect();
                    json!({
                        "fingerprint": c.fingerprint,
                        "user_ids": c.user_ids,
                        "keys": keys,
                    })
                })
                .collect();
            let ssh_keys: Vec<Value> = s
                .ssh_keys
                .iter()
                .map(|k| {
                    json!({
                        "fingerprint": k.fingerprint,
                        "type": k.key_type,
                        "valid_after": k.valid_after.map(rfc3339),
                        "valid_before": k.valid_before.map(rfc3339),
                        "state": k.state,
                    })
                })
                .collect();
            json!({
                "name": s.name,
                "usable": s.usable(),
                "files": files.get(&s.name).cloned().unwrap_or_default(),
                "groups": s.groups,
                "certificates": certificates,
                "ssh_keys": ssh_keys,
                "statuses": statuses,
            })
        })
        .collect();
    json!({
        "keys": keys,
        "checked": rfc3339(health.at),
        "ok": health.ok(),
        "signers": signers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::CertSource;
    use openpgp::cert::{CertBuilder, CipherSuite};
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::packet::{Packet, UserID};
    use openpgp::serialize::SerializeInto as _;
    use openpgp::types::{KeyFlags, ReasonForRevocation, SignatureType};
    use std::time::UNIX_EPOCH;

    const DAY: u64 = 86_400;
    /// 2024-01-01T00:00:00Z
    const JAN_2024: u64 = 1_704_067_200;

    fn t(days: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(JAN_2024 + days * DAY)
    }

    /// A certificate made at `t(0)` whose primary key certifies and signs.
    fn signing_cert(uid: &str, validity: Option<u64>) -> Cert {
        CertBuilder::new()
            .add_userid(uid)
            .set_creation_time(t(0))
            .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
            .set_validity_period(validity.map(|d| Duration::from_secs(d * DAY)))
            .generate()
            .unwrap()
            .0
    }

    /// A certificate made at `t(0)` whose primary key only certifies, with
    /// a signing subkey valid for `sub_days`.
    fn subkey_cert(sub_days: u64) -> Cert {
        CertBuilder::new()
            .add_userid("alice <alice@example.org>")
            .set_creation_time(t(0))
            .add_subkey(
                KeyFlags::empty().set_signing(),
                Duration::from_secs(sub_days * DAY),
                None,
            )
            .generate()
            .unwrap()
            .0
    }

    fn revoked(cert: Cert, reason: ReasonForRevocation, at: SystemTime) -> Cert {
        crate::testing::revoked(cert, reason, b"laptop\nlost", at)
    }

    /// A trust root of `signers` (name, certificates) and `groups`.
    fn trust(signers: Vec<(&str, Vec<Cert>)>, groups: &[(&str, &[&str])]) -> Trust {
        let sources = signers
            .into_iter()
            .map(|(name, certs)| CertSource {
                name: name.to_string(),
                origin: format!("keys/{name}.asc"),
                bytes: certs
                    .into_iter()
                    .flat_map(|c| c.strip_secret_key_material().armored().to_vec().unwrap())
                    .collect(),
            })
            .collect();
        let groups = groups
            .iter()
            .map(|(g, m)| (g.to_string(), m.iter().map(|s| s.to_string()).collect()))
            .collect();
        Trust::build(sources, groups, BTreeMap::new(), "keys/policy.toml").unwrap()
    }

    fn alone(cert: Cert) -> Trust {
        trust(vec![("alice", vec![cert])], &[("humans", &["alice"])])
    }

    fn findings(trust: &Trust, at: SystemTime) -> Vec<Finding> {
        let health = evaluate(trust, at);
        assert_eq!(health.signers.len(), 1);
        health.signers[0].findings.clone()
    }

    fn hex(cert: &Cert) -> String {
        cert.fingerprint().to_hex()
    }

    #[test]
    fn a_signing_key_in_a_group_is_usable() {
        let cert = signing_cert("alice <alice@example.org>", None);
        let trust = alone(cert.clone());
        let health = evaluate(&trust, t(10));
        assert!(health.ok());
        let alice = &health.signers[0];
        assert_eq!(alice.findings, vec![]);
        assert_eq!(alice.groups, ["humans"]);
        assert_eq!(
            alice.certificates,
            vec![CertInfo {
                fingerprint: hex(&cert),
                user_ids: vec!["alice <alice@example.org>".into()],
                keys: vec![KeyInfo {
                    fingerprint: hex(&cert),
                    primary: true,
                    algorithm: "ed25519".into(),
                    created: t(0),
                    expires: None,
                    can_sign: true,
                    state: KeyState::Valid,
                }],
            }]
        );
    }

    #[test]
    fn expiry_within_30_days_is_reported_then_expiry() {
        let cert = signing_cert("alice <alice@example.org>", Some(100));
        let trust = alone(cert.clone());
        let fpr = hex(&cert);
        assert_eq!(findings(&trust, t(69)), vec![], "31 days left");
        let soon = Finding::ExpiresSoon {
            cert: fpr.clone(),
            key: fpr.clone(),
            at: t(100),
        };
        assert_eq!(findings(&trust, t(70)), vec![soon.clone()]);
        assert_eq!(
            soon.message("alice", t(71)),
            format!("alice's certificate {fpr} expires at 2024-04-10T00:00:00Z, in 29 days")
        );
        assert_eq!(
            soon.fix("alice", "keys/alice.asc"),
            format!(
                "its holder extends it with gpg --quick-set-expire {fpr} 2y and exports it again: \
                 gpg --armor --export {fpr} > keys/alice.asc"
            )
        );
        let expired = Finding::Expired {
            cert: fpr.clone(),
            key: fpr.clone(),
            at: t(100),
        };
        assert_eq!(findings(&trust, t(100)), vec![expired.clone()]);
        assert!(!evaluate(&trust, t(100)).ok());
        assert_eq!(
            evaluate(&trust, t(101)).signers[0].certificates[0].keys[0].state,
            KeyState::Expired
        );
        assert!(expired
            .fix("alice", "keys/alice.asc")
            .ends_with("; or, if a new certificate replaced it, remove it from keys/alice.asc"));
    }

    #[test]
    fn a_signing_subkey_that_expires_first_is_named() {
        let cert = subkey_cert(40);
        let sub = cert
            .keys()
            .subkeys()
            .next()
            .unwrap()
            .key()
            .fingerprint()
            .to_hex();
        let fpr = hex(&cert);
        let trust = alone(cert);
        assert_eq!(findings(&trust, t(9)), vec![]);
        assert_eq!(
            findings(&trust, t(10)),
            vec![Finding::ExpiresSoon {
                cert: fpr.clone(),
                key: sub.clone(),
                at: t(40)
            }]
        );
        let expired = Finding::Expired {
            cert: fpr.clone(),
            key: sub.clone(),
            at: t(40),
        };
        assert_eq!(findings(&trust, t(41)), vec![expired.clone()]);
        assert_eq!(
            expired.message("alice", t(41)),
            format!(
                "alice's signing key {sub} (of certificate {fpr}) expired at 2024-02-10T00:00:00Z: \
                 it signs nothing new, and its earlier signatures still count"
            )
        );
        assert!(expired.fix("alice", "keys/alice.asc").starts_with(&format!(
            "its holder extends it with gpg --quick-set-expire {fpr} 2y {sub} and"
        )));
    }

    #[test]
    fn revocations_are_hard_or_soft_with_their_reason() {
        for (reason, hard, word) in [
            (ReasonForRevocation::KeyCompromised, true, "compromised"),
            (ReasonForRevocation::Unspecified, true, "unspecified"),
            (ReasonForRevocation::KeySuperseded, false, "superseded"),
            (ReasonForRevocation::KeyRetired, false, "retired"),
        ] {
            let cert = signing_cert("alice <alice@example.org>", None);
            let fpr = hex(&cert);
            let trust = alone(revoked(cert, reason, t(5)));
            let finding = Finding::Revoked {
                cert: fpr.clone(),
                key: fpr.clone(),
                hard,
                reason: word.to_string(),
                note: "laptoplost".to_string(),
                at: Some(t(5)),
            };
            assert_eq!(findings(&trust, t(6)), vec![finding.clone()], "{word}");
            let key = &evaluate(&trust, t(6)).signers[0].certificates[0].keys[0];
            assert_eq!(
                key.state,
                KeyState::Revoked {
                    hard,
                    reason: word.to_string()
                }
            );
            let message = finding.message("alice", t(6));
            if hard {
                assert_eq!(
                    message,
                    format!(
                        "alice's certificate {fpr} is revoked ({word}, \"laptoplost\") at \
                         2024-01-06T00:00:00Z, a hard revocation: none of its signatures count, old ones too"
                    )
                );
            } else {
                assert!(message.ends_with(", a soft revocation: it signs nothing new, and its signatures made before then still count"), "{message}");
            }
        }
    }

    #[test]
    fn signers_in_no_group_and_with_several_certificates_are_reported() {
        let old = signing_cert("alice <alice@example.org>", None);
        let new = signing_cert("alice <alice@example.org>", None);
        let bob = signing_cert("bob <bob@example.org>", None);
        let trust = trust(
            vec![
                ("alice", vec![old.clone(), new.clone()]),
                ("bob", vec![bob]),
            ],
            &[("humans", &["alice"])],
        );
        let health = evaluate(&trust, t(1));
        assert!(!health.ok());
        assert_eq!(
            health.signers[0].findings,
            vec![Finding::SeveralCertificates {
                fingerprints: vec![hex(&old), hex(&new)]
            }]
        );
        assert_eq!(health.signers[1].findings, vec![Finding::NoGroup]);
        assert_eq!(
            Finding::NoGroup.message("bob", t(1)),
            "bob is in no group of policy.toml, so bob's signatures count for no rule"
        );
        assert_eq!(
            Finding::NoGroup.fix("bob", "keys/bob.asc"),
            "add bob to a group under [groups] in policy.toml, or remove keys/bob.asc"
        );
    }

    #[test]
    fn an_old_sha1_binding_is_reported_with_the_refresh() {
        // 2021-01-01: before the cutoff, so sigtag's policy accepts it.
        let made = UNIX_EPOCH + Duration::from_secs(1_609_459_200);
        let (full, _) = CertBuilder::new()
            .set_creation_time(made)
            .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
            .generate()
            .unwrap();
        let mut signer = full
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap();
        let uid = UserID::from("alice <alice@example.org>");
        let binding = SignatureBuilder::new(SignatureType::PositiveCertification)
            .set_hash_algo(HashAlgorithm::SHA1)
            .set_signature_creation_time(made)
            .unwrap()
            .set_key_flags(KeyFlags::empty().set_certification().set_signing())
            .unwrap()
            .sign_userid_binding(&mut signer, None, &uid)
            .unwrap();
        let primary = full.primary_key().key().clone().parts_into_public();
        let cert =
            Cert::from_packets(vec![Packet::from(primary), uid.into(), binding.into()].into_iter())
                .unwrap();
        let fpr = hex(&cert);
        let trust = alone(cert);
        let finding = Finding::Sha1Binding {
            cert: fpr.clone(),
            keys: vec![fpr.clone()],
        };
        assert_eq!(findings(&trust, t(0)), vec![finding.clone()]);
        assert_eq!(
            finding.message("alice", t(0)),
            format!(
                "alice's certificate {fpr} is bound only by SHA-1 self-signatures, accepted \
                 because they were made before 2023-02-01"
            )
        );
        assert_eq!(
            finding.fix("alice", "keys/alice.asc"),
            format!(
                "its holder refreshes it with a SHA-256 binding, gpg --cert-digest-algo SHA256 \
                 --quick-set-expire {fpr} 2y, and exports it again: gpg --armor --export {fpr} > \
                 keys/alice.asc (earlier signatures keep counting)"
            )
        );
    }

    #[test]
    fn algorithms_are_named_as_gpg_names_them() {
        let rsa = CertBuilder::new()
            .add_userid("r")
            .set_cipher_suite(CipherSuite::RSA2k)
            .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
            .generate()
            .unwrap()
            .0;
        let mpis = rsa.primary_key().key().mpis();
        assert_eq!(algorithm_name(mpis), "rsa2048");
        assert!(!is_weak(mpis), "RSA 2048 is not weak");
        let p256 = CertBuilder::new()
            .add_userid("p")
            .set_cipher_suite(CipherSuite::P256)
            .generate()
            .unwrap()
            .0;
        assert_eq!(algorithm_name(p256.primary_key().key().mpis()), "nistp256");
    }

    #[test]
    fn the_json_report_has_a_stable_shape() {
        let cert = signing_cert("alice <alice@example.org>", Some(20));
        let fpr = hex(&cert);
        let trust = alone(cert);
        let health = evaluate(&trust, t(1));
        let files = Files::from([("alice".to_string(), vec!["keys/alice.asc".to_string()])]);
        let value = json(&health, "keys", &files);
        assert_eq!(value["ok"], json!(false));
        assert_eq!(value["checked"], json!("2024-01-02T00:00:00Z"));
        assert_eq!(value["signers"][0]["files"], json!(["keys/alice.asc"]));
        assert_eq!(value["signers"][0]["usable"], json!(false));
        assert_eq!(
            value["signers"][0]["certificates"][0]["keys"][0],
            json!({
                "fingerprint": fpr, "primary": true, "algorithm": "ed25519",
                "created": "2024-01-01T00:00:00Z", "expires": "2024-01-21T00:00:00Z",
                "can_sign": true, "state": "valid", "revoked": null, "refused": null,
            })
        );
        assert_eq!(
            value["signers"][0]["statuses"],
            json!([{
                "status": "expires-soon", "certificate": fpr, "key": fpr,
                "date": "2024-01-21T00:00:00Z", "hard": null, "reason": null,
                "message": format!("alice's certificate {fpr} expires at 2024-01-21T00:00:00Z, in 19 days"),
                "fix": format!("its holder extends it with gpg --quick-set-expire {fpr} 2y and exports it again: gpg --armor --export {fpr} > keys/alice.asc"),
            }])
        );
    }
}
