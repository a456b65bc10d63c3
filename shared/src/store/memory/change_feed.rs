//! The in-memory tasks table's change feed: what the tasks table's `KEYS_ONLY` stream carries in
//! AWS, so the local run and the tests can forward task writes as the pipe would.

use super::{Key, MemoryStore, Tables};
use crate::store::item::Item;

/// What kind of write a [`TaskChange`] announces (the stream record's `eventName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskChangeKind {
    Insert,
    Modify,
}

impl TaskChangeKind {
    /// The DynamoDB Streams `eventName`.
    pub fn event_name(self) -> &'static str {
        match self {
            TaskChangeKind::Insert => "INSERT",
            TaskChangeKind::Modify => "MODIFY",
        }
    }
}

/// One write of a task item, announced by its keys only, like a record of the tasks table's
/// `KEYS_ONLY` stream: the local run and the tests forward it as the pipe would, so the sync's
/// own writes come back as echoes exactly as they do in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskChange {
    /// Increasing from 1 in write order (the stream's sequence number).
    pub sequence: u64,
    pub kind: TaskChangeKind,
    pub list_id: String,
    pub task_id: String,
}

impl Tables {
    /// Every task write goes through here, so the change feed announces each one, under the
    /// same lock, in write order.
    pub(super) fn write_task(&mut self, key: Key, item: Item) {
        let kind = if self.tasks.contains_key(&key) {
            TaskChangeKind::Modify
        } else {
            TaskChangeKind::Insert
        };
        let sequence = self.task_changes.last().map_or(1, |c| c.sequence + 1);
        self.task_changes.push(TaskChange {
            sequence,
            kind,
            list_id: key.0.clone(),
            task_id: key.1.clone(),
        });
        self.tasks.insert(key, item);
    }
}

impl MemoryStore {
    /// The task writes announced after `sequence` (0: all of them), in write order. Like a
    /// stream, the feed keeps every change (each is two short strings); a reader keeps its own
    /// checkpoint.
    pub fn task_changes_after(&self, sequence: u64) -> Vec<TaskChange> {
        let tables = self.lock();
        // Sequence n sits at index n - 1.
        let start = usize::try_from(sequence)
            .unwrap_or(usize::MAX)
            .min(tables.task_changes.len());
        tables
            .task_changes
            .get(start..)
            .unwrap_or_default()
            .to_vec()
    }

    /// The sequence of the latest announced task write (0 before any): where a reader that
    /// starts at `LATEST`, as the template's pipe does, begins.
    pub fn latest_task_change(&self) -> u64 {
        self.lock().task_changes.last().map_or(0, |c| c.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LocalTask, Origin};
    use crate::ports::{SyncRecords, TaskWrite, TaskWriteIfVersion};

    fn task(id: &str, version: u64) -> LocalTask {
        LocalTask {
            version,
            ..LocalTask::new(
                "team",
                id,
                "Call the supplier",
                Origin::App("agent".to_owned()),
            )
        }
    }

    #[tokio::test]
    async fn every_task_write_is_announced_by_its_keys_in_order() {
        let store = MemoryStore::new();
        assert_eq!(store.latest_task_change(), 0);
        store.put_task(&task("a", 1)).await.unwrap();
        store
            .put_task_if_version(&task("b", 1), None)
            .await
            .unwrap();
        store
            .put_task_if_version(&task("a", 2), Some(1))
            .await
            .unwrap();
        // A refused conditional write changes nothing, so it announces nothing.
        assert!(
            store
                .put_task_if_version(&task("a", 3), Some(1))
                .await
                .is_err()
        );
        // Sync-table writes are not task writes.
        store
            .record_sync_issue(&crate::sync::SyncIssue {
                list_id: "team".into(),
                task_id: "a".into(),
                binding_id: "b".into(),
                reason: "r".into(),
                at: chrono::Utc::now(),
            })
            .await
            .unwrap();

        let changes = store.task_changes_after(0);
        let seen: Vec<(u64, TaskChangeKind, &str)> = changes
            .iter()
            .map(|c| (c.sequence, c.kind, c.task_id.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, TaskChangeKind::Insert, "a"),
                (2, TaskChangeKind::Insert, "b"),
                (3, TaskChangeKind::Modify, "a"),
            ]
        );
        assert!(changes.iter().all(|c| c.list_id == "team"));
        assert_eq!(store.latest_task_change(), 3);
        assert_eq!(store.task_changes_after(2).len(), 1);
        assert!(store.task_changes_after(3).is_empty());
        assert!(store.task_changes_after(u64::MAX).is_empty());
    }
}
