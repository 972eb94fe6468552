//! Attestations: the verdict on one tag for one environment as an in-toto
//! Statement v1 whose predicate is a SLSA Verification Summary
//! (`https://slsa.dev/verification_summary/v1`, a VSA), and the DSSE
//! envelope that signs one. `sigtag attest` prints or writes them; the
//! resource's `in` writes the same statement, unsigned, to
//! `.git/sigtag/vsa.json`.
//!
//! Pure: [`statement`] makes the statement from a [`Verdict`] and the
//! [`Inputs`] a verdict does not hold (where the repository lives, the
//! environment's trust digest, when the gate judged); [`pae`] and
//! [`envelope`] wrap its bytes. [`repository_uri`], the default
//! `resourceUri` of the command line, is the one function here that reads
//! anything (the repository's `origin`).
//!
//! # What the statement says
//!
//! - `subject`: one resource descriptor, the tag: `name` is its name,
//!   `digest.gitCommit` the commit its chain vouches for (40 hex), and
//!   `annotations` hold `sourceRefs` (`["refs/tags/NAME"]`) and
//!   `outermostTagObject`, the id of the tag object `refs/tags/NAME`
//!   points at (the outermost layer). A tag whose chain reaches no commit
//!   (no such tag, a broken chain) cannot be attested: [`statement`]
//!   fails, and nothing is written.
//! - `verifier`: `id` [`VERIFIER_ID`], a stable URI naming sigtag (it
//!   identifies the verifier; nothing is fetched from it), and `version`
//!   `{"sigtag": "<version>"}`.
//! - `timeVerified`: the instant the gate judged at ([`Gate::now`]), RFC
//!   3339 in UTC, to the second.
//! - `resourceUri`: where the tag came from, never with credentials: the
//!   command line's `--resource-uri`, else [`repository_uri`]; the
//!   resource's `source.uri` without its user info. An scp-like ssh
//!   address (`git@host:path`) stays as git writes it.
//! - `policy`: `uri` [`policy_uri`] (`sigtag:environments/E`) and
//!   `digest.sha256` the environment's trust digest
//!   ([`Trust::digest_for`]): the SHA-256 of every input of the verdict
//!   but the tag and the clock (certificates, groups, the rule and the rest
//!   of the environment's policy, and sigtag's version), so a statement
//!   names the exact configuration that judged. A resource without
//!   `source.environment` names its one environment `source`, as its
//!   report.json does.
//! - `inputAttestations`: the signed tag objects sigtag read, one per
//!   well-formed layer, innermost first: `uri` [`layer_uri`]
//!   (`sigtag:tags/NAME/layers/N`, relative to `resourceUri`) and
//!   `digest.gitTag` the layer's object id.
//! - `verificationResult`: `PASSED` exactly when the verdict is
//!   satisfied, else `FAILED` (a statement that failed is evidence too).
//! - `verifiedLevels`: a list of strings, as the SLSA spec has it (see
//!   below).
//! - `slsaVersion`: `1.0`.
//!
//! Nothing else: no field beyond the VSA's own, so there is no extension
//! to prefix; `dependencyLevels` is left out (sigtag judges no
//! dependencies).
//!
//! # What it claims, and what it does not
//!
//! `verifiedLevels` holds only what sigtag itself checked:
//!
//! - `SIGTAG_ENV_E` when the tag met environment E's `require` rule:
//!   signatures that count, by signers of the trust root, in the groups
//!   and numbers the rule asks for (and its transition atoms, when it has
//!   any);
//! - `SIGTAG_EMERGENCY_E` instead when it was promoted to E as an
//!   emergency ([`Promoted::Emergency`]): it fails `require` but meets E's
//!   `emergency` rule, and its review may still be pending;
//! - nothing when `FAILED`.
//!
//! E is written upper-case with `-` and `.` as `_` ([`level_name`]):
//! `release-eu.1` gives `SIGTAG_ENV_RELEASE_EU_1`. The spec keeps values
//! starting with `SLSA_` for SLSA's own levels; these are sigtag's.
//!
//! Never `SLSA_BUILD_LEVEL_*` nor `SLSA_SOURCE_LEVEL_*`: sigtag checks
//! neither build provenance (how, where and from what the artefacts were
//! built) nor the source platform's controls (branch protection, reviews
//! the forge enforces, retained history). A statement vouches for the
//! signatures on a tag, judged by a trust root, and nothing more.
//!
//! # DSSE
//!
//! [`envelope`] signs the statement's bytes (exactly what the unsigned
//! file holds) in a DSSE envelope: `payloadType`
//! `application/vnd.in-toto+json`, `payload` the statement in standard
//! base64 with padding, and one signature: `keyid` the signing key's
//! fingerprint (upper-case hex) and `sig` the binary OpenPGP detached
//! signature over [`pae`]`(payloadType, payload)`, in base64. `gpg
//! --verify SIG PAE` checks it. The key is the verifier's: it need not be
//! a signer of the trust root.
//!
//! [`Gate::now`]: crate::verdict::Gate::now
//! [`Trust::digest_for`]: crate::trust::Trust::digest_for

