//! Talking to remotes: credentials, fetching tags, and the compare-and-swap
//! push of a tag.
//!
//! A tag is pushed only if the remote still holds the value it was built
//! on. Two guards make that so: the push negotiation callback compares
//! the remote's advertised value with the expected one before anything is
//! sent, and the server itself applies the update only if the ref still
//! holds the old value the client sends with it (git's receive-pack locks
//! the ref and compares). A refused update is read from the per-ref status,
//! because libgit2 reports success for the push as a whole. libgit2's
//! local transport has no such server, so a push to a repository on this
//! machine moves the tag itself, under the ref lock (see [`push_tag_with`]).
//!
//! Credentials come from an [`Access`] (the resource's source) or, without
//! one, from the ssh agent and git's credential helpers; either way the
//! callback gives up after a few attempts, because libgit2 asks again after
//! every refusal, and it answers only requests for the scheme, host and
//! port of the URL the caller configured ([`same_origin`]).
//!
//! Redirects: a fetch, a download and a push refuse a redirect to another
//! host (`follow_redirects(RemoteRedirect::None)`; libgit2 still follows a
//! redirect within the same host name, to another path or port). Listing a
//! remote's refs ([`fetch_refs`], and the second look after a refused push)
//! goes through `git_remote_connect`, which takes no redirect setting:
//! there libgit2 follows a redirect of the first request to another host
//! (its default, `http.followRedirects=initial`, unless the repository's
//! configuration says otherwise). In every case the credential callback
//! refuses the other host, so a password or token never leaves the
//! configured host.

use crate::error::{clean, Error, Result};
use git2::{
    AutotagOption, CertificateCheckStatus, Cred, CredentialType, FetchOptions, FetchPrune,
    ObjectType, Oid, PushOptions, RemoteCallbacks, RemoteRedirect, Repository,
};
use std::cell::RefCell;
use std::fmt;

/// libgit2 loads the system's whole CA bundle when it starts, which costs
/// OpenSSL 3 tens of milliseconds on every run; work that opens no TLS
/// connection does not need it, whatever SSL_CERT_FILE says. Call before
/// anything starts threads or touches libgit2, and only on paths that
/// never open a TLS connection.
pub fn skip_ca_bundle() {
    std::env::set_var("SSL_CERT_FILE", "/dev/null");
}

/// Credential attempts before giving up (libgit2 asks again after every
/// refusal, forever, if the callback keeps answering).
const MAX_CREDENTIAL_ATTEMPTS: usize = 3;

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

/// One `known_hosts` entry: host patterns and the raw public key blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHost {
    /// Host patterns (`host`, `[host]:port`, `*.example.org`, `!bad`);
    /// empty for a hashed entry, which then matches any host.
    pub patterns: Vec<String>,
    pub key_type: String,
    pub key: Vec<u8>,
    /// A `@revoked` line: this key is refused for the hosts it names.
    pub revoked: bool,
}

/// Parses `known_hosts` text (as `ssh-keyscan` prints it). Errors name the
/// line.
pub fn parse_known_hosts(text: &str) -> std::result::Result<Vec<KnownHost>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("line {}", i + 1);
        let mut fields = line.split_whitespace().peekable();
        let mut revoked = false;
        if let Some(marker) = fields.peek().filter(|f| f.starts_with('@')) {
            match *marker {
                "@revoked" => revoked = true,
                "@cert-authority" => {
                    return Err(format!(
                    "{}: @cert-authority lines are not supported; list the host keys themselves",
                    at()
                ))
                }
                other => return Err(format!("{}: unknown marker {other}", at())),
            }
            fields.next();
        }
        let (Some(hosts), Some(key_type), Some(blob)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "{}: expected \"HOSTS KEYTYPE BASE64-KEY\" as ssh-keyscan prints it",
                at()
            ));
        };
        let key =
            base64_decode(blob).ok_or_else(|| format!("{}: the key is not valid base64", at()))?;
        // The blob starts with its own type name; a mismatch is a paste error.
        let named = key
            .split_first_chunk::<4>()
            .and_then(|(len, rest)| rest.get(..u32::from_be_bytes(*len) as usize));
        if named != Some(key_type.as_bytes()) {
            return Err(format!(
                "{}: the key does not match its type {key_type}",
                at()
            ));
        }
        let patterns = if hosts.starts_with('|') {
            Vec::new()
        } else {
            hosts.split(',').map(str::to_string).collect()
        };
        out.push(KnownHost {
            patterns,
            key_type: key_type.to_string(),
            key,
            revoked,
        });
    }
    if out.is_empty() {
        return Err("it holds no host key".into());
    }
    Ok(out)
}

