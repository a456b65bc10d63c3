//! One pair's life: read both sides and the mapping now (hints are never data), decide, apply;
//! after a lost race (412/409, a conditional write that failed, a task that vanished between
//! the read and the write) read again and decide again, a bounded number of times.

use chrono::Utc;

use super::echo::local_hint_needs_no_remote_read;
use super::executor::{Executed, execute};
use super::failure::SyncFailure;
use super::local_state::LocalState;
use super::mapping::Mapping;
use super::orphans::remote_of_claim;
use super::plan::Plan;
use super::reconcile::reconcile;
use super::remote::RemoteTask;
use super::resolve::{Resolution, resolve_remote};
use super::scope::Scope;
use crate::ports::{MappingStore, SyncRecords, TaskRead, TaskWriteIfVersion};

/// Which side a hint named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairKey {
    Remote(String),
    Local(String),
}

/// Everything known about one pair when its plan was made.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The local task's id within the binding's local list.
    pub local_id: String,
    pub local: LocalState,
    pub remote: Option<RemoteTask>,
    pub mapping: Option<Mapping>,
    /// Further orphans of this pair's create (unmarked, ours, same title, created since the
    /// claim; `remote` is the oldest): the adoption deletes them first (docs/sync-engine.md,
    /// "Crash points and races").
    pub redundant_orphans: Vec<RemoteTask>,
}

impl Pair {
    pub(crate) fn decide<S, T>(&self, scope: &Scope<'_, S, T>) -> Plan {
        reconcile(
            scope.binding,
            &scope.rules,
            &self.local,
            self.remote.as_ref(),
            self.mapping.as_ref(),
        )
    }
}

/// What reading the pair a hint names found (returned once per round, never stored).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Read {
    Pair(Pair),
    /// Nothing to do, known without reading (all of) the remote side.
    Settled(&'static str),
}

pub(crate) async fn sync_pair<S, T>(
    scope: &Scope<'_, S, T>,
    key: &PairKey,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskRead + TaskWriteIfVersion,
{
    let rounds = scope.settings.max_merge_rounds.max(1);
    let mut last_stale = String::new();
    let mut local_id = None;
    for _ in 0..rounds {
        let pair = match read_pair(scope, key).await? {
            Read::Pair(pair) => pair,
            Read::Settled(_) => return Ok(Executed::Nothing),
        };
        local_id = Some(pair.local_id.clone());
        let plan = pair.decide(scope);
        tracing::debug!(plan = ?plan, "plan");
        match execute(scope, &pair, &plan).await {
            Err(SyncFailure::Stale { reason }) => {
                tracing::info!(%reason, "lost a race; reading both sides again");
                last_stale = reason;
            }
            other => return other,
        }
    }
    let reason = format!("still racing after {rounds} rounds: {last_stale}");
    if let Some(local_id) = local_id {
        record_last_error(scope, &local_id, &reason).await;
    }
    Err(SyncFailure::Retry {
        reason,
        after: None,
    })
}

/// What the engine would do for one pair, without writing anything (it reads both sides and the
/// mapping like a real run).
pub(crate) async fn dry_run<S, T>(
    scope: &Scope<'_, S, T>,
    key: &PairKey,
) -> Result<Plan, SyncFailure>
where
    S: MappingStore,
    T: TaskRead,
{
    Ok(match read_pair(scope, key).await? {
        Read::Pair(pair) => pair.decide(scope),
        Read::Settled(why) => Plan::Nothing { why },
    })
}

/// Puts why the pair could not be settled on its mapping (`last_error`, which the CLI shows),
/// not only in the dead-letter record the last receive writes. Best effort: the message is
/// retried either way, and a mapping that changed meanwhile means the race is moving.
async fn record_last_error<S: MappingStore, T>(
    scope: &Scope<'_, S, T>,
    local_id: &str,
    reason: &str,
) {
    let list = &scope.binding.local_list_id;
    let mapping = match scope.sync.mapping_by_local(list, local_id).await {
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
    if let Err(e) = scope
        .sync
        .save_mapping(&next, Some(mapping.revision), None)
        .await
    {
        tracing::warn!(error = %e, "could not record the failure on the mapping");
    }
}

/// Reads the pair a hint names.
async fn read_pair<S, T>(scope: &Scope<'_, S, T>, key: &PairKey) -> Result<Read, SyncFailure>
where
    S: MappingStore,
    T: TaskRead,
{
    let list = &scope.binding.local_list_id;
    match key {
        PairKey::Remote(remote_id) => {
            let remote = scope.remote.get(remote_id).await?;
            let marker = remote.as_ref().and_then(|r| r.marker.as_deref());
            let resolved = match resolve_remote(scope, remote_id, marker).await? {
                Resolution::Pair(resolved) => resolved,
                Resolution::MapsElsewhere => {
                    return Ok(Read::Settled(
                        "a stray copy: its local task is paired with another remote task",
                    ));
                }
            };
            let local = LocalState::read(scope.tasks, list, &resolved.local_id).await?;
            Ok(Read::Pair(Pair {
                local_id: resolved.local_id,
                local,
                remote,
                mapping: resolved.mapping,
                redundant_orphans: Vec::new(),
            }))
        }
        PairKey::Local(local_id) => {
            let mapping = scope.sync.mapping_by_local(list, local_id).await?;
            let local = LocalState::read(scope.tasks, list, local_id).await?;
            if let Some(why) = local_hint_needs_no_remote_read(&local, mapping.as_ref()) {
                return Ok(Read::Settled(why));
            }
            let (remote, redundant_orphans) = match &mapping {
                None => (None, Vec::new()),
                Some(m) => match &m.remote_id {
                    Some(id) => (scope.remote.get(id).await?, Vec::new()),
                    None => remote_of_claim(scope, m, local.task()).await?,
                },
            };
            Ok(Read::Pair(Pair {
                local_id: local_id.clone(),
                local,
                remote,
                mapping,
                redundant_orphans,
            }))
        }
    }
}
