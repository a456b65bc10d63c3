//! To Do's data and its write rules (graph-facts §3.1, §3.2), free of HTTP so that Graph calls and
//! the control API ("a person in the To Do app") go through the very same code.
//!
//! Every task write takes the next value of one change sequence, kept per list in a change log
//! that holds only each task's latest change (deletions stay as tombstones). Delta (§3.3) is then a
//! range scan over that log.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde_json::{Map, Value, json};

use super::timezone::{self, ZoneError};

/// Why a To Do request failed; each maps onto one Graph error (see `todo::error_response`).
#[derive(Debug, thiserror::Error)]
pub enum TodoError {
    #[error("user not found")]
    UserNotFound,
    #[error("the list was not found")]
    ListNotFound,
    #[error("the task was not found")]
    TaskNotFound,
    #[error("the {0} was not found")]
    ItemNotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Zone(#[from] ZoneError),
}

fn bad(message: impl Into<String>) -> TodoError {
    TodoError::BadRequest(message.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    /// The `changeType` word of subscriptions and notifications (graph-facts §1.1, §1.6).
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// What a task write did, for change notifications.
#[derive(Debug, Clone)]
pub struct TaskChange {
    pub list_id: String,
    pub task_id: String,
    /// The ETag after the write; the last one for a deletion.
    pub etag: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone)]
pub struct LinkedResource {
    pub id: String,
    pub web_url: Option<String>,
    pub application_name: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ChecklistItem {
    pub id: String,
    pub display_name: String,
    pub is_checked: bool,
    pub checked: Option<DateTime<Utc>>,
    pub created: DateTime<Utc>,
}

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

#[derive(Debug, Clone)]
pub enum Change {
    Upserted(String),
    Deleted(String),
}

#[derive(Debug)]
pub struct TodoList {
    pub id: String,
    /// Lower-cased owner id (user ids compare case-insensitively).
    pub owner: String,
    pub display_name: String,
    pub wellknown_list_name: &'static str,
    pub etag: String,
    /// Tasks in creation order, keyed by an ordinal that never repeats (stable paging).
    pub tasks: BTreeMap<u64, Task>,
    pub ordinal_by_id: HashMap<String, u64>,
    /// The change log: sequence number → the task whose latest change it is.
    pub changes: BTreeMap<u64, Change>,
}

impl TodoList {
    pub fn task(&self, task_id: &str) -> Result<&Task, TodoError> {
        self.ordinal_by_id
            .get(task_id)
            .and_then(|o| self.tasks.get(o))
            .ok_or(TodoError::TaskNotFound)
    }

    fn task_mut(&mut self, task_id: &str) -> Result<&mut Task, TodoError> {
        self.ordinal_by_id
            .get(task_id)
            .and_then(|o| self.tasks.get_mut(o))
            .ok_or(TodoError::TaskNotFound)
    }
}

/// Default lifetime of delta tokens. The real lifetime is "not fixed" (graph-facts §3.3); a week
/// keeps ordinary test runs clear of it while `POST /_emulator/todo/delta/retention` can shorten it.
pub const DEFAULT_DELTA_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 3600);

#[derive(Default)]
pub struct TodoState {
    pub(crate) lists: HashMap<String, TodoList>,
    /// Users (lower-cased) whose default "Tasks" list exists already.
    seeded_users: std::collections::HashSet<String>,
    /// The last change sequence handed out (shared by all lists; only order matters).
    pub(crate) last_seq: u64,
    next_ordinal: u64,
    /// Delta tokens carry the epoch they were issued in; `expire_delta_tokens` bumps it.
    pub(crate) delta_epoch: u64,
    pub(crate) delta_retention: Option<std::time::Duration>,
}

impl TodoState {
    pub fn delta_retention(&self) -> std::time::Duration {
        self.delta_retention.unwrap_or(DEFAULT_DELTA_RETENTION)
    }

    /// Invalidates every outstanding delta and skip token (a "cache eviction", graph-facts §3.3).
    pub fn expire_delta_tokens(&mut self) {
        self.delta_epoch += 1;
    }

    /// Every mailbox has a default "Tasks" list; it is made on first use of the user's To Do.
    pub fn ensure_default_list(&mut self, owner: &str) {
        let owner = owner.to_ascii_lowercase();
        if self.seeded_users.insert(owner.clone()) {
            self.insert_list(&owner, "Tasks", "defaultList");
        }
    }

    pub fn create_list(
        &mut self,
        owner: &str,
        body: &Map<String, Value>,
    ) -> Result<&TodoList, TodoError> {
        let mut name = None;
        for (key, value) in body {
            match key.as_str() {
                "displayName" => {
                    name = Some(
                        value
                            .as_str()
                            .filter(|s| !s.trim().is_empty())
                            .ok_or_else(|| bad("displayName must be a non-empty string."))?,
                    )
                }
                k if is_ignorable(k)
                    || k == "id"
                    || k == "isOwner"
                    || k == "isShared"
                    || k == "wellknownListName" => {}
                other => return Err(unknown_property(other, "todoTaskList")),
            }
        }
        let name = name
            .ok_or_else(|| bad("displayName is required."))?
            .to_owned();
        let owner = owner.to_ascii_lowercase();
        let id = self.insert_list(&owner, &name, "none");
        self.lists.get(&id).ok_or(TodoError::ListNotFound)
    }

    /// Renames a list (its only writable property); the list gets a new ETag.
    pub fn update_list(
        &mut self,
        owner: &str,
        list_id: &str,
        body: &Map<String, Value>,
    ) -> Result<&TodoList, TodoError> {
        self.list(owner, list_id)?;
        let mut name = None;
        for (key, value) in body {
            match key.as_str() {
                "displayName" => {
                    name = Some(
                        value
                            .as_str()
                            .filter(|s| !s.trim().is_empty())
                            .ok_or_else(|| bad("displayName must be a non-empty string."))?
                            .to_owned(),
                    )
                }
                k if is_ignorable(k)
                    || k == "id"
                    || k == "isOwner"
                    || k == "isShared"
                    || k == "wellknownListName" => {}
                other => return Err(unknown_property(other, "todoTaskList")),
            }
        }
        let list = self.list_mut(list_id)?;
        if let Some(name) = name {
            list.display_name = name;
        }
        list.etag = new_etag();
        Ok(list)
    }

    /// Deletes a list with its tasks. The default list cannot be deleted (the To Do app refuses).
    pub fn delete_list(&mut self, owner: &str, list_id: &str) -> Result<(), TodoError> {
        if self.list(owner, list_id)?.wellknown_list_name == "defaultList" {
            return Err(bad("The default list cannot be deleted."));
        }
        self.lists.remove(list_id);
        Ok(())
    }

    fn insert_list(&mut self, owner: &str, name: &str, wellknown: &'static str) -> String {
        let id = exchange_id(64);
        self.lists.insert(
            id.clone(),
            TodoList {
                id: id.clone(),
                owner: owner.to_owned(),
                display_name: name.to_owned(),
                wellknown_list_name: wellknown,
                etag: new_etag(),
                tasks: BTreeMap::new(),
                ordinal_by_id: HashMap::new(),
                changes: BTreeMap::new(),
            },
        );
        id
    }

    /// Lists of `owner`: the default list first, then by name (and id) for a stable answer.
    pub fn lists_of(&self, owner: &str) -> Vec<&TodoList> {
        let mut lists: Vec<&TodoList> = self
            .lists
            .values()
            .filter(|l| l.owner.eq_ignore_ascii_case(owner))
            .collect();
        lists.sort_by(|a, b| {
            (
                a.wellknown_list_name != "defaultList",
                &a.display_name,
                &a.id,
            )
                .cmp(&(
                    b.wellknown_list_name != "defaultList",
                    &b.display_name,
                    &b.id,
                ))
        });
        lists
    }

    /// A list of `owner`; another user's list id is "not found" for this user.
    pub fn list(&self, owner: &str, list_id: &str) -> Result<&TodoList, TodoError> {
        self.lists
            .get(list_id)
            .filter(|l| l.owner.eq_ignore_ascii_case(owner))
            .ok_or(TodoError::ListNotFound)
    }

    /// The list by id alone (the control API and subscriptions name lists without their owner).
    pub fn list_any_owner(&self, list_id: &str) -> Result<&TodoList, TodoError> {
        self.lists.get(list_id).ok_or(TodoError::ListNotFound)
    }

    fn list_mut(&mut self, list_id: &str) -> Result<&mut TodoList, TodoError> {
        self.lists.get_mut(list_id).ok_or(TodoError::ListNotFound)
    }

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
        apply_task_fields(&mut task, body, now, true)?;
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
        let list = self.list_mut(list_id)?;
        let mut updated = list.task(task_id)?.clone();
        apply_task_fields(&mut updated, body, now, false)?;
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

/// Annotations and read-only properties that clients may echo back; Graph ignores them.
fn is_ignorable(key: &str) -> bool {
    key.starts_with('@') || key.contains("@odata.")
}

fn unknown_property(name: &str, type_name: &str) -> TodoError {
    bad(format!(
        "The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. Make sure to only use property names that are defined by the type."
    ))
}

fn string_field(key: &str, value: &Value) -> Result<String, TodoError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        _ => Err(bad(format!("{key} must be a string."))),
    }
}

fn optional_string(key: &str, value: &Value) -> Result<Option<String>, TodoError> {
    match value {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Null => Ok(None),
        _ => Err(bad(format!("{key} must be a string."))),
    }
}

fn enum_field(key: &str, value: &Value, allowed: &[&str]) -> Result<String, TodoError> {
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

/// A `dateTimeTimeZone` request value (graph-facts §3.5); `null` clears the field.
fn date_time_time_zone(key: &str, value: &Value) -> Result<Option<DateTime<Utc>>, TodoError> {
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

pub const STATUSES: &[&str] = &[
    "notStarted",
    "inProgress",
    "completed",
    "waitingOnOthers",
    "deferred",
];
pub const IMPORTANCES: &[&str] = &["low", "normal", "high"];

/// Applies a create or PATCH body. Completing a task stamps completedDateTime (unless the body
/// gives one); leaving `completed` clears it, as the To Do app does.
fn apply_task_fields(
    task: &mut Task,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
    creating: bool,
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
            "completedDateTime" => task.completed = date_time_time_zone(key, value)?,
            "recurrence" => task.recurrence = Some(value.clone()).filter(|v| !v.is_null()),
            "linkedResources" if creating => {
                let items = value
                    .as_array()
                    .ok_or_else(|| bad("linkedResources must be an array."))?;
                task.linked_resources = items
                    .iter()
                    .map(|item| {
                        item.as_object()
                            .ok_or_else(|| bad("each linkedResource must be an object."))
                            .and_then(new_linked_resource)
                    })
                    .collect::<Result<_, _>>()?;
            }
            "checklistItems" if creating => {
                let items = value
                    .as_array()
                    .ok_or_else(|| bad("checklistItems must be an array."))?;
                task.checklist = items
                    .iter()
                    .map(|item| {
                        item.as_object()
                            .ok_or_else(|| bad("each checklistItem must be an object."))
                            .and_then(|o| new_checklist_item(o, now))
                    })
                    .collect::<Result<_, _>>()?;
            }
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
        task.completed = Some(now);
    }
    if !is_completed && body.contains_key("status") {
        task.completed = None;
    }
    Ok(())
}

pub fn new_linked_resource(body: &Map<String, Value>) -> Result<LinkedResource, TodoError> {
    let mut resource = LinkedResource {
        id: uuid::Uuid::new_v4().to_string(),
        web_url: None,
        application_name: None,
        display_name: None,
        external_id: None,
    };
    apply_linked_resource(&mut resource, body)?;
    Ok(resource)
}

pub fn apply_linked_resource(
    resource: &mut LinkedResource,
    body: &Map<String, Value>,
) -> Result<(), TodoError> {
    for (key, value) in body {
        match key.as_str() {
            "webUrl" => resource.web_url = optional_string(key, value)?,
            "applicationName" => resource.application_name = optional_string(key, value)?,
            "displayName" => resource.display_name = optional_string(key, value)?,
            "externalId" => resource.external_id = optional_string(key, value)?,
            "id" => {}
            k if is_ignorable(k) => {}
            other => return Err(unknown_property(other, "linkedResource")),
        }
    }
    Ok(())
}

pub fn new_checklist_item(
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<ChecklistItem, TodoError> {
    if !body.get("displayName").is_some_and(Value::is_string) {
        return Err(bad("displayName is required on a checklistItem."));
    }
    let mut item = ChecklistItem {
        id: uuid::Uuid::new_v4().to_string(),
        display_name: String::new(),
        is_checked: false,
        checked: None,
        created: now,
    };
    apply_checklist_item(&mut item, body, now)?;
    Ok(item)
}

pub fn apply_checklist_item(
    item: &mut ChecklistItem,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), TodoError> {
    for (key, value) in body {
        match key.as_str() {
            "displayName" => item.display_name = string_field(key, value)?,
            "isChecked" => {
                let checked = value
                    .as_bool()
                    .ok_or_else(|| bad("isChecked must be a boolean."))?;
                if checked != item.is_checked {
                    item.checked = checked.then_some(now);
                }
                item.is_checked = checked;
            }
            "id" | "createdDateTime" | "checkedDateTime" => {}
            k if is_ignorable(k) => {}
            other => return Err(unknown_property(other, "checklistItem")),
        }
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

pub fn list_json(list: &TodoList) -> Value {
    json!({
        "@odata.etag": list.etag,
        "displayName": list.display_name,
        "isOwner": true,
        "isShared": false,
        "wellknownListName": list.wellknown_list_name,
        "id": list.id,
    })
}

pub fn linked_resource_json(r: &LinkedResource) -> Value {
    json!({
        "id": r.id,
        "webUrl": r.web_url,
        "applicationName": r.application_name,
        "displayName": r.display_name,
        "externalId": r.external_id,
    })
}

pub fn checklist_item_json(c: &ChecklistItem) -> Value {
    json!({
        "displayName": c.display_name,
        "createdDateTime": timezone::format_offset(c.created),
        "checkedDateTime": c.checked.map(timezone::format_offset),
        "isChecked": c.is_checked,
        "id": c.id,
    })
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

/// A long Exchange-style id (graph-facts §3.1), e.g. `AAMkAGI2...AAA=`.
fn exchange_id(random_bytes: usize) -> String {
    let mut bytes = vec![0u8; random_bytes];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "AAMkAG{}",
        base64::engine::general_purpose::URL_SAFE.encode(bytes)
    )
}

/// A weak ETag in Exchange's form, e.g. `W/"xzyPKP0BiUGgld+lMKXwbQAAnBoTIw=="`.
fn new_etag() -> String {
    let bytes: [u8; 16] = rand::random();
    format!(
        "W/\"{}\"",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}
