//! `sigtag keys`: the health of the trust root ([`sigtag::health`]), and
//! `sigtag keys source`: the resource's `source` fragment made from it
//! ([`sigtag::resource::fragment`]). Both only load, call the library and
//! print; neither touches a repository.

use super::KeysDir;
use clap::{Args, Subcommand, ValueEnum};
use sigtag::error::{Error, Result};
use sigtag::health;
use sigtag::resource::fragment::{Certificates, Fragment};
use sigtag::trust::Trust;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: Option<KeysCommand>,
    /// The keys directory [default: $SIGTAG_KEYS, else ./keys]
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// Print a JSON report
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Print the resource's source fragment (signers, groups, require) for
    /// an environment of the keys directory
    Source {
        /// The environment of policy.toml whose rule becomes `require`
        #[arg(long, value_name = "ENV")]
        env: String,
        /// The keys directory [default: $SIGTAG_KEYS, else ./keys]
        #[arg(long, value_name = "DIR")]
        keys: Option<PathBuf>,
        /// Name each signer's certificates as a ((NAME_pub)) pipeline
        /// variable instead of putting them inline
        #[arg(long)]
        vars: bool,
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Runs `sigtag keys ...`; exit 0 when every signer is usable and in a
/// group, 1 otherwise (`keys source`: 0).
pub fn run(args: KeysArgs) -> Result<i32> {
    match args.command {
        None => health_report(args.keys.as_deref(), args.json),
        Some(KeysCommand::Source {
            env,
            keys,
            vars,
            format,
        }) => source(keys.as_deref(), &env, vars, format),
    }
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(format!("cannot write the report: {e}")))
}

fn health_report(keys: Option<&Path>, json: bool) -> Result<i32> {
    let keys = KeysDir::new(keys);
    let trust = Trust::load_dir(&keys.path)?;
    let files = signer_files(&keys.path, &trust)?;
    let health = health::evaluate(&trust, SystemTime::now());
    if json {
        let value = health::json(&health, &keys.path.display().to_string(), &files);
        let text = serde_json::to_string_pretty(&value).map_err(|e| Error::io(e.to_string()))?;
        print(&format!("{text}\n"))?;
    } else {
        print(&health::text(&health, &files))?;
    }
    Ok(if health.ok() { 0 } else { 1 })
}

/// The files of each signer in `dir`: `<name>.asc`, `.pgp`, `.gpg` (and
/// `.pub`, SSH keys), as paths under `dir`.
fn signer_files(dir: &Path, trust: &Trust) -> Result<health::Files> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::config(format!("cannot list {}: {e}", dir.display())))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut files = health::Files::new();
    for s in trust.signers() {
        let mine = names.iter().filter(|f| {
            [".asc", ".pgp", ".gpg", ".pub"]
                .iter()
                .any(|ext| f.strip_suffix(ext) == Some(s.name.as_str()))
        });
        files.insert(
            s.name.clone(),
            mine.map(|f| dir.join(f).display().to_string()).collect(),
        );
    }
    Ok(files)
}

fn source(keys: Option<&Path>, env: &str, vars: bool, format: Format) -> Result<i32> {
    let keys = KeysDir::new(keys);
    let certs = if vars {
        Certificates::Vars
    } else {
        Certificates::Inline
    };
    let fragment = Fragment::from_dir(&keys.path, env, certs)?;
    match format {
        Format::Yaml => print(&fragment.yaml())?,
        Format::Json => {
            let text = serde_json::to_string_pretty(&fragment.json())
                .map_err(|e| Error::io(e.to_string()))?;
            print(&format!("{text}\n"))?;
        }
    }
    Ok(0)
}
