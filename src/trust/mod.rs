//! The trust root: signers with their names and keys, groups, and the rule
//! of each environment.
//!
//! This module owns names, groups, environments and rules; what a signer's
//! keys are, and which signer holds a key, is [`crate::keys`]'s (per
//! scheme), so nothing here depends on a signature scheme.
//!
//! Invariants of a loaded [`Trust`]:
//! - every signer name matches `[a-z0-9][a-z0-9._-]*` and has keys (see
//!   [`crate::keys::Keys`]: at least one certificate or SSH key, at most
//!   [`MAX_CERTS_PER_SIGNER`] certificates, no secret key material); a
//!   signer's `NAME.asc` and `NAME.pub` make one signer;
//! - no key (primary or subkey, SSH key) belongs to two signers; the SSH
//!   keys of `revoked.pub` and `[ssh] require_user_verification` are part
//!   of the trust digest when set;
//! - every group member is a signer; every rule names only known groups and
//!   never asks for more signers than a group has;
//! - every name in `[emails]` is a signer and every address listed there
//!   looks like an email address; an environment's `since` is a full
//!   commit id (lower-case) or a valid tag name.
//!
//! Each signer's email addresses (the user IDs of its certificates, plus
//! `[emails]`) are kept lower-case, to match commit authors
//! ([`Trust::signers_with_email`], DESIGN §6).
//!
//! Everything is checked when the trust root is loaded, before any tag is
//! read, so a configuration mistake can never turn into a verdict.
//!
//! Each environment has a trust digest ([`Trust::digest_for`], made by
//! `digest`): the SHA-256 of every input of its verdicts but the tag and
//! the clock, each signer's keys in canonical form (the same certificates
//! armored or binary, from gpg or from `sigtag keys source`, hash the
//! same). The resource keys its verdict cache by it; `audit` and
//! `attest` print it, so evidence names the exact configuration that
//! judged.

mod digest;

use crate::error::{Error, Result};
use crate::keys::{HoldsKeys, Keyring, Keys};
use crate::rule::Rule;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use crate::limits::{MAX_CERTS_PER_SIGNER, MAX_CERT_FILE_SIZE};

/// One person or pipeline: a name and the keys that speak for it.
#[derive(Debug, Clone)]
pub struct Signer {
    pub name: String,
    pub keys: Keys,
    /// The groups this signer belongs to, sorted.
    pub groups: Vec<String>,
}

/// Where a certificate came from, for messages: `keys/alice.asc` or
/// `source.signers.alice`.
#[derive(Debug, Clone)]
pub struct CertSource {
    pub name: String,
    pub origin: String,
    pub bytes: Vec<u8>,
}

/// The whole trust configuration.
#[derive(Debug, Clone)]
pub struct Trust {
    signers: Vec<Signer>,
    groups: BTreeMap<String, Vec<String>>,
    environments: BTreeMap<String, Rule>,
    /// `since = "REV"` of each environment that names one.
    since: BTreeMap<String, String>,
    /// Lower-case email address -> the signers it belongs to.
    emails: BTreeMap<String, BTreeSet<String>>,
    /// Which signer holds which key, by index into `signers`.
    keyring: Keyring,
    /// Where the groups and rules came from, for messages.
    policy_origin: String,
    /// The environments whose policy says `in_order = true`, or whose
    /// rule has a `tested` atom (which implies it).
    in_order: BTreeSet<String>,
    /// `emergency`, `review` and `review_within` of each environment that
    /// sets them.
    emergencies: BTreeMap<String, Emergency>,
    /// `tag_filter` of each environment that sets one.
    tag_filters: BTreeMap<String, String>,
    /// The trust digest of each environment ([`digest::trust_digest`]).
    digests: BTreeMap<String, String>,
    /// `[ssh] require_user_verification`.
    require_user_verification: bool,
}

/// How an environment takes an emergency change (DESIGN §6): a tag that
/// fails `require` but meets `rule` is promoted as an emergency, and is
/// reviewed once it meets `review`; once `within` has passed since it met
/// `rule` unreviewed, nothing newer is promoted in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emergency {
    pub rule: Rule,
    /// `review`, else the environment's `require`.
    pub review: Rule,
    /// `review_within`.
    pub within: std::time::Duration,
}

