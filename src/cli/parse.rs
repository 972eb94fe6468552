//! From the process's arguments to clap, and clap's errors back to one
//! line.
//!
//! `--gpg-agent [FPR]` and `--card [IDENT]` take an optional value. clap
//! alone would take whatever follows, so `sigtag cosign --gpg-agent v1.0`
//! would read `v1.0` as the key. Here a word after a space is the flag's
//! value only when it cannot be a tag name or a commit: for `--gpg-agent`
//! a fingerprint or key ID (16, 40 or 64 hex digits, `0x` and a trailing
//! `!` allowed), an email address or a user ID with a space in it; for
//! `--card` an ident `MANUFACTURER:SERIAL` (`0006:12345678`); for
//! `--ssh-agent` a fingerprint `SHA256:...` or a file name ending in
//! `.pub`. Anything else stays where it is, a positional argument, and
//! `--gpg-agent=VALUE`, `--card=VALUE` or `--ssh-agent=VALUE` always names
//! the value.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use std::ffi::OsString;

/// The optional-value flags this module reads.
const FLAGS: [&str; 3] = ["--gpg-agent", "--card", "--ssh-agent"];

/// A word after `--gpg-agent` or `--card` and what became of it, for hints
/// when the command line then fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub flag: &'static str,
    pub word: String,
    /// Taken as the flag's value (else left as a positional argument).
    pub taken: bool,
}

/// The arguments for clap, and the words read after the optional-value
/// flags.
#[derive(Debug, Clone, Default)]
pub struct Args {
    pub args: Vec<OsString>,
    pub words: Vec<Word>,
}

impl Args {
    /// The word left after a bare `--gpg-agent` or `--card` that equals
    /// `text`, if any.
    pub fn left(&self, text: &str) -> Option<&Word> {
        self.words.iter().find(|w| !w.taken && w.word == text)
    }
}

/// A fingerprint or key ID, an email address or a user ID with a space:
/// never a tag name (git refuses spaces; a tag named like an email address
/// must come before the flag) nor a commit.
pub fn names_a_key(word: &str) -> bool {
    let hex: String = word
        .trim_start_matches("0x")
        .trim_start_matches("0X")
        .trim_end_matches('!')
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let handle = matches!(hex.len(), 16 | 40 | 64) && hex.chars().all(|c| c.is_ascii_hexdigit());
    handle || word.contains(' ') || is_email(word.trim_start_matches('<').trim_end_matches('>'))
}

