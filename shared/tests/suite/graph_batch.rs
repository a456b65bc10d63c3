//! `$batch` against the emulator: correlation by id, per-item failures, throttled items retried
//! together after the longest Retry-After, more than 20 requests split into batches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crate::graph_support::Env;
use tasksync::graph::{BatchRequest, GraphError};

#[tokio::test]
async fn mixed_results_come_back_per_item() {
    let env = Env::default().await;
    let client = env.client();
    let plan = env.new_plan().await;
    let a = env.new_planner_task(&client, &plan, "a").await;
    let b = env.new_planner_task(&client, &plan, "b").await;
    // b's details are throttled once, with a 1 s Retry-After.
    env.add_fault(serde_json::json!({
        "method": "GET", "path": format!("/planner/tasks/{}/details", b.id), "status": 429,
        "retry_after_secs": 1, "times": 1
    }))
    .await;
    let missing = "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"; // well-formed, unknown
    let malformed = "short";
    let started = Instant::now();
    let results = client
        .planner()
        .get_task_details_many(&[&a.id, missing, &b.id, malformed])
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(results.len(), 4);
    assert!(matches!(&results[0], (id, Ok(d)) if *id == a.id && d.etag.is_some()));
    assert!(
        matches!(&results[1], (_, Err(GraphError::NotFound))),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(&results[2], (id, Ok(_)) if *id == b.id),
        "{:?}",
        results[2]
    );
    assert!(
        matches!(&results[3], (_, Err(GraphError::BadRequest { .. }))),
        "{:?}",
        results[3]
    );
    assert_eq!(
        client.counters().total("batch"),
        2,
        "one retry batch for the throttled item"
    );
}

#[tokio::test]
async fn throttled_items_past_the_deadline_come_back_throttled() {
    let env = Env::default().await;
    let client = env.client();
    let plan = env.new_plan().await;
    let a = env.new_planner_task(&client, &plan, "a").await;
    env.add_fault(serde_json::json!({
        "method": "GET", "path": "/planner/tasks/{task_id}/details", "status": 429,
        "retry_after_secs": 60
    }))
    .await;
    let bounded = client.with_deadline(Instant::now() + Duration::from_secs(5));
    let started = Instant::now();
    let results = bounded
        .planner()
        .get_task_details_many(&[&a.id])
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(&results[0].1, Err(GraphError::Throttled { retry_after }) if *retry_after == Duration::from_secs(60)),
        "{results:?}"
    );
}

#[tokio::test]
async fn more_than_twenty_requests_are_split_and_ids_must_be_unique() {
    let env = Env::default().await;
    let client = env.client();
    let user = env.user();
    let requests: Vec<_> = (0..45)
        .map(|i| {
            BatchRequest::get(
                format!("r{i}"),
                client
                    .relative_url(&["users", &user, "todo", "lists"])
                    .unwrap(),
            )
        })
        .collect();
    let outcomes = client.batch(requests).await.unwrap();
    assert_eq!(outcomes.len(), 45);
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    assert_eq!(outcomes[44].id, "r44");
    assert_eq!(client.counters().total("batch"), 3);

    let dup = vec![BatchRequest::get("x", "/a"), BatchRequest::get("X", "/b")];
    assert!(matches!(
        client.batch(dup).await,
        Err(GraphError::BadRequest { .. })
    ));
}
