//! SSH signer keys: reading `NAME.pub` files (and `revoked.pub`), and
//! finding which signer holds a key by its SHA256 fingerprint.
//!
//! A file holds OpenSSH public keys one a line, as `ssh-keygen` writes
//! them (`TYPE BASE64 [COMMENT]`); `#` comments and blank lines are
//! allowed. A line may start with options as in git's allowed_signers:
//! `valid-after="YYYYMMDD[HHMM[SS]][Z]"`, `valid-before="..."` (read as
//! UTC, with or without the `Z`, so a verdict never depends on the
//! machine's time zone) and `namespaces="..."` (accepted only if it lists
//! `git`). Any other option is refused.
//!
//! Invariants of an [`SshKey`]: its type is one sigtag verifies
//! (ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of at least
//! [`MIN_SSH_RSA_BITS`] bits, sk-ssh-ed25519@openssh.com,
//! sk-ecdsa-sha2-nistp256@openssh.com); it is public material only; its
//! window (valid-after at most valid-before) is not empty. A signer's
//! file yields at least one key, at most [`MAX_SSH_KEYS_PER_SIGNER`], no
//! key twice. In an [`Index`] one key (the same public key blob) belongs
//! to one signer.

use super::Keys;
use crate::error::{Error, Result};
use crate::limits::{MAX_REVOKED_SSH_KEYS, MAX_SSH_KEYS_PER_SIGNER, MIN_SSH_RSA_BITS};
use ssh_key::public::KeyData;
use ssh_key::sha2::{Digest, Sha256};
use ssh_key::{Algorithm, EcdsaCurve, PublicKey};
use std::collections::HashMap;

/// One SSH public key of a signer (or of `revoked.pub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKey {
    key: KeyData,
    blob: Vec<u8>,
    fingerprint: String,
    /// `valid-after`: seconds since the epoch.
    pub valid_after: Option<i64>,
    /// `valid-before`: seconds since the epoch.
    pub valid_before: Option<i64>,
    /// `keys/alice.pub line 2`.
    origin: String,
}

/// The SHA256 fingerprint of a public key in wire form, as ssh-keygen
/// prints it: `SHA256:` and unpadded base64.
pub fn fingerprint_of_blob(blob: &[u8]) -> String {
    format!(
        "SHA256:{}",
        crate::encoding::base64_unpadded(&Sha256::digest(blob))
    )
}

impl SshKey {
    /// The key, as ssh-key reads it.
    pub fn key_data(&self) -> &KeyData {
        &self.key
    }

    /// The key in wire form.
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// `SHA256:...`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The file and line the key is on.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The key's type: `ssh-ed25519`, `ecdsa-sha2-nistp256`, ...
    pub fn type_name(&self) -> String {
        self.key.algorithm().as_str().to_string()
    }

    /// Is the key inside its window at `t` (seconds since the epoch)? Both
    /// ends count, as in OpenSSH.
    pub fn valid_at(&self, t: i64) -> bool {
        self.valid_after.is_none_or(|a| t >= a) && self.valid_before.is_none_or(|b| t <= b)
    }

    /// The window in words: `from 2024-01-01T00:00:00Z until
    /// 2025-01-01T00:00:00Z`, `from ...`, `until ...`; empty when the key
    /// has none.
    pub fn window_words(&self) -> String {
        let at = |t: i64| crate::date::rfc3339(epoch(t));
        match (self.valid_after, self.valid_before) {
            (Some(a), Some(b)) => format!("from {} until {}", at(a), at(b)),
            (Some(a), None) => format!("from {}", at(a)),
            (None, Some(b)) => format!("until {}", at(b)),
            (None, None) => String::new(),
        }
    }

