//! The request Concourse writes on stdin, validated completely before any
//! network access: every mistake is one sentence naming the field to fix.
//!
//! ```json
//! {"source": {...}, "version": {"tag": "v1.4.0", "commit": "<40 hex>"}, "params": {...}}
//! ```
//!
//! `source` is strict (unknown fields are refused); its trust root is built
//! and checked by [`Trust::build`] like a keys directory.

use crate::error::{Context as _, Error, ErrorKind, Result};
use crate::remote::{self, Access, HostKeys};
use crate::rule::Rule;
use crate::trust::{CertSource, Trust};
use openpgp::types::HashAlgorithm;
use sequoia_openpgp as openpgp;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The name of the one environment of a resource's trust root.
pub const ENVIRONMENT: &str = "source";

pub use crate::limits::{
    DEFAULT_CHECK_TIMEOUT, DEFAULT_NETWORK_TIMEOUT, MAX_CHECK_TIMEOUT_SECS,
    MAX_NETWORK_TIMEOUT_SECS, MAX_REQUEST, MIN_HIDDEN,
};

/// The fields `source` accepts.
pub const SOURCE_FIELDS: &[&str] = &[
    "uri",
    "private_key",
    "private_key_passphrase",
    "username",
    "password",
    "known_hosts",
    "tag_filter",
    "signers",
    "groups",
    "require",
    "signing_key",
    "check_timeout",
    "network_timeout",
    "insecure_skip_host_key_check",
    "insecure_http_credentials",
];

/// A string that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A version: a tag and the commit it verified on. Only these two strings,
/// so a co-signature (a new outer layer) is not a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    pub tag: String,
    pub commit: String,
}

/// The validated `source`.
#[derive(Debug)]
pub struct Source {
    pub uri: String,
    pub access: Access,
    pub tag_filter: Option<String>,
    pub trust: Trust,
    pub rule: Rule,
    pub signing_key: Option<Secret>,
    /// The longest a check may take (`source.check_timeout`).
    pub check_timeout: Duration,
    /// The longest any one network wait may take, in every step
    /// (`source.network_timeout`).
    pub network_timeout: Duration,
    /// `source.insecure_skip_host_key_check`: an ssh server's host key is
    /// not checked (only ever with an ssh URI and without known_hosts).
    pub insecure_skip_host_key_check: bool,
    /// `source.insecure_http_credentials`: credentials may go over plain
    /// http:// (only ever with an http:// URI that has some).
    pub insecure_http_credentials: bool,
    /// Hex SHA-256 of the trust configuration (certificate bytes, groups,
    /// rule) and of this verifier's version: the verdict cache's key.
    pub digest: String,
}

impl Source {
    /// Is the URI an ssh one (`ssh://` or scp-like)?
    pub fn is_ssh(&self) -> bool {
        uri_kind(&self.uri) == Some(UriKind::Ssh)
    }

    /// Does the URI use TLS (https)?
    pub fn uses_tls(&self) -> bool {
        self.uri.to_ascii_lowercase().starts_with("https://")
    }

    /// Does a tag name pass `tag_filter`?
    pub fn wants(&self, tag: &str) -> bool {
        self.tag_filter
            .as_deref()
            .is_none_or(|f| crate::glob::matches(f, tag))
    }

    /// The URI as it may be shown or stored: without a password.
    pub fn shown_uri(&self) -> String {
        remote::redact_url(&self.uri)
    }

    /// Parses and checks a rule against the source's groups.
    pub fn parse_rule(&self, text: &str, field: &str) -> Result<Rule> {
        parse_rule(text, field, self.trust.groups())
    }
}

/// The whole request.
#[derive(Debug)]
pub struct Request {
    pub source: Source,
    pub version: Option<Version>,
    pub params: Map<String, Value>,
}

