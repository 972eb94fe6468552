//! `out`: counter-signing a tag that meets the rule, idempotence, the
//! build recorded in the layer, `from` a get, and no lost signature when
//! two co-signers race.

mod resource_support;

use resource_support::servers::GitDaemon;
use resource_support::{now, output_parts, Bin, Key, World};
use serde_json::{json, Value};
use std::fs;
use std::os::unix::fs::PermissionsExt;

#[test]
fn out_counter_signs_once_and_the_implicit_get_passes() {
    let w = World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let staging = w.standard_source(&w.file_uri(), "2 of humans");
    let prod = w.standard_source(&w.file_uri(), "2 of humans and 1 of pipelines");
    assert_eq!(w.check(&prod, None).versions(), vec![], "not for prod yet");
    let sources = w.fresh_dir("put");

    let params = json!({"tag": "v1", "signing_key": w.secret(&s)});
    let run = w.put(&staging, params.clone(), &sources);
    let (version, metadata) = output_parts(&run.ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    assert!(
        metadata.contains(&("added layer".to_string(), "3".to_string())),
        "{metadata:?}"
    );
    assert!(metadata
        .iter()
        .any(|(n, v)| n == "co-signed by" && v.contains(&s.fpr)));
    let verdict = "v1: yes for \"2 of humans\" (alice, bob, staging)";
    for entry in [
        ("rule", "2 of humans"),
        ("rule met", "yes"),
        ("verdict", verdict),
    ] {
        assert!(
            metadata.contains(&(entry.0.to_string(), entry.1.to_string())),
            "{entry:?} in {metadata:?}"
        );
    }
    assert_eq!(
        run.stderr.lines().last(),
        Some(format!("sigtag: {verdict}").as_str()),
        "{}",
        run.stderr
    );
    assert_eq!(w.layers("v1"), 3);
    assert_eq!(w.tag_commit("v1"), c1);

    // The layer is what git writes and verifies, and it names the build.
    let layer = w.outer_layer("v1");
    assert!(layer.contains("\ntag v1\n"), "{layer}");
    assert!(
        layer.contains("\ntagger staging <staging@example.org> "),
        "{layer}"
    );
    for line in [
        "v1: promoted by main/staging/deploy build 42",
        "BUILD_PIPELINE_NAME=staging",
        "BUILD_JOB_NAME=deploy",
        "BUILD_NAME=42",
        "BUILD_ID=1234",
        "BUILD_TEAM_NAME=main",
        "BUILD_URL=https://ci.example.org/teams/main/pipelines/staging/jobs/deploy/builds/42",
        "ATC_EXTERNAL_URL=https://ci.example.org",
    ] {
        assert!(layer.contains(line), "{line:?} in the layer:\n{layer}");
    }
    w.srv(&["verify-tag", "v1"]);

    // The implicit get after the put, and prod's check, see it now.
    let dest = w.fresh_dir("get");
    w.get(&staging, "v1", &c1, &dest).ok();
    let dest = w.fresh_dir("get");
    w.get(&prod, "v1", &c1, &dest).ok();
    assert_eq!(
        w.check(&prod, None).versions(),
        vec![("v1".to_string(), c1.clone())]
    );

    // Again: a no-op that returns the same version.
    let outer = w.tag_object("v1");
    let run = w.put(&staging, params, &sources);
    let (version, metadata) = output_parts(&run.ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    assert!(
        metadata.contains(&("already signed layer".to_string(), "3".to_string())),
        "{metadata:?}"
    );
    assert!(
        run.stderr.contains("already carries a signature"),
        "{}",
        run.stderr
    );
    assert_eq!(w.tag_object("v1"), outer, "nothing pushed");

    // Nothing of out's scratch work stays behind.
    let left: Vec<_> = fs::read_dir(&w.tmp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("sigtag-out"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn out_says_when_its_layer_still_leaves_the_rule_unmet() {
    let w = World::new();
    let (a, c, s) = (w.key("alice"), w.key("carol"), w.key("staging"));
    // alice, and carol whom the source does not trust.
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &c], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let sources = w.fresh_dir("put");

    // params.require lets the pipeline sign; its signature is no human's.
    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s), "require": "1 of humans"}),
        &sources,
    );
    let (version, metadata) = output_parts(&run.ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    assert_eq!(w.layers("v1"), 3, "the layer was pushed");
    let verdict = format!(
        "v1: no for \"2 of humans\": needs 1 more of humans other than alice; \
         1 signature not counted: signed by a key nobody trusts: {}…",
        &c.fpr[..8]
    );
    let entry = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(
        metadata,
        vec![
            entry("tag", "v1"),
            entry("commit", &c1),
            entry(
                "co-signed by",
                &format!("staging <staging@example.org>, key {}", s.fpr)
            ),
            entry("added layer", "3"),
            entry("layers", "3"),
            entry("required before signing", "1 of humans"),
            entry("rule", "2 of humans"),
            entry("rule met", "no"),
            entry("verdict", &verdict),
        ]
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines[lines.len() - 2..],
        [
            format!(
                "sigtag: co-signed v1 with {} as layer 3 and pushed it to {}",
                s.fpr,
                w.file_uri()
            ),
            format!("sigtag: {verdict}"),
        ],
        "{}",
        run.stderr
    );

    // Signing again changes nothing, and says the same of the rule.
    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s), "require": "1 of humans"}),
        &sources,
    );
    let (_, metadata) = output_parts(&run.ok());
    assert!(metadata.contains(&entry("rule met", "no")), "{metadata:?}");
    assert!(
        metadata.contains(&entry("verdict", &verdict)),
        "{metadata:?}"
    );
    assert_eq!(w.layers("v1"), 3);
}

