//! `check`: the versions a pipeline may see.
//!
//! Only tags that satisfy `source.require` become versions, ordered by the
//! creation time of their innermost layer (ties by name). Without a version:
//! the latest. With one: it (if it still satisfies) and every newer
//! satisfying tag, none skipped; if its tag vanished or moved to another
//! commit, just the latest.
//!
//! Reading a chain is cheap, verifying its signatures is not, so only the
//! tags that can be in the answer are verified: with a version, those not
//! older than it; without one, the newest first until one satisfies.
//! Positive verdicts are cached, so each chain is verified once.
//!
//! A check holds the name, outer object id and a few fields of every tag,
//! never all tag objects at once: a chain is read when it is needed, by a
//! few threads at a time, and dropped when its verdict is known, so a
//! repository with a hundred thousand tags costs megabytes, not the size
//! of its tags.
//!
//! The whole check is bounded by `source.check_timeout`. When the time runs
//! out, what was learnt so far (the chain index and the positive verdicts)
//! is cached and the check fails with one sentence; the next check goes on
//! from there.

use super::cache::{Cache, Verdict};
use super::request::{Request, Source, Version, ENVIRONMENT};
use super::{log, refused_reason};
use crate::chain::{self, Chain};
use crate::error::{Error, ErrorKind, Result};
use crate::problem::Problem;
use crate::remote;
use crate::report::Report;
use crate::verify;
use git2::Repository;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// A tag in the repository that passes `tag_filter`.
struct Candidate {
    name: String,
    /// The outer tag object (or whatever the ref points at).
    outer: Option<String>,
    /// The cached positive verdict, when there is one.
    verdict: Option<Verdict>,
    /// Commit and creation time of a well-formed chain: from the verdict,
    /// the chain index, or reading the chain.
    meta: Option<Verdict>,
    /// Why the chain is rejected, when reading it found a structural
    /// problem. The chain itself is not kept.
    rejection: Option<Problem>,
}

impl Candidate {
    /// `(created, name)`: the order of versions.
    fn key(&self) -> Option<(i64, &str)> {
        self.meta.as_ref().map(|m| (m.created, self.name.as_str()))
    }

    fn commit(&self) -> Option<&str> {
        self.meta.as_ref().map(|m| m.commit.as_str())
    }
}

/// The end of the time one check may take (`source.check_timeout`).
struct Deadline {
    limit: Duration,
    at: Instant,
}

impl Deadline {
    fn new(limit: Duration) -> Deadline {
        let now = Instant::now();
        Deadline {
            limit,
            // A limit too far ahead to represent never runs out.
            at: now
                .checked_add(limit)
                .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365)),
        }
    }

    fn expired(&self) -> bool {
        Instant::now() >= self.at
    }

    fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The error of a check that ran out of time; `progress` says how far
    /// it got.
    fn error(&self, progress: &str) -> Error {
        let secs = self.limit.as_secs_f64();
        let limit = if secs.fract() == 0.0 {
            format!("{secs:.0} s")
        } else {
            format!("{secs} s")
        };
        Error::io(format!(
            "the check took longer than source.check_timeout ({limit}) and stopped: {progress}; \
             what it found so far is cached, so the next check goes on from there; \
             raise source.check_timeout or narrow source.tag_filter"
        ))
    }
}

