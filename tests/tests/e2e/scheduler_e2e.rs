//! The scheduler with the real worker (moto + the Graph emulator): a task the app wrote is synced
//! to Planner; a person then edits it in Planner (no notification exists, docs/graph-behaviour.md §1.10);
//! the scheduler's sweep finds it through the mapping's ETags, the worker brings the edit into
//! the tasks table, and the next sweep finds nothing, because the worker recorded the new ETags
//! where the sweep reads them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use tasksync::model::{LocalTask, Origin};
use tasksync::scheduler::{RunContext, SchedulerDeps, SchedulerSettings, run_tick};
use testkit::sync_harness::SyncWorld;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_planner_edit_reaches_the_tasks_table_through_the_sweep() {
    let w = SyncWorld::start().await;
    let binding = w.planner_binding("b-sweep", "ops").await;
    w.app_writes(&LocalTask::new(
        "ops",
        "T-1",
        "Order spare parts",
        Origin::App("test-agent".into()),
    ))
    .await;
    assert_eq!(w.drain().await.failed, 0);
    let remote_id = w
        .mapping("ops", "T-1")
        .await
        .expect("mapped")
        .remote_id
        .expect("remote id");

    let scheduler = SchedulerDeps {
        store: w.sync.clone(),
        queue: w.queue.clone(),
        graph: w.graph.clone(),
        settings: SchedulerSettings {
            tenant_id: w.emulator.state.config.tenant_id.clone(),
            ..SchedulerSettings::default()
        },
    };
    let mut now = chrono::Utc::now();
    let tick = |at: chrono::DateTime<chrono::Utc>| {
        let ctx = RunContext::new(at, Instant::now() + Duration::from_secs(50));
        let deps = scheduler.clone();
        async move { run_tick(&deps, &ctx).await }
    };

    // The synced plan: the first sweep finds nothing to do.
    let first = tick(now).await;
    assert_eq!(first.bindings_swept, 1, "{first:?}");
    assert_eq!(
        first.hints_enqueued, 0,
        "the worker recorded the ETags: {first:?}"
    );

    w.person_edits_planner(
        &remote_id,
        json!({ "title": "Order spare parts (2 boxes)" }),
    )
    .await;
    now += chrono::Duration::minutes(31);
    let second = tick(now).await;
    assert_eq!(second.hints_enqueued, 1, "{second:?}");
    assert_eq!(w.drain().await.failed, 0);
    let local = w.local("ops", "T-1").await.expect("local task");
    assert_eq!(local.title, "Order spare parts (2 boxes)");

    now += chrono::Duration::minutes(31);
    let third = tick(now).await;
    assert_eq!(third.hints_enqueued, 0, "{third:?}");
    assert_eq!(binding.id, "b-sweep");
    w.stack.emulator.shutdown();
}
