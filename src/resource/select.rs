//! Which versions a check returns, and what its log says about the rest:
//! a pure function of the tags' dates and verdicts and of the version the
//! check was given ([`select`]). No I/O: `check` reads the repository and
//! the cache, verifies what [`select`] asks for, and calls it again until
//! it has the answer.
//!
//! Invariants of an answer ([`Chosen`]):
//! - no version is older than the given one: a version is placed by the
//!   cache's memory of what a check returned, or by its tag's chain only
//!   when that chain satisfies the rule at the same commit, never by a
//!   chain that is refused now;
//! - a version that cannot be placed gives no version at all;
//! - every tag is either returned or counted under why it is not, and the
//!   tags named in the log are the refused ones and the new ones;
//! - tags that are no sigtag chain at all (lightweight, or annotated and
//!   unsigned: a project's tags from before sigtag) are never returned and
//!   never named one by one: one line counts them ([`not_chains_line`]);
//! - with `in_order` (DESIGN §6), at most one version newer than the given
//!   one is returned; the other newer satisfying tags wait for the checks
//!   after it, counted in one line ([`waiting_line`]), so none is skipped
//!   over time.

use super::request::Version;

/// `lines`, the first `max` of them and then "... and N more".
pub(super) fn capped(lines: &[String], max: usize) -> Vec<String> {
    let mut out: Vec<String> = lines.iter().take(max).cloned().collect();
    if lines.len() > max {
        out.push(format!("... and {} more", lines.len() - max));
    }
    out
}

/// A time for the log, RFC 3339 in UTC.
pub(super) fn date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).map_or_else(
        || format!("{t} s after the epoch"),
        |d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

// ------------------------------------------------------------ selection

/// What is known of one tag when versions are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
    /// Not verified: no cached verdict, no signature check yet.
    Unknown,
    /// Satisfies the rule (a cached verdict or a check just made).
    Satisfies,
    /// Not a version, with the reason the log gives.
    Refused(String),
    /// No sigtag chain at all: a lightweight tag, or an annotated tag none
    /// of whose layers is signed. Never a version; counted, not named.
    NotChain,
}

/// One tag, as [`select`] sees it.
#[derive(Debug, Clone)]
pub(super) struct Tag {
    pub(super) name: String,
    /// Commit and innermost creation time of a well-formed chain.
    pub(super) placed: Option<(String, i64)>,
    pub(super) status: Status,
    /// Its `(name, outer object)` pair was not there at the last check.
    pub(super) new: bool,
}

impl Tag {
    /// `(created, name)`: the order of versions.
    fn key(&self) -> Option<(i64, &str)> {
        self.placed.as_ref().map(|(_, t)| (*t, self.name.as_str()))
    }

    fn commit(&self) -> Option<&str> {
        self.placed.as_ref().map(|(c, _)| c.as_str())
    }
}

/// The version a check starts from.
#[derive(Debug, Clone)]
pub(super) struct Given<'v> {
    pub(super) version: &'v Version,
    /// Its tag passes `tag_filter`.
    pub(super) wanted: bool,
    /// Where it stood when a check returned it: its innermost creation time.
    pub(super) remembered: Option<i64>,
}

/// What [`select`] needs next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// The signature check of these tags (indices, none of them known).
    Verify(Vec<usize>),
    Done(Chosen),
}

/// The answer of a check and what its log says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Chosen {
    /// Indices of the tags to return, in the order to return them.
    pub(super) versions: Vec<usize>,
    /// Where the given version stands, when that changes the answer.
    pub(super) notes: Vec<String>,
    /// One line for each tag not returned that the log names: every
    /// refused tag, and the others when they are new.
    pub(super) skipped: Vec<String>,
    /// Tags not returned, by why: no sigtag chain (their names), refused, older than the given version, not the latest (a
    /// first check), withheld (the given version cannot be placed),
    /// waiting (newer satisfying tags `in_order` leaves for later checks,
    /// their indices oldest first).
    pub(super) not_chains: Vec<String>,
    pub(super) refused: usize,
    pub(super) older: usize,
    pub(super) not_latest: usize,
    pub(super) withheld: usize,
    pub(super) waiting: Vec<usize>,
}

impl Chosen {
    /// Counts a tag that is not returned because it is refused (naming it
    /// with its reason) or no sigtag chain; `false` for any other tag,
    /// which the caller counts under its own why.
    fn refused_or_not_chain(&mut self, t: &Tag) -> bool {
        match &t.status {
            Status::Refused(reason) => {
                self.refused += 1;
                self.skipped.push(skipping(t, reason));
                true
            }
            Status::NotChain => {
                self.not_chains.push(t.name.clone());
                true
            }
            Status::Unknown | Status::Satisfies => false,
        }
    }
}

