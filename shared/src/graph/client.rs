//! The request machinery every operation goes through: token, send, map errors, retry within
//! the attempt and deadline bounds, count.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::{CachedToken, TokenCache, TokenResponse, classify_token_error};
use super::counters::{CallCounters, Outcome};
use super::error::{ErrorContext, classify};
use super::request::{GraphRequest, GraphResponse, Operation};
use super::retry::{RetryPolicy, parse_retry_after, wait_fits};
use super::{GraphError, GraphSettings};

/// Time kept free for the retried request itself when deciding whether a wait fits before the
/// deadline.
const REQUEST_ALLOWANCE: Duration = Duration::from_millis(500);

pub(crate) const TOKEN_OPERATION: &str = "token";

/// The Graph client. Cheap to clone: clones share the connection pool, the token cache and the
/// counters, so a warm Lambda keeps its token across invocations.
#[derive(Clone, Debug)]
pub struct GraphClient {
    inner: Arc<Inner>,
    deadline: Option<Instant>,
}

#[derive(Debug)]
struct Inner {
    settings: GraphSettings,
    base: Url,
    token_url: Url,
    http: reqwest::Client,
    tokens: TokenCache,
    counters: CallCounters,
    policy: RetryPolicy,
}

/// A failed attempt, and whether repeating it is safe.
struct Failure {
    error: GraphError,
    safe_to_repeat: bool,
}

#[derive(serde::Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

impl GraphClient {
    /// A client for one app registration. `http` should be the process's one client (see
    /// [`super::http_client`]).
    pub fn new(settings: GraphSettings, http: reqwest::Client) -> Result<Self, GraphError> {
        Self::with_policy(settings, http, RetryPolicy::default())
    }

    pub fn with_policy(
        settings: GraphSettings,
        http: reqwest::Client,
        policy: RetryPolicy,
    ) -> Result<Self, GraphError> {
        let mut base = Url::parse(&settings.graph_base_url).map_err(|e| {
            GraphError::Config(format!(
                "graph base URL {:?} is not a URL: {e}",
                settings.graph_base_url
            ))
        })?;
        if base.cannot_be_a_base() {
            return Err(GraphError::Config(format!(
                "graph base URL {:?} cannot be a base",
                settings.graph_base_url
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let token_url = Url::parse(&settings.token_url).map_err(|e| {
            GraphError::Config(format!(
                "token URL {:?} is not a URL: {e}",
                settings.token_url
            ))
        })?;
        if settings.client_secret.expose().is_empty() {
            return Err(GraphError::Config(
                "the Graph client secret is empty".to_owned(),
            ));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                base,
                token_url,
                http,
                tokens: TokenCache::default(),
                counters: CallCounters::default(),
                policy,
            }),
            deadline: None,
        })
    }

    /// A view of this client whose calls never wait past `deadline` (e.g. the Lambda's deadline
    /// minus a margin). Shares pool, token cache and counters.
    pub fn with_deadline(&self, deadline: Instant) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            deadline: Some(deadline),
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn counters(&self) -> &CallCounters {
        &self.inner.counters
    }

    pub(crate) fn policy(&self) -> RetryPolicy {
        self.inner.policy.clone()
    }

    /// To Do operations.
    pub fn todo(&self) -> super::todo::TodoApi<'_> {
        super::todo::TodoApi::new(self)
    }

