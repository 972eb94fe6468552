//! `source.in_order: true` (DESIGN §6): a check returns at most one version
//! newer than the one it was given, so a pipeline deploys every promotion
//! in turn; the others wait, and the log says so. A first check returns
//! the latest only; `tag_filter` applies before the order; a vanished or
//! moved version follows the no-rollback rules. `in_order = true` in a
//! policy's environment goes into `sigtag keys source`'s fragment. Real
//! git, real gpg, the check run as Concourse runs it.

mod resource_support;

use resource_support::{now, sigtag, skipping_lines, summary_line, World};
use serde_json::{json, Value};
use std::fs;

/// RFC 3339 in UTC, as the log prints times.
fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// v1..v4 dated `t`, `t + 100`, ... , each signed by alice and bob, and a
/// source requiring 2 of humans with `in_order: true`. Returns `t`, the
/// commits (index 0 is v1) and the source.
fn four(w: &World) -> (i64, Vec<String>, Value) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = now() - 1000;
    let commits = (1..=4)
        .map(|i| {
            let n = i.to_string();
            w.release(
                &format!("v{i}"),
                "app",
                &n,
                &n,
                &[&a, &b],
                t + 100 * (i - 1),
            )
        })
        .collect();
    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    source["in_order"] = Value::Bool(true);
    (t, commits, source)
}

fn pairs(tags: &[&str], commits: &[&String]) -> Vec<(String, String)> {
    tags.iter()
        .zip(commits)
        .map(|(t, c)| (t.to_string(), c.to_string()))
        .collect()
}

fn must_hold(stderr: &str, line: &str) {
    assert!(
        stderr.lines().any(|l| l == line),
        "the log holds the line\n{line}\n---\n{stderr}"
    );
}

fn lacks(stderr: &str, part: &str) {
    assert!(!stderr.contains(part), "{part:?} in\n{stderr}");
}

#[test]
fn each_check_returns_the_next_promotion() {
    let w = World::new();
    let (_, c, source) = four(&w);

    let run = w.check(&source, Some(("v1", &c[0])));
    assert_eq!(run.versions(), pairs(&["v1", "v2"], &[&c[0], &c[1]]));
    must_hold(
        &run.stderr,
        "sigtag: v3 and 1 more wait: in_order returns one promotion per check",
    );
    assert_eq!(
        summary_line(&run.stderr),
        "sigtag: 4 tags: 4 verified now, 0 from the cache; 2 versions for \"2 of humans\", 2 not returned (2 waiting (in_order))"
    );

    let run = w.check(&source, Some(("v2", &c[1])));
    assert_eq!(run.versions(), pairs(&["v2", "v3"], &[&c[1], &c[2]]));
    must_hold(
        &run.stderr,
        "sigtag: v4 waits: in_order returns one promotion per check",
    );
    assert_eq!(
        summary_line(&run.stderr),
        "sigtag: 4 tags: 0 verified now, 4 from the cache; 2 versions for \"2 of humans\", 2 not returned (1 older than v2, 1 waiting (in_order))"
    );

    let run = w.check(&source, Some(("v4", &c[3])));
    assert_eq!(run.versions(), pairs(&["v4"], &[&c[3]]));
    lacks(&run.stderr, "wait");

    // A first check: the latest only, as without in_order.
    let run = w.check_in_fresh_container(&source, None);
    assert_eq!(run.versions(), pairs(&["v4"], &[&c[3]]));
    lacks(&run.stderr, "wait");

    // Without in_order: every newer version at once.
    let mut every = source.clone();
    every["in_order"] = Value::Bool(false);
    assert_eq!(
        w.check(&every, Some(("v1", &c[0]))).tags(),
        ["v1", "v2", "v3", "v4"]
    );
}

#[test]
fn refused_and_filtered_tags_are_no_promotions() {
    let w = World::new();
    let (t, c, mut source) = four(&w);
    let (a, b) = (w.key("alice"), w.key("bob"));
    // Between v1 and v2: a tag only alice signed (refused), and one the
    // filter leaves out.
    w.release("v1.5", "app", "1.5", "1.5", &[&a], t + 50);
    w.release("test-1", "app", "t", "t", &[&a, &b], t + 60);
    source["tag_filter"] = Value::String("v*".into());

    let run = w.check(&source, Some(("v1", &c[0])));
    assert_eq!(run.versions(), pairs(&["v1", "v2"], &[&c[0], &c[1]]));
    assert_eq!(
        skipping_lines(&run.stderr, "v1.5").len(),
        1,
        "{}",
        run.stderr
    );
    lacks(&run.stderr, "test-1");
    must_hold(
        &run.stderr,
        "sigtag: v3 and 1 more wait: in_order returns one promotion per check",
    );
    assert_eq!(
        summary_line(&run.stderr),
        "sigtag: 5 tags: 5 verified now, 0 from the cache; 2 versions for \"2 of humans\", 3 not returned (1 refused, 2 waiting (in_order))"
    );
}

