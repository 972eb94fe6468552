//! The staging → prod story of DESIGN §6, end to end: two resources over
//! one real git remote, the real `check`, `in` and `out` run as Concourse
//! runs them, real gpg keys.
//!
//! - staging requires "2 of humans" with `in_order: true` and co-signs
//!   each version it deploys with its pipeline key; its `out` records the
//!   tag's base for staging as the transition it tested.
//! - prod requires "2 of humans and 1 of pipelines tested" (which implies
//!   `in_order`): a version counts only when a pipeline tested exactly the
//!   transition prod is about to make.
//! - A hostile (or mistaken) staging layer that tested another transition
//!   is refused in prod, whose log says what was tested, what prod has and
//!   how to recover; staging recovers by testing the right transition.

mod resource_support;

use resource_support::{now, output_parts, Bin, Key, Run, World};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

/// The world of the story: alice and bob are humans; staging is the
/// pipeline; v1 < v2 < v3, each on the next commit of main
/// and signed by alice then bob.
struct Story {
    w: World,
    staging_key: Key,
    staging: Value,
    prod: Value,
    /// Each environment's check container (its TMPDIR).
    staging_tmp: PathBuf,
    prod_tmp: PathBuf,
    t: i64,
    /// The commits of v1, v2, v3.
    c: Vec<String>,
}

impl Story {
    fn new() -> Story {
        let w = World::new();
        let (a, b) = (w.key("alice"), w.key("bob"));
        let s = w.key("staging");
        let source = |require: &str| {
            w.source_with(
                &w.file_uri(),
                &[&a, &b, &s],
                &[("humans", &["alice", "bob"]), ("pipelines", &["staging"])],
                require,
            )
        };
        let mut staging = source("2 of humans");
        staging["environment"] = json!("staging");
        staging["in_order"] = json!(true);
        staging["signing_key"] = json!(w.secret(&s));
        let mut prod = source("2 of humans and 1 of pipelines tested");
        prod["environment"] = json!("prod");
        let t = now() - 1000;
        let c = (1..=3)
            .map(|i| {
                let n = i.to_string();
                w.release(
                    &format!("v{i}"),
                    "app.txt",
                    &format!("{n}\n"),
                    &format!("release {n}"),
                    &[&a, &b],
                    t + 100 * (i - 1),
                )
            })
            .collect();
        let staging_tmp = w.fresh_dir("staging-tmp");
        let prod_tmp = w.fresh_dir("prod-tmp");
        Story {
            staging_key: s,
            w,
            staging,
            prod,
            staging_tmp,
            prod_tmp,
            t,
            c,
        }
    }

    /// `check` in the container `tmp`.
    fn check_in(&self, tmp: &Path, source: &Value, version: Option<(&str, &str)>) -> Run {
        let mut req = json!({ "source": source });
        if let Some((tag, commit)) = version {
            req["version"] = json!({"tag": tag, "commit": commit});
        }
        let tmp = World::s(tmp);
        self.w.run_env(
            Bin::Check,
            None,
            req.to_string().as_bytes(),
            &[("TMPDIR", &tmp)],
        )
    }

    fn staging_check(&self, version: Option<(&str, &str)>) -> Run {
        self.check_in(&self.staging_tmp, &self.staging, version)
    }

    fn prod_check(&self, version: Option<(&str, &str)>) -> Run {
        self.check_in(&self.prod_tmp, &self.prod, version)
    }

    /// A staging build of `tag`: `get` into `release`, then `put` with
    /// `from: release` (and `params`), the way resource/staging.yml does.
    /// Returns the put.
    fn stage(&self, tag: &str, commit: &str, params: Value) -> Run {
        let build = self.w.fresh_dir("build");
        let dest = build.join("release");
        fs::create_dir(&dest).unwrap();
        self.w.get(&self.staging, tag, commit, &dest).ok();
        let mut params = params;
        params["from"] = json!("release");
        self.w.put(&self.staging, params, &build)
    }

