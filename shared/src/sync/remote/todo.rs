//! A user's To Do list as the engine's remote side: its Graph calls. To Do takes the marker in
//! the create itself (a `linkedResource`, docs/graph-behaviour.md §3.1), has no `If-Match`
//! (§3.2), and keeps checklist items as a sub-resource with requests of their own.

use super::todo_checklist::{apply_todo_checklist, todo_checklist_of, todo_checklist_ops};
use super::todo_fields::{todo_new_task, todo_patch, todo_remote};
use super::{EarlierCreate, RemoteCall, RemoteSide, RemoteTask};
use crate::graph::{GraphClient, GraphError};
use crate::model::Binding;
use crate::sync::failure::SyncFailure;
use crate::sync::fields::{Field, FieldMap, SideRules};

pub struct TodoList<'a> {
    graph: &'a GraphClient,
    binding: Binding,
    rules: SideRules,
}

impl<'a> TodoList<'a> {
    pub fn new(graph: &'a GraphClient, binding: &Binding, rules: SideRules) -> Self {
        Self {
            graph,
            binding: binding.clone(),
            rules,
        }
    }

    fn user(&self) -> &str {
        &self.binding.user_id
    }

    fn list(&self) -> &str {
        &self.binding.remote_container_id
    }

    fn container_call(&self, call: &str, e: GraphError) -> SyncFailure {
        SyncFailure::of_container_call(&self.binding, call, e)
    }

    async fn get_task(&self, remote_id: &str) -> Result<Option<RemoteTask>, SyncFailure> {
        match self
            .graph
            .todo()
            .get_task(self.user(), self.list(), remote_id)
            .await
        {
            Ok(t) => Ok(Some(todo_remote(&t, &self.rules))),
            Err(GraphError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_tasks(&self) -> Result<Vec<RemoteTask>, SyncFailure> {
        let tasks = self
            .graph
            .todo()
            .list_tasks(self.user(), self.list())
            .await
            .map_err(|e| self.container_call("listing the tasks", e))?;
        Ok(tasks.iter().map(|t| todo_remote(t, &self.rules)).collect())
    }

    async fn find_marked(&self, local_id: &str) -> Result<EarlierCreate, SyncFailure> {
        let marked = self
            .graph
            .todo()
            .find_task_by_marker(self.user(), self.list(), local_id)
            .await
            .map_err(|e| self.container_call("searching by marker", e))?;
        // To Do takes the marker in the create: no unmarked task of ours can exist.
        Ok(EarlierCreate {
            marked: marked.map(|t| todo_remote(&t, &self.rules)),
            unmarked_own: Vec::new(),
        })
    }

    async fn create_task(
        &self,
        local_id: &str,
        fields: &FieldMap,
    ) -> Result<RemoteTask, SyncFailure> {
        let todo = self.graph.todo();
        let mut created = todo
            .create_task(
                self.user(),
                self.list(),
                &todo_new_task(local_id, fields, &self.rules),
            )
            .await
            .map_err(|e| self.container_call("creating a task", e))?;
        // Checklist items are created one request each: only linkedResources are documented
        // inline in a create (docs/graph-behaviour.md §3.1). A crash before they are all there
        // leaves a marked task whose adoption sends the rest.
        let ops = fields
            .get(&Field::Checklist)
            .map(|target| todo_checklist_ops(&[], target))
            .unwrap_or_default();
        if ops.is_empty() {
            created.checklist_items = Some(Vec::new());
            return Ok(todo_remote(&created, &self.rules));
        }
        // Past the POST, a 404 is the new task deleted (a person, seconds later), not the list:
        // `From<GraphError>` makes it a conflict to decide again, never the binding's breaker.
        apply_todo_checklist(
            self.graph,
            (self.user(), self.list()),
            &created.id,
            Vec::new(),
            ops,
        )
        .await?;
        // Every item write changed the task's ETag: read it back so the mapping records the one
        // the next notification will carry.
        let task = todo.get_task(self.user(), self.list(), &created.id).await?;
        Ok(todo_remote(&task, &self.rules))
    }

    async fn patch_task(
        &self,
        current: &RemoteTask,
        patch: &FieldMap,
    ) -> Result<RemoteTask, SyncFailure> {
        let todo = self.graph.todo();
        let (user, list) = (self.user(), self.list());
        // The checklist first: its item ids are not part of the normalised value, so they are
        // read now (one request) and only the items that differ are written.
        let mut checklist = None;
        let mut wrote_checklist = false;
        if let Some(target) = patch.get(&Field::Checklist) {
            let items = todo.list_checklist_items(user, list, &current.id).await?;
            // To Do has no If-Match (§3.2); a checklist that changed since the merge's read is
            // seen here, and the merge is made again rather than overwriting it.
            if current
                .fields
                .get(&Field::Checklist)
                .is_some_and(|seen| *seen != todo_checklist_of(&items))
            {
                return Err(SyncFailure::stale(
                    "the To Do checklist changed since it was read",
                ));
            }
            let ops = todo_checklist_ops(&items, target);
            wrote_checklist = !ops.is_empty();
            checklist = Some(
                apply_todo_checklist(self.graph, (user, list), &current.id, items, ops).await?,
            );
        }
        let task_patch = todo_patch(patch, &self.rules);
        let mut task = if !task_patch.is_empty() {
            // The PATCH answers with the task after every write above: its ETag is final.
            todo.update_task(user, list, &current.id, &task_patch)
                .await?
        } else if wrote_checklist {
            let task = todo.get_task(user, list, &current.id).await?;
            return Ok(todo_remote(&task, &self.rules));
        } else {
            let mut same = current.clone();
            if let Some(items) = &checklist {
                same.fields
                    .insert(Field::Checklist, todo_checklist_of(items));
            }
            return Ok(same);
        };
        task.checklist_items = checklist;
        let mut result = todo_remote(&task, &self.rules);
        if task.checklist_items.is_none()
            && let Some(v) = current.fields.get(&Field::Checklist)
        {
            result.fields.insert(Field::Checklist, v.clone());
        }
        Ok(result)
    }

    async fn delete_task(&self, current: &RemoteTask) -> Result<(), SyncFailure> {
        match self
            .graph
            .todo()
            .delete_task(self.user(), self.list(), &current.id)
            .await
        {
            Ok(()) | Err(GraphError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

impl RemoteSide for TodoList<'_> {
    fn get<'a>(&'a self, remote_id: &'a str) -> RemoteCall<'a, Option<RemoteTask>> {
        Box::pin(self.get_task(remote_id))
    }

    fn list(&self) -> RemoteCall<'_, Vec<RemoteTask>> {
        Box::pin(self.list_tasks())
    }

    fn find_earlier_create<'a>(&'a self, local_id: &'a str) -> RemoteCall<'a, EarlierCreate> {
        Box::pin(self.find_marked(local_id))
    }

    fn create<'a>(&'a self, local_id: &'a str, fields: &'a FieldMap) -> RemoteCall<'a, RemoteTask> {
        Box::pin(self.create_task(local_id, fields))
    }

    fn complete_create<'a>(
        &'a self,
        _local_id: &'a str,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        // The marker went with the create (§3.1): only what differs is left to send.
        Box::pin(async move {
            if patch.is_empty() {
                Ok(current.clone())
            } else {
                self.patch_task(current, patch).await
            }
        })
    }

    fn patch<'a>(
        &'a self,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        Box::pin(self.patch_task(current, patch))
    }

    fn delete<'a>(&'a self, current: &'a RemoteTask) -> RemoteCall<'a, ()> {
        Box::pin(self.delete_task(current))
    }
}
