//! JSON batching, `POST /$batch` (docs/graph-behaviour.md §4).
//!
//! Each sub-request is dispatched through the very same Graph router (taken from the state), so it
//! gets the same routes, bearer check (with the outer request's token), injected faults and
//! counters as a direct call. A throttled item therefore carries its own 429 and `Retry-After`
//! while the batch itself answers 200.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::errors::{bad_request, graph_error, graph_error_body, json_object};
use crate::server::GRAPH_ROOT;
use crate::state::{AppState, lock};

/// §4: at most 20 requests per batch.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// Sub-response bodies larger than this are replaced by an error; Graph items are small.
const MAX_ITEM_BODY_BYTES: usize = 64 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route("/$batch", post(batch))
}

/// One validated batch step.
#[derive(Debug, Clone)]
struct Step {
    id: String,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    depends_on: Vec<String>,
}

/// What a step produced, as it appears in `responses`.
#[derive(Debug, Clone)]
struct StepOutcome {
    id: String,
    status: StatusCode,
    headers: Map<String, Value>,
    body: Option<Value>,
}

impl StepOutcome {
    fn to_json(&self) -> Value {
        let mut item = json!({
            "id": self.id,
            "status": self.status.as_u16(),
            "headers": self.headers,
        });
        if let (Some(body), Some(obj)) = (&self.body, item.as_object_mut()) {
            obj.insert("body".into(), body.clone());
        }
        item
    }

    fn error(id: &str, status: StatusCode, code: &str, message: &str) -> Self {
        let mut headers = Map::new();
        headers.insert("Content-Type".into(), json!("application/json"));
        StepOutcome {
            id: id.to_owned(),
            status,
            headers,
            body: Some(graph_error_body(status, code, message)),
        }
    }
}

async fn batch(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let steps = match parse_batch(&body) {
        Ok(s) => s,
        Err(message) => return bad_request(&message),
    };
    let Some(router) = lock(&state.graph_router).clone() else {
        return graph_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The emulator is shutting down.",
        );
    };
    let authorization = headers.get(header::AUTHORIZATION).cloned();

    let sequential = steps.iter().any(|s| !s.depends_on.is_empty());
    let outcomes = if sequential {
        run_sequential(router, authorization, steps).await
    } else {
        run_parallel(router, authorization, steps).await
    };
    let responses: Vec<Value> = outcomes.iter().map(StepOutcome::to_json).collect();
    axum::Json(json!({ "responses": responses })).into_response()
}

/// §4: with `dependsOn` the steps run in the order given, and a step whose dependency failed gets
/// 424 without being run.
async fn run_sequential(
    router: Router,
    authorization: Option<HeaderValue>,
    steps: Vec<Step>,
) -> Vec<StepOutcome> {
    let mut succeeded: HashMap<String, bool> = HashMap::new();
    let mut outcomes = Vec::with_capacity(steps.len());
    for step in steps {
        let dependency_failed = step
            .depends_on
            .iter()
            .any(|d| !succeeded.get(&d.to_lowercase()).copied().unwrap_or(false));
        let outcome = if dependency_failed {
            StepOutcome::error(
                &step.id,
                StatusCode::FAILED_DEPENDENCY,
                "FailedDependency",
                "Failed dependency: a request this one depends on did not succeed.",
            )
        } else {
            run_step(router.clone(), authorization.clone(), &step).await
        };
        succeeded.insert(step.id.to_lowercase(), outcome.status.is_success());
        outcomes.push(outcome);
    }
    outcomes
}

async fn run_parallel(
    router: Router,
    authorization: Option<HeaderValue>,
    steps: Vec<Step>,
) -> Vec<StepOutcome> {
    let mut set = JoinSet::new();
    for (index, step) in steps.iter().cloned().enumerate() {
        let router = router.clone();
        let authorization = authorization.clone();
        set.spawn(async move { (index, run_step(router, authorization, &step).await) });
    }
    let mut slots: Vec<Option<StepOutcome>> = vec![None; steps.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((index, outcome)) = joined
            && let Some(slot) = slots.get_mut(index)
        {
            *slot = Some(outcome);
        }
    }
    steps
        .iter()
        .zip(slots)
        .map(|(step, outcome)| {
            outcome.unwrap_or_else(|| {
                StepOutcome::error(
                    &step.id,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "generalException",
                    "The request could not be completed.",
                )
            })
        })
        .collect()
}

