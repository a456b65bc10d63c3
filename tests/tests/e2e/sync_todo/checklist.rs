//! Checklist items both ways, one request per changed item, and a 404 after the task's POST.

use super::*;

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
    w.add_fault(json!({
        "method": "POST",
        "path": "/users/{id}/todo/lists/{list_id}/tasks/{task_id}/checklistItems",
        "status": 404,
        "times": 1
    }))
    .await;
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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
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
    w.stack.emulator.shutdown();
}
