//! What a check container keeps between checks, under `$TMPDIR` (or /tmp):
//!
//! ```text
//! sigtag-resource/<sha256(uri)>/repo.git           bare repository: tags and the commits they name
//! sigtag-resource/<sha256(uri)>/chains             commit and creation time of every chain read
//! sigtag-resource/<sha256(uri)>/verdicts-<digest>  positive verdicts for one trust configuration
//! sigtag-resource/<sha256(uri)>/returned-<digest>  the versions check returned, and where they stood
//! sigtag-resource/<sha256(uri)>/seen-<digest>      the (tag, outer object) pairs the last check saw
//! sigtag-resource/<sha256(uri)>/fold-<digest>      the last fold's answers, for the refs it judged
//! ```
//!
//! A verdict is kept only when the tag satisfied the rule. It is keyed by
//! the outer tag object id (which fixes every layer below it, since each
//! layer names its target by id) and the tag's name, under the digest of
//! the trust configuration. It holds no longer than the earliest Signature
//! Expiration Time of the signatures that counted: that time is stored with
//! it, and an entry whose time has come counts as absent, so the tag is
//! verified again (and refused, since a signature past its expiration time
//! counts for nothing). Nothing else about a verdict depends on the clock:
//! signatures are judged at their own creation time, and a signature dated
//! in the future can only turn a "no" into a "yes". Negative verdicts are
//! never kept.
//!
//! The memory of returned versions lets a check place the version it is
//! given when that version's tag was deleted, moved or spoilt: its entries
//! come only from chains that satisfied the rule when they were returned,
//! never from one that is rejected now, whose inner layer anyone who can
//! push could have written with any date. It keeps the newest
//! [`MAX_RETURNED`] versions.
//!
//! Under a rule with transition atoms, or in an environment that takes
//! emergencies, a verdict rests on the other tags too, so no verdict of
//! the table above is used; instead the fold's answer on every tag is
//! kept ([`Fold`]) with a key that fixes everything it read: the sha256 of
//! every ref of the clone and its target (tags fix their chains and
//! commits, commits fix their history). It is used only while the clone's
//! refs hash to the same key, and no longer than its `until`: the
//! earliest time a verdict of it could change with the clock alone (a
//! counting signature expiring, an emergency's review falling due), and
//! at most an hour after it was made.
//!
//! Each table is one file written atomically; an old or damaged file counts
//! as empty.

use crate::error::{clean, Error, Result};
use git2::Repository;
use std::collections::{HashMap, HashSet};
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

use crate::digest::sha256_hex as hex_sha256;

fn private_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| Error::io(format!("cannot create {}: {e}", path.display())))
}

/// What reading a well-formed chain found. It depends on the objects
/// alone: the outer tag object fixes every layer below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chained {
    pub tag: String,
    pub commit: String,
    /// Tagger time of the innermost layer.
    pub created: i64,
}

/// A positive verdict: the chain satisfied the rule, until `expires`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub chain: Chained,
    /// The earliest expiration time (seconds since the epoch) of the
    /// signatures that counted; `None` when none of them expires.
    pub expires: Option<i64>,
}

impl Verdict {
    /// Does the verdict still hold at `now` (seconds since the epoch)?
    pub fn holds_at(&self, now: i64) -> bool {
        self.expires.is_none_or(|t| t > now)
    }
}

/// The verdict cache of one trust configuration, as loaded.
#[derive(Debug, Default)]
pub struct Verdicts {
    /// By outer tag object: the verdicts that still hold.
    pub live: HashMap<String, Verdict>,
    /// By outer tag object: the verdicts whose time is up. They count as
    /// absent; they are kept apart only so that the log can say why a tag
    /// is verified again.
    pub expired: HashMap<String, Verdict>,
}

/// The versions a check returned, `(tag, commit)` to the creation time of
/// the innermost layer it had then: where each version stood, even after
/// its tag is deleted, moved or spoilt.
pub type Returned = HashMap<(String, String), i64>;

/// Every `(tag, outer object)` pair the last check saw, as
/// `(tag, outer or "-")`.
pub type Seen = HashSet<(String, String)>;

/// The most versions [`Cache::save_returned`] keeps.
pub use crate::limits::MAX_RETURNED;

