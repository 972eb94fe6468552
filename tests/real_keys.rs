//! Certificates the way long-lived keys really are (DESIGN §2): bound by
//! SHA-1 self-signatures from before 2023, refreshed with
//! `gpg --quick-set-expire` after they signed, and certificates no
//! signature could ever count under. Each case is built with real gpg.

mod common;

use common::*;

/// 2021-01-01T00:00:00Z
const IN_2021: i64 = 1_609_459_200;
/// 2024-01-01T00:00:00Z
const IN_2024: i64 = 1_704_067_200;
/// `digest algo 2` in `gpg --list-packets`.
const SHA1: u32 = 2;

/// humans = [alice]; staging requires 1 of humans.
fn alice_alone(ctx: &Ctx) {
    ctx.policy(
        "[groups]\nhumans = [\"alice\"]\n\n[environments.staging]\nrequire = \"1 of humans\"\n",
    );
}

/// alice's key made by `gpg --cert-digest-algo SHA1` at `created`; its
/// certificate in keys/alice.asc, bound only by SHA-1 self-signatures.
fn sha1_bound_alice(ctx: &Ctx, created: i64) -> Key {
    let alice = ctx.key_made_with("alice", created, "never", &["--cert-digest-algo", "SHA1"]);
    let cert = ctx.export_pub_from(&ctx.home, &alice);
    assert_eq!(ctx.digest_algos(&cert), vec![SHA1], "bound by SHA-1 only");
    ctx.trust(&alice);
    alice_alone(ctx);
    alice
}

/// `sigtag verify v1 --env staging` with the test's keys and repository.
fn verify_run(ctx: &Ctx) -> Run {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    ctx.sigtag(&[
        "verify", "v1", "--env", "staging", "--keys", &keys, "--repo", &repo, "--json",
    ])
}

/// The armored signature block of the tag object `rev`.
fn signature_block(ctx: &Ctx, rev: &str) -> Vec<u8> {
    let obj = String::from_utf8(ctx.tag_object(rev)).unwrap();
    let at = obj.find("-----BEGIN PGP SIGNATURE-----").unwrap();
    obj.as_bytes()[at..].to_vec()
}

#[test]
fn sha1_bound_key_from_before_2023_counts() {
    let ctx = Ctx::new();
    let alice = sha1_bound_alice(&ctx, IN_2021);
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    assert!(
        !ctx.digest_algos(&signature_block(&ctx, "v1"))
            .contains(&SHA1),
        "the tag's own signature is not SHA-1"
    );
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1)]);
}

#[test]
fn sha1_data_signature_still_does_not_count() {
    let ctx = Ctx::new();
    let alice = sha1_bound_alice(&ctx, IN_2021);
    ctx.sign(&alice, "v1", "HEAD", &Sig::digest("SHA1"));
    ctx.cosign(&alice, "v1", &Sig::default());
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "the SHA-256 layer counts: {}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 2)]));
    assert_eq!(
        r.problems(),
        problems(&[(Some(1), "signature by alice uses SHA1, which is too weak")])
    );
}

#[test]
fn sha1_bound_key_from_after_2023_is_a_configuration_error() {
    let ctx = Ctx::new();
    let alice = sha1_bound_alice(&ctx, IN_2024);
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    let run = verify_run(&ctx);
    run.assert_error(&[]);
    let fpr = &alice.fpr;
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "sigtag: {}: alice's certificate {fpr} is bound only by SHA-1 self-signatures made \
             since 2023-02-01, which sigtag refuses, so none of its signatures can count; its \
             holder runs gpg --cert-digest-algo SHA256 --quick-set-expire {fpr} 2y and exports \
             it again",
            ctx.keys.join("alice.asc").display()
        )
    );

    // The fix the sentence names works, and keeps the earlier signature.
    ctx.gpg(&[
        "--passphrase",
        "",
        "--cert-digest-algo",
        "SHA256",
        "--quick-set-expire",
        fpr,
        "2y",
    ]);
    ctx.trust(&alice);
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1)]);
}

