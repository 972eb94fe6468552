//! `in`: fetch the version's tag, verify it again, check out its commit.
//!
//! A put's version and a cached get never pass through `check`, so this is
//! the real gate: the tag must still satisfy `source.require` and still
//! point at the version's commit, or the step fails. Under a rule with
//! transition atoms every tag is fetched, so that the tag is judged with
//! its base (DESIGN §6), and the metadata names that base (`base`:
//! `v1.3.0 (<40 hex>)` or `none`).
//!
//! The destination gets the work tree and its `.git`, plus
//!
//! ```text
//! .git/sigtag/report.json   the verification report (as `sigtag verify --json`)
//! .git/sigtag/tag           the tag name
//! .git/sigtag/commit        the commit
//! .git/sigtag/vsa.json      the statement `sigtag attest` makes (unsigned):
//!                           resourceUri source.uri without credentials,
//!                           policy the source's trust digest
//! ```
//!
//! `.git/sigtag` appears last, in one rename, and a failed `in` removes
//! everything it wrote: a destination never looks complete when it is not.
//!
//! The log and a refusal name the rule the tag was judged by, quoted (a
//! resource has no environment name): `v1.4.0: yes for "2 of humans"
//! (alice, bob)`.

use super::request::{self, deny_unknown, Request, Version};
use super::{log, metadata_entry, refused_reason, Metadata, Output};
use crate::attest;
use crate::date::rfc3339;
use crate::error::{clean, Error, Result};
use crate::remote;
use crate::render;
use crate::verdict::Verdict;
use git2::{Oid, Repository};
use std::fs;
use std::path::Path;

/// Files under `DEST/.git/` that `in` writes.
pub const SIGTAG_DIR: &str = "sigtag";

pub fn run(request: Request, dest: &Path) -> Result<Output> {
    deny_unknown(&request.params, &[], "params of get")?;
    let source = &request.source;
    let Some(version) = request.version.clone() else {
        return Err(Error::usage(
            "in needs a version {\"tag\": ..., \"commit\": ...}; Concourse passes the one check or put produced",
        ));
    };
    if !source.wants(&version.tag) {
        return Err(Error::refused(format!(
            "tag {} does not match source.tag_filter \"{}\"",
            request::shown(&version.tag),
            request::shown(source.tag_filter.as_deref().unwrap_or(""))
        )));
    }
    prepare(dest)?;
    super::prepare_network(source, source.network_timeout);
    match fetch_and_verify(&request, &version, dest) {
        Ok(out) => Ok(out),
        Err(e) => {
            clear(dest);
            Err(e)
        }
    }
}

/// The destination must exist and be empty (Concourse makes it so).
fn prepare(dest: &Path) -> Result<()> {
    fs::create_dir_all(dest)
        .map_err(|e| Error::io(format!("cannot create {}: {e}", dest.display())))?;
    let mut entries = fs::read_dir(dest)
        .map_err(|e| Error::io(format!("cannot read {}: {e}", dest.display())))?;
    if entries.next().is_some() {
        return Err(Error::usage(format!(
            "the destination {} is not empty; in needs an empty directory",
            dest.display()
        )));
    }
    Ok(())
}

/// Removes everything in `dest` (not `dest` itself, which Concourse owns).
fn clear(dest: &Path) {
    if let Ok(entries) = fs::read_dir(dest) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
    }
}

