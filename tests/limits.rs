//! Hard limits that are not about one tag object (those are in
//! verify_rules.rs and the object parser's tests): certificates per signer
//! file, and the time one check may take.

mod resource_support;

use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;
use resource_support::servers::GitDaemon;
use resource_support::{now, World};
use sequoia_openpgp as openpgp;
use serde_json::{json, Value};
use sigtag::object::{self, Kind, Tagger};
use sigtag::trust::MAX_CERTS_PER_SIGNER;
use std::fs;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

/// `n` distinct armored public certificates in one string.
fn certificates(n: usize) -> String {
    (0..n)
        .map(|i| {
            let (cert, _) = CertBuilder::new()
                .add_userid(format!("rotated {i} <rotated{i}@example.org>"))
                .add_signing_subkey()
                .generate()
                .unwrap();
            let armored = cert.armored().to_vec().unwrap();
            String::from_utf8(armored).unwrap()
        })
        .collect()
}

#[test]
fn a_signer_file_with_more_than_16_certificates_is_refused() {
    assert_eq!(MAX_CERTS_PER_SIGNER, 16);
    let w = World::new();
    let keys = w.unique("keys");
    fs::create_dir(&keys).unwrap();
    fs::write(
        keys.join("policy.toml"),
        "[groups]\nhumans = [\"alice\"]\n\n[environments.staging]\nrequire = \"1 of humans\"\n",
    )
    .unwrap();
    let verify = || {
        let out = Command::new(env!("CARGO_BIN_EXE_sigtag"))
            .env_clear()
            .env("HOME", &w.root)
            .args(["verify", "v1", "--env", "staging", "--keys"])
            .arg(&keys)
            .arg("--repo")
            .arg(&w.work)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let file = keys.join("alice.asc");

    // Sixteen certificates (a long key rotation) are fine: a verdict.
    fs::write(&file, certificates(16)).unwrap();
    let (code, _, stderr) = verify();
    assert_eq!(code, Some(1), "a verdict (no tag v1): {stderr}");

    // Seventeen are refused, with a sentence naming the file.
    fs::write(&file, certificates(17)).unwrap();
    let (code, stdout, stderr) = verify();
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let expected = format!(
        "sigtag: {}: more than 16 certificates in one signer file",
        file.display()
    );
    assert!(stderr.starts_with(&expected), "{stderr}");

    // The same limit holds for a signer of the resource's source.
    let alice = w.key("alice");
    let mut source = w.source_with(
        &w.file_uri(),
        &[&alice],
        &[("humans", &["alice"])],
        "1 of humans",
    );
    source["signers"]["alice"] = Value::String(certificates(17));
    w.check(&source, None)
        .assert_fails(&["source.signers.alice: more than 16 certificates in one signer file"]);
}

/// Writes `n` promotion tags `t0` ... on `commit` into the server
/// repository, one layer each signed by `key` (an armored secret key), the
/// way `git tag -s` writes them but without starting gpg for each.
fn many_tags(w: &World, commit: &str, secret: &str, n: usize) {
    use openpgp::parse::Parse;
    let cert = openpgp::Cert::from_bytes(secret.as_bytes()).unwrap();
    let mut key = sigtag::sign::signing_key_of(cert, "the test key").unwrap();
    let repo = git2::Repository::open(&w.remote).unwrap();
    // Signed now (the key was just made): the tags are ordered by name.
    let time = now();
    for i in 0..n {
        let name = format!("t{i}");
        let tagger = Tagger {
            ident: key.ident().unwrap(),
            time,
            tz: "+0000".into(),
        };
        let mut bytes =
            object::unsigned_payload(commit, Kind::Commit, &name, &tagger, &format!("{name}\n"));
        let at = UNIX_EPOCH + Duration::from_secs(time as u64);
        bytes.extend_from_slice(&key.sign_detached(&bytes, at).unwrap());
        let oid = repo
            .odb()
            .unwrap()
            .write(git2::ObjectType::Tag, &bytes)
            .unwrap();
        repo.reference(&format!("refs/tags/{name}"), oid, false, "test")
            .unwrap();
    }
}

#[test]
fn a_check_that_runs_out_of_time_stops_with_a_clear_error_and_resumes() {
    let w = World::new();
    let alice = w.key("alice");
    let commit = w.commit("app.txt", "one\n", "one");
    let n = 400;
    many_tags(&w, &commit, &w.secret(&alice), n);
    let source = |uri: &str, timeout: Option<f64>| {
        let mut s = w.source_with(uri, &[&alice], &[("humans", &["alice"])], "1 of humans");
        if let Some(t) = timeout {
            s["check_timeout"] = json!(t);
        }
        s
    };
    let oldest = Some(("t0", commit.as_str()));

    // A bound far below what checking 400 tags takes.
    let run = w.check(&source(&w.file_uri(), Some(0.001)), oldest);
    run.assert_fails(&[
        "the check took longer than source.check_timeout (0.001 s) and stopped",
        "raise source.check_timeout or narrow source.tag_filter",
    ]);

    // Over the network the bound covers the connection and the download.
    let daemon = GitDaemon::start(w.remote.parent().unwrap());
    let remote = daemon.url("app.git");
    let run = w.check(&source(&remote, Some(0.001)), oldest);
    run.assert_fails(&["took longer than source.check_timeout (0.001 s)"]);

    // With a bound that lets it make progress, every check keeps what it
    // verified, so repeated checks finish even if none could alone.
    let mut failures = 0;
    let versions = loop {
        let run = w.check(&source(&w.file_uri(), Some(0.5)), oldest);
        if run.code == 0 {
            break run.tags();
        }
        run.assert_fails(&["took longer than source.check_timeout (0.5 s)"]);
        failures += 1;
        assert!(failures < 40, "no progress from one check to the next");
    };
    assert_eq!(versions.len(), n);

    // The default is generous, and the field is checked.
    assert_eq!(w.check(&source(&remote, None), oldest).tags().len(), n);
    for bad in [json!(0), json!(-1), json!(86_401), json!("300")] {
        let mut s = source(&w.file_uri(), None);
        s["check_timeout"] = bad;
        w.check(&s, None)
            .assert_fails(&["source.check_timeout must be a number of seconds"]);
    }
}
