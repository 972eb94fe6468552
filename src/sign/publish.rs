//! Publishing a new layer: the push is a compare-and-swap on the remote,
//! and when the remote refuses it the local ref goes back to where it
//! was, so no half-published state remains.

use super::Signed;
use crate::error::{clean, Error, Result};
use crate::remote;
use git2::Repository;

/// Pushes a new layer; if the remote refuses, the local ref goes back to
/// where it was, so no half-published state remains.
pub fn publish(repo: &Repository, name: &str, remote_name: &str, signed: &Signed) -> Result<()> {
    publish_with(repo, name, remote_name, signed, &remote::Access::default())
}

/// [`publish`] with explicit credentials for the remote.
pub fn publish_with(
    repo: &Repository,
    name: &str,
    remote_name: &str,
    signed: &Signed,
    access: &remote::Access,
) -> Result<()> {
    let Signed::Added { layer, previous } = signed else {
        return Ok(());
    };
    let result = remote::push_tag_with(repo, remote_name, name, *previous, access);
    if result.is_err() {
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
        if let Err(e) = rollback {
            return Err(Error::repo(format!(
                "{}; also could not restore the local tag: {}",
                result.err().map(|e| e.to_string()).unwrap_or_default(),
                clean(e.message())
            )));
        }
    }
    result
}
