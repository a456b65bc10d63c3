//! A whole binding at once (after `missed`, a new binding, an operator's request): list both
//! sides, pair them through the mappings, decide every pair, then apply. Listing is the change
//! feed here, so absence from a complete listing means deleted; the mass-deletion guard holds
//! back the deletions when they would remove more than a safe share of the binding at once.

use std::collections::{BTreeMap, BTreeSet};

use super::cold_start;
use super::executor::{Executed, execute};
use super::failure::SyncFailure;
use super::local_state::LocalState;
use super::mapping::MappingState;
use super::orphans::{adopt_orphans, claim_is_fresh};
use super::pair::{Pair, PairKey, sync_pair};
use super::plan::Plan;
use super::remote::RemoteTask;
use super::resolve::{Resolution, resolve_remote};
use super::resync_plan::{PairedBy, PlannedPair, ResyncPlan};
use super::scope::Scope;
use crate::ports::{MappingStore, SyncRecords, TaskList, TaskRead, TaskWriteIfVersion};

/// What a resync did, pair by pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResyncReport {
    pub pairs: u32,
    pub changed: u32,
    pub unchanged: u32,
    pub failed: u32,
    /// Deletions held back by the mass-deletion guard.
    pub deletions_held: u32,
    /// Pairs linked by cold-start matching (the binding's first sync).
    pub matched_by_title: u32,
    /// Pairs deliberately not synced (completed before the first sync, the direction); nothing
    /// was written for them.
    pub skipped: u32,
}

/// How a resync runs, beside the binding itself.
#[derive(Clone, Copy, Default)]
pub struct ResyncOptions<'a> {
    /// Re-compare every pair's fields with its base, as if neither side's recorded ETag or
    /// version told that it was the sync's own write (docs/bindings.md, `tasksync sync --full`).
    pub full: bool,
    /// Told `(pairs done, pairs in all)` after each pair is applied (a progress bar).
    pub progress: Option<&'a (dyn Fn(u64, u64) + Send + Sync)>,
}

/// Every pair of a binding with its plan, decided before anything is applied.
struct Decided {
    pairs: Vec<(Pair, Plan)>,
    /// Remote ids of the pairs cold-start matching made.
    by_title: BTreeSet<String>,
}

impl Decided {
    fn is_deletion(plan: &Plan) -> bool {
        matches!(plan, Plan::DeleteLocal | Plan::DeleteRemote)
    }

    /// Whether the mass-deletion guard holds back this resync's deletions.
    fn holds_deletions<S, T>(&self, scope: &Scope<'_, S, T>) -> bool {
        let mapped = self
            .pairs
            .iter()
            .filter(|(p, _)| {
                p.mapping
                    .as_ref()
                    .is_some_and(|m| m.state == MappingState::Active)
            })
            .count();
        let deletions = self
            .pairs
            .iter()
            .filter(|(_, plan)| Self::is_deletion(plan))
            .count();
        let hold = scope.settings.deletion_guard.blocks(deletions, mapped);
        if hold {
            tracing::error!(
                binding_id = %scope.binding.id,
                deletions,
                mapped,
                "resync would delete more than the safe share of the binding at once: deletions held back, check the binding"
            );
        }
        hold
    }
}

/// What [`resync`] would do, pair by pair, without writing anything: the same listing, pairing
/// and decisions.
pub(crate) async fn plan<S, T>(
    scope: &Scope<'_, S, T>,
    full: bool,
) -> Result<ResyncPlan, SyncFailure>
where
    S: MappingStore,
    T: TaskList,
{
    let decided = decide_all(scope, full).await?;
    let deletions_held = decided.holds_deletions(scope);
    let pairs = decided
        .pairs
        .iter()
        .map(|(pair, plan)| {
            let paired_by = match (&pair.mapping, &pair.remote) {
                (Some(_), _) => PairedBy::Mapping,
                (None, Some(r)) if decided.by_title.contains(&r.id) => PairedBy::Title,
                (None, Some(r)) if r.marker.as_deref() == Some(pair.local_id.as_str()) => {
                    PairedBy::Marker
                }
                _ => PairedBy::Unpaired,
            };
            PlannedPair::new(pair, paired_by, plan, deletions_held)
        })
        .collect();
    Ok(ResyncPlan {
        pairs,
        deletions_held,
    })
}

pub(crate) async fn resync<S, T>(
    scope: &Scope<'_, S, T>,
    options: ResyncOptions<'_>,
) -> Result<ResyncReport, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskRead + TaskWriteIfVersion + TaskList,
{
    let decided = decide_all(scope, options.full).await?;
    let hold_deletions = decided.holds_deletions(scope);
    let mut report = ResyncReport {
        matched_by_title: u32::try_from(decided.by_title.len()).unwrap_or(u32::MAX),
        ..ResyncReport::default()
    };
    let total = decided.pairs.len() as u64;
    let tell = |done: u32| {
        if let Some(progress) = options.progress {
            progress(u64::from(done), total);
        }
    };
    for (pair, plan) in decided.pairs {
        report.pairs += 1;
        tell(report.pairs - 1);
        if hold_deletions && Decided::is_deletion(&plan) {
            report.deletions_held += 1;
            continue;
        }
        if let Plan::Nothing { .. } = plan {
            report.unchanged += 1;
            continue;
        }
        let result = match execute(scope, &pair, &plan).await {
            Err(SyncFailure::Stale { .. }) => {
                // Someone wrote in between: this pair alone, read again. A create's pair by its
                // local key: its orphan has no marker to lead back.
                let creating = pair
                    .mapping
                    .as_ref()
                    .is_some_and(|m| m.state == MappingState::Creating);
                let key = match &pair.remote {
                    Some(r) if !creating => PairKey::Remote(r.id.clone()),
                    _ => PairKey::Local(pair.local_id.clone()),
                };
                sync_pair(scope, &key).await
            }
            other => other,
        };
        match result {
            Ok(Executed::Nothing) => report.unchanged += 1,
            Ok(Executed::Skipped { .. }) => report.skipped += 1,
            Ok(_) => report.changed += 1,
            // Throttled or the binding is broken: stop here; the whole resync is retried (pairs
            // already done reconcile to nothing).
            Err(e) if e.stops_the_binding() => return Err(e),
            Err(e) => {
                tracing::warn!(task_id = %pair.local_id, error = %e, "pair failed during resync");
                report.failed += 1;
            }
        }
    }
    tell(report.pairs);
    if report.failed > 0 {
        return Err(SyncFailure::Retry {
            reason: format!(
                "{} of {} pairs failed during resync",
                report.failed, report.pairs
            ),
            after: None,
        });
    }
    Ok(report)
}

