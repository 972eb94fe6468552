//! `sigtag sign/cosign --card` and `sigtag card list` against a virtual
//! OpenPGP card (ifd-jcecard) that speaks the real card protocol to pcscd.
//! Each test generates a fresh Ed25519 key on the card, puts its
//! certificate in the keys directory, signs, and verifies with sigtag and
//! with git. Without pcscd and the virtual card these tests fail; run
//! tests/token_support/setup.sh first.

mod common;
mod token_support;

use common::*;
use token_support::*;

struct Team {
    ctx: Ctx,
    alice: Key,
    card: Provisioned,
}

/// alice (a gpg key) and carol (the card) are the humans; the card's
/// certificate is in keys/carol.asc and in gpg's keyring for git.
fn team(touch: bool) -> Team {
    let ctx = Ctx::new();
    configure_gnupg_home(&ctx.home);
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let card = provision("carol", "Reviewer<<Carol", touch);
    card.trust_as(&ctx.keys, "carol");
    gpg_import(&ctx.home, &card.armored());
    humans_policy(&ctx, &["alice", "carol"]);
    Team { ctx, alice, card }
}

fn card_run(ctx: &Ctx, args: &[&str], pin: Option<&str>) -> Run {
    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args(args);
    match pin {
        Some(p) => cmd.env("SIGTAG_CARD_PIN", p),
        None => cmd.env_remove("SIGTAG_CARD_PIN"),
    };
    Ctx::run_cmd(cmd)
}

/// `sigtag cosign v1 --card --keys KEYS --repo REPO` with `pin`.
fn card_cosign(ctx: &Ctx, pin: Option<&str>) -> Run {
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    card_run(
        ctx,
        &["cosign", "v1", "--card", "--keys", &keys, "--repo", &repo],
        pin,
    )
}

#[test]
fn card_cosigns_and_git_and_sigtag_verify() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    ctx.chain("v1", &[&t.alice]);

    let run = card_cosign(ctx, Some(USER_PIN));
    ok(&run);
    assert!(!run.stderr.contains("touch"), "{run:?}");

    // git and gpg accept the card's layer as they accept their own.
    let status = git_verify_tag(ctx, "v1");
    assert!(
        status.contains(&format!("VALIDSIG {}", t.card.fpr())),
        "made by the card's key: {status}"
    );
    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1), ("carol", 2)]);
    let object = ctx.cat_tag("v1");
    assert!(
        object.contains("tagger carol <carol@example.org>"),
        "{object}"
    );

    // The same card again: already signed, nothing changes.
    let before = ctx.rev_parse("refs/tags/v1");
    let again = card_run(
        ctx,
        &[
            "cosign",
            "v1",
            "--card",
            &t.card.ident,
            "--keys",
            &keys,
            "--repo",
            &repo,
        ],
        Some(USER_PIN),
    );
    ok(&again);
    assert!(again.stderr.contains("already signed"), "{again:?}");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
}

#[test]
fn card_makes_the_first_layer_too() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    ok(&card_run(
        ctx,
        &["sign", "v2", "--card", "--keys", &keys, "--repo", &repo],
        Some(USER_PIN),
    ));
    ctx.cosign(&t.alice, "v2", &Sig::default());
    git_verify_tag(ctx, "v2");
    git_verify_tag(ctx, "v2^{tag}");
    let r = ctx.verify_one("staging", "v2");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("carol", 1), ("alice", 2)]));
}

#[test]
fn card_list_shows_ident_holder_key_and_signer() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    let keys = path(&ctx.keys);
    let run = card_run(ctx, &["card", "list", "--keys", &keys], None);
    ok(&run);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&t.card.ident))
        .unwrap_or_else(|| panic!("no line for {}: {run:?}", t.card.ident));
    assert!(line.contains("Carol Reviewer"), "{line}");
    assert!(line.contains(&t.card.fpr()), "{line}");
    assert!(line.contains("signer carol"), "{line}");
    assert!(line.contains("3 PIN tries left"), "{line}");

    // A keys directory without the card's certificate says so.
    std::fs::remove_file(ctx.keys.join("carol.asc")).unwrap();
    humans_policy(ctx, &["alice"]);
    let run = card_run(ctx, &["card", "list", "--keys", &keys], None);
    ok(&run);
    assert!(run.stdout.contains(&t.card.fpr()), "{run:?}");
    assert!(run.stdout.contains("not in"), "{run:?}");
    assert!(!run.stdout.contains("signer carol"), "{run:?}");

    // A keys directory named but missing is a configuration error.
    let missing = path(&ctx.root.join("nokeys"));
    card_run(ctx, &["card", "list", "--keys", &missing], None).assert_error(&["nokeys"]);
}

