//! A binding's scheduling state and the pure rules that plan it: when it is due next, how often
//! it is swept, how failures back off. Kept apart from the `Binding` itself (which the CLI and
//! the reconcile engine own) so the scheduler can rewrite it every run without touching them.

use chrono::{DateTime, Duration, Utc};

use super::settings::SchedulerSettings;
use crate::model::{RemoteKind, SubscriptionRecord};

/// How often a binding is swept; recorded so operators can see why a binding is polled as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalClass {
    /// Planner with recent changes or many open tasks.
    Busy,
    /// Planner, ordinary activity.
    Ordinary,
    /// Planner with no change for a long time.
    Idle,
    /// To Do: notifications carry the changes, the delta round is only the safety net.
    SafetyNet,
}

impl IntervalClass {
    pub fn as_str(self) -> &'static str {
        match self {
            IntervalClass::Busy => "busy",
            IntervalClass::Ordinary => "ordinary",
            IntervalClass::Idle => "idle",
            IntervalClass::SafetyNet => "safety_net",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "busy" => Some(IntervalClass::Busy),
            "ordinary" => Some(IntervalClass::Ordinary),
            "idle" => Some(IntervalClass::Idle),
            "safety_net" => Some(IntervalClass::SafetyNet),
            _ => None,
        }
    }
}

/// A failing operation that is retried with exponential backoff instead of every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Readable reason (a Graph or store error; never a secret).
    pub reason: String,
    pub attempts: u32,
    pub next_retry: DateTime<Utc>,
}

/// What the mass-deletion guard stopped (docs/architecture.md principle 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardReport {
    pub at: DateTime<Utc>,
    /// Mapped tasks the sweep found gone.
    pub vanished: u32,
    /// Mapped tasks before the sweep.
    pub mapped: u32,
}

/// The last Planner listing that matched the mapping exactly, as a digest: a later listing with
/// the same digest cannot hold a change the mapping lacks, so the sweep skips reading the mapping
/// (docs/scheduler.md, "An unchanged plan reads no mapping").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietListing {
    /// SHA-256 (hex) of the listing's sorted (id, ETag, details ETag) triples.
    pub digest: String,
    /// Mapped tasks at that comparison (what the guard's share is measured against).
    pub mapped: u32,
    /// When the listing was last compared with the mapping in full; after
    /// `full_compare_interval` the sweep compares again even if the digest still matches.
    pub compared_at: DateTime<Utc>,
}

/// One binding's scheduling record (sync table: `pk=binding#{id}`, `sk=schedule`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingSchedule {
    pub binding_id: String,
    pub remote: RemoteKind,
    /// Optimistic-concurrency revision of the stored item (0: not stored yet).
    pub revision: u64,
    /// The time the due index (gsi1) sorts this binding by; kept current by [`Self::refresh_due`].
    pub due_at: DateTime<Utc>,
    /// When the next sweep is due.
    pub next_sweep_at: DateTime<Utc>,
    pub interval: IntervalClass,
    pub last_swept_at: Option<DateTime<Utc>>,
    /// When a sweep last found a change (drives the Planner interval).
    pub last_change_at: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// To Do: the deltaLink of the last round (docs/graph-behaviour.md §3.3).
    pub delta_link: Option<String>,
    /// To Do: the binding's live subscription and its expiry.
    pub subscription_id: Option<String>,
    pub subscription_expires_at: Option<DateTime<Utc>>,
    /// To Do: why the subscription could not be made or renewed, and when to try again.
    pub subscription_failure: Option<Failure>,
    /// Why the last sweep failed, and when to try again.
    pub sweep_failure: Option<Failure>,
    /// Set while the mass-deletion guard withholds deletions.
    pub deletion_guard: Option<GuardReport>,
    /// An operator approved the deletions the guard withheld: the next sweep sends them.
    pub deletions_approved: bool,
    /// Planner: the last listing that matched the mapping, so an unchanged plan costs only its
    /// listing.
    pub quiet_listing: Option<QuietListing>,
}

