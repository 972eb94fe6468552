//! sigtag's layers and git's layers are interchangeable: what sigtag signs,
//! git and gpg verify; what git signs, sigtag counts.

mod common;

use common::*;
use std::fs;
use std::path::{Path, PathBuf};

struct Team {
    ctx: Ctx,
    alice: Key,
    bob: Key,
    carol: Key,
    staging: Key,
}

impl Team {
    fn new() -> Team {
        let ctx = Ctx::new();
        let alice = ctx.key("alice");
        let bob = ctx.key("bob");
        let carol = ctx.key("carol");
        let staging = ctx.key("staging");
        for k in [&alice, &bob, &carol, &staging] {
            ctx.trust(k);
        }
        ctx.standard_policy(&["alice", "bob", "carol"], &["staging"]);
        Team {
            ctx,
            alice,
            bob,
            carol,
            staging,
        }
    }

    fn keyfile(&self, key: &Key) -> String {
        Ctx::path_str(&self.ctx.secret_key_file(key))
    }

    fn sigtag_in(&self, repo: &Path, args: &[&str]) -> Run {
        let repo = Ctx::path_str(repo);
        let mut all: Vec<&str> = args.to_vec();
        all.extend_from_slice(&["--repo", &repo]);
        self.ctx.sigtag(&all)
    }

    /// `sigtag sign NAME [COMMIT] --key FILE --repo REPO EXTRA...`
    fn sign(&self, key: &Key, name: &str, commit: Option<&str>, extra: &[&str]) -> Run {
        self.sign_in(&self.ctx.repo, key, name, commit, extra)
    }

    fn sign_in(
        &self,
        repo: &Path,
        key: &Key,
        name: &str,
        commit: Option<&str>,
        extra: &[&str],
    ) -> Run {
        let file = self.keyfile(key);
        let mut args = vec!["sign", name];
        if let Some(c) = commit {
            args.push(c);
        }
        args.extend_from_slice(&["--key", &file]);
        args.extend_from_slice(extra);
        self.sigtag_in(repo, &args)
    }

    /// `sigtag cosign NAME --key FILE --keys KEYS --repo REPO EXTRA...`
    fn cosign(&self, key: &Key, name: &str, extra: &[&str]) -> Run {
        self.cosign_in(&self.ctx.repo, key, name, extra)
    }

    fn cosign_in(&self, repo: &Path, key: &Key, name: &str, extra: &[&str]) -> Run {
        let file = self.keyfile(key);
        let keys = self.keys();
        let mut args = vec!["cosign", name, "--key", &file, "--keys", &keys];
        args.extend_from_slice(extra);
        self.sigtag_in(repo, &args)
    }

    fn keys(&self) -> String {
        Ctx::path_str(&self.ctx.keys)
    }
}

/// Splits a tag object where git does: at the last armor start line.
fn split_signed(object: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let text = String::from_utf8(object.to_vec()).expect("tag object is UTF-8");
    let at = text
        .rfind("-----BEGIN PGP SIGNATURE-----")
        .expect("signed tag object");
    assert!(at == 0 || text.as_bytes()[at - 1] == b'\n');
    (object[..at].to_vec(), object[at..].to_vec())
}

