//! Keeping exactly one live Graph subscription per To Do binding (graph-facts §1.2–§1.5, §1.8,
//! §1.9): create when missing, renew well before expiry, recreate when gone, adopt what a 409
//! reports, and make before break when a renewal is refused.
//!
//! Failures are recorded on the schedule with a reason and retried with backoff; they never
//! abort the run. Store errors after Graph created a subscription leave the schedule without it,
//! so the next attempt meets a 409 and adopts (deletes and recreates) it: self-healing.

use chrono::{DateTime, Utc};

use super::schedule::{BindingSchedule, backoff};
use super::settings::SchedulerSettings;
use crate::graph::models::subscription::NewSubscription;
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, SubscriptionRecord};
use crate::ports::{StoreError, SubscriptionLookup, SubscriptionRemove, SubscriptionSave};
use crate::subscription_setup::new_client_state;

/// What the caller asks for beyond routine upkeep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionRequest {
    /// Create if missing, renew if due, retry a failure once its backoff passed.
    Routine,
    /// Graph sent `reauthorizationRequired`: renew now (one PATCH both renews and reauthorizes;
    /// never a reauthorize and a PATCH within 10 minutes, §1.4), ignoring any backoff.
    Reauthorize { subscription_id: String },
    /// Graph sent `subscriptionRemoved`: make sure the binding has a live one again.
    Recreate { subscription_id: String },
}

/// What upkeep did, for the run's report and the tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionAction {
    /// Nothing was due.
    Unchanged,
    /// Waiting for a failure's backoff to pass.
    BackingOff,
    Created,
    Renewed,
    /// A refused renewal was replaced by a new subscription, then the old one deleted.
    Replaced,
    /// The old one was gone (404) and a new one was made.
    Recreated,
    /// A 409 named a subscription of ours we had no record of; it was deleted and recreated.
    Adopted,
    /// The attempt failed; the reason and the next retry are on the schedule.
    Failed,
}

impl SubscriptionAction {
    /// Notifications may have been missed (no subscription for a while): resync with delta.
    pub fn opened_a_gap(self) -> bool {
        matches!(
            self,
            SubscriptionAction::Created
                | SubscriptionAction::Recreated
                | SubscriptionAction::Adopted
                | SubscriptionAction::Replaced
        )
    }
}

