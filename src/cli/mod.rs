//! The command line: parse arguments, call the library, print, exit.
//!
//! Part of the `sigtag` binary, not of the library. Every verdict comes
//! from a [`Gate`] and is printed by a renderer of [`sigtag::render`], in
//! the [`Style`] that [`style`] chooses for stdout. [`parse`] reads the
//! optional values of `--gpg-agent` and `--card` and turns clap's errors
//! into one line; [`docs`] makes the completions and the manual pages;
//! [`attest`](mod@attest) writes the statements of `sigtag attest`.

mod attest;
mod audit;
mod demo;
mod docs;
mod keys;
mod parse;
mod style;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sigtag::chain;
use sigtag::error::{Error, Result};
use sigtag::gate::open_repo;
use sigtag::render::{self, Style};
use sigtag::sign::{self, LayerOptions, Signed, SigningKey};
use sigtag::trust::Trust;
use sigtag::verdict::{Gate, Verdict};

/// `sigtag --version`: the version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SIGTAG_BUILD_COMMIT"),
    ")"
);

const LONG_ABOUT: &str = "\
sigtag signs, co-signs and verifies release tags, and tells whether a tag \
carries the signatures an environment requires before it is deployed there.

A tag is a chain of signed layers. `sign` makes the first: an annotated tag \
on the commit, signed by one key. Each `cosign` adds a layer on top, an \
annotated tag of the previous layer signed by another key (what \
`git tag -s -f NAME NAME` makes), so every layer vouches for the same commit \
and plain git and gpg can take part.

The trust root is a keys directory (--keys DIR, default $SIGTAG_KEYS, else \
./keys), which must lie outside the repository: per signer a NAME.asc file of \
public OpenPGP certificates and/or a NAME.pub file of OpenSSH public keys, and \
policy.toml, whose [groups] list signers and \
whose [environments.ENV] each have a `require` rule, such as \
\"2 of humans and 1 of pipelines\" (N of GROUP, and, or, parentheses).";

const AFTER_HELP: &str = "\
Exit status: 0 yes, 1 no (a verdict), 2 could not run. More: sigtag --help";

const AFTER_LONG_HELP: &str = "\
Exit status: 0 yes (or done), 1 no (a verdict, or a co-signature the rules \
refuse), 2 could not run (usage, configuration, repository, I/O). Errors are \
one line on stderr starting with \"sigtag: \".

Examples:
  sigtag sign v1.4.0 --key ~/alice.key --push origin
  sigtag cosign v1.4.0 --gpg-agent --env staging --push origin
  sigtag cosign v1.4.0 --ssh-agent --env staging --push origin
  sigtag verify v1.4.0 --env prod --keys ../release-config/keys
  sigtag list --env prod --filter 'v1.*'
  sigtag attest v1.4.0 --env prod --key ~/verifier.key -o dist/v1.4.0.intoto.json

Documentation: README.md (commands, the keys directory, the JSON report, \
attestations), docs/hardware-tokens.md (YubiKeys and OpenPGP cards), \
docs/security.md (the threat model), resource/README.md (the Concourse \
resource); `make man` writes the manual pages to target/man.";

#[derive(Parser, Debug)]
#[command(
    name = "sigtag",
    version = VERSION,
    propagate_version = true,
    about = "Promotion gates on signed git tags (OpenPGP and SSH)",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    after_long_help = AFTER_LONG_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug)]
