//! The request Concourse writes on stdin, validated completely before any
//! network access: every mistake is one sentence naming the field to fix.
//!
//! ```json
//! {"source": {...}, "version": {"tag": "v1.4.0", "commit": "<40 hex>"}, "params": {...}}
//! ```
//!
//! `source` is strict (unknown fields are refused); its trust root is built
//! and checked by [`crate::trust::Trust::build`] like a keys directory.
//!
//! One module per job: [`json`] (values, fields and their messages),
//! [`uri`] (transports), [`version`] (tag names and object ids),
//! [`source`] (the source and its trust root, whose trust digest keys the
//! verdict cache).

pub mod json;
pub mod source;
pub mod uri;
pub mod version;

pub use json::{deny_unknown, opt_string, shown, type_name};
pub use source::{check_secret_key, Secret, Source, ENVIRONMENT, SOURCE_FIELDS};
pub use uri::{uri_kind, UriKind};
pub use version::{is_object_id, parse_version, valid_tag_name, Version};

use crate::error::{Error, Result};
use crate::remote;
use json::json_reason;
use serde_json::{Map, Value};
use source::parse_source;

pub use crate::limits::{
    DEFAULT_CHECK_TIMEOUT, DEFAULT_NETWORK_TIMEOUT, MAX_CHECK_TIMEOUT_SECS,
    MAX_NETWORK_TIMEOUT_SECS, MAX_REQUEST, MIN_HIDDEN,
};

/// The whole request.
#[derive(Debug)]
pub struct Request {
    pub source: Source,
    pub version: Option<Version>,
    pub params: Map<String, Value>,
}

/// Parses stdin. `version` is validated when present and not null.
pub fn parse(input: &[u8]) -> Result<Request> {
    if input.len() > MAX_REQUEST {
        return Err(Error::usage(format!(
            "the request on stdin is larger than {}; Concourse sends one small JSON object",
            crate::limits::size_words(MAX_REQUEST as u64)
        )));
    }
    let text = std::str::from_utf8(input).map_err(|_| {
        Error::usage("the request on stdin is not UTF-8 text; it must be one JSON object")
    })?;
    if text.trim().is_empty() {
        return Err(Error::usage(
            "the request on stdin is empty; it must be one JSON object with a \"source\"",
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::usage(format!(
            "the request on stdin is not valid JSON (line {}, column {}: {})",
            e.line(),
            e.column(),
            json_reason(&e)
        ))
    })?;
    let Value::Object(mut top) = value else {
        return Err(Error::usage(format!(
            "the request on stdin is a JSON {}, not an object with a \"source\"",
            type_name(&value)
        )));
    };
    // Before anything can fail on them: the log never shows these.
    super::hide_in_log(secrets_in(&top));
    for key in top.keys() {
        if !["source", "version", "params"].contains(&key.as_str()) {
            return Err(Error::usage(format!(
                "the request has an unknown field \"{}\"; it holds only source, version and params",
                shown(key)
            )));
        }
    }
    let source = match top.remove("source") {
        Some(Value::Object(map)) => parse_source(map)?,
        None | Some(Value::Null) => {
            return Err(Error::config(
                "the request has no source; configure the resource's source (uri, signers, groups, require)",
            ))
        }
        Some(other) => {
            return Err(Error::config(format!(
                "source must be an object, not a {}",
                type_name(&other)
            )))
        }
    };
    let version = match top.remove("version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_version(&v, "version")?),
    };
    let params = match top.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(Error::config(format!(
                "params must be an object, not a {}",
                type_name(&other)
            )))
        }
    };
    Ok(Request {
        source,
        version,
        params,
    })
}

