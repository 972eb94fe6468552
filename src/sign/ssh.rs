//! SSH signing keys: an OpenSSH private key file (or a pasted one), or a
//! key held by a running ssh-agent ([`agent`]; which key signs is chosen
//! by `crate::token::ssh_agent`).
//!
//! A layer's SSH signature is what `git tag -s` writes with
//! `gpg.format=ssh`: an sshsig (OpenSSH's PROTOCOL.sshsig) over the
//! layer's payload in namespace `git`, hash `sha512`, armored as
//! `ssh-keygen -Y sign` writes it (the begin line, base64 in lines of 70
//! characters, the end line, each ending in a newline), appended to the
//! payload where an OpenPGP signature would be. It answers
//! [`super::SigningKey`]'s questions for SSH keys: the fingerprint is
//! `SHA256:...`, and since an SSH key names no person, the tagger comes
//! from `--tagger` or from git's `user.name` and `user.email`.
//!
//! Invariants: an [`SshSigningKey`] holds a key of a type sigtag verifies
//! (ssh-ed25519, ecdsa-sha2-nistp256/384/521, RSA signing with
//! rsa-sha2-512, and through an agent the FIDO types); a FIDO key's
//! private key file is refused (its secret stays on the token: only an
//! agent can sign with it); every block it returns verifies with its
//! public key, checked before the block is used, so a layer is never
//! written with a bad signature.
//!
//! Two shortcomings of ssh-key 0.6 are worked around here: it builds an
//! RSA key from the first prime twice (RSA signs through the `rsa` crate
//! instead), and it reads an ECDSA private scalar only at full width,
//! while OpenSSH writes it as a minimal mpint (such a key's private
//! section is rewritten at full width before ssh-key reads it).

pub mod agent;

use super::SigningKey;
use crate::encoding::{put_ssh_string, SshReader};
use crate::error::{Error, Result};
use crate::keys::ssh::fingerprint_of_blob;
use crate::object::SignatureBlock;
use crate::verify::ssh::sshsig::{self, SshSig};
use crate::verify::ssh::verifies_with;
use signature::Signer as _;
use ssh_key::public::KeyData;
use ssh_key::sha2::{Digest, Sha256, Sha512};
use ssh_key::{Algorithm, EcdsaCurve, PrivateKey, PublicKey};
use std::path::Path;

/// The namespace git signs tags in.
pub const NAMESPACE: &[u8] = b"git";

/// The line an OpenSSH private key file starts with.
pub const PRIVATE_KEY_BEGIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";

/// What makes the signatures: the private key itself, or an agent that
/// holds it.
pub enum SshSigner {
    /// An unencrypted (or decrypted) private key, in memory.
    Private(Box<PrivateKey>),
    /// A key an ssh-agent holds.
    Agent(agent::Agent),
}

/// An SSH key that signs layers.
pub struct SshSigningKey {
    key: KeyData,
    blob: Vec<u8>,
    fingerprint: String,
    signer: SshSigner,
    ident: Option<String>,
}

impl SshSigningKey {
    /// The key `key` (its public half), signing through `signer`. Refused
    /// for a key type sigtag does not verify.
    pub fn new(key: KeyData, signer: SshSigner) -> Result<SshSigningKey> {
        supported(&key.algorithm(), matches!(signer, SshSigner::Agent(_)))?;
        let blob = PublicKey::new(key.clone(), "")
            .to_bytes()
            .map_err(|_| Error::sign("cannot encode the SSH public key"))?;
        Ok(SshSigningKey {
            fingerprint: fingerprint_of_blob(&blob),
            key,
            blob,
            signer,
            ident: None,
        })
    }

    /// Sets `Name <email>` for the tagger when `--tagger` gives none
    /// (from git's configuration).
    pub fn with_ident(mut self, ident: Option<String>) -> SshSigningKey {
        self.ident = ident;
        self
    }

    /// The public key.
    pub fn key_data(&self) -> &KeyData {
        &self.key
    }

