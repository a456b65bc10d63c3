//! Applies a [`Plan`]: the only part of the engine that writes. Each step is ordered so that a
//! crash between two writes leaves a state the next reconcile finishes without a duplicate or a
//! lost edit (docs/sync-engine.md, "Crash points"):
//!
//! - create: claim the mapping (conditional put, state `creating`), create the remote task, and
//!   record the mapping. To Do's create carries the marker, so a crash after it is found by the
//!   marker. Planner's POST cannot carry it (it lives in the task details), so its id is
//!   recorded on the claim before the details write that marks it: a failure or a crash after
//!   the POST resumes that task (`Merge::mark`) instead of creating a second one. A POST whose
//!   answer was lost leaves an unrecorded, unmarked task: the retry adopts it as an orphan
//!   (`worker::pair`, docs/sync-engine.md "Crash points and races") and deletes any others.
//! - merge: patch the remote task (If-Match on Planner), write the local item (conditional on
//!   the version read), record the mapping (conditional on the revision read). A crash in
//!   between leaves sides that already agree with the merged values, which reconcile to a
//!   mapping write only.

use chrono::Utc;

use super::fields::{FieldMap, SideRules, apply_to_local};
use super::mapping::{Conflict, Mapping, MappingState};
use super::reconcile::{LEFT_FOR_ITS_CREATE, Merge, Plan, RemoteTask};
use super::records::SyncIssue;
use super::remote::RemoteTasks;
use crate::graph::GraphError;
use crate::model::{Binding, LocalTask, Origin};
use crate::ports::{MappingStore, StoreError, SyncRecords, TaskWriteIfVersion};

/// Everything known about one pair when the plan was made.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The local task's id within the binding's local list.
    pub local_id: String,
    /// The local item as read (`None`: missing or invalid).
    pub local: Option<LocalTask>,
    pub remote: Option<RemoteTask>,
    pub mapping: Option<Mapping>,
    /// Further orphans of this pair's create (unmarked, ours, same title, created since the
    /// claim; `remote` is the oldest): the adoption deletes them first (docs/sync-engine.md,
    /// "Crash points and races").
    pub redundant_orphans: Vec<RemoteTask>,
}

/// What the executor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    Nothing,
    Skipped {
        why: String,
    },
    RecordedInvalid {
        reason: String,
    },
    /// Graph refused the task (400, quota 403): recorded on the pair, the rest goes on.
    Refused {
        reason: String,
    },
    CreatedRemote {
        remote_id: String,
    },
    CreatedLocal {
        local_id: String,
    },
    Merged {
        wrote_local: bool,
        patched_remote: bool,
        conflicts: Vec<Conflict>,
    },
    DeletedLocal,
    DeletedRemote,
    Forgot,
}

/// Why applying a plan stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Someone else wrote first (a 412/409 from Planner, a lost conditional write): re-read
    /// both sides and decide again.
    #[error("stale: {0}")]
    Stale(String),
    /// The bound list or plan is gone (a create answered 404): the binding is broken, not the
    /// task.
    #[error("the bound container is gone: {0}")]
    ContainerGone(String),
    #[error(transparent)]
    Graph(GraphError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<GraphError> for ExecError {
    fn from(e: GraphError) -> Self {
        match e {
            GraphError::Conflict { status } => {
                ExecError::Stale(format!("Graph answered {status}: the task changed"))
            }
            other => ExecError::Graph(other),
        }
    }
}

impl From<StoreError> for ExecError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed(reason) => ExecError::Stale(reason),
            other => ExecError::Store(other),
        }
    }
}

/// A Graph refusal that concerns this task only (graph-facts §0, §2.8), not the binding.
fn item_refusal(e: &GraphError) -> Option<String> {
    match e {
        GraphError::BadRequest { .. } => Some(e.to_string()),
        GraphError::Forbidden { .. } if e.is_quota() => Some(e.to_string()),
        _ => None,
    }
}

/// The stores and Graph, as the executor needs them.
pub struct ExecDeps<'a, S, T, G> {
    pub sync: &'a S,
    pub tasks: &'a T,
    pub graph: &'a G,
}