    /// `get` of `tag` for prod: its metadata and its report.json.
    fn prod_get(&self, tag: &str, commit: &str) -> (Vec<(String, String)>, Value) {
        let dest = self.w.fresh_dir("prod-get");
        let run = self.w.get(&self.prod, tag, commit, &dest);
        let (version, metadata) = output_parts(&run.ok());
        assert_eq!(version, (tag.to_string(), commit.to_string()));
        let report = fs::read_to_string(dest.join(".git/sigtag/report.json")).unwrap();
        (metadata, serde_json::from_str(&report).unwrap())
    }

    /// The last line of the message of a tag's outer layer on the server.
    fn recorded(&self, tag: &str) -> String {
        let layer = self.w.outer_layer(tag);
        let message = layer.split("-----BEGIN PGP SIGNATURE-----").next().unwrap();
        message.trim_end().lines().last().unwrap().to_string()
    }

    fn short(&self, i: usize) -> &str {
        &self.c[i][..12]
    }
}

/// The exact JSON a check printed.
fn answer(run: &Run) -> Value {
    run.ok()
}

fn versions(pairs: &[(&str, &String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(tag, commit)| json!({"tag": tag, "commit": commit}))
            .collect(),
    )
}

fn holds_line(stderr: &str, line: &str) {
    assert!(
        stderr.lines().any(|l| l == line),
        "the log holds the line\n{line}\n---\n{stderr}"
    );
}