    /// The public key in wire form.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// `SHA256:...`, as ssh-keygen prints it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `Name <email>` from git's configuration; an SSH key names no one.
    pub fn ident(&self) -> Result<String> {
        self.ident.clone().ok_or_else(|| {
            Error::sign(
                "an SSH key names no person, so the tagger cannot come from it: pass --tagger \"Name <email>\", or set git config user.name and user.email",
            )
        })
    }

    /// The armored SSH signature over `payload`, as `ssh-keygen -Y sign
    /// -n git` writes it (hash sha512); checked with the public key before
    /// it is returned.
    pub fn sign_detached(&mut self, payload: &[u8]) -> Result<Vec<u8>> {
        let blob = self.sign_blob(payload)?;
        Ok(sshsig::armor(&blob))
    }

    /// The sshsig blob (not armored) over `payload`.
    pub fn sign_blob(&mut self, payload: &[u8]) -> Result<Vec<u8>> {
        let digest = Sha512::digest(payload).to_vec();
        let unsigned = SshSig {
            public_key: self.blob.clone(),
            namespace: NAMESPACE.to_vec(),
            hash_algorithm: b"sha512".to_vec(),
            signature: Vec::new(),
            signature_algorithm: Vec::new(),
            sk: None,
        };
        let data = unsigned.signed_data(&digest);
        let signature = match &mut self.signer {
            SshSigner::Private(key) => {
                let sig = try_sign(key, &data).map_err(|_| {
                    Error::sign(format!(
                        "signing with the SSH key {} failed",
                        self.fingerprint
                    ))
                })?;
                sshsig::signature_blob(sig.algorithm().as_str().as_bytes(), sig.as_bytes(), None)
            }
            SshSigner::Agent(agent) => agent.sign(&self.blob, &self.key, &data)?,
        };
        let blob = sshsig::blob(&self.blob, NAMESPACE, b"sha512", &signature);
        let parsed = sshsig::parse_blob(&blob).map_err(|why| {
            Error::sign(format!(
                "the SSH signature by {} cannot be read back: {why}",
                self.fingerprint
            ))
        })?;
        if !verifies_with(&parsed, &self.key, &digest) {
            return Err(Error::sign(format!(
                "the SSH signature made with {} does not verify with its public key; nothing was written",
                self.fingerprint
            )));
        }
        Ok(blob)
    }

    /// Does `signature` (of a layer over `payload`) hold a good signature
    /// by this key, in namespace `git`? Checked with the key itself.
    pub fn has_signed(&self, signature: &SignatureBlock, payload: &[u8]) -> bool {
        let SignatureBlock::Ssh(block) = signature else {
            return false;
        };
        let Ok(sig) = sshsig::parse(block) else {
            return false;
        };
        if sig.public_key != self.blob || sig.namespace != NAMESPACE {
            return false;
        }
        let digest = match sig.hash_algorithm.as_slice() {
            b"sha256" => Sha256::digest(payload).to_vec(),
            b"sha512" => Sha512::digest(payload).to_vec(),
            _ => return false,
        };
        verifies_with(&sig, &self.key, &digest)
    }
}

/// Refuses a key type sigtag does not sign with; a FIDO key only through
/// an agent.
fn supported(algorithm: &Algorithm, agent: bool) -> Result<()> {
    match algorithm {
        Algorithm::Ed25519
        | Algorithm::Rsa { .. }
        | Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256 | EcdsaCurve::NistP384 | EcdsaCurve::NistP521,
        } => Ok(()),
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256 if agent => Ok(()),
        other => Err(Error::sign(format!(
            "sigtag does not sign with {} keys; use an ssh-ed25519, ecdsa-sha2-nistp256/384/521 or RSA key",
            other.as_str()
        ))),
    }
}

fn is_sk(algorithm: &Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256
    )
}

