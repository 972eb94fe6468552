//! What a check container keeps between checks, under `$TMPDIR` (or /tmp):
//!
//! ```text
//! sigtag-resource/<sha256(uri)>/repo.git       bare repository: tags and the commits they name
//! sigtag-resource/<sha256(uri)>/verdicts-<digest>  positive verdicts for one trust configuration
//! sigtag-resource/<sha256(uri)>/chains         commit and creation time of every chain read
//! ```
//!
//! A verdict is kept only when the tag satisfied the rule. It is keyed by
//! the outer tag object id (which fixes every layer below it, since each
//! layer names its target by id) and the tag's name, under the digest of
//! the trust configuration. A positive verdict cannot expire: signatures
//! are judged at their own creation time, and the only clock-dependent
//! check (a signature dated in the future) can only turn a "no" into a
//! "yes". Negative verdicts are never kept.

use crate::error::{clean, Context as _, Error, ErrorKind, Result};
use git2::Repository;
use openpgp::types::HashAlgorithm;
use sequoia_openpgp as openpgp;
use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// `$TMPDIR`, or /tmp when it is unset or empty.
pub fn temp_root() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("/tmp"),
    }
}

fn hex_sha256(data: &[u8]) -> Result<String> {
    let unavailable = || "SHA-256 is not available".to_string();
    let mut ctx = HashAlgorithm::SHA256
        .context()
        .context(ErrorKind::Io, unavailable)?
        .for_digest();
    ctx.update(data);
    let digest = ctx.into_digest().context(ErrorKind::Io, unavailable)?;
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn private_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| Error::io(format!("cannot create {}: {e}", path.display())))
}

/// A positive verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub tag: String,
    pub commit: String,
    /// Tagger time of the innermost layer.
    pub created: i64,
}

