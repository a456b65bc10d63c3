//! A subscription made through the handshake, renewed before expiry, recreated when deleted, and
//! replaced make-before-break when a renewal is refused.

use super::*;

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
        .sync
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
        .sync
        .find_subscription(&sub_id)
        .await
        .expect("store")
        .expect("record");
    assert_eq!(
        record.expires_at, new_expiry,
        "the record follows the renewal"
    );
    assert_eq!(world.calls("subscriptions.create"), 1);
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_subscription_is_recreated_through_a_real_handshake() {
    let world = SchedulerWorld::start().await;
    let (binding, old) = subscribed_binding(&world, "b-gone").await;

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
    let new = subscription_id(&world, &binding.id).await;
    assert_ne!(new, old);
    let held = world.emulator_subscriptions().await;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], json!(new));
    assert!(
        world
            .sync
            .find_subscription(&old)
            .await
            .expect("store")
            .is_none(),
        "the old record is removed, so the webhook stops accepting it"
    );

    // Graph removes it and says so (lifecycle subscriptionRemoved): the webhook turns that into
    // a recreate hint, and the entry point the worker calls recreates it and resyncs.
    world.send_lifecycle_of(&new, "subscriptionRemoved").await;
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
    let newest = subscription_id(&world, &binding.id).await;
    assert_ne!(newest, new);
    assert_eq!(world.emulator_subscriptions().await.len(), 1);
    world.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_renewal_is_replaced_make_before_break_and_the_binding_is_never_without_one() {
    let world = SchedulerWorld::start().await;
    let (binding, old) = subscribed_binding(&world, "b-refused").await;
    // Renewals are refused app-only (docs/graph-behaviour.md §1.2 DISCREPANCY).
    world
        .add_fault(json!({ "method": "PATCH", "path": "/subscriptions/{id}", "status": 403 }))
        .await;
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
            .sync
            .find_subscription(&new)
            .await
            .expect("store")
            .is_some()
    );
    assert!(
        world
            .sync
            .find_subscription(&old)
            .await
            .expect("store")
            .is_none()
    );
    world.stack.emulator.shutdown();
}