/// Reads an OpenSSH private key file's text, `shown` naming it in
/// messages (`--ssh-key FILE`, `source.signing_key`).
fn parse_private(text: &str, shown: &str) -> std::result::Result<PrivateKey, String> {
    if !text.trim_start().starts_with(PRIVATE_KEY_BEGIN) {
        return Err(format!(
            "{shown} is not an OpenSSH private key (it must start with {PRIVATE_KEY_BEGIN}; ssh-keygen writes one)"
        ));
    }
    PrivateKey::from_openssh(text.trim())
        .ok()
        .or_else(|| repaired_file(text))
        .ok_or_else(|| {
            format!("{shown} is not a readable OpenSSH private key (ssh-keygen writes one)")
        })
}

/// Signs `data` with `key`: RSA with rsa-sha2-512 through the `rsa`
/// crate (ssh-key 0.6 builds the RSA key from the wrong primes), every
/// other type through ssh-key.
fn try_sign(key: &PrivateKey, data: &[u8]) -> std::result::Result<ssh_key::Signature, ()> {
    let ssh_key::private::KeypairData::Rsa(rsa_key) = key.key_data() else {
        return key.try_sign(data).map_err(|_| ());
    };
    let int = |m: &ssh_key::Mpint| -> std::result::Result<rsa::BigUint, ()> {
        m.as_positive_bytes()
            .map(rsa::BigUint::from_bytes_be)
            .ok_or(())
    };
    let private = rsa::RsaPrivateKey::from_components(
        int(&rsa_key.public.n)?,
        int(&rsa_key.public.e)?,
        int(&rsa_key.private.d)?,
        vec![int(&rsa_key.private.p)?, int(&rsa_key.private.q)?],
    )
    .map_err(|_| ())?;
    let signer = rsa::pkcs1v15::SigningKey::<Sha512>::new(private);
    let sig = signature::Signer::try_sign(&signer, data).map_err(|_| ())?;
    let bytes: Box<[u8]> = sig.into();
    ssh_key::Signature::new(
        Algorithm::Rsa {
            hash: Some(ssh_key::HashAlg::Sha512),
        },
        bytes.into_vec(),
    )
    .map_err(|_| ())
}

const MAGIC: &[u8] = b"openssh-key-v1\0";

/// Why a private section could not be read.
enum Section {
    /// The check integers differ: a wrong passphrase.
    WrongKey,
    Unreadable,
}

/// ssh-key 0.6 reads an ECDSA private scalar only at its full width (or
/// one more byte, a leading zero), but OpenSSH writes it as a minimal
/// mpint, shorter when its first bytes are zero: the plaintext private
/// section `plain`, rewritten with the scalar at full width, then read
/// by ssh-key as an unencrypted key with public key `public`.
fn repaired(public: &[u8], plain: &[u8]) -> std::result::Result<PrivateKey, Section> {
    let mut r = SshReader(plain);
    let (Some(c1), Some(c2)) = (r.take(4), r.take(4)) else {
        return Err(Section::Unreadable);
    };
    if c1 != c2 {
        return Err(Section::WrongKey);
    }
    let mut section = zeroize::Zeroizing::new([c1, c2].concat());
    let typ = r.string().ok_or(Section::Unreadable)?;
    put_ssh_string(&mut section, typ);
    if typ.starts_with(b"ecdsa-sha2-") {
        let (Some(curve), Some(point), Some(scalar)) = (r.string(), r.string(), r.string()) else {
            return Err(Section::Unreadable);
        };
        let size = match curve {
            b"nistp256" => 32,
            b"nistp384" => 48,
            b"nistp521" => 66,
            _ => return Err(Section::Unreadable),
        };
        let digits: Vec<u8> = scalar.iter().copied().skip_while(|b| *b == 0).collect();
        if digits.len() > size {
            return Err(Section::Unreadable);
        }
        let mut full = vec![0u8; size - digits.len()];
        full.extend_from_slice(&digits);
        if full.first().is_some_and(|b| b & 0x80 != 0) {
            full.insert(0, 0);
        }
        put_ssh_string(&mut section, curve);
        put_ssh_string(&mut section, point);
        put_ssh_string(&mut section, &full);
        let comment = r.string().ok_or(Section::Unreadable)?;
        put_ssh_string(&mut section, comment);
    } else {
        section.extend_from_slice(r.0);
    }
    let mut pad = 1u8;
    while section.len() % 8 != 0 {
        section.push(pad);
        pad = pad.wrapping_add(1);
    }
    let mut blob = zeroize::Zeroizing::new(MAGIC.to_vec());
    put_ssh_string(&mut blob, b"none");
    put_ssh_string(&mut blob, b"none");
    put_ssh_string(&mut blob, b"");
    blob.extend_from_slice(&1u32.to_be_bytes());
    put_ssh_string(&mut blob, public);
    put_ssh_string(&mut blob, &section);
    PrivateKey::from_bytes(&blob).map_err(|_| Section::Unreadable)
}

