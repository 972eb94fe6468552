//! One line for people: `v1.4.0: yes for prod (alice, bob, staging)`.
//!
//! Every front end words a verdict through this module, so a verdict reads
//! the same in `sigtag verify` and `list`, in a refusal of `sigtag cosign
//! --require`, and in the resource's logs and metadata:
//!
//! - [`line()`]: the command line's verdict, with a pointer to `sigtag
//!   explain` when some signature did not count;
//! - [`line_for`]: the same line for a rule named otherwise (the resource
//!   names its rule, quoted);
//! - [`reason`]: why a tag is not satisfied, for a sentence of its own;
//! - [`not_counted`]: the signatures that did not count and why, grouped
//!   by reason, capped at [`MAX_NOT_COUNTED`] reasons;
//! - [`needs`]: what the rule still needs.
//!
//! A line stays one line of bounded length: reasons are grouped, each is
//! cut at [`MAX_REASON_CHARS`] characters, fingerprints are shortened to
//! their first [`SHORT_KEY`] digits, and what is left over is counted
//! ("and 2 more"). `sigtag explain` shows everything.

use crate::limits::MAX_NOT_COUNTED;
use crate::problem::Problem;
use crate::rule::Eval;
use crate::verdict::Verdict;
use std::collections::BTreeSet;

/// The longest one reason may be in a line, in characters; longer ones are
/// cut and end in "…".
pub const MAX_REASON_CHARS: usize = 100;

/// How many hex digits of a fingerprint a line shows.
pub const SHORT_KEY: usize = 8;

/// The verdict in one line: yes with the distinct signers that count, or
/// no with the rejection or what the rule still needs; either way the
/// signatures that did not count, then "see sigtag explain TAG" when there
/// are some.
pub fn line(verdict: &Verdict) -> String {
    let mut out = line_for(verdict, &verdict.environment);
    if verdict.rejection.is_none() && not_counted(verdict).is_some() {
        out.push_str(&format!("; see sigtag explain {}", verdict.tag));
    }
    out
}

/// [`line()`] for a rule named `whom` ("prod", or a quoted rule), without
/// the pointer to `sigtag explain`:
///
/// - `v1.4.0: yes for prod (alice, bob)`
/// - `v1.4.0: yes for prod (alice, bob); 1 signature not counted: ...`
/// - `v1.4.0: no for prod: needs 1 of pipelines; 1 signature not counted: ...`
/// - `v1.4.0: no for prod: rejected: ...`
///
/// Under a rule with transition atoms the line also names the tag's base
/// and the size of its range ([`transition`]):
///
/// - `v1.2: yes for prod (alice, bob); base v1.0 (3c4d5e6f7a8b), 3 commits`
pub fn line_for(verdict: &Verdict, whom: &str) -> String {
    let tag = &verdict.tag;
    let moved = transition(verdict)
        .map(|t| format!("; {t}"))
        .unwrap_or_default();
    match reason(verdict) {
        Some(why) => format!("{tag}: no for {whom}: {why}{moved}"),
        None => {
            let names = counting_signers(verdict).join(", ");
            let extra = not_counted(verdict)
                .map(|n| format!("; {n}"))
                .unwrap_or_default();
            match emergency(verdict) {
                Some((word, review)) => {
                    format!("{tag}: yes ({word}) for {whom} ({names}); {review}{moved}{extra}")
                }
                None => format!("{tag}: yes for {whom} ({names}){moved}{extra}"),
            }
        }
    }
}

/// For an emergency promotion: "emergency" or "emergency, reviewed", and
/// its review in words: "review needs 1 more of humans other than alice
/// by 2026-12-05T10:00:00Z", "review overdue since ...: needs ...",
/// "reviewed: meets 2 of humans".
pub fn emergency(verdict: &Verdict) -> Option<(&'static str, String)> {
    let e = verdict.emergency.as_ref()?;
    let due = date(e.due);
    let needs = e.needs().unwrap_or_else(|| "more signatures".into());
    Some(if e.reviewed {
        (
            "emergency, reviewed",
            format!("reviewed: meets {}", e.review),
        )
    } else if e.overdue {
        (
            "emergency",
            format!("review overdue since {due}: needs {needs}"),
        )
    } else {
        ("emergency", format!("review needs {needs} by {due}"))
    })
}

/// Seconds since the epoch as RFC 3339 (UTC).
pub fn date(seconds: i64) -> String {
    crate::date::rfc3339(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0)),
    )
}