#[group(required = true, multiple = false)]
struct SignerArgs {
    /// Armored secret key file (passphrase from SIGTAG_PASSPHRASE or a prompt)
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Sign through a running gpg-agent (default key: git config
    /// user.signingkey, else the certificate with git config user.email).
    /// FPR may follow after a space when it is a fingerprint, key ID or
    /// email address; write --gpg-agent=FPR for a user ID
    #[arg(
        long = "gpg-agent",
        value_name = "FPR",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    gpg_agent: Option<String>,
    /// Sign on an OpenPGP card over PC/SC (PIN from SIGTAG_CARD_PIN or a
    /// prompt; default: the only card present). IDENT as `sigtag card list`
    /// shows it, MANUFACTURER:SERIAL, may follow after a space; write
    /// --card=SERIAL for the serial alone
    #[arg(
        long,
        value_name = "IDENT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    card: Option<String>,
    /// OpenSSH private key file (passphrase from SIGTAG_PASSPHRASE or a
    /// prompt); a FIDO (-sk) key's file cannot sign: use --ssh-agent
    #[arg(long = "ssh-key", value_name = "FILE")]
    ssh_key: Option<PathBuf>,
    /// Sign through the ssh-agent at SSH_AUTH_SOCK (default: the only key
    /// it holds of a signer of the keys directory). KEY, a fingerprint
    /// SHA256:... or a .pub file, may follow after a space; a FIDO key
    /// asks for a touch
    #[arg(
        long = "ssh-agent",
        value_name = "KEY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    ssh_agent: Option<String>,
}

#[derive(Subcommand, Debug)]
enum CardCommand {
    /// List OpenPGP cards: ident, cardholder, signing key, and its signer
    List {
        /// The keys directory that names each card's signer [default:
        /// $SIGTAG_KEYS, else ./keys if it exists]. No repository is
        /// involved, so where it lies is not checked.
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
struct RepoArg {
    /// The repository (a bare one works too)
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
}

#[derive(Args, Debug)]
struct KeysArg {
    /// The keys directory, certificates and policy.toml [default:
    /// $SIGTAG_KEYS, else ./keys]. Refused before it is read if it lies
    /// inside the repository's work tree or git directory, or holds an entry
    /// that leads there (symbolic links followed).
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
}

/// Where a keys directory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeysFrom {
    Flag,
    Env,
    Default,
}

/// The keys directory a command uses: --keys, else SIGTAG_KEYS, else ./keys.
struct KeysDir {
    path: PathBuf,
    from: KeysFrom,
}

impl KeysDir {
    fn new(flag: Option<&Path>) -> KeysDir {
        if let Some(p) = flag {
            return KeysDir {
                path: p.to_path_buf(),
                from: KeysFrom::Flag,
            };
        }
        match std::env::var_os("SIGTAG_KEYS") {
            Some(v) if !v.is_empty() => KeysDir {
                path: PathBuf::from(v),
                from: KeysFrom::Env,
            },
            _ => KeysDir {
                path: PathBuf::from("keys"),
                from: KeysFrom::Default,
            },
        }
    }

    /// How the directory was named, for messages.
    fn shown(&self) -> String {
        match self.from {
            KeysFrom::Flag => self.path.display().to_string(),
            KeysFrom::Env => format!("{} (from SIGTAG_KEYS)", self.path.display()),
            KeysFrom::Default => "./keys".to_string(),
        }
    }

