//! What handling one leased binding does: subscription upkeep, then the sweep when it is due or
//! forced, then the lease released with the next due time.

use chrono::{DateTime, Utc};

use super::{
    BindingOutcome, Lease, SchedulerDeps, SchedulerStore, SubscriptionRequest, backoff,
    subscription, sweep,
};
use crate::model::RemoteKind;
use crate::ports::{HintSend, StoreError};

/// Does what is due for a leased binding (subscription upkeep, then the sweep when due or
/// forced) and releases the lease with the next due time.
pub(super) async fn handle_leased<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    mut lease: Lease,
    now: DateTime<Utc>,
    request: &SubscriptionRequest,
    force_sweep: bool,
) -> Result<BindingOutcome, StoreError>
where
    S: SchedulerStore,
    Q: HintSend,
{
    let settings = &deps.settings;
    let binding = match deps.store.find_binding(&lease.schedule.binding_id).await {
        Ok(Some(binding)) => binding,
        Ok(None) => {
            remove_orphan(deps, &lease).await?;
            return Ok(BindingOutcome {
                subscription: None,
                sweep: None,
                removed: true,
            });
        }
        Err(e) => {
            lease.release(&deps.store, settings).await?;
            return Err(e);
        }
    };
    let schedule = &mut lease.schedule;
    let mut full_round = false;
    let subscription = if binding.remote == RemoteKind::Todo {
        let action = subscription::upkeep(
            &deps.store,
            &deps.graph,
            settings,
            &binding,
            schedule,
            now,
            request,
        )
        .await;
        if action.opened_a_gap() {
            // Nothing was delivered while there was no subscription: resync with delta now.
            schedule.next_sweep_at = now;
        }
        if matches!(request, SubscriptionRequest::Recreate { .. }) {
            full_round = true;
        }
        Some(action)
    } else {
        None
    };
    // A paused binding keeps its subscription but is not swept (docs/bindings.md).
    let sweep_due = binding.paused_at.is_none()
        && (force_sweep
            || (schedule.next_sweep_at <= now
                && schedule
                    .sweep_failure
                    .as_ref()
                    .is_none_or(|f| f.next_retry <= now)));
    let sweep = if sweep_due {
        let result = sweep::sweep_binding(
            &deps.store,
            &deps.queue,
            &deps.graph,
            settings,
            &binding,
            schedule,
            now,
            full_round || force_sweep,
        )
        .await;
        Some(match result {
            Ok(stats) => Ok(stats),
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!(binding_id = %binding.id, reason = %reason, "sweep failed");
                schedule.sweep_failure = Some(backoff(
                    schedule.sweep_failure.as_ref(),
                    reason.clone(),
                    e.retry_after(),
                    now,
                    settings,
                ));
                Err(reason)
            }
        })
    } else {
        None
    };
    lease.release(&deps.store, settings).await?;
    Ok(BindingOutcome {
        subscription,
        sweep,
        removed: false,
    })
}

async fn remove_orphan<S, Q>(deps: &SchedulerDeps<S, Q>, lease: &Lease) -> Result<(), StoreError>
where
    S: SchedulerStore,
{
    if let Some(id) = &lease.schedule.subscription_id {
        subscription::remove(&deps.store, &deps.graph, id).await;
    }
    deps.store
        .delete_schedule(&lease.schedule.binding_id, lease.schedule.revision)
        .await
}
