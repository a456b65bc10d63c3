//! To Do's field mapping: a `todoTask` as normalised fields, and normalised fields as a create
//! or a patch (the table in docs/sync-engine.md).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::RemoteTask;
use super::todo_checklist::todo_checklist_of;
use crate::graph::models::{
    DateTimeTimeZone, ItemBody, NewTodoTask, TodoStatus, TodoTask, TodoTaskPatch,
};
use crate::model::{Priority, TaskDate};
use crate::sync::fields::{
    Field, FieldMap, SideRules, date_of, progress_parts, strings_of, todo_importance,
    todo_priority_read,
};

/// A To Do task as normalised fields.
pub fn todo_remote(task: &TodoTask, rules: &SideRules) -> RemoteTask {
    let status = task
        .status
        .map(TodoStatus::to_domain)
        .unwrap_or(crate::model::TaskStatus::NotStarted);
    let day = |d: Option<&DateTimeTimeZone>| {
        d.and_then(|d| d.calendar_day(&rules.zone).ok())
            .map_or(Value::Null, |d| json!(TaskDate::Day(d).to_text()))
    };
    let mut categories: Vec<String> = task.categories.clone();
    categories.sort();
    categories.dedup();
    let mut fields = FieldMap::from([
        (Field::Title, json!(task.title)),
        (
            Field::Notes,
            json!(task.body.as_ref().map(|b| b.content.as_str()).unwrap_or("")),
        ),
        (Field::Progress, json!({"status": status.as_str()})),
        (
            Field::Priority,
            json!(todo_priority_read(
                task.importance.as_deref().unwrap_or("normal")
            )),
        ),
        (Field::Due, day(task.due_date_time.as_ref())),
        (Field::Start, day(task.start_date_time.as_ref())),
        (Field::Categories, json!(categories)),
    ]);
    // Only a read that expanded the checklist knows it; without it the field stays out (left
    // alone) rather than reading as "no items".
    if let Some(items) = &task.checklist_items {
        fields.insert(Field::Checklist, todo_checklist_of(items));
    }
    RemoteTask {
        id: task.id.clone(),
        fields,
        task_etag: task.etag.clone(),
        details_etag: None,
        last_modified: task.last_modified_date_time,
        completed_at: completion_instant(
            task.completed_date_time
                .as_ref()
                .and_then(|d| d.to_utc().ok()),
            task.last_modified_date_time,
        ),
        marker: task.marker().map(str::to_owned),
        created_at: task.created_date_time,
        // To Do takes the marker in the create itself: no unmarked task of ours can exist.
        created_by_this_app: false,
    }
}

/// When a To Do task was completed, as closely as its answer tells. To Do reports the completion
/// day at midnight UTC, not the instant (docs/graph-behaviour.md §3.1); when the task was last
/// modified on that same day, that modification is the closer estimate (the completion was one
/// of that day's writes, at or before it). An instant (any other time of day) is taken as it is.
/// Completion times are never compared between the sides (the status is), so either form
/// syncs the same; this only keeps the local `completed_at` from reading "midnight".
fn completion_instant(
    completed: Option<DateTime<Utc>>,
    last_modified: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let completed = completed?;
    let day_only = completed.time() == chrono::NaiveTime::MIN;
    match last_modified {
        Some(modified) if day_only && modified.date_naive() == completed.date_naive() => {
            Some(modified)
        }
        _ => Some(completed),
    }
}

fn todo_status(value: &Value) -> TodoStatus {
    TodoStatus::from_domain(progress_parts(value).0)
}

fn todo_due(value: &Value, rules: &SideRules) -> Option<DateTimeTimeZone> {
    match date_of(value)? {
        TaskDate::Day(d) => Some(DateTimeTimeZone::for_calendar_day(d, &rules.zone)),
        TaskDate::Instant(t) => Some(DateTimeTimeZone::for_calendar_day(
            rules.zone.calendar_day(t),
            &rules.zone,
        )),
    }
}

fn importance(value: &Value) -> String {
    todo_importance(
        value
            .as_str()
            .and_then(Priority::parse)
            .unwrap_or(Priority::Medium),
    )
    .to_owned()
}

pub fn todo_new_task(local_id: &str, fields: &FieldMap, rules: &SideRules) -> NewTodoTask {
    let mut task = NewTodoTask::for_local_task(
        local_id,
        fields
            .get(&Field::Title)
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    if let Some(notes) = fields.get(&Field::Notes).and_then(Value::as_str)
        && !notes.is_empty()
    {
        task.body = Some(ItemBody::text(notes));
    }
    task.status = fields.get(&Field::Progress).map(todo_status);
    task.importance = fields.get(&Field::Priority).map(importance);
    task.due_date_time = fields.get(&Field::Due).and_then(|d| todo_due(d, rules));
    task.start_date_time = fields.get(&Field::Start).and_then(|d| todo_due(d, rules));
    task.categories = fields
        .get(&Field::Categories)
        .map(strings_of)
        .unwrap_or_default();
    task
}

pub fn todo_patch(patch: &FieldMap, rules: &SideRules) -> TodoTaskPatch {
    let mut p = TodoTaskPatch::default();
    for (field, value) in patch {
        match field {
            Field::Title => p.title = value.as_str().map(str::to_owned),
            Field::Notes => p.body = Some(ItemBody::text(value.as_str().unwrap_or_default())),
            Field::Progress => p.status = Some(todo_status(value)),
            Field::Priority => p.importance = Some(importance(value)),
            Field::Due => p.due_date_time = Some(todo_due(value, rules)),
            Field::Start => p.start_date_time = Some(todo_due(value, rules)),
            Field::Categories => p.categories = Some(strings_of(value)),
            // The checklist is a sub-resource with its own requests (`todo_checklist_ops`).
            Field::Assignees | Field::Checklist | Field::Bucket => {}
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Option<DateTime<Utc>> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn a_day_only_completion_is_refined_by_that_days_last_write() {
        let modified = at("2026-03-08T17:45:12Z");
        assert_eq!(
            completion_instant(at("2026-03-08T00:00:00Z"), modified),
            modified
        );
        // Modified on a later day: the day is all that is known.
        assert_eq!(
            completion_instant(at("2026-03-07T00:00:00Z"), modified),
            at("2026-03-07T00:00:00Z")
        );
        // An instant is kept.
        assert_eq!(
            completion_instant(at("2026-03-08T09:00:01Z"), modified),
            at("2026-03-08T09:00:01Z")
        );
        assert_eq!(completion_instant(None, modified), None);
    }
}
