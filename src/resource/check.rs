//! `check`: the versions a pipeline may see.
//!
//! Only tags that satisfy `source.require` become versions, ordered by the
//! creation time of their innermost layer (ties by name). Without a version:
//! the latest. With one: it (if it still satisfies) and every newer
//! satisfying tag, none skipped, and never an older one. If its tag
//! vanished, moved or stopped satisfying, only the satisfying tags newer
//! than where it stood when a check returned it (the cache remembers); a
//! version that cannot be placed so gives no version at all, and the log
//! says how to go on. A chain that is refused now never places a version:
//! anyone who can push can write an inner layer with any date.
//!
//! With `source.in_order` (DESIGN §6) a check from a version returns at
//! most one newer version: the next satisfying one. The others wait, and
//! one line says so ("v1.3.0 and 2 more wait: in_order returns one
//! promotion per check"); each later check returns the next, so none is
//! skipped over time and a pipeline deploys every promotion in turn. A
//! first check still returns only the latest.
//!
//! The log names every refused tag with its reason, and every other tag
//! not returned that is new since the last check (a `(name, outer object)`
//! pair the cache had not seen), with why: older than the given version,
//! not the latest on a first check, or withheld because the version cannot
//! be placed. At most [`MAX_NAMED`] tags are named; the summary line counts
//! them all, and its numbers add up to the tags seen. Tags that are no
//! sigtag chain (lightweight, or annotated with no signed layer: a
//! project's tags from before sigtag) are never returned, never verified
//! and never named one by one: one line counts them, every check. Refusals
//! are worded by [`crate::render::line`], like every verdict.
//! [`select`] decides all of this without any I/O.
//!
//! Reading a chain is cheap, verifying its signatures is not, so only the
//! tags that can be in the answer are verified: with a version, those not
//! older than it; without one, the newest first until one satisfies.
//! Positive verdicts are cached until their earliest counting signature
//! expires, so each chain is verified once. Under a rule with transition
//! atoms (DESIGN §6) a verdict rests on the older tags' (the tag's base),
//! so every check judges every tag in one pass, oldest first
//! ([`Gate::judge_all`]), and takes no verdict from the cache. A tag
//! refused because a pipeline tested another transition than the one the
//! environment makes gets a second line ([`super::tested_hints`]): what
//! was tested, the environment's base, and how to recover.
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

use super::cache::{Answer, Cache, Chained, Fold, Seen, Verdict};
use super::request::{Request, Source, Version};
use super::select::{
    capped, date, not_chains_line, select, summary, waiting_line, Given, Status, Step, Tag,
};
use super::{log, refused_reason, tested_hints};
use crate::chain::{self, Chain};
use crate::error::{Error, ErrorKind, Result};
use crate::limits::MAX_NAMED;
use crate::object::SignatureBlock;
use crate::problem::Problem;
use crate::remote;
use crate::verdict::Gate;
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
    /// The cached positive verdict, when there is one that still holds.
    verdict: Option<Verdict>,
    /// Commit and creation time of a well-formed chain: from the verdict,
    /// the chain index, or reading the chain.
    meta: Option<Chained>,
    /// Why the chain is rejected, when reading it found a structural
    /// problem. The chain itself is not kept.
    rejection: Option<Problem>,
    /// Reading it found an annotated tag none of whose layers is signed:
    /// no sigtag chain. Such a tag stays out of the chain index, so every
    /// check reads it again (one object) and counts it as such.
    unsigned: bool,
}