/// `local@domain.tld`, the top-level label letters only (`v1@2.0` is not).
fn is_email(word: &str) -> bool {
    let Some((local, domain)) = word.rsplit_once('@') else {
        return false;
    };
    let tld = domain.rsplit_once('.').map(|(_, t)| t).unwrap_or_default();
    !local.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// An OpenPGP card's ident as `sigtag card list` shows it: 4 hex digits,
/// a colon, 8 hex digits.
pub fn names_a_card(word: &str) -> bool {
    word.split_once(':').is_some_and(|(m, s)| {
        m.len() == 4 && s.len() == 8 && m.chars().chain(s.chars()).all(|c| c.is_ascii_hexdigit())
    })
}

/// An SSH key's fingerprint `SHA256:...` (a tag name cannot hold a
/// colon) or a public key file `FILE.pub`.
pub fn names_an_ssh_key(word: &str) -> bool {
    word.starts_with("SHA256:") || (word.ends_with(".pub") && word.len() > 4)
}

/// Rewrites `--gpg-agent WORD` to `--gpg-agent=WORD` when WORD names a key
/// and `--card WORD` to `--card=WORD` when WORD names a card; every other
/// argument, and everything after `--`, passes unchanged.
pub fn normalize(args: impl IntoIterator<Item = OsString>) -> Args {
    let mut out = Args::default();
    let mut it = args.into_iter().peekable();
    while let Some(arg) = it.next() {
        if arg == "--" {
            out.args.push(arg);
            out.args.extend(it);
            break;
        }
        let Some(flag) = FLAGS.iter().copied().find(|f| arg == *f) else {
            out.args.push(arg);
            continue;
        };
        let next = it
            .peek()
            .and_then(|n| n.to_str())
            .filter(|n| !n.starts_with('-'))
            .map(str::to_string);
        match next {
            Some(word) => {
                let taken = match flag {
                    "--card" => names_a_card(&word),
                    "--ssh-agent" => names_an_ssh_key(&word),
                    _ => names_a_key(&word),
                };
                if taken {
                    it.next();
                    out.args.push(format!("{flag}={word}").into());
                } else {
                    out.args.push(arg);
                }
                out.words.push(Word { flag, word, taken });
            }
            None => out.args.push(arg),
        }
    }
    out
}

/// How to give `word` to `flag` as its value.
pub fn value_hint(w: &Word) -> String {
    let spaced = match w.flag {
        "--card" => "an ident MANUFACTURER:SERIAL",
        "--ssh-agent" => "a fingerprint SHA256:... or a .pub file",
        _ => "a fingerprint, key ID or email address",
    };
    format!(
        "{} takes a value after a space only when it is {spaced}; to give it {:?}, write {}={}",
        w.flag, w.word, w.flag, w.word
    )
}

/// A clap error as one line starting with `sigtag: `: the message, clap's
/// tips, the usage and where the help is.
pub fn usage_error(e: &clap::Error, args: &Args, cmd: &clap::Command) -> String {
    let text = e.render().to_string();
    let mut message: Vec<&str> = Vec::new();
    let mut tips: Vec<String> = Vec::new();
    let mut usage: Option<&str> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("For more information") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("error: ") {
            message.push(rest);
        } else if let Some(rest) = line.strip_prefix("tip: ") {
            tips.push(format!("tip: {rest}"));
        } else if let Some(rest) = line.strip_prefix("Usage: ") {
            usage = Some(rest);
        } else if usage.is_none() {
            message.push(line);
        }
    }
    let path = command_path(cmd, &args.args);
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let names = subcommands(cmd, &path);
        return format!(
            "sigtag: {path} needs a command: {}; see {path} --help",
            names.join(", ")
        );
    }
    let mut line = match message.split_first() {
        Some((first, rest)) if first.ends_with(':') && !rest.is_empty() => {
            format!("{first} {}", rest.join(", "))
        }
        _ => message.join(" "),
    };
    if e.kind() == ErrorKind::UnknownArgument {
        if let Some(ContextValue::String(bad)) = e.get(ContextKind::InvalidArg) {
            if let Some(w) = args.left(bad) {
                tips.push(value_hint(w));
            }
        }
    }
    if e.kind() == ErrorKind::MissingRequiredArgument {
        for w in args.words.iter().filter(|w| w.taken) {
            tips.push(format!(
                "{} took {:?} as its value; if that is the tag, put it before {}",
                w.flag, w.word, w.flag
            ));
        }
    }
    for tip in tips {
        line.push_str(&format!(" ({tip})"));
    }
    if let Some(u) = usage {
        line.push_str(&format!("; usage: {u}"));
    }
    format!("sigtag: {line}; see {path} --help")
}

/// The command the arguments name, "sigtag card list": the leading words
/// that are subcommands, options skipped.
fn command_path(cmd: &clap::Command, args: &[OsString]) -> String {
    let mut path = vec![cmd.get_name().to_string()];
    let mut at = cmd;
    for arg in args.iter().skip(1).filter_map(|a| a.to_str()) {
        if arg.starts_with('-') {
            continue;
        }
        match at.find_subcommand(arg) {
            Some(sub) => {
                path.push(sub.get_name().to_string());
                at = sub;
            }
            None => break,
        }
    }
    path.join(" ")
}

