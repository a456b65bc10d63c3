//! What the executor records beside the sync for operators: why a pair is not synced (a task
//! item that breaks the contract, a task Graph refused), on the sync-issue list the CLI shows
//! and on the pair's mapping.

use chrono::Utc;

use super::Executed;
use crate::model::Binding;
use crate::ports::{MappingStore, SyncRecords};
use crate::sync::failure::SyncFailure;
use crate::sync::mapping::{Conflict, Mapping};
use crate::sync::pair::Pair;
use crate::sync::records::{ConflictRecord, SyncIssue};
use crate::sync::scope::Scope;

/// A new claim of a pair of `binding`.
pub(super) fn new_mapping(binding: &Binding, local_id: &str) -> Mapping {
    Mapping::claim(
        &binding.id,
        &binding.local_list_id,
        local_id,
        binding.remote,
        Utc::now(),
    )
}

/// The local item breaks the contract: recorded, nothing synced.
pub(super) async fn record_invalid<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    reason: &str,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
{
    tracing::warn!(
        binding_id = %scope.binding.id,
        list_id = %scope.binding.local_list_id,
        task_id = %pair.local_id,
        reason,
        "task item breaks the contract: not synced"
    );
    let mapping = pair.mapping.as_ref().map(|m| (m, m.revision));
    record_issue(scope, pair, mapping, reason).await?;
    Ok(Executed::RecordedInvalid {
        reason: reason.to_owned(),
    })
}

/// Graph refused the task (400, a quota 403): recorded on the pair, the rest goes on.
/// `mapping`: the pair's mapping at the revision last written.
pub(super) async fn record_refusal<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    mapping: Option<(&Mapping, u64)>,
    reason: String,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
{
    tracing::warn!(binding_id = %scope.binding.id, task_id = %pair.local_id, %reason, "Graph refused the task");
    record_issue(scope, pair, mapping, &reason).await?;
    Ok(Executed::Refused { reason })
}

async fn record_issue<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    mapping: Option<(&Mapping, u64)>,
    reason: &str,
) -> Result<(), SyncFailure>
where
    S: MappingStore + SyncRecords,
{
    scope
        .sync
        .record_sync_issue(&SyncIssue {
            list_id: scope.binding.local_list_id.clone(),
            task_id: pair.local_id.clone(),
            binding_id: scope.binding.id.clone(),
            reason: reason.to_owned(),
            at: Utc::now(),
        })
        .await?;
    if let Some((m, revision)) = mapping
        && m.last_error.as_deref() != Some(reason)
    {
        let mut next = m.clone();
        next.last_error = Some(reason.to_owned());
        next.updated_at = Utc::now();
        scope.sync.save_mapping(&next, Some(revision), None).await?;
    }
    Ok(())
}

/// Appends the conflicts a merge settled to the conflict history, once the merge is recorded (a
/// merge that lost its race is retried and records its own). The history is for operators: a
/// failed append is logged and the sync goes on, since retrying the pair would find the sides
/// already agreeing and could not record it again.
pub(super) async fn record_conflicts<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    remote_id: Option<&str>,
    conflicts: &[Conflict],
) where
    S: SyncRecords,
{
    if conflicts.is_empty() {
        return;
    }
    let at = Utc::now();
    let records: Vec<ConflictRecord> = conflicts
        .iter()
        .map(|c| ConflictRecord {
            binding_id: scope.binding.id.clone(),
            list_id: scope.binding.local_list_id.clone(),
            task_id: pair.local_id.clone(),
            remote_id: remote_id.map(str::to_owned),
            field: c.field,
            local: c.local.clone(),
            remote: c.remote.clone(),
            winner: c.winner,
            rule: c.rule.clone(),
            at,
        })
        .collect();
    if let Err(e) = scope.sync.record_conflicts(&records).await {
        tracing::warn!(
            binding_id = %scope.binding.id,
            task_id = %pair.local_id,
            error = %e,
            "the conflict history could not be written; the merge itself is recorded"
        );
    }
}
