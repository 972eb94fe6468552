//! Emergency promotions (DESIGN §6), with real git and gpg: a tag that
//! fails `require` but meets `emergency` is promoted as an emergency and
//! says so everywhere; a later co-signature that meets `review` clears
//! it; once its review is overdue, nothing newer is promoted in that
//! environment, and every refusal names it and what it needs.

// The command line's harness and the resource's share git.rs, gpg.rs and
// process.rs; this file uses both.
#![allow(clippy::duplicate_mod)]

mod common;
mod resource_support;

use common::*;
use serde_json::{json, Value};

const DAY: i64 = 86_400;

/// alice, bob and carol (humans) and the staging pipeline, their keys made
/// ten days ago so they can sign in the past; `envs` is the rest of
/// policy.toml.
struct Team {
    alice: Key,
    bob: Key,
    carol: Key,
}

fn team(ctx: &Ctx, envs: &str) -> Team {
    let made = now() - 10 * DAY;
    let t = Team {
        alice: ctx.key_created("alice", made, "never"),
        bob: ctx.key_created("bob", made, "never"),
        carol: ctx.key_created("carol", made, "never"),
    };
    let staging = ctx.key_created("staging", made, "never");
    for k in [&t.alice, &t.bob, &t.carol, &staging] {
        ctx.trust(k);
    }
    ctx.policy(&format!(
        "[groups]\nhumans = [\"alice\", \"bob\", \"carol\"]\npipelines = [\"staging\"]\n\n{envs}"
    ));
    t
}

/// A new commit on HEAD, so each tag names its own commit.
fn change(ctx: &Ctx, file: &str) {
    std::fs::write(ctx.repo.join(file), format!("{file}\n")).unwrap();
    ctx.git(&["add", file]);
    ctx.git(&["commit", "-q", "-m", &format!("Change {file}")]);
}

/// `sigtag SUBCOMMAND TAG --env ENV` against the test's keys and
/// repository.
fn run(ctx: &Ctx, args: &[&str]) -> Run {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--keys", &keys, "--repo", &repo]);
    ctx.sigtag(&all)
}

const PROD: &str = "[environments.prod]\nrequire = \"2 of humans\"\n\
                    emergency = \"1 of humans\"\nreview_within = \"72h\"\n\n\
                    [environments.staging]\nrequire = \"2 of humans\"\n";

#[test]
fn an_emergency_says_so_everywhere_and_a_later_cosignature_reviews_it() {
    let ctx = Ctx::new();
    let t = team(&ctx, PROD);
    ctx.chain("v1", &[&t.alice, &t.bob]);
    change(&ctx, "fix.txt");
    let at = now() - 3600;
    ctx.sign(&t.alice, "v2", "HEAD", &Sig::at(at));
    let due = iso(at + 3 * DAY);

    let line = run(&ctx, &["verify", "v2", "--env", "prod"]);
    assert_eq!(line.code, 0, "{}{}", line.stdout, line.stderr);
    assert_eq!(
        line.stdout,
        format!(
            "v2: yes (emergency) for prod (alice); review needs 1 more of humans other than alice by {due}\n"
        )
    );
    // staging takes no emergency: the same tag is refused there.
    let staging = run(&ctx, &["verify", "v2", "--env", "staging"]);
    assert_eq!(staging.code, 1);
    assert_eq!(
        staging.stdout,
        "v2: no for staging: needs 1 more of humans other than alice\n"
    );

    let r = ctx.verify_one("prod", "v2");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.0["emergency"], json!(true));
    assert_eq!(
        r.0["review"],
        json!({"emergency_rule": "1 of humans", "rule": "2 of humans",
               "reviewed": false, "overdue": false, "since": iso(at), "due": due,
               "needs": "1 more of humans other than alice"})
    );
    assert_eq!(r.missing(), None, "what review needs is in review.needs");
    // A promotion by its rule has neither field.
    let r1 = ctx.verify_one("prod", "v1");
    assert!(r1.satisfied() && r1.0.get("emergency").is_none() && r1.0.get("review").is_none());

    let explain = run(&ctx, &["explain", "v2", "--env", "prod"]);
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    for want in [
        "rule for prod: 2 of humans\n  - 2 of humans: 1 counted (alice)\n".to_string(),
        format!("emergency rule for prod: 1 of humans, met at {}\n", iso(at)),
        format!("review for prod: 2 of humans, due at {due}\n"),
        format!(
            "verdict: yes (emergency), review needs 1 more of humans other than alice by {due}\n"
        ),
    ] {
        assert!(
            explain.stdout.contains(&want),
            "{want:?} not in:\n{}",
            explain.stdout
        );
    }

    // bob reviews it: a promotion by the rule now, in both environments.
    ctx.cosign(&t.bob, "v2", &Sig::default());
    let line = run(&ctx, &["verify", "v2", "--env", "prod"]);
    ok(&line);
    assert_eq!(line.stdout, "v2: yes for prod (alice, bob)\n");
    let r = ctx.verify_one("prod", "v2");
    assert!(r.satisfied() && r.0.get("emergency").is_none(), "{}", r.0);
}

