//! Promotion as a transition (DESIGN §6), with real git and gpg: bases,
//! ranges (merge commits, `since`, a base that stops satisfying), `N of G
//! besides author` (authors matched by user ID and by `[emails]`) and `N
//! of G tested` (`Sigtag-Tested-From` trailers written by plain `git tag
//! -s`), on the command line and in the resource's check and in.

// The command line's harness and the resource's share git.rs, gpg.rs and
// process.rs; this file uses both.
#![allow(clippy::duplicate_mod)]

mod common;
mod resource_support;

use common::*;
use serde_json::{json, Value};

/// alice, bob, carol and dave (humans; carol and dave are the cto group)
/// and the staging pipeline, all trusted; `envs` is the rest of
/// policy.toml (environments, `[emails]`).
struct Team {
    alice: Key,
    bob: Key,
    carol: Key,
    dave: Key,
    staging: Key,
}

fn team(ctx: &Ctx, envs: &str) -> Team {
    let t = Team {
        alice: ctx.key("alice"),
        bob: ctx.key("bob"),
        carol: ctx.key("carol"),
        dave: ctx.key("dave"),
        staging: ctx.key("staging"),
    };
    for k in [&t.alice, &t.bob, &t.carol, &t.dave, &t.staging] {
        ctx.trust(k);
    }
    ctx.policy(&format!(
        "[groups]\nhumans = [\"alice\", \"bob\", \"carol\", \"dave\"]\ncto = [\"carol\", \"dave\"]\n\
         pipelines = [\"staging\"]\n\n{envs}"
    ));
    t
}

/// A commit on the current branch, authored by `author` (`Name <email>`).
fn commit_by(ctx: &Ctx, author: &str, file: &str) -> String {
    std::fs::write(ctx.repo.join(file), format!("{file} by {author}\n")).unwrap();
    ctx.git(&["add", file]);
    ctx.git(&[
        "commit",
        "-q",
        "-m",
        &format!("Change {file}"),
        "--author",
        author,
    ]);
    ctx.head()
}

/// A first layer on `target` whose message ends in `trailer`
/// (`Sigtag-Tested-From: ...`), made by plain `git tag -s`.
fn sign_with(ctx: &Ctx, key: &Key, name: &str, target: &str, trailer: &str) {
    let msg = format!("{name} signed by {}\n\n{trailer}", key.name);
    ctx.git_tag_s(&ctx.repo, key, &["-m", &msg, name, target], &Sig::default());
}

/// A co-signature (`git tag -s -f NAME NAME`) whose message ends in
/// `trailer`.
fn cosign_with(ctx: &Ctx, key: &Key, name: &str, trailer: &str) {
    let msg = format!("{name} tested by {}\n\n{trailer}", key.name);
    ctx.git_tag_s(
        &ctx.repo,
        key,
        &["-f", "-m", &msg, name, name],
        &Sig::default(),
    );
}

/// `sigtag explain NAME --env ENV` (plain text), its exit status and output.
fn explain(ctx: &Ctx, env: &str, name: &str) -> (i32, String) {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "explain", name, "--env", env, "--keys", &keys, "--repo", &repo,
    ]);
    assert!(
        run.code == 0 || run.code == 1,
        "{}{}",
        run.stdout,
        run.stderr
    );
    (run.code, run.stdout)
}

fn base_of(r: &Report) -> Value {
    r.0["base"].clone()
}

fn range_of(r: &Report) -> Value {
    r.0["range"].clone()
}

fn short(id: &str) -> &str {
    &id[..12]
}

