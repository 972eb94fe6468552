//! Attacks on the command line, each built with real git and real gpg: a
//! trust root the verified repository carries itself, a co-signature lent
//! to a chain nobody trusted, a commit name that resolves to another commit
//! than the one meant, and a message that repaints a terminal or fakes the
//! lines sigtag writes. Each asserts the exit status and the sentence.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// alice, bob and staging trusted in the test's keys directory (outside
/// the repository); humans = [alice, bob]; mallory has a key nobody trusts.
struct World {
    ctx: Ctx,
    alice: Key,
    bob: Key,
    mallory: Key,
}

fn world() -> World {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    let bob = ctx.key("bob");
    let staging = ctx.key("staging");
    let mallory = ctx.key("mallory");
    for k in [&alice, &bob, &staging] {
        ctx.trust(k);
    }
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    World {
        ctx,
        alice,
        bob,
        mallory,
    }
}

/// `sigtag ARGS` run in `dir`, with SIGTAG_KEYS unset unless given.
fn sigtag_in(ctx: &Ctx, dir: &Path, args: &[&str], sigtag_keys: Option<&Path>) -> Run {
    let mut cmd = ctx.sigtag_cmd(dir);
    cmd.env_remove("SIGTAG_KEYS").args(args);
    if let Some(k) = sigtag_keys {
        cmd.env("SIGTAG_KEYS", k);
    }
    Ctx::run_cmd(cmd)
}

fn canonical(p: &Path) -> String {
    Ctx::path_str(&fs::canonicalize(p).unwrap())
}

/// Exit `code`, nothing on stdout, and exactly `sentence` on stderr.
fn assert_says(run: &Run, code: i32, sentence: &str) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (code, "", format!("sigtag: {sentence}\n").as_str()),
        "{run:?}"
    );
}

const ADVICE: &str = "anyone who can push to it could change the keys, so keep them in a \
                      separate reviewed repository and pass --keys DIR or set SIGTAG_KEYS";

/// The refusal of a keys directory shown as `shown` that lies at `dir`
/// inside `place` (for example "the work tree of the repository /x").
fn inside_sentence(shown: &str, dir: &Path, place: &str) -> String {
    format!(
        "the keys directory {shown} ({}) lies inside {place}; {ADVICE}",
        canonical(dir)
    )
}

/// mallory commits her own keys/ (her certificate, `require = "1 of
/// humans"` for prod) to the repository and pushes a tag she signed.
fn commit_hostile_keys(w: &World) -> std::path::PathBuf {
    let ctx = &w.ctx;
    let keys = ctx.repo.join("keys");
    fs::create_dir(&keys).unwrap();
    fs::write(
        keys.join("mallory.asc"),
        ctx.export_pub_from(&ctx.home, &w.mallory),
    )
    .unwrap();
    fs::write(
        keys.join("policy.toml"),
        "[groups]\nhumans = [\"mallory\"]\n\n[environments.prod]\nrequire = \"1 of humans\"\n",
    )
    .unwrap();
    ctx.git(&["add", "keys"]);
    ctx.git(&["commit", "-q", "-m", "Add keys"]);
    ctx.sign(&w.mallory, "v6.6.6", "HEAD", &Sig::default());
    keys
}

// ------------------------------------------------- 1. the keys directory

