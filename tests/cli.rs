//! Errors that stop sigtag before it gives a verdict: exit 2, one sentence
//! on stderr starting with `sigtag: `, nothing on stdout. And how the
//! command line reads its arguments (`--gpg-agent` and `--card` before or
//! after the tag's name), what a failed `--push` leaves behind, and what it
//! prints: `explain --json`, the order of `list`, marks and colour only on
//! a terminal.

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

/// `sigtag ARGS` from the test root with the test's GNUPGHOME, so that
/// `--gpg-agent` reaches an agent holding every key `ctx.key()` made.
fn with_agent<S: AsRef<std::ffi::OsStr>>(ctx: &Ctx, args: &[S]) -> Run {
    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args(args).env("GNUPGHOME", &ctx.home);
    Ctx::run_cmd(cmd)
}

fn says(run: &Run, code: i32, stderr: &str) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (code, "", stderr),
        "{run:?}"
    );
}

#[test]
fn gpg_agent_before_or_after_the_name() {
    let (ctx, alice, bob) = setup();
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let head = ctx.head();
    let k = ["--keys", keys.as_str(), "--repo", repo.as_str()];
    let args =
        |first: &[&str]| -> Vec<String> { first.iter().chain(&k).map(|a| a.to_string()).collect() };

    // Bare, before the name: the key comes from git config user.email.
    ctx.git(&["config", "user.email", "alice@example.org"]);
    let run = with_agent(&ctx, &args(&["sign", "--gpg-agent", "v2"]));
    says(&run, 0, &format!("v2: signed layer 1 over commit {head}\n"));
    // A fingerprint after a space is the flag's value, the name follows.
    let run = with_agent(&ctx, &args(&["cosign", "--gpg-agent", &bob.fpr, "v2"]));
    says(&run, 0, &format!("v2: signed layer 2 over commit {head}\n"));
    ctx.verify_one("staging", "v2")
        .assert_clean(&[("alice", 1), ("bob", 2)]);

    // The other orders read the same: each names a key that already signed.
    let again = |layer: u32| {
        format!("v2: this key already signed layer {layer} over commit {head}; nothing to do\n")
    };
    for (first, layer) in [
        (vec!["cosign", "v2", "--gpg-agent"], 1),
        (vec!["cosign", "--gpg-agent=", "v2"], 1),
        (vec!["cosign", "v2", "--gpg-agent", &bob.fpr], 2),
        (vec!["cosign", &format!("--gpg-agent={}", bob.fpr), "v2"], 2),
        (vec!["cosign", "--gpg-agent", "bob@example.org", "v2"], 2),
        (vec!["cosign", "--gpg-agent=bob", "v2"], 2),
    ] {
        says(&with_agent(&ctx, &args(&first)), 0, &again(layer));
    }
    assert_eq!(ctx.verify_one("staging", "v2").signers().len(), 2);
    let _ = alice;
}

#[test]
fn card_before_or_after_the_name_reads_the_same() {
    let (ctx, _, _) = setup();
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let before = ctx.rev_parse("refs/tags/v1");
    let k = ["--keys", keys.as_str(), "--repo", repo.as_str()];
    let run = |first: &[&str]| ctx.sigtag(&[first, &k].concat());
    // Whether a card is there or pcscd runs depends on the machine: what
    // counts is that both orders get past the command line to the card.
    for (a, b) in [
        (
            vec!["cosign", "--card", "v1"],
            vec!["cosign", "v1", "--card"],
        ),
        (
            vec!["cosign", "--card", "FFFF:00000000", "v1"],
            vec!["cosign", "v1", "--card=FFFF:00000000"],
        ),
        (vec!["sign", "--card", "v2"], vec!["sign", "v2", "--card"]),
    ] {
        let (x, y) = (run(&a), run(&b));
        x.assert_error(&["card"]);
        assert_eq!((x.code, &x.stderr), (y.code, &y.stderr), "{a:?} and {b:?}");
        assert!(!x.stderr.contains("usage:"), "{a:?}: {x:?}");
        assert!(!x.stderr.to_lowercase().contains("card v1"), "{a:?}: {x:?}");
    }
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
    assert!(!ctx.tag_exists("v2"));
}

