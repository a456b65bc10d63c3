//! The messages in the dead-letter queue, each with the last failure reason the worker recorded
//! beside it (`dlq#{message_id}` in the sync table; SQS keeps the message id when it redrives a
//! message, docs/sync-engine.md, "The worker").
//!
//! Reading never removes a message: each is received with a short visibility timeout, so one
//! pass sees it once, and put back at once after the pass (visibility 0). A reader that dies
//! mid-pass leaves them hidden for at most [`PEEK_HOLD_SECS`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ports::{QueueError, StoreError};
use crate::queue::sqs::classify;
use crate::queue::{ReceivedMessage, SqsHintQueue};
use crate::queue_message::{Hint, decode};
use crate::store::{DynamoSyncStore, MemoryStore};
use crate::sync::DeadLetterReason;

/// How long a pass hides the messages it has received.
pub const PEEK_HOLD_SECS: u32 = 30;

/// Reads what a dead-letter queue holds without removing anything.
pub trait DeadLetterPeek: Send + Sync {
    /// Up to `limit` messages, each once.
    fn peek_dead_letters(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<ReceivedMessage>, QueueError>> + Send;
}

/// Lists the failure reasons the worker recorded for the messages it gave up on.
pub trait DeadLetterReasons: Send + Sync {
    fn all_dead_letter_reasons(
        &self,
    ) -> impl Future<Output = Result<Vec<DeadLetterReason>, StoreError>> + Send;
}

impl DeadLetterReasons for DynamoSyncStore {
    async fn all_dead_letter_reasons(&self) -> Result<Vec<DeadLetterReason>, StoreError> {
        self.list_dead_letter_reasons().await
    }
}

impl DeadLetterReasons for MemoryStore {
    async fn all_dead_letter_reasons(&self) -> Result<Vec<DeadLetterReason>, StoreError> {
        self.list_dead_letter_reasons()
    }
}

/// The work queue's dead-letter queue on SQS.
#[derive(Debug, Clone)]
pub struct SqsDeadLetterQueue {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetterQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// The queue the work queue's redrive policy names, so the operator configures only what
    /// the functions are configured with (`WORK_QUEUE_URL`).
    pub async fn of_work_queue(client: Client, work_queue_url: &str) -> Result<Self, QueueError> {
        let work = SqsHintQueue::new(client.clone(), work_queue_url);
        let dlq = work.dead_letter_queue().await?.ok_or_else(|| {
            QueueError::Config(
                format!("{work_queue_url} has no redrive policy, so no dead-letter queue").into(),
            )
        })?;
        Ok(Self::new(client, dlq.queue_url()))
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Up to `max` (1 to 10) messages, hidden for [`PEEK_HOLD_SECS`].
    pub(crate) async fn receive_hidden(
        &self,
        max: usize,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let max = i32::try_from(max.clamp(1, 10)).unwrap_or(10);
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max)
            // A long poll asks every SQS server, so an empty answer means nothing is visible.
            .wait_time_seconds(1)
            .visibility_timeout(i32::try_from(PEEK_HOLD_SECS).unwrap_or(30))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(classify)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|message| {
                let receive_count = message
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(1);
                Some(ReceivedMessage {
                    receipt_handle: message.receipt_handle?,
                    message_id: message.message_id?,
                    body: message.body.unwrap_or_default(),
                    receive_count,
                })
            })
            .collect())
    }

    /// Makes a received message visible again at once.
    pub(crate) async fn put_back(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(0)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

impl SqsDeadLetterQueue {
    /// Removes a received message (once it is safely elsewhere).
    pub(crate) async fn remove(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// SQS's approximate count of the messages waiting (a progress bar's length).
    pub async fn approximate_len(&self) -> Result<u64, QueueError> {
        SqsHintQueue::new(self.client.clone(), &self.queue_url)
            .approximate_depth()
            .await
    }
}

impl DeadLetterPeek for SqsDeadLetterQueue {
    async fn peek_dead_letters(&self, limit: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let mut seen: Vec<ReceivedMessage> = Vec::new();
        let mut handles: Vec<String> = Vec::new();
        let mut ids = HashSet::new();
        let pass: Result<(), QueueError> = async {
            while seen.len() < limit {
                let batch = self.receive_hidden(limit - seen.len()).await?;
                let mut new = 0;
                for message in batch {
                    handles.push(message.receipt_handle.clone());
                    if ids.insert(message.message_id.clone()) {
                        seen.push(message);
                        new += 1;
                    }
                }
                if new == 0 {
                    break;
                }
            }
            Ok(())
        }
        .await;
        // Everything received goes back, also after a failed receive.
        let mut put_back = Ok(());
        for handle in &handles {
            if let Err(e) = self.put_back(handle).await
                && put_back.is_ok()
            {
                put_back = Err(e);
            }
        }
        pass?;
        put_back?;
        Ok(seen)
    }
}

/// One message of the dead-letter queue, as an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    /// The hint kind, or `undecodable`.
    pub kind: String,
    /// The ids the hint names (`binding_id`, `list_id`, `task_id`, `subscription_id`).
    pub ids: BTreeMap<&'static str, String>,
    /// Receives on the work queue when the worker gave up (from the recorded reason).
    pub receive_count: Option<u32>,
    /// SQS's receive count in the dead-letter queue, this read and earlier reads included.
    pub dlq_receive_count: u32,
    /// The worker's last failure reason; `None` when it recorded none (it timed out or crashed
    /// on the last receive, or the message came from elsewhere).
    pub reason: Option<String>,
    pub failed_at: Option<DateTime<Utc>>,
    /// The message body, intact.
    pub body: String,
}

/// Why the view could not be read, by where to look.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterViewError {
    #[error("reading the dead-letter queue failed: {0}")]
    Queue(#[from] QueueError),
    #[error("reading the recorded reasons failed: {0}")]
    Store(#[from] StoreError),
}

/// The ids a hint names, by field name.
pub fn hint_ids(hint: &Hint) -> BTreeMap<&'static str, String> {
    let pairs: Vec<(&'static str, &String)> = match hint {
        Hint::RemoteTodoTask {
            binding_id,
            task_id,
        }
        | Hint::RemotePlannerTask {
            binding_id,
            task_id,
        } => vec![("binding_id", binding_id), ("task_id", task_id)],
        Hint::LocalTask { list_id, task_id } => vec![("list_id", list_id), ("task_id", task_id)],
        Hint::ResyncBinding { binding_id, .. } => vec![("binding_id", binding_id)],
        Hint::ReauthorizeSubscription {
            binding_id,
            subscription_id,
        }
        | Hint::RecreateSubscription {
            binding_id,
            subscription_id,
        } => vec![
            ("binding_id", binding_id),
            ("subscription_id", subscription_id),
        ],
    };
    pairs.into_iter().map(|(k, v)| (k, v.clone())).collect()
}

/// Up to `limit` messages of the dead-letter queue with the reasons recorded beside them,
/// oldest failure first (messages without a recorded reason last).
pub async fn dead_letters(
    queue: &impl DeadLetterPeek,
    records: &impl DeadLetterReasons,
    limit: usize,
) -> Result<Vec<DeadLetter>, DeadLetterViewError> {
    let messages = queue.peek_dead_letters(limit).await?;
    let mut reasons: HashMap<String, DeadLetterReason> = records
        .all_dead_letter_reasons()
        .await?
        .into_iter()
        .map(|r| (r.message_id.clone(), r))
        .collect();
    let mut letters: Vec<DeadLetter> = messages
        .into_iter()
        .map(|message| {
            let recorded = reasons.remove(&message.message_id);
            let (kind, ids) = match decode(&message.body) {
                Ok(hint) => (hint.kind().to_owned(), hint_ids(&hint)),
                Err(_) => ("undecodable".to_owned(), BTreeMap::new()),
            };
            DeadLetter {
                message_id: message.message_id,
                kind,
                ids,
                receive_count: recorded.as_ref().map(|r| r.receive_count),
                dlq_receive_count: message.receive_count,
                reason: recorded.as_ref().map(|r| r.reason.clone()),
                failed_at: recorded.map(|r| r.at),
                body: message.body,
            }
        })
        .collect();
    letters.sort_by(|a, b| {
        (a.failed_at.is_none(), a.failed_at, &a.message_id).cmp(&(
            b.failed_at.is_none(),
            b.failed_at,
            &b.message_id,
        ))
    });
    Ok(letters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SyncRecords;

    struct Held(Vec<ReceivedMessage>);

    impl DeadLetterPeek for Held {
        async fn peek_dead_letters(
            &self,
            limit: usize,
        ) -> Result<Vec<ReceivedMessage>, QueueError> {
            Ok(self.0.iter().take(limit).cloned().collect())
        }
    }

    fn message(id: &str, body: &str) -> ReceivedMessage {
        ReceivedMessage {
            body: body.into(),
            receipt_handle: format!("r-{id}"),
            message_id: id.into(),
            receive_count: 1,
        }
    }

    #[tokio::test]
    async fn each_message_gets_its_kind_ids_and_recorded_reason() {
        let store = MemoryStore::new();
        let at = chrono::Utc::now();
        store
            .record_dead_letter(&DeadLetterReason {
                message_id: "m-local".into(),
                kind: "local_task".into(),
                reason: "store temporarily unavailable".into(),
                receive_count: 5,
                at,
            })
            .await
            .unwrap();
        let queue = Held(vec![
            message("m-poison", r#"{"v":9,"kind":"from_the_future"}"#),
            message(
                "m-local",
                r#"{"v":1,"kind":"local_task","list_id":"team","task_id":"T-1"}"#,
            ),
        ]);
        let letters = dead_letters(&queue, &store, 10).await.unwrap();
        assert_eq!(letters.len(), 2);
        let first = &letters[0];
        assert_eq!(first.message_id, "m-local");
        assert_eq!(first.kind, "local_task");
        assert_eq!(
            first.ids,
            BTreeMap::from([
                ("list_id", "team".to_owned()),
                ("task_id", "T-1".to_owned())
            ])
        );
        assert_eq!(first.receive_count, Some(5));
        assert_eq!(
            first.reason.as_deref(),
            Some("store temporarily unavailable")
        );
        assert_eq!(first.failed_at, Some(at));
        let second = &letters[1];
        assert_eq!(second.kind, "undecodable");
        assert!(second.ids.is_empty());
        assert_eq!(second.reason, None);
        assert_eq!(second.body, r#"{"v":9,"kind":"from_the_future"}"#);
    }
}
