//! OpenSSH's test authenticator (sk-dummy, built by
//! tests/ssh_support/sk-dummy.sh) with the real ssh-keygen: FIDO keys of
//! both types sign in the git namespace and ssh-keygen verifies them, and
//! what ssh-keygen -Y verify makes of a signature without user presence.

mod ssh_support;

use ssh_support::*;
use std::fs;
use std::path::Path;

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sigtag-sk-")
        .tempdir_in("/tmp")
        .unwrap()
}

/// `SHA256:...` of a public key file, from ssh-keygen -l.
fn fingerprint(pub_path: &Path) -> String {
    let out = keygen_cmd().arg("-lf").arg(pub_path).output().unwrap();
    assert!(
        out.status.success(),
        "ssh-keygen -lf {}",
        pub_path.display()
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[test]
fn the_script_leaves_sk_dummy_and_its_source_version() {
    let Some(lib) = sk_dummy() else { return };
    let stamp = sk_dummy_dir().join("source-version");
    let text = fs::read_to_string(&stamp).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run {}",
            stamp.display(),
            sk_dummy_script().display()
        )
    });
    let built = text
        .lines()
        .find_map(|l| l.strip_prefix("built "))
        .unwrap_or_else(|| panic!("{} names no source version:\n{text}", stamp.display()));
    assert!(!built.is_empty());
    let wanted = text.lines().find_map(|l| l.strip_prefix("wanted "));
    assert!(wanted.is_some(), "{}:\n{text}", stamp.display());
    eprintln!("{} from openssh {built}", lib.display());
}

#[test]
fn fido_keys_sign_in_the_git_namespace_and_ssh_keygen_verifies() {
    let Some(lib) = sk_dummy() else { return };
    let dir = tempdir();
    for kind in SkType::ALL {
        let key = make_sk_key(&lib, dir.path(), &format!("alice-{kind:?}"), kind, &[]);
        let file = dir.path().join(format!("tag-{kind:?}"));
        fs::write(&file, b"object 0123\ntype commit\ntag v1\n\nrelease\n").unwrap();
        let sig = key.sign(&file, "git");
        let armored = fs::read_to_string(&sig).unwrap();
        assert!(
            armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"),
            "{armored}"
        );

        let allowed = dir.path().join(format!("allowed-{kind:?}"));
        fs::write(
            &allowed,
            key.allowed_signers_line("alice@example.org", "namespaces=\"git\""),
        )
        .unwrap();
        let out = ssh_verify(&allowed, "alice@example.org", "git", &file, &sig);
        assert_eq!(out.code, 0, "{kind:?}: {out:?}");
        assert_eq!(
            out.stdout.trim(),
            format!(
                "Good \"git\" signature for alice@example.org with {} key {}",
                kind.display_name(),
                fingerprint(&key.pub_path())
            )
        );
        assert_eq!(
            out.sig_flags(),
            Some(FLAG_USER_PRESENT),
            "{kind:?}: {out:?}"
        );
        assert_eq!(
            out.sig_counter(),
            Some(SK_DUMMY_COUNTER),
            "{kind:?}: {out:?}"
        );

        // The verifier is not a rubber stamp: other bytes, another
        // namespace or another signer's key fail.
        let other = dir.path().join(format!("other-{kind:?}"));
        fs::write(&other, b"object 4567\n").unwrap();
        let out = ssh_verify(&allowed, "alice@example.org", "git", &other, &sig);
        assert_ne!(out.code, 0, "{kind:?}: other bytes: {out:?}");
        let out = ssh_verify(&allowed, "alice@example.org", "file", &file, &sig);
        assert_ne!(out.code, 0, "{kind:?}: other namespace: {out:?}");
        let mallory = make_sk_key(&lib, dir.path(), &format!("mallory-{kind:?}"), kind, &[]);
        let wrong = dir.path().join(format!("allowed-mallory-{kind:?}"));
        fs::write(
            &wrong,
            mallory.allowed_signers_line("alice@example.org", ""),
        )
        .unwrap();
        let out = ssh_verify(&wrong, "alice@example.org", "git", &file, &sig);
        assert_ne!(out.code, 0, "{kind:?}: another key: {out:?}");
    }
}

/// A no-touch-required key signs with flags 0x00. ssh-keygen -Y verify
/// accepts that signature with a plain allowed_signers line: it does not
/// look at the flags. allowed_signers has no `no-touch-required` option:
/// a line with one is refused as a bad option, and the signature with it,
/// whatever its flags.
#[test]
fn ssh_keygen_accepts_a_signature_without_user_presence() {
    let Some(lib) = sk_dummy() else { return };
    let dir = tempdir();
    for kind in SkType::ALL {
        let untouched = make_sk_key(
            &lib,
            dir.path(),
            &format!("untouched-{kind:?}"),
            kind,
            &["no-touch-required"],
        );
        let touched = make_sk_key(&lib, dir.path(), &format!("touched-{kind:?}"), kind, &[]);
        for (key, flags) in [(&untouched, 0x00), (&touched, FLAG_USER_PRESENT)] {
            let file = key.path.with_extension("txt");
            fs::write(&file, b"release\n").unwrap();
            let sig = key.sign(&file, "git");

            let plain = dir.path().join("allowed-plain");
            fs::write(&plain, key.allowed_signers_line("alice", "")).unwrap();
            let out = ssh_verify(&plain, "alice", "git", &file, &sig);
            assert_eq!(out.code, 0, "{kind:?} flags {flags:#04x}: {out:?}");
            assert!(out
                .stdout
                .starts_with("Good \"git\" signature for alice with "));
            assert_eq!(out.sig_flags(), Some(flags), "{kind:?}: {out:?}");

            let no_touch = dir.path().join("allowed-no-touch");
            fs::write(
                &no_touch,
                key.allowed_signers_line("alice", "no-touch-required"),
            )
            .unwrap();
            let out = ssh_verify(&no_touch, "alice", "git", &file, &sig);
            assert_eq!(out.code, 255, "{kind:?} flags {flags:#04x}: {out:?}");
            assert_eq!(out.stdout.trim(), "Could not verify signature.");
            assert!(
                out.stderr.contains(&format!(
                    "{}:1: bad options: unknown key option",
                    no_touch.display()
                )),
                "{kind:?}: {out:?}"
            );
        }
    }
}

/// verify-required adds user verification: 0x05 with a touch, 0x04 with
/// no-touch-required as well (verified, yet not present). ssh-keygen
/// accepts both.
#[test]
fn verify_required_keys_sign_with_the_user_verified_flag() {
    let Some(lib) = sk_dummy() else { return };
    let dir = tempdir();
    for kind in SkType::ALL {
        for (options, flags) in [
            (
                &["verify-required"][..],
                FLAG_USER_PRESENT | FLAG_USER_VERIFIED,
            ),
            (
                &["verify-required", "no-touch-required"][..],
                FLAG_USER_VERIFIED,
            ),
        ] {
            let name = format!("{kind:?}-{}", options.join("-"));
            let key = make_sk_key(&lib, dir.path(), &name, kind, options);
            let file = dir.path().join(format!("{name}.txt"));
            fs::write(&file, b"release\n").unwrap();
            let sig = key.sign(&file, "git");
            let allowed = dir.path().join(format!("{name}.allowed"));
            fs::write(&allowed, key.allowed_signers_line("alice", "")).unwrap();
            let out = ssh_verify(&allowed, "alice", "git", &file, &sig);
            assert_eq!(out.code, 0, "{name}: {out:?}");
            assert_eq!(out.sig_flags(), Some(flags), "{name}: {out:?}");
        }
    }
}
