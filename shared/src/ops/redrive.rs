//! Moving dead-lettered hints back to the work queue (`tasksync dlq redrive`).
//!
//! Each message is sent to the work queue first and deleted from the dead-letter queue only
//! once the send was accepted, so an interruption at any point leaves it in one queue or, at
//! worst, in both (a hint handled twice is harmless: docs/architecture.md principle 1). A
//! message that does not decode as a hint stays in the dead-letter queue, with the reason: the
//! worker would only dead-letter it again. The worker's recorded reason for a moved message is
//! forgotten (SQS gives the moved message a new id, so the record would name nothing).
//!
//! Messages not selected are received too while the pass looks for the selected ones; they are
//! put back, visible, at the end of the pass (also after a failure).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;

use serde::Serialize;

use super::dead_letters::{DeadLetterPeek, SqsDeadLetterQueue, hint_ids};
use crate::ports::{QueueError, StoreError};
use crate::queue::SqsHintQueue;
use crate::queue_message::decode;
use crate::store::{DynamoSyncStore, MemoryStore};

/// Which messages to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Ids(BTreeSet<String>),
}

impl Selection {
    fn wants(&self, message_id: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Ids(ids) => ids.contains(message_id),
        }
    }
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedriveOutcome {
    Moved,
    /// `--dry-run`: it would be moved.
    WouldMove,
    /// Not a hint: left in the dead-letter queue.
    Left,
    /// Named on the command line but not in the dead-letter queue.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedriveEntry {
    pub message_id: String,
    /// The hint kind, or `undecodable` (empty when not found).
    pub kind: String,
    pub ids: BTreeMap<&'static str, String>,
    pub outcome: RedriveOutcome,
    /// Why it was left or not found.
    pub reason: Option<String>,
}

impl RedriveEntry {
    fn not_found(message_id: &str) -> Self {
        Self {
            message_id: message_id.to_owned(),
            kind: String::new(),
            ids: BTreeMap::new(),
            outcome: RedriveOutcome::NotFound,
            reason: Some("not in the dead-letter queue".to_owned()),
        }
    }
}

/// Why a redrive stopped.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("redriving the dead-letter queue failed: {0}")]
    Queue(#[from] QueueError),
}

/// Forgets the worker's recorded reason of a message that left the dead-letter queue.
pub trait DeadLetterReasonForget: Send + Sync {
    fn forget_dead_letter_reason(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl DeadLetterReasonForget for DynamoSyncStore {
    async fn forget_dead_letter_reason(&self, message_id: &str) -> Result<(), StoreError> {
        self.remove_dead_letter_reason(message_id).await
    }
}

impl DeadLetterReasonForget for MemoryStore {
    async fn forget_dead_letter_reason(&self, message_id: &str) -> Result<(), StoreError> {
        self.remove_dead_letter_reason(message_id)
    }
}

fn entry(message_id: &str, body: &str, outcome: RedriveOutcome) -> RedriveEntry {
    match decode(body) {
        Ok(hint) => RedriveEntry {
            message_id: message_id.to_owned(),
            kind: hint.kind().to_owned(),
            ids: hint_ids(&hint),
            outcome,
            reason: None,
        },
        Err(e) => RedriveEntry {
            message_id: message_id.to_owned(),
            kind: "undecodable".to_owned(),
            ids: BTreeMap::new(),
            outcome: RedriveOutcome::Left,
            reason: Some(format!("not a hint, left in the dead-letter queue: {e}")),
        },
    }
}

/// What a redrive would move, without moving anything (the dead-letter view's peek).
pub async fn redrive_plan(
    dlq: &impl DeadLetterPeek,
    selection: &Selection,
    limit: usize,
) -> Result<Vec<RedriveEntry>, RedriveError> {
    let messages = dlq.peek_dead_letters(limit).await?;
    let mut found = HashSet::new();
    let mut entries: Vec<RedriveEntry> = messages
        .iter()
        .filter(|m| selection.wants(&m.message_id))
        .map(|m| {
            found.insert(m.message_id.clone());
            entry(&m.message_id, &m.body, RedriveOutcome::WouldMove)
        })
        .collect();
    push_missing(&mut entries, selection, &found);
    Ok(entries)
}

fn push_missing(entries: &mut Vec<RedriveEntry>, selection: &Selection, found: &HashSet<String>) {
    if let Selection::Ids(ids) = selection {
        entries.extend(
            ids.iter()
                .filter(|id| !found.contains(*id))
                .map(|id| RedriveEntry::not_found(id)),
        );
    }
}

/// Moves the selected messages (at most `limit`) from `dlq` to `work`; `progress` is called once
/// per message handled.
pub async fn redrive(
    dlq: &SqsDeadLetterQueue,
    work: &SqsHintQueue,
    reasons: &impl DeadLetterReasonForget,
    selection: &Selection,
    limit: usize,
    progress: &(dyn Fn(&RedriveEntry) + Sync),
) -> Result<Vec<RedriveEntry>, RedriveError> {
    let mut held: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut found = HashSet::new();
    let mut entries = Vec::new();
    let pass: Result<(), RedriveError> = async {
        while entries.len() < limit {
            let batch = dlq.receive_hidden(limit - entries.len()).await?;
            let mut new = 0;
            for message in batch {
                if !seen.insert(message.message_id.clone()) {
                    held.push(message.receipt_handle);
                    continue;
                }
                new += 1;
                if !selection.wants(&message.message_id) {
                    held.push(message.receipt_handle);
                    continue;
                }
                found.insert(message.message_id.clone());
                let done = entry(&message.message_id, &message.body, RedriveOutcome::Moved);
                if done.outcome == RedriveOutcome::Left {
                    held.push(message.receipt_handle);
                } else {
                    // Send first: only a message safely on the work queue leaves the DLQ.
                    work.send_bodies(std::slice::from_ref(&message.body)).await?;
                    dlq.remove(&message.receipt_handle).await?;
                    if let Err(e) = reasons.forget_dead_letter_reason(&message.message_id).await {
                        tracing::warn!(message_id = %message.message_id, error = %e, "moved; its recorded reason could not be forgotten");
                    }
                }
                progress(&done);
                entries.push(done);
            }
            let all_found = matches!(selection, Selection::Ids(ids) if ids.len() == found.len());
            if new == 0 || all_found {
                break;
            }
        }
        Ok(())
    }
    .await;
    let mut put_back = Ok(());
    for handle in &held {
        if let Err(e) = dlq.put_back(handle).await
            && put_back.is_ok()
        {
            put_back = Err(e);
        }
    }
    pass?;
    put_back?;
    push_missing(&mut entries, selection, &found);
    Ok(entries)
}