impl Candidate {
    /// `(name, outer object or "-")`, as the cache remembers what it saw.
    fn pair(&self) -> (String, String) {
        (
            self.name.clone(),
            self.outer.clone().unwrap_or_else(|| "-".to_string()),
        )
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
        let limit = crate::limits::seconds(self.limit);
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

    answer(&request, &cache, &repo, &deadline)
}

/// Seconds since the epoch.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The versions to return, from the fetched clone: reads the cache, lists
/// and reads the chains, verifies what [`select`] asks for, logs its answer
/// and keeps what the next check needs.
fn answer(
    request: &Request,
    cache: &Cache,
    repo: &Repository,
    deadline: &Deadline,
) -> Result<Vec<Version>> {
    let source = &request.source;
    let now = unix_now();
    let mut known = cache.verdicts(&source.digest, now);
    // Under a rule with transition atoms, or in an environment that takes
    // emergencies, a verdict rests on the older tags', so no verdict is
    // taken from this cache (the fold keeps its own, see judge_in_order).
    let transitions = source.gate().needs_history();
    if transitions {
        known.live.clear();
    }
    let index = cache.chains();
    let mut returned = cache.returned(&source.digest);
    let seen = cache.seen(&source.digest);
    let mut candidates = list_tags(repo, source, &known.live, &index)?;
    for c in &candidates {
        let expired = c.outer.as_ref().and_then(|o| known.expired.get(o));
        if let Some(v) = expired.filter(|v| v.chain.tag == c.name) {
            log(&format!(
                "the cached verdict on {} ended at {}, when its earliest counting signature expired; verifying it again",
                super::request::shown(&c.name),
                date(v.expires.unwrap_or(now)),
            ));
        }
    }
    let unread = read_chains(repo.path(), &mut candidates, deadline)?;
    let indexed: HashMap<&String, &Chained> = candidates
        .iter()
        .filter(|c| !c.unsigned)
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

    let mut tags: Vec<Tag> = candidates
        .iter()
        .map(|c| Tag {
            name: c.name.clone(),
            placed: c.meta.as_ref().map(|m| (m.commit.clone(), m.created)),
            status: match (&c.rejection, &c.meta, &c.verdict) {
                (Some(Problem::Lightweight(_)), _, _) => Status::NotChain,
                _ if c.unsigned => Status::NotChain,
                (Some(problem), _, _) => Status::Refused(format!("rejected: {problem}")),
                (None, None, _) => {
                    Status::Refused("rejected: its chain names no commit or no date".into())
                }
                (None, Some(_), Some(_)) => Status::Satisfies,
                (None, Some(_), None) => Status::Unknown,
            },
            new: !seen.contains(&c.pair()),
        })
        .collect();
    let given = request.version.as_ref().map(|v| Given {
        version: v,
        wanted: source.wants(&v.tag),
        remembered: returned.get(&(v.tag.clone(), v.commit.clone())).copied(),
    });
    let rule = source.rule.to_string();

    let judge = Judge::new(source, repo.path(), deadline);
    let mut batch = rayon::current_num_threads().max(1) * 2;
    let mut verified = 0usize;
    let mut folded = 0usize;
    // What staging tested, when prod's base says otherwise, and how to
    // recover: one line per refused tag and signer.
    let mut hints = Vec::new();
    if transitions {
        let (judged, cached, found) =
            judge_in_order(source, cache, repo, &candidates, &mut tags, deadline)?;
        verified += judged;
        folded += cached;
        hints = found;
    }
    let mut pending = 0usize;
    // Tags that needed a signature check and did not get one in time.
    let mut late = 0usize;
    let chosen = loop {
        let todo = match select(&tags, given.as_ref(), &rule, batch, source.in_order) {
            Step::Done(a) => break Some(a),
            Step::Verify(todo) => todo,
        };
        let refs: Vec<&Candidate> = todo.iter().filter_map(|&i| candidates.get(i)).collect();
        let mut progress = false;
        for (&i, (_, outcome)) in todo.iter().zip(judge.all(&refs)) {
            let status = match outcome {
                Outcome::Satisfied => Status::Satisfies,
                Outcome::NotChain => Status::NotChain,
                Outcome::Refused(reason) => Status::Refused(reason),
                Outcome::NotReached => {
                    late += 1;
                    continue;
                }
            };
            if let Some(t) = tags.get_mut(i) {
                verified += 1;
                progress = true;
                t.status = status;
            }
        }
        pending += todo.len();
        if late > 0 || !progress {
            break None;
        }
        // Each round that finds no answer verifies twice as many tags, so
        // a long run of refused tags costs a few rounds, not thousands.
        batch = batch.saturating_mul(2);
    };

    // The cache keeps every positive verdict of a tag that still exists,
    // while it holds.
    let mut keep: HashMap<String, Verdict> = candidates
        .iter()
        .filter_map(|c| Some((c.outer.clone()?, c.verdict.clone()?)))
        .collect();
    for (o, v) in judge.positives.into_inner().unwrap_or_default() {
        if v.holds_at(now) {
            keep.insert(o, v);
        }
    }
    if keep != known.live || !known.expired.is_empty() {
        if let Err(e) = cache.save_verdicts(&source.digest, keep.iter()) {
            log(&format!("could not save the verdict cache: {e}"));
        }
    }
    let Some(chosen) = chosen.filter(|_| late == 0) else {
        if late == 0 {
            return Err(Error::io(
                "the check could not verify the tags it needed; run it again",
            ));
        }
        return Err(deadline.error(&format!(
            "{} of {pending} tags that needed a signature check got one",
            pending.saturating_sub(late)
        )));
    };

    let versions: Vec<Version> = chosen
        .versions
        .iter()
        .filter_map(|&i| {
            let t = tags.get(i)?;
            let (commit, created) = t.placed.as_ref()?;
            returned
                .entry((t.name.clone(), commit.clone()))
                .or_insert(*created);
            Some(Version {
                tag: t.name.clone(),
                commit: commit.clone(),
            })
        })
        .collect();
    if !versions.is_empty() {
        if let Err(e) = cache.save_returned(&source.digest, &returned) {
            log(&format!("could not save the returned versions: {e}"));
        }
    }
    let pairs: Seen = candidates.iter().map(Candidate::pair).collect();
    if pairs != seen {
        if let Err(e) = cache.save_seen(&source.digest, &pairs) {
            log(&format!("could not save the tags this check saw: {e}"));
        }
    }

    for line in &chosen.notes {
        log(line);
    }
    for line in capped(&chosen.skipped, MAX_NAMED) {
        log(&line);
    }
    for line in capped(&hints, MAX_NAMED) {
        log(&line);
    }
    if let Some(line) = not_chains_line(&chosen) {
        log(&line);
    }
    if let Some(line) = waiting_line(&tags, &chosen) {
        log(&line);
    }
    let cached = folded + candidates.iter().filter(|c| c.verdict.is_some()).count();
    log(&summary(
        candidates.len(),
        verified,
        cached,
        &chosen,
        &rule,
        request.version.as_ref(),
    ));
    Ok(versions)
}

// ------------------------------------------------------------ verifying

/// Under a rule with transition atoms, or in an environment that takes
/// emergencies: every tag judged in one fold, oldest first, each with its
/// base among the older ones that satisfy ([`Gate::judge_all`]), or the
/// last fold's answers when the clone's refs are the ones it judged and
/// they still hold ([`Cache::fold`]). Sets the status of every tag that is
/// not known to be no sigtag chain; returns how many were judged now and
/// how many answers came from the cache.
/// The [`tested_hints`] of the refused tags, oldest first, come with
/// them.
fn judge_in_order(
    source: &Source,
    cache: &Cache,
    repo: &Repository,
    candidates: &[Candidate],
    tags: &mut [Tag],
    deadline: &Deadline,
) -> Result<(usize, usize, Vec<String>)> {
    let now = unix_now();
    let key = refs_key(repo, source)?;
    if let Some(fold) = cache.fold(&source.digest, &key, now) {
        let mut cached = 0;
        let mut all = true;
        for t in tags.iter_mut() {
            if t.status == Status::NotChain {
                continue;
            }
            match fold.answers.get(&t.name) {
                Some(a) => {
                    cached += 1;
                    t.status = status_of(a);
                }
                None => all = false,
            }
        }
        if all {
            return Ok((0, cached, fold.hints));
        }
    }
    let names: Vec<String> = candidates.iter().map(|c| c.name.clone()).collect();
    let mut gate = source.gate();
    gate.deadline = Some(deadline.at);
    let verdicts = gate.judge_all(repo, &names).map_err(|e| {
        if deadline.expired() {
            deadline.error("the tags were being judged oldest first, for their bases")
        } else {
            e
        }
    })?;
    let mut judged = 0;
    let mut answers = HashMap::new();
    // (created, name) of each refused tag, and its hints.
    type Hints<'v> = ((Option<i64>, &'v str), Vec<String>);
    let mut hints: Vec<Hints> = Vec::new();
    for (t, v) in tags.iter_mut().zip(&verdicts) {
        if t.status == Status::NotChain {
            continue;
        }
        judged += 1;
        let answer = if v.satisfied {
            if let Some(line) = super::emergency_line(v) {
                hints.push(((v.created, v.tag.as_str()), vec![line]));
            }
            Answer::Satisfies
        } else if v.not_a_chain() {
            Answer::NotChain
        } else {
            hints.push(((v.created, v.tag.as_str()), tested_hints(v)));
            Answer::Refused(refused_reason(v))
        };
        t.status = status_of(&answer);
        answers.insert(t.name.clone(), answer);
    }
    hints.sort_by(|a, b| a.0.cmp(&b.0));
    let hints: Vec<String> = hints.into_iter().flat_map(|(_, h)| h).collect();
    let fold = Fold {
        key,
        until: fold_until(&verdicts, now),
        answers,
        hints: hints.clone(),
    };
    if let Err(e) = cache.save_fold(&source.digest, &fold) {
        log(&format!("could not save the fold's answers: {e}"));
    }
    Ok((judged, 0, hints))
}

