//! Signing directly on an OpenPGP card (a YubiKey, a Nitrokey, any card
//! that speaks the OpenPGP card protocol) over PC/SC, with no gpg at all.
//!
//! The card holds the secret key and its fingerprint; the certificate it
//! belongs to comes from the keys directory. The User PIN comes from
//! `SIGTAG_CARD_PIN` or a prompt on the terminal and is presented once: a
//! wrong PIN stops sigtag with the number of tries left, so a typo never
//! burns a second try. A card that requires touch for signing makes sigtag
//! say "touch your token" on stderr before it waits.

use super::{owner_of, Checked};
use crate::error::{clean, Error, Result};
use crate::sign::openpgp::OpenPgpKey;
use crate::sign::SigningKey;
use crate::trust::Trust;
use card_backend_pcsc::PcscBackend;
use openpgp::crypto::mpi;
use openpgp::packet::key::{Key4, PublicParts, UnspecifiedRole};
use openpgp::packet::Key;
use openpgp::types::{Curve, HashAlgorithm, PublicKeyAlgorithm};
use openpgp::Fingerprint;
use openpgp_card::ocard::algorithm::AlgorithmAttributes;
use openpgp_card::ocard::crypto::{HashAlgo, PublicKeyMaterial, SigningAlgo};
use openpgp_card::ocard::data::KeyGenerationTime;
use openpgp_card::ocard::{KeyType, StatusBytes};
use openpgp_card::state::Open;
use openpgp_card::Card;
use secrecy::SecretString;
use sequoia_openpgp as openpgp;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What `sigtag card list` shows of one card.
#[derive(Debug, Clone)]
pub struct CardInfo {
    /// `MANUFACTURER:SERIAL`, e.g. `0006:12345678`.
    pub ident: String,
    pub cardholder: String,
    /// The fingerprint stored for the signing slot.
    pub signing: Option<Fingerprint>,
    /// Does signing need a touch?
    pub touch: bool,
    /// User PIN tries left.
    pub pin_tries: u8,
    /// The signer of the keys directory the signing key belongs to.
    pub signer: Option<String>,
}

fn pcsc_error(e: impl std::fmt::Display) -> Error {
    let text = clean(&e.to_string()).replace('\n', " ");
    Error::sign(format!(
        "cannot reach the smart card service: {text}; start pcscd and plug in the token"
    ))
}

fn card_error(ident: &str, e: openpgp_card::Error) -> Error {
    Error::sign(format!(
        "card {ident}: {}",
        clean(&e.to_string()).replace('\n', " ")
    ))
}

/// Every OpenPGP card reachable over PC/SC, with its ident.
pub fn open_all() -> Result<Vec<(String, Card<Open>)>> {
    let backends = match PcscBackend::card_backends(None) {
        Ok(b) => b,
        Err(card_backend::SmartcardError::NoReaderFoundError) => return Ok(Vec::new()),
        Err(e) => return Err(pcsc_error(e)),
    };
    let mut cards = Vec::new();
    let mut busy = None;
    for b in backends {
        // A reader without a card, or a card without the OpenPGP
        // application, is not ours to report; a card someone else holds
        // (scdaemon, by default) is, if nothing else is found.
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                busy.get_or_insert(clean(&e.to_string()));
                continue;
            }
        };
        let Ok(mut card) = Card::new(b) else { continue };
        let ident = {
            let Ok(tx) = card.transaction() else { continue };
            match tx.application_identifier() {
                Ok(aid) => aid.ident(),
                Err(_) => continue,
            }
        };
        cards.push((ident, card));
    }
    if let (true, Some(why)) = (cards.is_empty(), busy) {
        return Err(Error::sign(format!(
            "a card is present but cannot be opened ({why}); if gpg's scdaemon holds it, run gpgconf --kill scdaemon or add pcsc-shared to scdaemon.conf"
        )));
    }
    Ok(cards)
}

