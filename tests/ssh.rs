//! SSH-signed layers (DESIGN §8), made by real git with `gpg.format=ssh`
//! and by ssh-keygen, judged by the sigtag binary.

mod common;

use common::ssh::SshKey;
use common::{iso, now, Ctx, Sig, DAY};
use sigtag::verify::ssh::sshsig;

fn humans(ctx: &Ctx, names: &[&str], require: &str) {
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    ctx.policy(&format!(
        "[groups]\nhumans = [{}]\n\n[environments.staging]\nrequire = \"{require}\"\n",
        list.join(", ")
    ));
}

fn one(ctx: &Ctx, tag: &str) -> common::Report {
    let (_, mut reports) = ctx.verify("staging", &[tag]);
    reports.remove(0)
}

/// A layer on HEAD named `name`, dated `date`, whose signature block is
/// `block`: written with git hash-object and pointed at by the tag.
fn spliced(ctx: &Ctx, name: &str, date: i64, block: &str) -> String {
    let payload = layer_payload(ctx, name, date);
    let oid = ctx.write_tag_object(format!("{payload}{block}").as_bytes(), false);
    ctx.set_tag_ref(name, &oid);
    oid
}

fn layer_payload(ctx: &Ctx, name: &str, date: i64) -> String {
    format!(
        "object {}\ntype commit\ntag {name}\ntagger Test Tagger <tagger@example.org> {date} +0000\n\n{name}\n",
        ctx.head()
    )
}

#[test]
fn every_accepted_key_type_counts() {
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
    let names: Vec<&str> = kinds.iter().map(|k| k.0).collect();
    humans(&ctx, &names, "1 of humans");
    for k in &keys {
        let tag = format!("v-{}", k.name);
        ctx.ssh_sign(k, &tag, "HEAD");
        let r = one(&ctx, &tag);
        r.assert_clean(&[(&k.name, 1)]);
        assert_eq!(
            r.signer_entries()[0]["fingerprint"],
            k.fingerprint().as_str()
        );
        assert!(k.fingerprint().starts_with("SHA256:"));
    }
}

