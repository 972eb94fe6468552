//! The look of the output for people: ✓/✗ and colour only when stdout is
//! a terminal and `NO_COLOR` is unset (or empty), as no-color.org asks.

use sigtag::render::Style;
use std::ffi::OsStr;
use std::io::IsTerminal as _;

/// The style for this process's stdout.
pub fn for_stdout() -> Style {
    decide(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// Marks and colour on a terminal without a non-empty `NO_COLOR`; plain
/// ASCII otherwise.
pub fn decide(terminal: bool, no_color: Option<&OsStr>) -> Style {
    let no_color = no_color.is_some_and(|v| !v.is_empty());
    if terminal && !no_color {
        Style::terminal()
    } else {
        Style::plain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_terminal_without_no_color_gets_marks_and_colour() {
        assert_eq!(decide(true, None), Style::terminal());
        assert_eq!(decide(true, Some(OsStr::new(""))), Style::terminal());
        assert_eq!(decide(true, Some(OsStr::new("1"))), Style::plain());
        assert_eq!(decide(false, None), Style::plain());
    }
}