impl BindingSchedule {
    /// A new binding: due at once, so it gets its subscription and first sweep on the next run.
    pub fn new(binding_id: &str, remote: RemoteKind, now: DateTime<Utc>) -> Self {
        Self {
            binding_id: binding_id.to_owned(),
            remote,
            revision: 0,
            due_at: now,
            next_sweep_at: now,
            interval: match remote {
                RemoteKind::Todo => IntervalClass::SafetyNet,
                RemoteKind::Planner => IntervalClass::Ordinary,
            },
            last_swept_at: None,
            last_change_at: Some(now),
            lease_owner: None,
            lease_expires_at: None,
            delta_link: None,
            subscription_id: None,
            subscription_expires_at: None,
            subscription_failure: None,
            sweep_failure: None,
            deletion_guard: None,
            deletions_approved: false,
            quiet_listing: None,
        }
    }

    /// Points the schedule at `record`, the binding's live subscription.
    pub fn hold_subscription(&mut self, record: &SubscriptionRecord) {
        self.subscription_id = Some(record.id.clone());
        self.subscription_expires_at = Some(record.expires_at);
    }

    /// The recorded subscription is gone or being replaced: the schedule holds none.
    pub fn drop_subscription(&mut self) {
        self.subscription_id = None;
        self.subscription_expires_at = None;
    }

    /// Recomputes `due_at` after a change; call before every write.
    pub fn refresh_due(&mut self, settings: &SchedulerSettings) {
        self.due_at = self.index_due(settings);
    }

    /// True while someone other than `owner` holds an unexpired lease.
    pub fn leased_by_other(&self, owner: &str, now: DateTime<Utc>) -> bool {
        match (&self.lease_owner, self.lease_expires_at) {
            (Some(holder), Some(expires)) => holder != owner && expires > now,
            _ => false,
        }
    }

    /// When the subscription should be renewed: once less than `renew_fraction` of its maximum
    /// lifetime is left (docs/graph-behaviour.md §1.9).
    pub fn renew_at(&self, settings: &SchedulerSettings) -> Option<DateTime<Utc>> {
        self.subscription_expires_at
            .map(|expires| expires - settings.renew_when_left())
    }

    /// The earliest moment anything about this binding needs the scheduler: the next sweep, the
    /// subscription's renewal, or the retry of a failed subscription.
    pub fn next_due(&self, settings: &SchedulerSettings) -> DateTime<Utc> {
        let sweep = match &self.sweep_failure {
            Some(failure) => failure.next_retry.max(self.next_sweep_at),
            None => self.next_sweep_at,
        };
        if self.remote != RemoteKind::Todo {
            return sweep;
        }
        let subscription = match (&self.subscription_failure, self.renew_at(settings)) {
            (Some(failure), _) => Some(failure.next_retry),
            (None, Some(renew)) => Some(renew),
            // No subscription and no failure recorded: make one on the next run.
            (None, None) => Some(self.next_sweep_at.min(sweep)),
        };
        match subscription {
            Some(at) => sweep.min(at),
            None => sweep,
        }
    }

    /// The due time the gsi1 index sorts by: while leased, the lease's expiry, so a binding held by
    /// a run (or by a run that crashed) leaves the due set until the lease lapses.
    pub fn index_due(&self, settings: &SchedulerSettings) -> DateTime<Utc> {
        match self.lease_expires_at {
            Some(expires) if self.lease_owner.is_some() => expires,
            _ => self.next_due(settings),
        }
    }
}

/// Records one more failure with exponential backoff (`base · 2^(attempts-1)`, capped), or
/// `retry_after` when Graph named a wait.
pub fn backoff(
    previous: Option<&Failure>,
    reason: String,
    retry_after: Option<std::time::Duration>,
    now: DateTime<Utc>,
    settings: &SchedulerSettings,
) -> Failure {
    let attempts = previous.map_or(1, |f| f.attempts.saturating_add(1));
    let exponent = attempts.saturating_sub(1).min(20);
    let base = settings.failure_backoff_base;
    let wait = base
        .checked_mul(1_i32 << exponent)
        .unwrap_or(settings.failure_backoff_max)
        .min(settings.failure_backoff_max);
    let asked = retry_after
        .and_then(|d| Duration::from_std(d).ok())
        .unwrap_or(Duration::zero());
    Failure {
        reason,
        attempts,
        next_retry: now + wait.max(asked),
    }
}

