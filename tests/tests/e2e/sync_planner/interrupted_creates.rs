//! A create that stops between Planner's POST and its details write.
//!
//! Planner takes the marker only in the task details (docs/graph-behaviour.md §2.4), so a create is a POST,
//! then the details write with the marker. Whatever stops it in between (a 409, a 503 past the
//! retries, the process dying), the id recorded on the claim lets the retry finish that task.

use super::*;

/// The Planner task in the plan has no marker yet (what the stopped create left behind).
async fn assert_one_unmarked_task(w: &SyncWorld, b: &Binding) -> String {
    let tasks = w.planner_tasks(b).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let remote_id = tasks[0]["id"].as_str().unwrap().to_owned();
    let (_, d) = w.planner_task(&remote_id).await.unwrap();
    assert_eq!(d["references"], json!({}), "not marked yet");
    let claim = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(claim.state, MappingState::Creating);
    assert_eq!(
        claim.remote_id.as_deref(),
        Some(remote_id.as_str()),
        "the claim holds the new task's id"
    );
    remote_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_409_on_the_details_write_of_a_create_finishes_the_same_task() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-409", "ops").await;
    inject(
        &w,
        "PATCH",
        "/planner/tasks/{task_id}/details",
        409,
        Some(1),
    )
    .await;

    w.app_writes(&rich_task("X-1")).await;
    let cost = settled_cost(&w, "409 on the create's details write: POST, read details, 409, read task + details, details write, task read").await;
    assert_eq!(
        cost,
        (7, 3),
        "the round after the 409 resumes, it does not create"
    );
    let counters = w.graph.counters();
    assert_eq!(counters.total("planner.create_task"), 1);
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Conflict),
        1
    );
    assert_eq!(
        counters.get("planner.update_task_details", Outcome::Success),
        1
    );
    assert_one_complete_task(&w, &b).await;
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_on_every_details_write_of_a_create_is_retried_and_the_next_delivery_finishes_it() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-503", "ops").await;
    inject(&w, "PATCH", "/planner/tasks/{task_id}/details", 503, None).await;

    w.app_writes(&rich_task("X-1")).await;
    let first = w.drain().await;
    assert_eq!(first.received, 1);
    assert_eq!(first.failed, 1, "reported failed for a retry");
    let attempts = emulator_statuses(&w, DETAILS_PATCH).await;
    assert!(
        attempts.get("503").is_some_and(|n| *n > 1),
        "the client retried the 503: {attempts:?}"
    );
    assert_eq!(attempts.len(), 1, "only 503s: {attempts:?}");
    let remote_id = assert_one_unmarked_task(&w, &b).await;

    // Planner answers again; the message comes back (here: the same hint, sent again).
    w.clear_faults().await;
    w.send(w.pipe_hint("ops", "X-1")).await;
    let cost = measured(
        &w,
        "next delivery after a create stopped by 503s: read task + details, details write with the marker, task read",
        async {
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(cost, (4, 1));
    assert_eq!(w.graph.counters().total("planner.create_task"), 1);
    assert_eq!(assert_one_complete_task(&w, &b).await, remote_id);
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_planner_post_and_its_details_write_leaves_one_task() {
    use tasksync::worker::handle_message;

    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-crash", "ops").await;
    // Planner holds the details read of the create long enough for the worker to be killed
    // there: after the POST and the record of its id, before the marker.
    let rule = json!({"method": "GET", "path": "/planner/tasks/{task_id}/details",
                      "latency_ms": 25_000, "times": 1});
    w.add_fault(rule).await;

    let task = rich_task("X-1");
    w.app_writes(&task).await;
    let worker = w.worker();
    let body = tasksync::queue_message::encode(&w.pipe_hint("ops", "X-1"));
    let running = tokio::spawn(async move { handle_message(&body, &worker).await });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let claim = w.mapping("ops", "X-1").await;
        if claim.is_some_and(|m| m.remote_id.is_some()) {
            break;
        }
        assert!(
            !running.is_finished(),
            "the worker finished before the crash point"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the create never reached Planner"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The process dies: its future is dropped mid-request, nothing after this point runs.
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    let remote_id = assert_one_unmarked_task(&w, &b).await;

    // The message is delivered again (the stream's record of the application's write).
    let cost = measured(
        &w,
        "retry after a crash between the POST and the details write (resume by the recorded id)",
        async {
            assert_eq!(w.drain().await.failed, 0);
        },
    )
    .await;
    assert_eq!(
        cost,
        (4, 1),
        "read task + details, details write, task read"
    );
    assert_eq!(w.graph.counters().total("planner.create_task"), 1);
    assert_eq!(assert_one_complete_task(&w, &b).await, remote_id);
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planner_task_whose_id_cannot_be_recorded_is_taken_back() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-create-unrecorded", "ops").await;
    let failing = WorkerDeps::new(
        CrashAfterCreate::refusing_the_id_record(w.sync.clone()),
        w.tasks.clone(),
        w.graph.clone(),
        w.queue.clone(),
    );
    w.app_writes(&rich_task("X-1")).await;
    assert_eq!(w.drain_with(&failing).await.failed, 1);
    // Nothing names the new task, so it was deleted rather than left for a second create.
    assert!(w.planner_tasks(&b).await.is_empty(), "no unrecorded task");
    let counters = w.graph.counters();
    assert_eq!(counters.total("planner.create_task"), 1);
    assert_eq!(counters.get("planner.delete_task", Outcome::Success), 1);
    let claim = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(claim.state, MappingState::Creating);
    assert_eq!(claim.remote_id, None);

    // The next delivery, once the claim's patience is over, creates the task.
    let mut retry = w.worker();
    retry.settings.engine.claim_patience = std::time::Duration::ZERO;
    w.send(w.pipe_hint("ops", "X-1")).await;
    assert_eq!(w.drain_with(&retry).await.failed, 0);
    let tasks = w.planner_tasks(&b).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let m = w.mapping("ops", "X-1").await.unwrap();
    assert_eq!(m.state, MappingState::Active);
    assert_eq!(m.remote_id.as_deref(), tasks[0]["id"].as_str());
    let (_, d) = w
        .planner_task(tasks[0]["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(d["references"].as_object().map(|r| r.len()), Some(1));
    assert_eq!(d["description"], "Rack B, after 18:00");
    w.stack.emulator.shutdown();
}
