//! The verdict on one tag for one environment, as plain data, and the one
//! entry point that makes it.
//!
//! [`Gate::judge`] reads a tag's chain ([`chain::read`]), checks its
//! signatures ([`verify::check_chain`]) and evaluates the environment's
//! rule, once. Every front end goes through a [`Gate`]: the command line's
//! `verify`, `list`, `explain` and `audit` ([`crate::audit`]), the demo,
//! `cosign --require`, and the resource's `check`, `in` and `out`. Renderers ([`crate::render`]) only
//! read a [`Verdict`]: they need neither the trust root nor the repository,
//! and never evaluate a rule.
//!
//! A [`Verdict`] made by a [`Gate`] keeps these invariants:
//!
//! - `satisfied` is `rejection.is_none() && evaluation.holds`.
//! - `rejection` is the first of `findings` (a structural problem of the
//!   chain), else the first signature problem that rejects the tag
//!   ([`Problem::rejects_tag`]), layers innermost first and packets in
//!   order. Any rejection makes the tag unsatisfied whatever the rule says.
//! - Every signature that counts names its signer by name and groups
//!   ([`SignerId`]), resolved once from the trust root. A signature whose
//!   signer the trust root does not hold counts for nothing and is
//!   reported as [`Problem::UnknownKey`]; it is never skipped.
//! - `evaluation` was computed from exactly the signatures that count in
//!   `layers`, and nothing evaluates the rule again.
//! - `expires` is the earliest Signature Expiration Time of the signatures
//!   that count (seconds since the epoch), `None` when none of them
//!   expires: a positive verdict holds no longer than that.
//! - `layers` holds one entry per well-formed layer of the chain,
//!   innermost first, numbered like [`chain::Layer::number`]; a layer that
//!   did not parse has findings but no entry.
//! - A verdict holds no tag object (no message, no signature block): many
//!   verdicts cost little memory, and a chain is dropped once judged. Of a
//!   layer's message it keeps only what its `Sigtag-Tested-From` trailer
//!   records ([`LayerVerdict::tested_from`]), or why that counts for
//!   nothing ([`Problem::Trailer`], which rejects nothing).
//! - `promoted` is `Some` exactly when `satisfied`: how the tag was
//!   promoted. `satisfied` is `rejection.is_none() && (evaluation.holds ||
//!   emergency.is_some())`.
//! - `emergency` is `Some` exactly when `promoted` is
//!   [`Promoted::Emergency`]: the environment takes emergency changes, the
//!   tag is not rejected, fails `require` and meets the `emergency` rule.
//!
//! Transitions (DESIGN §6, [`crate::transition`]): for a rule with a
//! `besides author` or `tested` atom, the verdict on a tag T rests on the
//! verdicts of the environment's older tags, so [`Gate`] judges them first,
//! oldest first, each with its base among the earlier ones that satisfy (a
//! fold), from the repository and the trust root alone. Then:
//!
//! - `transition` is `Some` unless the tag was rejected before its history
//!   was read; it names the base, `since` when the range starts there, and
//!   the range's size when the rule needed it.
//! - A transition that cannot be judged (a range too long, a shallow
//!   boundary, grafts, a `since` that is no ancestor, ...) rejects the tag
//!   with a [`Problem::History`], the last of `findings`, and only when
//!   nothing rejected the tag before (so it never hides a bad signature).
//! - A chain judged without its repository ([`Gate::judge_chain`],
//!   [`Gate::verdict`]) under such a rule is rejected the same way: a
//!   transition atom is never taken for met.
//! - A rule without transition atoms costs what it always did: no tag but
//!   the one judged is read, and no history.
//!
//! Emergencies (DESIGN §6, [`Emergency`]): in an environment that takes
//! them, every tag is judged in the fold too, since an older emergency
//! whose review is overdue blocks it:
//!
//! - An emergency promotion is reviewed once it meets `review` (signatures
//!   added later count). Its review is due `review_within` after the
//!   newest of the signatures with which its first layers met `emergency`.
//! - Once an emergency promotion is overdue (unreviewed at its due time,
//!   judged at [`Gate::now`]), every tag after it in the environment's
//!   order that nothing rejected before is rejected with a
//!   [`Problem::ReviewOverdue`] naming it and what it needs. The overdue
//!   tag itself stays promoted: it is what the environment runs.
//! - Judged without its repository, a tag of such an environment is
//!   rejected like one under a transition rule.
//!
//! Judging makes no error value for a tag, good or bad: everything wrong
//! with a tag is a [`Problem`] in the verdict. Only [`Gate::judge_all`]
//! can fail, when a worker cannot open its repository handle, the tags
//! cannot be listed, or [`Gate::deadline`] passes.

use crate::chain::{self, Chain, Finding};
use crate::error::{Error, Result};
use crate::message::{self, TestedFrom};
use crate::object::Tagger;
use crate::problem::Problem;
use crate::rule::{Authored, Eval, Facts, Qualifier, Rule, TransitionFacts};
use crate::transition::{self, History, Key, Refusal};
use crate::trust::{Emergency, Trust};
use crate::verify::{self, LayerCheck, Outcome};
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

/// Who made a signature that counts: a signer of the trust root, by name,
/// with the groups it belongs to (sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerId {
    pub name: String,
    pub groups: Vec<String>,
}

impl SignerId {
    /// Is this signer a member of `group`?
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// A signature that counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub signer: SignerId,
    /// Fingerprint of the key that made the signature (upper-case hex).
    pub key: String,
    /// When the signature was made.
    pub created: SystemTime,
    /// The signature's own expiration time, if it has one.
    pub expires: Option<SystemTime>,
}

/// The outcome of one signature packet (or of a layer without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    Counts(Counted),
    /// Counts for nothing, or rejects the tag ([`Problem::rejects_tag`]).
    Fails(Problem),
}

/// One well-formed layer and what its signatures came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerVerdict {
    /// From 1 at the innermost layer (the one that names the commit).
    pub number: usize,
    /// The layer's object id.
    pub oid: String,
    /// The layer's tagger line.
    pub tagger: Tagger,
    /// One outcome per signature packet, in order.
    pub signatures: Vec<Signature>,
    /// What the layer's `Sigtag-Tested-From` trailer records, when its
    /// message's last paragraph holds exactly one well-formed one.
    pub tested_from: Option<TestedFrom>,
    /// Why the layer's trailer counts for nothing (malformed or
    /// repeated): a [`Problem::Trailer`].
    pub trailer: Option<Problem>,
}

