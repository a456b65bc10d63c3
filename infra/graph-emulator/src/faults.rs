//! Injected faults and request counters, applied to every Graph route (and the token endpoint) by
//! the middleware in `server.rs`, so tests and benchmarks can exercise a client's throttling and
//! retry paths (docs/graph-behaviour.md §5: 429 with `Retry-After`, 503 that may carry it) and then
//! check how many calls it really made.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::errors::graph_error_body;
use crate::state::lock;

/// A fault rule as posted to `POST /_emulator/faults`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// HTTP method to match (case-insensitive); any method when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Matches the route template (e.g. `/planner/plans/{plan_id}/tasks`) or the concrete path
    /// (e.g. `/planner/plans/abc/tasks`), both relative to `/v1.0`. The token endpoint's template
    /// is `/{tenant}/oauth2/v2.0/token`.
    #[serde(default)]
    pub path: Option<String>,
    /// Matches any concrete path (relative to `/v1.0`) that starts with this prefix.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Status to answer instead of running the handler (429, 503, or any other 4xx/5xx).
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` seconds on the injected error; for 429 it defaults to 1 unless
    /// `omit_retry_after` is set (docs/graph-behaviour.md §5: clients must cope without it too).
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
    #[serde(default)]
    pub omit_retry_after: bool,
    /// Latency added before the request is answered (before the handler, or before the injected
    /// error).
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// How many matching requests the rule applies to; unlimited when absent.
    #[serde(default)]
    pub times: Option<u64>,
    /// Run the handler first (its effects stay: a POST creates) and answer `status` instead of
    /// its response: a write whose answer was lost on the way back (a gateway timeout, a
    /// dropped connection). Needs `status`.
    #[serde(default)]
    pub after_handler: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaultRule {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Applications left; `None` means unlimited.
    pub remaining: Option<u64>,
    /// How often it has fired.
    pub fired: u64,
}

/// What the middleware must do for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultAction {
    pub latency: Option<Duration>,
    pub status: Option<StatusCode>,
    pub retry_after_secs: Option<u64>,
    /// The handler runs and its response is replaced by `status`.
    pub after_handler: bool,
}

#[derive(Default)]
pub struct FaultState {
    rules: Vec<FaultRule>,
    next_id: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FaultSpecError {
    #[error("a fault needs `path` or `path_prefix`")]
    NoPath,
    #[error("a fault needs `status` or `latency_ms`")]
    NoEffect,
    #[error("status {0} is not an error status (use 400-599)")]
    BadStatus(u16),
    #[error("`after_handler` needs `status` (the answer that replaces the handler's)")]
    AfterHandlerWithoutStatus,
}

impl FaultState {
    pub fn add(&mut self, spec: FaultSpec) -> Result<FaultRule, FaultSpecError> {
        if spec.path.is_none() && spec.path_prefix.is_none() {
            return Err(FaultSpecError::NoPath);
        }
        if spec.status.is_none() && spec.latency_ms.is_none() {
            return Err(FaultSpecError::NoEffect);
        }
        if let Some(s) = spec.status
            && !(400..=599).contains(&s)
        {
            return Err(FaultSpecError::BadStatus(s));
        }
        if spec.after_handler && spec.status.is_none() {
            return Err(FaultSpecError::AfterHandlerWithoutStatus);
        }
        self.next_id += 1;
        let rule = FaultRule {
            id: self.next_id,
            remaining: spec.times,
            spec,
            fired: 0,
        };
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    /// The first live rule that matches consumes one application. Rules are few, so a scan is
    /// cheaper than any index; with no rules this is a single length check.
    pub fn take(&mut self, method: &str, template: &str, path: &str) -> Option<FaultAction> {
        if self.rules.is_empty() {
            return None;
        }
        let rule = self.rules.iter_mut().find(|r| {
            r.remaining != Some(0)
                && r.spec
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && r.spec
                    .path
                    .as_deref()
                    .is_none_or(|p| p == template || p == path)
                && r.spec
                    .path_prefix
                    .as_deref()
                    .is_none_or(|p| path.starts_with(p))
        })?;
        if let Some(n) = rule.remaining {
            rule.remaining = Some(n.saturating_sub(1));
        }
        rule.fired += 1;
        let status = rule.spec.status.and_then(|s| StatusCode::from_u16(s).ok());
        let retry_after_secs = if rule.spec.omit_retry_after {
            None
        } else {
            match (rule.spec.retry_after_secs, status) {
                (Some(s), _) => Some(s),
                (None, Some(StatusCode::TOO_MANY_REQUESTS)) => Some(1),
                _ => None,
            }
        };
        Some(FaultAction {
            latency: rule.spec.latency_ms.map(Duration::from_millis),
            status,
            retry_after_secs,
            after_handler: rule.spec.after_handler,
        })
    }
}

/// Planner's own 409 body, as Graph relays it: an empty `code` and this message, with `date`,
/// `request-id` and `client-request-id` inside (quoted verbatim in Microsoft's Dataverse
/// collaboration-control docs, "Full error - {...}"; docs/graph-behaviour.md §2.6 says only that
/// Planner answers 409 to a change that conflicts with accepted ones). Clients branch on the
/// status.
pub const PLANNER_CONFLICT_MESSAGE: &str = "The attempted changes conflicted with already accepted changes. Read the latest state and resolve differences.";

/// The response of an injected error, shaped like the real one (docs/graph-behaviour.md §5 sample
/// for 429, `serviceNotAvailable` for 503, §0; a 409 under `/planner/` like Planner's, §2.6).
/// `path` is the request path relative to `/v1.0`.
pub fn fault_response(status: StatusCode, retry_after_secs: Option<u64>, path: &str) -> Response {
    if status == StatusCode::CONFLICT && path.starts_with("/planner/") {
        return planner_conflict();
    }
    let (code, message) = match status {
        StatusCode::TOO_MANY_REQUESTS => ("TooManyRequests", "Please retry again later."),
        StatusCode::SERVICE_UNAVAILABLE => (
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry later.",
        ),
        StatusCode::GATEWAY_TIMEOUT => ("gatewayTimeout", "The gateway timed out."),
        // What Graph answers an app without the permission a call needs (docs/graph-behaviour.md
        // §0, `accessDenied`); quota 403s carry their own codes and are injected by the limits.
        StatusCode::FORBIDDEN => (
            "accessDenied",
            "Either the signed-in user does not have sufficient privileges, or you need to use a \
             different version of the API.",
        ),
        s if s.is_server_error() => ("generalException", "An injected server error occurred."),
        _ => ("invalidRequest", "An injected client error occurred."),
    };
    let mut body = graph_error_body(status, code, message);
    if status == StatusCode::TOO_MANY_REQUESTS
        && let Some(inner) = body
            .get_mut("error")
            .and_then(|e| e.get_mut("innerError"))
            .and_then(|i| i.as_object_mut())
    {
        inner.insert("message".into(), json!("Please retry after"));
        inner.insert("status".into(), json!("429"));
    }
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}

/// Planner's 409: no `code` (an empty string) and an inner error without one either.
fn planner_conflict() -> Response {
    let now = chrono::Utc::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "error": {
            "code": "",
            "message": PLANNER_CONFLICT_MESSAGE,
            "innerError": {
                "date": now.format("%Y-%m-%dT%H:%M:%S").to_string(),
                "request-id": request_id,
                "client-request-id": request_id,
            }
        }
    });
    (StatusCode::CONFLICT, axum::Json(body)).into_response()
}

/// Requests seen, per route key (`METHOD /template`) and per status. Its own lock, separate from
/// every data area, so counting never waits on a slow handler.
#[derive(Default)]
pub struct Counters {
    routes: Mutex<HashMap<String, RouteCount>>,
}

#[derive(Default, Clone, Serialize)]
pub struct RouteCount {
    pub total: u64,
    pub by_status: BTreeMap<u16, u64>,
}

impl Counters {
    pub fn record(&self, key: &str, status: StatusCode) {
        let mut routes = lock(&self.routes);
        let entry = match routes.get_mut(key) {
            Some(e) => e,
            None => routes.entry(key.to_owned()).or_default(),
        };
        entry.total += 1;
        *entry.by_status.entry(status.as_u16()).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, RouteCount> {
        lock(&self.routes)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Requests seen for one route key, 0 if none.
    pub fn total(&self, key: &str) -> u64 {
        lock(&self.routes).get(key).map_or(0, |c| c.total)
    }

    pub fn reset(&self) {
        lock(&self.routes).clear();
    }
}

/// The key under which the token endpoint is counted.
pub const TOKEN_ROUTE_KEY: &str = "POST /{tenant}/oauth2/v2.0/token";

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str, status: u16, times: Option<u64>) -> FaultSpec {
        FaultSpec {
            method: Some("GET".into()),
            path: Some(path.into()),
            path_prefix: None,
            status: Some(status),
            retry_after_secs: None,
            omit_retry_after: false,
            latency_ms: None,
            times,
            after_handler: false,
        }
    }

    #[test]
    fn bounded_rule_stops_after_its_times() {
        let mut f = FaultState::default();
        f.add(spec("/a/{id}", 429, Some(2))).unwrap();
        assert!(f.take("GET", "/a/{id}", "/a/1").is_some());
        assert!(f.take("get", "/a/{id}", "/a/2").is_some());
        assert!(f.take("GET", "/a/{id}", "/a/3").is_none());
    }

    #[test]
    fn method_and_path_must_match() {
        let mut f = FaultState::default();
        f.add(spec("/a/{id}", 503, None)).unwrap();
        assert!(f.take("POST", "/a/{id}", "/a/1").is_none());
        assert!(f.take("GET", "/b/{id}", "/b/1").is_none());
        let action = f.take("GET", "/x", "/a/{id}").unwrap();
        assert_eq!(action.status, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(action.retry_after_secs, None);
    }

    async fn body_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn an_injected_409_on_planner_looks_like_planners_own() {
        let response = fault_response(StatusCode::CONFLICT, None, "/planner/tasks/abc");
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body = body_of(response).await;
        assert_eq!(body["error"]["code"], "");
        assert_eq!(body["error"]["message"], PLANNER_CONFLICT_MESSAGE);
        assert!(body["error"]["innerError"]["request-id"].is_string());
        // Elsewhere a 409 stays the generic client error.
        let other = body_of(fault_response(StatusCode::CONFLICT, None, "/subscriptions")).await;
        assert_eq!(other["error"]["code"], "invalidRequest");
    }

    #[tokio::test]
    async fn an_injected_403_is_a_missing_permission() {
        let body = body_of(fault_response(
            StatusCode::FORBIDDEN,
            None,
            "/subscriptions",
        ))
        .await;
        assert_eq!(body["error"]["code"], "accessDenied");
    }

    #[test]
    fn rejects_rules_without_effect_or_path() {
        let mut f = FaultState::default();
        let mut s = spec("/a", 429, None);
        s.status = None;
        assert!(matches!(f.add(s), Err(FaultSpecError::NoEffect)));
        let mut s = spec("/a", 429, None);
        s.path = None;
        assert!(matches!(f.add(s), Err(FaultSpecError::NoPath)));
        assert!(matches!(
            f.add(spec("/a", 200, None)),
            Err(FaultSpecError::BadStatus(200))
        ));
        let mut s = spec("/a", 429, None);
        s.status = None;
        s.latency_ms = Some(5);
        s.after_handler = true;
        assert!(matches!(
            f.add(s),
            Err(FaultSpecError::AfterHandlerWithoutStatus)
        ));
    }
}
