//! The scheduler's ports on DynamoDB (sync table). Schedules are written with a condition on
//! their revision, so a lease or a result is never written over someone else's newer one.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::dynamodb_sync::DynamoSyncStore;
use super::item::{GSI1, GSI1_PK, GSI1_SK, Item, subscription_key};
use super::schedule_item::{
    DUE_PARTITION, REVISION, due_bound, mapped_etags_from_item, mapping_partition,
    schedule_from_item, schedule_key, schedule_to_item,
};
use super::sdk_error::classify;
use crate::model::Binding;
use crate::ports::{
    BindingList, MappedEtags, RemoteEtagIndex, ScheduleStore, StoreError, SubscriptionRemove,
};
use crate::scheduler::BindingSchedule;

impl DynamoSyncStore {
    /// Every item of one gsi1 partition with gsi1sk at most `upper` (all when `None`), in
    /// gsi1sk order, at most `limit` items.
    async fn query_gsi1(
        &self,
        partition: &str,
        upper: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .index_name(GSI1)
                .expression_attribute_names("#pk", GSI1_PK)
                .expression_attribute_values(":pk", AttributeValue::S(partition.to_owned()))
                .set_exclusive_start_key(start.take());
            query = match &upper {
                Some(bound) => query
                    .key_condition_expression("#pk = :pk AND #sk <= :upper")
                    .expression_attribute_names("#sk", GSI1_SK)
                    .expression_attribute_values(":upper", AttributeValue::S(bound.clone())),
                None => query.key_condition_expression("#pk = :pk"),
            };
            if let Some(limit) = limit {
                let left = limit.saturating_sub(items.len()).max(1);
                query = query.limit(i32::try_from(left).unwrap_or(i32::MAX));
            }
            let page = query.send().await.map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            if limit.is_some_and(|l| items.len() >= l) {
                items.truncate(limit.unwrap_or(usize::MAX));
                return Ok(items);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

impl BindingList for DynamoSyncStore {
    async fn all_bindings(&self) -> Result<Vec<Binding>, StoreError> {
        self.list_bindings().await
    }
}

impl SubscriptionRemove for DynamoSyncStore {
    async fn remove_subscription(&self, subscription_id: &str) -> Result<(), StoreError> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(subscription_key(subscription_id)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

impl ScheduleStore for DynamoSyncStore {
    async fn get_schedule(&self, binding_id: &str) -> Result<Option<BindingSchedule>, StoreError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(schedule_key(binding_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.as_ref().map(schedule_from_item).transpose()
    }

    async fn put_schedule(&self, schedule: &BindingSchedule) -> Result<u64, StoreError> {
        let next = schedule.revision.saturating_add(1);
        let put = self
            .client()
            .put_item()
            .table_name(self.table())
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
        self.client()
            .delete_item()
            .table_name(self.table())
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
        self.query_gsi1(DUE_PARTITION, Some(due_bound(&now)), Some(limit))
            .await?
            .iter()
            .map(schedule_from_item)
            .collect()
    }

    async fn scheduled_binding_ids(&self) -> Result<HashSet<String>, StoreError> {
        Ok(self
            .query_gsi1(DUE_PARTITION, None, None)
            .await?
            .iter()
            .filter_map(|i| match i.get("binding_id") {
                Some(AttributeValue::S(id)) => Some(id.clone()),
                _ => None,
            })
            .collect())
    }
}

impl RemoteEtagIndex for DynamoSyncStore {
    async fn mapped_remote_etags(
        &self,
        binding_id: &str,
    ) -> Result<HashMap<String, MappedEtags>, StoreError> {
        self.query_gsi1(&mapping_partition(binding_id), None, None)
            .await?
            .iter()
            .map(mapped_etags_from_item)
            .collect()
    }
}
