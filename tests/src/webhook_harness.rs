//! A webhook rig for end-to-end tests: moto (SQS and the sync table), the Graph emulator, and the
//! real webhook handler served over HTTP on loopback with its AWS adapters, connected by a real
//! subscription (the emulator's validation handshake ran against the served handler).
//!
//! Waiting is always for a condition with a deadline: the emulator's delivery statistics for
//! "every notification was answered", then the queue drained until it is empty. The webhook
//! answers 2xx only after `SendMessageBatch` returned, so once the emulator counts a notification
//! as delivered its hints are on the queue; nothing can arrive later.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use graph_emulator::control_client::ControlError;
use graph_emulator::{ControlClient, EmulatorConfig, RunningEmulator};
use serde::Deserialize;
use serde_json::{Value, json};
use tasksync::graph::{GraphClient, GraphError, GraphSettings, HttpOptions, Secret, http_client};
use tasksync::local::lambda_http_server::{self, LocalHttpServer};
use tasksync::model::{Binding, SubscriptionRecord};
use tasksync::ports::QueueError;
use tasksync::queue::SqsHintQueue;
use tasksync::queue_message::{DecodeError, Hint, decode};
use tasksync::store::DynamoSyncStore;
use tasksync::subscription_setup::{SetupError, WebhookUrls, connect_todo_binding};
use tasksync::webhook::{MetricsSink, WebhookDeps, WebhookSettings};

use crate::aws::{AwsTestError, MotoAws, provisioned};

/// How long one wait for deliveries may take before the test fails.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(20);

/// How often delivery statistics are polled while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
pub enum RigError {
    #[error(transparent)]
    Aws(#[from] AwsTestError),
    #[error("starting the emulator or the webhook server: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("a queue message is not a hint: {0}")]
    Decode(#[from] DecodeError),
    #[error("unexpected delivery statistics: {0}")]
    Stats(String),
    #[error("timed out: {0}")]
    Timeout(String),
}

/// The emulator's `GET /_emulator/delivery/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct DeliveryStats {
    pub queued: u64,
    pub delivered: u64,
    pub failed_attempts: u64,
    pub dropped: u64,
    pub abandoned: u64,
    pub pending: u64,
}

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
/// moto's resources are under a prefix no other test uses).
pub struct WebhookRig {
    pub aws: MotoAws,
    pub emulator: RunningEmulator,
    pub control: ControlClient,
    pub webhook: LocalHttpServer,
    pub queue: SqsHintQueue,
    pub sync: DynamoSyncStore,
    pub graph: GraphClient,
    pub binding: Binding,
    pub subscription: SubscriptionRecord,
    pub list_id: String,
    pub tenant_id: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    http: reqwest::Client,
}

impl WebhookRig {
    /// Starts everything and creates the binding's subscription through the handshake.
    pub async fn start() -> Result<WebhookRig, RigError> {
        let aws = provisioned().await?;
        let emulator = graph_emulator::start(EmulatorConfig::default(), "127.0.0.1:0").await?;
        let config = emulator.state.config.clone();
        let control = ControlClient::new(emulator.control_url.clone());
        let sync = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
        let queue = SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url());

        let deps = Arc::new(
            WebhookDeps::new(
                sync.clone(),
                queue.clone(),
                WebhookSettings {
                    expected_tenant_id: Some(config.tenant_id.clone()),
                    ..WebhookSettings::default()
                },
            )
            .with_metrics(MetricsSink::Discard),
        );
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
        .await?;

        let graph = GraphClient::new(
            GraphSettings {
                graph_base_url: emulator.graph_base_url.clone(),
                token_url: emulator.token_url.clone(),
                tenant_id: config.tenant_id.clone(),
                client_id: config.client_id.clone(),
                client_secret: Secret::new(config.client_secret.clone()),
                scope: GraphSettings::DEFAULT_SCOPE.to_owned(),
            },
            http_client(&HttpOptions::default())?,
        )?;
        let list_id = control
            .create_todo_list(&config.user_id, "Webhook e2e")
            .await?;
        let binding = Binding::todo(
            format!("b-webhook-{}", uuid_like(&list_id)),
            "team",
            config.user_id.clone(),
            list_id.clone(),
        );
        let subscription = connect_todo_binding(
            &graph,
            &sync,
            &binding,
            &WebhookUrls::under(&webhook.base_url()),
            &config.tenant_id,
            chrono::Utc::now() + chrono::Duration::hours(48),
        )
        .await?;
        Ok(WebhookRig {
            aws,
            emulator,
            control,
            webhook,
            queue,
            sync,
            graph,
            binding,
            subscription,
            list_id,
            tenant_id: config.tenant_id.clone(),
            arrivals,
            http: reqwest::Client::new(),
        })
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
    pub async fn set_delivery_faults(&self, faults: Value) -> Result<(), RigError> {
        self.control
            .call(reqwest::Method::POST, "/delivery/faults", Some(&faults))
            .await?;
        Ok(())
    }

