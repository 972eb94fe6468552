//! Making layers: the first signed layer on a commit (`sign`) and a layer
//! on top of an existing chain (`cosign`).
//!
//! A layer is written exactly as `git tag -s` writes it: the four headers,
//! a blank line, the message ending in a newline, then one armored detached
//! signature over everything before it. References are only ever moved
//! with a compare-and-swap, locally and on the remote.

use crate::chain::{self, Chain};
use crate::error::{clean, Error, Result};
use crate::object::{self, Kind, Tagger};
use crate::remote;
use crate::rule::Rule;
use crate::trust::Trust;
use crate::verify;
use git2::{ObjectType, Oid, Repository};
use openpgp::crypto::{Password, Signer as _};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{Armorer, Message, Signer};
use openpgp::types::HashAlgorithm;
use openpgp::Cert;
use sequoia_openpgp as openpgp;
use std::io::Write as _;
use std::path::Path;
use std::time::SystemTime;

/// Something that can make signatures, with the certificate it belongs to.
pub struct SigningKey {
    pub cert: Cert,
    signer: Box<dyn openpgp::crypto::Signer + Send + Sync>,
}

impl SigningKey {
    pub fn new(cert: Cert, signer: Box<dyn openpgp::crypto::Signer + Send + Sync>) -> SigningKey {
        SigningKey {
            cert: cert.strip_secret_key_material(),
            signer,
        }
    }

    /// The fingerprint of the key that signs.
    pub fn fingerprint(&self) -> openpgp::Fingerprint {
        self.signer.public().fingerprint()
    }

    /// `Name <email>` of the certificate's primary user ID.
    pub fn ident(&self) -> Result<String> {
        let policy = StandardPolicy::new();
        let uid = self
            .cert
            .with_policy(&policy, None)
            .ok()
            .and_then(|vc| vc.primary_userid().ok().map(|u| u.userid().clone()))
            .or_else(|| self.cert.userids().next().map(|u| u.userid().clone()))
            .ok_or_else(|| {
                Error::sign(
                    "the signing certificate has no user ID; pass --tagger \"Name <email>\"",
                )
            })?;
        let text = String::from_utf8_lossy(uid.value()).to_string();
        if text.contains('<') && text.ends_with('>') {
            Ok(text)
        } else {
            Ok(format!("{text} <>"))
        }
    }

    /// An armored detached signature over `payload`.
    pub fn sign_detached(&mut self, payload: &[u8], at: SystemTime) -> Result<Vec<u8>> {
        let fail =
            |e: anyhow::Error| Error::sign(format!("signing failed: {}", clean(&e.to_string())));
        let mut sink = Vec::new();
        {
            let message = Message::new(&mut sink);
            let message = Armorer::new(message)
                .kind(openpgp::armor::Kind::Signature)
                .build()
                .map_err(fail)?;
            let mut w = Signer::new(message, Borrowed(&mut *self.signer))
                .map_err(fail)?
                .detached()
                .hash_algo(HashAlgorithm::SHA512)
                .map_err(fail)?
                .creation_time(at)
                .build()
                .map_err(fail)?;
            w.write_all(payload).map_err(|e| fail(e.into()))?;
            w.finalize().map_err(fail)?;
        }
        Ok(sink)
    }
}

/// Lends a boxed signer to Sequoia's streaming signer, which wants to own one.
struct Borrowed<'a>(&'a mut (dyn openpgp::crypto::Signer + Send + Sync));

impl openpgp::crypto::Signer for Borrowed<'_> {
    fn public(
        &self,
    ) -> &openpgp::packet::Key<
        openpgp::packet::key::PublicParts,
        openpgp::packet::key::UnspecifiedRole,
    > {
        self.0.public()
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        self.0.acceptable_hashes()
    }

    fn sign(
        &mut self,
        hash_algo: HashAlgorithm,
        digest: &[u8],
    ) -> openpgp::Result<openpgp::crypto::mpi::Signature> {
        self.0.sign(hash_algo, digest)
    }
}

/// Where the passphrase of an encrypted key comes from.
pub fn passphrase_for(what: &str) -> Result<Password> {
    if let Ok(p) = std::env::var("SIGTAG_PASSPHRASE") {
        return Ok(p.into());
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password(format!("Passphrase for {what}: "))
            .map(Password::from)
            .map_err(|e| Error::io(format!("cannot read the passphrase: {e}")));
    }
    Err(Error::sign(format!(
        "{what} is protected by a passphrase; set SIGTAG_PASSPHRASE or run on a terminal"
    )))
}

