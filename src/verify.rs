//! Signatures: which signatures of a chain count, and for whom.
//!
//! A signature counts only when all of these hold (DESIGN §2):
//! it is a document signature that verifies over the layer's payload with
//! a key of a trusted certificate; its hash algorithm is acceptable to the
//! standard policy; it is not dated more than [`MAX_CLOCK_SKEW_SECS`] in the
//! future; it has not passed its own expiration time; the certificate is
//! not hard-revoked (revocations are judged under [`crate::policy`], which
//! honours them whatever their hash); at the signature's creation time the
//! certificate and the key were valid, alive, not soft-revoked, and the key
//! could sign.
//!
//! Two problems reject the whole tag: a signature that no trusted
//! candidate key verifies (the layer was altered; this is decided by
//! [`verifies`] before any validity check, so no other reason can hide
//! it), and a trusted signature made more than [`MAX_CLOCK_SKEW_SECS`]
//! before or [`MAX_SIGNING_DELAY_SECS`] after its layer's tagger date (the
//! date that orders versions would not be vouched for). This module reads
//! no repository.

use crate::chain::{Chain, Layer};
use crate::limits::{MAX_CLOCK_SKEW_SECS, MAX_SIGNATURES_PER_LAYER, MAX_SIGNING_DELAY_SECS};
use crate::object::SignatureBlock;
use crate::policy::Policy;
use crate::problem::Problem;
use crate::trust::Trust;
use openpgp::packet::Signature;
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::policy::{HashAlgoSecurity, Policy as _, StandardPolicy};
use openpgp::types::{
    HashAlgorithm, ReasonForRevocation, RevocationStatus, RevocationType, SignatureType,
};
use openpgp::{Cert, KeyHandle, KeyID, Packet};
use sequoia_openpgp as openpgp;
use std::time::{Duration, SystemTime};

