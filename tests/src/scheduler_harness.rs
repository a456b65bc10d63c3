//! A world for the scheduler's end-to-end tests and benchmark: the test stack, the real webhook
//! served over loopback HTTP (so subscription handshakes and lifecycle events are real), and the
//! scheduler's deps wired to them, plus helpers to make bindings, seed plans and record mappings
//! as the reconcile engine would.

// Test support: failing loudly on broken setup is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Deref;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use graph_emulator::EmulatorConfig;
use serde_json::{Value, json};
use tasksync::model::{Binding, RemoteKind};
use tasksync::ports::BindingSave;
use tasksync::queue::SqsHintQueue;
use tasksync::scheduler::{RunContext, SchedulerDeps, SchedulerSettings, TickReport, run_tick};
use tasksync::standalone::lambda_http_server::LocalHttpServer;
use tasksync::store::DynamoSyncStore;
use tasksync::store::schedule_item::mapping_index_attributes;
use tasksync::subscription_setup::WebhookUrls;

use crate::stack::TestStack;

/// The stack, the webhook it serves, and the scheduler's settings pointing at that webhook.
pub struct SchedulerWorld {
    pub stack: TestStack,
    pub webhook: LocalHttpServer,
    pub settings: SchedulerSettings,
}

impl Deref for SchedulerWorld {
    type Target = TestStack;

    fn deref(&self) -> &TestStack {
        &self.stack
    }
}

impl SchedulerWorld {
    pub async fn start() -> Self {
        Self::start_with(EmulatorConfig::default()).await
    }

    pub async fn start_with(config: EmulatorConfig) -> Self {
        let stack = TestStack::start_with(config).await;
        let webhook = stack.serve_webhook().await;
        let settings = SchedulerSettings {
            webhook: WebhookUrls::under(&webhook.base_url()),
            tenant_id: stack.tenant_id.clone(),
            ..SchedulerSettings::default()
        };
        Self {
            stack,
            webhook,
            settings,
        }
    }

    pub fn deps(&self) -> SchedulerDeps<DynamoSyncStore, SqsHintQueue> {
        SchedulerDeps {
            store: self.sync.clone(),
            queue: self.queue.clone(),
            graph: self.graph.clone(),
            settings: self.settings.clone(),
        }
    }

