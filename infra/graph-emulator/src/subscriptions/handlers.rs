//! The Graph subscription endpoints (docs/graph-behaviour.md §1.2, §1.4, §1.5): create, list,
//! get, renew, reauthorize and delete, plus the control API's listing with clientState.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::handshake::run_handshake;
use super::request::{check_endpoint_url, effective_expiration, new_subscription};
use super::{
    LIST_PAGE_SIZE, Result, Subscription, SubscriptionError, SubscriptionState, bad, parse_object,
};
use crate::state::{AppState, lock};
use crate::todo::timezone::format_offset;

fn subscription_json(
    state: &AppState,
    s: &Subscription,
    creator_id: &str,
    show_client_state: bool,
) -> Value {
    json!({
        "@odata.context": format!("{}/$metadata#subscriptions/$entity", state.graph_base_url),
        "id": s.id,
        "resource": s.resource,
        "applicationId": state.config.client_id,
        "changeType": s.change_type,
        "clientState": if show_client_state { json!(s.client_state) } else { Value::Null },
        "notificationUrl": s.notification_url,
        "notificationQueryOptions": null,
        "lifecycleNotificationUrl": s.lifecycle_notification_url,
        "expirationDateTime": format_offset(s.expiration),
        "creatorId": creator_id,
        "includeResourceData": false,
        "latestSupportedTlsVersion": s.latest_supported_tls_version,
        "encryptionCertificate": null,
        "encryptionCertificateId": null,
        "notificationUrlAppId": null,
        "notificationContentType": "application/json",
    })
}

/// `POST /subscriptions` (§1.2): the handshake runs before the answer, with no lock held.
pub(super) async fn create_subscription(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let subscription = new_subscription(&state, &body, now)?;
    let check_duplicate = |subs: &mut SubscriptionState| -> Result<()> {
        subs.purge_expired(state.clock.now());
        if state.config.allow_duplicate_subscriptions {
            return Ok(());
        }
        match subs.duplicate_of(&subscription) {
            Some(existing) => Err(SubscriptionError::Duplicate(existing.id.clone())),
            None => Ok(()),
        }
    };
    check_duplicate(&mut lock(&state.subscriptions))?;
    run_handshake(&state, &subscription.notification_url).await?;
    if let Some(lifecycle) = &subscription.lifecycle_notification_url {
        run_handshake(&state, lifecycle).await?;
    }
    let mut subs = lock(&state.subscriptions);
    check_duplicate(&mut subs)?;
    let creator = subs.creator_id();
    let json = subscription_json(&state, &subscription, &creator, true);
    subs.subscriptions.push(subscription);
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct ListQuery {
    #[serde(rename = "$skiptoken")]
    skiptoken: Option<String>,
}

/// `GET /subscriptions` (§1.5): clientState is null; pages of 100 with a nextLink.
pub(super) async fn list_subscriptions(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Response> {
    let skip = match query.skiptoken.as_deref() {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| bad("The $skiptoken is malformed."))?,
    };
    let mut subs = lock(&state.subscriptions);
    subs.purge_expired(state.clock.now());
    let creator = subs.creator_id();
    let mut rows = subs.subscriptions.iter().skip(skip);
    let value: Vec<Value> = rows
        .by_ref()
        .take(LIST_PAGE_SIZE)
        .map(|s| {
            let mut v = subscription_json(&state, s, &creator, false);
            if let Value::Object(o) = &mut v {
                o.remove("@odata.context");
            }
            v
        })
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/$metadata#subscriptions", state.graph_base_url),
        "value": value,
    });
    if rows.next().is_some() {
        body["@odata.nextLink"] = json!(format!(
            "{}/subscriptions?$skiptoken={}",
            state.graph_base_url,
            skip + LIST_PAGE_SIZE
        ));
    }
    Ok(axum::Json(body).into_response())
}

pub(super) async fn get_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let mut subs = lock(&state.subscriptions);
    let now = state.clock.now();
    let found = subs.find(&id, now)?;
    let creator = subs.creator_id();
    Ok(axum::Json(subscription_json(&state, &found, &creator, false)).into_response())
}

/// `PATCH /subscriptions/{id}` (§1.4): only expirationDateTime and notificationUrl; a renewal
/// also reauthorizes.
pub(super) async fn update_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let current = lock(&state.subscriptions).find(&id, now)?;
    for key in body.keys() {
        match key.as_str() {
            "expirationDateTime" | "notificationUrl" => {}
            "lifecycleNotificationUrl" => {
                return Err(bad(
                    "lifecycleNotificationUrl cannot be added or changed; delete the subscription and create a new one.",
                ));
            }
            k if k.starts_with('@') => {}
            other => {
                return Err(bad(format!(
                    "Only expirationDateTime and notificationUrl can be updated, not '{other}'."
                )));
            }
        }
    }
    let expiration = body
        .get("expirationDateTime")
        .map(|v| effective_expiration(v, current.kind, now))
        .transpose()?;
    let notification_url = match body.get("notificationUrl") {
        None => None,
        Some(Value::String(url)) => {
            check_endpoint_url("notificationUrl", url)?;
            Some(url.clone())
        }
        Some(_) => return Err(bad("notificationUrl must be a string.")),
    };
    if expiration.is_none() && notification_url.is_none() {
        return Err(bad(
            "The body must contain expirationDateTime or notificationUrl.",
        ));
    }
    if let Some(url) = notification_url
        .as_deref()
        .filter(|u| *u != current.notification_url)
    {
        run_handshake(&state, url).await?;
    }
    let mut subs = lock(&state.subscriptions);
    let now = state.clock.now();
    let stored = subs.get(&id, now).ok_or(SubscriptionError::NotFound)?;
    if let Some(expiration) = expiration {
        stored.expiration = expiration;
        stored.last_authorized = now;
    }
    if let Some(url) = notification_url {
        stored.notification_url = url;
    }
    let updated = stored.clone();
    let creator = subs.creator_id();
    Ok(axum::Json(subscription_json(&state, &updated, &creator, false)).into_response())
}

pub(super) async fn reauthorize_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let now = state.clock.now();
    let mut subs = lock(&state.subscriptions);
    let stored = subs.get(&id, now).ok_or(SubscriptionError::NotFound)?;
    stored.last_authorized = now;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let now = state.clock.now();
    let mut subs = lock(&state.subscriptions);
    subs.purge_expired(now);
    let before = subs.subscriptions.len();
    subs.subscriptions
        .retain(|s| !s.id.eq_ignore_ascii_case(&id));
    if subs.subscriptions.len() == before {
        return Err(SubscriptionError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn control_list(State(state): State<AppState>) -> Response {
    let mut subs = lock(&state.subscriptions);
    subs.purge_expired(state.clock.now());
    let creator = subs.creator_id();
    let value: Vec<Value> = subs
        .subscriptions
        .iter()
        .map(|s| subscription_json(&state, s, &creator, true))
        .collect();
    axum::Json(json!({"value": value})).into_response()
}
