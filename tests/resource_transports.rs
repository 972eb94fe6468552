//! check, in and out over every transport a source may name, against real
//! servers on loopback: `git daemon` (git://), `git http-backend` behind
//! basic authentication (http://, and https:// through a TLS terminator
//! with a test certificate), and sshd with key authentication and a pinned
//! host key (ssh://).

mod resource_support;

use resource_support::servers::{GitDaemon, HttpServer, SshServer, TlsProxy};
use resource_support::{now, output_parts, World};
use serde_json::{json, Value};

/// The story over one transport: check sees the two-human tag, in checks
/// it out, out counter-signs it, prod's check then sees it, and the
/// implicit get after the put passes.
fn round_trip(w: &World, source: &Value, expect_in_config: impl Fn(&str)) {
    let (a, b, s) = (w.key("alice"), w.key("bob"), w.key("staging"));
    let t = now() - 1000;
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], t);
    w.release("v2", "app.txt", "two\n", "two", &[&a], t + 10);

    let run = w.check(source, None);
    assert_eq!(
        run.versions(),
        vec![("v1".to_string(), c1.clone())],
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("skipping v2:"), "{}", run.stderr);
    // Again, from the version: the cache is reused.
    let run = w.check(source, Some(("v1", &c1)));
    assert_eq!(run.tags(), vec!["v1"]);
    assert!(run.stderr.contains("1 from the cache"), "{}", run.stderr);

    let dest = w.fresh_dir("get");
    let (version, _) = output_parts(&w.get(source, "v1", &c1, &dest).ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    assert_eq!(
        std::fs::read_to_string(dest.join("app.txt")).unwrap(),
        "one\n"
    );
    expect_in_config(&std::fs::read_to_string(dest.join(".git/config")).unwrap());

    let sources = w.fresh_dir("put");
    let run = w.put(
        source,
        json!({"tag": "v1", "signing_key": w.secret(&s)}),
        &sources,
    );
    let (version, _) = output_parts(&run.ok());
    assert_eq!(version, ("v1".to_string(), c1.clone()));
    assert_eq!(w.layers("v1"), 3);

    let mut prod = source.clone();
    prod["require"] = json!("2 of humans and 1 of pipelines");
    assert_eq!(w.check(&prod, Some(("v1", &c1))).tags(), vec!["v1"]);
    let dest = w.fresh_dir("get");
    w.get(&prod, "v1", &c1, &dest).ok();

    // The staging pipeline's own check does not see a new version.
    assert_eq!(
        w.check(source, Some(("v1", &c1))).versions(),
        vec![("v1".to_string(), c1)]
    );
}

#[test]
fn git_daemon() {
    let w = World::new();
    let daemon = GitDaemon::start(w.remote.parent().unwrap());
    let source = w.standard_source(&daemon.url("app.git"), "2 of humans");
    round_trip(&w, &source, |_| {});

    // Only tags and the objects they need are fetched: a commit on main
    // that no tag names is not in the cache.
    let untagged = w.commit("app.txt", "untagged\n", "untagged");
    w.check(&source, None).ok();
    let cache = std::fs::read_dir(w.tmp.join("sigtag-resource"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path()
        .join("repo.git");
    let refs = w.git_in(&cache, &["for-each-ref", "--format=%(refname)"]);
    assert_eq!(refs, "refs/tags/v1\nrefs/tags/v2");
    let has = w
        .git_cmd(&cache)
        .args(["cat-file", "-e", &untagged])
        .output()
        .unwrap();
    assert!(!has.status.success(), "the untagged commit was not fetched");
}

#[test]
fn http_with_basic_auth() {
    let w = World::new();
    let server = HttpServer::start(w.remote.parent().unwrap(), "ci", "s3cret-pass");
    let mut source = w.standard_source(&server.url("app.git"), "2 of humans");
    source["username"] = json!("ci");
    source["password"] = json!("s3cret-pass");
    source["insecure_http_credentials"] = json!(true);
    round_trip(&w, &source, |config| {
        assert!(
            !config.contains("s3cret-pass"),
            "no password in .git/config"
        );
    });
    assert!(
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("POST /app.git/git-receive-pack -> 200")),
        "the push went through http-backend: {:?}",
        server.log.lock().unwrap()
    );

    // A wrong password fails after a bounded number of attempts, without
    // printing it.
    let before = server.log.lock().unwrap().len();
    let mut wrong = source.clone();
    wrong["password"] = json!("wrong-pass");
    for bin in [
        resource_support::Bin::Check,
        resource_support::Bin::In,
        resource_support::Bin::Out,
    ] {
        let dir = w.fresh_dir("d");
        let staging = w.secret(&w.key("staging"));
        let req = json!({"source": wrong, "version": {"tag": "v1", "commit": "a".repeat(40)},
                         "params": {"tag": "v1", "signing_key": staging}});
        let req = match bin {
            resource_support::Bin::Check => json!({"source": wrong}),
            resource_support::Bin::In => {
                json!({"source": wrong, "version": req["version"]})
            }
            resource_support::Bin::Out => json!({"source": wrong, "params": req["params"]}),
        };
        let run = w.run(
            bin,
            Some(dir.as_path()).filter(|_| !matches!(bin, resource_support::Bin::Check)),
            req.to_string().as_bytes(),
        );
        run.assert_fails(&["authentication", "source.username and source.password"]);
        assert!(!run.stderr.contains("wrong-pass"), "{}", run.stderr);
        assert!(World::files_below(&dir).is_empty());
    }
    let refused = server.log.lock().unwrap()[before..]
        .iter()
        .filter(|l| l.ends_with("-> 401"))
        .count();
    assert!(
        (1..=15).contains(&refused),
        "bounded retries, got {refused} refusals"
    );

    // Credentials written into the uri are never shown nor stored.
    let mut inline = w.standard_source(
        &format!("http://ci:s3cret-pass@127.0.0.1:{}/app.git", server.port),
        "2 of humans",
    );
    inline["insecure_http_credentials"] = json!(true);
    let c1 = w.tag_commit("v1");
    let dest = w.fresh_dir("get");
    let run = w.get(&inline, "v1", &c1, &dest);
    run.ok();
    assert!(!run.stderr.contains("s3cret-pass"));
    let config = std::fs::read_to_string(dest.join(".git/config")).unwrap();
    assert!(!config.contains("s3cret-pass"), "{config}");
    inline["require"] = json!("3 of humans");
    let run = w.check(&inline, None);
    assert!(!run.stderr.contains("s3cret-pass"), "{}", run.stderr);
}

#[test]
fn https_with_basic_auth() {
    let w = World::new();
    let server = HttpServer::start(w.remote.parent().unwrap(), "ci", "s3cret-pass");
    let tls = TlsProxy::start(&w.root.join("tls"), server.port);
    let mut source = w.standard_source(&tls.url("app.git"), "2 of humans");
    source["username"] = json!("ci");
    source["password"] = json!("s3cret-pass");

    // The server's certificate is not trusted yet.
    let run = w.check(&source, None);
    run.assert_fails(&["cannot reach https://127.0.0.1", "CA certificates"]);
    assert!(!run.stderr.contains("s3cret-pass"));

    // Trusted the way a worker's CA certificates are.
    w.set_env("SSL_CERT_FILE", tls.cert.to_str().unwrap());
    round_trip(&w, &source, |config| {
        assert!(
            !config.contains("s3cret-pass"),
            "no password in .git/config"
        );
    });
    assert!(server
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("POST /app.git/git-receive-pack -> 200")));
}

