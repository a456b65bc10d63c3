//! The one test stack every end-to-end harness is built on: moto with template.yaml's tables and
//! queue under a fresh prefix, the Graph emulator with its control client, a Graph client built
//! as the Lambda mains build theirs, and the stores and queue on moto.
//!
//! Failure style of the whole kit: a step that cannot be done panics with what it was doing, so
//! the test that asked for it fails at that line; nothing is retried and nothing sleeps blindly.
//! Waits are for a condition with a deadline.

// Test kit: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use graph_emulator::{ControlClient, EmulatorConfig, RunningEmulator};
use serde::Deserialize;
use serde_json::{Value, json};
use tasksync::graph::GraphClient;
use tasksync::queue::SqsHintQueue;
use tasksync::queue_message::{Hint, decode};
use tasksync::standalone::emulator_stack;
use tasksync::standalone::lambda_http_server::LocalHttpServer;
use tasksync::store::{DynamoSyncStore, DynamoTaskStore};

use crate::aws::{MotoAws, provisioned};

/// How long one wait for the emulator's deliveries may take before the test fails.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(20);

/// How often a condition is polled while waiting for it.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

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

/// Fresh AWS resources and a fresh emulator for one test; the emulator stops on drop.
pub struct TestStack {
    pub aws: MotoAws,
    pub emulator: RunningEmulator,
    pub control: ControlClient,
    /// The Graph client of the code under test: its counters are what the tests measure.
    pub graph: GraphClient,
    pub sync: DynamoSyncStore,
    pub tasks: DynamoTaskStore,
    pub queue: SqsHintQueue,
    pub user_id: String,
    pub tenant_id: String,
}

impl TestStack {
    pub async fn start() -> Self {
        Self::start_with(EmulatorConfig::default()).await
    }

