//! The webhook handler driven by real API Gateway HTTP API (payload 2.0) events: fixtures made
//! by `sam local generate-event apigateway http-api-proxy` (see
//! fixtures/webhook/generate-events.sh), parsed by lambda_http's own deserialiser, run through
//! `tasksync::webhook::handle_request`.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use tasksync::ports::QueueError;
use tasksync::queue_message::Hint;
use tasksync::webhook::{HandledRequest, RejectReason, WebhookSettings, handle_request};

use crate::webhook_support::*;

// ---------------------------------------------------------------- validation handshake

const DECODED_TOKEN: &str = "Validation: Testing client application reachability for subscription Request-Id: 25ba8c4f/ab==&x<1>+plus";

fn assert_handshake(handled: &HandledRequest) {
    let response = &handled.response;
    assert_eq!(response.status(), 200);
    assert_eq!(header(response, "content-type"), Some("text/plain"));
    assert_eq!(header(response, "x-content-type-options"), Some("nosniff"));
    assert_eq!(body_text(response), DECODED_TOKEN);
}

#[tokio::test]
async fn answers_the_validation_handshake_with_the_decoded_token() {
    let deps = deps();
    let handled = handle_request(event_from_fixture("event-post-validation.json"), &deps).await;
    assert_handshake(&handled);
    assert_eq!(deps.store().lookups(), 0);
    assert!(deps.queue().calls().is_empty());
}

#[tokio::test]
async fn answers_a_get_handshake_on_the_lifecycle_path() {
    let deps = deps();
    let handled = handle_request(
        event_from_fixture("event-get-validation-lifecycle.json"),
        &deps,
    )
    .await;
    assert_handshake(&handled);
}

#[tokio::test]
async fn refuses_an_empty_validation_token() {
    let deps = deps();
    let mut event: Value = serde_json::from_str(&fixture("event-post-validation.json")).unwrap();
    event["rawQueryString"] = json!("validationToken=");
    event["queryStringParameters"] = json!({"validationToken": ""});
    let req = lambda_http::request::from_str(&event.to_string()).unwrap();
    assert_eq!(handle_request(req, &deps).await.response.status(), 400);
}

// ---------------------------------------------------------------- accepted notifications

#[tokio::test]
async fn sam_generated_notification_event_becomes_one_task_hint() {
    let deps = deps();
    let handled = handle_request(event_from_fixture("event-post-notifications.json"), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().calls(), vec![vec![task_hint(FIXTURE_TASK)]]);
    assert_eq!(handled.counts.received, 1);
    assert_eq!(handled.counts.accepted, 1);
    assert_eq!(handled.counts.hints_enqueued, 1);
    assert!(handled.counts.enqueue_latency.is_some());
}

#[tokio::test]
async fn tolerates_a_named_stage_in_the_path() {
    let deps = deps();
    let handled = handle_request(
        event_from_fixture("event-post-notifications-stage-prod.json"),
        &deps,
    )
    .await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint(FIXTURE_TASK)]);
}

#[tokio::test]
async fn task_id_falls_back_to_the_resource_path() {
    let deps = deps();
    let body = fixture("todo-change-without-resource-data.json");
    let handled = handle_request(event("POST", "/notifications", body.as_bytes()), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(
        deps.queue().all_hints(),
        vec![task_hint(
            "AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4BHAAAA=="
        )]
    );
}

#[tokio::test]
async fn fifty_notifications_are_enqueued_with_one_send() {
    let deps = deps();
    let items = (0..50)
        .map(|i| change(SUB, SECRET, TENANT, &format!("T{i}")))
        .collect();
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    let calls = deps.queue().calls();
    assert_eq!(
        calls.len(),
        1,
        "one send_hints call; the adapter splits it into batches of 10"
    );
    let expected: Vec<Hint> = (0..50).map(|i| task_hint(&format!("T{i}"))).collect();
    assert_eq!(calls[0], expected);
    assert_eq!(handled.counts.accepted, 50);
    assert_eq!(handled.counts.hints_enqueued, 50);
    assert_eq!(deps.store().lookups(), 1);
}

#[tokio::test]
async fn repeated_notifications_for_one_task_make_one_hint() {
    let deps = deps();
    let items = vec![
        change(SUB, SECRET, TENANT, "T1"),
        change(SUB, SECRET, TENANT, "T1"),
        change(SUB, SECRET, TENANT, "T2"),
    ];
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.counts.accepted, 3);
    assert_eq!(handled.counts.hints_enqueued, 2);
    assert_eq!(
        deps.queue().all_hints(),
        vec![task_hint("T1"), task_hint("T2")]
    );
}

