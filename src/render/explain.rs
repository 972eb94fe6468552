//! A description for people: layers from the commit up, who signed each
//! and whether it counts, the rule as a tree, and what is missing.
//!
//! A good signature by a signer in no group is marked `○` (`~` in plain
//! output), not `✓`: no rule can count it, and the line says how to
//! change that.
//!
//! Under a rule with transition atoms (DESIGN §6) it also says what each
//! layer's `Sigtag-Tested-From` records, the tag's base and range, each
//! commit that falls short of a `besides author` atom (its short id, its
//! author and what it needs), and for a `tested` atom what each signer
//! tested and how to recover when that is not the environment's
//! transition.

use super::line::short_id;
use super::{groups, Style};
use crate::date::rfc3339;
use crate::message::TestedFrom;
use crate::rule::{Eval, Node, Qualifier, TestedFindings};
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
        if let Some(from) = &layer.tested_from {
            let names = super::json::atoms(&verdict.evaluation, Qualifier::Tested)
                .into_iter()
                .find_map(|e| e.tested.as_ref());
            let _ = writeln!(out, "    tested from {}", tested_words(from, names));
        }
        if let Some(p) = &layer.trailer {
            let _ = writeln!(out, "    {no} {p}");
        }
    }
    // Layers that did not parse have findings but no entry above.
    let shown: BTreeSet<usize> = verdict.layers.iter().map(|l| l.number).collect();
    for finding in &verdict.findings {
        if let Some(n) = finding.layer.filter(|n| !shown.contains(n)) {
            let _ = writeln!(out, "  layer {n}\n    {no} {}", finding.problem);
        }
    }
    if let Some(t) = &verdict.transition {
        let _ = writeln!(out, "promotion for {}:", verdict.environment);
        let _ = match &t.base {
            Some(b) => writeln!(out, "  base {} ({})", b.tag, short_id(&b.commit)),
            None => writeln!(
                out,
                "  no base: no older tag that satisfies {} is an ancestor of {}",
                verdict.environment, verdict.tag
            ),
        };
        let _ = match (t.range, &t.since) {
            (Some(n), Some(s)) => writeln!(
                out,
                "  range: {n} commit{} since {} ({})",
                plural(n),
                s.rev,
                short_id(&s.commit)
            ),
            (Some(n), None) if t.base.is_some() => {
                writeln!(out, "  range: {n} commit{} since the base", plural(n))
            }
            (Some(n), None) => writeln!(
                out,
                "  range: {n} commit{}, every ancestor of {}",
                plural(n),
                verdict.tag
            ),
            (None, _) if verdict.rule.has(Qualifier::BesidesAuthor) => writeln!(
                out,
                "  range: not read, since the signatures alone do not meet the rule"
            ),
            (None, _) => Ok(()),
        };
    }
    let _ = writeln!(out, "rule for {}: {}", verdict.environment, verdict.rule);
    tree(verdict, &verdict.evaluation, 1, style, &mut out);
    if let Some(why) = &verdict.rejection {
        let _ = writeln!(
            out,
            "verdict: {}, the tag is rejected: {}",
            style.red("no"),
            why.problem
        );
    } else if let (Some(e), Some((word, review))) =
        (&verdict.emergency, super::line::emergency(verdict))
    {
        let _ = writeln!(
            out,
            "emergency rule for {}: {}, met at {}",
            verdict.environment,
            e.rule,
            super::line::date(e.since)
        );
        let _ = writeln!(
            out,
            "review for {}: {}, due at {}",
            verdict.environment,
            e.review,
            super::line::date(e.due)
        );
        tree(verdict, &e.review_evaluation, 1, style, &mut out);
        let _ = writeln!(out, "verdict: {} ({word}), {review}", style.green("yes"));
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A tested-from value for people: "v1.1 (1a2b3c4d5e6f)", "1a2b3c4d5e6f",
/// "none".
fn tested_words(from: &TestedFrom, findings: Option<&TestedFindings>) -> String {
    match from {
        TestedFrom::Nothing => "none".to_string(),
        TestedFrom::Commit(c) => match findings.and_then(|f| f.tags.get(c)) {
            Some(tag) => format!("{tag} ({})", short_id(&c.to_string())),
            None => short_id(&c.to_string()),
        },
    }
}

fn tree(verdict: &Verdict, eval: &Eval, depth: usize, style: Style, out: &mut String) {
    let pad = "  ".repeat(depth);
    let mut mark = style.mark(eval.holds);
    match &eval.node {
        Node::Atom {
            n,
            group,
            qualifier,
        } => {
            let names: Vec<&str> = eval.have.iter().map(String::as_str).collect();
            let short = eval.authors.as_ref().filter(|a| a.falling_short > 0);
            // A besides-author atom over a range that was not read (the
            // rule fails anyway) is not shown as met.
            let unread = *qualifier == Qualifier::BesidesAuthor
                && verdict
                    .transition
                    .as_ref()
                    .is_some_and(|t| t.range.is_none());
            if unread && eval.holds {
                mark = style.neutral();
            }
            let _ = writeln!(
                out,
                "{pad}{mark} {n} of {group}{}: {} counted{}{}{}",
                qualifier.words(),
                names.len(),
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", names.join(", "))
                },
                match short {
                    Some(a) => format!(
                        "; {} of {} commit{} fall{} short",
                        a.falling_short,
                        a.range,
                        plural(a.range),
                        if a.falling_short == 1 { "s" } else { "" }
                    ),
                    None => String::new(),
                },
                if unread && eval.holds {
                    "; its commits not checked (range not read)"
                } else {
                    ""
                }
            );
            for c in short.iter().flat_map(|a| &a.short) {
                let who = if c.authors.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({})",
                        c.authors.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                };
                let besides = if c.besides.is_empty() {
                    "none".to_string()
                } else {
                    c.besides.iter().cloned().collect::<Vec<_>>().join(", ")
                };
                let _ = writeln!(
                    out,
                    "{pad}    {} {} by {}{who}: needs {} more of {group} besides its author (counted besides: {besides})",
                    style.no(),
                    short_id(&c.commit),
                    c.author,
                    c.need,
                );
            }
            if let Some(a) = short.filter(|a| a.falling_short > a.short.len()) {
                let _ = writeln!(
                    out,
                    "{pad}    ... and {} more commits",
                    a.falling_short - a.short.len()
                );
            }
            if let Some(t) = &eval.tested {
                tested_lines(verdict, t, &pad, style, out);
            }
        }
        Node::All | Node::Any => {
            let word = if eval.node == Node::All {
                "all of"
            } else {
                "any of"
            };
            let _ = writeln!(out, "{pad}{mark} {word}:");
            for child in &eval.children {
                tree(verdict, child, depth + 1, style, out);
            }
        }
    }
}

/// What a `tested` atom expected, and for each counted signer of its
/// group that tested something else, what, and how to recover:
/// "staging tested v1.1 -> v1.2 (from 1a2b…); prod's base is v1.0 (3c4d…):
/// stage prod's version v1.0 then v1.2 again".
fn tested_lines(verdict: &Verdict, t: &TestedFindings, pad: &str, style: Style, out: &mut String) {
    // Plain output stays ASCII.
    let arrow = if style.marks { "→" } else { "->" };
    let words = super::line::tested_words(&verdict.environment, &verdict.tag, t, arrow);
    let _ = writeln!(
        out,
        "{pad}    a layer must record {}: {} ({})",
        crate::message::TESTED_FROM_TRAILER,
        t.expected,
        words.base
    );
    for (signer, what) in &words.others {
        let _ = writeln!(
            out,
            "{pad}    {} {signer} {what}; {}: {}",
            style.no(),
            words.base,
            words.fix
        );
    }
}
