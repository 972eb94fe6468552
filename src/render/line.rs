//! One line for people: `v1.4.0: yes for prod (alice, bob, staging)`.

use crate::rule::Eval;
use crate::verdict::Verdict;
use std::collections::BTreeSet;

/// The verdict in one line: yes with the distinct signers that count, or
/// no with the rejection or what the rule still needs.
pub fn line(verdict: &Verdict) -> String {
    if verdict.satisfied {
        let names: BTreeSet<&str> = verdict
            .counted()
            .map(|(_, c)| c.signer.name.as_str())
            .collect();
        let names: Vec<&str> = names.into_iter().collect();
        format!(
            "{}: yes for {} ({})",
            verdict.tag,
            verdict.environment,
            names.join(", ")
        )
    } else if let Some(why) = &verdict.rejection {
        format!(
            "{}: no for {}: rejected: {}",
            verdict.tag, verdict.environment, why.problem
        )
    } else {
        format!(
            "{}: no for {}: needs {}",
            verdict.tag,
            verdict.environment,
            needs(verdict).unwrap_or_else(|| "more signatures".to_string())
        )
    }
}

/// What the rule still needs, naming who already counts ("1 more of humans
/// other than alice"); `None` when the tag is satisfied or rejected.
pub fn needs(verdict: &Verdict) -> Option<String> {
    verdict.shortfall().and_then(Eval::missing_explained)
}