#[test]
fn a_mixed_chain_satisfies_a_mixed_rule() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let bob = ctx.ssh_key("bob", "ed25519", None);
    ctx.trust_ssh(&bob, "bob", "");
    let staging = ctx.key("staging");
    ctx.trust(&staging);
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    ctx.ssh_cosign(&bob, "v1");
    ctx.cosign(&staging, "v1", &Sig::default());
    let (code, reports) = ctx.verify("prod", &["v1"]);
    assert_eq!(code, 0);
    reports[0].assert_clean(&[("alice", 1), ("bob", 2), ("staging", 3)]);
    let fprs: Vec<String> = reports[0]
        .signer_entries()
        .iter()
        .map(|s| s["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fprs[0], alice.fpr);
    assert_eq!(fprs[1], bob.fingerprint());
    // explain names the SSH key by its SHA256 fingerprint.
    let keys = ctx.keys.display().to_string();
    let repo = ctx.repo.display().to_string();
    let run = ctx.sigtag(&[
        "explain", "v1", "--env", "prod", "--keys", &keys, "--repo", &repo,
    ]);
    assert!(
        run.stdout.contains("signed by bob (humans) at ")
            && run.stdout.contains(&format!("[{}]\n", bob.fingerprint())),
        "{}",
        run.stdout
    );
    // git itself accepts the SSH layer of the chain it made.
    let allowed = ctx.root.join("allowed_signers");
    std::fs::write(&allowed, format!("bob@example.org {}\n", bob.pub_line())).unwrap();
    // The SSH layer is the one the outer (OpenPGP) layer points at.
    let outer = ctx.cat_tag("v1");
    let layer2 = outer
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("object "))
        .unwrap()
        .to_string();
    assert!(ctx
        .cat_tag(&layer2)
        .contains("-----BEGIN SSH SIGNATURE-----"));
    let out = ctx.git_output(
        &ctx.repo,
        &[
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
            "verify-tag",
            &layer2,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_person_with_two_schemes_counts_once() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let alice_ssh = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice_ssh, "alice", "");
    let bob = ctx.ssh_key("bob", "ecdsa", Some("256"));
    ctx.trust_ssh(&bob, "bob", "");
    humans(&ctx, &["alice", "bob"], "2 of humans");
    ctx.sign(&alice, "v1", "HEAD", &Sig::default());
    ctx.ssh_cosign(&alice_ssh, "v1");
    let r = one(&ctx, "v1");
    assert!(!r.satisfied(), "{}", r.0);
    assert_eq!(r.signers(), common::signers(&[("alice", 1), ("alice", 2)]));
    assert!(r.missing().is_some(), "{}", r.0);
    ctx.ssh_cosign(&bob, "v1");
    let r = one(&ctx, "v1");
    assert!(r.satisfied(), "{}", r.0);
}

#[test]
fn a_signature_in_another_namespace_counts_for_nothing() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    let date = now();
    let payload = layer_payload(&ctx, "v1", date);
    spliced(&ctx, "v1", date, &alice.sign("file", payload.as_bytes()));
    let r = one(&ctx, "v1");
    assert!(!r.satisfied());
    assert_eq!(r.rejected(), None);
    assert_eq!(
        r.problems(),
        common::problems(&[(
            Some(1),
            "SSH signature by alice is in namespace \"file\", not \"git\": it was made for something else than a git tag"
        )])
    );
    // The same signature made in namespace git counts.
    spliced(&ctx, "v1", date, &alice.sign("git", payload.as_bytes()));
    one(&ctx, "v1").assert_clean(&[("alice", 1)]);
    // The mathematics come first: in another namespace and over another
    // payload, the signature is bad, not merely misplaced.
    let other = layer_payload(&ctx, "v2", date);
    spliced(&ctx, "v1", date, &alice.sign("file", other.as_bytes()));
    one(&ctx, "v1").assert_rejected(&format!(
        "bad signature by alice ({}): the layer was altered after it was signed",
        alice.fingerprint()
    ));
}

#[test]
fn a_signature_over_another_payload_rejects_the_tag() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    let other = layer_payload(&ctx, "v2", now());
    spliced(&ctx, "v1", now(), &alice.sign("git", other.as_bytes()));
    one(&ctx, "v1").assert_rejected(&format!(
        "bad signature by alice ({}): the layer was altered after it was signed",
        alice.fingerprint()
    ));
}

/// The RSA signature of a layer, with its algorithm renamed: `ssh-rsa`
/// (SHA-1) can no longer be made by ssh-keygen.
#[test]
fn an_ssh_rsa_sha1_signature_counts_for_nothing() {
    let ctx = Ctx::new();
    let rsa = ctx.ssh_key("rsa", "rsa", Some("3072"));
    ctx.trust_ssh(&rsa, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    let date = now();
    let payload = layer_payload(&ctx, "v1", date);
    let block = rsa.sign("git", payload.as_bytes());
    let sig = sshsig::parse(block.as_bytes()).unwrap();
    assert_eq!(sig.signature_algorithm, b"rsa-sha2-512");
    let bytes = {
        // The inner signature: algorithm name, then the signature bytes.
        let name_len = u32::from_be_bytes(sig.signature[..4].try_into().unwrap()) as usize;
        sig.signature[4 + name_len + 4..].to_vec()
    };
    let inner = sshsig::signature_blob(b"ssh-rsa", &bytes, None);
    let sha1 = sshsig::armor(&sshsig::blob(
        &sig.public_key,
        b"git",
        &sig.hash_algorithm,
        &inner,
    ));
    spliced(&ctx, "v1", date, std::str::from_utf8(&sha1).unwrap());
    let r = one(&ctx, "v1");
    assert_eq!(r.rejected(), None, "{}", r.0);
    assert_eq!(
        r.problems(),
        common::problems(&[(
            Some(1),
            "signature by alice uses ssh-rsa (RSA with SHA-1), which is too weak"
        )])
    );
}

#[test]
fn a_revoked_key_counts_for_nothing() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    ctx.ssh_sign(&alice, "v1", "HEAD");
    one(&ctx, "v1").assert_clean(&[("alice", 1)]);
    std::fs::write(
        ctx.keys.join("revoked.pub"),
        format!("# lost laptop\n{}\n", alice.pub_line()),
    )
    .unwrap();
    let r = one(&ctx, "v1");
    assert!(!r.satisfied());
    assert_eq!(
        r.problems(),
        common::problems(&[(
            Some(1),
            &format!(
                "SSH key {} is revoked in revoked.pub ({}/revoked.pub line 2), so none of its signatures count",
                alice.fingerprint(),
                ctx.keys.display()
            )
        )])
    );
}