#[test]
fn out_refuses_a_chain_that_does_not_meet_require_yet() {
    let w = World::new();
    let (a, s) = (w.key("alice"), w.key("staging"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let sources = w.fresh_dir("put");
    let outer = w.tag_object("v1");

    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s)}),
        &sources,
    );
    run.assert_fails(&[
        "refusing to co-sign v1: it does not meet \"2 of humans\" yet: needs 1 more of humans other than alice",
    ]);
    assert_eq!(w.tag_object("v1"), outer);

    // params.require replaces the source's rule for the put.
    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s), "require": "1 of humans"}),
        &sources,
    );
    run.ok();
    assert_eq!(w.layers("v1"), 2);

    // But the implicit get still applies the source's rule.
    let dest = w.fresh_dir("get");
    w.get(&source, "v1", &c1, &dest)
        .assert_fails(&["needs 1 more of humans other than alice"]);

    // A rule that names an unknown group is a configuration error.
    w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s), "require": "1 of admins"}),
        &sources,
    )
    .assert_fails(&["params.require", "unknown group \"admins\""]);
}

#[test]
fn out_from_a_get_signs_the_commit_the_build_used() {
    let w = World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    // The key may live in the source too.
    source["signing_key"] = json!(w.secret(&s));
    let sources = w.fresh_dir("put");
    fs::create_dir(sources.join("release")).unwrap();
    w.get(&source, "v1", &c1, &sources.join("release")).ok();

    let run = w.put(
        &source,
        json!({"from": "release", "message": "staging tests passed"}),
        &sources,
    );
    let (version, _) = output_parts(&run.ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    let layer = w.outer_layer("v1");
    assert!(layer.contains("\nstaging tests passed\n"), "{layer}");
    assert!(layer.contains("BUILD_NAME=42"), "{layer}");

    // The tag moved after the get: the build did not test that commit.
    let c2 = w.commit("app.txt", "two\n", "two");
    w.srv(&["tag", "-d", "v1"]);
    w.chain_at("v1", &c2, &[&a, &b], now() - 50);
    let outer = w.tag_object("v1");
    let run = w.put(&source, json!({"from": "release"}), &sources);
    run.assert_fails(&["v1", &c2, &c1, "did not use"]);
    assert_eq!(w.tag_object("v1"), outer);

    // from must name a get of this resource.
    fs::create_dir(sources.join("other")).unwrap();
    w.put(&source, json!({"from": "other"}), &sources)
        .assert_fails(&["params.from \"other\"", "not found"]);
    w.put(&source, json!({"from": "../x"}), &sources)
        .assert_fails(&["params.from"]);
    w.put(&source, json!({"from": "release", "tag": "v1"}), &sources)
        .assert_fails(&["set only one"]);
    w.put(&source, json!({}), &sources)
        .assert_fails(&["params.tag", "params.from"]);
}

#[test]
fn out_refuses_bad_keys_before_touching_the_remote() {
    let w = World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    // An unreachable uri: any network access would fail differently.
    let mut source = w.standard_source("git://127.0.0.1:1/app.git", "2 of humans");
    let sources = w.fresh_dir("put");

    w.put(&source, json!({"tag": "v1"}), &sources)
        .assert_fails(&["signing key", "params.signing_key"]);
    w.put(
        &source,
        json!({"tag": "v1", "signing_key": "garbage"}),
        &sources,
    )
    .assert_fails(&["params.signing_key is not an OpenPGP key"]);
    w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.cert(&s)}),
        &sources,
    )
    .assert_fails(&["params.signing_key holds only a public certificate"]);
    let protected = w.protected_secret("locked");
    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": protected}),
        &sources,
    );
    run.assert_fails(&["params.signing_key is protected by a passphrase"]);
    assert!(!run.stderr.contains("PRIVATE KEY BLOCK"), "{}", run.stderr);
    w.put(
        &source,
        json!({"tag": "v1..", "signing_key": w.secret(&s)}),
        &sources,
    )
    .assert_fails(&["not a valid tag name"]);
    w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s), "sign": true}),
        &sources,
    )
    .assert_fails(&["params of put has an unknown field \"sign\""]);
    source["signing_key"] = json!("not a key");
    w.put(&source, json!({"tag": "v1"}), &sources)
        .assert_fails(&["source.signing_key is not an OpenPGP key"]);

    // With a reachable remote the same key works.
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    w.put(
        &source,
        json!({"tag": "v1", "signing_key": w.secret(&s)}),
        &sources,
    )
    .ok();
    w.put(
        &source,
        json!({"tag": "v2", "signing_key": w.secret(&s)}),
        &sources,
    )
    .assert_fails(&["there is no tag v2"]);
}

