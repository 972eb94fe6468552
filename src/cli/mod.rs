//! The command line: parse arguments, call the library, print, exit.
//!
//! Part of the `sigtag` binary, not of the library. Every verdict comes
//! from a [`Gate`] and is printed by a renderer of [`sigtag::render`].

mod demo;
mod keys;

use clap::{Args, Parser, Subcommand};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sigtag::chain;
use sigtag::error::{Error, Result};
use sigtag::gate::open_repo;
use sigtag::render;
use sigtag::sign::{self, LayerOptions, Signed, SigningKey};
use sigtag::trust::Trust;
use sigtag::verdict::{Gate, Verdict};

#[derive(Parser, Debug)]
#[command(
    name = "sigtag",
    version,
    about = "Promotion gates on OpenPGP-signed git tags",
    long_about = "sigtag signs, co-signs and verifies release tags made of signed layers, \
                  and tells whether a tag carries the signatures an environment requires.\n\
                  Exit status: 0 yes, 1 no, 2 could not run."
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
    /// user.signingkey, else the certificate with git config user.email)
    #[arg(long = "gpg-agent", value_name = "FPR", num_args = 0..=1, default_missing_value = "")]
    gpg_agent: Option<String>,
    /// Sign on an OpenPGP card over PC/SC (PIN from SIGTAG_CARD_PIN or a prompt)
    #[arg(long, value_name = "IDENT", num_args = 0..=1, default_missing_value = "")]
    card: Option<String>,
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
        name: String,
        /// The commit to tag (default: HEAD)
        commit: Option<String>,
        #[command(flatten)]
        signer: SignerArgs,
        /// The keys directory the signing key must belong to [default:
        /// $SIGTAG_KEYS, else ./keys]. Read with --gpg-agent and --card
        /// always, with --key FILE only when --keys or SIGTAG_KEYS names
        /// one; when read, refused if it lies inside the repository's work
        /// tree or git directory, or holds an entry that leads there.
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
        /// The tag message (default: names the tag and the pull request);
        /// control and invisible characters are dropped, and a line that
        /// looks like a trailer sigtag writes is refused
        #[arg(short, long, value_name = "MSG")]
        message: Option<String>,
        /// Tagger identity, "Name <email>" (default: the key's user ID)
        #[arg(long, value_name = "IDENT")]
        tagger: Option<String>,
        #[command(flatten)]
        repo: RepoArg,
        /// Push the tag to this remote (only if the remote does not have it)
        #[arg(long, value_name = "REMOTE")]
        push: Option<String>,
    },
    /// Add a signed layer on top of an existing tag
    Cosign {
        name: String,
        #[command(flatten)]
        signer: SignerArgs,
        /// The message (default: names the tag and the signer); control and
        /// invisible characters are dropped, and a line that looks like a
        /// trailer sigtag writes is refused
        #[arg(short, long, value_name = "MSG")]
        message: Option<String>,
        /// Tagger identity, "Name <email>" (default: the key's user ID)
        #[arg(long, value_name = "IDENT")]
        tagger: Option<String>,
        /// Refuse unless the tag already meets this rule (groups from --keys)
        #[arg(long, value_name = "RULE", conflicts_with = "env")]
        require: Option<String>,
        /// Refuse unless the tag already meets the rule of this environment
        /// of policy.toml
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
        /// Push the tag to this remote, only if nobody changed it there meanwhile
        #[arg(long, value_name = "REMOTE")]
        push: Option<String>,
    },
    /// Tell whether tags carry the signatures an environment requires
    Verify {
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        #[arg(long, value_name = "ENV")]
        env: String,
        #[command(flatten)]
        keys: KeysArg,
        #[command(flatten)]
        repo: RepoArg,
        /// Print a JSON array of reports
        #[arg(long)]
        json: bool,
    },
    /// Explain, layer by layer, what a tag carries and what it lacks
    Explain {
        name: String,
        /// The environment (default: every environment of the policy)
        #[arg(long, value_name = "ENV")]
        env: Option<String>,
        #[command(flatten)]
        keys: KeysArg,
        #[command(flatten)]
        repo: RepoArg,
    },
    /// Report on every tag (exit 0 once it has run)
    List {
        #[arg(long, value_name = "ENV")]
        env: String,
        #[command(flatten)]
        keys: KeysArg,
        #[command(flatten)]
        repo: RepoArg,
        /// Only tags matching this glob
        #[arg(long, value_name = "GLOB")]
        filter: Option<String>,
        #[arg(long)]
        json: bool,
    },
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
}

