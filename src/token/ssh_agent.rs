//! Signing through a running ssh-agent (`--ssh-agent[=KEY]`), which
//! [`crate::sign::ssh::agent`] speaks to over `SSH_AUTH_SOCK`.
//!
//! Which key signs: `--ssh-agent=SHA256:...` (its fingerprint) or
//! `--ssh-agent=FILE.pub` (its public key file); else the only key the
//! agent holds that belongs to a signer of the keys directory. A FIDO key
//! asks for a touch: "touch your security key" is printed on stderr before
//! the request.
//!
//! Invariant: the key chosen by default belongs to a signer of the keys
//! directory and is not revoked; a key named is taken as named, and
//! [`super::check_counts`] then refuses it unless it counts.

use super::ssh_owner;
use crate::error::{Error, Result};
use crate::keys::ssh::fingerprint_of_blob;
use crate::sign::ssh::agent::{Agent, Identity};
use crate::sign::ssh::{SshSigner, SshSigningKey};
use crate::trust::Trust;
use ssh_key::PublicKey;
use std::path::Path;

/// What `--ssh-agent=KEY` names: a fingerprint, or a public key file.
fn wanted(choice: &str) -> Result<(String, String)> {
    if choice.starts_with("SHA256:") {
        return Ok((choice.to_string(), choice.to_string()));
    }
    let path = Path::new(choice);
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "--ssh-agent={choice}: cannot read it ({e}); name the key by its fingerprint SHA256:... or its .pub file"
        ))
    })?;
    let key = PublicKey::from_openssh(text.trim()).map_err(|_| {
        Error::usage(format!(
            "--ssh-agent={choice} is not an OpenSSH public key file; name the key by its fingerprint SHA256:... or its .pub file"
        ))
    })?;
    let blob = key
        .to_bytes()
        .map_err(|_| Error::usage(format!("--ssh-agent={choice}: cannot read the key")))?;
    Ok((
        fingerprint_of_blob(&blob),
        format!("{choice} ({})", fingerprint_of_blob(&blob)),
    ))
}

/// The agent key that signs: the one `choice` names, else the only one
/// of a signer of the keys directory `dir`.
pub fn signing_key(trust: &Trust, dir: &Path, choice: Option<&str>) -> Result<SshSigningKey> {
    let agent = Agent::from_env()?;
    let held = agent.identities()?;
    let shown = dir.display();
    let chosen = match choice.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            let (fpr, named) = wanted(c)?;
            held.into_iter()
                .find(|i| i.fingerprint == fpr)
                .ok_or_else(|| {
                    Error::sign(format!(
                        "the ssh-agent does not hold the key {named}; add it with ssh-add"
                    ))
                })?
        }
        None => {
            let mut ours: Vec<(Identity, String)> = held
                .into_iter()
                .filter_map(|i| {
                    let name = ssh_owner(trust, &i.blob)?.name.clone();
                    Some((i, name))
                })
                .collect();
            match ours.len() {
                1 => ours.remove(0).0,
                0 => {
                    return Err(Error::sign(format!(
                        "the ssh-agent holds no key of a signer in {shown}; add yours with ssh-add, or add its .pub line to {} under your name",
                        super::ssh_signer_file(dir, "NAME")
                    )))
                }
                _ => {
                    let list: Vec<String> = ours
                        .iter()
                        .map(|(i, name)| format!("{} ({name})", i.fingerprint))
                        .collect();
                    return Err(Error::usage(format!(
                        "the ssh-agent holds {} keys of signers in {shown}: {}; pick one with --ssh-agent=SHA256:...",
                        ours.len(),
                        list.join(", ")
                    )));
                }
            }
        }
    };
    SshSigningKey::new(chosen.key, SshSigner::Agent(agent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_names_itself() {
        let (fpr, named) = wanted("SHA256:abc").unwrap();
        assert_eq!(fpr, "SHA256:abc");
        assert_eq!(named, "SHA256:abc");
        assert!(wanted("/nonexistent/x.pub").is_err());
    }
}
