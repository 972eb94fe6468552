//! `sigtag keys source` (DESIGN §9): the resource's `source` fragment made
//! from a keys directory. Fed to the real `check`, it accepts exactly the
//! tags `sigtag list` says satisfy the environment; its YAML parses to
//! its JSON; `--vars` names variables and holds no key material.

mod resource_support;
mod yaml;

use resource_support::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

const POLICY: &str =
    "[groups]\nhumans = [\"alice\", \"bob\", \"carol\"]\npipelines = [\"staging\"]\n\n\
                      [environments.staging]\nrequire = \"2 of humans\"\n\n\
                      [environments.prod]\nrequire = \"2 of humans and 1 of pipelines\"\n";

/// A keys directory of `signers` (their certificates from `w`) and `policy`.
fn keys_dir(w: &World, signers: &[&Key], policy: &str) -> PathBuf {
    let dir = w.unique("keys");
    fs::create_dir(&dir).unwrap();
    for k in signers {
        fs::write(dir.join(format!("{}.asc", k.name)), w.cert(k)).unwrap();
    }
    fs::write(dir.join("policy.toml"), policy).unwrap();
    dir
}

fn fragment(w: &World, keys: &Path, env: &str, extra: &[&str]) -> Run {
    let dir = World::s(keys);
    let mut args = vec!["keys", "source", "--env", env, "--keys", &dir];
    args.extend_from_slice(extra);
    let run = sigtag(w, &args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "");
    run
}

fn fragment_json(w: &World, keys: &Path, env: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&fragment(w, keys, env, &args).stdout).unwrap()
}

