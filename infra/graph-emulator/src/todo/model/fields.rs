//! Reading request values into To Do's types, with the 400 messages Graph gives.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{TodoError, bad};
use crate::todo::timezone;

/// Annotations and read-only properties that clients may echo back; Graph ignores them.
pub(super) fn is_ignorable(key: &str) -> bool {
    key.starts_with('@') || key.contains("@odata.")
}

pub(super) fn unknown_property(name: &str, type_name: &str) -> TodoError {
    bad(format!(
        "The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type."
    ))
}

pub(super) fn string_field(key: &str, value: &Value) -> Result<String, TodoError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        _ => Err(bad(format!("{key} must be a string."))),
    }
}

pub(super) fn optional_string(key: &str, value: &Value) -> Result<Option<String>, TodoError> {
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Null => Ok(None),
        _ => Err(bad(format!("{key} must be a string."))),
    }
}

pub(super) fn enum_field(key: &str, value: &Value, allowed: &[&str]) -> Result<String, TodoError> {
    let text = value.as_str().unwrap_or_default();
    allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(text))
        .map(|a| (*a).to_owned())
        .ok_or_else(|| {
            bad(format!(
                "Invalid value for {key}: '{}'. Allowed: {}.",
                value,
                allowed.join(", ")
            ))
        })
}

/// A `dateTimeTimeZone` request value (docs/graph-behaviour.md §3.5); `null` clears the field.
pub(super) fn date_time_time_zone(
    key: &str,
    value: &Value,
) -> Result<Option<DateTime<Utc>>, TodoError> {
    match value {
        Value::Null => Ok(None),
        Value::Object(o) => {
            let date_time = o
                .get("dateTime")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(format!("{key}.dateTime is required.")))?;
            let zone = o.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
            Ok(Some(timezone::to_utc(date_time, zone)?))
        }
        _ => Err(bad(format!("{key} must be a dateTimeTimeZone object."))),
    }
}
