//! Signing layers with SSH keys (DESIGN §8): `--ssh-key`, `--ssh-agent`
//! against a real ssh-agent, and the resource's `out` with an OpenSSH
//! private key, checked with real git (`gpg.format=ssh`) and ssh-keygen.

mod common;

use common::process::{checked, run_with_input};
use common::ssh::SshKey;
use common::{Ctx, Run, Sig};
use serde_json::json;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `sigtag ARGS --keys KEYS --repo REPO`, with `env` set (and no
/// SSH_AUTH_SOCK unless `env` gives one).
fn sigtag(ctx: &Ctx, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = ctx.sigtag_cmd(&ctx.root);
    cmd.args(args)
        .args(["--keys", &s(&ctx.keys), "--repo", &s(&ctx.repo)])
        .env_remove("SSH_AUTH_SOCK");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ctx::run_cmd(cmd)
}

/// Groups humans (`humans`), environment staging requiring 1 of them.
fn one_of(ctx: &Ctx, humans: &[&str]) {
    let list: Vec<String> = humans.iter().map(|n| format!("\"{n}\"")).collect();
    ctx.policy(&format!(
        "[groups]\nhumans = [{}]\n\n[environments.staging]\nrequire = \"1 of humans\"\n",
        list.join(", ")
    ));
}

fn ok(run: &Run) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The tag object `rev` split into its payload and its SSH block.
fn split(ctx: &Ctx, rev: &str) -> (Vec<u8>, Vec<u8>) {
    let bytes = ctx.tag_object(rev);
    let text = String::from_utf8(bytes.clone()).unwrap();
    let at = text
        .find("-----BEGIN SSH SIGNATURE-----")
        .unwrap_or_else(|| panic!("no SSH signature in {text}"));
    (bytes[..at].to_vec(), bytes[at..].to_vec())
}

/// `ssh-keygen -Y verify -f allowed_signers -I ID -n git -s SIG < payload`.
fn ssh_keygen_verifies(ctx: &Ctx, key: &SshKey, payload: &[u8], block: &[u8]) -> bool {
    let allowed = ctx.root.join(format!("allowed-{}", key.name));
    fs::write(
        &allowed,
        format!("{}@example.org {}\n", key.name, key.pub_line()),
    )
    .unwrap();
    let sig = ctx.root.join(format!("sig-{}", key.name));
    fs::write(&sig, block).unwrap();
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args([
            "-I",
            &format!("{}@example.org", key.name),
            "-n",
            "git",
            "-s",
        ])
        .arg(&sig);
    run_with_input(cmd, Some(payload)).status.success()
}

/// `git verify-tag` with `gpg.format=ssh` and an allowed-signers file of
/// `keys`.
fn git_verifies(ctx: &Ctx, keys: &[&SshKey], rev: &str) -> bool {
    let allowed = ctx.root.join("allowed_signers");
    let lines: String = keys
        .iter()
        .map(|k| format!("{}@example.org {}\n", k.name, k.pub_line()))
        .collect();
    fs::write(&allowed, lines).unwrap();
    let out = ctx.git_output(
        &ctx.repo,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
            "verify-tag",
            rev,
        ],
    );
    out.status.success()
}

/// The object the layer `rev` points at.
fn inner(ctx: &Ctx, rev: &str) -> String {
    ctx.cat_tag(rev)
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("object "))
        .unwrap()
        .to_string()
}

fn layers(ctx: &Ctx, tag: &str) -> usize {
    let mut n = 0;
    let mut rev = ctx.rev_parse(&format!("refs/tags/{tag}"));
    loop {
        let kind = ctx.git(&["cat-file", "-t", &rev]);
        if kind != "tag" {
            return n;
        }
        n += 1;
        rev = inner(ctx, &rev);
    }
}