/// Applies `plan` to `pair`.
pub async fn execute<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    rules: &SideRules,
    pair: &Pair,
    plan: &Plan,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
    G: RemoteTasks,
{
    match plan {
        Plan::Nothing { .. } => Ok(Executed::Nothing),
        Plan::Skip { why } => {
            if why == LEFT_FOR_ITS_CREATE
                && let Some(remote) = &pair.remote
            {
                tracing::warn!(
                    binding_id = %binding.id,
                    remote_id = %remote.id,
                    "unmarked task created by this application: not imported, left for its create's retry to adopt"
                );
            }
            Ok(Executed::Skipped { why: why.clone() })
        }
        Plan::RecordInvalid { reason } => record_invalid(deps, binding, pair, reason).await,
        Plan::CreateRemote { fields } => create_remote(deps, binding, rules, pair, fields).await,
        Plan::CreateLocal { fields } => create_local(deps, binding, pair, fields).await,
        Plan::Merge(merge) => apply_merge(deps, binding, rules, pair, merge).await,
        Plan::DeleteLocal => delete_local(deps, binding, pair).await,
        Plan::DeleteRemote => delete_remote(deps, binding, pair).await,
        Plan::Forget => {
            if let Some(m) = &pair.mapping
                && m.state != MappingState::Deleted
            {
                let mut next = m.clone();
                next.state = MappingState::Deleted;
                next.updated_at = Utc::now();
                deps.sync
                    .save_mapping(&next, Some(m.revision), None)
                    .await?;
            }
            Ok(Executed::Forgot)
        }
    }
}

fn new_mapping(binding: &Binding, local_id: &str) -> Mapping {
    Mapping::claim(
        &binding.id,
        &binding.local_list_id,
        local_id,
        binding.remote,
        Utc::now(),
    )
}

async fn record_invalid<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    pair: &Pair,
    reason: &str,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
{
    tracing::warn!(
        binding_id = %binding.id,
        list_id = %binding.local_list_id,
        task_id = %pair.local_id,
        reason,
        "task item breaks the contract: not synced"
    );
    deps.sync
        .record_sync_issue(&SyncIssue {
            list_id: binding.local_list_id.clone(),
            task_id: pair.local_id.clone(),
            binding_id: binding.id.clone(),
            reason: reason.to_owned(),
            at: Utc::now(),
        })
        .await?;
    if let Some(m) = &pair.mapping
        && m.last_error.as_deref() != Some(reason)
    {
        let mut next = m.clone();
        next.last_error = Some(reason.to_owned());
        next.updated_at = Utc::now();
        deps.sync
            .save_mapping(&next, Some(m.revision), None)
            .await?;
    }
    Ok(Executed::RecordedInvalid {
        reason: reason.to_owned(),
    })
}

/// Records a Graph refusal of this task on the pair (issue + mapping), so the CLI shows it.
async fn record_refusal<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    pair: &Pair,
    mapping: Option<(&Mapping, u64)>,
    reason: String,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
{
    tracing::warn!(binding_id = %binding.id, task_id = %pair.local_id, %reason, "Graph refused the task");
    deps.sync
        .record_sync_issue(&SyncIssue {
            list_id: binding.local_list_id.clone(),
            task_id: pair.local_id.clone(),
            binding_id: binding.id.clone(),
            reason: reason.clone(),
            at: Utc::now(),
        })
        .await?;
    if let Some((m, revision)) = mapping {
        let mut next = m.clone();
        next.last_error = Some(reason.clone());
        next.updated_at = Utc::now();
        deps.sync.save_mapping(&next, Some(revision), None).await?;
    }
    Ok(Executed::Refused { reason })
}

