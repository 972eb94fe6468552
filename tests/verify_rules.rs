//! One test per verification rule (DESIGN §1 and §2): each builds the
//! hostile case with real git and gpg and pins the verdict and the reason.

mod common;

use common::*;

/// bob and staging (fresh ed25519 keys) next to the given alice, all three
/// trusted; humans = [alice, bob], pipelines = [staging].
fn team_with(ctx: &Ctx, alice: Key) -> (Key, Key, Key) {
    let bob = ctx.key("bob");
    let staging = ctx.key("staging");
    for k in [&alice, &bob, &staging] {
        ctx.trust(k);
    }
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    (alice, bob, staging)
}

fn team(ctx: &Ctx) -> (Key, Key, Key) {
    let alice = ctx.key("alice");
    team_with(ctx, alice)
}

/// A layer written as a raw object: `payload` signed by `keys` with
/// `gpg --detach-sign --armor`, stored with `git hash-object`.
fn raw_layer(ctx: &Ctx, payload: &str, keys: &[&Key], literally: bool) -> String {
    let obj = ctx.signed_object(payload, keys, &Sig::default());
    ctx.write_tag_object(obj.as_bytes(), literally)
}

/// A well-formed layer by `key` on top of `inner` (a tag object).
fn raw_outer_layer(ctx: &Ctx, key: &Key, inner: &str, name: &str) -> String {
    let payload = Ctx::payload(
        inner,
        "tag",
        name,
        &format!("{name} co-signed by {}", key.name),
    );
    raw_layer(ctx, &payload, &[key], false)
}

/// The object id the outer layer of `name` points at.
fn inner_layer(ctx: &Ctx, name: &str) -> String {
    let outer = ctx.cat_tag(name);
    let line = outer.lines().next().expect("object line");
    line.strip_prefix("object ")
        .expect("object header")
        .to_string()
}

/// A rejected tag may still list the signatures it found; each one listed
/// must be one of `allowed` (right name at the right layer).
fn assert_signers_within(r: &Report, allowed: &[(&str, u64)]) {
    let allowed = signers(allowed);
    for s in r.signers() {
        assert!(
            allowed.contains(&s),
            "signer {s:?} is not one of {allowed:?}: {}",
            r.0
        );
    }
}

/// Not satisfied and not rejected: `missing` is still needed.
fn assert_short_of(r: &Report, missing: &str) {
    assert!(!r.satisfied());
    assert_eq!(r.rejected(), None);
    assert_eq!(r.missing().as_deref(), Some(missing));
}

fn is_iso_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn two_humans_signing_with_git_satisfy_staging() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1.4.0", &[&alice, &bob]);
    assert_eq!(ctx.git(&["cat-file", "-t", "v1.4.0"]), "tag");

    let r = ctx.verify_one("staging", "v1.4.0");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.rejected(), None);
    assert_eq!(r.missing(), None);
    assert_eq!(r.commit(), Some(ctx.head()));
    assert_eq!(r.0["rule"].as_str(), Some("2 of humans"));
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));
    assert_eq!(r.problems(), problems(&[]));
    let entries = r.signer_entries();
    for (entry, key) in entries.iter().zip([&alice, &bob]) {
        assert_eq!(
            entry["fingerprint"].as_str(),
            Some(key.fpr.as_str()),
            "{entry}"
        );
        assert_eq!(entry["groups"], serde_json::json!(["humans"]), "{entry}");
        let created = entry["created"].as_str().expect("created");
        assert!(is_iso_utc(created), "created is RFC 3339 UTC: {created}");
        let t = chrono::DateTime::parse_from_rfc3339(created)
            .unwrap()
            .timestamp();
        assert!((t - now()).abs() < 600, "created {created} is about now");
    }
}

#[test]
fn lightweight_tag_is_rejected() {
    let ctx = Ctx::new();
    team(&ctx);
    ctx.git(&["tag", "v1", "HEAD"]);
    let reason = "lightweight tag: it points at a commit, not at a signed tag object";
    let r = ctx.verify_one("staging", "v1");
    r.assert_rejected(reason);
    assert_eq!(r.problems(), problems(&[(None, reason)]));
    assert_eq!(r.signers(), signers(&[]));
}

#[test]
fn lightweight_tag_on_a_tree_is_rejected() {
    let ctx = Ctx::new();
    team(&ctx);
    let tree = ctx.rev_parse("HEAD^{tree}");
    ctx.set_tag_ref("v1", &tree);
    let reason = "lightweight tag: it points at a tree, not at a signed tag object";
    let r = ctx.verify_one("staging", "v1");
    r.assert_rejected(reason);
    assert_eq!(r.problems(), problems(&[(None, reason)]));
}

#[test]
fn signed_tag_pushed_under_another_name_is_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("test-1", &[&alice, &bob]);
    // The same objects, validly signed, now under a release name.
    let oid = ctx.rev_parse("refs/tags/test-1");
    ctx.set_tag_ref("v9.9.9", &oid);

    let (code, reports) = ctx.verify("staging", &["test-1", "v9.9.9"]);
    assert_eq!(code, 1);
    assert!(
        reports[0].satisfied(),
        "the original is fine: {}",
        reports[0].0
    );
    reports[1].assert_rejected(r#"layer is named "test-1", not "v9.9.9""#);
    assert_signers_within(&reports[1], &[("alice", 1), ("bob", 2)]);
}