#[test]
fn ssh_layers_are_what_git_writes_and_git_verifies() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    one_of(&ctx, &["alice", "bob"]);
    let bob_key = s(&bob.path);

    // A first layer.
    ok(&sigtag(&ctx, &["sign", "v1", "--ssh-key", &bob_key], &[]));
    assert!(git_verifies(&ctx, &[&bob], "v1"));
    let (payload, block) = split(&ctx, "v1");
    // The block is the one ssh-keygen -Y sign writes over the payload,
    // byte for byte (ed25519 signatures are deterministic), as git does.
    assert_eq!(
        String::from_utf8(block.clone()).unwrap(),
        bob.sign("git", &payload)
    );
    let text = String::from_utf8(payload).unwrap();
    assert!(
        text.contains("\ntagger Test Tagger <tagger@example.org> "),
        "the tagger comes from git config: {text}"
    );
    // Git's own SSH layer has the same shape: payload, then the block.
    ctx.ssh_sign(&bob, "g1", "HEAD");
    let (git_payload, git_block) = split(&ctx, "g1");
    assert_eq!(
        String::from_utf8(git_block).unwrap(),
        bob.sign("git", &git_payload)
    );

    // A co-signature on top of an OpenPGP layer.
    ctx.sign(&alice, "v2", "HEAD", &Sig::default());
    ok(&sigtag(&ctx, &["cosign", "v2", "--ssh-key", &bob_key], &[]));
    assert_eq!(layers(&ctx, "v2"), 2);
    assert!(git_verifies(&ctx, &[&bob], "v2"));
    let (payload, block) = split(&ctx, "v2");
    assert!(ssh_keygen_verifies(&ctx, &bob, &payload, &block));
    // The inner layer is alice's, which git verifies with gpg.
    let layer1 = inner(&ctx, "v2");
    let out = ctx.git_output(&ctx.repo, &["verify-tag", &layer1]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, reports) = ctx.verify("staging", &["v2"]);
    assert_eq!(code, 0);
    reports[0].assert_clean(&[("alice", 1), ("bob", 2)]);
}

#[test]
fn ssh_keygen_accepts_every_key_type() {
    let ctx = Ctx::new();
    let kinds: [(&str, &str, Option<&str>); 5] = [
        ("ed", "ed25519", None),
        ("p256", "ecdsa", Some("256")),
        ("p384", "ecdsa", Some("384")),
        ("p521", "ecdsa", Some("521")),
        ("rsa", "rsa", Some("3072")),
    ];
    let keys: Vec<SshKey> = kinds
        .iter()
        .map(|(n, t, b)| {
            let k = ctx.ssh_key(n, t, *b);
            ctx.trust_ssh(&k, n, "");
            k
        })
        .collect();
    let names: Vec<String> = kinds.iter().map(|k| format!("\"{}\"", k.0)).collect();
    ctx.policy(&format!(
        "[groups]\nhumans = [{}]\n\n[environments.staging]\nrequire = \"1 of humans\"\n",
        names.join(", ")
    ));
    for k in &keys {
        let tag = format!("v-{}", k.name);
        ok(&sigtag(
            &ctx,
            &["sign", &tag, "--ssh-key", &s(&k.path)],
            &[],
        ));
        let (payload, block) = split(&ctx, &tag);
        assert!(ssh_keygen_verifies(&ctx, k, &payload, &block), "{}", k.name);
        if k.name == "rsa" {
            let sig = sigtag::verify::ssh::sshsig::parse(&block).unwrap();
            assert_eq!(sig.signature_algorithm, b"rsa-sha2-512");
        }
        assert!(git_verifies(&ctx, &[k], &tag), "{}", k.name);
        let (code, reports) = ctx.verify("staging", &[&tag]);
        assert_eq!(code, 0, "{}", k.name);
        reports[0].assert_clean(&[(&k.name, 1)]);
    }
}

#[test]
fn a_passphrase_comes_from_the_environment() {
    let ctx = Ctx::new();
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    one_of(&ctx, &["bob"]);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-p", "-N", "sesame", "-P", "", "-f"])
        .arg(&bob.path);
    checked("ssh-keygen -p", run_with_input(cmd, None));
    let key = s(&bob.path);
    let run = sigtag(&ctx, &["sign", "v1", "--ssh-key", &key], &[]);
    run.assert_error(&["protected by a passphrase", "SIGTAG_PASSPHRASE"]);
    let run = sigtag(
        &ctx,
        &["sign", "v1", "--ssh-key", &key],
        &[("SIGTAG_PASSPHRASE", "wrong")],
    );
    run.assert_error(&["wrong passphrase for"]);
    assert!(!ctx.tag_exists("v1"));
    ok(&sigtag(
        &ctx,
        &["sign", "v1", "--ssh-key", &key],
        &[("SIGTAG_PASSPHRASE", "sesame")],
    ));
    assert!(git_verifies(&ctx, &[&bob], "v1"));
}

