//! The compare-and-swap push of a tag (see the module doc of
//! [`crate::remote`]).

use super::credentials::{noted_callbacks, reason, Access};
use super::url::{local_repo_path, redact_url};
use crate::error::{clean, Error, ErrorKind, Result};
use crate::limits::{LOCK_WAIT, LOCK_WAITS};
use git2::{ObjectType, Oid, PushOptions, RemoteRedirect, Repository};
use std::cell::RefCell;

/// Pushes `refs/tags/NAME` (which must already point at the new value
/// locally) to `remote`, only if the remote's tag is still `expected`
/// (`None`: the remote must not have the tag).
pub fn push_tag(repo: &Repository, remote: &str, name: &str, expected: Option<Oid>) -> Result<()> {
    push_tag_with(repo, remote, name, expected, &Access::default())
}

/// The error of a compare-and-swap that found another value.
fn changed_error(name: &str, remote: &str, expected: Option<Oid>, current: Option<Oid>) -> Error {
    let refname = format!("refs/tags/{name}");
    let what = match current {
        None => "was deleted".to_string(),
        Some(c) if expected.is_none() => format!("already exists there ({c})"),
        Some(c) => format!("now points at {c}"),
    };
    Error::remote(format!(
        "tag {name} changed on {remote} since it was read: it {what}; fetch it (git fetch {remote} +{refname}:{refname}) and sign again"
    ))
}

/// Copies `top` and every object it reaches that `to` lacks from `from`
/// into `to`. An object `to` already has is taken to come with everything
/// it reaches, as git's connectivity rule says; submodule commits are not
/// followed.
fn copy_objects(
    from: &Repository,
    to: &Repository,
    top: Oid,
) -> std::result::Result<(), git2::Error> {
    let (src, dst) = (from.odb()?, to.odb()?);
    let mut todo = vec![top];
    while let Some(oid) = todo.pop() {
        if dst.exists(oid) {
            continue;
        }
        let object = src.read(oid)?;
        match object.kind() {
            ObjectType::Tag => todo.push(from.find_tag(oid)?.target_id()),
            ObjectType::Commit => {
                let commit = from.find_commit(oid)?;
                todo.push(commit.tree_id());
                todo.extend(commit.parent_ids());
            }
            ObjectType::Tree => todo.extend(
                from.find_tree(oid)?
                    .iter()
                    .filter(|e| e.kind() != Some(ObjectType::Commit))
                    .map(|e| e.id()),
            ),
            _ => {}
        }
        dst.write(object.kind(), object.data())?;
    }
    Ok(())
}

/// Pushing to a repository on this machine. libgit2's local transport
/// overwrites the remote ref without comparing it with the value it was
/// built on, so the objects the remote lacks are copied into its object
/// database (no ref names them yet, so nobody sees them), and the tag is
/// then moved in the remote repository with a compare-and-swap under git's
/// ref lock, the same guarantee receive-pack gives.
fn push_tag_local(
    repo: &Repository,
    path: &std::path::Path,
    remote: &str,
    name: &str,
    expected: Option<Oid>,
) -> Result<()> {
    let refname = format!("refs/tags/{name}");
    let new = repo
        .refname_to_id(&refname)
        .map_err(|e| Error::repo(format!("cannot read {refname}: {}", clean(e.message()))))?;
    let target = Repository::open(path)
        .map_err(|e| Error::remote(format!("cannot open {remote}: {}", clean(e.message()))))?;
    copy_objects(repo, &target, new).map_err(|e| {
        Error::remote(format!(
            "cannot push {name} to {remote}: {}",
            clean(e.message())
        ))
    })?;
    // Another process holding the ref's lock is about to move it or give
    // up; wait for it a moment, as git does (core.filesRefLockTimeout), so
    // that the answer is about the value, not about the lock.
    let mut waits = 0;
    let swapped = loop {
        let attempt = match expected {
            Some(old) => target.reference_matching(&refname, new, true, old, "sigtag push"),
            None => target.reference(&refname, new, false, "sigtag push"),
        };
        match attempt {
            Err(e) if e.code() == git2::ErrorCode::Locked && waits < LOCK_WAITS => {
                waits += 1;
                std::thread::sleep(LOCK_WAIT);
            }
            other => break other,
        }
    };
    match swapped {
        Ok(_) => Ok(()),
        Err(e) => {
            let current = target.refname_to_id(&refname).ok();
            if current != expected {
                Err(changed_error(name, remote, expected, current))
            } else {
                Err(Error::remote(format!(
                    "{remote} refused the update of {refname}: {}; fetch the tag and sign again",
                    clean(e.message())
                )))
            }
        }
    }
}