#[test]
fn inner_layer_with_another_name_is_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.sign(&alice, "test-1", "HEAD", &Sig::default());
    // bob wraps alice's test-1 layer into a v9.9.9 layer.
    ctx.git_tag_s(
        &ctx.repo,
        &bob,
        &["-m", "v9.9.9 co-signed by bob", "v9.9.9", "test-1"],
        &Sig::default(),
    );
    let reason = r#"layer is named "test-1", not "v9.9.9""#;
    let r = ctx.verify_one("staging", "v9.9.9");
    r.assert_rejected(reason);
    assert!(
        r.problems().contains(&(Some(1), reason.to_string())),
        "{}",
        r.0
    );
}

#[test]
fn chain_ending_at_a_tree_or_blob_is_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.sign(&alice, "v-tree", "HEAD^{tree}", &Sig::default());
    ctx.cosign(&bob, "v-tree", &Sig::default());
    ctx.sign(&alice, "v-blob", "HEAD:README", &Sig::default());
    ctx.cosign(&bob, "v-blob", &Sig::default());

    let (code, reports) = ctx.verify("staging", &["v-tree", "v-blob"]);
    assert_eq!(code, 1);
    reports[0].assert_rejected("the chain ends at a tree, not at a commit");
    reports[1].assert_rejected("the chain ends at a blob, not at a commit");
}

fn alternating_chain(ctx: &Ctx, name: &str, layers: usize, alice: &Key, bob: &Key) {
    ctx.sign(alice, name, "HEAD", &Sig::default());
    for i in 1..layers {
        let k = if i % 2 == 0 { alice } else { bob };
        ctx.cosign(k, name, &Sig::default());
    }
}

#[test]
fn thirty_two_layers_are_accepted() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    alternating_chain(&ctx, "v1", 32, &alice, &bob);
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    let expected: Vec<(String, u64)> = (1..=32u64)
        .map(|l| (if l % 2 == 1 { "alice" } else { "bob" }.to_string(), l))
        .collect();
    assert_eq!(r.signers_sorted(), expected);
    assert_eq!(r.problems(), problems(&[]));
}

#[test]
fn thirty_three_layers_are_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    alternating_chain(&ctx, "v1", 33, &alice, &bob);
    // git itself peels all of them.
    assert_eq!(ctx.rev_parse("v1^{commit}"), ctx.head());
    let r = ctx.verify_one("staging", "v1");
    r.assert_rejected("more than 32 layers");
    // Whatever is listed must be numbered from the commit up.
    let all: Vec<(&str, u64)> = (1..=33u64)
        .map(|l| (if l % 2 == 1 { "alice" } else { "bob" }, l))
        .collect();
    assert_signers_within(&r, &all);
}

/// A malformed but validly signed (by alice) inner layer under a good bob
/// layer: only the strict parse can reject it.
fn malformed_inner(ctx: &Ctx, alice: &Key, bob: &Key, payload: &str) -> String {
    let inner = raw_layer(ctx, payload, &[alice], true);
    let outer = raw_outer_layer(ctx, bob, &inner, "v1");
    ctx.set_tag_ref("v1", &outer);
    inner
}

fn tagger_line() -> String {
    format!("tagger Test Tagger <tagger@example.org> {} +0000", now())
}

/// v1's inner layer (signed by alice, under bob's good layer) is the
/// payload `make(HEAD, tagger line)`; v1 must be rejected with `reason`.
fn malformed_inner_is_rejected(make: impl Fn(&str, &str) -> String, reason: &str) {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    let payload = make(&ctx.head(), &tagger_line());
    malformed_inner(&ctx, &alice, &bob, &payload);
    ctx.verify_one("staging", "v1").assert_rejected(reason);
}

#[test]
fn duplicate_header_is_rejected() {
    malformed_inner_is_rejected(
        |head, t| format!("object {head}\ntype commit\ntag v1\n{t}\n{t}\n\nrelease\n"),
        r#"malformed tag object: duplicate "tagger" header"#,
    );
}

#[test]
fn header_out_of_order_is_rejected() {
    // "tag" before "type".
    malformed_inner_is_rejected(
        |head, t| format!("object {head}\ntag v1\ntype commit\n{t}\n\nrelease\n"),
        r#"malformed tag object: header "tag" out of order"#,
    );
}

#[test]
fn unexpected_header_is_rejected() {
    malformed_inner_is_rejected(
        |head, t| format!("object {head}\ntype commit\ntag v1\n{t}\nfoo bar\n\nrelease\n"),
        r#"malformed tag object: unexpected header "foo""#,
    );
}

#[test]
fn missing_tagger_is_rejected() {
    malformed_inner_is_rejected(
        |head, _| format!("object {head}\ntype commit\ntag v1\n\nrelease\n"),
        r#"malformed tag object: missing "tagger" header"#,
    );
}

