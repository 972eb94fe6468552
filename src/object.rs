//! Strict parsing of one git tag object (one layer of a promotion tag).
//!
//! Invariants of a [`TagObject`] that parsed successfully:
//! - the headers are exactly `object`, `type`, `tag`, `tagger`, in that
//!   order, each once, followed by a blank line;
//! - the object is at most [`MAX_OBJECT_SIZE`] bytes and holds no NUL byte;
//! - the body holds at most one armored block, and if it holds one, that
//!   block is the last thing in the object: nothing follows its end line;
//!   an OpenPGP or SSH block ends with its own end line (an SSH block
//!   beside a PGP block is two blocks, and refused as such);
//! - `payload()` is exactly the bytes git hands to gpg when it verifies.
//!
//! This module knows nothing about repositories or keys; it is pure and
//! safe to feed arbitrary bytes.

use std::fmt;

/// A layer larger than this is refused rather than read.
pub use crate::limits::MAX_OBJECT_SIZE;

const BEGIN_PGP: &[u8] = b"-----BEGIN PGP SIGNATURE-----";
const END_PGP: &[u8] = b"-----END PGP SIGNATURE-----";
const BEGIN_SSH: &[u8] = b"-----BEGIN SSH SIGNATURE-----";
const END_SSH: &[u8] = b"-----END SSH SIGNATURE-----";

/// The kinds of git object a tag may point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    Tag,
    Tree,
    Blob,
}

impl Kind {
    pub fn parse(s: &[u8]) -> Option<Kind> {
        match s {
            b"commit" => Some(Kind::Commit),
            b"tag" => Some(Kind::Tag),
            b"tree" => Some(Kind::Tree),
            b"blob" => Some(Kind::Blob),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tag => "tag",
            Kind::Tree => "tree",
            Kind::Blob => "blob",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `tagger` header: identity and time as git writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagger {
    /// `Name <email>`
    pub ident: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// `+hhmm` or `-hhmm`.
    pub tz: String,
}

/// The signature block of a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureBlock {
    /// No armored block at all.
    None,
    /// An OpenPGP signature block (armored bytes, begin to end line).
    OpenPgp(Vec<u8>),
    /// An SSH signature block, as git writes it with `gpg.format=ssh`
    /// (armored bytes, begin to end line; read by `verify::ssh`).
    Ssh(Vec<u8>),
    /// Another kind of armored block (an X.509 signature).
    Foreign(String),
}

/// One parsed tag object.
#[derive(Debug, Clone)]
pub struct TagObject {
    pub target: String,
    pub target_kind: Kind,
    pub name: String,
    pub tagger: Tagger,
    pub message: String,
    pub signature: SignatureBlock,
    raw: Vec<u8>,
    payload_len: usize,
}

impl TagObject {
    /// The signed bytes: everything before the signature block.
    pub fn payload(&self) -> &[u8] {
        self.raw.get(..self.payload_len).unwrap_or(&self.raw)
    }

    /// The whole object as stored.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }
}

/// Why an object is not a well-formed layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The object is not as git writes it; the string says how.
    Malformed(String),
    /// Bytes follow the end of the signature block.
    TrailingData,
    /// The body holds more than one armored block.
    MultipleArmor,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Malformed(why) => write!(f, "malformed tag object: {why}"),
            ParseError::TrailingData => f.write_str("text after the signature block"),
            ParseError::MultipleArmor => f.write_str("more than one armored block in one layer"),
        }
    }
}

/// The error for an object over [`MAX_OBJECT_SIZE`], also given without
/// reading it when its header says so.
pub fn too_large() -> ParseError {
    malformed(format!(
        "larger than {}",
        crate::limits::size_words(MAX_OBJECT_SIZE as u64)
    ))
}

fn malformed(why: impl Into<String>) -> ParseError {
    ParseError::Malformed(why.into())
}

const HEADERS: [&str; 4] = ["object", "type", "tag", "tagger"];