/// A tag's status for [`select`] from the fold's answer on it.
fn status_of(answer: &Answer) -> Status {
    match answer {
        Answer::Satisfies => Status::Satisfies,
        Answer::NotChain => Status::NotChain,
        Answer::Refused(r) => Status::Refused(r.clone()),
    }
}

/// The longest a fold's answers are kept, in seconds.
const FOLD_LIFETIME: i64 = 3_600;

/// Until when `verdicts`, made at `now`, hold with the clock alone: the
/// earliest expiry of a satisfied tag's counting signatures, and the
/// earliest due time of an emergency's review that is neither made nor
/// overdue; at most [`FOLD_LIFETIME`] from now.
fn fold_until(verdicts: &[crate::verdict::Verdict], now: i64) -> i64 {
    verdicts
        .iter()
        .flat_map(|v| {
            let expires = v.expires.filter(|_| v.satisfied);
            let due = v
                .emergency
                .as_ref()
                .filter(|e| !e.reviewed && !e.overdue)
                .map(|e| e.due);
            expires.into_iter().chain(due)
        })
        .fold(now.saturating_add(FOLD_LIFETIME), i64::min)
}

/// What a fold read, fixed: the sha256 of the source's tag filter and
/// of every ref of the clone with its target, sorted.
fn refs_key(repo: &Repository, source: &Source) -> Result<String> {
    let unlisted = |e: git2::Error| {
        Error::io(format!(
            "cannot list the clone's refs: {}",
            crate::error::clean(e.message())
        ))
    };
    let mut refs: Vec<String> = repo
        .references()
        .map_err(unlisted)?
        .map(|r| {
            let r = r.map_err(unlisted)?;
            let target = match (r.target(), r.symbolic_target_bytes()) {
                (Some(oid), _) => oid.to_string(),
                (None, Some(to)) => format!("-> {}", String::from_utf8_lossy(to)),
                (None, None) => "-".to_string(),
            };
            Ok(format!(
                "{}\t{target}",
                String::from_utf8_lossy(r.name_bytes())
            ))
        })
        .collect::<Result<_>>()?;
    refs.sort();
    let mut text = format!("filter\t{}\n", source.tag_filter.as_deref().unwrap_or("-"));
    for r in refs {
        text.push_str(&r);
        text.push('\n');
    }
    crate::digest::sha256_hex(text.as_bytes())
}