pub fn run(request: Request) -> Result<Vec<Version>> {
    let source = &request.source;
    let deadline = Deadline::new(source.check_timeout);
    // libgit2 keeps every object it reads in a cache of up to 256 MiB per
    // repository handle; a check reads each tag object once or twice, so
    // the cache would only hold the tags in memory.
    git2::opts::enable_caching(false);
    let cache = Cache::for_uri(&source.uri)?;
    // No connection, read or write may outlast source.network_timeout or
    // the time left of the check, and a download stops when the check's
    // time is up.
    super::prepare_network(source, source.network_timeout.min(deadline.remaining()));
    let access = remote::Access {
        deadline: Some(deadline.at),
        ..source.access.clone()
    };
    let repo = match fetch_tags(&cache, source, &access) {
        Ok(repo) => repo,
        Err(_) if deadline.expired() => {
            return Err(deadline.error(&format!(
                "the tags of {} were still being fetched",
                source.shown_uri()
            )))
        }
        Err(e) => return Err(super::remote_hint(source, e)),
    };

    let known = cache.verdicts(&source.digest);
    let index = cache.chains();
    let mut candidates = list_tags(&repo, source, &known, &index)?;
    let unread = read_chains(repo.path(), &mut candidates, &deadline)?;
    let indexed: HashMap<&String, &Verdict> = candidates
        .iter()
        .filter_map(|c| Some((c.outer.as_ref()?, c.meta.as_ref()?)))
        .collect();
    if indexed.len() != index.len() || indexed.keys().any(|o| !index.contains_key(*o)) {
        if let Err(e) = cache.save_chains(indexed) {
            log(&format!("could not save the chain index: {e}"));
        }
    }
    if unread > 0 {
        return Err(deadline.error(&format!(
            "{} of {} tags were read",
            candidates.len().saturating_sub(unread),
            candidates.len()
        )));
    }
    let judge = Judge::new(source, repo.path(), &deadline);

    // Structural rejections need no signature check: name them all.
    let mut refused = 0usize;
    for c in &candidates {
        if let Some(problem) = &c.rejection {
            refused += 1;
            log(&format!(
                "skipping {}: rejected: {problem}",
                super::request::shown(&c.name),
            ));
        }
    }
    let mut sorted: Vec<&Candidate> = candidates.iter().filter(|c| c.key().is_some()).collect();
    sorted.sort_by(|a, b| a.key().cmp(&b.key()));

    // Where does the given version stand?
    let position = request.version.as_ref().and_then(|v| {
        let c = candidates.iter().find(|c| c.name == v.tag)?;
        Some((c.commit()? == v.commit, c.key()?))
    });
    if let Some(v) = &request.version {
        let tag = super::request::shown(&v.tag);
        let exists = candidates.iter().any(|c| c.name == v.tag);
        let why = match position {
            Some((true, _)) => None,
            Some((false, _)) => Some(format!(
                "tag {tag} now points at another commit than {}",
                v.commit
            )),
            None if !source.wants(&v.tag) => {
                Some(format!("tag {tag} does not match source.tag_filter"))
            }
            None if exists => Some(format!("tag {tag} is rejected now")),
            None => Some(format!("tag {tag} no longer exists")),
        };
        if let Some(why) = why {
            log(&format!("{why}; returning the latest version"));
        }
    }

    let mut found: Vec<(&Candidate, Verdict)> = Vec::new();
    let mut verified = 0usize;
    let mut pending = 0usize;
    // Tags that needed a signature check and did not get one in time.
    let mut late = 0usize;
    match position {
        Some((true, cutoff)) => {
            // The version and everything newer: verify what is not cached.
            let newer: Vec<&Candidate> = sorted
                .iter()
                .copied()
                .filter(|c| c.key().is_some_and(|k| k >= cutoff))
                .collect();
            let todo: Vec<&Candidate> = newer
                .iter()
                .copied()
                .filter(|c| c.verdict.is_none())
                .collect();
            pending = todo.len();
            let mut fresh: HashMap<&str, Outcome> = HashMap::new();
            for (c, outcome) in judge.all(&todo) {
                match outcome {
                    Outcome::NotReached => late += 1,
                    other => {
                        verified += 1;
                        fresh.insert(c.name.as_str(), other);
                    }
                }
            }
            for c in newer {
                let verdict = match &c.verdict {
                    Some(v) => Some(v.clone()),
                    None => match fresh.remove(c.name.as_str()) {
                        Some(Outcome::Satisfied(v)) => Some(v),
                        _ => None,
                    },
                };
                match verdict {
                    Some(v) => found.push((c, v)),
                    None => refused += 1,
                }
            }
        }
        _ => {
            // Only the latest: newest first, a few at a time in parallel,
            // until one satisfies.
            let batch = rayon::current_num_threads().max(1) * 2;
            let mut rest = sorted.iter().rev().copied().peekable();
            while found.is_empty() && late == 0 {
                // A cached verdict ahead of any unverified tag ends the search.
                let mut todo: Vec<&Candidate> = Vec::with_capacity(batch);
                while todo.len() < batch {
                    match rest.peek() {
                        Some(c) if c.verdict.is_none() => {
                            todo.push(c);
                            rest.next();
                        }
                        _ => break,
                    }
                }
                if todo.is_empty() {
                    if let Some(c) = rest.next() {
                        if let Some(v) = &c.verdict {
                            found.push((c, v.clone()));
                        }
                    }
                    break;
                }
                pending += todo.len();
                // Newest first: the first that satisfies is the answer;
                // the others are kept for the cache.
                for (c, outcome) in judge.all(&todo) {
                    match outcome {
                        Outcome::Satisfied(v) => {
                            verified += 1;
                            found.push((c, v));
                        }
                        Outcome::Refused => {
                            verified += 1;
                            refused += 1;
                        }
                        Outcome::NotReached => late += 1,
                    }
                }
            }
            found.sort_by(|a, b| a.0.key().cmp(&b.0.key()));
            found.drain(..found.len().saturating_sub(1));
        }
    }

    // The cache keeps every positive verdict of a tag that still exists.
    let mut keep: HashMap<String, Verdict> = candidates
        .iter()
        .filter_map(|c| Some((c.outer.clone()?, c.verdict.clone()?)))
        .collect();
    let before = keep.len();
    for (o, v) in judge.positives.into_inner().unwrap_or_default() {
        keep.insert(o, v);
    }
    if keep.len() != known.len() || keep.len() != before {
        if let Err(e) = cache.save_verdicts(&source.digest, keep.iter()) {
            log(&format!("could not save the verdict cache: {e}"));
        }
    }
    if late > 0 {
        return Err(deadline.error(&format!(
            "{} of {pending} tags that needed a signature check got one",
            pending.saturating_sub(late)
        )));
    }

    found.sort_by(|a, b| a.0.key().cmp(&b.0.key()));
    let versions: Vec<Version> = found
        .iter()
        .map(|(_, v)| Version {
            tag: v.tag.clone(),
            commit: v.commit.clone(),
        })
        .collect();
    let cached = candidates.iter().filter(|c| c.verdict.is_some()).count();
    log(&format!(
        "{} tags: {verified} verified now, {cached} from the cache, {refused} skipped; {} version{} for \"{}\"",
        candidates.len(),
        versions.len(),
        if versions.len() == 1 { "" } else { "s" },
        source.rule,
    ));
    Ok(versions)
}

