//! The audit report for people: a header naming the environment, its
//! rule, the trust digest and sigtag's version, then one block per
//! record, oldest first.
//!
//! ```text
//! v1.4.0  promoted  created 2026-11-30T10:00:00Z
//!   commit      3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d
//!   tag object  9f8e7d6c5b4a39281706f5e4d3c2b1a098765432
//!   changes     base v1.3.0 (1a2b3c4d5e6f), 1 commit
//!     3c4d5e6f7a8b  2026-11-29  Alice <alice@example.org>  Merge pull request #42 from alice/feature  (PR #42)
//!   signatures
//!     layer 1  alice (humans)  2026-11-30T10:00:00Z  key 0123…  counts
//!     layer 2  staging (pipelines)  2026-11-30T11:00:00Z  key 4567…  counts  build main/app/staging #17
//!   rule        2 of humans and 1 of pipelines: holds
//! ```

use super::{
    bounds, build_words, day, findings, signatures, signed_at, signer, status, summary,
    transition_words, Status,
};
use crate::audit::{Range, Record, Report};
use crate::render::line::{date, short_id};
use std::fmt::Write as _;

/// The whole report, ending in a newline.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "audit of environment {}", report.environment);
    let _ = writeln!(out, "  rule          {}", report.rule);
    if let Some((rule, review, within)) = &report.emergency {
        let _ = writeln!(
            out,
            "  emergency     {rule}, reviewed by {review} within {within}"
        );
    }
    let _ = writeln!(out, "  trust digest  sha256:{}", report.digest);
    let _ = writeln!(out, "  sigtag        {}", report.version);
    let _ = writeln!(out, "  generated     {}", date(report.generated));
    let _ = writeln!(out, "  bounds        {}", bounds(report));
    let _ = writeln!(out, "  records       {}", summary(report));
    for record in &report.records {
        out.push('\n');
        block(record, &mut out);
    }
    out
}

fn block(record: &Record, out: &mut String) {
    let v = &record.verdict;
    let created = v
        .created
        .map(|c| format!("  created {}", date(c)))
        .unwrap_or_default();
    let _ = writeln!(out, "{}  {}{created}", v.tag, status(record).word());
    let _ = writeln!(
        out,
        "  commit      {}",
        v.commit.as_deref().unwrap_or("(not reached)")
    );
    if let Some(o) = &v.outer {
        let _ = writeln!(out, "  tag object  {o}");
    }
    let _ = writeln!(out, "  changes     {}", transition_words(record));
    if let Range::Listed(commits) = &record.range {
        for c in commits {
            let pr = c
                .pull_request
                .map(|n| format!("  (PR #{n})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {}  {}  {}  {}{pr}",
                short_id(&c.commit.id.to_string()),
                day(c.commit.time),
                c.commit.author,
                c.commit.subject
            );
        }
    }
    let _ = writeln!(out, "  signatures");
    for s in signatures(record) {
        let mut line = format!("    layer {}  ", s.layer);
        match (s.counted, &s.not_counted) {
            (Some(c), _) => {
                let _ = write!(
                    line,
                    "{}  {}  key {}  counts",
                    signer(c),
                    signed_at(c),
                    c.key
                );
            }
            (None, why) => {
                let _ = write!(
                    line,
                    "tagger {}  {}  not counted: {}",
                    s.tagger.ident,
                    date(s.tagger.time),
                    why.as_deref().unwrap_or("no signature")
                );
            }
        }
        if let Some(t) = s.tested_from {
            let _ = write!(line, "  tested from {t}");
        }
        if let Some(b) = s.build {
            let _ = write!(line, "  build {}", build_words(b));
        }
        let _ = writeln!(out, "{line}");
    }
    let holds = super::rule_words(record);
    let _ = writeln!(out, "  rule        {}: {holds}", v.rule);
    for f in findings(record) {
        let _ = writeln!(out, "  finding     {f}");
    }
    match status(record) {
        Status::Promoted => {}
        Status::Emergency { words, .. } => {
            let _ = writeln!(out, "  emergency   {words}");
        }
        Status::Refused(why) => {
            let _ = writeln!(out, "  refused     {why}");
        }
    }
}
