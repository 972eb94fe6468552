//! No panics on input: every valid object of a real corpus (tag objects
//! made by git and signed by gpg, armored signature blocks, certificates,
//! the example policy, rule strings, resource requests), truncated and with
//! bits flipped, gets a verdict or an error from the pure parsers and
//! checkers, never a panic.
//!
//! The corpus is made at test time: two ed25519 keys in a private
//! GNUPGHOME, a repository with a one-layer tag, a two-layer tag and a
//! layer holding two signature packets, plus the example keys directory.

use serde_json::json;
use sigtag::chain::{Chain, Layer};
use sigtag::object::{self, SignatureBlock, TagObject};
use sigtag::render;
use sigtag::resource::request;
use sigtag::rule::Rule;
use sigtag::trust::{self, CertSource, Trust};
use sigtag::verdict::Gate;
use sigtag::verify;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Once, OnceLock};
use std::time::{Instant, SystemTime};

// ---------------------------------------------------------------------------
// Mutations

/// Inputs up to this many bytes are cut at every length; longer ones at a
/// dense sample of lengths.
const ALL_CUTS_UP_TO: usize = 1024;
/// Inputs up to this many bits get every bit flipped; longer ones a
/// deterministic sample.
const ALL_FLIPS_UP_TO: usize = 4096;

/// Every length to cut `len` bytes at: all of them for short inputs; for
/// long ones the first and last 128 and every `step`-th in between.
fn cut_lengths(len: usize, budget: usize) -> Vec<usize> {
    if len <= ALL_CUTS_UP_TO || len <= budget {
        return (0..len).collect();
    }
    let edge = 128.min(len / 2);
    let step = (len - 2 * edge).div_ceil(budget.saturating_sub(2 * edge).max(1));
    let mut cuts: BTreeSet<usize> = (0..edge).collect();
    cuts.extend((edge..len - edge).step_by(step.max(1)));
    cuts.extend(len - edge..len);
    cuts.into_iter().collect()
}

/// Which bits to flip: all of them for short inputs; for long ones every
/// bit of the first and last 32 bytes and a fixed pseudo-random sample.
fn flip_bits(len: usize, budget: usize) -> Vec<usize> {
    let bits = len * 8;
    if bits <= ALL_FLIPS_UP_TO || bits <= budget {
        return (0..bits).collect();
    }
    let edge = 32.min(len / 2) * 8;
    let mut chosen: BTreeSet<usize> = (0..edge).chain(bits - edge..bits).collect();
    // xorshift64*, seeded by the length: the same sample on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
    while chosen.len() < budget.min(bits) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        chosen.insert((r % bits as u64) as usize);
    }
    chosen.into_iter().collect()
}

/// The truncated and bit-flipped versions of `data`, each with a label
/// that says how to make it again.
fn mutations(data: &[u8], budget: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for n in cut_lengths(data.len(), budget) {
        out.push((
            format!("cut to {n} of {} bytes", data.len()),
            data.get(..n).unwrap().to_vec(),
        ));
    }
    for bit in flip_bits(data.len(), budget * 2) {
        let mut m = data.to_vec();
        m[bit / 8] ^= 1 << (bit % 8);
        out.push((format!("bit {} of byte {} flipped", bit % 8, bit / 8), m));
    }
    out
}

// ---------------------------------------------------------------------------
// Catching panics

thread_local! {
    /// Is this thread inside [`Findings::call`]?
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Inside [`Findings::call`], records where a panic happened instead of
/// printing it: the test names the panicking inputs itself. Elsewhere (a
/// failed assertion) panics print as usual.
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(Cell::get) {
                return default(info);
            }
            let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
                s.to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "(no message)".to_string()
            };
            let at = info
                .location()
                .map_or_else(String::new, |l| format!(" at {}:{}", l.file(), l.line()));
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
        }));
    });
}

/// Collects the inputs that made something panic.
#[derive(Default)]
struct Findings {
    calls: usize,
    panics: Vec<String>,
}

impl Findings {
    /// Runs `f`, which must return (a verdict or an error) without panicking.
    fn call<T>(&mut self, what: &str, label: &str, f: impl FnOnce() -> T) -> Option<T> {
        self.calls += 1;
        CATCHING.with(|c| c.set(true));
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        CATCHING.with(|c| c.set(false));
        match result {
            Ok(v) => Some(v),
            Err(_) => {
                let why = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_default();
                self.panics
                    .push(format!("{what}, {label}: panicked: {why}"));
                None
            }
        }
    }

