//! Domain types shared by every part. No SDK or Graph JSON type appears here: adapters convert
//! at their edge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which kind of Microsoft 365 container a binding syncs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoteKind {
    Todo,
    Planner,
}

/// A binding: one local list synced with one Planner plan or one To Do list.
///
/// Stored in the sync table and managed with the CLI. `user_id` is the owner of the To Do list
/// (app-only calls address To Do through `/users/{id}`); for Planner it is unused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub id: String,
    pub local_list_id: String,
    pub remote: RemoteKind,
    /// To Do: the owner of the list. Planner: empty.
    pub user_id: String,
    /// To Do list id or Planner plan id.
    pub remote_container_id: String,
}

/// A Graph change-notification subscription as this system records it.
///
/// `client_state` is a secret: it is compared in constant time and never logged or printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    pub id: String,
    pub binding_id: String,
    pub client_state: String,
    pub tenant_id: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for SubscriptionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionRecord")
            .field("id", &self.id)
            .field("binding_id", &self.binding_id)
            .field("client_state", &"<redacted>")
            .field("tenant_id", &self.tenant_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Status of a task in the local store's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Completed,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "not_started" => Some(TaskStatus::NotStarted),
            "in_progress" => Some(TaskStatus::InProgress),
            "completed" => Some(TaskStatus::Completed),
            _ => None,
        }
    }
}

/// Who made the last write to a local task item. Writes by the sync are recognisable so they
/// reconcile to "nothing to do" (DESIGN.md principle 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written by tasksync itself.
    Sync,
    /// Written by the application (agents, services); free text names the writer.
    App(String),
}

/// One task of the local task store (the tasks table). Issue 4 widens this to the full public
/// contract; the fields here are the first slice of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTask {
    pub list_id: String,
    pub id: String,
    pub title: String,
    pub notes: String,
    pub status: TaskStatus,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub origin: Origin,
    pub deleted: bool,
}

/// A To Do task as the domain sees it (converted from Graph JSON in `graph`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTodoTask {
    pub id: String,
    pub title: String,
    pub body_text: String,
    pub status: TaskStatus,
    pub last_modified: Option<DateTime<Utc>>,
    pub etag: Option<String>,
}
