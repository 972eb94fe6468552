//! The JSON report, as `--json` prints it and `in` writes it: one object
//! per tag, its fields in this order (README, "JSON"):
//!
//! ```json
//! {"tag": "v1.4.0", "commit": "<40 hex>", "environment": "prod",
//!  "rule": "2 of humans and 1 of pipelines", "satisfied": false,
//!  "rejected": null,
//!  "signers": [{"name": "alice", "groups": ["humans"], "fingerprint": "<hex>",
//!               "layer": 1, "created": "2026-11-22T16:00:00Z"}],
//!  "problems": [{"layer": 3, "reason": "signed by a key nobody trusts: <fpr>"}],
//!  "missing": "1 of pipelines"}
//! ```
//!
//! `explain --json` prints the same report with one more field, `tree`: the
//! rule as it was evaluated ([`RuleNode`]).
//!
//! An emergency promotion (DESIGN §6) has two more fields, last:
//!
//! ```json
//! {"emergency": true,
//!  "review": {"emergency_rule": "1 of humans", "rule": "2 of humans",
//!             "reviewed": false, "overdue": false,
//!             "since": "2026-12-02T10:00:00Z", "due": "2026-12-05T10:00:00Z",
//!             "needs": "1 more of humans other than alice"}}
//! ```
//!
//! Under a rule with transition atoms (DESIGN §6) the report has four more
//! fields after `missing`, and each signer its `tested_from`; a report
//! under any other rule has none of them, as before:
//!
//! ```json
//! {"base": {"tag": "v1.0", "commit": "<40 hex>"},
//!  "range": {"commits": 3, "since": null},
//!  "authors": [{"rule": "1 of cto besides author", "holds": false, "falling_short": 1,
//!               "commits": [{"commit": "<40 hex>", "author": "Carol <carol@example.org>",
//!                            "signers": ["carol"], "besides": [], "needs": 1}]}],
//!  "tested": [{"rule": "1 of pipelines tested", "holds": true, "expected": "<40 hex>",
//!              "counted": ["staging"], "other": []}]}
//! ```
//!
//! `base` is null when the tag has none (or its history was not read: then
//! it is rejected); `range` is null when it was not read (no `besides
//! author` atom, or the signatures alone do not meet the rule), and its
//! `since` is `{"rev": .., "commit": ..}` when the range starts there.
//! `authors` has one entry per `besides author` atom, with the first
//! commits that fall short ([`crate::rule::MAX_SHORT_COMMITS`]) and how
//! many do; `tested` one per `tested` atom, with what a layer had to record
//! (a commit or `none`) and the counted signers of its group whose layers
//! recorded something else (`tested_from`: what they recorded, `tags`: the
//! tags at those commits).

use crate::date::rfc3339;
use crate::message::TestedFrom;
use crate::rule::{Eval, Node, Qualifier, Rule};
use crate::verdict::{EmergencyVerdict, Signature, Verdict};
use serde::Serialize;

/// A signature that counts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CountedSigner {
    pub name: String,
    pub groups: Vec<String>,
    pub fingerprint: String,
    pub layer: usize,
    pub created: String,
    /// Under a rule with transition atoms: what the layer's
    /// `Sigtag-Tested-From` records (a commit, `none`, or null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tested_from: Option<Option<String>>,
}

/// A tag's base.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BaseEntry {
    pub tag: String,
    pub commit: String,
}

/// A tag's range.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RangeEntry {
    pub commits: usize,
    pub since: Option<SinceEntry>,
}

/// `since` where a range starts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SinceEntry {
    pub rev: String,
    pub commit: String,
}

/// What one `besides author` atom found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuthorsEntry {
    pub rule: String,
    pub holds: bool,
    /// How many commits of the range fall short.
    pub falling_short: usize,
    /// The first of them, in range order.
    pub commits: Vec<ShortEntry>,
}

/// A commit that falls short of a `besides author` atom.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ShortEntry {
    pub commit: String,
    pub author: String,
    /// The signers the author is.
    pub signers: Vec<String>,
    /// The counted signers of the group besides the author.
    pub besides: Vec<String>,
    pub needs: usize,
}

/// What one `tested` atom found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TestedEntry {
    pub rule: String,
    pub holds: bool,
    /// What a layer had to record: the base's commit, or `none`.
    pub expected: Option<String>,
    /// The signers of the group whose layers recorded it.
    pub counted: Vec<String>,
    /// The counted signers of the group whose layers recorded something
    /// else, or nothing.
    pub other: Vec<OtherEntry>,
}

