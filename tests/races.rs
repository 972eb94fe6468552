//! Races and partial state: two signers pushing a layer on the same tag at
//! the same moment, fifty times over, with `sigtag cosign --push` and with
//! the resource's `out`, over file:// and git://; and an `in` that fails or
//! is killed half-way never leaves a destination that looks complete.
//!
//! Every round starts from the same chain (the remote tag is reset), so
//! the rounds are cheap: keys, clones and servers are made once per test.

mod resource_support;

use resource_support::servers::GitDaemon;
use resource_support::{exec, now, output_parts, together, Bin, Run, World};
use serde_json::json;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROUNDS: usize = 50;

fn oid(hex: &str) -> git2::Oid {
    git2::Oid::from_str(hex).unwrap()
}

/// Points `refs/tags/NAME` of the repository at `dir` at `target`.
fn set_tag(dir: &Path, name: &str, target: &str) {
    let repo = git2::Repository::open(dir).unwrap();
    repo.reference(&format!("refs/tags/{name}"), oid(target), true, "reset")
        .unwrap();
}

/// The value of `refs/tags/NAME` in the repository at `dir`.
fn tag_value(dir: &Path, name: &str) -> String {
    let repo = git2::Repository::open(dir).unwrap();
    repo.refname_to_id(&format!("refs/tags/{name}"))
        .unwrap()
        .to_string()
}

/// The layers of a tag on top of `base`, outermost first, as
/// `(object id, tagger name)`; panics if the chain does not reach `base`,
/// that is if a layer below the new ones was lost.
fn layers_above(dir: &Path, name: &str, base: &str) -> Vec<(String, String)> {
    let repo = git2::Repository::open(dir).unwrap();
    let mut at = repo.refname_to_id(&format!("refs/tags/{name}")).unwrap();
    let mut out = Vec::new();
    while at.to_string() != base {
        let tag = repo.find_tag(at).unwrap_or_else(|_| {
            panic!("the chain of {name} lost the layer {base}: it reached {at}, not a tag")
        });
        let tagger = tag.tagger().unwrap().name().unwrap().to_string();
        out.push((at.to_string(), tagger));
        at = tag.target_id();
        assert!(
            out.len() <= 8,
            "{name} grew more layers than there were signers"
        );
    }
    out
}

/// The server's pre-receive hook: holding a push for a moment makes both
/// pushers read the same advertisement, so the server's own compare-and-swap
/// (not the client's early check) decides. Switched on every other round.
/// The hook writes each update it is asked for (`OLD NEW REF`) to
/// [`push_log`], so a round can tell whether both pushes reached the server.
fn hold_pushes(remote: &Path, on: bool) {
    let hook = remote.join("hooks").join("pre-receive");
    let _ = fs::remove_file(push_log(remote));
    if on {
        let script = format!(
            "#!/bin/sh\ncat >>'{}'\nsleep 0.1\n",
            push_log(remote).display()
        );
        fs::write(&hook, script).unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    } else {
        let _ = fs::remove_file(&hook);
    }
}

/// Where the pre-receive hook of [`hold_pushes`] writes the updates.
fn push_log(remote: &Path) -> PathBuf {
    remote.join("pushes.log")
}

/// Whether, in this round, two pushes built on `base` both reached the
/// server's hook: they read the same advertisement, so the server's
/// compare-and-swap, not the client's early check, had to pick one.
fn collided(remote: &Path, base: &str) -> bool {
    let log = fs::read_to_string(push_log(remote)).unwrap_or_default();
    log.lines()
        .filter(|l| l.split_whitespace().next() == Some(base))
        .count()
        >= 2
}

/// Of the rounds a hook held, how many must collide for the race to count
/// as exercised.
const MIN_COLLISIONS: usize = 10;

