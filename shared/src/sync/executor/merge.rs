//! A merge: the remote patch first (If-Match on Planner: a 412 here costs nothing on the local
//! side), then the local item (conditional on the version read), then the mapping (conditional
//! on the revision read). A crash in between leaves sides that already agree with the merged
//! values, which reconcile to a mapping write only.

use chrono::Utc;

use super::Executed;
use super::records::{new_mapping, record_conflicts, record_refusal};
use crate::model::{LocalTask, Origin};
use crate::ports::{MappingStore, SyncRecords, TaskWriteIfVersion};
use crate::sync::failure::SyncFailure;
use crate::sync::fields::apply_to_local;
use crate::sync::pair::Pair;
use crate::sync::plan::Merge;
use crate::sync::scope::Scope;

pub(super) async fn apply_merge<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    merge: &Merge,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    let Some(remote) = &pair.remote else {
        return Ok(Executed::Nothing);
    };
    // 1. Remote first: a 412 here costs nothing on the local side. An unmarked task of this
    //    pair's create gets the marker with the patch, which finishes that create.
    //    Further orphans of that create go first, so a crash in between leaves the oldest one
    //    for the next retry to adopt.
    if merge.mark {
        for orphan in &pair.redundant_orphans {
            tracing::warn!(binding_id = %scope.binding.id, task_id = %pair.local_id, remote_id = %orphan.id, "deleting a redundant orphan of this task's create");
            scope.remote.delete(orphan).await?;
        }
    }
    let patched = !merge.remote_patch.is_empty() || merge.mark;
    let remote_after = if patched {
        let written = if merge.mark {
            scope
                .remote
                .complete_create(&pair.local_id, remote, &merge.remote_patch)
                .await
        } else {
            scope.remote.patch(remote, &merge.remote_patch).await
        };
        match written {
            Ok(r) => r,
            Err(SyncFailure::Item { reason }) => {
                let mapping = pair.mapping.as_ref().map(|m| (m, m.revision));
                return record_refusal(scope, pair, mapping, reason).await;
            }
            Err(e) => return Err(e),
        }
    } else {
        remote.clone()
    };

    // 2. Local, conditional on the version read.
    let mut local_version = pair.local.task().map_or(0, |t| t.version);
    let wrote_local = merge.local.is_some();
    if let Some(fields) = &merge.local {
        let (mut task, expected) = match pair.local.task() {
            Some(t) => (t.clone(), Some(t.version)),
            None => (
                LocalTask::new(
                    &scope.binding.local_list_id,
                    &pair.local_id,
                    String::new(),
                    Origin::Sync,
                ),
                None,
            ),
        };
        apply_to_local(&mut task, fields, remote_after.completed_at);
        if merge.undelete_local {
            task.deleted = false;
        }
        task.version = expected.map_or(1, |v| v + 1);
        task.origin = Origin::Sync;
        task.updated_at = Utc::now();
        scope.tasks.put_task_if_version(&task, expected).await?;
        local_version = task.version;
    }

    // 3. The mapping, conditional on the revision read.
    let mut m = pair
        .mapping
        .clone()
        .unwrap_or_else(|| new_mapping(scope.binding, &pair.local_id));
    let replaced = m.remote_id.clone();
    m.settle(&remote_after, local_version, merge.base.clone());
    if !merge.conflicts.is_empty() {
        m.last_conflicts = merge.conflicts.clone();
        for c in &merge.conflicts {
            tracing::warn!(
                binding_id = %scope.binding.id,
                task_id = %pair.local_id,
                field = c.field.as_str(),
                winner = ?c.winner,
                rule = %c.rule,
                "both sides changed a field: conflict settled"
            );
        }
    }
    scope
        .sync
        .save_mapping(
            &m,
            pair.mapping.as_ref().map(|m| m.revision),
            replaced.as_deref(),
        )
        .await?;
    record_conflicts(scope, pair, m.remote_id.as_deref(), &merge.conflicts).await;
    Ok(Executed::Merged {
        wrote_local,
        patched_remote: patched,
        conflicts: merge.conflicts.clone(),
    })
}
