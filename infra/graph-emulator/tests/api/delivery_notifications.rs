//! Notification delivery over HTTP (docs/graph-behaviour.md §1.6–§1.8, §1.11): change notifications
//! for every task write, retries, the delivery faults, and lifecycle notifications.

use std::time::Duration;

use graph_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::helpers::{Env, Receiver};

fn fast_retries() -> EmulatorConfig {
    EmulatorConfig {
        delivery_backoff: Duration::from_millis(20),
        delivery_timeout: Duration::from_millis(500),
        delivery_retry_timeout: Duration::from_millis(500),
        delivery_max_attempts: 4,
        ..Default::default()
    }
}

fn task_ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["resourceData"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_update_delete_each_notify_with_client_state() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Notified").await;
    let sub = env
        .subscribe(&list, &receiver, "created,updated,deleted", "state-1")
        .await;
    let sub_id = sub["id"].as_str().unwrap();

    let task = env.new_task(&list, json!({"title": "a"})).await;
    let task_id = task["id"].as_str().unwrap();
    let path = format!("{}/{task_id}", env.tasks_path(&list));
    let updated = env.patch(&path, json!({"title": "b"})).await;
    assert_eq!(env.delete(&path).await.status, 204);

    let items = receiver.wait_items("/notify", 3).await;
    let kinds: Vec<&str> = items
        .iter()
        .map(|i| i["changeType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["created", "updated", "deleted"]);
    for item in &items {
        assert_eq!(item["subscriptionId"], sub_id);
        assert_eq!(item["clientState"], "state-1");
        assert_eq!(item["tenantId"], env.emu.state.config.tenant_id.as_str());
        assert_eq!(
            item["subscriptionExpirationDateTime"],
            sub["expirationDateTime"]
        );
        assert_eq!(
            item["resourceData"]["@odata.type"],
            "#Microsoft.Graph.todoTask"
        );
        assert_eq!(item["resourceData"]["id"], task_id);
        let resource = item["resource"].as_str().unwrap();
        assert_eq!(
            resource,
            format!("Users/{}/todo/Lists/{list}/Tasks/{task_id}", env.user)
        );
        assert_eq!(item["resourceData"]["@odata.id"], resource);
        assert!(item["id"].is_string());
    }
    assert_eq!(items[0]["resourceData"]["@odata.etag"], task["@odata.etag"]);
    assert_eq!(
        items[1]["resourceData"]["@odata.etag"],
        updated.json["@odata.etag"]
    );
    assert!(items[2]["resourceData"].get("@odata.etag").is_none());

    let posts: Vec<_> = receiver
        .records()
        .into_iter()
        .filter(|r| r.validation_token.is_none())
        .collect();
    assert!(posts.iter().all(|r| r.content_type == "application/json"));
    env.wait_delivery_idle().await;
    assert_eq!(env.emu.state.delivery.stats().delivered, 3);
}

#[tokio::test]
async fn app_edits_notify_and_change_types_filter() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Filtered").await;
    let other = env.new_list("Unwatched").await;
    env.subscribe(&list, &receiver, "updated", "only-updates")
        .await;

    let created = env
        .control(
            reqwest::Method::POST,
            &format!("/todo/lists/{list}/tasks"),
            Some(json!({"title": "x"})),
        )
        .await;
    let id = created.json["id"].as_str().unwrap();
    env.new_task(&other, json!({"title": "elsewhere"})).await;
    env.control(
        reqwest::Method::PATCH,
        &format!("/todo/lists/{list}/tasks/{id}"),
        Some(json!({"status": "completed"})),
    )
    .await;
    env.wait_delivery_idle().await;
    let items = receiver.items("/notify");
    assert_eq!(items.len(), 1, "{items:#?}");
    assert_eq!(items[0]["changeType"], "updated");
    assert_eq!(items[0]["clientState"], "only-updates");
}

#[tokio::test]
async fn failing_receiver_gets_retries_until_it_accepts() {
    let env = Env::start(fast_retries()).await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Retry").await;
    env.subscribe(&list, &receiver, "created", "retry-secret")
        .await;
    receiver.fail_next(2);
    env.new_task(&list, json!({"title": "x"})).await;
    env.wait_delivery_idle().await;
    assert_eq!(
        receiver.items("/notify").len(),
        3,
        "two 503s and one success"
    );
    let stats = env.emu.state.delivery.stats();
    assert_eq!(
        (stats.delivered, stats.failed_attempts, stats.abandoned),
        (1, 2, 0),
        "{stats:?}"
    );
    let log = env
        .control(reqwest::Method::GET, "/delivery/log", None)
        .await;
    let attempts: Vec<(u64, &str)> = log.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, vec![(1, "503"), (2, "503"), (3, "202")]);
    assert!(
        !log.json.to_string().contains("retry-secret"),
        "the log must not carry clientState"
    );

    // A receiver that never accepts: abandoned after delivery_max_attempts.
    receiver.fail_next(100);
    env.new_task(&list, json!({"title": "y"})).await;
    env.wait_delivery_idle().await;
    let stats = env.emu.state.delivery.stats();
    assert_eq!(
        (stats.failed_attempts, stats.abandoned),
        (2 + 4, 1),
        "{stats:?}"
    );

    let http_stats = env
        .control(reqwest::Method::GET, "/delivery/stats", None)
        .await;
    assert_eq!(http_stats.json["abandoned"], 1);
    assert_eq!(http_stats.json["pending"], 0);
}