/// Parses a tag object strictly.
pub fn parse(raw: &[u8]) -> Result<TagObject, ParseError> {
    if raw.len() > MAX_OBJECT_SIZE {
        return Err(too_large());
    }
    if raw.contains(&0) {
        return Err(malformed("it holds a NUL byte"));
    }

    let mut values: [Option<&[u8]>; 4] = [None; 4];
    let mut next = 0usize; // index in HEADERS of the next expected header
    let mut pos = 0usize;
    let mut rest = raw;
    loop {
        let Some((line, after)) = split_line(rest) else {
            return Err(malformed("no blank line after the headers"));
        };
        pos += line.len() + 1;
        rest = after;
        if line.is_empty() {
            break;
        }
        let (key, value) = match find(line, b' ').and_then(|sp| line.split_at_checked(sp)) {
            Some((key, value)) => (key, value.get(1..).unwrap_or_default()),
            None => (line, &b""[..]),
        };
        let key_str = String::from_utf8_lossy(key);
        let Some((idx, (slot, _))) = values
            .iter_mut()
            .zip(HEADERS)
            .enumerate()
            .find(|(_, (_, h))| h.as_bytes() == key)
        else {
            return Err(malformed(format!(
                "unexpected header \"{}\"",
                printable(&key_str)
            )));
        };
        if slot.is_some() {
            return Err(malformed(format!("duplicate \"{key_str}\" header")));
        }
        if idx < next {
            return Err(malformed(format!("header \"{key_str}\" out of order")));
        }
        if idx > next {
            return Err(malformed(format!("header \"{key_str}\" out of order")));
        }
        *slot = Some(value);
        next = idx + 1;
    }
    for (header, v) in HEADERS.iter().zip(values.iter()) {
        if v.is_none() {
            return Err(malformed(format!("missing \"{header}\" header")));
        }
    }
    let [Some(object), Some(typ), Some(name), Some(tagger)] = values else {
        return Err(malformed("missing header"));
    };

    let target = parse_oid(object)
        .ok_or_else(|| malformed("the \"object\" header is not a 40-digit object id"))?;
    let target_kind = Kind::parse(typ).ok_or_else(|| {
        malformed(format!(
            "unknown object type \"{}\"",
            printable(&String::from_utf8_lossy(typ))
        ))
    })?;
    let name = std::str::from_utf8(name)
        .ok()
        .filter(|n| !n.is_empty() && !n.chars().any(char::is_control))
        .ok_or_else(|| malformed("the \"tag\" header is not a valid name"))?
        .to_string();
    let tagger = parse_tagger(tagger)
        .ok_or_else(|| malformed("the \"tagger\" header is not \"Name <email> time zone\""))?;

    let body_start = pos;
    let (payload_len, signature) = split_signature(raw, body_start)?;
    let message =
        String::from_utf8_lossy(raw.get(body_start..payload_len).unwrap_or_default()).into_owned();

    Ok(TagObject {
        target,
        target_kind,
        name,
        tagger,
        message,
        signature,
        raw: raw.to_vec(),
        payload_len,
    })
}

/// Reads just enough of a possibly malformed object to follow it down the
/// chain: the first `object` and `type` headers.
pub fn peek_target(raw: &[u8]) -> Option<(String, Kind)> {
    let mut object = None;
    let mut kind = None;
    for line in raw.split(|&b| b == b'\n').take(8) {
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix(b"object ") {
            object = object.or_else(|| parse_oid(v));
        } else if let Some(v) = line.strip_prefix(b"type ") {
            kind = kind.or_else(|| Kind::parse(v));
        }
    }
    Some((object?, kind?))
}

/// Splits the body into the signed payload and the signature block.
fn split_signature(raw: &[u8], body_start: usize) -> Result<(usize, SignatureBlock), ParseError> {
    let mut begin: Option<(usize, &[u8])> = None;
    let mut end: Option<usize> = None; // offset just past the end line's newline
    let mut pos = body_start;
    while let Some(rest) = raw.get(pos..).filter(|r| !r.is_empty()) {
        let nl = find(rest, b'\n');
        let line = nl.and_then(|n| rest.get(..n)).unwrap_or(rest);
        let next = nl.map_or(raw.len(), |n| pos + n + 1);
        if line.starts_with(b"-----BEGIN ") {
            if begin.is_some() {
                return Err(ParseError::MultipleArmor);
            }
            begin = Some((pos, line));
        } else if line.starts_with(b"-----END ") {
            match begin {
                Some((_, begin_line)) if end.is_none() => {
                    let pgp = begin_line == BEGIN_PGP && line != END_PGP;
                    let ssh = begin_line == BEGIN_SSH && line != END_SSH;
                    if pgp || ssh {
                        return Err(malformed(
                            "the signature block's end line does not match its begin line",
                        ));
                    }
                    if nl.is_none() {
                        return Err(malformed("the signature block does not end with a newline"));
                    }
                    end = Some(next);
                }
                Some(_) => return Err(ParseError::MultipleArmor),
                None => return Err(malformed("an armor end line with no begin line")),
            }
        } else if end.is_some() {
            return Err(ParseError::TrailingData);
        }
        pos = next;
    }
    match (begin, end) {
        (None, _) => Ok((raw.len(), SignatureBlock::None)),
        (Some(_), None) => Err(malformed("signature block has no end line")),
        (Some((start, line)), Some(stop)) => {
            if stop != raw.len() {
                return Err(ParseError::TrailingData);
            }
            let armor = || {
                raw.get(start..stop)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| malformed("signature block has no end line"))
            };
            let block = if line == BEGIN_PGP {
                SignatureBlock::OpenPgp(armor()?)
            } else if line == BEGIN_SSH {
                SignatureBlock::Ssh(armor()?)
            } else {
                let label = String::from_utf8_lossy(line)
                    .trim_start_matches("-----BEGIN ")
                    .trim_end_matches('-')
                    .to_string();
                SignatureBlock::Foreign(printable(&label))
            };
            Ok((start, block))
        }
    }
}

