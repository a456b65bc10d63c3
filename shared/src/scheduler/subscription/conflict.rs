//! A 409 on create: Graph already holds a subscription on the binding's list
//! (docs/graph-behaviour.md §1.2). Whether it is adopted, deleted and remade, or left alone
//! depends on whether it is provably this binding's.

use super::{SubscriptionAction, Upkeep, UpkeepError, delete_quietly};
use crate::graph::models::subscription::Subscription;
use crate::model::{Binding, SubscriptionRecord};
use crate::ports::{SubscriptionLookup, SubscriptionRemove, SubscriptionSave};

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
impl<S> Upkeep<'_, S>
where
    S: SubscriptionLookup + SubscriptionSave + SubscriptionRemove,
{
    pub(super) async fn settle_conflict(
        &self,
    ) -> Result<(SubscriptionRecord, SubscriptionAction), UpkeepError> {
        let binding = self.binding;
        let resource = resource_of(binding);
        let our_url = self.settings.webhook.notification_url.as_str();
        let on_list: Vec<Subscription> = self
            .graph
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
            let record = self.store.find_subscription(&listed.id).await?;
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
            delete_quietly(self.store, self.graph, id).await;
        }
        if let Some(record) = adopted {
            // Graph's expiry is the truth; the record may predate a renewal.
            self.store.save_subscription(&record).await?;
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
        let record = self.create_once().await?;
        Ok((record, SubscriptionAction::Repaired))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

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
}
