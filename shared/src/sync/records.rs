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
