//! Every operation on each side of a Planner binding, a deleted plan, and a resync of a plan.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_complete_reopen_and_delete_on_each_side() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-plan", "ops").await;

    let mut task = app_task("ops", "P-1", "Replace the router");
    task.notes = "Model X200".into();
    task.priority = Priority::Urgent;
    task.categories = vec!["category2".into(), "network".into()];
    task.checklist = vec![ChecklistItem {
        id: "c1".into(),
        title: "Order it".into(),
        checked: false,
    }];
    let cost = measured(
        &w,
        "local create → remote (task + details + marker)",
        async {
            w.app_writes(&task).await;
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(
        cost,
        (4, 2),
        "create, read details, patch details, read task"
    );
    let remote_id = w.mapping("ops", "P-1").await.unwrap().remote_id.unwrap();
    let (t, d) = w.planner_task(&remote_id).await.expect("planner task");
    assert_eq!(t["title"], "Replace the router");
    assert_eq!(t["priority"], 1);
    assert_eq!(t["percentComplete"], 0);
    assert_eq!(t["appliedCategories"], json!({"category2": true}));
    assert_eq!(d["description"], "Model X200");
    assert_eq!(d["checklist"]["c1"]["title"], "Order it");
    let marker = serde_json::to_string(&d["references"]).unwrap();
    assert!(marker.contains("tasksync"), "{marker}");

    let cost = hint_cost(
        &w,
        "sweep hint, nothing changed (echo)",
        planner_hint(&b.id, &remote_id),
    )
    .await;
    assert_eq!(cost, (2, 0));

    // A person edits the title and the priority, and ticks the checklist item in the details.
    w.person_edits_planner(
        &remote_id,
        json!({"title": "Replace the router today", "priority": 5}),
    )
    .await;
    w.person_edits_planner_details(
        &remote_id,
        json!({"description": "Model X300", "checklist": {"c1": {"@odata.type": "microsoft.graph.plannerChecklistItem", "isChecked": true}}}),
    )
    .await;
    let cost = hint_cost(
        &w,
        "remote task + details edit → local",
        planner_hint(&b.id, &remote_id),
    )
    .await;
    assert_eq!(cost, (2, 0));
    let local = w.local("ops", "P-1").await.unwrap();
    assert_eq!(local.title, "Replace the router today");
    assert_eq!(local.priority, Priority::Medium);
    assert_eq!(local.notes, "Model X300");
    assert!(local.checklist[0].checked);
    assert_eq!(
        local.categories,
        vec!["category2".to_owned(), "network".to_owned()],
        "what Planner cannot hold stays"
    );

    // The application edits the notes and adds a checklist item: one details PATCH.
    let mut edited = local.clone();
    edited.notes = "Model X300, two units".into();
    edited.checklist.push(ChecklistItem {
        id: "c2".into(),
        title: "Configure it".into(),
        checked: false,
    });
    let cost = measured(&w, "local notes + checklist → details", async {
        w.app_writes(&edited).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost.1, 1);
    let (_, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(d["description"], "Model X300, two units");
    assert_eq!(d["checklist"]["c2"]["title"], "Configure it");
    assert_eq!(d["checklist"]["c1"]["isChecked"], true);

    // Complete locally, reopen in Planner.
    let mut done = w.local("ops", "P-1").await.unwrap();
    done.status = TaskStatus::Completed;
    let cost = measured(&w, "local complete → remote", async {
        w.app_writes(&done).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost.1, 1);
    assert_eq!(
        w.planner_task(&remote_id).await.unwrap().0["percentComplete"],
        100
    );
    w.person_edits_planner(&remote_id, json!({"percentComplete": 50}))
        .await;
    w.send(planner_hint(&b.id, &remote_id)).await;
    w.drain().await;
    let local = w.local("ops", "P-1").await.unwrap();
    assert_eq!(local.status, TaskStatus::InProgress);
    assert_eq!(local.percent_complete, Some(50));
    assert_eq!(local.completed_at, None);

    // Delete locally: the Planner task goes (If-Match with the recorded ETag).
    let mut gone = local.clone();
    gone.deleted = true;
    let cost = measured(&w, "local delete → remote", async {
        w.app_writes(&gone).await;
        w.drain().await;
    })
    .await;
    assert_eq!(cost.1, 1);
    assert!(w.planner_task(&remote_id).await.is_none());
    assert_eq!(
        w.mapping("ops", "P-1").await.unwrap().state,
        MappingState::Deleted
    );

    // A person creates a task in Planner; the sweep's hint brings it in; the person deletes it.
    let born = w
        .person_creates_planner(
            &b,
            json!({"title": "Label the cables", "percentComplete": 50}),
        )
        .await;
    let cost = hint_cost(&w, "remote create → local", planner_hint(&b.id, &born)).await;
    assert_eq!(cost, (2, 0));
    let local = w.local("ops", &born).await.unwrap();
    assert_eq!(local.title, "Label the cables");
    assert_eq!(local.status, TaskStatus::InProgress);
    w.person_deletes_planner(&born).await;
    let cost = hint_cost(&w, "remote delete → local", planner_hint(&b.id, &born)).await;
    assert_eq!(cost, (1, 0));
    assert!(w.local("ops", &born).await.unwrap().deleted);
    assert!(w.planner_tasks(&b).await.is_empty());
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_plan_opens_the_binding_s_circuit_breaker() {
    use tasksync::ports::BindingLookup;
    use tasksync::standalone::work_pump::{ReceivedWork, sqs_event};
    use tasksync::worker::handle_batch;

    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-gone", "ops").await;
    // The plan is deleted in Planner (Graph DELETE with the plan's ETag, as an owner would).
    let http = reqwest::Client::new();
    let config = &w.emulator.state.config;
    let token: serde_json::Value = http
        .post(&w.emulator.token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", config.client_id.as_str()),
            ("client_secret", config.client_secret.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_owned();
    let plan_url = format!(
        "{}/planner/plans/{}",
        w.emulator.graph_base_url, b.remote_container_id
    );
    let plan: serde_json::Value = http
        .get(&plan_url)
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deleted = http
        .delete(&plan_url)
        .bearer_auth(&bearer)
        .header("If-Match", plan["@odata.etag"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let worker = w.worker();
    let body = tasksync::queue_message::encode(&Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "sweep".into(),
    });
    let mut failed = Vec::new();
    for i in 0..worker.settings.breaker_threshold {
        let message = ReceivedWork {
            body: body.clone(),
            receipt_handle: format!("rh-{i}"),
            message_id: format!("m-{i}"),
            receive_count: 1,
        };
        let event = sqs_event(&[message], "arn:aws:sqs:us-east-1:000000000000:q").unwrap();
        failed.push(handle_batch(event, &worker).await.batch_item_failures.len());
    }
    assert_eq!(
        failed,
        [1, 1, 0],
        "retried below the threshold, acknowledged once the breaker opens"
    );
    let breaker = w
        .sync
        .find_binding(&b.id)
        .await
        .unwrap()
        .unwrap()
        .breaker
        .expect("breaker on the binding");
    assert!(breaker.open_until.is_some());
    assert!(
        breaker.reason.contains("no longer exists"),
        "{}",
        breaker.reason
    );
    let calls = w.graph_calls();
    let outcome = tasksync::worker::handle_message(&body, &worker)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            tasksync::worker::MessageOutcome::BreakerOpen { .. }
        ),
        "{outcome:?}"
    );
    assert_eq!(w.graph_calls(), calls, "no Graph call while open");
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_of_a_plan_pairs_both_sides_once() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-sweep", "ops").await;
    w.person_creates_planner(&b, json!({"title": "From Planner 1"}))
        .await;
    let with_details = w
        .person_creates_planner(&b, json!({"title": "From Planner 2"}))
        .await;
    w.person_edits_planner_details(&with_details, json!({"description": "details travel too"}))
        .await;
    w.person_creates_planner(
        &b,
        json!({"title": "Done in Planner", "percentComplete": 100}),
    )
    .await;
    w.app_writes(&app_task("ops", "L-1", "From the app")).await;
    // The application's write reaches the worker first (its own hint), then the resync.
    w.drain().await;
    let resync = resync_hint(&b);
    let cost = clean_hint_cost(
        &w,
        "first resync: 3 Planner + 1 local task (1 completed)",
        resync.clone(),
    )
    .await;
    assert_eq!(
        cost.1, 0,
        "the local task was already created by its own hint"
    );
    let titles: Vec<String> = w
        .planner_tasks(&b)
        .await
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    let local = w.local("ops", &with_details).await.expect("imported");
    assert_eq!(local.notes, "details travel too");
    let cost = hint_cost(&w, "resync with nothing changed", resync.clone()).await;
    assert_eq!(cost, (1, 0), "one listing with details, no write");
    w.stack.emulator.shutdown();
}