#[test]
fn a_value_that_could_be_a_name_says_how_to_give_it() {
    let (ctx, _, _) = setup();
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let hint = "--card takes a value after a space only when it is an ident \
                MANUFACTURER:SERIAL; to give it \"12345678\", write --card=12345678";
    let run = ctx.sigtag(&[
        "cosign", "v1", "--card", "12345678", "--keys", &keys, "--repo", &repo,
    ]);
    run.assert_error(&[&format!(
        "sigtag: unexpected argument '12345678' found ({hint}); usage: sigtag cosign"
    )]);
    assert!(
        run.stderr.ends_with("; see sigtag cosign --help\n"),
        "{run:?}"
    );
    // sign takes it as the commit, which does not exist.
    let run = ctx.sigtag(&[
        "sign", "v2", "--card", "12345678", "--keys", &keys, "--repo", &repo,
    ]);
    run.assert_error(&["12345678", &format!("({hint})")]);
    // A fingerprint before the name leaves no name.
    let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
    ctx.sigtag(&["cosign", "--gpg-agent", fpr, "--repo", &repo])
        .assert_error(&[&format!(
            "sigtag: the following required arguments were not provided: <NAME> \
             (--gpg-agent took \"{fpr}\" as its value; if that is the tag, put it before --gpg-agent)"
        )]);
    assert!(!ctx.tag_exists("v2"));
}

#[test]
fn usage_errors_are_one_line_starting_with_sigtag() {
    let (ctx, _, _) = setup();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![],
            "sigtag: sigtag needs a command: sign, cosign, verify, explain, list, audit, attest, \
             keys, demo, card, completions; see sigtag --help\n",
        ),
        (
            vec!["card"],
            "sigtag: sigtag card needs a command: list; see sigtag card --help\n",
        ),
        (
            vec!["frobnicate"],
            "sigtag: unrecognized subcommand 'frobnicate'; usage: sigtag <COMMAND>; \
             see sigtag --help\n",
        ),
        (
            vec!["list", "--env", "staging", "--bogus"],
            "sigtag: unexpected argument '--bogus' found; usage: sigtag list --env <ENV>; \
             see sigtag list --help\n",
        ),
        (
            vec!["verify", "v1", "--json"],
            "sigtag: the following required arguments were not provided: --env <ENV>; \
             usage: sigtag verify --env <ENV> --json <NAME>...; see sigtag verify --help\n",
        ),
        (
            vec!["completions", "tcsh"],
            "sigtag: invalid value 'tcsh' for '<SHELL>' [possible values: bash, elvish, fish, \
             powershell, zsh] (tip: a similar value exists: 'zsh'); see sigtag completions --help\n",
        ),
        (
            vec!["verify", "v1"],
            "sigtag: the following required arguments were not provided: --env <ENV>; \
             usage: sigtag verify --env <ENV> <NAME>...; see sigtag verify --help\n",
        ),
    ];
    for (args, expected) in cases {
        let run = ctx.sigtag(&args);
        run.assert_error(&[]);
        assert_eq!(run.stderr, expected, "sigtag {args:?}");
    }
}

