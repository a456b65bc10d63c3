//! JSON batching (docs/graph-behaviour.md §4): limits, unique ids, per-item status, dependsOn with
//! 424, and per-item throttling through the same middleware as direct calls.

use serde_json::{Value, json};

use crate::helpers::{Emu, Reply};

async fn batch(emu: &Emu, requests: Value) -> Reply {
    emu.post("/$batch", json!({ "requests": requests })).await
}

fn item<'a>(r: &'a Reply, id: &str) -> &'a Value {
    r.batch_item(id)
}

#[tokio::test]
async fn more_than_20_requests_is_a_400() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let make = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"id": i.to_string(), "method": "GET", "url": format!("/planner/plans/{plan}")}))
            .collect()
    };
    let r = batch(&emu, make(21)).await;
    assert_eq!(r.status, 400);
    let r = batch(&emu, make(20)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["responses"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn ids_must_be_unique_case_insensitively() {
    let emu = Emu::default().await;
    let r = batch(
        &emu,
        json!([
            {"id": "a", "method": "GET", "url": "/planner/plans/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
            {"id": "A", "method": "GET", "url": "/planner/plans/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
        ]),
    )
    .await;
    assert_eq!(r.status, 400);
    // A body without a Content-Type header is malformed too.
    let r = batch(
        &emu,
        json!([{"id": "1", "method": "POST", "url": "/planner/tasks", "body": {}}]),
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn items_carry_their_own_status_headers_and_body() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let r = batch(
        &emu,
        json!([
            {"id": "get", "method": "GET", "url": format!("/planner/plans/{plan}")},
            {"id": "create", "method": "POST", "url": "planner/tasks",
             "headers": {"Content-Type": "application/json"},
             "body": {"planId": plan, "title": "from batch"}},
            {"id": "missing", "method": "GET", "url": "/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
            {"id": "bad", "method": "POST", "url": "/planner/tasks",
             "headers": {"Content-Type": "application/json"}, "body": {"title": "no plan"}}
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "the batch parsed");
    assert_eq!(item(&r, "get")["status"], 200);
    assert_eq!(item(&r, "get")["body"]["id"], plan.as_str());
    assert_eq!(item(&r, "create")["status"], 201);
    assert_eq!(item(&r, "create")["body"]["title"], "from batch");
    assert_eq!(
        item(&r, "create")["headers"]["Content-Type"],
        "application/json"
    );
    assert_eq!(item(&r, "missing")["status"], 404);
    assert_eq!(item(&r, "missing")["body"]["error"]["code"], "itemNotFound");
    assert_eq!(item(&r, "bad")["status"], 400);

    // Sub-requests are counted under their own routes.
    assert_eq!(emu.count("POST /planner/tasks", 201).await, 1);
    assert_eq!(emu.count("POST /$batch", 200).await, 1);
}

#[tokio::test]
async fn depends_on_runs_in_order_and_failed_dependencies_get_424() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let task = emu.new_task(&plan, "t").await;
    let path = format!("/planner/tasks/{}", task.id());
    let r = batch(
        &emu,
        json!([
            {"id": "1", "method": "PATCH", "url": path,
             "headers": {"Content-Type": "application/json", "If-Match": task.etag()},
             "body": {"title": "first"}},
            // The ETag is stale once 1 has run, so 2 fails and 3 depends on it.
            {"id": "2", "method": "PATCH", "url": path, "dependsOn": ["1"],
             "headers": {"Content-Type": "application/json", "If-Match": task.etag()},
             "body": {"title": "second"}},
            {"id": "3", "method": "GET", "url": path, "dependsOn": ["2"]},
            {"id": "4", "method": "GET", "url": path, "dependsOn": ["1"]}
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(item(&r, "1")["status"], 204);
    assert_eq!(item(&r, "2")["status"], 412);
    assert_eq!(item(&r, "3")["status"], 424);
    assert_eq!(item(&r, "4")["status"], 200);
    assert_eq!(item(&r, "4")["body"]["title"], "first");
    // 3 never reached the router.
    assert_eq!(emu.count("GET /planner/tasks/{task_id}", 200).await, 1);

    let r = batch(
        &emu,
        json!([{"id": "1", "method": "GET", "url": path, "dependsOn": ["9"]}]),
    )
    .await;
    assert_eq!(r.status, 400, "dependency on an unknown id");
}

#[tokio::test]
async fn a_throttled_item_gets_429_with_its_own_retry_after() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let task = emu.new_task(&plan, "t").await;
    emu.add_fault(json!({"method": "GET", "path": "/planner/tasks/{task_id}", "status": 429, "retry_after_secs": 7, "times": 1}))
        .await;
    let r = batch(
        &emu,
        json!([
            {"id": "plan", "method": "GET", "url": format!("/planner/plans/{plan}")},
            {"id": "task", "method": "GET", "url": format!("/planner/tasks/{}", task.id())}
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(item(&r, "plan")["status"], 200);
    assert_eq!(item(&r, "task")["status"], 429);
    assert_eq!(item(&r, "task")["headers"]["Retry-After"], "7");
    assert_eq!(item(&r, "task")["body"]["error"]["code"], "TooManyRequests");
}

#[tokio::test]
async fn the_batch_itself_needs_a_token() {
    let emu = Emu::default().await;
    let response = emu
        .http
        .post(emu.graph_url("/$batch"))
        .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "/planner/plans/AAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}
