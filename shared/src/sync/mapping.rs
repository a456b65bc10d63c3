//! The mapping record: what tasksync knows about one synced pair (docs/sync-engine.md, "The
//! mapping"). Two copies live in the sync table, one keyed by the local id and one by the remote
//! id, written together and conditional on the revision read (docs/architecture.md principle 5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::{Field, FieldMap};
use super::remote::RemoteTask;
use crate::model::RemoteKind;

/// Where a pair is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingState {
    /// Claimed before a remote create; `remote_id` is set once the create returned.
    Creating,
    Active,
    /// Both sides deleted (or one deleted and the deletion carried over): a tombstone.
    Deleted,
}

impl MappingState {
    pub fn as_str(self) -> &'static str {
        match self {
            MappingState::Creating => "creating",
            MappingState::Active => "active",
            MappingState::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "creating" => Some(MappingState::Creating),
            "active" => Some(MappingState::Active),
            "deleted" => Some(MappingState::Deleted),
            _ => None,
        }
    }
}

/// Which side a conflict was settled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Local,
    Remote,
}

/// A field both sides changed differently, with both values and the winner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: Field,
    pub local: serde_json::Value,
    pub remote: serde_json::Value,
    pub winner: Side,
    /// Why the winner won: `protected`, `remote_wins`, `local_wins`, `newer`, `direction`.
    pub rule: String,
}

/// One synced pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub binding_id: String,
    pub local_list_id: String,
    pub local_id: String,
    pub remote_kind: RemoteKind,
    /// `None` only while `Creating` before the create returned.
    pub remote_id: Option<String>,
    /// The remote task's ETag as last written or read by the sync.
    pub task_etag: Option<String>,
    /// Planner only: the task details' ETag (a separate resource, docs/graph-behaviour.md §2.4).
    pub details_etag: Option<String>,
    /// The local item's `version` as last written or read by the sync: a local item still at
    /// this version with `origin = sync` is an echo.
    pub local_version: u64,
    /// The normalised fields as last synced (the base of the three-way merge).
    pub base: FieldMap,
    /// Incremented on every write; every write is conditional on the revision read.
    pub revision: u64,
    pub state: MappingState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why the last attempt on this pair failed or was refused (shown by the CLI), if it did.
    pub last_error: Option<String>,
    /// The conflicts settled by the last merge that had any.
    pub last_conflicts: Vec<Conflict>,
}

impl Mapping {
    /// The pair as it stands once both sides agree: `remote` as last written or read, the local
    /// item at `local_version`, `base` the fields both sides now hold. Every write that ends in
    /// agreement (a create either way, a merge) records it this way.
    pub fn settle(&mut self, remote: &RemoteTask, local_version: u64, base: FieldMap) {
        self.remote_id = Some(remote.id.clone());
        self.task_etag = remote.task_etag.clone();
        self.details_etag = remote.details_etag.clone();
        self.local_version = local_version;
        self.base = base;
        self.state = MappingState::Active;
        self.last_error = None;
        self.updated_at = Utc::now();
    }

    /// A claim taken before creating the remote task for a local one.
    pub fn claim(
        binding_id: &str,
        local_list_id: &str,
        local_id: &str,
        remote_kind: RemoteKind,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            binding_id: binding_id.to_owned(),
            local_list_id: local_list_id.to_owned(),
            local_id: local_id.to_owned(),
            remote_kind,
            remote_id: None,
            task_etag: None,
            details_etag: None,
            local_version: 0,
            base: FieldMap::new(),
            revision: 0,
            state: MappingState::Creating,
            created_at: now,
            updated_at: now,
            last_error: None,
            last_conflicts: Vec::new(),
        }
    }
}