/// What verifying one chain found.
enum Outcome {
    Satisfied,
    /// No sigtag chain: lightweight, or no layer signed.
    NotChain,
    /// Refused, with the reason for the log.
    Refused(String),
    /// The time ran out before it was verified.
    NotReached,
}

/// Verifies chains in parallel and collects the positive verdicts.
struct Judge<'s> {
    gate: Gate<'s>,
    gitdir: PathBuf,
    deadline: &'s Deadline,
    positives: std::sync::Mutex<Vec<(String, Verdict)>>,
}

impl<'s> Judge<'s> {
    fn new(source: &'s Source, gitdir: &Path, deadline: &'s Deadline) -> Judge<'s> {
        Judge {
            gate: source.gate(),
            gitdir: gitdir.to_path_buf(),
            deadline,
            positives: Default::default(),
        }
    }

    /// The outcomes of `todo`, in its order. Each chain is read here and
    /// dropped as soon as it is judged.
    fn all<'c>(&self, todo: &[&'c Candidate]) -> Vec<(&'c Candidate, Outcome)> {
        let results: Vec<Outcome> = todo
            .par_iter()
            .map_init(
                || Repository::open(&self.gitdir).ok(),
                |repo, c| {
                    if self.deadline.expired() {
                        return Outcome::NotReached;
                    }
                    let verdict = match repo {
                        Some(repo) => self.gate.judge(repo, &c.name),
                        None => self.gate.judge_chain(&unreadable(&c.name)),
                    };
                    match (&verdict.outer, &verdict.commit, verdict.created) {
                        (Some(outer), Some(commit), Some(created)) if verdict.satisfied => {
                            let v = Verdict {
                                chain: Chained {
                                    tag: verdict.tag.clone(),
                                    commit: commit.clone(),
                                    created,
                                },
                                expires: verdict.expires,
                            };
                            if let Ok(mut p) = self.positives.lock() {
                                p.push((outer.clone(), v));
                            }
                            Outcome::Satisfied
                        }
                        _ if verdict.not_a_chain() => Outcome::NotChain,
                        _ => Outcome::Refused(refused_reason(&verdict)),
                    }
                },
            )
            .collect();
        todo.iter().copied().zip(results).collect()
    }
}