/// Loads an armored secret key (`--key FILE`) and picks its signing key.
pub fn load_key_file(path: &Path) -> Result<SigningKey> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read {shown}: {e}")))?;
    let cert = Cert::from_bytes(&bytes).map_err(|_| {
        Error::sign(format!(
            "{shown} is not an OpenPGP secret key; export one with gpg --armor --export-secret-keys"
        ))
    })?;
    signing_key_of(cert, &shown)
}

/// Picks the signing-capable secret key of a certificate, decrypting it if
/// needed.
pub fn signing_key_of(cert: Cert, shown: &str) -> Result<SigningKey> {
    let policy = StandardPolicy::new();
    let vc = cert.with_policy(&policy, None).map_err(|e| {
        Error::sign(format!(
            "the key in {shown} is not usable: {}",
            clean(&e.to_string())
        ))
    })?;
    let ka = vc
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .secret()
        .next()
        .ok_or_else(|| {
            if cert.is_tsk() {
                Error::sign(format!("{shown} holds no live, unrevoked signing key"))
            } else {
                Error::sign(format!(
                    "{shown} holds only a public certificate; signing needs the secret key"
                ))
            }
        })?;
    let mut key = ka.key().clone();
    if !key.has_unencrypted_secret() {
        let password = passphrase_for(shown)?;
        key = key
            .decrypt_secret(&password)
            .map_err(|_| Error::sign(format!("wrong passphrase for {shown}")))?;
    }
    let pair = key
        .into_keypair()
        .map_err(|e| Error::sign(format!("{shown}: {}", clean(&e.to_string()))))?;
    Ok(SigningKey::new(cert, Box::new(pair)))
}

/// Options common to both kinds of layer.
#[derive(Debug, Clone, Default)]
pub struct LayerOptions {
    pub message: Option<String>,
    /// `Name <email>`; default: the signing certificate's user ID.
    pub tagger: Option<String>,
}

/// The outcome of a signing operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// A new layer; the ref moved from `previous` to `layer`.
    Added { layer: Oid, previous: Option<Oid> },
    /// The key had already signed a layer of this chain; nothing changed.
    AlreadySigned { layer: usize },
}

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

/// Normalises a message the way `git tag` does by default; see
/// [`crate::message::cleanup`].
pub fn clean_message(msg: &str) -> String {
    crate::message::cleanup(msg)
}

/// The pull request a commit merges, from "Merge pull request #N ..." or a
/// squash subject ending in "(#N)".
pub fn pull_request_of(summary: &str) -> Option<u64> {
    let digits = |s: &str| -> Option<u64> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        (!d.is_empty()).then(|| d.parse().ok()).flatten()
    };
    if let Some(rest) = summary.strip_prefix("Merge pull request #") {
        return digits(rest);
    }
    let s = summary.trim_end();
    let inner = s.strip_suffix(')')?;
    let (_, n) = inner.rsplit_once("(#")?;
    if n.chars().all(|c| c.is_ascii_digit()) {
        digits(n)
    } else {
        None
    }
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
    let mut bytes = object::unsigned_payload(&target.to_string(), kind, name, &tagger, message);
    let sig = key.sign_detached(&bytes, at)?;
    bytes.extend_from_slice(&sig);
    // What we write must pass our own strict reader.
    object::parse(&bytes).map_err(|e| {
        Error::sign(format!(
            "refusing to write a layer sigtag cannot read back: {e}"
        ))
    })?;
    let odb = repo.odb().map_err(|e| Error::repo(clean(e.message())))?;
    odb.write(ObjectType::Tag, &bytes).map_err(|e| {
        Error::repo(format!(
            "cannot write the tag object: {}",
            clean(e.message())
        ))
    })
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

/// Where git looks for a short name, in its order (git's
/// `ref_rev_parse_rules`); `{}` stands for the name.
const REF_RULES: &[&str] = &[
    "{}",
    "refs/{}",
    "refs/tags/{}",
    "refs/heads/{}",
    "refs/remotes/{}",
    "refs/remotes/{}/HEAD",
];

/// The name a revision starts from: `main` in `main~1`, `main^{commit}`,
/// `main@{1}` or `main:path`; `@` stands for `HEAD`.
fn base_name(spec: &str) -> &str {
    let base = spec
        .split(['~', '^', ':'])
        .next()
        .and_then(|b| b.split("@{").next())
        .unwrap_or("");
    if base == "@" {
        "HEAD"
    } else {
        base
    }
}

