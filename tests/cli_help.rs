//! The command line teaches the model: every argument has a description,
//! the top-level help explains tags, the keys directory and exit statuses,
//! `--version` names the commit, and the completion scripts and manual
//! pages come from the same definition.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sigtag");

/// The commands `sigtag --help` lists (clap's `help` aside).
const COMMANDS: [&str; 9] = [
    "sign",
    "cosign",
    "verify",
    "explain",
    "list",
    "attest",
    "demo",
    "card",
    "completions",
];

fn sigtag(args: &[&str]) -> Run {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("LC_ALL", "C")
        .env_remove("SIGTAG_KEYS")
        .current_dir(std::env::temp_dir());
    Ctx::run_cmd(cmd)
}

fn ok_out(args: &[&str]) -> String {
    let run = sigtag(args);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, ""),
        "sigtag {args:?}: {run:?}"
    );
    run.stdout
}

/// The entries of the "Arguments:" and "Options:" sections of `-h`, each
/// as (name, description).
fn entries(help: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line == "Arguments:" || line == "Options:" {
            inside = true;
        } else if !line.starts_with("  ") {
            inside = false;
        } else if inside {
            let entry = line.trim_start();
            let (name, text) = match entry.find("  ") {
                Some(i) => (&entry[..i], entry[i..].trim()),
                None => (entry, ""),
            };
            out.push((name.to_string(), text.to_string()));
        }
    }
    out
}

#[test]
fn every_argument_and_option_has_a_description() {
    let mut commands: Vec<Vec<&str>> = COMMANDS.iter().map(|c| vec![*c]).collect();
    commands.push(vec!["card", "list"]);
    commands.push(vec!["man"]);
    commands.push(vec![]);
    for cmd in commands {
        let mut args = cmd.clone();
        args.push("-h");
        let help = ok_out(&args);
        let found = entries(&help);
        assert!(
            found.iter().any(|(n, _)| n.contains("--help")),
            "sigtag {cmd:?} -h lists no options: {help}"
        );
        for (name, text) in &found {
            assert!(
                !text.is_empty(),
                "sigtag {cmd:?} -h: {name} has no description:\n{help}"
            );
        }
    }
    // The ones that had none.
    let sign = ok_out(&["sign", "-h"]);
    assert!(
        sign.contains("  <NAME>    The tag to make, refs/tags/NAME"),
        "{sign}"
    );
    let verify = ok_out(&["verify", "-h"]);
    for part in [
        "  <NAME>...  The tags to judge, one report each in this order",
        "      --env <ENV>   The environment of policy.toml whose require rule judges them",
        "      --json        Print a JSON array of reports",
    ] {
        assert!(verify.contains(part), "{part:?} in {verify}");
    }
    let list = ok_out(&["list", "-h"]);
    assert!(
        list.contains("--filter <GLOB>  Only tags matching this glob"),
        "{list}"
    );
}

#[test]
fn the_top_level_help_names_the_model() {
    let help = ok_out(&["--help"]);
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "A tag is a chain of signed layers.",
        "`git tag -s -f NAME NAME`",
        "per signer a NAME.asc file of public OpenPGP certificates and/or a NAME.pub file of \
         OpenSSH public keys, and policy.toml, whose [groups] list signers and whose \
         [environments.ENV] each have a `require` rule",
        "Exit status: 0 yes (or done), 1 no (a verdict, or a co-signature the rules refuse), \
         2 could not run",
        "sigtag sign v1.4.0 --key ~/alice.key --push origin",
        "sigtag cosign v1.4.0 --gpg-agent --env staging --push origin",
        "sigtag verify v1.4.0 --env prod --keys ../release-config/keys",
        "sigtag list --env prod --filter 'v1.*'",
        "sigtag attest v1.4.0 --env prod --key ~/verifier.key -o dist/v1.4.0.intoto.json",
        "Documentation: README.md",
        "docs/hardware-tokens.md",
        "docs/security.md",
    ] {
        assert!(flat.contains(part), "{part:?} in {help}");
    }
    // -h is the short form and points at --help.
    let short = ok_out(&["-h"]);
    assert!(
        short
            .contains("Exit status: 0 yes, 1 no (a verdict), 2 could not run. More: sigtag --help"),
        "{short}"
    );
    // cosign --env: the environment's rule, like --require.
    let cosign = ok_out(&["cosign", "-h"]);
    assert!(
        cosign.contains(
            "--env <ENV>          Refuse unless the tag already meets the require rule of \
             this environment of policy.toml (as --require with that rule)"
        ),
        "{cosign}"
    );
    assert!(cosign.contains("--gpg-agent[=<FPR>]"), "{cosign}");
    // SSH keys sign too, as a file or through ssh-agent.
    for help in [&cosign, &ok_out(&["sign", "-h"])] {
        assert!(help.contains("--ssh-key <FILE>"), "{help}");
        assert!(help.contains("--ssh-agent[=<KEY>]"), "{help}");
    }
}

