//! Signing through a running gpg-agent (and so through a YubiKey behind
//! scdaemon), with sequoia-gpg-agent.
//!
//! The agent holds only secret keys; the public certificate comes from the
//! keys directory. Which key signs:
//!
//! 1. `--gpg-agent FPR` (a fingerprint, key ID, email or user ID);
//! 2. else `git config user.signingkey`;
//! 3. else the certificate whose user ID has `git config user.email`.
//!
//! Among that certificate's live signing keys, the newest one the agent
//! holds signs. The agent's own pinentry asks for the passphrase or PIN;
//! with `SIGTAG_PASSPHRASE` set, sigtag answers it itself (loopback
//! pinentry, which the agent allows only with `allow-loopback-pinentry`).

use super::{certs_matching, signing_keys, Checked, KeyQuery};
use crate::error::{clean, Error, Result};
use crate::sign::openpgp::OpenPgpKey;
use crate::sign::SigningKey;
use crate::trust::Trust;
use openpgp::crypto::mpi;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::packet::Key;
use openpgp::types::HashAlgorithm;
use openpgp::KeyHandle;
use sequoia_gpg_agent as gpg_agent;
use sequoia_openpgp as openpgp;
use std::path::Path;

/// How the key to use was named, for messages.
#[derive(Debug, Clone)]
pub struct Choice {
    pub query: KeyQuery,
    pub from: &'static str,
}

