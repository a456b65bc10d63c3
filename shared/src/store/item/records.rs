//! The operator records of the sync table: sync issues (why a task is not synced) and
//! dead-letter reasons (why a message died).

use super::attrs::{Reader, item_of, n, s, timestamp};
use super::{Item, PK, SK, listed_under, sync_key};
use crate::ports::StoreError;
use crate::sync::{DeadLetterReason, SyncIssue};

pub const ISSUE_TYPE: &str = "issue";
pub const DLQ_TYPE: &str = "dlq";

/// The records of an operator listing that can be read; a damaged one is logged and skipped, so
/// it cannot hide every other record from the operator (both adapters list this way).
pub(crate) fn readable_records<T>(
    items: Vec<Item>,
    read: impl Fn(&Item) -> Result<T, StoreError>,
) -> Vec<T> {
    items
        .iter()
        .filter_map(|item| match read(item) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::warn!(error = %e, "skipping an operator record that cannot be read");
                None
            }
        })
        .collect()
}

pub fn issue_key(list_id: &str, task_id: &str) -> Item {
    item_of([
        (PK, s(format!("issue#{list_id}#{task_id}"))),
        (SK, s(ISSUE_TYPE)),
    ])
}

pub fn issue_to_item(issue: &SyncIssue) -> Item {
    let mut item = issue_key(&issue.list_id, &issue.task_id);
    item.extend(listed_under(
        ISSUE_TYPE,
        format!("{}#{}", issue.list_id, issue.task_id),
    ));
    item.insert("list_id".into(), s(&issue.list_id));
    item.insert("task_id".into(), s(&issue.task_id));
    item.insert("binding_id".into(), s(&issue.binding_id));
    item.insert("reason".into(), s(&issue.reason));
    item.insert("at".into(), timestamp(&issue.at));
    item
}

pub fn issue_from_item(item: &Item) -> Result<SyncIssue, StoreError> {
    let r = Reader::new(item, "sync issue");
    Ok(SyncIssue {
        list_id: r.string("list_id")?.to_owned(),
        task_id: r.string("task_id")?.to_owned(),
        binding_id: r.string("binding_id")?.to_owned(),
        reason: r.string("reason")?.to_owned(),
        at: r.timestamp("at")?,
    })
}

pub fn dead_letter_key(message_id: &str) -> Item {
    sync_key(DLQ_TYPE, message_id)
}

pub fn dead_letter_to_item(record: &DeadLetterReason) -> Item {
    let mut item = dead_letter_key(&record.message_id);
    item.extend(listed_under(DLQ_TYPE, &record.message_id));
    item.insert("message_id".into(), s(&record.message_id));
    item.insert("kind".into(), s(&record.kind));
    item.insert("reason".into(), s(&record.reason));
    item.insert("receive_count".into(), n(record.receive_count));
    item.insert("at".into(), timestamp(&record.at));
    item
}

pub fn dead_letter_from_item(item: &Item) -> Result<DeadLetterReason, StoreError> {
    let r = Reader::new(item, "dead-letter reason");
    Ok(DeadLetterReason {
        message_id: r.string("message_id")?.to_owned(),
        kind: r.string("kind")?.to_owned(),
        reason: r.string("reason")?.to_owned(),
        receive_count: r.count("receive_count")?,
        at: r.timestamp("at")?,
    })
}
