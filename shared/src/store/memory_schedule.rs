//! The scheduler's ports on the in-memory store: the same items and conditions as
//! `dynamodb_schedule`, each check-and-write done under one lock as DynamoDB does it.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::item::{GSI1_PK, GSI1_SK, Item, PK, SK, subscription_key};
use super::memory::MemoryStore;
use super::schedule_item::{
    DUE_PARTITION, REVISION, due_bound, mapped_etags_from_item, mapping_partition,
    schedule_from_item, schedule_key, schedule_to_item,
};
use crate::model::Binding;
use crate::ports::{
    BindingList, MappedEtags, RemoteEtagIndex, ScheduleStore, StoreError, SubscriptionRemove,
};
use crate::scheduler::BindingSchedule;

fn key(item: &Item) -> (String, String) {
    let text = |name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    };
    (text(PK), text(SK))
}

fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

fn stored_revision(item: Option<&Item>) -> Option<u64> {
    item.map(|i| match i.get(REVISION) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    })
}

/// Items of one gsi1 partition in gsi1sk order.
fn partition(store: &MemoryStore, gsi1pk: &str) -> Vec<Item> {
    let mut items: Vec<Item> = store.with_sync_items(|sync| {
        sync.values()
            .filter(|i| text(i, GSI1_PK) == Some(gsi1pk))
            .cloned()
            .collect()
    });
    items.sort_by(|a, b| text(a, GSI1_SK).cmp(&text(b, GSI1_SK)));
    items
}

impl BindingList for MemoryStore {
    async fn all_bindings(&self) -> Result<Vec<Binding>, StoreError> {
        self.list_bindings()
    }
}

impl SubscriptionRemove for MemoryStore {
    async fn remove_subscription(&self, subscription_id: &str) -> Result<(), StoreError> {
        let k = key(&subscription_key(subscription_id));
        self.with_sync_items(|sync| sync.remove(&k));
        Ok(())
    }
}

impl ScheduleStore for MemoryStore {
    async fn get_schedule(&self, binding_id: &str) -> Result<Option<BindingSchedule>, StoreError> {
        let k = key(&schedule_key(binding_id));
        let item = self.with_sync_items(|sync| sync.get(&k).cloned());
        item.as_ref().map(schedule_from_item).transpose()
    }

    async fn put_schedule(&self, schedule: &BindingSchedule) -> Result<u64, StoreError> {
        let next = schedule.revision.saturating_add(1);
        let item = schedule_to_item(schedule, next);
        let k = key(&item);
        self.with_sync_items(|sync| {
            let current = stored_revision(sync.get(&k));
            let expected = (schedule.revision != 0).then_some(schedule.revision);
            if current != expected {
                return Err(StoreError::ConditionFailed(format!(
                    "schedule of binding {} changed since it was read",
                    schedule.binding_id
                )));
            }
            sync.insert(k, item);
            Ok(next)
        })
    }

    async fn delete_schedule(&self, binding_id: &str, revision: u64) -> Result<(), StoreError> {
        let k = key(&schedule_key(binding_id));
        self.with_sync_items(|sync| {
            if stored_revision(sync.get(&k)) != Some(revision) {
                return Err(StoreError::ConditionFailed(format!(
                    "schedule of binding {binding_id} changed since it was read"
                )));
            }
            sync.remove(&k);
            Ok(())
        })
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<BindingSchedule>, StoreError> {
        let bound = due_bound(&now);
        partition(self, DUE_PARTITION)
            .iter()
            .filter(|i| text(i, GSI1_SK).is_some_and(|sk| sk <= bound.as_str()))
            .take(limit)
            .map(schedule_from_item)
            .collect()
    }

    async fn scheduled_binding_ids(&self) -> Result<HashSet<String>, StoreError> {
        Ok(partition(self, DUE_PARTITION)
            .iter()
            .filter_map(|i| text(i, "binding_id").map(str::to_owned))
            .collect())
    }
}

impl RemoteEtagIndex for MemoryStore {
    async fn mapped_remote_etags(
        &self,
        binding_id: &str,
    ) -> Result<HashMap<String, MappedEtags>, StoreError> {
        partition(self, &mapping_partition(binding_id))
            .iter()
            .map(mapped_etags_from_item)
            .collect()
    }
}