fn parse_oid(v: &[u8]) -> Option<String> {
    crate::names::is_sha1_id(v).then(|| String::from_utf8_lossy(v).into_owned())
}

fn parse_tagger(v: &[u8]) -> Option<Tagger> {
    let v = std::str::from_utf8(v).ok()?;
    let close = v.rfind('>')?;
    let (ident, after) = v.split_at_checked(close + 1)?;
    let (name, _) = ident.split_once('<')?;
    if name.is_empty() || !name.ends_with(' ') || ident.chars().any(char::is_control) {
        return None;
    }
    let rest = after.strip_prefix(' ')?;
    let (time, tz) = rest.split_once(' ')?;
    if time.is_empty() || time.len() > 19 || !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let tz_ok = match tz.as_bytes() {
        [sign, digits @ ..] => {
            tz.len() == 5 && matches!(sign, b'+' | b'-') && digits.iter().all(u8::is_ascii_digit)
        }
        [] => false,
    };
    if !tz_ok {
        return None;
    }
    Some(Tagger {
        ident: ident.to_string(),
        time: time.parse().ok()?,
        tz: tz.to_string(),
    })
}

fn find(hay: &[u8], b: u8) -> Option<usize> {
    hay.iter().position(|&x| x == b)
}

/// Splits off the first line: the bytes before the first newline and the
/// bytes after it; `None` when there is no newline.
fn split_line(hay: &[u8]) -> Option<(&[u8], &[u8])> {
    let (line, rest) = hay.split_at_checked(find(hay, b'\n')?)?;
    Some((line, rest.get(1..)?))
}

/// Keeps untrusted text short and free of control characters in messages.
pub use crate::names::printable;

