//! The rule grammar and its evaluation. Pure: no I/O, no keys.
//!
//! ```text
//! rule := and ("or" and)*
//! and  := atom ("and" atom)*
//! atom := N "of" GROUP | "(" rule ")"
//! ```
//!
//! `N of G` holds when at least N distinct signers of group G have a
//! signature that counts. Each atom counts on its own: one signer in two
//! groups counts in both.

use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    Atom { n: usize, group: String },
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
                match self.peek().cloned() {
                    Some(Tok::Word(g)) if g != "and" && g != "or" && g != "of" => {
                        self.pos += 1;
                        Ok(Rule::Atom { n, group: g })
                    }
                    _ => self.err(format!("expected a group name after \"{n} of\"")),
                }
            }
            Some(Tok::Close) => self.err("unexpected ')'"),
            Some(Tok::Word(w)) => self.err(format!("expected a number or '(' but found \"{w}\"")),
            None => self.err("the rule ends too early: expected \"N of GROUP\""),
        }
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
            Rule::Atom { n, group } => out.push((*n, group.as_str())),
            Rule::And(rs) | Rule::Or(rs) => rs.iter().for_each(|r| r.collect_atoms(out)),
        }
    }

    /// Evaluates the rule given, for each group, the set of distinct
    /// signers of that group whose signatures count. The evaluation owns
    /// what it needs of the rule, so it outlives it.
    pub fn eval(&self, counted: &dyn Fn(&str) -> BTreeSet<String>) -> Eval {
        match self {
            Rule::Atom { n, group } => {
                let have = counted(group);
                Eval {
                    node: Node::Atom {
                        n: *n,
                        group: group.clone(),
                    },
                    holds: have.len() >= *n,
                    have,
                    children: Vec::new(),
                }
            }
            Rule::And(rs) | Rule::Or(rs) => {
                let children: Vec<Eval> = rs.iter().map(|r| r.eval(counted)).collect();
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
                }
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Atom { n, group } => write!(f, "{n} of {group}"),
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
    /// `N of GROUP`.
    Atom { n: usize, group: String },
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
    /// For an atom: the distinct signers of its group that count.
    pub have: BTreeSet<String>,
    /// For "and" and "or": the evaluations of the parts, in rule order.
    pub children: Vec<Eval>,
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
            Node::Atom { n, group } => {
                let need = n - self.have.len().min(*n);
                let text = if explain && !self.have.is_empty() {
                    let names: Vec<&str> = self.have.iter().map(String::as_str).collect();
                    format!("{need} more of {group} other than {}", names.join(", "))
                } else {
                    format!("{need} of {group}")
                };
                Some(Shortfall { text, cost: need })
            }
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
