//! The adapter contract: one suite that every implementation of the store and queue ports must
//! pass, the in-memory ones and the DynamoDB/SQS ones on moto alike. It is what lets unit tests
//! and the embedded local run trust the in-memory adapters.
//!
//! Each function expects a fresh, empty store or queue.

// This module's job is to assert: a broken contract must fail the test that runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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

/// TaskRead + TaskWrite: round trip of every field, absence, overwrite, key isolation, optional
/// attributes, and items that break the schema.
pub async fn task_store_contract(store: &(impl TaskRead + TaskWrite), raw: &impl RawItemWrite) {
    // Absent.
    assert_eq!(store.get_task("list-a", "t1").await.unwrap(), None);

    // Every field round-trips, timestamp to the nanosecond.
    let first = sample_task("list-a", "t1");
    store.put_task(&first).await.unwrap();
    assert_eq!(
        store.get_task("list-a", "t1").await.unwrap(),
        Some(first.clone())
    );

    // Overwrite replaces every field.
    let second = LocalTask {
        title: "Renamed".to_owned(),
        notes: String::new(),
        status: TaskStatus::Completed,
        percent_complete: None,
        priority: Priority::Low,
        due: None,
        start: None,
        completed_at: Some(at(1_763_800_000, 1)),
        assignees: Vec::new(),
        categories: Vec::new(),
        checklist: Vec::new(),
        bucket: None,
        protected_fields: Vec::new(),
        version: u64::from(u32::MAX) + 1,
        updated_at: at(1_763_800_000, 0),
        origin: Origin::Sync,
        deleted: true,
        ..first.clone()
    };
    store.put_task(&second).await.unwrap();
    assert_eq!(
        store.get_task("list-a", "t1").await.unwrap(),
        Some(second.clone())
    );

    // The key is (list, id): same id in another list is another task, and vice versa.
    assert_eq!(store.get_task("list-b", "t1").await.unwrap(), None);
    let other_list = LocalTask {
        status: TaskStatus::NotStarted,
        origin: Origin::App(String::new()),
        ..sample_task("list-b", "t1")
    };
    store.put_task(&other_list).await.unwrap();
    assert_eq!(
        store.get_task("list-b", "t1").await.unwrap(),
        Some(other_list)
    );
    assert_eq!(store.get_task("list-a", "t1").await.unwrap(), Some(second));
    assert_eq!(store.get_task("list-a", "t2").await.unwrap(), None);

    // Another writer may omit notes and deleted.
    let minimal: Item = HashMap::from([
        ("list_id".to_owned(), text("list-a")),
        ("id".to_owned(), text("minimal")),
        ("title".to_owned(), text("Minimal")),
        ("status".to_owned(), text("not_started")),
        ("version".to_owned(), AttributeValue::N("1".to_owned())),
        ("updated_at".to_owned(), text("2025-11-21T10:00:00+01:00")),
        ("origin".to_owned(), text("app:cli")),
    ]);
    raw.put_raw_task_item(minimal.clone()).await;
    let read = store.get_task("list-a", "minimal").await.unwrap().unwrap();
    assert_eq!(read.notes, "");
    assert!(!read.deleted);
    assert_eq!(read.updated_at, at(1_763_715_600, 0));
    assert_eq!(read.origin, Origin::App("cli".to_owned()));

    // Items that break the schema are reported, naming what is wrong.
    let broken = |id: &str, change: &dyn Fn(&mut Item)| {
        let mut item = minimal.clone();
        item.insert("id".to_owned(), text(id));
        change(&mut item);
        item
    };
    let cases: Vec<(&str, Item, &str)> = vec![
        (
            "no-title",
            broken("no-title", &|i| {
                i.remove("title");
            }),
            "title",
        ),
        (
            "bad-status",
            broken("bad-status", &|i| {
                i.insert("status".into(), text("done"));
            }),
            "status",
        ),
        (
            "bad-date",
            broken("bad-date", &|i| {
                i.insert("updated_at".into(), text("21/11/2025"));
            }),
            "updated_at",
        ),
        (
            "version-as-text",
            broken("version-as-text", &|i| {
                i.insert("version".into(), text("1"));
            }),
            "version",
        ),
        (
            "bad-origin",
            broken("bad-origin", &|i| {
                i.insert("origin".into(), text("someone"));
            }),
            "origin",
        ),
        (
            "deleted-as-text",
            broken("deleted-as-text", &|i| {
                i.insert("deleted".into(), text("false"));
            }),
            "deleted",
        ),
    ];
    for (id, item, mentions) in cases {
        raw.put_raw_task_item(item).await;
        assert_invalid(store.get_task("list-a", id).await, mentions);
    }
    // A broken item does not affect its neighbours.
    assert!(store.get_task("list-a", "minimal").await.unwrap().is_some());

    // DynamoDB refuses empty key values; so does every other adapter.
    let empty_id = sample_task("list-a", "");
    let result = store.put_task(&empty_id).await;
    assert!(matches!(result, Err(StoreError::Config(_))), "{result:?}");
    let result = store.get_task("list-a", "").await;
    assert!(matches!(result, Err(StoreError::Config(_))), "{result:?}");
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

fn sample_subscription(id: &str, binding_id: &str) -> SubscriptionRecord {
    SubscriptionRecord {
        id: id.to_owned(),
        binding_id: binding_id.to_owned(),
        client_state: "s3cr3t-client-state".to_owned(),
        tenant_id: "tenant-1".to_owned(),
        expires_at: at(1_763_900_000, 500_000_000),
    }
}

/// Binding and subscription ports: round trips, absence, overwrite, no collision between item
/// types, and invalid items (without leaking the client state into the reason).
pub async fn sync_store_contract(
    store: &(impl BindingLookup + BindingSave + SubscriptionLookup + SubscriptionSave),
    raw: &impl RawItemWrite,
) {
    assert_eq!(store.find_binding("b1").await.unwrap(), None);
    assert_eq!(store.find_subscription("s1").await.unwrap(), None);

    let todo = sample_binding("b1", RemoteKind::Todo);
    let planner = sample_binding("b2", RemoteKind::Planner);
    store.save_binding(&todo).await.unwrap();
    store.save_binding(&planner).await.unwrap();
    assert_eq!(store.find_binding("b1").await.unwrap(), Some(todo.clone()));
    assert_eq!(store.find_binding("b2").await.unwrap(), Some(planner));

    let moved = Binding {
        remote_container_id: "another-list".to_owned(),
        ..todo
    };
    store.save_binding(&moved).await.unwrap();
    assert_eq!(store.find_binding("b1").await.unwrap(), Some(moved));

    // A subscription whose id equals a binding id is a different item.
    assert_eq!(store.find_subscription("b1").await.unwrap(), None);
    let subscription = sample_subscription("b1", "b1");
    store.save_subscription(&subscription).await.unwrap();
    assert_eq!(
        store.find_subscription("b1").await.unwrap(),
        Some(subscription.clone())
    );
    assert_eq!(store.find_binding("b1").await.unwrap().unwrap().id, "b1");

    let renewed = SubscriptionRecord {
        expires_at: at(1_764_000_000, 0),
        ..subscription
    };
    store.save_subscription(&renewed).await.unwrap();
    assert_eq!(store.find_subscription("b1").await.unwrap(), Some(renewed));

    // Invalid items.
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("binding#bad")),
        ("sk".to_owned(), text("binding")),
        ("id".to_owned(), text("bad")),
        ("local_list_id".to_owned(), text("l")),
        ("remote".to_owned(), text("outlook")),
        ("user_id".to_owned(), text("")),
        ("remote_container_id".to_owned(), text("c")),
    ]))
    .await;
    assert_invalid(store.find_binding("bad").await, "remote");

    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("subscription#bad")),
        ("sk".to_owned(), text("subscription")),
        ("id".to_owned(), text("bad")),
        ("binding_id".to_owned(), text("b1")),
        ("client_state".to_owned(), text("never-in-a-message")),
        ("tenant_id".to_owned(), text("t")),
        ("expires_at".to_owned(), text("soon")),
    ]))
    .await;
    let err = store.find_subscription("bad").await.unwrap_err();
    assert!(!err.to_string().contains("never-in-a-message"), "{err}");
    assert_invalid(Err::<(), _>(err), "expires_at");
}

