//! Walking a promotion tag: from `refs/tags/NAME` down through its layers
//! to the commit, enforcing the structural rules of the tag format.
//!
//! Invariant: a [`Chain`] with no [`Chain::rejection`] has between 1 and
//! [`MAX_LAYERS`] layers, every layer is named like the ref, every layer
//! parsed strictly, each layer's `type` header matches the object it
//! points at, and the innermost layer points at a commit that exists.
//! Signatures are not looked at here.

use crate::object::{self, Kind, ParseError, TagObject};
use crate::problem::Problem;
use git2::{ObjectType, Odb, Oid, Repository};

/// More layers than this reject the tag.
pub const MAX_LAYERS: usize = 32;

/// One layer, numbered from 1 at the innermost (the one that names the commit).
#[derive(Debug, Clone)]
pub struct Layer {
    pub number: usize,
    pub oid: String,
    pub object: TagObject,
}

/// A structural problem, attached to a layer when it has one.
#[derive(Debug, Clone)]
pub struct Finding {
    pub layer: Option<usize>,
    pub problem: Problem,
}

/// A tag as read from the repository.
#[derive(Debug, Clone)]
pub struct Chain {
    pub name: String,
    /// The object the ref points at (the outermost layer), if the ref exists.
    pub outer: Option<String>,
    /// Well-formed layers, innermost first.
    pub layers: Vec<Layer>,
    /// The commit at the bottom, when the chain reaches one.
    pub commit: Option<String>,
    /// Structural problems; any one rejects the tag.
    pub findings: Vec<Finding>,
}

impl Chain {
    /// The first structural problem, which rejects the whole tag.
    pub fn rejection(&self) -> Option<&Finding> {
        self.findings.first()
    }

    /// The creation time of the innermost layer (its tagger time).
    pub fn created(&self) -> Option<i64> {
        self.layers.first().map(|l| l.object.tagger.time)
    }
}

fn kind_of(t: ObjectType) -> Option<Kind> {
    match t {
        ObjectType::Commit => Some(Kind::Commit),
        ObjectType::Tag => Some(Kind::Tag),
        ObjectType::Tree => Some(Kind::Tree),
        ObjectType::Blob => Some(Kind::Blob),
        _ => None,
    }
}

/// Reads `refs/tags/NAME` and its layers. Repository errors other than a
/// missing ref become findings too: a tag that cannot be read is refused.
pub fn read(repo: &Repository, name: &str) -> Chain {
    let mut chain = Chain {
        name: name.to_string(),
        outer: None,
        layers: Vec::new(),
        commit: None,
        findings: Vec::new(),
    };
    let refname = format!("refs/tags/{name}");
    let target = match repo.find_reference(&refname) {
        Ok(r) => match r.target() {
            Some(oid) => oid,
            None => {
                chain.findings.push(Finding {
                    layer: None,
                    problem: Problem::SymbolicRef,
                });
                return chain;
            }
        },
        Err(_) => {
            chain.findings.push(Finding {
                layer: None,
                problem: Problem::NotFound(name.to_string()),
            });
            return chain;
        }
    };
    chain.outer = Some(target.to_string());
    match repo.odb() {
        Ok(odb) => walk(&odb, target, &mut chain),
        Err(e) => chain.findings.push(Finding {
            layer: None,
            problem: Problem::Unreadable(crate::error::clean(e.message())),
        }),
    }
    chain
}

