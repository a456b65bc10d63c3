//! Planner resources (docs/graph-behaviour.md §2.1–§2.4). Dates are UTC instants. Open types
//! (assignments, appliedCategories, checklist, references) are maps keyed as Graph keys them;
//! in patches a `None` value is sent as `null`, which removes the key.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `plannerTask` as read. With `$expand=details`, `details` is filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerTask {
    pub id: String,
    #[serde(default)]
    pub plan_id: String,
    #[serde(default)]
    pub bucket_id: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub order_hint: Option<String>,
    #[serde(default)]
    pub assignee_priority: Option<String>,
    /// 100 means completed.
    #[serde(default)]
    pub percent_complete: Option<i32>,
    /// 0 (highest) to 10.
    #[serde(default)]
    pub priority: Option<i32>,
    #[serde(default)]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub due_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    /// Who created it (§2.1). An app-only create carries the app's client id in
    /// `application.id`; a person's carries their user and the app they used (Planner's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<IdentitySet>,
    #[serde(default)]
    pub completed_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub has_description: Option<bool>,
    #[serde(default)]
    pub preview_type: Option<String>,
    #[serde(default)]
    pub applied_categories: BTreeMap<String, bool>,
    #[serde(default)]
    pub assignments: BTreeMap<String, Value>,
    #[serde(default)]
    pub conversation_thread_id: Option<String>,
    #[serde(default)]
    pub reference_count: Option<i32>,
    #[serde(default)]
    pub checklist_item_count: Option<i32>,
    #[serde(default)]
    pub active_checklist_item_count: Option<i32>,
    #[serde(rename = "@odata.etag", default)]
    pub etag: Option<String>,
    #[serde(default)]
    pub details: Option<PlannerTaskDetails>,
}

impl PlannerTask {
    /// What tells a sweep that the details may have changed without reading them (docs/architecture.md,
    /// "Task details in a plan listing").
    pub fn details_fingerprint(&self) -> (Option<bool>, Option<i32>, Option<i32>, Option<i32>) {
        (
            self.has_description,
            self.reference_count,
            self.checklist_item_count,
            self.active_checklist_item_count,
        )
    }
}

/// Graph's `identitySet` (the parts Planner fills): who did something, as a user and/or the
/// application they did it through.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySet {
    #[serde(default)]
    pub user: Option<Identity>,
    #[serde(default)]
    pub application: Option<Identity>,
}

/// Graph's `identity`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

impl PlannerTask {
    /// The id of the application that created the task, if Planner says.
    pub fn creating_application(&self) -> Option<&str> {
        self.created_by
            .as_ref()
            .and_then(|c| c.application.as_ref())
            .and_then(|a| a.id.as_deref())
    }
}

/// `plannerChecklistItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerChecklistItem {
    #[serde(rename = "@odata.type", default = "checklist_type")]
    pub odata_type: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub is_checked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_hint: Option<String>,
}

fn checklist_type() -> String {
    "microsoft.graph.plannerChecklistItem".to_owned()
}

/// `plannerExternalReference`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerExternalReference {
    #[serde(rename = "@odata.type", default = "reference_type")]
    pub odata_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_priority: Option<String>,
}

fn reference_type() -> String {
    "microsoft.graph.plannerExternalReference".to_owned()
}

/// `plannerTaskDetails`; its ETag is not the task's (§2.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerTaskDetails {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub preview_type: Option<String>,
    #[serde(default)]
    pub checklist: BTreeMap<String, PlannerChecklistItem>,
    #[serde(default)]
    pub references: BTreeMap<String, PlannerExternalReference>,
    #[serde(rename = "@odata.etag", default)]
    pub etag: Option<String>,
}

/// The reference URL that marks a Planner task created for a local task (docs/architecture.md principle 3).
const MARKER_PREFIX: &str = "https://tasksync.invalid/tasks/";

impl PlannerTaskDetails {
    /// The local id in the marker reference, if tasksync created this task. Accepts the key as
    /// written (OData-encoded, §2.4) and fully decoded.
    pub fn marker(&self) -> Option<String> {
        self.references.keys().find_map(|key| marker_local_id(key))
    }
}

