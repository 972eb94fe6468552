//! Pinned ssh host keys: `known_hosts` text as `ssh-keyscan` prints it,
//! and whether a server's key is among the pinned ones. Pure.

use crate::encoding::{base64_decode, base64_unpadded};

/// One `known_hosts` entry: host patterns and the raw public key blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHost {
    /// Host patterns (`host`, `[host]:port`, `*.example.org`, `!bad`);
    /// empty for a hashed entry, which then matches any host.
    pub patterns: Vec<String>,
    pub key_type: String,
    pub key: Vec<u8>,
    /// A `@revoked` line: this key is refused for the hosts it names.
    pub revoked: bool,
}

/// Parses `known_hosts` text (as `ssh-keyscan` prints it). Errors name the
/// line.
pub fn parse_known_hosts(text: &str) -> std::result::Result<Vec<KnownHost>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("line {}", i + 1);
        let mut fields = line.split_whitespace().peekable();
        let mut revoked = false;
        if let Some(marker) = fields.peek().filter(|f| f.starts_with('@')) {
            match *marker {
                "@revoked" => revoked = true,
                "@cert-authority" => {
                    return Err(format!(
                    "{}: @cert-authority lines are not supported; list the host keys themselves",
                    at()
                ))
                }
                other => return Err(format!("{}: unknown marker {other}", at())),
            }
            fields.next();
        }
        let (Some(hosts), Some(key_type), Some(blob)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "{}: expected \"HOSTS KEYTYPE BASE64-KEY\" as ssh-keyscan prints it",
                at()
            ));
        };
        let key =
            base64_decode(blob).ok_or_else(|| format!("{}: the key is not valid base64", at()))?;
        // The blob starts with its own type name; a mismatch is a paste error.
        let named = key
            .split_first_chunk::<4>()
            .and_then(|(len, rest)| rest.get(..u32::from_be_bytes(*len) as usize));
        if named != Some(key_type.as_bytes()) {
            return Err(format!(
                "{}: the key does not match its type {key_type}",
                at()
            ));
        }
        let patterns = if hosts.starts_with('|') {
            Vec::new()
        } else {
            hosts.split(',').map(str::to_string).collect()
        };
        out.push(KnownHost {
            patterns,
            key_type: key_type.to_string(),
            key,
            revoked,
        });
    }
    if out.is_empty() {
        return Err("it holds no host key".into());
    }
    Ok(out)
}

impl KnownHost {
    fn names(&self, host: &str) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let hit = |p: &str| {
            let p = p
                .strip_prefix('[')
                .and_then(|p| p.split_once("]:").map(|(h, _)| h))
                .unwrap_or(p);
            crate::glob::matches(&p.to_ascii_lowercase(), &host.to_ascii_lowercase())
        };
        let negated = self
            .patterns
            .iter()
            .filter_map(|p| p.strip_prefix('!'))
            .any(hit);
        !negated
            && self
                .patterns
                .iter()
                .filter(|p| !p.starts_with('!'))
                .any(|p| hit(p))
    }
}

/// Is `key` an accepted host key of `host` under `pins`?
pub fn host_key_pinned(pins: &[KnownHost], host: &str, key: &[u8]) -> bool {
    let named = |k: &&KnownHost| k.key == key && k.names(host);
    !pins.iter().filter(|k| k.revoked).any(|k| named(&k))
        && pins.iter().filter(|k| !k.revoked).any(|k| named(&k))
}

/// The SHA-256 fingerprint of an ssh host key the way ssh prints it
/// (`SHA256:` and unpadded base64).
pub fn ssh_fingerprint(hash: &[u8]) -> String {
    format!("SHA256:{}", base64_unpadded(hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFTog45rBMatLGvrYZWakm1LGqxzVEy8LA79zLvs0Q55";

    #[test]
    fn known_hosts() {
        let text = format!(
            "# pinned\n[127.0.0.1]:2222 ssh-ed25519 {KEY}\n\ngit.example.org,*.example.net ssh-ed25519 {KEY} comment\n"
        );
        let pins = parse_known_hosts(&text).unwrap();
        assert_eq!(pins.len(), 2);
        let key = base64_decode(KEY).unwrap();
        assert_eq!(&key[4..15], b"ssh-ed25519");
        assert!(host_key_pinned(&pins, "127.0.0.1", &key));
        assert!(host_key_pinned(&pins, "git.example.org", &key));
        assert!(host_key_pinned(&pins, "a.example.net", &key));
        assert!(!host_key_pinned(&pins, "example.com", &key));
        assert!(!host_key_pinned(&pins, "127.0.0.1", &key[1..]));

        let revoked = format!("{text}@revoked * ssh-ed25519 {KEY}\n");
        let pins = parse_known_hosts(&revoked).unwrap();
        assert!(!host_key_pinned(&pins, "127.0.0.1", &key));

        let hashed = format!("|1|c2FsdA==|aGFzaA== ssh-ed25519 {KEY}\n");
        let pins = parse_known_hosts(&hashed).unwrap();
        assert!(host_key_pinned(&pins, "anything", &key));

        assert!(parse_known_hosts("").is_err());
        assert!(parse_known_hosts("host ssh-ed25519").is_err());
        assert!(parse_known_hosts("host ssh-ed25519 !!!!").is_err());
        assert!(parse_known_hosts(&format!("host ssh-rsa {KEY}")).is_err());
        assert!(parse_known_hosts(&format!("@cert-authority * ssh-ed25519 {KEY}")).is_err());
    }

    #[test]
    fn fingerprints_as_ssh_prints_them() {
        let hash: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"99d9bf9f07fa496ca2d9cac02a0072602588c7a068f697abbdb33631d21931dd"
                        [2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        assert_eq!(
            ssh_fingerprint(&hash),
            "SHA256:mdm/nwf6SWyi2crAKgByYCWIx6Bo9pervbM2MdIZMd0"
        );
    }
}
