//! The sync engine end to end with a To Do binding: the real worker handler on the SQS queue
//! (moto), the tasks and sync tables (moto), the Graph emulator, a person editing in the To Do
//! app (control API) and an application writing the tasks table. Each scenario also prints the
//! Graph calls it cost (docs/sync-engine.md, "Graph calls per scenario").
// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::json;
use tasksync::graph::models::TodoChecklistItemWrite;
use tasksync::model::{ChecklistItem, LocalTask, Origin, Priority, TaskDate, TaskStatus};
use tasksync::ports::{BindingLookup, BindingSave, MappingStore, TaskRead, TaskWrite};
use tasksync::queue_message::Hint;
use tasksync::store::Item;
use tasksync::sync::{Field, MappingState, Side};
use testkit::sync_harness::SyncWorld;

fn app_task(list: &str, id: &str, title: &str) -> LocalTask {
    LocalTask::new(list, id, title, Origin::App("test-agent".into()))
}

struct Cost {
    calls: u64,
    writes: u64,
}

fn writes(w: &SyncWorld) -> u64 {
    w.graph_writes()
}

fn cost_since(w: &SyncWorld, before: &Cost) -> Cost {
    Cost {
        calls: w.graph_calls() - before.calls,
        writes: writes(w) - before.writes,
    }
}

fn now_cost(w: &SyncWorld) -> Cost {
    Cost {
        calls: w.graph_calls(),
        writes: writes(w),
    }
}

fn report(scenario: &str, cost: &Cost) {
    println!(
        "GRAPH-CALLS todo | {scenario} | {} | {}",
        cost.calls, cost.writes
    );
}

