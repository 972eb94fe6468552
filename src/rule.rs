//! The rule grammar and its evaluation. Pure: no I/O, no keys, no git.
//!
//! ```text
//! rule  := and ("or" and)*
//! and   := atom ("and" atom)*
//! atom  := N "of" GROUP [qualifier] | "(" rule ")"
//! qualifier := "besides" "author" | "tested"
//! ```
//!
//! `N of G` holds when at least N distinct signers of group G have a
//! signature that counts. Each atom counts on its own: one signer in two
//! groups counts in both.
//!
//! The qualifiers are transition atoms (DESIGN §6); they speak of the
//! change a promotion brings, which the verdict computes from the
//! repository and hands over in [`Facts::transition`]:
//!
//! - `N of G besides author`: N signers of G count, and for every commit
//!   of the tag's range at least N of them are not that commit's author
//!   (authors are matched to signers by the verdict; an author who matches
//!   no signer takes nobody away). An empty range (a tag on its base's
//!   commit) still needs N signers of G.
//! - `N of G tested`: N signers of G each signed a layer whose
//!   `Sigtag-Tested-From` trailer names the commit of the tag's base, or
//!   `none` when the tag has no base.
//!
//! An atom takes at most one qualifier: "tested" and "besides author" are
//! two atoms joined by "and". Without the facts a transition atom needs,
//! it does not hold: evaluation fails closed. Rules without qualifiers
//! parse, print and evaluate exactly as before the qualifiers existed.

use crate::message::TestedFrom;
use git2::Oid;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What an atom asks of the signers it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Qualifier {
    /// `N of G`: signatures that count, anywhere in the chain.
    #[default]
    Plain,
    /// `N of G besides author`: for every commit of the range, N of them
    /// are not its author.
    BesidesAuthor,
    /// `N of G tested`: N of them signed a layer recording the transition
    /// from the tag's base.
    Tested,
}

impl Qualifier {
    /// The words after the group, with a leading space ("" for none).
    pub fn words(self) -> &'static str {
        match self {
            Qualifier::Plain => "",
            Qualifier::BesidesAuthor => " besides author",
            Qualifier::Tested => " tested",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Atom {
        n: usize,
        group: String,
        qualifier: Qualifier,
    },
    And(Vec<Rule>),
    Or(Vec<Rule>),
}

/// A syntax error, with the 1-based column where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Num(usize),
    Word(String),
    Open,
    Close,
}

use crate::limits::MAX_RULE_DEPTH as MAX_DEPTH;
pub use crate::limits::MAX_RULE_LEN;

