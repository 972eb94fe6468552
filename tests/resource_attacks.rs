//! Hostile servers and hostile input against check, in and out, each built
//! with real servers on loopback: a man in the middle of ssh, a git host
//! that redirects credentials elsewhere, a token in the uri, a server that
//! accepts connections and never answers, and a put message that tries to
//! repaint a terminal or forge the lines sigtag writes.

mod resource_support;

use resource_support::servers::{HttpServer, SilentServer, SshServer, Trap, TrapServer};
use resource_support::{exec_within, leaks, now, output_parts, Bin, Run, World};
use serde_json::{json, Value};
use std::time::Duration;

/// The request each program gets for tag v1 at `commit`.
fn request(w: &World, bin: Bin, source: &Value, commit: &str) -> Value {
    match bin {
        Bin::Check => json!({"source": source}),
        Bin::In => json!({"source": source, "version": {"tag": "v1", "commit": commit}}),
        Bin::Out => json!({"source": source,
                           "params": {"tag": "v1", "signing_key": w.secret(&w.key("staging"))}}),
    }
}

/// Runs `bin` as Concourse does, in a fresh directory (in and out).
fn step(w: &World, bin: Bin, source: &Value, commit: &str) -> (Run, std::path::PathBuf) {
    let dir = w.fresh_dir("step");
    let req = request(w, bin, source, commit);
    let run = w.run(
        bin,
        Some(dir.as_path()).filter(|_| !matches!(bin, Bin::Check)),
        req.to_string().as_bytes(),
    );
    (run, dir)
}

/// [`step`] with a TMPDIR of its own, returned with the directory.
fn step_in_fresh_tmp(
    w: &World,
    bin: Bin,
    source: &Value,
    commit: &str,
) -> (Run, std::path::PathBuf, std::path::PathBuf) {
    let tmp = w.fresh_dir("tmp");
    let dir = w.fresh_dir("step");
    let req = request(w, bin, source, commit);
    let run = w.run_env(
        bin,
        Some(dir.as_path()).filter(|_| !matches!(bin, Bin::Check)),
        req.to_string().as_bytes(),
        &[("TMPDIR", &World::s(&tmp))],
    );
    (run, tmp, dir)
}

/// The one line a failed step printed last.
fn last_line(run: &Run) -> &str {
    run.stderr.trim_end().lines().last().unwrap_or("")
}

/// A repository with v1 signed by alice and bob; returns v1's commit.
fn released(w: &World) -> String {
    let (a, b) = (w.key("alice"), w.key("bob"));
    w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100)
}

// ------------------------------------------------------------------ ssh

#[test]
fn ssh_without_known_hosts_fails_closed_before_connecting() {
    let w = World::new();
    let commit = released(&w);
    let sshd = SshServer::start(&w.root.join("sshd"));
    let mut source = w.standard_source(&sshd.url(&w.remote), "2 of humans");
    source["private_key"] = json!(sshd.client_key);
    let log = w.root.join("sshd").join("sshd.log");
    let connections = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("Connection from")
            .count()
    };
    let before = connections();
    let sentence = format!(
        "sigtag: source.known_hosts is not set, so the host key of the ssh server could not be checked; set source.known_hosts to the output of ssh-keyscan -p {} 127.0.0.1, or set source.insecure_skip_host_key_check: true",
        sshd.port
    );
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let (run, dir) = step(&w, bin, &source, &commit);
        run.assert_fails(&[]);
        assert_eq!(run.stderr.trim_end(), sentence, "{bin:?}");
        assert!(World::files_below(&dir).is_empty(), "{bin:?} wrote nothing");
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(connections(), before, "nobody connected to sshd");
    let outer = w.tag_object("v1");

    // The explicit opt-out works, and every step says so.
    source["insecure_skip_host_key_check"] = json!(true);
    let warning = format!(
        "sigtag: source.insecure_skip_host_key_check is true: the host key of {} is not checked, so anybody between this worker and the server can pose as it and withhold or replay tags",
        sshd.url(&w.remote)
    );
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let (run, _) = step(&w, bin, &source, &commit);
        run.ok();
        assert!(
            run.stderr.lines().any(|l| l == warning),
            "{bin:?} logs the opt-out:\n{}",
            run.stderr
        );
    }
    assert_ne!(w.tag_object("v1"), outer, "the put went through");
    assert!(connections() > before, "and connected");
}

// ------------------------------------------------------------ redirects

