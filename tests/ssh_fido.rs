//! FIDO (security-key) SSH signatures made by the real OpenSSH, judged by
//! the sigtag binary (DESIGN §8): keys made by ssh-keygen with OpenSSH's
//! test authenticator, sk-dummy (tests/ssh_support), layers made by real
//! `git tag -s` with `gpg.format=ssh` on top of OpenPGP layers.
//!
//! sk-dummy signs with exactly the flags the key was made with: 0x01
//! (user present) by default, 0x00 with `no-touch-required`, 0x05 with
//! `verify-required`, 0x04 with both. ssh-keygen -Y verify, and so git
//! verify-tag, accept all of them: only sigtag looks at the flags.
//!
//! Without target/sk-dummy/sk-dummy.so (`make test-deps`) every test
//! prints a notice and passes, except under CI, where it fails.

mod common;
mod ssh_support;

use common::process::{checked, run_with_input};
use common::{Ctx, Sig, GIT};
use sigtag::verify::ssh::sshsig;
use ssh_support::{
    keygen_cmd, make_sk_key, sk_dummy, ssh_verify, SkKey, SkType, FLAG_USER_PRESENT,
    FLAG_USER_VERIFIED, SK_DUMMY_COUNTER,
};
use std::fs;
use std::path::{Path, PathBuf};

const BEGIN_SSH: &str = "-----BEGIN SSH SIGNATURE-----";

/// `[groups] humans = NAMES`, staging requiring `require`, and `extra`
/// (an `[ssh]` table) after it.
fn humans(ctx: &Ctx, names: &[&str], require: &str, extra: &str) {
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    ctx.policy(&format!(
        "[groups]\nhumans = [{}]\n\n[environments.staging]\nrequire = \"{require}\"\n{extra}",
        list.join(", ")
    ));
}

const REQUIRE_UV: &str = "\n[ssh]\nrequire_user_verification = true\n";

/// A FIDO key of `kind` held by sk-dummy, in the test's directory.
fn fido_key(ctx: &Ctx, lib: &Path, name: &str, kind: SkType, options: &[&str]) -> SkKey {
    make_sk_key(lib, &ctx.root, name, kind, options)
}

/// Adds `key`'s public key line (as ssh-keygen wrote it) to
/// keys/SIGNER.pub.
fn trust_sk(ctx: &Ctx, key: &SkKey, signer: &str) {
    let file = ctx.keys.join(format!("{signer}.pub"));
    let mut text = fs::read_to_string(&file).unwrap_or_default();
    text.push_str(&key.public);
    text.push('\n');
    fs::write(file, text).unwrap();
}

/// `git -c gpg.format=ssh -c user.signingkey=KEY.pub tag -s -f -m MSG
/// NAME NAME`: git runs ssh-keygen, which reaches the key through
/// SSH_SK_PROVIDER (sk-dummy). A verify-required key's PIN comes from an
/// askpass program that prints nothing (sk-dummy takes any PIN).
fn sk_cosign(ctx: &Ctx, key: &SkKey, name: &str) {
    let msg = format!(
        "{name} co-signed with {}",
        key.path.file_name().unwrap().to_string_lossy()
    );
    let mut cmd = ctx.command_with_git_env(GIT, &ctx.repo);
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("SSH_SK_PROVIDER", &key.provider)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("SSH_ASKPASS", "/bin/true")
        .args(["-c", "gpg.format=ssh", "-c", "advice.nestedTag=false"])
        .arg("-c")
        .arg(format!("user.signingkey={}", key.pub_path().display()))
        .args(["tag", "-s", "-f", "-m", &msg, name, name]);
    checked(
        &format!("git tag -s -f {name} {name} with {}", key.path.display()),
        run_with_input(cmd, None),
    );
}

