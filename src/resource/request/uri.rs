//! The URIs a source may name: which transport ([`uri_kind`]), and the
//! host and port of an ssh one for messages.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriKind {
    Ssh,
    Http,
    Git,
    File,
}

/// What transport a URI uses; `None` when it is not a git URL sigtag
/// accepts.
pub fn uri_kind(uri: &str) -> Option<UriKind> {
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    if let Some((scheme, rest)) = uri.split_once("://") {
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "ssh" | "git+ssh" | "ssh+git" => UriKind::Ssh,
            "http" | "https" => UriKind::Http,
            "git" => UriKind::Git,
            "file" => UriKind::File,
            _ => return None,
        };
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or("");
        if kind == UriKind::File {
            return rest.starts_with('/').then_some(kind);
        }
        if host.is_empty() || rest.len() <= host.len() + 1 {
            return None;
        }
        return Some(kind);
    }
    // scp-like: [user@]host:path, no slash before the colon.
    let (before, path) = uri.split_once(':')?;
    let host = before.rsplit('@').next().unwrap_or("");
    if host.is_empty() || before.contains('/') || path.is_empty() {
        return None;
    }
    Some(UriKind::Ssh)
}

/// The host of an ssh URI (`ssh://user@host:port/path`, `user@host:path`).
pub(super) fn ssh_host(uri: &str) -> String {
    let authority = match uri.split_once("://") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => uri.split(':').next().unwrap_or(uri),
    };
    let hostport = authority.rsplit('@').next().unwrap_or(authority);
    match hostport.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6).to_string(),
        None if uri.contains("://") => hostport.split(':').next().unwrap_or(hostport).to_string(),
        None => hostport.to_string(),
    }
}

/// The port of an `ssh://` URI when it names one other than 22.
pub(super) fn ssh_port(uri: &str) -> Option<u16> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split('/').next()?;
    let hostport = authority.rsplit('@').next()?;
    let port = match hostport.strip_prefix('[') {
        Some(v6) => v6.split_once("]:")?.1,
        None => hostport.rsplit_once(':')?.1,
    };
    port.parse().ok().filter(|p| *p != 22)
}
