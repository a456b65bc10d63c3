//! A missing permission (403) and a vanished container reach the binding's circuit breaker on
//! every path of the engine that can meet them: a remote hint, a local hint for a mapped task, a
//! new task's create, a change's patch, a deletion, a claim's marker search and a resync, for To
//! Do and Planner. Each case runs one message through the real worker batch handler (moto's
//! stores, the emulator's Graph with an injected fault) and reads the breaker back from the sync
//! table: a failure classified anywhere else (rejected, retried) would leave it untouched.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_lambda_events::sqs::SqsEvent;
use chrono::Utc;
use serde_json::{Value, json};
use tasksync::model::{Binding, LocalTask, Origin};
use tasksync::ports::{BindingLookup, BindingSave, MappingStore};
use tasksync::queue_message::{Hint, encode};
use tasksync::sync::{Field, Mapping};
use tasksync::worker::handle_batch;
use testkit::sync_harness::SyncWorld;

fn app_task(list: &str, id: &str, title: &str) -> LocalTask {
    LocalTask::new(list, id, title, Origin::App("test-agent".into()))
}

fn one_message(hint: &Hint) -> SqsEvent {
    serde_json::from_value(json!({"Records": [{
        "messageId": "m-1", "receiptHandle": "rh-1", "body": encode(hint),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "eventSource": "aws:sqs"
    }]}))
    .expect("an SQS event")
}

/// Runs `hint` through the worker with `fault` injected, and returns how many binding-level
/// failures the breaker counted for it (the breaker is reset first).
async fn breaker_count_after(w: &SyncWorld, binding: &Binding, fault: &[Value], hint: Hint) -> u32 {
    w.sync.save_binding(binding).await.expect("binding reset");
    for rule in fault {
        w.add_fault(rule.clone()).await;
    }
    let response = handle_batch(one_message(&hint), &w.worker()).await;
    w.clear_faults().await;
    assert_eq!(
        response.batch_item_failures.len(),
        1,
        "the message is reported failed ({hint:?})"
    );
    let stored = w
        .sync
        .find_binding(&binding.id)
        .await
        .expect("read")
        .expect("binding");
    stored.breaker.map_or(0, |b| b.failures)
}

fn denied(prefix: &str, method: Option<&str>) -> Value {
    json!({"path_prefix": prefix, "status": 403, "method": method})
}

fn gone(prefix: &str) -> Value {
    json!({"path_prefix": prefix, "status": 404})
}

