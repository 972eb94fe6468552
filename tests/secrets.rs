//! Secrets never show: every failing path that is handed a secret (the
//! resource's signing key, ssh key and its passphrase, http password; the
//! command line's key file and SIGTAG_PASSPHRASE) is run, and neither its
//! output nor any file left under its TMPDIR (or in its destination) holds
//! the secret or a piece of it.

mod resource_support;

use resource_support::servers::HttpServer;
use resource_support::{exec, now, Bin, Run, World};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The strings that must never appear: each secret whole, and every line of
/// 40 or more characters of it (a line of base64 is a piece of a key).
fn pieces(secrets: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for s in secrets {
        out.push(s.to_string());
        for line in s.lines().map(str::trim) {
            if line.len() >= 40 && !line.starts_with("-----") {
                out.push(line.to_string());
            }
        }
    }
    out
}

/// Every file below `dir`, with its content.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    World::files_below(dir)
        .into_iter()
        .map(|f| dir.join(f))
        .filter(|p| p.is_file())
        .map(|p| {
            let data = fs::read(&p).unwrap_or_default();
            (p, data)
        })
        .collect()
}

/// The run failed and nothing it printed or left behind holds a piece of
/// the secrets.
fn assert_silent(what: &str, run: &Run, dirs: &[&Path], secrets: &[String]) {
    assert_ne!(run.code, 0, "{what} should fail:\n{}", run.stderr);
    for s in secrets {
        assert!(
            !run.stdout.contains(s.as_str()) && !run.stderr.contains(s.as_str()),
            "{what} printed a secret ({s:?}):\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
        for dir in dirs {
            for (path, data) in files(dir) {
                let text = String::from_utf8_lossy(&data);
                assert!(
                    !text.contains(s.as_str()),
                    "{what} left a secret in {}",
                    path.display()
                );
            }
        }
    }
}

/// A resource program with its own, empty TMPDIR.
fn run(w: &World, bin: Bin, dir: Option<&Path>, request: &Value) -> (Run, PathBuf) {
    let tmp = w.fresh_dir("tmp");
    let mut cmd = w.command(bin, dir);
    cmd.env("TMPDIR", &tmp);
    (exec(cmd, request.to_string().as_bytes()), tmp)
}

fn ssh_key(w: &World, passphrase: &str) -> String {
    let path = w.unique("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    fs::read_to_string(path).unwrap()
}

#[test]
fn no_failing_path_shows_or_leaves_a_secret() {
    let w = World::new();
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let commit = w.commit("app.txt", "one\n", "one");
    w.chain_at("v1", &commit, &[&a, &b], now() - 100);

    let signing_key = w.secret(&s);
    let protected = w.protected_secret("locked");
    let ssh_passphrase = "ssh-passphrase-5e4d3c2b1a";
    let private_key = ssh_key(&w, ssh_passphrase);
    let password = "http-token-9f8e7d6c5b4a";
    let secrets = pieces(&[
        &signing_key,
        &protected,
        "hunter2",
        &private_key,
        ssh_passphrase,
        password,
    ]);
    let truncated: String = {
        let lines: Vec<&str> = signing_key.lines().collect();
        lines[..lines.len() * 2 / 3].join("\n")
    };
    let unreachable = "git://127.0.0.1:1/app.git";
    let file_source = w.standard_source(&w.file_uri(), "2 of humans");
    let put = |source: &Value, params: Value| json!({"source": source, "params": params});

    // out: a damaged key, a protected key, a key given in source with a
    // rule that does not parse, a rule the chain does not meet, and a
    // remote that cannot be reached.
    let mut with_key = file_source.clone();
    with_key["signing_key"] = json!(signing_key);
    let mut unreachable_source = w.standard_source(unreachable, "2 of humans");
    unreachable_source["signing_key"] = json!(signing_key);
    let cases = [
        (
            "out with a damaged signing key",
            "is not an OpenPGP key",
            put(&file_source, json!({"tag": "v1", "signing_key": truncated})),
        ),
        (
            "out with a protected signing key",
            "is protected by a passphrase",
            put(&file_source, json!({"tag": "v1", "signing_key": protected})),
        ),
        (
            "out with a bad params.require",
            "params.require \"2 of\"",
            put(&with_key, json!({"tag": "v1", "require": "2 of"})),
        ),
        (
            "out with a rule the chain does not meet",
            "refusing to co-sign v1",
            put(
                &with_key,
                json!({"tag": "v1", "require": "2 of humans and 1 of pipelines"}),
            ),
        ),
        (
            "out with an unreachable uri",
            "cannot fetch from git://127.0.0.1:1/app.git",
            put(&unreachable_source, json!({"tag": "v1"})),
        ),
        (
            "out with a signing key and an http password",
            "cannot fetch from http://127.0.0.1:1/app.git",
            put(
                &{
                    let mut s = w.standard_source("http://127.0.0.1:1/app.git", "2 of humans");
                    s["username"] = json!("ci");
                    s["password"] = json!(password);
                    s["insecure_http_credentials"] = json!(true);
                    s
                },
                json!({"tag": "v1", "signing_key": signing_key}),
            ),
        ),
    ];
    for (what, why, request) in &cases {
        let dir = w.fresh_dir("put");
        let (run, tmp) = run(&w, Bin::Out, Some(&dir), request);
        run.assert_fails(&[why]);
        assert_silent(what, &run, &[&tmp, &dir], &secrets);
    }

    // check and in with an ssh key and its passphrase, a password, or a
    // password in the uri, against a server that is not there.
    let mut ssh = w.standard_source("ssh://git@127.0.0.1:1/app.git", "2 of humans");
    ssh["private_key"] = json!(private_key);
    ssh["private_key_passphrase"] = json!(ssh_passphrase);
    ssh["insecure_skip_host_key_check"] = json!(true);
    let mut http = w.standard_source("http://127.0.0.1:1/app.git", "2 of humans");
    http["username"] = json!("ci");
    http["password"] = json!(password);
    http["insecure_http_credentials"] = json!(true);
    let in_uri = w.standard_source(
        &format!("https://ci:{password}@127.0.0.1:1/app.git"),
        "2 of humans",
    );
    for (what, source) in [("ssh", &ssh), ("http", &http), ("uri", &in_uri)] {
        let (run_check, tmp) = run(&w, Bin::Check, None, &json!({"source": source}));
        assert_silent(&format!("check ({what})"), &run_check, &[&tmp], &secrets);
        let dest = w.fresh_dir("get");
        let request = json!({"source": source, "version": {"tag": "v1", "commit": commit}});
        let (run_in, tmp) = run(&w, Bin::In, Some(&dest), &request);
        assert_silent(&format!("in ({what})"), &run_in, &[&tmp, &dest], &secrets);
    }

    // A server that is there and refuses the password.
    let server = HttpServer::start(w.remote.parent().unwrap(), "ci", "the-right-one");
    let mut wrong = w.standard_source(&server.url("app.git"), "2 of humans");
    wrong["username"] = json!("ci");
    wrong["password"] = json!(password);
    wrong["insecure_http_credentials"] = json!(true);
    let (run_check, tmp) = run(&w, Bin::Check, None, &json!({"source": wrong}));
    assert_silent("check (wrong password)", &run_check, &[&tmp], &secrets);
    wrong["signing_key"] = json!(signing_key);
    let dir = w.fresh_dir("put");
    let (run_out, tmp) = run(&w, Bin::Out, Some(&dir), &put(&wrong, json!({"tag": "v1"})));
    assert_silent("out (wrong password)", &run_out, &[&tmp, &dir], &secrets);

    // The command line: a protected key file with the wrong passphrase, and
    // with the right one but a push that cannot happen.
    let key_file = w.unique("locked.sec.asc");
    fs::write(&key_file, &protected).unwrap();
    let sigtag = |passphrase: &str, args: &[&str]| {
        let tmp = w.fresh_dir("tmp");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtag"));
        cmd.env_clear()
            .env("HOME", &w.root)
            .env("TMPDIR", &tmp)
            .env("SIGTAG_PASSPHRASE", passphrase)
            .current_dir(&w.work)
            .args(args);
        (exec(cmd, b""), tmp)
    };
    let key = World::s(&key_file);
    let wrong_passphrase = "not-the-passphrase-0a1b2c";
    let mut cli_secrets = secrets.clone();
    cli_secrets.push(wrong_passphrase.to_string());
    let (run_sign, tmp) = sigtag(wrong_passphrase, &["sign", "v9", "--key", &key]);
    run_sign.assert_fails(&["wrong passphrase for"]);
    assert_silent("sign (wrong passphrase)", &run_sign, &[&tmp], &cli_secrets);
    let (run_push, tmp) = sigtag(
        "hunter2",
        &["sign", "v10", "--key", &key, "--push", unreachable],
    );
    assert_silent(
        "sign (unreachable remote)",
        &run_push,
        &[&tmp],
        &cli_secrets,
    );
}
