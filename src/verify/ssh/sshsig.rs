//! Strict parsing of an SSH signature block (OpenSSH's PROTOCOL.sshsig),
//! as git writes it into a layer with `gpg.format=ssh`.
//!
//! Invariants of an [`SshSig`] that parsed successfully:
//! - the block was at most [`MAX_SSH_SIGNATURE_SIZE`] bytes: the line
//!   `-----BEGIN SSH SIGNATURE-----`, base64 lines of at most
//!   [`MAX_LINE`] characters, the line `-----END SSH SIGNATURE-----`, each
//!   ending in a newline (no CR, no blank line, no header);
//! - the base64 was canonical: its length a multiple of four, padding only
//!   at its end, no bits set past the data;
//! - the blob held exactly: the magic `SSHSIG`, version 1, the public
//!   key, the namespace, an empty reserved field, the hash algorithm, and
//!   the signature (an algorithm name, the signature bytes and, for a
//!   security key, the flags and counter), and nothing after them; every
//!   length was within what was left, none truncated.
//!
//! Nothing is judged here (namespace, algorithms, the key): the verifier
//! does that ([`super`]). Pure and safe to feed arbitrary bytes.

pub use crate::limits::MAX_SSH_SIGNATURE_SIZE;

const BEGIN: &[u8] = b"-----BEGIN SSH SIGNATURE-----";
const END: &[u8] = b"-----END SSH SIGNATURE-----";
const MAGIC: &[u8] = b"SSHSIG";

/// The longest base64 line accepted (ssh-keygen writes 70).
pub const MAX_LINE: usize = 76;

/// The signature algorithms of security keys, whose signatures carry
/// flags and a counter after the signature bytes (PROTOCOL.u2f).
pub const SK_ALGORITHMS: [&str; 2] = [
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// One parsed SSH signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSig {
    /// The public key, in SSH wire form (as an OpenSSH public key line's
    /// base64 holds it).
    pub public_key: Vec<u8>,
    /// The namespace, as signed (git signs in `git`).
    pub namespace: Vec<u8>,
    /// The name of the hash over the message: `sha256` or `sha512`.
    pub hash_algorithm: Vec<u8>,
    /// The signature, in SSH wire form (algorithm name, bytes, and for
    /// security keys flags and counter).
    pub signature: Vec<u8>,
    /// The signature's algorithm name.
    pub signature_algorithm: Vec<u8>,
    /// A security key's flags and counter; `None` for other keys.
    pub sk: Option<SkTrailer>,
}

/// What a security key adds to its signature (PROTOCOL.u2f).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkTrailer {
    pub flags: u8,
    pub counter: u32,
}

/// User presence: the key was touched.
pub const SK_USER_PRESENT: u8 = 0x01;
/// User verification: a PIN or a biometric was checked.
pub const SK_USER_VERIFIED: u8 = 0x04;

impl SshSig {
    /// The bytes the key signs for `message`, as PROTOCOL.sshsig defines
    /// them, with `digest` the hash of the message under
    /// [`SshSig::hash_algorithm`].
    pub fn signed_data(&self, digest: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.namespace.len() + digest.len());
        out.extend_from_slice(MAGIC);
        put_ssh_string(&mut out, &self.namespace);
        put_ssh_string(&mut out, b"");
        put_ssh_string(&mut out, &self.hash_algorithm);
        put_ssh_string(&mut out, digest);
        out
    }
}

/// Parses an armored SSH signature block (begin to end line, with its
/// final newline), strictly; the error says what is wrong, for a message.
pub fn parse(block: &[u8]) -> Result<SshSig, String> {
    if block.len() > MAX_SSH_SIGNATURE_SIZE {
        return Err(format!(
            "the SSH signature is larger than {}",
            crate::limits::size_words(MAX_SSH_SIGNATURE_SIZE as u64)
        ));
    }
    let blob = dearmor(block)?;
    parse_blob(&blob)
}

/// The bytes inside the armor.
fn dearmor(block: &[u8]) -> Result<Vec<u8>, String> {
    let Some(body) = block.strip_suffix(b"\n") else {
        return Err("the SSH signature does not end with a newline".into());
    };
    let mut lines = body.split(|&b| b == b'\n');
    if lines.next() != Some(BEGIN) {
        return Err("the SSH signature does not start with its begin line".into());
    }
    let mut text = Vec::with_capacity(block.len());
    let mut ended = false;
    for line in lines {
        if ended {
            return Err("text after the SSH signature's end line".into());
        }
        if line == END {
            ended = true;
            continue;
        }
        if line.is_empty() || line.len() > MAX_LINE {
            return Err(format!(
                "the SSH signature's armor has a line that is empty or longer than {MAX_LINE} characters"
            ));
        }
        text.extend_from_slice(line);
    }
    if !ended {
        return Err("the SSH signature has no end line".into());
    }
    base64_strict(&text).ok_or_else(|| "the SSH signature is not canonical base64".into())
}

