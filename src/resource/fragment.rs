//! The resource's `source` fragment made from a keys directory (DESIGN
//! §9): the trust root (`signers`, `groups`) and one environment's policy
//! (`require`; `in_order` when the policy sets it or the rule has a
//! `tested` atom; `since`, `emails`, `emergency`, `review`,
//! `review_within` and `tag_filter` when the policy sets them), so that the command line
//! and a pipeline share one reviewed trust root instead of two hand-kept
//! copies.
//!
//! [`Fragment::new`] is pure: it reads a loaded [`Trust`] and the
//! [`Policy`] it was built from ([`Fragment::from_dir`] loads both).
//! Every signer and every group of the trust root goes into the fragment,
//! as `sigtag` itself would judge with them, and so does every `[emails]`
//! entry (each names a signer); certificates are armored again from what
//! was loaded (public parts only), or named as `((NAME_pub))` variables.
//! Rules are written as the trust root reads them; `since` as it reads it
//! (a commit id in lower case); `review_within` and the addresses as the
//! policy writes them. Whatever the fragment says, the trust root was
//! built with: a policy that does not agree with it (changed between two
//! reads) is refused.
//! [`Fragment::json`] and [`Fragment::yaml`] render it; the YAML is
//! written by hand, carefully: armored text in `|` block scalars, names
//! quoted where YAML would read them as something else than a string.

use crate::error::{Error, Result};
use crate::trust::{read_policy, Policy, Trust};
use openpgp::armor::{Kind, Writer};
use openpgp::serialize::Serialize as _;
use sequoia_openpgp as openpgp;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// How a fragment gives the signers' certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certificates {
    /// The armored certificates themselves.
    Inline,
    /// `((NAME_pub))`: a pipeline variable each ([`var_name`]).
    Vars,
}

/// A signer's certificates in a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Certs {
    /// Armored public certificates, one block each, ending in a newline.
    Armored(String),
    /// A pipeline variable's name (without the parentheses).
    Var(String),
}

/// `source.signers`, `source.groups`, `source.require` and the rest of
/// one environment's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The environment's name, which the resource's messages use.
    pub environment: String,
    /// In the trust root's order (by name).
    pub signers: Vec<(String, Certs)>,
    pub groups: BTreeMap<String, Vec<String>>,
    pub require: String,
    /// The policy sets `in_order = true` for the environment, or its rule
    /// has a `tested` atom: the fragment says `in_order: true` (and says
    /// nothing otherwise).
    pub in_order: bool,
    /// `since` (a commit id in lower case, or a tag name).
    pub since: Option<String>,
    /// `[emails]`: signer -> more addresses, as the policy writes them.
    pub emails: BTreeMap<String, Vec<String>>,
    /// `emergency`, as the trust root reads it.
    pub emergency: Option<String>,
    /// `review`, when the policy sets it, as the trust root reads it.
    pub review: Option<String>,
    /// `review_within`, as the policy writes it.
    pub review_within: Option<String>,
    /// `tag_filter`, as the policy writes it.
    pub tag_filter: Option<String>,
    /// The keys of revoked.pub, one canonical OpenSSH line each.
    pub revoked_keys: Option<String>,
    /// `[ssh] require_user_verification = true`.
    pub require_user_verification: bool,
}

/// The pipeline variable of a signer's certificates: `alice_pub`. A `.`
/// (a field separator in Concourse's `((var.field))`) becomes `_`.
pub fn var_name(signer: &str) -> String {
    format!("{}_pub", signer.replace('.', "_"))
}

