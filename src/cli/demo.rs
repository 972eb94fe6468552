//! `sigtag demo`: the whole story, narrated, on generated keys and a
//! throw-away repository. No network, no gpg, nothing outside a temporary
//! directory.

use git2::{Repository, Signature as GitSig};
use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;
use openpgp::Cert;
use sequoia_openpgp as openpgp;
use std::path::Path;

use sigtag::error::{Context as _, Error, ErrorKind, Result};
use sigtag::render::{self, Style};
use sigtag::sign::{self, LayerOptions, Signed, SigningKey};
use sigtag::trust::Trust;
use sigtag::verdict::{Gate, Verdict};

const POLICY: &str = r#"[groups]
humans    = ["alice", "bob"]
pipelines = ["staging"]

[environments.staging]
require = "2 of humans"

[environments.prod]
require = "2 of humans and 1 of pipelines"
"#;

fn say(text: &str) {
    println!("{text}");
}

fn step(n: usize, text: &str) {
    println!("\n== {n}. {text}");
}

fn new_cert(userid: &str) -> Result<Cert> {
    CertBuilder::general_purpose(Some(userid))
        .generate()
        .map(|(cert, _rev)| cert)
        .map_err(|e| Error::sign(format!("cannot generate a key for {userid}: {e}")))
}

fn key_of(cert: &Cert) -> Result<SigningKey> {
    sign::signing_key_of(cert.clone(), "the demo key")
}

fn verdict(
    style: Style,
    repo: &Repository,
    trust: &Trust,
    env: &str,
    tag: &str,
) -> Result<Verdict> {
    let verdict = Gate::for_environment(trust, env)?.judge(repo, tag);
    say(&format!("   $ sigtag verify {tag} --env {env}"));
    say(&format!("   {}", style.line(&verdict)));
    Ok(verdict)
}

fn expect(report: &Verdict, satisfied: bool) -> Result<()> {
    if report.satisfied == satisfied {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Refused,
            format!(
                "the demo went wrong: {} for {} should have been {}",
                report.tag,
                report.environment,
                if satisfied { "yes" } else { "no" }
            ),
        ))
    }
}

fn commit(
    repo: &Repository,
    head: Option<&str>,
    who: &GitSig<'_>,
    message: &str,
    parents: &[git2::Oid],
    file: &str,
) -> Result<git2::Oid> {
    let ctx = |what: &str| {
        let what = what.to_string();
        move || what
    };
    let blob = repo
        .blob(message.as_bytes())
        .context(ErrorKind::Repo, ctx("cannot write a blob"))?;
    let mut tb = repo
        .treebuilder(None)
        .context(ErrorKind::Repo, ctx("cannot build a tree"))?;
    tb.insert(file, blob, 0o100644)
        .context(ErrorKind::Repo, ctx("cannot build a tree"))?;
    let tree_id = tb
        .write()
        .context(ErrorKind::Repo, ctx("cannot write a tree"))?;
    let tree = repo
        .find_tree(tree_id)
        .context(ErrorKind::Repo, ctx("cannot read a tree"))?;
    let parents: Vec<git2::Commit<'_>> = parents
        .iter()
        .filter_map(|p| repo.find_commit(*p).ok())
        .collect();
    let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
    repo.commit(head, who, who, message, &tree, &refs)
        .context(ErrorKind::Repo, ctx("cannot commit"))
}

/// Runs the demo in a temporary directory that is removed afterwards.
/// Runs the demo, its verdicts and explanations in `style`.
pub fn run(style: Style) -> Result<()> {
    let tmp = tempfile::tempdir()
        .context(ErrorKind::Io, || "cannot make a temporary directory".into())?;
    run_in(tmp.path(), style)?;
    say("\nEverything above happened in a temporary directory, now removed.");
    Ok(())
}

