//! The worker's handling of failures, with in-memory stores and a scripted Graph: the circuit
//! breaker of a binding that keeps failing, the throttled message's visibility delay, the
//! dead-letter reason recorded on the last receive, subscription hints without a scheduler.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_lambda_events::sqs::SqsEvent;
use tasksync::graph::GraphError;
use tasksync::model::Binding;
use tasksync::ports::{BindingLookup, BindingSave, MessageDelay, QueueError};
use tasksync::queue_message::{Hint, encode};
use tasksync::store::MemoryStore;
use tasksync::sync::remote::{EarlierCreate, RemoteCall};
use tasksync::sync::{FieldMap, OpenRemote, RemoteSide, RemoteTask, SideRules, SyncFailure};
use tasksync::worker::{MessageOutcome, WorkerDeps, handle_batch, handle_message};

/// Graph that answers every call with the same failure, and counts the calls.
struct FailingGraph {
    error: fn() -> GraphError,
    calls: AtomicU32,
}

impl FailingGraph {
    fn new(error: fn() -> GraphError) -> Self {
        Self {
            error,
            calls: AtomicU32::new(0),
        }
    }
}

impl OpenRemote for FailingGraph {
    fn open<'a>(&'a self, binding: &Binding, _: &SideRules) -> Box<dyn RemoteSide + 'a> {
        Box::new(FailingSide {
            graph: self,
            binding: binding.clone(),
        })
    }
}

/// One binding's container where every call fails, classified as a real side classifies
/// Graph's answer: on a call about the container itself (list, create, the marker search) a 404
/// is the container gone.
struct FailingSide<'a> {
    graph: &'a FailingGraph,
    binding: Binding,
}

impl FailingSide<'_> {
    fn fail<T: Send + 'static>(&self) -> RemoteCall<'static, T> {
        self.graph.calls.fetch_add(1, Ordering::SeqCst);
        let failure = SyncFailure::from((self.graph.error)());
        Box::pin(async move { Err(failure) })
    }

    fn fail_on_container<T: Send + 'static>(&self) -> RemoteCall<'static, T> {
        self.graph.calls.fetch_add(1, Ordering::SeqCst);
        let failure = SyncFailure::of_container_call(&self.binding, "a call", (self.graph.error)());
        Box::pin(async move { Err(failure) })
    }
}

impl RemoteSide for FailingSide<'_> {
    fn get<'a>(&'a self, _: &'a str) -> RemoteCall<'a, Option<RemoteTask>> {
        self.fail()
    }
    fn list(&self) -> RemoteCall<'_, Vec<RemoteTask>> {
        self.fail_on_container()
    }
    fn find_earlier_create<'a>(&'a self, _: &'a str) -> RemoteCall<'a, EarlierCreate> {
        self.fail_on_container()
    }
    fn create<'a>(&'a self, _: &'a str, _: &'a FieldMap) -> RemoteCall<'a, RemoteTask> {
        self.fail_on_container()
    }
    fn complete_create<'a>(
        &'a self,
        _: &'a str,
        _: &'a RemoteTask,
        _: &'a FieldMap,
    ) -> RemoteCall<'a, RemoteTask> {
        self.fail()
    }
    fn patch<'a>(&'a self, _: &'a RemoteTask, _: &'a FieldMap) -> RemoteCall<'a, RemoteTask> {
        self.fail()
    }
    fn delete<'a>(&'a self, _: &'a RemoteTask) -> RemoteCall<'a, ()> {
        self.fail()
    }
}

/// Records the visibility changes asked for.
#[derive(Default)]
struct RecordingDelay {
    delays: Mutex<Vec<(String, u32)>>,
}

impl MessageDelay for RecordingDelay {
    async fn delay_message(&self, receipt_handle: &str, secs: u32) -> Result<(), QueueError> {
        self.delays
            .lock()
            .unwrap()
            .push((receipt_handle.to_owned(), secs));
        Ok(())
    }
}

