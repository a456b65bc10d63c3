//! The task store's contract: TaskRead and TaskWrite.

use super::*;

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
