//! To Do operations against the emulator: lists, tasks with the marker, update, delete, the
//! domain read port, paging, delta rounds (resume, removals, 410 restart), checklist items and
//! the start date.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::graph_support::Env;
use graph_emulator::EmulatorConfig;
use tasksync::graph::GraphError;
use tasksync::graph::models::{
    CalendarZone, DateTimeTimeZone, ItemBody, NewTodoTask, TodoChange, TodoChecklistItemWrite,
    TodoStatus, TodoTaskPatch,
};
use tasksync::model::TaskStatus;
use tasksync::ports::TodoTaskRead;

fn small_pages() -> EmulatorConfig {
    EmulatorConfig {
        todo_page_size: 3,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn task_lifecycle_with_marker() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Work").await;
    let lists = client.todo().list_lists(&user).await.unwrap();
    assert!(
        lists
            .iter()
            .any(|l| l.id == list && l.display_name == "Work")
    );

    let zone = CalendarZone::parse("Eastern Standard Time").unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    let mut new = NewTodoTask::for_local_task("local-42", "Write report");
    new.body = Some(ItemBody::text("by Friday"));
    new.due_date_time = Some(DateTimeTimeZone::for_calendar_day(day, &zone));
    let created = client.todo().create_task(&user, &list, &new).await.unwrap();
    assert_eq!(created.marker(), Some("local-42"));
    assert_eq!(created.title, "Write report");
    let due = created.due_date_time.clone().expect("due date");
    assert_eq!(due.calendar_day(&zone).unwrap(), day);

    let read = client
        .todo()
        .get_task(&user, &list, &created.id)
        .await
        .unwrap();
    assert_eq!(read.marker(), Some("local-42"));
    assert_eq!(
        read.body.as_ref().map(|b| b.content.as_str()),
        Some("by Friday")
    );

    let patch = TodoTaskPatch {
        status: Some(TodoStatus::WaitingOnOthers),
        title: Some("Write the report".into()),
        ..TodoTaskPatch::default()
    };
    let updated = client
        .todo()
        .update_task(&user, &list, &created.id, &patch)
        .await
        .unwrap();
    assert_eq!(updated.title, "Write the report");
    assert_eq!(updated.status, Some(TodoStatus::WaitingOnOthers));

    let domain = client
        .get_todo_task(&user, &list, &created.id)
        .await
        .unwrap()
        .expect("present");
    assert_eq!(domain.status, TaskStatus::InProgress);
    assert_eq!(domain.title, "Write the report");
    assert!(domain.etag.is_some());

    let all = client.todo().list_tasks(&user, &list).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].marker(), Some("local-42"));

    client
        .todo()
        .delete_task(&user, &list, &created.id)
        .await
        .unwrap();
    assert!(matches!(
        client.todo().get_task(&user, &list, &created.id).await,
        Err(GraphError::NotFound)
    ));
    assert_eq!(
        client
            .get_todo_task(&user, &list, &created.id)
            .await
            .unwrap(),
        None
    );
    assert!(matches!(
        client.todo().delete_task(&user, &list, &created.id).await,
        Err(GraphError::NotFound)
    ));
}

#[tokio::test]
async fn listing_follows_every_page() {
    let env = Env::start(small_pages()).await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Many").await;
    env.new_todo_tasks(&client, &list, 10).await;
    let all = client.todo().list_tasks(&user, &list).await.unwrap();
    assert_eq!(all.len(), 10);
    assert!(
        client.counters().total("todo.list_tasks") >= 4,
        "several pages"
    );
}

#[tokio::test]
async fn delta_rounds_resume_and_report_removals() {
    let env = Env::start(small_pages()).await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Delta").await;
    let ids: Vec<String> = env
        .new_todo_tasks(&client, &list, 5)
        .await
        .into_iter()
        .map(|t| t.id)
        .collect();
    let first = client.todo().delta(&user, &list, None).await.unwrap();
    let upserts = first
        .changes
        .iter()
        .filter(|c| matches!(c, TodoChange::Upsert(_)))
        .count();
    assert_eq!(upserts, 5, "{:?}", first.changes);

    // Nothing changed: an empty round with a usable link.
    let quiet = client
        .todo()
        .delta(&user, &list, Some(&first.delta_link))
        .await
        .unwrap();
    assert!(quiet.changes.is_empty(), "{:?}", quiet.changes);

    let patch = TodoTaskPatch {
        title: Some("renamed".into()),
        ..TodoTaskPatch::default()
    };
    client
        .todo()
        .update_task(&user, &list, &ids[0], &patch)
        .await
        .unwrap();
    client
        .todo()
        .delete_task(&user, &list, &ids[1])
        .await
        .unwrap();
    let second = client
        .todo()
        .delta(&user, &list, Some(&quiet.delta_link))
        .await
        .unwrap();
    assert!(
        second
            .changes
            .iter()
            .any(|c| matches!(c, TodoChange::Upsert(t) if t.id == ids[0] && t.title == "renamed"))
    );
    assert!(
        second
            .changes
            .iter()
            .any(|c| matches!(c, TodoChange::Removed { id, .. } if *id == ids[1]))
    );

    // The service forgets the token: the round says "start over", and starting over works.
    env.control(reqwest::Method::POST, "/todo/delta/expire", None)
        .await;
    let expired = client
        .todo()
        .delta(&user, &list, Some(&second.delta_link))
        .await;
    assert!(
        matches!(expired, Err(GraphError::DeltaExpired)),
        "{expired:?}"
    );
    let restart = client.todo().delta(&user, &list, None).await.unwrap();
    assert_eq!(restart.changes.len(), 4);
}