#[test]
fn a_key_counts_only_inside_its_window() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "valid-before=\"20200101\"");
    humans(&ctx, &["alice"], "1 of humans");
    let date = now();
    ctx.ssh_tag_s(&alice, &["-m", "v1", "v1", "HEAD"], Some(date));
    let r = one(&ctx, "v1");
    assert_eq!(
        r.problems(),
        common::problems(&[(
            Some(1),
            &format!(
                "alice's SSH key {} is valid only until 2020-01-01T00:00:00Z ({}/alice.pub line 1), and the layer is dated {}",
                alice.fingerprint(),
                ctx.keys.display(),
                iso(date)
            )
        )])
    );
    std::fs::write(
        ctx.keys.join("alice.pub"),
        format!("valid-after=\"20990101Z\" {}\n", alice.pub_line()),
    )
    .unwrap();
    let r = one(&ctx, "v1");
    assert!(
        r.problems()[0]
            .1
            .contains("is valid only from 2099-01-01T00:00:00Z"),
        "{}",
        r.0
    );
    std::fs::write(
        ctx.keys.join("alice.pub"),
        format!(
            "valid-after=\"20200101\",valid-before=\"20990101\" {}\n",
            alice.pub_line()
        ),
    )
    .unwrap();
    one(&ctx, "v1").assert_clean(&[("alice", 1)]);
}

#[test]
fn a_layer_dated_in_the_future_counts_for_nothing() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    let date = now() + DAY;
    ctx.ssh_tag_s(&alice, &["-m", "v1", "v1", "HEAD"], Some(date));
    let r = one(&ctx, "v1");
    assert_eq!(
        r.problems(),
        common::problems(&[(
            Some(1),
            &format!(
                "signature by alice is dated {}, more than 5 minutes in the future",
                iso(date)
            )
        )])
    );
}

#[test]
fn two_blocks_in_one_layer_reject_the_tag() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    let carol = ctx.key("carol");
    ctx.trust(&carol);
    humans(&ctx, &["alice", "carol"], "1 of humans");
    let date = now();
    let payload = layer_payload(&ctx, "v1", date);
    let ssh = alice.sign("git", payload.as_bytes());
    let pgp = ctx.detach_sign(payload.as_bytes(), &[&carol], &Sig::default());
    for block in [
        format!("{ssh}{ssh}"),
        format!("{pgp}{ssh}"),
        format!("{ssh}{pgp}"),
    ] {
        spliced(&ctx, "v1", date, &block);
        one(&ctx, "v1").assert_rejected("more than one armored block in one layer");
    }
}

#[test]
fn a_truncated_or_oversized_signature_rejects_the_tag() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    let date = now();
    let payload = layer_payload(&ctx, "v1", date);
    let good = alice.sign("git", payload.as_bytes());
    let sig = sshsig::parse(good.as_bytes()).unwrap();
    let full = sshsig::blob(&sig.public_key, b"git", &sig.hash_algorithm, &sig.signature);
    let truncated = sshsig::armor(&full[..full.len() - 1]);
    spliced(&ctx, "v1", date, std::str::from_utf8(&truncated).unwrap());
    one(&ctx, "v1").assert_rejected(
        "unreadable signature block: the SSH signature is truncated in its signature",
    );
    let mut long = full.clone();
    long.extend_from_slice(&[0; 20_000]);
    spliced(
        &ctx,
        "v1",
        now(),
        std::str::from_utf8(&sshsig::armor(&long)).unwrap(),
    );
    one(&ctx, "v1")
        .assert_rejected("unreadable signature block: the SSH signature is larger than 16 KiB");
    spliced(&ctx, "v1", date, &good);
    one(&ctx, "v1").assert_clean(&[("alice", 1)]);
}

