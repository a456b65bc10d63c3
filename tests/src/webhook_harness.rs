//! A webhook rig for end-to-end tests, on the test stack: the real webhook handler served over
//! HTTP on loopback with its AWS adapters (recording what reaches it), connected by a real
//! subscription (the emulator's validation handshake ran against the served handler).
//!
//! Waiting is always for a condition with a deadline: the emulator's delivery statistics for
//! "every notification was answered", then the queue drained until it is empty. The webhook
//! answers 2xx only after `SendMessageBatch` returned, so once the emulator counts a notification
//! as delivered its hints are on the queue; nothing can arrive later.

// Test kit: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tasksync::model::{Binding, SubscriptionRecord};
use tasksync::queue_message::Hint;
use tasksync::standalone::lambda_http_server::{self, LocalHttpServer};
use tasksync::subscription_setup::{WebhookUrls, connect_todo_binding};

use crate::stack::TestStack;
pub use crate::stack::{DELIVERY_DEADLINE, DeliveryStats};

/// One request as it reached the webhook over HTTP, and how the handler answered it. Recorded
/// before the handler runs, so the order is the arrival order. No clientState is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub path: String,
    pub validation: bool,
    /// `resourceData.id` (or `resource`) of each change item, in body order.
    pub task_ids: Vec<String>,
    /// `lifecycleEvent` of each lifecycle item, in body order.
    pub lifecycle_events: Vec<String>,
    pub status: u16,
}

/// Everything an end-to-end webhook test needs, torn down on drop (the emulator and server stop;
/// moto's resources are under a prefix no other test uses): the stack, the real webhook served
/// with a record of what reached it, and a To Do binding subscribed through the handshake.
pub struct WebhookRig {
    pub stack: TestStack,
    pub webhook: LocalHttpServer,
    pub binding: Binding,
    pub subscription: SubscriptionRecord,
    pub list_id: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    http: reqwest::Client,
}

impl Deref for WebhookRig {
    type Target = TestStack;

    fn deref(&self) -> &TestStack {
        &self.stack
    }
}

impl WebhookRig {
    /// Starts everything and creates the binding's subscription through the handshake.
    pub async fn start() -> WebhookRig {
        let stack = TestStack::start().await;
        let deps = Arc::new(tasksync::standalone::emulator_stack::webhook_deps(
            &stack.emulator,
            stack.sync.clone(),
            stack.queue.clone(),
        ));
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&arrivals);
        let webhook = lambda_http_server::serve("127.0.0.1:0", move |request| {
            let deps = Arc::clone(&deps);
            let recorded = Arc::clone(&recorded);
            async move {
                let index = record_arrival(&recorded, &request);
                let response = tasksync::webhook::handle(request, &deps).await;
                if let Ok(mut all) = recorded.lock()
                    && let Some(arrival) = all.get_mut(index)
                {
                    arrival.status = response.status().as_u16();
                }
                response
            }
        })
        .await
        .expect("the webhook served on loopback");