use crate::date::rfc3339;
use crate::encoding::{base64, is_lower_hex};
use crate::error::{clean, Error, Result};
use crate::remote;
use crate::sign::SigningKey;
use crate::verdict::{Promoted, Verdict};
use git2::Repository;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The statement's `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate's type: a SLSA Verification Summary.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The DSSE `payloadType` of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// `verifier.id`: names sigtag as the verifier (a name, not a location).
pub const VERIFIER_ID: &str = "https://sigtag.dev/verifier";
/// `slsaVersion`.
pub const SLSA_VERSION: &str = "1.0";
/// `verificationResult` of a satisfied verdict.
pub const PASSED: &str = "PASSED";
/// `verificationResult` of any other verdict.
pub const FAILED: &str = "FAILED";

/// What a statement says that its verdict does not hold.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// `resourceUri`: where the tag came from, without credentials
    /// ([`check_resource_uri`]).
    pub resource_uri: &'a str,
    /// `policy.digest.sha256`: the environment's trust digest (64
    /// lower-case hex).
    pub policy_digest: &'a str,
    /// `timeVerified`: when the gate judged.
    pub time_verified: SystemTime,
}

/// An in-toto Statement v1 with a VSA predicate; fields in the order the
/// specification lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: Summary,
}

/// The tag, as an in-toto resource descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<String, String>,
    pub annotations: Annotations,
}

/// The subject's annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Annotations {
    /// `["refs/tags/NAME"]`.
    pub source_refs: Vec<String>,
    /// The object `refs/tags/NAME` points at: the outermost layer.
    pub outermost_tag_object: String,
}

/// The Verification Summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub verifier: Verifier,
    pub time_verified: String,
    pub resource_uri: String,
    pub policy: Policy,
    pub input_attestations: Vec<Input>,
    pub verification_result: String,
    pub verified_levels: Vec<String>,
    pub slsa_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verifier {
    pub id: String,
    pub version: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub uri: String,
    pub digest: BTreeMap<String, String>,
}

/// One layer of the chain: a signed tag object sigtag read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Input {
    pub uri: String,
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Did the tag pass (`verificationResult` is `PASSED`)?
    pub fn passed(&self) -> bool {
        self.predicate.verification_result == PASSED
    }

    /// The statement as a file holds it: indented JSON and a newline. A
    /// DSSE envelope signs exactly these bytes.
    pub fn to_json(&self) -> Result<String> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::io(format!("cannot encode the statement: {e}")))?;
        Ok(format!("{text}\n"))
    }
}

/// The statement on `verdict`. Fails when the tag's chain reaches no
/// commit (nothing to name as the subject), and on inputs that are not
/// what [`Inputs`] says.
pub fn statement(verdict: &Verdict, inputs: &Inputs<'_>) -> Result<Statement> {
    let tag = &verdict.tag;
    let (commit, outer) = match (&verdict.commit, &verdict.outer) {
        (Some(c), Some(o)) if is_object_id(c) && is_object_id(o) => (c, o),
        _ => {
            let why = verdict.rejection.as_ref().map_or_else(
                || "its chain reaches no commit".to_string(),
                |f| f.problem.to_string(),
            );
            return Err(Error::repo(format!(
                "cannot attest {tag}: {why}, so there is no commit for the statement to name; \
                 attest a tag whose chain reaches a commit (sigtag explain {tag})"
            )));
        }
    };
    if inputs.policy_digest.len() != 64 || !is_lower_hex(inputs.policy_digest.as_bytes()) {
        return Err(Error::config(format!(
            "the trust digest of {} is not a SHA-256; load the trust root again",
            verdict.environment
        )));
    }
    check_resource_uri(inputs.resource_uri, "the resource URI")?;
    let one = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
    let result = if verdict.satisfied { PASSED } else { FAILED };
    Ok(Statement {
        statement_type: STATEMENT_TYPE.into(),
        subject: vec![Subject {
            name: tag.clone(),
            digest: one("gitCommit", commit),
            annotations: Annotations {
                source_refs: vec![format!("refs/tags/{tag}")],
                outermost_tag_object: outer.clone(),
            },
        }],
        predicate_type: PREDICATE_TYPE.into(),
        predicate: Summary {
            verifier: Verifier {
                id: VERIFIER_ID.into(),
                version: one("sigtag", env!("CARGO_PKG_VERSION")),
            },
            time_verified: rfc3339(inputs.time_verified),
            resource_uri: inputs.resource_uri.to_string(),
            policy: Policy {
                uri: policy_uri(&verdict.environment),
                digest: one("sha256", inputs.policy_digest),
            },
            input_attestations: verdict
                .layers
                .iter()
                .map(|l| Input {
                    uri: layer_uri(tag, l.number),
                    digest: one("gitTag", &l.oid),
                })
                .collect(),
            verification_result: result.into(),
            verified_levels: verified_levels(verdict),
            slsa_version: SLSA_VERSION.into(),
        },
    })
}

