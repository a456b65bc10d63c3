//! The application's side of one pair as read from the tasks table: the task item, its absence,
//! or why it breaks the public contract. A broken item is a state of the pair, not a failure of
//! the read: the engine records its reason and the rest of the binding syncs on.

use crate::model::LocalTask;
use crate::ports::{InvalidTaskItem, StoreError, TaskRead};

use super::failure::SyncFailure;

// One value per pair, built once and borrowed after: boxing the task would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LocalState {
    /// No item with that key.
    Missing,
    /// The item breaks the public contract; the reason names the attribute.
    Invalid(String),
    /// The item (possibly soft-deleted).
    Present(LocalTask),
}

impl LocalState {
    /// Reads one item (strongly consistent).
    pub async fn read<T: TaskRead>(
        tasks: &T,
        list_id: &str,
        task_id: &str,
    ) -> Result<Self, SyncFailure> {
        match tasks.get_task(list_id, task_id).await {
            Ok(Some(task)) => Ok(LocalState::Present(task)),
            Ok(None) => Ok(LocalState::Missing),
            Err(StoreError::InvalidItem(reason)) => Ok(LocalState::Invalid(reason)),
            Err(e) => Err(e.into()),
        }
    }

    /// One entry of a list's listing.
    pub fn of_listed(item: Result<LocalTask, InvalidTaskItem>) -> (String, Self) {
        match item {
            Ok(task) => (task.id.clone(), LocalState::Present(task)),
            Err(bad) => (bad.task_id, LocalState::Invalid(bad.reason)),
        }
    }

    /// The item as read, soft-deleted or not.
    pub fn task(&self) -> Option<&LocalTask> {
        match self {
            LocalState::Present(t) => Some(t),
            _ => None,
        }
    }

    /// The item, unless it is soft-deleted.
    pub fn alive(&self) -> Option<&LocalTask> {
        self.task().filter(|t| !t.deleted)
    }
}