#[test]
fn the_cto_example_needs_another_cto_besides_the_author() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans and 1 of cto besides author\"\n",
    );
    ctx.chain("v1", &[&t.alice, &t.dave]);
    let v1 = ctx.head();
    let c = commit_by(&ctx, "Carol Example <carol@example.org>", "cto.txt");
    ctx.chain("v2", &[&t.carol, &t.alice]);

    let r = ctx.verify_one("prod", "v2");
    assert!(!r.satisfied() && r.rejected().is_none(), "{}", r.0);
    assert_eq!(
        r.missing().as_deref(),
        Some(format!("1 of cto besides the author of {} (carol)", short(&c)).as_str())
    );
    assert_eq!(base_of(&r), json!({"tag": "v1", "commit": v1}));
    assert_eq!(range_of(&r), json!({"commits": 1, "since": null}));
    assert_eq!(
        r.0["authors"],
        json!([{"rule": "1 of cto besides author", "holds": false, "falling_short": 1,
                "commits": [{"commit": c, "author": "Carol Example <carol@example.org>",
                             "signers": ["carol"], "besides": [], "needs": 1}]}])
    );
    let (code, text) = explain(&ctx, "prod", "v2");
    assert_eq!(code, 1);
    for line in [
        format!("promotion for prod:\n  base v1 ({})\n  range: 1 commit since the base\n", short(&v1)),
        "  - 1 of cto besides author: 1 counted (carol); 1 of 1 commit falls short\n".to_string(),
        format!(
            "      - {} by Carol Example <carol@example.org> (carol): needs 1 more of cto besides its author (counted besides: none)\n",
            short(&c)
        ),
        format!("verdict: no, needs 1 of cto besides carol, who authored {}\n", short(&c)),
    ] {
        assert!(text.contains(&line), "{line:?} not in:\n{text}");
    }
    // The first tag had no base: its range is every ancestor, none of
    // them by dave.
    let r1 = ctx.verify_one("prod", "v1");
    assert!(r1.satisfied(), "{}", r1.0);
    assert_eq!(base_of(&r1), Value::Null);
    let all = ctx.git(&["rev-list", "--count", "v1"]);
    assert_eq!(
        range_of(&r1),
        json!({"commits": all.parse::<u64>().unwrap(), "since": null})
    );

    // Another signer of the cto group co-signs: satisfied.
    ctx.cosign(&t.dave, "v2", &Sig::default());
    let r = ctx.verify_one("prod", "v2");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.0["authors"][0]["falling_short"], json!(0));
    let line = ctx.sigtag(&[
        "verify",
        "v2",
        "--env",
        "prod",
        "--keys",
        &Ctx::path_str(&ctx.keys),
        "--repo",
        &Ctx::path_str(&ctx.repo),
    ]);
    ok(&line);
    assert_eq!(
        line.stdout,
        format!(
            "v2: yes for prod (alice, carol, dave); base v1 ({}), 1 commit\n",
            short(&v1)
        )
    );
}

#[test]
fn a_range_holds_every_parent_of_a_merge() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"1 of humans besides author\"\n",
    );
    ctx.chain("v1", &[&t.bob]);
    ctx.git(&["checkout", "-q", "-b", "topic"]);
    let c1 = commit_by(&ctx, "Carol Example <carol@example.org>", "a.txt");
    commit_by(&ctx, "Eve <eve@example.org>", "b.txt");
    ctx.git(&["checkout", "-q", "main"]);
    commit_by(&ctx, "Eve <eve@example.org>", "c.txt");
    ctx.git(&[
        "-c",
        "user.name=Alice",
        "-c",
        "user.email=alice@example.org",
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge topic",
        "topic",
    ]);
    let m = ctx.head();
    // Signed by carol alone: her commit on the merged branch falls short.
    ctx.chain("v2", &[&t.carol]);
    let r = ctx.verify_one("prod", "v2");
    let count: u64 = ctx.git(&["rev-list", "--count", "v1..v2"]).parse().unwrap();
    assert_eq!(count, 4, "the merge, both topic commits and the main one");
    assert_eq!(range_of(&r), json!({"commits": count, "since": null}));
    assert_eq!(
        r.missing().as_deref(),
        Some(format!("1 of humans besides the author of {} (carol)", short(&c1)).as_str())
    );
    // The merge commit is alice's (its author): bob co-signing covers
    // carol's commit, and alice's merge is covered by carol and bob.
    ctx.cosign(&t.bob, "v2", &Sig::default());
    let r = ctx.verify_one("prod", "v2");
    assert!(r.satisfied(), "{}", r.0);
    // alice alone: the merge commit (hers) falls short, carol's does not.
    ctx.git(&["tag", "-d", "v2"]);
    ctx.chain("v2", &[&t.alice]);
    let r = ctx.verify_one("prod", "v2");
    assert_eq!(
        r.missing().as_deref(),
        Some(format!("1 of humans besides the author of {} (alice)", short(&m)).as_str())
    );
    assert_eq!(r.0["authors"][0]["falling_short"], json!(1));
}