/// A claim of `local_id` older than the claim patience, with no remote id recorded: a retry
/// searches the container for what its create left.
async fn stale_claim(w: &SyncWorld, binding: &Binding, local_id: &str, title: &str) {
    let mut claim = Mapping::claim(
        &binding.id,
        &binding.local_list_id,
        local_id,
        binding.remote,
        Utc::now() - chrono::Duration::minutes(10),
    );
    claim.base.insert(Field::Title, json!(title));
    w.sync
        .save_mapping(&claim, None, None)
        .await
        .expect("claim saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_and_a_vanished_list_reach_the_breaker_on_every_to_do_path() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-denied", "team").await;
    let synced = w.app_writes(&app_task("team", "T-1", "Synced")).await;
    w.drain().await;
    let remote_id = w
        .mapping("team", "T-1")
        .await
        .and_then(|m| m.remote_id)
        .expect("T-1 synced");
    let list_prefix = format!("/users/{}/todo/lists/{}", w.user_id, b.remote_container_id);
    let users = "/users/";

    let remote_hint = Hint::RemoteTodoTask {
        binding_id: b.id.clone(),
        task_id: remote_id.clone(),
    };
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, None)], remote_hint).await,
        1,
        "remote hint: the task read"
    );

    w.app_writes(&LocalTask {
        title: "Renamed".into(),
        ..synced.clone()
    })
    .await;
    let changed = w.pipe_hint("team", "T-1");
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, None)], changed.clone()).await,
        1,
        "local change: the task read"
    );
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, Some("PATCH"))], changed).await,
        1,
        "local change: the patch"
    );

    w.app_writes(&app_task("team", "T-2", "New")).await;
    let new = w.pipe_hint("team", "T-2");
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, Some("POST"))], new).await,
        1,
        "new task: the create"
    );
    w.app_writes(&app_task("team", "T-2b", "New too")).await;
    let new_too = w.pipe_hint("team", "T-2b");
    assert_eq!(
        breaker_count_after(&w, &b, &[gone(&list_prefix)], new_too).await,
        1,
        "new task: the create in a vanished list"
    );

    stale_claim(&w, &b, "T-3", "Claimed").await;
    w.app_writes(&app_task("team", "T-3", "Claimed")).await;
    let claimed = w.pipe_hint("team", "T-3");
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, Some("GET"))], claimed.clone()).await,
        1,
        "claim: the marker search"
    );
    assert_eq!(
        breaker_count_after(&w, &b, &[gone(&list_prefix)], claimed).await,
        1,
        "claim: the marker search in a vanished list"
    );

    let resync = Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "test".into(),
    };
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, None)], resync.clone()).await,
        1,
        "resync: the listing"
    );
    assert_eq!(
        breaker_count_after(&w, &b, &[gone(&list_prefix)], resync).await,
        1,
        "resync: a vanished list"
    );

    w.app_writes(&LocalTask {
        deleted: true,
        ..w.local("team", "T-1").await.expect("T-1")
    })
    .await;
    let deleted = w.pipe_hint("team", "T-1");
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(users, Some("DELETE"))], deleted).await,
        1,
        "local deletion: the remote delete"
    );
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_and_a_vanished_plan_reach_the_breaker_on_every_planner_path() {
    let w = SyncWorld::start().await;
    let b = w.planner_binding("b-plan-denied", "ops").await;
    w.app_writes(&app_task("ops", "P-1", "Synced")).await;
    w.drain().await;
    let remote_id = w
        .mapping("ops", "P-1")
        .await
        .and_then(|m| m.remote_id)
        .expect("P-1 synced");
    let plan_prefix = format!("/planner/plans/{}", b.remote_container_id);
    let planner = "/planner/";

    let remote_hint = Hint::RemotePlannerTask {
        binding_id: b.id.clone(),
        task_id: remote_id,
    };
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(planner, None)], remote_hint).await,
        1,
        "remote hint: the task read"
    );

    w.app_writes(&app_task("ops", "P-2", "New")).await;
    let new = w.pipe_hint("ops", "P-2");
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(planner, Some("POST"))], new).await,
        1,
        "new task: the create"
    );
    w.app_writes(&app_task("ops", "P-2b", "New too")).await;
    let new_too = w.pipe_hint("ops", "P-2b");
    assert_eq!(
        breaker_count_after(
            &w,
            &b,
            &[json!({"path": "/planner/tasks", "method": "POST", "status": 404})],
            new_too
        )
        .await,
        1,
        "new task: the create in a vanished plan"
    );

    stale_claim(&w, &b, "P-3", "Claimed").await;
    w.app_writes(&app_task("ops", "P-3", "Claimed")).await;
    let claimed = w.pipe_hint("ops", "P-3");
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(&plan_prefix, None)], claimed.clone()).await,
        1,
        "claim: the search of the plan"
    );
    assert_eq!(
        breaker_count_after(&w, &b, &[gone(&plan_prefix)], claimed).await,
        1,
        "claim: the search of a vanished plan"
    );

    let resync = Hint::ResyncBinding {
        binding_id: b.id.clone(),
        reason: "test".into(),
    };
    assert_eq!(
        breaker_count_after(&w, &b, &[denied(&plan_prefix, None)], resync.clone()).await,
        1,
        "resync: the listing"
    );
    assert_eq!(
        breaker_count_after(&w, &b, &[gone(&plan_prefix)], resync).await,
        1,
        "resync: a vanished plan"
    );
    w.stack.emulator.shutdown();
}
