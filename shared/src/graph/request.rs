//! What one Graph call is (its operation), the request that carries it and the successful answer
//! it gets: the vocabulary the Planner, To Do, subscription and batch calls share with the
//! request machinery in `client`.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::GraphError;

/// The application permission task reads need, Planner's and To Do's alike.
pub(crate) const TASKS_READ: &str = "Tasks.Read.All";
/// The application permission task writes need, Planner's and To Do's alike.
pub(crate) const TASKS_WRITE: &str = "Tasks.ReadWrite.All";

/// One kind of Graph call: its name in counters and logs, the application permission it needs
/// (named in 403 messages and in docs/graph-client.md), and whether repeating it is harmless.
#[derive(Debug)]
pub(crate) struct Operation {
    pub name: &'static str,
    pub permission: &'static str,
    /// A retry after an ambiguous failure (timeout, 5xx) cannot do harm. Creates are not: a
    /// create that timed out may have happened, so only refusals (429, connect errors) are
    /// retried for them.
    pub idempotent: bool,
    /// A delta round: a 410 then means the delta link expired, not that the resource is gone.
    pub delta: bool,
}

impl Operation {
    /// Every call but a delta round.
    pub(crate) const fn new(
        name: &'static str,
        permission: &'static str,
        idempotent: bool,
    ) -> Self {
        Self {
            name,
            permission,
            idempotent,
            delta: false,
        }
    }
}

/// A request ready to send.
#[derive(Debug)]
pub(crate) struct GraphRequest {
    pub op: &'static Operation,
    pub method: Method,
    pub url: Url,
    pub body: Option<serde_json::Value>,
    pub headers: Vec<(HeaderName, String)>,
}

impl GraphRequest {
    pub fn new(op: &'static Operation, method: Method, url: Url) -> Self {
        Self {
            op,
            method,
            url,
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A successful (2xx) response.
#[derive(Debug)]
pub(crate) struct GraphResponse {
    pub status: u16,
    #[allow(dead_code)] // kept for callers that need more than the ETag
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl GraphResponse {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GraphError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            GraphError::Protocol(format!(
                "HTTP {} body does not have the expected shape: {e}",
                self.status
            ))
        })
    }

    /// The `ETag` header, if Graph sent one.
    pub fn etag_header(&self) -> Option<String> {
        self.headers
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

/// A request body as JSON; a value that cannot be encoded is our bug, reported as a protocol
/// error rather than a panic.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, GraphError> {
    serde_json::to_value(value)
        .map_err(|e| GraphError::Protocol(format!("cannot encode request body: {e}")))
}