impl Fragment {
    /// The fragment of environment `env` of the keys directory `dir`: its
    /// trust root ([`Trust::load_dir`]) and its `policy.toml`.
    pub fn from_dir(dir: &Path, env: &str, certs: Certificates) -> Result<Fragment> {
        let trust = Trust::load_dir(dir)?;
        let path = dir.join("policy.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::config(format!(
                "cannot read {}: {}; every keys directory needs a policy.toml",
                path.display(),
                crate::error::clean(&e.to_string())
            ))
        })?;
        let policy = read_policy(&text, &path.display().to_string())?;
        // revoked.pub and [ssh] go along: the resource's trust root is
        // never laxer than the keys directory's.
        let revoked_path = dir.join(crate::trust::REVOKED_SSH_FILE);
        let revoked = match std::fs::read(&revoked_path) {
            Ok(bytes) => {
                crate::keys::ssh::parse_revoked(&revoked_path.display().to_string(), &bytes)?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Error::config(format!(
                    "cannot read {}: {e}",
                    revoked_path.display()
                )))
            }
        };
        let mut fragment = Fragment::new(&trust, &policy, env, certs)?;
        fragment.revoked_keys = (!revoked.is_empty()).then(|| {
            revoked
                .iter()
                .map(|k| format!("{}\n", k.canonical_line()))
                .collect()
        });
        fragment.require_user_verification = trust.require_user_verification();
        Ok(fragment)
    }

    /// The fragment of environment `env` of `trust`, which `policy` built;
    /// an unknown environment is a configuration error naming those that
    /// exist.
    pub fn new(trust: &Trust, policy: &Policy, env: &str, certs: Certificates) -> Result<Fragment> {
        let rule = trust.rule_for(env)?;
        let fields = Fields::of(trust, policy, env)?;
        if trust.signers().is_empty() {
            return Err(Error::config(
                "the keys directory holds no signer; add one certificate file per signer",
            ));
        }
        let mut vars: BTreeMap<String, &str> = BTreeMap::new();
        let mut signers = Vec::new();
        for s in trust.signers() {
            let certs = match certs {
                Certificates::Vars => {
                    let var = var_name(&s.name);
                    if let Some(other) = vars.insert(var.clone(), &s.name) {
                        return Err(Error::config(format!(
                            "signers \"{other}\" and \"{}\" would both be the variable (({var})); rename one of their files",
                            s.name
                        )));
                    }
                    Certs::Var(var)
                }
                Certificates::Inline => {
                    let mut text = String::new();
                    for cert in s.keys.openpgp() {
                        text.push_str(&armored(cert)?);
                    }
                    // SSH keys as canonical OpenSSH lines after the
                    // certificates: source.signers reads both.
                    for key in s.keys.ssh() {
                        text.push_str(&key.canonical_line());
                        text.push('\n');
                    }
                    Certs::Armored(text)
                }
            };
            signers.push((s.name.clone(), certs));
        }
        Ok(Fragment {
            environment: env.to_string(),
            signers,
            groups: trust.groups().clone(),
            require: rule.to_string(),
            in_order: trust.in_order(env),
            since: fields.since,
            emails: fields.emails,
            emergency: fields.emergency,
            review: fields.review,
            review_within: fields.review_within,
            tag_filter: trust.tag_filter_for(env).map(str::to_string),
            revoked_keys: None,
            require_user_verification: trust.require_user_verification(),
        })
    }

    /// As JSON: `{"signers": {...}, "groups": {...}, "require": "..."}`
    /// (and `"in_order": true` when the policy says so), a placeholder as
    /// the string `((NAME_pub))`.
    pub fn json(&self) -> Value {
        let signers: Map<String, Value> = self
            .signers
            .iter()
            .map(|(name, certs)| {
                let value = match certs {
                    Certs::Armored(text) => text.clone(),
                    Certs::Var(var) => format!("(({var}))"),
                };
                (name.clone(), Value::String(value))
            })
            .collect();
        let mut fragment = json!({"environment": self.environment, "signers": signers,
               "groups": self.groups, "require": self.require});
        if let Some(fields) = fragment.as_object_mut() {
            if self.in_order {
                fields.insert("in_order".into(), Value::Bool(true));
            }
            if let Some(since) = &self.since {
                fields.insert("since".into(), Value::String(since.clone()));
            }
            if !self.emails.is_empty() {
                fields.insert("emails".into(), json!(self.emails));
            }
            for (name, value) in self.emergency_texts() {
                fields.insert(name.into(), Value::String(value.to_string()));
            }
            if let Some(keys) = &self.revoked_keys {
                fields.insert("revoked_keys".into(), Value::String(keys.clone()));
            }
            if self.require_user_verification {
                fields.insert("require_user_verification".into(), Value::Bool(true));
            }
        }
        fragment
    }

    /// `emergency`, `review`, `review_within` and `tag_filter`, those set.
    fn emergency_texts(&self) -> Vec<(&'static str, &str)> {
        [
            ("emergency", &self.emergency),
            ("review", &self.review),
            ("review_within", &self.review_within),
            ("tag_filter", &self.tag_filter),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.as_deref()?)))
        .collect()
    }

    /// As YAML, to paste under a resource's `source:` (indented there): a
    /// block mapping, armored certificates as `|` block scalars.
    pub fn yaml(&self) -> String {
        let mut out = format!("environment: {}\nsigners:\n", yaml_key(&self.environment));
        for (name, certs) in &self.signers {
            match certs {
                Certs::Var(var) => {
                    let _ = writeln!(out, "  {}: (({var}))", yaml_key(name));
                }
                Certs::Armored(text) => {
                    let _ = writeln!(out, "  {}: |", yaml_key(name));
                    for line in text.lines() {
                        if line.is_empty() {
                            out.push('\n');
                        } else {
                            let _ = writeln!(out, "    {line}");
                        }
                    }
                }
            }
        }
        if self.groups.is_empty() {
            out.push_str("groups: {}\n");
        } else {
            out.push_str("groups:\n");
            for (group, members) in &self.groups {
                let members: Vec<String> = members.iter().map(|m| yaml_key(m)).collect();
                let _ = writeln!(out, "  {}: [{}]", yaml_key(group), members.join(", "));
            }
        }
        let _ = writeln!(out, "require: {}", quoted(&self.require));
        if self.in_order {
            out.push_str("in_order: true\n");
        }
        if let Some(since) = &self.since {
            let _ = writeln!(out, "since: {}", quoted(since));
        }
        if !self.emails.is_empty() {
            out.push_str("emails:\n");
            for (signer, list) in &self.emails {
                let list: Vec<String> = list.iter().map(|e| quoted(e)).collect();
                let _ = writeln!(out, "  {}: [{}]", yaml_key(signer), list.join(", "));
            }
        }
        for (name, value) in self.emergency_texts() {
            let _ = writeln!(out, "{name}: {}", quoted(value));
        }
        if let Some(keys) = &self.revoked_keys {
            out.push_str("revoked_keys: |\n");
            for line in keys.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        if self.require_user_verification {
            out.push_str("require_user_verification: true\n");
        }
        out
    }
}

