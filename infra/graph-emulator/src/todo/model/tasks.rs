//! To Do tasks (docs/graph-behaviour.md §3.1, §3.2): create, update and delete, each one write
//! on the list's change log, what a body may set, and the JSON Graph shows.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::fields::{
    date_time_time_zone, enum_field, is_ignorable, string_field, unknown_property,
};
use super::task_items::{
    ChecklistItem, LinkedResource, checklist_item_json, inline_items, linked_resource_json,
};
use super::{Change, ChangeKind, TaskChange, TodoError, TodoState, bad, exchange_id, new_etag};
use crate::todo::timezone;

#[derive(Debug, Clone)]
pub struct Task {
    pub id: String,
    pub title: String,
    pub body_content: String,
    pub body_content_type: String,
    pub importance: String,
    pub status: String,
    pub categories: Vec<String>,
    pub is_reminder_on: bool,
    pub due: Option<DateTime<Utc>>,
    pub start: Option<DateTime<Utc>>,
    pub completed: Option<DateTime<Utc>>,
    pub reminder: Option<DateTime<Utc>>,
    pub recurrence: Option<Value>,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub body_last_modified: DateTime<Utc>,
    pub etag: String,
    /// Position of this task's latest entry in its list's change log.
    pub change_seq: u64,
    pub linked_resources: Vec<LinkedResource>,
    pub checklist: Vec<ChecklistItem>,
}

impl TodoState {
    fn next_seq(&mut self) -> u64 {
        self.last_seq += 1;
        self.last_seq
    }

    pub fn create_task(
        &mut self,
        list_id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(Task, TaskChange), TodoError> {
        // Validate everything before any state changes, so a 400 leaves no trace.
        self.list_mut(list_id)?;
        let mut task = Task {
            id: exchange_id(104),
            title: String::new(),
            body_content: String::new(),
            body_content_type: "text".to_owned(),
            importance: "normal".to_owned(),
            status: "notStarted".to_owned(),
            categories: Vec::new(),
            is_reminder_on: false,
            due: None,
            start: None,
            completed: None,
            reminder: None,
            recurrence: None,
            created: now,
            last_modified: now,
            body_last_modified: now,
            etag: new_etag(),
            change_seq: 0,
            linked_resources: Vec::new(),
            checklist: Vec::new(),
        };
        apply_task_fields(&mut task, body, now, true, self.completion)?;
        let seq = self.next_seq();
        self.next_ordinal += 1;
        let ordinal = self.next_ordinal;
        task.change_seq = seq;
        let list = self.list_mut(list_id)?;
        list.ordinal_by_id.insert(task.id.clone(), ordinal);
        list.changes.insert(seq, Change::Upserted(task.id.clone()));
        list.tasks.insert(ordinal, task.clone());
        let change = TaskChange {
            list_id: list_id.to_owned(),
            task_id: task.id.clone(),
            etag: task.etag.clone(),
            kind: ChangeKind::Created,
        };
        Ok((task, change))
    }

    pub fn update_task(
        &mut self,
        list_id: &str,
        task_id: &str,
        body: &Map<String, Value>,
        now: DateTime<Utc>,
    ) -> Result<(Task, TaskChange), TodoError> {
        let completion = self.completion;
        let list = self.list_mut(list_id)?;
        let mut updated = list.task(task_id)?.clone();
        apply_task_fields(&mut updated, body, now, false, completion)?;
        self.commit_update(list_id, updated, now)
    }

    /// Runs `edit` on a copy of the task and, if it succeeds, stores it as one task write (new
    /// ETag, lastModifiedDateTime, change log entry). Sub-resources (checklist items, linked
    /// resources) are stored inside the task as Exchange does, so their writes are task writes.
    pub fn edit_task<R>(
        &mut self,
        list_id: &str,
        task_id: &str,
        now: DateTime<Utc>,
        edit: impl FnOnce(&mut Task) -> Result<R, TodoError>,
    ) -> Result<(R, Task, TaskChange), TodoError> {
        let list = self.list_mut(list_id)?;
        let mut updated = list.task(task_id)?.clone();
        let result = edit(&mut updated)?;
        let (task, change) = self.commit_update(list_id, updated, now)?;
        Ok((result, task, change))
    }

    fn commit_update(
        &mut self,
        list_id: &str,
        mut updated: Task,
        now: DateTime<Utc>,
    ) -> Result<(Task, TaskChange), TodoError> {
        let seq = self.next_seq();
        let list = self.list_mut(list_id)?;
        let previous_seq = list.task(&updated.id)?.change_seq;
        updated.etag = new_etag();
        updated.last_modified = now;
        updated.change_seq = seq;
        *list.task_mut(&updated.id)? = updated.clone();
        list.changes.remove(&previous_seq);
        list.changes
            .insert(seq, Change::Upserted(updated.id.clone()));
        let change = TaskChange {
            list_id: list_id.to_owned(),
            task_id: updated.id.clone(),
            etag: updated.etag.clone(),
            kind: ChangeKind::Updated,
        };
        Ok((updated, change))
    }

    pub fn delete_task(&mut self, list_id: &str, task_id: &str) -> Result<TaskChange, TodoError> {
        let seq = self.next_seq();
        let list = self.list_mut(list_id)?;
        let ordinal = list
            .ordinal_by_id
            .remove(task_id)
            .ok_or(TodoError::TaskNotFound)?;
        let task = list.tasks.remove(&ordinal).ok_or(TodoError::TaskNotFound)?;
        list.changes.remove(&task.change_seq);
        list.changes.insert(seq, Change::Deleted(task.id.clone()));
        Ok(TaskChange {
            list_id: list_id.to_owned(),
            task_id: task.id,
            etag: task.etag,
            kind: ChangeKind::Deleted,
        })
    }
}

pub const STATUSES: &[&str] = &[
    "notStarted",
    "inProgress",
    "completed",
    "waitingOnOthers",
    "deferred",
];
pub const IMPORTANCES: &[&str] = &["low", "normal", "high"];

/// Applies a create or PATCH body. Completing a task stamps completedDateTime (unless the body
/// gives one); leaving `completed` clears it, as the To Do app does. A completion time, stamped or
/// given, is kept as `completion` says: by default the day at midnight UTC, as To Do reports it.
fn apply_task_fields(
    task: &mut Task,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
    creating: bool,
    completion: crate::config::TodoCompletion,
) -> Result<(), TodoError> {
    let was_completed = task.status == "completed";
    for (key, value) in body {
        match key.as_str() {
            "title" => task.title = string_field(key, value)?,
            "body" => {
                let obj = value
                    .as_object()
                    .ok_or_else(|| bad("body must be an itemBody object."))?;
                if let Some(content) = obj.get("content") {
                    task.body_content = string_field("body.content", content)?;
                }
                if let Some(kind) = obj.get("contentType") {
                    task.body_content_type =
                        enum_field("body.contentType", kind, &["text", "html"])?;
                }
                task.body_last_modified = now;
            }
            "importance" => task.importance = enum_field(key, value, IMPORTANCES)?,
            "status" => task.status = enum_field(key, value, STATUSES)?,
            "categories" => {
                task.categories = match value {
                    Value::Null => Vec::new(),
                    Value::Array(items) => items
                        .iter()
                        .map(|c| {
                            c.as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| bad("categories must be strings."))
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(bad("categories must be an array of strings.")),
                }
            }
            "isReminderOn" => {
                task.is_reminder_on = value
                    .as_bool()
                    .ok_or_else(|| bad("isReminderOn must be a boolean."))?
            }
            "dueDateTime" => task.due = date_time_time_zone(key, value)?,
            "startDateTime" => task.start = date_time_time_zone(key, value)?,
            "reminderDateTime" => task.reminder = date_time_time_zone(key, value)?,
            "completedDateTime" => {
                task.completed = date_time_time_zone(key, value)?.map(|at| completion.stamp(at))
            }
            "recurrence" => task.recurrence = Some(value.clone()).filter(|v| !v.is_null()),
            "linkedResources" if creating => task.linked_resources = inline_items(value, now)?,
            "checklistItems" if creating => task.checklist = inline_items(value, now)?,
            "id"
            | "createdDateTime"
            | "lastModifiedDateTime"
            | "bodyLastModifiedDateTime"
            | "hasAttachments" => {}
            k if is_ignorable(k) => {}
            other => return Err(unknown_property(other, "todoTask")),
        }
    }
    let is_completed = task.status == "completed";
    if is_completed && !was_completed && !body.contains_key("completedDateTime") {
        task.completed = Some(completion.stamp(now));
    }
    if !is_completed && body.contains_key("status") {
        task.completed = None;
    }
    Ok(())
}

/// Which relationships a read should inline (`$expand`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Expand {
    pub linked_resources: bool,
    pub checklist_items: bool,
}

impl Expand {
    pub fn parse(value: Option<&str>) -> Expand {
        let mut expand = Expand::default();
        for part in value.unwrap_or_default().split(',') {
            match part.trim().to_ascii_lowercase().as_str() {
                "linkedresources" => expand.linked_resources = true,
                "checklistitems" => expand.checklist_items = true,
                _ => {}
            }
        }
        expand
    }

