//! Change-notification subscriptions (docs/graph-behaviour.md §1.1). `clientState` is a shared
//! secret: the `Debug` impls redact it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::notification::debug_hiding_client_state;

/// `subscription` as Graph returns it. `client_state` is `None` in list responses (§1.5).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    #[serde(default)]
    pub resource: String,
    #[serde(default)]
    pub change_type: String,
    #[serde(default)]
    pub notification_url: String,
    #[serde(default)]
    pub lifecycle_notification_url: Option<String>,
    pub expiration_date_time: DateTime<Utc>,
    #[serde(default)]
    pub client_state: Option<String>,
    #[serde(default)]
    pub application_id: Option<String>,
    #[serde(default)]
    pub creator_id: Option<String>,
}

debug_hiding_client_state! {
    Subscription {
        id, resource, change_type, notification_url, lifecycle_notification_url,
        expiration_date_time, application_id, creator_id,
    }
}

/// A subscription to create (`POST /subscriptions`, §1.2).
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSubscription {
    /// Relative to the version root, e.g. `users/{id}/todo/lists/{list}/tasks`.
    pub resource: String,
    /// e.g. `created,updated,deleted`.
    pub change_type: String,
    pub notification_url: String,
    /// Cannot be added later (§1.1), so always give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_notification_url: Option<String>,
    pub expiration_date_time: DateTime<Utc>,
    pub client_state: String,
    pub latest_supported_tls_version: String,
}

impl NewSubscription {
    /// A subscription on one To Do list's tasks (§3.4) for every change type.
    pub fn todo_tasks(
        user_id: &str,
        list_id: &str,
        notification_url: impl Into<String>,
        lifecycle_notification_url: impl Into<String>,
        expiration: DateTime<Utc>,
        client_state: impl Into<String>,
    ) -> Self {
        Self {
            resource: format!("users/{user_id}/todo/lists/{list_id}/tasks"),
            change_type: "created,updated,deleted".to_owned(),
            notification_url: notification_url.into(),
            lifecycle_notification_url: Some(lifecycle_notification_url.into()),
            expiration_date_time: expiration,
            client_state: client_state.into(),
            latest_supported_tls_version: "v1_2".to_owned(),
        }
    }
}

debug_hiding_client_state! {
    NewSubscription {
        resource, change_type, notification_url, lifecycle_notification_url,
        expiration_date_time, latest_supported_tls_version,
    }
}

/// The longest lifetime of a todoTask subscription: 4,230 minutes (§1.9).
pub const TODO_SUBSCRIPTION_MAX_MINUTES: i64 = 4230;
