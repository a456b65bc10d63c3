//! The adapter contract: one suite that every implementation of the store and queue ports must
//! pass, the in-memory ones and the DynamoDB/SQS ones on moto alike. It is what lets unit tests
//! and the embedded local run trust the in-memory adapters.
//!
//! Each function expects a fresh, empty store or queue.

// This module's job is to assert: a broken contract must fail the test that runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binding_admin;
mod bindings;
mod conflicts;
mod mappings;
mod queue;
mod records;
mod tasks;

pub use binding_admin::binding_admin_contract;
pub use bindings::sync_store_contract;
pub use conflicts::conflict_log_contract;
pub use mappings::{mapping_store_contract, task_sync_contract};
pub use queue::{hint_batch, hint_queue_contract};
pub use records::{operator_records_contract, sync_records_contract};
pub use tasks::task_store_contract;

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use tasksync::model::{
    Binding, ChecklistItem, LocalTask, Origin, Priority, RemoteKind, SubscriptionRecord, TaskDate,
    TaskStatus,
};
use tasksync::ports::{
    BindingLookup, BindingSave, HintSend, StoreError, SubscriptionLookup, SubscriptionSave,
    TaskRead, TaskWrite,
};
use tasksync::queue::{MemoryHintQueue, SqsHintQueue};
use tasksync::queue_message::{Hint, decode};
use tasksync::store::{Item, MemoryStore};

/// Writes items as they are, bypassing the adapter's conversion: how a foreign writer (or a bug)
/// puts an item that breaks the schema into a table.
pub trait RawItemWrite {
    fn put_raw_task_item(&self, item: Item) -> impl Future<Output = ()>;
    fn put_raw_sync_item(&self, item: Item) -> impl Future<Output = ()>;
}

impl RawItemWrite for MemoryStore {
    async fn put_raw_task_item(&self, item: Item) {
        MemoryStore::put_raw_task_item(self, item).expect("raw task item has its key");
    }

    async fn put_raw_sync_item(&self, item: Item) {
        MemoryStore::put_raw_sync_item(self, item).expect("raw sync item has its key");
    }
}

/// Raw writes straight into the two DynamoDB tables.
pub struct DynamoRawItems {
    pub client: aws_sdk_dynamodb::Client,
    pub tasks_table: String,
    pub sync_table: String,
}

impl RawItemWrite for DynamoRawItems {
    async fn put_raw_task_item(&self, item: Item) {
        self.client
            .put_item()
            .table_name(&self.tasks_table)
            .set_item(Some(item))
            .send()
            .await
            .expect("raw PutItem into the tasks table");
    }

    async fn put_raw_sync_item(&self, item: Item) {
        self.client
            .put_item()
            .table_name(&self.sync_table)
            .set_item(Some(item))
            .send()
            .await
            .expect("raw PutItem into the sync table");
    }
}

/// Reads back everything a queue received, for the hint-queue contract.
pub trait SentBodies {
    /// Takes `expected` bodies (waiting a bounded time for them) plus any extra that arrived.
    fn take_bodies(&self, expected: usize) -> impl Future<Output = Vec<String>>;
}

impl SentBodies for MemoryHintQueue {
    async fn take_bodies(&self, _expected: usize) -> Vec<String> {
        self.drain()
    }
}

impl SentBodies for SqsHintQueue {
    async fn take_bodies(&self, expected: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut bodies = Vec::new();
        loop {
            let wait = if bodies.len() >= expected || Instant::now() >= deadline {
                0
            } else {
                1
            };
            let batch = self.receive(10, wait).await.expect("receive");
            let empty = batch.is_empty();
            for message in batch {
                self.delete(&message.receipt_handle).await.expect("delete");
                bodies.push(message.body);
            }
            // Once enough arrived (or time is up), one empty receive shows nothing else is there.
            if empty && (bodies.len() >= expected || Instant::now() >= deadline) {
                return bodies;
            }
        }
    }
}

fn text(s: &str) -> AttributeValue {
    AttributeValue::S(s.to_owned())
}

fn at(secs: i64, nanos: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(secs, nanos).expect("valid timestamp")
}

fn sample_task(list_id: &str, id: &str) -> LocalTask {
    LocalTask {
        notes: "line one\nline two, with \"quotes\"".to_owned(),
        status: TaskStatus::InProgress,
        percent_complete: Some(35),
        priority: Priority::Urgent,
        due: Some(TaskDate::Day(
            chrono::NaiveDate::from_ymd_opt(2026, 2, 28).expect("valid day"),
        )),
        start: Some(TaskDate::Instant(at(1_763_600_000, 500_000_000))),
        completed_at: None,
        assignees: vec!["user-a".to_owned(), "user-b".to_owned()],
        categories: vec!["category3".to_owned(), "customer: ACME".to_owned()],
        checklist: vec![
            ChecklistItem {
                id: "c1".to_owned(),
                title: "Collect numbers".to_owned(),
                checked: true,
            },
            ChecklistItem {
                id: "c2".to_owned(),
                title: "Write ✓".to_owned(),
                checked: false,
            },
        ],
        bucket: Some("bucket-7".to_owned()),
        protected_fields: vec!["title".to_owned(), "due".to_owned()],
        version: 3,
        updated_at: at(1_763_700_000, 123_456_789),
        ..LocalTask::new(
            list_id,
            id,
            "Prepare the quarterly report — draft ✓",
            Origin::App("billing-agent:7".to_owned()),
        )
    }
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>, mentions: &str) {
    match result {
        Err(StoreError::InvalidItem(reason)) => assert!(
            reason.contains(mentions),
            "InvalidItem reason {reason:?} should mention {mentions:?}"
        ),
        other => panic!("expected InvalidItem mentioning {mentions:?}, got {other:?}"),
    }
}

fn sample_binding(id: &str, remote: RemoteKind) -> Binding {
    let mut binding = match remote {
        RemoteKind::Todo => Binding::todo(
            id,
            format!("list-of-{id}"),
            "user-1",
            format!("container-{id}"),
        ),
        RemoteKind::Planner => {
            Binding::planner(id, format!("list-of-{id}"), format!("container-{id}"))
        }
    };
    if remote == RemoteKind::Planner {
        binding.direction = tasksync::model::Direction::ToRemote;
        binding.conflict_policy = tasksync::model::ConflictPolicy::Newer;
        binding.import_completed = true;
        binding.time_zone = "Europe/Berlin".to_owned();
        binding.breaker = Some(tasksync::model::CircuitBreaker {
            failures: 3,
            reason: "plan deleted (404)".to_owned(),
            last_failure_at: at(1_763_900_000, 0),
            open_until: Some(at(1_763_900_900, 0)),
        });
    }
    binding
}
