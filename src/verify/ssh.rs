//! SSH signatures: everything of verification that speaks SSH
//! (`gpg.format=ssh`, OpenSSH's PROTOCOL.sshsig), in-process with
//! RustCrypto's `ssh-key`.
//!
//! This module reads a layer's `-----BEGIN SSH SIGNATURE-----` block
//! ([`sshsig`]), finds the signer by the SHA256 fingerprint of the public
//! key the signature carries, checks the mathematics, and answers the
//! scheme's questions of [`super::Verified`]:
//! - its form: an SSH signature carries no time, so the layer's tagger
//!   date, which it signs, stands for its creation time (the date
//!   agreement holds by construction; the future-date check and the key's
//!   window are judged at that date);
//! - its algorithms: namespace exactly `git`, hash `sha256` or `sha512`,
//!   and for a FIDO key the user-presence flag (and user verification
//!   when policy.toml's `[ssh] require_user_verification = true`);
//! - the key's window (`valid-after`, `valid-before`) at the tagger date.
//!
//! Invariants:
//! - one block is one signature; a block that does not parse strictly
//!   rejects the tag (unreadable signature block);
//! - a key listed in `revoked.pub` counts for nothing, whoever holds it,
//!   and is not looked at further;
//! - for a signer's key, the mathematics are decided before any other
//!   question (namespace, hash, flags, window), so a signature that does
//!   not verify is always reported as bad, and rejects the tag, whatever
//!   else is wrong with it; only a signature over a hash sigtag does not
//!   compute, or an `ssh-rsa` (SHA-1) one, counts for nothing without its
//!   mathematics being checked (no SHA-1 code is carried for it);
//! - nothing here reads a repository or the clock.

pub mod sshsig;

use super::Verified;
use crate::keys::ssh::{fingerprint_of_blob, SshKey};
use crate::problem::Problem;
use crate::trust::Trust;
use signature::Verifier as _;
use ssh_key::public::KeyData;
use ssh_key::sha2::{Digest, Sha256, Sha512};
use ssh_key::{Algorithm, HashAlg, Signature};
use sshsig::{SshSig, SK_USER_PRESENT, SK_USER_VERIFIED};
use std::time::{Duration, SystemTime};

/// An SSH signature whose mathematics hold for a signer's key.
pub(super) struct SshSignature<'t> {
    sig: SshSig,
    signer: usize,
    name: &'t str,
    key: &'t SshKey,
    dated: i64,
    require_uv: bool,
}

/// The signature of an SSH block over `payload`, in a layer dated `dated`
/// (seconds since the epoch): verified for a signer's key (to be judged by
/// the scheme-neutral rules) or refused with its problem. The whole block
/// may be refused.
pub(super) fn verify_block<'t>(
    block: &[u8],
    payload: &[u8],
    dated: i64,
    trust: &'t Trust,
) -> Result<Vec<Result<SshSignature<'t>, Problem>>, Problem> {
    let sig = sshsig::parse(block).map_err(Problem::UnreadableSignature)?;
    Ok(vec![verify_signature(sig, payload, dated, trust)])
}

fn verify_signature<'t>(
    sig: SshSig,
    payload: &[u8],
    dated: i64,
    trust: &'t Trust,
) -> Result<SshSignature<'t>, Problem> {
    let fingerprint = fingerprint_of_blob(&sig.public_key);
    let index = trust.keyring().ssh();
    if let Some(origin) = index.revoked(&fingerprint) {
        return Err(Problem::SshRevoked {
            key: fingerprint,
            origin: origin.to_string(),
        });
    }
    let found = index.find(&fingerprint).and_then(|(si, ki)| {
        let signer = trust.signer(si)?;
        Some((si, signer, signer.keys.ssh().get(ki)?))
    });
    let Some((si, signer, key)) = found.filter(|(_, _, k)| k.blob() == sig.public_key) else {
        return Err(Problem::UnknownKey(fingerprint));
    };
    let name = signer.name.as_str();
    if sig.signature_algorithm == b"ssh-rsa" {
        return Err(Problem::Weak {
            signer: name.to_string(),
            algo: "ssh-rsa (RSA with SHA-1)".into(),
        });
    }
    let digest = match sig.hash_algorithm.as_slice() {
        b"sha256" => Sha256::digest(payload).to_vec(),
        b"sha512" => Sha512::digest(payload).to_vec(),
        other => {
            return Err(Problem::Weak {
                signer: name.to_string(),
                algo: format!(
                    "the hash \"{}\"",
                    crate::names::printable(&String::from_utf8_lossy(other))
                ),
            })
        }
    };
    // The mathematics first: a signature the key does not verify means the
    // layer was altered, whatever else is wrong with it.
    if !verifies(&sig, key, &digest) {
        return Err(Problem::BadSignature {
            signer: name.to_string(),
            key: fingerprint,
        });
    }
    Ok(SshSignature {
        sig,
        signer: si,
        name,
        key,
        dated,
        require_uv: trust.require_user_verification(),
    })
}