/// An unencrypted key file ssh-key alone could not read, repaired.
fn repaired_file(text: &str) -> Option<PrivateKey> {
    let body: Vec<u8> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.bytes())
        .collect();
    let blob = crate::encoding::base64_strict(&body)?;
    let mut r = SshReader(&blob);
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    if (r.string()?, r.string()?, r.string()?) != (&b"none"[..], &b"none"[..], &b""[..]) {
        return None;
    }
    if r.u32()? != 1 {
        return None;
    }
    let public = r.string()?;
    let private = r.string()?;
    if !r.0.is_empty() {
        return None;
    }
    repaired(public, private).ok()
}

/// Decrypts an encrypted key with `password`, `None` for a wrong
/// passphrase.
fn decrypt(key: &PrivateKey, password: &[u8]) -> Option<PrivateKey> {
    if let Ok(k) = key.decrypt(password) {
        return Some(k);
    }
    // ssh-key may fail on a key it decrypted well (an ECDSA scalar
    // shorter than its width): decrypt it here, and read it repaired.
    let cipher = key.cipher();
    if cipher.has_tag() {
        return None;
    }
    let (k, iv) = key.kdf().derive_key_and_iv(cipher, password).ok()?;
    let mut buffer = zeroize::Zeroizing::new(key.key_data().encrypted()?.to_vec());
    cipher.decrypt(&k, &iv, &mut buffer, None).ok()?;
    let public = key.public_key().to_bytes().ok()?;
    repaired(&public, &buffer).ok()
}

fn sk_refusal(shown: &str, algorithm: &Algorithm) -> String {
    format!(
        "{shown} is a FIDO security key ({}) whose private half stays on the token, so sigtag cannot sign with the file: add it to ssh-agent (ssh-add {shown}) and pass --ssh-agent",
        algorithm.as_str()
    )
}

/// Loads an OpenSSH private key file (`--ssh-key FILE`); a key protected
/// by a passphrase is decrypted with SIGTAG_PASSPHRASE or a prompt.
pub fn load_key_file(path: &Path) -> Result<SshSigningKey> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("cannot read {shown}: {e}")))?;
    let mut key = parse_private(&text, &shown).map_err(Error::sign)?;
    let algorithm = key.algorithm();
    if is_sk(&algorithm) {
        return Err(Error::sign(sk_refusal(&shown, &algorithm)));
    }
    supported(&algorithm, false)?;
    if key.is_encrypted() {
        let password = super::passphrase_for(&shown)?;
        key = password
            .map(|p| decrypt(&key, &p[..]))
            .ok_or_else(|| Error::sign(format!("wrong passphrase for {shown}")))?;
    }
    let public = key.public_key().key_data().clone();
    SshSigningKey::new(public, SshSigner::Private(Box::new(key)))
}

/// Does `text` look like an OpenSSH private key (rather than an OpenPGP
/// one)?
pub fn is_private_key(text: &str) -> bool {
    text.trim_start().starts_with(PRIVATE_KEY_BEGIN)
}

