//! The scheduler function's handler (issue 6, docs/scheduler.md): keeps every To Do binding's
//! Graph subscription alive and sweeps every binding when it is due.
//!
//! Each binding has a schedule record (`BindingSchedule`) with its own due time; a run takes the
//! due ones oldest first from one gsi1 Query, leases each with a conditional write (so
//! overlapping runs, and workers acting on control hints, never handle one binding twice), does
//! what is due, and releases the lease with the next due time. Bindings are handled with bounded
//! concurrency, and none is started once the run's deadline is near: the rest stay due, and
//! being the oldest, come first next run.

mod lease;
mod schedule;
mod settings;
pub mod subscription;
pub mod sweep;

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Mutex;

pub use lease::{Lease, LeaseError};
pub use schedule::{
    BindingSchedule, Failure, GuardReport, IntervalClass, QuietListing, backoff, interval_length,
    planner_interval,
};
pub use settings::SchedulerSettings;
pub use subscription::{SubscriptionAction, SubscriptionRequest};
pub use sweep::{SweepError, SweepStats};

use crate::graph::GraphClient;
use crate::model::{Binding, RemoteKind};
use crate::ports::{
    BindingList, BindingLookup, HintSend, RemoteEtagIndex, ScheduleStore, StoreError,
    SubscriptionLookup, SubscriptionRemove, SubscriptionSave,
};

/// Every store capability the scheduler uses (the DynamoDB sync store and `MemoryStore` both
/// have them all).
pub trait SchedulerStore:
    BindingLookup
    + BindingList
    + SubscriptionLookup
    + SubscriptionSave
    + SubscriptionRemove
    + ScheduleStore
    + RemoteEtagIndex
    + Clone
    + 'static
{
}

impl<T> SchedulerStore for T where
    T: BindingLookup
        + BindingList
        + SubscriptionLookup
        + SubscriptionSave
        + SubscriptionRemove
        + ScheduleStore
        + RemoteEtagIndex
        + Clone
        + 'static
{
}

/// What the scheduler needs. `graph` should carry the invocation's deadline
/// (`GraphClient::with_deadline`).
#[derive(Clone)]
pub struct SchedulerDeps<S, Q> {
    pub store: S,
    pub queue: Q,
    pub graph: GraphClient,
    pub settings: SchedulerSettings,
}

/// One run's identity and limits.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Lease owner written on the bindings this run holds.
    pub run_id: String,
    pub now: DateTime<Utc>,
    /// No binding is started after `deadline - settings.min_time_per_binding`.
    pub deadline: Instant,
}

impl RunContext {
    pub fn new(now: DateTime<Utc>, deadline: Instant) -> Self {
        Self {
            run_id: format!("run-{}", uuid::Uuid::new_v4().simple()),
            now,
            deadline,
        }
    }
}

/// What one scheduled run did; returned to Lambda and logged.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub bindings_enrolled: u32,
    pub bindings_due: u32,
    pub bindings_handled: u32,
    /// Due but held by another run's lease, or taken by another run first.
    pub bindings_skipped_leased: u32,
    /// Due but not started because the deadline was near (they are first next run).
    pub bindings_left_for_next_run: u32,
    pub bindings_removed: u32,
    pub subscriptions_created: u32,
    pub subscriptions_renewed: u32,
    pub subscriptions_replaced: u32,
    pub subscription_failures: u32,
    pub bindings_swept: u32,
    /// Sweeps that read the mapping to compare; the rest found nothing that could differ (an
    /// unchanged Planner listing, an empty To Do delta round).
    pub sweeps_compared: u32,
    pub sweep_failures: u32,
    pub hints_enqueued: u32,
    pub deletions_withheld: u32,
    pub store_errors: u32,
}

/// What handling one binding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingOutcome {
    pub subscription: Option<SubscriptionAction>,
    pub sweep: Option<Result<SweepStats, String>>,
    /// The binding no longer exists; its schedule and subscription were removed.
    pub removed: bool,
}

