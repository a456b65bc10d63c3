//! The scheduler keeps every To Do binding's subscription alive (issue 6), against moto and the
//! Graph emulator, with the real webhook answering the emulator's handshakes over loopback HTTP.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use serde_json::json;
use tasksync::ports::{ScheduleStore, SubscriptionLookup};
use tasksync::queue_message::Hint;
use tasksync::scheduler::{
    BindingSchedule, SubscriptionAction, recreate_subscription, resync_binding,
};
use tasksync::subscription_setup::WebhookUrls;
use testkit::scheduler_harness::SchedulerWorld;

async fn schedule(world: &SchedulerWorld, binding_id: &str) -> BindingSchedule {
    world
        .store
        .get_schedule(binding_id)
        .await
        .expect("store")
        .expect("schedule exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_binding_gets_a_subscription_through_the_handshake_and_it_is_renewed_before_expiry() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-renew").await;

    let report = world.tick().await;
    assert_eq!(report.bindings_enrolled, 1);
    assert_eq!(report.subscriptions_created, 1, "{report:?}");
    let first = schedule(&world, &binding.id).await;
    let sub_id = first
        .subscription_id
        .clone()
        .expect("subscription recorded");
    assert!(first.lease_owner.is_none(), "lease released");
    // The emulator holds it (it ran the handshake against the webhook), with the clientState
    // only the sync table knows.
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(sub_id));
    assert_eq!(
        held[0]["notificationUrl"],
        json!(world.settings.webhook.notification_url)
    );
    let record = world
        .store
        .find_subscription(&sub_id)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(held[0]["clientState"], json!(record.client_state));
    assert_eq!(record.binding_id, binding.id);

    // Nothing is due right after: the next run does nothing.
    let idle = world.tick().await;
    assert_eq!(idle.bindings_due, 0, "{idle:?}");

    // Two thirds of the lifetime later, less than a third is left: renewed, same id.
    let lifetime = world.settings.subscription_lifetime.num_seconds();
    world.advance_clock(lifetime * 2 / 3 + 60).await;
    let renewed = world.tick().await;
    assert_eq!(renewed.subscriptions_renewed, 1, "{renewed:?}");
    let after = schedule(&world, &binding.id).await;
    assert_eq!(after.subscription_id.as_deref(), Some(sub_id.as_str()));
    let new_expiry = after.subscription_expires_at.expect("expiry");
    assert!(new_expiry > first.subscription_expires_at.expect("expiry"));
    let record = world
        .store
        .find_subscription(&sub_id)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(
        record.expires_at, new_expiry,
        "the record follows the renewal"
    );
    assert_eq!(world.calls("subscriptions.create"), 1);
    world.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_subscription_is_recreated_through_a_real_handshake() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-gone").await;
    world.tick().await;
    let old = schedule(&world, &binding.id)
        .await
        .subscription_id
        .expect("subscription");

    // Someone deletes it on Graph's side; nothing tells us. At renewal time Graph says 404.
    world
        .graph
        .subscriptions()
        .delete(&old)
        .await
        .expect("deleted");
    let lifetime = world.settings.subscription_lifetime.num_seconds();
    world.advance_clock(lifetime * 2 / 3 + 60).await;
    let report = world.tick().await;
    assert_eq!(report.subscriptions_created, 1, "{report:?}");
    let new = schedule(&world, &binding.id)
        .await
        .subscription_id
        .expect("subscription");
    assert_ne!(new, old);
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(new));
    assert!(
        world
            .store
            .find_subscription(&old)
            .await
            .expect("store")
            .is_none(),
        "the old record is removed, so the webhook stops accepting it"
    );

    // Graph removes it and says so (lifecycle subscriptionRemoved): the webhook turns that into
    // a recreate hint, and the entry point the worker calls recreates it and resyncs.
    world
        .control
        .call(
            reqwest::Method::POST,
            &format!("/subscriptions/{new}/lifecycle"),
            Some(&json!({ "event": "subscriptionRemoved" })),
        )
        .await
        .expect("lifecycle event");
    let hints = world
        .wait_for_hint(Duration::from_secs(10), |h| {
            matches!(h, Hint::RecreateSubscription { .. })
        })
        .await;
    assert!(
        hints
            .iter()
            .any(|h| matches!(h, Hint::RecreateSubscription { .. })),
        "the webhook enqueued a recreate hint: {hints:?}"
    );
    let outcome = recreate_subscription(&world.deps(), &binding.id, &new, world.now().await)
        .await
        .expect("recreated");
    assert_eq!(outcome.subscription, Some(SubscriptionAction::Recreated));
    assert!(
        matches!(outcome.sweep, Some(Ok(ref s)) if s.full),
        "{outcome:?}"
    );
    let newest = schedule(&world, &binding.id)
        .await
        .subscription_id
        .expect("subscription");
    assert_ne!(newest, new);
    assert_eq!(world.emulator_subscriptions().await.len(), 1);
    world.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_renewal_is_replaced_make_before_break_and_the_binding_is_never_without_one() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-refused").await;
    world.tick().await;
    let old = schedule(&world, &binding.id)
        .await
        .subscription_id
        .expect("subscription");
    // Renewals are refused app-only (graph-facts §1.2 DISCREPANCY).
    world
        .control
        .call(
            reqwest::Method::POST,
            "/faults",
            Some(&json!({ "method": "PATCH", "path": "/subscriptions/{id}", "status": 403 })),
        )
        .await
        .expect("fault");
    let lifetime = world.settings.subscription_lifetime.num_seconds();
    world.advance_clock(lifetime * 2 / 3 + 60).await;
    let report = world.tick().await;
    // The emulator allows one subscription per list and change type (409): the old one keeps
    // serving, and the failure says why and when the switch happens.
    assert_eq!(report.subscription_failures, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    assert_eq!(s.subscription_id.as_deref(), Some(old.as_str()));
    let failure = s.subscription_failure.clone().expect("failure recorded");
    assert!(failure.reason.contains("409"), "{}", failure.reason);
    let switch_at = s.subscription_expires_at.expect("expiry") - world.settings.switch_margin;
    assert!(failure.next_retry <= switch_at);
    assert_eq!(world.emulator_subscriptions().await.len(), 1);

    // Close to expiry: switched, exactly one live subscription, and it is the new one.
    let now = world.now().await;
    let to_switch = (switch_at - now).num_seconds() + 60;
    world.advance_clock(to_switch).await;
    let report = world.tick().await;
    assert_eq!(report.subscriptions_replaced, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    let new = s.subscription_id.clone().expect("subscription");
    assert_ne!(new, old);
    assert!(s.subscription_failure.is_none());
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(new));
    assert!(
        world
            .store
            .find_subscription(&new)
            .await
            .expect("store")
            .is_some()
    );
    assert!(
        world
            .store
            .find_subscription(&old)
            .await
            .expect("store")
            .is_none()
    );
    world.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_handshake_is_recorded_and_retried_with_backoff_not_every_run() {
    let mut world = SchedulerWorld::start().await;
    // Nothing answers the handshake here.
    world.settings.webhook = WebhookUrls::under("http://127.0.0.1:9");
    let binding = world.todo_binding("b-nohandshake").await;

    let report = world.tick().await;
    assert_eq!(report.subscription_failures, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    let failure = s.subscription_failure.clone().expect("failure recorded");
    assert_eq!(failure.attempts, 1);
    assert!(
        failure.reason.to_lowercase().contains("validation"),
        "{}",
        failure.reason
    );
    assert!(s.subscription_id.is_none());

    // Runs within the backoff do not try again.
    world.tick().await;
    world.tick().await;
    assert_eq!(world.calls("subscriptions.create"), 1);

    // After the backoff: one more attempt, and the next wait is twice as long.
    world.advance_clock(61).await;
    world.tick().await;
    assert_eq!(world.calls("subscriptions.create"), 2);
    let s = schedule(&world, &binding.id).await;
    let second = s.subscription_failure.expect("still failing");
    assert_eq!(second.attempts, 2);
    let now = world.now().await;
    assert!(second.next_retry - now > world.settings.failure_backoff_base);
    world.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missed_event_triggers_a_delta_resync_that_finds_the_lost_change() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-missed").await;
    for title in ["one", "two"] {
        world
            .control
            .create_todo_task(&binding.remote_container_id, &json!({ "title": title }))
            .await
            .expect("task");
    }
    world.tick().await;
    world.record_todo_list_as_synced(&binding).await;
    let sub_id = schedule(&world, &binding.id)
        .await
        .subscription_id
        .expect("subscription");
    world.drain_hints().await;

    // A change whose notification is lost, then Graph says notifications were missed.
    world
        .control
        .call(
            reqwest::Method::POST,
            "/delivery/faults",
            Some(&json!({ "drop_next": 1 })),
        )
        .await
        .expect("drop fault");
    let lost = world
        .control
        .create_todo_task(&binding.remote_container_id, &json!({ "title": "lost" }))
        .await
        .expect("task");
    let lost_id = graph_emulator::control_client::id_of(&lost, "task").expect("id");
    world
        .control
        .call(
            reqwest::Method::POST,
            &format!("/subscriptions/{sub_id}/lifecycle"),
            Some(&json!({ "event": "missed" })),
        )
        .await
        .expect("lifecycle");
    let hints = world
        .wait_for_hint(Duration::from_secs(10), |h| {
            matches!(h, Hint::ResyncBinding { .. })
        })
        .await;
    assert!(
        hints
            .iter()
            .any(|h| matches!(h, Hint::ResyncBinding { .. })),
        "the webhook enqueued a resync hint: {hints:?}"
    );
    assert!(
        !hints
            .iter()
            .any(|h| matches!(h, Hint::RemoteTodoTask { .. })),
        "the change notification really was lost: {hints:?}"
    );

    let outcome = resync_binding(&world.deps(), &binding.id, "missed", world.now().await)
        .await
        .expect("resync");
    let stats = outcome.sweep.expect("swept").expect("sweep ok");
    assert!(stats.full, "a missed event means a full delta round");
    assert_eq!(
        world.drain_hints().await,
        vec![Hint::RemoteTodoTask {
            binding_id: binding.id.clone(),
            task_id: lost_id
        }],
        "only the lost change: the two synced tasks compare equal to the mapping"
    );
    world.emulator.shutdown();
}