#[test]
fn push_to_an_unknown_remote_stops_before_signing() {
    let (ctx, alice, bob) = setup();
    let carol = ctx.key("carol");
    ctx.trust(&carol);
    ctx.standard_policy(&["alice", "bob", "carol"], &["staging"]);
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let before = ctx.rev_parse("refs/tags/v1");
    let alice_key = Ctx::path_str(&ctx.secret_key_file(&alice));
    let carol_key = Ctx::path_str(&ctx.secret_key_file(&carol));
    let _ = bob;
    let push = |verb: &str, tag: &str, key: &str, remote: &str| {
        ctx.sigtag(&[
            verb, tag, "--key", key, "--keys", &keys, "--repo", &repo, "--push", remote,
        ])
    };
    let unknown = |has: &str| {
        format!(
            "sigtag: --push nosuch: the repository has no remote named \"nosuch\" ({has}); \
             nothing was signed and no tag was changed; add it with git remote add nosuch URL, \
             or pass a URL\n"
        )
    };
    says(
        &push("sign", "v2", &alice_key, "nosuch"),
        2,
        &unknown("it has none"),
    );
    says(
        &push("cosign", "v1", &carol_key, "nosuch"),
        2,
        &unknown("it has none"),
    );
    assert!(!ctx.tag_exists("v2"), "no tag was made");
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);

    // A remote that is configured but cannot take the push: the layer was
    // made, the push fails, and the local tag goes back to what it was.
    let gone = ctx.root.join("gone.git");
    ctx.git(&["remote", "add", "gone", &Ctx::path_str(&gone)]);
    says(
        &push("sign", "v2", &alice_key, "nosuch"),
        2,
        &unknown("it has gone"),
    );
    let run = push("sign", "v2", &alice_key, "gone");
    run.assert_error(&["cannot open gone: "]);
    assert!(
        run.stderr.ends_with(
            "; the new tag v2 was deleted from this repository again, so nothing is half published\n"
        ),
        "{run:?}"
    );
    assert!(!ctx.tag_exists("v2"), "the new tag was deleted");
    let run = push("cosign", "v1", &carol_key, "gone");
    run.assert_error(&["cannot open gone: "]);
    assert!(
        run.stderr.ends_with(&format!(
            "; the local tag v1 is back at {} as before, without the new layer\n",
            &before[..12]
        )),
        "{run:?}"
    );
    assert_eq!(
        ctx.rev_parse("refs/tags/v1"),
        before,
        "the local tag was restored"
    );
}

#[test]
fn explain_json_is_the_verify_report_with_the_rule_tree() {
    let (ctx, _, _) = setup();
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let explain = |extra: &[&str]| {
        let mut args = vec!["explain", "v1", "--keys", &keys, "--repo", &repo, "--json"];
        args.extend_from_slice(extra);
        ctx.sigtag(&args)
    };
    let atom = |rule: &str, holds: bool, counted: &[&str]| {
        serde_json::json!({"rule": rule, "kind": "atom", "holds": holds,
                           "counted": counted, "children": []})
    };
    let humans = atom("2 of humans", true, &["alice", "bob"]);
    let prod_tree = serde_json::json!({
        "rule": "2 of humans and 1 of pipelines", "kind": "and", "holds": false,
        "counted": ["alice", "bob"],
        "children": [humans.clone(), atom("1 of pipelines", false, &[])]
    });

    // Every environment, in the policy's order: prod is not satisfied.
    let run = explain(&[]);
    assert_eq!((run.code, run.stderr.as_str()), (1, ""), "{run:?}");
    let reports = run.json();
    let envs: Vec<&str> = reports
        .iter()
        .map(|r| r.0["environment"].as_str().unwrap())
        .collect();
    assert_eq!(envs, ["prod", "staging"]);
    for (r, tree) in reports.iter().zip([&prod_tree, &humans]) {
        let env = r.0["environment"].as_str().unwrap();
        let mut without = r.0.clone();
        let got = without.as_object_mut().unwrap().remove("tree");
        assert_eq!(got.as_ref(), Some(tree), "{env}");
        let (_, verified) = ctx.verify(env, &["v1"]);
        assert_eq!(
            without, verified[0].0,
            "{env}: the same report as verify --json"
        );
    }

    let run = explain(&["--env", "staging"]);
    assert_eq!(run.code, 0, "{run:?}");
    let reports = run.json();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0["tree"], humans);
}

