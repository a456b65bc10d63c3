//! The world of the sync tests: moto (tables and queues from template.yaml), the Graph emulator,
//! the real worker handler fed by the real SQS queue through the work pump, and "a person" and
//! "an application" acting on each side.
//!
//! Local changes reach the queue as in AWS, minus the pipe (moto has no Pipes): a forwarder
//! reads the tasks table's real DynamoDB stream on moto (`KEYS_ONLY` records, every write, the
//! sync's own included) and sends the body the pipe's own `InputTemplate` renders from each
//! record (`PipeSpec::render`), with the stream reader `tasksync local` uses
//! (`tasksync::standalone::dynamodb_stream`).

// Test kit: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::ops::Deref;
use std::time::{Duration, Instant};

use graph_emulator::EmulatorConfig;
use serde_json::{Value, json};
use tasksync::graph::GraphClient;
use tasksync::model::{Binding, LocalTask, Origin};
use tasksync::ports::{BindingSave, HintSend, MappingStore, TaskRead, TaskWrite};
use tasksync::queue::SqsHintQueue;
use tasksync::queue_message::{Hint, decode};
use tasksync::standalone::dynamodb_stream::StreamReader;
use tasksync::standalone::stream_forwarder::PipeForwarder;
use tasksync::standalone::work_pump::{PumpReport, pump_once};
use tasksync::store::{DynamoSyncStore, DynamoTaskStore};
use tasksync::sync::Mapping;
use tasksync::worker::{WorkerDeps, handle_batch};

use crate::aws::MotoAws;
use crate::stack::TestStack;

/// Everything one sync test needs, fresh (own tables, queue and emulator): the stack, a second
/// Graph client for looking at the remote side, and the tasks table's stream.
pub struct SyncWorld {
    pub stack: TestStack,
    /// The test's own Graph client for looking at the remote side (not counted as the sync's).
    pub observer: GraphClient,
    pub stream: StreamForwarder,
}

impl Deref for SyncWorld {
    type Target = TestStack;

    fn deref(&self) -> &TestStack {
        &self.stack
    }
}

impl SyncWorld {
    pub async fn start() -> Self {
        let stack = TestStack::start_with(EmulatorConfig::default()).await;
        let observer = stack.another_graph_client();
        let stream = StreamForwarder::start(&stack.aws).await;
        Self {
            stack,
            observer,
            stream,
        }
    }

    /// A To Do list and a binding of local list `list` to it.
    pub async fn todo_binding(&self, id: &str, list: &str) -> Binding {
        let list_id = self.todo_list(&format!("list {id}")).await;
        let binding = Binding::todo(id, list, &self.user_id, list_id);
        self.sync.save_binding(&binding).await.expect("binding");
        binding
    }

    /// A Planner plan and a binding of local list `list` to it.
    pub async fn planner_binding(&self, id: &str, list: &str) -> Binding {
        let plan_id = self.plan(&format!("plan {id}")).await;
        let binding = Binding::planner(id, list, plan_id);
        self.sync.save_binding(&binding).await.expect("binding");
        binding
    }

    pub fn worker(
        &self,
    ) -> WorkerDeps<DynamoSyncStore, DynamoTaskStore, GraphClient, SqsHintQueue> {
        WorkerDeps::new(
            self.sync.clone(),
            self.tasks.clone(),
            self.graph.clone(),
            self.queue.clone(),
        )
    }

    pub async fn send(&self, hint: Hint) {
        self.queue.send_hints(&[hint]).await.expect("hint sent");
    }

