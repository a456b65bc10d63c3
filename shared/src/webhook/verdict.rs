//! Deciding whether one notification is authentic, and what it asks for.
//!
//! Anybody can post to the webhook URL, so an item is believed only when it names a subscription we
//! recorded, carries that subscription's clientState (docs/graph-behaviour.md §1.6: "on a mismatch,
//! treat the notification as not from Graph"), and comes from the subscription's tenant (and the
//! configured one, when set). Tenant ids are GUIDs, compared without regard to case.

use crate::model::SubscriptionRecord;
use crate::notification::{LifecycleEvent, Notification};
use crate::queue_message::Hint;

use super::outcome::RejectReason;

/// The `reason` a `missed` lifecycle event puts on its resync hint.
pub const MISSED_REASON: &str = "missed";

/// Judges one well-formed item against the subscription it names.
pub fn judge(
    notification: &Notification,
    record: &SubscriptionRecord,
    expected_tenant_id: Option<&str>,
) -> Result<Hint, RejectReason> {
    let envelope = notification.envelope();
    let state_ok = envelope
        .client_state
        .as_ref()
        .is_some_and(|state| state.matches(&record.client_state));
    if !state_ok {
        return Err(RejectReason::ClientStateMismatch);
    }
    let tenant_ok = envelope.tenant_id.eq_ignore_ascii_case(&record.tenant_id)
        && expected_tenant_id.is_none_or(|t| envelope.tenant_id.eq_ignore_ascii_case(t));
    if !tenant_ok {
        return Err(RejectReason::ForeignTenant);
    }
    if record.binding_id.is_empty() {
        return Err(RejectReason::InvalidSubscriptionRecord);
    }
    let binding_id = record.binding_id.clone();
    match notification {
        Notification::Change(change) => {
            let task_id = change.todo_task_id().ok_or(RejectReason::NotATodoTask)?;
            Ok(Hint::RemoteTodoTask {
                binding_id,
                task_id,
            })
        }
        Notification::Lifecycle(lifecycle) => {
            let subscription_id = envelope.subscription_id.clone();
            match lifecycle.event {
                LifecycleEvent::ReauthorizationRequired => Ok(Hint::ReauthorizeSubscription {
                    binding_id,
                    subscription_id,
                }),
                LifecycleEvent::SubscriptionRemoved => Ok(Hint::RecreateSubscription {
                    binding_id,
                    subscription_id,
                }),
                LifecycleEvent::Missed => Ok(Hint::ResyncBinding {
                    binding_id,
                    reason: MISSED_REASON.to_owned(),
                }),
                LifecycleEvent::Unknown => Err(RejectReason::UnsupportedLifecycleEvent),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::parse_item;
    use chrono::Utc;
    use serde_json::json;

    const TENANT: &str = "84bd8158-6d4d-4958-8b9f-9d6445542f95";

    fn record() -> SubscriptionRecord {
        SubscriptionRecord {
            id: "sub-1".into(),
            binding_id: "binding-1".into(),
            client_state: "right-secret".into(),
            tenant_id: TENANT.into(),
            expires_at: Utc::now(),
        }
    }

    fn change(client_state: serde_json::Value, tenant: &str) -> Notification {
        parse_item(&json!({
            "subscriptionId": "sub-1",
            "subscriptionExpirationDateTime": "2026-11-22T10:00:00Z",
            "clientState": client_state,
            "changeType": "updated",
            "tenantId": tenant,
            "resource": "Users/u1/todo/Lists/L1/Tasks/T1",
        }))
        .unwrap()
    }

    fn lifecycle(event: &str) -> Notification {
        parse_item(&json!({
            "subscriptionId": "sub-1",
            "subscriptionExpirationDateTime": "2026-11-22T10:00:00Z",
            "clientState": "right-secret",
            "tenantId": TENANT,
            "lifecycleEvent": event,
        }))
        .unwrap()
    }

    #[test]
    fn accepts_an_authentic_change_as_a_task_hint() {
        let hint = judge(
            &change(json!("right-secret"), TENANT),
            &record(),
            Some(TENANT),
        );
        assert_eq!(
            hint,
            Ok(Hint::RemoteTodoTask {
                binding_id: "binding-1".into(),
                task_id: "T1".into()
            })
        );
        // Tenant GUIDs differ only in case: still the same tenant.
        let upper = TENANT.to_uppercase();
        assert!(
            judge(
                &change(json!("right-secret"), &upper),
                &record(),
                Some(TENANT)
            )
            .is_ok()
        );
    }

    #[test]
    fn refuses_wrong_missing_or_foreign() {
        let r = record();
        assert_eq!(
            judge(&change(json!("wrong"), TENANT), &r, None),
            Err(RejectReason::ClientStateMismatch)
        );
        assert_eq!(
            judge(&change(json!(null), TENANT), &r, None),
            Err(RejectReason::ClientStateMismatch)
        );
        assert_eq!(
            judge(&change(json!("right-secret"), "other-tenant"), &r, None),
            Err(RejectReason::ForeignTenant)
        );
        assert_eq!(
            judge(
                &change(json!("right-secret"), TENANT),
                &r,
                Some("configured-other")
            ),
            Err(RejectReason::ForeignTenant)
        );
    }

    #[test]
    fn maps_lifecycle_events_to_subscription_hints() {
        let r = record();
        assert_eq!(
            judge(&lifecycle("reauthorizationRequired"), &r, None),
            Ok(Hint::ReauthorizeSubscription {
                binding_id: "binding-1".into(),
                subscription_id: "sub-1".into()
            })
        );
        assert_eq!(
            judge(&lifecycle("subscriptionRemoved"), &r, None),
            Ok(Hint::RecreateSubscription {
                binding_id: "binding-1".into(),
                subscription_id: "sub-1".into()
            })
        );
        assert_eq!(
            judge(&lifecycle("missed"), &r, None),
            Ok(Hint::ResyncBinding {
                binding_id: "binding-1".into(),
                reason: "missed".into()
            })
        );
        assert_eq!(
            judge(&lifecycle("somethingNew"), &r, None),
            Err(RejectReason::UnsupportedLifecycleEvent)
        );
    }
}
