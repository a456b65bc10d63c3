//! Narrow traits (ports), each sized to one capability a handler needs. Adapters in `store`,
//! `queue` and `graph` implement them; in-memory adapters implement them too, for unit tests and
//! the local run, and pass the same adapter test suite as the real ones.
//!
//! Futures are declared `Send` so handlers can run them on the multi-threaded runtime.

use std::future::Future;

use crate::model::{Binding, LocalTask, RemoteTodoTask, SubscriptionRecord};
use crate::queue_message::Hint;

/// Why a store call failed, split by what the caller should do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttling, timeouts, 5xx: try again later (the message goes back to the queue).
    #[error("store temporarily unavailable: {0}")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A conditional write lost a race: re-read and decide again.
    #[error("conditional write failed: {0}")]
    ConditionFailed(String),
    /// An item in the store breaks its schema: give up on this item and record the reason.
    #[error("stored item is invalid: {0}")]
    InvalidItem(String),
    /// Missing table, access denied, wrong region: fix the configuration.
    #[error("store misconfigured: {0}")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Finds the subscription a change notification claims to come from.
pub trait SubscriptionLookup: Send + Sync {
    fn find_subscription(
        &self,
        subscription_id: &str,
    ) -> impl Future<Output = Result<Option<SubscriptionRecord>, StoreError>> + Send;
}

/// Records a subscription once Graph has created it.
pub trait SubscriptionSave: Send + Sync {
    fn save_subscription(
        &self,
        record: &SubscriptionRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Reads a binding by id.
pub trait BindingLookup: Send + Sync {
    fn find_binding(
        &self,
        binding_id: &str,
    ) -> impl Future<Output = Result<Option<Binding>, StoreError>> + Send;
}

/// Writes a binding.
pub trait BindingSave: Send + Sync {
    fn save_binding(
        &self,
        binding: &Binding,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Reads one task of the local task store (strongly consistent).
pub trait TaskRead: Send + Sync {
    fn get_task(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<LocalTask>, StoreError>> + Send;
}

/// Writes one task of the local task store.
pub trait TaskWrite: Send + Sync {
    fn put_task(&self, task: &LocalTask) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Why enqueueing failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Some or all messages were not accepted; the caller must not acknowledge its input.
    #[error("{failed} of {total} messages were not enqueued: {reason}")]
    NotEnqueued {
        failed: usize,
        total: usize,
        reason: String,
    },
    /// Network, throttling, 5xx.
    #[error("queue temporarily unavailable: {0}")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Missing queue, access denied: fix the configuration.
    #[error("queue misconfigured: {0}")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends hints to the work queue. Implementations batch by at most 10 (the SQS limit) and return
/// `Ok` only when every hint was accepted.
pub trait HintSend: Send + Sync {
    fn send_hints(&self, hints: &[Hint]) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Reads one To Do task from Graph; `Ok(None)` when Graph says it does not exist (404).
pub trait TodoTaskRead: Send + Sync {
    fn get_todo_task(
        &self,
        user_id: &str,
        list_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<RemoteTodoTask>, crate::graph::GraphError>> + Send;
}
