//! The webhook function's handler: Graph's front door (docs/architecture.md, "The parts").
//!
//! It does little, does it fast, and trusts nothing: answer the validation handshake; parse the
//! notification collection; believe an item only when its subscription, clientState and tenant
//! check out; turn believed items into queue hints with one `send_hints` call; answer 202. It never
//! calls Graph. Graph counts a delivery as failed after about 3 s (docs/graph-behaviour.md §1.7),
//! so the only awaited I/O is the subscription lookup (cached between warm invocations) and the
//! enqueue, and both together are bounded by [`WebhookSettings::answer_deadline`].
//!
//! The Lambda main, the local HTTP run and the tests all call [`handle`] (or [`handle_request`],
//! which also returns the counts).

pub mod lambda_event;
mod metrics;
mod outcome;
mod response;
mod routes;
mod subscription_cache;
mod verdict;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::{Instrument, error, info, info_span, warn};

use crate::notification::{Notification, parse_collection};
use crate::ports::{HintSend, QueueError, StoreError, SubscriptionLookup};
use crate::queue_message::{Hint, encode};

pub use lambda_event::handle_event;
pub use metrics::{FUNCTION_DIMENSION, MetricsSink, NAMESPACE, emf_lines, request_line};
pub use outcome::{RejectReason, WebhookCounts};
pub use routes::{Endpoint, LIFECYCLE_PATH, NOTIFICATION_PATH, endpoint_for};
pub use subscription_cache::{Cached, SubscriptionCache};
pub use verdict::{MISSED_REASON, judge};

/// The query parameter that marks a validation request (docs/graph-behaviour.md §1.3).
pub const VALIDATION_TOKEN_PARAM: &str = "validationToken";

/// Longest validation token echoed back. Graph's are a few hundred characters; a cap keeps the
/// endpoint from reflecting arbitrary amounts of attacker text.
pub const MAX_VALIDATION_TOKEN_LEN: usize = 8 * 1024;

/// The default body limit: about the most body a 6 MB Lambda event can carry. Graph publishes no
/// maximum delivery size, and 1 MiB refused realistic batches (docs/graph-behaviour.md §1.6a).
pub const MAX_NOTIFICATION_BODY_BYTES: usize = 5 * 1024 * 1024;

/// How many log lines one request may spend on individual rejected items; the rest are only
/// counted, so a flood of junk cannot flood the logs.
const MAX_ITEM_LOG_LINES: usize = 10;

/// Longest piece of untrusted text (a subscription id) written to a log line.
const MAX_LOGGED_ID_LEN: usize = 64;

/// Tunables of the handler. The lead's config module fills it from the environment; `Default`
/// holds the values the docs describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// When set (GRAPH_TENANT_ID), items from any other tenant are rejected even if a stored
    /// subscription claims that tenant.
    pub expected_tenant_id: Option<String>,
    /// Larger bodies get 413 before any parsing. See [`MAX_NOTIFICATION_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// How long a found subscription stays cached.
    pub subscription_cache_ttl: Duration,
    /// How long "no such subscription" stays cached (shorter: a new subscription must be found).
    pub unknown_subscription_cache_ttl: Duration,
    /// Most subscription ids kept in the cache.
    pub subscription_cache_capacity: usize,
    /// Most store reads one request may cause. Beyond it the request gets 503 and enqueues
    /// nothing; the ids read so far are cached, so Graph's retry gets further. Bounds the time
    /// and cost a forged body with thousands of distinct ids can cause.
    pub max_store_lookups_per_request: usize,
    /// How long the request's awaited I/O (subscription lookups and the enqueue) may take in all.
    /// Past it the answer is 503 and nothing is acknowledged. Graph counts an answer after 3 s as
    /// failed, and an endpoint whose answers often take longer than 3 s (or 10 s) is delayed or has
    /// its notifications dropped (docs/graph-behaviour.md §1.7); a hung DynamoDB or SQS call must
    /// not hold the answer until the Lambda timeout. The deadline uses Tokio's timer, so the
    /// handler must run on a runtime with time enabled (every runtime in this project is).
    pub answer_deadline: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            expected_tenant_id: None,
            max_body_bytes: MAX_NOTIFICATION_BODY_BYTES,
            subscription_cache_ttl: Duration::from_secs(300),
            unknown_subscription_cache_ttl: Duration::from_secs(30),
            subscription_cache_capacity: 10_000,
            max_store_lookups_per_request: 50,
            answer_deadline: Duration::from_secs(2),
        }
    }
}

