//! To Do's data and its write rules (docs/graph-behaviour.md §3.1, §3.2), free of HTTP so that
//! Graph calls and the control API ("a person in the To Do app") go through the very same code.
//!
//! Every task write takes the next value of one change sequence, kept per list in a change log
//! that holds only each task's latest change (deletions stay as tombstones). Delta (§3.3) is then a
//! range scan over that log.
//!
//! This module holds the state and what every part shares; lists, tasks, their sub-items and the
//! field readers live in submodules.

mod fields;
mod lists;
mod task_items;
mod tasks;

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use rand::RngCore as _;

use super::timezone::ZoneError;

pub use lists::list_json;
pub use task_items::{
    ChecklistItem, LinkedResource, TaskItem, apply_checklist_item, apply_linked_resource,
    checklist_item_json, linked_resource_json, new_checklist_item, new_linked_resource,
};
pub use tasks::{Expand, IMPORTANCES, STATUSES, Task, task_json};

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
    /// The `changeType` word of subscriptions and notifications (docs/graph-behaviour.md §1.1,
    /// §1.6).
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

/// Default lifetime of delta tokens. The real lifetime is "not fixed" (docs/graph-behaviour.md
/// §3.3); a week keeps ordinary test runs clear of it while `POST /_emulator/todo/delta/retention`
/// can shorten it.
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
    /// How completion times are stored and reported.
    pub(crate) completion: crate::config::TodoCompletion,
}

impl TodoState {
    /// An empty store reporting completion times as `completion` says.
    pub fn with_completion(completion: crate::config::TodoCompletion) -> Self {
        Self {
            completion,
            ..Self::default()
        }
    }

    pub fn delta_retention(&self) -> std::time::Duration {
        self.delta_retention.unwrap_or(DEFAULT_DELTA_RETENTION)
    }

    /// Invalidates every outstanding delta and skip token (a "cache eviction",
    /// docs/graph-behaviour.md §3.3).
    pub fn expire_delta_tokens(&mut self) {
        self.delta_epoch += 1;
    }
}

/// A long Exchange-style id (docs/graph-behaviour.md §3.1), e.g. `AAMkAGI2...AAA=`.
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