/// `SHA256:...` of a public key file, from ssh-keygen -l.
fn fingerprint(key: &SkKey) -> String {
    let out = keygen_cmd()
        .arg("-lf")
        .arg(key.pub_path())
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen -lf {:?}", key.pub_path());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

/// The outer layer of `tag`: its payload (up to the signature) and its
/// SSH signature block.
fn outer_layer(ctx: &Ctx, tag: &str) -> (String, String) {
    let text = String::from_utf8(ctx.tag_object(tag)).unwrap();
    let at = text
        .find(BEGIN_SSH)
        .unwrap_or_else(|| panic!("{tag}'s outer layer is not SSH-signed:\n{text}"));
    (text[..at].to_string(), text[at..].to_string())
}

/// The flags and counter of the outer layer's FIDO signature.
fn outer_flags(ctx: &Ctx, tag: &str) -> sshsig::SkTrailer {
    let (_, block) = outer_layer(ctx, tag);
    let sig = sshsig::parse(block.as_bytes()).unwrap();
    sig.sk.expect("a security key's signature")
}

/// `sigtag verify TAG --env staging --json`: the one report.
fn one(ctx: &Ctx, tag: &str) -> common::Report {
    let (_, mut reports) = ctx.verify("staging", &[tag]);
    reports.remove(0)
}

/// `sigtag explain TAG --env ENV`.
fn explain(ctx: &Ctx, tag: &str, env: &str) -> common::Run {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    ctx.sigtag(&[
        "explain", tag, "--env", env, "--keys", &keys, "--repo", &repo,
    ])
}

/// A chain `tag` on HEAD: alice's OpenPGP layer, then `key`'s FIDO one.
fn alice_then(ctx: &Ctx, alice: &common::Key, key: &SkKey, tag: &str) {
    ctx.sign(alice, tag, "HEAD", &Sig::default());
    sk_cosign(ctx, key, tag);
}

/// Alice (OpenPGP) and Bob (FIDO keys) are the humans; staging wants both.
fn alice_and_bob(ctx: &Ctx, extra: &str) -> common::Key {
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    humans(ctx, &["alice", "bob"], "2 of humans", extra);
    alice
}

/// An allowed_signers file for git and ssh-keygen naming `key` as bob.
fn allowed_signers(ctx: &Ctx, key: &SkKey) -> PathBuf {
    let file = ctx.root.join(format!(
        "allowed-{}",
        key.path.file_name().unwrap().to_string_lossy()
    ));
    fs::write(&file, key.allowed_signers_line("bob@example.org", "")).unwrap();
    file
}

/// `git verify-tag` of the tag's outer layer with `gpg.format=ssh` and
/// `allowed` as git's allowed-signers file.
fn git_verify_tag(ctx: &Ctx, allowed: &Path, tag: &str) -> std::process::Output {
    ctx.git_output(
        &ctx.repo,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
            "verify-tag",
            tag,
        ],
    )
}

#[test]
fn touched_fido_signatures_count() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = alice_and_bob(&ctx, "");
    for kind in SkType::ALL {
        let key = fido_key(&ctx, &lib, &format!("bob-{kind:?}"), kind, &[]);
        trust_sk(&ctx, &key, "bob");
        let tag = format!("v-{kind:?}");
        alice_then(&ctx, &alice, &key, &tag);
        assert_eq!(
            outer_flags(&ctx, &tag),
            sshsig::SkTrailer {
                flags: FLAG_USER_PRESENT,
                counter: SK_DUMMY_COUNTER
            },
            "{kind:?}"
        );
        let r = one(&ctx, &tag);
        r.assert_clean(&[("alice", 1), ("bob", 2)]);
        assert_eq!(
            r.signer_entries()[1]["fingerprint"],
            fingerprint(&key).as_str(),
            "{kind:?}"
        );
        let run = explain(&ctx, &tag, "staging");
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("signed by bob (humans) at ")
                && run.stdout.contains(&format!("[{}]\n", fingerprint(&key))),
            "{}",
            run.stdout
        );
    }
}

/// A no-touch-required key signs with flags 0x00: sigtag does not count
/// it, while git verify-tag and ssh-keygen -Y verify accept the very same
/// layer (they do not look at the flags).
#[test]
fn a_signature_without_a_touch_counts_for_nothing_though_git_accepts_it() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = alice_and_bob(&ctx, "");
    for kind in SkType::ALL {
        let key = fido_key(
            &ctx,
            &lib,
            &format!("bob-{kind:?}"),
            kind,
            &["no-touch-required"],
        );
        trust_sk(&ctx, &key, "bob");
        let tag = format!("v-{kind:?}");
        alice_then(&ctx, &alice, &key, &tag);
        assert_eq!(outer_flags(&ctx, &tag).flags, 0x00, "{kind:?}");

        let reason = format!(
            "signature by bob ({}) was made without a touch (no user presence)",
            fingerprint(&key)
        );
        let r = one(&ctx, &tag);
        assert!(!r.satisfied(), "{}", r.0);
        assert_eq!(r.rejected(), None, "{}", r.0);
        assert_eq!(r.signers(), common::signers(&[("alice", 1)]));
        assert_eq!(r.problems(), common::problems(&[(Some(2), &reason)]));
        assert!(r.missing().is_some(), "{}", r.0);
        let run = explain(&ctx, &tag, "staging");
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(&reason), "{}", run.stdout);

        // git and ssh-keygen accept the layer: sigtag's own check is the
        // only one that sees the missing touch.
        let allowed = allowed_signers(&ctx, &key);
        let out = git_verify_tag(&ctx, &allowed, &tag);
        assert!(
            out.status.success(),
            "{kind:?}: git verify-tag: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (payload, block) = outer_layer(&ctx, &tag);
        let file = ctx.root.join(format!("payload-{kind:?}"));
        fs::write(&file, &payload).unwrap();
        let sig = ctx.root.join(format!("payload-{kind:?}.sig"));
        fs::write(&sig, &block).unwrap();
        let out = ssh_verify(&allowed, "bob@example.org", "git", &file, &sig);
        assert_eq!(out.code, 0, "{kind:?}: {out:?}");
        assert_eq!(out.sig_flags(), Some(0x00), "{kind:?}: {out:?}");
    }
}

