//! `tasksync cleanup-orphans` through the real binary against moto and the emulator: a marked
//! task whose local task is gone, and a marked stray copy of a paired local task, are listed by
//! the dry run and deleted on `--confirm`; a person's unmarked task of the same title and a
//! marked task that its local task owns survive.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tasksync::graph::models::{NewPlannerTask, NewTodoTask};
use tasksync::model::{Binding, LocalTask, Origin};
use testkit::sync_harness::SyncWorld;

use crate::command::{Run, run_shown};

async fn tasksync(w: &SyncWorld, args: &[&str]) -> Run {
    run_shown(w.function_env(), args).await
}

async fn remote_ids(w: &SyncWorld, binding: &Binding) -> BTreeSet<String> {
    w.todo_tasks(binding)
        .await
        .into_iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A task carrying tasksync's marker of `local_id`, made outside the sync (as a lost record or a
/// raced create leaves one).
async fn marked_task(w: &SyncWorld, binding: &Binding, local_id: &str, title: &str) -> String {
    w.observer
        .todo()
        .create_task(
            &binding.user_id,
            &binding.remote_container_id,
            &NewTodoTask::for_local_task(local_id, title),
        )
        .await
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_deletes_only_marked_tasks_no_local_task_owns() {
    let w = SyncWorld::start().await;
    let binding = w.todo_binding("b-orphans", "team").await;
    w.app_writes(&LocalTask::new("team", "K-1", "Keep me", Origin::Sync))
        .await;
    assert_eq!(w.drain().await.failed, 0);
    let kept = w.mapping("team", "K-1").await.unwrap().remote_id.unwrap();
    let gone = marked_task(&w, &binding, "G-1", "Old report").await;
    let stray = marked_task(&w, &binding, "K-1", "Keep me").await;
    let person = w
        .person_creates_todo(&binding, json!({"title": "Old report"}))
        .await;
    let before = remote_ids(&w, &binding).await;
    assert_eq!(before.len(), 4);

    assert_eq!(
        tasksync(&w, &["cleanup-orphans", "b-orphans"]).await.code,
        2
    );
    // Given both, the dry run wins.
    let both = tasksync(
        &w,
        &["cleanup-orphans", "b-orphans", "--dry-run", "--confirm"],
    )
    .await;
    assert_eq!(both.code, 0, "{}", both.stderr);
    assert!(
        both.stdout.contains("Dry run: 2 orphan(s)"),
        "{}",
        both.stdout
    );
    assert_eq!(remote_ids(&w, &binding).await, before);
    let unknown = tasksync(&w, &["cleanup-orphans", "nope", "--dry-run"]).await;
    assert_eq!(unknown.code, 1);
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);

    let dry = tasksync(&w, &["cleanup-orphans", "b-orphans", "--dry-run", "--json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let listed: Vec<Value> = serde_json::from_str(&dry.stdout).unwrap();
    let ids: BTreeSet<&str> = listed
        .iter()
        .map(|o| o["remote_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from([gone.as_str(), stray.as_str()]));
    let of = |id: &str| listed.iter().find(|o| o["remote_id"] == id).unwrap();
    assert_eq!(of(&gone)["why"], "local_gone");
    assert_eq!(of(&stray)["why"], "maps_elsewhere");
    assert_eq!(of(&stray)["paired_remote_id"], kept.as_str());
    assert!(listed.iter().all(|o| o["deleted"] == false));
    assert_eq!(
        remote_ids(&w, &binding).await,
        before,
        "the dry run deletes nothing"
    );

    let done = tasksync(&w, &["cleanup-orphans", "b-orphans", "--confirm"]).await;
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stdout
            .contains("Deleted 2 orphan(s) of binding b-orphans."),
        "{}",
        done.stdout
    );
    assert_eq!(
        remote_ids(&w, &binding).await,
        BTreeSet::from([kept.clone(), person.clone()]),
        "the owned task and the person's unmarked task survive"
    );
    let again = tasksync(&w, &["cleanup-orphans", "b-orphans", "--dry-run"]).await;
    assert!(again.stdout.starts_with("No orphans"), "{}", again.stdout);
    // The pair is untouched and still syncs.
    assert_eq!(
        w.mapping("team", "K-1").await.unwrap().remote_id.as_deref(),
        Some(kept.as_str())
    );
    w.stack.emulator.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_reads_the_planner_marker_from_the_task_details() {
    let w = SyncWorld::start().await;
    let binding = w.planner_binding("b-plan", "ops").await;
    w.app_writes(&LocalTask::new("ops", "P-1", "Keep me", Origin::Sync))
        .await;
    assert_eq!(w.drain().await.failed, 0);
    let kept = w.mapping("ops", "P-1").await.unwrap().remote_id.unwrap();
    let (gone, _) = w
        .observer
        .planner()
        .create_task_with_marker(
            &NewPlannerTask::new(&binding.remote_container_id, "Old report"),
            "G-7",
        )
        .await
        .unwrap();
    let person = w
        .person_creates_planner(&binding, json!({"title": "Old report"}))
        .await;
    let planner_ids = |tasks: Vec<Value>| -> BTreeSet<String> {
        tasks
            .into_iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(planner_ids(w.planner_tasks(&binding).await).len(), 3);

    let dry = tasksync(&w, &["cleanup-orphans", "b-plan", "--dry-run", "--json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let listed: Vec<Value> = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["remote_id"], gone.id.as_str());
    assert_eq!(listed[0]["marker"], "G-7");
    assert_eq!(listed[0]["why"], "local_gone");

    let done = tasksync(&w, &["cleanup-orphans", "b-plan", "--confirm"]).await;
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert_eq!(
        planner_ids(w.planner_tasks(&binding).await),
        BTreeSet::from([kept, person])
    );
    w.stack.emulator.shutdown();
}
