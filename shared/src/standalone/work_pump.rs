//! Drives the worker handler from a queue outside Lambda: what the SQS event source mapping does
//! in AWS (receive a batch, invoke the handler with an `SqsEvent`, delete the messages that did
//! not fail), for the local run and the end-to-end tests.
//!
//! The batch is handed to the handler as the JSON event Lambda would send, parsed by
//! `aws_lambda_events`, so the handler sees exactly what it sees in Lambda.

use std::future::Future;

use aws_lambda_events::sqs::SqsEvent;

use crate::ports::QueueError;

pub use crate::queue::ReceivedMessage as ReceivedWork;

/// The consuming side of a work queue (SQS, or the in-memory queue of the local run).
pub trait WorkReceive: Send + Sync {
    /// Up to `max` messages (at most 10, as with SQS); empty when none are visible.
    fn receive(
        &self,
        max: usize,
    ) -> impl Future<Output = Result<Vec<ReceivedWork>, QueueError>> + Send;
    /// The message was handled: remove it.
    fn ack(&self, receipt_handle: &str) -> impl Future<Output = Result<(), QueueError>> + Send;
    /// The message failed: let it come back (SQS does so by itself after the visibility timeout).
    fn release(
        &self,
        message: &ReceivedWork,
    ) -> impl Future<Output = Result<(), QueueError>> + Send {
        let _ = message;
        async { Ok(()) }
    }
}

impl WorkReceive for crate::queue::SqsHintQueue {
    async fn receive(&self, max: usize) -> Result<Vec<ReceivedWork>, QueueError> {
        // A one-second long poll: an empty queue answers quickly without busy-looping.
        let max = u32::try_from(max).unwrap_or(10);
        crate::queue::SqsHintQueue::receive(self, max, 1).await
    }

    async fn ack(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.delete(receipt_handle).await
    }
}

/// The in-memory queue of the local run counts receives and dead-letters like SQS; a failed
/// message comes back at once unless the handler delayed it.
impl WorkReceive for crate::queue::MemoryHintQueue {
    async fn receive(&self, max: usize) -> Result<Vec<ReceivedWork>, QueueError> {
        Ok(crate::queue::MemoryHintQueue::receive(self, max))
    }

    async fn ack(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.delete(receipt_handle);
        Ok(())
    }

    async fn release(&self, message: &ReceivedWork) -> Result<(), QueueError> {
        crate::queue::MemoryHintQueue::release(self, &message.receipt_handle);
        Ok(())
    }
}

/// What one pump round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PumpReport {
    pub received: usize,
    pub succeeded: usize,
    pub failed: usize,
}

/// The SQS event Lambda's event source mapping would build for these messages.
pub fn sqs_event(
    messages: &[ReceivedWork],
    queue_arn: &str,
) -> Result<SqsEvent, serde_json::Error> {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receive_count.to_string(),
                    "SentTimestamp": chrono::Utc::now().timestamp_millis().to_string(),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": chrono::Utc::now().timestamp_millis().to_string()
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records }))
}

/// Receives one batch, hands it to `handler`, and acknowledges every message the handler did not
/// report as failed. Failed messages stay on the queue and come back after their visibility
/// timeout, as in AWS.
pub async fn pump_once<Q, H, Fut>(queue: &Q, handler: H) -> Result<PumpReport, QueueError>
where
    Q: WorkReceive,
    H: FnOnce(SqsEvent) -> Fut,
    Fut: Future<Output = aws_lambda_events::sqs::SqsBatchResponse>,
{
    let messages = queue.receive(10).await?;
    if messages.is_empty() {
        return Ok(PumpReport::default());
    }
    let event = sqs_event(
        &messages,
        "arn:aws:sqs:us-east-1:000000000000:local-work-queue",
    )
    .map_err(|e| QueueError::Transient(Box::new(e)))?;
    let response = handler(event).await;
    let failed: std::collections::HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let mut report = PumpReport {
        received: messages.len(),
        ..PumpReport::default()
    };
    for message in &messages {
        if failed.contains(message.message_id.as_str()) {
            report.failed += 1;
            queue.release(message).await?;
        } else {
            queue.ack(&message.receipt_handle).await?;
            report.succeeded += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_the_event_lambda_would_send() {
        let messages = vec![ReceivedWork {
            message_id: "m1".into(),
            receipt_handle: "r1".into(),
            body: "{\"v\":1}".into(),
            receive_count: 2,
        }];
        let event = sqs_event(&messages, "arn:aws:sqs:us-east-1:0:q").unwrap();
        assert_eq!(event.records.len(), 1);
        let record = &event.records[0];
        assert_eq!(record.message_id.as_deref(), Some("m1"));
        assert_eq!(record.body.as_deref(), Some("{\"v\":1}"));
        assert_eq!(
            record
                .attributes
                .get("ApproximateReceiveCount")
                .map(String::as_str),
            Some("2")
        );
    }
}