fn fetch_and_verify(request: &Request, version: &Version, dest: &Path) -> Result<Output> {
    let source = &request.source;
    let tag = &version.tag;
    let repo = Repository::init(dest).map_err(|e| {
        Error::io(format!(
            "cannot create a repository in {}: {}",
            dest.display(),
            clean(e.message())
        ))
    })?;
    // Like a clone: an "origin" remote, without any password in it.
    repo.remote("origin", &source.shown_uri()).map_err(|e| {
        Error::repo(format!(
            "cannot add the origin remote: {}",
            clean(e.message())
        ))
    })?;

    // A rule with transition atoms judges the tag with its base, and an
    // environment that takes emergencies with its older emergencies, among
    // every tag of the remote.
    let gate = source.gate();
    let refspec = if gate.needs_history() {
        "+refs/tags/*:refs/tags/*".to_string()
    } else {
        format!("+refs/tags/{tag}:refs/tags/{tag}")
    };
    remote::fetch(
        &repo,
        &source.uri,
        &[refspec.as_str()],
        false,
        &source.access,
    )
    .map_err(|e| super::remote_hint(source, e))?;

    // Verify exactly what was fetched, with the library's own steps.
    let verdict = gate.judge(&repo, tag);
    if !verdict.satisfied {
        return Err(Error::refused(format!(
            "tag {} is not a valid version any more: {}",
            request::shown(tag),
            refused_reason(&verdict)
        )));
    }
    let commit = verdict.commit.clone().unwrap_or_default();
    if commit != version.commit {
        return Err(Error::refused(format!(
            "tag {} now points at commit {commit}, not at {} as the version says; the tag was moved, so this version is refused",
            request::shown(tag),
            version.commit
        )));
    }

    let oid = Oid::from_str(&commit)
        .map_err(|e| Error::repo(format!("bad commit id {commit}: {}", clean(e.message()))))?;
    repo.set_head_detached(oid).map_err(|e| {
        Error::repo(format!(
            "cannot point HEAD at {commit}: {}",
            clean(e.message())
        ))
    })?;
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force();
    repo.checkout_head(Some(&mut checkout))
        .map_err(|e| Error::repo(format!("cannot check out {commit}: {}", clean(e.message()))))?;

    // The same statement `sigtag attest` makes, naming the source's uri
    // without credentials and its trust digest.
    let vsa = attest::statement(
        &verdict,
        &attest::Inputs {
            resource_uri: &remote::strip_credentials(&source.uri),
            policy_digest: &source.digest,
            time_verified: gate.now,
        },
    )?
    .to_json()?;
    write_files(&repo, &verdict, tag, &commit, &vsa)?;
    log(&super::verdict_line(&verdict));

    let mut metadata: Metadata = vec![
        metadata_entry("tag", tag),
        metadata_entry("commit", &commit),
        metadata_entry("rule", &verdict.rule.to_string()),
        metadata_entry("layers", &verdict.layers.len().to_string()),
    ];
    if let Some(t) = &verdict.transition {
        let base = match &t.base {
            Some(b) => format!("{} ({})", b.tag, b.commit),
            None => "none".to_string(),
        };
        metadata.push(metadata_entry("base", &base));
    }
    metadata.extend(super::emergency_entry(&verdict));
    for (layer, c) in verdict.counted() {
        metadata.push(metadata_entry(
            "signer",
            &format!(
                "{} ({}), layer {layer}, key {}, {}",
                c.signer.name,
                render::groups(&c.signer),
                c.key,
                rfc3339(c.created)
            ),
        ));
    }
    Ok(Output {
        version: version.clone(),
        metadata,
    })
}

/// Writes `.git/sigtag/` through a temporary directory renamed into place.
fn write_files(
    repo: &Repository,
    verdict: &Verdict,
    tag: &str,
    commit: &str,
    vsa: &str,
) -> Result<()> {
    let gitdir = repo.path();
    let partial = gitdir.join(format!("{SIGTAG_DIR}.partial"));
    let done = gitdir.join(SIGTAG_DIR);
    let io = |e: std::io::Error| Error::io(format!("cannot write {}: {e}", partial.display()));
    fs::create_dir_all(&partial).map_err(io)?;
    let json = render::json::array(std::slice::from_ref(verdict))
        .map_err(|e| Error::io(format!("cannot encode the report: {e}")))?;
    fs::write(partial.join("report.json"), format!("{json}\n")).map_err(io)?;
    fs::write(partial.join("tag"), format!("{tag}\n")).map_err(io)?;
    fs::write(partial.join("commit"), format!("{commit}\n")).map_err(io)?;
    fs::write(partial.join("vsa.json"), vsa).map_err(io)?;
    fs::rename(&partial, &done).map_err(io)
}
