//! `out`: co-sign a tag and push the new layer.
//!
//! The chain must already meet `params.require` (default: the source's
//! rule). A key that already signed a layer changes nothing. The push is a
//! compare-and-swap: when the tag changed on the remote meanwhile (another
//! pipeline or a person co-signed), the newer chain is fetched and the
//! layer is made again on top of it, so no signature is ever lost.
//!
//! With `params.tested_from` the new layer records the transition it was
//! tested as (DESIGN §6): the file it names holds the commit or tag name
//! the environment ran before this tag, or `none`, and the layer's
//! message ends in `Sigtag-Tested-From: <commit>` (or `none`). The file is
//! read, bounded and checked before the network is touched, and resolved
//! against the fetched repository before anything is signed; a file that
//! cannot say which commit fails the step and pushes nothing.
//!
//! Without `params.tested_from`, a source with `in_order` (set, or implied
//! by a `tested` atom of its `require`) records the tag's base for its own
//! rule: each check returned one promotion, so the base is the version the
//! environment ran before this tag. Every tag of the remote is fetched,
//! the tag is judged with its base
//! ([`crate::verdict::Gate::judge_with_base`]), and the
//! layer records `Sigtag-Tested-From: <base's commit>`, or `none` when the
//! tag has no base; the log says which and why. A tag rejected before its
//! base can be found fails the step, before anything is signed.
//! `params.tested_from`, when given, always wins.
//!
//! The output never takes the source's rule for met: the chain as pushed
//! (or as found, when nothing was added) is judged again by the source's
//! rule, and the log and metadata say whether it holds and, if not, what
//! it still needs.

use super::cache::temp_root;
use super::request::{self, deny_unknown, opt_string, Request, Source, Version};
use super::{log, metadata_entry, Output};
use crate::chain;
use crate::error::{clean, Error, ErrorKind, Result};
use crate::limits::MAX_PARAMS_FILE;
use crate::message::{TestedFrom, BUILD_VARS};
use crate::remote;
use crate::rule::Rule;
use crate::sign::{self, LayerOptions, Signed, SigningKey};
use crate::verdict::Verdict;
use git2::{ObjectType, Oid, Repository};
use std::path::{Component, Path};

/// How many times a layer is made again after the tag changed on the
/// remote before giving up.
pub use crate::limits::MAX_PUT_ATTEMPTS as MAX_ATTEMPTS;

/// The params `out` accepts.
pub const PARAMS: &[&str] = &[
    "tag",
    "from",
    "signing_key",
    "require",
    "message",
    "tested_from",
];

