//! Times as sigtag prints them. A leaf: it imports nothing of the crate.

use std::time::SystemTime;

/// Formats a time as RFC 3339 in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