/// `(tag, commit)` of the tags `sigtag list --env ENV --json` says satisfy.
fn satisfied(w: &World, keys: &Path, env: &str) -> Vec<(String, String)> {
    let run = sigtag(
        w,
        &[
            "list",
            "--env",
            env,
            "--json",
            "--keys",
            &World::s(keys),
            "--repo",
            &World::s(&w.remote),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let reports: Value = serde_json::from_str(&run.stdout).unwrap();
    reports
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["satisfied"] == json!(true))
        .map(|r| {
            (
                r["tag"].as_str().unwrap().to_string(),
                r["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn check_with_the_fragment_returns_exactly_the_tags_list_satisfies() {
    let w = World::new();
    let (a, b, c, s) = (
        w.key("alice"),
        w.key("bob"),
        w.key("carol"),
        w.key("staging"),
    );
    let mallory = w.key("mallory");
    let keys = keys_dir(&w, &[&a, &b, &c, &s], POLICY);
    let t = now();
    // Oldest first: v1 two humans, v2 one, v3 two and staging, v4 one
    // human and an untrusted key, v5 two humans; v6 is lightweight.
    w.release("v1", "app.txt", "1\n", "one", &[&a, &b], t - 600);
    w.release("v2", "app.txt", "2\n", "two", &[&a], t - 500);
    w.release("v3", "app.txt", "3\n", "three", &[&a, &c, &s], t - 400);
    w.release("v4", "app.txt", "4\n", "four", &[&mallory, &b], t - 300);
    w.release("v5", "app.txt", "5\n", "five", &[&b, &c], t - 200);
    let head = w.commit("app.txt", "6\n", "six");
    w.srv(&["tag", "v6", &head]);

    for (env, expected) in [("staging", vec!["v1", "v3", "v5"]), ("prod", vec!["v3"])] {
        let listed = satisfied(&w, &keys, env);
        let tags: Vec<&str> = listed.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(tags, expected, "sigtag list --env {env}");
        for (tag, commit) in &listed {
            assert_eq!(commit, &w.tag_commit(tag));
        }

        let mut source = fragment_json(&w, &keys, env, &[]);
        source["uri"] = json!(w.file_uri());
        // From the oldest satisfying version: it and every newer one.
        let (first_tag, first_commit) = &listed[0];
        let run = w.check(&source, Some((first_tag, first_commit)));
        assert_eq!(run.versions(), listed, "check for {env}:\n{}", run.stderr);
        // Without a version: the latest.
        let run = w.check(&source, None);
        assert_eq!(
            run.versions(),
            listed[listed.len() - 1..].to_vec(),
            "{}",
            run.stderr
        );
    }

    // The refusals are named with their reasons.
    let mut source = fragment_json(&w, &keys, "staging", &[]);
    source["uri"] = json!(w.file_uri());
    let run = w.check(&source, Some(("v1", &w.tag_commit("v1"))));
    assert_eq!(
        skipping_lines(&run.stderr, "v2"),
        ["sigtag: skipping v2: does not meet staging: needs 1 more of humans other than alice"],
        "{}",
        run.stderr
    );
    assert_eq!(skipping_lines(&run.stderr, "v4").len(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "sigtag: 1 tag is not a sigtag chain (lightweight or unsigned): v6; it is never returned\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_yaml_parses_to_the_json_and_vars_hold_no_key_material() {
    let w = World::new();
    let (a, b, c, s) = (
        w.key("alice"),
        w.key("bob"),
        w.key("carol"),
        w.key("staging"),
    );
    // Names YAML would read as a boolean or a number unless quoted, and
    // one with a dot, which a variable's name cannot hold.
    let (on, num, dotted) = (w.key("on"), w.key("1.5"), w.key("ci.eu"));
    let policy = "[groups]\nhumans = [\"alice\", \"bob\", \"carol\", \"on\", \"1.5\"]\n\
                  pipelines = [\"staging\", \"ci.eu\"]\nno = []\n\n\
                  [environments.staging]\nrequire = \"2 of humans or (1 of humans and 1 of pipelines)\"\n";
    let keys = keys_dir(&w, &[&a, &b, &c, &s, &on, &num, &dotted], policy);

    let yaml_text = fragment(&w, &keys, "staging", &[]).stdout;
    assert_eq!(
        yaml_text,
        fragment(&w, &keys, "staging", &["--format", "yaml"]).stdout,
        "YAML is the default"
    );
    assert!(
        yaml_text.starts_with("environment: staging\nsigners:\n  \"1.5\": |\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n"),
        "{yaml_text}"
    );
    let json_form = fragment_json(&w, &keys, "staging", &[]);
    assert_eq!(yaml::parse(&yaml_text), json_form);
    assert_eq!(
        json_form["groups"],
        json!({"humans": ["alice", "bob", "carol", "on", "1.5"], "pipelines": ["staging", "ci.eu"], "no": []})
    );
    assert_eq!(
        json_form["require"],
        json!("2 of humans or (1 of humans and 1 of pipelines)")
    );
    // The inline certificates are the signers' own, as the resource reads them.
    let mut source = json_form.clone();
    source["uri"] = json!(w.file_uri());
    let commit = w.release("v1", "app.txt", "1\n", "one", &[&on, &num], now() - 100);
    assert_eq!(
        w.check(&source, None).versions(),
        [("v1".to_string(), commit)]
    );

    let vars_yaml = fragment(&w, &keys, "staging", &["--vars"]).stdout;
    let vars_json = fragment_json(&w, &keys, "staging", &["--vars"]);
    assert_eq!(yaml::parse(&vars_yaml), vars_json);
    assert_eq!(
        vars_json["signers"],
        json!({
            "1.5": "((1_5_pub))", "alice": "((alice_pub))", "bob": "((bob_pub))",
            "carol": "((carol_pub))", "ci.eu": "((ci_eu_pub))", "on": "((on_pub))",
            "staging": "((staging_pub))",
        })
    );
    assert_eq!(vars_json["groups"], json_form["groups"]);
    assert_eq!(vars_json["require"], json_form["require"]);
    for text in [&vars_yaml, &vars_json.to_string()] {
        assert!(!text.contains("-----BEGIN"), "{text}");
        for k in [&a, &b, &c, &s, &on, &num, &dotted] {
            assert!(!text.contains(&k.fpr), "{text}");
        }
    }
}

#[test]
fn an_unknown_environment_or_clashing_variables_exit_2() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let (c, s) = (w.key("carol"), w.key("staging"));
    let keys = keys_dir(&w, &[&a, &b, &c, &s], POLICY);
    let run = sigtag(
        &w,
        &["keys", "source", "--env", "qa", "--keys", &World::s(&keys)],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "sigtag: {}: no environment \"qa\"; add [environments.qa] or use one of: prod, staging\n",
            keys.join("policy.toml").display()
        )
    );

    let (x1, x2) = (w.key("a.b"), w.key("a_b"));
    let clash = keys_dir(
        &w,
        &[&x1, &x2],
        "[groups]\nx = [\"a.b\", \"a_b\"]\n[environments.e]\nrequire = \"1 of x\"\n",
    );
    let run = sigtag(
        &w,
        &[
            "keys",
            "source",
            "--env",
            "e",
            "--vars",
            "--keys",
            &World::s(&clash),
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "sigtag: signers \"a.b\" and \"a_b\" would both be the variable ((a_b_pub)); rename one of their files\n"
    );
    // Inline, they do not clash.
    fragment(&w, &clash, "e", &[]);
}

#[test]
fn the_fragment_carries_since_emails_and_an_emergency() {
    let w = World::new();
    let (a, b, c, s) = (
        w.key("alice"),
        w.key("bob"),
        w.key("carol"),
        w.key("staging"),
    );
    let root = w.git(&["rev-parse", "HEAD"]);
    let policy = format!(
        "[groups]\nhumans = [\"alice\", \"bob\", \"carol\"]\npipelines = [\"staging\"]\n\n\
         [emails]\nalice = [\"Alice@Users.Noreply.GitHub.com\"]\n\n\
         [environments.staging]\nrequire = \"2 of humans besides author\"\nsince = \"{}\"\n\n\
         [environments.prod]\nrequire = \"2 of  humans and 1 of pipelines tested\"\n\
         emergency = \"1 of humans and 1 of pipelines\"\nreview = \"(2 of humans)\"\nreview_within = \"72h\"\n\n\
         [environments.dev]\nrequire = \"1 of humans\"\nemergency = \"1 of pipelines\"\nreview_within = \"3d\"\n",
        root.to_uppercase()
    );
    let keys = keys_dir(&w, &[&a, &b, &c, &s], &policy);
    let emails = json!({"alice": ["Alice@Users.Noreply.GitHub.com"]});

    let staging = fragment_json(&w, &keys, "staging", &["--vars"]);
    assert_eq!(staging["since"], json!(root), "as the trust root reads it");
    assert_eq!(staging["emails"], emails);
    for absent in ["in_order", "emergency", "review", "review_within"] {
        assert_eq!(staging.get(absent), None, "{absent}");
    }
    let yaml_text = fragment(&w, &keys, "staging", &["--vars"]).stdout;
    assert!(
        yaml_text.ends_with(&format!(
            "require: \"2 of humans besides author\"\nsince: \"{root}\"\n\
             emails:\n  alice: [\"Alice@Users.Noreply.GitHub.com\"]\n"
        )),
        "{yaml_text}"
    );
    assert_eq!(yaml::parse(&yaml_text), staging);

    // A tested atom implies in_order; rules as the trust root reads them.
    let prod = fragment_json(&w, &keys, "prod", &["--vars"]);
    assert_eq!(
        (
            &prod["require"],
            &prod["in_order"],
            &prod["emergency"],
            &prod["review"],
            &prod["review_within"],
            &prod["emails"],
            prod.get("since")
        ),
        (
            &json!("2 of humans and 1 of pipelines tested"),
            &json!(true),
            &json!("1 of humans and 1 of pipelines"),
            &json!("2 of humans"),
            &json!("72h"),
            &emails,
            None
        )
    );
    let yaml_text = fragment(&w, &keys, "prod", &["--vars"]).stdout;
    assert!(
        yaml_text.ends_with(
            "require: \"2 of humans and 1 of pipelines tested\"\nin_order: true\n\
             emails:\n  alice: [\"Alice@Users.Noreply.GitHub.com\"]\n\
             emergency: \"1 of humans and 1 of pipelines\"\nreview: \"2 of humans\"\nreview_within: \"72h\"\n"
        ),
        "{yaml_text}"
    );
    assert_eq!(yaml::parse(&yaml_text), prod);
    // review is said only when the policy says it.
    let dev = fragment_json(&w, &keys, "dev", &[]);
    assert_eq!(
        (&dev["emergency"], dev.get("review"), &dev["review_within"]),
        (&json!("1 of pipelines"), None, &json!("3d"))
    );

    // Each fragment, its certificates inline, is a source the resource
    // takes: staging's range starts at since, alice's other address is
    // hers.
    let v1 = w.release("v1", "app.txt", "1\n", "one", &[&a, &b], now() - 100);
    for (env, versions) in [
        ("staging", vec![("v1".to_string(), v1.clone())]),
        ("prod", vec![]),
        ("dev", vec![("v1".to_string(), v1.clone())]),
    ] {
        let mut source = fragment_json(&w, &keys, env, &[]);
        source["uri"] = json!(w.file_uri());
        let run = w.check(&source, None);
        assert_eq!(run.versions(), versions, "{env}: {}", run.stderr);
    }
}
