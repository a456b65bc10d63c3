//! `MessageDelay` for the two work queues.

use crate::ports::{MessageDelay, QueueError};
use crate::queue::{MemoryHintQueue, SqsHintQueue};

impl MessageDelay for SqsHintQueue {
    async fn delay_message(&self, receipt_handle: &str, secs: u32) -> Result<(), QueueError> {
        self.change_visibility(receipt_handle, secs).await
    }

    async fn send_delayed(&self, body: &str, delay_secs: u32) -> Result<(), QueueError> {
        self.send_body_delayed(body, delay_secs).await
    }
}

/// The in-memory queue keeps a delayed message hidden until its time, as SQS does.
impl MessageDelay for MemoryHintQueue {
    async fn delay_message(&self, receipt_handle: &str, secs: u32) -> Result<(), QueueError> {
        self.set_visibility(receipt_handle, secs);
        Ok(())
    }

    async fn send_delayed(&self, body: &str, delay_secs: u32) -> Result<(), QueueError> {
        self.send_body_delayed(body, delay_secs)
    }
}