/// A full git object id (SHA-1, lower-case hex)?
fn is_object_id(id: &str) -> bool {
    id.len() == 40 && is_lower_hex(id.as_bytes())
}

/// `verifiedLevels`: `SIGTAG_ENV_E` for a promotion by E's rule,
/// `SIGTAG_EMERGENCY_E` for an emergency promotion, nothing for a verdict
/// that is not satisfied (see the module documentation).
pub fn verified_levels(verdict: &Verdict) -> Vec<String> {
    let env = level_name(&verdict.environment);
    match (verdict.satisfied, verdict.promoted) {
        (true, Some(Promoted::Require)) => vec![format!("SIGTAG_ENV_{env}")],
        (true, Some(Promoted::Emergency)) => vec![format!("SIGTAG_EMERGENCY_{env}")],
        _ => Vec::new(),
    }
}

/// An environment's name as a level's suffix: upper-case, `-` and `.` as
/// `_` (`release-eu.1` -> `RELEASE_EU_1`); any other character that is
/// not a letter or digit as `_` too (names of policy.toml have none).
pub fn level_name(environment: &str) -> String {
    environment
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_uppercase(),
            _ => '_',
        })
        .collect()
}

/// `policy.uri`: `sigtag:environments/E`.
pub fn policy_uri(environment: &str) -> String {
    format!(
        "sigtag:environments/{}",
        encode(environment.as_bytes(), b"")
    )
}

/// An input's `uri`: `sigtag:tags/NAME/layers/N` (a `/` in the name as
/// `%2F`), layer 1 the innermost.
pub fn layer_uri(tag: &str, number: usize) -> String {
    format!(
        "sigtag:tags/{}/layers/{number}",
        encode(tag.as_bytes(), b"")
    )
}

/// Percent-encodes every byte but the unreserved characters of RFC 3986
/// and those of `keep`.
fn encode(bytes: &[u8], keep: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Refuses a `resourceUri` that is neither a URI with a scheme
/// (`https://…`, `git+file://…`) nor an scp-like ssh address
/// (`git@host:path`), that holds white space or control characters, or
/// that carries credentials. `field` names it in the message, which never
/// shows the credentials.
pub fn check_resource_uri(uri: &str, field: &str) -> Result<()> {
    // A scheme (`https:`) or an scp-like host (`git@host:`): something
    // before the first `:`, and no `/` in it (that would be a path).
    let shaped = uri.split_once(':').is_some_and(|(before, after)| {
        !before.is_empty() && !before.contains('/') && !after.is_empty()
    });
    if !shaped || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::usage(format!(
            "{field} \"{}\" is not a URI; give one like https://example.org/app.git or git+file:///srv/app.git",
            remote::redact_url(&uri.escape_debug().to_string())
        )));
    }
    if !remote::url_secrets(uri).is_empty() {
        return Err(Error::usage(format!(
            "{field} {} carries credentials, which a statement must never hold; give it without them ({})",
            remote::redact_url(uri),
            remote::strip_credentials(uri)
        )));
    }
    Ok(())
}