/// What `spec` names, as `the label (commit <id>)`, for an ambiguity.
fn describe_candidate(label: &str, object: Option<git2::Object<'_>>) -> String {
    match object.and_then(|o| o.peel_to_commit().ok()) {
        Some(c) => format!("{label} (commit {})", c.id()),
        None => format!("{label} (not a commit)"),
    }
}

/// Resolves the commit a new tag goes on, refusing a name git would call
/// ambiguous: one that matches more than one of `NAME`, `refs/NAME`,
/// `refs/tags/NAME`, `refs/heads/NAME`, `refs/remotes/NAME` and
/// `refs/remotes/NAME/HEAD`, or an abbreviated object id that is also a
/// ref's name. libgit2 would pick one in silence (a pushed tag `main`
/// before the branch, a ref `abc1234` before the commit `abc1234...`).
/// Suffixes (`~1`, `^`, `@{1}`) are checked on the name they start from.
/// A full object id must name an object of the repository.
pub fn resolve_commit<'r>(repo: &'r Repository, spec: &str) -> Result<git2::Commit<'r>> {
    let shown = object::printable(spec);
    let not_a_commit = || {
        Error::usage(format!(
            "\"{shown}\" does not name a commit in this repository"
        ))
    };
    let base = base_name(spec);
    let full_hex = base.len() == 40 && base.bytes().all(|b| b.is_ascii_hexdigit());
    if full_hex {
        let found = Oid::from_str(base)
            .ok()
            .and_then(|oid| repo.find_object(oid, None).ok());
        if found.is_none() {
            return Err(not_a_commit());
        }
    } else if !base.is_empty() {
        let mut candidates: Vec<String> = Vec::new();
        for rule in REF_RULES {
            let refname = rule.replace("{}", base);
            if !git2::Reference::is_valid_name(&refname) {
                continue;
            }
            if let Ok(r) = repo.find_reference(&refname) {
                let target = r.peel(ObjectType::Any).ok();
                candidates.push(describe_candidate(&refname, target));
            }
        }
        let hex = base.len() >= 4 && base.bytes().all(|b| b.is_ascii_hexdigit());
        if hex && !candidates.is_empty() {
            if let Ok(o) = repo.find_object_by_prefix(base, None) {
                candidates.push(describe_candidate("the abbreviated object id", Some(o)));
            }
        }
        if candidates.len() > 1 {
            let list = match candidates.split_last() {
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            let base_shown = object::printable(base);
            return Err(Error::usage(format!(
                "the commit name \"{shown}\" is ambiguous: \"{base_shown}\" names {list}; pass the full commit id or a full ref name such as refs/heads/{base_shown}"
            )));
        }
    }
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| not_a_commit())
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
    let message = match &opts.message {
        Some(m) => clean_message(m),
        None => match pull_request_of(&summary) {
            Some(pr) => format!("{name}: pull request #{pr}\n\n{summary}\n"),
            None => format!("{name}\n\n{summary}\n"),
        },
    };
    if message.is_empty() {
        return Err(Error::usage("the tag message is empty; pass -m MESSAGE"));
    }
    let layer = make_layer(repo, key, commit.id(), Kind::Commit, name, &message, opts)?;
    repo.reference(&refname, layer, false, "sigtag sign")
        .map_err(|e| Error::repo(format!("cannot create {refname}: {}", clean(e.message()))))?;
    Ok(Signed::Added {
        layer,
        previous: None,
    })
}

/// Has this key already made a good signature on some layer of the chain?
/// Checked with the key itself, so no trust root is needed.
pub fn already_signed(chain: &Chain, key: &SigningKey) -> Option<usize> {
    let fpr = key.fingerprint();
    let handle = openpgp::KeyHandle::from(&fpr);
    let public = key.cert.keys().key_handle(fpr.clone()).next()?;
    chain.layers.iter().find_map(|layer| {
        let object::SignatureBlock::OpenPgp(block) = &layer.object.signature else {
            return None;
        };
        let sigs = verify::read_signatures(block).ok()?;
        sigs.iter()
            .any(|s| {
                s.get_issuers().iter().any(|i| i.aliases(&handle))
                    && verify::verifies(s, public.key(), layer.object.payload())
            })
            .then_some(layer.number)
    })
}

