//! The webhook end to end: a subscription created by the
//! Graph emulator's real validation handshake against the real handler served on loopback, then
//! notifications delivered by the emulator — plain, duplicated, reordered, batched, dropped, and
//! lifecycle events — arrive on the work queue (SQS on moto) as the right hints, counted exactly.
//! A forged notification posted directly enqueues nothing and gets the same answer as a real one.
//!
//! Every wait is on a condition with a deadline (the emulator's delivery statistics, then the
//! queue drained until empty); see `testkit::webhook_harness`.

use serde_json::json;
use tasksync::queue_message::Hint;
use testkit::webhook_harness::{WebhookRig, sorted};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_is_created_through_the_handshake_on_both_urls() {
    let rig = WebhookRig::start().await;
    let arrivals = rig.arrivals();
    let handshakes: Vec<(&str, u16)> = arrivals
        .iter()
        .filter(|a| a.validation)
        .map(|a| (a.path.as_str(), a.status))
        .collect();
    assert_eq!(
        handshakes,
        vec![("/notifications", 200), ("/lifecycle", 200)],
        "the emulator validated the notification URL, then the lifecycle URL"
    );
    let graph_side = rig
        .control
        .call(reqwest::Method::GET, "/subscriptions", None)
        .await
        .expect("emulator's subscriptions");
    assert!(graph_side.to_string().contains(&rig.subscription.id));
    assert!(rig.drain_hints().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_deliveries_become_one_hint_per_notification() {
    let rig = WebhookRig::start().await;
    let a = rig.create_task("Call the supplier").await;
    rig.update_task(&a, "Call the supplier today").await;
    let b = rig.create_task("Book the room").await;
    rig.delete_task(&b).await;

    rig.wait_delivered(4).await;
    let hints = rig.drain_hints().await;
    assert_eq!(
        sorted(&hints),
        sorted(&[
            rig.task_hint(&a),
            rig.task_hint(&a),
            rig.task_hint(&b),
            rig.task_hint(&b)
        ]),
        "one hint per notification, none lost, none invented"
    );
    let deliveries = rig.deliveries();
    assert_eq!(deliveries.len(), 4);
    assert!(
        deliveries
            .iter()
            .all(|d| d.status == 202 && d.path == "/notifications")
    );
    let order: Vec<String> = deliveries.iter().flat_map(|d| d.task_ids.clone()).collect();
    assert_eq!(order, vec![a.clone(), a, b.clone(), b], "writes' order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_deliveries_become_duplicate_hints() {
    let rig = WebhookRig::start().await;
    rig.set_delivery_faults(json!({ "duplicate": 2 })).await;
    let task = rig.create_task("Water the plants").await;

    rig.wait_delivered(3).await;
    let hints = rig.drain_hints().await;
    assert_eq!(
        hints,
        vec![rig.task_hint(&task); 3],
        "each delivery is enqueued; the duplicates are harmless hints by design"
    );
    assert_eq!(rig.deliveries().len(), 3, "three separate POSTs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_deliveries_become_the_same_set_of_hints() {
    let rig = WebhookRig::start().await;
    rig.set_delivery_faults(json!({ "reorder": true, "reorder_batch": 3 }))
        .await;
    let first = rig.create_task("First").await;
    let second = rig.create_task("Second").await;
    let third = rig.create_task("Third").await;

    rig.wait_delivered(3).await;
    let arrived: Vec<String> = rig
        .deliveries()
        .iter()
        .flat_map(|d| d.task_ids.clone())
        .collect();
    assert_eq!(
        arrived,
        vec![third.clone(), second.clone(), first.clone()],
        "the fault really reordered: newest first"
    );
    let hints = rig.drain_hints().await;
    assert_eq!(
        sorted(&hints),
        sorted(&[
            rig.task_hint(&first),
            rig.task_hint(&second),
            rig.task_hint(&third)
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_hints_within_one_post_are_sent_once() {
    let rig = WebhookRig::start().await;
    let x = rig.create_task("X").await;
    let y = rig.create_task("Y").await;
    rig.wait_delivered(2).await;
    assert_eq!(rig.drain_hints().await.len(), 2);

    // Hold three updates, then send them newest first in one POST (§1.6 allows several items).
    rig.set_delivery_faults(json!({ "reorder": true, "reorder_batch": 3, "batch": 3 }))
        .await;
    rig.update_task(&x, "X1").await;
    rig.update_task(&y, "Y1").await;
    rig.update_task(&x, "X2").await;

    rig.wait_delivered(5).await;
    let last = rig.deliveries().last().cloned().expect("a delivery");
    assert_eq!(last.task_ids, vec![x.clone(), y.clone(), x.clone()]);
    assert_eq!(last.status, 202);
    let hints = rig.drain_hints().await;
    assert_eq!(
        sorted(&hints),
        sorted(&[rig.task_hint(&x), rig.task_hint(&y)]),
        "three items, two distinct hints"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_notification_enqueues_nothing_and_is_answered_like_a_real_one() {
    let rig = WebhookRig::start().await;
    let task = rig.create_task("Real").await;
    rig.wait_delivered(1).await;
    assert_eq!(rig.drain_hints().await, vec![rig.task_hint(&task)]);

    // Right subscription id and tenant, wrong clientState (of the same length, so only the
    // constant-time comparison can tell).
    let wrong_state = "f".repeat(rig.subscription.client_state.len());
    let forged = json!({ "value": [rig.change_item(&task, &wrong_state)] });
    let forged_answer = rig.post_notification(forged.to_string().as_bytes()).await;
    assert!(
        rig.drain_hints().await.is_empty(),
        "a forged notification enqueues nothing"
    );

    // Unknown subscription and foreign tenant: same silence.
    let mut unknown = rig.change_item(&task, &rig.subscription.client_state);
    unknown["subscriptionId"] = json!("00000000-0000-0000-0000-000000000000");
    let mut foreign = rig.change_item(&task, &rig.subscription.client_state);
    foreign["tenantId"] = json!("11111111-2222-3333-4444-555555555555");
    let others = rig
        .post_notification(
            json!({ "value": [unknown, foreign] })
                .to_string()
                .as_bytes(),
        )
        .await;
    assert!(rig.drain_hints().await.is_empty());

    // The same item with the real clientState is believed.
    let real = json!({ "value": [rig.change_item(&task, &rig.subscription.client_state)] });
    let real_answer = rig.post_notification(real.to_string().as_bytes()).await;
    assert_eq!(rig.drain_hints().await, vec![rig.task_hint(&task)]);

    assert_eq!(forged_answer.status, 202);
    assert_eq!(
        forged_answer, real_answer,
        "status, headers and body reveal nothing about which check failed"
    );
    assert_eq!(others, real_answer);

    // Not a collection at all: 400, nothing enqueued.
    let junk = rig.post_notification(b"not json").await;
    assert_eq!(junk.status, 400);
    assert!(rig.drain_hints().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_become_subscription_hints() {
    let rig = WebhookRig::start().await;
    assert_eq!(
        rig.lifecycle_hints("missed", 1).await,
        vec![Hint::ResyncBinding {
            binding_id: rig.binding.id.clone(),
            reason: "missed".into()
        }]
    );

    assert_eq!(
        rig.lifecycle_hints("reauthorizationRequired", 2).await,
        vec![Hint::ReauthorizeSubscription {
            binding_id: rig.binding.id.clone(),
            subscription_id: rig.subscription.id.clone()
        }]
    );

    assert_eq!(
        rig.lifecycle_hints("subscriptionRemoved", 3).await,
        vec![Hint::RecreateSubscription {
            binding_id: rig.binding.id.clone(),
            subscription_id: rig.subscription.id.clone()
        }]
    );

    let lifecycle: Vec<(String, Vec<String>, u16)> = rig
        .deliveries()
        .into_iter()
        .map(|d| (d.path, d.lifecycle_events, d.status))
        .collect();
    assert_eq!(
        lifecycle,
        vec![
            ("/lifecycle".to_owned(), vec!["missed".to_owned()], 202),
            (
                "/lifecycle".to_owned(),
                vec!["reauthorizationRequired".to_owned()],
                202
            ),
            (
                "/lifecycle".to_owned(),
                vec!["subscriptionRemoved".to_owned()],
                202
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_notification_is_recovered_through_the_missed_event() {
    let rig = WebhookRig::start().await;
    rig.set_delivery_faults(json!({ "drop_next": 1 })).await;
    rig.create_task("Lost").await;
    let stats = rig.wait_idle().await;
    assert_eq!((stats.dropped, stats.delivered), (1, 0));
    assert!(
        rig.drain_hints().await.is_empty(),
        "a dropped notification never reached the webhook"
    );

    // Graph tells the app it missed notifications; the webhook turns that into a resync.
    assert_eq!(
        rig.lifecycle_hints("missed", 1).await,
        vec![Hint::ResyncBinding {
            binding_id: rig.binding.id.clone(),
            reason: "missed".into()
        }]
    );
}