async fn create_remote<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    rules: &SideRules,
    pair: &Pair,
    fields: &FieldMap,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
    G: RemoteTasks,
{
    let Some(local) = &pair.local else {
        return Ok(Executed::Nothing);
    };
    // 1. Claim: only one worker may create the remote task of this local task.
    let mut claim = pair
        .mapping
        .clone()
        .unwrap_or_else(|| new_mapping(binding, &pair.local_id));
    let replaced_remote_id = claim.remote_id.take();
    claim.state = MappingState::Creating;
    claim.task_etag = None;
    claim.details_etag = None;
    // What is about to be sent: if the create's answer is lost, a retry recognises the orphan by
    // the title it was created with, even when the local task was renamed meanwhile
    // (`worker::pair::adopt_orphans`). Reconcile does not read a `creating` claim's base.
    claim.base = fields.clone();
    // A new claim is fresh: an earlier attempt's error would stop concurrent deliveries from
    // waiting for this create.
    claim.last_error = None;
    claim.updated_at = Utc::now();
    let expected = pair.mapping.as_ref().map(|m| m.revision);
    let claimed = deps.sync.save_mapping(&claim, expected, None).await?;
    claim.revision = claimed;

    // 2. Create, with the marker where the side takes it in the create (To Do).
    let canon: FieldMap = fields
        .iter()
        .filter_map(|(f, v)| rules.canon(*f, v).map(|c| (*f, c)))
        .collect();
    let created = match deps
        .graph
        .create(binding, rules, &pair.local_id, &canon)
        .await
    {
        Ok(created) => created,
        Err(GraphError::NotFound) => {
            return Err(ExecError::ContainerGone(format!(
                "creating a task in {:?} container {} answered 404",
                binding.remote, binding.remote_container_id
            )));
        }
        Err(e) => {
            if let Some(reason) = item_refusal(&e) {
                return record_refusal(deps, binding, pair, Some((&claim, claimed)), reason).await;
            }
            return Err(e.into());
        }
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
        match deps
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
                    deps.sync
                        .mapping_by_remote(binding.remote, &created.id)
                        .await,
                    Ok(Some(_))
                );
                if adopted {
                    tracing::warn!(remote_id = %created.id, "the new task was adopted by another attempt; kept");
                } else if let Err(d) = deps.graph.delete(binding, &created).await {
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
        match deps
            .graph
            .complete_create(binding, rules, &pair.local_id, &created, &rest)
            .await
        {
            Ok(remote) => remote,
            Err(e) => {
                if let Some(reason) = item_refusal(&e) {
                    return record_refusal(deps, binding, pair, Some((&claim, claimed)), reason)
                        .await;
                }
                // Gone meanwhile (a person deleted it): the retry reads no task and creates.
                if matches!(e, GraphError::NotFound) {
                    return Err(ExecError::Stale(format!(
                        "the new task {} vanished before it was marked",
                        created.id
                    )));
                }
                return Err(e.into());
            }
        }
    };

    // 4. Record.
    let mut active = claim.clone();
    active.remote_id = Some(remote.id.clone());
    active.task_etag = remote.task_etag.clone();
    active.details_etag = remote.details_etag.clone();
    active.local_version = local.version;
    active.base = fields.clone();
    active.state = MappingState::Active;
    active.last_error = None;
    active.updated_at = Utc::now();
    deps.sync
        .save_mapping(&active, Some(claimed), replaced_remote_id.as_deref())
        .await?;
    if let Err(e) = deps
        .sync
        .clear_sync_issue(&binding.local_list_id, &pair.local_id)
        .await
    {
        tracing::warn!(error = %e, "could not clear an old sync issue");
    }
    Ok(Executed::CreatedRemote {
        remote_id: remote.id,
    })
}

async fn create_local<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    pair: &Pair,
    fields: &FieldMap,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    let Some(remote) = &pair.remote else {
        return Ok(Executed::Nothing);
    };
    let mut task = LocalTask::new(
        &binding.local_list_id,
        &pair.local_id,
        String::new(),
        Origin::Sync,
    );
    apply_to_local(&mut task, fields, remote.completed_at);
    deps.tasks.put_task_if_version(&task, None).await?;
    let mut m = new_mapping(binding, &pair.local_id);
    m.remote_id = Some(remote.id.clone());
    m.task_etag = remote.task_etag.clone();
    m.details_etag = remote.details_etag.clone();
    m.local_version = task.version;
    m.base = fields.clone();
    m.state = MappingState::Active;
    deps.sync.save_mapping(&m, None, None).await?;
    Ok(Executed::CreatedLocal {
        local_id: pair.local_id.clone(),
    })
}

