//! Names and ids as sigtag accepts them, the order tags are listed in, and
//! untrusted text as messages show it. A leaf: it imports only
//! [`crate::encoding`].

use std::cmp::Ordering;

/// Can `refs/tags/NAME` exist, and may sigtag make it? git's rules (`git
/// check-ref-format`), checked without libgit2 so that parsing a request
/// starts nothing; a name starting with `-` is refused too (it would read
/// as an option).
pub fn valid_tag_name(name: &str) -> bool {
    let bad_char = |c: char| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    !name.is_empty()
        && name.len() <= 1024
        && !name.starts_with('-')
        && name != "@"
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && !name.chars().any(bad_char)
        && name
            .split('/')
            .all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"))
}

/// Does `s` look like an email address: one `@` with text on both sides,
/// no white space or control character, at most 254 bytes? Only what
/// matching commit authors needs, not RFC 5322.
pub fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    let ok_part = |p: Option<&str>| p.is_some_and(|p| !p.is_empty());
    s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && ok_part(parts.next())
        && ok_part(parts.next())
        && parts.next().is_none()
}

/// Lower-case hex of a SHA-1 or SHA-256 object id.
pub fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && crate::encoding::is_lower_hex(s.as_bytes())
}

/// Lower-case hex of a SHA-1 object id: what a tag object names (sigtag
/// reads SHA-1 repositories' objects only).
pub fn is_sha1_id(s: &[u8]) -> bool {
    s.len() == 40 && crate::encoding::is_lower_hex(s)
}

/// The order `sigtag list` shows tags in: versions as versions, then
/// every other name.
///
/// A version is `[v]N(.N)*[-PRE][+BUILD]` (`v1.10.0`, `2.0`,
/// `v1.0.0-rc.2`): numbers compare as numbers (`v1.9.0` before `v1.10.0`
/// before `v2`), a pre-release comes before its release, its parts compare
/// as semver says (numbers numerically, before words). Other names follow,
/// in natural order (runs of digits as numbers: `build-9` before
/// `build-10`). Names that would tie (`v1.0` and `V01.0`) are ordered by
/// their bytes (`V01.0` first), so the order is total and the same on every machine.
pub fn version_order(a: &str, b: &str) -> Ordering {
    let order = match (Version::parse(a), Version::parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => natural(a, b),
    };
    order.then_with(|| a.cmp(b))
}

/// A tag name read as a version.
struct Version<'a> {
    core: Vec<&'a str>,
    pre: Option<&'a str>,
    build: Option<&'a str>,
}

impl<'a> Version<'a> {
    fn parse(name: &'a str) -> Option<Version<'a>> {
        let rest = name.strip_prefix(['v', 'V']).unwrap_or(name);
        let (main, build) = match rest.split_once('+') {
            Some((m, b)) => (m, Some(b)),
            None => (rest, None),
        };
        let (core, pre) = match main.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (main, None),
        };
        let is_number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let is_idents = |s: &str| {
            s.split('.')
                .all(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        };
        let core: Vec<&str> = core.split('.').collect();
        (core.iter().all(|c| is_number(c))
            && pre.is_none_or(is_idents)
            && build.is_none_or(is_idents))
        .then_some(Version { core, pre, build })
    }

    fn cmp(&self, other: &Version) -> Ordering {
        let core = cmp_seq(&self.core, &other.core, numeric);
        let pre = match (self.pre, other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let xs: Vec<&str> = x.split('.').collect();
                let ys: Vec<&str> = y.split('.').collect();
                cmp_seq(&xs, &ys, |a, b| {
                    let num = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
                    match (num(a), num(b)) {
                        (true, true) => numeric(a, b),
                        (true, false) => Ordering::Less,
                        (false, true) => Ordering::Greater,
                        (false, false) => a.cmp(b),
                    }
                })
            }
        };
        let build = match (self.build, other.build) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => natural(x, y),
        };
        core.then(pre).then(build)
    }
}