/// Parses stdin. `version` is validated when present and not null.
pub fn parse(input: &[u8]) -> Result<Request> {
    if input.len() > MAX_REQUEST {
        return Err(Error::usage(format!(
            "the request on stdin is larger than {}; Concourse sends one small JSON object",
            crate::limits::size_words(MAX_REQUEST as u64)
        )));
    }
    let text = std::str::from_utf8(input).map_err(|_| {
        Error::usage("the request on stdin is not UTF-8 text; it must be one JSON object")
    })?;
    if text.trim().is_empty() {
        return Err(Error::usage(
            "the request on stdin is empty; it must be one JSON object with a \"source\"",
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::usage(format!(
            "the request on stdin is not valid JSON (line {}, column {}: {})",
            e.line(),
            e.column(),
            json_reason(&e)
        ))
    })?;
    let Value::Object(mut top) = value else {
        return Err(Error::usage(format!(
            "the request on stdin is a JSON {}, not an object with a \"source\"",
            type_name(&value)
        )));
    };
    // Before anything can fail on them: the log never shows these.
    super::hide_in_log(secrets_in(&top));
    for key in top.keys() {
        if !["source", "version", "params"].contains(&key.as_str()) {
            return Err(Error::usage(format!(
                "the request has an unknown field \"{}\"; it holds only source, version and params",
                shown(key)
            )));
        }
    }
    let source = match top.remove("source") {
        Some(Value::Object(map)) => parse_source(map)?,
        None | Some(Value::Null) => {
            return Err(Error::config(
                "the request has no source; configure the resource's source (uri, signers, groups, require)",
            ))
        }
        Some(other) => {
            return Err(Error::config(format!(
                "source must be an object, not a {}",
                type_name(&other)
            )))
        }
    };
    let version = match top.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_version(&v, "version")?),
    };
    let params = match top.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(Error::config(format!(
                "params must be an object, not a {}",
                type_name(&other)
            )))
        }
    };
    Ok(Request {
        source,
        version,
        params,
    })
}

/// Every secret a request holds, as the log must never show it: the
/// password, the secret parts of the uri's user info, the ssh key and its
/// passphrase, the signing keys (whole, and each line of them).
pub fn secrets_in(top: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let field = |section: &str, key: &str| -> Option<String> {
        top.get(section)?.get(key)?.as_str().map(str::to_string)
    };
    if let Some(uri) = field("source", "uri") {
        out.extend(remote::url_secrets(&uri));
    }
    for (section, key) in [
        ("source", "password"),
        ("source", "private_key_passphrase"),
        ("source", "private_key"),
        ("source", "signing_key"),
        ("params", "signing_key"),
    ] {
        if let Some(value) = field(section, key) {
            out.extend(
                value
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
                    .map(str::to_string),
            );
            out.push(value.trim().to_string());
            out.push(value);
        }
    }
    out.retain(|s| s.chars().count() >= MIN_HIDDEN);
    // Longest first, so that a secret is hidden whole, not piece by piece.
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

fn json_reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; the line and column are
    // already in the sentence.
    if let Some((sentence, _)) = msg.rsplit_once(" at line ") {
        return sentence.to_string();
    }
    msg
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A value fit for a message: printable, at most 64 characters.
pub fn shown(s: &str) -> String {
    let printable: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if printable.chars().count() > 64 {
        let cut: String = printable.chars().take(61).collect();
        format!("{cut}...")
    } else {
        printable
    }
}

/// The field name closest to an unknown one, for "did you mean".
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            // row[j] is the distance from a[..i] to b[..j]: `diag` and `up`
            // are the old row's row[j] and row[j + 1], `left` the new row[j].
            let mut next = Vec::with_capacity(row.len());
            let mut left = i + 1;
            next.push(left);
            for ((cb, &diag), &up) in b.iter().zip(&row).zip(row.iter().skip(1)) {
                left = (diag + usize::from(ca != *cb)).min(left + 1).min(up + 1);
                next.push(left);
            }
            row = next;
        }
        row.last().copied().unwrap_or_default()
    }
    known
        .iter()
        .map(|k| (distance(&name.to_ascii_lowercase(), k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Refuses fields outside `known`, naming the closest known one.
pub fn deny_unknown(map: &Map<String, Value>, known: &[&str], what: &str) -> Result<()> {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            let hint = match closest(key, known) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None if known.is_empty() => "it takes none".to_string(),
                None => format!("{what} accepts {}", known.join(", ")),
            };
            return Err(Error::config(format!(
                "{what} has an unknown field \"{}\"; {hint}",
                shown(key)
            )));
        }
    }
    Ok(())
}

