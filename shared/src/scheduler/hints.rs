//! Entry points for the worker's binding hints and the operator's approval: each acts on one
//! binding now, outside its schedule, under the same lease a scheduled run takes.

use chrono::{DateTime, Utc};

use super::binding::handle_leased;
use super::enroll::enroll;
use super::{
    BindingOutcome, Lease, LeaseError, SchedulerDeps, SchedulerStore, SubscriptionRequest,
};
use crate::ports::{HintSend, ScheduleStore, StoreError};

/// Why a worker's call could not act now; the worker retries the message later.
#[derive(Debug, thiserror::Error)]
pub enum HintError {
    #[error("binding {0} is being handled by a scheduler run; retry later")]
    Busy(String),
    #[error("binding {0} does not exist")]
    UnknownBinding(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes the binding's lease (enrolling it first if it has no schedule yet), does what `request`
/// asks and sweeps it in full.
async fn control<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    binding_id: &str,
    now: DateTime<Utc>,
    request: SubscriptionRequest,
) -> Result<BindingOutcome, HintError>
where
    S: SchedulerStore,
    Q: HintSend,
{
    let owner = format!("worker-{}", uuid::Uuid::new_v4().simple());
    let lease = match Lease::take(&deps.store, binding_id, &owner, now, &deps.settings).await {
        Ok(Some(lease)) => lease,
        Ok(None) => {
            // Not enrolled yet: enroll now (if the binding exists) and act on it.
            let binding = deps
                .store
                .find_binding(binding_id)
                .await?
                .ok_or_else(|| HintError::UnknownBinding(binding_id.to_owned()))?;
            match enroll(&deps.store, &binding, now).await {
                Ok(()) | Err(StoreError::ConditionFailed(_)) => {}
                Err(e) => return Err(e.into()),
            }
            Lease::take(&deps.store, binding_id, &owner, now, &deps.settings)
                .await
                .map_err(|e| match e {
                    LeaseError::Held => HintError::Busy(binding_id.to_owned()),
                    LeaseError::Store(e) => HintError::Store(e),
                })?
                .ok_or_else(|| HintError::UnknownBinding(binding_id.to_owned()))?
        }
        Err(LeaseError::Held) => return Err(HintError::Busy(binding_id.to_owned())),
        Err(LeaseError::Store(e)) => return Err(e.into()),
    };
    Ok(handle_leased(deps, lease, now, &request, true).await?)
}

/// The binding hints share one signature: the binding, the one string the hint carries, and the
/// time; each hands [`control`] the subscription request the hint stands for.
macro_rules! binding_hint {
    ($(#[$doc:meta])* $name:ident($binding_id:ident, $arg:ident) => $request:expr) => {
        $(#[$doc])*
        pub async fn $name<S: SchedulerStore, Q: HintSend>(
            deps: &SchedulerDeps<S, Q>,
            $binding_id: &str,
            $arg: &str,
            now: DateTime<Utc>,
        ) -> Result<BindingOutcome, HintError> {
            control(deps, $binding_id, now, $request).await
        }
    };
}

binding_hint!(
    /// `reauthorize_subscription` hint (lifecycle `reauthorizationRequired`,
    /// docs/graph-behaviour.md §1.8): renews the subscription now with one PATCH (which also
    /// reauthorizes), or replaces it make before break if the renewal is refused; then a delta
    /// round catches changes from the pause.
    reauthorize_subscription(binding_id, subscription_id) => SubscriptionRequest::Reauthorize {
        subscription_id: subscription_id.to_owned(),
    }
);

binding_hint!(
    /// `recreate_subscription` hint (lifecycle `subscriptionRemoved`): checks the subscription,
    /// makes a new one if it is gone, then resyncs with a full delta round.
    recreate_subscription(binding_id, subscription_id) => SubscriptionRequest::Recreate {
        subscription_id: subscription_id.to_owned(),
    }
);

binding_hint!(
    /// `resync_binding` hint (lifecycle `missed`, a new binding, an operator): sweeps the binding
    /// now with a full comparison (To Do: a delta round from scratch, docs/graph-behaviour.md
    /// §1.8 "fully resync"; Planner: the listing), so every difference from the mapping becomes a
    /// hint.
    resync_binding(binding_id, reason) => {
        tracing::info!(binding_id, reason, "resync requested");
        SubscriptionRequest::Routine
    }
);

/// An operator approves the deletions the mass-deletion guard withheld: the next sweep sends
/// them. `Ok(false)` when the binding has no schedule.
pub async fn approve_withheld_deletions<S: ScheduleStore>(
    store: &S,
    binding_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(mut schedule) = store.get_schedule(binding_id).await? else {
        return Ok(false);
    };
    schedule.deletions_approved = true;
    schedule.next_sweep_at = now;
    schedule.due_at = schedule.due_at.min(now);
    store.put_schedule(&schedule).await?;
    Ok(true)
}
