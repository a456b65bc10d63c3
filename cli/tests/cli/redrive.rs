//! `tasksync dlq redrive` and `tasksync dlq --pipe` through the real binary against moto and the
//! emulator, configured only by the functions' environment: dead-lettered hints go back to the
//! work queue and the real worker syncs them; a dry run moves nothing; a body that is not a hint
//! stays; the pipe's batch failure records are shown with what to do.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use tasksync::model::{LocalTask, Origin};
use tasksync::ops::pipe_dead_letters::sample_batch_failure;
use tasksync::ports::{HintSend, SyncRecords};
use tasksync::queue::SqsHintQueue;
use testkit::sync_harness::SyncWorld;

use crate::command::{Run, run_shown, run_with_env};

async fn tasksync(w: &SyncWorld, args: &[&str]) -> Run {
    run_shown(w.function_env(), args).await
}

fn json(run: &Run) -> Vec<Value> {
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
        .as_array()
        .unwrap()
        .clone()
}

async fn dlq_of(w: &SyncWorld) -> SqsHintQueue {
    w.queue.dead_letter_queue().await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redrive_moves_dead_lettered_hints_back_and_they_sync() {
    let w = SyncWorld::start().await;
    let binding = w.todo_binding("b-redrive", "team").await;
    let dlq = dlq_of(&w).await;
    // An agent wrote a task, and its hint died (as after maxReceiveCount failed receives): the
    // stream's record is consumed here, its hint sent straight into the dead-letter queue.
    w.app_writes(&LocalTask::new(
        "team",
        "T-1",
        "Call the supplier",
        Origin::Sync,
    ))
    .await;
    assert_eq!(w.stream.records().await.len(), 1);
    dlq.send_hints(&[w.pipe_hint("team", "T-1")]).await.unwrap();
    let poison = r#"{"v":9,"kind":"from_the_future"}"#.to_owned();
    dlq.send_bodies(std::slice::from_ref(&poison))
        .await
        .unwrap();
    assert_eq!(w.drain().await.received, 0);
    assert!(w.mapping("team", "T-1").await.is_none());

    // No selection is bad usage.
    assert_eq!(tasksync(&w, &["dlq", "redrive"]).await.code, 2);

    // The dry run lists both, moves nothing, and says the poison would stay (exit 3).
    let listed = tasksync(&w, &["dlq"]).await;
    assert!(
        listed
            .stdout
            .contains("2 message(s) in the dead-letter queue")
    );
    let dry_table = tasksync(&w, &["dlq", "redrive", "--all", "--dry-run"]).await;
    assert_eq!(dry_table.code, 3);
    assert!(
        dry_table
            .stdout
            .contains("Dry run: 1 message(s) would move to the work queue; nothing was moved."),
        "{}",
        dry_table.stdout
    );
    let dry = tasksync(&w, &["dlq", "redrive", "--all", "--dry-run", "--json"]).await;
    assert_eq!(dry.code, 3, "{}", dry.stderr);
    let entries = json(&dry);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let hint = entries.iter().find(|e| e["kind"] == "local_task").unwrap();
    assert_eq!(hint["outcome"], "would_move");
    assert_eq!(hint["ids"]["task_id"], "T-1");
    let hint_id = hint["message_id"].as_str().unwrap().to_owned();
    let left = entries.iter().find(|e| e["kind"] == "undecodable").unwrap();
    assert_eq!(left["outcome"], "left");
    assert!(left["reason"].as_str().unwrap().contains("not a hint"));
    assert_eq!(dlq.approximate_depth().await.unwrap(), 2);
    assert_eq!(w.queue.approximate_depth().await.unwrap(), 0);

    // The worker's reason recorded beside the hint is forgotten once it moved.
    w.sync
        .record_dead_letter(&tasksync::sync::DeadLetterReason {
            message_id: hint_id.clone(),
            kind: "local_task".into(),
            reason: "store temporarily unavailable".into(),
            receive_count: 5,
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();

    let moved = tasksync(&w, &["dlq", "redrive", "--all"]).await;
    assert_eq!(moved.code, 3, "the poison stays: {}", moved.stderr);
    assert!(moved.stdout.starts_with("MESSAGE"), "{}", moved.stdout);
    assert!(
        moved
            .stdout
            .contains("1 message(s) moved to the work queue."),
        "{}",
        moved.stdout
    );
    assert!(moved.stdout.contains("1 message(s) are not hints"));
    assert!(w.sync.list_dead_letter_reasons().await.unwrap().is_empty());
    // The poison is still there, intact; the hint is on the work queue and the worker syncs it.
    let rest = json(&tasksync(&w, &["dlq", "--json"]).await);
    assert_eq!(rest.len(), 1, "{rest:?}");
    assert_eq!(rest[0]["body"], poison.as_str());
    let pumped = w.drain().await;
    assert_eq!((pumped.received, pumped.failed), (1, 0), "{pumped:?}");
    let mapping = w
        .mapping("team", "T-1")
        .await
        .expect("synced after redrive");
    let remote_id = mapping.remote_id.unwrap();
    let task = w.todo_task(&binding, &remote_id).await.unwrap();
    assert_eq!(task["title"], "Call the supplier");

    // By id: an id that is not there fails (exit 1) and moves nothing.
    let missing = tasksync(&w, &["dlq", "redrive", "no-such-message"]).await;
    assert_eq!(missing.code, 1);
    assert!(missing.stdout.contains("not in the dead-letter queue"));
    assert_eq!(dlq.approximate_depth().await.unwrap(), 1);
    // A named hint moves alone; the poison beside it stays.
    dlq.send_hints(&[w.pipe_hint("team", "T-2")]).await.unwrap();
    let listed = json(&tasksync(&w, &["dlq", "--json"]).await);
    let second = listed.iter().find(|l| l["kind"] == "local_task").unwrap();
    let id = second["message_id"].as_str().unwrap();
    let one = tasksync(&w, &["dlq", "redrive", id, "--json"]).await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(json(&one).len(), 1);
    assert_eq!(json(&one)[0]["outcome"], "moved");
    assert_eq!(dlq.approximate_depth().await.unwrap(), 1);
    assert_eq!(w.drain().await.received, 1);
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlq_pipe_shows_the_pipes_batch_failures_and_what_to_do() {
    let w = SyncWorld::start().await;
    let empty = tasksync(&w, &["dlq", "--pipe"]).await;
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty
            .stdout
            .starts_with("The pipe's dead-letter queue is empty")
    );
    let url = w
        .aws
        .resources
        .queue_url("PipeDeadLetterQueue")
        .unwrap()
        .to_owned();
    let pipe_dlq = SqsHintQueue::new(w.aws.sqs.clone(), &url);
    let at = chrono::Utc::now();
    let body = sample_batch_failure(
        "arn:aws:pipes:us-east-1:123456789012:pipe/tasks",
        "arn:aws:dynamodb:us-east-1:123456789012:table/tasks/stream/2026-12-03T00:00:00.000",
        "shardId-00000001764720000000-0a1b2c3d",
        "4200000000000000000001",
        "4200000000000000000009",
        at,
    );
    pipe_dlq.send_bodies(&[body]).await.unwrap();

    let listed = tasksync(&w, &["dlq", "--pipe", "--json"]).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let records = json(&listed);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["shard_id"],
        "shardId-00000001764720000000-0a1b2c3d"
    );
    assert_eq!(records[0]["condition"], "RetryAttemptsExhausted");
    assert_eq!(
        records[0]["start_sequence_number"],
        "4200000000000000000001"
    );
    let table = tasksync(&w, &["dlq", "--pipe"]).await.stdout;
    assert!(table.starts_with("MESSAGE"), "{table}");
    assert!(table.contains("tasksync sync ID"), "{table}");
    // The plain view points at it, and the record is still there (nothing is removed).
    let plain = tasksync(&w, &["dlq"]).await.stdout;
    assert!(
        plain.starts_with("The dead-letter queue is empty.\n"),
        "{plain}"
    );
    assert!(plain.contains("see `tasksync dlq --pipe`"), "{plain}");
    // PIPE_DLQ_URL names it directly.
    let mut env = w.function_env();
    env.push(("PIPE_DLQ_URL", url.clone()));
    let named = run_with_env(env, &["dlq", "--pipe", "--json"]).await;
    assert_eq!(named.code, 0, "{}", named.stderr);
    assert_eq!(json(&named).len(), 1);
    w.stack.emulator.shutdown();
}