/// The marker reference for local task `local_id`: the key (an encoded URL) and its value.
pub fn planner_marker_reference(local_id: &str) -> (String, PlannerExternalReference) {
    let url = format!("{MARKER_PREFIX}{}", percent_encode(local_id));
    (
        odata_key_encode(&url),
        PlannerExternalReference {
            odata_type: reference_type(),
            alias: Some(format!("tasksync {local_id}")),
            kind: Some("Other".to_owned()),
            preview_priority: None,
        },
    )
}

fn marker_local_id(key: &str) -> Option<String> {
    let encoded_prefix = odata_key_encode(MARKER_PREFIX);
    if let Some(rest) = key.strip_prefix(&encoded_prefix) {
        return percent_decode(&percent_decode(rest)?);
    }
    key.strip_prefix(MARKER_PREFIX).and_then(percent_decode)
}

/// Open-type property names must have `.`, `:`, `%`, `@` and `#` percent-encoded (§2.4).
fn odata_key_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '.' => out.push_str("%2E"),
            ':' => out.push_str("%3A"),
            '@' => out.push_str("%40"),
            '#' => out.push_str("%23"),
            other => out.push(other),
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'~' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'%') => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            Some(b) => {
                out.push(*b);
                i += 1;
            }
            None => break,
        }
    }
    String::from_utf8(out).ok()
}

/// A task to create (`POST /planner/tasks`, §2.7).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewPlannerTask {
    pub plan_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_id: Option<String>,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub assignments: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub applied_categories: BTreeMap<String, bool>,
}

impl NewPlannerTask {
    pub fn new(plan_id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            plan_id: plan_id.into(),
            bucket_id: None,
            title: title.into(),
            percent_complete: None,
            priority: None,
            start_date_time: None,
            due_date_time: None,
            assignments: BTreeMap::new(),
            applied_categories: BTreeMap::new(),
        }
    }
}

/// The value that assigns a user (the `@odata.type` is required on writes, §2.2).
pub fn planner_assignment() -> Value {
    serde_json::json!({"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"})
}

/// A partial task update (`PATCH /planner/tasks/{id}`); `Some(None)` clears a date or removes
/// an open-type key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerTaskPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<Option<DateTime<Utc>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date_time: Option<Option<DateTime<Utc>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignments: Option<BTreeMap<String, Option<Value>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_categories: Option<BTreeMap<String, bool>>,
}

/// A partial details update (`PATCH /planner/tasks/{id}/details`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannerTaskDetailsPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checklist: Option<BTreeMap<String, Option<PlannerChecklistItem>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub references: Option<BTreeMap<String, Option<PlannerExternalReference>>>,
}

impl PlannerTaskDetailsPatch {
    /// A patch that adds the marker reference of `local_id`.
    pub fn with_marker(local_id: &str) -> Self {
        let (key, value) = planner_marker_reference(local_id);
        Self {
            references: Some(BTreeMap::from([(key, Some(value))])),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_key_is_odata_encoded_and_reads_back_both_ways() {
        let (key, _) = planner_marker_reference("list-1/task.7 @x");
        assert!(
            !key.contains('.') && !key.contains(':') && !key.contains('@'),
            "{key}"
        );
        let mut details = PlannerTaskDetails {
            id: "t".into(),
            description: None,
            preview_type: None,
            checklist: BTreeMap::new(),
            references: BTreeMap::from([(key.clone(), planner_marker_reference("x").1)]),
            etag: None,
        };
        assert_eq!(details.marker().as_deref(), Some("list-1/task.7 @x"));
        let decoded_key = percent_decode(&key).unwrap();
        details.references = BTreeMap::from([(decoded_key, planner_marker_reference("x").1)]);
        assert_eq!(details.marker().as_deref(), Some("list-1/task.7 @x"));
        details.references.clear();
        assert_eq!(details.marker(), None);
    }

    #[test]
    fn patch_removes_keys_with_null() {
        let p = PlannerTaskPatch {
            due_date_time: Some(None),
            assignments: Some(BTreeMap::from([("u1".to_owned(), None)])),
            ..PlannerTaskPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"dueDateTime": null, "assignments": {"u1": null}})
        );
    }
}
