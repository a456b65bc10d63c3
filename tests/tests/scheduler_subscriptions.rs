//! The scheduler keeps every To Do binding's subscription alive (issue 6), against moto and the
//! Graph emulator, with the real webhook answering the emulator's handshakes over loopback HTTP.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tasksync::graph::models::subscription::NewSubscription;
use tasksync::local::emulator_stack;
use tasksync::model::SubscriptionRecord;
use tasksync::ports::{ScheduleStore, SubscriptionLookup, SubscriptionSave};
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
async fn a_subscription_refused_for_a_missing_permission_is_reported_and_retried_with_backoff() {
    let world = SchedulerWorld::start().await;
    // The app registration lacks the permission: Graph answers 403 accessDenied.
    world
        .control
        .call(
            reqwest::Method::POST,
            "/faults",
            Some(&json!({ "method": "POST", "path": "/subscriptions", "status": 403 })),
        )
        .await
        .expect("fault");
    let binding = world.todo_binding("b-denied").await;

    let report = world.tick().await;
    assert_eq!(report.subscription_failures, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    let failure = s.subscription_failure.clone().expect("failure recorded");
    assert_eq!(failure.attempts, 1);
    assert!(
        failure.reason.contains("accessDenied") && failure.reason.contains("Tasks.ReadWrite.All"),
        "the reason names the refusal and the permission to grant: {}",
        failure.reason
    );
    assert!(s.subscription_id.is_none());

    // Not retried every run: only once the backoff has passed.
    world.tick().await;
    assert_eq!(world.calls("subscriptions.create"), 1);

    // An administrator grants the permission; the next attempt after the backoff succeeds and
    // the failure is cleared.
    world
        .control
        .call(reqwest::Method::DELETE, "/faults", None)
        .await
        .expect("clear faults");
    world.advance_clock(61).await;
    let report = world.tick().await;
    assert_eq!(report.subscriptions_created, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    assert!(s.subscription_failure.is_none(), "{s:?}");
    assert!(s.subscription_id.is_some());
    assert_eq!(world.emulator_subscriptions().await.len(), 1);
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

// ---- a 409 on create: adopt what the sync table knows, repair what it does not ----

/// A subscription on the binding's list made straight through Graph, as a run that died after
/// Graph's 201 would leave it (the emulator runs the handshake against `urls`' webhook).
async fn subscription_made_outside_the_scheduler(
    world: &SchedulerWorld,
    binding: &tasksync::model::Binding,
    urls: &WebhookUrls,
    client_state: &str,
) -> String {
    let now = world.now().await;
    outsider(world)
        .subscriptions()
        .create(&NewSubscription::todo_tasks(
            &binding.user_id,
            &binding.remote_container_id,
            &urls.notification_url,
            &urls.lifecycle_url,
            now + chrono::Duration::days(2),
            client_state,
        ))
        .await
        .expect("subscription made through Graph")
        .id
}

/// A Graph client of its own (the same app), so the scheduler's call counts stay its own.
fn outsider(world: &SchedulerWorld) -> tasksync::graph::GraphClient {
    emulator_stack::graph_client(&world.emulator).expect("graph client")
}

/// Waits (bounded) until the emulator has delivered `n` notification POSTs with a 2xx answer.
/// The webhook enqueues before it answers, so the queue is final once this returns.
async fn wait_until_delivered(world: &SchedulerWorld, n: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stats = world.control.delivery_stats().await.expect("stats");
        if stats["delivered"].as_u64().unwrap_or(0) >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never delivered: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A person adds a task in To Do; whether the webhook believed the notification and enqueued a
/// hint for it (waits for the delivery, then reads the queue).
async fn a_todo_change_is_enqueued(
    world: &SchedulerWorld,
    binding: &tasksync::model::Binding,
    title: &str,
) -> bool {
    let delivered = world.control.delivery_stats().await.expect("stats")["delivered"]
        .as_u64()
        .unwrap_or(0);
    let task = world
        .control
        .create_todo_task(&binding.remote_container_id, &json!({ "title": title }))
        .await
        .expect("task");
    let task_id = graph_emulator::control_client::id_of(&task, "task").expect("id");
    wait_until_delivered(world, delivered + 1).await;
    world.drain_hints().await.iter().any(|h| {
        matches!(h, Hint::RemoteTodoTask { binding_id, task_id: t }
            if *binding_id == binding.id && *t == task_id)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_left_without_its_record_is_repaired_and_notifications_are_believed() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-stranger").await;
    // A run made it and died before the sync table recorded it: Graph holds it, nobody holds its
    // clientState (Graph's listing shows null, graph-facts §1.5).
    let stranger = subscription_made_outside_the_scheduler(
        &world,
        &binding,
        &world.settings.webhook,
        "lost-with-the-crashed-run",
    )
    .await;
    assert!(
        !a_todo_change_is_enqueued(&world, &binding, "before the repair").await,
        "the webhook cannot verify the stranger's notifications: adopting it blindly would \
         leave the binding deaf"
    );

    let report = world.tick().await;
    assert_eq!(report.subscriptions_created, 1, "{report:?}");
    assert_eq!(report.subscription_failures, 0, "{report:?}");
    // One create refused (409), one listing, the stranger deleted, ours created.
    assert_eq!(world.calls("subscriptions.create"), 2);
    assert_eq!(world.calls("subscriptions.list"), 1);
    assert_eq!(world.calls("subscriptions.delete"), 1);
    let ours = schedule(&world, &binding.id)
        .await
        .subscription_id
        .expect("subscription recorded");
    assert_ne!(ours, stranger);
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1, "exactly one live subscription: {held:?}");
    assert_eq!(held[0]["id"], json!(ours));
    let record = world
        .store
        .find_subscription(&ours)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(held[0]["clientState"], json!(record.client_state));
    assert_eq!(record.binding_id, binding.id);
    assert!(
        world
            .store
            .find_subscription(&stranger)
            .await
            .expect("store")
            .is_none()
    );
    // The tick's delta round found the task the stranger's notification could not deliver.
    world.drain_hints().await;

    assert!(
        a_todo_change_is_enqueued(&world, &binding, "after the repair").await,
        "a To Do change reaches the queue through the repaired subscription"
    );
    let idle = world.tick().await;
    assert_eq!(idle.subscriptions_created, 0, "{idle:?}");
    assert_eq!(world.emulator_subscriptions().await.len(), 1);
    world.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_the_sync_table_knows_is_adopted_without_a_new_one() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-known").await;
    // A run recorded the subscription (and its clientState) and died before the schedule
    // pointed to it.
    let client_state = tasksync::subscription_setup::new_client_state();
    let known = subscription_made_outside_the_scheduler(
        &world,
        &binding,
        &world.settings.webhook,
        &client_state,
    )
    .await;
    world
        .store
        .save_subscription(&SubscriptionRecord {
            id: known.clone(),
            binding_id: binding.id.clone(),
            client_state: client_state.clone(),
            tenant_id: world.settings.tenant_id.clone(),
            expires_at: world.now().await,
        })
        .await
        .expect("record");

    let outcome = resync_binding(&world.deps(), &binding.id, "test", world.now().await)
        .await
        .expect("upkeep");
    assert_eq!(outcome.subscription, Some(SubscriptionAction::Adopted));
    assert_eq!(
        world.calls("subscriptions.create"),
        1,
        "only the refused one"
    );
    assert_eq!(world.calls("subscriptions.delete"), 0);
    let s = schedule(&world, &binding.id).await;
    assert_eq!(s.subscription_id.as_deref(), Some(known.as_str()));
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(known));
    let record = world
        .store
        .find_subscription(&known)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(
        Some(record.expires_at),
        s.subscription_expires_at,
        "the record takes Graph's expiry"
    );
    world.drain_hints().await;
    assert!(a_todo_change_is_enqueued(&world, &binding, "after the adoption").await);
    world.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_409_for_another_webhooks_subscription_is_left_alone_reported_and_retried_with_backoff() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-foreign").await;
    // Another deployment sharing the app registration, with its own webhook.
    let other = emulator_stack::serve_webhook(Arc::new(emulator_stack::webhook_deps(
        &world.emulator,
        world.store.clone(),
        world.queue.clone(),
    )))
    .await
    .expect("the other deployment's webhook");
    let other_urls = WebhookUrls::under(&other.base_url());
    assert_ne!(
        other_urls.notification_url,
        world.settings.webhook.notification_url
    );
    let theirs = subscription_made_outside_the_scheduler(
        &world,
        &binding,
        &other_urls,
        "the-other-deployments-secret",
    )
    .await;

    let report = world.tick().await;
    assert_eq!(report.subscription_failures, 1, "{report:?}");
    assert_eq!(world.calls("subscriptions.delete"), 0, "not ours to delete");
    let s = schedule(&world, &binding.id).await;
    assert!(s.subscription_id.is_none());
    let failure = s.subscription_failure.clone().expect("failure recorded");
    assert!(failure.reason.contains("409"), "{}", failure.reason);
    assert!(
        failure.reason.contains(&theirs) && failure.reason.contains(&other_urls.notification_url),
        "{}",
        failure.reason
    );
    assert!(!failure.reason.contains("the-other-deployments-secret"));
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(theirs), "left alone");

    // Within the backoff nothing is tried again.
    world.tick().await;
    assert_eq!(world.calls("subscriptions.create"), 1);

    // Once it is gone (lapsed, or its owner or an operator removed it), the next attempt after
    // the backoff makes ours.
    outsider(&world)
        .subscriptions()
        .delete(&theirs)
        .await
        .expect("removed by its owner");
    world.advance_clock(61).await;
    let report = world.tick().await;
    assert_eq!(report.subscriptions_created, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    assert!(s.subscription_failure.is_none());
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(s.subscription_id.expect("ours")));
    world.emulator.shutdown();
}
