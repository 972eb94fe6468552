//! sigtag's OpenPGP policy: Sequoia's standard policy with named
//! exceptions.
//!
//! This is the one place where sigtag's policy differs from the standard
//! policy; every exception lives here, with its reason, so a reader can
//! see at once how far sigtag trusts what the standard policy would not.
//!
//! - Revocation signatures (key, subkey and certification revocations)
//!   are accepted whatever their hash algorithm and date. The standard
//!   policy accepts SHA-1 revocations only until its cutoff; after that a
//!   key revoked as compromised would count again. A revocation can only
//!   take trust away, so honouring a weak one never lets anything in.
//! - SHA-1 self-signatures made before 2023-02-01 are accepted: user ID
//!   bindings (certifications), subkey bindings, the back-signatures
//!   (primary key bindings) that signing subkeys embed in them, and
//!   direct-key signatures whose hash is SHA-1 and whose creation time is before
//!   [`SHA1_SELF_SIGNATURE_CUTOFF_EPOCH`]. Many long-lived keys are bound only
//!   by such signatures, gpg accepts them, and sigtag never uses
//!   third-party certifications, where SHA-1 collisions matter. The
//!   standard policy judges a hash against its reference time (now), not
//!   the signature's creation time, so it refuses every SHA-1
//!   self-signature today, however old. Everything else of the standard
//!   policy still applies to them (critical subpackets, for example); a
//!   SHA-1 self-signature made on or after the cutoff, and any SHA-1 data
//!   signature (a tag's own), stay refused.

use openpgp::packet::{key, Packet, Signature};
use openpgp::policy::{HashAlgoSecurity, Policy as OpenPgpPolicy, StandardPolicy};
use openpgp::types::{AEADAlgorithm, HashAlgorithm, SignatureType, SymmetricAlgorithm};
use sequoia_openpgp as openpgp;
use std::time::{Duration, SystemTime};

/// 2023-02-01T00:00:00Z: SHA-1 self-signatures made before this count.
pub const SHA1_SELF_SIGNATURE_CUTOFF_EPOCH: u64 = 1_675_209_600;

/// [`SHA1_SELF_SIGNATURE_CUTOFF_EPOCH`] as a time.
pub fn sha1_self_signature_cutoff() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(SHA1_SELF_SIGNATURE_CUTOFF_EPOCH)
}

/// Sequoia's [`StandardPolicy`] with sigtag's exceptions (see the module
/// documentation).
#[derive(Debug, Clone)]
pub struct Policy {
    standard: StandardPolicy<'static>,
    /// The same policy with SHA-1 accepted, for the old self-signatures.
    sha1_accepted: StandardPolicy<'static>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new()
    }
}

impl Policy {
    /// The exceptions over the standard policy as of now.
    pub fn new() -> Policy {
        Policy::over(StandardPolicy::new())
    }

    /// The exceptions over a given standard policy (for example
    /// [`StandardPolicy::at`] a reference time).
    pub fn over(standard: StandardPolicy<'static>) -> Policy {
        let mut sha1_accepted = standard.clone();
        sha1_accepted.accept_hash(HashAlgorithm::SHA1);
        Policy {
            standard,
            sha1_accepted,
        }
    }

    /// Is this a SHA-1 self-signature (a user ID binding, a subkey
    /// binding, a signing subkey's back-signature or a direct-key
    /// signature) made before 2023-02-01?
    pub fn is_old_sha1_self_signature(sig: &Signature) -> bool {
        sig.hash_algo() == HashAlgorithm::SHA1
            && matches!(
                sig.typ(),
                SignatureType::GenericCertification
                    | SignatureType::PersonaCertification
                    | SignatureType::CasualCertification
                    | SignatureType::PositiveCertification
                    | SignatureType::SubkeyBinding
                    | SignatureType::PrimaryKeyBinding
                    | SignatureType::DirectKey
            )
            && sig
                .signature_creation_time()
                .is_some_and(|t| t < sha1_self_signature_cutoff())
    }

    /// Is this a signature that can only take trust away?
    fn is_revocation(sig: &Signature) -> bool {
        matches!(
            sig.typ(),
            SignatureType::KeyRevocation
                | SignatureType::SubkeyRevocation
                | SignatureType::CertificationRevocation
        )
    }
}

impl OpenPgpPolicy for Policy {
    fn signature(&self, sig: &Signature, sec: HashAlgoSecurity) -> openpgp::Result<()> {
        if Policy::is_revocation(sig) {
            return Ok(());
        }
        if Policy::is_old_sha1_self_signature(sig) {
            return self.sha1_accepted.signature(sig, sec);
        }
        self.standard.signature(sig, sec)
    }

    fn key(
        &self,
        ka: &openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation<key::PublicParts>,
    ) -> openpgp::Result<()> {
        self.standard.key(ka)
    }

    fn symmetric_algorithm(&self, algo: SymmetricAlgorithm) -> openpgp::Result<()> {
        self.standard.symmetric_algorithm(algo)
    }

    fn aead_algorithm(&self, algo: AEADAlgorithm) -> openpgp::Result<()> {
        self.standard.aead_algorithm(algo)
    }

