//! The verdict on one tag for one environment, as plain data, and the one
//! entry point that makes it.
//!
//! [`Gate::judge`] reads a tag's chain ([`chain::read`]), checks its
//! signatures ([`verify::check_chain`]) and evaluates the environment's
//! rule, once. Every front end goes through a [`Gate`]: the command line's
//! `verify`, `list` and `explain`, the demo, `cosign --require`, and the
//! resource's `check`, `in` and `out`. Renderers ([`crate::render`]) only
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
//!   verdicts cost little memory, and a chain is dropped once judged.
//!
//! Judging makes no error value for a tag, good or bad: everything wrong
//! with a tag is a [`Problem`] in the verdict. Only [`Gate::judge_all`]
//! can fail, when a worker cannot open its repository handle.

use crate::chain::{self, Chain, Finding};
use crate::error::Result;
use crate::object::Tagger;
use crate::problem::Problem;
use crate::rule::{Eval, Rule};
use crate::trust::Trust;
use crate::verify::{self, LayerCheck, Outcome};
use git2::Repository;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::SystemTime;

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
                l.signatures.iter().filter_map(move |s| match s {
                    Signature::Fails(p) => Some((Some(l.number), p)),
                    Signature::Counts(_) => None,
                })
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
        (self.rejection.is_none() && !self.evaluation.holds).then_some(&self.evaluation)
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
    /// ([`Trust::parse_rule`]), judging at the current time.
    pub fn new(trust: &'t Trust, environment: &str, rule: Rule) -> Gate<'t> {
        Gate {
            trust,
            environment: environment.to_string(),
            rule,
            now: SystemTime::now(),
        }
    }

    /// Judges the tag `name` of `repo`.
    pub fn judge(&self, repo: &Repository, name: &str) -> Verdict {
        self.judge_chain(&chain::read(repo, name))
    }

    /// Judges a chain already read. Reads no repository.
    pub fn judge_chain(&self, chain: &Chain) -> Verdict {
        let checks = verify::check_chain(chain, self.trust, self.now);
        self.verdict(chain, &checks)
    }

    /// The verdict on a chain whose signatures are already checked: `checks`
    /// as [`verify::check_chain`] made them for `chain` with this gate's
    /// trust root. Pure.
    pub fn verdict(&self, chain: &Chain, checks: &[LayerCheck]) -> Verdict {
        let layers: Vec<LayerVerdict> = chain
            .layers
            .iter()
            .map(|layer| LayerVerdict {
                number: layer.number,
                oid: layer.oid.clone(),
                tagger: layer.object.tagger.clone(),
                signatures: checks
                    .iter()
                    .filter(|c| c.number == layer.number)
                    .flat_map(|c| &c.outcomes)
                    .map(|o| self.signature(o))
                    .collect(),
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
        let counted: Vec<&Counted> = layers
            .iter()
            .flat_map(|l| &l.signatures)
            .filter_map(|s| match s {
                Signature::Counts(c) => Some(c),
                Signature::Fails(_) => None,
            })
            .collect();
        let evaluation = self.rule.eval(&|group: &str| {
            counted
                .iter()
                .filter(|c| c.signer.in_group(group))
                .map(|c| c.signer.name.clone())
                .collect::<BTreeSet<String>>()
        });
        let expires = counted
            .iter()
            .filter_map(|c| c.expires)
            .map(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            })
            .min();
        Verdict {
            tag: chain.name.clone(),
            environment: self.environment.clone(),
            rule: self.rule.clone(),
            outer: chain.outer.clone(),
            commit: chain.commit.clone(),
            created: chain.created(),
            satisfied: rejection.is_none() && evaluation.holds,
            layers,
            findings: chain.findings.clone(),
            evaluation,
            rejection,
            expires,
        }
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

    /// Judges many tags in parallel; verdicts come back in the order of
    /// `names`.
    pub fn judge_all(&self, repo: &Repository, names: &[String]) -> Result<Vec<Verdict>> {
        if names.len() < 8 {
            return Ok(names.iter().map(|n| self.judge(repo, n)).collect());
        }
        // One repository handle per chunk of tags (handles are not Sync);
        // a few chunks per thread keep both cores busy to the end.
        let gitdir: PathBuf = repo.path().to_path_buf();
        let chunk = (names.len() / (rayon::current_num_threads() * 4)).max(8);
        let chunks: Vec<Vec<Verdict>> = names
            .par_chunks(chunk)
            .map(|chunk| {
                let repo = crate::gate::open_gitdir(&gitdir)?;
                Ok(chunk.iter().map(|n| self.judge(&repo, n)).collect())
            })
            .collect::<Result<_>>()?;
        Ok(chunks.into_iter().flatten().collect())
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