#[test]
fn an_unknown_key_counts_for_nothing() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    let mallory = ctx.ssh_key("mallory", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    ctx.ssh_sign(&mallory, "v1", "HEAD");
    let r = one(&ctx, "v1");
    assert_eq!(r.rejected(), None);
    assert_eq!(
        r.problems(),
        common::problems(&[(
            Some(1),
            &format!("signed by a key nobody trusts: {}", mallory.fingerprint())
        )])
    );
}

#[test]
fn one_key_under_two_names_is_a_configuration_error() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    ctx.trust_ssh(&alice, "bob", "");
    humans(&ctx, &["alice", "bob"], "1 of humans");
    ctx.ssh_sign(&alice, "v1", "HEAD");
    let keys = ctx.keys.display().to_string();
    let repo = ctx.repo.display().to_string();
    let run = ctx.sigtag(&[
        "verify", "v1", "--env", "staging", "--keys", &keys, "--repo", &repo,
    ]);
    run.assert_error(&[
        &format!(
            "{keys}/alice.pub line 1 and {keys}/bob.pub line 1 hold the same SSH key ({})",
            alice.fingerprint()
        ),
        "for alice and bob; one key must belong to one signer",
    ]);
}

#[test]
fn a_key_file_mistake_is_a_configuration_error() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "cert-authority");
    humans(&ctx, &["alice"], "1 of humans");
    let keys = ctx.keys.display().to_string();
    let run = ctx.sigtag(&["keys", "--keys", &keys]);
    run.assert_error(&[&format!(
        "{keys}/alice.pub line 1: unknown option \"cert-authority\"; a signer's key line takes only valid-after=, valid-before= and namespaces="
    )]);
    // A short RSA key is refused with the fix.
    let small = ctx.ssh_key("small", "rsa", Some("1024"));
    std::fs::remove_file(ctx.keys.join("alice.pub")).unwrap();
    ctx.trust_ssh(&small, "alice", "");
    let run = ctx.sigtag(&["keys", "--keys", &keys]);
    run.assert_error(&[&format!(
        "{keys}/alice.pub line 1: the RSA key has fewer than 2048 bits; make a new one with ssh-keygen -t ed25519"
    )]);
    // A private key is refused before anything of it is read.
    std::fs::write(
        ctx.keys.join("alice.pub"),
        std::fs::read(&small.path).unwrap(),
    )
    .unwrap();
    let run = ctx.sigtag(&["keys", "--keys", &keys]);
    run.assert_error(&[&format!("{keys}/alice.pub line 1: holds a private key")]);
}

