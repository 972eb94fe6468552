//! `sigtag attest` and the resource's `.git/sigtag/vsa.json`, with real git
//! and gpg: an in-toto Statement v1 with a SLSA Verification Summary that
//! names the commit, every layer and the trust digest, claims only what
//! sigtag checked, is signed in a DSSE envelope that gpg verifies, and is
//! never written half or for a tag that reaches no commit. Every statement
//! is also validated by the in-toto attestation framework's own Python
//! bindings (tests/attest_support/validate.py).

// The command line's harness and the resource's share git.rs, gpg.rs and
// process.rs; this file uses both.
#![allow(clippy::duplicate_mod)]

mod common;
mod resource_support;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

// ------------------------------------------------------------ validation

/// The Python interpreter with in-toto-attestation 0.9.3: SIGTAG_INTOTO_PYTHON,
/// else target/py-intoto/bin/python under the crate (`make test-deps`
/// makes it). `None`: neither is there, and CI is not set.
fn intoto_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SIGTAG_INTOTO_PYTHON") {
        let p = PathBuf::from(p);
        assert!(
            p.exists(),
            "SIGTAG_INTOTO_PYTHON names {}, which does not exist",
            p.display()
        );
        return Some(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/py-intoto/bin/python");
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing and CI is set: run make test-deps, or set SIGTAG_INTOTO_PYTHON",
        p.display()
    );
    eprintln!(
        "notice: {} is missing, so the statements are not validated with in-toto-attestation \
         (make test-deps makes it)",
        p.display()
    );
    None
}

