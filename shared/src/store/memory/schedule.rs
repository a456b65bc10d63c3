//! The scheduler's ports on the in-memory store: the same items and conditions as on DynamoDB,
//! each check-and-write done under one lock as DynamoDB does it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{MemoryStore, sync_key_of};
use crate::ports::{MappedEtags, RemoteEtagIndex, ScheduleStore, StoreError};
use crate::scheduler::BindingSchedule;
use crate::store::item::GSI1_SK;
use crate::store::item::attrs::ItemExt;
use crate::store::item::schedule::{
    DUE_PARTITION, due_bound, mapped_etags_from_item, mapping_partition, schedule_from_item,
    schedule_key, schedule_to_item, scheduled_binding_ids, stored_revision,
};

fn changed(binding_id: &str) -> StoreError {
    StoreError::ConditionFailed(format!(
        "schedule of binding {binding_id} changed since it was read"
    ))
}

impl ScheduleStore for MemoryStore {
    async fn get_schedule(&self, binding_id: &str) -> Result<Option<BindingSchedule>, StoreError> {
        self.get_sync(&schedule_key(binding_id))?
            .as_ref()
            .map(schedule_from_item)
            .transpose()
    }

    async fn put_schedule(&self, schedule: &BindingSchedule) -> Result<u64, StoreError> {
        let next = schedule.revision.saturating_add(1);
        let item = schedule_to_item(schedule, next);
        let k = sync_key_of(&item)?;
        self.with_sync_items(|sync| {
            let expected = (schedule.revision != 0).then_some(schedule.revision);
            if stored_revision(sync.get(&k)) != expected {
                return Err(changed(&schedule.binding_id));
            }
            sync.insert(k, item);
            Ok(next)
        })
    }

    async fn delete_schedule(&self, binding_id: &str, revision: u64) -> Result<(), StoreError> {
        let k = sync_key_of(&schedule_key(binding_id))?;
        self.with_sync_items(|sync| {
            if stored_revision(sync.get(&k)) != Some(revision) {
                return Err(changed(binding_id));
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
        self.list(DUE_PARTITION)
            .iter()
            .filter(|i| i.text(GSI1_SK).is_some_and(|sk| sk <= bound.as_str()))
            .take(limit)
            .map(schedule_from_item)
            .collect()
    }

    async fn scheduled_binding_ids(&self) -> Result<HashSet<String>, StoreError> {
        Ok(scheduled_binding_ids(&self.list(DUE_PARTITION)))
    }
}

impl RemoteEtagIndex for MemoryStore {
    async fn mapped_remote_etags(
        &self,
        binding_id: &str,
    ) -> Result<HashMap<String, MappedEtags>, StoreError> {
        self.list(&mapping_partition(binding_id))
            .iter()
            .map(mapped_etags_from_item)
            .collect()
    }
}