#[test]
fn certificate_without_a_signing_key_is_a_configuration_error() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    // A primary key that can only certify, and no subkey.
    let carol = Key {
        name: "carol".into(),
        fpr: String::new(),
    };
    let out = String::from_utf8(ctx.gpg(&[
        "--status-fd",
        "1",
        "--passphrase",
        "",
        "--quick-gen-key",
        &carol.uid(),
        "ed25519",
        "cert",
        "never",
    ]))
    .unwrap();
    let fpr = out
        .lines()
        .find_map(|l| l.strip_prefix("[GNUPG:] KEY_CREATED "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .unwrap()
        .to_uppercase();
    let carol = Key { fpr, ..carol };
    ctx.trust(&alice);
    ctx.trust(&carol);
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"carol\"]\n\n[environments.staging]\nrequire = \"1 of humans\"\n",
    );
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    let run = verify_run(&ctx);
    run.assert_error(&[]);
    let fpr = &carol.fpr;
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "sigtag: {}: carol's certificate {fpr} holds no key that can sign, so none of its \
             signatures can count; its holder adds one with gpg --quick-add-key {fpr} ed25519 \
             sign 2y and exports it again",
            ctx.keys.join("carol.asc").display()
        )
    );
}

/// `gpg --quick-set-expire FPR 3y [SUBFPR]` (at `at`, if given): new
/// binding signatures, the old ones dropped.
fn refresh(ctx: &Ctx, key: &Key, sub: Option<&str>, at: Option<i64>) {
    let fake = at.map(|t| format!("{t}!"));
    let mut args = vec!["--passphrase", ""];
    if let Some(f) = &fake {
        args.extend(["--faked-system-time", f]);
    }
    args.extend(["--quick-set-expire", &key.fpr, "3y"]);
    if let Some(s) = sub {
        args.push(s);
    }
    ctx.gpg(&args);
}

#[test]
fn refreshed_primary_key_keeps_earlier_signatures() {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "1y");
    ctx.trust(&alice);
    alice_alone(&ctx);
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(t0 - DAY));
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1)]);

    refresh(&ctx, &alice, None, None);
    let cert = ctx.export_pub_from(&ctx.home, &alice);
    assert_eq!(
        ctx.count_sigclass(&cert, "0x13"),
        1,
        "the export holds only the new user ID binding"
    );
    ctx.trust(&alice);
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1)]);
    ctx.cosign(&alice, "v1", &Sig::default());
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1), ("alice", 2)]);
}

#[test]
fn refreshed_signing_subkey_keeps_earlier_signatures() {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "never");
    let created = format!("{}!", t0 - 10 * DAY + 60);
    ctx.gpg(&[
        "--passphrase",
        "",
        "--faked-system-time",
        &created,
        "--quick-add-key",
        &alice.fpr,
        "ed25519",
        "sign",
        "1y",
    ]);
    let sub = ctx.newest_subkey(&alice);
    ctx.trust(&alice);
    alice_alone(&ctx);
    let by_sub = Key {
        name: "alice".into(),
        fpr: format!("{sub}!"),
    };
    ctx.sign(&by_sub, "v1", "HEAD", &Sig::at(t0 - DAY));
    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1)]);
    assert_eq!(r.signer_entries()[0]["fingerprint"].as_str(), Some(&*sub));

    refresh(&ctx, &alice, Some(&sub), None);
    let cert = ctx.export_pub_from(&ctx.home, &alice);
    assert_eq!(
        ctx.count_sigclass(&cert, "0x18"),
        1,
        "the export holds only the new subkey binding"
    );
    ctx.trust(&alice);
    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1)]);
    assert_eq!(r.signer_entries()[0]["fingerprint"].as_str(), Some(&*sub));
}

/// alice's key, created ten days ago, expired eight days ago (its first
/// binding says so), refreshed three days ago; v1 signed at nine days
/// (before the expiry) and cosigned at five days (after it, from a home
/// where the expiry was lifted). Returns alice, her certificate before
/// the refresh and after it.
fn expired_then_refreshed(ctx: &Ctx) -> (Key, Vec<u8>, Vec<u8>) {
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "2d");
    alice_alone(ctx);
    let before = ctx.export_pub_from(&ctx.home, &alice);
    let lifted = ctx.copy_home();
    let lift_at = format!("{}!", t0 - 9 * DAY);
    ctx.gpg_home(
        &lifted,
        &[
            "--passphrase",
            "",
            "--faked-system-time",
            &lift_at,
            "--quick-set-expire",
            &alice.fpr,
            "0",
        ],
    );
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(t0 - 9 * DAY));
    ctx.cosign(&alice, "v1", &Sig::at(t0 - 5 * DAY).in_home(&lifted));
    refresh(ctx, &alice, None, Some(t0 - 3 * DAY));
    let after = ctx.export_pub_from(&ctx.home, &alice);
    assert_eq!(
        ctx.count_sigclass(&after, "0x13"),
        1,
        "only the new binding"
    );
    (alice, before, after)
}

