//! `tasksync bindings add`: check, write (conditionally: never over another binding), then the
//! first sync in the operator's process with the worker's engine, cold-start matching included.
//! With `dry_run`, the first sync's plan instead, and nothing written on either side.

use super::BindingError;
use super::resync_now::resync_now;
use super::validate::{NewBinding, validate};
use crate::graph::GraphClient;
use crate::model::Binding;
use crate::ports::{
    BindingCreate, BindingFlags, BindingList, BindingLookup, MappingStore, StoreError, SyncRecords,
    TaskList, TaskRead, TaskWriteIfVersion,
};
use crate::sync::{Engine, ResyncOptions, ResyncPlan, ResyncReport};

/// What `bindings add` did.
#[derive(Debug, Clone)]
pub enum Added {
    /// `--dry-run`: what the first sync would do.
    Planned { binding: Binding, plan: ResyncPlan },
    /// Written, and its first sync done.
    Synced {
        binding: Binding,
        report: ResyncReport,
    },
}

/// Adds the binding `new` asks for and runs its first sync (or only plans it).
pub async fn add<S, T>(
    engine: &Engine<'_, S, T, GraphClient>,
    new: &NewBinding,
    dry_run: bool,
    options: ResyncOptions<'_>,
) -> Result<Added, BindingError>
where
    S: BindingLookup + BindingList + BindingCreate + BindingFlags + MappingStore + SyncRecords,
    T: TaskRead + TaskWriteIfVersion + TaskList,
{
    let binding = validate(engine.sync, engine.graph, new).await?;
    if dry_run {
        let plan = engine
            .plan_resync(&binding, false)
            .await
            .map_err(|failure| BindingError::Sync {
                binding_id: binding.id.clone(),
                failure,
            })?;
        return Ok(Added::Planned { binding, plan });
    }
    match engine.sync.create_binding(&binding).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed(_)) => return Err(BindingError::IdTaken(binding.id)),
        Err(e) => return Err(e.into()),
    }
    let report = resync_now(engine, &binding, options).await?;
    Ok(Added::Synced { binding, report })
}
