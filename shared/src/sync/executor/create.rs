//! Creates: the remote task of a local task (claim, create, record; Planner records the new id
//! before the details write that marks it), and the local item of a remote-born task.

use chrono::Utc;

use super::Executed;
use super::records::{new_mapping, record_refusal};
use crate::model::{LocalTask, Origin};
use crate::ports::{MappingStore, SyncRecords, TaskWriteIfVersion};
use crate::sync::failure::SyncFailure;
use crate::sync::fields::{FieldMap, apply_to_local};
use crate::sync::mapping::MappingState;
use crate::sync::pair::Pair;
use crate::sync::scope::Scope;

pub(super) async fn create_remote<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    fields: &FieldMap,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    let Some(local) = pair.local.task() else {
        return Ok(Executed::Nothing);
    };
    // 1. Claim: only one worker may create the remote task of this local task.
    let mut claim = pair
        .mapping
        .clone()
        .unwrap_or_else(|| new_mapping(scope.binding, &pair.local_id));
    let replaced_remote_id = claim.remote_id.take();
    claim.state = MappingState::Creating;
    claim.task_etag = None;
    claim.details_etag = None;
    // What is about to be sent: if the create's answer is lost, a retry recognises the orphan by
    // the title it was created with, even when the local task was renamed meanwhile
    // (`sync::orphans::adopt_orphans`). Reconcile does not read a `creating` claim's base.
    claim.base = fields.clone();
    // A new claim is fresh: an earlier attempt's error would stop concurrent deliveries from
    // waiting for this create.
    claim.last_error = None;
    claim.updated_at = Utc::now();
    let expected = pair.mapping.as_ref().map(|m| m.revision);
    let claimed = scope.sync.save_mapping(&claim, expected, None).await?;
    claim.revision = claimed;

    // 2. Create, with the marker where the side takes it in the create (To Do).
    let canon: FieldMap = fields
        .iter()
        .filter_map(|(f, v)| scope.rules.canon(*f, v).map(|c| (*f, c)))
        .collect();
    // A 404 here is the container gone: the side classifies it as the binding's.
    let created = match scope.remote.create(&pair.local_id, &canon).await {
        Ok(created) => created,
        Err(SyncFailure::Item { reason }) => {
            return record_refusal(scope, pair, Some((&claim, claimed)), reason).await;
        }
        Err(e) => return Err(e),
    };

    // 3. Unmarked (Planner): record its id on the claim first, then mark it. From here on a
    //    retry, whatever stopped this one, finds the task by that id and finishes it.
    let mut claimed = claimed;
    let mut replaced_remote_id = replaced_remote_id;
    let remote = if created.marker.is_some() {
        created
    } else {
        let mut pending = claim.clone();
        pending.remote_id = Some(created.id.clone());
        pending.task_etag = created.task_etag.clone();
        pending.updated_at = Utc::now();
        match scope
            .sync
            .save_mapping(&pending, Some(claimed), replaced_remote_id.as_deref())
            .await
        {
            Ok(revision) => {
                claimed = revision;
                pending.revision = revision;
                claim = pending;
                replaced_remote_id = None;
            }
            Err(e) => {
                // Nobody can find an unmarked task that is not recorded: take it back (the
                // claim was lost to another worker, or the store failed) — unless a retry
                // adopted it as an orphan meanwhile and a mapping names it now.
                let adopted = matches!(
                    scope
                        .sync
                        .mapping_by_remote(scope.binding.remote, &created.id)
                        .await,
                    Ok(Some(_))
                );
                if adopted {
                    tracing::warn!(remote_id = %created.id, "the new task was adopted by another attempt; kept");
                } else if let Err(d) = scope.remote.delete(&created).await {
                    tracing::warn!(remote_id = %created.id, error = %d, "could not delete an unrecorded new task");
                }
                return Err(e.into());
            }
        }
        let rest: FieldMap = canon
            .iter()
            .filter(|(f, v)| created.fields.get(f) != Some(*v))
            .map(|(f, v)| (*f, v.clone()))
            .collect();
        // Gone meanwhile (a person deleted it) is `Stale`: the retry reads no task and creates.
        match scope
            .remote
            .complete_create(&pair.local_id, &created, &rest)
            .await
        {
            Ok(remote) => remote,
            Err(SyncFailure::Item { reason }) => {
                return record_refusal(scope, pair, Some((&claim, claimed)), reason).await;
            }
            Err(e) => return Err(e),
        }
    };

    // 4. Record.
    let mut active = claim.clone();
    active.settle(&remote, local.version, fields.clone());
    scope
        .sync
        .save_mapping(&active, Some(claimed), replaced_remote_id.as_deref())
        .await?;
    if let Err(e) = scope
        .sync
        .clear_sync_issue(&scope.binding.local_list_id, &pair.local_id)
        .await
    {
        tracing::warn!(error = %e, "could not clear an old sync issue");
    }
    Ok(Executed::CreatedRemote {
        remote_id: remote.id,
    })
}

pub(super) async fn create_local<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    fields: &FieldMap,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    let Some(remote) = &pair.remote else {
        return Ok(Executed::Nothing);
    };
    let mut task = LocalTask::new(
        &scope.binding.local_list_id,
        &pair.local_id,
        String::new(),
        Origin::Sync,
    );
    apply_to_local(&mut task, fields, remote.completed_at);
    scope.tasks.put_task_if_version(&task, None).await?;
    let mut m = new_mapping(scope.binding, &pair.local_id);
    m.settle(remote, task.version, fields.clone());
    scope.sync.save_mapping(&m, None, None).await?;
    Ok(Executed::CreatedLocal {
        local_id: pair.local_id.clone(),
    })
}
