//! To Do completion times, both as real To Do reports them (the day at midnight UTC) and as an
//! instant (the emulator's `TodoCompletion`): a completion syncs both ways, and afterwards neither
//! a repeated notification, nor the echo of the sync's own write, nor a resync looks like a
//! change (no Graph write, no local write), whatever form the time comes in.
// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use graph_emulator::{EmulatorConfig, TodoCompletion};
use serde_json::json;
use tasksync::model::{LocalTask, Origin, TaskStatus};
use tasksync::queue_message::Hint;
use testkit::stack::TestStack;
use testkit::sync_harness::{StreamForwarder, SyncWorld};

async fn world(completion: TodoCompletion) -> SyncWorld {
    let stack = TestStack::start_with(EmulatorConfig {
        todo_completion: completion,
        ..EmulatorConfig::default()
    })
    .await;
    let observer = stack.another_graph_client();
    let stream = StreamForwarder::start(&stack.aws).await;
    SyncWorld {
        stack,
        observer,
        stream,
    }
}

async fn completions_sync_and_stay_settled(completion: TodoCompletion) {
    let w = world(completion).await;
    let b = w.todo_binding("b-done", "team").await;

    // A person completes a synced task in To Do.
    let task = LocalTask::new(
        "team",
        "C-1",
        "Close the books",
        Origin::App("agent".into()),
    );
    w.app_writes(&task).await;
    w.drain().await;
    let remote_id = w.mapping("team", "C-1").await.unwrap().remote_id.unwrap();
    w.person_edits_todo(&b, &remote_id, json!({"status": "completed"}))
        .await;
    let reported = w.todo_task(&b, &remote_id).await.unwrap();
    let text = reported["completedDateTime"]["dateTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        text.ends_with("T00:00:00.0000000"),
        completion == TodoCompletion::Day,
        "{completion:?}: {text}"
    );
    let hint = Hint::remote_task(b.remote, &b.id, &remote_id);
    w.send(hint.clone()).await;
    w.drain().await;
    let local = w.local("team", "C-1").await.unwrap();
    assert_eq!(local.status, TaskStatus::Completed, "{completion:?}");
    let completed_at = local.completed_at.expect("a completion time");
    let modified = reported["lastModifiedDateTime"].as_str().unwrap();
    assert_eq!(
        completed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)[..19],
        modified[..19],
        "{completion:?}: the completion's instant, or that day's last write, never midnight"
    );

    // An agent completes another task locally: To Do gets it; its notification is an echo.
    let other = LocalTask::new(
        "team",
        "C-2",
        "File the report",
        Origin::App("agent".into()),
    );
    let other = w.app_writes(&other).await;
    w.drain().await;
    let mut done = other.clone();
    done.status = TaskStatus::Completed;
    done.completed_at = Some(chrono::Utc::now());
    w.app_writes(&done).await;
    w.drain().await;
    let other_remote = w.mapping("team", "C-2").await.unwrap().remote_id.unwrap();
    assert_eq!(
        w.todo_task(&b, &other_remote).await.unwrap()["status"],
        "completed"
    );

    // Settled: repeated hints, the echo and a resync write nothing anywhere.
    let versions = (
        w.local("team", "C-1").await.unwrap().version,
        w.local("team", "C-2").await.unwrap().version,
    );
    let writes = w.graph_writes();
    for _ in 0..2 {
        w.send(hint.clone()).await;
        w.send(Hint::remote_task(b.remote, &b.id, &other_remote))
            .await;
        w.send(Hint::ResyncBinding {
            binding_id: b.id.clone(),
            reason: "completion check".into(),
        })
        .await;
        w.drain().await;
    }
    assert_eq!(w.graph_writes(), writes, "{completion:?}: no Graph write");
    assert_eq!(
        (
            w.local("team", "C-1").await.unwrap().version,
            w.local("team", "C-2").await.unwrap().version,
        ),
        versions,
        "{completion:?}: no local write"
    );
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_only_completion_syncs_and_stays_settled() {
    completions_sync_and_stay_settled(TodoCompletion::Day).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instant_completion_syncs_and_stays_settled() {
    completions_sync_and_stay_settled(TodoCompletion::Instant).await;
}
