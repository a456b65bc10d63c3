//! The sync engine's stores: mappings, and the task store's conditional writes and listings.

use super::*;

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
