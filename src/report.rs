//! The verdict on one tag for one environment, and its renderings: JSON for
//! machines, one line or an explanation for people.

use crate::chain::Chain;
use crate::rule::{Eval, Rule};
use crate::trust::Trust;
use crate::verify::{LayerCheck, Outcome};
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;

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

/// The verdict on one tag.
#[derive(Debug, Clone, Serialize)]
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
    /// What is missing, naming who already counts ("1 more of humans other
    /// than alice"); for people, not part of the JSON.
    #[serde(skip)]
    pub needs: Option<String>,
    /// The outer tag object, for caches; not part of the JSON.
    #[serde(skip)]
    pub outer: Option<String>,
    /// Creation time of the innermost layer (tagger time); not part of the JSON.
    #[serde(skip)]
    pub created: Option<i64>,
    /// The earliest Signature Expiration Time (seconds since the epoch) of
    /// the signatures that count: a positive verdict holds no longer than
    /// that. `None`: no counting signature expires. Not part of the JSON.
    #[serde(skip)]
    pub expires: Option<i64>,
}

pub use crate::time::rfc3339;

/// The names that count, per group.
fn counted_in<'a>(
    trust: &'a Trust,
    checks: &'a [LayerCheck],
) -> impl Fn(&str) -> BTreeSet<String> + 'a {
    move |group: &str| {
        checks
            .iter()
            .flat_map(|c| &c.outcomes)
            .filter_map(|o| match o {
                Outcome::Counts { signer, .. } => trust.signer(*signer),
                Outcome::Fails(_) => None,
            })
            .filter(|s| s.groups.iter().any(|g| g == group))
            .map(|s| s.name.clone())
            .collect()
    }
}

/// Evaluates the rule over the checked chain. Pure.
pub fn evaluate<'r>(rule: &'r Rule, trust: &Trust, checks: &[LayerCheck]) -> Eval<'r> {
    rule.eval(&counted_in(trust, checks))
}

impl Report {
    /// Builds the report of one tag. A tag-level problem anywhere (in the
    /// chain or in a signature) rejects the tag whatever the rule says.
    pub fn build(
        environment: &str,
        rule: &Rule,
        trust: &Trust,
        chain: &Chain,
        checks: &[LayerCheck],
    ) -> Report {
        let mut problems: Vec<ProblemEntry> = chain
            .findings
            .iter()
            .map(|f| ProblemEntry {
                layer: f.layer,
                reason: f.problem.to_string(),
            })
            .collect();
        let mut rejected = chain.rejection().map(|f| f.problem.to_string());
        let mut signers = Vec::new();
        let mut expires: Option<i64> = None;
        for check in checks {
            for outcome in &check.outcomes {
                match outcome {
                    Outcome::Counts {
                        signer,
                        key,
                        created,
                        expires: until,
                    } => {
                        let Some(s) = trust.signer(*signer) else {
                            continue;
                        };
                        if let Some(t) = until {
                            let secs = t
                                .duration_since(std::time::UNIX_EPOCH)
                                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                            expires = Some(expires.map_or(secs, |e| e.min(secs)));
                        }
                        signers.push(CountedSigner {
                            name: s.name.clone(),
                            groups: s.groups.clone(),
                            fingerprint: key.clone(),
                            layer: check.number,
                            created: rfc3339(*created),
                        });
                    }
                    Outcome::Fails(p) => {
                        if p.rejects_tag() && rejected.is_none() {
                            rejected = Some(p.to_string());
                        }
                        problems.push(ProblemEntry {
                            layer: Some(check.number),
                            reason: p.to_string(),
                        });
                    }
                }
            }
        }
        problems.sort_by_key(|p| p.layer);
        let eval = evaluate(rule, trust, checks);
        let satisfied = rejected.is_none() && eval.holds;
        Report {
            tag: chain.name.clone(),
            commit: chain.commit.clone(),
            environment: environment.to_string(),
            rule: rule.to_string(),
            satisfied,
            missing: if rejected.is_some() {
                None
            } else {
                eval.missing()
            },
            needs: if rejected.is_some() {
                None
            } else {
                eval.missing_explained()
            },
            rejected,
            signers,
            problems,
            outer: chain.outer.clone(),
            created: chain.created(),
            expires,
        }
    }

