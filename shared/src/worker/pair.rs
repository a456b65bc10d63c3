//! One pair: read both sides and the mapping now (hints are never data, DESIGN.md principle 1),
//! decide, apply; after a lost race (412/409, a conditional write that failed) read again and
//! decide again, a bounded number of times.

use chrono::Utc;
use serde_json::json;

use super::{MessageOutcome, SyncStore, TaskStore, WorkerDeps, WorkerError};
use crate::graph::GraphError;
use crate::graph::models::CalendarZone;
use crate::model::{Binding, LocalTask};
use crate::ports::StoreError;
use crate::sync::fields::Field;
use crate::sync::remote::orphans_of_claim;
use crate::sync::{
    ExecDeps, ExecError, Executed, LocalSide, Mapping, MappingState, Pair, Plan, RemoteTask,
    RemoteTasks, SideRules, execute, reconcile,
};

/// Which side the hint named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairKey {
    Remote(String),
    Local(String),
}

/// The side rules of a binding (its zone for calendar days).
pub fn rules_of(binding: &Binding) -> SideRules {
    let zone = CalendarZone::parse(&binding.time_zone).unwrap_or_else(|_| {
        tracing::warn!(binding_id = %binding.id, zone = %binding.time_zone, "unknown time zone; using UTC");
        CalendarZone::utc()
    });
    SideRules::new(binding.remote, zone)
}

/// Maps a Graph failure to what the queue should do; permission problems concern the whole
/// binding (its breaker), not this message.
pub(super) fn graph_failure(binding: &Binding, e: GraphError) -> WorkerError {
    match &e {
        GraphError::Forbidden { .. } if !e.is_quota() => WorkerError::Binding {
            binding_id: binding.id.clone(),
            reason: e.to_string(),
        },
        _ => e.into(),
    }
}

pub(super) fn exec_failure(binding: &Binding, e: ExecError) -> WorkerError {
    match e {
        ExecError::Graph(g) => graph_failure(binding, g),
        ExecError::ContainerGone(reason) => WorkerError::Binding {
            binding_id: binding.id.clone(),
            reason,
        },
        other => other.into(),
    }
}

/// The local side as read: the task, or why it breaks the contract.
pub(super) struct LocalRead {
    pub task: Option<LocalTask>,
    pub invalid: Option<String>,
}

pub(super) async fn read_local<T: TaskStore>(
    tasks: &T,
    list_id: &str,
    task_id: &str,
) -> Result<LocalRead, WorkerError> {
    match tasks.get_task(list_id, task_id).await {
        Ok(task) => Ok(LocalRead {
            task,
            invalid: None,
        }),
        Err(StoreError::InvalidItem(reason)) => Ok(LocalRead {
            task: None,
            invalid: Some(reason),
        }),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn sync_pair<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
    key: PairKey,
) -> Result<MessageOutcome, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
{
    let rules = rules_of(binding);
    let rounds = deps.settings.max_merge_rounds.max(1);
    let mut last_stale = String::new();
    let mut local_id = None;
    for _ in 0..rounds {
        let Some((pair, invalid)) = read_pair(deps, binding, &rules, &key).await? else {
            return Ok(MessageOutcome::Unchanged);
        };
        local_id = Some(pair.local_id.clone());
        let local = match (&pair.local, &invalid) {
            (_, Some(reason)) => LocalSide::Invalid(reason),
            (Some(t), None) => LocalSide::Present(t),
            (None, None) => LocalSide::Missing,
        };
        let plan = reconcile(
            binding,
            &rules,
            local,
            pair.remote.as_ref(),
            pair.mapping.as_ref(),
        );
        tracing::debug!(plan = ?plan, "plan");
        if let Plan::Nothing { .. } = plan {
            return Ok(MessageOutcome::Unchanged);
        }
        let exec = ExecDeps {
            sync: &deps.sync,
            tasks: &deps.tasks,
            graph: &deps.graph,
        };
        match execute(&exec, binding, &rules, &pair, &plan).await {
            Ok(Executed::Nothing) => return Ok(MessageOutcome::Unchanged),
            Ok(done) => return Ok(MessageOutcome::Synced(done)),
            Err(ExecError::Stale(reason)) => {
                tracing::info!(%reason, "lost a race; reading both sides again");
                last_stale = reason;
            }
            Err(e) => return Err(exec_failure(binding, e)),
        }
    }
    let reason = format!("still racing after {rounds} rounds: {last_stale}");
    if let Some(local_id) = local_id {
        record_last_error(deps, binding, &local_id, &reason).await;
    }
    Err(WorkerError::Retry {
        reason,
        after: None,
    })
}

/// Puts why the pair could not be settled on its mapping (`last_error`, which the CLI shows),
/// not only in the dead-letter record the last receive writes. Best effort: the message is
/// retried either way, and a mapping that changed meanwhile means the race is moving.
async fn record_last_error<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
    local_id: &str,
    reason: &str,
) where
    S: SyncStore,
{
    let mapping = match deps
        .sync
        .mapping_by_local(&binding.local_list_id, local_id)
        .await
    {
        Ok(Some(m)) if m.last_error.as_deref() != Some(reason) => m,
        Ok(_) => return,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the mapping to record the failure");
            return;
        }
    };
    let mut next = mapping.clone();
    next.last_error = Some(reason.to_owned());
    next.updated_at = Utc::now();
    if let Err(e) = deps
        .sync
        .save_mapping(&next, Some(mapping.revision), None)
        .await
    {
        tracing::warn!(error = %e, "could not record the failure on the mapping");
    }
}

