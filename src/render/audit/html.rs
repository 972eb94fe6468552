//! The audit report as one self-contained HTML page: a timeline of
//! promotions, oldest first, each with who approved it and when, what it
//! changed, every signature and why it counted or not.
//!
//! Self-contained and inert: the CSS is inline, there is no script, no
//! image, no font and no link, so opening the page fetches nothing; a
//! Content-Security-Policy (`default-src 'none'`) holds the browser to
//! that even if text slipped through. Every text comes from the report
//! and is escaped; URLs a layer's message names (a build's) are shown as
//! text, never as links, since whoever can push can write them. `@media
//! print` keeps each promotion on one page where it fits, and every
//! status is a word as well as a colour, so a printout in black and
//! white says the same.

use super::{
    bounds, build_words, day, findings, signatures, signed_at, signer, status, summary,
    transition_words, Status,
};
use crate::audit::{Range, Record, Report};
use crate::render::line::{date, short_id};
use std::fmt::Write as _;

const STYLE: &str = "
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --line: #d0d7de; --muted: #57606a; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2328;
  margin: 0 auto; max-width: 72rem; padding: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .75rem; }
h2 { font-size: 1.2rem; margin: 0 0 .4rem; }
code, .mono { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: .85em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0 0 1.5rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { list-style: none; margin: 0; padding: 0; border-left: 3px solid var(--line); }
li.record { position: relative; margin: 0 0 1.5rem; padding: 0 0 0 1.25rem; }
li.record::before { content: ''; position: absolute; left: -.6rem; top: .35rem; width: .9rem; height: .9rem;
  border-radius: 50%; background: var(--ok); border: 2px solid #fff; }
li.emergency::before { background: var(--warn); }
li.refused::before { background: var(--bad); }
.when { color: var(--muted); font-size: .9rem; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; text-transform: uppercase;
  letter-spacing: .04em; padding: .05rem .45rem; border-radius: 1rem; border: 1px solid; vertical-align: middle; }
.badge.promoted { color: var(--ok); }
.badge.emergency { color: var(--warn); }
.badge.refused { color: var(--bad); }
p { margin: .3rem 0; }
.approved { font-weight: 500; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; font-size: .9rem; }
th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top;
  overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 600; }
td.yes { color: var(--ok); }
td.no { color: var(--bad); }
ul.findings { margin: .3rem 0; padding-left: 1.2rem; }
footer { color: var(--muted); font-size: .85rem; margin-top: 2rem; }
@media print {
  body { font-size: 10pt; max-width: none; padding: 0; }
  li.record { break-inside: avoid; page-break-inside: avoid; }
  table { font-size: 8.5pt; }
}
";

/// The whole page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let title = format!("Promotions to {}", report.environment);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<dl class=\"facts\">\n",
        esc(&format!("sigtag audit: {}", report.environment)),
        esc(&title)
    );
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(value));
    };
    fact("Rule", &report.rule);
    if let Some((rule, review, within)) = &report.emergency {
        fact(
            "Emergencies",
            &format!("{rule}, reviewed by {review} within {within}"),
        );
    }
    fact("Trust digest", &format!("sha256:{}", report.digest));
    fact("sigtag", &report.version);
    fact("Generated", &date(report.generated));
    fact("Bounds", &bounds(report));
    fact("Records", &summary(report));
    out.push_str("</dl>\n</header>\n<main>\n");
    if report.records.is_empty() {
        out.push_str("<p>No promotion in these bounds.</p>\n");
    } else {
        out.push_str("<ol class=\"timeline\">\n");
        for record in &report.records {
            record_html(record, &mut out);
        }
        out.push_str("</ol>\n");
    }
    let _ = write!(
        out,
        "</main>\n<footer>Made by sigtag {} at {} from the signed tags of the repository; \
         every approval above is an OpenPGP signature that sigtag verified against the trust \
         root with digest sha256:{}.</footer>\n</body>\n</html>\n",
        esc(&report.version),
        esc(&date(report.generated)),
        esc(&report.digest)
    );
    out
}

