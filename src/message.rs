//! Layer messages: the free text a person or a pipeline writes, and the
//! trailers sigtag writes itself.
//!
//! Invariants of a message that [`free_text`] accepted:
//! - it holds no control character but newline and tab, and no invisible
//!   formatting character (bidirectional overrides, zero-width spaces), so
//!   nothing in it can repaint a terminal or reorder what a reader sees;
//! - it is cleaned up as `git tag` does by default ([`cleanup`]);
//! - no line of it looks like a trailer sigtag writes ([`is_machine_line`]):
//!   whatever reads build or transition trailers reads only lines that
//!   sigtag wrote, which it puts in the message's last paragraph, after
//!   the free text.
//!
//! Reading trailers ([`tested_from`]): only the message's last paragraph
//! counts, so a trailer quoted in free text above it is never read, and a
//! malformed or repeated trailer is an error (the reason), never a guess.
//!
//! Pure: no I/O.

/// The prefix of every `Key: value` trailer sigtag writes
/// (`Sigtag-Tested-From: <commit>`, ...).
pub const TRAILER_PREFIX: &str = "Sigtag-";

/// The trailer that records the transition a layer was tested as (DESIGN
/// §6): `Sigtag-Tested-From: <40 hex>`, the commit the environment ran
/// before this tag, or `Sigtag-Tested-From: none` when it ran nothing.
/// Written by [`TestedFrom::trailer`] alone, as the last line of the
/// message.
pub const TESTED_FROM_TRAILER: &str = "Sigtag-Tested-From";

/// What a layer records it was tested from: the value of the
/// [`TESTED_FROM_TRAILER`] line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TestedFrom {
    /// The commit the environment ran before the tag.
    Commit(git2::Oid),
    /// The environment ran nothing before (the tag has no base): `none`.
    Nothing,
}

impl TestedFrom {
    /// How [`TestedFrom::Nothing`] is written, in the trailer and where a
    /// front end takes a value (`--tested-from none`, a params file).
    pub const NONE: &'static str = "none";

    /// The trailer line, without its newline:
    /// `Sigtag-Tested-From: <40 hex>` or `Sigtag-Tested-From: none`.
    pub fn trailer(&self) -> String {
        format!("{TESTED_FROM_TRAILER}: {self}")
    }
}

impl std::fmt::Display for TestedFrom {
    /// The value: the commit's 40 lower-case hex digits, or `none`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestedFrom::Commit(oid) => write!(f, "{oid}"),
            TestedFrom::Nothing => f.write_str(TestedFrom::NONE),
        }
    }
}

/// The lines of a message's last paragraph (the last run of lines that
/// are not blank), in order.
fn last_paragraph(message: &str) -> Vec<&str> {
    let mut last: Vec<&str> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in message.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                last = std::mem::take(&mut current);
            }
        } else {
            current.push(line);
        }
    }
    if current.is_empty() {
        last
    } else {
        current
    }
}

/// The `Sigtag-Tested-From` trailer of a layer's message: `Ok(None)` when
/// the message's last paragraph holds none, `Ok(Some(..))` for exactly one
/// well-formed trailer (`Sigtag-Tested-From: ` then a full commit id or
/// `none`; the key's case does not matter, the value is made lower-case),
/// and `Err(reason)` when the last paragraph holds a malformed one, or more
/// than one. Lines above the last paragraph are never read.
pub fn tested_from(message: &str) -> Result<Option<TestedFrom>, String> {
    let key = TESTED_FROM_TRAILER.to_ascii_lowercase();
    let mut found: Option<TestedFrom> = None;
    for line in last_paragraph(message) {
        let line = line.trim_end();
        let starts = line
            .trim_start()
            .get(..key.len())
            .is_some_and(|k| k.eq_ignore_ascii_case(&key));
        if !starts {
            continue;
        }
        let shown: String = line.chars().take(80).collect();
        let value = line
            .get(..key.len())
            .filter(|k| k.eq_ignore_ascii_case(&key))
            .and_then(|_| line.get(key.len()..))
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim);
        let Some(value) = value else {
            return Err(format!(
                "the line \"{}\" is not a {TESTED_FROM_TRAILER} trailer: write \"{TESTED_FROM_TRAILER}: <commit>\" or \"{TESTED_FROM_TRAILER}: none\" at the start of a line",
                sanitize(&shown)
            ));
        };
        let commit = (value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| git2::Oid::from_str(value).ok())
            .flatten();
        let parsed = if value.eq_ignore_ascii_case(TestedFrom::NONE) {
            TestedFrom::Nothing
        } else if let Some(oid) = commit {
            TestedFrom::Commit(oid)
        } else {
            let v: String = value.chars().take(70).collect();
            return Err(format!(
                "{TESTED_FROM_TRAILER} \"{}\" is neither a full commit id (40 hexadecimal digits) nor none",
                sanitize(&v)
            ));
        };
        if found.is_some() {
            return Err(format!(
                "the last paragraph holds more than one {TESTED_FROM_TRAILER} trailer"
            ));
        }
        found = Some(parsed);
    }
    Ok(found)
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

