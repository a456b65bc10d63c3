//! `tasksync bindings remove`: the binding and everything tasksync keeps for it, never a task.
//! The Graph subscriptions on its To Do list (those its records and schedule name, and any the
//! app holds on that very list: one container has one binding), then every sync-table item that
//! names the binding (mappings, schedule, subscription records, sync issues, dead-letter
//! reasons), then the binding item. The binding is paused first, so the worker and the sweeps
//! leave it alone meanwhile; a removal stopped half-way is finished by running it again.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use serde::Serialize;

use super::BindingError;
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, RemoteKind};
use crate::ports::{BindingFlags, BindingLeftovers, BindingLookup, ScheduleStore, SyncItemKey};
use crate::store::item::SUBSCRIPTION_TYPE;

/// What a removal deletes (or, with `--dry-run`, would delete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    pub binding_id: String,
    /// Graph subscription ids.
    pub subscriptions: Vec<String>,
    /// Sync-table items naming the binding, by item type (`mapping` counts both items of a pair).
    pub items: BTreeMap<String, usize>,
    pub dry_run: bool,
}

/// Removes `binding_id` (or, with `dry_run`, only says what would go).
pub async fn remove<S>(
    store: &S,
    graph: &GraphClient,
    binding_id: &str,
    dry_run: bool,
) -> Result<Removal, BindingError>
where
    S: BindingLookup + BindingFlags + BindingLeftovers + ScheduleStore,
{
    let Some(binding) = store.find_binding(binding_id).await? else {
        return Err(BindingError::NoSuchBinding(binding_id.to_owned()));
    };
    let items = store.items_of_binding(binding_id).await?;
    let subscriptions = subscriptions_of(store, graph, &binding, &items).await?;
    let mut counts = BTreeMap::new();
    for key in &items {
        *counts.entry(key.sk.clone()).or_insert(0) += 1;
    }
    let removal = Removal {
        binding_id: binding_id.to_owned(),
        subscriptions: subscriptions.into_iter().collect(),
        items: counts,
        dry_run,
    };
    if dry_run {
        return Ok(removal);
    }
    store
        .set_binding_paused(binding_id, Some(Utc::now()))
        .await?;
    for id in &removal.subscriptions {
        match graph.subscriptions().delete(id).await {
            Ok(()) | Err(GraphError::NotFound) => {}
            Err(e) => {
                return Err(BindingError::graph(
                    format!("deleting subscription {id}"),
                    e,
                ));
            }
        }
    }
    for key in &items {
        store.delete_sync_item(key).await?;
    }
    store.delete_binding(binding_id).await?;
    Ok(removal)
}

/// The Graph subscriptions of the binding: its records, its schedule's, and those the app holds
/// on its To Do list.
async fn subscriptions_of<S>(
    store: &S,
    graph: &GraphClient,
    binding: &Binding,
    items: &[SyncItemKey],
) -> Result<BTreeSet<String>, BindingError>
where
    S: ScheduleStore,
{
    let prefix = format!("{SUBSCRIPTION_TYPE}#");
    let mut ids: BTreeSet<String> = items
        .iter()
        .filter(|k| k.sk == SUBSCRIPTION_TYPE)
        .filter_map(|k| k.pk.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    if let Some(id) = store
        .get_schedule(&binding.id)
        .await?
        .and_then(|s| s.subscription_id)
    {
        ids.insert(id);
    }
    if binding.remote == RemoteKind::Todo {
        let resource = format!(
            "users/{}/todo/lists/{}/tasks",
            binding.user_id, binding.remote_container_id
        );
        let listed = graph
            .subscriptions()
            .list()
            .await
            .map_err(|e| BindingError::graph("listing the app's subscriptions", e))?;
        ids.extend(
            listed
                .into_iter()
                .filter(|s| {
                    s.resource
                        .trim_start_matches('/')
                        .eq_ignore_ascii_case(&resource)
                })
                .map(|s| s.id),
        );
    }
    Ok(ids)
}