/// A counted signer whose layers recorded another transition.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OtherEntry {
    pub signer: String,
    pub tested_from: Vec<String>,
    /// The tags at the commits recorded, where the fold knows one.
    pub tags: Vec<String>,
}

/// Something wrong with the tag (layer `None`) or with one layer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProblemEntry {
    pub layer: Option<usize>,
    pub reason: String,
}

/// The report on one tag, in the shape of the JSON.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub tag: String,
    pub commit: Option<String>,
    pub environment: String,
    pub rule: String,
    pub satisfied: bool,
    /// The reason that rejects the whole tag, if one does.
    pub rejected: Option<String>,
    pub signers: Vec<CountedSigner>,
    pub problems: Vec<ProblemEntry>,
    /// What the rule still needs; `None` when satisfied or rejected.
    pub missing: Option<String>,
    /// Under a rule with transition atoms: the base, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Option<BaseEntry>>,
    /// Under a rule with transition atoms: the range, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<Option<RangeEntry>>,
    /// Under a rule with transition atoms: one entry per `besides author`
    /// atom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<Vec<AuthorsEntry>>,
    /// Under a rule with transition atoms: one entry per `tested` atom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tested: Option<Vec<TestedEntry>>,
    /// `true` for an emergency promotion; absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub emergency: bool,
    /// For an emergency promotion: its review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewEntry>,
}

/// The review of an emergency promotion.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReviewEntry {
    /// The `emergency` rule the tag meets.
    pub emergency_rule: String,
    /// The `review` rule.
    pub rule: String,
    pub reviewed: bool,
    pub overdue: bool,
    /// When the tag met the emergency rule, and when its review is due.
    pub since: String,
    pub due: String,
    /// What the review still needs; null once reviewed.
    pub needs: Option<String>,
}

impl ReviewEntry {
    /// The review of an emergency promotion.
    pub fn of(e: &EmergencyVerdict) -> ReviewEntry {
        ReviewEntry {
            emergency_rule: e.rule.to_string(),
            rule: e.review.to_string(),
            reviewed: e.reviewed,
            overdue: e.overdue,
            since: super::line::date(e.since),
            due: super::line::date(e.due),
            needs: e.needs(),
        }
    }
}

impl Report {
    /// The report of a verdict.
    pub fn of(verdict: &Verdict) -> Report {
        let transitions = verdict.rule.has_transitions();
        let t = verdict.transition.as_ref();
        Report {
            tag: verdict.tag.clone(),
            commit: verdict.commit.clone(),
            environment: verdict.environment.clone(),
            rule: verdict.rule.to_string(),
            satisfied: verdict.satisfied,
            rejected: verdict.rejection.as_ref().map(|f| f.problem.to_string()),
            signers: verdict
                .layers
                .iter()
                .flat_map(|l| {
                    l.signatures.iter().filter_map(move |s| match s {
                        Signature::Counts(c) => Some((l, c)),
                        Signature::Fails(_) => None,
                    })
                })
                .map(|(l, c)| CountedSigner {
                    name: c.signer.name.clone(),
                    groups: c.signer.groups.clone(),
                    fingerprint: c.key.clone(),
                    layer: l.number,
                    created: rfc3339(c.created),
                    tested_from: transitions
                        .then(|| l.tested_from.as_ref().map(TestedFrom::to_string)),
                })
                .collect(),
            problems: verdict
                .problems()
                .into_iter()
                .map(|(layer, p)| ProblemEntry {
                    layer,
                    reason: p.to_string(),
                })
                .collect(),
            missing: verdict.shortfall().and_then(Eval::missing),
            base: transitions.then(|| {
                t.and_then(|t| t.base.as_ref()).map(|b| BaseEntry {
                    tag: b.tag.clone(),
                    commit: b.commit.clone(),
                })
            }),
            range: transitions.then(|| {
                t.and_then(|t| {
                    Some(RangeEntry {
                        commits: t.range?,
                        since: t.since.as_ref().map(|s| SinceEntry {
                            rev: s.rev.clone(),
                            commit: s.commit.clone(),
                        }),
                    })
                })
            }),
            authors: transitions.then(|| {
                atoms(&verdict.evaluation, Qualifier::BesidesAuthor)
                    .into_iter()
                    .map(|e| AuthorsEntry {
                        rule: rule_of(e).to_string(),
                        holds: e.holds,
                        falling_short: e.authors.as_ref().map_or(0, |a| a.falling_short),
                        commits: e
                            .authors
                            .iter()
                            .flat_map(|a| &a.short)
                            .map(|c| ShortEntry {
                                commit: c.commit.clone(),
                                author: c.author.clone(),
                                signers: c.authors.iter().cloned().collect(),
                                besides: c.besides.iter().cloned().collect(),
                                needs: c.need,
                            })
                            .collect(),
                    })
                    .collect()
            }),
            tested: transitions.then(|| {
                atoms(&verdict.evaluation, Qualifier::Tested)
                    .into_iter()
                    .map(|e| TestedEntry {
                        rule: rule_of(e).to_string(),
                        holds: e.holds,
                        expected: e.tested.as_ref().map(|t| t.expected.to_string()),
                        counted: e.have.iter().cloned().collect(),
                        other: e
                            .tested
                            .iter()
                            .flat_map(|t| {
                                t.other.iter().map(|(signer, from)| OtherEntry {
                                    signer: signer.clone(),
                                    tested_from: from.iter().map(TestedFrom::to_string).collect(),
                                    tags: from
                                        .iter()
                                        .filter_map(|f| match f {
                                            TestedFrom::Commit(c) => t.tags.get(c).cloned(),
                                            TestedFrom::Nothing => None,
                                        })
                                        .collect(),
                                })
                            })
                            .collect(),
                    })
                    .collect()
            }),
            emergency: verdict.emergency.is_some(),
            review: verdict.emergency.as_ref().map(ReviewEntry::of),
        }
    }
}

