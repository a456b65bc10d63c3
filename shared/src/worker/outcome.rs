//! What happened to one message, and the ways it can fail, split by what SQS should do with it.

use std::time::Duration;

/// The result of a message that succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Both sides already agree: nothing was written.
    Unchanged,
    /// The local task was created or updated from the remote one.
    WroteLocal { list_id: String, task_id: String },
    /// The remote task is gone; the local one was soft-deleted.
    DeletedLocal { list_id: String, task_id: String },
    /// A hint kind that this build acknowledges without acting on yet.
    NotYetHandled { kind: &'static str },
}

/// Why a message failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Worth retrying later (throttling, a transient store or Graph failure). `after` is Graph's
    /// `Retry-After` when it gave one.
    #[error("retry later{}: {reason}", after.map(|d| format!(" (after {}s)", d.as_secs())).unwrap_or_default())]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Will never succeed as it stands (undecodable body, unknown binding, a Graph 400/403): it
    /// goes to the DLQ with this reason once its receives are used up.
    #[error("rejected: {reason}")]
    Reject { reason: String },
}

impl From<crate::ports::StoreError> for WorkerError {
    fn from(e: crate::ports::StoreError) -> Self {
        use crate::ports::StoreError;
        match e {
            StoreError::Transient(_) | StoreError::ConditionFailed(_) => WorkerError::Retry {
                reason: e.to_string(),
                after: None,
            },
            StoreError::InvalidItem(_) | StoreError::Config(_) => WorkerError::Reject {
                reason: e.to_string(),
            },
        }
    }
}

impl From<crate::graph::GraphError> for WorkerError {
    fn from(e: crate::graph::GraphError) -> Self {
        use crate::graph::GraphError;
        match e {
            GraphError::Throttled { retry_after } => WorkerError::Retry {
                reason: e.to_string(),
                after: Some(retry_after),
            },
            GraphError::Transient(_) | GraphError::Conflict { .. } => WorkerError::Retry {
                reason: e.to_string(),
                after: None,
            },
            _ => WorkerError::Reject {
                reason: e.to_string(),
            },
        }
    }
}