pub use crate::encoding::base64_strict;
use crate::encoding::{put_ssh_string, SshReader};

/// Reads SSH wire values off the front of a byte string, naming the
/// field that runs out.
struct Reader<'a>(SshReader<'a>);

fn truncated(what: &str) -> String {
    format!("the SSH signature is truncated in its {what}")
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        self.0.take(n).ok_or_else(|| truncated(what))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        self.0.u32().ok_or_else(|| truncated(what))
    }

    fn string(&mut self, what: &str) -> Result<&'a [u8], String> {
        self.0.string().ok_or_else(|| truncated(what))
    }

    fn finish(&self, what: &str) -> Result<(), String> {
        if self.0 .0.is_empty() {
            Ok(())
        } else {
            Err(format!("the SSH signature has bytes after its {what}"))
        }
    }
}

/// Parses the blob inside the armor.
pub fn parse_blob(blob: &[u8]) -> Result<SshSig, String> {
    let mut r = Reader(SshReader(blob));
    if r.take(MAGIC.len(), "magic")? != MAGIC {
        return Err("the SSH signature does not start with SSHSIG".into());
    }
    let version = r.u32("version")?;
    if version != 1 {
        return Err(format!("the SSH signature is of version {version}, not 1"));
    }
    let public_key = r.string("public key")?.to_vec();
    let namespace = r.string("namespace")?.to_vec();
    if !r.string("reserved field")?.is_empty() {
        return Err("the SSH signature's reserved field is not empty".into());
    }
    let hash_algorithm = r.string("hash algorithm")?.to_vec();
    let signature = r.string("signature")?.to_vec();
    r.finish("signature")?;
    if public_key.is_empty() {
        return Err("the SSH signature holds no public key".into());
    }

    let mut s = Reader(SshReader(&signature));
    let signature_algorithm = s.string("signature's algorithm")?.to_vec();
    let bytes = s.string("signature's bytes")?;
    if bytes.is_empty() {
        return Err("the SSH signature's signature is empty".into());
    }
    let sk = if SK_ALGORITHMS
        .iter()
        .any(|a| a.as_bytes() == signature_algorithm.as_slice())
    {
        let flags = s.take(1, "security key's flags")?;
        let counter = s.u32("security key's counter")?;
        Some(SkTrailer {
            flags: flags.first().copied().unwrap_or(0),
            counter,
        })
    } else {
        None
    };
    s.finish("signature's bytes")?;
    Ok(SshSig {
        public_key,
        namespace,
        hash_algorithm,
        signature,
        signature_algorithm,
        sk,
    })
}

/// Writes a blob and its armor as ssh-keygen does (the layers sigtag signs,
/// tests and seeds).
pub fn armor(blob: &[u8]) -> Vec<u8> {
    let text = crate::encoding::base64(blob).into_bytes();
    let mut out = Vec::with_capacity(text.len() + 80);
    out.extend_from_slice(BEGIN);
    out.push(b'\n');
    for line in text.chunks(70) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(END);
    out.push(b'\n');
    out
}

/// Writes a blob from its parts, as [`parse_blob`] reads them: for tests
/// and seeds. `signature` is the inner signature in wire form.
pub fn blob(public_key: &[u8], namespace: &[u8], hash: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&1u32.to_be_bytes());
    put_ssh_string(&mut out, public_key);
    put_ssh_string(&mut out, namespace);
    put_ssh_string(&mut out, b"");
    put_ssh_string(&mut out, hash);
    put_ssh_string(&mut out, signature);
    out
}

