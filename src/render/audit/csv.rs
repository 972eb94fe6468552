//! The audit report for spreadsheets: RFC 4180 CSV, a header row, then
//! one row per record; lists inside a cell are joined with "; ".
//!
//! Every cell that a spreadsheet would take for a formula (it starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'`:
//! tag names, commit subjects and tagger lines come from whoever can push,
//! and must never run in an auditor's spreadsheet.

use super::{build_words, findings, signatures, signed_at, signer, status, Status};
use crate::audit::{Range, Record, Report};
use crate::render::line::date;

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "tag",
    "status",
    "created",
    "commit",
    "tag_object",
    "base_tag",
    "base_commit",
    "range_commits",
    "pull_requests",
    "authors",
    "approvals",
    "not_counted",
    "builds",
    "tested_from",
    "findings",
    "review_due",
    "reviewed",
    "reason",
    "rule",
    "environment",
    "trust_digest",
    "sigtag",
];

/// The report as CSV, CRLF line ends as RFC 4180 has them.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    row(&mut out, COLUMNS.iter().map(|c| c.to_string()));
    for record in &report.records {
        row(&mut out, cells(report, record));
    }
    out
}

fn cells(report: &Report, record: &Record) -> Vec<String> {
    let v = &record.verdict;
    let sigs = signatures(record);
    let join = |items: Vec<String>| items.join("; ");
    let (range_commits, prs, authors) = match &record.range {
        Range::Listed(c) => {
            let mut authors: Vec<String> = c.iter().map(|c| c.commit.author.clone()).collect();
            authors.sort();
            authors.dedup();
            (
                c.len().to_string(),
                join(
                    c.iter()
                        .filter_map(|c| c.pull_request.map(|n| format!("#{n}")))
                        .collect(),
                ),
                join(authors),
            )
        }
        Range::NotListed(why) => (format!("not listed: {why}"), String::new(), String::new()),
    };
    let status = status(record);
    let (due, reviewed) = match &v.emergency {
        Some(e) => (date(e.due), e.reviewed.to_string()),
        None => (String::new(), String::new()),
    };
    vec![
        v.tag.clone(),
        status.word().to_string(),
        v.created.map(date).unwrap_or_default(),
        v.commit.clone().unwrap_or_default(),
        v.outer.clone().unwrap_or_default(),
        record
            .base
            .as_ref()
            .map(|b| b.tag.clone())
            .unwrap_or_default(),
        record
            .base
            .as_ref()
            .map(|b| b.commit.clone())
            .unwrap_or_default(),
        range_commits,
        prs,
        authors,
        join(
            sigs.iter()
                .filter_map(|s| {
                    s.counted
                        .map(|c| format!("{} at {} (layer {})", signer(c), signed_at(c), s.layer))
                })
                .collect(),
        ),
        join(
            sigs.iter()
                .filter_map(|s| {
                    s.not_counted
                        .as_ref()
                        .map(|why| format!("layer {}: {why}", s.layer))
                })
                .collect(),
        ),
        join(
            v.layers
                .iter()
                .zip(&record.builds)
                .filter_map(|(l, b)| {
                    b.as_ref()
                        .map(|b| format!("layer {}: {}", l.number, build_words(b)))
                })
                .collect(),
        ),
        join(
            v.layers
                .iter()
                .filter_map(|l| {
                    l.tested_from
                        .as_ref()
                        .map(|t| format!("layer {}: {t}", l.number))
                })
                .collect(),
        ),
        join(findings(record)),
        due,
        reviewed,
        match status {
            Status::Refused(why) | Status::Emergency { words: why, .. } => why,
            Status::Promoted => String::new(),
        },
        v.rule.to_string(),
        report.environment.clone(),
        report.digest.clone(),
        report.version.clone(),
    ]
}

fn row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let mut first = true;
    for c in cells {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&cell(&c));
    }
    out.push_str("\r\n");
}

/// One cell: defused if a spreadsheet would take it for a formula, quoted
/// when it holds a comma, a quote or a line break.
pub fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(cell("v1.0"), "v1.0");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1+2"), "'-1+2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
    }
}
