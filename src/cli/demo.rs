//! `sigtag demo`: the whole story, narrated, on generated keys and a
//! throw-away repository. No network, no gpg, nothing outside a temporary
//! directory.
//!
//! The chapters build on one another: the same repository and keys
//! throughout, so every verdict is judged with the tags before it (a
//! transition's base, an emergency's review). Each verdict is checked
//! against what the story says ([`expect`], [`expect_no`],
//! [`expect_emergency`]); a verdict that differs stops the demo with one
//! sentence and a non-zero exit. Signatures are made at the current time;
//! the one chapter that needs time to pass judges with [`Gate::now`]
//! moved forward and says so.

use git2::{Oid, Repository, Signature as GitSig};
use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;
use openpgp::Cert;
use sequoia_openpgp as openpgp;
use std::path::Path;
use std::time::{Duration, SystemTime};

use sigtag::date::rfc3339;
use sigtag::error::{Context as _, Error, ErrorKind, Result};
use sigtag::render::{self, Style};
use sigtag::rule::Rule;
use sigtag::sign::{self, LayerOptions, Signed, SigningKey};
use sigtag::trust::Trust;
use sigtag::verdict::{Gate, Verdict};

const POLICY: &str = r#"[groups]
humans    = ["alice", "bob", "carol"]
pipelines = ["staging"]

[environments.staging]
require = "2 of humans"

[environments.prod]
require = "2 of humans besides author and 1 of pipelines tested"
"#;

/// What chapter 10 adds to prod's environment.
const EMERGENCY: &str = r#"emergency     = "1 of humans"
review        = "2 of humans"
review_within = "72h"
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

fn person(name: &str, email: &str) -> Result<GitSig<'static>> {
    GitSig::now(name, email).context(ErrorKind::Repo, || "bad signature".into())
}

/// Judges `tag` for `env` now, printing the command and its verdict line.
fn verdict(
    style: Style,
    repo: &Repository,
    trust: &Trust,
    env: &str,
    tag: &str,
) -> Result<Verdict> {
    Ok(verdict_with(
        style,
        repo,
        &Gate::for_environment(trust, env)?,
        tag,
        "",
    ))
}

/// Judges `tag` with `gate`, printing the command (with `note` after it)
/// and its verdict line.
fn verdict_with(
    style: Style,
    repo: &Repository,
    gate: &Gate<'_>,
    tag: &str,
    note: &str,
) -> Verdict {
    let verdict = gate.judge(repo, tag);
    say(&format!(
        "   $ sigtag verify {tag} --env {}{note}",
        gate.environment
    ));
    say(&format!("   {}", style.line(&verdict)));
    verdict
}

/// Prints the lines of `sigtag explain` for `verdict` that `keep` picks.
fn excerpt(style: Style, verdict: &Verdict, keep: impl Fn(&str) -> bool) {
    say(&format!(
        "   $ sigtag explain {} --env {}      (excerpt)",
        verdict.tag, verdict.environment
    ));
    for line in render::explain::explain_styled(verdict, style)
        .lines()
        .filter(|l| keep(l))
    {
        say(&format!("   {line}"));
    }
}

fn wrong(report: &Verdict, should: &str) -> Error {
    Error::new(
        ErrorKind::Refused,
        format!(
            "the demo went wrong: {} for {} should have been {should}",
            report.tag, report.environment
        ),
    )
}

fn expect(report: &Verdict, satisfied: bool) -> Result<()> {
    if report.satisfied == satisfied && report.emergency.is_none() {
        Ok(())
    } else {
        Err(wrong(report, if satisfied { "yes" } else { "no" }))
    }
}

/// `report` is a no whose reason says `because`.
fn expect_no(report: &Verdict, because: &str) -> Result<()> {
    let why = render::line::reason(report).unwrap_or_default();
    if !report.satisfied && why.contains(because) {
        Ok(())
    } else {
        Err(wrong(
            report,
            &format!("no, with a reason naming \"{because}\""),
        ))
    }
}