        let list_id = stack.todo_list("Webhook e2e").await;
        let binding = Binding::todo(
            format!("b-webhook-{}", uuid_like(&list_id)),
            "team",
            stack.user_id.clone(),
            list_id.clone(),
        );
        let subscription = connect_todo_binding(
            &stack.graph,
            &stack.sync,
            &binding,
            &WebhookUrls::under(&webhook.base_url()),
            &stack.tenant_id,
            chrono::Utc::now() + chrono::Duration::hours(48),
        )
        .await
        .expect("a subscription created through the handshake");
        WebhookRig {
            stack,
            webhook,
            binding,
            subscription,
            list_id,
            arrivals,
            http: reqwest::Client::new(),
        }
    }

    /// Every request the webhook received so far, in arrival order.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Arrivals that carried notifications (not handshakes).
    pub fn deliveries(&self) -> Vec<Arrival> {
        self.arrivals()
            .into_iter()
            .filter(|a| !a.validation)
            .collect()
    }

    /// Replaces the emulator's delivery fault set (`POST /_emulator/delivery/faults`).
    pub async fn set_delivery_faults(&self, faults: Value) {
        self.control
            .call(reqwest::Method::POST, "/delivery/faults", Some(&faults))
            .await
            .expect("delivery faults set");
    }

    /// Clears the fault set (anything held is sent).
    pub async fn clear_delivery_faults(&self) {
        self.control
            .call(reqwest::Method::DELETE, "/delivery/faults", None)
            .await
            .expect("delivery faults cleared");
    }

    /// Creates a task in the bound list as a person in the To Do app; returns its id.
    pub async fn create_task(&self, title: &str) -> String {
        let created = self
            .control
            .create_todo_task(&self.list_id, &json!({ "title": title }))
            .await
            .expect("a person's To Do task");
        graph_emulator::control_client::id_of(&created, "task").expect("the task's id")
    }

    pub async fn update_task(&self, task_id: &str, title: &str) {
        self.control
            .update_todo_task(&self.list_id, task_id, &json!({ "title": title }))
            .await
            .expect("a person's To Do edit");
    }

    pub async fn delete_task(&self, task_id: &str) {
        self.control
            .delete_todo_task(&self.list_id, task_id)
            .await
            .expect("a person's To Do delete");
    }

    /// Asks the emulator to send a lifecycle notification for the rig's subscription.
    pub async fn send_lifecycle(&self, event: &str) {
        self.send_lifecycle_of(&self.subscription.id, event).await;
    }

    /// Sends a lifecycle event and takes the hints it became, once the emulator has answered
    /// `delivered` notifications in total.
    pub async fn lifecycle_hints(&self, event: &str, delivered: u64) -> Vec<Hint> {
        self.send_lifecycle(event).await;
        self.wait_delivered(delivered).await;
        self.drain_hints().await
    }

    /// The hint a change notification of `task_id` should become.
    pub fn task_hint(&self, task_id: &str) -> Hint {
        Hint::RemoteTodoTask {
            binding_id: self.binding.id.clone(),
            task_id: task_id.to_owned(),
        }
    }

    /// A change notification item as Graph would send it for this subscription, with the given
    /// clientState (the test decides whether it is the real one).
    pub fn change_item(&self, task_id: &str, client_state: &str) -> Value {
        let resource = format!(
            "Users/{}/todo/Lists/{}/Tasks/{task_id}",
            self.binding.user_id, self.list_id
        );
        json!({
            "subscriptionId": self.subscription.id,
            "subscriptionExpirationDateTime": self.subscription.expires_at.to_rfc3339(),
            "changeType": "updated",
            "clientState": client_state,
            "resource": resource,
            "tenantId": self.tenant_id,
            "resourceData": {
                "@odata.type": "#Microsoft.Graph.todoTask",
                "@odata.id": resource,
                "id": task_id,
            },
        })
    }

    /// POSTs `body` to the webhook's notification URL as anyone on the internet could.
    pub async fn post_notification(&self, body: &[u8]) -> PostedAnswer {
        let url = WebhookUrls::under(&self.webhook.base_url()).notification_url;
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("posting to the webhook");
        let status = response.status().as_u16();
        let mut headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        headers.sort();
        let body = response
            .bytes()
            .await
            .expect("reading the webhook's answer")
            .to_vec();
        PostedAnswer {
            status,
            headers,
            body,
        }
    }
}

/// What the webhook answered to a direct POST, minus the `date` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Hints as sorted encodings, so two multisets compare with `==` (order on a standard queue is
/// not a contract).
pub fn sorted(hints: &[Hint]) -> Vec<String> {
    let mut encoded: Vec<String> = hints.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>();
    encoded.sort();
    encoded
}

/// A short distinct suffix for binding ids, from the (unique) list id.
fn uuid_like(list_id: &str) -> String {
    list_id
        .chars()
        .rev()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect()
}

/// Records what a request carries (never clientState) and returns its index.
fn record_arrival(arrivals: &Mutex<Vec<Arrival>>, request: &lambda_http::Request) -> usize {
    let validation = request
        .uri()
        .query()
        .is_some_and(|q| q.contains("validationToken="));
    let body: Value = serde_json::from_slice(request.body().as_ref()).unwrap_or(Value::Null);
    let items = body
        .get("value")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let text = |item: &Value, pointer: &str| {
        item.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let arrival = Arrival {
        path: request.uri().path().to_owned(),
        validation,
        task_ids: items
            .iter()
            .filter_map(|item| text(item, "/resourceData/id").or_else(|| text(item, "/resource")))
            .collect(),
        lifecycle_events: items
            .iter()
            .filter_map(|item| text(item, "/lifecycleEvent"))
            .collect(),
        status: 0,
    };
    match arrivals.lock() {
        Ok(mut all) => {
            all.push(arrival);
            all.len() - 1
        }
        Err(_) => usize::MAX,
    }
}