#[test]
fn keys_shows_ssh_keys_and_source_carries_them() {
    let ctx = Ctx::new();
    let alice = ctx.key("alice");
    ctx.trust(&alice);
    let alice_ssh = ctx.ssh_key("alice", "ed25519", None);
    ctx.trust_ssh(
        &alice_ssh,
        "alice",
        "valid-after=\"20200101\",valid-before=\"20990101Z\"",
    );
    humans(&ctx, &["alice"], "1 of humans");
    let keys = ctx.keys.display().to_string();
    let run = ctx.sigtag(&["keys", "--keys", &keys]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "  ssh key {} ssh-ed25519, valid after 2020-01-01T00:00:00Z, valid before 2099-01-01T00:00:00Z, valid\n",
            alice_ssh.fingerprint()
        )),
        "{}",
        run.stdout
    );
    let run = ctx.sigtag(&["keys", "--keys", &keys, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["signers"][0]["ssh_keys"],
        serde_json::json!([{"fingerprint": alice_ssh.fingerprint(), "type": "ssh-ed25519",
            "valid_after": "2020-01-01T00:00:00Z", "valid_before": "2099-01-01T00:00:00Z",
            "state": "valid"}])
    );
    let run = ctx.sigtag(&[
        "keys", "source", "--env", "staging", "--keys", &keys, "--format", "json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let source: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let value = source["signers"]["alice"].as_str().unwrap().to_string();
    assert!(
        value.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----"),
        "{value}"
    );
    let b64 = alice_ssh
        .pub_line()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        value.ends_with(&format!(
            "valid-after=\"20200101000000Z\",valid-before=\"20990101000000Z\" ssh-ed25519 {b64}\n"
        )),
        "{value}"
    );
}

/// `sigtag keys source` of a keys directory with revoked.pub and
/// `[ssh] require_user_verification`, as JSON.
fn source_of(ctx: &Ctx) -> serde_json::Value {
    let keys = ctx.keys.display().to_string();
    let run = ctx.sigtag(&[
        "keys", "source", "--env", "staging", "--keys", &keys, "--format", "json",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The resource's check on the test's repository with `source`: the tags
/// of the versions it returns.
fn check_tags(ctx: &Ctx, mut source: serde_json::Value) -> Vec<String> {
    source["uri"] = serde_json::json!(format!("file://{}", ctx.repo.display()));
    let tmp = ctx.root.join(format!("check-tmp-{}", common::now()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_check"));
    cmd.env_clear().env("TMPDIR", &tmp);
    let out = common::process::run_with_input(
        cmd,
        Some(serde_json::json!({"source": source}).to_string().as_bytes()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let versions: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    versions
        .iter()
        .map(|v| v["tag"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_resource_source_carries_revoked_keys_and_user_verification() {
    let ctx = Ctx::new();
    let alice = ctx.ssh_key("alice", "ed25519", None);
    let lost = ctx.ssh_key("lost", "ed25519", None);
    ctx.trust_ssh(&alice, "alice", "");
    humans(&ctx, &["alice"], "1 of humans");
    ctx.ssh_sign(&alice, "v1", "HEAD");
    std::fs::write(
        ctx.keys.join("revoked.pub"),
        format!("{}\n", lost.pub_line()),
    )
    .unwrap();
    let policy = ctx.keys.join("policy.toml");
    let mut text = std::fs::read_to_string(&policy).unwrap();
    text.push_str("\n[ssh]\nrequire_user_verification = true\n");
    std::fs::write(&policy, text).unwrap();

    let source = source_of(&ctx);
    let b64 = |k: &common::ssh::SshKey| k.pub_line().split_whitespace().nth(1).unwrap().to_string();
    assert_eq!(
        source["revoked_keys"],
        serde_json::json!(format!("ssh-ed25519 {}\n", b64(&lost)))
    );
    assert_eq!(source["require_user_verification"], serde_json::json!(true));
    // The YAML carries both too.
    let keys = ctx.keys.display().to_string();
    let yaml = ctx
        .sigtag(&["keys", "source", "--env", "staging", "--keys", &keys])
        .stdout;
    assert!(
        yaml.contains(&format!("revoked_keys: |\n  ssh-ed25519 {}\n", b64(&lost)))
            && yaml.contains("\nrequire_user_verification: true\n"),
        "{yaml}"
    );
    // alice's key is not revoked: the resource promotes v1.
    assert_eq!(check_tags(&ctx, source), ["v1"]);

    // Her key revoked in the keys directory: the source says so, and the
    // resource promotes nothing.
    std::fs::write(
        ctx.keys.join("revoked.pub"),
        format!("{}\n", alice.pub_line()),
    )
    .unwrap();
    let source = source_of(&ctx);
    assert_eq!(
        source["revoked_keys"],
        serde_json::json!(format!("ssh-ed25519 {}\n", b64(&alice)))
    );
    assert_eq!(check_tags(&ctx, source), Vec::<String>::new());
}
