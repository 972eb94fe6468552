//! The report's vocabulary shared by every module: times as RFC 3339.
//!
//! The verdict on a tag is [`crate::verdict::Verdict`]; its renderings
//! (one line, the JSON [`Report`], an explanation) live in
//! [`crate::render`].

pub use crate::render::json::Report;

pub use crate::date::rfc3339;
