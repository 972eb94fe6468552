//! The SSH agent protocol, the little of it signing needs, over the unix
//! socket at `SSH_AUTH_SOCK`: the keys the agent holds
//! (REQUEST_IDENTITIES) and a signature (SIGN_REQUEST; RSA with
//! rsa-sha2-512). A FIDO key asks for a touch: "touch your security key"
//! is printed on stderr before the request.
//!
//! Invariants: every answer read is at most [`MAX_MESSAGE`] bytes and
//! parsed strictly; the agent's signature is verified with the public key
//! before it is used ([`super::SshSigningKey`]); nothing secret passes
//! through this module.

use crate::encoding::{put_ssh_string, SshReader};
use crate::error::{Error, Result};
use crate::keys::ssh::fingerprint_of_blob;
use ssh_key::public::KeyData;
use ssh_key::{Algorithm, PublicKey};
use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FAILURE: u8 = 5;
const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
const RSA_SHA2_512: u32 = 4;

/// The longest agent message read.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// How long an answer may take: a touch, or a confirmation (`ssh-add -c`).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// An ssh-agent, by its socket.
#[derive(Debug, Clone)]
pub struct Agent {
    socket: PathBuf,
}

/// One key the agent holds.
#[derive(Debug, Clone)]
pub struct Identity {
    pub key: KeyData,
    pub blob: Vec<u8>,
    pub fingerprint: String,
}

impl Agent {
    /// The agent at `SSH_AUTH_SOCK`.
    pub fn from_env() -> Result<Agent> {
        match std::env::var_os("SSH_AUTH_SOCK") {
            Some(s) if !s.is_empty() => Ok(Agent {
                socket: PathBuf::from(s),
            }),
            _ => Err(Error::sign(
                "--ssh-agent needs a running ssh-agent, but SSH_AUTH_SOCK is not set; start one (eval \"$(ssh-agent)\") and add your key with ssh-add",
            )),
        }
    }

    /// The agent at `socket`.
    pub fn at(socket: &Path) -> Agent {
        Agent {
            socket: socket.to_path_buf(),
        }
    }

    fn fail(&self, what: &str) -> Error {
        Error::sign(format!("the ssh-agent at {} {what}", self.socket.display()))
    }

    /// Sends one request and reads its answer: the type and the body.
    fn request(&self, message: &[u8]) -> Result<(u8, Vec<u8>)> {
        let mut stream = UnixStream::connect(&self.socket).map_err(|e| {
            Error::sign(format!(
                "cannot reach the ssh-agent at {} (SSH_AUTH_SOCK): {e}",
                self.socket.display()
            ))
        })?;
        let io = |e: std::io::Error| self.fail(&format!("did not answer: {e}"));
        stream.set_read_timeout(Some(ANSWER_TIMEOUT)).map_err(io)?;
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .map_err(io)?;
        let len = u32::try_from(message.len()).map_err(|_| self.fail("request too long"))?;
        let mut out = len.to_be_bytes().to_vec();
        out.extend_from_slice(message);
        stream.write_all(&out).map_err(io)?;
        let mut head = [0u8; 4];
        stream.read_exact(&mut head).map_err(io)?;
        let n = u32::from_be_bytes(head) as usize;
        if n == 0 || n > MAX_MESSAGE {
            return Err(self.fail(&format!("sent an answer of {n} bytes")));
        }
        let mut body = vec![0u8; n];
        stream.read_exact(&mut body).map_err(io)?;
        let Some((&kind, rest)) = body.split_first() else {
            return Err(self.fail("sent an empty answer"));
        };
        Ok((kind, rest.to_vec()))
    }

    /// The keys the agent holds (certificates and keys ssh-key cannot
    /// read are left out).
    pub fn identities(&self) -> Result<Vec<Identity>> {
        let (kind, body) = self.request(&[REQUEST_IDENTITIES])?;
        if kind != IDENTITIES_ANSWER {
            return Err(self.fail("refused to list its keys"));
        }
        let mut r = SshReader(&body);
        let n = r
            .u32()
            .ok_or_else(|| self.fail("sent a truncated key list"))?;
        let mut out = Vec::new();
        for _ in 0..n {
            let (Some(blob), Some(_comment)) = (r.string(), r.string()) else {
                return Err(self.fail("sent a truncated key list"));
            };
            if let Ok(key) = PublicKey::from_bytes(blob) {
                out.push(Identity {
                    key: key.key_data().clone(),
                    blob: blob.to_vec(),
                    fingerprint: fingerprint_of_blob(blob),
                });
            }
        }
        if !r.0.is_empty() {
            return Err(self.fail("sent bytes after its key list"));
        }
        Ok(out)
    }

    /// The agent's signature (wire form: algorithm, bytes, and for a
    /// FIDO key flags and counter) of `data` with the key `blob`.
    pub fn sign(&self, blob: &[u8], key: &KeyData, data: &[u8]) -> Result<Vec<u8>> {
        let mut message = vec![SIGN_REQUEST];
        put_ssh_string(&mut message, blob);
        put_ssh_string(&mut message, data);
        let flags = if matches!(key.algorithm(), Algorithm::Rsa { .. }) {
            RSA_SHA2_512
        } else {
            0
        };
        message.extend_from_slice(&flags.to_be_bytes());
        if matches!(
            key.algorithm(),
            Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256
        ) {
            eprintln!("touch your security key");
        }
        let (kind, body) = self.request(&message)?;
        let fpr = fingerprint_of_blob(blob);
        match kind {
            SIGN_RESPONSE => {
                let mut r = SshReader(&body);
                match (r.string(), r.0.is_empty()) {
                    (Some(sig), true) => Ok(sig.to_vec()),
                    _ => Err(self.fail("sent a malformed signature")),
                }
            }
            FAILURE => Err(self.fail(&format!(
                "refused to sign with {fpr} (a touch or confirmation not given, or the key was removed)"
            ))),
            other => Err(self.fail(&format!("answered a signing request with message {other}"))),
        }
    }
}