/// Chooses the versions to return. Pure: it sees the tags with what is
/// known of them and the given version, and either asks for the tags it
/// must verify (at most `batch` at a time on a first check) or answers.
///
/// - Versions are ordered by `(innermost creation time, name)`.
/// - Without a given version: the latest satisfying tag.
/// - With one: it stands where a check returned it (`remembered`), or, when
///   nothing is remembered, where its tag stands now if that tag still
///   satisfies at the same commit. Never where a refused chain puts it.
///   The answer is the version itself if its tag still satisfies at its
///   commit, and every newer satisfying tag; never an older one.
/// - A version that cannot be placed gives no version at all.
/// - With `in_order`, of the newer satisfying tags only the oldest is
///   returned; the rest wait (they are verified all the same, so the log
///   names the refused ones). A first check still returns the latest.
pub(super) fn select(
    tags: &[Tag],
    given: Option<&Given>,
    rule: &str,
    batch: usize,
    in_order: bool,
) -> Step {
    let mut order: Vec<usize> = (0..tags.len())
        .filter(|&i| tags.get(i).and_then(Tag::key).is_some())
        .collect();
    order.sort_by(|&a, &b| {
        tags.get(a)
            .and_then(Tag::key)
            .cmp(&tags.get(b).and_then(Tag::key))
    });
    match given {
        None => first_check(tags, &order, batch.max(1)),
        Some(g) => from_version(tags, &order, g, rule, in_order),
    }
}

pub(super) fn status(tags: &[Tag], i: usize) -> Option<&Status> {
    tags.get(i).map(|t| &t.status)
}

/// The latest satisfying tag.
pub(super) fn first_check(tags: &[Tag], order: &[usize], batch: usize) -> Step {
    let mut latest = None;
    let mut newest_first = order.iter().rev().copied().peekable();
    while let Some(i) = newest_first.next() {
        match status(tags, i) {
            Some(Status::Satisfies) => {
                latest = Some(i);
                break;
            }
            Some(Status::Unknown) => {
                // This one and the unknown ones right below it, checked
                // together; the newest that satisfies is the answer.
                let mut todo = vec![i];
                while todo.len() < batch {
                    match newest_first.next_if(|&j| status(tags, j) == Some(&Status::Unknown)) {
                        Some(j) => todo.push(j),
                        None => break,
                    }
                }
                return Step::Verify(todo);
            }
            _ => {}
        }
    }
    let mut chosen = Chosen {
        versions: latest.into_iter().collect(),
        ..Chosen::default()
    };
    for i in log_order(tags, order) {
        let Some(t) = tags.get(i).filter(|_| Some(i) != latest) else {
            continue;
        };
        if !chosen.refused_or_not_chain(t) {
            chosen.not_latest += 1;
            if t.new {
                chosen.skipped.push(skipping(
                    t,
                    "not the latest satisfying tag, and a first check returns only the latest",
                ));
            }
        }
    }
    Step::Done(chosen)
}

/// The given version, if it still satisfies, and every newer satisfying
/// tag (with `in_order`, only the oldest of them); nothing when the
/// version cannot be placed.
pub(super) fn from_version(
    tags: &[Tag],
    order: &[usize],
    g: &Given,
    rule: &str,
    in_order: bool,
) -> Step {
    let v = g.version;
    let same = tags
        .iter()
        .position(|t| t.name == v.tag && t.commit() == Some(v.commit.as_str()));
    let same_key = same.and_then(|i| tags.get(i)?.key());
    let newer_than = |cutoff: (i64, &str)| -> Vec<usize> {
        order
            .iter()
            .copied()
            .filter(|&i| Some(i) != same && tags.get(i).and_then(Tag::key) > Some(cutoff))
            .collect()
    };
    let cutoff: Option<(i64, &str)> = match (g.remembered, same.and_then(|i| status(tags, i))) {
        (Some(t), _) => Some((t, v.tag.as_str())),
        (None, Some(Status::Satisfies)) => same_key,
        (None, Some(Status::Unknown)) => {
            // Verify it, and what would be newer than it, in one go.
            let mut todo: Vec<usize> = same.into_iter().collect();
            if let Some(k) = same_key {
                todo.extend(
                    newer_than(k)
                        .into_iter()
                        .filter(|&i| status(tags, i) == Some(&Status::Unknown)),
                );
            }
            return Step::Verify(todo);
        }
        (None, _) => None,
    };
    let Some(cutoff) = cutoff else {
        return unplaceable(tags, order, g, same, rule);
    };

    let todo: Vec<usize> = same
        .into_iter()
        .chain(newer_than(cutoff))
        .filter(|&i| status(tags, i) == Some(&Status::Unknown))
        .collect();
    if !todo.is_empty() {
        return Step::Verify(todo);
    }
    let keeps = same.filter(|&i| status(tags, i) == Some(&Status::Satisfies));
    let mut newer: Vec<usize> = newer_than(cutoff)
        .into_iter()
        .filter(|&i| status(tags, i) == Some(&Status::Satisfies))
        .collect();
    let waiting = if in_order && newer.len() > 1 {
        newer.split_off(1)
    } else {
        Vec::new()
    };
    let mut chosen = Chosen {
        versions: keeps.into_iter().chain(newer).collect(),
        waiting,
        ..Chosen::default()
    };
    if keeps.is_none() {
        let (what, why) = if in_order {
            (
                "the next satisfying version",
                ": in_order returns one promotion per check",
            )
        } else {
            ("the satisfying versions", "")
        };
        chosen.notes.push(format!(
            "{}; returning only {what} newer than it (it was tagged {}), never an older one{why}",
            why_not_there(tags, g, same, rule),
            date(cutoff.0),
        ));
    }
    let given = super::request::shown(&v.tag);
    for i in log_order(tags, order) {
        let returned_or_waiting = chosen.versions.contains(&i) || chosen.waiting.contains(&i);
        let Some(t) = tags.get(i).filter(|_| !returned_or_waiting) else {
            continue;
        };
        if !chosen.refused_or_not_chain(t) {
            // Neither refused nor returned: not newer than the version.
            chosen.older += 1;
            if t.new {
                let when = t.key().map_or_else(String::new, |(at, _)| date(at));
                chosen.skipped.push(skipping(
                    t,
                    &format!(
                        "older than {given}, the version this check started from (tagged {when}, {given} {})",
                        date(cutoff.0)
                    ),
                ));
            }
        }
    }
    Step::Done(chosen)
}

