//! What the operator's recovery commands remove from the sync table on DynamoDB: a binding's
//! mapping items (`tasksync reset`) and the recorded reason of a redriven message.

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoSyncStore;
use crate::ports::StoreError;
use crate::store::item::attrs::ItemExt;
use crate::store::item::attrs::{item_of, s};
use crate::store::item::{MAPPING_SK, PK, SK, dead_letter_key};

impl DynamoSyncStore {
    /// The partition keys of every mapping item of `binding_id`, both kinds (by-local and
    /// by-remote). A Scan: the by-local items have no index of the binding, and a reset is a
    /// rare, deliberate act.
    pub async fn mapping_item_pks(&self, binding_id: &str) -> Result<Vec<String>, StoreError> {
        let table = self.sync_table();
        let mut pks = Vec::new();
        let mut start = None;
        loop {
            let page = table
                .client()
                .scan()
                .table_name(table.name())
                .consistent_read(true)
                .filter_expression("#sk = :mapping AND binding_id = :binding")
                .projection_expression("#pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":mapping", AttributeValue::S(MAPPING_SK.to_owned()))
                .expression_attribute_values(":binding", AttributeValue::S(binding_id.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(super::sdk_error::classify)?;
            pks.extend(
                page.items()
                    .iter()
                    .filter_map(|item| item.text(PK).map(str::to_owned)),
            );
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(pks),
            }
        }
    }

    /// Deletes one mapping item by its partition key; an absent one is fine.
    pub async fn remove_mapping_item(&self, pk: &str) -> Result<(), StoreError> {
        self.sync_table()
            .delete(item_of([(PK, s(pk)), (SK, s(MAPPING_SK))]))
            .await
    }

    /// Forgets the recorded failure reason of a message; an absent one is fine.
    pub async fn remove_dead_letter_reason(&self, message_id: &str) -> Result<(), StoreError> {
        self.sync_table().delete(dead_letter_key(message_id)).await
    }
}