#[test]
fn keys_committed_in_the_verified_repository_are_refused() {
    let w = world();
    let ctx = &w.ctx;
    let keys = commit_hostile_keys(&w);
    let expected = inside_sentence(
        "./keys",
        &keys,
        &format!("the work tree of the repository {}", canonical(&ctx.repo)),
    );
    let alice = Ctx::path_str(&ctx.secret_key_file(&w.alice));
    ctx.chain("v1", &[&w.alice]);
    let before = ctx.rev_parse("refs/tags/v1");

    // Run from the repository's root with the default ./keys: every command
    // that reads a keys directory along with the repository refuses it.
    let runs: Vec<Vec<&str>> = vec![
        vec!["verify", "v6.6.6", "--env", "prod"],
        vec!["verify", "v6.6.6", "--env", "prod", "--json"],
        vec!["explain", "v6.6.6"],
        vec!["list", "--env", "prod"],
        vec!["sign", "v2", "--gpg-agent"],
        vec!["cosign", "v1", "--key", &alice],
        vec!["cosign", "v1", "--key", &alice, "--require", "1 of humans"],
    ];
    for args in runs {
        assert_says(&sigtag_in(ctx, &ctx.repo, &args, None), 2, &expected);
    }
    // Named explicitly, from anywhere, it is refused all the same.
    let named = Ctx::path_str(&keys);
    let repo = Ctx::path_str(&ctx.repo);
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "sign", "v2", "--key", &alice, "--keys", &named, "--repo", &repo,
        ],
        None,
    );
    assert_says(
        &run,
        2,
        &inside_sentence(
            &named,
            &keys,
            &format!("the work tree of the repository {}", canonical(&ctx.repo)),
        ),
    );
    assert!(!ctx.tag_exists("v2"), "no tag was created");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer was added");

    // The reviewed keys directory outside the repository says no.
    let r = ctx.verify_one("prod", "v6.6.6");
    assert!(!r.satisfied(), "{}", r.0);
}

#[test]
fn keys_inside_the_git_directory_are_refused() {
    let w = world();
    let ctx = &w.ctx;
    ctx.chain("v1", &[&w.alice, &w.bob]);
    let hidden = ctx.repo.join(".git").join("sigtag-keys");
    fs::create_dir(&hidden).unwrap();
    for f in ["alice.asc", "bob.asc", "staging.asc", "policy.toml"] {
        fs::copy(ctx.keys.join(f), hidden.join(f)).unwrap();
    }
    let (shown, repo) = (Ctx::path_str(&hidden), Ctx::path_str(&ctx.repo));
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "verify", "v1", "--env", "staging", "--keys", &shown, "--repo", &repo,
        ],
        None,
    );
    // A non-bare repository's work tree holds its git directory.
    assert_says(
        &run,
        2,
        &inside_sentence(
            &shown,
            &hidden,
            &format!("the work tree of the repository {}", canonical(&ctx.repo)),
        ),
    );

    // A bare repository has only a git directory.
    let bare = ctx.root.join("bare.git");
    ctx.git_in(&ctx.root, &["clone", "-q", "--bare", &repo, "bare.git"]);
    let in_bare = bare.join("keys");
    fs::create_dir(&in_bare).unwrap();
    for f in ["alice.asc", "bob.asc", "staging.asc", "policy.toml"] {
        fs::copy(ctx.keys.join(f), in_bare.join(f)).unwrap();
    }
    let run = sigtag_in(
        ctx,
        &bare,
        &["verify", "v1", "--env", "staging", "--json"],
        None,
    );
    assert_says(
        &run,
        2,
        &inside_sentence(
            "./keys",
            &in_bare,
            &format!("the git directory of the repository {}", canonical(&bare)),
        ),
    );
    // The same bare repository with the reviewed keys directory is fine.
    let (keys, bare_s) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&bare));
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "verify", "v1", "--env", "staging", "--keys", &keys, "--repo", &bare_s,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "v1: yes for staging (alice, bob)\n", "{run:?}");
}