/// The default `resourceUri` of `repo`: its `origin` remote's URL without
/// credentials (a path as `git+file://`, resolved against the work tree),
/// else `git+file://` and the repository's absolute path (its work tree,
/// or its git directory when bare).
pub fn repository_uri(repo: &Repository) -> Result<String> {
    let base = repo.workdir().unwrap_or_else(|| repo.path());
    let url = match repo.find_remote("origin") {
        Ok(remote) => match remote.url() {
            Ok(url) => Some(url.to_string()),
            Err(_) => {
                return Err(Error::repo(
                    "the origin remote's URL is not UTF-8; pass --resource-uri URI",
                ))
            }
        },
        Err(e) if e.code() == git2::ErrorCode::NotFound => None,
        Err(e) => {
            return Err(Error::repo(format!(
                "cannot read the origin remote: {}; pass --resource-uri URI",
                clean(e.message())
            )))
        }
    };
    match url {
        None => Ok(file_uri(base)),
        Some(url) if url.contains("://") => Ok(remote::strip_credentials(&url)),
        // scp-like ssh (`git@host:path`): no credentials, kept as git names it.
        Some(url)
            if url
                .split_once(':')
                .is_some_and(|(host, _)| !host.contains('/')) =>
        {
            Ok(url)
        }
        Some(path) => Ok(file_uri(&base.join(path))),
    }
}

/// `git+file://` and the absolute, canonical form of `path` (as written,
/// made absolute, when it cannot be resolved), percent-encoded.
fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let absolute: PathBuf = std::fs::canonicalize(path)
        .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    format!(
        "git+file://{}",
        encode(absolute.as_os_str().as_bytes(), b"/")
    )
}

/// DSSE's pre-authentication encoding of a payload:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII
/// decimal bytes.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    );
    let mut out = Vec::with_capacity(head.len() + body.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(body);
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload_type: &'static str,
    payload: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Serialize)]
struct EnvelopeSignature {
    keyid: String,
    sig: String,
}

