//! Each binding's health as an operator needs it: what the scheduler recorded on its schedule
//! (subscription, sweeps, interval, the mass-deletion guard, the lease; docs/scheduler.md) and
//! what the worker recorded on the binding (its circuit breaker), with what needs an operator
//! named, so `tasksync status` can both show it and fail a cron alarm. Read-only.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{Binding, CircuitBreaker, RemoteKind};
use crate::ports::{BindingList, ScheduleStore, StoreError};
use crate::scheduler::{BindingSchedule, Failure};

/// Why a binding needs an operator. Each one means the sync of that binding is stopped or
/// degraded and the system will not heal it by itself soon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// To Do: the subscription could not be made or renewed (retried with backoff, but a missing
    /// permission or an unreachable webhook does not fix itself); changes arrive only with the
    /// safety-net sweep meanwhile.
    SubscriptionFailing,
    /// To Do: the recorded subscription's expiry has passed with no failure recorded, which only
    /// happens when the scheduler is not running.
    SubscriptionExpired,
    /// The last sweep failed; retried with backoff.
    SweepFailing,
    /// The mass-deletion guard withholds deletions until an operator approves them.
    DeletionsWithheld,
    /// The binding's circuit breaker is open: its messages are acknowledged, not synced.
    BreakerOpen,
}

impl Attention {
    pub fn as_str(self) -> &'static str {
        match self {
            Attention::SubscriptionFailing => "subscription_failing",
            Attention::SubscriptionExpired => "subscription_expired",
            Attention::SweepFailing => "sweep_failing",
            Attention::DeletionsWithheld => "deletions_withheld",
            Attention::BreakerOpen => "breaker_open",
        }
    }
}

/// A failing operation retried with backoff (the schedule's `*_failure` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureView {
    pub reason: String,
    pub attempts: u32,
    pub next_retry: DateTime<Utc>,
}

impl From<&Failure> for FailureView {
    fn from(f: &Failure) -> Self {
        Self {
            reason: f.reason.clone(),
            attempts: f.attempts,
            next_retry: f.next_retry,
        }
    }
}

/// To Do only: the live subscription (never its clientState) and why it could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionView {
    pub id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub failure: Option<FailureView>,
}

/// The deletions the guard withholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuardView {
    /// When the guard first stopped the sweep.
    pub since: DateTime<Utc>,
    pub vanished: u32,
    pub mapped: u32,
    /// An operator approved them: the next sweep sends them once.
    pub approved: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakerView {
    pub failures: u32,
    pub reason: String,
    pub last_failure_at: DateTime<Utc>,
    /// Set while open (the time has not passed yet).
    pub open_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseView {
    pub holder: String,
    pub expires_at: DateTime<Utc>,
}

/// One binding's row of `tasksync status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingStatus {
    pub binding_id: String,
    pub local_list_id: String,
    /// `todo` or `planner`.
    pub remote: &'static str,
    /// The To Do list or Planner plan id.
    pub remote_container_id: String,
    pub direction: &'static str,
    /// False until the scheduler's next run enrolls the binding (the fields below are then
    /// empty).
    pub scheduled: bool,
    pub subscription: Option<SubscriptionView>,
    pub last_swept_at: Option<DateTime<Utc>>,
    /// When the scheduler next looks at the binding (sweep, renewal or retry), as it recorded.
    pub next_due_at: Option<DateTime<Utc>>,
    /// `busy`, `ordinary`, `idle` (Planner) or `safety_net` (To Do).
    pub interval: Option<&'static str>,
    pub sweep_failure: Option<FailureView>,
    pub deletion_guard: Option<GuardView>,
    pub breaker: Option<BreakerView>,
    /// Only while unexpired.
    pub lease: Option<LeaseView>,
    pub needs_operator: Vec<Attention>,
}

