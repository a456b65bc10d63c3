//! The conflict history as an operator reads it (`tasksync conflicts`): every conflict the
//! engine settled, with what each side held and who won, oldest first, optionally of one binding.

use std::future::Future;

use crate::ports::StoreError;
use crate::store::{DynamoSyncStore, MemoryStore};
use crate::sync::records::ConflictRecord;

/// Lists the conflict history.
pub trait ConflictHistory: Send + Sync {
    fn all_conflicts(&self)
    -> impl Future<Output = Result<Vec<ConflictRecord>, StoreError>> + Send;
}

impl ConflictHistory for DynamoSyncStore {
    async fn all_conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        self.list_conflicts().await
    }
}

impl ConflictHistory for MemoryStore {
    async fn all_conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        self.list_conflicts()
    }
}

/// The history, oldest first; of `binding_id` only when given.
pub async fn conflict_history(
    store: &impl ConflictHistory,
    binding_id: Option<&str>,
) -> Result<Vec<ConflictRecord>, StoreError> {
    let mut records = store.all_conflicts().await?;
    if let Some(id) = binding_id {
        records.retain(|r| r.binding_id == id);
    }
    records.sort_by(|a, b| {
        (a.at, &a.binding_id, &a.task_id, a.field).cmp(&(b.at, &b.binding_id, &b.task_id, b.field))
    });
    Ok(records)
}
