//! A description for people: layers from the commit up, who signed each
//! and whether it counts, the rule as a tree, and what is missing.
//!
//! A good signature by a signer in no group is marked `○` (`~` in plain
//! output), not `✓`: no rule can count it, and the line says how to
//! change that.

use super::{groups, Style};
use crate::date::rfc3339;
use crate::rule::{Eval, Node};
use crate::verdict::{Signature, Verdict};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The explanation of a verdict, one line per fact, ending in a newline,
/// in plain ASCII ([`Style::plain`]).
pub fn explain(verdict: &Verdict) -> String {
    explain_styled(verdict, Style::plain())
}

/// [`explain`] in `style`: ✓/✗ or `+`/`-`, with or without colour.
pub fn explain_styled(verdict: &Verdict, style: Style) -> String {
    let (yes, no) = (style.yes(), style.no());
    let mut out = String::new();
    let _ = writeln!(out, "tag {}", verdict.tag);
    match &verdict.commit {
        Some(c) => {
            let _ = writeln!(out, "  commit {c}");
        }
        None => {
            let _ = writeln!(out, "  commit (not reached)");
        }
    }
    for finding in verdict.findings.iter().filter(|f| f.layer.is_none()) {
        let _ = writeln!(out, "  {no} {}", finding.problem);
    }
    for layer in &verdict.layers {
        let _ = writeln!(
            out,
            "  layer {}  {}  tagger {}",
            layer.number,
            layer.oid.get(..12).unwrap_or(&layer.oid),
            layer.tagger.ident
        );
        for finding in verdict
            .findings
            .iter()
            .filter(|f| f.layer == Some(layer.number))
        {
            let _ = writeln!(out, "    {no} {}", finding.problem);
        }
        for signature in &layer.signatures {
            let _ = match signature {
                // Good, but no rule can count it: not a tick.
                Signature::Counts(c) if c.signer.groups.is_empty() => writeln!(
                    out,
                    "    {} signed by {} (no group) at {} [{}]: counts for no rule; {} is in no group of policy.toml, add {} to one to count this signature",
                    style.neutral(),
                    c.signer.name,
                    rfc3339(c.created),
                    c.key,
                    c.signer.name,
                    c.signer.name
                ),
                Signature::Counts(c) => writeln!(
                    out,
                    "    {yes} signed by {} ({}) at {} [{}]",
                    c.signer.name,
                    groups(&c.signer),
                    rfc3339(c.created),
                    c.key
                ),
                Signature::Fails(p) => writeln!(out, "    {no} {p}"),
            };
        }
    }
    // Layers that did not parse have findings but no entry above.
    let shown: BTreeSet<usize> = verdict.layers.iter().map(|l| l.number).collect();
    for finding in &verdict.findings {
        if let Some(n) = finding.layer.filter(|n| !shown.contains(n)) {
            let _ = writeln!(out, "  layer {n}\n    {no} {}", finding.problem);
        }
    }
    let _ = writeln!(out, "rule for {}: {}", verdict.environment, verdict.rule);
    tree(&verdict.evaluation, 1, style, &mut out);
    if let Some(why) = &verdict.rejection {
        let _ = writeln!(
            out,
            "verdict: {}, the tag is rejected: {}",
            style.red("no"),
            why.problem
        );
    } else if verdict.satisfied {
        let _ = writeln!(out, "verdict: {}", style.green("yes"));
    } else {
        let _ = writeln!(
            out,
            "verdict: {}, needs {}",
            style.red("no"),
            super::line::needs(verdict).unwrap_or_else(|| "more signatures".into())
        );
    }
    out
}

fn tree(eval: &Eval, depth: usize, style: Style, out: &mut String) {
    let pad = "  ".repeat(depth);
    let mark = style.mark(eval.holds);
    match &eval.node {
        Node::Atom { n, group, .. } => {
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
        Node::All | Node::Any => {
            let word = if eval.node == Node::All {
                "all of"
            } else {
                "any of"
            };
            let _ = writeln!(out, "{pad}{mark} {word}:");
            for child in &eval.children {
                tree(child, depth + 1, style, out);
            }
        }
    }
}
