//! Verifying many tags at once: one repository handle per worker thread,
//! tags checked in parallel, certificates parsed once (in the [`Trust`]).

use crate::chain;
use crate::error::{Error, Result};
use crate::report::Report;
use crate::rule::Rule;
use crate::trust::Trust;
use crate::verify;
use git2::Repository;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Opens the repository at (or above) `dir`; bare repositories work too.
pub fn open_repo(dir: &Path) -> Result<Repository> {
    Repository::open_ext(
        dir,
        git2::RepositoryOpenFlags::empty(),
        std::iter::empty::<&Path>(),
    )
    .map_err(|_| {
        Error::repo(format!(
            "{} is not a git repository; pass --repo DIR",
            dir.display()
        ))
    })
}

/// Everything needed to judge tags for one environment.
pub struct Gate<'t> {
    pub trust: &'t Trust,
    pub environment: String,
    pub rule: Rule,
    pub now: SystemTime,
}

impl<'t> Gate<'t> {
    /// The gate of a named environment of the trust root.
    pub fn for_environment(trust: &'t Trust, environment: &str) -> Result<Gate<'t>> {
        Ok(Gate {
            trust,
            environment: environment.to_string(),
            rule: trust.rule_for(environment)?.clone(),
            now: SystemTime::now(),
        })
    }

    /// Judges one tag.
    pub fn judge(&self, repo: &Repository, name: &str) -> Report {
        let chain = chain::read(repo, name);
        let checks = verify::check_chain(&chain, self.trust, self.now);
        Report::build(&self.environment, &self.rule, self.trust, &chain, &checks)
    }

    /// Judges many tags in parallel; reports come back in the order of
    /// `names`.
    pub fn judge_all(&self, repo: &Repository, names: &[String]) -> Result<Vec<Report>> {
        if names.len() < 8 {
            return Ok(names.iter().map(|n| self.judge(repo, n)).collect());
        }
        // One repository handle per chunk of tags (handles are not Sync);
        // a few chunks per thread keep both cores busy to the end.
        let gitdir: PathBuf = repo.path().to_path_buf();
        let chunk = (names.len() / (rayon::current_num_threads() * 4)).max(8);
        let chunks: Vec<Vec<Report>> = names
            .par_chunks(chunk)
            .map(|chunk| {
                let repo = Repository::open(&gitdir).map_err(|e| {
                    Error::repo(format!(
                        "cannot open {}: {}",
                        gitdir.display(),
                        crate::error::clean(e.message())
                    ))
                })?;
                Ok(chunk.iter().map(|n| self.judge(&repo, n)).collect())
            })
            .collect::<Result<_>>()?;
        Ok(chunks.into_iter().flatten().collect())
    }
}