/// Follows layers from `top` down. Layers are collected outermost first and
/// renumbered at the end; findings keep a depth index until then.
fn walk(odb: &Odb<'_>, top: Oid, chain: &mut Chain) {
    // (depth from the top, problem)
    let mut found: Vec<(Option<usize>, Problem)> = Vec::new();
    let mut layers: Vec<(String, Option<TagObject>)> = Vec::new();
    let mut oid = top;
    let mut expected = None::<Kind>;
    // Did the walk reach the object at the bottom (whatever its kind)?
    // Only then can layers be numbered from the commit up.
    let mut reached_bottom = false;
    loop {
        let obj = match odb.read(oid) {
            Ok(o) => o,
            Err(_) => {
                let at = layers.len().checked_sub(1);
                found.push((
                    at,
                    Problem::Malformed(format!(
                        "it points at {oid}, which is not in the repository"
                    )),
                ));
                break;
            }
        };
        let actual = kind_of(obj.kind());
        if let (Some(exp), Some(act)) = (expected, actual) {
            if exp != act {
                let at = layers.len().checked_sub(1);
                found.push((
                    at,
                    Problem::Malformed(format!(
                        "the \"type\" header says {exp} but the object is a {act}"
                    )),
                ));
                break;
            }
        }
        match actual {
            Some(Kind::Tag) => {}
            Some(Kind::Commit) if layers.is_empty() => {
                found.push((None, Problem::Lightweight(Kind::Commit)));
                break;
            }
            Some(Kind::Commit) => {
                chain.commit = Some(oid.to_string());
                reached_bottom = true;
                break;
            }
            Some(k) if layers.is_empty() => {
                found.push((None, Problem::Lightweight(k)));
                break;
            }
            Some(k) => {
                found.push((layers.len().checked_sub(1), Problem::BottomNotCommit(k)));
                reached_bottom = true;
                break;
            }
            None => {
                found.push((
                    layers.len().checked_sub(1),
                    Problem::Malformed("it points at an unknown kind of object".into()),
                ));
                break;
            }
        }
        if layers.len() == MAX_LAYERS {
            found.push((None, Problem::TooManyLayers));
            break;
        }
        let depth = layers.len();
        let data = obj.data();
        let next = match object::parse(data) {
            Ok(t) => {
                if t.name != chain.name {
                    found.push((
                        Some(depth),
                        Problem::NameMismatch {
                            found: object::printable(&t.name),
                            expected: chain.name.clone(),
                        },
                    ));
                }
                let next = (t.target.clone(), t.target_kind);
                layers.push((oid.to_string(), Some(t)));
                Some(next)
            }
            Err(e) => {
                found.push((Some(depth), parse_problem(e)));
                layers.push((oid.to_string(), None));
                object::peek_target(data)
            }
        };
        let Some((target, kind)) = next else { break };
        let Ok(next_oid) = Oid::from_str(&target) else {
            break;
        };
        oid = next_oid;
        expected = Some(kind);
    }

    if !reached_bottom {
        // The chain is rejected and its depth is unknown: nothing below the
        // break can be numbered, so no layer is reported or verified.
        chain.findings = found
            .into_iter()
            .map(|(_, problem)| Finding {
                layer: None,
                problem,
            })
            .collect();
        return;
    }
    let total = layers.len();
    let number = |depth: usize| total - depth;
    chain.findings = found
        .into_iter()
        .map(|(depth, problem)| Finding {
            layer: depth.map(number),
            problem,
        })
        .collect();
    chain.layers = layers
        .into_iter()
        .enumerate()
        .rev()
        .filter_map(|(depth, (oid, obj))| {
            obj.map(|object| Layer {
                number: number(depth),
                oid,
                object,
            })
        })
        .collect();
}

fn parse_problem(e: ParseError) -> Problem {
    match e {
        ParseError::Malformed(why) => Problem::Malformed(why),
        ParseError::TrailingData => Problem::TrailingData,
        ParseError::MultipleArmor => Problem::MultipleArmor,
    }
}

/// Names of all tags in the repository, sorted.
pub fn tag_names(repo: &Repository) -> crate::error::Result<Vec<String>> {
    let names = repo.tag_names(None).map_err(|e| {
        crate::error::Error::repo(format!(
            "cannot list tags: {}",
            crate::error::clean(e.message())
        ))
    })?;
    let mut out: Vec<String> = names
        .iter()
        .flatten()
        .flatten()
        .map(|n| n.to_string())
        .collect();
    out.sort();
    Ok(out)
}
