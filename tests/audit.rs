//! `sigtag audit` (DESIGN §7), with real git and gpg: one record per
//! promotion with its base, range, every signature and the build that
//! added it; bounds by tag, commit and date; text, JSON, CSV read back by
//! Python's csv module, and HTML rendered by a real headless Chromium.

// The command line's harness and the resource's share git.rs, gpg.rs and
// process.rs; this file uses both.
#![allow(clippy::duplicate_mod)]

mod common;
mod resource_support;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// alice and bob (humans) and staging (pipelines), prod requiring all
/// three kinds, and three tags: v1 (promoted), v2 (short of a pipeline),
/// v3 (promoted, two commits after v1, one of them by carol).
struct Story {
    ctx: Ctx,
    alice: Key,
    bob: Key,
    staging: Key,
    /// The commits of v1, v2 and v3.
    c1: String,
    c2: String,
    c3: String,
    /// When v1's and v3's layers were signed (first layer; the next ones a
    /// minute apart).
    t1: i64,
    t3: i64,
}

const POLICY: &str = "[groups]\nhumans = [\"alice\", \"bob\"]\npipelines = [\"staging\"]\n\n\
                      [environments.prod]\nrequire = \"2 of humans and 1 of pipelines\"\n";

fn commit_as(ctx: &Ctx, file: &str, subject: &str, author: &str) -> String {
    std::fs::write(ctx.repo.join(file), format!("{file}\n")).unwrap();
    ctx.git(&["add", file]);
    ctx.git(&["commit", "-q", "--author", author, "-m", subject]);
    ctx.head()
}

fn chain_at(ctx: &Ctx, name: &str, keys: &[&Key], at: i64) {
    let (first, rest) = keys.split_first().unwrap();
    ctx.sign(first, name, "HEAD", &Sig::at(at));
    for (i, k) in rest.iter().enumerate() {
        ctx.cosign(k, name, &Sig::at(at + 60 * (i as i64 + 1)));
    }
}

fn story() -> Story {
    let ctx = Ctx::new();
    let made = now() - 10 * DAY;
    let alice = ctx.key_created("alice", made, "never");
    let bob = ctx.key_created("bob", made, "never");
    let staging = ctx.key_created("staging", made, "never");
    for k in [&alice, &bob, &staging] {
        ctx.trust(k);
    }
    ctx.policy(POLICY);
    let c1 = ctx.head();
    let t1 = now() - 5 * DAY;
    chain_at(&ctx, "v1", &[&alice, &bob, &staging], t1);
    let c2 = commit_as(
        &ctx,
        "login.txt",
        "Fix the login (#7)",
        "Carol <carol@example.org>",
    );
    chain_at(&ctx, "v2", &[&alice, &bob], now() - 3 * DAY);
    let c3 = commit_as(
        &ctx,
        "audit.txt",
        "Add audit (#8)",
        "Alice <alice@example.org>",
    );
    let t3 = now() - DAY;
    chain_at(&ctx, "v3", &[&alice, &bob, &staging], t3);
    Story {
        ctx,
        alice,
        bob,
        staging,
        c1,
        c2,
        c3,
        t1,
        t3,
    }
}

fn audit(ctx: &Ctx, args: &[&str]) -> Run {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let mut all = vec!["audit", "--env", "prod"];
    all.extend_from_slice(args);
    all.extend(["--keys", &keys, "--repo", &repo]);
    ctx.sigtag(&all)
}

fn audit_json(ctx: &Ctx, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let run = audit(ctx, &all);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn tags(report: &Value) -> Vec<String> {
    report["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag"].as_str().unwrap().to_string())
        .collect()
}

fn author_time(ctx: &Ctx, commit: &str) -> i64 {
    ctx.git(&["log", "-1", "--format=%at", commit])
        .parse()
        .unwrap()
}

fn layer_object(ctx: &Ctx, tag: &str, layer_from_top: usize) -> String {
    let mut rev = tag.to_string();
    for _ in 0..layer_from_top {
        rev.push_str("^{tag}");
        rev = ctx
            .git(&["cat-file", "tag", &rev])
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("object ")
            .to_string();
    }
    ctx.rev_parse(&rev)
}