/// How a satisfied tag was promoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promoted {
    /// It meets the environment's rule (`require`).
    Require,
    /// It fails `require` but meets the environment's `emergency` rule
    /// ([`Verdict::emergency`]).
    Emergency,
}

/// An emergency promotion: what its review needs, and by when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyVerdict {
    /// The environment's `emergency` rule, which the tag meets.
    pub rule: Rule,
    /// The `review` rule and how the tag fares under it.
    pub review: Rule,
    pub review_evaluation: Eval,
    /// When the tag met the emergency rule (seconds since the epoch): the
    /// newest signature of the first layers that meet it.
    pub since: i64,
    /// When its review is due: `since` plus `review_within`.
    pub due: i64,
    /// It meets `review`.
    pub reviewed: bool,
    /// Not reviewed, and the due time has passed ([`Gate::now`]).
    pub overdue: bool,
}

impl EmergencyVerdict {
    /// What the review still needs ("1 more of humans other than alice"),
    /// `None` once reviewed.
    pub fn needs(&self) -> Option<String> {
        self.review_evaluation.missing_explained()
    }
}

/// A tag's base for an environment: the newest older promotion whose
/// commit is an ancestor of the tag's (or the same commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub tag: String,
    pub commit: String,
}

/// `since = "REV"` of the environment and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Since {
    pub rev: String,
    pub commit: String,
}

/// A tag's transition for an environment (DESIGN §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// `None`: no older promotion is an ancestor of the tag.
    pub base: Option<Base>,
    /// When the tag has no base and the environment names `since`, and
    /// the range was read: where it starts.
    pub since: Option<Since>,
    /// How many commits the range holds; `None` when it was not read (the
    /// rule has no `besides author` atom, or the signatures alone do not
    /// meet it).
    pub range: Option<usize>,
}

/// The verdict on one tag for one environment. See the module
/// documentation for its invariants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The tag's name.
    pub tag: String,
    /// The environment judged for (`--require` for a rule given on its
    /// own).
    pub environment: String,
    /// The rule judged against.
    pub rule: Rule,
    /// The object the ref points at (the outermost layer), if the ref
    /// exists.
    pub outer: Option<String>,
    /// The commit at the bottom, when the chain reaches one.
    pub commit: Option<String>,
    /// The creation time of the innermost layer (its tagger time, seconds
    /// since the epoch), which orders versions.
    pub created: Option<i64>,
    /// Well-formed layers, innermost first, with their signatures.
    pub layers: Vec<LayerVerdict>,
    /// Structural problems of the chain, in the order they were found; any
    /// one rejects the tag.
    pub findings: Vec<Finding>,
    /// The rule, evaluated over the signatures that count.
    pub evaluation: Eval,
    /// The problem that rejects the whole tag, if one does.
    pub rejection: Option<Finding>,
    /// Does the tag satisfy the rule?
    pub satisfied: bool,
    /// The earliest Signature Expiration Time (seconds since the epoch) of
    /// the signatures that count; `None`: none of them expires.
    pub expires: Option<i64>,
    /// How the tag was promoted; `Some` exactly when it is satisfied.
    pub promoted: Option<Promoted>,
    /// `Some` exactly when it was promoted as an emergency.
    pub emergency: Option<EmergencyVerdict>,
    /// Its transition, for a rule with transition atoms, unless the tag
    /// was rejected before its history was read.
    pub transition: Option<Transition>,
}

impl Verdict {
    /// Every signature that counts, with its layer's number, innermost
    /// layer first.
    pub fn counted(&self) -> impl Iterator<Item = (usize, &Counted)> {
        self.layers.iter().flat_map(|l| {
            l.signatures.iter().filter_map(move |s| match s {
                Signature::Counts(c) => Some((l.number, c)),
                Signature::Fails(_) => None,
            })
        })
    }

    /// Every problem, each with its layer (`None`: the tag's own): the
    /// chain's findings and the signatures that failed, ordered by layer,
    /// the tag's own first, in the order found within one layer.
    pub fn problems(&self) -> Vec<(Option<usize>, &Problem)> {
        let mut all: Vec<(Option<usize>, &Problem)> = self
            .findings
            .iter()
            .map(|f| (f.layer, &f.problem))
            .chain(self.layers.iter().flat_map(|l| {
                l.signatures
                    .iter()
                    .filter_map(move |s| match s {
                        Signature::Fails(p) => Some((Some(l.number), p)),
                        Signature::Counts(_) => None,
                    })
                    .chain(l.trailer.iter().map(move |p| (Some(l.number), p)))
            }))
            .collect();
        all.sort_by_key(|(layer, _)| *layer);
        all
    }

    /// Is this tag no sigtag chain at all: a lightweight tag, or an
    /// annotated tag none of whose layers carries a signature? (A
    /// project's tags from before it used sigtag.) Such a tag is refused
    /// like any other; the resource counts these apart.
    pub fn not_a_chain(&self) -> bool {
        match &self.rejection {
            Some(f) => matches!(f.problem, Problem::Lightweight(_)),
            None => {
                !self.layers.is_empty()
                    && self.layers.iter().all(|l| {
                        !l.signatures.is_empty()
                            && l.signatures
                                .iter()
                                .all(|s| *s == Signature::Fails(Problem::Unsigned))
                    })
            }
        }
    }

    /// The evaluation of a rule that does not hold on a tag that is not
    /// rejected: what is short. `None` when the tag is satisfied or
    /// rejected.
    pub fn shortfall(&self) -> Option<&Eval> {
        (self.rejection.is_none() && !self.satisfied).then_some(&self.evaluation)
    }
}

/// Everything needed to judge tags for one environment.
pub struct Gate<'t> {
    pub trust: &'t Trust,
    /// Named in verdicts; `--require` for a rule given on its own.
    pub environment: String,
    pub rule: Rule,
    /// The time signatures are judged at (expiry, dates in the future).
    pub now: SystemTime,
    /// `since = "REV"` of the environment: where the range of a tag with
    /// no base starts (`None`: at the first commit).
    pub since: Option<String>,
    /// Where `since` is set, for refusals (`environments.prod.since in
    /// keys/policy.toml`); `None` for a rule of no environment.
    pub since_field: Option<String>,
    /// Which tags can be promotions of the environment: those matching
    /// this glob ([`crate::glob`]); `None`: every tag of the repository.
    pub tag_filter: Option<String>,
    /// For a rule with transition atoms: judging the older tags stops with
    /// an error once this instant passes (`None`: it never does).
    pub deadline: Option<Instant>,
    /// How the environment takes an emergency change, if it does.
    pub emergency: Option<Emergency>,
}

