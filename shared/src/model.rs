//! Domain types shared by every part. No SDK or Graph JSON type appears here: adapters convert
//! at their edge.

use chrono::{DateTime, NaiveDate, Utc};
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
/// (app-only calls address To Do through `/users/{id}`); for Planner it is unused. Construct
/// with [`Binding::todo`] / [`Binding::planner`] and adjust the policies, so that new fields do
/// not break callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub id: String,
    pub local_list_id: String,
    pub remote: RemoteKind,
    /// To Do: the owner of the list. Planner: empty.
    pub user_id: String,
    /// To Do list id or Planner plan id.
    pub remote_container_id: String,
    /// Which way changes flow.
    pub direction: Direction,
    /// Who wins when both sides changed one field differently (protected fields aside).
    pub conflict_policy: ConflictPolicy,
    /// Import tasks that are already completed when first seen unmapped (default: skip them).
    pub import_completed: bool,
    /// The zone (IANA or Windows name) in which calendar days (due/start dates) are written to
    /// Graph and read back; see docs/graph-client.md, "Dates".
    pub time_zone: String,
    /// Set while the binding's circuit breaker is open (or counting failures).
    pub breaker: Option<CircuitBreaker>,
    /// Set by `tasksync bindings add` until the binding's first sync completed: while set, a
    /// resync pairs unmapped tasks that exist on both sides by their title (cold-start
    /// matching, `crate::sync::cold_start`). Never set on a binding written another way, so a
    /// binding already in sync never merges a later task with a same-title one.
    pub first_sync_pending: bool,
    /// When the first sync completed (`tasksync bindings add` or `tasksync sync`).
    pub first_sync_completed_at: Option<DateTime<Utc>>,
    /// Set while an operator paused the binding: its hints are acknowledged without syncing
    /// and its sweeps are skipped; the subscription is kept.
    pub paused_at: Option<DateTime<Utc>>,
    /// The last time a hint was acknowledged while the binding was paused: something changed
    /// meanwhile, so resuming must resync.
    pub hint_while_paused_at: Option<DateTime<Utc>>,
}

impl Binding {
    /// A To Do binding with the default policies (both ways, remote wins, UTC days).
    pub fn todo(
        id: impl Into<String>,
        local_list_id: impl Into<String>,
        user_id: impl Into<String>,
        todo_list_id: impl Into<String>,
    ) -> Self {
        Self {
            id: id.into(),
            local_list_id: local_list_id.into(),
            remote: RemoteKind::Todo,
            user_id: user_id.into(),
            remote_container_id: todo_list_id.into(),
            direction: Direction::Both,
            conflict_policy: ConflictPolicy::RemoteWins,
            import_completed: false,
            time_zone: "UTC".to_owned(),
            breaker: None,
            first_sync_pending: false,
            first_sync_completed_at: None,
            paused_at: None,
            hint_while_paused_at: None,
        }
    }

    /// A Planner binding with the default policies.
    pub fn planner(
        id: impl Into<String>,
        local_list_id: impl Into<String>,
        plan_id: impl Into<String>,
    ) -> Self {
        Self {
            remote: RemoteKind::Planner,
            ..Self::todo(id, local_list_id, "", plan_id)
        }
    }
}

/// Which way a binding syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Both,
    /// The local store is the source: remote edits are not brought in.
    ToRemote,
    /// Graph is the source: local edits are not sent.
    ToLocal,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::ToRemote => "to_remote",
            Direction::ToLocal => "to_local",
        }
    }

    /// The command line's spelling (`to-remote`), beside the item's (`to_remote`).
    pub fn parse_flag(s: &str) -> Option<Self> {
        Self::parse(&s.replace('-', "_"))
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "both" => Some(Direction::Both),
            "to_remote" => Some(Direction::ToRemote),
            "to_local" => Some(Direction::ToLocal),
            _ => None,
        }
    }

    pub fn writes_local(self) -> bool {
        self != Direction::ToRemote
    }

    pub fn writes_remote(self) -> bool {
        self != Direction::ToLocal
    }
}

