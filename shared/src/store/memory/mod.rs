//! An in-memory store implementing every store port, for unit tests and the embedded local run.
//!
//! It keeps the same DynamoDB items as the real adapters and converts them with the same code,
//! so what one accepts or rejects the other does too (the adapter contract suite checks it).
//! Every check-and-write happens under one lock, as a DynamoDB conditional write does it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::ports::StoreError;
use crate::store::item::attrs::ItemExt;
use crate::store::item::{GSI1_PK, GSI1_SK, Item, PK, SK, TASK_ID, TASK_LIST_ID};

mod binding_admin;
mod change_feed;
mod conflict;
mod mapping;
mod records;
mod recovery;
mod schedule;
mod sync;
mod tasks;

pub use change_feed::{TaskChange, TaskChangeKind};

/// Primary key of an item: (hash, range).
type Key = (String, String);

#[derive(Default)]
struct Tables {
    tasks: BTreeMap<Key, Item>,
    sync: BTreeMap<Key, Item>,
    task_changes: Vec<TaskChange>,
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
        let key = task_key_of(&item)?;
        self.lock().write_task(key, item);
        Ok(())
    }

    /// Stores a sync-table item as is (it may break the schema).
    pub fn put_raw_sync_item(&self, item: Item) -> Result<(), StoreError> {
        let key = sync_key_of(&item)?;
        self.lock().sync.insert(key, item);
        Ok(())
    }

    /// Every task item, valid or not, in key order.
    pub fn raw_task_items(&self) -> Vec<Item> {
        self.lock().tasks.values().cloned().collect()
    }

    /// Runs `f` on the sync table's items under the store's lock, so a read-check-write is atomic
    /// like a DynamoDB conditional write.
    fn with_sync_items<R>(&self, f: impl FnOnce(&mut BTreeMap<(String, String), Item>) -> R) -> R {
        f(&mut self.lock().sync)
    }

    fn get_sync(&self, key: &Item) -> Result<Option<Item>, StoreError> {
        let key = sync_key_of(key)?;
        Ok(self.lock().sync.get(&key).cloned())
    }

    fn remove_sync(&self, key: &Item) -> Result<(), StoreError> {
        let key = sync_key_of(key)?;
        self.lock().sync.remove(&key);
        Ok(())
    }

    /// Every item of one gsi1 partition in gsi1sk order, as a Query of the index returns them
    /// (like a GSI, only items with both index keys are in it).
    fn list(&self, partition: &str) -> Vec<Item> {
        let tables = self.lock();
        let mut items: Vec<(String, Item)> = tables
            .sync
            .values()
            .filter(|item| item.text(GSI1_PK) == Some(partition))
            .filter_map(|item| Some((item.text(GSI1_SK)?.to_owned(), item.clone())))
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items.into_iter().map(|(_, item)| item).collect()
    }
}

fn key_of(item: &Item, hash: &str, range: &str) -> Result<Key, StoreError> {
    match (item.text(hash), item.text(range)) {
        (Some(h), Some(r)) if !h.is_empty() && !r.is_empty() => Ok((h.to_owned(), r.to_owned())),
        _ => Err(StoreError::Config(
            format!("item needs non-empty string key attributes {hash} and {range}").into(),
        )),
    }
}

fn task_key_of(item: &Item) -> Result<Key, StoreError> {
    key_of(item, TASK_LIST_ID, TASK_ID)
}

fn sync_key_of(item: &Item) -> Result<Key, StoreError> {
    key_of(item, PK, SK)
}
