//! Audit evidence (DESIGN §7): one record per promotion of an environment,
//! with everything an auditor asks of it, for `sigtag audit`.
//!
//! A record is a tag's [`Verdict`], made by the environment's [`Gate`]
//! like every other verdict, plus what the repository says around it:
//!
//! - its **base** (the newest older promotion whose commit is an ancestor
//!   of its own, as in DESIGN §6) and **range** (the commits from the base,
//!   or the environment's `since`, to the tag's commit, each with its
//!   author, date, subject and pull request), whatever the rule: an
//!   auditor wants to see what each promotion changed even where the rule
//!   does not speak of transitions;
//! - per layer, the **Concourse build** its signed message names (the
//!   `BUILD_*=value` and `Build: URL` lines the resource's `out` writes in
//!   the message's last paragraph). A build is what the layer's own
//!   message claims: it vouches for nothing unless that layer's signature
//!   counts, and the renderings always show both side by side.
//!
//! [`collect`] makes the [`Report`]; the renderers in
//! [`crate::render::audit`] only read it. Invariants of a [`Report`]:
//!
//! - `records` are in the environment's order of versions (the innermost
//!   layer's creation time, then the name), the order `check` and the fold
//!   use; a tag whose chain is broken comes last.
//! - Without `all`, every record is a promotion (`verdict.satisfied`);
//!   with it, every candidate tag is, and `omitted` is 0.
//! - A record's `base` is the verdict's own when the gate read it (a rule
//!   with transition atoms, or an environment with emergencies), else the
//!   same definition applied to the promotions of this report's candidates.
//! - `builds` has one entry per entry of `verdict.layers`, in order.
//! - Nothing in a report makes an error value for a tag: a range that
//!   cannot be listed (too long, a shallow boundary, grafts) is
//!   [`Range::NotListed`] with the reason.
//!
//! Cost: the verdicts are those of `sigtag list` (in parallel, or the
//! fold); ranges and layer messages are read in parallel afterwards, one
//! repository handle per chunk.

use crate::error::{Error, Result};
use crate::message::BUILD_VARS;
use crate::transition::{History, RangeCommit};
use crate::verdict::{Base, Gate, Since, Verdict};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;

/// Where a report starts or ends: a time, or a revision whose commit
/// bounds it the way `git log REV..` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Seconds since the epoch; `text` as given.
    Date { at: i64, text: String },
    /// A revision (tag, commit, branch) and its commit.
    Rev { text: String, commit: Oid },
}

impl Bound {
    /// Reads `--since`/`--until` (named `flag` in messages): a date
    /// (`YYYY-MM-DD`, or RFC 3339 such as `2026-11-30T12:00:00Z`), else a
    /// revision of `repo` peeled to its commit. `end` says the bound is an
    /// `--until`: a day then ends at its last second.
    pub fn parse(repo: &Repository, text: &str, flag: &str, end: bool) -> Result<Bound> {
        if let Some(at) = date_of(text, end) {
            return Ok(Bound::Date {
                at,
                text: text.to_string(),
            });
        }
        let commit = repo
            .revparse_single(text)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| {
                Error::usage(format!(
                    "{flag} {}: neither a date (YYYY-MM-DD or 2026-11-30T12:00:00Z) nor a tag or commit of the repository",
                    crate::names::shown(text)
                ))
            })?;
        Ok(Bound::Rev {
            text: text.to_string(),
            commit: commit.id(),
        })
    }

    /// As given.
    pub fn text(&self) -> &str {
        match self {
            Bound::Date { text, .. } | Bound::Rev { text, .. } => text,
        }
    }
}

/// A date as seconds since the epoch: `YYYY-MM-DD` (its first second, or
/// its last with `end`) or RFC 3339.
fn date_of(text: &str, end: bool) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let start = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    Some(if end { start + 86_399 } else { start })
}

/// What `sigtag audit` was asked for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only promotions after this: created at or after a date, or whose
    /// commit the revision's commit does not reach.
    pub since: Option<Bound>,
    /// Only promotions up to this: created at or before a date, or whose
    /// commit the revision's commit reaches (or is).
    pub until: Option<Bound>,
    /// Every candidate tag, promoted or not.
    pub all: bool,
}

