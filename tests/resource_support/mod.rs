//! Harness for the resource tests: real git, real gpg, real servers on
//! loopback, and the `check`, `in` and `out` binaries run exactly as
//! Concourse runs them (JSON on stdin, an empty environment apart from
//! TMPDIR and the build variables, a fresh destination).
#![allow(dead_code)]

#[path = "../common/git.rs"]
pub mod git;
#[path = "../common/gpg.rs"]
pub mod gpg;
#[path = "../common/process.rs"]
pub mod process;
pub mod servers;

pub use gpg::Key;
pub use process::{run_with_input, Run};

use git::Git;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

pub const GIT: &str = "git";

/// The build variables Concourse gives `in` and `out`.
pub const BUILD_ENV: &[(&str, &str)] = &[
    ("BUILD_ID", "1234"),
    ("BUILD_NAME", "42"),
    ("BUILD_TEAM_ID", "1"),
    ("BUILD_TEAM_NAME", "main"),
    ("BUILD_JOB_ID", "7"),
    ("BUILD_JOB_NAME", "deploy"),
    ("BUILD_PIPELINE_ID", "3"),
    ("BUILD_PIPELINE_NAME", "staging"),
    ("BUILD_PIPELINE_INSTANCE_VARS", "{\"region\":\"eu\"}"),
    ("ATC_EXTERNAL_URL", "https://ci.example.org"),
    (
        "BUILD_URL",
        "https://ci.example.org/teams/main/pipelines/staging/jobs/deploy/builds/42",
    ),
];

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// What a resource binary printed, read as Concourse reads it.
impl Run {
    pub fn ok(&self) -> Value {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let v: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON value ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        });
        v
    }

    /// The versions a successful check printed, as `(tag, commit)`.
    pub fn versions(&self) -> Vec<(String, String)> {
        let v = self.ok();
        let arr = v.as_array().unwrap_or_else(|| panic!("not an array: {v}"));
        arr.iter().map(version_pair).collect()
    }

    /// Tags only, in order.
    pub fn tags(&self) -> Vec<String> {
        self.versions().into_iter().map(|(t, _)| t).collect()
    }

    /// A failure: non-zero exit, nothing on stdout, and stderr names every
    /// fragment in one line starting with "sigtag: ".
    pub fn assert_fails(&self, fragments: &[&str]) {
        assert_ne!(
            self.code, 0,
            "expected failure\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "nothing on stdout on failure");
        let last = self.stderr.trim_end().lines().last().unwrap_or("");
        assert!(
            last.starts_with("sigtag: "),
            "the error is a line starting with \"sigtag: \": {:?}",
            self.stderr
        );
        for f in fragments {
            assert!(
                last.contains(f),
                "error {last:?} does not contain {f:?}\nstderr:\n{}",
                self.stderr
            );
        }
    }
}

/// Runs a prepared resource command with `input` on stdin.
pub fn exec(cmd: Command, input: &[u8]) -> Run {
    Run::from_output(run_with_input(cmd, Some(input)))
}

/// Starts every command at the same moment (each with its stdin) and waits
/// for all of them.
pub fn together(jobs: Vec<(Command, Vec<u8>)>) -> Vec<Run> {
    let barrier = std::sync::Barrier::new(jobs.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(cmd, input)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    exec(cmd, &input)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// `{"tag": T, "commit": C}` with exactly those two string fields.
pub fn version_pair(v: &Value) -> (String, String) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("version is not an object: {v}"));
    assert_eq!(obj.len(), 2, "a version holds tag and commit only: {v}");
    (
        obj["tag"].as_str().expect("tag is a string").to_string(),
        obj["commit"]
            .as_str()
            .expect("commit is a string")
            .to_string(),
    )
}

/// The `{version, metadata}` output of in/out; checks every metadata value
/// is a string and returns the metadata as `(name, value)` pairs.
pub fn output_parts(v: &Value) -> ((String, String), Vec<(String, String)>) {
    let version = version_pair(&v["version"]);
    let metadata = v["metadata"]
        .as_array()
        .unwrap_or_else(|| panic!("metadata is not an array: {v}"))
        .iter()
        .map(|m| {
            let obj = m.as_object().expect("metadata entry is an object");
            assert_eq!(obj.len(), 2, "metadata entries hold name and value: {m}");
            (
                m["name"].as_str().expect("name is a string").to_string(),
                m["value"]
                    .as_str()
                    .unwrap_or_else(|| panic!("metadata values are strings: {m}"))
                    .to_string(),
            )
        })
        .collect();
    (version, metadata)
}

