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
fn hold_pushes(remote: &Path, on: bool) {
    let hook = remote.join("hooks").join("pre-receive");
    if on {
        fs::write(&hook, "#!/bin/sh\ncat >/dev/null\nsleep 0.1\n").unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    } else {
        let _ = fs::remove_file(&hook);
    }
}

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

    let (mut refused, mut both) = (0, 0);
    for round in 0..ROUNDS {
        set_tag(&w.remote, "v1", &base);
        for (dir, _) in &clones {
            set_tag(dir, "v1", &base);
        }
        if hooks {
            hold_pushes(&w.remote, round % 2 == 0);
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
        match ok.as_slice() {
            [winner] => {
                refused += 1;
                let loser = 1 - winner;
                assert_eq!(top.len(), 1, "{context}");
                assert_eq!(top[0].1, signers[*winner].name, "{context}");
                let err = &runs[loser];
                assert_eq!(err.code, 2, "{context}");
                assert_eq!(err.stdout, "", "{context}");
                assert_eq!(err.stderr.lines().count(), 1, "one sentence: {context}");
                for fragment in [
                    "sigtag: tag v1 changed on origin since it was read",
                    &format!("it now points at {}", top[0].0),
                    "git fetch origin +refs/tags/v1:refs/tags/v1",
                    "and sign again",
                ] {
                    assert!(err.stderr.contains(fragment), "{fragment:?}: {context}");
                }
                // The refused layer is not left behind in the clone.
                assert_eq!(tag_value(&clones[loser].0, "v1"), base, "{context}");
            }
            [_, _] => {
                both += 1;
                let mut names: Vec<&str> = top.iter().map(|(_, n)| n.as_str()).collect();
                names.sort();
                assert_eq!(names, ["qa", "staging"], "{context}");
            }
            _ => panic!("neither layer was published: {context}"),
        }
    }
    assert_eq!(refused + both, ROUNDS);
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

    let mut again = 0;
    for round in 0..ROUNDS {
        set_tag(&w.remote, "v1", &base);
        if hooks {
            hold_pushes(&w.remote, round % 2 == 0);
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
        if runs.iter().any(|r| {
            r.stderr
                .contains("changed on the remote while it was being signed")
        }) {
            again += 1;
        }
    }
    // Not every round needs to collide, but the test must have made some
    // collide, or it proves nothing.
    assert!(again > 0, "no round made an out sign again");
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