/// A verdict before its rule is evaluated: what the chain and its
/// signatures say.
struct Signed {
    tag: String,
    outer: Option<String>,
    commit: Option<String>,
    created: Option<i64>,
    layers: Vec<LayerVerdict>,
    findings: Vec<Finding>,
    rejection: Option<Finding>,
    expires: Option<i64>,
}

impl Signed {
    /// `(created, name)` and the commit of a chain that was not rejected.
    fn placed(&self) -> Option<(i64, Oid)> {
        if self.rejection.is_some() {
            return None;
        }
        let commit = Oid::from_str(self.commit.as_deref()?).ok()?;
        Some((self.created?, commit))
    }

    /// The distinct counted signers of `group`.
    fn counted_in(&self, group: &str) -> BTreeSet<String> {
        counted_in(&self.layers, group)
    }

    /// For each counted signer: what the layers it signed record.
    fn tested(&self) -> BTreeMap<String, BTreeSet<TestedFrom>> {
        tested_in(&self.layers)
    }
}

/// The signatures of `layers` that count.
fn counted(layers: &[LayerVerdict]) -> impl Iterator<Item = &Counted> {
    layers
        .iter()
        .flat_map(|l| &l.signatures)
        .filter_map(|s| match s {
            Signature::Counts(c) => Some(c),
            Signature::Fails(_) => None,
        })
}

/// The distinct counted signers of `group` in `layers`.
fn counted_in(layers: &[LayerVerdict], group: &str) -> BTreeSet<String> {
    counted(layers)
        .filter(|c| c.signer.in_group(group))
        .map(|c| c.signer.name.clone())
        .collect()
}

/// For each counted signer of `layers`: what the layers it signed record.
fn tested_in(layers: &[LayerVerdict]) -> BTreeMap<String, BTreeSet<TestedFrom>> {
    let mut out: BTreeMap<String, BTreeSet<TestedFrom>> = BTreeMap::new();
    for l in layers {
        let Some(from) = &l.tested_from else { continue };
        for s in &l.signatures {
            if let Signature::Counts(c) = s {
                out.entry(c.signer.name.clone()).or_default().insert(*from);
            }
        }
    }
    out
}

/// Seconds since the epoch, saturating.
fn seconds(t: SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// How a verdict's transition came out.
enum Concluding {
    /// The rule has no transition atom.
    Plain,
    /// The tag was rejected before its history was read.
    Rejected,
    /// The transition cannot be judged: this rejects the tag.
    Refused(Problem),
    /// The transition and the facts the rule is evaluated over.
    Known(Transition, TransitionFacts),
}

/// One tag of an environment as the fold places it.
struct Placed {
    name: String,
    created: i64,
    commit: Oid,
}

impl Placed {
    fn key(&self) -> Key<'_> {
        (self.created, self.name.as_str())
    }
}