#[test]
fn an_overdue_review_blocks_newer_promotions_until_it_is_reviewed() {
    let ctx = Ctx::new();
    let t = team(&ctx, PROD);
    ctx.sign(&t.alice, "v1", "HEAD", &Sig::at(now() - 9 * DAY));
    ctx.cosign(&t.bob, "v1", &Sig::at(now() - 9 * DAY));
    change(&ctx, "hotfix.txt");
    let at = now() - 4 * DAY;
    ctx.sign(&t.carol, "v2", "HEAD", &Sig::at(at));
    let due = iso(at + 3 * DAY);
    change(&ctx, "feature.txt");
    ctx.chain("v3", &[&t.alice, &t.bob]);

    // v2 stays what prod runs; its review is overdue.
    let v2 = run(&ctx, &["verify", "v2", "--env", "prod"]);
    assert_eq!(v2.code, 0, "{}", v2.stderr);
    assert_eq!(
        v2.stdout,
        format!(
            "v2: yes (emergency) for prod (carol); review overdue since {due}: needs 1 more of humans other than carol\n"
        )
    );
    let r = ctx.verify_one("prod", "v2");
    assert_eq!(r.0["review"]["overdue"], json!(true));

    // v3 meets the rule, but nothing newer than v2 is promoted in prod.
    let why = format!(
        "v2 was promoted to prod as an emergency and its review was due at {due}; \
         nothing newer is promoted in prod until v2 meets \"2 of humans\": \
         it needs 1 more of humans other than carol (co-sign v2)"
    );
    let v3 = run(&ctx, &["verify", "v3", "--env", "prod"]);
    assert_eq!(v3.code, 1, "{}", v3.stderr);
    assert_eq!(v3.stdout, format!("v3: no for prod: rejected: {why}\n"));
    let r = ctx.verify_one("prod", "v3");
    assert_eq!(r.rejected().as_deref(), Some(why.as_str()));
    assert_eq!(r.0.get("emergency"), None);
    // An emergency newer than the overdue one is blocked too.
    change(&ctx, "second.txt");
    ctx.sign(&t.alice, "v4", "HEAD", &Sig::default());
    assert_eq!(
        ctx.verify_one("prod", "v4").rejected().as_deref(),
        Some(why.as_str())
    );
    // Other environments are not blocked.
    ok(&run(&ctx, &["verify", "v3", "--env", "staging"]));

    let list = run(&ctx, &["list", "--env", "prod"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert!(
        list.stdout.contains("v2: yes (emergency) for prod (carol)"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout
            .contains(&format!("v3: no for prod: rejected: {why}")),
        "{}",
        list.stdout
    );

    // bob's co-signature reviews v2 today: v3 is promoted again.
    ctx.cosign(&t.bob, "v2", &Sig::default());
    let v3 = run(&ctx, &["verify", "v3", "--env", "prod"]);
    ok(&v3);
    assert_eq!(v3.stdout, "v3: yes for prod (alice, bob)\n");
    // v4 is an emergency of its own now, not yet due.
    let r = ctx.verify_one("prod", "v4");
    assert!(r.satisfied() && r.0["emergency"] == json!(true), "{}", r.0);
}

#[test]
fn a_review_rule_of_its_own_marks_an_emergency_reviewed() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans and 1 of pipelines\"\n\
         emergency = \"1 of humans\"\nreview = \"2 of humans\"\nreview_within = \"1d\"\n",
    );
    ctx.chain("v1", &[&t.alice]);
    let r = ctx.verify_one("prod", "v1");
    assert_eq!(r.0["review"]["reviewed"], json!(false), "{}", r.0);
    ctx.cosign(&t.bob, "v1", &Sig::default());
    let line = run(&ctx, &["verify", "v1", "--env", "prod"]);
    ok(&line);
    assert_eq!(
        line.stdout,
        "v1: yes (emergency, reviewed) for prod (alice, bob); reviewed: meets 2 of humans\n"
    );
    let r = ctx.verify_one("prod", "v1");
    assert_eq!(
        (
            &r.0["emergency"],
            &r.0["review"]["reviewed"],
            &r.0["review"]["needs"]
        ),
        (&json!(true), &json!(true), &Value::Null)
    );
}

#[test]
fn no_key_no_emergency_and_a_bad_signature_is_no_emergency() {
    let ctx = Ctx::new();
    let t = team(&ctx, PROD);
    // Signed by a key nobody trusts: not even an emergency.
    let mallory = ctx.key("mallory");
    ctx.chain("v1", &[&mallory]);
    let r = ctx.verify_one("prod", "v1");
    assert!(!r.satisfied() && r.0.get("emergency").is_none(), "{}", r.0);
    // A tampered layer rejects the tag whatever the emergency rule says.
    change(&ctx, "x.txt");
    ctx.sign(&t.alice, "v2", "HEAD", &Sig::default());
    let body = ctx.git(&["cat-file", "tag", "v2"]);
    let forged = body.replacen("v2 signed by alice", "v2 signed by alice!", 1);
    let oid = ctx.write_tag_object(format!("{forged}\n").as_bytes(), false);
    ctx.set_tag_ref("v2", &oid);
    let r = ctx.verify_one("prod", "v2");
    assert!(!r.satisfied() && r.rejected().is_some(), "{}", r.0);
    assert!(r.0.get("emergency").is_none());
}

#[test]
fn a_tag_outside_the_environments_filter_is_no_emergency_and_no_base() {
    let ctx = Ctx::new();
    let t = team(
        &ctx,
        "[environments.prod]\nrequire = \"2 of humans\"\nemergency = \"1 of humans\"\n\
         review_within = \"72h\"\ntag_filter = \"v*\"\n",
    );
    // An old test tag one human signed: without the filter it would be an
    // overdue emergency blocking prod.
    ctx.sign(&t.alice, "test-1", "HEAD", &Sig::at(now() - 5 * DAY));
    change(&ctx, "release.txt");
    ctx.chain("v1", &[&t.alice, &t.bob]);
    let why =
        "prod promotes only tags matching \"v*\" (its tag_filter), and this tag's name does not";
    let r = ctx.verify_one("prod", "test-1");
    assert_eq!(r.rejected().as_deref(), Some(why), "{}", r.0);
    assert!(r.0.get("emergency").is_none());
    let v1 = run(&ctx, &["verify", "v1", "--env", "prod"]);
    ok(&v1);
    assert_eq!(v1.stdout, "v1: yes for prod (alice, bob)\n");
    // A filter that is no glob is refused.
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\", \"carol\"]\npipelines = [\"staging\"]\n\n\
         [environments.prod]\nrequire = \"2 of humans\"\ntag_filter = \"\"\n",
    );
    let bad = run(&ctx, &["verify", "v1", "--env", "prod"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("environments.prod.tag_filter must be a glob of tag names, like \"v*\""),
        "{}",
        bad.stderr
    );
}

#[test]
fn emergency_settings_that_make_no_sense_are_refused_with_the_fix() {
    for (env, why) in [
        (
            "require = \"2 of humans\"\nreview_within = \"72h\"\n",
            "environments.prod.review_within applies only to an emergency; set environments.prod.emergency too, or remove it",
        ),
        (
            "require = \"2 of humans\"\nemergency = \"1 of humans\"\n",
            "environments.prod.review_within is missing; say how long an emergency may stay unreviewed, e.g. review_within = \"72h\"",
        ),
        (
            "require = \"2 of humans\"\nemergency = \"1 of humans\"\nreview_within = \"72\"\n",
            "environments.prod.review_within \"72\" is not a duration",
        ),
        (
            "require = \"2 of humans\"\nemergency = \"1 of admins\"\nreview_within = \"3d\"\n",
            "environments.prod.emergency",
        ),
    ] {
        let ctx = Ctx::new();
        let t = team(&ctx, &format!("[environments.prod]\n{env}"));
        ctx.chain("v1", &[&t.alice]);
        let run = run(&ctx, &["verify", "v1", "--env", "prod"]);
        assert_eq!(run.code, 2, "{env}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(why), "{env}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn the_resource_says_emergency_and_holds_newer_versions_while_a_review_is_overdue() {
    let w = resource_support::World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let t = resource_support::now();
    let c1 = w.release("v1", "app", "1\n", "one", &[&a, &b], t - 20 * 3600);
    let at = t - 3 * 3600;
    let c2 = w.release("v2", "app", "2\n", "hotfix", &[&a], at);
    let c3 = w.release("v3", "app", "3\n", "three", &[&a, &b], t - 100);
    let mut source = w.standard_source(&w.file_uri(), "2 of humans");
    source["environment"] = json!("prod");
    source["emergency"] = json!("1 of humans");
    source["review_within"] = json!("1h");
    let due = iso(at + 3600);
    let why = format!(
        "v2 was promoted to prod as an emergency and its review was due at {due}; \
         nothing newer is promoted in prod until v2 meets \"2 of humans\": \
         it needs 1 more of humans other than alice (co-sign v2)"
    );

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
    for line in [
        format!(
            "sigtag: v2: promoted to prod as an emergency; review overdue since {due}: needs 1 more of humans other than alice\n"
        ),
        format!("sigtag: skipping v3: rejected: {why}\n"),
    ] {
        assert!(run.stderr.contains(&line), "{line:?} not in:\n{}", run.stderr);
    }
    // in says so in its metadata and report.
    let dest = w.fresh_dir("in");
    let got = w.get(&source, "v2", &c2, &dest).ok();
    let metadata = got["metadata"].as_array().unwrap();
    assert!(
        metadata.contains(&json!({"name": "emergency", "value": format!(
            "review overdue since {due}: needs 1 more of humans other than alice"
        )})),
        "{metadata:?}"
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dest.join(".git/sigtag/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report[0]["emergency"], json!(true));
    // in refuses the held-back version with the same reason.
    w.get(&source, "v3", &c3, &w.fresh_dir("in"))
        .assert_fails(&["tag v3 is not a valid version any more", &why]);

    // bob reviews v2 on the server: the next check moves on to v3.
    w.cosign(&b, "v2");
    let run = w.check(&source, Some(("v2", &c2)));
    assert_eq!(
        run.versions(),
        vec![
            ("v2".to_string(), c2.clone()),
            ("v3".to_string(), c3.clone())
        ],
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("emergency"), "{}", run.stderr);
}
