//! To Do calls under `/users/{id}/todo/lists/...` (docs/graph-behaviour.md §3.2, §3.3). App-only
//! access has no `/me`, so every path names the list's owner.

use reqwest::Method;
use serde_json::Value;

use super::GraphClient;
use super::GraphError;
use super::models::{
    DeltaRound, NewTodoTask, TodoChange, TodoChecklistItem, TodoChecklistItemWrite, TodoTask,
    TodoTaskList, TodoTaskPatch,
};
use super::request::{GraphRequest, Operation, TASKS_READ, TASKS_WRITE, to_json};
use crate::model::RemoteTodoTask;
use crate::ports::TodoTaskRead;

pub(crate) const LIST_LISTS: Operation = Operation::new("todo.list_lists", TASKS_READ, true);
pub(crate) const LIST_TASKS: Operation = Operation::new("todo.list_tasks", TASKS_READ, true);
pub(crate) const GET_TASK: Operation = Operation::new("todo.get_task", TASKS_READ, true);
pub(crate) const CREATE_TASK: Operation = Operation::new("todo.create_task", TASKS_WRITE, false);
pub(crate) const UPDATE_TASK: Operation = Operation::new("todo.update_task", TASKS_WRITE, true);
pub(crate) const DELETE_TASK: Operation = Operation::new("todo.delete_task", TASKS_WRITE, true);
pub(crate) const LIST_CHECKLIST_ITEMS: Operation =
    Operation::new("todo.list_checklist_items", TASKS_READ, true);
pub(crate) const CREATE_CHECKLIST_ITEM: Operation =
    Operation::new("todo.create_checklist_item", TASKS_WRITE, false);
pub(crate) const UPDATE_CHECKLIST_ITEM: Operation =
    Operation::new("todo.update_checklist_item", TASKS_WRITE, true);
pub(crate) const DELETE_CHECKLIST_ITEM: Operation =
    Operation::new("todo.delete_checklist_item", TASKS_WRITE, true);
pub(crate) const DELTA: Operation = Operation {
    delta: true,
    ..Operation::new("todo.delta", TASKS_READ, true)
};

/// The relationships every task read inlines: the marker (docs/architecture.md principle 3) and the
/// checklist, so one request gives everything the sync compares (docs/graph-behaviour.md §3.1).
const TASK_EXPAND: &str = "linkedResources,checklistItems";

/// To Do operations; get one with [`GraphClient::todo`].
#[derive(Debug, Clone, Copy)]
pub struct TodoApi<'a> {
    client: &'a GraphClient,
}

#[derive(serde::Deserialize)]
struct DeltaPage {
    value: Vec<Value>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

impl<'a> TodoApi<'a> {
    pub(crate) fn new(client: &'a GraphClient) -> Self {
        Self { client }
    }

    fn tasks_url(&self, user_id: &str, list_id: &str) -> Result<url::Url, GraphError> {
        self.client
            .url(&["users", user_id, "todo", "lists", list_id, "tasks"])
    }

