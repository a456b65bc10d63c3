//! `tasksync conflicts` through the real binary against moto and the emulator: each conflict the
//! real worker settles is kept in the history with both values and the winner (two conflicts on
//! one pair are two rows, not the last one only), and `--binding` filters.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Value, json};
use tasksync::model::{Binding, LocalTask, Origin};
use tasksync::queue_message::Hint;
use testkit::sync_harness::SyncWorld;

use crate::command::{Run, run_shown};

async fn tasksync(w: &SyncWorld, args: &[&str]) -> Run {
    run_shown(w.function_env(), args).await
}

fn rows(run: &Run) -> Vec<Value> {
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// Both sides retitle the task differently before the sync sees either change.
async fn both_retitle(
    w: &SyncWorld,
    binding: &Binding,
    task: &LocalTask,
    local: &str,
    remote: &str,
) {
    let remote_id = w
        .mapping(&binding.local_list_id, &task.id)
        .await
        .unwrap()
        .remote_id
        .unwrap();
    w.person_edits_todo(binding, &remote_id, json!({ "title": remote }))
        .await;
    let current = w.local(&binding.local_list_id, &task.id).await.unwrap();
    w.app_writes(&LocalTask {
        title: local.to_owned(),
        ..current
    })
    .await;
    w.send(Hint::RemoteTodoTask {
        binding_id: binding.id.clone(),
        task_id: remote_id,
    })
    .await;
    assert_eq!(w.drain().await.failed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_keeps_every_settled_conflict_with_both_values_and_the_winner() {
    let w = SyncWorld::start().await;
    assert_eq!(
        tasksync(&w, &["conflicts"]).await.stdout,
        "No conflicts recorded.\n"
    );
    let a = w.todo_binding("b-conf", "team").await;
    let b = w.todo_binding("b-other", "ops").await;
    let task_a = LocalTask::new("team", "C-1", "Order paper", Origin::Sync);
    let task_b = LocalTask::new("ops", "C-9", "Restart the server", Origin::Sync);
    w.app_writes(&task_a).await;
    w.app_writes(&task_b).await;
    assert_eq!(w.drain().await.failed, 0);

    both_retitle(&w, &a, &task_a, "Order paper (A4)", "Order paper (A3)").await;
    both_retitle(
        &w,
        &a,
        &task_a,
        "Order paper (agent)",
        "Order paper (person)",
    )
    .await;
    both_retitle(&w, &b, &task_b, "Restart db", "Restart web").await;

    let all = rows(&tasksync(&w, &["conflicts", "--json"]).await);
    assert_eq!(all.len(), 3, "{all:?}");
    let of_a = rows(&tasksync(&w, &["conflicts", "--binding", "b-conf", "--json"]).await);
    assert_eq!(
        of_a.len(),
        2,
        "two conflicts on one pair are two rows: {of_a:?}"
    );
    assert_eq!(of_a[0]["task_id"], "C-1");
    assert_eq!(of_a[0]["field"], "title");
    assert_eq!(of_a[0]["local"], "Order paper (A4)");
    assert_eq!(of_a[0]["remote"], "Order paper (A3)");
    assert_eq!(of_a[0]["winner"], "remote");
    assert_eq!(of_a[0]["rule"], "remote_wins");
    assert_eq!(of_a[1]["local"], "Order paper (agent)");
    assert_eq!(of_a[1]["remote"], "Order paper (person)");
    assert!(of_a[0]["at"].as_str().unwrap() <= of_a[1]["at"].as_str().unwrap());
    // The remote value won: both sides hold it now.
    assert_eq!(
        w.local("team", "C-1").await.unwrap().title,
        "Order paper (person)"
    );
    let of_b = rows(&tasksync(&w, &["conflicts", "--binding", "b-other", "--json"]).await);
    assert_eq!(of_b.len(), 1);
    assert_eq!(of_b[0]["binding_id"], "b-other");

    let table = tasksync(&w, &["conflicts", "--binding", "b-conf"])
        .await
        .stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("AT"), "{table}");
    assert!(lines[1].contains("\"Order paper (A4)\"") && lines[1].contains("remote_wins"));
    assert!(lines[3].starts_with("2 conflict(s)"), "{table}");
    let unknown = tasksync(&w, &["conflicts", "--binding", "nope"]).await;
    assert_eq!(unknown.code, 1);
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
    w.stack.emulator.shutdown();
}
