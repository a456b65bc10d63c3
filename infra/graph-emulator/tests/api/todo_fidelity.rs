//! Where To Do answers as the real service does although a simpler answer would be easier: the
//! delta function's call forms (`delta()`, `microsoft.graph.delta`, …) route like `/delta`, and
//! `completedDateTime` is the completion day at midnight UTC unless the emulator is told to report
//! the instant (docs/graph-behaviour.md §3.1, §3.3).

use graph_emulator::{EmulatorConfig, TodoCompletion};
use serde_json::{Value, json};

use crate::helpers::Env;

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_form_of_the_delta_function_is_the_same_round() {
    let env = Env::default().await;
    let list = env.new_list("Forms").await;
    let task = env.new_task(&list, json!({"title": "one"})).await;
    let tasks = env.tasks_path(&list);
    let plain = env.get(&format!("{tasks}/delta")).await;
    assert_eq!(plain.status, 200, "{}", plain.json);
    for form in [
        "delta()",
        "microsoft.graph.delta",
        "microsoft.graph.delta()",
    ] {
        let r = env.get(&format!("{tasks}/{form}")).await;
        assert_eq!(r.status, 200, "{form}: {}", r.json);
        assert_eq!(ids(&r.json), ids(&plain.json), "{form}");
        assert_eq!(ids(&r.json), vec![task["id"].as_str().unwrap().to_owned()]);
        let link = r.json["@odata.deltaLink"].as_str().unwrap();
        assert!(link.contains("$deltatoken="), "{form}: {link}");
        // The link it hands out works, and a round started by one form continues in another.
        let path = link.split("/v1.0").nth(1).unwrap();
        let next = env.get(path).await;
        assert_eq!(next.status, 200, "{}", next.json);
        assert!(
            ids(&next.json).is_empty(),
            "nothing changed since: {}",
            next.json
        );
    }
    // A task id that merely looks like the function is still a task id.
    let missing = env.get(&format!("{tasks}/delta(x)")).await;
    assert_eq!(missing.status, 404);
}

async fn completed(env: &Env) -> Value {
    let list = env.new_list("Done").await;
    let task = env.new_task(&list, json!({"title": "finish"})).await;
    let path = format!("{}/{}", env.tasks_path(&list), task["id"].as_str().unwrap());
    let done = env.patch(&path, json!({"status": "completed"})).await;
    assert_eq!(done.status, 200, "{}", done.json);
    let read = env.get(&path).await;
    assert_eq!(
        read.json["completedDateTime"],
        done.json["completedDateTime"]
    );
    read.json
}

#[tokio::test]
async fn completion_is_reported_as_the_day_at_midnight_utc_by_default() {
    let env = Env::default().await;
    let task = completed(&env).await;
    let at = &task["completedDateTime"];
    assert_eq!(at["timeZone"], "UTC");
    let text = at["dateTime"].as_str().unwrap();
    let modified = task["lastModifiedDateTime"].as_str().unwrap();
    assert_eq!(
        text,
        format!("{}T00:00:00.0000000", &modified[..10]),
        "the day of the completion, at midnight"
    );

    // A completion time given by the client is kept as To Do keeps it, too.
    let list = env.new_list("Given").await;
    let given = env
        .new_task(
            &list,
            json!({"title": "x", "status": "completed",
                   "completedDateTime": {"dateTime": "2026-03-08T17:45:12", "timeZone": "UTC"}}),
        )
        .await;
    assert_eq!(
        given["completedDateTime"]["dateTime"],
        "2026-03-08T00:00:00.0000000"
    );
}

#[tokio::test]
async fn the_instant_mode_reports_the_moment_of_completion() {
    let env = Env::start(EmulatorConfig {
        todo_completion: TodoCompletion::Instant,
        ..EmulatorConfig::default()
    })
    .await;
    let task = completed(&env).await;
    let text = task["completedDateTime"]["dateTime"].as_str().unwrap();
    let modified = task["lastModifiedDateTime"].as_str().unwrap();
    assert_eq!(
        text,
        modified.trim_end_matches('Z'),
        "completed at the write's instant"
    );
}
