//! The task items that are not synced, and why (recorded by the worker as sync issues:
//! docs/sync-engine.md, "The task item").

use std::future::Future;

use crate::ports::StoreError;
use crate::store::{DynamoSyncStore, MemoryStore};
use crate::sync::SyncIssue;

/// Lists every recorded sync issue.
pub trait SyncIssueList: Send + Sync {
    fn all_sync_issues(&self) -> impl Future<Output = Result<Vec<SyncIssue>, StoreError>> + Send;
}

impl SyncIssueList for DynamoSyncStore {
    async fn all_sync_issues(&self) -> Result<Vec<SyncIssue>, StoreError> {
        self.list_sync_issues().await
    }
}

impl SyncIssueList for MemoryStore {
    async fn all_sync_issues(&self) -> Result<Vec<SyncIssue>, StoreError> {
        self.list_sync_issues()
    }
}

/// Every task item not synced, by list and task id (an operator fixes them list by list).
pub async fn sync_issues(store: &impl SyncIssueList) -> Result<Vec<SyncIssue>, StoreError> {
    let mut issues = store.all_sync_issues().await?;
    issues.sort_by(|a, b| (&a.list_id, &a.task_id).cmp(&(&b.list_id, &b.task_id)));
    Ok(issues)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SyncRecords;

    #[tokio::test]
    async fn lists_recorded_issues_by_list_and_task_and_forgets_cleared_ones() {
        let store = MemoryStore::new();
        for (list, task) in [("team", "b"), ("ops", "z"), ("team", "a")] {
            store
                .record_sync_issue(&SyncIssue {
                    list_id: list.into(),
                    task_id: task.into(),
                    binding_id: format!("binding-{list}"),
                    reason: format!("{task} has no title"),
                    at: chrono::Utc::now(),
                })
                .await
                .unwrap();
        }
        store.clear_sync_issue("team", "b").await.unwrap();
        let issues = sync_issues(&store).await.unwrap();
        let keys: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.list_id.as_str(), i.task_id.as_str()))
            .collect();
        assert_eq!(keys, [("ops", "z"), ("team", "a")]);
        assert_eq!(issues[1].reason, "a has no title");
    }
}