fn record_html(record: &Record, out: &mut String) {
    let v = &record.verdict;
    let status = status(record);
    let word = status.word();
    let _ = writeln!(out, "<li class=\"record {word}\">");
    if let Some(c) = v.created {
        let _ = writeln!(
            out,
            "<div class=\"when\"><time datetime=\"{}\">{}</time></div>",
            esc(&date(c)),
            esc(&date(c))
        );
    }
    let _ = writeln!(
        out,
        "<h2>{} <span class=\"badge {word}\">{word}</span></h2>",
        esc(&v.tag)
    );
    let sigs = signatures(record);
    let approvals: Vec<String> = sigs
        .iter()
        .filter_map(|s| {
            s.counted
                .map(|c| format!("{} on {}", signer(c), signed_at(c)))
        })
        .collect();
    let approved = match (approvals.is_empty(), v.satisfied) {
        (true, _) => "No signature counts.".to_string(),
        (false, true) => format!("Approved by {}.", approvals.join(", ")),
        (false, false) => format!("Signed by {}.", approvals.join(", ")),
    };
    let _ = writeln!(out, "<p class=\"approved\">{}</p>", esc(&approved));
    match &status {
        Status::Promoted => {}
        Status::Emergency { words, .. } => {
            let _ = writeln!(out, "<p class=\"emergency\">Emergency: {}</p>", esc(words));
        }
        Status::Refused(why) => {
            let _ = writeln!(out, "<p class=\"refused\">Refused: {}</p>", esc(why));
        }
    }
    let _ = writeln!(
        out,
        "<p>Commit <code>{}</code>{}</p>",
        esc(v.commit.as_deref().unwrap_or("(not reached)")),
        v.outer
            .as_deref()
            .map(|o| format!(", tag object <code>{}</code>", esc(o)))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "<p>Changes: {}</p>", esc(&transition_words(record)));
    if let Range::Listed(commits) = &record.range {
        if !commits.is_empty() {
            out.push_str(
                "<table class=\"changes\"><thead><tr><th>Commit</th><th>Date</th><th>Author</th>\
                 <th>Subject</th><th>Pull request</th></tr></thead><tbody>\n",
            );
            for c in commits {
                let _ = writeln!(
                    out,
                    "<tr><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&short_id(&c.commit.id.to_string())),
                    esc(&day(c.commit.time)),
                    esc(&c.commit.author),
                    esc(&c.commit.subject),
                    c.pull_request.map(|n| format!("#{n}")).unwrap_or_default()
                );
            }
            out.push_str("</tbody></table>\n");
        }
    }
    out.push_str(
        "<table class=\"signatures\"><thead><tr><th>Layer</th><th>Signer</th><th>Signed</th>\
         <th>Key</th><th>Counts</th><th>Tested from</th><th>Build</th></tr></thead><tbody>\n",
    );
    for s in &sigs {
        let (who, when, key, counts, class) = match (s.counted, &s.not_counted) {
            (Some(c), _) => (
                signer(c),
                signed_at(c),
                c.key.clone(),
                "yes".to_string(),
                "yes",
            ),
            (None, why) => (
                format!("tagger {}", s.tagger.ident),
                date(s.tagger.time),
                String::new(),
                format!("no: {}", why.as_deref().unwrap_or("no signature")),
                "no",
            ),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"{class}\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            s.layer,
            esc(&who),
            esc(&when),
            esc(&key),
            esc(&counts),
            esc(&s.tested_from.map(ToString::to_string).unwrap_or_default()),
            esc(&s.build.map(build_words).unwrap_or_default())
        );
    }
    out.push_str("</tbody></table>\n");
    let holds = super::rule_words(record);
    let _ = writeln!(
        out,
        "<p class=\"rule\">Rule {}: {}</p>",
        esc(&v.rule.to_string()),
        esc(&holds)
    );
    let found = findings(record);
    if !found.is_empty() {
        out.push_str("<ul class=\"findings\">\n");
        for f in found {
            let _ = writeln!(out, "<li>{}</li>", esc(&f));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</li>\n");
}

/// Text made safe for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
