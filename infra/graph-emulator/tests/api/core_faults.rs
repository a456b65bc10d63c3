//! Injected faults (docs/graph-behaviour.md §5), request counters and the control API around them.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::Emu;

#[tokio::test]
async fn throttling_fault_answers_429_with_retry_after_then_clears() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    emu.add_fault(json!({
        "method": "GET",
        "path": "/planner/plans/{plan_id}/tasks",
        "status": 429,
        "retry_after_secs": 2,
        "times": 3
    }))
    .await;
    let path = format!("/planner/plans/{plan}/tasks");
    for _ in 0..3 {
        let r = emu.get(&path).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after").as_deref(), Some("2"));
        assert_eq!(r.json["error"]["code"], "TooManyRequests");
        assert_eq!(r.json["error"]["message"], "Please retry again later.");
        assert_eq!(r.json["error"]["innerError"]["status"], "429");
    }
    assert_eq!(emu.get(&path).await.status, 200, "the rule was used up");
    // Other routes were never affected.
    assert_eq!(emu.get(&format!("/planner/plans/{plan}")).await.status, 200);

    let key = "GET /planner/plans/{plan_id}/tasks";
    assert_eq!(emu.count(key, 429).await, 3);
    assert_eq!(emu.count(key, 200).await, 1);
    assert_eq!(emu.counters().await["routes"][key]["total"], 4);
    assert_eq!(emu.counters().await["token_requests"], 1);

    let r = emu.control(Method::DELETE, "/counters", None).await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.counters().await["total"], 0);
}

#[tokio::test]
async fn unlimited_503_by_concrete_path_until_cleared() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let path = format!("/planner/plans/{plan}");
    emu.add_fault(json!({"path": path, "status": 503, "retry_after_secs": 5}))
        .await;
    for _ in 0..5 {
        let r = emu.get(&path).await;
        assert_eq!(r.status, 503);
        assert_eq!(r.json["error"]["code"], "serviceNotAvailable");
        assert_eq!(r.header("retry-after").as_deref(), Some("5"));
    }
    let listed = emu.control(Method::GET, "/faults", None).await;
    assert_eq!(listed.json["value"][0]["fired"], 5);
    assert_eq!(
        emu.control(Method::DELETE, "/faults", None).await.status,
        204
    );
    assert_eq!(emu.get(&path).await.status, 200);
}

#[tokio::test]
async fn prefix_rules_and_429_without_retry_after() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    emu.add_fault(
        json!({"path_prefix": "/planner/", "status": 429, "omit_retry_after": true, "times": 1}),
    )
    .await;
    let r = emu.get(&format!("/planner/plans/{plan}")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
    assert_eq!(emu.get(&format!("/planner/plans/{plan}")).await.status, 200);

    // A rule without effect or path is refused.
    let r = emu
        .control(Method::POST, "/faults", Some(json!({"path": "/x"})))
        .await;
    assert_eq!(r.status, 400);
    let r = emu
        .control(Method::POST, "/faults", Some(json!({"status": 429})))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn latency_fault_delays_the_answer() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let path = format!("/planner/plans/{plan}");
    emu.add_fault(json!({"path": "/planner/plans/{plan_id}", "latency_ms": 300, "times": 1}))
        .await;
    let started = Instant::now();
    let r = emu.get(&path).await;
    assert_eq!(r.status, 200, "latency alone does not fail the call");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn token_endpoint_can_be_throttled() {
    let emu = Emu::default().await;
    emu.add_fault(json!({"path": "/{tenant}/oauth2/v2.0/token", "status": 429, "retry_after_secs": 60, "times": 1}))
        .await;
    let r = emu
        .token_request(&emu.running.token_url, &emu.token_form())
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after").as_deref(), Some("60"));
    let r = emu
        .token_request(&emu.running.token_url, &emu.token_form())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(emu.counters().await["token_requests"], 3);
}

#[tokio::test]
async fn unknown_paths_and_methods_get_graph_errors() {
    let emu = Emu::default().await;
    let r = emu.get("/nothing/here").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json["error"]["message"],
        "Resource not found for the segment 'nothing'."
    );
    let r = emu
        .call(
            Method::PUT,
            "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 405);
    assert!(r.json["error"]["code"].is_string());
}

#[tokio::test]
async fn clock_advances_through_the_control_api() {
    let emu = Emu::default().await;
    let before = emu.running.state.clock.now();
    emu.advance_clock(3600).await;
    let after = emu.running.state.clock.now();
    assert!(after - before >= chrono::Duration::seconds(3600));
    let r = emu
        .control(Method::POST, "/clock/advance", Some(json!({"seconds": -1})))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn authentication_is_checked_before_faults_apply() {
    let emu = Emu::default().await;
    emu.add_fault(json!({"path_prefix": "/", "status": 429, "times": 1}))
        .await;
    let url = emu.graph_url("/planner/plans/AAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let r = emu.http.get(&url).send().await.unwrap();
    assert_eq!(
        r.status().as_u16(),
        401,
        "no token: refused before throttling"
    );
    // The rule was not consumed by the unauthenticated call.
    assert_eq!(
        emu.get("/planner/plans/AAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await
            .status,
        429
    );
}
