//! The worker function's handler: consumes SQS batches of hints and reconciles the pairs they
//! name (docs/sync-engine.md).
//!
//! Each message is processed in isolation and its failure is reported as a partial batch failure,
//! so one bad message never costs the others (the body is parsed per record rather than through
//! `SqsEventObj<T>`, where one bad body would fail the whole batch). A throttled message gets its
//! visibility set to Graph's `Retry-After` instead of the worker sleeping (on its last receive, a
//! delayed fresh copy, so throttling alone never dead-letters it), and the batch's other messages
//! of that binding are deferred without calling Graph (`throttle`); a binding that keeps
//! failing opens its circuit breaker; a message on its last receive leaves its failure reason in
//! the sync table beside the DLQ copy.

mod breaker;
mod deadline;
mod delay;
pub mod metrics;
mod outcome;
mod subscription_hints;
mod throttle;

use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::Utc;
use tracing::Instrument;

use crate::model::{Binding, RemoteKind};
use crate::ports::{
    BindingFlags, BindingLookup, BindingsOfList, MappingStore, MessageDelay, SyncRecords, TaskList,
    TaskRead, TaskWriteIfVersion,
};
use crate::queue_message::{self, Hint};
use crate::sync::{DeadLetterReason, Engine, EngineSettings, Executed, OpenRemote, PairKey};

pub use crate::sync::ResyncReport;
pub use deadline::{Deadline, SAFETY_MARGIN, deadline_or_timeout, invocation_deadline};
pub use outcome::{MessageOutcome, WorkerError};
pub use subscription_hints::{LeaveToScheduler, SubscriptionHints, SubscriptionWiring};

/// Tunables of the worker; the defaults match template.yaml.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The work queue's `maxReceiveCount`: on this receive a failing message records its reason
    /// (it moves to the DLQ next).
    pub max_receive_count: u32,
    /// Consecutive binding-level failures that open the breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker acknowledges the binding's messages before letting one through.
    pub breaker_cooldown: Duration,
    /// The sync engine's own tunables (claim patience, merge rounds, the deletion guard).
    pub engine: EngineSettings,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            max_receive_count: 5,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(15 * 60),
            engine: EngineSettings::default(),
        }
    }
}

/// What the worker needs, each as a narrow port: `sync` (bindings, mappings, records), `tasks`
/// (the tasks table), `graph` (opens each binding's remote side), `queue` (to delay a throttled
/// message), `subscription_hints` (the scheduler's code; without it they are acknowledged with a
/// log).
pub struct WorkerDeps<S, T, G, Q, H = LeaveToScheduler> {
    pub sync: S,
    pub tasks: T,
    pub graph: G,
    pub queue: Q,
    pub subscription_hints: H,
    pub settings: WorkerSettings,
}

impl<S, T, G, Q> WorkerDeps<S, T, G, Q, LeaveToScheduler> {
    /// Dependencies with the default settings and no subscription handling.
    pub fn new(sync: S, tasks: T, graph: G, queue: Q) -> Self {
        Self {
            sync,
            tasks,
            graph,
            queue,
            subscription_hints: LeaveToScheduler,
            settings: WorkerSettings::default(),
        }
    }
}

impl<S, T, G, Q, H> WorkerDeps<S, T, G, Q, H> {
    /// The same dependencies handing the subscription hints to `hints` (e.g. the scheduler's
    /// `SchedulerDeps`).
    pub fn with_subscription_hints<H2: SubscriptionHints>(
        self,
        hints: H2,
    ) -> WorkerDeps<S, T, G, Q, H2> {
        WorkerDeps {
            sync: self.sync,
            tasks: self.tasks,
            graph: self.graph,
            queue: self.queue,
            subscription_hints: hints,
            settings: self.settings,
        }
    }

    /// The engine over these dependencies.
    pub fn engine(&self) -> Engine<'_, S, T, G> {
        Engine {
            sync: &self.sync,
            tasks: &self.tasks,
            graph: &self.graph,
            settings: self.settings.engine,
        }
    }
}

/// The bounds every handler entry point shares.
pub trait SyncStore:
    BindingLookup + BindingsOfList + BindingFlags + MappingStore + SyncRecords
{
}
impl<X: BindingLookup + BindingsOfList + BindingFlags + MappingStore + SyncRecords> SyncStore
    for X
{
}

/// The tasks-table capabilities the worker uses.
pub trait TaskStore: TaskRead + TaskWriteIfVersion + TaskList {}
impl<X: TaskRead + TaskWriteIfVersion + TaskList> TaskStore for X {}