pub fn run(request: Request, sources_dir: &Path) -> Result<Output> {
    let source = &request.source;
    let params = &request.params;
    deny_unknown(params, PARAMS, "params of put")?;

    // Everything is checked before the network is touched.
    let tag_param = opt_string(params, "tag", "params.tag")?;
    let from = opt_string(params, "from", "params.from")?;
    let (tag, expected_commit) = match (tag_param, from) {
        (Some(tag), None) => (tag, None),
        (None, Some(from)) => {
            let (tag, commit) = read_get_dir(sources_dir, &from)?;
            (tag, Some(commit))
        }
        (Some(_), Some(_)) => {
            return Err(Error::config(
                "params.tag and params.from both name the tag; set only one",
            ))
        }
        (None, None) => {
            return Err(Error::config(
                "put needs params.tag (a tag name) or params.from (the directory of a get of this resource)",
            ))
        }
    };
    if !request::valid_tag_name(&tag) {
        return Err(Error::config(format!(
            "\"{}\" is not a valid tag name",
            request::shown(&tag)
        )));
    }
    if !source.wants(&tag) {
        return Err(Error::config(format!(
            "tag {tag} does not match source.tag_filter \"{}\"",
            request::shown(source.tag_filter.as_deref().unwrap_or(""))
        )));
    }
    let rule = match opt_string(params, "require", "params.require")? {
        Some(text) => source.parse_rule(&text, "params.require")?,
        None => source.rule.clone(),
    };
    let mut key = signing_key(&request)?;
    let free = match opt_string(params, "message", "params.message")? {
        Some(text) => Some(free_message(&text)?),
        None => None,
    };
    let wanted = match opt_string(params, "tested_from", "params.tested_from")? {
        Some(path) => Some(read_tested_from(sources_dir, &path, &tag)?),
        None => None,
    };
    let (free, build_lines) = layer_message(&tag, free);
    let tagger = match key.ident() {
        Ok(_) => None,
        Err(_) => Some("Concourse <concourse@localhost>".to_string()),
    };

    super::prepare_network(source, source.network_timeout);
    // A private scratch repository, removed when this function returns.
    let work = tempfile::Builder::new()
        .prefix("sigtag-out.")
        .tempdir_in(temp_root())
        .map_err(|e| {
            Error::io(format!(
                "cannot create a temporary directory in {}: {e}",
                temp_root().display()
            ))
        })?;
    let repo = Repository::init_bare(work.path().join("repo.git")).map_err(|e| {
        Error::io(format!(
            "cannot create a scratch repository: {}",
            clean(e.message())
        ))
    })?;

    // The transition is resolved once, against the tag's first fetch and
    // before anything is signed. Deriving it from the tag's base needs
    // every tag of the remote.
    let derive = wanted.is_none() && source.in_order;
    let history = source.gate().needs_history() || rule.has_transitions() || derive;
    let mut fetched = Some(fetch_tag(&repo, &request, &tag, history)?);
    let tested_from = match &wanted {
        Some(w) => Some(resolve_tested_from(&repo, &request, &tag, w)?),
        None if derive => Some(base_of(&repo, source, &tag)?),
        None => None,
    };
    let opts = layer_options(free, build_lines, tagger, tested_from);

    for attempt in 1..=MAX_ATTEMPTS {
        let chain = match fetched.take() {
            Some(chain) => chain,
            None => fetch_tag(&repo, &request, &tag, history)?,
        };
        let commit = chain.commit.clone().unwrap_or_default();
        if let Some(expected) = &expected_commit {
            if chain.commit.is_some() && &commit != expected {
                return Err(Error::refused(format!(
                    "tag {tag} now points at commit {commit}, not at {expected} that the get fetched; refusing to co-sign a commit this build did not use"
                )));
            }
        }
        let signed = sign::cosign(&repo, &tag, &mut key, &opts, &source.trust, Some(&rule))?;
        let previous = match &signed {
            Signed::AlreadySigned { layer } => {
                // A key signs a chain once per transition.
                let note = match &tested_from {
                    Some(t) => format!(", recording {}", t.trailer()),
                    None => String::new(),
                };
                log(&format!(
                    "{tag} already carries a signature by {} (layer {layer}){note}; nothing to do",
                    key.fingerprint().to_hex()
                ));
                let after = judge(&request, &repo, &chain);
                return Ok(output(
                    &tag,
                    &commit,
                    &key,
                    &rule,
                    &after,
                    chain.layers.len(),
                    *layer,
                    false,
                    None,
                ));
            }
            Signed::Added { previous, .. } => *previous,
        };
        match sign::publish_with(&repo, &tag, &source.uri, &signed, &source.access) {
            Ok(()) => {
                let layers = chain.layers.len() + 1;
                let records = match &tested_from {
                    Some(t) => format!(", recording {}", t.trailer()),
                    None => String::new(),
                };
                log(&format!(
                    "co-signed {tag} with {} as layer {layers}{records} and pushed it to {}",
                    key.fingerprint().to_hex(),
                    source.shown_uri()
                ));
                // What the source's rule says of the chain just pushed,
                // judged again rather than assumed.
                let after = judge(&request, &repo, &chain::read(&repo, &tag));
                return Ok(output(
                    &tag,
                    &commit,
                    &key,
                    &rule,
                    &after,
                    layers,
                    layers,
                    true,
                    tested_from.as_ref(),
                ));
            }
            Err(e) if e.kind() == ErrorKind::Remote => {
                // Did someone else move the tag? Then sign again on top of
                // their layer; otherwise the refusal stands.
                let now = fetch_tag(&repo, &request, &tag, history)?;
                let moved = now.outer != previous.map(|p| p.to_string());
                if !moved || attempt == MAX_ATTEMPTS {
                    return Err(e);
                }
                log(&format!(
                    "{tag} changed on the remote while it was being signed; signing again on top of the newer chain (attempt {} of {MAX_ATTEMPTS})",
                    attempt + 1
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::remote(format!(
        "{tag} kept changing on {}; gave up after {MAX_ATTEMPTS} attempts",
        source.shown_uri()
    )))
}

/// Fetches exactly one tag from the source, replacing the local one (a tag
/// the remote no longer has is then absent here too); returns its ref name.
/// With `history` (a rule with transition atoms, which judges the tag with
/// its base), every tag of the remote comes too.
fn fetch_one_tag(repo: &Repository, source: &Source, tag: &str, history: bool) -> Result<String> {
    let refname = format!("refs/tags/{tag}");
    if let Ok(mut r) = repo.find_reference(&refname) {
        let _ = r.delete();
    }
    let one = format!("+{refname}:{refname}");
    let refspec = if history {
        "+refs/tags/*:refs/tags/*".to_string()
    } else {
        one
    };
    remote::fetch(
        repo,
        &source.uri,
        &[refspec.as_str()],
        history,
        &source.access,
    )
    .map_err(|e| super::remote_hint(source, e))?;
    Ok(refname)
}

/// Fetches exactly one tag (replacing the local one) and reads its chain.
fn fetch_tag(
    repo: &Repository,
    request: &Request,
    tag: &str,
    history: bool,
) -> Result<chain::Chain> {
    let source = &request.source;
    let refname = fetch_one_tag(repo, source, tag, history)?;
    if repo.find_reference(&refname).is_err() {
        return Err(Error::refused(format!(
            "there is no tag {tag} on {}; put co-signs an existing tag",
            source.shown_uri()
        )));
    }
    Ok(chain::read(repo, tag))
}

/// The transition a source with `in_order` records when `params.tested_from`
/// is not given: the tag's base for the source's own rule (every tag of the
/// remote fetched into `repo`), or none when it has no base. Logs what it
/// records and why; a tag rejected before its base is found fails, naming
/// why.
fn base_of(repo: &Repository, source: &Source, tag: &str) -> Result<TestedFrom> {
    let verdict = source.gate().judge_with_base(repo, tag)?;
    let label = super::rule_label(&verdict);
    let Some(transition) = &verdict.transition else {
        let why = match &verdict.rejection {
            Some(f) => f.problem.to_string(),
            None => "its older tags could not be judged".to_string(),
        };
        return Err(Error::refused(format!(
            "cannot tell which transition {tag} is tested as: its base for {label} is unknown, because the tag is rejected: {why}"
        )));
    };
    let (recorded, why) = match &transition.base {
        Some(base) => {
            let oid = Oid::from_str(&base.commit).map_err(|e| {
                Error::repo(format!(
                    "the base of {tag}, {}, names no commit ({})",
                    base.tag,
                    clean(e.message())
                ))
            })?;
            (
                TestedFrom::Commit(oid),
                format!(
                    "{tag}'s base for {label} is {} ({})",
                    base.tag,
                    crate::render::line::short_id(&base.commit)
                ),
            )
        }
        None => (
            TestedFrom::Nothing,
            format!("{tag} has no base for {label}: no older promotion is an ancestor of it"),
        ),
    };
    log(&format!(
        "{why}, so the new layer records {}",
        recorded.trailer()
    ));
    Ok(recorded)
}

/// What a `params.tested_from` file names, before it is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Named {
    Nothing,
    Commit(Oid),
    Tag(String),
}

/// What `params.tested_from` asks the new layer to record: the file's
/// path as given, and what it names.
#[derive(Debug, Clone)]
struct Wanted {
    path: String,
    named: Named,
}

impl Wanted {
    /// The start of every message about it: `params.tested_from
    /// "state/previous"`.
    fn field(&self) -> String {
        format!("params.tested_from \"{}\"", request::shown(&self.path))
    }
}

/// The fix every message about `params.tested_from` ends with.
fn tested_from_fix(tag: &str) -> String {
    format!(
        "the file must hold the commit (40 hex digits) or the tag name of the version the environment ran before {}, or none if it ran nothing",
        request::shown(tag)
    )
}

/// Reads the file `params.tested_from` names, relative to the build's
/// working directory (`sources_dir`), before the network is touched: at
/// most [`MAX_PARAMS_FILE`] of UTF-8, trimmed, one line, holding `none`,
/// a full commit id (40 hex digits; a 40-hex name is always read as one)
/// or a tag name other than `tag`.
fn read_tested_from(sources_dir: &Path, path: &str, tag: &str) -> Result<Wanted> {
    let field = format!("params.tested_from \"{}\"", request::shown(path));
    let fix = tested_from_fix(tag);
    let rel = Path::new(path);
    let relative = !path.is_empty()
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !relative {
        return Err(Error::config(format!(
            "{field} must be a path inside the build's working directory, like \"previous/.git/sigtag/commit\""
        )));
    }
    let file = sources_dir.join(rel);
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&file).and_then(|f| {
        use std::io::Read as _;
        f.take(MAX_PARAMS_FILE + 1).read_to_end(&mut bytes)
    });
    if let Err(e) = read {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "not found".to_string(),
            _ => format!("cannot be read ({})", clean(&e.to_string())),
        };
        return Err(Error::config(format!("{field}: {} {why}", file.display())).with_fix(fix));
    }
    if bytes.len() as u64 > MAX_PARAMS_FILE {
        return Err(Error::config(format!(
            "{field} is larger than {}",
            crate::limits::size_words(MAX_PARAMS_FILE)
        ))
        .with_fix(fix));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(Error::config(format!("{field} is not UTF-8 text")).with_fix(fix));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::config(format!("{field} is empty")).with_fix(fix));
    }
    if text.lines().count() > 1 || text.contains('\r') {
        return Err(Error::config(format!("{field} holds more than one line")).with_fix(fix));
    }
    let named = if text == TestedFrom::NONE {
        Named::Nothing
    } else if text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        match Oid::from_str(text) {
            Ok(oid) => Named::Commit(oid),
            Err(_) => {
                return Err(Error::config(format!("{field} holds no commit id")).with_fix(fix))
            }
        }
    } else if request::valid_tag_name(text) {
        if text == tag {
            return Err(Error::config(format!(
                "{field} names {}, the tag this put co-signs, and a tag is never tested from itself",
                request::shown(tag)
            ))
            .with_fix(fix));
        }
        Named::Tag(text.to_string())
    } else {
        return Err(Error::config(format!(
            "{field} holds \"{}\", which is neither a commit id, a tag name nor none",
            request::shown(text)
        ))
        .with_fix(fix));
    };
    Ok(Wanted {
        path: path.to_string(),
        named,
    })
}