/// Validates statement files with tests/attest_support/validate.py.
fn validate(files: &[&Path]) {
    let Some(python) = intoto_python() else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/attest_support/validate.py");
    let out = Command::new(python)
        .arg(script)
        .args(files)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "in-toto-attestation refuses a statement:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates a statement held as text.
fn validate_text(ctx_root: &Path, stem: &str, text: &str) {
    let file = ctx_root.join(format!("{stem}.intoto.json"));
    fs::write(&file, text).unwrap();
    validate(&[&file]);
}

// ------------------------------------------------------------ helpers

/// alice and bob (humans) and the staging pipeline, trusted; prod needs
/// 2 of humans and 1 of pipelines.
fn team(ctx: &Ctx) -> (Key, Key, Key) {
    let (a, b, s) = (ctx.key("alice"), ctx.key("bob"), ctx.key("staging"));
    for k in [&a, &b, &s] {
        ctx.trust(k);
    }
    ctx.standard_policy(&["alice", "bob"], &["staging"]);
    (a, b, s)
}

/// `sigtag ARGS --keys KEYS --repo REPO`.
fn sigtag(ctx: &Ctx, args: &[&str]) -> Run {
    let keys = Ctx::path_str(&ctx.keys);
    let repo = Ctx::path_str(&ctx.repo);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--keys", &keys, "--repo", &repo]);
    ctx.sigtag(&all)
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The object ids of a tag's layers, innermost first, read with git.
fn layers(ctx: &Ctx, tag: &str) -> Vec<String> {
    let mut out = vec![ctx.rev_parse(&format!("refs/tags/{tag}"))];
    loop {
        let obj = ctx.git(&["cat-file", "tag", out.last().unwrap()]);
        let mut head = obj.lines();
        let target = head.next().unwrap().strip_prefix("object ").unwrap();
        let kind = head.next().unwrap();
        if kind != "type tag" {
            break;
        }
        out.push(target.to_string());
    }
    out.reverse();
    out
}

/// Every entry of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The statement with the fields that differ between two runs (the time,
/// and where the tag came from) taken out.
fn without_time_and_place(mut s: Value) -> Value {
    let p = s["predicate"].as_object_mut().unwrap();
    p.remove("timeVerified");
    p.remove("resourceUri");
    s
}

fn policy_digest(s: &Value) -> String {
    s["predicate"]["policy"]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A run that could not attest: exit 2, nothing on stdout, one line.
fn assert_one_line_error(run: &Run, fragments: &[&str]) {
    run.assert_error(fragments);
}

// ------------------------------------------------------------ the statement

#[test]
fn a_passing_tag_gets_a_statement_naming_its_commit_layers_and_policy() {
    let ctx = Ctx::new();
    let (a, b, s) = team(&ctx);
    ctx.chain("v1.4.0", &[&a, &b, &s]);
    let before = iso(now() - 1);

    let run = sigtag(&ctx, &["attest", "v1.4.0", "--env", "prod"]);
    ok(&run);
    assert_eq!(run.stderr, "v1.4.0: yes for prod (alice, bob, staging)\n");
    let st = parse(&run.stdout);
    let after = iso(now() + 1);

    assert_eq!(st["_type"], json!("https://in-toto.io/Statement/v1"));
    assert_eq!(
        st["predicateType"],
        json!("https://slsa.dev/verification_summary/v1")
    );
    let outer = ctx.rev_parse("refs/tags/v1.4.0");
    assert_eq!(
        st["subject"],
        json!([{"name": "v1.4.0",
                "digest": {"gitCommit": ctx.rev_parse("v1.4.0^{commit}")},
                "annotations": {"sourceRefs": ["refs/tags/v1.4.0"],
                                "outermostTagObject": outer}}])
    );
    let ids = layers(&ctx, "v1.4.0");
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[2], outer);
    let p = &st["predicate"];
    assert_eq!(
        p["inputAttestations"],
        json!([
            {"uri": "sigtag:tags/v1.4.0/layers/1", "digest": {"gitTag": ids[0]}},
            {"uri": "sigtag:tags/v1.4.0/layers/2", "digest": {"gitTag": ids[1]}},
            {"uri": "sigtag:tags/v1.4.0/layers/3", "digest": {"gitTag": ids[2]}},
        ])
    );
    assert_eq!(p["verificationResult"], json!("PASSED"));
    assert_eq!(p["verifiedLevels"], json!(["SIGTAG_ENV_PROD"]));
    assert_eq!(p["slsaVersion"], json!("1.0"));
    assert_eq!(
        p["verifier"],
        json!({"id": "https://sigtag.dev/verifier",
               "version": {"sigtag": env!("CARGO_PKG_VERSION")}})
    );
    let t = p["timeVerified"].as_str().unwrap();
    assert!(
        before.as_str() <= t && t <= after.as_str(),
        "{before} <= {t} <= {after}"
    );
    // No origin remote: the repository itself.
    let repo = fs::canonicalize(&ctx.repo).unwrap();
    assert_eq!(
        p["resourceUri"],
        json!(format!("git+file://{}", repo.display()))
    );
    assert_eq!(p["policy"]["uri"], json!("sigtag:environments/prod"));
    let digest = policy_digest(&st);
    assert!(
        digest.len() == 64 && digest.bytes().all(|c| c.is_ascii_hexdigit()),
        "{digest}"
    );
    assert_eq!(
        p.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "inputAttestations",
            "policy",
            "resourceUri",
            "slsaVersion",
            "timeVerified",
            "verificationResult",
            "verifiedLevels",
            "verifier"
        ],
        "nothing beyond the VSA's own fields"
    );
    validate_text(&ctx.root, "pass", &run.stdout);

    // The origin names the resource, without credentials; --resource-uri
    // overrides it.
    ctx.git(&[
        "remote",
        "add",
        "origin",
        "https://ci:s3cret-pass@git.example.org/app.git",
    ]);
    let again = sigtag(&ctx, &["attest", "v1.4.0", "--env", "prod"]);
    ok(&again);
    assert!(!again.stdout.contains("s3cret"), "{}", again.stdout);
    let again = parse(&again.stdout);
    assert_eq!(
        again["predicate"]["resourceUri"],
        json!("https://git.example.org/app.git")
    );
    // The same configuration, the same digest and statement.
    assert_eq!(
        without_time_and_place(again.clone()),
        without_time_and_place(st.clone())
    );
    let given = sigtag(
        &ctx,
        &[
            "attest",
            "v1.4.0",
            "--env",
            "prod",
            "--resource-uri",
            "git+https://git.example.org/app.git",
        ],
    );
    ok(&given);
    assert_eq!(
        parse(&given.stdout)["predicate"]["resourceUri"],
        json!("git+https://git.example.org/app.git")
    );

    // -o: the same statement in a file, nothing on stdout, no temporary
    // file left beside it.
    let dist = ctx.root.join("dist");
    fs::create_dir(&dist).unwrap();
    let file = dist.join("v1.4.0.intoto.json");
    let to_file = sigtag(
        &ctx,
        &[
            "attest",
            "v1.4.0",
            "--env",
            "prod",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    ok(&to_file);
    assert_eq!(to_file.stdout, "");
    assert_eq!(
        to_file.stderr,
        format!(
            "v1.4.0: yes for prod (alice, bob, staging); wrote the statement to {}\n",
            file.display()
        )
    );
    assert_eq!(entries(&dist), ["v1.4.0.intoto.json"]);
    let written = fs::read_to_string(&file).unwrap();
    assert!(written.ends_with("}\n"));
    assert_eq!(
        without_time_and_place(parse(&written)),
        without_time_and_place(st.clone())
    );
    validate(&[&file]);

    // The digest follows the policy: another rule, another digest.
    let policy = fs::read_to_string(ctx.keys.join("policy.toml")).unwrap();
    ctx.policy(&policy.replace(
        "require = \"2 of humans and 1 of pipelines\"",
        "require = \"1 of humans and 1 of pipelines\"",
    ));
    let changed = sigtag(&ctx, &["attest", "v1.4.0", "--env", "prod"]);
    ok(&changed);
    assert_ne!(policy_digest(&parse(&changed.stdout)), digest);
    ctx.policy(&policy);
    let back = sigtag(&ctx, &["attest", "v1.4.0", "--env", "prod"]);
    assert_eq!(policy_digest(&parse(&back.stdout)), digest);
}

/// The resource computes the same statement for the same configuration:
/// the source `sigtag keys source` prints has the keys directory's trust
/// digest, and `in` writes what `sigtag attest` prints.
#[test]
fn the_resource_writes_the_statement_attest_prints() {
    let ctx = Ctx::new();
    let (a, b, s) = team(&ctx);
    ctx.chain("v1", &[&a, &b, &s]);

    let fragment = ctx.sigtag(&[
        "keys",
        "source",
        "--env",
        "prod",
        "--format",
        "json",
        "--keys",
        ctx.keys.to_str().unwrap(),
    ]);
    ok(&fragment);
    let mut source = parse(&fragment.stdout);
    // The keys directory holds gpg's export; the fragment armors the same
    // certificates anew. The digest hashes them in canonical form: the same.
    let exported = fs::read(ctx.keys.join("alice.asc")).unwrap();
    assert_ne!(
        source["signers"]["alice"].as_str().unwrap().as_bytes(),
        &exported[..],
        "the fragment's text differs from gpg's, or this test proves nothing"
    );
    let cli = sigtag(&ctx, &["attest", "v1", "--env", "prod"]);
    ok(&cli);
    let cli = parse(&cli.stdout);
    let uri = format!("file://{}", ctx.repo.display());
    source["uri"] = json!(uri);
    let commit = ctx.rev_parse("v1^{commit}");
    let dest = ctx.root.join("get");
    fs::create_dir(&dest).unwrap();
    let req = json!({"source": source, "version": {"tag": "v1", "commit": commit}, "params": {}});
    let mut cmd = Command::new(resource_support::Bin::In.path());
    cmd.env_clear()
        .env("TMPDIR", &ctx.root)
        .arg(&dest)
        .current_dir(&dest);
    let out = resource_support::run_with_input(cmd, Some(req.to_string().as_bytes()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dest.join(".git/sigtag/vsa.json");
    let vsa = parse(&fs::read_to_string(&file).unwrap());
    assert_eq!(vsa["predicate"]["resourceUri"], json!(uri));
    assert_eq!(policy_digest(&vsa), policy_digest(&cli));
    assert_eq!(without_time_and_place(vsa), without_time_and_place(cli));
    validate(&[&file]);
}

#[test]
fn a_tag_short_of_a_signature_gets_a_failed_statement_and_exit_1() {
    let ctx = Ctx::new();
    let (a, b, _) = team(&ctx);
    ctx.chain("v1", &[&a, &b]);
    let file = ctx.root.join("v1.intoto.json");

    let run = sigtag(
        &ctx,
        &[
            "attest",
            "v1",
            "--env",
            "prod",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "v1: no for prod: needs 1 of pipelines; wrote the statement to {}\n",
            file.display()
        )
    );
    let st = parse(&fs::read_to_string(&file).unwrap());
    assert_eq!(st["predicate"]["verificationResult"], json!("FAILED"));
    assert_eq!(st["predicate"]["verifiedLevels"], json!([]));
    assert_eq!(
        st["subject"][0]["digest"]["gitCommit"],
        json!(ctx.rev_parse("v1^{commit}"))
    );
    assert_eq!(
        st["predicate"]["inputAttestations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    validate(&[&file]);

    // staging asks for 2 of humans: the same tag passes there.
    let staging = sigtag(&ctx, &["attest", "v1", "--env", "staging"]);
    ok(&staging);
    let st = parse(&staging.stdout);
    assert_eq!(
        st["predicate"]["verifiedLevels"],
        json!(["SIGTAG_ENV_STAGING"])
    );
    assert_eq!(
        st["predicate"]["policy"]["uri"],
        json!("sigtag:environments/staging")
    );
    validate_text(&ctx.root, "staging", &staging.stdout);

    // A rejected chain that still reaches its commit: FAILED, as evidence.
    ctx.chain("test-1", &[&a, &b]);
    let obj = ctx.rev_parse("refs/tags/test-1");
    ctx.set_tag_ref("v5", &obj);
    let run = sigtag(&ctx, &["attest", "v5", "--env", "staging"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "v5: no for staging: rejected: layer is named \"test-1\", not \"v5\"\n"
    );
    let st = parse(&run.stdout);
    assert_eq!(st["predicate"]["verificationResult"], json!("FAILED"));
    assert_eq!(st["predicate"]["verifiedLevels"], json!([]));
    assert_eq!(st["subject"][0]["name"], json!("v5"));
    validate_text(&ctx.root, "rejected", &run.stdout);
}

#[test]
fn an_emergency_promotion_says_so_and_nothing_more() {
    let ctx = Ctx::new();
    let made = now() - 10 * DAY;
    let alice = ctx.key_created("alice", made, "never");
    let bob = ctx.key_created("bob", made, "never");
    for k in [&alice, &bob] {
        ctx.trust(k);
    }
    ctx.policy(
        "[groups]\nhumans = [\"alice\", \"bob\"]\n\n\
         [environments.prod]\nrequire = \"2 of humans\"\n\
         emergency = \"1 of humans\"\nreview_within = \"72h\"\n\n\
         [environments.staging]\nrequire = \"2 of humans\"\n",
    );
    ctx.sign(&alice, "v2", "HEAD", &Sig::at(now() - 3600));

    let run = sigtag(&ctx, &["attest", "v2", "--env", "prod"]);
    ok(&run);
    let st = parse(&run.stdout);
    assert_eq!(st["predicate"]["verificationResult"], json!("PASSED"));
    assert_eq!(
        st["predicate"]["verifiedLevels"],
        json!(["SIGTAG_EMERGENCY_PROD"])
    );
    validate_text(&ctx.root, "emergency", &run.stdout);

    // staging takes no emergency.
    let run = sigtag(&ctx, &["attest", "v2", "--env", "staging"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(parse(&run.stdout)["predicate"]["verifiedLevels"], json!([]));

    // Reviewed: a promotion by prod's rule.
    ctx.cosign(&bob, "v2", &Sig::default());
    let run = sigtag(&ctx, &["attest", "v2", "--env", "prod"]);
    ok(&run);
    let st = parse(&run.stdout);
    assert_eq!(
        st["predicate"]["verifiedLevels"],
        json!(["SIGTAG_ENV_PROD"])
    );
    validate_text(&ctx.root, "reviewed", &run.stdout);
}

// ------------------------------------------------------------ DSSE

/// base64 decoded by coreutils, independently of sigtag.
fn base64_decode(ctx: &Ctx, text: &str) -> Vec<u8> {
    let file = ctx.root.join("b64.txt");
    fs::write(&file, text).unwrap();
    let out = Command::new("base64")
        .arg("-d")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    out.stdout
}

/// DSSE v1's pre-authentication encoding, built here from the spec.
fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// `gpg --verify SIG DATA` in a home holding only `cert`.
fn gpg_verify(ctx: &Ctx, home: &Path, sig: &[u8], data: &[u8]) -> (bool, String) {
    let (sig_file, data_file) = (ctx.root.join("dsse.sig"), ctx.root.join("dsse.pae"));
    fs::write(&sig_file, sig).unwrap();
    fs::write(&data_file, data).unwrap();
    let out = ctx.gpg_output(
        home,
        &[
            "--status-fd",
            "1",
            "--verify",
            sig_file.to_str().unwrap(),
            data_file.to_str().unwrap(),
        ],
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_dsse_envelope_verifies_with_gpg_and_a_flipped_byte_does_not() {
    let ctx = Ctx::new();
    let (a, b, s) = team(&ctx);
    ctx.chain("v1.4.0", &[&a, &b, &s]);
    // The verifier's key is no signer of the trust root.
    let verifier = ctx.key("ci-verifier");
    let key_file = ctx.secret_key_file(&verifier);
    let file = ctx.root.join("v1.4.0.intoto.json");

    let run = sigtag(
        &ctx,
        &[
            "attest",
            "v1.4.0",
            "--env",
            "prod",
            "--key",
            key_file.to_str().unwrap(),
            "-o",
            file.to_str().unwrap(),
        ],
    );
    ok(&run);
    assert_eq!(
        run.stderr,
        format!(
            "v1.4.0: yes for prod (alice, bob, staging); wrote the signed statement to {}\n",
            file.display()
        )
    );
    let text = fs::read_to_string(&file).unwrap();
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    let env = parse(&text);
    assert_eq!(
        env.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["payload", "payloadType", "signatures"]
    );
    let payload_type = env["payloadType"].as_str().unwrap();
    assert_eq!(payload_type, "application/vnd.in-toto+json");
    let payload = env["payload"].as_str().unwrap();
    assert_eq!(payload.len() % 4, 0, "padded base64");
    let body = base64_decode(&ctx, payload);
    let st = parse(std::str::from_utf8(&body).unwrap());
    assert_eq!(
        st["predicate"]["verifiedLevels"],
        json!(["SIGTAG_ENV_PROD"])
    );
    validate_text(&ctx.root, "payload", std::str::from_utf8(&body).unwrap());

    let sigs = env["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0]["keyid"], json!(verifier.fpr));
    let sig = base64_decode(&ctx, sigs[0]["sig"].as_str().unwrap());
    assert!(!sig.starts_with(b"-----BEGIN"), "a binary signature");

    // gpg, holding only the verifier's public certificate.
    let home = ctx.root.join("verify-home");
    gpg::create_home(&home);
    let cert = ctx.root.join("ci-verifier.asc");
    fs::write(&cert, ctx.export_pub_from(&ctx.home, &verifier)).unwrap();
    gpg::import(&home, &cert);
    let (good, status) = gpg_verify(&ctx, &home, &sig, &pae(payload_type, &body));
    assert!(good, "{status}");
    assert!(status.contains("[GNUPG:] GOODSIG "), "{status}");
    assert!(
        status.contains(&format!("[GNUPG:] VALIDSIG {}", verifier.fpr)),
        "{status}"
    );

    let mut flipped = body.clone();
    flipped[body.len() / 2] ^= 0x01;
    let (good, status) = gpg_verify(&ctx, &home, &sig, &pae(payload_type, &flipped));
    assert!(!good, "{status}");
    assert!(status.contains("[GNUPG:] BADSIG "), "{status}");
    // The PAE binds the type too.
    let (good, status) = gpg_verify(&ctx, &home, &sig, &pae("application/json", &body));
    assert!(!good && status.contains("[GNUPG:] BADSIG "), "{status}");
    gpg::kill_agents(&home);
}

// ------------------------------------------------------------ refusals

#[test]
fn what_cannot_be_attested_writes_nothing_and_exits_2() {
    let ctx = Ctx::new();
    let (a, b, s) = team(&ctx);
    ctx.chain("v1", &[&a, &b, &s]);
    let out = ctx.root.join("out");
    fs::create_dir(&out).unwrap();
    let file = out.join("v9.intoto.json");
    let file_arg = file.to_str().unwrap();

    // No such tag: no commit to name.
    let run = sigtag(&ctx, &["attest", "v9", "--env", "prod", "-o", file_arg]);
    assert_one_line_error(
        &run,
        &["cannot attest v9: no tag named \"v9\"", "sigtag explain v9"],
    );
    assert_eq!(entries(&out), Vec::<String>::new());
    let run = sigtag(&ctx, &["attest", "v9", "--env", "prod"]);
    assert_one_line_error(&run, &["cannot attest v9"]);

    // A broken chain: a layer that names a tree.
    let tree = ctx.rev_parse("HEAD^{tree}");
    let payload = Ctx::payload(&tree, "tree", "v8", "not a commit");
    let obj = ctx.write_tag_object(
        ctx.signed_object(&payload, &[&a], &Sig::default())
            .as_bytes(),
        false,
    );
    ctx.set_tag_ref("v8", &obj);
    let run = sigtag(&ctx, &["attest", "v8", "--env", "prod", "-o", file_arg]);
    assert_one_line_error(&run, &["cannot attest v8: "]);
    assert_eq!(entries(&out), Vec::<String>::new());

    // -o into a directory that does not exist.
    let missing = ctx.root.join("missing");
    let into = missing.join("v1.intoto.json");
    let run = sigtag(
        &ctx,
        &[
            "attest",
            "v1",
            "--env",
            "prod",
            "-o",
            into.to_str().unwrap(),
        ],
    );
    assert_one_line_error(&run, &["cannot write", "-o needs an existing directory"]);
    assert!(!missing.exists());
    // -o naming a directory: the rename fails, the temporary file goes.
    let run = sigtag(
        &ctx,
        &["attest", "v1", "--env", "prod", "-o", out.to_str().unwrap()],
    );
    assert_one_line_error(&run, &["cannot write"]);
    assert_eq!(entries(&out), Vec::<String>::new());
    assert_eq!(
        entries(&ctx.root)
            .iter()
            .filter(|e| e.ends_with(".tmp"))
            .count(),
        0
    );

    // A --key file that holds no key, or only a public certificate.
    let junk = ctx.root.join("junk.asc");
    fs::write(&junk, "not a key\n").unwrap();
    let public = ctx.root.join("alice.pub.asc");
    fs::write(&public, ctx.export_pub_from(&ctx.home, &a)).unwrap();
    for (key, says) in [
        (&junk, "is not an OpenPGP secret key"),
        (&public, "holds only a public certificate"),
        (&ctx.root.join("nowhere.asc"), "cannot read"),
    ] {
        let run = sigtag(
            &ctx,
            &[
                "attest",
                "v1",
                "--env",
                "prod",
                "--key",
                key.to_str().unwrap(),
                "-o",
                file_arg,
            ],
        );
        assert_one_line_error(&run, &[says]);
        assert!(!run.stderr.contains("BEGIN PGP"), "{}", run.stderr);
        assert_eq!(entries(&out), Vec::<String>::new());
    }

    // A --resource-uri with credentials, or none that is a URI.
    let run = sigtag(
        &ctx,
        &[
            "attest",
            "v1",
            "--env",
            "prod",
            "--resource-uri",
            "https://ci:s3cret-pass@git.example.org/app.git",
        ],
    );
    assert_one_line_error(
        &run,
        &["--resource-uri https://***@git.example.org/app.git carries credentials"],
    );
    assert!(!run.stderr.contains("s3cret-pass"), "{}", run.stderr);
    let run = sigtag(
        &ctx,
        &["attest", "v1", "--env", "prod", "--resource-uri", "app.git"],
    );
    assert_one_line_error(&run, &["--resource-uri \"app.git\" is not a URI"]);

    // An environment policy.toml does not have.
    let run = sigtag(&ctx, &["attest", "v1", "--env", "qa", "-o", file_arg]);
    assert_one_line_error(&run, &["qa"]);
    assert_eq!(entries(&out), Vec::<String>::new());
}

// ------------------------------------------------------------ the resource

#[test]
fn in_writes_vsa_json_without_the_uris_credentials() {
    use resource_support::servers::HttpServer;
    use resource_support::{now, World};

    let w = World::new();
    let (a, b) = (w.key("alice"), w.key("bob"));
    let c1 = w.release("v1", "app.txt", "one\n", "one", &[&a, &b], now() - 100);
    let server = HttpServer::start(w.remote.parent().unwrap(), "ci", "s3cret-pass");
    let uri = format!("http://ci:s3cret-pass@127.0.0.1:{}/app.git", server.port);
    let mut source = w.standard_source(&uri, "2 of humans");
    source["insecure_http_credentials"] = json!(true);

    let dest = w.fresh_dir("get");
    w.get(&source, "v1", &c1, &dest).ok();
    let file = dest.join(".git/sigtag/vsa.json");
    let text = fs::read_to_string(&file).unwrap();
    assert!(!text.contains("s3cret-pass"), "{text}");
    assert!(!text.contains("ci@"), "{text}");
    let st = parse(&text);
    assert_eq!(
        st["predicate"]["resourceUri"],
        json!(format!("http://127.0.0.1:{}/app.git", server.port))
    );
    assert_eq!(st["subject"][0]["name"], json!("v1"));
    assert_eq!(st["subject"][0]["digest"]["gitCommit"], json!(c1));
    assert_eq!(
        st["subject"][0]["annotations"]["outermostTagObject"],
        json!(w.tag_object("v1"))
    );
    assert_eq!(
        st["predicate"]["inputAttestations"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A source without an environment names its one environment "source",
    // as its report.json does.
    assert_eq!(
        st["predicate"]["policy"]["uri"],
        json!("sigtag:environments/source")
    );
    assert_eq!(
        st["predicate"]["verifiedLevels"],
        json!(["SIGTAG_ENV_SOURCE"])
    );
    assert_eq!(st["predicate"]["verificationResult"], json!("PASSED"));
    let digest = policy_digest(&st);
    validate(&[&file]);

    // Named, the environment is named; the name is part of the digest.
    source["environment"] = json!("prod");
    let dest = w.fresh_dir("get");
    w.get(&source, "v1", &c1, &dest).ok();
    let file = dest.join(".git/sigtag/vsa.json");
    let st = parse(&fs::read_to_string(&file).unwrap());
    assert_eq!(
        st["predicate"]["policy"]["uri"],
        json!("sigtag:environments/prod")
    );
    assert_eq!(
        st["predicate"]["verifiedLevels"],
        json!(["SIGTAG_ENV_PROD"])
    );
    assert_ne!(policy_digest(&st), digest);
    validate(&[&file]);

    // A version in refuses leaves no vsa.json (nor anything else).
    let strict = w.standard_source(&w.file_uri(), "2 of humans and 1 of pipelines");
    let dest = w.fresh_dir("get");
    w.get(&strict, "v1", &c1, &dest)
        .assert_fails(&["not a valid version any more"]);
    assert_eq!(World::files_below(&dest), Vec::<String>::new());
}