#[test]
fn a_record_per_promotion_with_its_range_signatures_and_configuration() {
    let s = story();
    let ctx = &s.ctx;
    let r = audit_json(ctx, &[]);
    assert_eq!(tags(&r), ["v1", "v3"]);
    assert_eq!(r["environment"], "prod");
    assert_eq!(r["rule"], "2 of humans and 1 of pipelines");
    assert_eq!(
        (r["promotions"].clone(), r["omitted"].clone()),
        (json!(2), json!(1))
    );
    let version = ctx.sigtag(&["--version"]).stdout;
    assert_eq!(
        format!("sigtag {}\n", r["sigtag"].as_str().unwrap()),
        version
    );
    let digest = r["trust_digest"].as_str().unwrap().to_string();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{digest}"
    );

    let v3 = &r["records"][1];
    assert_eq!(v3["status"], "promoted");
    assert_eq!(v3["reason"], Value::Null);
    assert_eq!(v3["commit"], s.c3.as_str());
    assert_eq!(v3["tag_object"], ctx.rev_parse("refs/tags/v3").as_str());
    assert_eq!(v3["created"], iso(s.t3).as_str());
    assert_eq!(v3["base"], json!({"tag": "v1", "commit": s.c1}));
    assert_eq!(
        v3["range"],
        json!({"listed": true, "reason": null, "commits": [
            {"commit": s.c3, "author": "Alice <alice@example.org>",
             "date": iso(author_time(ctx, &s.c3)), "subject": "Add audit (#8)", "pull_request": 8},
            {"commit": s.c2, "author": "Carol <carol@example.org>",
             "date": iso(author_time(ctx, &s.c2)), "subject": "Fix the login (#7)", "pull_request": 7}]})
    );
    let sigs = v3["signatures"].as_array().unwrap();
    let seen: Vec<(u64, &str, &str, &str, String)> = sigs
        .iter()
        .map(|g| {
            (
                g["layer"].as_u64().unwrap(),
                g["signer"].as_str().unwrap(),
                g["fingerprint"].as_str().unwrap(),
                g["signed"].as_str().unwrap(),
                g["groups"].to_string(),
            )
        })
        .collect();
    let (a, b, st) = (iso(s.t3), iso(s.t3 + 60), iso(s.t3 + 120));
    assert_eq!(
        seen,
        [
            (
                1,
                "alice",
                s.alice.fpr.as_str(),
                a.as_str(),
                "[\"humans\"]".to_string()
            ),
            (
                2,
                "bob",
                s.bob.fpr.as_str(),
                b.as_str(),
                "[\"humans\"]".to_string()
            ),
            (
                3,
                "staging",
                s.staging.fpr.as_str(),
                st.as_str(),
                "[\"pipelines\"]".to_string()
            ),
        ]
    );
    for (i, g) in sigs.iter().enumerate() {
        assert_eq!(g["counted"], true);
        assert_eq!(g["not_counted"], Value::Null);
        assert_eq!(g["build"], Value::Null);
        assert_eq!(g["layer_object"], layer_object(ctx, "v3", 2 - i).as_str());
    }
    assert_eq!(
        v3["rule"],
        json!({"text": "2 of humans and 1 of pipelines", "holds": true, "missing": null})
    );

    // v1 has no base: its range is every commit it reaches.
    let v1 = &r["records"][0];
    assert_eq!(v1["base"], Value::Null);
    let mut listed: Vec<&str> = v1["range"]["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    listed.sort();
    let rev_list = ctx.git(&["rev-list", &s.c1]);
    let mut all: Vec<&str> = rev_list.lines().collect();
    all.sort();
    assert_eq!(listed, all);
    let merge = v1["range"]["commits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["commit"] == s.c1.as_str())
        .unwrap();
    assert_eq!(merge["subject"], MERGE_SUBJECT);
    assert_eq!(merge["pull_request"], 42);

    // The trust digest is the configuration's: the same again, another
    // after the rule changes.
    assert_eq!(audit_json(ctx, &[])["trust_digest"], digest.as_str());
    ctx.policy(&POLICY.replace(
        "2 of humans and 1 of pipelines",
        "1 of humans and 1 of pipelines",
    ));
    let changed = audit_json(ctx, &[]);
    assert_ne!(changed["trust_digest"], digest.as_str());
    assert_eq!(tags(&changed), ["v1", "v3"]);
}

#[test]
fn all_adds_the_tags_never_promoted_with_the_reason() {
    let s = story();
    let r = audit_json(&s.ctx, &["--all"]);
    assert_eq!(tags(&r), ["v1", "v2", "v3"]);
    assert_eq!(
        (r["promotions"].clone(), r["omitted"].clone()),
        (json!(2), json!(0))
    );
    let v2 = &r["records"][1];
    assert_eq!(v2["status"], "refused");
    assert_eq!(v2["reason"], "needs 1 of pipelines");
    assert_eq!(
        v2["rule"],
        json!({"text": "2 of humans and 1 of pipelines", "holds": false, "missing": "1 of pipelines"})
    );
    // Its base is the promotion before it, v1; v3's is still v1.
    assert_eq!(v2["base"]["tag"], "v1");
    assert_eq!(r["records"][2]["base"]["tag"], "v1");
}

#[test]
fn bounds_by_tag_commit_and_date() {
    let s = story();
    let ctx = &s.ctx;
    let day = |t: i64| iso(t).chars().take(10).collect::<String>();
    for (args, want) in [
        (vec!["--since", "v1"], vec!["v3"]),
        (vec!["--until", "v1"], vec!["v1"]),
        (vec!["--since", s.c1.as_str()], vec!["v3"]),
        (vec!["--until", s.c2.as_str()], vec!["v1"]),
        (vec!["--since", "v1", "--until", "v3"], vec!["v3"]),
    ] {
        assert_eq!(tags(&audit_json(ctx, &args)), want, "{args:?}");
    }
    let (d3, d1) = (day(s.t3), day(s.t1));
    assert_eq!(tags(&audit_json(ctx, &["--since", &d3])), ["v3"]);
    assert_eq!(tags(&audit_json(ctx, &["--until", &d1])), ["v1"]);
    let midway = iso(s.t1 + DAY);
    assert_eq!(tags(&audit_json(ctx, &["--until", &midway])), ["v1"]);
    assert_eq!(tags(&audit_json(ctx, &["--since", &midway])), ["v3"]);
    let r = audit_json(ctx, &["--since", "v1"]);
    assert_eq!(
        (r["since"].clone(), r["until"].clone()),
        (json!("v1"), Value::Null)
    );

    let bad = audit(ctx, &["--since", "v9"]);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stdout, "");
    assert_eq!(
        bad.stderr,
        "sigtag: --since v9: neither a date (YYYY-MM-DD or 2026-11-30T12:00:00Z) nor a tag or commit of the repository\n"
    );
}