#[test]
fn signature_block_without_end_line_is_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    let payload = Ctx::payload(&ctx.head(), "commit", "v1", "release");
    let full = ctx.signed_object(&payload, &[&alice], &Sig::default());
    let cut = full.replace("-----END PGP SIGNATURE-----\n", "");
    assert_ne!(cut, full);
    let inner = ctx.write_tag_object(cut.as_bytes(), true);
    let outer = raw_outer_layer(&ctx, &bob, &inner, "v1");
    ctx.set_tag_ref("v1", &outer);
    ctx.verify_one("staging", "v1")
        .assert_rejected("malformed tag object: signature block has no end line");
}

#[test]
fn layer_larger_than_one_mib_is_rejected() {
    let big = "0123456789abcdef".repeat(70 * 1024); // 1.09 MiB
    malformed_inner_is_rejected(
        |head, _| Ctx::payload(head, "commit", "v1", &big),
        "malformed tag object: larger than 1 MiB",
    );
}

#[test]
fn text_after_the_signature_block_is_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let mut obj = ctx.tag_object("v1");
    obj.extend_from_slice(b"Approved for production by the security team.\n");
    let oid = ctx.write_tag_object(&obj, true);
    ctx.set_tag_ref("v1", &oid);
    // git is content with it: the appended text is outside the signature.
    let gv = ctx.git_output(&ctx.repo, &["verify-tag", "v1"]);
    assert!(gv.status.success(), "git verify-tag accepts appended text");

    ctx.verify_one("staging", "v1")
        .assert_rejected("text after the signature block");
}

#[test]
fn two_armored_blocks_in_one_layer_are_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    // A real signature block inside the message, then git's own.
    let decoy = ctx.detach_sign(b"something else\n", &[&alice], &Sig::default());
    let msg = format!("release v1\n\n{}", decoy.trim_end());
    ctx.git_tag_s(
        &ctx.repo,
        &alice,
        &["-m", &msg, "v1", "HEAD"],
        &Sig::default(),
    );
    ctx.cosign(&bob, "v1", &Sig::default());
    assert_eq!(
        ctx.cat_tag("v1").matches("-----BEGIN ").count(),
        1,
        "outer layer has one block"
    );
    ctx.verify_one("staging", "v1")
        .assert_rejected("more than one armored block in one layer");
}

#[test]
fn tampered_layer_is_rejected_with_bad_signature() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let obj = String::from_utf8(ctx.tag_object("v1")).unwrap();
    let evil = obj.replace(
        "v1 co-signed by bob",
        "v1 co-signed by bob, hotfix included",
    );
    assert_ne!(obj, evil);
    let oid = ctx.write_tag_object(evil.as_bytes(), false);
    ctx.set_tag_ref("v1", &oid);
    let gv = ctx.git_output(&ctx.repo, &["verify-tag", "v1"]);
    assert!(
        !gv.status.success(),
        "git verify-tag sees the bad signature too"
    );

    let r = ctx.verify_one("staging", "v1");
    r.assert_rejected(&format!(
        "bad signature by bob ({}): the layer was altered after it was signed",
        bob.fpr
    ));
}

#[test]
fn unsigned_layer_on_top_counts_nothing_but_does_not_reject() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    ctx.git(&["tag", "-a", "-f", "-m", "just a note", "v1", "v1"]);
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.rejected(), None);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));
    assert_eq!(r.problems(), problems(&[(Some(3), "no signature")]));
}

#[test]
fn unsigned_layer_does_not_count() {
    let ctx = Ctx::new();
    let (alice, _, _) = team(&ctx);
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    ctx.git(&["tag", "-a", "-f", "-m", "bob was here", "v1", "v1"]);
    let r = ctx.verify_one("staging", "v1");
    assert_short_of(&r, "1 of humans");
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    assert_eq!(r.problems(), problems(&[(Some(2), "no signature")]));
}

#[test]
fn signature_by_unknown_key_is_reported_not_rejected() {
    let ctx = Ctx::new();
    let (alice, _, _) = team(&ctx);
    let mallory = ctx.key("mallory");
    ctx.chain("v1", &[&alice, &mallory]);
    let r = ctx.verify_one("staging", "v1");
    assert_short_of(&r, "1 of humans");
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    let reason = format!("signed by a key nobody trusts: {}", mallory.fpr);
    assert_eq!(r.problems(), problems(&[(Some(2), &reason)]));
}

#[test]
fn same_person_twice_counts_once() {
    let ctx = Ctx::new();
    let (alice, _, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &alice]);
    let r = ctx.verify_one("staging", "v1");
    assert_short_of(&r, "1 of humans");
    assert_eq!(r.signers(), signers(&[("alice", 1), ("alice", 2)]));
    assert_eq!(r.problems(), problems(&[]));
}