#[test]
fn a_vanished_version_gives_only_the_next_one_or_nothing() {
    let w = World::new();
    let (t, c, source) = four(&w);
    // Checks that returned v2 (so this container remembers where it
    // stood), then v2 is deleted.
    assert_eq!(w.check(&source, Some(("v1", &c[0]))).tags(), ["v1", "v2"]);
    w.srv(&["tag", "-d", "v2"]);

    let run = w.check(&source, Some(("v2", &c[1])));
    assert_eq!(run.versions(), pairs(&["v3"], &[&c[2]]), "never v1");
    must_hold(
        &run.stderr,
        &format!(
            "sigtag: tag v2 no longer exists; returning only the next satisfying version newer than it (it was tagged {}), never an older one: in_order returns one promotion per check",
            iso(t + 100)
        ),
    );
    must_hold(
        &run.stderr,
        "sigtag: v4 waits: in_order returns one promotion per check",
    );

    // Moved to a newer commit: the moved tag is the next one, never v1.
    let (a, b) = (w.key("alice"), w.key("bob"));
    let moved = w.commit("app", "2 again", "two again");
    w.chain_at("v2", &moved, &[&a, &b], t + 150);
    let run = w.check(&source, Some(("v2", &c[1])));
    assert_eq!(run.versions(), pairs(&["v2"], &[&moved]));
    must_hold(
        &run.stderr,
        "sigtag: v3 and 1 more wait: in_order returns one promotion per check",
    );

    // A container with no record of where v2 stood returns nothing.
    let run = w.check_in_fresh_container(&source, Some(("v9", &c[1])));
    assert_eq!(run.versions(), vec![], "{}", run.stderr);
    lacks(&run.stderr, "wait");
    assert!(
        run.stderr
            .contains("tag v9 no longer exists, and this check has no record of where v9 at"),
        "{}",
        run.stderr
    );
}

#[test]
fn in_order_must_be_a_boolean() {
    let w = World::new();
    let (_, _, mut source) = four(&w);
    source["in_order"] = Value::String("yes".into());
    w.check(&source, None)
        .assert_fails(&["source.in_order must be true or false, not a string"]);
}

#[test]
fn a_policy_in_order_goes_into_the_source_fragment() {
    let w = World::new();
    let (_, c, _) = four(&w);
    let (a, b) = (w.key("alice"), w.key("bob"));
    let keys = w.unique("keys");
    fs::create_dir(&keys).unwrap();
    for k in [&a, &b] {
        fs::write(keys.join(format!("{}.asc", k.name)), w.cert(k)).unwrap();
    }
    let policy = |prod_in_order: &str| {
        format!(
            "[groups]\nhumans = [\"alice\", \"bob\"]\n\n\
             [environments.staging]\nrequire = \"2 of humans\"\n\n\
             [environments.prod]\nrequire = \"2 of humans\"\n{prod_in_order}"
        )
    };
    fs::write(keys.join("policy.toml"), policy("in_order = true\n")).unwrap();
    let dir = World::s(&keys);
    let fragment = |env: &str, format: &str| {
        let run = sigtag(
            &w,
            &[
                "keys", "source", "--env", env, "--keys", &dir, "--vars", "--format", format,
            ],
        );
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{}", run.stdout);
        run.stdout
    };

    let yaml = fragment("prod", "yaml");
    assert!(
        yaml.ends_with("require: \"2 of humans\"\nin_order: true\n"),
        "{yaml}"
    );
    let prod: Value = serde_json::from_str(&fragment("prod", "json")).unwrap();
    assert_eq!(prod["in_order"], json!(true));
    // staging does not say it, so its fragment says nothing of it.
    assert!(!fragment("staging", "yaml").contains("in_order"));
    let staging: Value = serde_json::from_str(&fragment("staging", "json")).unwrap();
    assert_eq!(staging.get("in_order"), None);

    // The prod fragment, with its certificates inline, is a source whose
    // check returns one promotion at a time.
    let run = sigtag(
        &w,
        &[
            "keys", "source", "--env", "prod", "--keys", &dir, "--format", "json",
        ],
    );
    let mut source: Value = serde_json::from_str(&run.stdout).unwrap();
    source["uri"] = Value::String(w.file_uri());
    assert_eq!(
        w.check(&source, Some(("v1", &c[0]))).versions(),
        pairs(&["v1", "v2"], &[&c[0], &c[1]])
    );

    // in_order is true or false.
    fs::write(keys.join("policy.toml"), policy("in_order = \"yes\"\n")).unwrap();
    let run = sigtag(&w, &["keys", "source", "--env", "prod", "--keys", &dir]);
    assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "sigtag: {}: line 9, column 12: invalid type: string \"yes\", expected a boolean\n",
            keys.join("policy.toml").display()
        )
    );
}