/// Lines a pipeline's layer carries to name the build that made it:
/// `NAME=value` for these names, and `Build: URL`.
pub const BUILD_VARS: &[&str] = &[
    "BUILD_TEAM_NAME",
    "BUILD_PIPELINE_NAME",
    "BUILD_PIPELINE_INSTANCE_VARS",
    "BUILD_JOB_NAME",
    "BUILD_NAME",
    "BUILD_ID",
    "BUILD_TEAM_ID",
    "BUILD_PIPELINE_ID",
    "BUILD_JOB_ID",
    "BUILD_URL",
    "BUILD_URL_SHORT",
    "BUILD_CREATED_BY",
    "ATC_EXTERNAL_URL",
];

/// Characters that change how text is shown without being seen:
/// bidirectional embeddings, overrides and isolates, zero-width spaces and
/// joiners, the byte-order mark.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{061C}')
}

/// Replaces every control character but newline and tab by a space and
/// drops invisible formatting characters; CR LF becomes LF.
pub fn sanitize(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| !invisible(*c))
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// A single-line value (a build variable): sanitized, newlines and tabs
/// made spaces, trimmed; `None` when nothing is left.
pub fn one_line(value: &str) -> Option<String> {
    let v: String = sanitize(value)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect();
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Normalises a message the way `git tag` does by default: trailing
/// whitespace and surrounding blank lines removed, runs of blank lines
/// collapsed, one final newline.
pub fn cleanup(msg: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in msg.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Does this line look like one sigtag writes itself: `Sigtag-Key: ...`,
/// `Build: ...`, or `BUILD_...=` / `ATC_EXTERNAL_URL=`? Case and leading
/// white space do not matter.
pub fn is_machine_line(line: &str) -> bool {
    let l = line.trim_start();
    let key_before = |sep: char| l.split_once(sep).map(|(k, _)| k.trim_end());
    if let Some(key) = key_before(':') {
        let lower = key.to_ascii_lowercase();
        if lower == "build" || lower.starts_with(&TRAILER_PREFIX.to_ascii_lowercase()) {
            return true;
        }
    }
    if let Some(key) = key_before('=') {
        let upper = key.to_ascii_uppercase();
        if upper.starts_with("BUILD_") || BUILD_VARS.contains(&upper.as_str()) {
            return true;
        }
    }
    false
}

/// Free text for a layer's message (`-m`, `params.message`): sanitized
/// and cleaned up. A line that looks like a trailer sigtag writes is
/// refused; the error is the reason, for the caller to put in a sentence
/// that names the field.
pub fn free_text(text: &str) -> Result<String, String> {
    let clean = cleanup(&sanitize(text));
    if let Some((i, line)) = clean.lines().enumerate().find(|(_, l)| is_machine_line(l)) {
        let shown: String = line.chars().take(40).collect();
        return Err(format!(
            "line {} (\"{shown}\") looks like a trailer sigtag writes itself; remove it, sigtag adds those lines",
            i + 1
        ));
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_messages_like_git() {
        assert_eq!(cleanup("\n\nhello  \n\n\n world\n\n"), "hello\n\n world\n");
        assert_eq!(cleanup("one"), "one\n");
        assert_eq!(cleanup("  \n "), "");
    }

    #[test]
    fn removes_what_repaints_or_hides() {
        assert_eq!(
            free_text("ok\x1b[2J\r\nnext\rline\u{202E}txt\u{200B}\n").unwrap(),
            "ok [2J\nnext linetxt\n"
        );
        assert_eq!(one_line(" a\nb\tc\x07 ").as_deref(), Some("a b c"));
        assert_eq!(one_line(" \x1b "), None);
    }

    #[test]
    fn writes_the_tested_from_trailer() {
        let oid = git2::Oid::from_str("0123456789abcdef0123456789ABCDEF01234567").unwrap();
        assert_eq!(
            TestedFrom::Commit(oid).trailer(),
            "Sigtag-Tested-From: 0123456789abcdef0123456789abcdef01234567"
        );
        assert_eq!(TestedFrom::Nothing.trailer(), "Sigtag-Tested-From: none");
        // Free text can never carry it, in any spelling.
        for line in [
            TestedFrom::Commit(oid).trailer(),
            TestedFrom::Nothing.trailer(),
        ] {
            assert!(is_machine_line(&line), "{line}");
            assert!(free_text(&format!("tested\n\n{line}\n")).is_err());
            assert!(free_text(&format!("tested\n {}\n", line.to_lowercase())).is_err());
        }
    }

    #[test]
    fn reads_the_tested_from_trailer_of_the_last_paragraph_only() {
        let c = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
        let commit = |c: &str| Ok(Some(TestedFrom::Commit(git2::Oid::from_str(c).unwrap())));
        assert_eq!(
            tested_from(&format!("release\n\nBuild: x\nSigtag-Tested-From: {c}\n")),
            commit(c)
        );
        assert_eq!(
            tested_from(&format!("sigtag-tested-from:{}\n", c.to_uppercase())),
            commit(c)
        );
        assert_eq!(
            tested_from("v1.2\n\nSigtag-Tested-From: none  \n\n\n"),
            Ok(Some(TestedFrom::Nothing))
        );
        assert_eq!(tested_from("v1.2\n"), Ok(None));
        assert_eq!(tested_from(""), Ok(None));
        // Above the last paragraph: quoted, not read.
        assert_eq!(
            tested_from(&format!("Sigtag-Tested-From: {c}\n\nnotes\n")),
            Ok(None)
        );
        assert_eq!(
            tested_from(&format!(
                "Sigtag-Tested-From: bad\n\nSigtag-Tested-From: {c}\n"
            )),
            commit(c)
        );
    }

    #[test]
    fn a_malformed_or_repeated_tested_from_is_an_error() {
        let c = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d";
        for (text, why) in [
            (
                "x\n\nSigtag-Tested-From: 1a2b3c4\n".to_string(),
                "Sigtag-Tested-From \"1a2b3c4\" is neither a full commit id (40 hexadecimal digits) nor none",
            ),
            (
                "x\n\nSigtag-Tested-From: v1.1\n".to_string(),
                "Sigtag-Tested-From \"v1.1\" is neither a full commit id (40 hexadecimal digits) nor none",
            ),
            (
                "x\n\nSigtag-Tested-From:\n".to_string(),
                "Sigtag-Tested-From \"\" is neither a full commit id (40 hexadecimal digits) nor none",
            ),
            (
                format!("x\n\nSigtag-Tested-From: {c}\nSigtag-Tested-From: none\n"),
                "the last paragraph holds more than one Sigtag-Tested-From trailer",
            ),
            (
                format!("x\n\nSigtag-Tested-From: {c}\nSigtag-Tested-From: {c}\n"),
                "the last paragraph holds more than one Sigtag-Tested-From trailer",
            ),
            (
                format!("x\n\n  Sigtag-Tested-From: {c}\n"),
                "is not a Sigtag-Tested-From trailer",
            ),
            (
                format!("x\n\nSigtag-Tested-From-Staging: {c}\n"),
                "is not a Sigtag-Tested-From trailer",
            ),
        ] {
            let err = tested_from(&text).unwrap_err();
            assert!(err.contains(why), "{text:?}: {err}");
        }
    }

    #[test]
    fn refuses_lines_that_fake_trailers() {
        for fake in [
            "release\n\nBUILD_PIPELINE_NAME=prod\n",
            "release\nbuild_job_name = deploy\n",
            "release\n  Sigtag-Tested-From: 0123\n",
            "release\nsigtag-emergency: yes\n",
            "release\nBuild: https://ci.example.org/builds/1\n",
            "ATC_EXTERNAL_URL=https://ci\n",
        ] {
            let err = free_text(fake).unwrap_err();
            assert!(
                err.contains("looks like a trailer sigtag writes"),
                "{fake:?}: {err}"
            );
        }
        assert_eq!(
            free_text("Release notes: see BUILD.md\nBuilder = alice\n").unwrap(),
            "Release notes: see BUILD.md\nBuilder = alice\n"
        );
    }
}
