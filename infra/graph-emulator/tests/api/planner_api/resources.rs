//! Plans, buckets and task lists: creation, paging, `$expand=details`, update and delete.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use super::{read_all, small_pages};
use crate::helpers::Emu;

#[tokio::test]
async fn plans_and_tasks_are_created_with_201_and_28_char_ids() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    assert_eq!(plan.len(), 28);
    let r = emu.get(&format!("/planner/plans/{plan}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["container"]["containerId"], emu.config().group_id);
    assert_eq!(r.json["owner"], emu.config().group_id);

    // The older `owner` form and containerId + type are accepted too.
    let group = emu.config().group_id.clone();
    let r = emu
        .post("/planner/plans", json!({"title": "B", "owner": group}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = emu
        .post(
            "/planner/plans",
            json!({"title": "C", "container": {"containerId": group, "type": "group"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = emu.get(&format!("/groups/{group}/planner/plans")).await;
    assert_eq!(r.json["value"].as_array().unwrap().len(), 3);

    // Only the seeded group exists.
    let r = emu
        .post(
            "/planner/plans",
            json!({"title": "X", "container": {"url": "https://graph.microsoft.com/v1.0/groups/00000000-0000-0000-0000-000000000000"}}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = emu.post("/planner/plans", json!({"title": "X"})).await;
    assert_eq!(r.status, 400);

    let task = emu.new_task(&plan, "Write tests").await;
    assert_eq!(task.status, 201);
    assert_eq!(task.id().len(), 28);
    assert_eq!(task.json["planId"], plan.as_str());
    assert_eq!(task.json["percentComplete"], 0);
    assert!(task.etag().starts_with("W/\"JzEtVGFzayAg"));
    let r = emu.get(&format!("/planner/tasks/{}", task.id())).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["title"], "Write tests");

    // planId is required and must exist.
    assert_eq!(
        emu.post("/planner/tasks", json!({"title": "no plan"}))
            .await
            .status,
        400
    );
    let r = emu
        .post(
            "/planner/tasks",
            json!({"planId": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "title": "x"}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "itemNotFound");
    // A malformed id is a 400, an unknown well-formed one a 404.
    assert_eq!(emu.get("/planner/tasks/nope").await.status, 400);
    assert_eq!(
        emu.get("/planner/tasks/AAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn buckets_belong_to_one_plan() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let other = emu.new_plan().await;
    let r = emu
        .post(
            "/planner/buckets",
            json!({"name": "To do", "planId": plan, "orderHint": " !"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let bucket = r.id();
    assert_eq!(
        emu.get(&format!("/planner/buckets/{bucket}")).await.json["name"],
        "To do"
    );
    let r = emu.get(&format!("/planner/plans/{plan}/buckets")).await;
    assert_eq!(r.json["value"][0]["id"], bucket.as_str());

    let r = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "in", "bucketId": bucket}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = emu
        .post(
            "/planner/tasks",
            json!({"planId": other, "title": "out", "bucketId": bucket}),
        )
        .await;
    assert_eq!(r.status, 400, "a bucket of another plan");
    emu.new_task(&plan, "no bucket").await;
    let r = emu.get(&format!("/planner/buckets/{bucket}/tasks")).await;
    let titles: Vec<&str> = r.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["in"]);
}

#[tokio::test]
async fn task_lists_page_at_the_server_size_and_ignore_top() {
    let emu = Emu::start(small_pages(3)).await;
    let plan = emu.new_plan().await;
    let mut created = HashSet::new();
    for i in 0..8 {
        created.insert(emu.new_task(&plan, &format!("t{i}")).await.id());
    }
    let r = emu
        .get(&format!("/planner/plans/{plan}/tasks?$top=1"))
        .await;
    assert_eq!(
        r.json["value"].as_array().unwrap().len(),
        3,
        "$top is ignored"
    );

    let (tasks, pages) = read_all(&emu, &format!("/planner/plans/{plan}/tasks?$top=1")).await;
    assert_eq!(pages, 3);
    let seen: HashSet<String> = tasks
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tasks.len(), 8, "no duplicates");
    assert_eq!(seen, created);

    // A task deleted between pages does not disturb the cursor.
    let r = emu.get(&format!("/planner/plans/{plan}/tasks")).await;
    let next = r.json["@odata.nextLink"].as_str().unwrap().to_owned();
    let first_page: Vec<Value> = r.json["value"].as_array().unwrap().clone();
    let victim = &first_page[0];
    let r = emu
        .call(
            Method::DELETE,
            &format!("/planner/tasks/{}", victim["id"].as_str().unwrap()),
            &[("If-Match", victim["@odata.etag"].as_str().unwrap())],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let (rest, _) = read_all(&emu, &next).await;
    assert_eq!(first_page.len() + rest.len(), 8);

    assert_eq!(
        emu.get(&format!("/planner/plans/{plan}/tasks?$skiptoken=garbage"))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn expand_details_inlines_details_with_their_own_etag() {
    let emu = Emu::start(small_pages(2)).await;
    let plan = emu.new_plan().await;
    for i in 0..3 {
        emu.new_task(&plan, &format!("t{i}")).await;
    }
    let (tasks, pages) = read_all(
        &emu,
        &format!("/planner/plans/{plan}/tasks?$expand=details"),
    )
    .await;
    assert_eq!(pages, 2);
    for t in &tasks {
        let details = &t["details"];
        assert_eq!(details["id"], t["id"]);
        let etag = details["@odata.etag"].as_str().unwrap();
        assert!(etag.starts_with("W/\"JzEtVGFza0RldGFpbHMg"), "{etag}");
        assert_ne!(etag, t["@odata.etag"].as_str().unwrap());
    }
    let plain = emu.get(&format!("/planner/plans/{plan}/tasks")).await;
    assert!(plain.json["value"][0].get("details").is_none());

    let id = tasks[0]["id"].as_str().unwrap();
    let r = emu
        .get(&format!("/planner/tasks/{id}?$expand=details"))
        .await;
    assert_eq!(r.json["details"]["id"], id);
}

#[tokio::test]
async fn plans_and_buckets_update_and_delete_with_if_match() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let plan_path = format!("/planner/plans/{plan}");
    let p = emu.get(&plan_path).await;
    let r = emu.patch(&plan_path, None, json!({"title": "x"})).await;
    assert_eq!(r.status, 400);
    let r = emu
        .call(
            Method::PATCH,
            &plan_path,
            &[("If-Match", &p.etag()), ("Prefer", "return=representation")],
            Some(json!({"title": "Renamed"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["title"], "Renamed");
    let plan_etag = r.etag();

    let b = emu
        .post("/planner/buckets", json!({"name": "B", "planId": plan}))
        .await;
    let bucket_path = format!("/planner/buckets/{}", b.id());
    let r = emu
        .patch(&bucket_path, Some(&b.etag()), json!({"name": "B2"}))
        .await;
    assert_eq!(r.status, 204);
    let r = emu
        .patch(&bucket_path, Some(&b.etag()), json!({"name": "B3"}))
        .await;
    assert_eq!(r.status, 412);

    // Deleting a bucket deletes its tasks; tasks outside it stay.
    let inside = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "in", "bucketId": b.id()}),
        )
        .await;
    let outside = emu.new_task(&plan, "out").await;
    let current = emu.get(&bucket_path).await;
    let r = emu
        .call(
            Method::DELETE,
            &bucket_path,
            &[("If-Match", &current.etag())],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        emu.get(&format!("/planner/tasks/{}", inside.id()))
            .await
            .status,
        404
    );
    assert_eq!(
        emu.get(&format!("/planner/tasks/{}", outside.id()))
            .await
            .status,
        200
    );

    let r = emu
        .call(
            Method::DELETE,
            &plan_path,
            &[("If-Match", &plan_etag)],
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.get(&plan_path).await.status, 404);
    assert_eq!(
        emu.get(&format!("/planner/tasks/{}", outside.id()))
            .await
            .status,
        404
    );
}