    /// Planner operations.
    pub fn planner(&self) -> super::planner::PlannerApi<'_> {
        super::planner::PlannerApi::new(self)
    }

    /// Subscription operations.
    pub fn subscriptions(&self) -> super::subscriptions::SubscriptionsApi<'_> {
        super::subscriptions::SubscriptionsApi::new(self)
    }

    pub fn settings(&self) -> &GraphSettings {
        &self.inner.settings
    }

    /// `{base}/{segments...}`, each segment percent-encoded (ids may hold `/`, `+`, `=`); a
    /// segment that would change the path's structure is refused ([`super::request::path_segment`]).
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, GraphError> {
        for segment in segments {
            super::request::path_segment(segment)?;
        }
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        Ok(url)
    }

    /// A link Graph handed out (nextLink, deltaLink), followed unchanged (docs/graph-behaviour.md
    /// §0) but only to Graph's own origin: the bearer token must not leave for another host.
    pub(crate) fn graph_link(&self, link: &str) -> Result<Url, GraphError> {
        let url = Url::parse(link)
            .map_err(|e| GraphError::Protocol(format!("link {link:?} is not a URL: {e}")))?;
        if url.origin() != self.inner.base.origin() {
            return Err(GraphError::Protocol(format!(
                "link points to {:?}, not to the Graph endpoint",
                url.origin().ascii_serialization()
            )));
        }
        Ok(url)
    }

    /// Sends a request with retries; `Ok` only for 2xx.
    pub(crate) async fn send(&self, request: &GraphRequest) -> Result<GraphResponse, GraphError> {
        let refreshed = AtomicBool::new(false);
        self.with_retries(request.op.name, |retry| {
            self.attempt(request, &refreshed, retry)
        })
        .await
    }

    /// Sends and decodes JSON.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        request: &GraphRequest,
    ) -> Result<T, GraphError> {
        self.send(request).await?.json()
    }

    /// GETs a collection and follows every `@odata.nextLink` (docs/graph-behaviour.md §0, §2.9).
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        op: &'static Operation,
        first: Url,
    ) -> Result<Vec<T>, GraphError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let page: Page<T> = self
                .send_json(&GraphRequest::new(op, Method::GET, url))
                .await?;
            items.extend(page.value);
            if let Some(link) = page.next_link {
                next = Some(self.graph_link(&link)?);
            }
        }
        Ok(items)
    }

    /// The retry loop shared by Graph calls and token requests.
    async fn with_retries<T, F, Fut>(
        &self,
        op_name: &'static str,
        mut attempt: F,
    ) -> Result<T, GraphError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let policy = &self.inner.policy;
        let mut tries = 0u32;
        loop {
            tries += 1;
            let failure = match attempt(tries - 1).await {
                Ok(value) => return Ok(value),
                Err(f) => f,
            };
            let Failure {
                error,
                safe_to_repeat,
            } = failure;
            if !error.is_retryable() || !safe_to_repeat || tries >= policy.max_attempts {
                return Err(error);
            }
            let wait = match &error {
                GraphError::Throttled { retry_after } => *retry_after,
                _ => policy.backoff(tries - 1),
            };
            if !wait_fits(
                wait,
                Instant::now(),
                self.deadline,
                policy,
                REQUEST_ALLOWANCE,
            ) {
                tracing::info!(
                    operation = op_name,
                    wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                    "Graph retry wait exceeds the time left; handing it back to the caller"
                );
                return Err(match error {
                    GraphError::Throttled { .. } => GraphError::Throttled { retry_after: wait },
                    other => other,
                });
            }
            tracing::debug!(
                operation = op_name,
                attempt = tries,
                error = error.kind(),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "retrying Graph call"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// The time one request may take: the policy's attempt timeout, shortened by the deadline.
    fn time_left(&self) -> Result<Option<Duration>, Failure> {
        let cap = self.inner.policy.attempt_timeout;
        match self.deadline {
            None => Ok(Some(cap)),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    Err(Failure {
                        error: GraphError::Transient(
                            "the caller's deadline passed before the call could be made".into(),
                        ),
                        safe_to_repeat: false,
                    })
                } else {
                    Ok(Some(left.min(cap)))
                }
            }
        }
    }

    /// One attempt: token, request, and on 401 one refresh plus one resend (per call).
    async fn attempt(
        &self,
        request: &GraphRequest,
        refreshed: &AtomicBool,
        retry: u32,
    ) -> Result<GraphResponse, Failure> {
        let counters = &self.inner.counters;
        let op = request.op;
        loop {
            let token = self.token().await.map_err(|error| Failure {
                safe_to_repeat: false,
                error,
            })?;
            let sent = self.send_once(request, &token).await;
            let (status, headers, body) = match sent {
                Ok(parts) => parts,
                Err(failure) => {
                    counters.record(op.name, Outcome::of(&failure.error));
                    return Err(failure);
                }
            };
            if (200..300).contains(&status) {
                counters.record(op.name, Outcome::Success);
                return Ok(GraphResponse {
                    status,
                    headers,
                    body,
                });
            }
            if status == 401 && !refreshed.swap(true, Ordering::SeqCst) {
                counters.record(op.name, Outcome::Unauthorized);
                tracing::info!(
                    operation = op.name,
                    "Graph answered 401; refreshing the token once"
                );
                self.inner.tokens.invalidate(&token).await;
                continue;
            }
            let retry_after = retry_after_of(&headers);
            // A 429 without Retry-After waits like any other failure: backoff with jitter (§5).
            let error = classify(
                status,
                retry_after,
                self.inner.policy.backoff(retry),
                &body,
                ErrorContext {
                    permission: op.permission,
                    delta: op.delta,
                },
            );
            counters.record(op.name, Outcome::of(&error));
            let safe_to_repeat = op.idempotent || matches!(error, GraphError::Throttled { .. });
            return Err(Failure {
                error,
                safe_to_repeat,
            });
        }
    }

    async fn send_once(
        &self,
        request: &GraphRequest,
        token: &str,
    ) -> Result<(u16, HeaderMap, Bytes), Failure> {
        let left = self.time_left()?;
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), request.url.clone())
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(left) = left {
            builder = builder.timeout(left);
        }
        for (name, value) in &request.headers {
            let value = HeaderValue::from_str(value).map_err(|_| Failure {
                error: GraphError::Protocol(format!("header {name} has an invalid value")),
                safe_to_repeat: false,
            })?;
            builder = builder.header(name.clone(), value);
        }
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| transport_failure(&e, request.op.idempotent))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_failure(&e, request.op.idempotent))?;
        Ok((status, headers, body))
    }

    /// The current token, fetching one when none is cached or it is close to expiry. One fetch at
    /// a time: the slot's lock is held across it.
    pub(crate) async fn token(&self) -> Result<Arc<str>, GraphError> {
        let mut slot = self.inner.tokens.slot.lock().await;
        let now = Instant::now();
        if let Some(token) = slot.as_ref()
            && token.fresh(now)
        {
            return Ok(Arc::clone(&token.value));
        }
        match self.fetch_token().await {
            Ok(fresh) => {
                let value = Arc::clone(&fresh.value);
                *slot = Some(fresh);
                Ok(value)
            }
            // A refresh ahead of expiry that fails for a passing reason keeps the old token.
            Err(error) if error.is_retryable() => match slot.as_ref() {
                Some(old) if old.usable(Instant::now()) => Ok(Arc::clone(&old.value)),
                _ => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    async fn fetch_token(&self) -> Result<CachedToken, GraphError> {
        self.with_retries(TOKEN_OPERATION, |retry| self.token_attempt(retry))
            .await
    }

    async fn token_attempt(&self, retry: u32) -> Result<CachedToken, Failure> {
        let settings = &self.inner.settings;
        let counters = &self.inner.counters;
        let left = self.time_left()?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.expose()),
            ("scope", settings.scope.as_str()),
        ];
        let issued_at = Instant::now();
        let mut builder = self
            .inner
            .http
            .post(self.inner.token_url.clone())
            .form(&form);
        if let Some(left) = left {
            builder = builder.timeout(left);
        }
        let response = builder.send().await.map_err(|e| {
            let failure = transport_failure(&e, true);
            counters.record(TOKEN_OPERATION, Outcome::of(&failure.error));
            failure
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(|e| {
            let failure = transport_failure(&e, true);
            counters.record(TOKEN_OPERATION, Outcome::of(&failure.error));
            failure
        })?;
        if status == 200 {
            let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                counters.record(TOKEN_OPERATION, Outcome::Protocol);
                Failure {
                    error: GraphError::Protocol(format!(
                        "token response does not have the expected shape: {e}"
                    )),
                    safe_to_repeat: false,
                }
            })?;
            counters.record(TOKEN_OPERATION, Outcome::Success);
            return Ok(CachedToken::new(
                parsed.access_token,
                issued_at,
                Duration::from_secs(parsed.expires_in),
            ));
        }
        let error = classify_token_error(
            status,
            retry_after_of(&headers),
            self.inner.policy.backoff(retry),
            &body,
            &settings.tenant_id,
            &settings.client_id,
        );
        counters.record(TOKEN_OPERATION, Outcome::of(&error));
        Err(Failure {
            error,
            safe_to_repeat: true,
        })
    }
}

fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// A transport error: always transient; safe to repeat when the request never left (connect
/// failure) or the operation is idempotent. The message keeps the cause chain but never the URL's
/// query (reqwest's Display includes the URL; Graph URLs carry no secrets, tokens go in headers).
fn transport_failure(error: &reqwest::Error, idempotent: bool) -> Failure {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    let kind = if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else {
        "transport"
    };
    Failure {
        error: GraphError::Transient(format!("{kind}: {message}")),
        safe_to_repeat: idempotent || error.is_connect(),
    }
}