impl<'t> Gate<'t> {
    /// The gate of a named environment of the trust root.
    pub fn for_environment(trust: &'t Trust, environment: &str) -> Result<Gate<'t>> {
        Ok(Gate::new(
            trust,
            environment,
            trust.rule_for(environment)?.clone(),
        ))
    }

    /// A gate for `rule`, checked against `trust`'s groups beforehand
    /// ([`Trust::parse_rule`]), judging at the current time, with the
    /// environment's `since` when `trust` has that environment, and every
    /// tag a candidate promotion.
    pub fn new(trust: &'t Trust, environment: &str, rule: Rule) -> Gate<'t> {
        let known = trust.rule_for(environment).is_ok();
        Gate {
            trust,
            environment: environment.to_string(),
            rule,
            now: SystemTime::now(),
            since: trust.since_for(environment).map(str::to_string),
            since_field: known.then(|| {
                format!(
                    "environments.{environment}.since in {}",
                    trust.policy_origin()
                )
            }),
            tag_filter: trust.tag_filter_for(environment).map(str::to_string),
            deadline: None,
            emergency: trust.emergency_for(environment).cloned(),
        }
    }

    /// Does judging a tag need the environment's other tags: a rule with
    /// transition atoms, or an environment that takes emergencies?
    pub fn needs_history(&self) -> bool {
        self.rules().any(Rule::has_transitions) || self.emergency.is_some()
    }

    /// The rules a verdict evaluates: `require`, then `emergency` and
    /// `review` when the environment takes emergencies.
    fn rules(&self) -> impl Iterator<Item = &Rule> {
        std::iter::once(&self.rule).chain(self.emergency.iter().flat_map(|e| [&e.rule, &e.review]))
    }

    /// This gate with only the tags matching `glob` as candidate
    /// promotions (the resource's `tag_filter`).
    pub fn filtered(mut self, glob: Option<&str>) -> Gate<'t> {
        self.tag_filter = glob.map(str::to_string);
        self
    }

    /// Judges the tag `name` of `repo`. For a rule with transition atoms
    /// the environment's older tags are judged too, for the base.
    pub fn judge(&self, repo: &Repository, name: &str) -> Verdict {
        if !self.needs_history() {
            return self.judge_chain(&chain::read(repo, name));
        }
        let chain = chain::read(repo, name);
        self.judge_chain_in(repo, &chain)
    }

    /// Judges a chain already read. Reads no repository: under a rule with
    /// transition atoms the chain is rejected (see the module docs); use
    /// [`Gate::judge_chain_in`].
    pub fn judge_chain(&self, chain: &Chain) -> Verdict {
        let checks = verify::check_chain(chain, self.trust, self.now);
        self.verdict(chain, &checks)
    }

    /// Judges a chain already read, as the tag of its name in `repo`
    /// would be (it stands for that tag in the fold): under a rule with
    /// transition atoms, with its base among `repo`'s older tags.
    pub fn judge_chain_in(&self, repo: &Repository, chain: &Chain) -> Verdict {
        if !self.needs_history() {
            return self.judge_chain(chain);
        }
        match self.fold(repo, &[Wanted::Chain(chain)]) {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            Ok(_) => self.refused_chain(chain, "the tag was not judged".into()),
            Err(e) => self.refused_chain(chain, e.to_string()),
        }
    }

    /// Judges the tag `name` of `repo` with its transition whatever the
    /// rule: the environment's older tags are judged first, and the
    /// verdict's `transition` names the tag's base (and its range, for a
    /// rule with `besides author`). For whoever records a transition (a
    /// `Sigtag-Tested-From` trailer) under a rule that need not speak of
    /// one. Fails like [`Gate::judge_all`].
    pub fn judge_with_base(&self, repo: &Repository, name: &str) -> Result<Verdict> {
        let mut v = self.fold(repo, &[Wanted::Name(name)])?;
        match v.len() {
            1 => Ok(v.remove(0)),
            _ => Err(Error::io(format!(
                "tag {name} was not judged; run it again"
            ))),
        }
    }

    /// The verdict on `chain` when its older tags could not be judged.
    fn refused_chain(&self, chain: &Chain, why: String) -> Verdict {
        let checks = verify::check_chain(chain, self.trust, self.now);
        let signed = self.signed(chain, &checks);
        let t = match signed.rejection {
            Some(_) => Concluding::Rejected,
            None => Concluding::Refused(Problem::History(format!(
                "the tags before {} cannot be judged: {why}",
                chain.name
            ))),
        };
        self.conclude(signed, t)
    }

    /// The verdict on a chain whose signatures are already checked: `checks`
    /// as [`verify::check_chain`] made them for `chain` with this gate's
    /// trust root. Pure: under a rule with transition atoms, which need the
    /// repository, the chain is rejected.
    pub fn verdict(&self, chain: &Chain, checks: &[LayerCheck]) -> Verdict {
        let signed = self.signed(chain, checks);
        let t = if !self.needs_history() {
            Concluding::Plain
        } else if signed.rejection.is_some() {
            Concluding::Rejected
        } else if self.emergency.is_some() && !self.rule.has_transitions() {
            Concluding::Refused(Problem::History(format!(
                "{} takes emergency changes, whose reviews need the repository's older tags, \
                 and {} was judged without them",
                self.environment, chain.name
            )))
        } else {
            Concluding::Refused(Problem::History(format!(
                "\"{}\" speaks of transitions, which need the repository's tags and history, \
                 and {} was judged without them",
                self.rule, chain.name
            )))
        };
        self.conclude(signed, t)
    }

    /// What the chain and its signatures say, before the rule.
    fn signed(&self, chain: &Chain, checks: &[LayerCheck]) -> Signed {
        let layers: Vec<LayerVerdict> = chain
            .layers
            .iter()
            .map(|layer| {
                let (tested_from, trailer) = match message::tested_from(&layer.object.message) {
                    Ok(t) => (t, None),
                    Err(why) => (None, Some(Problem::Trailer(why))),
                };
                LayerVerdict {
                    number: layer.number,
                    oid: layer.oid.clone(),
                    tagger: layer.object.tagger.clone(),
                    signatures: checks
                        .iter()
                        .filter(|c| c.number == layer.number)
                        .flat_map(|c| &c.outcomes)
                        .map(|o| self.signature(o))
                        .collect(),
                    tested_from,
                    trailer,
                }
            })
            .collect();
        let rejection = chain.rejection().cloned().or_else(|| {
            layers.iter().find_map(|l| {
                l.signatures.iter().find_map(|s| match s {
                    Signature::Fails(p) if p.rejects_tag() => Some(Finding {
                        layer: Some(l.number),
                        problem: p.clone(),
                    }),
                    _ => None,
                })
            })
        });
        let expires = layers
            .iter()
            .flat_map(|l| &l.signatures)
            .filter_map(|s| match s {
                Signature::Counts(c) => c.expires,
                Signature::Fails(_) => None,
            })
            .map(seconds)
            .min();
        Signed {
            tag: chain.name.clone(),
            outer: chain.outer.clone(),
            commit: chain.commit.clone(),
            created: chain.created(),
            layers,
            findings: chain.findings.clone(),
            rejection,
            expires,
        }
    }

    /// The verdict: the rule evaluated once, over the signatures that
    /// count and the transition. Pure.
    fn conclude(&self, s: Signed, t: Concluding) -> Verdict {
        let (transition, facts, refusal) = match t {
            Concluding::Plain | Concluding::Rejected => (None, None, None),
            Concluding::Refused(p) => (None, None, Some(p)),
            Concluding::Known(transition, facts) => (Some(transition), Some(facts), None),
        };
        let counted = |group: &str| s.counted_in(group);
        let evaluation = self.rule.eval(Facts {
            counted: &counted,
            transition: facts.as_ref(),
        });
        let mut findings = s.findings;
        let mut rejection = s.rejection;
        let outside = self
            .tag_filter
            .as_ref()
            .filter(|f| !crate::glob::matches(f, &s.tag))
            .map(|f| Problem::OutsideFilter {
                environment: self.environment.clone(),
                filter: f.clone(),
            });
        if let (None, Some(problem)) = (&rejection, outside.or(refusal)) {
            let f = Finding {
                layer: None,
                problem,
            };
            findings.push(f.clone());
            rejection = Some(f);
        }
        let emergency = match &self.emergency {
            Some(e) if rejection.is_none() && !evaluation.holds => {
                self.emergency_verdict(&s.layers, facts.as_ref(), e)
            }
            _ => None,
        };
        let satisfied = rejection.is_none() && (evaluation.holds || emergency.is_some());
        let promoted = match (satisfied, &emergency) {
            (false, _) => None,
            (true, None) => Some(Promoted::Require),
            (true, Some(_)) => Some(Promoted::Emergency),
        };
        Verdict {
            tag: s.tag,
            environment: self.environment.clone(),
            rule: self.rule.clone(),
            outer: s.outer,
            commit: s.commit,
            created: s.created,
            satisfied,
            layers: s.layers,
            findings,
            evaluation,
            rejection,
            expires: s.expires,
            promoted,
            emergency,
            transition,
        }
    }

    /// The emergency verdict on a tag with `layers` that fails `require`:
    /// `None` unless it meets `e`'s rule.
    fn emergency_verdict(
        &self,
        layers: &[LayerVerdict],
        facts: Option<&TransitionFacts>,
        e: &Emergency,
    ) -> Option<EmergencyVerdict> {
        let holds = |layers: &[LayerVerdict], rule: &Rule| {
            let counted = |group: &str| counted_in(layers, group);
            let facts = facts.map(|f| TransitionFacts {
                tested: tested_in(layers),
                ..f.clone()
            });
            rule.eval(Facts {
                counted: &counted,
                transition: facts.as_ref(),
            })
        };
        if !holds(layers, &e.rule).holds {
            return None;
        }
        // When it met the rule: with the first layers that do.
        let first = (1..=layers.len())
            .filter_map(|k| layers.get(..k))
            .find(|prefix| holds(prefix, &e.rule).holds)
            .unwrap_or(layers);
        let since = counted(first)
            .map(|c| seconds(c.created))
            .max()
            .unwrap_or(0);
        let within = i64::try_from(e.within.as_secs()).unwrap_or(i64::MAX);
        let due = since.saturating_add(within);
        let review_evaluation = holds(layers, &e.review);
        let reviewed = review_evaluation.holds;
        Some(EmergencyVerdict {
            rule: e.rule.clone(),
            review: e.review.clone(),
            review_evaluation,
            since,
            due,
            reviewed,
            overdue: !reviewed && seconds(self.now) >= due,
        })
    }

    /// Why every tag after `v`, an overdue emergency promotion, is refused.
    fn overdue_sentence(&self, v: &Verdict, e: &EmergencyVerdict) -> String {
        let env = &self.environment;
        let tag = &v.tag;
        let due = crate::render::line::date(e.due);
        let needs = e.needs().unwrap_or_else(|| "more signatures".into());
        format!(
            "{tag} was promoted to {env} as an emergency and its review was due at {due}; \
             nothing newer is promoted in {env} until {tag} meets \"{}\": it needs {needs} (co-sign {tag})",
            e.review
        )
    }

    /// One signature's outcome, its signer resolved in the trust root.
    fn signature(&self, outcome: &Outcome) -> Signature {
        match outcome {
            Outcome::Counts {
                signer,
                key,
                created,
                expires,
            } => match self.trust.signer(*signer) {
                Some(s) => Signature::Counts(Counted {
                    signer: SignerId {
                        name: s.name.clone(),
                        groups: s.groups.clone(),
                    },
                    key: key.clone(),
                    created: *created,
                    expires: *expires,
                }),
                None => Signature::Fails(Problem::UnknownKey(key.clone())),
            },
            Outcome::Fails(p) => Signature::Fails(p.clone()),
        }
    }

    /// Judges many tags; verdicts come back in the order of `names`.
    /// Without transition atoms each tag is judged on its own, in
    /// parallel; with them, one fold judges the environment's tags up to
    /// the newest named one, and every named tag gets its base.
    pub fn judge_all(&self, repo: &Repository, names: &[String]) -> Result<Vec<Verdict>> {
        if self.needs_history() {
            let wanted: Vec<Wanted> = names.iter().map(|n| Wanted::Name(n)).collect();
            return self.fold(repo, &wanted);
        }
        if names.len() < 8 {
            return Ok(names.iter().map(|n| self.judge(repo, n)).collect());
        }
        self.in_parallel(repo, names, |gate, repo, name| gate.judge(repo, name))
    }

    /// `each` over `names` in parallel, in their order. One repository
    /// handle per chunk of tags (handles are not Sync); a few chunks per
    /// thread keep both cores busy to the end.
    fn in_parallel<T: Send>(
        &self,
        repo: &Repository,
        names: &[String],
        each: impl Fn(&Gate<'t>, &Repository, &str) -> T + Sync,
    ) -> Result<Vec<T>> {
        let gitdir: PathBuf = repo.path().to_path_buf();
        let chunk = (names.len() / (rayon::current_num_threads() * 4)).max(8);
        let chunks: Vec<Vec<T>> = names
            .par_chunks(chunk)
            .map(|chunk| {
                let repo = crate::gate::open_gitdir(&gitdir)?;
                Ok(chunk.iter().map(|n| each(self, &repo, n)).collect())
            })
            .collect::<Result<_>>()?;
        Ok(chunks.into_iter().flatten().collect())
    }

    /// The environment's candidate promotions: the tags of `repo` that
    /// match the filter.
    pub fn candidates(&self, repo: &Repository) -> Result<Vec<String>> {
        Ok(chain::tag_names(repo)?
            .into_iter()
            .filter(|n| {
                self.tag_filter
                    .as_deref()
                    .is_none_or(|f| crate::glob::matches(f, n))
            })
            .collect())
    }

    fn out_of_time(&self) -> Result<()> {
        match self.deadline {
            Some(at) if Instant::now() >= at => Err(Error::io(
                "the time ran out while the older tags were judged for their bases",
            )),
            _ => Ok(()),
        }
    }

    /// The fold: judges the environment's tags oldest first, up to the
    /// newest of `wanted`, each with its base among the earlier ones that
    /// satisfy, and returns the verdicts on `wanted`, in its order.
    fn fold(&self, repo: &Repository, wanted: &[Wanted<'_>]) -> Result<Vec<Verdict>> {
        let given: HashMap<&str, &Chain> = wanted
            .iter()
            .filter_map(|w| match w {
                Wanted::Chain(c) => Some((c.name.as_str(), *c)),
                Wanted::Name(_) => None,
            })
            .collect();
        let candidates: Vec<String> = self
            .candidates(repo)?
            .into_iter()
            .filter(|n| !given.contains_key(n.as_str()))
            .collect();
        let is_candidate: HashSet<&str> = candidates
            .iter()
            .map(String::as_str)
            .chain(given.keys().copied().filter(|n| {
                self.tag_filter
                    .as_deref()
                    .is_none_or(|f| crate::glob::matches(f, n))
            }))
            .collect();

        // Where every candidate stands (a chain read, no signature); the
        // named tags are placed below by the reading that checks their
        // signatures, so no chain is read twice.
        let named_set: HashSet<&str> = wanted.iter().map(Wanted::name).collect();
        let to_place: Vec<String> = candidates
            .iter()
            .filter(|n| !named_set.contains(n.as_str()))
            .cloned()
            .collect();
        let placed: Vec<Option<(i64, Oid)>> =
            self.in_parallel(repo, &to_place, |_, repo, name| {
                let c = chain::read(repo, name);
                let commit = c.commit.as_deref().and_then(|c| Oid::from_str(c).ok());
                match (c.rejection(), c.created(), commit) {
                    (None, Some(created), Some(commit)) => Some((created, commit)),
                    _ => None,
                }
            })?;
        self.out_of_time()?;
        let mut placed: Vec<Placed> = to_place
            .iter()
            .zip(placed)
            .filter_map(|(name, p)| {
                p.map(|(created, commit)| Placed {
                    name: name.clone(),
                    created,
                    commit,
                })
            })
            .collect();

        // The named tags, signed; then every placed candidate older than
        // the newest of them.
        let mut signed: HashMap<String, Signed> = HashMap::new();
        for (name, chain) in &given {
            let checks = verify::check_chain(chain, self.trust, self.now);
            signed.insert(name.to_string(), self.signed(chain, &checks));
        }
        let named: Vec<String> = wanted
            .iter()
            .filter_map(|w| match w {
                Wanted::Name(n) if !signed.contains_key(*n) => Some(n.to_string()),
                _ => None,
            })
            .collect::<BTreeSet<String>>()
            .into_iter()
            .collect();
        signed.extend(self.signed_all(repo, named)?);
        self.out_of_time()?;
        let listed: HashSet<&str> = to_place.iter().map(String::as_str).collect();
        for (name, s) in &signed {
            if let Some((created, commit)) = s.placed() {
                // Chains given and named tags are placed by what was just
                // read.
                if !listed.contains(name.as_str()) {
                    placed.push(Placed {
                        name: name.clone(),
                        created,
                        commit,
                    });
                }
            }
        }
        placed.sort_by(|a, b| a.key().cmp(&b.key()));
        let horizon = signed
            .values()
            .filter_map(|s| Some((s.placed()?.0, s.tag.as_str())))
            .max()
            .map(|(t, n)| (t, n.to_string()));
        let older: Vec<String> = placed
            .iter()
            .filter(|p| {
                !signed.contains_key(&p.name)
                    && horizon
                        .as_ref()
                        .is_some_and(|(t, n)| p.key() < (*t, n.as_str()))
            })
            .map(|p| p.name.clone())
            .collect();
        signed.extend(self.signed_all(repo, older)?);
        self.out_of_time()?;

        // Oldest first: each verdict with its base among the promotions
        // before it.
        let history = History::open(repo);
        let by_commit: HashMap<Oid, Vec<(i64, &str)>> =
            placed.iter().fold(HashMap::new(), |mut m, p| {
                m.entry(p.commit)
                    .or_insert_with(Vec::new)
                    .push((p.created, p.name.as_str()));
                m
            });
        let wanted_names: HashSet<&str> = wanted.iter().map(Wanted::name).collect();
        let mut promotions: Vec<&Placed> = Vec::new();
        let mut verdicts: HashMap<String, Verdict> = HashMap::new();
        // The first overdue emergency promotion: it blocks what follows.
        let mut overdue: Option<String> = None;
        for p in &placed {
            let Some(s) = signed.remove(&p.name) else {
                continue;
            };
            // Whether the signatures are placed where the placement pass
            // found them (a tag moved in between is judged as read now).
            let t = match s.placed() {
                None => Concluding::Rejected,
                Some((created, commit)) if (created, commit) == (p.created, p.commit) => {
                    self.transition(&history, &s, commit, p.key(), &promotions, &by_commit)
                }
                Some(_) => Concluding::Refused(Problem::History(format!(
                    "tag {} changed while its environment's tags were judged; judge it again",
                    p.name
                ))),
            };
            self.out_of_time()?;
            let mut v = self.conclude(s, t);
            if let (Some(why), None) = (&overdue, &v.rejection) {
                block(&mut v, why);
            }
            if v.satisfied && is_candidate.contains(p.name.as_str()) {
                promotions.push(p);
                if let (None, Some(e)) = (&overdue, v.emergency.as_ref().filter(|e| e.overdue)) {
                    overdue = Some(self.overdue_sentence(&v, e));
                }
            }
            if wanted_names.contains(p.name.as_str()) {
                verdicts.insert(p.name.clone(), v);
            }
        }
        // The named tags that could not be placed: rejected anyway.
        for (name, s) in signed {
            if wanted_names.contains(name.as_str()) {
                let t = if s.rejection.is_some() {
                    Concluding::Rejected
                } else {
                    Concluding::Refused(Problem::History(format!(
                        "tag {name} names no commit or no date, so it has no place among the promotions"
                    )))
                };
                verdicts.insert(name, self.conclude(s, t));
            }
        }
        wanted
            .iter()
            .map(|w| {
                verdicts.get(w.name()).cloned().ok_or_else(|| {
                    Error::io(format!("tag {} was not judged; run it again", w.name()))
                })
            })
            .collect()
    }

    /// What the chains and signatures of `names` say, read and checked in
    /// parallel, by name.
    fn signed_all(&self, repo: &Repository, names: Vec<String>) -> Result<Vec<(String, Signed)>> {
        let all = self.in_parallel(repo, &names, |gate, repo, name| {
            let chain = chain::read(repo, name);
            let checks = verify::check_chain(&chain, gate.trust, gate.now);
            gate.signed(&chain, &checks)
        })?;
        Ok(names.into_iter().zip(all).collect())
    }

    /// The transition of a tag at `commit` standing at `key`, whose
    /// signatures say `s`, after `promotions` (oldest first).
    fn transition(
        &self,
        history: &History<'_>,
        s: &Signed,
        commit: Oid,
        key: Key<'_>,
        promotions: &[&Placed],
        by_commit: &HashMap<Oid, Vec<(i64, &str)>>,
    ) -> Concluding {
        let refuse = |r: Refusal| {
            Concluding::Refused(Problem::History(
                r.sentence(&s.tag, self.since_field.as_deref()),
            ))
        };
        let base = match history.base(commit, promotions, |p| p.commit) {
            Ok(b) => b,
            Err(r) => return refuse(r),
        };
        let tested = s.tested();
        // Tag names for the commits recorded: the newest older tag there.
        let tags: BTreeMap<Oid, String> = tested
            .values()
            .flatten()
            .filter_map(|t| match t {
                TestedFrom::Commit(c) => Some(c),
                TestedFrom::Nothing => None,
            })
            .filter_map(|c| {
                let name = by_commit.get(c)?.iter().filter(|k| **k < key).max()?.1;
                Some((*c, name.to_string()))
            })
            .collect();
        let mut facts = TransitionFacts {
            base: base.map(|b| (b.name.clone(), b.commit)),
            range: None,
            tested,
            tags,
        };
        let mut transition = Transition {
            base: base.map(|b| Base {
                tag: b.name.clone(),
                commit: b.commit.to_string(),
            }),
            since: None,
            range: None,
        };
        if !self.rules().any(|r| r.has(Qualifier::BesidesAuthor)) {
            return Concluding::Known(transition, facts);
        }
        // The range only matters when the signatures alone could meet the
        // rule: with no commit to fall short, "besides author" asks no
        // more than "of".
        facts.range = Some(Vec::new());
        let counted = |group: &str| s.counted_in(group);
        let could = self.rules().any(|r| {
            r.eval(Facts {
                counted: &counted,
                transition: Some(&facts),
            })
            .holds
        });
        if !could {
            return Concluding::Known(transition, facts);
        }
        let (from, shown) = match (base, &self.since) {
            (Some(b), _) => (
                Some(b.commit),
                format!(
                    "{} ({})",
                    b.name,
                    transition::short_id(&b.commit.to_string())
                ),
            ),
            (None, Some(rev)) => match history.since_for(rev, commit) {
                Ok(c) => {
                    transition.since = Some(Since {
                        rev: rev.clone(),
                        commit: c.to_string(),
                    });
                    (
                        Some(c),
                        format!("since {rev} ({})", transition::short_id(&c.to_string())),
                    )
                }
                Err(r) => return refuse(r),
            },
            (None, None) => (None, "its first commit".to_string()),
        };
        let range = match history.range(commit, from, &shown) {
            Ok(r) => r,
            Err(r) => return refuse(r),
        };
        transition.range = Some(range.len());
        facts.range = Some(
            range
                .into_iter()
                .map(|c| Authored {
                    commit: c.id.to_string(),
                    signers: self
                        .trust
                        .signers_with_email(&c.email)
                        .cloned()
                        .unwrap_or_default(),
                    author: c.author,
                })
                .collect(),
        );
        Concluding::Known(transition, facts)
    }
}

/// Rejects `v`, which nothing rejected before, because an older emergency
/// promotion's review is overdue.
fn block(v: &mut Verdict, why: &str) {
    let f = Finding {
        layer: None,
        problem: Problem::ReviewOverdue(why.to_string()),
    };
    v.findings.push(f.clone());
    v.rejection = Some(f);
    v.satisfied = false;
    v.promoted = None;
    v.emergency = None;
}

/// A tag a fold is asked about: by name, or as a chain already read.
enum Wanted<'c> {
    Name(&'c str),
    Chain(&'c Chain),
}

impl Wanted<'_> {
    fn name(&self) -> &str {
        match self {
            Wanted::Name(n) => n,
            Wanted::Chain(c) => &c.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Layer;
    use std::time::{Duration, UNIX_EPOCH};

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    fn trust() -> Trust {
        Trust::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys")).unwrap()
    }

    fn index(trust: &Trust, name: &str) -> usize {
        trust.signers().iter().position(|s| s.name == name).unwrap()
    }

    fn layer(number: usize) -> Layer {
        let text = format!(
            "object {COMMIT}\ntype commit\ntag v1\ntagger Alice <alice@example.org> 1700000000 +0000\n\nv1\n"
        );
        Layer {
            number,
            oid: format!("{number:040}"),
            object: crate::object::parse(text.as_bytes()).unwrap(),
        }
    }

    fn chain(layers: usize) -> Chain {
        Chain {
            name: "v1".into(),
            outer: Some("f".repeat(40)),
            layers: (1..=layers).map(layer).collect(),
            commit: Some(COMMIT.into()),
            findings: Vec::new(),
        }
    }

    fn counts(signer: usize, key: &str, expires: Option<u64>) -> Outcome {
        Outcome::Counts {
            signer,
            key: key.into(),
            created: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            expires: expires.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        }
    }

    #[test]
    fn a_missing_tag_is_a_rejection_not_an_error() {
        let trust = trust();
        let gate = Gate::for_environment(&trust, "staging").unwrap();
        let missing = Chain {
            name: "v9".into(),
            outer: None,
            layers: Vec::new(),
            commit: None,
            findings: vec![Finding {
                layer: None,
                problem: Problem::NotFound("v9".into()),
            }],
        };
        let v = gate.judge_chain(&missing);
        assert!(!v.satisfied);
        assert_eq!(v.rejection.as_ref(), missing.findings.first());
        assert_eq!(v.shortfall(), None);
        assert_eq!(v.problems().len(), 1);
        assert_eq!(v.created, None);
        assert_eq!(v.expires, None);
    }

    #[test]
    fn signers_are_resolved_once_and_a_miss_fails_closed() {
        let trust = trust();
        let gate = Gate::for_environment(&trust, "prod").unwrap();
        let (alice, bob) = (index(&trust, "alice"), index(&trust, "bob"));
        let checks = vec![
            LayerCheck {
                number: 1,
                outcomes: vec![counts(alice, "AA", Some(2_000_000_000))],
            },
            LayerCheck {
                number: 2,
                outcomes: vec![
                    counts(bob, "BB", Some(1_900_000_000)),
                    counts(usize::MAX, "CC", None),
                ],
            },
            LayerCheck {
                number: 3,
                outcomes: vec![Outcome::Fails(Problem::Unsigned)],
            },
        ];
        let v = gate.verdict(&chain(3), &checks);
        let counted: Vec<(usize, &str, &[String])> = v
            .counted()
            .map(|(l, c)| (l, c.signer.name.as_str(), c.signer.groups.as_slice()))
            .collect();
        let humans = ["humans".to_string()];
        assert_eq!(
            counted,
            [(1, "alice", &humans[..]), (2, "bob", &humans[..])]
        );
        assert_eq!(
            v.problems(),
            [
                (Some(2), &Problem::UnknownKey("CC".into())),
                (Some(3), &Problem::Unsigned)
            ]
        );
        assert_eq!(v.rejection, None);
        assert!(!v.satisfied && !v.evaluation.holds);
        assert_eq!(
            v.shortfall().and_then(Eval::missing).as_deref(),
            Some("1 of pipelines")
        );
        assert_eq!(v.expires, Some(1_900_000_000));
        assert_eq!(v.created, Some(1_700_000_000));
        assert_eq!(v.layers.len(), 3);
    }

    #[test]
    fn the_chain_rejects_before_any_signature() {
        let trust = trust();
        let gate = Gate::for_environment(&trust, "staging").unwrap();
        let checks = vec![
            LayerCheck {
                number: 1,
                outcomes: vec![counts(index(&trust, "alice"), "AA", None)],
            },
            LayerCheck {
                number: 2,
                outcomes: vec![Outcome::Fails(bad_problem("bob"))],
            },
        ];
        let v = gate.verdict(&chain(2), &checks);
        assert_eq!(
            v.rejection.as_ref().map(|f| (f.layer, f.problem.clone())),
            Some((Some(2), bad_problem("bob")))
        );
        assert!(!v.satisfied && v.shortfall().is_none());

        let mut moved = chain(2);
        moved.findings.push(Finding {
            layer: Some(1),
            problem: Problem::TrailingData,
        });
        let v = gate.verdict(&moved, &checks);
        assert_eq!(v.rejection, moved.findings.first().cloned());
        assert_eq!(
            v.problems(),
            [
                (Some(1), &Problem::TrailingData),
                (Some(2), &bad_problem("bob"))
            ]
        );
    }

    #[test]
    fn a_tag_with_no_signature_anywhere_is_no_chain() {
        let trust = trust();
        let gate = Gate::for_environment(&trust, "staging").unwrap();
        let unsigned = || LayerCheck {
            number: 0,
            outcomes: vec![Outcome::Fails(Problem::Unsigned)],
        };
        let numbered = |n: usize, c: LayerCheck| LayerCheck { number: n, ..c };
        let v = gate.verdict(
            &chain(2),
            &[numbered(1, unsigned()), numbered(2, unsigned())],
        );
        assert!(v.not_a_chain() && !v.satisfied);
        // One signature anywhere, counted or not, makes it a chain.
        let signed = LayerCheck {
            number: 2,
            outcomes: vec![Outcome::Fails(Problem::UnknownKey("CC".into()))],
        };
        let v = gate.verdict(&chain(2), &[numbered(1, unsigned()), signed]);
        assert!(!v.not_a_chain());
        let lightweight = |problem: Problem| Chain {
            layers: Vec::new(),
            commit: None,
            findings: vec![Finding {
                layer: None,
                problem,
            }],
            ..chain(0)
        };
        let v = gate.judge_chain(&lightweight(Problem::Lightweight(
            crate::object::Kind::Commit,
        )));
        assert!(v.not_a_chain());
        let v = gate.judge_chain(&lightweight(Problem::NotFound("v1".into())));
        assert!(
            !v.not_a_chain(),
            "a missing tag is refused, not counted apart"
        );
    }

    fn bad_problem(signer: &str) -> Problem {
        Problem::BadSignature {
            signer: signer.into(),
            key: "AA".into(),
        }
    }

    #[test]
    fn a_transition_rule_without_the_repository_fails_closed() {
        let trust = trust();
        let rule = trust
            .parse_rule("2 of humans besides author", "--require")
            .unwrap();
        let gate = Gate::new(&trust, "--require", rule);
        let checks = vec![
            LayerCheck {
                number: 1,
                outcomes: vec![counts(index(&trust, "alice"), "AA", None)],
            },
            LayerCheck {
                number: 2,
                outcomes: vec![counts(index(&trust, "carol"), "CC", None)],
            },
        ];
        let v = gate.verdict(&chain(2), &checks);
        assert!(!v.satisfied && v.promoted.is_none() && v.transition.is_none());
        assert_eq!(
            v.rejection.map(|f| (f.layer, f.problem)),
            Some((
                None,
                Problem::History(
                    "\"2 of humans besides author\" speaks of transitions, which need the \
                     repository's tags and history, and v1 was judged without them"
                        .into()
                )
            ))
        );
        // A bad signature still comes first.
        let bad = vec![LayerCheck {
            number: 1,
            outcomes: vec![Outcome::Fails(bad_problem("alice"))],
        }];
        let v = gate.verdict(&chain(1), &bad);
        assert_eq!(v.rejection.map(|f| f.problem), Some(bad_problem("alice")));
        assert_eq!(
            v.findings,
            Vec::new(),
            "no history finding after a rejection"
        );
    }

    #[test]
    fn a_malformed_trailer_is_a_problem_of_its_layer_only() {
        let trust = trust();
        let gate = Gate::for_environment(&trust, "staging").unwrap();
        let text = format!(
            "object {COMMIT}\ntype commit\ntag v1\ntagger Alice <alice@example.org> 1700000000 +0000\n\nv1\n\nSigtag-Tested-From: v0.9\n"
        );
        let mut c = chain(2);
        c.layers[1].object = crate::object::parse(text.as_bytes()).unwrap();
        let checks = vec![
            LayerCheck {
                number: 1,
                outcomes: vec![counts(index(&trust, "alice"), "AA", None)],
            },
            LayerCheck {
                number: 2,
                outcomes: vec![counts(index(&trust, "bob"), "BB", None)],
            },
        ];
        let v = gate.verdict(&c, &checks);
        assert!(v.satisfied && v.promoted == Some(Promoted::Require));
        assert_eq!(v.layers[1].tested_from, None);
        assert_eq!(
            v.problems(),
            [(
                Some(2),
                &Problem::Trailer(
                    "Sigtag-Tested-From \"v0.9\" is neither a full commit id (40 hexadecimal digits) nor none"
                        .into()
                )
            )]
        );
        assert_eq!(
            crate::render::line::line(&v),
            "v1: yes for staging (alice, bob)"
        );
    }

    #[test]
    fn satisfied_needs_every_atom() {
        let trust = trust();
        let gate = Gate::for_environment(&trust, "staging").unwrap();
        let checks = vec![
            LayerCheck {
                number: 1,
                outcomes: vec![counts(index(&trust, "alice"), "AA", None)],
            },
            LayerCheck {
                number: 2,
                outcomes: vec![counts(index(&trust, "carol"), "CC", None)],
            },
        ];
        let v = gate.verdict(&chain(2), &checks);
        assert!(v.satisfied && v.evaluation.holds);
        assert_eq!(v.shortfall(), None);
        assert_eq!(v.expires, None);
    }
}