#[test]
fn a_key_outside_the_keys_directory_is_refused_before_anything_is_written() {
    let ctx = Ctx::new();
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    let mallory = ctx.ssh_key("mallory", "ed25519", None);
    one_of(&ctx, &["bob"]);
    let run = sigtag(&ctx, &["sign", "v1", "--ssh-key", &s(&mallory.path)], &[]);
    run.assert_error(&[
        &format!("refusing to sign: the SSH key {}", mallory.fingerprint()),
        "is not in any signer's file",
        "NAME.pub",
    ]);
    assert!(!ctx.tag_exists("v1"));
    // Nor on top of a chain.
    ok(&sigtag(
        &ctx,
        &["sign", "v1", "--ssh-key", &s(&bob.path)],
        &[],
    ));
    let before = ctx.rev_parse("refs/tags/v1");
    let run = sigtag(&ctx, &["cosign", "v1", "--ssh-key", &s(&mallory.path)], &[]);
    run.assert_error(&["is not in any signer's file"]);
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
    // A revoked key neither.
    fs::write(
        ctx.keys.join("revoked.pub"),
        format!("{}\n", mallory.pub_line()),
    )
    .unwrap();
    let run = sigtag(&ctx, &["cosign", "v1", "--ssh-key", &s(&mallory.path)], &[]);
    run.assert_error(&["refusing to sign: the SSH key", "is revoked"]);
    assert_eq!(ctx.rev_parse("refs/tags/v1"), before);
}

#[test]
fn a_second_cosign_with_the_same_key_does_nothing() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let bob = ctx.ssh_key("bob", "ecdsa", Some("256"));
    ctx.trust_ssh(&bob, "bob", "");
    one_of(&ctx, &["alice", "bob"]);
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    let key = s(&bob.path);
    ok(&sigtag(&ctx, &["cosign", "v1", "--ssh-key", &key], &[]));
    let after = ctx.rev_parse("refs/tags/v1");
    let run = sigtag(&ctx, &["cosign", "v1", "--ssh-key", &key], &[]);
    ok(&run);
    assert!(
        run.stderr.contains("this key already signed layer 2"),
        "{}",
        run.stderr
    );
    assert_eq!(ctx.rev_parse("refs/tags/v1"), after);
    assert_eq!(layers(&ctx, "v1"), 2);
}

#[test]
fn the_tagger_needs_a_name_when_git_has_none() {
    let ctx = Ctx::new();
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    one_of(&ctx, &["bob"]);
    let empty = ctx.root.join("empty-gitconfig");
    fs::write(&empty, "").unwrap();
    let key = s(&bob.path);
    let env = [("GIT_CONFIG_GLOBAL", empty.to_str().unwrap())];
    let run = sigtag(&ctx, &["sign", "v1", "--ssh-key", &key], &env);
    run.assert_error(&[
        "an SSH key names no person",
        "--tagger",
        "user.name and user.email",
    ]);
    assert!(!ctx.tag_exists("v1"));
    let args = [
        "sign",
        "v1",
        "--ssh-key",
        &key,
        "--tagger",
        "Bob <bob@example.org>",
    ];
    ok(&sigtag(&ctx, &args, &env));
    assert!(ctx
        .cat_tag("v1")
        .contains("\ntagger Bob <bob@example.org> "));
}

#[test]
fn a_fido_key_file_points_to_the_agent() {
    let ctx = Ctx::new();
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    one_of(&ctx, &["bob"]);
    // A FIDO private key file: what ssh-keygen -t ed25519-sk writes, the
    // secret being a handle to the token.
    let file = ctx.root.join("id_ed25519_sk");
    fs::write(&file, sk_private_key_file()).unwrap();
    let run = sigtag(&ctx, &["sign", "v1", "--ssh-key", &s(&file)], &[]);
    run.assert_error(&["is a FIDO security key", "--ssh-agent"]);
    assert!(!ctx.tag_exists("v1"));
}