impl BindingStatus {
    /// Combines a binding with its schedule (`None`: not enrolled yet) as of `now`.
    pub fn of(binding: &Binding, schedule: Option<&BindingSchedule>, now: DateTime<Utc>) -> Self {
        let mut needs_operator = Vec::new();
        let subscription = match (binding.remote, schedule) {
            (RemoteKind::Todo, Some(s)) => {
                if s.subscription_failure.is_some() {
                    needs_operator.push(Attention::SubscriptionFailing);
                } else if s.subscription_expires_at.is_some_and(|at| at <= now) {
                    needs_operator.push(Attention::SubscriptionExpired);
                }
                Some(SubscriptionView {
                    id: s.subscription_id.clone(),
                    expires_at: s.subscription_expires_at,
                    failure: s.subscription_failure.as_ref().map(FailureView::from),
                })
            }
            _ => None,
        };
        let sweep_failure = schedule.and_then(|s| s.sweep_failure.as_ref().map(FailureView::from));
        if sweep_failure.is_some() {
            needs_operator.push(Attention::SweepFailing);
        }
        let deletion_guard = schedule.and_then(|s| {
            s.deletion_guard.as_ref().map(|g| GuardView {
                since: g.at,
                vanished: g.vanished,
                mapped: g.mapped,
                approved: s.deletions_approved,
            })
        });
        if deletion_guard.as_ref().is_some_and(|g| !g.approved) {
            needs_operator.push(Attention::DeletionsWithheld);
        }
        let breaker = binding.breaker.as_ref().map(|b| breaker_view(b, now));
        if breaker.as_ref().is_some_and(|b| b.open_until.is_some()) {
            needs_operator.push(Attention::BreakerOpen);
        }
        let lease = schedule.and_then(|s| match (&s.lease_owner, s.lease_expires_at) {
            (Some(holder), Some(expires_at)) if expires_at > now => Some(LeaseView {
                holder: holder.clone(),
                expires_at,
            }),
            _ => None,
        });
        Self {
            binding_id: binding.id.clone(),
            local_list_id: binding.local_list_id.clone(),
            remote: match binding.remote {
                RemoteKind::Todo => "todo",
                RemoteKind::Planner => "planner",
            },
            remote_container_id: binding.remote_container_id.clone(),
            direction: binding.direction.as_str(),
            scheduled: schedule.is_some(),
            subscription,
            last_swept_at: schedule.and_then(|s| s.last_swept_at),
            // The scheduler wrote `due_at` with its own settings (while leased: the lease's
            // expiry, when the binding comes due again if the run died).
            next_due_at: schedule.map(|s| s.due_at),
            interval: schedule.map(|s| s.interval.as_str()),
            sweep_failure,
            deletion_guard,
            breaker,
            lease,
            needs_operator,
        }
    }
}

/// The breaker as it stands at `now`: an `open_until` in the past means the worker tries the
/// binding's messages again, so it is not shown as open.
fn breaker_view(breaker: &CircuitBreaker, now: DateTime<Utc>) -> BreakerView {
    BreakerView {
        failures: breaker.failures,
        reason: breaker.reason.clone(),
        last_failure_at: breaker.last_failure_at,
        open_until: breaker.open_until.filter(|until| *until > now),
    }
}

