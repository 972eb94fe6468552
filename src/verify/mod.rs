//! Signatures: which signatures of a chain count, and for whom, whatever
//! the scheme that made them.
//!
//! Each layer's signature block is handed to the module of its scheme
//! ([`openpgp`], or [`ssh`] for `gpg.format=ssh` layers, DESIGN §8). The
//! scheme reads the block, finds the trusted key that made each signature
//! and checks the mathematics; what it finds it answers through
//! [`Verified`]. This module then applies the rules every scheme shares,
//! in one order (DESIGN §2):
//!
//! 1. the signature's form is one that can vouch for a layer, with a
//!    creation time ([`Verified::created`]);
//! 2. the creation time agrees with the layer's tagger date: no more than
//!    [`MAX_CLOCK_SKEW_SECS`] before it and [`MAX_SIGNING_DELAY_SECS`]
//!    after it (otherwise the date that orders versions would not be
//!    vouched for, and the tag is rejected);
//! 3. its algorithms are acceptable ([`Verified::algorithms`]);
//! 4. it has not passed its own expiration time;
//! 5. it is not dated more than [`MAX_CLOCK_SKEW_SECS`] in the future;
//! 6. the key could sign at the creation time ([`Verified::key_valid_at`]:
//!    alive, not revoked, bound, signing-capable).
//!
//! Two problems reject the whole tag: a signature that no trusted
//! candidate key verifies (the layer was altered; the scheme decides this
//! before any of the rules above, so no other reason can hide it), and the
//! date mismatch of rule 2. A layer with no signature, or one in a scheme
//! sigtag does not read, counts for nothing. This module reads no
//! repository; the clock comes in as `now`.

pub mod openpgp;
pub mod ssh;

pub use openpgp::{read_signatures, verifies};

use crate::chain::{Chain, Layer};
use crate::limits::{MAX_CLOCK_SKEW_SECS, MAX_SIGNING_DELAY_SECS};
use crate::object::SignatureBlock;
use crate::problem::Problem;
use crate::trust::Trust;
use std::time::{Duration, SystemTime};

/// The outcome of one signature packet (or of a layer without one).
#[derive(Debug, Clone)]
pub enum Outcome {
    Counts {
        /// Index of the signer in the [`Trust`].
        signer: usize,
        /// Fingerprint of the key that made the signature: upper-case hex
        /// for OpenPGP, `SHA256:` and unpadded base64 for SSH.
        key: String,
        created: SystemTime,
        /// The signature's own expiration time, if it has one.
        expires: Option<SystemTime>,
    },
    Fails(Problem),
}

/// The outcomes of one layer, numbered like [`Layer::number`].
#[derive(Debug, Clone)]
pub struct LayerCheck {
    pub number: usize,
    pub outcomes: Vec<Outcome>,
}

/// A signature whose mathematics hold for a trusted key, as its scheme
/// sees it. The scheme answers; this module asks, in the order of the rules
/// of the module documentation.
pub trait Verified {
    /// The signer's index in [`Trust::signers`].
    fn signer(&self) -> usize;
    /// The signer's name, for problems.
    fn name(&self) -> &str;
    /// The key that made the signature, as messages show it.
    fn key(&self) -> String;
    /// When the signature was made, unless its form cannot vouch for a
    /// layer (not a document signature, no creation time).
    fn created(&self) -> Result<SystemTime, Problem>;
    /// Are the signature's algorithms acceptable?
    fn algorithms(&self) -> Result<(), Problem>;
    /// The signature's own expiration time, if it has one.
    fn expires(&self) -> Option<SystemTime>;
    /// Could the key make a signature that counts at `created`?
    fn key_valid_at(&self, created: SystemTime) -> Result<(), Problem>;
}

/// Checks every layer of a chain. Layers are independent; the result is in
/// chain order (innermost first).
pub fn check_chain(chain: &Chain, trust: &Trust, now: SystemTime) -> Vec<LayerCheck> {
    chain
        .layers
        .iter()
        .map(|layer| LayerCheck {
            number: layer.number,
            outcomes: check_layer(layer, trust, now),
        })
        .collect()
}