impl KnownHost {
    fn names(&self, host: &str) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let hit = |p: &str| {
            let p = p
                .strip_prefix('[')
                .and_then(|p| p.split_once("]:").map(|(h, _)| h))
                .unwrap_or(p);
            crate::glob::matches(&p.to_ascii_lowercase(), &host.to_ascii_lowercase())
        };
        let negated = self
            .patterns
            .iter()
            .filter_map(|p| p.strip_prefix('!'))
            .any(hit);
        !negated
            && self
                .patterns
                .iter()
                .filter(|p| !p.starts_with('!'))
                .any(|p| hit(p))
    }
}

/// Is `key` an accepted host key of `host` under `pins`?
pub fn host_key_pinned(pins: &[KnownHost], host: &str, key: &[u8]) -> bool {
    let named = |k: &&KnownHost| k.key == key && k.names(host);
    !pins.iter().filter(|k| k.revoked).any(|k| named(&k))
        && pins.iter().filter(|k| !k.revoked).any(|k| named(&k))
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 || (text.len() % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body.as_bytes() {
        acc = (acc << 6) | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The SHA-256 fingerprint of an ssh host key the way ssh prints it
/// (`SHA256:` and unpadded base64).
pub fn ssh_fingerprint(hash: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::from("SHA256:");
    for chunk in hash.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            // Six bits index a 64-letter alphabet: `get` always finds one.
            if let Some(&c) = ALPHABET.get((n >> (18 - 6 * i) & 63) as usize) {
                out.push(c as char);
            }
        }
    }
    out
}

/// A URL fit for messages and for `.git/config`: its user info is
/// replaced by `***`.
///
/// In an http(s), git, file or any other non-ssh URL every form of user
/// info is a credential (`user:password@`, and a token given as the user
/// name, `TOKEN@`), so all of it goes. An ssh URL keeps its user name
/// (`ssh://git@host/...`, `git@host:path`): it names an account, not a
/// secret, and the key proves who connects; a password written into an ssh
/// URL is replaced.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at_checked(end).unwrap_or((rest, ""));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    if is_ssh_scheme(scheme) {
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        }
    } else {
        format!("{scheme}://***@{host}{path}")
    }
}

fn is_ssh_scheme(scheme: &str) -> bool {
    matches!(
        scheme.to_ascii_lowercase().as_str(),
        "ssh" | "git+ssh" | "ssh+git"
    )
}

