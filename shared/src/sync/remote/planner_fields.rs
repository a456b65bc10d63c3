//! Planner's field mapping: a `plannerTask` and its details as normalised fields, and
//! normalised fields as the task part and the details part of a patch, open types diffed
//! against what the task holds (the table in docs/sync-engine.md).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::RemoteTask;
use crate::graph::models::{
    PlannerChecklistItem, PlannerTask, PlannerTaskDetails, PlannerTaskDetailsPatch,
    PlannerTaskPatch, planner_assignment,
};
use crate::model::Priority;
use crate::sync::fields::{
    Field, FieldMap, SideRules, checklist_of, planner_priority, priority_of_planner,
    progress_parts, progress_value, status_of_percent, strings_of,
};

/// A Planner task and its details as normalised fields.
pub fn planner_remote(
    task: &PlannerTask,
    details: &PlannerTaskDetails,
    rules: &SideRules,
) -> RemoteTask {
    let percent = u8::try_from(task.percent_complete.unwrap_or(0).clamp(0, 100)).unwrap_or(0);
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map_or(Value::Null, |t| json!(rules.planner_date(t).to_text()))
    };
    let mut assignees: Vec<&String> = task.assignments.keys().collect();
    assignees.sort();
    let categories: Vec<&String> = task
        .applied_categories
        .iter()
        .filter(|(_, on)| **on)
        .map(|(k, _)| k)
        .collect();
    let checklist: Vec<Value> = details
        .checklist
        .iter()
        .map(|(id, item)| json!({"id": id, "title": item.title, "checked": item.is_checked}))
        .collect();
    let fields = FieldMap::from([
        (Field::Title, json!(task.title)),
        (
            Field::Notes,
            json!(details.description.as_deref().unwrap_or("")),
        ),
        (
            Field::Progress,
            progress_value(status_of_percent(percent), Some(percent)),
        ),
        (
            Field::Priority,
            json!(priority_of_planner(task.priority.unwrap_or(5)).as_str()),
        ),
        (Field::Due, date(task.due_date_time)),
        (Field::Start, date(task.start_date_time)),
        (Field::Assignees, json!(assignees)),
        (Field::Categories, json!(categories)),
        (Field::Checklist, Value::Array(checklist)),
        (
            Field::Bucket,
            task.bucket_id
                .as_ref()
                .filter(|b| !b.is_empty())
                .map_or(Value::Null, |b| json!(b)),
        ),
    ]);
    RemoteTask {
        id: task.id.clone(),
        fields,
        task_etag: task.etag.clone(),
        details_etag: details.etag.clone(),
        last_modified: None,
        completed_at: task.completed_date_time,
        marker: details.marker(),
        created_at: task.created_date_time,
        // Only the Graph client knows its own application id (`PlannerPlan::remote`).
        created_by_this_app: false,
    }
}

fn planner_percent(value: &Value) -> i32 {
    let (status, percent) = progress_parts(value);
    let v = progress_value(status, percent);
    i32::from(progress_parts(&v).1.unwrap_or(0))
}

fn planner_priority_of(value: &Value) -> i32 {
    planner_priority(
        value
            .as_str()
            .and_then(Priority::parse)
            .unwrap_or(Priority::Medium),
    )
}

/// The task part of a Planner patch, diffing open types against `current`.
pub fn planner_task_patch(
    patch: &FieldMap,
    current: &FieldMap,
    rules: &SideRules,
) -> PlannerTaskPatch {
    let mut p = PlannerTaskPatch::default();
    for (field, value) in patch {
        match field {
            Field::Title => p.title = value.as_str().map(str::to_owned),
            Field::Progress => p.percent_complete = Some(planner_percent(value)),
            Field::Priority => p.priority = Some(planner_priority_of(value)),
            Field::Due => p.due_date_time = Some(rules.planner_instant(value)),
            Field::Start => p.start_date_time = Some(rules.planner_instant(value)),
            Field::Bucket => {
                // A bucket cannot be cleared in Planner: only a new one is sent.
                if let Some(b) = value.as_str() {
                    p.bucket_id = Some(b.to_owned());
                }
            }
            Field::Assignees => {
                let new = strings_of(value);
                let old = current.get(field).map(strings_of).unwrap_or_default();
                let mut diff = BTreeMap::new();
                for id in &new {
                    if !old.contains(id) {
                        diff.insert(id.clone(), Some(planner_assignment()));
                    }
                }
                for id in &old {
                    if !new.contains(id) {
                        diff.insert(id.clone(), None);
                    }
                }
                if !diff.is_empty() {
                    p.assignments = Some(diff);
                }
            }
            Field::Categories => {
                let new = strings_of(value);
                let old = current.get(field).map(strings_of).unwrap_or_default();
                let mut diff = BTreeMap::new();
                for c in &new {
                    if !old.contains(c) {
                        diff.insert(c.clone(), true);
                    }
                }
                for c in &old {
                    if !new.contains(c) {
                        diff.insert(c.clone(), false);
                    }
                }
                if !diff.is_empty() {
                    p.applied_categories = Some(diff);
                }
            }
            Field::Notes | Field::Checklist => {}
        }
    }
    p
}

/// The details part of a Planner patch.
pub fn planner_details_patch(patch: &FieldMap, current: &FieldMap) -> PlannerTaskDetailsPatch {
    let mut p = PlannerTaskDetailsPatch::default();
    if let Some(notes) = patch.get(&Field::Notes) {
        p.description = Some(notes.as_str().unwrap_or_default().to_owned());
    }
    if let Some(list) = patch.get(&Field::Checklist) {
        let new = checklist_of(list);
        let old = current
            .get(&Field::Checklist)
            .map(checklist_of)
            .unwrap_or_default();
        let mut diff = BTreeMap::new();
        for item in &new {
            if !old.contains(item) {
                diff.insert(
                    item.id.clone(),
                    Some(PlannerChecklistItem {
                        odata_type: "microsoft.graph.plannerChecklistItem".to_owned(),
                        title: item.title.clone(),
                        is_checked: item.checked,
                        order_hint: None,
                    }),
                );
            }
        }
        for item in &old {
            if !new.iter().any(|n| n.id == item.id) {
                diff.insert(item.id.clone(), None);
            }
        }
        if !diff.is_empty() {
            p.checklist = Some(diff);
        }
    }
    p
}

pub(super) fn details_patch_is_empty(p: &PlannerTaskDetailsPatch) -> bool {
    p.description.is_none()
        && p.checklist.is_none()
        && p.references.is_none()
        && p.preview_type.is_none()
}

pub(super) fn task_patch_is_empty(p: &PlannerTaskPatch) -> bool {
    *p == PlannerTaskPatch::default()
}
