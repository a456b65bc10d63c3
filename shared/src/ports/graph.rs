//! Ports that reach Microsoft Graph outside the sync engine (which opens a remote side per
//! binding: `crate::sync::remote`).

use std::future::Future;

use crate::model::RemoteTodoTask;

/// Reads one To Do task from Graph; `Ok(None)` when Graph says it does not exist (404).
pub trait TodoTaskRead: Send + Sync {
    fn get_todo_task(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<RemoteTodoTask>, crate::graph::GraphError>> + Send;
}
