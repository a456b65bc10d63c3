//! The worker function's handler: consumes SQS batches of hints and reconciles the pairs they
//! name (docs/sync-engine.md).
//!
//! Each message is processed in isolation and its failure is reported as a partial batch failure,
//! so one bad message never costs the others (the body is parsed per record rather than through
//! `SqsEventObj<T>`, where one bad body would fail the whole batch). A throttled message gets its
//! visibility set to Graph's `Retry-After` instead of the worker sleeping; a binding that keeps
//! failing opens its circuit breaker; a message on its last receive leaves its failure reason in
//! the sync table beside the DLQ copy.

mod breaker;
mod control;
mod deadline;
mod delay;
pub mod metrics;
mod outcome;
mod pair;
mod resync;

use std::time::Duration;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use chrono::Utc;
use tracing::Instrument;

use crate::model::{Binding, RemoteKind};
use crate::ports::{
    BindingLookup, BindingsOfList, MappingStore, MessageDelay, SyncRecords, TaskList, TaskRead,
    TaskWriteIfVersion,
};
use crate::queue_message::{self, Hint};
use crate::sync::mass_deletion::MassDeletionGuard;
use crate::sync::{DeadLetterReason, RemoteTasks};

pub use control::{ControlHints, NoControl};
pub use deadline::{SAFETY_MARGIN, invocation_deadline};
pub use outcome::{MessageOutcome, ResyncReport, WorkerError};
pub use pair::{PairKey, dry_run};

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
    /// How long a `creating` claim of another worker is trusted before its create is redone.
    pub claim_patience: Duration,
    /// Re-read and re-merge rounds after a 412/409 or a lost conditional write.
    pub max_merge_rounds: u32,
    /// A resync holds back deletions this guard blocks (the same rule as the scheduler's sweep).
    pub deletion_guard: MassDeletionGuard,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            max_receive_count: 5,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(15 * 60),
            claim_patience: Duration::from_secs(60),
            max_merge_rounds: 3,
            deletion_guard: MassDeletionGuard::default(),
        }
    }
}

/// What the worker needs, each as a narrow port: `sync` (bindings, mappings, records), `tasks`
/// (the tasks table), `graph` (the remote side), `queue` (to delay a throttled message),
/// `control` (the subscription hints, the scheduler's code; without it they are acknowledged
/// with a log).
pub struct WorkerDeps<S, T, G, Q, C = NoControl> {
    pub sync: S,
    pub tasks: T,
    pub graph: G,
    pub queue: Q,
    pub control: C,
    pub settings: WorkerSettings,
}

impl<S, T, G, Q> WorkerDeps<S, T, G, Q, NoControl> {
    /// Dependencies with the default settings and no subscription handling.
    pub fn new(sync: S, tasks: T, graph: G, queue: Q) -> Self {
        Self {
            sync,
            tasks,
            graph,
            queue,
            control: NoControl,
            settings: WorkerSettings::default(),
        }
    }
}

impl<S, T, G, Q, C> WorkerDeps<S, T, G, Q, C> {
    /// The same dependencies handing the subscription hints to `control` (e.g. the scheduler's
    /// `SchedulerDeps`).
    pub fn with_control<C2: ControlHints>(self, control: C2) -> WorkerDeps<S, T, G, Q, C2> {
        WorkerDeps {
            sync: self.sync,
            tasks: self.tasks,
            graph: self.graph,
            queue: self.queue,
            control,
            settings: self.settings,
        }
    }
}

/// The bounds every handler entry point shares.
pub trait SyncStore: BindingLookup + BindingsOfList + MappingStore + SyncRecords {}
impl<X: BindingLookup + BindingsOfList + MappingStore + SyncRecords> SyncStore for X {}

/// The tasks-table capabilities the worker uses.
pub trait TaskStore: TaskRead + TaskWriteIfVersion + TaskList {}
impl<X: TaskRead + TaskWriteIfVersion + TaskList> TaskStore for X {}

