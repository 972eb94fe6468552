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

use super::cache::{Cache, Verdict};
use super::request::{Request, Source, Version, ENVIRONMENT};
use super::{log, refused_reason};
use crate::chain::{self, Chain};
use crate::error::{Error, ErrorKind, Result};
use crate::remote;
use crate::report::Report;
use crate::verify;
use git2::Repository;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

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
    /// The chain, when it had to be read.
    chain: Option<Chain>,
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

pub fn run(request: Request) -> Result<Vec<Version>> {
    let source = &request.source;
    if source.is_ssh() && matches!(source.access.host_keys, remote::HostKeys::Unchecked) {
        log("source.known_hosts is not set, so the ssh host key is not checked; pin it with the output of ssh-keyscan");
    }
    let cache = Cache::for_uri(&source.uri)?;
    let repo = fetch_tags(&cache, source).map_err(|e| super::remote_hint(source, e))?;

    let known = cache.verdicts(&source.digest);
    let index = cache.chains();
    let mut candidates = list_tags(&repo, source, &known, &index)?;
    read_chains(repo.path(), &mut candidates)?;
    let indexed: HashMap<&String, &Verdict> = candidates
        .iter()
        .filter_map(|c| Some((c.outer.as_ref()?, c.meta.as_ref()?)))
        .collect();
    if indexed.len() != index.len() || indexed.keys().any(|o| !index.contains_key(*o)) {
        if let Err(e) = cache.save_chains(indexed) {
            log(&format!("could not save the chain index: {e}"));
        }
    }
    let judge = Judge::new(source, repo.path());

    // Structural rejections need no signature check: name them all.
    let mut refused = 0usize;
    for c in &candidates {
        if let Some(f) = c.chain.as_ref().and_then(Chain::rejection) {
            refused += 1;
            log(&format!(
                "skipping {}: rejected: {}",
                super::request::shown(&c.name),
                f.problem
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
            verified += todo.len();
            let mut fresh: HashMap<&str, Option<Verdict>> = judge
                .all(&todo)
                .into_iter()
                .map(|(c, v)| (c.name.as_str(), v))
                .collect();
            for c in newer {
                let verdict = match &c.verdict {
                    Some(v) => Some(v.clone()),
                    None => fresh.remove(c.name.as_str()).flatten(),
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
            let mut rest: Vec<&Candidate> = sorted.iter().rev().copied().collect();
            'search: while !rest.is_empty() {
                // A cached verdict ahead of any unverified tag ends the search.
                let cached_at = rest.iter().position(|c| c.verdict.is_some());
                let take = cached_at.unwrap_or(rest.len()).min(batch);
                if take == 0 {
                    let c = rest[0];
                    found.push((c, c.verdict.clone().expect("cached")));
                    break;
                }
                let todo: Vec<&Candidate> = rest.drain(..take).collect();
                verified += todo.len();
                let results = judge.all(&todo);
                // Newest first: the first that satisfies is the answer;
                // the others are kept for the cache.
                for (c, verdict) in results {
                    match verdict {
                        Some(v) => found.push((c, v)),
                        None => refused += 1,
                    }
                }
                if !found.is_empty() {
                    break 'search;
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

/// Verifies chains in parallel and collects the positive verdicts.
struct Judge<'s> {
    source: &'s Source,
    gitdir: PathBuf,
    now: SystemTime,
    positives: std::sync::Mutex<Vec<(String, Verdict)>>,
}

impl<'s> Judge<'s> {
    fn new(source: &'s Source, gitdir: &Path) -> Judge<'s> {
        Judge {
            source,
            gitdir: gitdir.to_path_buf(),
            now: SystemTime::now(),
            positives: Default::default(),
        }
    }

    /// The verdicts of `todo`, in its order; refused tags are logged.
    fn all<'c>(&self, todo: &[&'c Candidate]) -> Vec<(&'c Candidate, Option<Verdict>)> {
        let reports: Vec<Report> = todo
            .par_iter()
            .map_init(
                || Repository::open(&self.gitdir).ok(),
                |repo, c| {
                    let read;
                    let chain = match (&c.chain, repo) {
                        (Some(chain), _) => chain,
                        (None, Some(repo)) => {
                            read = chain::read(repo, &c.name);
                            &read
                        }
                        (None, None) => {
                            read = Chain {
                                name: c.name.clone(),
                                outer: None,
                                layers: Vec::new(),
                                commit: None,
                                findings: vec![chain::Finding {
                                    layer: None,
                                    problem: crate::problem::Problem::Unreadable(
                                        "the cached repository cannot be opened".into(),
                                    ),
                                }],
                            };
                            &read
                        }
                    };
                    let checks = verify::check_chain(chain, &self.source.trust, self.now);
                    Report::build(
                        ENVIRONMENT,
                        &self.source.rule,
                        &self.source.trust,
                        chain,
                        &checks,
                    )
                },
            )
            .collect();
        todo.iter()
            .zip(reports)
            .map(|(c, report)| {
                let verdict = match (&report.outer, &report.commit, report.created) {
                    (Some(outer), Some(commit), Some(created)) if report.satisfied => {
                        let v = Verdict {
                            tag: report.tag.clone(),
                            commit: commit.clone(),
                            created,
                        };
                        if let Ok(mut p) = self.positives.lock() {
                            p.push((outer.clone(), v.clone()));
                        }
                        Some(v)
                    }
                    _ => {
                        log(&format!(
                            "skipping {}: {}",
                            super::request::shown(&report.tag),
                            refused_reason(&report)
                        ));
                        None
                    }
                };
                (*c, verdict)
            })
            .collect()
    }
}

/// Reads the chain of every tag that is neither in the verdict cache nor
/// in the chain index, in parallel (one repository handle per thread). No
/// signature is checked here.
fn read_chains(gitdir: &Path, candidates: &mut [Candidate]) -> Result<()> {
    let gitdir = gitdir.to_path_buf();
    candidates
        .par_iter_mut()
        .filter(|c| c.meta.is_none())
        .try_for_each_init(
            || Repository::open(&gitdir),
            |repo, c| match repo {
                Ok(repo) => {
                    let chain = chain::read(repo, &c.name);
                    if chain.rejection().is_none() {
                        if let (Some(commit), Some(created)) = (&chain.commit, chain.created()) {
                            c.meta = Some(Verdict {
                                tag: c.name.clone(),
                                commit: commit.clone(),
                                created,
                            });
                        }
                    }
                    c.chain = Some(chain);
                    Ok(())
                }
                Err(e) => Err(Error::repo(format!(
                    "cannot open {}: {}",
                    gitdir.display(),
                    crate::error::clean(e.message())
                ))),
            },
        )
}

/// Brings the cached clone up to date: every tag, and only tags, with the
/// objects they need; tags deleted on the remote vanish. When the remote
/// advertises exactly the tags the cache holds, nothing is downloaded. A
/// cache that cannot be used is thrown away and fetched from scratch.
fn fetch_tags(cache: &Cache, source: &Source) -> Result<Repository> {
    let sync = |repo: &Repository| {
        remote::fetch_refs(
            repo,
            &source.uri,
            "refs/tags/",
            &local_tags(repo),
            &source.access,
        )
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
            chain: None,
        });
    }
    Ok(out)
}
