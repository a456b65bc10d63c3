//! Shared by the webhook_* test modules: port doubles and builders of
//! real API Gateway HTTP API (payload 2.0) events from the SAM-generated fixtures.
//!
//! The store and queue are small test doubles of the *ports* (they count calls and can fail on
//! demand); the code under test is always the real handler.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::Utc;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use tasksync::model::SubscriptionRecord;
use tasksync::ports::{HintSend, QueueError, StoreError, SubscriptionLookup};
use tasksync::queue_message::Hint;
use tasksync::webhook::{MetricsSink, WebhookDeps, WebhookSettings};

pub const SUB: &str = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07";
pub const SECRET: &str = "e1f6a4a0c3b34c3d9d8a7c1b2e3f4a5b-tasksync";
pub const TENANT: &str = "84bd8158-6d4d-4958-8b9f-9d6445542f95";
pub const BINDING: &str = "binding-todo-1";
pub const FIXTURE_TASK: &str = "AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4BGAAAA==";

/// Every top-level field a notification item can carry.
pub const NOTIFICATION_FIELDS: &[&str] = &[
    "subscriptionId",
    "subscriptionExpirationDateTime",
    "clientState",
    "changeType",
    "lifecycleEvent",
    "resource",
    "tenantId",
    "resourceData",
];

// ---------------------------------------------------------------- port doubles

#[derive(Default)]
pub struct CountingStore {
    pub records: Mutex<HashMap<String, SubscriptionRecord>>,
    pub lookups: AtomicUsize,
    pub fail_transient: AtomicBool,
}

impl CountingStore {
    pub fn with(records: &[SubscriptionRecord]) -> Self {
        let store = CountingStore::default();
        for r in records {
            store
                .records
                .lock()
                .unwrap()
                .insert(r.id.clone(), r.clone());
        }
        store
    }

    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl SubscriptionLookup for CountingStore {
    async fn find_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        if self.fail_transient.load(Ordering::SeqCst) {
            return Err(StoreError::Transient("throttled".into()));
        }
        Ok(self.records.lock().unwrap().get(subscription_id).cloned())
    }
}

#[derive(Default)]
pub struct RecordingQueue {
    pub calls: Mutex<Vec<Vec<Hint>>>,
    pub fail: Mutex<Option<fn() -> QueueError>>,
}

impl RecordingQueue {
    pub fn calls(&self) -> Vec<Vec<Hint>> {
        self.calls.lock().unwrap().clone()
    }

    pub fn all_hints(&self) -> Vec<Hint> {
        self.calls().into_iter().flatten().collect()
    }
}

impl HintSend for RecordingQueue {
    async fn send_hints(&self, hints: &[Hint]) -> Result<(), QueueError> {
        if let Some(make_error) = *self.fail.lock().unwrap() {
            return Err(make_error());
        }
        self.calls.lock().unwrap().push(hints.to_vec());
        Ok(())
    }
}

pub fn record(id: &str, binding: &str) -> SubscriptionRecord {
    SubscriptionRecord {
        id: id.into(),
        binding_id: binding.into(),
        client_state: SECRET.into(),
        tenant_id: TENANT.into(),
        expires_at: Utc::now(),
    }
}

pub type Deps = WebhookDeps<CountingStore, RecordingQueue>;

pub fn deps_with(settings: WebhookSettings) -> (Deps, Arc<Mutex<Vec<String>>>) {
    let (sink, lines) = MetricsSink::memory();
    let deps = WebhookDeps::new(
        CountingStore::with(&[record(SUB, BINDING)]),
        RecordingQueue::default(),
        settings,
    )
    .with_metrics(sink);
    (deps, lines)
}

pub fn deps() -> Deps {
    deps_with(WebhookSettings {
        expected_tenant_id: Some(TENANT.into()),
        ..WebhookSettings::default()
    })
    .0
}

// ---------------------------------------------------------------- events

pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/webhook/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn event_from_fixture(name: &str) -> Request {
    lambda_http::request::from_str(&fixture(name)).expect("fixture is a valid HTTP API event")
}

/// A SAM-generated event with method, path and body replaced the way API Gateway would fill
/// them (base64 body, as SAM generates it).
pub fn event(method: &str, path: &str, body: &[u8]) -> Request {
    let mut event: Value = serde_json::from_str(&fixture("event-post-notifications.json")).unwrap();
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

pub fn post_notifications(body: &Value) -> Request {
    event("POST", "/notifications", body.to_string().as_bytes())
}

pub fn change(subscription: &str, client_state: &str, tenant: &str, task: &str) -> Value {
    json!({
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2026-11-24T10:12:09.952Z",
        "clientState": client_state,
        "changeType": "updated",
        "resource": format!("Users/u-1/todo/Lists/L-1/Tasks/{task}"),
        "tenantId": tenant,
        "resourceData": {"@odata.type": "#Microsoft.Graph.todoTask", "id": task},
    })
}

pub fn collection(items: Vec<Value>) -> Value {
    json!({ "value": items })
}

pub fn body_text(response: &Response<Body>) -> String {
    String::from_utf8_lossy(response.body().as_ref()).into_owned()
}

pub fn header<'a>(response: &'a Response<Body>, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

pub fn task_hint(task: &str) -> Hint {
    Hint::RemoteTodoTask {
        binding_id: BINDING.into(),
        task_id: task.into(),
    }
}
