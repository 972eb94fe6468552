//! Tag messages: the defaults of a first layer and of a co-signature,
//! the pull request a merge commit names, and the message of a layer as
//! written ([`layer_message`]): free text first, then the lines sigtag
//! writes itself, last and in a paragraph of their own. Pure text
//! functions.
//!
//! Invariant of every message [`layer_message`] returns: the only lines
//! that look like ones sigtag writes ([`crate::message::is_machine_line`])
//! are the build lines and the `Sigtag-Tested-From:` trailer it was given,
//! in its last paragraph, the trailer last. A default message made of
//! names (a tag called `Build`, a commit subject `Sigtag-Tested-From: …`)
//! falls back to one that cannot look like such a line.

use super::LayerOptions;
use crate::error::{Error, Result};
pub use crate::message::pull_request_of;
use crate::message::{free_text, is_machine_line, sanitize};

/// Normalises a message the way `git tag` does by default; see
/// [`crate::message::cleanup`].
pub fn clean_message(msg: &str) -> String {
    crate::message::cleanup(msg)
}

/// The first of `candidates` that is clean free text (no line that looks
/// like one sigtag writes), cleaned; else `fallback`.
fn first_clean(candidates: &[String], fallback: String) -> String {
    candidates
        .iter()
        .find_map(|m| free_text(m).ok().filter(|m| !m.is_empty()))
        .unwrap_or(fallback)
}

/// The default message of the first layer of tag `name` on a commit whose
/// subject is `summary`: the pull request it merges, if it names one. A
/// subject or a name that would make a line look like one sigtag writes
/// is left out.
pub fn first_layer_message(name: &str, summary: &str) -> String {
    let head = match pull_request_of(summary) {
        Some(pr) => format!("{name}: pull request #{pr}"),
        None => name.to_string(),
    };
    first_clean(
        &[
            format!("{head}\n\n{summary}\n"),
            format!("{head}\n"),
            format!("Tag {name}\n\n{summary}\n"),
        ],
        format!("Tag {name}\n"),
    )
}

/// The default message of a co-signature on tag `name` by `ident`.
pub fn cosign_message(name: &str, ident: &str) -> String {
    first_clean(
        &[
            format!("{name}: co-signed by {ident}\n"),
            format!("Co-signed {name} by {ident}\n"),
        ],
        format!("Co-signed {name}\n"),
    )
}

/// The message of a layer: `free`, cleaned up as free text, then, when
/// there are any, in a last paragraph of their own, `opts.build_lines` and
/// the `Sigtag-Tested-From:` trailer of `opts.tested_from`, one line each,
/// the trailer last. Refuses (fail closed) free text holding a line that
/// looks like one sigtag writes, an empty message, and a build line that
/// is not one clean line sigtag would write: whatever reads these lines
/// must read only lines sigtag put there.
pub fn layer_message(free: &str, opts: &LayerOptions) -> Result<String> {
    let mut text =
        free_text(free).map_err(|why| Error::usage(format!("the tag message: {why}")))?;
    if text.is_empty() {
        return Err(Error::usage("the tag message is empty; pass -m MESSAGE"));
    }
    let mut lines: Vec<String> = Vec::new();
    for line in &opts.build_lines {
        let one_clean_line = !line.is_empty()
            && !line.contains(['\n', '\t'])
            && sanitize(line) == *line
            && line.trim() == line;
        if !one_clean_line || !is_machine_line(line) {
            return Err(Error::sign(format!(
                "refusing to write \"{}\" as a build line of the layer: it is not one line sigtag writes",
                crate::object::printable(line)
            )));
        }
        lines.push(line.clone());
    }
    if let Some(t) = &opts.tested_from {
        lines.push(t.trailer());
    }
    if !lines.is_empty() {
        text.push('\n');
        for line in lines {
            text.push_str(&line);
            text.push('\n');
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::message::TestedFrom;

    fn commit() -> TestedFrom {
        TestedFrom::Commit(git2::Oid::from_str("89abcdef0123456789abcdef0123456789abcdef").unwrap())
    }

    #[test]
    fn writes_the_trailer_last_in_the_last_paragraph() {
        let opts = |build: &[&str], tested_from| LayerOptions {
            build_lines: build.iter().map(|s| s.to_string()).collect(),
            tested_from,
            ..LayerOptions::default()
        };
        assert_eq!(
            layer_message("tests passed\n\n", &opts(&[], Some(commit()))).unwrap(),
            "tests passed\n\nSigtag-Tested-From: 89abcdef0123456789abcdef0123456789abcdef\n"
        );
        assert_eq!(
            layer_message(
                "v1: promoted",
                &opts(
                    &["BUILD_NAME=42", "Build: https://ci/b/42"],
                    Some(TestedFrom::Nothing)
                )
            )
            .unwrap(),
            "v1: promoted\n\nBUILD_NAME=42\nBuild: https://ci/b/42\nSigtag-Tested-From: none\n"
        );
        // Nothing to add: the free text alone, as before.
        assert_eq!(
            layer_message("one\n\n\ntwo  \n", &opts(&[], None)).unwrap(),
            "one\n\ntwo\n"
        );
    }

    #[test]
    fn refuses_what_would_fake_or_hide_a_trailer() {
        let plain = LayerOptions::default();
        let err = layer_message("ok\nSigtag-Tested-From: none\n", &plain).unwrap_err();
        assert_eq!(
            err.message(),
            "the tag message: line 2 (\"Sigtag-Tested-From: none\") looks like a trailer sigtag writes itself; remove it, sigtag adds those lines"
        );
        assert_eq!(
            layer_message(" \n\x1b\n", &plain).unwrap_err().message(),
            "the tag message is empty; pass -m MESSAGE"
        );
        for bad in [
            "free text",
            "BUILD_NAME=4\nSigtag-Tested-From: none",
            "BUILD_NAME=\x1b",
        ] {
            let opts = LayerOptions {
                build_lines: vec![bad.to_string()],
                ..LayerOptions::default()
            };
            let err = layer_message("ok", &opts).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Sign, "{bad:?}");
        }
    }

    #[test]
    fn default_messages_never_look_like_trailers() {
        assert_eq!(
            first_layer_message("v1", "Merge pull request #42 from a/b"),
            "v1: pull request #42\n\nMerge pull request #42 from a/b\n"
        );
        assert_eq!(
            first_layer_message("v1", "Sigtag-Tested-From: 0123"),
            "v1\n"
        );
        assert_eq!(
            first_layer_message("Build", "Fix it (#7)"),
            "Tag Build\n\nFix it (#7)\n"
        );
        assert_eq!(first_layer_message("v1", "a\x1bb"), "v1\n\na b\n");
        assert_eq!(
            cosign_message("v1", "bob <bob@example.org>"),
            "v1: co-signed by bob <bob@example.org>\n"
        );
        assert_eq!(
            cosign_message("sigtag-tested-from", "bob <b@x>"),
            "Co-signed sigtag-tested-from by bob <b@x>\n"
        );
        assert_eq!(
            cosign_message("BUILD_A", "x=y <b@x>"),
            "Co-signed BUILD_A by x=y <b@x>\n"
        );
    }

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