/// Twenty-five hints of every kind, more than two SQS batches.
pub fn hint_batch() -> Vec<Hint> {
    (0..25)
        .map(|i| match i % 6 {
            0 => Hint::RemoteTodoTask {
                binding_id: format!("b{i}"),
                task_id: format!("t{i}"),
            },
            1 => Hint::RemotePlannerTask {
                binding_id: format!("b{i}"),
                task_id: format!("t{i}"),
            },
            2 => Hint::LocalTask {
                list_id: format!("l{i}"),
                task_id: format!("t{i}"),
            },
            3 => Hint::ResyncBinding {
                binding_id: format!("b{i}"),
                reason: "missed".to_owned(),
            },
            4 => Hint::ReauthorizeSubscription {
                binding_id: format!("b{i}"),
                subscription_id: format!("s{i}"),
            },
            _ => Hint::RecreateSubscription {
                binding_id: format!("b{i}"),
                subscription_id: format!("s{i}"),
            },
        })
        .collect()
}

fn sorted(mut hints: Vec<Hint>) -> Vec<String> {
    let mut keys: Vec<String> = hints.drain(..).map(|h| format!("{h:?}")).collect();
    keys.sort();
    keys
}

/// HintSend: every hint of a batch larger than the SQS limit arrives exactly once, as a v1
/// envelope that decodes back to the hint; an empty send is a no-op.
pub async fn hint_queue_contract(queue: &(impl HintSend + SentBodies)) {
    queue.send_hints(&[]).await.unwrap();

    let hints = hint_batch();
    queue.send_hints(&hints).await.unwrap();
    let bodies = queue.take_bodies(hints.len()).await;
    assert_eq!(bodies.len(), hints.len(), "every hint arrives exactly once");
    let mut received = Vec::new();
    for body in &bodies {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(value["v"], 1, "{body}");
        received.push(decode(body).unwrap());
    }
    assert_eq!(sorted(received), sorted(hints));

    queue.send_hints(&hint_batch()[..1]).await.unwrap();
    assert_eq!(queue.take_bodies(1).await.len(), 1);
}