#[test]
fn sigtag_keys_sets_the_default_and_is_checked_too() {
    let w = world();
    let ctx = &w.ctx;
    let hostile = commit_hostile_keys(&w);
    ctx.chain("v1", &[&w.alice, &w.bob]);

    // From the repository's root, SIGTAG_KEYS wins over the committed ./keys.
    let run = sigtag_in(
        ctx,
        &ctx.repo,
        &["verify", "v6.6.6", "v1", "--env", "staging"],
        Some(&ctx.keys),
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.starts_with("v6.6.6: no for staging")
            && run.stdout.contains("\nv1: yes for staging (alice, bob)\n"),
        "{run:?}"
    );
    // --keys wins over SIGTAG_KEYS.
    let elsewhere = ctx.root.join("elsewhere");
    let run = sigtag_in(
        ctx,
        &ctx.repo,
        &[
            "verify",
            "v1",
            "--env",
            "staging",
            "--keys",
            &Ctx::path_str(&elsewhere),
        ],
        Some(&ctx.keys),
    );
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("elsewhere not found"), "{run:?}");

    // SIGTAG_KEYS pointing into the repository is refused like --keys.
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "verify",
            "v6.6.6",
            "--env",
            "prod",
            "--repo",
            &Ctx::path_str(&ctx.repo),
        ],
        Some(&hostile),
    );
    assert_says(
        &run,
        2,
        &inside_sentence(
            &format!("{} (from SIGTAG_KEYS)", hostile.display()),
            &hostile,
            &format!("the work tree of the repository {}", canonical(&ctx.repo)),
        ),
    );

    // cosign reads it too: the signing key is checked against it.
    let bob = Ctx::path_str(&ctx.secret_key_file(&w.bob));
    ctx.sign(&w.alice, "v2", "HEAD", &Sig::default());
    let run = sigtag_in(
        ctx,
        &ctx.repo,
        &["cosign", "v2", "--key", &bob],
        Some(&ctx.keys),
    );
    assert_signed(
        &run,
        &format!("v2: signed layer 2 over commit {}", ctx.head()),
    );
}

/// Exit 0, nothing on stdout, and exactly `line` on stderr.
fn assert_signed(run: &Run, line: &str) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", format!("{line}\n").as_str()),
        "{run:?}"
    );
}

#[test]
fn keys_outside_the_repository_still_work() {
    let w = world();
    let ctx = &w.ctx;
    ctx.chain("v1", &[&w.alice, &w.bob]);
    let repo = Ctx::path_str(&ctx.repo);
    // Default ./keys, run from the test root beside the repository.
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &["verify", "v1", "--env", "staging", "--repo", &repo],
        None,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "v1: yes for staging (alice, bob)\n"),
        "{run:?}"
    );
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &["list", "--env", "staging", "--repo", &repo],
        None,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "v1: yes for staging (alice, bob)\n"),
        "{run:?}"
    );
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &["explain", "v1", "--env", "staging", "--repo", &repo],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    // A symbolic link to it from inside the repository's parent is fine:
    // what counts is where it leads.
    let link = ctx.root.join("keys-link");
    std::os::unix::fs::symlink(&ctx.keys, &link).unwrap();
    let run = sigtag_in(
        ctx,
        &ctx.repo,
        &[
            "verify",
            "v1",
            "--env",
            "staging",
            "--keys",
            &Ctx::path_str(&link),
        ],
        None,
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "v1: yes for staging (alice, bob)\n"),
        "{run:?}"
    );
}

#[test]
fn a_symlink_into_the_repository_is_refused() {
    let w = world();
    let ctx = &w.ctx;
    let hostile = commit_hostile_keys(&w);
    let repo = Ctx::path_str(&ctx.repo);
    let place = format!("the work tree of the repository {}", canonical(&ctx.repo));

    // The directory itself is a link into the repository.
    let link = ctx.root.join("reviewed-keys");
    std::os::unix::fs::symlink(&hostile, &link).unwrap();
    let shown = Ctx::path_str(&link);
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "verify", "v6.6.6", "--env", "prod", "--keys", &shown, "--repo", &repo,
        ],
        None,
    );
    assert_says(&run, 2, &inside_sentence(&shown, &hostile, &place));

    // A reviewed directory outside whose certificate file is a link into
    // the repository.
    let mixed = ctx.root.join("mixed-keys");
    fs::create_dir(&mixed).unwrap();
    fs::copy(ctx.keys.join("alice.asc"), mixed.join("alice.asc")).unwrap();
    std::os::unix::fs::symlink(hostile.join("mallory.asc"), mixed.join("mallory.asc")).unwrap();
    fs::write(
        mixed.join("policy.toml"),
        "[groups]\nhumans = [\"alice\", \"mallory\"]\n\n[environments.prod]\nrequire = \"1 of humans\"\n",
    )
    .unwrap();
    let shown = Ctx::path_str(&mixed);
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "verify", "v6.6.6", "--env", "prod", "--keys", &shown, "--repo", &repo,
        ],
        None,
    );
    assert_says(
        &run,
        2,
        &format!(
            "mallory.asc in the keys directory {shown} leads to {}, inside {place}; {ADVICE}",
            canonical(&hostile.join("mallory.asc"))
        ),
    );
}