#[test]
fn authors_are_matched_by_user_ids_and_the_emails_table() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[emails]\nalice = [\"alice@users.noreply.github.com\"]\n\n\
         [environments.prod]\nrequire = \"1 of humans besides author\"\n",
    );
    // A second user ID on alice's certificate.
    ctx.gpg(&[
        "--quick-add-uid",
        &t.alice.fpr,
        "Alice at Work <alice@work.example>",
    ]);
    ctx.trust(&t.alice);
    ctx.chain("v1", &[&t.alice, &t.bob]);
    // Eve matches no signer: nobody's, so alice alone counts besides her.
    commit_by(&ctx, "Eve <eve@example.org>", "eve.txt");
    ctx.chain("v2", &[&t.alice]);
    let r = ctx.verify_one("prod", "v2");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(range_of(&r), json!({"commits": 1, "since": null}));
    // alice's commits under three addresses, in any case: all hers.
    let a = commit_by(&ctx, "Alice <ALICE@Users.Noreply.GitHub.com>", "a.txt");
    let b = commit_by(&ctx, "Alice <alice@WORK.example>", "b.txt");
    let c = commit_by(&ctx, "A. <Alice@Example.org>", "c.txt");
    ctx.chain("v3", &[&t.alice]);
    let r = ctx.verify_one("prod", "v3");
    assert!(!r.satisfied() && r.rejected().is_none(), "{}", r.0);
    let short_commits: Vec<&str> = r.0["authors"][0]["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"].as_str().unwrap())
        .collect();
    assert_eq!(
        short_commits,
        [c.as_str(), b.as_str(), a.as_str()],
        "git rev-list order"
    );
    for entry in r.0["authors"][0]["commits"].as_array().unwrap() {
        assert_eq!(entry["signers"], json!(["alice"]), "{entry}");
    }
    assert_eq!(
        r.missing().as_deref(),
        Some(
            format!(
                "1 of humans besides the author of {} (alice) and of 2 more commits",
                short(&c)
            )
            .as_str()
        )
    );
    ctx.cosign(&t.carol, "v3", &Sig::default());
    assert!(ctx.verify_one("prod", "v3").satisfied());
}

#[test]
fn since_starts_the_range_of_a_tag_with_no_base() {
    let ctx = Ctx::new();
    let old = commit_by(&ctx, "Alice Example <alice@example.org>", "old.txt");
    let reviewed = commit_by(&ctx, "Eve <eve@example.org>", "reviewed.txt");
    commit_by(&ctx, "Bob Example <bob@example.org>", "new.txt");
    ctx.git(&["tag", "reviewed", &reviewed]);
    let t = team(
        &ctx,
        &format!(
            "[environments.prod]\nrequire = \"1 of humans besides author\"\nsince = \"{reviewed}\"\n\n\
             [environments.bytag]\nrequire = \"1 of humans besides author\"\nsince = \"reviewed\"\n\n\
             [environments.all]\nrequire = \"1 of humans besides author\"\n\n\
             [environments.elsewhere]\nrequire = \"1 of humans besides author\"\nsince = \"{}\"\n\n\
             [environments.nowhere]\nrequire = \"1 of humans besides author\"\nsince = \"no-such-tag\"\n",
            "0".repeat(40)
        ),
    );
    ctx.chain("v1", &[&t.alice]);
    for env in ["prod", "bytag"] {
        let r = ctx.verify_one(env, "v1");
        assert!(r.satisfied(), "{env}: {}", r.0);
        assert_eq!(base_of(&r), Value::Null);
        let rev = if env == "prod" {
            reviewed.clone()
        } else {
            "reviewed".into()
        };
        assert_eq!(
            range_of(&r),
            json!({"commits": 1, "since": {"rev": rev, "commit": reviewed}}),
            "{env}"
        );
    }
    // Without since: every ancestor, alice's old commit among them.
    let r = ctx.verify_one("all", "v1");
    assert_eq!(
        r.missing().as_deref(),
        Some(format!("1 of humans besides the author of {} (alice)", short(&old)).as_str())
    );
    // A since that names no commit, or one that is no ancestor: refused.
    let r = ctx.verify_one("nowhere", "v1");
    r.assert_rejected(&format!(
        "since = \"no-such-tag\" names no commit of the repository, so the range of v1, which has no base, \
         has no start; fix environments.nowhere.since in {}/policy.toml",
        ctx.keys.display()
    ));
    ctx.git(&["checkout", "-q", "--orphan", "other"]);
    ctx.git(&["commit", "-q", "--allow-empty", "-m", "Unrelated"]);
    let unrelated = ctx.head();
    ctx.git(&["checkout", "-q", "main"]);
    let keys = ctx.keys.join("policy.toml");
    let text = std::fs::read_to_string(&keys)
        .unwrap()
        .replace(&"0".repeat(40), &unrelated);
    std::fs::write(&keys, text).unwrap();
    let r = ctx.verify_one("elsewhere", "v1");
    r.assert_rejected(&format!(
        "since = \"{unrelated}\" (commit {}) is not an ancestor of v1's commit, so the range of v1, which has \
         no base, has no reviewed start; set environments.elsewhere.since in {}/policy.toml to an ancestor of it",
        short(&unrelated),
        ctx.keys.display()
    ));
}