/// `gpg --verify SIG PAYLOAD` on the outer layer of `rev`; returns the
/// fingerprint from VALIDSIG.
fn gpg_verify_layer(ctx: &Ctx, rev: &str) -> String {
    let (payload, sig) = split_signed(&ctx.tag_object(rev));
    let p = ctx.root.join("payload");
    let s = ctx.root.join("payload.sig");
    fs::write(&p, payload).unwrap();
    fs::write(&s, sig).unwrap();
    let out = ctx.gpg_output(
        &ctx.home,
        &[
            "--status-fd",
            "1",
            "--verify",
            s.to_str().unwrap(),
            p.to_str().unwrap(),
        ],
    );
    let status = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "gpg --verify failed: {status}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let valid: Vec<String> = status
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG "))
        .map(|r| r.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(valid.len(), 1, "exactly one signature per layer: {status}");
    assert!(status.contains("[GNUPG:] GOODSIG "), "{status}");
    valid[0].clone()
}

fn git_verify_tag(ctx: &Ctx, repo: &Path, rev: &str) {
    let out = ctx.git_output(repo, &["verify-tag", rev]);
    assert!(
        out.status.success(),
        "git verify-tag {rev} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fsck_strict(ctx: &Ctx, repo: &Path) {
    let out = ctx.git_output(repo, &["fsck", "--strict", "--no-dangling"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "git fsck --strict: {all}");
    assert!(!all.contains("error"), "git fsck --strict: {all}");
    assert!(!all.contains("warning"), "git fsck --strict: {all}");
}

/// `Name <email> EPOCH +HHMM`, as git writes it.
fn assert_tagger_form(tagger: &str) {
    let (ident, when) = tagger
        .rsplit_once("> ")
        .unwrap_or_else(|| panic!("tagger {tagger:?}"));
    assert!(ident.contains(" <"), "tagger {tagger:?}");
    let (epoch, tz) = when.split_once(' ').expect("epoch and zone");
    let epoch: i64 = epoch.parse().expect("epoch seconds");
    assert!(
        (epoch - now()).abs() < 600,
        "tagger date is now: {tagger:?}"
    );
    assert!(
        tz.len() == 5 && (tz.starts_with('+') || tz.starts_with('-')),
        "tagger {tagger:?}"
    );
}

fn header<'a>(object: &'a str, name: &str) -> &'a str {
    object
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} header in {object}"))
}

#[test]
fn sign_makes_a_layer_that_git_and_gpg_verify() {
    let t = Team::new();
    let ctx = &t.ctx;
    ok(&t.sign(&t.alice, "v1", None, &[]));

    assert_eq!(ctx.git(&["cat-file", "-t", "refs/tags/v1"]), "tag");
    let obj = ctx.cat_tag("v1");
    assert_eq!(header(&obj, "object"), ctx.head());
    assert_eq!(header(&obj, "type"), "commit");
    assert_eq!(header(&obj, "tag"), "v1");
    assert_tagger_form(header(&obj, "tagger"));
    assert_eq!(obj.matches("-----BEGIN ").count(), 1, "{obj}");
    assert!(obj.ends_with("-----END PGP SIGNATURE-----"), "{obj}");

    git_verify_tag(ctx, &ctx.repo, "v1");
    assert_eq!(gpg_verify_layer(ctx, "v1"), t.alice.fpr);
    fsck_strict(ctx, &ctx.repo);

    let r = ctx.verify_one("staging", "v1");
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    assert_eq!(r.problems(), problems(&[]));
    assert_eq!(r.missing().as_deref(), Some("1 of humans"));
}

#[test]
fn sign_with_explicit_commit() {
    let t = Team::new();
    let ctx = &t.ctx;
    let first = ctx.rev_parse("HEAD^1");
    ok(&t.sign(&t.alice, "v0", Some(&first), &[]));
    assert_eq!(ctx.rev_parse("v0^{commit}"), first);
    assert_eq!(header(&ctx.cat_tag("v0"), "object"), first);
    git_verify_tag(ctx, &ctx.repo, "v0");
}

#[test]
fn cosign_nests_a_layer_that_git_and_gpg_verify() {
    let t = Team::new();
    let ctx = &t.ctx;
    ok(&t.sign(&t.alice, "v1", None, &[]));
    let l1 = ctx.rev_parse("refs/tags/v1");
    ok(&t.cosign(&t.bob, "v1", &[]));
    let l2 = ctx.rev_parse("refs/tags/v1");
    assert_ne!(l1, l2);

    let obj = ctx.cat_tag("v1");
    assert_eq!(header(&obj, "object"), l1);
    assert_eq!(header(&obj, "type"), "tag");
    assert_eq!(header(&obj, "tag"), "v1");
    assert_eq!(ctx.rev_parse("v1^{commit}"), ctx.head());

    git_verify_tag(ctx, &ctx.repo, "v1");
    git_verify_tag(ctx, &ctx.repo, &l1);
    assert_eq!(gpg_verify_layer(ctx, "v1"), t.bob.fpr);
    assert_eq!(gpg_verify_layer(ctx, &l1), t.alice.fpr);
    fsck_strict(ctx, &ctx.repo);

    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));
}

