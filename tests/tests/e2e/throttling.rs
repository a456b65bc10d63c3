//! Throttling without sleeping, end to end: the real worker handler on batches received from the
//! work queue (moto, with template.yaml's redrive policy to the DLQ), against the emulator
//! answering every task read with 429 and a 30 s `Retry-After`.
//!
//! The test plays the event source mapping itself (receive, invoke, delete what did not fail) so
//! it can time each invocation and let the 30 s of visibility pass at once: a failed message is
//! made visible again right away, which is what SQS does when its wait is over. Without the
//! worker's last-receive copy, moto's redrive policy would move each message to the DLQ on its
//! sixth receive.
// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;
use tasksync::graph::Outcome;
use tasksync::ports::TaskList;
use tasksync::queue_message::{Hint, decode_attempt};
use tasksync::standalone::work_pump::sqs_event;
use tasksync::worker::handle_batch;
use testkit::sync_harness::SyncWorld;

const BURST: usize = 12;
const RETRY_AFTER_SECS: u64 = 30;
/// Well under the `Retry-After`: the client waits at most 2 s in one call, and a throttled
/// binding's other messages do not call Graph at all.
const LONGEST_INVOCATION: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_keeps_invocations_short_and_the_dlq_empty() {
    let w = SyncWorld::start().await;
    let b = w.todo_binding("b-throttle", "team").await;
    let mut remote_ids = Vec::new();
    for i in 0..BURST {
        remote_ids.push(
            w.person_creates_todo(&b, json!({ "title": format!("burst {i}") }))
                .await,
        );
    }
    w.add_fault(
        json!({"method": "GET", "path_prefix": "/users/", "status": 429,
                       "retry_after_secs": RETRY_AFTER_SECS}),
    )
    .await;
    for id in &remote_ids {
        w.send(Hint::remote_task(b.remote, &b.id, id)).await;
    }
    let worker = w.worker();
    let arn = "arn:aws:sqs:us-east-1:000000000000:work";

    // Every message through all of its receives while Graph throttles.
    let mut batches = 0u64;
    let mut longest = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let messages = w.queue.receive(10, 0).await.unwrap();
        if messages.is_empty() {
            break;
        }
        assert!(
            messages.iter().all(|m| m.receive_count <= 5),
            "received past maxReceiveCount: {messages:?}"
        );
        let event = sqs_event(&messages, arn).unwrap();
        let started = Instant::now();
        let response = handle_batch(event, &worker).await;
        let took = started.elapsed();
        longest = longest.max(took);
        batches += 1;
        assert!(
            took < LONGEST_INVOCATION,
            "an invocation took {took:?} under a {RETRY_AFTER_SECS} s Retry-After"
        );
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        for m in &messages {
            if failed.contains(m.message_id.as_str()) {
                assert!(m.receive_count < 5, "a last receive must not fail: {m:?}");
                // The Retry-After has passed, as far as this message is concerned.
                w.queue
                    .change_visibility(&m.receipt_handle, 0)
                    .await
                    .unwrap();
            } else {
                assert_eq!(m.receive_count, 5, "acknowledged only on its last receive");
                w.queue.delete(&m.receipt_handle).await.unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the throttled receives never ended"
        );
    }
    let throttled = w.graph.counters().get("todo.get_task", Outcome::Throttled);
    println!(
        "throttling: {batches} invocations, longest {longest:?}, {throttled} throttled Graph reads"
    );
    assert!(
        throttled <= batches,
        "one throttled read per binding per invocation, the rest deferred: {throttled} reads in {batches} batches"
    );
    let dlq = w.queue.dead_letter_queue().await.unwrap().expect("a DLQ");
    assert!(dlq.receive(10, 0).await.unwrap().is_empty(), "DLQ empty");

    // The fault clears; the delayed copies come back after the Retry-After and sync.
    w.clear_faults().await;
    let deadline = Instant::now() + Duration::from_secs(RETRY_AFTER_SECS + 40);
    let mut attempts = Vec::new();
    loop {
        let messages = w.queue.receive(10, 1).await.unwrap();
        if !messages.is_empty() {
            attempts.extend(messages.iter().map(|m| decode_attempt(&m.body).unwrap().1));
            let response = handle_batch(sqs_event(&messages, arn).unwrap(), &worker).await;
            assert!(response.batch_item_failures.is_empty(), "{response:?}");
            for m in &messages {
                w.queue.delete(&m.receipt_handle).await.unwrap();
            }
        }
        let synced = w.tasks.list_tasks("team").await.unwrap().len();
        if synced == BURST {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {synced} of {BURST} changes synced"
        );
    }
    assert_eq!(
        attempts,
        vec![1; BURST],
        "each came back once, as attempt 1"
    );
    assert!(
        dlq.receive(10, 0).await.unwrap().is_empty(),
        "DLQ still empty"
    );
    w.stack.emulator.shutdown();
}