#[tokio::test]
async fn lifecycle_events_become_control_hints() {
    let deps = deps();
    let handled = handle_request(event_from_fixture("event-post-lifecycle.json"), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(
        deps.queue().all_hints(),
        vec![
            Hint::ReauthorizeSubscription {
                binding_id: BINDING.into(),
                subscription_id: SUB.into()
            },
            Hint::RecreateSubscription {
                binding_id: BINDING.into(),
                subscription_id: SUB.into()
            },
            Hint::ResyncBinding {
                binding_id: BINDING.into(),
                reason: "missed".into()
            },
        ]
    );
}

#[tokio::test]
async fn unknown_fields_and_future_change_types_are_tolerated() {
    let deps = deps();
    let body = fixture("rich-notification-extra-fields.json");
    let handled = handle_request(event("POST", "/notifications", body.as_bytes()), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint("T1")]);
}

// ---------------------------------------------------------------- rejected items

/// Every way an item can fail authenticity, answered exactly like an accepted one.
#[tokio::test]
async fn inauthentic_items_enqueue_nothing_and_get_the_same_answer() {
    let accepted = {
        let deps = deps();
        let items = vec![change(SUB, SECRET, TENANT, "T1")];
        handle_request(post_notifications(&collection(items)), &deps)
            .await
            .response
    };
    let cases = [
        (
            "forged clientState",
            change(SUB, "guessed-secret", TENANT, "T1"),
            RejectReason::ClientStateMismatch,
        ),
        (
            "missing clientState",
            {
                let mut item = change(SUB, SECRET, TENANT, "T1");
                item.as_object_mut().unwrap().remove("clientState");
                item
            },
            RejectReason::ClientStateMismatch,
        ),
        (
            "unknown subscription",
            change("00000000-0000-0000-0000-000000000000", SECRET, TENANT, "T1"),
            RejectReason::UnknownSubscription,
        ),
        (
            "foreign tenant",
            change(SUB, SECRET, "11111111-2222-3333-4444-555555555555", "T1"),
            RejectReason::ForeignTenant,
        ),
    ];
    for (name, item, reason) in cases {
        let deps = deps();
        let handled = handle_request(post_notifications(&collection(vec![item])), &deps).await;
        let response = &handled.response;
        assert_eq!(response.status(), accepted.status(), "{name}");
        assert_eq!(response.headers(), accepted.headers(), "{name}");
        assert_eq!(response.body(), accepted.body(), "{name}");
        assert!(deps.queue().calls().is_empty(), "{name}: nothing enqueued");
        assert_eq!(handled.counts.rejected(reason), 1, "{name}");
        assert_eq!(handled.counts.accepted, 0, "{name}");
    }
}

#[tokio::test]
async fn a_mixed_batch_enqueues_only_the_good_items() {
    let deps = deps();
    let items = vec![
        change(SUB, SECRET, TENANT, "good-1"),
        change(SUB, "forged", TENANT, "forged"),
        change("unknown-sub", SECRET, TENANT, "unknown"),
        change(SUB, SECRET, "foreign-tenant", "foreign"),
        json!("not an object"),
        change(SUB, SECRET, TENANT, "good-2"),
    ];
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(
        deps.queue().all_hints(),
        vec![task_hint("good-1"), task_hint("good-2")]
    );
    let counts = &handled.counts;
    assert_eq!(
        (counts.received, counts.accepted, counts.rejected_total()),
        (6, 2, 4)
    );
    for reason in [
        RejectReason::ClientStateMismatch,
        RejectReason::UnknownSubscription,
        RejectReason::ForeignTenant,
        RejectReason::InvalidItem,
    ] {
        assert_eq!(counts.rejected(reason), 1, "{reason:?}");
    }
}

#[tokio::test]
async fn malformed_items_do_not_cost_the_good_one_its_delivery() {
    let deps = deps();
    let body = fixture("mixed-valid-and-malformed-items.json");
    let handled = handle_request(event("POST", "/notifications", body.as_bytes()), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint("T-good")]);
    assert_eq!(handled.counts.rejected(RejectReason::InvalidItem), 5);
}