#[test]
fn the_text_report_names_each_promotion_its_changes_and_approvals() {
    let s = story();
    let ctx = &s.ctx;
    let run = audit(ctx, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let short = |c: &str| c[..12].to_string();
    let day = |t: i64| iso(t).chars().take(10).collect::<String>();
    let digest = audit_json(ctx, &[])["trust_digest"]
        .as_str()
        .unwrap()
        .to_string();
    for want in [
        "audit of environment prod\n".to_string(),
        "  rule          2 of humans and 1 of pipelines\n".to_string(),
        format!("  trust digest  sha256:{digest}\n"),
        "  records       2 promotions; 1 tag never promoted left out (--all lists them)\n"
            .to_string(),
        format!("\nv3  promoted  created {}\n", iso(s.t3)),
        format!("  commit      {}\n", s.c3),
        format!("  changes     base v1 ({}), 2 commits\n", short(&s.c1)),
        format!(
            "    {}  {}  Carol <carol@example.org>  Fix the login (#7)  (PR #7)\n",
            short(&s.c2),
            day(author_time(ctx, &s.c2))
        ),
        format!(
            "    layer 1  alice (humans)  {}  key {}  counts\n",
            iso(s.t3),
            s.alice.fpr
        ),
        format!(
            "    layer 3  staging (pipelines)  {}  key {}  counts\n",
            iso(s.t3 + 120),
            s.staging.fpr
        ),
        "  rule        2 of humans and 1 of pipelines: holds\n".to_string(),
    ] {
        assert!(
            run.stdout.contains(&want),
            "{want:?} not in:\n{}",
            run.stdout
        );
    }
    assert!(!run.stdout.contains("\nv2  "), "{}", run.stdout);
    let all = audit(ctx, &["--all"]);
    assert!(
        all.stdout.contains("\nv2  refused  ")
            && all.stdout.contains("  refused     needs 1 of pipelines\n"),
        "{}",
        all.stdout
    );
}

#[test]
fn output_files_are_whole_or_absent_and_bad_arguments_say_what_to_fix() {
    let s = story();
    let ctx = &s.ctx;
    let out = ctx.root.join("report.json");
    let o = Ctx::path_str(&out);
    let run = audit(ctx, &["--format", "json", "-o", &o]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let written: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(tags(&written), ["v1", "v3"]);

    let missing = ctx.root.join("no-such-dir/report.html");
    let run = audit(ctx, &["--format", "html", "-o", &Ctx::path_str(&missing)]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!(
            "sigtag: -o {}: the directory {} does not exist; create it or write elsewhere\n",
            missing.display(),
            missing.parent().unwrap().display()
        )
    );
    assert!(!missing.parent().unwrap().exists());

    let run = audit(ctx, &["--format", "pdf"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "sigtag: --format pdf: use text, json, csv or html\n"
    );

    let run = ctx.sigtag(&[
        "audit",
        "--env",
        "qa",
        "--keys",
        &Ctx::path_str(&ctx.keys),
        "--repo",
        &Ctx::path_str(&ctx.repo),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("sigtag: ") && run.stderr.contains("qa"),
        "{}",
        run.stderr
    );
    // Nothing but the one report was written next to it.
    let mut left: Vec<String> = std::fs::read_dir(&ctx.root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sigtag-") || n.starts_with("report"))
        .collect();
    left.sort();
    assert_eq!(left, ["report.json"]);
}

/// A tag whose commit an attacker wrote: markup in the subject, a formula
/// as the author's name.
fn hostile(s: &Story) -> String {
    let ctx = &s.ctx;
    let c = commit_as(
        ctx,
        "evil.txt",
        "<script>alert(1)</script><img src=https://evil.example/x.png> & \"quotes\"",
        "=HYPERLINK(\"https://evil.example\") <evil@example.org>",
    );
    chain_at(ctx, "v4", &[&s.alice, &s.bob, &s.staging], now() - 3600);
    c
}

#[test]
fn csv_has_one_row_per_record_and_defuses_formulas() {
    let s = story();
    hostile(&s);
    let ctx = &s.ctx;
    let out = ctx.root.join("audit.csv");
    let run = audit(
        ctx,
        &["--format", "csv", "--all", "-o", &Ctx::path_str(&out)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Python's csv module as the reader: the same number of cells in every
    // row, and the cells as written.
    let script = "import csv, json, sys\n\
                  rows = list(csv.reader(open(sys.argv[1], newline='')))\n\
                  print(json.dumps(rows))\n";
    let py = Command::new("python3")
        .args(["-c", script, &Ctx::path_str(&out)])
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let rows: Vec<Vec<String>> = serde_json::from_slice(&py.stdout).unwrap();
    let header = &rows[0];
    assert_eq!(header[..4], ["tag", "status", "created", "commit"]);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert!(rows.iter().all(|r| r.len() == header.len()), "{rows:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let by_tag = |t: &str| rows.iter().find(|r| r[0] == t).unwrap();
    assert_eq!(by_tag("v2")[col("status")], "refused");
    assert_eq!(by_tag("v2")[col("reason")], "needs 1 of pipelines");
    assert_eq!(by_tag("v3")[col("base_tag")], "v1");
    assert_eq!(by_tag("v3")[col("pull_requests")], "#8; #7");
    assert_eq!(
        by_tag("v3")[col("approvals")],
        format!(
            "alice (humans) at {} (layer 1); bob (humans) at {} (layer 2); staging (pipelines) at {} (layer 3)",
            iso(s.t3),
            iso(s.t3 + 60),
            iso(s.t3 + 120)
        )
    );
    // The formula an attacker wrote as an author's name is text.
    assert_eq!(
        by_tag("v4")[col("authors")],
        "'=HYPERLINK(\"https://evil.example\") <evil@example.org>"
    );
    for row in &rows {
        for c in row {
            assert!(
                !c.starts_with(['=', '+', '@']),
                "{c:?} would run as a formula"
            );
        }
    }
}

#[test]
fn a_pipeline_signature_names_the_concourse_build_that_added_it() {
    use resource_support::{Bin, World, BUILD_ENV};
    let w = World::new();
    let (alice, bob, staging) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let commit = w.release(
        "v1",
        "app.txt",
        "1\n",
        "Merge pull request #5 from bob/app",
        &[&alice, &bob],
        now() - 600,
    );
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let dir = w.fresh_dir("put");
    let req = json!({"source": source, "params": {"tag": "v1", "signing_key": w.secret(&staging)}});
    let run = w.run_env(Bin::Out, Some(&dir), req.to_string().as_bytes(), BUILD_ENV);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let keys = w.root.join("keys");
    std::fs::create_dir(&keys).unwrap();
    for k in [&alice, &bob, &staging] {
        std::fs::write(keys.join(format!("{}.asc", k.name)), w.cert(k)).unwrap();
    }
    std::fs::write(keys.join("policy.toml"), POLICY).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sigtag"))
        .args(["audit", "--env", "prod", "--format", "json", "--keys"])
        .arg(&keys)
        .arg("--repo")
        .arg(&w.remote)
        .env("GNUPGHOME", w.root.join("no-gnupg"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tags(&r), ["v1"]);
    let v1 = &r["records"][0];
    assert_eq!(v1["commit"], commit.as_str());
    let sigs = v1["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3);
    assert_eq!(
        (sigs[0]["build"].clone(), sigs[1]["build"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(sigs[2]["signer"], "staging");
    assert_eq!(
        sigs[2]["build"],
        json!({"name": "main/staging/deploy #42",
               "url": "https://ci.example.org/teams/main/pipelines/staging/jobs/deploy/builds/42",
               "vars": BUILD_ENV.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()})
    );
}

// ---------------------------------------------------------------- HTML

/// Debian's Chromium, or why not: a machine without it skips the browser
/// half of the HTML test, CI (CI set) fails.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("SIGTAG_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: apt-get install chromium (make test-deps does)",
        path.display()
    );
    eprintln!(
        "notice: {} is missing; the page is not rendered",
        path.display()
    );
    None
}

/// Runs headless Chromium on `page` with `args` (a fresh profile, no
/// network of its own), returns stdout.
fn browse(chromium: &Path, root: &Path, page: &Path, args: &[&str]) -> Vec<u8> {
    let profile = tempfile::tempdir_in(root).unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .env("HOME", root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The distinct colours of a PNG and how much of it is not the background.
fn png_stats(path: &Path) -> (usize, f64) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let pixels: Vec<&[u8]> = bytes.chunks(step).collect();
    let background = pixels[0];
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    for p in &pixels {
        colours.insert(p.to_vec());
        if *p != background {
            inked += 1;
        }
    }
    (colours.len(), inked as f64 / pixels.len() as f64)
}

#[test]
fn html_is_one_inert_page_that_a_browser_shows_with_every_promotion() {
    let s = story();
    hostile(&s);
    let ctx = &s.ctx;
    let page = ctx.root.join("audit.html");
    let run = audit(
        ctx,
        &["--format", "html", "--all", "-o", &Ctx::path_str(&page)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(&page).unwrap();

    // Self-contained: nothing that could fetch or run. Text is escaped,
    // so every '<' opens an element sigtag wrote: each is one of a few
    // inert kinds, with no attribute that names a resource.
    let allowed = [
        "!doctype", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "dl",
        "dt", "dd", "main", "ol", "ul", "li", "div", "time", "span", "p", "code", "table", "thead",
        "tbody", "tr", "th", "td", "footer",
    ];
    for element in html.split('<').skip(1) {
        let tag = element.split('>').next().unwrap().to_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '\n'])
            .next()
            .unwrap();
        assert!(allowed.contains(&name), "the page holds a <{tag}> element");
        for attr in [
            "src=", "href=", "srcset=", "action=", "style=", "url(", "refresh",
        ] {
            assert!(!tag.contains(attr), "<{tag}> names a resource");
        }
    }
    let css = html
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    assert!(!css.contains("url(") && !css.contains("@import"), "{css}");
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    assert!(html.contains(
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=https://evil.example/x.png&gt;"
    ));
    assert!(html.contains("@media print"));

    let Some(chromium) = chromium() else { return };
    // What a person sees: the text of the rendered page.
    let dom = String::from_utf8(browse(&chromium, &ctx.root, &page, &["--dump-dom"])).unwrap();
    let text = visible_text(&dom);
    for want in [
        "Promotions to prod".to_string(),
        format!(
            "v3 promoted Approved by alice (humans) on {}, bob (humans) on {}, staging (pipelines) on {}.",
            iso(s.t3),
            iso(s.t3 + 60),
            iso(s.t3 + 120)
        ),
        format!(
            "v1 promoted Approved by alice (humans) on {}, bob (humans) on {}, staging (pipelines) on {}.",
            iso(s.t1),
            iso(s.t1 + 60),
            iso(s.t1 + 120)
        ),
        "v2 refused Signed by alice (humans)".to_string(),
        "Refused: needs 1 of pipelines".to_string(),
        "<script>alert(1)</script><img src=https://evil.example/x.png> & \"quotes\"".to_string(),
        format!("Changes: base v1 ({}), 2 commits", &s.c1[..12]),
    ] {
        assert!(text.contains(&want), "{want:?} not in the rendered page:\n{text}");
    }
    // The attacker's markup stayed text: the browser made no element of it.
    assert!(!dom.to_lowercase().contains("<script"), "{dom}");
    assert!(!dom.to_lowercase().contains("<img"), "{dom}");

    // And a screenshot that is a page, not a blank.
    let shot = ctx.root.join("audit.png");
    browse(
        &chromium,
        &ctx.root,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
        ],
    );
    if let Some(keep) = std::env::var_os("SIGTAG_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
    let (colours, inked) = png_stats(&shot);
    assert!(colours > 16, "{colours} colours: the screenshot is blank");
    assert!(
        inked > 0.02,
        "only {:.1}% of the screenshot is drawn",
        inked * 100.0
    );
}

/// The text of an HTML document as a browser would lay it out, roughly:
/// tags dropped, entities decoded, white space collapsed.
fn visible_text(dom: &str) -> String {
    let body = dom.split("<body>").nth(1).unwrap_or(dom);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                out.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => out.push(c),
            (true, _) => {}
        }
    }
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn transitions_and_emergencies_are_in_the_record() {
    let ctx = Ctx::new();
    let made = now() - 10 * DAY;
    let alice = ctx.key_created("alice", made, "never");
    let bob = ctx.key_created("bob", made, "never");
    for k in [&alice, &bob] {
        ctx.trust(k);
    }
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\"]\n\n\
         [environments.prod]\nrequire = \"2 of humans and 1 of humans besides author\"\n\
         emergency = \"1 of humans\"\nreview_within = \"72h\"\n",
    );
    chain_at(&ctx, "v1", &[&alice, &bob], now() - 5 * DAY);
    let c2 = commit_as(
        &ctx,
        "fix.txt",
        "Hotfix the login",
        "Alice <alice@example.org>",
    );
    let at = now() - 3600;
    ctx.sign(&alice, "v2", "HEAD", &Sig::at(at));

    let r = audit_json(&ctx, &[]);
    assert_eq!(tags(&r), ["v1", "v2"]);
    assert_eq!(
        r["emergency"],
        json!({"rule": "1 of humans", "review": "2 of humans and 1 of humans besides author",
               "review_within": "3d"})
    );
    let v1 = &r["records"][0];
    assert_eq!(v1["status"], "promoted");
    assert_eq!(
        v1["findings"],
        json!(["1 of humans besides author: holds over 3 commits"])
    );
    let v2 = &r["records"][1];
    assert_eq!(v2["status"], "emergency");
    let due = iso(at + 3 * DAY);
    let needs = format!(
        "1 more of humans other than alice and 1 of humans besides alice, who authored {}",
        &c2[..12]
    );
    assert_eq!(
        v2["reason"],
        format!("review needs {needs} by {due}").as_str()
    );
    assert_eq!(v2["review"]["due"], due.as_str());
    assert_eq!(v2["review"]["reviewed"], false);
    assert_eq!(v2["base"]["tag"], "v1");
    assert_eq!(v2["range"]["commits"][0]["commit"], c2.as_str());
    // The review's besides-author atom over v2's one commit, by alice:
    // nobody else has signed it yet.
    assert_eq!(
        v2["findings"],
        json!([format!(
            "1 of humans besides author: 1 of 1 commits fall short ({} by Alice <alice@example.org> needs 1 more)",
            &c2[..12]
        )])
    );
    let text = audit(&ctx, &[]).stdout;
    assert!(text.contains("\nv2  emergency  "), "{text}");
    assert!(
        text.contains(&format!("  emergency   review needs {needs} by {due}\n")),
        "{text}"
    );
}
