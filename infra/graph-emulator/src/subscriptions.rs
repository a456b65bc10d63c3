//! Change-notification subscriptions (graph-facts §1.1–§1.5, §1.8, §1.9) on To Do tasks (§3.4),
//! with the real validation handshake and change notifications for every task write.
//!
//! Choices where the facts leave room (all documented in the README):
//! - `clientState` is echoed only in the create response; GET, list and PATCH show it as null
//!   (§1.5 says so for list; the emulator is strict everywhere after creation).
//! - Only `users/{id}/todo/lists/{listId}/tasks` (with or without the leading `/`) is accepted:
//!   app-only tokens have no `/me`, and Planner has no subscriptions at all (§1.10).
//! - A PATCH that changes `notificationUrl` runs the handshake again (§1.3 EMULATOR advice).
//! - The duplicate check (409) compares the set of change types and the resource (user id
//!   case-insensitively, list id exactly), across all notification URLs (§1.2).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::delivery::Kind;
use crate::errors::graph_error;
use crate::state::{AppState, lock};
use crate::todo::timezone::format_offset;
use crate::todo::{ChangeKind, TaskChange};

/// Subscriptions live a minimum of 45 minutes: shorter requests are raised (graph-facts §1.1).
const MIN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::minutes(45);

/// `clientState` limit (graph-facts §1.1 gives 128 on the subscription page; the stricter one).
const MAX_CLIENT_STATE_CHARS: usize = 128;

/// Page size of `GET /subscriptions`.
const LIST_PAGE_SIZE: usize = 100;

/// The kinds of resource a subscription can watch here, with their maximum lifetime (§1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    TodoTask,
}

impl ResourceKind {
    /// Maximum lifetime in minutes (graph-facts §1.9 table; other rows have no emulated resource).
    pub fn max_lifetime_minutes(self) -> i64 {
        match self {
            ResourceKind::TodoTask => 4230,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: String,
    /// As the client sent it (echoed back).
    pub resource: String,
    pub kind: ResourceKind,
    /// Lower-cased user id and exact list id of the watched task collection.
    pub user: String,
    pub list_id: String,
    pub change_type: String,
    pub change_kinds: Vec<ChangeKind>,
    pub notification_url: String,
    pub lifecycle_notification_url: Option<String>,
    pub expiration: DateTime<Utc>,
    pub client_state: Option<String>,
    pub latest_supported_tls_version: String,
    pub last_authorized: DateTime<Utc>,
}

#[derive(Default)]
pub struct SubscriptionState {
    /// In creation order (listing order).
    subscriptions: Vec<Subscription>,
    /// The emulated app's service principal: `creatorId` of app-only subscriptions (§1.1).
    creator_id: Option<String>,
}

impl SubscriptionState {
    /// Expired subscriptions are gone, exactly as if the service had removed them (§1.4: 404).
    fn purge_expired(&mut self, now: DateTime<Utc>) {
        self.subscriptions.retain(|s| s.expiration > now);
    }

    fn get(&mut self, id: &str, now: DateTime<Utc>) -> Option<&mut Subscription> {
        self.purge_expired(now);
        self.subscriptions
            .iter_mut()
            .find(|s| s.id.eq_ignore_ascii_case(id))
    }

    fn duplicate_of(&self, candidate: &Subscription) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| {
            s.kind == candidate.kind
                && s.user == candidate.user
                && s.list_id == candidate.list_id
                && same_kinds(&s.change_kinds, &candidate.change_kinds)
        })
    }

    fn creator_id(&mut self) -> String {
        self.creator_id
            .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
            .clone()
    }
}

fn same_kinds(a: &[ChangeKind], b: &[ChangeKind]) -> bool {
    a.len() == b.len() && a.iter().all(|k| b.contains(k))
}

/// Why a subscription request failed, by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("{0}")]
    BadRequest(String),
    #[error("Subscription validation request failed. {0}")]
    Validation(String),
    #[error("Subscription expiration can only be {0} minutes in the future.")]
    TooLong(i64),
    #[error("Subscription Id {0} already exists for the requested combination")]
    Duplicate(String),
    #[error("The subscription was not found.")]
    NotFound,
    #[error("{0}")]
    ResourceNotFound(String),
}

