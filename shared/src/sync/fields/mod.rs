//! The normalised fields: the one vocabulary the three-way merge compares, and the field-mapping
//! table of docs/sync-engine.md in code.
//!
//! Every field value is a small JSON value in a canonical form (sorted sets, checklist sorted by
//! id, dates as `YYYY-MM-DD` or RFC 3339 UTC), so equality is plain `==` and the base can be
//! stored as it is in the mapping item.
//!
//! A side that cannot represent a field, or a value, is described by [`SideRules`]: `canon` says
//! what the side would show after being given a local value (or that it cannot hold the field at
//! all), and `absorb` merges a side's value into the local one without erasing what the side
//! cannot represent (e.g. local categories that are not Planner category labels).

mod checklist;
mod rules;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::{ChecklistItem, LocalTask, Priority, TaskDate, TaskStatus};

pub use checklist::{
    ChecklistPairing, adopt_checklist, checklist_entries, pair_checklists, todo_checklist_value,
};
pub use rules::SideRules;

/// A synced field. `status` and `percent_complete` travel together as `Progress`, because
/// Planner has only a percentage and To Do only a status: merging them apart could write a
/// completed status beside 50 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Notes,
    Progress,
    Priority,
    Due,
    Start,
    Assignees,
    Categories,
    Checklist,
    Bucket,
}

pub const ALL_FIELDS: [Field; 10] = [
    Field::Title,
    Field::Notes,
    Field::Progress,
    Field::Priority,
    Field::Due,
    Field::Start,
    Field::Assignees,
    Field::Categories,
    Field::Checklist,
    Field::Bucket,
];

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Notes => "notes",
            Field::Progress => "progress",
            Field::Priority => "priority",
            Field::Due => "due",
            Field::Start => "start",
            Field::Assignees => "assignees",
            Field::Categories => "categories",
            Field::Checklist => "checklist",
            Field::Bucket => "bucket",
        }
    }

    /// The field a `protected_fields` entry of the task item protects.
    pub fn from_item_name(name: &str) -> Option<Field> {
        Some(match name {
            "title" => Field::Title,
            "notes" => Field::Notes,
            "status" | "percent_complete" => Field::Progress,
            "priority" => Field::Priority,
            "due" => Field::Due,
            "start" => Field::Start,
            "assignees" => Field::Assignees,
            "categories" => Field::Categories,
            "checklist" => Field::Checklist,
            "bucket" => Field::Bucket,
            _ => return None,
        })
    }
}

/// Field values by field. For the local side every field is present; for a remote side only the
/// fields it represents.
pub type FieldMap = BTreeMap<Field, Value>;

/// The percentage a status implies when none is given.
pub fn default_percent(status: TaskStatus) -> u8 {
    match status {
        TaskStatus::NotStarted => 0,
        TaskStatus::InProgress => 50,
        TaskStatus::Completed => 100,
    }
}

/// The status a Planner percentage means (docs/graph-behaviour.md §2.1: 100 is completed).
pub fn status_of_percent(percent: u8) -> TaskStatus {
    match percent {
        0 => TaskStatus::NotStarted,
        100.. => TaskStatus::Completed,
        _ => TaskStatus::InProgress,
    }
}

/// `(status, percent)` made consistent: completed is 100, not started 0, in progress 1–99.
pub fn progress_value(status: TaskStatus, percent: Option<u8>) -> Value {
    let percent = match status {
        TaskStatus::NotStarted => 0,
        TaskStatus::Completed => 100,
        TaskStatus::InProgress => percent.map_or(50, |p| p.clamp(1, 99)),
    };
    json!({"status": status.as_str(), "percent": percent})
}

/// Reads a progress value (any side's form).
pub fn progress_parts(value: &Value) -> (TaskStatus, Option<u8>) {
    let status = value
        .get("status")
        .and_then(Value::as_str)
        .and_then(TaskStatus::parse)
        .unwrap_or(TaskStatus::NotStarted);
    let percent = value
        .get("percent")
        .and_then(Value::as_u64)
        .and_then(|p| u8::try_from(p.min(100)).ok());
    (status, percent)
}

pub fn date_value(date: Option<&TaskDate>) -> Value {
    date.map_or(Value::Null, |d| Value::String(d.to_text()))
}

pub fn date_of(value: &Value) -> Option<TaskDate> {
    value.as_str().and_then(TaskDate::parse)
}

fn string_set(values: &[String]) -> Value {
    let mut v: Vec<&String> = values.iter().filter(|s| !s.is_empty()).collect();
    v.sort();
    v.dedup();
    json!(v)
}