    /// Loads the trust root, refused first if it lies inside `repo`.
    fn load_for(&self, repo: &git2::Repository) -> Result<Trust> {
        sigtag::gate::keys_outside_repo(&self.path, &self.shown(), repo)?;
        Trust::load_dir(&self.path)
    }
}

/// `-m MSG`: free text, refused if it fakes a line sigtag writes.
fn free_message(message: Option<String>) -> Result<Option<String>> {
    message
        .map(|m| sigtag::message::free_text(&m).map_err(|e| Error::usage(format!("-m: {e}"))))
        .transpose()
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make the first signed layer of a new tag
    Sign {
        /// The tag to make, refs/tags/NAME (refused if it exists)
        name: String,
        /// The commit to tag (default: HEAD)
        commit: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
        /// The keys directory the signing key must belong to [default:
        /// $SIGTAG_KEYS, else ./keys]. Read with --gpg-agent, --card,
        /// --ssh-key and --ssh-agent always, with --key FILE only when
        /// --keys or SIGTAG_KEYS names one; when read, refused if it lies inside the repository's work
        /// tree or git directory, or holds an entry that leads there.
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
        /// The tag message (default: names the tag and the pull request);
        /// control and invisible characters are dropped, and a line that
        /// looks like a trailer sigtag writes is refused
        #[arg(short, long, value_name = "MSG")]
        message: Option<String>,
        /// Tagger identity, "Name <email>" (default: the OpenPGP key's
        /// user ID; for an SSH key, git config user.name and user.email)
        #[arg(long, value_name = "IDENT")]
        tagger: Option<String>,
        /// Record the transition this signature vouches was tested: REV is
        /// the commit the environment ran before this tag (a commit, a tag
        /// or another name, resolved like COMMIT and peeled to its commit),
        /// or none; written as the message's last line,
        /// "Sigtag-Tested-From: <commit>" or "Sigtag-Tested-From: none"
        #[arg(long = "tested-from", value_name = "REV")]
        tested_from: Option<String>,
        #[command(flatten)]
        repo: RepoArg,
        /// Push the tag to this remote, only if the remote does not have it;
        /// a remote that is not configured stops before signing, and a push
        /// that fails deletes the new tag again
        #[arg(long, value_name = "REMOTE")]
        push: Option<String>,
    },
    /// Add a signed layer on top of an existing tag
    Cosign {
        /// The tag to co-sign, refs/tags/NAME (the ref moves to the new layer)
        name: String,
        #[command(flatten)]
        signer: SignerArgs,
        /// The message (default: names the tag and the signer); control and
        /// invisible characters are dropped, and a line that looks like a
        /// trailer sigtag writes is refused
        #[arg(short, long, value_name = "MSG")]
        message: Option<String>,
        /// Tagger identity, "Name <email>" (default: the OpenPGP key's
        /// user ID; for an SSH key, git config user.name and user.email)
        #[arg(long, value_name = "IDENT")]
        tagger: Option<String>,
        /// Record the transition this co-signature vouches was tested: REV
        /// is the commit the environment ran before this tag (a commit, a
        /// tag or another name, resolved like sign's COMMIT and peeled to
        /// its commit), or none; written as the message's last line,
        /// "Sigtag-Tested-From: <commit>" or "Sigtag-Tested-From: none"
        #[arg(long = "tested-from", value_name = "REV")]
        tested_from: Option<String>,
        /// Refuse unless the tag already meets this rule (groups from --keys)
        #[arg(long, value_name = "RULE", conflicts_with = "env")]
        require: Option<String>,
        /// Refuse unless the tag already meets the require rule of this
        /// environment of policy.toml (as --require with that rule)
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        /// The trust root [default: $SIGTAG_KEYS, else ./keys], always read:
        /// the tag must already carry a signature that counts for one of its
        /// signers, and the signing key must belong to one. Refused if it
        /// lies inside the repository's work tree or git directory, or holds
        /// an entry that leads there.
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
        #[command(flatten)]
        repo: RepoArg,
        /// Push the tag to this remote, only if nobody changed it there
        /// meanwhile; a remote that is not configured stops before signing,
        /// and a push that fails puts the local tag back where it was
        #[arg(long, value_name = "REMOTE")]
        push: Option<String>,
    },
    /// Tell whether tags carry the signatures an environment requires
    Verify {
        /// The tags to judge, one report each in this order (a missing tag
        /// is a no)
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        /// The environment of policy.toml whose require rule judges them
        #[arg(long, value_name = "ENV")]
        env: String,
        #[command(flatten)]
        keys: KeysArg,
        #[command(flatten)]
        repo: RepoArg,
        /// Print a JSON array of reports (README.md, "JSON") instead of a
        /// line per tag
        #[arg(long)]
        json: bool,
    },
    /// Explain, layer by layer, what a tag carries and what it lacks
    Explain {
        /// The tag to explain
        name: String,
        /// The environment (default: every environment of the policy)
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        #[command(flatten)]
        keys: KeysArg,
        #[command(flatten)]
        repo: RepoArg,
        /// Print a JSON array with the report of each environment, as verify
        /// --json prints it, plus "tree": the rule as evaluated, each node
        /// with its rule text, whether it holds, who counted, its parts
        #[arg(long)]
        json: bool,
    },
    /// Report on every tag, versions in version order (exit 0 once it has run)
    List {
        /// The environment of policy.toml whose require rule judges them
        #[arg(long, value_name = "ENV")]
        env: String,
        #[command(flatten)]
        keys: KeysArg,
        #[command(flatten)]
        repo: RepoArg,
        /// Only tags matching this glob ('*' and '?'; quote it: 'v1.*')
        #[arg(long, value_name = "GLOB")]
        filter: Option<String>,
        /// Print a JSON array of reports (README.md, "JSON") instead of a
        /// line per tag
        #[arg(long)]
        json: bool,
    },
    /// Every promotion of an environment as evidence: who approved each,
    /// when, what it changed (text, json, csv or html)
    Audit(audit::AuditArgs),
    /// Write a tag's verdict as an in-toto statement (a SLSA verification
    /// summary), signed in a DSSE envelope with --key
    Attest(attest::AttestArgs),
    /// The trust root's health: every signer, its keys, and what to fix;
    /// `keys source` prints the resource's source fragment
    Keys(keys::KeysArgs),
    /// Walk through the whole story on generated keys and a throw-away repository
    Demo,
    /// OpenPGP cards (YubiKeys and others) reachable over PC/SC
    Card {
        #[command(subcommand)]
        command: CardCommand,
    },
    /// Print a shell completion script: source <(sigtag completions bash)
    Completions {
        /// The shell to complete for
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the manual page sigtag(1), or write a page per command
    #[command(hide = true)]
    Man {
        /// Write sigtag.1 and sigtag-COMMAND.1 here instead
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// Runs the command line and returns the exit status.
pub fn main() -> i32 {
    let args = parse::normalize(std::env::args_os());
    let cmd = Cli::command();
    let parsed = cmd
        .clone()
        .try_get_matches_from(&args.args)
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
    let cli = match parsed {
        Ok(cli) => cli,
        // --help and --version.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return 0;
        }
        Err(e) => {
            eprintln!("{}", parse::usage_error(&e, &args, &cmd));
            return 2;
        }
    };
    if matches!(
        cli.command,
        Command::Verify { .. }
            | Command::Explain { .. }
            | Command::List { .. }
            | Command::Audit(_)
            | Command::Attest(_)
            | Command::Demo
            | Command::Completions { .. }
            | Command::Man { .. }
    ) {
        // These never open a network connection.
        sigtag::remote::skip_ca_bundle();
    }
    match run(cli.command, &args, style::for_stdout()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sigtag: {e}");
            e.exit_code()
        }
    }
}

/// The key that signs, refused unless the keys directory counts it.
/// `trust` is the trust root already loaded from `keys`, if the command
/// reads one; a token key needs it, since its certificate comes from there.
fn signing_key(
    args: &SignerArgs,
    keys: &KeysDir,
    trust: Option<&Trust>,
    repo: &git2::Repository,
) -> Result<SigningKey> {
    let dir = keys.path.as_path();
    let ident = || sign::ssh::ident_from_config(repo);
    let key = match (&args.key, trust) {
        (Some(path), _) => sign::load_key_file(path)?,
        (None, Some(trust)) => {
            if let Some(path) = &args.ssh_key {
                SigningKey::Ssh(sign::ssh::load_key_file(path)?.with_ident(ident()))
            } else if let Some(choice) = &args.ssh_agent {
                let key = sigtag::token::ssh_agent::signing_key(trust, dir, Some(choice))?;
                SigningKey::Ssh(key.with_ident(ident()))
            } else if let Some(fpr) = &args.gpg_agent {
                sigtag::token::agent::signing_key(trust, dir, Some(fpr), Some(repo))?
            } else {
                sigtag::token::card::signing_key(trust, dir, args.card.as_deref())?
            }
        }
        (None, None) => {
            return Err(Error::usage(
                "pass --key FILE, --gpg-agent, --card, --ssh-key FILE or --ssh-agent",
            ))
        }
    };
    if let Some(trust) = trust {
        sigtag::token::check_counts(trust, dir, &key)?;
    }
    Ok(key)
}

fn card_list(keys: Option<&Path>) -> Result<i32> {
    let keys = KeysDir::new(keys);
    let dir = keys.path.as_path();
    // The default ./keys is optional here; one named is not.
    let trust = if keys.from != KeysFrom::Default || dir.is_dir() {
        Some(Trust::load_dir(dir)?)
    } else {
        None
    };
    let cards = sigtag::token::card::list(trust.as_ref())?;
    let mut out = std::io::stdout().lock();
    let w = |out: &mut std::io::StdoutLock, line: String| {
        writeln!(out, "{line}").map_err(|e| Error::io(format!("cannot write the list: {e}")))
    };
    if cards.is_empty() {
        eprintln!("no OpenPGP card found");
    }
    for c in cards {
        let holder = if c.cardholder.is_empty() {
            "(no cardholder name)".to_string()
        } else {
            c.cardholder.clone()
        };
        let key = match &c.signing {
            Some(f) => format!("signing key {}", f.to_hex()),
            None => "no signing key".to_string(),
        };
        let signer = match (&c.signing, &c.signer, &trust) {
            (None, _, _) => String::new(),
            (Some(_), Some(name), _) => format!(", signer {name}"),
            (Some(_), None, Some(_)) => format!(", not in {}", dir.display()),
            (Some(_), None, None) => ", no keys directory".to_string(),
        };
        let touch = if c.touch { ", touch required" } else { "" };
        w(
            &mut out,
            format!(
                "{}  {holder}  {key}{signer}{touch}, {} PIN tries left",
                c.ident, c.pin_tries
            ),
        )?;
    }
    Ok(0)
}

/// The repository and the trust root that judges it: the keys directory
/// (refused when it lies inside the repository) and its policy.
fn open_with_keys(keys: &KeysArg, repo: &RepoArg) -> Result<(KeysDir, git2::Repository, Trust)> {
    let keys = KeysDir::new(keys.keys.as_deref());
    let repo = open_repo(&repo.repo)?;
    let trust = keys.load_for(&repo)?;
    Ok((keys, repo, trust))
}

/// Judges `names` for `env` and prints the verdicts, as JSON or a line each.
fn judge_and_print(
    repo: &git2::Repository,
    trust: &Trust,
    env: &str,
    names: &[String],
    json: bool,
    style: Style,
) -> Result<Vec<Verdict>> {
    let verdicts = Gate::for_environment(trust, env)?.judge_all(repo, names)?;
    if json {
        print_json(render::json::array(&verdicts))?;
    } else {
        print_lines(&verdicts, style)?;
    }
    Ok(verdicts)
}

fn print_json(text: serde_json::Result<String>) -> Result<()> {
    let text = text.map_err(|e| Error::io(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Error::io(format!("cannot write the report: {e}")))
}

fn print_lines(verdicts: &[Verdict], style: Style) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for v in verdicts {
        writeln!(out, "{}", style.line(v))
            .map_err(|e| Error::io(format!("cannot write the report: {e}")))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same
/// directory, renamed into place; on any error nothing is left behind
/// (`-o FILE` of `audit` and `attest`).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let shown = path.display();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("-o {shown} names no file; give a file name")))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| {
            Error::io(format!(
                "cannot write {shown}: {e}; -o needs an existing directory you can write to"
            ))
        })?;
    let io = |e: std::io::Error| Error::io(format!("cannot write {shown}: {e}"));
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Says what was signed: the layer's number and the commit it vouches
/// for, once all of it is done (a refused push rolls the local tag back,
/// so there is no layer to announce).
/// With `tested_from`, the line names the transition the layer records,
/// or, when the key had signed already, that none was added.
fn finish_signing(
    repo: &git2::Repository,
    name: &str,
    signed: Signed,
    push: Option<&str>,
    tested_from: Option<&sign::TestedFrom>,
) -> Result<i32> {
    let chain = chain::read(repo, name);
    let commit = chain.commit.clone().unwrap_or_default();
    let layer = match &signed {
        Signed::AlreadySigned { layer } => {
            let note = match tested_from {
                Some(t) => format!(", recording {}", t.trailer()),
                None => String::new(),
            };
            eprintln!(
                "{name}: this key already signed layer {layer} over commit {commit}{note}; nothing to do"
            );
            return Ok(0);
        }
        Signed::Added { .. } => chain.layers.len(),
    };
    let records = match tested_from {
        Some(t) => format!(", recording {}", t.trailer()),
        None => String::new(),
    };
    if let Some(remote) = push {
        sign::publish(repo, name, remote, &signed)?;
        eprintln!(
            "{name}: signed layer {layer} over commit {commit}{records} and pushed it to {remote}"
        );
    } else {
        eprintln!("{name}: signed layer {layer} over commit {commit}{records}");
    }
    Ok(0)
}

/// A word left after a bare `--gpg-agent` or `--card` and taken as the
/// commit: when it names none, say how to give it to the flag instead.
fn commit_hint(args: &parse::Args, commit: Option<&str>, e: Error) -> Error {
    match commit.and_then(|c| args.left(c)) {
        Some(w) => Error::new(e.kind(), format!("{e} ({})", parse::value_hint(w))),
        None => e,
    }
}

fn run(command: Command, args: &parse::Args, style: Style) -> Result<i32> {
    match command {
        Command::Sign {
            name,
            commit,
            signer,
            keys,
            message,
            tagger,
            tested_from,
            repo,
            push,
        } => {
            let keys = KeysDir::new(keys.as_deref());
            let message = free_message(message)?;
            let repo = open_repo(&repo.repo)?;
            // The commits and the remote first: an ambiguous name or a
            // remote that is not there stops before any key is unlocked.
            sign::resolve_commit(&repo, commit.as_deref().unwrap_or("HEAD"))
                .map_err(|e| commit_hint(args, commit.as_deref(), e))?;
            let tested_from = tested_from
                .map(|rev| sign::resolve_tested_from(&repo, &rev, &name))
                .transpose()?;
            if let Some(remote) = &push {
                sign::publish::check_remote(&repo, remote)?;
            }
            let trust = if keys.from != KeysFrom::Default || signer.key.is_none() {
                Some(keys.load_for(&repo)?)
            } else {
                None
            };
            let mut key = signing_key(&signer, &keys, trust.as_ref(), &repo)?;
            let signed = sign::sign(
                &repo,
                &name,
                commit.as_deref(),
                &mut key,
                &LayerOptions {
                    message,
                    tagger,
                    tested_from,
                    ..LayerOptions::default()
                },
            )?;
            finish_signing(&repo, &name, signed, push.as_deref(), tested_from.as_ref())
        }
        Command::Cosign {
            name,
            signer,
            message,
            tagger,
            tested_from,
            require,
            env,
            keys,
            repo,
            push,
        } => {
            // Configuration first: a bad --require, --env, -m,
            // --tested-from or keys directory stops before any key is
            // unlocked or tag is read.
            let keys = KeysDir::new(keys.as_deref());
            let message = free_message(message)?;
            let repo = open_repo(&repo.repo)?;
            let tested_from = tested_from
                .map(|rev| sign::resolve_tested_from(&repo, &rev, &name))
                .transpose()?;
            if let Some(remote) = &push {
                sign::publish::check_remote(&repo, remote)?;
            }
            let trust = keys.load_for(&repo)?;
            let rule = match (&require, &env) {
                (Some(text), _) => Some(trust.parse_rule(text, "--require")?),
                (None, Some(env)) => Some(trust.rule_for(env)?.clone()),
                (None, None) => None,
            };
            let mut key = signing_key(&signer, &keys, Some(&trust), &repo)?;
            let signed = sign::cosign(
                &repo,
                &name,
                &mut key,
                &LayerOptions {
                    message,
                    tagger,
                    tested_from,
                    ..LayerOptions::default()
                },
                &trust,
                rule.as_ref(),
            )?;
            finish_signing(&repo, &name, signed, push.as_deref(), tested_from.as_ref())
        }
        Command::Verify {
            names,
            env,
            keys,
            repo,
            json,
        } => {
            let (_, repo, trust) = open_with_keys(&keys, &repo)?;
            let verdicts = judge_and_print(&repo, &trust, &env, &names, json, style)?;
            Ok(if verdicts.iter().all(|v| v.satisfied) {
                0
            } else {
                1
            })
        }
        Command::Explain {
            name,
            env,
            keys,
            repo,
            json,
        } => {
            let (keys, repo, trust) = open_with_keys(&keys, &repo)?;
            let envs: Vec<String> = match env {
                Some(e) => {
                    trust.rule_for(&e)?;
                    vec![e]
                }
                None => trust.environments().map(|(e, _)| e.to_string()).collect(),
            };
            if envs.is_empty() {
                return Err(Error::config(format!(
                    "{}: defines no environment; add [environments.NAME] with a require rule",
                    keys.path.join("policy.toml").display()
                )));
            }
            let verdicts = envs
                .iter()
                .map(|env| Ok(Gate::for_environment(&trust, env)?.judge(&repo, &name)))
                .collect::<Result<Vec<Verdict>>>()?;
            if json {
                print_json(render::json::explained_array(&verdicts))?;
            } else {
                let mut out = std::io::stdout().lock();
                for (i, verdict) in verdicts.iter().enumerate() {
                    let text = render::explain::explain_styled(verdict, style);
                    let sep = if i > 0 { "\n" } else { "" };
                    write!(out, "{sep}{text}").map_err(|e| Error::io(e.to_string()))?;
                }
            }
            Ok(if verdicts.iter().all(|v| v.satisfied) {
                0
            } else {
                1
            })
        }
        Command::List {
            env,
            keys,
            repo,
            filter,
            json,
        } => {
            let (_, repo, trust) = open_with_keys(&keys, &repo)?;
            // The environment is checked before any tag is listed.
            Gate::for_environment(&trust, &env)?;
            let names: Vec<String> = chain::tag_names(&repo)?
                .into_iter()
                .filter(|n| {
                    filter
                        .as_deref()
                        .is_none_or(|f| sigtag::glob::matches(f, n))
                })
                .collect();
            judge_and_print(&repo, &trust, &env, &names, json, style)?;
            Ok(0)
        }
        Command::Audit(args) => audit::run(args, VERSION),
        Command::Attest(args) => attest::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Demo => demo::run(style).map(|()| 0),
        Command::Card {
            command: CardCommand::List { keys },
        } => card_list(keys.as_deref()),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { out_dir } => docs::man(out_dir.as_deref()),
    }
}
