//! Planner over HTTP (docs/graph-behaviour.md §2): plans, buckets, tasks, details, ETags, open
//! types, order hints, paging and the 403 limits, plus the control API's "person in the Planner
//! app" edits.

use std::collections::HashSet;

use graph_emulator::EmulatorConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::Emu;

fn small_pages(n: usize) -> EmulatorConfig {
    EmulatorConfig {
        planner_page_size: n,
        ..EmulatorConfig::default()
    }
}

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

async fn read_all(emu: &Emu, first: &str) -> (Vec<Value>, usize) {
    emu.read_all_pages(first).await
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
async fn patch_and_delete_require_a_current_if_match() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let task = emu.new_task(&plan, "a").await;
    let other = emu.new_task(&plan, "b").await;
    let path = format!("/planner/tasks/{}", task.id());

    let r = emu.patch(&path, None, json!({"title": "x"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json["error"]["message"],
        "The If-Match header must be specified for this kind of request."
    );

    let r = emu
        .patch(&path, Some(&other.etag()), json!({"title": "x"}))
        .await;
    assert_eq!(r.status, 412, "another task's ETag");
    assert_eq!(r.json["error"]["code"], "PreconditionFailed");

    // Default answer: 204, and the ETag changed and sorts after the old one.
    let r = emu
        .patch(&path, Some(&task.etag()), json!({"title": "renamed"}))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(r.json, Value::Null);
    let now = emu.get(&path).await;
    assert_eq!(now.json["title"], "renamed");
    assert!(now.etag() > task.etag(), "{} > {}", now.etag(), task.etag());

    let r = emu
        .patch(&path, Some(&task.etag()), json!({"title": "stale"}))
        .await;
    assert_eq!(r.status, 412, "stale ETag");

    // With Prefer: return=representation, 200 and the updated task.
    let r = emu
        .call(
            Method::PATCH,
            &path,
            &[
                ("If-Match", &now.etag()),
                ("Prefer", "return=representation"),
            ],
            Some(json!({"priority": 1})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["priority"], 1);
    assert_ne!(r.etag(), now.etag());
    let latest = r.etag();

    let r = emu.call(Method::DELETE, &path, &[], None).await;
    assert_eq!(r.status, 400);
    let r = emu
        .call(Method::DELETE, &path, &[("If-Match", &now.etag())], None)
        .await;
    assert_eq!(r.status, 412);
    let r = emu
        .call(Method::DELETE, &path, &[("If-Match", &latest)], None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.get(&path).await.status, 404);
}

/// PATCH with `Prefer: return=representation`, remembering the new ETag on success.
async fn patch_rep(emu: &Emu, path: &str, etag: &mut String, body: Value) -> crate::helpers::Reply {
    let headers = [
        ("If-Match", etag.as_str()),
        ("Prefer", "return=representation"),
    ];
    let r = emu.call(Method::PATCH, path, &headers, Some(body)).await;
    if r.status == 200 {
        *etag = r.etag();
    }
    r
}

#[tokio::test]
async fn task_fields_follow_the_rules() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let task = emu.new_task(&plan, "a").await;
    let path = format!("/planner/tasks/{}", task.id());
    let mut etag = task.etag();

    let r = patch_rep(&emu, &path, &mut etag, json!({"percentComplete": 100})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.json["completedDateTime"].is_string());
    assert_eq!(
        r.json["completedBy"]["application"]["id"],
        emu.config().client_id
    );
    let r = patch_rep(&emu, &path, &mut etag, json!({"percentComplete": 50})).await;
    assert!(r.json["completedDateTime"].is_null());

    let r = patch_rep(
        &emu,
        &path,
        &mut etag,
        json!({"startDateTime": "2030-01-02T00:00:00Z", "dueDateTime": "2030-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(r.status, 400, "start after due");
    let r = patch_rep(
        &emu,
        &path,
        &mut etag,
        json!({"startDateTime": "2030-01-01T00:00:00Z", "dueDateTime": "2030-01-02T00:00:00Z"}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["dueDateTime"], "2030-01-02T00:00:00Z");

    let r = patch_rep(
        &emu,
        &path,
        &mut etag,
        json!({"appliedCategories": {"category1": true, "category3": true}}),
    )
    .await;
    assert_eq!(
        r.json["appliedCategories"],
        json!({"category1": true, "category3": true})
    );
    let r = patch_rep(
        &emu,
        &path,
        &mut etag,
        json!({"appliedCategories": {"category1": false}}),
    )
    .await;
    assert_eq!(r.json["appliedCategories"], json!({"category3": true}));

    // Open types need @odata.type (§2.2); null removes.
    let user = emu.config().user_id.clone();
    let r = patch_rep(
        &emu,
        &path,
        &mut etag,
        json!({"assignments": {&user: {"orderHint": " !"}}}),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = patch_rep(&emu, &path, &mut etag, json!({"assignments": {&user: {"@odata.type": "#microsoft.graph.plannerAssignment", "orderHint": " !"}}})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json["assignments"][&user]["@odata.type"],
        "#microsoft.graph.plannerAssignment"
    );
    let r = patch_rep(
        &emu,
        &path,
        &mut etag,
        json!({"assignments": {&user: null}}),
    )
    .await;
    assert_eq!(r.json["assignments"], json!({}));

    let r = patch_rep(&emu, &path, &mut etag, json!({"priority": 11})).await;
    assert_eq!(r.status, 400);
    let r = patch_rep(&emu, &path, &mut etag, json!({"planId": plan})).await;
    assert_eq!(r.status, 400, "planId cannot be changed");
}

#[tokio::test]
async fn order_hints_are_computed_and_echoes_rejected() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let a = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "a", "orderHint": " !"}),
        )
        .await;
    assert_eq!(a.status, 201);
    let a_hint = a.json["orderHint"].as_str().unwrap().to_owned();
    assert_ne!(a_hint, " !");

    let b = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "b", "orderHint": format!("{a_hint} !")}),
        )
        .await;
    let b_hint = b.json["orderHint"].as_str().unwrap().to_owned();
    assert!(b_hint > a_hint, "after a: {b_hint} > {a_hint}");

    let c = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "c", "orderHint": format!("{a_hint} {b_hint}!")}),
        )
        .await;
    let c_hint = c.json["orderHint"].as_str().unwrap().to_owned();
    assert!(
        a_hint < c_hint && c_hint < b_hint,
        "{a_hint} < {c_hint} < {b_hint}"
    );

    // Sending back a value exactly as returned is a 400 (§2.5).
    let r = emu
        .patch(
            &format!("/planner/tasks/{}", a.id()),
            Some(&a.etag()),
            json!({"orderHint": a_hint}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "d", "orderHint": format!("{b_hint} {a_hint}!")}),
        )
        .await;
    assert_eq!(r.status, 400, "neighbours out of order");
}

