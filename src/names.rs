//! Names and ids as sigtag accepts them, and untrusted text as messages
//! show it. A leaf: it imports only [`crate::encoding`].

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

/// Lower-case hex of a SHA-1 or SHA-256 object id.
pub fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && crate::encoding::is_lower_hex(s.as_bytes())
}

/// Lower-case hex of a SHA-1 object id: what a tag object names (sigtag
/// reads SHA-1 repositories' objects only).
pub fn is_sha1_id(s: &[u8]) -> bool {
    s.len() == 40 && crate::encoding::is_lower_hex(s)
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
    fn ids() {
        assert!(is_object_id(&"a".repeat(40)) && is_object_id(&"0".repeat(64)));
        assert!(!is_object_id(&"A".repeat(40)) && !is_object_id("HEAD"));
        assert!(is_sha1_id("a".repeat(40).as_bytes()) && !is_sha1_id("a".repeat(64).as_bytes()));
    }
}
