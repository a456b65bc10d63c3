//! The work queue (and its DLQ) on SQS.
//!
//! Sending is the `HintSend` port. Receiving, deleting and changing visibility are inherent
//! methods: in AWS the Lambda SQS integration does them for the worker, so only the local run,
//! the CLI and the tests call them.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};

use crate::ports::{HintSend, QueueError};
use crate::queue_message::{Hint, encode};

/// SQS accepts at most 10 entries per SendMessageBatch.
pub const MAX_BATCH: usize = 10;

/// The longest `DelaySeconds` SQS allows on one message (15 minutes).
pub const MAX_DELAY_SECS: u32 = 900;

/// The longest visibility timeout SQS allows (12 hours).
pub const MAX_VISIBILITY_SECS: u32 = 43_200;

/// The longest long-poll wait SQS allows.
pub const MAX_WAIT_SECS: u32 = 20;

/// One message taken from a queue, with what is needed to acknowledge or delay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub body: String,
    pub receipt_handle: String,
    pub message_id: String,
    /// How many times SQS has handed this message out, this time included.
    pub receive_count: u32,
}

/// A queue by URL. Used for the work queue and, through [`SqsHintQueue::dead_letter_queue`],
/// for its DLQ.
#[derive(Debug, Clone)]
pub struct SqsHintQueue {
    client: Client,
    queue_url: String,
}

impl SqsHintQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends raw bodies (not necessarily valid hints: tests use this to put poison messages on
    /// the queue). Same batching and failure rules as `send_hints`.
    pub async fn send_bodies(&self, bodies: &[String]) -> Result<(), QueueError> {
        let total = bodies.len();
        let mut failed = 0;
        let mut first_reason: Option<String> = None;
        for chunk in bodies.chunks(MAX_BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| QueueError::Config(Box::new(e)))?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(classify)?;
            // SQS answers 200 even when some entries were refused: each must be checked.
            let refused = output.failed();
            failed += refused.len();
            if first_reason.is_none()
                && let Some(entry) = refused.first()
            {
                first_reason = Some(format!(
                    "{}: {}",
                    entry.code(),
                    entry.message().unwrap_or("no message")
                ));
            }
            // An entry reported neither way cannot be assumed delivered.
            let unreported = chunk
                .len()
                .saturating_sub(output.successful().len() + refused.len());
            if unreported > 0 {
                failed += unreported;
                first_reason.get_or_insert_with(|| {
                    "SendMessageBatch reported on fewer entries than were sent".to_owned()
                });
            }
        }
        match first_reason {
            None => Ok(()),
            Some(reason) => Err(QueueError::NotEnqueued {
                failed,
                total,
                reason,
            }),
        }
    }

    /// Takes up to `max` (1 to 10) messages, long-polling up to `wait_secs` (at most 20).
    pub async fn receive(
        &self,
        max: u32,
        wait_secs: u32,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let max = max.clamp(1, MAX_BATCH as u32);
        let wait = wait_secs.min(MAX_WAIT_SECS);
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(classify)?;
        let mut messages = Vec::new();
        for message in output.messages.unwrap_or_default() {
            let receive_count = message
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                .and_then(|count| count.parse().ok())
                .unwrap_or(1);
            let (Some(receipt_handle), Some(message_id)) =
                (message.receipt_handle, message.message_id)
            else {
                // Cannot be acknowledged; it becomes visible again and is seen next time.
                tracing::warn!(queue = %self.queue_url, "received a message without receipt handle or id");
                continue;
            };
            messages.push(ReceivedMessage {
                body: message.body.unwrap_or_default(),
                receipt_handle,
                message_id,
                receive_count,
            });
        }
        Ok(messages)
    }

    /// Acknowledges a message: it will not be delivered again.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Makes a received message visible again after `secs` (0 = now; at most 12 hours). This is
    /// how a throttled message waits for `Retry-After` without the worker sleeping.
    pub async fn change_visibility(
        &self,
        receipt_handle: &str,
        secs: u32,
    ) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs.min(MAX_VISIBILITY_SECS) as i32)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Sends one raw body that becomes visible after `delay_secs` (capped at 15 minutes): a
    /// fresh message, whose receive count starts again.
    pub async fn send_body_delayed(&self, body: &str, delay_secs: u32) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_secs.min(MAX_DELAY_SECS) as i32)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Messages available now plus those in flight (SQS's approximate counters).
    pub async fn approximate_depth(&self) -> Result<u64, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(classify)?;
        let attributes = output.attributes();
        let count = |name: &QueueAttributeName| -> u64 {
            attributes
                .and_then(|a| a.get(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(count(&QueueAttributeName::ApproximateNumberOfMessages)
            + count(&QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }

    /// The queue this one's redrive policy sends failing messages to, if it has one.
    pub async fn dead_letter_queue(&self) -> Result<Option<SqsHintQueue>, QueueError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(classify)?;
        let Some(policy) = output
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
        else {
            return Ok(None);
        };
        let policy: serde_json::Value = serde_json::from_str(policy).map_err(|e| {
            QueueError::Config(
                format!("RedrivePolicy of {} is not JSON: {e}", self.queue_url).into(),
            )
        })?;
        // arn:aws:sqs:<region>:<account>:<name>
        let arn = policy.get("deadLetterTargetArn").and_then(|v| v.as_str());
        let Some((account, name)) = arn.and_then(|arn| {
            let mut parts = arn.rsplitn(3, ':');
            let name = parts.next()?;
            let account = parts.next()?;
            Some((account.to_owned(), name.to_owned()))
        }) else {
            return Err(QueueError::Config(
                format!(
                    "RedrivePolicy of {} has no usable deadLetterTargetArn",
                    self.queue_url
                )
                .into(),
            ));
        };
        let url = self
            .client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
            .map_err(classify)?
            .queue_url
            .ok_or_else(|| QueueError::Config("GetQueueUrl returned no URL".into()))?;
        Ok(Some(SqsHintQueue::new(self.client.clone(), url)))
    }
}

impl HintSend for SqsHintQueue {
    async fn send_hints(&self, hints: &[Hint]) -> Result<(), QueueError> {
        let bodies: Vec<String> = hints.iter().map(encode).collect();
        self.send_bodies(&bodies).await
    }
}

/// Error codes that mean "try again later".
const TRANSIENT_CODES: &[&str] = &[
    "RequestThrottled",
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "KmsThrottled",
    "AWS.SimpleQueueService.ServiceUnavailable",
];

pub(crate) fn classify<E>(err: SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            QueueError::Transient(Box::new(err))
        }
        SdkError::ServiceError(context) => {
            let code = context.err().code().unwrap_or("");
            let status = context.raw().status().as_u16();
            if TRANSIENT_CODES.contains(&code) || status >= 500 || status == 429 {
                QueueError::Transient(Box::new(err))
            } else {
                // QueueDoesNotExist, AccessDenied, InvalidParameterValue, ...
                QueueError::Config(Box::new(err))
            }
        }
        _ => QueueError::Config(Box::new(err)),
    }
}
