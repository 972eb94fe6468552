//! Tag messages: the defaults of a first layer and of a co-signature,
//! and the pull request a merge commit names. Pure text functions.

/// Normalises a message the way `git tag` does by default; see
/// [`crate::message::cleanup`].
pub fn clean_message(msg: &str) -> String {
    crate::message::cleanup(msg)
}

/// The pull request a commit merges, from "Merge pull request #N ..." or a
/// squash subject ending in "(#N)".
pub fn pull_request_of(summary: &str) -> Option<u64> {
    let digits = |s: &str| -> Option<u64> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        (!d.is_empty()).then(|| d.parse().ok()).flatten()
    };
    if let Some(rest) = summary.strip_prefix("Merge pull request #") {
        return digits(rest);
    }
    let s = summary.trim_end();
    let inner = s.strip_suffix(')')?;
    let (_, n) = inner.rsplit_once("(#")?;
    if n.chars().all(|c| c.is_ascii_digit()) {
        digits(n)
    } else {
        None
    }
}

/// The default message of the first layer of tag `name` on a commit whose
/// subject is `summary`: the pull request it merges, if it names one.
pub fn first_layer_message(name: &str, summary: &str) -> String {
    match pull_request_of(summary) {
        Some(pr) => format!("{name}: pull request #{pr}\n\n{summary}\n"),
        None => format!("{name}\n\n{summary}\n"),
    }
}

/// The default message of a co-signature on tag `name` by `ident`.
pub fn cosign_message(name: &str, ident: &str) -> String {
    format!("{name}: co-signed by {ident}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_pull_requests() {
        assert_eq!(
            pull_request_of("Merge pull request #42 from alice/feature"),
            Some(42)
        );
        assert_eq!(pull_request_of("Add a feature (#43)"), Some(43));
        assert_eq!(pull_request_of("Add a feature (#x43)"), None);
        assert_eq!(pull_request_of("Fix the thing"), None);
    }
}
