//! Notification delivery (docs/graph-behaviour.md §1.6, §1.7, §1.11): a background worker POSTs
//! each queued payload to its URL; a 2xx counts as delivered, anything else (or no answer within
//! the timeout) is retried with exponential backoff until `delivery_max_attempts`, then abandoned.
//! The request that caused a notification only queues it, so it never waits for a receiver.
//!
//! First attempts go out one after another in queue order (a receiver sees notifications in the
//! order of the writes unless a fault says otherwise); retries run in the background so a failing
//! receiver does not hold up the queue for longer than one first-attempt timeout.
//!
//! Faults (`POST /_emulator/delivery/faults`), to test idempotency and ordering (§1.11):
//! - `delay_ms`: every notification waits this long before its first attempt;
//! - `duplicate`: every notification is sent this many extra times (so `1` = twice);
//! - `reorder`: notifications are held until `reorder_batch` (default 3) are waiting or
//!   `reorder_window_ms` (default 1000) passed since the first, then sent newest first;
//! - `drop_next`: the next N notifications are dropped without any attempt;
//! - `batch`: up to N notifications that are waiting for the same URL at the same time go out in
//!   one POST, as the real service does (§1.6: one POST can carry several notifications, even of
//!   different subscriptions). Off by default so that one write is one POST.
//!
//! The body of that POST is the whole fault set (fields left out are off); `DELETE` clears it and
//! sends anything held.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::config::EmulatorConfig;
use crate::state::{AppState, lock};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryFaults {
    pub delay_ms: u64,
    pub duplicate: u32,
    pub reorder: bool,
    pub reorder_batch: Option<usize>,
    pub reorder_window_ms: Option<u64>,
    pub drop_next: u64,
    pub batch: Option<usize>,
}

impl DeliveryFaults {
    fn reorder_batch(&self) -> usize {
        self.reorder_batch.unwrap_or(3).max(1)
    }

    fn reorder_window(&self) -> Duration {
        Duration::from_millis(self.reorder_window_ms.unwrap_or(1000))
    }

    fn batch(&self) -> usize {
        self.batch.unwrap_or(1).max(1)
    }
}

/// Counters since start (`GET /_emulator/delivery/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStats {
    /// Notifications accepted for delivery (each duplicate counts).
    pub queued: u64,
    /// Notifications whose POST was answered with a 2xx.
    pub delivered: u64,
    /// POSTs that failed (non-2xx, timeout, connection error); each retry counts.
    pub failed_attempts: u64,
    /// Notifications removed by the `drop_next` fault.
    pub dropped: u64,
    /// Notifications given up after `delivery_max_attempts` failed attempts.
    pub abandoned: u64,
    /// Queued, held, waiting for a retry or in flight.
    pub pending: u64,
}

#[derive(Default)]
struct Counters {
    queued: AtomicU64,
    delivered: AtomicU64,
    failed_attempts: AtomicU64,
    dropped: AtomicU64,
    abandoned: AtomicU64,
    pending: AtomicU64,
}

struct Shared {
    counters: Counters,
    faults: std::sync::Mutex<DeliveryFaults>,
    idle: Notify,
    log: std::sync::Mutex<std::collections::VecDeque<AttemptRecord>>,
}

/// How many attempts `GET /_emulator/delivery/log` keeps.
const LOG_CAPACITY: usize = 500;

/// One POST attempt, newest last. Bodies are left out: they carry clientState (a secret).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttemptRecord {
    pub at: String,
    pub url: String,
    pub kind: Kind,
    pub notifications: usize,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The status code, or `timeout` / `connection error` / `request error`.
    pub outcome: String,
    pub delivered: bool,
}