#[test]
fn expired_key_counts_before_expiry_only() {
    let ctx = Ctx::new();
    let t0 = now();
    // Created ten days ago, expired eight days ago.
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "2d");
    let (alice, bob, _) = team_with(&ctx, alice); // keys/alice.asc keeps the expiry
    let before = t0 - 9 * DAY;
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(before));
    // gpg will not sign with an expired key: lift the expiry in a copy.
    let lifted = ctx.copy_home();
    ctx.gpg_home(&lifted, &["--quick-set-expire", &alice.fpr, "0"]);
    ctx.cosign(&alice, "v1", &Sig::default().in_home(&lifted));
    ctx.cosign(&bob, "v1", &Sig::default());

    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "alice's first signature counts: {}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 3)]));
    assert_eq!(
        r.signer_entries()[0]["created"].as_str(),
        Some(iso(before).as_str())
    );
    let reason = format!(
        "alice's key {} had expired when the signature was made",
        alice.fpr
    );
    assert_eq!(r.problems(), problems(&[(Some(2), &reason)]));

    // Without bob, only the good old signature remains.
    ctx.sign(&alice, "v2", "HEAD", &Sig::default().in_home(&lifted));
    let r = ctx.verify_one("staging", "v2");
    assert!(!r.satisfied());
    assert_eq!(r.signers(), signers(&[]));
    assert_eq!(r.missing().as_deref(), Some("2 of humans"));
    assert_eq!(r.problems(), problems(&[(Some(1), &reason)]));
}

#[test]
fn signature_older_than_the_key_does_not_count() {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 2 * DAY, "never");
    let (alice, bob, _) = team_with(&ctx, alice);
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(t0 - 5 * DAY));
    ctx.cosign(&bob, "v1", &Sig::default());
    let r = ctx.verify_one("staging", "v1");
    assert!(!r.satisfied());
    assert_eq!(r.signers(), signers(&[("bob", 2)]));
    let reason = format!(
        "alice's key {} did not exist yet when the signature was made",
        alice.fpr
    );
    assert_eq!(r.problems(), problems(&[(Some(1), &reason)]));
}

fn hard_revocation(reason: Revocation) {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "never");
    let (alice, bob, _) = team_with(&ctx, alice);
    // An old, good signature ...
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(t0 - 2 * DAY));
    ctx.cosign(&bob, "v1", &Sig::default());
    let before = ctx.verify_one("staging", "v1");
    assert!(before.satisfied(), "{}", before.0);
    // ... tainted by a later hard revocation.
    let rev = ctx.revocation(&alice, reason, None);
    ctx.import(&rev);
    ctx.trust(&alice);

    let r = ctx.verify_one("staging", "v1");
    assert_short_of(&r, "1 of humans");
    assert_eq!(r.signers(), signers(&[("bob", 2)]));
    assert_eq!(
        r.problems(),
        problems(&[(
            Some(1),
            "alice's certificate is revoked as compromised, so none of its signatures count"
        )])
    );
}

#[test]
fn compromised_key_taints_old_signatures() {
    hard_revocation(Revocation::Compromised);
}

#[test]
fn revocation_without_reason_taints_old_signatures() {
    hard_revocation(Revocation::Unspecified);
}

fn soft_revocation(reason: Revocation, word: &str) {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "never");
    let (alice, bob, _) = team_with(&ctx, alice);
    let early = t0 - 5 * DAY;
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(early));
    // A home that never hears of the revocation keeps signing.
    let unaware = ctx.copy_home();
    let rev = ctx.revocation(&alice, reason, Some(t0 - 3 * DAY));
    ctx.import(&rev);
    ctx.trust(&alice);
    ctx.cosign(&alice, "v1", &Sig::at(t0 - DAY).in_home(&unaware));
    ctx.cosign(&bob, "v1", &Sig::default());

    let r = ctx.verify_one("staging", "v1");
    assert!(
        r.satisfied(),
        "the signature before the revocation counts: {}",
        r.0
    );
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 3)]));
    assert_eq!(
        r.signer_entries()[0]["created"].as_str(),
        Some(iso(early).as_str())
    );
    let reason = format!(
        "alice's key {} was revoked ({word}) before the signature was made",
        alice.fpr
    );
    assert_eq!(r.problems(), problems(&[(Some(2), &reason)]));
}

#[test]
fn superseded_key_keeps_earlier_signatures_only() {
    soft_revocation(Revocation::Superseded, "superseded");
}

#[test]
fn retired_key_keeps_earlier_signatures_only() {
    soft_revocation(Revocation::Retired, "retired");
}

#[test]
fn sha1_signature_does_not_count() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.sign(&alice, "v1", "HEAD", &Sig::digest("SHA1"));
    ctx.cosign(&bob, "v1", &Sig::default());
    // gpg itself is happy with it.
    let inner = inner_layer(&ctx, "v1");
    assert!(ctx
        .git_output(&ctx.repo, &["verify-tag", &inner])
        .status
        .success());
    let r = ctx.verify_one("staging", "v1");
    assert_short_of(&r, "1 of humans");
    assert_eq!(r.signers(), signers(&[("bob", 2)]));
    assert_eq!(
        r.problems(),
        problems(&[(Some(1), "signature by alice uses SHA1, which is too weak")])
    );
}

#[test]
fn signature_from_the_future_does_not_count() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    let tomorrow = now() + DAY;
    ctx.chain("v1", &[&alice]);
    ctx.cosign(&bob, "v1", &Sig::at(tomorrow));
    let r = ctx.verify_one("staging", "v1");
    assert_short_of(&r, "1 of humans");
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    let reason = format!(
        "signature by bob is dated {}, more than 5 minutes in the future",
        iso(tomorrow)
    );
    assert_eq!(r.problems(), problems(&[(Some(2), &reason)]));

    // A minute of clock skew is tolerated.
    ctx.chain("v2", &[&alice]);
    ctx.cosign(&bob, "v2", &Sig::at(now() + 60));
    let r = ctx.verify_one("staging", "v2");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));
}