    /// One line for people: `v1.4.0: yes for prod (alice, bob, staging)`.
    pub fn line(&self) -> String {
        if self.satisfied {
            let names: BTreeSet<&str> = self.signers.iter().map(|s| s.name.as_str()).collect();
            let names: Vec<&str> = names.into_iter().collect();
            format!(
                "{}: yes for {} ({})",
                self.tag,
                self.environment,
                names.join(", ")
            )
        } else if let Some(why) = &self.rejected {
            format!("{}: no for {}: rejected: {why}", self.tag, self.environment)
        } else {
            format!(
                "{}: no for {}: needs {}",
                self.tag,
                self.environment,
                self.needs.as_deref().unwrap_or("more signatures")
            )
        }
    }
}

/// A description for people: layers from the commit up, who signed each and
/// whether it counts, the rule as a tree, and what is missing.
pub fn explain(
    environment: &str,
    rule: &Rule,
    trust: &Trust,
    chain: &Chain,
    checks: &[LayerCheck],
) -> String {
    let report = Report::build(environment, rule, trust, chain, checks);
    let mut out = String::new();
    let _ = writeln!(out, "tag {}", chain.name);
    match &chain.commit {
        Some(c) => {
            let _ = writeln!(out, "  commit {c}");
        }
        None => {
            let _ = writeln!(out, "  commit (not reached)");
        }
    }
    for finding in chain.findings.iter().filter(|f| f.layer.is_none()) {
        let _ = writeln!(out, "  ✗ {}", finding.problem);
    }
    for layer in &chain.layers {
        let _ = writeln!(
            out,
            "  layer {}  {}  tagger {}",
            layer.number,
            layer.oid.get(..12).unwrap_or(&layer.oid),
            layer.object.tagger.ident
        );
        for finding in chain
            .findings
            .iter()
            .filter(|f| f.layer == Some(layer.number))
        {
            let _ = writeln!(out, "    ✗ {}", finding.problem);
        }
        if let Some(check) = checks.iter().find(|c| c.number == layer.number) {
            for outcome in &check.outcomes {
                let _ = match outcome {
                    Outcome::Counts {
                        signer,
                        key,
                        created,
                        ..
                    } => {
                        let Some(s) = trust.signer(*signer) else {
                            continue;
                        };
                        writeln!(
                            out,
                            "    ✓ signed by {} ({}) at {} [{}]",
                            s.name,
                            if s.groups.is_empty() {
                                "no group".to_string()
                            } else {
                                s.groups.join(", ")
                            },
                            rfc3339(*created),
                            key
                        )
                    }
                    Outcome::Fails(p) => writeln!(out, "    ✗ {p}"),
                };
            }
        }
    }
    // Layers that did not parse have findings but no entry above.
    let shown: BTreeSet<usize> = chain.layers.iter().map(|l| l.number).collect();
    for finding in &chain.findings {
        if let Some(n) = finding.layer.filter(|n| !shown.contains(n)) {
            let _ = writeln!(out, "  layer {n}\n    ✗ {}", finding.problem);
        }
    }
    let eval = evaluate(rule, trust, checks);
    let _ = writeln!(out, "rule for {environment}: {rule}");
    tree(&eval, 1, &mut out);
    if let Some(why) = &report.rejected {
        let _ = writeln!(out, "verdict: no, the tag is rejected: {why}");
    } else if report.satisfied {
        let _ = writeln!(out, "verdict: yes");
    } else {
        let _ = writeln!(
            out,
            "verdict: no, needs {}",
            eval.missing_explained()
                .unwrap_or_else(|| "more signatures".into())
        );
    }
    out
}

fn tree(eval: &Eval<'_>, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let mark = if eval.holds { "✓" } else { "✗" };
    match eval.rule {
        Rule::Atom { n, group } => {
            let names: Vec<&str> = eval.have.iter().map(String::as_str).collect();
            let _ = writeln!(
                out,
                "{pad}{mark} {n} of {group}: {} counted{}",
                names.len(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", names.join(", "))
                }
            );
        }
        Rule::And(_) | Rule::Or(_) => {
            let word = if matches!(eval.rule, Rule::And(_)) {
                "all of"
            } else {
                "any of"
            };
            let _ = writeln!(out, "{pad}{mark} {word}:");
            for child in &eval.children {
                tree(child, depth + 1, out);
            }
        }
    }
}