/// `report` is an emergency promotion, `reviewed` or not, `overdue` or not.
fn expect_emergency(report: &Verdict, reviewed: bool, overdue: bool) -> Result<()> {
    let got = report.emergency.as_ref().map(|e| (e.reviewed, e.overdue));
    if report.satisfied && got == Some((reviewed, overdue)) {
        Ok(())
    } else {
        let should = match (reviewed, overdue) {
            (true, _) => "yes (emergency, reviewed)",
            (false, true) => "yes (emergency) with its review overdue",
            (false, false) => "yes (emergency) with its review pending",
        };
        Err(wrong(report, should))
    }
}

fn commit(
    repo: &Repository,
    head: Option<&str>,
    who: &GitSig<'_>,
    message: &str,
    parents: &[Oid],
    file: &str,
) -> Result<Oid> {
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

/// The staging pipeline's co-signature on `tag`, once it meets `humans`,
/// recording that staging deployed `tag` over `from` (a tag, or none).
fn staging_cosign(
    repo: &Repository,
    trust: &Trust,
    key: &mut SigningKey,
    humans: &Rule,
    tag: &str,
    from: &str,
) -> Result<()> {
    let tested = sign::resolve_tested_from(repo, from, tag)?;
    let opts = LayerOptions {
        tested_from: Some(tested),
        ..LayerOptions::default()
    };
    sign::cosign(repo, tag, key, &opts, trust, Some(humans))?;
    say(&format!(
        "   $ sigtag cosign {tag} --key staging.key --require \"{humans}\" --tested-from {from}"
    ));
    Ok(())
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
    say("Two people must sign a release tag before staging deploys it. Production");
    say("needs two signers besides the author of each change, and the staging");
    say("pipeline's signature, recording the transition staging tested.");

    step(
        1,
        "Keys: alice, bob and carol are humans, staging is the staging pipeline's key",
    );
    let alice = new_cert("Alice <alice@example.org>")?;
    let bob = new_cert("Bob <bob@example.org>")?;
    let carol = new_cert("Carol <carol@example.org>")?;
    let staging = new_cert("staging pipeline <staging@ci.example.org>")?;
    let keys = dir.join("keys");
    std::fs::create_dir(&keys)
        .context(ErrorKind::Io, || "cannot create the keys directory".into())?;
    for (name, cert) in [
        ("alice", &alice),
        ("bob", &bob),
        ("carol", &carol),
        ("staging", &staging),
    ] {
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
    let carol_git = person("Carol", "carol@example.org")?;
    let base = commit(
        &repo,
        Some("HEAD"),
        &carol_git,
        "Initial commit",
        &[],
        "README",
    )?;
    let feature = commit(
        &repo,
        None,
        &carol_git,
        "Add the feature",
        &[base],
        "feature.txt",
    )?;
    let merge = commit(
        &repo,
        Some("HEAD"),
        &carol_git,
        "Merge pull request #42 from carol/feature\n\nAdd the feature",
        &[base, feature],
        "feature.txt",
    )?;
    say("   carol wrote pull request #42; bob reviewed it; carol merged it.");
    say(&format!(
        "   merge commit {merge}: Merge pull request #42 from carol/feature"
    ));

    step(3, "alice, the release manager, signs the release tag");
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

    step(
        5,
        "Staging passed: the staging pipeline counter-signs, recording what it tested",
    );
    let mut staging_key = key_of(&staging)?;
    let humans = trust.parse_rule("2 of humans", "demo")?;
    staging_cosign(&repo, &trust, &mut staging_key, &humans, "v1.4.0", "none")?;
    say("   Staging ran nothing before v1.4.0: its layer records Sigtag-Tested-From: none.");
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
    let alice_git = person("Alice", "alice@example.org")?;
    let fix = commit(
        &repo,
        Some("HEAD"),
        &alice_git,
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
    say("   alice writes a quick fix, signs v1.5.0, then co-signs it with her other key.");
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

    step(8, "The reviewer must not be the author");
    say("   bob reviews alice's quick fix and co-signs v1.5.0; staging deploys it.");
    sign::cosign(
        &repo,
        "v1.5.0",
        &mut bob_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   $ sigtag cosign v1.5.0 --key bob.key");
    expect(&verdict(style, &repo, &trust, "staging", "v1.5.0")?, true)?;
    staging_cosign(&repo, &trust, &mut staging_key, &humans, "v1.5.0", "v1.4.0")?;
    let r = verdict(style, &repo, &trust, "prod", "v1.5.0")?;
    expect_no(&r, "who authored")?;
    let fix_id = render::line::short_id(&fix.to_string());
    excerpt(style, &r, |l| {
        l.contains(&fix_id) || l.contains("besides author:")
    });
    say("   alice wrote the fix, so her signatures do not count for it: prod needs two");
    say("   people besides her. carol reviews it too:");
    let mut carol_key = key_of(&carol)?;
    sign::cosign(
        &repo,
        "v1.5.0",
        &mut carol_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   $ sigtag cosign v1.5.0 --key carol.key");
    expect(&verdict(style, &repo, &trust, "prod", "v1.5.0")?, true)?;
    say("   Prod goes from v1.4.0 to v1.5.0, the transition staging's layer records.");

    step(9, "Staging must test the transition prod will make");
    let bob_git = person("Bob", "bob@example.org")?;
    let dave_git = person("Dave", "dave@example.org")?;
    let cache = commit(
        &repo,
        Some("HEAD"),
        &bob_git,
        "Merge pull request #44 from bob/cache",
        &[fix],
        "cache.txt",
    )?;
    sign::sign(
        &repo,
        "v1.6.0",
        Some(&cache.to_string()),
        &mut alice_key,
        &LayerOptions::default(),
    )?;
    sign::cosign(
        &repo,
        "v1.6.0",
        &mut bob_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   bob's pull request #44, reviewed by alice, becomes v1.6.0; dave's #45,");
    say("   reviewed by alice and carol, v1.7.0. Staging deploys one, then the other,");
    say("   and counter-signs each, recording the version it replaced:");
    staging_cosign(&repo, &trust, &mut staging_key, &humans, "v1.6.0", "v1.5.0")?;
    let docs = commit(
        &repo,
        Some("HEAD"),
        &dave_git,
        "Merge pull request #45 from dave/docs",
        &[cache],
        "docs.txt",
    )?;
    sign::sign(
        &repo,
        "v1.7.0",
        Some(&docs.to_string()),
        &mut alice_key,
        &LayerOptions::default(),
    )?;
    sign::cosign(
        &repo,
        "v1.7.0",
        &mut carol_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    staging_cosign(&repo, &trust, &mut staging_key, &humans, "v1.7.0", "v1.6.0")?;
    let r = verdict(style, &repo, &trust, "prod", "v1.6.0")?;
    expect_no(&r, "who authored")?;
    let r = verdict(style, &repo, &trust, "prod", "v1.7.0")?;
    expect_no(&r, "tested from v1.5.0")?;
    excerpt(style, &r, |l| {
        l.contains("pipelines tested:") || l.contains("must record") || l.contains("staging tested")
    });
    say("   bob wrote v1.6.0 and only alice reviewed it, so prod would go from v1.5.0");
    say("   straight to v1.7.0: a transition staging never ran. Here prod takes");
    say("   v1.6.0 first instead, once carol reviews it:");
    sign::cosign(
        &repo,
        "v1.6.0",
        &mut carol_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   $ sigtag cosign v1.6.0 --key carol.key");
    expect(&verdict(style, &repo, &trust, "prod", "v1.6.0")?, true)?;
    expect(&verdict(style, &repo, &trust, "prod", "v1.7.0")?, true)?;
    say("   Now prod goes v1.5.0 -> v1.6.0 -> v1.7.0, each step as staging tested it.");

    step(10, "An emergency, reviewed afterwards");
    let policy = POLICY.replace(
        "and 1 of pipelines tested\"\n",
        &format!("and 1 of pipelines tested\"\n{EMERGENCY}"),
    );
    std::fs::write(keys.join("policy.toml"), &policy)
        .context(ErrorKind::Io, || "cannot write policy.toml".into())?;
    let trust = Trust::load_dir(&keys)?;
    say("   keys/policy.toml: prod takes emergencies now");
    for line in EMERGENCY.lines() {
        say(&format!("     {line}"));
    }
    // What the next sentence says of test-1, checked.
    let r = Gate::for_environment(&trust, "prod")?.judge(&repo, "test-1");
    expect_emergency(&r, true, false)?;
    for stray in ["test-1", "v9.9.9"] {
        repo.find_reference(&format!("refs/tags/{stray}"))
            .and_then(|mut r| r.delete())
            .context(ErrorKind::Repo, || format!("cannot delete tag {stray}"))?;
    }
    say("   Now any tag one human signed reaches prod, as an emergency if need be:");
    say("   test-1 too (reviewed even: alice and bob signed it). The test tags go:");
    say("   $ git tag -d test-1 v9.9.9      (a pipeline's tag_filter: \"v*\" skips them too)");
    let hotfix = commit(
        &repo,
        Some("HEAD"),
        &alice_git,
        "Fix the crash on login",
        &[docs],
        "login.txt",
    )?;
    sign::sign(
        &repo,
        "v1.7.1",
        Some(&hotfix.to_string()),
        &mut alice_key,
        &LayerOptions::default(),
    )?;
    say("   Prod is down. alice fixes it and signs v1.7.1 alone.");
    say("   $ sigtag sign v1.7.1 --key alice.key");
    let r = verdict(style, &repo, &trust, "prod", "v1.7.1")?;
    expect_emergency(&r, false, false)?;
    let next = commit(
        &repo,
        Some("HEAD"),
        &alice_git,
        "Merge pull request #46 from alice/login-tests",
        &[hotfix],
        "login-tests.txt",
    )?;
    sign::sign(
        &repo,
        "v1.8.0",
        Some(&next.to_string()),
        &mut bob_key,
        &LayerOptions::default(),
    )?;
    sign::cosign(
        &repo,
        "v1.8.0",
        &mut carol_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   Nobody reviews v1.7.1. alice's next change, reviewed by bob and carol, is");
    say("   v1.8.0; staging deploys it over what prod runs, v1.7.1.");
    staging_cosign(&repo, &trust, &mut staging_key, &humans, "v1.8.0", "v1.7.1")?;
    let later = SystemTime::now() + Duration::from_secs(4 * 86_400);
    let mut prod = Gate::for_environment(&trust, "prod")?;
    prod.now = later;
    let when = rfc3339(later);
    say("   Four days pass. The demo cannot wait that long: it signs now, and from");
    say(&format!("   here on judges as of {when}."));
    let note = format!("      (as of {when})");
    let r = verdict_with(style, &repo, &prod, "v1.7.1", &note);
    expect_emergency(&r, false, true)?;
    let r = verdict_with(style, &repo, &prod, "v1.8.0", &note);
    expect_no(&r, "v1.7.1 was promoted to prod as an emergency")?;
    say("   Its review is overdue: nothing newer reaches prod. bob reviews the hotfix:");
    sign::cosign(
        &repo,
        "v1.7.1",
        &mut bob_key,
        &LayerOptions::default(),
        &trust,
        None,
    )?;
    say("   $ sigtag cosign v1.7.1 --key bob.key");
    let r = verdict_with(style, &repo, &prod, "v1.7.1", &note);
    expect_emergency(&r, true, false)?;
    let r = verdict_with(style, &repo, &prod, "v1.8.0", &note);
    expect(&r, true)?;
    say("   Reviewed: v1.8.0 reaches prod.");

    say("\nEvery environment saw only the tags that carry the signatures it requires.");
    Ok(())
}
