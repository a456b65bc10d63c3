//! The sync engine's operator records on DynamoDB: sync issues, dead-letter reasons and the
//! binding's circuit breaker (docs/aws-resources.md).

use super::DynamoSyncStore;
use super::sdk_error::classify;
use crate::model::CircuitBreaker;
use crate::ports::{StoreError, SyncRecords};
use crate::store::item::{
    BREAKER, DLQ_TYPE, ISSUE_TYPE, PK, binding_key, breaker_to_attribute, dead_letter_from_item,
    dead_letter_to_item, issue_from_item, issue_key, issue_to_item, readable_records,
};
use crate::sync::{DeadLetterReason, SyncIssue};

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

impl SyncRecords for DynamoSyncStore {
    async fn record_sync_issue(&self, issue: &SyncIssue) -> Result<(), StoreError> {
        self.sync_table().put(issue_to_item(issue)).await
    }

    async fn clear_sync_issue(&self, list_id: &str, task_id: &str) -> Result<(), StoreError> {
        self.sync_table().delete(issue_key(list_id, task_id)).await
    }

    async fn record_dead_letter(&self, record: &DeadLetterReason) -> Result<(), StoreError> {
        self.sync_table().put(dead_letter_to_item(record)).await
    }

    async fn set_binding_breaker(
        &self,
        binding_id: &str,
        breaker: Option<&CircuitBreaker>,
    ) -> Result<(), StoreError> {
        let table = self.sync_table();
        let request = table
            .client()
            .update_item()
            .table_name(table.name())
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