/// Handles one SQS batch; the response lists the messages that failed (to be retried, and
/// redriven to the DLQ once they exceed the queue's receive limit).
pub async fn handle_batch<S, T, G, Q, C>(
    event: SqsEvent,
    deps: &WorkerDeps<S, T, G, Q, C>,
) -> SqsBatchResponse
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
    Q: MessageDelay,
    C: ControlHints,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let body = record.body.clone().unwrap_or_default();
        let receive_count: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let span = tracing::info_span!("message", message_id = %message_id, receive_count);
        let result = handle_message(&body, deps).instrument(span.clone()).await;
        let failed = async {
            match result {
                Ok(outcome) => {
                    tracing::info!(outcome = ?outcome, "message done");
                    false
                }
                Err(error) => {
                    let failed = on_failure(&error, record.receipt_handle.as_deref(), deps).await;
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
async fn on_failure<S, T, G, Q, C>(
    error: &WorkerError,
    receipt_handle: Option<&str>,
    deps: &WorkerDeps<S, T, G, Q, C>,
) -> bool
where
    S: SyncStore,
    Q: MessageDelay,
{
    match error {
        WorkerError::Retry { after, .. } => {
            tracing::warn!(error = %error, "message will be retried");
            if let (Some(after), Some(handle)) = (after, receipt_handle) {
                let secs = u32::try_from(after.as_secs().max(1)).unwrap_or(u32::MAX);
                if let Err(e) = deps.queue.delay_message(handle, secs).await {
                    tracing::warn!(error = %e, "could not delay the throttled message");
                }
            }
            true
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

async fn record_dead_letter<S, T, G, Q, C>(
    message_id: &str,
    body: &str,
    error: &WorkerError,
    receive_count: u32,
    deps: &WorkerDeps<S, T, G, Q, C>,
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

/// Handles one message body. Public so the local run and tests can drive single messages.
pub async fn handle_message<S, T, G, Q, C>(
    body: &str,
    deps: &WorkerDeps<S, T, G, Q, C>,
) -> Result<MessageOutcome, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
    Q: MessageDelay,
    C: ControlHints,
{
    let hint = queue_message::decode(body).map_err(|e| WorkerError::Reject {
        reason: format!("undecodable message: {e}"),
    })?;
    match hint {
        Hint::RemoteTodoTask {
            binding_id,
            task_id,
        } => remote_hint(deps, &binding_id, RemoteKind::Todo, task_id).await,
        Hint::RemotePlannerTask {
            binding_id,
            task_id,
        } => remote_hint(deps, &binding_id, RemoteKind::Planner, task_id).await,
        Hint::LocalTask { list_id, task_id } => local_hint(deps, &list_id, task_id).await,
        Hint::ResyncBinding { binding_id, reason } => {
            let Some(binding) = usable_binding(deps, &binding_id).await? else {
                return Ok(MessageOutcome::UnknownBinding { binding_id });
            };
            if let Some(open) = breaker::open_reason(&binding) {
                return Ok(open);
            }
            tracing::info!(binding_id = %binding.id, reason = %reason, "resync");
            let result = resync::resync(deps, &binding).await;
            breaker::settle(&deps.sync, &binding, &result).await;
            result.map(MessageOutcome::Resynced)
        }
        // Subscriptions are the scheduler's (issue 6).
        Hint::ReauthorizeSubscription {
            binding_id,
            subscription_id,
        } => {
            deps.control
                .reauthorize_subscription(&binding_id, &subscription_id)
                .await
        }
        Hint::RecreateSubscription {
            binding_id,
            subscription_id,
        } => {
            deps.control
                .recreate_subscription(&binding_id, &subscription_id)
                .await
        }
    }
}

async fn usable_binding<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding_id: &str,
) -> Result<Option<Binding>, WorkerError>
where
    S: SyncStore,
{
    let binding = deps.sync.find_binding(binding_id).await?;
    if binding.is_none() {
        tracing::warn!(
            binding_id,
            "hint for a binding that no longer exists: acknowledged"
        );
    }
    Ok(binding)
}

async fn remote_hint<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    binding_id: &str,
    kind: RemoteKind,
    task_id: String,
) -> Result<MessageOutcome, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
{
    let Some(binding) = usable_binding(deps, binding_id).await? else {
        return Ok(MessageOutcome::UnknownBinding {
            binding_id: binding_id.to_owned(),
        });
    };
    if binding.remote != kind {
        return Err(WorkerError::Reject {
            reason: format!(
                "binding {binding_id:?} is a {:?} binding, the hint names a {kind:?} task",
                binding.remote
            ),
        });
    }
    if let Some(open) = breaker::open_reason(&binding) {
        return Ok(open);
    }
    let result = pair::sync_pair(deps, &binding, PairKey::Remote(task_id)).await;
    breaker::settle(&deps.sync, &binding, &result).await;
    result
}

async fn local_hint<S, T, G, Q, C>(
    deps: &WorkerDeps<S, T, G, Q, C>,
    list_id: &str,
    task_id: String,
) -> Result<MessageOutcome, WorkerError>
where
    S: SyncStore,
    T: TaskStore,
    G: RemoteTasks,
{
    // The mapping names the binding; a task never synced yet belongs to its list's binding.
    let binding = match deps.sync.mapping_by_local(list_id, &task_id).await {
        Ok(Some(m)) => deps.sync.find_binding(&m.binding_id).await?,
        Ok(None) => None,
        Err(e) => return Err(e.into()),
    };
    let binding = match binding {
        Some(b) => b,
        None => {
            let mut bindings = deps.sync.bindings_of_list(list_id).await?;
            if bindings.len() > 1 {
                tracing::warn!(
                    list_id,
                    "several bindings share this local list; the first (by id) syncs it"
                );
            }
            if bindings.is_empty() {
                return Ok(MessageOutcome::Unchanged);
            }
            bindings.swap_remove(0)
        }
    };
    if let Some(open) = breaker::open_reason(&binding) {
        return Ok(open);
    }
    let result = pair::sync_pair(deps, &binding, PairKey::Local(task_id)).await;
    breaker::settle(&deps.sync, &binding, &result).await;
    result
}