/// Why a worker's call could not act now; the worker retries the message later.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("binding {0} is being handled by a scheduler run; retry later")]
    Busy(String),
    #[error("binding {0} does not exist")]
    UnknownBinding(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One scheduled run: enroll new bindings, then handle the due ones until done or the deadline
/// nears. Never fails as a whole: errors are counted, logged and recorded per binding.
pub async fn run_tick<S, Q>(deps: &SchedulerDeps<S, Q>, ctx: &RunContext) -> TickReport
where
    S: SchedulerStore,
    Q: HintSend + Clone + 'static,
{
    let mut report = TickReport::default();
    match enroll_new_bindings(&deps.store, ctx.now).await {
        Ok(n) => report.bindings_enrolled = n,
        Err(e) => {
            report.store_errors += 1;
            tracing::error!(error = %e, "could not list bindings to enroll");
        }
    }
    let due = match deps
        .store
        .due_schedules(ctx.now, deps.settings.max_bindings_per_run)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            report.store_errors += 1;
            tracing::error!(error = %e, "could not query due bindings");
            return report;
        }
    };
    report.bindings_due = u32::try_from(due.len()).unwrap_or(u32::MAX);

    let queue = Arc::new(Mutex::new(std::collections::VecDeque::from(due)));
    let shared = Arc::new(Mutex::new(report));
    // The longest binding so far (ms): a binding is only started when twice that (or
    // `min_time_per_binding`, if longer) is left, so a slow store or Graph cannot push the
    // bindings in flight past the deadline.
    let longest_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deps = Arc::new(deps.clone());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..deps.settings.concurrency.max(1) {
        let queue = Arc::clone(&queue);
        let shared = Arc::clone(&shared);
        let longest_ms = Arc::clone(&longest_ms);
        let deps = Arc::clone(&deps);
        let ctx = ctx.clone();
        workers.spawn(async move {
            loop {
                let Some(schedule) = queue.lock().await.pop_front() else {
                    return;
                };
                let longest = std::time::Duration::from_millis(
                    longest_ms.load(std::sync::atomic::Ordering::Relaxed),
                );
                let reserve = deps.settings.min_time_per_binding.max(longest * 2);
                if Instant::now() + reserve >= ctx.deadline {
                    let left = {
                        let mut q = queue.lock().await;
                        let n = q.len();
                        q.clear();
                        n
                    };
                    let mut r = shared.lock().await;
                    r.bindings_left_for_next_run = r
                        .bindings_left_for_next_run
                        .saturating_add(1)
                        .saturating_add(u32::try_from(left).unwrap_or(u32::MAX));
                    return;
                }
                let started = Instant::now();
                let outcome = handle_due(&deps, &ctx, schedule).await;
                let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                longest_ms.fetch_max(took, std::sync::atomic::Ordering::Relaxed);
                record(&mut *shared.lock().await, outcome);
            }
        });
    }
    while let Some(joined) = workers.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, "a scheduler worker task failed");
        }
    }
    let report = shared.lock().await.clone();
    tracing::info!(?report, "scheduler run done");
    report
}

enum Handled {
    Done(BindingOutcome),
    Leased,
    StoreError,
}

fn record(report: &mut TickReport, handled: Handled) {
    match handled {
        Handled::Leased => report.bindings_skipped_leased += 1,
        Handled::StoreError => report.store_errors += 1,
        Handled::Done(outcome) => {
            report.bindings_handled += 1;
            if outcome.removed {
                report.bindings_removed += 1;
            }
            match outcome.subscription {
                Some(
                    SubscriptionAction::Created
                    | SubscriptionAction::Recreated
                    | SubscriptionAction::Adopted
                    | SubscriptionAction::Repaired,
                ) => report.subscriptions_created += 1,
                Some(SubscriptionAction::Renewed) => report.subscriptions_renewed += 1,
                Some(SubscriptionAction::Replaced) => report.subscriptions_replaced += 1,
                Some(SubscriptionAction::Failed) => report.subscription_failures += 1,
                _ => {}
            }
            match outcome.sweep {
                Some(Ok(stats)) => {
                    report.bindings_swept += 1;
                    if stats.mapping_read {
                        report.sweeps_compared += 1;
                    }
                    report.hints_enqueued += u32::try_from(stats.hints).unwrap_or(u32::MAX);
                    report.deletions_withheld += u32::try_from(stats.withheld).unwrap_or(u32::MAX);
                }
                Some(Err(_)) => report.sweep_failures += 1,
                None => {}
            }
        }
    }
}

async fn handle_due<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    ctx: &RunContext,
    schedule: BindingSchedule,
) -> Handled
where
    S: SchedulerStore,
    Q: HintSend,
{
    let binding_id = schedule.binding_id.clone();
    let lease =
        match Lease::take_from(&deps.store, schedule, &ctx.run_id, ctx.now, &deps.settings).await {
            Ok(lease) => lease,
            Err(LeaseError::Held) => return Handled::Leased,
            Err(LeaseError::Store(e)) => {
                tracing::error!(binding_id = %binding_id, error = %e, "could not lease binding");
                return Handled::StoreError;
            }
        };
    match handle_leased(deps, lease, ctx.now, &SubscriptionRequest::Routine, false).await {
        Ok(outcome) => Handled::Done(outcome),
        Err(e) => {
            tracing::error!(binding_id = %binding_id, error = %e, "could not record binding result");
            Handled::StoreError
        }
    }
}

