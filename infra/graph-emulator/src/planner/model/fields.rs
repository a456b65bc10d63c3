//! Reading one value of a request body into its Planner type, with the 400 message Graph gives.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{PlannerError, bad};

pub(super) fn parse_time(
    field: &str,
    value: &Value,
) -> Result<Option<DateTime<Utc>>, PlannerError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                bad(format!(
                    "'{field}' must be an ISO 8601 date and time with offset."
                ))
            }),
        _ => Err(bad(format!("'{field}' must be a string or null."))),
    }
}

pub(super) fn as_string(field: &str, value: &Value) -> Result<String, PlannerError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| bad(format!("'{field}' must be a string.")))
}

pub(super) fn as_int(
    field: &str,
    value: &Value,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i32, PlannerError> {
    value
        .as_i64()
        .filter(|v| range.contains(v))
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| {
            bad(format!(
                "'{field}' must be an integer from {} to {}.",
                range.start(),
                range.end()
            ))
        })
}

/// A body may carry only the properties the resource lets this write change.
pub(super) fn reject_unknown(
    body: &Map<String, Value>,
    allowed: &[&str],
    what: &str,
) -> Result<(), PlannerError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad(format!(
            "The property '{k}' cannot be written on {what}."
        ))),
        None => Ok(()),
    }
}
