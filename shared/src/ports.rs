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
// --- Scheduler (issue 6): see docs/scheduler.md -------------------------------------------------

/// Lists every binding (the scheduler enrolls each one it has no schedule for).
pub trait BindingList: Send + Sync {
    fn all_bindings(&self) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;
}

/// Removes a subscription record once Graph no longer has the subscription, so the webhook stops
/// accepting its notifications.
pub trait SubscriptionRemove: Send + Sync {
    fn remove_subscription(
        &self,
        subscription_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Each binding's scheduling state (`crate::scheduler::BindingSchedule`), written with
/// optimistic concurrency so two scheduler runs (or a run and a worker acting on a control
/// hint) can never both act on one binding.
pub trait ScheduleStore: Send + Sync {
    /// Strongly consistent read.
    fn get_schedule(
        &self,
        binding_id: &str,
    ) -> impl Future<Output = Result<Option<crate::scheduler::BindingSchedule>, StoreError>> + Send;

    /// Writes `schedule` if the stored revision still equals `schedule.revision` (0: the item must
    /// not exist yet) and returns the new revision; `ConditionFailed` when someone else wrote
    /// first.
    fn put_schedule(
        &self,
        schedule: &crate::scheduler::BindingSchedule,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the schedule if its revision still equals `revision`.
    fn delete_schedule(
        &self,
        binding_id: &str,
        revision: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Schedules whose due time (`gsi1sk`) is at or before `now`, oldest first, at most `limit`
    /// (one Query on gsi1; eventually consistent, the lease write re-checks).
    fn due_schedules(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<crate::scheduler::BindingSchedule>, StoreError>> + Send;

    /// The ids of every binding that has a schedule.
    fn scheduled_binding_ids(
        &self,
    ) -> impl Future<Output = Result<std::collections::HashSet<String>, StoreError>> + Send;
}

/// The ETags the mapping recorded for a remote task when it was last synced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MappedEtags {
    pub etag: Option<String>,
    /// Planner only: the task details' own ETag (graph-facts §2.4).
    pub details_etag: Option<String>,
}

/// The remote ETags of every task the mapping holds for one binding, by remote task id: what a
/// sweep compares the listing with, so only differing, new and vanished tasks become hints.
pub trait RemoteEtagIndex: Send + Sync {
    fn mapped_remote_etags(
        &self,
        binding_id: &str,
    ) -> impl Future<Output = Result<std::collections::HashMap<String, MappedEtags>, StoreError>> + Send;
}