/// No version: the given one cannot be placed, so anything might be older
/// than it.
pub(super) fn unplaceable(
    tags: &[Tag],
    order: &[usize],
    g: &Given,
    same: Option<usize>,
    rule: &str,
) -> Step {
    let v = g.version;
    let given = super::request::shown(&v.tag);
    let mut chosen = Chosen::default();
    chosen.notes.push(format!(
        "{}, and this check has no record of where {given} at {} stood, so it returns no version rather than risk an older one; \
         to go on, check from a version you trust: fly -t TARGET check-resource -r PIPELINE/RESOURCE --from tag:TAG,commit:COMMIT",
        why_not_there(tags, g, same, rule),
        v.commit,
    ));
    for i in log_order(tags, order) {
        let Some(t) = tags.get(i) else {
            continue;
        };
        if !chosen.refused_or_not_chain(t) {
            chosen.withheld += 1;
            if t.new {
                chosen.skipped.push(skipping(
                    t,
                    &format!("withheld, since the check cannot place {given}"),
                ));
            }
        }
    }
    Step::Done(chosen)
}

/// Why the given version's tag is not where the version says.
pub(super) fn why_not_there(tags: &[Tag], g: &Given, same: Option<usize>, rule: &str) -> String {
    let v = g.version;
    let tag = super::request::shown(&v.tag);
    if !g.wanted {
        return format!("tag {tag} does not match source.tag_filter");
    }
    if same.is_some() {
        return format!("tag {tag} no longer satisfies \"{rule}\"");
    }
    match tags.iter().find(|t| t.name == v.tag) {
        None => format!("tag {tag} no longer exists"),
        Some(t) => match t.commit() {
            Some(c) => format!("tag {tag} now points at commit {c}, not at {}", v.commit),
            None => format!("tag {tag} is rejected now"),
        },
    }
}

/// The order in which the log names tags: newest first, then the tags
/// whose chain cannot be placed, by name.
pub(super) fn log_order(tags: &[Tag], order: &[usize]) -> Vec<usize> {
    let mut unplaced: Vec<usize> = (0..tags.len())
        .filter(|&i| tags.get(i).is_some_and(|t| t.key().is_none()))
        .collect();
    unplaced.sort_by(|&a, &b| {
        tags.get(a)
            .map(|t| &t.name)
            .cmp(&tags.get(b).map(|t| &t.name))
    });
    order.iter().rev().copied().chain(unplaced).collect()
}

pub(super) fn skipping(t: &Tag, why: &str) -> String {
    format!("skipping {}: {why}", super::request::shown(&t.name))
}

/// How many tags that are no sigtag chain [`not_chains_line`] names.
pub(super) const NAMED_NOT_CHAINS: usize = 3;

/// One line for every tag that is no sigtag chain, in place of a line
/// each: "40 tags are not sigtag chains (lightweight or unsigned): v0.1,
/// v0.2, v0.3 and 37 more; they are never returned". Names go in natural
/// order (v0.2 before v0.10). `None` when there are none.
pub(super) fn not_chains_line(chosen: &Chosen) -> Option<String> {
    let mut names: Vec<&str> = chosen.not_chains.iter().map(String::as_str).collect();
    names.sort_by(|a, b| natural(a, b));
    let shown: Vec<String> = names
        .iter()
        .take(NAMED_NOT_CHAINS)
        .map(|n| super::request::shown(n))
        .collect();
    let rest = names.len().saturating_sub(NAMED_NOT_CHAINS);
    let list = if rest > 0 {
        format!("{} and {rest} more", shown.join(", "))
    } else {
        shown.join(", ")
    };
    match names.len() {
        0 => None,
        1 => Some(format!(
            "1 tag is not a sigtag chain (lightweight or unsigned): {list}; it is never returned"
        )),
        n => Some(format!(
            "{n} tags are not sigtag chains (lightweight or unsigned): {list}; they are never returned"
        )),
    }
}