#[test]
fn two_signature_packets_in_one_layer_both_count() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    let mallory = ctx.key("mallory");
    let head = ctx.head();

    let payload = Ctx::payload(&head, "commit", "v1", "release v1");
    let oid = raw_layer(&ctx, &payload, &[&alice, &bob], false);
    ctx.set_tag_ref("v1", &oid);
    let payload = Ctx::payload(&head, "commit", "v2", "release v2");
    let oid = raw_layer(&ctx, &payload, &[&alice, &mallory], false);
    ctx.set_tag_ref("v2", &oid);

    let (code, reports) = ctx.verify("staging", &["v1", "v2"]);
    assert_eq!(code, 1);
    let r = &reports[0];
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers_sorted(), signers(&[("alice", 1), ("bob", 1)]));
    assert_eq!(r.problems(), problems(&[]));

    let r = &reports[1];
    assert!(!r.satisfied());
    assert_eq!(r.rejected(), None);
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    let reason = format!("signed by a key nobody trusts: {}", mallory.fpr);
    assert_eq!(r.problems(), problems(&[(Some(1), &reason)]));
}

#[test]
fn prod_needs_the_pipeline_too() {
    let ctx = Ctx::new();
    let (alice, bob, staging) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let r = ctx.verify_one("prod", "v1");
    assert!(!r.satisfied());
    assert_eq!(r.rejected(), None);
    assert_eq!(r.0["rule"].as_str(), Some("2 of humans and 1 of pipelines"));
    assert_eq!(r.missing().as_deref(), Some("1 of pipelines"));
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));

    ctx.cosign(&staging, "v1", &Sig::default());
    let r = ctx.verify_one("prod", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.missing(), None);
    assert_eq!(
        r.signers(),
        signers(&[("alice", 1), ("bob", 2), ("staging", 3)])
    );
    assert_eq!(
        r.signer_entries()[2]["groups"],
        serde_json::json!(["pipelines"])
    );
    assert_eq!(r.problems(), problems(&[]));

    // The pipeline alone is not two humans.
    ctx.chain("v2", &[&staging, &alice]);
    let r = ctx.verify_one("prod", "v2");
    assert!(!r.satisfied());
    assert_eq!(r.missing().as_deref(), Some("1 of humans"));
}

#[test]
fn or_rules_and_precedence() {
    let ctx = Ctx::new();
    let (alice, bob, staging) = team(&ctx);
    let carol = ctx.key("carol");
    ctx.trust(&carol);
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\", \"carol\"]\npipelines = [\"staging\"]\n\n\
         [environments.either]\nrequire = \"2 of humans or 1 of pipelines\"\n\n\
         [environments.nested]\nrequire = \"(1 of humans and 1 of pipelines) or 3 of humans\"\n\n\
         [environments.prec]\nrequire = \"1 of pipelines or 1 of humans and 2 of humans\"\n",
    );
    ctx.chain("t-staging", &[&staging]);
    ctx.chain("t-alice", &[&alice]);
    ctx.chain("t-alice-staging", &[&alice, &staging]);
    ctx.chain("t-humans", &[&alice, &bob]);
    ctx.chain("t-three", &[&alice, &bob, &carol]);
    let tags = [
        "t-staging",
        "t-alice",
        "t-alice-staging",
        "t-humans",
        "t-three",
    ];

    let verdicts = |env: &str| -> Vec<bool> {
        let (_, reports) = ctx.verify(env, &tags);
        for r in &reports {
            assert_eq!(r.rejected(), None, "{}", r.0);
            assert_eq!(r.missing().is_none(), r.satisfied(), "{}", r.0);
        }
        reports.iter().map(Report::satisfied).collect()
    };
    assert_eq!(verdicts("either"), [true, false, true, true, true]);
    assert_eq!(verdicts("nested"), [false, false, true, false, true]);
    // "and" binds tighter than "or".
    assert_eq!(verdicts("prec"), [true, false, true, true, true]);
}

#[test]
fn rotated_certificates_in_one_file_are_one_person() {
    let ctx = Ctx::new();
    let (_, bob, _) = team(&ctx);
    let old = ctx.key("alice-old");
    let new = ctx.key("alice-new");
    ctx.trust_many("alice", &[&old, &new]);
    ctx.chain("v1", &[&old, &new]);
    let r = ctx.verify_one("staging", "v1");
    assert!(!r.satisfied(), "{}", r.0);
    assert_eq!(r.missing().as_deref(), Some("1 of humans"));
    assert_eq!(r.signers(), signers(&[("alice", 1), ("alice", 2)]));
    let e = r.signer_entries();
    assert_eq!(e[0]["fingerprint"].as_str(), Some(old.fpr.as_str()));
    assert_eq!(e[1]["fingerprint"].as_str(), Some(new.fpr.as_str()));
    assert_eq!(r.problems(), problems(&[]));

    ctx.cosign(&bob, "v1", &Sig::default());
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(
        r.signers(),
        signers(&[("alice", 1), ("alice", 2), ("bob", 3)])
    );
}

