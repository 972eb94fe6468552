//! Attacks on the verifier core, each built with real git and gpg and
//! pinned to its exact verdict and reason (DESIGN §1 and §2): expired
//! signatures, objects too large to read, tagger dates no signature
//! vouches for, replace refs and grafts, text-mode signatures, copied
//! signatures with a rewritten date, and weak revocations.

// The resource harness includes the same git, gpg and process helpers.
#![allow(clippy::duplicate_mod)]

mod common;
mod resource_support;

use common::*;
use sequoia_openpgp as openpgp;
use std::fs;
use std::path::Path;
use std::process::Command;

/// humans = [alice, bob], both trusted; `alice` as given.
fn pair_with(ctx: &Ctx, alice: Key) -> (Key, Key) {
    let bob = ctx.key("bob");
    ctx.trust(&alice);
    ctx.trust(&bob);
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\"]\n\n\
         [environments.staging]\nrequire = \"2 of humans\"\n",
    );
    (alice, bob)
}

fn pair(ctx: &Ctx) -> (Key, Key) {
    let alice = ctx.key("alice");
    pair_with(ctx, alice)
}

fn bad_signature(key: &Key) -> String {
    format!(
        "bad signature by {} ({}): the layer was altered after it was signed",
        key.name, key.fpr
    )
}

fn date_mismatch(signer: &str, dated: i64, signed: i64) -> String {
    format!(
        "the layer is dated {} but {signer}'s signature was made at {}: a signature comes at \
         most 5 minutes before its layer's date and at most 1 hour after it",
        iso(dated),
        iso(signed)
    )
}

/// The time of the one signature in `armored`, as gpg reads it.
fn signature_time(ctx: &Ctx, armored: &[u8]) -> i64 {
    let file = ctx.root.join("sig-to-read.asc");
    fs::write(&file, armored).unwrap();
    let out = ctx.gpg(&["--list-packets", file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out).into_owned();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("version 4, created "))
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| panic!("no signature time in {text}"))
}

/// The object id the outer layer of `name` points at.
/// alice's layer v1 on HEAD, made by git with gpg given `gpg_args` and
/// dated `date` (None: when gpg signs).
fn alice_signs_v1(ctx: &Ctx, alice: &Key, sig: &Sig, date: Option<i64>, gpg_args: &[&str]) {
    ctx.git_tag_s_with(
        alice,
        &["-m", "v1 signed by alice", "v1", "HEAD"],
        sig,
        date,
        gpg_args,
    );
}

/// v1 is rejected because alice's layer, dated `dated`, was signed at
/// another time.
fn assert_refused_for_its_date(ctx: &Ctx, dated: i64) {
    let signed = signature_time(ctx, &armored_block(&ctx.tag_object(&inner(ctx, "v1"))));
    ctx.verify_one("staging", "v1")
        .assert_rejected(&date_mismatch("alice", dated, signed));
}

fn inner(ctx: &Ctx, name: &str) -> String {
    let outer = ctx.cat_tag(name);
    outer
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("object "))
        .expect("object header")
        .to_string()
}

fn armored_block(obj: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(obj.to_vec()).unwrap();
    let at = text
        .find("-----BEGIN PGP SIGNATURE-----")
        .expect("signed layer");
    text.as_bytes()[at..].to_vec()
}

// ------------------------------------------------------------ 1. expiry

#[test]
fn a_signature_past_its_expiration_time_counts_nothing() {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "never");
    let (alice, bob) = pair_with(&ctx, alice);
    // Made three days ago to expire a day later (so two days ago).
    let made = t0 - 3 * DAY;
    alice_signs_v1(
        &ctx,
        &alice,
        &Sig::at(made),
        None,
        &["--default-sig-expire", "1d"],
    );
    ctx.cosign(&bob, "v1", &Sig::default());
    let block = armored_block(&ctx.tag_object(&inner(&ctx, "v1")));
    assert!(!block.is_empty());

    let r = ctx.verify_one("staging", "v1");
    assert!(!r.satisfied(), "{}", r.0);
    assert_eq!(r.rejected(), None);
    assert_eq!(r.missing().as_deref(), Some("1 of humans"));
    assert_eq!(r.signers(), signers(&[("bob", 2)]));
    let reason = format!("signature by alice expired at {}", iso(made + DAY));
    assert_eq!(r.problems(), problems(&[(Some(1), &reason)]));

    // One that has not expired yet still counts.
    ctx.git_tag_s_with(
        &alice,
        &["-m", "v2 signed by alice", "v2", "HEAD"],
        &Sig::default(),
        None,
        &["--default-sig-expire", "1d"],
    );
    ctx.cosign(&bob, "v2", &Sig::default());
    ctx.verify_one("staging", "v2")
        .assert_clean(&[("alice", 1), ("bob", 2)]);
}