/// The card named `ident` (`MANUFACTURER:SERIAL`, or just the serial), or
/// the only card there is.
pub fn open(ident: Option<&str>) -> Result<(String, Card<Open>)> {
    let mut cards = open_all()?;
    let wanted = ident.map(str::trim).filter(|i| !i.is_empty());
    let idents: Vec<String> = cards.iter().map(|(i, _)| i.clone()).collect();
    match wanted {
        Some(w) => {
            let w = w.to_ascii_uppercase();
            let pos = cards.iter().position(|(i, _)| {
                *i == w || i.split(':').nth(1).is_some_and(|serial| serial == w)
            });
            match pos {
                Some(p) => Ok(cards.swap_remove(p)),
                None if idents.is_empty() => Err(Error::sign(format!(
                    "no OpenPGP card found, so not card {w}; plug in the token, and if gpg is using it, free it with gpgconf --kill scdaemon (or add pcsc-shared to scdaemon.conf)"
                ))),
                None => Err(Error::sign(format!(
                    "no card {w}; the cards present are {}",
                    idents.join(", ")
                ))),
            }
        }
        None => match cards.len() {
            0 => Err(Error::sign(
                "no OpenPGP card found; plug in the token, and if gpg is using it, free it with gpgconf --kill scdaemon (or add pcsc-shared to scdaemon.conf)",
            )),
            1 => Ok(cards.remove(0)),
            _ => Err(Error::usage(format!(
                "several cards are present ({}); pass --card IDENT",
                idents.join(", ")
            ))),
        },
    }
}

/// Converts the card's fingerprint to Sequoia's.
fn sequoia_fpr(f: &openpgp_card::ocard::data::Fingerprint) -> Fingerprint {
    Fingerprint::from_bytes(4, f.as_bytes()).unwrap_or_else(|_| Fingerprint::Unknown {
        version: None,
        bytes: f.as_bytes().into(),
    })
}

const OPENPGP_AID: [u8; 6] = [0xD2, 0x76, 0x00, 0x01, 0x24, 0x01];

/// Does the signing slot require touch? Read from the application related
/// data, where cards list the User Interaction Flag; a card that keeps it
/// out of there is asked for the data object itself (GET DATA D6).
fn touch_required(ident: &str, mut card: Card<Open>) -> Result<(Card<Open>, bool)> {
    let from_ard = {
        let mut tx = card.transaction().map_err(|e| card_error(ident, e))?;
        tx.user_interaction_flag(KeyType::Signing)
            .ok()
            .flatten()
            .map(|u| u.touch_policy().touch_required())
    };
    if let Some(touch) = from_ard {
        return Ok((card, touch));
    }
    let mut backend = card.into_backend();
    let raw = {
        match backend.transaction(Some(&OPENPGP_AID)) {
            Ok(mut tx) => tx
                .select(&OPENPGP_AID)
                .and_then(|_| tx.transmit(&[0x00, 0xCA, 0x00, 0xD6, 0x00], 0x100))
                .ok(),
            Err(_) => None,
        }
    };
    let card = Card::new(backend).map_err(|e| card_error(ident, e))?;
    let touch = match raw.as_deref() {
        Some([a, b, 0x90, 0x00]) => {
            openpgp_card::ocard::data::UserInteractionFlag::try_from(vec![*a, *b])
                .is_ok_and(|u| u.touch_policy().touch_required())
        }
        _ => false,
    };
    Ok((card, touch))
}

/// Reads what `card list` shows; `trust` names the signer.
fn info(ident: &str, card: Card<Open>, trust: Option<&Trust>) -> Result<(Card<Open>, CardInfo)> {
    let (mut card, touch) = touch_required(ident, card)?;
    let mut tx = card.transaction().map_err(|e| card_error(ident, e))?;
    let cardholder = tx
        .cardholder_name()
        .map(|n| display_name(&n))
        .unwrap_or_default();
    let signing = tx
        .fingerprint(KeyType::Signing)
        .map_err(|e| card_error(ident, e))?
        .map(|f| sequoia_fpr(&f));
    let pin_tries = tx
        .pw_status_bytes()
        .map(|p| p.err_count_pw1())
        .map_err(|e| card_error(ident, e))?;
    let signer = match (trust, &signing) {
        (Some(t), Some(f)) => owner_of(t, f).map(|(s, _)| s.name.clone()),
        _ => None,
    };
    drop(tx);
    let info = CardInfo {
        ident: ident.to_string(),
        cardholder,
        signing,
        touch,
        pin_tries,
        signer,
    };
    Ok((card, info))
}