/// One line for the satisfying tags `in_order` leaves for later checks:
/// "v1.3.0 and 2 more wait: in_order returns one promotion per check",
/// naming the next one. `None` when none waits.
pub(super) fn waiting_line(tags: &[Tag], chosen: &Chosen) -> Option<String> {
    let next = chosen.waiting.first().and_then(|&i| tags.get(i))?;
    let next = super::request::shown(&next.name);
    Some(match chosen.waiting.len() {
        1 => format!("{next} waits: in_order returns one promotion per check"),
        n => format!(
            "{next} and {} more wait: in_order returns one promotion per check",
            n - 1
        ),
    })
}

/// Natural order of names: runs of digits compare as numbers, so v0.2
/// comes before v0.10; ties go by plain byte order.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            let boundary = i == bytes.len()
                || bytes.get(i).map(u8::is_ascii_digit) != bytes.get(i - 1).map(u8::is_ascii_digit);
            if boundary {
                if let Some(chunk) = s.get(start..i) {
                    out.push((bytes.get(start).is_some_and(u8::is_ascii_digit), chunk));
                }
                start = i;
            }
        }
        out
    }
    let key = |s: &'_ str| -> Vec<(u8, usize, String)> {
        chunks(s)
            .into_iter()
            .map(|(digits, c)| {
                if digits {
                    let n = c.trim_start_matches('0');
                    (0, n.len(), n.to_string())
                } else {
                    (1, 0, c.to_string())
                }
            })
            .collect()
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// The last line of a check's log: every tag is either returned or counted
/// under why it is not.
pub(super) fn summary(
    total: usize,
    verified: usize,
    cached: usize,
    chosen: &Chosen,
    rule: &str,
    given: Option<&Version>,
) -> String {
    let n = chosen.versions.len();
    let mut parts = Vec::new();
    if !chosen.not_chains.is_empty() {
        parts.push(match chosen.not_chains.len() {
            1 => "1 not a sigtag chain".to_string(),
            n => format!("{n} not sigtag chains"),
        });
    }
    if chosen.refused > 0 {
        parts.push(format!("{} refused", chosen.refused));
    }
    if chosen.older > 0 {
        let tag = given.map_or_else(String::new, |v| super::request::shown(&v.tag));
        parts.push(format!("{} older than {tag}", chosen.older));
    }
    if chosen.not_latest > 0 {
        parts.push(format!("{} not the latest", chosen.not_latest));
    }
    if chosen.withheld > 0 {
        parts.push(format!("{} withheld", chosen.withheld));
    }
    if !chosen.waiting.is_empty() {
        parts.push(format!("{} waiting (in_order)", chosen.waiting.len()));
    }
    let withheld = chosen.not_chains.len()
        + chosen.refused
        + chosen.older
        + chosen.not_latest
        + chosen.withheld
        + chosen.waiting.len();
    let why = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    };
    format!(
        "{total} tag{}: {verified} verified now, {cached} from the cache; {n} version{} for \"{rule}\", {withheld} not returned{why}",
        if total == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_NAMED;

    const RULE: &str = "2 of humans";

    fn refused(why: &str) -> Status {
        Status::Refused(why.to_string())
    }

    /// A well-formed tag on commit `c-NAME`, dated `at`.
    fn tag(name: &str, at: i64, status: Status) -> Tag {
        Tag {
            name: name.to_string(),
            placed: Some((format!("c-{name}"), at)),
            status,
            new: true,
        }
    }

    fn old(mut t: Tag) -> Tag {
        t.new = false;
        t
    }

    fn version(tag: &str, commit: &str) -> Version {
        Version {
            tag: tag.to_string(),
            commit: commit.to_string(),
        }
    }

    fn given<'v>(v: &'v Version, remembered: Option<i64>) -> Given<'v> {
        Given {
            version: v,
            wanted: true,
            remembered,
        }
    }

    /// Runs [`select`] to its answer, settling every tag it asks for with
    /// `truth` (by name; absent: satisfies). Returns the answer, the names
    /// it returned and the names it verified, round by round.
    fn settle(
        tags: &mut [Tag],
        truth: &[(&str, Status)],
        g: Option<&Given>,
        batch: usize,
    ) -> (Chosen, Vec<String>, Vec<Vec<String>>) {
        settle_with(tags, truth, g, batch, false)
    }

    /// [`settle`], with or without `in_order`.
    fn settle_with(
        tags: &mut [Tag],
        truth: &[(&str, Status)],
        g: Option<&Given>,
        batch: usize,
        in_order: bool,
    ) -> (Chosen, Vec<String>, Vec<Vec<String>>) {
        let mut rounds = Vec::new();
        loop {
            match select(tags, g, RULE, batch, in_order) {
                Step::Done(chosen) => {
                    let names = chosen
                        .versions
                        .iter()
                        .map(|&i| tags[i].name.clone())
                        .collect();
                    return (chosen, names, rounds);
                }
                Step::Verify(todo) => {
                    assert!(!todo.is_empty(), "a round verifies something");
                    let mut round = Vec::new();
                    for i in todo {
                        let t = &mut tags[i];
                        assert_eq!(t.status, Status::Unknown, "{} is verified once", t.name);
                        t.status = truth
                            .iter()
                            .find(|(n, _)| *n == t.name)
                            .map_or(Status::Satisfies, |(_, s)| s.clone());
                        round.push(t.name.clone());
                    }
                    rounds.push(round);
                    assert!(rounds.len() < 100, "select ends");
                }
            }
        }
    }

    /// Every tag is returned or counted under why it is not.
    fn honest(tags: &[Tag], c: &Chosen) {
        assert_eq!(
            c.versions.len()
                + c.not_chains.len()
                + c.refused
                + c.older
                + c.not_latest
                + c.withheld
                + c.waiting.len(),
            tags.len(),
            "{c:?}"
        );
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn versions_go_by_date_then_name() {
        let mut tags = vec![
            tag("v5b", 40, Status::Satisfies),
            tag("v1", 10, Status::Satisfies),
            tag("v2", 30, Status::Satisfies),
            tag("v5a", 40, Status::Satisfies),
            tag("v3", 20, Status::Satisfies),
        ];
        let v = version("v1", "c-v1");
        let (c, got, rounds) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert_eq!(got, names(&["v1", "v3", "v2", "v5a", "v5b"]));
        assert!(rounds.is_empty() && c.notes.is_empty() && c.skipped.is_empty());
        // A tie goes by name: v5b is newer than v5a.
        let v = version("v5a", "c-v5a");
        let (_, got, _) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert_eq!(got, names(&["v5a", "v5b"]));
        let v = version("v5b", "c-v5b");
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert_eq!(got, names(&["v5b"]));
        assert_eq!(c.older, 4);
        honest(&tags, &c);
    }

    #[test]
    fn a_first_check_returns_the_latest_and_names_the_rest() {
        let mut tags = vec![
            tag("v1", 10, Status::Unknown),
            old(tag("v0", 5, Status::Unknown)),
            tag("v2", 20, Status::Unknown),
            tag("v3", 30, Status::Unknown),
            tag("v4", 40, Status::Unknown),
            Tag {
                placed: None,
                new: false,
                ..tag("light", 0, refused("rejected: lightweight tag"))
            },
        ];
        let truth = [
            ("v4", refused("does not meet \"2 of humans\": needs 1 more")),
            ("v3", refused("rejected: text after the signature block")),
        ];
        let (c, got, rounds) = settle(&mut tags, &truth, None, 2);
        assert_eq!(got, names(&["v2"]));
        // Newest first, two at a time, until one satisfies; v1 and v0 are
        // never verified.
        assert_eq!(rounds, vec![names(&["v4", "v3"]), names(&["v2", "v1"])]);
        assert_eq!(
            c.skipped,
            names(&[
                "skipping v4: does not meet \"2 of humans\": needs 1 more",
                "skipping v3: rejected: text after the signature block",
                "skipping v1: not the latest satisfying tag, and a first check returns only the latest",
                "skipping light: rejected: lightweight tag",
            ]),
            "refused tags always, the others when new"
        );
        assert_eq!((c.refused, c.not_latest), (3, 2));
        honest(&tags, &c);

        // Nothing satisfies: no version, every tag named with its reason.
        let mut none = vec![tag("v1", 10, refused("does not meet"))];
        let (c, got, _) = settle(&mut none, &[], None, 2);
        assert!(got.is_empty());
        assert_eq!(c.skipped, names(&["skipping v1: does not meet"]));
    }

    #[test]
    fn from_a_version_only_it_and_newer_tags_are_verified() {
        let mut tags = vec![
            tag("v1", 10, Status::Unknown),
            tag("v2", 20, Status::Unknown),
            tag("v3", 30, Status::Unknown),
            tag("v4", 40, Status::Unknown),
            old(tag("v0", 5, Status::Unknown)),
        ];
        let v = version("v2", "c-v2");
        let truth = [("v3", refused("does not meet \"2 of humans\": needs 1 more"))];
        let (c, got, rounds) = settle(&mut tags, &truth, Some(&given(&v, None)), 1);
        assert_eq!(got, names(&["v2", "v4"]));
        assert_eq!(rounds, vec![names(&["v2", "v3", "v4"])], "one round");
        assert_eq!(
            c.skipped,
            names(&[
                "skipping v3: does not meet \"2 of humans\": needs 1 more",
                "skipping v1: older than v2, the version this check started from (tagged 1970-01-01T00:00:10Z, v2 1970-01-01T00:00:20Z)",
            ]),
            "v0 is older too, but not new"
        );
        assert_eq!((c.refused, c.older), (1, 2));
        assert!(c.notes.is_empty());
        honest(&tags, &c);
    }

    #[test]
    fn a_vanished_version_gives_only_newer_ones_when_remembered() {
        let mut tags = vec![
            tag("v1", 10, Status::Satisfies),
            tag("v3", 30, Status::Unknown),
        ];
        let v = version("v2", "c-v2");
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, Some(20))), 4);
        assert_eq!(got, names(&["v3"]));
        assert_eq!(
            c.notes,
            names(&["tag v2 no longer exists; returning only the satisfying versions newer than it (it was tagged 1970-01-01T00:00:20Z), never an older one"])
        );
        assert_eq!(c.older, 1);
        honest(&tags, &c);

        // Nothing newer: no version, and still not v1.
        let mut tags = vec![tag("v1", 10, Status::Satisfies)];
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, Some(20))), 4);
        assert!(got.is_empty(), "{c:?}");
    }

    #[test]
    fn a_version_that_cannot_be_placed_gives_nothing() {
        let v = version("v2", "c-v2");
        let mut tags = vec![
            tag("v1", 10, Status::Satisfies),
            old(tag("v3", 30, Status::Satisfies)),
            tag("v4", 40, refused("does not meet")),
        ];
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert!(got.is_empty());
        assert_eq!(c.notes.len(), 1);
        assert_eq!(
            c.notes[0],
            "tag v2 no longer exists, and this check has no record of where v2 at c-v2 stood, so it returns no version rather than risk an older one; \
             to go on, check from a version you trust: fly -t TARGET check-resource -r PIPELINE/RESOURCE --from tag:TAG,commit:COMMIT"
        );
        assert_eq!(
            c.skipped,
            names(&[
                "skipping v4: does not meet",
                "skipping v1: withheld, since the check cannot place v2",
            ])
        );
        assert_eq!((c.refused, c.withheld), (1, 2));
        honest(&tags, &c);
    }

    #[test]
    fn a_moved_version_gives_only_newer_ones() {
        let v = version("v2", "c-old");
        // v2 now names another commit, dated after where v2 stood.
        let mut tags = vec![
            tag("v1", 10, Status::Satisfies),
            tag("v2", 25, Status::Satisfies),
        ];
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, Some(20))), 4);
        assert_eq!(got, names(&["v2"]));
        assert_eq!(tags[c.versions[0]].commit(), Some("c-v2"));
        assert!(
            c.notes[0]
                .starts_with("tag v2 now points at commit c-v2, not at c-old; returning only"),
            "{:?}",
            c.notes
        );
        // Dated before: nothing.
        let mut tags = vec![
            tag("v1", 10, Status::Satisfies),
            tag("v2", 15, Status::Satisfies),
        ];
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, Some(20))), 4);
        assert!(got.is_empty());
        assert_eq!(c.older, 2);
        // Not remembered: it cannot be placed, since the chain now there
        // says nothing about where the old one stood.
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert!(got.is_empty());
        assert!(c.notes[0].contains("no record of where v2 at c-old stood"));
        assert_eq!(c.withheld, 2);
    }

    #[test]
    fn a_rejected_chain_never_places_the_version() {
        let v = version("v2", "c-v2");
        // Someone without a key spoilt v2 and gave its inner layer an early
        // date: the version must not move back to it.
        let spoilt = || tag("v2", 5, Status::Unknown);
        let truth = [("v2", refused("rejected: malformed tag object"))];
        let mut tags = vec![
            tag("v1", 10, Status::Satisfies),
            spoilt(),
            tag("v3", 30, Status::Unknown),
        ];
        let (c, got, _) = settle(&mut tags, &truth, Some(&given(&v, None)), 4);
        assert!(got.is_empty(), "{c:?}");
        assert!(c.notes[0].starts_with(
            "tag v2 no longer satisfies \"2 of humans\", and this check has no record"
        ));
        assert!(c
            .skipped
            .contains(&"skipping v2: rejected: malformed tag object".to_string()));
        // Remembered at 20: v3 only, never v1, nor v2 itself.
        let mut tags = vec![
            tag("v1", 10, Status::Satisfies),
            spoilt(),
            tag("v3", 30, Status::Unknown),
        ];
        let (c, got, _) = settle(&mut tags, &truth, Some(&given(&v, Some(20))), 4);
        assert_eq!(got, names(&["v3"]));
        assert_eq!((c.refused, c.older), (1, 1));
        honest(&tags, &c);
    }

    #[test]
    fn a_remembered_position_wins_over_the_current_date() {
        // v2 re-signed at the same commit with a later date: it stays where
        // the check returned it, so v3 (between) is not skipped.
        let v = version("v2", "c-v2");
        let mut tags = vec![
            tag("v2", 50, Status::Satisfies),
            tag("v3", 30, Status::Satisfies),
            tag("v1", 10, Status::Satisfies),
        ];
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, Some(20))), 4);
        assert_eq!(got, names(&["v2", "v3"]));
        assert!(c.notes.is_empty());
    }

    #[test]
    fn a_version_outside_the_filter() {
        let v = version("test-1", "c-test-1");
        let g = Given {
            version: &v,
            wanted: false,
            remembered: None,
        };
        let mut tags = vec![tag("v1", 10, Status::Satisfies)];
        let (c, got, _) = settle(&mut tags, &[], Some(&g), 4);
        assert!(got.is_empty());
        assert!(c.notes[0].starts_with("tag test-1 does not match source.tag_filter, and"));
        let g = Given {
            remembered: Some(5),
            ..g
        };
        let (c, got, _) = settle(&mut tags, &[], Some(&g), 4);
        assert_eq!(got, names(&["v1"]));
        assert!(
            c.notes[0].starts_with("tag test-1 does not match source.tag_filter; returning only")
        );
    }

    /// v1..v4, dated 10..40, all satisfying once verified.
    fn four() -> Vec<Tag> {
        vec![
            tag("v3", 30, Status::Unknown),
            tag("v1", 10, Status::Unknown),
            tag("v4", 40, Status::Unknown),
            tag("v2", 20, Status::Unknown),
        ]
    }

    #[test]
    fn in_order_returns_one_promotion_per_check() {
        let mut tags = four();
        let v = version("v1", "c-v1");
        let (c, got, rounds) = settle_with(&mut tags, &[], Some(&given(&v, None)), 4, true);
        assert_eq!(got, names(&["v1", "v2"]));
        assert_eq!(
            rounds,
            vec![names(&["v1", "v2", "v3", "v4"])],
            "all verified"
        );
        assert_eq!(
            waiting_line(&tags, &c).as_deref(),
            Some("v3 and 1 more wait: in_order returns one promotion per check")
        );
        assert!(c.skipped.is_empty() && c.notes.is_empty(), "{c:?}");
        assert_eq!(
            summary(4, 4, 0, &c, RULE, Some(&v)),
            "4 tags: 4 verified now, 0 from the cache; 2 versions for \"2 of humans\", 2 not returned (2 waiting (in_order))"
        );
        honest(&tags, &c);

        // The next check starts from v2, and so on: none is skipped.
        let v = version("v2", "c-v2");
        let (c, got, _) = settle_with(&mut tags, &[], Some(&given(&v, None)), 4, true);
        assert_eq!(got, names(&["v2", "v3"]));
        assert_eq!(
            waiting_line(&tags, &c).as_deref(),
            Some("v4 waits: in_order returns one promotion per check")
        );
        assert_eq!((c.older, c.waiting.len()), (1, 1));
        honest(&tags, &c);
        let v = version("v4", "c-v4");
        let (c, got, _) = settle_with(&mut tags, &[], Some(&given(&v, None)), 4, true);
        assert_eq!(got, names(&["v4"]));
        assert_eq!(waiting_line(&tags, &c), None);
        assert_eq!(c.older, 3);
        honest(&tags, &c);

        // Without in_order, every newer one.
        let v = version("v1", "c-v1");
        let (c, got, _) = settle_with(&mut tags, &[], Some(&given(&v, None)), 4, false);
        assert_eq!(got, names(&["v1", "v2", "v3", "v4"]));
        assert!(c.waiting.is_empty());
    }

    #[test]
    fn in_order_skips_refused_tags_and_a_first_check_gives_the_latest() {
        // A refused tag is not a promotion: the next one is the next
        // satisfying tag, and the refused one is named.
        let mut tags = four();
        let truth = [("v2", refused("does not meet \"2 of humans\""))];
        let v = version("v1", "c-v1");
        let (c, got, _) = settle_with(&mut tags, &truth, Some(&given(&v, None)), 4, true);
        assert_eq!(got, names(&["v1", "v3"]));
        assert_eq!(
            c.skipped,
            names(&["skipping v2: does not meet \"2 of humans\""])
        );
        assert_eq!(
            waiting_line(&tags, &c).as_deref(),
            Some("v4 waits: in_order returns one promotion per check")
        );
        honest(&tags, &c);

        // A first check: the latest only, as without in_order.
        let mut tags = four();
        let (c, got, rounds) = settle_with(&mut tags, &[], None, 1, true);
        assert_eq!(got, names(&["v4"]));
        assert_eq!(rounds, vec![names(&["v4"])]);
        assert!(c.waiting.is_empty());
        assert_eq!(c.not_latest, 3);
        honest(&tags, &c);
    }

    #[test]
    fn in_order_from_a_vanished_version_gives_the_next_one_or_nothing() {
        // v2 vanished; the check returned it at 20: only v3, and v4 waits.
        let mut tags: Vec<Tag> = four().into_iter().filter(|t| t.name != "v2").collect();
        let v = version("v2", "c-v2");
        let (c, got, _) = settle_with(&mut tags, &[], Some(&given(&v, Some(20))), 4, true);
        assert_eq!(got, names(&["v3"]));
        assert_eq!(
            c.notes,
            names(&["tag v2 no longer exists; returning only the next satisfying version newer than it (it was tagged 1970-01-01T00:00:20Z), never an older one: in_order returns one promotion per check"])
        );
        assert_eq!(
            waiting_line(&tags, &c).as_deref(),
            Some("v4 waits: in_order returns one promotion per check")
        );
        assert_eq!(c.older, 1);
        honest(&tags, &c);

        // Moved to a commit dated after where it stood: the moved tag is
        // the next one, never v1.
        let mut tags = four();
        tags[3].placed = Some(("c-v2-new".into(), 25));
        let (c, got, _) = settle_with(&mut tags, &[], Some(&given(&v, Some(20))), 4, true);
        assert_eq!(got, names(&["v2"]));
        assert_eq!(tags[c.versions[0]].commit(), Some("c-v2-new"));
        assert_eq!(c.waiting.len(), 2);
        honest(&tags, &c);

        // Not remembered: nothing, as without in_order.
        let mut tags: Vec<Tag> = four().into_iter().filter(|t| t.name != "v2").collect();
        let (c, got, _) = settle_with(&mut tags, &[], Some(&given(&v, None)), 4, true);
        assert!(got.is_empty());
        assert!(c.waiting.is_empty());
        assert_eq!(c.withheld, 3);
        honest(&tags, &c);
    }

    #[test]
    fn the_summary_counts_every_tag() {
        let c = Chosen {
            versions: vec![0],
            refused: 2,
            older: 3,
            ..Chosen::default()
        };
        let v = version("v2", "c");
        assert_eq!(
            summary(6, 1, 4, &c, RULE, Some(&v)),
            "6 tags: 1 verified now, 4 from the cache; 1 version for \"2 of humans\", 5 not returned (2 refused, 3 older than v2)"
        );
        let c = Chosen {
            versions: vec![0],
            ..Chosen::default()
        };
        assert_eq!(
            summary(1, 0, 1, &c, RULE, None),
            "1 tag: 0 verified now, 1 from the cache; 1 version for \"2 of humans\", 0 not returned"
        );
    }

    #[test]
    fn tags_that_are_no_chain_are_counted_in_one_line() {
        let legacy = |name: &str, placed: bool| Tag {
            placed: placed.then(|| (format!("c-{name}"), 1)),
            ..tag(name, 1, Status::NotChain)
        };
        let mut tags: Vec<Tag> = (1..=40)
            .rev()
            .map(|i| legacy(&format!("v0.{i}"), i % 2 == 0))
            .collect();
        tags.push(tag("v1", 100, Status::Unknown));
        tags.push(tag("v2", 200, refused("does not meet")));
        let (c, got, rounds) = settle(&mut tags, &[], None, 4);
        assert_eq!(got, names(&["v1"]));
        assert_eq!(rounds, vec![names(&["v1"])], "no legacy tag is verified");
        assert_eq!(c.skipped, names(&["skipping v2: does not meet"]));
        assert_eq!(
            not_chains_line(&c).as_deref(),
            Some("40 tags are not sigtag chains (lightweight or unsigned): v0.1, v0.2, v0.3 and 37 more; they are never returned")
        );
        assert_eq!(
            summary(42, 1, 0, &c, RULE, None),
            "42 tags: 1 verified now, 0 from the cache; 1 version for \"2 of humans\", 41 not returned (40 not sigtag chains, 1 refused)"
        );
        honest(&tags, &c);

        // From a version, and from one that cannot be placed: counted the
        // same way.
        let v = version("v1", "c-v1");
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert_eq!(got, names(&["v1"]));
        assert_eq!((c.not_chains.len(), c.refused), (40, 1));
        honest(&tags, &c);
        let v = version("v9", "c-v9");
        let (c, got, _) = settle(&mut tags, &[], Some(&given(&v, None)), 4);
        assert!(got.is_empty());
        assert_eq!((c.not_chains.len(), c.refused, c.withheld), (40, 1, 1));
        honest(&tags, &c);

        let one = Chosen {
            not_chains: names(&["old"]),
            ..Chosen::default()
        };
        assert_eq!(
            not_chains_line(&one).as_deref(),
            Some(
                "1 tag is not a sigtag chain (lightweight or unsigned): old; it is never returned"
            )
        );
        assert_eq!(
            summary(1, 0, 0, &one, RULE, None),
            "1 tag: 0 verified now, 0 from the cache; 0 versions for \"2 of humans\", 1 not returned (1 not a sigtag chain)"
        );
        assert_eq!(not_chains_line(&Chosen::default()), None);
    }

    #[test]
    fn names_go_in_natural_order() {
        let mut v = vec![
            "v0.10", "v0.2", "v1", "release", "v0.1", "v0.02", "v10.0", "v2.0",
        ];
        v.sort_by(|a, b| natural(a, b));
        assert_eq!(
            v,
            ["release", "v0.1", "v0.02", "v0.2", "v0.10", "v1", "v2.0", "v10.0"]
        );
    }

    #[test]
    fn the_log_names_at_most_fifty_tags() {
        let lines: Vec<String> = (0..53).map(|i| format!("skipping t{i}: x")).collect();
        let out = capped(&lines, MAX_NAMED);
        assert_eq!(out.len(), 51);
        assert_eq!(out[49], "skipping t49: x");
        assert_eq!(out[50], "... and 3 more");
        assert_eq!(capped(&lines[..50], MAX_NAMED).len(), 50);
    }
}