    /// The key as one canonical line: its options in a fixed order and
    /// form, its type and base64, no comment.
    pub fn canonical_line(&self) -> String {
        let mut options = Vec::new();
        if let Some(a) = self.valid_after {
            options.push(format!("valid-after=\"{}\"", timestamp(a)));
        }
        if let Some(b) = self.valid_before {
            options.push(format!("valid-before=\"{}\"", timestamp(b)));
        }
        let key = format!(
            "{} {}",
            self.type_name(),
            crate::encoding::base64(&self.blob)
        );
        if options.is_empty() {
            key
        } else {
            format!("{} {key}", options.join(","))
        }
    }
}

fn epoch(t: i64) -> std::time::SystemTime {
    std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

/// `YYYYMMDDHHMMSSZ`.
fn timestamp(t: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from(epoch(t))
        .format("%Y%m%d%H%M%SZ")
        .to_string()
}

/// Reads `YYYYMMDD[HHMM[SS]][Z]` as UTC.
fn parse_time(text: &str) -> Option<i64> {
    let digits = text.strip_suffix('Z').unwrap_or(text);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> { digits.get(from..to)?.parse().ok() };
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)?).ok()?, num(4, 6)?, num(6, 8)?)?;
    let (h, m, s) = match digits.len() {
        8 => (0, 0, 0),
        12 => (num(8, 10)?, num(10, 12)?, 0),
        _ => (num(8, 10)?, num(10, 12)?, num(12, 14)?),
    };
    let time = date.and_hms_opt(h, m, s)?;
    let t = time.and_utc().timestamp();
    (t >= 0).then_some(t)
}

/// The key types a line may start with (an SSH key line, not options).
const KEY_TYPES: [&str; 7] = [
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

/// Does this line look like an OpenSSH public key line (with or without
/// options)? Used to tell SSH keys from other text in a resource's
/// `source.signers` value.
pub fn is_key_line(line: &str) -> bool {
    let mut words = line.split_ascii_whitespace();
    let key_type = |w: &str| {
        KEY_TYPES.contains(&w)
            || w.starts_with("ssh-")
            || w.starts_with("ecdsa-")
            || w.starts_with("sk-")
    };
    let first = words.next().unwrap_or("");
    // A key type first, or options (known or not) and then a key type.
    key_type(first)
        || ["valid-after=", "valid-before=", "namespaces="]
            .iter()
            .any(|o| first.starts_with(o))
        || words.next().is_some_and(key_type)
}

/// Splits a line into its options (if any) and the rest, honouring quotes.
fn split_options(line: &str) -> std::result::Result<(Option<&str>, &str), String> {
    let first = line.split_ascii_whitespace().next().unwrap_or("");
    if KEY_TYPES.contains(&first) || first.starts_with("ssh-") {
        return Ok((None, line));
    }
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => {
                let (options, rest) = line.split_at_checked(i).ok_or("bad options")?;
                return Ok((Some(options), rest.trim_start()));
            }
            _ => {}
        }
    }
    Err("it holds no key after its options".into())
}

/// One option `name="value"` or `name`: name and value.
fn options_list(text: &str) -> std::result::Result<Vec<(&str, Option<&str>)>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end_name = rest.find(['=', ',']).unwrap_or(rest.len());
        let (name, after) = rest.split_at_checked(end_name).ok_or("bad option")?;
        if let Some(value) = after.strip_prefix("=\"") {
            let close = value
                .find('"')
                .ok_or_else(|| format!("option {name} has no closing quote"))?;
            let (v, tail) = value.split_at_checked(close).ok_or("bad option")?;
            out.push((name, Some(v)));
            let tail = tail.get(1..).unwrap_or("");
            rest = match tail.strip_prefix(',') {
                Some(t) if !t.is_empty() => t,
                None if tail.is_empty() => tail,
                _ => return Err(format!("option {name} is not followed by a comma")),
            };
        } else if after.starts_with('=') {
            return Err(format!(
                "option {name}'s value is not in double quotes, as in {name}=\"20250101\""
            ));
        } else {
            out.push((name, None));
            rest = match after.strip_prefix(',') {
                Some(t) if !t.is_empty() => t,
                None => after,
                _ => return Err("an option list ends with a comma".into()),
            };
        }
    }
    Ok(out)
}

