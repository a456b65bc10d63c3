//! The sync engine's operator records on the in-memory store: sync issues, dead-letter reasons
//! and the binding's circuit breaker.

use super::{MemoryStore, sync_key_of};
use crate::model::CircuitBreaker;
use crate::ports::{StoreError, SyncRecords};
use crate::store::item::{
    BREAKER, DLQ_TYPE, ISSUE_TYPE, binding_key, breaker_to_attribute, dead_letter_from_item,
    dead_letter_to_item, issue_from_item, issue_key, issue_to_item, readable_records,
};
use crate::sync::{DeadLetterReason, SyncIssue};

impl MemoryStore {
    /// Every sync issue (what a gsi1 query for `issue` returns).
    pub fn list_sync_issues(&self) -> Result<Vec<SyncIssue>, StoreError> {
        Ok(readable_records(self.list(ISSUE_TYPE), issue_from_item))
    }

    /// Every recorded dead-letter reason.
    pub fn list_dead_letter_reasons(&self) -> Result<Vec<DeadLetterReason>, StoreError> {
        Ok(readable_records(self.list(DLQ_TYPE), dead_letter_from_item))
    }
}

impl SyncRecords for MemoryStore {
    async fn record_sync_issue(&self, issue: &SyncIssue) -> Result<(), StoreError> {
        self.put_raw_sync_item(issue_to_item(issue))
    }

    async fn clear_sync_issue(&self, list_id: &str, task_id: &str) -> Result<(), StoreError> {
        self.remove_sync(&issue_key(list_id, task_id))
    }

    async fn record_dead_letter(&self, record: &DeadLetterReason) -> Result<(), StoreError> {
        self.put_raw_sync_item(dead_letter_to_item(record))
    }

    async fn set_binding_breaker(
        &self,
        binding_id: &str,
        breaker: Option<&CircuitBreaker>,
    ) -> Result<(), StoreError> {
        let key = sync_key_of(&binding_key(binding_id))?;
        // Like the conditional UpdateItem: a binding that is gone gets no breaker.
        self.with_sync_items(|sync| {
            if let Some(item) = sync.get_mut(&key) {
                match breaker {
                    Some(b) => {
                        item.insert(BREAKER.to_owned(), breaker_to_attribute(b));
                    }
                    None => {
                        item.remove(BREAKER);
                    }
                }
            }
        });
        Ok(())
    }
}