async fn apply_merge<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    rules: &SideRules,
    pair: &Pair,
    merge: &Merge,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
    G: RemoteTasks,
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
            tracing::warn!(binding_id = %binding.id, task_id = %pair.local_id, remote_id = %orphan.id, "deleting a redundant orphan of this task's create");
            deps.graph.delete(binding, orphan).await?;
        }
    }
    let patched = !merge.remote_patch.is_empty() || merge.mark;
    let remote_after = if patched {
        let written = if merge.mark {
            deps.graph
                .complete_create(binding, rules, &pair.local_id, remote, &merge.remote_patch)
                .await
        } else {
            deps.graph
                .patch(binding, rules, remote, &merge.remote_patch)
                .await
        };
        match written {
            Ok(r) => r,
            Err(e) => {
                if let Some(reason) = item_refusal(&e) {
                    let mapping = pair.mapping.as_ref().map(|m| (m, m.revision));
                    return record_refusal(deps, binding, pair, mapping, reason).await;
                }
                return Err(e.into());
            }
        }
    } else {
        remote.clone()
    };

    // 2. Local, conditional on the version read.
    let mut local_version = pair.local.as_ref().map_or(0, |t| t.version);
    let wrote_local = merge.local.is_some();
    if let Some(fields) = &merge.local {
        let (mut task, expected) = match &pair.local {
            Some(t) => (t.clone(), Some(t.version)),
            None => (
                LocalTask::new(
                    &binding.local_list_id,
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
        deps.tasks.put_task_if_version(&task, expected).await?;
        local_version = task.version;
    }

    // 3. The mapping, conditional on the revision read.
    let mut m = pair
        .mapping
        .clone()
        .unwrap_or_else(|| new_mapping(binding, &pair.local_id));
    let replaced = m.remote_id.clone();
    m.remote_id = Some(remote_after.id.clone());
    m.task_etag = remote_after.task_etag.clone();
    m.details_etag = remote_after.details_etag.clone();
    m.local_version = local_version;
    m.base = merge.base.clone();
    m.state = MappingState::Active;
    m.last_error = None;
    if !merge.conflicts.is_empty() {
        m.last_conflicts = merge.conflicts.clone();
        for c in &merge.conflicts {
            tracing::warn!(
                binding_id = %binding.id,
                task_id = %pair.local_id,
                field = c.field.as_str(),
                winner = ?c.winner,
                rule = %c.rule,
                "both sides changed a field: conflict settled"
            );
        }
    }
    m.updated_at = Utc::now();
    deps.sync
        .save_mapping(
            &m,
            pair.mapping.as_ref().map(|m| m.revision),
            replaced.as_deref(),
        )
        .await?;
    Ok(Executed::Merged {
        wrote_local,
        patched_remote: patched,
        conflicts: merge.conflicts.clone(),
    })
}

async fn delete_local<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    _binding: &Binding,
    pair: &Pair,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    let mut local_version = 0;
    if let Some(task) = &pair.local
        && !task.deleted
    {
        let mut next = task.clone();
        next.deleted = true;
        next.version = task.version + 1;
        next.origin = Origin::Sync;
        next.updated_at = Utc::now();
        deps.tasks
            .put_task_if_version(&next, Some(task.version))
            .await?;
        local_version = next.version;
    }
    if let Some(m) = &pair.mapping {
        let mut next = m.clone();
        next.state = MappingState::Deleted;
        next.local_version = local_version.max(m.local_version);
        next.updated_at = Utc::now();
        deps.sync
            .save_mapping(&next, Some(m.revision), None)
            .await?;
    }
    Ok(Executed::DeletedLocal)
}

async fn delete_remote<S, T, G>(
    deps: &ExecDeps<'_, S, T, G>,
    binding: &Binding,
    pair: &Pair,
) -> Result<Executed, ExecError>
where
    S: MappingStore + SyncRecords,
    G: RemoteTasks,
{
    if let Some(remote) = &pair.remote {
        deps.graph.delete(binding, remote).await?;
    }
    if let Some(m) = &pair.mapping {
        let mut next = m.clone();
        next.state = MappingState::Deleted;
        if let Some(t) = &pair.local {
            next.local_version = t.version;
        }
        next.updated_at = Utc::now();
        deps.sync
            .save_mapping(&next, Some(m.revision), None)
            .await?;
    }
    Ok(Executed::DeletedRemote)
}
