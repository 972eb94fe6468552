//! Walking a promotion tag: from `refs/tags/NAME` down through its layers
//! to the commit, enforcing the structural rules of the tag format.
//!
//! Invariant: a [`Chain`] with no [`Chain::rejection`] has between 1 and
//! [`MAX_LAYERS`] layers, every layer is named like the ref, every layer
//! parsed strictly, each layer's `type` header matches the object it
//! points at, no layer is dated more than [`MAX_CLOCK_SKEW_SECS`] before
//! the layer below it (so the innermost date, which orders versions, is
//! never later than a date a signature vouches for), the innermost layer
//! points at a commit that exists, and no `refs/replace/*` entry replaces
//! a layer, the commit, its tree or anything in that tree.
//! Signatures are not looked at here.
//!
//! Memory stays bounded whatever the repository holds: every object's
//! header (kind and size) is read before the object itself, a layer over
//! [`object::MAX_OBJECT_SIZE`] is refused unread, and the object at the
//! bottom is never inflated (its header says it exists and what it is).

use crate::limits::{MAX_CLOCK_SKEW_SECS, MAX_COMMIT_SIZE};
use crate::object::{self, Kind, ParseError, TagObject};
use crate::problem::Problem;
use git2::{ObjectType, Odb, Oid, Repository};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

pub use crate::limits::MAX_LAYERS;

/// One layer, numbered from 1 at the innermost (the one that names the commit).
#[derive(Debug, Clone)]
pub struct Layer {
    pub number: usize,
    pub oid: String,
    pub object: TagObject,
}

/// A structural problem, attached to a layer when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        Err(e) => {
            chain.findings.push(Finding {
                layer: None,
                problem: Problem::Unreadable(crate::error::clean(e.message())),
            });
            return chain;
        }
    }
    check_order(&mut chain);
    check_replaced(repo, target, &mut chain);
    chain
}

/// Co-signatures come after signatures: a layer dated earlier than the
/// layer below it by more than the clock skew rejects the tag. The layers
/// above the innermost are then never much earlier than it, and each
/// signed one is vouched for by its signature (see `verify`), so an
/// unsigned innermost layer cannot date the tag later than its signers did.
fn check_order(chain: &mut Chain) {
    let skew = i64::try_from(MAX_CLOCK_SKEW_SECS).unwrap_or(i64::MAX);
    let mut found = Vec::new();
    for pair in chain.layers.windows(2) {
        let [below, above] = pair else { continue };
        if above.number != below.number + 1 {
            continue;
        }
        let (b, a) = (below.object.tagger.time, above.object.tagger.time);
        if a < b.saturating_sub(skew) {
            found.push(Finding {
                layer: Some(above.number),
                problem: Problem::OutOfOrder {
                    dated: date(a),
                    below: date(b),
                },
            });
        }
    }
    chain.findings.extend(found);
}

fn date(t: i64) -> String {
    let at = if t >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(t.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(t.unsigned_abs())
    };
    crate::date::rfc3339(at)
}

/// `refs/replace/*` of one repository: replaced object -> replacement.
pub(crate) type Replacements = HashMap<Oid, String>;

/// What the listing of a repository's replace refs was made from: the
/// modification time of `refs/replace` and of `packed-refs` (and its
/// size). A new replace ref changes one of them.
type Stamp = (Option<SystemTime>, Option<(SystemTime, u64)>);

fn stamp(common: &std::path::Path) -> Stamp {
    let dir = std::fs::metadata(common.join("refs").join("replace"))
        .and_then(|m| m.modified())
        .ok();
    let packed = std::fs::metadata(common.join("packed-refs"))
        .and_then(|m| Ok((m.modified()?, m.len())))
        .ok();
    (dir, packed)
}

