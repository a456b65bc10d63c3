//! The tasks table (the application's own task store) on DynamoDB.

use aws_sdk_dynamodb::Client;

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{Item, TASK_ID, TASK_LIST_ID, task_from_item, task_key, task_to_item};
use super::sdk_error::classify;
use crate::model::LocalTask;
use crate::ports::{
    InvalidTaskItem, StoreError, TaskList, TaskRead, TaskWrite, TaskWriteIfVersion,
};

/// Reads and writes task items of the tasks table (`TASKS_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoTaskStore {
    client: Client,
    table: String,
}

impl DynamoTaskStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

impl TaskRead for DynamoTaskStore {
    async fn get_task(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<LocalTask>, StoreError> {
        // Strongly consistent: the worker must see the write that caused the hint it handles.
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(task_key(list_id, task_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item().map(task_from_item).transpose()
    }
}

impl TaskWrite for DynamoTaskStore {
    async fn put_task(&self, task: &LocalTask) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(task_to_item(task)))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

impl TaskWriteIfVersion for DynamoTaskStore {
    async fn put_task_if_version(
        &self,
        task: &LocalTask,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(task_to_item(task)));
        let request = match expected_version {
            None => request
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", TASK_ID),
            Some(v) => request
                .condition_expression("#v = :read")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":read", AttributeValue::N(v.to_string())),
        };
        request.send().await.map_err(classify)?;
        Ok(())
    }
}

impl TaskList for DynamoTaskStore {
    async fn list_tasks(
        &self,
        list_id: &str,
    ) -> Result<Vec<Result<LocalTask, InvalidTaskItem>>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#l = :l")
                .expression_attribute_names("#l", TASK_LIST_ID)
                .expression_attribute_values(":l", AttributeValue::S(list_id.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in page.items.unwrap_or_default() {
                let task_id = match item.get(TASK_ID) {
                    Some(AttributeValue::S(id)) => id.clone(),
                    _ => String::new(),
                };
                out.push(task_from_item(&item).map_err(|e| InvalidTaskItem {
                    list_id: list_id.to_owned(),
                    task_id,
                    reason: e.to_string(),
                }));
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
        }
    }
}
