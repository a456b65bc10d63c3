//! Records kept for operators beside the sync (sync table, docs/sync-engine.md).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A local item that is not synced, and why (it breaks the contract, or Graph refused it).
/// `pk = issue#{list_id}#{task_id}`, listed through gsi1 (`gsi1pk = issue`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncIssue {
    pub list_id: String,
    pub task_id: String,
    pub binding_id: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The last failure of a message on its final receive: the message itself goes to the DLQ
/// intact; this record (`pk = dlq#{message_id}`) tells why. Listed through gsi1 (`gsi1pk = dlq`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterReason {
    pub message_id: String,
    /// The hint kind, or `undecodable`.
    pub kind: String,
    pub reason: String,
    pub receive_count: u32,
    pub at: DateTime<Utc>,
}

/// One conflict the engine settled, as the conflict history keeps it: both values as the
/// sides held them (side-canonical, normalised fields) and which one won, by which rule. A
/// pair's mapping holds only its last merge's conflicts; the history keeps every one, bounded per
/// pair and expiring (`tasksync conflicts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub binding_id: String,
    pub list_id: String,
    pub task_id: String,
    /// The remote task of the pair when the conflict was settled.
    pub remote_id: Option<String>,
    pub field: super::fields::Field,
    pub local: serde_json::Value,
    pub remote: serde_json::Value,
    pub winner: super::mapping::Side,
    /// `protected`, `remote_wins`, `local_wins`, `newer` or `direction`.
    pub rule: String,
    pub at: DateTime<Utc>,
}