// ------------------------------------------------------------ 2. memory

const MAX_RSS_KIB: u64 = 100 * 1024;

/// In `repo` (bare or not): a 1 GiB blob of zeros, a lightweight tag on it,
/// an annotated tag on it, and a tag whose only layer is 200 MiB.
fn huge_objects(repo: &Path, head: &str) {
    let sh = |script: &str| {
        let out = Command::new("sh")
            .args(["-c", script])
            .current_dir(repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let blob = sh("head -c 1073741824 /dev/zero | git hash-object -w --stdin");
    sh(&format!("git update-ref refs/tags/big-light {blob}"));
    sh(&format!(
        "git -c user.name=T -c user.email=t@example.org tag -a -m big big-annotated {blob}"
    ));
    let mut layer = format!(
        "object {head}\ntype commit\ntag big-layer\ntagger T <t@example.org> {} +0000\n\n",
        now()
    )
    .into_bytes();
    let line = [b'a'; 99];
    for _ in 0..(200 << 20) / 100 {
        layer.extend_from_slice(&line);
        layer.push(b'\n');
    }
    let file = repo.join("big-layer.txt");
    fs::write(&file, &layer).unwrap();
    let oid = sh("git hash-object -t tag --literally -w --stdin < big-layer.txt");
    fs::remove_file(&file).unwrap();
    sh(&format!("git update-ref refs/tags/big-layer {oid}"));
}

const BIG_REASONS: [(&str, &str); 3] = [
    ("big-annotated", "the chain ends at a blob, not at a commit"),
    ("big-layer", "malformed tag object: larger than 1 MiB"),
    (
        "big-light",
        "lightweight tag: it points at a blob, not at a signed tag object",
    ),
];

#[test]
fn huge_objects_are_refused_without_being_read() {
    let w = resource_support::World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let good = w.release(
        "v1",
        "app.txt",
        "one\n",
        "one",
        &[&a, &b],
        resource_support::now() - 100,
    );
    huge_objects(&w.remote, &good);

    // sigtag list on the repository itself.
    let keys = w.root.join("keys");
    fs::create_dir(&keys).unwrap();
    fs::write(keys.join("alice.asc"), w.cert(&a)).unwrap();
    fs::write(keys.join("bob.asc"), w.cert(&b)).unwrap();
    fs::write(
        keys.join("policy.toml"),
        "[groups]\nhumans = [\"alice\", \"bob\"]\n[environments.staging]\nrequire = \"2 of humans\"\n",
    )
    .unwrap();
    let mut list = Command::new(env!("CARGO_BIN_EXE_sigtag"));
    list.args(["list", "--env", "staging", "--json", "--keys"])
        .arg(&keys)
        .arg("--repo")
        .arg(&w.remote)
        .env("GNUPGHOME", w.root.join("no-gnupg-home"))
        .env("LC_ALL", "C");
    let (out, kib) = process::peak_rss(&list, None, false);
    eprintln!("sigtag list: peak RSS {kib} KiB");
    let run = Run::from_output(out);
    ok(&run);
    let reports = run.json();
    let mut seen: Vec<(String, Option<String>)> =
        reports.iter().map(|r| (r.tag(), r.rejected())).collect();
    seen.sort();
    let mut expected: Vec<(String, Option<String>)> = BIG_REASONS
        .iter()
        .map(|(t, r)| (t.to_string(), Some(r.to_string())))
        .collect();
    expected.push(("v1".into(), None));
    assert_eq!(seen, expected, "{}", run.stdout);
    assert!(
        kib < MAX_RSS_KIB,
        "sigtag list peaked at {kib} KiB (limit {MAX_RSS_KIB})"
    );

    // The resource's check over file://.
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let req = serde_json::json!({ "source": source }).to_string();
    let cmd = w.command(resource_support::Bin::Check, None);
    let (out, kib) = process::peak_rss(&cmd, Some(req.as_bytes()), true);
    eprintln!("check: peak RSS {kib} KiB");
    let run = Run::from_output(out);
    assert_eq!(run.code, 0, "check: {}\n{}", run.stdout, run.stderr);
    let versions: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        versions,
        serde_json::json!([{"tag": "v1", "commit": good}]),
        "{}",
        run.stderr
    );
    for (tag, reason) in BIG_REASONS {
        // check counts a lightweight tag among the tags that are no chain.
        let line = if tag == "big-light" {
            format!("1 tag is not a sigtag chain (lightweight or unsigned): {tag}; it is never returned")
        } else {
            format!("skipping {tag}: rejected: {reason}")
        };
        assert!(run.stderr.contains(&line), "{line:?} in {}", run.stderr);
    }
    assert!(
        kib < MAX_RSS_KIB,
        "check peaked at {kib} KiB (limit {MAX_RSS_KIB})"
    );
}

// ------------------------------------------------------------ 3. dates

#[test]
fn a_layer_dated_2099_and_signed_now_is_refused() {
    let ctx = Ctx::new();
    let (alice, _) = pair(&ctx);
    let dated = 4_070_908_800; // 2099-01-01
    ctx.git_tag_s_with(
        &alice,
        &["-m", "v9 signed by alice", "v9", "HEAD"],
        &Sig::default(),
        Some(dated),
        &[],
    );
    let signed = signature_time(&ctx, &armored_block(&ctx.tag_object("v9")));
    ctx.verify_one("staging", "v9")
        .assert_rejected(&date_mismatch("alice", dated, signed));
}

#[test]
fn a_layer_dated_two_days_back_is_refused() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    let dated = now() - 2 * DAY;
    alice_signs_v1(&ctx, &alice, &Sig::default(), Some(dated), &[]);
    ctx.cosign(&bob, "v1", &Sig::default());
    assert_refused_for_its_date(&ctx, dated);
}

