//! The operator's binding writes on the in-memory store, with the conditions of the DynamoDB
//! adapter (create only when absent; flags only on an existing binding).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{MemoryStore, sync_key_of};
use crate::model::Binding;
use crate::ports::{BindingCreate, BindingFlags, BindingLeftovers, StoreError, SyncItemKey};
use crate::store::item::attrs::{ItemExt, item_of, s, timestamp};
use crate::store::item::{
    FIRST_SYNC_COMPLETED_AT, FIRST_SYNC_PENDING, HINT_WHILE_PAUSED_AT, Item, PAUSED_AT, PK, SK,
    binding_key, binding_to_item,
};

impl MemoryStore {
    /// Applies `edit` to the binding item under the lock; `false` when there is none.
    fn edit_binding(
        &self,
        binding_id: &str,
        edit: impl FnOnce(&mut Item),
    ) -> Result<bool, StoreError> {
        let key = sync_key_of(&binding_key(binding_id))?;
        Ok(self.with_sync_items(|sync| match sync.get_mut(&key) {
            Some(item) => {
                edit(item);
                true
            }
            None => false,
        }))
    }
}

impl BindingCreate for MemoryStore {
    async fn create_binding(&self, binding: &Binding) -> Result<(), StoreError> {
        let item = binding_to_item(binding);
        let key = sync_key_of(&item)?;
        self.with_sync_items(|sync| {
            if sync.contains_key(&key) {
                return Err(StoreError::ConditionFailed(format!(
                    "binding {} exists already",
                    binding.id
                )));
            }
            sync.insert(key, item);
            Ok(())
        })
    }
}

impl BindingFlags for MemoryStore {
    async fn set_binding_paused(
        &self,
        binding_id: &str,
        paused_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        self.edit_binding(binding_id, |item| {
            item.remove(HINT_WHILE_PAUSED_AT);
            match paused_at {
                Some(at) => item.insert(PAUSED_AT.to_owned(), timestamp(&at)),
                None => item.remove(PAUSED_AT),
            };
        })
    }

    async fn note_hint_while_paused(
        &self,
        binding_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.edit_binding(binding_id, |item| {
            item.insert(HINT_WHILE_PAUSED_AT.to_owned(), timestamp(&at));
        })
    }

    async fn complete_first_sync(
        &self,
        binding_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.edit_binding(binding_id, |item| {
            item.remove(FIRST_SYNC_PENDING);
            item.insert(FIRST_SYNC_COMPLETED_AT.to_owned(), timestamp(&at));
        })
    }
}

impl BindingLeftovers for MemoryStore {
    async fn items_of_binding(&self, binding_id: &str) -> Result<Vec<SyncItemKey>, StoreError> {
        let wanted = AttributeValue::S(binding_id.to_owned());
        Ok(self.with_sync_items(|sync| {
            sync.values()
                .filter(|item| item.get("binding_id") == Some(&wanted))
                .filter_map(|item| {
                    Some(SyncItemKey {
                        pk: item.text(PK)?.to_owned(),
                        sk: item.text(SK)?.to_owned(),
                    })
                })
                .collect()
        }))
    }

    async fn delete_sync_item(&self, key: &SyncItemKey) -> Result<(), StoreError> {
        self.remove_sync(&item_of([(PK, s(&key.pk)), (SK, s(&key.sk))]))
    }

    async fn delete_binding(&self, binding_id: &str) -> Result<(), StoreError> {
        self.remove_sync(&binding_key(binding_id))
    }
}
