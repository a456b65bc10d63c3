//! The mapping items on the in-memory store, with the conditions of the DynamoDB transaction.

use super::{MemoryStore, sync_key_of};
use crate::model::RemoteKind;
use crate::ports::{MappingStore, StoreError};
use crate::store::item::attrs::ItemExt;
use crate::store::item::{
    Item, MappingWrite, mapping_from_item, mapping_local_key, mapping_remote_key,
};
use crate::sync::Mapping;

fn revision_of(item: Option<&Item>) -> Option<u64> {
    item?.whole_number("revision")
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
        let write = MappingWrite::new(mapping, expected_revision, replaced_remote_id);
        let local_key = sync_key_of(&write.local)?;
        let remote = match write.remote {
            Some(item) => Some((sync_key_of(&item)?, item)),
            None => None,
        };
        let replaced_key = write.replaced.as_ref().map(sync_key_of).transpose()?;
        let mut tables = self.lock();
        let local_ok = revision_of(tables.sync.get(&local_key)) == expected_revision;
        // As on DynamoDB: the by-remote item belongs to one pair (the same local task, at the
        // revision it read), or is absent.
        let same_pair = |item: &Item| {
            item.text("local_list_id") == Some(mapping.local_list_id.as_str())
                && item.text("local_id") == Some(mapping.local_id.as_str())
        };
        let remote_ok = remote.as_ref().is_none_or(|(k, _)| {
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
        tables.sync.insert(local_key, write.local);
        if let Some((k, item)) = remote {
            tables.sync.insert(k, item);
        }
        if let Some(k) = replaced_key {
            tables.sync.remove(&k);
        }
        Ok(write.revision)
    }
}
