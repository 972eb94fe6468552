//! Callbacks for libgit2: credentials (a bounded number of attempts, only
//! for the configured scheme, host and port), ssh host keys, the deadline
//! of a download, the bound on each network wait, and the reasons a
//! callback refused.

use super::known_hosts::{host_key_pinned, ssh_fingerprint, KnownHost};
use super::url::{host_port, same_origin};
use crate::error::{clean, Cause, Error, ErrorKind};
use crate::limits::MAX_CREDENTIAL_ATTEMPTS;
use git2::{CertificateCheckStatus, Cred, CredentialType, RemoteCallbacks, Repository};
use std::cell::RefCell;
use std::fmt;

/// How to reach a remote: explicit credentials (the resource's source) or,
/// when none are given, the ssh agent and git's credential helpers.
///
/// Secrets stay in memory: the ssh key goes to libssh2 from memory, never
/// through a file. `Debug` does not show them.
#[derive(Clone, Default)]
pub struct Access {
    /// An ssh private key (OpenSSH or PEM format).
    pub ssh_key: Option<String>,
    /// The passphrase of `ssh_key`, if it has one.
    pub ssh_key_passphrase: Option<String>,
    /// User name and password (or token) for http(s).
    pub username: Option<String>,
    pub password: Option<String>,
    /// How ssh host keys are checked.
    pub host_keys: HostKeys,
    /// When set, a download in progress stops at this instant.
    pub deadline: Option<std::time::Instant>,
    /// What messages call the URL (`source.uri`); `None`: "the URL".
    pub url_name: Option<&'static str>,
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |o: &Option<String>| if o.is_some() { "(set)" } else { "(none)" };
        f.debug_struct("Access")
            .field("ssh_key", &shown(&self.ssh_key))
            .field("ssh_key_passphrase", &shown(&self.ssh_key_passphrase))
            .field("username", &self.username)
            .field("password", &shown(&self.password))
            .field("host_keys", &self.host_keys)
            .field("deadline", &self.deadline)
            .field("url_name", &self.url_name)
            .finish()
    }
}

/// How the host key of an ssh server is checked.
#[derive(Debug, Clone, Default)]
pub enum HostKeys {
    /// libgit2's own check against ~/.ssh/known_hosts.
    #[default]
    System,
    /// The key must be one of these (parsed from known_hosts lines).
    Pinned(Vec<KnownHost>),
    /// Any host key is accepted (the caller warns about it).
    Unchecked,
}

/// Callbacks that answer credential requests for `url` from the ssh
/// agent, the git credential helpers, or the default (Kerberos/NTLM)
/// credentials, a bounded number of times, and only for `url`'s own host
/// and port.
pub fn credential_callbacks<'a>(repo: &'a Repository, url: &'a str) -> RemoteCallbacks<'a> {
    static NONE: Access = Access {
        ssh_key: None,
        ssh_key_passphrase: None,
        username: None,
        password: None,
        host_keys: HostKeys::System,
        deadline: None,
        url_name: None,
    };
    callbacks(Some(repo), &NONE, url)
}

/// Callbacks that answer credential requests with `access` first, then as
/// [`credential_callbacks`] does; at most [`MAX_CREDENTIAL_ATTEMPTS`]
/// times, so a wrong password fails instead of looping. They also check
/// ssh host keys as `access.host_keys` says.
///
/// Credentials go only to the scheme, host and port of `url` (the URL the
/// caller configured): when a server redirects elsewhere and the other
/// host asks for credentials, the request is refused, whether the answer
/// would come from `access` or from git's credential helpers.
pub fn callbacks<'a>(
    repo: Option<&'a Repository>,
    access: &'a Access,
    url: &'a str,
) -> RemoteCallbacks<'a> {
    noted_callbacks(repo, access, url).0
}

/// Why talking to a remote failed: the words, what to do about it when
/// that is known, and the [`Cause`].
#[derive(Debug, Clone)]
pub struct Why {
    pub text: String,
    pub fix: Option<String>,
    pub cause: Option<Cause>,
}

impl Why {
    fn new(text: String, cause: Option<Cause>) -> Why {
        Why {
            text,
            fix: None,
            cause,
        }
    }

    /// A redirect to another host, refused.
    fn other_host(text: String, access: &Access) -> Why {
        Why {
            text,
            fix: Some(format!(
                "set {} to the address the repository really has",
                access.url_name.unwrap_or("the URL")
            )),
            cause: Some(Cause::OtherHost),
        }
    }

    /// The error `what: why`, of `kind`, with the fix and the cause.
    pub fn error(self, kind: ErrorKind, what: &str) -> Error {
        let mut e = Error::new(kind, format!("{what}: {}", self.text));
        if let Some(fix) = self.fix {
            e = e.with_fix(fix);
        }
        if let Some(cause) = self.cause {
            e = e.with_cause(cause);
        }
        e
    }
}

/// Why a callback refused, kept because libgit2 replaces some callback
/// errors with its own message ("invalid or unknown remote ssh hostkey").
pub type Note = std::rc::Rc<RefCell<Option<Why>>>;

