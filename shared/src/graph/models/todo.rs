//! To Do resources as Graph sends and accepts them (docs/graph-behaviour.md §3.1), and their
//! conversion to the domain's `RemoteTodoTask`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::datetime::DateTimeTimeZone;
use crate::model::{RemoteTodoTask, TaskStatus};

/// `applicationName` of the `linkedResources` entry that marks a task created by tasksync; its
/// `externalId` is the local task id (docs/architecture.md principle 3).
pub const MARKER_APPLICATION: &str = "tasksync";

/// `todoTask.status`; values Graph adds later are kept as `Unknown` rather than failing the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TodoStatus {
    NotStarted,
    InProgress,
    Completed,
    WaitingOnOthers,
    Deferred,
    #[serde(other)]
    Unknown,
}

impl TodoStatus {
    /// The domain has three states. `waitingOnOthers` and `deferred` are started-but-not-done
    /// from the local store's point of view, so they map to `InProgress`; an unknown future value
    /// is treated the same way (it is not "completed" and someone set it on purpose).
    pub fn to_domain(self) -> TaskStatus {
        match self {
            TodoStatus::NotStarted => TaskStatus::NotStarted,
            TodoStatus::Completed => TaskStatus::Completed,
            TodoStatus::InProgress
            | TodoStatus::WaitingOnOthers
            | TodoStatus::Deferred
            | TodoStatus::Unknown => TaskStatus::InProgress,
        }
    }

    pub fn from_domain(status: TaskStatus) -> Self {
        match status {
            TaskStatus::NotStarted => TodoStatus::NotStarted,
            TaskStatus::InProgress => TodoStatus::InProgress,
            TaskStatus::Completed => TodoStatus::Completed,
        }
    }
}

/// `itemBody`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    #[serde(default)]
    pub content: String,
    /// `text` or `html`.
    #[serde(default = "text")]
    pub content_type: String,
}

fn text() -> String {
    "text".to_owned()
}

impl ItemBody {
    pub fn text(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            content_type: text(),
        }
    }
}

/// `linkedResource`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkedResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl LinkedResource {
    /// The marker that ties a remote task to local task `local_id`.
    pub fn marker(local_id: &str) -> Self {
        Self {
            application_name: Some(MARKER_APPLICATION.to_owned()),
            display_name: Some(format!("tasksync {local_id}")),
            external_id: Some(local_id.to_owned()),
            ..Self::default()
        }
    }
}

/// `checklistItem` as read (docs/graph-behaviour.md §3.1): a sub-resource of the task with a
/// server-made id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoChecklistItem {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub is_checked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_date_time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<DateTime<Utc>>,
}

/// A `checklistItem` to create (`POST .../checklistItems`) or the fields of one to change
/// (`PATCH .../checklistItems/{id}`): only what is set is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoChecklistItemWrite {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_checked: Option<bool>,
}

/// `todoTaskList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoTaskList {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub wellknown_list_name: Option<String>,
    #[serde(default)]
    pub is_owner: Option<bool>,
}

/// `todoTask` as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoTask {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: Option<ItemBody>,
    #[serde(default)]
    pub status: Option<TodoStatus>,
    #[serde(default)]
    pub importance: Option<String>,
    #[serde(default)]
    pub due_date_time: Option<DateTimeTimeZone>,
    #[serde(default)]
    pub start_date_time: Option<DateTimeTimeZone>,
    #[serde(default)]
    pub completed_date_time: Option<DateTimeTimeZone>,
    #[serde(default)]
    pub reminder_date_time: Option<DateTimeTimeZone>,
    #[serde(default)]
    pub is_reminder_on: Option<bool>,
    #[serde(default)]
    pub created_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_modified_date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Present when read with `$expand=linkedResources` and in create responses.
    #[serde(default)]
    pub linked_resources: Vec<LinkedResource>,
    /// Present only when read with `$expand=checklistItems`: `None` means "not read", never
    /// "no items", so a response without the expansion cannot erase a checklist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist_items: Option<Vec<TodoChecklistItem>>,
    #[serde(rename = "@odata.etag", default)]
    pub etag: Option<String>,
}

impl TodoTask {
    /// The local id this task was created for, if tasksync created it.
    pub fn marker(&self) -> Option<&str> {
        self.linked_resources
            .iter()
            .find(|l| l.application_name.as_deref() == Some(MARKER_APPLICATION))
            .and_then(|l| l.external_id.as_deref())
    }

    /// The domain view. HTML bodies are passed through as they are; the reconcile engine treats
    /// the body as opaque text.
    pub fn to_domain(&self) -> RemoteTodoTask {
        RemoteTodoTask {
            id: self.id.clone(),
            title: self.title.clone(),
            body_text: self
                .body
                .as_ref()
                .map(|b| b.content.clone())
                .unwrap_or_default(),
            status: self
                .status
                .map(TodoStatus::to_domain)
                .unwrap_or(TaskStatus::NotStarted),
            last_modified: self.last_modified_date_time,
            etag: self.etag.clone(),
        }
    }
}