fn git_in(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new(GIT)
        .current_dir(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let out = ok_out(&["--version"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let head = git_in(dir, &["rev-parse", "--show-toplevel"])
        .filter(|top| Path::new(top).canonicalize().ok() == dir.canonicalize().ok())
        .and_then(|_| git_in(dir, &["rev-parse", "--short=12", "HEAD"]));
    let version = env!("CARGO_PKG_VERSION");
    match head {
        Some(head) => {
            let clean = format!("sigtag {version} (commit {head})\n");
            let dirty = format!("sigtag {version} (commit {head}-dirty)\n");
            assert!(out == clean || out == dirty, "{out:?}: expected {clean:?}");
        }
        None => assert_eq!(out, format!("sigtag {version} (unknown commit)\n")),
    }
    assert_eq!(ok_out(&["-V"]), out);
    assert_eq!(ok_out(&["help"]), ok_out(&["--help"]));
}

#[test]
fn bash_completion_loads_and_the_others_name_the_commands() {
    let script = format!("source <('{BIN}' completions bash) && complete -p sigtag");
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.starts_with("complete ")
            && line.contains(" -F _sigtag ")
            && line.trim_end().ends_with(" sigtag"),
        "{line:?}"
    );
    let bash = ok_out(&["completions", "bash"]);
    for shell in ["zsh", "fish"] {
        let text = ok_out(&["completions", shell]);
        assert!(!text.trim().is_empty(), "{shell}");
        for c in COMMANDS {
            assert!(text.contains(c), "{shell} completion lacks {c}");
            assert!(bash.contains(c), "bash completion lacks {c}");
        }
    }
    let fish = ok_out(&["completions", "fish"]);
    assert!(
        fish.contains("-a \"cosign\" -d 'Add a signed layer on top of an existing tag'"),
        "{fish}"
    );
}

#[test]
fn the_manual_pages_name_every_command() {
    let (_dir, root) = process::test_dir("man");
    let out = root.join("man");
    let run = sigtag(&["man", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("wrote the manual pages to {}\n", out.display())
    );
    let page = std::fs::read_to_string(out.join("sigtag.1")).unwrap();
    // Only the definition of the apostrophe string comes before the title.
    let (before, title) = page.split_once(".TH ").unwrap();
    assert_eq!(before, ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n", "{page}");
    assert!(title.starts_with("sigtag 1 "), "{page}");
    for c in COMMANDS {
        assert!(
            page.contains(&format!("sigtag\\-{c}(1)")),
            "sigtag.1 names {c}"
        );
        let sub = std::fs::read_to_string(out.join(format!("sigtag-{c}.1")))
            .unwrap_or_else(|e| panic!("sigtag-{c}.1: {e}"));
        let title = format!(
            "\n.TH sigtag-{c} 1  \"sigtag {} (",
            env!("CARGO_PKG_VERSION")
        );
        assert!(sub.contains(&title), "{title:?} in {sub}");
    }
    assert!(out.join("sigtag-card-list.1").exists());
    assert!(
        !out.join("sigtag-man.1").exists(),
        "the hidden command has no page"
    );
    for part in ["chain of signed layers", "policy.toml", "Exit status"] {
        assert!(page.contains(part), "{part:?} in sigtag.1");
    }
    assert_eq!(ok_out(&["man"]), page, "sigtag man prints sigtag.1");

    // Where man(1) is installed, the page renders.
    if Command::new("man").arg("--version").output().is_ok() {
        let shown = Command::new("man")
            .arg("-l")
            .arg(out.join("sigtag.1"))
            .env("MANWIDTH", "100")
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.status.success(), "{shown:?}");
        assert!(
            text.contains("A tag is a chain of signed layers."),
            "{text}"
        );
        for c in COMMANDS {
            assert!(text.contains(&format!("sigtag-{c}(1)")), "{c} in {text}");
        }
    }
}