#[derive(Debug, thiserror::Error)]
enum UpkeepError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("could not record the subscription: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

impl UpkeepError {
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            UpkeepError::Graph(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// The subscription resource of a binding, as Graph lists it (no leading slash, §3.4).
fn resource_of(binding: &Binding) -> String {
    format!(
        "users/{}/todo/lists/{}/tasks",
        binding.user_id, binding.remote_container_id
    )
}

fn same_resource(a: &str, b: &str) -> bool {
    a.trim_start_matches('/')
        .eq_ignore_ascii_case(b.trim_start_matches('/'))
}

/// Keeps the binding's subscription alive; records failures on `schedule`.
pub async fn upkeep<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    request: &SubscriptionRequest,
) -> SubscriptionAction
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    let forced = *request != SubscriptionRequest::Routine;
    if !forced
        && schedule
            .subscription_failure
            .as_ref()
            .is_some_and(|f| f.next_retry > now)
    {
        return SubscriptionAction::BackingOff;
    }
    let result = match (&schedule.subscription_id, request) {
        (None, _) => create(store, graph, settings, binding, schedule, now).await,
        (Some(current), SubscriptionRequest::Recreate { subscription_id })
            if current != subscription_id =>
        {
            // A stale hint about a subscription already replaced: routine upkeep only.
            renew_if_due(store, graph, settings, binding, schedule, now, false).await
        }
        (Some(current), SubscriptionRequest::Recreate { .. }) => {
            let current = current.clone();
            match graph.subscriptions().get(&current).await {
                Err(GraphError::NotFound) => {
                    recreate_after_loss(store, graph, settings, binding, schedule, now, &current)
                        .await
                }
                Ok(_) => renew_if_due(store, graph, settings, binding, schedule, now, false).await,
                Err(e) => Err(e.into()),
            }
        }
        (Some(_), SubscriptionRequest::Reauthorize { .. }) => {
            renew_if_due(store, graph, settings, binding, schedule, now, true).await
        }
        (Some(_), SubscriptionRequest::Routine) => {
            renew_if_due(store, graph, settings, binding, schedule, now, false).await
        }
    };
    match result {
        Ok(action) => {
            if action != SubscriptionAction::Unchanged {
                schedule.subscription_failure = None;
            }
            action
        }
        Err(error) => {
            let reason = error.to_string();
            tracing::warn!(binding_id = %binding.id, reason = %reason, "subscription upkeep failed");
            let mut failure = backoff(
                schedule.subscription_failure.as_ref(),
                reason,
                error.retry_after(),
                now,
                settings,
            );
            // A refused renewal must still switch before the old subscription lapses.
            if let Some(expires) = schedule.subscription_expires_at {
                let switch_at = expires - settings.switch_margin;
                if switch_at > now && failure.next_retry > switch_at {
                    failure.next_retry = switch_at;
                }
            }
            schedule.subscription_failure = Some(failure);
            SubscriptionAction::Failed
        }
    }
}

async fn renew_if_due<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    force: bool,
) -> Result<SubscriptionAction, UpkeepError>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    let Some(current) = schedule.subscription_id.clone() else {
        return create(store, graph, settings, binding, schedule, now).await;
    };
    let due = schedule.renew_at(settings).is_none_or(|at| at <= now);
    let retrying = schedule.subscription_failure.is_some();
    if !force && !due && !retrying {
        return Ok(SubscriptionAction::Unchanged);
    }
    let expiry = now + settings.subscription_lifetime;
    match graph.subscriptions().renew(&current, expiry).await {
        Ok(renewed) => {
            if let Some(mut record) = store.find_subscription(&current).await? {
                record.expires_at = renewed.expiration_date_time;
                store.save_subscription(&record).await?;
            }
            schedule.subscription_expires_at = Some(renewed.expiration_date_time);
            Ok(SubscriptionAction::Renewed)
        }
        Err(GraphError::NotFound) => {
            recreate_after_loss(store, graph, settings, binding, schedule, now, &current).await
        }
        // Refused (some doc pages say app-only renewal of To Do subscriptions is unsupported,
        // graph-facts §1.2): make before break.
        Err(GraphError::Forbidden { .. } | GraphError::BadRequest { .. }) => {
            replace(store, graph, settings, binding, schedule, now, &current).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The recorded subscription is gone: forget it and make a new one.
async fn recreate_after_loss<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    old: &str,
) -> Result<SubscriptionAction, UpkeepError>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    store.remove_subscription(old).await?;
    schedule.subscription_id = None;
    schedule.subscription_expires_at = None;
    create(store, graph, settings, binding, schedule, now).await?;
    Ok(SubscriptionAction::Recreated)
}

/// Make before break: the replacement first, recorded, then the old one deleted. When Graph
/// holds only one subscription per list and change type (409), the old one keeps serving until
/// `switch_margin` before its expiry; then it is deleted and the new one made at once (the gap
/// of one request is covered by the delta resync the caller queues).
async fn replace<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
    old: &str,
) -> Result<SubscriptionAction, UpkeepError>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    match create_once(store, graph, settings, binding, now).await {
        Ok(record) => {
            schedule.subscription_id = Some(record.id.clone());
            schedule.subscription_expires_at = Some(record.expires_at);
            delete_quietly(store, graph, old).await;
            Ok(SubscriptionAction::Replaced)
        }
        Err(UpkeepError::Graph(GraphError::Conflict { .. })) => {
            let switch_at = schedule
                .subscription_expires_at
                .map(|e| e - settings.switch_margin);
            if switch_at.is_none_or(|at| at <= now) {
                delete_quietly(store, graph, old).await;
                schedule.subscription_id = None;
                schedule.subscription_expires_at = None;
                create(store, graph, settings, binding, schedule, now).await?;
                Ok(SubscriptionAction::Replaced)
            } else {
                Err(UpkeepError::Other(format!(
                    "renewal refused and Graph allows no second subscription on the list (409); \
                     the current one serves until it is switched {} before expiry",
                    humanize(settings.switch_margin)
                )))
            }
        }
        Err(e) => Err(e),
    }
}

