//! The sync engine's records on DynamoDB: the mapping items (two per pair, written in one
//! `TransactWriteItems`, each conditional on the revision read), sync issues, dead-letter
//! reasons and the binding's circuit breaker (docs/aws-resources.md, docs/sync-engine.md).

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::DynamoSyncStore;
use super::item::{
    BREAKER, DLQ_TYPE, ISSUE_TYPE, Item, PK, binding_key, breaker_to_attribute,
    dead_letter_from_item, dead_letter_to_item, issue_from_item, issue_key, issue_to_item,
    mapping_attributes, mapping_from_item, mapping_local_key, mapping_remote_item,
    mapping_remote_key, readable_records,
};
use super::sdk_error::classify;
use crate::model::{Binding, CircuitBreaker, RemoteKind};
use crate::ports::{BindingsOfList, MappingStore, StoreError, SyncRecords};
use crate::sync::{DeadLetterReason, Mapping, SyncIssue};

fn with_key(attributes: &Item, key: Item) -> Item {
    let mut item = attributes.clone();
    item.extend(key);
    item
}

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
        self.get(mapping_local_key(list_id, task_id))
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
        self.get(mapping_remote_key(kind, remote_id))
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
        let revision = expected_revision.map_or(1, |r| r + 1);
        let mut written = mapping.clone();
        written.revision = revision;
        let attributes = mapping_attributes(&written);
        let local_item = with_key(
            &attributes,
            mapping_local_key(&mapping.local_list_id, &mapping.local_id),
        );
        let Some(remote_id) = &mapping.remote_id else {
            // A claim before the create: one item, one conditional put.
            let (condition, value) = revision_condition(expected_revision);
            self.client()
                .put_item()
                .table_name(self.table())
                .set_item(Some(local_item))
                .condition_expression(condition)
                .set_expression_attribute_values(value.map(|v| [(":read".to_owned(), v)].into()))
                .send()
                .await
                .map_err(classify)?;
            return Ok(revision);
        };
        let remote_item = mapping_remote_item(&written, &attributes, remote_id);
        let mut items = vec![
            put_with_condition(self.table(), local_item, expected_revision)?,
            remote_item_put(self.table(), remote_item, mapping, expected_revision)?,
        ];
        if let Some(old) = replaced_remote_id
            && old != remote_id
        {
            let delete = Delete::builder()
                .table_name(self.table())
                .set_key(Some(mapping_remote_key(mapping.remote_kind, old)))
                .build()
                .map_err(|e| StoreError::Config(Box::new(e)))?;
            items.push(TransactWriteItem::builder().delete(delete).build());
        }
        match self
            .client()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(revision),
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

impl DynamoSyncStore {
    /// Every sync issue (gsi1, eventually consistent). A record that cannot be read is logged and
    /// skipped: one damaged record must not hide every other issue from the operator.
    pub async fn list_sync_issues(&self) -> Result<Vec<SyncIssue>, StoreError> {
        Ok(readable_records(
            self.list(ISSUE_TYPE).await?,
            issue_from_item,
        ))
    }

    /// Every recorded dead-letter reason (gsi1, eventually consistent); unreadable records are
    /// logged and skipped, as above.
    pub async fn list_dead_letter_reasons(&self) -> Result<Vec<DeadLetterReason>, StoreError> {
        Ok(readable_records(
            self.list(DLQ_TYPE).await?,
            dead_letter_from_item,
        ))
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

impl SyncRecords for DynamoSyncStore {
    async fn record_sync_issue(&self, issue: &SyncIssue) -> Result<(), StoreError> {
        self.put(issue_to_item(issue)).await
    }

    async fn clear_sync_issue(&self, list_id: &str, task_id: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(issue_key(list_id, task_id)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn record_dead_letter(&self, record: &DeadLetterReason) -> Result<(), StoreError> {
        self.put(dead_letter_to_item(record)).await
    }

    async fn set_binding_breaker(
        &self,
        binding_id: &str,
        breaker: Option<&CircuitBreaker>,
    ) -> Result<(), StoreError> {
        let request = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(binding_key(binding_id)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#b", BREAKER);
        let request = match breaker {
            Some(b) => request
                .update_expression("SET #b = :b")
                .expression_attribute_values(":b", breaker_to_attribute(b)),
            None => request.update_expression("REMOVE #b"),
        };
        match request.send().await.map_err(classify) {
            Ok(_) | Err(StoreError::ConditionFailed(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
