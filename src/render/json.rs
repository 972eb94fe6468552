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

use crate::date::rfc3339;
use crate::rule::{Eval, Node, Rule};
use crate::verdict::Verdict;
use serde::Serialize;

/// A signature that counts.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CountedSigner {
    pub name: String,
    pub groups: Vec<String>,
    pub fingerprint: String,
    pub layer: usize,
    pub created: String,
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
}

impl Report {
    /// The report of a verdict.
    pub fn of(verdict: &Verdict) -> Report {
        Report {
            tag: verdict.tag.clone(),
            commit: verdict.commit.clone(),
            environment: verdict.environment.clone(),
            rule: verdict.rule.to_string(),
            satisfied: verdict.satisfied,
            rejected: verdict.rejection.as_ref().map(|f| f.problem.to_string()),
            signers: verdict
                .counted()
                .map(|(layer, c)| CountedSigner {
                    name: c.signer.name.clone(),
                    groups: c.signer.groups.clone(),
                    fingerprint: c.key.clone(),
                    layer,
                    created: rfc3339(c.created),
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
        }
    }
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
