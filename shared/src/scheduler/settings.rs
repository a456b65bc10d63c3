//! The scheduler's knobs. Defaults are the ones docs/scheduler.md argues for; a deployment sets
//! only the webhook's base URL (`config::webhook_base_url`) and the tenant (the rest are code
//! defaults that tests and benchmarks override).

use chrono::Duration;

use crate::graph::models::subscription::TODO_SUBSCRIPTION_MAX_MINUTES;
use crate::subscription_setup::WebhookUrls;
use crate::sync::mass_deletion::MassDeletionGuard;

#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerSettings {
    /// Planner sweep intervals for busy, ordinary and idle plans.
    pub busy_interval: Duration,
    pub ordinary_interval: Duration,
    pub idle_interval: Duration,
    /// A change within this window makes a plan busy.
    pub recent_change_window: Duration,
    /// No change for this long makes a plan idle.
    pub idle_after: Duration,
    /// This many open tasks make a plan busy even without recent changes.
    pub busy_open_tasks: usize,
    /// To Do delta rounds when notifications are flowing.
    pub todo_safety_net_interval: Duration,
    /// Lifetime asked for a To Do subscription (at most 4,230 min, docs/graph-behaviour.md §1.9).
    pub subscription_lifetime: Duration,
    /// Renew once less than this share of `subscription_lifetime` is left.
    pub renew_fraction_left: f64,
    /// When a renewal is refused and Graph will not hold a second subscription on the same list
    /// (409), the old one is kept until this close to its expiry, then replaced.
    pub switch_margin: Duration,
    /// Failure backoff: `base · 2^(n-1)`, at most `max`.
    pub failure_backoff_base: Duration,
    pub failure_backoff_max: Duration,
    /// A lease outlives the longest run (the Lambda timeout), so a crashed run's lease lapses
    /// only after that run is certainly dead.
    pub lease_duration: Duration,
    /// A sweep sends no deletion this guard blocks (the same rule as the worker's resync).
    pub deletion_guard: MassDeletionGuard,
    /// A Planner listing identical to the last one that matched the mapping is not compared
    /// again (the mapping is not read) until this long after the last full comparison.
    pub full_compare_interval: Duration,
    /// Bindings swept at the same time within one run.
    pub concurrency: usize,
    /// Due bindings taken per run (one gsi1 Query page).
    pub max_bindings_per_run: usize,
    /// A binding is not started when less than this is left before the run's deadline.
    pub min_time_per_binding: std::time::Duration,
    /// Where Graph posts notifications for the subscriptions the scheduler makes.
    pub webhook: WebhookUrls,
    /// The tenant recorded on subscriptions (the webhook checks notifications against it).
    pub tenant_id: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            busy_interval: Duration::minutes(1),
            ordinary_interval: Duration::minutes(5),
            idle_interval: Duration::minutes(30),
            recent_change_window: Duration::minutes(15),
            idle_after: Duration::hours(24),
            busy_open_tasks: 200,
            todo_safety_net_interval: Duration::minutes(30),
            subscription_lifetime: Duration::minutes(TODO_SUBSCRIPTION_MAX_MINUTES - 10),
            renew_fraction_left: 1.0 / 3.0,
            switch_margin: Duration::minutes(30),
            failure_backoff_base: Duration::minutes(1),
            failure_backoff_max: Duration::hours(6),
            lease_duration: Duration::minutes(3),
            deletion_guard: MassDeletionGuard::default(),
            full_compare_interval: Duration::hours(1),
            concurrency: 32,
            max_bindings_per_run: 1000,
            min_time_per_binding: std::time::Duration::from_secs(5),
            webhook: WebhookUrls::under("https://localhost.invalid"),
            tenant_id: String::new(),
        }
    }
}

impl SchedulerSettings {
    /// Renewal threshold as a duration before expiry.
    pub fn renew_when_left(&self) -> Duration {
        let seconds = self.subscription_lifetime.num_seconds() as f64 * self.renew_fraction_left;
        Duration::seconds(seconds as i64)
    }

    /// The deployment's settings: subscriptions post under `webhook_base_url`
    /// (`config::webhook_base_url`) and are recorded for `tenant_id`; every other knob at its
    /// default.
    pub fn for_deployment(webhook_base_url: &str, tenant_id: &str) -> Self {
        Self {
            webhook: WebhookUrls::under(webhook_base_url),
            tenant_id: tenant_id.to_owned(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_s_subscriptions_post_under_its_webhook_base_url() {
        let s = SchedulerSettings::for_deployment(
            "https://abc.execute-api.eu-west-1.amazonaws.com",
            "t",
        );
        assert_eq!(
            s.webhook.notification_url,
            "https://abc.execute-api.eu-west-1.amazonaws.com/notifications"
        );
        assert_eq!(s.tenant_id, "t");
    }

    #[test]
    fn renewal_starts_with_a_third_of_the_lifetime_left() {
        let s = SchedulerSettings::default();
        assert_eq!(
            s.renew_when_left(),
            Duration::minutes(1406) + Duration::seconds(40)
        );
    }
}
