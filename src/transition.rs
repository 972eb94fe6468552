//! Promotion as a transition (DESIGN §6): which earlier promotion a tag
//! follows in an environment (its **base**), and which commits it brings
//! (its **range**), read from the repository alone.
//!
//! The promotions of an environment are its candidate tags that satisfy
//! its rule, in the resource's order: by the creation time of the
//! innermost layer (the tagger date a signature vouches for), ties by name
//! in plain byte order ([`Key`]). Whether an older tag satisfies can itself
//! depend on its base, so [`crate::verdict::Gate`] judges an environment's
//! tags oldest first, each with the base found among the earlier ones that
//! satisfy (a fold); this module answers the questions each step asks.
//!
//! Invariants:
//!
//! - The base of a tag T is the newest promotion older than T whose commit
//!   is an ancestor of T's commit **or T's commit itself** ([`History::base`]):
//!   a re-tag of an approved commit follows it (its range is empty), where
//!   git's descendant check is strict. Never a tag as new as T or newer,
//!   never T itself.
//! - The range of T is every commit reachable from T's commit and not from
//!   its base's commit, merge commits and every parent included, as `git
//!   rev-list BASE..T` lists them and in that order ([`History::range`]).
//!   With no base it is every ancestor of T's commit, or, when the
//!   environment names `since = "REV"`, those not reachable from REV,
//!   which must be an ancestor of (or equal to) T's commit.
//! - Fail closed, with a sentence naming the fix ([`Refusal`]): a range of
//!   more than [`MAX_RANGE_COMMITS`] commits, a commit that cannot be read,
//!   a shallow boundary inside a range (or an ancestry question a shallow
//!   clone cannot answer for sure), grafts (`info/grafts`), a replace ref
//!   of a commit of a range, or a `since` that names no commit or one that
//!   is no ancestor of T: the tag is refused, nothing is guessed.
//! - Authors are read as the commits record them (`Name <email>`); which
//!   signer an author is, is the trust root's ([`crate::trust::Trust::signers_with_email`]).
//!   Committers and `Co-authored-by` trailers are not read.
//! - No memory of past checks: everything comes from the repository, and
//!   what this module learns lives as long as one [`History`].
//!
//! Cost: nothing here runs for a rule without transition atoms. Ancestry
//! answers are cached for the life of a [`History`]; a range is walked
//! once per tag that needs it (libgit2's revision walk, which reads the
//! commits of the range and the boundary around it).

use crate::chain::{self, Replacements};
use crate::limits::{MAX_RANGE_COMMITS, MAX_SUBJECT_CHARS};
use git2::{Oid, Repository};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

/// Where a tag stands in the order of versions: `(created, name)`.
pub type Key<'a> = (i64, &'a str);

/// One commit of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeCommit {
    pub id: Oid,
    /// The author, `Name <email>`, made printable.
    pub author: String,
    /// The author's email address as recorded, for matching to signers.
    pub email: String,
    /// The author's time (seconds since the epoch).
    pub time: i64,
    /// The subject (first line of the message), made printable.
    pub subject: String,
}

/// A commit's subject for reports: control and invisible characters
/// dropped, at most [`MAX_SUBJECT_CHARS`] characters (then `…`).
fn subject_of(subject: &str) -> String {
    let clean = crate::message::sanitize(subject).replace(['\n', '\t'], " ");
    if clean.chars().count() > MAX_SUBJECT_CHARS {
        let mut cut: String = clean.chars().take(MAX_SUBJECT_CHARS).collect();
        cut.push('…');
        cut
    } else {
        clean
    }
}

/// Why a tag's transition cannot be judged. [`Refusal::sentence`] words it
/// for one tag and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `info/grafts` exists and is not empty.
    Grafts,
    /// A commit of a range (or of a walk that answers an ancestry
    /// question) is a shallow boundary: its parents are missing.
    Shallow(Oid),
    /// `refs/replace/<commit>` replaces a commit of the range.
    Replaced { commit: Oid, by: String },
    /// More than [`MAX_RANGE_COMMITS`] commits; `from` says where the
    /// range starts ("v1.0 (1a2b3c4d5e6f)", "its first commit").
    TooLong { from: String },
    /// A commit cannot be read.
    Unreadable { commit: Option<Oid>, why: String },
    /// `since` names no commit of the repository.
    SinceUnknown { rev: String },
    /// `since` is no ancestor of the tag's commit.
    SinceNotAncestor { rev: String, commit: Oid },
}