#[test]
fn a_base_that_stops_satisfying_moves_the_next_base_back() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans besides author\"\n",
    );
    ctx.chain("v1", &[&t.alice, &t.bob]);
    let v1 = ctx.head();
    commit_by(&ctx, "Eve <eve@example.org>", "2.txt");
    ctx.chain("v2", &[&t.alice, &t.carol]);
    let v2 = ctx.head();
    commit_by(&ctx, "Eve <eve@example.org>", "3.txt");
    ctx.chain("v3", &[&t.alice, &t.bob]);
    let (_, reports) = ctx.verify("prod", &["v3", "v2"]);
    assert_eq!(base_of(&reports[0]), json!({"tag": "v2", "commit": v2}));
    assert_eq!(range_of(&reports[0]), json!({"commits": 1, "since": null}));
    assert_eq!(base_of(&reports[1]), json!({"tag": "v1", "commit": v1}));

    // carol's key is revoked as compromised: v2 no longer satisfies, and
    // v3's base is v1, two commits back.
    let rev = ctx.revocation(&t.carol, Revocation::Compromised, None);
    ctx.import(&rev);
    ctx.trust(&t.carol);
    let (_, reports) = ctx.verify("prod", &["v3", "v2"]);
    assert!(reports[0].satisfied(), "{}", reports[0].0);
    assert_eq!(base_of(&reports[0]), json!({"tag": "v1", "commit": v1}));
    assert_eq!(range_of(&reports[0]), json!({"commits": 2, "since": null}));
    assert!(!reports[1].satisfied());
}

#[test]
fn a_re_tag_of_the_same_commit_has_its_twin_for_base() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans besides author\"\n",
    );
    let head = commit_by(&ctx, "Alice Example <alice@example.org>", "a.txt");
    // alice wrote it: v1 needs two others.
    ctx.chain("v1", &[&t.bob, &t.carol]);
    ctx.chain("v1a", &[&t.alice, &t.bob]);
    let r = ctx.verify_one("prod", "v1a");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(base_of(&r), json!({"tag": "v1", "commit": head}));
    assert_eq!(range_of(&r), json!({"commits": 0, "since": null}));
    // An empty range still asks for the count.
    ctx.chain("v1b", &[&t.dave]);
    let r = ctx.verify_one("prod", "v1b");
    assert_eq!(r.missing().as_deref(), Some("1 of humans besides author"));
}