fn tokenize(s: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let mut out = Vec::new();
    let mut chars = s.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let col = i + 1;
        if c.is_whitespace() {
        } else if c == '(' {
            out.push((col, Tok::Open));
        } else if c == ')' {
            out.push((col, Tok::Close));
        } else if c.is_ascii_digit() {
            let mut text = String::from(c);
            while let Some((_, d)) = chars.next_if(|&(_, d)| d.is_ascii_digit()) {
                text.push(d);
            }
            let n = text.parse::<usize>().map_err(|_| SyntaxError {
                column: col,
                message: format!("{text} is too large"),
            })?;
            out.push((col, Tok::Num(n)));
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut text = String::from(c);
            while let Some((_, d)) =
                chars.next_if(|&(_, d)| d.is_ascii_alphanumeric() || matches!(d, '_' | '-' | '.'))
            {
                text.push(d);
            }
            out.push((col, Tok::Word(text)));
        } else {
            return Err(SyntaxError {
                column: col,
                message: format!("unexpected character '{c}'"),
            });
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end_col: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end_col, |(c, _)| *c)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            column: self.col(),
            message: message.into(),
        })
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn rule(&mut self, depth: usize) -> Result<Rule, SyntaxError> {
        if depth > MAX_DEPTH {
            return self.err("too many nested parentheses");
        }
        let mut alts = vec![self.and(depth)?];
        while self.is_word("or") {
            self.pos += 1;
            alts.push(self.and(depth)?);
        }
        Ok(match <[Rule; 1]>::try_from(alts) {
            Ok([one]) => one,
            Err(alts) => Rule::Or(alts),
        })
    }

    fn and(&mut self, depth: usize) -> Result<Rule, SyntaxError> {
        let mut parts = vec![self.atom(depth)?];
        while self.is_word("and") {
            self.pos += 1;
            parts.push(self.atom(depth)?);
        }
        Ok(match <[Rule; 1]>::try_from(parts) {
            Ok([one]) => one,
            Err(parts) => Rule::And(parts),
        })
    }

    fn atom(&mut self, depth: usize) -> Result<Rule, SyntaxError> {
        match self.peek().cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let inner = self.rule(depth + 1)?;
                if self.peek() != Some(&Tok::Close) {
                    return self.err("expected ')'");
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Num(n)) => {
                if n == 0 {
                    return self.err("a count must be at least 1");
                }
                self.pos += 1;
                if !self.is_word("of") {
                    return self.err(format!("expected \"of\" after {n}"));
                }
                self.pos += 1;
                let group = match self.peek().cloned() {
                    Some(Tok::Word(g)) if g != "and" && g != "or" && g != "of" => {
                        self.pos += 1;
                        g
                    }
                    _ => return self.err(format!("expected a group name after \"{n} of\"")),
                };
                let qualifier = self.qualifier()?;
                if self.is_word("besides") || self.is_word("tested") {
                    return self.err(
                        "an atom takes one of \"besides author\" and \"tested\"; \
                         write two atoms joined by \"and\"",
                    );
                }
                Ok(Rule::Atom {
                    n,
                    group,
                    qualifier,
                })
            }
            Some(Tok::Close) => self.err("unexpected ')'"),
            Some(Tok::Word(w)) => self.err(format!("expected a number or '(' but found \"{w}\"")),
            None => self.err("the rule ends too early: expected \"N of GROUP\""),
        }
    }
}

impl Parser {
    /// The qualifier after a group, if any.
    fn qualifier(&mut self) -> Result<Qualifier, SyntaxError> {
        if self.is_word("tested") {
            self.pos += 1;
            return Ok(Qualifier::Tested);
        }
        if !self.is_word("besides") {
            return Ok(Qualifier::Plain);
        }
        self.pos += 1;
        if !self.is_word("author") {
            return self.err("expected \"author\" after \"besides\"");
        }
        self.pos += 1;
        Ok(Qualifier::BesidesAuthor)
    }
}

impl Rule {
    /// Parses a rule; errors carry the column.
    pub fn parse(s: &str) -> Result<Rule, SyntaxError> {
        if s.len() > MAX_RULE_LEN {
            return Err(SyntaxError {
                column: MAX_RULE_LEN,
                message: format!("a rule may be at most {MAX_RULE_LEN} characters"),
            });
        }
        let toks = tokenize(s)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end_col: s.chars().count() + 1,
        };
        let rule = p.rule(0)?;
        if p.pos != p.toks.len() {
            return p.err("expected \"and\", \"or\" or the end of the rule");
        }
        Ok(rule)
    }

    /// Every `(N, group)` the rule mentions.
    pub fn atoms(&self) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        self.collect_atoms(&mut out);
        out
    }

    fn collect_atoms<'a>(&'a self, out: &mut Vec<(usize, &'a str)>) {
        match self {
            Rule::Atom { n, group, .. } => out.push((*n, group.as_str())),
            Rule::And(rs) | Rule::Or(rs) => rs.iter().for_each(|r| r.collect_atoms(out)),
        }
    }

    /// Does any atom carry `qualifier`?
    pub fn has(&self, qualifier: Qualifier) -> bool {
        match self {
            Rule::Atom { qualifier: q, .. } => *q == qualifier,
            Rule::And(rs) | Rule::Or(rs) => rs.iter().any(|r| r.has(qualifier)),
        }
    }

    /// Does the rule speak of transitions (`besides author` or `tested`),
    /// so that judging a tag needs its base?
    pub fn has_transitions(&self) -> bool {
        self.has(Qualifier::BesidesAuthor) || self.has(Qualifier::Tested)
    }

    /// Evaluates the rule over `facts`: for each group, the set of
    /// distinct signers of that group whose signatures count, and for
    /// transition atoms the facts of the tag's transition. A plain
    /// closure `&|group| ...` stands for facts without a transition. The
    /// evaluation owns what it needs of the rule, so it outlives it.
    pub fn eval<'f>(&self, facts: impl Into<Facts<'f>>) -> Eval {
        self.eval_facts(&facts.into())
    }

    fn eval_facts(&self, facts: &Facts<'_>) -> Eval {
        match self {
            Rule::Atom {
                n,
                group,
                qualifier,
            } => {
                let have = (facts.counted)(group);
                let node = Node::Atom {
                    n: *n,
                    group: group.clone(),
                    qualifier: *qualifier,
                };
                let plain = Eval {
                    node,
                    holds: have.len() >= *n,
                    have,
                    children: Vec::new(),
                    authors: None,
                    tested: None,
                };
                match qualifier {
                    Qualifier::Plain => plain,
                    Qualifier::BesidesAuthor => besides_author(plain, *n, facts.transition),
                    Qualifier::Tested => tested(plain, *n, facts.transition),
                }
            }
            Rule::And(rs) | Rule::Or(rs) => {
                let children: Vec<Eval> = rs.iter().map(|r| r.eval_facts(facts)).collect();
                let (node, holds) = if matches!(self, Rule::And(_)) {
                    (Node::All, children.iter().all(|c| c.holds))
                } else {
                    (Node::Any, children.iter().any(|c| c.holds))
                };
                Eval {
                    node,
                    holds,
                    have: BTreeSet::new(),
                    children,
                    authors: None,
                    tested: None,
                }
            }
        }
    }
}

