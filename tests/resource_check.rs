//! `check`, run the way Concourse runs it: which tags become versions, in
//! which order, and what the check container keeps between checks.

mod resource_support;

use resource_support::{now, World};
use serde_json::{json, Value};

/// v1 and v2 on two new commits of app, both signed by alice and bob, v1
/// dated `t` (1000 seconds ago) and v2 100 seconds later. Returns `t`, the
/// two commits and the usual source requiring 2 of humans.
fn v1_then_v2(w: &World) -> (i64, String, String, Value) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = now() - 1000;
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    let c2 = w.release("v2", "app", "2\n", "two", &[&a, &b], t + 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    (t, c1, c2, source)
}

#[test]
fn first_check_returns_only_the_latest_satisfying_tag() {
    let w = World::new();
    let (t, _, c2, source) = v1_then_v2(&w);
    w.release("v3", "app", "3\n", "three", &[&w.key("alice")], t + 200);

    let run = w.check(&source, None);
    assert_eq!(run.versions(), vec![("v2".to_string(), c2.clone())]);
    assert!(
        run.stderr
            .contains("v3: does not meet \"2 of humans\": needs 1 more of humans other than alice"),
        "the refused tag is named with its reason: {}",
        run.stderr
    );

    // Older Concourse sends "version": null on the first check.
    let req = json!({"source": source, "version": null});
    let run = w.run(
        resource_support::Bin::Check,
        None,
        req.to_string().as_bytes(),
    );
    assert_eq!(run.versions(), vec![("v2".to_string(), c2)]);
}

#[test]
fn check_from_a_version_returns_it_and_every_newer_one_oldest_first() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = now() - 10_000;
    let mut commits = std::collections::HashMap::new();
    // Creation time, not the name, orders versions; equal times go by name.
    for (tag, at) in [
        ("v1", t),
        ("v3", t + 10),
        ("v2", t + 20),
        ("v4", t + 30),
        ("v5b", t + 40),
        ("v5a", t + 40),
    ] {
        let c = w.release(tag, "app", &format!("{tag}\n"), tag, &[&a, &b], at);
        commits.insert(tag, c);
    }
    // A tag that does not satisfy sits in between and is not a version.
    w.release("v2.5", "app", "unsigned\n", "x", &[&a], t + 25);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let v = |tag: &str| (tag.to_string(), commits[tag].clone());

    let run = w.check(&source, Some(("v1", &commits["v1"])));
    assert_eq!(
        run.versions(),
        vec![v("v1"), v("v3"), v("v2"), v("v4"), v("v5a"), v("v5b")],
        "none skipped, oldest first"
    );
    assert_eq!(
        run.stderr.matches("skipping v2.5:").count(),
        1,
        "each refused tag is named once per check: {}",
        run.stderr
    );
    let run = w.check(&source, Some(("v2", &commits["v2"])));
    assert_eq!(run.versions(), vec![v("v2"), v("v4"), v("v5a"), v("v5b")]);
    let run = w.check(&source, Some(("v5a", &commits["v5a"])));
    assert_eq!(run.versions(), vec![v("v5a"), v("v5b")]);
    let run = w.check(&source, Some(("v5b", &commits["v5b"])));
    assert_eq!(run.versions(), vec![v("v5b")], "the latest alone");
    assert!(
        !run.stderr.contains("skipping v2.5:"),
        "tags older than the version are not looked at: {}",
        run.stderr
    );
}

#[test]
fn tag_filter_limits_the_versions() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = now() - 1000;
    let c1 = w.release("v1.0", "app", "1\n", "one", &[&a, &b], t);
    w.release("test-1", "app", "2\n", "two", &[&a, &b], t + 10);
    let mut source = w.standard_source(&w.file_uri(), "2 of humans");

    assert_eq!(w.check(&source, None).tags(), vec!["test-1"]);
    source["tag_filter"] = json!("v*");
    let run = w.check(&source, None);
    assert_eq!(run.versions(), vec![("v1.0".to_string(), c1.clone())]);
    assert!(
        !run.stderr.contains("test-1"),
        "tags outside the filter are not looked at: {}",
        run.stderr
    );
    let run = w.check(&source, Some(("v1.0", &c1)));
    assert_eq!(run.tags(), vec!["v1.0"]);
}

