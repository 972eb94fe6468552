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

use crate::date::rfc3339;
use crate::rule::Eval;
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
            evaluation: rule.eval(&|_| BTreeSet::new()),
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
