//! Errors that stop sigtag before it gives a verdict: exit 2, one sentence
//! on stderr starting with `sigtag: `, nothing on stdout.

mod common;

use common::*;
use std::fs;

/// alice, bob and staging trusted; humans = [alice, bob]; a satisfied v1.
fn setup() -> (Ctx, Key, Key) {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    let bob = ctx.key("bob");
    let staging = ctx.key("staging");
    for k in [&alice, &bob, &staging] {
        ctx.trust(k);
    }
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    ctx.chain("v1", &[&alice, &bob]);
    (ctx, alice, bob)
}

fn policy_with(humans: &str, require: &str) -> String {
    format!(
        "[groups]\nhumans = [{humans}]\npipelines = [\"staging\"]\n\n\
         [environments.staging]\nrequire = \"{require}\"\n"
    )
}

/// Runs `verify` (on a tag that does not exist, so a verdict would be
/// exit 1), `verify` on a good tag, and `list`: configuration errors come
/// before any tag is looked at, so all three must fail the same way.
fn assert_config_error(ctx: &Ctx, env: &str, fragments: &[&str]) {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    for tag in ["no-such-tag", "v1"] {
        ctx.sigtag(&[
            "verify", tag, "--env", env, "--keys", &keys, "--repo", &repo, "--json",
        ])
        .assert_error(fragments);
    }
    ctx.sigtag(&["list", "--env", env, "--keys", &keys, "--repo", &repo])
        .assert_error(fragments);
}

#[test]
fn baseline_configuration_is_valid() {
    let (ctx, _, _) = setup();
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
}

