//! To Do over HTTP (docs/graph-behaviour.md §3.1, §3.2, §3.5): lists, task CRUD, linked resources,
//! checklist items, dateTimeTimeZone conversion and paging.

use graph_emulator::EmulatorConfig;
use serde_json::json;

use crate::helpers::Env;

#[tokio::test]
async fn lists_start_with_the_default_list_and_accept_new_ones() {
    let env = Env::default().await;
    let r = env.get(&format!("/users/{}/todo/lists", env.user)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["value"][0]["wellknownListName"], "defaultList");
    assert_eq!(r.json["value"][0]["displayName"], "Tasks");

    let id = env.new_list("Groceries").await;
    // The user id compares case-insensitively.
    let upper = env.user.to_uppercase();
    let r = env.get(&format!("/users/{upper}/todo/lists/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["displayName"], "Groceries");
    assert_eq!(r.json["wellknownListName"], "none");
    assert!(r.json["@odata.etag"].as_str().unwrap().starts_with("W/\""));

    let r = env.get(&format!("/users/{}/todo/lists", env.user)).await;
    assert_eq!(r.json["value"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn lists_can_be_renamed_and_deleted_but_not_the_default_one() {
    let env = Env::default().await;
    let id = env.new_list("Old name").await;
    let path = format!("/users/{}/todo/lists/{id}", env.user);
    let before = env.get(&path).await;
    let renamed = env.patch(&path, json!({"displayName": "New name"})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.json);
    assert_eq!(renamed.json["displayName"], "New name");
    assert_ne!(renamed.json["@odata.etag"], before.json["@odata.etag"]);
    env.new_task(&id, json!({"title": "goes with the list"}))
        .await;
    assert_eq!(env.delete(&path).await.status, 204);
    assert_eq!(env.get(&path).await.status, 404);
    assert_eq!(env.get(&format!("{path}/tasks")).await.status, 404);

    let lists = env.get(&format!("/users/{}/todo/lists", env.user)).await;
    let default_id = lists.json["value"][0]["id"].as_str().unwrap();
    let r = env
        .delete(&format!("/users/{}/todo/lists/{default_id}", env.user))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn unknown_user_list_and_task_are_404() {
    let env = Env::default().await;
    let me = env.get("/me/todo/lists").await;
    assert_eq!(me.status, 400, "app-only tokens have no /me: {}", me.json);
    let r = env
        .get("/users/00000000-0000-0000-0000-000000000000/todo/lists")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "ResourceNotFound");
    let r = env
        .get(&format!("/users/{}/todo/lists/AAMkAGnope/tasks", env.user))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "itemNotFound");
    let list = env.new_list("L").await;
    let r = env
        .get(&format!("{}/AAMkAGnope", env.tasks_path(&list)))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json["error"]["code"], "itemNotFound");
}

#[tokio::test]
async fn task_crud_with_etags_and_completion() {
    let env = Env::default().await;
    let list = env.new_list("Work").await;
    let created = env
        .new_task(
            &list,
            json!({"title": "Write report", "importance": "high", "categories": ["Blue category"]}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("AAMkAG") && id.len() > 100, "{id}");
    assert_eq!(created["status"], "notStarted");
    assert_eq!(created["importance"], "high");
    assert_eq!(
        created["body"],
        json!({"content": "", "contentType": "text"})
    );
    assert_eq!(created["categories"], json!(["Blue category"]));
    let created_at = created["createdDateTime"].as_str().unwrap();
    // 7 fractional digits and Z (docs/graph-behaviour.md §3.1).
    assert_eq!(
        created_at.len(),
        "2020-08-18T09:03:05.8339192Z".len(),
        "{created_at}"
    );
    assert!(created_at.ends_with('Z'));
    assert!(created.get("completedDateTime").is_none());

    let path = format!("{}/{id}", env.tasks_path(&list));
    let got = env.get(&path).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["@odata.etag"], created["@odata.etag"]);

    let updated = env
        .patch(&path, json!({"status": "completed", "body": {"content": "<b>done</b>", "contentType": "html"}}))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.json);
    assert_eq!(updated.json["status"], "completed");
    assert_eq!(updated.json["body"]["contentType"], "html");
    assert_ne!(updated.json["@odata.etag"], created["@odata.etag"]);
    assert_eq!(updated.json["completedDateTime"]["timeZone"], "UTC");
    assert!(updated.json["lastModifiedDateTime"].as_str().unwrap() >= created_at);

    let reopened = env.patch(&path, json!({"status": "inProgress"})).await;
    assert!(
        reopened.json.get("completedDateTime").is_none(),
        "{}",
        reopened.json
    );
    assert_ne!(reopened.json["@odata.etag"], updated.json["@odata.etag"]);

    let bad = env.patch(&path, json!({"status": "finished"})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["error"]["code"], "invalidRequest");
    let unknown = env.patch(&path, json!({"colour": "red"})).await;
    assert_eq!(unknown.status, 400);

    let deleted = env.delete(&path).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(env.get(&path).await.status, 404);
    assert_eq!(env.delete(&path).await.status, 404);
}

#[tokio::test]
async fn linked_resources_inline_and_as_a_collection() {
    let env = Env::default().await;
    let list = env.new_list("Linked").await;
    let created = env
        .new_task(
            &list,
            json!({
                "title": "Synced",
                "linkedResources": [{
                    "webUrl": "https://tasks.office.com/x",
                    "applicationName": "tasksync",
                    "displayName": "Planner task",
                    "externalId": "planner-123"
                }]
            }),
        )
        .await;
    let linked = &created["linkedResources"][0];
    assert!(!linked["id"].as_str().unwrap().is_empty());
    assert_eq!(linked["externalId"], "planner-123");
    assert_eq!(linked["applicationName"], "tasksync");

    let task_path = format!(
        "{}/{}",
        env.tasks_path(&list),
        created["id"].as_str().unwrap()
    );
    let added = env
        .post(
            &format!("{task_path}/linkedResources"),
            json!({"applicationName": "other", "displayName": "Second", "externalId": "e-2"}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.json);
    let all = env.get(&format!("{task_path}/linkedResources")).await;
    let externals: Vec<&str> = all.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["externalId"].as_str().unwrap())
        .collect();
    assert_eq!(externals, vec!["planner-123", "e-2"]);

    // A plain GET leaves them out; $expand brings them in.
    let plain = env.get(&task_path).await;
    assert!(plain.json.get("linkedResources").is_none());
    let expanded = env
        .get(&format!("{task_path}?$expand=linkedResources"))
        .await;
    assert_eq!(
        expanded.json["linkedResources"].as_array().unwrap().len(),
        2
    );
    // Sub-resource writes are task writes: the ETag moved.
    assert_ne!(plain.json["@odata.etag"], created["@odata.etag"]);

    let second = added.json["id"].as_str().unwrap();
    assert_eq!(
        env.delete(&format!("{task_path}/linkedResources/{second}"))
            .await
            .status,
        204
    );
    assert_eq!(
        env.get(&format!("{task_path}/linkedResources/{second}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn checklist_items_crud() {
    let env = Env::default().await;
    let list = env.new_list("Checklist").await;
    let created = env
        .new_task(
            &list,
            json!({"title": "Trip", "checklistItems": [{"displayName": "Passport"}]}),
        )
        .await;
    assert_eq!(created["checklistItems"][0]["displayName"], "Passport");
    assert_eq!(created["checklistItems"][0]["isChecked"], false);
    let task_path = format!(
        "{}/{}",
        env.tasks_path(&list),
        created["id"].as_str().unwrap()
    );

    let item = env
        .post(
            &format!("{task_path}/checklistItems"),
            json!({"displayName": "Tickets"}),
        )
        .await;
    assert_eq!(item.status, 201);
    let item_path = format!(
        "{task_path}/checklistItems/{}",
        item.json["id"].as_str().unwrap()
    );
    let checked = env.patch(&item_path, json!({"isChecked": true})).await;
    assert_eq!(checked.status, 200);
    assert_eq!(checked.json["isChecked"], true);
    assert!(
        checked.json["checkedDateTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(env.get(&item_path).await.json["isChecked"], true);

    let missing_name = env
        .post(&format!("{task_path}/checklistItems"), json!({}))
        .await;
    assert_eq!(missing_name.status, 400);

    assert_eq!(env.delete(&item_path).await.status, 204);
    let rest = env.get(&format!("{task_path}/checklistItems")).await;
    assert_eq!(rest.json["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn date_time_time_zone_is_returned_in_utc_across_dst() {
    let env = Env::default().await;
    let list = env.new_list("Dates").await;
    // US DST starts 2026-03-08; EU DST ends 2026-10-25.
    let cases = [
        (
            "2026-03-07T16:00:00",
            "Eastern Standard Time",
            "2026-03-07T21:00:00.0000000",
        ),
        (
            "2026-03-09T16:00:00",
            "Eastern Standard Time",
            "2026-03-09T20:00:00.0000000",
        ),
        (
            "2026-10-24T09:30:00",
            "W. Europe Standard Time",
            "2026-10-24T07:30:00.0000000",
        ),
        (
            "2026-10-26T09:30:00",
            "W. Europe Standard Time",
            "2026-10-26T08:30:00.0000000",
        ),
        (
            "2026-07-01T08:00:00",
            "Pacific Standard Time",
            "2026-07-01T15:00:00.0000000",
        ),
        (
            "2026-07-01T08:00:00",
            "America/New_York",
            "2026-07-01T12:00:00.0000000",
        ),
        (
            "2026-07-01T08:00:00.0000000",
            "UTC",
            "2026-07-01T08:00:00.0000000",
        ),
    ];
    for (local, zone, expected) in cases {
        let task = env
            .new_task(
                &list,
                json!({"title": zone, "dueDateTime": {"dateTime": local, "timeZone": zone}}),
            )
            .await;
        assert_eq!(
            task["dueDateTime"],
            json!({"dateTime": expected, "timeZone": "UTC"}),
            "{local} {zone}"
        );
    }
    let task = env.new_task(&list, json!({"title": "r"})).await;
    let path = format!("{}/{}", env.tasks_path(&list), task["id"].as_str().unwrap());
    let r = env
        .patch(
            &path,
            json!({"reminderDateTime": {"dateTime": "2026-12-01T09:00:00", "timeZone": "Tokyo Standard Time"}}),
        )
        .await;
    assert_eq!(
        r.json["reminderDateTime"]["dateTime"],
        "2026-12-01T00:00:00.0000000"
    );
    let cleared = env.patch(&path, json!({"reminderDateTime": null})).await;
    assert!(cleared.json.get("reminderDateTime").is_none());
    let unknown = env
        .patch(
            &path,
            json!({"dueDateTime": {"dateTime": "2026-12-01T09:00:00", "timeZone": "Mars Time"}}),
        )
        .await;
    assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn task_list_pages_with_next_links() {
    let env = Env::start(EmulatorConfig {
        todo_page_size: 2,
        ..Default::default()
    })
    .await;
    let list = env.new_list("Paged").await;
    for i in 0..5 {
        env.new_task(&list, json!({"title": format!("t{i}")})).await;
    }
    let mut titles = Vec::new();
    let mut next = Some(env.tasks_path(&list));
    let mut pages = 0;
    while let Some(url) = next {
        let r = env.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.json);
        pages += 1;
        for t in r.json["value"].as_array().unwrap() {
            titles.push(t["title"].as_str().unwrap().to_owned());
        }
        next = r.json["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(titles, vec!["t0", "t1", "t2", "t3", "t4"]);
}

#[tokio::test]
async fn control_api_edits_like_a_person_in_the_app() {
    let env = Env::default().await;
    let seeded = env
        .control(
            reqwest::Method::POST,
            &format!("/todo/users/{}/lists", env.user),
            Some(json!({"displayName": "Seeded"})),
        )
        .await;
    assert_eq!(seeded.status, 201, "{}", seeded.json);
    let list = seeded.json["id"].as_str().unwrap().to_owned();
    let task = env
        .control(
            reqwest::Method::POST,
            &format!("/todo/lists/{list}/tasks"),
            Some(json!({"title": "From the app"})),
        )
        .await;
    assert_eq!(task.status, 201);
    let id = task.json["id"].as_str().unwrap();
    let edited = env
        .control(
            reqwest::Method::PATCH,
            &format!("/todo/lists/{list}/tasks/{id}"),
            Some(json!({"title": "Renamed in the app"})),
        )
        .await;
    assert_eq!(edited.status, 200);
    assert_ne!(edited.json["@odata.etag"], task.json["@odata.etag"]);
    let via_graph = env.get(&format!("{}/{id}", env.tasks_path(&list))).await;
    assert_eq!(via_graph.json["title"], "Renamed in the app");
    assert_eq!(via_graph.json["@odata.etag"], edited.json["@odata.etag"]);
    let gone = env
        .control(
            reqwest::Method::DELETE,
            &format!("/todo/lists/{list}/tasks/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    assert_eq!(
        env.get(&format!("{}/{id}", env.tasks_path(&list)))
            .await
            .status,
        404
    );
}
