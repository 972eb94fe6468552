//! `check` never answers with a version older than the one it is given:
//! not when the version's tag is deleted, spoilt by someone who can push
//! but holds no key, or moved, and not when a release is dated before it.
//! Each case is built with real git and gpg and checked the way Concourse
//! checks.

mod resource_support;

use resource_support::{now, skipping_lines, summary_line, Key, World};
use serde_json::Value;

/// RFC 3339 in UTC, as the log prints times.
fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// v1 dated `t` and v2 dated `t + 100`, both signed by alice and bob, and a
/// first check from v1 that returns both (so the check container remembers
/// where they stood). Returns `t`, the commits and the source.
fn v1_then_v2_returned(w: &World) -> (i64, String, String, Value) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = now() - 1000;
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    let c2 = w.release("v2", "app", "2\n", "two", &[&a, &b], t + 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    assert_eq!(w.check(&source, Some(("v1", &c1))).tags(), vec!["v1", "v2"]);
    (t, c1, c2, source)
}

fn must_hold(stderr: &str, line: &str) {
    assert!(
        stderr.lines().any(|l| l == line),
        "the log holds the line\n{line}\n---\n{stderr}"
    );
}

/// The sentence of a check that cannot place `tag` at `commit`.
fn cannot_place(why: &str, tag: &str, commit: &str) -> String {
    format!(
        "sigtag: {why}, and this check has no record of where {tag} at {commit} stood, \
         so it returns no version rather than risk an older one; to go on, check from a \
         version you trust: fly -t TARGET check-resource -r PIPELINE/RESOURCE --from tag:TAG,commit:COMMIT"
    )
}

fn only_newer(why: &str, at: i64) -> String {
    format!(
        "sigtag: {why}; returning only the satisfying versions newer than it (it was tagged {}), never an older one",
        iso(at)
    )
}

#[test]
fn deleting_the_current_tag_gives_no_older_version() {
    let w = World::new();
    let (t, c1, c2, source) = v1_then_v2_returned(&w);
    w.srv(&["tag", "-d", "v2"]);

    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![], "never v1: {}", run.stderr);
    must_hold(&run.stderr, &only_newer("tag v2 no longer exists", t + 100));
    assert_eq!(
        summary_line(&run.stderr),
        "sigtag: 1 tag: 0 verified now, 1 from the cache; 0 versions for \"2 of humans\", 1 not returned (1 older than v2)"
    );

    // A newer release is returned as usual.
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c3 = w.release("v3", "app", "3\n", "three", &[&a, &b], t + 200);
    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![("v3".to_string(), c3.clone())]);

    // A fresh check container cannot tell where v2 stood: nothing, and how
    // to go on.
    let run = w.check_in_fresh_container(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![], "{}", run.stderr);
    must_hold(
        &run.stderr,
        &cannot_place("tag v2 no longer exists", "v2", &c2),
    );
    must_hold(
        &run.stderr,
        "sigtag: skipping v1: withheld, since the check cannot place v2",
    );
    assert_eq!(
        summary_line(&run.stderr),
        "sigtag: 2 tags: 0 verified now, 0 from the cache; 0 versions for \"2 of humans\", 2 not returned (2 withheld)"
    );
    // The operator checks from a version they trust.
    let run = w.check_in_fresh_container(&source, Some(("v3", &c3)));
    assert_eq!(run.versions(), vec![("v3".to_string(), c3)]);
    let _ = c1;
}

#[test]
fn a_layer_stacked_without_a_key_does_not_move_the_version_back() {
    let w = World::new();
    let (t, _, c2, source) = v1_then_v2_returned(&w);
    // Someone who can push but holds no key stacks an unsigned layer with
    // another name on v2.
    let outer = w.tag_object("v2");
    let evil = w.unsigned_layer("v1", &outer, "tag", now(), "oops\n");
    w.force_tag_ref("v2", &evil);

    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![], "never v1: {}", run.stderr);
    must_hold(&run.stderr, &only_newer("tag v2 is rejected now", t + 100));
    assert_eq!(
        skipping_lines(&run.stderr, "v2"),
        vec!["sigtag: skipping v2: rejected: layer is named \"v1\", not \"v2\""]
    );

    let run = w.check_in_fresh_container(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![], "{}", run.stderr);
    must_hold(
        &run.stderr,
        &cannot_place("tag v2 is rejected now", "v2", &c2),
    );
}