#[tokio::test]
async fn duplicate_drop_and_reorder_faults() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Faults").await;
    env.subscribe(&list, &receiver, "created", "s").await;

    // duplicate: 1 extra copy of each.
    let r = env
        .control(
            reqwest::Method::POST,
            "/delivery/faults",
            Some(json!({"duplicate": 1})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let t = env.new_task(&list, json!({"title": "dup"})).await;
    env.wait_delivery_idle().await;
    assert_eq!(
        task_ids(&receiver.items("/notify")),
        vec![t["id"].clone().as_str().unwrap().to_owned(); 2]
    );

    // drop_next: the next one never arrives, the one after does.
    env.control(
        reqwest::Method::POST,
        "/delivery/faults",
        Some(json!({"drop_next": 1})),
    )
    .await;
    env.new_task(&list, json!({"title": "dropped"})).await;
    let kept = env.new_task(&list, json!({"title": "kept"})).await;
    env.wait_delivery_idle().await;
    let ids = task_ids(&receiver.items("/notify"));
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[2], kept["id"].as_str().unwrap());
    assert_eq!(env.emu.state.delivery.stats().dropped, 1);

    // reorder: three held, then sent newest first.
    env.control(
        reqwest::Method::POST,
        "/delivery/faults",
        Some(json!({"reorder": true, "reorder_batch": 3, "reorder_window_ms": 10000})),
    )
    .await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(
            env.new_task(&list, json!({"title": format!("r{i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let items = receiver.wait_items("/notify", 6).await;
    let mut expected = created.clone();
    expected.reverse();
    assert_eq!(task_ids(&items)[3..].to_vec(), expected);

    // Clearing the faults sends anything still held.
    let held = env.new_task(&list, json!({"title": "held"})).await;
    assert_eq!(env.emu.state.delivery.stats().pending, 1);
    let r = env
        .control(reqwest::Method::DELETE, "/delivery/faults", None)
        .await;
    assert_eq!(r.status, 204);
    let items = receiver.wait_items("/notify", 7).await;
    assert_eq!(task_ids(&items)[6], held["id"].as_str().unwrap());
    assert_eq!(
        env.control(reqwest::Method::GET, "/delivery/faults", None)
            .await
            .json["reorder"],
        false
    );
}

#[tokio::test]
async fn batch_option_puts_waiting_notifications_into_one_post() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Batched").await;
    env.subscribe(&list, &receiver, "created", "s").await;
    // Holding three (reorder) makes them wait together; batch then sends them in one POST.
    env.control(
        reqwest::Method::POST,
        "/delivery/faults",
        Some(json!({"reorder": true, "reorder_batch": 3, "reorder_window_ms": 10000, "batch": 10})),
    )
    .await;
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(
            env.new_task(&list, json!({"title": format!("b{i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    env.wait_delivery_idle().await;
    let posts: Vec<_> = receiver
        .records()
        .into_iter()
        .filter(|r| r.path == "/notify" && r.validation_token.is_none())
        .collect();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let items = posts[0].body["value"].as_array().unwrap().clone();
    created.reverse();
    assert_eq!(task_ids(&items), created);
    assert_eq!(env.emu.state.delivery.stats().delivered, 3);
}

#[tokio::test]
async fn delay_fault_holds_deliveries_without_blocking_writes() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Delay").await;
    env.subscribe(&list, &receiver, "created", "s").await;
    let delay = Duration::from_millis(1500);
    env.control(
        reqwest::Method::POST,
        "/delivery/faults",
        Some(json!({"delay_ms": 1500})),
    )
    .await;
    let started = std::time::Instant::now();
    env.new_task(&list, json!({"title": "late"})).await;
    let write_took = started.elapsed();
    let seen_early = receiver.items("/notify").len();
    if started.elapsed() < delay {
        assert_eq!(seen_early, 0, "delivered before the delay passed");
    }
    receiver.wait_items("/notify", 1).await;
    assert!(started.elapsed() >= delay);
    assert!(
        write_took < delay,
        "the write waited for delivery: {write_took:?}"
    );
}

#[tokio::test]
async fn lifecycle_events_go_to_the_lifecycle_url() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Lifecycle").await;
    let sub = env
        .subscribe(&list, &receiver, "created", "life-state")
        .await;
    let id = sub["id"].as_str().unwrap();

    for event in ["reauthorizationRequired", "missed"] {
        let r = env
            .control(
                reqwest::Method::POST,
                &format!("/subscriptions/{id}/lifecycle"),
                Some(json!({"event": event})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.json);
    }
    let items = receiver.wait_items("/lifecycle", 2).await;
    assert_eq!(items[0]["lifecycleEvent"], "reauthorizationRequired");
    assert_eq!(items[1]["lifecycleEvent"], "missed");
    for item in &items {
        assert_eq!(item["subscriptionId"], id);
        assert_eq!(item["clientState"], "life-state");
        assert_eq!(item["tenantId"], env.emu.state.config.tenant_id.as_str());
        assert_eq!(
            item["subscriptionExpirationDateTime"],
            sub["expirationDateTime"]
        );
        assert!(item.get("changeType").is_none() && item.get("resource").is_none());
    }
    assert!(receiver.items("/notify").is_empty());

    let r = env
        .control(
            reqwest::Method::POST,
            &format!("/subscriptions/{id}/lifecycle"),
            Some(json!({"event": "subscriptionRemoved"})),
        )
        .await;
    assert_eq!(r.status, 202);
    let items = receiver.wait_items("/lifecycle", 3).await;
    assert_eq!(items[2]["lifecycleEvent"], "subscriptionRemoved");
    assert_eq!(env.get(&format!("/subscriptions/{id}")).await.status, 404);
    // Removed: writes no longer notify.
    env.new_task(&list, json!({"title": "unseen"})).await;
    env.wait_delivery_idle().await;
    assert!(receiver.items("/notify").is_empty());

    let bad = env
        .control(
            reqwest::Method::POST,
            &format!("/subscriptions/{id}/lifecycle"),
            Some(json!({"event": "reauthorizationRequired"})),
        )
        .await;
    assert_eq!(bad.status, 404);
}
