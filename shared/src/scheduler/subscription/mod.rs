//! Keeping exactly one live Graph subscription per To Do binding (docs/graph-behaviour.md
//! §1.2–§1.5, §1.8, §1.9): create when missing, renew well before expiry, recreate when gone,
//! adopt or repair what a 409 reports, and make before break when a renewal is refused.

use chrono::{DateTime, Utc};

mod conflict;

use super::schedule::{BindingSchedule, backoff};
use super::settings::SchedulerSettings;
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, SubscriptionRecord};
use crate::ports::{StoreError, SubscriptionLookup, SubscriptionRemove, SubscriptionSave};
use crate::subscription_setup::SetupError;

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

impl From<SetupError> for UpkeepError {
    fn from(error: SetupError) -> Self {
        match error {
            SetupError::Graph(e) => UpkeepError::Graph(e),
            SetupError::Store(e) => UpkeepError::Store(e),
            other @ SetupError::NotTodo(_) => UpkeepError::Other(other.to_string()),
        }
    }
}

impl UpkeepError {
    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            UpkeepError::Graph(e) => e.retry_after(),
            _ => None,
        }
    }
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
    let upkeep = Upkeep {
        store,
        graph,
        settings,
        binding,
        now,
    };
    let result = match (&schedule.subscription_id, request) {
        (None, _) => upkeep.create(schedule).await,
        (Some(current), SubscriptionRequest::Recreate { subscription_id })
            if current != subscription_id =>
        {
            // A stale hint about a subscription already replaced: routine upkeep only.
            upkeep.renew_if_due(schedule, false).await
        }
        (Some(current), SubscriptionRequest::Recreate { .. }) => {
            let current = current.clone();
            match graph.subscriptions().get(&current).await {
                Err(GraphError::NotFound) => upkeep.recreate_after_loss(schedule, &current).await,
                Ok(_) => upkeep.renew_if_due(schedule, false).await,
                Err(e) => Err(e.into()),
            }
        }
        (Some(_), SubscriptionRequest::Reauthorize { .. }) => {
            upkeep.renew_if_due(schedule, true).await
        }
        (Some(_), SubscriptionRequest::Routine) => upkeep.renew_if_due(schedule, false).await,
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

/// What every step of one binding's upkeep works with, besides the schedule it updates.
struct Upkeep<'a, S> {
    store: &'a S,
    graph: &'a GraphClient,
    settings: &'a SchedulerSettings,
    binding: &'a Binding,
    now: DateTime<Utc>,
}