/// One out per key, each putting v1 with that key from its own directory,
/// all started together.
fn racing_puts(w: &World, source: &Value, keys: &[&Key]) -> Vec<resource_support::Run> {
    let jobs: Vec<_> = keys
        .iter()
        .map(|k| {
            let req =
                json!({"source": source, "params": {"tag": "v1", "signing_key": w.secret(k)}});
            let dir = w.fresh_dir("put");
            (
                w.command(Bin::Out, Some(&dir)),
                req.to_string().into_bytes(),
            )
        })
        .collect();
    resource_support::together(jobs)
}

/// Two outs with different keys at the same moment. A pre-receive hook
/// holds every push for a second, so both build on the same chain and one
/// of them must find the tag changed, fetch the newer chain and sign again.
fn race(w: &World, uri: &str) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let (s, q) = (w.key("staging"), w.key("qa"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let source = |require: &str| {
        w.source_with(
            uri,
            &[&a, &b, &s, &q],
            &[
                ("humans", &["alice", "bob"]),
                ("pipelines", &["staging", "qa"]),
            ],
            require,
        )
    };
    let hook = w.remote.join("hooks").join("pre-receive");
    fs::write(&hook, "#!/bin/sh\ncat >/dev/null\nsleep 1\n").unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();

    let runs = racing_puts(w, &source("2 of humans"), &[&s, &q]);
    for run in &runs {
        let (version, _) = output_parts(&run.ok());
        assert_eq!(version, ("v1".to_string(), c1.clone()));
    }
    assert!(
        runs.iter().any(|r| r
            .stderr
            .contains("changed on the remote while it was being signed")),
        "one of them had to sign again:\n{}\n{}",
        runs[0].stderr,
        runs[1].stderr
    );
    assert_eq!(w.layers("v1"), 4, "both signatures are in the chain");
    let both = source("2 of humans and 2 of pipelines");
    let dest = w.fresh_dir("get");
    w.get(&both, "v1", &c1, &dest).ok();
}

#[test]
fn two_racing_outs_both_keep_their_signatures_over_git_daemon() {
    let w = World::new();
    let daemon = GitDaemon::start(w.remote.parent().unwrap());
    race(&w, &daemon.url("app.git"));
}

#[test]
fn two_racing_outs_both_keep_their_signatures_over_file() {
    // The hook does not run for a local push; the race is still real
    // because both outs start together, and the compare-and-swap in the
    // remote repository keeps it safe whatever the interleaving.
    let w = World::new();
    let uri = w.file_uri();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let keys: Vec<_> = (0..4).map(|i| w.key(&format!("pipe{i}"))).collect();
    w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let mut all = vec![&a, &b];
    all.extend(keys.iter());
    let names: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let source = |require: &str| {
        w.source_with(
            &uri,
            &all,
            &[("humans", &["alice", "bob"]), ("pipelines", &names)],
            require,
        )
    };
    let pipes: Vec<&Key> = keys.iter().collect();
    let runs = racing_puts(&w, &source("2 of humans"), &pipes);
    for run in &runs {
        run.ok();
    }
    assert_eq!(w.layers("v1"), 6, "every signature is in the chain");
    let every = source("2 of humans and 4 of pipelines");
    assert_eq!(w.check(&every, None).tags(), vec!["v1"]);
}