/// Every binding's status, by binding id. One strongly consistent schedule read per binding
/// (an operator's command, not a hot path: a thousand bindings cost a thousand small reads).
pub async fn binding_statuses<S>(
    store: &S,
    now: DateTime<Utc>,
) -> Result<Vec<BindingStatus>, StoreError>
where
    S: BindingList + ScheduleStore,
{
    let mut bindings = store.all_bindings().await?;
    bindings.sort_by(|a, b| a.id.cmp(&b.id));
    let mut statuses = Vec::with_capacity(bindings.len());
    for binding in &bindings {
        let schedule = store.get_schedule(&binding.id).await?;
        statuses.push(BindingStatus::of(binding, schedule.as_ref(), now));
    }
    Ok(statuses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{BindingSave, ScheduleStore};
    use crate::scheduler::{GuardReport, IntervalClass};
    use crate::store::MemoryStore;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap()
    }

    #[tokio::test]
    async fn a_healthy_binding_needs_nobody_and_an_unscheduled_one_is_shown_as_such() {
        let store = MemoryStore::new();
        let todo = Binding::todo("b-todo", "team", "user-1", "list-1");
        let planner = Binding::planner("a-plan", "ops", "plan-1");
        store.save_binding(&todo).await.unwrap();
        store.save_binding(&planner).await.unwrap();
        let mut s = BindingSchedule::new("b-todo", RemoteKind::Todo, now());
        s.subscription_id = Some("sub-123456789".into());
        s.subscription_expires_at = Some(now() + Duration::hours(60));
        s.last_swept_at = Some(now() - Duration::minutes(2));
        s.due_at = now() + Duration::minutes(28);
        store.put_schedule(&s).await.unwrap();

        let statuses = binding_statuses(&store, now()).await.unwrap();
        let ids: Vec<&str> = statuses.iter().map(|s| s.binding_id.as_str()).collect();
        assert_eq!(ids, ["a-plan", "b-todo"]);
        let plan = &statuses[0];
        assert!(!plan.scheduled && plan.subscription.is_none() && plan.interval.is_none());
        assert!(plan.needs_operator.is_empty());
        let todo = &statuses[1];
        assert_eq!(todo.interval, Some("safety_net"));
        assert_eq!(todo.next_due_at, Some(now() + Duration::minutes(28)));
        let sub = todo.subscription.as_ref().unwrap();
        assert_eq!(sub.id.as_deref(), Some("sub-123456789"));
        assert!(sub.failure.is_none());
        assert!(todo.needs_operator.is_empty(), "{todo:?}");
    }

    #[test]
    fn every_stopped_part_is_named_and_a_lapsed_lease_or_breaker_is_not() {
        let mut binding = Binding::todo("b", "team", "user-1", "list-1");
        binding.breaker = Some(CircuitBreaker {
            failures: 5,
            reason: "the list is gone".into(),
            last_failure_at: now() - Duration::minutes(1),
            open_until: Some(now() + Duration::minutes(9)),
        });
        let mut s = BindingSchedule::new("b", RemoteKind::Todo, now());
        let failure = Failure {
            reason: "403 Forbidden".into(),
            attempts: 3,
            next_retry: now() + Duration::minutes(4),
        };
        s.subscription_failure = Some(failure.clone());
        s.sweep_failure = Some(failure);
        s.deletion_guard = Some(GuardReport {
            at: now() - Duration::hours(1),
            vanished: 12,
            mapped: 17,
        });
        s.lease_owner = Some("run-7".into());
        s.lease_expires_at = Some(now() + Duration::minutes(2));
        s.interval = IntervalClass::SafetyNet;
        let status = BindingStatus::of(&binding, Some(&s), now());
        assert_eq!(
            status.needs_operator,
            [
                Attention::SubscriptionFailing,
                Attention::SweepFailing,
                Attention::DeletionsWithheld,
                Attention::BreakerOpen
            ]
        );
        assert_eq!(status.lease.as_ref().unwrap().holder, "run-7");
        assert_eq!(status.deletion_guard.as_ref().unwrap().vanished, 12);

        // Approved deletions, a lapsed breaker and lease, an expired subscription.
        s.deletions_approved = true;
        s.subscription_failure = None;
        s.sweep_failure = None;
        s.subscription_id = Some("sub-1".into());
        s.subscription_expires_at = Some(now() - Duration::seconds(1));
        s.lease_expires_at = Some(now() - Duration::seconds(1));
        if let Some(b) = binding.breaker.as_mut() {
            b.open_until = Some(now() - Duration::seconds(1));
        }
        let status = BindingStatus::of(&binding, Some(&s), now());
        assert_eq!(status.needs_operator, [Attention::SubscriptionExpired]);
        assert!(status.deletion_guard.unwrap().approved);
        assert!(status.lease.is_none());
        let breaker = status.breaker.unwrap();
        assert_eq!((breaker.failures, breaker.open_until), (5, None));
    }
}
