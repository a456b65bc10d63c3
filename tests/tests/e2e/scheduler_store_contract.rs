//! The scheduler's store ports behave the same on the in-memory store and on DynamoDB (moto):
//! revision-conditional writes, the due index's order and bound, and the mapping ETag index.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use tasksync::model::RemoteKind;
use tasksync::ports::{RemoteEtagIndex, ScheduleStore, StoreError};
use tasksync::scheduler::BindingSchedule;
use tasksync::store::schedule_item::mapping_index_attributes;
use tasksync::store::{DynamoSyncStore, Item, MemoryStore};
use testkit::adapter_contract::{DynamoRawItems, RawItemWrite};

fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000, 0).unwrap()
}

fn schedule(id: &str, due: DateTime<Utc>) -> BindingSchedule {
    let mut s = BindingSchedule::new(id, RemoteKind::Planner, due);
    s.due_at = due;
    s
}

fn mapping(binding: &str, remote: &str, etag: &str, details: Option<&str>) -> Item {
    let mut item = mapping_index_attributes(binding, remote, Some(etag), details);
    item.insert(
        "pk".into(),
        aws_sdk_dynamodb::types::AttributeValue::S(format!("remote#planner#{remote}")),
    );
    item.insert(
        "sk".into(),
        aws_sdk_dynamodb::types::AttributeValue::S("mapping".into()),
    );
    item
}

async fn contract<S: ScheduleStore + RemoteEtagIndex, R: RawItemWrite>(store: &S, raw: &R) {
    // Revisions: create once, then only from the revision read.
    let mut a = schedule("a", t0());
    assert_eq!(store.put_schedule(&a).await.unwrap(), 1);
    assert!(matches!(
        store.put_schedule(&a).await,
        Err(StoreError::ConditionFailed(_))
    ));
    a.revision = 1;
    a.lease_owner = Some("run-1".into());
    assert_eq!(store.put_schedule(&a).await.unwrap(), 2);
    assert!(
        matches!(
            store.put_schedule(&a).await,
            Err(StoreError::ConditionFailed(_))
        ),
        "a stale revision loses"
    );
    let read = store.get_schedule("a").await.unwrap().unwrap();
    assert_eq!(read.revision, 2);
    assert_eq!(read.lease_owner.as_deref(), Some("run-1"));
    assert!(store.get_schedule("nope").await.unwrap().is_none());

    // The due index: at or before now, oldest first, bounded.
    for (id, minutes) in [("b", -5), ("c", -10), ("d", 0), ("e", 10)] {
        store
            .put_schedule(&schedule(id, t0() + Duration::minutes(minutes)))
            .await
            .unwrap();
    }
    let due: Vec<String> = store
        .due_schedules(t0(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.binding_id)
        .collect();
    assert_eq!(due, vec!["c", "b", "a", "d"], "due ones, oldest first");
    let first_two: Vec<String> = store
        .due_schedules(t0(), 2)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.binding_id)
        .collect();
    assert_eq!(first_two, vec!["c", "b"]);
    let ids = store.scheduled_binding_ids().await.unwrap();
    assert_eq!(ids.len(), 5);

    // Delete only from the revision read.
    assert!(matches!(
        store.delete_schedule("a", 1).await,
        Err(StoreError::ConditionFailed(_))
    ));
    store.delete_schedule("a", 2).await.unwrap();
    assert!(store.get_schedule("a").await.unwrap().is_none());

    // The mapping index: only this binding's remote-keyed mapping items.
    raw.put_raw_sync_item(mapping("b1", "r1", "e1", Some("d1")))
        .await;
    raw.put_raw_sync_item(mapping("b1", "r2", "e2", None)).await;
    raw.put_raw_sync_item(mapping("b2", "r3", "e3", None)).await;
    let etags = store.mapped_remote_etags("b1").await.unwrap();
    assert_eq!(etags.len(), 2);
    assert_eq!(etags["r1"].etag.as_deref(), Some("e1"));
    assert_eq!(etags["r1"].details_etag.as_deref(), Some("d1"));
    assert_eq!(etags["r2"].details_etag, None);
    assert!(store.mapped_remote_etags("b3").await.unwrap().is_empty());
}

#[tokio::test]
async fn in_memory() {
    let store = MemoryStore::new();
    contract(&store, &store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_on_moto() {
    let aws = testkit::aws::provisioned().await.expect("moto");
    let store = DynamoSyncStore::new(aws.dynamodb.clone(), aws.resources.sync_table());
    let raw = DynamoRawItems {
        client: aws.dynamodb.clone(),
        tasks_table: aws.resources.tasks_table().to_owned(),
        sync_table: aws.resources.sync_table().to_owned(),
    };
    contract(&store, &raw).await;
}
