//! The tasks table's ports on the in-memory store.

use super::{MemoryStore, task_key_of};
use crate::model::LocalTask;
use crate::ports::{
    InvalidTaskItem, StoreError, TaskList, TaskRead, TaskWrite, TaskWriteIfVersion,
};
use crate::store::item::attrs::ItemExt;
use crate::store::item::{task_from_item, task_key, task_to_item};

impl TaskRead for MemoryStore {
    async fn get_task(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<LocalTask>, StoreError> {
        let key = task_key_of(&task_key(list_id, task_id))?;
        let item = self.lock().tasks.get(&key).cloned();
        item.as_ref().map(task_from_item).transpose()
    }
}

impl TaskWrite for MemoryStore {
    async fn put_task(&self, task: &LocalTask) -> Result<(), StoreError> {
        self.put_raw_task_item(task_to_item(task))
    }
}

impl TaskWriteIfVersion for MemoryStore {
    async fn put_task_if_version(
        &self,
        task: &LocalTask,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let item = task_to_item(task);
        let key = task_key_of(&item)?;
        let mut tables = self.lock();
        let current = tables.tasks.get(&key);
        let ok = match expected_version {
            None => current.is_none(),
            Some(v) => current.is_some_and(|c| c.whole_number("version") == Some(v)),
        };
        if !ok {
            return Err(StoreError::ConditionFailed(
                "the task item changed since it was read".to_owned(),
            ));
        }
        tables.write_task(key, item);
        Ok(())
    }
}

impl TaskList for MemoryStore {
    async fn list_tasks(
        &self,
        list_id: &str,
    ) -> Result<Vec<Result<LocalTask, InvalidTaskItem>>, StoreError> {
        let tables = self.lock();
        Ok(tables
            .tasks
            .iter()
            .filter(|((list, _), _)| list == list_id)
            .map(|((list, id), item)| {
                task_from_item(item).map_err(|e| InvalidTaskItem {
                    list_id: list.clone(),
                    task_id: id.clone(),
                    reason: e.to_string(),
                })
            })
            .collect())
    }
}
