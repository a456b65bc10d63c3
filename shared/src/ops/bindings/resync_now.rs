//! A resync now, in the operator's process, with the worker's own engine: what `tasksync sync`,
//! the first sync of `tasksync bindings add` and `tasksync bindings resume` run. A binding whose
//! first sync was pending has it recorded as completed once the resync succeeds, which ends
//! cold-start matching for it.

use chrono::Utc;

use super::BindingError;
use crate::model::Binding;
use crate::ports::{
    BindingFlags, MappingStore, SyncRecords, TaskList, TaskRead, TaskWriteIfVersion,
};
use crate::sync::{Engine, OpenRemote, ResyncOptions, ResyncReport};

/// Resyncs `binding` and, when its first sync was pending, records it completed.
pub async fn resync_now<S, T, G>(
    engine: &Engine<'_, S, T, G>,
    binding: &Binding,
    options: ResyncOptions<'_>,
) -> Result<ResyncReport, BindingError>
where
    S: MappingStore + SyncRecords + BindingFlags,
    T: TaskRead + TaskWriteIfVersion + TaskList,
    G: OpenRemote,
{
    let report = engine
        .resync_with(binding, options)
        .await
        .map_err(|failure| BindingError::Sync {
            binding_id: binding.id.clone(),
            failure,
        })?;
    if binding.first_sync_pending {
        engine
            .sync
            .complete_first_sync(&binding.id, Utc::now())
            .await?;
    }
    Ok(report)
}