/// A source for `uri` with a password, over plain http on purpose.
fn with_password(w: &World, uri: &str, password: &str) -> Value {
    let mut source = w.standard_source(uri, "2 of humans");
    source["username"] = json!("ci");
    source["password"] = json!(password);
    source["insecure_http_credentials"] = json!(true);
    source
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let w = World::new();
    let commit = released(&w);
    let password = "redirected-secret-77";
    // The other host asks for credentials and records what it gets.
    let other = TrapServer::start(Trap::Challenge);
    let git_host = TrapServer::start(Trap::Redirect(format!("http://localhost:{}", other.port)));
    let uri = format!("http://127.0.0.1:{}/app.git", git_host.port);
    let source = with_password(&w, &uri, password);

    // check lists the refs through libgit2's connect, which follows the
    // first redirect: the other host asks, and is refused.
    let (run, _) = step(&w, Bin::Check, &source, &commit);
    run.assert_fails(&[]);
    assert_eq!(
        last_line(&run),
        format!(
            "sigtag: cannot reach {uri}: localhost:{} asked for credentials (after a redirect), and sigtag gives credentials only to 127.0.0.1:{}, the host and port of source.uri; set source.uri to the address the repository really has",
            other.port, git_host.port
        )
    );
    assert!(
        !other.requests.lock().unwrap().is_empty(),
        "check followed the redirect: the test reaches the other host"
    );
    // in and out refuse the redirect itself.
    for bin in [Bin::In, Bin::Out] {
        let (run, dir) = step(&w, bin, &source, &commit);
        run.assert_fails(&[]);
        assert_eq!(
            last_line(&run),
            format!(
                "sigtag: cannot fetch from {uri}: the server redirects to 'localhost', another host, and sigtag follows no redirect to another host; set source.uri to the address the repository really has"
            ),
            "{bin:?}"
        );
        assert!(World::files_below(&dir).is_empty());
    }
    assert_eq!(other.authorizations(), Vec::<String>::new());
    assert_eq!(git_host.authorizations(), Vec::<String>::new());
    assert!(!git_host.requests.lock().unwrap().is_empty());
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_port() {
    // libgit2 follows a redirect to the same host name even when told to
    // follow none: only the credential callback stands in the way.
    let w = World::new();
    let commit = released(&w);
    let password = "redirected-secret-78";
    let other = TrapServer::start(Trap::Challenge);
    let git_host = TrapServer::start(Trap::Redirect(format!("http://127.0.0.1:{}", other.port)));
    let uri = format!("http://127.0.0.1:{}/app.git", git_host.port);
    let source = with_password(&w, &uri, password);
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let before = other.requests.lock().unwrap().len();
        let (run, dir) = step(&w, bin, &source, &commit);
        run.assert_fails(&[]);
        let verb = if matches!(bin, Bin::Check) {
            "cannot reach"
        } else {
            "cannot fetch from"
        };
        assert_eq!(
            last_line(&run),
            format!(
                "sigtag: {verb} {uri}: 127.0.0.1:{} asked for credentials (after a redirect), and sigtag gives credentials only to 127.0.0.1:{}, the host and port of source.uri; set source.uri to the address the repository really has",
                other.port, git_host.port
            ),
            "{bin:?}"
        );
        assert!(
            other.requests.lock().unwrap().len() > before,
            "{bin:?} followed the redirect and was asked"
        );
        assert!(World::files_below(&dir).is_empty());
        assert!(!run.stderr.contains(password));
    }
    assert_eq!(other.authorizations(), Vec::<String>::new());
}

#[test]
fn git_credential_helpers_answer_only_for_the_uri_host() {
    // No credentials in the source: git's credential helper (configured in
    // $HOME/.gitconfig) would answer for any host.
    let w = World::new();
    let commit = released(&w);
    let home = w.fresh_dir("home");
    std::fs::write(
        home.join(".gitconfig"),
        "[credential]\n\thelper = \"!f() { echo username=ci; echo password=helper-secret-79; }; f\"\n",
    )
    .unwrap();
    w.set_env("HOME", home.to_str().unwrap());
    w.set_env("PATH", "/usr/bin:/bin");
    let other = TrapServer::start(Trap::Challenge);
    let git_host = TrapServer::start(Trap::Redirect(format!("http://127.0.0.1:{}", other.port)));
    let uri = format!("http://127.0.0.1:{}/app.git", git_host.port);
    let source = w.standard_source(&uri, "2 of humans");
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let (run, _) = step(&w, bin, &source, &commit);
        run.assert_fails(&[&format!(
            "127.0.0.1:{} asked for credentials (after a redirect)",
            other.port
        )]);
    }
    assert!(!other.requests.lock().unwrap().is_empty());
    assert_eq!(other.authorizations(), Vec::<String>::new());

    // The control: the helper does answer for the uri's own host.
    let server = HttpServer::start(w.remote.parent().unwrap(), "ci", "helper-secret-79");
    let source = w.standard_source(&server.url("app.git"), "2 of humans");
    assert_eq!(w.check(&source, None).tags(), vec!["v1"]);
}

// ---------------------------------------------------------- tokens in uris

