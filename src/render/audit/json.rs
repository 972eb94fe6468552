//! The audit report for machines: one JSON object, its records in the
//! environment's order of versions.
//!
//! ```json
//! {"environment": "prod", "rule": "2 of humans and 1 of pipelines",
//!  "emergency": null, "trust_digest": "<sha256 hex>", "sigtag": "0.1.0 (<commit>)",
//!  "generated": "2026-12-01T12:00:00Z", "since": null, "until": null, "all": false,
//!  "promotions": 1, "omitted": 0,
//!  "records": [{
//!    "tag": "v1.4.0", "status": "promoted", "reason": null,
//!    "created": "2026-11-30T10:00:00Z", "commit": "<40 hex>", "tag_object": "<40 hex>",
//!    "base": {"tag": "v1.3.0", "commit": "<40 hex>"}, "since": null,
//!    "range": {"listed": true, "reason": null, "commits": [
//!      {"commit": "<40 hex>", "author": "Alice <alice@example.org>",
//!       "date": "2026-11-29T09:00:00Z", "subject": "Merge pull request #42 from alice/feature",
//!       "pull_request": 42}]},
//!    "signatures": [{"layer": 1, "layer_object": "<40 hex>",
//!      "tagger": "Alice <alice@example.org>", "tagged": "2026-11-30T10:00:00Z",
//!      "counted": true, "not_counted": null, "signer": "alice", "groups": ["humans"],
//!      "fingerprint": "<hex>", "signed": "2026-11-30T10:00:00Z",
//!      "tested_from": null, "build": null}],
//!    "rule": {"text": "2 of humans and 1 of pipelines", "holds": true, "missing": null},
//!    "findings": [], "review": null}]}
//! ```
//!
//! `build` is `{"name": "main/app/staging #17", "url": "https://…", "vars":
//! {"BUILD_ID": "…", …}}` for a layer whose message names its build;
//! `review` is the emergency review as the verdict report has it
//! ([`crate::render::json::ReviewEntry`]).

use super::{findings, signatures, status, Status};
use crate::audit::{Range, Record, Report};
use crate::render::json::{BaseEntry, ReviewEntry, SinceEntry};
use crate::render::line::date;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Audit<'a> {
    environment: &'a str,
    rule: &'a str,
    emergency: Option<EmergencyPolicy<'a>>,
    trust_digest: &'a str,
    sigtag: &'a str,
    generated: String,
    since: Option<&'a str>,
    until: Option<&'a str>,
    all: bool,
    promotions: usize,
    omitted: usize,
    records: Vec<Entry>,
}

#[derive(Serialize)]
struct EmergencyPolicy<'a> {
    rule: &'a str,
    review: &'a str,
    review_within: &'a str,
}

#[derive(Serialize)]
struct Entry {
    tag: String,
    status: &'static str,
    reason: Option<String>,
    created: Option<String>,
    commit: Option<String>,
    tag_object: Option<String>,
    base: Option<BaseEntry>,
    since: Option<SinceEntry>,
    range: RangeEntry,
    signatures: Vec<SignatureEntry>,
    rule: RuleEntry,
    findings: Vec<String>,
    review: Option<ReviewEntry>,
}

#[derive(Serialize)]
struct RangeEntry {
    listed: bool,
    reason: Option<String>,
    commits: Vec<CommitEntry>,
}

#[derive(Serialize)]
struct CommitEntry {
    commit: String,
    author: String,
    date: String,
    subject: String,
    pull_request: Option<u64>,
}

#[derive(Serialize)]
struct SignatureEntry {
    layer: usize,
    layer_object: String,
    tagger: String,
    tagged: String,
    counted: bool,
    not_counted: Option<String>,
    signer: Option<String>,
    groups: Vec<String>,
    fingerprint: Option<String>,
    signed: Option<String>,
    tested_from: Option<String>,
    build: Option<BuildEntry>,
}

#[derive(Serialize)]
struct BuildEntry {
    name: Option<String>,
    url: Option<String>,
    vars: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct RuleEntry {
    text: String,
    holds: bool,
    missing: Option<String>,
}

/// The report as pretty-printed JSON, ending in a newline.
pub fn render(report: &Report) -> String {
    let audit = Audit {
        environment: &report.environment,
        rule: &report.rule,
        emergency: report
            .emergency
            .as_ref()
            .map(|(rule, review, within)| EmergencyPolicy {
                rule,
                review,
                review_within: within,
            }),
        trust_digest: &report.digest,
        sigtag: &report.version,
        generated: date(report.generated),
        since: report.since.as_deref(),
        until: report.until.as_deref(),
        all: report.all,
        promotions: report.promotions(),
        omitted: report.omitted,
        records: report.records.iter().map(entry).collect(),
    };
    let mut text = serde_json::to_string_pretty(&audit).unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

fn entry(record: &Record) -> Entry {
    let v = &record.verdict;
    let status = status(record);
    let (listed, reason, commits) = match &record.range {
        Range::Listed(c) => (true, None, c.as_slice()),
        Range::NotListed(why) => (false, Some(why.clone()), &[][..]),
    };
    Entry {
        tag: v.tag.clone(),
        status: status.word(),
        reason: match &status {
            Status::Refused(why) => Some(why.clone()),
            Status::Emergency { words, .. } => Some(words.clone()),
            Status::Promoted => None,
        },
        created: v.created.map(date),
        commit: v.commit.clone(),
        tag_object: v.outer.clone(),
        base: record.base.as_ref().map(|b| BaseEntry {
            tag: b.tag.clone(),
            commit: b.commit.clone(),
        }),
        since: record.since.as_ref().map(|s| SinceEntry {
            rev: s.rev.clone(),
            commit: s.commit.clone(),
        }),
        range: RangeEntry {
            listed,
            reason,
            commits: commits
                .iter()
                .map(|c| CommitEntry {
                    commit: c.commit.id.to_string(),
                    author: c.commit.author.clone(),
                    date: date(c.commit.time),
                    subject: c.commit.subject.clone(),
                    pull_request: c.pull_request,
                })
                .collect(),
        },
        signatures: signatures(record)
            .into_iter()
            .map(|s| SignatureEntry {
                layer: s.layer,
                layer_object: s.object.to_string(),
                tagger: s.tagger.ident.clone(),
                tagged: date(s.tagger.time),
                counted: s.counted.is_some(),
                not_counted: s.not_counted.clone(),
                signer: s.counted.map(|c| c.signer.name.clone()),
                groups: s
                    .counted
                    .map(|c| c.signer.groups.clone())
                    .unwrap_or_default(),
                fingerprint: s.counted.map(|c| c.key.clone()),
                signed: s.counted.map(super::signed_at),
                tested_from: s.tested_from.map(ToString::to_string),
                build: s.build.map(|b| BuildEntry {
                    name: b.name(),
                    url: b.url.clone(),
                    vars: b.vars.iter().cloned().collect(),
                }),
            })
            .collect(),
        rule: RuleEntry {
            text: v.rule.to_string(),
            holds: v.evaluation.holds,
            missing: v.shortfall().and_then(crate::rule::Eval::missing),
        },
        findings: findings(record),
        review: v.emergency.as_ref().map(ReviewEntry::of),
    }
}