/// Checks the signatures of one layer.
pub fn check_layer(layer: &Layer, trust: &Trust, now: SystemTime) -> Vec<Outcome> {
    let payload = layer.object.payload();
    let dated = layer.object.tagger.time;
    let verified = match &layer.object.signature {
        SignatureBlock::None => return vec![Outcome::Fails(Problem::Unsigned)],
        SignatureBlock::Foreign(kind) => {
            return vec![Outcome::Fails(Problem::ForeignSignature(kind.clone()))]
        }
        SignatureBlock::OpenPgp(block) => {
            return judge_all(openpgp::verify_block(block, payload, trust), dated, now)
        }
        SignatureBlock::Ssh(block) => ssh::verify_block(block, payload, dated, trust),
    };
    judge_all(verified, dated, now)
}

/// The outcomes of a scheme's verified signatures (or of its refusal of
/// the whole block).
fn judge_all<V: Verified>(
    verified: Result<Vec<Result<V, Problem>>, Problem>,
    dated: i64,
    now: SystemTime,
) -> Vec<Outcome> {
    match verified {
        Ok(sigs) => sigs
            .into_iter()
            .map(|sig| match sig {
                Ok(sig) => judge(&sig, dated, now),
                Err(p) => Outcome::Fails(p),
            })
            .collect(),
        Err(p) => vec![Outcome::Fails(p)],
    }
}

/// Seconds since the epoch of a tagger date, as a time (dates before the
/// epoch are the epoch).
fn tagger_time(time: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(time).unwrap_or(0))
}

/// Is a signature made at `signed` vouching for a layer dated `dated`?
/// It may come up to the clock skew before the date and up to the signing
/// delay after it.
fn agrees_with_date(signed: SystemTime, dated: SystemTime) -> bool {
    signed + Duration::from_secs(MAX_CLOCK_SKEW_SECS) >= dated
        && signed <= dated + Duration::from_secs(MAX_SIGNING_DELAY_SECS)
}

/// Applies the scheme-neutral rules to a verified signature of a layer
/// dated `dated` (seconds since the epoch).
fn judge(sig: &impl Verified, dated: i64, now: SystemTime) -> Outcome {
    let fail = Outcome::Fails;
    let created = match sig.created() {
        Ok(created) => created,
        Err(p) => return fail(p),
    };
    let signer = || sig.name().to_string();
    // The order of versions rests on the tagger date: a trusted signature
    // must vouch for it.
    let date = tagger_time(dated);
    if !agrees_with_date(created, date) {
        return fail(Problem::DateMismatch {
            signer: signer(),
            dated: crate::date::rfc3339(date),
            signed: crate::date::rfc3339(created),
        });
    }
    if let Err(p) = sig.algorithms() {
        return fail(p);
    }
    let expires = sig.expires();
    if let Some(at) = expires.filter(|at| *at <= now) {
        return fail(Problem::SignatureExpired {
            signer: signer(),
            at: crate::date::rfc3339(at),
        });
    }
    if created > now + Duration::from_secs(MAX_CLOCK_SKEW_SECS) {
        return fail(Problem::Future {
            signer: signer(),
            created: crate::date::rfc3339(created),
        });
    }
    if let Err(p) = sig.key_valid_at(created) {
        return fail(p);
    }
    Outcome::Counts {
        signer: sig.signer(),
        key: sig.key(),
        created,
        expires,
    }
}

#[cfg(test)]
mod tests {
    //! Signature rules on keys made in-process; the same rules are tested
    //! against gpg-made signatures in tests/verify_rules.rs.
    use super::*;
    use crate::chain::Layer;
    use crate::object::{self, Kind, Tagger};
    use crate::sign::openpgp::OpenPgpKey;
    use crate::sign::{signing_key_of, SigningKey};
    use crate::trust::{CertSource, Trust};
    use sequoia_openpgp::cert::CertBuilder;
    use sequoia_openpgp::policy::StandardPolicy;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::types::ReasonForRevocation;
    use sequoia_openpgp::Cert;
    use std::collections::BTreeMap;

    const DAY: Duration = Duration::from_secs(86_400);

    fn t0() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn cert(validity: Option<Duration>) -> Cert {
        CertBuilder::general_purpose(Some("alice <alice@example.org>"))
            .set_creation_time(t0())
            .set_validity_period(validity)
            .generate()
            .unwrap()
            .0
    }

    fn trust_of(cert: &Cert) -> Trust {
        let src = CertSource {
            name: "alice".into(),
            origin: "alice.asc".into(),
            bytes: cert.armored().to_vec().unwrap(),
        };
        let groups = BTreeMap::from([("humans".to_string(), vec!["alice".to_string()])]);
        Trust::build(vec![src], groups, BTreeMap::new(), "policy").unwrap()
    }

    fn layer(key: &mut SigningKey, at: SystemTime, message: &str) -> Layer {
        layer_dated(key, at, at, message)
    }