/// The atoms of an evaluation with `qualifier`, in rule order.
pub fn atoms(eval: &Eval, qualifier: Qualifier) -> Vec<&Eval> {
    let mut out = Vec::new();
    fn walk<'e>(e: &'e Eval, q: Qualifier, out: &mut Vec<&'e Eval>) {
        match &e.node {
            Node::Atom { qualifier, .. } if *qualifier == q => out.push(e),
            Node::Atom { .. } => {}
            Node::All | Node::Any => e.children.iter().for_each(|c| walk(c, q, out)),
        }
    }
    walk(eval, qualifier, &mut out);
    out
}

/// The reports of `verdicts` as a pretty-printed JSON array, in order.
pub fn array(verdicts: &[Verdict]) -> serde_json::Result<String> {
    let reports: Vec<Report> = verdicts.iter().map(Report::of).collect();
    serde_json::to_string_pretty(&reports)
}

/// One node of the evaluated rule:
/// `{"rule": "2 of humans", "kind": "atom", "holds": true,
///   "counted": ["alice", "bob"], "children": []}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleNode {
    /// This part of the rule, as the policy would write it.
    pub rule: String,
    /// `atom` (`N of GROUP`), `and` or `or`.
    pub kind: &'static str,
    pub holds: bool,
    /// The distinct signers that count towards it, sorted: for an atom the
    /// members of its group whose signatures count, for `and` and `or`
    /// those of its parts.
    pub counted: Vec<String>,
    /// For `and` and `or`: the parts, in rule order; empty for an atom.
    pub children: Vec<RuleNode>,
}

impl RuleNode {
    /// The tree of an evaluation.
    pub fn of(eval: &Eval) -> RuleNode {
        let children: Vec<RuleNode> = eval.children.iter().map(RuleNode::of).collect();
        let counted: std::collections::BTreeSet<String> = match eval.node {
            Node::Atom { .. } => eval.have.clone(),
            Node::All | Node::Any => children
                .iter()
                .flat_map(|c| c.counted.iter().cloned())
                .collect(),
        };
        RuleNode {
            rule: rule_of(eval).to_string(),
            kind: match eval.node {
                Node::Atom { .. } => "atom",
                Node::All => "and",
                Node::Any => "or",
            },
            holds: eval.holds,
            counted: counted.into_iter().collect(),
            children,
        }
    }
}

/// The rule an evaluation is shaped like, to print it as the policy would.
/// The rule an evaluated node stands for, as text ("1 of humans besides
/// author").
pub fn rule_text(eval: &Eval) -> String {
    rule_of(eval).to_string()
}