#[test]
fn the_help_of_every_keys_option_says_what_is_checked() {
    let w = world();
    let ctx = &w.ctx;
    for cmd in ["verify", "explain", "list", "sign", "cosign"] {
        let run = sigtag_in(ctx, &ctx.root, &[cmd, "--help"], None);
        assert_eq!(run.code, 0, "{run:?}");
        let help = run.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        for fragment in [
            "[default: $SIGTAG_KEYS, else ./keys]",
            "inside the repository's work tree or git directory",
        ] {
            assert!(
                help.contains(fragment),
                "sigtag {cmd} --help lacks {fragment:?}: {help}"
            );
        }
    }
    let sign = sigtag_in(ctx, &ctx.root, &["sign", "--help"], None).stdout;
    let sign = sign.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        sign.contains("with --key FILE only when --keys or SIGTAG_KEYS names one"),
        "{sign}"
    );
    let cosign = sigtag_in(ctx, &ctx.root, &["cosign", "--help"], None).stdout;
    let cosign = cosign.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        cosign.contains("always read: the tag must already carry a signature that counts"),
        "{cosign}"
    );
}

// ------------------------------------- 2. co-signing what nobody trusted

#[test]
fn cosign_refuses_a_chain_signed_only_by_an_unknown_key() {
    let w = world();
    let ctx = &w.ctx;
    ctx.sign(&w.mallory, "v1", "HEAD", &Sig::default());
    let before = ctx.rev_parse("refs/tags/v1");
    let bob = Ctx::path_str(&ctx.secret_key_file(&w.bob));
    let repo = Ctx::path_str(&ctx.repo);
    let problem = ctx.verify_one("staging", "v1").problems();
    assert_eq!(problem.len(), 1, "{problem:?}");
    let (layer, reason) = &problem[0];
    assert_eq!(*layer, Some(1));
    assert!(
        reason.starts_with("signed by a key nobody trusts: "),
        "{reason}"
    );
    // With the default ./keys (beside the repository), and named.
    let keys = Ctx::path_str(&ctx.keys);
    for extra in [vec![], vec!["--keys", keys.as_str()]] {
        let mut args = vec!["cosign", "v1", "--key", &bob, "--repo", &repo];
        args.extend(extra);
        assert_says(
            &sigtag_in(ctx, &ctx.root, &args, None),
            1,
            &format!(
                "refusing to co-sign v1: no signature on it counts for a signer of the trust root \
                 (found layer 1: {reason}); a co-signature only adds to a chain a trusted signer has signed"
            ),
        );
    }
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer was added");
}

#[test]
fn cosign_refuses_an_unsigned_chain() {
    let w = world();
    let ctx = &w.ctx;
    ctx.git(&["tag", "-a", "-m", "v1 unsigned", "v1", "HEAD"]);
    let before = ctx.rev_parse("refs/tags/v1");
    let bob = Ctx::path_str(&ctx.secret_key_file(&w.bob));
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "cosign", "v1", "--key", &bob, "--keys", &keys, "--repo", &repo,
        ],
        None,
    );
    assert_says(
        &run,
        1,
        "refusing to co-sign v1: no signature on it counts for a signer of the trust root \
         (found layer 1: no signature); a co-signature only adds to a chain a trusted signer has signed",
    );
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer was added");
}

