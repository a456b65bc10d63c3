//! A whole binding at once (after `missed`, a new binding, an operator's request, or the
//! scheduler's Planner sweep): list both sides, pair them through the mappings, decide every
//! pair, then apply. Listing is the change feed here, so absence from a complete listing means
//! deleted; the mass-deletion guard (DESIGN.md principle 6) holds back the deletions when they
//! would remove more than a safe share of the binding at once.

use std::collections::{BTreeMap, BTreeSet};

use super::pair::{
    PairKey, adopt_orphans, claim_is_fresh, exec_failure, graph_failure, rules_of, sync_pair,
};
use super::{MessageOutcome, ResyncReport, SyncStore, TaskStore, WorkerDeps, WorkerError};
use crate::graph::GraphError;
use crate::model::{Binding, LocalTask};
use crate::sync::{
    ExecDeps, ExecError, Executed, LocalSide, MappingState, Pair, Plan, RemoteTask, RemoteTasks,
    execute, reconcile,
};

pub(super) async fn resync<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding: &Binding,
) -> Result<ResyncReport, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
{
    let rules = rules_of(binding);
    let remote = match deps.graph.list(binding, &rules).await {
        Ok(r) => r,
        Err(GraphError::NotFound) => {
            return Err(WorkerError::Binding {
                binding_id: binding.id.clone(),
                reason: format!(
                    "the bound {:?} container {} no longer exists (404)",
                    binding.remote, binding.remote_container_id
                ),
            });
        }
        Err(e) => return Err(graph_failure(binding, e)),
    };
    let mut locals: BTreeMap<String, Result<LocalTask, String>> = BTreeMap::new();
    for item in deps.tasks.list_tasks(&binding.local_list_id).await? {
        match item {
            Ok(t) => {
                locals.insert(t.id.clone(), Ok(t));
            }
            Err(bad) => {
                locals.insert(bad.task_id, Err(bad.reason));
            }
        }
    }

    // Decide every pair first, so the guard sees the whole picture.
    let mut decided: Vec<(Pair, Option<String>, Plan)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    // Unmarked tasks this application created that no mapping names: orphans of creates whose
    // answer was lost, for their claims below (they are never imported).
    let mut own_unmarked: Vec<RemoteTask> = Vec::new();
    for task in remote {
        let mut mapping = deps
            .sync
            .mapping_by_remote(binding.remote, &task.id)
            .await?;
        if mapping.is_none() && task.marker.is_none() && task.created_by_this_app {
            own_unmarked.push(task.clone());
        }
        let local_id = match (&mapping, &task.marker) {
            (Some(m), _) => m.local_id.clone(),
            (None, Some(marker)) => marker.clone(),
            (None, None) => task.id.clone(),
        };
        if mapping.is_none() {
            mapping = deps
                .sync
                .mapping_by_local(&binding.local_list_id, &local_id)
                .await?;
            if mapping
                .as_ref()
                .is_some_and(|m| m.remote_id.as_ref().is_some_and(|id| *id != task.id))
            {
                tracing::warn!(remote_id = %task.id, %local_id, "remote task whose local task maps elsewhere; left alone");
                continue;
            }
        }
        seen.insert(local_id.clone());
        let (local, invalid) = match locals.get(&local_id) {
            Some(Ok(t)) => (Some(t.clone()), None),
            Some(Err(reason)) => (None, Some(reason.clone())),
            None => (None, None),
        };
        let pair = Pair {
            local_id,
            local,
            remote: Some(task),
            mapping,
            redundant_orphans: Vec::new(),
        };
        let plan = decide(binding, &rules, &pair, invalid.as_deref());
        decided.push((pair, invalid, plan));
    }
    for (local_id, item) in &locals {
        if seen.contains(local_id) {
            continue;
        }
        let mapping = deps
            .sync
            .mapping_by_local(&binding.local_list_id, local_id)
            .await?;
        let (local, invalid) = match item {
            Ok(t) => (Some(t.clone()), None),
            Err(reason) => (None, Some(reason.clone())),
        };
        // Unmapped and soft-deleted, or a tombstone: nothing to look at.
        if mapping.is_none() && local.as_ref().is_some_and(|t| t.deleted) {
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
            if claim_is_fresh(deps, m) {
                tracing::info!(task_id = %local_id, "being created by another worker; left to it");
                continue;
            }
            (remote, redundant_orphans) = adopt_orphans(
                deps,
                binding,
                &rules,
                m,
                local.as_ref(),
                own_unmarked.clone(),
            )
            .await?;
            let taken: BTreeSet<&str> = remote
                .iter()
                .chain(&redundant_orphans)
                .map(|t| t.id.as_str())
                .collect();
            if !taken.is_empty() {
                own_unmarked.retain(|t| !taken.contains(t.id.as_str()));
                // Their "left for its create" entries are this pair now.
                decided.retain(|(p, _, _)| {
                    p.mapping.is_some()
                        || p.remote
                            .as_ref()
                            .is_none_or(|r| !taken.contains(r.id.as_str()))
                });
            }
        }
        let pair = Pair {
            local_id: local_id.clone(),
            local,
            remote,
            mapping,
            redundant_orphans,
        };
        let plan = decide(binding, &rules, &pair, invalid.as_deref());
        decided.push((pair, invalid, plan));
    }

    let mapped = decided
        .iter()
        .filter(|(p, _, _)| {
            p.mapping
                .as_ref()
                .is_some_and(|m| m.state == MappingState::Active)
        })
        .count();
    let deletions = decided
        .iter()
        .filter(|(_, _, plan)| matches!(plan, Plan::DeleteLocal | Plan::DeleteRemote))
        .count();
    let hold_deletions = deps.settings.deletion_guard.blocks(deletions, mapped);
    if hold_deletions {
        tracing::error!(
            binding_id = %binding.id,
            deletions,
            mapped,
            "resync would delete more than the safe share of the binding at once: deletions held back, check the binding"
        );
    }

    let mut report = ResyncReport::default();
    let exec = ExecDeps {
        sync: &deps.sync,
        tasks: &deps.tasks,
        graph: &deps.graph,
    };
    for (pair, _invalid, plan) in decided {
        report.pairs += 1;
        if hold_deletions && matches!(plan, Plan::DeleteLocal | Plan::DeleteRemote) {
            report.deletions_held += 1;
            continue;
        }
        if let Plan::Nothing { .. } = plan {
            report.unchanged += 1;
            continue;
        }
        let result = match execute(&exec, binding, &rules, &pair, &plan).await {
            Err(ExecError::Stale(_)) => {
                // Someone wrote in between: this pair alone, read again.
                // A create's pair by its local key: its orphan has no marker to lead back.
                let creating = pair
                    .mapping
                    .as_ref()
                    .is_some_and(|m| m.state == MappingState::Creating);
                let key = match &pair.remote {
                    Some(r) if !creating => PairKey::Remote(r.id.clone()),
                    _ => PairKey::Local(pair.local_id.clone()),
                };
                sync_pair(deps, binding, key).await.map(|o| match o {
                    MessageOutcome::Synced(done) => done,
                    _ => Executed::Nothing,
                })
            }
            Err(e) => Err(exec_failure(binding, e)),
            Ok(done) => Ok(done),
        };
        match result {
            Ok(Executed::Nothing) => report.unchanged += 1,
            Ok(_) => report.changed += 1,
            Err(e @ (WorkerError::Retry { after: Some(_), .. } | WorkerError::Binding { .. })) => {
                // Throttled or the binding is broken: stop here; the whole resync is retried
                // (pairs already done reconcile to nothing).
                return Err(e);
            }
            Err(e) => {
                tracing::warn!(task_id = %pair.local_id, error = %e, "pair failed during resync");
                report.failed += 1;
            }
        }
    }
    if report.failed > 0 {
        return Err(WorkerError::Retry {
            reason: format!(
                "{} of {} pairs failed during resync",
                report.failed, report.pairs
            ),
            after: None,
        });
    }
    Ok(report)
}

fn decide(
    binding: &Binding,
    rules: &crate::sync::SideRules,
    pair: &Pair,
    invalid: Option<&str>,
) -> Plan {
    let local = match (invalid, &pair.local) {
        (Some(reason), _) => LocalSide::Invalid(reason),
        (None, Some(t)) => LocalSide::Present(t),
        (None, None) => LocalSide::Missing,
    };
    reconcile(
        binding,
        rules,
        local,
        pair.remote.as_ref(),
        pair.mapping.as_ref(),
    )
}