/// Why a libgit2 error happened: the callback's own reason, or libgit2's
/// message. A few of libgit2's messages are made into sentences that say
/// what happened. libgit2 names a certificate or an authentication failure
/// only in words; those words set the cause.
pub fn reason(e: &git2::Error, note: &Note, access: &Access) -> Why {
    if let Some(why) = note.borrow_mut().take() {
        return why;
    }
    let message = clean(e.message());
    if let Some(hosts) = message.strip_prefix("cannot redirect from ") {
        let to = hosts.rsplit(" to ").next().unwrap_or(hosts);
        return Why::other_host(
            format!(
                "the server redirects to {to}, another host, and sigtag follows no redirect to another host"
            ),
            access,
        );
    }
    if e.code() == git2::ErrorCode::Timeout || message.to_ascii_lowercase().contains("timed out") {
        return Why::new(
            format!(
                "the server did not answer within {}",
                crate::limits::seconds(network_limit())
            ),
            Some(Cause::Timeout),
        );
    }
    let cause = if message.contains("certificate") {
        Some(Cause::Certificate)
    } else if message.contains("authentication") {
        Some(Cause::Authentication)
    } else {
        None
    };
    Why::new(message, cause)
}

/// [`callbacks`], and the [`Note`] in which they leave why they refused.
pub fn noted_callbacks<'a>(
    repo: Option<&'a Repository>,
    access: &'a Access,
    url: &'a str,
) -> (RemoteCallbacks<'a>, Note) {
    let note: Note = Default::default();
    let (note1, note2) = (note.clone(), note.clone());
    let attempts = RefCell::new(0usize);
    let mut cbs = RemoteCallbacks::new();
    cbs.credentials(move |asked, username, allowed| {
        if !same_origin(url, asked) {
            let why = Why::other_host(
                format!(
                    "{} asked for credentials (after a redirect), and sigtag gives credentials only to {}, the host and port of {}",
                    host_port(asked),
                    host_port(url),
                    access.url_name.unwrap_or("the configured URL")
                ),
                access,
            );
            let text = why.text.clone();
            *note1.borrow_mut() = Some(why);
            return Err(git2::Error::new(
                git2::ErrorCode::Auth,
                git2::ErrorClass::Callback,
                text,
            ));
        }
        let mut n = attempts.borrow_mut();
        *n += 1;
        if *n > MAX_CREDENTIAL_ATTEMPTS {
            let text = format!("authentication failed after {MAX_CREDENTIAL_ATTEMPTS} attempts");
            *note1.borrow_mut() = Some(Why::new(text.clone(), Some(Cause::Authentication)));
            return Err(git2::Error::new(
                git2::ErrorCode::Auth,
                git2::ErrorClass::Callback,
                text,
            ));
        }
        let user = username.or(access.username.as_deref()).unwrap_or("git");
        if allowed.contains(CredentialType::SSH_KEY) {
            if let Some(key) = &access.ssh_key {
                return Cred::ssh_key_from_memory(
                    user,
                    None,
                    key,
                    access.ssh_key_passphrase.as_deref(),
                );
            }
            return Cred::ssh_key_from_agent(user);
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let (Some(u), Some(p)) = (&access.username, &access.password) {
                return Cred::userpass_plaintext(u, p);
            }
            if let Some(config) = repo.and_then(|r| r.config().ok()) {
                return Cred::credential_helper(&config, asked, username);
            }
        }
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        Cred::default()
    });
    cbs.certificate_check(move |cert, host| {
        let Some(hostkey) = cert.as_hostkey() else {
            // TLS: libgit2 checks the certificate chain itself.
            return Ok(CertificateCheckStatus::CertificatePassthrough);
        };
        match &access.host_keys {
            HostKeys::System => Ok(CertificateCheckStatus::CertificatePassthrough),
            HostKeys::Unchecked => Ok(CertificateCheckStatus::CertificateOk),
            HostKeys::Pinned(pins) => {
                let key = hostkey.hostkey().unwrap_or_default();
                if host_key_pinned(pins, host, key) {
                    Ok(CertificateCheckStatus::CertificateOk)
                } else {
                    let fpr = hostkey
                        .hash_sha256()
                        .map(|h| ssh_fingerprint(h))
                        .unwrap_or_else(|| "an unknown key".into());
                    let text = format!(
                        "the ssh host key of {host} ({fpr}) is not among the pinned known hosts"
                    );
                    *note2.borrow_mut() = Some(Why::new(text.clone(), Some(Cause::HostKey)));
                    Err(git2::Error::new(
                        git2::ErrorCode::Certificate,
                        git2::ErrorClass::Ssh,
                        text,
                    ))
                }
            }
        }
    });
    if let Some(deadline) = access.deadline {
        let note3 = note.clone();
        cbs.transfer_progress(move |_| {
            if std::time::Instant::now() < deadline {
                return true;
            }
            *note3.borrow_mut() = Some(Why::new("the time allowed for it ran out".into(), None));
            false
        });
    }
    (cbs, note)
}

/// The bound [`limit_network_waits`] set last, in milliseconds (0: none).
static NETWORK_LIMIT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The bound on each network wait, for messages.
pub fn network_limit() -> std::time::Duration {
    std::time::Duration::from_millis(NETWORK_LIMIT_MS.load(std::sync::atomic::Ordering::Relaxed))
}

/// Bounds how long libgit2 waits to connect to a server and for any one
/// read or write on a connection (it waits as long as the system lets it
/// otherwise). The setting is global to the process: call it before any
/// other thread uses libgit2.
pub fn limit_network_waits(limit: std::time::Duration) {
    let ms = std::os::raw::c_int::try_from(limit.as_millis())
        .unwrap_or(std::os::raw::c_int::MAX)
        .max(1);
    NETWORK_LIMIT_MS.store(
        u64::try_from(ms).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    // SAFETY: both only store an integer in libgit2's global options; the
    // caller runs this before other threads use libgit2, so nothing reads
    // the options at the same time.
    unsafe {
        let _ = git2::opts::set_server_connect_timeout_in_milliseconds(ms);
        let _ = git2::opts::set_server_timeout_in_milliseconds(ms);
    }
}