#[tokio::test]
async fn a_foreign_link_is_refused() {
    let env = Env::default().await;
    let client = env.client();
    let err = client
        .todo()
        .delta(
            &env.user(),
            "x",
            Some("https://evil.example/v1.0/users/u/todo/lists/x/tasks/delta?$deltatoken=a"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Protocol(_)), "{err:?}");
    assert_eq!(env.token_requests().await, 0, "no token was even fetched");
}

#[tokio::test]
async fn a_task_is_found_by_its_marker() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Markers").await;
    let created = client
        .todo()
        .create_task(&user, &list, &NewTodoTask::for_local_task("local-9", "t"))
        .await
        .unwrap();
    let found = client
        .todo()
        .find_task_by_marker(&user, &list, "local-9")
        .await
        .unwrap();
    assert_eq!(found.map(|t| t.id), Some(created.id));
    assert_eq!(
        client
            .todo()
            .find_task_by_marker(&user, &list, "local-10")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn checklist_items_are_read_inline_and_written_one_by_one() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Trip").await;
    let todo = client.todo();
    let task = todo
        .create_task(&user, &list, &NewTodoTask::for_local_task("l-1", "Pack"))
        .await
        .unwrap();

    let read = todo.get_task(&user, &list, &task.id).await.unwrap();
    assert_eq!(read.checklist_items, Some(Vec::new()), "expanded, empty");
    let write = |title: &str, checked: bool| TodoChecklistItemWrite {
        display_name: Some(title.into()),
        is_checked: Some(checked),
    };
    let passport = todo
        .create_checklist_item(&user, &list, &task.id, &write("Passport", false))
        .await
        .unwrap();
    let charger = todo
        .create_checklist_item(&user, &list, &task.id, &write("Charger", true))
        .await
        .unwrap();
    assert!(!passport.id.is_empty() && passport.id != charger.id);
    assert!(charger.is_checked && charger.checked_date_time.is_some());

    let checked = todo
        .update_checklist_item(
            &user,
            &list,
            &task.id,
            &passport.id,
            &TodoChecklistItemWrite {
                display_name: None,
                is_checked: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (checked.display_name.as_str(), checked.is_checked),
        ("Passport", true)
    );
    todo.delete_checklist_item(&user, &list, &task.id, &charger.id)
        .await
        .unwrap();
    let gone = todo
        .delete_checklist_item(&user, &list, &task.id, &charger.id)
        .await;
    assert!(matches!(gone, Err(GraphError::NotFound)), "{gone:?}");

    let items = todo
        .list_checklist_items(&user, &list, &task.id)
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, passport.id);
    // Every read of the task carries the checklist and the marker in one request.
    let listed = todo.list_tasks(&user, &list).await.unwrap();
    assert_eq!(listed[0].checklist_items.as_ref().map(Vec::len), Some(1));
    assert_eq!(listed[0].marker(), Some("l-1"));
    let read = todo.get_task(&user, &list, &task.id).await.unwrap();
    assert_eq!(read.checklist_items, Some(items));
    assert_ne!(read.etag, task.etag, "item writes are task writes");
    let counters = client.counters();
    for op in [
        "todo.create_checklist_item",
        "todo.update_checklist_item",
        "todo.delete_checklist_item",
        "todo.list_checklist_items",
    ] {
        assert!(counters.total(op) >= 1, "{op} is counted");
    }
    assert_eq!(counters.total("todo.create_checklist_item"), 2);
    assert_eq!(counters.total("todo.delete_checklist_item"), 2);
}