#[test]
fn git_made_layers_are_accepted() {
    let t = Team::new();
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice, &t.bob, &t.staging]);
    fsck_strict(ctx, &ctx.repo);
    let r = ctx.verify_one("prod", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2), ("staging", 3)]);
}

#[test]
fn mixed_chain_git_sigtag_git() {
    let t = Team::new();
    let ctx = &t.ctx;
    ctx.sign(&t.alice, "v1", "HEAD", &Sig::default());
    ok(&t.cosign(&t.bob, "v1", &[]));
    let l2 = ctx.rev_parse("refs/tags/v1");
    ctx.cosign(&t.carol, "v1", &Sig::default());
    assert_eq!(header(&ctx.cat_tag("v1"), "object"), l2);

    git_verify_tag(ctx, &ctx.repo, "v1");
    git_verify_tag(ctx, &ctx.repo, &l2);
    fsck_strict(ctx, &ctx.repo);

    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2), ("carol", 3)]);

    // And sigtag can go on top of git again.
    ok(&t.cosign(&t.staging, "v1", &[]));
    let r = ctx.verify_one("prod", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(
        r.signers(),
        signers(&[("alice", 1), ("bob", 2), ("carol", 3), ("staging", 4)])
    );
}

#[test]
fn cosign_twice_with_the_same_key_is_a_noop() {
    let t = Team::new();
    let ctx = &t.ctx;
    ok(&t.sign(&t.alice, "v1", None, &[]));
    ok(&t.cosign(&t.bob, "v1", &[]));
    let before = ctx.rev_parse("refs/tags/v1");

    let again = t.cosign(&t.bob, "v1", &[]);
    ok(&again);
    assert!(again.stderr.contains("already signed"), "{again:?}");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "ref unchanged");

    // alice signed the inner layer: also already signed.
    let again = t.cosign(&t.alice, "v1", &[]);
    ok(&again);
    assert!(again.stderr.contains("already signed"), "{again:?}");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "ref unchanged");
}

#[test]
fn cosign_recognises_a_layer_signed_with_git() {
    let t = Team::new();
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    let before = ctx.rev_parse("refs/tags/v1");
    let run = t.cosign(&t.alice, "v1", &[]);
    ok(&run);
    assert!(run.stderr.contains("already signed"), "{run:?}");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
}

#[test]
fn sign_refuses_an_existing_tag() {
    let t = Team::new();
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    ctx.git(&["tag", "light", "HEAD"]);
    for name in ["v1", "light"] {
        let before = ctx.rev_parse(&format!("refs/tags/{name}"));
        let run = t.sign(&t.bob, name, None, &[]);
        run.assert_error(&[]);
        assert_eq!(ctx.rev_parse(&format!("refs/tags/{name}")), before);
    }
}

