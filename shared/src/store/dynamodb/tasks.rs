//! The tasks table (the application's own task store) on DynamoDB.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::sdk_error::classify;
use super::table::Table;
use crate::model::LocalTask;
use crate::ports::{
    InvalidTaskItem, StoreError, TaskList, TaskRead, TaskWrite, TaskWriteIfVersion,
};
use crate::store::item::attrs::ItemExt;
use crate::store::item::{TASK_ID, TASK_LIST_ID, task_from_item, task_key, task_to_item};

/// Reads and writes task items of the tasks table (`TASKS_TABLE`).
#[derive(Debug, Clone)]
pub struct DynamoTaskStore {
    table: Table,
}

impl DynamoTaskStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, table),
        }
    }

    pub fn table(&self) -> &str {
        self.table.name()
    }
}

impl TaskRead for DynamoTaskStore {
    async fn get_task(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<LocalTask>, StoreError> {
        self.table
            .get(task_key(list_id, task_id))
            .await?
            .as_ref()
            .map(task_from_item)
            .transpose()
    }
}

impl TaskWrite for DynamoTaskStore {
    async fn put_task(&self, task: &LocalTask) -> Result<(), StoreError> {
        self.table.put(task_to_item(task)).await
    }
}

impl TaskWriteIfVersion for DynamoTaskStore {
    async fn put_task_if_version(
        &self,
        task: &LocalTask,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let request = self
            .table
            .client()
            .put_item()
            .table_name(self.table.name())
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
        let query = self
            .table
            .client()
            .query()
            .table_name(self.table.name())
            .key_condition_expression("#l = :l")
            .expression_attribute_names("#l", TASK_LIST_ID)
            .expression_attribute_values(":l", AttributeValue::S(list_id.to_owned()))
            .consistent_read(true);
        Ok(self
            .table
            .query(query, None)
            .await?
            .iter()
            .map(|item| {
                task_from_item(item).map_err(|e| InvalidTaskItem {
                    list_id: list_id.to_owned(),
                    task_id: item.text(TASK_ID).unwrap_or_default().to_owned(),
                    reason: e.to_string(),
                })
            })
            .collect())
    }
}