/// `sigtag` in a clone, with nothing from the environment but what git
/// needs.
fn sigtag(w: &World, clone: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtag"));
    cmd.env_clear()
        .env("HOME", &w.root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("TMPDIR", &w.tmp)
        .env("LC_ALL", "C")
        .current_dir(clone)
        .args(args);
    cmd
}

/// Two people co-sign the same tag with `sigtag cosign --push origin`, each
/// from a clone of `url`, at the same moment, fifty times. Each round ends
/// with one new layer on top of the old chain and a refusal that tells the
/// other to fetch and sign again, or with both layers; never with a chain
/// that lost a layer.
fn cosign_race(w: &World, url: &str, hooks: bool) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let signers = [w.key("staging"), w.key("qa")];
    let c1 = w.commit("app.txt", "one\n", "one");
    w.chain_at("v1", &c1, &[&a, &b], now() - 100);
    let base = w.tag_object("v1");
    // The trust root both co-signers check the chain against.
    let keys = w.unique("keys");
    fs::create_dir(&keys).unwrap();
    for k in [&a, &b, &signers[0], &signers[1]] {
        fs::write(keys.join(format!("{}.asc", k.name)), w.cert(k)).unwrap();
    }
    fs::write(
        keys.join("policy.toml"),
        "[groups]\nhumans = [\"alice\", \"bob\"]\npipelines = [\"staging\", \"qa\"]\n\n\
         [environments.staging]\nrequire = \"2 of humans\"\n",
    )
    .unwrap();
    let keys = World::s(&keys);
    let mut clones: Vec<(PathBuf, PathBuf)> = Vec::new();
    for k in &signers {
        let dir = w.unique("clone");
        w.git_in(&w.root, &["clone", "-q", url, &World::s(&dir)]);
        w.git_in(
            &dir,
            &["fetch", "-q", "origin", "+refs/tags/v1:refs/tags/v1"],
        );
        let key = w.unique("key");
        fs::write(&key, w.secret(k)).unwrap();
        clones.push((dir, key));
    }

    let (mut held, mut collisions) = (0, 0);
    for round in 0..ROUNDS {
        set_tag(&w.remote, "v1", &base);
        for (dir, _) in &clones {
            set_tag(dir, "v1", &base);
        }
        let hold = hooks && round % 2 == 0;
        if hooks {
            hold_pushes(&w.remote, hold);
        }
        let jobs = clones
            .iter()
            .map(|(dir, key)| {
                let key = World::s(key);
                let cmd = sigtag(
                    w,
                    dir,
                    &[
                        "cosign", "v1", "--key", &key, "--keys", &keys, "--push", "origin",
                    ],
                );
                (cmd, Vec::new())
            })
            .collect();
        let runs = together(jobs);
        let top = layers_above(&w.remote, "v1", &base);
        let ok: Vec<usize> = (0..2).filter(|&i| runs[i].code == 0).collect();
        let context = format!(
            "round {round}: exits {} and {}\nstderr 1:\n{}\nstderr 2:\n{}\nlayers above the base: {top:?}",
            runs[0].code, runs[1].code, runs[0].stderr, runs[1].stderr
        );
        // Both co-signers built on the same chain, and a cosign does not
        // sign again: exactly one layer is published, and the other is told
        // to fetch and sign again.
        let [winner] = ok.as_slice() else {
            panic!("exactly one cosign must win: {context}");
        };
        let loser = 1 - winner;
        assert_eq!(top.len(), 1, "one new layer: {context}");
        assert_eq!(top[0].1, signers[*winner].name, "{context}");
        assert_eq!(tag_value(&w.remote, "v1"), top[0].0, "{context}");
        let err = &runs[loser];
        assert_eq!(err.code, 2, "{context}");
        assert_eq!(err.stdout, "", "{context}");
        assert_eq!(
            err.stderr,
            format!(
                "sigtag: tag v1 changed on origin since it was read: it now points at {}; \
                 fetch it (git fetch origin +refs/tags/v1:refs/tags/v1) and sign again; \
                 the local tag v1 is back at {} as before, without the new layer\n",
                top[0].0,
                &base[..12]
            ),
            "one sentence: {context}"
        );
        // The refused layer is not left behind in the clone.
        assert_eq!(tag_value(&clones[loser].0, "v1"), base, "{context}");
        if hold {
            held += 1;
            if collided(&w.remote, &base) {
                collisions += 1;
            }
        }
    }
    if hooks {
        // The rounds a hook held must have made both pushes reach the
        // server, or the server's compare-and-swap was never tested.
        assert!(
            collisions >= MIN_COLLISIONS,
            "only {collisions} of {held} held rounds had both pushes reach the server"
        );
    }
}

#[test]
fn fifty_cosign_push_races_over_file() {
    let w = World::new();
    let url = w.file_uri();
    cosign_race(&w, &url, false);
}

#[test]
fn fifty_cosign_push_races_over_git_daemon() {
    let w = World::new();
    let daemon = GitDaemon::start(w.remote.parent().unwrap());
    cosign_race(&w, &daemon.url("app.git"), true);
}