/// `N of G besides author` over the counted signers of `plain`.
fn besides_author(plain: Eval, n: usize, transition: Option<&TransitionFacts>) -> Eval {
    let Some(range) = transition.and_then(|t| t.range.as_ref()) else {
        // The range is unknown: fail closed.
        return Eval {
            holds: false,
            ..plain
        };
    };
    let mut found = AuthorFindings {
        range: range.len(),
        short: Vec::new(),
        worst: None,
        falling_short: 0,
        need: n.saturating_sub(plain.have.len()),
    };
    for commit in range {
        let besides: BTreeSet<String> = plain.have.difference(&commit.signers).cloned().collect();
        if besides.len() >= n {
            continue;
        }
        let need = n - besides.len();
        found.falling_short += 1;
        let short = || ShortCommit {
            commit: commit.commit.clone(),
            author: commit.author.clone(),
            authors: commit.signers.clone(),
            besides: besides.clone(),
            need,
        };
        // The first commit that needs the most, in range order.
        if found.worst.as_ref().is_none_or(|w| need > w.need) {
            found.worst = Some(short());
        }
        found.need = found.need.max(need);
        if found.short.len() < MAX_SHORT_COMMITS {
            found.short.push(short());
        }
    }
    Eval {
        holds: plain.holds && found.falling_short == 0,
        authors: Some(found),
        ..plain
    }
}

/// `N of G tested` over the counted signers of `plain`.
fn tested(plain: Eval, n: usize, transition: Option<&TransitionFacts>) -> Eval {
    let Some(t) = transition else {
        return Eval {
            holds: false,
            have: BTreeSet::new(),
            ..plain
        };
    };
    let expected = t.expected();
    let none = BTreeSet::new();
    let (have, other): (BTreeSet<String>, BTreeSet<String>) = plain
        .have
        .iter()
        .cloned()
        .partition(|s| t.tested.get(s).is_some_and(|v| v.contains(&expected)));
    let other = other
        .into_iter()
        .map(|signer| {
            let from = t.tested.get(&signer).unwrap_or(&none).clone();
            (signer, from)
        })
        .collect();
    Eval {
        holds: have.len() >= n,
        have,
        tested: Some(TestedFindings {
            expected,
            base: t.base.clone(),
            other,
            tags: t.tags.clone(),
        }),
        ..plain
    }
}

/// The most commits that fall short an evaluation keeps one by one; the
/// rest are counted ([`AuthorFindings::falling_short`]).
pub const MAX_SHORT_COMMITS: usize = 20;

