//! `sigtag demo` tells its whole story: it exits 0, writes nothing to
//! stderr, needs no gpg (GNUPGHOME points nowhere), and each chapter
//! prints the verdicts the story tells, in order: the first promotion,
//! the attacks, a reviewer who is the author, staging's tested
//! transitions, and an emergency reviewed afterwards.
//!
//! Commit ids, fingerprints and dates change from run to run: lines are
//! compared with those replaced by `<commit>`, `<id>`, `<fpr>` and
//! `<date>` ([`normalize`]), and what they must equal is checked apart
//! (a base names the commit the chapter made, a review's due date is 72
//! hours after the hotfix, the later judgement four days after it).

mod common;

use common::*;
use std::sync::OnceLock;

/// The demo's stdout, run once for every test of this file.
fn demo() -> &'static str {
    static OUT: OnceLock<String> = OnceLock::new();
    OUT.get_or_init(|| {
        let ctx = Ctx::new();
        let run = ctx.sigtag(&["demo"]);
        ok(&run);
        assert_eq!(run.stderr, "", "the demo writes nothing to stderr");
        run.stdout
    })
}

/// `line` with runs of hex digits and dates replaced: 40 lower-case hex
/// digits `<commit>`, 12 `<id>`, 40 upper-case `<fpr>`, an RFC 3339 UTC
/// time `<date>`.
fn normalize(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if is_date(&chars[i..]) {
            out.push_str("<date>");
            i += 20;
            continue;
        }
        let boundary = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let run = |pred: fn(&char) -> bool| chars[i..].iter().take_while(|c| pred(c)).count();
        let lower = run(|c| c.is_ascii_digit() || ('a'..='f').contains(c));
        let upper = run(|c| c.is_ascii_digit() || ('A'..='F').contains(c));
        let ends = |n: usize| chars.get(i + n).is_none_or(|c| !c.is_ascii_alphanumeric());
        if boundary && lower == 40 && ends(40) {
            out.push_str("<commit>");
            i += 40;
        } else if boundary && lower == 12 && ends(12) {
            out.push_str("<id>");
            i += 12;
        } else if boundary && upper == 40 && ends(40) {
            out.push_str("<fpr>");
            i += 40;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Does `s` start with `YYYY-MM-DDTHH:MM:SSZ`?
fn is_date(s: &[char]) -> bool {
    let shape = "dddd-dd-ddTdd:dd:ddZ";
    s.len() >= shape.len()
        && shape.chars().zip(s).all(|(want, got)| match want {
            'd' => got.is_ascii_digit(),
            other => other == *got,
        })
}

/// The lines of chapter `n` ("== n. ..." up to the next chapter or the
/// end), as printed.
fn chapter(n: usize) -> Vec<&'static str> {
    let head = format!("== {n}. ");
    let mut lines = demo().lines().skip_while(|l| !l.starts_with(&head));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no chapter {n} in:\n{}", demo()));
    std::iter::once(first)
        .chain(lines.take_while(|l| !l.starts_with("== ")))
        .collect()
}

/// Each of `want` is a line of `lines` (normalized), in this order.
fn in_order(lines: &[&str], want: &[&str]) {
    let normal: Vec<String> = lines.iter().map(|l| normalize(l)).collect();
    let mut at = 0;
    for w in want {
        match normal[at..].iter().position(|l| l == w) {
            Some(i) => at += i + 1,
            None => panic!(
                "{w:?} not found (in order) in:\n{}",
                normal[at..].join("\n")
            ),
        }
    }
}

/// The first line of `lines` that starts with `prefix`.
fn line_of(lines: &[&'static str], prefix: &str) -> &'static str {
    lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", lines.join("\n")))
}

/// The text between `before` and `after` in `line`.
fn between<'a>(line: &'a str, before: &str, after: &str) -> &'a str {
    let start = line
        .find(before)
        .unwrap_or_else(|| panic!("{before:?} not in {line:?}"))
        + before.len();
    let len = line[start..]
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} not after {before:?} in {line:?}"));
    &line[start..start + len]
}

fn epoch(date: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(date)
        .unwrap_or_else(|e| panic!("{date:?}: {e}"))
        .timestamp()
}

#[test]
fn the_normalizer_replaces_only_whole_ids_and_dates() {
    assert_eq!(
        normalize("base v1.4.0 (0123456789ab), at 2026-12-05T03:58:12Z, added"),
        "base v1.4.0 (<id>), at <date>, added"
    );
    assert_eq!(
        normalize(&format!(
            "commit {} [{}] {}x",
            "a".repeat(40),
            "F".repeat(40),
            "b".repeat(12)
        )),
        "commit <commit> [<fpr>] bbbbbbbbbbbbx"
    );
}