#[test]
fn a_token_in_the_uri_is_never_shown_nor_stored() {
    let w = World::new();
    let commit = released(&w);
    let token = "ghp-T0KEN-5b4a39281706";
    // The token is the user name, as GitHub and GitLab take it.
    let server = HttpServer::start(w.remote.parent().unwrap(), token, "");
    let uri = format!("http://{token}@127.0.0.1:{}/app.git", server.port);
    let mut source = w.standard_source(&uri, "2 of humans");
    source["insecure_http_credentials"] = json!(true);
    let shown = format!("http://***@127.0.0.1:{}/app.git", server.port);

    // Steps that succeed: check, in (which writes DEST/.git/config), out
    // (which names the uri in its log).
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let (run, tmp, dir) = step_in_fresh_tmp(&w, bin, &source, &commit);
        run.ok();
        assert_eq!(
            leaks(&run, &[&tmp, &dir], token),
            Vec::<String>::new(),
            "{bin:?}"
        );
        if matches!(bin, Bin::In) {
            let config = std::fs::read_to_string(dir.join(".git/config")).unwrap();
            assert!(config.contains(&format!("url = {shown}")), "{config}");
        }
        if matches!(bin, Bin::Out) {
            assert!(
                run.stderr.contains(&format!("pushed it to {shown}")),
                "{}",
                run.stderr
            );
        }
    }
    assert!(server
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("git-receive-pack -> 200")));

    // Steps that fail and name the uri: a repository that is not there.
    let mut missing = source.clone();
    missing["uri"] = json!(format!(
        "http://{token}@127.0.0.1:{}/missing.git",
        server.port
    ));
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let (run, tmp, dir) = step_in_fresh_tmp(&w, bin, &missing, &commit);
        run.assert_fails(&[&format!("http://***@127.0.0.1:{}/missing.git", server.port)]);
        assert_eq!(
            leaks(&run, &[&tmp, &dir], token),
            Vec::<String>::new(),
            "{bin:?}"
        );
    }

    // A configuration error names the uri too.
    let mut bad = source.clone();
    bad["uri"] = json!(format!("ftp://{token}@127.0.0.1/app.git"));
    let (run, _) = step(&w, Bin::Check, &bad, &commit);
    run.assert_fails(&["ftp://***@127.0.0.1/app.git"]);
    assert!(!run.stderr.contains(token));
}

// ------------------------------------------------------ servers that hang

/// Runs every program against `source` (network_timeout 2 s) and expects
/// each to fail within the bound with the timeout sentence.
fn hangs_are_bounded(w: &World, source: &Value, commit: &str, server: &SilentServer) {
    for bin in [Bin::Check, Bin::In, Bin::Out] {
        let before = *server.accepted.lock().unwrap();
        let dir = w.fresh_dir("step");
        let cmd = w.command(
            bin,
            Some(dir.as_path()).filter(|_| !matches!(bin, Bin::Check)),
        );
        let req = request(w, bin, source, commit).to_string();
        let Some((run, took)) = exec_within(cmd, req.as_bytes(), Duration::from_secs(40)) else {
            panic!("{bin:?} still waited on a silent server after 40 s");
        };
        run.assert_fails(&[]);
        let uri = source["uri"].as_str().unwrap();
        let verb = if matches!(bin, Bin::Check) {
            "cannot reach"
        } else {
            "cannot fetch from"
        };
        assert_eq!(
            last_line(&run),
            format!("sigtag: {verb} {uri}: the server did not answer within 2 s; check source.uri, or raise source.network_timeout"),
            "{bin:?}"
        );
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
        assert!(
            took >= Duration::from_secs(2),
            "{bin:?} waited the bound: {took:?}"
        );
        assert!(took < Duration::from_secs(20), "{bin:?} took {took:?}");
        assert!(
            *server.accepted.lock().unwrap() > before,
            "{bin:?} connected"
        );
        assert!(World::files_below(&dir).is_empty(), "{bin:?} left files");
    }
}

#[test]
fn a_server_that_never_answers_fails_every_step_within_network_timeout() {
    let w = World::new();
    let commit = released(&w);
    let server = SilentServer::start();

    let mut git = w.standard_source(
        &format!("git://127.0.0.1:{}/app.git", server.port),
        "2 of humans",
    );
    git["network_timeout"] = json!(2);
    hangs_are_bounded(&w, &git, &commit, &server);

    let mut http = w.standard_source(
        &format!("http://127.0.0.1:{}/app.git", server.port),
        "2 of humans",
    );
    http["network_timeout"] = json!(2);
    hangs_are_bounded(&w, &http, &commit, &server);

    // libssh2 takes the same bound for its handshake and reads.
    let mut ssh = w.standard_source(
        &format!("ssh://git@127.0.0.1:{}/app.git", server.port),
        "2 of humans",
    );
    ssh["network_timeout"] = json!(2);
    ssh["known_hosts"] = json!(format!(
        "[127.0.0.1]:{} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
        server.port
    ));
    hangs_are_bounded(&w, &ssh, &commit, &server);
}