/// Resolves what `params.tested_from` names against the repository the
/// put fetched (which holds the tag's commit and its history): `none`; a
/// commit that is there, or, failing that, among the commits of the
/// remote's branches and tags (fetched then, into a namespace of their
/// own); or the commit a tag of the remote peels to (its chain read as
/// every chain is, bounded; a rejected chain says why). Anything else
/// fails the step before anything is signed.
fn resolve_tested_from(
    repo: &Repository,
    request: &Request,
    tag: &str,
    wanted: &Wanted,
) -> Result<TestedFrom> {
    let source = &request.source;
    let field = wanted.field();
    let fix = tested_from_fix(tag);
    let kind_of = |oid: Oid| {
        repo.odb()
            .ok()
            .and_then(|odb| odb.read_header(oid).ok())
            .map(|(_, kind)| kind)
    };
    match &wanted.named {
        Named::Nothing => Ok(TestedFrom::Nothing),
        Named::Commit(oid) => {
            let mut kind = kind_of(*oid);
            if kind.is_none() {
                let specs = [
                    "+refs/heads/*:refs/sigtag-out/heads/*",
                    "+refs/tags/*:refs/sigtag-out/tags/*",
                ];
                remote::fetch(repo, &source.uri, &specs, false, &source.access)
                    .map_err(|e| super::remote_hint(source, e))?;
                kind = kind_of(*oid);
            }
            match kind {
                Some(ObjectType::Commit) => Ok(TestedFrom::Commit(*oid)),
                Some(other) => Err(Error::config(format!(
                    "{field} names {oid}, which is a {other} on {}, not a commit",
                    source.shown_uri()
                ))
                .with_fix(fix)),
                None => Err(Error::config(format!(
                    "{field} names commit {oid}, which is on no branch or tag of {}",
                    source.shown_uri()
                ))
                .with_fix(fix)),
            }
        }
        Named::Tag(name) => {
            let refname = fetch_one_tag(repo, source, name, false)?;
            let shown = request::shown(name);
            let Some(target) = repo.find_reference(&refname).ok().and_then(|r| r.target()) else {
                return Err(Error::config(format!(
                    "{field} names tag {shown}, which is not on {}",
                    source.shown_uri()
                ))
                .with_fix(fix));
            };
            if kind_of(target) == Some(ObjectType::Commit) {
                // A lightweight tag names its commit itself.
                return Ok(TestedFrom::Commit(target));
            }
            let chain = chain::read(repo, name);
            if let Some(f) = chain.rejection() {
                return Err(Error::config(format!(
                    "{field} names tag {shown}, whose chain is rejected: {}",
                    f.problem
                ))
                .with_fix(fix));
            }
            match chain.commit.as_deref().map(Oid::from_str) {
                Some(Ok(oid)) => Ok(TestedFrom::Commit(oid)),
                _ => Err(Error::config(format!(
                    "{field} names tag {shown}, which reaches no commit"
                ))
                .with_fix(fix)),
            }
        }
    }
}

