//! Every operation on each side of a To Do binding, a resync, and a list emptied at once.

use super::*;

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
    let plan = w
        .worker()
        .engine()
        .dry_run(&b, &tasksync::sync::PairKey::Local("T-1".into()))
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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
}