#[test]
fn plain_output_marks_with_ascii() {
    let out = demo();
    for mark in ['✓', '✗', '○', '\x1b'] {
        assert!(!out.contains(mark), "{mark:?} in plain output:\n{out}");
    }
    assert!(
        out.contains("\n       + signed by alice (humans) at "),
        "{out}"
    );
}

#[test]
fn the_first_chapters_still_tell_their_story() {
    let merge = line_of(&chapter(2), "   merge commit ");
    let merge = between(merge, "merge commit ", ":");
    assert_eq!(merge.len(), 40, "{merge}");
    in_order(
        &chapter(3),
        &[
            "   $ sigtag sign v1.4.0 --key alice.key",
            "   v1.4.0: no for staging: needs 1 more of humans other than alice",
        ],
    );
    in_order(
        &chapter(4),
        &[
            "   v1.4.0: yes for staging (alice, bob)",
            "   v1.4.0: no for prod: needs 1 of pipelines tested from none; no base",
        ],
    );
    let five = chapter(5);
    in_order(
        &five,
        &[
            "   $ sigtag cosign v1.4.0 --key staging.key --require \"2 of humans\" --tested-from none",
            "   v1.4.0: yes for prod (alice, bob, staging); no base, 3 commits",
            "   $ sigtag explain v1.4.0 --env prod",
            "       + signed by staging (pipelines) at <date> [<fpr>]",
            "       tested from none",
            "     range: 3 commits, every ancestor of v1.4.0",
            "       + 2 of humans besides author: 2 counted (alice, bob)",
            "       + 1 of pipelines tested: 1 counted (staging)",
            "   verdict: yes",
            "   Co-signing again with the same key changes nothing (it signed layer 3).",
        ],
    );
    in_order(
        &chapter(6),
        &["   v1.5.0: no for staging: needs 1 more of humans other than alice"],
    );
    in_order(
        &chapter(7),
        &[
            "   test-1: yes for staging (alice, bob)",
            "   v9.9.9: no for staging: rejected: layer is named \"test-1\", not \"v9.9.9\"",
        ],
    );
}

#[test]
fn a_reviewer_who_is_the_author_does_not_count_until_another_co_signs() {
    let eight = chapter(8);
    in_order(
        &eight,
        &[
            "== 8. The reviewer must not be the author",
            "   $ sigtag cosign v1.5.0 --key bob.key",
            "   v1.5.0: yes for staging (alice, bob)",
            "   $ sigtag cosign v1.5.0 --key staging.key --require \"2 of humans\" --tested-from v1.4.0",
            "   $ sigtag verify v1.5.0 --env prod",
            "   v1.5.0: no for prod: needs 1 more of humans other than bob besides alice, who authored <id>; \
             base v1.4.0 (<id>), 1 commit",
            "   $ sigtag explain v1.5.0 --env prod      (excerpt)",
            "     commit <commit>",
            "       - 2 of humans besides author: 2 counted (alice, bob); 1 of 1 commit falls short",
            "           - <id> by Alice <alice@example.org> (alice): needs 1 more of humans besides its author \
             (counted besides: bob)",
            "   verdict: no, needs 1 more of humans other than bob besides alice, who authored <id>",
            "   $ sigtag cosign v1.5.0 --key carol.key",
            "   v1.5.0: yes for prod (alice, bob, carol, staging); base v1.4.0 (<id>), 1 commit",
        ],
    );
    // The commit named is v1.5.0's, and its base is chapter 2's merge.
    let fix = &line_of(&eight, "     commit ")["     commit ".len()..];
    assert_eq!(fix.len(), 40, "{fix}");
    let refused = line_of(&eight, "   v1.5.0: no for prod: ");
    assert_eq!(
        between(refused, "who authored ", ";"),
        &fix[..12],
        "{refused}"
    );
    let merge = between(
        line_of(&chapter(2), "   merge commit "),
        "merge commit ",
        ":",
    );
    assert_eq!(
        between(refused, "base v1.4.0 (", ")"),
        &merge[..12],
        "{refused}"
    );
}

