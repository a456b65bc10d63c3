//! Applies a [`Plan`]: the only part of the engine that writes. Each step is ordered so that a
//! crash between two writes leaves a state the next reconcile finishes without a duplicate or a
//! lost edit (docs/sync-engine.md, "Crash points"):
//!
//! - create: claim the mapping (conditional put, state `creating`), create the remote task, and
//!   record the mapping. To Do's create carries the marker, so a crash after it is found by the
//!   marker. Planner's POST cannot carry it (it lives in the task details), so its id is
//!   recorded on the claim before the details write that marks it: a failure or a crash after
//!   the POST resumes that task (`Merge::mark`) instead of creating a second one. A POST whose
//!   answer was lost leaves an unrecorded, unmarked task: the retry adopts it as an orphan
//!   (`sync::orphans`, docs/sync-engine.md "Crash points and races") and deletes any others.
//! - merge: patch the remote task (If-Match on Planner), write the local item (conditional on
//!   the version read), record the mapping (conditional on the revision read). A crash in
//!   between leaves sides that already agree with the merged values, which reconcile to a
//!   mapping write only.

mod create;
mod delete;
mod merge;
mod records;

use create::{create_local, create_remote};
use delete::{delete_local, delete_remote, forget};
use merge::apply_merge;
use records::record_invalid;

use super::failure::SyncFailure;
use super::mapping::Conflict;
use super::pair::Pair;
use super::plan::{Plan, SkipReason};
use super::scope::Scope;
use crate::ports::{MappingStore, SyncRecords, TaskWriteIfVersion};

/// What the executor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    Nothing,
    Skipped {
        why: SkipReason,
    },
    RecordedInvalid {
        reason: String,
    },
    /// Graph refused the task (400, quota 403): recorded on the pair, the rest goes on.
    Refused {
        reason: String,
    },
    CreatedRemote {
        remote_id: String,
    },
    CreatedLocal {
        local_id: String,
    },
    Merged {
        wrote_local: bool,
        patched_remote: bool,
        conflicts: Vec<Conflict>,
    },
    DeletedLocal,
    DeletedRemote,
    Forgot,
}

/// Applies `plan` to `pair`.
pub(crate) async fn execute<S, T>(
    scope: &Scope<'_, S, T>,
    pair: &Pair,
    plan: &Plan,
) -> Result<Executed, SyncFailure>
where
    S: MappingStore + SyncRecords,
    T: TaskWriteIfVersion,
{
    match plan {
        Plan::Nothing { .. } => Ok(Executed::Nothing),
        Plan::Skip { why } => {
            if *why == SkipReason::LeftForItsCreate
                && let Some(remote) = &pair.remote
            {
                tracing::warn!(
                    binding_id = %scope.binding.id,
                    remote_id = %remote.id,
                    "unmarked task created by this application: not imported, left for its create's retry to adopt"
                );
            }
            Ok(Executed::Skipped { why: *why })
        }
        Plan::RecordInvalid { reason } => record_invalid(scope, pair, reason).await,
        Plan::CreateRemote { fields } => create_remote(scope, pair, fields).await,
        Plan::CreateLocal { fields } => create_local(scope, pair, fields).await,
        Plan::Merge(merge) => apply_merge(scope, pair, merge).await,
        Plan::DeleteLocal => delete_local(scope, pair).await,
        Plan::DeleteRemote => delete_remote(scope, pair).await,
        Plan::Forget => forget(scope, pair).await,
    }
}