#[tokio::test]
async fn the_start_date_is_a_calendar_day_across_a_dst_change() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Plans").await;
    // Europe/Berlin moves to summer time at 02:00 on 29 March 2026; the day after and the day
    // itself both read back as written.
    let zone = CalendarZone::parse("W. Europe Standard Time").unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
    let mut new = NewTodoTask::for_local_task("l-2", "Start on the day of the change");
    new.start_date_time = Some(DateTimeTimeZone::for_calendar_day(day, &zone));
    let todo = client.todo();
    let created = todo.create_task(&user, &list, &new).await.unwrap();
    let start = created.start_date_time.clone().expect("start");
    assert_eq!(start.time_zone, "UTC", "Graph answers in UTC (§3.5)");
    assert_eq!(start.calendar_day(&zone).unwrap(), day);

    let next = day.succ_opt().unwrap();
    let patch = TodoTaskPatch {
        start_date_time: Some(Some(DateTimeTimeZone::for_calendar_day(next, &zone))),
        ..TodoTaskPatch::default()
    };
    let moved = todo
        .update_task(&user, &list, &created.id, &patch)
        .await
        .unwrap();
    assert_eq!(
        moved.start_date_time.unwrap().calendar_day(&zone).unwrap(),
        next
    );
    let cleared = todo
        .update_task(
            &user,
            &list,
            &created.id,
            &TodoTaskPatch {
                start_date_time: Some(None),
                ..TodoTaskPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.start_date_time, None);
}

#[tokio::test]
async fn the_sync_s_checklist_patch_writes_only_changed_items_and_refuses_a_stale_read() {
    use serde_json::json;
    use tasksync::model::{Binding, RemoteKind};
    use tasksync::sync::{Field, FieldMap, OpenRemote, SideRules, SyncFailure};

    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let list = env.new_todo_list(&client, "Sync").await;
    let binding = Binding::todo("b", "local", &user, &list);
    let rules = SideRules::new(RemoteKind::Todo, CalendarZone::utc());
    let fields = FieldMap::from([
        (Field::Title, json!("Move house")),
        (
            Field::Checklist,
            json!([{"id": "a", "title": "Boxes", "checked": false},
                   {"id": "b", "title": "Van", "checked": false}]),
        ),
    ]);
    let canon = |f: Field| rules.canon(f, &fields[&f]).unwrap();
    let side = client.open(&binding, &rules);
    let created = side
        .create(
            "l-9",
            &FieldMap::from([
                (Field::Title, canon(Field::Title)),
                (Field::Checklist, canon(Field::Checklist)),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(created.fields[&Field::Checklist], canon(Field::Checklist));
    let read = side.get(&created.id).await.unwrap().unwrap();
    assert_eq!(
        read.task_etag, created.task_etag,
        "the create recorded the final ETag"
    );

    // Check one item off: one list of the items, one PATCH, one read for the ETag.
    let before = client.counters().snapshot();
    let target = json!([{"title": "Boxes", "checked": true}, {"title": "Van", "checked": false}]);
    let patched = side
        .patch(&read, &FieldMap::from([(Field::Checklist, target.clone())]))
        .await
        .unwrap();
    assert_eq!(patched.fields[&Field::Checklist], target);
    let after = client.counters();
    let delta = |op: &str| {
        after.total(op)
            - before
                .iter()
                .filter(|((o, _), _)| *o == op)
                .map(|(_, n)| *n)
                .sum::<u64>()
    };
    assert_eq!(delta("todo.list_checklist_items"), 1);
    assert_eq!(delta("todo.update_checklist_item"), 1);
    assert_eq!(delta("todo.create_checklist_item"), 0);
    assert_eq!(delta("todo.delete_checklist_item"), 0);
    assert_eq!(delta("todo.get_task"), 1);
    let fresh = side.get(&created.id).await.unwrap().unwrap();
    assert_eq!(fresh.task_etag, patched.task_etag);

    // A person adds an item after the sync's read: the sync's patch does not overwrite it.
    client
        .todo()
        .create_checklist_item(
            &user,
            &list,
            &created.id,
            &TodoChecklistItemWrite {
                display_name: Some("Keys".into()),
                is_checked: Some(false),
            },
        )
        .await
        .unwrap();
    let stale = side
        .patch(&fresh, &FieldMap::from([(Field::Checklist, json!([]))]))
        .await;
    assert!(matches!(stale, Err(SyncFailure::Stale { .. })), "{stale:?}");
    let items = client
        .todo()
        .list_checklist_items(&user, &list, &created.id)
        .await
        .unwrap();
    assert_eq!(items.len(), 3, "nothing was deleted");
}
