//! Renderings of a [`Verdict`](crate::verdict::Verdict): one line for
//! people ([`line`](mod@line)), the JSON report for machines ([`json`]),
//! and an explanation, layer by layer ([`explain`]); [`audit`] renders
//! an audit report (many verdicts and the evidence around them). A [`Style`] says
//! whether the renderings for people use ✓/✗ and colour.
//!
//! A renderer reads only a verdict: no trust root, no repository, no rule
//! evaluation (the verdict carries the evaluated rule). A new rendering
//! is one new file here.

pub mod audit;
pub mod explain;
pub mod json;
pub mod line;
pub mod style;

pub use style::Style;

use crate::verdict::SignerId;

/// A signer's groups for people: "humans, pipelines", or "no group".
pub fn groups(signer: &SignerId) -> String {
    if signer.groups.is_empty() {
        "no group".to_string()
    } else {
        signer.groups.join(", ")
    }
}
