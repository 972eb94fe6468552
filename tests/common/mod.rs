//! Test harness: real git, real gpg, one temporary directory per test.
//!
//! Every test gets a `Ctx` holding a GNUPGHOME, a repository with a merge
//! commit, and a keys directory. git and gpg act as independent peers; the
//! `sigtag` binary is driven as a black box.
#![allow(dead_code)]

pub mod git;
pub mod gpg;
pub mod process;
pub mod ssh;

pub use gpg::Key;
pub use process::Run;

use git::Git;
use process::{checked, run_with_input};
use serde_json::Value;
use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

pub const GIT: &str = "/usr/local/bin/git";
pub const DAY: i64 = 86_400;

/// The commit subject of the merge commit every repository starts with.
pub const MERGE_SUBJECT: &str = "Merge pull request #42 from alice/feature";

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before 1970")
        .as_secs() as i64
}

/// RFC 3339 in UTC with a `Z`, the way the JSON report prints times.
pub fn iso(epoch: i64) -> String {
    chrono::DateTime::from_timestamp(epoch, 0)
        .expect("timestamp in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// How one signature is made by gpg (directly or behind git).
#[derive(Clone, Debug, Default)]
pub struct Sig {
    /// `--faked-system-time EPOCH!` (with `--ignore-time-conflict`, so a
    /// signature may predate its key)
    pub time: Option<i64>,
    /// `--digest-algo ALGO`
    pub digest: Option<String>,
    /// Use this GNUPGHOME instead of the test's main one.
    pub home: Option<PathBuf>,
}

impl Sig {
    pub fn at(time: i64) -> Sig {
        Sig {
            time: Some(time),
            ..Sig::default()
        }
    }
    pub fn digest(algo: &str) -> Sig {
        Sig {
            digest: Some(algo.to_string()),
            ..Sig::default()
        }
    }
    pub fn in_home(mut self, home: &Path) -> Sig {
        self.home = Some(home.to_path_buf());
        self
    }
}

/// Revocation reasons as gpg's `--gen-revoke` menu offers them.
#[derive(Clone, Copy, Debug)]
pub enum Revocation {
    Unspecified,
    Compromised,
    Superseded,
    Retired,
}

impl Revocation {
    fn menu(self) -> &'static str {
        match self {
            Revocation::Unspecified => "0",
            Revocation::Compromised => "1",
            Revocation::Superseded => "2",
            Revocation::Retired => "3",
        }
    }
}

/// What `sigtag` printed, read as its reports and errors.
impl Run {
    pub fn json(&self) -> Vec<Report> {
        let v: Value = serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            )
        });
        let arr = v
            .as_array()
            .unwrap_or_else(|| panic!("JSON is not an array: {v}"))
            .clone();
        for r in &arr {
            assert_report_shape(r);
        }
        arr.into_iter().map(Report).collect()
    }

    /// Asserts a configuration/usage style failure: exit 2, nothing on
    /// stdout, one sentence on stderr starting with `sigtag: ` that
    /// contains every fragment.
    pub fn assert_error(&self, fragments: &[&str]) {
        assert_eq!(
            self.code, 2,
            "expected exit 2, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "nothing on stdout on error");
        assert!(
            self.stderr.starts_with("sigtag: "),
            "stderr must start with \"sigtag: \": {:?}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one sentence on stderr: {:?}",
            self.stderr
        );
        for f in fragments {
            assert!(
                self.stderr.contains(f),
                "stderr {:?} does not contain {:?}",
                self.stderr,
                f
            );
        }
    }
}

