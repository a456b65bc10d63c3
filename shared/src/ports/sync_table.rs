//! Ports that reach the sync table: bindings, subscriptions, mappings, schedules and the
//! records kept for operators.

use std::future::Future;

use super::StoreError;
use crate::model::{Binding, SubscriptionRecord};

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
    /// Planner only: the task details' own ETag (docs/graph-behaviour.md §2.4).
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
/// not synced, why a message died, a binding's circuit breaker, and (through [`ConflictLog`](super::ConflictLog)) the
/// history of the conflicts it settled.
pub trait SyncRecords: super::ConflictLog + Send + Sync {
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