#[tokio::test]
async fn a_batch_where_every_item_is_rejected_is_still_202() {
    let deps = deps();
    let items = (0..5)
        .map(|i| change(SUB, "forged", TENANT, &format!("T{i}")))
        .collect();
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert!(deps.queue().calls().is_empty());
    assert_eq!(
        handled.counts.rejected(RejectReason::ClientStateMismatch),
        5
    );
}

#[tokio::test]
async fn a_notification_about_something_else_than_a_task_is_dropped() {
    let deps = deps();
    let mut item = change(SUB, SECRET, TENANT, "x");
    item["resource"] = json!("users/u/messages/m1");
    item.as_object_mut().unwrap().remove("resourceData");
    let handled = handle_request(post_notifications(&collection(vec![item])), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(handled.counts.rejected(RejectReason::NotATodoTask), 1);
    assert!(deps.queue().calls().is_empty());
}

// ---------------------------------------------------------------- bad requests

#[tokio::test]
async fn bad_bodies_get_400_with_a_reason_and_enqueue_nothing() {
    for (body, reason) in [
        (&b"this is not json"[..], "not valid JSON"),
        (&b""[..], "not valid JSON"),
        (&b"[1,2]"[..], "not a JSON object"),
        (&b"{\"items\":[]}"[..], "no \"value\" array"),
        (&b"{\"value\":{}}"[..], "not an array"),
        (&[0xff, 0xfe, 0x00][..], "not valid JSON"),
    ] {
        let deps = deps();
        let handled = handle_request(event("POST", "/notifications", body), &deps).await;
        assert_eq!(handled.response.status(), 400, "{body:?}");
        assert!(body_text(&handled.response).contains(reason), "{body:?}");
        assert!(deps.queue().calls().is_empty());
        assert_eq!(deps.store().lookups(), 0);
    }
}

#[tokio::test]
async fn wrong_methods_get_405() {
    let deps = deps();
    let body = collection(vec![change(SUB, SECRET, TENANT, "T1")]).to_string();
    for method in ["PUT", "DELETE", "PATCH"] {
        let handled = handle_request(event(method, "/notifications", body.as_bytes()), &deps).await;
        assert_eq!(handled.response.status(), 405, "{method}");
        assert!(header(&handled.response, "allow").is_some());
    }
    // GET is only for the handshake.
    let handled = handle_request(event("GET", "/notifications", b""), &deps).await;
    assert_eq!(handled.response.status(), 405);
    assert_eq!(header(&handled.response, "allow"), Some("POST"));
    assert!(deps.queue().calls().is_empty());
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let deps = deps();
    let body = collection(vec![change(SUB, SECRET, TENANT, "T1")]).to_string();
    for path in ["/", "/notification", "/notifications/extra", "/admin"] {
        let handled = handle_request(event("POST", path, body.as_bytes()), &deps).await;
        assert_eq!(handled.response.status(), 404, "{path}");
    }
    assert!(deps.queue().calls().is_empty());
}

#[tokio::test]
async fn oversized_bodies_get_413_before_parsing() {
    let deps = deps();
    let limit = deps.settings().max_body_bytes;
    let mut body = collection(vec![change(SUB, SECRET, TENANT, "T1")]).to_string();
    // Still valid JSON, just too big: padding whitespace.
    body.insert_str(1, &" ".repeat(limit));
    let handled = handle_request(event("POST", "/notifications", body.as_bytes()), &deps).await;
    assert_eq!(handled.response.status(), 413);
    assert_eq!(deps.store().lookups(), 0);
    assert!(deps.queue().calls().is_empty());
}

// ---------------------------------------------------------------- failures → 5xx

#[tokio::test]
async fn enqueue_failure_is_a_5xx_so_graph_retries() {
    let deps = deps();
    *deps.queue().fail.lock().unwrap() = Some(|| QueueError::NotEnqueued {
        failed: 1,
        total: 1,
        reason: "throttled".into(),
    });
    let items = vec![change(SUB, SECRET, TENANT, "T1")];
    let handled = handle_request(post_notifications(&collection(items.clone())), &deps).await;
    assert_eq!(handled.response.status(), 503);
    assert_eq!(handled.counts.hints_enqueued, 0);

    *deps.queue().fail.lock().unwrap() = Some(|| QueueError::Config("no such queue".into()));
    let handled = handle_request(post_notifications(&collection(items.clone())), &deps).await;
    assert_eq!(handled.response.status(), 500);

    // Graph's retry, once the queue is back, gets through.
    *deps.queue().fail.lock().unwrap() = None;
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint("T1")]);
}