fn metadata_value<'m>(metadata: &'m [(String, String)], name: &str) -> Vec<&'m str> {
    metadata
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn staging_tests_each_transition_and_prod_takes_exactly_those() {
    let s = Story::new();
    let c = &s.c;
    let (c1, c2, c3) = (&c[0], &c[1], &c[2]);

    // First checks (DESIGN §4): the latest satisfying version only, with
    // in_order as without it. Nothing satisfies prod yet: no pipeline
    // signed anything.
    let run = s.staging_check(None);
    assert_eq!(answer(&run), versions(&[("v3", c3)]));
    let run = s.prod_check(None);
    assert_eq!(answer(&run), json!([]));
    // Each tag's base is a promotion of prod, and there is none yet.
    for tag in ["v1", "v2", "v3"] {
        holds_line(
            &run.stderr,
            &format!(
                "sigtag: skipping {tag}: does not meet prod: needs 1 of pipelines tested from none"
            ),
        );
    }

    // staging deploys v1 first (the pipeline checks from v1): one newer
    // version per check.
    let run = s.staging_check(Some(("v1", c1)));
    assert_eq!(answer(&run), versions(&[("v1", c1), ("v2", c2)]));
    holds_line(
        &run.stderr,
        "sigtag: v3 waits: in_order returns one promotion per check",
    );
    let put = s.stage("v1", c1, json!({}));
    let (version, metadata) = output_parts(&put.ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    assert_eq!(metadata_value(&metadata, "tested from"), ["none"]);
    holds_line(
        &put.stderr,
        "sigtag: v1 has no base for staging: no older promotion is an ancestor of it, so the new layer records Sigtag-Tested-From: none",
    );
    holds_line(
        &put.stderr,
        &format!(
            "sigtag: co-signed v1 with {} as layer 3, recording Sigtag-Tested-From: none and pushed it to {}",
            s.staging_key.fpr,
            s.w.file_uri()
        ),
    );
    assert_eq!(s.recorded("v1"), "Sigtag-Tested-From: none");
    s.w.srv(&["verify-tag", "v1"]);

    // prod's first check now finds v1: staging tested "from none".
    let run = s.check_in(&s.w.fresh_dir("prod-first"), &s.prod, None);
    assert_eq!(answer(&run), versions(&[("v1", c1)]));

    // staging: from v1, v2; its layer records v1's commit.
    let run = s.staging_check(Some(("v2", c2)));
    assert_eq!(answer(&run), versions(&[("v2", c2), ("v3", c3)]));
    let put = s.stage("v2", c2, json!({}));
    let (_, metadata) = output_parts(&put.ok());
    assert_eq!(metadata_value(&metadata, "tested from"), [c1.as_str()]);
    holds_line(
        &put.stderr,
        &format!(
            "sigtag: v2's base for staging is v1 ({}), so the new layer records Sigtag-Tested-From: {c1}",
            s.short(0)
        ),
    );
    assert_eq!(s.recorded("v2"), format!("Sigtag-Tested-From: {c1}"));

    // prod at v1 sees v2 (tested from v1) and nothing else: v3 is not
    // tested yet.
    let run = s.prod_check(Some(("v1", c1)));
    assert_eq!(answer(&run), versions(&[("v1", c1), ("v2", c2)]));
    holds_line(
        &run.stderr,
        &format!(
            "sigtag: skipping v3: does not meet prod: needs 1 of pipelines tested from v2 ({})",
            s.short(1)
        ),
    );
    assert!(!run.stderr.contains("stage prod's"), "{}", run.stderr);

    // staging: v3, recording v2's commit.
    let run = s.staging_check(Some(("v3", c3)));
    assert_eq!(answer(&run), versions(&[("v3", c3)]));
    let put = s.stage("v3", c3, json!({}));
    put.ok();
    holds_line(
        &put.stderr,
        &format!(
            "sigtag: v3's base for staging is v2 ({}), so the new layer records Sigtag-Tested-From: {c2}",
            s.short(1)
        ),
    );
    assert_eq!(s.recorded("v3"), format!("Sigtag-Tested-From: {c2}"));

    // prod, one promotion per check: from v2, v3; from v3, nothing newer.
    let run = s.prod_check(Some(("v2", c2)));
    assert_eq!(answer(&run), versions(&[("v2", c2), ("v3", c3)]));
    let run = s.prod_check(Some(("v3", c3)));
    assert_eq!(answer(&run), versions(&[("v3", c3)]));
    // A first check: the latest.
    let run = s.check_in(&s.w.fresh_dir("prod-first"), &s.prod, None);
    assert_eq!(answer(&run), versions(&[("v3", c3)]));

    // prod's in names each version's base, in its metadata and its report.
    for (tag, commit, base, base_commit) in [("v2", c2, "v1", c1), ("v3", c3, "v2", c2)] {
        let (metadata, report) = s.prod_get(tag, commit);
        assert_eq!(
            metadata_value(&metadata, "base"),
            [format!("{base} ({base_commit})").as_str()]
        );
        assert_eq!(
            metadata_value(&metadata, "rule"),
            [s.prod["require"].as_str().unwrap()]
        );
        let r = &report[0];
        assert_eq!(r["environment"], json!("prod"));
        assert_eq!(r["base"], json!({"tag": base, "commit": base_commit}));
        assert_eq!(
            r["tested"],
            json!([{"rule": "1 of pipelines tested", "holds": true, "expected": base_commit,
                    "counted": ["staging"], "other": []}])
        );
        assert_eq!(r["signers"][2]["name"], json!("staging"));
        assert_eq!(r["signers"][2]["tested_from"], json!(base_commit));
    }
    let (metadata, report) = s.prod_get("v1", c1);
    assert_eq!(metadata_value(&metadata, "base"), ["none"]);
    assert_eq!(report[0]["base"], Value::Null);
}

#[test]
fn a_transition_prod_does_not_make_is_refused_until_staging_tests_it() {
    let s = Story::new();
    let (c1, c2, c3) = (&s.c[0], &s.c[1], &s.c[2]);
    for (tag, commit) in [("v1", c1), ("v2", c2), ("v3", c3)] {
        s.stage(tag, commit, json!({})).ok();
    }
    assert_eq!(
        answer(&s.prod_check(Some(("v2", c2)))),
        versions(&[("v2", c2), ("v3", c3)])
    );

    // v4, which staging tested from v2: skipping v3. params.tested_from
    // wins over the base.
    let (a, b) = (s.w.key("alice"), s.w.key("bob"));
    let c4 =
        s.w.release("v4", "app.txt", "4\n", "release 4", &[&a, &b], s.t + 300);
    let build = s.w.fresh_dir("hostile");
    fs::create_dir_all(build.join("state")).unwrap();
    fs::write(build.join("state/previous"), "v2\n").unwrap();
    let put = s.w.put(
        &s.staging,
        json!({"tag": "v4", "tested_from": "state/previous"}),
        &build,
    );
    put.ok();
    assert!(!put.stderr.contains("base for staging"), "{}", put.stderr);
    assert_eq!(s.recorded("v4"), format!("Sigtag-Tested-From: {c2}"));
    // staging itself takes v4 (two humans signed it).
    assert_eq!(
        answer(&s.staging_check(Some(("v3", c3)))),
        versions(&[("v3", c3), ("v4", &c4)])
    );

    // prod has v3: v4 is refused, and the log says what staging tested,
    // what prod has and how to recover.
    let run = s.prod_check(Some(("v3", c3)));
    assert_eq!(answer(&run), versions(&[("v3", c3)]));
    holds_line(
        &run.stderr,
        &format!(
            "sigtag: skipping v4: does not meet prod: needs 1 of pipelines tested from v3 ({})",
            s.short(2)
        ),
    );
    let hint = format!(
        "sigtag: v4: staging tested v2 -> v4 (from {}); prod's base is v3 ({}): stage prod's version v3 then v4 again",
        s.short(1),
        s.short(2)
    );
    holds_line(&run.stderr, &hint);
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("stage prod's"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    // in refuses it too.
    let dest = s.w.fresh_dir("prod-get");
    s.w.get(&s.prod, "v4", &c4, &dest).assert_fails(&[&format!(
        "tag v4 is not a valid version any more: does not meet prod: needs 1 of pipelines tested from v3 ({})",
        s.short(2)
    )]);

    // Recovery: staging runs v3, then v4 again. Its key signed v4 as
    // v2 -> v4; a key signs a chain once per transition, so it adds a
    // layer recording the base staging now has: v3.
    let put = s.stage("v4", &c4, json!({}));
    let (_, metadata) = output_parts(&put.ok());
    assert_eq!(metadata_value(&metadata, "tested from"), [c3.as_str()]);
    holds_line(
        &put.stderr,
        &format!(
            "sigtag: v4's base for staging is v3 ({}), so the new layer records Sigtag-Tested-From: {c3}",
            s.short(2)
        ),
    );
    assert_eq!(s.recorded("v4"), format!("Sigtag-Tested-From: {c3}"));
    // The same transition again adds nothing.
    let again = s.stage("v4", &c4, json!({}));
    let (_, metadata) = output_parts(&again.ok());
    assert_eq!(metadata_value(&metadata, "already signed layer"), ["4"]);
    assert!(
        again.stderr.contains(&format!(
            ", recording Sigtag-Tested-From: {c3}; nothing to do"
        )),
        "{}",
        again.stderr
    );

    let run = s.prod_check(Some(("v3", c3)));
    assert_eq!(answer(&run), versions(&[("v3", c3), ("v4", &c4)]));
    assert!(!run.stderr.contains("stage prod's"), "{}", run.stderr);
    let (metadata, report) = s.prod_get("v4", &c4);
    assert_eq!(
        metadata_value(&metadata, "base"),
        [format!("v3 ({c3})").as_str()]
    );
    assert_eq!(
        report[0]["tested"],
        json!([{"rule": "1 of pipelines tested", "holds": true, "expected": c3,
                "counted": ["staging"], "other": []}])
    );
}
