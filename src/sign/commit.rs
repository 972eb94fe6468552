//! Which commit a new tag goes on, and which one a layer records it was
//! tested from: a commit name resolved as git resolves it, refusing the
//! names git would call ambiguous (libgit2 alone picks one in silence).
//! Reads the repository; writes nothing.

use crate::error::{Error, Result};
use crate::message::TestedFrom;
use crate::object;
use git2::{ObjectType, Oid, Repository};

/// Where git looks for a short name, in its order (git's
/// `ref_rev_parse_rules`); `{}` stands for the name.
const REF_RULES: &[&str] = &[
    "{}",
    "refs/{}",
    "refs/tags/{}",
    "refs/heads/{}",
    "refs/remotes/{}",
    "refs/remotes/{}/HEAD",
];

/// The name a revision starts from: `main` in `main~1`, `main^{commit}`,
/// `main@{1}` or `main:path`; `@` stands for `HEAD`.
fn base_name(spec: &str) -> &str {
    let base = spec
        .split(['~', '^', ':'])
        .next()
        .and_then(|b| b.split("@{").next())
        .unwrap_or("");
    if base == "@" {
        "HEAD"
    } else {
        base
    }
}

/// What `spec` names, as `the label (commit <id>)`, for an ambiguity.
fn describe_candidate(label: &str, object: Option<git2::Object<'_>>) -> String {
    match object.and_then(|o| o.peel_to_commit().ok()) {
        Some(c) => format!("{label} (commit {})", c.id()),
        None => format!("{label} (not a commit)"),
    }
}

/// Why a name resolves to no commit.
enum Unresolved {
    /// It names nothing, or nothing that peels to a commit.
    NotACommit,
    /// It names several things; the sentence says which, and how to pick.
    Ambiguous(String),
}

/// Resolves the commit a new tag goes on, refusing a name git would call
/// ambiguous: one that matches more than one of `NAME`, `refs/NAME`,
/// `refs/tags/NAME`, `refs/heads/NAME`, `refs/remotes/NAME` and
/// `refs/remotes/NAME/HEAD`, or an abbreviated object id that is also a
/// ref's name. libgit2 would pick one in silence (a pushed tag `main`
/// before the branch, a ref `abc1234` before the commit `abc1234...`).
/// Suffixes (`~1`, `^`, `@{1}`) are checked on the name they start from.
/// A full object id must name an object of the repository.
pub fn resolve_commit<'r>(repo: &'r Repository, spec: &str) -> Result<git2::Commit<'r>> {
    resolve(repo, spec).map_err(|why| match why {
        Unresolved::NotACommit => Error::usage(format!(
            "\"{}\" does not name a commit in this repository",
            object::printable(spec)
        )),
        Unresolved::Ambiguous(sentence) => Error::usage(sentence),
    })
}

/// The transition `--tested-from SPEC` records on a layer of tag `tag`
/// (DESIGN §6): `none`, or the commit SPEC names, resolved as
/// [`resolve_commit`] resolves it (a tag peels to its commit; a name git
/// would call ambiguous, or one that names no commit, is refused). A
/// `SPEC` that is the tag itself is refused: a tag is never its own base.
/// To name a ref called `none`, write `refs/tags/none` or
/// `refs/heads/none`. Reads the repository; writes nothing.
pub fn resolve_tested_from(repo: &Repository, spec: &str, tag: &str) -> Result<TestedFrom> {
    if spec == TestedFrom::NONE {
        return Ok(TestedFrom::Nothing);
    }
    let before = format!(
        "pass the commit or tag the environment ran before {}, or none",
        object::printable(tag)
    );
    if spec == tag || spec.strip_prefix("refs/tags/") == Some(tag) {
        return Err(Error::usage(format!(
            "--tested-from names {} itself, and a tag is never tested from itself",
            object::printable(tag)
        ))
        .with_fix(before));
    }
    match resolve(repo, spec) {
        Ok(commit) => Ok(TestedFrom::Commit(commit.id())),
        Err(Unresolved::NotACommit) => Err(Error::usage(format!(
            "--tested-from \"{}\" does not name a commit in this repository",
            object::printable(spec)
        ))
        .with_fix(before)),
        Err(Unresolved::Ambiguous(sentence)) => {
            Err(Error::usage(format!("--tested-from: {sentence}")))
        }
    }
}

fn resolve<'r>(
    repo: &'r Repository,
    spec: &str,
) -> std::result::Result<git2::Commit<'r>, Unresolved> {
    let shown = object::printable(spec);
    let base = base_name(spec);
    let full_hex = base.len() == 40 && base.bytes().all(|b| b.is_ascii_hexdigit());
    if full_hex {
        let found = Oid::from_str(base)
            .ok()
            .and_then(|oid| repo.find_object(oid, None).ok());
        if found.is_none() {
            return Err(Unresolved::NotACommit);
        }
    } else if !base.is_empty() {
        let mut candidates: Vec<String> = Vec::new();
        for rule in REF_RULES {
            let refname = rule.replace("{}", base);
            if !git2::Reference::is_valid_name(&refname) {
                continue;
            }
            if let Ok(r) = repo.find_reference(&refname) {
                let target = r.peel(ObjectType::Any).ok();
                candidates.push(describe_candidate(&refname, target));
            }
        }
        let hex = base.len() >= 4 && base.bytes().all(|b| b.is_ascii_hexdigit());
        if hex && !candidates.is_empty() {
            if let Ok(o) = repo.find_object_by_prefix(base, None) {
                candidates.push(describe_candidate("the abbreviated object id", Some(o)));
            }
        }
        if candidates.len() > 1 {
            let list = match candidates.split_last() {
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            let base_shown = object::printable(base);
            return Err(Unresolved::Ambiguous(format!(
                "the commit name \"{shown}\" is ambiguous: \"{base_shown}\" names {list}; pass the full commit id or a full ref name such as refs/heads/{base_shown}"
            )));
        }
    }
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(|_| Unresolved::NotACommit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_the_name_a_revision_starts_from() {
        for (spec, base) in [
            ("main", "main"),
            ("main~1", "main"),
            ("main^", "main"),
            ("main^{commit}", "main"),
            ("main@{1}", "main"),
            ("origin/main~2^2", "origin/main"),
            ("HEAD:README", "HEAD"),
            ("@", "HEAD"),
            ("@~1", "HEAD"),
            (":/fix", ""),
        ] {
            assert_eq!(base_name(spec), base, "{spec}");
        }
    }
}
