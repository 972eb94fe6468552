//! URLs of remotes: the forms fit for messages and `.git/config`
//! ([`redact_url`]) and for records ([`strip_credentials`]), the secrets a URL holds ([`url_secrets`]), where a URL
//! points ([`same_origin`]) and the path of a remote on this machine
//! ([`local_path`]). Pure: nothing here opens a connection.

/// In an http(s), git, file or any other non-ssh URL every form of user
/// info is a credential (`user:password@`, and a token given as the user
/// name, `TOKEN@`), so all of it goes. An ssh URL keeps its user name
/// (`ssh://git@host/...`, `git@host:path`): it names an account, not a
/// secret, and the key proves who connects; a password written into an ssh
/// URL is replaced.
pub fn redact_url(url: &str) -> String {
    let Some(Parts {
        scheme,
        userinfo,
        host,
        path,
    }) = parts(url)
    else {
        return url.to_string();
    };
    if is_ssh_scheme(scheme) {
        match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
            None => url.to_string(),
        }
    } else {
        format!("{scheme}://***@{host}{path}")
    }
}

/// `url` without its credentials, for a record that names where a
/// repository lives (an attestation's `resourceUri`): in an http(s), git,
/// file or any other non-ssh URL the whole user info goes (`user:password@`
/// and `TOKEN@` alike), where [`redact_url`] leaves `***@`; an ssh URL keeps
/// its user name and loses a password. scp-like ssh URLs (`git@host:path`)
/// and paths have no credentials and stay as they are.
pub fn strip_credentials(url: &str) -> String {
    let Some(Parts {
        scheme,
        userinfo,
        host,
        path,
    }) = parts(url)
    else {
        return url.to_string();
    };
    if is_ssh_scheme(scheme) {
        let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
        if user.is_empty() {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{user}@{host}{path}")
        }
    } else {
        format!("{scheme}://{host}{path}")
    }
}

/// A URL with user info, split: `scheme://userinfo@host` and the rest
/// (`path`, from the first `/`, `?` or `#`).
struct Parts<'u> {
    scheme: &'u str,
    userinfo: &'u str,
    host: &'u str,
    path: &'u str,
}

/// The parts of `url`; `None` when it has no scheme or no user info.
fn parts(url: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at_checked(end).unwrap_or((rest, ""));
    let (userinfo, host) = authority.rsplit_once('@')?;
    Some(Parts {
        scheme,
        userinfo,
        host,
        path,
    })
}

fn is_ssh_scheme(scheme: &str) -> bool {
    matches!(
        scheme.to_ascii_lowercase().as_str(),
        "ssh" | "git+ssh" | "ssh+git"
    )
}

/// The secret parts of the user info of `url`, as written and
/// percent-decoded: the password of `user:password@`, and the user name of
/// an http(s) or git URL without a password (a token). Empty for a URL
/// without user info and for `ssh://git@host`.
pub fn url_secrets(url: &str) -> Vec<String> {
    let Some(Parts {
        scheme, userinfo, ..
    }) = parts(url)
    else {
        return Vec::new();
    };
    let mut raw = Vec::new();
    match userinfo.split_once(':') {
        Some((user, password)) => {
            raw.push(password.to_string());
            if !is_ssh_scheme(scheme) {
                raw.push(userinfo.to_string());
                raw.push(user.to_string());
            }
        }
        None if !is_ssh_scheme(scheme) => raw.push(userinfo.to_string()),
        None => {}
    }
    let mut out = Vec::new();
    for r in raw.into_iter().filter(|r| !r.is_empty()) {
        let decoded = percent_decode(r.as_bytes());
        out.push(r);
        if let Ok(d) = String::from_utf8(decoded) {
            out.push(d);
        }
    }
    out.sort();
    out.dedup();
    out
}

fn percent_decode(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    while let Some((&b, tail)) = bytes.split_first() {
        let hex = |b: u8| (b as char).to_digit(16);
        if let (b'%', [h, l, after @ ..]) = (b, tail) {
            if let (Some(h), Some(l)) = (hex(*h), hex(*l)) {
                out.push((h * 16 + l) as u8);
                bytes = after;
                continue;
            }
        }
        out.push(b);
        bytes = tail;
    }
    out
}

/// Where a URL points: scheme, host (lower case, without brackets) and
/// port (the scheme's default when none is written). scp-like ssh URLs
/// (`[user@]host:path`) are ssh on port 22.
pub(super) fn origin(url: &str) -> Option<(String, String, u16)> {
    let (scheme, authority) = match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let scheme = scheme.to_ascii_lowercase();
            let scheme = if is_ssh_scheme(&scheme) {
                "ssh".to_string()
            } else {
                scheme
            };
            (scheme, rest.get(..end).unwrap_or(rest))
        }
        None => {
            let (before, _) = url.split_once(':')?;
            if before.contains('/') {
                return None;
            }
            let host = before.rsplit('@').next().unwrap_or(before);
            return (!host.is_empty()).then(|| ("ssh".into(), host.to_ascii_lowercase(), 22));
        }
    };
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        },
    };
    let default = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        "ssh" => 22,
        "git" => 9418,
        _ => 0,
    };
    let port = match port {
        None | Some("") => default,
        Some(p) => p.parse().ok()?,
    };
    (!host.is_empty()).then(|| (scheme, host.to_ascii_lowercase(), port))
}