#[test]
fn missing_tag_is_a_no() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    let (code, reports) = ctx.verify("staging", &["v1", "v9"]);
    assert_eq!(code, 1);
    assert!(reports[0].satisfied());
    let r = &reports[1];
    r.assert_rejected(r#"no tag named "v9""#);
    assert_eq!(r.commit(), None);
    assert_eq!(r.problems(), problems(&[(None, r#"no tag named "v9""#)]));
}

#[test]
fn bare_repository_works() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    ctx.chain("v2", &[&alice]);
    ctx.git_in(&ctx.root, &["clone", "-q", "--bare", "repo", "bare.git"]);
    let bare = ctx.root.join("bare.git");
    let (code, reports) = ctx.verify_in(&bare, "staging", &["v1", "v2"]);
    assert_eq!(code, 1);
    assert!(reports[0].satisfied(), "{}", reports[0].0);
    assert_eq!(reports[0].commit(), Some(ctx.head()));
    assert_eq!(reports[0].signers(), signers(&[("alice", 1), ("bob", 2)]));
    assert!(!reports[1].satisfied());
    assert_eq!(reports[1].missing().as_deref(), Some("1 of humans"));

    // --repo defaults to the current directory, bare or not.
    let keys = Ctx::path_str(&ctx.keys);
    let mut cmd = ctx.sigtag_cmd(&bare);
    cmd.args([
        "verify", "v1", "--env", "staging", "--keys", &keys, "--json",
    ]);
    let run = Ctx::run_cmd(cmd);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json()[0].satisfied());
}

#[test]
fn keys_dir_defaults_to_dot_keys() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    // Run from the directory that holds keys/, repository given.
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "verify", "v1", "--env", "staging", "--repo", &repo, "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json()[0].satisfied());
}

#[test]
fn list_filters_and_exits_zero() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1.0", &[&alice, &bob]);
    ctx.chain("v1.1", &[&alice]);
    ctx.git(&["tag", "v1.2", "HEAD"]);
    ctx.chain("v2.0", &[&alice, &bob]);
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "list", "--env", "staging", "--keys", &keys, "--repo", &repo, "--filter", "v1.*", "--json",
    ]);
    assert_eq!(run.code, 0, "list exits 0 once it has run: {run:?}");
    let mut reports = run.json();
    reports.sort_by_key(Report::tag);
    let names: Vec<String> = reports.iter().map(Report::tag).collect();
    assert_eq!(names, ["v1.0", "v1.1", "v1.2"]);
    assert!(reports[0].satisfied());
    assert!(!reports[1].satisfied());
    assert_eq!(reports[1].missing().as_deref(), Some("1 of humans"));
    reports[2]
        .assert_rejected("lightweight tag: it points at a commit, not at a signed tag object");

    // A filter that matches nothing: an empty list, still exit 0.
    let run = ctx.sigtag(&[
        "list", "--env", "staging", "--keys", &keys, "--repo", &repo, "--filter", "v3.*", "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.json().is_empty(), "{}", run.stdout);

    // Without a filter: every tag.
    let run = ctx.sigtag(&[
        "list", "--env", "staging", "--keys", &keys, "--repo", &repo, "--json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut names: Vec<String> = run.json().iter().map(Report::tag).collect();
    names.sort();
    assert_eq!(names, ["v1.0", "v1.1", "v1.2", "v2.0"]);
}

#[test]
fn human_verify_output() {
    let ctx = Ctx::new();
    let (alice, bob, staging) = team(&ctx);
    ctx.chain("ok", &[&alice, &bob, &staging]);
    ctx.chain("short", &[&alice, &bob]);
    ctx.git(&["tag", "light", "HEAD"]);
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "verify", "ok", "short", "light", "--env", "prod", "--keys", &keys, "--repo", &repo,
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "ok: yes for prod (alice, bob, staging)",
            "short: no for prod: needs 1 of pipelines",
            "light: no for prod: rejected: lightweight tag: it points at a commit, not at a signed tag object",
        ]
    );

    let run = ctx.sigtag(&[
        "verify", "ok", "--env", "prod", "--keys", &keys, "--repo", &repo,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "ok: yes for prod (alice, bob, staging)\n");
}

#[test]
fn human_verify_output_names_what_did_not_count() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    // mallory's key is in nobody's file.
    let mallory = ctx.key("mallory");
    ctx.chain("stranger", &[&alice, &bob, &mallory]);
    ctx.chain("twice", &[&alice, &mallory, &mallory]);
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let nobody = format!("signed by a key nobody trusts: {}…", &mallory.fpr[..8]);
    let verify = |env: &str| {
        ctx.sigtag(&[
            "verify", "stranger", "twice", "--env", env, "--keys", &keys, "--repo", &repo,
        ])
    };

    let run = verify("prod");
    assert_eq!(run.code, 1, "{run:?}");
    let prod = [
        format!(
            "stranger: no for prod: needs 1 of pipelines; 1 signature not counted: {nobody}; \
             see sigtag explain stranger"
        ),
        format!(
            "twice: no for prod: needs 1 more of humans other than alice and 1 of pipelines; \
             2 signatures not counted: {nobody} (×2); see sigtag explain twice"
        ),
    ];
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), prod, "{run:?}");

    // A yes names them too.
    let run = verify("staging");
    let staging = [
        format!(
            "stranger: yes for staging (alice, bob); 1 signature not counted: {nobody}; \
             see sigtag explain stranger"
        ),
        format!(
            "twice: no for staging: needs 1 more of humans other than alice; \
             2 signatures not counted: {nobody} (×2); see sigtag explain twice"
        ),
    ];
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), staging, "{run:?}");

    // list words every tag the same way.
    let run = ctx.sigtag(&["list", "--env", "staging", "--keys", &keys, "--repo", &repo]);
    assert_eq!(run.code, 0, "{run:?}");
    let mut lines: Vec<&str> = run.stdout.lines().collect();
    lines.sort();
    assert_eq!(lines, staging, "{run:?}");
}

