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

/// Checks one id or name before it becomes a segment of a Graph URL path. The URL builder
/// percent-encodes what a segment holds, but it drops `.` and `..` (they are path structure) and
/// an empty segment doubles a slash, so a task id `..` would silently address the list instead
/// of the task. An id that was percent-encoded already (`%2F`, `%5C`, `%2E`) is refused too: no
/// Graph id holds one, and a hop that decodes twice would read path structure into it. Refused
/// with an error, never repaired.
pub fn path_segment(segment: &str) -> Result<&str, GraphError> {
    let encoded_structure = segment
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'2' && matches!(w[2], b'f' | b'F' | b'e' | b'E'))
        || segment.to_ascii_lowercase().contains("%5c");
    if segment.is_empty() || segment == "." || segment == ".." || encoded_structure {
        return Err(GraphError::BadRequest {
            code: "invalidPathSegment".to_owned(),
            message: format!(
                "{:?} cannot be part of a Graph URL path (empty, a dot segment or percent-encoded)",
                segment.chars().take(64).collect::<String>()
            ),
        });
    }
    Ok(segment)
}

/// A request body as JSON; a value that cannot be encoded is our bug, reported as a protocol
/// error rather than a panic.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Value, GraphError> {
    serde_json::to_value(value)
        .map_err(|e| GraphError::Protocol(format!("cannot encode request body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_empty_and_encoded_segments_are_refused() {
        for bad in [
            "", ".", "..", "a%2Fb", "a%2fb", "%2e%2e", "%2E", "x%5Cy", "x%5cy",
        ] {
            assert!(
                matches!(path_segment(bad), Err(GraphError::BadRequest { .. })),
                "{bad:?}"
            );
        }
        for good in [
            "AAMkADI5MWYx==",
            "a/b+c=",
            "...",
            ".x",
            "x..",
            "100%",
            "%41",
        ] {
            assert_eq!(path_segment(good).ok(), Some(good), "{good:?}");
        }
    }
}
