//! Fetching: refs into a repository ([`fetch`]), and the objects of every
//! ref under a prefix with the list a remote advertises ([`fetch_refs`]).

use super::credentials::{noted_callbacks, reason, Access, Why};
use super::url::{local_path, redact_url};
use crate::error::{clean, Error, ErrorKind, Result};
use git2::{AutotagOption, FetchOptions, FetchPrune, Oid, RemoteRedirect, Repository};

/// Fetches `refspecs` from `url` into `repo` without following tags
/// automatically; with `prune`, local refs the refspecs cover that the
/// remote no longer has are deleted. Returns how many refs changed.
///
/// Errors from talking to the remote are [`ErrorKind::Remote`]; errors of
/// the local repository are [`ErrorKind::Repo`].
///
/// [`ErrorKind::Remote`]: crate::error::ErrorKind::Remote
/// [`ErrorKind::Repo`]: crate::error::ErrorKind::Repo
pub fn fetch(
    repo: &Repository,
    url: &str,
    refspecs: &[&str],
    prune: bool,
    access: &Access,
) -> Result<usize> {
    let shown = redact_url(url);
    let mut remote = repo.remote_anonymous(url).map_err(|e| {
        Error::remote(format!(
            "{shown} is not a usable git URL: {}",
            clean(e.message())
        ))
    })?;
    let updated = std::cell::Cell::new(0usize);
    let (mut cbs, note) = noted_callbacks(Some(repo), access, url);
    cbs.update_tips(|_, _, _| {
        updated.set(updated.get() + 1);
        true
    });
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(cbs)
        .follow_redirects(RemoteRedirect::None)
        .download_tags(AutotagOption::None)
        .update_fetchhead(false)
        .prune(if prune {
            FetchPrune::On
        } else {
            FetchPrune::Off
        });
    let result = remote.fetch(refspecs, Some(&mut opts), Some("sigtag fetch"));
    drop(opts);
    result.map_err(|e| {
        classify(
            &e,
            reason(&e, &note, access),
            &format!("cannot fetch from {shown}"),
        )
    })?;
    Ok(updated.get())
}

/// Errors from talking to the remote are [`ErrorKind::Remote`], errors of the
/// local repository [`ErrorKind::Repo`].
///
/// [`ErrorKind::Remote`]: crate::error::ErrorKind::Remote
/// [`ErrorKind::Repo`]: crate::error::ErrorKind::Repo
fn classify(e: &git2::Error, why: Why, what: &str) -> Error {
    use git2::{ErrorClass, ErrorCode};
    let transport = matches!(
        e.class(),
        ErrorClass::Net
            | ErrorClass::Ssh
            | ErrorClass::Http
            | ErrorClass::Ssl
            | ErrorClass::Callback
    ) || matches!(e.code(), ErrorCode::Auth | ErrorCode::Certificate);
    if transport {
        why.error(ErrorKind::Remote, what)
    } else {
        why.error(ErrorKind::Repo, what)
    }
}

fn list_local(url: &str, path: &std::path::Path, prefix: &str) -> Result<Vec<(String, Oid)>> {
    let shown = redact_url(url);
    let remote = Repository::open(path)
        .map_err(|e| Error::remote(format!("cannot read {shown}: {}", clean(e.message()))))?;
    let refs = remote.references_glob(&format!("{prefix}*")).map_err(|e| {
        Error::remote(format!(
            "cannot list the refs of {shown}: {}",
            clean(e.message())
        ))
    })?;
    let mut out = Vec::new();
    for r in refs.flatten() {
        let Some(name) = r.name().ok().map(str::to_string) else {
            continue;
        };
        if let Some(oid) = r
            .target()
            .or_else(|| r.resolve().ok().and_then(|r| r.target()))
        {
            out.push((name, oid));
        }
    }
    out.sort();
    Ok(out)
}

/// Brings the objects of every ref under `prefix` (e.g. `refs/tags/`)
/// into `repo` and returns those refs as `url` advertises them, sorted,
/// without the peeled `^{}` entries; or `None` when the advertisement
/// equals `known` (then nothing is downloaded). No ref of `repo` is
/// written: the caller decides what to do with the list.
///
/// One connection serves the listing and the download, so the objects
/// match the list. A `file://` repository is listed directly (libgit2's
/// local transport peels every tag to advertise it, which is slow with
/// many tags), and nothing is copied when `repo` already sees its objects
/// (through `objects/info/alternates`).
pub fn fetch_refs(
    repo: &Repository,
    url: &str,
    prefix: &str,
    known: &[(String, Oid)],
    access: &Access,
) -> Result<Option<Vec<(String, Oid)>>> {
    let shown = redact_url(url);
    if let Some(path) = local_path(url) {
        let list = list_local(url, &path, prefix)?;
        if list == known {
            return Ok(None);
        }
        let odb = repo
            .odb()
            .map_err(|e| Error::repo(format!("cannot read the cache: {}", clean(e.message()))))?;
        if list.iter().all(|(_, oid)| odb.exists(*oid)) {
            return Ok(Some(list));
        }
    }
    let mut remote = repo.remote_anonymous(url).map_err(|e| {
        Error::remote(format!(
            "{shown} is not a usable git URL: {}",
            clean(e.message())
        ))
    })?;
    let (cbs, note) = noted_callbacks(Some(repo), access, url);
    let mut connection = remote
        .connect_auth(git2::Direction::Fetch, Some(cbs), None)
        .map_err(|e| {
            reason(&e, &note, access).error(ErrorKind::Remote, &format!("cannot reach {shown}"))
        })?;
    let mut list: Vec<(String, Oid)> = connection
        .list()
        .map_err(|e| {
            reason(&e, &note, access).error(
                ErrorKind::Remote,
                &format!("cannot list the refs of {shown}"),
            )
        })?
        .iter()
        .filter(|h| h.name().starts_with(prefix) && !h.name().ends_with("^{}"))
        .map(|h| (h.name().to_string(), h.oid()))
        .collect();
    list.sort();
    if list == known {
        return Ok(None);
    }
    let (cbs, note) = noted_callbacks(Some(repo), access, url);
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(cbs)
        .follow_redirects(RemoteRedirect::None)
        .download_tags(AutotagOption::None)
        .update_fetchhead(false);
    // A download alone writes no ref (that would be update_tips).
    let spec = format!("+{prefix}*:{prefix}*");
    connection
        .remote()
        .download(&[spec.as_str()], Some(&mut opts))
        .map_err(|e| {
            classify(
                &e,
                reason(&e, &note, access),
                &format!("cannot fetch from {shown}"),
            )
        })?;
    Ok(Some(list))
}
