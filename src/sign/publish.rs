//! Publishing a new layer: the push is a compare-and-swap on the remote,
//! and when the remote refuses it the local ref goes back to where it
//! was, so no half-published state remains.
//!
//! [`publish`] (the command line's) also says what became of the local
//! tag: a new tag is deleted, a co-signed one is back at the layer it had.
//! [`check_remote`] catches a remote name that is not configured before
//! anything is signed.

use super::Signed;
use crate::error::{clean, Error, Result};
use crate::remote;
use git2::{Oid, Repository};

/// Refuses a `--push` target that is neither a configured remote nor a
/// URL or path: `git push` would refuse it too, and finding out after
/// signing would cost a PIN or a touch for nothing.
pub fn check_remote(repo: &Repository, remote_name: &str) -> Result<()> {
    let url_or_path = remote_name.contains(':')
        || remote_name.contains('/')
        || std::path::Path::new(remote_name).exists();
    if url_or_path || repo.find_remote(remote_name).is_ok() {
        return Ok(());
    }
    let mut known: Vec<String> = Vec::new();
    if let Ok(remotes) = repo.remotes() {
        known.extend(remotes.iter().flatten().flatten().map(String::from));
    }
    let have = if known.is_empty() {
        "it has none".to_string()
    } else {
        format!("it has {}", known.join(", "))
    };
    Err(Error::usage(format!(
        "--push {remote_name}: the repository has no remote named {remote_name:?} ({have}); nothing was signed and no tag was changed; add it with git remote add {remote_name} URL, or pass a URL"
    )))
}

/// Pushes a new layer; if the remote refuses, the local ref goes back to
/// where it was, so no half-published state remains, and the error says
/// so: the new tag was deleted, or the co-signed tag is back at its
/// previous layer.
pub fn publish(repo: &Repository, name: &str, remote_name: &str, signed: &Signed) -> Result<()> {
    match push_or_roll_back(repo, name, remote_name, signed, &remote::Access::default()) {
        Ok(()) => Ok(()),
        Err(Failed::RolledBack(e, previous)) => {
            let note = match previous {
                None => format!(
                    "the new tag {name} was deleted from this repository again, so nothing is half published"
                ),
                Some(prev) => format!(
                    "the local tag {name} is back at {} as before, without the new layer",
                    short(&prev)
                ),
            };
            let mut out = Error::new(e.kind(), format!("{}; {note}", e.message()));
            if let Some(fix) = e.fix() {
                out = out.with_fix(fix);
            }
            if let Some(cause) = e.cause() {
                out = out.with_cause(cause);
            }
            Err(out)
        }
        Err(Failed::Stuck(e)) => Err(e),
    }
}

/// [`publish`] with explicit credentials for the remote, and the remote's
/// error as it is (the resource's scratch clone is nobody's to know about).
pub fn publish_with(
    repo: &Repository,
    name: &str,
    remote_name: &str,
    signed: &Signed,
    access: &remote::Access,
) -> Result<()> {
    push_or_roll_back(repo, name, remote_name, signed, access).map_err(|f| match f {
        Failed::RolledBack(e, _) | Failed::Stuck(e) => e,
    })
}

/// Why a push failed, and what became of the local tag.
enum Failed {
    /// The push failed and the local tag is back where it was (`None`: it
    /// did not exist, and is deleted again).
    RolledBack(Error, Option<Oid>),
    /// The push failed and the local tag could not be put back.
    Stuck(Error),
}

fn short(oid: &Oid) -> String {
    let hex = oid.to_string();
    hex.get(..12).unwrap_or(&hex).to_string()
}

fn push_or_roll_back(
    repo: &Repository,
    name: &str,
    remote_name: &str,
    signed: &Signed,
    access: &remote::Access,
) -> std::result::Result<(), Failed> {
    let Signed::Added { layer, previous } = signed else {
        return Ok(());
    };
    let Err(error) = remote::push_tag_with(repo, remote_name, name, *previous, access) else {
        return Ok(());
    };
    let refname = format!("refs/tags/{name}");
    let rollback = match previous {
        Some(prev) => repo
            .reference_matching(
                &refname,
                *prev,
                true,
                *layer,
                "sigtag: push refused, roll back",
            )
            .map(|_| ()),
        None => repo.find_reference(&refname).and_then(|mut r| {
            if r.target() == Some(*layer) {
                r.delete()
            } else {
                Ok(())
            }
        }),
    };
    match rollback {
        Ok(()) => Err(Failed::RolledBack(error, *previous)),
        Err(e) => Err(Failed::Stuck(Error::repo(format!(
            "{error}; also could not restore the local tag: {}",
            clean(e.message())
        )))),
    }
}