#[test]
fn wrong_pin_reports_tries_left_and_never_retries() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    let before = ctx.rev_parse("refs/tags/v1");
    assert_eq!(pin_tries_left(), 3);

    let run = card_cosign(ctx, Some("654321"));
    run.assert_error(&["wrong PIN", "2 tries left"]);
    // Exactly one try was used: sigtag did not try again by itself.
    assert_eq!(pin_tries_left(), 2);
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer added");

    let run = card_cosign(ctx, Some("000000"));
    run.assert_error(&["wrong PIN", "1 try left"]);
    assert_eq!(pin_tries_left(), 1);

    // The right PIN works and restores the counter.
    ok(&card_cosign(ctx, Some(USER_PIN)));
    assert_eq!(pin_tries_left(), 3);
    git_verify_tag(ctx, "v1");
}

#[test]
fn no_pin_and_no_terminal_is_an_error() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    card_cosign(ctx, None).assert_error(&["SIGTAG_CARD_PIN"]);
    assert_eq!(pin_tries_left(), 3, "no PIN was tried");
}

#[test]
fn touch_required_says_touch_your_token() {
    let _card = card_lock();
    let t = team(true);
    let ctx = &t.ctx;
    let keys = path(&ctx.keys);
    ctx.chain("v1", &[&t.alice]);
    let run = card_cosign(ctx, Some(USER_PIN));
    ok(&run);
    assert!(run.stderr.contains("touch your token"), "{run:?}");
    let list = card_run(ctx, &["card", "list", "--keys", &keys], None);
    assert!(list.stdout.contains("touch required"), "{list:?}");
    git_verify_tag(ctx, "v1");
}

#[test]
fn card_key_not_in_the_keys_directory_is_refused() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    ctx.chain("v1", &[&t.alice]);
    std::fs::remove_file(ctx.keys.join("carol.asc")).unwrap();
    humans_policy(ctx, &["alice"]);
    let before = ctx.rev_parse("refs/tags/v1");
    card_cosign(ctx, Some(USER_PIN)).assert_error(&[
        "refusing to sign",
        &t.card.fpr(),
        "not in any signer's file",
    ]);
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
    assert_eq!(pin_tries_left(), 3, "refused before the PIN was presented");
}

#[test]
fn unknown_card_ident_is_an_error() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    ctx.chain("v1", &[&t.alice]);
    card_run(
        ctx,
        &[
            "cosign",
            "v1",
            "--card",
            "FFFF:00000000",
            "--keys",
            &keys,
            "--repo",
            &repo,
        ],
        Some(USER_PIN),
    )
    .assert_error(&["FFFF:00000000", &t.card.ident]);
}

/// The reviewer's other way: gpg-agent with scdaemon in front of the same
/// card. `sigtag --gpg-agent` and plain `git tag -s -f` both sign on it.
#[test]
fn gpg_agent_signs_with_the_card_behind_scdaemon() {
    let _card = card_lock();
    let t = team(false);
    let ctx = &t.ctx;
    let (keys, repo) = (path(&ctx.keys), path(&ctx.repo));
    ctx.chain("v1", &[&t.alice]);
    // gpg learns that the key lives on the card (a stub in the agent).
    let status = ctx.gpg_output(&ctx.home, &["--card-status"]);
    assert!(
        status.status.success(),
        "gpg --card-status through scdaemon and pcscd: {}",
        String::from_utf8_lossy(&status.stderr)
    );

    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args([
        "cosign",
        "v1",
        "--gpg-agent",
        &t.card.fpr(),
        "--keys",
        &keys,
        "--repo",
        &repo,
    ])
    .env("GNUPGHOME", &ctx.home)
    // The card's PIN, answered through loopback pinentry.
    .env("SIGTAG_PASSPHRASE", USER_PIN);
    let run = Ctx::run_cmd(cmd);
    ok(&run);
    assert_signed_by(ctx, "v1", &t.card.fpr());
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("carol", 2)]));
}