    /// The emulator's clock (which `advance_clock` moves); the scheduler runs on it.
    pub async fn now(&self) -> DateTime<Utc> {
        let v = self
            .control
            .call(reqwest::Method::GET, "/clock", None)
            .await
            .expect("clock");
        DateTime::parse_from_rfc3339(v["now"].as_str().expect("now"))
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    pub async fn advance_clock(&self, seconds: i64) {
        self.control
            .call(
                reqwest::Method::POST,
                "/clock/advance",
                Some(&json!({ "seconds": seconds })),
            )
            .await
            .expect("advance clock");
    }

    /// One scheduler run at the emulator's current time, with 50 s to spare.
    pub async fn tick(&self) -> TickReport {
        let now = self.now().await;
        self.tick_at(now).await
    }

    pub async fn tick_at(&self, now: DateTime<Utc>) -> TickReport {
        let ctx = RunContext::new(now, Instant::now() + Duration::from_secs(50));
        run_tick(&self.deps(), &ctx).await
    }

    /// A new To Do list and a binding to it (no subscription yet: the scheduler makes it).
    pub async fn todo_binding(&self, id: &str) -> Binding {
        let list_id = self.todo_list(&format!("list {id}")).await;
        let binding = Binding::todo(id, format!("local-{id}"), &self.user_id, list_id);
        self.sync.save_binding(&binding).await.expect("binding");
        binding
    }

    /// A new plan with `tasks` tasks (bulk-seeded) and a binding to it.
    pub async fn planner_binding(&self, id: &str, tasks: usize) -> Binding {
        let plan_id = self.plan(&format!("plan {id}")).await;
        self.seed_plan(&plan_id, tasks, "task").await;
        let binding = Binding::planner(id, format!("local-{id}"), plan_id);
        self.sync.save_binding(&binding).await.expect("binding");
        binding
    }

    pub async fn seed_plan(&self, plan_id: &str, tasks: usize, prefix: &str) {
        if tasks == 0 {
            return;
        }
        let bodies: Vec<Value> = (0..tasks)
            .map(|i| json!({ "title": format!("{prefix} {i}") }))
            .collect();
        self.control
            .call(
                reqwest::Method::POST,
                &format!("/planner/plans/{plan_id}/tasks"),
                Some(&Value::Array(bodies)),
            )
            .await
            .expect("bulk seed");
    }

    /// Records every task of the plan as synced, with its current ETags, the way the reconcile
    /// engine's mapping items carry them (docs/scheduler.md "What the mapping must carry").
    pub async fn record_plan_as_synced(&self, binding: &Binding) -> Vec<String> {
        let entries = self.plan_etags(binding).await;
        self.record_mappings(binding, &entries).await;
        entries.into_iter().map(|(id, _, _)| id).collect()
    }

    /// Every task of the plan with its ETag and its details' ETag, as Graph lists them now.
    pub async fn plan_etags(
        &self,
        binding: &Binding,
    ) -> Vec<(String, Option<String>, Option<String>)> {
        self.graph
            .planner()
            .list_plan_tasks_with_details(&binding.remote_container_id)
            .await
            .expect("listing")
            .into_iter()
            .map(|t| {
                let details = t.details.as_ref().and_then(|d| d.etag.clone());
                (t.id, t.etag, details)
            })
            .collect()
    }

    /// Many mapping items, 25 per `BatchWriteItem` (seeding large plans fast).
    pub async fn record_mappings(
        &self,
        binding: &Binding,
        entries: &[(String, Option<String>, Option<String>)],
    ) {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in entries.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|(id, etag, details)| {
                    let item = self.mapping_item(binding, id, etag.as_deref(), details.as_deref());
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item))
                                .build()
                                .expect("put"),
                        )
                        .build()
                })
                .collect();
            while !requests.is_empty() {
                let out = self
                    .aws
                    .dynamodb
                    .batch_write_item()
                    .request_items(self.aws.resources.sync_table(), requests)
                    .send()
                    .await
                    .expect("batch write");
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(self.aws.resources.sync_table()))
                    .unwrap_or_default();
            }
        }
    }

    /// Records every task of a To Do list as synced with its current ETag.
    pub async fn record_todo_list_as_synced(&self, binding: &Binding) -> Vec<String> {
        let tasks = self
            .graph
            .todo()
            .list_tasks(&binding.user_id, &binding.remote_container_id)
            .await
            .expect("listing");
        let mut ids = Vec::new();
        for task in tasks {
            self.record_mapping(binding, &task.id, task.etag.as_deref(), None)
                .await;
            ids.push(task.id);
        }
        ids
    }

    /// A remote-keyed mapping item with only what the sweep reads.
    pub async fn record_mapping(
        &self,
        binding: &Binding,
        remote_id: &str,
        etag: Option<&str>,
        details_etag: Option<&str>,
    ) {
        let item = self.mapping_item(binding, remote_id, etag, details_etag);
        self.aws
            .dynamodb
            .put_item()
            .table_name(self.aws.resources.sync_table())
            .set_item(Some(item))
            .send()
            .await
            .expect("mapping item");
    }

    fn mapping_item(
        &self,
        binding: &Binding,
        remote_id: &str,
        etag: Option<&str>,
        details_etag: Option<&str>,
    ) -> tasksync::store::Item {
        let kind = match binding.remote {
            RemoteKind::Todo => "todo",
            RemoteKind::Planner => "planner",
        };
        let mut item = mapping_index_attributes(&binding.id, remote_id, etag, details_etag);
        item.insert(
            "pk".into(),
            AttributeValue::S(format!("remote#{kind}#{remote_id}")),
        );
        item.insert("sk".into(), AttributeValue::S("mapping".into()));
        item
    }

    /// Graph requests this world's client made for one operation (all outcomes).
    pub fn calls(&self, operation: &str) -> u64 {
        self.graph.counters().total(operation)
    }

    /// Every request this world's client made, all operations.
    pub fn total_calls(&self) -> u64 {
        self.graph
            .counters()
            .snapshot()
            .iter()
            .filter(|((name, _), _)| *name != "token")
            .map(|(_, n)| *n)
            .sum()
    }
}
