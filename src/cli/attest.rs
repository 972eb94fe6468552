//! `sigtag attest`: the verdict on one tag for one environment as an
//! in-toto statement with a SLSA Verification Summary
//! ([`sigtag::attest`]), signed in a DSSE envelope with `--key`. Loads,
//! judges through a [`Gate`], calls the library and writes: to stdout, or
//! with `-o` to a temporary file in the same directory renamed into place,
//! so a file is never left half written.

use super::{open_with_keys, KeysArg, RepoArg};
use clap::Args;
use sigtag::attest::{self, Inputs};
use sigtag::error::{Error, Result};
use sigtag::sign;
use sigtag::verdict::Gate;
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AttestArgs {
    /// The tag to attest (its chain must reach a commit)
    name: String,
    /// The environment of policy.toml whose require rule judges it
    #[arg(long, value_name = "ENV")]
    env: String,
    /// Write the statement (or envelope) to FILE instead of stdout, through
    /// a temporary file in FILE's directory renamed into place
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Sign the statement with this armored secret key file (passphrase
    /// from SIGTAG_PASSPHRASE or a prompt) and write a DSSE envelope; the
    /// key need not belong to a signer of the keys directory
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    #[command(flatten)]
    keys: KeysArg,
    #[command(flatten)]
    repo: RepoArg,
    /// The statement's resourceUri [default: the origin remote's URL
    /// without credentials, else git+file:// and the repository's path]
    #[arg(long = "resource-uri", value_name = "URI")]
    resource_uri: Option<String>,
}

/// Runs `sigtag attest`: exit 0 when the tag passed, 1 when it failed
/// (the statement is written either way).
pub fn run(args: AttestArgs) -> Result<i32> {
    // Configuration first: the repository, the trust root, the
    // environment, the resource URI and the key, before any tag is read.
    let (_, repo, trust) = open_with_keys(&args.keys, &args.repo)?;
    let gate = Gate::for_environment(&trust, &args.env)?;
    let digest = trust.digest_for(&args.env).ok_or_else(|| {
        Error::config(format!(
            "{}: environment {} has no trust digest; load the keys directory again",
            trust.policy_origin(),
            args.env
        ))
    })?;
    let resource_uri = match &args.resource_uri {
        Some(uri) => {
            attest::check_resource_uri(uri, "--resource-uri")?;
            uri.clone()
        }
        None => attest::repository_uri(&repo)?,
    };
    let mut key = args.key.as_deref().map(sign::load_key_file).transpose()?;

    let verdict = gate.judge(&repo, &args.name);
    let statement = attest::statement(
        &verdict,
        &Inputs {
            resource_uri: &resource_uri,
            policy_digest: digest,
            time_verified: gate.now,
        },
    )?;
    let text = match key.as_mut() {
        Some(key) => attest::envelope(&statement, key, gate.now)?,
        None => statement.to_json()?,
    };
    let line = sigtag::render::line::line(&verdict);
    match &args.output {
        Some(path) => {
            super::write_atomically(path, text.as_bytes())?;
            let what = if key.is_some() {
                "signed statement"
            } else {
                "statement"
            };
            eprintln!("{line}; wrote the {what} to {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| Error::io(format!("cannot write the statement: {e}")))?;
            eprintln!("{line}");
        }
    }
    Ok(if statement.passed() { 0 } else { 1 })
}