/// Does the signature verify over the signed data for `digest` with `key`,
/// by the mathematics alone? The signature's algorithm must be the key's
/// (for RSA: rsa-sha2-256 or rsa-sha2-512).
fn verifies(sig: &SshSig, key: &SshKey, digest: &[u8]) -> bool {
    verifies_with(sig, key.key_data(), digest)
}

/// Does the signature verify over the signed data for `digest` with the
/// public key `key`, by the mathematics alone? As [`verifies`], for a key
/// that is not (yet) a signer's: the key that signs a layer.
pub(crate) fn verifies_with(sig: &SshSig, key: &KeyData, digest: &[u8]) -> bool {
    let Ok(signature) = Signature::try_from(sig.signature.as_slice()) else {
        return false;
    };
    let matches = match (key.algorithm(), signature.algorithm()) {
        (Algorithm::Rsa { .. }, Algorithm::Rsa { hash }) => {
            matches!(hash, Some(HashAlg::Sha256 | HashAlg::Sha512))
        }
        (k, s) => k == s,
    };
    matches && key.verify(&sig.signed_data(digest), &signature).is_ok()
}

fn tagger_time(t: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

impl Verified for SshSignature<'_> {
    fn signer(&self) -> usize {
        self.signer
    }

    fn name(&self) -> &str {
        self.name
    }

    fn key(&self) -> String {
        self.key.fingerprint().to_string()
    }

    fn created(&self) -> Result<SystemTime, Problem> {
        Ok(tagger_time(self.dated))
    }

    fn algorithms(&self) -> Result<(), Problem> {
        let signer = || self.name.to_string();
        if self.sig.namespace != b"git" {
            return Err(Problem::SshNamespace {
                signer: signer(),
                namespace: crate::names::printable(&String::from_utf8_lossy(&self.sig.namespace)),
            });
        }
        if let Some(sk) = self.sig.sk {
            if sk.flags & SK_USER_PRESENT == 0 {
                return Err(Problem::NoUserPresence {
                    signer: signer(),
                    key: self.key(),
                });
            }
            if self.require_uv && sk.flags & SK_USER_VERIFIED == 0 {
                return Err(Problem::NoUserVerification {
                    signer: signer(),
                    key: self.key(),
                });
            }
        }
        Ok(())
    }

    fn expires(&self) -> Option<SystemTime> {
        None
    }

    fn key_valid_at(&self, created: SystemTime) -> Result<(), Problem> {
        let t = created
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        if self.key.valid_at(t) {
            return Ok(());
        }
        Err(Problem::SshKeyOutsideWindow {
            signer: self.name.to_string(),
            key: self.key(),
            window: self.key.window_words(),
            origin: self.key.origin().to_string(),
            dated: crate::date::rfc3339(created),
        })
    }
}

#[cfg(test)]
mod tests {
    //! SSH rules on keys made in-process (FIDO keys among them, whose
    //! signatures no test can make with ssh-keygen and no token); the same
    //! rules are tested against ssh-keygen and git in tests/ssh.rs.
    use super::sshsig::{armor, blob, signature_blob, SkTrailer};
    use super::*;
    use crate::chain::Layer;
    use crate::object::{self, Kind, Tagger};
    use crate::trust::{CertSource, Policy, SshPolicy, Trust};
    use crate::verify::{check_layer, Outcome};
    use signature::Signer as _;
    use ssh_key::private::Ed25519Keypair;
    use ssh_key::public::{KeyData, SkEd25519};
    use std::collections::BTreeMap;

    const T: i64 = 1_700_000_000;
    const APP: &str = "ssh:";

    fn now() -> SystemTime {
        tagger_time(T + 60)
    }

    fn pair() -> Ed25519Keypair {
        Ed25519Keypair::from_seed(&[7; 32])
    }

    fn sk_key() -> KeyData {
        KeyData::SkEd25519(SkEd25519::new(pair().public, APP))
    }

    fn wire(k: &KeyData) -> Vec<u8> {
        ssh_key::PublicKey::new(k.clone(), "").to_bytes().unwrap()
    }

    fn trust(key: &KeyData, uv: bool) -> Trust {
        let line = format!(
            "{} {}\n",
            key.algorithm().as_str(),
            crate::encoding::base64(&wire(key))
        );
        let src = CertSource {
            name: "alice".into(),
            origin: "source.signers.alice".into(),
            bytes: line.into_bytes(),
        };
        let policy = Policy {
            groups: BTreeMap::from([("humans".to_string(), vec!["alice".to_string()])]),
            ssh: SshPolicy {
                require_user_verification: uv,
                revoked: Vec::new(),
            },
            ..Default::default()
        };
        Trust::build_policy(vec![src], policy, "policy").unwrap()
    }

