//! Edits on both sides merged per field, and what delivery does to hints: repeated, out of
//! order, throttled, or carrying a bad item.

use super::*;

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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_then_successful_loses_nothing() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-429", "team").await;
    let task = w.app_writes(&app_task("team", "Q-1", "Before")).await;
    w.drain().await;
    let remote_id = w.mapping("team", "Q-1").await.unwrap().remote_id.unwrap();

    // Every PATCH attempt of the client's retry budget is throttled with Retry-After: 1.
    w.add_fault(
        json!({"method": "PATCH", "path_prefix": "/users/", "status": 429,
                       "retry_after_secs": 1, "times": 4}),
    )
    .await;
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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
}
