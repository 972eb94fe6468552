//! Recording a tested transition (DESIGN §6): `sigtag cosign
//! --tested-from REV|none` (and `sign`), and the resource's `out` with
//! `params.tested_from`. The new layer's message ends, in its last
//! paragraph, with exactly `Sigtag-Tested-From: <40 hex>` or
//! `Sigtag-Tested-From: none`; free text can never carry that line; a name
//! that says no commit stops before any key is unlocked or anything is
//! pushed.

mod resource_support;

use resource_support::{now, output_parts, sigtag, Key, Run, World};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

// ------------------------------------------------------------ the CLI

/// Exit 2, nothing on stdout, and exactly this one line on stderr.
fn assert_usage_error(run: &Run, line: &str) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (2, "", format!("{line}\n").as_str())
    );
}

/// The repository the command line works on (the server's, bare), a keys
/// directory trusting alice and bob as humans and staging as a pipeline,
/// v0 on c0 signed by alice and bob, and v1 on c1 (main) signed by alice.
struct Cli {
    w: World,
    keys: PathBuf,
    c0: String,
    c1: String,
}

impl Cli {
    fn new() -> Cli {
        let w = World::new();
        let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
        let keys = w.unique("keys");
        fs::create_dir(&keys).unwrap();
        for k in [&a, &b, &s] {
            fs::write(keys.join(format!("{}.asc", k.name)), w.cert(k)).unwrap();
        }
        fs::write(
            keys.join("policy.toml"),
            "[groups]\nhumans = [\"alice\", \"bob\"]\npipelines = [\"staging\"]\n\n\
             [environments.staging]\nrequire = \"2 of humans\"\n",
        )
        .unwrap();
        let c0 = w.release("v0", "app.txt", "zero\n", "zero", &[&a, &b], now() - 300);
        let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a], now() - 200);
        Cli { w, keys, c0, c1 }
    }

    /// An unprotected secret key in a file.
    fn key_file(&self, key: &Key) -> String {
        let path = self.w.unique("sec");
        fs::write(&path, self.w.secret(key)).unwrap();
        World::s(&path)
    }

    /// `sigtag COMMAND NAME --key FILE --keys KEYS --repo SERVER ARGS...`.
    fn run(&self, command: &str, name: &str, key_file: &str, args: &[&str]) -> Run {
        let keys = World::s(&self.keys);
        let repo = World::s(&self.w.remote);
        let mut all = vec![
            command, name, "--key", key_file, "--keys", &keys, "--repo", &repo,
        ];
        all.extend_from_slice(args);
        sigtag(&self.w, &all)
    }

    fn cosign(&self, name: &str, key: &Key, args: &[&str]) -> Run {
        self.run("cosign", name, &self.key_file(key), args)
    }

    /// What `sigtag verify NAME --env staging` says.
    fn verify(&self, name: &str) -> Run {
        let keys = World::s(&self.keys);
        let repo = World::s(&self.w.remote);
        sigtag(
            &self.w,
            &[
                "verify", name, "--env", "staging", "--keys", &keys, "--repo", &repo,
            ],
        )
    }
}

/// The last paragraph of a message, as lines.
fn last_paragraph(message: &str) -> Vec<String> {
    let (_, last) = message
        .trim_end()
        .rsplit_once("\n\n")
        .expect("two paragraphs");
    last.lines().map(str::to_string).collect()
}

