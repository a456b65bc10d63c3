//! To Do task delta (docs/graph-behaviour.md §3.3): a paged first round, incremental rounds with
//! `@removed`, 410 Gone once tokens are expired, 400 for malformed tokens.

use std::collections::BTreeSet;

use graph_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::helpers::Env;

/// Follows one round to its deltaLink; returns the items and the deltaLink.
async fn round(env: &Env, start: &str) -> (Vec<Value>, String, usize) {
    let mut items = Vec::new();
    let mut url = start.to_owned();
    let mut pages = 0;
    loop {
        let r = env.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.json);
        pages += 1;
        items.extend(r.json["value"].as_array().unwrap().iter().cloned());
        let next = r.json["@odata.nextLink"].as_str();
        let delta = r.json["@odata.deltaLink"].as_str();
        assert!(
            next.is_some() != delta.is_some(),
            "a page carries exactly one link: {}",
            r.json
        );
        if let Some(next) = next {
            assert!(next.contains("$skiptoken="), "{next}");
            url = next.to_owned();
        } else {
            let delta = delta.unwrap_or_default();
            assert!(delta.contains("$deltatoken="), "{delta}");
            return (items, delta.to_owned(), pages);
        }
    }
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn first_round_pages_then_incremental_rounds_report_changes_and_removals() {
    let env = Env::start(EmulatorConfig {
        todo_page_size: 2,
        ..Default::default()
    })
    .await;
    let list = env.new_list("Delta").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(env.new_task(&list, json!({"title": format!("t{i}")})).await);
    }
    let delta_path = format!("{}/delta", env.tasks_path(&list));
    let (items, delta_link, pages) = round(&env, &delta_path).await;
    assert_eq!(pages, 3);
    assert_eq!(ids(&items), ids(&created));
    assert!(
        items
            .iter()
            .all(|i| i["@odata.etag"].is_string() && i["title"].is_string())
    );

    // Nothing changed: an empty page with a new deltaLink.
    let (items, delta_link, _) = round(&env, &delta_link).await;
    assert!(items.is_empty(), "{items:?}");

    // One update (through Graph), one deletion (through the app), one creation.
    let updated_id = created[1]["id"].as_str().unwrap();
    let deleted_id = created[3]["id"].as_str().unwrap();
    env.patch(
        &format!("{}/{updated_id}", env.tasks_path(&list)),
        json!({"title": "renamed"}),
    )
    .await;
    let r = env
        .control(
            reqwest::Method::DELETE,
            &format!("/todo/lists/{list}/tasks/{deleted_id}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let new = env.new_task(&list, json!({"title": "new"})).await;

    let (items, delta_link, _) = round(&env, &delta_link).await;
    assert_eq!(items.len(), 3, "{items:#?}");
    let updated = items.iter().find(|i| i["id"] == updated_id).unwrap();
    assert_eq!(updated["title"], "renamed");
    let removed = items.iter().find(|i| i["id"] == deleted_id).unwrap();
    assert_eq!(
        removed,
        &json!({"@odata.type": "#microsoft.graph.todoTask", "id": deleted_id, "@removed": {"reason": "deleted"}})
    );
    assert!(items.iter().any(|i| i["id"] == new["id"]));

    // Deleted before a fresh first round: not returned at all.
    let (items, _, _) = round(&env, &delta_path).await;
    assert_eq!(items.len(), 5);
    assert!(!ids(&items).contains(deleted_id));

    // The old link keeps working for the next increment.
    let (items, _, _) = round(&env, &delta_link).await;
    assert!(items.is_empty());
}

#[tokio::test]
async fn expired_tokens_answer_410_with_an_empty_delta_token_location() {
    let env = Env::default().await;
    let list = env.new_list("Expiring").await;
    env.new_task(&list, json!({"title": "a"})).await;
    let delta_path = format!("{}/delta", env.tasks_path(&list));
    let (_, delta_link, _) = round(&env, &delta_path).await;

    let r = env
        .control(reqwest::Method::POST, "/todo/delta/expire", None)
        .await;
    assert_eq!(r.status, 204);
    let gone = env.get(&delta_link).await;
    assert_eq!(gone.status, 410);
    assert_eq!(gone.json["error"]["code"], "syncStateNotFound");
    let location = gone.headers["location"].to_str().unwrap();
    assert!(
        location.ends_with("/tasks/delta?$deltatoken="),
        "{location}"
    );

    // Following the Location starts a fresh round.
    let (items, delta_link, _) = round(&env, location).await;
    assert_eq!(items.len(), 1);

    // Retention by the emulator clock.
    let r = env
        .control(
            reqwest::Method::POST,
            "/todo/delta/retention",
            Some(json!({"seconds": 60})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(env.get(&delta_link).await.status, 200);
    env.advance_clock(120).await;
    let gone = env.get(&delta_link).await;
    assert_eq!(gone.status, 410);
}

#[tokio::test]
async fn malformed_or_foreign_tokens_are_400() {
    let env = Env::default().await;
    let a = env.new_list("A").await;
    let b = env.new_list("B").await;
    let r = env
        .get(&format!(
            "{}/delta?$deltatoken=garbage!",
            env.tasks_path(&a)
        ))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["code"], "invalidRequest");

    let (_, link_a, _) = round(&env, &format!("{}/delta", env.tasks_path(&a))).await;
    let token = link_a.split("$deltatoken=").nth(1).unwrap();
    let r = env
        .get(&format!("{}/delta?$deltatoken={token}", env.tasks_path(&b)))
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn prefer_maxpagesize_lowers_the_page_size() {
    let env = Env::default().await;
    let list = env.new_list("Prefer").await;
    for i in 0..3 {
        env.new_task(&list, json!({"title": format!("t{i}")})).await;
    }
    let token = env.token().await;
    let r = env
        .http
        .get(env.graph_url(&format!("{}/delta", env.tasks_path(&list))))
        .bearer_auth(token)
        .header("Prefer", "odata.maxpagesize=1")
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert!(body["@odata.nextLink"].is_string());
}
