//! What the operator's recovery commands remove from the in-memory sync table: a binding's
//! mapping items and the recorded reason of a redriven message (as on DynamoDB).

use super::MemoryStore;
use crate::ports::StoreError;
use crate::store::item::attrs::{ItemExt, item_of, s};
use crate::store::item::{MAPPING_SK, PK, SK, dead_letter_key};

impl MemoryStore {
    /// The partition keys of every mapping item of `binding_id`, both kinds.
    pub fn mapping_item_pks(&self, binding_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.with_sync_items(|sync| {
            sync.iter()
                .filter(|((_, sk), item)| {
                    sk == MAPPING_SK && item.text("binding_id") == Some(binding_id)
                })
                .map(|((pk, _), _)| pk.clone())
                .collect()
        }))
    }

    pub fn remove_mapping_item(&self, pk: &str) -> Result<(), StoreError> {
        self.remove_sync(&item_of([(PK, s(pk)), (SK, s(MAPPING_SK))]))
    }

    pub fn remove_dead_letter_reason(&self, message_id: &str) -> Result<(), StoreError> {
        self.remove_sync(&dead_letter_key(message_id))
    }
}
