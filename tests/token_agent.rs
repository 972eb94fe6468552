//! `sigtag sign/cosign --gpg-agent` against a real gpg-agent holding the
//! keys in a temporary GNUPGHOME (loopback pinentry allowed), and the rule
//! that whatever signs must be a key the keys directory counts.

mod common;
mod token_support;

use common::*;
use token_support::*;

struct Team {
    ctx: Ctx,
    alice: Key,
    bob: Key,
}

fn team() -> Team {
    let ctx = Ctx::new();
    configure_gnupg_home(&ctx.home);
    let alice = ctx.key("alice");
    let bob = ctx.key("bob");
    ctx.trust(&alice);
    ctx.trust(&bob);
    humans_policy(&ctx, &["alice", "bob"]);
    Team { ctx, alice, bob }
}

/// `sigtag ARGS` with the test's GNUPGHOME, so sigtag reaches its agent.
fn agent_run(ctx: &Ctx, args: &[&str], passphrase: Option<&str>) -> Run {
    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args(args).env("GNUPGHOME", &ctx.home);
    if let Some(p) = passphrase {
        cmd.env("SIGTAG_PASSPHRASE", p);
    }
    Ctx::run_cmd(cmd)
}

/// `sigtag VERB v1 --gpg-agent [KEY] --keys KEYS --repo REPO` through
/// the test's agent.
fn agent_sign(ctx: &Ctx, verb: &str, key: Option<&str>, passphrase: Option<&str>) -> Run {
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    let mut args = vec![verb, "v1", "--gpg-agent"];
    args.extend(key);
    args.extend(["--keys", &keys, "--repo", &repo]);
    agent_run(ctx, &args, passphrase)
}

fn no_tag(ctx: &Ctx, name: &str) {
    assert!(!ctx.tag_exists(name), "no tag {name} was created");
}

#[test]
fn agent_signs_and_cosigns_and_git_and_sigtag_verify() {
    let t = team();
    let ctx = &t.ctx;

    // alice names her key; bob relies on git config user.email.
    ok(&agent_sign(ctx, "sign", Some(&t.alice.fpr), None));
    assert_signed_by(ctx, "v1", &t.alice.fpr);

    ctx.git(&["config", "user.email", "bob@example.org"]);
    ok(&agent_sign(ctx, "cosign", None, None));
    assert_signed_by(ctx, "v1", &t.bob.fpr);
    git_verify_tag(ctx, "v1^{tag}");

    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2)]);
    let object = ctx.cat_tag("v1");
    assert!(object.contains("tagger bob <bob@example.org>"), "{object}");
}

#[test]
fn user_signingkey_wins_over_user_email() {
    let t = team();
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    ctx.git(&["config", "user.email", "alice@example.org"]);
    ctx.git(&["config", "user.signingkey", &t.bob.fpr]);
    ok(&agent_sign(ctx, "cosign", None, None));
    assert_signed_by(ctx, "v1", &t.bob.fpr);
    let r = ctx.verify_one("staging", "v1");
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));
}

#[test]
fn default_keys_directory_is_dot_keys() {
    let t = team();
    let ctx = &t.ctx;
    let repo = path(&ctx.repo);
    // sigtag runs in the test root, where keys/ is.
    ok(&agent_run(
        ctx,
        &[
            "sign",
            "v1",
            "--gpg-agent",
            "bob@example.org",
            "--repo",
            &repo,
        ],
        None,
    ));
    assert_signed_by(ctx, "v1", &t.bob.fpr);
}

#[test]
fn passphrase_through_loopback_pinentry() {
    let t = team();
    let ctx = &t.ctx;
    let dave = ctx.key_with_passphrase("dave", "correct horse");
    ctx.trust(&dave);
    humans_policy(ctx, &["alice", "bob", "dave"]);

    // Wrong passphrase first (a right one would be cached by the agent).
    agent_sign(ctx, "sign", Some(&dave.fpr), Some("wrong")).assert_error(&["passphrase"]);
    no_tag(ctx, "v1");

    ok(&agent_sign(
        ctx,
        "sign",
        Some(&dave.fpr),
        Some("correct horse"),
    ));
    assert_signed_by(ctx, "v1", &dave.fpr);
    let r = ctx.verify_one("staging", "v1");
    assert_eq!(r.signers(), signers(&[("dave", 1)]));
}