#[test]
fn a_signature_half_an_hour_after_its_date_is_accepted() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    alice_signs_v1(&ctx, &alice, &Sig::default(), Some(now() - 30 * 60), &[]);
    ctx.cosign(&bob, "v1", &Sig::default());
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1), ("bob", 2)]);
}

#[test]
fn a_signature_two_hours_after_its_date_is_refused() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    let dated = now() - 2 * 3600;
    alice_signs_v1(&ctx, &alice, &Sig::default(), Some(dated), &[]);
    ctx.cosign(&bob, "v1", &Sig::default());
    assert_refused_for_its_date(&ctx, dated);
}

#[test]
fn an_unsigned_inner_layer_dated_after_its_signers_is_refused() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    // An unsigned first layer dated 2099 would make the tag the newest.
    let dated = 4_070_908_800;
    ctx.git_tag_a_dated(&["-m", "v1", "v1", "HEAD"], dated);
    ctx.cosign(&alice, "v1", &Sig::default());
    ctx.cosign(&bob, "v1", &Sig::default());
    let outer = ctx.cat_tag(&inner(&ctx, "v1"));
    let alice_date: i64 = outer
        .lines()
        .find_map(|l| l.strip_prefix("tagger "))
        .and_then(|l| l.split_whitespace().rev().nth(1))
        .and_then(|t| t.parse().ok())
        .expect("tagger date");
    let reason = format!(
        "the layer is dated {}, more than 5 minutes before the layer below it ({})",
        iso(alice_date),
        iso(dated)
    );
    let r = ctx.verify_one("staging", "v1");
    r.assert_rejected(&reason);
    assert!(r.problems().contains(&(Some(2), reason.clone())), "{}", r.0);
}

// ------------------------------------------------------------ 4. replace refs

fn replaced(object: &str, by: &str) -> String {
    format!(
        "refs/replace/{object} replaces {object} of the chain with {by}: git would use other \
         content than was signed"
    )
}

