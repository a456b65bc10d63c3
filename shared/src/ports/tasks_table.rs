//! Ports that reach the tasks table: the application's own task store, which other people's
//! code writes (its item schema is a public contract).

use std::future::Future;

use super::StoreError;
use crate::model::LocalTask;

/// Reads one task of the local task store (strongly consistent).
pub trait TaskRead: Send + Sync {
    fn get_task(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<LocalTask>, StoreError>> + Send;
}

/// Writes one task of the local task store.
pub trait TaskWrite: Send + Sync {
    fn put_task(&self, task: &LocalTask) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Writes a task item only if it is still at the version the caller read (`None`: only if it
/// does not exist), so the sync never overwrites an application's concurrent write.
/// `ConditionFailed` when someone else wrote first.
pub trait TaskWriteIfVersion: Send + Sync {
    fn put_task_if_version(
        &self,
        task: &LocalTask,
        expected_version: Option<u64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One item of a listing that could not be read as a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTaskItem {
    pub list_id: String,
    pub task_id: String,
    pub reason: String,
}

/// Lists every item of one local list (for a resync). Items that break the contract come back
/// as `Err` with their reason, beside the valid ones.
pub trait TaskList: Send + Sync {
    fn list_tasks(
        &self,
        list_id: &str,
    ) -> impl Future<Output = Result<Vec<Result<LocalTask, InvalidTaskItem>>, StoreError>> + Send;
}