#[test]
fn cosign_env_takes_the_rule_from_the_policy() {
    let w = world();
    let ctx = &w.ctx;
    let staging = ctx.key("staging2");
    ctx.trust(&staging);
    ctx.standard_policy(&["alice", "bob"], &["staging", "staging2"]);
    ctx.chain("v1", &[&w.alice]);
    let before = ctx.rev_parse("refs/tags/v1");
    let file = Ctx::path_str(&ctx.secret_key_file(&staging));
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let cosign = |extra: &[&str]| {
        let mut args = vec![
            "cosign", "v1", "--key", &file, "--keys", &keys, "--repo", &repo,
        ];
        args.extend_from_slice(extra);
        sigtag_in(ctx, &ctx.root, &args, None)
    };
    assert_says(
        &cosign(&["--env", "staging"]),
        1,
        "refusing to co-sign v1: it does not meet \"2 of humans\" yet: needs 1 more of humans other than alice",
    );
    assert_says(
        &cosign(&["--env", "qa"]),
        2,
        &format!(
            "{}: no environment \"qa\"; add [environments.qa] or use one of: prod, staging",
            ctx.keys.join("policy.toml").display()
        ),
    );
    let both = cosign(&["--env", "staging", "--require", "1 of humans"]);
    assert_eq!((both.code, both.stdout.as_str()), (2, ""), "{both:?}");
    assert!(
        both.stderr.contains("--env") && both.stderr.contains("--require"),
        "{both:?}"
    );
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer was added");

    ctx.cosign(&w.bob, "v1", &Sig::default());
    assert_signed(
        &cosign(&["--env", "staging"]),
        &format!("v1: signed layer 3 over commit {}", ctx.head()),
    );
    let r = ctx.verify_one("prod", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2), ("staging2", 3)]);

    // The refusal names the signatures that did not count, as a verdict
    // line does: here one by a key in nobody's file.
    ctx.chain("v2", &[&w.alice, &w.mallory]);
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "cosign", "v2", "--key", &file, "--keys", &keys, "--repo", &repo, "--env", "staging",
        ],
        None,
    );
    assert_says(
        &run,
        1,
        &format!(
            "refusing to co-sign v2: it does not meet \"2 of humans\" yet: needs 1 more of humans \
             other than alice; 1 signature not counted: signed by a key nobody trusts: {}…",
            &w.mallory.fpr[..8]
        ),
    );
}

#[test]
fn sign_and_cosign_name_the_commit_they_vouch_for() {
    let w = world();
    let ctx = &w.ctx;
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let alice = Ctx::path_str(&ctx.secret_key_file(&w.alice));
    let bob = Ctx::path_str(&ctx.secret_key_file(&w.bob));
    let first = ctx.rev_parse("HEAD^1");
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &["sign", "v1", "HEAD^1", "--key", &alice, "--repo", &repo],
        None,
    );
    assert_signed(&run, &format!("v1: signed layer 1 over commit {first}"));
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "cosign", "v1", "--key", &bob, "--keys", &keys, "--repo", &repo,
        ],
        None,
    );
    assert_signed(&run, &format!("v1: signed layer 2 over commit {first}"));
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "cosign", "v1", "--key", &alice, "--keys", &keys, "--repo", &repo,
        ],
        None,
    );
    assert_signed(
        &run,
        &format!("v1: this key already signed layer 1 over commit {first}; nothing to do"),
    );
}

// ------------------------------------------ 3. ambiguous commit names

/// `sigtag sign NAME COMMIT --key alice --repo REPO`.
fn sign_at(w: &World, name: &str, commit: &str) -> Run {
    let ctx = &w.ctx;
    let alice = Ctx::path_str(&ctx.secret_key_file(&w.alice));
    let repo = Ctx::path_str(&ctx.repo);
    sigtag_in(
        ctx,
        &ctx.root,
        &["sign", name, commit, "--key", &alice, "--repo", &repo],
        None,
    )
}