/// Checks that `text` (the configuration field `field`) is an unencrypted
/// OpenSSH private key sigtag can sign with, without using it.
pub fn check_secret_key(text: &str, field: &str) -> Result<()> {
    secret(text, field).map(|_| ())
}

fn secret(text: &str, field: &str) -> Result<PrivateKey> {
    let key = parse_private(text, field).map_err(Error::config)?;
    let algorithm = key.algorithm();
    if is_sk(&algorithm) {
        return Err(Error::config(format!(
            "{field} is a FIDO security key ({}) whose private half stays on the token; a pipeline signs with an ssh-ed25519, ecdsa or RSA key",
            algorithm.as_str()
        )));
    }
    supported(&algorithm, false).map_err(|e| Error::config(format!("{field}: {e}")))?;
    if key.is_encrypted() {
        return Err(Error::config(format!(
            "{field} is protected by a passphrase; store the key without one in the credential manager (ssh-keygen -p -N '' -f FILE, then paste it again)"
        )));
    }
    Ok(key)
}

/// The signing key of an OpenSSH private key given as text in the
/// configuration field `field` (the resource's `signing_key`). Nobody is
/// there to type a passphrase, so a key protected by one is refused; the
/// key names no tagger.
pub fn secret_key(text: &str, field: &str) -> Result<SigningKey> {
    let key = secret(text, field)?;
    let public = key.public_key().key_data().clone();
    Ok(SigningKey::Ssh(SshSigningKey::new(
        public,
        SshSigner::Private(Box::new(key)),
    )?))
}

