//! The answer deadline: a store or queue call that hangs must not hold Graph's answer (docs/graph-behaviour.md
//! §1.7: after 3 s a delivery counts as failed, and endpoints that are often slower are delayed or
//! dropped). The handler answers 503 at the deadline and acknowledges nothing.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tasksync::model::SubscriptionRecord;
use tasksync::ports::{HintSend, QueueError, StoreError, SubscriptionLookup};
use tasksync::queue_message::Hint;
use tasksync::webhook::{MetricsSink, WebhookDeps, WebhookSettings, handle_request};

use crate::webhook_support::*;

const DEADLINE: Duration = Duration::from_millis(100);

/// A store whose reads never finish.
struct HangingStore;

impl SubscriptionLookup for HangingStore {
    async fn find_subscription(&self, _: &str) -> Result<Option<SubscriptionRecord>, StoreError> {
        std::future::pending().await
    }
}

/// A queue whose sends never finish.
struct HangingQueue;

impl HintSend for HangingQueue {
    async fn send_hints(&self, _: &[Hint]) -> Result<(), QueueError> {
        std::future::pending().await
    }
}

fn settings() -> WebhookSettings {
    WebhookSettings {
        answer_deadline: DEADLINE,
        ..WebhookSettings::default()
    }
}

fn one_notification() -> lambda_http::Request {
    post_notifications(&collection(vec![change(SUB, SECRET, TENANT, "T1")]))
}

#[tokio::test]
async fn a_hanging_subscription_lookup_gets_503_at_the_deadline() {
    let deps = WebhookDeps::new(HangingStore, RecordingQueue::default(), settings())
        .with_metrics(MetricsSink::Discard);
    let started = Instant::now();
    let handled = handle_request(one_notification(), &deps).await;
    let took = started.elapsed();
    assert_eq!(handled.response.status(), 503);
    assert!(took >= DEADLINE, "answered before the deadline: {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(deps.queue().calls().is_empty(), "nothing enqueued");
    assert!(
        deps.cache().get(SUB).is_none(),
        "a lookup that did not finish is not cached"
    );
}

#[tokio::test]
async fn a_hanging_enqueue_gets_503_at_the_deadline() {
    let deps = WebhookDeps::new(
        CountingStore::with(&[record(SUB, BINDING)]),
        HangingQueue,
        settings(),
    )
    .with_metrics(MetricsSink::Discard);
    let started = Instant::now();
    let handled = handle_request(one_notification(), &deps).await;
    let took = started.elapsed();
    assert_eq!(handled.response.status(), 503);
    assert!(
        took >= DEADLINE && took < Duration::from_secs(2),
        "took {took:?}"
    );
    assert_eq!(handled.counts.hints_enqueued, 0, "nothing acknowledged");
    assert!(handled.counts.enqueue_latency.is_some());
}

#[tokio::test]
async fn a_fast_request_is_unaffected_by_the_deadline() {
    let (deps, _) = deps_with(settings());
    let handled = handle_request(one_notification(), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint("T1")]);
}