#[test]
fn a_tag_that_never_satisfies_never_appears() {
    let w = World::new();
    let (a, b, m) = (w.key("alice"), w.key("bob"), w.key("mallory"));
    let t = now() - 1000;
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    // Signed by a key nobody trusts, on top of one human.
    w.release("v2", "app", "2\n", "two", &[&a, &m], t + 10);
    // A validly signed tag "test-1" pushed as v3.
    let c3 = w.release("test-1", "app", "3\n", "three", &[&a, &b], t + 20);
    let test1 = w.tag_object("test-1");
    w.srv(&["update-ref", "refs/tags/v3", &test1]);
    w.srv(&["tag", "-d", "test-1"]);
    // A lightweight tag.
    w.srv(&["tag", "v4", &c3]);
    let source = w.standard_source(&w.file_uri(), "2 of humans");

    // The second check has v1's verdict from the cache.
    for (verified, cached) in [(2, 0), (1, 1)] {
        let run = w.check(&source, Some(("v1", &c1)));
        assert_eq!(run.versions(), vec![("v1".to_string(), c1.clone())]);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(
            lines,
            [
                format!(
                    "sigtag: skipping v2: does not meet \"2 of humans\": needs 1 more of humans \
                     other than alice; 1 signature not counted: signed by a key nobody trusts: {}…",
                    &m.fpr[..8]
                )
                .as_str(),
                "sigtag: skipping v3: rejected: layer is named \"test-1\", not \"v3\"",
                // A lightweight tag is no sigtag chain: counted, not refused.
                "sigtag: 1 tag is not a sigtag chain (lightweight or unsigned): v4; it is never returned",
                format!(
                    "sigtag: 4 tags: {verified} verified now, {cached} from the cache; 1 version for \
                     \"2 of humans\", 3 not returned (1 not a sigtag chain, 2 refused)"
                )
                .as_str(),
            ],
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_moved_tag_gives_only_newer_versions() {
    let w = World::new();
    let (t, c1, c2, source) = v1_then_v2(&w);
    assert_eq!(w.check(&source, Some(("v1", &c1))).tags(), vec!["v1", "v2"]);

    // v1 is re-made on another commit by both signers, dated after the old
    // v1 and before v2: a newer version than the one the check is given.
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c3 = w.commit("app", "3\n", "three");
    w.srv(&["tag", "-d", "v1"]);
    w.chain_at("v1", &c3, &[&a, &b], t + 50);
    let run = w.check(&source, Some(("v1", &c1)));
    assert_eq!(
        run.versions(),
        vec![
            ("v1".to_string(), c3.clone()),
            ("v2".to_string(), c2.clone())
        ],
        "newer versions only, the old v1 not among them: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "sigtag: tag v1 now points at commit {c3}, not at {c1}; returning only the satisfying versions newer than it"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_deleted_tag_gives_no_older_version() {
    let w = World::new();
    let (_, c1, c2, source) = v1_then_v2(&w);
    assert_eq!(w.check(&source, None).tags(), vec!["v2"]);

    w.srv(&["tag", "-d", "v2"]);
    // A first check knows no version yet: the latest is v1.
    assert_eq!(
        w.check(&source, None).versions(),
        vec![("v1".to_string(), c1)]
    );
    // From v2, v1 is older: nothing.
    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![]);
    assert!(
        run.stderr.contains(
            "sigtag: tag v2 no longer exists; returning only the satisfying versions newer than it"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("1 tag: 0 verified now, 1 from the cache; 0 versions for \"2 of humans\", 1 not returned (1 older than v2)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_co_signature_is_not_a_new_version() {
    let w = World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let before = w.check(&source, None).versions();
    assert_eq!(before, vec![("v1".to_string(), c1.clone())]);
    let outer = w.tag_object("v1");

    w.cosign(&s, "v1");
    assert_ne!(w.tag_object("v1"), outer, "a new outer layer");
    assert_eq!(w.layers("v1"), 3);
    assert_eq!(w.check(&source, Some(("v1", &c1))).versions(), before);
    assert_eq!(w.check(&source, None).versions(), before);
}

#[test]
fn repeated_checks_use_the_cached_clone_and_verdicts() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = now() - 1000;
    w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    w.release("v2", "app", "2\n", "two", &[&a], t + 10);
    let source = w.standard_source(&w.file_uri(), "2 of humans");

    let first = w.check(&source, None);
    assert!(
        first.stderr.contains("2 verified now, 0 from the cache"),
        "{}",
        first.stderr
    );
    let second = w.check(&source, None);
    assert_eq!(second.versions(), first.versions());
    assert!(
        second.stderr.contains("1 verified now, 1 from the cache"),
        "a positive verdict is reused, a negative one is not: {}",
        second.stderr
    );

    // The cache lives under TMPDIR: one bare clone holding only tags.
    let cache = w.tmp.join("sigtag-resource");
    let dirs: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(dirs.len(), 1, "one cache per uri");
    let clone = dirs[0].path().join("repo.git");
    let refs = w.git_in(&clone, &["for-each-ref", "--format=%(refname)"]);
    assert_eq!(refs, "refs/tags/v1\nrefs/tags/v2");

    // Another trust configuration does not reuse the verdicts.
    let mut other = source.clone();
    other["require"] = json!("1 of humans");
    let run = w.check(&other, None);
    assert!(
        run.stderr.contains("2 verified now, 0 from the cache"),
        "{}",
        run.stderr
    );
    assert_eq!(run.tags(), vec!["v2"]);
    // Nor does a changed certificate: bob is no longer trusted.
    let mut fewer = source.clone();
    fewer["signers"]["bob"] = json!(w.cert(&w.key("carol")));
    let run = w.check(&fewer, None);
    assert_eq!(run.versions(), vec![]);
    assert!(run.stderr.contains("skipping v1:"), "{}", run.stderr);
}

#[test]
fn a_damaged_cache_is_rebuilt() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    w.release("v1", "app", "1\n", "one", &[&a, &b], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    assert_eq!(w.check(&source, None).tags(), vec!["v1"]);

    let cache = w.tmp.join("sigtag-resource");
    let (mut repos, mut verdicts) = (0, 0);
    for dir in std::fs::read_dir(&cache).unwrap().flatten() {
        std::fs::remove_dir_all(dir.path().join("repo.git").join("objects")).unwrap();
        repos += 1;
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if f.file_name().to_string_lossy().starts_with("verdicts-") {
                std::fs::write(f.path(), "garbage").unwrap();
                verdicts += 1;
            }
        }
    }
    // The damage was done: one cache, its objects and its verdicts.
    assert_eq!((repos, verdicts), (1, 1), "the cache below {cache:?}");
    assert_eq!(w.check(&source, None).tags(), vec!["v1"]);
}

#[test]
fn check_needs_no_path_home_or_build_variables() {
    // World::run gives check nothing but TMPDIR; this also covers TMPDIR
    // unset (the cache then goes to /tmp).
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let req = json!({"source": source}).to_string();
    let shared = std::path::Path::new("/tmp/sigtag-resource");
    let before: Vec<_> = std::fs::read_dir(shared)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    let out = resource_support::run_with_input(
        {
            let mut cmd = std::process::Command::new(resource_support::Bin::Check.path());
            cmd.env_clear().current_dir("/");
            cmd
        },
        Some(req.as_bytes()),
    );
    let made: Vec<_> = std::fs::read_dir(shared)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    for p in &made {
        let _ = std::fs::remove_dir_all(p);
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(made.len(), 1, "the cache went to /tmp");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!([{"tag": "v1", "commit": c1}]));
}

#[test]
fn the_sigtag_binary_takes_its_role_from_its_name() {
    // The image links /opt/resource/{check,in,out} to sigtag.
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let opt = w.fresh_dir("opt-resource");
    for role in ["check", "in", "out"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_sigtag"), opt.join(role)).unwrap();
    }
    let run = |role: &str, dir: Option<&std::path::Path>, req: serde_json::Value| {
        let mut cmd = std::process::Command::new(opt.join(role));
        cmd.env_clear().env("TMPDIR", &w.tmp).current_dir(&w.root);
        if let Some(d) = dir {
            cmd.arg(d);
        }
        resource_support::exec(cmd, req.to_string().as_bytes())
    };
    let checked = run("check", None, json!({"source": source}));
    assert_eq!(checked.versions(), vec![("v1".to_string(), c1.clone())]);
    let dest = w.fresh_dir("get");
    let got = run(
        "in",
        Some(&dest),
        json!({"source": source, "version": {"tag": "v1", "commit": c1}}),
    );
    got.ok();
    assert!(dest.join(".git/sigtag/report.json").exists());
    let put = run("out", Some(&dest), json!({"source": source, "params": {}}));
    put.assert_fails(&["params.tag", "params.from"]);
}

#[test]
fn a_cached_verdict_ends_when_its_signature_expires() {
    let w = World::new();
    let a = w.key("alice");
    let c1 = w.commit("app", "1\n", "one");
    let signed_at = now();
    // alice's signature, the only one that counts, expires in 20 seconds.
    w.tag_signed_gpg(&a, "v1", &c1, None, &["--default-sig-expire", "seconds=20"]);
    let source = w.standard_source(&w.file_uri(), "1 of humans");

    let first = w.check(&source, None);
    assert_eq!(first.versions(), vec![("v1".to_string(), c1.clone())]);
    assert!(
        now() < signed_at + 20,
        "the first check must end before the signature expires; the machine is too slow"
    );
    std::thread::sleep(std::time::Duration::from_secs(
        u64::try_from(signed_at + 22 - now()).unwrap_or(0),
    ));

    // The same container: the cached verdict has ended, v1 is verified
    // again and refused.
    let run = w.check(&source, None);
    assert_eq!(run.versions(), vec![], "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines.iter().any(
            |l| l.starts_with("sigtag: the cached verdict on v1 ended at ")
                && l.ends_with(
                    ", when its earliest counting signature expired; verifying it again"
                )
        ),
        "{}",
        run.stderr
    );
    let skip = resource_support::skipping_lines(&run.stderr, "v1");
    assert_eq!(skip.len(), 1, "{}", run.stderr);
    assert!(
        skip[0].starts_with("sigtag: skipping v1: does not meet \"1 of humans\": needs ")
            && skip[0].contains("; 1 signature not counted: signature by alice expired at "),
        "the log names why: {}",
        run.stderr
    );
    // From v1 itself: not returned, and nothing older either.
    let run = w.check(&source, Some(("v1", &c1)));
    assert_eq!(run.versions(), vec![], "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "sigtag: tag v1 no longer satisfies \"1 of humans\"; returning only the satisfying versions newer than it"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn the_log_names_at_most_fifty_tags_then_counts() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], now() - 100);
    // v1's chain under 55 other names: each refused for its name.
    let outer = w.tag_object("v1");
    for i in 0..55 {
        w.srv(&["update-ref", &format!("refs/tags/lt-{i:02}"), &outer]);
    }
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let run = w.check(&source, None);
    assert_eq!(run.versions(), vec![("v1".to_string(), c1)]);
    let named = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("sigtag: skipping lt-"))
        .count();
    assert_eq!(named, 50, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.trim_end().lines().collect();
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "sigtag: ... and 5 more",
            "sigtag: 56 tags: 1 verified now, 0 from the cache; 1 version for \"2 of humans\", 55 not returned (55 refused)",
        ]
    );
}

