//! The documented 403 limits, and the control API acting as a person in the Planner app.

use graph_emulator::EmulatorConfig;
use reqwest::Method;
use serde_json::{Value, json};

use super::read_all;
use crate::helpers::Emu;

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
