//! Base64, hex and SSH's wire format (RFC 4251 §5: `uint32` and
//! length-prefixed `string`), by hand (the crate needs them in a few places
//! and for no more than this). A leaf: it imports nothing of the crate.

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes padded standard base64 (as in `known_hosts`); `None` when the
/// text is not that.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 || (text.len() % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body.as_bytes() {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes canonical base64 (standard alphabet, padded): `None` for any
/// other character, a length that is not a multiple of four, padding
/// anywhere but at the end, or bits set past the data.
pub fn base64_strict(text: &[u8]) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() % 4 != 0 {
        return None;
    }
    let pad = text.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let data = text.get(..text.len() - pad)?;
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in data {
        acc = (acc << 6) | u32::from(sextet(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // What is left must be zero bits, and the padding must be exactly
    // what the length needs.
    let needed = (4 - data.len() % 4) % 4;
    (acc == 0 && needed == pad).then_some(out)
}

/// Standard base64 without padding (as ssh prints fingerprints).
pub fn base64_unpadded(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            // Six bits index a 64-letter alphabet: `get` always finds one.
            if let Some(&c) = ALPHABET.get((n >> (18 - 6 * i) & 63) as usize) {
                out.push(c as char);
            }
        }
    }
    out
}

/// Standard base64 with padding (as DSSE envelopes carry their payload
/// and signatures).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = base64_unpadded(bytes);
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Is `s` made of lower-case hex digits only?
pub fn is_lower_hex(s: &[u8]) -> bool {
    s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads SSH wire values off the front of a byte string; what is left is
/// `.0`. Every read is checked: `None` when the bytes run out.
pub struct SshReader<'a>(pub &'a [u8]);

impl<'a> SshReader<'a> {
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    /// A big-endian `uint32`.
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// A `string`: a `uint32` length, then that many bytes.
    pub fn string(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Appends `bytes` as an SSH `string` (a `uint32` length, then the bytes).
pub fn put_ssh_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_strings_are_read_strictly() {
        let mut r = SshReader(&[0, 0, 0, 9, 1]);
        assert_eq!(r.string(), None);
        let mut r = SshReader(&[0, 0, 0, 1, 7, 0]);
        assert_eq!(r.string(), Some(&[7u8][..]));
        assert_eq!(r.u32(), None);
        let mut out = Vec::new();
        put_ssh_string(&mut out, &[7]);
        assert_eq!(out, [0, 0, 0, 1, 7]);
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(base64_strict(b"YWJj").unwrap(), b"abc");
        assert_eq!(base64_strict(b"YWI=").unwrap(), b"ab");
        assert_eq!(base64_strict(b"YQ==").unwrap(), b"a");
        for bad in [
            &b""[..],
            b"YWJ",
            b"YW=j",
            b"YWI",
            b"YR==",
            b"YWJ=",
            b"Y===",
            b"YWJj\n",
            b"YW j",
            b"YWI-",
        ] {
            assert_eq!(
                base64_strict(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            let text = base64_unpadded(data);
            let padded = format!("{text}{}", "=".repeat((4 - text.len() % 4) % 4));
            assert_eq!(base64_decode(&padded).as_deref(), Some(data), "{text}");
        }
        assert_eq!(base64_unpadded(b"foobar"), "Zm9vYmFy");
        // RFC 4648's test vectors, padded.
        for (data, text) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(data), text);
            assert_eq!(base64_decode(text).as_deref(), Some(data), "{text}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64(&all)), Some(all));
        assert_eq!(base64_decode("Zm8"), None);
        assert_eq!(base64_decode("Zm8!"), None);
        assert_eq!(hex(&[0, 0xab]), "00ab");
        assert!(is_lower_hex(b"0af9") && !is_lower_hex(b"0AF9"));
    }
}