fn event(bodies: &[(&str, &str, u32)]) -> SqsEvent {
    let records: Vec<serde_json::Value> = bodies
        .iter()
        .map(|(id, body, receives)| {
            serde_json::json!({
                "messageId": id, "receiptHandle": format!("rh-{id}"), "body": body,
                "attributes": {"ApproximateReceiveCount": receives.to_string()},
                "messageAttributes": {}, "eventSource": "aws:sqs"
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

fn remote_hint() -> String {
    encode(&Hint::RemotePlannerTask {
        binding_id: "b1".into(),
        task_id: "AAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
    })
}

async fn deps(
    error: fn() -> GraphError,
) -> WorkerDeps<MemoryStore, MemoryStore, FailingGraph, RecordingDelay> {
    let store = MemoryStore::new();
    store
        .save_binding(&Binding::planner("b1", "ops", "plan-1"))
        .await
        .unwrap();
    WorkerDeps::new(
        store.clone(),
        store,
        FailingGraph::new(error),
        RecordingDelay::default(),
    )
}

#[tokio::test]
async fn a_binding_that_keeps_failing_opens_its_breaker() {
    let d = deps(|| GraphError::Forbidden {
        code: "Authorization_RequestDenied".into(),
        message: "Insufficient privileges".into(),
    })
    .await;
    let body = remote_hint();
    // Below the threshold the messages fail (and will be retried).
    for i in 1..d.settings.breaker_threshold {
        let response = handle_batch(event(&[(&format!("m{i}"), &body, 1)]), &d).await;
        assert_eq!(response.batch_item_failures.len(), 1, "failure {i}");
    }
    // At the threshold the breaker opens and the message is acknowledged, not failed.
    let response = handle_batch(event(&[("m-open", &body, 1)]), &d).await;
    assert!(response.batch_item_failures.is_empty());
    let binding = d.sync.find_binding("b1").await.unwrap().unwrap();
    let breaker = binding.breaker.expect("breaker recorded on the binding");
    assert!(breaker.open_until.is_some());
    assert!(
        breaker.reason.contains("Authorization_RequestDenied"),
        "{}",
        breaker.reason
    );
    // While open: acknowledged without calling Graph.
    let calls = d.graph.calls.load(Ordering::SeqCst);
    let outcome = handle_message(&body, &d).await.unwrap();
    assert!(
        matches!(outcome, MessageOutcome::BreakerOpen { .. }),
        "{outcome:?}"
    );
    assert_eq!(d.graph.calls.load(Ordering::SeqCst), calls);
    // An operator saving the binding again closes it.
    d.sync
        .save_binding(&Binding::planner("b1", "ops", "plan-1"))
        .await
        .unwrap();
    assert!(handle_message(&body, &d).await.is_err(), "processed again");
}

#[tokio::test]
async fn a_throttled_message_comes_back_after_retry_after() {
    let d = deps(|| GraphError::Throttled {
        retry_after: Duration::from_secs(7),
    })
    .await;
    let response = handle_batch(event(&[("m1", &remote_hint(), 1)]), &d).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        *d.queue.delays.lock().unwrap(),
        vec![("rh-m1".to_owned(), 7)],
        "visibility set to Retry-After instead of sleeping"
    );
    assert!(
        d.sync
            .find_binding("b1")
            .await
            .unwrap()
            .unwrap()
            .breaker
            .is_none()
    );
}

#[tokio::test]
async fn the_last_receive_records_why_the_message_dies() {
    let d = deps(|| GraphError::Transient("503".into())).await;
    let response = handle_batch(
        event(&[
            ("early", "not json", 1),
            ("last", "not json", 5),
            ("last-valid", &remote_hint(), 5),
        ]),
        &d,
    )
    .await;
    assert_eq!(
        response.batch_item_failures.len(),
        3,
        "each fails on its own"
    );
    let reasons = d.sync.list_dead_letter_reasons().unwrap();
    let ids: Vec<&str> = reasons.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["last", "last-valid"]);
    assert_eq!(reasons[0].kind, "undecodable");
    assert!(
        reasons[0].reason.contains("undecodable message"),
        "{}",
        reasons[0].reason
    );
    assert_eq!(reasons[1].kind, "remote_planner_task");
    assert!(reasons[1].reason.contains("503"), "{}", reasons[1].reason);
}

#[tokio::test]
async fn subscription_hints_without_a_scheduler_are_acknowledged() {
    let d = deps(|| GraphError::NotFound).await;
    let body = encode(&Hint::RecreateSubscription {
        binding_id: "b1".into(),
        subscription_id: "s1".into(),
    });
    let outcome = handle_message(&body, &d).await.unwrap();
    assert_eq!(
        outcome,
        MessageOutcome::NotYetHandled {
            kind: "recreate_subscription"
        }
    );
}

#[tokio::test]
async fn a_hint_for_a_removed_binding_is_acknowledged() {
    let d = deps(|| GraphError::NotFound).await;
    let body = encode(&Hint::RemoteTodoTask {
        binding_id: "gone".into(),
        task_id: "t".into(),
    });
    assert_eq!(
        handle_message(&body, &d).await.unwrap(),
        MessageOutcome::UnknownBinding {
            binding_id: "gone".into()
        }
    );
}

#[tokio::test]
async fn a_create_in_a_container_that_is_gone_counts_against_the_binding() {
    use tasksync::model::{LocalTask, Origin};
    use tasksync::ports::TaskWrite;
    let d = deps(|| GraphError::NotFound).await;
    d.tasks
        .put_task(&LocalTask::new("ops", "t1", "New", Origin::App("a".into())))
        .await
        .unwrap();
    let body = encode(&Hint::LocalTask {
        list_id: "ops".into(),
        task_id: "t1".into(),
    });
    let response = handle_batch(event(&[("m1", &body, 1)]), &d).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    let breaker = d
        .sync
        .find_binding("b1")
        .await
        .unwrap()
        .unwrap()
        .breaker
        .expect("counted on the binding");
    assert_eq!(breaker.failures, 1);
    assert!(breaker.reason.contains("404"), "{}", breaker.reason);
}
