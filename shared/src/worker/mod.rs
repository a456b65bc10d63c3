//! The worker function's handler: consumes SQS batches of hints and brings the local task store
//! up to date with what Graph says now.
//!
//! Each message is processed in isolation and its failure is reported as a partial batch failure,
//! so one bad message never costs the others (the body is parsed per record rather than through
//! `SqsEventObj<T>`, where one bad body would fail the whole batch).
//!
//! This is the first slice of the worker (issue 2): remote To Do task → local task, with the
//! local id taken from the remote id. The mapping table and the two-way reconcile of issue 4
//! replace `remote_todo` without changing this module's shape.

mod deadline;
mod outcome;
mod remote_todo;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use tracing::Instrument;

use crate::ports::{BindingLookup, TaskRead, TaskWrite, TodoTaskRead};
use crate::queue_message::{self, Hint};

pub use deadline::{SAFETY_MARGIN, invocation_deadline};
pub use outcome::{MessageOutcome, WorkerError};

/// What the worker needs, each as a narrow port.
pub struct WorkerDeps<B, T, G> {
    pub bindings: B,
    pub tasks: T,
    pub graph: G,
}

/// Handles one SQS batch; the response lists the messages that failed (to be retried, and
/// redriven to the DLQ once they exceed the queue's receive limit).
pub async fn handle_batch<B, T, G>(event: SqsEvent, deps: &WorkerDeps<B, T, G>) -> SqsBatchResponse
where
    B: BindingLookup,
    T: TaskRead + TaskWrite,
    G: TodoTaskRead,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let span = tracing::info_span!("message", message_id = %message_id);
        let result = handle_message(&body, deps).instrument(span.clone()).await;
        let _guard = span.enter();
        match result {
            Ok(outcome) => tracing::info!(outcome = ?outcome, "message done"),
            Err(error) => {
                match &error {
                    WorkerError::Retry { .. } => {
                        tracing::warn!(error = %error, "message will be retried")
                    }
                    WorkerError::Reject { .. } => {
                        tracing::error!(error = %error, "message rejected")
                    }
                }
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// Handles one message body. Public so the local run and tests can drive single messages.
pub async fn handle_message<B, T, G>(
    body: &str,
    deps: &WorkerDeps<B, T, G>,
) -> Result<MessageOutcome, WorkerError>
where
    B: BindingLookup,
    T: TaskRead + TaskWrite,
    G: TodoTaskRead,
{
    let hint = queue_message::decode(body).map_err(|e| WorkerError::Reject {
        reason: format!("undecodable message: {e}"),
    })?;
    match hint {
        Hint::RemoteTodoTask {
            binding_id,
            task_id,
        } => remote_todo::sync_remote_todo_task(&binding_id, &task_id, deps).await,
        // Not handled until the reconcile engine (issue 4) and the scheduler (issue 6) land.
        // Acknowledged rather than failed, so that the sync's own local writes (which come back
        // through the stream as `local_task` hints) do not pile up in the DLQ.
        other => Ok(MessageOutcome::NotYetHandled { kind: other.kind() }),
    }
}