/// What a rule is evaluated over: plain data the verdict gathers.
pub struct Facts<'a> {
    /// The distinct signers of a group whose signatures count.
    pub counted: &'a dyn Fn(&str) -> BTreeSet<String>,
    /// The tag's transition, for transition atoms; `None`: unknown, and
    /// every transition atom fails.
    pub transition: Option<&'a TransitionFacts>,
}

impl<'a, F: Fn(&str) -> BTreeSet<String>> From<&'a F> for Facts<'a> {
    fn from(counted: &'a F) -> Facts<'a> {
        Facts {
            counted,
            transition: None,
        }
    }
}

/// The facts of one promotion's transition (DESIGN §6).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionFacts {
    /// The base: its tag and commit; `None` when the tag has none.
    pub base: Option<(String, Oid)>,
    /// The commits of the range, in range order, with their authors;
    /// `None` when not computed (a rule without `besides author`).
    pub range: Option<Vec<Authored>>,
    /// For each signer whose signatures count: the `Sigtag-Tested-From`
    /// values of the layers it signed (well-formed trailers only).
    pub tested: BTreeMap<String, BTreeSet<TestedFrom>>,
    /// Tag names for commits that tested-from values name, for people.
    pub tags: BTreeMap<Oid, String>,
}

impl TransitionFacts {
    /// What a `tested` atom asks a layer to record: the base's commit, or
    /// `none` when the tag has no base.
    pub fn expected(&self) -> TestedFrom {
        match &self.base {
            Some((_, commit)) => TestedFrom::Commit(*commit),
            None => TestedFrom::Nothing,
        }
    }
}

/// One commit of a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authored {
    /// The commit id (hex).
    pub commit: String,
    /// Its author, `Name <email>`.
    pub author: String,
    /// The signers the author's email belongs to (usually none or one).
    pub signers: BTreeSet<String>,
}

/// What a `besides author` atom found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorFindings {
    /// How many commits the range holds.
    pub range: usize,
    /// The first [`MAX_SHORT_COMMITS`] commits that fall short, in range
    /// order.
    pub short: Vec<ShortCommit>,
    /// The first commit, in range order, of those that need the most.
    pub worst: Option<ShortCommit>,
    /// How many commits fall short in all.
    pub falling_short: usize,
    /// The most signatures any commit still needs (at least what the
    /// count alone needs).
    pub need: usize,
}

/// A commit of the range that does not have N signers besides its author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortCommit {
    pub commit: String,
    /// `Name <email>`.
    pub author: String,
    /// The signers the author is (matched by email).
    pub authors: BTreeSet<String>,
    /// The counted signers of the group who are not its author.
    pub besides: BTreeSet<String>,
    /// How many more signers of the group it needs.
    pub need: usize,
}

/// What a `tested` atom found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestedFindings {
    /// What a layer had to record.
    pub expected: TestedFrom,
    /// The base (tag, commit), `None` when the tag has none.
    pub base: Option<(String, Oid)>,
    /// The counted signers of the group whose layers recorded something
    /// else (or nothing: an empty set), with what they recorded.
    pub other: Vec<(String, BTreeSet<TestedFrom>)>,
    /// Tag names for the commits recorded, for people.
    pub tags: BTreeMap<Oid, String>,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Atom {
                n,
                group,
                qualifier,
            } => write!(f, "{n} of {group}{}", qualifier.words()),
            Rule::And(rs) => join(f, rs, " and ", |r| matches!(r, Rule::Or(_))),
            Rule::Or(rs) => join(f, rs, " or ", |r| matches!(r, Rule::And(_))),
        }
    }
}

fn join(
    f: &mut fmt::Formatter<'_>,
    rs: &[Rule],
    sep: &str,
    paren: fn(&Rule) -> bool,
) -> fmt::Result {
    for (i, r) in rs.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        if paren(r) {
            write!(f, "({r})")?;
        } else {
            write!(f, "{r}")?;
        }
    }
    Ok(())
}

/// What one node of an evaluated rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// `N of GROUP`, with its qualifier.
    Atom {
        n: usize,
        group: String,
        qualifier: Qualifier,
    },
    /// "and": every child must hold.
    All,
    /// "or": one child must hold.
    Any,
}

