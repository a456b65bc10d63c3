//! Pausing and resuming a binding. Paused: the worker acknowledges its hints and notes on the
//! binding that some arrived, sweeps skip it, and its subscription is kept (renewed as usual),
//! so nothing has to be rebuilt on resume. Resumed: the flag is cleared first (hints sync again
//! from then on), then a resync in the operator's process catches up on everything that changed
//! meanwhile, whether or not a hint was noted (a Planner change is only ever found by a sweep,
//! and those were skipped).

use chrono::{DateTime, Utc};

use super::BindingError;
use super::resync_now::resync_now;
use crate::model::Binding;
use crate::ports::{
    BindingFlags, BindingLookup, MappingStore, SyncRecords, TaskList, TaskRead, TaskWriteIfVersion,
};
use crate::sync::{Engine, OpenRemote, ResyncOptions, ResyncReport};

/// Pauses `binding_id`; the binding as it was before.
pub async fn pause<S>(
    store: &S,
    binding_id: &str,
    now: DateTime<Utc>,
) -> Result<Binding, BindingError>
where
    S: BindingLookup + BindingFlags,
{
    let Some(before) = store.find_binding(binding_id).await? else {
        return Err(BindingError::NoSuchBinding(binding_id.to_owned()));
    };
    if before.paused_at.is_none() && !store.set_binding_paused(binding_id, Some(now)).await? {
        return Err(BindingError::NoSuchBinding(binding_id.to_owned()));
    }
    Ok(before)
}

/// What a resume did.
#[derive(Debug, Clone)]
pub struct Resumed {
    /// The binding as it was before (its `paused_at` and `hint_while_paused_at`).
    pub before: Binding,
    pub report: ResyncReport,
}

/// Resumes `binding_id` and resyncs it.
pub async fn resume<S, T, G>(
    engine: &Engine<'_, S, T, G>,
    binding_id: &str,
    options: ResyncOptions<'_>,
) -> Result<Resumed, BindingError>
where
    S: BindingLookup + BindingFlags + MappingStore + SyncRecords,
    T: TaskRead + TaskWriteIfVersion + TaskList,
    G: OpenRemote,
{
    let Some(before) = engine.sync.find_binding(binding_id).await? else {
        return Err(BindingError::NoSuchBinding(binding_id.to_owned()));
    };
    engine.sync.set_binding_paused(binding_id, None).await?;
    let resumed = Binding {
        paused_at: None,
        hint_while_paused_at: None,
        ..before.clone()
    };
    let report = resync_now(engine, &resumed, options).await?;
    Ok(Resumed { before, report })
}
