//! The validated `source`: how to reach the repository and its trust root
//! (signers, groups, rule, and the environment's `since`, `emails`,
//! `emergency`, `review`, `review_within` and `in_order`), built and
//! checked by [`Trust::build_policy`] like a keys directory's policy.toml.
//!
//! Each field is checked here first, so that a mistake names the field as
//! the pipeline spells it (`source.since`, `source.emails.alice`), before
//! any certificate is parsed; [`Trust::build_policy`] then checks the same
//! things again, as it does for policy.toml.

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
use crate::rule::Qualifier;
use crate::rule::Rule;
use crate::trust::{CertSource, EnvironmentPolicy, Policy, RuleOrigin, Trust};
use crate::verdict::Gate;
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
    "since",
    "emails",
    "emergency",
    "review",
    "review_within",
    "revoked_keys",
    "require_user_verification",
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
    /// newer than the one it was given, and `out` records the tag's base
    /// as the transition it tested. A `tested` atom in `source.require`
    /// implies it.
    pub in_order: bool,
    /// Hex SHA-256 of the trust configuration (certificate bytes, groups,
    /// rule, `since`, `emails`, `emergency`, `review`, `review_within`)
    /// and of this verifier's version: the verdict cache's key.
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

    /// The gate that judges tags for this source: its trust root,
    /// environment and rule, its `tag_filter` (which tags can be
    /// promotions), and refusals about `since` naming `source.since`.
    pub fn gate(&self) -> Gate<'_> {
        let mut gate = Gate::new(&self.trust, &self.environment, self.rule.clone())
            .filtered(self.tag_filter.as_deref());
        gate.since_field = Some("source.since".to_string());
        gate
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

    // The trust root: signers, groups, rule.
    let signers = string_map(&map, "signers")?;
    if signers.is_empty() {
        return Err(Error::config(
            "source.signers is missing or empty; map each signer's name to its armored public certificate or OpenSSH public key lines",
        ));
    }
    let mut sources = Vec::new();
    for (name, value) in &signers {
        let field = format!("source.signers.{}", shown(name));
        let Value::String(text) = value else {
            return Err(Error::config(format!(
                "{field} must be a string holding an armored public certificate or OpenSSH public key lines, not a {}",
                type_name(value)
            )));
        };
        if text.trim().is_empty() {
            return Err(Error::config(format!(
                "{field} is empty; paste the output of gpg --armor --export FINGERPRINT, or the signer's .pub line"
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
    let parsed = Trust::parse_rule_in(&groups, &require, &rule_origin("source.require"))?;
    let in_order = in_order_field(&map, &parsed)?;
    let emails = emails_field(&map, &signers)?;
    let policy = environment_fields(&map, &groups, require, &parsed, in_order)?;
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
    let policy = Policy {
        groups,
        environments: BTreeMap::from([(environment.clone(), policy)]),
        emails,
        ssh: ssh_fields(&map)?,
    };
    let trust = Trust::build_policy(sources, policy, "source")?;
    let rule = trust.rule_for(&environment)?.clone();
    let digest = trust
        .digest_for(&environment)
        .map(str::to_string)
        .ok_or_else(|| Error::config("source.environment names no environment"))?;

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

/// `source.revoked_keys` (OpenSSH public keys one a line, as revoked.pub
/// holds them: their signatures count for nothing) and
/// `source.require_user_verification` (as policy.toml's `[ssh]`).
fn ssh_fields(map: &Map<String, Value>) -> Result<crate::trust::SshPolicy> {
    let revoked = match opt_string(map, "revoked_keys", "source.revoked_keys")? {
        Some(text) => crate::keys::ssh::parse_revoked("source.revoked_keys", text.as_bytes())?,
        None => Vec::new(),
    };
    Ok(crate::trust::SshPolicy {
        require_user_verification: opt_bool(map, "require_user_verification")?,
        revoked,
    })
}

/// `source.in_order`: as given, and implied by a `tested` atom of
/// `source.require` (each promotion's base must be the version the
/// environment really ran); `false` beside a `tested` atom is refused.
fn in_order_field(map: &Map<String, Value>, require: &Rule) -> Result<bool> {
    let given = opt_bool(map, "in_order")?;
    let tested = require.has(Qualifier::Tested);
    if tested && map.get("in_order") == Some(&Value::Bool(false)) {
        return Err(Error::config(format!(
            "source.in_order is false, but source.require \"{require}\" has a tested atom, which needs one promotion per check so that each tag's base is the version the environment ran; remove in_order (a tested atom implies it) or set it to true"
        )));
    }
    Ok(given || tested)
}

/// `source.emails`: more addresses of a signer than its user IDs name, to
/// match commit authors (policy.toml's `[emails]`): signer name -> list of
/// addresses.
fn emails_field(
    map: &Map<String, Value>,
    signers: &Map<String, Value>,
) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = BTreeMap::new();
    for (name, value) in string_map(map, "emails")? {
        let field = format!("source.emails.{}", shown(&name));
        if !signers.contains_key(&name) {
            return Err(Error::config(format!(
                "{field}: \"{}\" is not in source.signers; add their certificate to source.signers or remove the entry",
                shown(&name)
            )));
        }
        let Value::Array(items) = value else {
            return Err(Error::config(format!(
                "{field} must be a list of email addresses, not a {}",
                type_name(&value)
            )));
        };
        let mut list = Vec::new();
        for item in items {
            let Value::String(email) = item else {
                return Err(Error::config(format!(
                    "{field} must list email addresses as strings, not a {}",
                    type_name(&item)
                )));
            };
            if !crate::names::looks_like_email(&email) {
                return Err(Error::config(format!(
                    "{field}: \"{}\" is not an email address; write it as it appears in a commit's author, like \"alice@example.org\"",
                    shown(&email)
                )));
            }
            list.push(email);
        }
        out.insert(name, list);
    }
    Ok(out)
}

/// The environment's policy from `source`: `require` (already checked),
/// `in_order`, and `since`, `emergency`, `review`, `review_within`,
/// checked as policy.toml's are and named as `source.FIELD`.
fn environment_fields(
    map: &Map<String, Value>,
    groups: &BTreeMap<String, Vec<String>>,
    require: String,
    parsed: &Rule,
    in_order: bool,
) -> Result<EnvironmentPolicy> {
    let since = opt_string(map, "since", "source.since")?;
    if let Some(rev) = &since {
        let lower = rev.to_ascii_lowercase();
        if !(crate::names::is_object_id(&lower) || crate::names::valid_tag_name(rev)) {
            return Err(Error::config(format!(
                "source.since \"{}\" is neither a full commit id nor a tag name; name the commit taken as reviewed by its 40 hexadecimal digits",
                shown(rev)
            )));
        }
    }
    let emergency = opt_string(map, "emergency", "source.emergency")?;
    let review = opt_string(map, "review", "source.review")?;
    let review_within = opt_string(map, "review_within", "source.review_within")?;
    let policy = EnvironmentPolicy {
        require,
        since,
        in_order,
        emergency,
        review,
        review_within,
        // source.tag_filter is applied by [`Source::gate`].
        tag_filter: None,
    };
    let field = |name: &str| format!("source.{name}");
    let names = crate::trust::EmergencyNames {
        field: &field,
        emergency: "source.emergency",
        example: "review_within: \"72h\"",
        quoted: true,
        groups_at: "in source.groups",
    };
    crate::trust::emergency_of(groups, &policy, parsed, &names)?;
    Ok(policy)
}

/// Checks that `text` is an armored secret key, without using it.
pub fn check_secret_key(text: &str, field: &str) -> Result<()> {
    crate::sign::check_secret_key(text, field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A source trusting the example keys alice, bob and staging (humans
    /// and pipelines), requiring `require`, with `extra` fields.
    fn source(require: &str, extra: Value) -> Map<String, Value> {
        let cert = |name: &str| {
            std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("keys/{name}.asc")),
            )
            .unwrap()
        };
        let mut map = json!({
            "uri": "file:///srv/app.git",
            "signers": {"alice": cert("alice"), "bob": cert("bob"), "staging": cert("staging")},
            "groups": {"humans": ["alice", "bob"], "pipelines": ["staging"]},
            "require": require,
        });
        if let (Some(m), Value::Object(extra)) = (map.as_object_mut(), extra) {
            m.extend(extra);
        }
        match map {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn error(require: &str, extra: Value) -> String {
        parse_source(source(require, extra))
            .unwrap_err()
            .to_string()
    }

    const SSH_LINE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg65MzxOI8+botuUmMT5NWzFPcLjCeXAh0HukYbAsKV bob@example.org";

    #[test]
    fn signers_may_hold_ssh_keys_instead_of_or_beside_a_certificate() {
        let s = parse_source(source(
            "2 of humans",
            json!({"signers": {
                "alice": source("1 of humans", json!({}))["signers"]["alice"],
                "bob": format!("# bob's laptop\n{SSH_LINE}\n"),
                "staging": source("1 of humans", json!({}))["signers"]["staging"],
            }}),
        ))
        .unwrap();
        let bob = s.trust.signers().iter().find(|s| s.name == "bob").unwrap();
        assert!(bob.keys.openpgp().is_empty());
        assert_eq!(bob.keys.ssh().len(), 1);

        let both = format!(
            "{}{SSH_LINE}\n",
            source("1 of humans", json!({}))["signers"]["bob"]
                .as_str()
                .unwrap()
        );
        let s = parse_source(source(
            "2 of humans",
            json!({"signers": {
                "alice": source("1 of humans", json!({}))["signers"]["alice"],
                "bob": both,
                "staging": source("1 of humans", json!({}))["signers"]["staging"],
            }}),
        ))
        .unwrap();
        let bob = s.trust.signers().iter().find(|s| s.name == "bob").unwrap();
        assert_eq!((bob.keys.openpgp().len(), bob.keys.ssh().len()), (1, 1));

        let e = error(
            "2 of humans",
            json!({"signers": {
                "alice": source("1 of humans", json!({}))["signers"]["alice"],
                "bob": format!("cert-authority {SSH_LINE}\n"),
                "staging": source("1 of humans", json!({}))["signers"]["staging"],
            }}),
        );
        assert_eq!(
            e,
            "source.signers.bob line 1: unknown option \"cert-authority\"; \
             a signer's key line takes only valid-after=, valid-before= and namespaces="
        );
    }

    #[test]
    fn a_tested_atom_implies_in_order() {
        let s = parse_source(source("2 of humans", json!({}))).unwrap();
        assert!(!s.in_order);
        let s = parse_source(source("2 of humans", json!({"in_order": true}))).unwrap();
        assert!(s.in_order);
        for extra in [
            json!({}),
            json!({"in_order": true}),
            json!({"in_order": null}),
        ] {
            let s = parse_source(source("2 of humans and 1 of pipelines tested", extra)).unwrap();
            assert!(s.in_order);
            assert!(s.trust.in_order(ENVIRONMENT));
        }
        let s = parse_source(source(
            "(1 of pipelines tested) or 2 of humans",
            json!({"environment": "prod"}),
        ))
        .unwrap();
        assert!(s.in_order);
        assert_eq!(
            error(
                "2 of humans and 1 of pipelines tested",
                json!({"in_order": false})
            ),
            "source.in_order is false, but source.require \"2 of humans and 1 of pipelines tested\" has a tested atom, \
             which needs one promotion per check so that each tag's base is the version the environment ran; \
             remove in_order (a tested atom implies it) or set it to true"
        );
    }

    #[test]
    fn since_is_a_commit_or_a_tag_name() {
        let c = "0123456789ABCDEF0123456789abcdef01234567";
        let s = parse_source(source(
            "2 of humans besides author",
            json!({"since": c, "environment": "prod"}),
        ))
        .unwrap();
        assert_eq!(s.trust.since_for("prod"), Some(c.to_lowercase().as_str()));
        let gate = s.gate();
        assert_eq!(gate.since.as_deref(), Some(c.to_lowercase().as_str()));
        assert_eq!(gate.since_field.as_deref(), Some("source.since"));
        let s = parse_source(source("2 of humans", json!({"since": "v1.0"}))).unwrap();
        assert_eq!(s.trust.since_for(ENVIRONMENT), Some("v1.0"));
        for bad in ["HEAD~3", "a..b", "-v1"] {
            assert_eq!(
                error("2 of humans", json!({ "since": bad })),
                format!(
                    "source.since \"{bad}\" is neither a full commit id nor a tag name; \
                     name the commit taken as reviewed by its 40 hexadecimal digits"
                )
            );
        }
        assert_eq!(
            error("2 of humans", json!({"since": 3})),
            "source.since must be a string, not a number"
        );
        assert_eq!(
            error("2 of humans", json!({"since": " "})),
            "source.since is empty; set it or leave it out"
        );
    }

    #[test]
    fn emails_name_signers_and_addresses() {
        let s = parse_source(source(
            "2 of humans besides author",
            json!({"emails": {"alice": ["Alice@Users.Noreply.GitHub.com"], "bob": []}}),
        ))
        .unwrap();
        let who: Vec<String> = s
            .trust
            .signers_with_email("alice@users.noreply.github.com")
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        assert_eq!(who, ["alice"]);
        for (emails, want) in [
            (
                json!("alice@example.org"),
                "source.emails must be an object, not a string",
            ),
            (
                json!({"zed": ["z@example.org"]}),
                "source.emails.zed: \"zed\" is not in source.signers; add their certificate to source.signers or remove the entry",
            ),
            (
                json!({"alice": "alice@example.org"}),
                "source.emails.alice must be a list of email addresses, not a string",
            ),
            (
                json!({"alice": [1]}),
                "source.emails.alice must list email addresses as strings, not a number",
            ),
            (
                json!({"alice": ["alice at example.org"]}),
                "source.emails.alice: \"alice at example.org\" is not an email address; write it as it appears in a commit's author, like \"alice@example.org\"",
            ),
        ] {
            assert_eq!(error("2 of humans", json!({ "emails": emails })), want);
        }
    }

    #[test]
    fn an_emergency_needs_review_within_and_known_groups() {
        let s = parse_source(source(
            "2 of humans and 1 of pipelines",
            json!({"environment": "prod", "emergency": "1 of humans", "review_within": "72h"}),
        ))
        .unwrap();
        let e = s.trust.emergency_for("prod").unwrap();
        assert_eq!(e.rule.to_string(), "1 of humans");
        assert_eq!(e.review.to_string(), "2 of humans and 1 of pipelines");
        assert_eq!(e.within, std::time::Duration::from_secs(72 * 3600));
        let s = parse_source(source(
            "2 of humans",
            json!({"emergency": "1 of pipelines", "review": "2 of humans", "review_within": "3d"}),
        ))
        .unwrap();
        let e = s.trust.emergency_for(ENVIRONMENT).unwrap();
        assert_eq!(e.review.to_string(), "2 of humans");
        assert!(parse_source(source("2 of humans", json!({})))
            .unwrap()
            .trust
            .emergency_for(ENVIRONMENT)
            .is_none());

        for (extra, want) in [
            (
                json!({"review": "2 of humans"}),
                "source.review applies only to an emergency; set source.emergency too, or remove it",
            ),
            (
                json!({"review_within": "72h"}),
                "source.review_within applies only to an emergency; set source.emergency too, or remove it",
            ),
            (
                json!({"emergency": "1 of humans"}),
                "source.review_within is missing; say how long an emergency may stay unreviewed, e.g. review_within: \"72h\"",
            ),
            (
                json!({"emergency": "1 of admins", "review_within": "72h"}),
                "source.emergency: unknown group \"admins\"; define it in source.groups",
            ),
            (
                json!({"emergency": "3 of humans", "review_within": "72h"}),
                "source.emergency: needs 3 of humans but the group has only 2",
            ),
            (
                json!({"emergency": "1 of", "review_within": "72h"}),
                "source.emergency \"1 of\": column 5: expected a group name after \"1 of\"",
            ),
            (
                json!({"emergency": "1 of humans", "review": "1 of admins", "review_within": "72h"}),
                "source.review: unknown group \"admins\"; define it in source.groups",
            ),
            (
                json!({"emergency": "1 of humans", "review_within": "3 days"}),
                "source.review_within \"3 days\" is not a duration; write a whole number of minutes, hours or days, like \"90m\", \"72h\" or \"3d\", up to 366 days",
            ),
            (
                json!({"emergency": "1 of humans", "review_within": "400d"}),
                "source.review_within \"400d\" is not a duration; write a whole number of minutes, hours or days, like \"90m\", \"72h\" or \"3d\", up to 366 days",
            ),
            (
                json!({"emergency": "1 of humans", "review_within": 72}),
                "source.review_within must be a string, not a number",
            ),
        ] {
            assert_eq!(error("2 of humans", extra.clone()), want, "{extra}");
        }
    }

    #[test]
    fn every_new_field_is_part_of_the_digest() {
        let plain = parse_source(source("2 of humans", json!({})))
            .unwrap()
            .digest;
        let mut seen = vec![plain.clone()];
        for extra in [
            json!({"since": "v1"}),
            json!({"emails": {"alice": ["a@example.org"]}}),
            json!({"emergency": "1 of humans", "review_within": "72h"}),
            json!({"emergency": "1 of humans", "review_within": "48h"}),
            json!({"emergency": "1 of humans", "review": "2 of humans", "review_within": "72h"}),
        ] {
            let d = parse_source(source("2 of humans", extra.clone()))
                .unwrap()
                .digest;
            assert!(!seen.contains(&d), "{extra}");
            seen.push(d);
        }
        assert_eq!(
            parse_source(source("2 of humans", json!({})))
                .unwrap()
                .digest,
            plain
        );
    }
}
