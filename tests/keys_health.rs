//! `sigtag keys` (DESIGN §9): the health of a keys directory, judged on
//! certificates made by real gpg, each status with its fix, the exit
//! status, and the mark `explain` gives a signer who is in no group.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;

/// 2021-01-01T00:00:00Z
const IN_2021: i64 = 1_609_459_200;

/// `sigtag keys ARGS --keys KEYS`.
fn keys(ctx: &Ctx, args: &[&str]) -> Run {
    let dir = Ctx::path_str(&ctx.keys);
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--keys", &dir]);
    ctx.sigtag(&all)
}

/// humans and pipelines as given; staging requires 1 of humans.
fn policy(ctx: &Ctx, humans: &[&str], pipelines: &[&str]) {
    let list = |v: &[&str]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    ctx.policy(&format!(
        "[groups]\nhumans = [{}]\npipelines = [{}]\n\n[environments.staging]\nrequire = \"1 of humans\"\n",
        list(humans),
        list(pipelines)
    ));
}

fn keys_json(ctx: &Ctx) -> (i32, Value) {
    let run = keys(ctx, &["--json"]);
    let value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    assert_eq!(run.stderr, "", "nothing on stderr");
    (run.code, value)
}

/// The statuses of `signer` in a JSON report: (status, certificate, key,
/// hard, reason).
fn statuses(report: &Value, signer: &str) -> Vec<(String, Value, Value, Value, Value)> {
    let s = report["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == signer)
        .unwrap_or_else(|| panic!("no signer {signer} in {report}"));
    s["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            (
                st["status"].as_str().unwrap().to_string(),
                st["certificate"].clone(),
                st["key"].clone(),
                st["hard"].clone(),
                st["reason"].clone(),
            )
        })
        .collect()
}

fn status(code: &str, cert: &str, key: &str) -> (String, Value, Value, Value, Value) {
    (
        code.into(),
        json!(cert),
        json!(key),
        Value::Null,
        Value::Null,
    )
}

