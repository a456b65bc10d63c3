//! Change-notification subscriptions (docs/graph-behaviour.md §1.1–§1.5, §1.8,
//! §1.9) on To Do tasks (§3.4),
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
//!
//! This module holds the stored subscriptions, the errors and the routes; the request checks,
//! the handshake, the handlers and the notifications live in submodules.

mod handlers;
mod handshake;
mod notifications;
mod request;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::errors::graph_error;
use crate::state::AppState;
use crate::todo::ChangeKind;

pub use handshake::run_handshake;
pub use notifications::{change_notification, notify_task_change};
pub use request::check_endpoint_url;

/// Subscriptions live a minimum of 45 minutes: shorter requests are raised (docs/graph-behaviour.md
/// §1.1).
const MIN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::minutes(45);

/// `clientState` limit (docs/graph-behaviour.md §1.1 gives 128 on the subscription page; the
/// stricter one).
const MAX_CLIENT_STATE_CHARS: usize = 128;

/// Page size of `GET /subscriptions`.
const LIST_PAGE_SIZE: usize = 100;

/// The kinds of resource a subscription can watch here, with their maximum lifetime (§1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    TodoTask,
}

impl ResourceKind {
    /// Maximum lifetime in minutes (docs/graph-behaviour.md §1.9 table; other rows have no emulated
    /// resource).
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

    /// A live subscription by id, as a copy, or the 404 of a missing or expired one.
    fn find(&mut self, id: &str, now: DateTime<Utc>) -> Result<Subscription> {
        self.get(id, now)
            .cloned()
            .ok_or(SubscriptionError::NotFound)
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
            get(handlers::list_subscriptions).post(handlers::create_subscription),
        )
        .route(
            "/subscriptions/{id}",
            get(handlers::get_subscription)
                .patch(handlers::update_subscription)
                .delete(handlers::delete_subscription),
        )
        .route(
            "/subscriptions/{id}/reauthorize",
            post(handlers::reauthorize_subscription),
        )
}

/// Control API: lifecycle events on demand, subscriptions with their clientState, and the
/// delivery faults and counters (whose routes live in `delivery`).
pub fn control_routes() -> Router<AppState> {
    Router::new()
        .route("/subscriptions", get(handlers::control_list))
        // Graph dropping a subscription without a lifecycle notice.
        .route(
            "/subscriptions/{id}",
            axum::routing::delete(handlers::delete_subscription),
        )
        .route(
            "/subscriptions/{id}/lifecycle",
            post(notifications::control_lifecycle),
        )
        .merge(crate::delivery::control_routes())
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad("The request body must be a JSON object.")),
        Err(e) => Err(bad(format!("The request body is not valid JSON: {e}"))),
    }
}