impl IntoResponse for SubscriptionError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code) = match self {
            SubscriptionError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalidRequest"),
            SubscriptionError::Validation(_) => (StatusCode::BAD_REQUEST, "ValidationError"),
            SubscriptionError::TooLong(_) => (StatusCode::BAD_REQUEST, "ExtensionError"),
            SubscriptionError::Duplicate(_) => (StatusCode::CONFLICT, "ExtensionError"),
            SubscriptionError::NotFound | SubscriptionError::ResourceNotFound(_) => {
                (StatusCode::NOT_FOUND, "itemNotFound")
            }
        };
        graph_error(status, code, &message)
    }
}

type Result<T, E = SubscriptionError> = std::result::Result<T, E>;

fn bad(message: impl Into<String>) -> SubscriptionError {
    SubscriptionError::BadRequest(message.into())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/subscriptions",
            get(list_subscriptions).post(create_subscription),
        )
        .route(
            "/subscriptions/{id}",
            get(get_subscription)
                .patch(update_subscription)
                .delete(delete_subscription),
        )
        .route(
            "/subscriptions/{id}/reauthorize",
            post(reauthorize_subscription),
        )
}

/// Control API: lifecycle events on demand, subscriptions with their clientState, and the
/// delivery faults and counters (whose routes live in `delivery`).
pub fn control_routes() -> Router<AppState> {
    Router::new()
        .route("/subscriptions", get(control_list))
        .route("/subscriptions/{id}/lifecycle", post(control_lifecycle))
        .merge(crate::delivery::control_routes())
}

// ---- validation of the request -----------------------------------------------------------------

fn parse_object(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad("The request body must be a JSON object.")),
        Err(e) => Err(bad(format!("The request body is not valid JSON: {e}"))),
    }
}

fn parse_change_type(text: &str) -> Result<Vec<ChangeKind>> {
    let mut kinds = Vec::new();
    for part in text.split(',') {
        let kind = match part.trim() {
            "created" => ChangeKind::Created,
            "updated" => ChangeKind::Updated,
            "deleted" => ChangeKind::Deleted,
            other => {
                return Err(bad(format!(
                    "Invalid changeType '{other}': use a comma-separated list of created, updated, deleted."
                )));
            }
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(kinds)
}

/// HTTPS is required (§1.1); plain `http://` is accepted for loopback only, so local runs and
/// tests need no certificates.
pub fn check_endpoint_url(field: &str, text: &str) -> Result<()> {
    let parsed =
        url::Url::parse(text).map_err(|_| bad(format!("{field} is not a valid absolute URL.")))?;
    let loopback = matches!(
        parsed.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    );
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(bad(format!(
            "{field} must be an https URL (the emulator also accepts http on loopback)."
        ))),
    }
}

/// Raises short lifetimes to 45 minutes and rejects ones beyond the resource's maximum (§1.9).
fn effective_expiration(
    value: &Value,
    kind: ResourceKind,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    let text = value
        .as_str()
        .ok_or_else(|| bad("expirationDateTime must be a DateTimeOffset string."))?;
    let requested = DateTime::parse_from_rfc3339(text)
        .map_err(|_| {
            bad(format!(
                "expirationDateTime '{text}' is not a valid DateTimeOffset."
            ))
        })?
        .with_timezone(&Utc);
    let max = kind.max_lifetime_minutes();
    if requested > now + chrono::TimeDelta::minutes(max) {
        return Err(SubscriptionError::TooLong(max));
    }
    Ok(requested.max(now + MIN_LIFETIME))
}

/// The task collection a resource path names. `/me` needs a signed-in user, which app-only
/// tokens do not have.
fn parse_resource(resource: &str) -> Result<(ResourceKind, String, String)> {
    let path = resource.trim().trim_start_matches('/');
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        [users, user, todo, lists, list, tasks]
            if users.eq_ignore_ascii_case("users")
                && todo.eq_ignore_ascii_case("todo")
                && lists.eq_ignore_ascii_case("lists")
                && tasks.eq_ignore_ascii_case("tasks")
                && !user.is_empty()
                && !list.is_empty() =>
        {
            Ok((
                ResourceKind::TodoTask,
                user.to_ascii_lowercase(),
                (*list).to_owned(),
            ))
        }
        [me, ..] if me.eq_ignore_ascii_case("me") => Err(bad(
            "/me request is only valid with delegated authentication flow.",
        )),
        _ => Err(bad(format!(
            "The resource '{resource}' is not supported; the emulator accepts users/{{id}}/todo/lists/{{listId}}/tasks."
        ))),
    }
}

