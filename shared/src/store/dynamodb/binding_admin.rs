//! The operator's binding writes on DynamoDB: a conditional create, the flags set with
//! UpdateItem (conditional on the binding existing), and the leftovers of a removed binding
//! found with a Scan filtered on `binding_id` (an operator's command, rare; paged).

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::DynamoSyncStore;
use super::sdk_error::classify;
use crate::model::Binding;
use crate::ports::{BindingCreate, BindingFlags, BindingLeftovers, StoreError, SyncItemKey};
use crate::store::item::attrs::{ItemExt, item_of, s, timestamp};
use crate::store::item::{
    FIRST_SYNC_COMPLETED_AT, FIRST_SYNC_PENDING, HINT_WHILE_PAUSED_AT, PAUSED_AT, PK, SK,
    binding_key, binding_to_item,
};

impl DynamoSyncStore {
    /// An UpdateItem of the binding, conditional on it existing.
    fn update_binding(&self, binding_id: &str) -> UpdateItemFluentBuilder {
        let table = self.sync_table();
        table
            .client()
            .update_item()
            .table_name(table.name())
            .set_key(Some(binding_key(binding_id)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
    }
}

/// `true` when the update was applied, `false` when the binding does not exist.
async fn applied(request: UpdateItemFluentBuilder) -> Result<bool, StoreError> {
    match request.send().await.map_err(classify) {
        Ok(_) => Ok(true),
        Err(StoreError::ConditionFailed(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

impl BindingCreate for DynamoSyncStore {
    async fn create_binding(&self, binding: &Binding) -> Result<(), StoreError> {
        let table = self.sync_table();
        table
            .client()
            .put_item()
            .table_name(table.name())
            .set_item(Some(binding_to_item(binding)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

impl DynamoSyncStore {
    /// Sets the timestamp attribute `name` to `at`, removing the attributes `remove`.
    async fn stamp_binding(
        &self,
        binding_id: &str,
        name: &str,
        at: DateTime<Utc>,
        remove: Option<&str>,
    ) -> Result<bool, StoreError> {
        let request = self
            .update_binding(binding_id)
            .expression_attribute_names("#t", name)
            .expression_attribute_values(":t", timestamp(&at));
        applied(match remove {
            Some(other) => request
                .update_expression("SET #t = :t REMOVE #r")
                .expression_attribute_names("#r", other),
            None => request.update_expression("SET #t = :t"),
        })
        .await
    }
}

impl BindingFlags for DynamoSyncStore {
    async fn set_binding_paused(
        &self,
        binding_id: &str,
        paused_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        match paused_at {
            Some(at) => {
                self.stamp_binding(binding_id, PAUSED_AT, at, Some(HINT_WHILE_PAUSED_AT))
                    .await
            }
            None => {
                applied(
                    self.update_binding(binding_id)
                        .update_expression("REMOVE #p, #h")
                        .expression_attribute_names("#p", PAUSED_AT)
                        .expression_attribute_names("#h", HINT_WHILE_PAUSED_AT),
                )
                .await
            }
        }
    }

    async fn note_hint_while_paused(
        &self,
        binding_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.stamp_binding(binding_id, HINT_WHILE_PAUSED_AT, at, None)
            .await
    }

    async fn complete_first_sync(
        &self,
        binding_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.stamp_binding(
            binding_id,
            FIRST_SYNC_COMPLETED_AT,
            at,
            Some(FIRST_SYNC_PENDING),
        )
        .await
    }
}

impl BindingLeftovers for DynamoSyncStore {
    async fn items_of_binding(&self, binding_id: &str) -> Result<Vec<SyncItemKey>, StoreError> {
        let table = self.sync_table();
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let page = table
                .client()
                .scan()
                .table_name(table.name())
                .filter_expression("binding_id = :b")
                .expression_attribute_values(":b", AttributeValue::S(binding_id.to_owned()))
                .projection_expression("#pk, #sk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in page.items.unwrap_or_default() {
                if let (Some(pk), Some(sk)) = (item.text(PK), item.text(SK)) {
                    keys.push(SyncItemKey {
                        pk: pk.to_owned(),
                        sk: sk.to_owned(),
                    });
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete_sync_item(&self, key: &SyncItemKey) -> Result<(), StoreError> {
        self.sync_table()
            .delete(item_of([(PK, s(&key.pk)), (SK, s(&key.sk))]))
            .await
    }

    async fn delete_binding(&self, binding_id: &str) -> Result<(), StoreError> {
        self.sync_table().delete(binding_key(binding_id)).await
    }
}