/// The commits a promotion brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range {
    /// In `git rev-list` order, newest first.
    Listed(Vec<Change>),
    /// Why the range is not listed.
    NotListed(String),
}

/// One commit of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub commit: RangeCommit,
    /// The pull request its subject names, if any.
    pub pull_request: Option<u64>,
}

/// The Concourse build a layer's signed message names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    /// `BUILD_*` and `ATC_EXTERNAL_URL` values, in the order of
    /// [`BUILD_VARS`], made printable.
    pub vars: Vec<(String, String)>,
    /// `BUILD_URL`, else the `Build: URL` line.
    pub url: Option<String>,
}

impl Build {
    /// The value of one variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// "team/pipeline/job #build", as far as the message names them.
    pub fn name(&self) -> Option<String> {
        let job = ["BUILD_TEAM_NAME", "BUILD_PIPELINE_NAME", "BUILD_JOB_NAME"]
            .iter()
            .filter_map(|n| self.var(n))
            .collect::<Vec<_>>()
            .join("/");
        match (job.is_empty(), self.var("BUILD_NAME")) {
            (true, None) => None,
            (true, Some(b)) => Some(format!("build {b}")),
            (false, None) => Some(job),
            (false, Some(b)) => Some(format!("{job} #{b}")),
        }
    }
}

/// One tag of the report.
#[derive(Debug, Clone)]
pub struct Record {
    pub verdict: Verdict,
    pub base: Option<Base>,
    /// Where the range starts when there is no base and the environment
    /// names `since`.
    pub since: Option<Since>,
    pub range: Range,
    /// One per entry of `verdict.layers`: the build its message names, if
    /// any.
    pub builds: Vec<Option<Build>>,
}

/// Everything `sigtag audit` reports on one environment.
#[derive(Debug, Clone)]
pub struct Report {
    pub environment: String,
    /// The environment's `require` rule, as text.
    pub rule: String,
    /// `emergency`, `review` and `review_within` of the environment, when
    /// it takes emergencies.
    pub emergency: Option<(String, String, String)>,
    /// The environment's trust digest ([`crate::trust::Trust::digest_for`]).
    pub digest: String,
    /// sigtag's version and the commit it was built from.
    pub version: String,
    /// When the report was made (seconds since the epoch).
    pub generated: i64,
    pub since: Option<String>,
    pub until: Option<String>,
    pub all: bool,
    pub records: Vec<Record>,
    /// Candidate tags in the bounds that are no promotion, left out
    /// without `all`.
    pub omitted: usize,
}

impl Report {
    /// How many records are promotions.
    pub fn promotions(&self) -> usize {
        self.records.iter().filter(|r| r.verdict.satisfied).count()
    }
}