/// Lexicographic order of two sequences under `cmp`, a prefix first.
fn cmp_seq(a: &[&str], b: &[&str], cmp: impl Fn(&str, &str) -> Ordering) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = cmp(x, y);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// Two runs of digits by their value, however long.
fn numeric(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Natural order: runs of digits compare by value, other runs by bytes, a
/// digit run and another run by their first bytes.
fn natural(a: &str, b: &str) -> Ordering {
    let (ra, rb) = (runs(a), runs(b));
    cmp_seq(&ra, &rb, |x, y| {
        let digit = |s: &str| s.bytes().next().is_some_and(|c| c.is_ascii_digit());
        if digit(x) && digit(y) {
            numeric(x, y)
        } else {
            x.cmp(y)
        }
    })
}

/// `s` cut into runs of ASCII digits and runs of anything else.
fn runs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let d = c.is_ascii_digit();
        if prev.is_some_and(|p| p != d) {
            out.extend(s.get(start..i));
            start = i;
        }
        prev = Some(d);
    }
    out.extend(s.get(start..).filter(|r| !r.is_empty()));
    out
}

/// Untrusted text fit for a message: each control character becomes
/// `control` (or is dropped), and text of more than `max` characters is
/// cut to `keep` of them and `ellipsis`.
fn fit(s: &str, control: Option<char>, max: usize, keep: usize, ellipsis: &str) -> String {
    let mapped = s
        .chars()
        .filter_map(|c| if c.is_control() { control } else { Some(c) });
    if s.chars().count() > max {
        let mut out: String = mapped.take(keep).collect();
        out.push_str(ellipsis);
        out
    } else {
        mapped.collect()
    }
}

/// Untrusted text in the verifier's messages: control characters are
/// dropped, and more than 64 characters are cut to 64 and `…`.
pub fn printable(s: &str) -> String {
    fit(s, None, 64, 64, "…")
}

/// Untrusted text in the resource's messages: control characters become
/// `?`, and more than 64 characters are cut to 61 and `...`.
pub fn shown(s: &str) -> String {
    fit(s, Some('?'), 64, 61, "...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(printable("a\nb"), "ab");
        assert_eq!(printable(&"x".repeat(65)), format!("{}…", "x".repeat(64)));
        assert_eq!(shown("a\nb"), "a?b");
        assert_eq!(shown(&"x".repeat(64)), "x".repeat(64));
        assert_eq!(shown(&"x".repeat(65)), format!("{}...", "x".repeat(61)));
    }

    #[test]
    fn versions_sort_as_versions_then_other_names() {
        let expected = [
            "v0.9",
            "v1",
            "v1.0.0-alpha",
            "v1.0.0-alpha.1",
            "v1.0.0-alpha.beta",
            "v1.0.0-rc.2",
            "v1.0.0-rc.10",
            "v1.0.0",
            "v1.0.0+build.2",
            "v1.2.0",
            "1.9.0",
            "v1.9.0",
            "V01.10.0",
            "v1.10.0",
            "v2",
            "v10.0.0",
            "build-9",
            "build-10",
            "latest",
            "release/v1.9",
            "release/v1.10",
            "v1.2.3_beta",
        ];
        let mut names: Vec<&str> = expected.iter().rev().copied().collect();
        names.sort_by(|a, b| version_order(a, b));
        assert_eq!(names, expected);
        // A total order: antisymmetric, transitive, equal only for equal names.
        for a in expected {
            for b in expected {
                assert_eq!(
                    version_order(a, b),
                    version_order(b, a).reverse(),
                    "{a} {b}"
                );
                assert_eq!(version_order(a, b) == Ordering::Equal, a == b, "{a} {b}");
                for c in expected {
                    if version_order(a, b).is_le() && version_order(b, c).is_le() {
                        assert!(version_order(a, c).is_le(), "{a} {b} {c}");
                    }
                }
            }
        }
    }

    #[test]
    fn runs_cut_digits_from_the_rest() {
        assert_eq!(runs("v1.10-rc2"), ["v", "1", ".", "10", "-rc", "2"]);
        assert_eq!(runs(""), Vec::<&str>::new());
        assert_eq!(runs("ü12"), ["ü", "12"]);
    }

    #[test]
    fn ids() {
        assert!(is_object_id(&"a".repeat(40)) && is_object_id(&"0".repeat(64)));
        assert!(!is_object_id(&"A".repeat(40)) && !is_object_id("HEAD"));
        assert!(is_sha1_id("a".repeat(40).as_bytes()) && !is_sha1_id("a".repeat(64).as_bytes()));
    }
}