    /// A layer whose tagger date is `dated`, signed at `at`.
    fn layer_dated(
        key: &mut SigningKey,
        dated: SystemTime,
        at: SystemTime,
        message: &str,
    ) -> Layer {
        let tagger = Tagger {
            ident: "alice <alice@example.org>".into(),
            time: dated
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64,
            tz: "+0000".into(),
        };
        let oid = "0123456789abcdef0123456789abcdef01234567";
        let mut bytes = object::unsigned_payload(oid, Kind::Commit, "v1", &tagger, message);
        let sig = key.sign_detached(&bytes, at).unwrap();
        bytes.extend_from_slice(&sig);
        Layer {
            number: 1,
            oid: oid.into(),
            object: object::parse(&bytes).unwrap(),
        }
    }

    fn only(outcomes: Vec<Outcome>) -> Outcome {
        assert_eq!(outcomes.len(), 1);
        outcomes.into_iter().next().unwrap()
    }

    fn reason(o: Outcome) -> String {
        match o {
            Outcome::Fails(p) => p.to_string(),
            Outcome::Counts { .. } => panic!("the signature counted"),
        }
    }

    #[test]
    fn a_good_signature_counts() {
        let c = cert(None);
        let mut key = signing_key_of(c.clone(), "test").unwrap();
        let l = layer(&mut key, t0() + DAY, "m\n");
        match only(check_layer(&l, &trust_of(&c), SystemTime::now())) {
            Outcome::Counts {
                signer, key: fpr, ..
            } => {
                assert_eq!(signer, 0);
                assert_eq!(fpr, key.fingerprint().to_hex());
            }
            Outcome::Fails(p) => panic!("{p}"),
        }
    }

    #[test]
    fn an_altered_layer_rejects_the_tag() {
        let c = cert(None);
        let mut key = signing_key_of(c.clone(), "test").unwrap();
        let good = layer(&mut key, t0() + DAY, "release\n");
        let raw = String::from_utf8(good.object.raw().to_vec())
            .unwrap()
            .replace("release", "releasX");
        let bad = Layer {
            object: object::parse(raw.as_bytes()).unwrap(),
            ..good
        };
        let p = match only(check_layer(&bad, &trust_of(&c), SystemTime::now())) {
            Outcome::Fails(p) => p,
            Outcome::Counts { .. } => panic!("counted"),
        };
        assert!(p.rejects_tag());
        assert_eq!(
            p.to_string(),
            format!(
                "bad signature by alice ({}): the layer was altered after it was signed",
                key.fingerprint().to_hex()
            )
        );
    }

    #[test]
    fn an_unknown_key_counts_nothing() {
        let c = cert(None);
        let other = cert(None);
        let mut key = signing_key_of(other, "test").unwrap();
        let l = layer(&mut key, t0() + DAY, "m\n");
        assert_eq!(
            reason(only(check_layer(&l, &trust_of(&c), SystemTime::now()))),
            format!(
                "signed by a key nobody trusts: {}",
                key.fingerprint().to_hex()
            )
        );
    }

    #[test]
    fn expiry_applies_from_its_date() {
        let c = cert(Some(10 * DAY));
        // The key has expired by now; sign with it anyway, as an attacker
        // holding the old secret would.
        let mut key = signing_key_at(&c, t0() + DAY);
        let trust = trust_of(&c);
        let before = layer(&mut key, t0() + DAY, "m\n");
        assert!(matches!(
            only(check_layer(&before, &trust, SystemTime::now())),
            Outcome::Counts { .. }
        ));
        let after = layer(&mut key, t0() + 20 * DAY, "m\n");
        assert_eq!(
            reason(only(check_layer(&after, &trust, SystemTime::now()))),
            format!(
                "alice's key {} had expired when the signature was made",
                key.fingerprint().to_hex()
            )
        );
    }

    fn revoked(code: ReasonForRevocation, at: SystemTime) -> (Cert, SigningKey) {
        let revoked = crate::testing::revoked(cert(None), code, b"test", at);
        (revoked.clone(), signing_key_at(&revoked, t0() + DAY))
    }

    /// The signing key of `c` as it was at `t`, whatever it is now.
    fn signing_key_at(c: &Cert, t: SystemTime) -> SigningKey {
        let pair = c
            .keys()
            .secret()
            .with_policy(&StandardPolicy::new(), t)
            .for_signing()
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap();
        SigningKey::OpenPgp(OpenPgpKey::new(c.clone(), Box::new(pair)))
    }