impl Refusal {
    /// The reason `tag` is refused for `env`. `since_field` says where
    /// `since` is set (`environments.prod.since in policy.toml`), `None`
    /// when the rule belongs to no environment.
    pub fn sentence(&self, tag: &str, since_field: Option<&str>) -> String {
        let short = |o: &Oid| short_id(&o.to_string());
        match self {
            Refusal::Grafts => format!(
                "the repository has grafts (info/grafts), which change what a commit's parents are, \
                 so the range of {tag} cannot be judged; remove info/grafts"
            ),
            Refusal::Shallow(c) => format!(
                "the history of {tag} reaches commit {}, whose parents this shallow clone lacks; \
                 fetch the whole history (git fetch --unshallow)",
                short(c)
            ),
            Refusal::Replaced { commit, by } => format!(
                "refs/replace/{commit} replaces commit {} of the range of {tag} with {by}: \
                 git would show other history than sigtag judges; remove the replace ref",
                short(commit)
            ),
            Refusal::TooLong { from } => {
                let fix = match since_field {
                    Some(field) => format!(
                        "set {field} to a reviewed commit closer to {tag} (since = \"COMMIT\")"
                    ),
                    None => "judge it for an environment whose since = \"COMMIT\" names a \
                             reviewed commit closer to it"
                        .to_string(),
                };
                format!(
                    "the range of {tag} from {from} holds more than {MAX_RANGE_COMMITS} commits, \
                     the most sigtag reads; {fix}"
                )
            }
            Refusal::Unreadable { commit, why } => match commit {
                Some(c) => format!(
                    "commit {} of the history of {tag} cannot be read ({why}); fetch the whole history",
                    short(c)
                ),
                None => format!("the history of {tag} cannot be read: {why}"),
            },
            Refusal::SinceUnknown { rev } => format!(
                "since = \"{rev}\" names no commit of the repository, so the range of {tag}, \
                 which has no base, has no start; fix {}",
                since_field.unwrap_or("since")
            ),
            Refusal::SinceNotAncestor { rev, commit } => format!(
                "since = \"{rev}\" (commit {}) is not an ancestor of {tag}'s commit, so the range \
                 of {tag}, which has no base, has no reviewed start; set {} to an ancestor of it",
                short(commit),
                since_field.unwrap_or("since")
            ),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence("the tag", None))
    }
}

/// The first 12 digits of a commit id, as reports show it.
pub fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

fn unreadable(commit: Option<Oid>) -> impl Fn(git2::Error) -> Refusal {
    move |e| Refusal::Unreadable {
        commit,
        why: crate::error::clean(e.message()),
    }
}

/// The history of one repository as bases and ranges need it: its shallow
/// boundary, grafts and replace refs, read once, and the ancestry answers
/// found so far.
pub struct History<'r> {
    repo: &'r Repository,
    shallow: HashSet<Oid>,
    grafts: bool,
    replaced: Result<Arc<Replacements>, String>,
    /// `(ancestor, of)` -> is `ancestor` an ancestor of `of` (or `of`)?
    known: RefCell<HashMap<(Oid, Oid), bool>>,
}

