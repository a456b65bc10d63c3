//! Ports that reach the work queue.

use std::future::Future;

use crate::queue_message::Hint;

/// Why enqueueing failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Some or all messages were not accepted; the caller must not acknowledge its input.
    #[error("{failed} of {total} messages were not enqueued: {reason}")]
    NotEnqueued {
        failed: usize,
        total: usize,
        reason: String,
    },
    /// Network, throttling, 5xx.
    #[error("queue temporarily unavailable: {0}")]
    Transient(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Missing queue, access denied: fix the configuration.
    #[error("queue misconfigured: {0}")]
    Config(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends hints to the work queue. Implementations batch by at most 10 (the SQS limit) and return
/// `Ok` only when every hint was accepted.
pub trait HintSend: Send + Sync {
    fn send_hints(&self, hints: &[Hint]) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Delays a received message (SQS `ChangeMessageVisibility`), so a throttled message comes back
/// after Graph's `Retry-After` instead of the worker sleeping; or sends a fresh copy that becomes
/// visible later (SQS `DelaySeconds`), so a message throttled on its last receive starts its
/// receive count again instead of reaching the DLQ.
pub trait MessageDelay: Send + Sync {
    fn delay_message(
        &self,
        receipt_handle: &str,
        secs: u32,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Sends `body` as a new message visible after `delay_secs` (at most 900, SQS's limit). A
    /// queue that cannot refuses, and the caller keeps the message it holds.
    fn send_delayed(
        &self,
        body: &str,
        delay_secs: u32,
    ) -> impl Future<Output = Result<(), QueueError>> + Send {
        let _ = (body, delay_secs);
        async {
            Err(QueueError::NotEnqueued {
                failed: 1,
                total: 1,
                reason: "this queue cannot send delayed messages".to_owned(),
            })
        }
    }
}