#[test]
fn a_pushed_tag_named_main_does_not_redirect_the_signature() {
    let w = world();
    let ctx = &w.ctx;
    let main = ctx.head();
    let feature = ctx.rev_parse("HEAD^2");
    // Someone who can push tags makes a tag main on their own commit.
    ctx.sign(&w.mallory, "main", &feature, &Sig::default());
    assert_eq!(
        ctx.rev_parse("main^{commit}"),
        feature,
        "git itself takes the tag"
    );
    for spec in ["main", "main~1", "main^"] {
        assert_says(
            &sign_at(&w, "v1", spec),
            2,
            &format!(
                "the commit name \"{spec}\" is ambiguous: \"main\" names refs/tags/main (commit {feature}) \
                 and refs/heads/main (commit {main}); pass the full commit id or a full ref name such as refs/heads/main"
            ),
        );
        assert!(!ctx.tag_exists("v1"), "no tag was created");
    }
    // Explicit names still work, and say what they signed.
    assert_signed(
        &sign_at(&w, "v1", "refs/heads/main"),
        &format!("v1: signed layer 1 over commit {main}"),
    );
    assert_signed(
        &sign_at(&w, "v2", &main),
        &format!("v2: signed layer 1 over commit {main}"),
    );
    assert_signed(
        &sign_at(&w, "v3", "HEAD"),
        &format!("v3: signed layer 1 over commit {main}"),
    );
    for (tag, commit) in [("v1", &main), ("v2", &main), ("v3", &main)] {
        assert_eq!(&ctx.rev_parse(&format!("{tag}^{{commit}}")), commit);
    }
}

#[test]
fn a_ref_named_like_an_abbreviated_id_does_not_shadow_it() {
    let w = world();
    let ctx = &w.ctx;
    let first = ctx.rev_parse("HEAD^1");
    let feature = ctx.rev_parse("HEAD^2");
    let short = &first[..9];
    // A branch named like the abbreviation of the commit to be tagged,
    // on another commit: libgit2 and git both take the ref.
    ctx.git(&["branch", short, &feature]);
    assert_eq!(ctx.rev_parse(&format!("{short}^{{commit}}")), feature);
    assert_says(
        &sign_at(&w, "v1", short),
        2,
        &format!(
            "the commit name \"{short}\" is ambiguous: \"{short}\" names refs/heads/{short} (commit {feature}) \
             and the abbreviated object id (commit {first}); pass the full commit id or a full ref name such as refs/heads/{short}"
        ),
    );
    assert!(!ctx.tag_exists("v1"), "no tag was created");
    // The full id is what it says.
    assert_signed(
        &sign_at(&w, "v1", &first),
        &format!("v1: signed layer 1 over commit {first}"),
    );
    assert_eq!(ctx.rev_parse("v1^{commit}"), first);
    // A full id that names no object is not looked up as a ref.
    let absent = "0123456789abcdef0123456789abcdef01234567";
    ctx.git(&["update-ref", &format!("refs/heads/{absent}"), &feature]);
    assert_says(
        &sign_at(&w, "v2", absent),
        2,
        &format!("\"{absent}\" does not name a commit in this repository"),
    );
    assert!(!ctx.tag_exists("v2"), "no tag was created");
}

#[test]
fn plain_names_without_a_clash_work() {
    let w = world();
    let ctx = &w.ctx;
    let main = ctx.head();
    let first = ctx.rev_parse("HEAD^1");
    assert_signed(
        &sign_at(&w, "v1", "main"),
        &format!("v1: signed layer 1 over commit {main}"),
    );
    assert_signed(
        &sign_at(&w, "v2", "main~1"),
        &format!("v2: signed layer 1 over commit {first}"),
    );
    assert_signed(
        &sign_at(&w, "v3", &first[..9]),
        &format!("v3: signed layer 1 over commit {first}"),
    );
    // Tagging a tag's commit by the tag's name is no clash either.
    assert_signed(
        &sign_at(&w, "v4", "v2"),
        &format!("v4: signed layer 1 over commit {first}"),
    );
}

