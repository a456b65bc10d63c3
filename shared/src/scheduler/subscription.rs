//! Keeping exactly one live Graph subscription per To Do binding (graph-facts §1.2–§1.5, §1.8,
//! §1.9): create when missing, renew well before expiry, recreate when gone, adopt or repair what
//! a 409 reports, and make before break when a renewal is refused.
//!
//! Failures are recorded on the schedule with a reason and retried with backoff; they never
//! abort the run. A run that dies after Graph created a subscription leaves the schedule without
//! it, so the next attempt meets a 409: it adopts the subscription when the sync table holds its
//! clientState, and repairs (deletes and remakes) it when not: self-healing either way.

use chrono::{DateTime, Utc};

use super::schedule::{BindingSchedule, backoff};
use super::settings::SchedulerSettings;
use crate::graph::models::subscription::{NewSubscription, Subscription};
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
    /// A 409 named a subscription the sync table knows for this binding (so its clientState is
    /// ours): the schedule points to it again, nothing was created.
    Adopted,
    /// A 409 named a subscription posting to our webhook that the sync table does not know:
    /// useless (its clientState cannot be read back, §1.5), so it was deleted and ours made.
    Repaired,
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
                | SubscriptionAction::Repaired
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

/// Creates the binding's subscription, settling a 409 with [`settle_conflict`].
async fn create<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    schedule: &mut BindingSchedule,
    now: DateTime<Utc>,
) -> Result<SubscriptionAction, UpkeepError>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    let (record, action) = match create_once(store, graph, settings, binding, now).await {
        Ok(record) => (record, SubscriptionAction::Created),
        Err(UpkeepError::Graph(GraphError::Conflict { .. })) => {
            settle_conflict(store, graph, settings, binding, now).await?
        }
        Err(e) => return Err(e),
    };
    schedule.subscription_id = Some(record.id);
    schedule.subscription_expires_at = Some(record.expires_at);
    Ok(action)
}

/// What to do with one subscription Graph holds on the binding's list.
#[derive(Debug, PartialEq, Eq)]
enum Holder {
    /// The sync table knows it for this binding and it posts to our webhook.
    Ours,
    /// Provably ours but unusable: it posts to our webhook with a clientState nobody recorded, or
    /// the sync table knows it for this binding but it posts to a URL we no longer use.
    Stale,
    /// Not ours to remove (another binding's, or another URL with no record): why.
    Foreign(String),
}

fn holder_of(
    listed: &Subscription,
    record: Option<&SubscriptionRecord>,
    binding: &Binding,
    our_url: &str,
) -> Holder {
    let posts_to_us = listed.notification_url == our_url;
    match record {
        Some(r) if r.binding_id == binding.id && posts_to_us => Holder::Ours,
        Some(r) if r.binding_id == binding.id => Holder::Stale,
        Some(r) => Holder::Foreign(format!(
            "subscription {} is binding {}'s",
            listed.id, r.binding_id
        )),
        None if posts_to_us => Holder::Stale,
        None => Holder::Foreign(format!(
            "subscription {} posts to {}, not to this deployment's webhook",
            listed.id, listed.notification_url
        )),
    }
}

