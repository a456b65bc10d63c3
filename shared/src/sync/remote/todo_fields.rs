//! To Do's field mapping: a `todoTask` as normalised fields, and normalised fields as a create
//! or a patch (the table in docs/sync-engine.md).

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
        completed_at: task
            .completed_date_time
            .as_ref()
            .and_then(|d| d.to_utc().ok()),
        marker: task.marker().map(str::to_owned),
        created_at: task.created_date_time,
        // To Do takes the marker in the create itself: no unmarked task of ours can exist.
        created_by_this_app: false,
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