// ---- the sync engine's stores (issue 4) ----

fn sample_mapping(local_id: &str) -> tasksync::sync::Mapping {
    use tasksync::sync::{Conflict, Field, Mapping, Side};
    let mut m = Mapping::claim(
        "b1",
        "list-a",
        local_id,
        RemoteKind::Planner,
        at(1_763_000_000, 7),
    );
    m.base.insert(Field::Title, serde_json::json!("Title ✓"));
    m.base.insert(
        Field::Checklist,
        serde_json::json!([{"id": "c1", "title": "x", "checked": true}]),
    );
    m.last_conflicts = vec![Conflict {
        field: Field::Title,
        local: serde_json::json!("a"),
        remote: serde_json::json!("b"),
        winner: Side::Remote,
        rule: "remote_wins".to_owned(),
    }];
    m
}

/// MappingStore: claims, revisions, both lookups, re-created remote tasks, invalid items.
pub async fn mapping_store_contract(
    store: &(impl tasksync::ports::MappingStore + tasksync::ports::RemoteEtagIndex),
    raw: &impl RawItemWrite,
) {
    use tasksync::sync::MappingState;
    assert_eq!(store.mapping_by_local("list-a", "t1").await.unwrap(), None);
    assert_eq!(
        store
            .mapping_by_remote(RemoteKind::Planner, "r1")
            .await
            .unwrap(),
        None
    );

    // The claim: one item, only if there is none.
    let claim = sample_mapping("t1");
    assert_eq!(store.save_mapping(&claim, None, None).await.unwrap(), 1);
    let read = store
        .mapping_by_local("list-a", "t1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.state, MappingState::Creating);
    assert_eq!(read.revision, 1);
    assert_eq!(read.base, claim.base);
    let again = store.save_mapping(&claim, None, None).await;
    assert!(
        matches!(again, Err(StoreError::ConditionFailed(_))),
        "{again:?}"
    );

    // Recorded with a remote id: both lookups see the same mapping.
    let mut active = read.clone();
    active.state = MappingState::Active;
    active.remote_id = Some("r1".to_owned());
    active.task_etag = Some("W/\"task-1\"".to_owned());
    active.details_etag = Some("W/\"details-1\"".to_owned());
    active.local_version = 4;
    active.last_error = Some("quota".to_owned());
    assert_eq!(store.save_mapping(&active, Some(1), None).await.unwrap(), 2);
    let by_local = store
        .mapping_by_local("list-a", "t1")
        .await
        .unwrap()
        .unwrap();
    let by_remote = store
        .mapping_by_remote(RemoteKind::Planner, "r1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_local, by_remote);
    assert_eq!(
        by_local,
        tasksync::sync::Mapping {
            revision: 2,
            ..active.clone()
        }
    );
    assert_eq!(
        store
            .mapping_by_remote(RemoteKind::Todo, "r1")
            .await
            .unwrap(),
        None,
        "the remote kind is part of the key"
    );

    // A write based on an old revision loses and changes nothing.
    let mut stale = active.clone();
    stale.local_version = 99;
    let lost = store.save_mapping(&stale, Some(1), None).await;
    assert!(
        matches!(lost, Err(StoreError::ConditionFailed(_))),
        "{lost:?}"
    );
    assert_eq!(
        store
            .mapping_by_local("list-a", "t1")
            .await
            .unwrap()
            .unwrap()
            .local_version,
        4
    );

    // A re-created remote task: the old by-remote item goes in the same write.
    let mut moved = by_local.clone();
    moved.remote_id = Some("r2".to_owned());
    assert_eq!(
        store
            .save_mapping(&moved, Some(2), Some("r1"))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .mapping_by_remote(RemoteKind::Planner, "r1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .mapping_by_remote(RemoteKind::Planner, "r2")
            .await
            .unwrap()
            .unwrap()
            .revision,
        3
    );

    // The scheduler's sweep sees the pair under its new remote id, with the recorded ETags.
    let index = store.mapped_remote_etags("b1").await.unwrap();
    assert_eq!(index.len(), 1, "{index:?}");
    assert_eq!(
        index.get("r2").and_then(|e| e.etag.clone()).as_deref(),
        Some("W/\"task-1\"")
    );
    // A deleted pair leaves the sweep's index.
    let mut gone = store
        .mapping_by_local("list-a", "t1")
        .await
        .unwrap()
        .unwrap();
    gone.state = MappingState::Deleted;
    assert_eq!(store.save_mapping(&gone, Some(3), None).await.unwrap(), 4);
    assert!(store.mapped_remote_etags("b1").await.unwrap().is_empty());
    let mut back = gone.clone();
    back.state = MappingState::Active;
    assert_eq!(store.save_mapping(&back, Some(4), None).await.unwrap(), 5);

    // Another pair cannot take a remote id that is already mapped.
    let mut thief = sample_mapping("t2");
    thief.remote_id = Some("r2".to_owned());
    let taken = store.save_mapping(&thief, None, None).await;
    assert!(
        matches!(taken, Err(StoreError::ConditionFailed(_))),
        "{taken:?}"
    );
    assert_eq!(store.mapping_by_local("list-a", "t2").await.unwrap(), None);
    // Not even at the very revision the owner's by-remote item holds (two creates racing for
    // one orphan): the by-remote item belongs to one local task.
    let mut rival = sample_mapping("t2");
    let mut revision = store.save_mapping(&rival, None, None).await.unwrap();
    while revision < 5 {
        revision = store
            .save_mapping(&rival, Some(revision), None)
            .await
            .unwrap();
    }
    rival.remote_id = Some("r2".to_owned());
    let taken = store.save_mapping(&rival, Some(5), None).await;
    assert!(
        matches!(taken, Err(StoreError::ConditionFailed(_))),
        "{taken:?}"
    );
    let owner = store
        .mapping_by_remote(RemoteKind::Planner, "r2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((owner.local_id.as_str(), owner.revision), ("t1", 5));
    assert_eq!(
        store
            .mapping_by_local("list-a", "t2")
            .await
            .unwrap()
            .unwrap()
            .remote_id,
        None,
        "the rival's transaction wrote nothing"
    );

    // An item that breaks the layout is reported, naming the attribute.
    let mut broken = HashMap::from([
        ("pk".to_owned(), text("local#list-a#bad")),
        ("sk".to_owned(), text("mapping")),
    ]);
    broken.insert("binding_id".to_owned(), text("b1"));
    broken.insert("local_list_id".to_owned(), text("list-a"));
    broken.insert("local_id".to_owned(), text("bad"));
    broken.insert("remote_kind".to_owned(), text("planner"));
    broken.insert(
        "local_version".to_owned(),
        AttributeValue::N("1".to_owned()),
    );
    broken.insert("base".to_owned(), text("not json"));
    broken.insert("revision".to_owned(), AttributeValue::N("1".to_owned()));
    broken.insert("state".to_owned(), text("active"));
    broken.insert("created_at".to_owned(), text("2026-01-01T00:00:00Z"));
    broken.insert("updated_at".to_owned(), text("2026-01-01T00:00:00Z"));
    raw.put_raw_sync_item(broken).await;
    assert_invalid(store.mapping_by_local("list-a", "bad").await, "base");
}

/// TaskWriteIfVersion and TaskList: conditional writes and listings with invalid items.
pub async fn task_sync_contract(
    store: &(impl TaskRead + tasksync::ports::TaskWriteIfVersion + tasksync::ports::TaskList),
    raw: &impl RawItemWrite,
) {
    let first = sample_task("list-s", "t1");
    store.put_task_if_version(&first, None).await.unwrap();
    let exists = store.put_task_if_version(&first, None).await;
    assert!(
        matches!(exists, Err(StoreError::ConditionFailed(_))),
        "{exists:?}"
    );
    let next = LocalTask {
        version: first.version + 1,
        title: "Next".to_owned(),
        ..first.clone()
    };
    let wrong = store
        .put_task_if_version(&next, Some(first.version + 5))
        .await;
    assert!(
        matches!(wrong, Err(StoreError::ConditionFailed(_))),
        "{wrong:?}"
    );
    store
        .put_task_if_version(&next, Some(first.version))
        .await
        .unwrap();
    assert_eq!(
        store.get_task("list-s", "t1").await.unwrap(),
        Some(next.clone())
    );

    raw.put_raw_task_item(HashMap::from([
        ("list_id".to_owned(), text("list-s")),
        ("id".to_owned(), text("t2")),
        ("status".to_owned(), text("done")),
    ]))
    .await;
    store
        .put_task_if_version(&sample_task("list-other", "t3"), None)
        .await
        .unwrap();
    let listed = store.list_tasks("list-s").await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().any(|t| t.as_ref().ok() == Some(&next)));
    let bad = listed
        .iter()
        .find_map(|t| t.as_ref().err())
        .expect("the invalid item is listed with its reason");
    assert_eq!(bad.task_id, "t2");
    assert!(
        bad.reason.contains("task item: attribute"),
        "{}",
        bad.reason
    );
}

/// SyncRecords + BindingsOfList: the breaker is set and cleared without touching the binding's
/// other attributes; records are written.
pub async fn sync_records_contract(
    store: &(
         impl BindingLookup
         + BindingSave
         + tasksync::ports::SyncRecords
         + tasksync::ports::BindingsOfList
     ),
) {
    let binding = sample_binding("b9", RemoteKind::Todo);
    store.save_binding(&binding).await.unwrap();
    let breaker = tasksync::model::CircuitBreaker {
        failures: 2,
        reason: "403 Forbidden".to_owned(),
        last_failure_at: at(1_763_000_000, 0),
        open_until: None,
    };
    store
        .set_binding_breaker("b9", Some(&breaker))
        .await
        .unwrap();
    let read = store.find_binding("b9").await.unwrap().unwrap();
    assert_eq!(read.breaker, Some(breaker));
    assert_eq!(
        Binding {
            breaker: None,
            ..read
        },
        binding
    );
    store.set_binding_breaker("b9", None).await.unwrap();
    assert_eq!(
        store.find_binding("b9").await.unwrap(),
        Some(binding.clone())
    );
    // A binding that does not exist is not created by a breaker update.
    store.set_binding_breaker("gone", None).await.unwrap();
    assert_eq!(store.find_binding("gone").await.unwrap(), None);

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let of_list = store
            .bindings_of_list(&binding.local_list_id)
            .await
            .unwrap();
        if of_list == vec![binding.clone()] {
            break;
        }
        assert!(Instant::now() < deadline, "bindings_of_list: {of_list:?}");
    }
    assert!(
        store
            .bindings_of_list("no-such-list")
            .await
            .unwrap()
            .is_empty()
    );

    let issue = tasksync::sync::SyncIssue {
        list_id: "l".to_owned(),
        task_id: "t".to_owned(),
        binding_id: "b9".to_owned(),
        reason: "title is missing".to_owned(),
        at: at(1_763_000_000, 0),
    };
    store.record_sync_issue(&issue).await.unwrap();
    store.clear_sync_issue("l", "t").await.unwrap();
    store.clear_sync_issue("l", "never").await.unwrap();
    store
        .record_dead_letter(&tasksync::sync::DeadLetterReason {
            message_id: "m1".to_owned(),
            kind: "local_task".to_owned(),
            reason: "rejected".to_owned(),
            receive_count: 5,
            at: at(1_763_000_000, 0),
        })
        .await
        .unwrap();
}

/// The operator's listings (`tasksync sync-issues`, `tasksync dlq`): every readable record is
/// listed, and a damaged one (written by hand, or by an older version) is skipped rather than
/// hiding all the others.
pub async fn operator_records_contract(
    store: &(
         impl tasksync::ports::SyncRecords
         + tasksync::ops::sync_issues::SyncIssueList
         + tasksync::ops::dead_letters::DeadLetterReasons
     ),
    raw: &impl RawItemWrite,
) {
    let issue = tasksync::sync::SyncIssue {
        list_id: "ops-l".to_owned(),
        task_id: "ops-t".to_owned(),
        binding_id: "b9".to_owned(),
        reason: "status \"done\" is not one of not_started, in_progress, completed".to_owned(),
        at: at(1_763_000_000, 0),
    };
    store.record_sync_issue(&issue).await.unwrap();
    let reason = tasksync::sync::DeadLetterReason {
        message_id: "ops-m1".to_owned(),
        kind: "local_task".to_owned(),
        reason: "rejected".to_owned(),
        receive_count: 5,
        at: at(1_763_000_000, 0),
    };
    store.record_dead_letter(&reason).await.unwrap();
    // Damaged records of both kinds: in the index, but without the attributes they need.
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("issue#ops-l#damaged")),
        ("sk".to_owned(), text("issue")),
        ("gsi1pk".to_owned(), text("issue")),
        ("gsi1sk".to_owned(), text("ops-l#damaged")),
    ]))
    .await;
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("dlq#ops-damaged")),
        ("sk".to_owned(), text("dlq")),
        ("gsi1pk".to_owned(), text("dlq")),
        ("gsi1sk".to_owned(), text("ops-damaged")),
        ("receive_count".to_owned(), text("five")),
    ]))
    .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let issues = store.all_sync_issues().await.unwrap();
        let reasons = store.all_dead_letter_reasons().await.unwrap();
        let issue_listed = issues.contains(&issue);
        let reason_listed = reasons.contains(&reason);
        if issue_listed && reason_listed {
            assert!(issues.iter().all(|i| i.task_id != "damaged"), "{issues:?}");
            assert!(
                reasons.iter().all(|r| r.message_id != "ops-damaged"),
                "{reasons:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "listed: {issues:?} {reasons:?}");
    }
}