/// Which resource program to run.
#[derive(Clone, Copy, Debug)]
pub enum Bin {
    Check,
    In,
    Out,
}

impl Bin {
    pub fn path(self) -> &'static str {
        match self {
            Bin::Check => env!("CARGO_BIN_EXE_check"),
            Bin::In => env!("CARGO_BIN_EXE_in"),
            Bin::Out => env!("CARGO_BIN_EXE_out"),
        }
    }
}

/// One test's world: a GNUPGHOME, a working repository, a bare "server"
/// repository the resource talks to, and the check container's TMPDIR.
pub struct World {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub gnupg: PathBuf,
    git: Git,
    /// Where commits are made.
    pub work: PathBuf,
    /// The repository the resource's uri names (bare).
    pub remote: PathBuf,
    /// The check container's TMPDIR (survives between checks).
    pub tmp: PathBuf,
    keys: RefCell<BTreeMap<String, Key>>,
    counter: RefCell<u32>,
    /// More environment for every resource program (e.g. SSL_CERT_FILE).
    env: RefCell<Vec<(String, String)>>,
}

impl Drop for World {
    fn drop(&mut self) {
        gpg::kill_agents(&self.gnupg);
    }
}

impl World {
    pub fn new() -> World {
        let (dir, root) = process::test_dir("sr");
        let gnupg = root.join("g");
        gpg::create_home(&gnupg);
        let git = Git::new(GIT, &root, "Test Committer", "committer@example.org");
        let srv = root.join("srv");
        fs::create_dir(&srv).unwrap();
        let tmp = root.join("tmp");
        fs::create_dir(&tmp).unwrap();
        let world = World {
            _dir: dir,
            work: root.join("work"),
            remote: srv.join("app.git"),
            root,
            gnupg,
            git,
            tmp,
            keys: RefCell::new(BTreeMap::new()),
            counter: RefCell::new(0),
            env: RefCell::new(Vec::new()),
        };
        world.git_in(&world.root, &["init", "-q", "work"]);
        world.git_in(&world.root, &["init", "-q", "--bare", "srv/app.git"]);
        world.git(&["remote", "add", "origin", &Self::s(&world.remote)]);
        world.commit("README", "hello\n", "Initial commit");
        world
    }

    pub fn s(p: &Path) -> String {
        p.to_str().expect("UTF-8 path").to_string()
    }

    pub fn unique(&self, stem: &str) -> PathBuf {
        let mut c = self.counter.borrow_mut();
        *c += 1;
        self.root.join(format!("{stem}{c}"))
    }

    // ------------------------------------------------------------- git

