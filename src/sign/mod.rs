//! Signing: making new layers of a promotion tag, and publishing them.
//!
//! One module per job:
//! - [`layer`]: the first layer on a commit ([`sign`]) and a layer on top
//!   of an existing chain ([`cosign`]), written exactly as `git tag -s`
//!   writes them;
//! - [`commit`]: which commit a new tag goes on ([`resolve_commit`]),
//!   refusing names git would call ambiguous;
//! - [`message`]: default tag messages, pull-request detection, and the
//!   message of a layer with the lines sigtag writes last;
//! - [`publish`](mod@publish): pushing a new layer, and rolling the local
//!   ref back when the remote refuses it.
//!
//! The layer-making code knows a key only as a [`SigningKey`]: it asks it
//! for an armored detached signature over a payload (`attest` for a
//! binary one, over a DSSE envelope's payload), the fingerprint and
//! tagger ident to show, and whether it already signed a layer. Each
//! signature scheme implements those in its own module ([`openpgp`], and
//! [`ssh`](mod@ssh) for SSH keys, DESIGN §8), and the variant of
//! [`SigningKey`] says which scheme a key is of.
//!
//! Invariants: every layer written passes sigtag's own strict reader;
//! references only ever move with a compare-and-swap, locally and on the
//! remote; a key that already signed a chain adds nothing to it.

pub mod commit;
pub mod layer;
pub mod message;
pub mod openpgp;
pub mod publish;
pub mod ssh;

pub use crate::message::TestedFrom;
pub use commit::{resolve_commit, resolve_tested_from};
pub use layer::{already_signed, already_signed_for, cosign, sign, signed_layer};
pub use message::{clean_message, layer_message, pull_request_of};
pub use openpgp::{load_key_file, passphrase_for, signing_key_of};
pub use publish::{publish, publish_with};

use crate::chain::Layer;
use crate::error::Result;
use git2::Oid;
use std::fmt;
use std::time::SystemTime;

/// A key that can sign layers, of one of the signature schemes.
// A process holds one signing key: the size of its variants does not
// matter.
#[allow(clippy::large_enum_variant)]
pub enum SigningKey {
    /// An OpenPGP secret key (a file, a pasted key, gpg-agent or a card).
    OpenPgp(openpgp::OpenPgpKey),
    /// An SSH private key (a file or a pasted key) or a key in ssh-agent.
    Ssh(ssh::SshSigningKey),
}

impl SigningKey {
    /// An armored detached signature over `payload`, made at `at`.
    pub fn sign_detached(&mut self, payload: &[u8], at: SystemTime) -> Result<Vec<u8>> {
        match self {
            SigningKey::OpenPgp(key) => key.sign_detached(payload, at),
            // An SSH signature carries no time: the layer's tagger date,
            // which it signs, stands for it.
            SigningKey::Ssh(key) => key.sign_detached(payload),
        }
    }

    /// A binary (not armored) detached signature over `payload`, made at
    /// `at`: for OpenPGP the signature packet, as `gpg --detach-sign`
    /// writes it without `--armor`. DSSE envelopes carry this
    /// ([`crate::attest::envelope`]).
    pub fn sign_detached_binary(&mut self, payload: &[u8], at: SystemTime) -> Result<Vec<u8>> {
        match self {
            SigningKey::OpenPgp(key) => key.sign_detached_binary(payload, at),
            SigningKey::Ssh(key) => Err(crate::error::Error::sign(format!(
                "the SSH key {} cannot sign an attestation; its envelope is signed with an OpenPGP key (--key FILE)",
                key.fingerprint()
            ))),
        }
    }

    /// The fingerprint of the key that signs, as messages show it.
    pub fn fingerprint(&self) -> Fingerprint {
        match self {
            SigningKey::OpenPgp(key) => Fingerprint(key.fingerprint().to_hex()),
            SigningKey::Ssh(key) => Fingerprint(key.fingerprint().to_string()),
        }
    }

    /// `Name <email>` for the layer's tagger, from the key's identity.
    pub fn ident(&self) -> Result<String> {
        match self {
            SigningKey::OpenPgp(key) => key.ident(),
            SigningKey::Ssh(key) => key.ident(),
        }
    }

    /// Does `layer` carry a good signature by this key? Checked with the
    /// key itself, so no trust root is needed.
    pub fn has_signed(&self, layer: &Layer) -> bool {
        match self {
            SigningKey::OpenPgp(key) => {
                key.has_signed(&layer.object.signature, layer.object.payload())
            }
            SigningKey::Ssh(key) => key.has_signed(&layer.object.signature, layer.object.payload()),
        }
    }
}

/// The fingerprint of a signing key, as messages show it (for OpenPGP,
/// upper-case hex; for SSH, `SHA256:` and base64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint's text (for OpenPGP keys, upper-case hex; for SSH
    /// keys, `SHA256:...`).
    pub fn to_hex(&self) -> String {
        self.0.clone()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that `text` (the configuration field `field`) is an armored
/// secret key of a scheme sigtag signs with (an OpenPGP secret key, or an
/// OpenSSH private key, told apart by their armor), without using it.
pub fn check_secret_key(text: &str, field: &str) -> Result<()> {
    if ssh::is_private_key(text) {
        ssh::check_secret_key(text, field)
    } else {
        openpgp::check_secret_key(text, field)
    }
}

/// The signing key of an armored secret key given as text in the
/// configuration field `field` (OpenPGP or OpenSSH, by its armor); a key
/// protected by a passphrase is refused (nobody is there to type it).
pub fn secret_key(text: &str, field: &str) -> Result<SigningKey> {
    if ssh::is_private_key(text) {
        ssh::secret_key(text, field)
    } else {
        openpgp::secret_key(text, field)
    }
}

/// Options common to both kinds of layer.
///
/// The message is written as [`message::layer_message`] composes it: the
/// free text (`message`, or a default), then, in a last paragraph of their
/// own, `build_lines` and the [`TestedFrom`] trailer, the only lines of a
/// layer that look like ones sigtag writes.
#[derive(Debug, Clone, Default)]
pub struct LayerOptions {
    /// Free text; a line that looks like one sigtag writes is refused.
    pub message: Option<String>,
    /// `Name <email>`; default: the signing certificate's user ID.
    pub tagger: Option<String>,
    /// Lines about the build that made the layer (`BUILD_…=value`,
    /// `Build: URL`), one line each, each one sigtag would write.
    pub build_lines: Vec<String>,
    /// The transition the layer records (DESIGN §6): its
    /// `Sigtag-Tested-From:` line, last of the message.
    pub tested_from: Option<TestedFrom>,
}

/// The outcome of a signing operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// A new layer; the ref moved from `previous` to `layer`.
    Added { layer: Oid, previous: Option<Oid> },
    /// The key had already signed a layer of this chain; nothing changed.
    AlreadySigned { layer: usize },
}
