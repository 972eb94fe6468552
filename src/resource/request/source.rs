//! The validated `source`: how to reach the repository and its trust root
//! (signers, groups, rule), built and checked by [`Trust::build`] like a
//! keys directory, its rule checked by [`Trust::parse_rule_in`].

use super::digest::trust_digest;
use super::json::{
    deny_unknown, opt_bool, opt_string, req_string, seconds_field, shown, string_map, type_name,
};
use super::uri::{ssh_host, ssh_port, uri_kind, UriKind};
use crate::error::{Error, Result};
use crate::limits::{
    DEFAULT_CHECK_TIMEOUT, DEFAULT_NETWORK_TIMEOUT, MAX_CHECK_TIMEOUT_SECS,
    MAX_NETWORK_TIMEOUT_SECS,
};
use crate::remote::{self, Access, HostKeys};
use crate::rule::Rule;
use crate::trust::{CertSource, RuleOrigin, Trust};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The name of the one environment of a resource's trust root when
/// `source.environment` names none; messages then name the rule itself.
pub const ENVIRONMENT: &str = "source";

/// The fields `source` accepts.
pub const SOURCE_FIELDS: &[&str] = &[
    "uri",
    "environment",
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
    "in_order",
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

/// The validated `source`.
#[derive(Debug)]
pub struct Source {
    pub uri: String,
    pub access: Access,
    pub tag_filter: Option<String>,
    pub trust: Trust,
    /// `source.environment`, else [`ENVIRONMENT`]: the name verdicts,
    /// logs, metadata and report.json give the environment.
    pub environment: String,
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
    /// `source.in_order` (DESIGN §6): a check returns at most one version
    /// newer than the one it was given. (DESIGN §6 has a `tested` atom of
    /// `require` imply it; rules have no such atom yet.)
    pub in_order: bool,
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
        self.trust.parse_rule_as(text, &rule_origin(field))
    }
}

/// How the resource's messages name a rule and its groups.
fn rule_origin(field: &str) -> RuleOrigin<'_> {
    RuleOrigin {
        field,
        quoted: true,
        groups_at: "in source.groups",
    }
}

/// `source.environment`: the environment's name as policy.toml spells it
/// (`sigtag keys source --env ENV` writes it), else [`ENVIRONMENT`].
fn environment_field(map: &Map<String, Value>) -> Result<String> {
    match opt_string(map, "environment", "source.environment")? {
        None => Ok(ENVIRONMENT.to_string()),
        Some(name) if crate::trust::valid_name(&name) => Ok(name),
        Some(name) => Err(Error::config(format!(
            "source.environment \"{}\" is not an environment name; use the name policy.toml gives it (lower-case letters, digits, '.', '_' or '-'), e.g. \"prod\"",
            shown(&name)
        ))),
    }
}

pub(super) fn parse_source(map: Map<String, Value>) -> Result<Source> {
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
    let in_order = opt_bool(&map, "in_order")?;

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
    Trust::parse_rule_in(&groups, &require, &rule_origin("source.require"))?;
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

    let environment = environment_field(&map)?;
    let digest = trust_digest(&sources, &groups, &require, &environment)?;
    let environments = BTreeMap::from([(environment.clone(), require)]);
    let trust = Trust::build(sources, groups, environments, "source")?;
    let rule = trust.rule_for(&environment)?.clone();

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
        in_order,
        environment,
        digest,
    })
}

/// Checks that `text` is an armored secret key, without using it.
pub fn check_secret_key(text: &str, field: &str) -> Result<()> {
    crate::sign::check_secret_key(text, field)
}