/// A string field: absent and null are `None`, an empty string is refused.
pub fn opt_string(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(Error::config(format!(
            "{field} is empty; set it or leave it out"
        ))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::config(format!(
            "{field} must be a string, not a {}",
            type_name(other)
        ))),
    }
}

fn req_string(map: &Map<String, Value>, key: &str, field: &str, hint: &str) -> Result<String> {
    opt_string(map, key, field)?.ok_or_else(|| Error::config(format!("{field} is missing; {hint}")))
}

/// `{"tag": NAME, "commit": HEX}` and nothing else.
pub fn parse_version(v: &Value, field: &str) -> Result<Version> {
    let bad = |why: String| {
        Error::config(format!(
            "{field} {why}; a version is {{\"tag\": NAME, \"commit\": 40-hex}}"
        ))
    };
    let Value::Object(map) = v else {
        return Err(bad(format!("is a {}", type_name(v))));
    };
    for key in map.keys() {
        if key != "tag" && key != "commit" {
            return Err(bad(format!("has an unknown field \"{}\"", shown(key))));
        }
    }
    let get = |k: &str| match map.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(bad(format!("has no \"{k}\""))),
        Some(other) => Err(bad(format!("has a {} as \"{k}\"", type_name(other)))),
    };
    let tag = get("tag")?;
    let commit = get("commit")?;
    if !valid_tag_name(&tag) {
        return Err(bad(format!(
            "names \"{}\", which is not a tag name",
            shown(&tag)
        )));
    }
    if !is_object_id(&commit) {
        return Err(bad(format!(
            "has \"{}\" as commit, which is not an object id",
            shown(&commit)
        )));
    }
    Ok(Version { tag, commit })
}

