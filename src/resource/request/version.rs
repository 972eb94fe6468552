//! Versions: a tag name and a commit id, checked as git would.

use super::json::{shown, type_name};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;

pub use crate::names::{is_object_id, valid_tag_name};

/// A version: a tag and the commit it verified on. Only these two strings,
/// so a co-signature (a new outer layer) is not a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    pub tag: String,
    pub commit: String,
}

/// `{"tag": NAME, "commit": HEX}` and nothing else.
pub fn parse_version(v: &Value, field: &str) -> Result<Version> {
    let bad = |why: String| {
        Error::config(format!(
            "{field} {why}; a version is {{\"tag\": NAME, \"commit\": 40-hex}}"
        ))
    };
    let Value::Object(map) = v else {
        return Err(bad(format!("is a {}", type_name(v))));
    };
    for key in map.keys() {
        if key != "tag" && key != "commit" {
            return Err(bad(format!("has an unknown field \"{}\"", shown(key))));
        }
    }
    let get = |k: &str| match map.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Err(bad(format!("has no \"{k}\""))),
        Some(other) => Err(bad(format!("has a {} as \"{k}\"", type_name(other)))),
    };
    let tag = get("tag")?;
    let commit = get("commit")?;
    if !valid_tag_name(&tag) {
        return Err(bad(format!(
            "names \"{}\", which is not a tag name",
            shown(&tag)
        )));
    }
    if !is_object_id(&commit) {
        return Err(bad(format!(
            "has \"{}\" as commit, which is not an object id",
            shown(&commit)
        )));
    }
    Ok(Version { tag, commit })
}
