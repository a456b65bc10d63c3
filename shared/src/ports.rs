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

// ---- The sync engine's ports (issue 4) ----

/// Writes a task item only if it is still at the version the caller read (`None`: only if it
/// does not exist), so the sync never overwrites an application's concurrent write.
/// `ConditionFailed` when someone else wrote first.
pub trait TaskWriteIfVersion: Send + Sync {
    fn put_task_if_version(
        &self,
        task: &LocalTask,
        expected_version: Option<u64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One item of a listing that could not be read as a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTaskItem {
    pub list_id: String,
    pub task_id: String,
    pub reason: String,
}

/// Lists every item of one local list (for a resync). Items that break the contract come back
/// as `Err` with their reason, beside the valid ones.
pub trait TaskList: Send + Sync {
    fn list_tasks(
        &self,
        list_id: &str,
    ) -> impl Future<Output = Result<Vec<Result<LocalTask, InvalidTaskItem>>, StoreError>> + Send;
}

/// The bindings of a local list (a local change names only its list).
pub trait BindingsOfList: Send + Sync {
    fn bindings_of_list(
        &self,
        local_list_id: &str,
    ) -> impl Future<Output = Result<Vec<Binding>, StoreError>> + Send;
}

/// The mapping items (docs/aws-resources.md, sync table). Both lookups are strongly consistent.
pub trait MappingStore: Send + Sync {
    fn mapping_by_local(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<Option<crate::sync::Mapping>, StoreError>> + Send;

    fn mapping_by_remote(
        &self,
        kind: crate::model::RemoteKind,
        remote_id: &str,
    ) -> impl Future<Output = Result<Option<crate::sync::Mapping>, StoreError>> + Send;

    /// Writes `mapping` (both items when it has a remote id, in one transaction) if the stored
    /// revision is still `expected_revision` (`None`: if there is none yet). The written
    /// revision is `expected_revision + 1` (or 1), returned. `replaced_remote_id`: the remote id
    /// the pair had before (a re-created remote task), whose by-remote item is deleted in the
    /// same transaction. `ConditionFailed` when another worker wrote first.
    fn save_mapping(
        &self,
        mapping: &crate::sync::Mapping,
        expected_revision: Option<u64>,
        replaced_remote_id: Option<&str>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// What the worker records beside the sync for operators (the CLI and the logs): why an item is
/// not synced, why a message died, a binding's circuit breaker.
pub trait SyncRecords: Send + Sync {
    /// A local item breaks the contract (or the remote side refused it): not synced, with why.
    fn record_sync_issue(
        &self,
        issue: &crate::sync::SyncIssue,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The item syncs again: forget its issue (absent is fine).
    fn clear_sync_issue(
        &self,
        list_id: &str,
        task_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The last failure reason of a message that is about to be moved to the DLQ.
    fn record_dead_letter(
        &self,
        record: &crate::sync::DeadLetterReason,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets (or with `None` clears) the binding's circuit breaker, leaving its other attributes
    /// alone. A binding that no longer exists is left absent.
    fn set_binding_breaker(
        &self,
        binding_id: &str,
        breaker: Option<&crate::model::CircuitBreaker>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Delays a received message (SQS `ChangeMessageVisibility`), so a throttled message comes back
/// after Graph's `Retry-After` instead of the worker sleeping.
pub trait MessageDelay: Send + Sync {
    fn delay_message(
        &self,
        receipt_handle: &str,
        secs: u32,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}