/// The tag's transition in words, when the verdict has one: "base v1.0
/// (3c4d5e6f7a8b), 3 commits", "no base, 12 commits since v0.9
/// (1a2b3c4d5e6f)", "no base, 57 commits", "no base".
pub fn transition(verdict: &Verdict) -> Option<String> {
    let speaks = verdict.rule.has_transitions()
        || verdict
            .emergency
            .as_ref()
            .is_some_and(|e| e.rule.has_transitions() || e.review.has_transitions());
    if !speaks {
        return None;
    }
    let t = verdict.transition.as_ref()?;
    let commits = |n: usize| format!("{n} commit{}", if n == 1 { "" } else { "s" });
    let mut out = match &t.base {
        Some(b) => format!("base {} ({})", b.tag, short_id(&b.commit)),
        None => "no base".to_string(),
    };
    match (t.range, &t.since) {
        (Some(n), Some(since)) => out.push_str(&format!(
            ", {} since {} ({})",
            commits(n),
            since.rev,
            short_id(&since.commit)
        )),
        (Some(n), None) => out.push_str(&format!(", {}", commits(n))),
        (None, _) => {}
    }
    Some(out)
}

/// The first 12 digits of a commit id, as reports show it.
pub fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

/// Why the tag is not satisfied, `None` when it is: "rejected: ..." (the
/// problem that rejects it), or "needs ..." (what the rule still needs)
/// followed by the signatures that did not count.
pub fn reason(verdict: &Verdict) -> Option<String> {
    if verdict.satisfied {
        return None;
    }
    if let Some(why) = &verdict.rejection {
        return Some(format!("rejected: {}", why.problem));
    }
    let needs = needs(verdict).unwrap_or_else(|| "more signatures".to_string());
    Some(match not_counted(verdict) {
        Some(n) => format!("needs {needs}; {n}"),
        None => format!("needs {needs}"),
    })
}

/// What the rule still needs, naming who already counts ("1 more of humans
/// other than alice"); `None` when the tag is satisfied or rejected.
pub fn needs(verdict: &Verdict) -> Option<String> {
    verdict.shortfall().and_then(Eval::missing_explained)
}

/// The signatures of a tag that is not rejected that did not count, and
/// why, grouped by reason in the order found: "1 signature not counted:
/// signed by a key nobody trusts: 1032ABCD…", "2 signatures and 1 layer
/// not counted: A (×2); no signature". A signature by a signer in no group
/// counts for no rule, so it is named here too. `None` when every
/// signature counted, or when the tag is rejected (its rejection is the
/// reason).
pub fn not_counted(verdict: &Verdict) -> Option<String> {
    if verdict.rejection.is_some() {
        return None;
    }
    // (reason, how many), in the order found
    let mut groups: Vec<(String, usize)> = Vec::new();
    let (mut signatures, mut layers) = (0usize, 0usize);
    let mut add = |reason: String, unsigned: bool| {
        if unsigned {
            layers += 1;
        } else {
            signatures += 1;
        }
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => groups.push((reason, 1)),
        }
    };
    for (_, problem) in verdict.problems() {
        // A trailer that counts for nothing is no signature that did not
        // count; explain and the JSON report name it.
        if !matches!(problem, Problem::Trailer(_)) {
            add(problem.to_string(), *problem == Problem::Unsigned);
        }
    }
    for (_, c) in verdict.counted() {
        if c.signer.groups.is_empty() {
            add(format!("{} is in no group", c.signer.name), false);
        }
    }
    if groups.is_empty() {
        return None;
    }
    let what = match (signatures, layers) {
        (s, 0) => plural(s, "signature"),
        (0, l) => plural(l, "layer"),
        (s, l) => format!("{} and {}", plural(s, "signature"), plural(l, "layer")),
    };
    let mut parts: Vec<String> = groups
        .iter()
        .take(MAX_NOT_COUNTED)
        .map(|(reason, n)| {
            let shown = short(&short_keys(reason));
            if *n > 1 {
                format!("{shown} (×{n})")
            } else {
                shown
            }
        })
        .collect();
    let rest: usize = groups.iter().skip(MAX_NOT_COUNTED).map(|(_, n)| n).sum();
    if rest > 0 {
        parts.push(format!("and {rest} more"));
    }
    Some(format!("{what} not counted: {}", parts.join("; ")))
}