async fn run_step(router: Router, authorization: Option<HeaderValue>, step: &Step) -> StepOutcome {
    let request = match build_request(authorization, step) {
        Ok(r) => r,
        Err(message) => {
            return StepOutcome::error(&step.id, StatusCode::BAD_REQUEST, "BadRequest", &message);
        }
    };
    let response = match router.oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status();
    let mut headers = Map::new();
    let mut is_json = false;
    for (name, value) in response.headers() {
        if name == header::CONTENT_LENGTH {
            continue;
        }
        if let Ok(v) = value.to_str() {
            if name == header::CONTENT_TYPE && v.contains("json") {
                is_json = true;
            }
            headers.insert(display_header_name(name.as_str()), json!(v));
        }
    }
    let bytes = match axum::body::to_bytes(response.into_body(), MAX_ITEM_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return StepOutcome::error(
                &step.id,
                StatusCode::INTERNAL_SERVER_ERROR,
                "generalException",
                "The response body could not be read.",
            );
        }
    };
    let body = if bytes.is_empty() {
        None
    } else if is_json {
        serde_json::from_slice(&bytes).ok()
    } else {
        Some(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    StepOutcome {
        id: step.id.clone(),
        status,
        headers,
        body,
    }
}

fn build_request(authorization: Option<HeaderValue>, step: &Step) -> Result<Request<Body>, String> {
    let relative = step.url.trim_start_matches('/');
    if relative.contains("://") {
        return Err("The url of a batch request must be relative to the version root.".into());
    }
    if relative.eq_ignore_ascii_case("$batch") || relative.to_lowercase().starts_with("$batch?") {
        return Err("A batch request cannot contain another batch.".into());
    }
    let uri: Uri = format!("{GRAPH_ROOT}/{relative}")
        .parse()
        .map_err(|e| format!("Invalid request url '{}': {e}", step.url))?;
    let mut builder = Request::builder().method(step.method.clone()).uri(uri);
    let mut content_type_json = false;
    for (name, value) in &step.headers {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("Invalid header name '{name}'."))?;
        if name == header::AUTHORIZATION {
            continue;
        }
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| format!("Invalid value for header '{name}'."))?;
        if name == header::CONTENT_TYPE && value.to_str().is_ok_and(|v| v.contains("json")) {
            content_type_json = true;
        }
        builder = builder.header(name, value);
    }
    if let Some(auth) = authorization {
        builder = builder.header(header::AUTHORIZATION, auth);
    }
    let body = match &step.body {
        None => Body::empty(),
        Some(Value::String(s)) if !content_type_json => Body::from(s.clone()),
        Some(v) => Body::from(serde_json::to_vec(v).map_err(|e| e.to_string())?),
    };
    builder.body(body).map_err(|e| e.to_string())
}

/// Graph shows response header names in their usual capitalisation (`Retry-After`, `ETag`).
fn display_header_name(name: &str) -> String {
    match name {
        "etag" => "ETag".into(),
        "odata-version" => "OData-Version".into(),
        _ => name
            .split('-')
            .map(|part| {
                let mut chars = part.chars();
                match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// Validates the whole batch; any violation fails the batch with 400 (§4).
fn parse_batch(body: &[u8]) -> Result<Vec<Step>, String> {
    let object =
        json_object(body).map_err(|_| "The batch body must be a JSON object.".to_owned())?;
    let Some(Value::Array(requests)) = object.get("requests") else {
        return Err("The batch body must contain a 'requests' array.".into());
    };
    if requests.is_empty() {
        return Err("The batch must contain at least one request.".into());
    }
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(format!(
            "The number of batch requests ({}) exceeds the limit of {MAX_BATCH_REQUESTS}.",
            requests.len()
        ));
    }
    let mut steps = Vec::with_capacity(requests.len());
    let mut seen: HashSet<String> = HashSet::new();
    for request in requests {
        let step = parse_step(request)?;
        for dependency in &step.depends_on {
            if !seen.contains(&dependency.to_lowercase()) {
                return Err(format!(
                    "Request '{}' depends on '{dependency}', which is not an earlier request of this batch.",
                    step.id
                ));
            }
        }
        if !seen.insert(step.id.to_lowercase()) {
            return Err(format!(
                "Request id '{}' is not unique in this batch (ids are case-insensitive).",
                step.id
            ));
        }
        steps.push(step);
    }
    Ok(steps)
}

fn parse_step(request: &Value) -> Result<Step, String> {
    let Some(obj) = request.as_object() else {
        return Err("Each batch request must be a JSON object.".into());
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err("Each batch request must have a non-empty string 'id'.".into()),
    };
    let method = match obj.get("method") {
        Some(Value::String(m)) => Method::from_bytes(m.to_uppercase().as_bytes())
            .map_err(|_| format!("Request '{id}' has an invalid method."))?,
        _ => return Err(format!("Request '{id}' must have a 'method'.")),
    };
    let url = match obj.get("url") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => return Err(format!("Request '{id}' must have a 'url'.")),
    };
    let headers: Vec<(String, String)> = match obj.get("headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), value)
            })
            .collect(),
        Some(_) => {
            return Err(format!(
                "The 'headers' of request '{id}' must be an object."
            ));
        }
    };
    let body = match obj.get("body") {
        None | Some(Value::Null) => None,
        Some(b) => Some(b.clone()),
    };
    if body.is_some()
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        return Err(format!(
            "Request '{id}' has a body, so its 'headers' must include Content-Type."
        ));
    }
    let depends_on = match obj.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(d)) => d
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("'dependsOn' of request '{id}' must list string ids."))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("'dependsOn' of request '{id}' must be an array.")),
    };
    Ok(Step {
        id,
        method,
        url,
        headers,
        body,
        depends_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_capitalised() {
        assert_eq!(display_header_name("retry-after"), "Retry-After");
        assert_eq!(display_header_name("etag"), "ETag");
        assert_eq!(display_header_name("content-type"), "Content-Type");
    }

    #[test]
    fn dependency_must_be_an_earlier_request() {
        let body = br#"{"requests":[
            {"id":"1","method":"GET","url":"/a","dependsOn":["2"]},
            {"id":"2","method":"GET","url":"/b"}]}"#;
        assert!(parse_batch(body).is_err());
    }

    #[test]
    fn body_without_content_type_is_rejected() {
        let body = br#"{"requests":[{"id":"1","method":"POST","url":"/a","body":{}}]}"#;
        assert!(parse_batch(body).is_err());
        let body = br#"{"requests":[{"id":"1","method":"POST","url":"/a","body":{},
            "headers":{"content-type":"application/json"}}]}"#;
        assert_eq!(parse_batch(body).map(|s| s.len()), Ok(1));
    }
}
