//! What the decision produces: the [`Plan`] for one pair, which the executor applies and a dry
//! run prints.

use serde::Serialize;

use super::fields::FieldMap;
use super::mapping::Conflict;

/// Why a pair is deliberately not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Completed before it was ever synced, and the binding does not import completed tasks.
    CompletedBeforeFirstSync,
    /// The binding carries changes to the local side only.
    DirectionToLocalOnly,
    /// The binding carries changes to the remote side only.
    DirectionToRemoteOnly,
    /// An unmarked task this application created: the orphan of a create whose answer was
    /// lost. Importing it would give its local task a second remote copy; the retry of that
    /// create adopts it instead.
    LeftForItsCreate,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::CompletedBeforeFirstSync => {
                "completed before it was ever synced (the binding does not import completed tasks)"
            }
            SkipReason::DirectionToLocalOnly => "binding syncs to_local only",
            SkipReason::DirectionToRemoteOnly => "binding syncs to_remote only",
            SkipReason::LeftForItsCreate => {
                "an unmarked task this application created: the orphan of a create whose answer was lost, left for that create's retry to adopt"
            }
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// What must happen for the two sides to agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub enum Plan {
    /// Both sides agree (or the change is an echo of the sync's own write).
    Nothing { why: &'static str },
    /// Deliberately not synced (completed before the first import, the binding's direction).
    Skip { why: SkipReason },
    /// The local item breaks the contract: record why, sync nothing.
    RecordInvalid { reason: String },
    /// Create the remote task (claim first, marker, then record). `fields` are the local ones.
    CreateRemote { fields: FieldMap },
    /// Create the local item for a remote-born task; `fields` are local values.
    CreateLocal { fields: FieldMap },
    /// Bring both sides to the merged values.
    Merge(Merge),
    /// The remote task is gone and the local one was not changed since: soft-delete it.
    DeleteLocal,
    /// The local task is gone and the remote one was not changed since: delete it.
    DeleteRemote,
    /// Both sides are gone: mark the mapping deleted.
    Forget,
}

/// The writes of a merge. Empty parts are not written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merge {
    /// No active mapping yet: this merge records a new one (adoption of an existing pair).
    pub link: bool,
    /// The remote task is the one this pair's create made (its id is in the claim) but it has
    /// no marker yet: the create stopped between Planner's POST and its details write. The
    /// patch goes with the marker, which finishes the create (docs/sync-engine.md, "Crash
    /// points").
    pub mark: bool,
    /// The full merged local fields, when the local item must be written.
    pub local: Option<FieldMap>,
    /// The local item was deleted but the remote changed since: bring it back.
    pub undelete_local: bool,
    /// Side-canonical values to send to the remote task.
    pub remote_patch: FieldMap,
    /// The new base.
    pub base: FieldMap,
    pub conflicts: Vec<Conflict>,
}