fn ensure_resource_exists(state: &AppState, user: &str, list_id: &str) -> Result<()> {
    if !user.eq_ignore_ascii_case(&state.config.user_id) {
        return Err(SubscriptionError::ResourceNotFound(
            "The user of the resource was not found.".into(),
        ));
    }
    let mut todo = lock(&state.todo);
    todo.ensure_default_list(user);
    todo.list(user, list_id).map(|_| ()).map_err(|_| {
        SubscriptionError::ResourceNotFound("The list of the resource was not found.".into())
    })
}

// ---- the validation handshake (§1.3) -----------------------------------------------------------

/// An opaque token that needs URL encoding (spaces, `:`, `+`), shaped like the real one, so
/// receivers that forget to decode it fail here as they would against Graph.
fn new_validation_token() -> String {
    let nonce: [u8; 12] = rand::random();
    format!(
        "Validation: Testing client application reachability for subscription Request-Id: {} Nonce: {}",
        uuid::Uuid::new_v4(),
        base64::engine::general_purpose::STANDARD.encode(nonce)
    )
}

/// POSTs `{url}?validationToken=...` and insists on 200, `text/plain` and the decoded token as
/// the whole body, within `validation_timeout`.
pub async fn run_handshake(state: &AppState, url: &str) -> Result<()> {
    let token = new_validation_token();
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    let target = format!("{url}{separator}validationToken={encoded}");
    let limit = state.config.validation_timeout;
    let attempt = async {
        let response = state
            .delivery
            .http()
            .post(&target)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .timeout(limit)
            .send()
            .await
            .map_err(|e| {
                SubscriptionError::Validation(format!(
                    "The notification endpoint could not be reached: {}.",
                    describe(&e)
                ))
            })?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(SubscriptionError::Validation(format!(
                "Notification endpoint must respond with 200 OK to validation request (got {}).",
                response.status().as_u16()
            )));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !content_type.starts_with("text/plain") {
            return Err(SubscriptionError::Validation(
                "Notification endpoint must respond with Content-Type text/plain.".into(),
            ));
        }
        let body = response.text().await.map_err(|e| {
            SubscriptionError::Validation(format!(
                "Reading the validation response failed: {}.",
                describe(&e)
            ))
        })?;
        if body != token {
            return Err(SubscriptionError::Validation(
                "Response must exactly match validationToken query parameter (URL-decoded).".into(),
            ));
        }
        Ok(())
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(SubscriptionError::Validation(format!(
            "The notification endpoint did not answer within {} ms.",
            limit.as_millis()
        ))),
    }
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

// ---- Graph handlers ----------------------------------------------------------------------------

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

fn required_str<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(format!("{key} is required.")))
}