/// The options of the layer `out` makes: the free text, the build lines,
/// the tagger, and the transition the layer records: from
/// `params.tested_from`, or, with `in_order`, the tag's base ([`base_of`]).
fn layer_options(
    free: String,
    build_lines: Vec<String>,
    tagger: Option<String>,
    tested_from: Option<TestedFrom>,
) -> LayerOptions {
    LayerOptions {
        message: Some(free),
        tagger,
        build_lines,
        tested_from,
    }
}

/// The tag and commit a get of this resource left in `DIR/.git/sigtag`.
fn read_get_dir(sources_dir: &Path, from: &str) -> Result<(String, String)> {
    let rel = Path::new(from);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Error::config(format!(
            "params.from \"{}\" must be the name of a get step's directory, like \"release\"",
            request::shown(from)
        )));
    }
    let dir = sources_dir
        .join(rel)
        .join(".git")
        .join(super::get::SIGTAG_DIR);
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map(|s| s.trim().to_string())
            .map_err(|_| {
                Error::config(format!(
                    "params.from \"{}\": {} not found; from must name the directory of a get of this resource type",
                    request::shown(from),
                    dir.join(name).display()
                ))
            })
    };
    let tag = read("tag")?;
    let commit = read("commit")?;
    if !request::valid_tag_name(&tag) || !request::is_object_id(&commit) {
        return Err(Error::config(format!(
            "params.from \"{}\": {} does not hold a tag and a commit written by this resource",
            request::shown(from),
            dir.display()
        )));
    }
    Ok((tag, commit))
}