/// `Name <email>` from git's `user.name` and `user.email`, read as git
/// reads them for the repository: its own configuration first, then
/// `GIT_CONFIG_GLOBAL` when set (libgit2 alone would read `~/.gitconfig`
/// instead), then the user's and the system's.
pub fn ident_from_config(repo: &git2::Repository) -> Option<String> {
    let config = repo.config().ok()?;
    let local = config.open_level(git2::ConfigLevel::Local).ok();
    let global = std::env::var_os("GIT_CONFIG_GLOBAL")
        .filter(|p| !p.is_empty())
        .and_then(|p| git2::Config::open(Path::new(&p)).ok());
    let get = |name: &str| -> Option<String> {
        [local.as_ref(), global.as_ref(), Some(&config)]
            .into_iter()
            .flatten()
            .find_map(|c| c.get_string(name).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty() && !s.chars().any(char::is_control))
    };
    let name = get("user.name")?;
    let email = get("user.email")?;
    if name.contains(['<', '>']) || email.contains(['<', '>']) {
        return None;
    }
    Some(format!("{name} <{email}>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{self, Kind, Tagger};
    use ssh_key::rand_core::OsRng;

    fn key(algorithm: Algorithm) -> SshSigningKey {
        let private = PrivateKey::random(&mut OsRng, algorithm).unwrap();
        let public = private.public_key().key_data().clone();
        SshSigningKey::new(public, SshSigner::Private(Box::new(private))).unwrap()
    }

    fn layer(k: &mut SshSigningKey) -> Vec<u8> {
        let tagger = Tagger {
            ident: "a <a@example.org>".into(),
            time: 1_700_000_000,
            tz: "+0000".into(),
        };
        let mut bytes = object::unsigned_payload(
            "0123456789abcdef0123456789abcdef01234567",
            Kind::Commit,
            "v1",
            &tagger,
            "m\n",
        );
        let sig = k.sign_detached(&bytes).unwrap();
        bytes.extend_from_slice(&sig);
        bytes
    }

    #[test]
    fn signs_blocks_it_reads_back_and_recognises() {
        for algorithm in [
            Algorithm::Ed25519,
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP384,
            },
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP521,
            },
        ] {
            let mut k = key(algorithm.clone());
            let bytes = layer(&mut k);
            let parsed = object::parse(&bytes).unwrap();
            let SignatureBlock::Ssh(block) = &parsed.signature else {
                panic!("not an SSH block")
            };
            let text = String::from_utf8(block.clone()).unwrap();
            assert!(text.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
            assert!(text.ends_with("\n-----END SSH SIGNATURE-----\n"));
            assert!(text.lines().all(|l| l.len() <= 70), "{text}");
            let sig = sshsig::parse(block).unwrap();
            assert_eq!(sig.namespace, b"git");
            assert_eq!(sig.hash_algorithm, b"sha512");
            assert!(k.has_signed(&parsed.signature, parsed.payload()));
            // Another key of the same type did not sign it.
            let other = key(algorithm);
            assert!(!other.has_signed(&parsed.signature, parsed.payload()));
            // Nor does the signature hold over other bytes.
            let mut payload = parsed.payload().to_vec();
            payload.push(b'x');
            assert!(!k.has_signed(&parsed.signature, &payload));
        }
    }

    /// A fake agent on a socket in `dir` that answers one signing
    /// request with `answer(data)`, the signature in wire form.
    fn fake_agent(
        dir: &std::path::Path,
        answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
    ) -> agent::Agent {
        use std::io::{Read as _, Write as _};
        let path = dir.join("agent.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut len = [0u8; 4];
            conn.read_exact(&mut len).unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            conn.read_exact(&mut body).unwrap();
            assert_eq!(body[0], 13, "a SIGN_REQUEST");
            let mut r = SshReader(&body[1..]);
            let _key = r.string().unwrap();
            let data = r.string().unwrap().to_vec();
            let mut reply = vec![14];
            put_ssh_string(&mut reply, &answer(&data));
            let mut out = (reply.len() as u32).to_be_bytes().to_vec();
            out.extend_from_slice(&reply);
            conn.write_all(&out).unwrap();
        });
        agent::Agent::at(&path)
    }

    #[test]
    fn a_fido_key_in_an_agent_signs_and_its_signature_is_checked() {
        use ssh_key::private::Ed25519Keypair;
        use ssh_key::public::SkEd25519;
        const APP: &str = "ssh:";
        let pair = Ed25519Keypair::from_seed(&[3; 32]);
        let public = KeyData::SkEd25519(SkEd25519::new(pair.public, APP));
        let sk_sign = move |data: &[u8], flags: u8| {
            let mut signed = Sha256::digest(APP.as_bytes()).to_vec();
            signed.push(flags);
            signed.extend_from_slice(&7u32.to_be_bytes());
            signed.extend_from_slice(&Sha256::digest(data));
            let raw = pair.try_sign(&signed).unwrap();
            sshsig::signature_blob(
                b"sk-ssh-ed25519@openssh.com",
                raw.as_bytes(),
                Some(sshsig::SkTrailer { flags, counter: 7 }),
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let first = sk_sign.clone();
        let agent = fake_agent(dir.path(), move |data| first(data, 1));
        let mut k = SshSigningKey::new(public.clone(), SshSigner::Agent(agent)).unwrap();
        let blob = k.sign_blob(b"payload").unwrap();
        let sig = sshsig::parse_blob(&blob).unwrap();
        assert_eq!(sig.sk.map(|t| t.flags), Some(1));
        let block = SignatureBlock::Ssh(sshsig::armor(&blob));
        assert!(k.has_signed(&block, b"payload"));

        // An agent whose signature does not verify writes nothing.
        let dir = tempfile::tempdir().unwrap();
        let agent = fake_agent(dir.path(), move |_| sk_sign(b"something else", 1));
        let mut k = SshSigningKey::new(public, SshSigner::Agent(agent)).unwrap();
        let e = k.sign_blob(b"payload").unwrap_err();
        assert!(e.message().contains("does not verify"), "{e}");
    }

    /// OpenSSH writes an ECDSA scalar as a minimal mpint; ssh-key 0.6
    /// alone reads only full-width ones.
    #[test]
    fn reads_an_ecdsa_key_whose_scalar_openssh_wrote_short() {
        let p521 = Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP521,
        };
        let key = loop {
            let k = PrivateKey::random(&mut OsRng, p521.clone()).unwrap();
            if let ssh_key::private::KeypairData::Ecdsa(
                ssh_key::private::EcdsaKeypair::NistP521 { private, .. },
            ) = k.key_data()
            {
                if private.as_ref()[0] == 0 {
                    break k;
                }
            }
        };
        let bytes = key.to_bytes().unwrap();
        let mut r = SshReader(&bytes);
        r.take(MAGIC.len()).unwrap();
        let head: Vec<&[u8]> = (0..3).map(|_| r.string().unwrap()).collect();
        r.u32().unwrap();
        let public = r.string().unwrap();
        let mut p = SshReader(r.string().unwrap());
        let checks = p.take(8).unwrap();
        let fields: Vec<&[u8]> = (0..5).map(|_| p.string().unwrap()).collect();
        let mut section = checks.to_vec();
        for (i, f) in fields.iter().enumerate() {
            let short: Vec<u8> = f.iter().copied().skip_while(|b| *b == 0).collect();
            put_ssh_string(&mut section, if i == 3 { &short } else { f });
        }
        let mut pad = 1;
        while section.len() % 8 != 0 {
            section.push(pad);
            pad += 1;
        }
        let mut blob = MAGIC.to_vec();
        for h in head {
            put_ssh_string(&mut blob, h);
        }
        blob.extend_from_slice(&1u32.to_be_bytes());
        put_ssh_string(&mut blob, public);
        put_ssh_string(&mut blob, &section);
        let b64 = crate::encoding::base64(&blob);
        let mut text = format!("{PRIVATE_KEY_BEGIN}\n");
        for line in b64.as_bytes().chunks(70) {
            text.push_str(std::str::from_utf8(line).unwrap());
            text.push('\n');
        }
        text.push_str("-----END OPENSSH PRIVATE KEY-----\n");
        assert!(
            PrivateKey::from_openssh(&text).is_err(),
            "ssh-key reads it now"
        );
        let read = parse_private(&text, "k").unwrap();
        assert_eq!(read.public_key(), key.public_key());
        let mut k = SshSigningKey::new(
            read.public_key().key_data().clone(),
            SshSigner::Private(Box::new(read)),
        )
        .unwrap();
        assert!(k.sign_blob(b"payload").is_ok());
    }

    #[test]
    fn a_fido_key_file_cannot_sign_in_process() {
        let pair = ssh_key::private::Ed25519Keypair::from_seed(&[3; 32]);
        let public = KeyData::SkEd25519(ssh_key::public::SkEd25519::new(pair.public, "ssh:"));
        let private = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
        assert!(SshSigningKey::new(public, SshSigner::Private(Box::new(private))).is_err());
    }

    #[test]
    fn an_ssh_key_names_no_tagger_without_git_config() {
        let k = key(Algorithm::Ed25519);
        let e = k.ident().unwrap_err();
        assert!(e.message().contains("--tagger"), "{e}");
        assert!(e.message().contains("user.name and user.email"), "{e}");
        let k = k.with_ident(Some("A <a@example.org>".into()));
        assert_eq!(k.ident().unwrap(), "A <a@example.org>");
        assert!(k.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn a_pasted_key_must_be_unencrypted_and_not_fido() {
        let private = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap();
        let text = private.to_openssh(ssh_key::LineEnding::LF).unwrap();
        assert!(is_private_key(&text));
        check_secret_key(&text, "source.signing_key").unwrap();
        let locked = private.encrypt(&mut OsRng, "pw").unwrap();
        let text = locked.to_openssh(ssh_key::LineEnding::LF).unwrap();
        let e = check_secret_key(&text, "source.signing_key").unwrap_err();
        assert!(e.message().contains("protected by a passphrase"), "{e}");
        let e = check_secret_key("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n", "f").unwrap_err();
        assert_eq!(
            e.message(),
            "f is not a readable OpenSSH private key (ssh-keygen writes one)"
        );
        assert!(!e.message().contains("xx"));
    }
}