/// Reads and checks a create body into a subscription that is not stored yet.
fn new_subscription(
    state: &AppState,
    body: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Subscription> {
    for (key, value) in body {
        match key.as_str() {
            "changeType"
            | "notificationUrl"
            | "lifecycleNotificationUrl"
            | "resource"
            | "expirationDateTime"
            | "clientState"
            | "latestSupportedTlsVersion"
            | "notificationQueryOptions"
            | "notificationUrlAppId"
            | "id" => {}
            "includeResourceData" if value.as_bool() != Some(true) => {}
            "includeResourceData" => {
                return Err(bad(
                    "Rich notifications (includeResourceData) are not supported for todoTask.",
                ));
            }
            "vapidPublicKey" | "webPushEncryptionP256dhPublicKey" | "webPushEncryptionSecret" => {
                return Err(bad(format!(
                    "{key} is only valid on Web Push subscriptions."
                )));
            }
            k if k.starts_with('@') => {}
            other => {
                return Err(bad(format!(
                    "The property '{other}' does not exist on type 'microsoft.graph.subscription'."
                )));
            }
        }
    }
    let change_type = required_str(body, "changeType")?;
    let change_kinds = parse_change_type(change_type)?;
    let notification_url = required_str(body, "notificationUrl")?;
    check_endpoint_url("notificationUrl", notification_url)?;
    let lifecycle_notification_url = match body.get("lifecycleNotificationUrl") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => {
            check_endpoint_url("lifecycleNotificationUrl", url)?;
            Some(url.clone())
        }
        Some(_) => return Err(bad("lifecycleNotificationUrl must be a string.")),
    };
    let resource = required_str(body, "resource")?;
    let (kind, user, list_id) = parse_resource(resource)?;
    let expiration = effective_expiration(
        body.get("expirationDateTime")
            .ok_or_else(|| bad("expirationDateTime is required."))?,
        kind,
        now,
    )?;
    let client_state = match body.get("clientState") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_CLIENT_STATE_CHARS => Some(s.clone()),
        Some(Value::String(_)) => {
            return Err(bad(format!(
                "clientState must be at most {MAX_CLIENT_STATE_CHARS} characters."
            )));
        }
        Some(_) => return Err(bad("clientState must be a string.")),
    };
    let tls = match body
        .get("latestSupportedTlsVersion")
        .and_then(Value::as_str)
    {
        None => "v1_2".to_owned(),
        Some(v @ ("v1_0" | "v1_1" | "v1_2" | "v1_3")) => v.to_owned(),
        Some(other) => return Err(bad(format!("Invalid latestSupportedTlsVersion '{other}'."))),
    };
    ensure_resource_exists(state, &user, &list_id)?;
    Ok(Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        resource: resource.to_owned(),
        kind,
        user,
        list_id,
        change_type: change_kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","),
        change_kinds,
        notification_url: notification_url.to_owned(),
        lifecycle_notification_url,
        expiration,
        client_state,
        latest_supported_tls_version: tls,
        last_authorized: now,
    })
}

/// `POST /subscriptions` (§1.2): the handshake runs before the answer, with no lock held.
async fn create_subscription(State(state): State<AppState>, body: Bytes) -> Result<Response> {
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let subscription = new_subscription(&state, &body, now)?;
    let check_duplicate = |subs: &mut SubscriptionState| -> Result<()> {
        subs.purge_expired(state.clock.now());
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
struct ListQuery {
    #[serde(rename = "$skiptoken")]
    skiptoken: Option<String>,
}

/// `GET /subscriptions` (§1.5): clientState is null; pages of 100 with a nextLink.
async fn list_subscriptions(
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

async fn get_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let mut subs = lock(&state.subscriptions);
    let now = state.clock.now();
    let found = subs
        .get(&id, now)
        .cloned()
        .ok_or(SubscriptionError::NotFound)?;
    let creator = subs.creator_id();
    Ok(axum::Json(subscription_json(&state, &found, &creator, false)).into_response())
}

/// `PATCH /subscriptions/{id}` (§1.4): only expirationDateTime and notificationUrl; a renewal
/// also reauthorizes.
async fn update_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let body = parse_object(&body)?;
    let now = state.clock.now();
    let current = lock(&state.subscriptions)
        .get(&id, now)
        .cloned()
        .ok_or(SubscriptionError::NotFound)?;
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

async fn reauthorize_subscription(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response> {
    let now = state.clock.now();
    let mut subs = lock(&state.subscriptions);
    let stored = subs.get(&id, now).ok_or(SubscriptionError::NotFound)?;
    stored.last_authorized = now;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_subscription(
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

// ---- notifications -----------------------------------------------------------------------------

/// A notification id like the real ones (`lsgTZMr9KwAAA`): opaque, short.
fn notification_id() -> String {
    let bytes: [u8; 9] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The `changeNotification` for one task write (graph-facts §1.6). `resource` and
/// `resourceData.@odata.id` take Exchange's form for To Do, `Users/{user}/todo/Lists/{list}/Tasks/{task}`
/// (user id as configured); deletions carry no `@odata.etag`.
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

// ---- control API -------------------------------------------------------------------------------

async fn control_list(State(state): State<AppState>) -> Response {
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

/// `{"event": "reauthorizationRequired" | "subscriptionRemoved" | "missed"}` (§1.8). The real
/// service sends only reauthorizationRequired for todoTask; the others are offered so clients can
/// rehearse them. subscriptionRemoved also removes the subscription.
async fn control_lifecycle(
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
        let s = subs
            .get(&id, now)
            .cloned()
            .ok_or(SubscriptionError::NotFound)?;
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
