//! `tasksync cleanup-orphans ID`: the remote tasks of a binding's container that carry
//! tasksync's marker (To Do: the linked resource; Planner: the reference in the task details,
//! docs/architecture.md principle 3) but that no local task owns any more. Such a task is left by
//! a local task deleted while the sync could not carry the deletion over, a reset followed by a
//! create that raced the resync, or a create whose record was lost and whose retry made another.
//!
//! A marked task is an orphan when no live mapping names it, and its marker's local task is gone
//! (absent or soft-deleted) or is paired with another remote task. A task without the marker is
//! never one, whatever its title: it was made by a person (or is a create of ours still to be
//! adopted, `sync::orphans`). A task a live mapping names is the engine's to decide.
//!
//! Only the public engine APIs are used (the remote side's listing and delete, the mapping and
//! task lookups), so this view agrees with what the engine itself resolves.

use serde::Serialize;

use crate::model::Binding;
use crate::ports::{MappingStore, TaskRead};
use crate::sync::fields::Field;
use crate::sync::{MappingState, OpenRemote, RemoteTask, SyncFailure, rules_of};

/// Why a marked remote task has no owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum OrphanReason {
    /// No local task of the marker's id.
    LocalGone,
    /// The local task is soft-deleted.
    LocalDeleted,
    /// The local task is paired with another remote task.
    MapsElsewhere { paired_remote_id: String },
}

impl OrphanReason {
    pub fn describe(&self) -> String {
        match self {
            OrphanReason::LocalGone => "local task gone".to_owned(),
            OrphanReason::LocalDeleted => "local task deleted".to_owned(),
            // The other task's id is in the JSON (`paired_remote_id`); To Do ids are long.
            OrphanReason::MapsElsewhere { .. } => "local task paired with another".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub remote_id: String,
    pub title: String,
    /// The local id the marker names.
    pub marker: String,
    #[serde(flatten)]
    pub reason: OrphanReason,
    /// Deleted by this run (`false` on a dry run).
    pub deleted: bool,
}

/// The orphans of `binding`'s container; with `delete`, each is deleted (Planner with its
/// ETag, so a task a person changed since the listing is not deleted). `progress` is called once
/// per remote task looked at.
pub async fn cleanup_orphans<S, T, G>(
    sync: &S,
    tasks: &T,
    graph: &G,
    binding: &Binding,
    delete: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Vec<Orphan>, SyncFailure>
where
    S: MappingStore,
    T: TaskRead,
    G: OpenRemote,
{
    let remote = graph.open(binding, &rules_of(binding));
    let listed = remote.list().await?;
    let total = listed.len() as u64;
    let mut orphans = Vec::new();
    for (done, task) in listed.iter().enumerate() {
        if let Some(reason) = orphan_reason(sync, tasks, binding, task).await? {
            if delete {
                remote.delete(task).await?;
            }
            orphans.push(Orphan {
                remote_id: task.id.clone(),
                title: title_of(task),
                marker: task.marker.clone().unwrap_or_default(),
                reason,
                deleted: delete,
            });
        }
        progress(done as u64 + 1, total);
    }
    Ok(orphans)
}

fn title_of(task: &RemoteTask) -> String {
    task.fields
        .get(&Field::Title)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn orphan_reason<S: MappingStore, T: TaskRead>(
    sync: &S,
    tasks: &T,
    binding: &Binding,
    task: &RemoteTask,
) -> Result<Option<OrphanReason>, SyncFailure> {
    let Some(local_id) = task.marker.as_deref() else {
        return Ok(None);
    };
    let named = sync.mapping_by_remote(binding.remote, &task.id).await?;
    if named.is_some_and(|m| m.state != MappingState::Deleted) {
        return Ok(None);
    }
    let list = &binding.local_list_id;
    match tasks.get_task(list, local_id).await? {
        None => return Ok(Some(OrphanReason::LocalGone)),
        Some(t) if t.deleted => return Ok(Some(OrphanReason::LocalDeleted)),
        Some(_) => {}
    }
    let mapping = sync.mapping_by_local(list, local_id).await?;
    Ok(mapping
        .filter(|m| m.state != MappingState::Deleted)
        .and_then(|m| m.remote_id)
        .filter(|paired| paired != &task.id)
        .map(|paired_remote_id| OrphanReason::MapsElsewhere { paired_remote_id }))
}
