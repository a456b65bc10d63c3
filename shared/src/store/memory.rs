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
use crate::model::{Binding, LocalTask, SubscriptionRecord};
use crate::ports::{
    BindingLookup, BindingSave, StoreError, SubscriptionLookup, SubscriptionSave, TaskRead,
    TaskWrite,
};

/// Primary key of an item: (hash, range).
type Key = (String, String);

#[derive(Default)]
struct Tables {
    tasks: BTreeMap<Key, Item>,
    sync: BTreeMap<Key, Item>,
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
        self.lock().tasks.insert(key, item);
        Ok(())
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
