//! Bad input: every mistake is one sentence on stderr, a non-zero exit and
//! nothing on stdout, found before any network access.

mod resource_support;

use resource_support::{Bin, World};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::time::Duration;

const ALL: [Bin; 3] = [Bin::Check, Bin::In, Bin::Out];

/// A TCP port that records whether anybody connected to it.
struct Witness {
    listener: TcpListener,
}

impl Witness {
    fn new() -> Witness {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Witness { listener }
    }
    fn uri(&self) -> String {
        format!(
            "git://127.0.0.1:{}/app.git",
            self.listener.local_addr().unwrap().port()
        )
    }
    fn connected(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

/// Runs every program on `input` and expects each to fail naming
/// `fragments`.
fn all_fail(w: &World, input: &[u8], fragments: &[&str]) {
    for bin in ALL {
        let dir = w.fresh_dir("dest");
        let run = w.run(
            bin,
            Some(dir.as_path()).filter(|_| !matches!(bin, Bin::Check)),
            input,
        );
        run.assert_fails(fragments);
        assert_eq!(
            run.stderr.trim_end().lines().count(),
            1,
            "{bin:?}: one sentence: {}",
            run.stderr
        );
        assert!(World::files_below(&dir).is_empty(), "{bin:?} wrote nothing");
    }
}

fn request(source: &Value) -> Vec<u8> {
    let c = "a".repeat(40);
    json!({"source": source, "version": {"tag": "v1", "commit": c}, "params": {"tag": "v1"}})
        .to_string()
        .into_bytes()
}

#[test]
fn not_json_or_empty() {
    let w = World::new();
    all_fail(&w, b"", &["the request on stdin is empty"]);
    all_fail(&w, b"  \n", &["the request on stdin is empty"]);
    all_fail(&w, b"{\"source\": ", &["not valid JSON", "line 1"]);
    all_fail(&w, b"source: {}", &["not valid JSON"]);
    all_fail(&w, b"[1, 2]", &["a JSON array, not an object"]);
    all_fail(&w, b"{}", &["no source"]);
    all_fail(&w, b"{\"source\": \"uri\"}", &["source must be an object"]);
    all_fail(&w, b"\xff\xfe", &["not UTF-8"]);
}

#[test]
fn unknown_fields() {
    let w = World::new();
    let witness = Witness::new();
    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["url"] = json!("https://example.org/app.git");
    all_fail(
        &w,
        &request(&source),
        &[
            "source has an unknown field \"url\"",
            "did you mean \"uri\"?",
        ],
    );
    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["branch"] = json!("main");
    all_fail(
        &w,
        &request(&source),
        &["source has an unknown field \"branch\""],
    );
    let source = w.standard_source(&witness.uri(), "2 of humans");
    let mut req: Value = serde_json::from_slice(&request(&source)).unwrap();
    req["space"] = json!("x");
    all_fail(
        &w,
        req.to_string().as_bytes(),
        &["the request has an unknown field \"space\""],
    );
    assert!(!witness.connected(), "no network access before validation");
}

#[test]
fn bad_keys() {
    let w = World::new();
    let witness = Witness::new();
    let alice = w.key("alice");

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signers"]["bob"] = json!(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n"
    );
    all_fail(
        &w,
        &request(&source),
        &["source.signers.bob", "not an OpenPGP certificate"],
    );

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signers"]["bob"] = json!(w.secret(&w.key("bob")));
    all_fail(
        &w,
        &request(&source),
        &["source.signers.bob", "secret key material"],
    );

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signers"]["bob"] = json!(w.cert(&alice));
    all_fail(&w, &request(&source), &["same certificate", "alice", "bob"]);

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signers"]["bob"] = json!(42);
    all_fail(
        &w,
        &request(&source),
        &["source.signers.bob must be a string"],
    );

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signers"]["Bob"] = source["signers"]["bob"].take();
    source["signers"].as_object_mut().unwrap().remove("bob");
    source["groups"]["humans"] = json!(["alice", "Bob"]);
    all_fail(
        &w,
        &request(&source),
        &["\"Bob\" is not a valid signer name"],
    );

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signers"] = json!({});
    all_fail(
        &w,
        &request(&source),
        &["source.signers is missing or empty"],
    );

    let mut source = w.standard_source(&witness.uri(), "2 of humans");
    source["signing_key"] = json!(w.cert(&alice));
    all_fail(
        &w,
        &request(&source),
        &["source.signing_key holds only a public certificate"],
    );
    assert!(!witness.connected(), "no network access before validation");
}

#[test]
fn bad_groups_and_rules() {
    let w = World::new();
    let witness = Witness::new();
    let uri = witness.uri();

    let source = w.standard_source(&uri, "2 of admins");
    all_fail(
        &w,
        &request(&source),
        &[
            "source.require",
            "unknown group \"admins\"",
            "source.groups",
        ],
    );
    let source = w.standard_source(&uri, "3 of humans");
    all_fail(
        &w,
        &request(&source),
        &["needs 3 of humans but the group has only 2"],
    );
    let source = w.standard_source(&uri, "2 of humans and");
    all_fail(&w, &request(&source), &["source.require", "column"]);
    let source = w.standard_source(&uri, "0 of humans");
    all_fail(&w, &request(&source), &["source.require", "at least 1"]);

    let mut source = w.standard_source(&uri, "2 of humans");
    source["groups"]["humans"] = json!(["alice", "dave"]);
    all_fail(
        &w,
        &request(&source),
        &[
            "source.groups.humans names \"dave\"",
            "not in source.signers",
        ],
    );
    let mut source = w.standard_source(&uri, "2 of humans");
    source["groups"]["humans"] = json!("alice");
    all_fail(
        &w,
        &request(&source),
        &["source.groups.humans must be a list"],
    );
    let mut source = w.standard_source(&uri, "2 of humans");
    source["groups"]["humans"] = json!(["alice", "alice"]);
    all_fail(&w, &request(&source), &["lists \"alice\" twice"]);

    let mut source = w.standard_source(&uri, "2 of humans");
    source.as_object_mut().unwrap().remove("require");
    all_fail(&w, &request(&source), &["source.require is missing"]);
    let mut source = w.standard_source(&uri, "2 of humans");
    source["require"] = json!(2);
    all_fail(&w, &request(&source), &["source.require must be a string"]);
    assert!(!witness.connected(), "no network access before validation");
}

#[test]
fn bad_uris_and_credentials() {
    let w = World::new();
    let source = |uri: &str| w.standard_source(uri, "2 of humans");

    let mut s = source("x");
    s.as_object_mut().unwrap().remove("uri");
    all_fail(&w, &request(&s), &["source.uri is missing"]);
    for uri in [
        "ftp://example.org/app.git",
        "app.git",
        "/srv/app.git",
        "https://",
    ] {
        all_fail(
            &w,
            &request(&source(uri)),
            &["is not a git URL sigtag can use"],
        );
    }
    // A password in the uri is never shown.
    all_fail(
        &w,
        &request(&source("ftp://alice:s3cret@example.org/app.git")),
        &["ftp://***@example.org/app.git"],
    );

    let mut s = source("https://example.org/app.git");
    s["private_key"] =
        json!("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n");
    all_fail(&w, &request(&s), &["source.private_key", "not an ssh URL"]);
    let mut s = source("git@example.org:app.git");
    s["private_key"] = json!("hunter2");
    all_fail(
        &w,
        &request(&s),
        &["source.private_key is not an ssh private key"],
    );
    let mut s = source("https://example.org/app.git");
    s["password"] = json!("hunter2");
    let dir = w.fresh_dir("d");
    let run = w.run(Bin::Out, Some(&dir), &request(&s));
    run.assert_fails(&["source.username and source.password go together"]);
    assert!(!run.stderr.contains("hunter2"));
    let mut s = source("ssh://git@example.org/app.git");
    s["username"] = json!("alice");
    s["password"] = json!("hunter2");
    all_fail(&w, &request(&s), &["are for https:// URLs"]);
    let mut s = source("ssh://git@example.org/app.git");
    s["known_hosts"] = json!("example.org ssh-ed25519 !!!notbase64");
    all_fail(&w, &request(&s), &["source.known_hosts: line 1", "base64"]);
    let mut s = source("https://example.org/app.git");
    s["known_hosts"] = json!("example.org ssh-ed25519 AAAA");
    all_fail(
        &w,
        &request(&s),
        &["source.known_hosts is set but source.uri is not an ssh URL"],
    );
    let mut s = source("https://example.org/app.git");
    s["tag_filter"] = json!("");
    all_fail(&w, &request(&s), &["source.tag_filter is empty"]);
}

#[test]
fn unsafe_transports_are_configuration_errors() {
    let w = World::new();
    let witness = Witness::new();
    let port = witness.listener.local_addr().unwrap().port();
    let ssh = format!("ssh://git@127.0.0.1:{port}/app.git");
    let http = format!("http://127.0.0.1:{port}/app.git");
    let source = |uri: &str| w.standard_source(uri, "2 of humans");

    // ssh without known_hosts fails closed, before connecting.
    all_fail(
        &w,
        &request(&source(&ssh)),
        &[&format!(
            "sigtag: source.known_hosts is not set, so the host key of the ssh server could not be checked; set source.known_hosts to the output of ssh-keyscan -p {port} 127.0.0.1, or set source.insecure_skip_host_key_check: true"
        )],
    );
    all_fail(
        &w,
        &request(&source("git@example.org:app.git")),
        &["output of ssh-keyscan example.org, or set source.insecure_skip_host_key_check: true"],
    );
    let mut s = source(&ssh);
    s["insecure_skip_host_key_check"] = json!(false);
    all_fail(&w, &request(&s), &["source.known_hosts is not set"]);
    s["insecure_skip_host_key_check"] = json!("yes");
    all_fail(
        &w,
        &request(&s),
        &["source.insecure_skip_host_key_check must be true or false, not a string"],
    );
    s["insecure_skip_host_key_check"] = json!(true);
    s["known_hosts"] = json!(format!(
        "[127.0.0.1]:{port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
    ));
    all_fail(
        &w,
        &request(&s),
        &["source.insecure_skip_host_key_check is true but source.known_hosts is set"],
    );
    let mut s = source(&witness.uri());
    s["insecure_skip_host_key_check"] = json!(true);
    all_fail(
        &w,
        &request(&s),
        &["source.insecure_skip_host_key_check is set but source.uri is not an ssh URL"],
    );

    // A password, or a token in the uri, over plain http://.
    let mut s = source(&http);
    s["username"] = json!("ci");
    s["password"] = json!("hunter2");
    all_fail(
        &w,
        &request(&s),
        &["sigtag: source.password would go over plain http://, where anybody on the way can read it; use an https:// uri, or set source.insecure_http_credentials: true"],
    );
    all_fail(
        &w,
        &request(&source(&format!(
            "http://T0KEN-1234@127.0.0.1:{port}/app.git"
        ))),
        &["the user info in source.uri would go over plain http://"],
    );
    let mut s = source(&format!("https://127.0.0.1:{port}/app.git"));
    s["insecure_http_credentials"] = json!(true);
    all_fail(
        &w,
        &request(&s),
        &["source.insecure_http_credentials is set but source.uri is not an http:// URL"],
    );

    // network_timeout is a number of seconds, above 0, at most a day.
    for (value, fragment) in [
        (
            json!(0),
            "source.network_timeout must be a number of seconds above 0 and at most 86400 (a day)",
        ),
        (
            json!(86401),
            "source.network_timeout must be a number of seconds above 0 and at most 86400",
        ),
        (
            json!(-1),
            "source.network_timeout must be a number of seconds above 0",
        ),
        (
            json!("60"),
            "source.network_timeout must be a number of seconds, like 60, not a string",
        ),
    ] {
        let mut s = source(&witness.uri());
        s["network_timeout"] = value;
        all_fail(&w, &request(&s), &[fragment]);
    }
    assert!(!witness.connected(), "no network access before validation");
}

#[test]
fn bad_versions() {
    let w = World::new();
    let witness = Witness::new();
    let source = w.standard_source(&witness.uri(), "2 of humans");
    for (version, fragment) in [
        (json!({"tag": "v1"}), "has no \"commit\""),
        (
            json!({"ref": "v1", "commit": "a".repeat(40)}),
            "unknown field \"ref\"",
        ),
        (json!({"tag": "v1", "commit": "HEAD"}), "not an object id"),
        (
            json!({"tag": 1, "commit": "a".repeat(40)}),
            "has a number as \"tag\"",
        ),
        (
            json!({"tag": "v1..2", "commit": "a".repeat(40)}),
            "not a tag name",
        ),
        (json!("v1"), "is a string"),
    ] {
        for bin in [Bin::Check, Bin::In] {
            let dir = w.fresh_dir("d");
            let req = json!({"source": source, "version": version});
            let run = w.run(
                bin,
                Some(dir.as_path()).filter(|_| matches!(bin, Bin::In)),
                req.to_string().as_bytes(),
            );
            run.assert_fails(&["version", fragment]);
        }
    }
    assert!(!witness.connected(), "no network access before validation");
}

#[test]
fn unreachable_uris() {
    let w = World::new();
    // A port that refuses connections, and a repository that does not exist.
    let closed = resource_support::servers::free_port();
    for uri in [
        format!("git://127.0.0.1:{closed}/app.git"),
        format!("file://{}/nothing.git", w.root.display()),
    ] {
        let source = w.standard_source(&uri, "2 of humans");
        for bin in ALL {
            let dir = w.fresh_dir("d");
            let secret = w.secret(&w.key("staging"));
            let req = match bin {
                Bin::Check => json!({"source": source}),
                Bin::In => json!({"source": source,
                                  "version": {"tag": "v1", "commit": "a".repeat(40)}}),
                Bin::Out => json!({"source": source,
                                   "params": {"tag": "v1", "signing_key": secret}}),
            };
            let run = w.run(
                bin,
                Some(dir.as_path()).filter(|_| !matches!(bin, Bin::Check)),
                req.to_string().as_bytes(),
            );
            run.assert_fails(&[&uri]);
            assert!(
                run.stderr.contains("cannot reach")
                    || run.stderr.contains("cannot read")
                    || run.stderr.contains("cannot fetch"),
                "{bin:?}: {}",
                run.stderr
            );
            assert!(!run.stderr.contains("PRIVATE KEY"), "no secret in the log");
            assert!(World::files_below(&dir).is_empty(), "{bin:?} left files");
        }
    }
}

#[test]
fn a_valid_request_does_reach_the_network() {
    // The control for the "no network access" assertions above.
    let w = World::new();
    let witness = Witness::new();
    let source = w.standard_source(&witness.uri(), "2 of humans");
    let cmd = w.command(Bin::Check, None);
    let req = json!({"source": source}).to_string();
    let child = std::thread::spawn(move || resource_support::exec(cmd, req.as_bytes()));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut seen = false;
    while std::time::Instant::now() < deadline {
        if let Ok((stream, _)) = witness.listener.accept() {
            seen = true;
            drop(stream);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let run = child.join().unwrap();
    assert!(seen, "check connected to the uri");
    run.assert_fails(&[&witness.uri()]);
}