    /// The body the pipe sends for a change of this task (rendered from a KEYS_ONLY record).
    pub fn pipe_hint(&self, list_id: &str, task_id: &str) -> Hint {
        let record = json!({
            "eventName": "MODIFY",
            "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"list_id": {"S": list_id}, "id": {"S": task_id}},
                         "StreamViewType": "KEYS_ONLY"}
        });
        let body = self
            .pipe()
            .spec
            .render(&record)
            .expect("pipe input template");
        decode(&body).expect("the pipe's body is a hint")
    }

    /// The application writes a task (version + 1, origin app); the stream carries the change.
    pub async fn app_writes(&self, task: &LocalTask) -> LocalTask {
        let current = self
            .tasks
            .get_task(&task.list_id, &task.id)
            .await
            .expect("read");
        let written = LocalTask {
            version: current.map_or(1, |c| c.version + 1),
            origin: Origin::App("test-agent".to_owned()),
            updated_at: chrono::Utc::now(),
            ..task.clone()
        };
        // The stream carries the change; `drain` forwards it as the pipe would.
        self.tasks.put_task(&written).await.expect("app write");
        written
    }

    /// Runs the worker on the queue until a receive comes back empty. Failed messages stay
    /// invisible for their visibility timeout, as in AWS.
    pub async fn drain(&self) -> PumpReport {
        let worker = self.worker();
        self.drain_with(&worker).await
    }

    pub async fn drain_with<S, T, G, Q>(&self, worker: &WorkerDeps<S, T, G, Q>) -> PumpReport
    where
        S: tasksync::worker::SyncStore,
        T: tasksync::worker::TaskStore,
        G: tasksync::sync::OpenRemote,
        Q: tasksync::ports::MessageDelay,
    {
        let mut total = PumpReport::default();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let forwarded = self.forward_stream().await;
            let report = pump_once(&self.queue, |event| handle_batch(event, worker))
                .await
                .expect("queue reachable");
            total.received += report.received;
            total.succeeded += report.succeeded;
            total.failed += report.failed;
            if report.received == 0 && forwarded == 0 {
                return total;
            }
            assert!(Instant::now() < deadline, "the queue never emptied");
        }
    }

    /// Sends what the pipe would for every stream record since the last call; how many.
    pub async fn forward_stream(&self) -> usize {
        let records = self.stream.records().await;
        PipeForwarder::new(self.pipe().spec.clone())
            .forward(&records, &self.queue)
            .await
            .expect("the pipe's hints sent")
    }

    /// The template's pipe from the tasks table's stream to the work queue.
    fn pipe(&self) -> &tasksync::standalone::provision::ProvisionedPipe {
        self.aws
            .resources
            .pipes
            .first()
            .expect("the template's pipe")
    }

    pub async fn local(&self, list: &str, id: &str) -> Option<LocalTask> {
        self.tasks.get_task(list, id).await.expect("read local")
    }

    pub async fn mapping(&self, list: &str, id: &str) -> Option<Mapping> {
        self.sync
            .mapping_by_local(list, id)
            .await
            .expect("read mapping")
    }

    /// Graph writes so far (every attempt, whatever the outcome).
    pub fn graph_writes(&self) -> u64 {
        self.graph.counters().task_writes()
    }

    /// All Graph requests so far (the token aside).
    pub fn graph_calls(&self) -> u64 {
        self.graph.counters().requests()
    }

    // ---- a person in the To Do and Planner apps ----

    pub async fn todo_tasks(&self, binding: &Binding) -> Vec<Value> {
        self.observer
            .todo()
            .list_tasks(&binding.user_id, &binding.remote_container_id)
            .await
            .expect("list To Do tasks")
            .into_iter()
            .map(|t| serde_json::to_value(t).expect("json"))
            .collect()
    }

    pub async fn planner_tasks(&self, binding: &Binding) -> Vec<Value> {
        self.observer
            .planner()
            .list_plan_tasks(&binding.remote_container_id)
            .await
            .expect("list plan tasks")
            .into_iter()
            .map(|t| serde_json::to_value(t).expect("json"))
            .collect()
    }

    pub async fn todo_task(&self, binding: &Binding, task_id: &str) -> Option<Value> {
        let path = format!(
            "/todo/lists/{}/tasks/{task_id}",
            binding.remote_container_id
        );
        self.control
            .call(reqwest::Method::GET, &path, None)
            .await
            .ok()
    }

    pub async fn person_edits_todo(&self, binding: &Binding, task_id: &str, patch: Value) {
        self.control
            .update_todo_task(&binding.remote_container_id, task_id, &patch)
            .await
            .expect("person's To Do edit");
    }

    pub async fn person_creates_todo(&self, binding: &Binding, task: Value) -> String {
        self.person_creates_todo_task(&binding.remote_container_id, &task)
            .await
    }

    pub async fn planner_task(&self, task_id: &str) -> Option<(Value, Value)> {
        let task = self.observer.planner().get_task(task_id).await.ok()?;
        let details = self
            .observer
            .planner()
            .get_task_details(task_id)
            .await
            .ok()?;
        Some((
            serde_json::to_value(task).expect("json"),
            serde_json::to_value(details).expect("json"),
        ))
    }

    pub async fn person_creates_planner(&self, binding: &Binding, task: Value) -> String {
        let created = self
            .control
            .call(
                reqwest::Method::POST,
                &format!("/planner/plans/{}/tasks", binding.remote_container_id),
                Some(&json!([task])),
            )
            .await
            .expect("person's Planner task");
        created["value"][0]["id"].as_str().expect("id").to_owned()
    }
}

/// A sync store that fails the first write recording a created remote task (state `active`
/// after `creating`), as if the worker died between the remote create and the mapping write.
/// [`CrashAfterCreate::refusing_the_id_record`] fails instead the write that records a new
/// Planner task's id on the claim (state still `creating`), as a store outage would.
#[derive(Clone)]
pub struct CrashAfterCreate<S> {
    pub inner: S,
    pub armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The state of the write that fails (with a remote id).
    pub failing_state: tasksync::sync::MappingState,
}