/// An unencrypted sk-ssh-ed25519 private key file (made without a token:
/// the key handle is random bytes).
fn sk_private_key_file() -> String {
    fn string(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    let typ = b"sk-ssh-ed25519@openssh.com";
    let point = [9u8; 32];
    let mut public = Vec::new();
    string(&mut public, typ);
    string(&mut public, &point);
    string(&mut public, b"ssh:");
    let mut private = Vec::new();
    private.extend_from_slice(&[1, 2, 3, 4, 1, 2, 3, 4]);
    string(&mut private, typ);
    string(&mut private, &point);
    string(&mut private, b"ssh:");
    private.push(1);
    string(&mut private, &[5; 32]);
    string(&mut private, b"");
    string(&mut private, b"bob@example.org");
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut blob = b"openssh-key-v1\0".to_vec();
    string(&mut blob, b"none");
    string(&mut blob, b"none");
    string(&mut blob, b"");
    blob.extend_from_slice(&1u32.to_be_bytes());
    string(&mut blob, &public);
    string(&mut blob, &private);
    let b64 = base64_encode(&blob);
    let mut text = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(70) {
        text.push_str(std::str::from_utf8(chunk).unwrap());
        text.push('\n');
    }
    text.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    text
}

fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A real ssh-agent on a socket of its own, stopped when dropped.
struct SshAgent {
    child: Child,
    socket: PathBuf,
}

impl SshAgent {
    fn start(ctx: &Ctx) -> SshAgent {
        let socket = ctx.root.join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent");
        for _ in 0..200 {
            if socket.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert!(socket.exists(), "ssh-agent did not start");
        SshAgent { child, socket }
    }

    fn add(&self, key: &SshKey) {
        let mut cmd = Command::new("ssh-add");
        cmd.arg("-q")
            .arg(&key.path)
            .env("SSH_AUTH_SOCK", &self.socket);
        checked("ssh-add", run_with_input(cmd, None));
    }

    fn sock(&self) -> &str {
        self.socket.to_str().unwrap()
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_agent_signs_and_a_key_choice_picks_among_signers() {
    let ctx = Ctx::new();
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    let carol = ctx.ssh_key("carol", "rsa", Some("3072"));
    ctx.trust_ssh(&carol, "carol", "");
    let stranger = ctx.ssh_key("stranger", "ed25519", None);
    ctx.policy(
        "[groups]\nhumans = [\"bob\", \"carol\"]\n\n[environments.staging]\nrequire = \"2 of humans\"\n",
    );
    let agent = SshAgent::start(&ctx);
    let env = [("SSH_AUTH_SOCK", agent.sock())];

    // No agent at all.
    let run = sigtag(&ctx, &["sign", "v1", "--ssh-agent"], &[]);
    run.assert_error(&["SSH_AUTH_SOCK is not set"]);
    // An agent with no signer's key.
    agent.add(&stranger);
    let run = sigtag(&ctx, &["sign", "v1", "--ssh-agent"], &env);
    run.assert_error(&["the ssh-agent holds no key of a signer in"]);
    // The only signer's key it holds signs.
    agent.add(&bob);
    ok(&sigtag(&ctx, &["sign", "v1", "--ssh-agent"], &env));
    assert!(git_verifies(&ctx, &[&bob], "v1"));
    // A key in the agent that is not a signer's is refused, named.
    let run = sigtag(
        &ctx,
        &[
            "cosign",
            "v1",
            &format!("--ssh-agent={}", stranger.fingerprint()),
        ],
        &env,
    );
    run.assert_error(&["is not in any signer's file"]);
    // Two signers' keys: a bare --ssh-agent does not guess.
    agent.add(&carol);
    let run = sigtag(&ctx, &["cosign", "v1", "--ssh-agent"], &env);
    run.assert_error(&[
        "holds 2 keys of signers",
        &bob.fingerprint(),
        &carol.fingerprint(),
    ]);
    assert_eq!(layers(&ctx, "v1"), 1);
    // The .pub file after a space chooses.
    let carol_pub = s(&carol.pub_path());
    ok(&sigtag(
        &ctx,
        &["cosign", "--ssh-agent", &carol_pub, "v1"],
        &env,
    ));
    assert_eq!(layers(&ctx, "v1"), 2);
    assert!(git_verifies(&ctx, &[&carol], "v1"));
    let (payload, block) = split(&ctx, "v1");
    assert!(ssh_keygen_verifies(&ctx, &carol, &payload, &block));
    // A fingerprint chooses, and the key already signed.
    let run = sigtag(
        &ctx,
        &["cosign", "v1", "--ssh-agent", &bob.fingerprint()],
        &env,
    );
    ok(&run);
    assert!(
        run.stderr.contains("already signed layer 1"),
        "{}",
        run.stderr
    );
    let (code, reports) = ctx.verify("staging", &["v1"]);
    assert_eq!(code, 0);
    reports[0].assert_clean(&[("bob", 1), ("carol", 2)]);
}

/// Runs the resource's `out` on `source` and `params`, as Concourse does.
fn out(ctx: &Ctx, source: serde_json::Value, params: serde_json::Value) -> Run {
    let dir = ctx.root.join("put");
    let _ = fs::create_dir(&dir);
    let tmp = ctx.root.join("tmp");
    let _ = fs::create_dir(&tmp);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_out"));
    cmd.env_clear()
        .env("TMPDIR", &tmp)
        .env("BUILD_PIPELINE_NAME", "staging")
        .env("BUILD_JOB_NAME", "deploy")
        .env("BUILD_NAME", "42")
        .arg(&dir)
        .current_dir(&dir);
    let req = json!({"source": source, "params": params});
    let run = run_with_input(cmd, Some(req.to_string().as_bytes()));
    Run {
        code: run.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&run.stdout).to_string(),
        stderr: String::from_utf8_lossy(&run.stderr).to_string(),
    }
}

#[test]
fn a_mixed_chain_of_cli_agent_and_resource_satisfies_the_rule() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    let staging = ctx.key("staging");
    ctx.trust(&staging);
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    // The OpenPGP author, with sigtag --key.
    let alice_file = ctx.secret_key_file(&alice);
    ok(&sigtag(
        &ctx,
        &["sign", "v1", "--key", &s(&alice_file)],
        &[],
    ));
    // The SSH reviewer, through the agent.
    let agent = SshAgent::start(&ctx);
    agent.add(&bob);
    ok(&sigtag(
        &ctx,
        &["cosign", "v1", "--ssh-agent"],
        &[("SSH_AUTH_SOCK", agent.sock())],
    ));
    // The pipeline, with the resource and an OpenPGP key.
    let read = |p: PathBuf| fs::read_to_string(p).unwrap();
    let source = json!({
        "uri": format!("file://{}", ctx.repo.display()),
        "signers": {
            "alice": read(ctx.keys.join("alice.asc")),
            "bob": read(ctx.keys.join("bob.pub")),
            "staging": read(ctx.keys.join("staging.asc")),
        },
        "groups": {"humans": ["alice", "bob"], "pipelines": ["staging"]},
        "require": "2 of humans",
    });
    let run = out(
        &ctx,
        source,
        json!({"tag": "v1", "signing_key": read(ctx.secret_key_file(&staging))}),
    );
    ok(&run);
    let (code, reports) = ctx.verify("prod", &["v1"]);
    assert_eq!(code, 0);
    reports[0].assert_clean(&[("alice", 1), ("bob", 2), ("staging", 3)]);
    // git verifies the SSH layer in the middle.
    let layer2 = inner(&ctx, "v1");
    assert!(git_verifies(&ctx, &[&bob], &layer2));
}

#[test]
fn the_resource_signs_with_an_openssh_private_key() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let bob = ctx.key("bob");
    ctx.trust(&bob);
    let pipeline = ctx.ssh_key("staging", "ed25519", None);
    ctx.trust_ssh(&pipeline, "staging", "");
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    ctx.cosign(&bob, "v1", &Sig::default());
    let read = |p: PathBuf| fs::read_to_string(p).unwrap();
    let mut source = json!({
        "uri": format!("file://{}", ctx.repo.display()),
        "signers": {
            "alice": read(ctx.keys.join("alice.asc")),
            "bob": read(ctx.keys.join("bob.asc")),
            "staging": read(ctx.keys.join("staging.pub")),
        },
        "groups": {"humans": ["alice", "bob"], "pipelines": ["staging"]},
        "require": "2 of humans",
    });
    // A key with a passphrase is refused when the request is read.
    let locked = ctx.root.join("locked");
    fs::copy(&pipeline.path, &locked).unwrap();
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-p", "-N", "sesame", "-P", "", "-f"])
        .arg(&locked);
    checked("ssh-keygen -p", run_with_input(cmd, None));
    source["signing_key"] = json!(read(locked));
    let run = out(&ctx, source.clone(), json!({"tag": "v1"}));
    assert_ne!(run.code, 0);
    assert!(
        run.stderr
            .contains("source.signing_key is protected by a passphrase"),
        "{}",
        run.stderr
    );
    assert_eq!(layers(&ctx, "v1"), 2);

    source["signing_key"] = json!(read(pipeline.path.clone()));
    let run = out(&ctx, source.clone(), json!({"tag": "v1"}));
    ok(&run);
    assert!(
        !run.stderr.contains("PRIVATE KEY") && !run.stdout.contains("PRIVATE KEY"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains(&pipeline.fingerprint()),
        "{}",
        run.stdout
    );
    assert_eq!(layers(&ctx, "v1"), 3);
    assert!(ctx
        .cat_tag("v1")
        .contains("\ntagger Concourse <concourse@localhost> "));
    assert!(git_verifies(&ctx, &[&pipeline], "v1"));
    let (code, reports) = ctx.verify("prod", &["v1"]);
    assert_eq!(code, 0);
    reports[0].assert_clean(&[("alice", 1), ("bob", 2), ("staging", 3)]);
    // Again: the key already signed.
    let run = out(&ctx, source, json!({"tag": "v1"}));
    ok(&run);
    assert_eq!(layers(&ctx, "v1"), 3);
}