#[test]
fn prod_takes_only_the_transition_staging_tested() {
    let nine = chapter(9);
    in_order(
        &nine,
        &[
            "== 9. Staging must test the transition prod will make",
            "   $ sigtag cosign v1.6.0 --key staging.key --require \"2 of humans\" --tested-from v1.5.0",
            "   $ sigtag cosign v1.7.0 --key staging.key --require \"2 of humans\" --tested-from v1.6.0",
            "   v1.6.0: no for prod: needs 1 more of humans other than alice besides bob, who authored <id>; \
             base v1.5.0 (<id>), 1 commit",
            "   v1.7.0: no for prod: needs 1 of pipelines tested from v1.5.0 (<id>); base v1.5.0 (<id>)",
            "   $ sigtag explain v1.7.0 --env prod      (excerpt)",
            "       - 1 of pipelines tested: 0 counted",
            "           a layer must record Sigtag-Tested-From: <commit> (prod's base is v1.5.0 (<id>))",
            "           - staging tested v1.6.0 -> v1.7.0 (from <id>); prod's base is v1.5.0 (<id>): \
             stage prod's version v1.5.0 then v1.7.0 again",
            "   $ sigtag cosign v1.6.0 --key carol.key",
            "   v1.6.0: yes for prod (alice, bob, carol, staging); base v1.5.0 (<id>), 1 commit",
            "   v1.7.0: yes for prod (alice, carol, staging); base v1.6.0 (<id>), 1 commit",
        ],
    );
    // What staging tested is v1.6.0's commit, which becomes v1.7.0's base.
    let authored = line_of(&nine, "   v1.6.0: no for prod: ");
    let v160 = between(authored, "who authored ", ";");
    let tested = line_of(&nine, "           - staging tested ");
    assert_eq!(between(tested, "(from ", ")"), v160, "{tested}");
    let accepted = line_of(&nine, "   v1.7.0: yes for prod ");
    assert_eq!(between(accepted, "base v1.6.0 (", ")"), v160, "{accepted}");
}

#[test]
fn an_emergency_blocks_prod_once_overdue_until_it_is_reviewed() {
    let ten = chapter(10);
    in_order(
        &ten,
        &[
            "== 10. An emergency, reviewed afterwards",
            "     emergency     = \"1 of humans\"",
            "     review        = \"2 of humans\"",
            "     review_within = \"72h\"",
            "   $ git tag -d test-1 v9.9.9      (a pipeline's tag_filter: \"v*\" skips them too)",
            "   $ sigtag sign v1.7.1 --key alice.key",
            "   $ sigtag verify v1.7.1 --env prod",
            "   v1.7.1: yes (emergency) for prod (alice); review needs 1 more of humans other than alice \
             by <date>; base v1.7.0 (<id>), 1 commit",
            "   $ sigtag cosign v1.8.0 --key staging.key --require \"2 of humans\" --tested-from v1.7.1",
            "   here on judges as of <date>.",
            "   $ sigtag verify v1.7.1 --env prod      (as of <date>)",
            "   v1.7.1: yes (emergency) for prod (alice); review overdue since <date>: needs 1 more of \
             humans other than alice; base v1.7.0 (<id>), 1 commit",
            "   $ sigtag verify v1.8.0 --env prod      (as of <date>)",
            "   v1.8.0: no for prod: rejected: v1.7.1 was promoted to prod as an emergency and its review \
             was due at <date>; nothing newer is promoted in prod until v1.7.1 meets \"2 of humans\": it \
             needs 1 more of humans other than alice (co-sign v1.7.1); base v1.7.1 (<id>), 1 commit",
            "   $ sigtag cosign v1.7.1 --key bob.key",
            "   $ sigtag verify v1.7.1 --env prod      (as of <date>)",
            "   v1.7.1: yes (emergency, reviewed) for prod (alice, bob); reviewed: meets 2 of humans; \
             base v1.7.0 (<id>), 1 commit",
            "   $ sigtag verify v1.8.0 --env prod      (as of <date>)",
            "   v1.8.0: yes for prod (bob, carol, staging); base v1.7.1 (<id>), 1 commit",
        ],
    );
    // One due date throughout, 72 hours after the hotfix was signed (at
    // about the time the demo ran), and the later judgement a day past it.
    let due = between(
        line_of(
            &ten,
            "   v1.7.1: yes (emergency) for prod (alice); review needs ",
        ),
        " by ",
        ";",
    );
    let overdue = line_of(
        &ten,
        "   v1.7.1: yes (emergency) for prod (alice); review overdue ",
    );
    assert_eq!(between(overdue, "since ", ": needs"), due, "{overdue}");
    let blocked = line_of(&ten, "   v1.8.0: no for prod: ");
    assert_eq!(between(blocked, "was due at ", ";"), due, "{blocked}");
    let later = between(line_of(&ten, "   here on judges as of "), "as of ", ".");
    let (due, later) = (epoch(due), epoch(later));
    assert!(
        (due - (now() + 3 * DAY)).abs() < 600,
        "due {due} is not 72 hours from now"
    );
    assert!(
        (later - due - DAY).abs() < 60,
        "judged as of {later}, not a day past {due}"
    );
    // Every verdict after the jump says the same date.
    for line in ten.iter().filter(|l| l.contains("(as of ")) {
        assert_eq!(epoch(between(line, "(as of ", ")")), later, "{line}");
    }
}