/// The longest `review_within` may be.
pub const MAX_REVIEW_WITHIN: std::time::Duration = std::time::Duration::from_secs(366 * 86_400);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    groups: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    environments: BTreeMap<String, EnvironmentFile>,
    #[serde(default)]
    emails: BTreeMap<String, Vec<String>>,
    ssh: Option<SshFile>,
}

/// `[ssh]` of a policy.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SshFile {
    #[serde(default)]
    require_user_verification: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentFile {
    require: String,
    #[serde(default)]
    in_order: bool,
    since: Option<String>,
    emergency: Option<String>,
    review: Option<String>,
    review_within: Option<String>,
    tag_filter: Option<String>,
}

/// What a policy says, parsed but not yet checked against certificates
/// ([`Trust::build_policy`] does that).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub groups: BTreeMap<String, Vec<String>>,
    pub environments: BTreeMap<String, EnvironmentPolicy>,
    /// `[emails]`: more addresses of a signer than its user IDs name.
    pub emails: BTreeMap<String, Vec<String>>,
    /// `[ssh]`, and the keys of `revoked.pub`.
    pub ssh: SshPolicy,
}

/// What applies to SSH signatures beyond the signers' keys (DESIGN §8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshPolicy {
    /// `[ssh] require_user_verification = true`: a FIDO key's signature
    /// counts only with user verification (a PIN or a biometric).
    pub require_user_verification: bool,
    /// The keys of `revoked.pub`: their signatures count for nothing.
    pub revoked: Vec<crate::keys::ssh::SshKey>,
}

/// One environment of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvironmentPolicy {
    /// The rule text.
    pub require: String,
    /// `since = "REV"`: a commit or tag taken as reviewed, where the range
    /// of a tag with no base starts.
    pub since: Option<String>,
    /// `in_order = true`: check answers at most one newer version.
    pub in_order: bool,
    /// `emergency = RULE`: what an emergency promotion needs.
    pub emergency: Option<String>,
    /// `review = RULE`: what reviews an emergency (default: `require`).
    pub review: Option<String>,
    /// `review_within = "72h"`: how long an emergency may stay unreviewed.
    pub review_within: Option<String>,
    /// `tag_filter = "v*"`: the tags that can be the environment's
    /// promotions (the resource's `tag_filter`).
    pub tag_filter: Option<String>,
}

/// Is `name` a valid signer, group or environment name?
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        && name.len() <= 64
}

