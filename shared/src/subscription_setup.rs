//! Connecting a To Do binding to Graph's change notifications: a subscription on the list's
//! tasks, with a fresh random clientState that only the sync table keeps.
//!
//! The scheduler owns renewal and repair (`crate::scheduler::subscription`); this is the first
//! connection, which also records the subscription on the binding's schedule so the
//! scheduler renews it instead of meeting a 409 for a subscription it does not know.

use chrono::{DateTime, Utc};

use crate::graph::GraphClient;
use crate::graph::models::subscription::NewSubscription;
use crate::model::{Binding, RemoteKind, SubscriptionRecord};
use crate::ports::{BindingSave, ScheduleStore, StoreError, SubscriptionSave};
use crate::scheduler::{BindingSchedule, SchedulerSettings};

/// Where Graph posts change and lifecycle notifications (the webhook's two paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrls {
    pub notification_url: String,
    pub lifecycle_url: String,
}

impl WebhookUrls {
    /// The webhook's paths under one base URL (API Gateway's, or the local server's).
    pub fn under(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        Self {
            notification_url: format!("{base}{}", crate::webhook::NOTIFICATION_PATH),
            lifecycle_url: format!("{base}{}", crate::webhook::LIFECYCLE_PATH),
        }
    }

    /// One `POST /subscriptions` on the binding's list, posting to these URLs, with a fresh
    /// clientState recorded in the sync table before it is returned: that record is the only
    /// place the clientState is kept, and the webhook authenticates the subscription's
    /// notifications against it.
    pub(crate) async fn subscribe<S: SubscriptionSave>(
        &self,
        graph: &GraphClient,
        store: &S,
        binding: &Binding,
        tenant_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<SubscriptionRecord, SetupError> {
        let client_state = new_client_state();
        let created = graph
            .subscriptions()
            .create(&NewSubscription::todo_tasks(
                &binding.user_id,
                &binding.remote_container_id,
                &self.notification_url,
                &self.lifecycle_url,
                expires_at,
                client_state.clone(),
            ))
            .await?;
        let record = SubscriptionRecord {
            id: created.id,
            binding_id: binding.id.clone(),
            client_state,
            tenant_id: tenant_id.to_owned(),
            expires_at: created.expiration_date_time,
        };
        store.save_subscription(&record).await?;
        Ok(record)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("binding {0:?} is not a To Do binding")]
    NotTodo(String),
    #[error("Graph refused the subscription: {0}")]
    Graph(#[from] crate::graph::GraphError),
    #[error("could not record the binding or subscription: {0}")]
    Store(#[from] StoreError),
}

/// A clientState Graph echoes back on every notification: two v4 UUIDs, 64 hex characters (244 random bits)
/// (Graph allows up to 128).
pub fn new_client_state() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Saves the binding, creates the subscription (Graph runs the validation handshake against the
/// webhook before it answers) and records it, so the webhook can authenticate its notifications.
///
/// A change made between Graph's answer and the record being saved is rejected by the webhook as
/// coming from an unknown subscription; the binding's resync (queued by the caller) and the
/// scheduler's sweep pick it up, so nothing is lost.
pub async fn connect_todo_binding<S: BindingSave + SubscriptionSave + ScheduleStore>(
    graph: &GraphClient,
    store: &S,
    binding: &Binding,
    urls: &WebhookUrls,
    tenant_id: &str,
    expires_at: DateTime<Utc>,
) -> Result<SubscriptionRecord, SetupError> {
    if binding.remote != RemoteKind::Todo {
        return Err(SetupError::NotTodo(binding.id.clone()));
    }
    store.save_binding(binding).await?;
    let record = urls
        .subscribe(graph, store, binding, tenant_id, expires_at)
        .await?;
    let now = Utc::now();
    let mut schedule = store
        .get_schedule(&binding.id)
        .await?
        .unwrap_or_else(|| BindingSchedule::new(&binding.id, binding.remote, now));
    schedule.hold_subscription(&record);
    schedule.subscription_failure = None;
    schedule.refresh_due(&SchedulerSettings::default());
    store.put_schedule(&schedule).await?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_states_are_long_random_and_within_graphs_limit() {
        let a = new_client_state();
        let b = new_client_state();
        assert_eq!(a.len(), 64);
        assert!(a.len() <= 128);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn webhook_urls_use_the_handlers_paths() {
        let urls = WebhookUrls::under("http://127.0.0.1:8080/");
        assert_eq!(urls.notification_url, "http://127.0.0.1:8080/notifications");
        assert_eq!(urls.lifecycle_url, "http://127.0.0.1:8080/lifecycle");
    }
}