/// The secret parts of the user info of `url`, as written and
/// percent-decoded: the password of `user:password@`, and the user name of
/// an http(s) or git URL without a password (a token). Empty for a URL
/// without user info and for `ssh://git@host`.
pub fn url_secrets(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or(rest);
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let mut raw = Vec::new();
    match userinfo.split_once(':') {
        Some((user, password)) => {
            raw.push(password.to_string());
            if !is_ssh_scheme(scheme) {
                raw.push(userinfo.to_string());
                raw.push(user.to_string());
            }
        }
        None if !is_ssh_scheme(scheme) => raw.push(userinfo.to_string()),
        None => {}
    }
    let mut out = Vec::new();
    for r in raw.into_iter().filter(|r| !r.is_empty()) {
        let decoded = percent_decode(r.as_bytes());
        out.push(r);
        if let Ok(d) = String::from_utf8(decoded) {
            out.push(d);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn percent_decode(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    while let Some((&b, tail)) = bytes.split_first() {
        let hex = |b: u8| (b as char).to_digit(16);
        if let (b'%', [h, l, after @ ..]) = (b, tail) {
            if let (Some(h), Some(l)) = (hex(*h), hex(*l)) {
                out.push((h * 16 + l) as u8);
                bytes = after;
                continue;
            }
        }
        out.push(b);
        bytes = tail;
    }
    out
}

/// Where a URL points: scheme, host (lower case, without brackets) and
/// port (the scheme's default when none is written). scp-like ssh URLs
/// (`[user@]host:path`) are ssh on port 22.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, authority) = match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let scheme = scheme.to_ascii_lowercase();
            let scheme = if is_ssh_scheme(&scheme) {
                "ssh".to_string()
            } else {
                scheme
            };
            (scheme, rest.get(..end).unwrap_or(rest))
        }
        None => {
            let (before, _) = url.split_once(':')?;
            if before.contains('/') {
                return None;
            }
            let host = before.rsplit('@').next().unwrap_or(before);
            return (!host.is_empty()).then(|| ("ssh".into(), host.to_ascii_lowercase(), 22));
        }
    };
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        },
    };
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        "ssh" => 22,
        "git" => 9418,
        _ => 0,
    };
    let port = match port {
        None | Some("") => default,
        Some(p) => p.parse().ok()?,
    };
    (!host.is_empty()).then(|| (scheme, host.to_ascii_lowercase(), port))
}