/// A good v1 by alice and bob, and another commit `evil` not on any tag.
fn signed_and_evil(ctx: &Ctx) -> (String, String) {
    let (alice, bob) = pair(ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let signed = ctx.head();
    fs::write(ctx.repo.join("README"), "evil\n").unwrap();
    ctx.git(&["commit", "-q", "-am", "evil"]);
    let evil = ctx.head();
    (signed, evil)
}

#[test]
fn a_replaced_commit_is_refused() {
    let ctx = Ctx::new();
    let (signed, evil) = signed_and_evil(&ctx);
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1), ("bob", 2)]);
    ctx.git(&["replace", &signed, &evil]);
    // git now sees the other commit's content behind the tag.
    assert_eq!(ctx.git(&["show", "v1:README"]), "evil");
    let r = ctx.verify_one("staging", "v1");
    r.assert_rejected(&replaced(&signed, &evil));
    assert_eq!(r.commit(), Some(signed));
}

#[test]
fn a_replaced_file_in_the_signed_tree_is_refused() {
    let ctx = Ctx::new();
    let (signed, evil) = signed_and_evil(&ctx);
    let blob = ctx.rev_parse(&format!("{signed}:README"));
    let evil_blob = ctx.rev_parse(&format!("{evil}:README"));
    ctx.git(&["replace", &blob, &evil_blob]);
    ctx.verify_one("staging", "v1")
        .assert_rejected(&replaced(&blob, &evil_blob));
}

#[test]
fn a_replaced_layer_is_refused() {
    let ctx = Ctx::new();
    let (_, _) = signed_and_evil(&ctx);
    let inner = inner(&ctx, "v1");
    ctx.git(&["tag", "-a", "-m", "other", "other", "HEAD"]);
    let other = ctx.rev_parse("refs/tags/other");
    ctx.git(&["replace", "-f", &inner, &other]);
    ctx.verify_one("staging", "v1")
        .assert_rejected(&replaced(&inner, &other));
}

#[test]
fn a_graft_changes_neither_the_verdict_nor_the_commit() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let signed = ctx.head();
    let root = ctx.rev_parse("HEAD~1");
    // The merge commit now claims a single, other parent.
    let grafts = ctx.repo.join(".git/info/grafts");
    fs::create_dir_all(grafts.parent().unwrap()).unwrap();
    fs::write(&grafts, format!("{signed} {root}\n")).unwrap();
    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2)]);
    assert_eq!(r.commit(), Some(signed));
}

#[test]
fn a_shallow_clone_verifies() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let url = format!("file://{}", ctx.repo.display());
    ctx.git_in(&ctx.root, &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let shallow = ctx.root.join("shallow");
    assert!(shallow.join(".git/shallow").exists(), "a shallow clone");
    let (_, reports) = ctx.verify_in(&shallow, "staging", &["v1"]);
    reports[0].assert_clean(&[("alice", 1), ("bob", 2)]);
    assert_eq!(reports[0].commit(), Some(ctx.head()));
}

#[test]
fn in_delivers_the_signed_tree_whatever_the_origin_replaces() {
    let w = resource_support::World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let signed = w.release(
        "v1",
        "app.txt",
        "signed\n",
        "signed",
        &[&a, &b],
        resource_support::now() - 100,
    );
    let evil = w.commit("app.txt", "evil\n", "evil");
    w.srv(&["replace", &signed, &evil]);
    assert_eq!(
        w.srv(&["show", "v1:app.txt"]),
        "evil",
        "git on the origin sees the replacement"
    );
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let dest = w.fresh_dir("get");
    let run = w.get(&source, "v1", &signed, &dest);
    assert_eq!(run.code, 0, "in: {}\n{}", run.stdout, run.stderr);
    assert_eq!(
        fs::read_to_string(dest.join("app.txt")).unwrap(),
        "signed\n"
    );
}

// ------------------------------------------------------------ 5. text mode

#[test]
fn a_text_mode_signature_made_through_git_is_accepted() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    alice_signs_v1(&ctx, &alice, &Sig::default(), None, &["--textmode"]);
    ctx.cosign(&bob, "v1", &Sig::default());
    let inner = inner(&ctx, "v1");
    // A text signature (class 0x01), and git is content with it.
    let block = armored_block(&ctx.tag_object(&inner));
    let file = ctx.root.join("text.asc");
    fs::write(&file, &block).unwrap();
    let packets = String::from_utf8(ctx.gpg(&["--list-packets", file.to_str().unwrap()])).unwrap();
    assert!(packets.contains("sigclass 0x01"), "{packets}");
    assert!(ctx
        .git_output(&ctx.repo, &["verify-tag", &inner])
        .status
        .success());
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1), ("bob", 2)]);
}