    fn assert_none(&self, what: &str) {
        // A corpus that came out empty would pass without trying anything.
        assert!(self.calls > 0, "{what}: no input was tried");
        assert!(
            self.panics.is_empty(),
            "{what}: {} of {} calls panicked:\n{}",
            self.panics.len(),
            self.calls,
            self.panics
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        eprintln!("{what}: {} calls, no panic", self.calls);
    }
}

// ---------------------------------------------------------------------------
// The corpus

struct Gpg {
    home: PathBuf,
}

impl Gpg {
    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", &self.home)
            .args(["--batch", "--quiet", "--no-tty"])
            .args(args);
        ok(piped(cmd, stdin), &format!("gpg {}", args.join(" ")))
    }

    fn fingerprint(&self, uid: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", uid], None);
        String::from_utf8(out)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .map(|l| l.trim_matches(':').to_string())
            .unwrap()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "all"])
            .status();
    }
}

fn piped(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    use std::io::Write as _;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(out: Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn git(repo: &Path, home: &Path, args: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo)
        .env("GNUPGHOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // Tagger dates are the time of signing: a layer's date must agree
        // with its signature's.
        .env("GIT_AUTHOR_DATE", "1700000000 +0100")
        .args([
            "-c",
            "user.name=Alice Example",
            "-c",
            "user.email=alice@example.org",
            "-c",
            "gpg.program=gpg",
            "-c",
            "advice.nestedTag=false",
        ])
        .args(args);
    ok(piped(cmd, None), &format!("git {}", args.join(" ")))
}

struct Corpus {
    /// Raw tag objects, each a valid layer.
    objects: Vec<(String, Vec<u8>)>,
    /// Armored signature blocks as they appear in a layer.
    blocks: Vec<(String, Vec<u8>)>,
    /// Armored certificates.
    certs: Vec<(String, Vec<u8>)>,
    policy: Vec<u8>,
    /// The example keys directory's certificates, by signer.
    example_sources: Vec<CertSource>,
    rules: Vec<String>,
    requests: Vec<(String, Vec<u8>)>,
    /// Holds alice and bob, who made every signature in `objects`.
    trust: Trust,
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keys")
}

/// The corpus, made once for all the tests of this file.
fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        quiet_panics();
        let started = Instant::now();
        let c = make_corpus();
        assert_valid(&c, SystemTime::now());
        eprintln!("corpus made in {:.1?}", started.elapsed());
        c
    })
}