/// The cardholder name as stored (`Surname<<Given<Names`) made readable.
fn display_name(raw: &str) -> String {
    let raw = raw.trim();
    match raw.split_once("<<") {
        Some((surname, given)) => {
            let given = given.replace('<', " ");
            let surname = surname.replace('<', " ");
            format!("{} {}", given.trim(), surname.trim())
                .trim()
                .to_string()
        }
        None => raw.replace('<', " ").trim().to_string(),
    }
}

/// Every card present, with its signing key and the signer it belongs to.
pub fn list(trust: Option<&Trust>) -> Result<Vec<CardInfo>> {
    let mut out = Vec::new();
    for (ident, card) in open_all()? {
        out.push(info(&ident, card, trust)?.1);
    }
    Ok(out)
}

/// The User PIN: `SIGTAG_CARD_PIN`, else a prompt on the terminal.
fn pin_for(ident: &str, signer: &str, tries: u8) -> Result<SecretString> {
    if let Ok(p) = std::env::var("SIGTAG_CARD_PIN") {
        return Ok(SecretString::from(p));
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password(format!(
            "User PIN of card {ident} ({signer}, {tries} tries left): "
        ))
        .map(SecretString::from)
        .map_err(|e| Error::io(format!("cannot read the PIN: {e}")));
    }
    Err(Error::sign(format!(
        "card {ident} needs its User PIN; set SIGTAG_CARD_PIN or run on a terminal"
    )))
}

/// How many User PIN tries are left, read fresh from the card.
fn tries_left(card: &mut Card<Open>) -> Option<u8> {
    let mut tx = card.transaction().ok()?;
    tx.invalidate_cache().ok()?;
    tx.pw_status_bytes().ok().map(|p| p.err_count_pw1())
}

/// Presents the User PIN for signing, once. A wrong PIN is an error that
/// says how many tries are left.
fn verify_pin(ident: &str, card: &mut Card<Open>, pin: &SecretString) -> Result<()> {
    let result = {
        let mut tx = card.transaction().map_err(|e| card_error(ident, e))?;
        tx.verify_user_signing_pin(pin.clone())
    };
    match result {
        Ok(()) => Ok(()),
        Err(openpgp_card::Error::CardStatus(StatusBytes::AuthenticationMethodBlocked)) => {
            Err(blocked(ident))
        }
        Err(openpgp_card::Error::CardStatus(
            StatusBytes::SecurityStatusNotSatisfied
            | StatusBytes::PasswordNotChecked(_)
            | StatusBytes::IncorrectParametersCommandDataField,
        )) => {
            let left = tries_left(card);
            Err(match left {
                Some(0) => blocked(ident),
                Some(1) => Error::sign(format!(
                    "wrong PIN for card {ident}: 1 try left before the PIN is blocked; nothing was signed"
                )),
                Some(n) => Error::sign(format!(
                    "wrong PIN for card {ident}: {n} tries left before the PIN is blocked; nothing was signed"
                )),
                None => Error::sign(format!(
                    "wrong PIN for card {ident}; nothing was signed"
                )),
            })
        }
        Err(e) => Err(card_error(ident, e)),
    }
}

fn blocked(ident: &str) -> Error {
    Error::sign(format!(
        "the User PIN of card {ident} is blocked; unblock it with the Admin PIN or the reset code (gpg --card-edit, then admin and passwd)"
    ))
}

/// Signs on a card: `crypto::Signer` over PSO:COMPUTE DIGITAL SIGNATURE.
pub struct CardSigner {
    card: Card<Open>,
    ident: String,
    public: Key<PublicParts, UnspecifiedRole>,
    pin: SecretString,
    touch: bool,
}

