//! Writes and their rules: If-Match, the writable task fields, order hints, and details with
//! their own ETag.

use reqwest::Method;
use serde_json::{Value, json};

use super::patch_rep;
use crate::helpers::Emu;

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
