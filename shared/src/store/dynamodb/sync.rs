//! Bindings and subscriptions in the sync table on DynamoDB (single-table layout, see
//! docs/aws-resources.md).

use aws_sdk_dynamodb::Client;

use super::table::Table;
use crate::model::{Binding, SubscriptionRecord};
use crate::ports::{
    BindingList, BindingLookup, BindingSave, BindingsOfList, StoreError, SubscriptionLookup,
    SubscriptionRemove, SubscriptionSave,
};
use crate::store::item::{
    BINDING_TYPE, Item, SUBSCRIPTION_TYPE, binding_from_item, binding_key, binding_to_item,
    subscription_from_item, subscription_key, subscription_to_item,
};

/// Reads and writes the items tasksync keeps about itself (`SYNC_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoSyncStore {
    table: Table,
}

impl DynamoSyncStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    pub fn table(&self) -> &str {
        self.table.name()
    }

    /// The table, for the other sync-table item types' adapters (mapping, records, schedule).
    pub(super) fn sync_table(&self) -> &Table {
        &self.table
    }

    /// Every binding, through gsi1 (eventually consistent, like any GSI read).
    pub async fn list_bindings(&self) -> Result<Vec<Binding>, StoreError> {
        self.list(BINDING_TYPE)
            .await?
            .iter()
            .map(binding_from_item)
            .collect()
    }

    /// Every subscription, through gsi1 (eventually consistent, like any GSI read).
    pub async fn list_subscriptions(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        self.list(SUBSCRIPTION_TYPE)
            .await?
            .iter()
            .map(subscription_from_item)
            .collect()
    }

    /// Every item of one gsi1 partition (an item type, or a binding's mapping index), in gsi1sk
    /// order.
    pub(super) async fn list(&self, partition: &str) -> Result<Vec<Item>, StoreError> {
        self.table.query_gsi1(partition, None, None).await
    }
}

impl BindingLookup for DynamoSyncStore {
    async fn find_binding(&self, binding_id: &str) -> Result<Option<Binding>, StoreError> {
        self.table
            .get(binding_key(binding_id))
            .await?
            .as_ref()
            .map(binding_from_item)
            .transpose()
    }
}

impl BindingSave for DynamoSyncStore {
    async fn save_binding(&self, binding: &Binding) -> Result<(), StoreError> {
        self.table.put(binding_to_item(binding)).await
    }
}

impl BindingList for DynamoSyncStore {
    async fn all_bindings(&self) -> Result<Vec<Binding>, StoreError> {
        self.list_bindings().await
    }
}

impl BindingsOfList for DynamoSyncStore {
    async fn bindings_of_list(&self, local_list_id: &str) -> Result<Vec<Binding>, StoreError> {
        Ok(self
            .list_bindings()
            .await?
            .into_iter()
            .filter(|b| b.local_list_id == local_list_id)
            .collect())
    }
}

impl SubscriptionLookup for DynamoSyncStore {
    async fn find_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        self.table
            .get(subscription_key(subscription_id))
            .await?
            .as_ref()
            .map(subscription_from_item)
            .transpose()
    }
}

impl SubscriptionSave for DynamoSyncStore {
    async fn save_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        self.table.put(subscription_to_item(record)).await
    }
}

impl SubscriptionRemove for DynamoSyncStore {
    async fn remove_subscription(&self, subscription_id: &str) -> Result<(), StoreError> {
        self.table.delete(subscription_key(subscription_id)).await
    }
}
