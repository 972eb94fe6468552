//! Renderings of an audit [`Report`]: text for people ([`text`]), JSON
//! for machines ([`json`]), CSV for spreadsheets ([`csv`]) and one
//! self-contained HTML page for auditors, on screen and on paper
//! ([`html`]).
//!
//! Like every renderer, these only read what they are given: the report
//! carries its verdicts and the evidence around them. The pieces every
//! format shows the same way live here: a record's [`status`], its
//! [`signatures`] one row each, and its [`findings`] under transition
//! atoms.

pub mod csv;
pub mod html;
pub mod json;
pub mod text;

use super::line::{date, short_id};
use crate::audit::{Build, Range, Record, Report};
use crate::message::TestedFrom;
use crate::object::Tagger;
use crate::rule::{Eval, Qualifier};
use crate::verdict::{Counted, Promoted, Signature};

/// The formats `sigtag audit --format` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    Html,
}

impl Format {
    /// `text`, `json`, `csv` or `html`.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "text" => Format::Text,
            "json" => Format::Json,
            "csv" => Format::Csv,
            "html" => Format::Html,
            _ => return None,
        })
    }

    /// The report in this format.
    pub fn render(self, report: &Report) -> String {
        match self {
            Format::Text => text::render(report),
            Format::Json => json::render(report),
            Format::Csv => csv::render(report),
            Format::Html => html::render(report),
        }
    }
}

/// How a record's tag stands in the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Promoted: it meets `require`.
    Promoted,
    /// Promoted as an emergency; `words` says how its review stands.
    Emergency {
        reviewed: bool,
        overdue: bool,
        words: String,
    },
    /// Not promoted, and why.
    Refused(String),
}

impl Status {
    /// One word for tables: promoted, emergency, refused.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Promoted => "promoted",
            Status::Emergency { .. } => "emergency",
            Status::Refused(_) => "refused",
        }
    }
}

/// The status of a record.
pub fn status(record: &Record) -> Status {
    let v = &record.verdict;
    match (v.promoted, &v.emergency) {
        (Some(Promoted::Emergency), Some(e)) => Status::Emergency {
            reviewed: e.reviewed,
            overdue: e.overdue,
            words: super::line::emergency(v)
                .map(|(_, words)| words)
                .unwrap_or_default(),
        },
        (Some(_), _) => Status::Promoted,
        (None, _) => {
            Status::Refused(super::line::reason(v).unwrap_or_else(|| "not promoted".to_string()))
        }
    }
}

/// One signature (or unsigned layer) of a record, with its layer.
pub struct SignatureRow<'a> {
    pub layer: usize,
    /// The layer's tag object id.
    pub object: &'a str,
    pub tagger: &'a Tagger,
    /// Who counted, when the signature counts.
    pub counted: Option<&'a Counted>,
    /// Why it does not count.
    pub not_counted: Option<String>,
    /// What the layer's `Sigtag-Tested-From` records.
    pub tested_from: Option<&'a TestedFrom>,
    /// The build the layer's message names.
    pub build: Option<&'a Build>,
}

/// Every signature of a record, innermost layer first.
pub fn signatures(record: &Record) -> Vec<SignatureRow<'_>> {
    let v = &record.verdict;
    v.layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            let build = record.builds.get(i).and_then(Option::as_ref);
            l.signatures.iter().map(move |s| {
                let (counted, not_counted) = match s {
                    Signature::Counts(c) => (Some(c), None),
                    Signature::Fails(p) => (None, Some(p.to_string())),
                };
                SignatureRow {
                    layer: l.number,
                    object: &l.oid,
                    tagger: &l.tagger,
                    counted,
                    not_counted,
                    tested_from: l.tested_from.as_ref(),
                    build,
                }
            })
        })
        .collect()
}

/// "alice (humans)", or "alice (no group)".
pub fn signer(c: &Counted) -> String {
    format!("{} ({})", c.signer.name, super::groups(&c.signer))
}

/// When a signature that counts was made.
pub fn signed_at(c: &Counted) -> String {
    crate::date::rfc3339(c.created)
}

/// The build in words: `main/app/staging #17 https://ci.example.org/...`.
pub fn build_words(b: &Build) -> String {
    match (b.name(), &b.url) {
        (Some(n), Some(u)) => format!("{n} {u}"),
        (Some(n), None) => n,
        (None, Some(u)) => u.clone(),
        (None, None) => "a build".to_string(),
    }
}