#[tokio::test]
async fn details_have_their_own_etag_and_drive_task_counters() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let task = emu.new_task(&plan, "a").await;
    let path = format!("/planner/tasks/{}/details", task.id());
    let details = emu.get(&path).await;
    assert_eq!(details.status, 200);
    assert_ne!(details.etag(), task.etag());

    let r = emu.patch(&path, None, json!({"description": "x"})).await;
    assert_eq!(r.status, 400);
    let r = emu
        .patch(&path, Some(&task.etag()), json!({"description": "x"}))
        .await;
    assert_eq!(r.status, 400, "the task's ETag on details");
    assert_eq!(
        r.json["error"]["message"],
        "The If-Match header contains an invalid value."
    );

    let r = emu
        .patch(
            &path,
            Some(&details.etag()),
            json!({"checklist": {"item-1": {"title": "no type"}}}),
        )
        .await;
    assert_eq!(r.status, 400, "checklist items need @odata.type");

    let r = emu
        .call(
            Method::PATCH,
            &path,
            &[("If-Match", &details.etag()), ("Prefer", "return=representation")],
            Some(json!({
                "description": "Some words",
                "previewType": "checklist",
                "checklist": {
                    "95e27074-6c4a-447a-aa24-9d718a0b86fa": {"@odata.type": "microsoft.graph.plannerChecklistItem", "title": "one"},
                    "d280ed1a-9f6b-4f9c-a962-fb4d00dc50ff": {"@odata.type": "#microsoft.graph.plannerChecklistItem", "title": "two", "isChecked": true}
                },
                "references": {
                    "https%3A//contoso%2Esharepoint%2Ecom/doc%2Edocx": {"@odata.type": "microsoft.graph.externalReference", "alias": "Doc", "type": "Word"}
                }
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert!(r.etag() > details.etag());
    assert_eq!(r.json["checklist"].as_object().unwrap().len(), 2);

    let t = emu.get(&format!("/planner/tasks/{}", task.id())).await;
    assert_eq!(t.json["hasDescription"], true);
    assert_eq!(t.json["checklistItemCount"], 2);
    assert_eq!(t.json["activeChecklistItemCount"], 1);
    assert_eq!(t.json["referenceCount"], 1);
    assert_eq!(t.json["previewType"], "checklist");
    assert_ne!(t.etag(), task.etag(), "the task's derived fields changed");

    // Unencoded reference keys are rejected; null removes.
    let d = emu.get(&path).await;
    let r = emu
        .patch(
            &path,
            Some(&d.etag()),
            json!({"references": {"https://contoso.com/x": {"@odata.type": "microsoft.graph.plannerExternalReference"}}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = emu
        .patch(
            &path,
            Some(&d.etag()),
            json!({"checklist": {"95e27074-6c4a-447a-aa24-9d718a0b86fa": null}}),
        )
        .await;
    assert_eq!(r.status, 204);
    let t = emu.get(&format!("/planner/tasks/{}", task.id())).await;
    assert_eq!(t.json["checklistItemCount"], 1);
    assert_eq!(t.json["activeChecklistItemCount"], 0);
}

#[tokio::test]
async fn limits_answer_the_documented_403_codes() {
    let emu = Emu::start(EmulatorConfig {
        max_active_tasks_per_plan: 2,
        max_tasks_per_plan: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let plan = emu.new_plan().await;
    let first = emu.new_task(&plan, "1").await;
    emu.new_task(&plan, "2").await;
    let r = emu
        .post("/planner/tasks", json!({"planId": plan, "title": "3"}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json["error"]["code"], "MaximumActiveTasksInProject");
    // A completed task is not active.
    let r = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "3", "percentComplete": 100}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = emu
        .post(
            "/planner/tasks",
            json!({"planId": plan, "title": "4", "percentComplete": 100}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json["error"]["code"], "MaximumTasksInProject");
    // Completing one frees an active slot.
    let r = emu
        .patch(
            &format!("/planner/tasks/{}", first.id()),
            Some(&first.etag()),
            json!({"percentComplete": 100}),
        )
        .await;
    assert_eq!(r.status, 204);

    let details_path = format!("/planner/tasks/{}/details", first.id());
    let d = emu.get(&details_path).await;
    let checklist: serde_json::Map<String, Value> = (0..21)
        .map(|i| {
            (
                format!("c{i}"),
                json!({"@odata.type": "microsoft.graph.plannerChecklistItem", "title": "x"}),
            )
        })
        .collect();
    let r = emu
        .patch(
            &details_path,
            Some(&d.etag()),
            json!({"checklist": checklist}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json["error"]["code"], "MaximumChecklistItemsOnTask");
    let refs: serde_json::Map<String, Value> = (0..11)
        .map(|i| {
            (
                format!("https%3A//x%2Ecom/{i}"),
                json!({"@odata.type": "microsoft.graph.plannerExternalReference"}),
            )
        })
        .collect();
    let r = emu
        .patch(&details_path, Some(&d.etag()), json!({"references": refs}))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json["error"]["code"], "MaximumReferencesOnTask");
    // A rejected write changes nothing.
    assert_eq!(emu.get(&details_path).await.etag(), d.etag());
}

#[tokio::test]
async fn a_person_editing_in_the_app_changes_the_etag_without_if_match() {
    let emu = Emu::default().await;
    let plan = emu.new_plan().await;
    let task = emu.new_task(&plan, "a").await;
    let id = task.id();

    let r = emu
        .control(
            Method::PATCH,
            &format!("/planner/tasks/{id}"),
            Some(json!({"title": "edited", "percentComplete": 100})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["completedBy"]["user"]["id"], emu.config().user_id);
    assert!(r.etag() > task.etag());

    // The app's copy is now stale.
    let r = emu
        .patch(
            &format!("/planner/tasks/{id}"),
            Some(&task.etag()),
            json!({"title": "mine"}),
        )
        .await;
    assert_eq!(r.status, 412);

    let r = emu
        .control(
            Method::PATCH,
            &format!("/planner/tasks/{id}/details"),
            Some(json!({"description": "by hand"})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        emu.get(&format!("/planner/tasks/{id}")).await.json["hasDescription"],
        true
    );

    let r = emu
        .control(Method::DELETE, &format!("/planner/tasks/{id}"), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.get(&format!("/planner/tasks/{id}")).await.status, 404);
}

#[tokio::test]
async fn control_api_seeds_thousands_of_tasks_in_one_call() {
    let emu = Emu::default().await;
    let r = emu
        .control(
            Method::POST,
            "/planner/plans",
            Some(json!({"title": "Seeded"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let plan = r.id();
    let tasks: Vec<Value> = (0..5000)
        .map(|i| json!({"title": format!("task {i}"), "percentComplete": if i % 2 == 0 { 100 } else { 0 }}))
        .collect();
    let r = emu
        .control(
            Method::POST,
            &format!("/planner/plans/{plan}/tasks"),
            Some(Value::Array(tasks)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["value"].as_array().unwrap().len(), 5000);

    let (all, pages) = read_all(&emu, &format!("/planner/plans/{plan}/tasks")).await;
    assert_eq!(all.len(), 5000);
    assert_eq!(pages, 13, "400 per page by default");

    // Seeding respects the limits too, atomically.
    let too_many: Vec<Value> = (0..4001)
        .map(|i| json!({"title": format!("more {i}"), "percentComplete": 100}))
        .collect();
    let r = emu
        .control(
            Method::POST,
            &format!("/planner/plans/{plan}/tasks"),
            Some(Value::Array(too_many)),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json["error"]["code"], "MaximumTasksInProject");
    let (all, _) = read_all(&emu, &format!("/planner/plans/{plan}/tasks")).await;
    assert_eq!(all.len(), 5000);
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