#[test]
fn explain_names_what_is_missing() {
    let ctx = Ctx::new();
    let (alice, _, _) = team(&ctx);
    let mallory = ctx.key("mallory");
    ctx.chain("v1", &[&alice, &mallory]);
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "explain", "v1", "--env", "staging", "--keys", &keys, "--repo", &repo,
    ]);
    assert!(run.code == 0 || run.code == 1, "{run:?}");
    assert!(
        run.stdout
            .contains("needs 1 more of humans other than alice"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("signed by a key nobody trusts: {}", mallory.fpr)),
        "{}",
        run.stdout
    );
}

#[test]
fn signature_copied_from_another_layer_is_bad() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    ctx.chain("v2", &[&alice]);
    // bob's genuine signature from v1's outer layer, replayed on a layer
    // of v2 that bob never saw.
    let v1 = String::from_utf8(ctx.tag_object("v1")).unwrap();
    let bob_sig = &v1[v1.find("-----BEGIN PGP SIGNATURE-----").unwrap()..];
    let inner = ctx.rev_parse("refs/tags/v2");
    let payload = Ctx::payload(&inner, "tag", "v2", "v2 co-signed by bob");
    let forged = format!("{payload}{}\n", bob_sig.trim_end());
    let oid = ctx.write_tag_object(forged.as_bytes(), false);
    ctx.set_tag_ref("v2", &oid);
    ctx.verify_one("staging", "v2").assert_rejected(&format!(
        "bad signature by bob ({}): the layer was altered after it was signed",
        bob.fpr
    ));
}

#[test]
fn more_than_sixteen_signature_packets_are_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    let mut many = vec![alice.clone(), bob.clone()];
    for i in 0..15 {
        many.push(ctx.key(&format!("extra{i}")));
    }
    let refs: Vec<&Key> = many.iter().collect();
    let payload = Ctx::payload(&ctx.head(), "commit", "v17", "release");
    let oid = raw_layer(&ctx, &payload, &refs, false);
    ctx.set_tag_ref("v17", &oid);
    // Sixteen are fine.
    let payload = Ctx::payload(&ctx.head(), "commit", "v16", "release");
    let oid = raw_layer(&ctx, &payload, &refs[..16], false);
    ctx.set_tag_ref("v16", &oid);

    let (_, reports) = ctx.verify("staging", &["v17", "v16"]);
    reports[0].assert_rejected("more than 16 signature packets in one layer");
    assert!(reports[1].satisfied(), "{}", reports[1].0);
    assert_eq!(
        reports[1].signers_sorted(),
        signers(&[("alice", 1), ("bob", 1)])
    );
    assert_eq!(reports[1].problems().len(), 14, "{}", reports[1].0);
}

#[test]
fn garbage_in_the_signature_block_is_rejected() {
    let ctx = Ctx::new();
    let (_, bob, _) = team(&ctx);
    let payload = Ctx::payload(&ctx.head(), "commit", "v1", "release");
    let obj = format!(
        "{payload}-----BEGIN PGP SIGNATURE-----\n\nbm90IGEgc2lnbmF0dXJlIGF0IGFsbA==\n=AAAA\n-----END PGP SIGNATURE-----\n"
    );
    let inner = ctx.write_tag_object(obj.as_bytes(), true);
    let outer = raw_outer_layer(&ctx, &bob, &inner, "v1");
    ctx.set_tag_ref("v1", &outer);
    let r = ctx.verify_one("staging", "v1");
    let rejected = r.rejected().unwrap_or_default();
    assert!(
        rejected.starts_with("unreadable signature block: "),
        "{}",
        r.0
    );
    r.assert_rejected(&rejected);
}

#[test]
fn signing_subkey_counts_for_its_certificate() {
    let ctx = Ctx::new();
    let alice = ctx.gen_key_full("alice", "ed25519", "never", None);
    // A separate signing subkey, as on a hardware token.
    ctx.gpg(&[
        "--passphrase",
        "",
        "--quick-add-key",
        &alice.fpr,
        "ed25519",
        "sign",
        "never",
    ]);
    let (alice, bob, _) = team_with(&ctx, alice);
    ctx.chain("v1", &[&alice, &bob]);
    // git picked the newest signing subkey.
    let obj = String::from_utf8(ctx.tag_object(&inner_layer(&ctx, "v1"))).unwrap();
    let at = obj.find("-----BEGIN PGP SIGNATURE-----").unwrap();
    let sigfile = ctx.root.join("sub.sig");
    std::fs::write(&sigfile, &obj[at..]).unwrap();
    let packets = String::from_utf8_lossy(&ctx.gpg(&["--list-packets", sigfile.to_str().unwrap()]))
        .into_owned();
    assert!(
        !packets.contains(&format!("keyid {}", &alice.fpr[24..])),
        "made by the subkey, not the primary: {packets}"
    );

    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1), ("bob", 2)]);
}