/// prod: `2 of humans and 1 of pipelines tested`; staging's layer records
/// which transition it tested.
#[test]
fn tested_counts_a_layer_recording_the_base() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans and 1 of pipelines tested\"\n",
    );
    ctx.chain("v1.0", &[&t.alice, &t.bob]);
    cosign_with(&ctx, &t.staging, "v1.0", "Sigtag-Tested-From: none");
    let c10 = ctx.head();
    let r = ctx.verify_one("prod", "v1.0");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(base_of(&r), Value::Null);
    assert_eq!(
        range_of(&r),
        Value::Null,
        "no besides-author atom: the range is not read"
    );
    assert_eq!(r.0["signers"][2]["tested_from"], json!("none"));
    assert_eq!(r.0["signers"][0]["tested_from"], Value::Null);

    commit_by(&ctx, "Eve <eve@example.org>", "11.txt");
    let c11 = ctx.head();
    ctx.chain("v1.1", &[&t.alice, &t.bob]);
    // staging tested v1.0 -> v1.1: the transition prod makes.
    cosign_with(
        &ctx,
        &t.staging,
        "v1.1",
        &format!("Sigtag-Tested-From: {c10}"),
    );
    let r = ctx.verify_one("prod", "v1.1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(base_of(&r), json!({"tag": "v1.0", "commit": c10}));

    commit_by(&ctx, "Eve <eve@example.org>", "12.txt");
    ctx.chain("v1.2", &[&t.alice, &t.bob]);
    // staging tested v1.0 -> v1.2, but prod's base is v1.1.
    cosign_with(
        &ctx,
        &t.staging,
        "v1.2",
        &format!("Sigtag-Tested-From: {c10}"),
    );
    let r = ctx.verify_one("prod", "v1.2");
    assert!(!r.satisfied() && r.rejected().is_none(), "{}", r.0);
    assert_eq!(base_of(&r), json!({"tag": "v1.1", "commit": c11}));
    assert_eq!(
        r.missing().as_deref(),
        Some(format!("1 of pipelines tested from v1.1 ({})", short(&c11)).as_str())
    );
    assert_eq!(
        r.0["tested"],
        json!([{"rule": "1 of pipelines tested", "holds": false, "expected": c11,
                "counted": [], "other": [{"signer": "staging", "tested_from": [c10], "tags": ["v1.0"]}]}])
    );
    let (_, text) = explain(&ctx, "prod", "v1.2");
    let want = format!(
        "staging tested v1.0 -> v1.2 (from {}); prod's base is v1.1 ({}): stage prod's version v1.1 then v1.2 again",
        short(&c10),
        short(&c11)
    );
    assert!(text.contains(&want), "{want:?} not in:\n{text}");
    assert!(
        text.contains(&format!("    tested from v1.0 ({})\n", short(&c10))),
        "{text}"
    );

    // The transition prod makes, tested: satisfied.
    cosign_with(
        &ctx,
        &t.staging,
        "v1.2",
        &format!("Sigtag-Tested-From: {c11}"),
    );
    let r = ctx.verify_one("prod", "v1.2");
    assert!(r.satisfied(), "{}", r.0);
}

#[test]
fn a_tag_with_no_base_must_record_none_and_a_bad_trailer_counts_for_nothing() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans and 1 of pipelines tested\"\n\n\
         [environments.staging]\nrequire = \"2 of humans\"\n",
    );
    let head = ctx.head();
    sign_with(&ctx, &t.alice, "v1", "HEAD", "Sigtag-Tested-From: none");
    ctx.cosign(&t.bob, "v1", &Sig::default());
    // A commit id abbreviated: malformed, named, and no count.
    cosign_with(
        &ctx,
        &t.staging,
        "v1",
        &format!("Sigtag-Tested-From: {}", &head[..7]),
    );
    let r = ctx.verify_one("prod", "v1");
    assert!(!r.satisfied() && r.rejected().is_none(), "{}", r.0);
    assert_eq!(
        r.missing().as_deref(),
        Some("1 of pipelines tested from none")
    );
    assert_eq!(
        r.problems(),
        problems(&[(
            Some(3),
            &format!(
                "Sigtag-Tested-From \"{}\" is neither a full commit id (40 hexadecimal digits) nor none, \
                 so the layer's Sigtag-Tested-From counts for no tested atom",
                &head[..7]
            )
        )])
    );
    // alice's layer records none, but alice is no pipeline; the staging
    // layer's value is what counts.
    assert_eq!(
        r.0["tested"][0]["other"],
        json!([{"signer": "staging", "tested_from": [], "tags": []}])
    );
    // Two trailers in one layer count for nothing either.
    cosign_with(
        &ctx,
        &t.staging,
        "v1",
        "Sigtag-Tested-From: none\nSigtag-Tested-From: none",
    );
    let r = ctx.verify_one("prod", "v1");
    assert!(!r.satisfied());
    assert!(r.problems().iter().any(|(l, p)| *l == Some(4)
        && p.starts_with("the last paragraph holds more than one Sigtag-Tested-From trailer")));
    // Its signatures still count: staging's rule does not care.
    let s = ctx.verify_one("staging", "v1");
    assert!(s.satisfied(), "{}", s.0);
    assert!(
        s.0.get("base").is_none(),
        "no transition fields under a plain rule: {}",
        s.0
    );
    // A trailer above the last paragraph is not read.
    ctx.git_tag_s(
        &ctx.repo,
        &t.staging,
        &[
            "-f",
            "-m",
            "Sigtag-Tested-From: none\n\ntested by hand",
            "v1",
            "v1",
        ],
        &Sig::default(),
    );
    assert!(!ctx.verify_one("prod", "v1").satisfied());
    cosign_with(&ctx, &t.staging, "v1", "Sigtag-Tested-From: none");
    assert!(ctx.verify_one("prod", "v1").satisfied());
}

