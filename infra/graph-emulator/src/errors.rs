//! Graph's error body (docs/graph-behaviour.md §0):
//! `{"error":{"code","message","innerError":{...}}}`, plus the few request-reading helpers every
//! area needs so that malformed input gets a Graph-shaped 400 instead of axum's plain-text
//! rejections.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// Builds a Graph-shaped error response.
pub fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(graph_error_body(status, code, message))).into_response()
}

/// The JSON of a Graph error, for callers that need to add headers (e.g. `Retry-After`).
pub fn graph_error_body(status: StatusCode, code: &str, message: &str) -> Value {
    let now = chrono::Utc::now();
    json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "code": status.as_u16().to_string(),
                "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": uuid::Uuid::new_v4().to_string(),
                "client-request-id": uuid::Uuid::new_v4().to_string(),
            }
        }
    })
}

/// 400 with the generic `invalidRequest` code (docs/graph-behaviour.md §0).
pub fn bad_request(message: &str) -> Response {
    graph_error(StatusCode::BAD_REQUEST, "invalidRequest", message)
}

/// 404 with the generic `itemNotFound` code (docs/graph-behaviour.md §0).
pub fn not_found(message: &str) -> Response {
    graph_error(StatusCode::NOT_FOUND, "itemNotFound", message)
}

/// A request body that is not one JSON object; answers 400 `invalidRequest`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(pub String);

impl IntoResponse for BodyError {
    fn into_response(self) -> Response {
        bad_request(&self.0)
    }
}

impl From<BodyError> for Response {
    fn from(e: BodyError) -> Self {
        e.into_response()
    }
}

/// Reads a request body that must be one JSON object. Graph answers 400 for anything else, so
/// this does not insist on `Content-Type` (axum's `Json` would answer 415 in plain text).
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, BodyError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError(
            "The request body is empty; a JSON object is required.".into(),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BodyError("The request body must be a JSON object.".into())),
        Err(e) => Err(BodyError(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// The value of a header as text, if present and readable.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `Prefer` asks for `return=representation` (docs/graph-behaviour.md §2.7: PATCH then
/// answers 200 with the resource instead of 204).
pub fn prefers_representation(headers: &HeaderMap) -> bool {
    headers.get_all("prefer").iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("return=representation"))
        })
    })
}