/// Everything the handler needs, built once per execution environment (the cache inside lives
/// across warm invocations).
#[derive(Debug)]
pub struct WebhookDeps<S, Q> {
    store: S,
    queue: Q,
    settings: WebhookSettings,
    cache: SubscriptionCache,
    metrics: MetricsSink,
}

impl<S: SubscriptionLookup, Q: HintSend> WebhookDeps<S, Q> {
    /// Metrics go to stdout as EMF; use [`WebhookDeps::with_metrics`] to send them elsewhere.
    pub fn new(store: S, queue: Q, settings: WebhookSettings) -> Self {
        let cache = SubscriptionCache::new(
            settings.subscription_cache_ttl,
            settings.unknown_subscription_cache_ttl,
            settings.subscription_cache_capacity,
        );
        WebhookDeps {
            store,
            queue,
            settings,
            cache,
            metrics: MetricsSink::default(),
        }
    }

    pub fn with_metrics(mut self, metrics: MetricsSink) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn queue(&self) -> &Q {
        &self.queue
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    pub fn cache(&self) -> &SubscriptionCache {
        &self.cache
    }
}

/// A response and what the request did.
#[derive(Debug)]
pub struct HandledRequest {
    pub response: Response<Body>,
    pub counts: WebhookCounts,
}

/// Handles one request from API Gateway (HTTP API, payload 2.0) or the local HTTP adapter.
pub async fn handle<S: SubscriptionLookup, Q: HintSend>(
    req: Request,
    deps: &WebhookDeps<S, Q>,
) -> Response<Body> {
    handle_request(req, deps).await.response
}

/// [`handle`], also returning the counts (for tests and benchmarks).
pub async fn handle_request<S: SubscriptionLookup, Q: HintSend>(
    req: Request,
    deps: &WebhookDeps<S, Q>,
) -> HandledRequest {
    let ids = RequestIds::of(&req);
    let span = info_span!(
        "webhook",
        request_id = ids.lambda.as_deref().unwrap_or(""),
        apigw_request_id = ids.api_gateway.as_deref().unwrap_or(""),
        endpoint = tracing::field::Empty,
    );
    route(req, deps).instrument(span).await
}

async fn route<S: SubscriptionLookup, Q: HintSend>(
    req: Request,
    deps: &WebhookDeps<S, Q>,
) -> HandledRequest {
    // Requests that never reach the notification logic: counted by status, nothing else.
    let only = |response: Response<Body>| {
        deps.metrics
            .emit_answered(response.status().as_u16(), now_ms());
        HandledRequest {
            response,
            counts: WebhookCounts::default(),
        }
    };
    let Some(endpoint) = endpoint_for(request_path(&req), stage(&req)) else {
        info!(status = 404, "unknown path");
        return only(response::not_found());
    };
    tracing::Span::current().record("endpoint", endpoint.as_str());
    if !routes::method_allowed(req.method()) {
        info!(status = 405, method = %req.method(), "method not allowed");
        return only(response::method_not_allowed("GET, POST"));
    }
    if let Some(token) = validation_token(&req) {
        return only(validate(token));
    }
    if req.method() != http::Method::POST {
        info!(status = 405, "GET without a validation token");
        return only(response::method_not_allowed("POST"));
    }
    let body = body_bytes(req.body());
    if body.len() > deps.settings.max_body_bytes {
        info!(status = 413, bytes = body.len(), "body too large");
        return only(response::payload_too_large(deps.settings.max_body_bytes));
    }
    let collection = match parse_collection(body) {
        Ok(collection) => collection,
        Err(e) => {
            info!(status = 400, reason = %e, "not a notification collection");
            return only(response::bad_request(e.to_string()));
        }
    };
    let deadline = tokio::time::Instant::now() + deps.settings.answer_deadline;
    notify(collection.items, deps, deadline).await
}

/// Answers the handshake, or refuses a token no Graph would send.
fn validate(token: String) -> Response<Body> {
    if token.is_empty() || token.len() > MAX_VALIDATION_TOKEN_LEN {
        info!(
            status = 400,
            bytes = token.len(),
            "validation token refused"
        );
        return response::bad_request("invalid validationToken");
    }
    info!(status = 200, "validation handshake answered");
    response::validation(token)
}

/// Judges every item, enqueues the hints of the believed ones, answers.
async fn notify<S: SubscriptionLookup, Q: HintSend>(
    items: Vec<Result<Notification, crate::notification::ItemError>>,
    deps: &WebhookDeps<S, Q>,
    deadline: tokio::time::Instant,
) -> HandledRequest {
    let mut counts = WebhookCounts::default();
    let mut hints: Vec<Hint> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut item_logs = 0usize;
    let mut log_reject =
        |index: usize, reason: RejectReason, subscription_id: &str, detail: &str| {
            if item_logs < MAX_ITEM_LOG_LINES {
                item_logs += 1;
                warn!(
                    index,
                    reason = reason.as_str(),
                    subscription_id = truncated(subscription_id),
                    detail,
                    "notification rejected"
                );
            }
        };

    for (index, item) in items.iter().enumerate() {
        counts.received += 1;
        let notification = match item {
            Ok(notification) => notification,
            Err(e) => {
                counts.reject(RejectReason::InvalidItem);
                log_reject(index, RejectReason::InvalidItem, "", &e.to_string());
                continue;
            }
        };
        let subscription_id = notification.envelope().subscription_id.as_str();
        let record = match lookup(subscription_id, deps, &mut counts, deadline).await {
            Ok(Cached::Found(record)) => record,
            Ok(Cached::NotFound) => {
                counts.reject(RejectReason::UnknownSubscription);
                log_reject(
                    index,
                    RejectReason::UnknownSubscription,
                    subscription_id,
                    "",
                );
                continue;
            }
            Err(LookupFailure::BrokenRecord(reason)) => {
                counts.reject(RejectReason::InvalidSubscriptionRecord);
                error!(
                    subscription_id = truncated(subscription_id),
                    reason, "stored subscription record is invalid"
                );
                continue;
            }
            Err(LookupFailure::BudgetExceeded) => {
                warn!(
                    status = 503,
                    budget = deps.settings.max_store_lookups_per_request,
                    "too many distinct uncached subscriptions in one request; nothing enqueued"
                );
                return finish(response::unavailable(), counts, deps);
            }
            Err(LookupFailure::DeadlinePassed) => {
                warn!(
                    status = 503,
                    deadline_ms = deps.settings.answer_deadline.as_millis() as u64,
                    "subscription lookup did not finish within the answer deadline; nothing enqueued"
                );
                return finish(response::unavailable(), counts, deps);
            }
            Err(LookupFailure::Store(e)) => {
                let response = match e {
                    StoreError::Config(_) => response::internal_error(),
                    _ => response::unavailable(),
                };
                error!(
                    status = response.status().as_u16(),
                    error = %e,
                    "subscription lookup failed; nothing enqueued"
                );
                return finish(response, counts, deps);
            }
        };
        match judge(
            notification,
            &record,
            deps.settings.expected_tenant_id.as_deref(),
        ) {
            Ok(hint) => {
                counts.accepted += 1;
                if seen.insert(encode(&hint)) {
                    hints.push(hint);
                }
            }
            Err(reason) => {
                counts.reject(reason);
                log_reject(index, reason, subscription_id, "");
            }
        }
    }

    if !hints.is_empty() {
        let started = Instant::now();
        let sent = tokio::time::timeout_at(deadline, deps.queue.send_hints(&hints)).await;
        counts.enqueue_latency = Some(started.elapsed());
        let Ok(sent) = sent else {
            // Some hints may have reached the queue; Graph's retry re-sends them, harmlessly.
            warn!(
                status = 503,
                hints = hints.len(),
                deadline_ms = deps.settings.answer_deadline.as_millis() as u64,
                "enqueue did not finish within the answer deadline; nothing acknowledged"
            );
            return finish(response::unavailable(), counts, deps);
        };
        if let Err(e) = sent {
            let response = match e {
                QueueError::Config(_) => response::internal_error(),
                QueueError::Transient(_) | QueueError::NotEnqueued { .. } => {
                    response::unavailable()
                }
            };
            error!(
                status = response.status().as_u16(),
                hints = hints.len(),
                error = %e,
                "enqueue failed; nothing acknowledged"
            );
            return finish(response, counts, deps);
        }
        counts.hints_enqueued = hints.len() as u64;
    }
    info!(
        status = 202,
        received = counts.received,
        accepted = counts.accepted,
        rejected = counts.rejected_total(),
        hints = counts.hints_enqueued,
        store_lookups = counts.store_lookups,
        "notifications handled"
    );
    finish(response::accepted(), counts, deps)
}

fn finish<S, Q>(
    response: Response<Body>,
    counts: WebhookCounts,
    deps: &WebhookDeps<S, Q>,
) -> HandledRequest {
    deps.metrics
        .emit(&counts, response.status().as_u16(), now_ms());
    HandledRequest { response, counts }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

enum LookupFailure {
    Store(StoreError),
    BrokenRecord(String),
    BudgetExceeded,
    DeadlinePassed,
}

/// Finds a subscription through the cache; a miss costs one unit of the request's budget.
async fn lookup<S: SubscriptionLookup, Q: HintSend>(
    subscription_id: &str,
    deps: &WebhookDeps<S, Q>,
    counts: &mut WebhookCounts,
    deadline: tokio::time::Instant,
) -> Result<Cached, LookupFailure> {
    if let Some(cached) = deps.cache.get(subscription_id) {
        return Ok(cached);
    }
    if counts.store_lookups >= deps.settings.max_store_lookups_per_request as u64 {
        return Err(LookupFailure::BudgetExceeded);
    }
    counts.store_lookups += 1;
    let read = tokio::time::timeout_at(deadline, deps.store.find_subscription(subscription_id));
    let found = match read.await.map_err(|_| LookupFailure::DeadlinePassed)? {
        Ok(Some(record)) => Cached::Found(record),
        Ok(None) => Cached::NotFound,
        Err(StoreError::InvalidItem(reason)) => return Err(LookupFailure::BrokenRecord(reason)),
        Err(e) => return Err(LookupFailure::Store(e)),
    };
    deps.cache.put(subscription_id, found.clone());
    Ok(found)
}

/// The request path as the client sent it. API Gateway's raw path (`rawPath`) when the request
/// came through lambda_http's event parsing, the URI path otherwise (local HTTP adapter).
fn request_path(req: &Request) -> &str {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path()
    } else {
        raw
    }
}

/// The API Gateway stage, when the request came through API Gateway.
fn stage(req: &Request) -> Option<&str> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.stage.as_deref(),
        _ => None,
    }
}