#[tokio::test]
async fn store_failure_is_a_503_and_is_not_cached() {
    let deps = deps();
    deps.store().fail_transient.store(true, Ordering::SeqCst);
    let items = vec![change(SUB, SECRET, TENANT, "T1")];
    let handled = handle_request(post_notifications(&collection(items.clone())), &deps).await;
    assert_eq!(handled.response.status(), 503);
    assert!(deps.queue().calls().is_empty());

    deps.store().fail_transient.store(false, Ordering::SeqCst);
    let handled = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(handled.response.status(), 202);
    assert_eq!(deps.queue().all_hints(), vec![task_hint("T1")]);
}

// ---------------------------------------------------------------- cache

#[tokio::test]
async fn many_notifications_for_one_subscription_cost_one_lookup_across_requests() {
    let deps = deps();
    for round in 0..3 {
        let items = (0..20)
            .map(|i| change(SUB, SECRET, TENANT, &format!("T{round}-{i}")))
            .collect();
        let handled = handle_request(post_notifications(&collection(items)), &deps).await;
        assert_eq!(handled.response.status(), 202);
        assert_eq!(handled.counts.store_lookups, u64::from(round == 0));
    }
    assert_eq!(deps.store().lookups(), 1);
}

#[tokio::test]
async fn unknown_subscriptions_are_cached_too() {
    let deps = deps();
    for _ in 0..3 {
        let items = (0..10)
            .map(|i| change("forged-sub", SECRET, TENANT, &format!("T{i}")))
            .collect();
        handle_request(post_notifications(&collection(items)), &deps).await;
    }
    assert_eq!(deps.store().lookups(), 1);
}

#[tokio::test]
async fn a_body_with_too_many_distinct_subscriptions_gets_503_and_progresses_on_retry() {
    let (deps, _) = deps_with(WebhookSettings {
        max_store_lookups_per_request: 3,
        ..WebhookSettings::default()
    });
    for i in 0..4 {
        deps.store().records.lock().unwrap().insert(
            format!("sub-{i}"),
            record(&format!("sub-{i}"), &format!("b{i}")),
        );
    }
    let items: Vec<Value> = (0..5)
        .map(|i| change(&format!("sub-{i}"), SECRET, TENANT, "T"))
        .collect();
    let first = handle_request(post_notifications(&collection(items.clone())), &deps).await;
    assert_eq!(first.response.status(), 503);
    assert!(deps.queue().calls().is_empty(), "nothing enqueued on 503");
    // The retry finds three ids cached and has budget for the other two.
    let retry = handle_request(post_notifications(&collection(items)), &deps).await;
    assert_eq!(retry.response.status(), 202);
    assert_eq!(retry.counts.store_lookups, 2);
    assert_eq!(retry.counts.accepted, 4);
    assert_eq!(retry.counts.rejected(RejectReason::UnknownSubscription), 1);
}

// ---------------------------------------------------------------- metrics and logs

#[tokio::test]
async fn metrics_are_emitted_as_emf_lines() {
    let (deps, lines) = deps_with(WebhookSettings::default());
    let items = vec![
        change(SUB, SECRET, TENANT, "T1"),
        change(SUB, "forged", TENANT, "T2"),
    ];
    handle_request(post_notifications(&collection(items)), &deps).await;
    let written = std::mem::take(&mut *lines.lock().unwrap());
    let docs: Vec<Value> = written
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 3, "{written:?}");
    assert_eq!(docs[0]["NotificationsReceived"], 2);
    assert_eq!(docs[0]["NotificationsAccepted"], 1);
    assert_eq!(docs[0]["NotificationsRejected"], 1);
    assert!(docs[0]["EnqueueLatency"].is_number());
    assert_eq!(
        docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "tasksync"
    );
    assert_eq!(docs[1]["Reason"], "client_state_mismatch");
    assert_eq!(docs[2]["Status"], "202");
    assert_eq!(docs[2]["Requests"], 1);
    assert!(!written.concat().contains(SECRET));

    // Requests refused before any notification is looked at are counted by status.
    handle_request(event("POST", "/notifications", b"nope"), &deps).await;
    handle_request(event_from_fixture("event-post-validation.json"), &deps).await;
    let written = std::mem::take(&mut *lines.lock().unwrap());
    let statuses: Vec<Value> = written
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["Status"].clone())
        .collect();
    assert_eq!(statuses, [json!("400"), json!("200")]);
}