/// The distinct signers whose signatures count for some group, sorted.
fn counting_signers(verdict: &Verdict) -> Vec<&str> {
    let names: BTreeSet<&str> = verdict
        .counted()
        .filter(|(_, c)| !c.signer.groups.is_empty())
        .map(|(_, c)| c.signer.name.as_str())
        .collect();
    names.into_iter().collect()
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `text` cut at [`MAX_REASON_CHARS`] characters.
fn short(text: &str) -> String {
    if text.chars().count() <= MAX_REASON_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_REASON_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// `text` with every fingerprint or key ID (a word of 16 or more upper-case
/// hex digits) shortened to its first [`SHORT_KEY`] digits and "…".
fn short_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let key = word.len() >= 16 && word.chars().all(|c| matches!(c, '0'..='9' | 'A'..='F'));
        match word.get(..SHORT_KEY).filter(|_| key) {
            Some(head) => {
                out.push_str(head);
                out.push('…');
            }
            None => out.push_str(word),
        }
        word.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(ch);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// What a `tested` atom that does not hold found, in words: the
/// environment's base, how to recover, and for each counted signer of its
/// group that recorded another transition (or none), what it did:
/// `staging tested v2 -> v4 (from 1a2b3c4d5e6f)` with `base` "prod's base
/// is v3 (3c4d5e6f7a8b)" and `fix` "stage prod's version v3 then v4
/// again". `arrow` is "->" in plain output.
pub struct TestedWords {
    pub base: String,
    pub fix: String,
    /// (signer, what it did): "tested v2 -> v4 (from ...)", "signed a
    /// layer recording no Sigtag-Tested-From".
    pub others: Vec<(String, String)>,
}

/// [`TestedWords`] for tag `tag` of environment `env`.
pub fn tested_words(
    env: &str,
    tag: &str,
    t: &crate::rule::TestedFindings,
    arrow: &str,
) -> TestedWords {
    use crate::message::{TestedFrom, TESTED_FROM_TRAILER};
    let (base, fix) = match &t.base {
        Some((b, c)) => (
            format!("{env}'s base is {b} ({})", short_id(&c.to_string())),
            format!("stage {env}'s version {b} then {tag} again"),
        ),
        None => (
            format!("{env} has no base for {tag}"),
            format!("stage {tag} where nothing was deployed before ({TESTED_FROM_TRAILER}: none)"),
        ),
    };
    let others = t
        .other
        .iter()
        .map(|(signer, from)| {
            let what = if from.is_empty() {
                format!("signed a layer recording no {TESTED_FROM_TRAILER}")
            } else {
                let tested: Vec<String> = from
                    .iter()
                    .map(|f| match f {
                        TestedFrom::Nothing => format!("{tag} as a first version (from none)"),
                        TestedFrom::Commit(c) => {
                            let id = short_id(&c.to_string());
                            match t.tags.get(c) {
                                Some(name) => format!("{name} {arrow} {tag} (from {id})"),
                                None => format!("{id} {arrow} {tag}"),
                            }
                        }
                    })
                    .collect();
                format!("tested {}", tested.join(", "))
            };
            (signer.clone(), what)
        })
        .collect();
    TestedWords { base, fix, others }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{Chain, Layer};
    use crate::trust::Trust;
    use crate::verdict::{Counted, Gate, Signature, SignerId};
    use crate::verify::{LayerCheck, Outcome};
    use std::time::{Duration, UNIX_EPOCH};

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
    const FPR: &str = "1032ABCDEF0123456789ABCDEF0123456789ABCD";

    fn trust() -> Trust {
        Trust::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keys")).unwrap()
    }

    fn chain(layers: usize) -> Chain {
        let layer = |number: usize| {
            let text = format!(
                "object {COMMIT}\ntype commit\ntag v1\ntagger A <a@example.org> 1700000000 +0000\n\nv1\n"
            );
            Layer {
                number,
                oid: format!("{number:040}"),
                object: crate::object::parse(text.as_bytes()).unwrap(),
            }
        };
        Chain {
            name: "v1".into(),
            outer: Some("f".repeat(40)),
            layers: (1..=layers).map(layer).collect(),
            commit: Some(COMMIT.into()),
            findings: Vec::new(),
        }
    }

    /// The verdict of `env` on a chain with one layer per outcome.
    fn verdict(env: &str, outcomes: Vec<Outcome>) -> Verdict {
        let trust = trust();
        let checks: Vec<LayerCheck> = outcomes
            .into_iter()
            .enumerate()
            .map(|(i, o)| LayerCheck {
                number: i + 1,
                outcomes: vec![o],
            })
            .collect();
        Gate::for_environment(&trust, env)
            .unwrap()
            .verdict(&chain(checks.len()), &checks)
    }

    fn by(name: &str) -> Outcome {
        let trust = trust();
        Outcome::Counts {
            signer: trust.signers().iter().position(|s| s.name == name).unwrap(),
            key: "AA".into(),
            created: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            expires: None,
        }
    }

    fn fails(p: Problem) -> Outcome {
        Outcome::Fails(p)
    }

    #[test]
    fn a_line_names_what_did_not_count() {
        let v = verdict(
            "prod",
            vec![
                by("alice"),
                by("bob"),
                fails(Problem::UnknownKey(FPR.into())),
            ],
        );
        assert_eq!(
            line(&v),
            "v1: no for prod: needs 1 of pipelines; 1 signature not counted: \
             signed by a key nobody trusts: 1032ABCD…; see sigtag explain v1"
        );
        let expired = Problem::SignatureExpired {
            signer: "carol".into(),
            at: "2026-01-01T00:00:00Z".into(),
        };
        let v = verdict("staging", vec![by("alice"), by("bob"), fails(expired)]);
        assert_eq!(
            line(&v),
            "v1: yes for staging (alice, bob); 1 signature not counted: \
             signature by carol expired at 2026-01-01T00:00:00Z; see sigtag explain v1"
        );
        assert_eq!(reason(&v), None);
        // Everything counted: the line is as short as ever.
        let v = verdict("staging", vec![by("alice"), by("bob")]);
        assert_eq!(line(&v), "v1: yes for staging (alice, bob)");
        assert_eq!(not_counted(&v), None);
        assert_eq!(
            line_for(&v, "\"2 of humans\""),
            "v1: yes for \"2 of humans\" (alice, bob)"
        );
    }

    #[test]
    fn reasons_are_grouped_and_capped() {
        let weak = Problem::Weak {
            signer: "carol".into(),
            algo: "SHA1".into(),
        };
        let future = Problem::Future {
            signer: "bob".into(),
            created: "2099-01-01T00:00:00Z".into(),
        };
        let mut v = verdict(
            "staging",
            vec![
                by("alice"),
                fails(Problem::UnknownKey(FPR.into())),
                fails(Problem::Unsigned),
                fails(Problem::UnknownKey(FPR.into())),
                fails(weak),
                fails(future.clone()),
                fails(future),
            ],
        );
        assert_eq!(
            reason(&v).unwrap(),
            "needs 1 more of humans other than alice; 5 signatures and 1 layer not counted: \
             signed by a key nobody trusts: 1032ABCD… (×2); no signature; \
             signature by carol uses SHA1, which is too weak; and 2 more"
        );
        // A signer in no group counts for no rule, and is said so.
        v.layers[0].signatures.push(Signature::Counts(Counted {
            signer: SignerId {
                name: "dave".into(),
                groups: Vec::new(),
            },
            key: "DD".into(),
            created: UNIX_EPOCH,
            expires: None,
        }));
        assert!(
            not_counted(&v)
                .unwrap()
                .starts_with("6 signatures and 1 layer not counted: "),
            "{v:?}"
        );
        assert!(line(&v).ends_with("; and 3 more; see sigtag explain v1"));
        let v = verdict(
            "staging",
            vec![fails(Problem::Unsigned), fails(Problem::Unsigned)],
        );
        assert_eq!(
            reason(&v).unwrap(),
            "needs 2 of humans; 2 layers not counted: no signature (×2)"
        );
    }

    #[test]
    fn a_rejected_tag_gives_its_rejection_only() {
        let bad = Problem::BadSignature {
            signer: "bob".into(),
            key: FPR.into(),
        };
        let v = verdict(
            "staging",
            vec![
                by("alice"),
                fails(Problem::UnknownKey(FPR.into())),
                fails(bad),
            ],
        );
        assert_eq!(not_counted(&v), None);
        assert_eq!(
            line(&v),
            format!(
                "v1: no for staging: rejected: bad signature by bob ({FPR}): \
                 the layer was altered after it was signed"
            )
        );
    }

    #[test]
    fn keys_are_shortened_and_words_are_not() {
        assert_eq!(
            short_keys("signed by a key nobody trusts: 1032ABCDEF0123456789ABCDEF0123456789ABCD"),
            "signed by a key nobody trusts: 1032ABCD…"
        );
        assert_eq!(
            short_keys("alice's key 0123456789ABCDEF had expired"),
            "alice's key 01234567… had expired"
        );
        // Short runs, dates and words with hex letters stay.
        for kept in [
            "expired at 2026-01-01T00:00:00Z",
            "key CAFE is short",
            "DEADBEEFDEADBEEFDEADx stays",
            "xDEADBEEFDEADBEEFDEAD stays",
        ] {
            assert_eq!(short_keys(kept), kept);
        }
    }

    #[test]
    fn long_reasons_are_cut() {
        let long = "x".repeat(150);
        let cut = short(&long);
        assert_eq!(cut.chars().count(), MAX_REASON_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(short("short"), "short");
    }
}