/// Does what is due for a leased binding (subscription upkeep, then the sweep when due or
/// forced) and releases the lease with the next due time.
async fn handle_leased<S, Q>(
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
    let sweep_due = force_sweep
        || (schedule.next_sweep_at <= now
            && schedule
                .sweep_failure
                .as_ref()
                .is_none_or(|f| f.next_retry <= now));
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

/// Creates a schedule (due now) for every binding without one.
pub async fn enroll_new_bindings<S>(store: &S, now: DateTime<Utc>) -> Result<u32, StoreError>
where
    S: BindingList + ScheduleStore,
{
    let scheduled = store.scheduled_binding_ids().await?;
    let mut enrolled = 0;
    for binding in store.all_bindings().await? {
        if scheduled.contains(&binding.id) {
            continue;
        }
        match enroll(store, &binding, now).await {
            Ok(()) => enrolled += 1,
            Err(StoreError::ConditionFailed(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(enrolled)
}

/// Creates the schedule of a new binding, due at once; `ConditionFailed` if it has one.
pub async fn enroll<S: ScheduleStore>(
    store: &S,
    binding: &Binding,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let schedule = BindingSchedule::new(&binding.id, binding.remote, now);
    store.put_schedule(&schedule).await.map(|_| ())
}

// --- Entry points for the worker's control hints ---------------------------------------------

async fn control<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    binding_id: &str,
    now: DateTime<Utc>,
    request: SubscriptionRequest,
    force_sweep: bool,
) -> Result<BindingOutcome, ControlError>
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
                .ok_or_else(|| ControlError::UnknownBinding(binding_id.to_owned()))?;
            match enroll(&deps.store, &binding, now).await {
                Ok(()) | Err(StoreError::ConditionFailed(_)) => {}
                Err(e) => return Err(e.into()),
            }
            Lease::take(&deps.store, binding_id, &owner, now, &deps.settings)
                .await
                .map_err(|e| match e {
                    LeaseError::Held => ControlError::Busy(binding_id.to_owned()),
                    LeaseError::Store(e) => ControlError::Store(e),
                })?
                .ok_or_else(|| ControlError::UnknownBinding(binding_id.to_owned()))?
        }
        Err(LeaseError::Held) => return Err(ControlError::Busy(binding_id.to_owned())),
        Err(LeaseError::Store(e)) => return Err(e.into()),
    };
    Ok(handle_leased(deps, lease, now, &request, force_sweep).await?)
}

/// `reauthorize_subscription` hint (lifecycle `reauthorizationRequired`, graph-facts §1.8):
/// renews the subscription now with one PATCH (which also reauthorizes), or replaces it make
/// before break if the renewal is refused; then a delta round catches changes from the pause.
pub async fn reauthorize_subscription<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    binding_id: &str,
    subscription_id: &str,
    now: DateTime<Utc>,
) -> Result<BindingOutcome, ControlError>
where
    S: SchedulerStore,
    Q: HintSend,
{
    let request = SubscriptionRequest::Reauthorize {
        subscription_id: subscription_id.to_owned(),
    };
    control(deps, binding_id, now, request, true).await
}

/// `recreate_subscription` hint (lifecycle `subscriptionRemoved`): checks the subscription, makes
/// a new one if it is gone, then resyncs with a full delta round.
pub async fn recreate_subscription<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    binding_id: &str,
    subscription_id: &str,
    now: DateTime<Utc>,
) -> Result<BindingOutcome, ControlError>
where
    S: SchedulerStore,
    Q: HintSend,
{
    let request = SubscriptionRequest::Recreate {
        subscription_id: subscription_id.to_owned(),
    };
    control(deps, binding_id, now, request, true).await
}

/// `resync_binding` hint (lifecycle `missed`, a new binding, an operator): sweeps the binding now
/// with a full comparison (To Do: a delta round from scratch, §1.8 "fully resync"; Planner: the
/// listing), so every difference from the mapping becomes a hint.
pub async fn resync_binding<S, Q>(
    deps: &SchedulerDeps<S, Q>,
    binding_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<BindingOutcome, ControlError>
where
    S: SchedulerStore,
    Q: HintSend,
{
    tracing::info!(binding_id, reason, "resync requested");
    control(deps, binding_id, now, SubscriptionRequest::Routine, true).await
}

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