fn remote_hint(binding_id: &str, task_id: &str) -> Hint {
    Hint::RemoteTodoTask {
        binding_id: binding_id.to_owned(),
        task_id: task_id.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_complete_reopen_and_delete_on_each_side() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-todo", "team").await;

    // The application creates a task: one POST with the marker, nothing else.
    let mut task = app_task("team", "T-1", "Call the supplier");
    task.notes = "About the delivery".into();
    task.priority = Priority::Important;
    task.due = Some(TaskDate::Day(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()));
    let c = now_cost(&w);
    w.app_writes(&task).await;
    assert_eq!(w.drain().await.failed, 0);
    let cost = cost_since(&w, &c);
    report("local create → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 1));
    let m = w.mapping("team", "T-1").await.expect("mapping");
    assert_eq!(m.state, MappingState::Active);
    let remote_id = m.remote_id.clone().expect("remote id");
    let remote = w.todo_task(&b, &remote_id).await.expect("remote task");
    assert_eq!(remote["title"], "Call the supplier");
    assert_eq!(remote["body"]["content"], "About the delivery");
    assert_eq!(remote["importance"], "high");
    assert!(
        remote["dueDateTime"]["dateTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-03"),
        "{remote}"
    );
    assert_eq!(
        w.mapping("team", "T-1").await.unwrap(),
        w.sync
            .mapping_by_remote(b.remote, &remote_id)
            .await
            .unwrap()
            .unwrap(),
        "both mapping items agree"
    );

    // Graph's notification of the sync's own create: one read, no write.
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("echo of the sync's remote write", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));

    // A person renames it in To Do: the local task follows (one read, no Graph write).
    w.person_edits_todo(&b, &remote_id, json!({"title": "Call the supplier today"}))
        .await;
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("remote update → local", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    let local = w.local("team", "T-1").await.unwrap();
    assert_eq!(local.title, "Call the supplier today");
    assert_eq!(local.origin, Origin::Sync);
    assert_eq!(local.notes, "About the delivery");
    assert_eq!(local.priority, Priority::Important);

    // The stream brings the sync's own local write back: no Graph call at all.
    let c = now_cost(&w);
    w.send(w.pipe_hint("team", "T-1")).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("echo of the sync's local write", &cost);
    assert_eq!((cost.calls, cost.writes), (0, 0));

    // A dry run prints the plan for a local edit and writes nothing.
    let mut renamed = local.clone();
    renamed.notes = "Ask for the invoice too".into();
    w.tasks
        .put_task(&LocalTask {
            version: renamed.version + 1,
            origin: Origin::App("x".into()),
            ..renamed
        })
        .await
        .unwrap();
    let c = now_cost(&w);
    let plan = tasksync::worker::dry_run(
        &w.worker(),
        &b,
        tasksync::worker::PairKey::Local("T-1".into()),
    )
    .await
    .unwrap();
    let printed = serde_json::to_value(&plan).unwrap();
    assert_eq!(printed["plan"], "merge", "{printed}");
    assert_eq!(
        printed["remote_patch"]["notes"], "Ask for the invoice too",
        "{printed}"
    );
    assert_eq!(cost_since(&w, &c).writes, 0);
    w.send(w.pipe_hint("team", "T-1")).await;
    w.drain().await;
    let local = w.local("team", "T-1").await.unwrap();

    // The application completes it: one read, one PATCH.
    let mut done = local.clone();
    done.status = TaskStatus::Completed;
    let c = now_cost(&w);
    w.app_writes(&done).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("local complete → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (2, 1));
    let remote = w.todo_task(&b, &remote_id).await.unwrap();
    assert_eq!(remote["status"], "completed");
    assert_eq!(
        remote["title"], "Call the supplier today",
        "the person's title stays"
    );

    // The person reopens it.
    w.person_edits_todo(&b, &remote_id, json!({"status": "notStarted"}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("team", "T-1").await.unwrap();
    assert_eq!(local.status, TaskStatus::NotStarted);
    assert_eq!(local.completed_at, None);

    // The person completes it, then the application reopens it.
    w.person_edits_todo(&b, &remote_id, json!({"status": "completed"}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("team", "T-1").await.unwrap();
    assert_eq!(local.status, TaskStatus::Completed);
    assert!(local.completed_at.is_some());
    let mut reopened = local.clone();
    reopened.status = TaskStatus::InProgress;
    w.app_writes(&reopened).await;
    w.drain().await;
    assert_eq!(
        w.todo_task(&b, &remote_id).await.unwrap()["status"],
        "inProgress"
    );

    // The application deletes it (soft): the To Do task is deleted.
    let mut gone = w.local("team", "T-1").await.unwrap();
    gone.deleted = true;
    let c = now_cost(&w);
    w.app_writes(&gone).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("local delete → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (2, 1));
    assert!(w.todo_task(&b, &remote_id).await.is_none());
    assert_eq!(
        w.mapping("team", "T-1").await.unwrap().state,
        MappingState::Deleted
    );

    // A person creates a task in To Do: it appears locally (local id = remote id).
    let born = w
        .person_creates_todo(&b, json!({"title": "Book the room", "importance": "low"}))
        .await;
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &born)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("remote create → local", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    let local = w.local("team", &born).await.expect("remote-born task");
    assert_eq!(local.title, "Book the room");
    assert_eq!(local.priority, Priority::Low);
    assert_eq!(local.origin, Origin::Sync);

    // The application edits it: the To Do task follows.
    let mut edited = local.clone();
    edited.notes = "Room 4".into();
    w.app_writes(&edited).await;
    w.drain().await;
    let remote = w.todo_task(&b, &born).await.unwrap();
    assert_eq!(remote["body"]["content"], "Room 4");

    // The person deletes it: the local task is soft-deleted.
    w.control
        .delete_todo_task(&b.remote_container_id, &born)
        .await
        .unwrap();
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &born)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("remote delete → local", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    assert!(w.local("team", &born).await.unwrap().deleted);

    // Nothing left behind: no task in the list, no message in the queue.
    assert!(w.todo_tasks(&b).await.is_empty());
    assert_eq!(w.drain().await.received, 0);
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_on_both_sides_merge_per_field() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-merge", "team").await;
    let task = w
        .app_writes(&app_task("team", "M-1", "Quarterly report"))
        .await;
    w.drain().await;
    let remote_id = w.mapping("team", "M-1").await.unwrap().remote_id.unwrap();

    // Different fields at once: the agent edits the notes, the person the title.
    let mut agent = task.clone();
    agent.notes = "numbers from finance".into();
    w.app_writes(&agent).await;
    w.person_edits_todo(&b, &remote_id, json!({"title": "Quarterly report (final)"}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    let c = now_cost(&w);
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("different fields on both sides", &cost);
    assert_eq!(cost.writes, 1);
    let local = w.local("team", "M-1").await.unwrap();
    let remote = w.todo_task(&b, &remote_id).await.unwrap();
    assert_eq!(local.title, "Quarterly report (final)");
    assert_eq!(local.notes, "numbers from finance");
    assert_eq!(remote["title"], "Quarterly report (final)");
    assert_eq!(remote["body"]["content"], "numbers from finance");
    assert!(
        w.mapping("team", "M-1")
            .await
            .unwrap()
            .last_conflicts
            .is_empty()
    );

    // The same field on both sides: the binding's policy (remote wins) decides, recorded.
    let mut agent = local.clone();
    agent.title = "Report by the agent".into();
    w.app_writes(&agent).await;
    w.person_edits_todo(&b, &remote_id, json!({"title": "Report by the person"}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    let c = now_cost(&w);
    w.drain().await;
    report("same field on both sides", &cost_since(&w, &c));
    let local = w.local("team", "M-1").await.unwrap();
    assert_eq!(local.title, "Report by the person");
    let m = w.mapping("team", "M-1").await.unwrap();
    assert_eq!(m.last_conflicts.len(), 1, "{:?}", m.last_conflicts);
    let conflict = &m.last_conflicts[0];
    assert_eq!(conflict.field, Field::Title);
    assert_eq!(conflict.winner, Side::Remote);
    assert_eq!(conflict.local, json!("Report by the agent"));
    assert_eq!(conflict.remote, json!("Report by the person"));

    // A protected field: the person's manual override in the local store always wins.
    let mut pinned = local.clone();
    pinned.title = "Pinned title".into();
    pinned.protected_fields = vec!["title".into()];
    w.app_writes(&pinned).await;
    w.person_edits_todo(&b, &remote_id, json!({"title": "Person tries again"}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    assert_eq!(w.local("team", "M-1").await.unwrap().title, "Pinned title");
    assert_eq!(
        w.todo_task(&b, &remote_id).await.unwrap()["title"],
        "Pinned title"
    );
    let m = w.mapping("team", "M-1").await.unwrap();
    assert_eq!(m.last_conflicts[0].rule, "protected");
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_hint_three_times_and_out_of_order_has_one_outcome() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-dup", "team").await;
    w.app_writes(&app_task("team", "D-1", "Original")).await;
    w.drain().await;
    let remote_id = w.mapping("team", "D-1").await.unwrap().remote_id.unwrap();
    let version = w.local("team", "D-1").await.unwrap().version;

    w.person_edits_todo(&b, &remote_id, json!({"title": "First"}))
        .await;
    w.person_edits_todo(&b, &remote_id, json!({"title": "Second"}))
        .await;
    // Three copies of the notification, and a stale local hint between them.
    let c = now_cost(&w);
    for hint in [
        remote_hint(&b.id, &remote_id),
        w.pipe_hint("team", "D-1"),
        remote_hint(&b.id, &remote_id),
        remote_hint(&b.id, &remote_id),
    ] {
        w.send(hint).await;
    }
    let pumped = w.drain().await;
    assert_eq!(pumped.failed, 0);
    let cost = cost_since(&w, &c);
    report("same hint 3x + a stale local hint", &cost);
    assert_eq!(cost.writes, 0, "nothing goes back to Graph");
    let local = w.local("team", "D-1").await.unwrap();
    assert_eq!(local.title, "Second");
    assert_eq!(local.version, version + 1, "one local write");
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_then_successful_loses_nothing() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-429", "team").await;
    let task = w.app_writes(&app_task("team", "Q-1", "Before")).await;
    w.drain().await;
    let remote_id = w.mapping("team", "Q-1").await.unwrap().remote_id.unwrap();

    // Every PATCH attempt of the client's retry budget is throttled with Retry-After: 1.
    w.control
        .call(
            reqwest::Method::POST,
            "/faults",
            Some(
                &json!({"method": "PATCH", "path_prefix": "/users/", "status": 429,
                         "retry_after_secs": 1, "times": 4}),
            ),
        )
        .await
        .unwrap();
    let mut edited = task.clone();
    edited.title = "After".into();
    w.app_writes(&edited).await;
    let first = w.drain().await;
    assert_eq!(first.failed, 1, "the throttled message is reported failed");
    // It comes back after the Retry-After (its visibility was set to it), and succeeds.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        w.drain().await;
        let remote = w.todo_task(&b, &remote_id).await.unwrap();
        if remote["title"] == "After" {
            break;
        }
        assert!(Instant::now() < deadline, "the edit was lost: {remote}");
    }
    assert_eq!(
        w.graph
            .counters()
            .get("todo.update_task", tasksync::graph::Outcome::Throttled),
        4
    );
    assert_eq!(w.local("team", "Q-1").await.unwrap().title, "After");
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_task_item_is_recorded_and_the_others_sync() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-bad", "team").await;
    let bad: Item = [
        ("list_id", "team"),
        ("id", "BAD-1"),
        ("status", "done"),
        ("version", "1"),
    ]
    .into_iter()
    .map(|(k, v)| {
        let value = if k == "version" {
            aws_sdk_dynamodb::types::AttributeValue::N(v.to_owned())
        } else {
            aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned())
        };
        (k.to_owned(), value)
    })
    .collect();
    w.aws
        .dynamodb
        .put_item()
        .table_name(w.aws.resources.tasks_table())
        .set_item(Some(bad))
        .send()
        .await
        .unwrap();
    w.send(w.pipe_hint("team", "BAD-1")).await;
    w.app_writes(&app_task("team", "GOOD-1", "Fine")).await;
    let pumped = w.drain().await;
    assert_eq!(pumped.failed, 0, "a bad item is an answer, not a failure");
    assert!(
        w.mapping("team", "GOOD-1")
            .await
            .unwrap()
            .remote_id
            .is_some()
    );
    assert_eq!(w.todo_tasks(&b).await.len(), 1);
    let issues = w.sync.list_sync_issues().await.unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].task_id, "BAD-1");
    assert!(
        issues[0].reason.contains("attribute"),
        "{}",
        issues[0].reason
    );
    assert!(w.tasks.get_task("team", "BAD-1").await.is_err());
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_pairs_both_sides_without_duplicates() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-resync", "team").await;
    // Before the binding's first sync: two tasks on each side, one of them already completed.
    let mut local_done = app_task("team", "L-done", "Done locally");
    local_done.status = TaskStatus::Completed;
    for t in [app_task("team", "L-1", "Local one"), local_done] {
        w.tasks.put_task(&t).await.unwrap();
    }
    w.person_creates_todo(&b, json!({"title": "Remote one"}))
        .await;
    w.person_creates_todo(&b, json!({"title": "Remote done", "status": "completed"}))
        .await;
    let c = now_cost(&w);
    w.send(Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "binding created".into(),
    })
    .await;
    assert_eq!(w.drain().await.failed, 0);
    report(
        "first resync, 2+2 tasks (1 completed each side)",
        &cost_since(&w, &c),
    );
    let titles: Vec<String> = w
        .todo_tasks(&b)
        .await
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles.contains(&"Local one".to_owned()));
    assert!(
        !titles.contains(&"Done locally".to_owned()),
        "completed tasks are not imported"
    );
    // Again: nothing to do, no write.
    let c = now_cost(&w);
    w.send(Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "again".into(),
    })
    .await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("resync with nothing changed", &cost);
    assert_eq!(cost.writes, 0);
    assert_eq!(w.todo_tasks(&b).await.len(), 3);
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_emptied_at_once_does_not_empty_the_local_store() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-guard", "team").await;
    for i in 0..6 {
        w.app_writes(&app_task("team", &format!("G-{i}"), &format!("Task {i}")))
            .await;
    }
    w.drain().await;
    let remote: Vec<String> = w
        .todo_tasks(&b)
        .await
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(remote.len(), 6);
    // Someone empties the To Do list; a resync would delete every local task.
    for id in &remote {
        w.control
            .delete_todo_task(&b.remote_container_id, id)
            .await
            .unwrap();
    }
    w.send(Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "missed".into(),
    })
    .await;
    assert_eq!(w.drain().await.failed, 0);
    for i in 0..6 {
        let t = w.local("team", &format!("G-{i}")).await.unwrap();
        assert!(!t.deleted, "the mass-deletion guard held G-{i} back");
    }
    // One deletion on its own is not held back.
    let m = w.mapping("team", "G-0").await.unwrap();
    w.send(remote_hint(&b.id, m.remote_id.as_deref().unwrap()))
        .await;
    w.drain().await;
    assert!(w.local("team", "G-0").await.unwrap().deleted);
    w.emulator.shutdown();
}

fn item(id: &str, title: &str, checked: bool) -> ChecklistItem {
    ChecklistItem {
        id: id.into(),
        title: title.into(),
        checked,
    }
}

/// To Do's checklist of a task as `(title, checked)`, sorted.
async fn todo_checklist(
    w: &SyncWorld,
    b: &tasksync::model::Binding,
    id: &str,
) -> Vec<(String, bool)> {
    let task = w.todo_task(b, id).await.expect("remote task");
    let mut items: Vec<(String, bool)> = task["checklistItems"]
        .as_array()
        .expect("checklistItems")
        .iter()
        .map(|i| {
            (
                i["displayName"].as_str().unwrap().to_owned(),
                i["isChecked"].as_bool().unwrap(),
            )
        })
        .collect();
    items.sort();
    items
}

fn pairs(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = list.iter().map(|(t, c)| ((*t).to_owned(), *c)).collect();
    v.sort();
    v
}

/// The To Do id of the checklist item titled `title` (what a person's app holds).
async fn todo_item_id(
    w: &SyncWorld,
    b: &tasksync::model::Binding,
    id: &str,
    title: &str,
) -> String {
    let task = w.todo_task(b, id).await.expect("remote task");
    task["checklistItems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["displayName"] == title)
        .and_then(|i| i["id"].as_str())
        .expect("item")
        .to_owned()
}

fn sorted_local(task: &LocalTask) -> Vec<ChecklistItem> {
    let mut v = task.checklist.clone();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_after_the_todo_post_is_the_task_not_the_list_and_opens_no_breaker() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-404-item", "errands").await;
    // The first checklist-item POST of the create answers 404, as when a person deletes the new
    // task seconds after it appeared.
    w.control
        .call(
            reqwest::Method::POST,
            "/faults",
            Some(&json!({
                "method": "POST",
                "path": "/users/{id}/todo/lists/{list_id}/tasks/{task_id}/checklistItems",
                "status": 404,
                "times": 1
            })),
        )
        .await
        .expect("fault");
    let mut task = app_task("errands", "E-1", "Renew the parking permit");
    task.checklist = vec![item("c1", "Photo", false)];
    w.app_writes(&task).await;
    w.drain().await;

    let binding = w.sync.find_binding(&b.id).await.unwrap().unwrap();
    assert_eq!(binding.breaker, None, "the list is fine: no breaker");
    // The task was there all along: the next round found it by its marker and finished it.
    let tasks = w.todo_tasks(&b).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let remote_id = w
        .mapping("errands", "E-1")
        .await
        .unwrap()
        .remote_id
        .unwrap();
    assert_eq!(tasks[0]["id"], remote_id.as_str());
    assert_eq!(
        todo_checklist(&w, &b, &remote_id).await,
        pairs(&[("Photo", false)])
    );
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checklist_items_sync_both_ways_one_request_per_changed_item() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-check", "trip").await;
    let user = b.user_id.clone();
    let list = b.remote_container_id.clone();

    // The application creates a task with two checklist items: the task (with the marker), one
    // POST per item, and one read for the final ETag.
    let mut task = app_task("trip", "K-1", "Pack for the trip");
    task.checklist = vec![item("c1", "Passport", false), item("c2", "Charger", false)];
    let c = now_cost(&w);
    w.app_writes(&task).await;
    assert_eq!(w.drain().await.failed, 0);
    let cost = cost_since(&w, &c);
    report("local create with 2 checklist items → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (4, 3));
    let remote_id = w.mapping("trip", "K-1").await.unwrap().remote_id.unwrap();
    assert_eq!(
        todo_checklist(&w, &b, &remote_id).await,
        pairs(&[("Passport", false), ("Charger", false)])
    );

    // Graph's notifications of those writes: one read each, no write, nothing changes locally.
    let before = w.local("trip", "K-1").await.unwrap();
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("echo of the sync's checklist writes", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    assert_eq!(
        w.local("trip", "K-1").await.unwrap().version,
        before.version
    );

    // The application checks one item off: one read of the task, one of its items, one PATCH of
    // that item, one read for the ETag.
    let mut checked = before.clone();
    checked.checklist = vec![item("c1", "Passport", true), item("c2", "Charger", false)];
    let c = now_cost(&w);
    w.app_writes(&checked).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("local checklist check-off → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (4, 1));
    assert_eq!(w.graph.counters().total("todo.update_checklist_item"), 1);
    assert_eq!(
        todo_checklist(&w, &b, &remote_id).await,
        pairs(&[("Passport", true), ("Charger", false)])
    );
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    assert_eq!(cost_since(&w, &c).writes, 0, "the echo costs no write");

    // A person checks the charger off in To Do: the local item keeps its id.
    let charger = todo_item_id(&w, &b, &remote_id, "Charger").await;
    w.observer
        .todo()
        .update_checklist_item(
            &user,
            &list,
            &remote_id,
            &charger,
            &TodoChecklistItemWrite {
                display_name: None,
                is_checked: Some(true),
            },
        )
        .await
        .unwrap();
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("remote checklist check-off → local", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    let local = w.local("trip", "K-1").await.unwrap();
    assert_eq!(
        sorted_local(&local),
        vec![item("c1", "Passport", true), item("c2", "Charger", true)]
    );
    assert_eq!(local.origin, Origin::Sync);
    // The stream's echo of that local write costs nothing.
    let c = now_cost(&w);
    w.send(w.pipe_hint("trip", "K-1")).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    assert_eq!((cost.calls, cost.writes), (0, 0));

    // A person adds an item, renames one and deletes another in To Do.
    let passport = todo_item_id(&w, &b, &remote_id, "Passport").await;
    let todo = w.observer.todo();
    // In the To Do app (control API): an added item and a removed one; through Graph: a rename.
    let items_path = format!("/todo/lists/{list}/tasks/{remote_id}/checklistItems");
    w.control
        .call(
            reqwest::Method::POST,
            &items_path,
            Some(&json!({"displayName": "Adapter"})),
        )
        .await
        .unwrap();
    todo.update_checklist_item(
        &user,
        &list,
        &remote_id,
        &charger,
        &TodoChecklistItemWrite {
            display_name: Some("Phone charger".into()),
            is_checked: None,
        },
    )
    .await
    .unwrap();
    w.control
        .call(
            reqwest::Method::DELETE,
            &format!("{items_path}/{passport}"),
            None,
        )
        .await
        .unwrap();
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("trip", "K-1").await.unwrap();
    let items = sorted_local(&local);
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        items.contains(&item("c2", "Phone charger", true)),
        "{items:?}"
    );
    let adapter = items.iter().find(|i| i.title == "Adapter").expect("added");
    assert!(!adapter.checked);

    // The application renames the adapter and removes the charger: one PATCH and one DELETE.
    let mut edited = local.clone();
    edited.checklist = vec![ChecklistItem {
        title: "Travel adapter".into(),
        ..adapter.clone()
    }];
    let c = now_cost(&w);
    w.app_writes(&edited).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("local checklist rename + removal → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (5, 2));
    assert_eq!(
        todo_checklist(&w, &b, &remote_id).await,
        pairs(&[("Travel adapter", false)])
    );
    // Nothing is left to do on either side.
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.send(w.pipe_hint("trip", "K-1")).await;
    w.drain().await;
    assert_eq!(cost_since(&w, &c).writes, 0);
    assert_eq!(w.local("trip", "K-1").await.unwrap().checklist.len(), 1);
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_dates_sync_both_ways_as_days_in_a_dst_zone() {
    let w = SyncWorld::start().await;
    let mut b = w.todo_binding("b-start", "plans").await;
    // New York moves to summer time at 02:00 on 8 March 2026.
    b.time_zone = "Eastern Standard Time".into();
    w.sync.save_binding(&b).await.unwrap();
    let zone = tasksync::graph::models::CalendarZone::parse("Eastern Standard Time").unwrap();
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();

    let mut task = app_task("plans", "S-1", "Begin on the day the clocks change");
    task.start = Some(TaskDate::Day(day(8)));
    task.due = Some(TaskDate::Day(day(9)));
    let c = now_cost(&w);
    w.app_writes(&task).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    assert_eq!(
        (cost.calls, cost.writes),
        (1, 1),
        "start rides on the create"
    );
    let remote_id = w.mapping("plans", "S-1").await.unwrap().remote_id.unwrap();
    let read_start = |v: &serde_json::Value| {
        serde_json::from_value::<tasksync::graph::models::DateTimeTimeZone>(
            v["startDateTime"].clone(),
        )
        .unwrap()
        .calendar_day(&zone)
        .unwrap()
    };
    let remote = w.todo_task(&b, &remote_id).await.unwrap();
    assert_eq!(remote["startDateTime"]["timeZone"], "UTC");
    assert_eq!(read_start(&remote), day(8));

    // A local start given as an instant goes over as its day in the binding's zone (02:30 UTC
    // on 10 March is still 9 March in New York) and the local instant is kept.
    let mut moved = w.local("plans", "S-1").await.unwrap();
    let instant = chrono::DateTime::parse_from_rfc3339("2026-03-10T02:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    moved.start = Some(TaskDate::Instant(instant));
    let c = now_cost(&w);
    w.app_writes(&moved).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("local start → remote", &cost);
    assert_eq!((cost.calls, cost.writes), (2, 1));
    assert_eq!(
        read_start(&w.todo_task(&b, &remote_id).await.unwrap()),
        day(9)
    );
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    assert_eq!(cost_since(&w, &c).writes, 0, "echo");
    assert_eq!(
        w.local("plans", "S-1").await.unwrap().start,
        Some(TaskDate::Instant(instant)),
        "the instant To Do cannot hold stays locally"
    );

    // A person moves the start to the Saturday before the change in To Do.
    w.person_edits_todo(
        &b,
        &remote_id,
        json!({"startDateTime": {"dateTime": "2026-03-07T00:00:00", "timeZone": "Eastern Standard Time"}}),
    )
    .await;
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let cost = cost_since(&w, &c);
    report("remote start → local", &cost);
    assert_eq!((cost.calls, cost.writes), (1, 0));
    assert_eq!(
        w.local("plans", "S-1").await.unwrap().start,
        Some(TaskDate::Day(day(7)))
    );

    // Clearing it in To Do clears it locally; the due date is untouched.
    w.person_edits_todo(&b, &remote_id, json!({"startDateTime": null}))
        .await;
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("plans", "S-1").await.unwrap();
    assert_eq!(local.start, None);
    assert_eq!(local.due, Some(TaskDate::Day(day(9))));
    w.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_checklist_items_edited_on_both_sides_both_survive() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-both", "home").await;
    let mut task = app_task("home", "D-1", "Weekend chores");
    task.checklist = vec![
        item("c1", "Laundry", false),
        item("c2", "Groceries", false),
        item("c3", "Plants", false),
    ];
    w.app_writes(&task).await;
    w.drain().await;
    let remote_id = w.mapping("home", "D-1").await.unwrap().remote_id.unwrap();
    let local = w.local("home", "D-1").await.unwrap();

    // At the same time: the agent checks the laundry off and adds an item; the person checks
    // the groceries off and renames the plants in To Do.
    let mut agent = local.clone();
    agent.checklist = vec![
        item("c1", "Laundry", true),
        item("c2", "Groceries", false),
        item("c3", "Plants", false),
        item("c4", "Bins out", false),
    ];
    w.app_writes(&agent).await;
    let groceries = todo_item_id(&w, &b, &remote_id, "Groceries").await;
    let plants = todo_item_id(&w, &b, &remote_id, "Plants").await;
    // The check-off in the To Do app (control API), the rename through Graph's route.
    w.control
        .call(
            reqwest::Method::PATCH,
            &format!(
                "/todo/lists/{}/tasks/{remote_id}/checklistItems/{groceries}",
                b.remote_container_id
            ),
            Some(&json!({"isChecked": true})),
        )
        .await
        .unwrap();
    w.observer
        .todo()
        .update_checklist_item(
            &b.user_id,
            &b.remote_container_id,
            &remote_id,
            &plants,
            &TodoChecklistItemWrite {
                display_name: Some("Water the plants".into()),
                is_checked: None,
            },
        )
        .await
        .unwrap();
    w.send(remote_hint(&b.id, &remote_id)).await;
    let c = now_cost(&w);
    w.drain().await;
    let cost = cost_since(&w, &c);
    report(
        "different checklist items on both sides (remote hint, then the local hint)",
        &cost,
    );

    let expected = vec![
        item("c1", "Laundry", true),
        item("c2", "Groceries", true),
        item("c3", "Water the plants", false),
        item("c4", "Bins out", false),
    ];
    assert_eq!(
        sorted_local(&w.local("home", "D-1").await.unwrap()),
        expected
    );
    assert_eq!(
        todo_checklist(&w, &b, &remote_id).await,
        pairs(&[
            ("Laundry", true),
            ("Groceries", true),
            ("Water the plants", false),
            ("Bins out", false)
        ])
    );
    assert!(
        w.mapping("home", "D-1")
            .await
            .unwrap()
            .last_conflicts
            .is_empty(),
        "no conflict: the edits touched different items"
    );
    // Only the agent's two items were written to To Do.
    assert_eq!(cost.writes, 2);

    // And nothing is left to do.
    let c = now_cost(&w);
    w.send(remote_hint(&b.id, &remote_id)).await;
    w.send(w.pipe_hint("home", "D-1")).await;
    w.drain().await;
    assert_eq!(cost_since(&w, &c).writes, 0);
    w.emulator.shutdown();
}