#[test]
fn rsa_keys_and_binary_certificates() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    let bob = ctx.gen_key_full("bob", "rsa3072", "never", None);
    let staging = ctx.key("staging");
    ctx.trust(&alice);
    // staging's as staging.gpg, also binary.
    let binary = ctx.gpg(&["--export", &staging.fpr]);
    std::fs::write(ctx.keys.join("staging.gpg"), binary).unwrap();
    // bob's certificate in binary form, as bob.pgp.
    let binary = ctx.gpg(&["--export", &bob.fpr]);
    std::fs::write(ctx.keys.join("bob.pgp"), binary).unwrap();
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    ctx.chain("v1", &[&alice, &bob, &staging]);
    let r = ctx.verify_one("prod", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(
        r.signers(),
        signers(&[("alice", 1), ("bob", 2), ("staging", 3)])
    );
    assert_eq!(
        r.signer_entries()[1]["fingerprint"].as_str(),
        Some(bob.fpr.as_str())
    );
}

#[test]
fn each_atom_counts_on_its_own() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\"]\nleads = [\"alice\"]\npipelines = [\"staging\"]\n\n\
         [environments.release]\nrequire = \"2 of humans and 1 of leads\"\n",
    );
    ctx.chain("v1", &[&alice, &bob]);
    ctx.chain("v2", &[&bob]);
    let (_, reports) = ctx.verify("release", &["v1", "v2"]);
    assert!(
        reports[0].satisfied(),
        "alice counts for both atoms: {}",
        reports[0].0
    );
    assert!(!reports[1].satisfied());
    assert_eq!(reports[1].rejected(), None);
}

#[test]
fn packed_refs_and_objects() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    ctx.chain("v1", &[&alice, &bob]);
    ctx.git(&["gc", "-q"]);
    ctx.git(&["pack-refs", "--all"]);
    assert!(!ctx.repo.join(".git/refs/tags/v1").exists());
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1), ("bob", 2)]));
}

#[test]
fn type_header_that_lies_about_the_target_is_rejected() {
    let ctx = Ctx::new();
    let (alice, bob, _) = team(&ctx);
    // Says "type commit" but points at a tree.
    let tree = ctx.rev_parse("HEAD^{tree}");
    let payload = Ctx::payload(&tree, "commit", "v1", "release");
    let inner = raw_layer(&ctx, &payload, &[&alice], true);
    let outer = raw_outer_layer(&ctx, &bob, &inner, "v1");
    ctx.set_tag_ref("v1", &outer);
    let r = ctx.verify_one("staging", "v1");
    assert!(!r.satisfied(), "{}", r.0);
    let rejected = r
        .rejected()
        .unwrap_or_else(|| panic!("must be rejected: {}", r.0));
    r.assert_rejected(&rejected);

    // Says "type commit" but points at another tag object.
    ctx.chain("v2", &[&alice]);
    let v2 = ctx.rev_parse("refs/tags/v2");
    let payload = Ctx::payload(&v2, "commit", "v2", "v2 co-signed by bob");
    let oid = raw_layer(&ctx, &payload, &[&bob], true);
    ctx.set_tag_ref("v2", &oid);
    let r = ctx.verify_one("staging", "v2");
    assert!(!r.satisfied(), "{}", r.0);
    assert!(r.rejected().is_some(), "must be rejected: {}", r.0);
}

#[test]
fn keys_in_the_verified_repository_are_not_trusted() {
    let ctx = Ctx::new();
    let (alice, _, _) = team(&ctx);
    let mallory = ctx.key("mallory");
    // The repository carries its own keys/ trusting mallory ...
    let planted = ctx.repo.join("keys");
    std::fs::create_dir(&planted).unwrap();
    std::fs::write(
        planted.join("policy.toml"),
        "[groups]\nhumans = [\"alice\", \"mallory\"]\n\n[environments.staging]\nrequire = \"2 of humans\"\n",
    )
    .unwrap();
    std::fs::copy(ctx.keys.join("alice.asc"), planted.join("alice.asc")).unwrap();
    std::fs::write(
        planted.join("mallory.asc"),
        ctx.export_pub_from(&ctx.home, &mallory),
    )
    .unwrap();
    ctx.git(&["add", "keys"]);
    ctx.git(&["commit", "-q", "-m", "Trust me"]);
    ctx.chain("v1", &[&alice, &mallory]);

    // ... but the trust root is the keys directory next to the caller.
    let repo = Ctx::path_str(&ctx.repo);
    let run = ctx.sigtag(&[
        "verify", "v1", "--env", "staging", "--repo", &repo, "--json",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    let r = &run.json()[0];
    assert!(!r.satisfied());
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    let reason = format!("signed by a key nobody trusts: {}", mallory.fpr);
    assert_eq!(r.problems(), problems(&[(Some(2), &reason)]));
}
