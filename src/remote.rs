//! Talking to remotes: credentials and the compare-and-swap push of a tag.
//!
//! A tag is pushed only if the remote still holds the value it was built
//! on. Two guards make that so: the push negotiation callback compares
//! the remote's advertised value with the expected one before anything is
//! sent, and the server itself applies the update only if the ref still
//! holds the old value the client sends with it (git's receive-pack locks
//! the ref and compares). A refused update is read from the per-ref status,
//! because libgit2 reports success for the push as a whole.

use crate::error::{clean, Error, Result};
use git2::{Cred, CredentialType, Oid, PushOptions, RemoteCallbacks, Repository};
use std::cell::RefCell;

/// Credential attempts before giving up (libgit2 asks again after every
/// refusal, forever, if the callback keeps answering).
const MAX_CREDENTIAL_ATTEMPTS: usize = 3;

/// Callbacks that answer credential requests from the ssh agent, the git
/// credential helpers, or the default (Kerberos/NTLM) credentials, a bounded
/// number of times.
pub fn credential_callbacks<'a>(repo: &'a Repository) -> RemoteCallbacks<'a> {
    let attempts = RefCell::new(0usize);
    let mut cbs = RemoteCallbacks::new();
    cbs.credentials(move |url, username, allowed| {
        let mut n = attempts.borrow_mut();
        *n += 1;
        if *n > MAX_CREDENTIAL_ATTEMPTS {
            return Err(git2::Error::from_str("authentication failed"));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            return Cred::ssh_key_from_agent(username.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let Ok(config) = repo.config() {
                return Cred::credential_helper(&config, url, username);
            }
        }
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(username.unwrap_or("git"));
        }
        Cred::default()
    });
    cbs
}

/// Pushes `refs/tags/NAME` (which must already point at the new value
/// locally) to `remote`, only if the remote's tag is still `expected`
/// (`None`: the remote must not have the tag).
pub fn push_tag(repo: &Repository, remote: &str, name: &str, expected: Option<Oid>) -> Result<()> {
    let refname = format!("refs/tags/{name}");
    let mut handle = repo
        .find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))
        .map_err(|e| Error::remote(format!("no remote named {remote}: {}", clean(e.message()))))?;

    let changed: RefCell<Option<Oid>> = RefCell::new(None);
    let refused: RefCell<Option<String>> = RefCell::new(None);
    let mut cbs = credential_callbacks(repo);
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
    opts.remote_callbacks(cbs);
    let spec = format!("+{refname}:{refname}");
    let result = handle.push(&[spec.as_str()], Some(&mut opts));
    drop(opts);

    if let Some(current) = changed.into_inner() {
        let what = if current.is_zero() {
            "was deleted".to_string()
        } else if expected.is_none() {
            format!("already exists there ({current})")
        } else {
            format!("now points at {current}")
        };
        return Err(Error::remote(format!(
            "tag {name} changed on {remote} since it was read: it {what}; fetch it (git fetch {remote} +{refname}:{refname}) and sign again"
        )));
    }
    result.map_err(|e| {
        Error::remote(format!(
            "cannot push {name} to {remote}: {}",
            clean(e.message())
        ))
    })?;
    if let Some(why) = refused.into_inner() {
        return Err(Error::remote(format!(
            "{remote} refused the update of {why}; fetch the tag and sign again"
        )));
    }
    Ok(())
}