impl CardSigner {
    /// A signer for the card's signing slot, whose public key is `public`.
    /// The PIN is presented before each signature.
    pub fn new(
        card: Card<Open>,
        ident: &str,
        public: Key<PublicParts, UnspecifiedRole>,
        pin: SecretString,
    ) -> Result<CardSigner> {
        let (card, touch) = touch_required(ident, card)?;
        Ok(CardSigner {
            card,
            ident: ident.to_string(),
            public,
            pin,
            touch,
        })
    }
}

fn card_hash(hash_algo: HashAlgorithm) -> openpgp::Result<HashAlgo> {
    Ok(match hash_algo {
        HashAlgorithm::SHA256 => HashAlgo::SHA256,
        HashAlgorithm::SHA384 => HashAlgo::SHA384,
        HashAlgorithm::SHA512 => HashAlgo::SHA512,
        other => return Err(anyhow::anyhow!("the card cannot sign {other} digests")),
    })
}

impl openpgp::crypto::Signer for CardSigner {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        &self.public
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        &[
            HashAlgorithm::SHA512,
            HashAlgorithm::SHA384,
            HashAlgorithm::SHA256,
        ]
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> openpgp::Result<mpi::Signature> {
        verify_pin(&self.ident, &mut self.card, &self.pin)?;
        let mut tx = self.card.transaction()?;
        // The PIN check above may be valid for one signature only: present
        // it in this transaction too (the PIN is known to be right).
        tx.verify_user_signing_pin(self.pin.clone())?;
        let algo = self.public.pk_algo();
        let card_algo = match algo {
            PublicKeyAlgorithm::EdDSA | PublicKeyAlgorithm::ECDSA => SigningAlgo::ECC,
            #[allow(deprecated)]
            PublicKeyAlgorithm::RSAEncryptSign | PublicKeyAlgorithm::RSASign => {
                SigningAlgo::RSA(card_hash(hash_algo)?)
            }
            other => {
                return Err(anyhow::anyhow!(
                    "the card key's algorithm {other} cannot sign"
                ))
            }
        };
        if self.touch {
            eprintln!("touch your token (card {}) to sign", self.ident);
        }
        let sig = tx.card().signature_for_hash(card_algo, digest)?;
        Ok(match algo {
            PublicKeyAlgorithm::EdDSA | PublicKeyAlgorithm::ECDSA => {
                if sig.len() % 2 != 0 || sig.is_empty() {
                    return Err(anyhow::anyhow!(
                        "the card returned a malformed signature ({} bytes)",
                        sig.len()
                    ));
                }
                let (r, s) = sig.split_at(sig.len() / 2);
                if algo == PublicKeyAlgorithm::EdDSA {
                    mpi::Signature::EdDSA {
                        r: mpi::MPI::new(r),
                        s: mpi::MPI::new(s),
                    }
                } else {
                    mpi::Signature::ECDSA {
                        r: mpi::MPI::new(r),
                        s: mpi::MPI::new(s),
                    }
                }
            }
            _ => mpi::Signature::RSA {
                s: mpi::MPI::new(&sig),
            },
        })
    }
}

/// A signing key on the card `ident` (or the only card), whose
/// certificate is in the keys directory.
pub fn signing_key(trust: &Trust, dir: &Path, ident: Option<&str>) -> Result<SigningKey> {
    let (ident, card) = open(ident)?;
    let (mut card, shown) = info(&ident, card, Some(trust))?;
    let Some(fpr) = shown.signing.clone() else {
        return Err(Error::sign(format!(
            "card {ident} has no signing key; generate or import one first"
        )));
    };
    let Some((signer, cert)) = owner_of(trust, &fpr) else {
        return Err(Error::sign(format!(
            "refusing to sign: the signing key {fpr} of card {ident} is not in any signer's file in {}, so its signature would not count; add its certificate (gpg --armor --export {fpr}) to {} for the signer it belongs to",
            dir.display(),
            super::signer_file(dir, "NAME")
        )));
    };
    let cert = cert.clone();
    let public = cert
        .keys()
        .find(|k| k.key().fingerprint() == fpr)
        .map(|k| k.key().clone().role_into_unspecified())
        .ok_or_else(|| Error::sign(format!("{fpr} vanished from {}'s certificate", signer.name)))?;
    if let Err(why) = super::usable_for_signing(&cert, &fpr) {
        return Err(Error::sign(format!(
            "refusing to sign: {}'s key {fpr} on card {ident} would not count ({why}); put {}'s current certificate in {}",
            signer.name,
            signer.name,
            super::signer_file(dir, &signer.name)
        )));
    }
    if shown.pin_tries == 0 {
        return Err(blocked(&ident));
    }
    let pin = pin_for(&ident, &signer.name, shown.pin_tries)?;
    verify_pin(&ident, &mut card, &pin)?;
    let inner = CardSigner::new(card, &ident, public, pin)?;
    Ok(SigningKey::OpenPgp(OpenPgpKey::new(
        cert,
        Box::new(Checked::new(inner, format!("card {ident}"))),
    )))
}