fn signer<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["signers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

#[test]
fn usable_signers_in_groups_exit_0_with_every_key_listed() {
    let ctx = Ctx::new();
    let made = now() - 10 * DAY;
    let alice = ctx.key_created("alice", made, "never");
    let staging = ctx.key_created("staging", made, "never");
    ctx.trust(&alice);
    ctx.trust(&staging);
    policy(&ctx, &["alice"], &["staging"]);
    let run = keys(&ctx, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let block = |k: &Key, group: &str| {
        format!(
            "{name}: usable\n  files: {file}\n  groups: {group}\n  certificate {fpr}\n    \
             user ID {name} <{name}@example.org>\n    primary {fpr} ed25519, created {made}, \
             expires never, can sign, valid\n  usable: can sign, in {group}\n",
            name = k.name,
            file = ctx.keys.join(format!("{}.asc", k.name)).display(),
            fpr = k.fpr,
            made = iso(made),
        )
    };
    assert_eq!(
        run.stdout,
        format!(
            "{}\n{}\n2 signers usable and in a group\n",
            block(&alice, "humans"),
            block(&staging, "pipelines")
        )
    );
    assert_eq!(run.stderr, "");

    let (code, report) = keys_json(&ctx);
    assert_eq!(code, 0);
    assert_eq!(report["ok"], json!(true));
    assert_eq!(report["keys"], json!(Ctx::path_str(&ctx.keys)));
    assert_eq!(
        signer(&report, "alice")["statuses"],
        json!([{"status": "usable", "certificate": null, "key": null, "date": null,
                "hard": null, "reason": null, "message": "alice can sign and is in humans",
                "fix": null}])
    );
    assert_eq!(
        signer(&report, "alice")["certificates"],
        json!([{"fingerprint": alice.fpr, "user_ids": ["alice <alice@example.org>"],
                "keys": [{"fingerprint": alice.fpr, "primary": true, "algorithm": "ed25519",
                          "created": iso(made), "expires": null, "can_sign": true,
                          "state": "valid", "revoked": null, "refused": null}]}])
    );
}

#[test]
fn every_status_comes_with_its_fix_and_exit_1() {
    let ctx = Ctx::new();
    let t = now();
    let mut humans = Vec::new();
    // Expires in 10 days; expired 30 days ago.
    let soon = ctx.key_created("soon", t - 10 * DAY, "20d");
    let old = ctx.key_created("old", t - 40 * DAY, "10d");
    // Revoked hard and soft.
    let gone = ctx.key_created("gone", t - 10 * DAY, "never");
    let moved = ctx.key_created("moved", t - 10 * DAY, "never");
    ctx.import(&ctx.revocation(&gone, Revocation::Compromised, None));
    ctx.import(&ctx.revocation(&moved, Revocation::Superseded, None));
    // Bound by SHA-1 before 2023.
    let legacy = ctx.key_made_with("legacy", IN_2021, "never", &["--cert-digest-algo", "SHA1"]);
    // An RSA 1024 signing subkey; a DSA primary key.
    let small = ctx.key_created("small", t - 10 * DAY, "never");
    ctx.gpg(&[
        "--passphrase",
        "",
        "--quick-add-key",
        &small.fpr,
        "rsa1024",
        "sign",
        "2y",
    ]);
    let small_sub = ctx.newest_subkey(&small);
    let dsa = ctx.gen_key_full("dsa", "dsa2048", "never", None);
    for k in [&soon, &old, &gone, &moved, &legacy, &small, &dsa] {
        ctx.trust(k);
        humans.push(k.name.as_str());
    }
    // Two certificates in one file; a signer in no group.
    let rot1 = ctx.key("rotating");
    let rot2 = ctx.gen_key_full("rotating2", "ed25519", "never", None);
    ctx.trust_many("rotating", &[&rot1, &rot2]);
    humans.push("rotating");
    let lonely = ctx.key("lonely");
    ctx.trust(&lonely);
    policy(&ctx, &humans, &[]);

    let (code, report) = keys_json(&ctx);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["ok"], json!(false));
    assert_eq!(
        statuses(&report, "soon"),
        vec![status("expires-soon", &soon.fpr, &soon.fpr)]
    );
    assert_eq!(
        signer(&report, "soon")["statuses"][0]["date"],
        json!(iso(t - 10 * DAY + 20 * DAY))
    );
    assert_eq!(
        statuses(&report, "old"),
        vec![status("expired", &old.fpr, &old.fpr)]
    );
    assert_eq!(
        statuses(&report, "gone"),
        vec![(
            "revoked".into(),
            json!(gone.fpr),
            json!(gone.fpr),
            json!(true),
            json!("compromised")
        )]
    );
    assert_eq!(
        statuses(&report, "moved"),
        vec![(
            "revoked".into(),
            json!(moved.fpr),
            json!(moved.fpr),
            json!(false),
            json!("superseded")
        )]
    );
    assert_eq!(
        statuses(&report, "legacy"),
        vec![status("sha1-binding", &legacy.fpr, &legacy.fpr)]
    );
    assert_eq!(
        statuses(&report, "small"),
        vec![status("weak", &small.fpr, &small_sub)]
    );
    assert_eq!(
        statuses(&report, "dsa"),
        vec![status("weak", &dsa.fpr, &dsa.fpr)]
    );
    assert_eq!(
        statuses(&report, "rotating"),
        vec![(
            "several-certificates".into(),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null
        )]
    );
    assert_eq!(
        statuses(&report, "lonely"),
        vec![(
            "no-group".into(),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null
        )]
    );
    // The RSA 1024 subkey is listed, refused by the policy.
    let small_keys = &signer(&report, "small")["certificates"][0]["keys"];
    assert_eq!(small_keys[1]["fingerprint"], json!(small_sub));
    assert_eq!(small_keys[1]["algorithm"], json!("rsa1024"));
    assert_eq!(small_keys[1]["state"], json!("refused"));
    assert_eq!(
        signer(&report, "gone")["certificates"][0]["keys"][0]["revoked"],
        json!({"hard": true, "reason": "compromised"})
    );

    // For people: one block per signer, one line per status with its fix.
    let run = keys(&ctx, &[]);
    assert_eq!(run.code, 1);
    let file = |name: &str| ctx.keys.join(format!("{name}.asc")).display().to_string();
    let lines: Vec<&str> = run.stdout.lines().collect();
    for expected in [
        "soon: expires-soon".to_string(),
        format!(
            "  expired: old's certificate {fpr} expired at {at}: it signs nothing new, and its \
             earlier signatures still count; its holder extends it with gpg --quick-set-expire \
             {fpr} 2y and exports it again: gpg --armor --export {fpr} > {file}; or, if a new \
             certificate replaced it, remove it from {file}",
            fpr = old.fpr,
            at = iso(t - 30 * DAY),
            file = file("old"),
        ),
        format!(
            "  sha1-binding: legacy's certificate {fpr} is bound only by SHA-1 self-signatures, \
             accepted because they were made before 2023-02-01; its holder refreshes it with a \
             SHA-256 binding, gpg --cert-digest-algo SHA256 --quick-set-expire {fpr} 2y, and \
             exports it again: gpg --armor --export {fpr} > {file} (earlier signatures keep \
             counting)",
            fpr = legacy.fpr,
            file = file("legacy"),
        ),
        format!(
            "  weak: small's key {small_sub} (of certificate {fpr}) is rsa1024, which is weak: \
             sigtag's policy refuses it, so its signatures count for nothing; its holder adds an \
             ed25519 signing key (gpg --quick-add-key {fpr} ed25519 sign 2y), revokes \
             {small_sub} (gpg --edit-key {fpr}, key, revkey) and exports it again: gpg --armor \
             --export {fpr} > {file}",
            fpr = small.fpr,
            file = file("small"),
        ),
        format!(
            "  weak: dsa's certificate {fpr} is dsa2048, which is weak; its holder makes a new \
             certificate (gpg --quick-gen-key \"NAME <EMAIL>\" ed25519 sign 2y) and puts it \
             into {file} in place of {fpr}",
            fpr = dsa.fpr,
            file = file("dsa"),
        ),
        format!(
            "  several-certificates: rotating's file holds 2 certificates ({}, {}); keep in {} \
             only the certificate rotating signs with now; remove the others once no tag that \
             must still verify needs their signatures",
            rot1.fpr,
            rot2.fpr,
            file("rotating"),
        ),
        format!(
            "  no-group: lonely is in no group of policy.toml, so lonely's signatures count for \
             no rule; add lonely to a group under [groups] in policy.toml, or remove {}",
            file("lonely"),
        ),
        "9 of 9 signers need attention: dsa, gone, legacy, lonely, moved, old, rotating, small, soon"
            .to_string(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "no line {expected:?} in\n{}",
            run.stdout
        );
    }
    let revoked_line = lines
        .iter()
        .find(|l| l.starts_with("  revoked: gone's"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        revoked_line.starts_with(&format!(
            "  revoked: gone's certificate {} is revoked (compromised, \"revoked by the test\") at ",
            gone.fpr
        )) && revoked_line.contains(", a hard revocation: none of its signatures count, old ones too; put gone's new certificate into "),
        "{revoked_line}"
    );

    // The fix the SHA-1 status names works.
    ctx.gpg(&[
        "--passphrase",
        "",
        "--cert-digest-algo",
        "SHA256",
        "--quick-set-expire",
        &legacy.fpr,
        "2y",
    ]);
    ctx.trust(&legacy);
    let (_, report) = keys_json(&ctx);
    assert_eq!(statuses(&report, "legacy")[0].0, "usable", "{report}");
}

#[test]
fn the_directory_comes_from_sigtag_keys_else_dot_keys_and_must_be_readable() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    policy(&ctx, &["alice"], &[]);

    // SIGTAG_KEYS, without --keys.
    let mut cmd = ctx.sigtag_command(&["keys", "--json"]);
    cmd.env("SIGTAG_KEYS", &ctx.keys);
    let run = Ctx::run_cmd(cmd);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&alice.fpr));

    // ./keys by default (the test root holds keys/).
    let run = ctx.sigtag(&["keys"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("alice: usable\n  files: keys/alice.asc\n"),
        "{}",
        run.stdout
    );

    // A directory that cannot be read: exit 2.
    let missing = ctx.root.join("nowhere");
    ctx.sigtag(&["keys", "--keys", &Ctx::path_str(&missing)])
        .assert_error(&["keys directory", "nowhere", "not found"]);
    fs::write(ctx.keys.join("junk.txt"), "x").unwrap();
    keys(&ctx, &["--json"]).assert_error(&["junk.txt", "unexpected file"]);
}

#[test]
fn explain_marks_a_signer_in_no_group_without_a_tick() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    let bob = ctx.key("bob");
    let carol = ctx.key("carol");
    for k in [&alice, &bob, &carol] {
        ctx.trust(k);
    }
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\"]\n\n[environments.staging]\nrequire = \"2 of humans\"\n",
    );
    ctx.chain("v1", &[&alice, &carol]);
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "explain", "v1", "--env", "staging", "--keys", &keys, "--repo", &repo,
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let carol_line: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("signed by carol"))
        .collect();
    assert_eq!(carol_line.len(), 1, "{}", run.stdout);
    let line = carol_line[0];
    assert!(
        line.starts_with("    ~ signed by carol (no group) at "),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(
            " [{}]: counts for no rule; carol is in no group of policy.toml, add carol to one to count this signature",
            carol.fpr
        )),
        "{line}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("    + signed by alice (humans) at ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("verdict: no, needs 1 more of humans other than alice\n"),
        "{}",
        run.stdout
    );
    // The one-line verdict is unchanged.
    let r = ctx.verify_one("staging", "v1");
    assert_eq!(r.signers(), signers(&[("alice", 1), ("carol", 2)]));
}
