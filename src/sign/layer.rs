//! Making layers: the first signed layer on a commit ([`sign`]) and a
//! layer on top of an existing chain ([`cosign`]).
//!
//! A layer is written exactly as `git tag -s` writes it: the four headers,
//! a blank line, the message ending in a newline, then one armored detached
//! signature over everything before it (made by the [`SigningKey`], of
//! whatever scheme). What is written must pass sigtag's own strict reader.
//! A co-signature is only added to a chain a trusted signer has signed and
//! none of whose signatures rejects it. References are only ever moved
//! with a compare-and-swap. The message is the free text, then the lines
//! sigtag writes (build lines, the `Sigtag-Tested-From:` trailer), as
//! [`message::layer_message`] composes it.

use super::commit::resolve_commit;
use super::message;
use super::{LayerOptions, Signed, SigningKey};
use crate::chain::{self, Chain};
use crate::error::{clean, Error, Result};
use crate::object::{self, Kind, Tagger};
use crate::rule::Rule;
use crate::trust::Trust;
use crate::verdict::{Gate, Verdict};
use git2::{ObjectType, Oid, Repository};
use std::time::SystemTime;

fn tz_now() -> String {
    let secs = chrono::Local::now().offset().local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let m = secs.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", m / 60, m % 60)
}

fn tagger_for(key: &SigningKey, opts: &LayerOptions, at: SystemTime) -> Result<Tagger> {
    let ident = match &opts.tagger {
        Some(t) => {
            let t = t.trim();
            let ok = t.find('<').is_some_and(|i| i > 0)
                && t.ends_with('>')
                && !t.chars().any(char::is_control);
            if !ok {
                return Err(Error::usage(format!(
                    "--tagger \"{}\" is not of the form \"Name <email>\"",
                    object::printable(t)
                )));
            }
            t.to_string()
        }
        None => key.ident()?,
    };
    let time = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ok(Tagger {
        ident,
        time,
        tz: tz_now(),
    })
}

fn make_layer(
    repo: &Repository,
    key: &mut SigningKey,
    target: Oid,
    kind: Kind,
    name: &str,
    message: &str,
    opts: &LayerOptions,
) -> Result<Oid> {
    let at = SystemTime::now();
    let tagger = tagger_for(key, opts, at)?;
    let bytes = signed_layer(key, &target.to_string(), kind, name, &tagger, message, at)?;
    let odb = repo.odb().map_err(|e| Error::repo(clean(e.message())))?;
    odb.write(ObjectType::Tag, &bytes).map_err(|e| {
        Error::repo(format!(
            "cannot write the tag object: {}",
            clean(e.message())
        ))
    })
}

/// The bytes of one signed layer, exactly as `git tag -s` writes them: the
/// headers, a blank line, the message, and `key`'s armored signature made
/// at `at` over all of that. Refused unless sigtag's own strict reader
/// reads it back.
pub fn signed_layer(
    key: &mut SigningKey,
    target: &str,
    kind: Kind,
    name: &str,
    tagger: &Tagger,
    message: &str,
    at: SystemTime,
) -> Result<Vec<u8>> {
    let mut bytes = object::unsigned_payload(target, kind, name, tagger, message);
    let sig = key.sign_detached(&bytes, at)?;
    bytes.extend_from_slice(&sig);
    object::parse(&bytes).map_err(|e| {
        Error::sign(format!(
            "refusing to write a layer sigtag cannot read back: {e}"
        ))
    })?;
    Ok(bytes)
}

fn valid_tag_name(name: &str) -> Result<()> {
    if crate::names::valid_tag_name(name) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "\"{}\" is not a valid tag name",
            object::printable(name)
        )))
    }
}

