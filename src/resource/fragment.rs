//! The resource's `source` fragment made from a keys directory (DESIGN
//! §9): the trust root (`signers`, `groups`) and one environment's rule
//! (`require`, and `in_order` when the policy sets it), so that the
//! command line and a pipeline share one reviewed trust root instead of
//! two hand-kept copies.
//!
//! [`Fragment::new`] is pure: it reads a loaded [`Trust`]. Every signer
//! and every group of the trust root goes into the fragment, as `sigtag`
//! itself would judge with them; certificates are armored again from what
//! was loaded (public parts only), or named as `((NAME_pub))` variables.
//! [`Fragment::json`] and [`Fragment::yaml`] render it; the YAML is
//! written by hand, carefully: armored text in `|` block scalars, names
//! quoted where YAML would read them as something else than a string.

use crate::error::{Error, Result};
use crate::trust::Trust;
use openpgp::armor::{Kind, Writer};
use openpgp::serialize::Serialize as _;
use sequoia_openpgp as openpgp;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// `source.signers`, `source.groups` and `source.require` for one
/// environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The environment's name, which the resource's messages use.
    pub environment: String,
    /// In the trust root's order (by name).
    pub signers: Vec<(String, Certs)>,
    pub groups: BTreeMap<String, Vec<String>>,
    pub require: String,
    /// The policy sets `in_order = true` for the environment: the fragment
    /// says `in_order: true` (and says nothing otherwise).
    pub in_order: bool,
}

/// The pipeline variable of a signer's certificates: `alice_pub`. A `.`
/// (a field separator in Concourse's `((var.field))`) becomes `_`.
pub fn var_name(signer: &str) -> String {
    format!("{}_pub", signer.replace('.', "_"))
}

impl Fragment {
    /// The fragment of environment `env` of `trust`; an unknown
    /// environment is a configuration error naming those that exist.
    pub fn new(trust: &Trust, env: &str, certs: Certificates) -> Result<Fragment> {
        let rule = trust.rule_for(env)?;
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
        if let (true, Some(fields)) = (self.in_order, fragment.as_object_mut()) {
            fields.insert("in_order".into(), Value::Bool(true));
        }
        fragment
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
        out
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
        };
        let json = fragment.json();
        assert_eq!(json["in_order"], json!(true));
        assert!(fragment
            .yaml()
            .ends_with("require: \"1 of x\"\nin_order: true\n"));
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
