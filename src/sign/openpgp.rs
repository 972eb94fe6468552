//! OpenPGP signing keys: a secret key (a file, a pasted armored key, or
//! a token through [`crate::token`]) with the certificate it belongs to.
//!
//! This module is everything of signing that speaks Sequoia: loading and
//! checking armored secret keys, picking the signing-capable key,
//! passphrases, and making the armored detached signature of a layer
//! (SHA-512, a binary document signature dated when the layer is), or the
//! same signature unarmored for a DSSE envelope ([`crate::attest`]). It
//! answers [`super::SigningKey`]'s questions for OpenPGP keys.
//!
//! Invariants: an [`OpenPgpKey`]'s certificate holds no secret key
//! material (the secret half stays in its signer); a key is only ever
//! picked when it is live, unrevoked and signing-capable now.

use super::SigningKey;
use crate::error::{clean, Error, Result};
use crate::object::SignatureBlock;
use crate::verify::openpgp::{read_signatures, verifies};
use openpgp::crypto::{Password, Signer as _};
use openpgp::parse::Parse;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::types::HashAlgorithm;
use openpgp::Cert;
use sequoia_openpgp as openpgp;
use std::io::Write as _;
use std::path::Path;
use std::time::SystemTime;

/// Something that can make OpenPGP signatures, with the certificate it
/// belongs to.
pub struct OpenPgpKey {
    cert: Cert,
    signer: Box<dyn openpgp::crypto::Signer + Send + Sync>,
}

impl OpenPgpKey {
    pub fn new(cert: Cert, signer: Box<dyn openpgp::crypto::Signer + Send + Sync>) -> OpenPgpKey {
        OpenPgpKey {
            cert: cert.strip_secret_key_material(),
            signer,
        }
    }

    /// The certificate the key belongs to (public material only).
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// The fingerprint of the key that signs.
    pub fn fingerprint(&self) -> openpgp::Fingerprint {
        self.signer.public().fingerprint()
    }

    /// `Name <email>` of the certificate's primary user ID.
    pub fn ident(&self) -> Result<String> {
        let policy = crate::policy::Policy::new();
        let uid = self
            .cert
            .with_policy(&policy, None)
            .ok()
            .and_then(|vc| vc.primary_userid().ok().map(|u| u.userid().clone()))
            .or_else(|| self.cert.userids().next().map(|u| u.userid().clone()))
            .ok_or_else(|| {
                Error::sign(
                    "the signing certificate has no user ID; pass --tagger \"Name <email>\"",
                )
            })?;
        let text = String::from_utf8_lossy(uid.value()).to_string();
        if text.contains('<') && text.ends_with('>') {
            Ok(text)
        } else {
            Ok(format!("{text} <>"))
        }
    }

    /// An armored detached signature over `payload`.
    pub fn sign_detached(&mut self, payload: &[u8], at: SystemTime) -> Result<Vec<u8>> {
        self.detached(payload, at, true)
    }

    /// A binary (not armored) detached signature over `payload`: the
    /// signature packet itself, as a DSSE envelope carries it.
    pub fn sign_detached_binary(&mut self, payload: &[u8], at: SystemTime) -> Result<Vec<u8>> {
        self.detached(payload, at, false)
    }

    /// A detached binary-document signature over `payload` (SHA-512), made
    /// at `at`, armored or not.
    fn detached(&mut self, payload: &[u8], at: SystemTime, armored: bool) -> Result<Vec<u8>> {
        let fail =
            |e: anyhow::Error| Error::sign(format!("signing failed: {}", clean(&e.to_string())));
        let mut sink = Vec::new();
        {
            let message = Message::new(&mut sink);
            let message = if armored {
                Armorer::new(message)
                    .kind(openpgp::armor::Kind::Signature)
                    .build()
                    .map_err(fail)?
            } else {
                message
            };
            let mut w = Signer::new(message, Borrowed(&mut *self.signer))
                .map_err(fail)?
                .detached()
                .hash_algo(HashAlgorithm::SHA512)
                .map_err(fail)?
                .creation_time(at)
                .build()
                .map_err(fail)?;
            w.write_all(payload).map_err(|e| fail(e.into()))?;
            w.finalize().map_err(fail)?;
        }
        Ok(sink)
    }

    /// Does `signature` (of a layer over `payload`) hold a good signature
    /// by this key? Checked with the key itself, so no trust root is
    /// needed.
    pub fn has_signed(&self, signature: &SignatureBlock, payload: &[u8]) -> bool {
        let SignatureBlock::OpenPgp(block) = signature else {
            return false;
        };
        let fpr = self.fingerprint();
        let handle = openpgp::KeyHandle::from(&fpr);
        let Some(public) = self.cert.keys().key_handle(fpr.clone()).next() else {
            return false;
        };
        let Ok(sigs) = read_signatures(block) else {
            return false;
        };
        sigs.iter().any(|s| {
            s.get_issuers().iter().any(|i| i.aliases(&handle)) && verifies(s, public.key(), payload)
        })
    }
}