/// First lines of the tables that carry one. A file without the right one
/// (written by an older sigtag, or damaged) counts as empty.
const VERDICTS_HEADER: &str = "# sigtag verdicts 2";
const RETURNED_HEADER: &str = "# sigtag returned 1";
const SEEN_HEADER: &str = "# sigtag seen 1";
const FOLD_HEADER: &str = "# sigtag fold 1";

/// The fold's answer on every tag, for the refs it judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// What the answers were made from ([`Fold`] in the module docs).
    pub key: String,
    /// Seconds since the epoch from which the answers no longer hold.
    pub until: i64,
    /// Tag name -> its answer.
    pub answers: HashMap<String, Answer>,
    /// The lines that tell what a refused tag's pipeline tested and how to
    /// recover, in order.
    pub hints: Vec<String>,
}

/// The fold's answer on one tag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Answer {
    Satisfies,
    NotChain,
    /// Refused, with the reason for the log.
    Refused(String),
}

fn parse_fold(text: &str) -> Option<Fold> {
    let mut lines = text.lines();
    if lines.next()? != FOLD_HEADER {
        return None;
    }
    let key = lines.next()?.strip_prefix("key\t")?.to_string();
    let until = lines.next()?.strip_prefix("until\t")?.parse().ok()?;
    let mut answers = HashMap::new();
    let mut hints = Vec::new();
    for line in lines {
        // No tag name starts with a dot, so this cannot be one.
        if let Some(hint) = line.strip_prefix(".hint\t") {
            hints.push(hint.to_string());
            continue;
        }
        let mut f = line.splitn(3, '\t');
        let (name, kind, reason) = (f.next()?, f.next()?, f.next());
        let answer = match (kind, reason) {
            ("yes", None) => Answer::Satisfies,
            ("not-chain", None) => Answer::NotChain,
            ("no", Some(r)) if !r.is_empty() => Answer::Refused(r.to_string()),
            _ => return None,
        };
        if name.is_empty() || answers.insert(name.to_string(), answer).is_some() {
            return None;
        }
    }
    Some(Fold {
        key,
        until,
        answers,
        hints,
    })
}

/// The tab-separated fields of each line of `text`, which must all have
/// `fields` of them, after the `header` line when there is one; `None` when
/// anything is amiss.
fn parse_table<'t>(
    text: &'t str,
    header: Option<&str>,
    fields: usize,
) -> Option<Vec<Vec<&'t str>>> {
    let mut lines = text.lines();
    if let Some(h) = header {
        if lines.next()? != h {
            return None;
        }
    }
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f.len() == fields && f.iter().all(|x| !x.is_empty())).then_some(f)
        })
        .collect()
}

/// `fields[i]`, or "" (which no parser accepts) when absent.
fn field<'t>(fields: &[&'t str], i: usize) -> &'t str {
    fields.get(i).copied().unwrap_or("")
}

/// Parses a verdict table; `None` when it is not one.
fn parse_verdicts(text: &str) -> Option<HashMap<String, Verdict>> {
    let mut out = HashMap::new();
    for f in parse_table(text, Some(VERDICTS_HEADER), 5)? {
        let created = field(&f, 3).parse().ok()?;
        let expires = match field(&f, 4) {
            "-" => None,
            t => Some(t.parse().ok()?),
        };
        out.insert(
            field(&f, 0).to_string(),
            Verdict {
                chain: Chained {
                    tag: field(&f, 1).to_string(),
                    commit: field(&f, 2).to_string(),
                    created,
                },
                expires,
            },
        );
    }
    Some(out)
}

/// Parses the chain index; `None` when it is not one.
fn parse_chains(text: &str) -> Option<HashMap<String, Chained>> {
    let mut out = HashMap::new();
    for f in parse_table(text, None, 4)? {
        out.insert(
            field(&f, 0).to_string(),
            Chained {
                tag: field(&f, 1).to_string(),
                commit: field(&f, 2).to_string(),
                created: field(&f, 3).parse().ok()?,
            },
        );
    }
    Some(out)
}

fn parse_returned(text: &str) -> Option<Returned> {
    let mut out = Returned::new();
    for f in parse_table(text, Some(RETURNED_HEADER), 3)? {
        out.insert(
            (field(&f, 0).to_string(), field(&f, 1).to_string()),
            field(&f, 2).parse().ok()?,
        );
    }
    Some(out)
}