#[test]
fn ssh_with_a_key_and_a_pinned_host_key() {
    let w = World::new();
    let sshd = SshServer::start(&w.root.join("sshd"));
    let mut source = w.standard_source(&sshd.url(&w.remote), "2 of humans");
    source["private_key"] = json!(sshd.client_key);
    source["known_hosts"] = json!(sshd.known_hosts);
    round_trip(&w, &source, |config| {
        assert!(!config.contains("PRIVATE KEY"));
    });

    // Another host key is refused, for every program.
    let other = ssh_keygen_pub(&w);
    let mut wrong = source.clone();
    wrong["known_hosts"] = json!(format!("[127.0.0.1]:{} {other}\n", sshd.port));
    let run = w.check(&wrong, None);
    run.assert_fails(&["not among the pinned known hosts", "SHA256:"]);
    let c1 = w.tag_commit("v1");
    let dest = w.fresh_dir("get");
    w.get(&wrong, "v1", &c1, &dest)
        .assert_fails(&["not among the pinned known hosts"]);
    assert!(World::files_below(&dest).is_empty());

    // Without known_hosts the host key is checked only when the source
    // turns the check off in so many words, and then every step says so.
    let mut unpinned = source.clone();
    unpinned.as_object_mut().unwrap().remove("known_hosts");
    unpinned["insecure_skip_host_key_check"] = json!(true);
    let run = w.check(&unpinned, None);
    assert_eq!(run.tags(), vec!["v1"]);
    let warning = "source.insecure_skip_host_key_check is true: the host key of";
    assert!(run.stderr.contains(warning), "{}", run.stderr);
    let dest = w.fresh_dir("get");
    let run = w.get(&unpinned, "v1", &c1, &dest);
    run.ok();
    assert!(run.stderr.contains(warning), "{}", run.stderr);
    let run = w.put(
        &unpinned,
        json!({"tag": "v1", "signing_key": w.secret(&w.key("staging"))}),
        &w.fresh_dir("put"),
    );
    run.ok();
    assert!(run.stderr.contains(warning), "{}", run.stderr);

    // A client key protected by a passphrase.
    let path = w.unique("protected");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "pass phrase", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    sshd.authorize(&std::fs::read_to_string(path.with_extension("pub")).unwrap());
    let mut protected = source.clone();
    protected["private_key"] = json!(std::fs::read_to_string(&path).unwrap());
    protected["private_key_passphrase"] = json!("pass phrase");
    assert_eq!(w.check(&protected, None).tags(), vec!["v1"]);
    protected["private_key_passphrase"] = json!("wrong phrase");
    let run = w.check(&protected, None);
    run.assert_fails(&["source.private_key"]);
    assert!(!run.stderr.contains("wrong phrase"), "{}", run.stderr);

    // A key the server does not accept fails, bounded, without printing it.
    let mut stranger = source.clone();
    stranger["private_key"] = json!(ssh_keygen_private(&w));
    let run = w.check(&stranger, None);
    run.assert_fails(&["source.private_key"]);
    assert!(!run.stderr.contains("PRIVATE KEY"), "{}", run.stderr);
}

fn ssh_keygen(w: &World) -> std::path::PathBuf {
    let path = w.unique("key");
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    path
}

fn ssh_keygen_pub(w: &World) -> String {
    let path = ssh_keygen(w);
    let text = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    let mut f = text.split_whitespace();
    format!("{} {}", f.next().unwrap(), f.next().unwrap())
}

fn ssh_keygen_private(w: &World) -> String {
    std::fs::read_to_string(ssh_keygen(w)).unwrap()
}