    fn packet(&self, packet: &Packet) -> openpgp::Result<()> {
        self.standard.packet(packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::CertBuilder;
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::types::{HashAlgorithm, ReasonForRevocation, RevocationStatus};
    use openpgp::Cert;
    use std::time::{Duration, SystemTime};

    fn t(epoch: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(epoch)
    }

    /// The primary key of a freshly generated `cert`, ready to sign.
    fn primary_signer(cert: &Cert) -> openpgp::crypto::KeyPair {
        cert.primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap()
    }

    /// A certificate made in 2024 and hard-revoked (compromised) in 2025
    /// by a SHA-1 revocation signature.
    fn sha1_revoked() -> Cert {
        let (cert, _) = CertBuilder::general_purpose(Some("alice <alice@example.org>"))
            .set_creation_time(t(1_704_067_200)) // 2024-01-01
            .generate()
            .unwrap();
        let mut primary = primary_signer(&cert);
        // What CertRevocationBuilder makes, with SHA-1 as the hash.
        let rev = SignatureBuilder::new(SignatureType::KeyRevocation)
            .set_hash_algo(HashAlgorithm::SHA1)
            .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"stolen")
            .unwrap()
            .set_signature_creation_time(t(1_735_689_600)) // 2025-01-01
            .unwrap()
            .sign_direct_key(&mut primary, Some(cert.primary_key().key()))
            .unwrap();
        assert_eq!(rev.hash_algo(), HashAlgorithm::SHA1);
        cert.insert_packets(rev).unwrap().0
    }

    #[test]
    fn sha1_revocations_are_honoured_after_the_standard_cutoff() {
        let cert = sha1_revoked();
        let in_2031 = t(1_924_992_000); // 2031-01-01
        let standard = StandardPolicy::at(in_2031);
        assert!(
            matches!(
                cert.revocation_status(&standard, in_2031),
                RevocationStatus::NotAsFarAsWeKnow
            ),
            "the standard policy of 2031 ignores the SHA-1 revocation"
        );
        let ours = Policy::over(StandardPolicy::at(in_2031));
        assert!(
            matches!(
                cert.revocation_status(&ours, in_2031),
                RevocationStatus::Revoked(_)
            ),
            "sigtag's policy honours it"
        );
    }

    /// A SHA-1 self-signature of type `typ` made at `at` by a fresh key.
    fn sha1_self_signature(typ: SignatureType, at: SystemTime) -> Signature {
        let (cert, _) = CertBuilder::general_purpose(Some("alice <alice@example.org>"))
            .set_creation_time(t(1_577_836_800)) // 2020-01-01
            .generate()
            .unwrap();
        let mut primary = primary_signer(&cert);
        // The policy looks at the signature, not at what it binds: a
        // signature over an empty hash is enough.
        let hash = HashAlgorithm::SHA1.context().unwrap().for_signature(4);
        let sig = SignatureBuilder::new(typ)
            .set_hash_algo(HashAlgorithm::SHA1)
            .set_signature_creation_time(at)
            .unwrap()
            .sign_hash(&mut primary, hash)
            .unwrap();
        assert_eq!(sig.hash_algo(), HashAlgorithm::SHA1);
        sig
    }

    #[test]
    fn sha1_self_signatures_count_only_before_2023_02_01() {
        let ours = Policy::new();
        let standard = StandardPolicy::new();
        let before = t(SHA1_SELF_SIGNATURE_CUTOFF_EPOCH - 1);
        let at_cutoff = t(SHA1_SELF_SIGNATURE_CUTOFF_EPOCH);
        for typ in [
            SignatureType::PositiveCertification,
            SignatureType::GenericCertification,
            SignatureType::SubkeyBinding,
            SignatureType::PrimaryKeyBinding,
            SignatureType::DirectKey,
        ] {
            for sec in [
                HashAlgoSecurity::SecondPreImageResistance,
                HashAlgoSecurity::CollisionResistance,
            ] {
                let old = sha1_self_signature(typ, before);
                assert!(standard.signature(&old, sec).is_err(), "{typ}");
                assert!(ours.signature(&old, sec).is_ok(), "{typ} {sec:?}");
                let new = sha1_self_signature(typ, at_cutoff);
                assert!(ours.signature(&new, sec).is_err(), "{typ} {sec:?}");
            }
        }
        // Not a self-signature type: still refused, however old.
        let old_binary = sha1_self_signature(SignatureType::Binary, before);
        assert!(ours
            .signature(&old_binary, HashAlgoSecurity::CollisionResistance)
            .is_err());
    }

    #[test]
    fn sha1_data_signatures_are_still_refused() {
        let (cert, _) = CertBuilder::general_purpose(Some("alice <alice@example.org>"))
            .generate()
            .unwrap();
        let mut signer = cert
            .keys()
            .secret()
            .with_policy(&StandardPolicy::new(), None)
            .for_signing()
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap();
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(HashAlgorithm::SHA1)
            .sign_message(&mut signer, b"payload")
            .unwrap();
        assert_eq!(sig.hash_algo(), HashAlgorithm::SHA1);
        let ours = Policy::new();
        assert!(ours
            .signature(&sig, HashAlgoSecurity::CollisionResistance)
            .is_err());
    }
}