/// Every secret a request holds, as the log must never show it: the
/// password, the secret parts of the uri's user info, the ssh key and its
/// passphrase, the signing keys (whole, and each line of them).
pub fn secrets_in(top: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let field = |section: &str, key: &str| -> Option<String> {
        top.get(section)?.get(key)?.as_str().map(str::to_string)
    };
    if let Some(uri) = field("source", "uri") {
        out.extend(remote::url_secrets(&uri));
    }
    for (section, key) in [
        ("source", "password"),
        ("source", "private_key_passphrase"),
        ("source", "private_key"),
        ("source", "signing_key"),
        ("params", "signing_key"),
    ] {
        if let Some(value) = field(section, key) {
            out.extend(
                value
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
                    .map(str::to_string),
            );
            out.push(value.trim().to_string());
            out.push(value);
        }
    }
    out.retain(|s| s.chars().count() >= MIN_HIDDEN);
    // Longest first, so that a secret is hidden whole, not piece by piece.
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_kinds() {
        assert_eq!(uri_kind("https://github.com/a/b.git"), Some(UriKind::Http));
        assert_eq!(uri_kind("git@github.com:a/b.git"), Some(UriKind::Ssh));
        assert_eq!(
            uri_kind("ssh://git@host:2222/srv/r.git"),
            Some(UriKind::Ssh)
        );
        assert_eq!(uri_kind("git://127.0.0.1:9418/r.git"), Some(UriKind::Git));
        assert_eq!(uri_kind("file:///srv/r.git"), Some(UriKind::File));
        assert_eq!(uri_kind("file://relative/r.git"), None);
        assert_eq!(uri_kind("/srv/r.git"), None);
        assert_eq!(uri_kind("ftp://host/r.git"), None);
        assert_eq!(uri_kind("https://"), None);
        assert_eq!(uri_kind("github.com"), None);
        assert_eq!(uri_kind("git@host:"), None);
        assert_eq!(uri_kind("https://host/a b"), None);
    }

    #[test]
    fn versions() {
        let c = "a".repeat(40);
        let v: Value = serde_json::json!({"tag": "v1", "commit": c});
        assert_eq!(
            parse_version(&v, "version").unwrap(),
            Version {
                tag: "v1".into(),
                commit: c.clone()
            }
        );
        for bad in [
            serde_json::json!({"tag": "v1"}),
            serde_json::json!({"tag": "v1", "commit": c, "ref": "x"}),
            serde_json::json!({"tag": 1, "commit": c}),
            serde_json::json!({"tag": "v1", "commit": "HEAD"}),
            serde_json::json!({"tag": "a..b", "commit": c}),
            serde_json::json!("v1"),
            serde_json::json!({"tag": "v1.lock", "commit": c}),
            serde_json::json!({"tag": "-v1", "commit": c}),
            serde_json::json!({"tag": "v 1", "commit": c}),
            serde_json::json!({"tag": "a//b", "commit": c}),
        ] {
            assert!(parse_version(&bad, "version").is_err(), "{bad}");
        }
    }

    #[test]
    fn the_log_hides_every_secret_of_the_request() {
        let request = serde_json::json!({
            "source": {
                "uri": "https://T0KEN-abc@example.org/app.git",
                "password": "pass-word-1",
                "private_key_passphrase": "ab",
            },
            "params": {"signing_key": "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQdGBGa1b2c3d4e5f6g7h8\n-----END PGP PRIVATE KEY BLOCK-----\n"},
        });
        let Value::Object(top) = request else {
            unreachable!()
        };
        let secrets = secrets_in(&top);
        assert!(secrets.contains(&"T0KEN-abc".to_string()), "{secrets:?}");
        assert!(secrets.contains(&"lQdGBGa1b2c3d4e5f6g7h8".to_string()));
        assert!(!secrets.contains(&"ab".to_string()), "too short to hide");
        super::super::hide_in_log(secrets);
        assert_eq!(
            super::super::scrub("cannot use pass-word-1 for T0KEN-abc: lQdGBGa1b2c3d4e5f6g7h8"),
            "cannot use *** for ***: ***"
        );
        super::super::hide_in_log(Vec::new());
    }
}