/// The flags are signed: setting the user-presence bit on a touch-less
/// signature afterwards makes a bad signature, which rejects the tag.
#[test]
fn a_touch_added_afterwards_is_a_bad_signature() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = alice_and_bob(&ctx, "");
    for kind in SkType::ALL {
        let key = fido_key(
            &ctx,
            &lib,
            &format!("bob-{kind:?}"),
            kind,
            &["no-touch-required"],
        );
        trust_sk(&ctx, &key, "bob");
        let tag = format!("v-{kind:?}");
        alice_then(&ctx, &alice, &key, &tag);
        let (payload, block) = outer_layer(&ctx, &tag);
        let sig = sshsig::parse(block.as_bytes()).unwrap();
        let mut inner = sig.signature.clone();
        let at = inner.len() - 5;
        assert_eq!(inner[at], 0x00);
        inner[at] = FLAG_USER_PRESENT;
        let forged = sshsig::armor(&sshsig::blob(
            &sig.public_key,
            &sig.namespace,
            &sig.hash_algorithm,
            &inner,
        ));
        let mut object = payload.into_bytes();
        object.extend_from_slice(&forged);
        let oid = ctx.write_tag_object(&object, false);
        ctx.set_tag_ref(&tag, &oid);
        one(&ctx, &tag).assert_rejected(&format!(
            "bad signature by bob ({}): the layer was altered after it was signed",
            fingerprint(&key)
        ));
    }
}

/// `[ssh] require_user_verification = true`: a touch is not enough; a
/// verify-required key's signature (0x05) counts, one that is verified
/// but made without a touch (0x04) does not.
#[test]
fn user_verification_counts_when_the_policy_demands_it() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = alice_and_bob(&ctx, REQUIRE_UV);
    for kind in SkType::ALL {
        let touched = fido_key(&ctx, &lib, &format!("touched-{kind:?}"), kind, &[]);
        let verified = fido_key(
            &ctx,
            &lib,
            &format!("verified-{kind:?}"),
            kind,
            &["verify-required"],
        );
        let untouched = fido_key(
            &ctx,
            &lib,
            &format!("untouched-{kind:?}"),
            kind,
            &["verify-required", "no-touch-required"],
        );
        for k in [&touched, &verified, &untouched] {
            trust_sk(&ctx, k, "bob");
        }

        let tag = format!("v-touched-{kind:?}");
        alice_then(&ctx, &alice, &touched, &tag);
        assert_eq!(outer_flags(&ctx, &tag).flags, FLAG_USER_PRESENT);
        let reason = format!(
            "signature by bob ({}) was made without user verification (no PIN or biometric), \
             which policy.toml's [ssh] require_user_verification demands",
            fingerprint(&touched)
        );
        let r = one(&ctx, &tag);
        assert!(!r.satisfied(), "{}", r.0);
        assert_eq!(r.rejected(), None, "{}", r.0);
        assert_eq!(r.signers(), common::signers(&[("alice", 1)]));
        assert_eq!(r.problems(), common::problems(&[(Some(2), &reason)]));
        let run = explain(&ctx, &tag, "staging");
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(&reason), "{}", run.stdout);

        let tag = format!("v-verified-{kind:?}");
        alice_then(&ctx, &alice, &verified, &tag);
        assert_eq!(
            outer_flags(&ctx, &tag).flags,
            FLAG_USER_PRESENT | FLAG_USER_VERIFIED
        );
        one(&ctx, &tag).assert_clean(&[("alice", 1), ("bob", 2)]);

        let tag = format!("v-untouched-{kind:?}");
        alice_then(&ctx, &alice, &untouched, &tag);
        assert_eq!(outer_flags(&ctx, &tag).flags, FLAG_USER_VERIFIED);
        let r = one(&ctx, &tag);
        assert!(!r.satisfied(), "{}", r.0);
        assert_eq!(
            r.problems(),
            common::problems(&[(
                Some(2),
                &format!(
                    "signature by bob ({}) was made without a touch (no user presence)",
                    fingerprint(&untouched)
                )
            )])
        );
    }
    // Without the demand, a touch is enough, and verification alone still
    // is not.
    humans(&ctx, &["alice", "bob"], "2 of humans", "");
    for kind in SkType::ALL {
        one(&ctx, &format!("v-touched-{kind:?}")).assert_clean(&[("alice", 1), ("bob", 2)]);
        one(&ctx, &format!("v-verified-{kind:?}")).assert_clean(&[("alice", 1), ("bob", 2)]);
        assert!(!one(&ctx, &format!("v-untouched-{kind:?}")).satisfied());
    }
}

