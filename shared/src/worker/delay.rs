//! `MessageDelay` for the two work queues.

use crate::ports::{MessageDelay, QueueError};
use crate::queue::{MemoryHintQueue, SqsHintQueue};

impl MessageDelay for SqsHintQueue {
    async fn delay_message(&self, receipt_handle: &str, secs: u32) -> Result<(), QueueError> {
        self.change_visibility(receipt_handle, secs).await
    }
}

/// The in-memory queue puts a failed message back at once (the local run has no clock to
/// wait on), so there is nothing to delay.
impl MessageDelay for MemoryHintQueue {
    async fn delay_message(&self, _receipt_handle: &str, _secs: u32) -> Result<(), QueueError> {
        Ok(())
    }
}
