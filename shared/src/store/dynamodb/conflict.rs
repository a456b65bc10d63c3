//! The conflict history on DynamoDB: one put per conflict, then the pair's partition pruned to
//! the newest [`CONFLICTS_KEPT_PER_PAIR`]; the TTL attribute removes what is older than the
//! retention (docs/recovery.md, "tasksync conflicts").

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoSyncStore;
use crate::ports::{CONFLICTS_KEPT_PER_PAIR, ConflictLog, StoreError};
use crate::store::item::{
    CONFLICT_TYPE, Item, PK, SK, conflict_from_item, conflict_pair_pk, conflict_to_item,
    readable_records,
};
use crate::sync::records::ConflictRecord;

impl DynamoSyncStore {
    /// Every conflict of the history, oldest first (gsi1, eventually consistent); a record that
    /// cannot be read is logged and skipped.
    pub async fn list_conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        Ok(readable_records(
            self.list(CONFLICT_TYPE).await?,
            conflict_from_item,
        ))
    }

    /// The keys of one pair's conflicts, oldest first (a strongly consistent Query).
    async fn pair_conflict_keys(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        let table = self.sync_table();
        let query = table
            .client()
            .query()
            .table_name(table.name())
            .consistent_read(true)
            .key_condition_expression("#pk = :pk")
            .projection_expression("#pk, #sk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()));
        table.query(query, None).await
    }
}

impl ConflictLog for DynamoSyncStore {
    async fn record_conflicts(&self, records: &[ConflictRecord]) -> Result<(), StoreError> {
        let mut pairs = BTreeSet::new();
        for record in records {
            self.sync_table().put(conflict_to_item(record)).await?;
            pairs.insert(conflict_pair_pk(
                &record.binding_id,
                &record.list_id,
                &record.task_id,
            ));
        }
        for pk in pairs {
            let keys = self.pair_conflict_keys(&pk).await?;
            let excess = keys.len().saturating_sub(CONFLICTS_KEPT_PER_PAIR);
            for key in keys.into_iter().take(excess) {
                self.sync_table().delete(key).await?;
            }
        }
        Ok(())
    }
}
