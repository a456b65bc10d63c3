//! What happened to one message, and the ways it can fail, split by what SQS should do with it.

use std::time::Duration;

use crate::sync::Executed;

/// The result of a message that succeeded (it is deleted from the queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Both sides already agree (or the change was the sync's own echo): nothing was written.
    Unchanged,
    /// One pair was reconciled; what was done.
    Synced(Executed),
    /// A whole binding was reconciled.
    Resynced(ResyncReport),
    /// The binding's circuit breaker is open: acknowledged and recorded, not processed.
    BreakerOpen { binding_id: String, reason: String },
    /// The binding no longer exists (removed by an operator): nothing to do.
    UnknownBinding { binding_id: String },
    /// A subscription hint handled by the scheduler's code: what it did.
    Subscription { binding_id: String, detail: String },
    /// A hint kind that this worker acknowledges without acting on (subscription hints when no
    /// scheduler dependencies were given).
    NotYetHandled { kind: &'static str },
}

/// What a resync did, pair by pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResyncReport {
    pub pairs: u32,
    pub changed: u32,
    pub unchanged: u32,
    pub failed: u32,
    /// Deletions held back by the mass-deletion guard (DESIGN.md principle 6).
    pub deletions_held: u32,
}

/// Why a message failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Worth retrying later (throttling, a transient store or Graph failure). `after` is Graph's
    /// `Retry-After` when it gave one: the message's visibility is set to it.
    #[error("retry later{}: {reason}", after.map(|d| format!(" (after {}s)", d.as_secs())).unwrap_or_default())]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Will never succeed as it stands (undecodable body, a Graph 400): it goes to the DLQ
    /// with this reason once its receives are used up.
    #[error("rejected: {reason}")]
    Reject { reason: String },
    /// The binding itself is broken (its container is gone, the app lost access): counts
    /// towards the binding's circuit breaker.
    #[error("binding {binding_id} failed: {reason}")]
    Binding { binding_id: String, reason: String },
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

impl From<crate::sync::ExecError> for WorkerError {
    fn from(e: crate::sync::ExecError) -> Self {
        use crate::sync::ExecError;
        match e {
            ExecError::Stale(reason) => WorkerError::Retry {
                reason: format!("kept losing races: {reason}"),
                after: None,
            },
            ExecError::Graph(g) => g.into(),
            ExecError::ContainerGone(reason) => WorkerError::Reject { reason },
            ExecError::Store(s) => s.into(),
        }
    }
}