/// The base and range in words: "base v1.3.0 (1a2b3c4d5e6f), 3 commits",
/// "no base, 12 commits since v0.9 (…)", "no base, range not listed: …".
pub fn transition_words(record: &Record) -> String {
    let mut out = match &record.base {
        Some(b) => format!("base {} ({})", b.tag, short_id(&b.commit)),
        None => "no base".to_string(),
    };
    match &record.range {
        Range::Listed(commits) => {
            let n = commits.len();
            out.push_str(&format!(", {n} commit{}", if n == 1 { "" } else { "s" }));
            if let Some(s) = &record.since {
                out.push_str(&format!(" since {} ({})", s.rev, short_id(&s.commit)));
            }
        }
        Range::NotListed(why) => out.push_str(&format!(", range not listed: {why}")),
    }
    out
}

/// Whether the record's rule holds: "holds", "does not hold: needs 1 of
/// pipelines".
pub fn rule_words(record: &Record) -> String {
    let v = &record.verdict;
    if v.evaluation.holds {
        return "holds".to_string();
    }
    match super::line::needs(v) {
        Some(n) => format!("does not hold: needs {n}"),
        None => "does not hold".to_string(),
    }
}

/// The date part of a time: "2026-11-30".
pub fn day(seconds: i64) -> String {
    date(seconds).chars().take(10).collect()
}

/// What each transition atom found, as sentences: "1 of humans besides
/// author: holds over 3 commits", "1 of pipelines tested: holds (tested
/// from 1a2b3c4d5e6f)".
pub fn findings(record: &Record) -> Vec<String> {
    let v = &record.verdict;
    // An emergency's review rule is evaluated on its own; when it is
    // `require` itself (the default) its findings are the same.
    let mut evals: Vec<(&str, &Eval)> = vec![("", &v.evaluation)];
    if let Some(e) = v.emergency.as_ref().filter(|e| e.review != v.rule) {
        evals.push(("review: ", &e.review_evaluation));
    }
    let mut out = Vec::new();
    for (label, eval) in evals {
        for atom in super::json::atoms(eval, Qualifier::BesidesAuthor) {
            let rule = format!("{label}{}", super::json::rule_text(atom));
            out.push(match &atom.authors {
                None => format!("{rule}: not evaluated (the signatures alone fall short)"),
                Some(a) if atom.holds => format!(
                    "{rule}: holds over {} commit{}",
                    a.range,
                    if a.range == 1 { "" } else { "s" }
                ),
                Some(a) => {
                    let short: Vec<String> = a
                        .short
                        .iter()
                        .map(|c| {
                            format!(
                                "{} by {} needs {} more",
                                short_id(&c.commit),
                                c.author,
                                c.need
                            )
                        })
                        .collect();
                    format!(
                        "{rule}: {} of {} commits fall short ({})",
                        a.falling_short,
                        a.range,
                        short.join("; ")
                    )
                }
            });
        }
        for atom in super::json::atoms(eval, Qualifier::Tested) {
            let rule = format!("{label}{}", super::json::rule_text(atom));
            let expected = atom
                .tested
                .as_ref()
                .map(|t| match &t.expected {
                    TestedFrom::Commit(c) => format!("tested from {}", short_id(&c.to_string())),
                    TestedFrom::Nothing => "tested from nothing deployed".to_string(),
                })
                .unwrap_or_else(|| "transition not known".to_string());
            let by: Vec<&str> = atom.have.iter().map(String::as_str).collect();
            out.push(if atom.holds {
                format!("{rule}: holds ({expected}, by {})", by.join(", "))
            } else {
                format!("{rule}: does not hold ({expected})")
            });
        }
    }
    out
}

/// Ranges and promotions in words for the header: "12 promotions" plus
/// what was left out.
pub fn summary(report: &Report) -> String {
    let n = report.promotions();
    let mut out = format!("{n} promotion{}", if n == 1 { "" } else { "s" });
    let refused = report.records.len() - n;
    if report.all && refused > 0 {
        out.push_str(&format!(
            ", {refused} tag{} never promoted",
            if refused == 1 { "" } else { "s" }
        ));
    }
    if report.omitted > 0 {
        out.push_str(&format!(
            "; {} tag{} never promoted left out (--all lists them)",
            report.omitted,
            if report.omitted == 1 { "" } else { "s" }
        ));
    }
    out
}

/// The bounds in words: "since v1.0, until 2026-12-01", "every tag".
pub fn bounds(report: &Report) -> String {
    match (&report.since, &report.until) {
        (None, None) => "every tag".to_string(),
        (Some(s), None) => format!("since {s}"),
        (None, Some(u)) => format!("until {u}"),
        (Some(s), Some(u)) => format!("since {s}, until {u}"),
    }
}