/// The cache of one repository (one URI).
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn for_uri(uri: &str) -> Result<Cache> {
        let hex = hex_sha256(uri.as_bytes())?;
        let dir = temp_root()
            .join("sigtag-resource")
            .join(hex.get(..32).unwrap_or(&hex));
        private_dir(&dir)?;
        Ok(Cache { dir })
    }

    fn repo_path(&self) -> PathBuf {
        self.dir.join("repo.git")
    }

    /// The cached bare repository, made if missing or unreadable. For a
    /// `file://` URI it borrows the objects of the repository itself (as
    /// `git clone --shared` does), so fetching copies refs, not objects.
    pub fn repo(&self, uri: &str) -> Result<Repository> {
        let path = self.repo_path();
        let repo = match Repository::open_bare(&path) {
            Ok(repo) => repo,
            Err(_) => {
                self.reset()?;
                Repository::init_bare(&path).map_err(|e| {
                    Error::io(format!(
                        "cannot create the cache repository {}: {}",
                        path.display(),
                        clean(e.message())
                    ))
                })?
            }
        };
        if let Some(objects) = crate::remote::local_path(uri)
            .and_then(|p| Repository::open(p).ok())
            .map(|r| r.path().join("objects"))
        {
            let alternates = path.join("objects").join("info").join("alternates");
            let line = format!("{}\n", objects.display());
            if fs::read_to_string(&alternates).ok().as_deref() != Some(line.as_str()) {
                fs::create_dir_all(path.join("objects").join("info"))
                    .and_then(|()| fs::write(&alternates, &line))
                    .map_err(|e| {
                        Error::io(format!("cannot write {}: {e}", alternates.display()))
                    })?;
                // Reopen so that the object database sees the alternate.
                return Repository::open_bare(&path).map_err(|e| {
                    Error::io(format!(
                        "cannot open the cache repository {}: {}",
                        path.display(),
                        clean(e.message())
                    ))
                });
            }
        }
        Ok(repo)
    }

    /// Throws the cached repository away (it will be fetched again).
    pub fn reset(&self) -> Result<()> {
        let path = self.repo_path();
        match fs::remove_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("cannot remove {}: {e}", path.display()))),
        }
    }

    /// Makes the cached tags exactly `tags` (sorted `(refs/tags/NAME, id)`):
    /// one packed-refs file written under git's lock protocol and renamed
    /// into place, so thousands of tags cost one file, not thousands. The
    /// cache holds no other refs.
    pub fn write_tags(&self, tags: &[(String, git2::Oid)]) -> Result<()> {
        let path = self.repo_path();
        let packed = path.join("packed-refs");
        let lock = path.join("packed-refs.lock");
        let mut text = String::from("# pack-refs with: sorted \n");
        for (name, oid) in tags {
            text.push_str(&format!("{oid} {name}\n"));
        }
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&lock)?;
            f.write_all(text.as_bytes())?;
            drop(f);
            // Loose tag refs would shadow the packed ones.
            let loose = path.join("refs").join("tags");
            if loose.exists() {
                fs::remove_dir_all(&loose)?;
                fs::create_dir(&loose)?;
            }
            fs::rename(&lock, &packed)
        };
        let mut result = write();
        if matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists) {
            // A lock left by a check that was killed: nothing else holds
            // one for more than a moment.
            let stale = fs::metadata(&lock)
                .and_then(|m| m.modified())
                .map(|t| t.elapsed().unwrap_or_default() > std::time::Duration::from_secs(60))
                .unwrap_or(false);
            if stale {
                let _ = fs::remove_file(&lock);
                result = write();
            }
        }
        result.map_err(|e| {
            if e.kind() != std::io::ErrorKind::AlreadyExists {
                let _ = fs::remove_file(&lock);
            }
            Error::io(format!(
                "cannot update the cached tags in {}: {e}",
                packed.display()
            ))
        })
    }

    fn verdicts_name(digest: &str) -> String {
        format!("verdicts-{digest}")
    }

    /// The positive verdicts under this trust digest, by outer tag object.
    /// A damaged file counts as empty.
    pub fn verdicts(&self, digest: &str) -> HashMap<String, Verdict> {
        self.load(&Self::verdicts_name(digest))
    }

    /// Replaces the verdicts of this digest (atomically) and drops those
    /// of other trust configurations.
    pub fn save_verdicts<'a>(
        &self,
        digest: &str,
        verdicts: impl IntoIterator<Item = (&'a String, &'a Verdict)>,
    ) -> Result<()> {
        let name = Self::verdicts_name(digest);
        self.save(&name, verdicts)?;
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let file = entry.file_name();
                let file = file.to_string_lossy();
                if file.starts_with("verdicts-") && *file != *name {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// What reading a chain found, for every well-formed chain read
    /// before: its name, commit and innermost layer's time, by outer tag
    /// object. This depends on the objects alone (an outer object fixes
    /// every layer below it), not on the trust configuration, and lets a
    /// check order the tags without reading them again.
    pub fn chains(&self) -> HashMap<String, Verdict> {
        self.load("chains")
    }

    pub fn save_chains<'a>(
        &self,
        chains: impl IntoIterator<Item = (&'a String, &'a Verdict)>,
    ) -> Result<()> {
        self.save("chains", chains)
    }

    fn load(&self, name: &str) -> HashMap<String, Verdict> {
        let Ok(text) = fs::read_to_string(self.dir.join(name)) else {
            return HashMap::new();
        };
        let mut out = HashMap::new();
        for line in text.lines() {
            let mut f = line.split('\t');
            let (Some(outer), Some(tag), Some(commit), Some(created), None) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                return HashMap::new();
            };
            let Ok(created) = created.parse() else {
                return HashMap::new();
            };
            out.insert(
                outer.to_string(),
                Verdict {
                    tag: tag.to_string(),
                    commit: commit.to_string(),
                    created,
                },
            );
        }
        out
    }

    /// Writes a table atomically (a temporary file renamed into place).
    fn save<'a>(
        &self,
        name: &str,
        entries: impl IntoIterator<Item = (&'a String, &'a Verdict)>,
    ) -> Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}", std::process::id()));
        let mut text = String::new();
        for (outer, v) in entries {
            // Tag names cannot hold tabs or newlines (git refuses control
            // characters in ref names).
            text.push_str(&format!(
                "{outer}\t{}\t{}\t{}\n",
                v.tag, v.commit, v.created
            ));
        }
        let write = || -> std::io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(format!("cannot write {}: {e}", path.display()))
        })
    }
}