/// What verifying one chain found.
enum Outcome {
    Satisfied(Verdict),
    Refused,
    /// The time ran out before it was verified.
    NotReached,
}

/// Verifies chains in parallel and collects the positive verdicts.
struct Judge<'s> {
    source: &'s Source,
    gitdir: PathBuf,
    now: SystemTime,
    deadline: &'s Deadline,
    positives: std::sync::Mutex<Vec<(String, Verdict)>>,
}

impl<'s> Judge<'s> {
    fn new(source: &'s Source, gitdir: &Path, deadline: &'s Deadline) -> Judge<'s> {
        Judge {
            source,
            gitdir: gitdir.to_path_buf(),
            now: SystemTime::now(),
            deadline,
            positives: Default::default(),
        }
    }

    /// The outcomes of `todo`, in its order; refused tags are logged. Each
    /// chain is read here and dropped as soon as its report is made.
    fn all<'c>(&self, todo: &[&'c Candidate]) -> Vec<(&'c Candidate, Outcome)> {
        let results: Vec<(Outcome, Option<String>)> = todo
            .par_iter()
            .map_init(
                || Repository::open(&self.gitdir).ok(),
                |repo, c| {
                    if self.deadline.expired() {
                        return (Outcome::NotReached, None);
                    }
                    let chain = match repo {
                        Some(repo) => chain::read(repo, &c.name),
                        None => unreadable(&c.name),
                    };
                    let checks = verify::check_chain(&chain, &self.source.trust, self.now);
                    let report = Report::build(
                        ENVIRONMENT,
                        &self.source.rule,
                        &self.source.trust,
                        &chain,
                        &checks,
                    );
                    match (&report.outer, &report.commit, report.created) {
                        (Some(outer), Some(commit), Some(created)) if report.satisfied => {
                            let v = Verdict {
                                tag: report.tag.clone(),
                                commit: commit.clone(),
                                created,
                            };
                            if let Ok(mut p) = self.positives.lock() {
                                p.push((outer.clone(), v.clone()));
                            }
                            (Outcome::Satisfied(v), None)
                        }
                        _ => (
                            Outcome::Refused,
                            Some(format!(
                                "skipping {}: {}",
                                super::request::shown(&report.tag),
                                refused_reason(&report)
                            )),
                        ),
                    }
                },
            )
            .collect();
        todo.iter()
            .zip(results)
            .map(|(c, (outcome, line))| {
                if let Some(line) = line {
                    log(&line);
                }
                (*c, outcome)
            })
            .collect()
    }
}