/// The numbers of a check's summary line add up: the versions returned
/// and every reason a tag was not returned make the number of tags seen.
fn assert_summary_adds_up(summary: &str) {
    let body = summary.strip_prefix("sigtag: ").unwrap_or(summary);
    let number = |text: &str| -> usize {
        text.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number in {text:?} of {summary:?}"))
    };
    let (total, rest) = body.split_once(':').unwrap();
    let (_, returned) = rest.split_once("; ").unwrap();
    let (versions, not_returned) = returned.split_once(", ").unwrap();
    let (count, why) = match not_returned.split_once(" (") {
        Some((count, why)) => (count, why.trim_end_matches(')')),
        None => (not_returned, ""),
    };
    let parts: usize = why.split(", ").filter(|p| !p.is_empty()).map(number).sum();
    assert_eq!(number(count), parts, "{summary}");
    assert_eq!(number(versions) + number(count), number(total), "{summary}");
}

#[test]
fn tags_from_before_sigtag_are_counted_in_one_line() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c0 = w.commit("app", "0\n", "zero");
    // A project's history: 40 plain lightweight tags and 2 unsigned
    // annotated ones, made with git alone.
    for i in 1..=40 {
        w.srv(&["tag", &format!("v0.{i}"), &c0]);
    }
    for i in [41, 42] {
        w.srv(&["tag", "-a", "-m", "old release", &format!("v0.{i}"), &c0]);
    }
    let t = now() - 1000;
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    let c2 = w.release("v2", "app", "2\n", "two", &[&a, &b], t + 100);
    w.release("v3", "app", "3\n", "three", &[&a], t + 200);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let legacy = "sigtag: 42 tags are not sigtag chains (lightweight or unsigned): \
                  v0.1, v0.2, v0.3 and 39 more; they are never returned";
    let refused = "sigtag: skipping v3: does not meet \"2 of humans\": \
                   needs 1 more of humans other than alice";

    let run = w.check(&source, Some(("v1", &c1)));
    assert_eq!(
        run.versions(),
        vec![
            ("v1".to_string(), c1.clone()),
            ("v2".to_string(), c2.clone())
        ]
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    let summary = "sigtag: 45 tags: 3 verified now, 0 from the cache; 2 versions for \
                   \"2 of humans\", 43 not returned (42 not sigtag chains, 1 refused)";
    assert_eq!(lines, [refused, legacy, summary], "{}", run.stderr);
    assert_summary_adds_up(summary);

    // Every check says it once more, in one line, and still adds up.
    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(run.versions(), vec![("v2".to_string(), c2)]);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let summary = "sigtag: 45 tags: 1 verified now, 2 from the cache; 1 version for \
                   \"2 of humans\", 44 not returned (42 not sigtag chains, 1 refused, 1 older than v2)";
    assert_eq!(lines, [refused, legacy, summary], "{}", run.stderr);
    assert_summary_adds_up(summary);

    // A first check in a fresh container: the same count.
    let run = w.check_in_fresh_container(&source, None);
    assert_eq!(run.tags(), vec!["v2"]);
    let summary = resource_support::summary_line(&run.stderr);
    assert!(
        summary.ends_with("(42 not sigtag chains, 1 refused, 1 not the latest)"),
        "{}",
        run.stderr
    );
    assert_summary_adds_up(summary);
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("v0."))
            .collect::<Vec<_>>(),
        [legacy],
        "no legacy tag is named on its own: {}",
        run.stderr
    );
}
