//! The tasks table (the application's own task store) on DynamoDB.

use aws_sdk_dynamodb::Client;

use super::item::{task_from_item, task_key, task_to_item};
use super::sdk_error::classify;
use crate::model::LocalTask;
use crate::ports::{StoreError, TaskRead, TaskWrite};

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