#[test]
fn unknown_group() {
    let (ctx, _, _) = setup();
    ctx.policy(&policy_with("\"alice\", \"bob\"", "2 of admins"));
    assert_config_error(
        &ctx,
        "staging",
        &[r#"unknown group "admins""#, "policy.toml"],
    );
}

#[test]
fn n_larger_than_the_group() {
    let (ctx, _, _) = setup();
    ctx.policy(&policy_with("\"alice\", \"bob\"", "3 of humans"));
    assert_config_error(
        &ctx,
        "staging",
        &["needs 3 of humans but the group has only 2", "policy.toml"],
    );
}

#[test]
fn signer_without_a_file() {
    let (ctx, _, _) = setup();
    ctx.policy(&policy_with("\"alice\", \"bob\", \"dave\"", "2 of humans"));
    assert_config_error(
        &ctx,
        "staging",
        &[r#"no certificate file for signer "dave""#],
    );
}

#[test]
fn unreadable_certificate() {
    let (ctx, _, _) = setup();
    fs::write(ctx.keys.join("alice.asc"), "this is not a key\n").unwrap();
    assert_config_error(
        &ctx,
        "staging",
        &["alice.asc", "not an OpenPGP certificate"],
    );
}

#[test]
fn truncated_certificate() {
    let (ctx, _, _) = setup();
    let path = ctx.keys.join("alice.asc");
    let text = fs::read_to_string(&path).unwrap();
    let cut: String = text.lines().take(4).collect::<Vec<_>>().join("\n");
    fs::write(&path, cut).unwrap();
    assert_config_error(
        &ctx,
        "staging",
        &["alice.asc", "not an OpenPGP certificate"],
    );
}

#[test]
fn secret_key_in_the_keys_directory() {
    let (ctx, alice, _) = setup();
    let secret = ctx.secret_key_file(&alice);
    fs::copy(&secret, ctx.keys.join("alice.asc")).unwrap();
    assert_config_error(&ctx, "staging", &["secret key material", "alice.asc"]);
}

#[test]
fn same_certificate_under_two_names() {
    let (ctx, alice, _) = setup();
    ctx.trust_as(&alice, "carol");
    ctx.policy(&policy_with("\"alice\", \"bob\", \"carol\"", "2 of humans"));
    assert_config_error(&ctx, "staging", &["same certificate", "alice", "carol"]);
}

#[test]
fn rule_syntax_error_names_the_column() {
    let (ctx, _, _) = setup();
    // "&" is at column 13.
    ctx.policy(&policy_with(
        "\"alice\", \"bob\"",
        "2 of humans & 1 of pipelines",
    ));
    assert_config_error(&ctx, "staging", &["column 13", "policy.toml"]);
}

#[test]
fn rule_missing_of_names_the_column() {
    let (ctx, _, _) = setup();
    // "humans" is at column 3 where "of" belongs.
    ctx.policy(&policy_with("\"alice\", \"bob\"", "2 humans"));
    assert_config_error(&ctx, "staging", &["column 3"]);
}

#[test]
fn toml_syntax_error() {
    let (ctx, _, _) = setup();
    ctx.policy("[groups\nhumans = [\"alice\", \"bob\"]\n");
    assert_config_error(&ctx, "staging", &["policy.toml", "line"]);
}

#[test]
fn unknown_environment() {
    let (ctx, _, _) = setup();
    assert_config_error(&ctx, "qa", &[r#"no environment "qa""#]);
}

#[test]
fn missing_keys_directory() {
    let (ctx, _, _) = setup();
    let repo = Ctx::path_str(&ctx.repo);
    let nokeys = Ctx::path_str(&ctx.root.join("nokeys"));
    ctx.sigtag(&[
        "verify", "v1", "--env", "staging", "--keys", &nokeys, "--repo", &repo,
    ])
    .assert_error(&["nokeys"]);

    // Default ./keys, run from a directory without one.
    let mut cmd = ctx.sigtag_cmd(&ctx.repo);
    cmd.args(["verify", "v1", "--env", "staging"]);
    Ctx::run_cmd(cmd).assert_error(&["keys"]);
}

#[test]
fn missing_policy_file() {
    let (ctx, _, _) = setup();
    fs::remove_file(ctx.keys.join("policy.toml")).unwrap();
    assert_config_error(&ctx, "staging", &["policy.toml"]);
}

#[test]
fn unexpected_file_in_the_keys_directory() {
    let (ctx, _, _) = setup();
    fs::write(ctx.keys.join("notes.txt"), "hello\n").unwrap();
    assert_config_error(&ctx, "staging", &["notes.txt"]);
}

#[test]
fn readme_and_dotfiles_are_ignored() {
    let (ctx, _, _) = setup();
    fs::write(ctx.keys.join("README.md"), "# keys\n").unwrap();
    fs::write(ctx.keys.join(".gitattributes"), "* text\n").unwrap();
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
}

#[test]
fn signer_file_with_a_bad_name() {
    let (ctx, alice, _) = setup();
    ctx.trust_as(&alice, "Alice");
    fs::remove_file(ctx.keys.join("alice.asc")).unwrap();
    assert_config_error(&ctx, "staging", &["Alice.asc"]);
}

#[test]
fn not_a_git_repository() {
    let (ctx, _, _) = setup();
    let empty = ctx.root.join("empty");
    fs::create_dir(&empty).unwrap();
    let keys = Ctx::path_str(&ctx.keys);
    let empty_s = Ctx::path_str(&empty);
    ctx.sigtag(&[
        "verify", "v1", "--env", "staging", "--keys", &keys, "--repo", &empty_s,
    ])
    .assert_error(&[&empty_s]);
    ctx.sigtag(&[
        "list", "--env", "staging", "--keys", &keys, "--repo", &empty_s,
    ])
    .assert_error(&[&empty_s]);
}

#[test]
fn usage_errors_exit_2() {
    let (ctx, _, _) = setup();
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["frobnicate"],
        vec!["verify", "v1", "--keys", &keys, "--repo", &repo],
        vec![
            "verify", "--env", "staging", "--keys", &keys, "--repo", &repo,
        ],
        vec!["sign", "v1", "--repo", &repo],
        vec!["list", "--env", "staging", "--bogus"],
    ];
    for args in cases {
        let run = ctx.sigtag(&args);
        assert_eq!(run.code, 2, "sigtag {args:?}: {run:?}");
        assert_eq!(run.stdout, "", "sigtag {args:?}: nothing on stdout");
        assert!(!run.stderr.trim().is_empty(), "sigtag {args:?}: says why");
    }
}

#[test]
fn gpg_agent_and_card_exit_2_with_a_sentence() {
    let (ctx, _, _) = setup();
    let repo = Ctx::path_str(&ctx.repo);
    let cases: Vec<Vec<&str>> = vec![
        vec!["sign", "v2", "--gpg-agent", "--repo", &repo],
        vec!["sign", "v2", "--card", "--repo", &repo],
        vec!["cosign", "v1", "--gpg-agent", "--repo", &repo],
        vec!["cosign", "v1", "--card", "--repo", &repo],
    ];
    let before = ctx.rev_parse("refs/tags/v1");
    for args in cases {
        ctx.sigtag(&args).assert_error(&[]);
    }
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
    assert!(!ctx.tag_exists("v2"), "no tag was created");
}

#[test]
fn key_file_that_is_not_a_secret_key() {
    let (ctx, _, _) = setup();
    let repo = Ctx::path_str(&ctx.repo);
    let public = Ctx::path_str(&ctx.keys.join("alice.asc"));
    ctx.sigtag(&["sign", "v2", "--key", &public, "--repo", &repo])
        .assert_error(&[]);
    let missing = Ctx::path_str(&ctx.root.join("nothing.asc"));
    ctx.sigtag(&["sign", "v2", "--key", &missing, "--repo", &repo])
        .assert_error(&["nothing.asc"]);
    assert!(!ctx.tag_exists("v2"), "no tag was created");
}

#[test]
fn cosign_require_with_a_bad_rule_is_a_configuration_error() {
    let (ctx, _, _) = setup();
    let carol = ctx.key("carol");
    let file = Ctx::path_str(&ctx.secret_key_file(&carol));
    let before = ctx.rev_parse("refs/tags/v1");
    ctx.cosign_requiring("v1", &file, "2 of admins")
        .assert_error(&[r#"unknown group "admins""#]);
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
}