/// What the worker would do for one pair, without writing anything (reads both sides and the
/// mapping like a real run): for a dry run that prints the plan.
pub async fn dry_run<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
    key: PairKey,
) -> Result<Plan, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
{
    let rules = rules_of(binding);
    let Some((pair, invalid)) = read_pair(deps, binding, &rules, &key).await? else {
        return Ok(Plan::Nothing {
            why: "echo of the sync's own local write",
        });
    };
    let local = match (&pair.local, &invalid) {
        (_, Some(reason)) => LocalSide::Invalid(reason),
        (Some(t), None) => LocalSide::Present(t),
        (None, None) => LocalSide::Missing,
    };
    Ok(reconcile(
        binding,
        &rules,
        local,
        pair.remote.as_ref(),
        pair.mapping.as_ref(),
    ))
}

/// Reads the pair a hint names. `None` when there is nothing to do without calling Graph (an
/// echo of the sync's own local write).
async fn read_pair<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
    rules: &SideRules,
    key: &PairKey,
) -> Result<Option<(Pair, Option<String>)>, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
{
    let list = &binding.local_list_id;
    match key {
        PairKey::Remote(remote_id) => {
            let remote = deps
                .graph
                .get(binding, rules, remote_id)
                .await
                .map_err(|e| graph_failure(binding, e))?;
            let mut mapping = deps
                .sync
                .mapping_by_remote(binding.remote, remote_id)
                .await?;
            let local_id = match (&mapping, remote.as_ref().and_then(|r| r.marker.clone())) {
                (Some(m), _) => m.local_id.clone(),
                (None, Some(marker)) => marker,
                (None, None) => remote_id.clone(),
            };
            if mapping.is_none() {
                // A claim (creating, no remote id yet) exists only under the local key.
                mapping = deps.sync.mapping_by_local(list, &local_id).await?;
                if mapping
                    .as_ref()
                    .is_some_and(|m| m.remote_id.as_ref().is_some_and(|id| id != remote_id))
                {
                    // That local task is paired with another remote task: this one is a
                    // stray copy (e.g. a create whose record was lost); leave it to the sweep.
                    tracing::warn!(
                        remote_id,
                        local_id,
                        "remote task whose local task maps elsewhere"
                    );
                    return Ok(None);
                }
            }
            let local = read_local(&deps.tasks, list, &local_id).await?;
            Ok(Some((
                Pair {
                    local_id,
                    local: local.task,
                    remote,
                    mapping,
                    redundant_orphans: Vec::new(),
                },
                local.invalid,
            )))
        }
        PairKey::Local(local_id) => {
            let mapping = deps.sync.mapping_by_local(list, local_id).await?;
            let local = read_local(&deps.tasks, list, local_id).await?;
            if let (Some(m), Some(task)) = (&mapping, &local.task)
                && m.state != MappingState::Creating
                && task.version == m.local_version
                && m.last_error.is_none()
            {
                // The local item is as the sync last saw it (its own write coming back through
                // the stream, or a duplicate hint): nothing to look at, no Graph call. A remote
                // change arrives with its own hint (notification or sweep).
                return Ok(None);
            }
            if mapping.is_none() && local.task.as_ref().is_some_and(|t| t.deleted) {
                return Ok(None);
            }
            let (remote, redundant_orphans) =
                remote_of_mapping(deps, binding, rules, mapping.as_ref(), local.task.as_ref())
                    .await?;
            Ok(Some((
                Pair {
                    local_id: local_id.clone(),
                    local: local.task,
                    remote,
                    mapping,
                    redundant_orphans,
                },
                local.invalid,
            )))
        }
    }
}