/// Lower-case hex of a SHA-1 or SHA-256 object id.
pub fn is_object_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Can `refs/tags/NAME` exist? git's rules (`git check-ref-format`),
/// checked without libgit2 so that parsing the request starts nothing.
pub fn valid_tag_name(name: &str) -> bool {
    let bad_char = |c: char| {
        c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    !name.is_empty()
        && name.len() <= 1024
        && !name.starts_with('-')
        && name != "@"
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && !name.chars().any(bad_char)
        && name
            .split('/')
            .all(|c| !c.is_empty() && !c.starts_with('.') && !c.ends_with(".lock"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriKind {
    Ssh,
    Http,
    Git,
    File,
}

/// What transport a URI uses; `None` when it is not a git URL sigtag
/// accepts.
pub fn uri_kind(uri: &str) -> Option<UriKind> {
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    if let Some((scheme, rest)) = uri.split_once("://") {
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "ssh" | "git+ssh" | "ssh+git" => UriKind::Ssh,
            "http" | "https" => UriKind::Http,
            "git" => UriKind::Git,
            "file" => UriKind::File,
            _ => return None,
        };
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or("");
        if kind == UriKind::File {
            return rest.starts_with('/').then_some(kind);
        }
        if host.is_empty() || rest.len() <= host.len() + 1 {
            return None;
        }
        return Some(kind);
    }
    // scp-like: [user@]host:path, no slash before the colon.
    let (before, path) = uri.split_once(':')?;
    let host = before.rsplit('@').next().unwrap_or("");
    if host.is_empty() || before.contains('/') || path.is_empty() {
        return None;
    }
    Some(UriKind::Ssh)
}

fn string_map(map: &Map<String, Value>, key: &str) -> Result<Map<String, Value>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(Error::config(format!(
            "source.{key} must be an object, not a {}",
            type_name(other)
        ))),
    }
}

fn parse_source(map: Map<String, Value>) -> Result<Source> {
    deny_unknown(&map, SOURCE_FIELDS, "source")?;

    let uri = req_string(
        &map,
        "uri",
        "source.uri",
        "set it to the repository's git URL",
    )?;
    let Some(kind) = uri_kind(&uri) else {
        return Err(Error::config(format!(
            "source.uri \"{}\" is not a git URL sigtag can use; use https://, ssh://, git@host:path, git:// or file:///absolute/path",
            shown(&remote::redact_url(&uri))
        )));
    };

    let private_key = opt_string(&map, "private_key", "source.private_key")?;
    let passphrase = opt_string(
        &map,
        "private_key_passphrase",
        "source.private_key_passphrase",
    )?;
    let username = opt_string(&map, "username", "source.username")?;
    let password = opt_string(&map, "password", "source.password")?;
    let known_hosts = opt_string(&map, "known_hosts", "source.known_hosts")?;
    if let Some(key) = &private_key {
        if kind != UriKind::Ssh {
            return Err(Error::config(
                "source.private_key is set but source.uri is not an ssh URL; use ssh:// or git@host:path, or remove private_key",
            ));
        }
        if !(key.contains("-----BEGIN ") && key.contains("PRIVATE KEY-----")) {
            return Err(Error::config(
                "source.private_key is not an ssh private key; paste the whole key, from -----BEGIN OPENSSH PRIVATE KEY----- to its END line",
            ));
        }
    }
    if passphrase.is_some() && private_key.is_none() {
        return Err(Error::config(
            "source.private_key_passphrase is set without source.private_key",
        ));
    }
    if username.is_some() != password.is_some() {
        return Err(Error::config(
            "source.username and source.password go together; set both or neither",
        ));
    }
    if username.is_some() && kind != UriKind::Http {
        return Err(Error::config(
            "source.username and source.password are for https:// URLs; for ssh use source.private_key",
        ));
    }
    let skip_host_key_check = opt_bool(&map, "insecure_skip_host_key_check")?;
    let host_keys = match &known_hosts {
        Some(text) => {
            if kind != UriKind::Ssh {
                return Err(Error::config(
                    "source.known_hosts is set but source.uri is not an ssh URL",
                ));
            }
            if skip_host_key_check {
                return Err(Error::config(
                    "source.insecure_skip_host_key_check is true but source.known_hosts is set; keep known_hosts and remove insecure_skip_host_key_check",
                ));
            }
            HostKeys::Pinned(remote::parse_known_hosts(text).map_err(|why| {
                Error::config(format!(
                    "source.known_hosts: {why}; paste the output of ssh-keyscan HOST"
                ))
            })?)
        }
        None if kind != UriKind::Ssh => {
            if skip_host_key_check {
                return Err(Error::config(
                    "source.insecure_skip_host_key_check is set but source.uri is not an ssh URL; remove it",
                ));
            }
            HostKeys::Unchecked
        }
        // Without a pinned key anybody between the worker and the server
        // could pose as the server and withhold or replay tags: refused
        // unless the source says so in so many words.
        None if skip_host_key_check => HostKeys::Unchecked,
        None => {
            return Err(Error::config(format!(
                "source.known_hosts is not set, so the host key of the ssh server could not be checked; set source.known_hosts to the output of ssh-keyscan{} {}, or set source.insecure_skip_host_key_check: true",
                ssh_port(&uri).map(|p| format!(" -p {p}")).unwrap_or_default(),
                shown(&ssh_host(&uri)),
            )))
        }
    };

    // A password (or a token in the uri) over plain http:// is readable by
    // anybody on the way.
    let http_credentials = opt_bool(&map, "insecure_http_credentials")?;
    let plain_http = uri.to_ascii_lowercase().starts_with("http://");
    if http_credentials && !plain_http {
        return Err(Error::config(
            "source.insecure_http_credentials is set but source.uri is not an http:// URL; remove it",
        ));
    }
    if plain_http && !http_credentials {
        let secret_in_uri = uri
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
            .is_some_and(|authority| authority.contains('@'));
        if password.is_some() || secret_in_uri {
            let what = if password.is_some() {
                "source.password"
            } else {
                "the user info in source.uri"
            };
            return Err(Error::config(format!(
                "{what} would go over plain http://, where anybody on the way can read it; use an https:// uri, or set source.insecure_http_credentials: true"
            )));
        }
    }

    let tag_filter = opt_string(&map, "tag_filter", "source.tag_filter")?;

    // The trust root: signers, groups, rule.
    let signers = string_map(&map, "signers")?;
    if signers.is_empty() {
        return Err(Error::config(
            "source.signers is missing or empty; map each signer's name to its armored public certificate",
        ));
    }
    let mut sources = Vec::new();
    for (name, value) in &signers {
        let field = format!("source.signers.{}", shown(name));
        let Value::String(text) = value else {
            return Err(Error::config(format!(
                "{field} must be a string holding an armored public certificate, not a {}",
                type_name(value)
            )));
        };
        if text.trim().is_empty() {
            return Err(Error::config(format!(
                "{field} is empty; paste the output of gpg --armor --export FINGERPRINT"
            )));
        }
        sources.push(CertSource {
            name: name.clone(),
            origin: field,
            bytes: text.as_bytes().to_vec(),
        });
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (group, value) in string_map(&map, "groups")? {
        let field = format!("source.groups.{}", shown(&group));
        let Value::Array(items) = value else {
            return Err(Error::config(format!(
                "{field} must be a list of signer names, not a {}",
                type_name(&value)
            )));
        };
        let mut members = Vec::new();
        for item in items {
            let Value::String(member) = item else {
                return Err(Error::config(format!(
                    "{field} must list signer names as strings, not a {}",
                    type_name(&item)
                )));
            };
            if !signers.contains_key(&member) {
                return Err(Error::config(format!(
                    "{field} names \"{}\", who is not in source.signers; add their certificate to source.signers or remove them from the group",
                    shown(&member)
                )));
            }
            if members.contains(&member) {
                return Err(Error::config(format!(
                    "{field} lists \"{}\" twice",
                    shown(&member)
                )));
            }
            members.push(member);
        }
        groups.insert(group, members);
    }
    let require = req_string(
        &map,
        "require",
        "source.require",
        "set the rule a tag must meet, e.g. \"2 of humans\"",
    )?;
    parse_rule(&require, "source.require", &groups)?;
    let signing_key = opt_string(&map, "signing_key", "source.signing_key")?;
    if let Some(key) = &signing_key {
        check_secret_key(key, "source.signing_key")?;
    }
    let check_timeout = seconds_field(
        map.get("check_timeout"),
        "source.check_timeout",
        DEFAULT_CHECK_TIMEOUT,
        MAX_CHECK_TIMEOUT_SECS,
        300,
    )?;
    let network_timeout = seconds_field(
        map.get("network_timeout"),
        "source.network_timeout",
        DEFAULT_NETWORK_TIMEOUT,
        MAX_NETWORK_TIMEOUT_SECS,
        60,
    )?;

    let digest = trust_digest(&sources, &groups, &require)?;
    let environments = BTreeMap::from([(ENVIRONMENT.to_string(), require)]);
    let trust = Trust::build(sources, groups, environments, "source")?;
    let rule = trust.rule_for(ENVIRONMENT)?.clone();

    Ok(Source {
        uri,
        access: Access {
            ssh_key: private_key,
            ssh_key_passphrase: passphrase,
            username,
            password,
            host_keys,
            deadline: None,
            url_name: Some("source.uri"),
        },
        tag_filter,
        trust,
        rule,
        signing_key: signing_key.map(Secret),
        check_timeout,
        network_timeout,
        insecure_skip_host_key_check: skip_host_key_check,
        insecure_http_credentials: http_credentials,
        digest,
    })
}

/// A number of seconds (`source.check_timeout`, `source.network_timeout`):
/// more than 0 and at most `max`; fractions are allowed.
fn seconds_field(
    value: Option<&Value>,
    field: &str,
    default: Duration,
    max: u64,
    example: u64,
) -> Result<Duration> {
    let out_of_range = || {
        Error::config(format!(
            "{field} must be a number of seconds above 0 and at most {max} (a day)"
        ))
    };
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs > 0.0 && secs <= max as f64 => {
                Duration::try_from_secs_f64(secs).map_err(|_| out_of_range())
            }
            _ => Err(out_of_range()),
        },
        Some(other) => Err(Error::config(format!(
            "{field} must be a number of seconds, like {example}, not a {}",
            type_name(other)
        ))),
    }
}

