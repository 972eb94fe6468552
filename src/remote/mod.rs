//! Talking to remotes: credentials, fetching tags, and the compare-and-swap
//! push of a tag.
//!
//! A tag is pushed only if the remote still holds the value it was built
//! on. Two guards make that so: the push negotiation callback compares
//! the remote's advertised value with the expected one before anything is
//! sent, and the server itself applies the update only if the ref still
//! holds the old value the client sends with it (git's receive-pack locks
//! the ref and compares). A refused update is read from the per-ref status,
//! because libgit2 reports success for the push as a whole. libgit2's
//! local transport has no such server, so a push to a repository on this
//! machine moves the tag itself, under the ref lock (see [`push_tag_with`]).
//!
//! Credentials come from an [`Access`] (the resource's source) or, without
//! one, from the ssh agent and git's credential helpers; either way the
//! callback gives up after a few attempts, because libgit2 asks again after
//! every refusal, and it answers only requests for the scheme, host and
//! port of the URL the caller configured ([`same_origin`]).
//!
//! Redirects: a fetch, a download and a push refuse a redirect to another
//! host (`follow_redirects(RemoteRedirect::None)`; libgit2 still follows a
//! redirect within the same host name, to another path or port). Listing a
//! remote's refs ([`fetch_refs`], and the second look after a refused push)
//! goes through `git_remote_connect`, which takes no redirect setting:
//! there libgit2 follows a redirect of the first request to another host
//! (its default, `http.followRedirects=initial`, unless the repository's
//! configuration says otherwise). In every case the credential callback
//! refuses the other host, so a password or token never leaves the
//! configured host.
//!
//! One module per job: [`url`] (redaction, stripping credentials, origins,
//! local paths),
//! [`known_hosts`] (pinned ssh host keys), [`credentials`] (libgit2's
//! callbacks and the bound on network waits), [`fetch`](mod@fetch) and
//! [`push`] (the compare-and-swap).

pub mod credentials;
pub mod fetch;
pub mod known_hosts;
pub mod push;
pub mod url;

pub use credentials::{callbacks, credential_callbacks, limit_network_waits, Access, HostKeys};
pub use fetch::{fetch, fetch_refs};
pub use known_hosts::{host_key_pinned, parse_known_hosts, ssh_fingerprint, KnownHost};
pub use push::{push_tag, push_tag_with};
pub use url::{local_path, redact_url, same_origin, strip_credentials, url_secrets};

/// A duration for messages: `60 s`, `2.5 s`.
pub use crate::limits::seconds;

/// libgit2 loads the system's whole CA bundle when it starts, which costs
/// OpenSSL 3 tens of milliseconds on every run; work that opens no TLS
/// connection does not need it, whatever SSL_CERT_FILE says. Call before
/// anything starts threads or touches libgit2, and only on paths that
/// never open a TLS connection.
pub fn skip_ca_bundle() {
    std::env::set_var("SSL_CERT_FILE", "/dev/null");
}