fn is_cert_file(name: &str) -> Option<&str> {
    [".asc", ".pgp", ".gpg", ".pub"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
}

/// The file of a keys directory that lists revoked SSH keys.
pub const REVOKED_SSH_FILE: &str = "revoked.pub";

/// A signer's keys from one source: an SSH key file (`.pub`), a
/// certificate file, or a text that may hold both (the resource's).
fn keys_of(src: &CertSource) -> Result<Keys> {
    if src.origin.ends_with(".pub") {
        Keys::parse_ssh(&src.origin, &src.bytes)
    } else if [".asc", ".pgp", ".gpg"]
        .iter()
        .any(|ext| src.origin.ends_with(ext))
    {
        Keys::parse(&src.origin, &src.bytes)
    } else {
        Keys::parse_text(&src.origin, &src.bytes)
    }
}

impl Trust {
    /// Loads a keys directory: `policy.toml` plus one certificate file per
    /// signer.
    pub fn load_dir(dir: &Path) -> Result<Trust> {
        let shown = dir.display().to_string();
        let meta = std::fs::metadata(dir).map_err(|_| {
            Error::config(format!(
                "keys directory {shown} not found; pass --keys DIR with the reviewed keys directory"
            ))
        })?;
        if !meta.is_dir() {
            return Err(Error::config(format!(
                "{shown} is not a directory; pass --keys DIR"
            )));
        }
        let policy_path = dir.join("policy.toml");
        let policy_text = std::fs::read_to_string(&policy_path).map_err(|e| {
            Error::config(format!(
                "cannot read {}: {}; every keys directory needs a policy.toml",
                policy_path.display(),
                crate::error::clean(&e.to_string())
            ))
        })?;

        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::config(format!("cannot list {shown}: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        let mut sources = Vec::new();
        let mut revoked = Vec::new();
        for path in entries {
            let Some(file) = path
                .file_name()
                .and_then(|f| f.to_str())
                .map(str::to_string)
            else {
                return Err(Error::config(format!(
                    "{}: file names in a keys directory must be UTF-8",
                    path.display()
                )));
            };
            if file.starts_with('.') || file.starts_with("README") || file == "policy.toml" {
                continue;
            }
            let Some(stem) = is_cert_file(&file) else {
                return Err(Error::config(format!(
                    "{}: unexpected file in the keys directory; certificates end in .asc, .pgp or .gpg, SSH public keys in .pub",
                    path.display()
                )));
            };
            if !valid_name(stem) {
                return Err(Error::config(format!(
                    "{}: \"{stem}\" is not a valid signer name; use lower-case letters, digits, '.', '_' and '-'",
                    path.display()
                )));
            }
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_CERT_FILE_SIZE {
                return Err(Error::config(format!(
                    "{}: larger than {}; a signer file holds only public certificates",
                    path.display(),
                    crate::limits::size_words(MAX_CERT_FILE_SIZE)
                )));
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))?;
            if file == REVOKED_SSH_FILE {
                revoked = crate::keys::ssh::parse_revoked(&path.display().to_string(), &bytes)?;
                continue;
            }
            sources.push(CertSource {
                name: stem.to_string(),
                origin: path.display().to_string(),
                bytes,
            });
        }
        let origin = policy_path.display().to_string();
        let mut policy = read_policy(&policy_text, &origin)?;
        policy.ssh.revoked = revoked;
        Trust::build_policy(sources, policy, &origin)
    }

    /// Builds a trust root from its parts (the resource's inline source
    /// uses this): no `[emails]`, no `since`. `policy_origin` names where
    /// groups and rules came from.
    pub fn build(
        sources: Vec<CertSource>,
        groups: BTreeMap<String, Vec<String>>,
        environments: BTreeMap<String, String>,
        policy_origin: &str,
    ) -> Result<Trust> {
        let environments = environments
            .into_iter()
            .map(|(env, require)| {
                (
                    env,
                    EnvironmentPolicy {
                        require,
                        ..Default::default()
                    },
                )
            })
            .collect();
        let policy = Policy {
            groups,
            environments,
            emails: BTreeMap::new(),
            ssh: SshPolicy::default(),
        };
        Trust::build_policy(sources, policy, policy_origin)
    }

    /// Builds a trust root from certificates and a whole [`Policy`].
    pub fn build_policy(
        sources: Vec<CertSource>,
        policy: Policy,
        policy_origin: &str,
    ) -> Result<Trust> {
        let Policy {
            groups,
            environments,
            emails: extra_emails,
            ssh,
        } = policy;
        let mut signers: Vec<Signer> = Vec::new();
        for src in sources {
            if !valid_name(&src.name) {
                return Err(Error::config(format!(
                    "{}: \"{}\" is not a valid signer name; use lower-case letters, digits, '.', '_' and '-'",
                    src.origin, src.name
                )));
            }
            let keys = keys_of(&src)?;
            for cert in keys.openpgp() {
                crate::keys::openpgp::check_usable(&src.origin, &src.name, cert)?;
            }
            // A signer may have one certificate file and one SSH key file
            // (alice.asc and alice.pub): one person, one signer.
            if let Some(s) = signers.iter_mut().find(|s| s.name == src.name) {
                let ssh_twice = !s.keys.ssh().is_empty() && !keys.ssh().is_empty();
                let pgp_twice = !s.keys.openpgp().is_empty() && !keys.openpgp().is_empty();
                if ssh_twice || pgp_twice {
                    return Err(Error::config(format!(
                        "{}: signer \"{}\" is defined twice; keep one file per signer (one .asc and one .pub at most)",
                        src.origin, src.name
                    )));
                }
                s.keys = s.keys.clone().merge(keys);
                continue;
            }
            signers.push(Signer {
                name: src.name,
                keys,
                groups: Vec::new(),
            });
        }

        // The trust digests hash each signer's keys in canonical form, so
        // the same certificates give the same digest from any file.
        let canonical = signers
            .iter()
            .map(|s| Ok((s.name.clone(), s.keys.canonical()?)))
            .collect::<Result<Vec<_>>>()?;
        let ssh_canonical = (ssh.require_user_verification || !ssh.revoked.is_empty()).then(|| {
            let mut out = format!(
                "require_user_verification={}\n",
                ssh.require_user_verification
            )
            .into_bytes();
            out.extend_from_slice(&crate::keys::ssh::canonical(&ssh.revoked));
            out
        });
        let digests = environments
            .iter()
            .map(|(env, e)| {
                let d = digest::trust_digest(
                    &canonical,
                    &groups,
                    e,
                    &extra_emails,
                    ssh_canonical.as_deref(),
                    env,
                )?;
                Ok((env.clone(), d))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;

        // One key, one signer.
        let keyring = Keyring::build_revoking(
            signers.iter().map(|s| (s.name.as_str(), &s.keys)),
            &ssh.revoked,
        )?;

        for (group, members) in &groups {
            if !valid_name(group) {
                return Err(Error::config(format!(
                    "{policy_origin}: \"{group}\" is not a valid group name; use lower-case letters, digits, '.', '_' and '-'"
                )));
            }
            let mut seen = Vec::new();
            for m in members {
                let Some(s) = signers.iter_mut().find(|s| &s.name == m) else {
                    return Err(Error::config(format!(
                        "{policy_origin}: no certificate file for signer \"{m}\" of group \"{group}\"; add its public certificate or remove it from the group"
                    )));
                };
                if seen.contains(&m) {
                    return Err(Error::config(format!(
                        "{policy_origin}: signer \"{m}\" is listed twice in group \"{group}\""
                    )));
                }
                seen.push(m);
                s.groups.push(group.clone());
            }
        }
        for s in &mut signers {
            s.groups.sort();
        }

        let mut rules = BTreeMap::new();
        let mut since = BTreeMap::new();
        let mut in_order = BTreeSet::new();
        let mut emergencies = BTreeMap::new();
        let mut tag_filters = BTreeMap::new();
        for (env, e) in environments {
            if !valid_name(&env) {
                return Err(Error::config(format!(
                    "{policy_origin}: \"{env}\" is not a valid environment name"
                )));
            }
            let field = format!("{policy_origin}: environments.{env}.require");
            let rule = Trust::parse_rule_in(&groups, &e.require, &RuleOrigin::plain(&field))?;
            if let Some(rev) = &e.since {
                since.insert(env.clone(), since_rev(rev, policy_origin, &env)?);
            }
            if e.in_order || rule.has(crate::rule::Qualifier::Tested) {
                in_order.insert(env.clone());
            }
            let field = |name: &str| format!("{policy_origin}: environments.{env}.{name}");
            let names = EmergencyNames {
                field: &field,
                emergency: &format!("environments.{env}.emergency"),
                example: "review_within = \"72h\"",
                quoted: false,
                groups_at: "under [groups]",
            };
            if let Some(emergency) = emergency_of(&groups, &e, &rule, &names)? {
                emergencies.insert(env.clone(), emergency);
            }
            if let Some(filter) = &e.tag_filter {
                if filter.is_empty() || filter.chars().any(char::is_control) {
                    return Err(Error::config(format!(
                        "{policy_origin}: environments.{env}.tag_filter must be a glob of tag names, like \"v*\""
                    )));
                }
                tag_filters.insert(env.clone(), filter.clone());
            }
            rules.insert(env, rule);
        }

        let mut emails: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in &signers {
            for e in s.keys.emails() {
                emails.entry(e).or_default().insert(s.name.clone());
            }
        }
        for (name, list) in extra_emails {
            if !signers.iter().any(|s| s.name == name) {
                return Err(Error::config(format!(
                    "{policy_origin}: [emails] lists \"{}\", who is no signer; add its certificate file or remove the entry",
                    crate::names::shown(&name)
                )));
            }
            for e in list {
                if !crate::names::looks_like_email(&e) {
                    return Err(Error::config(format!(
                        "{policy_origin}: [emails] {name}: \"{}\" is not an email address",
                        crate::names::shown(&e)
                    )));
                }
                emails
                    .entry(e.to_lowercase())
                    .or_default()
                    .insert(name.clone());
            }
        }

        Ok(Trust {
            signers,
            groups,
            environments: rules,
            since,
            emails,
            keyring,
            policy_origin: policy_origin.to_string(),
            in_order,
            emergencies,
            tag_filters,
            digests,
            require_user_verification: ssh.require_user_verification,
        })
    }

    /// Does `[ssh] require_user_verification = true` hold: a FIDO key's
    /// signature counts only with user verification?
    pub fn require_user_verification(&self) -> bool {
        self.require_user_verification
    }

    /// The trust digest of environment `env` (lower-case hex SHA-256):
    /// it changes with any certificate, group, `[emails]` entry or field
    /// of the environment that can change a verdict.
    pub fn digest_for(&self, env: &str) -> Option<&str> {
        self.digests.get(env).map(String::as_str)
    }

    /// Does the policy say `in_order = true` for environment `env`
    /// (DESIGN §6)? `sigtag keys source` passes it on to the resource.
    pub fn in_order(&self, env: &str) -> bool {
        self.in_order.contains(env)
    }

    /// `tag_filter` of environment `env`: the tags that can be its
    /// promotions; `None`: every tag.
    pub fn tag_filter_for(&self, env: &str) -> Option<&str> {
        self.tag_filters.get(env).map(String::as_str)
    }

    /// How environment `env` takes an emergency change, if it does.
    pub fn emergency_for(&self, env: &str) -> Option<&Emergency> {
        self.emergencies.get(env)
    }

    /// `since = "REV"` of an environment: a full commit id (lower-case) or
    /// a tag name; `None` when it names none (or is no environment).
    pub fn since_for(&self, env: &str) -> Option<&str> {
        self.since.get(env).map(String::as_str)
    }

    /// The signers an email address belongs to (case does not matter):
    /// those whose certificates name it in a user ID, and those `[emails]`
    /// lists it for. Usually none or one.
    pub fn signers_with_email(&self, email: &str) -> Option<&BTreeSet<String>> {
        self.emails.get(&email.to_lowercase())
    }

    /// Where the policy came from, for messages.
    pub fn policy_origin(&self) -> &str {
        &self.policy_origin
    }

    pub fn signers(&self) -> &[Signer] {
        &self.signers
    }

    /// The signer at `index` in [`Trust::signers`].
    pub fn signer(&self, index: usize) -> Option<&Signer> {
        self.signers.get(index)
    }

    pub fn groups(&self) -> &BTreeMap<String, Vec<String>> {
        &self.groups
    }

    pub fn environments(&self) -> impl Iterator<Item = (&str, &Rule)> {
        self.environments.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The rule of an environment, or a configuration error naming the fix.
    pub fn rule_for(&self, env: &str) -> Result<&Rule> {
        self.environments.get(env).ok_or_else(|| {
            let known: Vec<&str> = self.environments.keys().map(String::as_str).collect();
            Error::config(format!(
                "{}: no environment \"{env}\"; add [environments.{env}] or use one of: {}",
                self.policy_origin,
                if known.is_empty() {
                    "(none defined)".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// Parses and checks a rule given on the command line against this
    /// trust root's groups.
    pub fn parse_rule(&self, text: &str, origin: &str) -> Result<Rule> {
        Trust::parse_rule_in(&self.groups, text, &RuleOrigin::plain(origin))
    }

    /// [`Trust::parse_rule`], with messages worded as `origin` says.
    pub fn parse_rule_as(&self, text: &str, origin: &RuleOrigin<'_>) -> Result<Rule> {
        Trust::parse_rule_in(&self.groups, text, origin)
    }

    /// The one place a rule is parsed and checked against groups: every
    /// atom names a known group and asks for no more signers than it has.
    /// Callable before the trust root is built (the resource checks its
    /// rule before it parses certificates).
    pub fn parse_rule_in(
        groups: &BTreeMap<String, Vec<String>>,
        text: &str,
        origin: &RuleOrigin<'_>,
    ) -> Result<Rule> {
        let field = origin.field;
        let rule = Rule::parse(text).map_err(|e| match origin.quoted {
            true => Error::config(format!("{field} \"{}\": {e}", crate::names::shown(text))),
            false => Error::config(format!("{field}: {e}")),
        })?;
        check_rule(&rule, groups, origin.groups_at)
            .map_err(|why| Error::config(format!("{field}: {why}")))?;
        Ok(rule)
    }

    /// Which signer holds which key; its indices are those of
    /// [`Trust::signers`].
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }
}

impl HoldsKeys for Signer {
    fn keys(&self) -> &Keys {
        &self.keys
    }
}

/// The groups and the rule text of each environment of a `policy.toml`
/// ([`read_policy`] reads all of it). Pure: nothing is checked against
/// certificates here ([`Trust::build`] does that). `origin` names the file
/// in messages.
#[allow(clippy::type_complexity)]
pub fn parse_policy(
    text: &str,
    origin: &str,
) -> Result<(BTreeMap<String, Vec<String>>, BTreeMap<String, String>)> {
    let policy = read_policy(text, origin)?;
    let environments = policy
        .environments
        .into_iter()
        .map(|(env, e)| (env, e.require))
        .collect();
    Ok((policy.groups, environments))
}

/// Everything a `policy.toml` says. Pure, like [`parse_policy`].
pub fn read_policy(text: &str, origin: &str) -> Result<Policy> {
    let policy: PolicyFile = toml::from_str(text)
        .map_err(|e| Error::config(format!("{origin}: {}", toml_message(text, &e))))?;
    let environments = policy
        .environments
        .into_iter()
        .map(|(env, e)| {
            (
                env,
                EnvironmentPolicy {
                    require: e.require,
                    since: e.since,
                    in_order: e.in_order,
                    emergency: e.emergency,
                    review: e.review,
                    review_within: e.review_within,
                    tag_filter: e.tag_filter,
                },
            )
        })
        .collect();
    Ok(Policy {
        groups: policy.groups,
        environments,
        emails: policy.emails,
        ssh: SshPolicy {
            require_user_verification: policy.ssh.is_some_and(|s| s.require_user_verification),
            revoked: Vec::new(),
        },
    })
}

/// How messages about an environment's emergency settings name them:
/// policy.toml's `keys/policy.toml: environments.prod.review`, or the
/// resource's `source.review`.
pub struct EmergencyNames<'a> {
    /// The setting `name` where it is read, for the start of a message.
    pub field: &'a dyn Fn(&str) -> String,
    /// The setting `emergency`, as a fix names it.
    pub emergency: &'a str,
    /// `review_within` as the format writes it: `review_within = "72h"`.
    pub example: &'a str,
    /// Rule messages: whether the rule's text is quoted, and where groups
    /// are defined ([`RuleOrigin`]).
    pub quoted: bool,
    pub groups_at: &'a str,
}

impl EmergencyNames<'_> {
    fn rule_origin<'f>(&self, field: &'f str) -> RuleOrigin<'f>
    where
        Self: 'f,
    {
        RuleOrigin {
            field,
            quoted: self.quoted,
            groups_at: self.groups_at,
        }
    }
}

/// `emergency`, `review` and `review_within` of an environment whose rule
/// is `require`, checked: `review` and `review_within` only beside
/// `emergency`, which needs `review_within`.
pub fn emergency_of(
    groups: &BTreeMap<String, Vec<String>>,
    e: &EnvironmentPolicy,
    require: &Rule,
    names: &EmergencyNames<'_>,
) -> Result<Option<Emergency>> {
    let field = names.field;
    let Some(text) = &e.emergency else {
        for (name, set) in [
            ("review", e.review.is_some()),
            ("review_within", e.review_within.is_some()),
        ] {
            if set {
                return Err(Error::config(format!(
                    "{} applies only to an emergency; set {} too, or remove it",
                    field(name),
                    names.emergency
                )));
            }
        }
        return Ok(None);
    };
    let rule = Trust::parse_rule_in(groups, text, &names.rule_origin(&field("emergency")))?;
    let review = match &e.review {
        Some(r) => Trust::parse_rule_in(groups, r, &names.rule_origin(&field("review")))?,
        None => require.clone(),
    };
    let Some(within) = &e.review_within else {
        return Err(Error::config(format!(
            "{} is missing; say how long an emergency may stay unreviewed, e.g. {}",
            field("review_within"),
            names.example
        )));
    };
    let within = duration(within).ok_or_else(|| {
        Error::config(format!(
            "{} \"{}\" is not a duration; write a whole number of minutes, hours or days, like \"90m\", \"72h\" or \"3d\", up to 366 days",
            field("review_within"),
            crate::names::shown(within)
        ))
    })?;
    Ok(Some(Emergency {
        rule,
        review,
        within,
    }))
}

/// `"90m"`, `"72h"`, `"3d"`: a positive whole number of minutes, hours or
/// days, up to [`MAX_REVIEW_WITHIN`].
pub fn duration(text: &str) -> Option<std::time::Duration> {
    let (digits, unit) = [("m", 60), ("h", 3_600), ("d", 86_400)]
        .into_iter()
        .find_map(|(suffix, unit)| Some((text.strip_suffix(suffix)?, unit)))?;
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let d = std::time::Duration::from_secs(n.checked_mul(unit)?);
    (n > 0 && d <= MAX_REVIEW_WITHIN).then_some(d)
}

/// `since = "REV"` of `env`, checked: a full commit id (made lower-case) or
/// a tag name.
fn since_rev(rev: &str, origin: &str, env: &str) -> Result<String> {
    let lower = rev.to_ascii_lowercase();
    if crate::names::is_object_id(&lower) {
        return Ok(lower);
    }
    if crate::names::valid_tag_name(rev) {
        return Ok(rev.to_string());
    }
    Err(Error::config(format!(
        "{origin}: environments.{env}.since \"{}\" is neither a full commit id nor a tag name; \
         name the commit taken as reviewed by its 40 hexadecimal digits",
        crate::names::shown(rev)
    )))
}

/// How messages about a rule name it: the field (`--require`,
/// `source.require`), whether its text is quoted after the field when it
/// does not parse, and where groups are defined.
#[derive(Debug, Clone, Copy)]
pub struct RuleOrigin<'a> {
    pub field: &'a str,
    pub quoted: bool,
    /// `under [groups]`, `in source.groups`.
    pub groups_at: &'a str,
}

impl<'a> RuleOrigin<'a> {
    /// A rule of a keys directory or the command line.
    pub fn plain(field: &'a str) -> RuleOrigin<'a> {
        RuleOrigin {
            field,
            quoted: false,
            groups_at: "under [groups]",
        }
    }
}

fn check_rule(
    rule: &Rule,
    groups: &BTreeMap<String, Vec<String>>,
    groups_at: &str,
) -> Result<(), String> {
    for (n, group) in rule.atoms() {
        let Some(members) = groups.get(group) else {
            return Err(format!("unknown group \"{group}\"; define it {groups_at}"));
        };
        if n > members.len() {
            return Err(format!(
                "needs {n} of {group} but the group has only {}",
                members.len()
            ));
        }
    }
    Ok(())
}

/// A one-line description of a TOML error with its line and column.
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
        .trim_end_matches('.')
        .to_string();
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {msg}")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_within_is_a_whole_number_of_minutes_hours_or_days() {
        use std::time::Duration;
        assert_eq!(duration("90m"), Some(Duration::from_secs(5_400)));
        assert_eq!(duration("72h"), Some(Duration::from_secs(259_200)));
        assert_eq!(duration("366d"), Some(MAX_REVIEW_WITHIN));
        for bad in [
            "", "72", "h", "0h", "-1h", "1.5h", " 72h", "72H", "367d", "9999999d", "1w", "72hh",
            "７２h",
        ] {
            assert_eq!(duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_policy_reads_the_example_policy() {
        let text = include_str!("../../keys/policy.toml");
        let (groups, environments) = parse_policy(text, "keys/policy.toml").unwrap();
        assert_eq!(groups["humans"], ["alice", "bob", "carol"]);
        assert_eq!(environments["prod"], "2 of humans and 1 of pipelines");
    }

    fn example(policy: &str) -> Result<Trust> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys");
        let sources = ["alice", "bob", "carol"]
            .iter()
            .map(|name| CertSource {
                name: name.to_string(),
                origin: format!("keys/{name}.asc"),
                bytes: std::fs::read(dir.join(format!("{name}.asc"))).unwrap(),
            })
            .collect();
        Trust::build_policy(sources, read_policy(policy, "p.toml")?, "p.toml")
    }

    #[test]
    fn emails_come_from_user_ids_and_the_emails_table() {
        let t = example(
            "[groups]\nhumans = [\"alice\", \"bob\"]\n\
             [emails]\nalice = [\"Alice@Users.Noreply.GitHub.com\"]\nbob = [\"alice@example.org\"]\n",
        )
        .unwrap();
        let who = |e: &str| {
            t.signers_with_email(e)
                .map(|s| s.iter().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(who("ALICE@example.org"), ["alice", "bob"]);
        assert_eq!(who("alice@users.noreply.github.com"), ["alice"]);
        assert_eq!(who("carol@example.org"), ["carol"]);
        assert!(who("dave@example.org").is_empty());

        let err = example("[emails]\nzed = [\"z@example.org\"]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "p.toml: [emails] lists \"zed\", who is no signer; add its certificate file or remove the entry"
        );
        let err = example("[emails]\nalice = [\"alice at example.org\"]\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "p.toml: [emails] alice: \"alice at example.org\" is not an email address"
        );
    }

    #[test]
    fn since_is_a_commit_or_a_tag_name() {
        let c = "0123456789ABCDEF0123456789abcdef01234567";
        let t = example(&format!(
            "[groups]\nhumans = [\"alice\", \"bob\"]\n\
             [environments.prod]\nrequire = \"2 of humans besides author\"\nsince = \"{c}\"\n\
             [environments.staging]\nrequire = \"2 of humans\"\nsince = \"v1.0\"\n\
             [environments.dev]\nrequire = \"1 of humans\"\n"
        ))
        .unwrap();
        assert_eq!(t.since_for("prod"), Some(c.to_lowercase().as_str()));
        assert_eq!(t.since_for("staging"), Some("v1.0"));
        assert_eq!(t.since_for("dev"), None);
        assert_eq!(t.since_for("nowhere"), None);
        let err = example(
            "[groups]\nhumans = [\"alice\"]\n\
             [environments.prod]\nrequire = \"1 of humans\"\nsince = \"HEAD~3\"\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "p.toml: environments.prod.since \"HEAD~3\" is neither a full commit id nor a tag name; \
             name the commit taken as reviewed by its 40 hexadecimal digits"
        );
    }

    #[test]
    fn parse_policy_names_the_file_and_the_line() {
        let err = parse_policy("[groups]\nhumans = [\"alice\"\n", "p.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("p.toml: line "), "{msg}");
        let err = parse_policy("[environments.prod]\nrequires = \"1 of x\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("requires"), "{err}");
    }

    #[test]
    fn a_pub_file_and_its_source_lines_share_a_digest() {
        let line = "valid-after=\"20240101\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg65MzxOI8+botuUmMT5NWzFPcLjCeXAh0HukYbAsKV alice@example.org\n";
        let groups = BTreeMap::from([("humans".to_string(), vec!["alice".to_string()])]);
        let envs = BTreeMap::from([("prod".to_string(), "1 of humans".to_string())]);
        let build = |origin: &str, bytes: Vec<u8>| {
            let src = CertSource {
                name: "alice".into(),
                origin: origin.into(),
                bytes,
            };
            Trust::build(vec![src], groups.clone(), envs.clone(), "p")
                .unwrap()
                .digest_for("prod")
                .unwrap()
                .to_string()
        };
        let dir = build("keys/alice.pub", line.as_bytes().to_vec());
        let keys = Keys::parse_ssh("x", line.as_bytes()).unwrap();
        let key = &keys.ssh()[0];
        let source = build(
            "source.signers.alice",
            format!("{}\n", key.canonical_line()).into_bytes(),
        );
        assert_eq!(dir, source);
        // Another window, another digest.
        let other = build(
            "keys/alice.pub",
            line.replace("20240101", "20240102").into_bytes(),
        );
        assert_ne!(dir, other);
    }

    #[test]
    fn the_ssh_table_is_strict_and_part_of_the_digest() {
        let base =
            "[groups]\nhumans = [\"alice\"]\n[environments.prod]\nrequire = \"1 of humans\"\n";
        let digest = |extra: &str, revoked: &str| {
            let mut policy = read_policy(&format!("{base}{extra}"), "p.toml").unwrap();
            policy.ssh.revoked =
                crate::keys::ssh::parse_revoked("revoked.pub", revoked.as_bytes()).unwrap();
            let t = example_policy(policy);
            (
                t.require_user_verification(),
                t.digest_for("prod").unwrap().to_string(),
            )
        };
        let (uv, plain) = digest("", "");
        assert!(!uv);
        assert_eq!(digest("[ssh]\n", ""), (false, plain.clone()));
        let (uv, required) = digest("[ssh]\nrequire_user_verification = true\n", "");
        assert!(uv);
        assert_ne!(required, plain);
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOg65MzxOI8+botuUmMT5NWzFPcLjCeXAh0HukYbAsKV\n";
        let (_, revoked) = digest("", key);
        assert_ne!(revoked, plain);
        assert_ne!(revoked, required);
        let err = read_policy(
            &format!("{base}[ssh]\nrequire_user_verifcation = true\n"),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("p.toml: line ") && err.contains("require_user_verifcation"),
            "{err}"
        );
        let err = read_policy(
            &format!("{base}[ssh]\nrequire_user_verification = \"yes\"\n"),
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("p.toml: line "), "{err}");
    }

    fn example_policy(policy: Policy) -> Trust {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys");
        let src = CertSource {
            name: "alice".into(),
            origin: "keys/alice.asc".into(),
            bytes: std::fs::read(dir.join("alice.asc")).unwrap(),
        };
        Trust::build_policy(vec![src], policy, "p.toml").unwrap()
    }
}