/// Who wins a field both sides changed differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    RemoteWins,
    LocalWins,
    /// The side with the later modification time. Planner tasks carry none, so on a Planner
    /// binding this falls back to the remote side (docs/sync-engine.md).
    Newer,
}

impl ConflictPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::RemoteWins => "remote_wins",
            ConflictPolicy::LocalWins => "local_wins",
            ConflictPolicy::Newer => "newer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "remote_wins" => Some(ConflictPolicy::RemoteWins),
            "local_wins" => Some(ConflictPolicy::LocalWins),
            "newer" => Some(ConflictPolicy::Newer),
            _ => None,
        }
    }
}

/// A binding's failure record: consecutive binding-level failures (its container is gone, the
/// app lost access) and, once they reach the threshold, the time until which its messages are
/// acknowledged and recorded instead of retried (docs/architecture.md principle 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitBreaker {
    pub failures: u32,
    pub reason: String,
    pub last_failure_at: DateTime<Utc>,
    /// `Some` while open.
    pub open_until: Option<DateTime<Utc>>,
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

crate::notification::debug_hiding_client_state! {
    SubscriptionRecord { id, binding_id, tenant_id, expires_at }
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
/// reconcile to "nothing to do" (docs/architecture.md principle 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written by tasksync itself.
    Sync,
    /// Written by the application (agents, services); free text names the writer.
    App(String),
}

/// Priority in the local store's vocabulary (Planner 0–10 and To Do importance map to it,
/// docs/sync-engine.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    Important,
    Medium,
    Low,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Important => "important",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "urgent" => Some(Priority::Urgent),
            "important" => Some(Priority::Important),
            "medium" => Some(Priority::Medium),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }
}

/// A due or start date: a calendar day (what people set) or an exact instant (what agents may
/// set). Stored as one string attribute, typed by its shape: `YYYY-MM-DD` or RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TaskDate {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

impl TaskDate {
    /// Parses `YYYY-MM-DD` or an RFC 3339 instant; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(TaskDate::Day(day));
        }
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| TaskDate::Instant(t.with_timezone(&Utc)))
    }

    pub fn to_text(&self) -> String {
        match self {
            TaskDate::Day(day) => day.format("%Y-%m-%d").to_string(),
            TaskDate::Instant(at) => at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

/// One checklist item. `id` is stable across syncs (the Planner checklist key).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub id: String,
    pub title: String,
    pub checked: bool,
}

/// One task of the local task store (the tasks table): the public contract documented in the
/// README ("The task item").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTask {
    pub list_id: String,
    pub id: String,
    pub title: String,
    pub notes: String,
    pub status: TaskStatus,
    /// 0–100; `None` lets the status decide (0, 50 or 100).
    pub percent_complete: Option<u8>,
    pub priority: Priority,
    pub due: Option<TaskDate>,
    pub start: Option<TaskDate>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Graph user ids.
    pub assignees: Vec<String>,
    pub categories: Vec<String>,
    pub checklist: Vec<ChecklistItem>,
    /// Planner bucket id.
    pub bucket: Option<String>,
    /// Field names a person protected from sync: their local value always wins.
    pub protected_fields: Vec<String>,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    pub origin: Origin,
    pub deleted: bool,
}

impl LocalTask {
    /// A fresh, not-started task with every optional field empty (version 1).
    pub fn new(
        list_id: impl Into<String>,
        id: impl Into<String>,
        title: impl Into<String>,
        origin: Origin,
    ) -> Self {
        Self {
            list_id: list_id.into(),
            id: id.into(),
            title: title.into(),
            notes: String::new(),
            status: TaskStatus::NotStarted,
            percent_complete: None,
            priority: Priority::Medium,
            due: None,
            start: None,
            completed_at: None,
            assignees: Vec::new(),
            categories: Vec::new(),
            checklist: Vec::new(),
            bucket: None,
            protected_fields: Vec::new(),
            version: 1,
            updated_at: Utc::now(),
            origin,
            deleted: false,
        }
    }
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
