//! `tasksync reset` through the real binary against moto and the emulator: the binding's
//! mappings and sync issues are forgotten, its resync is queued, and the real worker's resync
//! pairs every task again by its marker (or its remote id) without creating or changing a task
//! on either side.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use tasksync::model::{Binding, LocalTask, Origin};
use tasksync::ports::TaskList;
use tasksync::queue_message::Hint;
use testkit::sync_harness::SyncWorld;

use crate::command::{Run, run_shown};

async fn tasksync(w: &SyncWorld, args: &[&str]) -> Run {
    run_shown(w.function_env(), args).await
}

/// The remote tasks as a person sees them, by id (every field, ETags and times included).
async fn remote_state(w: &SyncWorld, binding: &Binding) -> BTreeMap<String, Value> {
    w.todo_tasks(binding)
        .await
        .into_iter()
        .map(|t| (t["id"].as_str().unwrap().to_owned(), t))
        .collect()
}

/// The valid task items of list `team`, and how many break the contract.
pub async fn local_tasks(w: &SyncWorld) -> (Vec<LocalTask>, usize) {
    let all = w.tasks.list_tasks("team").await.unwrap();
    let invalid = all.iter().filter(|t| t.is_err()).count();
    (all.into_iter().filter_map(Result::ok).collect(), invalid)
}

/// A world with three pairs (two agent-born, one person-born) and one item that breaks the
/// contract (a sync issue), all synced.
pub async fn synced_world(binding_id: &str) -> (SyncWorld, Binding) {
    let w = SyncWorld::start().await;
    let binding = w.todo_binding(binding_id, "team").await;
    for (id, title) in [("T-1", "Call the supplier"), ("T-2", "Book the room")] {
        w.app_writes(&LocalTask::new("team", id, title, Origin::Sync))
            .await;
    }
    let person = w
        .person_creates_todo(&binding, json!({"title": "Water the plants"}))
        .await;
    w.send(Hint::RemoteTodoTask {
        binding_id: binding.id.clone(),
        task_id: person,
    })
    .await;
    w.aws
        .dynamodb
        .put_item()
        .table_name(w.aws.resources.tasks_table())
        .set_item(Some(
            [
                ("list_id", "team"),
                ("id", "BAD-1"),
                ("title", "Broken"),
                ("status", "done"),
                ("updated_at", "2026-11-22T01:00:00Z"),
                ("origin", "app:agent"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
            .chain([("version".to_owned(), AttributeValue::N("1".into()))])
            .collect(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(w.drain().await.failed, 0);
    (w, binding)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_forgets_the_mappings_and_the_resync_pairs_again_without_duplicates() {
    let (w, binding) = synced_world("b-reset").await;
    let before = remote_state(&w, &binding).await;
    assert_eq!(before.len(), 3);
    let (locals, invalid) = local_tasks(&w).await;
    assert_eq!(
        (locals.len(), invalid),
        (3, 1),
        "three synced tasks and the broken item"
    );
    assert_eq!(w.sync.list_sync_issues().await.unwrap().len(), 1);

    // Usage and refusals.
    assert_eq!(tasksync(&w, &["reset", "b-reset"]).await.code, 2);
    let unknown = tasksync(&w, &["reset", "no-such-binding", "--confirm"]).await;
    assert_eq!(unknown.code, 1);
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("no binding \"no-such-binding\""));

    // The dry run counts and changes nothing.
    let text = tasksync(&w, &["reset", "b-reset", "--dry-run"]).await;
    assert!(
        text.stdout
            .starts_with("Dry run: a reset would forget 3 pair(s)"),
        "{}",
        text.stdout
    );
    let dry = tasksync(&w, &["reset", "b-reset", "--dry-run", "--json"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let report: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert_eq!(report["local_mapping_items"], 3);
    assert_eq!(report["remote_mapping_items"], 3);
    assert_eq!(report["sync_issues"], 1);
    assert_eq!(report["resync_queued"], false);
    assert!(w.mapping("team", "T-1").await.is_some());
    assert_eq!(w.sync.list_sync_issues().await.unwrap().len(), 1);
    assert!(w.drain_hints().await.is_empty());

    let done = tasksync(&w, &["reset", "b-reset", "--confirm"]).await;
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stdout.starts_with("Forgot 3 pair(s)"),
        "{}",
        done.stdout
    );
    for id in ["T-1", "T-2"] {
        assert!(w.mapping("team", id).await.is_none(), "{id}");
    }
    assert!(w.sync.list_sync_issues().await.unwrap().is_empty());
    assert_eq!(
        remote_state(&w, &binding).await,
        before,
        "reset touches no task"
    );

    // The queued resync, by the real worker.
    assert_eq!(w.drain().await.failed, 0);
    let after = remote_state(&w, &binding).await;
    assert_eq!(after, before, "no person's task changed, none was created");
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    let (locals_after, _) = local_tasks(&w).await;
    assert_eq!(locals_after, locals, "no local task changed");
    for local in locals_after {
        let m = w
            .mapping("team", &local.id)
            .await
            .unwrap_or_else(|| panic!("{} paired again", local.id));
        let remote = m.remote_id.unwrap();
        assert!(after.contains_key(&remote), "{remote}");
        assert!(owners.insert(remote, local.id.clone()).is_none());
    }
    assert_eq!(
        owners.len(),
        3,
        "each local task has exactly one remote task"
    );
    // The broken item is recorded again by the resync.
    assert_eq!(w.sync.list_sync_issues().await.unwrap().len(), 1);
    w.stack.emulator.shutdown();
}