impl Shared {
    /// `count` notifications left the pipeline (delivered, dropped or abandoned).
    /// Records one attempt's outcome: a delivered job is finished, a failed one may be retried.
    fn record_attempt(&self, job: &Job, delivered: bool) {
        if delivered {
            self.counters
                .delivered
                .fetch_add(job.items.len() as u64, Ordering::Relaxed);
            self.finish(job.items.len());
        } else {
            self.counters
                .failed_attempts
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    fn finish(&self, count: usize) {
        let count = count as u64;
        if self.counters.pending.fetch_sub(count, Ordering::AcqRel) == count {
            self.idle.notify_waiters();
        }
    }
}

/// What a POST carries: change notifications and lifecycle notifications never share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Change,
    Lifecycle,
}

/// One POST: the `value` items of a `changeNotificationCollection`.
#[derive(Debug, Clone)]
struct Job {
    url: String,
    kind: Kind,
    items: Vec<serde_json::Value>,
}

impl Job {
    fn body(&self) -> Bytes {
        Bytes::from(serde_json::json!({"value": self.items}).to_string())
    }
}

enum Message {
    Job(Job),
    /// Send whatever the reorder fault holds.
    Flush,
}

#[derive(Clone, Copy)]
struct Settings {
    first_timeout: Duration,
    retry_timeout: Duration,
    max_attempts: u32,
    backoff: Duration,
}

pub struct Delivery {
    shared: Arc<Shared>,
    http: reqwest::Client,
    settings: Settings,
    tx: mpsc::UnboundedSender<Message>,
    /// The worker's end of the queue until the worker starts (it needs a tokio runtime).
    rx: std::sync::Mutex<Option<mpsc::UnboundedReceiver<Message>>>,
}

impl Delivery {
    pub fn new(config: &EmulatorConfig) -> Delivery {
        // Loopback receivers must not be sent through a proxy from the environment; redirects
        // are not followed (a notification endpoint answers, it does not redirect).
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        let (tx, rx) = mpsc::unbounded_channel();
        let delivery = Delivery {
            shared: Arc::new(Shared {
                counters: Counters::default(),
                faults: std::sync::Mutex::new(DeliveryFaults::default()),
                idle: Notify::new(),
                log: std::sync::Mutex::new(std::collections::VecDeque::new()),
            }),
            http,
            settings: Settings {
                first_timeout: config.delivery_timeout,
                retry_timeout: config.delivery_retry_timeout,
                max_attempts: config.delivery_max_attempts.max(1),
                backoff: config.delivery_backoff,
            },
            tx,
            rx: std::sync::Mutex::new(Some(rx)),
        };
        delivery.ensure_worker();
        delivery
    }

    /// The HTTP client shared with the validation handshake.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn ensure_worker(&self) {
        let mut slot = lock(&self.rx);
        if slot.is_none() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current()
            && let Some(rx) = slot.take()
        {
            runtime.spawn(worker(
                rx,
                self.shared.clone(),
                self.http.clone(),
                self.settings,
            ));
        }
    }

    /// Queues one notification (an item of the POSTed `value` array) for `url`, applying the
    /// drop and duplicate faults. Returns at once.
    pub fn enqueue(&self, url: String, kind: Kind, item: serde_json::Value) {
        self.ensure_worker();
        let copies = {
            let mut faults = lock(&self.shared.faults);
            if faults.drop_next > 0 {
                faults.drop_next -= 1;
                self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            1 + u64::from(faults.duplicate)
        };
        for _ in 0..copies {
            self.shared.counters.queued.fetch_add(1, Ordering::Relaxed);
            self.shared.counters.pending.fetch_add(1, Ordering::AcqRel);
            let job = Job {
                url: url.clone(),
                kind,
                items: vec![item.clone()],
            };
            if self.tx.send(Message::Job(job)).is_err() {
                // The worker is gone (runtime shut down): nothing can be delivered any more.
                self.shared
                    .counters
                    .abandoned
                    .fetch_add(1, Ordering::Relaxed);
                self.shared.finish(1);
            }
        }
    }

    pub fn stats(&self) -> DeliveryStats {
        let c = &self.shared.counters;
        DeliveryStats {
            queued: c.queued.load(Ordering::Relaxed),
            delivered: c.delivered.load(Ordering::Relaxed),
            failed_attempts: c.failed_attempts.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            abandoned: c.abandoned.load(Ordering::Relaxed),
            pending: c.pending.load(Ordering::Acquire),
        }
    }

    /// The latest attempts, oldest first (at most 500).
    pub fn log(&self) -> Vec<AttemptRecord> {
        lock(&self.shared.log).iter().cloned().collect()
    }

    pub fn faults(&self) -> DeliveryFaults {
        lock(&self.shared.faults).clone()
    }

    pub fn set_faults(&self, faults: DeliveryFaults) {
        *lock(&self.shared.faults) = faults;
        let _ = self.tx.send(Message::Flush);
    }

    pub fn clear_faults(&self) {
        self.set_faults(DeliveryFaults::default());
    }

    /// Waits until nothing is pending (delivered, dropped or abandoned), at most `timeout`.
    /// Returns whether delivery went idle.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.shared.counters.pending.load(Ordering::Acquire) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.shared.counters.pending.load(Ordering::Acquire) == 0;
            }
        }
    }
}