/// Runs the command line and returns the exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if matches!(
        cli.command,
        Command::Verify { .. } | Command::Explain { .. } | Command::List { .. } | Command::Demo
    ) {
        // These never open a network connection.
        sigtag::remote::skip_ca_bundle();
    }
    match run(cli.command) {
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
    let key = match (&args.key, trust) {
        (Some(path), _) => sign::load_key_file(path)?,
        (None, Some(trust)) => match &args.gpg_agent {
            Some(fpr) => sigtag::token::agent::signing_key(trust, dir, Some(fpr), Some(repo))?,
            None => sigtag::token::card::signing_key(trust, dir, args.card.as_deref())?,
        },
        (None, None) => return Err(Error::usage("pass --key FILE, --gpg-agent or --card")),
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
) -> Result<Vec<Verdict>> {
    let verdicts = Gate::for_environment(trust, env)?.judge_all(repo, names)?;
    if json {
        print_json(&verdicts)?;
    } else {
        print_lines(&verdicts)?;
    }
    Ok(verdicts)
}

fn print_json(verdicts: &[Verdict]) -> Result<()> {
    let text = render::json::array(verdicts).map_err(|e| Error::io(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Error::io(format!("cannot write the report: {e}")))
}

fn print_lines(verdicts: &[Verdict]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for v in verdicts {
        writeln!(out, "{}", render::line::line(v))
            .map_err(|e| Error::io(format!("cannot write the report: {e}")))?;
    }
    Ok(())
}

/// Says what was signed: the layer's number and the commit it vouches
/// for, once all of it is done (a refused push rolls the local tag back,
/// so there is no layer to announce).
fn finish_signing(
    repo: &git2::Repository,
    name: &str,
    signed: Signed,
    push: Option<&str>,
) -> Result<i32> {
    let chain = chain::read(repo, name);
    let commit = chain.commit.clone().unwrap_or_default();
    let layer = match &signed {
        Signed::AlreadySigned { layer } => {
            eprintln!(
                "{name}: this key already signed layer {layer} over commit {commit}; nothing to do"
            );
            return Ok(0);
        }
        Signed::Added { .. } => chain.layers.len(),
    };
    if let Some(remote) = push {
        sign::publish(repo, name, remote, &signed)?;
        eprintln!("{name}: signed layer {layer} over commit {commit} and pushed it to {remote}");
    } else {
        eprintln!("{name}: signed layer {layer} over commit {commit}");
    }
    Ok(0)
}

fn run(command: Command) -> Result<i32> {
    match command {
        Command::Sign {
            name,
            commit,
            signer,
            keys,
            message,
            tagger,
            repo,
            push,
        } => {
            let keys = KeysDir::new(keys.as_deref());
            let message = free_message(message)?;
            let repo = open_repo(&repo.repo)?;
            // The commit first: an ambiguous name stops before any key is
            // unlocked.
            sign::resolve_commit(&repo, commit.as_deref().unwrap_or("HEAD"))?;
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
                &LayerOptions { message, tagger },
            )?;
            finish_signing(&repo, &name, signed, push.as_deref())
        }
        Command::Cosign {
            name,
            signer,
            message,
            tagger,
            require,
            env,
            keys,
            repo,
            push,
        } => {
            // Configuration first: a bad --require, --env, -m or keys
            // directory stops before any key is unlocked or tag is read.
            let keys = KeysDir::new(keys.as_deref());
            let message = free_message(message)?;
            let repo = open_repo(&repo.repo)?;
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
                &LayerOptions { message, tagger },
                &trust,
                rule.as_ref(),
            )?;
            finish_signing(&repo, &name, signed, push.as_deref())
        }
        Command::Verify {
            names,
            env,
            keys,
            repo,
            json,
        } => {
            let (_, repo, trust) = open_with_keys(&keys, &repo)?;
            let verdicts = judge_and_print(&repo, &trust, &env, &names, json)?;
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
            let mut all = true;
            let mut out = std::io::stdout().lock();
            for (i, env) in envs.iter().enumerate() {
                let verdict = Gate::for_environment(&trust, env)?.judge(&repo, &name);
                let text = render::explain::explain(&verdict);
                all &= verdict.satisfied;
                let sep = if i > 0 { "\n" } else { "" };
                write!(out, "{sep}{text}").map_err(|e| Error::io(e.to_string()))?;
            }
            Ok(if all { 0 } else { 1 })
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
            judge_and_print(&repo, &trust, &env, &names, json)?;
            Ok(0)
        }
        Command::Keys(args) => keys::run(args),
        Command::Demo => demo::run().map(|()| 0),
        Command::Card {
            command: CardCommand::List { keys },
        } => card_list(keys.as_deref()),
    }
}