    pub async fn start_with(config: EmulatorConfig) -> Self {
        let aws = provisioned()
            .await
            .expect("moto with template.yaml's resources");
        let emulator = graph_emulator::start(config, "127.0.0.1:0")
            .await
            .expect("the Graph emulator");
        let config = emulator.state.config.clone();
        let control = ControlClient::new(emulator.control_url.clone());
        let graph = emulator_stack::graph_client(&emulator).expect("a Graph client");
        Self {
            sync: DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table()),
            tasks: DynamoTaskStore::new(aws.dynamodb.clone(), aws.resources.tasks_table()),
            queue: SqsHintQueue::new(aws.sqs.clone(), aws.resources.work_queue_url()),
            aws,
            emulator,
            control,
            graph,
            user_id: config.user_id,
            tenant_id: config.tenant_id,
        }
    }

    /// The environment template.yaml gives the functions, pointed at this stack: moto's tables
    /// and queue and the emulator's Graph with the credentials it accepts. What the operator's
    /// commands read, so a test runs `tasksync` exactly as an operator beside the functions would.
    pub fn function_env(&self) -> Vec<(&'static str, String)> {
        let config = &self.emulator.state.config;
        let mut env = self.aws.env_vars();
        env.extend([
            ("GRAPH_BASE_URL", self.emulator.graph_base_url.clone()),
            ("GRAPH_TOKEN_URL", self.emulator.token_url.clone()),
            ("GRAPH_TENANT_ID", config.tenant_id.clone()),
            ("GRAPH_CLIENT_ID", config.client_id.clone()),
            ("GRAPH_CLIENT_SECRET", config.client_secret.clone()),
        ]);
        env
    }

    /// Another Graph client on the same emulator, whose calls are not counted as the code's.
    pub fn another_graph_client(&self) -> GraphClient {
        emulator_stack::graph_client(&self.emulator).expect("a second Graph client")
    }

    /// The real webhook handler, with the sync table and the work queue, on a loopback port.
    pub async fn serve_webhook(&self) -> LocalHttpServer {
        emulator_stack::serve_webhook(std::sync::Arc::new(emulator_stack::webhook_deps(
            &self.emulator,
            self.sync.clone(),
            self.queue.clone(),
        )))
        .await
        .expect("the webhook served on loopback")
    }

    /// A new To Do list of the emulator's user; its id.
    pub async fn todo_list(&self, name: &str) -> String {
        self.control
            .create_todo_list(&self.user_id, name)
            .await
            .expect("a To Do list")
    }

    /// A new Planner plan; its id.
    pub async fn plan(&self, title: &str) -> String {
        let plan = self
            .control
            .call(
                reqwest::Method::POST,
                "/planner/plans",
                Some(&json!({ "title": title })),
            )
            .await
            .expect("a plan");
        plan["id"].as_str().expect("the plan's id").to_owned()
    }

    /// Takes every message now on the work queue (deleting them), decoded as hints.
    pub async fn drain_hints(&self) -> Vec<Hint> {
        let mut hints = Vec::new();
        loop {
            let batch = self.queue.receive(10, 0).await.expect("receive");
            if batch.is_empty() {
                return hints;
            }
            for message in batch {
                hints.push(decode(&message.body).expect("a queue message is a hint"));
                self.queue
                    .delete(&message.receipt_handle)
                    .await
                    .expect("delete");
            }
        }
    }

    /// Drains the queue until a hint matching `wanted` arrived or `within` passed; returns every
    /// hint drained.
    pub async fn wait_for_hint(
        &self,
        within: Duration,
        wanted: impl Fn(&Hint) -> bool,
    ) -> Vec<Hint> {
        let deadline = Instant::now() + within;
        let mut hints = Vec::new();
        loop {
            hints.extend(self.drain_hints().await);
            if hints.iter().any(&wanted) || Instant::now() >= deadline {
                return hints;
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The subscriptions the emulator holds (with their clientState, control API).
    pub async fn emulator_subscriptions(&self) -> Vec<Value> {
        let v = self
            .control
            .call(reqwest::Method::GET, "/subscriptions", None)
            .await
            .expect("the emulator's subscriptions");
        v["value"].as_array().cloned().unwrap_or_default()
    }

    pub async fn delivery_stats(&self) -> DeliveryStats {
        let value = self.control.delivery_stats().await.expect("delivery stats");
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("delivery stats {value}: {e}"))
    }

    /// Waits until the emulator has answered `delivered` notifications in total (since it
    /// started) and has nothing pending; fails if any attempt failed or was abandoned.
    pub async fn wait_delivered(&self, delivered: u64) -> DeliveryStats {
        let deadline = Instant::now() + DELIVERY_DEADLINE;
        loop {
            let stats = self.delivery_stats().await;
            assert!(
                stats.failed_attempts == 0 && stats.abandoned == 0 && stats.delivered <= delivered,
                "expected {delivered} delivered without failures: {stats:?}"
            );
            if stats.delivered == delivered && stats.pending == 0 {
                return stats;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {delivered} deliveries; last stats {stats:?}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until the emulator has nothing pending (e.g. after a drop fault).
    pub async fn wait_idle(&self) -> DeliveryStats {
        let deadline = Instant::now() + DELIVERY_DEADLINE;
        loop {
            let stats = self.delivery_stats().await;
            if stats.pending == 0 {
                return stats;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for idle delivery; last {stats:?}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    // ---- a person in the To Do and Planner apps (the emulator's control API) ----

    /// A person creates a To Do task in the list; its id.
    pub async fn person_creates_todo_task(&self, list_id: &str, task: &Value) -> String {
        let created = self
            .control
            .create_todo_task(list_id, task)
            .await
            .expect("person's To Do task");
        graph_emulator::control_client::id_of(&created, "task").expect("the task's id")
    }

    pub async fn person_edits_planner(&self, task_id: &str, patch: Value) {
        self.control
            .call(
                reqwest::Method::PATCH,
                &format!("/planner/tasks/{task_id}"),
                Some(&patch),
            )
            .await
            .expect("person's Planner edit");
    }

    pub async fn person_edits_planner_details(&self, task_id: &str, patch: Value) {
        self.control
            .call(
                reqwest::Method::PATCH,
                &format!("/planner/tasks/{task_id}/details"),
                Some(&patch),
            )
            .await
            .expect("person's Planner details edit");
    }

    pub async fn person_deletes_planner(&self, task_id: &str) {
        self.control
            .call(
                reqwest::Method::DELETE,
                &format!("/planner/tasks/{task_id}"),
                None,
            )
            .await
            .expect("person's Planner delete");
    }

    /// Adds a fault rule to the emulator's Graph API (`POST /_emulator/faults`).
    pub async fn add_fault(&self, rule: Value) {
        self.control
            .call(reqwest::Method::POST, "/faults", Some(&rule))
            .await
            .expect("a fault rule added");
    }

    /// Removes every fault rule from the emulator's Graph API.
    pub async fn clear_faults(&self) {
        self.control
            .call(reqwest::Method::DELETE, "/faults", None)
            .await
            .expect("fault rules cleared");
    }

    /// Asks the emulator to send a lifecycle notification for a subscription.
    pub async fn send_lifecycle_of(&self, subscription_id: &str, event: &str) {
        self.control
            .call(
                reqwest::Method::POST,
                &format!("/subscriptions/{subscription_id}/lifecycle"),
                Some(&json!({ "event": event })),
            )
            .await
            .expect("a lifecycle notification sent");
    }

    /// Drops the next `count` notifications instead of delivering them.
    pub async fn drop_next_deliveries(&self, count: u64) {
        self.control
            .call(
                reqwest::Method::POST,
                "/delivery/faults",
                Some(&json!({ "drop_next": count })),
            )
            .await
            .expect("a drop fault");
    }
}