// ---------------------------------------------------- 4. the message

#[test]
fn control_characters_in_the_message_do_not_reach_the_tag_object() {
    let w = world();
    let ctx = &w.ctx;
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let alice = Ctx::path_str(&ctx.secret_key_file(&w.alice));
    let bob = Ctx::path_str(&ctx.secret_key_file(&w.bob));
    let hostile = "Release\x1b[2J\x1b[32m approved\r\nby \u{202E}bob\u{200B}\rok\x07";
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "sign", "v1", "--key", &alice, "-m", hostile, "--repo", &repo,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "cosign", "v1", "--key", &bob, "-m", hostile, "--keys", &keys, "--repo", &repo,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{run:?}");
    let outer = ctx.rev_parse("refs/tags/v1");
    let inner = ctx.cat_tag(&outer).lines().next().unwrap()["object ".len()..].to_string();
    assert_eq!(ctx.git(&["cat-file", "-t", &inner]), "tag");
    for layer in [outer, inner] {
        let text = String::from_utf8(ctx.tag_object(&layer)).unwrap();
        for bad in ['\x1b', '\r', '\x07', '\u{202E}', '\u{200B}'] {
            assert!(!text.contains(bad), "{bad:?} reached {layer}: {text:?}");
        }
        let message = text.split_once("\n\n").unwrap().1;
        assert!(
            message
                .starts_with("Release [2J [32m approved\nby bob ok\n-----BEGIN PGP SIGNATURE-----"),
            "{message:?}"
        );
    }
    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2)]);
}

#[test]
fn a_message_that_fakes_a_trailer_is_refused() {
    let w = world();
    let ctx = &w.ctx;
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let alice = Ctx::path_str(&ctx.secret_key_file(&w.alice));
    let bob = Ctx::path_str(&ctx.secret_key_file(&w.bob));
    let fake = "Release one\n\nBUILD_PIPELINE_NAME=prod\nBUILD_JOB_NAME=deploy\n";
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &["sign", "v1", "--key", &alice, "-m", fake, "--repo", &repo],
        None,
    );
    assert_says(
        &run,
        2,
        "-m: line 3 (\"BUILD_PIPELINE_NAME=prod\") looks like a trailer sigtag writes itself; \
         remove it, sigtag adds those lines",
    );
    assert!(!ctx.tag_exists("v1"), "no tag was created");

    ctx.chain("v1", &[&w.alice]);
    let before = ctx.rev_parse("refs/tags/v1");
    let head = ctx.head();
    let fake = format!("Tested in staging.\nSigtag-Tested-From: {head}\n");
    let run = sigtag_in(
        ctx,
        &ctx.root,
        &[
            "cosign", "v1", "--key", &bob, "-m", &fake, "--keys", &keys, "--repo", &repo,
        ],
        None,
    );
    assert_says(
        &run,
        2,
        &format!(
            "-m: line 2 (\"{}\") looks like a trailer sigtag writes itself; \
             remove it, sigtag adds those lines",
            &format!("Sigtag-Tested-From: {head}")[..40]
        ),
    );
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before, "no layer was added");
}

#[test]
fn keys_in_the_main_work_tree_of_a_linked_work_tree_are_refused() {
    let w = world();
    let ctx = &w.ctx;
    let hostile = commit_hostile_keys(&w);
    let linked = ctx.root.join("linked");
    ctx.git(&["worktree", "add", "-q", &Ctx::path_str(&linked), "HEAD"]);
    let shown = Ctx::path_str(&hostile);
    let run = sigtag_in(
        ctx,
        &linked,
        &["verify", "v6.6.6", "--env", "prod", "--keys", &shown],
        None,
    );
    assert_says(
        &run,
        2,
        &inside_sentence(
            &shown,
            &hostile,
            &format!(
                "the main work tree of the repository {}",
                canonical(&ctx.repo)
            ),
        ),
    );
}
