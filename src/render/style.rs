//! How a rendering for people looks: ✓/✗ marks and colour, or plain ASCII.
//!
//! The renderers never look at the terminal themselves: a front end decides
//! (the command line gives marks and colour only when stdout is a terminal
//! and `NO_COLOR` is unset) and passes a [`Style`]. Plain output marks what
//! holds with `+` and what does not with `-`, so it reads the same in a log
//! file, a pipe or a test.

use crate::verdict::Verdict;

/// The look of a rendering for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// ✓ and ✗ rather than `+` and `-`.
    pub marks: bool,
    /// Green for yes, red for no (ANSI escape codes).
    pub color: bool,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

impl Style {
    /// ASCII marks, no colour: for pipes, files and machines.
    pub const fn plain() -> Style {
        Style {
            marks: false,
            color: false,
        }
    }

    /// ✓/✗ and colour: for a person at a terminal.
    pub const fn terminal() -> Style {
        Style {
            marks: true,
            color: true,
        }
    }

    /// `text` in green when colour is on.
    pub fn green(self, text: &str) -> String {
        self.paint(GREEN, text)
    }

    /// `text` in red when colour is on.
    pub fn red(self, text: &str) -> String {
        self.paint(RED, text)
    }

    /// `text` green if `good`, else red, when colour is on.
    pub fn verdict(self, good: bool, text: &str) -> String {
        if good {
            self.green(text)
        } else {
            self.red(text)
        }
    }

    /// The mark of something that holds or counts: ✓ (green) or `+`.
    pub fn yes(self) -> String {
        self.green(if self.marks { "✓" } else { "+" })
    }

    /// The mark of something that fails or is missing: ✗ (red) or `-`.
    pub fn no(self) -> String {
        self.red(if self.marks { "✗" } else { "-" })
    }

    /// The mark of something good that counts for nothing (a signature by
    /// a signer in no group): ○ or `~`, never green.
    pub fn neutral(self) -> String {
        (if self.marks { "○" } else { "~" }).to_string()
    }

    /// The mark for `holds`.
    pub fn mark(self, holds: bool) -> String {
        if holds {
            self.yes()
        } else {
            self.no()
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// The one-line verdict ([`line`](super::line::line)) with its "yes"
    /// or "no" in colour.
    pub fn line(self, verdict: &Verdict) -> String {
        let text = super::line::line(verdict);
        let word = if verdict.satisfied { "yes" } else { "no" };
        let head = format!("{}: ", verdict.tag);
        match text.strip_prefix(&head) {
            Some(rest) if rest.starts_with(word) => format!(
                "{head}{}{}",
                self.verdict(verdict.satisfied, word),
                rest.get(word.len()..).unwrap_or_default()
            ),
            _ => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_is_ascii_and_terminal_is_marked_and_coloured() {
        let p = Style::plain();
        assert_eq!(
            (p.yes(), p.no(), p.green("yes")),
            ("+".into(), "-".into(), "yes".into())
        );
        let t = Style::terminal();
        assert_eq!(t.yes(), "\x1b[32m✓\x1b[0m");
        assert_eq!(t.no(), "\x1b[31m✗\x1b[0m");
        let marks_only = Style {
            marks: true,
            color: false,
        };
        assert_eq!(
            (marks_only.mark(true), marks_only.mark(false)),
            ("✓".into(), "✗".into())
        );
    }

    #[test]
    fn the_line_colours_only_its_verdict() {
        let rule = crate::rule::Rule::parse("1 of humans").unwrap();
        let mut v = Verdict {
            tag: "no".into(),
            environment: "staging".into(),
            evaluation: rule.eval(&|_: &str| std::collections::BTreeSet::new()),
            rule,
            outer: None,
            commit: None,
            created: None,
            layers: Vec::new(),
            findings: Vec::new(),
            rejection: None,
            satisfied: false,
            expires: None,
            promoted: None,
            emergency: None,
            transition: None,
        };
        assert_eq!(
            Style::plain().line(&v),
            "no: no for staging: needs 1 of humans"
        );
        assert_eq!(
            Style::terminal().line(&v),
            "no: \x1b[31mno\x1b[0m for staging: needs 1 of humans"
        );
        v.satisfied = true;
        assert_eq!(
            Style::terminal().line(&v),
            "no: \x1b[32myes\x1b[0m for staging ()"
        );
    }
}