/// The signing key: `params.signing_key`, else `source.signing_key`.
fn signing_key(request: &Request) -> Result<SigningKey> {
    let (text, field) = match opt_string(&request.params, "signing_key", "params.signing_key")? {
        Some(text) => (text, "params.signing_key"),
        None => match &request.source.signing_key {
            Some(secret) => (secret.expose().to_string(), "source.signing_key"),
            None => {
                return Err(Error::config(
                    "put needs a signing key: set params.signing_key (or source.signing_key) to an armored secret key",
                ))
            }
        },
    };
    sign::secret_key(&text, field)
}

/// `params.message` as free text ([`crate::message::free_text`]): no
/// control characters, no line that looks like one sigtag writes.
fn free_message(text: &str) -> Result<String> {
    let clean = crate::message::free_text(text)
        .map_err(|why| Error::config(format!("params.message: {why}")))?;
    if clean.trim().is_empty() {
        return Err(Error::config(
            "params.message holds no text once control characters are removed; write a message or leave it out",
        ));
    }
    Ok(clean)
}

/// The layer's message in its two parts: the free text
/// (`params.message`, already cleaned by [`free_message`], or a default)
/// and the lines sigtag writes about the build that promoted it (the
/// BUILD_* variables and ATC_EXTERNAL_URL, each made one clean line), which
/// [`crate::sign::layer_message`] puts in a paragraph of their own, last,
/// before the `Sigtag-Tested-From:` trailer.
fn layer_message(tag: &str, message: Option<String>) -> (String, Vec<String>) {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| crate::message::one_line(&v))
    };
    let mut text = match message {
        Some(m) => m,
        None => match (
            var("BUILD_TEAM_NAME"),
            var("BUILD_PIPELINE_NAME"),
            var("BUILD_JOB_NAME"),
            var("BUILD_NAME"),
        ) {
            (Some(team), Some(pipeline), Some(job), Some(build)) => {
                format!("{tag}: promoted by {team}/{pipeline}/{job} build {build}")
            }
            _ => format!("{tag}: co-signed by a Concourse build"),
        },
    };
    // A default made of names (a tag called "Build", a team called
    // "BUILD_X=y") must not look like a machine line either.
    if crate::message::free_text(&text).is_err() {
        text = format!("Co-signed {tag} from a Concourse build");
    }
    let mut lines = Vec::new();
    for name in BUILD_VARS {
        if let Some(value) = var(name) {
            lines.push(format!("{name}={value}"));
        }
    }
    if var("BUILD_URL").is_none() {
        if let (Some(atc), Some(team), Some(pipeline), Some(job), Some(build)) = (
            var("ATC_EXTERNAL_URL"),
            var("BUILD_TEAM_NAME"),
            var("BUILD_PIPELINE_NAME"),
            var("BUILD_JOB_NAME"),
            var("BUILD_NAME"),
        ) {
            lines.push(format!(
                "Build: {}/teams/{team}/pipelines/{pipeline}/jobs/{job}/builds/{build}",
                atc.trim_end_matches('/')
            ));
        }
    }
    (text, lines)
}