/// The fields of an environment's policy beyond `require`, checked
/// against the trust root `policy` built.
struct Fields {
    since: Option<String>,
    emails: BTreeMap<String, Vec<String>>,
    emergency: Option<String>,
    review: Option<String>,
    review_within: Option<String>,
}

impl Fields {
    fn of(trust: &Trust, policy: &Policy, env: &str) -> Result<Fields> {
        let changed = || {
            Error::config(format!(
                "{} changed while sigtag read it; run the command again",
                trust.policy_origin()
            ))
        };
        let e = policy.environments.get(env).ok_or_else(changed)?;
        let rule = trust.rule_for(env)?;
        if trust
            .parse_rule(&e.require, trust.policy_origin())
            .ok()
            .as_ref()
            != Some(rule)
        {
            return Err(changed());
        }
        let since = trust.since_for(env).map(str::to_string);
        let agrees = match (&e.since, &since) {
            (Some(given), Some(read)) => given.eq_ignore_ascii_case(read),
            (None, None) => true,
            _ => false,
        };
        if !agrees {
            return Err(changed());
        }
        let emergency = trust.emergency_for(env);
        if emergency.is_some() != e.emergency.is_some() {
            return Err(changed());
        }
        for (signer, list) in &policy.emails {
            for address in list {
                let holds = trust
                    .signers_with_email(address)
                    .is_some_and(|s| s.contains(signer));
                if !holds {
                    return Err(changed());
                }
            }
        }
        Ok(Fields {
            since,
            emails: policy.emails.clone(),
            emergency: emergency.map(|m| m.rule.to_string()),
            review: emergency
                .filter(|_| e.review.is_some())
                .map(|m| m.review.to_string()),
            review_within: emergency.and(e.review_within.clone()),
        })
    }
}

/// One certificate, armored, with its fingerprint as the only header.
fn armored(cert: &openpgp::Cert) -> Result<String> {
    let fail = |e: anyhow::Error| {
        Error::config(format!(
            "cannot armor the certificate {}: {}",
            cert.fingerprint().to_hex(),
            crate::error::clean(&e.to_string())
        ))
    };
    let mut bytes = Vec::new();
    let mut writer = Writer::with_headers(
        &mut bytes,
        Kind::PublicKey,
        [("Comment", cert.fingerprint().to_hex())],
    )
    .map_err(|e| fail(e.into()))?;
    // A Cert serializes its public parts only.
    cert.serialize(&mut writer).map_err(fail)?;
    writer.finalize().map_err(|e| fail(e.into()))?;
    let mut text = String::from_utf8(bytes).map_err(|e| fail(e.into()))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// A double-quoted scalar: JSON's escaping is valid YAML.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{}\"", text.escape_default()))
}

