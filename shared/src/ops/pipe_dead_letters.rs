//! The EventBridge pipe's dead-letter queue (`PipeDeadLetterQueue` in template.yaml): what the
//! pipe could not deliver from the tasks table's stream to the work queue after its retries.
//!
//! Its messages are **not** the stream records: for a DynamoDB stream source the pipe writes a
//! batch failure record naming the shard and the first and last sequence numbers of the batch
//! (`DDBStreamBatchInfo`), with why it gave up (`context.condition`). The changes themselves are
//! not in it, and the stream keeps records for 24 hours only, so nothing here can be redriven as
//! a hint. A resync of each binding of the affected lists (`tasksync sync ID`) reads every task
//! of the list and catches up on whatever those records named.
//!
//! Reading never removes a message (the same peek as the work queue's dead letters).

use aws_sdk_sqs::Client;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::dead_letters::{DeadLetterPeek, SqsDeadLetterQueue};
use crate::ports::QueueError;
use crate::queue::sqs::classify;

/// One message of the pipe's dead-letter queue, as an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipeDeadLetter {
    pub message_id: String,
    /// Why the pipe gave up (`RetryAttemptsExhausted`, `RecordAgeExceeded`, ...), when it says.
    pub condition: Option<String>,
    pub shard_id: Option<String>,
    pub start_sequence_number: Option<String>,
    pub end_sequence_number: Option<String>,
    pub batch_size: Option<u64>,
    pub first_record_at: Option<DateTime<Utc>>,
    pub last_record_at: Option<DateTime<Utc>>,
    pub stream_arn: Option<String>,
    /// `false` when the body is not a batch failure record (then only `body` says anything).
    pub recognised: bool,
    /// The message body, intact.
    pub body: String,
}

/// What an operator does about such records, said once under the listing.
pub const PIPE_DEAD_LETTER_ADVICE: &str = "These records name stream positions, not tasks: the \
changes they stood for were not queued. Run `tasksync sync ID` for each binding of the lists \
written at those times; a resync reads every task of the list and catches up.";

/// Reads one message body of the pipe's dead-letter queue.
pub fn pipe_dead_letter(message_id: &str, body: &str) -> PipeDeadLetter {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let info = json.get("DDBStreamBatchInfo");
    let text = |v: Option<&Value>, name: &str| -> Option<String> {
        v.and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let instant = |name: &str| -> Option<DateTime<Utc>> {
        text(info, name)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
    };
    // Pipes put the reason under `context`; Lambda's own stream failure records under
    // `requestContext`. Both are read, so a record forwarded from either is explained.
    let condition = text(json.get("context"), "condition")
        .or_else(|| text(json.get("requestContext"), "condition"));
    PipeDeadLetter {
        message_id: message_id.to_owned(),
        condition,
        shard_id: text(info, "shardId"),
        start_sequence_number: text(info, "startSequenceNumber"),
        end_sequence_number: text(info, "endSequenceNumber"),
        batch_size: info
            .and_then(|i| i.get("batchSize"))
            .and_then(Value::as_u64),
        first_record_at: instant("approximateArrivalOfFirstRecord"),
        last_record_at: instant("approximateArrivalOfLastRecord"),
        stream_arn: text(info, "streamArn"),
        recognised: info.is_some(),
        body: body.to_owned(),
    }
}

/// Up to `limit` messages of the pipe's dead-letter queue, left where they are.
pub async fn pipe_dead_letters(
    queue: &impl DeadLetterPeek,
    limit: usize,
) -> Result<Vec<PipeDeadLetter>, QueueError> {
    let mut letters: Vec<PipeDeadLetter> = queue
        .peek_dead_letters(limit)
        .await?
        .into_iter()
        .map(|m| pipe_dead_letter(&m.message_id, &m.body))
        .collect();
    letters.sort_by(|a, b| {
        (a.first_record_at, &a.message_id).cmp(&(b.first_record_at, &b.message_id))
    });
    Ok(letters)
}

/// The pipe's dead-letter queue: `PIPE_DLQ_URL` when set, else the one queue named like the work
/// queue with `PipeDeadLetterQueue` for `WorkQueue` (CloudFormation names both
/// `{stack}-{LogicalId}-{suffix}`, the test kit `{prefix}-{LogicalId}`). `None` when neither
/// finds it.
pub async fn find_pipe_dead_letter_queue(
    client: Client,
    configured: Option<String>,
    work_queue_url: &str,
) -> Result<Option<SqsDeadLetterQueue>, QueueError> {
    if let Some(url) = configured {
        return Ok(Some(SqsDeadLetterQueue::new(client, url)));
    }
    let Some(prefix) = sibling_prefix(work_queue_url) else {
        return Ok(None);
    };
    let output = client
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .map_err(classify)?;
    match output.queue_urls() {
        [only] => Ok(Some(SqsDeadLetterQueue::new(client, only.clone()))),
        _ => Ok(None),
    }
}

/// `…/123456789012/stack-WorkQueue-AbC` → `stack-PipeDeadLetterQueue`.
fn sibling_prefix(work_queue_url: &str) -> Option<String> {
    let name = work_queue_url.rsplit('/').next()?;
    let at = name.find("WorkQueue")?;
    Some(format!("{}PipeDeadLetterQueue", &name[..at]))
}

/// A batch failure record as the pipe writes one, for tests and the docs' examples.
pub fn sample_batch_failure(
    pipe_arn: &str,
    stream_arn: &str,
    shard_id: &str,
    start: &str,
    end: &str,
    at: DateTime<Utc>,
) -> String {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "context": {"partnerResourceArn": pipe_arn, "condition": "RetryAttemptsExhausted"},
        "version": "1.0",
        "timestamp": at,
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": at,
            "approximateArrivalOfLastRecord": at,
            "batchSize": 1,
            "streamArn": stream_arn
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_failure_record_names_its_shard_and_sequence_numbers() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = sample_batch_failure("arn:pipe", "arn:stream", "shardId-1", "100", "105", at);
        let letter = pipe_dead_letter("m1", &body);
        assert!(letter.recognised);
        assert_eq!(letter.condition.as_deref(), Some("RetryAttemptsExhausted"));
        assert_eq!(letter.shard_id.as_deref(), Some("shardId-1"));
        assert_eq!(letter.start_sequence_number.as_deref(), Some("100"));
        assert_eq!(letter.end_sequence_number.as_deref(), Some("105"));
        assert_eq!(letter.batch_size, Some(1));
        assert_eq!(letter.first_record_at, Some(at));
        let other = pipe_dead_letter("m2", "not json");
        assert!(!other.recognised);
        assert_eq!(other.body, "not json");
    }

    #[test]
    fn the_pipe_queue_is_looked_for_beside_the_work_queue() {
        assert_eq!(
            sibling_prefix("https://sqs.eu-west-1.amazonaws.com/1/prod-WorkQueue-AbC12").as_deref(),
            Some("prod-PipeDeadLetterQueue")
        );
        assert_eq!(
            sibling_prefix("http://localhost:5000/123456789012/t1-0-WorkQueue").as_deref(),
            Some("t1-0-PipeDeadLetterQueue")
        );
        assert_eq!(sibling_prefix("http://localhost/1/other"), None);
    }
}