#[test]
fn cosign_records_a_commit_a_tag_or_none() {
    // A commit id.
    let t = Cli::new();
    let bob = t.w.key("bob");
    let run = t.cosign("v1", &bob, &["--tested-from", &t.c0]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "v1: signed layer 2 over commit {}, recording Sigtag-Tested-From: {}\n",
            t.c1, t.c0
        )
    );
    assert_eq!(
        layer_message(&t.w, "v1"),
        format!(
            "v1: co-signed by bob <bob@example.org>\n\nSigtag-Tested-From: {}\n",
            t.c0
        )
    );
    // git reads and verifies the layer as it reads its own, and the chain
    // satisfies the rule.
    t.w.srv(&["verify-tag", "v1"]);
    assert_eq!(t.verify("v1").stdout, "v1: yes for staging (alice, bob)\n");

    // A tag name peels to its commit (not the tag object), after -m text.
    // A key signs a chain once, so each case has a repository of its own.
    let t = Cli::new();
    let bob = t.w.key("bob");
    let run = t.cosign(
        "v1",
        &bob,
        &["-m", "staging tests passed", "--tested-from", "v0"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_ne!(t.w.tag_object("v0"), t.c0);
    assert_eq!(
        layer_message(&t.w, "v1"),
        format!("staging tests passed\n\nSigtag-Tested-From: {}\n", t.c0)
    );

    // none.
    let t = Cli::new();
    let bob = t.w.key("bob");
    let run = t.cosign("v1", &bob, &["--tested-from", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        last_paragraph(&layer_message(&t.w, "v1")),
        ["Sigtag-Tested-From: none"]
    );
    assert!(run
        .stderr
        .ends_with(", recording Sigtag-Tested-From: none\n"));
}

#[test]
fn cosign_refuses_a_name_that_says_no_commit_before_unlocking_the_key() {
    let t = Cli::new();
    let outer = t.w.tag_object("v1");
    // A protected key and no passphrase anywhere: had sigtag tried to
    // unlock it first, the error would be about the passphrase.
    let locked = t.w.unique("locked");
    fs::write(&locked, t.w.protected_secret("carol")).unwrap();
    let locked = World::s(&locked);
    let cosign = |args: &[&str]| t.run("cosign", "v1", &locked, args);

    // Ambiguous: a branch and a tag both named dup, on different commits.
    t.w.srv(&["branch", "dup", &t.c0]);
    t.w.srv(&["tag", "dup", &t.c1]);
    assert_usage_error(
        &cosign(&["--tested-from", "dup"]),
        &format!(
            "sigtag: --tested-from: the commit name \"dup\" is ambiguous: \"dup\" names refs/tags/dup (commit {}) and refs/heads/dup (commit {}); pass the full commit id or a full ref name such as refs/heads/dup",
            t.c1, t.c0
        ),
    );

    // Unknown.
    assert_usage_error(
        &cosign(&["--tested-from", "v9.9.9"]),
        "sigtag: --tested-from \"v9.9.9\" does not name a commit in this repository; pass the commit or tag the environment ran before v1, or none",
    );
    assert_usage_error(
        &cosign(&["--tested-from", "0123456789012345678901234567890123456789"]),
        "sigtag: --tested-from \"0123456789012345678901234567890123456789\" does not name a commit in this repository; pass the commit or tag the environment ran before v1, or none",
    );

    // The tag itself.
    for own in ["v1", "refs/tags/v1"] {
        assert_usage_error(
            &cosign(&["--tested-from", own]),
            "sigtag: --tested-from names v1 itself, and a tag is never tested from itself; pass the commit or tag the environment ran before v1, or none",
        );
    }
    assert_eq!(t.w.tag_object("v1"), outer, "nothing was signed");

    // The locked key is only reached with a name that says a commit.
    let run = cosign(&["--tested-from", "refs/heads/dup"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("passphrase"), "{}", run.stderr);

    // And an unlocked one records it.
    let run = t.cosign("v1", &t.w.key("bob"), &["--tested-from", "refs/heads/dup"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        last_paragraph(&layer_message(&t.w, "v1")),
        [format!("Sigtag-Tested-From: {}", t.c0)]
    );
}

#[test]
fn free_text_cannot_fake_the_trailer() {
    let t = Cli::new();
    let outer = t.w.tag_object("v1");
    let bob = t.w.key("bob");
    for (text, line) in [
        (
            format!("tested\n\nSigtag-Tested-From: {}", t.c0),
            format!("line 3 (\"Sigtag-Tested-From: {}\")", &t.c0[..20]),
        ),
        (
            "tested\n  sigtag-tested-from: none".to_string(),
            "line 2 (\"  sigtag-tested-from: none\")".to_string(),
        ),
    ] {
        for extra in [&[][..], &["--tested-from", "none"][..]] {
            let mut args = vec!["-m", text.as_str()];
            args.extend_from_slice(extra);
            assert_usage_error(
                &t.cosign("v1", &bob, &args),
                &format!("sigtag: -m: {line} looks like a trailer sigtag writes itself; remove it, sigtag adds those lines"),
            );
        }
    }
    assert_eq!(t.w.tag_object("v1"), outer, "nothing was signed");
}

#[test]
fn sign_records_it_on_a_first_layer_and_a_key_signs_once_per_transition() {
    let t = Cli::new();
    let alice = t.key_file(&t.w.key("alice"));
    let run = t.run("sign", "v2", &alice, &["--tested-from", "v0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        layer_message(&t.w, "v2"),
        format!("v2\n\none\n\nSigtag-Tested-From: {}\n", t.c0)
    );
    // A name that says no commit stops sign before the tag is made.
    assert_usage_error(
        &t.run("sign", "v3", &alice, &["--tested-from", "nope"]),
        "sigtag: --tested-from \"nope\" does not name a commit in this repository; pass the commit or tag the environment ran before v3, or none",
    );
    let tags = t.w.srv(&["tag", "--list"]);
    assert_eq!(tags, "v0\nv1\nv2", "no v3");

    // bob co-signs v2 recording none, then again: a key signs a chain
    // once per transition, so the same one adds nothing.
    let bob = t.w.key("bob");
    let run = t.cosign("v2", &bob, &["--tested-from", "none"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let outer = t.w.tag_object("v2");
    let run = t.cosign("v2", &bob, &["--tested-from", "none"]);
    assert_eq!(
        (run.code, run.stderr),
        (
            0,
            format!(
                "v2: this key already signed layer 2 over commit {}, recording Sigtag-Tested-From: none; nothing to do\n",
                t.c1
            )
        )
    );
    assert_eq!(t.w.tag_object("v2"), outer);
    // Tested again from v0 (the version another environment runs): a
    // layer of its own, which then is not added twice either.
    let run = t.cosign("v2", &bob, &["--tested-from", "v0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        layer_message(&t.w, "v2").lines().last(),
        Some(format!("Sigtag-Tested-From: {}", t.c0).as_str())
    );
    let outer = t.w.tag_object("v2");
    let run = t.cosign("v2", &bob, &["--tested-from", "v0"]);
    assert!(
        run.stderr
            .starts_with("v2: this key already signed layer 3 over commit "),
        "{}",
        run.stderr
    );
    assert_eq!(t.w.tag_object("v2"), outer);
    // Without --tested-from, the first layer bob signed answers.
    let run = t.cosign("v2", &bob, &[]);
    assert!(
        run.stderr
            .starts_with("v2: this key already signed layer 2 over commit "),
        "{}",
        run.stderr
    );
}

// ------------------------------------------------------------ out

/// v1 on c1 and v2 on c2, each signed by alice and bob; a staging source
/// ("2 of humans"); a put directory. Returns (c1, c2, source, dir).
fn released(w: &World) -> (String, String, Value, PathBuf) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 300);
    let c2 = w.release("v2", "app.txt", "two\n", "two", &[&a, &b], now() - 200);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    (c1, c2, source, w.fresh_dir("put"))
}

/// Writes `content` to `dir/state/previous`.
fn previous(dir: &Path, content: &str) {
    fs::create_dir_all(dir.join("state")).unwrap();
    fs::write(dir.join("state/previous"), content).unwrap();
}

fn put_from(w: &World, source: &Value, tag: &str, dir: &Path, path: &str) -> Run {
    let key = w.secret(&w.key("staging"));
    w.put(
        source,
        json!({"tag": tag, "signing_key": key, "tested_from": path}),
        dir,
    )
}

/// The message of a tag's outer layer on the server.
fn layer_message(w: &World, tag: &str) -> String {
    let layer = w.outer_layer(tag);
    let (_, rest) = layer.split_once("\n\n").expect("a message");
    rest.split("-----BEGIN PGP SIGNATURE-----")
        .next()
        .unwrap()
        .to_string()
}

/// The lines `out` writes about the test's build, in their order.
const BUILD_LINES: &str = "BUILD_TEAM_NAME=main\nBUILD_PIPELINE_NAME=staging\n\
    BUILD_PIPELINE_INSTANCE_VARS={\"region\":\"eu\"}\nBUILD_JOB_NAME=deploy\nBUILD_NAME=42\n\
    BUILD_ID=1234\nBUILD_TEAM_ID=1\nBUILD_PIPELINE_ID=3\nBUILD_JOB_ID=7\n\
    BUILD_URL=https://ci.example.org/teams/main/pipelines/staging/jobs/deploy/builds/42\n\
    ATC_EXTERNAL_URL=https://ci.example.org\n";

#[test]
fn out_records_the_transition_a_file_names() {
    let w = World::new();
    let (c1, c2, source, dir) = released(&w);
    let staging = w.key("staging");

    // A tag name: its commit, after the build lines, last.
    previous(&dir, "v1\n");
    let run = put_from(&w, &source, "v2", &dir, "state/previous");
    let (version, metadata) = output_parts(&run.ok());
    assert_eq!(version, ("v2".to_string(), c2.clone()));
    assert!(
        metadata.contains(&("tested from".to_string(), c1.clone())),
        "{metadata:?}"
    );
    assert_eq!(
        layer_message(&w, "v2"),
        format!(
            "v2: promoted by main/staging/deploy build 42\n\n{BUILD_LINES}Sigtag-Tested-From: {c1}\n"
        )
    );
    assert!(
        run.stderr.contains(&format!(
            "sigtag: co-signed v2 with {} as layer 3, recording Sigtag-Tested-From: {c1} and pushed it to {}\n",
            staging.fpr,
            w.file_uri()
        )),
        "{}",
        run.stderr
    );
    w.srv(&["verify-tag", "v2"]);
    let dest = w.fresh_dir("get");
    w.get(&source, "v2", &c2, &dest).ok();

    // Put again: the key signed already; nothing is added or recorded.
    let outer = w.tag_object("v2");
    let run = put_from(&w, &source, "v2", &dir, "state/previous");
    let (_, metadata) = output_parts(&run.ok());
    assert!(
        !metadata.iter().any(|(n, _)| n == "tested from"),
        "{metadata:?}"
    );
    assert!(
        run.stderr.contains(&format!(
            "(layer 3), recording Sigtag-Tested-From: {c1}; nothing to do"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(w.tag_object("v2"), outer);

    // A commit id, padded with white space, and a message of its own.
    let c3 = w.release(
        "v3",
        "app.txt",
        "three\n",
        "three",
        &[&w.key("alice"), &w.key("bob")],
        now() - 100,
    );
    previous(&dir, &format!("  {c2}  \n"));
    let key = w.secret(&staging);
    let run = w.put(
        &source,
        json!({"tag": "v3", "signing_key": key, "tested_from": "./state/previous", "message": "smoke tests passed"}),
        &dir,
    );
    let (version, metadata) = output_parts(&run.ok());
    assert_eq!(version, ("v3".to_string(), c3));
    assert!(metadata.contains(&("tested from".to_string(), c2.clone())));
    assert_eq!(
        layer_message(&w, "v3"),
        format!("smoke tests passed\n\n{BUILD_LINES}Sigtag-Tested-From: {c2}\n")
    );
}

#[test]
fn out_records_none_and_a_commit_off_the_tags_history() {
    let w = World::new();
    let (_c1, _c2, source, dir) = released(&w);
    previous(&dir, "none");
    let run = put_from(&w, &source, "v1", &dir, "state/previous");
    let (_, metadata) = output_parts(&run.ok());
    assert!(metadata.contains(&("tested from".to_string(), "none".to_string())));
    assert!(
        layer_message(&w, "v1").ends_with(&format!("{BUILD_LINES}Sigtag-Tested-From: none\n")),
        "{}",
        layer_message(&w, "v1")
    );

    // A commit on a branch v2's history does not hold: found among the
    // remote's branches.
    w.git(&["checkout", "-q", "-b", "hotfix", "HEAD~2"]);
    fs::write(w.work.join("fix.txt"), "fix\n").unwrap();
    w.git(&["add", "fix.txt"]);
    w.git(&["commit", "-q", "-m", "hotfix"]);
    w.git(&["push", "-q", "origin", "hotfix"]);
    let side = w.git(&["rev-parse", "HEAD"]);
    previous(&dir, &side);
    let run = put_from(&w, &source, "v2", &dir, "state/previous");
    let (_, metadata) = output_parts(&run.ok());
    assert!(metadata.contains(&("tested from".to_string(), side.clone())));
    assert!(layer_message(&w, "v2").ends_with(&format!("Sigtag-Tested-From: {side}\n")));
}

#[test]
fn out_fails_on_a_file_that_names_no_commit_and_pushes_nothing() {
    let w = World::new();
    let (_c1, c2, source, dir) = released(&w);
    let outer = w.tag_object("v2");
    let uri = w.file_uri();
    let fix = "; the file must hold the commit (40 hex digits) or the tag name of the version the environment ran before v2, or none if it ran nothing";
    let missing = dir.join("state/previous");
    let large = "x".repeat(5000);
    let cases: Vec<(Option<&str>, &str, String)> = vec![
        (
            None,
            "state/previous",
            format!("params.tested_from \"state/previous\": {} not found{fix}", missing.display()),
        ),
        (Some(""), "state/previous", format!("params.tested_from \"state/previous\" is empty{fix}")),
        (Some(" \n\t\n"), "state/previous", format!("params.tested_from \"state/previous\" is empty{fix}")),
        (
            Some("v1\nv0\n"),
            "state/previous",
            format!("params.tested_from \"state/previous\" holds more than one line{fix}"),
        ),
        (
            Some("not a tag!"),
            "state/previous",
            format!("params.tested_from \"state/previous\" holds \"not a tag!\", which is neither a commit id, a tag name nor none{fix}"),
        ),
        (
            Some("v2"),
            "state/previous",
            format!("params.tested_from \"state/previous\" names v2, the tag this put co-signs, and a tag is never tested from itself{fix}"),
        ),
        (
            Some("v9"),
            "state/previous",
            format!("params.tested_from \"state/previous\" names tag v9, which is not on {uri}{fix}"),
        ),
        (
            Some("0123456789abcdef0123456789abcdef01234567"),
            "state/previous",
            format!("params.tested_from \"state/previous\" names commit 0123456789abcdef0123456789abcdef01234567, which is on no branch or tag of {uri}{fix}"),
        ),
        (
            Some(&large),
            "state/previous",
            format!("params.tested_from \"state/previous\" is larger than 4 KiB{fix}"),
        ),
        (
            Some("v1"),
            "../state/previous",
            "params.tested_from \"../state/previous\" must be a path inside the build's working directory, like \"previous/.git/sigtag/commit\"".to_string(),
        ),
        (
            Some("v1"),
            "/etc/hostname",
            "params.tested_from \"/etc/hostname\" must be a path inside the build's working directory, like \"previous/.git/sigtag/commit\"".to_string(),
        ),
    ];
    for (content, path, error) in cases {
        let _ = fs::remove_file(&missing);
        if let Some(text) = content {
            previous(&dir, text);
        }
        let run = put_from(&w, &source, "v2", &dir, path);
        run.assert_fails(&[]);
        assert_eq!(
            run.stderr.trim_end().lines().last(),
            Some(format!("sigtag: {error}").as_str()),
            "{content:?}"
        );
        assert_eq!(w.tag_object("v2"), outer, "nothing pushed for {content:?}");
    }
    // A tag object's id is no commit.
    previous(&dir, &w.tag_object("v1"));
    let run = put_from(&w, &source, "v2", &dir, "state/previous");
    run.assert_fails(&[&format!(
        "names {}, which is a tag on {uri}, not a commit",
        w.tag_object("v1")
    )]);
    assert_eq!(w.tag_object("v2"), outer);

    // The file is read before the network is touched.
    let away = json!({"uri": "file:///nonexistent/app.git", "signers": source["signers"], "groups": source["groups"], "require": "2 of humans"});
    let _ = fs::remove_file(&missing);
    let run = put_from(&w, &away, "v2", &dir, "state/previous");
    run.assert_fails(&["params.tested_from \"state/previous\":", "not found"]);
    assert_eq!(w.tag_commit("v2"), c2);
}

// ------------------------------------------------------------ out, in order

#[test]
fn out_in_order_records_the_base_for_its_own_rule() {
    let w = World::new();
    let (c1, c2, _, dir) = released(&w);
    // No in_order field: the tested atom implies it. params.require lets
    // the staging key sign before the rule itself is met.
    let rule = "2 of humans and 1 of pipelines tested";
    let source = w.standard_source(&w.file_uri(), rule);
    let key = w.secret(&w.key("staging"));
    let put = |tag: &str| {
        w.put(
            &source,
            json!({"tag": tag, "signing_key": key, "require": "2 of humans"}),
            &dir,
        )
    };

    let run = put("v1");
    let (_, metadata) = output_parts(&run.ok());
    assert!(metadata.contains(&("tested from".to_string(), "none".to_string())));
    assert!(
        run.stderr.contains(&format!(
            "sigtag: v1 has no base for \"{rule}\": no older promotion is an ancestor of it, so the new layer records Sigtag-Tested-From: none\n"
        )),
        "{}",
        run.stderr
    );
    assert!(layer_message(&w, "v1").ends_with("\nSigtag-Tested-From: none\n"));
    // v1 now satisfies the rule, so it is v2's base.
    let run = put("v2");
    let (_, metadata) = output_parts(&run.ok());
    assert!(metadata.contains(&("tested from".to_string(), c1.clone())));
    assert!(
        run.stderr.contains(&format!(
            "sigtag: v2's base for \"{rule}\" is v1 ({}), so the new layer records Sigtag-Tested-From: {c1}\n",
            &c1[..12]
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "sigtag: v2: yes for \"{rule}\" (alice, bob, staging); base v1 ({})\n",
            &c1[..12]
        )),
        "{}",
        run.stderr
    );
    assert!(layer_message(&w, "v2").ends_with(&format!("\nSigtag-Tested-From: {c1}\n")));
    assert_eq!(w.tag_commit("v2"), c2);

    // in_order: false beside a tested atom is refused before anything.
    let mut off = source.clone();
    off["in_order"] = json!(false);
    w.put(&off, json!({"tag": "v2", "signing_key": key}), &dir)
        .assert_fails(&["source.in_order is false, but source.require \"2 of humans and 1 of pipelines tested\" has a tested atom"]);
}

#[test]
fn out_in_order_fails_on_a_tag_rejected_before_its_base_is_found() {
    let w = World::new();
    let (_c1, c2, mut source, dir) = released(&w);
    source["in_order"] = json!(true);
    source["environment"] = json!("staging");
    w.srv(&["tag", "v9", &c2]);
    let key = w.secret(&w.key("staging"));
    let run = w.put(&source, json!({"tag": "v9", "signing_key": key}), &dir);
    run.assert_fails(&[]);
    assert_eq!(
        run.stderr,
        "sigtag: cannot tell which transition v9 is tested as: its base for staging is unknown, because the tag is rejected: lightweight tag: it points at a commit, not at a signed tag object\n"
    );
    assert_eq!(w.tag_object("v9"), c2, "nothing was signed");

    // params.tested_from still wins, and needs no base.
    previous(&dir, "v1");
    let run = w.put(
        &source,
        json!({"tag": "v2", "signing_key": key, "tested_from": "state/previous"}),
        &dir,
    );
    run.ok();
    assert!(!run.stderr.contains("base for staging"), "{}", run.stderr);
}