#[test]
fn cosign_refuses_a_missing_tag() {
    let t = Team::new();
    let run = t.cosign(&t.bob, "v1", &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    assert!(run.stderr.contains(r#"no tag named "v1""#), "{run:?}");
    assert!(!t.ctx.tag_exists("v1"), "no tag was created");
}

#[test]
fn cosign_require_refuses_a_chain_that_does_not_meet_the_rule() {
    let t = Team::new();
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    let before = ctx.rev_parse("refs/tags/v1");
    let run = t.cosign(&t.staging, "v1", &["--require", "2 of humans"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "", "{run:?}");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer added");

    ctx.cosign(&t.bob, "v1", &Sig::default());
    let run = t.cosign(&t.staging, "v1", &["--require", "2 of humans"]);
    ok(&run);
    let r = ctx.verify_one("prod", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(
        r.signers(),
        signers(&[("alice", 1), ("bob", 2), ("staging", 3)])
    );
}

#[test]
fn default_message_names_the_pull_request() {
    let t = Team::new();
    let ctx = &t.ctx;
    let merge = ctx.head();
    assert_eq!(
        ctx.git(&["log", "-1", "--format=%s", &merge]),
        MERGE_SUBJECT
    );
    // A squash merge on top.
    fs::write(ctx.repo.join("squash.txt"), "squash\n").unwrap();
    ctx.git(&["add", "squash.txt"]);
    ctx.git(&["commit", "-q", "-m", "Add feature (#43)"]);

    ok(&t.sign(&t.alice, "v1", Some(&merge), &[]));
    let msg = ctx.cat_tag("v1");
    assert!(msg.contains("#42"), "{msg}");
    assert!(!msg.contains("#43"), "{msg}");

    ok(&t.sign(&t.alice, "v2", None, &[]));
    let msg = ctx.cat_tag("v2");
    assert!(msg.contains("#43"), "{msg}");
    assert_eq!(ctx.rev_parse("v2^{commit}"), ctx.head());
}

#[test]
fn explicit_message_and_tagger() {
    let t = Team::new();
    let ctx = &t.ctx;
    ok(&t.sign(
        &t.alice,
        "v1",
        None,
        &[
            "-m",
            "Release one, reviewed.",
            "--tagger",
            "Rel Eng <releng@example.org>",
        ],
    ));
    let obj = ctx.cat_tag("v1");
    assert!(
        header(&obj, "tagger").starts_with("Rel Eng <releng@example.org> "),
        "{obj}"
    );
    let (payload, _) = split_signed(obj.as_bytes());
    let payload = String::from_utf8(payload).unwrap();
    let message = payload.split_once("\n\n").unwrap().1;
    assert_eq!(message.trim_end(), "Release one, reviewed.");
    git_verify_tag(ctx, &ctx.repo, "v1");
}

#[test]
fn passphrase_protected_key() {
    let t = Team::new();
    let ctx = &t.ctx;
    let dave = ctx.key_with_passphrase("dave", "correct horse");
    let file = Ctx::path_str(&ctx.protected_secret_key_file(&dave, "correct horse"));

    // No passphrase and no terminal: exit 2, nothing written.
    let run = sign_without_terminal(ctx, &file, None);
    run.assert_error(&[]);
    assert!(!ctx.tag_exists("v1"), "no tag without the passphrase");

    // Wrong passphrase: exit 2.
    sign_without_terminal(ctx, &file, Some("wrong")).assert_error(&[]);

    ok(&sign_without_terminal(ctx, &file, Some("correct horse")));
    git_verify_tag(ctx, &ctx.repo, "v1");
    assert_eq!(gpg_verify_layer(ctx, "v1"), dave.fpr);
}

/// `sigtag sign v1 --key FILE --repo REPO` without a terminal, with
/// SIGTAG_PASSPHRASE set to `passphrase` if given.
fn sign_without_terminal(ctx: &Ctx, file: &str, passphrase: Option<&str>) -> Run {
    let repo = Ctx::path_str(&ctx.repo);
    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args(["sign", "v1", "--key", file, "--repo", &repo]);
    if let Some(p) = passphrase {
        cmd.env("SIGTAG_PASSPHRASE", p);
    }
    Ctx::run_cmd(setsid(cmd))
}

/// Runs `cmd` in a new session, without a controlling terminal.
fn setsid(cmd: std::process::Command) -> std::process::Command {
    let mut s = std::process::Command::new("setsid");
    s.arg("-w").arg(cmd.get_program()).args(cmd.get_args());
    if let Some(d) = cmd.get_current_dir() {
        s.current_dir(d);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => s.env(k, v),
            None => s.env_remove(k),
        };
    }
    s
}

/// A bare remote at `remote.git` that `repo` pushes to as origin.
fn with_origin(ctx: &Ctx) -> PathBuf {
    let remote = ctx.root.join("remote.git");
    ctx.git_in(&ctx.root, &["init", "-q", "--bare", "remote.git"]);
    let url = format!("file://{}", remote.display());
    ctx.git(&["remote", "add", "origin", &url]);
    ctx.git(&["push", "-q", "origin", "main"]);
    remote
}

fn remote_tag(ctx: &Ctx, remote: &Path, name: &str) -> String {
    ctx.rev_parse_in(remote, &format!("refs/tags/{name}"))
}

/// Another clone of `remote` makes v1 with `git tag -s TAG_ARGS` by `key`
/// and pushes it with `git PUSH_ARGS`; returns the remote's v1 then.
fn push_from_another_clone(
    ctx: &Ctx,
    remote: &Path,
    key: &Key,
    tag_args: &[&str],
    push_args: &[&str],
) -> String {
    let url = format!("file://{}", remote.display());
    ctx.git_in(&ctx.root, &["clone", "-q", &url, "other"]);
    let other = ctx.root.join("other");
    ctx.git_tag_s(&other, key, tag_args, &Sig::default());
    ctx.git_in(&other, push_args);
    remote_tag(ctx, remote, "v1")
}

#[test]
fn push_updates_the_remote_tag() {
    let t = Team::new();
    let ctx = &t.ctx;
    let remote = with_origin(ctx);

    ok(&t.sign(&t.alice, "v1", None, &["--push", "origin"]));
    assert_eq!(
        remote_tag(ctx, &remote, "v1"),
        ctx.rev_parse("refs/tags/v1")
    );

    ok(&t.cosign(&t.bob, "v1", &["--push", "origin"]));
    let local = ctx.rev_parse("refs/tags/v1");
    assert_eq!(remote_tag(ctx, &remote, "v1"), local);
    fsck_strict(ctx, &remote);

    let (_, reports) = ctx.verify_in(&remote, "staging", &["v1"]);
    assert!(reports[0].satisfied(), "{}", reports[0].0);
    assert_eq!(reports[0].signers(), signers(&[("alice", 1), ("bob", 2)]));
}

#[test]
fn push_refuses_when_the_remote_moved() {
    let t = Team::new();
    let ctx = &t.ctx;
    let remote = with_origin(ctx);
    ok(&t.sign(&t.alice, "v1", None, &["--push", "origin"]));
    let ours = ctx.rev_parse("refs/tags/v1");

    // Someone else co-signs and pushes first.
    let theirs = push_from_another_clone(
        ctx,
        &remote,
        &t.bob,
        &["-f", "-m", "v1 co-signed by bob", "v1", "v1"],
        &["push", "-q", "-f", "origin", "refs/tags/v1"],
    );
    assert_ne!(theirs, ours);

    let run = t.cosign(&t.carol, "v1", &["--push", "origin"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("changed on origin"), "{run:?}");
    assert_eq!(
        remote_tag(ctx, &remote, "v1"),
        theirs,
        "remote keeps bob's layer"
    );
    assert_eq!(ctx.rev_parse("refs/tags/v1"), ours, "local ref rolled back");

    // After fetching, the co-signature goes on top of bob's.
    ctx.git(&["fetch", "-q", "-f", "origin", "refs/tags/v1:refs/tags/v1"]);
    ok(&t.cosign(&t.carol, "v1", &["--push", "origin"]));
    let (_, reports) = ctx.verify_in(&remote, "staging", &["v1"]);
    assert_eq!(
        reports[0].signers(),
        signers(&[("alice", 1), ("bob", 2), ("carol", 3)])
    );

    // The refusal itself is an error like any other: one sentence.
    run.assert_error(&["changed on origin"]);
}

#[test]
fn sign_push_refuses_when_the_remote_already_has_the_tag() {
    let t = Team::new();
    let ctx = &t.ctx;
    let remote = with_origin(ctx);
    let theirs = push_from_another_clone(
        ctx,
        &remote,
        &t.bob,
        &["-m", "v1 signed by bob", "v1", "HEAD^1"],
        &["push", "-q", "origin", "refs/tags/v1"],
    );

    let run = t.sign(&t.alice, "v1", None, &["--push", "origin"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("changed on origin"), "{run:?}");
    assert_eq!(remote_tag(ctx, &remote, "v1"), theirs, "remote unchanged");
    assert!(!ctx.tag_exists("v1"), "local tag rolled back");
}