/// Makes the report of `gate`'s environment on `repo`. `version` is
/// sigtag's, as `--version` prints it.
pub fn collect(
    gate: &Gate<'_>,
    repo: &Repository,
    opts: &Options,
    version: &str,
) -> Result<Report> {
    let names = gate.candidates(repo)?;
    let verdicts = gate.judge_all(repo, &names)?;
    let mut order: Vec<Verdict> = verdicts;
    order.sort_by(|a, b| {
        let key = |v: &Verdict| (v.created.is_none(), v.created.unwrap_or(0));
        key(a).cmp(&key(b)).then_with(|| a.tag.cmp(&b.tag))
    });

    // Bases, oldest first, among the promotions before each tag.
    let history = History::open(repo);
    let mut promotions: Vec<(String, Oid)> = Vec::new();
    let mut placed: Vec<(Verdict, Result<Option<Base>, String>)> = Vec::with_capacity(order.len());
    for v in order {
        let commit = v.commit.as_deref().and_then(|c| Oid::from_str(c).ok());
        let base = match (&v.transition, commit) {
            (Some(t), _) if gate.needs_history() => Ok(t.base.clone()),
            (_, Some(commit)) => history
                .base(commit, &promotions, |p| p.1)
                .map(|b| {
                    b.map(|(tag, c)| Base {
                        tag: tag.clone(),
                        commit: c.to_string(),
                    })
                })
                .map_err(|r| r.sentence(&v.tag, None)),
            (_, None) => Ok(None),
        };
        if let (true, Some(c)) = (v.satisfied, commit) {
            promotions.push((v.tag.clone(), c));
        }
        placed.push((v, base));
    }

    let within = Bounds::new(repo, opts)?;
    let mut omitted = 0;
    let kept: Vec<(Verdict, Result<Option<Base>, String>)> = placed
        .into_iter()
        .filter(|(v, _)| within.holds(v))
        .filter(|(v, _)| {
            let keep = opts.all || v.satisfied;
            omitted += usize::from(!keep);
            keep
        })
        .collect();

    let since_rev = gate.since.clone();
    let gitdir: PathBuf = repo.path().to_path_buf();
    let chunk = (kept.len() / (rayon::current_num_threads() * 4)).max(8);
    let records: Vec<Record> = kept
        .into_par_iter()
        .chunks(chunk)
        .map(|chunk| {
            let repo = crate::gate::open_gitdir(&gitdir)?;
            let history = History::open(&repo);
            Ok(chunk
                .into_iter()
                .map(|(v, base)| evidence(&repo, &history, v, base, since_rev.as_deref()))
                .collect::<Vec<Record>>())
        })
        .collect::<Result<Vec<Vec<Record>>>>()?
        .into_iter()
        .flatten()
        .collect();

    let trust = gate.trust;
    Ok(Report {
        environment: gate.environment.clone(),
        rule: gate.rule.to_string(),
        emergency: gate.emergency.as_ref().map(|e| {
            (
                e.rule.to_string(),
                e.review.to_string(),
                within_words(e.within),
            )
        }),
        digest: trust
            .digest_for(&gate.environment)
            .unwrap_or_default()
            .to_string(),
        version: version.to_string(),
        generated: gate
            .now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        since: opts.since.as_ref().map(|b| b.text().to_string()),
        until: opts.until.as_ref().map(|b| b.text().to_string()),
        all: opts.all,
        records,
        omitted,
    })
}

/// `--since` and `--until`, ready to test a verdict.
struct Bounds {
    since: Option<Test>,
    until: Option<Test>,
}

enum Test {
    Date(i64),
    /// The commits the revision reaches (itself included).
    Reaches(HashSet<Oid>),
}

impl Bounds {
    fn new(repo: &Repository, opts: &Options) -> Result<Bounds> {
        let test = |b: &Option<Bound>| -> Result<Option<Test>> {
            Ok(match b {
                None => None,
                Some(Bound::Date { at, .. }) => Some(Test::Date(*at)),
                Some(Bound::Rev { commit, text }) => {
                    Some(Test::Reaches(reachable(repo, *commit, text)?))
                }
            })
        };
        Ok(Bounds {
            since: test(&opts.since)?,
            until: test(&opts.until)?,
        })
    }

    fn holds(&self, v: &Verdict) -> bool {
        let commit = v.commit.as_deref().and_then(|c| Oid::from_str(c).ok());
        let reached = |set: &HashSet<Oid>| commit.is_some_and(|c| set.contains(&c));
        let since = match &self.since {
            None => true,
            Some(Test::Date(at)) => v.created.is_some_and(|c| c >= *at),
            Some(Test::Reaches(set)) => commit.is_some() && !reached(set),
        };
        let until = match &self.until {
            None => true,
            Some(Test::Date(at)) => v.created.is_some_and(|c| c <= *at),
            Some(Test::Reaches(set)) => reached(set),
        };
        since && until
    }
}

/// Every commit `commit` reaches, itself included.
fn reachable(repo: &Repository, commit: Oid, shown: &str) -> Result<HashSet<Oid>> {
    let fail = |e: git2::Error| {
        Error::repo(format!(
            "cannot walk the history of {}: {}",
            crate::names::shown(shown),
            crate::error::clean(e.message())
        ))
    };
    let mut walk = repo.revwalk().map_err(fail)?;
    walk.push(commit).map_err(fail)?;
    walk.map(|o| o.map_err(fail)).collect()
}