/// Does a credential request for `asked` go to the server `configured`
/// names: the same scheme, host and port?
pub fn same_origin(configured: &str, asked: &str) -> bool {
    match (origin(configured), origin(asked)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `host:port` of a URL, for messages.
fn host_port(url: &str) -> String {
    match origin(url) {
        Some((_, host, port)) if host.contains(':') => format!("[{host}]:{port}"),
        Some((_, host, port)) => format!("{host}:{port}"),
        None => "an unknown host".into(),
    }
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

/// Why a callback refused, kept because libgit2 replaces some callback
/// errors with its own message ("invalid or unknown remote ssh hostkey").
type Note = std::rc::Rc<RefCell<Option<String>>>;

/// The message of a libgit2 error, or the callback's own reason. A few of
/// libgit2's messages are made into sentences that say what happened.
fn reason(e: &git2::Error, note: &Note) -> String {
    if let Some(why) = note.borrow_mut().take() {
        return why;
    }
    let message = clean(e.message());
    if let Some(hosts) = message.strip_prefix("cannot redirect from ") {
        let to = hosts.rsplit(" to ").next().unwrap_or(hosts);
        return format!(
            "the server redirects to {to}, another host, and sigtag follows no redirect to another host; set the URL to the address the repository really has"
        );
    }
    if e.code() == git2::ErrorCode::Timeout || message.to_ascii_lowercase().contains("timed out") {
        return format!(
            "the server did not answer within {}",
            seconds(network_limit())
        );
    }
    message
}

/// A duration for messages: `60 s`, `2.5 s`.
pub fn seconds(d: std::time::Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

fn noted_callbacks<'a>(
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
            let why = format!(
                "{} asked for credentials (after a redirect), and sigtag gives credentials only to {}, the host and port of the configured URL; set the URL to the address the repository really has",
                host_port(asked),
                host_port(url)
            );
            *note1.borrow_mut() = Some(why.clone());
            return Err(git2::Error::new(
                git2::ErrorCode::Auth,
                git2::ErrorClass::Callback,
                why,
            ));
        }
        let mut n = attempts.borrow_mut();
        *n += 1;
        if *n > MAX_CREDENTIAL_ATTEMPTS {
            let why = format!("authentication failed after {MAX_CREDENTIAL_ATTEMPTS} attempts");
            *note1.borrow_mut() = Some(why.clone());
            return Err(git2::Error::new(
                git2::ErrorCode::Auth,
                git2::ErrorClass::Callback,
                why,
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
                    let why = format!(
                        "the ssh host key of {host} ({fpr}) is not among the pinned known hosts"
                    );
                    *note2.borrow_mut() = Some(why.clone());
                    Err(git2::Error::new(
                        git2::ErrorCode::Certificate,
                        git2::ErrorClass::Ssh,
                        why,
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
            *note3.borrow_mut() = Some("the time allowed for it ran out".into());
            false
        });
    }
    (cbs, note)
}

/// The bound [`limit_network_waits`] set last, in milliseconds (0: none).
static NETWORK_LIMIT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The bound on each network wait, for messages.
fn network_limit() -> std::time::Duration {
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

/// Fetches `refspecs` from `url` into `repo` without following tags
/// automatically; with `prune`, local refs the refspecs cover that the
/// remote no longer has are deleted. Returns how many refs changed.
///
/// Errors from talking to the remote are [`ErrorKind::Remote`]; errors of
/// the local repository are [`ErrorKind::Repo`].
///
/// [`ErrorKind::Remote`]: crate::error::ErrorKind::Remote
/// [`ErrorKind::Repo`]: crate::error::ErrorKind::Repo
pub fn fetch(
    repo: &Repository,
    url: &str,
    refspecs: &[&str],
    prune: bool,
    access: &Access,
) -> Result<usize> {
    let shown = redact_url(url);
    let mut remote = repo.remote_anonymous(url).map_err(|e| {
        Error::remote(format!(
            "{shown} is not a usable git URL: {}",
            clean(e.message())
        ))
    })?;
    let updated = std::cell::Cell::new(0usize);
    let (mut cbs, note) = noted_callbacks(Some(repo), access, url);
    cbs.update_tips(|_, _, _| {
        updated.set(updated.get() + 1);
        true
    });
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(cbs)
        .follow_redirects(RemoteRedirect::None)
        .download_tags(AutotagOption::None)
        .update_fetchhead(false)
        .prune(if prune {
            FetchPrune::On
        } else {
            FetchPrune::Off
        });
    let result = remote.fetch(refspecs, Some(&mut opts), Some("sigtag fetch"));
    drop(opts);
    result.map_err(|e| {
        classify(
            &e,
            format!("cannot fetch from {shown}: {}", reason(&e, &note)),
        )
    })?;
    Ok(updated.get())
}

/// Errors from talking to the remote are [`ErrorKind::Remote`], errors of the
/// local repository [`ErrorKind::Repo`].
///
/// [`ErrorKind::Remote`]: crate::error::ErrorKind::Remote
/// [`ErrorKind::Repo`]: crate::error::ErrorKind::Repo
fn classify(e: &git2::Error, message: String) -> Error {
    use git2::{ErrorClass, ErrorCode};
    let transport = matches!(
        e.class(),
        ErrorClass::Net
            | ErrorClass::Ssh
            | ErrorClass::Http
            | ErrorClass::Ssl
            | ErrorClass::Callback
    ) || matches!(e.code(), ErrorCode::Auth | ErrorCode::Certificate);
    if transport {
        Error::remote(message)
    } else {
        Error::repo(message)
    }
}

/// The path of a `file://` URL, if it is one.
pub fn local_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("file://")?;
    if !rest.starts_with('/') {
        return None;
    }
    // Undo percent-encoding (%20 and friends).
    let out = percent_decode(rest.as_bytes());
    use std::os::unix::ffi::OsStringExt;
    Some(std::ffi::OsString::from_vec(out).into())
}

fn list_local(url: &str, path: &std::path::Path, prefix: &str) -> Result<Vec<(String, Oid)>> {
    let shown = redact_url(url);
    let remote = Repository::open(path)
        .map_err(|e| Error::remote(format!("cannot read {shown}: {}", clean(e.message()))))?;
    let refs = remote.references_glob(&format!("{prefix}*")).map_err(|e| {
        Error::remote(format!(
            "cannot list the refs of {shown}: {}",
            clean(e.message())
        ))
    })?;
    let mut out = Vec::new();
    for r in refs.flatten() {
        let Some(name) = r.name().ok().map(str::to_string) else {
            continue;
        };
        if let Some(oid) = r
            .target()
            .or_else(|| r.resolve().ok().and_then(|r| r.target()))
        {
            out.push((name, oid));
        }
    }
    out.sort();
    Ok(out)
}

/// Brings the objects of every ref under `prefix` (e.g. `refs/tags/`)
/// into `repo` and returns those refs as `url` advertises them, sorted,
/// without the peeled `^{}` entries; or `None` when the advertisement
/// equals `known` (then nothing is downloaded). No ref of `repo` is
/// written: the caller decides what to do with the list.
///
/// One connection serves the listing and the download, so the objects
/// match the list. A `file://` repository is listed directly (libgit2's
/// local transport peels every tag to advertise it, which is slow with
/// many tags), and nothing is copied when `repo` already sees its objects
/// (through `objects/info/alternates`).
pub fn fetch_refs(
    repo: &Repository,
    url: &str,
    prefix: &str,
    known: &[(String, Oid)],
    access: &Access,
) -> Result<Option<Vec<(String, Oid)>>> {
    let shown = redact_url(url);
    if let Some(path) = local_path(url) {
        let list = list_local(url, &path, prefix)?;
        if list == known {
            return Ok(None);
        }
        let odb = repo
            .odb()
            .map_err(|e| Error::repo(format!("cannot read the cache: {}", clean(e.message()))))?;
        if list.iter().all(|(_, oid)| odb.exists(*oid)) {
            return Ok(Some(list));
        }
    }
    let mut remote = repo.remote_anonymous(url).map_err(|e| {
        Error::remote(format!(
            "{shown} is not a usable git URL: {}",
            clean(e.message())
        ))
    })?;
    let (cbs, note) = noted_callbacks(Some(repo), access, url);
    let mut connection = remote
        .connect_auth(git2::Direction::Fetch, Some(cbs), None)
        .map_err(|e| Error::remote(format!("cannot reach {shown}: {}", reason(&e, &note))))?;
    let mut list: Vec<(String, Oid)> = connection
        .list()
        .map_err(|e| {
            Error::remote(format!(
                "cannot list the refs of {shown}: {}",
                reason(&e, &note)
            ))
        })?
        .iter()
        .filter(|h| h.name().starts_with(prefix) && !h.name().ends_with("^{}"))
        .map(|h| (h.name().to_string(), h.oid()))
        .collect();
    list.sort();
    if list == known {
        return Ok(None);
    }
    let (cbs, note) = noted_callbacks(Some(repo), access, url);
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(cbs)
        .follow_redirects(RemoteRedirect::None)
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    // A download alone writes no ref (that would be update_tips).
    let spec = format!("+{prefix}*:{prefix}*");
    connection
        .remote()
        .download(&[spec.as_str()], Some(&mut opts))
        .map_err(|e| {
            classify(
                &e,
                format!("cannot fetch from {shown}: {}", reason(&e, &note)),
            )
        })?;
    Ok(Some(list))
}

/// Pushes `refs/tags/NAME` (which must already point at the new value
/// locally) to `remote`, only if the remote's tag is still `expected`
/// (`None`: the remote must not have the tag).
pub fn push_tag(repo: &Repository, remote: &str, name: &str, expected: Option<Oid>) -> Result<()> {
    push_tag_with(repo, remote, name, expected, &Access::default())
}

/// The path of a remote on this machine: a `file://` URL or an absolute
/// path.
fn local_repo_path(url: &str) -> Option<std::path::PathBuf> {
    local_path(url).or_else(|| url.starts_with('/').then(|| url.into()))
}

/// The error of a compare-and-swap that found another value.
fn changed_error(name: &str, remote: &str, expected: Option<Oid>, current: Option<Oid>) -> Error {
    let refname = format!("refs/tags/{name}");
    let what = match current {
        None => "was deleted".to_string(),
        Some(c) if expected.is_none() => format!("already exists there ({c})"),
        Some(c) => format!("now points at {c}"),
    };
    Error::remote(format!(
        "tag {name} changed on {remote} since it was read: it {what}; fetch it (git fetch {remote} +{refname}:{refname}) and sign again"
    ))
}

/// Copies `top` and every object it reaches that `to` lacks from `from`
/// into `to`. An object `to` already has is taken to come with everything
/// it reaches, as git's connectivity rule says; submodule commits are not
/// followed.
fn copy_objects(
    from: &Repository,
    to: &Repository,
    top: Oid,
) -> std::result::Result<(), git2::Error> {
    let (src, dst) = (from.odb()?, to.odb()?);
    let mut todo = vec![top];
    while let Some(oid) = todo.pop() {
        if dst.exists(oid) {
            continue;
        }
        let object = src.read(oid)?;
        match object.kind() {
            ObjectType::Tag => todo.push(from.find_tag(oid)?.target_id()),
            ObjectType::Commit => {
                let commit = from.find_commit(oid)?;
                todo.push(commit.tree_id());
                todo.extend(commit.parent_ids());
            }
            ObjectType::Tree => todo.extend(
                from.find_tree(oid)?
                    .iter()
                    .filter(|e| e.kind() != Some(ObjectType::Commit))
                    .map(|e| e.id()),
            ),
            _ => {}
        }
        dst.write(object.kind(), object.data())?;
    }
    Ok(())
}

/// How often, and how long each time, a push to a repository on this
/// machine waits for another process's lock on the tag: a second in all.
const LOCK_WAITS: u32 = 100;
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

/// Pushing to a repository on this machine. libgit2's local transport
/// overwrites the remote ref without comparing it with the value it was
/// built on, so the objects the remote lacks are copied into its object
/// database (no ref names them yet, so nobody sees them), and the tag is
/// then moved in the remote repository with a compare-and-swap under git's
/// ref lock, the same guarantee receive-pack gives.
fn push_tag_local(
    repo: &Repository,
    path: &std::path::Path,
    remote: &str,
    name: &str,
    expected: Option<Oid>,
) -> Result<()> {
    let refname = format!("refs/tags/{name}");
    let new = repo
        .refname_to_id(&refname)
        .map_err(|e| Error::repo(format!("cannot read {refname}: {}", clean(e.message()))))?;
    let target = Repository::open(path)
        .map_err(|e| Error::remote(format!("cannot open {remote}: {}", clean(e.message()))))?;
    copy_objects(repo, &target, new).map_err(|e| {
        Error::remote(format!(
            "cannot push {name} to {remote}: {}",
            clean(e.message())
        ))
    })?;
    // Another process holding the ref's lock is about to move it or give
    // up; wait for it a moment, as git does (core.filesRefLockTimeout), so
    // that the answer is about the value, not about the lock.
    let mut waits = 0;
    let swapped = loop {
        let attempt = match expected {
            Some(old) => target.reference_matching(&refname, new, true, old, "sigtag push"),
            None => target.reference(&refname, new, false, "sigtag push"),
        };
        match attempt {
            Err(e) if e.code() == git2::ErrorCode::Locked && waits < LOCK_WAITS => {
                waits += 1;
                std::thread::sleep(LOCK_WAIT);
            }
            other => break other,
        }
    };
    match swapped {
        Ok(_) => Ok(()),
        Err(e) => {
            let current = target.refname_to_id(&refname).ok();
            if current != expected {
                Err(changed_error(name, remote, expected, current))
            } else {
                Err(Error::remote(format!(
                    "{remote} refused the update of {refname}: {}; fetch the tag and sign again",
                    clean(e.message())
                )))
            }
        }
    }
}

/// [`push_tag`] with explicit credentials.
pub fn push_tag_with(
    repo: &Repository,
    remote: &str,
    name: &str,
    expected: Option<Oid>,
    access: &Access,
) -> Result<()> {
    let refname = format!("refs/tags/{name}");
    let mut handle = repo
        .find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))
        .map_err(|e| {
            Error::remote(format!(
                "no remote named {}: {}",
                redact_url(remote),
                clean(e.message())
            ))
        })?;
    let shown = redact_url(remote);
    let remote = shown.as_str();
    if let Some(path) = handle.url().ok().and_then(local_repo_path) {
        return push_tag_local(repo, &path, remote, name, expected);
    }

    let changed: RefCell<Option<Oid>> = RefCell::new(None);
    let refused: RefCell<Option<String>> = RefCell::new(None);
    // Credentials go where the push goes: the push URL when the remote
    // has one.
    let url = handle
        .pushurl()
        .ok()
        .flatten()
        .or_else(|| handle.url().ok())
        .unwrap_or_default()
        .to_string();
    let (mut cbs, note) = noted_callbacks(Some(repo), access, &url);
    cbs.push_negotiation(|updates| {
        for u in updates {
            if u.dst_refname().ok() == Some(refname.as_str()) {
                let current = u.src();
                let want = expected.unwrap_or(Oid::ZERO_SHA1);
                if current != want {
                    *changed.borrow_mut() = Some(current);
                    return Err(git2::Error::from_str("the remote tag changed"));
                }
            }
        }
        Ok(())
    });
    cbs.push_update_reference(|r, status| {
        if let Some(s) = status {
            *refused.borrow_mut() = Some(format!("{r}: {s}"));
        }
        Ok(())
    });
    let mut opts = PushOptions::new();
    opts.remote_callbacks(cbs)
        .follow_redirects(RemoteRedirect::None);
    let spec = format!("+{refname}:{refname}");
    let result = handle.push(&[spec.as_str()], Some(&mut opts));
    drop(opts);

    if let Some(current) = changed.into_inner() {
        let current = (!current.is_zero()).then_some(current);
        return Err(changed_error(name, remote, expected, current));
    }
    result.map_err(|e| {
        Error::remote(format!(
            "cannot push {name} to {remote}: {}",
            reason(&e, &note)
        ))
    })?;
    if let Some(why) = refused.into_inner() {
        // The server compares the tag with the value the push was built on
        // under its lock; when another push got there first, say so.
        if let Some(current) = advertised(&mut handle, &refname, access) {
            if current != expected {
                return Err(changed_error(name, remote, expected, current));
            }
        }
        return Err(Error::remote(format!(
            "{remote} refused the update of {why}; fetch the tag and sign again"
        )));
    }
    Ok(())
}

/// The value a remote advertises for `refname` now (`Some(None)`: it has no
/// such ref), or `None` when the remote cannot be listed.
fn advertised(
    handle: &mut git2::Remote<'_>,
    refname: &str,
    access: &Access,
) -> Option<Option<Oid>> {
    let url = handle.url().ok()?.to_string();
    let (cbs, _) = noted_callbacks(None, access, &url);
    let connection = handle
        .connect_auth(git2::Direction::Fetch, Some(cbs), None)
        .ok()?;
    let heads = connection.list().ok()?;
    Some(heads.iter().find(|h| h.name() == refname).map(|h| h.oid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFTog45rBMatLGvrYZWakm1LGqxzVEy8LA79zLvs0Q55";

    #[test]
    fn known_hosts() {
        let text = format!(
            "# pinned\n[127.0.0.1]:2222 ssh-ed25519 {KEY}\n\ngit.example.org,*.example.net ssh-ed25519 {KEY} comment\n"
        );
        let pins = parse_known_hosts(&text).unwrap();
        assert_eq!(pins.len(), 2);
        let key = base64_decode(KEY).unwrap();
        assert_eq!(&key[4..15], b"ssh-ed25519");
        assert!(host_key_pinned(&pins, "127.0.0.1", &key));
        assert!(host_key_pinned(&pins, "git.example.org", &key));
        assert!(host_key_pinned(&pins, "a.example.net", &key));
        assert!(!host_key_pinned(&pins, "example.com", &key));
        assert!(!host_key_pinned(&pins, "127.0.0.1", &key[1..]));

        let revoked = format!("{text}@revoked * ssh-ed25519 {KEY}\n");
        let pins = parse_known_hosts(&revoked).unwrap();
        assert!(!host_key_pinned(&pins, "127.0.0.1", &key));

        let hashed = format!("|1|c2FsdA==|aGFzaA== ssh-ed25519 {KEY}\n");
        let pins = parse_known_hosts(&hashed).unwrap();
        assert!(host_key_pinned(&pins, "anything", &key));

        assert!(parse_known_hosts("").is_err());
        assert!(parse_known_hosts("host ssh-ed25519").is_err());
        assert!(parse_known_hosts("host ssh-ed25519 !!!!").is_err());
        assert!(parse_known_hosts(&format!("host ssh-rsa {KEY}")).is_err());
        assert!(parse_known_hosts(&format!("@cert-authority * ssh-ed25519 {KEY}")).is_err());
    }

    #[test]
    fn fingerprints_as_ssh_prints_them() {
        let hash: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"99d9bf9f07fa496ca2d9cac02a0072602588c7a068f697abbdb33631d21931dd"
                        [2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        assert_eq!(
            ssh_fingerprint(&hash),
            "SHA256:mdm/nwf6SWyi2crAKgByYCWIx6Bo9pervbM2MdIZMd0"
        );
    }

    #[test]
    fn urls() {
        for (url, shown) in [
            (
                "https://ci:s3cret@example.org/app.git",
                "https://***@example.org/app.git",
            ),
            (
                "https://ghp_T0KEN@example.org/app.git",
                "https://***@example.org/app.git",
            ),
            ("http://T0KEN:@example.org", "http://***@example.org"),
            (
                "git://T0KEN@example.org/app.git",
                "git://***@example.org/app.git",
            ),
            (
                "HTTPS://a%40b:p%2Fw@example.org?x@y",
                "HTTPS://***@example.org?x@y",
            ),
            ("ftp://alice:s3cret@example.org/", "ftp://***@example.org/"),
            ("https://example.org/a@b.git", "https://example.org/a@b.git"),
            (
                "ssh://git@example.org/app.git",
                "ssh://git@example.org/app.git",
            ),
            (
                "ssh://git:s3cret@example.org/app.git",
                "ssh://git:***@example.org/app.git",
            ),
            ("git@example.org:app.git", "git@example.org:app.git"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        assert_eq!(
            url_secrets("https://ci:p%2Fw@example.org/app.git"),
            ["ci", "ci:p%2Fw", "ci:p/w", "p%2Fw", "p/w"]
        );
        assert_eq!(url_secrets("https://T0KEN@example.org/app.git"), ["T0KEN"]);
        assert!(url_secrets("ssh://git@example.org/app.git").is_empty());
        assert_eq!(url_secrets("ssh://git:pw@example.org/app.git"), ["pw"]);
        assert!(url_secrets("https://example.org/a@b").is_empty());
        assert_eq!(
            local_path("file:///srv/my%20app.git"),
            Some("/srv/my app.git".into())
        );
        assert_eq!(local_path("file://srv/app.git"), None);

        // Credentials go to the configured scheme, host and port only.
        for (configured, asked) in [
            (
                "http://127.0.0.1:8080/app.git",
                "http://127.0.0.1:8080/app.git",
            ),
            (
                "https://Example.org/app.git",
                "https://example.org:443/other",
            ),
            (
                "https://ci@example.org/app.git",
                "https://example.org/app.git",
            ),
            (
                "ssh://git@example.org/app.git",
                "ssh://example.org:22/app.git",
            ),
            ("git@example.org:app.git", "ssh://git@example.org/app.git"),
            ("http://[::1]:80/app.git", "http://[::1]/x"),
        ] {
            assert!(same_origin(configured, asked), "{configured} {asked}");
        }
        for (configured, asked) in [
            (
                "http://127.0.0.1:8080/app.git",
                "http://localhost:8080/app.git",
            ),
            (
                "http://127.0.0.1:8080/app.git",
                "http://127.0.0.1:8081/app.git",
            ),
            ("http://example.org/app.git", "https://example.org/app.git"),
            (
                "https://example.org/app.git",
                "https://example.org.evil/app.git",
            ),
            (
                "https://example.org/app.git",
                "https://evil@example.org:444/",
            ),
            (
                "ssh://git@example.org:2222/app.git",
                "ssh://example.org/app.git",
            ),
            ("https://example.org/app.git", "not a url"),
            ("origin", "https://example.org/app.git"),
        ] {
            assert!(!same_origin(configured, asked), "{configured} {asked}");
        }
        assert_eq!(local_path("https://example.org/app.git"), None);
    }
}
