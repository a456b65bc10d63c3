//! `tasksync local`: the whole system on one machine, on embedded defaults.
//!
//! Real parts wherever they can be: the Graph emulator over HTTP (with its real validation
//! handshake and notification delivery), the real webhook handler served over loopback HTTP as
//! API Gateway would invoke it, the real worker handler fed SQS events as Lambda would build them,
//! the real Graph client, and the template's own pipe template turning every task-store write
//! into the `local_task` hint the pipe sends in AWS. Only the stores and the queue are the
//! in-memory adapters, which pass the same contract suite as the DynamoDB and SQS ones; the
//! in-memory task store announces each write by its keys as the `KEYS_ONLY` stream does.
//!
//! The demo's steps ([`run_demo`]) return what they observed ([`DemoReport`]), so a test runs the
//! same steps and asserts on them.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_emulator::{ControlClient, EmulatorConfig, RunningEmulator};
use serde_json::{Value, json};
use tasksync::graph::GraphClient;
use tasksync::local::emulator_stack;
use tasksync::local::lambda_http_server::LocalHttpServer;
use tasksync::local::stream_forwarder::{ForwardError, MemoryStreamForwarder};
use tasksync::local::work_pump::{PumpReport, pump_once};
use tasksync::model::{Binding, LocalTask, Origin, Priority, TaskDate, TaskStatus};
use tasksync::ports::{BindingSave, HintSend, MappingStore, TaskRead, TaskWriteIfVersion};
use tasksync::queue::MemoryHintQueue;
use tasksync::queue_message::Hint;
use tasksync::store::MemoryStore;
use tasksync::subscription_setup::{WebhookUrls, connect_todo_binding};
use tasksync::worker::{WorkerDeps, handle_batch};