/// The source's rule judged on `chain` (with its base among `repo`'s
/// tags, for a rule with transition atoms), logged as one line.
fn judge(request: &Request, repo: &Repository, chain: &chain::Chain) -> Verdict {
    let source = &request.source;
    let verdict = source.gate().judge_chain_in(repo, chain);
    log(&super::verdict_line(&verdict));
    verdict
}

/// The output of a put: the version, who co-signed and where, the rule
/// required before signing, and whether the source's rule is met now
/// (`after`, judged on the chain as it is on the remote); with a layer
/// `added` that records a transition, `tested from`.
#[allow(clippy::too_many_arguments)]
fn output(
    tag: &str,
    commit: &str,
    key: &SigningKey,
    rule: &Rule,
    after: &Verdict,
    layers: usize,
    layer: usize,
    added: bool,
    tested_from: Option<&TestedFrom>,
) -> Output {
    let who = key.ident().unwrap_or_else(|_| "(no user ID)".into());
    let mut output = Output {
        version: Version {
            tag: tag.to_string(),
            commit: commit.to_string(),
        },
        metadata: vec![
            metadata_entry("tag", tag),
            metadata_entry("commit", commit),
            metadata_entry(
                "co-signed by",
                &format!("{who}, key {}", key.fingerprint().to_hex()),
            ),
            metadata_entry(
                if added {
                    "added layer"
                } else {
                    "already signed layer"
                },
                &layer.to_string(),
            ),
            metadata_entry("layers", &layers.to_string()),
            metadata_entry("required before signing", &rule.to_string()),
            metadata_entry("rule", &after.rule.to_string()),
            metadata_entry("rule met", if after.satisfied { "yes" } else { "no" }),
            metadata_entry("verdict", &super::verdict_line(after)),
        ],
    };
    output.metadata.extend(super::emergency_entry(after));
    if let Some(t) = tested_from.filter(|_| added) {
        output
            .metadata
            .push(metadata_entry("tested from", &t.to_string()));
    }
    output
}