/// The remote task a mapping points to; for a claim without a remote id, what an earlier
/// attempt of the create left: the task with its marker, or else (Planner) an orphan of a POST
/// whose answer was lost — an unmarked task this application created since the claim, with the
/// local task's title, that no mapping names. Several such orphans: the oldest is adopted and
/// the others come back second, for the adoption to delete (docs/sync-engine.md, "Crash points
/// and races"). The search reuses the one listing the marker search makes.
async fn remote_of_mapping<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
    rules: &SideRules,
    mapping: Option<&Mapping>,
    local: Option<&LocalTask>,
) -> Result<(Option<RemoteTask>, Vec<RemoteTask>), WorkerError>
where
    S: SyncStore,
    G: RemoteTasks,
{
    let Some(m) = mapping else {
        return Ok((None, Vec::new()));
    };
    if let Some(id) = &m.remote_id {
        return deps
            .graph
            .get(binding, rules, id)
            .await
            .map(|r| (r, Vec::new()))
            .map_err(|e| graph_failure(binding, e));
    }
    if m.state != MappingState::Creating {
        return Ok((None, Vec::new()));
    }
    let earlier = deps
        .graph
        .find_earlier_create(binding, rules, &m.local_id)
        .await
        .map_err(|e| graph_failure(binding, e))?;
    if let Some(found) = earlier.marked {
        return Ok((Some(found), Vec::new()));
    }
    if claim_is_fresh(deps, m) {
        // Another worker may be creating it right now: let it finish.
        return Err(WorkerError::Retry {
            reason: format!(
                "local task {} is being created by another worker",
                m.local_id
            ),
            after: Some(deps.settings.claim_patience),
        });
    }
    adopt_orphans(deps, binding, rules, m, local, earlier.unmarked_own).await
}

/// A `creating` claim younger than `claim_patience` (and not failed): its worker may still be
/// between the create and its record, so nobody else creates or adopts for it yet.
pub(super) fn claim_is_fresh<S, T, G, Q, C>(deps: &WorkerDeps<S, T, G, Q, C>, m: &Mapping) -> bool {
    let age = Utc::now().signed_duration_since(m.updated_at);
    let patience = chrono::Duration::from_std(deps.settings.claim_patience)
        .unwrap_or(chrono::Duration::seconds(60));
    m.state == MappingState::Creating && age < patience && m.last_error.is_none()
}

/// Among `candidates` (unmarked tasks this application created), the orphans of claim `m`'s
/// create: the one to adopt (the oldest) and the others, for the adoption to delete.
pub(super) async fn adopt_orphans<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
    rules: &SideRules,
    m: &Mapping,
    local: Option<&LocalTask>,
    candidates: Vec<RemoteTask>,
) -> Result<(Option<RemoteTask>, Vec<RemoteTask>), WorkerError>
where
    S: SyncStore,
{
    // The title the create sent (recorded on the claim) and the local task's current one: a
    // rename between a lost answer and this retry must not hide the orphan.
    let titles: Vec<_> = [
        m.base.get(&Field::Title).cloned(),
        local.map(|t| json!(t.title)),
    ]
    .into_iter()
    .flatten()
    .filter_map(|title| rules.canon(Field::Title, &title))
    .collect();
    if titles.is_empty() {
        return Ok((None, Vec::new()));
    }
    let mut orphans = Vec::new();
    let settle = chrono::Duration::from_std(deps.settings.claim_patience / 2)
        .unwrap_or(chrono::Duration::seconds(30));
    let settled_before = Utc::now() - settle;
    for candidate in orphans_of_claim(m.updated_at, settled_before, &titles, candidates) {
        // One a mapping names is another pair's (its create recorded it): never ours to take.
        if deps
            .sync
            .mapping_by_remote(binding.remote, &candidate.id)
            .await?
            .is_none()
        {
            orphans.push(candidate);
        }
    }
    let mut orphans = orphans.into_iter();
    let adopted = orphans.next();
    if let Some(orphan) = &adopted {
        tracing::warn!(
            binding_id = %binding.id,
            task_id = %m.local_id,
            remote_id = %orphan.id,
            "adopting an unmarked task of this application: a create whose answer was lost"
        );
    }
    Ok((adopted, orphans.collect()))
}