    pub fn git_cmd(&self, dir: &Path) -> Command {
        self.git.command(dir, &self.gnupg)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        self.git.run(dir, &self.gnupg, args)
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.work, args)
    }

    /// git in the server repository.
    pub fn srv(&self, args: &[&str]) -> String {
        self.git_in(&self.remote, args)
    }

    /// Writes a file, commits it on main and pushes main; returns the commit.
    pub fn commit(&self, file: &str, content: &str, msg: &str) -> String {
        fs::write(self.work.join(file), content).unwrap();
        self.git(&["add", file]);
        self.git(&["commit", "-q", "-m", msg]);
        self.git(&["push", "-q", "origin", "main"]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Commits `content` to `file` (see [`World::commit`]) and tags that
    /// commit on the server with a chain signed by `keys`, dated `at`;
    /// returns the commit.
    pub fn release(
        &self,
        tag: &str,
        file: &str,
        content: &str,
        msg: &str,
        keys: &[&Key],
        at: i64,
    ) -> String {
        let commit = self.commit(file, content, msg);
        self.chain_at(tag, &commit, keys, at);
        commit
    }

    /// The commit a tag on the server points at, all layers peeled.
    pub fn tag_commit(&self, tag: &str) -> String {
        self.srv(&["rev-parse", &format!("{tag}^{{commit}}")])
    }

    /// The outer tag object of a tag on the server.
    pub fn tag_object(&self, tag: &str) -> String {
        self.srv(&["rev-parse", &format!("refs/tags/{tag}")])
    }

    /// Number of layers of a tag on the server.
    pub fn layers(&self, tag: &str) -> usize {
        let mut n = 0;
        let mut obj = self.tag_object(tag);
        while self.srv(&["cat-file", "-t", &obj]) == "tag" {
            n += 1;
            let body = self.srv(&["cat-file", "tag", &obj]);
            obj = body
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("object "))
                .expect("object header")
                .to_string();
        }
        n
    }

    /// The raw text of the outermost layer of a tag on the server.
    pub fn outer_layer(&self, tag: &str) -> String {
        self.srv(&["cat-file", "tag", &format!("refs/tags/{tag}")])
    }

    /// Signed tag made by git in the server repository, with the tagger
    /// date set to `at` (the innermost layer's date orders versions).
    pub fn tag_signed(&self, key: &Key, tag: &str, target: &str, force: bool, at: Option<i64>) {
        let mut cmd = self.git_cmd(&self.remote);
        if let Some(t) = at {
            // gpg signs when git dates the layer: the two must agree.
            cmd.env("GIT_COMMITTER_DATE", format!("@{t} +0000"))
                .arg("-c")
                .arg(format!("gpg.program={}", self.gpg_at(t).display()));
        }
        let msg = format!("{tag} signed by {}", key.name);
        let mut args = vec!["-m", &msg, tag, target];
        if force {
            args.insert(0, "-f");
        }
        git::tag_signed(cmd, key, &args);
    }

    /// A tag on `commit` signed by each key in turn (first layer, then
    /// `git tag -s -f TAG TAG` for every further key), dated `at`.
    pub fn chain_at(&self, tag: &str, commit: &str, keys: &[&Key], at: i64) {
        let (first, rest) = keys.split_first().expect("a key");
        self.tag_signed(first, tag, commit, false, Some(at));
        for k in rest {
            self.tag_signed(k, tag, tag, true, Some(at));
        }
    }

    /// Adds a layer signed by `key` on top of a tag on the server.
    pub fn cosign(&self, key: &Key, tag: &str) {
        self.tag_signed(key, tag, tag, true, None);
    }

    // ------------------------------------------------------------- gpg

    /// An ed25519 signing key `NAME <NAME@example.org>`, made once.
    pub fn key(&self, name: &str) -> Key {
        if let Some(k) = self.keys.borrow().get(name) {
            return k.clone();
        }
        // Made a day ago, so that it can sign tags dated in the last day.
        let spec = gpg::NewKey {
            expiry: "1y",
            created: Some(now() - 86_400),
            ..gpg::NewKey::default()
        };
        let key = Key {
            name: name.to_string(),
            fpr: gpg::gen_key(&self.gnupg, &gpg::uid(name), &spec),
        };
        self.keys.borrow_mut().insert(name.to_string(), key.clone());
        key
    }

    /// Armored public certificate.
    pub fn cert(&self, key: &Key) -> String {
        String::from_utf8(gpg::export_public(&self.gnupg, &key.fpr)).unwrap()
    }

    /// Armored, unprotected secret key.
    pub fn secret(&self, key: &Key) -> String {
        String::from_utf8(gpg::export_secret(&self.gnupg, &key.fpr, "")).unwrap()
    }

    /// A secret key protected by a passphrase.
    pub fn protected_secret(&self, name: &str) -> String {
        let uid = gpg::uid(name);
        let spec = gpg::NewKey {
            expiry: "1y",
            passphrase: "hunter2",
            ..gpg::NewKey::default()
        };
        gpg::gen_key(&self.gnupg, &uid, &spec);
        String::from_utf8(gpg::export_secret(&self.gnupg, &uid, "hunter2")).unwrap()
    }

    // ------------------------------------------------------------- requests

    pub fn file_uri(&self) -> String {
        format!("file://{}", self.remote.display())
    }

    /// A source trusting `signers`, with `groups`, requiring `require`.
    pub fn source_with(
        &self,
        uri: &str,
        signers: &[&Key],
        groups: &[(&str, &[&str])],
        require: &str,
    ) -> Value {
        let signers: serde_json::Map<String, Value> = signers
            .iter()
            .map(|k| (k.name.clone(), Value::String(self.cert(k))))
            .collect();
        let groups: serde_json::Map<String, Value> = groups
            .iter()
            .map(|(g, members)| (g.to_string(), json!(members)))
            .collect();
        json!({"uri": uri, "signers": signers, "groups": groups, "require": require})
    }

    /// The usual trust: humans alice and bob, pipelines staging.
    pub fn standard_source(&self, uri: &str, require: &str) -> Value {
        let (a, b, s) = (self.key("alice"), self.key("bob"), self.key("staging"));
        self.source_with(
            uri,
            &[&a, &b, &s],
            &[("humans", &["alice", "bob"]), ("pipelines", &["staging"])],
            require,
        )
    }

    /// Runs a resource program the way Concourse does: the request on
    /// stdin, no environment but TMPDIR (and the build variables for in and
    /// out), the destination as the only argument and working directory.
    pub fn run(&self, bin: Bin, dir: Option<&Path>, input: &[u8]) -> Run {
        self.run_env(bin, dir, input, &[])
    }

    pub fn run_env(
        &self,
        bin: Bin,
        dir: Option<&Path>,
        input: &[u8],
        extra: &[(&str, &str)],
    ) -> Run {
        let mut cmd = self.command(bin, dir);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        exec(cmd, input)
    }

    /// Gives every resource program run from now on `name=value`.
    pub fn set_env(&self, name: &str, value: &str) {
        self.env
            .borrow_mut()
            .push((name.to_string(), value.to_string()));
    }

    /// The command [`World::run`] runs, to be run elsewhere (another thread).
    pub fn command(&self, bin: Bin, dir: Option<&Path>) -> Command {
        let mut cmd = Command::new(bin.path());
        cmd.env_clear().env("TMPDIR", &self.tmp);
        for (k, v) in self.env.borrow().iter() {
            cmd.env(k, v);
        }
        if !matches!(bin, Bin::Check) {
            for (k, v) in BUILD_ENV {
                cmd.env(k, v);
            }
        }
        match dir {
            Some(d) => {
                cmd.arg(d).current_dir(d);
            }
            None => {
                cmd.current_dir(&self.root);
            }
        }
        cmd
    }

    pub fn check(&self, source: &Value, version: Option<(&str, &str)>) -> Run {
        let mut req = json!({"source": source});
        if let Some((t, c)) = version {
            req["version"] = json!({"tag": t, "commit": c});
        }
        self.run(Bin::Check, None, req.to_string().as_bytes())
    }

    /// A fresh, empty destination directory.
    pub fn fresh_dir(&self, stem: &str) -> PathBuf {
        let d = self.unique(stem);
        fs::create_dir(&d).unwrap();
        d
    }

    pub fn get(&self, source: &Value, tag: &str, commit: &str, dest: &Path) -> Run {
        let req =
            json!({"source": source, "version": {"tag": tag, "commit": commit}, "params": {}});
        self.run(Bin::In, Some(dest), req.to_string().as_bytes())
    }

    pub fn put(&self, source: &Value, params: Value, sources_dir: &Path) -> Run {
        let req = json!({"source": source, "params": params});
        self.run(Bin::Out, Some(sources_dir), req.to_string().as_bytes())
    }

    /// Every file below `dir`, relative, sorted (for "nothing left" checks).
    pub fn files_below(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            if let Ok(entries) = fs::read_dir(dir) {
                for e in entries.flatten() {
                    let p = e.path();
                    out.push(p.strip_prefix(base).unwrap().display().to_string());
                    if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        walk(base, &p, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

// ------------------------------------------------------------- hostile pushes

impl World {
    /// A signed tag made by git in the server repository as
    /// [`World::tag_signed`] does, with `gpg_args` given to gpg before git's
    /// own (e.g. `--default-sig-expire seconds=20`).
    pub fn tag_signed_gpg(
        &self,
        key: &Key,
        tag: &str,
        target: &str,
        at: Option<i64>,
        gpg_args: &[&str],
    ) {
        let wrapper = self.unique("gpg-wrap");
        let quoted: Vec<String> = gpg_args.iter().map(|a| format!("'{a}'")).collect();
        fs::write(
            &wrapper,
            format!("#!/bin/sh\nexec gpg {} \"$@\"\n", quoted.join(" ")),
        )
        .unwrap();
        fs::set_permissions(
            &wrapper,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let mut cmd = self.git_cmd(&self.remote);
        cmd.arg("-c")
            .arg(format!("gpg.program={}", wrapper.display()));
        if let Some(t) = at {
            cmd.env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
        }
        let msg = format!("{tag} signed by {}", key.name);
        git::tag_signed(cmd, key, &["-m", &msg, tag, target]);
    }

    /// Writes `content` as a tag object in the server repository, without
    /// git's format checks (what anyone who can push can do); returns its id.
    pub fn write_raw_tag(&self, content: &str) -> String {
        let mut cmd = self.git_cmd(&self.remote);
        cmd.args(["hash-object", "-t", "tag", "-w", "--literally", "--stdin"]);
        let out = process::checked(
            "git hash-object --literally",
            run_with_input(cmd, Some(content.as_bytes())),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// An unsigned layer named `tag` over `target` (of type `kind`), dated
    /// `at`, with `body` as its message; returns its id.
    pub fn unsigned_layer(
        &self,
        tag: &str,
        target: &str,
        kind: &str,
        at: i64,
        body: &str,
    ) -> String {
        self.write_raw_tag(&format!(
            "object {target}\ntype {kind}\ntag {tag}\ntagger Mallory <mallory@example.org> {at} +0000\n\n{body}"
        ))
    }

    /// Points refs/tags/`tag` on the server at `object`.
    pub fn force_tag_ref(&self, tag: &str, object: &str) {
        self.srv(&["update-ref", &format!("refs/tags/{tag}"), object]);
    }

    /// `check` run in another check container (an empty TMPDIR of its own).
    pub fn check_in_fresh_container(&self, source: &Value, version: Option<(&str, &str)>) -> Run {
        let tmp = self.fresh_dir("fresh-tmp");
        let mut req = json!({"source": source});
        if let Some((t, c)) = version {
            req["version"] = json!({"tag": t, "commit": c});
        }
        let tmp = Self::s(&tmp);
        self.run_env(
            Bin::Check,
            None,
            req.to_string().as_bytes(),
            &[("TMPDIR", &tmp)],
        )
    }
}

/// The lines of a check's log that start with `sigtag: skipping NAME:`.
pub fn skipping_lines<'a>(stderr: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("sigtag: skipping {name}: ");
    stderr.lines().filter(|l| l.starts_with(&prefix)).collect()
}

/// The last line of a check's log (its summary).
pub fn summary_line(stderr: &str) -> &str {
    stderr.trim_end().lines().last().unwrap_or("")
}

/// `sigtag ARGS` in the world's root with nothing from the environment but
/// HOME: no passphrase, no keys directory, no gpg home, no git config, no
/// terminal.
pub fn sigtag(w: &World, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtag"));
    cmd.env_clear()
        .env("HOME", &w.root)
        .env("GNUPGHOME", w.root.join("no-gnupg-home"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .current_dir(&w.root)
        .args(args);
    Run::from_output(run_with_input(cmd, None))
}

impl World {
    /// A gpg wrapper whose clock says `t`.
    pub fn gpg_at(&self, t: i64) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.unique("gpg-at-");
        fs::write(
            &path,
            format!(
                "#!/bin/sh\nexec gpg --ignore-time-conflict --faked-system-time '{t}!' \"$@\"\n"
            ),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

/// Runs a prepared command with `input` on stdin and kills it when it has
/// not finished after `limit`; returns what it printed and how long it
/// took, or `None` when it had to be killed.
pub fn exec_within(
    mut cmd: Command,
    input: &[u8],
    limit: std::time::Duration,
) -> Option<(Run, std::time::Duration)> {
    use std::io::{Read as _, Write as _};
    use std::process::Stdio;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let _ = child.stdin.take().expect("stdin").write_all(input);
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let elapsed = started.elapsed();
            return Some((
                Run {
                    code: status.code().unwrap_or(-1),
                    stdout: out.join().unwrap(),
                    stderr: err.join().unwrap(),
                },
                elapsed,
            ));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Where `secret` shows: in the output of `run`, or in a file below one of
/// `dirs` (by path). Empty when nowhere.
pub fn leaks(run: &Run, dirs: &[&Path], secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    if run.stdout.contains(secret) {
        out.push("stdout".to_string());
    }
    if run.stderr.contains(secret) {
        out.push(format!("stderr: {}", run.stderr));
    }
    for dir in dirs {
        for rel in World::files_below(dir) {
            let path = dir.join(&rel);
            if path.is_file() {
                let data = fs::read(&path).unwrap_or_default();
                if String::from_utf8_lossy(&data).contains(secret) {
                    out.push(path.display().to_string());
                }
            }
        }
    }
    out
}