#[test]
fn list_sorts_versions_as_versions() {
    let (ctx, _, _) = setup();
    for name in [
        "v1.10.0",
        "v1.9.0",
        "v2",
        "v1.0.0",
        "v1.0.0-rc.1",
        "latest",
        "build-10",
        "build-9",
    ] {
        ctx.git(&["tag", name, "HEAD"]);
    }
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let run = ctx.sigtag(&[
        "list", "--env", "staging", "--keys", &keys, "--repo", &repo, "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let names: Vec<String> = run.json().iter().map(Report::tag).collect();
    let expected = [
        "v1",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.9.0",
        "v1.10.0",
        "v2",
        "build-9",
        "build-10",
        "latest",
    ];
    assert_eq!(names, expected);
    let run = ctx.sigtag(&["list", "--env", "staging", "--keys", &keys, "--repo", &repo]);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(lines, expected);
}

/// `sigtag ARGS` under `script`, so that its stdout is a terminal; the
/// output with `\r\n` as `\n`.
fn on_a_terminal(ctx: &Ctx, args: &[&str], no_color: Option<&str>) -> (i32, String) {
    let quote = |a: &str| format!("'{}'", a.replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_sigtag"))
        .chain(args.iter().copied())
        .map(quote)
        .collect();
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"])
        .current_dir(&ctx.root)
        .env("LC_ALL", "C")
        .env_remove("SIGTAG_KEYS")
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let run = Ctx::run_cmd(cmd);
    (run.code, run.stdout.replace("\r\n", "\n"))
}

#[test]
fn marks_and_colour_only_on_a_terminal_without_no_color() {
    let (ctx, _, _) = setup();
    let (keys, repo) = (Ctx::path_str(&ctx.keys), Ctx::path_str(&ctx.repo));
    let explain = [
        "explain", "v1", "--env", "prod", "--keys", &keys, "--repo", &repo,
    ];
    let verify = [
        "verify", "v1", "--env", "staging", "--keys", &keys, "--repo", &repo,
    ];
    let green = |t: &str| format!("\x1b[32m{t}\x1b[0m");
    let red = |t: &str| format!("\x1b[31m{t}\x1b[0m");

    let (code, out) = on_a_terminal(&ctx, &explain, None);
    assert_eq!(code, 1, "{out}");
    for part in [
        format!("    {} signed by alice (humans)", green("✓")),
        format!("  {} all of:", red("✗")),
        format!("    {} 2 of humans: 2 counted (alice, bob)", green("✓")),
        format!("    {} 1 of pipelines: 0 counted", red("✗")),
        format!("verdict: {}, needs 1 of pipelines", red("no")),
    ] {
        assert!(out.contains(&part), "{part:?} in {out:?}");
    }
    let (code, out) = on_a_terminal(&ctx, &verify, None);
    assert_eq!(
        (code, out),
        (
            0,
            format!("v1: {} for staging (alice, bob)\n", green("yes"))
        )
    );

    // Not a terminal, or NO_COLOR on one: ASCII marks, no escape codes.
    let plain = ctx.sigtag(&explain);
    let (code, no_color) = on_a_terminal(&ctx, &explain, Some("1"));
    assert_eq!((plain.code, code), (1, 1));
    assert_eq!(no_color, plain.stdout);
    for part in [
        "    + signed by alice (humans)",
        "  - all of:",
        "    + 2 of humans: 2 counted (alice, bob)",
        "    - 1 of pipelines: 0 counted",
        "verdict: no, needs 1 of pipelines",
    ] {
        assert!(
            plain.stdout.contains(part),
            "{part:?} in {:?}",
            plain.stdout
        );
    }
    for out in [&plain.stdout, &ctx.sigtag(&verify).stdout] {
        assert!(
            !out.contains('✓') && !out.contains('✗') && !out.contains('\x1b'),
            "{out:?}"
        );
    }
    let (_, out) = on_a_terminal(&ctx, &verify, Some("1"));
    assert_eq!(out, "v1: yes for staging (alice, bob)\n");
    // An empty NO_COLOR does not count.
    let (_, out) = on_a_terminal(&ctx, &verify, Some(""));
    assert!(out.contains(&green("yes")), "{out:?}");
}
