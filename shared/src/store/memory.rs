//! An in-memory store implementing every store port, for unit tests and the embedded local run.
//!
//! It keeps the same DynamoDB items as the real adapters and converts them with the same code,
//! so what one accepts or rejects the other does too (the adapter contract suite checks it).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{
    BINDING_TYPE, GSI1_PK, GSI1_SK, Item, PK, SK, SUBSCRIPTION_TYPE, TASK_ID, TASK_LIST_ID,
    binding_from_item, binding_key, binding_to_item, subscription_from_item, subscription_key,
    subscription_to_item, task_from_item, task_key, task_to_item,
};
use super::item::{
    BREAKER, DLQ_TYPE, ISSUE_TYPE, breaker_to_attribute, dead_letter_from_item,
    dead_letter_to_item, issue_from_item, issue_key, issue_to_item, mapping_attributes,
    mapping_from_item, mapping_local_key, mapping_remote_item, mapping_remote_key,
    readable_records,
};
use crate::model::{Binding, CircuitBreaker, LocalTask, RemoteKind, SubscriptionRecord};
use crate::ports::{
    BindingLookup, BindingSave, BindingsOfList, InvalidTaskItem, MappingStore, StoreError,
    SubscriptionLookup, SubscriptionSave, SyncRecords, TaskList, TaskRead, TaskWrite,
    TaskWriteIfVersion,
};
use crate::sync::{DeadLetterReason, Mapping, SyncIssue};

/// Primary key of an item: (hash, range).
type Key = (String, String);

#[derive(Default)]
struct Tables {
    tasks: BTreeMap<Key, Item>,
    sync: BTreeMap<Key, Item>,
    task_changes: Vec<TaskChange>,
}

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

/// Both tables in memory. Clones share the same data.
#[derive(Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = self.lock();
        f.debug_struct("MemoryStore")
            .field("tasks", &tables.tasks.len())
            .field("sync", &tables.sync.len())
            .finish()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a half-written item (each operation is a
        // single map insert), so a poisoned lock is safe to keep using.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a tasks-table item as is, like a foreign writer would (it may break the schema).
    /// Fails like DynamoDB when the key attributes are missing or not strings.
    pub fn put_raw_task_item(&self, item: Item) -> Result<(), StoreError> {
        let key = key_of(&item, TASK_LIST_ID, TASK_ID)?;
        self.lock().write_task(key, item);
        Ok(())
    }

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

    /// Stores a sync-table item as is (it may break the schema).
    pub fn put_raw_sync_item(&self, item: Item) -> Result<(), StoreError> {
        let key = key_of(&item, PK, SK)?;
        self.lock().sync.insert(key, item);
        Ok(())
    }

    /// Every task item, valid or not, in key order.
    pub fn raw_task_items(&self) -> Vec<Item> {
        self.lock().tasks.values().cloned().collect()
    }

    /// Every binding, in id order (what a gsi1 query returns).
    pub fn list_bindings(&self) -> Result<Vec<Binding>, StoreError> {
        self.list(BINDING_TYPE)
            .iter()
            .map(binding_from_item)
            .collect()
    }

    /// Every subscription, in id order (what a gsi1 query returns).
    pub fn list_subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        self.list(SUBSCRIPTION_TYPE)
            .iter()
            .map(subscription_from_item)
            .collect()
    }

    fn list(&self, item_type: &str) -> Vec<Item> {
        let tables = self.lock();
        let mut items: Vec<(String, Item)> = tables
            .sync
            .values()
            .filter(|item| string(item, GSI1_PK) == Some(item_type))
            .filter_map(|item| Some((string(item, GSI1_SK)?.to_owned(), item.clone())))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.into_iter().map(|(_, item)| item).collect()
    }

    /// Runs `f` on the sync table's items under the store's lock, so a read-check-write is atomic
    /// like a DynamoDB conditional write (the scheduler's store code uses it).
    pub(crate) fn with_sync_items<R>(
        &self,
        f: impl FnOnce(&mut BTreeMap<(String, String), Item>) -> R,
    ) -> R {
        f(&mut self.lock().sync)
    }

    fn get_sync(&self, key: &Item) -> Result<Option<Item>, StoreError> {
        let key = key_of(key, PK, SK)?;
        Ok(self.lock().sync.get(&key).cloned())
    }
}