/// An inner signature in wire form: algorithm, bytes, and for security
/// keys the flags and counter.
pub fn signature_blob(algorithm: &[u8], bytes: &[u8], sk: Option<SkTrailer>) -> Vec<u8> {
    let mut out = Vec::new();
    put_ssh_string(&mut out, algorithm);
    put_ssh_string(&mut out, bytes);
    if let Some(t) = sk {
        out.push(t.flags);
        out.extend_from_slice(&t.counter.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> Vec<u8> {
        signature_blob(b"ssh-ed25519", &[7; 64], None)
    }

    fn good() -> Vec<u8> {
        blob(b"KEY", b"git", b"sha512", &sig())
    }

    #[test]
    fn parses_what_it_writes() {
        let s = parse(&armor(&good())).unwrap();
        assert_eq!(s.public_key, b"KEY");
        assert_eq!(s.namespace, b"git");
        assert_eq!(s.hash_algorithm, b"sha512");
        assert_eq!(s.signature_algorithm, b"ssh-ed25519");
        assert_eq!(s.signature, sig());
        assert_eq!(s.sk, None);
    }

    #[test]
    fn reads_a_security_key_trailer() {
        let t = SkTrailer {
            flags: 5,
            counter: 9,
        };
        let inner = signature_blob(b"sk-ssh-ed25519@openssh.com", &[1; 64], Some(t));
        let s = parse_blob(&blob(b"KEY", b"git", b"sha512", &inner)).unwrap();
        assert_eq!(s.sk, Some(t));
        // Without its trailer the signature is truncated.
        let inner = signature_blob(b"sk-ssh-ed25519@openssh.com", &[1; 64], None);
        assert_eq!(
            parse_blob(&blob(b"KEY", b"git", b"sha512", &inner)).unwrap_err(),
            "the SSH signature is truncated in its security key's flags"
        );
        // Other keys carry none.
        let mut inner = sig();
        inner.extend_from_slice(&[1, 0, 0, 0, 9]);
        assert_eq!(
            parse_blob(&blob(b"KEY", b"git", b"sha512", &inner)).unwrap_err(),
            "the SSH signature has bytes after its signature's bytes"
        );
    }

    #[test]
    fn refuses_every_truncation_and_trailing_bytes() {
        let full = good();
        for n in 0..full.len() {
            assert!(parse_blob(&full[..n]).is_err(), "{n} bytes parsed");
        }
        let mut long = full.clone();
        long.push(0);
        assert_eq!(
            parse_blob(&long).unwrap_err(),
            "the SSH signature has bytes after its signature"
        );
        assert_eq!(
            parse_blob(&full[..full.len() - 1]).unwrap_err(),
            "the SSH signature is truncated in its signature"
        );
    }

    #[test]
    fn refuses_wrong_magic_version_and_reserved() {
        let mut b = good();
        b[0] = b'X';
        assert_eq!(
            parse_blob(&b).unwrap_err(),
            "the SSH signature does not start with SSHSIG"
        );
        let mut b = good();
        b[9] = 2;
        assert_eq!(
            parse_blob(&b).unwrap_err(),
            "the SSH signature is of version 2, not 1"
        );
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&1u32.to_be_bytes());
        for field in [&b"KEY"[..], b"git", b"x", b"sha512", &sig()] {
            put_ssh_string(&mut b, field);
        }
        assert_eq!(
            parse_blob(&b).unwrap_err(),
            "the SSH signature's reserved field is not empty"
        );
        assert_eq!(
            parse_blob(&blob(b"", b"git", b"sha512", &sig())).unwrap_err(),
            "the SSH signature holds no public key"
        );
    }

    #[test]
    fn a_huge_length_is_truncation_not_allocation() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&1u32.to_be_bytes());
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(
            parse_blob(&b).unwrap_err(),
            "the SSH signature is truncated in its public key"
        );
    }

    #[test]
    fn the_armor_is_strict() {
        let good = armor(&good());
        assert!(parse(&good).is_ok());
        let text = String::from_utf8(good.clone()).unwrap();
        let cases = [
            (
                text.replace('\n', "\r\n"),
                "does not start with its begin line",
            ),
            (text.trim_end().to_string(), "does not end with a newline"),
            (
                format!("{text}x\n"),
                "text after the SSH signature's end line",
            ),
            (
                text.replacen("-----\n", "-----\n\n", 1),
                "a line that is empty",
            ),
            (
                text.replace("-----END SSH SIGNATURE-----\n", ""),
                "has no end line",
            ),
            (
                text.replace("-----END SSH SIGNATURE-----\n", "x\n"),
                "has no end line",
            ),
            (format!("x{text}"), "does not start with its begin line"),
        ];
        for (case, why) in cases {
            let e = parse(case.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{case:?}: {e}");
        }
        let mut after = good.clone();
        after.extend_from_slice(b"trailing\n");
        assert!(parse(&after).is_err());
        let long = text.replacen("\n", "", 2).replacen(
            "-----BEGIN SSH SIGNATURE-----",
            "-----BEGIN SSH SIGNATURE-----\n",
            1,
        );
        assert!(parse(long.as_bytes()).unwrap_err().contains("longer than"));
    }

    #[test]
    fn refuses_an_oversized_block() {
        let big = blob(b"KEY", b"git", b"sha512", &vec![1; MAX_SSH_SIGNATURE_SIZE]);
        assert_eq!(
            parse(&armor(&big)).unwrap_err(),
            "the SSH signature is larger than 16 KiB"
        );
    }

    #[test]
    fn signed_data_is_as_protocol_sshsig_says() {
        let s = parse_blob(&good()).unwrap();
        let mut want = b"SSHSIG".to_vec();
        want.extend_from_slice(b"\0\0\0\x03git\0\0\0\0\0\0\0\x06sha512\0\0\0\x02ab");
        assert_eq!(s.signed_data(b"ab"), want);
    }
}
