//! The command line: parse arguments, call the library, print, exit.

use crate::error::{Error, Result};
use crate::gate::{open_repo, Gate};
use crate::report::{self, Report};
use crate::sign::{self, LayerOptions, Signed, SigningKey};
use crate::trust::Trust;
use crate::{chain, verify};
use clap::{Args, Parser, Subcommand};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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

/// The keys directory of a signing command: the signing key must belong
/// to one of its signers. Always used by --gpg-agent and --card (default
/// ./keys); with --key FILE only when given.
#[derive(Args, Debug)]
struct SignKeysArg {
    /// The keys directory the signing key must be in [default: keys]
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum CardCommand {
    /// List OpenPGP cards: ident, cardholder, signing key, and its signer
    List {
        /// The keys directory that names the signers [default: keys]
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
    /// The keys directory: certificates and policy.toml
    #[arg(long, value_name = "DIR", default_value = "keys")]
    keys: PathBuf,
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
        #[command(flatten)]
        keys: SignKeysArg,
        /// The tag message (default: names the tag and the pull request)
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
        #[arg(short, long, value_name = "MSG")]
        message: Option<String>,
        #[arg(long, value_name = "IDENT")]
        tagger: Option<String>,
        /// Refuse unless the tag already meets this rule (groups from --keys)
        #[arg(long, value_name = "RULE")]
        require: Option<String>,
        #[command(flatten)]
        keys: SignKeysArg,
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
        crate::remote::skip_ca_bundle();
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
/// `keys` is --keys; `loaded` a trust root already loaded from it (or
/// from ./keys, for --require). A key file is checked only against a keys
/// directory given or loaded; a token key always is, since its certificate
/// comes from there.
fn signing_key(
    args: &SignerArgs,
    keys: Option<&Path>,
    loaded: Option<&Trust>,
    repo: &git2::Repository,
) -> Result<SigningKey> {
    let dir = keys.unwrap_or(Path::new("keys"));
    let owned;
    let trust = match loaded {
        Some(t) => Some(t),
        None if keys.is_some() || args.key.is_none() => {
            owned = Trust::load_dir(dir)?;
            Some(&owned)
        }
        None => None,
    };
    let key = match (&args.key, trust) {
        (Some(path), _) => sign::load_key_file(path)?,
        (None, Some(trust)) => match &args.gpg_agent {
            Some(fpr) => crate::token::agent::signing_key(trust, dir, Some(fpr), Some(repo))?,
            None => crate::token::card::signing_key(trust, dir, args.card.as_deref())?,
        },
        (None, None) => return Err(Error::usage("pass --key FILE, --gpg-agent or --card")),
    };
    if let Some(trust) = trust {
        crate::token::check_counts(trust, dir, &key)?;
    }
    Ok(key)
}

fn card_list(keys: Option<&Path>) -> Result<i32> {
    let dir = keys.unwrap_or(Path::new("keys"));
    // The default ./keys is optional here; one named with --keys is not.
    let trust = if keys.is_some() || dir.is_dir() {
        Some(Trust::load_dir(dir)?)
    } else {
        None
    };
    let cards = crate::token::card::list(trust.as_ref())?;
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

fn print_json(reports: &[Report]) -> Result<()> {
    let text = serde_json::to_string_pretty(reports).map_err(|e| Error::io(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(|e| Error::io(format!("cannot write the report: {e}")))
}

fn print_lines(reports: &[Report]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    for r in reports {
        writeln!(out, "{}", r.line())
            .map_err(|e| Error::io(format!("cannot write the report: {e}")))?;
    }
    Ok(())
}

fn finish_signing(
    repo: &git2::Repository,
    name: &str,
    signed: Signed,
    push: Option<&str>,
) -> Result<i32> {
    let layer = match &signed {
        Signed::AlreadySigned { layer } => {
            eprintln!("{name}: this key already signed layer {layer}; nothing to do");
            return Ok(0);
        }
        Signed::Added { layer, .. } => *layer,
    };
    // Say what was done only once all of it is done: a refused push rolls
    // the local tag back, so there is no layer to announce.
    if let Some(remote) = push {
        sign::publish(repo, name, remote, &signed)?;
        eprintln!("{name}: signed layer {layer} and pushed it to {remote}");
    } else {
        eprintln!("{name}: signed layer {layer}");
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
            let repo = open_repo(&repo.repo)?;
            let mut key = signing_key(&signer, keys.keys.as_deref(), None, &repo)?;
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
            keys,
            repo,
            push,
        } => {
            // Configuration first: a bad --require or keys dir stops
            // before any key is unlocked or tag is read.
            let required = match &require {
                Some(text) => {
                    let trust = Trust::load_dir(keys.keys.as_deref().unwrap_or(Path::new("keys")))?;
                    let rule = trust.parse_rule(text, "--require")?;
                    Some((trust, rule))
                }
                None => None,
            };
            let repo = open_repo(&repo.repo)?;
            let mut key = signing_key(
                &signer,
                keys.keys.as_deref(),
                required.as_ref().map(|(t, _)| t),
                &repo,
            )?;
            let signed = sign::cosign(
                &repo,
                &name,
                &mut key,
                &LayerOptions { message, tagger },
                required.as_ref().map(|(t, r)| (t, r)),
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
            let trust = Trust::load_dir(&keys.keys)?;
            let gate = Gate::for_environment(&trust, &env)?;
            let repo = open_repo(&repo.repo)?;
            let reports = gate.judge_all(&repo, &names)?;
            if json {
                print_json(&reports)?;
            } else {
                print_lines(&reports)?;
            }
            Ok(if reports.iter().all(|r| r.satisfied) {
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
            let trust = Trust::load_dir(&keys.keys)?;
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
                    keys.keys.join("policy.toml").display()
                )));
            }
            let repo = open_repo(&repo.repo)?;
            let chain = chain::read(&repo, &name);
            let checks = verify::check_chain(&chain, &trust, std::time::SystemTime::now());
            let mut all = true;
            let mut out = std::io::stdout().lock();
            for (i, env) in envs.iter().enumerate() {
                let rule = trust.rule_for(env)?;
                let text = report::explain(env, rule, &trust, &chain, &checks);
                all &= Report::build(env, rule, &trust, &chain, &checks).satisfied;
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
            let trust = Trust::load_dir(&keys.keys)?;
            let gate = Gate::for_environment(&trust, &env)?;
            let repo = open_repo(&repo.repo)?;
            let names: Vec<String> = chain::tag_names(&repo)?
                .into_iter()
                .filter(|n| filter.as_deref().is_none_or(|f| crate::glob::matches(f, n)))
                .collect();
            let reports = gate.judge_all(&repo, &names)?;
            if json {
                print_json(&reports)?;
            } else {
                print_lines(&reports)?;
            }
            Ok(0)
        }
        Command::Demo => crate::demo::run().map(|()| 0),
        Command::Card {
            command: CardCommand::List { keys },
        } => card_list(keys.as_deref()),
    }
}