/// Makes the first layer of tag `name` on `commitish` (default HEAD).
pub fn sign(
    repo: &Repository,
    name: &str,
    commitish: Option<&str>,
    key: &mut SigningKey,
    opts: &LayerOptions,
) -> Result<Signed> {
    valid_tag_name(name)?;
    let refname = format!("refs/tags/{name}");
    if repo.find_reference(&refname).is_ok() {
        return Err(Error::usage(format!(
            "tag {name} already exists; use sigtag cosign {name} to add a signature"
        )));
    }
    let commit = resolve_commit(repo, commitish.unwrap_or("HEAD"))?;
    let summary = commit.summary().ok().flatten().unwrap_or("").to_string();
    let free = match &opts.message {
        Some(m) => m.clone(),
        None => message::first_layer_message(name, &summary),
    };
    let message = message::layer_message(&free, opts)?;
    let layer = make_layer(repo, key, commit.id(), Kind::Commit, name, &message, opts)?;
    repo.reference(&refname, layer, false, "sigtag sign")
        .map_err(|e| Error::repo(format!("cannot create {refname}: {}", clean(e.message()))))?;
    Ok(Signed::Added {
        layer,
        previous: None,
    })
}

/// The first layer of the chain this key has already signed, if any.
/// Checked with the key itself, so no trust root is needed.
pub fn already_signed(chain: &Chain, key: &SigningKey) -> Option<usize> {
    already_signed_for(chain, key, None)
}

/// Whether this key already made the layer `opts` would add: the first
/// layer it signed, or with a [`TestedFrom`](crate::message::TestedFrom)
/// to record, the first it signed that records the same one. A key signs
/// a chain once per transition: a pipeline that tested the tag again from
/// another version (the one the next environment runs) records that too.
pub fn already_signed_for(
    chain: &Chain,
    key: &SigningKey,
    tested_from: Option<&crate::message::TestedFrom>,
) -> Option<usize> {
    chain
        .layers
        .iter()
        .filter(|layer| key.has_signed(layer))
        .find(|layer| {
            tested_from
                .is_none_or(|t| crate::message::tested_from(&layer.object.message) == Ok(Some(*t)))
        })
        .map(|layer| layer.number)
}

/// Refuses to lend a signature to a chain that nobody of the trust root
/// vouched for: at least one signature of it must count for one of its
/// signers (the refusal names what was found instead), and none may be
/// one that rejects the tag (a tampered layer).
fn vouched_for(name: &str, verdict: &Verdict) -> Result<()> {
    if let Some(r) = &verdict.rejection {
        let at = r.layer.map(|l| format!("layer {l}: ")).unwrap_or_default();
        return Err(Error::refused(format!(
            "refusing to co-sign {name}: {at}{}",
            r.problem
        )));
    }
    if verdict.counted().next().is_some() {
        return Ok(());
    }
    let mut found: Vec<String> = verdict
        .problems()
        .into_iter()
        .map(|(layer, problem)| match layer {
            Some(l) => format!("layer {l}: {problem}"),
            None => problem.to_string(),
        })
        .collect();
    found.dedup();
    let found = if found.is_empty() {
        "no signature at all".to_string()
    } else {
        found.join("; ")
    };
    Err(Error::refused(format!(
        "refusing to co-sign {name}: no signature on it counts for a signer of the trust root \
         (found {found}); a co-signature only adds to a chain a trusted signer has signed"
    )))
}

