//! Tag filters: `*` matches any run of characters, `?` one character;
//! everything else matches itself (as in git-resource's `tag_filter`).

/// Does `text` match the glob `pattern`?
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear in practice,
    // never exponential.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == tc => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("v*", "v1.4.0"));
        assert!(matches("v1.*", "v1.4.0"));
        assert!(!matches("v1.*", "v2.0.0"));
        assert!(matches("*", ""));
        assert!(matches("v?.0", "v1.0"));
        assert!(!matches("v?.0", "v10.0"));
        assert!(matches("*-rc*", "v1-rc2"));
        assert!(!matches("v1", "v10"));
        assert!(!matches(&"*a".repeat(30), &"a".repeat(29)));
    }
}
