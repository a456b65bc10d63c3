//! The conflict history's port: every conflict the engine settles is appended, so an operator
//! sees what each side held and who won long after the pair's mapping moved on.

use std::future::Future;

use super::StoreError;
use crate::sync::records::ConflictRecord;

/// Appends settled conflicts to the history. Implementations keep it bounded (the newest
/// [`CONFLICTS_KEPT_PER_PAIR`] per pair) and let each record expire after
/// [`CONFLICT_RETENTION_DAYS`] (a DynamoDB TTL attribute).
pub trait ConflictLog: Send + Sync {
    fn record_conflicts(
        &self,
        records: &[ConflictRecord],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How many conflicts of one pair the history keeps; older ones are removed as new ones come.
pub const CONFLICTS_KEPT_PER_PAIR: usize = 20;

/// How long a conflict stays in the history before DynamoDB's TTL removes it.
pub const CONFLICT_RETENTION_DAYS: i64 = 90;
