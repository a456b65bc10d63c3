//! Subscriptions that cannot be made (no handshake answer, a missing permission) are recorded and
//! retried with backoff; a missed event triggers a delta resync.

use super::*;

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
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_refused_for_a_missing_permission_is_reported_and_retried_with_backoff() {
    let world = SchedulerWorld::start().await;
    // The app registration lacks the permission: Graph answers 403 accessDenied.
    world
        .add_fault(json!({ "method": "POST", "path": "/subscriptions", "status": 403 }))
        .await;
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
    world.clear_faults().await;
    world.advance_clock(61).await;
    let report = world.tick().await;
    assert_eq!(report.subscriptions_created, 1, "{report:?}");
    let s = schedule(&world, &binding.id).await;
    assert!(s.subscription_failure.is_none(), "{s:?}");
    assert!(s.subscription_id.is_some());
    assert_eq!(world.emulator_subscriptions().await.len(), 1);
    world.stack.emulator.shutdown();
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
    let sub_id = subscription_id(&world, &binding.id).await;
    world.drain_hints().await;

    // A change whose notification is lost, then Graph says notifications were missed.
    world.drop_next_deliveries(1).await;
    let lost_id = world
        .person_creates_todo_task(&binding.remote_container_id, &json!({ "title": "lost" }))
        .await;
    world.send_lifecycle_of(&sub_id, "missed").await;
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
    world.stack.emulator.shutdown();
}
