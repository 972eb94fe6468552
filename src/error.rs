//! The one error type of sigtag.
//!
//! A verdict ("this tag does not satisfy the rule") is never an error: it is
//! a [`crate::report::Report`]. An [`Error`] means sigtag could not do what
//! it was asked, and its message is one sentence that names what to fix.

use std::fmt;

/// What kind of thing went wrong; front ends map it to an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad command line or bad input document.
    Usage,
    /// The keys directory or policy is wrong.
    Config,
    /// The repository could not be read or written.
    Repo,
    /// Reading or writing a file failed.
    Io,
    /// Signing failed (bad key, wrong passphrase, ...).
    Sign,
    /// A remote refused or could not be reached.
    Remote,
    /// The operation was refused by the rules (e.g. `--require` not met).
    Refused,
}

/// An error with a message meant for a person.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    pub fn config(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Config, message)
    }

    pub fn repo(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Repo, message)
    }

    pub fn io(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Io, message)
    }

    pub fn sign(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Sign, message)
    }

    pub fn remote(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Remote, message)
    }

    pub fn refused(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Refused, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Exit status for the command line: 1 for a refusal (a verdict), 2 for
    /// everything that stopped sigtag from running.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Refused => 1,
            _ => 2,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Adds context to lower-level errors, turning them into an [`Error`].
pub trait Context<T> {
    fn context(self, kind: ErrorKind, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, kind: ErrorKind, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::new(kind, format!("{}: {}", what(), clean(&e.to_string()))))
    }
}

/// Lower-level messages (libgit2's, Sequoia's) often end in a period or
/// carry a "; class=..." suffix; keep the sentence plain.
pub fn clean(msg: &str) -> String {
    let msg = msg.split("; class=").next().unwrap_or(msg);
    msg.trim().trim_end_matches('.').to_string()
}