    /// Clears the fault set (anything held is sent).
    pub async fn clear_delivery_faults(&self) -> Result<(), RigError> {
        self.control
            .call(reqwest::Method::DELETE, "/delivery/faults", None)
            .await?;
        Ok(())
    }

    pub async fn delivery_stats(&self) -> Result<DeliveryStats, RigError> {
        let value = self.control.delivery_stats().await?;
        serde_json::from_value(value.clone()).map_err(|e| RigError::Stats(format!("{e}: {value}")))
    }

    /// Waits until the emulator has answered `delivered` notifications in total (since it
    /// started) and has nothing pending, and fails if any attempt failed or was abandoned.
    pub async fn wait_delivered(&self, delivered: u64) -> Result<DeliveryStats, RigError> {
        let deadline = Instant::now() + DELIVERY_DEADLINE;
        loop {
            let stats = self.delivery_stats().await?;
            if stats.failed_attempts > 0 || stats.abandoned > 0 || stats.delivered > delivered {
                return Err(RigError::Stats(format!(
                    "expected {delivered} delivered without failures: {stats:?}"
                )));
            }
            if stats.delivered == delivered && stats.pending == 0 {
                return Ok(stats);
            }
            if Instant::now() >= deadline {
                return Err(RigError::Timeout(format!(
                    "{delivered} deliveries; last stats {stats:?}"
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until the emulator has nothing pending (e.g. after a drop fault).
    pub async fn wait_idle(&self) -> Result<DeliveryStats, RigError> {
        let deadline = Instant::now() + DELIVERY_DEADLINE;
        loop {
            let stats = self.delivery_stats().await?;
            if stats.pending == 0 {
                return Ok(stats);
            }
            if Instant::now() >= deadline {
                return Err(RigError::Timeout(format!("idle delivery; last {stats:?}")));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Takes every message now on the work queue (deleting them) and decodes them as hints.
    /// Messages are on the queue before the webhook answers, so after [`Self::wait_delivered`]
    /// an empty receive means there is nothing more.
    pub async fn drain_hints(&self) -> Result<Vec<Hint>, RigError> {
        let mut hints = Vec::new();
        loop {
            let messages = self.queue.receive(10, 0).await?;
            if messages.is_empty() {
                return Ok(hints);
            }
            for message in messages {
                hints.push(decode(&message.body)?);
                self.queue.delete(&message.receipt_handle).await?;
            }
        }
    }

    /// Creates a task in the bound list as a person in the To Do app; returns its id.
    pub async fn create_task(&self, title: &str) -> Result<String, RigError> {
        let created = self
            .control
            .create_todo_task(&self.list_id, &json!({ "title": title }))
            .await?;
        Ok(graph_emulator::control_client::id_of(&created, "task")?)
    }

    pub async fn update_task(&self, task_id: &str, title: &str) -> Result<(), RigError> {
        self.control
            .update_todo_task(&self.list_id, task_id, &json!({ "title": title }))
            .await?;
        Ok(())
    }

    pub async fn delete_task(&self, task_id: &str) -> Result<(), RigError> {
        self.control
            .delete_todo_task(&self.list_id, task_id)
            .await?;
        Ok(())
    }

    /// Asks the emulator to send a lifecycle notification for the rig's subscription.
    pub async fn send_lifecycle(&self, event: &str) -> Result<(), RigError> {
        self.control
            .call(
                reqwest::Method::POST,
                &format!("/subscriptions/{}/lifecycle", self.subscription.id),
                Some(&json!({ "event": event })),
            )
            .await?;
        Ok(())
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
    pub async fn post_notification(&self, body: &[u8]) -> Result<PostedAnswer, RigError> {
        let url = WebhookUrls::under(&self.webhook.base_url()).notification_url;
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| RigError::Stats(format!("posting to the webhook: {e}")))?;
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
            .map_err(|e| RigError::Stats(format!("reading the webhook's answer: {e}")))?
            .to_vec();
        Ok(PostedAnswer {
            status,
            headers,
            body,
        })
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
