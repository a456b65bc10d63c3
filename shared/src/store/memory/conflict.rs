//! The conflict history on the in-memory store: the same items as on DynamoDB, pruned per pair
//! under the store's lock (the TTL is DynamoDB's and does not run here).

use super::{MemoryStore, sync_key_of};
use crate::ports::{CONFLICTS_KEPT_PER_PAIR, ConflictLog, StoreError};
use crate::store::item::{
    CONFLICT_TYPE, conflict_from_item, conflict_pair_pk, conflict_to_item, readable_records,
};
use crate::sync::records::ConflictRecord;

impl MemoryStore {
    /// Every conflict of the history, oldest first.
    pub fn list_conflicts(&self) -> Result<Vec<ConflictRecord>, StoreError> {
        Ok(readable_records(
            self.list(CONFLICT_TYPE),
            conflict_from_item,
        ))
    }
}

impl ConflictLog for MemoryStore {
    async fn record_conflicts(&self, records: &[ConflictRecord]) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(records.len());
        for record in records {
            let item = conflict_to_item(record);
            let key = sync_key_of(&item)?;
            let pk = conflict_pair_pk(&record.binding_id, &record.list_id, &record.task_id);
            items.push((key, item, pk));
        }
        self.with_sync_items(|sync| {
            for (key, item, pk) in items {
                sync.insert(key, item);
                // Keys of one partition sort by their sort key, oldest first, as a Query does.
                let pair: Vec<(String, String)> = sync
                    .keys()
                    .filter(|(hash, _)| *hash == pk)
                    .cloned()
                    .collect();
                let excess = pair.len().saturating_sub(CONFLICTS_KEPT_PER_PAIR);
                for key in pair.into_iter().take(excess) {
                    sync.remove(&key);
                }
            }
        });
        Ok(())
    }
}