/// The URL-decoded `validationToken`, from the URI's query (all adapters put it there) or from
/// the query parameters lambda_http extracted.
fn validation_token(req: &Request) -> Option<String> {
    let from_uri = req.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == VALIDATION_TOKEN_PARAM)
            .map(|(_, value)| value.into_owned())
    });
    from_uri.or_else(|| {
        req.query_string_parameters_ref()?
            .first(VALIDATION_TOKEN_PARAM)
            .map(str::to_owned)
    })
}

fn body_bytes(body: &Body) -> &[u8] {
    match body {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// The ids that let one request be found in the logs.
struct RequestIds {
    /// The Lambda invocation's request id.
    lambda: Option<String>,
    /// API Gateway's `requestContext.requestId`.
    api_gateway: Option<String>,
}

impl RequestIds {
    fn of(req: &Request) -> Self {
        let lambda = req
            .lambda_context_ref()
            .map(|context| context.request_id.clone())
            .filter(|id| !id.is_empty());
        let api_gateway = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.request_id.clone(),
            _ => None,
        };
        RequestIds {
            lambda,
            api_gateway,
        }
    }
}

/// At most `MAX_LOGGED_ID_LEN` characters of untrusted text.
fn truncated(text: &str) -> &str {
    match text.char_indices().nth(MAX_LOGGED_ID_LEN) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}