/// Adds a layer signed by `key` on top of tag `name`. The chain must
/// already carry a signature that counts for a signer of `trust`, and with
/// `require` satisfy that rule.
pub fn cosign(
    repo: &Repository,
    name: &str,
    key: &mut SigningKey,
    opts: &LayerOptions,
    trust: &Trust,
    require: Option<&Rule>,
) -> Result<Signed> {
    valid_tag_name(name)?;
    let chain = chain::read(repo, name);
    if let Some(f) = chain.rejection() {
        return Err(Error::refused(format!(
            "refusing to co-sign {name}: {}",
            f.problem
        )));
    }
    let Some(top) = chain.outer.as_deref().and_then(|o| Oid::from_str(o).ok()) else {
        return Err(Error::refused(format!(
            "refusing to co-sign {name}: it cannot be read"
        )));
    };
    if let Some(layer) = already_signed_for(&chain, key, opts.tested_from.as_ref()) {
        return Ok(Signed::AlreadySigned { layer });
    }
    // One verdict answers both questions: does a trusted signature count
    // (always asked), and does the chain meet the rule (when one is
    // given; without one, a rule nothing satisfies stands in, and only
    // the signatures are read).
    let rule_or_none = require.cloned().unwrap_or(Rule::Or(Vec::new()));
    let verdict = Gate::new(trust, "--require", rule_or_none).judge_chain_in(repo, &chain);
    vouched_for(name, &verdict)?;
    if let Some(rule) = require {
        if let Some(why) = crate::render::line::reason(&verdict) {
            return Err(Error::refused(format!(
                "refusing to co-sign {name}: it does not meet \"{rule}\" yet: {why}"
            )));
        }
    }
    let free = match &opts.message {
        Some(m) => m.clone(),
        None => message::cosign_message(name, &tagger_for(key, opts, SystemTime::now())?.ident),
    };
    let message = message::layer_message(&free, opts)?;
    let layer = make_layer(repo, key, top, Kind::Tag, name, &message, opts)?;
    let refname = format!("refs/tags/{name}");
    repo.reference_matching(&refname, layer, true, top, "sigtag cosign")
        .map_err(|e| {
            Error::repo(format!(
                "{refname} changed while signing ({}); run the command again",
                clean(e.message())
            ))
        })?;
    Ok(Signed::Added {
        layer,
        previous: Some(top),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::signing_key_of;
    use crate::testing::cert;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::Cert;
    use std::collections::BTreeMap;

    /// A repository with one commit, and a trust root where alice is the
    /// only human.
    fn setup(alice: &Cert) -> (tempfile::TempDir, Repository, Trust) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        {
            let who = git2::Signature::now("alice", "alice@example.org").unwrap();
            let tree = repo.treebuilder(None).unwrap().write().unwrap();
            let tree = repo.find_tree(tree).unwrap();
            repo.commit(Some("HEAD"), &who, &who, "one", &tree, &[])
                .unwrap();
        }
        let source = crate::trust::CertSource {
            name: "alice".into(),
            origin: "alice.asc".into(),
            bytes: alice.armored().to_vec().unwrap(),
        };
        let groups = BTreeMap::from([("humans".to_string(), vec!["alice".to_string()])]);
        let envs = BTreeMap::from([("staging".to_string(), "1 of humans".to_string())]);
        let trust = Trust::build(vec![source], groups, envs, "policy.toml").unwrap();
        (dir, repo, trust)
    }

    /// The resource's `out` co-signs with a rule: a chain no trusted signer
    /// signed is refused for that reason first, whatever the rule says.
    #[test]
    fn cosign_with_a_rule_still_needs_a_trusted_signature() {
        let (alice, mallory) = (
            cert("alice <alice@example.org>"),
            cert("mallory <m@example.org>"),
        );
        let (_dir, repo, trust) = setup(&alice);
        let mut mallory_key = signing_key_of(mallory.clone(), "mallory").unwrap();
        sign(
            &repo,
            "v1",
            None,
            &mut mallory_key,
            &LayerOptions::default(),
        )
        .unwrap();
        let before = repo.refname_to_id("refs/tags/v1").unwrap();
        let rule = trust.rule_for("staging").unwrap().clone();
        let mut alice_key = signing_key_of(alice, "alice").unwrap();
        for rule in [Some(&rule), None] {
            let err = cosign(
                &repo,
                "v1",
                &mut alice_key,
                &LayerOptions::default(),
                &trust,
                rule,
            )
            .unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Refused);
            assert_eq!(
                err.message(),
                format!(
                    "refusing to co-sign v1: no signature on it counts for a signer of the trust root \
                     (found layer 1: signed by a key nobody trusts: {}); a co-signature only adds to \
                     a chain a trusted signer has signed",
                    mallory_key.fingerprint().to_hex()
                )
            );
        }
        assert_eq!(repo.refname_to_id("refs/tags/v1").unwrap(), before);
    }
}
