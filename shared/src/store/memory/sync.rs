//! Bindings and subscriptions on the in-memory store.

use super::MemoryStore;
use crate::model::{Binding, SubscriptionRecord};
use crate::ports::{
    BindingList, BindingLookup, BindingSave, BindingsOfList, StoreError, SubscriptionLookup,
    SubscriptionRemove, SubscriptionSave,
};
use crate::store::item::{
    BINDING_TYPE, SUBSCRIPTION_TYPE, binding_from_item, binding_key, binding_to_item,
    subscription_from_item, subscription_key, subscription_to_item,
};

impl MemoryStore {
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

impl BindingList for MemoryStore {
    async fn all_bindings(&self) -> Result<Vec<Binding>, StoreError> {
        self.list_bindings()
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

impl SubscriptionRemove for MemoryStore {
    async fn remove_subscription(&self, subscription_id: &str) -> Result<(), StoreError> {
        self.remove_sync(&subscription_key(subscription_id))
    }
}