/// The visible subcommands of the command at `path` ("sigtag card").
fn subcommands(cmd: &clap::Command, path: &str) -> Vec<String> {
    let mut at = cmd;
    for name in path.split_whitespace().skip(1) {
        match at.find_subcommand(name) {
            Some(sub) => at = sub,
            None => break,
        }
    }
    at.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize(args.iter().map(OsString::from))
            .args
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn a_word_that_could_be_a_name_stays_positional() {
        let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
        assert_eq!(
            norm(&["cosign", "--gpg-agent", "v1.0"]),
            ["cosign", "--gpg-agent", "v1.0"]
        );
        assert_eq!(
            norm(&["cosign", "--gpg-agent", fpr, "v1"]),
            [
                "cosign".to_string(),
                format!("--gpg-agent={fpr}"),
                "v1".into()
            ]
        );
        assert_eq!(
            norm(&["sign", "v1", "--gpg-agent", "0x89ABCDEF01234567!"]),
            ["sign", "v1", "--gpg-agent=0x89ABCDEF01234567!"]
        );
        assert_eq!(
            norm(&["sign", "v1", "--gpg-agent", "bob@example.org"]),
            ["sign", "v1", "--gpg-agent=bob@example.org"]
        );
        assert_eq!(
            norm(&["sign", "--gpg-agent", "Bob Example", "v1"]),
            ["sign", "--gpg-agent=Bob Example", "v1"]
        );
        assert_eq!(
            norm(&["sign", "--gpg-agent", "v1@2.0"]),
            ["sign", "--gpg-agent", "v1@2.0"]
        );
        assert_eq!(
            norm(&["sign", "--gpg-agent", "--repo", "r"]),
            ["sign", "--gpg-agent", "--repo", "r"]
        );
        assert_eq!(
            norm(&["cosign", "--card", "v1"]),
            ["cosign", "--card", "v1"]
        );
        assert_eq!(
            norm(&["cosign", "--card", "0006:1234abcd", "v1"]),
            ["cosign", "--card=0006:1234abcd", "v1"]
        );
        assert_eq!(
            norm(&["cosign", "--card", "12345678"]),
            ["cosign", "--card", "12345678"]
        );
        assert_eq!(
            norm(&["cosign", "--card=12345678"]),
            ["cosign", "--card=12345678"]
        );
        // --ssh-agent takes a fingerprint or a .pub file after a space.
        assert_eq!(
            norm(&["cosign", "--ssh-agent", "v1"]),
            ["cosign", "--ssh-agent", "v1"]
        );
        assert_eq!(
            norm(&["cosign", "--ssh-agent", "SHA256:abc", "v1"]),
            ["cosign", "--ssh-agent=SHA256:abc", "v1"]
        );
        assert_eq!(
            norm(&["cosign", "--ssh-agent", "k/bob.pub", "v1"]),
            ["cosign", "--ssh-agent=k/bob.pub", "v1"]
        );
        assert_eq!(
            norm(&["x", "--", "--card", "0006:12345678"]),
            ["x", "--", "--card", "0006:12345678"]
        );
        assert_eq!(norm(&["sign", "v1", "--card"]), ["sign", "v1", "--card"]);
    }

    #[test]
    fn words_are_recorded_for_hints() {
        let a = normalize(["cosign", "v1", "--card", "12345678"].map(OsString::from));
        let w = a.left("12345678").unwrap();
        assert_eq!(
            value_hint(w),
            "--card takes a value after a space only when it is an ident MANUFACTURER:SERIAL; to give it \"12345678\", write --card=12345678"
        );
        assert!(a.left("v1").is_none());
    }

    #[test]
    fn command_paths() {
        let cmd = clap::Command::new("sigtag")
            .subcommand(clap::Command::new("card").subcommand(clap::Command::new("list")))
            .subcommand(clap::Command::new("cosign").arg(clap::Arg::new("name")));
        let path = |args: &[&str]| {
            command_path(&cmd, &args.iter().map(OsString::from).collect::<Vec<_>>())
        };
        assert_eq!(
            path(&["sigtag", "cosign", "--card", "list"]),
            "sigtag cosign"
        );
        assert_eq!(
            path(&["sigtag", "--bogus", "card", "list", "x"]),
            "sigtag card list"
        );
        assert_eq!(path(&["sigtag", "frob"]), "sigtag");
    }
}