impl<S> CrashAfterCreate<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            armed: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
            failing_state: tasksync::sync::MappingState::Active,
        }
    }

    pub fn refusing_the_id_record(inner: S) -> Self {
        Self {
            failing_state: tasksync::sync::MappingState::Creating,
            ..Self::new(inner)
        }
    }
}

impl<S: tasksync::ports::BindingLookup> tasksync::ports::BindingLookup for CrashAfterCreate<S> {
    async fn find_binding(
        &self,
        binding_id: &str,
    ) -> Result<Option<Binding>, tasksync::ports::StoreError> {
        self.inner.find_binding(binding_id).await
    }
}

impl<S: tasksync::ports::BindingsOfList> tasksync::ports::BindingsOfList for CrashAfterCreate<S> {
    async fn bindings_of_list(
        &self,
        local_list_id: &str,
    ) -> Result<Vec<Binding>, tasksync::ports::StoreError> {
        self.inner.bindings_of_list(local_list_id).await
    }
}

impl<S: tasksync::ports::BindingFlags> tasksync::ports::BindingFlags for CrashAfterCreate<S> {
    async fn set_binding_paused(
        &self,
        binding_id: &str,
        paused_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, tasksync::ports::StoreError> {
        self.inner.set_binding_paused(binding_id, paused_at).await
    }

    async fn note_hint_while_paused(
        &self,
        binding_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, tasksync::ports::StoreError> {
        self.inner.note_hint_while_paused(binding_id, at).await
    }

    async fn complete_first_sync(
        &self,
        binding_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, tasksync::ports::StoreError> {
        self.inner.complete_first_sync(binding_id, at).await
    }
}

impl<S: tasksync::ports::SyncRecords> tasksync::ports::SyncRecords for CrashAfterCreate<S> {
    async fn record_sync_issue(
        &self,
        issue: &tasksync::sync::SyncIssue,
    ) -> Result<(), tasksync::ports::StoreError> {
        self.inner.record_sync_issue(issue).await
    }

    async fn clear_sync_issue(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<(), tasksync::ports::StoreError> {
        self.inner.clear_sync_issue(list_id, task_id).await
    }

    async fn record_dead_letter(
        &self,
        record: &tasksync::sync::DeadLetterReason,
    ) -> Result<(), tasksync::ports::StoreError> {
        self.inner.record_dead_letter(record).await
    }

    async fn set_binding_breaker(
        &self,
        binding_id: &str,
        breaker: Option<&tasksync::model::CircuitBreaker>,
    ) -> Result<(), tasksync::ports::StoreError> {
        self.inner.set_binding_breaker(binding_id, breaker).await
    }
}

impl<S: tasksync::ports::ConflictLog> tasksync::ports::ConflictLog for CrashAfterCreate<S> {
    async fn record_conflicts(
        &self,
        records: &[tasksync::sync::records::ConflictRecord],
    ) -> Result<(), tasksync::ports::StoreError> {
        self.inner.record_conflicts(records).await
    }
}

impl<S: MappingStore> MappingStore for CrashAfterCreate<S> {
    async fn mapping_by_local(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> Result<Option<Mapping>, tasksync::ports::StoreError> {
        self.inner.mapping_by_local(list_id, task_id).await
    }

    async fn mapping_by_remote(
        &self,
        kind: tasksync::model::RemoteKind,
        remote_id: &str,
    ) -> Result<Option<Mapping>, tasksync::ports::StoreError> {
        self.inner.mapping_by_remote(kind, remote_id).await
    }

    async fn save_mapping(
        &self,
        mapping: &Mapping,
        expected_revision: Option<u64>,
        replaced_remote_id: Option<&str>,
    ) -> Result<u64, tasksync::ports::StoreError> {
        if mapping.state == self.failing_state
            && mapping.remote_id.is_some()
            && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(tasksync::ports::StoreError::Transient(
                "injected crash between the remote create and the mapping write".into(),
            ));
        }
        self.inner
            .save_mapping(mapping, expected_revision, replaced_remote_id)
            .await
    }
}

/// Reads the tasks table's stream on moto from the start (each test has its own table), with the
/// reader `tasksync local` uses.
pub struct StreamForwarder(StreamReader);

impl StreamForwarder {
    pub async fn start(aws: &MotoAws) -> Self {
        let arn = aws
            .resources
            .tasks_stream_arn()
            .expect("the tasks table has a stream");
        Self(
            StreamReader::open(&aws.endpoint, arn)
                .await
                .expect("moto streams API"),
        )
    }

    /// The records written since the last call, in stream order per shard.
    pub async fn records(&self) -> Vec<Value> {
        self.0.records().await.expect("moto streams API")
    }
}
