//! `in`: the real gate. It fetches the version's tag, verifies it again and
//! checks out the commit; a tag that no longer satisfies, or that moved,
//! fails the step and leaves nothing that looks like a finished get.

mod resource_support;

use resource_support::{now, output_parts, World};
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

fn assert_empty(dir: &Path) {
    let left = World::files_below(dir);
    assert!(left.is_empty(), "a failed get leaves nothing: {left:?}");
}

#[test]
fn in_checks_out_the_commit_and_writes_the_report() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    w.commit("app.txt", "version one\n", "one");
    let c2 = w.release(
        "v1.4.0",
        "app.txt",
        "version two\n",
        "two",
        &[&a, &b],
        now() - 100,
    );
    // A newer commit on main that no tag names must not be checked out.
    w.commit("app.txt", "unreviewed\n", "three");
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let dest = w.fresh_dir("get");

    let run = w.get(&source, "v1.4.0", &c2, &dest);
    // The log names the rule the tag was judged by, as every message of
    // the resource does.
    assert_eq!(
        run.stderr,
        "sigtag: v1.4.0: yes for \"2 of humans\" (alice, bob)\n"
    );
    let (version, metadata) = output_parts(&run.ok());
    assert_eq!(version, ("v1.4.0".to_string(), c2.clone()));
    let meta = |name: &str| -> Vec<String> {
        metadata
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(meta("tag"), vec!["v1.4.0"]);
    assert_eq!(meta("commit"), vec![c2.clone()]);
    assert_eq!(meta("rule"), vec!["2 of humans"]);
    assert_eq!(meta("layers"), vec!["2"]);
    let signers = meta("signer");
    assert_eq!(signers.len(), 2, "{signers:?}");
    assert!(
        signers[0].starts_with("alice (humans), layer 1, key "),
        "{signers:?}"
    );
    assert!(signers[0].contains(&a.fpr));
    assert!(
        signers[1].starts_with("bob (humans), layer 2, key "),
        "{signers:?}"
    );

    // The tree and its .git.
    assert_eq!(
        fs::read_to_string(dest.join("app.txt")).unwrap(),
        "version two\n"
    );
    assert_eq!(fs::read_to_string(dest.join("README")).unwrap(), "hello\n");
    assert_eq!(w.git_in(&dest, &["rev-parse", "HEAD"]), c2);
    assert_eq!(w.git_in(&dest, &["status", "--porcelain"]), "");
    assert_eq!(w.git_in(&dest, &["rev-parse", "v1.4.0^{commit}"]), c2);
    assert_eq!(
        w.git_in(&dest, &["remote", "get-url", "origin"]),
        w.file_uri()
    );

    // The files the README names.
    let sigtag = dest.join(".git").join("sigtag");
    assert_eq!(fs::read_to_string(sigtag.join("tag")).unwrap(), "v1.4.0\n");
    assert_eq!(
        fs::read_to_string(sigtag.join("commit")).unwrap(),
        format!("{c2}\n")
    );
    let report: Value =
        serde_json::from_str(&fs::read_to_string(sigtag.join("report.json")).unwrap()).unwrap();
    let report = &report
        .as_array()
        .expect("an array, as sigtag verify --json")[0];
    assert_eq!(report["tag"], json!("v1.4.0"));
    assert_eq!(report["commit"], json!(c2));
    assert_eq!(report["satisfied"], json!(true));
    assert_eq!(report["rule"], json!("2 of humans"));
    assert_eq!(report["rejected"], json!(null));
    assert_eq!(report["signers"].as_array().unwrap().len(), 2);
    assert!(!dest.join(".git").join("sigtag.partial").exists());
}

#[test]
fn in_refuses_a_tag_that_no_longer_satisfies() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);

    // The rule is stricter now (a put's version never passed check).
    let source = w.standard_source(&w.file_uri(), "2 of humans and 1 of pipelines");
    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &c1, &dest);
    run.assert_fails(&[]);
    assert_eq!(
        run.stderr.trim_end().lines().last(),
        Some(
            "sigtag: tag v1 is not a valid version any more: \
             does not meet \"2 of humans and 1 of pipelines\": needs 1 of pipelines"
        )
    );
    assert_empty(&dest);

    // bob's key is no longer trusted: the refusal says so.
    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    source["signers"]["bob"] = json!(w.cert(&w.key("carol")));
    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &c1, &dest);
    run.assert_fails(&[]);
    assert_eq!(
        run.stderr.trim_end().lines().last(),
        Some(
            format!(
                "sigtag: tag v1 is not a valid version any more: does not meet \"2 of humans\": \
                 needs 1 more of humans other than alice; \
                 1 signature not counted: signed by a key nobody trusts: {}…",
                &b.fpr[..8]
            )
            .as_str()
        ),
        "{}",
        run.stderr
    );
    assert_empty(&dest);
}