/// Every field of a report is present with its type.
fn assert_report_shape(r: &Value) {
    let obj = r
        .as_object()
        .unwrap_or_else(|| panic!("report is not an object: {r}"));
    for key in [
        "tag",
        "commit",
        "environment",
        "rule",
        "satisfied",
        "rejected",
        "signers",
        "problems",
        "missing",
    ] {
        assert!(obj.contains_key(key), "report lacks {key:?}: {r}");
    }
    assert!(r["tag"].is_string() && r["environment"].is_string(), "{r}");
    assert!(r["rule"].is_string() && r["satisfied"].is_boolean(), "{r}");
    for key in ["commit", "rejected", "missing"] {
        assert!(r[key].is_string() || r[key].is_null(), "{key}: {r}");
    }
    if let Some(c) = r["commit"].as_str() {
        assert!(
            c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()),
            "commit is 40 hex: {r}"
        );
    }
    if r["rejected"].is_string() {
        assert_eq!(r["satisfied"], Value::Bool(false), "{r}");
    }
    if r["satisfied"] == Value::Bool(true) {
        assert!(
            r["missing"].is_null(),
            "missing is null when satisfied: {r}"
        );
    }
    for s in r["signers"].as_array().expect("signers array") {
        for key in ["name", "groups", "fingerprint", "layer", "created"] {
            assert!(s.get(key).is_some(), "signer lacks {key:?}: {s}");
        }
        let fpr = s["fingerprint"].as_str().expect("fingerprint");
        let hex = fpr
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
        let ssh = fpr.strip_prefix("SHA256:").is_some_and(|b64| {
            b64.len() == 43
                && b64
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        });
        assert!(
            hex || ssh,
            "fingerprint is upper-case hex (OpenPGP) or SHA256:base64 (SSH): {s}"
        );
        assert!(s["layer"].as_u64().is_some_and(|l| l >= 1), "{s}");
    }
    for p in r["problems"].as_array().expect("problems array") {
        assert!(p["layer"].is_null() || p["layer"].as_u64().is_some(), "{p}");
        assert!(p["reason"].is_string(), "{p}");
    }
}

/// One element of the `--json` array.
#[derive(Clone, Debug)]
pub struct Report(pub Value);

impl Report {
    pub fn tag(&self) -> String {
        self.str_field("tag").expect("tag is a string")
    }
    pub fn satisfied(&self) -> bool {
        self.0["satisfied"]
            .as_bool()
            .unwrap_or_else(|| panic!("satisfied is not a bool: {}", self.0))
    }
    pub fn rejected(&self) -> Option<String> {
        self.str_field("rejected")
    }
    pub fn missing(&self) -> Option<String> {
        self.str_field("missing")
    }
    pub fn commit(&self) -> Option<String> {
        self.str_field("commit")
    }
    fn str_field(&self, f: &str) -> Option<String> {
        match &self.0[f] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => panic!("{f} is neither null nor a string: {other} in {}", self.0),
        }
    }
    /// `(name, layer)` of every counting signature, in report order.
    pub fn signers(&self) -> Vec<(String, u64)> {
        self.0["signers"]
            .as_array()
            .unwrap_or_else(|| panic!("signers is not an array: {}", self.0))
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().expect("signer name").to_string(),
                    s["layer"].as_u64().expect("signer layer"),
                )
            })
            .collect()
    }
    /// Signers sorted by layer then name, for order-independent comparison.
    pub fn signers_sorted(&self) -> Vec<(String, u64)> {
        let mut v = self.signers();
        v.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        v
    }
    pub fn signer_entries(&self) -> Vec<Value> {
        self.0["signers"].as_array().cloned().unwrap_or_default()
    }
    /// `(layer, reason)` of every problem.
    pub fn problems(&self) -> Vec<(Option<u64>, String)> {
        self.0["problems"]
            .as_array()
            .unwrap_or_else(|| panic!("problems is not an array: {}", self.0))
            .iter()
            .map(|p| {
                (
                    p["layer"].as_u64(),
                    p["reason"].as_str().expect("problem reason").to_string(),
                )
            })
            .collect()
    }

    /// Satisfied, signed by exactly `expected` (in report order), and
    /// without problems.
    pub fn assert_clean(&self, expected: &[(&str, u64)]) {
        assert!(self.satisfied(), "{}", self.0);
        assert_eq!(self.signers(), signers(expected));
        assert_eq!(self.problems(), problems(&[]));
    }

    /// The tag is rejected with exactly this reason, which is also among
    /// the problems.
    pub fn assert_rejected(&self, reason: &str) {
        assert_eq!(
            self.rejected().as_deref(),
            Some(reason),
            "rejected reason; report: {}",
            self.0
        );
        assert!(
            !self.satisfied(),
            "a rejected tag is not satisfied: {}",
            self.0
        );
        assert_eq!(
            self.missing(),
            None,
            "missing is null when rejected: {}",
            self.0
        );
        assert!(
            self.problems().iter().any(|(_, r)| r == reason),
            "rejection must be among problems: {}",
            self.0
        );
    }
}