#[test]
fn signature_after_the_original_expiry_counts_only_if_no_binding_says_expired() {
    let ctx = Ctx::new();
    let (alice, before, after) = expired_then_refreshed(&ctx);

    // Only the refreshed binding, as gpg exports it: it says the key is
    // valid from its creation for three years, and nothing in the
    // certificate says the key had ever expired, so both count.
    std::fs::write(ctx.keys.join("alice.asc"), &after).unwrap();
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1), ("alice", 2)]);

    // Both bindings, as a keyserver or a merging import keeps them: the
    // binding in force at the second signature said the key had expired.
    let merged = ctx.merged_export(&alice, &[&before, &after]);
    assert_eq!(ctx.count_sigclass(&merged, "0x13"), 2, "both bindings");
    std::fs::write(ctx.keys.join("alice.asc"), merged).unwrap();
    let r = ctx.verify_one("staging", "v1");
    assert!(r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[("alice", 1)]));
    let reason = format!(
        "alice's key {} had expired when the signature was made",
        alice.fpr
    );
    assert_eq!(r.problems(), problems(&[(Some(2), &reason)]));
}

#[test]
fn compromised_revocation_taints_old_signatures_after_a_refresh() {
    let ctx = Ctx::new();
    let t0 = now();
    let alice = ctx.key_created("alice", t0 - 10 * DAY, "1y");
    alice_alone(&ctx);
    ctx.sign(&alice, "v1", "HEAD", &Sig::at(t0 - 2 * DAY));
    refresh(&ctx, &alice, None, None);
    ctx.trust(&alice);
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1)]);

    let rev = ctx.revocation(&alice, Revocation::Compromised, None);
    ctx.import(&rev);
    ctx.trust(&alice);
    let r = ctx.verify_one("staging", "v1");
    assert!(!r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), signers(&[]));
    assert_eq!(
        r.problems(),
        problems(&[(
            Some(1),
            "alice's certificate is revoked as compromised, so none of its signatures count"
        )])
    );
}

#[test]
fn sha1_bound_key_from_before_2023_signs_with_sigtag() {
    // The signing side reads the certificate under the same policy as the
    // verifying side: a key gpg made in 2021 with SHA-1 bindings signs.
    let ctx = Ctx::new();
    let alice = sha1_bound_alice(&ctx, IN_2021);
    let key = ctx.secret_key_file(&alice);
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let key = Ctx::path_str(&key);
    let run = ctx.sigtag(&[
        "sign", "v1", "--key", &key, "--keys", &keys, "--repo", &repo,
    ]);
    ok(&run);
    ctx.verify_one("staging", "v1")
        .assert_clean(&[("alice", 1)]);
}

/// git.git's shape: a signing subkey whose binding embeds a SHA-1
/// back-signature (the subkey's consent to be bound) made before 2023.
/// The back-signature is a self-signature like the binding around it, so
/// the subkey's tags count.
#[test]
fn signing_subkey_with_a_sha1_back_signature_from_before_2023_counts() {
    let ctx = Ctx::new();
    // RSA: gpg makes no SHA-1 signature with an EdDSA key.
    let alice = ctx.gen_key_full("alice", "rsa2048", "never", Some(IN_2021));
    let at = format!("{}!", IN_2021 + 60);
    ctx.gpg(&[
        "--passphrase",
        "",
        "--faked-system-time",
        &at,
        "--allow-weak-digest-algos",
        "--allow-weak-key-signatures",
        "--cert-digest-algo",
        "SHA1",
        "--quick-add-key",
        &alice.fpr,
        "rsa2048",
        "sign",
        "never",
    ]);
    let sub = ctx.newest_subkey(&alice);
    let cert = ctx.export_pub_from(&ctx.home, &alice);
    let packets = ctx.list_packets(&cert);
    assert!(
        packets.contains("class 0x19, algo 1, digest algo 2"),
        "the subkey's back-signature is SHA-1:\n{packets}"
    );
    ctx.trust(&alice);
    alice_alone(&ctx);
    let by_sub = Key {
        name: "alice".into(),
        fpr: format!("{sub}!"),
    };
    ctx.sign(&by_sub, "v1", "HEAD", &Sig::default());
    assert!(!ctx
        .digest_algos(&signature_block(&ctx, "v1"))
        .contains(&SHA1));
    let r = ctx.verify_one("staging", "v1");
    r.assert_clean(&[("alice", 1)]);
    assert_eq!(r.signer_entries()[0]["fingerprint"].as_str(), Some(&*sub));
}