/// Picks what names the key: the command line, then git's configuration.
pub fn choose(fpr: Option<&str>, repo: Option<&git2::Repository>) -> Result<Choice> {
    if let Some(f) = fpr.map(str::trim).filter(|f| !f.is_empty()) {
        return Ok(Choice {
            query: KeyQuery::parse(f),
            from: "--gpg-agent",
        });
    }
    let config = repo
        .and_then(|r| r.config().ok())
        .or_else(|| git2::Config::open_default().ok());
    let get = |name: &str| -> Option<String> {
        config
            .as_ref()
            .and_then(|c| c.get_string(name).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let gpg_format = get("gpg.format").unwrap_or_else(|| "openpgp".into());
    if gpg_format == "openpgp" {
        if let Some(k) = get("user.signingkey") {
            return Ok(Choice {
                query: KeyQuery::parse(&k),
                from: "git config user.signingkey",
            });
        }
    }
    if let Some(e) = get("user.email") {
        return Ok(Choice {
            query: KeyQuery::Email(e),
            from: "git config user.email",
        });
    }
    Err(Error::usage(
        "no key named: pass --gpg-agent FPR, or set git config user.signingkey or user.email",
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| Error::io(format!("cannot start the gpg-agent client: {e}")))
}

fn agent_error(e: impl std::fmt::Display) -> Error {
    let text = clean(&e.to_string()).replace('\n', " ");
    Error::sign(format!(
        "cannot reach gpg-agent: {text}; check GNUPGHOME and that gpg-agent can start"
    ))
}

/// The GnuPG home in use, for messages.
fn home_shown(ctx: &gpg_agent::gnupg::Context) -> String {
    ctx.homedir()
        .map(|h| h.display().to_string())
        .unwrap_or_else(|| "the default GnuPG home".into())
}

/// A signing key whose secret half lives in gpg-agent (GNUPGHOME is
/// honoured), with its certificate from the keys directory `dir`.
pub fn signing_key(
    trust: &Trust,
    dir: &Path,
    fpr: Option<&str>,
    repo: Option<&git2::Repository>,
) -> Result<SigningKey> {
    let choice = choose(fpr, repo)?;
    let found = certs_matching(trust, &choice.query);
    let shown_dir = dir.display();
    let (signer, cert) = match found.as_slice() {
        [] => {
            let fix = if choice.from == "--gpg-agent" {
                ""
            } else {
                ", or name the key with --gpg-agent FPR"
            };
            return Err(Error::sign(format!(
                "refusing to sign: no signer's file in {shown_dir} holds a certificate that matches {} (from {}), so a signature by it would not count; add the signer's public certificate (gpg --armor --export) to {}{fix}",
                choice.query,
                choice.from,
                super::signer_file(dir, "NAME")
            )));
        }
        [one] => *one,
        several => {
            let names: Vec<&str> = several.iter().map(|(n, _)| *n).collect();
            return Err(Error::usage(format!(
                "{} (from {}) matches certificates of {} in {shown_dir}; pass --gpg-agent FPR",
                choice.query,
                choice.from,
                names.join(", ")
            )));
        }
    };
    // A subkey named by its own fingerprint signs itself; a certificate
    // named any other way signs with its newest signing key.
    let only: Option<KeyHandle> = match &choice.query {
        KeyQuery::Handle(h) if !cert.key_handle().aliases(h) => Some(h.clone()),
        _ => None,
    };
    let candidates = signing_keys(cert, only.as_ref());
    if candidates.is_empty() {
        return Err(Error::sign(format!(
            "{signer}'s certificate in {shown_dir} has no live signing key{}; update {}",
            match &only {
                Some(h) => format!(" {h:X}"),
                None => String::new(),
            },
            super::signer_file(dir, signer)
        )));
    }

    let ctx = gpg_agent::gnupg::Context::new().map_err(agent_error)?;
    let rt = runtime()?;
    let mut agent = rt
        .block_on(gpg_agent::Agent::connect(&ctx))
        .map_err(agent_error)?;
    let mut chosen: Option<Key<PublicParts, UnspecifiedRole>> = None;
    for key in &candidates {
        if rt.block_on(agent.has_key(key)).map_err(agent_error)? {
            chosen = Some(key.clone());
            break;
        }
    }
    let Some(key) = chosen else {
        let fprs: Vec<String> = candidates
            .iter()
            .map(|k| k.fingerprint().to_hex())
            .collect();
        return Err(Error::sign(format!(
            "gpg-agent ({}) holds no secret key for {signer}'s signing key {}; import the secret key, or insert the token and run gpg --card-status once",
            home_shown(&ctx),
            fprs.join(", ")
        )));
    };
    let policy = crate::policy::Policy::new();
    let mut pair = agent.keypair(&key).map_err(agent_error)?.with_cert(
        &cert.with_policy(&policy, None).map_err(|e| {
            Error::sign(format!(
                "{signer}'s certificate is not valid: {}",
                clean(&e.to_string())
            ))
        })?,
    );
    if let Ok(p) = std::env::var("SIGTAG_PASSPHRASE") {
        pair = pair.with_password(p.into());
    }
    let signer_box = AgentSigner {
        inner: Checked::new(pair, format!("gpg-agent ({})", home_shown(&ctx))),
    };
    Ok(SigningKey::OpenPgp(OpenPgpKey::new(
        cert.clone(),
        Box::new(signer_box),
    )))
}

/// Turns the agent's terse errors into sentences that name the fix.
struct AgentSigner {
    inner: Checked<gpg_agent::KeyPair>,
}

impl openpgp::crypto::Signer for AgentSigner {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        self.inner.public()
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        self.inner.acceptable_hashes()
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> openpgp::Result<mpi::Signature> {
        self.inner.sign(hash_algo, digest).map_err(|e| {
            let text = format!("{e:#}").replace('\n', " ");
            let lower = text.to_lowercase();
            let hint = if lower.contains("bad passphrase") || lower.contains("bad pin") {
                "gpg-agent refused the passphrase or PIN"
            } else if lower.contains("no pinentry") || lower.contains("inappropriate ioctl") {
                "gpg-agent could not ask for the PIN: export GPG_TTY=$(tty), or configure a graphical pinentry"
            } else if lower.contains("cancel") {
                "the PIN entry was cancelled"
            } else if lower.contains("card") || lower.contains("no such device") {
                "gpg-agent could not use the token: plug it in and check gpg --card-status"
            } else if lower.contains("loopback") || lower.contains("not allowed") {
                "gpg-agent refused SIGTAG_PASSPHRASE: add allow-loopback-pinentry to gpg-agent.conf, or unset SIGTAG_PASSPHRASE to use the agent's pinentry"
            } else {
                "gpg-agent could not sign"
            };
            anyhow::anyhow!("{hint} ({})", clean(&text))
        })
    }
}