    /// A layer signed by the FIDO key with `flags`, over `message`; the
    /// signature is made over `signed_message` (the same, unless a test
    /// alters it).
    fn sk_layer(flags: u8, namespace: &[u8]) -> Layer {
        let tagger = Tagger {
            ident: "alice <alice@example.org>".into(),
            time: T,
            tz: "+0000".into(),
        };
        let oid = "0123456789abcdef0123456789abcdef01234567";
        let mut bytes = object::unsigned_payload(oid, Kind::Commit, "v1", &tagger, "m\n");
        let digest = Sha512::digest(&bytes).to_vec();
        let unsigned = SshSig {
            public_key: wire(&sk_key()),
            namespace: namespace.to_vec(),
            hash_algorithm: b"sha512".to_vec(),
            signature: Vec::new(),
            signature_algorithm: Vec::new(),
            sk: None,
        };
        let counter = 3u32;
        let mut signed = Sha256::digest(APP.as_bytes()).to_vec();
        signed.push(flags);
        signed.extend_from_slice(&counter.to_be_bytes());
        signed.extend_from_slice(&Sha256::digest(unsigned.signed_data(&digest)));
        let raw = pair().try_sign(&signed).unwrap();
        let inner = signature_blob(
            b"sk-ssh-ed25519@openssh.com",
            raw.as_bytes(),
            Some(SkTrailer { flags, counter }),
        );
        bytes.extend_from_slice(&armor(&blob(
            &unsigned.public_key,
            namespace,
            b"sha512",
            &inner,
        )));
        Layer {
            number: 1,
            oid: oid.into(),
            object: object::parse(&bytes).unwrap(),
        }
    }

    fn outcome(layer: &Layer, trust: &Trust) -> Result<String, String> {
        let mut o = check_layer(layer, trust, now());
        assert_eq!(o.len(), 1);
        match o.remove(0) {
            Outcome::Counts { key, created, .. } => {
                assert_eq!(created, tagger_time(T));
                Ok(key)
            }
            Outcome::Fails(p) => Err(p.to_string()),
        }
    }

    #[test]
    fn a_touched_fido_signature_counts() {
        let key = outcome(&sk_layer(SK_USER_PRESENT, b"git"), &trust(&sk_key(), false)).unwrap();
        assert_eq!(key, fingerprint_of_blob(&wire(&sk_key())));
        assert!(key.starts_with("SHA256:"));
    }

    #[test]
    fn a_fido_signature_without_a_touch_counts_for_nothing() {
        let fpr = fingerprint_of_blob(&wire(&sk_key()));
        assert_eq!(
            outcome(&sk_layer(0, b"git"), &trust(&sk_key(), false)).unwrap_err(),
            format!("signature by alice ({fpr}) was made without a touch (no user presence)")
        );
        // Verification alone is no touch.
        assert!(outcome(
            &sk_layer(SK_USER_VERIFIED, b"git"),
            &trust(&sk_key(), false)
        )
        .is_err());
    }

    #[test]
    fn user_verification_counts_only_when_the_policy_asks_for_it() {
        let fpr = fingerprint_of_blob(&wire(&sk_key()));
        let touched = sk_layer(SK_USER_PRESENT, b"git");
        assert_eq!(
            outcome(&touched, &trust(&sk_key(), true)).unwrap_err(),
            format!(
                "signature by alice ({fpr}) was made without user verification (no PIN or biometric), \
                 which policy.toml's [ssh] require_user_verification demands"
            )
        );
        let verified = sk_layer(SK_USER_PRESENT | SK_USER_VERIFIED, b"git");
        assert!(outcome(&verified, &trust(&sk_key(), true)).is_ok());
    }

    #[test]
    fn the_flags_are_signed() {
        // A touch-less signature whose flags are set afterwards is bad.
        let layer = sk_layer(0, b"git");
        let parsed = match &layer.object.signature {
            object::SignatureBlock::Ssh(b) => sshsig::parse(b).unwrap(),
            _ => panic!("not ssh"),
        };
        let mut s = Reader::new(&parsed);
        s.flags = SK_USER_PRESENT;
        let mut bytes = layer.object.payload().to_vec();
        bytes.extend_from_slice(&armor(&s.blob()));
        let forged = Layer {
            object: object::parse(&bytes).unwrap(),
            ..layer
        };
        let p = check_layer(&forged, &trust(&sk_key(), false), now()).remove(0);
        let Outcome::Fails(p) = p else {
            panic!("counted")
        };
        assert!(p.rejects_tag(), "{p}");
        assert!(
            p.to_string().starts_with("bad signature by alice (SHA256:"),
            "{p}"
        );
    }

    #[test]
    fn the_namespace_must_be_git() {
        assert_eq!(
            outcome(&sk_layer(SK_USER_PRESENT, b"file"), &trust(&sk_key(), false)).unwrap_err(),
            "SSH signature by alice is in namespace \"file\", not \"git\": it was made for something else than a git tag"
        );
    }

    /// Rebuilds a parsed signature with other flags.
    struct Reader {
        sig: SshSig,
        flags: u8,
    }

    impl Reader {
        fn new(sig: &SshSig) -> Reader {
            Reader {
                sig: sig.clone(),
                flags: sig.sk.unwrap().flags,
            }
        }

        fn blob(&self) -> Vec<u8> {
            let mut inner = self.sig.signature.clone();
            let at = inner.len() - 5;
            inner[at] = self.flags;
            blob(
                &self.sig.public_key,
                &self.sig.namespace,
                &self.sig.hash_algorithm,
                &inner,
            )
        }
    }
}
