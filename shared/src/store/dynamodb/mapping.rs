//! The mapping items on DynamoDB: two per pair, written in one `TransactWriteItems`, each
//! conditional on the revision read (docs/aws-resources.md, docs/sync-engine.md).

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::DynamoSyncStore;
use super::sdk_error::classify;
use crate::model::RemoteKind;
use crate::ports::{MappingStore, StoreError};
use crate::store::item::{
    Item, MappingWrite, mapping_from_item, mapping_local_key, mapping_remote_key,
};
use crate::sync::Mapping;

/// The local-keyed item's condition: absent when no revision was read, else at that revision.
fn revision_condition(expected: Option<u64>) -> (String, Option<AttributeValue>) {
    match expected {
        None => ("attribute_not_exists(pk)".to_owned(), None),
        Some(r) => (
            "revision = :read".to_owned(),
            Some(AttributeValue::N(r.to_string())),
        ),
    }
}

fn put_with_condition(
    table: &str,
    item: Item,
    expected: Option<u64>,
) -> Result<TransactWriteItem, StoreError> {
    let (condition, value) = revision_condition(expected);
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition)
        .set_expression_attribute_values(value.map(|v| [(":read".to_owned(), v)].into()))
        .build()
        .map_err(|e| StoreError::Config(Box::new(e)))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The by-remote item belongs to one pair: it is written when absent, or by the same local task
/// at the revision it read. Revisions alone would let a second local task that happens to be at
/// the same revision take over a remote task the first one recorded (two creates racing for one
/// orphan, docs/sync-engine.md "Crash points and races").
fn remote_item_put(
    table: &str,
    item: Item,
    mapping: &Mapping,
    expected: Option<u64>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = match expected {
        None => put.condition_expression("attribute_not_exists(pk)"),
        Some(read) => put
            .condition_expression(
                "attribute_not_exists(pk) OR \
                 (revision = :read AND local_list_id = :list AND local_id = :local)",
            )
            .expression_attribute_values(":read", AttributeValue::N(read.to_string()))
            .expression_attribute_values(":list", AttributeValue::S(mapping.local_list_id.clone()))
            .expression_attribute_values(":local", AttributeValue::S(mapping.local_id.clone())),
    };
    let put = put.build().map_err(|e| StoreError::Config(Box::new(e)))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl MappingStore for DynamoSyncStore {
    async fn mapping_by_local(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<Mapping>, StoreError> {
        self.sync_table()
            .get(mapping_local_key(list_id, task_id))
            .await?
            .as_ref()
            .map(mapping_from_item)
            .transpose()
    }

    async fn mapping_by_remote(
        &self,
        kind: RemoteKind,
        remote_id: &str,
    ) -> Result<Option<Mapping>, StoreError> {
        self.sync_table()
            .get(mapping_remote_key(kind, remote_id))
            .await?
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
        let table = self.sync_table();
        let Some(remote_item) = write.remote else {
            // A claim before the create: one item, one conditional put.
            let (condition, value) = revision_condition(expected_revision);
            table
                .client()
                .put_item()
                .table_name(table.name())
                .set_item(Some(write.local))
                .condition_expression(condition)
                .set_expression_attribute_values(value.map(|v| [(":read".to_owned(), v)].into()))
                .send()
                .await
                .map_err(classify)?;
            return Ok(write.revision);
        };
        let mut items = vec![
            put_with_condition(table.name(), write.local, expected_revision)?,
            remote_item_put(table.name(), remote_item, mapping, expected_revision)?,
        ];
        if let Some(replaced) = write.replaced {
            let delete = Delete::builder()
                .table_name(table.name())
                .set_key(Some(replaced))
                .build()
                .map_err(|e| StoreError::Config(Box::new(e)))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        match table
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(write.revision),
            Err(err) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(e)) =
                    err.as_service_error()
                    && e.cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed"))
                {
                    return Err(StoreError::ConditionFailed(
                        "the mapping changed since it was read".to_owned(),
                    ));
                }
                Err(classify(err))
            }
        }
    }
}
