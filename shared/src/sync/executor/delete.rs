//! Deletions decided by the mapping: the local item soft-deleted (its history kept), the remote
//! task deleted (one already gone counts as done), the mapping marked deleted.

use chrono::Utc;

use super::Executed;
use crate::model::Origin;
use crate::ports::{MappingStore, SyncRecords, TaskWriteIfVersion};
use crate::sync::failure::SyncFailure;
use crate::sync::mapping::MappingState;
use crate::sync::pair::Pair;
use crate::sync::scope::Scope;

pub(super) async fn delete_local<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    let mut local_version = 0;
    if let Some(task) = pair.local.task()
        && !task.deleted
    {
        let mut next = task.clone();
        next.deleted = true;
        next.version = task.version + 1;
        next.origin = Origin::Sync;
        next.updated_at = Utc::now();
        scope
            .tasks
            .put_task_if_version(&next, Some(task.version))
            .await?;
        local_version = next.version;
    }
    if let Some(m) = &pair.mapping {
        let mut next = m.clone();
        next.state = MappingState::Deleted;
        next.local_version = local_version.max(m.local_version);
        next.updated_at = Utc::now();
        scope
            .sync
            .save_mapping(&next, Some(m.revision), None)
            .await?;
    }
    Ok(Executed::DeletedLocal)
}

pub(super) async fn delete_remote<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
{
    if let Some(remote) = &pair.remote {
        scope.remote.delete(remote).await?;
    }
    if let Some(m) = &pair.mapping {
        let mut next = m.clone();
        next.state = MappingState::Deleted;
        if let Some(t) = pair.local.task() {
            next.local_version = t.version;
        }
        next.updated_at = Utc::now();
        scope
            .sync
            .save_mapping(&next, Some(m.revision), None)
            .await?;
    }
    Ok(Executed::DeletedRemote)
}

/// Both sides are gone: the mapping is marked deleted (once).
pub(super) async fn forget<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore,
{
    if let Some(m) = &pair.mapping
        && m.state != MappingState::Deleted
    {
        let mut next = m.clone();
        next.state = MappingState::Deleted;
        next.updated_at = Utc::now();
        scope
            .sync
            .save_mapping(&next, Some(m.revision), None)
            .await?;
    }
    Ok(Executed::Forgot)
}