/// A boolean field: absent and null are false.
fn opt_bool(map: &Map<String, Value>, key: &str) -> Result<bool> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::config(format!(
            "source.{key} must be true or false, not a {}",
            type_name(other)
        ))),
    }
}

/// The host of an ssh URI (`ssh://user@host:port/path`, `user@host:path`).
fn ssh_host(uri: &str) -> String {
    let authority = match uri.split_once("://") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => uri.split(':').next().unwrap_or(uri),
    };
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    match hostport.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6).to_string(),
        None if uri.contains("://") => hostport.split(':').next().unwrap_or(hostport).to_string(),
        None => hostport.to_string(),
    }
}

/// The port of an `ssh://` URI when it names one other than 22.
fn ssh_port(uri: &str) -> Option<u16> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split('/').next()?;
    let hostport = authority.rsplit('@').next()?;
    let port = match hostport.strip_prefix('[') {
        Some(v6) => v6.split_once("]:")?.1,
        None => hostport.rsplit_once(':')?.1,
    };
    port.parse().ok().filter(|p| *p != 22)
}

/// Parses a rule and checks it against `groups`, with messages that name
/// the field.
pub fn parse_rule(text: &str, field: &str, groups: &BTreeMap<String, Vec<String>>) -> Result<Rule> {
    let rule = Rule::parse(text)
        .map_err(|e| Error::config(format!("{field} \"{}\": {e}", shown(text))))?;
    for (n, group) in rule.atoms() {
        let Some(members) = groups.get(group) else {
            return Err(Error::config(format!(
                "{field}: unknown group \"{group}\"; define it in source.groups"
            )));
        };
        if n > members.len() {
            return Err(Error::config(format!(
                "{field}: needs {n} of {group} but the group has only {}",
                members.len()
            )));
        }
    }
    Ok(rule)
}

