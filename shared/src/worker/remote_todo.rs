//! A To Do task changed on the remote side: read it now and bring the local task in line.

use chrono::Utc;

use super::{MessageOutcome, WorkerDeps, WorkerError};
use crate::model::{LocalTask, Origin, RemoteKind, RemoteTodoTask};
use crate::ports::{BindingLookup, TaskRead, TaskWrite, TodoTaskRead};

pub(super) async fn sync_remote_todo_task<B, T, G>(
    binding_id: &str,
    task_id: &str,
    deps: &WorkerDeps<B, T, G>,
) -> Result<MessageOutcome, WorkerError>
where
    B: BindingLookup,
    T: TaskRead + TaskWrite,
    G: TodoTaskRead,
{
    let binding = deps
        .bindings
        .find_binding(binding_id)
        .await?
        .ok_or_else(|| WorkerError::Reject {
            reason: format!("unknown binding {binding_id:?}"),
        })?;
    if binding.remote != RemoteKind::Todo {
        return Err(WorkerError::Reject {
            reason: format!("binding {binding_id:?} is not a To Do binding"),
        });
    }
    // Notifications are hints: always read the current state (DESIGN.md principle 1).
    let remote = deps
        .graph
        .get_todo_task(&binding.user_id, &binding.remote_container_id, task_id)
        .await?;
    // Until the mapping table (issue 4), the local id of a remote-born task is its remote id.
    let local_id = task_id;
    let current = deps
        .tasks
        .get_task(&binding.local_list_id, local_id)
        .await?;

    match (remote, current) {
        (Some(remote), current) => {
            if let Some(existing) = &current
                && !existing.deleted
                && same_content(existing, &remote)
            {
                return Ok(MessageOutcome::Unchanged);
            }
            let task = LocalTask {
                list_id: binding.local_list_id.clone(),
                id: local_id.to_owned(),
                title: remote.title,
                notes: remote.body_text,
                status: remote.status,
                version: current.map_or(1, |c| c.version + 1),
                updated_at: Utc::now(),
                origin: Origin::Sync,
                deleted: false,
            };
            deps.tasks.put_task(&task).await?;
            Ok(MessageOutcome::WroteLocal {
                list_id: task.list_id,
                task_id: task.id,
            })
        }
        (None, Some(existing)) if !existing.deleted => {
            let task = LocalTask {
                deleted: true,
                version: existing.version + 1,
                updated_at: Utc::now(),
                origin: Origin::Sync,
                ..existing
            };
            deps.tasks.put_task(&task).await?;
            Ok(MessageOutcome::DeletedLocal {
                list_id: task.list_id,
                task_id: task.id,
            })
        }
        (None, _) => Ok(MessageOutcome::Unchanged),
    }
}

fn same_content(local: &LocalTask, remote: &RemoteTodoTask) -> bool {
    local.title == remote.title && local.notes == remote.body_text && local.status == remote.status
}