#[derive(clap::Args, Debug)]
pub struct LocalArgs {
    /// After the demo, keep the system running (emulator, webhook, worker) until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// How long to wait for each change to reach the other side.
    #[arg(long, default_value_t = 15)]
    pub step_timeout_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error("local I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the emulator's control API failed: {0}")]
    Control(#[from] graph_emulator::control_client::ControlError),
    #[error("Graph call failed: {0}")]
    Graph(#[from] tasksync::graph::GraphError),
    #[error("connecting the binding failed: {0}")]
    Setup(#[from] tasksync::subscription_setup::SetupError),
    #[error("store failed: {0}")]
    Store(#[from] tasksync::ports::StoreError),
    #[error("queue failed: {0}")]
    Queue(#[from] tasksync::ports::QueueError),
    #[error("the stream forwarder failed: {0}")]
    Forward(#[from] ForwardError),
    #[error("{0} did not happen within {1:?}")]
    Timeout(&'static str, Duration),
    #[error("the emulator answered without {0}")]
    Shape(&'static str),
}

/// The local list a person's To Do list is bound to.
pub const TODO_LIST: &str = "team";
/// The local list bound to a Planner plan.
pub const PLANNER_LIST: &str = "ops";
const TODO_BINDING: &str = "local-todo";
const PLANNER_BINDING: &str = "local-planner";
/// The id of the task the agent writes in each list.
pub const AGENT_TASK: &str = "T-1042";
pub const AGENT: &str = "planner-agent";

type LocalWorker = WorkerDeps<MemoryStore, MemoryStore, GraphClient, MemoryHintQueue>;

/// Everything `tasksync local` runs, started and wired.
pub struct LocalSystem {
    pub emulator: RunningEmulator,
    pub control: ControlClient,
    pub store: MemoryStore,
    pub queue: MemoryHintQueue,
    /// The worker's Graph client: its counters are the Graph calls tasksync made.
    pub graph: GraphClient,
    /// Looks at the remote side for the demo (its calls are not tasksync's).
    observer: GraphClient,
    worker: LocalWorker,
    stream: MemoryStreamForwarder,
    webhook: LocalHttpServer,
    urls: WebhookUrls,
}

/// What one drive round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Round {
    forwarded: usize,
    pumped: PumpReport,
}

/// What the system did between a change reaching the other side and the system going quiet:
/// the echoes of the sync's own writes (its local write coming back through the stream, its
/// remote write coming back as a change notification).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// Queue messages the worker handled.
    pub messages: usize,
    /// Graph requests the worker made (the token aside).
    pub graph_calls: u64,
    /// Of which creates, updates and deletes.
    pub graph_writes: u64,
}

/// What the demo observed, step by step.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// The person's To Do task in the task store after each step: created, renamed, completed,
    /// deleted.
    pub person_steps: Vec<LocalTask>,
    /// Graph writes the person's four changes cost, their echoes included (they only read).
    pub person_graph_writes: u64,
    /// What the echoes of the last change cost.
    pub person_echo: Settled,
    /// The agent's task as written to the task store (list `team`).
    pub agent_task: LocalTask,
    /// That task as the emulator holds it in To Do (Graph's JSON).
    pub agent_todo_task: Value,
    /// Graph writes the agent's task cost until it was in To Do.
    pub agent_todo_writes: u64,
    /// What its echoes cost afterwards.
    pub agent_todo_echo: Settled,
    /// The agent's task in the Planner-bound list (`ops`), and the Planner task and details the
    /// emulator holds for it.
    pub agent_planner_local: LocalTask,
    pub agent_planner_task: Value,
    pub agent_planner_details: Value,
    pub agent_planner_writes: u64,
    pub agent_planner_echo: Settled,
}

impl LocalSystem {
    /// Starts the emulator, serves the webhook and wires the worker and the stream forwarder.
    pub async fn start() -> Result<Self, LocalRunError> {
        // Microsoft Graph and the identity platform, on loopback.
        let emulator = graph_emulator::start(EmulatorConfig::default(), "127.0.0.1:0").await?;
        let control = ControlClient::new(emulator.control_url.clone());
        // The stores and the queue, in memory.
        let store = MemoryStore::new();
        let queue = MemoryHintQueue::new();
        // The webhook function, served over HTTP as API Gateway would invoke it.
        let webhook = emulator_stack::serve_webhook(Arc::new(emulator_stack::webhook_deps(
            &emulator,
            store.clone(),
            queue.clone(),
        )))
        .await?;
        let urls = WebhookUrls::under(&webhook.base_url());
        // The worker's Graph client, exactly as in Lambda but pointed at the emulator.
        let graph = emulator_stack::graph_client(&emulator)?;
        let observer = emulator_stack::graph_client(&emulator)?;
        let worker = WorkerDeps::new(store.clone(), store.clone(), graph.clone(), queue.clone());
        // The pipe: every task write becomes the template's local_task hint.
        let stream = MemoryStreamForwarder::from_embedded_template(store.clone())?;
        Ok(Self {
            emulator,
            control,
            store,
            queue,
            graph,
            observer,
            worker,
            stream,
            webhook,
            urls,
        })
    }

    /// One round of what AWS does by itself: the pipe forwards new stream records, the event
    /// source mapping hands a batch to the worker.
    async fn round(&self) -> Result<Round, LocalRunError> {
        let forwarded = self.stream.forward_new(&self.queue).await?;
        let pumped = pump_once(&self.queue, |event| handle_batch(event, &self.worker)).await?;
        Ok(Round { forwarded, pumped })
    }

    /// Runs rounds until `check` finds what it waits for.
    async fn drive_until<T, F, Fut>(
        &self,
        what: &'static str,
        timeout: Duration,
        out: &mut impl Write,
        mut check: F,
    ) -> Result<T, LocalRunError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, LocalRunError>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let round = self.round().await?;
            report_round(&round, out)?;
            if let Some(found) = check().await? {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                return Err(LocalRunError::Timeout(what, timeout));
            }
            if round.pumped.received == 0 && round.forwarded == 0 {
                // The emulator delivers notifications asynchronously, as Graph does; when none is
                // under way either, poll gently until the deadline.
                let delivering = self.emulator.state.delivery.stats().pending > 0;
                self.emulator
                    .state
                    .delivery
                    .wait_idle(Duration::from_millis(200))
                    .await;
                if !delivering {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    /// Runs rounds until nothing moves: no notification pending, no stream record, no message.
    async fn settle(
        &self,
        timeout: Duration,
        out: &mut impl Write,
    ) -> Result<Settled, LocalRunError> {
        let deadline = Instant::now() + timeout;
        let (calls, writes) = (
            self.graph.counters().requests(),
            self.graph.counters().task_writes(),
        );
        let mut messages = 0;
        loop {
            let idle = self.emulator.state.delivery.wait_idle(timeout).await;
            let round = self.round().await?;
            report_round(&round, out)?;
            messages += round.pumped.received;
            if idle && round.forwarded == 0 && round.pumped.received == 0 {
                return Ok(Settled {
                    messages,
                    graph_calls: self.graph.counters().requests() - calls,
                    graph_writes: self.graph.counters().task_writes() - writes,
                });
            }
            if Instant::now() >= deadline {
                return Err(LocalRunError::Timeout("the system going quiet", timeout));
            }
        }
    }

    /// Keeps the system running until Ctrl-C.
    async fn serve_until_ctrl_c(&self) {
        let drive = async {
            loop {
                match self.round().await {
                    Ok(round) if round.pumped.received > 0 || round.forwarded > 0 => {}
                    Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "local round failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        };
        tokio::select! {
            _ = drive => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }

    pub fn shutdown(self) {
        drop(self.webhook);
        self.emulator.shutdown();
    }

    async fn local(&self, list: &str, id: &str) -> Result<Option<LocalTask>, LocalRunError> {
        Ok(self.store.get_task(list, id).await?)
    }

    /// The remote id the mapping holds for a local task, once the pair is active.
    async fn remote_id(&self, list: &str, id: &str) -> Result<Option<String>, LocalRunError> {
        Ok(self
            .store
            .mapping_by_local(list, id)
            .await?
            .filter(|m| m.state == tasksync::sync::MappingState::Active)
            .and_then(|m| m.remote_id))
    }

    /// An application writes a task as the README's contract says: read, change, version + 1,
    /// origin `app:…`, conditional on the version read.
    async fn agent_writes(&self, task: LocalTask) -> Result<LocalTask, LocalRunError> {
        let current = self.local(&task.list_id, &task.id).await?;
        let written = LocalTask {
            version: current.as_ref().map_or(1, |c| c.version + 1),
            updated_at: chrono::Utc::now(),
            origin: Origin::App(AGENT.to_owned()),
            ..task
        };
        self.store
            .put_task_if_version(&written, current.map(|c| c.version))
            .await?;
        Ok(written)
    }
}

fn report_round(round: &Round, out: &mut impl Write) -> Result<(), LocalRunError> {
    if round.forwarded > 0 {
        writeln!(
            out,
            "   pipe: {} task-store write(s) → local_task hint(s)",
            round.forwarded
        )?;
    }
    if round.pumped.received > 0 {
        writeln!(
            out,
            "   worker: {} message(s) from the queue, {} done, {} to retry",
            round.pumped.received, round.pumped.succeeded, round.pumped.failed
        )?;
    }
    Ok(())
}

fn show(task: &LocalTask, out: &mut impl Write) -> Result<(), LocalRunError> {
    writeln!(
        out,
        "   task store: {}/{} title={:?} status={} version={} origin={} deleted={}",
        task.list_id,
        task.id,
        task.title,
        task.status.as_str(),
        task.version,
        tasksync::store::item::origin_text(&task.origin),
        task.deleted
    )?;
    Ok(())
}

fn show_echo(echo: &Settled, out: &mut impl Write) -> Result<(), LocalRunError> {
    writeln!(
        out,
        "   echoes: {} message(s) handled afterwards, {} Graph call(s), {} Graph write(s)",
        echo.messages, echo.graph_calls, echo.graph_writes
    )?;
    Ok(())
}

/// The demo: a person's To Do changes reach the task store; an agent's writes to the task
/// store reach To Do and Planner; each echo of the sync's own writes costs no Graph write.
pub async fn run_demo(
    system: &LocalSystem,
    step_timeout: Duration,
    out: &mut impl Write,
) -> Result<DemoReport, LocalRunError> {
    let config = system.emulator.state.config.clone();
    let control = &system.control;
    writeln!(out, "tasksync local: the whole system on this machine")?;
    writeln!(out, "  Graph emulator  {}", system.emulator.graph_base_url)?;
    writeln!(
        out,
        "  webhook         {} (real handler over HTTP)",
        system.urls.notification_url
    )?;
    writeln!(
        out,
        "  worker          real handler, fed SQS events from the in-memory queue"
    )?;
    writeln!(
        out,
        "  pipe            every task-store write → the template's local_task hint"
    )?;
    writeln!(
        out,
        "  stores, queue   in memory (same adapter contract as DynamoDB and SQS)"
    )?;
    writeln!(out)?;

    let list_id = control
        .create_todo_list(&config.user_id, "Team tasks")
        .await?;
    writeln!(
        out,
        "1. A To Do list \"Team tasks\" exists for user {}",
        config.user_id
    )?;

    let binding = Binding::todo(TODO_BINDING, TODO_LIST, &config.user_id, &list_id);
    let expires = chrono::Utc::now() + chrono::Duration::minutes(4200);
    let subscription = connect_todo_binding(
        &system.graph,
        &system.store,
        &binding,
        &system.urls,
        &config.tenant_id,
        expires,
    )
    .await?;
    system
        .queue
        .send_hints(&[Hint::ResyncBinding {
            binding_id: binding.id.clone(),
            reason: "binding connected".to_owned(),
        }])
        .await?;
    writeln!(
        out,
        "2. Binding {:?}: local list {TODO_LIST:?} <-> that To Do list. Graph subscription {} \
         created after the emulator's validation handshake against the webhook; expires {}",
        binding.id, subscription.id, subscription.expires_at
    )?;

    let mut person_steps = Vec::new();
    let writes_before = system.graph.counters().task_writes();
    let created = control
        .create_todo_task(
            &list_id,
            &json!({ "title": "Call the supplier", "body": { "content": "Ask about the delivery date", "contentType": "text" } }),
        )
        .await?;
    let task_id = graph_emulator::control_client::id_of(&created, "created task")?;
    writeln!(out, "3. A person creates \"Call the supplier\" in To Do")?;
    let task = drive_local(system, &task_id, "the new task", step_timeout, out, |t| {
        t.title == "Call the supplier"
    })
    .await?;
    show(&task, out)?;
    person_steps.push(task);

    control
        .update_todo_task(
            &list_id,
            &task_id,
            &json!({ "title": "Call the supplier today" }),
        )
        .await?;
    writeln!(
        out,
        "4. The person renames it to \"Call the supplier today\""
    )?;
    let task = drive_local(system, &task_id, "the rename", step_timeout, out, |t| {
        t.title == "Call the supplier today"
    })
    .await?;
    show(&task, out)?;
    person_steps.push(task);

    control
        .update_todo_task(&list_id, &task_id, &json!({ "status": "completed" }))
        .await?;
    writeln!(out, "5. The person completes it")?;
    let task = drive_local(system, &task_id, "the completion", step_timeout, out, |t| {
        t.status == TaskStatus::Completed
    })
    .await?;
    show(&task, out)?;
    person_steps.push(task);

    control.delete_todo_task(&list_id, &task_id).await?;
    writeln!(out, "6. The person deletes it")?;
    let task = drive_local(system, &task_id, "the deletion", step_timeout, out, |t| {
        t.deleted
    })
    .await?;
    show(&task, out)?;
    person_steps.push(task);
    let person_echo = system.settle(step_timeout, out).await?;
    show_echo(&person_echo, out)?;
    let person_graph_writes = system.graph.counters().task_writes() - writes_before;

    // An application's agent writes the task store; the stream and the pipe carry the change.
    let writes_before = system.graph.counters().task_writes();
    let agent_task = system
        .agent_writes(LocalTask {
            notes: "Two pumps for site B".to_owned(),
            priority: Priority::Important,
            due: TaskDate::parse("2026-12-03"),
            ..LocalTask::new(
                TODO_LIST,
                AGENT_TASK,
                "Order the spare parts",
                Origin::App(AGENT.to_owned()),
            )
        })
        .await?;
    writeln!(
        out,
        "7. The agent app:{AGENT} writes {TODO_LIST}/{AGENT_TASK} \"Order the spare parts\" \
         (important, due 2026-12-03) to the task store"
    )?;
    let remote_id = system
        .drive_until("the agent's task in To Do", step_timeout, out, || async {
            system.remote_id(TODO_LIST, AGENT_TASK).await
        })
        .await?;
    let agent_todo_writes = system.graph.counters().task_writes() - writes_before;
    let agent_todo_task = control
        .call(
            reqwest::Method::GET,
            &format!("/todo/lists/{list_id}/tasks/{remote_id}"),
            None,
        )
        .await?;
    writeln!(
        out,
        "   To Do: {remote_id} title={} importance={} due={} ({agent_todo_writes} Graph write(s))",
        agent_todo_task["title"],
        agent_todo_task["importance"],
        agent_todo_task["dueDateTime"]["dateTime"]
    )?;
    let agent_todo_echo = system.settle(step_timeout, out).await?;
    show_echo(&agent_todo_echo, out)?;

    // A Planner plan bound to a second list: Planner has no change notifications (the
    // scheduler's sweeps find a person's edits there), but the agent's writes reach it the same
    // way.
    let plan = control
        .call(
            reqwest::Method::POST,
            "/planner/plans",
            Some(&json!({ "title": "Operations" })),
        )
        .await?;
    let plan_id = plan["id"]
        .as_str()
        .ok_or(LocalRunError::Shape("a plan id"))?;
    let planner = Binding::planner(PLANNER_BINDING, PLANNER_LIST, plan_id);
    system.store.save_binding(&planner).await?;
    writeln!(
        out,
        "8. Binding {PLANNER_BINDING:?}: local list {PLANNER_LIST:?} <-> Planner plan \"Operations\""
    )?;
    let writes_before = system.graph.counters().task_writes();
    let agent_planner_local = system
        .agent_writes(LocalTask {
            notes: "Check the pressure valves".to_owned(),
            priority: Priority::Urgent,
            due: TaskDate::parse("2026-12-05"),
            ..LocalTask::new(
                PLANNER_LIST,
                AGENT_TASK,
                "Service the pumps",
                Origin::App(AGENT.to_owned()),
            )
        })
        .await?;
    writeln!(
        out,
        "9. The agent writes {PLANNER_LIST}/{AGENT_TASK} \"Service the pumps\" (urgent, due \
         2026-12-05) to the task store"
    )?;
    let planner_id = system
        .drive_until("the agent's task in Planner", step_timeout, out, || async {
            system.remote_id(PLANNER_LIST, AGENT_TASK).await
        })
        .await?;
    let agent_planner_writes = system.graph.counters().task_writes() - writes_before;
    let planner_api = system.observer.planner();
    let agent_planner_task = serde_json::to_value(planner_api.get_task(&planner_id).await?)
        .map_err(|_| LocalRunError::Shape("a Planner task"))?;
    let agent_planner_details =
        serde_json::to_value(planner_api.get_task_details(&planner_id).await?)
            .map_err(|_| LocalRunError::Shape("Planner task details"))?;
    writeln!(
        out,
        "   Planner: {planner_id} title={} priority={} due={} description={} ({agent_planner_writes} Graph write(s))",
        agent_planner_task["title"],
        agent_planner_task["priority"],
        agent_planner_task["dueDateTime"],
        agent_planner_details["description"]
    )?;
    let agent_planner_echo = system.settle(step_timeout, out).await?;
    show_echo(&agent_planner_echo, out)?;

    writeln!(out)?;
    writeln!(out, "Graph calls made by tasksync:")?;
    for ((operation, outcome), count) in system.graph.counters().snapshot() {
        writeln!(out, "  {operation:<28} {:<10} {count}", outcome.as_str())?;
    }
    Ok(DemoReport {
        person_steps,
        person_graph_writes,
        person_echo,
        agent_task,
        agent_todo_task,
        agent_todo_writes,
        agent_todo_echo,
        agent_planner_local,
        agent_planner_task,
        agent_planner_details,
        agent_planner_writes,
        agent_planner_echo,
    })
}

/// Runs rounds until the person's task in list `team` satisfies `done`.
async fn drive_local(
    system: &LocalSystem,
    task_id: &str,
    what: &'static str,
    timeout: Duration,
    out: &mut impl Write,
    done: fn(&LocalTask) -> bool,
) -> Result<LocalTask, LocalRunError> {
    system
        .drive_until(what, timeout, out, || async {
            Ok(system.local(TODO_LIST, task_id).await?.filter(done))
        })
        .await
}

pub async fn run(args: LocalArgs) -> Result<(), LocalRunError> {
    let system = LocalSystem::start().await?;
    let mut out = std::io::stdout();
    run_demo(
        &system,
        Duration::from_secs(args.step_timeout_secs),
        &mut out,
    )
    .await?;
    if args.keep_running {
        writeln!(out)?;
        writeln!(
            out,
            "Still running (Ctrl-C to stop). Control API: {}",
            system.emulator.control_url
        )?;
        system.serve_until_ctrl_c().await;
    }
    system.shutdown();
    Ok(())
}