/// The outcome of one signature packet (or of a layer without one).
#[derive(Debug, Clone)]
pub enum Outcome {
    Counts {
        /// Index of the signer in the [`Trust`].
        signer: usize,
        /// Fingerprint of the key that made the signature (upper-case hex).
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
    let block = match &layer.object.signature {
        SignatureBlock::None => return vec![Outcome::Fails(Problem::Unsigned)],
        SignatureBlock::Foreign(kind) => {
            return vec![Outcome::Fails(Problem::ForeignSignature(kind.clone()))]
        }
        SignatureBlock::OpenPgp(block) => block,
    };
    let sigs = match read_signatures(block) {
        Ok(sigs) => sigs,
        Err(p) => return vec![Outcome::Fails(p)],
    };
    let payload = layer.object.payload();
    let dated = layer.object.tagger.time;
    sigs.iter()
        .map(|sig| check_signature(sig, payload, dated, trust, now))
        .collect()
}

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

fn check_signature(
    sig: &Signature,
    payload: &[u8],
    dated: i64,
    trust: &Trust,
    now: SystemTime,
) -> Outcome {
    let policy = StandardPolicy::new();
    let fail = Outcome::Fails;

    // Which trusted keys could have made it?
    let issuers = sig.get_issuers();
    let mut candidates: Vec<(usize, &str, &Cert, openpgp::Fingerprint)> = Vec::new();
    for issuer in &issuers {
        for (si, signer, cert) in trust.candidates(&KeyID::from(issuer)) {
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
        return fail(Problem::UnknownKey(id));
    };

    // The mathematics first, before any question of validity: a signature
    // no trusted candidate key verifies means the layer was tampered with,
    // whatever else is wrong with it.
    let verified = candidates.iter().find(|(_, _, cert, fpr)| {
        cert.keys()
            .key_handle(fpr.clone())
            .next()
            .is_some_and(|ka| verifies(sig, ka.key(), payload))
    });
    let Some((si, name, cert, fpr)) = verified else {
        let (_, name, _, fpr) = first;
        return fail(Problem::BadSignature {
            signer: name.to_string(),
            key: fpr.to_hex(),
        });
    };
    let (si, cert, fpr) = (*si, *cert, fpr.clone());
    let signer = name.to_string();
    let key = fpr.to_hex();

    if !matches!(sig.typ(), SignatureType::Binary | SignatureType::Text) {
        return fail(Problem::NotDocumentSignature { signer });
    }
    let Some(created) = sig.signature_creation_time() else {
        return fail(Problem::NoCreationTime { signer });
    };
    // The order of versions rests on the tagger date: a trusted signature
    // must vouch for it.
    let date = tagger_time(dated);
    if !agrees_with_date(created, date) {
        return fail(Problem::DateMismatch {
            signer,
            dated: crate::time::rfc3339(date),
            signed: crate::time::rfc3339(created),
        });
    }
    if let Err(e) = policy.signature(sig, HashAlgoSecurity::CollisionResistance) {
        let algo = sig.hash_algo();
        if matches!(
            algo,
            HashAlgorithm::SHA1 | HashAlgorithm::MD5 | HashAlgorithm::RipeMD
        ) {
            return fail(Problem::Weak {
                signer,
                algo: algo.to_string(),
            });
        }
        return fail(Problem::PolicyRejected {
            signer,
            why: crate::error::clean(&e.to_string()),
        });
    }
    let expires = sig.signature_expiration_time();
    if let Some(at) = expires.filter(|at| *at <= now) {
        return fail(Problem::SignatureExpired {
            signer,
            at: crate::time::rfc3339(at),
        });
    }

    if created > now + Duration::from_secs(MAX_CLOCK_SKEW_SECS) {
        return fail(Problem::Future {
            signer,
            created: crate::time::rfc3339(created),
        });
    }

    let key_created = cert
        .keys()
        .key_handle(fpr.clone())
        .next()
        .map(|ka| ka.key().creation_time());
    if key_created.is_some_and(|k| k > created) {
        return fail(Problem::NotYetValid { signer, key });
    }

    if let Some(p) = revocation_problem(cert, &fpr, &Policy::new(), created, &signer, &key) {
        return fail(p);
    }

    let vc = match cert.with_policy(&policy, created) {
        Ok(vc) => vc,
        Err(e) => {
            if cert.primary_key().key().creation_time() > created {
                return fail(Problem::NotYetValid { signer, key });
            }
            return fail(Problem::InvalidCert {
                signer,
                why: crate::error::clean(&e.to_string()),
            });
        }
    };
    if vc.alive().is_err() {
        return fail(Problem::Expired { signer, key });
    }
    let Some(ka) = vc.keys().key_handle(fpr.clone()).next() else {
        return fail(Problem::InvalidCert {
            signer,
            why: format!("key {key} is not bound to the certificate at that time"),
        });
    };
    if ka.alive().is_err() {
        return fail(Problem::Expired { signer, key });
    }
    if !ka.for_signing() {
        return fail(Problem::NotSigningKey { signer, key });
    }
    Outcome::Counts {
        signer: si,
        key,
        created,
        expires,
    }
}

/// Hard revocations (compromised, unspecified, or no reason) of the
/// certificate or of the signing key taint every signature; soft ones only
/// those made after them.
fn revocation_problem(
    cert: &Cert,
    fpr: &openpgp::Fingerprint,
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

fn revocation_type(rev: &Signature) -> RevocationType {
    rev.reason_for_revocation()
        .map_or(RevocationType::Hard, |(code, _)| code.revocation_type())
}

fn reason_word(code: ReasonForRevocation) -> &'static str {
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
    //! Signature rules on keys made in-process; the same rules are tested
    //! against gpg-made signatures in tests/verify_rules.rs.
    use super::*;
    use crate::chain::Layer;
    use crate::object::{self, Kind, Tagger};
    use crate::sign::{signing_key_of, SigningKey};
    use crate::trust::{CertSource, Trust};
    use openpgp::cert::{CertBuilder, CertRevocationBuilder};
    use openpgp::serialize::SerializeInto;
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
        let c = cert(None);
        let mut primary = c
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap();
        let rev = CertRevocationBuilder::new()
            .set_reason_for_revocation(code, b"test")
            .unwrap()
            .set_signature_creation_time(at)
            .unwrap()
            .build(&mut primary, &c, None)
            .unwrap();
        let revoked = c.insert_packets(rev).unwrap().0;
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
        SigningKey::new(c.clone(), Box::new(pair))
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
                            crate::time::rfc3339(dated),
                            crate::time::rfc3339(signed)
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