/// Reads one key line; `at` names it (`keys/alice.pub line 2`).
fn parse_line(at: &str, line: &str) -> Result<SshKey> {
    let fail = |why: String| Error::config(format!("{at}: {why}"));
    if line.contains("PRIVATE KEY") {
        return Err(fail(
            "holds a private key; put only public keys (the .pub file ssh-keygen writes) in a keys directory".into(),
        ));
    }
    let (options, key_text) = split_options(line).map_err(fail)?;
    let mut valid_after = None;
    let mut valid_before = None;
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in options
        .map(options_list)
        .transpose()
        .map_err(fail)?
        .unwrap_or_default()
    {
        if seen.contains(&name) {
            return Err(fail(format!("option {name} is given twice")));
        }
        seen.push(name);
        let time = |v: Option<&str>| {
            v.and_then(parse_time).ok_or_else(|| {
                fail(format!(
                    "{name}=\"{}\" is not a time; write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally ending in Z (all times are UTC)",
                    crate::names::shown(v.unwrap_or(""))
                ))
            })
        };
        match name {
            "valid-after" => valid_after = Some(time(value)?),
            "valid-before" => valid_before = Some(time(value)?),
            "namespaces" => {
                let list = value.unwrap_or("");
                if !list.split(',').any(|n| n == "git") {
                    return Err(fail(format!(
                        "namespaces=\"{}\" does not include git, so the key could sign no tag; add git or remove the option",
                        crate::names::shown(list)
                    )));
                }
            }
            other => {
                return Err(fail(format!(
                    "unknown option \"{}\"; a signer's key line takes only valid-after=, valid-before= and namespaces=",
                    crate::names::shown(other)
                )))
            }
        }
    }
    if let (Some(a), Some(b)) = (valid_after, valid_before) {
        if a > b {
            return Err(fail(
                "valid-after is later than valid-before, so the key is never valid".into(),
            ));
        }
    }
    let mut words = key_text.split_ascii_whitespace();
    let (Some(typ), Some(b64)) = (words.next(), words.next()) else {
        return Err(fail(
            "not an OpenSSH public key; copy the line of the .pub file ssh-keygen wrote".into(),
        ));
    };
    if !KEY_TYPES.contains(&typ) {
        return Err(fail(format!(
            "key type \"{}\" is not accepted; use ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (rsa-sha2 signatures), or a FIDO key (sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com)",
            crate::names::shown(typ)
        )));
    }
    let blob = crate::encoding::base64_strict(b64.as_bytes())
        .ok_or_else(|| fail("the key's base64 is not canonical".into()))?;
    let key = PublicKey::from_bytes(&blob)
        .map_err(|e| fail(format!("not an OpenSSH public key ({e})")))?;
    let key = key.key_data().clone();
    if key.algorithm().as_str() != typ {
        return Err(fail(format!(
            "the line says {} but the key is {}",
            crate::names::shown(typ),
            key.algorithm().as_str()
        )));
    }
    check_algorithm(&key).map_err(fail)?;
    Ok(SshKey {
        fingerprint: fingerprint_of_blob(&blob),
        key,
        blob,
        valid_after,
        valid_before,
        origin: at.to_string(),
    })
}

fn check_algorithm(key: &KeyData) -> std::result::Result<(), String> {
    match key.algorithm() {
        Algorithm::Ed25519 | Algorithm::SkEd25519 | Algorithm::SkEcdsaSha2NistP256 => Ok(()),
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256 | EcdsaCurve::NistP384 | EcdsaCurve::NistP521,
        } => Ok(()),
        Algorithm::Rsa { .. } => {
            let bits = key
                .rsa()
                .and_then(|k| k.n.as_positive_bytes())
                .map_or(0, |n| n.len() * 8);
            if bits < MIN_SSH_RSA_BITS {
                Err(format!(
                    "the RSA key has fewer than {MIN_SSH_RSA_BITS} bits; make a new one with ssh-keygen -t ed25519"
                ))
            } else {
                Ok(())
            }
        }
        other => Err(format!("key type {} is not accepted", other.as_str())),
    }
}

