//! What AWS does by itself around the functions, done here: the SQS event source mapping (receive
//! a batch, invoke the worker with the SQS event, delete what did not fail), the pipe (read the
//! tasks table's stream, send the template's hint for each record), and EventBridge's schedule
//! (invoke the scheduler every tick). Each loop runs until the task running it is dropped.

use std::time::{Duration, Instant};

use tasksync::ports::HintSend;
use tasksync::queue::SqsHintQueue;
use tasksync::scheduler::{RunContext, SchedulerDeps, SchedulerSettings, TickReport, run_tick};
use tasksync::standalone::dynamodb_stream::StreamReader;
use tasksync::standalone::stream_forwarder::PipeForwarder;
use tasksync::standalone::work_pump::pump_once;
use tasksync::store::{DynamoSyncStore, DynamoTaskStore};
use tasksync::worker::{SubscriptionWiring, handle_batch};

use tasksync::graph::GraphClient;

/// The functions' timeouts in template.yaml: each invocation here gets as long as in AWS.
const WORKER_TIMEOUT: Duration = Duration::from_secs(30);
const SCHEDULER_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait after a failed receive or stream read before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How often the stream is read (the pipe polls about once a second too).
const STREAM_POLL: Duration = Duration::from_millis(250);

/// What the worker and the scheduler need, built once as the mains build them.
#[derive(Clone)]
pub struct Functions {
    pub sync: DynamoSyncStore,
    pub tasks: DynamoTaskStore,
    pub queue: SqsHintQueue,
    pub graph: GraphClient,
    pub scheduler: SchedulerSettings,
}

impl Functions {
    fn scheduler_deps(&self, graph: GraphClient) -> SchedulerDeps<DynamoSyncStore, SqsHintQueue> {
        SchedulerDeps {
            store: self.sync.clone(),
            queue: self.queue.clone(),
            graph,
            settings: self.scheduler.clone(),
        }
    }

    /// One scheduler invocation, bounded as in Lambda.
    pub async fn tick(&self) -> TickReport {
        let deadline = Instant::now() + SCHEDULER_TIMEOUT - tasksync::worker::SAFETY_MARGIN;
        let deps = self.scheduler_deps(self.graph.with_deadline(deadline));
        let ctx = RunContext::new(chrono::Utc::now(), deadline);
        run_tick(&deps, &ctx).await
    }
}

/// The event source mapping: the worker handler on every batch of the work queue, with the
/// subscription hints handed to the scheduler's code as the worker's main does.
pub async fn worker_loop(functions: Functions) {
    loop {
        let deadline = Instant::now() + WORKER_TIMEOUT - tasksync::worker::SAFETY_MARGIN;
        let deps = SubscriptionWiring::with_settings(functions.scheduler.clone()).worker(
            functions.sync.clone(),
            functions.tasks.clone(),
            functions.graph.with_deadline(deadline),
            functions.queue.clone(),
        );
        match pump_once(&functions.queue, |event| handle_batch(event, &deps)).await {
            Ok(report) if report.received > 0 => eprintln!(
                "worker: {} message(s) from the work queue, {} done, {} to retry",
                report.received, report.succeeded, report.failed
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "receiving from the work queue failed; retrying");
                tokio::time::sleep(RETRY_AFTER).await;
            }
        }
    }
}

/// The pipe: the tasks table's stream, as the template's input template renders it, to the queue.
pub async fn stream_loop<Q: HintSend>(reader: StreamReader, pipe: PipeForwarder, queue: Q) {
    let mut every = tokio::time::interval(STREAM_POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match reader.forward_new(&pipe, &queue).await {
            Ok(0) => {}
            Ok(sent) => eprintln!("pipe: {sent} task-store write(s) → local_task hint(s)"),
            Err(e) => tracing::warn!(error = %e, "reading the tasks table's stream failed"),
        }
    }
}

/// The schedule: the scheduler every `tick`, the first one `tick` from now (the start ran one).
pub async fn scheduler_loop(functions: Functions, tick: Duration) {
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        every.tick().await;
        let r = functions.tick().await;
        if r.bindings_due > 0 || r.store_errors > 0 {
            eprintln!(
                "scheduler: {} binding(s) due, {} swept, {} subscription(s) created, {} renewed, \
                 {} hint(s) queued, {} failure(s)",
                r.bindings_due,
                r.bindings_swept,
                r.subscriptions_created,
                r.subscriptions_renewed,
                r.hints_enqueued,
                r.subscription_failures + r.sweep_failures + r.store_errors
            );
        }
    }
}