/// Handles one SQS batch; the response lists the messages that failed (to be retried, and
/// redriven to the DLQ once they exceed the queue's receive limit).
pub async fn handle_batch<S, T, G, Q, H>(
    event: SqsEvent,
    deps: &WorkerDeps<S, T, G, Q, H>,
) -> SqsBatchResponse
where
    S: SyncStore,
    T: TaskStore,
    G: OpenRemote,
    Q: MessageDelay,
    H: SubscriptionHints,
{
    let mut response = SqsBatchResponse::default();
    let mut throttles = throttle::BindingThrottles::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let body = record.body.clone().unwrap_or_default();
        let receive_count: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let span = tracing::info_span!("message", message_id = %message_id, receive_count);
        let result = handle_message_in(&body, deps, &mut throttles)
            .instrument(span.clone())
            .await;
        let failed = async {
            match result {
                Ok(outcome) => {
                    tracing::info!(outcome = ?outcome, "message done");
                    false
                }
                Err(error) => {
                    let last_receive = receive_count >= deps.settings.max_receive_count;
                    let failed = on_failure(
                        &error,
                        &body,
                        record.receipt_handle.as_deref(),
                        last_receive,
                        deps,
                    )
                    .await;
                    if failed && receive_count >= deps.settings.max_receive_count {
                        record_dead_letter(&message_id, &body, &error, receive_count, deps).await;
                    }
                    failed
                }
            }
        }
        .instrument(span)
        .await;
        if failed {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Logs a failure and does what it asks for; true when the message must be reported failed.
async fn on_failure<S, T, G, Q, H>(
    error: &WorkerError,
    body: &str,
    receipt_handle: Option<&str>,
    last_receive: bool,
    deps: &WorkerDeps<S, T, G, Q, H>,
) -> bool
where
    S: SyncStore,
    Q: MessageDelay,
{
    match error {
        WorkerError::Retry { after, .. } => {
            tracing::warn!(error = %error, "message will be retried");
            match after {
                Some(after) => {
                    throttle::hand_wait_to_queue(
                        &deps.queue,
                        body,
                        receipt_handle,
                        last_receive,
                        *after,
                    )
                    .await
                }
                None => true,
            }
        }
        WorkerError::Reject { .. } => {
            tracing::error!(error = %error, "message rejected");
            true
        }
        WorkerError::Binding { binding_id, reason } => {
            let opened =
                breaker::record_failure(&deps.sync, binding_id, reason, &deps.settings).await;
            if opened {
                tracing::error!(error = %error, "binding keeps failing: circuit breaker open; message acknowledged");
                false
            } else {
                tracing::warn!(error = %error, "binding-level failure; will be retried");
                true
            }
        }
    }
}

async fn record_dead_letter<S, T, G, Q, H>(
    message_id: &str,
    body: &str,
    error: &WorkerError,
    receive_count: u32,
    deps: &WorkerDeps<S, T, G, Q, H>,
) where
    S: SyncStore,
{
    let kind = queue_message::decode(body)
        .map(|h| h.kind().to_owned())
        .unwrap_or_else(|_| "undecodable".to_owned());
    let record = DeadLetterReason {
        message_id: message_id.to_owned(),
        kind,
        reason: error.to_string(),
        receive_count,
        at: Utc::now(),
    };
    if let Err(e) = deps.sync.record_dead_letter(&record).await {
        tracing::warn!(error = %e, "could not record the dead-letter reason");
    }
}

/// Handles one message body: decode → binding → breaker → engine → what the queue should do.
/// Public so the local run and tests can drive single messages.
pub async fn handle_message<S, T, G, Q, H>(
    body: &str,
    deps: &WorkerDeps<S, T, G, Q, H>,
) -> Result<MessageOutcome, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: OpenRemote,
    Q: MessageDelay,
    H: SubscriptionHints,
{
    handle_message_in(body, deps, &mut throttle::BindingThrottles::default()).await
}

/// [`handle_message`] within a batch, whose throttled bindings are not called again.
async fn handle_message_in<S, T, G, Q, H>(
    body: &str,
    deps: &WorkerDeps<S, T, G, Q, H>,
    throttles: &mut throttle::BindingThrottles,
) -> Result<MessageOutcome, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: OpenRemote,
    Q: MessageDelay,
    H: SubscriptionHints,
{
    let hint = queue_message::decode(body).map_err(|e| WorkerError::Reject {
        reason: format!("undecodable message: {e}"),
    })?;
    let (binding, work) = match hint {
        Hint::RemoteTodoTask {
            binding_id,
            task_id,
        } => (
            remote_binding(deps, &binding_id, RemoteKind::Todo).await?,
            Work::Pair(PairKey::Remote(task_id)),
        ),
        Hint::RemotePlannerTask {
            binding_id,
            task_id,
        } => (
            remote_binding(deps, &binding_id, RemoteKind::Planner).await?,
            Work::Pair(PairKey::Remote(task_id)),
        ),
        Hint::LocalTask { list_id, task_id } => (
            binding_of_local(deps, &list_id, &task_id).await?,
            Work::Pair(PairKey::Local(task_id)),
        ),
        Hint::ResyncBinding { binding_id, reason } => {
            tracing::info!(%binding_id, %reason, "resync");
            (usable_binding(deps, &binding_id).await?, Work::Resync)
        }
        Hint::ReauthorizeSubscription {
            binding_id,
            subscription_id,
        } => {
            return deps
                .subscription_hints
                .reauthorize_subscription(&binding_id, &subscription_id)
                .await;
        }
        Hint::RecreateSubscription {
            binding_id,
            subscription_id,
        } => {
            return deps
                .subscription_hints
                .recreate_subscription(&binding_id, &subscription_id)
                .await;
        }
    };
    let binding = match binding {
        Found::Binding(b) => b,
        Found::Unknown(binding_id) => return Ok(MessageOutcome::UnknownBinding { binding_id }),
        Found::Unbound => return Ok(MessageOutcome::Unchanged),
    };
    if binding.paused_at.is_some() {
        // Paused by an operator: acknowledged, and remembered for `tasksync bindings resume`.
        tracing::info!(binding_id = %binding.id, "binding paused: hint acknowledged");
        if let Err(e) = deps
            .sync
            .note_hint_while_paused(&binding.id, Utc::now())
            .await
        {
            tracing::warn!(binding_id = %binding.id, error = %e, "could not note the hint on the paused binding");
        }
        return Ok(MessageOutcome::Unchanged);
    }
    if let Some(open) = breaker::open_reason(&binding) {
        return Ok(open);
    }
    if let Some(left) = throttles.remaining(&binding.id) {
        return Err(WorkerError::Retry {
            reason: format!(
                "binding {} is throttled by Graph: deferred without calling it",
                binding.id
            ),
            after: Some(left),
        });
    }
    // A binding whose first sync has not completed is resynced whole, with cold-start matching,
    // rather than pair by pair: a single pair's sync would copy a task that exists on both
    // sides already (docs/bindings.md).
    let work = match work {
        Work::Pair(_) if binding.first_sync_pending => Work::Resync,
        work => work,
    };
    let engine = deps.engine();
    let result = match &work {
        Work::Pair(key) => engine
            .sync_pair(&binding, key)
            .await
            .map(|done| match done {
                Executed::Nothing => MessageOutcome::Unchanged,
                done => MessageOutcome::Synced(done),
            }),
        Work::Resync => engine.resync(&binding).await.map(MessageOutcome::Resynced),
    }
    .map_err(|failure| WorkerError::of_binding(&binding, failure));
    if let Err(WorkerError::Retry {
        after: Some(after), ..
    }) = &result
    {
        throttles.note(&binding.id, *after);
    }
    if binding.first_sync_pending
        && matches!(result, Ok(MessageOutcome::Resynced(_)))
        && let Err(e) = deps.sync.complete_first_sync(&binding.id, Utc::now()).await
    {
        tracing::warn!(binding_id = %binding.id, error = %e, "could not record the first sync");
    }
    breaker::settle(&deps.sync, &binding, &result).await;
    result
}

/// What a message asks of its binding.
enum Work {
    Pair(PairKey),
    Resync,
}

/// The binding a hint names, as found.
enum Found {
    Binding(Binding),
    /// Removed by an operator: the hint is acknowledged.
    Unknown(String),
    /// A local task of a list no binding syncs.
    Unbound,
}

async fn usable_binding<S, T, G, Q, H>(
    deps: &WorkerDeps<S, T, G, Q, H>,
    binding_id: &str,
) -> Result<Found, WorkerError>
where
    S: SyncStore,
{
    match deps.sync.find_binding(binding_id).await? {
        Some(b) => Ok(Found::Binding(b)),
        None => {
            tracing::warn!(
                binding_id,
                "hint for a binding that no longer exists: acknowledged"
            );
            Ok(Found::Unknown(binding_id.to_owned()))
        }
    }
}

/// The binding of a remote hint, which must be of the kind the hint names.
async fn remote_binding<S, T, G, Q, H>(
    deps: &WorkerDeps<S, T, G, Q, H>,
    binding_id: &str,
    kind: RemoteKind,
) -> Result<Found, WorkerError>
where
    S: SyncStore,
{
    let found = usable_binding(deps, binding_id).await?;
    if let Found::Binding(b) = &found
        && b.remote != kind
    {
        return Err(WorkerError::Reject {
            reason: format!(
                "binding {binding_id:?} is a {:?} binding, the hint names a {kind:?} task",
                b.remote
            ),
        });
    }
    Ok(found)
}

/// A local change names only its list: the mapping names the binding; a task never synced yet
/// belongs to its list's binding.
async fn binding_of_local<S, T, G, Q, H>(
    deps: &WorkerDeps<S, T, G, Q, H>,
    list_id: &str,
    task_id: &str,
) -> Result<Found, WorkerError>
where
    S: SyncStore,
{
    if let Some(m) = deps.sync.mapping_by_local(list_id, task_id).await?
        && let Some(b) = deps.sync.find_binding(&m.binding_id).await?
    {
        return Ok(Found::Binding(b));
    }
    let mut bindings = deps.sync.bindings_of_list(list_id).await?;
    if bindings.len() > 1 {
        tracing::warn!(
            list_id,
            "several bindings share this local list; the first (by id) syncs it"
        );
    }
    if bindings.is_empty() {
        return Ok(Found::Unbound);
    }
    Ok(Found::Binding(bindings.swap_remove(0)))
}