/// Every pair of the binding with its plan, decided before anything is applied so that the
/// guard sees the whole picture. `full`: no recorded ETag or version counts as an echo.
async fn decide_all<S, T>(scope: &Scope<'_, S, T>, full: bool) -> Result<Decided, SyncFailure>
where
    S: MappingStore,
    T: TaskList,
{
    let remote = scope.remote.list().await?;
    let locals: BTreeMap<String, LocalState> = scope
        .tasks
        .list_tasks(&scope.binding.local_list_id)
        .await?
        .into_iter()
        .map(LocalState::of_listed)
        .collect();
    let by_title = cold_start::matches(scope, &remote, &locals).await?;

    let mut decided: Vec<(Pair, Plan)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    // Unmarked tasks this application created that no mapping names: orphans of creates whose
    // answer was lost, for their claims below (they are never imported).
    let mut own_unmarked: Vec<RemoteTask> = Vec::new();
    for task in remote {
        if let Some(local_id) = by_title.get(&task.id)
            && let Some(LocalState::Present(local)) = locals.get(local_id)
        {
            let plan = cold_start::plan(scope, local, &task);
            seen.insert(local_id.clone());
            let pair = Pair {
                local_id: local_id.clone(),
                local: LocalState::Present(local.clone()),
                remote: Some(task),
                mapping: None,
                redundant_orphans: Vec::new(),
            };
            decided.push((pair, plan));
            continue;
        }
        let resolved = match resolve_remote(scope, &task.id, task.marker.as_deref()).await? {
            Resolution::Pair(resolved) => resolved,
            Resolution::MapsElsewhere => continue,
        };
        if !resolved.mapped && task.marker.is_none() && task.created_by_this_app {
            own_unmarked.push(task.clone());
        }
        seen.insert(resolved.local_id.clone());
        let pair = Pair {
            local: locals
                .get(&resolved.local_id)
                .cloned()
                .unwrap_or(LocalState::Missing),
            local_id: resolved.local_id,
            remote: Some(task),
            mapping: resolved.mapping.map(|m| without_echoes(m, full)),
            redundant_orphans: Vec::new(),
        };
        let plan = pair.decide(scope);
        decided.push((pair, plan));
    }
    for (local_id, local) in locals {
        if seen.contains(&local_id) {
            continue;
        }
        let mapping = scope
            .sync
            .mapping_by_local(&scope.binding.local_list_id, &local_id)
            .await?
            .map(|m| without_echoes(m, full));
        // Unmapped and soft-deleted, or a tombstone: nothing to look at.
        if mapping.is_none() && local.task().is_some_and(|t| t.deleted) {
            continue;
        }
        // A create that recorded no remote id: still running elsewhere (leave it), or stopped
        // after a POST whose answer was lost (adopt its orphan from this listing, as the retry
        // of the create would).
        let (mut remote, mut redundant_orphans) = (None, Vec::new());
        if let Some(m) = mapping
            .as_ref()
            .filter(|m| m.state == MappingState::Creating && m.remote_id.is_none())
        {
            if claim_is_fresh(m, scope.settings.claim_patience) {
                tracing::info!(task_id = %local_id, "being created by another worker; left to it");
                continue;
            }
            (remote, redundant_orphans) =
                adopt_orphans(scope, m, local.task(), own_unmarked.clone()).await?;
            let taken: BTreeSet<&str> = remote
                .iter()
                .chain(&redundant_orphans)
                .map(|t| t.id.as_str())
                .collect();
            if !taken.is_empty() {
                own_unmarked.retain(|t| !taken.contains(t.id.as_str()));
                // Their "left for its create" entries are this pair now.
                decided.retain(|(p, _)| {
                    p.mapping.is_some()
                        || p.remote
                            .as_ref()
                            .is_none_or(|r| !taken.contains(r.id.as_str()))
                });
            }
        }
        let pair = Pair {
            local_id,
            local,
            remote,
            mapping,
            redundant_orphans,
        };
        let plan = pair.decide(scope);
        decided.push((pair, plan));
    }
    Ok(Decided {
        pairs: decided,
        by_title: by_title.into_keys().collect(),
    })
}

/// With `full`, an active mapping without the ETags and version it recorded: neither side then
/// counts as the sync's own write, and every field is compared with the base. The revision
/// stays, so the writes remain conditional on the mapping read.
fn without_echoes(mut m: super::mapping::Mapping, full: bool) -> super::mapping::Mapping {
    if full && m.state == MappingState::Active {
        m.task_etag = None;
        m.details_etag = None;
        m.local_version = 0;
    }
    m
}