/// Makes the corpus in a temporary directory, which is gone (and gpg's
/// agent stopped) when this returns.
fn make_corpus() -> Corpus {
    let dir = tempfile::Builder::new().prefix("np").tempdir().unwrap();
    let home = dir.path().join("g");
    std::fs::create_dir(&home).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let gpg = Gpg { home: home.clone() };
    for uid in ["alice <alice@example.org>", "bob <bob@example.org>"] {
        gpg.run(
            &[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                "ed25519",
                "sign",
                "1y",
            ],
            None,
        );
    }
    let alice = gpg.fingerprint("alice@example.org");
    let bob = gpg.fingerprint("bob@example.org");
    let alice_cert = gpg.run(&["--armor", "--export", &alice], None);
    let bob_cert = gpg.run(&["--armor", "--export", &bob], None);
    let alice_secret = gpg.run(
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--armor",
            "--export-secret-keys",
            &alice,
        ],
        None,
    );

    // Tags made by git, signed by gpg.
    let repo = dir.path().join("r");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &home, &["init", "-q"]);
    std::fs::write(repo.join("README"), "hello\n").unwrap();
    git(&repo, &home, &["add", "README"]);
    git(&repo, &home, &["commit", "-q", "-m", "first"]);
    let sign_with = |key: &str, args: &[&str]| {
        let setting = format!("user.signingkey={key}");
        let mut all = vec!["-c", setting.as_str()];
        all.extend_from_slice(args);
        git(&repo, &home, &all);
    };
    sign_with(&alice, &["tag", "-s", "v1", "-m", "release v1"]);
    sign_with(&bob, &["tag", "-s", "v1-bob", "-m", "second look", "v1"]);
    let cat = |name: &str| git(&repo, &home, &["cat-file", "tag", name]);
    let one = cat("v1");
    let outer = cat("v1-bob");

    // One layer with two signature packets: git's unsigned payload,
    // signed by alice and bob in one armored block.
    git(&repo, &home, &["tag", "-a", "v2", "-m", "release v2"]);
    let payload = cat("v2");
    let two = gpg.run(
        &["--armor", "--detach-sign", "-u", &alice, "-u", &bob],
        Some(&payload),
    );
    let mut multi = payload.clone();
    multi.extend_from_slice(&two);

    let objects = vec![
        ("one-layer tag v1".to_string(), one),
        ("outer layer of nested tag v1-bob".to_string(), outer),
        ("two-packet layer v2".to_string(), multi),
    ];
    let mut blocks = Vec::new();
    for (name, raw) in &objects {
        let parsed = object::parse(raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        let SignatureBlock::OpenPgp(block) = parsed.signature else {
            panic!("{name} has no OpenPGP signature");
        };
        blocks.push((format!("signature block of {name}"), block));
    }

    let mut certs = vec![
        ("alice's certificate".to_string(), alice_cert.clone()),
        ("bob's certificate".to_string(), bob_cert.clone()),
    ];
    let mut example_sources = Vec::new();
    for name in ["alice", "bob", "carol", "staging"] {
        let path = example_dir().join(format!("{name}.asc"));
        let bytes = std::fs::read(&path).unwrap();
        certs.push((format!("keys/{name}.asc"), bytes.clone()));
        example_sources.push(CertSource {
            name: name.to_string(),
            origin: format!("keys/{name}.asc"),
            bytes,
        });
    }
    let policy = std::fs::read(example_dir().join("policy.toml")).unwrap();

    let rules = vec![
        "2 of humans".to_string(),
        "2 of humans and 1 of pipelines".to_string(),
        "3 of humans or (1 of humans and 1 of pipelines)".to_string(),
        "((1 of humans) or 2 of humans) and (1 of pipelines or 1 of humans)".to_string(),
    ];

    let commit = String::from_utf8(git(&repo, &home, &["rev-parse", "HEAD"]))
        .unwrap()
        .trim()
        .to_string();
    let cert_text = |c: &[u8]| String::from_utf8(c.to_vec()).unwrap();
    let https = json!({
        "source": {
            "uri": "https://git.example.org/app.git",
            "username": "ci",
            "password": "hunter2",
            "tag_filter": "v*",
            "signers": {"alice": cert_text(&alice_cert), "bob": cert_text(&bob_cert)},
            "groups": {"humans": ["alice", "bob"]},
            "require": "2 of humans",
            "check_timeout": 60
        },
        "version": {"tag": "v1", "commit": commit},
        "params": {"tag": "v1"}
    });
    let ssh = json!({
        "source": {
            "uri": "git@git.example.org:team/app.git",
            "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "known_hosts": "git.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
            "signers": {"alice": cert_text(&alice_cert)},
            "groups": {"humans": ["alice"]},
            "require": "1 of humans",
            "signing_key": cert_text(&alice_secret)
        },
        "version": null
    });
    let requests = vec![
        ("https request".to_string(), https.to_string().into_bytes()),
        (
            "ssh request with a signing key".to_string(),
            ssh.to_string().into_bytes(),
        ),
    ];
    for (name, r) in &requests {
        if let Err(e) = request::parse(r) {
            panic!("{name} is not valid: {e}");
        }
    }

    let trust = Trust::build(
        vec![
            CertSource {
                name: "alice".into(),
                origin: "alice.asc".into(),
                bytes: alice_cert,
            },
            CertSource {
                name: "bob".into(),
                origin: "bob.asc".into(),
                bytes: bob_cert,
            },
        ],
        BTreeMap::from([(
            "humans".to_string(),
            vec!["alice".to_string(), "bob".to_string()],
        )]),
        BTreeMap::from([("prod".to_string(), "2 of humans".to_string())]),
        "policy.toml",
    )
    .unwrap();

    Corpus {
        objects,
        blocks,
        certs,
        policy,
        example_sources,
        rules,
        requests,
        trust,
    }
}

const OID: &str = "0123456789abcdef0123456789abcdef01234567";

fn layer(object: TagObject) -> Layer {
    Layer {
        number: 1,
        oid: OID.to_string(),
        object,
    }
}