/// Checks that `text` is an armored OpenPGP secret key, without using it.
pub fn check_secret_key(text: &str, field: &str) -> Result<()> {
    use openpgp::parse::Parse;
    let cert = openpgp::Cert::from_bytes(text.as_bytes()).map_err(|_| {
        Error::config(format!(
            "{field} is not an OpenPGP key; paste the output of gpg --armor --export-secret-keys FINGERPRINT"
        ))
    })?;
    if !cert.is_tsk() {
        return Err(Error::config(format!(
            "{field} holds only a public certificate; signing needs the secret key (gpg --armor --export-secret-keys)"
        )));
    }
    Ok(())
}

/// The cache key of a trust configuration: every input of a verdict except
/// the tag itself and the clock.
fn trust_digest(
    sources: &[CertSource],
    groups: &BTreeMap<String, Vec<String>>,
    require: &str,
) -> Result<String> {
    let unavailable = || "SHA-256 is not available".to_string();
    let mut ctx = HashAlgorithm::SHA256
        .context()
        .context(ErrorKind::Io, unavailable)?
        .for_digest();
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    field(b"sigtag verdict cache");
    field(env!("CARGO_PKG_VERSION").as_bytes());
    let mut sorted: Vec<&CertSource> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    field(&(sorted.len() as u64).to_be_bytes());
    for s in sorted {
        field(s.name.as_bytes());
        field(&s.bytes);
    }
    field(&(groups.len() as u64).to_be_bytes());
    for (g, members) in groups {
        field(g.as_bytes());
        field(&(members.len() as u64).to_be_bytes());
        for m in members {
            field(m.as_bytes());
        }
    }
    field(require.as_bytes());
    let digest = ctx.into_digest().context(ErrorKind::Io, unavailable)?;
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_kinds() {
        assert_eq!(uri_kind("https://github.com/a/b.git"), Some(UriKind::Http));
        assert_eq!(uri_kind("git@github.com:a/b.git"), Some(UriKind::Ssh));
        assert_eq!(
            uri_kind("ssh://git@host:2222/srv/r.git"),
            Some(UriKind::Ssh)
        );
        assert_eq!(uri_kind("git://127.0.0.1:9418/r.git"), Some(UriKind::Git));
        assert_eq!(uri_kind("file:///srv/r.git"), Some(UriKind::File));
        assert_eq!(uri_kind("file://relative/r.git"), None);
        assert_eq!(uri_kind("/srv/r.git"), None);
        assert_eq!(uri_kind("ftp://host/r.git"), None);
        assert_eq!(uri_kind("https://"), None);
        assert_eq!(uri_kind("github.com"), None);
        assert_eq!(uri_kind("git@host:"), None);
        assert_eq!(uri_kind("https://host/a b"), None);
    }

    #[test]
    fn versions() {
        let c = "a".repeat(40);
        let v: Value = serde_json::json!({"tag": "v1", "commit": c});
        assert_eq!(
            parse_version(&v, "version").unwrap(),
            Version {
                tag: "v1".into(),
                commit: c.clone()
            }
        );
        for bad in [
            serde_json::json!({"tag": "v1"}),
            serde_json::json!({"tag": "v1", "commit": c, "ref": "x"}),
            serde_json::json!({"tag": 1, "commit": c}),
            serde_json::json!({"tag": "v1", "commit": "HEAD"}),
            serde_json::json!({"tag": "a..b", "commit": c}),
            serde_json::json!("v1"),
            serde_json::json!({"tag": "v1.lock", "commit": c}),
            serde_json::json!({"tag": "-v1", "commit": c}),
            serde_json::json!({"tag": "v 1", "commit": c}),
            serde_json::json!({"tag": "a//b", "commit": c}),
        ] {
            assert!(parse_version(&bad, "version").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_log_hides_every_secret_of_the_request() {
        let request = serde_json::json!({
            "source": {
                "uri": "https://T0KEN-abc@example.org/app.git",
                "password": "pass-word-1",
                "private_key_passphrase": "ab",
            },
            "params": {"signing_key": "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGa1b2c3d4e5f6g7h8\n-----END PGP PRIVATE KEY BLOCK-----\n"},
        });
        let Value::Object(top) = request else {
            unreachable!()
        };
        let secrets = secrets_in(&top);
        assert!(secrets.contains(&"T0KEN-abc".to_string()), "{secrets:?}");
        assert!(secrets.contains(&"lQdGBGa1b2c3d4e5f6g7h8".to_string()));
        assert!(!secrets.contains(&"ab".to_string()), "too short to hide");
        super::super::hide_in_log(secrets);
        assert_eq!(
            super::super::scrub("cannot use pass-word-1 for T0KEN-abc: lQdGBGa1b2c3d4e5f6g7h8"),
            "cannot use *** for ***: ***"
        );
        super::super::hide_in_log(Vec::new());
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("url", SOURCE_FIELDS), Some("uri"));
        assert_eq!(closest("tag-filter", SOURCE_FIELDS), Some("tag_filter"));
        assert_eq!(closest("whatever", SOURCE_FIELDS), None);
    }
}
