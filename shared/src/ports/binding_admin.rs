//! Ports of the operator's binding commands (`tasksync bindings …`): creating a binding without
//! overwriting one, the flags the commands and the worker set on it, and finding and deleting
//! what a removed binding leaves in the sync table. Each is a single conditional or keyed write,
//! so no command overwrites an edit another one made meanwhile.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::model::Binding;

/// Writes a new binding; `ConditionFailed` when a binding of that id exists already.
pub trait BindingCreate: Send + Sync {
    fn create_binding(
        &self,
        binding: &Binding,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The binding's operator flags, each set on its own (UpdateItem), leaving the other attributes
/// alone. Each returns `false` when the binding does not exist.
pub trait BindingFlags: Send + Sync {
    /// `Some(at)` pauses (and forgets earlier hints noted while paused), `None` resumes (and
    /// forgets them too: the resume's resync catches up).
    fn set_binding_paused(
        &self,
        binding_id: &str,
        paused_at: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// A hint arrived while the binding was paused.
    fn note_hint_while_paused(
        &self,
        binding_id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The first sync completed: cold-start matching ends.
    fn complete_first_sync(
        &self,
        binding_id: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The primary key of one sync-table item, and its item type (`sk`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SyncItemKey {
    pub pk: String,
    pub sk: String,
}

/// What a binding leaves in the sync table beside its own item: every item whose `binding_id`
/// names it (both mapping items of each pair, the schedule, the subscription records, sync
/// issues, dead-letter reasons and any record added later with that attribute).
pub trait BindingLeftovers: Send + Sync {
    /// Every such item (a full read of the table: an operator's command, not a hot path).
    fn items_of_binding(
        &self,
        binding_id: &str,
    ) -> impl Future<Output = Result<Vec<SyncItemKey>, StoreError>> + Send;

    /// Deletes one item; an absent one is fine.
    fn delete_sync_item(
        &self,
        key: &SyncItemKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the binding item itself; an absent one is fine.
    fn delete_binding(
        &self,
        binding_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
