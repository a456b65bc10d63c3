//! Planner's open types (docs/graph-behaviour.md §2.2, §2.4): `assignments`, `checklist` and
//! `references` are JSON objects keyed by the client, patched key by key. Every one of them follows
//! the same rules, written here once: `null` removes a key, an object (naming its `@odata.type`)
//! adds or changes it, anything else is a 400, and the count afterwards must stay within the
//! documented 403 limit.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{PlannerError, bad, limit};

/// An open type as Graph shows it: each entry's JSON under its key.
pub(super) fn to_json<T>(entries: &BTreeMap<String, T>, entry: impl Fn(&T) -> Value) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|(key, e)| (key.clone(), entry(e)))
            .collect(),
    )
}

/// Open-type values must name their type (§2.2, §2.4); `#` is optional on input.
fn check_odata_type(
    field: &str,
    value: &Map<String, Value>,
    accepted: &[&str],
) -> Result<(), PlannerError> {
    let given = value.get("@odata.type").and_then(Value::as_str);
    match given {
        Some(t) if accepted.contains(&t.trim_start_matches('#')) => Ok(()),
        Some(t) => Err(bad(format!(
            "The '@odata.type' '{t}' is not valid for '{field}'; expected '#{}'.",
            accepted.first().copied().unwrap_or_default()
        ))),
        None => Err(bad(format!(
            "The values of '{field}' are of an open type and must include '@odata.type' ('#{}').",
            accepted.first().copied().unwrap_or_default()
        ))),
    }
}

/// What distinguishes one open-type property from another.
pub(super) struct OpenType {
    /// The property name, as in the body and in messages.
    pub field: &'static str,
    /// The `@odata.type` values accepted on each entry, the documented one first.
    pub odata_types: &'static [&'static str],
    /// Whether `{}` is a 400 on update (it is for `assignments`, where it would be a no-op write).
    pub reject_empty_on_update: bool,
    /// Checks a key before its entry is read.
    pub check_key: fn(&str) -> Result<(), PlannerError>,
    /// How messages name the entry under `key`, e.g. "The reference 'k'".
    pub describe: fn(&str) -> String,
    /// The 403 limit: error code, maximum, and what is counted ("assignees").
    pub limit: (&'static str, usize, &'static str),
}

/// Applies `value`, the body's value for `kind.field`, to `entries`. `upsert` reads one entry's
/// object: it changes `existing` in place, or, when the key is new, returns the entry to add.
pub(super) fn patch_open_type<T>(
    kind: &OpenType,
    value: &Value,
    creating: bool,
    entries: &mut BTreeMap<String, T>,
    mut upsert: impl FnMut(&str, &Map<String, Value>, Option<&mut T>) -> Result<Option<T>, PlannerError>,
) -> Result<(), PlannerError> {
    let field = kind.field;
    let Value::Object(map) = value else {
        return Err(bad(format!("'{field}' must be an object.")));
    };
    if kind.reject_empty_on_update && map.is_empty() && !creating {
        return Err(bad(format!("'{field}' must not be an empty object.")));
    }
    for (key, v) in map {
        if key == "@odata.type" {
            continue;
        }
        (kind.check_key)(key)?;
        match v {
            Value::Null => {
                entries.remove(key);
            }
            Value::Object(entry) => {
                check_odata_type(field, entry, kind.odata_types)?;
                if let Some(new) = upsert(key, entry, entries.get_mut(key))? {
                    entries.insert(key.clone(), new);
                }
            }
            _ => {
                return Err(bad(format!(
                    "{} must be an object or null.",
                    (kind.describe)(key)
                )));
            }
        }
    }
    let (code, max, counted) = kind.limit;
    if entries.len() > max {
        return Err(limit(
            code,
            format!("A task can have at most {max} {counted}."),
        ));
    }
    Ok(())
}
