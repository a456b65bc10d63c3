//! Bindings and subscriptions in the sync table on DynamoDB (single-table layout, see
//! docs/aws-resources.md).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{
    BINDING_TYPE, GSI1, GSI1_PK, Item, SUBSCRIPTION_TYPE, binding_from_item, binding_key,
    binding_to_item, subscription_from_item, subscription_key, subscription_to_item,
};
use super::sdk_error::classify;
use crate::model::{Binding, SubscriptionRecord};
use crate::ports::{BindingLookup, BindingSave, StoreError, SubscriptionLookup, SubscriptionSave};

/// Reads and writes the items tasksync keeps about itself (`SYNC_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoSyncStore {
    client: Client,
    table: String,
}

impl DynamoSyncStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The SDK client, for the other sync-table item types' adapters (`dynamodb_schedule`).
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        // Consistent reads: a subscription saved a moment ago must already verify notifications.
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
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

    pub(crate) async fn list(&self, item_type: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", GSI1_PK)
                .expression_attribute_values(":pk", AttributeValue::S(item_type.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    pub(crate) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

impl BindingLookup for DynamoSyncStore {
    async fn find_binding(&self, binding_id: &str) -> Result<Option<Binding>, StoreError> {
        self.get(binding_key(binding_id))
            .await?
            .as_ref()
            .map(binding_from_item)
            .transpose()
    }
}

impl BindingSave for DynamoSyncStore {
    async fn save_binding(&self, binding: &Binding) -> Result<(), StoreError> {
        self.put(binding_to_item(binding)).await
    }
}

impl SubscriptionLookup for DynamoSyncStore {
    async fn find_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        self.get(subscription_key(subscription_id))
            .await?
            .as_ref()
            .map(subscription_from_item)
            .transpose()
    }
}

impl SubscriptionSave for DynamoSyncStore {
    async fn save_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        self.put(subscription_to_item(record)).await
    }
}