/// A task to create (`POST .../tasks`), with the marker inline (docs/graph-behaviour.md §3.1). It
/// is sent as the patch that sets every field it has, plus its linked resources, so the two
/// requests cannot drift apart in how a field goes over the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "CreateBody")]
pub struct NewTodoTask {
    pub title: String,
    pub body: Option<ItemBody>,
    pub status: Option<TodoStatus>,
    pub importance: Option<String>,
    pub due_date_time: Option<DateTimeTimeZone>,
    pub start_date_time: Option<DateTimeTimeZone>,
    /// Empty: none sent.
    pub categories: Vec<String>,
    pub linked_resources: Vec<LinkedResource>,
}

/// The body of a create: what [`NewTodoTask`] serialises as.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    #[serde(flatten)]
    fields: TodoTaskPatch,
    linked_resources: Vec<LinkedResource>,
}

impl From<NewTodoTask> for CreateBody {
    fn from(task: NewTodoTask) -> Self {
        Self {
            fields: TodoTaskPatch {
                title: Some(task.title),
                body: task.body,
                status: task.status,
                importance: task.importance,
                due_date_time: task.due_date_time.map(Some),
                start_date_time: task.start_date_time.map(Some),
                categories: (!task.categories.is_empty()).then_some(task.categories),
            },
            linked_resources: task.linked_resources,
        }
    }
}

impl NewTodoTask {
    /// A task carrying the marker of `local_id`.
    pub fn for_local_task(local_id: &str, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            body: None,
            status: None,
            importance: None,
            due_date_time: None,
            start_date_time: None,
            categories: Vec::new(),
            linked_resources: vec![LinkedResource::marker(local_id)],
        }
    }
}

/// A partial update (`PATCH .../tasks/{id}`): only the fields set are sent. `Some(None)` clears
/// a date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoTaskPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<ItemBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TodoStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub importance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date_time: Option<Option<DateTimeTimeZone>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_date_time: Option<Option<DateTimeTimeZone>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
}

impl TodoTaskPatch {
    /// Nothing to send: the task itself needs no PATCH.
    pub fn is_empty(&self) -> bool {
        *self == TodoTaskPatch::default()
    }
}

/// One change of a delta round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TodoChange {
    /// Created or updated; the task holds at least the id and the changed fields.
    Upsert(Box<TodoTask>),
    /// Deleted (or moved away); `reason` is Graph's `@removed.reason`.
    Removed { id: String, reason: String },
}

/// The result of one delta round: every change since the link it started from, and the link to
/// store for the next round (docs/graph-behaviour.md §3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaRound {
    pub changes: Vec<TodoChange>,
    pub delta_link: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_task_converts_to_the_domain() {
        let t: TodoTask = serde_json::from_str(
            r#"{"@odata.etag":"W/\"xzy\"","id":"AAMk=","title":"Pay","status":"waitingOnOthers",
                "body":{"content":"note","contentType":"text"},
                "lastModifiedDateTime":"2020-08-18T09:03:05.8339192Z",
                "linkedResources":[{"id":"l1","applicationName":"tasksync","externalId":"local-1"}],
                "futureField":1}"#,
        )
        .unwrap();
        let d = t.to_domain();
        assert_eq!(d.status, TaskStatus::InProgress);
        assert_eq!(d.body_text, "note");
        assert_eq!(d.etag.as_deref(), Some("W/\"xzy\""));
        assert!(d.last_modified.is_some());
        assert_eq!(t.marker(), Some("local-1"));
        let odd: TodoTask = serde_json::from_str(r#"{"id":"x","status":"somethingNew"}"#).unwrap();
        assert_eq!(odd.status, Some(TodoStatus::Unknown));
        assert_eq!(odd.marker(), None);
    }

    #[test]
    fn patch_sends_only_what_is_set_and_null_to_clear() {
        let p = TodoTaskPatch {
            title: Some("t".into()),
            due_date_time: Some(None),
            ..TodoTaskPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            serde_json::json!({"title":"t","dueDateTime":null})
        );
    }

    #[test]
    fn a_create_sends_the_fields_it_has_and_the_marker() {
        let mut new = NewTodoTask::for_local_task("l-1", "Pay");
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            serde_json::json!({"title":"Pay","linkedResources":[
                {"applicationName":"tasksync","displayName":"tasksync l-1","externalId":"l-1"}
            ]})
        );
        new.status = Some(TodoStatus::Completed);
        new.categories = vec!["Red".into()];
        let sent = serde_json::to_value(&new).unwrap();
        assert_eq!(sent["status"], "completed");
        assert_eq!(sent["categories"], serde_json::json!(["Red"]));
        assert!(sent.get("dueDateTime").is_none() && sent.get("body").is_none());
    }
}