/// The keys of one file; `origin` names it. `at_most` bounds how many.
pub fn parse_file(origin: &str, bytes: &[u8], at_most: usize) -> Result<Vec<SshKey>> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::config(format!(
            "{origin}: not text; an SSH key file holds OpenSSH public key lines"
        ))
    })?;
    let mut keys: Vec<SshKey> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{origin} line {}", n + 1);
        let key = parse_line(&at, line)?;
        if let Some(other) = keys.iter().find(|k| k.blob == key.blob) {
            return Err(Error::config(format!(
                "{at}: the key {} is listed already ({}); keep one line per key",
                key.fingerprint, other.origin
            )));
        }
        if keys.len() == at_most {
            return Err(Error::config(format!(
                "{origin}: more than {at_most} SSH keys in one file"
            )));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// The keys of a signer's `.pub` file: at least one.
pub(super) fn parse_signer_file(origin: &str, bytes: &[u8]) -> Result<Vec<SshKey>> {
    let keys = parse_file(origin, bytes, MAX_SSH_KEYS_PER_SIGNER)?;
    if keys.is_empty() {
        return Err(Error::config(format!(
            "{origin}: holds no SSH public key; add the line of the signer's .pub file ssh-keygen wrote"
        )));
    }
    Ok(keys)
}

/// The keys of `revoked.pub` (none is fine).
pub fn parse_revoked(origin: &str, bytes: &[u8]) -> Result<Vec<SshKey>> {
    parse_file(origin, bytes, MAX_REVOKED_SSH_KEYS)
}

/// Which signer holds an SSH key, by its SHA256 fingerprint, and which
/// keys are revoked.
#[derive(Debug, Clone, Default)]
pub struct Index {
    by_fingerprint: HashMap<String, (usize, usize)>,
    revoked: HashMap<String, String>,
}

impl Index {
    /// Indexes every signer's SSH keys, refusing a key that two signers
    /// hold.
    pub(super) fn build(signers: &[(&str, &Keys)], revoked: &[SshKey]) -> Result<Index> {
        let mut by_fingerprint: HashMap<String, (usize, usize)> = HashMap::new();
        for (si, (name, keys)) in signers.iter().enumerate() {
            for (ki, key) in keys.ssh().iter().enumerate() {
                if let Some(&(other, oki)) = by_fingerprint.get(key.fingerprint()) {
                    let (other_name, other_keys) = signers
                        .get(other)
                        .map_or(("another signer", None), |(n, k)| (*n, Some(*k)));
                    let other_at = other_keys
                        .and_then(|k| k.ssh().get(oki))
                        .map_or(other_name, SshKey::origin);
                    return Err(Error::config(format!(
                        "{} and {} hold the same SSH key ({}), for {} and {}; one key must belong to one signer",
                        other_at,
                        key.origin(),
                        key.fingerprint(),
                        other_name,
                        name
                    )));
                }
                by_fingerprint.insert(key.fingerprint().to_string(), (si, ki));
            }
        }
        let revoked = revoked
            .iter()
            .map(|k| (k.fingerprint().to_string(), k.origin().to_string()))
            .collect();
        Ok(Index {
            by_fingerprint,
            revoked,
        })
    }

    /// The signer and key index of the key with this fingerprint.
    pub fn find(&self, fingerprint: &str) -> Option<(usize, usize)> {
        self.by_fingerprint.get(fingerprint).copied()
    }

    /// Where the key with this fingerprint is revoked, if it is.
    pub fn revoked(&self, fingerprint: &str) -> Option<&str> {
        self.revoked.get(fingerprint).map(String::as_str)
    }
}

/// The keys as canonical bytes: one canonical line each, in fingerprint
/// order.
pub fn canonical(keys: &[SshKey]) -> Vec<u8> {
    let mut lines: Vec<String> = keys.iter().map(SshKey::canonical_line).collect();
    lines.sort();
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l.as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // ssh-keygen -t ed25519, public half.
    const ED: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg65MzxOI8+botuUmMT5NWzFPcLjCeXAh0HukYbAsKV alice@example.org";

    #[test]
    fn reads_keys_comments_and_options() {
        let text = format!(
            "# alice\n\n{ED}\nvalid-after=\"20240101\",valid-before=\"202501020304Z\",namespaces=\"file,git\" {ED2}\n",
            ED2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINf7wLxdMlcSb3XTwHiflCNzNymMx2/9zU4VXBI/hLEg"
        );
        let keys = parse_signer_file("a.pub", text.as_bytes()).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].type_name(), "ssh-ed25519");
        assert!(keys[0].fingerprint().starts_with("SHA256:"));
        assert_eq!(keys[0].origin(), "a.pub line 3");
        assert_eq!(keys[1].valid_after, Some(1_704_067_200));
        assert_eq!(keys[1].valid_before, Some(1_735_787_040));
        assert!(keys[1].valid_at(1_704_067_200));
        assert!(!keys[1].valid_at(1_704_067_199));
        assert!(keys[1].valid_at(1_735_787_040));
        assert!(!keys[1].valid_at(1_735_787_041));
        assert_eq!(
            keys[1].window_words(),
            "from 2024-01-01T00:00:00Z until 2025-01-02T03:04:00Z"
        );
        assert!(keys[1].canonical_line().starts_with(
            "valid-after=\"20240101000000Z\",valid-before=\"20250102030400Z\" ssh-ed25519 AAAA"
        ));
    }

    #[test]
    fn refuses_mistakes_with_a_sentence() {
        let cases = [
            (
                format!("cert-authority {ED}"),
                "unknown option \"cert-authority\"",
            ),
            (format!("namespaces=\"file\" {ED}"), "does not include git"),
            (format!("valid-after=\"2024\" {ED}"), "is not a time"),
            (format!("valid-after=20240101 {ED}"), "not in double quotes"),
            (
                format!("valid-after=\"20250101\",valid-before=\"20240101\" {ED}"),
                "never valid",
            ),
            (
                format!("valid-after=\"20240101\",valid-after=\"20240101\" {ED}"),
                "given twice",
            ),
            (
                "ssh-dss AAAAB3NzaC1kc3MAAACBAP".to_string(),
                "key type \"ssh-dss\" is not accepted",
            ),
            ("ssh-ed25519 AAAA=AAA".to_string(), "not canonical"),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----".to_string(),
                "holds a private key",
            ),
            (format!("{ED}\n{ED}"), "is listed already (a.pub line 1)"),
            ("# nothing\n".to_string(), "holds no SSH public key"),
        ];
        for (text, why) in cases {
            let e = parse_signer_file("a.pub", text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("a.pub"), "{e}");
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn times_are_utc_and_strict() {
        assert_eq!(parse_time("19700101"), Some(0));
        assert_eq!(parse_time("19700101Z"), Some(0));
        assert_eq!(parse_time("197001010001"), Some(60));
        assert_eq!(parse_time("19700101000001Z"), Some(1));
        for bad in [
            "1970010",
            "19701301",
            "19700132",
            "197001012460",
            "x9700101",
            "19700101z",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn tells_key_lines_from_other_text() {
        assert!(is_key_line(ED));
        assert!(is_key_line("valid-after=\"20240101\" ssh-ed25519 AAAA"));
        assert!(!is_key_line("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
        assert!(!is_key_line("mQINBGB..."));
        assert!(is_key_line(&format!("cert-authority {ED}")));
        assert!(!is_key_line("Comment: alice's key"));
    }
}