/// Two pipelines' `out` steps co-sign the same tag at the same moment,
/// fifty times. The one that finds the tag changed signs again on top of
/// the newer chain, so every round ends with both layers.
fn out_race(w: &World, uri: &str, hooks: bool) {
    let (a, b) = (w.key("alice"), w.key("bob"));
    let signers = [w.key("staging"), w.key("qa")];
    let c1 = w.commit("app.txt", "one\n", "one");
    w.chain_at("v1", &c1, &[&a, &b], now() - 100);
    let base = w.tag_object("v1");
    let source = w.source_with(
        uri,
        &[&a, &b, &signers[0], &signers[1]],
        &[
            ("humans", &["alice", "bob"]),
            ("pipelines", &["staging", "qa"]),
        ],
        "2 of humans",
    );
    let requests: Vec<Vec<u8>> = signers
        .iter()
        .map(|k| {
            json!({"source": source, "params": {"tag": "v1", "signing_key": w.secret(k)}})
                .to_string()
                .into_bytes()
        })
        .collect();
    let dirs: Vec<PathBuf> = signers.iter().map(|_| w.fresh_dir("put")).collect();

    let (mut again, mut held, mut collisions) = (0, 0, 0);
    for round in 0..ROUNDS {
        set_tag(&w.remote, "v1", &base);
        let hold = hooks && round % 2 == 0;
        if hooks {
            hold_pushes(&w.remote, hold);
        }
        let jobs = dirs
            .iter()
            .zip(&requests)
            .map(|(dir, req)| (w.command(Bin::Out, Some(dir)), req.clone()))
            .collect();
        let runs = together(jobs);
        let top = layers_above(&w.remote, "v1", &base);
        let context = format!(
            "round {round}\nstderr 1:\n{}\nstderr 2:\n{}\nlayers above the base: {top:?}",
            runs[0].stderr, runs[1].stderr
        );
        for run in &runs {
            assert_eq!(run.code, 0, "{context}");
            let (version, _) = output_parts(&run.ok());
            assert_eq!(version, ("v1".to_string(), c1.clone()), "{context}");
        }
        let mut names: Vec<&str> = top.iter().map(|(_, n)| n.as_str()).collect();
        names.sort();
        assert_eq!(names, ["qa", "staging"], "both layers: {context}");
        let signed_again: Vec<usize> = (0..2)
            .filter(|&i| {
                runs[i]
                    .stderr
                    .contains("v1 changed on the remote while it was being signed")
            })
            .collect();
        match signed_again.as_slice() {
            [] => {}
            // The one that signed again did so on top of the other's layer.
            [i] => {
                again += 1;
                assert_eq!(top[0].1, signers[*i].name, "outermost: {context}");
            }
            _ => panic!("both outs found the other's layer first: {context}"),
        }
        if hold {
            held += 1;
            if collided(&w.remote, &base) {
                collisions += 1;
                assert_eq!(
                    signed_again.len(),
                    1,
                    "a collision is signed again: {context}"
                );
            }
        }
    }
    // Not every round needs to collide, but the test must have made some
    // collide, or it proves nothing.
    assert!(again > 0, "no round made an out sign again");
    if hooks {
        assert!(
            collisions >= MIN_COLLISIONS,
            "only {collisions} of {held} held rounds had both pushes reach the server"
        );
    }
    // No scratch repository is left behind.
    let left: Vec<String> = World::files_below(&w.tmp)
        .into_iter()
        .filter(|f| f.starts_with("sigtag-out."))
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

#[test]
fn fifty_out_races_over_file() {
    let w = World::new();
    let uri = w.file_uri();
    out_race(&w, &uri, false);
}

#[test]
fn fifty_out_races_over_git_daemon() {
    let w = World::new();
    let daemon = GitDaemon::start(w.remote.parent().unwrap());
    out_race(&w, &daemon.url("app.git"), true);
}

/// `in` under a file size limit, so that checking out the commit's large
/// file fails half-way, after the tag was fetched and verified.
fn limited_in(w: &World, request: &[u8], dest: &Path, ignore_signal: bool) -> Run {
    // dash counts in 512-byte blocks, bash in KiB: 1 or 2 MiB, either way
    // more than the fetched pack and less than the 4 MiB file.
    let trap = if ignore_signal { "trap '' XFSZ; " } else { "" };
    let script = format!("{trap}ulimit -f 2048; exec \"$0\" \"$1\"");
    // The environment Concourse gives `in`, for the shell to pass on.
    let template = w.command(Bin::In, Some(dest));
    let mut sh = Command::new("/bin/sh");
    sh.env_clear()
        .current_dir(dest)
        .arg("-c")
        .arg(script)
        .arg(Bin::In.path())
        .arg(dest);
    for (k, v) in template.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    exec(sh, request)
}

#[test]
fn a_failed_in_never_leaves_a_destination_that_looks_complete() {
    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let big = "sigtag\n".repeat(600_000); // 4.2 MB, compresses to a few KB
    let c1 = w.commit("big.txt", &big, "a large file");
    w.chain_at("v1", &c1, &[&a, &b], now() - 100);
    let source = w.standard_source(&w.file_uri(), "2 of humans");
    let request =
        json!({"source": source, "version": {"tag": "v1", "commit": c1}, "params": {}}).to_string();
    let report = Path::new(".git").join("sigtag").join("report.json");

    // The checkout fails (the write is refused): everything is removed.
    let dest = w.fresh_dir("get");
    let run = limited_in(&w, request.as_bytes(), &dest, true);
    run.assert_fails(&["cannot check out"]);
    assert_eq!(
        World::files_below(&dest),
        Vec::<String>::new(),
        "{}",
        run.stderr
    );

    // The process is killed half-way through the checkout: whatever it
    // wrote stays, but not the marker of a complete destination.
    let dest = w.fresh_dir("get");
    let run = limited_in(&w, request.as_bytes(), &dest, false);
    assert_eq!(run.code, -1, "killed by SIGXFSZ: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(dest.join(".git").exists(), "the fetch had happened");
    let left = World::files_below(&dest);
    assert!(
        !left.iter().any(|f| f.starts_with(".git/sigtag")),
        "a killed in left {left:?}"
    );

    // Without the limit, the same request completes, report last.
    let dest = w.fresh_dir("get");
    w.get(&source, "v1", &c1, &dest).ok();
    assert!(dest.join(&report).is_file());
    assert_eq!(fs::read_to_string(dest.join("big.txt")).unwrap(), big);
}