#[test]
fn history_that_cannot_be_read_fails_closed() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"1 of humans besides author\"\n\n\
         [environments.tested]\nrequire = \"1 of pipelines tested\"\n",
    );
    ctx.chain("v1", &[&t.alice]);
    commit_by(&ctx, "Eve <eve@example.org>", "2.txt");
    ctx.chain("v2", &[&t.alice]);
    commit_by(&ctx, "Eve <eve@example.org>", "3.txt");
    ctx.chain("v3", &[&t.alice]);
    assert!(ctx.verify_one("prod", "v3").satisfied());

    // A shallow clone: v3's range stops at its boundary.
    let shallow = ctx.root.join("shallow");
    let url = format!("file://{}", ctx.repo.display());
    ctx.git_in(
        &ctx.root,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            &url,
            "shallow",
        ],
    );
    ctx.git_in(
        &shallow,
        &[
            "fetch",
            "-q",
            "--depth",
            "1",
            "origin",
            "+refs/tags/*:refs/tags/*",
        ],
    );
    let (_, reports) = ctx.verify_in(&shallow, "prod", &["v3"]);
    let rejected = reports[0].rejected().unwrap_or_default();
    assert!(
        rejected.starts_with("the history of v3 reaches commit ")
            && rejected.ends_with(", whose parents this shallow clone lacks; fetch the whole history (git fetch --unshallow)"),
        "{}",
        reports[0].0
    );

    // Grafts change history: refused.
    std::fs::create_dir_all(ctx.repo.join(".git/info")).unwrap();
    std::fs::write(
        ctx.repo.join(".git/info/grafts"),
        format!("{}\n", ctx.rev_parse("v3^{commit}")),
    )
    .unwrap();
    ctx.verify_one("prod", "v3").assert_rejected(
        "the repository has grafts (info/grafts), which change what a commit's parents are, \
         so the range of v3 cannot be judged; remove info/grafts",
    );
    std::fs::remove_file(ctx.repo.join(".git/info/grafts")).unwrap();

    // A replace ref of a commit in the range: refused.
    let c2 = ctx.rev_parse("v2^{commit}");
    let c3 = ctx.rev_parse("v3^{commit}^");
    ctx.git(&["replace", &c3, &c2]);
    let r = ctx.verify_one("prod", "v3");
    r.assert_rejected(&format!(
        "refs/replace/{c3} replaces commit {} of the range of v3 with {c2}: git would show other history \
         than sigtag judges; remove the replace ref",
        short(&c3)
    ));
}

#[test]
fn cosign_and_list_judge_with_the_base() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"1 of humans besides author\"\n",
    );
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    ctx.chain("v1", &[&t.bob]);
    let v1 = ctx.head();
    let c = commit_by(&ctx, "Alice Example <alice@example.org>", "a.txt");
    ctx.chain("v2", &[&t.alice]);
    // cosign --env prod refuses until the rule holds, naming the commit.
    let carol = ctx.secret_key_file(&t.carol);
    let run = ctx.sigtag(&[
        "cosign",
        "v2",
        "--key",
        &Ctx::path_str(&carol),
        "--require",
        "1 of humans besides author",
        "--keys",
        &keys,
        "--repo",
        &repo,
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "sigtag: refusing to co-sign v2: it does not meet \"1 of humans besides author\" yet: \
             needs 1 of humans besides alice, who authored {}",
            short(&c)
        )
    );
    let list = ctx.sigtag(&["list", "--env", "prod", "--keys", &keys, "--repo", &repo]);
    ok(&list);
    assert_eq!(
        list.stdout,
        format!(
            "v1: yes for prod (bob); no base, 3 commits\n\
             v2: no for prod: needs 1 of humans besides alice, who authored {}; base v1 ({}), 1 commit\n",
            short(&c),
            short(&v1)
        )
    );
}

