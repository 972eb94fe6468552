//! The report's vocabulary shared by every module: times as RFC 3339.
//!
//! The verdict on a tag is [`crate::verdict::Verdict`]; its renderings
//! (one line, the JSON [`Report`], an explanation) live in
//! [`crate::render`].

use std::time::SystemTime;

pub use crate::render::json::Report;

/// Formats a time as RFC 3339 in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
