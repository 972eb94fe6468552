//! `sigtag audit`: the promotions of an environment as evidence, in text,
//! JSON, CSV or one HTML page ([`sigtag::audit`] collects,
//! [`sigtag::render::audit`] renders).

use super::{open_with_keys, KeysArg, RepoArg};
use clap::Args;
use sigtag::audit::{self, Bound, Options};
use sigtag::error::{Error, Result};
use sigtag::render::audit::Format;
use sigtag::verdict::Gate;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The environment of policy.toml whose promotions are reported
    #[arg(long, value_name = "ENV")]
    env: String,
    /// Only promotions after this: a date (YYYY-MM-DD, or RFC 3339 such as
    /// 2026-11-30T12:00:00Z; tags created then or later), or a tag or
    /// commit (promotions whose commit it does not reach, as git log REV..)
    #[arg(long, value_name = "REV|DATE")]
    since: Option<String>,
    /// Only promotions up to this: a date (tags created then or before; a
    /// day counts whole), or a tag or commit (promotions whose commit it
    /// reaches, itself included)
    #[arg(long, value_name = "REV|DATE")]
    until: Option<String>,
    /// Also the tags that never satisfied the environment, with the reason
    #[arg(long)]
    all: bool,
    /// text, json, csv, or html (one self-contained page)
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    format: String,
    /// Write the report to FILE (whole or not at all) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    keys: KeysArg,
    #[command(flatten)]
    repo: RepoArg,
}

/// Runs `sigtag audit`; exit 0 once the report is written.
pub fn run(args: AuditArgs, version: &str) -> Result<i32> {
    let format = Format::parse(&args.format).ok_or_else(|| {
        Error::usage(format!(
            "--format {}: use text, json, csv or html",
            sigtag::names::shown(&args.format)
        ))
    })?;
    if let Some(path) = &args.output {
        check_destination(path)?;
    }
    let (_, repo, trust) = open_with_keys(&args.keys, &args.repo)?;
    let gate = Gate::for_environment(&trust, &args.env)?;
    let opts = Options {
        since: args
            .since
            .as_deref()
            .map(|t| Bound::parse(&repo, t, "--since", false))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| Bound::parse(&repo, t, "--until", true))
            .transpose()?,
        all: args.all,
    };
    let report = audit::collect(&gate, &repo, &opts, version)?;
    let text = format.render(&report);
    match &args.output {
        Some(path) => super::write_atomically(path, text.as_bytes())?,
        None => std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write the report: {e}")))?,
    }
    Ok(0)
}

/// `-o FILE` must be a file in a directory that exists: checked before any
/// tag is read.
fn check_destination(path: &Path) -> Result<()> {
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(Error::usage(format!(
            "-o {}: the directory {} does not exist; create it or write elsewhere",
            path.display(),
            dir.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::usage(format!(
            "-o {}: is a directory; name a file",
            path.display()
        )));
    }
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
