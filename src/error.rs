//! The one error type of sigtag.
//!
//! A verdict ("this tag does not satisfy the rule") is never an error: it is
//! a [`crate::verdict::Verdict`]. An [`Error`] means sigtag could not do what
//! it was asked, and it reads as one sentence that names what to fix.
//!
//! The parts of that sentence are data: what happened ([`Error::message`]),
//! what to do about it ([`Error::fix`], when the place that failed knows),
//! and, for a remote, the [`Cause`] a front end chooses its own advice
//! from. [`fmt::Display`] joins them as `message; fix`.

use std::fmt;

/// What kind of thing went wrong; front ends map it to an exit status
/// ([`Error::exit_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad command line or bad input document: an unknown option or field,
    /// a missing argument, a tag name git would refuse, a request on stdin
    /// that is not one JSON object. Likely cause: a typo in the invocation
    /// or the pipeline's configuration.
    Usage,
    /// The keys directory, the policy or the resource's source is wrong: a
    /// certificate that does not parse or holds a secret key, a group naming
    /// an unknown signer, a rule asking for more signers than a group has.
    /// Likely cause: an edit of the trust root that was not reviewed, or a
    /// field pasted incompletely. Found before any tag is read.
    Config,
    /// The repository could not be read or written: not a git repository,
    /// a missing object, a ref that cannot be updated. Likely cause: the
    /// wrong directory, a shallow or damaged clone, or a full disk.
    Repo,
    /// Reading or writing a file (or stdin, stdout) failed. Likely cause:
    /// permissions, a full disk, or a closed pipe.
    Io,
    /// Signing failed: a key that cannot sign, a wrong passphrase, a token
    /// or agent that refused. Likely cause: the wrong key, or a hardware
    /// token that is not plugged in or not unlocked.
    Sign,
    /// A remote refused or could not be reached: a network failure, a
    /// refused credential or host key, a tag that changed on the remote
    /// meanwhile. Likely cause: the URL, the credentials or the network;
    /// [`Error::cause`] says which when it is known.
    Remote,
    /// The operation was refused by the rules (e.g. `--require` not met).
    /// Not a failure of sigtag: the tag does not meet what was asked.
    Refused,
}

/// Why a remote failed, when sigtag can tell: front ends choose their
/// advice from it (the resource names the fields of its source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The ssh server's host key is not among the pinned known hosts.
    /// Likely cause: known_hosts of another server, a server whose key
    /// changed, or somebody posing as the server.
    HostKey,
    /// The TLS certificate of the server could not be verified. Likely
    /// cause: the machine's CA certificates do not include the server's
    /// issuer, or the URL names another host than the certificate.
    Certificate,
    /// The credentials were refused. Likely cause: a wrong password, token
    /// or key, or one the server does not know for this repository.
    Authentication,
    /// The server did not answer within the bound on each network wait.
    /// Likely cause: a wrong host or port, a firewall, or a slow server.
    Timeout,
    /// The server sent sigtag to another host (a redirect, or credentials
    /// asked for by another host), which sigtag refuses. Likely cause: a
    /// URL that is not the repository's real address.
    OtherHost,
}

/// An error with a message meant for a person.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    fix: Option<String>,
    cause: Option<Cause>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            fix: None,
            cause: None,
        }
    }

    /// The same error, saying what to do about it.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Error {
        self.fix = Some(fix.into());
        self
    }

    /// The same error, saying why it happened.
    pub fn with_cause(mut self, cause: Cause) -> Error {
        self.cause = Some(cause);
        self
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

    /// What happened, without the fix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What to do about it, when the place that failed knows.
    pub fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }

    /// Why it happened, when sigtag can tell.
    pub fn cause(&self) -> Option<Cause> {
        self.cause
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
        f.write_str(&self.message)?;
        match &self.fix {
            Some(fix) => write!(f, "; {fix}"),
            None => Ok(()),
        }
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