#[test]
fn a_fake_inner_layer_with_an_early_date_does_not_move_the_version_back() {
    let w = World::new();
    let (t, _, c2, source) = v1_then_v2_returned(&w);
    // A whole new, unsigned chain on v2's commit, dated before v1: were its
    // date taken as v2's place, v1 would count as newer.
    let fake = w.unsigned_layer("v2", &c2, "commit", t - 5000, "v2\n");
    w.force_tag_ref("v2", &fake);

    for run in [
        w.check(&source, Some(("v2", &c2))),
        w.check_in_fresh_container(&source, Some(("v2", &c2))),
    ] {
        assert_eq!(run.versions(), vec![], "never v1: {}", run.stderr);
        // An unsigned chain is no sigtag chain: counted in one line, never
        // returned.
        assert_eq!(skipping_lines(&run.stderr, "v2"), Vec::<&str>::new());
        must_hold(
            &run.stderr,
            "sigtag: 1 tag is not a sigtag chain (lightweight or unsigned): v2; it is never returned",
        );
    }
    let run = w.check(&source, Some(("v2", &c2)));
    must_hold(
        &run.stderr,
        &only_newer("tag v2 no longer satisfies \"2 of humans\"", t + 100),
    );
}

#[test]
fn moving_the_current_tag_gives_no_older_version() {
    let w = World::new();
    let (t, c1, c2, source) = v1_then_v2_returned(&w);
    // v2 now names v1's commit through an unsigned layer dated long ago.
    let moved = w.unsigned_layer("v2", &c1, "commit", t - 5000, "v2\n");
    w.force_tag_ref("v2", &moved);

    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![], "never v1: {}", run.stderr);
    let why = format!("tag v2 now points at commit {c1}, not at {c2}");
    must_hold(&run.stderr, &only_newer(&why, t + 100));

    let run = w.check_in_fresh_container(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![], "{}", run.stderr);
    must_hold(&run.stderr, &cannot_place(&why, "v2", &c2));
}

#[test]
fn a_release_dated_before_the_current_version_is_named_once() {
    let w = World::new();
    let (t, _, c2, source) = v1_then_v2_returned(&w);
    assert_eq!(w.check(&source, Some(("v2", &c2))).tags(), vec!["v2"]);
    // v3 is signed now but its tagger date says two days ago.
    let (a, b): (Key, Key) = (w.key("alice"), w.key("bob"));
    let two_days_back = now() - 2 * 86_400;
    w.release("v3", "app", "3\n", "three", &[&a, &b], two_days_back);

    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.tags(), vec!["v2"], "{}", run.stderr);
    let lines = skipping_lines(&run.stderr, "v3");
    let older = format!(
        "sigtag: skipping v3: older than v2, the version this check started from (tagged {}, v2 {})",
        iso(two_days_back),
        iso(t + 100)
    );
    // Once a tagger date the signature does not vouch for is refused while
    // the chain is read, the line gives that reason instead.
    assert!(
        lines == vec![older.as_str()]
            || (lines.len() == 1 && lines[0].starts_with("sigtag: skipping v3: rejected: ")),
        "v3 is named once, with why: {}",
        run.stderr
    );
    let summary = if lines == vec![older.as_str()] {
        "sigtag: 3 tags: 0 verified now, 2 from the cache; 1 version for \"2 of humans\", 2 not returned (2 older than v2)"
    } else {
        "sigtag: 3 tags: 0 verified now, 2 from the cache; 1 version for \"2 of humans\", 2 not returned (1 refused, 1 older than v2)"
    };
    assert_eq!(summary_line(&run.stderr), summary);

    // Nothing new: the log names nobody, and still counts v3.
    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.tags(), vec!["v2"]);
    if lines == vec![older.as_str()] {
        assert!(!run.stderr.contains("v3"), "{}", run.stderr);
    }
    assert!(!run.stderr.contains("skipping v1"), "{}", run.stderr);
    assert_eq!(summary_line(&run.stderr), summary);
}
