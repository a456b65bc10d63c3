//! A 409 on create: adopt what the sync table knows, repair what it does not.

use super::*;

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
    let task_id = world
        .person_creates_todo_task(&binding.remote_container_id, &json!({ "title": title }))
        .await;
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
    // clientState (Graph's listing shows null, docs/graph-behaviour.md §1.5).
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
        .sync
        .find_subscription(&ours)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(held[0]["clientState"], json!(record.client_state));
    assert_eq!(record.binding_id, binding.id);
    assert!(
        world
            .sync
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
    world.stack.emulator.shutdown();
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
        .sync
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
        .sync
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
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_409_for_another_webhooks_subscription_is_left_alone_reported_and_retried_with_backoff() {
    let world = SchedulerWorld::start().await;
    let binding = world.todo_binding("b-foreign").await;
    // Another deployment sharing the app registration, with its own webhook.
    let other = emulator_stack::serve_webhook(Arc::new(emulator_stack::webhook_deps(
        &world.emulator,
        world.sync.clone(),
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
    world.stack.emulator.shutdown();
}