/// Writes the bytes of an unsigned layer exactly as `git tag` does; the
/// signature block is appended by the signer.
pub fn unsigned_payload(
    target: &str,
    kind: Kind,
    name: &str,
    tagger: &Tagger,
    message: &str,
) -> Vec<u8> {
    let mut out = format!(
        "object {target}\ntype {kind}\ntag {name}\ntagger {} {} {}\n\n",
        tagger.ident, tagger.time, tagger.tz
    );
    out.push_str(message);
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "0123456789abcdef0123456789abcdef01234567";
    const SIG: &str = "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";

    fn obj(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}\n{body}").into_bytes()
    }

    fn good_headers() -> String {
        format!(
            "object {OID}\ntype commit\ntag v1\ntagger A U Thor <a@example.org> 1700000000 +0100\n"
        )
    }

    #[test]
    fn parses_a_signed_layer() {
        let raw = obj(&good_headers(), &format!("release\n{SIG}"));
        let t = parse(&raw).unwrap();
        assert_eq!(t.target, OID);
        assert_eq!(t.target_kind, Kind::Commit);
        assert_eq!(t.name, "v1");
        assert_eq!(t.tagger.ident, "A U Thor <a@example.org>");
        assert_eq!(t.tagger.time, 1_700_000_000);
        assert_eq!(t.message, "release\n");
        assert!(t.payload().ends_with(b"\n\nrelease\n"));
        assert_eq!(
            t.signature,
            SignatureBlock::OpenPgp(SIG.as_bytes().to_vec())
        );
    }

    #[test]
    fn unsigned_layer_has_whole_object_as_payload() {
        let raw = obj(&good_headers(), "just a message\n");
        let t = parse(&raw).unwrap();
        assert_eq!(t.signature, SignatureBlock::None);
        assert_eq!(t.payload(), &raw[..]);
    }

    #[test]
    fn refuses_text_after_the_signature() {
        let raw = obj(&good_headers(), &format!("release\n{SIG}unsigned text\n"));
        assert_eq!(parse(&raw).unwrap_err(), ParseError::TrailingData);
        let raw = obj(&good_headers(), &format!("release\n{SIG}\n"));
        assert_eq!(parse(&raw).unwrap_err(), ParseError::TrailingData);
    }

    #[test]
    fn refuses_two_armored_blocks() {
        let raw = obj(&good_headers(), &format!("release\n{SIG}{SIG}"));
        assert_eq!(parse(&raw).unwrap_err(), ParseError::MultipleArmor);
        let raw = obj(
            &good_headers(),
            &format!("-----BEGIN PGP MESSAGE-----\nrelease\n{SIG}"),
        );
        assert_eq!(parse(&raw).unwrap_err(), ParseError::MultipleArmor);
    }

    #[test]
    fn refuses_header_mistakes() {
        let dup = format!("{}tagger B <b@x> 1 +0000\n", good_headers());
        assert_eq!(
            parse(&obj(&dup, "m\n")).unwrap_err().to_string(),
            "malformed tag object: duplicate \"tagger\" header"
        );
        let swapped = format!("object {OID}\ntag v1\ntype commit\ntagger A <a@x> 1 +0000\n");
        assert_eq!(
            parse(&obj(&swapped, "m\n")).unwrap_err().to_string(),
            "malformed tag object: header \"tag\" out of order"
        );
        let missing = format!("object {OID}\ntype commit\ntag v1\n");
        assert_eq!(
            parse(&obj(&missing, "m\n")).unwrap_err().to_string(),
            "malformed tag object: missing \"tagger\" header"
        );
        let extra = format!("{}foo bar\n", good_headers());
        assert_eq!(
            parse(&obj(&extra, "m\n")).unwrap_err().to_string(),
            "malformed tag object: unexpected header \"foo\""
        );
    }

    #[test]
    fn refuses_unterminated_signature() {
        let raw = obj(&good_headers(), "m\n-----BEGIN PGP SIGNATURE-----\n\nabc\n");
        assert_eq!(
            parse(&raw).unwrap_err().to_string(),
            "malformed tag object: signature block has no end line"
        );
    }

    #[test]
    fn refuses_oversized_objects() {
        let big = "x".repeat(MAX_OBJECT_SIZE);
        let raw = obj(&good_headers(), &big);
        assert_eq!(
            parse(&raw).unwrap_err().to_string(),
            "malformed tag object: larger than 1 MiB"
        );
    }

    #[test]
    fn foreign_signature_blocks_are_recognised() {
        let x509 = "-----BEGIN SIGNED MESSAGE-----\nabc\n-----END SIGNED MESSAGE-----\n";
        let t = parse(&obj(&good_headers(), &format!("m\n{x509}"))).unwrap();
        assert_eq!(
            t.signature,
            SignatureBlock::Foreign("SIGNED MESSAGE".into())
        );
    }

    const SSH: &str = "-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----\n";

    #[test]
    fn ssh_signature_blocks_are_ssh_layers() {
        let raw = obj(&good_headers(), &format!("m\n{SSH}"));
        let t = parse(&raw).unwrap();
        assert_eq!(t.signature, SignatureBlock::Ssh(SSH.as_bytes().to_vec()));
        assert_eq!(t.payload(), &raw[..raw.len() - SSH.len()]);
        assert_eq!(t.message, "m\n");
    }

    #[test]
    fn an_ssh_block_is_one_block_only() {
        for body in [
            format!("m\n{SSH}{SSH}"),
            format!("m\n{SIG}{SSH}"),
            format!("m\n{SSH}{SIG}"),
        ] {
            let raw = obj(&good_headers(), &body);
            assert_eq!(
                parse(&raw).unwrap_err(),
                ParseError::MultipleArmor,
                "{body}"
            );
        }
        let raw = obj(&good_headers(), &format!("m\n{SSH}after\n"));
        assert_eq!(parse(&raw).unwrap_err(), ParseError::TrailingData);
        let crossed = "m\n-----BEGIN SSH SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----\n";
        assert_eq!(
            parse(&obj(&good_headers(), crossed))
                .unwrap_err()
                .to_string(),
            "malformed tag object: the signature block's end line does not match its begin line"
        );
    }

    #[test]
    fn peeks_through_broken_objects() {
        let raw = format!("object {OID}\ntype tag\ntype tag\n\n");
        assert_eq!(
            peek_target(raw.as_bytes()),
            Some((OID.to_string(), Kind::Tag))
        );
    }

    #[test]
    fn round_trips_what_it_writes() {
        let tagger = Tagger {
            ident: "A <a@x>".into(),
            time: 5,
            tz: "+0000".into(),
        };
        let p = unsigned_payload(OID, Kind::Tag, "v2", &tagger, "hello\n");
        let t = parse(&p).unwrap();
        assert_eq!(t.target_kind, Kind::Tag);
        assert_eq!(t.tagger, tagger);
    }
}
