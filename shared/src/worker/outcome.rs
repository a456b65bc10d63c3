//! What happened to one message, and the ways it can fail, split by what SQS should do with it.
//! The engine classifies its failures ([`SyncFailure`]); the one conversion here says what each
//! class means for the message, and loses nothing: a binding failure always reaches the breaker.

use std::time::Duration;

use crate::model::Binding;
use crate::ports::StoreError;
use crate::sync::{Executed, ResyncReport, SyncFailure};

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

impl WorkerError {
    /// What a failure of the engine, met while handling `binding`, means for the message.
    pub fn of_binding(binding: &Binding, failure: SyncFailure) -> Self {
        Self::classified(failure, Some(&binding.id))
    }

    fn classified(failure: SyncFailure, binding_id: Option<&str>) -> Self {
        match failure {
            SyncFailure::Binding { reason } => match binding_id {
                Some(id) => WorkerError::Binding {
                    binding_id: id.to_owned(),
                    reason,
                },
                None => WorkerError::Reject { reason },
            },
            SyncFailure::Retry { reason, after } => WorkerError::Retry { reason, after },
            // The engine merges again itself; one that escapes is a race still moving.
            SyncFailure::Stale { reason } => WorkerError::Retry {
                reason: format!("kept losing races: {reason}"),
                after: None,
            },
            SyncFailure::Item { reason } | SyncFailure::Config { reason } => {
                WorkerError::Reject { reason }
            }
        }
    }
}

/// A store failure before any binding is known (reading the binding itself), classified as the
/// engine classifies it (a store failure is never the binding's).
impl From<StoreError> for WorkerError {
    fn from(e: StoreError) -> Self {
        Self::classified(SyncFailure::from(e), None)
    }
}