/// The evaluation of a rule, node by node, shaped like the rule. Plain
/// data: it borrows nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eval {
    pub node: Node,
    pub holds: bool,
    /// For an atom: the distinct signers of its group that count (for a
    /// `tested` atom: those whose layers recorded the expected transition).
    pub have: BTreeSet<String>,
    /// For "and" and "or": the evaluations of the parts, in rule order.
    pub children: Vec<Eval>,
    /// For a `besides author` atom whose range was known: what it found.
    pub authors: Option<AuthorFindings>,
    /// For a `tested` atom whose transition was known: what it found.
    pub tested: Option<TestedFindings>,
}

/// What is still missing for a node to hold.
#[derive(Debug, Clone)]
struct Shortfall {
    text: String,
    /// Signatures still needed, to pick the cheapest alternative of an "or".
    cost: usize,
}

impl Eval {
    /// What is still missing, as a rule-like text ("1 of pipelines"), or
    /// `None` when the rule holds.
    pub fn missing(&self) -> Option<String> {
        self.shortfall().map(|s| s.text)
    }

    /// Like [`Eval::missing`], but naming who already counts:
    /// "1 more of humans other than alice".
    pub fn missing_explained(&self) -> Option<String> {
        self.shortfall_with(true).map(|s| s.text)
    }

    fn shortfall(&self) -> Option<Shortfall> {
        self.shortfall_with(false)
    }

    fn shortfall_with(&self, explain: bool) -> Option<Shortfall> {
        if self.holds {
            return None;
        }
        match &self.node {
            Node::Atom {
                n,
                group,
                qualifier,
            } => Some(self.atom_shortfall(*n, group, *qualifier, explain)),
            Node::All => {
                // What is missing is always a conjunction ("or" contributes
                // its cheapest alternative), so no parentheses are needed.
                let parts: Vec<Shortfall> = self
                    .children
                    .iter()
                    .filter_map(|c| c.shortfall_with(explain))
                    .collect();
                Some(Shortfall {
                    cost: parts.iter().map(|p| p.cost).sum(),
                    text: parts
                        .iter()
                        .map(|p| p.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" and "),
                })
            }
            Node::Any => self
                .children
                .iter()
                .filter_map(|c| c.shortfall_with(explain))
                .min_by_key(|s| s.cost),
        }
    }
}