/// The record of one verdict: its range and each layer's build.
fn evidence(
    repo: &Repository,
    history: &History<'_>,
    v: Verdict,
    base: Result<Option<Base>, String>,
    since_rev: Option<&str>,
) -> Record {
    // Each layer's message as verification parsed it: without its
    // signature block.
    let odb = repo.odb().ok();
    let builds = v
        .layers
        .iter()
        .map(|l| {
            let oid = Oid::from_str(&l.oid).ok()?;
            let raw = odb.as_ref()?.read(oid).ok()?;
            build_of(&crate::object::parse(raw.data()).ok()?.message)
        })
        .collect();
    let commit = v.commit.as_deref().and_then(|c| Oid::from_str(c).ok());
    let (base, since, range) = match (&base, commit) {
        (Err(why), _) => (None, None, Range::NotListed(why.clone())),
        (Ok(_), None) => (
            None,
            None,
            Range::NotListed("the tag reaches no commit".into()),
        ),
        (Ok(base), Some(commit)) => {
            let from = match (base, since_rev) {
                (Some(b), _) => Oid::from_str(&b.commit)
                    .map(|c| (Some(c), None))
                    .map_err(|_| "the base's commit id is unreadable".to_string()),
                (None, Some(rev)) => history
                    .since_for(rev, commit)
                    .map(|c| {
                        (
                            Some(c),
                            Some(Since {
                                rev: rev.to_string(),
                                commit: c.to_string(),
                            }),
                        )
                    })
                    .map_err(|r| r.sentence(&v.tag, None)),
                (None, None) => Ok((None, None)),
            };
            match from {
                Err(why) => (base.clone(), None, Range::NotListed(why)),
                Ok((from, since)) => {
                    let shown = match (base, &since) {
                        (Some(b), _) => b.tag.clone(),
                        (None, Some(s)) => s.rev.clone(),
                        (None, None) => "the first commit".to_string(),
                    };
                    let range = match history.range(commit, from, &shown) {
                        Ok(commits) => Range::Listed(
                            commits
                                .into_iter()
                                .map(|c| Change {
                                    pull_request: crate::message::pull_request_of(&c.subject),
                                    commit: c,
                                })
                                .collect(),
                        ),
                        Err(r) => Range::NotListed(r.sentence(&v.tag, None)),
                    };
                    (base.clone(), since, range)
                }
            }
        }
    };
    Record {
        verdict: v,
        base,
        since,
        range,
        builds,
    }
}

/// The build a layer's message names in its last paragraph.
pub fn build_of(message: &str) -> Option<Build> {
    let last = message.trim_end().rsplit("\n\n").next()?;
    let mut build = Build::default();
    let mut line_url = None;
    for line in last.lines() {
        if let Some(url) = line.strip_prefix("Build: ") {
            line_url = Some(crate::message::sanitize(url.trim()));
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if BUILD_VARS.contains(&name) && build.var(name).is_none() {
            let value = crate::message::sanitize(value.trim());
            build.vars.push((name.to_string(), value));
        }
    }
    build
        .vars
        .sort_by_key(|(n, _)| BUILD_VARS.iter().position(|v| v == n));
    build.url = build.var("BUILD_URL").map(str::to_string).or(line_url);
    (!build.vars.is_empty() || build.url.is_some()).then_some(build)
}

/// `review_within` as policy.toml would write it: "3d", "72h", "90m".
fn within_words(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_build_of_the_last_paragraph_only() {
        let m = "v1: promoted\n\nBUILD_NAME=1\n\nBUILD_TEAM_NAME=main\nBUILD_PIPELINE_NAME=app\nBUILD_JOB_NAME=staging\nBUILD_NAME=17\nNOT_A_VAR=x\nBuild: https://ci.example.org/b/17\n";
        let b = build_of(m).unwrap();
        assert_eq!(b.name().as_deref(), Some("main/app/staging #17"));
        assert_eq!(b.url.as_deref(), Some("https://ci.example.org/b/17"));
        assert_eq!(b.var("NOT_A_VAR"), None);
        assert_eq!(build_of("v1: signed by alice\n"), None);
    }

    #[test]
    fn dates_and_days() {
        assert_eq!(date_of("2026-11-30", false), Some(1_795_996_800));
        assert_eq!(date_of("2026-11-30", true), Some(1_795_996_800 + 86_399));
        assert_eq!(date_of("2026-11-30T00:00:00Z", true), Some(1_795_996_800));
        assert_eq!(date_of("v1.0", false), None);
    }
}