#[test]
fn a_text_mode_signature_over_altered_bytes_is_bad() {
    let ctx = Ctx::new();
    let (alice, bob) = pair(&ctx);
    alice_signs_v1(&ctx, &alice, &Sig::default(), None, &["--textmode"]);
    let obj = String::from_utf8(ctx.tag_object("v1")).unwrap();
    let evil = obj.replace("v1 signed by alice", "v1 signed by alice, hotfix");
    let oid = ctx.write_tag_object(evil.as_bytes(), false);
    ctx.set_tag_ref("v1", &oid);
    ctx.cosign(&bob, "v1", &Sig::default());
    ctx.verify_one("staging", "v1")
        .assert_rejected(&bad_signature(&alice));
}

// ------------------------------------------------------------ 6. math first

#[test]
fn a_copied_signature_redated_before_its_key_is_bad() {
    use openpgp::packet::signature::subpacket::{Subpacket, SubpacketValue};
    use openpgp::packet::Signature;
    use openpgp::parse::Parse;
    use openpgp::serialize::Serialize;

    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 2 * DAY, "never");
    let (alice, bob) = pair_with(&ctx, alice);
    ctx.chain("v1", &[&alice]);
    let obj = ctx.tag_object("v1");
    let block = armored_block(&obj);
    let payload = &obj[..obj.len() - block.len()];

    // The same signature, its creation time rewritten to before the key
    // existed (the hash no longer matches), armored again.
    let pile = openpgp::PacketPile::from_bytes(&block).unwrap();
    let Some(openpgp::Packet::Signature(mut sig)) = pile.into_children().next() else {
        panic!("one signature packet")
    };
    let before = t0 - 5 * DAY;
    let Signature::V4(s4) = &mut sig else {
        panic!("gpg makes v4 signatures")
    };
    s4.hashed_area_mut()
        .replace(
            Subpacket::new(
                SubpacketValue::SignatureCreationTime(
                    openpgp::types::Timestamp::try_from(
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(before as u64),
                    )
                    .unwrap(),
                ),
                false,
            )
            .unwrap(),
        )
        .unwrap();
    let mut armored = Vec::new();
    {
        let mut w =
            openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::Signature).unwrap();
        openpgp::Packet::from(sig).serialize(&mut w).unwrap();
        w.finalize().unwrap();
    }
    assert_eq!(signature_time(&ctx, &armored), before);
    // The layer keeps its date: only the signature was touched.
    let mut forged = payload.to_vec();
    forged.extend_from_slice(&armored);
    let oid = ctx.write_tag_object(&forged, false);
    ctx.set_tag_ref("v1", &oid);
    ctx.cosign(&bob, "v1", &Sig::default());
    assert!(!ctx
        .git_output(&ctx.repo, &["verify-tag", &inner(&ctx, "v1")])
        .status
        .success());

    ctx.verify_one("staging", "v1")
        .assert_rejected(&bad_signature(&alice));
}

// ------------------------------------------------------------ 7. revocations

#[test]
fn a_sha1_compromise_revocation_is_honoured() {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "never");
    let (alice, bob) = pair_with(&ctx, alice);
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(t0 - 2 * DAY));
    ctx.cosign(&bob, "v1", &Sig::default());
    assert!(ctx.verify_one("staging", "v1").satisfied());

    let rev = ctx.revocation_with(&alice, Revocation::Compromised, "--cert-digest-algo SHA1");
    let packets = String::from_utf8(ctx.gpg(&["--list-packets", rev.to_str().unwrap()])).unwrap();
    assert!(
        packets.contains("sigclass 0x20") && packets.contains("digest algo 2,"),
        "a SHA-1 key revocation: {packets}"
    );
    ctx.import(&rev);
    ctx.trust(&alice);

    let r = ctx.verify_one("staging", "v1");
    assert!(!r.satisfied(), "{}", r.0);
    assert_eq!(r.rejected(), None);
    assert_eq!(r.signers(), signers(&[("bob", 2)]));
    assert_eq!(
        r.problems(),
        problems(&[(
            Some(1),
            "alice's certificate is revoked as compromised, so none of its signatures count"
        )])
    );
}