impl<S> Upkeep<'_, S>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    async fn renew_if_due(
        &self,
        schedule: &mut BindingSchedule,
        force: bool,
    ) -> Result<SubscriptionAction, UpkeepError> {
        let Some(current) = schedule.subscription_id.clone() else {
            return self.create(schedule).await;
        };
        let due = schedule
            .renew_at(self.settings)
            .is_none_or(|at| at <= self.now);
        let retrying = schedule.subscription_failure.is_some();
        if !force && !due && !retrying {
            return self.verify_alive(schedule, &current).await;
        }
        let expiry = self.now + self.settings.subscription_lifetime;
        match self.graph.subscriptions().renew(&current, expiry).await {
            Ok(renewed) => {
                if let Some(mut record) = self.store.find_subscription(&current).await? {
                    record.expires_at = renewed.expiration_date_time;
                    self.store.save_subscription(&record).await?;
                }
                schedule.subscription_expires_at = Some(renewed.expiration_date_time);
                Ok(SubscriptionAction::Renewed)
            }
            Err(GraphError::NotFound) => self.recreate_after_loss(schedule, &current).await,
            // Refused (some doc pages say app-only renewal of To Do subscriptions is
            // unsupported, docs/graph-behaviour.md §1.2): make before break.
            Err(GraphError::Forbidden { .. } | GraphError::BadRequest { .. }) => {
                self.replace(schedule, &current).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Between renewals, one `GET /subscriptions/{id}` per run: Graph can drop a subscription
    /// without a lifecycle notice (an admin, a tenant clean-up, an outage), and the renewal
    /// would notice only about two days later. A 404 recreates it now, so a silent drop costs
    /// at most one scheduler interval of notifications (and the caller's delta resync finds
    /// those). Any other failure of the check changes nothing: the renewal decides.
    async fn verify_alive(
        &self,
        schedule: &mut BindingSchedule,
        current: &str,
    ) -> Result<SubscriptionAction, UpkeepError> {
        match self.graph.subscriptions().get(current).await {
            Err(GraphError::NotFound) => {
                tracing::warn!(
                    binding_id = %self.binding.id,
                    subscription_id = current,
                    "subscription gone from Graph without a lifecycle notice: recreating"
                );
                self.recreate_after_loss(schedule, current).await
            }
            Ok(_) => Ok(SubscriptionAction::Unchanged),
            Err(e) => {
                tracing::info!(binding_id = %self.binding.id, error = %e, "subscription check failed; left to the renewal");
                Ok(SubscriptionAction::Unchanged)
            }
        }
    }

    /// The recorded subscription is gone: forget it and make a new one.
    async fn recreate_after_loss(
        &self,
        schedule: &mut BindingSchedule,
        old: &str,
    ) -> Result<SubscriptionAction, UpkeepError> {
        self.store.remove_subscription(old).await?;
        schedule.drop_subscription();
        self.create(schedule).await?;
        Ok(SubscriptionAction::Recreated)
    }

    /// Make before break: the replacement first, recorded, then the old one deleted. When Graph
    /// holds only one subscription per list and change type (409), the old one keeps serving
    /// until `switch_margin` before its expiry; then it is deleted and the new one made at once
    /// (the gap of one request is covered by the delta resync the caller queues).
    async fn replace(
        &self,
        schedule: &mut BindingSchedule,
        old: &str,
    ) -> Result<SubscriptionAction, UpkeepError> {
        match self.create_once().await {
            Ok(record) => {
                schedule.hold_subscription(&record);
                delete_quietly(self.store, self.graph, old).await;
                Ok(SubscriptionAction::Replaced)
            }
            Err(UpkeepError::Graph(GraphError::Conflict { .. })) => {
                let switch_at = schedule
                    .subscription_expires_at
                    .map(|e| e - self.settings.switch_margin);
                if switch_at.is_none_or(|at| at <= self.now) {
                    delete_quietly(self.store, self.graph, old).await;
                    schedule.drop_subscription();
                    self.create(schedule).await?;
                    Ok(SubscriptionAction::Replaced)
                } else {
                    Err(UpkeepError::Other(format!(
                        "renewal refused and Graph allows no second subscription on the list \
                         (409); the current one serves until it is switched {} before expiry",
                        humanize(self.settings.switch_margin)
                    )))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Creates the binding's subscription, settling a 409 with [`Upkeep::settle_conflict`].
    async fn create(
        &self,
        schedule: &mut BindingSchedule,
    ) -> Result<SubscriptionAction, UpkeepError> {
        let (record, action) = match self.create_once().await {
            Ok(record) => (record, SubscriptionAction::Created),
            Err(UpkeepError::Graph(GraphError::Conflict { .. })) => self.settle_conflict().await?,
            Err(e) => return Err(e),
        };
        schedule.hold_subscription(&record);
        Ok(action)
    }

    /// One `POST /subscriptions`, recorded before it is returned.
    async fn create_once(&self) -> Result<SubscriptionRecord, UpkeepError> {
        let settings = self.settings;
        let record = settings
            .webhook
            .subscribe(
                self.graph,
                self.store,
                self.binding,
                &settings.tenant_id,
                self.now + settings.subscription_lifetime,
            )
            .await?;
        Ok(record)
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

/// Deletes a binding's subscription (the binding is gone); failures are logged only.
pub async fn remove<S: SubscriptionRemove>(store: &S, graph: &GraphClient, id: &str) {
    delete_quietly(store, graph, id).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_new_subscriptions_open_a_gap() {
        assert!(SubscriptionAction::Recreated.opened_a_gap());
        assert!(SubscriptionAction::Repaired.opened_a_gap());
        assert!(SubscriptionAction::Adopted.opened_a_gap());
        assert!(!SubscriptionAction::Renewed.opened_a_gap());
        assert!(!SubscriptionAction::Failed.opened_a_gap());
    }
}