#[test]
fn in_refuses_a_tag_whose_commit_differs() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let c2 = w.commit("app.txt", "two\n", "two");
    // Moved: deleted and made again, validly signed, on another commit.
    w.srv(&["tag", "-d", "v1"]);
    w.chain_at("v1", &c2, &[&a, &b], now() - 50);
    let source = w.standard_source(&w.file_uri(), "2 of humans");

    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &c1, &dest);
    run.assert_fails(&["v1", &format!("now points at commit {c2}, not at {c1}")]);
    assert_empty(&dest);
}

#[test]
fn in_refuses_a_vanished_or_rejected_tag() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.commit("app.txt", "one\n", "one");
    let source = w.standard_source(&w.file_uri(), "2 of humans");

    let dest = w.fresh_dir("get");
    w.get(&source, "v9", &c1, &dest)
        .assert_fails(&["v9", "no tag named \"v9\""]);
    assert_empty(&dest);

    // A validly signed "test-1" pushed as "v1".
    w.chain_at("test-1", &c1, &[&a, &b], now() - 100);
    let obj = w.tag_object("test-1");
    w.srv(&["update-ref", "refs/tags/v1", &obj]);
    let dest = w.fresh_dir("get");
    w.get(&source, "v1", &c1, &dest)
        .assert_fails(&["rejected: layer is named \"test-1\", not \"v1\""]);
    assert_empty(&dest);
}

#[test]
fn in_refuses_a_tag_outside_the_filter_and_unknown_params() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("test-1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    source["tag_filter"] = json!("v*");
    let dest = w.fresh_dir("get");
    w.get(&source, "test-1", &c1, &dest)
        .assert_fails(&["test-1", "tag_filter"]);
    assert_empty(&dest);

    source["tag_filter"] = json!("*");
    let req = json!({"source": source, "version": {"tag": "test-1", "commit": c1}, "params": {"depth": 1}});
    let run = w.run(
        resource_support::Bin::In,
        Some(&dest),
        req.to_string().as_bytes(),
    );
    run.assert_fails(&["params of get", "\"depth\""]);
    assert_empty(&dest);

    // in needs a version.
    let req = json!({"source": source});
    let run = w.run(
        resource_support::Bin::In,
        Some(&dest),
        req.to_string().as_bytes(),
    );
    run.assert_fails(&["needs a version"]);
}

#[test]
fn in_writes_into_a_destination_that_does_not_exist_yet() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let parent = w.fresh_dir("build");
    let dest = parent.join("release");
    let req = json!({"source": source, "version": {"tag": "v1", "commit": c1}});
    let mut cmd = std::process::Command::new(resource_support::Bin::In.path());
    cmd.env_clear()
        .env("TMPDIR", &w.tmp)
        .arg(&dest)
        .current_dir(&parent);
    let out = resource_support::run_with_input(cmd, Some(req.to_string().as_bytes()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dest.join(".git/sigtag/report.json").exists());
}

#[test]
fn in_names_the_environment_the_source_gives() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);

    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    source["environment"] = json!("staging");
    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &c1, &dest);
    assert_eq!(run.stderr, "sigtag: v1: yes for staging (alice, bob)\n");
    run.ok();
    let report: Value =
        serde_json::from_str(&fs::read_to_string(dest.join(".git/sigtag/report.json")).unwrap())
            .unwrap();
    assert_eq!(report[0]["environment"], json!("staging"));

    let mut source = w.standard_source(&w.file_uri(), "2 of humans and 1 of pipelines");
    source["environment"] = json!("prod");
    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &c1, &dest);
    run.assert_fails(&[]);
    assert_eq!(
        run.stderr.trim_end().lines().last(),
        Some("sigtag: tag v1 is not a valid version any more: does not meet prod: needs 1 of pipelines")
    );
    assert_empty(&dest);

    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    source["environment"] = json!("Prod env");
    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &c1, &dest);
    run.assert_fails(&["source.environment \"Prod env\" is not an environment name"]);
    assert_empty(&dest);
}