/// [`push_tag`] with explicit credentials.
pub fn push_tag_with(
    repo: &Repository,
    remote: &str,
    name: &str,
    expected: Option<Oid>,
    access: &Access,
) -> Result<()> {
    let refname = format!("refs/tags/{name}");
    let mut handle = repo
        .find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))
        .map_err(|e| {
            Error::remote(format!(
                "no remote named {}: {}",
                redact_url(remote),
                clean(e.message())
            ))
        })?;
    let shown = redact_url(remote);
    let remote = shown.as_str();
    if let Some(path) = handle.url().ok().and_then(local_repo_path) {
        return push_tag_local(repo, &path, remote, name, expected);
    }

    let changed: RefCell<Option<Oid>> = RefCell::new(None);
    let refused: RefCell<Option<String>> = RefCell::new(None);
    // Credentials go where the push goes: the push URL when the remote
    // has one.
    let url = handle
        .pushurl()
        .ok()
        .flatten()
        .or_else(|| handle.url().ok())
        .unwrap_or_default()
        .to_string();
    let (mut cbs, note) = noted_callbacks(Some(repo), access, &url);
    cbs.push_negotiation(|updates| {
        for u in updates {
            if u.dst_refname().ok() == Some(refname.as_str()) {
                let current = u.src();
                let want = expected.unwrap_or(Oid::ZERO_SHA1);
                if current != want {
                    *changed.borrow_mut() = Some(current);
                    return Err(git2::Error::from_str("the remote tag changed"));
                }
            }
        }
        Ok(())
    });
    cbs.push_update_reference(|r, status| {
        if let Some(s) = status {
            *refused.borrow_mut() = Some(format!("{r}: {s}"));
        }
        Ok(())
    });
    let mut opts = PushOptions::new();
    opts.remote_callbacks(cbs)
        .follow_redirects(RemoteRedirect::None);
    let spec = format!("+{refname}:{refname}");
    let result = handle.push(&[spec.as_str()], Some(&mut opts));
    drop(opts);

    if let Some(current) = changed.into_inner() {
        let current = (!current.is_zero()).then_some(current);
        return Err(changed_error(name, remote, expected, current));
    }
    result.map_err(|e| {
        reason(&e, &note, access).error(
            ErrorKind::Remote,
            &format!("cannot push {name} to {remote}"),
        )
    })?;
    if let Some(why) = refused.into_inner() {
        // The server compares the tag with the value the push was built on
        // under its lock; when another push got there first, say so.
        if let Some(current) = advertised(&mut handle, &refname, access) {
            if current != expected {
                return Err(changed_error(name, remote, expected, current));
            }
        }
        return Err(Error::remote(format!(
            "{remote} refused the update of {why}; fetch the tag and sign again"
        )));
    }
    Ok(())
}

/// The value a remote advertises for `refname` now (`Some(None)`: it has no
/// such ref), or `None` when the remote cannot be listed.
fn advertised(
    handle: &mut git2::Remote<'_>,
    refname: &str,
    access: &Access,
) -> Option<Option<Oid>> {
    let url = handle.url().ok()?.to_string();
    let (cbs, _) = noted_callbacks(None, access, &url);
    let connection = handle
        .connect_auth(git2::Direction::Fetch, Some(cbs), None)
        .ok()?;
    let heads = connection.list().ok()?;
    Some(heads.iter().find(|h| h.name() == refname).map(|h| h.oid()))
}
