//! The scheduler's ports on DynamoDB (sync table). Schedules are written with a condition on
//! their revision, so a lease or a result is never written over someone else's newer one.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::DynamoSyncStore;
use super::sdk_error::classify;
use crate::ports::{MappedEtags, RemoteEtagIndex, ScheduleStore, StoreError};
use crate::scheduler::BindingSchedule;
use crate::store::item::schedule::{
    DUE_PARTITION, REVISION, due_bound, mapped_etags_from_item, mapping_partition,
    schedule_from_item, schedule_key, schedule_to_item, scheduled_binding_ids,
};

impl ScheduleStore for DynamoSyncStore {
    async fn get_schedule(&self, binding_id: &str) -> Result<Option<BindingSchedule>, StoreError> {
        self.sync_table()
            .get(schedule_key(binding_id))
            .await?
            .as_ref()
            .map(schedule_from_item)
            .transpose()
    }

    async fn put_schedule(&self, schedule: &BindingSchedule) -> Result<u64, StoreError> {
        let next = schedule.revision.saturating_add(1);
        let table = self.sync_table();
        let put = table
            .client()
            .put_item()
            .table_name(table.name())
            .set_item(Some(schedule_to_item(schedule, next)));
        let put = if schedule.revision == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", REVISION)
                .expression_attribute_values(
                    ":rev",
                    AttributeValue::N(schedule.revision.to_string()),
                )
        };
        put.send().await.map_err(classify)?;
        Ok(next)
    }

    async fn delete_schedule(&self, binding_id: &str, revision: u64) -> Result<(), StoreError> {
        let table = self.sync_table();
        table
            .client()
            .delete_item()
            .table_name(table.name())
            .set_key(Some(schedule_key(binding_id)))
            .condition_expression("#rev = :rev")
            .expression_attribute_names("#rev", REVISION)
            .expression_attribute_values(":rev", AttributeValue::N(revision.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn due_schedules(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<BindingSchedule>, StoreError> {
        self.sync_table()
            .query_gsi1(DUE_PARTITION, Some(&due_bound(&now)), Some(limit))
            .await?
            .iter()
            .map(schedule_from_item)
            .collect()
    }

    async fn scheduled_binding_ids(&self) -> Result<HashSet<String>, StoreError> {
        let items = self.list(DUE_PARTITION).await?;
        Ok(scheduled_binding_ids(&items))
    }
}

impl RemoteEtagIndex for DynamoSyncStore {
    async fn mapped_remote_etags(
        &self,
        binding_id: &str,
    ) -> Result<HashMap<String, MappedEtags>, StoreError> {
        self.list(&mapping_partition(binding_id))
            .await?
            .iter()
            .map(mapped_etags_from_item)
            .collect()
    }
}