fn run_in(dir: &Path, style: Style) -> Result<()> {
    say("sigtag demo: only reviewed code reaches production.");
    say("Two people must sign a release tag before staging deploys it; production");
    say("also needs the staging pipeline's signature, added after staging passed.");

    step(
        1,
        "Keys: alice and bob are humans, staging is the staging pipeline's key",
    );
    let alice = new_cert("Alice <alice@example.org>")?;
    let bob = new_cert("Bob <bob@example.org>")?;
    let staging = new_cert("staging pipeline <staging@ci.example.org>")?;
    let keys = dir.join("keys");
    std::fs::create_dir(&keys)
        .context(ErrorKind::Io, || "cannot create the keys directory".into())?;
    for (name, cert) in [("alice", &alice), ("bob", &bob), ("staging", &staging)] {
        let armored = cert
            .armored()
            .to_vec()
            .map_err(|e| Error::io(e.to_string()))?;
        std::fs::write(keys.join(format!("{name}.asc")), armored)
            .context(ErrorKind::Io, || "cannot write a certificate".into())?;
        say(&format!(
            "   keys/{name}.asc  {}",
            cert.fingerprint().to_hex()
        ));
    }
    std::fs::write(keys.join("policy.toml"), POLICY)
        .context(ErrorKind::Io, || "cannot write policy.toml".into())?;
    say("   keys/policy.toml:");
    for line in POLICY.lines().filter(|l| !l.is_empty()) {
        say(&format!("     {line}"));
    }
    let trust = Trust::load_dir(&keys)?;

    step(2, "A pull request is reviewed and merged");
    let repo = Repository::init(dir.join("app"))
        .context(ErrorKind::Repo, || "cannot create the repository".into())?;
    let who = GitSig::now("Alice", "alice@example.org")
        .context(ErrorKind::Repo, || "bad signature".into())?;
    let base = commit(&repo, Some("HEAD"), &who, "Initial commit", &[], "README")?;
    let feature = commit(&repo, None, &who, "Add the feature", &[base], "feature.txt")?;
    let merge = commit(
        &repo,
        Some("HEAD"),
        &who,
        "Merge pull request #42 from alice/feature\n\nAdd the feature",
        &[base, feature],
        "feature.txt",
    )?;
    say(&format!(
        "   merge commit {merge}: Merge pull request #42 from alice/feature"
    ));

    step(3, "alice, who merged it, signs the release tag");
    let mut alice_key = key_of(&alice)?;
    sign::sign(
        &repo,
        "v1.4.0",
        None,
        &mut alice_key,
        &LayerOptions::default(),
    )?;
    say("   $ sigtag sign v1.4.0 --key alice.key");
    let r = verdict(style, &repo, &trust, "staging", "v1.4.0")?;
    expect(&r, false)?;
    say("   One human is not enough: staging does not see v1.4.0 yet.");

    step(
        4,
        "bob, the reviewer, co-signs: a second layer on the same tag",
    );
    let mut bob_key = key_of(&bob)?;
    sign::cosign(
        &repo,
        "v1.4.0",
        &mut bob_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   $ sigtag cosign v1.4.0 --key bob.key      (or: git tag -s -f v1.4.0 v1.4.0)");
    expect(&verdict(style, &repo, &trust, "staging", "v1.4.0")?, true)?;
    expect(&verdict(style, &repo, &trust, "prod", "v1.4.0")?, false)?;
    say("   Staging deploys v1.4.0. Production still waits for the staging pipeline.");

    step(5, "Staging passed: the staging pipeline counter-signs");
    let mut staging_key = key_of(&staging)?;
    let humans = trust.parse_rule("2 of humans", "demo")?;
    sign::cosign(
        &repo,
        "v1.4.0",
        &mut staging_key,
        &LayerOptions::default(),
        &trust,
        Some(&humans),
    )?;
    say("   $ sigtag cosign v1.4.0 --key staging.key --require \"2 of humans\"");
    expect(&verdict(style, &repo, &trust, "prod", "v1.4.0")?, true)?;
    say("   $ sigtag explain v1.4.0 --env prod");
    let prod = Gate::for_environment(&trust, "prod")?.judge(&repo, "v1.4.0");
    for line in render::explain::explain_styled(&prod, style).lines() {
        say(&format!("   {line}"));
    }
    let again = sign::cosign(
        &repo,
        "v1.4.0",
        &mut staging_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    if let Signed::AlreadySigned { layer } = again {
        say(&format!(
            "   Co-signing again with the same key changes nothing (it signed layer {layer})."
        ));
    }

    step(
        6,
        "Attack: the author signs twice, with a second key of her own",
    );
    let alice_laptop = new_cert("Alice <alice@example.org>")?;
    let both = [alice.armored().to_vec(), alice_laptop.armored().to_vec()]
        .into_iter()
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::io(e.to_string()))?
        .concat();
    std::fs::write(keys.join("alice.asc"), both)
        .context(ErrorKind::Io, || "cannot write a certificate".into())?;
    say("   keys/alice.asc now holds two certificates of alice (key rotation).");
    let trust = Trust::load_dir(&keys)?;
    let fix = commit(
        &repo,
        Some("HEAD"),
        &who,
        "Merge pull request #43 from alice/quick-fix",
        &[merge],
        "fix.txt",
    )?;
    sign::sign(
        &repo,
        "v1.5.0",
        Some(&fix.to_string()),
        &mut alice_key,
        &LayerOptions::default(),
    )?;
    let mut laptop_key = key_of(&alice_laptop)?;
    sign::cosign(
        &repo,
        "v1.5.0",
        &mut laptop_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   alice signs v1.5.0, then co-signs it with her other key.");
    let r = verdict(style, &repo, &trust, "staging", "v1.5.0")?;
    expect(&r, false)?;
    say("   Refused: two signatures, one person. Rules count distinct signers.");

    step(
        7,
        "Attack: a validly signed test tag pushed under a release name",
    );
    sign::sign(
        &repo,
        "test-1",
        Some(&fix.to_string()),
        &mut alice_key,
        &LayerOptions::default(),
    )?;
    sign::cosign(
        &repo,
        "test-1",
        &mut bob_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    let test_tag = repo
        .refname_to_id("refs/tags/test-1")
        .context(ErrorKind::Repo, || "cannot read test-1".into())?;
    repo.reference("refs/tags/v9.9.9", test_tag, false, "demo: renamed tag")
        .context(ErrorKind::Repo, || "cannot write v9.9.9".into())?;
    say("   alice and bob signed test-1 for a test run; someone pushes it as v9.9.9.");
    expect(&verdict(style, &repo, &trust, "staging", "test-1")?, true)?;
    let r = verdict(style, &repo, &trust, "staging", "v9.9.9")?;
    expect(&r, false)?;
    say("   Refused: every layer names the tag it was signed as.");

    say("\nEvery environment saw only the tags that carry the signatures it requires.");
    Ok(())
}