/// Graph holds one subscription per resource and change type (409, §1.2) and never returns a
/// clientState after the create (§1.5). So a subscription is kept only when the sync table holds
/// its clientState for this binding (adopted: the webhook can verify its notifications); one that
/// posts to our webhook without a record is deleted and ours made through the handshake
/// (repaired: notifications the webhook cannot verify are worth nothing). One that is not
/// provably ours (another binding's, or another webhook URL: a second deployment sharing the app
/// registration) is left alone and reported; it lapses by itself within 4,230 minutes (§1.9),
/// and the backoff retries until then. Deleting it would start a tug of war with its owner.
async fn settle_conflict<S>(
    store: &S,
    graph: &GraphClient,
    settings: &SchedulerSettings,
    binding: &Binding,
    now: DateTime<Utc>,
) -> Result<(SubscriptionRecord, SubscriptionAction), UpkeepError>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    let resource = resource_of(binding);
    let our_url = settings.webhook.notification_url.as_str();
    let on_list: Vec<Subscription> = graph
        .subscriptions()
        .list()
        .await?
        .into_iter()
        .filter(|s| same_resource(&s.resource, &resource))
        .collect();
    let mut adopted: Option<SubscriptionRecord> = None;
    let mut stale = Vec::new();
    let mut foreign = Vec::new();
    for listed in &on_list {
        let record = store.find_subscription(&listed.id).await?;
        match holder_of(listed, record.as_ref(), binding, our_url) {
            Holder::Ours if adopted.is_none() => {
                adopted = record.map(|mut r| {
                    r.expires_at = listed.expiration_date_time;
                    r
                });
            }
            Holder::Ours | Holder::Stale => stale.push(listed.id.clone()),
            Holder::Foreign(why) => foreign.push(why),
        }
    }
    for id in &stale {
        tracing::info!(binding_id = %binding.id, subscription_id = %id, "deleting a subscription whose clientState is not ours to verify");
        delete_quietly(store, graph, id).await;
    }
    if let Some(record) = adopted {
        // Graph's expiry is the truth; the record may predate a renewal.
        store.save_subscription(&record).await?;
        tracing::info!(binding_id = %binding.id, subscription_id = %record.id, "adopted the binding's own subscription");
        return Ok((record, SubscriptionAction::Adopted));
    }
    if stale.is_empty() {
        let why = if foreign.is_empty() {
            "none of this app's subscriptions is on it (another app's may be)".to_owned()
        } else {
            foreign.join("; ")
        };
        return Err(UpkeepError::Other(format!(
            "Graph reports a subscription on {resource} already exists (409) and it is not \
             this binding's to replace: {why}; left alone until it lapses or an operator removes it"
        )));
    }
    let record = create_once(store, graph, settings, binding, now).await?;
    Ok((record, SubscriptionAction::Repaired))
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

    fn listed(id: &str, url: &str) -> Subscription {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "resource": "users/u1/todo/lists/L/tasks",
            "changeType": "created,updated,deleted",
            "notificationUrl": url,
            "expirationDateTime": "2026-11-25T00:00:00Z",
            "clientState": null
        }))
        .unwrap()
    }

    fn record(id: &str, binding_id: &str) -> SubscriptionRecord {
        SubscriptionRecord {
            id: id.into(),
            binding_id: binding_id.into(),
            client_state: "kept-in-the-sync-table".into(),
            tenant_id: "t".into(),
            expires_at: Utc::now(),
        }
    }

    #[test]
    fn only_a_subscription_whose_client_state_we_hold_is_kept() {
        let b = Binding::todo("b1", "inbox", "u1", "L".to_owned());
        let ours = "https://hooks.example/notifications";
        let other = "https://elsewhere.example/notifications";
        let s = listed("s1", ours);
        assert_eq!(
            holder_of(&s, Some(&record("s1", "b1")), &b, ours),
            Holder::Ours
        );
        assert_eq!(
            holder_of(&s, None, &b, ours),
            Holder::Stale,
            "no clientState: remake"
        );
        let moved = listed("s1", other);
        assert_eq!(
            holder_of(&moved, Some(&record("s1", "b1")), &b, ours),
            Holder::Stale
        );
        assert!(matches!(
            holder_of(&moved, None, &b, ours),
            Holder::Foreign(_)
        ));
        assert!(matches!(
            holder_of(&s, Some(&record("s1", "b2")), &b, ours),
            Holder::Foreign(why) if why.contains("b2")
        ));
    }

    #[test]
    fn only_new_subscriptions_open_a_gap() {
        assert!(SubscriptionAction::Recreated.opened_a_gap());
        assert!(SubscriptionAction::Repaired.opened_a_gap());
        assert!(SubscriptionAction::Adopted.opened_a_gap());
        assert!(!SubscriptionAction::Renewed.opened_a_gap());
        assert!(!SubscriptionAction::Failed.opened_a_gap());
    }
}
