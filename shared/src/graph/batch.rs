//! JSON batching (docs/graph-behaviour.md §4): up to 20 requests per `POST /$batch`, answers
//! correlated by id (their order may differ), throttled items retried together after the longest
//! `Retry-After`, other failures returned per item.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::GraphClient;
use super::GraphError;
use super::error::{ErrorContext, classify};
use super::request::{GraphRequest, Operation};
use super::retry::{parse_retry_after, wait_fits};

/// Graph's limit per batch.
pub const MAX_BATCH_SIZE: usize = 20;

const ITEM_PERMISSION: &str = "the permission of the batched call (see docs/graph-client.md)";

/// A batch of reads, updates and deletes can be resent after an ambiguous failure.
pub(crate) const BATCH_IDEMPOTENT: Operation = Operation::new("batch", ITEM_PERMISSION, true);
/// A batch holding a create cannot.
pub(crate) const BATCH_WITH_CREATES: Operation = Operation::new("batch", ITEM_PERMISSION, false);

/// One request inside a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchRequest {
    pub id: String,
    pub method: String,
    /// Relative to the version root, e.g. `/planner/tasks/{id}/details` (see
    /// [`GraphClient::relative_url`]).
    pub url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl BatchRequest {
    pub fn get(id: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            method: "GET".to_owned(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// A request with a JSON body; the `Content-Type` the batch format requires is added.
    pub fn with_json(
        id: impl Into<String>,
        method: &str,
        url: impl Into<String>,
        body: Value,
    ) -> Self {
        Self {
            id: id.into(),
            method: method.to_ascii_uppercase(),
            url: url.into(),
            headers: BTreeMap::from([("Content-Type".to_owned(), "application/json".to_owned())]),
            body: Some(body),
        }
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    fn is_idempotent(&self) -> bool {
        !self.method.eq_ignore_ascii_case("POST")
    }
}

/// A successful (2xx) item answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchResponse {
    pub id: String,
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body: Option<Value>,
}

impl BatchResponse {
    /// Decodes the body.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, GraphError> {
        let body = self.body.clone().unwrap_or(Value::Null);
        serde_json::from_value(body).map_err(|e| {
            GraphError::Protocol(format!(
                "batch item {} has an unexpected body: {e}",
                self.id
            ))
        })
    }
}

/// The outcome of one request of a batch, in the order the requests were given.
#[derive(Debug)]
pub struct BatchOutcome {
    pub id: String,
    pub result: Result<BatchResponse, GraphError>,
}

#[derive(Deserialize)]
struct BatchBody {
    responses: Vec<BatchResponse>,
}

impl GraphClient {
    /// A path for [`BatchRequest::url`]: `/seg/seg...` with each segment percent-encoded; a
    /// segment that would change the path's structure is refused.
    pub fn relative_url(&self, segments: &[&str]) -> Result<String, GraphError> {
        let full = self.url(segments)?;
        let base = self.url(&[])?;
        let base_path = base.path().trim_end_matches('/');
        let path = full.path().strip_prefix(base_path).unwrap_or(full.path());
        Ok(match full.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        })
    }

    /// Runs any number of requests in batches of 20. `Err` only when a whole batch failed
    /// (malformed, unauthorised, out of retries); item failures come back per item.
    pub async fn batch(
        &self,
        requests: Vec<BatchRequest>,
    ) -> Result<Vec<BatchOutcome>, GraphError> {
        let mut seen = HashSet::new();
        for r in &requests {
            if !seen.insert(r.id.to_ascii_lowercase()) {
                return Err(GraphError::BadRequest {
                    code: "duplicateBatchId".to_owned(),
                    message: format!(
                        "batch request id {:?} is used twice (ids are case-insensitive)",
                        r.id
                    ),
                });
            }
        }
        let mut outcomes = Vec::with_capacity(requests.len());
        let mut rest = requests;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(MAX_BATCH_SIZE));
            let chunk = std::mem::replace(&mut rest, tail);
            outcomes.extend(self.run_batch(chunk).await?);
        }
        Ok(outcomes)
    }

    async fn run_batch(&self, chunk: Vec<BatchRequest>) -> Result<Vec<BatchOutcome>, GraphError> {
        let order: Vec<String> = chunk.iter().map(|r| r.id.clone()).collect();
        let mut results: HashMap<String, Result<BatchResponse, GraphError>> = HashMap::new();
        let mut pending = chunk;
        let mut round = 0u32;
        let policy = self.policy();
        while !pending.is_empty() {
            round += 1;
            let op = if pending.iter().all(BatchRequest::is_idempotent) {
                &BATCH_IDEMPOTENT
            } else {
                &BATCH_WITH_CREATES
            };
            let body = serde_json::json!({ "requests": pending });
            let url = self.url(&["$batch"])?;
            let answer: BatchBody = self
                .send_json(&GraphRequest::new(op, Method::POST, url).json(body))
                .await?;
            let mut by_id: HashMap<String, BatchResponse> = answer
                .responses
                .into_iter()
                .map(|r| (r.id.to_ascii_lowercase(), r))
                .collect();
            let mut throttled = Vec::new();
            let mut longest = Duration::ZERO;
            for request in pending {
                let Some(item) = by_id.remove(&request.id.to_ascii_lowercase()) else {
                    results.insert(
                        request.id.clone(),
                        Err(GraphError::Protocol(format!(
                            "batch answer has no response for id {:?}",
                            request.id
                        ))),
                    );
                    continue;
                };
                if (200..300).contains(&item.status) {
                    results.insert(request.id.clone(), Ok(item));
                    continue;
                }
                let retry_after = item
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                    .and_then(|(_, v)| parse_retry_after(v, SystemTime::now()));
                let body = item
                    .body
                    .as_ref()
                    .map(|b| serde_json::to_vec(b).unwrap_or_default())
                    .unwrap_or_default();
                let error = classify(
                    item.status,
                    retry_after,
                    policy.backoff(round),
                    &body,
                    ErrorContext {
                        permission: ITEM_PERMISSION,
                        delta: false,
                    },
                );
                self.counters()
                    .record("batch.item", super::Outcome::of(&error));
                match error {
                    GraphError::Throttled { retry_after } => {
                        longest = longest.max(retry_after);
                        throttled.push(request);
                    }
                    other => {
                        results.insert(request.id.clone(), Err(other));
                    }
                }
            }
            if throttled.is_empty() {
                break;
            }
            let give_up = round >= policy.max_attempts
                || !wait_fits(
                    longest,
                    Instant::now(),
                    self.deadline(),
                    &policy,
                    Duration::from_millis(500),
                );
            if give_up {
                for request in throttled {
                    results.insert(
                        request.id.clone(),
                        Err(GraphError::Throttled {
                            retry_after: longest,
                        }),
                    );
                }
                break;
            }
            tracing::debug!(
                items = throttled.len(),
                wait_ms = u64::try_from(longest.as_millis()).unwrap_or(u64::MAX),
                "retrying throttled batch items together"
            );
            tokio::time::sleep(longest).await;
            pending = throttled;
        }
        Ok(order
            .into_iter()
            .map(|id| {
                let result = results.remove(&id).unwrap_or_else(|| {
                    Err(GraphError::Protocol(format!(
                        "no outcome for batch id {id:?}"
                    )))
                });
                BatchOutcome { id, result }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_request_serialises_in_graph_shape() {
        let r = BatchRequest::with_json(
            "1",
            "patch",
            "/planner/tasks/x",
            serde_json::json!({"title":"t"}),
        )
        .header("If-Match", "W/\"e\"");
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"id":"1","method":"PATCH","url":"/planner/tasks/x",
                "headers":{"Content-Type":"application/json","If-Match":"W/\"e\""},
                "body":{"title":"t"}})
        );
        assert_eq!(
            serde_json::to_value(BatchRequest::get("2", "/a")).unwrap(),
            serde_json::json!({"id":"2","method":"GET","url":"/a"})
        );
    }
}
