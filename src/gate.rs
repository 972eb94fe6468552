//! Where the command line's tags and trust root come from: the repository
//! ([`open_repo`]), and a keys directory that must lie outside it
//! ([`keys_outside_repo`]). Judging tags is [`crate::verdict::Gate`]'s.

use crate::error::{Error, Result};
use git2::Repository;
use std::path::{Path, PathBuf};

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

/// Opens the git directory of a repository already opened once, for
/// another worker thread (a handle is not `Sync`).
pub fn open_gitdir(gitdir: &Path) -> Result<Repository> {
    Repository::open(gitdir).map_err(|e| {
        Error::repo(format!(
            "cannot open {}: {}",
            gitdir.display(),
            crate::error::clean(e.message())
        ))
    })
}

/// Refuses a keys directory that lies inside `repo`: in its work tree, its
/// git directory, or (for a linked work tree) the repository it belongs
/// to, after following symbolic links, or one holding an entry that leads
/// there. Whoever can push to the repository could change such a trust
/// root. `shown` is the directory as the user named it. A directory that
/// does not exist passes: loading it says so.
pub fn keys_outside_repo(keys: &Path, shown: &str, repo: &Repository) -> Result<()> {
    let Ok(dir) = std::fs::canonicalize(keys) else {
        return Ok(());
    };
    let places = repo_places(repo);
    let inside = |path: &Path| {
        places
            .iter()
            .find(|(_, place)| path.starts_with(place))
            .map(|(what, place)| format!("the {what} {}", place.display()))
    };
    let advice = "anyone who can push to it could change the keys, so keep them in a separate \
                  reviewed repository and pass --keys DIR or set SIGTAG_KEYS";
    if let Some(place) = inside(&dir) {
        return Err(Error::config(format!(
            "the keys directory {shown} ({}) lies inside {place}; {advice}",
            dir.display()
        )));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.sort();
    for entry in entries {
        let Ok(target) = std::fs::canonicalize(&entry) else {
            continue;
        };
        if let Some(place) = inside(&target) {
            let file = entry
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(Error::config(format!(
                "{file} in the keys directory {shown} leads to {}, inside {place}; {advice}",
                target.display()
            )));
        }
    }
    Ok(())
}

/// The directories of a repository that a push can change, canonical, each
/// with what it is: the work tree (none in a bare repository), the git
/// directory, and for a linked work tree the common git directory and the
/// main work tree.
fn repo_places(repo: &Repository) -> Vec<(&'static str, PathBuf)> {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let mut places = Vec::new();
    if let Some(work) = repo.workdir() {
        places.push(("work tree of the repository", canonical(work)));
    }
    places.push(("git directory of the repository", canonical(repo.path())));
    let common = canonical(repo.commondir());
    if !places.iter().any(|(_, p)| *p == common) {
        if let Some(main) = Repository::open(&common)
            .ok()
            .and_then(|r| r.workdir().map(canonical))
        {
            if !places.iter().any(|(_, p)| *p == main) {
                places.push(("main work tree of the repository", main));
            }
        }
        places.push(("common git directory of the repository", common));
    }
    places
}