/// The Planner interval that follows activity: busy after a recent change or with many open
/// tasks, idle after a long quiet spell, ordinary otherwise.
pub fn planner_interval(
    last_change_at: Option<DateTime<Utc>>,
    open_tasks: usize,
    now: DateTime<Utc>,
    settings: &SchedulerSettings,
) -> IntervalClass {
    let quiet_for = last_change_at.map(|at| now - at);
    if open_tasks >= settings.busy_open_tasks
        || quiet_for.is_some_and(|q| q <= settings.recent_change_window)
    {
        IntervalClass::Busy
    } else if quiet_for.is_none_or(|q| q >= settings.idle_after) {
        IntervalClass::Idle
    } else {
        IntervalClass::Ordinary
    }
}

/// How long until the next sweep for an interval class.
pub fn interval_length(class: IntervalClass, settings: &SchedulerSettings) -> Duration {
    match class {
        IntervalClass::Busy => settings.busy_interval,
        IntervalClass::Ordinary => settings.ordinary_interval,
        IntervalClass::Idle => settings.idle_interval,
        IntervalClass::SafetyNet => settings.todo_safety_net_interval,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap()
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_honours_retry_after() {
        let s = SchedulerSettings::default();
        let first = backoff(None, "x".into(), None, now(), &s);
        assert_eq!(first.attempts, 1);
        assert_eq!(first.next_retry - now(), s.failure_backoff_base);
        let second = backoff(Some(&first), "x".into(), None, now(), &s);
        assert_eq!(second.next_retry - now(), s.failure_backoff_base * 2);
        let mut f = second;
        for _ in 0..40 {
            f = backoff(Some(&f), "x".into(), None, now(), &s);
        }
        assert_eq!(f.next_retry - now(), s.failure_backoff_max);
        let asked = backoff(
            None,
            "x".into(),
            Some(std::time::Duration::from_secs(3600)),
            now(),
            &s,
        );
        assert_eq!(asked.next_retry - now(), Duration::hours(1));
    }

    #[test]
    fn planner_interval_follows_activity() {
        let s = SchedulerSettings::default();
        let n = now();
        assert_eq!(
            planner_interval(Some(n - Duration::minutes(2)), 3, n, &s),
            IntervalClass::Busy
        );
        assert_eq!(
            planner_interval(Some(n - Duration::days(30)), s.busy_open_tasks, n, &s),
            IntervalClass::Busy
        );
        assert_eq!(
            planner_interval(Some(n - Duration::hours(2)), 3, n, &s),
            IntervalClass::Ordinary
        );
        assert_eq!(
            planner_interval(Some(n - Duration::days(3)), 3, n, &s),
            IntervalClass::Idle
        );
    }

    #[test]
    fn todo_bindings_are_due_for_renewal_before_their_sweep() {
        let s = SchedulerSettings::default();
        let mut schedule = BindingSchedule::new("b", RemoteKind::Todo, now());
        schedule.next_sweep_at = now() + Duration::days(10);
        schedule.subscription_expires_at = Some(now() + Duration::minutes(4230));
        let renew = schedule.next_due(&s);
        assert_eq!(
            renew,
            now() + Duration::minutes(4230) - s.renew_when_left(),
            "renewed once a third of the lifetime is left"
        );
        schedule.lease_owner = Some("run".into());
        schedule.lease_expires_at = Some(now() + Duration::minutes(5));
        assert_eq!(schedule.index_due(&s), now() + Duration::minutes(5));
        assert!(schedule.leased_by_other("other", now()));
        assert!(!schedule.leased_by_other("run", now()));
        assert!(!schedule.leased_by_other("other", now() + Duration::minutes(6)));
    }
}