#[test]
fn a_range_longer_than_the_limit_is_refused() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"1 of humans besides author\"\n",
    );
    // 100,000 more commits in one fast-import stream.
    let mut stream = String::new();
    let head = ctx.head();
    for i in 1..=100_000u32 {
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter Eve <eve@example.org> {} +0000\ndata 2\n{}\n",
            1_700_000_000 + i,
            i % 10
        ));
        if i == 1 {
            stream.push_str(&format!("from {head}\n"));
        }
    }
    let mut cmd = std::process::Command::new(GIT);
    cmd.current_dir(&ctx.repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(["fast-import", "--quiet", "--force"]);
    let out = common::process::run_with_input(cmd, Some(stream.as_bytes()));
    assert!(out.status.success(), "{out:?}");
    ctx.git(&["reset", "-q", "--hard", "main"]);
    ctx.chain("v1", &[&t.alice]);
    ctx.verify_one("prod", "v1").assert_rejected(&format!(
        "the range of v1 from its first commit holds more than 100000 commits, the most sigtag reads; \
         set environments.prod.since in {}/policy.toml to a reviewed commit closer to v1 (since = \"COMMIT\")",
        ctx.keys.display()
    ));
}

/// A layer on a tag of the resource's server repository whose message ends
/// in `trailer`, dated `at`.
fn server_layer(
    w: &resource_support::World,
    key: &resource_support::Key,
    tag: &str,
    trailer: &str,
    at: i64,
) {
    let mut cmd = w.git_cmd(&w.remote);
    cmd.env("GIT_COMMITTER_DATE", format!("@{at} +0000"))
        .arg("-c")
        .arg(format!("gpg.program={}", w.gpg_at(at).display()));
    let msg = format!("{tag} tested by {}\n\n{trailer}", key.name);
    resource_support::git::tag_signed(cmd, key, &["-f", "-m", &msg, tag, tag]);
}

#[test]
fn the_resource_judges_each_tag_with_its_base() {
    let w = resource_support::World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let t = resource_support::now() - 1000;
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    server_layer(&w, &s, "v1", "Sigtag-Tested-From: none", t);
    let c2 = w.release("v2", "app", "2\n", "two", &[&a, &b], t + 100);
    server_layer(&w, &s, "v2", &format!("Sigtag-Tested-From: {c1}"), t + 100);
    // staging tested v1 -> v3, but the resource's base for v3 is v2.
    let c3 = w.release("v3", "app", "3\n", "three", &[&a, &b], t + 200);
    server_layer(&w, &s, "v3", &format!("Sigtag-Tested-From: {c1}"), t + 200);
    let source = w.standard_source(&w.file_uri(), "2 of humans and 1 of pipelines tested");

    let run = w.check(&source, None);
    assert_eq!(
        run.versions(),
        vec![("v2".to_string(), c2.clone())],
        "{}",
        run.stderr
    );
    let why = format!(
        "skipping v3: does not meet \"2 of humans and 1 of pipelines tested\": needs 1 of pipelines tested from v2 ({})\n",
        &c2[..12]
    );
    assert!(run.stderr.contains(&why), "{why:?} in {}", run.stderr);
    let run = w.check(&source, Some(("v1", &c1)));
    assert_eq!(
        run.versions(),
        vec![
            ("v1".to_string(), c1.clone()),
            ("v2".to_string(), c2.clone())
        ],
        "{}",
        run.stderr
    );

    // in fetches every tag, so v2 is judged with its base.
    let dest = w.fresh_dir("in");
    let got = w.get(&source, "v2", &c2, &dest);
    got.ok();
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dest.join(".git/sigtag/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report[0]["base"], json!({"tag": "v1", "commit": c1}));
    let dest = w.fresh_dir("in");
    w.get(&source, "v3", &c3, &dest).assert_fails(&[
        "tag v3 is not a valid version any more",
        "needs 1 of pipelines tested from v2",
    ]);
}

#[test]
fn explain_does_not_tick_authors_it_did_not_check() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"1 of humans besides author and 1 of pipelines\"\n",
    );
    commit_by(&ctx, "Alice Example <alice@example.org>", "a.txt");
    ctx.chain("v1", &[&t.alice, &t.bob]);
    let (code, text) = explain(&ctx, "prod", "v1");
    assert_eq!(code, 1);
    for line in [
        "  range: not read, since the signatures alone do not meet the rule\n",
        "    ~ 1 of humans besides author: 2 counted (alice, bob); its commits not checked (range not read)\n",
        "    - 1 of pipelines: 0 counted\n",
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    // Once the signatures could meet it, the range is read and judged.
    ctx.cosign(&t.staging, "v1", &Sig::default());
    let (code, text) = explain(&ctx, "prod", "v1");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("    + 1 of humans besides author: 2 counted (alice, bob)\n"),
        "{text}"
    );
}