/// A name as a YAML scalar: plain when YAML (1.1 or 1.2) reads it back as
/// the same string, quoted otherwise (`"1.5"`, `"on"`, `"null"`).
fn yaml_key(name: &str) -> String {
    const WORDS: &[&str] = &["y", "yes", "n", "no", "true", "false", "on", "off", "null"];
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && !WORDS.contains(&name);
    if plain {
        name.to_string()
    } else {
        quoted(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_where_yaml_would_misread_them() {
        assert_eq!(yaml_key("alice"), "alice");
        assert_eq!(yaml_key("alice.smith-2_x"), "alice.smith-2_x");
        for odd in [
            "1", "1.5", "0x1f", "1e5", "on", "off", "yes", "no", "y", "n",
        ] {
            assert_eq!(yaml_key(odd), format!("\"{odd}\""), "{odd}");
        }
        assert_eq!(yaml_key("null"), "\"null\"");
        assert_eq!(quoted("2 of \"x\"\n"), "\"2 of \\\"x\\\"\\n\"");
    }

    #[test]
    fn the_fields_are_the_sources() {
        let fragment = Fragment {
            environment: "prod".into(),
            signers: vec![],
            groups: BTreeMap::new(),
            require: "1 of x".into(),
            in_order: true,
            since: Some("v1.0".into()),
            emails: BTreeMap::from([(
                "alice".into(),
                vec![
                    "Alice@Users.Noreply.GitHub.com".into(),
                    "a@example.org".into(),
                ],
            )]),
            emergency: Some("1 of x".into()),
            review: Some("2 of x".into()),
            review_within: Some("72h".into()),
            tag_filter: Some("v*".into()),
            revoked_keys: None,
            require_user_verification: false,
        };
        let json = fragment.json();
        assert_eq!(json["in_order"], json!(true));
        assert_eq!(json["since"], json!("v1.0"));
        assert_eq!(
            json["emails"],
            json!({"alice": ["Alice@Users.Noreply.GitHub.com", "a@example.org"]})
        );
        assert_eq!(
            (&json["emergency"], &json["review"], &json["review_within"]),
            (&json!("1 of x"), &json!("2 of x"), &json!("72h"))
        );
        assert!(fragment.yaml().ends_with(
            "require: \"1 of x\"\nin_order: true\nsince: \"v1.0\"\n\
             emails:\n  alice: [\"Alice@Users.Noreply.GitHub.com\", \"a@example.org\"]\n\
             emergency: \"1 of x\"\nreview: \"2 of x\"\nreview_within: \"72h\"\n\
             tag_filter: \"v*\"\n"
        ));
        assert_eq!(json["tag_filter"], json!("v*"));
        for field in json.as_object().unwrap().keys() {
            assert!(
                crate::resource::SOURCE_FIELDS.contains(&field.as_str()),
                "{field}"
            );
        }
    }

    #[test]
    fn variables_replace_dots() {
        assert_eq!(var_name("alice"), "alice_pub");
        assert_eq!(var_name("ci.staging-1"), "ci_staging-1_pub");
    }

    #[test]
    fn yaml_puts_armor_in_block_scalars() {
        let fragment = Fragment {
            environment: "no".into(),
            signers: vec![
                (
                    "alice".into(),
                    Certs::Armored("-----BEGIN X-----\n\nAAAA\n=ab\n-----END X-----\n".into()),
                ),
                ("on".into(), Certs::Var("on_pub".into())),
            ],
            groups: BTreeMap::from([
                ("humans".into(), vec!["alice".into(), "on".into()]),
                ("none".into(), vec![]),
            ]),
            require: "1 of humans".into(),
            in_order: false,
            since: None,
            emails: BTreeMap::new(),
            emergency: None,
            review: None,
            review_within: None,
            tag_filter: None,
            revoked_keys: None,
            require_user_verification: false,
        };
        assert_eq!(
            fragment.yaml(),
            "environment: \"no\"\nsigners:\n  alice: |\n    -----BEGIN X-----\n\n    AAAA\n    =ab\n    -----END X-----\n  \
             \"on\": ((on_pub))\ngroups:\n  humans: [alice, \"on\"]\n  none: []\nrequire: \"1 of humans\"\n"
        );
        assert_eq!(
            fragment.json(),
            json!({
                "environment": "no",
                "signers": {"alice": "-----BEGIN X-----\n\nAAAA\n=ab\n-----END X-----\n", "on": "((on_pub))"},
                "groups": {"humans": ["alice", "on"], "none": []},
                "require": "1 of humans"
            })
        );
    }
}
