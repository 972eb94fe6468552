//! Documentation generated from the command line itself: shell
//! completions (`sigtag completions SHELL`) and the manual pages (`sigtag
//! man`, hidden; `make man` writes them to target/man).

use clap::CommandFactory as _;
use std::io::Write as _;
use std::path::Path;

use sigtag::error::{Error, Result};

fn write_error(e: std::io::Error) -> Error {
    Error::io(format!("cannot write the output: {e}"))
}

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut cmd = super::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "sigtag", &mut buf);
    let mut out = std::io::stdout().lock();
    out.write_all(&buf).map_err(write_error)?;
    Ok(0)
}

/// Prints sigtag(1), or writes it and a page per command (sigtag-sign(1),
/// …) into `out_dir`.
pub fn man(out_dir: Option<&Path>) -> Result<i32> {
    // The pages describe the commands; clap's `help` is left out.
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("cannot create {}: {e}", dir.display())))?;
            pages(cmd, dir).map_err(|e| {
                Error::io(format!(
                    "cannot write the manual pages to {}: {e}",
                    dir.display()
                ))
            })?;
            eprintln!("wrote the manual pages to {}", dir.display());
        }
        None => {
            let mut buf = Vec::new();
            page(cmd).render(&mut buf).map_err(write_error)?;
            std::io::stdout()
                .lock()
                .write_all(&buf)
                .map_err(write_error)?;
        }
    }
    Ok(0)
}

/// The page of `cmd`, its source "sigtag VERSION (commit …)".
fn page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("sigtag {}", super::VERSION))
}

/// Writes the page of `cmd` and of each of its visible subcommands, as
/// sigtag.1, sigtag-card.1, sigtag-card-list.1, ...
fn pages(cmd: clap::Command, dir: &Path) -> std::io::Result<()> {
    fn write(cmd: &clap::Command, dir: &Path) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            write(sub, dir)?;
        }
        page(cmd.clone()).generate_to(dir).map(|_| ())
    }
    write(&cmd, dir)
}