/// The chain of a tag whose repository cannot be opened: rejected.
fn unreadable(name: &str) -> Chain {
    Chain {
        name: name.to_string(),
        outer: None,
        layers: Vec::new(),
        commit: None,
        findings: vec![chain::Finding {
            layer: None,
            problem: Problem::Unreadable("the cached repository cannot be opened".into()),
        }],
    }
}

/// Reads the chain of every tag that is neither in the verdict cache nor
/// in the chain index, in parallel (one repository handle per thread), and
/// keeps only its commit and creation time, or why it is rejected. No
/// signature is checked here. Returns how many were left unread because
/// the time ran out.
fn read_chains(gitdir: &Path, candidates: &mut [Candidate], deadline: &Deadline) -> Result<usize> {
    let gitdir = gitdir.to_path_buf();
    let unread = AtomicUsize::new(0);
    candidates
        .par_iter_mut()
        .filter(|c| c.meta.is_none())
        .try_for_each_init(
            || Repository::open(&gitdir),
            |repo, c| match repo {
                Ok(_) if deadline.expired() => {
                    unread.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Ok(repo) => {
                    let chain = chain::read(repo, &c.name);
                    match chain.rejection() {
                        Some(f) => c.rejection = Some(f.problem.clone()),
                        None => {
                            if let (Some(commit), Some(created)) = (&chain.commit, chain.created())
                            {
                                c.meta = Some(Verdict {
                                    tag: c.name.clone(),
                                    commit: commit.clone(),
                                    created,
                                });
                            }
                        }
                    }
                    Ok(())
                }
                Err(e) => Err(Error::repo(format!(
                    "cannot open {}: {}",
                    gitdir.display(),
                    crate::error::clean(e.message())
                ))),
            },
        )?;
    Ok(unread.into_inner())
}

/// Brings the cached clone up to date: every tag, and only tags, with the
/// objects they need; tags deleted on the remote vanish. When the remote
/// advertises exactly the tags the cache holds, nothing is downloaded. A
/// cache that cannot be used is thrown away and fetched from scratch.
fn fetch_tags(cache: &Cache, source: &Source, access: &remote::Access) -> Result<Repository> {
    let sync = |repo: &Repository| {
        remote::fetch_refs(repo, &source.uri, "refs/tags/", &local_tags(repo), access)
    };
    let repo = cache.repo(&source.uri)?;
    let fetched = match sync(&repo) {
        Err(e) if e.kind() == ErrorKind::Repo => {
            log(&format!("{e}; fetching again into a fresh cache"));
            drop(repo);
            cache.reset()?;
            sync(&cache.repo(&source.uri)?)?
        }
        other => other?,
    };
    match fetched {
        None => cache.repo(&source.uri),
        Some(tags) => {
            cache.write_tags(&tags)?;
            // A fresh handle, so that no cached view of the refs survives.
            cache.repo(&source.uri)
        }
    }
}

/// The cached tags, sorted, as `(refs/tags/NAME, target)`.
fn local_tags(repo: &Repository) -> Vec<(String, git2::Oid)> {
    let mut out: Vec<(String, git2::Oid)> = match repo.references_glob("refs/tags/*") {
        Ok(refs) => refs
            .flatten()
            .filter_map(|r| Some((r.name().ok()?.to_string(), r.target()?)))
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn list_tags(
    repo: &Repository,
    source: &Source,
    known: &HashMap<String, Verdict>,
    index: &HashMap<String, Verdict>,
) -> Result<Vec<Candidate>> {
    let refs = repo.references_glob("refs/tags/*").map_err(|e| {
        Error::repo(format!(
            "cannot list tags: {}",
            crate::error::clean(e.message())
        ))
    })?;
    let mut out = Vec::new();
    for r in refs.flatten() {
        let Some(name) = r.name().ok().and_then(|n| n.strip_prefix("refs/tags/")) else {
            continue;
        };
        if !source.wants(name) {
            continue;
        }
        let outer = r.target().map(|o| o.to_string());
        // An entry counts only for the tag it was made for.
        let lookup = |table: &HashMap<String, Verdict>| {
            outer
                .as_ref()
                .and_then(|o| table.get(o))
                .filter(|v| v.tag == name)
                .cloned()
        };
        let verdict = lookup(known);
        let meta = verdict.clone().or_else(|| lookup(index));
        out.push(Candidate {
            name: name.to_string(),
            outer,
            verdict,
            meta,
            rejection: None,
        });
    }
    Ok(out)
}