#[test]
fn repeated_checks_reuse_the_fold_until_a_ref_changes() {
    let w = resource_support::World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let t = resource_support::now() - 1000;
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t);
    server_layer(&w, &s, "v1", "Sigtag-Tested-From: none", t);
    let c2 = w.release("v2", "app", "2\n", "two", &[&a, &b], t + 100);
    server_layer(&w, &s, "v2", &format!("Sigtag-Tested-From: {c1}"), t + 100);
    w.release("v3", "app", "3\n", "three", &[&a, &b], t + 200);
    server_layer(&w, &s, "v3", &format!("Sigtag-Tested-From: {c1}"), t + 200);
    let source = w.standard_source(&w.file_uri(), "2 of humans and 1 of pipelines tested");
    let skipping = format!(
        "skipping v3: does not meet \"2 of humans and 1 of pipelines tested\": needs 1 of pipelines tested from v2 ({})\n",
        &c2[..12]
    );

    let first = w.check(&source, Some(("v1", &c1)));
    assert!(
        first.stderr.contains(": 3 verified now, 0 from the cache;"),
        "{}",
        first.stderr
    );
    // Nothing moved: the same answer, the same reasons, nothing verified.
    let again = w.check(&source, Some(("v1", &c1)));
    assert_eq!(again.versions(), first.versions(), "{}", again.stderr);
    assert!(
        again.stderr.contains(": 0 verified now, 3 from the cache;"),
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains(&skipping), "{}", again.stderr);

    // staging tests v2 -> v3: v3's ref moves, and the fold runs again.
    server_layer(
        &w,
        &s,
        "v3",
        &format!("Sigtag-Tested-From: {c2}"),
        resource_support::now(),
    );
    let moved = w.check(&source, Some(("v2", &c2)));
    assert!(
        moved.stderr.contains(": 3 verified now, 0 from the cache;"),
        "{}",
        moved.stderr
    );
    let tags: Vec<String> = moved.versions().into_iter().map(|(t, _)| t).collect();
    assert_eq!(tags, ["v2", "v3"], "{}", moved.stderr);
    // A change of rule is a change of trust digest: no answer is reused.
    let other = w.standard_source(&w.file_uri(), "2 of humans and 1 of humans besides author");
    let run = w.check(&other, Some(("v2", &c2)));
    assert!(
        run.stderr.contains(" verified now, 0 from the cache;"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_writer_finds_the_base_under_any_rule() {
    let ctx = Ctx::new();
    let t = team(&ctx, "[environments.staging]\nrequire = \"2 of humans\"\n");
    ctx.chain("v1", &[&t.alice, &t.bob]);
    let v1 = ctx.head();
    commit_by(&ctx, "Eve <eve@example.org>", "2.txt");
    ctx.chain("v2", &[&t.alice]);
    commit_by(&ctx, "Eve <eve@example.org>", "3.txt");
    ctx.chain("v3", &[&t.alice, &t.bob]);
    let trust = sigtag::trust::Trust::load_dir(&ctx.keys).unwrap();
    let repo = git2::Repository::open(&ctx.repo).unwrap();
    let gate = sigtag::verdict::Gate::for_environment(&trust, "staging").unwrap();
    // A plain rule: judging costs no base...
    assert_eq!(gate.judge(&repo, "v3").transition, None);
    // ...unless asked for: v2 does not satisfy, so v3 follows v1.
    let v = gate.judge_with_base(&repo, "v3").unwrap();
    assert!(v.satisfied);
    let t = v.transition.unwrap();
    assert_eq!(
        t.base,
        Some(sigtag::verdict::Base {
            tag: "v1".into(),
            commit: v1
        })
    );
    assert_eq!(t.range, None);
}