    pub const ALL: Expand = Expand {
        linked_resources: true,
        checklist_items: true,
    };
}

/// A task as Graph returns it; unset dateTimeTimeZone fields are left out, as Graph does.
pub fn task_json(task: &Task, expand: Expand) -> Value {
    let mut obj = Map::new();
    obj.insert("@odata.etag".into(), json!(task.etag));
    obj.insert("importance".into(), json!(task.importance));
    obj.insert("isReminderOn".into(), json!(task.is_reminder_on));
    obj.insert("status".into(), json!(task.status));
    obj.insert("title".into(), json!(task.title));
    obj.insert(
        "createdDateTime".into(),
        json!(timezone::format_offset(task.created)),
    );
    obj.insert(
        "lastModifiedDateTime".into(),
        json!(timezone::format_offset(task.last_modified)),
    );
    obj.insert("hasAttachments".into(), json!(false));
    obj.insert("categories".into(), json!(task.categories));
    obj.insert("id".into(), json!(task.id));
    obj.insert(
        "body".into(),
        json!({"content": task.body_content, "contentType": task.body_content_type}),
    );
    obj.insert(
        "bodyLastModifiedDateTime".into(),
        json!(timezone::format_offset(task.body_last_modified)),
    );
    for (key, value) in [
        ("dueDateTime", task.due),
        ("startDateTime", task.start),
        ("completedDateTime", task.completed),
        ("reminderDateTime", task.reminder),
    ] {
        if let Some(t) = value {
            obj.insert(key.into(), timezone::to_json(t));
        }
    }
    if let Some(recurrence) = &task.recurrence {
        obj.insert("recurrence".into(), recurrence.clone());
    }
    if expand.linked_resources {
        obj.insert(
            "linkedResources".into(),
            Value::Array(
                task.linked_resources
                    .iter()
                    .map(linked_resource_json)
                    .collect(),
            ),
        );
    }
    if expand.checklist_items {
        obj.insert(
            "checklistItems".into(),
            Value::Array(task.checklist.iter().map(checklist_item_json).collect()),
        );
    }
    Value::Object(obj)
}