impl<'r> History<'r> {
    /// Reads what changes a repository's history: the commits of its
    /// shallow boundary (`shallow`), whether it has grafts, and its
    /// replace refs.
    pub fn open(repo: &'r Repository) -> History<'r> {
        let common = repo.commondir().to_path_buf();
        let read = |name: &str| std::fs::read_to_string(common.join(name)).unwrap_or_default();
        let shallow = read("shallow")
            .lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect();
        let grafts = read("info/grafts")
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        History {
            repo,
            shallow,
            grafts,
            replaced: chain::replacements(repo),
            known: RefCell::new(HashMap::new()),
        }
    }

    /// Is `ancestor` an ancestor of `of`, or `of` itself? In a shallow
    /// clone a "no" is checked: when the commits that would lie between
    /// reach the shallow boundary, the answer is not known and the tag is
    /// refused.
    pub fn is_ancestor(&self, ancestor: Oid, of: Oid) -> Result<bool, Refusal> {
        if ancestor == of {
            return Ok(true);
        }
        if self.grafts {
            return Err(Refusal::Grafts);
        }
        if let Some(&known) = self.known.borrow().get(&(ancestor, of)) {
            return Ok(known);
        }
        let yes = self
            .repo
            .graph_descendant_of(of, ancestor)
            .map_err(unreadable(None))?;
        if !yes && !self.shallow.is_empty() {
            // A path from `of` to `ancestor` would pass a shallow commit
            // that `of` reaches and `ancestor` does not.
            self.walk(of, Some(ancestor), &|| Refusal::TooLong {
                from: short_id(&ancestor.to_string()),
            })?;
        }
        self.known.borrow_mut().insert((ancestor, of), yes);
        Ok(yes)
    }

    /// The base of a tag at `commit`: the newest of `earlier` (promotions
    /// older than the tag, oldest first, each with its commit) whose
    /// commit is an ancestor of `commit` or `commit` itself.
    pub fn base<'p, P>(
        &self,
        commit: Oid,
        earlier: &'p [P],
        commit_of: impl Fn(&P) -> Oid,
    ) -> Result<Option<&'p P>, Refusal> {
        for p in earlier.iter().rev() {
            if self.is_ancestor(commit_of(p), commit)? {
                return Ok(Some(p));
            }
        }
        Ok(None)
    }

    /// The commit `since = "REV"` names: a full commit id, or a tag name
    /// (`refs/tags/REV`, peeled to its commit).
    pub fn since(&self, rev: &str) -> Result<Oid, Refusal> {
        let unknown = || Refusal::SinceUnknown {
            rev: rev.to_string(),
        };
        let object = if crate::names::is_object_id(rev) {
            let oid = Oid::from_str(rev).map_err(|_| unknown())?;
            self.repo.find_object(oid, None).map_err(|_| unknown())?
        } else {
            self.repo
                .find_reference(&format!("refs/tags/{rev}"))
                .and_then(|r| r.peel(git2::ObjectType::Commit))
                .map_err(|_| unknown())?
        };
        let commit = object.peel_to_commit().map_err(|_| unknown())?;
        Ok(commit.id())
    }

    /// Where the range of a tag at `commit` with no base starts: `since`'s
    /// commit, which must be an ancestor of `commit` (or `commit`).
    pub fn since_for(&self, rev: &str, commit: Oid) -> Result<Oid, Refusal> {
        let start = self.since(rev)?;
        if !self.is_ancestor(start, commit)? {
            return Err(Refusal::SinceNotAncestor {
                rev: rev.to_string(),
                commit: start,
            });
        }
        Ok(start)
    }

    /// The range of a tag at `commit`: the commits reachable from it and
    /// not from `from` (the base's or since's commit; `None`: every
    /// ancestor), in `git rev-list` order, each with its author. `shown`
    /// words where the range starts, for a refusal.
    pub fn range(
        &self,
        commit: Oid,
        from: Option<Oid>,
        shown: &str,
    ) -> Result<Vec<RangeCommit>, Refusal> {
        if self.grafts {
            return Err(Refusal::Grafts);
        }
        let replaced = self
            .replaced
            .as_ref()
            .map_err(|why| Refusal::Unreadable {
                commit: None,
                why: format!("cannot list refs/replace: {why}"),
            })?
            .clone();
        let mut out = Vec::new();
        self.walk(commit, from, &|| Refusal::TooLong {
            from: shown.to_string(),
        })?
        .into_iter()
        .try_for_each(|oid| {
            if let Some(by) = replaced.get(&oid) {
                return Err(Refusal::Replaced {
                    commit: oid,
                    by: by.clone(),
                });
            }
            let c = self.repo.find_commit(oid).map_err(unreadable(Some(oid)))?;
            let author = c.author();
            let name = String::from_utf8_lossy(author.name_bytes()).into_owned();
            let email = String::from_utf8_lossy(author.email_bytes()).into_owned();
            let shown = |s: &str| crate::names::printable(&crate::message::sanitize(s));
            let subject = String::from_utf8_lossy(c.summary_bytes().unwrap_or_default());
            out.push(RangeCommit {
                id: oid,
                author: format!("{} <{}>", shown(&name), shown(&email)),
                email,
                time: author.when().seconds(),
                subject: subject_of(&subject),
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// The commits reachable from `tip` and not from `hide`, at most
    /// [`MAX_RANGE_COMMITS`] (more: `too_long()`), none of them a shallow
    /// boundary.
    fn walk(
        &self,
        tip: Oid,
        hide: Option<Oid>,
        too_long: &dyn Fn() -> Refusal,
    ) -> Result<Vec<Oid>, Refusal> {
        let mut walk = self.repo.revwalk().map_err(unreadable(None))?;
        walk.push(tip).map_err(unreadable(Some(tip)))?;
        if let Some(h) = hide {
            walk.hide(h).map_err(unreadable(Some(h)))?;
        }
        let mut out = Vec::new();
        for oid in walk {
            let oid = oid.map_err(unreadable(None))?;
            if out.len() == MAX_RANGE_COMMITS {
                return Err(too_long());
            }
            if self.shallow.contains(&oid) {
                return Err(Refusal::Shallow(oid));
            }
            out.push(oid);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_fix() {
        let c = Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let field = Some("environments.prod.since in keys/policy.toml");
        assert_eq!(
            Refusal::TooLong {
                from: "its first commit".into()
            }
            .sentence("v1.2", field),
            format!(
                "the range of v1.2 from its first commit holds more than {MAX_RANGE_COMMITS} commits, \
                 the most sigtag reads; set environments.prod.since in keys/policy.toml to a reviewed \
                 commit closer to v1.2 (since = \"COMMIT\")"
            )
        );
        assert_eq!(
            Refusal::SinceNotAncestor {
                rev: "v0.9".into(),
                commit: c
            }
            .sentence("v1.2", field),
            "since = \"v0.9\" (commit 0123456789ab) is not an ancestor of v1.2's commit, so the range \
             of v1.2, which has no base, has no reviewed start; set environments.prod.since in \
             keys/policy.toml to an ancestor of it"
        );
        assert_eq!(
            Refusal::Shallow(c).sentence("v1.2", None),
            "the history of v1.2 reaches commit 0123456789ab, whose parents this shallow clone lacks; \
             fetch the whole history (git fetch --unshallow)"
        );
    }
}