    fn task_url(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> Result<url::Url, GraphError> {
        self.client
            .url(&["users", user_id, "todo", "lists", list_id, "tasks", task_id])
    }

    /// `GET /users/{id}/todo/lists`, every page.
    pub async fn list_lists(&self, user_id: &str) -> Result<Vec<TodoTaskList>, GraphError> {
        let url = self.client.url(&["users", user_id, "todo", "lists"])?;
        self.client.list_all(&LIST_LISTS, url).await
    }

    /// `GET .../tasks?$expand=linkedResources,checklistItems`, every page; the markers come
    /// along so a sweep can find tasks created before a crash (docs/architecture.md principle 3), and the
    /// checklists so a resync needs no request per task.
    pub async fn list_tasks(
        &self,
        user_id: &str,
        list_id: &str,
    ) -> Result<Vec<TodoTask>, GraphError> {
        let mut url = self.tasks_url(user_id, list_id)?;
        url.query_pairs_mut().append_pair("$expand", TASK_EXPAND);
        self.client.list_all(&LIST_TASKS, url).await
    }

    /// The task created earlier for `local_id`, found by its marker (a create that may have
    /// happened before a crash). Lists the whole list: use it only when a create's outcome is
    /// unknown.
    pub async fn find_task_by_marker(
        &self,
        user_id: &str,
        list_id: &str,
        local_id: &str,
    ) -> Result<Option<TodoTask>, GraphError> {
        Ok(self
            .list_tasks(user_id, list_id)
            .await?
            .into_iter()
            .find(|t| t.marker() == Some(local_id)))
    }

    /// `GET .../tasks/{id}?$expand=linkedResources,checklistItems`. `Err(NotFound)` when it is
    /// gone.
    pub async fn get_task(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> Result<TodoTask, GraphError> {
        let mut url = self.task_url(user_id, list_id, task_id)?;
        url.query_pairs_mut().append_pair("$expand", TASK_EXPAND);
        self.client
            .send_json(&GraphRequest::new(&GET_TASK, Method::GET, url))
            .await
    }

    /// `POST .../tasks` with the marker inline; 201 with the task. Not retried after an
    /// ambiguous failure (it may have happened): the caller's marker lookup settles that.
    pub async fn create_task(
        &self,
        user_id: &str,
        list_id: &str,
        task: &NewTodoTask,
    ) -> Result<TodoTask, GraphError> {
        let body = to_json(task)?;
        let url = self.tasks_url(user_id, list_id)?;
        self.client
            .send_json(&GraphRequest::new(&CREATE_TASK, Method::POST, url).json(body))
            .await
    }

    /// `PATCH .../tasks/{id}`; To Do answers 200 with the updated task (docs/graph-behaviour.md
    /// §3.2). To Do documents no If-Match, so none is sent.
    pub async fn update_task(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
        patch: &TodoTaskPatch,
    ) -> Result<TodoTask, GraphError> {
        let body = to_json(patch)?;
        let url = self.task_url(user_id, list_id, task_id)?;
        self.client
            .send_json(&GraphRequest::new(&UPDATE_TASK, Method::PATCH, url).json(body))
            .await
    }

    /// `DELETE .../tasks/{id}`; 204. A task already gone is `Err(NotFound)`.
    pub async fn delete_task(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.task_url(user_id, list_id, task_id)?;
        self.client
            .send(&GraphRequest::new(&DELETE_TASK, Method::DELETE, url))
            .await
            .map(|_| ())
    }

    fn checklist_url(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
        item_id: Option<&str>,
    ) -> Result<url::Url, GraphError> {
        let mut segments = vec![
            "users",
            user_id,
            "todo",
            "lists",
            list_id,
            "tasks",
            task_id,
            "checklistItems",
        ];
        segments.extend(item_id);
        self.client.url(&segments)
    }

    /// `GET .../tasks/{id}/checklistItems`, every page: the items with their server ids.
    pub async fn list_checklist_items(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> Result<Vec<TodoChecklistItem>, GraphError> {
        let url = self.checklist_url(user_id, list_id, task_id, None)?;
        self.client.list_all(&LIST_CHECKLIST_ITEMS, url).await
    }

    /// `POST .../tasks/{id}/checklistItems`; 201 with the item and its server id. Like a task
    /// create, not repeated after an ambiguous failure (a second item could appear); the next
    /// read shows whether it happened and the merge settles it.
    pub async fn create_checklist_item(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
        item: &TodoChecklistItemWrite,
    ) -> Result<TodoChecklistItem, GraphError> {
        let body = to_json(item)?;
        let url = self.checklist_url(user_id, list_id, task_id, None)?;
        self.client
            .send_json(&GraphRequest::new(&CREATE_CHECKLIST_ITEM, Method::POST, url).json(body))
            .await
    }

    /// `PATCH .../checklistItems/{item}`; 200 with the item.
    pub async fn update_checklist_item(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
        item_id: &str,
        patch: &TodoChecklistItemWrite,
    ) -> Result<TodoChecklistItem, GraphError> {
        let body = to_json(patch)?;
        let url = self.checklist_url(user_id, list_id, task_id, Some(item_id))?;
        self.client
            .send_json(&GraphRequest::new(&UPDATE_CHECKLIST_ITEM, Method::PATCH, url).json(body))
            .await
    }

    /// `DELETE .../checklistItems/{item}`; 204. An item already gone is `Err(NotFound)`.
    pub async fn delete_checklist_item(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
        item_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.checklist_url(user_id, list_id, task_id, Some(item_id))?;
        self.client
            .send(&GraphRequest::new(
                &DELETE_CHECKLIST_ITEM,
                Method::DELETE,
                url,
            ))
            .await
            .map(|_| ())
    }

    /// One delta round: from the stored `delta_link` (or from scratch when `None`), following
    /// every nextLink until a deltaLink arrives. `Err(DeltaExpired)` on 410 or an expired token:
    /// the caller starts over with `None` and reconciles the whole list.
    pub async fn delta(
        &self,
        user_id: &str,
        list_id: &str,
        delta_link: Option<&str>,
    ) -> Result<DeltaRound, GraphError> {
        let mut url = match delta_link {
            Some(link) => self.client.graph_link(link)?,
            None => {
                let mut u = self.tasks_url(user_id, list_id)?;
                if let Ok(mut path) = u.path_segments_mut() {
                    path.push("delta");
                }
                u
            }
        };
        let mut changes = Vec::new();
        loop {
            let page: DeltaPage = self
                .client
                .send_json(&GraphRequest::new(&DELTA, Method::GET, url))
                .await?;
            for item in page.value {
                changes.push(parse_change(item)?);
            }
            match (page.next_link, page.delta_link) {
                (Some(next), _) => url = self.client.graph_link(&next)?,
                (None, Some(delta_link)) => {
                    return Ok(DeltaRound {
                        changes,
                        delta_link,
                    });
                }
                (None, None) => {
                    return Err(GraphError::Protocol(
                        "delta page has neither @odata.nextLink nor @odata.deltaLink".into(),
                    ));
                }
            }
        }
    }
}

/// A delta item: `{"id", "@removed": {"reason"}}` for a removal (docs/graph-behaviour.md §3.3),
/// else a task.
fn parse_change(item: Value) -> Result<TodoChange, GraphError> {
    if let Some(removed) = item.get("@removed") {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| GraphError::Protocol("removed delta item without id".into()))?
            .to_owned();
        let reason = removed
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("deleted")
            .to_owned();
        return Ok(TodoChange::Removed { id, reason });
    }
    serde_json::from_value(item)
        .map(|t| TodoChange::Upsert(Box::new(t)))
        .map_err(|e| GraphError::Protocol(format!("delta item is not a todoTask: {e}")))
}

impl TodoTaskRead for GraphClient {
    async fn get_todo_task(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<RemoteTodoTask>, GraphError> {
        match self.todo().get_task(user_id, list_id, task_id).await {
            Ok(task) => Ok(Some(task.to_domain())),
            Err(GraphError::NotFound) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_items_and_upserts_are_told_apart() {
        let removed = parse_change(serde_json::json!({
            "@odata.type": "#microsoft.graph.todoTask", "id": "A", "@removed": {"reason": "deleted"}
        }))
        .unwrap();
        assert_eq!(
            removed,
            TodoChange::Removed {
                id: "A".into(),
                reason: "deleted".into()
            }
        );
        let upsert = parse_change(serde_json::json!({"id": "B", "title": "t"})).unwrap();
        assert!(matches!(upsert, TodoChange::Upsert(t) if t.id == "B" && t.title == "t"));
        assert!(parse_change(serde_json::json!({"@removed": {}})).is_err());
    }
}
