//! One DynamoDB table through the SDK client: the reads and writes every store of this adapter
//! shares, with SDK errors already classified.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

use super::sdk_error::classify;
use crate::ports::StoreError;
use crate::store::item::{GSI1, GSI1_PK, GSI1_SK, Item};

#[derive(Debug, Clone)]
pub(crate) struct Table {
    client: Client,
    name: String,
}

impl Table {
    pub(crate) fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// One item, strongly consistent: the worker must see the write that caused the hint it
    /// handles, and a subscription saved a moment ago must already verify notifications.
    pub(crate) async fn get(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item)
    }

    pub(crate) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Deletes one item; an absent one is fine.
    pub(crate) async fn delete(&self, key: Item) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Every item `query` finds, page after page, at most `limit` of them.
    pub(crate) async fn query(
        &self,
        query: QueryFluentBuilder,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut page = query.clone().set_exclusive_start_key(start.take());
            if let Some(limit) = limit {
                let left = limit.saturating_sub(items.len()).max(1);
                page = page.limit(i32::try_from(left).unwrap_or(i32::MAX));
            }
            let page = page.send().await.map_err(classify)?;
            items.extend(page.items.unwrap_or_default());
            if let Some(limit) = limit
                && items.len() >= limit
            {
                items.truncate(limit);
                return Ok(items);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every item of one gsi1 partition with gsi1sk at most `upper` (all when `None`), in
    /// gsi1sk order, at most `limit` items. gsi1 is eventually consistent, like any GSI.
    pub(crate) async fn query_gsi1(
        &self,
        partition: &str,
        upper: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.name)
            .index_name(GSI1)
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_values(":pk", AttributeValue::S(partition.to_owned()));
        let query = match upper {
            Some(bound) => query
                .key_condition_expression("#pk = :pk AND #sk <= :upper")
                .expression_attribute_names("#sk", GSI1_SK)
                .expression_attribute_values(":upper", AttributeValue::S(bound.to_owned())),
            None => query.key_condition_expression("#pk = :pk"),
        };
        self.query(query, limit).await
    }
}