/// The run succeeded (exit 0).
pub fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "expected success\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

pub fn signers(list: &[(&str, u64)]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = list.iter().map(|(n, l)| (n.to_string(), *l)).collect();
    v.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    v
}

pub fn problems(list: &[(Option<u64>, &str)]) -> Vec<(Option<u64>, String)> {
    list.iter().map(|(l, r)| (*l, r.to_string())).collect()
}

pub struct Ctx {
    dir: tempfile::TempDir,
    pub root: PathBuf,
    /// The main GNUPGHOME: holds every secret key made by `key()`.
    pub home: PathBuf,
    pub repo: PathBuf,
    pub keys: PathBuf,
    wrapper: PathBuf,
    git: Git,
    homes: RefCell<Vec<PathBuf>>,
    counter: RefCell<u32>,
}

impl Drop for Ctx {
    fn drop(&mut self) {
        for home in self.homes.borrow().iter() {
            gpg::kill_agents(home);
        }
    }
}

impl Ctx {
    /// A fresh test directory with a repository whose HEAD is the merge
    /// commit `MERGE_SUBJECT`, an empty keys directory and a GNUPGHOME.
    pub fn new() -> Ctx {
        let (dir, root) = process::test_dir("st");
        let home = root.join("g");
        gpg::create_home(&home);
        let keys = root.join("keys");
        fs::create_dir(&keys).unwrap();
        let wrapper = root.join("gpg-wrap");
        fs::write(
            &wrapper,
            "#!/bin/sh\n\
             exec gpg ${TEST_GPG_FAKETIME:+--ignore-time-conflict --faked-system-time \"$TEST_GPG_FAKETIME\"} \
             ${TEST_GPG_DIGEST:+--digest-algo \"$TEST_GPG_DIGEST\"} \"$@\"\n",
        )
        .unwrap();
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
        let git = Git::new(GIT, &root, "Test Tagger", "tagger@example.org");
        let repo = root.join("repo");
        let ctx = Ctx {
            dir,
            root,
            home: home.clone(),
            repo: repo.clone(),
            keys,
            wrapper,
            git,
            homes: RefCell::new(vec![home]),
            counter: RefCell::new(0),
        };
        ctx.git_in(&ctx.root, &["init", "-q", "repo"]);
        fs::write(repo.join("README"), "hello\n").unwrap();
        ctx.git(&["add", "README"]);
        ctx.git(&["commit", "-q", "-m", "Initial commit"]);
        ctx.git(&["checkout", "-q", "-b", "feature"]);
        fs::write(repo.join("feature.txt"), "feature\n").unwrap();
        ctx.git(&["add", "feature.txt"]);
        ctx.git(&["commit", "-q", "-m", "Add feature"]);
        ctx.git(&["checkout", "-q", "main"]);
        ctx.git(&["merge", "-q", "--no-ff", "-m", MERGE_SUBJECT, "feature"]);
        ctx
    }

    fn unique(&self, stem: &str) -> PathBuf {
        let mut c = self.counter.borrow_mut();
        *c += 1;
        self.root.join(format!("{stem}{c}"))
    }

    // ---------------------------------------------------------------- git