fn humanize(d: chrono::Duration) -> String {
    format!("{} min", d.num_minutes())
}

/// Deletes a subscription on Graph and its record; a failure only means it lapses on its own.
async fn delete_quietly<S: SubscriptionRemove>(store: &S, graph: &GraphClient, id: &str) {
    match graph.subscriptions().delete(id).await {
        Ok(()) | Err(GraphError::NotFound) => {}
        Err(e) => {
            tracing::warn!(subscription_id = %id, error = %e, "old subscription not deleted; it will expire")
        }
    }
    if let Err(e) = store.remove_subscription(id).await {
        tracing::warn!(subscription_id = %id, error = %e, "old subscription record not removed");
    }
}

/// Creates the binding's subscription; on 409 adopts ours (found by resource and notification
/// URL; its clientState cannot be read back, §1.5) by deleting and recreating it.
async fn create<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
) -> Result<SubscriptionAction, UpkeepError>
where
    S: SubscriptionSave + SubscriptionRemove,
{
    let (record, action) = match create_once(store, graph, settings, binding, now).await {
        Ok(record) => (record, SubscriptionAction::Created),
        Err(UpkeepError::Graph(GraphError::Conflict { .. })) => {
            let resource = resource_of(binding);
            let ours = graph
                .subscriptions()
                .list()
                .await?
                .into_iter()
                .filter(|s| {
                    same_resource(&s.resource, &resource)
                        && s.notification_url == settings.webhook.notification_url
                })
                .collect::<Vec<_>>();
            if ours.is_empty() {
                return Err(UpkeepError::Other(format!(
                    "Graph reports a subscription on {resource} already exists (409) but none \
                     of this app's subscriptions on it posts to {}; an operator must remove it",
                    settings.webhook.notification_url
                )));
            }
            for old in &ours {
                delete_quietly(store, graph, &old.id).await;
            }
            (
                create_once(store, graph, settings, binding, now).await?,
                SubscriptionAction::Adopted,
            )
        }
        Err(e) => return Err(e),
    };
    schedule.subscription_id = Some(record.id);
    schedule.subscription_expires_at = Some(record.expires_at);
    Ok(action)
}

/// One `POST /subscriptions` with a fresh clientState (kept only in the sync table), recorded
/// before it is returned.
async fn create_once<S: SubscriptionSave>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    now: DateTime<Utc>,
) -> Result<SubscriptionRecord, UpkeepError> {
    let client_state = new_client_state();
    let created = graph
        .subscriptions()
        .create(&NewSubscription::todo_tasks(
            &binding.user_id,
            &binding.remote_container_id,
            &settings.webhook.notification_url,
            &settings.webhook.lifecycle_url,
            now + settings.subscription_lifetime,
            client_state.clone(),
        ))
        .await?;
    let record = SubscriptionRecord {
        id: created.id,
        binding_id: binding.id.clone(),
        client_state,
        tenant_id: settings.tenant_id.clone(),
        expires_at: created.expiration_date_time,
    };
    store.save_subscription(&record).await?;
    Ok(record)
}

/// Deletes a binding's subscription (the binding is gone); failures are logged only.
pub async fn remove<S: SubscriptionRemove>(store: &S, graph: &GraphClient, id: &str) {
    delete_quietly(store, graph, id).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_compare_without_case_or_leading_slash() {
        assert!(same_resource(
            "/Users/U1/todo/lists/L/tasks",
            "users/u1/todo/lists/L/tasks"
        ));
        assert!(!same_resource(
            "users/u1/todo/lists/L/tasks",
            "users/u1/todo/lists/M/tasks"
        ));
    }

    #[test]
    fn only_new_subscriptions_open_a_gap() {
        assert!(SubscriptionAction::Recreated.opened_a_gap());
        assert!(!SubscriptionAction::Renewed.opened_a_gap());
        assert!(!SubscriptionAction::Failed.opened_a_gap());
    }
}