/// The replace refs of `repo`, listed once per repository (and again only
/// when its refs changed), not once per tag. [`crate::transition`] reads
/// them too, for the commits of a range.
pub(crate) fn replacements(repo: &Repository) -> Result<Arc<Replacements>, String> {
    type Cache = Mutex<HashMap<PathBuf, (Stamp, Arc<Replacements>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let common = repo.commondir().to_path_buf();
    let key = std::fs::canonicalize(&common).unwrap_or_else(|_| common.clone());
    let now = stamp(&common);
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(map) = cache.lock() {
        if let Some((s, r)) = map.get(&key) {
            if *s == now {
                return Ok(Arc::clone(r));
            }
        }
    }
    let refs = repo
        .references_glob("refs/replace/*")
        .map_err(|e| crate::error::clean(e.message()))?;
    let mut found = Replacements::new();
    for r in refs {
        let r = r.map_err(|e| crate::error::clean(e.message()))?;
        let Some(name) = r.name_bytes().strip_prefix(b"refs/replace/") else {
            continue;
        };
        // git ignores replace refs whose name is not an object id.
        let Some(replaced) = std::str::from_utf8(name)
            .ok()
            .filter(|n| n.len() == 40 || n.len() == 64)
            .and_then(|n| Oid::from_str(n).ok())
        else {
            continue;
        };
        let by = r.resolve().ok().and_then(|r| r.target()).map_or_else(
            || "an object that cannot be read".to_string(),
            |o| o.to_string(),
        );
        found.insert(replaced, by);
    }
    let found = Arc::new(found);
    if let Ok(mut map) = cache.lock() {
        map.insert(key, (now, Arc::clone(&found)));
    }
    Ok(found)
}

/// Refuses the tag when a replace ref names an object of the chain: any
/// layer, the commit, its tree or anything reachable from that tree. git
/// honours replace refs (libgit2 does not), so git would hand out other
/// content than the signatures approve. The commit and its tree are read
/// only when the repository has replace refs at all.
fn check_replaced(repo: &Repository, top: Oid, chain: &mut Chain) {
    let map = match replacements(repo) {
        Ok(m) => m,
        Err(why) => {
            chain.findings.push(Finding {
                layer: None,
                problem: Problem::Unreadable(format!("cannot list refs/replace: {why}")),
            });
            return;
        }
    };
    if map.is_empty() {
        return;
    }
    let replaced = |oid: Oid| {
        map.get(&oid).map(|by| Problem::Replaced {
            object: oid.to_string(),
            by: by.clone(),
        })
    };
    let mut layer_oids: Vec<(Option<usize>, Oid)> = vec![(None, top)];
    for l in &chain.layers {
        if let Ok(oid) = Oid::from_str(&l.oid) {
            layer_oids.push((Some(l.number), oid));
        }
        if let Ok(oid) = Oid::from_str(&l.object.target) {
            layer_oids.push((Some(l.number), oid));
        }
    }
    for (layer, oid) in layer_oids {
        if let Some(problem) = replaced(oid) {
            chain.findings.push(Finding { layer, problem });
            return;
        }
    }
    let Some(commit) = chain.commit.as_deref().and_then(|c| Oid::from_str(c).ok()) else {
        return;
    };
    let unreadable = |why: String| Finding {
        layer: None,
        problem: Problem::Unreadable(why),
    };
    let size = repo.odb().and_then(|odb| odb.read_header(commit));
    if !matches!(size, Ok((n, _)) if n <= MAX_COMMIT_SIZE) {
        chain.findings.push(unreadable(format!(
            "commit {commit} cannot be read to look for replaced objects in it"
        )));
        return;
    }
    let tree = match repo.find_commit(commit).and_then(|c| c.tree()) {
        Ok(t) => t,
        Err(e) => {
            chain.findings.push(unreadable(format!(
                "the tree of commit {commit} cannot be read: {}",
                crate::error::clean(e.message())
            )));
            return;
        }
    };
    if let Some(problem) = replaced(tree.id()) {
        chain.findings.push(Finding {
            layer: None,
            problem,
        });
        return;
    }
    let mut hit = None;
    let walked = tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
        match replaced(entry.id()) {
            Some(p) => {
                hit = Some(p);
                git2::TreeWalkResult::Abort
            }
            None => git2::TreeWalkResult::Ok,
        }
    });
    match (hit, walked) {
        (Some(problem), _) => chain.findings.push(Finding {
            layer: None,
            problem,
        }),
        (None, Err(e)) => chain.findings.push(unreadable(format!(
            "the tree of commit {commit} cannot be read: {}",
            crate::error::clean(e.message())
        ))),
        (None, Ok(())) => {}
    }
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
        // The header only: what the object is and how large, before any of
        // it is inflated.
        let (size, otype) = match odb.read_header(oid) {
            Ok(h) => h,
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
        let actual = kind_of(otype);
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
        if size > object::MAX_OBJECT_SIZE {
            found.push((Some(depth), parse_problem(object::too_large())));
            layers.push((oid.to_string(), None));
            break;
        }
        let obj = match odb.read(oid) {
            Ok(o) => o,
            Err(e) => {
                found.push((
                    Some(depth),
                    Problem::Unreadable(crate::error::clean(e.message())),
                ));
                layers.push((oid.to_string(), None));
                break;
            }
        };
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

/// Names of all tags in the repository, versions in version order first
/// ([`crate::names::version_order`]).
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
    out.sort_by(|a, b| crate::names::version_order(a, b));
    Ok(out)
}