#[test]
fn key_without_a_certificate_in_the_keys_directory_is_refused() {
    let t = team();
    let ctx = &t.ctx;
    let carol = ctx.key("carol");

    // The agent has carol's key, but no signer file holds her certificate.
    agent_sign(ctx, "sign", Some(&carol.fpr), None).assert_error(&[&carol.fpr, "keys"]);
    no_tag(ctx, "v1");

    // By email: no certificate with that user ID.
    ctx.git(&["config", "user.email", "carol@example.org"]);
    agent_sign(ctx, "sign", None, None)
        .assert_error(&["carol@example.org", "git config user.email"]);
    no_tag(ctx, "v1");
}

#[test]
fn certificate_in_the_keys_directory_but_secret_key_not_in_the_agent() {
    let t = team();
    let ctx = &t.ctx;
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    // A second GnuPG home whose agent holds only bob's key.
    let other = other_gnupg_home(ctx, "other-home");
    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args([
        "sign",
        "v1",
        "--gpg-agent",
        &t.alice.fpr,
        "--keys",
        &keys,
        "--repo",
        &repo,
    ])
    .env("GNUPGHOME", &other);
    let run = Ctx::run_cmd(cmd);
    common::gpg::kill_agents(&other);
    run.assert_error(&["holds no secret key", "alice"]);
    no_tag(ctx, "v1");
}

#[test]
fn key_file_is_checked_against_a_keys_directory_given() {
    let t = team();
    let ctx = &t.ctx;
    let carol = ctx.key("carol");
    let file = path(&ctx.secret_key_file(&carol));
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));

    // With --keys: refused, and the message says where the certificate goes.
    ctx.sigtag(&[
        "sign", "v1", "--key", &file, "--keys", &keys, "--repo", &repo,
    ])
    .assert_error(&["refusing to sign", &carol.fpr, "not in any signer's file"]);
    no_tag(ctx, "v1");

    // Same user ID as a signer's certificate: that signer's file is named.
    let impostor = gen_key_with_uid(ctx, "Bob Again <bob@example.org>");
    assert_ne!(impostor, t.bob.fpr);
    let file2 = path(&ctx.root.join("bob2.sec.asc"));
    std::fs::write(&file2, common::gpg::export_secret(&ctx.home, &impostor, "")).unwrap();
    ctx.sigtag(&[
        "sign", "v1", "--key", &file2, "--keys", &keys, "--repo", &repo,
    ])
    .assert_error(&["refusing to sign", "bob.asc"]);
    no_tag(ctx, "v1");

    // cosign --require loads the keys directory, so the check applies.
    ctx.chain("v1", &[&t.alice, &t.bob]);
    let before = ctx.rev_parse("refs/tags/v1");
    ctx.cosign_requiring("v1", &file, "2 of humans")
        .assert_error(&["refusing to sign"]);
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);

    // Without a keys directory named, a key file signs as before.
    let run = ctx.sigtag(&["sign", "v2", "--key", &file, "--repo", &repo]);
    ok(&run);
}

#[test]
fn expired_certificate_in_the_keys_directory_is_refused() {
    let t = team();
    let ctx = &t.ctx;
    let erin = ctx.key_created("erin", now() - 3 * DAY, "1d");
    ctx.trust(&erin);
    humans_policy(ctx, &["alice", "bob", "erin"]);
    agent_sign(ctx, "sign", Some(&erin.fpr), None).assert_error(&["erin", "no live signing key"]);
    no_tag(ctx, "v1");
}

#[test]
fn several_certificates_for_one_email_ask_for_a_fingerprint() {
    let t = team();
    let ctx = &t.ctx;
    let other = Key {
        name: "alice2".into(),
        fpr: gen_key_with_uid(ctx, "Alice Two <alice@example.org>"),
    };
    ctx.trust(&other);
    ctx.git(&["config", "user.email", "alice@example.org"]);
    agent_sign(ctx, "sign", None, None).assert_error(&["alice, alice2", "--gpg-agent FPR"]);
    // Naming the fingerprint resolves it.
    ok(&agent_sign(ctx, "sign", Some(&other.fpr), None));
    git_verify_tag(ctx, "v1");
}
