//! `tasksync reset ID`: forgets what the sync table knows about a binding's pairs, so that the
//! next resync pairs them again from the tasks themselves. It removes the binding's mapping items
//! (both kinds: the one found by the local id and the one found by the remote id) and the sync
//! issues of its tasks, then queues a resync of the binding. It never touches a task on either
//! side, the binding itself, its subscription, its schedule or the conflict history.
//!
//! The resync pairs each remote task with its local task by the marker tasksync wrote into it
//! (docs/architecture.md principle 3), or by the remote id a remote-born task's local item
//! carries, so no task is created twice. A local change handled between the reset and that
//! resync finds no mapping and may create a second remote task; the resync then leaves that copy
//! alone (its local task maps to the other) and `tasksync cleanup-orphans` removes it.

use std::future::Future;

use serde::Serialize;

use super::sync_issues::SyncIssueList;
use crate::model::Binding;
use crate::ports::{HintSend, QueueError, StoreError, SyncRecords};
use crate::queue_message::Hint;
use crate::store::{DynamoSyncStore, MemoryStore};

/// Lists and removes a binding's mapping items, by partition key.
pub trait BindingMappingItems: Send + Sync {
    fn mapping_item_keys(
        &self,
        binding_id: &str,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    fn remove_mapping_item_key(
        &self,
        pk: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl BindingMappingItems for DynamoSyncStore {
    async fn mapping_item_keys(&self, binding_id: &str) -> Result<Vec<String>, StoreError> {
        self.mapping_item_pks(binding_id).await
    }

    async fn remove_mapping_item_key(&self, pk: &str) -> Result<(), StoreError> {
        self.remove_mapping_item(pk).await
    }
}

impl BindingMappingItems for MemoryStore {
    async fn mapping_item_keys(&self, binding_id: &str) -> Result<Vec<String>, StoreError> {
        self.mapping_item_pks(binding_id)
    }

    async fn remove_mapping_item_key(&self, pk: &str) -> Result<(), StoreError> {
        self.remove_mapping_item(pk)
    }
}

/// What a reset removed (or, on a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResetReport {
    pub binding_id: String,
    pub dry_run: bool,
    /// Mapping items found by the local id (one per pair).
    pub local_mapping_items: usize,
    /// Mapping items found by the remote id.
    pub remote_mapping_items: usize,
    pub sync_issues: usize,
    /// A `resync_binding` hint was queued.
    pub resync_queued: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("reading or writing the sync table failed: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the mappings are forgotten but the resync could not be queued ({0}); run `tasksync sync {1}`"
    )]
    Queue(QueueError, String),
}

/// Forgets `binding`'s mappings and sync issues and queues its resync; with `dry_run` only
/// counts them. `progress` is called once per item removed.
pub async fn reset_binding<S, Q>(
    store: &S,
    queue: &Q,
    binding: &Binding,
    dry_run: bool,
    progress: &(dyn Fn() + Sync),
) -> Result<ResetReport, ResetError>
where
    S: BindingMappingItems + SyncIssueList + SyncRecords,
    Q: HintSend,
{
    let keys = store.mapping_item_keys(&binding.id).await?;
    let issues: Vec<_> = store
        .all_sync_issues()
        .await?
        .into_iter()
        .filter(|i| i.binding_id == binding.id)
        .collect();
    let local = keys.iter().filter(|k| k.starts_with("local#")).count();
    let mut report = ResetReport {
        binding_id: binding.id.clone(),
        dry_run,
        local_mapping_items: local,
        remote_mapping_items: keys.len() - local,
        sync_issues: issues.len(),
        resync_queued: false,
    };
    if dry_run {
        return Ok(report);
    }
    for key in &keys {
        store.remove_mapping_item_key(key).await?;
        progress();
    }
    for issue in &issues {
        store
            .clear_sync_issue(&issue.list_id, &issue.task_id)
            .await?;
        progress();
    }
    queue
        .send_hints(&[Hint::ResyncBinding {
            binding_id: binding.id.clone(),
            reason: "reset".to_owned(),
        }])
        .await
        .map_err(|e| ResetError::Queue(e, binding.id.clone()))?;
    report.resync_queued = true;
    Ok(report)
}
