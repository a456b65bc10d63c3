//! Outgoing notifications: a change notification for every task write on a watched list
//! (docs/graph-behaviour.md §1.6) and lifecycle notifications on demand (§1.8).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Result, Subscription, bad, parse_object};
use crate::delivery::Kind;
use crate::state::{AppState, lock};
use crate::todo::timezone::format_offset;
use crate::todo::{ChangeKind, TaskChange};

/// A notification id like the real ones (`lsgTZMr9KwAAA`): opaque, short.
fn notification_id() -> String {
    let bytes: [u8; 9] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The `changeNotification` for one task write (docs/graph-behaviour.md §1.6). `resource` and
/// `resourceData.@odata.id` take Exchange's form for To Do,
/// `Users/{user}/todo/Lists/{list}/Tasks/{task}` (user id as configured); deletions carry no
/// `@odata.etag`.
pub fn change_notification(state: &AppState, s: &Subscription, change: &TaskChange) -> Value {
    let path = format!(
        "Users/{}/todo/Lists/{}/Tasks/{}",
        state.config.user_id, change.list_id, change.task_id
    );
    let mut resource_data = json!({
        "@odata.type": "#Microsoft.Graph.todoTask",
        "@odata.id": path,
        "id": change.task_id,
    });
    if change.kind != ChangeKind::Deleted {
        resource_data["@odata.etag"] = json!(change.etag);
    }
    json!({
        "id": notification_id(),
        "subscriptionId": s.id,
        "subscriptionExpirationDateTime": format_offset(s.expiration),
        "changeType": change.kind.as_str(),
        "clientState": s.client_state,
        "resource": path,
        "tenantId": state.config.tenant_id,
        "resourceData": resource_data,
    })
}

/// Queues a change notification for every live subscription on the task's list whose
/// changeType includes this change. Never waits for delivery.
pub fn notify_task_change(state: &AppState, change: &TaskChange) {
    let now = state.clock.now();
    let outgoing: Vec<(String, Value)> = {
        let mut subs = lock(&state.subscriptions);
        subs.purge_expired(now);
        subs.subscriptions
            .iter()
            .filter(|s| s.list_id == change.list_id && s.change_kinds.contains(&change.kind))
            .map(|s| {
                (
                    s.notification_url.clone(),
                    change_notification(state, s, change),
                )
            })
            .collect()
    };
    for (url, item) in outgoing {
        state.delivery.enqueue(url, Kind::Change, item);
    }
}

/// `{"event": "reauthorizationRequired" | "subscriptionRemoved" | "missed"}` (§1.8). The real
/// service sends only reauthorizationRequired for todoTask; the others are offered so clients can
/// rehearse them. subscriptionRemoved also removes the subscription.
pub(super) async fn control_lifecycle(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let event = match body.get("event").and_then(Value::as_str) {
        Some(e @ ("reauthorizationRequired" | "subscriptionRemoved" | "missed")) => e.to_owned(),
        _ => {
            return Err(bad(
                "event must be reauthorizationRequired, subscriptionRemoved or missed.",
            ));
        }
    };
    let now = state.clock.now();
    let (url, item) = {
        let mut subs = lock(&state.subscriptions);
        let s = subs.find(&id, now)?;
        let url = s
            .lifecycle_notification_url
            .clone()
            .ok_or_else(|| bad("The subscription has no lifecycleNotificationUrl."))?;
        if event == "subscriptionRemoved" {
            subs.subscriptions.retain(|x| x.id != s.id);
        }
        let item = json!({
            "subscriptionId": s.id,
            "subscriptionExpirationDateTime": format_offset(s.expiration),
            "tenantId": state.config.tenant_id,
            "clientState": s.client_state,
            "lifecycleEvent": event,
        });
        (url, item)
    };
    state.delivery.enqueue(url, Kind::Lifecycle, item.clone());
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"value": [item]}))).into_response())
}
