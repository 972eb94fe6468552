//! JSON helpers of the request: the types of values, fields and their
//! messages, each one sentence naming the field.

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::time::Duration;

/// A value fit for a message: printable, at most 64 characters.
pub use crate::names::shown;

pub(super) fn json_reason(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C"; the line and column are
    // already in the sentence.
    if let Some((sentence, _)) = msg.rsplit_once(" at line ") {
        return sentence.to_string();
    }
    msg
}

pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The field name closest to an unknown one, for "did you mean".
pub(super) fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            // row[j] is the distance from a[..i] to b[..j]: `diag` and `up`
            // are the old row's row[j] and row[j + 1], `left` the new row[j].
            let mut next = Vec::with_capacity(row.len());
            let mut left = i + 1;
            next.push(left);
            for ((cb, &diag), &up) in b.iter().zip(&row).zip(row.iter().skip(1)) {
                left = (diag + usize::from(ca != *cb)).min(left + 1).min(up + 1);
                next.push(left);
            }
            row = next;
        }
        row.last().copied().unwrap_or_default()
    }
    known
        .iter()
        .map(|k| (distance(&name.to_ascii_lowercase(), k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| k)
}

/// Refuses fields outside `known`, naming the closest known one.
pub fn deny_unknown(map: &Map<String, Value>, known: &[&str], what: &str) -> Result<()> {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            let hint = match closest(key, known) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None if known.is_empty() => "it takes none".to_string(),
                None => format!("{what} accepts {}", known.join(", ")),
            };
            return Err(Error::config(format!(
                "{what} has an unknown field \"{}\"; {hint}",
                shown(key)
            )));
        }
    }
    Ok(())
}

/// A string field: absent and null are `None`, an empty string is refused.
pub fn opt_string(map: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(Error::config(format!(
            "{field} is empty; set it or leave it out"
        ))),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::config(format!(
            "{field} must be a string, not a {}",
            type_name(other)
        ))),
    }
}

pub(super) fn req_string(
    map: &Map<String, Value>,
    key: &str,
    field: &str,
    hint: &str,
) -> Result<String> {
    opt_string(map, key, field)?.ok_or_else(|| Error::config(format!("{field} is missing; {hint}")))
}

pub(super) fn string_map(map: &Map<String, Value>, key: &str) -> Result<Map<String, Value>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(Error::config(format!(
            "source.{key} must be an object, not a {}",
            type_name(other)
        ))),
    }
}

/// A number of seconds (`source.check_timeout`, `source.network_timeout`):
/// more than 0 and at most `max`; fractions are allowed.
pub(super) fn seconds_field(
    value: Option<&Value>,
    field: &str,
    default: Duration,
    max: u64,
    example: u64,
) -> Result<Duration> {
    let out_of_range = || {
        Error::config(format!(
            "{field} must be a number of seconds above 0 and at most {max} (a day)"
        ))
    };
    match value {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs > 0.0 && secs <= max as f64 => {
                Duration::try_from_secs_f64(secs).map_err(|_| out_of_range())
            }
            _ => Err(out_of_range()),
        },
        Some(other) => Err(Error::config(format!(
            "{field} must be a number of seconds, like {example}, not a {}",
            type_name(other)
        ))),
    }
}

/// A boolean field: absent and null are false.
pub(super) fn opt_bool(map: &Map<String, Value>, key: &str) -> Result<bool> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Error::config(format!(
            "source.{key} must be true or false, not a {}",
            type_name(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        use super::super::SOURCE_FIELDS;
        assert_eq!(closest("url", SOURCE_FIELDS), Some("uri"));
        assert_eq!(closest("tag-filter", SOURCE_FIELDS), Some("tag_filter"));
        assert_eq!(closest("whatever", SOURCE_FIELDS), None);
    }
}