async fn worker(
    mut rx: mpsc::UnboundedReceiver<Message>,
    shared: Arc<Shared>,
    http: reqwest::Client,
    settings: Settings,
) {
    let mut held: Vec<Job> = Vec::new();
    let mut held_since: Option<Instant> = None;
    loop {
        let faults = lock(&shared.faults).clone();
        let message = match held_since {
            Some(since) => {
                match tokio::time::timeout_at(since + faults.reorder_window(), rx.recv()).await {
                    Ok(m) => m,
                    Err(_) => Some(Message::Flush),
                }
            }
            None => rx.recv().await,
        };
        let Some(message) = message else { return };
        let faults = lock(&shared.faults).clone();
        let mut unit = Vec::new();
        match message {
            Message::Job(job) if faults.reorder => {
                held.push(job);
                held_since.get_or_insert_with(Instant::now);
                if held.len() >= faults.reorder_batch() {
                    unit.extend(held.drain(..).rev());
                }
            }
            Message::Job(job) => {
                unit.extend(held.drain(..).rev());
                unit.push(job);
                // Whatever else is already waiting may share a POST.
                if faults.batch() > 1 {
                    while let Ok(Message::Job(more)) = rx.try_recv() {
                        unit.push(more);
                    }
                }
            }
            Message::Flush => unit.extend(held.drain(..).rev()),
        }
        if held.is_empty() {
            held_since = None;
        }
        if unit.is_empty() {
            continue;
        }
        let unit = merge(unit, faults.batch());
        if faults.delay_ms > 0 {
            let (shared, http) = (shared.clone(), http.clone());
            let delay = Duration::from_millis(faults.delay_ms);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                deliver_in_order(unit, &shared, &http, settings).await;
            });
        } else {
            deliver_in_order(unit, &shared, &http, settings).await;
        }
    }
}

/// Groups jobs for the same URL and kind into POSTs of at most `batch` items. Order is kept per
/// URL; each POST goes out where its first notification stood.
fn merge(unit: Vec<Job>, batch: usize) -> Vec<Job> {
    if batch <= 1 {
        return unit;
    }
    let mut merged: Vec<Job> = Vec::with_capacity(unit.len());
    for job in unit {
        // Only the newest POST for this URL may take more, or per-URL order would break.
        let open = merged
            .iter_mut()
            .rev()
            .find(|m| m.url == job.url && m.kind == job.kind)
            .filter(|m| m.items.len() + job.items.len() <= batch);
        match open {
            Some(target) => target.items.extend(job.items),
            None => merged.push(job),
        }
    }
    merged
}

/// First attempts in order; each failure continues in its own retry task.
async fn deliver_in_order(
    unit: Vec<Job>,
    shared: &Arc<Shared>,
    http: &reqwest::Client,
    settings: Settings,
) {
    for job in unit {
        let delivered = attempt(http, shared, &job, 1, settings.first_timeout).await;
        shared.record_attempt(&job, delivered);
        if delivered {
            continue;
        }
        let (shared, http) = (shared.clone(), http.clone());
        tokio::spawn(async move { retry(job, &shared, &http, settings).await });
    }
}