#[test]
fn check_timeout_still_bounds_a_check_below_network_timeout() {
    let w = World::new();
    let commit = released(&w);
    let server = SilentServer::start();
    let mut source = w.standard_source(
        &format!("git://127.0.0.1:{}/app.git", server.port),
        "2 of humans",
    );
    source["network_timeout"] = json!(600);
    source["check_timeout"] = json!(2);
    let cmd = w.command(Bin::Check, None);
    let req = request(&w, Bin::Check, &source, &commit).to_string();
    let (run, took) = exec_within(cmd, req.as_bytes(), Duration::from_secs(40))
        .expect("check ends within check_timeout");
    run.assert_fails(&["the check took longer than source.check_timeout (2 s)"]);
    assert!(took < Duration::from_secs(20), "{took:?}");
}

// ------------------------------------------------------------- messages

/// The message of the outermost layer: between the header and the
/// signature.
fn layer_message(w: &World) -> String {
    let layer = w.outer_layer("v1");
    let (_, rest) = layer.split_once("\n\n").expect("a message");
    rest.split("-----BEGIN PGP SIGNATURE-----")
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_put_message_cannot_repaint_a_terminal_nor_forge_trailers() {
    let w = World::new();
    let commit = released(&w);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let key = w.secret(&w.key("staging"));
    let sources = w.fresh_dir("put");

    // A fake build trailer is refused before anything is fetched or
    // pushed.
    let outer = w.tag_object("v1");
    for message in [
        "tests passed\n\nBUILD_PIPELINE_NAME=prod\n",
        "tests passed\nBuild: https://ci.example.org/teams/main/pipelines/prod/jobs/deploy/builds/1",
        "tests passed\n  sigtag-emergency: yes",
    ] {
        let run = w.put(&source, json!({"tag": "v1", "signing_key": key, "message": message}), &sources);
        run.assert_fails(&["params.message: line", "looks like a trailer sigtag writes itself; remove it, sigtag adds those lines"]);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
        assert_eq!(w.tag_object("v1"), outer, "nothing pushed");
    }
    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": key, "message": "tests passed\n\nBUILD_PIPELINE_NAME=prod\n"}),
        &sources,
    );
    assert_eq!(
        run.stderr.trim_end(),
        "sigtag: params.message: line 3 (\"BUILD_PIPELINE_NAME=prod\") looks like a trailer sigtag writes itself; remove it, sigtag adds those lines"
    );
    let run = w.put(
        &source,
        json!({"tag": "v1", "signing_key": key, "message": "\u{1b}\r"}),
        &sources,
    );
    run.assert_fails(&["params.message holds no text once control characters are removed"]);
    assert_eq!(w.tag_object("v1"), outer, "nothing pushed");

    // ESC and CR never reach the tag object; build variables with control
    // characters are made one clean line each, after the free text.
    let run = w.run_env(
        Bin::Out,
        Some(&sources),
        json!({"source": source, "params": {"tag": "v1", "signing_key": key,
               "message": "tests passed\u{1b}[2J\r\nall green\rreally\n"}})
        .to_string()
        .as_bytes(),
        &[
            ("BUILD_JOB_NAME", "deploy\u{1b}[31m\rX"),
            ("BUILD_PIPELINE_NAME", "staging\nBUILD_TEAM_NAME=evil"),
        ],
    );
    let (version, _) = output_parts(&run.ok());
    assert_eq!(version, ("v1".to_string(), commit));
    let raw = w.srv(&["cat-file", "tag", "v1"]);
    assert!(!raw.contains('\u{1b}') && !raw.contains('\r'), "{raw:?}");
    let message = layer_message(&w);
    let (free, trailers) = message
        .trim_end()
        .rsplit_once("\n\n")
        .expect("two paragraphs");
    assert_eq!(free, "tests passed [2J\nall green really");
    let lines: Vec<&str> = trailers.lines().collect();
    assert!(lines.contains(&"BUILD_JOB_NAME=deploy [31m X"), "{lines:?}");
    assert!(
        lines.contains(&"BUILD_PIPELINE_NAME=staging BUILD_TEAM_NAME=evil"),
        "{lines:?}"
    );
    assert!(lines.contains(&"BUILD_TEAM_NAME=main"), "{lines:?}");
    assert!(!lines.contains(&"BUILD_TEAM_NAME=evil"), "{lines:?}");
    assert!(
        lines.iter().all(|l| sigtag::message::is_machine_line(l)),
        "the last paragraph holds only machine lines: {lines:?}"
    );
    assert!(
        !free.lines().any(sigtag::message::is_machine_line),
        "the free text holds none: {free:?}"
    );
}
