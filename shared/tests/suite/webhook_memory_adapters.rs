//! The webhook handler wired to the in-memory adapters (`MemoryStore`, `MemoryHintQueue`), the
//! same wiring the embedded local run uses: subscriptions go through the store's item codec and
//! hints come out as the encoded envelopes the worker decodes.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tasksync::ports::SubscriptionSave;
use tasksync::queue::MemoryHintQueue;
use tasksync::queue_message::Hint;
use tasksync::store::MemoryStore;
use tasksync::webhook::{MetricsSink, RejectReason, WebhookDeps, WebhookSettings, handle_request};

use crate::webhook_support::*;

async fn memory_deps() -> WebhookDeps<MemoryStore, MemoryHintQueue> {
    let store = MemoryStore::new();
    store
        .save_subscription(&record(SUB, BINDING))
        .await
        .unwrap();
    WebhookDeps::new(store, MemoryHintQueue::new(), WebhookSettings::default())
        .with_metrics(MetricsSink::Discard)
}

#[tokio::test]
async fn fifty_notifications_arrive_as_fifty_decodable_envelopes() {
    let deps = memory_deps().await;
    let items = (0..50)
        .map(|i| change(SUB, SECRET, TENANT, &format!("T{i}")))
        .collect();
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    let hints: Vec<Hint> = deps
        .queue()
        .drain_hints()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<Hint> = (0..50).map(|i| task_hint(&format!("T{i}"))).collect();
    assert_eq!(hints, expected);
}

#[tokio::test]
async fn forged_items_leave_the_queue_empty() {
    let deps = memory_deps().await;
    let items = vec![
        change(SUB, "forged", TENANT, "T1"),
        change("no-such-subscription", SECRET, TENANT, "T2"),
    ];
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert!(deps.queue().is_empty());
    assert_eq!(
        handled.counts.rejected(RejectReason::ClientStateMismatch),
        1
    );
    assert_eq!(
        handled.counts.rejected(RejectReason::UnknownSubscription),
        1
    );
}

#[tokio::test]
async fn a_refused_send_is_a_503_and_the_retry_delivers() {
    let deps = memory_deps().await;
    let body = collection(vec![change(SUB, SECRET, TENANT, "T1")]);
    deps.queue().refuse_sends(Some("throttled".into()));
    let handled = handle_request(post_notifications(&body), &deps).await;
    assert_eq!(handled.response.status(), 503);
    assert!(deps.queue().is_empty());

    deps.queue().refuse_sends(None);
    let handled = handle_request(post_notifications(&body), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().drain_hints(), vec![Ok(task_hint("T1"))]);
}

#[tokio::test]
async fn lifecycle_fixture_through_the_memory_adapters() {
    let deps = memory_deps().await;
    let handled = handle_request(event_from_fixture("event-post-lifecycle.json"), &deps).await;
    assert_eq!(handled.response.status(), 202);
    let kinds: Vec<&str> = deps
        .queue()
        .drain_hints()
        .iter()
        .map(|h| h.as_ref().unwrap().kind())
        .collect();
    assert_eq!(
        kinds,
        [
            "reauthorize_subscription",
            "recreate_subscription",
            "resync_binding"
        ]
    );
}