/// Does a credential request for `asked` go to the server `configured`
/// names: the same scheme, host and port?
pub fn same_origin(configured: &str, asked: &str) -> bool {
    match (origin(configured), origin(asked)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// `host:port` of a URL, for messages.
pub(super) fn host_port(url: &str) -> String {
    match origin(url) {
        Some((_, host, port)) if host.contains(':') => format!("[{host}]:{port}"),
        Some((_, host, port)) => format!("{host}:{port}"),
        None => "an unknown host".into(),
    }
}

/// The path of a `file://` URL, if it is one.
pub fn local_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("file://")?;
    if !rest.starts_with('/') {
        return None;
    }
    // Undo percent-encoding (%20 and friends).
    let out = percent_decode(rest.as_bytes());
    use std::os::unix::ffi::OsStringExt;
    Some(std::ffi::OsString::from_vec(out).into())
}

/// The path of a remote on this machine: a `file://` URL or an absolute
/// path.
pub(super) fn local_repo_path(url: &str) -> Option<std::path::PathBuf> {
    local_path(url).or_else(|| url.starts_with('/').then(|| url.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for (url, shown) in [
            (
                "https://ci:s3cret@example.org/app.git",
                "https://***@example.org/app.git",
            ),
            (
                "https://ghp_T0KEN@example.org/app.git",
                "https://***@example.org/app.git",
            ),
            ("http://T0KEN:@example.org", "http://***@example.org"),
            (
                "git://T0KEN@example.org/app.git",
                "git://***@example.org/app.git",
            ),
            (
                "HTTPS://a%40b:p%2Fw@example.org?x@y",
                "HTTPS://***@example.org?x@y",
            ),
            ("ftp://alice:s3cret@example.org/", "ftp://***@example.org/"),
            ("https://example.org/a@b.git", "https://example.org/a@b.git"),
            (
                "ssh://git@example.org/app.git",
                "ssh://git@example.org/app.git",
            ),
            (
                "ssh://git:s3cret@example.org/app.git",
                "ssh://git:***@example.org/app.git",
            ),
            ("git@example.org:app.git", "git@example.org:app.git"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
        for (url, stripped) in [
            (
                "https://ci:s3cret@example.org/app.git",
                "https://example.org/app.git",
            ),
            (
                "https://ghp_T0KEN@example.org/app.git",
                "https://example.org/app.git",
            ),
            ("http://T0KEN:@127.0.0.1:8080", "http://127.0.0.1:8080"),
            (
                "HTTPS://a%40b:p%2Fw@example.org?x@y",
                "HTTPS://example.org?x@y",
            ),
            ("file://u:s3cret@/srv/app.git", "file:///srv/app.git"),
            ("https://example.org/a@b.git", "https://example.org/a@b.git"),
            (
                "ssh://git:s3cret@example.org/app.git",
                "ssh://git@example.org/app.git",
            ),
            (
                "ssh://git@example.org/app.git",
                "ssh://git@example.org/app.git",
            ),
            ("ssh://:pw@example.org/a", "ssh://example.org/a"),
            ("git@example.org:app.git", "git@example.org:app.git"),
            ("/srv/app.git", "/srv/app.git"),
        ] {
            assert_eq!(strip_credentials(url), stripped, "{url}");
            for secret in url_secrets(url) {
                assert!(!strip_credentials(url).contains(&secret), "{url}");
            }
        }
        assert_eq!(
            url_secrets("https://ci:p%2Fw@example.org/app.git"),
            ["ci", "ci:p%2Fw", "ci:p/w", "p%2Fw", "p/w"]
        );
        assert_eq!(url_secrets("https://T0KEN@example.org/app.git"), ["T0KEN"]);
        assert!(url_secrets("ssh://git@example.org/app.git").is_empty());
        assert_eq!(url_secrets("ssh://git:pw@example.org/app.git"), ["pw"]);
        assert!(url_secrets("https://example.org/a@b").is_empty());
        assert_eq!(
            local_path("file:///srv/my%20app.git"),
            Some("/srv/my app.git".into())
        );
        assert_eq!(local_path("file://srv/app.git"), None);

        // Credentials go to the configured scheme, host and port only.
        for (configured, asked) in [
            (
                "http://127.0.0.1:8080/app.git",
                "http://127.0.0.1:8080/app.git",
            ),
            (
                "https://Example.org/app.git",
                "https://example.org:443/other",
            ),
            (
                "https://ci@example.org/app.git",
                "https://example.org/app.git",
            ),
            (
                "ssh://git@example.org/app.git",
                "ssh://example.org:22/app.git",
            ),
            ("git@example.org:app.git", "ssh://git@example.org/app.git"),
            ("http://[::1]:80/app.git", "http://[::1]/x"),
        ] {
            assert!(same_origin(configured, asked), "{configured} {asked}");
        }
        for (configured, asked) in [
            (
                "http://127.0.0.1:8080/app.git",
                "http://localhost:8080/app.git",
            ),
            (
                "http://127.0.0.1:8080/app.git",
                "http://127.0.0.1:8081/app.git",
            ),
            ("http://example.org/app.git", "https://example.org/app.git"),
            (
                "https://example.org/app.git",
                "https://example.org.evil/app.git",
            ),
            (
                "https://example.org/app.git",
                "https://evil@example.org:444/",
            ),
            (
                "ssh://git@example.org:2222/app.git",
                "ssh://example.org/app.git",
            ),
            ("https://example.org/app.git", "not a url"),
            ("origin", "https://example.org/app.git"),
        ] {
            assert!(!same_origin(configured, asked), "{configured} {asked}");
        }
        assert_eq!(local_path("https://example.org/app.git"), None);
    }
}