async fn retry(job: Job, shared: &Shared, http: &reqwest::Client, settings: Settings) {
    let mut backoff = settings.backoff;
    for number in 2..=settings.max_attempts {
        tokio::time::sleep(backoff).await;
        backoff = backoff.saturating_mul(2);
        let delivered = attempt(http, shared, &job, number, settings.retry_timeout).await;
        shared.record_attempt(&job, delivered);
        if delivered {
            return;
        }
    }
    tracing::warn!(url = %job.url, attempts = settings.max_attempts, "notification abandoned");
    shared
        .counters
        .abandoned
        .fetch_add(job.items.len() as u64, Ordering::Relaxed);
    shared.finish(job.items.len());
}

async fn attempt(
    http: &reqwest::Client,
    shared: &Shared,
    job: &Job,
    number: u32,
    timeout: Duration,
) -> bool {
    let sent = http
        .post(&job.url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(job.body())
        .timeout(timeout)
        .send();
    let (delivered, outcome) = match tokio::time::timeout(timeout, sent).await {
        Ok(Ok(response)) => (
            response.status().is_success(),
            response.status().as_u16().to_string(),
        ),
        Ok(Err(e)) if e.is_timeout() => (false, "timeout".to_owned()),
        Ok(Err(e)) if e.is_connect() => (false, "connection error".to_owned()),
        Ok(Err(_)) => (false, "request error".to_owned()),
        Err(_) => (false, "timeout".to_owned()),
    };
    let mut log = lock(&shared.log);
    if log.len() >= LOG_CAPACITY {
        log.pop_front();
    }
    log.push_back(AttemptRecord {
        at: chrono::Utc::now().to_rfc3339(),
        url: job.url.clone(),
        kind: job.kind,
        notifications: job.items.len(),
        attempt: number,
        outcome,
        delivered,
    });
    delivered
}

// ---- control API -------------------------------------------------------------------------------

/// Nested under `/_emulator` by `subscriptions::control_routes`.
pub fn control_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/delivery/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/delivery/stats", get(get_stats))
        .route("/delivery/log", get(get_log))
}

async fn get_faults(State(state): State<AppState>) -> Response {
    axum::Json(state.delivery.faults()).into_response()
}

async fn set_faults(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<DeliveryFaults>(&body) {
        Ok(faults) => {
            state.delivery.set_faults(faults.clone());
            axum::Json(faults).into_response()
        }
        Err(e) => crate::errors::graph_error(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            &format!("Invalid delivery faults: {e}"),
        ),
    }
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    state.delivery.clear_faults();
    StatusCode::NO_CONTENT.into_response()
}

async fn get_log(State(state): State<AppState>) -> Response {
    axum::Json(serde_json::json!({"value": state.delivery.log()})).into_response()
}

async fn get_stats(State(state): State<AppState>) -> Response {
    axum::Json(state.delivery.stats()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(url: &str, n: u64) -> Job {
        Job {
            url: url.to_owned(),
            kind: Kind::Change,
            items: vec![serde_json::json!(n)],
        }
    }

    #[test]
    fn merge_groups_per_url_keeps_order_and_respects_the_limit() {
        let unit = vec![
            job("a", 1),
            job("b", 2),
            job("a", 3),
            job("a", 4),
            job("b", 5),
        ];
        let merged = merge(unit, 2);
        let shape: Vec<(String, Vec<serde_json::Value>)> =
            merged.into_iter().map(|j| (j.url, j.items)).collect();
        assert_eq!(
            shape,
            vec![
                (
                    "a".to_owned(),
                    vec![serde_json::json!(1), serde_json::json!(3)]
                ),
                (
                    "b".to_owned(),
                    vec![serde_json::json!(2), serde_json::json!(5)]
                ),
                ("a".to_owned(), vec![serde_json::json!(4)]),
            ]
        );
        let mut lifecycle = job("a", 9);
        lifecycle.kind = Kind::Lifecycle;
        assert_eq!(merge(vec![job("a", 1), lifecycle], 10).len(), 2);
    }
}