/// The application (`ssh:` unless ssh-keygen is given `-O
/// application=ssh:...`) is part of the public key, and the signed data
/// holds its hash: a key made for another application counts like any
/// other, and the same key with another application in the keys directory
/// is another key, one nobody trusts.
#[test]
fn the_application_is_part_of_the_key() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = alice_and_bob(&ctx, "");
    for kind in SkType::ALL {
        let key = fido_key(
            &ctx,
            &lib,
            &format!("bob-{kind:?}"),
            kind,
            &["application=ssh:sigtag"],
        );
        let tag = format!("v-{kind:?}");
        alice_then(&ctx, &alice, &key, &tag);
        let (_, block) = outer_layer(&ctx, &tag);
        let sig = sshsig::parse(block.as_bytes()).unwrap();
        assert!(
            sig.public_key.ends_with(b"\0\0\0\x0assh:sigtag"),
            "{kind:?}: the application closes the key blob"
        );

        // The same key point under application ssh: instead.
        let mut other = sig.public_key[..sig.public_key.len() - 14].to_vec();
        other.extend_from_slice(b"\0\0\0\x04ssh:");
        let line = format!("{} {}\n", kind.key_type(), sigtag::encoding::base64(&other));
        fs::write(ctx.keys.join("bob.pub"), &line).unwrap();
        let r = one(&ctx, &tag);
        assert!(!r.satisfied(), "{}", r.0);
        assert_eq!(
            r.problems(),
            common::problems(&[(
                Some(2),
                &format!("signed by a key nobody trusts: {}", fingerprint(&key))
            )])
        );

        fs::write(ctx.keys.join("bob.pub"), format!("{}\n", key.public)).unwrap();
        one(&ctx, &tag).assert_clean(&[("alice", 1), ("bob", 2)]);
    }
}

/// A FIDO signature taken from one layer and put under another payload is
/// bad: it rejects the tag.
#[test]
fn a_signature_over_another_payload_rejects_the_tag() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = alice_and_bob(&ctx, "");
    for kind in SkType::ALL {
        let key = fido_key(&ctx, &lib, &format!("bob-{kind:?}"), kind, &[]);
        trust_sk(&ctx, &key, "bob");
        let tag = format!("v-{kind:?}");
        alice_then(&ctx, &alice, &key, &tag);
        one(&ctx, &tag).assert_clean(&[("alice", 1), ("bob", 2)]);
        let (payload, block) = outer_layer(&ctx, &tag);
        let altered = payload.replace("co-signed with", "approved with");
        assert_ne!(altered, payload);
        let oid = ctx.write_tag_object(format!("{altered}{block}").as_bytes(), false);
        ctx.set_tag_ref(&tag, &oid);
        one(&ctx, &tag).assert_rejected(&format!(
            "bad signature by bob ({}): the layer was altered after it was signed",
            fingerprint(&key)
        ));
    }
}

/// OpenPGP author, FIDO reviewer, OpenPGP pipeline: "2 of humans and 1
/// of pipelines".
#[test]
fn a_mixed_chain_satisfies_a_mixed_rule() {
    let Some(lib) = sk_dummy() else { return };
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let staging = ctx.key("staging");
    ctx.trust(&staging);
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    for kind in SkType::ALL {
        let key = fido_key(&ctx, &lib, &format!("bob-{kind:?}"), kind, &[]);
        trust_sk(&ctx, &key, "bob");
        let tag = format!("v-{kind:?}");
        alice_then(&ctx, &alice, &key, &tag);
        let (code, reports) = ctx.verify("prod", &[&tag]);
        assert_eq!(code, 1, "no pipeline yet");
        assert_eq!(
            reports[0].signers(),
            common::signers(&[("alice", 1), ("bob", 2)])
        );
        ctx.cosign(&staging, &tag, &Sig::default());
        let (code, reports) = ctx.verify("prod", &[&tag]);
        assert_eq!(code, 0);
        reports[0].assert_clean(&[("alice", 1), ("bob", 2), ("staging", 3)]);
        let fprs: Vec<String> = reports[0]
            .signer_entries()
            .iter()
            .map(|s| s["fingerprint"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            fprs,
            [alice.fpr.clone(), fingerprint(&key), staging.fpr.clone()]
        );
        let run = explain(&ctx, &tag, "prod");
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(&format!("[{}]\n", fingerprint(&key))),
            "{}",
            run.stdout
        );
    }
}