/// Every signature of a valid corpus object counts: the corpus is what it
/// claims to be, so its mutations start from something valid.
fn assert_valid(c: &Corpus, now: SystemTime) {
    for (name, raw) in &c.objects {
        let outcomes = verify::check_layer(&layer(object::parse(raw).unwrap()), &c.trust, now);
        assert!(
            !outcomes.is_empty()
                && outcomes
                    .iter()
                    .all(|o| matches!(o, verify::Outcome::Counts { .. })),
            "{name}: {outcomes:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The test

#[test]
fn tag_objects() {
    let c = corpus();
    let now = SystemTime::now();
    let gate = Gate::for_environment(&c.trust, "prod").unwrap();
    let mut found = Findings::default();
    for (name, raw) in &c.objects {
        for (label, m) in mutations(raw, 700) {
            let what = format!("object::parse/check_layer on {name}");
            found.call(&what, &label, || {
                let _ = object::peek_target(&m);
                if let Ok(obj) = object::parse(&m) {
                    // What still parses goes all the way to a report.
                    let chain = Chain {
                        name: obj.name.clone(),
                        outer: Some(OID.to_string()),
                        commit: Some(obj.target.clone()),
                        layers: vec![layer(obj)],
                        findings: Vec::new(),
                    };
                    let checks = verify::check_chain(&chain, &c.trust, now);
                    let verdict = gate.verdict(&chain, &checks);
                    let report = render::json::Report::of(&verdict);
                    let _ = (render::line::line(&verdict), serde_json::to_string(&report));
                    render::explain::explain(&verdict);
                }
            });
        }
    }
    found.assert_none("tag objects");
}

#[test]
fn signature_blocks() {
    let c = corpus();
    let now = SystemTime::now();
    let mut found = Findings::default();
    // Read each block, and check it in place of its layer's own block.
    for ((name, block), (_, raw)) in c.blocks.iter().zip(&c.objects) {
        let base = object::parse(raw).unwrap();
        for (label, m) in mutations(block, 500) {
            let what = format!("read_signatures/check_layer on {name}");
            found.call(&what, &label, || {
                let _ = verify::read_signatures(&m);
                let mut obj = base.clone();
                obj.signature = SignatureBlock::OpenPgp(m.clone());
                verify::check_layer(&layer(obj), &c.trust, now);
            });
        }
    }
    found.assert_none("signature blocks");
}

#[test]
fn certificates() {
    let c = corpus();
    let now = SystemTime::now();
    let mut found = Findings::default();
    // Build a trust root from each, and check a signed layer against it
    // when it builds.
    let signed = layer(object::parse(&c.objects[0].1).unwrap());
    for (name, cert) in &c.certs {
        for (label, m) in mutations(cert, 300) {
            found.call(&format!("Trust::build on {name}"), &label, || {
                let built = Trust::build(
                    vec![CertSource {
                        name: "alice".into(),
                        origin: name.clone(),
                        bytes: m,
                    }],
                    BTreeMap::from([("humans".to_string(), vec!["alice".to_string()])]),
                    BTreeMap::from([("prod".to_string(), "1 of humans".to_string())]),
                    "policy.toml",
                );
                if let Ok(t) = built {
                    verify::check_layer(&signed, &t, now);
                }
            });
        }
    }
    found.assert_none("certificates");
}

#[test]
fn policy_and_rules() {
    let c = corpus();
    // The example policy: parse it, and build the example trust root with
    // what still parses.
    let mut found = Findings::default();
    for (label, m) in mutations(&c.policy, 400) {
        found.call(
            "parse_policy/Trust::build on keys/policy.toml",
            &label,
            || {
                let text = String::from_utf8_lossy(&m);
                if let Ok((groups, envs)) = trust::parse_policy(&text, "keys/policy.toml") {
                    let _ =
                        Trust::build(c.example_sources.clone(), groups, envs, "keys/policy.toml");
                }
            },
        );
    }
    found.assert_none("policy");

    // Rule strings: parse, evaluate, print, and check against the groups.
    let mut found = Findings::default();
    let counted = |_: &str| BTreeSet::from(["alice".to_string()]);
    for rule in &c.rules {
        for (label, m) in mutations(rule.as_bytes(), 1000) {
            found.call(&format!("Rule::parse on {rule:?}"), &label, || {
                let text = String::from_utf8_lossy(&m);
                if let Ok(r) = Rule::parse(&text) {
                    let eval = r.eval(&counted);
                    let _ = (r.to_string(), r.atoms(), eval.missing_explained());
                }
                let _ = c.trust.parse_rule(&text, "--require");
            });
        }
    }
    found.assert_none("rules");
}

#[test]
fn resource_requests() {
    let c = corpus();
    let mut found = Findings::default();
    for (name, req) in &c.requests {
        for (label, m) in mutations(req, 250) {
            found.call(&format!("request::parse on the {name}"), &label, || {
                let _ = request::parse(&m);
            });
        }
    }
    found.assert_none("resource requests");
}

#[test]
fn a_panic_is_caught_and_named() {
    quiet_panics();
    let mut found = Findings::default();
    let v: Vec<u8> = Vec::new();
    found.call("indexing", "an empty input", || v[0]);
    assert_eq!(found.call("nothing", "no input", || 7), Some(7));
    assert_eq!(found.panics.len(), 1);
    assert!(
        found.panics[0].starts_with("indexing, an empty input: panicked: index out of bounds")
            && found.panics[0].contains("tests/no_panic.rs:"),
        "{:?}",
        found.panics
    );
}

#[test]
fn mutations_cover_every_length_and_bit_of_short_inputs() {
    let m = mutations(b"abc", 100);
    assert_eq!(m.len(), 3 + 24);
    let long = vec![b'x'; 5000];
    let cuts = cut_lengths(long.len(), 700);
    assert!(cuts.len() <= 700 && cuts.contains(&0) && cuts.contains(&4999));
    let flips = flip_bits(long.len(), 1000);
    assert_eq!(flips.len(), 1000);
    assert_eq!(flips, flip_bits(long.len(), 1000), "deterministic");
}