    /// Runs git in `dir`, panics on failure, returns trimmed stdout.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        self.git.run(dir, &self.home, args)
    }

    /// Runs git in `dir`, returns the raw output whatever the status.
    pub fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        self.git.output(dir, &self.home, args)
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.repo, args)
    }

    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", rev])
    }

    pub fn rev_parse_in(&self, dir: &Path, rev: &str) -> String {
        self.git_in(dir, &["rev-parse", "--verify", "-q", rev])
    }

    pub fn head(&self) -> String {
        self.rev_parse("HEAD^{commit}")
    }

    /// Whether the repository has a ref refs/tags/NAME.
    pub fn tag_exists(&self, name: &str) -> bool {
        self.git_output(
            &self.repo,
            &["rev-parse", "--verify", "-q", &format!("refs/tags/{name}")],
        )
        .status
        .success()
    }

    pub fn cat_tag(&self, rev: &str) -> String {
        self.git(&["cat-file", "tag", rev])
    }

    /// Raw bytes of a tag object.
    pub fn tag_object(&self, rev: &str) -> Vec<u8> {
        let mut cmd = self.git.command(&self.repo, &self.home);
        cmd.args(["cat-file", "tag", rev]);
        checked("git cat-file", run_with_input(cmd, None)).stdout
    }

    /// A signed tag made by git in `dir`: `git tag -s ARGS...` (for example
    /// `["-f", "-m", MSG, NAME, TARGET]`), signed by `key` through the gpg
    /// wrapper.
    pub fn git_tag_s(&self, dir: &Path, key: &Key, args: &[&str], sig: &Sig) {
        let home = sig.home.clone().unwrap_or_else(|| self.home.clone());
        let mut cmd = self.git.command(dir, &home);
        cmd.arg("-c")
            .arg(format!("gpg.program={}", self.wrapper.display()))
            .args(["-c", "advice.nestedTag=false"]);
        if let Some(t) = sig.time {
            // git dates the layer when gpg's clock says it signs it: a
            // layer's date must agree with its signature (DESIGN §1).
            cmd.env("TEST_GPG_FAKETIME", format!("{t}!"))
                .env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
        }
        if let Some(d) = &sig.digest {
            cmd.env("TEST_GPG_DIGEST", d);
        }
        git::tag_signed(cmd, key, args);
    }

    /// First layer: `git tag -s -m MSG NAME TARGET`.
    pub fn sign(&self, key: &Key, name: &str, target: &str, sig: &Sig) {
        let msg = format!("{name} signed by {}", key.name);
        self.git_tag_s(&self.repo, key, &["-m", &msg, name, target], sig);
    }

    /// Next layer: `git tag -s -f NAME NAME`.
    pub fn cosign(&self, key: &Key, name: &str, sig: &Sig) {
        let msg = format!("{name} co-signed by {}", key.name);
        self.git_tag_s(&self.repo, key, &["-f", "-m", &msg, name, name], sig);
    }

    /// A chain on HEAD: first key signs, every further key adds a layer.
    pub fn chain(&self, name: &str, keys: &[&Key]) {
        let (first, rest) = keys.split_first().expect("at least one key");
        self.sign(first, name, "HEAD", &Sig::default());
        for k in rest {
            self.cosign(k, name, &Sig::default());
        }
    }

    /// Writes an object of type tag; `literally` skips git's format checks.
    pub fn write_tag_object(&self, content: &[u8], literally: bool) -> String {
        let mut cmd = self.git.command(&self.repo, &self.home);
        cmd.args(["hash-object", "-t", "tag", "-w", "--stdin"]);
        if literally {
            cmd.arg("--literally");
        }
        let out = checked("git hash-object", run_with_input(cmd, Some(content)));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn set_tag_ref(&self, name: &str, oid: &str) {
        self.git(&["update-ref", &format!("refs/tags/{name}"), oid]);
    }

    /// A tag payload the way git writes it (headers, blank line, message).
    pub fn payload(object: &str, kind: &str, name: &str, message: &str) -> String {
        format!(
            "object {object}\ntype {kind}\ntag {name}\ntagger Test Tagger <tagger@example.org> {} +0000\n\n{message}\n",
            now()
        )
    }

    /// `payload` followed by an armored detached signature over it made by
    /// `gpg --detach-sign --armor -u K1 -u K2 ...`.
    pub fn signed_object(&self, payload: &str, keys: &[&Key], sig: &Sig) -> String {
        let armored = self.detach_sign(payload.as_bytes(), keys, sig);
        format!("{payload}{armored}")
    }

    // ---------------------------------------------------------------- gpg

    /// Runs gpg with the main home; panics on failure; returns stdout.
    pub fn gpg(&self, args: &[&str]) -> Vec<u8> {
        self.gpg_home(&self.home, args)
    }

    pub fn gpg_home(&self, home: &Path, args: &[&str]) -> Vec<u8> {
        gpg::run(home, args)
    }

    pub fn gpg_output(&self, home: &Path, args: &[&str]) -> Output {
        gpg::output(home, args)
    }

    fn new_key(&self, name: &str, spec: &gpg::NewKey) -> Key {
        Key {
            name: name.to_string(),
            fpr: gpg::gen_key(&self.home, &gpg::uid(name), spec),
        }
    }

    /// `gpg --quick-gen-key "NAME <NAME@example.org>" ALGO sign EXPIRY`,
    /// optionally with the key's creation time faked.
    pub fn gen_key_full(&self, name: &str, algo: &str, expiry: &str, created: Option<i64>) -> Key {
        self.new_key(
            name,
            &gpg::NewKey {
                algo,
                expiry,
                created,
                ..gpg::NewKey::default()
            },
        )
    }

    /// An ed25519 signing key protected by a passphrase.
    pub fn key_with_passphrase(&self, name: &str, passphrase: &str) -> Key {
        self.new_key(
            name,
            &gpg::NewKey {
                passphrase,
                ..gpg::NewKey::default()
            },
        )
    }

    /// Exports a passphrase-protected secret key (still protected).
    pub fn protected_secret_key_file(&self, key: &Key, passphrase: &str) -> PathBuf {
        let data = gpg::export_secret(&self.home, &key.fpr, passphrase);
        let path = self.root.join(format!("{}.sec.asc", key.name));
        fs::write(&path, data).unwrap();
        path
    }

    /// An ed25519 signing key without expiry.
    pub fn key(&self, name: &str) -> Key {
        self.gen_key_full(name, "ed25519", "never", None)
    }

    /// An ed25519 signing key created at `created` (so it can sign in the past).
    pub fn key_created(&self, name: &str, created: i64, expiry: &str) -> Key {
        self.gen_key_full(name, "ed25519", expiry, Some(created))
    }

    /// Armored public certificate of `key` from `home`.
    pub fn export_pub_from(&self, home: &Path, key: &Key) -> Vec<u8> {
        gpg::export_public(home, &key.fpr)
    }

    /// Writes `key`'s public certificate into keys/<name>.asc.
    pub fn trust(&self, key: &Key) {
        self.trust_as(key, &key.name);
    }

    pub fn trust_as(&self, key: &Key, signer: &str) {
        let cert = self.export_pub_from(&self.home, key);
        fs::write(self.keys.join(format!("{signer}.asc")), cert).unwrap();
    }

    /// Several certificates concatenated in one signer file (rotation).
    pub fn trust_many(&self, signer: &str, keys: &[&Key]) {
        let mut all = Vec::new();
        for k in keys {
            all.extend(self.export_pub_from(&self.home, k));
        }
        fs::write(self.keys.join(format!("{signer}.asc")), all).unwrap();
    }

    /// Exports the (unprotected) secret key into a file for `sigtag --key`.
    pub fn secret_key_file(&self, key: &Key) -> PathBuf {
        let data = gpg::export_secret(&self.home, &key.fpr, "");
        assert!(!data.is_empty(), "secret key export is empty");
        let path = self.root.join(format!("{}.sec.asc", key.name));
        fs::write(&path, data).unwrap();
        path
    }

    /// `gpg --detach-sign --armor -u K...` over `data`.
    pub fn detach_sign(&self, data: &[u8], keys: &[&Key], sig: &Sig) -> String {
        let home = sig.home.clone().unwrap_or_else(|| self.home.clone());
        let input = self.unique("in");
        fs::write(&input, data).unwrap();
        let mut cmd = gpg::command(&home);
        cmd.args(["--passphrase", ""]);
        if let Some(t) = sig.time {
            cmd.args(["--ignore-time-conflict", "--faked-system-time"])
                .arg(format!("{t}!"));
        }
        if let Some(d) = &sig.digest {
            cmd.args(["--digest-algo", d]);
        }
        for k in keys {
            cmd.args(["-u", &k.fpr]);
        }
        cmd.args(["--detach-sign", "--armor", "-o", "-"])
            .arg(&input);
        let out = checked("gpg --detach-sign", run_with_input(cmd, None));
        String::from_utf8(out.stdout).expect("armored signature is UTF-8")
    }

    /// A copy of the main GNUPGHOME (regular files only, no sockets).
    pub fn copy_home(&self) -> PathBuf {
        let dst = self.unique("h");
        copy_tree(&self.home, &dst);
        fs::set_permissions(&dst, fs::Permissions::from_mode(0o700)).unwrap();
        self.homes.borrow_mut().push(dst.clone());
        dst
    }

    /// A revocation certificate with a reason, made the only way gpg makes
    /// one non-interactively (it asks for the reason on a terminal only).
    /// Not imported.
    pub fn revocation(&self, key: &Key, reason: Revocation, at: Option<i64>) -> PathBuf {
        let fake = match at {
            Some(t) => format!("--faked-system-time {t}!"),
            None => String::new(),
        };
        self.revocation_with(key, reason, &fake)
    }

    /// Imports a file into the main GNUPGHOME.
    pub fn import(&self, file: &Path) {
        gpg::import(&self.home, file);
    }

    // ---------------------------------------------------------------- keys dir

    pub fn policy(&self, toml: &str) {
        fs::write(self.keys.join("policy.toml"), toml).unwrap();
    }

    /// A policy with groups humans/pipelines and environments staging
    /// (2 of humans) and prod (2 of humans and 1 of pipelines).
    pub fn standard_policy(&self, humans: &[&str], pipelines: &[&str]) {
        let list = |v: &[&str]| {
            v.iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        self.policy(&format!(
            "[groups]\nhumans = [{}]\npipelines = [{}]\n\n\
             [environments.staging]\nrequire = \"2 of humans\"\n\n\
             [environments.prod]\nrequire = \"2 of humans and 1 of pipelines\"\n",
            list(humans),
            list(pipelines)
        ));
    }

    // ---------------------------------------------------------------- sigtag

    pub fn sigtag_cmd(&self, dir: &Path) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigtag"));
        cmd.current_dir(dir)
            // sigtag must not depend on anybody's gpg keyring.
            .env("GNUPGHOME", self.root.join("no-gnupg-home"))
            .env("HOME", &self.root)
            .env("GIT_CONFIG_GLOBAL", &self.git.config)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("LC_ALL", "C")
            .env_remove("SIGTAG_PASSPHRASE")
            .env_remove("SIGTAG_KEYS")
            .env_remove("GIT_DIR");
        cmd
    }

    pub fn run_cmd(cmd: Command) -> Run {
        Run::from_output(run_with_input(cmd, None))
    }

    /// `sigtag ARGS` run from the test root.
    pub fn sigtag(&self, args: &[&str]) -> Run {
        let mut cmd = self.sigtag_cmd(&self.root);
        cmd.args(args);
        Ctx::run_cmd(cmd)
    }

    /// `sigtag cosign TAG --key FILE --require RULE --keys KEYS --repo REPO`
    /// with the test's keys directory and repository.
    pub fn cosign_requiring(&self, tag: &str, key_file: &str, rule: &str) -> Run {
        let keys = Ctx::path_str(&self.keys);
        let repo = Ctx::path_str(&self.repo);
        self.sigtag(&[
            "cosign",
            tag,
            "--key",
            key_file,
            "--require",
            rule,
            "--keys",
            &keys,
            "--repo",
            &repo,
        ])
    }

    /// `sigtag verify TAGS --env ENV --keys KEYS --repo REPO --json`,
    /// asserting the exit status matches the verdicts.
    pub fn verify(&self, env: &str, tags: &[&str]) -> (i32, Vec<Report>) {
        self.verify_in(&self.repo, env, tags)
    }

    pub fn verify_in(&self, repo: &Path, env: &str, tags: &[&str]) -> (i32, Vec<Report>) {
        let mut args = vec!["verify"];
        args.extend_from_slice(tags);
        let keys = self.keys.to_str().unwrap().to_string();
        let repo = repo.to_str().unwrap().to_string();
        args.extend_from_slice(&["--env", env, "--keys", &keys, "--repo", &repo, "--json"]);
        let run = self.sigtag(&args);
        assert!(
            run.code == 0 || run.code == 1,
            "verify must give a verdict (0/1), got {}\nstdout:\n{}\nstderr:\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        let reports = run.json();
        assert_eq!(
            reports.len(),
            tags.len(),
            "one report per named tag: {}",
            run.stdout
        );
        for (r, t) in reports.iter().zip(tags) {
            assert_eq!(&r.tag(), t, "reports in the order the tags were named");
            assert_eq!(
                r.0["environment"].as_str(),
                Some(env),
                "environment: {}",
                r.0
            );
        }
        let all = reports.iter().all(Report::satisfied);
        assert_eq!(
            run.code,
            if all { 0 } else { 1 },
            "exit status must follow the verdicts: {}",
            run.stdout
        );
        (run.code, reports)
    }

    /// Verifies one tag and returns its report.
    pub fn verify_one(&self, env: &str, tag: &str) -> Report {
        let (_, mut reports) = self.verify(env, &[tag]);
        reports.remove(0)
    }

    pub fn path_str(p: &Path) -> String {
        p.to_str().expect("UTF-8 path").to_string()
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Ctx::new()
    }
}

fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for entry in fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let ft = entry.file_type().unwrap();
        let to = dst.join(entry.file_name());
        if ft.is_dir() {
            copy_tree(&entry.path(), &to);
        } else if ft.is_file() {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
}

impl Ctx {
    /// `git tag -s ARGS...` in the test repository like [`Ctx::git_tag_s`],
    /// with the layer dated `date` (GIT_COMMITTER_DATE) whatever gpg's
    /// clock says, and gpg run with `gpg_args` added (e.g. `--textmode`,
    /// `--default-sig-expire 1d`) through a wrapper of its own.
    pub fn git_tag_s_with(
        &self,
        key: &Key,
        args: &[&str],
        sig: &Sig,
        date: Option<i64>,
        gpg_args: &[&str],
    ) {
        let wrapper = self.unique("gpg-wrap-");
        let extra: Vec<String> = gpg_args.iter().map(|a| format!("'{a}'")).collect();
        fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\n\
                 exec gpg {} ${{TEST_GPG_FAKETIME:+--ignore-time-conflict --faked-system-time \"$TEST_GPG_FAKETIME\"}} \
                 ${{TEST_GPG_DIGEST:+--digest-algo \"$TEST_GPG_DIGEST\"}} \"$@\"\n",
                extra.join(" ")
            ),
        )
        .unwrap();
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
        let home = sig.home.clone().unwrap_or_else(|| self.home.clone());
        let mut cmd = self.git.command(&self.repo, &home);
        cmd.arg("-c")
            .arg(format!("gpg.program={}", wrapper.display()))
            .args(["-c", "advice.nestedTag=false"]);
        if let Some(t) = sig.time {
            cmd.env("TEST_GPG_FAKETIME", format!("{t}!"))
                .env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
        }
        if let Some(t) = date {
            cmd.env("GIT_COMMITTER_DATE", format!("@{t} +0000"));
        }
        if let Some(d) = &sig.digest {
            cmd.env("TEST_GPG_DIGEST", d);
        }
        git::tag_signed(cmd, key, args);
    }

    /// Like [`Ctx::revocation`], with `gpg_args` (e.g. `--cert-digest-algo
    /// SHA1`) given to gpg.
    pub fn revocation_with(&self, key: &Key, reason: Revocation, gpg_args: &str) -> PathBuf {
        let out = self.unique("rev");
        let inner = format!(
            "gpg {gpg_args} --command-fd 0 --pinentry-mode loopback --passphrase '' -a -o {} --gen-revoke {}",
            out.display(),
            key.fpr
        );
        let mut cmd = Command::new("script");
        cmd.args(["-q", "-c", &inner, "/dev/null"])
            .env("GNUPGHOME", &self.home)
            .env("LC_ALL", "C");
        let answers = format!("y\n{}\nrevoked by the test\n\ny\n", reason.menu());
        checked(
            "gpg --gen-revoke under script",
            run_with_input(cmd, Some(answers.as_bytes())),
        );
        let text = fs::read_to_string(&out)
            .unwrap_or_else(|e| panic!("no revocation certificate at {}: {e}", out.display()));
        assert!(text.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{text}");
        out
    }

    /// An annotated, unsigned tag made by git, dated `date`.
    pub fn git_tag_a_dated(&self, args: &[&str], date: i64) {
        let mut cmd = self.git.command(&self.repo, &self.home);
        cmd.env("GIT_COMMITTER_DATE", format!("@{date} +0000"))
            .args(["-c", "advice.nestedTag=false", "tag", "-a"])
            .args(args);
        checked("git tag -a", run_with_input(cmd, None));
    }

    /// The command `sigtag ARGS` would run, for wrappers.
    pub fn sigtag_command(&self, args: &[&str]) -> Command {
        let mut cmd = self.sigtag_cmd(&self.root);
        cmd.args(args);
        cmd
    }
}

impl Ctx {
    /// A signing key made by `gpg EXTRA... --quick-gen-key` (for example
    /// with `--cert-digest-algo SHA1`), created at `created`.
    pub fn key_made_with(&self, name: &str, created: i64, expiry: &str, extra: &[&str]) -> Key {
        let spec = gpg::NewKey {
            expiry,
            created: Some(created),
            ..gpg::NewKey::default()
        };
        Key {
            name: name.to_string(),
            fpr: gpg::gen_key_with(&self.home, &gpg::uid(name), &spec, extra),
        }
    }

    /// The certificates of `exports` imported one after the other into a
    /// fresh GNUPGHOME and exported again: gpg merges their signatures,
    /// so the result holds every binding any of them held.
    pub fn merged_export(&self, key: &Key, exports: &[&[u8]]) -> Vec<u8> {
        let home = self.unique("merge");
        gpg::create_home(&home);
        self.homes.borrow_mut().push(home.clone());
        for (i, data) in exports.iter().enumerate() {
            let file = home.join(format!("part{i}.asc"));
            fs::write(&file, data).unwrap();
            gpg::import(&home, &file);
        }
        gpg::export_public(&home, &key.fpr)
    }

    /// The fingerprint of `key`'s newest subkey, from `--with-colons`.
    pub fn newest_subkey(&self, key: &Key) -> String {
        let listing = String::from_utf8(self.gpg(&["--with-colons", "--list-keys", &key.fpr]))
            .expect("gpg listing is UTF-8");
        let mut after_sub = false;
        let mut found = None;
        for line in listing.lines() {
            if line.starts_with("sub:") {
                after_sub = true;
            } else if after_sub && line.starts_with("fpr:") {
                found = line.split(':').nth(9).map(str::to_string);
                after_sub = false;
            }
        }
        found.unwrap_or_else(|| panic!("no subkey in {listing}"))
    }

    /// How many signature packets of class `sigclass` (e.g. `0x13`,
    /// `0x18`) a certificate holds, by `gpg --list-packets`.
    pub fn count_sigclass(&self, cert: &[u8], sigclass: &str) -> usize {
        self.list_packets(cert)
            .matches(&format!("sigclass {sigclass}"))
            .count()
    }

    /// `gpg --list-packets` of `data`.
    pub fn list_packets(&self, data: &[u8]) -> String {
        let file = self.unique("pkts");
        fs::write(&file, data).unwrap();
        String::from_utf8_lossy(&self.gpg(&["--list-packets", file.to_str().unwrap()])).into_owned()
    }

    /// The digest algorithms (`digest algo N`) of a certificate's or
    /// signature's packets, by `gpg --list-packets`.
    pub fn digest_algos(&self, data: &[u8]) -> Vec<u32> {
        self.list_packets(data)
            .split("digest algo ")
            .skip(1)
            .filter_map(|rest| rest.split(',').next()?.trim().parse().ok())
            .collect()
    }
}

impl Ctx {
    /// `program` run in `dir` with exactly the environment this context's
    /// git commands get (GNUPGHOME, HOME, the private git configuration,
    /// LC_ALL=C) and nothing else: for scripts that run git and gpg
    /// themselves. Add PATH and whatever else they need.
    pub fn command_with_git_env(&self, program: &str, dir: &Path) -> Command {
        let model = self.git.command(dir, &self.home);
        let mut cmd = Command::new(program);
        cmd.current_dir(dir).env_clear();
        for (name, value) in model.get_envs() {
            if let Some(value) = value {
                cmd.env(name, value);
            }
        }
        cmd
    }
}
