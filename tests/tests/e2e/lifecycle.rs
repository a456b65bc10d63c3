//! Lifecycle notifications end to end: the emulator sends `reauthorizationRequired`,
//! `subscriptionRemoved` or `missed` to the real webhook (over loopback HTTP, moto's queue
//! behind it), and the real worker, wired by `SubscriptionWiring` exactly as the Lambda main wires
//! it, takes the hint to its effect: the subscription renewed, a new one made, the lost change
//! found.
// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use serde_json::json;
use tasksync::graph::{GraphClient, Outcome};
use tasksync::ports::{ScheduleStore, TaskList};
use tasksync::standalone::work_pump::pump_once;
use tasksync::worker::{SubscriptionWiring, handle_batch};
use testkit::scheduler_harness::SchedulerWorld;

/// The subscription the binding's schedule records now.
async fn recorded_subscription(w: &SchedulerWorld, binding_id: &str) -> Option<String> {
    w.sync
        .get_schedule(binding_id)
        .await
        .unwrap()
        .and_then(|s| s.subscription_id)
}

/// Runs the worker, wired as deployed, on the work queue until a receive comes back empty; the
/// worker's own Graph client, to count what it did.
async fn run_worker(w: &SchedulerWorld) -> GraphClient {
    let graph = w.another_graph_client();
    let wiring = SubscriptionWiring::with_settings(w.settings.clone());
    assert!(wiring.handles_hints());
    let worker = wiring.worker(
        w.sync.clone(),
        w.tasks.clone(),
        graph.clone(),
        w.queue.clone(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let report = pump_once(&w.queue, |event| handle_batch(event, &worker))
            .await
            .unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
        if report.received == 0 {
            return graph;
        }
        assert!(Instant::now() < deadline, "the queue never emptied");
    }
}

/// Sends a lifecycle event for the subscription and waits until the webhook answered it.
async fn lifecycle(w: &SchedulerWorld, subscription_id: &str, event: &str) {
    let before = w.delivery_stats().await.delivered;
    w.send_lifecycle_of(subscription_id, event).await;
    w.wait_delivered(before + 1).await;
}

async fn subscribed(w: &SchedulerWorld, id: &str) -> (tasksync::model::Binding, String) {
    let binding = w.todo_binding(id).await;
    w.tick().await;
    let subscription = recorded_subscription(w, &binding.id)
        .await
        .expect("the scheduler subscribed the binding");
    (binding, subscription)
}

fn live_ids(subscriptions: &[serde_json::Value]) -> Vec<String> {
    subscriptions
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthorization_required_renews_the_subscription() {
    let w = SchedulerWorld::start().await;
    let (binding, subscription) = subscribed(&w, "b-reauth").await;
    lifecycle(&w, &subscription, "reauthorizationRequired").await;
    let graph = run_worker(&w).await;
    assert_eq!(
        graph
            .counters()
            .get("subscriptions.renew", Outcome::Success),
        1,
        "one PATCH renews and reauthorizes (docs/graph-behaviour.md §1.4)"
    );
    assert_eq!(
        graph.counters().total("subscriptions.reauthorize"),
        0,
        "never a reauthorize beside the PATCH"
    );
    assert_eq!(
        recorded_subscription(&w, &binding.id).await.as_deref(),
        Some(subscription.as_str()),
        "the same subscription, renewed"
    );
    assert_eq!(
        live_ids(&w.emulator_subscriptions().await),
        vec![subscription]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_removed_makes_a_new_one() {
    let w = SchedulerWorld::start().await;
    let (binding, old) = subscribed(&w, "b-removed").await;
    lifecycle(&w, &old, "subscriptionRemoved").await;
    // The emulator removes it with the event, as Graph does.
    assert!(w.emulator_subscriptions().await.is_empty());
    let graph = run_worker(&w).await;
    let new = recorded_subscription(&w, &binding.id)
        .await
        .expect("a subscription again");
    assert_ne!(new, old);
    assert_eq!(live_ids(&w.emulator_subscriptions().await), vec![new]);
    assert_eq!(
        graph
            .counters()
            .get("subscriptions.create", Outcome::Success),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_finds_the_lost_change() {
    let w = SchedulerWorld::start().await;
    let (binding, subscription) = subscribed(&w, "b-missed").await;
    // A person's change whose notification Graph lost.
    w.drop_next_deliveries(1).await;
    w.person_creates_todo_task(&binding.remote_container_id, &json!({"title": "lost"}))
        .await;
    let stats = w.wait_idle().await;
    assert_eq!(stats.dropped, 1, "{stats:?}");
    run_worker(&w).await;
    assert!(
        w.tasks
            .list_tasks(&binding.local_list_id)
            .await
            .unwrap()
            .is_empty(),
        "nothing reached the worker"
    );

    lifecycle(&w, &subscription, "missed").await;
    run_worker(&w).await;
    let local = w.tasks.list_tasks(&binding.local_list_id).await.unwrap();
    assert_eq!(local.len(), 1, "{local:?}");
    assert_eq!(local[0].as_ref().unwrap().title, "lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_graph_drops_silently_is_back_after_one_scheduler_run() {
    let w = SchedulerWorld::start().await;
    let (binding, old) = subscribed(&w, "b-silent").await;
    let _other = subscribed(&w, "b-silent-2").await;
    // Graph drops it: no lifecycle notice, nothing reaches the webhook.
    let delivered = w.delivery_stats().await.delivered;
    w.control
        .call(
            reqwest::Method::DELETE,
            &format!("/subscriptions/{old}"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(w.delivery_stats().await.delivered, delivered);

    // The longest a To Do binding waits for its next run.
    let interval = w
        .settings
        .idle_interval
        .max(w.settings.todo_safety_net_interval);
    w.advance_clock(interval.num_seconds() + 60).await;
    let gets = w.calls("subscriptions.get");
    let report = w.tick().await;
    let new = recorded_subscription(&w, &binding.id)
        .await
        .expect("a subscription again");
    assert_ne!(new, old, "{report:?}");
    assert!(live_ids(&w.emulator_subscriptions().await).contains(&new));
    let cost = w.calls("subscriptions.get") - gets;
    println!(
        "silent drop: noticed in one run for {cost} GET /subscriptions/{{id}} (2 To Do bindings)"
    );
    assert_eq!(cost, 2, "one check per To Do binding per run");
    // The next run finds both alive and changes nothing.
    w.advance_clock(interval.num_seconds() + 60).await;
    let again = w.tick().await;
    assert_eq!(again.subscription_failures, 0, "{again:?}");
    assert_eq!(recorded_subscription(&w, &binding.id).await, Some(new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn where_graph_allows_two_a_refused_renewal_makes_the_new_one_before_breaking_the_old() {
    let w = SchedulerWorld::start_with(graph_emulator::EmulatorConfig {
        allow_duplicate_subscriptions: true,
        ..graph_emulator::EmulatorConfig::default()
    })
    .await;
    let (binding, old) = subscribed(&w, "b-mbb").await;
    w.add_fault(json!({ "method": "PATCH", "path": "/subscriptions/{id}", "status": 403 }))
        .await;
    let lifetime = w.settings.subscription_lifetime.num_seconds();
    w.advance_clock(lifetime * 2 / 3 + 60).await;
    let report = w.tick().await;
    assert_eq!(
        report.subscriptions_replaced, 1,
        "at once, no wait for the switch: {report:?}"
    );
    let new = recorded_subscription(&w, &binding.id).await.unwrap();
    assert_ne!(new, old);
    assert_eq!(live_ids(&w.emulator_subscriptions().await), vec![new]);
    assert_eq!(
        w.calls("subscriptions.create"),
        2,
        "the first and the replacement"
    );
    assert_eq!(w.calls("subscriptions.delete"), 1, "the old one, after");
}
