//! `out`: co-sign a tag and push the new layer.
//!
//! The chain must already meet `params.require` (default: the source's
//! rule). A key that already signed a layer changes nothing. The push is a
//! compare-and-swap: when the tag changed on the remote meanwhile (another
//! pipeline or a person co-signed), the newer chain is fetched and the
//! layer is made again on top of it, so no signature is ever lost.
//!
//! The output never takes the source's rule for met: the chain as pushed
//! (or as found, when nothing was added) is judged again by the source's
//! rule, and the log and metadata say whether it holds and, if not, what
//! it still needs.

use super::cache::temp_root;
use super::request::{self, deny_unknown, opt_string, Request, Version};
use super::{log, metadata_entry, Output};
use crate::chain;
use crate::error::{clean, Error, ErrorKind, Result};
use crate::message::BUILD_VARS;
use crate::remote;
use crate::rule::Rule;
use crate::sign::{self, LayerOptions, Signed, SigningKey};
use crate::verdict::{Gate, Verdict};
use git2::Repository;
use std::path::{Component, Path};

/// How many times a layer is made again after the tag changed on the
/// remote before giving up.
pub use crate::limits::MAX_PUT_ATTEMPTS as MAX_ATTEMPTS;

/// The params `out` accepts.
pub const PARAMS: &[&str] = &["tag", "from", "signing_key", "require", "message"];

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
    let message = layer_message(&tag, free);
    let tagger = match key.ident() {
        Ok(_) => None,
        Err(_) => Some("Concourse <concourse@localhost>".to_string()),
    };
    let opts = LayerOptions {
        message: Some(message),
        tagger,
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

    let history = source.rule.has_transitions() || rule.has_transitions();
    for attempt in 1..=MAX_ATTEMPTS {
        let chain = fetch_tag(&repo, &request, &tag, history)?;
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
                log(&format!(
                    "{tag} already carries a signature by {} (layer {layer}); nothing to do",
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
                ));
            }
            Signed::Added { previous, .. } => *previous,
        };
        match sign::publish_with(&repo, &tag, &source.uri, &signed, &source.access) {
            Ok(()) => {
                let layers = chain.layers.len() + 1;
                log(&format!(
                    "co-signed {tag} with {} as layer {layers} and pushed it to {}",
                    key.fingerprint().to_hex(),
                    source.shown_uri()
                ));
                // What the source's rule says of the chain just pushed,
                // judged again rather than assumed.
                let after = judge(&request, &repo, &chain::read(&repo, &tag));
                return Ok(output(
                    &tag, &commit, &key, &rule, &after, layers, layers, true,
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

/// Fetches exactly one tag (replacing the local one) and reads its chain.
/// With `history` (a rule with transition atoms, which judges the tag
/// with its base), every tag of the remote comes too.
fn fetch_tag(
    repo: &Repository,
    request: &Request,
    tag: &str,
    history: bool,
) -> Result<chain::Chain> {
    let source = &request.source;
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
    if repo.find_reference(&refname).is_err() {
        return Err(Error::refused(format!(
            "there is no tag {tag} on {}; put co-signs an existing tag",
            source.shown_uri()
        )));
    }
    Ok(chain::read(repo, tag))
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

/// The layer's message: the free text (`params.message`, already cleaned
/// by [`free_message`], or a default), then, in a paragraph of their own
/// and always last, the lines sigtag writes about the build that promoted
/// it (the BUILD_* variables and ATC_EXTERNAL_URL, each made one clean
/// line).
fn layer_message(tag: &str, message: Option<String>) -> String {
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
    let mut trailer = String::new();
    for name in BUILD_VARS {
        if let Some(value) = var(name) {
            trailer.push_str(&format!("{name}={value}\n"));
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
            trailer.push_str(&format!(
                "Build: {}/teams/{team}/pipelines/{pipeline}/jobs/{job}/builds/{build}\n",
                atc.trim_end_matches('/')
            ));
        }
    }
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    text.push('\n');
    if !trailer.is_empty() {
        text.push('\n');
        text.push_str(&trailer);
    }
    text
}

/// The source's rule judged on `chain` (with its base among `repo`'s
/// tags, for a rule with transition atoms), logged as one line.
fn judge(request: &Request, repo: &Repository, chain: &chain::Chain) -> Verdict {
    let source = &request.source;
    let verdict = Gate::new(&source.trust, &source.environment, source.rule.clone())
        .filtered(source.tag_filter.as_deref())
        .judge_chain_in(repo, chain);
    log(&super::verdict_line(&verdict));
    verdict
}

/// The output of a put: the version, who co-signed and where, the rule
/// required before signing, and whether the source's rule is met now
/// (`after`, judged on the chain as it is on the remote).
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
) -> Output {
    let who = key.ident().unwrap_or_else(|_| "(no user ID)".into());
    Output {
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
    }
}
