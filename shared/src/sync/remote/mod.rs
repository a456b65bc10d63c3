//! The remote side of the engine, one per container kind: the binding's kind is dispatched once,
//! by [`OpenRemote::open`], to a [`RemoteSide`] bound to its container (a user's To Do list, a
//! Planner plan), which the engine then calls with task ids and ETags only. Each kind lives in a
//! file of its own with its field mapping and its Graph calls; a new kind is a new file and one
//! arm in `open`.
//!
//! Reads return [`RemoteTask`]s; writes take side-canonical field values (what
//! `SideRules::canon` produced). Failures come back classified ([`SyncFailure`]): each side knows
//! which of its calls concern the container itself, so a 404 there is the binding's, not the
//! task's. docs/sync-engine.md tabulates the field mapping.

mod planner;
mod planner_fields;
mod todo;
mod todo_checklist;
mod todo_fields;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::failure::SyncFailure;
use super::fields::{Field, FieldMap, SideRules, progress_parts};
use crate::graph::GraphClient;
use crate::model::{Binding, RemoteKind, TaskStatus};

pub use planner::PlannerPlan;
pub use planner_fields::{planner_details_patch, planner_remote, planner_task_patch};
pub use todo::TodoList;
pub use todo_checklist::{TodoChecklistOp, todo_checklist_of, todo_checklist_ops};
pub use todo_fields::{todo_new_task, todo_patch, todo_remote};

/// A remote task as the engine sees it: normalised fields (only those its kind represents),
/// ETags, and the marker of the local task it was created for, if tasksync created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteTask {
    pub id: String,
    pub fields: FieldMap,
    pub task_etag: Option<String>,
    pub details_etag: Option<String>,
    /// To Do's `lastModifiedDateTime`; Planner has none.
    pub last_modified: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The local id in the creation marker.
    pub marker: Option<String>,
    /// When the remote side says it was created (Planner's `createdDateTime`,
    /// docs/graph-behaviour.md §2.1).
    pub created_at: Option<DateTime<Utc>>,
    /// Created by this application (Planner's `createdBy.application.id` is our client id).
    /// Unmarked, such a task can only be a create of ours whose answer or record was lost
    /// (docs/sync-engine.md, "Crash points and races"): it is left for that create to adopt.
    pub created_by_this_app: bool,
}

impl RemoteTask {
    pub(crate) fn is_completed(&self) -> bool {
        self.fields
            .get(&Field::Progress)
            .is_some_and(|p| progress_parts(p).0 == TaskStatus::Completed)
    }
}

/// What earlier attempts of a create left in the container, for a retry whose claim holds no
/// remote id (see [`RemoteSide::find_earlier_create`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EarlierCreate {
    pub marked: Option<RemoteTask>,
    /// Unmarked tasks this application created (only looked for when nothing is marked).
    pub unmarked_own: Vec<RemoteTask>,
}

/// The future of a remote call. Boxed so that a side can be chosen at run time (`dyn
/// RemoteSide`); one allocation per call is nothing beside the HTTP request it makes.
pub type RemoteCall<'a, T> = Pin<Box<dyn Future<Output = Result<T, SyncFailure>> + Send + 'a>>;

/// One binding's container on the remote side.
pub trait RemoteSide: Send + Sync {
    /// The task now; `Ok(None)` when it is gone (404) or no longer in this container.
    fn get<'a>(&'a self, remote_id: &'a str) -> RemoteCall<'a, Option<RemoteTask>>;

    /// Every task of the container (for a resync); a 404 is the container gone.
    fn list(&self) -> RemoteCall<'_, Vec<RemoteTask>>;

    /// What earlier attempts of the create of `local_id` left: the task with its marker, or else
    /// the unmarked tasks this application created (Planner: a POST whose answer was lost leaves
    /// one, docs/sync-engine.md "Crash points and races").
    fn find_earlier_create<'a>(&'a self, local_id: &'a str) -> RemoteCall<'a, EarlierCreate>;

    /// Creates a task for `local_id` with side-canonical `fields`, in as few requests as the
    /// side allows. To Do takes the marker in the create itself (one POST,
    /// docs/graph-behaviour.md §3.1), so the task comes back marked and complete. Planner takes
    /// it only in the task details, a resource of its own (§2.4): the task comes back from its
    /// POST **unmarked**, and the caller records its id before
    /// [`RemoteSide::complete_create`] writes the rest, so that a failure or a crash in between
    /// resumes this task instead of creating a second one.
    fn create<'a>(&'a self, local_id: &'a str, fields: &'a FieldMap) -> RemoteCall<'a, RemoteTask>;

    /// Finishes a task that `create` returned unmarked (or that a create left unmarked before a
    /// failure): sends `patch` (diffed against `current` as [`RemoteSide::patch`] does) together
    /// with the marker of `local_id`, and returns the task with its final ETags.
    fn complete_create<'a>(
        &'a self,
        local_id: &'a str,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask>;

    /// Sends `patch` (side-canonical values); `current` supplies the ETags and the values the
    /// open types are diffed against. `Stale` on a stale ETag or a task that vanished.
    fn patch<'a>(
        &'a self,
        current: &'a RemoteTask,
        patch: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask>;

    /// Deletes the task; one already gone counts as done.
    fn delete<'a>(&'a self, current: &'a RemoteTask) -> RemoteCall<'a, ()>;
}

/// Binds the remote side of a binding to its container.
pub trait OpenRemote: Send + Sync {
    fn open<'a>(&'a self, binding: &Binding, rules: &SideRules) -> Box<dyn RemoteSide + 'a>;
}

impl OpenRemote for GraphClient {
    fn open<'a>(&'a self, binding: &Binding, rules: &SideRules) -> Box<dyn RemoteSide + 'a> {
        match binding.remote {
            RemoteKind::Todo => Box::new(TodoList::new(self, binding, rules.clone())),
            RemoteKind::Planner => Box::new(PlannerPlan::new(self, binding, rules.clone())),
        }
    }
}