/// `statement` in a DSSE envelope signed by `key` at `at`, as a file holds
/// it: indented JSON and a newline.
pub fn envelope(statement: &Statement, key: &mut SigningKey, at: SystemTime) -> Result<String> {
    let body = statement.to_json()?.into_bytes();
    let sig = key.sign_detached_binary(&pae(PAYLOAD_TYPE, &body), at)?;
    let envelope = Envelope {
        payload_type: PAYLOAD_TYPE,
        payload: base64(&body),
        signatures: vec![EnvelopeSignature {
            keyid: key.fingerprint().to_hex(),
            sig: base64(&sig),
        }],
    };
    let text = serde_json::to_string_pretty(&envelope)
        .map_err(|e| Error::io(format!("cannot encode the envelope: {e}")))?;
    Ok(format!("{text}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::base64_decode;
    use crate::sign::{signing_key_of, LayerOptions};
    use crate::testing::cert;
    use crate::trust::{EnvironmentPolicy, Policy as TrustPolicy, Trust};
    use crate::verdict::Gate;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::Cert;
    use serde_json::{json, Value};
    use std::time::{Duration, UNIX_EPOCH};

    /// A repository with one commit, and a trust root where alice and bob
    /// are the humans: `prod` needs both, `hotfix` one, or alice alone in
    /// an emergency.
    fn setup(alice: &Cert, bob: &Cert) -> (tempfile::TempDir, Repository, Trust) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        {
            let who = git2::Signature::now("alice", "alice@example.org").unwrap();
            let tree = repo.treebuilder(None).unwrap().write().unwrap();
            let tree = repo.find_tree(tree).unwrap();
            repo.commit(Some("HEAD"), &who, &who, "one", &tree, &[])
                .unwrap();
        }
        let source = |name: &str, c: &Cert| crate::trust::CertSource {
            name: name.into(),
            origin: format!("{name}.asc"),
            bytes: c.armored().to_vec().unwrap(),
        };
        let env = |require: &str, emergency: Option<&str>| EnvironmentPolicy {
            require: require.into(),
            emergency: emergency.map(str::to_string),
            review_within: emergency.map(|_| "72h".to_string()),
            ..Default::default()
        };
        let policy = TrustPolicy {
            groups: BTreeMap::from([(
                "humans".to_string(),
                vec!["alice".to_string(), "bob".to_string()],
            )]),
            environments: BTreeMap::from([
                ("prod".to_string(), env("2 of humans", None)),
                (
                    "hotfix-eu.1".to_string(),
                    env("2 of humans", Some("1 of humans")),
                ),
            ]),
            emails: BTreeMap::new(),
            ssh: Default::default(),
        };
        let trust = Trust::build_policy(
            vec![source("alice", alice), source("bob", bob)],
            policy,
            "policy.toml",
        )
        .unwrap();
        (dir, repo, trust)
    }

    fn inputs(trust: &Trust, env: &str) -> (String, SystemTime) {
        (
            trust.digest_for(env).unwrap().to_string(),
            UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        )
    }

    fn attest(trust: &Trust, repo: &Repository, env: &str, tag: &str) -> Result<Statement> {
        let gate = Gate::for_environment(trust, env).unwrap();
        let verdict = gate.judge(repo, tag);
        let (digest, at) = inputs(trust, env);
        statement(
            &verdict,
            &Inputs {
                resource_uri: "https://example.org/app.git",
                policy_digest: &digest,
                time_verified: at,
            },
        )
    }

    #[test]
    fn a_statement_names_the_commit_each_layer_and_what_passed() {
        let (alice, bob) = (cert("alice <a@example.org>"), cert("bob <b@example.org>"));
        let (_dir, repo, trust) = setup(&alice, &bob);
        let mut a = signing_key_of(alice, "alice").unwrap();
        let mut b = signing_key_of(bob, "bob").unwrap();
        crate::sign::sign(&repo, "v1", None, &mut a, &LayerOptions::default()).unwrap();
        let inner = repo.refname_to_id("refs/tags/v1").unwrap().to_string();
        crate::sign::cosign(&repo, "v1", &mut b, &LayerOptions::default(), &trust, None).unwrap();
        let outer = repo.refname_to_id("refs/tags/v1").unwrap().to_string();
        let commit = repo.head().unwrap().target().unwrap().to_string();

        let s = attest(&trust, &repo, "prod", "v1").unwrap();
        assert!(s.passed());
        let value: Value = serde_json::from_str(&s.to_json().unwrap()).unwrap();
        assert_eq!(
            value,
            json!({
                "_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": "v1", "digest": {"gitCommit": commit},
                             "annotations": {"sourceRefs": ["refs/tags/v1"],
                                             "outermostTagObject": outer}}],
                "predicateType": "https://slsa.dev/verification_summary/v1",
                "predicate": {
                    "verifier": {"id": VERIFIER_ID,
                                 "version": {"sigtag": env!("CARGO_PKG_VERSION")}},
                    "timeVerified": "2027-01-15T08:00:00Z",
                    "resourceUri": "https://example.org/app.git",
                    "policy": {"uri": "sigtag:environments/prod",
                               "digest": {"sha256": trust.digest_for("prod").unwrap()}},
                    "inputAttestations": [
                        {"uri": "sigtag:tags/v1/layers/1", "digest": {"gitTag": inner}},
                        {"uri": "sigtag:tags/v1/layers/2", "digest": {"gitTag": outer}}],
                    "verificationResult": "PASSED",
                    "verifiedLevels": ["SIGTAG_ENV_PROD"],
                    "slsaVersion": "1.0"
                }
            })
        );
        // The file's fields come in the specification's order.
        let text = s.to_json().unwrap();
        let at = |k: &str| text.find(k).unwrap();
        assert!(at("\"_type\"") < at("\"subject\"") && at("\"subject\"") < at("\"predicateType\""));
        assert!(
            at("\"verifier\"") < at("\"timeVerified\"")
                && at("\"verifiedLevels\"") < at("\"slsaVersion\"")
        );
        assert!(text.ends_with("}\n"));

        // One layer: short of prod's rule, an emergency for hotfix-eu.1.
        crate::sign::sign(&repo, "v2", None, &mut a, &LayerOptions::default()).unwrap();
        let failed = attest(&trust, &repo, "prod", "v2").unwrap();
        assert!(!failed.passed());
        assert_eq!(failed.predicate.verification_result, "FAILED");
        assert!(failed.predicate.verified_levels.is_empty());
        assert_eq!(failed.predicate.input_attestations.len(), 1);
        let emergency = attest(&trust, &repo, "hotfix-eu.1", "v2").unwrap();
        assert!(emergency.passed());
        assert_eq!(
            emergency.predicate.verified_levels,
            ["SIGTAG_EMERGENCY_HOTFIX_EU_1"]
        );
        assert_eq!(
            emergency.predicate.policy.uri,
            "sigtag:environments/hotfix-eu.1"
        );
        assert_ne!(
            emergency.predicate.policy.digest,
            failed.predicate.policy.digest
        );

        // No tag, no commit: nothing to attest.
        let err = attest(&trust, &repo, "prod", "v9").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert_eq!(
            err.to_string(),
            "cannot attest v9: no tag named \"v9\", so there is no commit for the statement to name; \
             attest a tag whose chain reaches a commit (sigtag explain v9)"
        );
    }

    #[test]
    fn an_envelope_signs_the_statement_through_its_pae() {
        let (alice, bob) = (cert("alice <a@example.org>"), cert("bob <b@example.org>"));
        let (_dir, repo, trust) = setup(&alice, &bob);
        let mut a = signing_key_of(alice.clone(), "alice").unwrap();
        crate::sign::sign(&repo, "v1", None, &mut a, &LayerOptions::default()).unwrap();
        let s = attest(&trust, &repo, "prod", "v1").unwrap();
        let verifier = cert("verifier <ci@example.org>");
        let mut key = signing_key_of(verifier.clone(), "verifier").unwrap();
        let text = envelope(&s, &mut key, SystemTime::now()).unwrap();
        let env: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(env["payloadType"], json!(PAYLOAD_TYPE));
        let body = base64_decode(env["payload"].as_str().unwrap()).unwrap();
        assert_eq!(body, s.to_json().unwrap().into_bytes());
        let sigs = env["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 1);
        assert_eq!(sigs[0]["keyid"], json!(key.fingerprint().to_hex()));
        let sig = base64_decode(sigs[0]["sig"].as_str().unwrap()).unwrap();
        assert!(!sig.starts_with(b"-----BEGIN"), "a binary signature");

        let packets = crate::verify::openpgp::read_signatures(&sig).unwrap();
        assert_eq!(packets.len(), 1);
        let policy = crate::policy::Policy::new();
        let signing = verifier
            .with_policy(&policy, None)
            .unwrap()
            .keys()
            .for_signing()
            .next()
            .unwrap();
        let good = pae(PAYLOAD_TYPE, &body);
        assert!(crate::verify::openpgp::verifies(
            &packets[0],
            signing.key(),
            &good
        ));
        let mut flipped = body.clone();
        flipped[10] ^= 1;
        let bad = pae(PAYLOAD_TYPE, &flipped);
        assert!(!crate::verify::openpgp::verifies(
            &packets[0],
            signing.key(),
            &bad
        ));
    }

    #[test]
    fn pae_and_names() {
        // DSSE's own example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
        assert_eq!(level_name("prod"), "PROD");
        assert_eq!(level_name("release-eu.1_b"), "RELEASE_EU_1_B");
        assert_eq!(policy_uri("prod"), "sigtag:environments/prod");
        assert_eq!(
            layer_uri("release/v1#2 ü", 3),
            "sigtag:tags/release%2Fv1%232%20%C3%BC/layers/3"
        );
        assert_eq!(
            file_uri(Path::new("/nonexistent/my app")),
            "git+file:///nonexistent/my%20app"
        );
    }

    #[test]
    fn a_resource_uri_has_a_scheme_and_no_credentials() {
        for ok in [
            "https://example.org/app.git",
            "git+file:///srv/app.git",
            "ssh://git@example.org/app.git",
            "git@example.org:app.git",
        ] {
            check_resource_uri(ok, "--resource-uri").unwrap();
        }
        let err = check_resource_uri("https://ci:s3cret@example.org/app.git", "--resource-uri")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--resource-uri https://***@example.org/app.git carries credentials, which a statement \
             must never hold; give it without them (https://example.org/app.git)"
        );
        for bad in [
            "",
            "app.git",
            "/srv/app.git",
            "./a:b",
            "https://example.org/a b",
            "x:",
        ] {
            let err = check_resource_uri(bad, "--resource-uri").unwrap_err();
            assert!(err.to_string().contains("is not a URI"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_default_resource_uri_comes_from_origin_without_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let here = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            repository_uri(&repo).unwrap(),
            format!("git+file://{}", here.display())
        );
        repo.remote("origin", "https://ci:s3cret@example.org/app.git")
            .unwrap();
        assert_eq!(
            repository_uri(&repo).unwrap(),
            "https://example.org/app.git"
        );
        for (url, uri) in [
            (
                "git@example.org:app.git",
                "git@example.org:app.git".to_string(),
            ),
            ("/srv/app.git", "git+file:///srv/app.git".to_string()),
            (
                "../up.git",
                format!("git+file://{}/../up.git", here.display()),
            ),
        ] {
            repo.remote_set_url("origin", url).unwrap();
            assert_eq!(repository_uri(&repo).unwrap(), uri, "{url}");
        }
    }
}