/// Is `chain` an annotated tag none of whose layers carries a signature
/// block (a tag made before sigtag, with plain `git tag -a`)?
fn unsigned(chain: &Chain) -> bool {
    !chain.layers.is_empty()
        && chain
            .layers
            .iter()
            .all(|l| l.object.signature == SignatureBlock::None)
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
            || crate::gate::open_gitdir(&gitdir),
            |repo, c| match repo {
                Ok(_) if deadline.expired() => {
                    unread.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Ok(repo) => {
                    let chain = chain::read(repo, &c.name);
                    c.unsigned = chain.rejection().is_none() && unsigned(&chain);
                    match chain.rejection() {
                        Some(f) => c.rejection = Some(f.problem.clone()),
                        None => {
                            if let (Some(commit), Some(created)) = (&chain.commit, chain.created())
                            {
                                c.meta = Some(Chained {
                                    tag: c.name.clone(),
                                    commit: commit.clone(),
                                    created,
                                });
                            }
                        }
                    }
                    Ok(())
                }
                Err(e) => Err(e.clone()),
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
    index: &HashMap<String, Chained>,
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
        let verdict = outer
            .as_ref()
            .and_then(|o| known.get(o))
            .filter(|v| v.chain.tag == name)
            .cloned();
        let meta = verdict.as_ref().map(|v| v.chain.clone()).or_else(|| {
            outer
                .as_ref()
                .and_then(|o| index.get(o))
                .filter(|c| c.tag == name)
                .cloned()
        });
        out.push(Candidate {
            name: name.to_string(),
            outer,
            verdict,
            meta,
            rejection: None,
            unsigned: false,
        });
    }
    Ok(out)
}