/// The OpenPGP public key (v4) for key material read from a card, created
/// at `created`. Used to make a certificate for a key generated on a card.
pub fn public_key(
    material: &PublicKeyMaterial,
    created: SystemTime,
) -> Result<Key<PublicParts, UnspecifiedRole>> {
    let unsupported = |what: &str| Error::sign(format!("unsupported card key: {what}"));
    let key: Key4<PublicParts, UnspecifiedRole> = match material {
        PublicKeyMaterial::R(rsa) => Key4::new(
            created,
            #[allow(deprecated)]
            PublicKeyAlgorithm::RSAEncryptSign,
            mpi::PublicKey::RSA {
                e: mpi::MPI::new(rsa.v()),
                n: mpi::MPI::new(rsa.n()),
            },
        ),
        PublicKeyMaterial::E(ecc) => {
            let AlgorithmAttributes::Ecc(attrs) = ecc.algo() else {
                return Err(unsupported("not an ECC key"));
            };
            use openpgp_card::ocard::algorithm::Curve as CardCurve;
            use openpgp_card::ocard::crypto::EccType;
            let curve = match attrs.curve() {
                CardCurve::Ed25519 => Curve::Ed25519,
                CardCurve::NistP256r1 => Curve::NistP256,
                CardCurve::NistP384r1 => Curve::NistP384,
                CardCurve::NistP521r1 => Curve::NistP521,
                other => return Err(unsupported(&format!("curve {other:?}"))),
            };
            match attrs.ecc_type() {
                EccType::EdDSA => Key4::new(
                    created,
                    PublicKeyAlgorithm::EdDSA,
                    mpi::PublicKey::EdDSA {
                        curve,
                        q: mpi::MPI::new_compressed_point(ecc.data()),
                    },
                ),
                EccType::ECDSA => Key4::new(
                    created,
                    PublicKeyAlgorithm::ECDSA,
                    mpi::PublicKey::ECDSA {
                        curve,
                        q: mpi::MPI::new(ecc.data()),
                    },
                ),
                EccType::ECDH => return Err(unsupported("ECDH keys cannot sign")),
            }
        }
    }
    .map_err(|e| Error::sign(format!("card key: {}", clean(&e.to_string()))))?;
    Ok(key.into())
}

/// The fingerprint the card stores for a key it generated: the callback
/// `Card::<Admin>::generate_key` wants.
pub fn fingerprint_for_card(
    material: &PublicKeyMaterial,
    created: KeyGenerationTime,
    _key_type: KeyType,
) -> std::result::Result<openpgp_card::ocard::data::Fingerprint, openpgp_card::Error> {
    let at = UNIX_EPOCH + Duration::from_secs(u64::from(created.get()));
    let key =
        public_key(material, at).map_err(|e| openpgp_card::Error::InternalError(e.to_string()))?;
    openpgp_card::ocard::data::Fingerprint::try_from(key.fingerprint().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardholder_names_read_naturally() {
        assert_eq!(display_name("Reviewer<<Carol"), "Carol Reviewer");
        assert_eq!(display_name("Carol Reviewer"), "Carol Reviewer");
        assert_eq!(display_name(""), "");
    }
}