pub fn strings_of(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub fn checklist_value(items: &[ChecklistItem]) -> Value {
    let mut items: Vec<&ChecklistItem> = items.iter().collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items.dedup_by(|a, b| a.id == b.id);
    Value::Array(
        items
            .iter()
            .map(|c| json!({"id": c.id, "title": c.title, "checked": c.checked}))
            .collect(),
    )
}

pub fn checklist_of(value: &Value) -> Vec<ChecklistItem> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some(ChecklistItem {
                        id: c.get("id")?.as_str()?.to_owned(),
                        title: c
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        checked: c.get("checked").and_then(Value::as_bool).unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every field of a local task, normalised.
pub fn local_fields(task: &LocalTask) -> FieldMap {
    FieldMap::from([
        (Field::Title, json!(task.title)),
        (Field::Notes, json!(task.notes)),
        (
            Field::Progress,
            progress_value(task.status, task.percent_complete),
        ),
        (Field::Priority, json!(task.priority.as_str())),
        (Field::Due, date_value(task.due.as_ref())),
        (Field::Start, date_value(task.start.as_ref())),
        (Field::Assignees, string_set(&task.assignees)),
        (Field::Categories, string_set(&task.categories)),
        (Field::Checklist, checklist_value(&task.checklist)),
        (
            Field::Bucket,
            task.bucket
                .as_ref()
                .map_or(Value::Null, |b| Value::String(b.clone())),
        ),
    ])
}

/// Writes merged field values into a local task (fields absent from `fields` are kept).
/// `completed_at` follows the status: kept or taken from `remote_completed_at` (or now) when the
/// task is completed, cleared when it is not.
pub fn apply_to_local(
    task: &mut LocalTask,
    fields: &FieldMap,
    remote_completed_at: Option<DateTime<Utc>>,
) {
    for (field, value) in fields {
        match field {
            Field::Title => task.title = value.as_str().unwrap_or_default().to_owned(),
            Field::Notes => task.notes = value.as_str().unwrap_or_default().to_owned(),
            Field::Progress => {
                let (status, percent) = progress_parts(value);
                task.status = status;
                task.percent_complete = Some(percent.unwrap_or(default_percent(status)));
            }
            Field::Priority => {
                task.priority = value
                    .as_str()
                    .and_then(Priority::parse)
                    .unwrap_or(Priority::Medium)
            }
            Field::Due => task.due = date_of(value),
            Field::Start => task.start = date_of(value),
            Field::Assignees => task.assignees = strings_of(value),
            Field::Categories => task.categories = strings_of(value),
            Field::Checklist => task.checklist = checklist_of(value),
            Field::Bucket => task.bucket = value.as_str().map(str::to_owned),
        }
    }
    if task.status == TaskStatus::Completed {
        if task.completed_at.is_none() {
            task.completed_at = Some(remote_completed_at.unwrap_or_else(Utc::now));
        }
    } else {
        task.completed_at = None;
    }
}

/// A Planner category label: `category1` to `category25` (docs/graph-behaviour.md §2.3).
pub fn is_planner_category(name: &str) -> bool {
    name.strip_prefix("category")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=25).contains(&n))
        && !name.starts_with("category0")
}

/// To Do `importance` for a priority: urgent and important are both `high`.
pub fn todo_importance(priority: Priority) -> &'static str {
    match priority {
        Priority::Urgent | Priority::Important => "high",
        Priority::Medium => "normal",
        Priority::Low => "low",
    }
}

/// The priority a To Do `importance` reads as.
pub fn todo_priority_read(importance: &str) -> &'static str {
    match importance {
        "high" => Priority::Important.as_str(),
        "low" => Priority::Low.as_str(),
        _ => Priority::Medium.as_str(),
    }
}

/// Planner's 0–10 priority for a local priority (what the Planner app writes: 1, 3, 5, 9).
pub fn planner_priority(priority: Priority) -> i32 {
    match priority {
        Priority::Urgent => 1,
        Priority::Important => 3,
        Priority::Medium => 5,
        Priority::Low => 9,
    }
}

/// The local priority of a Planner 0–10 value: 0–1 urgent, 2–4 important, 5–7 medium, 8–10 low.
pub fn priority_of_planner(value: i32) -> Priority {
    match value {
        i32::MIN..=1 => Priority::Urgent,
        2..=4 => Priority::Important,
        5..=7 => Priority::Medium,
        _ => Priority::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planner_categories_are_the_25_labels() {
        assert!(is_planner_category("category1"));
        assert!(is_planner_category("category25"));
        assert!(!is_planner_category("category26"));
        assert!(!is_planner_category("category0"));
        assert!(!is_planner_category("category01"));
        assert!(!is_planner_category("urgent"));
    }

    #[test]
    fn priorities_round_trip_through_planner_and_collapse_in_todo() {
        for p in [
            Priority::Urgent,
            Priority::Important,
            Priority::Medium,
            Priority::Low,
        ] {
            assert_eq!(priority_of_planner(planner_priority(p)), p);
        }
        assert_eq!(
            todo_priority_read(todo_importance(Priority::Urgent)),
            "important"
        );
    }
}