impl Tables {
    /// Every task write goes through here, so the change feed announces each one, under the
    /// same lock, in write order.
    fn write_task(&mut self, key: Key, item: Item) {
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

fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

fn key_of(
    item: &HashMap<String, AttributeValue>,
    hash: &str,
    range: &str,
) -> Result<Key, StoreError> {
    match (string(item, hash), string(item, range)) {
        (Some(h), Some(r)) if !h.is_empty() && !r.is_empty() => Ok((h.to_owned(), r.to_owned())),
        _ => Err(StoreError::Config(
            format!("item needs non-empty string key attributes {hash} and {range}").into(),
        )),
    }
}

impl TaskRead for MemoryStore {
    async fn get_task(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<LocalTask>, StoreError> {
        let key = key_of(&task_key(list_id, task_id), TASK_LIST_ID, TASK_ID)?;
        let item = self.lock().tasks.get(&key).cloned();
        item.as_ref().map(task_from_item).transpose()
    }
}

impl TaskWrite for MemoryStore {
    async fn put_task(&self, task: &LocalTask) -> Result<(), StoreError> {
        self.put_raw_task_item(task_to_item(task))
    }
}

impl BindingLookup for MemoryStore {
    async fn find_binding(&self, binding_id: &str) -> Result<Option<Binding>, StoreError> {
        self.get_sync(&binding_key(binding_id))?
            .as_ref()
            .map(binding_from_item)
            .transpose()
    }
}

impl BindingSave for MemoryStore {
    async fn save_binding(&self, binding: &Binding) -> Result<(), StoreError> {
        self.put_raw_sync_item(binding_to_item(binding))
    }
}

impl SubscriptionLookup for MemoryStore {
    async fn find_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        self.get_sync(&subscription_key(subscription_id))?
            .as_ref()
            .map(subscription_from_item)
            .transpose()
    }
}

impl SubscriptionSave for MemoryStore {
    async fn save_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        self.put_raw_sync_item(subscription_to_item(record))
    }
}

// ---- The sync engine's ports (issue 4), with DynamoDB's condition semantics ----

fn revision_of(item: Option<&Item>) -> Option<u64> {
    match item?.get("revision") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn version_of(item: Option<&Item>) -> Option<u64> {
    match item?.get("version") {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

impl MemoryStore {
    /// Every sync issue (what a gsi1 query for `issue` returns).
    pub fn list_sync_issues(&self) -> Result<Vec<SyncIssue>, StoreError> {
        Ok(readable_records(self.list(ISSUE_TYPE), issue_from_item))
    }

    /// Every recorded dead-letter reason.
    pub fn list_dead_letter_reasons(&self) -> Result<Vec<DeadLetterReason>, StoreError> {
        Ok(readable_records(self.list(DLQ_TYPE), dead_letter_from_item))
    }
}

impl TaskWriteIfVersion for MemoryStore {
    async fn put_task_if_version(
        &self,
        task: &LocalTask,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let item = task_to_item(task);
        let key = key_of(&item, TASK_LIST_ID, TASK_ID)?;
        let mut tables = self.lock();
        let current = tables.tasks.get(&key);
        let ok = match expected_version {
            None => current.is_none(),
            Some(v) => current.is_some() && version_of(current) == Some(v),
        };
        if !ok {
            return Err(StoreError::ConditionFailed(
                "the task item changed since it was read".to_owned(),
            ));
        }
        tables.write_task(key, item);
        Ok(())
    }
}

impl TaskList for MemoryStore {
    async fn list_tasks(
        &self,
        list_id: &str,
    ) -> Result<Vec<Result<LocalTask, InvalidTaskItem>>, StoreError> {
        let tables = self.lock();
        Ok(tables
            .tasks
            .iter()
            .filter(|((list, _), _)| list == list_id)
            .map(|((list, id), item)| {
                task_from_item(item).map_err(|e| InvalidTaskItem {
                    list_id: list.clone(),
                    task_id: id.clone(),
                    reason: e.to_string(),
                })
            })
            .collect())
    }
}

impl BindingsOfList for MemoryStore {
    async fn bindings_of_list(&self, local_list_id: &str) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .list_bindings()?
            .into_iter()
            .filter(|b| b.local_list_id == local_list_id)
            .collect())
    }
}

impl MappingStore for MemoryStore {
    async fn mapping_by_local(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<Mapping>, StoreError> {
        self.get_sync(&mapping_local_key(list_id, task_id))?
            .as_ref()
            .map(mapping_from_item)
            .transpose()
    }

    async fn mapping_by_remote(
        &self,
        kind: RemoteKind,
        remote_id: &str,
    ) -> Result<Option<Mapping>, StoreError> {
        self.get_sync(&mapping_remote_key(kind, remote_id))?
            .as_ref()
            .map(mapping_from_item)
            .transpose()
    }

    async fn save_mapping(
        &self,
        mapping: &Mapping,
        expected_revision: Option<u64>,
        replaced_remote_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let revision = expected_revision.map_or(1, |r| r + 1);
        let mut written = mapping.clone();
        written.revision = revision;
        let attributes = mapping_attributes(&written);
        let local_key = key_of(
            &mapping_local_key(&mapping.local_list_id, &mapping.local_id),
            PK,
            SK,
        )?;
        let remote_key = match &mapping.remote_id {
            Some(id) => Some(key_of(
                &mapping_remote_key(mapping.remote_kind, id),
                PK,
                SK,
            )?),
            None => None,
        };
        let replaced_key = match replaced_remote_id {
            Some(id) if Some(id) != mapping.remote_id.as_deref() => Some(key_of(
                &mapping_remote_key(mapping.remote_kind, id),
                PK,
                SK,
            )?),
            _ => None,
        };
        let mut tables = self.lock();
        let local_ok = revision_of(tables.sync.get(&local_key)) == expected_revision;
        // As on DynamoDB: the by-remote item belongs to one pair (the same local task, at the
        // revision it read), or is absent.
        let same_pair = |item: &Item| {
            let text = |name: &str| match item.get(name) {
                Some(AttributeValue::S(v)) => Some(v.as_str()),
                _ => None,
            };
            text("local_list_id") == Some(mapping.local_list_id.as_str())
                && text("local_id") == Some(mapping.local_id.as_str())
        };
        let remote_ok = remote_key.as_ref().is_none_or(|k| {
            let current = tables.sync.get(k);
            current.is_none()
                || (expected_revision.is_some()
                    && revision_of(current) == expected_revision
                    && current.is_some_and(same_pair))
        });
        if !local_ok || !remote_ok {
            return Err(StoreError::ConditionFailed(
                "the mapping changed since it was read".to_owned(),
            ));
        }
        let with_key = |key: &Key| {
            let mut item = attributes.clone();
            item.insert(PK.to_owned(), AttributeValue::S(key.0.clone()));
            item.insert(SK.to_owned(), AttributeValue::S(key.1.clone()));
            item
        };
        tables.sync.insert(local_key.clone(), with_key(&local_key));
        if let (Some(k), Some(id)) = (remote_key, &mapping.remote_id) {
            tables
                .sync
                .insert(k, mapping_remote_item(&written, &attributes, id));
        }
        if let Some(k) = replaced_key {
            tables.sync.remove(&k);
        }
        Ok(revision)
    }
}

impl SyncRecords for MemoryStore {
    async fn record_sync_issue(&self, issue: &SyncIssue) -> Result<(), StoreError> {
        self.put_raw_sync_item(issue_to_item(issue))
    }

    async fn clear_sync_issue(&self, list_id: &str, task_id: &str) -> Result<(), StoreError> {
        let key = key_of(&issue_key(list_id, task_id), PK, SK)?;
        self.lock().sync.remove(&key);
        Ok(())
    }

    async fn record_dead_letter(&self, record: &DeadLetterReason) -> Result<(), StoreError> {
        self.put_raw_sync_item(dead_letter_to_item(record))
    }

    async fn set_binding_breaker(
        &self,
        binding_id: &str,
        breaker: Option<&CircuitBreaker>,
    ) -> Result<(), StoreError> {
        let key = key_of(&binding_key(binding_id), PK, SK)?;
        let mut tables = self.lock();
        if let Some(item) = tables.sync.get_mut(&key) {
            match breaker {
                Some(b) => {
                    item.insert(BREAKER.to_owned(), breaker_to_attribute(b));
                }
                None => {
                    item.remove(BREAKER);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod change_feed_tests {
    use super::*;
    use crate::model::Origin;

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