/// Lends a boxed signer to Sequoia's streaming signer, which wants to own one.
struct Borrowed<'a>(&'a mut (dyn openpgp::crypto::Signer + Send + Sync));

impl openpgp::crypto::Signer for Borrowed<'_> {
    fn public(
        &self,
    ) -> &openpgp::packet::Key<
        openpgp::packet::key::PublicParts,
        openpgp::packet::key::UnspecifiedRole,
    > {
        self.0.public()
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        self.0.acceptable_hashes()
    }

    fn sign(
        &mut self,
        hash_algo: HashAlgorithm,
        digest: &[u8],
    ) -> openpgp::Result<openpgp::crypto::mpi::Signature> {
        self.0.sign(hash_algo, digest)
    }
}

/// Where the passphrase of an encrypted key comes from.
pub fn passphrase_for(what: &str) -> Result<Password> {
    if let Ok(p) = std::env::var("SIGTAG_PASSPHRASE") {
        return Ok(p.into());
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password(format!("Passphrase for {what}: "))
            .map(Password::from)
            .map_err(|e| Error::io(format!("cannot read the passphrase: {e}")));
    }
    Err(Error::sign(format!(
        "{what} is protected by a passphrase; set SIGTAG_PASSPHRASE or run on a terminal"
    )))
}

/// Loads an armored secret key (`--key FILE`) and picks its signing key.
pub fn load_key_file(path: &Path) -> Result<SigningKey> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read {shown}: {e}")))?;
    let cert = Cert::from_bytes(&bytes).map_err(|_| {
        Error::sign(format!(
            "{shown} is not an OpenPGP secret key; export one with gpg --armor --export-secret-keys"
        ))
    })?;
    signing_key_of(cert, &shown)
}

/// Picks the signing-capable secret key of a certificate, decrypting it if
/// needed.
pub fn signing_key_of(cert: Cert, shown: &str) -> Result<SigningKey> {
    let policy = crate::policy::Policy::new();
    let vc = cert.with_policy(&policy, None).map_err(|e| {
        Error::sign(format!(
            "the key in {shown} is not usable: {}",
            clean(&e.to_string())
        ))
    })?;
    let ka = vc
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .secret()
        .next()
        .ok_or_else(|| {
            if cert.is_tsk() {
                Error::sign(format!("{shown} holds no live, unrevoked signing key"))
            } else {
                Error::sign(format!(
                    "{shown} holds only a public certificate; signing needs the secret key"
                ))
            }
        })?;
    let mut key = ka.key().clone();
    if !key.has_unencrypted_secret() {
        let password = passphrase_for(shown)?;
        key = key
            .decrypt_secret(&password)
            .map_err(|_| Error::sign(format!("wrong passphrase for {shown}")))?;
    }
    let pair = key
        .into_keypair()
        .map_err(|e| Error::sign(format!("{shown}: {}", clean(&e.to_string()))))?;
    Ok(SigningKey::OpenPgp(OpenPgpKey::new(cert, Box::new(pair))))
}

/// Checks that `text` is an armored OpenPGP secret key, without using it.
pub fn check_secret_key(text: &str, field: &str) -> Result<()> {
    let cert = Cert::from_bytes(text.as_bytes()).map_err(|_| {
        Error::config(format!(
            "{field} is not an OpenPGP key; paste the output of gpg --armor --export-secret-keys FINGERPRINT"
        ))
    })?;
    if !cert.is_tsk() {
        return Err(Error::config(format!(
            "{field} holds only a public certificate; signing needs the secret key (gpg --armor --export-secret-keys)"
        )));
    }
    Ok(())
}

/// The signing key of an armored secret key given as text in the
/// configuration field `field` (the resource's `signing_key`). Nobody is
/// there to type a passphrase, so a key protected by one is refused.
pub fn secret_key(text: &str, field: &str) -> Result<SigningKey> {
    check_secret_key(text, field)?;
    let cert = Cert::from_bytes(text.as_bytes())
        .map_err(|_| Error::config(format!("{field} is not an OpenPGP key")))?;
    let policy = crate::policy::Policy::new();
    let usable: Vec<bool> = cert
        .with_policy(&policy, None)
        .map(|vc| {
            vc.keys()
                .supported()
                .alive()
                .revoked(false)
                .for_signing()
                .secret()
                .map(|ka| ka.key().has_unencrypted_secret())
                .collect()
        })
        .unwrap_or_default();
    if !usable.is_empty() && !usable.contains(&true) {
        return Err(Error::config(format!(
            "{field} is protected by a passphrase; store the key without one in the credential manager (gpg --passwd, then export it again)"
        )));
    }
    signing_key_of(cert, field)
}