fn parse_seen(text: &str) -> Option<Seen> {
    Some(
        parse_table(text, Some(SEEN_HEADER), 2)?
            .into_iter()
            .map(|f| (field(&f, 0).to_string(), field(&f, 1).to_string()))
            .collect(),
    )
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

    /// The positive verdicts under this trust digest, by outer tag object,
    /// split at `now` (seconds since the epoch) into those that still hold
    /// and those whose earliest signature has expired. An old or damaged
    /// file counts as empty.
    pub fn verdicts(&self, digest: &str, now: i64) -> Verdicts {
        let all = self
            .read(&Self::verdicts_name(digest))
            .and_then(|t| parse_verdicts(&t))
            .unwrap_or_default();
        let (live, expired) = all.into_iter().partition(|(_, v)| v.holds_at(now));
        Verdicts { live, expired }
    }

    /// Replaces the verdicts of this digest (atomically) and drops every
    /// table of other trust configurations.
    pub fn save_verdicts<'a>(
        &self,
        digest: &str,
        verdicts: impl IntoIterator<Item = (&'a String, &'a Verdict)>,
    ) -> Result<()> {
        let mut text = format!("{VERDICTS_HEADER}\n");
        for (outer, v) in verdicts {
            let expires = v.expires.map_or_else(|| "-".to_string(), |t| t.to_string());
            // Tag names cannot hold tabs or newlines (git refuses control
            // characters in ref names).
            text.push_str(&format!(
                "{outer}\t{}\t{}\t{}\t{expires}\n",
                v.chain.tag, v.chain.commit, v.chain.created
            ));
        }
        self.save(&Self::verdicts_name(digest), &text)?;
        self.drop_other_digests(digest);
        Ok(())
    }

    /// Removes the tables kept for other trust configurations than `digest`.
    fn drop_other_digests(&self, digest: &str) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name();
            let file = file.to_string_lossy();
            let other = ["verdicts-", "returned-", "seen-", "fold-"]
                .iter()
                .any(|p| {
                    file.strip_prefix(p)
                        .is_some_and(|rest| rest != digest && !rest.is_empty())
                });
            if other {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// What reading a chain found, for every well-formed chain read
    /// before: its name, commit and innermost layer's time, by outer tag
    /// object. This depends on the objects alone (an outer object fixes
    /// every layer below it), not on the trust configuration, and lets a
    /// check order the tags without reading them again. It says nothing
    /// about signatures, so it never places a version (see `returned`).
    pub fn chains(&self) -> HashMap<String, Chained> {
        self.read("chains")
            .and_then(|t| parse_chains(&t))
            .unwrap_or_default()
    }

    pub fn save_chains<'a>(
        &self,
        chains: impl IntoIterator<Item = (&'a String, &'a Chained)>,
    ) -> Result<()> {
        let mut text = String::new();
        for (outer, c) in chains {
            text.push_str(&format!(
                "{outer}\t{}\t{}\t{}\n",
                c.tag, c.commit, c.created
            ));
        }
        self.save("chains", &text)
    }

    /// The versions checks under this trust digest returned, with where
    /// each stood. An old or damaged file counts as empty.
    pub fn returned(&self, digest: &str) -> Returned {
        self.read(&format!("returned-{digest}"))
            .and_then(|t| parse_returned(&t))
            .unwrap_or_default()
    }

    /// Replaces the memory of returned versions, keeping the newest
    /// [`MAX_RETURNED`] (by creation time, then name).
    pub fn save_returned(&self, digest: &str, returned: &Returned) -> Result<()> {
        let mut rows: Vec<(&(String, String), &i64)> = returned.iter().collect();
        rows.sort_by(|a, b| (b.1, &b.0).cmp(&(a.1, &a.0)));
        rows.truncate(MAX_RETURNED);
        let mut text = format!("{RETURNED_HEADER}\n");
        for ((tag, commit), created) in rows {
            text.push_str(&format!("{tag}\t{commit}\t{created}\n"));
        }
        self.save(&format!("returned-{digest}"), &text)
    }

    /// The `(tag, outer)` pairs the last check under this digest saw; an old
    /// or damaged file counts as empty (every tag is then new).
    pub fn seen(&self, digest: &str) -> Seen {
        self.read(&format!("seen-{digest}"))
            .and_then(|t| parse_seen(&t))
            .unwrap_or_default()
    }

    pub fn save_seen<'a>(
        &self,
        digest: &str,
        seen: impl IntoIterator<Item = &'a (String, String)>,
    ) -> Result<()> {
        let mut text = format!("{SEEN_HEADER}\n");
        for (tag, outer) in seen {
            text.push_str(&format!("{tag}\t{outer}\n"));
        }
        self.save(&format!("seen-{digest}"), &text)
    }

    /// The last fold's answers under this digest, if they are for refs
    /// hashing to `key` and still hold at `now`.
    pub fn fold(&self, digest: &str, key: &str, now: i64) -> Option<Fold> {
        self.read(&format!("fold-{digest}"))
            .and_then(|t| parse_fold(&t))
            .filter(|f| f.key == key && now < f.until)
    }

    /// Replaces the fold's answers under this digest.
    pub fn save_fold(&self, digest: &str, fold: &Fold) -> Result<()> {
        let mut text = format!("{FOLD_HEADER}\nkey\t{}\nuntil\t{}\n", fold.key, fold.until);
        let mut rows: Vec<(&String, &Answer)> = fold.answers.iter().collect();
        rows.sort();
        for (name, answer) in rows {
            // Reasons are one line; a tab or a newline in one would break
            // the table, so they become spaces.
            let row = match answer {
                Answer::Satisfies => "yes".to_string(),
                Answer::NotChain => "not-chain".to_string(),
                Answer::Refused(r) => format!("no\t{}", r.replace(['\t', '\n', '\r'], " ")),
            };
            text.push_str(&format!("{name}\t{row}\n"));
        }
        for hint in &fold.hints {
            text.push_str(&format!(".hint\t{}\n", hint.replace(['\n', '\r'], " ")));
        }
        self.save(&format!("fold-{digest}"), &text)?;
        self.drop_other_digests(digest);
        Ok(())
    }

    fn read(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir.join(name)).ok()
    }

    /// Writes a table atomically (a temporary file renamed into place).
    fn save(&self, name: &str, text: &str) -> Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}", std::process::id()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache {
            dir: dir.path().to_path_buf(),
        };
        (dir, cache)
    }

    fn verdict(tag: &str, expires: Option<i64>) -> Verdict {
        Verdict {
            chain: Chained {
                tag: tag.to_string(),
                commit: "c".repeat(40),
                created: 1_700_000_000,
            },
            expires,
        }
    }

    #[test]
    fn a_fold_is_used_for_its_refs_and_until_its_time_only() {
        let (_d, cache) = cache();
        let fold = Fold {
            key: "k1".into(),
            until: 2_000,
            answers: [
                ("v1".to_string(), Answer::Satisfies),
                ("v2".to_string(), Answer::NotChain),
                (
                    "v3".to_string(),
                    Answer::Refused("needs\t1 of\nhumans".into()),
                ),
            ]
            .into_iter()
            .collect(),
            hints: vec!["v3: staging tested v1 -> v3".into()],
        };
        cache.save_fold("d", &fold).unwrap();
        let read = cache.fold("d", "k1", 1_999).unwrap();
        assert_eq!(
            read.answers.get("v3"),
            Some(&Answer::Refused("needs 1 of humans".into()))
        );
        assert_eq!(read.answers.len(), 3);
        assert_eq!(read.hints, fold.hints);
        assert_eq!(cache.fold("d", "k1", 2_000), None, "its time has come");
        assert_eq!(cache.fold("d", "k2", 1_000), None, "other refs");
        assert_eq!(cache.fold("e", "k1", 1_000), None, "another digest");
        // Damaged: counts as absent.
        for bad in [
            "",
            "# sigtag fold 0\nkey\tk1\nuntil\t2000\n",
            "# sigtag fold 1\nkey\tk1\nuntil\tsoon\n",
            "# sigtag fold 1\nkey\tk1\nuntil\t2000\nv1\tmaybe\n",
            "# sigtag fold 1\nkey\tk1\nuntil\t2000\nv1\tno\n",
            "# sigtag fold 1\nkey\tk1\nuntil\t2000\nv1\tyes\nv1\tyes\n",
        ] {
            fs::write(cache.dir.join("fold-d"), bad).unwrap();
            assert_eq!(cache.fold("d", "k1", 1_000), None, "{bad:?}");
        }
    }

    #[test]
    fn a_verdict_holds_until_its_earliest_signature_expires() {
        let (_d, cache) = cache();
        let table: HashMap<String, Verdict> = [
            ("a".repeat(40), verdict("v1", Some(2_000))),
            ("b".repeat(40), verdict("v2", None)),
        ]
        .into_iter()
        .collect();
        cache.save_verdicts("d1", table.iter()).unwrap();

        let before = cache.verdicts("d1", 1_999);
        assert_eq!(before.live, table, "stored with its expiry");
        assert!(before.expired.is_empty());
        let at = cache.verdicts("d1", 2_000);
        assert_eq!(at.live.len(), 1);
        assert!(at.live.contains_key(&"b".repeat(40)), "no expiry: holds");
        assert_eq!(
            at.expired.get(&"a".repeat(40)),
            Some(&verdict("v1", Some(2_000))),
            "at its expiration time it no longer holds"
        );
        // Another digest sees nothing.
        assert!(cache.verdicts("d2", 0).live.is_empty());
    }

    #[test]
    fn an_old_or_damaged_verdict_file_counts_as_empty() {
        let (_d, cache) = cache();
        let outer = "a".repeat(40);
        let commit = "c".repeat(40);
        // The format before expiry times: no header, four fields.
        fs::write(
            cache.dir.join("verdicts-d1"),
            format!("{outer}\tv1\t{commit}\t1700000000\n"),
        )
        .unwrap();
        assert!(cache.verdicts("d1", 0).live.is_empty());
        for damaged in [
            format!("{VERDICTS_HEADER}\n{outer}\tv1\t{commit}\t1700000000\n"),
            format!("{VERDICTS_HEADER}\n{outer}\tv1\t{commit}\t1700000000\tsoon\n"),
            format!("{VERDICTS_HEADER}\n{outer}\tv1\t{commit}\tx\t-\n"),
            format!("{VERDICTS_HEADER}\n{outer}\t\t{commit}\t1\t-\n"),
            "garbage".to_string(),
        ] {
            fs::write(cache.dir.join("verdicts-d1"), &damaged).unwrap();
            let v = cache.verdicts("d1", 0);
            assert!(v.live.is_empty() && v.expired.is_empty(), "{damaged:?}");
        }
        // The chain index keeps its format.
        fs::write(
            cache.dir.join("chains"),
            format!("{outer}\tv1\t{commit}\t1700000000\n"),
        )
        .unwrap();
        assert_eq!(cache.chains().get(&outer), Some(&verdict("v1", None).chain));
    }

    #[test]
    fn the_memory_of_returned_versions_keeps_the_newest() {
        let (_d, cache) = cache();
        let mut returned = Returned::new();
        for i in 0..(MAX_RETURNED as i64 + 10) {
            returned.insert((format!("v{i}"), "c".repeat(40)), 1_000 + i);
        }
        cache.save_returned("d1", &returned).unwrap();
        let back = cache.returned("d1");
        assert_eq!(back.len(), MAX_RETURNED);
        assert!(!back.contains_key(&("v9".to_string(), "c".repeat(40))));
        assert_eq!(
            back.get(&(format!("v{}", MAX_RETURNED + 9), "c".repeat(40))),
            Some(&(1_000 + MAX_RETURNED as i64 + 9))
        );
        fs::write(cache.dir.join("returned-d1"), "v1\tc\t1\n").unwrap();
        assert!(cache.returned("d1").is_empty(), "no header: empty");
    }

    #[test]
    fn the_seen_pairs_and_other_digests() {
        let (_d, cache) = cache();
        let seen: Seen = [
            ("v1".to_string(), "a".repeat(40)),
            ("v2".into(), "-".into()),
        ]
        .into_iter()
        .collect();
        cache.save_seen("d1", &seen).unwrap();
        cache.save_returned("d1", &Returned::new()).unwrap();
        assert_eq!(cache.seen("d1"), seen);
        // Saving the verdicts of another configuration drops these.
        cache.save_verdicts("d2", std::iter::empty()).unwrap();
        assert!(cache.seen("d1").is_empty());
        assert!(!cache.dir.join("returned-d1").exists());
        assert!(cache.dir.join("verdicts-d2").exists());
    }
}