/// Refuses to lend a signature to a chain that nobody of the trust root
/// vouched for: at least one signature of it must count for one of its
/// signers (the refusal names what was found instead), and none may be
/// one that rejects the tag (a tampered layer).
fn vouched_for(name: &str, chain: &Chain, checks: &[verify::LayerCheck]) -> Result<()> {
    for check in checks {
        for outcome in &check.outcomes {
            if let verify::Outcome::Fails(problem) = outcome {
                if problem.rejects_tag() {
                    return Err(Error::refused(format!(
                        "refusing to co-sign {name}: layer {}: {problem}",
                        check.number
                    )));
                }
            }
        }
    }
    let counts = checks
        .iter()
        .flat_map(|c| &c.outcomes)
        .any(|o| matches!(o, verify::Outcome::Counts { .. }));
    if counts {
        return Ok(());
    }
    let mut found: Vec<String> = chain
        .findings
        .iter()
        .map(|f| match f.layer {
            Some(l) => format!("layer {l}: {}", f.problem),
            None => f.problem.to_string(),
        })
        .collect();
    for check in checks {
        for outcome in &check.outcomes {
            if let verify::Outcome::Fails(problem) = outcome {
                found.push(format!("layer {}: {problem}", check.number));
            }
        }
    }
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
    if let Some(layer) = already_signed(&chain, key) {
        return Ok(Signed::AlreadySigned { layer });
    }
    let checks = verify::check_chain(&chain, trust, SystemTime::now());
    vouched_for(name, &chain, &checks)?;
    if let Some(rule) = require {
        let report = crate::report::Report::build("--require", rule, trust, &chain, &checks);
        if !report.satisfied {
            let why = report
                .rejected
                .map(|r| format!("it is rejected: {r}"))
                .or(report.missing.map(|m| format!("it needs {m}")))
                .unwrap_or_default();
            return Err(Error::refused(format!(
                "refusing to co-sign {name}: it does not meet \"{rule}\" yet, {why}"
            )));
        }
    }
    let message = match &opts.message {
        Some(m) => clean_message(m),
        None => format!(
            "{name}: co-signed by {}\n",
            tagger_for(key, opts, SystemTime::now())?.ident
        ),
    };
    if message.is_empty() {
        return Err(Error::usage("the tag message is empty; pass -m MESSAGE"));
    }
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

/// Pushes a new layer; if the remote refuses, the local ref goes back to
/// where it was, so no half-published state remains.
pub fn publish(repo: &Repository, name: &str, remote_name: &str, signed: &Signed) -> Result<()> {
    publish_with(repo, name, remote_name, signed, &remote::Access::default())
}

/// [`publish`] with explicit credentials for the remote.
pub fn publish_with(
    repo: &Repository,
    name: &str,
    remote_name: &str,
    signed: &Signed,
    access: &remote::Access,
) -> Result<()> {
    let Signed::Added { layer, previous } = signed else {
        return Ok(());
    };
    let result = remote::push_tag_with(repo, remote_name, name, *previous, access);
    if result.is_err() {
        let refname = format!("refs/tags/{name}");
        let rollback = match previous {
            Some(prev) => repo
                .reference_matching(
                    &refname,
                    *prev,
                    true,
                    *layer,
                    "sigtag: push refused, roll back",
                )
                .map(|_| ()),
            None => repo.find_reference(&refname).and_then(|mut r| {
                if r.target() == Some(*layer) {
                    r.delete()
                } else {
                    Ok(())
                }
            }),
        };
        if let Err(e) = rollback {
            return Err(Error::repo(format!(
                "{}; also could not restore the local tag: {}",
                result.err().map(|e| e.to_string()).unwrap_or_default(),
                clean(e.message())
            )));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::CertBuilder;
    use openpgp::serialize::SerializeInto;
    use std::collections::BTreeMap;

    fn cert(uid: &str) -> Cert {
        CertBuilder::general_purpose(Some(uid))
            .generate()
            .unwrap()
            .0
    }

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

    #[test]
    fn checks_the_name_a_revision_starts_from() {
        for (spec, base) in [
            ("main", "main"),
            ("main~1", "main"),
            ("main^", "main"),
            ("main^{commit}", "main"),
            ("main@{1}", "main"),
            ("origin/main~2^2", "origin/main"),
            ("HEAD:README", "HEAD"),
            ("@", "HEAD"),
            ("@~1", "HEAD"),
            (":/fix", ""),
        ] {
            assert_eq!(base_name(spec), base, "{spec}");
        }
    }

    #[test]
    fn finds_pull_requests() {
        assert_eq!(
            pull_request_of("Merge pull request #42 from alice/feature"),
            Some(42)
        );
        assert_eq!(pull_request_of("Add a feature (#43)"), Some(43));
        assert_eq!(pull_request_of("Add a feature (#x43)"), None);
        assert_eq!(pull_request_of("Fix the thing"), None);
    }
}
