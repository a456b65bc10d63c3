//! `tasksync local`: the whole system on one machine, on embedded defaults.
//!
//! Real parts wherever they can be: the Graph emulator over HTTP (with its real validation
//! handshake and notification delivery), the real webhook handler served over loopback HTTP as
//! API Gateway would invoke it, the real worker handler fed SQS events as Lambda would build them,
//! and the real Graph client. Only the stores and the queue are the in-memory adapters, which
//! pass the same contract suite as the DynamoDB and SQS ones.

use std::sync::Arc;
use std::time::{Duration, Instant};

use graph_emulator::{ControlClient, EmulatorConfig};
use serde_json::json;
use tasksync::graph::GraphClient;
use tasksync::local::emulator_stack;
use tasksync::local::work_pump::{PumpReport, pump_once};
use tasksync::model::{Binding, LocalTask};
use tasksync::ports::{HintSend, TaskRead};
use tasksync::queue::MemoryHintQueue;
use tasksync::queue_message::Hint;
use tasksync::store::MemoryStore;
use tasksync::subscription_setup::{WebhookUrls, connect_todo_binding};
use tasksync::worker::{WorkerDeps, handle_batch};

#[derive(clap::Args, Debug)]
pub struct LocalArgs {
    /// After the demo, keep the system running (emulator, webhook, worker) until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// How long to wait for each change to reach the task store.
    #[arg(long, default_value_t = 15)]
    step_timeout_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error("cannot start a local server: {0}")]
    Listen(#[from] std::io::Error),
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
    #[error("{0} did not reach the task store within {1:?}")]
    Timeout(&'static str, Duration),
}

const LOCAL_LIST: &str = "team";
const BINDING_ID: &str = "local-todo";

pub async fn run(args: LocalArgs) -> Result<(), LocalRunError> {
    let step_timeout = Duration::from_secs(args.step_timeout_secs);

    // Microsoft Graph and the identity platform, on loopback.
    let emulator = graph_emulator::start(EmulatorConfig::default(), "127.0.0.1:0").await?;
    let config = emulator.state.config.clone();
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
    let worker = WorkerDeps::new(store.clone(), store.clone(), graph.clone(), queue.clone());

    println!("tasksync local: the whole system on this machine");
    println!("  Graph emulator  {}", emulator.graph_base_url);
    println!(
        "  webhook         {} (real handler over HTTP)",
        urls.notification_url
    );
    println!("  worker          real handler, fed SQS events from the in-memory queue");
    println!("  stores, queue   in memory (same adapter contract as DynamoDB and SQS)");
    println!();

    let list_id = control
        .create_todo_list(&config.user_id, "Team tasks")
        .await?;
    println!(
        "1. A To Do list \"Team tasks\" exists for user {}",
        config.user_id
    );

    let binding = Binding::todo(BINDING_ID, LOCAL_LIST, &config.user_id, &list_id);
    let expires = chrono::Utc::now() + chrono::Duration::minutes(4200);
    let subscription =
        connect_todo_binding(&graph, &store, &binding, &urls, &config.tenant_id, expires).await?;
    queue
        .send_hints(&[Hint::ResyncBinding {
            binding_id: binding.id.clone(),
            reason: "binding connected".to_owned(),
        }])
        .await?;
    println!(
        "2. Binding {:?}: local list {LOCAL_LIST:?} <-> that To Do list. Graph subscription {} \
         created after the emulator's validation handshake against the webhook; expires {}",
        binding.id, subscription.id, subscription.expires_at
    );

    let created = control
        .create_todo_task(
            &list_id,
            &json!({ "title": "Call the supplier", "body": { "content": "Ask about the delivery date", "contentType": "text" } }),
        )
        .await?;
    let task_id = graph_emulator::control_client::id_of(&created, "created task")?;
    println!("3. A person creates \"Call the supplier\" in To Do");
    let task = wait_for(
        &queue,
        &worker,
        &store,
        &task_id,
        step_timeout,
        "the new task",
        |t| t.title == "Call the supplier",
    )
    .await?;
    show(&task);

    control
        .update_todo_task(
            &list_id,
            &task_id,
            &json!({ "title": "Call the supplier today" }),
        )
        .await?;
    println!("4. The person renames it to \"Call the supplier today\"");
    let task = wait_for(
        &queue,
        &worker,
        &store,
        &task_id,
        step_timeout,
        "the rename",
        |t| t.title == "Call the supplier today",
    )
    .await?;
    show(&task);

    control
        .update_todo_task(&list_id, &task_id, &json!({ "status": "completed" }))
        .await?;
    println!("5. The person completes it");
    let task = wait_for(
        &queue,
        &worker,
        &store,
        &task_id,
        step_timeout,
        "the completion",
        |t| t.status == tasksync::model::TaskStatus::Completed,
    )
    .await?;
    show(&task);

    control.delete_todo_task(&list_id, &task_id).await?;
    println!("6. The person deletes it");
    let task = wait_for(
        &queue,
        &worker,
        &store,
        &task_id,
        step_timeout,
        "the deletion",
        |t| t.deleted,
    )
    .await?;
    show(&task);

    println!();
    println!("Graph calls made by tasksync:");
    for ((operation, outcome), count) in graph.counters().snapshot() {
        println!("  {operation:<28} {:<10} {count}", outcome.as_str());
    }

    if args.keep_running {
        println!();
        println!(
            "Still running (Ctrl-C to stop). Control API: {}",
            emulator.control_url
        );
        let pump = async {
            loop {
                if let Ok(report) = pump(&queue, &worker).await
                    && report.received == 0
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        tokio::select! {
            _ = pump => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    drop(webhook);
    emulator.shutdown();
    Ok(())
}

type LocalWorker = WorkerDeps<MemoryStore, MemoryStore, GraphClient, MemoryHintQueue>;

async fn pump(queue: &MemoryHintQueue, worker: &LocalWorker) -> Result<PumpReport, LocalRunError> {
    Ok(pump_once(queue, |event| handle_batch(event, worker)).await?)
}

/// Runs the worker on whatever the queue holds until the local task satisfies `done`.
async fn wait_for(
    queue: &MemoryHintQueue,
    worker: &LocalWorker,
    store: &MemoryStore,
    task_id: &str,
    timeout: Duration,
    what: &'static str,
    done: impl Fn(&LocalTask) -> bool,
) -> Result<LocalTask, LocalRunError> {
    let deadline = Instant::now() + timeout;
    loop {
        let report = pump(queue, worker).await?;
        if report.received > 0 {
            println!(
                "   worker: {} message(s) from the queue, {} done, {} to retry",
                report.received, report.succeeded, report.failed
            );
        }
        if let Some(task) = store.get_task(LOCAL_LIST, task_id).await?
            && done(&task)
        {
            return Ok(task);
        }
        if Instant::now() >= deadline {
            return Err(LocalRunError::Timeout(what, timeout));
        }
        if report.received == 0 {
            // The emulator delivers notifications asynchronously, as Graph does.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn show(task: &LocalTask) {
    println!(
        "   task store: {}/{} title={:?} status={} version={} deleted={}",
        task.list_id,
        task.id,
        task.title,
        task.status.as_str(),
        task.version,
        task.deleted
    );
}