fn rule_of(eval: &Eval) -> Rule {
    match &eval.node {
        Node::Atom {
            n,
            group,
            qualifier,
        } => Rule::Atom {
            n: *n,
            group: group.clone(),
            qualifier: *qualifier,
        },
        Node::All => Rule::And(eval.children.iter().map(rule_of).collect()),
        Node::Any => Rule::Or(eval.children.iter().map(rule_of).collect()),
    }
}

/// The report on one tag with its rule tree, as `explain --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explained {
    #[serde(flatten)]
    pub report: Report,
    pub tree: RuleNode,
}

impl Explained {
    pub fn of(verdict: &Verdict) -> Explained {
        Explained {
            report: Report::of(verdict),
            tree: RuleNode::of(&verdict.evaluation),
        }
    }
}

/// The reports of `verdicts` with their rule trees, as a pretty-printed
/// JSON array, in order.
pub fn explained_array(verdicts: &[Verdict]) -> serde_json::Result<String> {
    let reports: Vec<Explained> = verdicts.iter().map(Explained::of).collect();
    serde_json::to_string_pretty(&reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Finding;
    use crate::problem::Problem;
    use crate::rule::Rule;
    use std::collections::BTreeSet;

    fn rejected() -> Verdict {
        let rule = Rule::parse("2 of humans").unwrap();
        Verdict {
            tag: "v9".into(),
            environment: "staging".into(),
            evaluation: rule.eval(&|_: &str| BTreeSet::new()),
            rule,
            outer: None,
            commit: None,
            created: None,
            layers: Vec::new(),
            findings: vec![Finding {
                layer: None,
                problem: Problem::NotFound("v9".into()),
            }],
            rejection: Some(Finding {
                layer: None,
                problem: Problem::NotFound("v9".into()),
            }),
            satisfied: false,
            expires: None,
            promoted: None,
            emergency: None,
            transition: None,
        }
    }

    #[test]
    fn fields_keep_their_names_and_order() {
        let text = serde_json::to_string(&Report::of(&rejected())).unwrap();
        assert_eq!(
            text,
            r#"{"tag":"v9","commit":null,"environment":"staging","rule":"2 of humans","satisfied":false,"rejected":"no tag named \"v9\"","signers":[],"problems":[{"layer":null,"reason":"no tag named \"v9\""}],"missing":null}"#
        );
    }

    #[test]
    fn the_rule_tree_names_each_part_and_who_counts() {
        let rule = Rule::parse("2 of humans and (1 of pipelines or 3 of humans)").unwrap();
        let counted = |g: &str| -> BTreeSet<String> {
            match g {
                "humans" => ["alice", "bob"].iter().map(|s| s.to_string()).collect(),
                _ => BTreeSet::new(),
            }
        };
        let mut v = rejected();
        v.evaluation = rule.eval(&counted);
        v.rule = rule;
        let text = serde_json::to_string(&Explained::of(&v).tree).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"rule":"2 of humans and (1 of pipelines or 3 of humans)","kind":"and","holds":false,"counted":["alice","bob"],"children":["#,
                r#"{"rule":"2 of humans","kind":"atom","holds":true,"counted":["alice","bob"],"children":[]},"#,
                r#"{"rule":"1 of pipelines or 3 of humans","kind":"or","holds":false,"counted":["alice","bob"],"children":["#,
                r#"{"rule":"1 of pipelines","kind":"atom","holds":false,"counted":[],"children":[]},"#,
                r#"{"rule":"3 of humans","kind":"atom","holds":false,"counted":["alice","bob"],"children":[]}]}]}"#
            )
        );
        // The report's fields first, in their order, then the tree.
        let text = serde_json::to_string(&Explained::of(&v)).unwrap();
        let report = serde_json::to_string(&Report::of(&v)).unwrap();
        assert_eq!(
            text.strip_suffix(&format!(
                r#","tree":{}}}"#,
                serde_json::to_string(&Explained::of(&v).tree).unwrap()
            )),
            report.strip_suffix('}'),
            "{text}"
        );
    }

    #[test]
    fn a_shortfall_is_missing_only_when_not_rejected() {
        let mut v = rejected();
        assert_eq!(Report::of(&v).missing, None);
        v.rejection = None;
        v.findings.clear();
        assert_eq!(Report::of(&v).missing.as_deref(), Some("2 of humans"));
        assert_eq!(
            crate::render::line::line(&v),
            "v9: no for staging: needs 2 of humans"
        );
    }
}
