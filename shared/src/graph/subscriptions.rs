//! Subscription calls (docs/graph-behaviour.md §1.2–§1.5). Renewal is refused app-only for To Do on
//! some doc pages (§1.2 DISCREPANCY); callers handle that by make-before-break (docs/graph-behaviour.md §7), so a
//! refusal comes back as the ordinary `Forbidden`/`BadRequest` error.

use chrono::{DateTime, Utc};
use reqwest::Method;

use super::GraphClient;
use super::GraphError;
use super::models::{NewSubscription, Subscription};
use super::request::{GraphRequest, Operation, to_json};

/// Subscriptions need a read permission on the resource (§1.2); for To Do that is
/// `Tasks.Read.All` or higher.
const PERMISSION: &str = "Tasks.Read.All (or Tasks.ReadWrite.All)";

pub(crate) const CREATE: Operation = Operation::new("subscriptions.create", PERMISSION, false);
pub(crate) const RENEW: Operation = Operation::new("subscriptions.renew", PERMISSION, true);
pub(crate) const REAUTHORIZE: Operation =
    Operation::new("subscriptions.reauthorize", PERMISSION, true);
pub(crate) const DELETE: Operation = Operation::new("subscriptions.delete", PERMISSION, true);
pub(crate) const GET: Operation = Operation::new("subscriptions.get", PERMISSION, true);
pub(crate) const LIST: Operation = Operation::new("subscriptions.list", PERMISSION, true);

/// Subscription operations; get one with [`GraphClient::subscriptions`].
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionsApi<'a> {
    client: &'a GraphClient,
}

impl<'a> SubscriptionsApi<'a> {
    pub(crate) fn new(client: &'a GraphClient) -> Self {
        Self { client }
    }

    /// `POST /subscriptions`; Graph runs the validation handshake before answering 201 (§1.3),
    /// so the webhook must be reachable. 409 (same resource and change type exists) comes back
    /// as `Conflict`.
    pub async fn create(&self, new: &NewSubscription) -> Result<Subscription, GraphError> {
        let url = self.client.url(&["subscriptions"])?;
        self.client
            .send_json(&GraphRequest::new(&CREATE, Method::POST, url).json(to_json(new)?))
            .await
    }

    /// `PATCH /subscriptions/{id}` with a new expiry; 200 with the subscription. `NotFound`
    /// means it is gone: create a new one (§1.4). Also reauthorizes.
    pub async fn renew(
        &self,
        id: &str,
        expiration: DateTime<Utc>,
    ) -> Result<Subscription, GraphError> {
        let url = self.client.url(&["subscriptions", id])?;
        let body = serde_json::json!({ "expirationDateTime": expiration });
        self.client
            .send_json(&GraphRequest::new(&RENEW, Method::PATCH, url).json(body))
            .await
    }

    /// `POST /subscriptions/{id}/reauthorize`; 204. Never within 10 minutes of a renewal (§1.4).
    pub async fn reauthorize(&self, id: &str) -> Result<(), GraphError> {
        let url = self.client.url(&["subscriptions", id, "reauthorize"])?;
        self.client
            .send(&GraphRequest::new(&REAUTHORIZE, Method::POST, url))
            .await
            .map(|_| ())
    }

    /// `DELETE /subscriptions/{id}`; 204.
    pub async fn delete(&self, id: &str) -> Result<(), GraphError> {
        let url = self.client.url(&["subscriptions", id])?;
        self.client
            .send(&GraphRequest::new(&DELETE, Method::DELETE, url))
            .await
            .map(|_| ())
    }

    /// `GET /subscriptions/{id}`.
    pub async fn get(&self, id: &str) -> Result<Subscription, GraphError> {
        let url = self.client.url(&["subscriptions", id])?;
        self.client
            .send_json(&GraphRequest::new(&GET, Method::GET, url))
            .await
    }

    /// `GET /subscriptions`, every page. `client_state` is always `None` here (§1.5).
    pub async fn list(&self) -> Result<Vec<Subscription>, GraphError> {
        let url = self.client.url(&["subscriptions"])?;
        self.client.list_all(&LIST, url).await
    }
}