impl Eval {
    fn atom_shortfall(
        &self,
        n: usize,
        group: &str,
        qualifier: Qualifier,
        explain: bool,
    ) -> Shortfall {
        let need = n - self.have.len().min(n);
        let others = |names: &BTreeSet<String>| {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            names.join(", ")
        };
        let count = |need: usize, have: &BTreeSet<String>| {
            if explain && !have.is_empty() {
                format!("{need} more of {group} other than {}", others(have))
            } else {
                format!("{need} of {group}")
            }
        };
        match qualifier {
            Qualifier::Plain => Shortfall {
                text: count(need, &self.have),
                cost: need,
            },
            Qualifier::BesidesAuthor => match &self.authors {
                None => Shortfall {
                    text: format!("{n} of {group} besides author (the range is unknown)"),
                    cost: n,
                },
                Some(found) => match &found.worst {
                    None => Shortfall {
                        text: format!("{} besides author", count(need, &self.have)),
                        cost: need,
                    },
                    Some(c) => {
                        let short: String = c.commit.chars().take(12).collect();
                        let who = if c.authors.is_empty() {
                            c.author.clone()
                        } else {
                            others(&c.authors)
                        };
                        let more = found.falling_short.saturating_sub(1);
                        let text = if explain {
                            let mut t = format!(
                                "{} besides {who}, who authored {short}",
                                count(c.need, &c.besides)
                            );
                            if more > 0 {
                                t.push_str(&format!(
                                    " ({more} more commit{} of the range fall{} short)",
                                    if more == 1 { "" } else { "s" },
                                    if more == 1 { "s" } else { "" }
                                ));
                            }
                            t
                        } else {
                            let mut t = format!(
                                "{} of {group} besides the author of {short} ({who})",
                                c.need
                            );
                            if more > 0 {
                                t.push_str(&format!(
                                    " and of {more} more commit{}",
                                    if more == 1 { "" } else { "s" }
                                ));
                            }
                            t
                        };
                        Shortfall {
                            text,
                            cost: found.need,
                        }
                    }
                },
            },
            Qualifier::Tested => {
                let from = match &self.tested {
                    None => "the tag's base (unknown)".to_string(),
                    Some(t) => match &t.base {
                        Some((tag, commit)) => {
                            let short: String = commit.to_string().chars().take(12).collect();
                            format!("{tag} ({short})")
                        }
                        None => "none".to_string(),
                    },
                };
                Shortfall {
                    text: format!("{} tested from {from}", count(need, &self.have)),
                    cost: need,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_and_prints() {
        let r = Rule::parse("2 of humans and 1 of pipelines").unwrap();
        assert_eq!(r.to_string(), "2 of humans and 1 of pipelines");
        let r = Rule::parse(" (1 of a or 2 of b) and 1 of c ").unwrap();
        assert_eq!(r.to_string(), "(1 of a or 2 of b) and 1 of c");
        let r = Rule::parse("1 of a and 1 of b or 1 of c").unwrap();
        assert!(matches!(r, Rule::Or(_)));
    }

    #[test]
    fn syntax_errors_have_columns() {
        let e = Rule::parse("2 humans").unwrap_err();
        assert_eq!(e.to_string(), "column 3: expected \"of\" after 2");
        let e = Rule::parse("2 of humans and").unwrap_err();
        assert_eq!(e.column, 16);
        let e = Rule::parse("(1 of a").unwrap_err();
        assert_eq!(e.to_string(), "column 8: expected ')'");
        let e = Rule::parse("0 of a").unwrap_err();
        assert_eq!(e.column, 1);
        let e = Rule::parse("1 of a 1 of b").unwrap_err();
        assert_eq!(e.column, 8);
        assert!(Rule::parse("1 of a; rm").is_err());
        assert!(Rule::parse("").is_err());
        assert!(Rule::parse(&"(".repeat(100)).is_err());
    }

    #[test]
    fn evaluates_distinct_signers_per_group() {
        let r = Rule::parse("2 of humans and 1 of pipelines").unwrap();
        let only_alice = |g: &str| {
            if g == "humans" {
                set(&["alice"])
            } else {
                set(&[])
            }
        };
        let e = r.eval(&only_alice);
        assert!(!e.holds);
        assert_eq!(e.missing().unwrap(), "1 of humans and 1 of pipelines");
        assert_eq!(
            e.missing_explained().unwrap(),
            "1 more of humans other than alice and 1 of pipelines"
        );
        let full = |g: &str| {
            if g == "humans" {
                set(&["alice", "bob"])
            } else {
                set(&["staging"])
            }
        };
        let e = r.eval(&full);
        assert!(e.holds);
        assert_eq!(e.missing(), None);
    }

    #[test]
    fn qualifiers_parse_print_and_refuse_mistakes() {
        let r = Rule::parse("2 of humans and 1 of cto besides author").unwrap();
        assert_eq!(r.to_string(), "2 of humans and 1 of cto besides author");
        assert!(r.has(Qualifier::BesidesAuthor) && !r.has(Qualifier::Tested));
        assert!(r.has_transitions());
        let r =
            Rule::parse("(2 of humans besides author or 3 of humans) and 1 of pipelines tested")
                .unwrap();
        assert_eq!(
            r.to_string(),
            "(2 of humans besides author or 3 of humans) and 1 of pipelines tested"
        );
        assert!(r.has(Qualifier::Tested));
        assert!(!Rule::parse("2 of humans and 1 of pipelines")
            .unwrap()
            .has_transitions());
        // A group may be named like a qualifier word; the group comes first.
        let r = Rule::parse("1 of tested tested and 1 of besides").unwrap();
        assert_eq!(r.to_string(), "1 of tested tested and 1 of besides");
        for (text, column, message) in [
            ("1 of a besides", 15, "expected \"author\" after \"besides\""),
            ("1 of a besides authors", 16, "expected \"author\" after \"besides\""),
            (
                "1 of a tested besides author",
                15,
                "an atom takes one of \"besides author\" and \"tested\"; write two atoms joined by \"and\"",
            ),
            (
                "1 of a besides author tested",
                23,
                "an atom takes one of \"besides author\" and \"tested\"; write two atoms joined by \"and\"",
            ),
            ("1 of a tested tested", 15, "an atom takes one of \"besides author\" and \"tested\"; write two atoms joined by \"and\""),
            ("1 of a author", 8, "expected \"and\", \"or\" or the end of the rule"),
            ("(1 of a) tested", 10, "expected \"and\", \"or\" or the end of the rule"),
        ] {
            let e = Rule::parse(text).unwrap_err();
            assert_eq!((e.column, e.message.as_str()), (column, message), "{text}");
        }
    }

    fn authored(commit: &str, author: &str, signers: &[&str]) -> Authored {
        Authored {
            commit: commit.to_string(),
            author: author.to_string(),
            signers: set(signers),
        }
    }

    fn facts_eval(
        rule: &Rule,
        counted: &dyn Fn(&str) -> BTreeSet<String>,
        t: &TransitionFacts,
    ) -> Eval {
        rule.eval(Facts {
            counted,
            transition: Some(t),
        })
    }

    #[test]
    fn besides_author_needs_signers_who_did_not_write_each_commit() {
        // The CTO example: carol (cto and humans) wrote a commit; the tag
        // is signed by carol and alice.
        let r = Rule::parse("2 of humans and 1 of cto besides author").unwrap();
        let carol_c = "c".repeat(40);
        let t = TransitionFacts {
            range: Some(vec![
                authored(&"a".repeat(40), "Alice <alice@example.org>", &["alice"]),
                authored(&carol_c, "Carol <carol@example.org>", &["carol"]),
                authored(&"e".repeat(40), "Eve <eve@example.org>", &[]),
            ]),
            ..TransitionFacts::default()
        };
        let signed = |names: &'static [&'static str]| {
            move |g: &str| -> BTreeSet<String> {
                let members: &[&str] = match g {
                    "humans" => &["alice", "bob", "carol"],
                    "cto" => &["carol", "dave"],
                    _ => &[],
                };
                names
                    .iter()
                    .filter(|n| members.contains(n))
                    .map(|s| s.to_string())
                    .collect()
            }
        };
        let e = facts_eval(&r, &signed(&["carol", "alice"]), &t);
        assert!(!e.holds);
        assert_eq!(
            e.missing().unwrap(),
            "1 of cto besides the author of cccccccccccc (carol)"
        );
        assert_eq!(
            e.missing_explained().unwrap(),
            "1 of cto besides carol, who authored cccccccccccc"
        );
        let found = e.children[1].authors.as_ref().unwrap();
        assert_eq!((found.range, found.falling_short, found.need), (3, 1, 1));
        assert_eq!(found.short[0].commit, carol_c);
        // Another CTO-group signer co-signs: it holds.
        let e = facts_eval(&r, &signed(&["carol", "alice", "dave"]), &t);
        assert!(e.holds, "{e:?}");
        // Without the range (not computed), it fails closed.
        let unknown = TransitionFacts::default();
        let e = facts_eval(&r, &signed(&["carol", "alice", "dave"]), &unknown);
        assert!(!e.holds);
        assert_eq!(
            e.missing().unwrap(),
            "1 of cto besides author (the range is unknown)"
        );
        let e = r.eval(&signed(&["carol", "alice", "dave"]));
        assert!(!e.holds, "no transition facts at all: fails closed");
    }

    #[test]
    fn besides_author_counts_like_n_of_g_on_an_empty_range() {
        let r = Rule::parse("2 of humans besides author").unwrap();
        let t = TransitionFacts {
            range: Some(Vec::new()),
            ..TransitionFacts::default()
        };
        let e = facts_eval(&r, &|_| set(&["alice"]), &t);
        assert!(!e.holds);
        assert_eq!(e.missing().unwrap(), "1 of humans besides author");
        assert_eq!(
            e.missing_explained().unwrap(),
            "1 more of humans other than alice besides author"
        );
        assert!(facts_eval(&r, &|_| set(&["alice", "bob"]), &t).holds);
        // Many commits by alice: named once, the rest counted.
        let t = TransitionFacts {
            range: Some(
                (0..30)
                    .map(|i| authored(&format!("{i:040}"), "Alice <a@x>", &["alice"]))
                    .collect(),
            ),
            ..TransitionFacts::default()
        };
        let e = facts_eval(&r, &|_| set(&["alice", "bob"]), &t);
        let found = e.authors.as_ref().unwrap();
        assert_eq!(
            (found.falling_short, found.short.len()),
            (30, MAX_SHORT_COMMITS)
        );
        assert_eq!(
            e.missing().unwrap(),
            "1 of humans besides the author of 000000000000 (alice) and of 29 more commits"
        );
        assert_eq!(
            e.missing_explained().unwrap(),
            "1 more of humans other than bob besides alice, who authored 000000000000 (29 more commits of the range fall short)"
        );
        // The commit that needs the most is named, with what it needs.
        let r = Rule::parse("2 of humans besides author or 3 of admins").unwrap();
        let t = TransitionFacts {
            range: Some(vec![
                authored(&"1".repeat(40), "Nobody <n@x>", &[]),
                authored(&"2".repeat(40), "Alice <a@x>", &["alice"]),
            ]),
            ..TransitionFacts::default()
        };
        let e = facts_eval(
            &r,
            &|g| {
                if g == "humans" {
                    set(&["alice"])
                } else {
                    set(&[])
                }
            },
            &t,
        );
        assert_eq!(
            e.missing().unwrap(),
            "2 of humans besides the author of 222222222222 (alice) and of 1 more commit"
        );
    }

    #[test]
    fn tested_needs_layers_recording_the_base() {
        let r = Rule::parse("2 of humans and 1 of pipelines tested").unwrap();
        let base = Oid::from_str(&"b".repeat(40)).unwrap();
        let other = Oid::from_str(&"d".repeat(40)).unwrap();
        let counted = |g: &str| {
            if g == "humans" {
                set(&["alice", "bob"])
            } else {
                set(&["staging"])
            }
        };
        let mut t = TransitionFacts {
            base: Some(("v1.0".into(), base)),
            ..TransitionFacts::default()
        };
        t.tested.insert(
            "staging".into(),
            BTreeSet::from([TestedFrom::Commit(other)]),
        );
        t.tags.insert(other, "v1.1".into());
        let e = facts_eval(&r, &counted, &t);
        assert!(!e.holds);
        assert_eq!(
            e.missing().unwrap(),
            "1 of pipelines tested from v1.0 (bbbbbbbbbbbb)"
        );
        let found = e.children[1].tested.as_ref().unwrap();
        assert_eq!(found.expected, TestedFrom::Commit(base));
        assert_eq!(
            found.other,
            vec![(
                "staging".to_string(),
                BTreeSet::from([TestedFrom::Commit(other)])
            )]
        );
        assert!(e.children[1].have.is_empty());
        // The layer records the base: it holds.
        t.tested.insert(
            "staging".into(),
            BTreeSet::from([TestedFrom::Commit(base), TestedFrom::Commit(other)]),
        );
        assert!(facts_eval(&r, &counted, &t).holds);
        // No base: a layer must record none.
        let mut t = TransitionFacts::default();
        t.tested
            .insert("staging".into(), BTreeSet::from([TestedFrom::Commit(base)]));
        let e = facts_eval(&r, &counted, &t);
        assert_eq!(e.missing().unwrap(), "1 of pipelines tested from none");
        t.tested
            .insert("staging".into(), BTreeSet::from([TestedFrom::Nothing]));
        assert!(facts_eval(&r, &counted, &t).holds);
        // Without transition facts: fails closed.
        assert!(!r.eval(&counted).holds);
    }

    #[test]
    fn or_reports_the_cheapest_alternative() {
        let r = Rule::parse("3 of humans or 1 of admins").unwrap();
        let none = |_: &str| set(&[]);
        assert_eq!(r.eval(&none).missing().unwrap(), "1 of admins");
        let r = Rule::parse("(1 of a and 1 of b) and (1 of c or 1 of d)").unwrap();
        assert_eq!(
            r.eval(&none).missing().unwrap(),
            "1 of a and 1 of b and 1 of c"
        );
    }
}