    #[test]
    fn a_compromised_key_taints_old_signatures() {
        let (c, mut key) = revoked(ReasonForRevocation::KeyCompromised, t0() + 10 * DAY);
        let old = layer(&mut key, t0() + DAY, "m\n");
        assert_eq!(
            reason(only(check_layer(&old, &trust_of(&c), SystemTime::now()))),
            "alice's certificate is revoked as compromised, so none of its signatures count"
        );
    }

    #[test]
    fn a_superseded_key_keeps_earlier_signatures() {
        let (c, mut key) = revoked(ReasonForRevocation::KeySuperseded, t0() + 10 * DAY);
        let trust = trust_of(&c);
        let old = layer(&mut key, t0() + DAY, "m\n");
        assert!(matches!(
            only(check_layer(&old, &trust, SystemTime::now())),
            Outcome::Counts { .. }
        ));
        let new = layer(&mut key, t0() + 20 * DAY, "m\n");
        assert_eq!(
            reason(only(check_layer(&new, &trust, SystemTime::now()))),
            format!(
                "alice's key {} was revoked (superseded) before the signature was made",
                key.fingerprint().to_hex()
            )
        );
    }

    #[test]
    fn future_signatures_do_not_count() {
        let c = cert(None);
        let mut key = signing_key_of(c.clone(), "test").unwrap();
        let now = t0() + 30 * DAY;
        let l = layer(&mut key, now + Duration::from_secs(600), "m\n");
        assert!(reason(only(check_layer(&l, &trust_of(&c), now)))
            .contains("more than 5 minutes in the future"));
        let l = layer(&mut key, now + Duration::from_secs(60), "m\n");
        assert!(matches!(
            only(check_layer(&l, &trust_of(&c), now)),
            Outcome::Counts { .. }
        ));
    }

    #[test]
    fn the_tagger_date_must_agree_with_the_signature() {
        let c = cert(None);
        let mut key = signing_key_of(c.clone(), "test").unwrap();
        let trust = trust_of(&c);
        let now = t0() + 30 * DAY;
        let signed = now - DAY;
        let cases = [
            (signed - Duration::from_secs(MAX_SIGNING_DELAY_SECS), true),
            (
                signed - Duration::from_secs(MAX_SIGNING_DELAY_SECS + 1),
                false,
            ),
            (signed + Duration::from_secs(MAX_CLOCK_SKEW_SECS), true),
            (signed + Duration::from_secs(MAX_CLOCK_SKEW_SECS + 1), false),
        ];
        for (dated, ok) in cases {
            let l = layer_dated(&mut key, dated, signed, "m\n");
            match only(check_layer(&l, &trust, now)) {
                Outcome::Counts { .. } => assert!(ok, "{dated:?} counted"),
                Outcome::Fails(p) => {
                    assert!(!ok, "{dated:?}: {p}");
                    assert!(p.rejects_tag());
                    assert_eq!(
                        p.to_string(),
                        format!(
                            "the layer is dated {} but alice's signature was made at {}: \
                             a signature comes at most 5 minutes before its layer's date \
                             and at most 1 hour after it",
                            crate::date::rfc3339(dated),
                            crate::date::rfc3339(signed)
                        )
                    );
                }
            }
        }
    }

    #[test]
    fn mathematics_come_before_the_age_of_the_key() {
        let c = cert(None);
        let mut key = signing_key_of(c.clone(), "test").unwrap();
        // Made before the key existed, and genuine: the math holds, the
        // key was too young.
        let early = t0() - DAY;
        let l = layer(&mut key, early, "m\n");
        let Outcome::Fails(p) = only(check_layer(&l, &trust_of(&c), SystemTime::now())) else {
            panic!("counted")
        };
        assert_eq!(
            p,
            Problem::NotYetValid {
                signer: "alice".into(),
                key: key.fingerprint().to_hex()
            }
        );
        // The same signature over other bytes is bad, whatever its date.
        let raw = String::from_utf8(l.object.raw().to_vec())
            .unwrap()
            .replace("\nm\n", "\nX\n");
        let bad = Layer {
            object: object::parse(raw.as_bytes()).unwrap(),
            ..l
        };
        let Outcome::Fails(p) = only(check_layer(&bad, &trust_of(&c), SystemTime::now())) else {
            panic!("counted")
        };
        assert!(p.rejects_tag(), "{p}");
        assert!(p.to_string().starts_with("bad signature by alice"), "{p}");
    }
}
