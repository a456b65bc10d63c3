//! One scheduled run: the due bindings, oldest first, handled with bounded concurrency until
//! they are done or the run's deadline nears.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Mutex;

use super::binding::handle_leased;
use super::enroll::enroll_new_bindings;
use super::{
    BindingOutcome, BindingSchedule, Lease, LeaseError, SchedulerDeps, SchedulerStore,
    SubscriptionAction, SubscriptionRequest,
};
use crate::ports::HintSend;

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
    let longest_ms = Arc::new(AtomicU64::new(0));
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
                let longest = Duration::from_millis(longest_ms.load(Ordering::Relaxed));
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
                longest_ms.fetch_max(took, Ordering::Relaxed);
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
